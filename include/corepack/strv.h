/*
 * Arrays of strings that grow one line at a time (warnings collected by
 * library code for the front end to print).  An array is a char ** and its
 * count; each string and the array are malloc'd, and the caller frees
 * them.
 */
#ifndef COREPACK_STRV_H
#define COREPACK_STRV_H
#include <stdarg.h>
#include <stddef.h>

/* Append the printf-formatted line to *V (*N strings).  Returns 0, or
 * -ENOMEM with *V and *N unchanged. */
int cp_strv_addf(char ***v, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cp_strv_vaddf(char ***v, size_t *n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
