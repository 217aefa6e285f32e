/*
 * Page-cache-aware reading of large files; see file_reader.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "file_reader.h"

void cp_file_reader_init(struct cp_file_reader *r, int fd, uint64_t size, int direct)
{
	*r = (struct cp_file_reader){.fd = fd};
	long page = sysconf(_SC_PAGESIZE);
	if (!direct || size == 0 || size > SIZE_MAX || page <= 0)
		return;
	r->page = (size_t)page;
	r->vec = malloc(CP_READER_MAX / r->page + 2);
	if (!r->vec)
		return;
	/* Address space only: no page of it is ever touched. */
	void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		free(r->vec);
		r->vec = NULL;
		return;
	}
	r->map = map;
	r->map_len = (size_t)size;
	r->direct = 1;
}

/* Turns O_DIRECT on or off on the descriptor; 0 when it is as asked. */
static int set_direct(struct cp_file_reader *r, int on)
{
	if (r->fd_direct == on)
		return 0;
	int fl = fcntl(r->fd, F_GETFL);
	if (fl < 0 || fcntl(r->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) < 0)
		return -1;
	r->fd_direct = on;
	return 0;
}

void cp_file_reader_done(struct cp_file_reader *r)
{
	set_direct(r, 0);
	if (r->map)
		munmap(r->map, r->map_len);
	free(r->vec);
	*r = (struct cp_file_reader){.fd = -1};
}

/* Every page of [OFF, OFF+LEN) is in the page cache (or cannot be told). */
static int all_cached(struct cp_file_reader *r, size_t len, uint64_t off)
{
	if (off >= r->map_len || len > r->map_len - off)
		return 1; /* the file grew: read what is there the plain way */
	uint64_t start = off & ~(uint64_t)(r->page - 1);
	size_t span = (size_t)(off + len - start);
	if (mincore((char *)r->map + start, span, r->vec) < 0)
		return 1;
	for (size_t i = 0, n = (span + r->page - 1) / r->page; i < n; i++)
		if (!(r->vec[i] & 1))
			return 0;
	return 1;
}

static int aligned(uint64_t v)
{
	return (v & (CP_READER_ALIGN - 1)) == 0;
}

ssize_t cp_file_reader_pread(struct cp_file_reader *r, void *buf, size_t len, uint64_t off)
{
	if (len > CP_READER_MAX)
		len = CP_READER_MAX;
	/* Small reads (a core's stacks and scattered pages) go through the
	 * cache, where read-ahead serves them better than one disk round
	 * trip each. */
	int direct = r->direct && len >= CP_READER_DIRECT_MIN && aligned(off) &&
	             aligned((uintptr_t)buf) && !all_cached(r, len, off);
	if (direct && set_direct(r, 1) < 0) {
		r->direct = 0; /* the filesystem takes no O_DIRECT */
		direct = 0;
	}
	if (direct) {
		/* Past the end of LEN is the next region or a hole (zeros),
		 * or the end of the file, where the read comes back short. */
		size_t want = (len + CP_READER_ALIGN - 1) & ~(size_t)(CP_READER_ALIGN - 1);
		ssize_t got;
		do
			got = pread(r->fd, buf, want, (off_t)off);
		while (got < 0 && errno == EINTR);
		if (got >= 0) {
			r->n_direct++;
			return got > (ssize_t)len ? (ssize_t)len : got;
		}
		if (errno != EINVAL)
			return -1;
		/* An alignment this device does not take: no more tries. */
		r->direct = 0;
	}
	if (set_direct(r, 0) < 0)
		return -1;
	ssize_t got;
	do
		got = pread(r->fd, buf, len, (off_t)off);
	while (got < 0 && errno == EINTR);
	if (got >= 0)
		r->n_cached++;
	return got;
}
