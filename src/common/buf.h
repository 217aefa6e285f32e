/*
 * The one growing byte buffer, for building text and records in memory
 * (the report, the listings, rendered templates, the unwinder's records,
 * strings read from a core's memory).  Running out of memory is sticky
 * (oom) and checked once at the end; the contents are always
 * NUL-terminated once anything was added, so text can be handed out as a
 * string.  Internal to the libraries.
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
/* Append the string S. */
void cp_buf_puts(struct cp_buf *b, const char *s);
/* Append printf-style text. */
void cp_buf_printf(struct cp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The contents as a NUL-terminated string the caller frees ("" when
 * nothing was added), and B emptied; NULL when memory ran out, with B's
 * memory freed. */
char *cp_buf_steal(struct cp_buf *b);
/* Free B's contents; B is empty again. */
void cp_buf_done(struct cp_buf *b);

#endif
