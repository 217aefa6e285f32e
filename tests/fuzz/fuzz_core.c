/*
 * Fuzz harness: a whole core file through cp_core_open and cp_scan_core
 * (headers, notes, link_map, build-ids from memory, module grouping), with
 * an empty sysroot so no file on this machine is looked at.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "corepack/core.h"
#include "corepack/modules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sysroot[] = "/tmp/cp-fuzz-sysroot.XXXXXX";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		if (!mkdtemp(sysroot))
			abort();
		fd = memfd_create("core", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	struct cp_core *core = NULL;
	if (cp_core_open(path, &core, NULL) < 0)
		return 0;
	struct cp_scan_opts o = {.sysroot = sysroot, .no_debug = 1};
	struct cp_scan *s = NULL;
	if (cp_scan_core(core, &o, &s, NULL) == 0)
		cp_scan_free(s);
	cp_core_free(core);
	return 0;
}
