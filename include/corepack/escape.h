/*
 * Showing text that came from a core or a bundle: a name can hold newlines,
 * terminal escape sequences or bytes that are not text, and must reach a
 * terminal or a message as one harmless line.
 */
#ifndef COREPACK_ESCAPE_H
#define COREPACK_ESCAPE_H

#include <stddef.h>

/* S for a message: control characters and bytes >= 0x7f as \xNN, cut to
 * fit SIZE (with "..." when cut).  Returns BUF. */
char *cp_bundle_printable(const char *s, char *buf, size_t size);

#endif
