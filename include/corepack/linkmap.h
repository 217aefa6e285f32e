/*
 * Walking the dynamic loader's link_map list in a core's memory:
 * AT_PHDR -> the executable's PT_DYNAMIC -> DT_DEBUG -> r_debug -> r_map,
 * and r_debug_extended's r_next for other link-map namespaces (dlmopen).
 * Memory is read through a callback, so hostile memory (cycles, absurd
 * pointers, unterminated names) can be fed by tests and fuzzers; the walk
 * is bounded in entries, namespaces and name length.
 */
#ifndef COREPACK_LINKMAP_H
#define COREPACK_LINKMAP_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/core.h"
#include "corepack/error.h"

#define CP_LINKMAP_MAX_ENTRIES 65536
#define CP_LINKMAP_MAX_NAMESPACES 64
#define CP_LINKMAP_MAX_NAME 4096

struct cp_linkmap_entry {
	uint64_t l_addr; /* load bias */
	uint64_t l_ld;   /* address of the object's dynamic section */
	char *name;      /* l_name as the loader wrote it; "" for the main program
	                  * (and for a name unreadable or longer than the cap) */
	uint64_t l_name; /* where the name is in memory (0 for none) */
	int first;       /* the first of its namespace's list (l_prev 0): the
	                  * program, whose name gdb ignores */
};

struct cp_linkmap {
	struct cp_linkmap_entry *entries;
	size_t n_entries;
	uint64_t r_debug; /* 0 when no DT_DEBUG was found (static program) */
	const char *why;  /* when the walk stopped early or found nothing: why */
};

/*
 * Walk the list.  IS64/BIG_ENDIAN describe the core; AUX is the core's
 * NT_AUXV values.  A core without the information (static program, memory
 * not dumped) is not an error: the result is empty with WHY set.  Errors
 * are -ENOMEM only.  *OUT owned by the caller (cp_linkmap_free()).
 */
int cp_linkmap_walk(cp_mem_read_fn read, void *ctx, int is64, int big_endian,
                    const struct cp_notes *aux, struct cp_linkmap **out, struct cp_error *err);
/*
 * The same walk from a known r_debug (the dynamic loader's `_r_debug`, for
 * a program with no usable DT_DEBUG: one started as `ld.so ./app`, whose
 * AT_PHDR is the loader's; or as gdb finds it through the executable
 * file's .dynamic section rather than AT_PHDR).  R_DEBUG 0 gives an empty
 * result with WHY.
 */
int cp_linkmap_walk_from(cp_mem_read_fn read, void *ctx, int is64, int big_endian, uint64_t r_debug,
                         struct cp_linkmap **out, struct cp_error *err);
void cp_linkmap_free(struct cp_linkmap *lm);

/*
 * Read the GNU build-id of the ELF object whose file offset 0 is mapped at
 * BASE, using MAPS (the NT_FILE mappings of that same file) to place its
 * PT_NOTE segments.  Returns the length (0 when none could be read: page
 * not dumped, no note) and never fails otherwise.
 */
size_t cp_mem_build_id(cp_mem_read_fn read, void *ctx, int is64, int big_endian, uint64_t base,
                       const struct cp_file_mapping *const *maps, size_t n_maps, uint8_t *buf,
                       size_t bufsize);

/* Read a NUL-terminated string of at most MAX bytes at ADDR; NULL when
 * unreadable or unterminated.  Caller frees. */
char *cp_mem_read_string(cp_mem_read_fn read, void *ctx, uint64_t addr, size_t max);

#endif
