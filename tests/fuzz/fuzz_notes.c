/*
 * Fuzz harness: the core note parser.  The first byte picks the class and
 * byte order; the rest is the contents of the PT_NOTE segments.
 */
#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include "corepack/notes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int elfclass = (data[0] & 1) ? ELFCLASS64 : ELFCLASS32;
	int big_endian = (data[0] & 2) != 0;
	struct cp_notes n;
	if (cp_notes_parse(data + 1, size - 1, elfclass, big_endian, &n, NULL) == 0) {
		/* Touch what the parser promised is valid. */
		volatile size_t sum = 0;
		for (size_t i = 0; i < n.n_files; i++)
			for (const char *p = n.files[i].name; *p; p++)
				sum += (unsigned char)*p;
		for (size_t i = 0; i < n.n_threads; i++)
			sum += (size_t)n.threads[i].pid;
		(void)sum;
		cp_notes_done(&n);
	}
	return 0;
}
