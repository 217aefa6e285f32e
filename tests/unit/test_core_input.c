/*
 * Unit tests for core_input.c: the compression told by magic numbers; a
 * zstd and a gzip stream (made here with libzstd and zlib) decompressed
 * into the temporary file, byte for byte, with its zero pages as holes and
 * the zstd frame's size known up front; a plain file left alone; standard
 * input from a pipe; and the failures: data cut short, data that is not
 * what its magic says, cancellation.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "corepack/core_input.h"

#define PAGES 64
#define SIZE (PAGES * 4096)

static char dir[] = "/tmp/cp-test-core-input.XXXXXX";
static uint8_t plain[SIZE];

/* Every fourth page has data; the rest are zeros (holes in the copy). */
static void make_plain(void)
{
	memset(plain, 0, sizeof(plain));
	for (size_t p = 0; p < PAGES; p += 4)
		for (size_t i = 0; i < 4096; i++)
			plain[p * 4096 + i] = (uint8_t)(p + i * 13 + 1);
	plain[SIZE - 1] = 0; /* a trailing hole */
}

static char *path_in(const char *name)
{
	static char p[3][256];
	static int k;
	k = (k + 1) % 3;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void write_file(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static size_t zstd_of(uint8_t *out, size_t cap)
{
	size_t n = ZSTD_compress(out, cap, plain, sizeof(plain), 3);
	assert_false(ZSTD_isError(n));
	return n;
}

static size_t gzip_of(uint8_t *out, size_t cap)
{
	z_stream z = {0};
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = plain;
	z.avail_in = sizeof(plain);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	size_t n = z.total_out;
	deflateEnd(&z);
	return n;
}

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	make_plain();
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The decompressed copy is PLAIN, with holes. */
static void check_copy(const struct cp_core_input *in)
{
	static uint8_t got[SIZE];
	struct stat st;
	assert_true(in->fd >= 0);
	assert_int_equal(fstat(in->fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, SIZE);
	assert_int_equal(in->size, SIZE);
	assert_int_equal(in->data_bytes, (PAGES / 4) * 4096);
	assert_int_equal(pread(in->fd, got, SIZE, 0), SIZE);
	assert_memory_equal(got, plain, SIZE);
	/* Holes, where the filesystem keeps them (SEEK_HOLE finds one before
	 * the end): less allocated than the file's size. */
	off_t hole = lseek(in->fd, 0, SEEK_HOLE);
	if (hole >= 0 && hole < SIZE)
		assert_true((uint64_t)st.st_blocks * 512 < (uint64_t)SIZE);
	/* No name left in the directory. */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s' | grep -v '^in\\.')\"", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_detect(void **state)
{
	static const unsigned char zstd[] = {0x28, 0xb5, 0x2f, 0xfd, 0};
	static const unsigned char skippable[] = {0x5e, 0x2a, 0x4d, 0x18, 0};
	static const unsigned char lz4[] = {0x04, 0x22, 0x4d, 0x18, 0};
	static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0};
	static const unsigned char gz[] = {0x1f, 0x8b, 8};
	static const unsigned char elf[] = {0x7f, 'E', 'L', 'F', 2, 1};
	assert_int_equal(cp_core_compression_detect(zstd, sizeof(zstd)), CP_CORE_ZSTD);
	assert_int_equal(cp_core_compression_detect(skippable, sizeof(skippable)), CP_CORE_ZSTD);
	assert_int_equal(cp_core_compression_detect(lz4, sizeof(lz4)), CP_CORE_LZ4);
	assert_int_equal(cp_core_compression_detect(xz, sizeof(xz)), CP_CORE_XZ);
	assert_int_equal(cp_core_compression_detect(xz, 5), CP_CORE_PLAIN);
	assert_int_equal(cp_core_compression_detect(gz, sizeof(gz)), CP_CORE_GZIP);
	assert_int_equal(cp_core_compression_detect(elf, sizeof(elf)), CP_CORE_PLAIN);
	assert_int_equal(cp_core_compression_detect(gz, 1), CP_CORE_PLAIN);
	assert_string_equal(cp_core_compression_name(CP_CORE_ZSTD), "zstd");
	assert_null(cp_core_compression_name(CP_CORE_PLAIN));
}

static void test_zstd_file(void **state)
{
	static uint8_t z[SIZE + 1024];
	size_t n = zstd_of(z, sizeof(z));
	char *p = path_in("in.zst");
	write_file(p, z, n);
	struct cp_core_input *in = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_core_input_open(p, dir, &in, &err), 0);
	assert_int_equal(in->compression, CP_CORE_ZSTD);
	assert_true(in->needs_copy);
	assert_int_equal(in->expected_size, SIZE); /* the frame records it */
	assert_true(in->free_bytes > 0);
	assert_string_equal(in->name, p);
	assert_int_equal(cp_core_input_load(in, NULL, &err), 0);
	check_copy(in);
	cp_core_input_free(in);
}

static void test_gzip_file(void **state)
{
	static uint8_t z[SIZE + 1024];
	size_t n = gzip_of(z, sizeof(z));
	char *p = path_in("in.whatever");
	write_file(p, z, n);
	struct cp_core_input *in = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_core_input_open(p, dir, &in, &err), 0);
	assert_int_equal(in->compression, CP_CORE_GZIP);
	assert_int_equal(in->expected_size, 0);
	assert_int_equal(cp_core_input_load(in, NULL, &err), 0);
	check_copy(in);
	cp_core_input_free(in);
}

static void test_plain_file(void **state)
{
	char *p = path_in("in.plain");
	write_file(p, plain, 4096);
	struct cp_core_input *in = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_core_input_open(p, dir, &in, &err), 0);
	assert_int_equal(in->compression, CP_CORE_PLAIN);
	assert_false(in->needs_copy);
	assert_int_equal(cp_core_input_load(in, NULL, &err), 0);
	assert_int_equal(in->fd, -1); /* the caller opens the path itself */
	cp_core_input_free(in);
	/* Nor is a path that cannot be opened an error here. */
	assert_int_equal(cp_core_input_open(path_in("nonexistent"), dir, &in, &err), 0);
	assert_false(in->needs_copy);
	cp_core_input_free(in);
}

static void test_stdin_pipe(void **state)
{
	static uint8_t z[SIZE + 1024];
	size_t n = gzip_of(z, sizeof(z));
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_true(n < 65536); /* fits in the pipe */
	assert_int_equal(write(p[1], z, n), (ssize_t)n);
	close(p[1]);
	int saved = dup(0);
	assert_int_equal(dup2(p[0], 0), 0);
	close(p[0]);
	struct cp_core_input *in = NULL;
	struct cp_error err = {0};
	int r = cp_core_input_open("-", dir, &in, &err);
	if (r == 0)
		r = cp_core_input_load(in, NULL, &err);
	dup2(saved, 0);
	close(saved);
	assert_int_equal(r, 0);
	assert_string_equal(in->name, "standard input");
	check_copy(in);
	cp_core_input_free(in);
}

static void test_cut_short(void **state)
{
	static uint8_t z[SIZE + 1024];
	size_t n = zstd_of(z, sizeof(z));
	char *p = path_in("in.cut");
	write_file(p, z, n / 2);
	struct cp_core_input *in = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_core_input_open(p, dir, &in, &err), 0);
	assert_int_equal(cp_core_input_load(in, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cannot decompress"));
	assert_non_null(strstr(err.msg, "(zstd)"));
	cp_core_input_free(in);
}

static void test_bad_data(void **state)
{
	static const unsigned char xz_garbage[64] = {0xfd, '7', 'z', 'X', 'Z', 0, 1, 2, 3};
	char *p = path_in("in.xzbad");
	write_file(p, xz_garbage, sizeof(xz_garbage));
	struct cp_core_input *in = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_core_input_open(p, dir, &in, &err), 0);
	assert_int_equal(in->compression, CP_CORE_XZ);
	assert_int_equal(cp_core_input_load(in, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cannot decompress"));
	cp_core_input_free(in);
}

static void test_cancel(void **state)
{
	static uint8_t z[SIZE + 1024];
	size_t n = zstd_of(z, sizeof(z));
	char *p = path_in("in.cancel");
	write_file(p, z, n);
	volatile sig_atomic_t stop = 1;
	struct cp_core_input_opts o = {.cancel = &stop};
	struct cp_core_input *in = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_core_input_open(p, dir, &in, &err), 0);
	assert_int_equal(cp_core_input_load(in, &o, &err), -EINTR);
	assert_int_equal(in->fd, -1);
	cp_core_input_free(in);
}

static void test_no_tmpdir(void **state)
{
	static uint8_t z[SIZE + 1024];
	size_t n = zstd_of(z, sizeof(z));
	char *p = path_in("in.notmp");
	write_file(p, z, n);
	struct cp_core_input *in = NULL;
	struct cp_error err = {0};
	const char *missing = path_in("no/such/dir");
	assert_int_equal(cp_core_input_open(p, missing, &in, &err), 0);
	assert_int_equal(cp_core_input_load(in, NULL, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot create a temporary file in"));
	cp_core_input_free(in);
}

/* A zstd frame header that claims 2 TiB: refused before any work. */
static void test_too_big(void **state)
{
	static const unsigned char bomb[] = {0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0,
	                                     0,    0x02, 0,    0,    1,    0, 0, 0};
	char *p = path_in("in.bomb");
	write_file(p, bomb, sizeof(bomb));
	struct cp_core_input *in = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_core_input_open(p, dir, &in, &err), 0);
	assert_int_equal(in->expected_size, 1ULL << 41);
	assert_int_equal(cp_core_input_load(in, NULL, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "the limit"));
	cp_core_input_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detect),     cmocka_unit_test(test_zstd_file),
	    cmocka_unit_test(test_gzip_file),  cmocka_unit_test(test_plain_file),
	    cmocka_unit_test(test_stdin_pipe), cmocka_unit_test(test_cut_short),
	    cmocka_unit_test(test_bad_data),   cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_no_tmpdir),  cmocka_unit_test(test_too_big),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
