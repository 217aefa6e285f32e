/*
 * Fuzz harness: the .dwp index reader (cp_dwp_index_has) over hostile
 * section bytes.  Input: a flag byte (bit 0: big-endian), the 8-byte
 * signature to look up (little-endian), then the .debug_cu_index section.
 * The section is copied to a buffer of exactly its size, so a read past it
 * is caught by the sanitizers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/splitdwarf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 9)
		return 0;
	uint64_t id = 0;
	for (int i = 8; i >= 1; i--)
		id = id << 8 | data[i];
	size_t n = size - 9;
	unsigned char *section = malloc(n ? n : 1);
	if (!section)
		return 0;
	memcpy(section, data + 9, n);
	int r = cp_dwp_index_has(section, n, data[0] & 1, id);
	if (r != 0 && r != 1 && r != -22)
		abort();
	free(section);
	return 0;
}
