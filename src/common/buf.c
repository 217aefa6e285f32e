/* The growing buffer of buf.h. */
#include <stdint.h>
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
