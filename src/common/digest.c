/*
 * The digests of include/corepack/digest.h (SHA-256 through sha256.h,
 * XXH3-128 through libxxhash, each plain or sparse) and digesting a file
 * on disk by its data regions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#ifdef CP_HAVE_XXH_DISPATCH
/* libxxhash's x86 dispatcher (CMakeLists.txt): the same digest, with the
 * widest vector unit the CPU has, chosen once at the first call. */
#include <xxh_x86dispatch.h>
#define cp_xxh3_128_update XXH3_128bits_update_dispatch
#else
#define cp_xxh3_128_update XXH3_128bits_update
#endif

#include "corepack/digest.h"
#include "corepack/io.h"

static void hash_init(struct cp_hash *h, int xxh3, struct XXH3_state_s *xxh)
{
	h->xxh3 = xxh3;
	h->xxh = xxh;
	if (xxh3)
		XXH3_128bits_reset(xxh);
	else
		cp_sha256_init(&h->sha);
}

static void hash_update(struct cp_hash *h, const void *buf, size_t len)
{
	if (h->xxh3)
		cp_xxh3_128_update(h->xxh, buf, len);
	else
		cp_sha256_update(&h->sha, buf, len);
}

/* 16 bytes (XXH3-128, its canonical big-endian form, as xxh128sum prints
 * it) or 32 (SHA-256) into OUT. */
static void hash_final(struct cp_hash *h, uint8_t *out)
{
	if (h->xxh3) {
		XXH128_canonical_t c;
		XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->xxh));
		memcpy(out, c.digest, sizeof(c.digest));
	} else {
		cp_sha256_final(&h->sha, out);
	}
}

static void sparse_init(struct cp_sparse_digest *d, int xxh3, struct XXH3_state_s *xxh)
{
	hash_init(&d->h, xxh3, xxh);
	d->index = 0;
	d->fill = 0;
	d->nonzero = 0;
	d->dirty_lo = d->dirty_hi = 0;
	memset(d->chunk, 0, sizeof(d->chunk));
}

void cp_sparse_digest_init(struct cp_sparse_digest *d)
{
	sparse_init(d, 0, NULL);
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
	hash_update(&d->h, idx, 8);
	hash_update(&d->h, chunk, len);
}

/* Close the chunk being filled, and zero what data it took. */
static void flush(struct cp_sparse_digest *d)
{
	if (d->fill && d->nonzero)
		emit(d, d->chunk, d->fill);
	memset(d->chunk + d->dirty_lo, 0, d->dirty_hi - d->dirty_lo);
	d->dirty_lo = d->dirty_hi = 0;
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
		if (d->dirty_hi == 0)
			d->dirty_lo = d->fill;
		memcpy(d->chunk + d->fill, p, n);
		if (!d->nonzero && !all_zero(p, n))
			d->nonzero = 1;
		d->fill += n;
		d->dirty_hi = d->fill;
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
	/* The bytes past FILL are zeros already. */
	if (d->fill) {
		size_t n = CP_SPARSE_CHUNK - d->fill;
		if (n > len)
			n = (size_t)len;
		d->fill += n;
		len -= n;
		if (d->fill == CP_SPARSE_CHUNK)
			flush(d);
	}
	if (len) {
		d->index += len / CP_SPARSE_CHUNK;
		d->fill = (size_t)(len % CP_SPARSE_CHUNK);
	}
}

static void sparse_final(struct cp_sparse_digest *d, uint8_t *out)
{
	if (d->fill)
		flush(d);
	hash_final(&d->h, out);
}

void cp_sparse_digest_final(struct cp_sparse_digest *d, uint8_t out[32])
{
	sparse_final(d, out);
}

struct cp_any_digest *cp_any_digest_new(void)
{
	struct cp_any_digest *d = calloc(1, sizeof(*d));
	if (d && !(d->xxh = XXH3_createState())) {
		free(d);
		d = NULL;
	}
	return d;
}

void cp_any_digest_free(struct cp_any_digest *d)
{
	if (!d)
		return;
	XXH3_freeState(d->xxh);
	free(d);
}

void cp_any_digest_init(struct cp_any_digest *d, enum cp_digest_kind kind)
{
	int xxh3 = cp_digest_kind_xxh3(kind);
	d->kind = kind;
	if (cp_digest_kind_sparse(kind))
		sparse_init(&d->sd, xxh3, d->xxh);
	else
		hash_init(&d->plain, xxh3, d->xxh);
}

void cp_any_digest_data(struct cp_any_digest *d, const void *buf, size_t len)
{
	if (cp_digest_kind_sparse(d->kind))
		cp_sparse_digest_data(&d->sd, buf, len);
	else
		hash_update(&d->plain, buf, len);
}

void cp_any_digest_zeros(struct cp_any_digest *d, uint64_t len)
{
	static const uint8_t zeros[65536];

	if (cp_digest_kind_sparse(d->kind)) {
		cp_sparse_digest_zeros(&d->sd, len);
		return;
	}
	while (len > 0) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		hash_update(&d->plain, zeros, n);
		len -= n;
	}
}

void cp_any_digest_final(struct cp_any_digest *d, uint8_t out[CP_DIGEST_MAX])
{
	if (cp_digest_kind_sparse(d->kind))
		sparse_final(&d->sd, out);
	else
		hash_final(&d->plain, out);
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
	return cp_digest_fd_as(fd, path, cp_digest_kind_for(sparse, 0), out, size, err);
}

int cp_digest_fd_as(int fd, const char *path, enum cp_digest_kind kind, uint8_t out[CP_DIGEST_MAX],
                    uint64_t *size, struct cp_error *err)
{
	const size_t bufsize = 1 << 20;
	struct cp_any_digest *a = cp_any_digest_new();
	uint8_t *buf = malloc(bufsize);
	if (!buf || !a) {
		free(buf);
		cp_any_digest_free(a);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	cp_any_digest_init(a, kind);
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
	cp_any_digest_free(a);
	return r;
}
