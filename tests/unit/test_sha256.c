/*
 * The SHA-256 wrapper (nettle underneath) against the FIPS 180-4 / NIST
 * example vectors, fed whole and in odd-sized pieces, against sha256sum at
 * the padding boundaries, and reusable after final().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "corepack/sha256.h"

static void hash_hex(const void *data, size_t len, char hex[65])
{
	struct cp_sha256 s;
	uint8_t d[32];

	cp_sha256_init(&s);
	cp_sha256_update(&s, data, len);
	cp_sha256_final(&s, d);
	cp_hex(d, 32, hex);
}

/* A vector whole, then byte by byte. */
static void check_vector(const char *msg, const char *want)
{
	char hex[65];
	hash_hex(msg, strlen(msg), hex);
	assert_string_equal(hex, want);

	struct cp_sha256 s;
	uint8_t d[32];
	cp_sha256_init(&s);
	for (const char *p = msg; *p; p++)
		cp_sha256_update(&s, p, 1);
	cp_sha256_final(&s, d);
	cp_hex(d, 32, hex);
	assert_string_equal(hex, want);
}

static void test_empty(void **state)
{
	check_vector("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_abc(void **state)
{
	check_vector("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_448_bits(void **state)
{
	check_vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_896_bits(void **state)
{
	check_vector("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
	             "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

/* One million 'a' in chunks of 1, 3, 7, 61, 64, 65, 1000, ... bytes so the
 * partial-block paths of update() all run. */
static void test_million_a(void **state)
{
	static const size_t chunks[] = {1, 3, 7, 61, 64, 65, 127, 1000, 4099};
	char *a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);

	struct cp_sha256 s;
	uint8_t d[32];
	char hex[65];
	size_t off = 0;
	unsigned k = 0;

	cp_sha256_init(&s);
	while (off < 1000000) {
		size_t n = chunks[k++ % (sizeof(chunks) / sizeof(chunks[0]))];
		if (n > 1000000 - off)
			n = 1000000 - off;
		cp_sha256_update(&s, a + off, n);
		off += n;
	}
	cp_sha256_final(&s, d);
	cp_hex(d, 32, hex);
	assert_string_equal(hex,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* Lengths around the 55/56/64-byte padding boundaries, checked against
 * sha256sum. */
static void test_padding_boundaries_match_sha256sum(void **state)
{
	static const size_t lens[] = {1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000};
	uint8_t data[1000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + 7);

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char path[] = "/tmp/cp-test-sha256.XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, data, lens[i]), (ssize_t)lens[i]);
		close(fd);

		char cmd[128], line[128];
		snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		assert_non_null(fgets(line, sizeof(line), p));
		assert_int_equal(pclose(p), 0);
		unlink(path);
		line[64] = '\0';

		char hex[65];
		hash_hex(data, lens[i], hex);
		assert_string_equal(hex, line);
	}
}

/* final() leaves the state ready for a new message (sha256.h says so):
 * "abc" hashed after a finished message is still FIPS 180-4's "abc". */
static void test_reuse_after_final(void **state)
{
	struct cp_sha256 s;
	uint8_t d[32];
	char hex[65];

	cp_sha256_init(&s);
	cp_sha256_update(&s, "something else entirely", 23);
	cp_sha256_final(&s, d);
	cp_sha256_update(&s, "abc", 3);
	cp_sha256_final(&s, d);
	cp_hex(d, 32, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_abc),
	    cmocka_unit_test(test_448_bits),
	    cmocka_unit_test(test_896_bits),
	    cmocka_unit_test(test_million_a),
	    cmocka_unit_test(test_padding_boundaries_match_sha256sum),
	    cmocka_unit_test(test_reuse_after_final),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
