/*
 * Where a bundle puts the split DWARF files the scan found (splitdwarf.h)
 * so that gdb 13 finds them from the bundle alone.
 *
 * Each .dwo is stored once, by its DWO id, at debug/.dwo/ID.dwo (ID: 16
 * lowercase hex digits); a .dwp at debug/.dwp + the object's canonical
 * path + ".dwp".  gdb looks them up by other names, so each gets a
 * relative symlink where gdb looks first:
 *  - a .dwo with a relative DW_AT_dwo_name NAME: in the directory of the
 *    file that holds the skeleton ("the object's directory", searched
 *    before gdb's cwd and the debug-file-directory): sysroot + the
 *    directory of each name gdb may open the object by + "/" + NAME
 *    (COMP_DIR/NAME when DW_AT_comp_dir is relative), or beside its
 *    separate debug file in debug/;
 *  - a .dwp: sysroot + each name gdb may open the object by + ".dwp"
 *    (gdb's `<objfile>.dwp`), or beside its debug file: the debug file's
 *    bundle path + ".dwp" and its directory + the object's base names +
 *    ".dwp".
 * A .dwo with an absolute DW_AT_dwo_name is packed without a link: gdb 13
 * opens an absolute name only as it is (try_open_dwop_file), so no setting
 * points it into the bundle; that is warned about.  So is a link that
 * cannot be made: a name that climbs out of its directory tree, breaks the
 * bundle's path rules (layout.h), or is taken by another file or link.
 */
#ifndef COREPACK_SPLIT_PLACE_H
#define COREPACK_SPLIT_PLACE_H

#include <stddef.h>

#include "corepack/error.h"
#include "corepack/modules.h"

/* Split DWARF files (.dwo and .dwp) one bundle holds; past it they are
 * left out, with a warning. */
#define CP_SPLIT_MAX_FILES 65536

struct cp_split_entry {
	size_t module;                    /* index into scan->modules */
	const struct cp_split_unit *unit; /* the skeleton's unit; NULL for a .dwp */
	const struct cp_debug_file *file; /* the file on this machine */
	enum cp_debug_kind kind;          /* CP_DEBUG_KIND_DWO or _DWP */
	char *bundle_path;                /* where the file is stored */
	char **links;                     /* symlinks gdb finds it by (bundle paths) */
	char **link_targets;              /* their targets, relative to each link's directory */
	size_t n_links;
};

struct cp_split_plan {
	struct cp_split_entry *entries;
	size_t n_entries;
	char **warnings; /* one line each, naming the object and the file */
	size_t n_warnings;
};

struct cp_split_place_input {
	const struct cp_scan *scan;
	/* Parallel to scan->modules: the bundle path of the module's separate
	 * debug file when one is packed, else NULL. */
	const char *const *debug_paths;
	/* Every name the bundle holds besides (files and symlinks, relative
	 * to its top directory), in any order. */
	const char *const *taken;
	size_t n_taken;
};

/*
 * Place every split DWARF file of the packable modules.  *OUT owned by the
 * caller (cp_split_plan_free()).  Errors: -ENOMEM only.
 */
int cp_split_place(const struct cp_split_place_input *in, struct cp_split_plan **out,
                   struct cp_error *err);
void cp_split_plan_free(struct cp_split_plan *p);

#endif
