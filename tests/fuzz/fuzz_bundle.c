/*
 * Fuzz harness: reading a whole bundle in list mode (libarchive's tar
 * reader with corepack's filters, the entry validator, the manifest parser
 * and the cross-checks between them), from a memory file; nothing is
 * extracted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "corepack/bundle_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("bundle", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	struct cp_bundle_read_opts o = {0};
	struct cp_bundle_contents *c = NULL;
	if (cp_bundle_read(path, &o, &c, NULL) == 0)
		cp_bundle_contents_free(c);
	return 0;
}
