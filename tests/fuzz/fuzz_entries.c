/*
 * Fuzz harness: the bundle entry validator over a sequence of tar headers.
 * Input: records of [type byte][mode: 2 bytes][size: 4 bytes][name NUL]
 * [link NUL]; the validator sees them in order, as it would an archive's,
 * and keeps going after a refusal so later state is exercised too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/entry_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *take_string(const uint8_t **p, const uint8_t *end, char *buf, size_t cap)
{
	const uint8_t *nul = memchr(*p, '\0', (size_t)(end - *p));
	size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p = nul ? nul + 1 : end;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_entry_validator *v = NULL;
	if (cp_entry_validator_new(&v) < 0)
		return 0;
	const uint8_t *p = data, *end = data + size;
	static char name[8192], link[8192];
	for (int i = 0; end - p >= 7 && i < 10000; i++) {
		struct cp_entry e;
		e.type = (enum cp_entry_type)(p[0] % (CP_ENTRY_UNKNOWN + 1));
		e.mode = (unsigned)(p[1] | p[2] << 8) & 07777;
		e.size = (int64_t)((uint64_t)p[3] | (uint64_t)p[4] << 8 | (uint64_t)p[5] << 16 |
		                   (uint64_t)p[6] << 24)
		         << (p[0] >> 4);
		p += 7;
		e.name = take_string(&p, end, name, sizeof(name));
		e.link = take_string(&p, end, link, sizeof(link));
		if (e.type != CP_ENTRY_SYMLINK && e.type != CP_ENTRY_HARDLINK)
			e.link = NULL;
		struct cp_entry_checked out;
		if (cp_entry_check(v, &e, &out, NULL) == 0) {
			enum cp_entry_type t;
			cp_entry_lookup(v, out.path, &t);
		}
	}
	cp_entry_validator_free(v);
	return 0;
}
