/*
 * SHA-256 through nettle (see sha256.h).  nettle rather than OpenSSL's
 * libcrypto: libarchive already loads libnettle, its context needs no
 * allocation (so nothing here can fail), and it reads no configuration
 * file.  Measured here (AMD EPYC with SHA-NI, 1 GiB in 1 MiB updates,
 * medians): nettle 3.8.1 1263 MB/s, libcrypto 3.0 EVP 1401 MB/s, the
 * former hand-written SHA-NI code 1402 MB/s.  Packing and unpacking a
 * 500 MB core took the same wall time within noise (pack 1.12 s before,
 * 1.16 s after; unpack 1.39 s, 1.35 s) for about 0.06 CPU-seconds more.
 */
#include "corepack/sha256.h"

void cp_sha256_init(struct cp_sha256 *s)
{
	sha256_init(&s->ctx);
}

void cp_sha256_update(struct cp_sha256 *s, const void *data, size_t len)
{
	sha256_update(&s->ctx, len, data);
}

void cp_sha256_final(struct cp_sha256 *s, uint8_t out[32])
{
	sha256_digest(&s->ctx, SHA256_DIGEST_SIZE, out);
}
