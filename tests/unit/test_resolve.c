/*
 * Unit tests for src/pack/resolve.c: the lexical path helpers, and cp_resolve()
 * on symlink trees built in a fresh temporary directory for each test (the
 * usr-merge layout, absolute links, loops, links escaping the sysroot), so
 * the results do not depend on the host's own /lib.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "corepack/resolve.h"

/* ---- fixture helpers ---- */

__attribute__((format(printf, 4, 0))) static void vpath(char *buf, size_t size, const char *root,
                                                        const char *fmt, va_list ap)
{
	char rel[CP_PATH_MAX];
	vsnprintf(rel, sizeof(rel), fmt, ap);
	int n = snprintf(buf, size, "%s%s", root, rel);
	assert_true(n > 0 && (size_t)n < size);
}

/* mkdir -p PATH (absolute; existing directories are fine). */
static void mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

/* mkdir -p ROOT/REL */
__attribute__((format(printf, 2, 3))) static void mkdirs(const char *root, const char *fmt, ...)
{
	char path[CP_PATH_MAX * 2];
	va_list ap;
	va_start(ap, fmt);
	vpath(path, sizeof(path), root, fmt, ap);
	va_end(ap);
	mkdir_p(path);
}

/* A regular file ROOT/REL (parent directories made). */
static void touch(const char *root, const char *rel)
{
	char path[CP_PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdir_p(path);
	*slash = '/';
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

/* ROOT/REL -> TARGET (parent directories made). */
static void link_at(const char *root, const char *rel, const char *target)
{
	char path[CP_PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdir_p(path);
	*slash = '/';
	assert_int_equal(symlink(target, path), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup_tree(void **state)
{
	char tmpl[] = "/tmp/cp-resolve-XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir)
		return -1;
	*state = strdup(dir);
	return *state ? 0 : -1;
}

static int teardown_tree(void **state)
{
	if (*state)
		nftw(*state, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(*state);
	return 0;
}

static void assert_link(const struct cp_resolved *r, size_t i, const char *path, const char *target)
{
	assert_true(i < r->n_links);
	assert_string_equal(r->links[i].path, path);
	assert_string_equal(r->links[i].target, target);
}

/* ---- lexical helpers ---- */

static void test_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"/", "/"},
	    {"//", "/"},
	    {"/a//b/./c/../d/", "/a/b/d"},
	    {"/..", "/"},
	    {"/../../x", "/x"},
	    {"/a/b/../../..", "/"},
	    {"/a/./", "/a"},
	    {"/a/..b/.c", "/a/..b/.c"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *n = cp_path_normalize(cases[i].in);
		assert_non_null(n);
		assert_string_equal(n, cases[i].out);
		free(n);
	}
	assert_null(cp_path_normalize("relative/path"));
	assert_null(cp_path_normalize(""));
	assert_null(cp_path_normalize(NULL));
}

static void test_relative(void **state)
{
	static const struct {
		const char *from, *to, *rel;
	} cases[] = {
	    {"/usr/lib64", "/lib/x86_64-linux-gnu/ld-2.31.so",
	     "../../lib/x86_64-linux-gnu/ld-2.31.so"},
	    {"/", "/usr/lib", "usr/lib"},
	    {"/usr/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
	     "libz.so.1.2.13"},
	    {"/usr/lib", "/usr/lib", "."},
	    {"/a/b", "/a", ".."},
	    {"/a/b/c", "/", "../../.."},
	    {"/a", "/ab/c", "../ab/c"},  /* "/a" is not a prefix of "/ab" */
	    {"/a//b/", "/a/./b/c", "c"}, /* inputs normalised first */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r = cp_path_relative(cases[i].from, cases[i].to);
		assert_non_null(r);
		assert_string_equal(r, cases[i].rel);
		free(r);
	}
	assert_null(cp_path_relative("a", "/b"));
	assert_null(cp_path_relative("/a", "b"));
}

static void test_host_path(void **state)
{
	static const struct {
		const char *sysroot, *origin, *host;
	} cases[] = {
	    {NULL, "/lib/libc.so.6", "/lib/libc.so.6"},
	    {"", "/lib/libc.so.6", "/lib/libc.so.6"},
	    {"/", "/lib/libc.so.6", "/lib/libc.so.6"},
	    {"/srv/root", "/lib/libc.so.6", "/srv/root/lib/libc.so.6"},
	    {"/srv/root//", "/lib/libc.so.6", "/srv/root/lib/libc.so.6"},
	    {"/srv/root", "/", "/srv/root/"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *h = cp_host_path(cases[i].sysroot, cases[i].origin);
		assert_non_null(h);
		assert_string_equal(h, cases[i].host);
		free(h);
	}
	assert_null(cp_host_path("/x", NULL));
}

/* ---- cp_resolve on temporary trees ---- */

/* Debian 12's usr-merge, as link_map names the library. */
static void test_usr_merge_soname(void **state)
{
	const char *root = *state;
	link_at(root, "/lib", "usr/lib");
	touch(root, "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13");
	link_at(root, "/usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13");

	struct cp_resolved *r = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_resolve(root, "/lib/x86_64-linux-gnu/libz.so.1", 0, &r, &err), 0);
	assert_string_equal(r->real, "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13");
	assert_int_equal(r->n_links, 2);
	assert_link(r, 0, "/lib", "usr/lib");
	assert_link(r, 1, "/usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13");
	cp_resolved_free(r);

	/* The NT_FILE name is already canonical: no links at all. */
	r = NULL;
	assert_int_equal(cp_resolve(root, "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", 0, &r, &err),
	                 0);
	assert_string_equal(r->real, "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13");
	assert_int_equal(r->n_links, 0);
	cp_resolved_free(r);
}

/*
 * Debian 11's interpreter: an absolute link, which must be taken inside the
 * sysroot (the host has no ld-2.31.so) and rewritten relative; /lib is met
 * again on the way and recorded once.
 */
static void test_absolute_link_in_sysroot(void **state)
{
	const char *root = *state;
	link_at(root, "/lib", "usr/lib");
	link_at(root, "/lib64", "usr/lib64");
	touch(root, "/usr/lib/x86_64-linux-gnu/ld-2.31.so");
	link_at(root, "/usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-2.31.so");

	struct cp_resolved *r = NULL;
	assert_int_equal(cp_resolve(root, "/lib64/ld-linux-x86-64.so.2", 0, &r, NULL), 0);
	assert_string_equal(r->real, "/usr/lib/x86_64-linux-gnu/ld-2.31.so");
	assert_int_equal(r->n_links, 3);
	assert_link(r, 0, "/lib64", "usr/lib64");
	assert_link(r, 1, "/usr/lib64/ld-linux-x86-64.so.2",
	            "../../lib/x86_64-linux-gnu/ld-2.31.so");
	assert_link(r, 2, "/lib", "usr/lib");
	cp_resolved_free(r);
}

/* A link met twice in one walk is recorded once. */
static void test_same_link_recorded_once(void **state)
{
	const char *root = *state;
	link_at(root, "/lib", "usr/lib");
	touch(root, "/usr/lib/b");
	link_at(root, "/usr/lib/a", "/lib/b");

	struct cp_resolved *r = NULL;
	assert_int_equal(cp_resolve(root, "/lib/a", 0, &r, NULL), 0);
	assert_string_equal(r->real, "/usr/lib/b");
	assert_int_equal(r->n_links, 2);
	assert_link(r, 0, "/lib", "usr/lib");
	assert_link(r, 1, "/usr/lib/a", "../../lib/b");
	cp_resolved_free(r);
}

/* Relative targets are normalised and stay relative; directory links in
 * the middle of a path are followed. */
static void test_relative_target_normalised(void **state)
{
	const char *root = *state;
	touch(root, "/opt/app/lib/real.so");
	mkdirs(root, "/opt/app/lib/sub");
	link_at(root, "/opt/app/lib/alias.so", "./sub//../real.so");
	link_at(root, "/opt/current", "app");

	struct cp_resolved *r = NULL;
	assert_int_equal(cp_resolve(root, "//opt/./current/lib/alias.so", 0, &r, NULL), 0);
	assert_string_equal(r->real, "/opt/app/lib/real.so");
	assert_int_equal(r->n_links, 2);
	assert_link(r, 0, "/opt/current", "app");
	assert_link(r, 1, "/opt/app/lib/alias.so", "real.so");
	cp_resolved_free(r);
}

/* Neither ".." in the path nor a link's target climbs out of the sysroot. */
static void test_dotdot_stays_in_sysroot(void **state)
{
	const char *root = *state;
	touch(root, "/etc/passwd");
	link_at(root, "/usr/lib/evil", "../../../../../../../../etc/passwd");
	link_at(root, "/usr/lib/abs", "/../../etc/passwd");

	struct cp_resolved *r = NULL;
	assert_int_equal(cp_resolve(root, "/../../../etc/passwd", 0, &r, NULL), 0);
	assert_string_equal(r->real, "/etc/passwd");
	assert_int_equal(r->n_links, 0);
	cp_resolved_free(r);

	r = NULL;
	assert_int_equal(cp_resolve(root, "/usr/lib/evil", 0, &r, NULL), 0);
	assert_string_equal(r->real, "/etc/passwd");
	assert_link(r, 0, "/usr/lib/evil", "../../etc/passwd");
	cp_resolved_free(r);

	r = NULL;
	assert_int_equal(cp_resolve(root, "/usr/lib/abs", 0, &r, NULL), 0);
	assert_string_equal(r->real, "/etc/passwd");
	assert_link(r, 0, "/usr/lib/abs", "../../etc/passwd");
	cp_resolved_free(r);
}

/* A link to the root itself. */
static void test_link_to_root(void **state)
{
	const char *root = *state;
	touch(root, "/f");
	link_at(root, "/r", "/");

	struct cp_resolved *r = NULL;
	assert_int_equal(cp_resolve(root, "/r/r/f", 0, &r, NULL), 0);
	assert_string_equal(r->real, "/f");
	assert_int_equal(r->n_links, 1);
	assert_link(r, 0, "/r", ".");
	cp_resolved_free(r);

	r = NULL;
	assert_int_equal(cp_resolve(root, "/", 0, &r, NULL), 0);
	assert_string_equal(r->real, "/");
	assert_int_equal(r->n_links, 0);
	cp_resolved_free(r);
}

static void test_missing(void **state)
{
	const char *root = *state;
	mkdirs(root, "/usr/lib");
	link_at(root, "/usr/lib/dangling.so", "gone.so.1");

	struct cp_resolved *r = (void *)0x1; /* untouched on failure */
	struct cp_error err = {0};
	assert_int_equal(cp_resolve(root, "/usr/lib/nothere.so", 0, &r, &err), -ENOENT);
	assert_ptr_equal(r, (void *)0x1);
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg,
	                    "cannot resolve '/usr/lib/nothere.so': No such file or directory");

	r = NULL;
	assert_int_equal(cp_resolve(root, "/usr/lib/nothere.so", 1, &r, NULL), 0);
	assert_string_equal(r->real, "/usr/lib/nothere.so");
	assert_int_equal(r->n_links, 0);
	cp_resolved_free(r);

	/* A missing directory is an error even when the file may be missing. */
	r = (void *)0x1;
	assert_int_equal(cp_resolve(root, "/usr/nodir/x.so", 1, &r, NULL), -ENOENT);
	assert_ptr_equal(r, (void *)0x1);

	/* A dangling link is still recorded; the result is its target. */
	r = NULL;
	assert_int_equal(cp_resolve(root, "/usr/lib/dangling.so", 1, &r, NULL), 0);
	assert_string_equal(r->real, "/usr/lib/gone.so.1");
	assert_int_equal(r->n_links, 1);
	assert_link(r, 0, "/usr/lib/dangling.so", "gone.so.1");
	cp_resolved_free(r);
	assert_int_equal(cp_resolve(root, "/usr/lib/dangling.so", 0, &r, NULL), -ENOENT);
}

static void test_not_a_directory(void **state)
{
	const char *root = *state;
	touch(root, "/usr/lib/file");
	struct cp_resolved *r = NULL;
	assert_int_equal(cp_resolve(root, "/usr/lib/file/x", 1, &r, NULL), -ENOTDIR);
	assert_int_equal(cp_resolve(root, "/usr/lib/file/..", 0, &r, NULL), -ENOTDIR);
	assert_null(r);
}

static void test_loops(void **state)
{
	const char *root = *state;
	link_at(root, "/a", "b");
	link_at(root, "/b", "a");
	link_at(root, "/self", "/self");

	struct cp_resolved *r = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_resolve(root, "/a", 0, &r, &err), -ELOOP);
	assert_int_equal(err.code, ELOOP);
	assert_non_null(strstr(err.msg, "cannot resolve '/a': "));
	assert_int_equal(cp_resolve(root, "/self/x", 1, &r, NULL), -ELOOP);
	assert_null(r);
}

/* CP_RESOLVE_MAX_LINKS links are followed; one more is a loop. */
static void test_link_limit(void **state)
{
	const char *root = *state;
	char name[64], target[64];
	touch(root, "/end");
	for (int i = 0; i < CP_RESOLVE_MAX_LINKS + 1; i++) {
		snprintf(name, sizeof(name), "/l%d", i);
		if (i == 0)
			snprintf(target, sizeof(target), "end");
		else
			snprintf(target, sizeof(target), "l%d", i - 1);
		link_at(root, name, target);
	}

	struct cp_resolved *r = NULL;
	snprintf(name, sizeof(name), "/l%d", CP_RESOLVE_MAX_LINKS - 1);
	assert_int_equal(cp_resolve(root, name, 0, &r, NULL), 0);
	assert_string_equal(r->real, "/end");
	assert_int_equal(r->n_links, CP_RESOLVE_MAX_LINKS);
	cp_resolved_free(r);

	r = NULL;
	snprintf(name, sizeof(name), "/l%d", CP_RESOLVE_MAX_LINKS);
	assert_int_equal(cp_resolve(root, name, 0, &r, NULL), -ELOOP);
	assert_null(r);
}

static void test_bad_input(void **state)
{
	const char *root = *state;
	struct cp_resolved *r = NULL;
	struct cp_error err = {0};

	assert_int_equal(cp_resolve(root, "lib/x.so", 1, &r, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_int_equal(cp_resolve(root, NULL, 1, &r, NULL), -EINVAL);

	/* An origin path longer than CP_PATH_MAX. */
	char *longp = malloc(CP_PATH_MAX + 2);
	assert_non_null(longp);
	memset(longp, 'a', CP_PATH_MAX + 1);
	longp[0] = '/';
	longp[CP_PATH_MAX + 1] = '\0';
	assert_int_equal(cp_resolve(root, longp, 1, &r, NULL), -ENAMETOOLONG);

	/* A link whose (normalised) target is long, followed by a long rest
	 * of the path: the spliced path would pass CP_PATH_MAX. */
	char *target = malloc(CP_PATH_MAX);
	assert_non_null(target);
	size_t n = 0;
	for (int i = 0; i < 15; i++) {
		target[n++] = '/';
		memset(target + n, 'b', 200);
		n += 200;
	}
	target[n] = '\0';
	link_at(root, "/x", target);
	n = 0;
	memcpy(longp, "/x", 2);
	n = 2;
	for (int i = 0; i < 6; i++) {
		longp[n++] = '/';
		memset(longp + n, 'c', 200);
		n += 200;
	}
	longp[n] = '\0';
	r = NULL;
	assert_int_equal(cp_resolve(root, longp, 1, &r, &err), -ENAMETOOLONG);
	assert_null(r);
	free(target);
	free(longp);
	cp_resolved_free(NULL);
}

/* No sysroot: paths are taken from the machine's own root. */
static void test_no_sysroot(void **state)
{
	const char *root = *state;
	touch(root, "/file");
	char link[CP_PATH_MAX];
	snprintf(link, sizeof(link), "%s/alias", root);
	assert_int_equal(symlink("file", link), 0);

	struct cp_resolved *r = NULL;
	assert_int_equal(cp_resolve(NULL, link, 0, &r, NULL), 0);
	/* TMPDIR's prefix may itself hold links: expect its real path. */
	char *real_root = realpath(root, NULL);
	assert_non_null(real_root);
	char expect[CP_PATH_MAX];
	snprintf(expect, sizeof(expect), "%s/file", real_root);
	assert_string_equal(r->real, expect);
	assert_true(r->n_links >= 1);
	assert_string_equal(r->links[r->n_links - 1].target, "file");
	free(real_root);
	cp_resolved_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_relative),
	    cmocka_unit_test(test_host_path),
	    cmocka_unit_test_setup_teardown(test_usr_merge_soname, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_absolute_link_in_sysroot, setup_tree,
	                                    teardown_tree),
	    cmocka_unit_test_setup_teardown(test_same_link_recorded_once, setup_tree,
	                                    teardown_tree),
	    cmocka_unit_test_setup_teardown(test_relative_target_normalised, setup_tree,
	                                    teardown_tree),
	    cmocka_unit_test_setup_teardown(test_dotdot_stays_in_sysroot, setup_tree,
	                                    teardown_tree),
	    cmocka_unit_test_setup_teardown(test_link_to_root, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_missing, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_not_a_directory, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_loops, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_link_limit, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_bad_input, setup_tree, teardown_tree),
	    cmocka_unit_test_setup_teardown(test_no_sysroot, setup_tree, teardown_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
