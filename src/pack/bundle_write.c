/*
 * Writing a bundle: one pax archive through libarchive, its entries and
 * their data, compressed as the output name says (zstd through
 * zstd_sink.c, xz and gzip through libarchive's filters) into the output
 * file of outfile.c, which only cp_bundle_writer_commit() moves into
 * place, so no failure, interruption or full disk ever leaves a partial
 * bundle under the output's name.
 *
 * Files are read once, in 1 MiB blocks, by threads that keep reads in
 * flight ahead of the compressor and digest each block on the way
 * (read_pipe.h); large files bypass the page cache where it holds none of
 * them (file_reader.h), and the bundle is written back as it grows
 * (outfile.c), so packing a core neither fills the machine's page cache
 * nor leaves it hundreds of megabytes of dirty pages.  Holes found with
 * SEEK_DATA/SEEK_HOLE become a pax (GNU 1.0) sparse map; libarchive's pax
 * writer then wants the *logical* stream, holes included as zeros, and
 * drops the hole bytes itself.
 *
 * Choices worth knowing:
 *  - An output that exists and is a character device or a FIFO (with
 *    force) is written directly (outfile.c).  Device names carry no
 *    suffix, so an unknown one means zstd there.
 *  - Entry modes are the caller's (pack.c stores the core, manifest and
 *    report 0600).
 *  - Levels: zstd 1-19, xz 0-9, gzip 1-9, none for .tar; checked here and
 *    by the front end before any work (cp_compression_levels()).
 *  - Names keep their bytes.  libarchive converts them from the locale's
 *    charset to UTF-8 for pax headers and, where it cannot (non-ASCII in
 *    the C locale, invalid UTF-8), stores them raw with hdrcharset=BINARY;
 *    GNU tar extracts those right but warns that it ignores the keyword.
 *    Forcing hdrcharset=BINARY would make it warn for every entry.
 *  - A file that is all hole keeps its last byte as data: libarchive
 *    3.6.2's reader returns a sparse entry without data as empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "corepack/bundle_write.h"
#include "corepack/digest.h"
#include "corepack/io.h"
#include "file_reader.h"
#include "outfile.h"
#include "read_pipe.h"
#include "zstd_sink.h"

#define BLOCK_SIZE (1024 * 1024)
/* Blocks read ahead of the compressor: enough to cover a zstd job's
 * worth of input while the compressor waits for its workers. */
#define READ_SLOTS 8
#define OUTPUT_BLOCK_SIZE (128 * 1024)
#define PROGRESS_INTERVAL_NS (200 * 1000 * 1000ULL)
/* Files with this much data bypass the page cache where it holds none of
 * it (file_reader.h); smaller ones are read the ordinary way. */
#define DIRECT_MIN (64ULL << 20)

/* Holes are fed to libarchive from here, so nothing is allocated per
 * hole however large. */
static const uint8_t zero_block[64 * 1024];

struct cp_bundle_writer {
	struct archive *a;
	struct cp_outfile out;
	char *top;
	/* An entry failed after its header was written: the archive is no
	 * longer well-formed and nothing more may be added or committed. */
	int broken;
	int discard; /* drop all output: the writer is being given up */
	time_t now;  /* mtime of buffer entries */
	/* Reads and digests files on threads of its own; made when first
	 * needed. */
	struct cp_read_pipe *pipe;
	/* .tar.zst is compressed here, not by libarchive's filter, whose
	 * multi-threaded jobs cannot be sized: see zstd_sink.c. */
	struct cp_zstd_sink zstd;
	/* libarchive 3.6.2 ignores the close callback's result: ending the
	 * frame records its failure here for commit to see. */
	int close_errno;
	char close_msg[128];

	const volatile sig_atomic_t *cancel;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	uint64_t progress_total;
	uint64_t done;
	uint64_t last_progress_ns;
};

static const struct {
	const char *suffix;
	enum cp_compression c;
} suffixes[] = {
    {".tar.zst", CP_COMPRESS_ZSTD}, {".tar.xz", CP_COMPRESS_XZ}, {".tar.gz", CP_COMPRESS_GZIP},
    {".tgz", CP_COMPRESS_GZIP},     {".tar", CP_COMPRESS_NONE},
};

static size_t known_suffix_len(const char *name, enum cp_compression *c)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i].suffix);
		if (len >= n && strcmp(name + len - n, suffixes[i].suffix) == 0) {
			if (c)
				*c = suffixes[i].c;
			return n;
		}
	}
	return 0;
}

int cp_compression_from_name(const char *output, enum cp_compression *out)
{
	enum cp_compression c;
	if (known_suffix_len(output, &c) == 0)
		return -EINVAL;
	*out = c;
	return 0;
}

const char *cp_compression_name(enum cp_compression c)
{
	switch (c) {
	case CP_COMPRESS_ZSTD:
		return "zstd";
	case CP_COMPRESS_XZ:
		return "xz";
	case CP_COMPRESS_GZIP:
		return "gzip";
	case CP_COMPRESS_NONE:
		break;
	}
	return "none";
}

/* zstd stops at 19: 20-22 ("ultra") need a window, and so memory on both
 * sides, far beyond what a bundle is worth. */
int cp_compression_levels(enum cp_compression c, int *min, int *max)
{
	switch (c) {
	case CP_COMPRESS_ZSTD:
		*min = 1, *max = 19;
		return 0;
	case CP_COMPRESS_XZ:
		*min = 0, *max = 9;
		return 0;
	case CP_COMPRESS_GZIP:
		*min = 1, *max = 9;
		return 0;
	case CP_COMPRESS_NONE:
		break;
	}
	return -EINVAL;
}

static int check_level(const char *output, enum cp_compression c, const struct cp_bundle_opts *o,
                       struct cp_error *err)
{
	int min, max;
	if (!o->level_set)
		return 0;
	if (cp_compression_levels(c, &min, &max) < 0)
		return cp_error_set(err, EINVAL, "cannot write '%s': %s takes no compression level",
		                    output, cp_compression_name(c));
	if (o->level < min || o->level > max)
		return cp_error_set(err, EINVAL,
		                    "cannot write '%s': compression level %d is not in %s's range "
		                    "(%d-%d)",
		                    output, o->level, cp_compression_name(c), min, max);
	return 0;
}

char *cp_bundle_top_from_name(const char *output)
{
	const char *base = strrchr(output, '/');
	base = base ? base + 1 : output;
	size_t n = strlen(base) - known_suffix_len(base, NULL);
	return strndup(base, n);
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int archive_failed(struct cp_bundle_writer *w, struct cp_error *err, const char *what)
{
	int code = w->a ? archive_errno(w->a) : 0;
	const char *msg = w->a ? archive_error_string(w->a) : NULL;
	return cp_error_set(err, code > 0 ? code : EIO, "cannot write '%s': %s: %s", w->out.output,
	                    what, msg ? msg : "unknown libarchive error");
}

static int check_cancel(struct cp_bundle_writer *w, struct cp_error *err)
{
	if (w->cancel && *w->cancel)
		return cp_error_set(err, EINTR, "interrupted");
	return 0;
}

static void add_progress(struct cp_bundle_writer *w, uint64_t n)
{
	w->done += n;
	if (!w->progress)
		return;
	uint64_t now = monotonic_ns();
	if (w->last_progress_ns != 0 && now - w->last_progress_ns < PROGRESS_INTERVAL_NS)
		return;
	w->last_progress_ns = now;
	w->progress(w->progress_ctx, w->done, w->progress_total);
}

/* The top directory is one plain path component. */
static int valid_top(const char *top)
{
	return top && top[0] && !strchr(top, '/') && strcmp(top, ".") != 0 &&
	       strcmp(top, "..") != 0;
}

/* Entry names come from our own layout code, never straight from a core:
 * a name that could leave the top directory is a bug, caught here. */
static int valid_name(const char *name)
{
	if (!name || name[0] == '\0' || name[0] == '/')
		return 0;
	for (const char *p = name;;) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (*end == '\0')
			return 1;
		p = end + 1;
	}
}

/* A symlink target must be relative and resolve inside the bundle from
 * the link's directory, as the unpacker will check. */
static int valid_link_target(const char *name, const char *target)
{
	if (!target || target[0] == '\0' || target[0] == '/')
		return 0;
	long depth = 0;
	for (const char *p = name; (p = strchr(p, '/')); p++)
		depth++;
	for (const char *p = target;;) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return 0;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		if (*end == '\0')
			return 1;
		p = end + 1;
	}
}

/* Compress IN (the tar stream) into the output; END finishes the frame.
 * A failure is libarchive's error on A. */
static int zstd_feed(struct archive *a, struct cp_bundle_writer *w, const void *in, size_t len,
                     int end)
{
	const char *zerr;
	int r = cp_zstd_sink_feed(&w->zstd, &w->out, in, len, end, &zerr);
	if (r == 0)
		return 0;
	if (zerr)
		archive_set_error(a, EIO, "zstd: %s", zerr);
	else
		archive_set_error(a, -r, "%s", strerror(-r));
	return -1;
}

/* libarchive's output callback; also the place to drop the output of a
 * writer being given up (see writer_free()). */
static la_ssize_t output_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct cp_bundle_writer *w = ctx;

	if (w->discard)
		return (la_ssize_t)len;
	if (w->zstd.zc)
		return zstd_feed(a, w, buf, len, 0) < 0 ? -1 : (la_ssize_t)len;
	int r = cp_outfile_write(&w->out, buf, len);
	if (r < 0) {
		archive_set_error(a, -r, "%s", strerror(-r));
		return -1;
	}
	return (la_ssize_t)len;
}

/* libarchive's close callback: after the tar trailer, end the zstd frame. */
static int output_close(struct archive *a, void *ctx)
{
	struct cp_bundle_writer *w = ctx;
	if (w->discard || !w->zstd.zc)
		return ARCHIVE_OK;
	if (zstd_feed(a, w, NULL, 0, 1) == 0)
		return ARCHIVE_OK;
	w->close_errno = archive_errno(a) > 0 ? archive_errno(a) : EIO;
	snprintf(w->close_msg, sizeof(w->close_msg), "%s",
	         archive_error_string(a) ? archive_error_string(a) : strerror(w->close_errno));
	return ARCHIVE_FATAL;
}

static int set_filter_option(struct cp_bundle_writer *w, const char *module, const char *key,
                             int value, struct cp_error *err)
{
	char v[32];
	snprintf(v, sizeof(v), "%d", value);
	if (archive_write_set_filter_option(w->a, module, key, v) == ARCHIVE_OK)
		return 0;
	const char *msg = archive_error_string(w->a);
	return cp_error_set(err, EINVAL, "cannot write '%s': invalid %s %s %s: %s", w->out.output,
	                    module, key, v, msg ? msg : "rejected by libarchive");
}

static int setup_archive(struct cp_bundle_writer *w, enum cp_compression comp,
                         const struct cp_bundle_opts *opts, struct cp_error *err)
{
	w->a = archive_write_new();
	if (!w->a)
		return cp_error_set(err, ENOMEM, "cannot write '%s': %s", w->out.output,
		                    strerror(ENOMEM));
	/* Full pax, not pax_restricted: sparse maps and sizes over 8 GiB
	 * need the extended headers. */
	if (archive_write_set_format_pax(w->a) != ARCHIVE_OK)
		return archive_failed(w, err, "pax format");

	int r = ARCHIVE_OK;
	const char *module = NULL;
	switch (comp) {
	case CP_COMPRESS_ZSTD:
		if ((r = cp_zstd_sink_init(&w->zstd, opts, w->out.output, err)) < 0)
			return r;
		r = archive_write_add_filter_none(w->a);
		break;
	case CP_COMPRESS_XZ:
		r = archive_write_add_filter_xz(w->a);
		module = "xz";
		break;
	case CP_COMPRESS_GZIP:
		r = archive_write_add_filter_gzip(w->a);
		module = "gzip";
		break;
	case CP_COMPRESS_NONE:
		r = archive_write_add_filter_none(w->a);
		break;
	}
	if (r != ARCHIVE_OK)
		return archive_failed(w, err, "compression filter");

	if (module && opts->level_set &&
	    (r = set_filter_option(w, module, "compression-level", opts->level, err)) < 0)
		return r;

	/* Writes of tar's 10 KiB records halved the throughput to tmpfs
	 * here.  No padding after the compressed stream: `zstd -d` rejects
	 * zeros after the last frame ("unsupported format"). */
	if (archive_write_set_bytes_per_block(w->a, OUTPUT_BLOCK_SIZE) != ARCHIVE_OK)
		return archive_failed(w, err, "block size");
	if (archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK)
		return archive_failed(w, err, "block size");
	if (archive_write_open2(w->a, w, NULL, output_write, output_close, NULL) != ARCHIVE_OK)
		return archive_failed(w, err, "open");
	return 0;
}

static void writer_free(struct cp_bundle_writer *w)
{
	if (w->a) {
		/*
		 * Giving up on an open archive: archive_write_fail() alone
		 * keeps free() from closing, but then libarchive 3.6.2 leaks
		 * its output buffer.  Closing a failed archive skips the
		 * unfinished entry (which could mean gigabytes of zeros) and
		 * frees everything; the trailer it writes must go nowhere, or
		 * a pipe would receive a partial archive that looks whole.
		 */
		w->discard = 1;
		archive_write_fail(w->a);
		archive_write_close(w->a);
		archive_write_free(w->a);
	}
	cp_outfile_done(&w->out);
	free(w->top);
	cp_read_pipe_free(w->pipe);
	cp_zstd_sink_done(&w->zstd);
	free(w);
}

int cp_bundle_writer_open(const char *output, const char *top, const struct cp_bundle_opts *opts,
                          struct cp_bundle_writer **out, struct cp_error *err)
{
	static const struct cp_bundle_opts defaults = {0};
	if (!opts)
		opts = &defaults;
	if (!valid_top(top))
		return cp_error_set(err, EINVAL, "cannot write '%s': invalid top directory '%s'",
		                    output, top ? top : "");

	int direct = 0;
	int r = cp_outfile_check(output, opts->force, &direct, err);
	if (r < 0)
		return r;

	enum cp_compression comp;
	if (cp_compression_from_name(output, &comp) < 0) {
		if (!direct)
			return cp_error_set(err, EINVAL,
			                    "cannot write '%s': unknown format (the name must "
			                    "end in .tar.zst, .tar.xz, .tar.gz, .tgz or .tar)",
			                    output);
		comp = CP_COMPRESS_ZSTD;
	}
	if ((r = check_level(output, comp, opts, err)) < 0)
		return r;

	struct cp_bundle_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return cp_error_set(err, ENOMEM, "cannot write '%s': %s", output, strerror(ENOMEM));
	w->out.fd = -1;
	w->cancel = opts->cancel;
	w->progress = opts->progress;
	w->progress_ctx = opts->progress_ctx;
	w->progress_total = opts->progress_total;
	w->now = time(NULL);
	if (!(w->top = strdup(top))) {
		r = cp_error_set(err, ENOMEM, "cannot write '%s': %s", output, strerror(ENOMEM));
		goto fail;
	}
	if ((r = cp_outfile_open(&w->out, output, opts->force, direct, err)) < 0)
		goto fail;

	if ((r = setup_archive(w, comp, opts, err)) < 0)
		goto fail;
	*out = w;
	return 0;

fail:
	writer_free(w);
	return r;
}

int cp_bundle_output_check(const char *output, int force, int *direct, struct cp_error *err)
{
	return cp_outfile_check(output, force, direct, err);
}

/* A new entry TOP/NAME owned by root, dated now; NULL on ENOMEM. */
static struct archive_entry *new_entry(struct cp_bundle_writer *w, const char *name, unsigned type,
                                       unsigned perm)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return NULL;
	char *path;
	if (strcmp(name, ".") == 0)
		path = strdup(w->top);
	else if (asprintf(&path, "%s/%s", w->top, name) < 0)
		path = NULL;
	if (!path) {
		archive_entry_free(e);
		return NULL;
	}
	archive_entry_copy_pathname(e, path);
	free(path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_copy_uname(e, "root");
	archive_entry_copy_gname(e, "root");
	archive_entry_set_mtime(e, w->now, 0);
	return e;
}

static int check_writable(struct cp_bundle_writer *w, struct cp_error *err)
{
	if (w->broken)
		return cp_error_set(err, EIO, "cannot write '%s': an earlier entry failed",
		                    w->out.output);
	return check_cancel(w, err);
}

/* libarchive's error for entry NAME, taken at the failure site. */
static int entry_failed(struct cp_bundle_writer *w, const char *name, struct cp_error *err)
{
	int code = archive_errno(w->a);
	const char *msg = archive_error_string(w->a);
	return cp_error_set(err, code > 0 ? code : EIO, "cannot write '%s': entry '%s': %s",
	                    w->out.output, name, msg ? msg : "unknown libarchive error");
}

static int write_header(struct cp_bundle_writer *w, struct archive_entry *e, const char *name,
                        struct cp_error *err)
{
	int r = archive_write_header(w->a, e);
	/* ARCHIVE_WARN still writes the entry whole (e.g. a name that needed
	 * a pax extension); ARCHIVE_FAILED skips only this entry. */
	if (r >= ARCHIVE_WARN)
		return 0;
	if (r == ARCHIVE_FATAL)
		w->broken = 1;
	return entry_failed(w, name, err);
}

/* Data calls come after a header: any failure leaves a partial entry. */
static int write_data(struct cp_bundle_writer *w, const void *p, size_t n, const char *name,
                      struct cp_error *err)
{
	la_ssize_t r = archive_write_data(w->a, p, n);
	if (r == (la_ssize_t)n)
		return 0;
	w->broken = 1;
	if (r >= 0)
		return cp_error_set(
		    err, EIO, "cannot write '%s': entry '%s': libarchive took %zd of %zu bytes",
		    w->out.output, name, (ssize_t)r, n);
	return entry_failed(w, name, err);
}

static int finish_entry(struct cp_bundle_writer *w, const char *name, struct cp_error *err)
{
	if (archive_write_finish_entry(w->a) == ARCHIVE_OK)
		return 0;
	w->broken = 1;
	return entry_failed(w, name, err);
}

/* The checks every add does, then a new entry for NAME in *OUT.  "." (the
 * top directory itself) is a name only for directories. */
static int start_entry(struct cp_bundle_writer *w, const char *name, unsigned type, unsigned perm,
                       struct archive_entry **out, struct cp_error *err)
{
	int is_top = type == AE_IFDIR && name && strcmp(name, ".") == 0;
	if (!is_top && !valid_name(name))
		return cp_error_set(err, EINVAL, "invalid bundle entry name '%s'",
		                    name ? name : "");
	if ((perm & ~0777u) || !(perm & 0400))
		return cp_error_set(err, EINVAL, "invalid mode %04o for bundle entry '%s'", perm,
		                    name);
	int r = check_writable(w, err);
	if (r < 0)
		return r;
	if (!(*out = new_entry(w, name, type, perm)))
		return cp_error_set(err, ENOMEM, "cannot write '%s': %s", w->out.output,
		                    strerror(ENOMEM));
	return 0;
}

/* Writes a header-only entry (directory, symlink) and frees E. */
static int add_simple(struct cp_bundle_writer *w, struct archive_entry *e, const char *name,
                      struct cp_error *err)
{
	int r = write_header(w, e, name, err);
	archive_entry_free(e);
	if (r == 0)
		r = finish_entry(w, name, err);
	return r;
}

int cp_bundle_add_dir(struct cp_bundle_writer *w, const char *name, struct cp_error *err)
{
	struct archive_entry *e;
	int r = start_entry(w, name, AE_IFDIR, 0755, &e, err);
	return r < 0 ? r : add_simple(w, e, name, err);
}

int cp_bundle_add_symlink(struct cp_bundle_writer *w, const char *name, const char *target,
                          struct cp_error *err)
{
	if (valid_name(name) && !valid_link_target(name, target))
		return cp_error_set(err, EINVAL,
		                    "invalid target '%s' for symlink '%s': not relative inside "
		                    "the bundle",
		                    target ? target : "", name);
	struct archive_entry *e;
	int r = start_entry(w, name, AE_IFLNK, 0777, &e, err);
	if (r < 0)
		return r;
	archive_entry_copy_symlink(e, target);
	return add_simple(w, e, name, err);
}

int cp_bundle_add_buffer(struct cp_bundle_writer *w, const char *name, const void *buf, size_t len,
                         unsigned perm, struct cp_error *err)
{
	struct archive_entry *e;
	int r = start_entry(w, name, AE_IFREG, perm, &e, err);
	if (r < 0)
		return r;
	archive_entry_set_size(e, (la_int64_t)len);
	r = write_header(w, e, name, err);
	archive_entry_free(e);
	if (r == 0 && len > 0)
		r = write_data(w, buf, len, name, err);
	if (r == 0)
		r = finish_entry(w, name, err);
	if (r == 0)
		add_progress(w, len);
	return r;
}

/* A hole: zeros into libarchive, which stores none of them but must see
 * them to keep its place in the sparse map. */
static int feed_hole(struct cp_bundle_writer *w, uint64_t len, const char *name,
                     struct cp_error *err)
{
	while (len > 0) {
		int r = check_cancel(w, err);
		if (r < 0) {
			w->broken = 1;
			return r;
		}
		uint64_t step = len < BLOCK_SIZE ? len : BLOCK_SIZE;
		for (uint64_t left = step; left > 0;) {
			size_t n = left < sizeof(zero_block) ? (size_t)left : sizeof(zero_block);
			if ((r = write_data(w, zero_block, n, name, err)) < 0)
				return r;
			left -= n;
		}
		len -= step;
		add_progress(w, step);
	}
	return 0;
}

/* The file's data and holes, in order, from the read pipe into libarchive. */
static int feed_file(struct cp_bundle_writer *w, const char *host_path, const char *name,
                     struct cp_error *err)
{
	for (;;) {
		int r = check_cancel(w, err);
		if (r < 0) {
			w->broken = 1;
			return r;
		}
		struct cp_piece pc;
		cp_read_pipe_next(w->pipe, &pc);
		switch (pc.kind) {
		case CP_PIECE_END:
			return 0;
		case CP_PIECE_ERROR:
			w->broken = 1;
			if (pc.err == 0)
				return cp_error_set(err, EIO,
				                    "cannot read '%s': file shrank while being "
				                    "packed (%llu bytes read of %llu)",
				                    host_path, (unsigned long long)pc.off,
				                    (unsigned long long)(pc.off + pc.len));
			return cp_error_set(err, pc.err, "cannot read '%s': %s", host_path,
			                    strerror(pc.err));
		case CP_PIECE_HOLE:
			if ((r = feed_hole(w, pc.len, name, err)) < 0)
				return r;
			break;
		case CP_PIECE_DATA:
			if ((r = write_data(w, pc.data, (size_t)pc.len, name, err)) < 0)
				return r;
			add_progress(w, pc.len);
			break;
		}
	}
}

/* The data regions of FD (SIZE bytes) as the entry will store them, and
 * whether that is with holes. */
static int file_regions(int fd, uint64_t size, struct cp_region **regions, size_t *n_regions,
                        uint64_t *data_size, int *sparse)
{
	int r = cp_data_regions(fd, size, regions, n_regions);
	if (r < 0)
		return r;
	/* archive_read_data() of libarchive 3.6.2 returns nothing for a
	 * sparse entry without data (GNU tar's own such entries too). */
	if (*n_regions == 0 && size > 0) {
		free(*regions);
		if (!(*regions = malloc(sizeof(**regions))))
			return -ENOMEM;
		(*regions)[0] = (struct cp_region){size - 1, 1};
		*n_regions = 1;
	}
	*data_size = 0;
	for (size_t i = 0; i < *n_regions; i++)
		*data_size += (*regions)[i].len;
	*sparse = *data_size < size;
	return 0;
}

/* HOST_PATH opened as a regular file, or the error for it. */
static int open_source(const char *host_path, struct stat *st, struct cp_error *err)
{
	/* A FIFO put where a file was must be refused, not hang in open(). */
	int fd = cp_open_regular(host_path, 0, st);
	if (fd == -EINVAL)
		return cp_error_set(err, EINVAL, "cannot pack '%s': not a regular file", host_path);
	if (fd < 0)
		return cp_error_set(err, -fd, "cannot open '%s': %s", host_path, strerror(-fd));
	return fd;
}

/* FD's fstat(), which must be a regular file, or the error for it. */
static int stat_source(int fd, const char *label, struct stat *st, struct cp_error *err)
{
	if (fstat(fd, st) < 0)
		return cp_error_set(err, errno, "cannot read '%s': %s", label, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return cp_error_set(err, EINVAL, "cannot pack '%s': not a regular file", label);
	return 0;
}

int cp_bundle_probe_fd(int fd, const char *label, struct cp_file_digest *out, struct cp_error *err)
{
	struct stat st;
	struct cp_region *regions = NULL;
	size_t n_regions = 0;
	int r = stat_source(fd, label, &st, err);
	if (r < 0)
		return r;
	struct cp_file_digest d = {.size = (uint64_t)st.st_size};
	r = file_regions(fd, d.size, &regions, &n_regions, &d.data_size, &d.sparse);
	free(regions);
	if (r < 0)
		return cp_error_set(err, -r, "cannot read '%s': %s", label, strerror(-r));
	*out = d;
	return 0;
}

int cp_bundle_probe_file(const char *host_path, struct cp_file_digest *out, struct cp_error *err)
{
	struct stat st;
	int fd = open_source(host_path, &st, err);
	if (fd < 0)
		return fd;
	int r = cp_bundle_probe_fd(fd, host_path, out, err);
	close(fd);
	return r;
}

/* Add the regular file open as FD (not closed here), HOST_PATH naming it
 * in messages; with PROBED, it must still be what was probed. */
static int add_fd(struct cp_bundle_writer *w, const char *name, int fd, const char *host_path,
                  unsigned perm, const struct cp_file_digest *probed, struct cp_file_digest *digest,
                  struct cp_error *err)
{
	struct stat st;
	int r = stat_source(fd, host_path, &st, err);
	if (r < 0)
		return r;
	struct archive_entry *e;
	if ((r = start_entry(w, name, AE_IFREG, perm, &e, err)) < 0)
		return r;

	struct cp_region *regions = NULL;
	size_t n_regions = 0;
	struct cp_file_reader rd = {.fd = -1, .dfd = -1};
	int reading = 0; /* the read pipe has the file */
	uint64_t size = (uint64_t)st.st_size, data_size;
	int sparse;
	/* Read once, front to back: ask for read-ahead. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((r = file_regions(fd, size, &regions, &n_regions, &data_size, &sparse)) < 0) {
		r = cp_error_set(err, -r, "cannot read '%s': %s", host_path, strerror(-r));
		goto out;
	}
	/* The manifest, written first, already says what this entry is. */
	if (probed && (probed->size != size || probed->sparse != sparse)) {
		r = cp_error_set(err, ESTALE,
		                 "cannot pack '%s': it changed while being packed (%llu bytes%s, "
		                 "was %llu%s)",
		                 host_path, (unsigned long long)size, sparse ? " with holes" : "",
		                 (unsigned long long)probed->size,
		                 probed->sparse ? " with holes" : "");
		goto out;
	}

	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
	if (sparse) {
		/* The size must be set first: libarchive drops regions that
		 * end beyond it. */
		for (size_t i = 0; i < n_regions; i++)
			archive_entry_sparse_add_entry(e, (la_int64_t)regions[i].off,
			                               (la_int64_t)regions[i].len);
		/* As GNU tar does, a trailing hole is closed by an empty
		 * region at the end of the file. */
		if (regions[n_regions - 1].off + regions[n_regions - 1].len < size)
			archive_entry_sparse_add_entry(e, (la_int64_t)size, 0);
	}

	if ((r = write_header(w, e, name, err)) < 0)
		goto out;
	cp_file_reader_init(&rd, fd, size, data_size >= DIRECT_MIN);

	if (!w->pipe && (r = cp_read_pipe_new(READ_SLOTS, BLOCK_SIZE, &w->pipe)) < 0) {
		r = cp_error_set(err, -r, "cannot read '%s': %s", host_path, strerror(-r));
		goto out;
	}
	/* Without DIGEST nothing is hashed. */
	enum cp_read_hash hash = CP_READ_HASH_NONE;
	if (digest)
		hash = sparse ? CP_READ_HASH_SPARSE : CP_READ_HASH_PLAIN;
	cp_read_pipe_begin(w->pipe, &rd, regions, n_regions, size, hash);
	reading = 1;
	if ((r = feed_file(w, host_path, name, err)) < 0)
		goto out;
	reading = 0;
	uint8_t sha[32];
	cp_read_pipe_end(w->pipe, sha);

	/* A file cut short inside a hole went unnoticed by the reads. */
	struct stat st2;
	if (fstat(fd, &st2) == 0 && (uint64_t)st2.st_size < size) {
		w->broken = 1;
		r = cp_error_set(err, EIO, "cannot read '%s': file shrank while being packed",
		                 host_path);
		goto out;
	}
	if ((r = finish_entry(w, name, err)) < 0)
		goto out;

	if (digest) {
		digest->size = size;
		digest->data_size = data_size;
		digest->sparse = sparse;
		memcpy(digest->sha256, sha, sizeof(sha));
	}

out:
	/* The pipe's thread lets go of the reader before it is undone. */
	if (reading)
		cp_read_pipe_end(w->pipe, NULL);
	cp_file_reader_done(&rd);
	archive_entry_free(e);
	free(regions);
	return r;
}

int cp_bundle_add_file(struct cp_bundle_writer *w, const char *name, const char *host_path,
                       unsigned perm, struct cp_file_digest *digest, struct cp_error *err)
{
	return cp_bundle_add_file_probed(w, name, host_path, perm, NULL, digest, err);
}

int cp_bundle_add_file_probed(struct cp_bundle_writer *w, const char *name, const char *host_path,
                              unsigned perm, const struct cp_file_digest *probed,
                              struct cp_file_digest *digest, struct cp_error *err)
{
	struct stat st;
	int fd = open_source(host_path, &st, err);
	if (fd < 0)
		return fd;
	int r = add_fd(w, name, fd, host_path, perm, probed, digest, err);
	close(fd);
	return r;
}

int cp_bundle_add_fd(struct cp_bundle_writer *w, const char *name, int fd, const char *label,
                     unsigned perm, struct cp_file_digest *digest, struct cp_error *err)
{
	return add_fd(w, name, fd, label, perm, NULL, digest, err);
}

int cp_bundle_add_fd_probed(struct cp_bundle_writer *w, const char *name, int fd, const char *label,
                            unsigned perm, const struct cp_file_digest *probed,
                            struct cp_file_digest *digest, struct cp_error *err)
{
	return add_fd(w, name, fd, label, perm, probed, digest, err);
}

int cp_bundle_writer_commit(struct cp_bundle_writer *w, struct cp_error *err)
{
	int r = check_writable(w, err);

	if (r == 0) {
		if (archive_write_close(w->a) != ARCHIVE_OK) {
			r = archive_failed(w, err, "close");
		} else if (w->close_errno) {
			r = cp_error_set(err, w->close_errno, "cannot write '%s': %s",
			                 w->out.output, w->close_msg);
		} else {
			/* Closed already, so this only frees; it cannot fail. */
			archive_write_free(w->a);
			w->a = NULL;
		}
	}
	if (r == 0)
		r = cp_outfile_commit(&w->out, err);
	writer_free(w);
	return r;
}

void cp_bundle_writer_abort(struct cp_bundle_writer *w)
{
	if (w)
		writer_free(w);
}
