/* Lowercase hex both ways (include/corepack/hex.h). */
#include <errno.h>

#include "corepack/hex.h"

void cp_hex(const uint8_t *bytes, size_t len, char *buf)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		buf[2 * i] = digits[bytes[i] >> 4];
		buf[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	buf[2 * len] = '\0';
}

static int digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int cp_unhex(const char *s, size_t len, uint8_t *out)
{
	if (len % 2)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 2) {
		int hi = digit(s[i]), lo = digit(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (out)
			out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
