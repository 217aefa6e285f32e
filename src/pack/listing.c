/*
 * The text forms of `corepack --list`: the table of what the scan found,
 * and eu-unstrip -n's module lines (see listing.h for both formats).
 *
 * The unstrip lines carry libdwfl's numbers, which are not the scan's: a
 * module's range is its ELF file's PT_LOAD extent, not the span of its
 * NT_FILE mappings (libc's .bss lies past its last file mapping), and the
 * build-id is given with the address of its note.  Both come from the
 * object's program headers, read through libelf from the file on this
 * machine or, for an object without one and for the vDSO, from the core's
 * memory.  Both sources are untrusted: libelf checks every header against
 * the image's size, the image read from memory is capped, and sums are
 * overflow-checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "corepack/escape.h"
#include "corepack/io.h"
#include "corepack/listing.h"

/* Program headers looked at; real objects have about a dozen. */
#define MAX_PHNUM 4096
/* Bytes of an object read from the core's memory: its headers and notes
 * lie in the first page or two; the vDSO is read whole. */
#define MAX_MEMORY_IMAGE (1u << 20)

static void put_hex(struct cp_buf *f, const uint8_t *b, size_t len)
{
	if (len == 0)
		cp_buf_puts(f, "-");
	char hex[2 * CP_BUILD_ID_MAX + 1];
	if (len > CP_BUILD_ID_MAX)
		len = CP_BUILD_ID_MAX;
	cp_hex(b, len, hex);
	cp_buf_puts(f, hex);
}

static int finish(struct cp_buf *f, char **out, struct cp_error *err)
{
	char *text = cp_buf_steal(f);
	if (!text)
		return cp_error_set(err, ENOMEM, "out of memory");
	*out = text;
	return 0;
}

static void module_build_id(const struct cp_module *m, const uint8_t **b, size_t *len)
{
	*b = m->core_build_id_len ? m->core_build_id : m->file_build_id;
	*len = m->core_build_id_len ? m->core_build_id_len : m->file_build_id_len;
}

int cp_listing_table(const struct cp_scan *s, char **out, struct cp_error *err)
{
	struct cp_buf text = {0}, *f = &text;
	for (size_t i = 0; i < s->n_modules; i++) {
		const struct cp_module *m = &s->modules[i];
		const uint8_t *b;
		size_t n;
		module_build_id(m, &b, &n);
		if (m->end)
			cp_buf_printf(f, "0x%" PRIx64 "-0x%" PRIx64 " ", m->start, m->end);
		else
			cp_buf_puts(f, "- "); /* libthread_db: packed, but was not mapped */
		put_hex(f, b, n);
		cp_buf_puts(f, " ");
		cp_escape_buf(f, m->host_path ? m->host_path : "-");
		cp_buf_printf(f, " %s ", cp_status_name(m->status));
		cp_escape_buf(f, m->debug && m->debug->file ? m->debug->file->host_path : "-");
		cp_buf_puts(f, " ");
		cp_escape_buf(f, m->origin_path);
		cp_buf_puts(f, "\n");
	}
	if (s->vdso) {
		cp_buf_printf(f, "0x%" PRIx64 "-0x%" PRIx64 " ", s->vdso, s->vdso_end);
		put_hex(f, s->vdso_build_id, s->vdso_build_id_len);
		cp_buf_puts(f, " - in-core - [vdso]\n");
	}
	return finish(f, out, err);
}

/* ---- eu-unstrip -n ------------------------------------------------------ */

/* An ELF object's headers, from its file or from the core's memory. */
struct image {
	Elf *elf;
	int fd;
	uint8_t *mem;
	int from_memory;
};

static void image_done(struct image *im)
{
	elf_end(im->elf);
	if (im->fd >= 0)
		close(im->fd);
	free(im->mem);
	memset(im, 0, sizeof(*im));
	im->fd = -1;
}

static int image_from_file(const struct cp_scan *s, const struct cp_module *m, struct image *im)
{
	im->fd = cp_module_open(s, m, NULL);
	if (im->fd < 0)
		return im->fd;
	im->elf = elf_begin(im->fd, ELF_C_READ_MMAP, NULL);
	if (!im->elf || elf_kind(im->elf) != ELF_K_ELF) {
		image_done(im);
		return -ENOEXEC;
	}
	return 0;
}

/* The bytes at ADDR, page by page while the core holds them, at most
 * LIMIT of them. */
static int image_from_memory(const struct cp_core *core, uint64_t addr, uint64_t limit,
                             uint64_t page, struct image *im)
{
	if (limit > MAX_MEMORY_IMAGE)
		limit = MAX_MEMORY_IMAGE;
	if (!(im->mem = malloc(limit)))
		return -ENOMEM;
	size_t have = 0;
	while (have < limit) {
		size_t n = limit - have < page ? (size_t)(limit - have) : (size_t)page;
		if (addr + have < addr || cp_core_read(core, addr + have, im->mem + have, n) < 0)
			break;
		have += n;
	}
	if (have == 0 || !(im->elf = elf_memory((char *)im->mem, have)) ||
	    elf_kind(im->elf) != ELF_K_ELF) {
		image_done(im);
		return -ENOEXEC;
	}
	im->from_memory = 1;
	return 0;
}

struct extent {
	uint64_t start, end;
	uint8_t build_id[CP_BUILD_ID_MAX];
	size_t build_id_len;
	uint64_t build_id_addr; /* 0 when unknown */
};

/* The PT_LOAD that maps file offset 0 (libdwfl: (p_offset & -align) == 0). */
static int offset0_load(Elf *elf, size_t phnum, GElf_Phdr *out)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		uint64_t align = ph.p_align ? ph.p_align : 1;
		if ((ph.p_offset & -align) == 0) {
			*out = ph;
			return 0;
		}
	}
	return -ENOENT;
}

/* The build-id note of a PT_NOTE segment: its bytes and the offset of its
 * descriptor in the segment. */
static int note_build_id(Elf *elf, const GElf_Phdr *ph, struct extent *x, uint64_t *desc_off)
{
	Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph->p_offset, ph->p_filesz,
	                                   ph->p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
	if (!d || !d->d_buf)
		return -ENOENT;
	GElf_Nhdr nh;
	size_t pos = 0, next, name_pos, desc_pos;
	while ((next = gelf_getnote(d, pos, &nh, &name_pos, &desc_pos)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    memcmp((const char *)d->d_buf + name_pos, "GNU", 4) == 0 && nh.n_descsz > 0 &&
		    nh.n_descsz <= sizeof(x->build_id)) {
			memcpy(x->build_id, (const char *)d->d_buf + desc_pos, nh.n_descsz);
			x->build_id_len = nh.n_descsz;
			*desc_off = desc_pos;
			return 0;
		}
		pos = next;
	}
	return -ENOENT;
}

/*
 * The module's extent as libdwfl reports it.  BASE is the address of the
 * object's file offset 0 (its ELF header).  From a file: from the first
 * PT_LOAD's p_vaddr rounded down to its p_align to the last PT_LOAD's
 * p_vaddr + p_memsz, at the bias that puts offset 0 at BASE.  From memory:
 * every PT_LOAD rounded out to PAGE.  -ENOEXEC when the headers make no
 * sense.
 */
static int image_extent(const struct image *im, uint64_t base, uint64_t page, struct extent *x)
{
	size_t phnum;
	GElf_Phdr ph0;
	if (elf_getphdrnum(im->elf, &phnum) != 0 || phnum == 0 || phnum > MAX_PHNUM ||
	    offset0_load(im->elf, phnum, &ph0) < 0)
		return -ENOEXEC;
	uint64_t bias = base - ph0.p_vaddr; /* modulo 2^64, as libdwfl has it */
	int first = 1;
	memset(x, 0, sizeof(*x));
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(im->elf, (int)i, &ph))
			return -ENOEXEC;
		if (ph.p_type == PT_NOTE && x->build_id_len == 0) {
			uint64_t desc;
			if (note_build_id(im->elf, &ph, x, &desc) == 0)
				x->build_id_addr = im->from_memory ? base + ph.p_offset + desc
				                                   : bias + ph.p_vaddr + desc;
			continue;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		uint64_t end;
		if (__builtin_add_overflow(ph.p_vaddr, ph.p_memsz, &end))
			return -ENOEXEC;
		if (im->from_memory) {
			uint64_t lo = ph.p_vaddr & -page, hi;
			if (__builtin_add_overflow(end, page - 1, &hi))
				return -ENOEXEC;
			hi &= -page;
			if (first || lo < x->start)
				x->start = lo;
			if (first || hi > x->end)
				x->end = hi;
		} else {
			uint64_t align = ph.p_align ? ph.p_align : 1;
			if (first)
				x->start = ph.p_vaddr & -align;
			if (end > 0)
				x->end = end;
		}
		first = 0;
	}
	if (first || x->end < x->start)
		return -ENOEXEC;
	x->start += bias;
	x->end += bias;
	return 0;
}

/* Where the object's file offset 0 was mapped: the lowest NT_FILE mapping
 * of its name at offset 0, else its link_map l_addr (objects without
 * NT_FILE are shared objects, linked at 0). */
static int module_base(const struct cp_core *core, const struct cp_scan *s,
                       const struct cp_module *m, uint64_t *base)
{
	const struct cp_notes *n = &core->notes;
	size_t plen = strlen(m->origin_path);
	int found = 0;
	for (size_t i = 0; i < n->n_files; i++) {
		const struct cp_file_mapping *fm = &n->files[i];
		if (fm->file_offset != 0 || strncmp(fm->name, m->origin_path, plen) != 0 ||
		    (fm->name[plen] != '\0' && strcmp(fm->name + plen, " (deleted)") != 0))
			continue;
		if (!found || fm->start < *base)
			*base = fm->start;
		found = 1;
	}
	for (size_t i = 0; !found && s->linkmap && i < s->linkmap->n_entries; i++) {
		const struct cp_linkmap_entry *e = &s->linkmap->entries[i];
		for (size_t k = 0; k < m->n_names && !found; k++)
			if (e->name[0] && strcmp(e->name, m->names[k].path) == 0) {
				*base = e->l_addr;
				found = 1;
			}
	}
	return found ? 0 : -ENOENT;
}

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');
	return b && b[1] ? b + 1 : p;
}

/* The name libdwfl gives a module it found through link_map: the basename
 * of the loader's name for it. */
static const char *linkmap_name(const struct cp_module *m)
{
	for (size_t i = 0; i < m->n_names; i++)
		if (m->names[i].source == CP_NAME_LINK_MAP)
			return m->names[i].path;
	return NULL;
}

static uint64_t page_size(const struct cp_core *core)
{
	uint64_t p = core->notes.at_pagesz > 1 ? core->notes.at_pagesz : core->notes.page_size;
	/* A power of two, or the masks above would be nonsense. */
	return p > 1 && p <= (1u << 30) && (p & (p - 1)) == 0 ? p : 4096;
}

static void put_extent(struct cp_buf *f, const struct extent *x)
{
	cp_buf_printf(f, "%#" PRIx64 "+%#" PRIx64 " ", x->start, x->end - x->start);
	put_hex(f, x->build_id, x->build_id_len);
	if (x->build_id_len && x->build_id_addr)
		cp_buf_printf(f, "@%#" PRIx64, x->build_id_addr);
}

static int unstrip_module(struct cp_buf *f, const struct cp_core *core, const struct cp_scan *s,
                          const struct cp_module *m)
{
	uint64_t base = 0;
	if (module_base(core, s, m, &base) < 0)
		return 0; /* not mapped: libthread_db */
	struct image im = {.fd = -1};
	struct extent x;
	int use_file = cp_module_packable(m), r = -ENOEXEC;
	if (use_file && image_from_file(s, m, &im) == 0)
		r = image_extent(&im, base, page_size(core), &x);
	if (r < 0) {
		image_done(&im);
		use_file = 0;
		uint64_t limit = m->end > base ? m->end - base : page_size(core);
		if (image_from_memory(core, base, limit, page_size(core), &im) == 0)
			r = image_extent(&im, base, page_size(core), &x);
	}
	image_done(&im);
	if (r < 0) {
		/* No headers anywhere: what NT_FILE says. */
		const uint8_t *b;
		memset(&x, 0, sizeof(x));
		x.start = m->start;
		x.end = m->end > m->start ? m->end : m->start;
		module_build_id(m, &b, &x.build_id_len);
		memcpy(x.build_id, b, x.build_id_len);
	}
	put_extent(f, &x);
	cp_buf_puts(f, " ");
	cp_escape_buf(f, use_file ? m->host_path : "-");
	cp_buf_puts(f, " ");
	if (use_file && m->debug && m->debug->has_own_debug_info)
		cp_buf_puts(f, ".");
	else
		cp_escape_buf(f, m->debug && m->debug->file ? m->debug->file->host_path : "-");
	cp_buf_puts(f, " ");
	const char *lm = linkmap_name(m);
	if (use_file || !m->end) {
		cp_escape_buf(f, base_name(lm ? lm : m->origin_path));
	} else {
		cp_escape_buf(f, m->origin_path);
		if (m->deleted)
			cp_buf_puts(f, " (deleted)");
	}
	cp_buf_puts(f, "\n");
	return 0;
}

/* The vDSO's DT_SONAME, through its section headers (the vDSO is a whole
 * ELF image in memory); NULL when there is none. */
static const char *vdso_soname(Elf *elf)
{
	Elf_Scn *scn = NULL;
	for (int n = 0; (scn = elf_nextscn(elf, scn)) != NULL && n < MAX_PHNUM; n++) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		GElf_Dyn dyn;
		for (int i = 0; d && gelf_getdyn(d, i, &dyn) && i < MAX_PHNUM; i++)
			if (dyn.d_tag == DT_SONAME)
				return elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
		break;
	}
	return NULL;
}

static void unstrip_vdso(struct cp_buf *f, const struct cp_core *core, const struct cp_scan *s)
{
	struct image im = {.fd = -1};
	struct extent x;
	const char *name = NULL;
	uint64_t len = s->vdso_end > s->vdso ? s->vdso_end - s->vdso : page_size(core);
	int r = image_from_memory(core, s->vdso, len, page_size(core), &im);
	if (r == 0)
		r = image_extent(&im, s->vdso, page_size(core), &x);
	if (r == 0)
		name = vdso_soname(im.elf);
	if (r < 0) {
		memset(&x, 0, sizeof(x));
		x.start = s->vdso;
		x.end = s->vdso + len;
		x.build_id_len = s->vdso_build_id_len;
		memcpy(x.build_id, s->vdso_build_id, x.build_id_len);
	}
	put_extent(f, &x);
	cp_buf_puts(f, " . - ");
	cp_escape_buf(f, name ? name : "[vdso]");
	cp_buf_puts(f, "\n");
	image_done(&im);
}

int cp_listing_unstrip(const struct cp_core *core, const struct cp_scan *s, char **out,
                       struct cp_error *err)
{
	struct cp_buf text = {0}, *f = &text;
	elf_version(EV_CURRENT);
	for (size_t i = 0; i < s->n_modules; i++)
		unstrip_module(f, core, s, &s->modules[i]);
	if (s->vdso)
		unstrip_vdso(f, core, s);
	return finish(f, out, err);
}
