/*
 * Debug sections compressed with zstd (SHF_COMPRESSED, ELFCOMPRESS_ZSTD:
 * `objcopy --compress-debug-sections=zstd`, `ld --compress-debug-sections=
 * zstd`), which libelf 0.188 cannot decompress: libdw then skips them
 * without a word, and frames lose their lines.  gdb 13 reads them.
 *
 * The unwinder child's find_elf and find_debuginfo callbacks
 * (bt_session.c) hand libdwfl a file descriptor, so the file is copied
 * into a memfd with every zstd section decompressed (libzstd) and
 * appended, and the section headers of the copy patched to point there,
 * uncompressed; the rest of the file is unchanged.  Sizes come from the
 * file and are checked: each section's ch_size against the data it
 * decompresses to, the total against MAX_TOTAL (4 GiB) and the file's
 * size times MAX_RATIO (64), before anything is allocated.  The child runs under
 * RLIMIT_DATA (backtrace.c counts the copies in, cp_bt_zdebug_extra())
 * and a deadline.
 *
 * Sections whose method is neither zlib (libelf's) nor zstd, or whose zstd
 * data is corrupt or cut, cannot be read: the callbacks then hand out the
 * file as it is and the module's note says why its lines are missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "backtrace_private.h"
#include "bt_child.h"

#ifndef ELFCOMPRESS_ZSTD
#define ELFCOMPRESS_ZSTD 2
#endif

/* Decompressed bytes one file may add: at most MAX_TOTAL, and at most
 * MAX_RATIO times the file (DWARF compresses 3-8 times).  The copy lives
 * in memory on the machine that crashed, which has other work to do. */
#define MAX_TOTAL (4ull << 30)
#define MAX_RATIO 64
#define MAX_ALIGN 4096

struct zsec {
	size_t index;    /* section index */
	uint64_t offset; /* where its data goes in the copy */
	uint64_t align;
	GElf_Chdr chdr;
	const char *name;
};

struct zscan {
	struct zsec *secs;
	size_t n;
	uint64_t total; /* size of the copy */
	char *why;
};

/* Keep the first reason: *WHY is set once (malloc'ed). */
__attribute__((format(printf, 2, 3))) static void set_why(char **why, const char *fmt, ...)
{
	va_list ap;
	if (*why)
		return;
	va_start(ap, fmt);
	if (vasprintf(why, fmt, ap) < 0)
		*why = NULL;
	va_end(ap);
}

static bool is_debug_name(const char *n)
{
	return n && (strncmp(n, ".debug_", 7) == 0 || strncmp(n, ".zdebug_", 8) == 0 ||
	             strncmp(n, ".gnu.debuglto_", 14) == 0);
}

/* The zstd sections of ELF and where each goes in a copy (none: s->n 0).
 * s->why says why some debug sections cannot be read; -1 when none of
 * them should be tried (too large, out of memory). */
static int scan(Elf *elf, uint64_t size, struct zscan *s)
{
	size_t shnum, shstrndx;
	memset(s, 0, sizeof(*s));
	if (elf_kind(elf) != ELF_K_ELF || elf_getshdrnum(elf, &shnum) != 0 ||
	    elf_getshdrstrndx(elf, &shstrndx) != 0)
		return 0;
	uint64_t end = size;
	uint64_t limit = size < MAX_TOTAL / MAX_RATIO ? size * MAX_RATIO : MAX_TOTAL;
	for (size_t i = 1; i < shnum; i++) {
		Elf_Scn *scn = elf_getscn(elf, i);
		GElf_Shdr sh;
		if (!scn || !gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_COMPRESSED) ||
		    sh.sh_type == SHT_NOBITS)
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		GElf_Chdr ch;
		if (!gelf_getchdr(scn, &ch)) {
			if (is_debug_name(name))
				set_why(&s->why, "compressed debug section %s has no valid header",
				        name);
			continue;
		}
		if (ch.ch_type == ELFCOMPRESS_ZLIB)
			continue; /* libelf's own */
		if (ch.ch_type != ELFCOMPRESS_ZSTD) {
			if (is_debug_name(name))
				set_why(&s->why,
				        "debug section %s is compressed with an unsupported method "
				        "(ELF compression type %llu)",
				        name, (unsigned long long)ch.ch_type);
			continue;
		}
		uint64_t align = ch.ch_addralign;
		if (align == 0 || align > MAX_ALIGN || (align & (align - 1)))
			align = 1;
		uint64_t at = (end + align - 1) & ~(align - 1);
		if (at < end || ch.ch_size > limit || at - size > limit - ch.ch_size) {
			set_why(&s->why,
			        "debug section %s is too large to decompress (%llu bytes; the "
			        "limit for this file is %llu)",
			        name ? name : "?", (unsigned long long)ch.ch_size,
			        (unsigned long long)limit);
			return -1;
		}
		struct zsec *n = realloc(s->secs, (s->n + 1) * sizeof(*n));
		if (!n) {
			set_why(&s->why, "out of memory");
			return -1;
		}
		s->secs = n;
		s->secs[s->n++] = (struct zsec){i, at, align, ch, name ? name : "?"};
		end = at + ch.ch_size;
	}
	s->total = end;
	return 0;
}

/* Write SH as section header I of the copy IMG (its file layout). */
static bool put_shdr(Elf *elf, uint8_t *img, uint64_t size, size_t i, const GElf_Shdr *sh)
{
	GElf_Ehdr eh;
	Elf64_Shdr s64;
	Elf32_Shdr s32;
	Elf_Data src = {.d_type = ELF_T_SHDR, .d_version = EV_CURRENT};
	Elf_Data dst = {.d_version = EV_CURRENT};
	if (!gelf_getehdr(elf, &eh))
		return false;
	if (gelf_getclass(elf) == ELFCLASS64) {
		s64 = (Elf64_Shdr){sh->sh_name,      sh->sh_type,   sh->sh_flags, sh->sh_addr,
		                   sh->sh_offset,    sh->sh_size,   sh->sh_link,  sh->sh_info,
		                   sh->sh_addralign, sh->sh_entsize};
		src.d_buf = &s64;
		src.d_size = sizeof(s64);
	} else {
		if (sh->sh_offset > UINT32_MAX || sh->sh_size > UINT32_MAX ||
		    sh->sh_addralign > UINT32_MAX)
			return false;
		s32 = (Elf32_Shdr){(Elf32_Word)sh->sh_name,      (Elf32_Word)sh->sh_type,
		                   (Elf32_Word)sh->sh_flags,     (Elf32_Addr)sh->sh_addr,
		                   (Elf32_Off)sh->sh_offset,     (Elf32_Word)sh->sh_size,
		                   (Elf32_Word)sh->sh_link,      (Elf32_Word)sh->sh_info,
		                   (Elf32_Word)sh->sh_addralign, (Elf32_Word)sh->sh_entsize};
		src.d_buf = &s32;
		src.d_size = sizeof(s32);
	}
	/* the table as libelf read it lies in the file; checked again here */
	if (eh.e_shentsize != src.d_size || eh.e_shoff > size ||
	    (size - eh.e_shoff) / src.d_size <= i)
		return false;
	dst.d_buf = img + eh.e_shoff + i * src.d_size;
	dst.d_size = src.d_size;
	return gelf_xlatetof(elf, &dst, &src, eh.e_ident[EI_DATA]) != NULL;
}

/* Decompress section Z of ELF into IMG at z->offset. */
static bool inflate(Elf *elf, ZSTD_DCtx *dctx, uint8_t *img, const struct zsec *z, char **why)
{
	Elf_Scn *scn = elf_getscn(elf, z->index);
	Elf_Data *raw = scn ? elf_rawdata(scn, NULL) : NULL;
	size_t hdr = gelf_getclass(elf) == ELFCLASS64 ? sizeof(Elf64_Chdr) : sizeof(Elf32_Chdr);
	if (!raw || !raw->d_buf || raw->d_size < hdr) {
		set_why(why, "cannot read compressed debug section %s", z->name);
		return false;
	}
	size_t got = ZSTD_decompressDCtx(dctx, img + z->offset, z->chdr.ch_size,
	                                 (const uint8_t *)raw->d_buf + hdr, raw->d_size - hdr);
	if (ZSTD_isError(got)) {
		set_why(why, "debug section %s cannot be decompressed: zstd: %s", z->name,
		        ZSTD_getErrorName(got));
		return false;
	}
	if (got != z->chdr.ch_size) {
		set_why(why,
		        "debug section %s decompresses to fewer bytes than its header says (%llu)",
		        z->name, (unsigned long long)z->chdr.ch_size);
		return false;
	}
	return true;
}

/* The copy of the file of ELF (SIZE bytes) described by S, in a new
 * memfd; -1 with *WHY. */
static int make_copy(Elf *elf, uint64_t size, const struct zscan *s, char **why)
{
	size_t raw_size = 0;
	char *raw = elf_rawfile(elf, &raw_size);
	if (!raw || raw_size != size) {
		set_why(why, "cannot read the file to decompress %s", s->secs[0].name);
		return -1;
	}
	int mfd = memfd_create("corepack-zdebug", MFD_CLOEXEC);
	if (mfd < 0) {
		set_why(why, "cannot decompress %s: memfd_create: %s", s->secs[0].name,
		        strerror(errno));
		return -1;
	}
	uint8_t *img = MAP_FAILED;
	ZSTD_DCtx *dctx = NULL;
	bool ok = ftruncate(mfd, (off_t)s->total) == 0;
	if (ok)
		img = mmap(NULL, s->total, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ok = ok && img != MAP_FAILED && (dctx = ZSTD_createDCtx()) != NULL;
	if (!ok)
		set_why(why, "cannot make room to decompress %s (%llu bytes)", s->secs[0].name,
		        (unsigned long long)s->total);
	if (ok)
		memcpy(img, raw, size);
	for (size_t k = 0; ok && k < s->n; k++) {
		const struct zsec *z = &s->secs[k];
		GElf_Shdr sh;
		/* a section that cannot be decompressed stays as it was, and
		 * libdw skips it, as it would have */
		if (!inflate(elf, dctx, img, z, why))
			continue;
		ok = gelf_getshdr(elf_getscn(elf, z->index), &sh) != NULL;
		sh.sh_flags &= ~(GElf_Xword)SHF_COMPRESSED;
		sh.sh_offset = z->offset;
		sh.sh_size = z->chdr.ch_size;
		sh.sh_addralign = z->align;
		ok = ok && put_shdr(elf, img, size, z->index, &sh);
		if (!ok)
			set_why(why, "cannot rewrite the header of %s", z->name);
	}
	ZSTD_freeDCtx(dctx);
	if (img != MAP_FAILED)
		munmap(img, s->total);
	if (!ok) {
		close(mfd);
		return -1;
	}
	return mfd;
}

int cp_bt_zdebug_open(Elf *elf, uint64_t size, Elf **out, char **why)
{
	struct zscan s;
	int mfd = -1;
	if (out)
		*out = NULL;
	if (scan(elf, size, &s) == 0 && s.n > 0)
		mfd = make_copy(elf, size, &s, &s.why);
	if (s.why && !*why) {
		*why = s.why;
		s.why = NULL;
	}
	free(s.secs);
	free(s.why);
	if (mfd >= 0 && out) {
		*out = elf_begin(mfd, ELF_C_READ_MMAP, NULL);
		if (!*out) {
			close(mfd);
			mfd = -1;
			set_why(why, "cannot read the decompressed copy: %s", elf_errmsg(-1));
		}
	}
	return mfd;
}

uint64_t cp_bt_zdebug_extra(const char *path)
{
	struct stat st;
	struct zscan s;
	uint64_t extra = 0;
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	Elf *elf = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? elf_begin(fd, ELF_C_READ_MMAP, NULL)
	                                                      : NULL;
	if (elf && scan(elf, (uint64_t)st.st_size, &s) == 0 && s.n > 0)
		extra = s.total - (uint64_t)st.st_size;
	if (elf) {
		free(s.secs);
		free(s.why);
	}
	elf_end(elf);
	close(fd);
	return extra;
}
