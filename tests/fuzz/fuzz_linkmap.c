/*
 * Fuzz harness: the link_map walk and the build-id reader over hostile
 * process memory.  Input: a flag byte (class, byte order), the auxiliary
 * values AT_PHDR, AT_PHENT, AT_PHNUM (8 bytes each, little-endian), then a
 * memory image mapped at MEM_BASE.  Pointers in the image that stay inside
 * it are followed; the rest fault, as in a core.
 */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "corepack/linkmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM_BASE 0x10000ull

struct image {
	const uint8_t *p;
	size_t len;
};

static int image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct image *im = ctx;
	if (addr < MEM_BASE || addr - MEM_BASE > im->len || im->len - (addr - MEM_BASE) < len)
		return -EFAULT;
	memcpy(buf, im->p + (addr - MEM_BASE), len);
	return 0;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 25)
		return 0;
	int is64 = data[0] & 1, be = (data[0] & 2) != 0;
	struct cp_notes aux;
	memset(&aux, 0, sizeof(aux));
	aux.have_auxv = 1;
	aux.at_phdr = le64(data + 1);
	aux.at_phent = le64(data + 9);
	aux.at_phnum = le64(data + 17);
	struct image im = {data + 25, size - 25};
	struct cp_linkmap *lm = NULL;
	if (cp_linkmap_walk(image_read, &im, is64, be, &aux, &lm, NULL) == 0) {
		volatile size_t sum = 0;
		for (size_t i = 0; i < lm->n_entries; i++)
			sum += strlen(lm->entries[i].name);
		(void)sum;
		cp_linkmap_free(lm);
	}
	struct cp_file_mapping m = {MEM_BASE, MEM_BASE + im.len, 0, "x"};
	const struct cp_file_mapping *mp = &m;
	uint8_t id[64];
	cp_mem_build_id(image_read, &im, is64, be, MEM_BASE, &mp, 1, id, sizeof(id));
	return 0;
}
