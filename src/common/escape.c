/*
 * Text from a core or a bundle made safe to show (include/corepack/escape.h):
 * one rule, applied one byte at a time by escape_one(), behind the
 * three ways of getting the result (bounded, into a buffer, allocated).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "corepack/escape.h"
#include "corepack/hex.h"

/* The escaped form of the byte at P into PIECE (at most 4 bytes and a
 * NUL); returns its length. */
static size_t escape_one(const unsigned char *p, char piece[5])
{
	if (*p == '\\') {
		piece[0] = piece[1] = '\\';
		return 2;
	}
	if (*p >= 0x20 && *p < 0x7f) {
		piece[0] = (char)*p;
		return 1;
	}
	piece[0] = '\\';
	piece[1] = 'x';
	cp_hex(p, 1, piece + 2);
	return 4;
}

char *cp_escape(const char *s, char *buf, size_t size)
{
	size_t o = 0;
	if (size == 0)
		return buf;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char piece[5];
		size_t n = escape_one(p, piece);
		if (o + n + 4 > size) { /* keep room for "..." and the NUL */
			if (o + 4 <= size)
				memcpy(buf + o, "...", 3), o += 3;
			break;
		}
		memcpy(buf + o, piece, n);
		o += n;
	}
	buf[o < size ? o : size - 1] = '\0';
	return buf;
}

void cp_escape_buf(struct cp_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char piece[5];
		cp_buf_add(b, piece, escape_one(p, piece));
	}
}

char *cp_escape_dup(const char *s)
{
	struct cp_buf b = {0};
	cp_escape_buf(&b, s);
	return cp_buf_steal(&b);
}
