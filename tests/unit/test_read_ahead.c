/*
 * Unit tests for read_ahead.c: a file read through the read-ahead, with
 * slots smaller, equal to and larger than the file, comes out byte for
 * byte in order, then its end on every later call; a read that fails is
 * reported on every later call; the read-ahead can be freed at any point
 * (a full ring, a thread waiting) without a hang.
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

#include "read_ahead.h"

#define SIZE (300 * 1024 + 77)

static char dir[] = "/tmp/cp-test-read-ahead.XXXXXX";
static char path[64];
static uint8_t *want;

static int setup(void **state)
{
	if (!mkdtemp(dir) || !(want = malloc(SIZE)))
		return -1;
	uint32_t x = 4321;
	for (size_t i = 0; i < SIZE; i++) {
		x = x * 1103515245u + 12345u;
		want[i] = (uint8_t)(x >> 16);
	}
	snprintf(path, sizeof(path), "%s/f", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, want, SIZE) != SIZE)
		return -1;
	return close(fd);
}

static int teardown(void **state)
{
	char cmd[256];
	free(want);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void read_all(size_t n_slots, size_t slot_size)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct cp_read_ahead *ra = NULL;
	assert_int_equal(cp_read_ahead_new(fd, n_slots, slot_size, &ra), 0);
	uint8_t *got = malloc(SIZE);
	assert_non_null(got);
	size_t have = 0;
	for (;;) {
		const void *buf;
		ssize_t n = cp_read_ahead_next(ra, &buf);
		assert_true(n >= 0);
		if (n == 0)
			break;
		assert_true((size_t)n <= slot_size);
		assert_true(have + (size_t)n <= SIZE);
		memcpy(got + have, buf, (size_t)n);
		have += (size_t)n;
	}
	assert_int_equal(have, SIZE);
	assert_memory_equal(got, want, SIZE);
	const void *buf;
	assert_int_equal(cp_read_ahead_next(ra, &buf), 0);
	assert_int_equal(cp_read_ahead_next(ra, &buf), 0);
	cp_read_ahead_free(ra);
	close(fd);
	free(got);
}

static void test_whole_file(void **state)
{
	read_all(2, 4096);
	read_all(4, 4096 + 13);
	read_all(3, SIZE);
	read_all(2, SIZE * 2);
	read_all(8, 1000);
}

/* A descriptor read() refuses: the error, then again. */
static void test_read_error(void **state)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	struct cp_read_ahead *ra = NULL;
	assert_int_equal(cp_read_ahead_new(fd, 2, 4096, &ra), 0);
	const void *buf;
	assert_int_equal(cp_read_ahead_next(ra, &buf), -EISDIR);
	assert_int_equal(cp_read_ahead_next(ra, &buf), -EISDIR);
	cp_read_ahead_free(ra);
	close(fd);
}

/* Freed with the ring full and the thread waiting for a slot, and freed
 * before anything was asked. */
static void test_free_early(void **state)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct cp_read_ahead *ra = NULL;
	assert_int_equal(cp_read_ahead_new(fd, 2, 1024, &ra), 0);
	const void *buf;
	assert_int_equal(cp_read_ahead_next(ra, &buf), 1024);
	assert_memory_equal(buf, want, 1024);
	usleep(20000);
	cp_read_ahead_free(ra);
	assert_int_equal(cp_read_ahead_new(fd, 2, 1024, &ra), 0);
	cp_read_ahead_free(ra);
	cp_read_ahead_free(NULL);
	assert_int_equal(cp_read_ahead_new(fd, 1, 1024, &ra), -EINVAL);
	assert_int_equal(cp_read_ahead_new(fd, 2, 0, &ra), -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_file),
	    cmocka_unit_test(test_read_error),
	    cmocka_unit_test(test_free_early),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
