/*
 * Fuzz harness: the manifest parser (manifest.json from a stranger's
 * bundle) under its budgets, and digests.json against the manifest read:
 * the input is the manifest, then, after a NUL byte if there is one,
 * digests.json.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "corepack/manifest_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t mlen = nul ? (size_t)(nul - data) : size;
	struct cp_manifest *m = NULL;
	if (cp_manifest_parse((const char *)data, mlen, &m, NULL) == 0) {
		if (nul)
			cp_manifest_take_digests(m, (const char *)nul + 1, size - mlen - 1, NULL);
		cp_manifest_free(m);
	}
	return 0;
}
