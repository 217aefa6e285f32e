/*
 * SHA-256 as specified by FIPS 180-4, streaming, for the digests the
 * manifest records and the unpacker verifies.  Every byte of every packed
 * file goes through here, holes included (a file's digest must be what
 * sha256sum prints), so on x86-64 the compression function uses the SHA
 * extensions when the CPU has them: about five times the speed of the
 * portable code, which stays the reference and the fallback.
 */
#include <stdint.h>
#include <string.h>

#include "corepack/sha256.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void compress_generic(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
	uint32_t w[64];

	for (; nblocks > 0; nblocks--, p += 64) {
		for (int i = 0; i < 16; i++)
			w[i] = load_be32(p + 4 * i);
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}

		uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
		uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int i = 0; i < 64; i++) {
			uint32_t S1 = ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25);
			uint32_t ch = (e & f) ^ (~e & g);
			uint32_t t1 = hh + S1 + ch + K[i] + w[i];
			uint32_t S0 = ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22);
			uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
			uint32_t t2 = S0 + maj;
			hh = g;
			g = f;
			f = e;
			e = d + t1;
			d = c;
			c = b;
			b = a;
			a = t1 + t2;
		}
		h[0] += a;
		h[1] += b;
		h[2] += c;
		h[3] += d;
		h[4] += e;
		h[5] += f;
		h[6] += g;
		h[7] += hh;
	}
}

#ifdef SHA256_HAVE_SHANI
/*
 * The SHA extensions keep the state as two vectors, ABEF and CDGH, and run
 * two rounds per sha256rnds2; message words are scheduled four at a time
 * with sha256msg1/sha256msg2 (FIPS 180-4 section 6.2.2, steps 1 and 3).
 */
#define SHANI_ROUNDS(state0, state1, msg, k)                                                       \
	do {                                                                                       \
		__m128i wk_ = _mm_add_epi32((msg), _mm_loadu_si128((const __m128i *)(k)));         \
		(state1) = _mm_sha256rnds2_epu32((state1), (state0), wk_);                         \
		wk_ = _mm_shuffle_epi32(wk_, 0x0e);                                                \
		(state0) = _mm_sha256rnds2_epu32((state0), (state1), wk_);                         \
	} while (0)

/* W[i..i+3] from W[i-16..i-1], held in m0 (oldest) .. m3 (newest); the
 * result replaces m0. */
#define SHANI_SCHEDULE(m0, m1, m2, m3)                                                             \
	do {                                                                                       \
		__m128i x_ = _mm_sha256msg1_epu32((m0), (m1));                                     \
		x_ = _mm_add_epi32(x_, _mm_alignr_epi8((m3), (m2), 4));                            \
		(m0) = _mm_sha256msg2_epu32(x_, (m3));                                             \
	} while (0)

__attribute__((target("sha,sse4.1"))) static void compress_shani(uint32_t h[8], const uint8_t *p,
                                                                 size_t nblocks)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xb1);
	__m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1b);
	__m128i state0 = _mm_alignr_epi8(tmp, state1, 8); /* ABEF */
	state1 = _mm_blend_epi16(state1, tmp, 0xf0);      /* CDGH */

	for (; nblocks > 0; nblocks--, p += 64) {
		__m128i save0 = state0, save1 = state1;
		__m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		__m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		__m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		__m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);

		SHANI_ROUNDS(state0, state1, m0, &K[0]);
		SHANI_ROUNDS(state0, state1, m1, &K[4]);
		SHANI_ROUNDS(state0, state1, m2, &K[8]);
		SHANI_ROUNDS(state0, state1, m3, &K[12]);
		for (int i = 16; i < 64; i += 16) {
			SHANI_SCHEDULE(m0, m1, m2, m3);
			SHANI_ROUNDS(state0, state1, m0, &K[i]);
			SHANI_SCHEDULE(m1, m2, m3, m0);
			SHANI_ROUNDS(state0, state1, m1, &K[i + 4]);
			SHANI_SCHEDULE(m2, m3, m0, m1);
			SHANI_ROUNDS(state0, state1, m2, &K[i + 8]);
			SHANI_SCHEDULE(m3, m0, m1, m2);
			SHANI_ROUNDS(state0, state1, m3, &K[i + 12]);
		}

		state0 = _mm_add_epi32(state0, save0);
		state1 = _mm_add_epi32(state1, save1);
	}

	tmp = _mm_shuffle_epi32(state0, 0x1b);       /* FEBA */
	state1 = _mm_shuffle_epi32(state1, 0xb1);    /* DCHG */
	state0 = _mm_blend_epi16(tmp, state1, 0xf0); /* DCBA */
	state1 = _mm_alignr_epi8(state1, tmp, 8);    /* HGFE */
	_mm_storeu_si128((__m128i *)&h[0], state0);
	_mm_storeu_si128((__m128i *)&h[4], state1);
}

static int cpu_has_shani(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29)))
		return 0;
	/* The SHA path also uses SSSE3 (pshufb) and SSE4.1 (pblendw). */
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	return (c & (1u << 9)) && (c & (1u << 19));
}
#endif

/* -1 until probed; then 1 to use the SHA extensions, 0 not to.  Racing
 * probes store the same value, hence relaxed atomics suffice. */
static int use_hw = -1;

static int hw_enabled(void)
{
	int v = __atomic_load_n(&use_hw, __ATOMIC_RELAXED);
	if (v < 0) {
#ifdef SHA256_HAVE_SHANI
		v = cpu_has_shani();
#else
		v = 0;
#endif
		__atomic_store_n(&use_hw, v, __ATOMIC_RELAXED);
	}
	return v;
}

int cp_sha256_use_hw(int enable)
{
	int v = 0;
#ifdef SHA256_HAVE_SHANI
	v = enable && cpu_has_shani();
#endif
	__atomic_store_n(&use_hw, v, __ATOMIC_RELAXED);
	return v;
}

static void compress(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
#ifdef SHA256_HAVE_SHANI
	if (hw_enabled()) {
		compress_shani(h, p, nblocks);
		return;
	}
#else
	(void)hw_enabled;
#endif
	compress_generic(h, p, nblocks);
}

void cp_sha256_init(struct cp_sha256 *s)
{
	static const uint32_t h0[8] = {
	    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
	s->used = 0;
}

void cp_sha256_update(struct cp_sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	s->len += len;
	if (s->used > 0) {
		size_t n = sizeof(s->buf) - s->used;
		if (n > len)
			n = len;
		memcpy(s->buf + s->used, p, n);
		s->used += n;
		p += n;
		len -= n;
		if (s->used < sizeof(s->buf))
			return;
		compress(s->h, s->buf, 1);
		s->used = 0;
	}
	if (len >= 64) {
		compress(s->h, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	if (len > 0) {
		memcpy(s->buf, p, len);
		s->used = len;
	}
}

void cp_sha256_final(struct cp_sha256 *s, uint8_t out[32])
{
	uint64_t bits = s->len * 8;

	s->buf[s->used++] = 0x80;
	if (s->used > 56) {
		memset(s->buf + s->used, 0, 64 - s->used);
		compress(s->h, s->buf, 1);
		s->used = 0;
	}
	memset(s->buf + s->used, 0, 56 - s->used);
	for (int i = 0; i < 8; i++)
		s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	compress(s->h, s->buf, 1);
	s->used = 0;

	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
}

void cp_sha256_hex(const uint8_t digest[32], char hex[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0xf];
	}
	hex[64] = '\0';
}
