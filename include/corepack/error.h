/*
 * Error reporting for library code.  Library functions never print or exit:
 * they return 0 or a negative errno and, when the caller passes a
 * struct cp_error, fill it with a one-line message captured at the failure
 * site (with elf_errmsg(-1), archive_error_string(), strerror() ...).
 * A caller that adds context to a callee's message uses cp_error_prefix().
 * The front ends print "corepack: MESSAGE".
 */
#ifndef COREPACK_ERROR_H
#define COREPACK_ERROR_H

#include <stddef.h>

struct cp_error {
	int code;       /* positive errno, 0 when unset */
	char msg[1024]; /* "cannot open 'x': No such file or directory" */
};

/*
 * Record an error and return -code (code is a positive errno).  ERR may be
 * NULL.  The first error set wins, so the deepest (most precise) context is
 * kept unless the caller clears it with cp_error_clear().
 */
int cp_error_set(struct cp_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like cp_error_set(), but always overwrites an earlier message. */
int cp_error_reset(struct cp_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Put context before the message already set in ERR ("'core.1': " before
 * "notes are cut off"), for a caller that knows what the callee did not:
 * the code stays, the message becomes PREFIX + message, cut to fit msg[]
 * (the message's end goes first; never overflows).  Nothing when ERR is
 * NULL or holds no error.
 */
void cp_error_prefix(struct cp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void cp_error_clear(struct cp_error *err);

#endif
