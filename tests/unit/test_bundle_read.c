/*
 * Reading hostile bundles.  First the entry validator, a pure function:
 * what a real bundle holds is accepted (and where it goes), every attack
 * is refused with a message naming the entry, and the caps hold.  Then the
 * reader and cp_unpack() on archives written here with libarchive: the
 * manifest check (digests, sizes, missing and extra files, sparse files),
 * truncated and foreign input, and that a refused bundle leaves nothing.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "corepack/bundle_read.h"
#include "corepack/entry_check.h"
#include "corepack/io.h"
#include "corepack/unpack.h"
#include "corepack/digest.h"
#include "corepack/scripts.h"
#include "corepack/sha256.h"

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

/* ---- reading archives ---------------------------------------------------- */

struct aentry {
	const char *name;
	enum cp_entry_type type;
	unsigned mode;
	const char *data; /* files */
	uint64_t hole;    /* files: a hole of this many bytes before DATA (sparse) */
	const char *link;
	int unlisted; /* not in the generated manifest */
	int tamper;   /* the manifest gets a wrong digest */
	int other;    /* listed with the other digest than the packer's */
};

static char tmpdir[256];

static int rm_one(const char *p, const struct stat *st, int f, struct FTW *w)
{
	(void)st, (void)f, (void)w;
	return remove(p);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_bundle_read.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static char *tpath(const char *name)
{
	static char buf[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

/* The packer lists a file with holes by its sparse digest, any other by
 * SHA-256; OTHER swaps them. */
static int listed_sparse(const struct aentry *e)
{
	return (e->hole != 0) != (e->other != 0);
}

static void digest_of(const struct aentry *e, uint8_t out[32])
{
	size_t len = strlen(e->data);
	if (listed_sparse(e)) {
		struct cp_sparse_digest *d = malloc(sizeof(*d));
		assert_non_null(d);
		cp_sparse_digest_init(d);
		cp_sparse_digest_zeros(d, e->hole);
		cp_sparse_digest_data(d, e->data, len);
		cp_sparse_digest_final(d, out);
		free(d);
	} else {
		static const uint8_t zeros[4096];
		struct cp_sha256 s;
		cp_sha256_init(&s);
		for (uint64_t h = e->hole; h;) {
			size_t k = h < sizeof(zeros) ? (size_t)h : sizeof(zeros);
			cp_sha256_update(&s, zeros, k);
			h -= k;
		}
		cp_sha256_update(&s, e->data, len);
		cp_sha256_final(&s, out);
	}
}

/* The manifest for ENTRIES (files listed with their digests), with EXTRA
 * inserted in the root object ("\"objects\": [...]," by default none). */
static char *make_manifest(const struct aentry *es, size_t n, const char *objects)
{
	size_t cap = 65536, len = 0;
	char *m = malloc(cap);
	assert_non_null(m);
	len += (size_t)snprintf(m + len, cap - len,
	                        "{\"manifest_version\":1,\"core\":{\"machine\":\"x86_64\"},"
	                        "\"gdb\":{\"thread_db_dir\":\"/usr/lib\"},\"objects\":%s,"
	                        "\"warnings\":[],\"files\":[",
	                        objects ? objects : "[]");
	const char *sep = "";
	for (size_t i = 0; i < n; i++) {
		const struct aentry *e = &es[i];
		const char *rel = strchr(e->name, '/');
		if (e->type != CP_ENTRY_FILE || e->unlisted || !rel ||
		    strcmp(rel + 1, "manifest.json") == 0)
			continue;
		uint8_t d[32];
		char hex[65];
		digest_of(e, d);
		if (e->tamper)
			d[5] ^= 1;
		cp_hex(d, 32, hex);
		len += (size_t)snprintf(m + len, cap - len,
		                        "%s{\"path\":\"%s\",\"size\":%llu,\"%s\":\"%s\"}", sep,
		                        rel + 1, (unsigned long long)(e->hole + strlen(e->data)),
		                        listed_sparse(e) ? "sparse_sha256" : "sha256", hex);
		sep = ",";
	}
	snprintf(m + len, cap - len, "]}\n");
	return m;
}

/* Write a pax archive at PATH: ES, then "crash/manifest.json" (MANIFEST,
 * or generated when NULL; none when MANIFEST is ""). */
static void write_archive(const char *path, const struct aentry *es, size_t n, const char *manifest,
                          const char *objects)
{
	struct archive *a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	char *gen = manifest ? NULL : make_manifest(es, n, objects);
	struct aentry me = {"crash/manifest.json",
	                    CP_ENTRY_FILE,
	                    0644,
	                    manifest ? manifest : gen,
	                    0,
	                    NULL,
	                    0,
	                    0,
	                    0};
	for (size_t i = 0; i <= n; i++) {
		const struct aentry *e = i < n ? &es[i] : &me;
		if (i == n && manifest && !*manifest)
			break;
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e->name);
		archive_entry_set_perm(ae, e->mode);
		switch (e->type) {
		case CP_ENTRY_DIR:
			archive_entry_set_filetype(ae, AE_IFDIR);
			break;
		case CP_ENTRY_SYMLINK:
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, e->link);
			break;
		case CP_ENTRY_HARDLINK:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e->link);
			break;
		case CP_ENTRY_FIFO:
			archive_entry_set_filetype(ae, AE_IFIFO);
			break;
		default:
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, (la_int64_t)(e->hole + strlen(e->data)));
			if (e->hole) {
				archive_entry_sparse_add_entry(ae, (la_int64_t)e->hole,
				                               (la_int64_t)strlen(e->data));
			}
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e->type == CP_ENTRY_FILE) {
			static const char zeros[65536];
			for (uint64_t h = e->hole; h;) {
				size_t k = h < sizeof(zeros) ? (size_t)h : sizeof(zeros);
				assert_int_equal(archive_write_data(a, zeros, k), (la_ssize_t)k);
				h -= k;
			}
			size_t len = strlen(e->data);
			if (len)
				assert_int_equal(archive_write_data(a, e->data, len),
				                 (la_ssize_t)len);
		}
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	free(gen);
}

#define AF(n, d)                                                                                   \
	{                                                                                          \
		n, CP_ENTRY_FILE, 0644, d, 0, NULL, 0, 0, 0                                        \
	}
#define AX(n, d)                                                                                   \
	{                                                                                          \
		n, CP_ENTRY_FILE, 0755, d, 0, NULL, 0, 0, 0                                        \
	}
#define AL(n, t)                                                                                   \
	{                                                                                          \
		n, CP_ENTRY_SYMLINK, 0777, NULL, 0, t, 0, 0, 0                                     \
	}

static const struct aentry good[] = {
    {"crash/core", CP_ENTRY_FILE, 0600, "CORE", 3 << 20, NULL, 0, 0, 0},
    AX("crash/sysroot/usr/bin/app", "\177ELF app"),
    AL("crash/sysroot/bin", "usr/bin"),
    AL("crash/sysroot/usr/bin/app2", "app"),
    AF("crash/debug/.build-id/ab/cdef.debug", "debug info"),
    AX("crash/run-gdb.sh", "#!/bin/sh\ntouch PWNED\n"),
    AF("crash/corepack.gdb", "shell touch PWNED\n"),
    AF("crash/report.txt", "a report\n"),
};
#define N_GOOD (sizeof(good) / sizeof(good[0]))

static const char exe_objects[] =
    "[{\"path\":\"/usr/bin/app\",\"role\":\"executable\",\"status\":\"ok\","
    "\"real_path\":\"/usr/bin/app\",\"bundle_path\":\"sysroot/usr/bin/app\","
    "\"debug\":[{\"kind\":\"debug\",\"bundle_path\":\"debug/.build-id/ab/cdef.debug\"}]},"
    "{\"path\":\"/usr/bin/app2\",\"role\":\"library\",\"status\":\"ok\","
    "\"real_path\":\"/usr/bin/app2\",\"bundle_path\":\"sysroot/usr/bin/app2\"}]";

static int read_bundle(const char *path, const char *staging, struct cp_bundle_contents **c,
                       struct cp_error *err)
{
	struct cp_bundle_read_opts o = {.staging = staging};
	cp_error_clear(err);
	*c = NULL;
	return cp_bundle_read(path, &o, c, err);
}

static void test_read_list_and_extract(void **state)
{
	const char *b = tpath("good.tar");
	write_archive(b, good, N_GOOD, NULL, exe_objects);
	struct cp_bundle_contents *c;
	struct cp_error err;

	assert_int_equal(read_bundle(b, NULL, &c, &err), 0);
	assert_string_equal(c->top, "crash");
	assert_int_equal(c->verified, 0);
	assert_int_equal(c->n_files, 7);
	assert_int_equal(c->n_symlinks, 2);
	assert_string_equal(c->report, "a report\n");
	assert_int_equal(c->manifest->n_objects, 2);
	cp_bundle_contents_free(c);

	const char *st = tpath("staging");
	assert_int_equal(mkdir(st, 0700), 0);
	/* Under umask 000 the core is still 0600: its mode is not the
	 * header's (0644 here) less the umask. */
	mode_t old_umask = umask(0);
	assert_int_equal(read_bundle(b, st, &c, &err), 0);
	umask(old_umask);
	assert_int_equal(c->verified, 1);
	cp_bundle_contents_free(c);
	struct stat s;
	char p[600];
	snprintf(p, sizeof(p), "%s/core", st);
	assert_int_equal(lstat(p, &s), 0);
	assert_int_equal(s.st_size, (3 << 20) + 4);
	assert_true(s.st_blocks * 512 < 1 << 20); /* the hole stayed a hole */
	assert_int_equal(s.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s/sysroot/usr/bin/app", st);
	assert_int_equal(lstat(p, &s), 0);
	assert_int_equal(s.st_mode & 0111, 0111);
	snprintf(p, sizeof(p), "%s/sysroot/bin", st);
	assert_int_equal(lstat(p, &s), 0);
	assert_true(S_ISLNK(s.st_mode));
	/* The working directory is restored. */
	char cwd[600];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_null(strstr(cwd, "staging"));
}

/* Reading (and, with a staging directory, extracting) the archive of ES
 * fails with CODE and WANT in the message. */
static void assert_read_fails(const struct aentry *es, size_t n, const char *manifest,
                              const char *objects, int extract, int code, const char *want)
{
	const char *b = tpath("bad.tar"), *st = tpath("bad-staging");
	write_archive(b, es, n, manifest, objects);
	nftw(st, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(mkdir(st, 0700), 0);
	struct cp_bundle_contents *c;
	struct cp_error err;
	int r = read_bundle(b, extract ? st : NULL, &c, &err);
	if (r != -code || !strstr(err.msg, want) || !strstr(err.msg, "bad.tar': "))
		fail_msg("got %d '%s', expected %d and '%s'", r, err.msg, -code, want);
	assert_null(c);
}

static void test_read_manifest_mismatch(void **state)
{
	struct aentry es[N_GOOD];
	memcpy(es, good, sizeof(es));
	es[4].tamper = 1;
	assert_read_fails(es, N_GOOD, NULL, exe_objects, 1, EINVAL,
	                  "'debug/.build-id/ab/cdef.debug' does not match the manifest: sha256 ");
	/* Listing does not read contents: only the extraction notices. */
	struct cp_bundle_contents *c;
	struct cp_error err;
	assert_int_equal(read_bundle(tpath("bad.tar"), NULL, &c, &err), 0);
	cp_bundle_contents_free(c);

	memcpy(es, good, sizeof(es));
	es[0].tamper = 1;
	assert_read_fails(es, N_GOOD, NULL, exe_objects, 1, EINVAL,
	                  "'core' does not match the manifest: sparse_sha256 ");

	memcpy(es, good, sizeof(es));
	es[5].unlisted = 1;
	assert_read_fails(es, N_GOOD, NULL, exe_objects, 0, EINVAL,
	                  "'run-gdb.sh' is in the bundle but not listed in the manifest");

	/* Listed, absent. */
	char *m = make_manifest(good, N_GOOD, exe_objects);
	assert_read_fails(good + 1, N_GOOD - 1, m, NULL, 0, EINVAL,
	                  "'core' is listed in the manifest but not in the bundle");
	free(m);

	/* Sizes. */
	memcpy(es, good, sizeof(es));
	m = make_manifest(es, N_GOOD, exe_objects);
	es[7].data = "a longer report\n";
	assert_read_fails(es, N_GOOD, m, NULL, 0, EINVAL,
	                  "'report.txt' is 16 bytes, the manifest says 9");
	free(m);

	/* A listed path that is a symlink in the bundle. */
	struct aentry es2[N_GOOD + 1];
	memcpy(es2, good, sizeof(good));
	es2[N_GOOD] = (struct aentry)AF("crash/sysroot/bin/x", "x");
	m = make_manifest(es2, N_GOOD + 1, NULL);
	es2[N_GOOD] = (struct aentry)AL("crash/sysroot/lib", "bin");
	assert_read_fails(es2, N_GOOD + 1, m, NULL, 0, EINVAL, "'sysroot/bin/x' is listed");
	free(m);

	/* An object whose bundle path is nowhere. */
	static const char ghost[] =
	    "[{\"path\":\"/lib/ghost.so\",\"role\":\"library\",\"status\":\"ok\","
	    "\"real_path\":\"/lib/ghost.so\",\"bundle_path\":\"sysroot/lib/ghost.so\"}]";
	assert_read_fails(
	    good, N_GOOD, NULL, ghost, 0, EINVAL,
	    "'sysroot/lib/ghost.so' (object '/lib/ghost.so') is in the manifest but not");
}

static void test_read_sparse_digests(void **state)
{
	/* A file stored with holes but listed with a plain sha256, and the
	 * reverse: digested again from the disk, they match. */
	struct aentry es[N_GOOD];
	memcpy(es, good, sizeof(es));
	es[0].other = 1;
	es[1].hole = 70000;
	es[1].other = 1;
	es[4].other = 1;
	const char *b = tpath("mixed.tar"), *st = tpath("mixed-staging");
	write_archive(b, es, N_GOOD, NULL, exe_objects);
	assert_int_equal(mkdir(st, 0700), 0);
	struct cp_bundle_contents *c;
	struct cp_error err;
	if (read_bundle(b, st, &c, &err) != 0)
		fail_msg("%s", err.msg);
	cp_bundle_contents_free(c);

	es[4].tamper = 1;
	assert_read_fails(es, N_GOOD, NULL, exe_objects, 1, EINVAL,
	                  "'debug/.build-id/ab/cdef.debug' does not match the manifest: "
	                  "sparse_sha256 ");
}

static void test_read_not_a_bundle(void **state)
{
	const char *b = tpath("junk");
	FILE *f = fopen(b, "w");
	assert_non_null(f);
	for (int i = 0; i < 5000; i++)
		fputs("this is not a tar file\n", f);
	fclose(f);
	struct cp_bundle_contents *c;
	struct cp_error err;
	assert_int_equal(read_bundle(b, NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "junk': not a bundle"));

	assert_int_equal(read_bundle(tpath("does-not-exist"), NULL, &c, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_int_equal(read_bundle(tmpdir, NULL, &c, &err), -EISDIR);

	/* Empty; a tar with no entries; one without a manifest. */
	f = fopen(b, "w");
	fclose(f);
	assert_int_equal(read_bundle(b, NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a bundle"));
	f = fopen(b, "w");
	for (int i = 0; i < 10240; i++)
		fputc(0, f);
	fclose(f);
	assert_int_equal(read_bundle(b, NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a bundle: no entries"));
	assert_read_fails(good, N_GOOD, "", NULL, 0, EINVAL,
	                  "not a corepack bundle: no manifest.json");
	assert_read_fails(good, N_GOOD, "{\"manifest_version\": 1", NULL, 0, EINVAL,
	                  "manifest.json: not valid JSON");
}

static void test_read_truncated(void **state)
{
	char b[600];
	snprintf(b, sizeof(b), "%s", tpath("trunc.tar"));
	write_archive(b, good, N_GOOD, NULL, NULL);
	struct stat s;
	assert_int_equal(stat(b, &s), 0);
	/* (A cut in the zeros after the last entry loses nothing, and the
	 * bundle checks out: not tested here.) */
	const off_t cuts[] = {100, 700, 3000, s.st_size / 2};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		write_archive(b, good, N_GOOD, NULL, NULL);
		assert_int_equal(truncate(b, cuts[i]), 0);
		const char *st = tpath("trunc-staging");
		nftw(st, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		assert_int_equal(mkdir(st, 0700), 0);
		struct cp_bundle_contents *c;
		struct cp_error err;
		int r = read_bundle(b, st, &c, &err);
		if (r != -EIO && r != -EINVAL)
			fail_msg("cut at %lld: %d '%s'", (long long)cuts[i], r, err.msg);
		if (!strstr(err.msg, "truncated or corrupt") &&
		    !strstr(err.msg, "no manifest.json") && !strstr(err.msg, "not a bundle"))
			fail_msg("cut at %lld: '%s'", (long long)cuts[i], err.msg);
	}
}

static void test_read_refused_entry(void **state)
{
	struct aentry es[N_GOOD + 1];
	memcpy(es, good, sizeof(good));
	es[N_GOOD] = (struct aentry){
	    "crash/sysroot/x", CP_ENTRY_HARDLINK, 0644, "", 0, "crash/core", 0, 0, 0};
	assert_read_fails(es, N_GOOD + 1, NULL, NULL, 1, EINVAL,
	                  "refused entry 'crash/sysroot/x': hard link (to 'crash/core')");
	es[N_GOOD] =
	    (struct aentry){"crash/sysroot/fifo", CP_ENTRY_FIFO, 0644, "", 0, NULL, 0, 0, 0};
	assert_read_fails(es, N_GOOD + 1, NULL, NULL, 1, EINVAL,
	                  "refused entry 'crash/sysroot/fifo': FIFO");
	es[N_GOOD] = (struct aentry)AL("crash/sysroot/evil", "../../etc");
	assert_read_fails(es, N_GOOD + 1, NULL, NULL, 1, EINVAL, "leaves the bundle");
}

/* ---- unpacking ------------------------------------------------------------- */

static int unpack(const char *bundle, const char *dir, int force, int trust,
                  struct cp_bundle_contents **c, struct cp_error *err)
{
	struct cp_unpack_opts o = {.bundle = bundle, .dir = dir, .force = force, .trust = trust};
	cp_error_clear(err);
	*c = NULL;
	return cp_unpack(&o, c, err);
}

static char *slurp(const char *path)
{
	char *text;
	size_t len;
	assert_int_equal(cp_read_file_capped(path, 1 << 20, &text, &len, NULL), 0);
	return text;
}

static size_t count_entries(const char *dir)
{
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = 0;
	assert_int_equal(fscanf(p, "%zu", &n), 1);
	pclose(p);
	return n;
}

static void test_unpack(void **state)
{
	const char *b = tpath("u.tar"), *dir = tpath("u-out");
	write_archive(b, good, N_GOOD, NULL, exe_objects);
	struct cp_bundle_contents *c;
	struct cp_error err;
	char p[700];

	if (unpack(b, dir, 0, 0, &c, &err) != 0)
		fail_msg("%s", err.msg);
	cp_bundle_contents_free(c);
	/* The bundle's scripts are replaced by ours. */
	snprintf(p, sizeof(p), "%s/run-gdb.sh", dir);
	char *sh = slurp(p);
	assert_null(strstr(sh, "PWNED"));
	assert_non_null(strstr(sh, "exe='/usr/bin/app'"));
	assert_non_null(strstr(sh, "trust=0"));
	assert_non_null(strstr(sh, "exec \"$gdb\" -nx"));
	free(sh);
	snprintf(p, sizeof(p), "%s/corepack.gdb", dir);
	sh = slurp(p);
	assert_null(strstr(sh, "PWNED"));
	assert_non_null(strstr(sh, "file sysroot/usr/bin/app"));
	free(sh);
	assert_int_equal(count_entries(dir), 7); /* no temporary directory left */

	/* Again: every name exists, nothing is touched. */
	assert_int_equal(unpack(b, dir, 0, 0, &c, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "/core' already exists"));
	assert_null(c);

	/* Forced, with trust: replaced, and a stale name goes too. */
	snprintf(p, sizeof(p), "%s/report.txt", dir);
	assert_int_equal(unlink(p), 0);
	struct aentry es[N_GOOD - 1];
	memcpy(es, good, sizeof(es)); /* no report.txt */
	write_archive(b, es, N_GOOD - 1, NULL, exe_objects);
	snprintf(p, sizeof(p), "%s/report.txt", dir);
	FILE *f = fopen(p, "w");
	fclose(f);
	if (unpack(b, dir, 1, 1, &c, &err) != 0)
		fail_msg("%s", err.msg);
	cp_bundle_contents_free(c);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/run-gdb.sh", dir);
	sh = slurp(p);
	assert_non_null(strstr(sh, "trust=1"));
	assert_non_null(strstr(sh, "thread_db_dir='/usr/lib'"));
	free(sh);
	assert_int_equal(count_entries(dir), 6);
}

static void test_unpack_refused_leaves_nothing(void **state)
{
	struct aentry es[N_GOOD + 1];
	memcpy(es, good, sizeof(good));
	es[N_GOOD] = (struct aentry)AF("crash/sysroot/../../escape", "x");
	const char *b = tpath("r.tar"), *dir = tpath("r-out");
	write_archive(b, es, N_GOOD + 1, NULL, NULL);
	struct cp_bundle_contents *c;
	struct cp_error err;
	assert_int_equal(unpack(b, dir, 0, 0, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "a '..' component"));
	assert_int_equal(access(dir, F_OK), -1); /* created, then removed */
	assert_int_equal(access(tpath("escape"), F_OK), -1);

	/* An existing directory is kept, and left as it was. */
	assert_int_equal(mkdir(dir, 0755), 0);
	es[N_GOOD] = good[1];
	es[N_GOOD].tamper = 1;
	es[N_GOOD].name = "crash/sysroot/usr/bin/other";
	write_archive(b, es, N_GOOD + 1, NULL, NULL);
	assert_int_equal(unpack(b, dir, 0, 0, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "does not match"));
	assert_int_equal(count_entries(dir), 0);

	/* An executable gdb would not open: it tilde-expands " ~root". */
	static const char tilde[] =
	    "[{\"path\":\"/usr/bin/a ~root\",\"role\":\"executable\",\"status\":\"ok\","
	    "\"real_path\":\"/usr/bin/a ~root\",\"bundle_path\":\"sysroot/usr/bin/a ~root\"}]";
	memcpy(es, good, sizeof(good));
	es[1].name = "crash/sysroot/usr/bin/a ~root";
	write_archive(b, es, N_GOOD, NULL, tilde);
	assert_int_equal(unpack(b, dir, 0, 0, &c, &err), -EINVAL);
	assert_non_null(
	    strstr(err.msg, "the executable '/usr/bin/a ~root' cannot be handed to gdb"));
	assert_int_equal(count_entries(dir), 0);
	assert_non_null(cp_scripts_executable_problem("/usr/bin/a ~root"));
	assert_null(cp_scripts_executable_problem("/usr/bin/a~root $(x) 'q\" "));
}

int main(void)
{
	umask(022);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_a_bundle),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_types_and_modes),
	    cmocka_unit_test(test_symlinks),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_path_check),
	    cmocka_unit_test(test_printable),
	    cmocka_unit_test_setup_teardown(test_read_list_and_extract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_manifest_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_sparse_digests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_not_a_bundle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_refused_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unpack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unpack_refused_leaves_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
