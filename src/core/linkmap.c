/*
 * The link_map walk and the reading of build-ids from a core's memory.
 * Both follow pointers found in the crashed process's memory, so every read
 * goes through the bounds-checked reader, every loop has a cap, and a
 * broken chain ends the walk with a reason instead of an error.
 *
 * Written by hand because no kept library gives what we need from it:
 * libdwfl walks link_map inside dwfl_core_file_report(), but its public API
 * does not expose l_name (the name the loader opened, which gdb looks
 * objects up by), and elfutils 0.188 opens each l_name on this machine
 * with no sysroot hook, accepting a file whose build-id the core did not
 * dump (bt_session.c avoids it for the same reason).  The walk itself
 * (AT_PHDR -> PT_DYNAMIC -> DT_DEBUG -> r_debug -> r_map) is short.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "corepack/linkmap.h"

struct mem {
	cp_mem_read_fn read;
	void *ctx;
	int is64, be;
	size_t word;
};

static int read_word(const struct mem *m, uint64_t addr, uint64_t *out)
{
	uint8_t b[8];
	if (m->read(m->ctx, addr, b, m->word) < 0)
		return -EFAULT;
	*out = cp_read_word(b, m->is64, m->be);
	return 0;
}

char *cp_mem_read_string(cp_mem_read_fn read, void *ctx, uint64_t addr, size_t max)
{
	/* Read in small chunks: a name near the end of a segment must not fail
	 * because a larger read would cross into unmapped memory. */
	struct cp_buf s = {0};
	size_t len = 0;
	while (len < max) {
		char piece[64];
		size_t chunk = 64 - (size_t)((addr + len) % 64);
		if (chunk > max - len)
			chunk = max - len;
		if (addr + len < addr || read(ctx, addr + len, piece, chunk) < 0)
			break;
		char *nul = memchr(piece, '\0', chunk);
		cp_buf_add(&s, piece, nul ? (size_t)(nul - piece) : chunk);
		if (nul)
			return cp_buf_steal(&s);
		len += chunk;
	}
	cp_buf_done(&s);
	return NULL;
}

/* The executable's load bias and dynamic section from its program headers
 * in memory (AT_PHDR). */
static const char *find_dynamic(const struct mem *m, const struct cp_notes *aux, uint64_t *dyn,
                                uint64_t *dyn_size)
{
	size_t entsz = m->is64 ? 56 : 32;
	if (!aux->have_auxv || aux->at_phdr == 0)
		return "no AT_PHDR in the core's auxiliary vector";
	if (aux->at_phent != entsz || aux->at_phnum == 0 || aux->at_phnum > 4096)
		return "bad AT_PHENT/AT_PHNUM in the core's auxiliary vector";
	uint8_t *ph = malloc(aux->at_phnum * entsz);
	if (!ph)
		return "out of memory";
	if (m->read(m->ctx, aux->at_phdr, ph, aux->at_phnum * entsz) < 0) {
		free(ph);
		return "the executable's program headers are not in the core";
	}
	int have_bias = 0;
	uint64_t bias = 0, dyn_vaddr = 0, dyn_memsz = 0, first_load = UINT64_MAX;
	for (size_t i = 0; i < aux->at_phnum; i++) {
		const uint8_t *p = ph + i * entsz;
		uint32_t type = cp_read_u32(p, m->be);
		uint64_t vaddr = cp_read_word(p + (m->is64 ? 16 : 8), m->is64, m->be);
		uint64_t memsz = cp_read_word(p + (m->is64 ? 40 : 20), m->is64, m->be);
		uint64_t off = cp_read_word(p + (m->is64 ? 8 : 4), m->is64, m->be);
		if (type == PT_PHDR) {
			bias = aux->at_phdr - vaddr;
			have_bias = 1;
		} else if (type == PT_DYNAMIC) {
			dyn_vaddr = vaddr;
			dyn_memsz = memsz;
		} else if (type == PT_LOAD && off == 0 && vaddr < first_load) {
			first_load = vaddr;
		}
	}
	free(ph);
	if (!dyn_vaddr && !dyn_memsz)
		return "the executable has no PT_DYNAMIC (statically linked)";
	if (!have_bias) {
		/* No PT_PHDR: assume the headers follow the ELF header in the
		 * segment that maps file offset 0. */
		if (first_load == UINT64_MAX)
			return "cannot place the executable in memory";
		bias = aux->at_phdr - (m->is64 ? 64 : 52) - first_load;
	}
	*dyn = dyn_vaddr + bias;
	*dyn_size = dyn_memsz;
	return NULL;
}

static const char *find_r_debug(const struct mem *m, uint64_t dyn, uint64_t dyn_size,
                                uint64_t *r_debug)
{
	size_t entsz = 2 * m->word;
	uint64_t n = dyn_size / entsz;
	if (n > 4096)
		n = 4096;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t tag, val;
		if (read_word(m, dyn + i * entsz, &tag) < 0 ||
		    read_word(m, dyn + i * entsz + m->word, &val) < 0)
			return "the executable's dynamic section is not in the core";
		if (tag == DT_NULL)
			break;
		if (tag == DT_DEBUG) {
			if (val == 0)
				return "DT_DEBUG is 0 (the loader had not started)";
			*r_debug = val;
			return NULL;
		}
	}
	return "no DT_DEBUG in the executable's dynamic section";
}

static int add_entry(struct cp_linkmap *lm, uint64_t l_addr, uint64_t l_ld, uint64_t l_name,
                     int first, char *name)
{
	if ((lm->n_entries & (lm->n_entries - 1)) == 0) {
		size_t cap = lm->n_entries ? lm->n_entries * 2 : 16;
		struct cp_linkmap_entry *e = realloc(lm->entries, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		lm->entries = e;
	}
	lm->entries[lm->n_entries++] = (struct cp_linkmap_entry){l_addr, l_ld, name, l_name, first};
	return 0;
}

/* One namespace's list, from r_map.  Returns -ENOMEM or 0 with *why set
 * when the chain broke. */
static int walk_list(const struct mem *m, uint64_t lmap, struct cp_linkmap *lm, size_t *budget,
                     const char **why)
{
	size_t w = m->word;
	uint64_t prev = 0;
	while (lmap != 0) {
		if ((*budget)-- == 0) {
			*why = "link_map list too long or circular; stopped";
			return 0;
		}
		uint64_t l_addr, l_name, l_ld, l_next, l_prev;
		if (read_word(m, lmap, &l_addr) < 0 || read_word(m, lmap + w, &l_name) < 0 ||
		    read_word(m, lmap + 2 * w, &l_ld) < 0 ||
		    read_word(m, lmap + 3 * w, &l_next) < 0 ||
		    read_word(m, lmap + 4 * w, &l_prev) < 0) {
			*why = "a link_map entry is not in the core";
			return 0;
		}
		if (l_prev != prev) {
			*why = "link_map list is inconsistent (l_prev); stopped";
			return 0;
		}
		char *name = l_name
		                 ? cp_mem_read_string(m->read, m->ctx, l_name, CP_LINKMAP_MAX_NAME)
		                 : strdup("");
		if (!name)
			name = strdup(""); /* unreadable name: keep the entry */
		if (!name || add_entry(lm, l_addr, l_ld, l_name, prev == 0, name) < 0) {
			free(name);
			return -ENOMEM;
		}
		prev = lmap;
		lmap = l_next;
	}
	return 0;
}

/* Every namespace's list from R_DEBUG into LM. */
static int walk_from(const struct mem *m, uint64_t rd, struct cp_linkmap *lm, struct cp_error *err)
{
	lm->r_debug = rd;
	size_t budget = CP_LINKMAP_MAX_ENTRIES;
	size_t w = m->word;
	/* r_debug: int r_version; link_map *r_map; r_brk; int r_state;
	 * r_ldbase; and for r_version >= 2, r_debug_extended's r_next. */
	size_t next_off = m->is64 ? 40 : 20;
	for (int ns = 0; rd != 0; ns++) {
		uint64_t version, r_map;
		if (ns == CP_LINKMAP_MAX_NAMESPACES) {
			lm->why = "too many link-map namespaces; stopped";
			break;
		}
		if (read_word(m, rd, &version) < 0 || read_word(m, rd + w, &r_map) < 0) {
			lm->why = "r_debug is not in the core";
			break;
		}
		version &= 0xffffffffu; /* r_version is an int */
		if (walk_list(m, r_map, lm, &budget, &lm->why) < 0)
			return cp_error_set(err, ENOMEM, "out of memory walking link_map");
		if (lm->why || version < 2 || read_word(m, rd + next_off, &rd) < 0)
			break;
	}
	return 0;
}

int cp_linkmap_walk(cp_mem_read_fn read, void *ctx, int is64, int big_endian,
                    const struct cp_notes *aux, struct cp_linkmap **out, struct cp_error *err)
{
	struct mem m = {read, ctx, is64, big_endian, is64 ? 8 : 4};
	struct cp_linkmap *lm = calloc(1, sizeof(*lm));
	if (!lm)
		return cp_error_set(err, ENOMEM, "out of memory walking link_map");
	uint64_t dyn = 0, dyn_size = 0, rd = 0;
	lm->why = find_dynamic(&m, aux, &dyn, &dyn_size);
	if (!lm->why)
		lm->why = find_r_debug(&m, dyn, dyn_size, &rd);
	if (!lm->why && walk_from(&m, rd, lm, err) < 0) {
		cp_linkmap_free(lm);
		return -ENOMEM;
	}
	*out = lm;
	return 0;
}

int cp_linkmap_walk_from(cp_mem_read_fn read, void *ctx, int is64, int big_endian, uint64_t r_debug,
                         struct cp_linkmap **out, struct cp_error *err)
{
	struct mem m = {read, ctx, is64, big_endian, is64 ? 8 : 4};
	struct cp_linkmap *lm = calloc(1, sizeof(*lm));
	if (!lm)
		return cp_error_set(err, ENOMEM, "out of memory walking link_map");
	if (r_debug == 0)
		lm->why = "no r_debug";
	else if (walk_from(&m, r_debug, lm, err) < 0) {
		cp_linkmap_free(lm);
		return -ENOMEM;
	}
	*out = lm;
	return 0;
}

void cp_linkmap_free(struct cp_linkmap *lm)
{
	if (!lm)
		return;
	for (size_t i = 0; i < lm->n_entries; i++)
		free(lm->entries[i].name);
	free(lm->entries);
	free(lm);
}

/* Find NT_GNU_BUILD_ID in a buffer of notes. */
static size_t note_build_id(const uint8_t *b, size_t len, int be, uint8_t *out, size_t outsize)
{
	size_t off = 0;
	while (len - off >= 12) {
		uint32_t namesz = cp_read_u32(b + off, be);
		uint32_t descsz = cp_read_u32(b + off + 4, be);
		uint32_t type = cp_read_u32(b + off + 8, be);
		size_t desc = off + 12 + (((size_t)namesz + 3) & ~(size_t)3);
		if (desc > len || descsz > len - desc)
			return 0;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(b + off + 12, "GNU", 4) == 0) {
			if (descsz == 0 || descsz > outsize)
				return 0;
			memcpy(out, b + desc, descsz);
			return descsz;
		}
		off = desc + (((size_t)descsz + 3) & ~(size_t)3);
	}
	return 0;
}

size_t cp_mem_build_id(cp_mem_read_fn read, void *ctx, int is64, int big_endian, uint64_t base,
                       const struct cp_file_mapping *const *maps, size_t n_maps, uint8_t *buf,
                       size_t bufsize)
{
	struct mem m = {read, ctx, is64, big_endian, is64 ? 8 : 4};
	uint8_t e[64];
	size_t ehsz = is64 ? 64 : 52, entsz = is64 ? 56 : 32;
	if (read(ctx, base, e, ehsz) < 0 || memcmp(e, ELFMAG, SELFMAG) != 0 ||
	    e[EI_CLASS] != (is64 ? ELFCLASS64 : ELFCLASS32))
		return 0;
	uint64_t phoff = cp_read_word(e + (is64 ? 32 : 28), is64, big_endian);
	uint16_t phnum = cp_read_u16(e + (is64 ? 56 : 44), big_endian);
	if (phnum == 0 || phnum > 256 || phoff > 65536)
		return 0;
	uint8_t ph[256 * 56];
	if (read(ctx, base + phoff, ph, phnum * entsz) < 0)
		return 0;
	for (size_t i = 0; i < phnum; i++) {
		const uint8_t *p = ph + i * entsz;
		if (cp_read_u32(p, big_endian) != PT_NOTE)
			continue;
		uint64_t off = cp_read_word(p + (is64 ? 8 : 4), is64, big_endian);
		uint64_t size = cp_read_word(p + (is64 ? 32 : 16), is64, big_endian);
		if (size < 12 || size > 4096)
			continue;
		/* Place the note by file offset in whichever mapping of this
		 * file covers it: no load bias arithmetic needed. */
		for (size_t j = 0; j < n_maps; j++) {
			const struct cp_file_mapping *fm = maps[j];
			if (off < fm->file_offset || off - fm->file_offset >= fm->end - fm->start ||
			    fm->end - fm->start - (off - fm->file_offset) < size)
				continue;
			uint8_t nb[4096];
			if (m.read(ctx, fm->start + (off - fm->file_offset), nb, size) < 0)
				continue;
			size_t n = note_build_id(nb, size, big_endian, buf, bufsize);
			if (n)
				return n;
		}
	}
	return 0;
}
