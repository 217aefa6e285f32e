/*
 * The core as a user hands it over: a file or standard input ("-"), plain
 * or compressed with zstd, lz4, xz or gzip (systemd-coredump keeps
 * core.*.zst, older systems .lz4 or .xz; `coredumpctl dump` and a
 * core_pattern pipe hand one over on a pipe).
 *
 * The compression is told by content, never by name: the magic numbers of
 * a zstd frame (RFC 8878), an LZ4 frame (lz4's doc/lz4_Frame_format.md),
 * an xz stream (the .xz file format) and a gzip member (RFC 1952).  A
 * compressed core, and a core that arrives on a pipe, is written into an
 * anonymous temporary file (O_TMPFILE, or a file unlinked as soon as it is
 * created) in a given directory, decompressed by libarchive (its raw
 * format and the one filter the magic names).  Every page-sized block of
 * zeros becomes a hole, so the core keeps the sparseness the kernel gave
 * it; memory stays bounded (one 1 MiB buffer plus the decompressor's
 * window); the file has no name, so nothing is left behind however the
 * process ends.  A plain core given by path is not touched: the caller
 * opens the path as before.
 */
#ifndef COREPACK_CORE_INPUT_H
#define COREPACK_CORE_INPUT_H

#include <signal.h>
#include <stdint.h>

#include "corepack/error.h"

/* A core decompressed or copied from a pipe may be this big at most
 * (logical size, holes included): what coreunpack accepts of a whole
 * bundle (CP_BUNDLE_MAX_TOTAL).  A decompression bomb stops here. */
#define CP_CORE_INPUT_MAX_SIZE (1ULL << 40)

enum cp_core_compression {
	CP_CORE_PLAIN,
	CP_CORE_ZSTD,
	CP_CORE_LZ4,
	CP_CORE_XZ,
	CP_CORE_GZIP,
};

/* "zstd", "lz4", "xz", "gzip"; NULL for CP_CORE_PLAIN. */
const char *cp_core_compression_name(enum cp_core_compression c);

/* Which compression the first LEN bytes of a file announce (LEN >= 6 to
 * tell all four apart); CP_CORE_PLAIN for anything else. */
enum cp_core_compression cp_core_compression_detect(const unsigned char *head, size_t len);

struct cp_core_input {
	/* For messages: the path as given, or "standard input" for "-". */
	char *name;
	enum cp_core_compression compression;
	/*
	 * When a temporary file is needed (compressed, or standard input
	 * that is not a plain regular file): 1, and the directory it goes
	 * in.  When 0, the caller reads the core from PATH as given (after
	 * cp_core_input_load(), FD is still -1), or for standard input
	 * from FD.
	 */
	int needs_copy;
	const char *tmpdir;
	/* Known up front, for the caller to warn before the work: the
	 * decompressed size when the data says so (a zstd frame header that
	 * records it), else 0; the space free in TMPDIR for an unprivileged
	 * user (statvfs), UINT64_MAX when unknown. */
	uint64_t expected_size;
	uint64_t free_bytes;
	/* After cp_core_input_load(): a regular, seekable descriptor of the
	 * plain core (owned; -1 when the caller opens PATH itself), its size
	 * and the bytes that are data, not holes (both 0 when not copied). */
	int fd;
	uint64_t size, data_bytes;

	/* private */
	int in_fd, in_owned;
	unsigned char head[32];
	size_t head_len;
	uint64_t in_size; /* compressed bytes, when a regular file */
};

struct cp_core_input_opts {
	const volatile sig_atomic_t *cancel; /* nonzero: stop with -EINTR; may be NULL */
	/* Called now and then with the input bytes read so far and the
	 * input's size (0 when unknown: a pipe); may be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	/* Caps below the built-in ones (a core_pattern handler's limits), 0
	 * for none: the logical size (-EFBIG), and the data bytes written to
	 * the temporary file (-ENOSPC, the space to keep free). */
	uint64_t max_size, max_data;
};

/*
 * Look at PATH ("-" for standard input) and say what it holds.  Reads at
 * most 32 bytes; nothing is written.  A path that cannot be opened or read
 * is not an error here (compression CP_CORE_PLAIN, needs_copy 0): opening
 * the core names the problem.  TMPDIR is where a temporary copy would go
 * (kept, not copied: it must outlive *OUT).  Errors: standard input that
 * is empty ("'standard input': empty") or unreadable, -ENOMEM.  *OUT is
 * the caller's (cp_core_input_free()).
 */
int cp_core_input_open(const char *path, const char *tmpdir, struct cp_core_input **out,
                       struct cp_error *err);

/*
 * Make the plain core readable: when needs_copy, decompress (or copy)
 * into the temporary file and set FD, SIZE and DATA_BYTES; for standard
 * input that is a plain regular file, set FD to a duplicate of it.
 * Errors (messages name the input and, for space, the directory):
 * -ENOSPC/-EDQUOT "no space left in 'DIR' for ...", -EFBIG for more
 * than CP_CORE_INPUT_MAX_SIZE or MAX_SIZE (known up front or met), -EINTR when
 * cancelled, -EINVAL for data the decompressor refuses or that ends early,
 * -errno from reading or creating the temporary file, -ENOMEM.  On error
 * nothing is left on disk.
 */
int cp_core_input_load(struct cp_core_input *in, const struct cp_core_input_opts *o,
                       struct cp_error *err);

/* An anonymous temporary file in DIR, open for reading and writing, mode
 * 0600 (O_TMPFILE, or a file unlinked as soon as it is made where the
 * filesystem has no O_TMPFILE).  Returns the descriptor or -errno, the
 * message naming DIR. */
int cp_core_input_temp(const char *dir, struct cp_error *err);

/* Close everything; the temporary file goes with its descriptor.  IN may
 * be NULL. */
void cp_core_input_free(struct cp_core_input *in);

#endif
