/*
 * SHA-256 (FIPS 180-4), streaming: the digests the manifest records and the
 * unpacker verifies.  A thin wrapper over nettle's sha256_* (libnettle),
 * which picks the CPU's SHA extensions at run time in Debian's fat build.
 * The state is a plain struct (no allocation), so none of these can fail.
 */
#ifndef COREPACK_SHA256_H
#define COREPACK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

#include "corepack/hex.h"

struct cp_sha256 {
	struct sha256_ctx ctx;
};

void cp_sha256_init(struct cp_sha256 *s);
void cp_sha256_update(struct cp_sha256 *s, const void *data, size_t len);
/* The digest of everything updated since init into OUT; S is reset as by
 * cp_sha256_init(), ready for the next message. */
void cp_sha256_final(struct cp_sha256 *s, uint8_t out[32]);
/* Its lowercase hex form: cp_hex(digest, 32, hex) (hex.h). */

#endif
