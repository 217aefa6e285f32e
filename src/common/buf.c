/* The growing buffer of buf.h. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void cp_buf_add(struct cp_buf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len <= n) { /* <=: room for the NUL too */
		size_t cap = b->cap ? b->cap : 256;
		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2) {
				b->oom = 1;
				return;
			}
			cap *= 2;
		}
		char *d = realloc(b->d, cap);
		if (!d) {
			b->oom = 1;
			return;
		}
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->len, p, n);
	b->len += n;
	b->d[b->len] = '\0';
}

void cp_buf_puts(struct cp_buf *b, const char *s)
{
	cp_buf_add(b, s, strlen(s));
}

void cp_buf_printf(struct cp_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		cp_buf_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	cp_buf_add(b, big, (size_t)n);
	free(big);
}

char *cp_buf_steal(struct cp_buf *b)
{
	cp_buf_add(b, "", 0);
	char *d = b->oom ? NULL : b->d;
	if (!d)
		free(b->d);
	*b = (struct cp_buf){0};
	return d;
}

void cp_buf_done(struct cp_buf *b)
{
	free(b->d);
	*b = (struct cp_buf){0};
}
