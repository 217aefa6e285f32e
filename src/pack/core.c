/*
 * Opening an ELF core: the ELF header and program headers are read with
 * pread and checked by hand (32/64-bit, either byte order, PN_XNUM), the
 * PT_NOTE segments are read whole (capped) and parsed by notes.c, and the
 * PT_LOAD segments become a sorted table used to read the crashed process's
 * memory.  A core cut short after its notes is still usable: the shortfall
 * is recorded in missing_bytes and reads past the end fail with -EFAULT.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/core.h"

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* short file */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

struct ehdr_info {
	uint16_t type, machine, phentsize, shentsize;
	uint64_t phoff, shoff;
	uint32_t phnum;
	uint16_t shnum;
};

static int read_ehdr(struct cp_core *c, struct ehdr_info *h, struct cp_error *err)
{
	uint8_t e[64];
	size_t need = 52;
	if (c->file_size < EI_NIDENT || pread_full(c->fd, e, EI_NIDENT, 0) < 0 ||
	    memcmp(e, ELFMAG, SELFMAG) != 0)
		return cp_error_set(err, EINVAL, "'%s': not an ELF file", c->path);
	if (e[EI_CLASS] != ELFCLASS32 && e[EI_CLASS] != ELFCLASS64)
		return cp_error_set(err, EINVAL, "'%s': unknown ELF class %u", c->path,
		                    e[EI_CLASS]);
	if (e[EI_DATA] != ELFDATA2LSB && e[EI_DATA] != ELFDATA2MSB)
		return cp_error_set(err, EINVAL, "'%s': unknown ELF byte order %u", c->path,
		                    e[EI_DATA]);
	c->is64 = e[EI_CLASS] == ELFCLASS64;
	c->big_endian = e[EI_DATA] == ELFDATA2MSB;
	need = c->is64 ? 64 : 52;
	if (c->file_size < need || pread_full(c->fd, e, need, 0) < 0)
		return cp_error_set(err, EINVAL, "'%s': ELF header is cut off", c->path);
	int be = c->big_endian;
	h->type = cp_read_u16(e + 16, be);
	h->machine = cp_read_u16(e + 18, be);
	if (c->is64) {
		h->phoff = cp_read_u64(e + 32, be);
		h->shoff = cp_read_u64(e + 40, be);
		h->phentsize = cp_read_u16(e + 54, be);
		h->phnum = cp_read_u16(e + 56, be);
		h->shentsize = cp_read_u16(e + 58, be);
		h->shnum = cp_read_u16(e + 60, be);
	} else {
		h->phoff = cp_read_u32(e + 28, be);
		h->shoff = cp_read_u32(e + 32, be);
		h->phentsize = cp_read_u16(e + 42, be);
		h->phnum = cp_read_u16(e + 44, be);
		h->shentsize = cp_read_u16(e + 46, be);
		h->shnum = cp_read_u16(e + 48, be);
	}
	if (h->type != ET_CORE) {
		const char *what = h->type == ET_EXEC  ? "an executable"
		                   : h->type == ET_DYN ? "a shared object or PIE executable"
		                   : h->type == ET_REL ? "a relocatable object"
		                                       : "an ELF file of unknown type";
		return cp_error_set(err, EINVAL, "'%s': not a core file (it is %s)", c->path, what);
	}
	if (h->phentsize != (c->is64 ? 56 : 32))
		return cp_error_set(err, EINVAL, "'%s': bad program header size %u", c->path,
		                    h->phentsize);
	/* More than 65534 segments: the real count is in section 0's sh_info. */
	if (h->phnum == PN_XNUM) {
		uint8_t s[64];
		size_t shsz = c->is64 ? 64 : 40;
		if (h->shoff == 0 || h->shentsize != shsz || h->shoff > c->file_size ||
		    c->file_size - h->shoff < shsz || pread_full(c->fd, s, shsz, h->shoff) < 0)
			return cp_error_set(err, EINVAL, "'%s': bad extended program header count",
			                    c->path);
		h->phnum = cp_read_u32(s + (c->is64 ? 44 : 28), be);
	}
	return 0;
}

static int cmp_segment(const void *a, const void *b)
{
	const struct cp_segment *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int append_notes(struct cp_core *c, uint64_t off, uint64_t size, struct cp_error *err)
{
	if (size > CP_MAX_NOTES_SIZE || c->note_len + size > CP_MAX_NOTES_SIZE)
		return cp_error_set(err, EINVAL, "'%s': notes too large (%llu bytes, limit %u)",
		                    c->path, (unsigned long long)size, CP_MAX_NOTES_SIZE);
	if (off > c->file_size || c->file_size - off < size)
		return cp_error_set(
		    err, EINVAL, "'%s': notes are cut off (file ends at %llu, notes end at %llu)",
		    c->path, (unsigned long long)c->file_size, (unsigned long long)(off + size));
	size_t padded = (size_t)((size + 3) & ~3ull);
	uint8_t *nb = realloc(c->note_buf, c->note_len + padded + 1);
	if (!nb)
		return cp_error_set(err, ENOMEM, "out of memory reading notes of '%s'", c->path);
	c->note_buf = nb;
	if (pread_full(c->fd, nb + c->note_len, (size_t)size, off) < 0)
		return cp_error_set(err, EIO, "'%s': cannot read notes: %s", c->path,
		                    strerror(errno));
	memset(nb + c->note_len + size, 0, padded - (size_t)size);
	c->note_len += padded;
	return 0;
}

static int read_phdrs(struct cp_core *c, const struct ehdr_info *h, struct cp_error *err)
{
	size_t entsz = h->phentsize;
	if (h->phnum == 0)
		return cp_error_set(err, EINVAL, "'%s': core has no program headers", c->path);
	if (h->phnum > CP_MAX_PHNUM)
		return cp_error_set(err, EINVAL, "'%s': core claims %u program headers (limit %u)",
		                    c->path, h->phnum, CP_MAX_PHNUM);
	uint64_t table = (uint64_t)h->phnum * entsz;
	if (h->phoff > c->file_size || c->file_size - h->phoff < table)
		return cp_error_set(err, EINVAL, "'%s': program headers are cut off", c->path);
	uint8_t *ph = malloc(table);
	c->loads = calloc(h->phnum, sizeof(*c->loads));
	if (!ph || !c->loads) {
		free(ph);
		return cp_error_set(err, ENOMEM, "out of memory reading '%s'", c->path);
	}
	int r = pread_full(c->fd, ph, table, h->phoff);
	if (r < 0) {
		free(ph);
		return cp_error_set(err, -r, "cannot read '%s': %s", c->path, strerror(-r));
	}
	int be = c->big_endian;
	int have_note = 0;
	for (uint32_t i = 0; i < h->phnum && r == 0; i++) {
		const uint8_t *p = ph + (size_t)i * entsz;
		uint32_t type = cp_read_u32(p, be);
		uint64_t off, vaddr, filesz, memsz;
		if (c->is64) {
			off = cp_read_u64(p + 8, be);
			vaddr = cp_read_u64(p + 16, be);
			filesz = cp_read_u64(p + 32, be);
			memsz = cp_read_u64(p + 40, be);
		} else {
			off = cp_read_u32(p + 4, be);
			vaddr = cp_read_u32(p + 8, be);
			filesz = cp_read_u32(p + 16, be);
			memsz = cp_read_u32(p + 20, be);
		}
		if (off > UINT64_MAX - filesz || vaddr > UINT64_MAX - memsz) {
			r = cp_error_set(err, EINVAL, "'%s': segment %u has a bad range", c->path,
			                 i);
			break;
		}
		if (type == PT_NOTE) {
			have_note = 1;
			r = append_notes(c, off, filesz, err);
		} else if (type == PT_LOAD) {
			if (off + filesz > c->expected_size)
				c->expected_size = off + filesz;
			if (filesz > 0 && off + filesz > c->file_size) {
				uint64_t present = off < c->file_size ? c->file_size - off : 0;
				c->missing_bytes += filesz - present;
			}
			if (filesz > memsz)
				filesz = memsz;
			c->loads[c->n_loads++] = (struct cp_segment){vaddr, memsz, off, filesz};
		}
	}
	free(ph);
	if (r < 0)
		return r;
	if (!have_note)
		return cp_error_set(err, EINVAL, "'%s': core has no notes", c->path);
	qsort(c->loads, c->n_loads, sizeof(*c->loads), cmp_segment);
	return 0;
}

int cp_core_open(const char *path, struct cp_core **out, struct cp_error *err)
{
	struct cp_core *c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	int r;
	struct stat st;
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		r = cp_error_set(err, errno, "cannot open '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(c->fd, &st) < 0) {
		r = cp_error_set(err, errno, "cannot stat '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		r = cp_error_set(err, EISDIR, "'%s': is a directory", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = cp_error_set(err, EINVAL, "'%s': not a regular file", path);
		goto fail;
	}
	if (st.st_size == 0) {
		r = cp_error_set(err, EINVAL, "'%s': empty file", path);
		goto fail;
	}
	c->file_size = (uint64_t)st.st_size;
	struct ehdr_info h = {0};
	if ((r = read_ehdr(c, &h, err)) < 0 || (r = read_phdrs(c, &h, err)) < 0)
		goto fail;
	c->machine = h.machine;
	r = cp_notes_parse(c->note_buf, c->note_len, c->is64 ? ELFCLASS64 : ELFCLASS32,
	                   c->big_endian, &c->notes, err);
	if (r < 0) {
		/* Prefix the file name to the parser's message. */
		if (err) {
			struct cp_error tmp = *err;
			cp_error_reset(err, -r, "'%s': %s", path, tmp.msg);
		}
		goto fail;
	}
	*out = c;
	return 0;
fail:
	cp_core_free(c);
	return r;
}

void cp_core_free(struct cp_core *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	cp_notes_release(&c->notes);
	free(c->note_buf);
	free(c->loads);
	free(c->path);
	free(c);
}

static const struct cp_segment *find_segment(const struct cp_core *c, uint64_t addr)
{
	size_t lo = 0, hi = c->n_loads;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cp_segment *s = &c->loads[mid];
		if (addr < s->vaddr)
			hi = mid;
		else if (addr - s->vaddr >= s->memsz)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

int cp_core_read(const struct cp_core *c, uint64_t addr, void *buf, size_t len)
{
	if (len == 0)
		return 0;
	const struct cp_segment *s = find_segment(c, addr);
	if (!s)
		return -EFAULT;
	uint64_t rel = addr - s->vaddr;
	if (rel > s->filesz || s->filesz - rel < len)
		return -EFAULT; /* not dumped, or spans segments */
	uint64_t off = s->offset + rel;
	if (off > c->file_size || c->file_size - off < len)
		return -EFAULT; /* truncated core */
	return pread_full(c->fd, buf, len, off) < 0 ? -EFAULT : 0;
}

int cp_core_mem_read(void *core, uint64_t addr, void *buf, size_t len)
{
	return cp_core_read(core, addr, buf, len);
}

const char *cp_machine_name(uint16_t machine)
{
	switch (machine) {
	case EM_X86_64:
		return "x86_64";
	case EM_386:
		return "i386";
	case EM_AARCH64:
		return "aarch64";
	case EM_ARM:
		return "arm";
	case EM_PPC64:
		return "powerpc64";
	case EM_PPC:
		return "powerpc";
	case EM_S390:
		return "s390x";
	case EM_RISCV:
		return "riscv";
	case EM_MIPS:
		return "mips";
	case EM_SPARCV9:
		return "sparc64";
	case EM_LOONGARCH:
		return "loongarch64";
	default:
		return "unknown";
	}
}
