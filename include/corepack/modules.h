/*
 * The objects of a crashed process: every ELF file it had mapped (from
 * NT_FILE, or from link_map when NT_FILE is absent), with every name the
 * process, the loader and gdb know it by, the build-id in the core compared
 * with the file found on this machine, the symlinks that lead to it, its
 * separate debug files, and the libthread_db that matches its libc.
 * Problems with single objects are data (status, warnings), not errors.
 * Files are read with the core owners' rights (access.h): a file they may
 * not read, a symlink they own, a core file are refused, with a warning.
 */
#ifndef COREPACK_MODULES_H
#define COREPACK_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/access.h"
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
	uint64_t start, end;     /* lowest and highest address mapped; 0 when unknown */
	uint64_t map_lo, map_hi; /* one NT_FILE mapping of it (its first page when
	                          * mapped): a live process's map_files entry;
	                          * 0, 0 without NT_FILE */
	int via_map_files;       /* read through that entry (cp_scan_opts.map_files) */
	int code;                /* it may hold code: a mapping of it is executable
	                          * (PF_X), or that is unknown (no NT_FILE) */
	uint64_t header;         /* address of its ELF header (file offset 0), when have_header */
	int have_header;
	struct cp_name *names;
	size_t n_names;
	uint8_t core_build_id[CP_BUILD_ID_MAX];
	size_t core_build_id_len;
	uint8_t file_build_id[CP_BUILD_ID_MAX];
	size_t file_build_id_len;
	enum cp_module_status status;
	enum cp_verify verified_by; /* for ok: build-id, content (no build-id), beside-libc */
	char *status_detail;        /* why, for anything but ok; for ok by content, what matched */
	char *real_path;            /* canonical origin path of the file; NULL when missing */
	char *host_path;            /* the file on this machine; NULL when missing */
	struct cp_file_id file_id;  /* that file, as checked (access.h) */
	int given;                  /* the executable given with -e: read with
	                             * our own rights, not the core owners' */
	struct cp_link *links;      /* symlinks leading to it, from every name */
	size_t n_links;
	struct cp_debug_result *debug; /* NULL with --no-debug or when not packed */
	struct cp_split_result *split; /* its split DWARF (.dwo, .dwp), or NULL for none */
	/* What the packer makes of it (its path in the bundle, its digest) is
	 * the packer's: struct cp_packed_object, manifest.h. */
};

/* A module is packed when its file is the one that ran, or cannot be told
 * apart.  Verification (status, verified_by): the build-ids in the core and
 * the file; without a build-id on either side, the bytes the core holds of
 * the object (image.h): any difference is a mismatch, and an object is
 * unverified (or no-build-id) only when the core holds none of it. */
int cp_module_packable(const struct cp_module *m);

struct cp_scan;
/* Open M's file (or the debug file F) for reading again, as the scan
 * checked it: under the scan's access rules and only if it is still the
 * same file (access.h).  Returns the descriptor or -errno (-ENOENT: M has
 * no file, -ESTALE: replaced since); *ST (may be NULL) gets its fstat(). */
int cp_module_open(const struct cp_scan *s, const struct cp_module *m, struct stat *st);
int cp_debug_file_open(const struct cp_scan *s, const struct cp_debug_file *f, struct stat *st);

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
	/* A live process (corepack --pid, or a core_pattern handler while the
	 * kernel keeps the process): its "/proc/PID/map_files", or NULL.  Each
	 * NT_FILE object is read through its entry there first (access.h),
	 * the very file mapped; where that cannot be opened (not root:
	 * -EPERM; unmapped since), by its path under the sysroot as ever. */
	const char *map_files;
	/* The owner the kernel names (its uid and gid) instead of the core's
	 * NT_PRPSINFO and the core file's owner, when HAVE_OWNER. */
	int have_owner;
	uint32_t owner_uid, owner_gid;
	/* debuginfod servers asked for the debug files not found here, or
	 * NULL (remote.h; not owned) */
	struct cp_remote *remote;
};

struct cp_scan {
	/* Whose rights the core's files are read with (access.h); every
	 * later open of a module's or debug file's host path goes through
	 * cp_access_open() with it and the file's identity. */
	struct cp_access access;
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
	/* The process was started as `ld.so PROGRAM`: the kernel's executable
	 * (AT_PHDR, AT_ENTRY, AT_EXECFN) is the loader, now the interpreter;
	 * the executable is the program, the loader's first link_map entry,
	 * loaded with bias PROGRAM_BIAS.  gdb must load the loader as its
	 * executable (so that it finds the libraries through _r_debug) and
	 * the program's symbols at that bias. */
	int via_loader;
	uint64_t program_bias;
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
/* For a process started as `ld.so PROGRAM` (via_loader), the loader's
 * module, which gdb must load as its executable; NULL otherwise. */
const struct cp_module *cp_scan_loader(const struct cp_scan *s);

#endif
