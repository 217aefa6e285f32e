/*
 * Reading hostile bundles: the reader and cp_unpack() on archives written
 * here with libarchive: the manifest check (digests, sizes, missing and
 * extra files, sparse files), truncated and foreign input, and that a
 * refused bundle leaves nothing.  Every test runs on both forms of
 * bundle: manifest version 1 (the manifest last, with the digests) and 2
 * (the manifest first, the digests last in digests.json).  (The entry
 * validator on its own: test_entry_check.c.)
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
#include "corepack/stage.h"

/* The form of the bundles written: 1 (manifest last) or 2. */
static int version = 2;

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

/* The manifest for ENTRIES (files listed with their digests, or in
 * version 2 their digest kinds), with OBJECTS as its "objects" (by default
 * none); DIGESTS (version 2: digests.json) when not NULL. */
static char *make_manifest_and_digests(const struct aentry *es, size_t n, const char *objects,
                                       char **digests)
{
	size_t cap = 65536, len = 0, dlen = 0;
	char *m = malloc(cap), *d = malloc(cap);
	assert_non_null(m);
	assert_non_null(d);
	len += (size_t)snprintf(m + len, cap - len,
	                        "{\"manifest_version\":%d,\"core\":{\"machine\":\"x86_64\"},"
	                        "\"gdb\":{\"thread_db_dir\":\"/usr/lib\"},\"objects\":%s,"
	                        "\"warnings\":[],\"files\":[",
	                        version, objects ? objects : "[]");
	dlen += (size_t)snprintf(d, cap, "{\"files\":[");
	const char *sep = "";
	for (size_t i = 0; i < n; i++) {
		const struct aentry *e = &es[i];
		const char *rel = strchr(e->name, '/');
		if (e->type != CP_ENTRY_FILE || e->unlisted || !rel ||
		    strcmp(rel + 1, "manifest.json") == 0)
			continue;
		uint8_t dg[32];
		char hex[65];
		digest_of(e, dg);
		if (e->tamper)
			dg[5] ^= 1;
		cp_hex(dg, 32, hex);
		const char *kind = listed_sparse(e) ? "sparse_sha256" : "sha256";
		if (version == 1) {
			len += (size_t)snprintf(
			    m + len, cap - len, "%s{\"path\":\"%s\",\"size\":%llu,\"%s\":\"%s\"}",
			    sep, rel + 1, (unsigned long long)(e->hole + strlen(e->data)), kind,
			    hex);
		} else {
			len += (size_t)snprintf(
			    m + len, cap - len,
			    "%s{\"path\":\"%s\",\"size\":%llu,\"digest\":\"%s\"}", sep, rel + 1,
			    (unsigned long long)(e->hole + strlen(e->data)), kind);
			dlen += (size_t)snprintf(d + dlen, cap - dlen,
			                         "%s{\"path\":\"%s\",\"%s\":\"%s\"}", sep, rel + 1,
			                         kind, hex);
		}
		sep = ",";
	}
	snprintf(m + len, cap - len, "]}\n");
	snprintf(d + dlen, cap - dlen, "]}\n");
	if (digests && version >= 2)
		*digests = d;
	else
		free(d);
	return m;
}

static char *make_manifest(const struct aentry *es, size_t n, const char *objects)
{
	return make_manifest_and_digests(es, n, objects, NULL);
}

/* Write a pax archive at PATH: ES and "crash/manifest.json" (MANIFEST, or
 * generated when NULL; none when MANIFEST is ""): in version 1 the
 * manifest last, in 2 first and "crash/digests.json" last. */
static void write_archive(const char *path, const struct aentry *es, size_t n, const char *manifest,
                          const char *objects)
{
	struct archive *a = archive_write_new();
	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	char *digests = NULL;
	char *gen = make_manifest_and_digests(es, n, objects, &digests);
	struct aentry me = {"crash/manifest.json",
	                    CP_ENTRY_FILE,
	                    0644,
	                    manifest ? manifest : gen,
	                    0,
	                    NULL,
	                    0,
	                    0,
	                    0};
	struct aentry de = {"crash/digests.json", CP_ENTRY_FILE, 0644, digests, 0, NULL, 0, 0, 0};
	/* The entries in the archive's order. */
	const struct aentry **order = calloc(n + 2, sizeof(*order));
	size_t k = 0;
	assert_non_null(order);
	if (version >= 2 && !(manifest && !*manifest))
		order[k++] = &me;
	for (size_t i = 0; i < n; i++)
		order[k++] = &es[i];
	if (version >= 2)
		order[k++] = &de;
	else if (!(manifest && !*manifest))
		order[k++] = &me;
	for (size_t i = 0; i < k; i++) {
		const struct aentry *e = order[i];
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
				size_t z = h < sizeof(zeros) ? (size_t)h : sizeof(zeros);
				assert_int_equal(archive_write_data(a, zeros, z), (la_ssize_t)z);
				h -= z;
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
	free(digests);
	free(order);
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

/* The staging directory the last read_bundle() extracted into. */
static char stage_dir[600];

/* Read PATH, extracting into a staging directory made in STAGING (left
 * there, as stage_dir) when not NULL. */
static int read_bundle(const char *path, const char *staging, struct cp_bundle_contents **c,
                       struct cp_error *err)
{
	struct cp_stage st = CP_STAGE_INIT;
	int dfd = -1;
	if (staging) {
		dfd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(dfd >= 0);
		assert_int_equal(cp_stage_create(dfd, staging, &st, NULL), 0);
		snprintf(stage_dir, sizeof(stage_dir), "%s/%s", staging, st.name);
	}
	struct cp_bundle_read_opts o = {.stage = staging ? &st : NULL};
	cp_error_clear(err);
	*c = NULL;
	int r = cp_bundle_read(path, &o, c, err);
	cp_stage_close(&st);
	if (dfd >= 0)
		close(dfd);
	return r;
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
	assert_int_equal(c->n_files, version >= 2 ? 8 : 7); /* digests.json */
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
	char p[700];
	snprintf(p, sizeof(p), "%s/core", stage_dir);
	assert_int_equal(lstat(p, &s), 0);
	assert_int_equal(s.st_size, (3 << 20) + 4);
	assert_true(s.st_blocks * 512 < 1 << 20); /* the hole stayed a hole */
	assert_int_equal(s.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s/sysroot/usr/bin/app", stage_dir);
	assert_int_equal(lstat(p, &s), 0);
	assert_int_equal(s.st_mode & 0111, 0111);
	snprintf(p, sizeof(p), "%s/sysroot/bin", stage_dir);
	assert_int_equal(lstat(p, &s), 0);
	assert_true(S_ISLNK(s.st_mode));
	snprintf(p, sizeof(p), "%s/digests.json", stage_dir);
	assert_int_equal(access(p, F_OK), version >= 2 ? 0 : -1);
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
	 * reverse: refused, listing too, never digested the other way (the
	 * holes could be a terabyte of zeros). */
	struct aentry es[N_GOOD];
	memcpy(es, good, sizeof(es));
	es[0].other = 1;
	for (int extract = 0; extract < 2; extract++)
		assert_read_fails(es, N_GOOD, NULL, exe_objects, extract, EINVAL,
		                  "'core' is stored with holes, but the manifest digests it as "
		                  "sha256");
	memcpy(es, good, sizeof(es));
	es[4].other = 1;
	assert_read_fails(es, N_GOOD, NULL, exe_objects, 1, EINVAL,
	                  "'debug/.build-id/ab/cdef.debug' is stored without holes, but the "
	                  "manifest digests it as sparse_sha256");

	/* Holes in other files are fine, digested sparse. */
	memcpy(es, good, sizeof(es));
	es[1].hole = 70000;
	const char *b = tpath("mixed.tar"), *st = tpath("mixed-staging");
	write_archive(b, es, N_GOOD, NULL, exe_objects);
	assert_int_equal(mkdir(st, 0700), 0);
	struct cp_bundle_contents *c;
	struct cp_error err;
	if (read_bundle(b, st, &c, &err) != 0)
		fail_msg("%s", err.msg);
	cp_bundle_contents_free(c);
	es[1].tamper = 1;
	assert_read_fails(es, N_GOOD, NULL, exe_objects, 1, EINVAL,
	                  "'sysroot/usr/bin/app' does not match the manifest: sparse_sha256 ");
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
	assert_non_null(strstr(sh, "file ../../usr/bin/app"));
	free(sh);
	/* The bundle (written by hand) has no
	 * run-lldb.sh: coreunpack writes one. */
	snprintf(p, sizeof(p), "%s/run-lldb.sh", dir);
	sh = slurp(p);
	assert_non_null(strstr(sh, "exe='/usr/bin/app'"));
	assert_non_null(strstr(sh, "dwz_objects=0"));
	assert_non_null(strstr(sh, "exec \"$lldb\" --no-lldbinit"));
	free(sh);
	/* No temporary directory left; digests.json in version 2. */
	assert_int_equal(count_entries(dir), version >= 2 ? 9 : 8);

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
	assert_int_equal(count_entries(dir), version >= 2 ? 8 : 7);
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
	int failed = 0;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_read_list_and_extract, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_manifest_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_sparse_digests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_not_a_bundle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_refused_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unpack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unpack_refused_leaves_nothing, setup, teardown),
	};
	for (version = 1; version <= 2; version++)
		failed += cmocka_run_group_tests_name(version == 1 ? "manifest version 1 (last)"
		                                                   : "manifest version 2 (first)",
		                                      tests, NULL, NULL);
	return failed;
}
