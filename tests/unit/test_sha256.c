/*
 * SHA-256 against the FIPS 180-4 example vectors, against sha256sum at the
 * padding boundaries, and the SHA-extension path against the portable one
 * with odd-sized chunks.
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
	cp_sha256_hex(d, hex);
}

/* Every vector through both implementations (when the CPU has the
 * extensions), whole. */
static void check_vector(const char *msg, const char *want)
{
	char hex[65];

	for (int hw = 0; hw <= 1; hw++) {
		cp_sha256_use_hw(hw);
		hash_hex(msg, strlen(msg), hex);
		assert_string_equal(hex, want);
	}
	cp_sha256_use_hw(1);
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

	for (int hw = 0; hw <= 1; hw++) {
		cp_sha256_use_hw(hw);
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
		cp_sha256_hex(d, hex);
		assert_string_equal(
		    hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	}
	cp_sha256_use_hw(1);
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

/* The accelerated and portable code agree on every length up to a few
 * blocks, fed in two pieces split anywhere. */
static void test_hw_matches_generic(void **state)
{
	uint8_t data[300];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(data); i++) {
		x = x * 1103515245 + 12345;
		data[i] = (uint8_t)(x >> 16);
	}

	for (size_t len = 0; len <= sizeof(data); len += 7) {
		for (size_t cut = 0; cut <= len; cut += 13) {
			char hex[2][65];
			for (int hw = 0; hw <= 1; hw++) {
				struct cp_sha256 s;
				uint8_t d[32];
				cp_sha256_use_hw(hw);
				cp_sha256_init(&s);
				cp_sha256_update(&s, data, cut);
				cp_sha256_update(&s, data + cut, len - cut);
				cp_sha256_final(&s, d);
				cp_sha256_hex(d, hex[hw]);
			}
			assert_string_equal(hex[0], hex[1]);
		}
	}
	cp_sha256_use_hw(1);
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
	    cmocka_unit_test(test_hw_matches_generic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
