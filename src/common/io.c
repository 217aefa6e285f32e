/*
 * Opening and reading files under the project's rules (include/corepack/io.h):
 * the regular-file check on the open descriptor, full reads, capped whole
 * reads, and the data regions of a file with holes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "corepack/io.h"

int cp_open_regular(const char *path, int flags, struct stat *st)
{
	struct stat own;
	if (!st)
		st = &own;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int cp_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* short file */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int cp_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int cp_read_file_capped(const char *path, size_t cap, char **out, size_t *len, struct cp_error *err)
{
	struct stat st;
	int fd = cp_open_regular(path, 0, &st);
	if (fd == -EINVAL)
		return cp_error_set(err, EINVAL, "cannot read '%s': not a regular file", path);
	if (fd < 0)
		return cp_error_set(err, -fd, "cannot open '%s': %s", path, strerror(-fd));
	struct cp_buf b = {0};
	int r = 0;
	if ((uint64_t)st.st_size > cap)
		r = -EFBIG;
	/* Read to the end, not st_size bytes: the file may have changed, and
	 * /proc files say 0. */
	while (r == 0) {
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		if ((size_t)n > cap - b.len)
			r = -EFBIG;
		else
			cp_buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	size_t n = b.len;
	char *text = r == 0 ? cp_buf_steal(&b) : NULL;
	cp_buf_done(&b);
	if (r == -EFBIG)
		return cp_error_set(err, EFBIG, "cannot read '%s': larger than %zu bytes", path,
		                    cap);
	if (r < 0)
		return cp_error_set(err, -r, "cannot read '%s': %s", path, strerror(-r));
	if (!text)
		return cp_error_set(err, ENOMEM, "cannot read '%s': %s", path, strerror(ENOMEM));
	*out = text;
	*len = n;
	return 0;
}

int cp_data_regions(int fd, uint64_t size, struct cp_region **out, size_t *n_out)
{
	struct cp_region *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t pos = 0;

	while (pos < size) {
		off_t data = lseek(fd, (off_t)pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* only a hole is left */
		off_t hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
		if (data < 0 || hole < 0) {
			if (errno == EINVAL || errno == EOPNOTSUPP) {
				free(v);
				if (!(v = malloc(sizeof(*v))))
					return -ENOMEM;
				v[0] = (struct cp_region){0, size};
				n = 1;
				break;
			}
			int e = errno;
			free(v);
			return -e;
		}
		if ((uint64_t)data >= size)
			break;
		if ((uint64_t)hole > size)
			hole = (off_t)size;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct cp_region *nv = reallocarray(v, cap, sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = (struct cp_region){(uint64_t)data, (uint64_t)(hole - data)};
		pos = (uint64_t)hole;
	}
	*out = v;
	*n_out = n;
	return 0;
}
