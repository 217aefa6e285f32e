/*
 * Unit tests for file_sink.c: pieces of a file, contiguous or with holes
 * between them, of sizes that fill, cross and straddle the slots, must
 * come out as the same file and the same digest as digest.c computes from
 * that file; a write that fails is reported, pieces out of order are
 * refused, and the sink serves file after file.
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
#include <unistd.h>

#include <cmocka.h>

#include "corepack/digest.h"
#include "file_sink.h"

#define SLOT 4096
#define SIZE (200 * 1024 + 77)

static char dir[] = "/tmp/cp-test-file-sink.XXXXXX";

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

/* The expected contents: data in a few ranges, zeros elsewhere. */
static const struct {
	uint64_t off, len;
} ranges[] = {
    {0, 100},        {100, 5000},       {5100, 3 * SLOT}, /* contiguous, across slots */
    {70000, 1},      {70001, SLOT - 1},                   /* after a hole */
    {131072, 65536}, {SIZE - 300, 300},                   /* big piece, then the tail */
};

static uint8_t *expected(void)
{
	uint8_t *want = calloc(1, SIZE);
	assert_non_null(want);
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		for (uint64_t k = 0; k < ranges[i].len; k++) {
			x = x * 1103515245u + 12345u;
			want[ranges[i].off + k] = (uint8_t)(x >> 16) | 1;
		}
	return want;
}

/* Feed WANT's ranges to S as the file FD, digested as KIND; *OUT the
 * digest. */
static int feed(struct cp_file_sink *s, const uint8_t *want, int fd, enum cp_digest_kind kind,
                uint8_t out[CP_DIGEST_MAX])
{
	cp_file_sink_begin(s, fd, kind);
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		/* A scratch copy, clobbered at once: the sink must have
		 * copied it. */
		uint8_t *tmp = malloc(ranges[i].len);
		memcpy(tmp, want + ranges[i].off, ranges[i].len);
		int r = cp_file_sink_data(s, tmp, ranges[i].len, ranges[i].off);
		memset(tmp, 0xee, ranges[i].len);
		free(tmp);
		if (r < 0) {
			cp_file_sink_end(s, SIZE, out);
			return r;
		}
	}
	return cp_file_sink_end(s, SIZE, out);
}

static void check_kind(struct cp_file_sink *s, const uint8_t *want, enum cp_digest_kind kind)
{
	char path[300], ref[300];
	snprintf(path, sizeof(path), "%s/out-%d", dir, (int)kind);
	snprintf(ref, sizeof(ref), "%s/ref-%d", dir, (int)kind);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	uint8_t got[CP_DIGEST_MAX], dg[CP_DIGEST_MAX], reference[CP_DIGEST_MAX];
	assert_int_equal(feed(s, want, fd, kind, got), 0);
	assert_int_equal(ftruncate(fd, SIZE), 0);
	/* The file written... */
	uint8_t *back = malloc(SIZE);
	assert_int_equal(pread(fd, back, SIZE, 0), SIZE);
	assert_memory_equal(back, want, SIZE);
	free(back);
	close(fd);
	/* ...and the digest: digest.c's of the same bytes. */
	fd = open(ref, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, want, SIZE), SIZE);
	uint64_t size;
	assert_int_equal(cp_digest_fd_as(fd, ref, kind, reference, &size, NULL), 0);
	close(fd);
	assert_memory_equal(got, reference, cp_digest_kind_size(kind));
	/* Without a file: the digest only. */
	assert_int_equal(feed(s, want, -1, kind, dg), 0);
	assert_memory_equal(dg, reference, cp_digest_kind_size(kind));
}

static void test_pieces(void **state)
{
	uint8_t *want = expected();
	struct cp_file_sink *s;
	assert_int_equal(cp_file_sink_new(3, SLOT, &s), 0);
	for (int k = 0; k < CP_DIGEST_KIND_COUNT; k++)
		check_kind(s, want, (enum cp_digest_kind)k);
	cp_file_sink_free(s);
	free(want);
}

static void test_write_error(void **state)
{
	uint8_t *want = expected(), out[CP_DIGEST_MAX];
	char path[300];
	snprintf(path, sizeof(path), "%s/ro", dir);
	close(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct cp_file_sink *s;
	assert_int_equal(cp_file_sink_new(2, SLOT, &s), 0);
	assert_int_equal(feed(s, want, fd, CP_DIGEST_SHA256, out), -EBADF);
	close(fd);
	/* The next file is fine again. */
	assert_int_equal(feed(s, want, -1, CP_DIGEST_SHA256, out), 0);
	cp_file_sink_free(s);
	free(want);
}

static void test_out_of_order(void **state)
{
	struct cp_file_sink *s;
	uint8_t out[CP_DIGEST_MAX];
	assert_int_equal(cp_file_sink_new(2, SLOT, &s), 0);
	cp_file_sink_begin(s, -1, CP_DIGEST_SPARSE_XXH3_128);
	assert_int_equal(cp_file_sink_data(s, "abcd", 4, 1000), 0);
	assert_int_equal(cp_file_sink_data(s, "ab", 2, 1002), -EINVAL);
	assert_int_equal(cp_file_sink_end(s, 2000, out), 0);
	assert_int_equal(cp_file_sink_new(1, SLOT, &(struct cp_file_sink *){NULL}), -EINVAL);
	cp_file_sink_free(s);
	cp_file_sink_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pieces),
	    cmocka_unit_test(test_write_error),
	    cmocka_unit_test(test_out_of_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
