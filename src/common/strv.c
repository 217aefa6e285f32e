/*
 * Growing arrays of strings (include/corepack/strv.h): one formatted line
 * appended at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "corepack/strv.h"

int cp_strv_vaddf(char ***v, size_t *n, const char *fmt, va_list ap)
{
	char *msg;
	if (vasprintf(&msg, fmt, ap) < 0)
		return -ENOMEM;
	char **a = realloc(*v, (*n + 1) * sizeof(*a));
	if (!a) {
		free(msg);
		return -ENOMEM;
	}
	*v = a;
	a[(*n)++] = msg;
	return 0;
}

int cp_strv_addf(char ***v, size_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = cp_strv_vaddf(v, n, fmt, ap);
	va_end(ap);
	return r;
}
