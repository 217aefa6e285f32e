/*
 * The page-cache-aware reader: whatever way a block is read (direct from
 * the disk, copied from the cache, unaligned, short at the end of the
 * file), the bytes are the file's, and the descriptor is given back as it
 * came.  Files live under the working directory (the build tree, on disk):
 * /tmp may be a tmpfs, which takes no O_DIRECT on older kernels.
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
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "file_reader.h"

#define MIB (1024 * 1024)
#define FILE_SIZE (5 * MIB + 777)

struct fixture {
	char path[64];
	uint8_t *data;
	int direct_ok; /* this filesystem takes O_DIRECT reads */
};

static void fill(uint8_t *p, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

/* Written, synced and dropped from the page cache. */
static void drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fdatasync(fd), 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
}

static int probe_direct(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0)
		return 0;
	void *buf = aligned_alloc(CP_READER_ALIGN, CP_READER_ALIGN);
	int ok = buf && pread(fd, buf, CP_READER_ALIGN, 0) == CP_READER_ALIGN;
	free(buf);
	close(fd);
	return ok;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->path, "cp-test-reader.XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	f->data = malloc(FILE_SIZE);
	assert_non_null(f->data);
	fill(f->data, FILE_SIZE);
	assert_int_equal(write(fd, f->data, FILE_SIZE), FILE_SIZE);
	close(fd);
	f->direct_ok = probe_direct(f->path);
	drop_cache(f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->path);
	free(f->data);
	free(f);
	return 0;
}

static uint8_t *aligned_buf(void)
{
	uint8_t *b = aligned_alloc(CP_READER_ALIGN, CP_READER_MAX);
	assert_non_null(b);
	return b;
}

/* Reads the whole file in STEP-byte reads from START and checks it. */
static void read_all(struct fixture *f, struct cp_file_reader *r, size_t step, uint64_t start)
{
	uint8_t *buf = aligned_buf();
	for (uint64_t off = start; off < FILE_SIZE;) {
		ssize_t n = cp_file_reader_pread(r, buf, step, off);
		assert_true(n > 0);
		assert_memory_equal(buf, f->data + off, (size_t)n);
		off += (uint64_t)n;
	}
	/* At the end: nothing, as pread() says. */
	assert_int_equal(cp_file_reader_pread(r, buf, step, FILE_SIZE), 0);
	free(buf);
}

static void test_uncached_read_direct(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->path, O_RDONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	struct cp_file_reader r;
	cp_file_reader_init(&r, fd, FILE_SIZE, 1);
	/* 2 MiB reads: the last one is short, at the end of the file. */
	read_all(f, &r, CP_READER_MAX, 0);
	if (f->direct_ok)
		assert_true(r.n_direct >= 2);
	else
		print_message("this filesystem takes no O_DIRECT: read through the cache\n");
	cp_file_reader_done(&r);
	/* The descriptor's flags are as they were given. */
	assert_int_equal(fcntl(fd, F_GETFL) & (O_DIRECT | O_NONBLOCK), O_NONBLOCK);
	close(fd);
}

static void test_cached_blocks_copied(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t *buf = aligned_buf();
	for (uint64_t off = 0; off < FILE_SIZE; off += MIB) /* into the cache */
		assert_true(pread(fd, buf, MIB, (off_t)off) > 0);
	struct cp_file_reader r;
	cp_file_reader_init(&r, fd, FILE_SIZE, 1);
	read_all(f, &r, MIB, 0);
	assert_int_equal(r.n_direct, 0);
	assert_true(r.n_cached >= 6);
	cp_file_reader_done(&r);
	free(buf);
	close(fd);
}

static void test_unaligned_and_small(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	struct cp_file_reader r;
	cp_file_reader_init(&r, fd, FILE_SIZE, 1);
	/* An odd offset, then reads too small to go direct. */
	read_all(f, &r, MIB, 12345);
	drop_cache(f->path);
	read_all(f, &r, 4096, 0);
	assert_int_equal(r.n_direct, 0);

	/* An unaligned buffer: through the cache, same bytes. */
	drop_cache(f->path);
	uint8_t *buf = aligned_buf();
	ssize_t n = cp_file_reader_pread(&r, buf + 1, MIB, 0);
	assert_int_equal(n, MIB);
	assert_memory_equal(buf + 1, f->data, MIB);
	assert_int_equal(r.n_direct, 0);
	free(buf);
	cp_file_reader_done(&r);
	close(fd);
}

static void test_direct_off(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	struct cp_file_reader r;
	cp_file_reader_init(&r, fd, FILE_SIZE, 0);
	read_all(f, &r, CP_READER_MAX, 0);
	assert_int_equal(r.n_direct, 0);
	cp_file_reader_done(&r);
	close(fd);
}

/* A read past what the file held when the reader started (it grew). */
static void test_file_grew(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->path, O_RDONLY);
	assert_true(fd >= 0);
	struct cp_file_reader r;
	cp_file_reader_init(&r, fd, 2 * MIB, 1);
	read_all(f, &r, MIB, 0);
	cp_file_reader_done(&r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_uncached_read_direct, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cached_blocks_copied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unaligned_and_small, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_direct_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_grew, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
