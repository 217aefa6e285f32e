/*
 * Page-cache-aware reading of large files; see file_reader.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "file_reader.h"

void cp_file_reader_init(struct cp_file_reader *r, int fd, uint64_t size, int direct)
{
	*r = (struct cp_file_reader){.fd = fd, .dfd = -1};
	long page = sysconf(_SC_PAGESIZE);
	if (!direct || size == 0 || size > SIZE_MAX || page < CP_READER_ALIGN)
		return;
	/* The same open file again, with O_DIRECT: setting the flag on FD
	 * itself would change it under concurrent readers (and the caller). */
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int dfd = open(proc, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	struct stat a, b;
	if (dfd < 0)
		return;
	if (fstat(fd, &a) < 0 || fstat(dfd, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		close(dfd);
		return;
	}
	/* Address space only: no page of it is ever touched. */
	void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		close(dfd);
		return;
	}
	r->dfd = dfd;
	r->page = (size_t)page;
	r->map = map;
	r->map_len = (size_t)size;
	r->direct = 1;
}

void cp_file_reader_done(struct cp_file_reader *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->dfd >= 0)
		close(r->dfd);
	*r = (struct cp_file_reader){.fd = -1, .dfd = -1};
}

/* Every page of [OFF, OFF+LEN) is in the page cache (or cannot be told). */
static int all_cached(const struct cp_file_reader *r, size_t len, uint64_t off)
{
	unsigned char vec[CP_READER_MAX / CP_READER_ALIGN + 2];

	if (off >= r->map_len || len > r->map_len - off)
		return 1; /* the file grew: read what is there the plain way */
	uint64_t start = off & ~(uint64_t)(r->page - 1);
	size_t span = (size_t)(off + len - start);
	if (mincore((char *)r->map + start, span, vec) < 0)
		return 1;
	for (size_t i = 0, n = (span + r->page - 1) / r->page; i < n; i++)
		if (!(vec[i] & 1))
			return 0;
	return 1;
}

static int aligned(uint64_t v)
{
	return (v & (CP_READER_ALIGN - 1)) == 0;
}

static ssize_t pread_eintr(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t got;
	do
		got = pread(fd, buf, len, (off_t)off);
	while (got < 0 && errno == EINTR);
	return got;
}

ssize_t cp_file_reader_pread(struct cp_file_reader *r, void *buf, size_t len, uint64_t off)
{
	if (len > CP_READER_MAX)
		len = CP_READER_MAX;
	/* Small reads (a core's stacks and scattered pages) go through the
	 * cache, where read-ahead serves them better than one disk round
	 * trip each. */
	if (__atomic_load_n(&r->direct, __ATOMIC_RELAXED) && len >= CP_READER_DIRECT_MIN &&
	    aligned(off) && aligned((uintptr_t)buf) && !all_cached(r, len, off)) {
		/* Past the end of LEN is the next region or a hole (zeros),
		 * or the end of the file, where the read comes back short. */
		size_t want = (len + CP_READER_ALIGN - 1) & ~(size_t)(CP_READER_ALIGN - 1);
		ssize_t got = pread_eintr(r->dfd, buf, want, off);
		if (got >= 0) {
			__atomic_fetch_add(&r->n_direct, 1, __ATOMIC_RELAXED);
			return got > (ssize_t)len ? (ssize_t)len : got;
		}
		if (errno != EINVAL)
			return -1;
		/* An alignment this device does not take: no more tries. */
		__atomic_store_n(&r->direct, 0, __ATOMIC_RELAXED);
	}
	ssize_t got = pread_eintr(r->fd, buf, len, off);
	if (got >= 0)
		__atomic_fetch_add(&r->n_cached, 1, __ATOMIC_RELAXED);
	return got;
}
