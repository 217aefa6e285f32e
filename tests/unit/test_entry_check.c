/*
 * The entry validator (entry_check.c), a pure function: what a real bundle
 * holds is accepted (and where it goes), every attack is refused with a
 * message naming the entry, and the caps hold; with it, the path rules of
 * layout.h it applies and the escaping of the names it reports.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corepack/entry_check.h"
#include "corepack/escape.h"
#include "corepack/layout.h"

/* ---- the validator ------------------------------------------------------ */

struct ventry {
	const char *name;
	enum cp_entry_type type;
	unsigned mode;
	int64_t size;
	const char *link;
};

#define F(n)                                                                                       \
	{                                                                                          \
		n, CP_ENTRY_FILE, 0644, 10, NULL                                                   \
	}
#define X(n)                                                                                       \
	{                                                                                          \
		n, CP_ENTRY_FILE, 0755, 10, NULL                                                   \
	}
#define D(n)                                                                                       \
	{                                                                                          \
		n, CP_ENTRY_DIR, 0755, 0, NULL                                                     \
	}
#define L(n, t)                                                                                    \
	{                                                                                          \
		n, CP_ENTRY_SYMLINK, 0777, 0, t                                                    \
	}

static int vcheck(struct cp_entry_validator *v, const struct ventry *e,
                  struct cp_entry_checked *out, struct cp_error *err)
{
	struct cp_entry ce = {e->name, e->type, e->mode, e->size, e->link};
	cp_error_clear(err);
	return cp_entry_check(v, &ce, out, err);
}

static struct cp_entry_validator *validator(void)
{
	struct cp_entry_validator *v = NULL;
	assert_int_equal(cp_entry_validator_new(&v), 0);
	return v;
}

/* The entries before the last are accepted; the last is refused with CODE
 * and a message holding WANT (and the entry's name). */
static void assert_refused_after(const struct ventry *e, size_t n, int code, const char *want)
{
	struct cp_entry_validator *v = validator();
	struct cp_entry_checked c;
	struct cp_error err;
	for (size_t i = 0; i + 1 < n; i++)
		if (vcheck(v, &e[i], &c, &err) != 0)
			fail_msg("entry %zu '%s' refused: %s", i, e[i].name, err.msg);
	int r = vcheck(v, &e[n - 1], &c, &err);
	if (r != -code || !strstr(err.msg, want) || !strstr(err.msg, "refused entry '"))
		fail_msg("'%s': got %d '%s', expected %d and '%s'",
		         e[n - 1].name ? e[n - 1].name : "", r, err.msg, -code, want);
	cp_entry_validator_free(v);
}

#define REFUSED(code, want, ...)                                                                   \
	do {                                                                                       \
		const struct ventry es_[] = {__VA_ARGS__};                                         \
		assert_refused_after(es_, sizeof(es_) / sizeof(es_[0]), code, want);               \
	} while (0)

static void test_accepts_a_bundle(void **state)
{
	/* What corepack writes, plus explicit directories. */
	static const struct {
		struct ventry e;
		const char *path;
		unsigned mode;
	} cases[] = {
	    {D("crash/"), "", 0755},
	    {{"crash/core", CP_ENTRY_FILE, 0644, 8839168, NULL}, "core", 0600},
	    {X("crash/sysroot/tmp/up/t"), "sysroot/tmp/up/t", 0755},
	    {X("crash/sysroot/usr/lib/x86_64-linux-gnu/libc.so.6"),
	     "sysroot/usr/lib/x86_64-linux-gnu/libc.so.6", 0755},
	    {L("crash/sysroot/lib64", "usr/lib64"), "sysroot/lib64", 0777},
	    {L("crash/sysroot/usr/lib64/ld-linux-x86-64.so.2",
	       "../../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
	     "sysroot/usr/lib64/ld-linux-x86-64.so.2", 0777},
	    {L("crash/sysroot/lib", "usr/lib"), "sysroot/lib", 0777},
	    {L("crash/sysroot/usr/lib/x86_64-linux-gnu/self", "."),
	     "sysroot/usr/lib/x86_64-linux-gnu/self", 0777},
	    {L("crash/sysroot/up", "../debug/.build-id"), "sysroot/up", 0777},
	    {D("crash/debug/.build-id/7e/"), "debug/.build-id/7e", 0755},
	    {D("crash/debug/.build-id/7e"), "debug/.build-id/7e", 0755},
	    {{"crash/debug/.build-id/7e/bc.debug", CP_ENTRY_FILE, 0777, 5, NULL},
	     "debug/.build-id/7e/bc.debug",
	     0755},
	    {{"crash/debug/.build-id/7e/cd.debug", CP_ENTRY_FILE, 0100, 5, NULL},
	     "debug/.build-id/7e/cd.debug",
	     0755},
	    {{"crash/debug/.build-id/7e/ef.debug", CP_ENTRY_FILE, 0, 5, NULL},
	     "debug/.build-id/7e/ef.debug",
	     0644},
	    {{"crash/sysroot/a/dir", CP_ENTRY_DIR, 0700, 0, NULL}, "sysroot/a/dir", 0755},
	    {F("crash/sysroot/caf\xc3\xa9 '$(x)\""), "sysroot/caf\xc3\xa9 '$(x)\"", 0644},
	    {F("crash/corepack.gdb"), "corepack.gdb", 0644},
	    {X("crash/run-gdb.sh"), "run-gdb.sh", 0755},
	    /* What holds the process's memory is private whatever the header
	     * says. */
	    {{"crash/report.txt", CP_ENTRY_FILE, 0755, 5, NULL}, "report.txt", 0600},
	    {F("crash/manifest.json"), "manifest.json", 0600},
	    {F("crash/sysroot/core"), "sysroot/core", 0644},
	};
	struct cp_entry_validator *v = validator();
	struct cp_entry_checked c;
	struct cp_error err;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (vcheck(v, &cases[i].e, &c, &err) != 0)
			fail_msg("'%s' refused: %s", cases[i].e.name, err.msg);
		assert_string_equal(c.path, cases[i].path);
		assert_int_equal(c.mode, cases[i].mode);
		assert_int_equal(c.type, cases[i].e.type);
		enum cp_entry_type t;
		assert_int_equal(cp_entry_lookup(v, c.path, &t), (long)c.node);
		assert_int_equal(t, cases[i].e.type);
	}
	assert_string_equal(cp_entry_validator_top(v), "crash");
	enum cp_entry_type t = CP_ENTRY_UNKNOWN;
	assert_true(cp_entry_lookup(v, "sysroot/usr/lib", &t) > 0); /* implied */
	assert_int_equal(t, CP_ENTRY_DIR);
	assert_int_equal(cp_entry_lookup(v, "sysroot/usr/lib/nothing", &t), -1);
	assert_int_equal(cp_entry_lookup(v, "sysroot//usr", &t), -1);
	assert_int_equal(cp_entry_lookup(v, "", &t), 0);
	cp_entry_validator_free(v);
	cp_entry_validator_free(NULL);
}

static void test_names(void **state)
{
	char longname[CP_BUNDLE_MAX_PATH + 2], longcomp[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "crash/sysroot/", 14);
	snprintf(longcomp, sizeof(longcomp), "crash/sysroot/%0256d", 0);

	REFUSED(EINVAL, "empty name", F(""));
	REFUSED(EINVAL, "empty name", {NULL, CP_ENTRY_FILE, 0644, 0, NULL});
	REFUSED(EINVAL, "absolute name", F("/etc/passwd"));
	REFUSED(EINVAL, "absolute name", F("crash/core"), F("/crash/sysroot/x"));
	REFUSED(EINVAL, "a '..' component", F("../x"));
	REFUSED(EINVAL, "a '..' component", F("crash/core"), F("crash/../x"));
	REFUSED(EINVAL, "a '..' component", F("crash/sysroot/../../../etc/cron.d/x"));
	REFUSED(EINVAL, "a '..' component", F("crash/sysroot/a/.."));
	REFUSED(EINVAL, "a '.' component", F("./crash/core"));
	REFUSED(EINVAL, "a '.' component", F("crash/sysroot/./x"));
	REFUSED(EINVAL, "an empty component", F("crash//core"));
	REFUSED(EINVAL, "an empty component", D("crash/sysroot//"));
	REFUSED(EINVAL, "control character", F("crash/sysroot/a\nb"));
	REFUSED(EINVAL, "control character", F("crash/sysroot/a\x7f"));
	REFUSED(EINVAL, "refused entry 'crash/sysroot/a\\x1b[31mb'", F("crash/sysroot/a\x1b[31mb"));
	REFUSED(EINVAL, "name longer than 4096 bytes", F(longname));
	REFUSED(EINVAL, "a component longer than 255 bytes", F(longcomp));
	REFUSED(EINVAL, "name ends in '/' but it is a file", F("crash/core/"));
	/* One top directory, only the bundle's names below it. */
	REFUSED(EINVAL, "outside the top directory 'crash/'", F("crash/core"), F("other/core"));
	REFUSED(EINVAL, "outside the top directory", F("crash/core"), F("crash2/core"));
	REFUSED(EINVAL, "the top directory is a file", F("crash"));
	REFUSED(EINVAL, "the top directory is a symlink", L("crash", "x"));
	REFUSED(EINVAL, "'.gdbinit' is not a bundle name", F("crash/.gdbinit"));
	REFUSED(EINVAL, "'etc' is not a bundle name", F("crash/etc/passwd"));
	REFUSED(EINVAL, "'core.gdb-gdb.py' is not a bundle name", F("crash/core.gdb-gdb.py"));
	REFUSED(EINVAL, "'sysroot' must be a directory, not a file", F("crash/sysroot"));
	REFUSED(EINVAL, "'debug' must be a directory, not a symlink", L("crash/debug", "sysroot"));
	REFUSED(EINVAL, "'core' must be a regular file, not a directory", D("crash/core"));
	REFUSED(EINVAL, "'run-gdb.sh' must be a regular file, not a symlink",
	        L("crash/run-gdb.sh", "core"));
	REFUSED(EINVAL, "below 'core', which is a file", F("crash/core/x"));
}

static void test_types_and_modes(void **state)
{
	REFUSED(EINVAL, "hard link (to 'etc/passwd')",
	        {"crash/sysroot/x", CP_ENTRY_HARDLINK, 0644, 0, "etc/passwd"});
	REFUSED(EINVAL, "hard link (to 'crash/core')", F("crash/core"),
	        {"crash/sysroot/x", CP_ENTRY_HARDLINK, 0644, 0, "crash/core"});
	REFUSED(EINVAL, "character device",
	        {"crash/sysroot/dev/null", CP_ENTRY_CHARDEV, 0666, 0, NULL});
	REFUSED(EINVAL, "block device",
	        {"crash/sysroot/dev/sda", CP_ENTRY_BLOCKDEV, 0660, 0, NULL});
	REFUSED(EINVAL, "FIFO", {"crash/sysroot/fifo", CP_ENTRY_FIFO, 0644, 0, NULL});
	REFUSED(EINVAL, "socket", {"crash/sysroot/sock", CP_ENTRY_SOCKET, 0755, 0, NULL});
	REFUSED(EINVAL, "unsupported file type",
	        {"crash/sysroot/x", CP_ENTRY_UNKNOWN, 0644, 0, NULL});
	REFUSED(EINVAL, "setuid, setgid or sticky bit (mode 4755)",
	        {"crash/sysroot/usr/bin/su", CP_ENTRY_FILE, 04755, 1, NULL});
	REFUSED(EINVAL, "setuid, setgid or sticky bit (mode 2755)",
	        {"crash/core", CP_ENTRY_FILE, 02755, 1, NULL});
	REFUSED(EINVAL, "setuid, setgid or sticky bit (mode 1777)",
	        {"crash/sysroot/tmp", CP_ENTRY_DIR, 01777, 0, NULL});
	REFUSED(EINVAL, "negative size", {"crash/core", CP_ENTRY_FILE, 0644, -1, NULL});
	REFUSED(E2BIG, "would exceed",
	        {"crash/core", CP_ENTRY_FILE, 0644, (int64_t)CP_BUNDLE_MAX_TOTAL + 1, NULL});
	REFUSED(E2BIG, "would exceed", {"crash/core", CP_ENTRY_FILE, 0644, INT64_MAX, NULL});
	REFUSED(E2BIG, "would exceed",
	        {"crash/core", CP_ENTRY_FILE, 0644, (int64_t)(CP_BUNDLE_MAX_TOTAL / 2), NULL},
	        {"crash/sysroot/a", CP_ENTRY_FILE, 0644, (int64_t)(CP_BUNDLE_MAX_TOTAL / 2), NULL},
	        {"crash/sysroot/b", CP_ENTRY_FILE, 0644, 1, NULL});
}

static void test_symlinks(void **state)
{
	REFUSED(EINVAL, "symlink to the absolute path '/etc'", L("crash/sysroot/lib", "/etc"));
	REFUSED(EINVAL, "symlink with an empty target", L("crash/sysroot/lib", ""));
	REFUSED(EINVAL, "symlink with an empty target", L("crash/sysroot/lib", NULL));
	REFUSED(EINVAL, "symlink target '../..' is the directory the bundle is unpacked into",
	        L("crash/sysroot/a/x", "../.."));
	REFUSED(EINVAL, "symlink target '..' is the directory", L("crash/sysroot/x", ".."));
	REFUSED(EINVAL, "symlink target '../../..' leaves the bundle",
	        L("crash/sysroot/a/x", "../../.."));
	REFUSED(EINVAL, "symlink target '../../../etc/passwd' leaves the bundle",
	        L("crash/sysroot/a/x", "../../../etc/passwd"));
	/* Up to the unpack directory, then into something that is not ours. */
	REFUSED(EINVAL, "symlink target '../.bashrc' leaves the bundle",
	        L("crash/sysroot/x", "../.bashrc"));
	REFUSED(EINVAL, "leaves the bundle", L("crash/debug/x", "../../crash/core"));
	/* ".." after a name: "a" may itself be a symlink. */
	REFUSED(EINVAL, "has '..' after a name", L("crash/sysroot/x/a", ".."),
	        L("crash/sysroot/x/b", "a/../.."));
	REFUSED(EINVAL, "has '..' after a name", L("crash/sysroot/b", "usr/../lib"));
	REFUSED(EINVAL, "control character", L("crash/sysroot/b", "usr\n/lib"));

	/* Nothing through a symlink, and no symlink over a used name. */
	REFUSED(EINVAL, "written through a symlink 'crash/sysroot/lib'",
	        L("crash/sysroot/lib", "usr/lib"), F("crash/sysroot/lib/evil.so"));
	REFUSED(EINVAL, "written through a symlink 'crash/sysroot/lib'",
	        L("crash/sysroot/lib", "usr/lib"), D("crash/sysroot/lib/x/"));
	REFUSED(EINVAL, "written through a symlink 'crash/sysroot/a'", L("crash/sysroot/a", "b"),
	        L("crash/sysroot/a/c", "d"));
	REFUSED(EINVAL, "duplicate: the name is already a symlink",
	        L("crash/sysroot/lib", "usr/lib"), L("crash/sysroot/lib", "usr/lib"));
	REFUSED(EINVAL, "duplicate: the name is already a file", F("crash/sysroot/lib"),
	        L("crash/sysroot/lib", "usr/lib"));
	REFUSED(EINVAL, "duplicate: the name is already a directory", F("crash/sysroot/lib/x"),
	        L("crash/sysroot/lib", "usr/lib"));
	REFUSED(EINVAL, "below a file 'crash/sysroot/f'", F("crash/sysroot/f"),
	        F("crash/sysroot/f/x"));
}

static void test_duplicates(void **state)
{
	REFUSED(EINVAL, "duplicate: the name is already a file", F("crash/core"), F("crash/core"));
	REFUSED(EINVAL, "duplicate: the name is already a file", F("crash/manifest.json"),
	        F("crash/manifest.json"));
	REFUSED(EINVAL, "duplicate: the name is already a directory", F("crash/sysroot/a/b"),
	        F("crash/sysroot/a"));
	REFUSED(EINVAL, "duplicate: the name is already a file", F("crash/sysroot/a"),
	        D("crash/sysroot/a"));
	/* A directory named again replaces nothing. */
	struct cp_entry_validator *v = validator();
	struct cp_entry_checked c;
	struct cp_error err;
	const struct ventry dirs[] = {D("crash"),           D("crash/"),
	                              D("crash/sysroot"),   F("crash/sysroot/x/y"),
	                              D("crash/sysroot/x"), D("crash/sysroot/x/")};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_int_equal(vcheck(v, &dirs[i], &c, &err), 0);
	cp_entry_validator_free(v);
}

static void test_caps(void **state)
{
	struct cp_entry_validator *v = validator();
	struct cp_entry_checked c;
	struct cp_error err;
	char name[64];
	/* Names: entries and the directories they imply count. */
	size_t i = 0;
	int r = 0;
	for (; i < CP_BUNDLE_MAX_NAMES + 10 && r == 0; i++) {
		snprintf(name, sizeof(name), "crash/sysroot/d%zu/f", i);
		struct ventry e = F(name);
		e.size = 1;
		r = vcheck(v, &e, &c, &err);
	}
	assert_int_equal(r, -E2BIG);
	assert_non_null(strstr(err.msg, "more than 200000 names"));
	assert_int_equal(i, CP_BUNDLE_MAX_NAMES / 2); /* sysroot, then 2 per entry */
	cp_entry_validator_free(v);

	/* Entries, even ones that add no name. */
	v = validator();
	r = 0;
	struct ventry d = D("crash/sysroot");
	for (i = 0; i < CP_BUNDLE_MAX_NAMES + 10 && r == 0; i++)
		r = vcheck(v, &d, &c, &err);
	assert_int_equal(r, -E2BIG);
	assert_int_equal(i, CP_BUNDLE_MAX_NAMES + 1);
	assert_non_null(strstr(err.msg, "more than 200000 entries"));
	cp_entry_validator_free(v);

	/* A deep name implies many directories; the limit on path length
	 * bounds them. */
	char deep[CP_BUNDLE_MAX_PATH + 1] = "crash/sysroot";
	while (strlen(deep) + 2 <= CP_BUNDLE_MAX_PATH)
		strcat(deep, "/a");
	v = validator();
	struct ventry e = F(deep);
	assert_int_equal(vcheck(v, &e, &c, &err), 0);
	assert_string_equal(c.path, deep + 6);
	cp_entry_validator_free(v);
}

static void test_path_check(void **state)
{
	const char *why;
	assert_int_equal(cp_bundle_path_check("/usr/lib/libc.so.6", 1, &why), 0);
	assert_int_equal(cp_bundle_path_check("sysroot/usr/lib", 0, &why), 0);
	assert_int_equal(cp_bundle_path_check("core", 0, &why), 0);
	static const struct {
		const char *p;
		int abs;
		const char *why;
	} bad[] = {
	    {"", 1, "is empty"},
	    {"usr/lib", 1, "is not an absolute path"},
	    {"/usr/lib", 0, "is an absolute path"},
	    {"/", 1, "is the root directory"},
	    {"/usr/", 1, "ends in '/'"},
	    {"//usr", 1, "has an empty component"},
	    {"/usr/../etc", 1, "has a '..' component"},
	    {"a/./b", 0, "has a '.' component"},
	    {"a\tb", 0, "has a control character"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cp_bundle_path_check(bad[i].p, bad[i].abs, &why), -EINVAL);
		assert_string_equal(why, bad[i].why);
	}
	int is_dir;
	assert_true(cp_bundle_top_name("sysroot/x", 7, &is_dir) && is_dir);
	assert_true(cp_bundle_top_name("core", 4, &is_dir) && !is_dir);
	assert_false(cp_bundle_top_name("cor", 3, &is_dir));
	assert_false(cp_bundle_top_name(".gdbinit", 8, &is_dir));
}

static void test_printable(void **state)
{
	char buf[64];
	assert_string_equal(cp_escape("plain/path", buf, sizeof(buf)), "plain/path");
	assert_string_equal(cp_escape("a\nb\x1b[2J", buf, sizeof(buf)), "a\\x0ab\\x1b[2J");
	assert_string_equal(cp_escape("caf\xc3\xa9", buf, sizeof(buf)), "caf\\xc3\\xa9");
	assert_string_equal(cp_escape("a\\x1b", buf, sizeof(buf)), "a\\\\x1b");
	/* C1 controls (CSI as U+009B), bad UTF-8, overlong forms. */
	assert_string_equal(cp_escape("\xc2\x9b"
	                              "1m",
	                              buf, sizeof(buf)),
	                    "\\xc2\\x9b1m");
	assert_string_equal(cp_escape("\xff\xc3", buf, sizeof(buf)), "\\xff\\xc3");
	assert_string_equal(cp_escape("\xe0\x80\xaf", buf, sizeof(buf)), "\\xe0\\x80\\xaf");
	char small[10];
	assert_string_equal(cp_escape("0123456789abc", small, sizeof(small)), "012345...");
	assert_string_equal(cp_escape("\n\n\n", small, sizeof(small)), "\\x0a...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_a_bundle), cmocka_unit_test(test_names),
	    cmocka_unit_test(test_types_and_modes),  cmocka_unit_test(test_symlinks),
	    cmocka_unit_test(test_duplicates),       cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_path_check),       cmocka_unit_test(test_printable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
