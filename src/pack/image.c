/*
 * ELF objects in a core's memory and on disk (image.h).  Headers read from
 * the core are decoded by hand with the notes' integer readers: they are a
 * few dozen bytes at an address, where libelf wants a whole file (the same
 * reason as linkmap.c's).  Files on disk are read with libelf.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corepack/access.h"
#include "corepack/image.h"
#include "corepack/io.h"
#include "corepack/linkmap.h"

uint64_t cp_image_page_size(const struct cp_core *core)
{
	uint64_t p = core->notes.page_size;
	if (!p || (p & (p - 1)) || p > (1u << 20))
		p = core->notes.at_pagesz;
	if (!p || (p & (p - 1)) || p > (1u << 20))
		p = 4096;
	return p;
}

struct mem_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};

/* Decode N program headers at ADDR in the core into PH. */
static int read_phdrs(const struct cp_core *c, uint64_t addr, size_t n, struct mem_phdr *ph)
{
	size_t entsz = c->is64 ? 56 : 32;
	uint8_t *raw = malloc(n * entsz);
	if (!raw)
		return -ENOMEM;
	int r = cp_core_read(c, addr, raw, n * entsz) < 0 ? -ENOENT : 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		const uint8_t *p = raw + i * entsz;
		int be = c->big_endian;
		ph[i].type = cp_read_u32(p, be);
		if (c->is64) {
			ph[i].flags = cp_read_u32(p + 4, be);
			ph[i].offset = cp_read_u64(p + 8, be);
			ph[i].vaddr = cp_read_u64(p + 16, be);
			ph[i].filesz = cp_read_u64(p + 32, be);
			ph[i].memsz = cp_read_u64(p + 40, be);
		} else {
			ph[i].offset = cp_read_u32(p + 4, be);
			ph[i].vaddr = cp_read_u32(p + 8, be);
			ph[i].filesz = cp_read_u32(p + 16, be);
			ph[i].memsz = cp_read_u32(p + 20, be);
			ph[i].flags = cp_read_u32(p + 24, be);
		}
	}
	free(raw);
	return r;
}

struct mem_ehdr {
	uint64_t phoff;
	uint16_t phnum, phentsize;
};

/* The ELF header at ADDR in the core, of the core's class and byte order. */
static int read_ehdr(const struct cp_core *c, uint64_t addr, struct mem_ehdr *eh)
{
	uint8_t e[64];
	size_t ehsz = c->is64 ? 64 : 52;
	if (cp_core_read(c, addr, e, ehsz) < 0 || memcmp(e, ELFMAG, SELFMAG) != 0 ||
	    e[EI_CLASS] != (c->is64 ? ELFCLASS64 : ELFCLASS32) ||
	    e[EI_DATA] != (c->big_endian ? ELFDATA2MSB : ELFDATA2LSB))
		return -ENOENT;
	eh->phoff = cp_read_word(e + (c->is64 ? 32 : 28), c->is64, c->big_endian);
	eh->phentsize = cp_read_u16(e + (c->is64 ? 54 : 42), c->big_endian);
	eh->phnum = cp_read_u16(e + (c->is64 ? 56 : 44), c->big_endian);
	if (eh->phentsize != (c->is64 ? 56 : 32) || eh->phnum == 0 ||
	    eh->phnum > CP_IMAGE_MAX_PHNUM || eh->phoff > (1u << 20))
		return -ENOENT;
	return 0;
}

/* Fill OUT from PH given the bias; -ENOENT when there is no PT_LOAD or the
 * extent wraps. */
static int layout_from(const struct mem_phdr *ph, size_t n, uint64_t bias, uint64_t page,
                       struct cp_image_layout *out)
{
	uint64_t lo = UINT64_MAX, hi = 0, header = 0;
	int have_header = 0;
	for (size_t i = 0; i < n; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		uint64_t v = ph[i].vaddr & ~(page - 1), e = ph[i].vaddr + ph[i].memsz;
		if (e < ph[i].vaddr || e > UINT64_MAX - page)
			return -ENOENT;
		e = (e + page - 1) & ~(page - 1);
		lo = v < lo ? v : lo;
		hi = e > hi ? e : hi;
		if (!have_header && ph[i].offset < page) {
			header = v;
			have_header = 1;
		}
	}
	if (lo >= hi || !have_header || bias + lo < bias || bias + hi < bias)
		return -ENOENT;
	*out = (struct cp_image_layout){bias + header, bias, bias + lo, bias + hi};
	return 0;
}

int cp_image_from_phdr(const struct cp_core *core, uint64_t phdr, uint64_t phnum,
                       struct cp_image_layout *out)
{
	if (phnum == 0 || phnum > CP_IMAGE_MAX_PHNUM)
		return -ENOENT;
	uint64_t page = cp_image_page_size(core);
	struct mem_phdr *ph = calloc(phnum, sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	int r = read_phdrs(core, phdr, phnum, ph);
	uint64_t bias = 0;
	int have_bias = 0;
	for (size_t i = 0; r == 0 && i < phnum; i++)
		if (ph[i].type == PT_PHDR) {
			bias = phdr - ph[i].vaddr;
			have_bias = 1;
		}
	if (r == 0 && !have_bias) {
		/* No PT_PHDR (the dynamic loader has none): the headers follow
		 * the ELF header in the first page of the object. */
		uint64_t header = phdr & ~(page - 1);
		struct mem_ehdr eh;
		r = read_ehdr(core, header, &eh) < 0 || header + eh.phoff != phdr ? -ENOENT : 0;
		for (size_t i = 0; r == 0 && i < phnum && !have_bias; i++)
			if (ph[i].type == PT_LOAD && ph[i].offset < page) {
				bias = header - (ph[i].vaddr & ~(page - 1));
				have_bias = 1;
			}
		if (!have_bias)
			r = -ENOENT;
	}
	if (r == 0)
		r = layout_from(ph, phnum, bias, page, out);
	free(ph);
	return r;
}

/* The program headers of the object whose ELF header is at HEADER. */
static int header_phdrs(const struct cp_core *core, uint64_t header, struct mem_phdr **php,
                        size_t *n)
{
	struct mem_ehdr eh;
	if (read_ehdr(core, header, &eh) < 0 || header + eh.phoff < header)
		return -ENOENT;
	struct mem_phdr *ph = calloc(eh.phnum, sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	int r = read_phdrs(core, header + eh.phoff, eh.phnum, ph);
	if (r < 0) {
		free(ph);
		return r;
	}
	*php = ph;
	*n = eh.phnum;
	return 0;
}

int cp_image_from_header(const struct cp_core *core, uint64_t header, struct cp_image_layout *out)
{
	uint64_t page = cp_image_page_size(core);
	if (header & (page - 1))
		return -ENOENT;
	struct mem_phdr *ph;
	size_t n;
	int r = header_phdrs(core, header, &ph, &n);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (ph[i].type == PT_LOAD && ph[i].offset < page) {
			r = layout_from(ph, n, header - (ph[i].vaddr & ~(page - 1)), page, out);
			break;
		}
	free(ph);
	return r;
}

size_t cp_image_build_id(const struct cp_core *core, uint64_t header, uint8_t *buf, size_t size)
{
	struct cp_image_layout l;
	struct mem_phdr *ph;
	size_t n, len = 0;
	uint64_t page = cp_image_page_size(core);
	if (cp_image_from_header(core, header, &l) < 0 || header_phdrs(core, header, &ph, &n) < 0)
		return 0;
	/* The object's segments as mappings of its file, for
	 * cp_mem_build_id(), which places the notes by file offset. */
	struct cp_file_mapping *maps = calloc(n, sizeof(*maps));
	const struct cp_file_mapping **refs = calloc(n, sizeof(*refs));
	size_t k = 0;
	for (size_t i = 0; maps && refs && i < n; i++) {
		if (ph[i].type != PT_LOAD || ph[i].filesz == 0)
			continue;
		uint64_t delta = ph[i].vaddr & (page - 1);
		if ((ph[i].offset & (page - 1)) != delta || ph[i].filesz > UINT64_MAX - delta)
			continue;
		uint64_t start = l.bias + ph[i].vaddr - delta;
		if (start < l.bias)
			continue;
		maps[k] = (struct cp_file_mapping){start, start + delta + ph[i].filesz,
		                                   ph[i].offset - delta, "[image]"};
		if (maps[k].end < start)
			continue;
		refs[k] = &maps[k];
		k++;
	}
	if (k)
		len = cp_mem_build_id(cp_core_mem_read, (void *)core, core->is64, core->big_endian,
		                      header, refs, k, buf, size);
	free(maps);
	free(refs);
	free(ph);
	return len;
}

/* The file open with libelf; the class must be the core's. */
struct file {
	int fd;
	Elf *elf;
	const char *raw;
	size_t size;
};

static int file_open(const struct cp_core *core, const struct cp_access *a, const char *path,
                     struct file *f, struct cp_error *err)
{
	*f = (struct file){.fd = -1};
	elf_version(EV_CURRENT);
	f->fd = cp_access_open(a, path, NULL, NULL, err);
	if (f->fd < 0)
		return f->fd;
	f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF ||
	    gelf_getclass(f->elf) != (core->is64 ? ELFCLASS64 : ELFCLASS32) ||
	    !(f->raw = elf_rawfile(f->elf, &f->size))) {
		elf_end(f->elf);
		close(f->fd);
		return cp_error_set(err, EINVAL, "'%s': not an ELF file of the core's class", path);
	}
	return 0;
}

static void file_close(struct file *f)
{
	elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
}

/* The bias of F loaded with its ELF header at HEADER. */
static int file_bias(struct file *f, uint64_t header, uint64_t page, uint64_t *bias)
{
	size_t n;
	if (elf_getphdrnum(f->elf, &n) != 0)
		return -ENOENT;
	for (size_t i = 0; i < n && i < CP_IMAGE_MAX_PHNUM; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(f->elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    ph.p_offset < page) {
			*bias = header - (ph.p_vaddr & ~(page - 1));
			return 0;
		}
	}
	return -ENOENT;
}

/* Text relocations: the loader wrote into its code. */
static int has_textrel(struct file *f)
{
	size_t n;
	if (elf_getphdrnum(f->elf, &n) != 0)
		return 0;
	for (size_t i = 0; i < n && i < CP_IMAGE_MAX_PHNUM; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_DYNAMIC)
			continue;
		Elf_Data *d =
		    elf_getdata_rawchunk(f->elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_DYN);
		size_t entsz = gelf_fsize(f->elf, ELF_T_DYN, 1, EV_CURRENT);
		for (size_t k = 0; d && entsz && k < d->d_size / entsz; k++) {
			GElf_Dyn dyn;
			if (!gelf_getdyn(d, (int)k, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag == DT_TEXTREL ||
			    (dyn.d_tag == DT_FLAGS && (dyn.d_un.d_val & DF_TEXTREL)))
				return 1;
		}
	}
	return 0;
}

/* Compare [OFF, OFF+LEN) of F with the core's memory at ADDR, wherever it
 * was dumped. */
static int compare_range(const struct cp_core *core, const struct file *f, uint64_t off,
                         uint64_t len, uint64_t addr, uint64_t page, struct cp_image_match *m)
{
	uint8_t buf[65536];
	uint64_t end = addr + len;
	if (end < addr)
		return 0;
	while (addr < end && !m->differs && m->bytes < CP_IMAGE_MAX_COMPARE) {
		const struct cp_segment *s = cp_core_segment_after(core, addr);
		if (!s || s->vaddr >= end)
			break;
		if (s->vaddr > addr) {
			off += s->vaddr - addr;
			addr = s->vaddr;
		}
		/* The dumped part of the segment, and of the file. */
		uint64_t dumped = s->vaddr + s->filesz, seg_end = s->vaddr + s->memsz;
		uint64_t in_file = core->file_size > s->offset ? core->file_size - s->offset : 0;
		if (in_file < s->filesz)
			dumped = s->vaddr + in_file;
		uint64_t stop = dumped < end ? dumped : end;
		uint64_t run_start = addr;
		while (addr < stop && m->bytes < CP_IMAGE_MAX_COMPARE) {
			if (off >= f->size) {
				/* The process had bytes where the file has none. */
				m->differs = 1;
				m->diff_offset = f->size;
				break;
			}
			size_t n = stop - addr < sizeof(buf) ? (size_t)(stop - addr) : sizeof(buf);
			if (n > f->size - off)
				n = (size_t)(f->size - off);
			if (cp_pread_full(core->fd, buf, n, s->offset + (addr - s->vaddr)) < 0)
				return -EIO;
			if (memcmp(buf, f->raw + off, n) != 0) {
				size_t k = 0;
				while (buf[k] == (uint8_t)f->raw[off + k])
					k++;
				m->differs = 1;
				m->diff_offset = off + k;
				n = k + 1;
			}
			m->bytes += n;
			addr += n;
			off += n;
			if (m->differs)
				break;
		}
		if (addr > run_start)
			m->pages += ((addr - 1) / page) - (run_start / page) + 1;
		/* Past the dumped part: on to the segment's end. */
		if (addr < seg_end && addr < end && !m->differs) {
			uint64_t next = seg_end < end ? seg_end : end;
			off += next - addr;
			addr = next;
		}
	}
	return 0;
}

int cp_image_compare(const struct cp_core *core, uint64_t header, const struct cp_access *a,
                     const char *host_path, struct cp_image_match *m, struct cp_error *err)
{
	struct file f;
	uint64_t page = cp_image_page_size(core), bias;
	memset(m, 0, sizeof(*m));
	int r = file_open(core, a, host_path, &f, err);
	if (r < 0)
		return r;
	size_t n;
	GElf_Ehdr eh;
	if (file_bias(&f, header, page, &bias) < 0 || elf_getphdrnum(f.elf, &n) != 0 ||
	    !gelf_getehdr(f.elf, &eh)) {
		file_close(&f);
		return 0; /* nothing to place it by: nothing compared */
	}
	m->headers_only = has_textrel(&f);
	uint64_t headers_end = eh.e_phoff + (uint64_t)n * eh.e_phentsize;
	for (size_t i = 0; r == 0 && i < n && i < CP_IMAGE_MAX_PHNUM && !m->differs; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(f.elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    (ph.p_flags & PF_W) || ph.p_filesz > UINT64_MAX - ph.p_offset)
			continue;
		uint64_t len = ph.p_filesz;
		if (m->headers_only) {
			if (ph.p_offset >= headers_end)
				continue;
			if (len > headers_end - ph.p_offset)
				len = headers_end - ph.p_offset;
		}
		uint64_t addr = bias + ph.p_vaddr;
		if (addr < bias)
			continue;
		r = compare_range(core, &f, ph.p_offset, len, addr, page, m);
	}
	file_close(&f);
	if (r < 0)
		return cp_error_set(err, -r, "cannot read '%s': %s", core->path, strerror(-r));
	return 0;
}

int cp_image_symbol(const struct cp_core *core, const struct cp_access *a, const char *host_path,
                    uint64_t header, const char *name, uint64_t *addr, struct cp_error *err)
{
	struct file f;
	uint64_t bias;
	int r = file_open(core, a, host_path, &f, err);
	if (r < 0)
		return r;
	r = file_bias(&f, header, cp_image_page_size(core), &bias);
	for (Elf_Scn *scn = NULL; r == 0 && (scn = elf_nextscn(f.elf, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || sh.sh_entsize == 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t count = d ? d->d_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < count; i++) {
			GElf_Sym sym;
			const char *s;
			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    !(s = elf_strptr(f.elf, sh.sh_link, sym.st_name)) ||
			    strcmp(s, name) != 0)
				continue;
			*addr = bias + sym.st_value;
			file_close(&f);
			return 0;
		}
	}
	file_close(&f);
	return -ENOENT;
}
