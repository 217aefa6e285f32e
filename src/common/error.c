/*
 * The error object filled by library code at the failure site; see
 * include/corepack/error.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "corepack/error.h"

static int error_vset(struct cp_error *err, int overwrite, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int error_vset(struct cp_error *err, int overwrite, int code, const char *fmt, va_list ap)
{
	if (code < 0)
		code = -code;
	if (code == 0)
		code = 5; /* EIO: an error must never read as success */
	if (err && (overwrite || err->code == 0)) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return -code;
}

int cp_error_set(struct cp_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, 0, code, fmt, ap);
	va_end(ap);
	return r;
}

int cp_error_reset(struct cp_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = error_vset(err, 1, code, fmt, ap);
	va_end(ap);
	return r;
}

void cp_error_prefix(struct cp_error *err, const char *fmt, ...)
{
	char prefix[sizeof(err->msg)];
	if (!err || err->code == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	size_t plen = strlen(prefix), room = sizeof(err->msg) - 1 - plen;
	size_t keep = strnlen(err->msg, sizeof(err->msg) - 1);
	if (keep > room)
		keep = room;
	memmove(err->msg + plen, err->msg, keep);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + keep] = '\0';
}

void cp_error_clear(struct cp_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
