/*
 * Fuzz harness: a whole core file through cp_core_open and cp_scan_core
 * (headers, notes, link_map, build-ids from memory, module grouping; for a
 * core without NT_FILE, objects placed by their headers in memory), with
 * an empty sysroot so no file on this machine is looked at; then image.c's
 * readers at AT_PHDR and at the start of every segment (capped).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "corepack/core.h"
#include "corepack/image.h"
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
	struct cp_image_layout l;
	uint8_t id[64];
	cp_image_from_phdr(core, core->notes.at_phdr, core->notes.at_phnum, &l);
	for (size_t i = 0; i < core->n_loads && i < 256; i++) {
		if (cp_image_from_header(core, core->loads[i].vaddr, &l) == 0)
			cp_image_build_id(core, l.header, id, sizeof(id));
		cp_core_segment_after(core, core->loads[i].vaddr + core->loads[i].memsz);
	}
	cp_core_free(core);
	return 0;
}
