/*
 * Showing text that came from a core or a bundle (a path, a command line, a
 * function name, a warning that quotes them): it may hold newlines,
 * terminal escape sequences or bytes that are not text, and must reach a
 * terminal, a report or a message as harmless text on its line.  One rule
 * for the report, the listings, coreunpack's output and the front ends'
 * printing of names and warnings, the one the man pages state:
 *  - printable ASCII (0x20 to 0x7e) stays, but '\' doubles, so a name
 *    holding the four characters "\x1b" cannot pass for an escaped byte;
 *  - every other byte (controls, DEL, and every byte of 0x80 and up, so
 *    no C1 control such as CSI U+009B, no bidirectional override and no
 *    malformed UTF-8 reaches a terminal) becomes \xNN, lowercase hex.
 * The result is printable ASCII, and S can be read back from it.
 */
#ifndef COREPACK_ESCAPE_H
#define COREPACK_ESCAPE_H

#include <stddef.h>

struct cp_buf;

/* S escaped into BUF (SIZE bytes), cut to fit with "..." when it does not
 * (never in the middle of an escape).  Returns BUF. */
char *cp_escape(const char *s, char *buf, size_t size);

/* S escaped, whole, appended to B (buf.h). */
void cp_escape_buf(struct cp_buf *b, const char *s);

/* S escaped, whole, as a new string the caller frees; NULL on ENOMEM. */
char *cp_escape_dup(const char *s);

#endif
