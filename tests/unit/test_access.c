/*
 * Unit tests for src/pack/access.c and the access rules of resolve.c's
 * walk (issue 19, kinds 9 and 10): who the core's owners are, search and
 * read permission judged by the mode bits for them, which symlinks are
 * followed, and cp_access_open()'s identity check.  The owners are set to
 * ids other than the running user's, so the tests run as root or not:
 * files the test makes are then judged by their group or other bits.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "corepack/access.h"
#include "corepack/resolve.h"

/* An id that is neither ours nor root's. */
static uint32_t other_id(uint32_t ours)
{
	return ours == 65534 ? 65533 : 65534;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static int setup_tree(void **state)
{
	char tmpl[] = "/tmp/cp-access-XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir)
		return -1;
	*state = strdup(dir);
	return *state ? 0 : -1;
}

static int teardown_tree(void **state)
{
	if (*state) {
		char *d = *state;
		/* reopen what the tests closed, so nftw can walk it */
		nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	free(*state);
	return 0;
}

__attribute__((format(printf, 2, 3))) static char *at(const char *root, const char *fmt, ...)
{
	static char buf[4][CP_PATH_MAX];
	static int k;
	char rel[CP_PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	char *b = buf[k++ % 4];
	snprintf(b, CP_PATH_MAX, "%s%s", root, rel);
	return b;
}

static void make_dir(const char *root, const char *rel, mode_t mode)
{
	assert_int_equal(mkdir(at(root, "%s", rel), 0700), 0);
	assert_int_equal(chmod(at(root, "%s", rel), mode), 0);
}

static void make_file(const char *root, const char *rel, mode_t mode)
{
	int fd = open(at(root, "%s", rel), O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\177ELF", 4), 4);
	close(fd);
	assert_int_equal(chmod(at(root, "%s", rel), mode), 0);
}

/* Resolve REL under ROOT for A with FLAGS; returns the result code, the
 * message in *MSG (static). */
static int resolve(const struct cp_access *a, const char *rel, int flags, const char **msg)
{
	static struct cp_error err;
	struct cp_resolved *res = NULL;
	cp_error_clear(&err);
	int r = cp_resolve_as(a, rel, flags, &res, &err);
	if (r == 0)
		cp_resolved_free(res);
	*msg = err.msg;
	return r;
}

/* ---- who the owners are ---- */

static void test_owners(void **state)
{
	(void)state;
	struct cp_notes n = {0};
	struct stat st = {0};
	struct cp_access a;
	n.have_owner = 1;
	n.uid = 1000;
	n.gid = 1000;
	st.st_uid = 1000;
	st.st_gid = 1000;
	cp_access_for_core(&a, NULL, &n, &st, 0);
	assert_int_equal(a.n_owners, 1); /* the same owner once */
	assert_true(cp_access_restricted(&a));
	cp_access_for_core(&a, NULL, &n, &st, 1000);
	assert_false(cp_access_restricted(&a)); /* corepack run as the owner */
	st.st_uid = 0;
	cp_access_for_core(&a, NULL, &n, &st, 0);
	assert_int_equal(a.n_owners, 1); /* root's file adds nothing */
	assert_int_equal(a.owners[0].uid, 1000);
	n.uid = 0;
	st.st_uid = 2000;
	cp_access_for_core(&a, NULL, &n, &st, 0);
	/* A core claiming root, written by user 2000: judged as 2000. */
	assert_int_equal(a.n_owners, 1);
	assert_int_equal(a.owners[0].uid, 2000);
	n.have_owner = 0;
	st.st_uid = 0;
	cp_access_for_core(&a, NULL, &n, &st, 0);
	assert_false(cp_access_restricted(&a));
}

/* ---- the mode bits, for an owner ---- */

static void test_mode_bits(void **state)
{
	(void)state;
	struct cp_access a = {.n_owners = 1, .owners = {{1000, 100, "the crashed process"}}};
	struct stat st = {0};
	st.st_uid = 1000;
	st.st_gid = 5;
	st.st_mode = S_IFREG | 0407; /* owner class: read only */
	assert_null(cp_access_denied(&a, &st, 4));
	assert_non_null(cp_access_denied(&a, &st, 1));
	st.st_uid = 7;
	st.st_gid = 100;
	st.st_mode = S_IFREG | 0047; /* group class matches: no fallback to other */
	assert_null(cp_access_denied(&a, &st, 4));
	st.st_mode = S_IFREG | 0007;
	assert_non_null(cp_access_denied(&a, &st, 4));
	st.st_gid = 5;
	assert_null(cp_access_denied(&a, &st, 4)); /* other class */
	assert_null(cp_access_denied(NULL, &st, 4));
}

/* ---- the walk ---- */

static void test_search_and_read(void **state)
{
	const char *root = *state;
	uint32_t id = other_id((uint32_t)geteuid());
	struct cp_access a = {
	    .sysroot = root, .n_owners = 1, .owners = {{id, id, "the crashed process"}}};
	const char *msg;
	make_dir(root, "/closed", 0700);
	make_file(root, "/closed/lib.so", 0644);
	make_dir(root, "/open", 0711);
	make_file(root, "/open/lib.so", 0644);
	make_file(root, "/open/private.so", 0600);
	mkfifo(at(root, "/open/fifo"), 0644);

	assert_int_equal(resolve(&a, "/closed/lib.so", CP_RESOLVE_OPEN, &msg), -EACCES);
	assert_non_null(strstr(msg, "may not search '/closed'"));
	/* a name below it is not looked up: the same answer for one missing */
	assert_int_equal(resolve(&a, "/closed/nothing", CP_RESOLVE_MISSING_OK, &msg), -EACCES);
	assert_int_equal(resolve(&a, "/open/lib.so", CP_RESOLVE_OPEN, &msg), 0);
	assert_int_equal(resolve(&a, "/open/private.so", CP_RESOLVE_OPEN, &msg), -EACCES);
	assert_non_null(strstr(msg, "may not read it"));
	/* looked up, not opened: no read permission needed */
	assert_int_equal(resolve(&a, "/open/private.so", 0, &msg), 0);
	/* a FIFO is refused, not waited on */
	assert_int_equal(resolve(&a, "/open/fifo", CP_RESOLVE_OPEN, &msg), -EINVAL);
	/* our own rights: the kernel's checks only */
	struct cp_access own = {.sysroot = root};
	assert_int_equal(resolve(&own, "/closed/lib.so", CP_RESOLVE_OPEN, &msg), 0);
}

static void test_symlinks(void **state)
{
	const char *root = *state;
	uint32_t me = (uint32_t)geteuid(), id = other_id(me);
	const char *msg;
	make_dir(root, "/lib", 0755);
	make_file(root, "/lib/real.so", 0644);
	assert_int_equal(symlink("real.so", at(root, "/lib/link.so")), 0);

	/* A link owned by the owner of its directory, neither an owner of
	 * the core: followed. */
	struct cp_access a = {
	    .sysroot = root, .n_owners = 1, .owners = {{id, id, "the crashed process"}}};
	assert_int_equal(resolve(&a, "/lib/link.so", CP_RESOLVE_OPEN, &msg), 0);

	/* A link the core's owner owns: never followed.  As root the link is
	 * given to another uid; otherwise the owner is made us. */
	uint32_t link_owner = me;
	if (me == 0) {
		link_owner = id;
		assert_int_equal(lchown(at(root, "/lib/link.so"), id, id), 0);
	}
	struct cp_access mine = {
	    .sysroot = root, .n_owners = 1, .owners = {{link_owner, id, "the crashed process"}}};
	assert_int_equal(resolve(&mine, "/lib/link.so", CP_RESOLVE_OPEN, &msg), -EPERM);
	assert_non_null(strstr(msg, "'/lib/link.so' is a symlink owned by the crashed process"));

	/* A link owned by someone else than its directory's owner (root's
	 * directory, a user's link): not followed.  Only root can make one. */
	if (me == 0) {
		assert_int_equal(lchown(at(root, "/lib/link.so"), id + 1, id + 1), 0);
		assert_int_equal(resolve(&a, "/lib/link.so", CP_RESOLVE_OPEN, &msg), -EPERM);
		assert_non_null(strstr(msg, "in a directory owned by uid 0"));
	}
}

/* The file opened must be the one checked. */
static void test_open_identity(void **state)
{
	const char *root = *state;
	struct cp_access own = {0};
	struct cp_error err = {0};
	struct stat st;
	make_file(root, "/a", 0644);
	make_file(root, "/b", 0644);
	int fd = cp_access_open(&own, at(root, "/a"), NULL, &st, &err);
	assert_true(fd >= 0);
	close(fd);
	struct cp_file_id id;
	cp_file_id_set(&id, &st);
	assert_int_equal(rename(at(root, "/b"), at(root, "/a")), 0);
	assert_int_equal(cp_access_open(&own, at(root, "/a"), &id, NULL, &err), -ESTALE);
	assert_non_null(strstr(err.msg, "replaced since it was checked"));

	/* restricted: a path outside the sysroot and not trusted is refused */
	uint32_t oid = other_id((uint32_t)geteuid());
	char sub[CP_PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/sys", root);
	assert_int_equal(mkdir(sub, 0755), 0);
	struct cp_access a = {
	    .sysroot = sub, .n_owners = 1, .owners = {{oid, oid, "the crashed process"}}};
	assert_int_equal(cp_access_open(&a, at(root, "/a"), NULL, NULL, &err), -EACCES);
	const char *trusted[] = {root};
	a.trusted = trusted;
	a.n_trusted = 1;
	fd = cp_access_open(&a, at(root, "/a"), NULL, NULL, &err);
	assert_true(fd >= 0);
	close(fd);
}

static void test_is_core(void **state)
{
	const char *root = *state;
	static const unsigned char core64[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0,  0, 0, 0,
	                                         0,    0,   0,   0,   0, 4, 0, 62, 0, 1, 0};
	int fd = open(at(root, "/core"), O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, core64, sizeof(core64)), (ssize_t)sizeof(core64));
	assert_true(cp_fd_is_core(fd));
	unsigned char so[64];
	memcpy(so, core64, sizeof(so));
	so[16] = 3; /* ET_DYN */
	assert_int_equal(pwrite(fd, so, sizeof(so), 0), (ssize_t)sizeof(so));
	assert_false(cp_fd_is_core(fd));
	assert_int_equal(ftruncate(fd, 10), 0);
	assert_false(cp_fd_is_core(fd));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_owners),
	    cmocka_unit_test(test_mode_bits),
	    cmocka_unit_test_setup_teardown(test_search_and_read, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_symlinks, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_open_identity, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_is_core, setup_tree, teardown_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
