/*
 * manifest.json: what a bundle holds and why, versioned
 * (CP_MANIFEST_VERSION).  Built with json-c from the scanned core before
 * any file is written (it is the bundle's first entry): every file of the
 * bundle (but the manifest and digests.json) is listed in "files" with its
 * size and digest kind, "sha256" for a file without holes, "sparse_sha256"
 * (include/corepack/digest.h) for one with holes.  The digests themselves
 * go into digests.json, the last entry, so the unpacker can verify every
 * file.
 */
#ifndef COREPACK_MANIFEST_H
#define COREPACK_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "corepack/autoload.h"
#include "corepack/backtrace.h"
#include "corepack/bundle_write.h"
#include "corepack/core.h"
#include "corepack/modules.h"
#include "corepack/remote.h"
#include "corepack/schema.h"

/* A file of the bundle, for the "files" list and digests.json. */
struct cp_bundle_file {
	char *path; /* relative to the top directory */
	uint64_t size;
	int sparse; /* stored with holes: digested by a sparse kind */
	int xxh3;   /* digested with XXH3-128, else SHA-256: the kind (schema.h)
	             * is cp_digest_kind_for(sparse, xxh3) */
	union {
		uint8_t digest[CP_DIGEST_MAX]; /* known once written */
		uint8_t sha256[32];            /* the same, for the SHA-256 kinds */
	};
};

/* What the packer did with one object of the scan (an array parallel to
 * scan->modules): where it is in the bundle and its digest. */
struct cp_packed_object {
	char *bundle_path; /* "sysroot" + real_path; NULL when not packed */
	struct cp_file_digest digest;
	int remote; /* left out: the debuginfod servers serve it (--thin) */
};

/* A file a thin bundle leaves out (corepack --thin), because the
 * debuginfod servers were asked for it by build-id and sent this very
 * file: the manifest's "remote" list. */
struct cp_remote_file {
	char *bundle_path; /* where it goes in the bundle's tree */
	enum cp_remote_kind kind;
	uint8_t build_id[CP_BUILD_ID_MAX]; /* what it is asked for by */
	size_t build_id_len;
	uint64_t size;
	uint8_t sha256[32];
};

struct cp_packed_debug {
	size_t module; /* index into scan->modules */
	const struct cp_debug_file *file;
	enum cp_debug_kind kind;
	char *bundle_path;
	struct cp_file_digest digest;
	const struct cp_split_unit *unit; /* kind dwo: its skeleton's unit, else NULL */
	const char *const *links;         /* kind dwo/dwp: the symlinks gdb finds it by */
	size_t n_links;
	int remote; /* left out (--thin) */
};

struct cp_manifest_input {
	const struct cp_core *core;
	const char *core_name;        /* the core's original file name */
	const char *core_compression; /* "zstd", "lz4", "xz", "gzip" as it came; NULL: plain */
	struct cp_file_digest core_digest;
	const struct cp_scan *scan;
	const struct cp_packed_object *objects; /* parallel to scan->modules; NULL: none packed */
	const char *sysroot;                    /* NULL when none */
	const struct cp_packed_debug *debug;
	size_t n_debug;
	const struct cp_bundle_file *files;
	size_t n_files;
	const char *thread_db_dir;          /* origin directory, or NULL */
	const struct cp_autoload *autoload; /* gdb scripts packed for --trust, or NULL */
	time_t created;
	const struct cp_backtrace *backtrace; /* for "crash": the crashing thread; may be NULL */
	/* Left out (--thin): with any, the manifest is of version
	 * CP_MANIFEST_VERSION_THIN, which older readers refuse. */
	const struct cp_remote_file *remote;
	size_t n_remote;
};

/* Render the manifest as pretty-printed JSON; *OUT malloc'd, caller frees.
 * Sizes and digest kinds come from IN; no digest is written. */
int cp_manifest_build(const struct cp_manifest_input *in, char **out, struct cp_error *err);

/* digests.json for FILES (N, in the manifest's order): {"files": [{"path":
 * P, "sha256" or "sparse_sha256": HEX}, ...]}.  *OUT as above. */
int cp_manifest_digests_build(const struct cp_bundle_file *files, size_t n, char **out,
                              struct cp_error *err);

/* The object table of `corepack --list --json`: the core, every object
 * (as in the manifest), the vDSO, other mappings, warnings and totals;
 * ESTIMATE is the bytes a bundle would hold before compression. */
int cp_listing_json(const struct cp_core *core, const struct cp_scan *scan, uint64_t estimate,
                    char **out, struct cp_error *err);

#endif
