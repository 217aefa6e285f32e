/*
 * A growing byte buffer for building text and records in memory.  Running
 * out of memory is sticky (oom) and checked once at the end; the contents
 * are always NUL-terminated, so text can be handed out as a string.
 * Internal to the library.
 */
#ifndef COREPACK_BUF_H
#define COREPACK_BUF_H

#include <stddef.h>

struct cp_buf {
	char *d; /* owned; NULL until something is added */
	size_t len, cap;
	int oom;
};

/* Append N bytes of P (nothing once oom is set). */
void cp_buf_add(struct cp_buf *b, const void *p, size_t n);

#endif
