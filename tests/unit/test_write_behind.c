/*
 * Write-behind and direct writes of the output file: buffers written by
 * the thread land in order and whole, the last unaligned one included;
 * where the filesystem takes O_DIRECT, the data written directly is not
 * left in the page cache; a failed write is reported by a later submit or
 * by flush and nothing more is written; freeing with buffers still queued
 * neither hangs nor leaks.  Files live under the working directory (the
 * build tree), not /tmp, which is often a tmpfs: there (Linux 6.6 on) a
 * direct write lands in memory pages all the same, so the page cache is
 * only checked elsewhere.
 */
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include <cmocka.h>

#include "outfile.h"
#include "write_behind.h"

#define KIB 1024u
#define BUF_SIZE (64 * KIB)
#define N_FULL 40
#define TAIL 1000

struct scratch {
	char dir[64];
	char *out;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	strcpy(s->dir, "wb-test.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	assert_true(asprintf(&s->out, "%s/out", s->dir) > 0);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scratch *s = *state;
	nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(s->out);
	free(s);
	return 0;
}

static uint8_t byte_at(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL;
	return (uint8_t)(x >> 56);
}

/* Fill and submit N_FULL whole buffers and a TAIL-byte one; 0 or the
 * first error. */
static int write_all(struct cp_write_behind *wb)
{
	uint64_t pos = 0;
	for (int b = 0; b <= N_FULL; b++) {
		size_t len = b < N_FULL ? BUF_SIZE : TAIL;
		uint8_t *p = cp_write_behind_buf(wb);
		assert_int_equal((uintptr_t)p % CP_WRITE_BEHIND_ALIGN, 0);
		for (size_t i = 0; i < len; i++)
			p[i] = byte_at(pos + i);
		pos += len;
		int r = cp_write_behind_submit(wb, len);
		if (r < 0)
			return r;
	}
	return cp_write_behind_flush(wb);
}

/* The fraction of FD's first LEN bytes in the page cache. */
static double cached_fraction(int fd, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = (len + page - 1) / page, in = 0;
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	unsigned char *vec = malloc(pages);
	assert_non_null(vec);
	assert_int_equal(mincore(m, len, vec), 0);
	for (size_t i = 0; i < pages; i++)
		in += vec[i] & 1;
	free(vec);
	munmap(m, len);
	return (double)in / (double)pages;
}

static void check_output(const char *path, int direct)
{
	const size_t size = (size_t)N_FULL * BUF_SIZE + TAIL;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, size);
	/* Before anything reads it: what went directly is not cached. */
	struct statfs sf;
	assert_int_equal(fstatfs(fd, &sf), 0);
	if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC)
		print_message("tmpfs or ramfs here: page cache use not checked\n");
	else if (direct)
		assert_true(cached_fraction(fd, (size_t)N_FULL * BUF_SIZE) < 0.10);
	uint8_t *back = malloc(size);
	assert_non_null(back);
	assert_int_equal(pread(fd, back, size, 0), (ssize_t)size);
	close(fd);
	for (size_t i = 0; i < size; i++)
		if (back[i] != byte_at(i))
			fail_msg("byte %zu differs", i);
	free(back);
}

static void run(struct scratch *s, int threaded)
{
	struct cp_outfile f;
	struct cp_error err = {0};
	if (cp_outfile_open(&f, s->out, 0, 0, &err) < 0)
		fail_msg("%s", err.msg);
	int direct = cp_outfile_direct_io(&f);
	if (!direct)
		print_message("no O_DIRECT on this filesystem: direct writes not checked\n");
	struct cp_write_behind *wb;
	assert_int_equal(cp_write_behind_new(&f, BUF_SIZE, threaded, &wb), 0);
	assert_int_equal(write_all(wb), 0);
	/* The unaligned tail turned direct writes off, for good. */
	assert_int_equal(f.direct_io, 0);
	assert_int_equal(cp_outfile_direct_io(&f), 0);
	cp_write_behind_free(wb);
	if (cp_outfile_commit(&f, &err) < 0)
		fail_msg("%s", err.msg);
	cp_outfile_done(&f);
	check_output(s->out, direct);
}

static void test_threaded(void **state)
{
	run(*state, 1);
}

static void test_in_caller(void **state)
{
	run(*state, 0);
}

/* A descriptor that cannot be written: the error comes back, by a later
 * submit or by flush, and is kept. */
static void test_write_error(void **state)
{
	struct scratch *s = *state;
	for (int threaded = 0; threaded <= 1; threaded++) {
		int fd = open(s->out, O_RDONLY | O_CREAT, 0600);
		assert_true(fd >= 0);
		struct cp_outfile f = {.fd = fd};
		struct cp_write_behind *wb;
		assert_int_equal(cp_write_behind_new(&f, BUF_SIZE, threaded, &wb), 0);
		assert_int_equal(write_all(wb), -EBADF);
		assert_int_equal(cp_write_behind_flush(wb), -EBADF);
		assert_int_equal(cp_write_behind_submit(wb, 1), -EBADF);
		assert_int_equal(f.written, 0);
		cp_write_behind_free(wb);
		close(fd);
	}
}

/* Given up with buffers queued: free() returns, and nothing leaks (the
 * sanitizer builds). */
static void test_free_with_queue(void **state)
{
	struct scratch *s = *state;
	struct cp_outfile f;
	struct cp_error err = {0};
	if (cp_outfile_open(&f, s->out, 0, 0, &err) < 0)
		fail_msg("%s", err.msg);
	cp_outfile_direct_io(&f);
	struct cp_write_behind *wb;
	assert_int_equal(cp_write_behind_new(&f, BUF_SIZE, 1, &wb), 0);
	for (int b = 0; b < CP_WRITE_BEHIND_BUFS + 2; b++) {
		memset(cp_write_behind_buf(wb), b, BUF_SIZE);
		assert_int_equal(cp_write_behind_submit(wb, BUF_SIZE), 0);
	}
	cp_write_behind_free(wb);
	cp_outfile_done(&f);
	struct stat st;
	assert_int_equal(stat(s->out, &st), -1);
}

static void test_bad_size(void **state)
{
	(void)state;
	struct cp_outfile f = {.fd = -1};
	struct cp_write_behind *wb = (void *)1;
	assert_int_equal(cp_write_behind_new(&f, 1000, 1, &wb), -EINVAL);
	assert_null(wb);
	assert_int_equal(cp_write_behind_new(&f, 0, 0, &wb), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_threaded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_in_caller, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_with_queue, setup, teardown),
	    cmocka_unit_test(test_bad_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
