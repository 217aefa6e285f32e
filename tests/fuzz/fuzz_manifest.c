/*
 * Fuzz harness: the manifest parser (manifest.json from a stranger's
 * bundle).
 */
#include <stddef.h>
#include <stdint.h>

#include "corepack/manifest_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_manifest *m = NULL;
	if (cp_manifest_parse((const char *)data, size, &m, NULL) == 0)
		cp_manifest_free(m);
	return 0;
}
