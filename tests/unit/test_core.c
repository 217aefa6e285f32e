/*
 * Unit tests for core.c: synthetic core files written here byte by byte
 * (32- and 64-bit, both byte orders) and opened with cp_core_open(): the
 * framing libelf does for us (PN_XNUM, notes split over several PT_NOTE
 * segments, 8-aligned notes) and the checks we keep on top of it (a
 * program header table or notes past the end of the file, caps, a core
 * cut short in its PT_LOAD data that must still open).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "corepack/core.h"

/* ---- bytes in either order ---- */

struct buf {
	uint8_t *d;
	size_t len, cap;
	int be, is64;
};

static void reserve(struct buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	b->d = realloc(b->d, cap);
	assert_non_null(b->d);
	memset(b->d + b->cap, 0, cap - b->cap);
	b->cap = cap;
}

static void set_uint(struct buf *b, size_t at, uint64_t v, size_t size)
{
	reserve(b, at + size > b->len ? at + size - b->len : 0);
	for (size_t i = 0; i < size; i++) {
		size_t shift = 8 * (b->be ? size - 1 - i : i);
		b->d[at + i] = (uint8_t)(v >> shift);
	}
	if (at + size > b->len)
		b->len = at + size;
}

static void put_uint(struct buf *b, uint64_t v, size_t size)
{
	set_uint(b, b->len, v, size);
}

static void put_word(struct buf *b, uint64_t v)
{
	put_uint(b, v, b->is64 ? 8 : 4);
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	reserve(b, n);
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void align_to(struct buf *b, size_t a)
{
	while (b->len % a)
		put_uint(b, 0, 1);
}

/* ---- notes ---- */

/* A "CORE" note; ALIGN is 4, or 8 for an 8-aligned PT_NOTE segment. */
static void note(struct buf *b, uint32_t type, const struct buf *desc, size_t align)
{
	put_uint(b, 5, 4);
	put_uint(b, desc->len, 4);
	put_uint(b, type, 4);
	put_bytes(b, "CORE", 5);
	align_to(b, align);
	put_bytes(b, desc->d, desc->len);
	align_to(b, align);
}

static void prstatus(struct buf *b, int pid, int sig, size_t align)
{
	struct buf d = {.be = b->be, .is64 = b->is64};
	put_uint(&d, (uint32_t)sig, 4); /* si_signo, si_code, si_errno */
	put_uint(&d, 0, 4);
	put_uint(&d, 0, 4);
	put_uint(&d, (uint16_t)sig, 2); /* pr_cursig */
	put_uint(&d, 0, 2);
	put_word(&d, 0); /* pr_sigpend, pr_sighold */
	put_word(&d, 0);
	put_uint(&d, (uint32_t)pid, 4);
	put_uint(&d, 0, 4);
	for (int i = 0; i < 32; i++)
		put_word(&d, 0); /* the rest, registers and all */
	note(b, NT_PRSTATUS, &d, align);
	free(d.d);
}

static void nt_file(struct buf *b, const char *name, uint64_t start)
{
	struct buf d = {.be = b->be, .is64 = b->is64};
	put_word(&d, 1);
	put_word(&d, 4096);
	put_word(&d, start);
	put_word(&d, start + 0x2000);
	put_word(&d, 0);
	put_bytes(&d, name, strlen(name) + 1);
	note(b, NT_FILE, &d, 4);
	free(d.d);
}

static void siginfo(struct buf *b, int sig, uint64_t addr)
{
	struct buf d = {.be = b->be, .is64 = b->is64};
	put_uint(&d, (uint32_t)sig, 4);
	put_uint(&d, 0, 4);
	put_uint(&d, 1, 4);
	if (b->is64)
		put_uint(&d, 0, 4);
	put_word(&d, addr);
	while (d.len < 128)
		put_uint(&d, 0, 1);
	note(b, NT_SIGINFO, &d, 4);
	free(d.d);
}

/* ---- cores ---- */

#define SEG(t, va, ms, al, d, l)                                                                   \
	{                                                                                          \
		.type = (t), .vaddr = (va), .memsz = (ms), .align = (al), .data = (d), .len = (l)  \
	}

struct seg {
	uint32_t type;
	uint64_t vaddr, memsz, align;
	const void *data; /* file contents, LEN bytes */
	size_t len;
	uint64_t offset; /* set by write_core(); forced when FORCE_OFFSET */
	int force_offset;
	uint64_t filesz; /* 0: LEN */
};

struct spec {
	int is64, be;
	uint16_t type;        /* 0: ET_CORE */
	uint16_t phentsize;   /* 0: the right one */
	uint64_t claim_phnum; /* 0: the number of segments */
	int xnum;             /* PN_XNUM with the count in section 0 */
	int xnum_no_section;  /* PN_XNUM and no section header */
	uint64_t ext_shnum;   /* e_shnum 0, the section count in section 0 */
	size_t cut;           /* truncate the file to this many bytes (0: no) */
	struct seg *segs;
	size_t nsegs;
};

static char g_dir[] = "/tmp/cp-test-core.XXXXXX";
static char g_path[64];

static const char *write_core(struct spec *s)
{
	struct buf b = {.be = s->be, .is64 = s->is64};
	size_t ehsize = s->is64 ? 64 : 52, phsize = s->is64 ? 56 : 32, shsize = s->is64 ? 64 : 40;
	size_t phoff = ehsize, shoff = phoff + s->nsegs * phsize;
	int sec0 = s->xnum || s->ext_shnum;
	size_t data = shoff + (sec0 ? shsize : 0);
	uint64_t phnum = s->claim_phnum ? s->claim_phnum : s->nsegs;

	/* Segment contents first, so the headers know their offsets. */
	reserve(&b, data);
	b.len = data;
	for (size_t i = 0; i < s->nsegs; i++) {
		struct seg *g = &s->segs[i];
		align_to(&b, 8);
		if (!g->force_offset)
			g->offset = b.len;
		if (g->len)
			put_bytes(&b, g->data, g->len);
	}

	/* ELF header. */
	memcpy(b.d, ELFMAG, SELFMAG);
	b.d[EI_CLASS] = s->is64 ? ELFCLASS64 : ELFCLASS32;
	b.d[EI_DATA] = s->be ? ELFDATA2MSB : ELFDATA2LSB;
	b.d[EI_VERSION] = EV_CURRENT;
	size_t w = s->is64 ? 8 : 4, at = 24;
	set_uint(&b, 16, s->type ? s->type : ET_CORE, 2);
	set_uint(&b, 18, s->is64 ? EM_X86_64 : EM_386, 2);
	set_uint(&b, 20, EV_CURRENT, 4);
	set_uint(&b, at + w, phoff, w); /* e_phoff */
	set_uint(&b, at + 2 * w, sec0 ? shoff : 0, w);
	at += 3 * w + 4; /* past e_flags */
	set_uint(&b, at, ehsize, 2);
	set_uint(&b, at + 2, s->phentsize ? s->phentsize : phsize, 2);
	set_uint(&b, at + 4, s->xnum || s->xnum_no_section ? PN_XNUM : phnum, 2);
	set_uint(&b, at + 6, sec0 ? shsize : 0, 2);
	set_uint(&b, at + 8, s->ext_shnum ? 0 : s->xnum ? 1 : 0, 2);

	/* Program headers. */
	for (size_t i = 0; i < s->nsegs; i++) {
		const struct seg *g = &s->segs[i];
		size_t p = phoff + i * phsize;
		uint64_t filesz = g->filesz ? g->filesz : g->len;
		set_uint(&b, p, g->type, 4);
		if (s->is64) {
			set_uint(&b, p + 4, PF_R, 4);
			set_uint(&b, p + 8, g->offset, 8);
			set_uint(&b, p + 16, g->vaddr, 8);
			set_uint(&b, p + 32, filesz, 8);
			set_uint(&b, p + 40, g->memsz, 8);
			set_uint(&b, p + 48, g->align, 8);
		} else {
			set_uint(&b, p + 4, g->offset, 4);
			set_uint(&b, p + 8, g->vaddr, 4);
			set_uint(&b, p + 16, filesz, 4);
			set_uint(&b, p + 20, g->memsz, 4);
			set_uint(&b, p + 28, g->align, 4);
		}
	}
	/* Section 0 carries the real count for PN_XNUM (sh_info). */
	if (s->xnum)
		set_uint(&b, shoff + (s->is64 ? 44 : 28), phnum, 4);
	if (s->ext_shnum)
		set_uint(&b, shoff + (s->is64 ? 32 : 20), s->ext_shnum, w);

	size_t len = s->cut && s->cut < b.len ? s->cut : b.len;
	int fd = open(g_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b.d, len), (ssize_t)len);
	close(fd);
	free(b.d);
	return g_path;
}

static int setup(void **state)
{
	if (!mkdtemp(g_dir))
		return -1;
	snprintf(g_path, sizeof(g_path), "%s/core", g_dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(g_path);
	rmdir(g_dir);
	return 0;
}

static int open_fails(struct spec *s, const char *want)
{
	struct cp_core *c = (void *)0x1;
	struct cp_error err = {0};
	int r = cp_core_open(write_core(s), &c, &err);
	assert_true(r < 0);
	assert_ptr_equal(c, (void *)0x1);
	if (!strstr(err.msg, want) || !strstr(err.msg, g_path))
		fail_msg("want \"%s\" naming the file, got \"%s\"", want, err.msg);
	return r;
}

/* ---- tests ---- */

/* Notes and memory of a small core in every class and byte order. */
static void check_basic(int is64, int be)
{
	struct buf n = {.be = be, .is64 = is64};
	prstatus(&n, 4242, 11, 4);
	nt_file(&n, "/usr/bin/crashy", 0x400000);
	siginfo(&n, 11, 0xdead);
	prstatus(&n, 4243, 0, 4);
	static const char hi[] = "high memory", lo[] = "low memory!";
	struct seg segs[] = {
	    SEG(PT_NOTE, 0, 0, 4, n.d, n.len),
	    SEG(PT_LOAD, 0x7f0000, 0x3000, 0x1000, hi, sizeof(hi)),
	    SEG(PT_LOAD, 0x400000, 0x2000, 0x1000, lo, sizeof(lo)),
	};
	struct spec s = {.is64 = is64, .be = be, .segs = segs, .nsegs = 3};
	struct cp_core *c = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_core_open(write_core(&s), &c, &err), 0);
	assert_int_equal(c->is64, is64);
	assert_int_equal(c->big_endian, be);
	assert_int_equal(c->machine, is64 ? EM_X86_64 : EM_386);
	assert_int_equal(c->missing_bytes, 0);
	assert_int_equal(c->notes.n_threads, 2);
	assert_int_equal(c->notes.threads[0].pid, 4242);
	assert_int_equal(c->notes.threads[0].cursig, 11);
	assert_int_equal(c->notes.threads[1].pid, 4243);
	assert_int_equal(c->notes.n_files, 1);
	assert_string_equal(c->notes.files[0].name, "/usr/bin/crashy");
	assert_int_equal(c->notes.fault_addr, 0xdead);
	/* PT_LOADs sorted by address; memory read back from the file. */
	assert_int_equal(c->n_loads, 2);
	assert_int_equal(c->loads[0].vaddr, 0x400000);
	char got[sizeof(hi)];
	assert_int_equal(cp_core_read(c, 0x7f0000, got, sizeof(hi)), 0);
	assert_memory_equal(got, hi, sizeof(hi));
	assert_int_equal(cp_core_read(c, 0x400000, got, sizeof(lo)), 0);
	assert_memory_equal(got, lo, sizeof(lo));
	/* Mapped but not in the file, and not mapped at all. */
	assert_int_equal(cp_core_read(c, 0x401000, got, 4), -EFAULT);
	assert_int_equal(cp_core_read(c, 0x500000, got, 4), -EFAULT);
	cp_core_free(c);
	free(n.d);
}

static void test_basic_64le(void **state)
{
	check_basic(1, 0);
}

static void test_basic_32le(void **state)
{
	check_basic(0, 0);
}

static void test_basic_64be(void **state)
{
	check_basic(1, 1);
}

static void test_basic_32be(void **state)
{
	check_basic(0, 1);
}

/* gcore and some kernels write more than one PT_NOTE: all are read. */
static void test_notes_over_several_segments(void **state)
{
	for (int be = 0; be <= 1; be++) {
		struct buf a = {.be = be, .is64 = 1}, b = {.be = be, .is64 = 1};
		prstatus(&a, 100, 6, 4);
		nt_file(&a, "/bin/first", 0x1000);
		prstatus(&b, 101, 0, 4);
		siginfo(&b, 6, 0);
		nt_file(&b, "/bin/ignored", 0x2000); /* the first NT_FILE wins */
		struct seg segs[] = {
		    SEG(PT_NOTE, 0, 0, 4, a.d, a.len),
		    SEG(PT_LOAD, 0x1000, 0x1000, 0x1000, "x", 1),
		    SEG(PT_NOTE, 0, 0, 4, b.d, b.len),
		};
		struct spec s = {.is64 = 1, .be = be, .segs = segs, .nsegs = 3};
		struct cp_core *c = NULL;
		assert_int_equal(cp_core_open(write_core(&s), &c, NULL), 0);
		assert_int_equal(c->notes.n_threads, 2);
		assert_int_equal(c->notes.threads[0].pid, 100);
		assert_int_equal(c->notes.threads[1].pid, 101);
		assert_true(c->notes.have_siginfo);
		assert_int_equal(c->notes.sig_signo, 6);
		assert_int_equal(c->notes.n_files, 1);
		assert_string_equal(c->notes.files[0].name, "/bin/first");
		assert_int_equal(c->notes_size, a.len + b.len);
		cp_core_free(c);
		free(a.d);
		free(b.d);
	}
}

/* A PT_NOTE segment aligned to 8 has its descriptors 8-aligned
 * (ELF_T_NHDR8): read 4-aligned, the pid would come from the padding. */
static void test_notes_aligned_8(void **state)
{
	struct buf n = {.is64 = 1};
	prstatus(&n, 777, 11, 8);
	prstatus(&n, 778, 0, 8);
	struct seg segs[] = {SEG(PT_NOTE, 0, 0, 8, n.d, n.len)};
	struct spec s = {.is64 = 1, .segs = segs, .nsegs = 1};
	struct cp_core *c = NULL;
	assert_int_equal(cp_core_open(write_core(&s), &c, NULL), 0);
	assert_int_equal(c->notes.n_threads, 2);
	assert_int_equal(c->notes.threads[0].pid, 777);
	assert_int_equal(c->notes.threads[0].cursig, 11);
	assert_int_equal(c->notes.threads[1].pid, 778);
	cp_core_free(c);
	free(n.d);
}

/*
 * More than 65534 program headers: e_phnum is PN_XNUM and section 0's
 * sh_info holds the count, as the kernel writes past ~65000 mappings.
 */
static void test_pn_xnum(void **state)
{
	const size_t nload = 70000;
	struct buf n = {.is64 = 1};
	prstatus(&n, 9, 11, 4);
	struct seg *segs = calloc(nload + 1, sizeof(*segs));
	assert_non_null(segs);
	segs[0] = (struct seg)SEG(PT_NOTE, 0, 0, 4, n.d, n.len);
	for (size_t i = 1; i <= nload; i++)
		segs[i] =
		    (struct seg)SEG(PT_LOAD, 0x10000000 + i * 0x2000, 0x1000, 0x1000, NULL, 0);
	segs[nload] =
	    (struct seg)SEG(PT_LOAD, 0x10000000 + nload * 0x2000, 0x1000, 0x1000, "last", 5);
	for (int is64 = 0; is64 <= 1; is64++) {
		n.is64 = is64;
		n.be = is64; /* 32-bit little-endian, 64-bit big-endian */
		n.len = 0;
		prstatus(&n, 9, 11, 4);
		segs[0].len = n.len;
		segs[0].data = n.d;
		struct spec s = {
		    .is64 = is64, .be = is64, .xnum = 1, .segs = segs, .nsegs = nload + 1};
		struct cp_core *c = NULL;
		struct cp_error err = {0};
		if (cp_core_open(write_core(&s), &c, &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(c->n_loads, nload);
		assert_int_equal(c->notes.n_threads, 1);
		char got[5];
		assert_int_equal(cp_core_read(c, 0x10000000 + nload * 0x2000, got, 5), 0);
		assert_string_equal(got, "last");
		cp_core_free(c);

		/* PN_XNUM with no section header to hold the count. */
		s.xnum = 0;
		s.xnum_no_section = 1;
		open_fails(&s, "extended program header count");

		/* A count past the cap, refused before anything is read. */
		s.xnum = 1;
		s.xnum_no_section = 0;
		s.claim_phnum = CP_MAX_PHNUM + 1ull;
		open_fails(&s, "limit");
	}
	free(segs);
	free(n.d);
}

/* libelf allocates for every section header claimed: a claim past the cap
 * is refused before it does; the count in section 0 is read either way. */
static void test_section_count(void **state)
{
	struct buf n = {.be = 1};
	prstatus(&n, 5, 11, 4);
	struct seg segs[] = {SEG(PT_NOTE, 0, 0, 4, n.d, n.len)};
	for (int is64 = 0; is64 <= 1; is64++) {
		n.is64 = is64;
		n.len = 0;
		prstatus(&n, 5, 11, 4);
		segs[0].data = n.d;
		segs[0].len = n.len;
		struct spec s = {.is64 = is64, .be = 1, .segs = segs, .nsegs = 1, .ext_shnum = 1};
		struct cp_core *c = NULL;
		assert_int_equal(cp_core_open(write_core(&s), &c, NULL), 0);
		assert_int_equal(c->notes.n_threads, 1);
		cp_core_free(c);
		s.ext_shnum = CP_MAX_SHNUM + 1ull;
		open_fails(&s, "section headers (limit");
	}
	free(n.d);
}

/* A core cut short in its memory (ulimit -c, a full disk) still opens:
 * what is missing is counted, and reads there fail. */
static void test_truncated_core_opens(void **state)
{
	struct buf n = {.be = 1};
	prstatus(&n, 5, 11, 4);
	static uint8_t page[8192];
	for (size_t i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)i;
	struct seg segs[] = {
	    SEG(PT_NOTE, 0, 0, 4, n.d, n.len),
	    SEG(PT_LOAD, 0x1000, 0x2000, 0x1000, page, sizeof(page)),
	    SEG(PT_LOAD, 0x9000, 0x1000, 0x1000, page, 4096),
	};
	struct spec s = {.be = 1, .segs = segs, .nsegs = 3};
	write_core(&s); /* to learn the offsets */
	s.cut = segs[1].offset + 3000;
	struct cp_core *c = NULL;
	assert_int_equal(cp_core_open(write_core(&s), &c, NULL), 0);
	assert_int_equal(c->missing_bytes, 8192 - 3000 + 4096);
	assert_int_equal(c->expected_size, segs[2].offset + 4096);
	assert_int_equal(c->file_size, s.cut);
	uint8_t got[16];
	assert_int_equal(cp_core_read(c, 0x1000 + 2980, got, 16), 0);
	assert_memory_equal(got, page + 2980, 16);
	assert_int_equal(cp_core_read(c, 0x1000 + 2990, got, 16), -EFAULT);
	assert_int_equal(cp_core_read(c, 0x9000, got, 16), -EFAULT);
	cp_core_free(c);

	/* Claims past the largest file there can be are cut there: the sizes
	 * derived stay sizes a manifest can hold (issue 19, kind 12: a
	 * huge segment gave a negative missing_bytes). */
	segs[1].filesz = segs[2].filesz = UINT64_MAX - 0x10000;
	segs[1].memsz = segs[2].memsz = UINT64_MAX - 0x10000;
	s.cut = 0;
	s.is64 = 1;
	n.is64 = 1;
	n.len = 0;
	prstatus(&n, 5, 11, 4);
	segs[0].data = n.d;
	segs[0].len = n.len;
	segs[2].vaddr = 0;
	assert_int_equal(cp_core_open(write_core(&s), &c, NULL), 0);
	assert_true(c->expected_size == CP_MAX_FILE_SIZE);
	assert_true(c->missing_bytes == CP_MAX_FILE_SIZE - c->file_size);
	assert_true(c->missing_bytes <= (uint64_t)INT64_MAX);
	cp_core_free(c);
	free(n.d);
}

/* Headers and notes that the file does not hold are errors. */
static void test_cut_off_headers_and_notes(void **state)
{
	struct buf n = {0};
	prstatus(&n, 5, 11, 4);
	struct seg segs[] = {
	    SEG(PT_NOTE, 0, 0, 4, n.d, n.len),
	    SEG(PT_LOAD, 0x1000, 0x1000, 0x1000, "x", 1),
	};

	/* More program headers claimed than the file holds (libelf alone
	 * would shorten the table). */
	struct spec s = {.is64 = 1, .segs = segs, .nsegs = 2, .claim_phnum = 100000};
	open_fails(&s, "program headers are cut off");

	/* The file ends inside the program header table. */
	s = (struct spec){.is64 = 1, .segs = segs, .nsegs = 2, .cut = 64 + 56 + 10};
	open_fails(&s, "program headers are cut off");

	/* The notes run past the end of the file. */
	s = (struct spec){.is64 = 1, .segs = segs, .nsegs = 2};
	write_core(&s);
	s.cut = segs[0].offset + n.len - 8;
	open_fails(&s, "notes are cut off");

	/* A note runs past the end of its segment. */
	s = (struct spec){.is64 = 1, .segs = segs, .nsegs = 2};
	segs[0].filesz = n.len - 8;
	open_fails(&s, "notes are cut off at offset 0");
	segs[0].filesz = 0;

	/* A segment whose end overflows. */
	segs[1].force_offset = 1;
	segs[1].offset = UINT64_MAX;
	s = (struct spec){.is64 = 1, .segs = segs, .nsegs = 2};
	open_fails(&s, "bad range");
	segs[1].force_offset = 0;

	/* Notes over the cap, refused before they are read. */
	segs[0].filesz = CP_MAX_NOTES_SIZE + 1ull;
	open_fails(&s, "notes too large");
	free(n.d);
}

/* What is not a core says what it is. */
static void test_not_a_core(void **state)
{
	struct buf n = {0};
	prstatus(&n, 5, 11, 4);
	struct seg segs[] = {SEG(PT_NOTE, 0, 0, 4, n.d, n.len)};

	struct spec s = {.is64 = 1, .type = ET_EXEC, .segs = segs, .nsegs = 1};
	open_fails(&s, "not a core file (it is an executable)");
	s = (struct spec){.is64 = 1, .type = ET_DYN, .segs = segs, .nsegs = 1};
	open_fails(&s, "shared object");
	s = (struct spec){.is64 = 1, .phentsize = 40, .segs = segs, .nsegs = 1};
	open_fails(&s, "bad program header size 40");
	s = (struct spec){.is64 = 1, .segs = segs, .nsegs = 1, .claim_phnum = 0};
	segs[0].type = PT_LOAD;
	open_fails(&s, "core has no notes");
	segs[0].type = PT_NOTE;
	s = (struct spec){.is64 = 1, .segs = segs, .nsegs = 0};
	open_fails(&s, "no program headers");

	/* The ELF header cut short, and no ELF header at all. */
	s = (struct spec){.is64 = 1, .segs = segs, .nsegs = 1, .cut = 40};
	open_fails(&s, "ELF file");
	int fd = open(g_path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\177ELF\3\1\1", 7), 7); /* class 3 */
	assert_int_equal(write(fd, "0123456789abcdef0123456789abcdef", 32), 32);
	close(fd);
	struct cp_core *c = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_core_open(g_path, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not an ELF file"));
	free(n.d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_64le),
	    cmocka_unit_test(test_basic_32le),
	    cmocka_unit_test(test_basic_64be),
	    cmocka_unit_test(test_basic_32be),
	    cmocka_unit_test(test_notes_over_several_segments),
	    cmocka_unit_test(test_notes_aligned_8),
	    cmocka_unit_test(test_pn_xnum),
	    cmocka_unit_test(test_section_count),
	    cmocka_unit_test(test_truncated_core_opens),
	    cmocka_unit_test(test_cut_off_headers_and_notes),
	    cmocka_unit_test(test_not_a_core),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
