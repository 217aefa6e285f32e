/*
 * The bundle writer, checked from the outside: bundles are read back with
 * libarchive's reader and extracted with GNU tar (and bsdtar when present),
 * sparse files must come out sparse, digests must equal sha256sum's, and
 * every refusal and failure (existing output, missing directory, abort,
 * cancel, a file shrinking under us, a full device) must leave no
 * temporary file behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "test_skip.h"

#include "corepack/bundle_write.h"
#include "corepack/digest.h"
#include "corepack/io.h"
#include "corepack/sha256.h"

#define MIB (1024 * 1024)
#define SPARSE_SIZE (64 * MIB)

/* Per-test scratch directory, removed afterwards. */
struct scratch {
	char dir[64];
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	strcpy(s->dir, "/tmp/cp-test-bundle.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scratch *s = *state;
	nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(s);
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void pwrite_random(int fd, off_t off, size_t len, uint64_t seed)
{
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	fill_random(buf, len, seed);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	free(buf);
}

/* 64 MiB logical: a hole, 100000 bytes at 4 MiB, a hole, 5000 bytes at
 * 40 MiB + 123, and a hole to the end. */
static void make_sparse(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SPARSE_SIZE), 0);
	pwrite_random(fd, 4 * MIB, 100000, 1);
	pwrite_random(fd, 40 * MIB + 123, 5000, 2);
	assert_int_equal(close(fd), 0);
}

static int file_has_holes(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size / 4;
}

static uint8_t *read_whole(const char *path, size_t *len)
{
	char *text;
	assert_int_equal(cp_read_file_capped(path, 1u << 30, &text, len, NULL), 0);
	return (uint8_t *)text;
}

static void sha256sum_of(const char *path, char hex[65])
{
	char cmd[512], line[256];
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	memcpy(hex, line, 64);
	hex[64] = '\0';
}

/* Runs ARGV with output discarded; returns the exit status. */
static int run(char *const argv[])
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int have_program(const char *name)
{
	char *argv[] = {(char *)name, "--version", NULL};
	return run(argv) == 0;
}

/* Names in DIR, other than . and .. */
static size_t count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* ------------------------------------------------------------------ */
/* Reading a bundle back with libarchive */

struct rd_entry {
	char *name;
	unsigned type, perm;
	int64_t size;
	char *link;
	uint8_t *data;
	int sparse_count;
	int64_t uid, gid;
	char *uname, *gname;
	time_t mtime;
};

struct rd_bundle {
	struct rd_entry *e;
	size_t n;
	int filter;
};

static char *xstrdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void read_bundle(const char *path, struct rd_bundle *b)
{
	struct archive *a = archive_read_new();
	assert_non_null(a);
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_filter_all(a), ARCHIVE_OK);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
		fail_msg("cannot read %s: %s", path, archive_error_string(a));

	memset(b, 0, sizeof(*b));
	struct archive_entry *ae;
	int r;
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		b->e = realloc(b->e, (b->n + 1) * sizeof(*b->e));
		assert_non_null(b->e);
		struct rd_entry *e = &b->e[b->n++];
		memset(e, 0, sizeof(*e));
		e->name = strdup(archive_entry_pathname(ae));
		e->type = archive_entry_filetype(ae);
		e->perm = archive_entry_perm(ae);
		e->size = archive_entry_size(ae);
		e->link = xstrdup_or_null(archive_entry_symlink(ae));
		e->sparse_count = archive_entry_sparse_count(ae);
		e->uid = archive_entry_uid(ae);
		e->gid = archive_entry_gid(ae);
		e->uname = xstrdup_or_null(archive_entry_uname(ae));
		e->gname = xstrdup_or_null(archive_entry_gname(ae));
		e->mtime = archive_entry_mtime(ae);
		if (e->type == AE_IFREG) {
			e->data = malloc((size_t)e->size + 1);
			assert_non_null(e->data);
			int64_t got = 0;
			for (;;) {
				la_ssize_t n = archive_read_data(a, e->data + got,
				                                 (size_t)(e->size - got) + 1);
				if (n < 0)
					fail_msg("reading %s: %s", e->name,
					         archive_error_string(a));
				if (n == 0)
					break;
				got += n;
				assert_true(got <= e->size);
			}
			assert_int_equal(got, e->size);
		}
	}
	if (r != ARCHIVE_EOF)
		fail_msg("reading %s: %s", path, archive_error_string(a));
	b->filter = archive_filter_code(a, 0);
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

static void free_bundle(struct rd_bundle *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->e[i].name);
		free(b->e[i].link);
		free(b->e[i].data);
		free(b->e[i].uname);
		free(b->e[i].gname);
	}
	free(b->e);
}

/* The entry called NAME, with or without the trailing slash libarchive
 * gives directories. */
static const struct rd_entry *find(const struct rd_bundle *b, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < b->n; i++) {
		const char *n = b->e[i].name;
		if (strncmp(n, name, len) == 0 &&
		    (n[len] == '\0' || (n[len] == '/' && !n[len + 1])))
			return &b->e[i];
	}
	fail_msg("no entry '%s' in the bundle", name);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* A standard bundle: every entry kind */

#define PROG_SIZE (3 * MIB + 12345)
static const char manifest[] = "{\"format\": 1}\n";
static const char script[] = "#!/bin/sh\nexec gdb \"$@\"\n";

struct fixture {
	char *prog, *sparse, *hole_only, *empty;
	struct cp_file_digest d_prog, d_sparse, d_hole_only, d_empty;
};

static void make_sources(const char *dir, struct fixture *f)
{
	f->prog = path_in(dir, "prog");
	f->sparse = path_in(dir, "core");
	f->hole_only = path_in(dir, "holes");
	f->empty = path_in(dir, "empty");

	uint8_t *buf = malloc(PROG_SIZE);
	assert_non_null(buf);
	fill_random(buf, PROG_SIZE, 3);
	write_file(f->prog, buf, PROG_SIZE);
	free(buf);
	struct timeval tv[2] = {{1600000000, 0}, {1600000000, 0}};
	assert_int_equal(utimes(f->prog, tv), 0);

	make_sparse(f->sparse);

	int fd = open(f->hole_only, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 10 * MIB), 0);
	close(fd);

	write_file(f->empty, "", 0);
}

static void free_sources(struct fixture *f)
{
	free(f->prog);
	free(f->sparse);
	free(f->hole_only);
	free(f->empty);
}

static void write_standard(const char *output, struct fixture *f, const struct cp_bundle_opts *opts)
{
	struct cp_bundle_writer *w = NULL;
	struct cp_error err = {0};

#define OK(call)                                                                                   \
	do {                                                                                       \
		if ((call) != 0)                                                                   \
			fail_msg("%s: %s", #call, err.msg);                                        \
	} while (0)

	OK(cp_bundle_writer_open(output, "core.123", opts, &w, &err));
	assert_non_null(w);
	OK(cp_bundle_add_dir(w, ".", &err));
	OK(cp_bundle_add_dir(w, "sysroot", &err));
	OK(cp_bundle_add_dir(w, "sysroot/usr", &err));
	OK(cp_bundle_add_dir(w, "sysroot/usr/bin", &err));
	OK(cp_bundle_add_symlink(w, "sysroot/bin", "usr/bin", &err));
	OK(cp_bundle_add_symlink(w, "sysroot/usr/bin/alias", "../../usr/bin/prog", &err));
	OK(cp_bundle_add_buffer(w, "manifest.json", manifest, strlen(manifest), 0644, &err));
	OK(cp_bundle_add_buffer(w, "run-gdb.sh", script, strlen(script), 0755, &err));
	OK(cp_bundle_add_buffer(w, "empty-buffer", "", 0, 0644, &err));
	OK(cp_bundle_add_file(w, "sysroot/usr/bin/prog", f->prog, 0755, &f->d_prog, &err));
	OK(cp_bundle_add_file(w, "core", f->sparse, 0644, &f->d_sparse, &err));
	OK(cp_bundle_add_file(w, "holes", f->hole_only, 0644, &f->d_hole_only, &err));
	OK(cp_bundle_add_file(w, "empty", f->empty, 0644, &f->d_empty, &err));
	OK(cp_bundle_writer_commit(w, &err));
#undef OK
}

static void assert_file_entry(const struct rd_bundle *b, const char *name, const char *source,
                              unsigned perm)
{
	const struct rd_entry *e = find(b, name);
	assert_int_equal(e->type, AE_IFREG);
	assert_int_equal(e->perm, perm);
	size_t len;
	uint8_t *want = read_whole(source, &len);
	assert_int_equal(e->size, (int64_t)len);
	assert_memory_equal(e->data, want, len);
	free(want);
}

static void check_standard(const char *output, const struct fixture *f, int want_filter)
{
	struct rd_bundle b;
	read_bundle(output, &b);
	assert_int_equal(b.filter, want_filter);
	assert_int_equal(b.n, 13);

	for (size_t i = 0; i < b.n; i++) {
		assert_true(strncmp(b.e[i].name, "core.123/", 9) == 0);
		assert_int_equal(b.e[i].uid, 0);
		assert_int_equal(b.e[i].gid, 0);
		assert_string_equal(b.e[i].uname, "root");
		assert_string_equal(b.e[i].gname, "root");
	}

	const char *dirs[] = {"core.123", "core.123/sysroot", "core.123/sysroot/usr",
	                      "core.123/sysroot/usr/bin"};
	for (size_t i = 0; i < 4; i++) {
		const struct rd_entry *e = find(&b, dirs[i]);
		assert_int_equal(e->type, AE_IFDIR);
		assert_int_equal(e->perm, 0755);
	}

	const struct rd_entry *e = find(&b, "core.123/sysroot/bin");
	assert_int_equal(e->type, AE_IFLNK);
	assert_int_equal(e->perm, 0777);
	assert_string_equal(e->link, "usr/bin");
	e = find(&b, "core.123/sysroot/usr/bin/alias");
	assert_int_equal(e->type, AE_IFLNK);
	assert_string_equal(e->link, "../../usr/bin/prog");

	e = find(&b, "core.123/manifest.json");
	assert_int_equal(e->type, AE_IFREG);
	assert_int_equal(e->perm, 0644);
	assert_int_equal(e->size, strlen(manifest));
	assert_memory_equal(e->data, manifest, strlen(manifest));
	e = find(&b, "core.123/run-gdb.sh");
	assert_int_equal(e->perm, 0755);
	assert_memory_equal(e->data, script, strlen(script));
	e = find(&b, "core.123/empty-buffer");
	assert_int_equal(e->size, 0);

	assert_file_entry(&b, "core.123/sysroot/usr/bin/prog", f->prog, 0755);
	assert_int_equal(find(&b, "core.123/sysroot/usr/bin/prog")->mtime, 1600000000);
	assert_int_equal(find(&b, "core.123/sysroot/usr/bin/prog")->sparse_count, 0);
	assert_file_entry(&b, "core.123/core", f->sparse, 0644);
	assert_file_entry(&b, "core.123/holes", f->hole_only, 0644);
	assert_file_entry(&b, "core.123/empty", f->empty, 0644);
	if (file_has_holes(f->sparse)) {
		assert_true(find(&b, "core.123/core")->sparse_count > 0);
		assert_true(find(&b, "core.123/holes")->sparse_count > 0);
	}
	free_bundle(&b);
}

static void check_digest(const char *path, const struct cp_file_digest *d)
{
	char want[65], got[65];
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(d->size, (uint64_t)st.st_size);
	assert_true(d->data_size <= d->size);
	/* A file with holes carries the sparse digest (digest.h), which
	 * cp_digest_file computes independently of the writer; the others
	 * carry plain SHA-256, as sha256sum prints it. */
	assert_int_equal(d->sparse, d->data_size < d->size);
	if (d->sparse) {
		uint8_t ref[32];
		uint64_t size;
		assert_int_equal(cp_digest_file(path, 1, ref, &size, NULL), 0);
		cp_hex(ref, 32, want);
	} else {
		sha256sum_of(path, want);
	}
	cp_hex(d->sha256, 32, got);
	assert_string_equal(got, want);
}

/* ------------------------------------------------------------------ */

static void test_names(void **state)
{
	enum cp_compression c;

	assert_int_equal(cp_compression_from_name("a/core.1.tar.zst", &c), 0);
	assert_int_equal(c, CP_COMPRESS_ZSTD);
	assert_int_equal(cp_compression_from_name("x.tar.xz", &c), 0);
	assert_int_equal(c, CP_COMPRESS_XZ);
	assert_int_equal(cp_compression_from_name("x.tar.gz", &c), 0);
	assert_int_equal(c, CP_COMPRESS_GZIP);
	assert_int_equal(cp_compression_from_name("x.tgz", &c), 0);
	assert_int_equal(c, CP_COMPRESS_GZIP);
	assert_int_equal(cp_compression_from_name("x.tar", &c), 0);
	assert_int_equal(c, CP_COMPRESS_NONE);
	c = CP_COMPRESS_XZ;
	assert_int_equal(cp_compression_from_name("x.zip", &c), -EINVAL);
	assert_int_equal(cp_compression_from_name("x.zst", &c), -EINVAL);
	assert_int_equal(cp_compression_from_name("/dev/full", &c), -EINVAL);
	assert_int_equal(c, CP_COMPRESS_XZ);

	const char *cases[][2] = {
	    {"core.123.tar.zst", "core.123"}, {"/tmp/out/b.tar.xz", "b"}, {"dir/x.tgz", "x"},
	    {"plain.tar", "plain"},           {"/dev/full", "full"},      {"a.tar.gz", "a"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *top = cp_bundle_top_from_name(cases[i][0]);
		assert_non_null(top);
		assert_string_equal(top, cases[i][1]);
		free(top);
	}
}

static void test_roundtrip_every_compression(void **state)
{
	struct scratch *s = *state;
	static const struct {
		const char *name;
		int filter;
		int level, level_set;
	} outs[] = {
	    {"b.tar.zst", ARCHIVE_FILTER_ZSTD, 0, 0}, {"b3.tar.zst", ARCHIVE_FILTER_ZSTD, 3, 1},
	    {"b.tar.xz", ARCHIVE_FILTER_XZ, 1, 1},    {"b0.tar.xz", ARCHIVE_FILTER_XZ, 0, 1},
	    {"b.tar.gz", ARCHIVE_FILTER_GZIP, 0, 0},  {"b9.tgz", ARCHIVE_FILTER_GZIP, 9, 1},
	    {"b.tar", ARCHIVE_FILTER_NONE, 0, 0},
	};
	struct fixture f = {0};
	make_sources(s->dir, &f);

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		char *out = path_in(s->dir, outs[i].name);
		struct cp_bundle_opts opts = {
		    .level = outs[i].level, .level_set = outs[i].level_set, .threads = 2};
		write_standard(out, &f, &opts);
		check_standard(out, &f, outs[i].filter);
		check_digest(f.prog, &f.d_prog);
		check_digest(f.sparse, &f.d_sparse);
		check_digest(f.hole_only, &f.d_hole_only);
		check_digest(f.empty, &f.d_empty);
		assert_int_equal(f.d_prog.data_size, PROG_SIZE);
		if (file_has_holes(f.sparse)) {
			assert_true(f.d_sparse.data_size < 1 * MIB);
			assert_int_equal(f.d_hole_only.data_size, 1);
		}

		/* The sparse core is stored as its data, not 64 MiB. */
		struct stat st;
		assert_int_equal(stat(out, &st), 0);
		assert_true(st.st_size < 8 * MIB);
		assert_int_equal(st.st_mode & 07777, 0600);
		free(out);
	}
	/* Only the bundles and the sources: no temporary file survived. */
	assert_int_equal(count_dir(s->dir), 4 + sizeof(outs) / sizeof(outs[0]));
	free_sources(&f);
}

static void compare_extracted(const char *root, const struct fixture *f)
{
	char *p;
	struct stat st;
	size_t a_len, b_len;

	p = path_in(root, "core.123/core");
	uint8_t *a = read_whole(p, &a_len), *b = read_whole(f->sparse, &b_len);
	assert_int_equal(a_len, b_len);
	assert_memory_equal(a, b, a_len);
	free(a);
	free(b);
	if (file_has_holes(f->sparse)) {
		assert_int_equal(stat(p, &st), 0);
		/* 64 MiB with about 105 kB of data: extracted sparse. */
		assert_true((uint64_t)st.st_blocks * 512 < 4 * MIB);
	}
	free(p);

	p = path_in(root, "core.123/holes");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 10 * MIB);
	assert_true((uint64_t)st.st_blocks * 512 < 1 * MIB);
	free(p);

	p = path_in(root, "core.123/sysroot/usr/bin/prog");
	a = read_whole(p, &a_len);
	b = read_whole(f->prog, &b_len);
	assert_int_equal(a_len, b_len);
	assert_memory_equal(a, b, a_len);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	free(a);
	free(b);
	free(p);

	/* Through the symlinks: sysroot/bin -> usr/bin, alias -> prog. */
	p = path_in(root, "core.123/sysroot/bin/alias");
	a = read_whole(p, &a_len);
	assert_int_equal(a_len, PROG_SIZE);
	free(a);
	free(p);
	char target[64];
	p = path_in(root, "core.123/sysroot/bin");
	ssize_t n = readlink(p, target, sizeof(target) - 1);
	assert_int_equal(n, 7);
	target[n] = '\0';
	assert_string_equal(target, "usr/bin");
	free(p);

	p = path_in(root, "core.123/run-gdb.sh");
	a = read_whole(p, &a_len);
	assert_int_equal(a_len, strlen(script));
	assert_memory_equal(a, script, a_len);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	free(a);
	free(p);
}

static void test_extract_with_tar(void **state)
{
	struct scratch *s = *state;
	struct fixture f = {0};
	make_sources(s->dir, &f);
	char *out = path_in(s->dir, "b.tar.zst");
	struct cp_bundle_opts opts = {.level = 3, .level_set = 1, .threads = 2};
	write_standard(out, &f, &opts);

	if (!have_program("tar"))
		cp_test_skip("no tar program to read the bundle back");
	char *gnu = path_in(s->dir, "gnu");
	assert_int_equal(mkdir(gnu, 0755), 0);
	char *tar_argv[] = {"tar", "--zstd", "-xf", out, "-C", gnu, NULL};
	assert_int_equal(run(tar_argv), 0);
	compare_extracted(gnu, &f);

	if (have_program("bsdtar")) {
		char *bsd = path_in(s->dir, "bsd");
		assert_int_equal(mkdir(bsd, 0755), 0);
		char *bsd_argv[] = {"bsdtar", "-xf", out, "-C", bsd, NULL};
		assert_int_equal(run(bsd_argv), 0);
		compare_extracted(bsd, &f);
		free(bsd);
	}
	free(gnu);
	free(out);
	free_sources(&f);
}

/* Names longer than ustar's 100 bytes, and bytes that are not UTF-8. */
static void test_long_and_binary_names(void **state)
{
	struct scratch *s = *state;
	char *out = path_in(s->dir, "n.tar.gz");
	struct cp_bundle_writer *w;
	struct cp_error err = {0};
	char long_name[400];
	memset(long_name, 'x', sizeof(long_name));
	for (size_t i = 50; i < sizeof(long_name) - 1; i += 51)
		long_name[i] = '/';
	long_name[sizeof(long_name) - 1] = '\0';
	const char *odd = "lib/caf\xc3\xa9-\xff\xfe.so";

	assert_int_equal(cp_bundle_writer_open(out, "t", NULL, &w, &err), 0);
	assert_int_equal(cp_bundle_add_buffer(w, long_name, "L", 1, 0644, &err), 0);
	assert_int_equal(cp_bundle_add_buffer(w, odd, "O", 1, 0644, &err), 0);
	assert_int_equal(cp_bundle_add_symlink(w, "lib/link", "caf\xc3\xa9-\xff\xfe.so", &err), 0);
	assert_int_equal(cp_bundle_writer_commit(w, &err), 0);

	struct rd_bundle b;
	read_bundle(out, &b);
	assert_int_equal(b.n, 3);
	char want[512];
	snprintf(want, sizeof(want), "t/%s", long_name);
	assert_memory_equal(find(&b, want)->data, "L", 1);
	snprintf(want, sizeof(want), "t/%s", odd);
	assert_memory_equal(find(&b, want)->data, "O", 1);
	assert_string_equal(find(&b, "t/lib/link")->link, "caf\xc3\xa9-\xff\xfe.so");
	free_bundle(&b);

	if (have_program("tar")) {
		char *x = path_in(s->dir, "x");
		assert_int_equal(mkdir(x, 0755), 0);
		char *tar_argv[] = {"tar", "-xf", out, "-C", x, NULL};
		assert_int_equal(run(tar_argv), 0);
		char *p;
		assert_true(asprintf(&p, "%s/t/%s", x, odd) > 0);
		struct stat st;
		assert_int_equal(stat(p, &st), 0);
		free(p);
		assert_true(asprintf(&p, "%s/t/%s", x, long_name) > 0);
		assert_int_equal(stat(p, &st), 0);
		free(p);
		free(x);
	}
	free(out);
}

static void test_refuses_existing_output(void **state)
{
	struct scratch *s = *state;
	char *out = path_in(s->dir, "b.tar.zst");
	write_file(out, "precious", 8);
	struct cp_bundle_writer *w = (struct cp_bundle_writer *)0x1;
	struct cp_error err = {0};

	assert_int_equal(cp_bundle_writer_open(out, "t", NULL, &w, &err), -EEXIST);
	assert_ptr_equal(w, (struct cp_bundle_writer *)0x1);
	assert_int_equal(err.code, EEXIST);
	assert_non_null(strstr(err.msg, out));
	size_t len;
	uint8_t *data = read_whole(out, &len);
	assert_int_equal(len, 8);
	free(data);
	assert_int_equal(count_dir(s->dir), 1);

	/* With force it is replaced. */
	struct cp_bundle_opts opts = {.force = 1};
	cp_error_clear(&err);
	assert_int_equal(cp_bundle_writer_open(out, "t", &opts, &w, &err), 0);
	assert_int_equal(cp_bundle_add_buffer(w, "f", "new", 3, 0644, &err), 0);
	assert_int_equal(cp_bundle_writer_commit(w, &err), 0);
	struct rd_bundle b;
	read_bundle(out, &b);
	assert_int_equal(b.n, 1);
	assert_memory_equal(find(&b, "t/f")->data, "new", 3);
	free_bundle(&b);
	assert_int_equal(count_dir(s->dir), 1);

	/* A directory is no output, even with force. */
	char *dir = path_in(s->dir, "d.tar");
	assert_int_equal(mkdir(dir, 0755), 0);
	cp_error_clear(&err);
	assert_int_equal(cp_bundle_writer_open(dir, "t", &opts, &w, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	free(dir);
	free(out);
}

/* The output appears between open and commit: without force it stays. */
static void test_commit_does_not_replace_new_output(void **state)
{
	struct scratch *s = *state;
	char *out = path_in(s->dir, "b.tar.xz");
	struct cp_bundle_writer *w;
	struct cp_error err = {0};

	assert_int_equal(cp_bundle_writer_open(out, "t", NULL, &w, &err), 0);
	assert_int_equal(cp_bundle_add_buffer(w, "f", "data", 4, 0644, &err), 0);
	write_file(out, "someone else's", 14);
	assert_int_equal(cp_bundle_writer_commit(w, &err), -EEXIST);
	assert_non_null(strstr(err.msg, out));
	size_t len;
	uint8_t *data = read_whole(out, &len);
	assert_int_equal(len, 14);
	free(data);
	assert_int_equal(count_dir(s->dir), 1);

	/* With force, the newcomer is replaced. */
	struct cp_bundle_opts opts = {.force = 1};
	unlink(out);
	assert_int_equal(cp_bundle_writer_open(out, "t", &opts, &w, &err), 0);
	assert_int_equal(cp_bundle_add_buffer(w, "f", "data", 4, 0644, &err), 0);
	write_file(out, "someone else's", 14);
	assert_int_equal(cp_bundle_writer_commit(w, &err), 0);
	struct rd_bundle b;
	read_bundle(out, &b);
	assert_int_equal(b.n, 1);
	free_bundle(&b);
	assert_int_equal(count_dir(s->dir), 1);
	free(out);
}

static void test_missing_directory(void **state)
{
	struct scratch *s = *state;
	struct cp_bundle_writer *w = NULL;
	struct cp_error err = {0};

	char *out = path_in(s->dir, "nodir/b.tar.zst");
	assert_int_equal(cp_bundle_writer_open(out, "t", NULL, &w, &err), -ENOENT);
	assert_null(w);
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "nodir'"));
	free(out);

	char *file = path_in(s->dir, "file");
	write_file(file, "x", 1);
	out = path_in(s->dir, "file/b.tar.zst");
	cp_error_clear(&err);
	assert_int_equal(cp_bundle_writer_open(out, "t", NULL, &w, &err), -ENOTDIR);
	assert_non_null(strstr(err.msg, file));
	free(out);
	free(file);

	out = path_in(s->dir, "b.zip");
	cp_error_clear(&err);
	assert_int_equal(cp_bundle_writer_open(out, "t", NULL, &w, &err), -EINVAL);
	assert_non_null(strstr(err.msg, ".tar.zst"));
	free(out);
	assert_null(w);
	assert_int_equal(count_dir(s->dir), 1);
}

static void test_abort_leaves_nothing(void **state)
{
	struct scratch *s = *state;
	char *out = path_in(s->dir, "b.tar.zst");
	struct cp_bundle_writer *w;
	struct cp_error err = {0};

	assert_int_equal(cp_bundle_writer_open(out, "t", NULL, &w, &err), 0);
	/* The temporary file lives beside the output while writing: unnamed
	 * (O_TMPFILE) where the filesystem allows, else a hidden name. */
	assert_true(count_dir(s->dir) <= 1);
	assert_int_equal(cp_bundle_add_dir(w, "d", &err), 0);
	assert_int_equal(cp_bundle_add_buffer(w, "d/f", "abc", 3, 0644, &err), 0);
	cp_bundle_writer_abort(w);
	assert_int_equal(count_dir(s->dir), 0);
	cp_bundle_writer_abort(NULL);
	free(out);
}

static void test_invalid_entries(void **state)
{
	struct scratch *s = *state;
	char *out = path_in(s->dir, "b.tar");
	struct cp_bundle_writer *w;
	struct cp_error err = {0};

	assert_int_equal(cp_bundle_writer_open(out, "..", NULL, &w, &err), -EINVAL);
	assert_int_equal(cp_bundle_writer_open(out, "a/b", NULL, &w, &err), -EINVAL);
	assert_int_equal(cp_bundle_writer_open(out, "", NULL, &w, &err), -EINVAL);

	assert_int_equal(cp_bundle_writer_open(out, "t", NULL, &w, &err), 0);
	const char *bad[] = {"",     "/etc/passwd", "..", "../x", "a/../../x",
	                     "a/..", "a//b",        "a/", "./a",  "a/./b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cp_error_clear(&err);
		assert_int_equal(cp_bundle_add_buffer(w, bad[i], "x", 1, 0644, &err), -EINVAL);
		assert_int_equal(cp_bundle_add_dir(w, bad[i], &err), -EINVAL);
		assert_int_equal(cp_bundle_add_symlink(w, bad[i], "x", &err), -EINVAL);
		assert_int_equal(cp_bundle_add_file(w, bad[i], "/bin/true", 0644, NULL, &err),
		                 -EINVAL);
	}
	const char *bad_targets[][2] = {
	    {"a", "/usr/lib"}, {"a", ""}, {"a", ".."}, {"d/a", "../.."}, {"d/a", "x/../../.."},
	};
	for (size_t i = 0; i < sizeof(bad_targets) / sizeof(bad_targets[0]); i++)
		assert_int_equal(
		    cp_bundle_add_symlink(w, bad_targets[i][0], bad_targets[i][1], &err), -EINVAL);
	assert_int_equal(cp_bundle_add_symlink(w, "d/a", "..", &err), 0);
	assert_int_equal(cp_bundle_add_symlink(w, "d/e/a", "../../x/../y", &err), 0);

	/* Unpackable sources fail the call but not the bundle. */
	cp_error_clear(&err);
	assert_int_equal(cp_bundle_add_file(w, "x", "/nonexistent/file", 0644, NULL, &err),
	                 -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/file"));
	cp_error_clear(&err);
	assert_int_equal(cp_bundle_add_file(w, "x", s->dir, 0644, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(cp_bundle_add_buffer(w, "ok", "fine", 4, 0644, &err), 0);
	assert_int_equal(cp_bundle_writer_commit(w, &err), 0);

	struct rd_bundle b;
	read_bundle(out, &b);
	assert_int_equal(b.n, 3);
	free_bundle(&b);
	free(out);
}

struct cancel_ctx {
	volatile sig_atomic_t flag;
	const char *truncate_path;
	off_t truncate_to;
	int calls;
	uint64_t last_done;
};

static void progress_cb(void *p, uint64_t done, uint64_t total)
{
	struct cancel_ctx *c = p;
	assert_true(done >= c->last_done);
	c->last_done = done;
	c->calls++;
	if (c->truncate_path)
		assert_int_equal(truncate(c->truncate_path, c->truncate_to), 0);
	else
		c->flag = 1;
}

static void test_cancel(void **state)
{
	struct scratch *s = *state;
	char *src = path_in(s->dir, "src");
	uint8_t *buf = malloc(8 * MIB);
	assert_non_null(buf);
	fill_random(buf, 8 * MIB, 4);
	write_file(src, buf, 8 * MIB);
	free(buf);

	char *out = path_in(s->dir, "b.tar.zst");
	struct cancel_ctx c = {0};
	struct cp_bundle_opts opts = {
	    .cancel = &c.flag, .progress = progress_cb, .progress_ctx = &c};
	struct cp_bundle_writer *w;
	struct cp_error err = {0};
	struct cp_file_digest d = {.size = 42};

	assert_int_equal(cp_bundle_writer_open(out, "t", &opts, &w, &err), 0);
	assert_int_equal(cp_bundle_add_file(w, "src", src, 0644, &d, &err), -EINTR);
	assert_string_equal(err.msg, "interrupted");
	assert_int_equal(d.size, 42);
	assert_int_equal(c.calls, 1);
	/* The archive is unusable now; so is committing it. */
	assert_int_equal(cp_bundle_add_buffer(w, "x", "x", 1, 0644, &err), -EIO);
	assert_true(cp_bundle_writer_commit(w, &err) < 0);
	assert_int_equal(count_dir(s->dir), 1);
	free(out);
	free(src);
}

static void test_file_shrinks(void **state)
{
	struct scratch *s = *state;
	char *src = path_in(s->dir, "src");
	uint8_t *buf = malloc(4 * MIB);
	assert_non_null(buf);
	fill_random(buf, 4 * MIB, 5);
	write_file(src, buf, 4 * MIB);
	free(buf);
	char *out = path_in(s->dir, "b.tar.zst");

	/* Cut short while its data is being read. */
	struct cancel_ctx c = {.truncate_path = src, .truncate_to = MIB + 10};
	struct cp_bundle_opts opts = {.progress = progress_cb, .progress_ctx = &c};
	struct cp_bundle_writer *w;
	struct cp_error err = {0};
	assert_int_equal(cp_bundle_writer_open(out, "t", &opts, &w, &err), 0);
	assert_int_equal(cp_bundle_add_file(w, "src", src, 0644, NULL, &err), -EIO);
	assert_non_null(strstr(err.msg, src));
	assert_non_null(strstr(err.msg, "shrank"));
	assert_true(cp_bundle_writer_commit(w, &err) < 0);
	assert_int_equal(count_dir(s->dir), 1);

	/* Cut short inside a trailing hole, where nothing is read. */
	int fd = open(src, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 * MIB), 0);
	pwrite_random(fd, 0, MIB, 6);
	close(fd);
	if (!file_has_holes(src)) {
		free(out);
		free(src);
		cp_test_skip("this filesystem keeps no holes");
	}
	c = (struct cancel_ctx){.truncate_path = src, .truncate_to = 2 * MIB};
	cp_error_clear(&err);
	assert_int_equal(cp_bundle_writer_open(out, "t", &opts, &w, &err), 0);
	assert_int_equal(cp_bundle_add_file(w, "src", src, 0644, NULL, &err), -EIO);
	assert_non_null(strstr(err.msg, "shrank"));
	cp_bundle_writer_abort(w);
	assert_int_equal(count_dir(s->dir), 1);
	free(out);
	free(src);
}

static void count_calls(void *p, uint64_t done, uint64_t total)
{
	struct cancel_ctx *c = p;
	assert_true(done >= c->last_done);
	assert_int_equal(total, 12345);
	c->last_done = done;
	c->calls++;
}

/* Progress at most about 5 times a second, sparse files added without a
 * digest. */
static void test_progress_rate_limited(void **state)
{
	struct scratch *s = *state;
	char *src = path_in(s->dir, "src");
	make_sparse(src);
	char *out = path_in(s->dir, "b.tar");
	struct cancel_ctx c = {0};
	struct cp_bundle_opts opts = {
	    .progress = count_calls, .progress_ctx = &c, .progress_total = 12345};
	struct cp_bundle_writer *w;
	struct cp_error err = {0};

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cp_bundle_writer_open(out, "t", &opts, &w, &err), 0);
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(cp_bundle_add_file(w, name, src, 0644, NULL, &err), 0);
	}
	assert_int_equal(cp_bundle_writer_commit(w, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	assert_true(c.calls >= 1);
	assert_true(c.calls <= 1 + (int)(secs * 5) + 1);
	assert_true(c.last_done <= 4ULL * SPARSE_SIZE);

	/* Without a digest nothing is hashed, and the content is the same. */
	struct rd_bundle b;
	read_bundle(out, &b);
	assert_int_equal(b.n, 4);
	size_t len;
	uint8_t *want = read_whole(src, &len);
	for (size_t i = 0; i < b.n; i++) {
		assert_int_equal(b.e[i].size, (int64_t)len);
		assert_memory_equal(b.e[i].data, want, len);
	}
	free(want);
	free_bundle(&b);
	free(out);
	free(src);
}

static void test_dev_full(void **state)
{
	struct stat st;
	if (stat("/dev/full", &st) < 0 || !S_ISCHR(st.st_mode))
		cp_test_skip("no /dev/full character device");
	struct cp_bundle_writer *w = NULL;
	struct cp_error err = {0};

	assert_int_equal(cp_bundle_writer_open("/dev/full", "t", NULL, &w, &err), -EEXIST);

	struct cp_bundle_opts opts = {.force = 1};
	cp_error_clear(&err);
	assert_int_equal(cp_bundle_writer_open("/dev/full", "t", &opts, &w, &err), 0);
	uint8_t *buf = malloc(MIB);
	assert_non_null(buf);
	fill_random(buf, MIB, 7);
	int r = cp_bundle_add_buffer(w, "f", buf, MIB, 0644, &err);
	if (r == 0)
		r = cp_bundle_writer_commit(w, &err);
	else
		cp_bundle_writer_abort(w);
	assert_int_equal(r, -ENOSPC);
	assert_non_null(strstr(err.msg, "/dev/full"));
	free(buf);

	/* The device is still a device. */
	assert_int_equal(stat("/dev/full", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

/* A FIFO output is streamed into, without a temporary file. */
static void test_fifo_output(void **state)
{
	struct scratch *s = *state;
	char *fifo = path_in(s->dir, "pipe");
	char *copy = path_in(s->dir, "copy.tar.zst");
	assert_int_equal(mkfifo(fifo, 0600), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open(fifo, O_RDONLY), out = open(copy, O_WRONLY | O_CREAT, 0600);
		char buf[65536];
		ssize_t n;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		_exit(n < 0 || close(out) < 0);
	}

	struct cp_bundle_opts opts = {.force = 1};
	struct cp_bundle_writer *w;
	struct cp_error err = {0};
	assert_int_equal(cp_bundle_writer_open(fifo, "t", &opts, &w, &err), 0);
	assert_int_equal(cp_bundle_add_buffer(w, "f", "through a pipe", 14, 0644, &err), 0);
	assert_int_equal(cp_bundle_writer_commit(w, &err), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	struct rd_bundle b;
	read_bundle(copy, &b);
	assert_int_equal(b.filter, ARCHIVE_FILTER_ZSTD);
	assert_int_equal(b.n, 1);
	assert_memory_equal(find(&b, "t/f")->data, "through a pipe", 14);
	free_bundle(&b);
	assert_int_equal(count_dir(s->dir), 2);
	free(fifo);
	free(copy);
}

/* Each compression takes its own range of levels; .tar takes none. */
static void test_bad_level(void **state)
{
	struct scratch *s = *state;
	static const struct {
		const char *name;
		int level;
		const char *why;
	} bad[] = {
	    {"b.tar.gz", 42, "gzip's range (1-9)"},
	    {"b.tar.gz", 0, "gzip's range (1-9)"},
	    {"b.tar.zst", 20, "zstd's range (1-19)"},
	    {"b.tar.zst", 0, "zstd's range (1-19)"},
	    {"b.tar.xz", -1, "xz's range (0-9)"},
	    {"b.tar", 1, "none takes no compression level"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = path_in(s->dir, bad[i].name);
		struct cp_bundle_opts opts = {.level = bad[i].level, .level_set = 1};
		struct cp_bundle_writer *w = NULL;
		struct cp_error err = {0};
		assert_int_equal(cp_bundle_writer_open(out, "t", &opts, &w, &err), -EINVAL);
		if (!strstr(err.msg, bad[i].why))
			fail_msg("%s level %d: '%s'", bad[i].name, bad[i].level, err.msg);
		assert_null(w);
		assert_int_equal(count_dir(s->dir), 0);
		free(out);
	}
	int min, max;
	assert_int_equal(cp_compression_levels(CP_COMPRESS_XZ, &min, &max), 0);
	assert_int_equal(min, 0);
	assert_int_equal(max, 9);
	assert_int_equal(cp_compression_levels(CP_COMPRESS_NONE, &min, &max), -EINVAL);
}

/* Entry modes are the caller's, within 0777 and readable by the owner. */
static void test_entry_modes(void **state)
{
	struct scratch *s = *state;
	char *out = path_in(s->dir, "m.tar");
	struct cp_bundle_writer *w = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_bundle_writer_open(out, "t", NULL, &w, &err), 0);
	assert_int_equal(cp_bundle_add_buffer(w, "core", "c", 1, 0600, &err), 0);
	assert_int_equal(cp_bundle_add_buffer(w, "x", "x", 1, 1, &err), -EINVAL);
	assert_int_equal(cp_bundle_add_buffer(w, "y", "y", 1, 04755, &err), -EINVAL);
	assert_int_equal(cp_bundle_add_file(w, "z", "/bin/true", 0, NULL, &err), -EINVAL);
	assert_int_equal(cp_bundle_writer_commit(w, &err), 0);
	struct rd_bundle b = {0};
	read_bundle(out, &b);
	assert_int_equal(b.n, 1);
	assert_int_equal(find(&b, "t/core")->perm, 0600);
	free_bundle(&b);
	free(out);
}

/* A file over 8 GiB (ustar's size field stops there: pax carries the size)
 * with data past 8 GiB: stored sparse, read back with its size and bytes,
 * digested with the sparse digest. */
/* Pages of PATH in the page cache, as a fraction of its pages. */
static double cached_fraction(const char *path)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = ((size_t)st.st_size + page - 1) / page;
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	unsigned char *vec = malloc(n);
	assert_non_null(vec);
	assert_int_equal(mincore(map, (size_t)st.st_size, vec), 0);
	size_t in = 0;
	for (size_t i = 0; i < n; i++)
		in += vec[i] & 1;
	free(vec);
	munmap(map, (size_t)st.st_size);
	close(fd);
	return (double)in / (double)n;
}

/*
 * A large file is packed without filling the page cache: its uncached
 * blocks are read direct, and the bundle is written back and dropped as it
 * grows.  Bytes and digest stay right.  (A tmpfs keeps everything in the
 * cache by nature and some take no O_DIRECT: then only the bytes are
 * checked.)
 */
static void test_large_file_leaves_cache_alone(void **state)
{
	struct scratch *s = *state;
	char *src = path_in(s->dir, "big"), *out = path_in(s->dir, "big.tar");
	const size_t size = 72 * MIB + 4096 + 99;
	uint8_t *data = malloc(size);
	assert_non_null(data);
	fill_random(data, size, 7);
	write_file(src, data, size);
	int fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fdatasync(fd), 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	int direct_ok = 0;
	int dfd = open(src, O_RDONLY | O_DIRECT);
	if (dfd >= 0) {
		void *b = aligned_alloc(4096, 4096);
		direct_ok = b && pread(dfd, b, 4096, 0) == 4096;
		free(b);
		close(dfd);
	}
	close(fd);
	struct statfs sf;
	assert_int_equal(statfs(s->dir, &sf), 0);
	int tmpfs = sf.f_type == 0x01021994; /* TMPFS_MAGIC */

	struct cp_bundle_writer *w = NULL;
	struct cp_error err = {0};
	struct cp_file_digest d;
	if (cp_bundle_writer_open(out, "t", NULL, &w, &err) != 0 ||
	    cp_bundle_add_file(w, "big", src, 0644, &d, &err) != 0 ||
	    cp_bundle_writer_commit(w, &err) != 0)
		fail_msg("%s", err.msg);

	uint8_t want[32];
	struct cp_sha256 sha;
	cp_sha256_init(&sha);
	cp_sha256_update(&sha, data, size);
	cp_sha256_final(&sha, want);
	assert_memory_equal(d.sha256, want, 32);
	assert_false(d.sparse);

	if (tmpfs || !direct_ok) {
		print_message("tmpfs or no O_DIRECT here: page cache use not checked\n");
	} else {
		/* Read without caching the source; the bundle's first chunks
		 * already dropped (all but the last two 8 MiB chunks). */
		assert_true(cached_fraction(src) < 0.10);
		assert_true(cached_fraction(out) < 0.50);
	}

	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_filename(a, out, 65536), ARCHIVE_OK);
	struct archive_entry *e;
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(e), "t/big");
	uint8_t *back = malloc(size);
	assert_non_null(back);
	assert_int_equal(archive_read_data(a, back, size), (la_ssize_t)size);
	assert_memory_equal(back, data, size);
	archive_read_free(a);
	free(back);
	free(data);
	free(src);
	free(out);
}

static void test_file_over_8gib(void **state)
{
	struct scratch *s = *state;
	char *src = path_in(s->dir, "big"), *out = path_in(s->dir, "big.tar.zst");
	const uint64_t size = (9ull << 30) + 77;
	static const uint64_t at[] = {4096, (8ull << 30) + 12345, (9ull << 30) - 5000};
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	for (size_t i = 0; i < 3; i++)
		pwrite_random(fd, (off_t)at[i], 4096, i + 1);
	close(fd);
	if (!file_has_holes(src))
		cp_test_skip("this filesystem keeps no holes: the test file would take 9 GiB");

	struct cp_bundle_writer *w = NULL;
	struct cp_error err = {0};
	struct cp_file_digest d;
#define MUST(call)                                                                                 \
	do {                                                                                       \
		if ((call) != 0)                                                                   \
			fail_msg("%s: %s", #call, err.msg);                                        \
	} while (0)
	MUST(cp_bundle_writer_open(out, "t", NULL, &w, &err));
	MUST(cp_bundle_add_file(w, "core", src, 0644, &d, &err));
	MUST(cp_bundle_writer_commit(w, &err));
	assert_int_equal(d.size, size);
	assert_true(d.sparse);
	uint8_t want[32];
	uint64_t dsize;
	assert_int_equal(cp_digest_file(src, 1, want, &dsize, NULL), 0);
	assert_memory_equal(d.sha256, want, 32);

	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_zstd(a);
	assert_int_equal(archive_read_open_filename(a, out, 65536), ARCHIVE_OK);
	struct archive_entry *e;
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(e), "t/core");
	assert_int_equal((uint64_t)archive_entry_size(e), size);
	int src_fd = open(src, O_RDONLY);
	const void *buf;
	size_t len;
	la_int64_t off;
	uint64_t seen = 0;
	uint8_t *orig = malloc(MIB);
	int r;
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		for (size_t done = 0; done < len;) {
			size_t n = len - done < MIB ? len - done : MIB;
			assert_int_equal(pread(src_fd, orig, n, off + (off_t)done), (ssize_t)n);
			assert_memory_equal((const uint8_t *)buf + done, orig, n);
			done += n;
		}
		for (size_t i = 0; i < 3; i++)
			if (at[i] >= (uint64_t)off && at[i] + 4096 <= (uint64_t)off + len)
				seen++;
	}
	assert_int_equal(r, ARCHIVE_EOF);
	assert_int_equal(seen, 3); /* every data block came back, the last past 8 GiB */
	free(orig);
	close(src_fd);
	archive_read_free(a);
	free(src);
	free(out);
#undef MUST
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_roundtrip_every_compression, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extract_with_tar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_and_binary_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_existing_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_does_not_replace_new_output, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_shrinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_progress_rate_limited, setup, teardown),
	    cmocka_unit_test(test_dev_full),
	    cmocka_unit_test_setup_teardown(test_fifo_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_level, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_over_8gib, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large_file_leaves_cache_alone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
