/*
 * An ELF object as a core shows it, and as a file on disk shows it.
 *
 * The kernel dumps the first page of every ELF file mapping (the ELF
 * header and the program headers; coredump_filter bit 4, on by default)
 * and every mapping the process wrote to; a live process's executable
 * also leaves its program headers at AT_PHDR.  From those this finds an
 * object's place in memory (load bias, extent) and its build-id without
 * NT_FILE, and compares what the core holds of an object with a file: the
 * proof that a file without a build-id is the one that ran.  The rules are
 * the ELF gABI's (program headers, load bias) and the kernel's
 * fs/binfmt_elf.c (what is dumped).  Everything read from the core is
 * checked and capped; a core that does not hold what is needed gives
 * -ENOENT, never a guess.
 */
#ifndef COREPACK_IMAGE_H
#define COREPACK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/access.h"
#include "corepack/core.h"
#include "corepack/error.h"

/* Program headers read from a core's memory, at most. */
#define CP_IMAGE_MAX_PHNUM 1024
/* Bytes of an object compared with its file, at most (what a gcore core,
 * which dumps code too, may ask). */
#define CP_IMAGE_MAX_COMPARE (256ULL << 20)

/* The page size of the crashed process: NT_FILE's unit, else AT_PAGESZ,
 * else 4096. */
uint64_t cp_image_page_size(const struct cp_core *core);

struct cp_image_layout {
	uint64_t header;     /* address of the ELF header (file offset 0) */
	uint64_t bias;       /* load bias: address = bias + p_vaddr */
	uint64_t start, end; /* its PT_LOAD segments, page-aligned: [start, end) */
};

/*
 * The layout of the object whose program headers the core holds at PHDR,
 * PHNUM of them (AT_PHDR and AT_PHNUM: the executable the kernel loaded).
 * The bias comes from PT_PHDR, or without one from the ELF header found
 * at the start of PHDR's page.  -ENOENT when the core lacks them or they
 * make no sense.
 */
int cp_image_from_phdr(const struct cp_core *core, uint64_t phdr, uint64_t phnum,
                       struct cp_image_layout *out);

/* The layout of the object whose ELF header the core holds at HEADER (a
 * dumped first page: a mapping at file offset 0, or a shared object's
 * l_addr).  -ENOENT as above. */
int cp_image_from_header(const struct cp_core *core, uint64_t header, struct cp_image_layout *out);

/* The GNU build-id of the object whose ELF header is at HEADER, read from
 * the core's memory through its own program headers; returns its length,
 * 0 when the core does not hold it. */
size_t cp_image_build_id(const struct cp_core *core, uint64_t header, uint8_t *buf, size_t size);

struct cp_image_match {
	uint64_t bytes;       /* bytes of the file compared with the core's copy */
	uint64_t pages;       /* pages they span */
	int differs;          /* a byte differs ... */
	uint64_t diff_offset; /* ... first at this file offset */
	int headers_only;     /* the file has text relocations: only its headers were compared */
};

/*
 * Compare what the core holds of the object whose ELF header is at HEADER
 * with the file HOST_PATH: the bytes of the file's PT_LOAD segments that
 * are not writable (its headers, code and read-only data, which the
 * process cannot have changed), wherever the core dumped them.  Writable
 * segments (.data, .got, and the RELRO part, relocated at load time)
 * legitimately differ and are skipped; so is everything but the headers of
 * a file with text relocations.  At most CP_IMAGE_MAX_COMPARE bytes.
 * The file is opened under A's access rules (access.h; NULL: our own
 * rights).  M->bytes 0 means the core holds nothing to compare.  Errors: the file
 * cannot be opened or is not ELF of the core's class (-errno, -EINVAL,
 * message names it), -ENOMEM.
 */
int cp_image_compare(const struct cp_core *core, uint64_t header, const struct cp_access *a,
                     const char *host_path, struct cp_image_match *m, struct cp_error *err);

/*
 * The address in the crashed process of the dynamic symbol NAME of the
 * file HOST_PATH, loaded with its ELF header at HEADER (the loader's
 * `_r_debug`), opened under A's access rules.  -ENOENT when the file has
 * no such symbol.
 */
int cp_image_symbol(const struct cp_core *core, const struct cp_access *a, const char *host_path,
                    uint64_t header, const char *name, uint64_t *addr, struct cp_error *err);

#endif
