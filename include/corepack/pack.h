/*
 * Packing a core into a bundle, in two steps so the front end can report
 * between them: cp_packer_open() reads the core and finds every object
 * (nothing is written), cp_packer_write() writes the bundle.
 */
#ifndef COREPACK_PACK_H
#define COREPACK_PACK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "corepack/bundle_write.h"
#include "corepack/core.h"
#include "corepack/modules.h"

struct cp_pack_opts {
	/* The core's path; with USE_CORE_FD, only its name for messages and
	 * the manifest, and the core is read from CORE_FD (not owned: a
	 * decompressed core, core_input.h). */
	const char *core_path;
	int use_core_fd, core_fd;
	const char *core_compression; /* how it came ("zstd"), or NULL: the manifest's */
	const char *output;           /* bundle file name */
	const char *sysroot;          /* NULL for none */
	const char *executable;       /* -e, or NULL */
	const char *const *debug_roots;
	size_t n_debug_roots;
	int no_debug;
	/* A live process: modules.h's cp_scan_opts.map_files, have_owner,
	 * owner_uid and owner_gid (the sysroot is then its /proc/PID/root). */
	const char *map_files;
	int have_owner;
	uint32_t owner_uid, owner_gid;
	/* debuginfod servers (remote.h; not owned), or NULL: asked for the
	 * debug files not found here */
	struct cp_remote *remote;
	/* --thin: leave out every object and debug file REMOTE serves by
	 * build-id (asked: what it sends must be the very file) */
	int thin;
	struct cp_bundle_opts bundle; /* level, threads, force, cancel, progress */
};

struct cp_packer;

/* Open the core and scan it.  Errors: the core is unusable (message names
 * it), ENOMEM.  *OUT owned by the caller (cp_packer_free()). */
int cp_packer_open(const struct cp_pack_opts *opts, struct cp_packer **out, struct cp_error *err);

const struct cp_core *cp_packer_core(const struct cp_packer *p);
const struct cp_scan *cp_packer_scan(const struct cp_packer *p);

struct cp_pack_stats {
	size_t n_objects;      /* objects packed */
	size_t n_debug_files;  /* debug files packed (dwz alts included) */
	size_t n_links;        /* symlinks reproduced */
	size_t n_dwz_objects;  /* objects whose debug file needs a dwz alt file */
	uint64_t input_bytes;  /* logical bytes of every file packed */
	uint64_t bundle_size;  /* size of the bundle written */
	size_t n_remote;       /* files left out (--thin) */
	uint64_t remote_bytes; /* ... their bytes */
};

/* Total logical bytes the bundle will hold (for progress). */
uint64_t cp_packer_total_bytes(const struct cp_packer *p);

/*
 * Unwind the core's threads (backtrace.h) with the files the scan found,
 * for report.txt, the manifest's crash frames and the front end's summary.
 * Forks: call it before cp_packer_write() starts compression threads.
 * A core that cannot be unwound is not an error (the backtrace says why);
 * errors are -ENOMEM, -EINTR.
 */
struct cp_backtrace_opts;
struct cp_backtrace;
int cp_packer_unwind(struct cp_packer *p, const struct cp_backtrace_opts *o, struct cp_error *err);
/* The backtrace from cp_packer_unwind(), or NULL. */
const struct cp_backtrace *cp_packer_backtrace(const struct cp_packer *p);

/* What the bundle would hold before compression: the core's data (holes
 * excluded), the objects and their debug files.  For --list. */
uint64_t cp_packer_estimate_bytes(const struct cp_packer *p);

/*
 * Write the bundle.  On failure (including cancellation: -EINTR) nothing is
 * left at the output path.  STATS may be NULL.
 */
int cp_packer_write(struct cp_packer *p, struct cp_pack_stats *stats, struct cp_error *err);

void cp_packer_free(struct cp_packer *p);

#endif
