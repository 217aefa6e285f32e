/*
 * The objects of a crashed process: every ELF file it had mapped (from
 * NT_FILE, or from link_map when NT_FILE is absent), with every name the
 * process, the loader and gdb know it by, the build-id in the core compared
 * with the file found on this machine, the symlinks that lead to it, its
 * separate debug files, and the libthread_db that matches its libc.
 * Problems with single objects are data (status, warnings), not errors.
 */
#ifndef COREPACK_MODULES_H
#define COREPACK_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/core.h"
#include "corepack/debuginfo.h"
#include "corepack/linkmap.h"
#include "corepack/resolve.h"
#include "corepack/schema.h"
#include "corepack/splitdwarf.h"

/* The status, role and name-source values and their tokens are schema.h's
 * (cp_status_name(), cp_role_name(), cp_name_source_name()). */

struct cp_name {
	/* Origin path; a link_map name may be relative as the loader had it
	 * ("../lib/libx.so", "./plugin.so": gdb looks those up from its working
	 * directory, then by base name in solib-search-path). */
	char *path;
	enum cp_name_source source;
};

struct cp_module {
	char *origin_path; /* the NT_FILE name less " (deleted)" */
	int deleted;
	enum cp_module_role role;
	uint64_t start, end; /* lowest and highest address mapped; 0 when unknown */
	struct cp_name *names;
	size_t n_names;
	uint8_t core_build_id[CP_BUILD_ID_MAX];
	size_t core_build_id_len;
	uint8_t file_build_id[CP_BUILD_ID_MAX];
	size_t file_build_id_len;
	enum cp_module_status status;
	char *status_detail;   /* why, for anything but ok; NULL otherwise */
	char *real_path;       /* canonical origin path of the file; NULL when missing */
	char *host_path;       /* the file on this machine; NULL when missing */
	struct cp_link *links; /* symlinks leading to it, from every name */
	size_t n_links;
	struct cp_debug_result *debug; /* NULL with --no-debug or when not packed */
	struct cp_split_result *split; /* its split DWARF (.dwo, .dwp), or NULL for none */
	/* What the packer makes of it (its path in the bundle, its digest) is
	 * the packer's: struct cp_packed_object, manifest.h. */
};

/* A module is packed when its file is the one that ran, or cannot be told apart. */
int cp_module_packable(const struct cp_module *m);

struct cp_other_mapping {
	char *path;
	uint64_t start, end;
};

struct cp_scan_opts {
	const char *sysroot;            /* NULL for none */
	const char *executable;         /* -e: the executable on this machine, or NULL */
	const char *const *debug_roots; /* --debug-dir, on this machine */
	size_t n_debug_roots;
	int no_debug;
};

struct cp_scan {
	struct cp_module *modules;
	size_t n_modules;
	struct cp_other_mapping *others; /* non-ELF file mappings */
	size_t n_others;
	struct cp_linkmap *linkmap;
	uint64_t vdso;     /* AT_SYSINFO_EHDR, 0 when none */
	uint64_t vdso_end; /* end of the core segment holding it */
	uint8_t vdso_build_id[CP_BUILD_ID_MAX];
	size_t vdso_build_id_len;
	char **warnings; /* one line each, naming the file */
	size_t n_warnings;
	/* Origin directories of the objects the loader knew by a relative
	 * name ("../lib/libx.so"), in order: gdb's solib-search-path, which it
	 * searches by base name when the name does not resolve. */
	char **solib_dirs;
	size_t n_solib_dirs;
};

/*
 * Find and check every object of CORE.  Errors are -ENOMEM and the like;
 * a core with nothing usable still scans (with warnings).  *OUT owned by
 * the caller (cp_scan_free()).
 */
int cp_scan_core(const struct cp_core *core, const struct cp_scan_opts *opts, struct cp_scan **out,
                 struct cp_error *err);
void cp_scan_free(struct cp_scan *s);

/* The executable module, or NULL. */
const struct cp_module *cp_scan_executable(const struct cp_scan *s);

#endif
