/*
 * An ELF core file opened for reading: its program headers, its notes, and
 * reads of the crashed process's memory from the PT_LOAD segments that the
 * file actually holds.  The core is untrusted: every header field is checked
 * against the file size and a cap before use.
 */
#ifndef COREPACK_CORE_H
#define COREPACK_CORE_H

#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"
#include "corepack/notes.h"

#define CP_MAX_PHNUM (1u << 22)
/* Section headers: a gcore core has one per mapping and a few more (and
 * NT_FILE, with its own cap CP_MAX_MAPPINGS, one entry per mapping). */
#define CP_MAX_SHNUM (CP_MAX_MAPPINGS + 16u)

struct cp_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
};

struct cp_core {
	char *path;
	int fd;
	Elf *elf; /* libelf's handle on FD; holds the notes' bytes */
	int is64;
	int big_endian;
	uint16_t machine;
	uint64_t file_size;
	/* PT_LOAD segments, sorted by vaddr. */
	struct cp_segment *loads;
	size_t n_loads;
	/* Bytes of PT_LOAD data the headers promise beyond the end of the file
	 * (a core cut short by ulimit or a full disk), and the size promised. */
	uint64_t missing_bytes;
	uint64_t expected_size;
	uint64_t notes_size;   /* PT_NOTE bytes, all segments */
	struct cp_notes notes; /* names point into ELF's copy of the notes */
};

/*
 * Open and validate PATH as an ELF core (framed with libelf, see core.c)
 * and decode its notes.  Errors name the file: "'x': not an ELF file",
 * "'x': not a core file (it is an executable)", "'x': program headers are
 * cut off", "'x': notes are cut off (...)", "'x': core claims N program
 * headers (limit M)", "'x': is a directory", "'x': empty file".  PT_LOAD
 * data past the end of the file is not an error (missing_bytes).  On
 * success *OUT is owned by the caller (cp_core_free()).
 */
int cp_core_open(const char *path, struct cp_core **out, struct cp_error *err);
/* The same for the file open as FD (taken over: closed by cp_core_free(),
 * or here on failure), NAME in messages. */
int cp_core_open_fd(int fd, const char *name, struct cp_core **out, struct cp_error *err);
void cp_core_free(struct cp_core *c);

/*
 * Read LEN bytes of the process's memory at ADDR.  Returns 0 when all bytes
 * are present in the file, -EFAULT when any is unmapped, not dumped, or past
 * the end of a truncated file.  Reads that span two segments fail.
 */
int cp_core_read(const struct cp_core *c, uint64_t addr, void *buf, size_t len);

/* A memory reader callback form of cp_core_read, for code that is also fed
 * synthetic memory by tests and fuzzers. */
typedef int (*cp_mem_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
int cp_core_mem_read(void *core, uint64_t addr, void *buf, size_t len);

/* "x86_64", "i386", "aarch64", ... or "unknown". */
const char *cp_machine_name(uint16_t machine);

#endif
