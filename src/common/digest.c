/*
 * The sparse digest (see include/corepack/digest.h) and digesting a file
 * on disk by its data regions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/digest.h"
#include "corepack/io.h"

void cp_sparse_digest_init(struct cp_sparse_digest *d)
{
	cp_sha256_init(&d->sha);
	d->index = 0;
	d->fill = 0;
	d->nonzero = 0;
}

static int all_zero(const uint8_t *p, size_t len)
{
	/* Word at a time; the tail byte by byte. */
	size_t i = 0;
	uint64_t acc = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		acc |= v;
		if ((i & 4095) == 0 && acc)
			return 0;
	}
	for (; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

static void emit(struct cp_sparse_digest *d, const uint8_t *chunk, size_t len)
{
	uint8_t idx[8];
	for (int i = 0; i < 8; i++)
		idx[i] = (uint8_t)(d->index >> (8 * i));
	cp_sha256_update(&d->sha, idx, 8);
	cp_sha256_update(&d->sha, chunk, len);
}

/* Close the chunk being filled. */
static void flush(struct cp_sparse_digest *d)
{
	if (d->fill && d->nonzero)
		emit(d, d->chunk, d->fill);
	d->index++;
	d->fill = 0;
	d->nonzero = 0;
}

void cp_sparse_digest_data(struct cp_sparse_digest *d, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		if (d->fill == 0 && len >= CP_SPARSE_CHUNK) {
			/* A whole chunk in the caller's buffer: no copy. */
			if (!all_zero(p, CP_SPARSE_CHUNK))
				emit(d, p, CP_SPARSE_CHUNK);
			d->index++;
			p += CP_SPARSE_CHUNK;
			len -= CP_SPARSE_CHUNK;
			continue;
		}
		size_t n = CP_SPARSE_CHUNK - d->fill;
		if (n > len)
			n = len;
		memcpy(d->chunk + d->fill, p, n);
		if (!d->nonzero && !all_zero(p, n))
			d->nonzero = 1;
		d->fill += n;
		p += n;
		len -= n;
		if (d->fill == CP_SPARSE_CHUNK)
			flush(d);
	}
}

void cp_sparse_digest_zeros(struct cp_sparse_digest *d, uint64_t len)
{
	if (len == 0)
		return;
	if (d->fill) {
		size_t n = CP_SPARSE_CHUNK - d->fill;
		if (n > len)
			n = (size_t)len;
		memset(d->chunk + d->fill, 0, n);
		d->fill += n;
		len -= n;
		if (d->fill == CP_SPARSE_CHUNK)
			flush(d);
	}
	d->index += len / CP_SPARSE_CHUNK;
	size_t rest = (size_t)(len % CP_SPARSE_CHUNK);
	if (rest) {
		memset(d->chunk, 0, rest);
		d->fill = rest;
	}
}

void cp_sparse_digest_final(struct cp_sparse_digest *d, uint8_t out[32])
{
	if (d->fill)
		flush(d);
	cp_sha256_final(&d->sha, out);
}

void cp_any_digest_init(struct cp_any_digest *d, int sparse)
{
	d->sparse = sparse;
	if (sparse)
		cp_sparse_digest_init(&d->sd);
	else
		cp_sha256_init(&d->plain);
}

void cp_any_digest_data(struct cp_any_digest *d, const void *buf, size_t len)
{
	if (d->sparse)
		cp_sparse_digest_data(&d->sd, buf, len);
	else
		cp_sha256_update(&d->plain, buf, len);
}

void cp_any_digest_zeros(struct cp_any_digest *d, uint64_t len)
{
	static const uint8_t zeros[65536];

	if (d->sparse) {
		cp_sparse_digest_zeros(&d->sd, len);
		return;
	}
	while (len > 0) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		cp_sha256_update(&d->plain, zeros, n);
		len -= n;
	}
}

void cp_any_digest_final(struct cp_any_digest *d, uint8_t out[32])
{
	if (d->sparse)
		cp_sparse_digest_final(&d->sd, out);
	else
		cp_sha256_final(&d->plain, out);
}

static int read_region(int fd, uint64_t off, uint64_t len, uint8_t *buf, size_t bufsize,
                       struct cp_any_digest *a)
{
	while (len > 0) {
		size_t want = len < bufsize ? (size_t)len : bufsize;
		int r = cp_pread_full(fd, buf, want, off);
		if (r < 0)
			return r;
		cp_any_digest_data(a, buf, want);
		off += want;
		len -= want;
	}
	return 0;
}

int cp_digest_file(const char *path, int sparse, uint8_t out[32], uint64_t *size,
                   struct cp_error *err)
{
	struct stat st;
	int fd = cp_open_regular(path, O_NOFOLLOW, &st);
	if (fd == -EINVAL)
		return cp_error_set(err, EINVAL, "'%s': not a regular file", path);
	if (fd < 0)
		return cp_error_set(err, -fd, "cannot open '%s': %s", path, strerror(-fd));
	int r = cp_digest_fd(fd, path, sparse, out, size, err);
	close(fd);
	return r;
}

int cp_digest_fd(int fd, const char *path, int sparse, uint8_t out[32], uint64_t *size,
                 struct cp_error *err)
{
	const size_t bufsize = 1 << 20;
	struct cp_any_digest *a = malloc(sizeof(*a));
	uint8_t *buf = malloc(bufsize);
	if (!buf || !a) {
		free(buf);
		free(a);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	cp_any_digest_init(a, sparse);
	int r = 0;
	struct cp_region *regions = NULL;
	size_t n_regions = 0;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = cp_error_set(err, errno, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	uint64_t fsize = (uint64_t)st.st_size, pos = 0;
	r = cp_data_regions(fd, fsize, &regions, &n_regions);
	for (size_t i = 0; r == 0 && i < n_regions; i++) {
		cp_any_digest_zeros(a, regions[i].off - pos);
		r = read_region(fd, regions[i].off, regions[i].len, buf, bufsize, a);
		pos = regions[i].off + regions[i].len;
	}
	if (r == 0 && pos < fsize)
		cp_any_digest_zeros(a, fsize - pos);
	if (r < 0) {
		r = cp_error_set(err, -r, "cannot read '%s': %s", path, strerror(-r));
		goto out;
	}
	cp_any_digest_final(a, out);
	*size = fsize;
out:
	free(regions);
	free(buf);
	free(a);
	return r;
}
