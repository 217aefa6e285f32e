/*
 * Decoding the notes of an ELF core (NT_FILE, NT_PRPSINFO, NT_PRSTATUS,
 * NT_SIGINFO, NT_AUXV), 32- or 64-bit, either byte order.  libelf frames
 * the notes (gelf_getnote over a PT_NOTE segment's Elf_Data); this decodes
 * their contents, whose layouts come from the kernel's
 * include/uapi/linux/elfcore.h and fs/binfmt_elf.c.  Every count, size and
 * offset in a note is checked against the note and a cap.
 */
#ifndef COREPACK_NOTES_H
#define COREPACK_NOTES_H

#include <stddef.h>
#include <stdint.h>

#include <gelf.h>

#include "corepack/error.h"

/* Caps on what a core may ask of us. */
#define CP_MAX_MAPPINGS (1u << 20)     /* NT_FILE entries */
#define CP_MAX_NOTES_SIZE (256u << 20) /* all PT_NOTE bytes together */
#define CP_MAX_THREADS (1u << 20)

struct cp_file_mapping {
	uint64_t start, end;  /* [start, end) in the process */
	uint64_t file_offset; /* bytes (page offset * page size) */
	const char *name;     /* as written, " (deleted)" kept; points into the notes */
};

struct cp_thread_info {
	int32_t pid;
	int16_t cursig;
};

struct cp_notes {
	/* NT_FILE */
	int have_file;
	uint64_t page_size;
	struct cp_file_mapping *files; /* owned */
	size_t n_files;

	/* NT_PRPSINFO */
	int have_prpsinfo;
	uint32_t pid, ppid;
	/* pr_uid and pr_gid: the crashed process's real ids, when the layout
	 * is one we know (have_owner) */
	int have_owner;
	uint32_t uid, gid;
	char fname[17];  /* NUL-terminated */
	char psargs[81]; /* NUL-terminated */

	/* NT_PRSTATUS, one per thread, the dumping thread first */
	struct cp_thread_info *threads; /* owned */
	size_t n_threads;

	/* NT_SIGINFO (of the dumping thread) */
	int have_siginfo;
	int32_t sig_signo, sig_errno, sig_code;
	uint64_t fault_addr;

	/* NT_AUXV */
	int have_auxv;
	uint64_t at_phdr, at_phent, at_phnum, at_base, at_entry, at_execfn, at_sysinfo_ehdr,
	    at_pagesz;

	/* cp_notes_parse() only: the copy of its buffer that the names point
	 * into, and libelf's handle on it (owned). */
	void *storage;
};

/*
 * Decode the notes of one PT_NOTE segment into N: DATA is what
 * elf_getdata_rawchunk() gave for the segment, as ELF_T_NHDR (or
 * ELF_T_NHDR8 when the segment is 8-aligned), headers already in host
 * order; ELFCLASS is ELFCLASS32 or ELFCLASS64, BIG_ENDIAN nonzero for
 * ELFDATA2MSB (the contents are still in the file's order).  Call it once
 * per segment on a zeroed N: threads accumulate, the first NT_FILE,
 * NT_SIGINFO wins.  Notes the decoder does not know are skipped; a
 * malformed known note is an error (-EINVAL with the note named), and so
 * is a note that gelf_getnote() cannot frame ("notes are cut off at offset
 * N").  The names in n->files point into DATA, which must outlive N.  On
 * error N may be partly filled: cp_notes_done() it.
 */
int cp_notes_decode(struct cp_notes *n, Elf_Data *data, int elfclass, int big_endian,
                    struct cp_error *err);

/*
 * The same for a buffer holding the bytes of PT_NOTE segments, 4-aligned
 * (for the fuzzer and tests): the buffer is copied behind a minimal ELF
 * header, opened with elf_memory() and framed by libelf as a core's
 * segment is.  LEN is capped at CP_MAX_NOTES_SIZE.  On success *OUT is
 * filled and owns that copy (the names point into it); release it with
 * cp_notes_done().  On error *OUT is untouched.
 */
int cp_notes_parse(const uint8_t *buf, size_t len, int elfclass, int big_endian,
                   struct cp_notes *out, struct cp_error *err);
/* Free what N owns and zero it; N may be zeroed already. */
void cp_notes_done(struct cp_notes *n);

/* "SIGSEGV" for 11; NULL when unknown. */
const char *cp_signal_name(int sig);

/* Integer readers in a given byte order (bounds are the caller's). */
uint16_t cp_read_u16(const uint8_t *p, int big_endian);
uint32_t cp_read_u32(const uint8_t *p, int big_endian);
uint64_t cp_read_u64(const uint8_t *p, int big_endian);
/* A word: 4 bytes for ELFCLASS32, 8 for ELFCLASS64. */
uint64_t cp_read_word(const uint8_t *p, int is64, int big_endian);

#endif
