/*
 * Writing a bundle: a pax tar, compressed according to the output name
 * (.tar.zst, .tar.xz, .tar.gz, .tar), written to a temporary file beside the
 * output and renamed into place only by cp_bundle_writer_commit().
 * cp_bundle_writer_abort() (or a failed commit) removes the temporary file,
 * so a failure never leaves partial output.
 *
 * Entry names passed in are relative to the bundle's top directory
 * ("sysroot/usr/lib/libc.so.6"); the writer prefixes the top directory.
 * Files are read once, in fixed-size blocks, with their sha256 computed on
 * the way into the archive; holes (SEEK_DATA/SEEK_HOLE) become pax sparse
 * entries.
 */
#ifndef COREPACK_BUNDLE_WRITE_H
#define COREPACK_BUNDLE_WRITE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"
#include "corepack/schema.h"

enum cp_compression {
	CP_COMPRESS_ZSTD,
	CP_COMPRESS_XZ,
	CP_COMPRESS_GZIP,
	CP_COMPRESS_NONE,
};

/* The compression an output name asks for; -EINVAL for an unknown suffix
 * (anything but .tar.zst .tar.xz .tar.gz .tgz .tar). */
int cp_compression_from_name(const char *output, enum cp_compression *out);

/* "zstd", "xz", "gzip", "none". */
const char *cp_compression_name(enum cp_compression c);

/* The compression levels C takes, MIN to MAX: zstd 1-19 (default 3), xz
 * 0-9 and gzip 1-9 (default: the library's, 6).  -EINVAL for
 * CP_COMPRESS_NONE, which takes no level. */
int cp_compression_levels(enum cp_compression c, int *min, int *max);

/* The top directory for an output name: basename less ".tar.zst" etc.
 * Caller frees. */
char *cp_bundle_top_from_name(const char *output);

struct cp_bundle_opts {
	int level;     /* compression level (cp_compression_levels()), when level_set */
	int level_set; /* 0: the compression's default level */
	int threads;   /* zstd worker threads, 0 for the default (online CPUs) */
	int force;     /* allow replacing an existing output */
	/* At commit, wait for the bundle and its directory entry to reach
	 * stable storage (fsync), as the handler does; without it, commit
	 * waits for the bundle's data to be written out (sync_file_range)
	 * but not for the filesystem's journal. */
	int sync;
	const volatile sig_atomic_t *cancel; /* when non-NULL and set: -EINTR */
	/* Progress, called a few times a second at most; may be NULL.  DONE
	 * counts the logical bytes (holes included) of every file and buffer
	 * added so far. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	uint64_t progress_total; /* total bytes expected, for the callback */
};

struct cp_bundle_writer;

struct cp_file_digest {
	uint64_t size;      /* logical size */
	uint64_t data_size; /* bytes actually stored (sparse data; 1 for a
	                       file that is all hole, see bundle_file.c) */
	int sparse;         /* the file has holes: the digest is a sparse one */
	/* DIGEST's hash: SHA-256 unless asked for XXH3-128
	 * (cp_bundle_add_fd_probed()).  Its kind (schema.h, digest.h) is
	 * cp_digest_kind_for(sparse, xxh3). */
	int xxh3;
	union {
		uint8_t digest[CP_DIGEST_MAX]; /* cp_digest_kind_size() bytes */
		uint8_t sha256[32];            /* the same, for the SHA-256 kinds */
	};
};

/*
 * Whether OUTPUT may be written: the checks cp_bundle_writer_open() starts
 * with, for a front end to make before any work.  Errors, the message
 * naming OUTPUT: -EEXIST when a file of that name exists (even a dangling
 * symlink) and !FORCE ("'x' already exists"); -ENOENT, -ENOTDIR, -EACCES,
 * -EROFS & co. when its directory is missing, not a directory or not
 * writable (the message names the directory); -EINVAL when it exists and
 * is neither a regular file, a character device nor a FIFO.  *DIRECT (may
 * be NULL) is set to 1 when OUTPUT is an existing character device or FIFO
 * (then FORCE was given), to be written in place, else to 0.
 */
int cp_bundle_output_check(const char *output, int force, int *direct, struct cp_error *err);

/*
 * Open a writer for OUTPUT.  Fails as cp_bundle_output_check() does, and
 * with -EINVAL for an unknown suffix, a compression level the compression
 * does not take (any level for .tar), or a TOP that is not one plain path
 * component.  With force, an existing character device or FIFO
 * (/dev/full, /dev/stdout on a pipe) is written directly, with no
 * temporary file, and zstd is used when its name has no known suffix.
 * The bundle is created mode 0600.  TOP is the top directory name.
 */
int cp_bundle_writer_open(const char *output, const char *top, const struct cp_bundle_opts *opts,
                          struct cp_bundle_writer **out, struct cp_error *err);

/*
 * Adding entries.  NAME must be relative, with no empty, "." or ".."
 * component (-EINVAL otherwise: names come from our own layout code, so
 * that is a bug, not bad input); cp_bundle_add_dir() also takes "." for the
 * top directory itself.  A symlink TARGET must be relative and stay inside
 * the bundle when resolved from the link's directory (-EINVAL).
 *
 * A failure before an entry is started (-ENOENT or -EINVAL for the source
 * file, say) leaves the writer usable.  A failure after (-EINTR on cancel,
 * a read or write error, a file that shrank) leaves a partial entry: every
 * later call then fails with -EIO, and the writer can only be aborted.
 */
int cp_bundle_add_dir(struct cp_bundle_writer *w, const char *name, struct cp_error *err);
int cp_bundle_add_symlink(struct cp_bundle_writer *w, const char *name, const char *target,
                          struct cp_error *err);
/* Stream HOST_PATH into entry NAME with permission bits PERM (0644, 0755;
 * 0600 for what holds the crashed process's memory: layout.h).  PERM must
 * be within 0777 and readable by its owner (-EINVAL otherwise).
 * DIGEST (may be NULL) receives the size and SHA-256 digest (kind sha256
 * or sparse_sha256), only on success; the digest is computed only when
 * DIGEST is given.  A plain sha256 (holes hashed as zeros, as sha256sum
 * does) costs 0.7-0.9 s of CPU per GiB of holes with the SHA extensions,
 * about 6 s without. */
int cp_bundle_add_file(struct cp_bundle_writer *w, const char *name, const char *host_path,
                       unsigned perm, struct cp_file_digest *digest, struct cp_error *err);
/* The same for the regular file open as FD (read with pread() and lseek()
 * from its start, so any position; not closed), named LABEL in messages:
 * a file opened under rules the writer does not know (access.h), or a core
 * that has no name (a temporary file holding a decompressed core). */
int cp_bundle_add_fd(struct cp_bundle_writer *w, const char *name, int fd, const char *label,
                     unsigned perm, struct cp_file_digest *digest, struct cp_error *err);

/*
 * What cp_bundle_add_file() would store for HOST_PATH now, without reading
 * its data: *OUT's size, data_size and sparse (xxh3 and the digest are
 * left zero), for a manifest written before the files.  Errors as cp_bundle_add_file()'s
 * for opening and reading HOST_PATH.
 */
int cp_bundle_probe_file(const char *host_path, struct cp_file_digest *out, struct cp_error *err);
/* The same for the regular file open as FD (not closed), LABEL naming it. */
int cp_bundle_probe_fd(int fd, const char *label, struct cp_file_digest *out, struct cp_error *err);

/* cp_bundle_add_file() of a file probed before (PROBED, from
 * cp_bundle_probe_file()): a file whose size or holes changed since fails
 * with -ESTALE before its entry is started (the writer stays usable).
 * PROBED's xxh3 says which hash DIGEST gets: SHA-256 as probed, or
 * XXH3-128 when the caller set it (the core's: doc/bundle-format.md,
 * "Digests"). */
int cp_bundle_add_file_probed(struct cp_bundle_writer *w, const char *name, const char *host_path,
                              unsigned perm, const struct cp_file_digest *probed,
                              struct cp_file_digest *digest, struct cp_error *err);
/* cp_bundle_add_fd() of a file probed before, as cp_bundle_add_file_probed(). */
int cp_bundle_add_fd_probed(struct cp_bundle_writer *w, const char *name, int fd, const char *label,
                            unsigned perm, const struct cp_file_digest *probed,
                            struct cp_file_digest *digest, struct cp_error *err);
int cp_bundle_add_buffer(struct cp_bundle_writer *w, const char *name, const void *buf, size_t len,
                         unsigned perm, struct cp_error *err);

/* Finish the archive, wait for it to be written out (with sync, fsync;
 * see struct cp_bundle_opts), and move it to the output name (refusing to
 * replace an output that appeared meanwhile unless force: -EEXIST).  Frees
 * W whatever it returns; on failure the temporary file is removed.  A full
 * disk typically shows here (-ENOSPC). */
int cp_bundle_writer_commit(struct cp_bundle_writer *w, struct cp_error *err);
/* Remove the temporary file and free W; W may be NULL. */
void cp_bundle_writer_abort(struct cp_bundle_writer *w);

#endif
