/* SHA-256 (FIPS 180-4), streaming.  Used to record and verify file digests. */
#ifndef COREPACK_SHA256_H
#define COREPACK_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct cp_sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t used;
};

void cp_sha256_init(struct cp_sha256 *s);
void cp_sha256_update(struct cp_sha256 *s, const void *data, size_t len);
void cp_sha256_final(struct cp_sha256 *s, uint8_t out[32]);
/* Lowercase hex digest into HEX (65 bytes). */
void cp_sha256_hex(const uint8_t digest[32], char hex[65]);

/* Whether to use the CPU's SHA instructions when it has them (the default).
 * Returns whether they are now in use.  For tests and benchmarks, which
 * compare the accelerated and the portable code; both give the same digest,
 * so switching even while hashing is harmless. */
int cp_sha256_use_hw(int enable);

#endif
