/*
 * Lowercase hex, the form of every build-id and digest corepack writes
 * (manifest.json, the listings, the bundle's debug/.build-id/ names) and
 * the only form coreunpack reads back.
 */
#ifndef COREPACK_HEX_H
#define COREPACK_HEX_H

#include <stddef.h>
#include <stdint.h>

/* LEN bytes as lowercase hex into BUF (2 * LEN + 1 bytes, NUL-terminated). */
void cp_hex(const uint8_t *bytes, size_t len, char *buf);

/* The LEN hex digits at S (lowercase only, LEN even) as LEN / 2 bytes into
 * OUT; OUT may be NULL to check S only.  Returns 0, or -EINVAL for an odd
 * LEN or a character that is not a lowercase hex digit (OUT then partly
 * written). */
int cp_unhex(const char *s, size_t len, uint8_t *out);

#endif
