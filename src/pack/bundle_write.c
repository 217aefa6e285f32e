/*
 * Writing a bundle: one pax archive through libarchive, its entries and
 * their data, compressed as the output name says (zstd through
 * zstd_sink.c, xz and gzip through libarchive's filters) into the output
 * file of outfile.c, which only cp_bundle_writer_commit() moves into
 * place, so no failure, interruption or full disk ever leaves a partial
 * bundle under the output's name.
 *
 * Regular files, read and digested on the way, are bundle_file.c's;
 * this file owns the writer, the archive and the other entries.
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
#include "bundle_write_private.h"

#define OUTPUT_BLOCK_SIZE (128 * 1024)
#define PROGRESS_INTERVAL_NS (200 * 1000 * 1000ULL)

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

int cp_bw_check_cancel(struct cp_bundle_writer *w, struct cp_error *err)
{
	if (w->cancel && *w->cancel)
		return cp_error_set(err, EINTR, "interrupted");
	return 0;
}

void cp_bw_add_progress(struct cp_bundle_writer *w, uint64_t n)
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
	 * here, so the other compressions' output goes in 128 KiB blocks.
	 * The zstd sink takes the tar stream unblocked: libzstd buffers its
	 * input itself, and libarchive's block buffer would copy up to two
	 * blocks of every data write once more (0.1-0.2 CPU-seconds on the
	 * benchmark's core, bench/run.sh).  No padding after the compressed
	 * stream: `zstd -d` rejects zeros after the last frame
	 * ("unsupported format"). */
	if (archive_write_set_bytes_per_block(
	        w->a, comp == CP_COMPRESS_ZSTD ? 0 : OUTPUT_BLOCK_SIZE) != ARCHIVE_OK)
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
	/* The sink's write-behind thread stops before the file closes. */
	cp_zstd_sink_done(&w->zstd);
	cp_outfile_done(&w->out);
	free(w->top);
	cp_read_pipe_free(w->pipe);
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
	w->out.sync = opts->sync;

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
	return cp_bw_check_cancel(w, err);
}

/* libarchive's error for entry NAME, taken at the failure site. */
static int entry_failed(struct cp_bundle_writer *w, const char *name, struct cp_error *err)
{
	int code = archive_errno(w->a);
	const char *msg = archive_error_string(w->a);
	return cp_error_set(err, code > 0 ? code : EIO, "cannot write '%s': entry '%s': %s",
	                    w->out.output, name, msg ? msg : "unknown libarchive error");
}

int cp_bw_write_header(struct cp_bundle_writer *w, struct archive_entry *e, const char *name,
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
int cp_bw_write_data(struct cp_bundle_writer *w, const void *p, size_t n, const char *name,
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

int cp_bw_finish_entry(struct cp_bundle_writer *w, const char *name, struct cp_error *err)
{
	if (archive_write_finish_entry(w->a) == ARCHIVE_OK)
		return 0;
	w->broken = 1;
	return entry_failed(w, name, err);
}

/* The checks every add does, then a new entry for NAME in *OUT.  "." (the
 * top directory itself) is a name only for directories. */
int cp_bw_start_entry(struct cp_bundle_writer *w, const char *name, unsigned type, unsigned perm,
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
	int r = cp_bw_write_header(w, e, name, err);
	archive_entry_free(e);
	if (r == 0)
		r = cp_bw_finish_entry(w, name, err);
	return r;
}

int cp_bundle_add_dir(struct cp_bundle_writer *w, const char *name, struct cp_error *err)
{
	struct archive_entry *e;
	int r = cp_bw_start_entry(w, name, AE_IFDIR, 0755, &e, err);
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
	int r = cp_bw_start_entry(w, name, AE_IFLNK, 0777, &e, err);
	if (r < 0)
		return r;
	archive_entry_copy_symlink(e, target);
	return add_simple(w, e, name, err);
}

int cp_bundle_add_buffer(struct cp_bundle_writer *w, const char *name, const void *buf, size_t len,
                         unsigned perm, struct cp_error *err)
{
	struct archive_entry *e;
	int r = cp_bw_start_entry(w, name, AE_IFREG, perm, &e, err);
	if (r < 0)
		return r;
	archive_entry_set_size(e, (la_int64_t)len);
	r = cp_bw_write_header(w, e, name, err);
	archive_entry_free(e);
	if (r == 0 && len > 0)
		r = cp_bw_write_data(w, buf, len, name, err);
	if (r == 0)
		r = cp_bw_finish_entry(w, name, err);
	if (r == 0)
		cp_bw_add_progress(w, len);
	return r;
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
