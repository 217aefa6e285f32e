/*
 * The read pipe: whatever the slot size, the pieces come in file order,
 * cover the file exactly, carry the file's bytes, and the digest is the
 * one cp_digest_file() computes; a file stopped early, cut short or
 * unreadable ends with a clear piece and leaves the pipe ready for the
 * next file.  Small regions (a sparse core's one-page ones) share a slot
 * and still come out one piece each, with their holes.  Files live under the working directory (the
 * build tree).
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
#include "read_pipe.h"

#define MIB (1024 * 1024)
#define FILE_SIZE (9 * MIB + 123)

/* Data where the file has it; the rest was never written (holes, or
 * zeros where the filesystem keeps no holes). */
static const struct cp_region regions[] = {
    {0, 100000},
    {MIB + 4096, 2 * MIB - 4096},
    {5 * MIB, 1},
    {8 * MIB, FILE_SIZE - 8 * MIB},
};
#define N_REGIONS (sizeof(regions) / sizeof(regions[0]))

struct fixture {
	char path[64];
	uint8_t *data; /* the logical contents */
	int fd;
};

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x | 1);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->path, "cp-test-pipe.XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	f->data = calloc(1, FILE_SIZE);
	assert_non_null(f->data);
	for (size_t i = 0; i < N_REGIONS; i++) {
		fill(f->data + regions[i].off, regions[i].len, 0x9e3779b97f4a7c15ULL + i);
		assert_int_equal(
		    pwrite(fd, f->data + regions[i].off, regions[i].len, (off_t)regions[i].off),
		    (ssize_t)regions[i].len);
	}
	assert_int_equal(ftruncate(fd, FILE_SIZE), 0);
	close(fd);
	f->fd = open(f->path, O_RDONLY);
	assert_true(f->fd >= 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->fd);
	unlink(f->path);
	free(f->data);
	free(f);
	return 0;
}

/* Take every piece of the file P was begun on (SIZE bytes, contents
 * DATA), checking each: in order, covering the file, at most SLOT_SIZE,
 * the file's bytes, holes of zeros.  Counts the pieces of each kind. */
static void take_all(struct cp_read_pipe *p, const uint8_t *data, uint64_t size, size_t slot_size,
                     size_t *n_data, size_t *n_holes)
{
	uint64_t pos = 0;
	*n_data = *n_holes = 0;
	for (;;) {
		struct cp_piece pc;
		cp_read_pipe_next(p, &pc);
		assert_int_equal(pc.off, pos);
		if (pc.kind == CP_PIECE_END)
			break;
		assert_true(pc.kind == CP_PIECE_DATA || pc.kind == CP_PIECE_HOLE);
		assert_true(pc.len > 0);
		if (pc.kind == CP_PIECE_DATA) {
			assert_true(pc.len <= slot_size);
			assert_memory_equal(pc.data, data + pos, pc.len);
			(*n_data)++;
		} else {
			for (uint64_t i = 0; i < pc.len; i++)
				assert_int_equal(data[pos + i], 0);
			(*n_holes)++;
		}
		pos += pc.len;
	}
	assert_int_equal(pos, size);
}

/* Read the whole file through P, checking every piece against F, and
 * return its digest. */
static void read_all(struct fixture *f, struct cp_read_pipe *p, enum cp_read_hash hash,
                     uint8_t out[32], size_t slot_size)
{
	struct cp_file_reader rd;
	cp_file_reader_init(&rd, f->fd, FILE_SIZE, 1);
	cp_read_pipe_begin(p, &rd, regions, N_REGIONS, FILE_SIZE, hash);
	size_t n_data, n_holes;
	take_all(p, f->data, FILE_SIZE, slot_size, &n_data, &n_holes);
	uint64_t data = 0;
	for (size_t i = 0; i < N_REGIONS; i++)
		data += regions[i].len;
	assert_true(n_data >= data / slot_size);
	assert_int_equal(n_holes, 3);
	assert_int_equal(cp_read_pipe_end(p, out), 0);
	cp_file_reader_done(&rd);
}

static void expect_digest(struct fixture *f, int sparse, const uint8_t got[32])
{
	uint8_t want[32];
	uint64_t size;
	struct cp_error err = {0};
	assert_int_equal(cp_digest_file(f->path, sparse, want, &size, &err), 0);
	assert_int_equal(size, FILE_SIZE);
	assert_memory_equal(got, want, 32);
}

/* Slots much smaller than the file and the queue: the ring and the queue
 * wrap many times; both digests come out right, one file after another. */
static void test_whole_file_in_order(void **state)
{
	struct fixture *f = *state;
	struct cp_read_pipe *p;
	const size_t slot = 3 * CP_READER_ALIGN;
	assert_int_equal(cp_read_pipe_new(4, slot, &p), 0);

	uint8_t d[32];
	read_all(f, p, CP_READ_HASH_SPARSE, d, slot);
	expect_digest(f, 1, d);
	read_all(f, p, CP_READ_HASH_PLAIN, d, slot);
	expect_digest(f, 0, d);
	read_all(f, p, CP_READ_HASH_NONE, d, slot);
	cp_read_pipe_free(p);

	/* The writer's own shape: 1 MiB slots, 8 of them. */
	assert_int_equal(cp_read_pipe_new(8, MIB, &p), 0);
	read_all(f, p, CP_READ_HASH_SPARSE, d, MIB);
	expect_digest(f, 1, d);
	cp_read_pipe_free(p);
}

/* Stopping after a few pieces (an error further on, a cancel) gives no
 * digest and waits for the reads in flight; the next file reads whole. */
static void test_end_early(void **state)
{
	struct fixture *f = *state;
	struct cp_read_pipe *p;
	assert_int_equal(cp_read_pipe_new(4, 2 * CP_READER_ALIGN, &p), 0);

	for (int taken = 0; taken < 6; taken++) {
		struct cp_file_reader rd;
		cp_file_reader_init(&rd, f->fd, FILE_SIZE, 0);
		cp_read_pipe_begin(p, &rd, regions, N_REGIONS, FILE_SIZE, CP_READ_HASH_SPARSE);
		for (int i = 0; i < taken; i++) {
			struct cp_piece pc;
			cp_read_pipe_next(p, &pc);
			assert_int_equal(pc.kind, CP_PIECE_DATA);
		}
		uint8_t d[32] = {0};
		assert_int_equal(cp_read_pipe_end(p, d), -1);
		cp_file_reader_done(&rd);
	}
	uint8_t d[32];
	read_all(f, p, CP_READ_HASH_SPARSE, d, 2 * CP_READER_ALIGN);
	expect_digest(f, 1, d);
	cp_read_pipe_free(p);
}

/* Regions that run past the end of the file, as when it shrinks while
 * being packed: an ERROR piece with err 0 where the data stopped, given
 * again on every call. */
static void test_file_cut_short(void **state)
{
	struct fixture *f = *state;
	struct cp_read_pipe *p;
	assert_int_equal(cp_read_pipe_new(4, MIB, &p), 0);

	const struct cp_region past[] = {{0, 100000}, {FILE_SIZE - 5000, 2 * MIB}};
	uint64_t claimed = FILE_SIZE - 5000 + 2 * MIB;
	struct cp_file_reader rd;
	cp_file_reader_init(&rd, f->fd, claimed, 1);
	cp_read_pipe_begin(p, &rd, past, 2, claimed, CP_READ_HASH_SPARSE);
	struct cp_piece pc;
	do
		cp_read_pipe_next(p, &pc);
	while (pc.kind == CP_PIECE_DATA || pc.kind == CP_PIECE_HOLE);
	assert_int_equal(pc.kind, CP_PIECE_ERROR);
	assert_int_equal(pc.err, 0);
	assert_int_equal(pc.off, FILE_SIZE);
	assert_int_equal(pc.off + pc.len, claimed);
	cp_read_pipe_next(p, &pc);
	assert_int_equal(pc.kind, CP_PIECE_ERROR);
	assert_int_equal(cp_read_pipe_end(p, NULL), -1);
	cp_file_reader_done(&rd);

	uint8_t d[32];
	read_all(f, p, CP_READ_HASH_SPARSE, d, MIB);
	expect_digest(f, 1, d);
	cp_read_pipe_free(p);
}

/* A read that fails reports its errno. */
static void test_read_error(void **state)
{
	struct fixture *f = *state;
	struct cp_read_pipe *p;
	assert_int_equal(cp_read_pipe_new(2, MIB, &p), 0);

	int wfd = open(f->path, O_WRONLY);
	assert_true(wfd >= 0);
	struct cp_file_reader rd;
	cp_file_reader_init(&rd, wfd, FILE_SIZE, 0);
	cp_read_pipe_begin(p, &rd, regions, N_REGIONS, FILE_SIZE, CP_READ_HASH_PLAIN);
	struct cp_piece pc;
	cp_read_pipe_next(p, &pc);
	assert_int_equal(pc.kind, CP_PIECE_ERROR);
	assert_int_equal(pc.err, EBADF);
	assert_int_equal(pc.off, 0);
	assert_int_equal(cp_read_pipe_end(p, NULL), -1);
	cp_file_reader_done(&rd);
	close(wfd);
	cp_read_pipe_free(p);
}

/* A sparse core's shape: hundreds of one-page regions with holes between,
 * a large one among them, a one-byte one, and two empty ones (one where a
 * full slot ends).  With 64 KiB slots, 16 pages share a slot; the pieces
 * are still one per region (none for an empty one) and per hole. */
#define SMALL_SIZE (8 * MIB)
#define N_SMALL 400
static void test_small_regions(void **state)
{
	(void)state;
	struct cp_region *rs = calloc(N_SMALL + 4, sizeof(*rs));
	uint8_t *data = calloc(1, SMALL_SIZE);
	assert_non_null(rs);
	assert_non_null(data);
	size_t n = 0;
	for (size_t i = 0; i < N_SMALL / 2; i++) {
		rs[n++] = (struct cp_region){i * 16384 + 8192, 4096};
		if (i == 15)
			rs[n++] = (struct cp_region){i * 16384 + 12288 + 100, 0};
	}
	rs[n++] = (struct cp_region){4 * MIB - 10, 0};
	rs[n++] = (struct cp_region){4 * MIB, MIB + 5000}; /* larger than a slot */
	rs[n++] = (struct cp_region){5 * MIB + 12288, 1};
	for (size_t i = 0; i < N_SMALL / 2; i++)
		rs[n++] = (struct cp_region){6 * MIB + i * 8192, 4096};
	char path[] = "cp-test-pipe-small.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < n; i++) {
		fill(data + rs[i].off, rs[i].len, 77 + i);
		assert_int_equal(pwrite(fd, data + rs[i].off, rs[i].len, (off_t)rs[i].off),
		                 (ssize_t)rs[i].len);
	}
	assert_int_equal(ftruncate(fd, SMALL_SIZE), 0);

	struct cp_read_pipe *p;
	const size_t slot = 16 * CP_READER_ALIGN;
	assert_int_equal(cp_read_pipe_new(4, slot, &p), 0);
	for (int sparse = 0; sparse < 2; sparse++) {
		struct cp_file_reader rd;
		cp_file_reader_init(&rd, fd, SMALL_SIZE, 1);
		cp_read_pipe_begin(p, &rd, rs, n, SMALL_SIZE,
		                   sparse ? CP_READ_HASH_SPARSE : CP_READ_HASH_PLAIN);
		size_t n_data, n_holes;
		take_all(p, data, SMALL_SIZE, slot, &n_data, &n_holes);
		/* one piece per small region, one per slot of the large one */
		const size_t n_empty = 2;
		assert_int_equal(n_data, n - n_empty - 1 + (MIB + 5000 + slot - 1) / slot);
		/* before each region, and after */
		assert_int_equal(n_holes, n - n_empty + 1);
		uint8_t got[32], want[32];
		assert_int_equal(cp_read_pipe_end(p, got), 0);
		uint64_t size;
		struct cp_error err = {0};
		assert_int_equal(cp_digest_file(path, sparse, want, &size, &err), 0);
		assert_memory_equal(got, want, 32);
		cp_file_reader_done(&rd);
	}

	/* Stopped in the middle of a batch, then the file cut short inside
	 * one: the error where the data stopped. */
	struct cp_file_reader rd;
	cp_file_reader_init(&rd, fd, SMALL_SIZE, 0);
	cp_read_pipe_begin(p, &rd, rs, n, SMALL_SIZE, CP_READ_HASH_SPARSE);
	struct cp_piece pc;
	for (int i = 0; i < 5; i++)
		cp_read_pipe_next(p, &pc);
	assert_int_equal(cp_read_pipe_end(p, NULL), -1);
	cp_file_reader_done(&rd);
	const uint64_t cut = 6 * MIB + 100 * 8192;
	assert_int_equal(ftruncate(fd, (off_t)cut), 0);
	cp_file_reader_init(&rd, fd, SMALL_SIZE, 0);
	cp_read_pipe_begin(p, &rd, rs, n, SMALL_SIZE, CP_READ_HASH_SPARSE);
	do
		cp_read_pipe_next(p, &pc);
	while (pc.kind == CP_PIECE_DATA || pc.kind == CP_PIECE_HOLE);
	assert_int_equal(pc.kind, CP_PIECE_ERROR);
	assert_int_equal(pc.err, 0);
	assert_int_equal(pc.off, cut);
	assert_int_equal(pc.off + pc.len, cut + 4096);
	cp_read_pipe_next(p, &pc);
	assert_int_equal(pc.kind, CP_PIECE_ERROR);
	assert_int_equal(cp_read_pipe_end(p, NULL), -1);
	cp_file_reader_done(&rd);

	cp_read_pipe_free(p);
	close(fd);
	unlink(path);
	free(data);
	free(rs);
}

static void test_bad_shapes(void **state)
{
	(void)state;
	struct cp_read_pipe *p = NULL;
	assert_int_equal(cp_read_pipe_new(1, MIB, &p), -EINVAL);
	assert_int_equal(cp_read_pipe_new(4, MIB + 1, &p), -EINVAL);
	assert_int_equal(cp_read_pipe_new(4, 2 * CP_READER_MAX, &p), -EINVAL);
	assert_int_equal(cp_read_pipe_new(4, 0, &p), -EINVAL);
	assert_null(p);
	cp_read_pipe_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_whole_file_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_end_early, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_cut_short, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_error, setup, teardown),
	    cmocka_unit_test(test_small_regions),
	    cmocka_unit_test(test_bad_shapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
