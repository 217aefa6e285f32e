/*
 * Fuzz harness: an ELF file whose debug sections may be compressed with
 * zstd, as the unwinder child decompresses it for libdw (bt_zdebug.c):
 * section headers, compression headers and zstd data are the file's.
 * When a copy is made, libelf must read it as ELF, and every section's
 * data must lie in it (ASan sees reads past it).
 */
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_child.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	/* libelf may write to a memory image it was given */
	char *copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	Elf *elf = elf_memory(copy, size);
	char *why = NULL;
	Elf *out = NULL;
	int fd = elf ? cp_bt_zdebug_open(elf, size, &out, &why) : -1;
	if (fd >= 0) {
		if (!out || elf_kind(out) != ELF_K_ELF)
			abort();
		size_t n;
		if (elf_getshdrnum(out, &n) == 0)
			for (size_t i = 0; i < n && i < 4096; i++) {
				Elf_Scn *scn = elf_getscn(out, i);
				Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
				if (d && d->d_buf && d->d_size)
					(void)((volatile const char *)d->d_buf)[d->d_size - 1];
			}
		elf_end(out);
		close(fd);
	}
	free(why);
	elf_end(elf);
	free(copy);
	return 0;
}
