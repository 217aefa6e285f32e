/*
 * Text from a core or a bundle made safe to show (see
 * include/corepack/escape.h).
 */
#include <stdio.h>
#include <string.h>

#include "corepack/escape.h"

/* Length of the UTF-8 sequence at S that encodes a printable character
 * (U+00A0 and up, well-formed, shortest form), or 0. */
static size_t utf8_printable(const unsigned char *s)
{
	size_t n;
	unsigned cp;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *cp_bundle_printable(const char *s, char *buf, size_t size)
{
	size_t o = 0;
	if (size == 0)
		return buf;
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		char piece[8];
		size_t n, adv = *p >= 0x80 ? utf8_printable(p) : 0;
		if (adv) {
			memcpy(piece, p, adv);
			n = adv;
		} else if (*p < 0x20 || *p >= 0x7f) {
			snprintf(piece, sizeof(piece), "\\x%02x", *p);
			n = 4;
			adv = 1;
		} else {
			piece[0] = (char)*p;
			n = adv = 1;
		}
		if (o + n + 4 > size) { /* keep room for "..." and the NUL */
			if (o + 4 <= size)
				memcpy(buf + o, "...", 3), o += 3;
			break;
		}
		memcpy(buf + o, piece, n);
		o += n;
		p += adv;
	}
	buf[o < size ? o : size - 1] = '\0';
	return buf;
}
