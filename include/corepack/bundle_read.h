/*
 * Reading a bundle, which is hostile until proven otherwise:
 * cp_bundle_read() streams a bundle through the tar reader (tar_read.h)
 * and the entry validator (entry_check.h), extracting into a staging
 * directory (stage.h; or, to list it, nowhere), hashing every file on the
 * way, then checks the tree against the manifest's "files" list (size and
 * digest of each, none missing, none extra).  A bundle whose manifest.json
 * is the first entry is held to it entry by entry as it arrives; one
 * whose manifest comes last (version 1) is held to an expansion cap.
 * Putting the result in place is unpack.h's.
 */
#ifndef COREPACK_BUNDLE_READ_H
#define COREPACK_BUNDLE_READ_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "corepack/entry_check.h"
#include "corepack/error.h"
#include "corepack/escape.h"
#include "corepack/layout.h"
#include "corepack/manifest_read.h"

#include "corepack/stage.h"

/* report.txt kept for display (bytes). */
#define CP_BUNDLE_MAX_REPORT_SHOWN (1024 * 1024)

/* A bundle whose manifest.json is not its first entry cannot be held to
 * it before the data arrives: its tar stream may be at most
 * CP_BUNDLE_EXPANSION_RATIO times the bundle file (the bytes read so far,
 * from a pipe) plus CP_BUNDLE_EXPANSION_BASE. */
#define CP_BUNDLE_EXPANSION_RATIO 256
#define CP_BUNDLE_EXPANSION_BASE (64ULL << 20)

struct cp_bundle_read_opts {
	/* The staging directory to extract into (stage.h), empty, created
	 * by the caller; NULL to read and check without writing (list). */
	struct cp_stage *stage;
	const volatile sig_atomic_t *cancel; /* when non-NULL and set: -EINTR */
	/* Progress in bytes of the bundle file read; may be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	/* Called for each entry written (verbose output); may be NULL. */
	void (*on_entry)(void *ctx, const char *path, enum cp_entry_type type, uint64_t size);
	void *entry_ctx;
};

struct cp_bundle_contents {
	char *top; /* the bundle's top directory */
	struct cp_manifest *manifest;
	char *report;               /* report.txt (NUL-terminated; at most
	                             * CP_BUNDLE_MAX_REPORT_SHOWN bytes), or NULL */
	uint64_t report_size;       /* its full size */
	size_t n_files, n_symlinks; /* regular files and symlinks in the bundle */
	uint64_t file_bytes;        /* logical bytes of every file */
	int verified;               /* sha256 of every file checked (not when listing) */
	/* Set by cp_unpack(): what gdb will look for outside the bundle
	 * (gdb_names.h), one line each, escaped. */
	char **gdb_warnings;
	size_t n_gdb_warnings;
};

/*
 * Read the bundle at PATH.  Only the tar format and the zstd, xz, gzip and
 * uncompressed forms are accepted.  When extracting, every file's digest is
 * checked against the manifest; when listing, names, types and sizes are.
 * Errors (message starts with "'PATH': "): -ENOENT & co. (cannot open),
 * -EINVAL (not a bundle, a refused entry, a manifest mismatch),
 * -EIO (truncated or corrupt), -E2BIG (a cap), -ENOSPC (the files would
 * not fit the staging directory's file system), -ENOTSUP (a tar form not
 * read), -EINTR (cancelled), -ENOMEM.  On failure the staging directory
 * may hold partial output: the caller removes it.  *OUT is owned by the
 * caller (cp_bundle_contents_free).
 */
int cp_bundle_read(const char *path, const struct cp_bundle_read_opts *opts,
                   struct cp_bundle_contents **out, struct cp_error *err);
void cp_bundle_contents_free(struct cp_bundle_contents *c);

/* Open the bundle file PATH (SHOWN for messages) into *FD; *SIZE is its
 * size when it is a regular file, else 0 (a pipe, a FIFO).  Errors as
 * cp_bundle_read()'s for opening, and -EISDIR for a directory. */
int cp_bundle_open(const char *path, const char *shown, int *fd, uint64_t *size,
                   struct cp_error *err);

/* cp_bundle_read() of PATH, already open as FD (of FILE_SIZE, as
 * cp_bundle_open() gives them) when FD >= 0; FD is closed whatever
 * happens. */
int cp_bundle_read_fd(const char *path, int fd, uint64_t file_size,
                      const struct cp_bundle_read_opts *opts, struct cp_bundle_contents **out,
                      struct cp_error *err);

#endif
