/*
 * Private to the packer (pack.c and pack_debug.c): the packer's state,
 * struct cp_packer, with the plan of the bundle's entries, and the
 * helpers the two files share.  See include/corepack/pack.h for the
 * public interface.
 */
#ifndef COREPACK_PACK_PRIVATE_H
#define COREPACK_PACK_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/autoload.h"
#include "corepack/manifest.h"
#include "corepack/pack.h"
#include "corepack/remote.h"
#include "corepack/split_place.h"

/* planned.given of a file of our debuginfod cache: our own rights, but
 * only the very file fetched and checked (its identity) */
#define PLAN_FETCHED 2

/* One entry of the bundle, planned before anything is written. */
struct planned {
	enum { PLAN_FILE, PLAN_SYMLINK, PLAN_BUFFER } kind;
	char *name;                  /* bundle path */
	const char *host;            /* PLAN_FILE: the file read (not owned) ... */
	const struct cp_file_id *id; /* ... as the scan checked it (not owned) */
	int given;                   /* ... opened with our own rights (-e, PLAN_FETCHED) */
	int core;                    /* ... the core: read from its descriptor */
	unsigned perm;
	char *text;                   /* PLAN_SYMLINK: the target; PLAN_BUFFER: the contents */
	struct cp_file_digest probed; /* PLAN_FILE: what the manifest says of it */
	size_t file;                  /* PLAN_FILE, PLAN_BUFFER: index into files */
};

struct cp_packer {
	struct cp_pack_opts opts;
	struct cp_core *core;
	struct cp_scan *scan;
	/* Filled while planning; the digests while writing. */
	struct cp_packed_object *objects; /* parallel to scan->modules */
	struct cp_bundle_file *files;
	size_t n_files;
	struct planned *plan;
	size_t n_plan;
	struct cp_packed_debug *debug;
	size_t n_debug;
	struct cp_remote_file *remote; /* left out (--thin) */
	size_t n_remote;
	void *remote_by_name; /* remote[] by bundle path */
	char **links;         /* bundle paths of symlinks written */
	size_t n_links;
	struct cp_backtrace *bt; /* from cp_packer_unwind(), or NULL */
	/* Indexes (tsearch trees of struct name_ref and struct id_ref). */
	void *files_by_name; /* files[] by bundle path */
	void *links_by_name; /* links[] */
	void *objects_by_id; /* packed modules by (dev, ino) */
	/* Decided at open, for the warnings to come before the work. */
	char **debug_paths;           /* parallel to scan->modules: its debug file's
	                               * bundle path, or NULL */
	struct cp_split_plan *split;  /* split DWARF files and their links */
	struct cp_autoload *autoload; /* gdb scripts of the objects */
};
/* pack.c */

/* Grow an array of N elements of SIZE to hold one more, doubling. */
int cp_pack_reserve(void *arrp, size_t n, size_t size);

/* Plan a file once; a second request for the same bundle path reuses the
 * first.  D receives its size and holes (what the manifest says).  PERM 0
 * means 0755 when its mode lets anyone execute it, else 0644. */
int cp_pack_plan_file_once(struct cp_packer *p, const char *name, const char *host,
                           const struct cp_file_id *id, int given, int core, unsigned perm,
                           struct cp_file_digest *d, struct cp_error *err);

/* --thin: leave the file out when a debuginfod server serves this very
 * file (*OUT set, recorded in p->remote); see pack.c. */
int cp_pack_plan_remote(struct cp_packer *p, const char *name, enum cp_remote_kind kind,
                        const uint8_t *id, size_t id_len, const char *host,
                        const struct cp_file_id *fid, int given, struct cp_file_digest *d, int *out,
                        struct cp_error *err);

int cp_pack_plan_symlink(struct cp_packer *p, const char *name, const char *target,
                         struct cp_error *err);

/* Record NAME as a symlink written (indexed by name); -ENOMEM. */
int cp_pack_remember_link(struct cp_packer *p, const char *name);

/* pack_debug.c */

/* What the packer decides at open, so that its warnings come with the
 * scan's: the debug files' bundle paths, the gdb scripts, and where the
 * split DWARF files go. */
int cp_pack_plan(struct cp_packer *p, struct cp_error *err);

/* Plan the separate debug files (and dwz alt files), the split DWARF
 * files and their links, and the objects' gdb scripts. */
int cp_pack_add_debug(struct cp_packer *p, struct cp_error *err);
int cp_pack_add_split(struct cp_packer *p, struct cp_error *err);
int cp_pack_add_autoload(struct cp_packer *p, struct cp_error *err);

#endif
