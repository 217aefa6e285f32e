/*
 * Parsing the notes of an ELF core (NT_FILE, NT_PRPSINFO, NT_PRSTATUS,
 * NT_SIGINFO, NT_AUXV), 32- or 64-bit, either byte order.  The parser works
 * on a byte buffer only, so it can be fuzzed without a file; every count,
 * size and offset in the buffer is checked against the buffer and a cap.
 */
#ifndef COREPACK_NOTES_H
#define COREPACK_NOTES_H

#include <stddef.h>
#include <stdint.h>

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
	int32_t pid, ppid;
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
};

/*
 * Parse the concatenated contents of a core's PT_NOTE segments.  ELFCLASS is
 * ELFCLASS32 or ELFCLASS64, BIG_ENDIAN nonzero for ELFDATA2MSB.  Notes the
 * parser does not know are skipped; a malformed known note is an error
 * (-EINVAL with the note named); a note header running past the buffer is
 * -EINVAL ("notes are cut off").  On success *OUT is filled; the names in
 * out->files point into BUF, which must outlive OUT.  Release with
 * cp_notes_release().
 */
int cp_notes_parse(const uint8_t *buf, size_t len, int elfclass, int big_endian,
                   struct cp_notes *out, struct cp_error *err);
void cp_notes_release(struct cp_notes *n);

/* "SIGSEGV" for 11; NULL when unknown. */
const char *cp_signal_name(int sig);

/* Integer readers in a given byte order (bounds are the caller's). */
uint16_t cp_read_u16(const uint8_t *p, int big_endian);
uint32_t cp_read_u32(const uint8_t *p, int big_endian);
uint64_t cp_read_u64(const uint8_t *p, int big_endian);
/* A word: 4 bytes for ELFCLASS32, 8 for ELFCLASS64. */
uint64_t cp_read_word(const uint8_t *p, int is64, int big_endian);

#endif
