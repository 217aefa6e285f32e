/*
 * Decoding a core's notes: NT_FILE, NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO
 * and NT_AUXV, for 32- and 64-bit cores of either byte order.  libelf
 * frames the notes (gelf_getnote checks each header, name and descriptor
 * against the segment); their contents are decoded here by hand because
 * libelf does not decode them: it converts the note headers only, and
 * libebl, which knows some of these layouts, is not a public library.
 * The layouts differ between classes and architectures, so fields are read
 * at their stable positions in the file's byte order (NT_PRPSINFO's names
 * sit at its end whatever the uid width is); every count is capped and
 * every length checked against the descriptor before it is read.
 */
#include <elf.h>
#include <errno.h>
#include <libelf.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/notes.h"

uint16_t cp_read_u16(const uint8_t *p, int big_endian)
{
	return big_endian ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

uint32_t cp_read_u32(const uint8_t *p, int big_endian)
{
	if (big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

uint64_t cp_read_u64(const uint8_t *p, int big_endian)
{
	uint64_t hi = cp_read_u32(p + (big_endian ? 0 : 4), big_endian);
	uint64_t lo = cp_read_u32(p + (big_endian ? 4 : 0), big_endian);
	return hi << 32 | lo;
}

uint64_t cp_read_word(const uint8_t *p, int is64, int big_endian)
{
	return is64 ? cp_read_u64(p, big_endian) : cp_read_u32(p, big_endian);
}

struct note_ctx {
	int is64;
	int be;
	size_t word;
	struct cp_notes *n;
	struct cp_error *err;
};

static int parse_nt_file(struct note_ctx *c, const uint8_t *d, size_t len)
{
	size_t w = c->word;
	if (c->n->have_file)
		return 0; /* the kernel writes one; ignore any later copy */
	if (len < 2 * w)
		return cp_error_set(c->err, EINVAL, "NT_FILE note too short (%zu bytes)", len);
	uint64_t count = cp_read_word(d, c->is64, c->be);
	uint64_t page = cp_read_word(d + w, c->is64, c->be);
	if (count > CP_MAX_MAPPINGS)
		return cp_error_set(c->err, EINVAL, "NT_FILE note claims %llu mappings (limit %u)",
		                    (unsigned long long)count, CP_MAX_MAPPINGS);
	/* count <= 2^20 and w <= 8, so this cannot overflow. */
	size_t table = 2 * w + (size_t)count * 3 * w;
	if (table > len)
		return cp_error_set(c->err, EINVAL,
		                    "NT_FILE note claims %llu mappings but holds %zu bytes",
		                    (unsigned long long)count, len);
	if (page == 0 || page > (1u << 30) || (page & (page - 1)))
		return cp_error_set(c->err, EINVAL, "NT_FILE note has page size %llu",
		                    (unsigned long long)page);
	struct cp_file_mapping *files = calloc(count ? count : 1, sizeof(*files));
	if (!files)
		return cp_error_set(c->err, ENOMEM, "out of memory reading NT_FILE");
	const char *names = (const char *)d + table;
	size_t names_len = len - table;
	size_t pos = 0;
	for (size_t i = 0; i < count; i++) {
		const uint8_t *e = d + 2 * w + i * 3 * w;
		uint64_t start = cp_read_word(e, c->is64, c->be);
		uint64_t end = cp_read_word(e + w, c->is64, c->be);
		uint64_t pgoff = cp_read_word(e + 2 * w, c->is64, c->be);
		const char *nul =
		    pos < names_len ? memchr(names + pos, '\0', names_len - pos) : NULL;
		if (!nul) {
			free(files);
			return cp_error_set(c->err, EINVAL,
			                    "NT_FILE note: name %zu of %llu is cut off", i + 1,
			                    (unsigned long long)count);
		}
		if (end < start || pgoff > UINT64_MAX / page) {
			free(files);
			return cp_error_set(c->err, EINVAL,
			                    "NT_FILE note: mapping %zu has a bad range", i + 1);
		}
		files[i].start = start;
		files[i].end = end;
		files[i].file_offset = pgoff * page;
		files[i].name = names + pos;
		pos = (size_t)(nul - names) + 1;
	}
	c->n->have_file = 1;
	c->n->page_size = page;
	c->n->files = files;
	c->n->n_files = count;
	return 0;
}

static void copy_field(char *dst, size_t dst_size, const uint8_t *src, size_t len)
{
	size_t n = len < dst_size - 1 ? len : dst_size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int parse_prpsinfo(struct note_ctx *c, const uint8_t *d, size_t len)
{
	/* Layout ends with pid, ppid, pgrp, sid (4 bytes each), fname[16],
	 * psargs[80]; what precedes varies with the architecture. */
	const size_t tail = 16 + 16 + 80;
	if (len < tail + 4)
		return cp_error_set(c->err, EINVAL, "NT_PRPSINFO note too short (%zu bytes)", len);
	const uint8_t *t = d + len - tail;
	c->n->pid = cp_read_u32(t, c->be);
	c->n->ppid = cp_read_u32(t + 4, c->be);
	/* pr_uid and pr_gid come just before pr_pid, after the four chars and
	 * pr_flag (a word, 8-aligned in 64-bit cores): 32-bit ids, or 16-bit
	 * ones in 32-bit x86 and ARM cores (whose kernels write 65534 for an
	 * id that does not fit).  Any other gap is a layout we do not know:
	 * the owner is then unknown. */
	size_t ids = c->is64 ? 16 : 8;
	size_t gap = len - tail >= ids ? len - tail - ids : 0;
	if (gap == 8) {
		c->n->uid = cp_read_u32(t - 8, c->be);
		c->n->gid = cp_read_u32(t - 4, c->be);
		c->n->have_owner = 1;
	} else if (gap == 4) {
		c->n->uid = cp_read_u16(t - 4, c->be);
		c->n->gid = cp_read_u16(t - 2, c->be);
		c->n->have_owner = 1;
	}
	copy_field(c->n->fname, sizeof(c->n->fname), t + 16, 16);
	copy_field(c->n->psargs, sizeof(c->n->psargs), t + 32, 80);
	/* the kernel leaves a space after the last argument */
	for (size_t n = strlen(c->n->psargs); n > 0 && c->n->psargs[n - 1] == ' '; n--)
		c->n->psargs[n - 1] = '\0';
	c->n->have_prpsinfo = 1;
	return 0;
}

static int parse_prstatus(struct note_ctx *c, const uint8_t *d, size_t len)
{
	/* struct elf_siginfo (12) + short pr_cursig + pad, then two words
	 * (pr_sigpend, pr_sighold), then pid_t pr_pid. */
	size_t pid_off = 16 + 2 * c->word;
	if (len < pid_off + 4)
		return cp_error_set(c->err, EINVAL, "NT_PRSTATUS note too short (%zu bytes)", len);
	if (c->n->n_threads >= CP_MAX_THREADS)
		return cp_error_set(c->err, EINVAL, "core has more than %u threads",
		                    CP_MAX_THREADS);
	if ((c->n->n_threads & (c->n->n_threads - 1)) == 0) {
		size_t cap = c->n->n_threads ? c->n->n_threads * 2 : 8;
		struct cp_thread_info *t = realloc(c->n->threads, cap * sizeof(*t));
		if (!t)
			return cp_error_set(c->err, ENOMEM, "out of memory reading NT_PRSTATUS");
		c->n->threads = t;
	}
	struct cp_thread_info *t = &c->n->threads[c->n->n_threads++];
	t->cursig = (int16_t)cp_read_u16(d + 12, c->be);
	t->pid = (int32_t)cp_read_u32(d + pid_off, c->be);
	return 0;
}

static int parse_siginfo(struct note_ctx *c, const uint8_t *d, size_t len)
{
	/* sig_signo, sig_errno, sig_code; the union starts at the next word
	 * boundary, and fault_addr is its first member for fault signals. */
	size_t addr_off = c->is64 ? 16 : 12;
	if (c->n->have_siginfo)
		return 0;
	if (len < addr_off + c->word)
		return cp_error_set(c->err, EINVAL, "NT_SIGINFO note too short (%zu bytes)", len);
	c->n->sig_signo = (int32_t)cp_read_u32(d, c->be);
	c->n->sig_errno = (int32_t)cp_read_u32(d + 4, c->be);
	c->n->sig_code = (int32_t)cp_read_u32(d + 8, c->be);
	c->n->fault_addr = cp_read_word(d + addr_off, c->is64, c->be);
	c->n->have_siginfo = 1;
	return 0;
}

static int parse_auxv(struct note_ctx *c, const uint8_t *d, size_t len)
{
	struct cp_notes *n = c->n;
	size_t w = c->word;
	for (size_t off = 0; off + 2 * w <= len; off += 2 * w) {
		uint64_t type = cp_read_word(d + off, c->is64, c->be);
		uint64_t val = cp_read_word(d + off + w, c->is64, c->be);
		switch (type) {
		case AT_NULL:
			off = len; /* stop */
			break;
		case AT_PHDR:
			n->at_phdr = val;
			break;
		case AT_PHENT:
			n->at_phent = val;
			break;
		case AT_PHNUM:
			n->at_phnum = val;
			break;
		case AT_BASE:
			n->at_base = val;
			break;
		case AT_ENTRY:
			n->at_entry = val;
			break;
		case AT_EXECFN:
			n->at_execfn = val;
			break;
		case AT_SYSINFO_EHDR:
			n->at_sysinfo_ehdr = val;
			break;
		case AT_PAGESZ:
			n->at_pagesz = val;
			break;
		default:
			break;
		}
	}
	n->have_auxv = 1;
	return 0;
}

static int decode_note(struct note_ctx *c, const GElf_Nhdr *h, const char *name,
                       const uint8_t *desc)
{
	/* Register sets and other notes (LINUX, ...) are not ours to read. */
	if (h->n_namesz != 5 || memcmp(name, "CORE", 5) != 0)
		return 0;
	switch (h->n_type) {
	case NT_FILE:
		return parse_nt_file(c, desc, h->n_descsz);
	case NT_PRPSINFO:
		return parse_prpsinfo(c, desc, h->n_descsz);
	case NT_PRSTATUS:
		return parse_prstatus(c, desc, h->n_descsz);
	case NT_SIGINFO:
		return parse_siginfo(c, desc, h->n_descsz);
	case NT_AUXV:
		return parse_auxv(c, desc, h->n_descsz);
	default:
		return 0;
	}
}

int cp_notes_decode(struct cp_notes *n, Elf_Data *data, int elfclass, int big_endian,
                    struct cp_error *err)
{
	if (elfclass != ELFCLASS32 && elfclass != ELFCLASS64)
		return cp_error_set(err, EINVAL, "unknown ELF class %d", elfclass);
	struct note_ctx c = {
	    .is64 = elfclass == ELFCLASS64,
	    .be = big_endian,
	    .word = elfclass == ELFCLASS64 ? 8 : 4,
	    .n = n,
	    .err = err,
	};
	size_t off = 0;
	while (off < data->d_size) {
		GElf_Nhdr h;
		size_t name_off, desc_off;
		size_t next = gelf_getnote(data, off, &h, &name_off, &desc_off);
		if (next == 0)
			return cp_error_set(err, EINVAL, "notes are cut off at offset %zu", off);
		const char *base = data->d_buf;
		int r = decode_note(&c, &h, base + name_off, (const uint8_t *)base + desc_off);
		if (r < 0)
			return r;
		off = next;
	}
	return 0;
}

/* What cp_notes_parse() keeps alive for the names it hands out. */
struct notes_storage {
	Elf *elf;
	uint8_t image[]; /* ELF header, then the notes */
};

static void storage_free(struct notes_storage *st)
{
	if (st) {
		if (st->elf)
			elf_end(st->elf);
		free(st);
	}
}

int cp_notes_parse(const uint8_t *buf, size_t len, int elfclass, int big_endian,
                   struct cp_notes *out, struct cp_error *err)
{
	if (elfclass != ELFCLASS32 && elfclass != ELFCLASS64)
		return cp_error_set(err, EINVAL, "unknown ELF class %d", elfclass);
	if (len > CP_MAX_NOTES_SIZE)
		return cp_error_set(err, EINVAL, "notes too large (%zu bytes)", len);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return cp_error_set(err, EINVAL, "libelf: %s", elf_errmsg(-1));

	/* A header with only its identification set: every other field is
	 * zero, which reads the same in either byte order. */
	size_t hdr = elfclass == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	struct notes_storage *st = calloc(1, sizeof(*st) + hdr + len);
	if (!st)
		return cp_error_set(err, ENOMEM, "out of memory reading notes");
	memcpy(st->image, ELFMAG, SELFMAG);
	st->image[EI_CLASS] = (uint8_t)elfclass;
	st->image[EI_DATA] = big_endian ? ELFDATA2MSB : ELFDATA2LSB;
	st->image[EI_VERSION] = EV_CURRENT;
	if (len > 0)
		memcpy(st->image + hdr, buf, len);

	struct cp_notes n;
	memset(&n, 0, sizeof(n));
	int r = 0;
	st->elf = elf_memory((char *)st->image, hdr + len);
	if (!st->elf) {
		r = cp_error_set(err, EINVAL, "cannot read notes: %s", elf_errmsg(-1));
		goto out;
	}
	if (len > 0) {
		Elf_Data *d = elf_getdata_rawchunk(st->elf, (int64_t)hdr, len, ELF_T_NHDR);
		if (!d) {
			r = cp_error_set(err, ENOMEM, "cannot read notes: %s", elf_errmsg(-1));
			goto out;
		}
		r = cp_notes_decode(&n, d, elfclass, big_endian, err);
	}
out:
	if (r < 0) {
		cp_notes_done(&n);
		storage_free(st);
		return r;
	}
	n.storage = st;
	*out = n;
	return 0;
}

void cp_notes_done(struct cp_notes *n)
{
	if (!n)
		return;
	free(n->files);
	free(n->threads);
	storage_free(n->storage);
	memset(n, 0, sizeof(*n));
}

const char *cp_signal_name(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
	    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
	    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
	    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
	    {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGSYS, "SIGSYS"},
	    {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGSTOP, "SIGSTOP"}, /* gcore's */
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return NULL;
}
