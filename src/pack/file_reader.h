/*
 * Reading a large file once, front to back, without filling the page
 * cache with it.  Internal to the bundle writer.
 *
 * Through the page cache, every byte of a core is copied out of a cache
 * page allocated for it, and the gigabytes cached push out what the
 * machine's services had there.  Blocks that are not cached are therefore
 * read with O_DIRECT, from the disk straight into the caller's buffer;
 * blocks that are (a core the kernel has just written) are copied from the
 * cache as usual, since reading them from the disk again would be slower.
 * mincore() on a mapping of the file that is never touched tells which is
 * which without faulting anything in or starting any I/O.
 *
 * Direct reads need buffer, offset and length aligned to the device's
 * logical block size; CP_READER_ALIGN (4096) is the largest in common use.
 * An unaligned read, a filesystem that refuses O_DIRECT and a file that
 * cannot be mapped all read through the cache instead, so the result is
 * always the same bytes.
 *
 * Direct reads go through a second descriptor for the same open file
 * (reopened through /proc/self/fd; without /proc everything is read
 * through the cache), so the caller's descriptor never changes flags and
 * several threads may read through one reader at once.
 */
#ifndef COREPACK_FILE_READER_H
#define COREPACK_FILE_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CP_READER_ALIGN 4096
/* Reads shorter than this always go through the page cache. */
#define CP_READER_DIRECT_MIN (64u << 10)
/* The largest LEN cp_file_reader_pread() takes. */
#define CP_READER_MAX (2u << 20)

struct cp_file_reader {
	int fd;
	int dfd;    /* the same file, opened with O_DIRECT */
	int direct; /* uncached blocks may be read through dfd */
	void *map;  /* never touched: for mincore() only */
	size_t map_len;
	size_t page;
	/* Blocks read each way, for tests and curiosity. */
	uint64_t n_direct, n_cached;
};

/* Reads from FD (SIZE bytes, opened read-only by the caller, who also
 * closes it).  DIRECT 0 reads everything through the page cache.  Never
 * fails: what cannot be set up falls back to plain reads. */
void cp_file_reader_init(struct cp_file_reader *r, int fd, uint64_t size, int direct);
/* Up to LEN (<= CP_READER_MAX) bytes at OFF into BUF, as pread() does
 * (EINTR retried); safe to call from several threads at once.  BUF must
 * be CP_READER_ALIGN-aligned with room for LEN rounded up to
 * CP_READER_ALIGN, for a direct read to use. */
ssize_t cp_file_reader_pread(struct cp_file_reader *r, void *buf, size_t len, uint64_t off);
/* Frees what init() set up; FD is left open, as it was given. */
void cp_file_reader_done(struct cp_file_reader *r);

#endif
