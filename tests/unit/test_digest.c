/*
 * Unit tests for digest.c: the sparse digest must not depend on where the
 * zeros are holes and where they are written data, and the plain mode must
 * be the SHA-256 that sha256sum prints; the same for the XXH3-128 kinds
 * (xxh128sum's value, and the sparse one as Python's xxhash module
 * computes it from doc/bundle-format.md's definition).
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

#include <cmocka.h>

#include "corepack/digest.h"

static char dir[] = "/tmp/cp-test-digest.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Data at a few places, the rest zeros: as holes (SPARSE) or written. */
static void make_file(const char *path, int sparse)
{
	const uint64_t size = 5 * CP_SPARSE_CHUNK + 1234; /* a short last chunk */
	static const uint64_t at[] = {100, CP_SPARSE_CHUNK - 3, 3 * CP_SPARSE_CHUNK + 4096,
	                              size - 10};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	if (sparse) {
		assert_int_equal(ftruncate(fd, (off_t)size), 0);
	} else {
		uint8_t *z = calloc(1, size);
		assert_int_equal(write(fd, z, size), (ssize_t)size);
		free(z);
	}
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		assert_int_equal(pwrite(fd, "corepack", 8, (off_t)at[i]), 8);
	close(fd);
}

static void test_holes_or_zeros_same_digest(void **state)
{
	char a[300], b[300];
	snprintf(a, sizeof(a), "%s/sparse", dir);
	snprintf(b, sizeof(b), "%s/dense", dir);
	make_file(a, 1);
	make_file(b, 0);
	struct stat st;
	assert_int_equal(stat(a, &st), 0);
	uint8_t da[32], db[32];
	uint64_t sa, sb;
	assert_int_equal(cp_digest_file(a, 1, da, &sa, NULL), 0);
	assert_int_equal(cp_digest_file(b, 1, db, &sb, NULL), 0);
	assert_int_equal(sa, sb);
	assert_memory_equal(da, db, 32);
	/* and the plain digests agree too, and differ from the sparse one */
	uint8_t pa[32], pb[32];
	assert_int_equal(cp_digest_file(a, 0, pa, &sa, NULL), 0);
	assert_int_equal(cp_digest_file(b, 0, pb, &sb, NULL), 0);
	assert_memory_equal(pa, pb, 32);
	assert_memory_not_equal(pa, da, 32);
}

static void test_streaming_matches_file(void **state)
{
	char a[300];
	snprintf(a, sizeof(a), "%s/sparse2", dir);
	make_file(a, 1);
	uint8_t want[32], got[32];
	uint64_t size;
	assert_int_equal(cp_digest_file(a, 1, want, &size, NULL), 0);
	/* feed the same content in odd pieces, zeros partly as holes */
	uint8_t *buf = malloc(size);
	int fd = open(a, O_RDONLY);
	assert_int_equal(pread(fd, buf, size, 0), (ssize_t)size);
	close(fd);
	struct cp_sparse_digest *d = malloc(sizeof(*d));
	cp_sparse_digest_init(d);
	uint64_t pos = 0;
	size_t step = 7;
	while (pos < size) {
		size_t n = step < size - pos ? step : (size_t)(size - pos);
		int zero = 1;
		for (size_t i = 0; i < n; i++)
			zero &= buf[pos + i] == 0;
		if (zero)
			cp_sparse_digest_zeros(d, n);
		else
			cp_sparse_digest_data(d, buf + pos, n);
		pos += n;
		step = step * 3 + 1;
		if (step > 200000)
			step = 5;
	}
	cp_sparse_digest_final(d, got);
	assert_memory_equal(want, got, 32);
	free(d);
	free(buf);
}

/* Holes where the chunk before had data (the chunk buffer is reused):
 * random runs of data and zeros over a few chunks, the zeros fed as holes
 * in pieces of random size, digest as when all of it is fed as data. */
static void test_holes_after_data(void **state)
{
	(void)state;
	const size_t size = 5 * CP_SPARSE_CHUNK + 777;
	uint8_t *buf = calloc(1, size);
	assert_non_null(buf);
	struct cp_sparse_digest *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	uint64_t x = 12345;
	for (int round = 0; round < 50; round++) {
		memset(buf, 0, size);
		for (size_t pos = 0; pos < size;) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t run = 1 + (size_t)(x >> 40) % 9000;
			if (run > size - pos)
				run = size - pos;
			if ((x >> 33) & 1)
				for (size_t i = 0; i < run; i++)
					buf[pos + i] = (uint8_t)(1 + ((x >> 20) + i) % 255);
			pos += run;
		}
		cp_sparse_digest_init(a);
		cp_sparse_digest_data(a, buf, size);
		cp_sparse_digest_init(b);
		for (size_t pos = 0; pos < size;) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t n = 1 + (size_t)(x >> 40) % 5000;
			if (n > size - pos)
				n = size - pos;
			int zero = 1;
			for (size_t i = 0; i < n && zero; i++)
				zero = buf[pos + i] == 0;
			if (zero)
				cp_sparse_digest_zeros(b, n);
			else
				cp_sparse_digest_data(b, buf + pos, n);
			pos += n;
		}
		uint8_t want[32], got[32];
		cp_sparse_digest_final(a, want);
		cp_sparse_digest_final(b, got);
		assert_memory_equal(want, got, 32);
	}
	free(a);
	free(b);
	free(buf);
}

static void test_content_matters(void **state)
{
	struct cp_sparse_digest *d = malloc(sizeof(*d));
	uint8_t x[32], y[32], z[32];
	cp_sparse_digest_init(d);
	cp_sparse_digest_data(d, "a", 1);
	cp_sparse_digest_final(d, x);
	cp_sparse_digest_init(d); /* same byte, one chunk later */
	cp_sparse_digest_zeros(d, CP_SPARSE_CHUNK);
	cp_sparse_digest_data(d, "a", 1);
	cp_sparse_digest_final(d, y);
	cp_sparse_digest_init(d); /* nothing but zeros */
	cp_sparse_digest_zeros(d, 10 * CP_SPARSE_CHUNK);
	cp_sparse_digest_final(d, z);
	assert_memory_not_equal(x, y, 32);
	assert_memory_not_equal(x, z, 32);
	free(d);
}

static void test_plain_is_sha256sum(void **state)
{
	char a[300], cmd[400], line[128];
	snprintf(a, sizeof(a), "%s/sparse3", dir);
	make_file(a, 1);
	uint8_t d[32];
	uint64_t size;
	char hex[65];
	assert_int_equal(cp_digest_file(a, 0, d, &size, NULL), 0);
	cp_hex(d, 32, hex);
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", a);
	FILE *p = popen(cmd, "r");
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_memory_equal(line, hex, 64);
}

/* FILE's digest of KIND, in hex. */
static void digest_hex(const char *file, enum cp_digest_kind kind, char *hex)
{
	uint8_t d[CP_DIGEST_MAX];
	uint64_t size;
	int fd = open(file, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(cp_digest_fd_as(fd, file, kind, d, &size, NULL), 0);
	close(fd);
	cp_hex(d, cp_digest_kind_size(kind), hex);
}

static void test_xxh3(void **state)
{
	char a[300], b[300], cmd[400], line[128], hs[65], hd[65], hp[65];
	snprintf(a, sizeof(a), "%s/xsparse", dir);
	snprintf(b, sizeof(b), "%s/xdense", dir);
	make_file(a, 1);
	make_file(b, 0);
	/* The sparse kind: the same for holes and written zeros, and the
	 * value of the format reference's definition, computed with
	 * Python's xxhash 3.0.0 (xxh3_128 over index + chunk). */
	digest_hex(a, CP_DIGEST_SPARSE_XXH3_128, hs);
	digest_hex(b, CP_DIGEST_SPARSE_XXH3_128, hd);
	assert_string_equal(hs, hd);
	assert_string_equal(hs, "b152118e5a62cd8841da980540af7cb9");
	/* The plain kind: what xxh128sum prints (and Python's xxhash). */
	digest_hex(a, CP_DIGEST_XXH3_128, hp);
	assert_string_equal(hp, "e200ab036d5b382fd71717c8da789c73");
	snprintf(cmd, sizeof(cmd), "xxh128sum '%s'", b);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	pclose(p);
	assert_memory_equal(line, hp, 32);
	/* Not the SHA-256 kinds under another name. */
	char h2[65];
	digest_hex(a, CP_DIGEST_SPARSE_SHA256, h2);
	assert_int_equal(strlen(h2), 64);
	assert_int_equal(strlen(hs), 32);
}

static void test_errors(void **state)
{
	uint8_t d[32];
	uint64_t size;
	struct cp_error err = {0};
	assert_int_equal(cp_digest_file("/nonexistent/x", 1, d, &size, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/x"));
	cp_error_clear(&err);
	assert_int_equal(cp_digest_file(dir, 1, d, &size, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_holes_or_zeros_same_digest),
	    cmocka_unit_test(test_holes_after_data),
	    cmocka_unit_test(test_streaming_matches_file),
	    cmocka_unit_test(test_content_matters),
	    cmocka_unit_test(test_plain_is_sha256sum),
	    cmocka_unit_test(test_xxh3),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
