/*
 * Taking the core in (core_input.h): a path or standard input, plain or
 * compressed, made into a plain core in a regular file that can be read
 * at any offset.  libarchive decompresses (archive_read_support_format_raw
 * with exactly the filter the magic names, as FIELD-NOTES.md records for
 * systemd-coredump's cores); what it yields is dense, so the copy is
 * written page by page with all-zero pages skipped (pwrite past them
 * leaves holes, ftruncate() sets the size).  The temporary file has no
 * name from the start (O_TMPFILE) or from right after its creation
 * (mkostemp + unlink, where the filesystem has no O_TMPFILE): closing it,
 * or the process dying by any signal, frees its blocks.
 */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zstd.h>

#include "corepack/core_input.h"
#include "corepack/io.h"

/* Reads from the input and the copy's write buffer. */
#define CHUNK (1u << 20)
/* The unit of hole detection: an all-zero block this big is not written. */
#define HOLE_UNIT 4096u

const char *cp_core_compression_name(enum cp_core_compression c)
{
	switch (c) {
	case CP_CORE_ZSTD:
		return "zstd";
	case CP_CORE_LZ4:
		return "lz4";
	case CP_CORE_XZ:
		return "xz";
	case CP_CORE_GZIP:
		return "gzip";
	case CP_CORE_PLAIN:
	default:
		return NULL;
	}
}

enum cp_core_compression cp_core_compression_detect(const unsigned char *h, size_t len)
{
	static const unsigned char zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
	static const unsigned char lz4[] = {0x04, 0x22, 0x4d, 0x18};
	static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
	static const unsigned char gzip[] = {0x1f, 0x8b};
	if (len >= sizeof(zstd) && memcmp(h, zstd, sizeof(zstd)) == 0)
		return CP_CORE_ZSTD;
	/* A zstd skippable frame (0x184D2A5?) may come first. */
	if (len >= 4 && (h[0] & 0xf0) == 0x50 && h[1] == 0x2a && h[2] == 0x4d && h[3] == 0x18)
		return CP_CORE_ZSTD;
	if (len >= sizeof(lz4) && memcmp(h, lz4, sizeof(lz4)) == 0)
		return CP_CORE_LZ4;
	if (len >= sizeof(xz) && memcmp(h, xz, sizeof(xz)) == 0)
		return CP_CORE_XZ;
	if (len >= sizeof(gzip) && memcmp(h, gzip, sizeof(gzip)) == 0)
		return CP_CORE_GZIP;
	return CP_CORE_PLAIN;
}

/* read() until LEN bytes or the end; returns the count or -errno. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int cp_core_input_open(const char *path, const char *tmpdir, struct cp_core_input **out,
                       struct cp_error *err)
{
	struct cp_core_input *in = calloc(1, sizeof(*in));
	if (!in)
		return cp_error_set(err, ENOMEM, "out of memory");
	in->fd = in->in_fd = -1;
	in->tmpdir = tmpdir;
	in->free_bytes = UINT64_MAX;
	int is_stdin = strcmp(path, "-") == 0;
	if (!(in->name = strdup(is_stdin ? "standard input" : path))) {
		free(in);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	struct stat st;
	int r = 0;
	if (is_stdin) {
		in->in_fd = 0;
		if (fstat(0, &st) < 0) {
			r = cp_error_set(err, errno, "cannot read standard input: %s",
			                 strerror(errno));
			goto fail;
		}
	} else {
		/* Whatever is wrong with the path, opening the core says it. */
		int fd = cp_open_regular(path, 0, &st);
		if (fd < 0) {
			*out = in;
			return 0;
		}
		in->in_fd = fd;
		in->in_owned = 1;
	}
	int regular = S_ISREG(st.st_mode);
	off_t at = regular ? lseek(in->in_fd, 0, SEEK_CUR) : -1;
	if (regular && at >= 0 && st.st_size > at)
		in->in_size = (uint64_t)(st.st_size - at);
	ssize_t n = read_some(in->in_fd, in->head, sizeof(in->head));
	if (n < 0 && is_stdin) {
		r = cp_error_set(err, (int)-n, "cannot read standard input: %s", strerror((int)-n));
		goto fail;
	}
	in->head_len = n > 0 ? (size_t)n : 0;
	if (n == 0 && is_stdin) {
		r = cp_error_set(err, EINVAL, "'%s': empty", in->name);
		goto fail;
	}
	in->compression = cp_core_compression_detect(in->head, in->head_len);
	if (in->compression == CP_CORE_PLAIN && !is_stdin) {
		/* A plain file (or one that cannot be read: opening the core
		 * says why) is opened by its path, as ever. */
		close(in->in_fd);
		in->in_fd = -1;
		in->in_owned = 0;
		*out = in;
		return 0;
	}
	/* Standard input that is a plain regular file from its start is read
	 * where it is. */
	in->needs_copy = !(in->compression == CP_CORE_PLAIN && regular && at == 0);
	if (!in->needs_copy) {
		*out = in;
		return 0;
	}
	if (in->compression == CP_CORE_ZSTD) {
		unsigned long long size = ZSTD_getFrameContentSize(in->head, in->head_len);
		if (size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR)
			in->expected_size = size;
	}
	struct statvfs vfs;
	if (tmpdir && statvfs(tmpdir, &vfs) == 0 && vfs.f_frsize > 0 &&
	    vfs.f_bavail <= UINT64_MAX / vfs.f_frsize)
		in->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	*out = in;
	return 0;
fail:
	cp_core_input_free(in);
	return r;
}

/* The copy: bytes come in order; every HOLE_UNIT block of zeros is skipped
 * (a hole), the rest written with pwrite().  BUF holds the bytes from
 * logical offset BASE (a multiple of HOLE_UNIT) on. */
struct sparse_out {
	int fd;
	const char *dir, *name;
	unsigned char *buf;
	size_t len;
	uint64_t base, data;
	uint64_t max;      /* logical size at most */
	uint64_t max_data; /* data bytes at most; 0: no cap but the disk's */
};

static int all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int write_failed(const struct sparse_out *o, int e, struct cp_error *err)
{
	if (e == ENOSPC || e == EDQUOT || e == EFBIG)
		return cp_error_set(err, e,
		                    "no space left in '%s' for the core from '%s' (%llu bytes of "
		                    "data written): %s",
		                    o->dir, o->name, (unsigned long long)o->data, strerror(e));
	return cp_error_set(err, e, "cannot write the core from '%s' into '%s': %s", o->name,
	                    o->dir, strerror(e));
}

static int sparse_flush(struct sparse_out *o, struct cp_error *err)
{
	size_t run = 0, run_len = 0;
	/* One step past the last block (N == 0) writes the last run. */
	for (size_t off = 0;; off += HOLE_UNIT) {
		size_t n = off < o->len ? o->len - off : 0;
		if (n > HOLE_UNIT)
			n = HOLE_UNIT;
		if (n > 0 && !all_zero(o->buf + off, n)) {
			if (run_len == 0)
				run = off;
			run_len += n;
			continue;
		}
		if (o->max_data && run_len > o->max_data - o->data)
			return cp_error_set(
			    err, ENOSPC,
			    "no space left in '%s' for the core from '%s' (%llu bytes "
			    "of data written): the space to keep free is reached",
			    o->dir, o->name, (unsigned long long)o->data);
		for (size_t done = 0; done < run_len;) {
			ssize_t w = pwrite(o->fd, o->buf + run + done, run_len - done,
			                   (off_t)(o->base + run + done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return write_failed(o, w < 0 ? errno : ENOSPC, err);
			done += (size_t)w;
			o->data += (uint64_t)w;
		}
		run_len = 0;
		if (n == 0)
			break;
	}
	o->base += o->len;
	o->len = 0;
	return 0;
}

static int too_big(const char *name, uint64_t max, struct cp_error *err)
{
	if (max % (1ULL << 30) == 0)
		return cp_error_set(err, EFBIG,
		                    "'%s': the core is more than %llu GiB decompressed (the limit)",
		                    name, (unsigned long long)(max >> 30));
	return cp_error_set(err, EFBIG,
	                    "'%s': the core is more than %llu bytes decompressed (the limit)", name,
	                    (unsigned long long)max);
}

static int sparse_add(struct sparse_out *o, const void *data, size_t n, struct cp_error *err)
{
	const unsigned char *p = data;
	if (n > o->max - o->base - o->len)
		return too_big(o->name, o->max, err);
	while (n > 0) {
		size_t room = CHUNK - o->len, k = n < room ? n : room;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
		int r;
		if (o->len == CHUNK && (r = sparse_flush(o, err)) < 0)
			return r;
	}
	return 0;
}

/* Flush the rest and give the file its size (a trailing hole). */
static int sparse_finish(struct sparse_out *o, struct cp_error *err)
{
	int r = sparse_flush(o, err);
	if (r == 0 && ftruncate(o->fd, (off_t)o->base) < 0)
		r = write_failed(o, errno, err);
	return r;
}

/* An anonymous file in DIR. */
int cp_core_input_temp(const char *dir, struct cp_error *err)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		/* No O_TMPFILE here: a name for as long as it takes to unlink it. */
		char *p = NULL;
		if (asprintf(&p, "%s/.corepack-core.XXXXXX", dir) < 0)
			return cp_error_set(err, ENOMEM, "out of memory");
		fd = mkostemp(p, O_CLOEXEC);
		if (fd >= 0)
			unlink(p);
		free(p);
	}
	if (fd < 0)
		return cp_error_set(err, errno, "cannot create a temporary file in '%s': %s", dir,
		                    strerror(errno));
	return fd;
}

/* What libarchive reads: the bytes already looked at, then the rest. */
struct source {
	struct cp_core_input *in;
	const struct cp_core_input_opts *o;
	size_t head_pos;
	unsigned char *buf;
	uint64_t done;
	int err; /* errno of a failed read, or EINTR when cancelled */
};

static int cancelled(const struct cp_core_input_opts *o)
{
	return o && o->cancel && *o->cancel;
}

/* Up to CHUNK bytes of the input into S->buf (the head first); 0 at the
 * end, -errno on failure. */
static ssize_t source_read(struct source *s, const void **out)
{
	struct cp_core_input *in = s->in;
	if (s->head_pos < in->head_len) {
		*out = in->head + s->head_pos;
		size_t n = in->head_len - s->head_pos;
		s->head_pos = in->head_len;
		return (ssize_t)n;
	}
	for (;;) {
		if (cancelled(s->o))
			return -(s->err = EINTR);
		ssize_t n = read(in->in_fd, s->buf, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -(s->err = errno);
		s->done += (uint64_t)n;
		if (s->o && s->o->progress)
			s->o->progress(s->o->progress_ctx, s->done, in->in_size);
		*out = s->buf;
		return n;
	}
}

static la_ssize_t archive_source(struct archive *a, void *ctx, const void **out)
{
	struct source *s = ctx;
	ssize_t n = source_read(s, out);
	if (n < 0) {
		archive_set_error(a, (int)-n, "%s", strerror((int)-n));
		return -1;
	}
	return n;
}

static int input_failed(const struct source *s, struct cp_error *err)
{
	if (s->err == EINTR)
		return cp_error_set(err, EINTR, "interrupted");
	return cp_error_set(err, s->err, "cannot read '%s': %s", s->in->name, strerror(s->err));
}

static int copy_plain(struct source *s, struct sparse_out *o, struct cp_error *err)
{
	for (;;) {
		const void *p;
		ssize_t n = source_read(s, &p);
		if (n < 0)
			return input_failed(s, err);
		if (n == 0)
			return 0;
		int r = sparse_add(o, p, (size_t)n, err);
		if (r < 0)
			return r;
	}
}

static int support_filter(struct archive *a, enum cp_core_compression c, int *code)
{
	switch (c) {
	case CP_CORE_ZSTD:
		*code = ARCHIVE_FILTER_ZSTD;
		return archive_read_support_filter_zstd(a);
	case CP_CORE_LZ4:
		*code = ARCHIVE_FILTER_LZ4;
		return archive_read_support_filter_lz4(a);
	case CP_CORE_XZ:
		*code = ARCHIVE_FILTER_XZ;
		return archive_read_support_filter_xz(a);
	case CP_CORE_GZIP:
		*code = ARCHIVE_FILTER_GZIP;
		return archive_read_support_filter_gzip(a);
	case CP_CORE_PLAIN:
	default:
		return ARCHIVE_FATAL;
	}
}

static int decompress(struct source *s, struct sparse_out *o, struct cp_error *err)
{
	struct cp_core_input *in = s->in;
	const char *what = cp_core_compression_name(in->compression);
	struct archive *a = archive_read_new();
	if (!a)
		return cp_error_set(err, ENOMEM, "out of memory");
	int r, code = 0;
	struct archive_entry *e;
	/* ARCHIVE_WARN: this libarchive would run an external program. */
	if (support_filter(a, in->compression, &code) != ARCHIVE_OK ||
	    archive_read_support_format_raw(a) != ARCHIVE_OK) {
		r = cp_error_set(err, ENOTSUP,
		                 "cannot read '%s': this libarchive cannot decompress %s", in->name,
		                 what);
		goto out;
	}
	if (archive_read_open(a, s, NULL, archive_source, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		r = s->err ? input_failed(s, err)
		           : cp_error_set(err, EINVAL, "cannot decompress '%s' (%s): %s", in->name,
		                          what, archive_error_string(a));
		goto out;
	}
	if (archive_filter_code(a, 0) != code) {
		r = cp_error_set(err, EINVAL, "cannot decompress '%s': not %s data", in->name,
		                 what);
		goto out;
	}
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t off;
		int k = archive_read_data_block(a, &buf, &size, &off);
		if (k == ARCHIVE_EOF)
			break;
		if (k != ARCHIVE_OK && k != ARCHIVE_WARN) {
			r = s->err ? input_failed(s, err)
			           : cp_error_set(err, EINVAL, "cannot decompress '%s' (%s): %s",
			                          in->name, what, archive_error_string(a));
			goto out;
		}
		/* The raw format hands the data over in order. */
		if (off < 0 || (uint64_t)off != o->base + o->len) {
			r = cp_error_set(err, EINVAL,
			                 "cannot decompress '%s' (%s): data out of order", in->name,
			                 what);
			goto out;
		}
		if (cancelled(s->o)) {
			r = cp_error_set(err, EINTR, "interrupted");
			goto out;
		}
		if ((r = sparse_add(o, buf, size, err)) < 0)
			goto out;
	}
	r = 0;
out:
	archive_read_free(a);
	return r;
}

int cp_core_input_load(struct cp_core_input *in, const struct cp_core_input_opts *o,
                       struct cp_error *err)
{
	if (!in->needs_copy) {
		if (in->in_fd == 0 && in->fd < 0) {
			in->fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
			if (in->fd < 0)
				return cp_error_set(err, errno, "cannot read standard input: %s",
				                    strerror(errno));
		}
		return 0;
	}
	uint64_t max = o && o->max_size && o->max_size < CP_CORE_INPUT_MAX_SIZE
	                   ? o->max_size
	                   : CP_CORE_INPUT_MAX_SIZE;
	if (in->expected_size > max)
		return too_big(in->name, max, err);
	const char *dir = in->tmpdir ? in->tmpdir : ".";
	struct sparse_out out = {
	    .fd = -1, .dir = dir, .name = in->name, .max = max, .max_data = o ? o->max_data : 0};
	struct source src = {.in = in, .o = o};
	int r;
	out.buf = malloc(CHUNK);
	src.buf = malloc(CHUNK);
	if (!out.buf || !src.buf) {
		r = cp_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if ((r = cp_core_input_temp(dir, err)) < 0)
		goto out;
	out.fd = r;
	r = in->compression == CP_CORE_PLAIN ? copy_plain(&src, &out, err)
	                                     : decompress(&src, &out, err);
	if (r == 0)
		r = sparse_finish(&out, err);
	if (r == 0 && out.base == 0)
		r = cp_error_set(err, EINVAL, "'%s': empty after decompressing (%s)", in->name,
		                 cp_core_compression_name(in->compression));
	if (r == 0) {
		in->fd = out.fd;
		out.fd = -1;
		in->size = out.base;
		in->data_bytes = out.data;
	}
out:
	if (out.fd >= 0)
		close(out.fd);
	free(out.buf);
	free(src.buf);
	return r;
}

void cp_core_input_free(struct cp_core_input *in)
{
	if (!in)
		return;
	if (in->fd >= 0)
		close(in->fd);
	if (in->in_owned && in->in_fd >= 0)
		close(in->in_fd);
	free(in->name);
	free(in);
}
