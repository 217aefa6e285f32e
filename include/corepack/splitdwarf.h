/*
 * Split DWARF (gcc/clang -gsplit-dwarf): an object keeps only skeleton
 * units, each naming the .dwo file that holds its DWARF (DW_AT_dwo_name,
 * relative to DW_AT_comp_dir, or DWARF 4's DW_AT_GNU_dwo_name) and the id
 * that file's split unit carries (the unit id of a DWARF 5 skeleton,
 * DW_AT_GNU_dwo_id in DWARF 4); or all of them sit in one DWARF package,
 * `<object>.dwp`.  Without those files gdb shows no source line and no
 * variable for the object ("Could not find DWO CU").
 *
 * cp_split_find() looks for them where gdb 13 does (gdb/dwarf2/read.c,
 * open_and_init_dwp_file, open_dwo_file, try_open_dwop_file):
 *  - a .dwp first: `<name>.dwp` for each name of the object (for skeletons
 *    in a separate debug file: beside that file), then `ROOT/<basename>.dwp`
 *    under each debug root; when there is one, gdb reads every split unit
 *    from it and looks for no .dwo;
 *  - else, per skeleton: an absolute DW_AT_dwo_name as it is; a relative
 *    one in DW_AT_comp_dir, in the directory of the file holding the
 *    skeleton ("the object's directory"), then under each debug root
 *    (gdb's cwd, which it also tries, means nothing here).
 * Every candidate is checked: a .dwo must hold a split unit with the
 * skeleton's id (libdw), a .dwp must list it in its .debug_cu_index.
 * Paths from the object are data: they are looked up under the sysroot
 * and never followed outside it.
 *
 * A missing file is data, not an error (the unit's file is NULL).
 */
#ifndef COREPACK_SPLITDWARF_H
#define COREPACK_SPLITDWARF_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/debuginfo.h"
#include "corepack/error.h"

/* Skeleton units read per object; past it the rest are counted, not
 * looked up. */
#define CP_SPLIT_MAX_UNITS 65536

struct cp_split_unit {
	uint64_t dwo_id;
	char *dwo_name;             /* DW_AT_dwo_name as written */
	char *comp_dir;             /* DW_AT_comp_dir as written, or NULL */
	struct cp_debug_file *file; /* the .dwo found with this id (how: CP_DEBUG_DWO_*),
	                             * or NULL: missing, or read from the .dwp */
	char *stale;  /* a file gdb would open first for it whose DWO id differs, or NULL */
	int in_dwp;   /* the .dwp lists this id */
	int absolute; /* DW_AT_dwo_name is absolute: gdb 13 reads it from there only */
};

struct cp_split_result {
	int in_debug_file;           /* the skeletons are in the separate debug file */
	struct cp_split_unit *units; /* one per skeleton unit, in the file's order */
	size_t n_units;
	size_t n_skipped;          /* skeletons past CP_SPLIT_MAX_UNITS */
	struct cp_debug_file *dwp; /* the .dwp gdb would read (how: CP_DEBUG_DWP*), or NULL */
	size_t n_missing;          /* units whose DWARF was not found */
	/* The names gdb may open the object by (its real path, then each
	 * absolute name: the loader's for a library), as origin paths with
	 * symlinks in their directories resolved; gdb 13 looks for NAME.dwp
	 * and in NAME's directory for a .dwo by the name it opened, without
	 * resolving symlinks (solib_find), so a bundle needs each.  Empty for
	 * skeletons in a separate debug file. */
	char **opened;
	size_t n_opened;
};

struct cp_split_object {
	/* This machine's copy of the file that holds the skeleton units: the
	 * object, or its separate debug file (IN_DEBUG_FILE). */
	const char *dwarf_path;
	int in_debug_file;
	/* Origin names of the object (absolute ones are used) and its
	 * canonical path, for `<name>.dwp`. */
	const char *const *names;
	size_t n_names;
	const char *real_path;
};

/*
 * Find the split DWARF files of one object.  *OUT is NULL when the file
 * holds no skeleton unit (the usual case: it is decided from its section
 * headers when there is no .debug_addr) or no DWARF that libdw can read;
 * otherwise owned by the caller (cp_split_result_free()).  Errors: -ENOMEM
 * only.
 */
int cp_split_find(const struct cp_debug_search *s, const struct cp_split_object *o,
                  struct cp_split_result **out, struct cp_error *err);
void cp_split_result_free(struct cp_split_result *r);

/*
 * Whether the DWARF package index SECTION (the raw bytes of .debug_cu_index,
 * version 2 (GNU, DWARF 4) or 5; BIG_ENDIAN as the file's ELF header says)
 * lists a unit with signature ID.  Returns 1 or 0, or -EINVAL when the
 * section is not an index (bad version, counts past its size, a slot count
 * that is not a power of two).  The layout is DWARF 5's section 7.3.5.3 and
 * the GNU DebugFission one gdb reads.
 */
int cp_dwp_index_has(const unsigned char *section, size_t size, int big_endian, uint64_t id);

#endif
