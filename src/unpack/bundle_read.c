/*
 * Reading a bundle from a stranger; see include/corepack/bundle_read.h:
 * the stream (libarchive decompresses, tar_read.c frames), the staging
 * directory it is extracted into (stage.h), and the checks against the
 * manifest.
 *
 * Defence in layers:
 *  1. only the zstd, xz and gzip filters and plain tar are read, and the
 *     tar framing is ours (tar_read.c), within budgets fixed before any
 *     memory is taken (pax headers, long names, sparse maps);
 *  2. every header goes through the entry validator (entry_check.c)
 *     before anything is written: names, types, modes, sizes, symlink
 *     targets, and every name's place relative to the names before it;
 *  3. a bundle whose manifest.json is its first entry (corepack writes it
 *     so) is held to it as it arrives: a file it does not list, of
 *     another size, or stored with holes when its digest is not the sparse
 *     one (or the reverse), is refused at its header, before its data; the
 *     space all the files need is checked against the file system first.
 *     A bundle whose manifest comes last (manifest version 1) may expand
 *     at most CP_BUNDLE_EXPANSION_RATIO times its size plus
 *     CP_BUNDLE_EXPANSION_BASE, and each file must fit the free space;
 *  4. what is written is what the validator accepted, created with
 *     openat()/mkdirat()/symlinkat() below the staging directory's
 *     descriptor, O_EXCL and O_NOFOLLOW (no owner, no xattrs, masked
 *     modes);
 *  5. after the last entry, every name written is looked at again and
 *     must be the inode it was when written (a case-insensitive or
 *     normalising file system can make two names one), and every file is
 *     checked against the manifest's list: size, digest (sha256, or the
 *     sparse digest of digest.h for a file with holes), none missing, none
 *     extra; the digests of a version 2 manifest come from digests.json,
 *     the last entry;
 *  6. only then is anything moved into the target directory (unpack.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "corepack/bundle_read.h"
#include "corepack/digest.h"
#include "corepack/layout.h"
#include "corepack/tar_read.h"
#include "file_sink.h"
#include "read_ahead.h"

#define READ_BLOCK (1024 * 1024)
/* A regular file's read-ahead: 4 MiB read before the decompressor asks. */
#define READ_AHEAD_SLOTS 4
/* The file sink's ring: 4 MiB of decompressed data ahead of the writes. */
#define SINK_SLOTS 4
#define SINK_SLOT_SIZE (1024 * 1024)

struct rec {
	uint8_t digest[CP_DIGEST_MAX]; /* of KIND */
	uint64_t size;
	dev_t dev;
	ino_t ino;
	uint8_t is_file;
	uint8_t sparse;  /* stored with holes: digested by a sparse kind */
	uint8_t kind;    /* enum cp_digest_kind it was digested as */
	uint8_t written; /* on disk: check it is still the same inode */
	uint8_t listed;  /* in the manifest's files */
};

struct reader {
	const char *path;
	char shown[300]; /* PATH for messages */
	const struct cp_bundle_read_opts *o;
	struct cp_error *err;
	struct cp_stage *stage; /* NULL when listing */
	int fd;
	uint8_t *buf;                 /* a pipe's reads */
	struct cp_read_ahead *ra;     /* a regular file's reads, ahead in a thread */
	uint64_t file_size, consumed; /* of the (compressed) bundle file */
	uint64_t expanded;            /* tar bytes out of the decompressor */
	struct archive *a;
	struct cp_tar_reader *tar;
	struct cp_entry_validator *v;
	struct rec *recs; /* by node id */
	size_t n_recs;
	struct cp_file_sink *sink; /* digests and writes the entry's data */
	char *manifest, *digests;
	size_t manifest_len, digests_len;
	int have_manifest, have_digests;
	int decided;         /* the first entry that is not a directory was seen */
	int held;            /* it was the manifest, parsed: entries are held to it */
	uint64_t dense_left; /* held: disk the files stored without holes still need */
	struct cp_bundle_contents *c;
	char entry[300]; /* the entry being read, for messages */
};

static int cancelled(const struct reader *r)
{
	return r->o->cancel && *r->o->cancel;
}

static int fail(struct reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct reader *r, int code, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cp_error_set(r->err, code, "'%s': %s", r->shown, msg);
}

/* The message the tar reader or the decompressor left in r->err, put in
 * context: WHERE is "in" or "after" the entry being read. */
static int stream_failed(struct reader *r, int rc, const char *where)
{
	if (rc == -EINTR || cancelled(r))
		return cp_error_reset(r->err, EINTR, "interrupted");
	if (rc == -ENOMEM)
		return rc;
	if (rc == -EINVAL && !r->entry[0])
		cp_error_prefix(r->err, "'%s': not a bundle: ", r->shown);
	else if (rc == -EIO && !r->entry[0])
		cp_error_prefix(r->err, "'%s': truncated or corrupt: ", r->shown);
	else if (rc == -EIO || rc == -EINVAL)
		cp_error_prefix(r->err, "'%s': truncated or corrupt (%s entry '%s'): ", r->shown,
		                where, r->entry);
	else if (r->entry[0])
		cp_error_prefix(r->err, "'%s': refused (%s entry '%s'): ", r->shown, where,
		                r->entry);
	else
		cp_error_prefix(r->err, "'%s': refused: ", r->shown);
	return rc;
}

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **buf)
{
	struct reader *r = ctx;
	for (;;) {
		if (cancelled(r)) {
			archive_set_error(a, EINTR, "interrupted");
			return -1;
		}
		ssize_t n;
		if (r->ra) {
			n = cp_read_ahead_next(r->ra, buf);
			if (n < 0)
				errno = (int)-n;
		} else {
			n = read(r->fd, r->buf, READ_BLOCK);
			*buf = r->buf;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "read error: %s", strerror(errno));
			return -1;
		}
		r->consumed += (uint64_t)n;
		if (r->o->progress)
			r->o->progress(r->o->progress_ctx, r->consumed, r->file_size);
		return n;
	}
}

/* What a bundle whose manifest is not first may expand to: in proportion
 * to its size (read so far, when it is a pipe). */
static uint64_t expansion_cap(const struct reader *r)
{
	uint64_t base = r->file_size ? r->file_size : r->consumed;
	if (base > CP_BUNDLE_MAX_TOTAL / CP_BUNDLE_EXPANSION_RATIO)
		return CP_BUNDLE_MAX_TOTAL;
	return CP_BUNDLE_EXPANSION_BASE + base * CP_BUNDLE_EXPANSION_RATIO;
}

/* The tar reader's source: the decompressed bundle. */
static int tar_source(void *ctx, const void **buf, size_t *len, struct cp_error *err)
{
	struct reader *r = ctx;
	for (;;) {
		la_int64_t off;
		int ar = archive_read_data_block(r->a, buf, len, &off);
		if (ar == ARCHIVE_EOF) {
			*len = 0;
			return 0;
		}
		if (ar < ARCHIVE_WARN) {
			if (cancelled(r) || archive_errno(r->a) == EINTR)
				return -EINTR;
			const char *msg = archive_error_string(r->a);
			return cp_error_set(err, EIO, "%s", msg ? msg : "unexpected end of data");
		}
		if (*len == 0)
			continue;
		r->expanded += *len;
		if (!r->held && r->expanded > expansion_cap(r))
			return cp_error_set(
			    err, E2BIG,
			    "more than %llu bytes of tar before a manifest: a bundle whose "
			    "manifest "
			    "is not its first entry may expand at most %d times its size plus %llu "
			    "MiB",
			    (unsigned long long)expansion_cap(r), CP_BUNDLE_EXPANSION_RATIO,
			    (unsigned long long)(CP_BUNDLE_EXPANSION_BASE >> 20));
		return 0;
	}
}

static struct rec *rec_for(struct reader *r, size_t node)
{
	if (node >= r->n_recs) {
		size_t n = r->n_recs ? r->n_recs : 256;
		while (n <= node)
			n *= 2;
		struct rec *recs = realloc(r->recs, n * sizeof(*recs));
		if (!recs)
			return NULL;
		memset(recs + r->n_recs, 0, (n - r->n_recs) * sizeof(*recs));
		r->recs = recs;
		r->n_recs = n;
	}
	return &r->recs[node];
}

static uint64_t round_up(uint64_t n, uint64_t block)
{
	return block ? (n + block - 1) / block * block : n;
}

/* Disk for NEED more bytes of data in the staging directory's file
 * system; WHAT says for what. */
static int check_room(struct reader *r, uint64_t need, const char *what)
{
	struct statvfs sv;
	if (!r->stage || fstatvfs(r->stage->sfd, &sv) < 0)
		return 0; /* nowhere to write, or no way to tell */
	uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (need <= avail)
		return 0;
	return fail(r, ENOSPC, "%s %llu bytes of disk; the file system has %llu free", what,
	            (unsigned long long)need, (unsigned long long)avail);
}

static uint64_t fs_block(const struct reader *r)
{
	struct statvfs sv;
	if (!r->stage || fstatvfs(r->stage->sfd, &sv) < 0)
		return 4096;
	return sv.f_frsize ? sv.f_frsize : 4096;
}

/* The manifest, read as the first entry: parsed now, and from here on
 * every entry is held to it. */
static int take_manifest(struct reader *r)
{
	int rc = cp_manifest_parse(r->manifest, r->manifest_len, &r->c->manifest, r->err);
	if (rc < 0) {
		if (rc != -ENOMEM)
			cp_error_prefix(r->err, "'%s': ", r->shown);
		return rc;
	}
	const struct cp_manifest *m = r->c->manifest;
	uint64_t block = fs_block(r), dense = 0, total = 0;
	for (size_t i = 0; i < m->n_files; i++) {
		if (m->files[i].size > CP_BUNDLE_MAX_TOTAL - total)
			return fail(r, E2BIG, "the manifest lists more than %llu bytes of files",
			            (unsigned long long)CP_BUNDLE_MAX_TOTAL);
		total += m->files[i].size;
		if (!m->files[i].sparse)
			dense += round_up(m->files[i].size, block);
	}
	r->dense_left = dense;
	r->held = 1;
	if (m->n_remote && r->stage && !r->o->fetch_remote)
		return cp_error_set(r->err, EREMOTE,
		                    "'%s': a thin bundle: %zu file%s (%llu bytes) %s to come from "
		                    "debuginfod servers, and there are none to ask; nothing was "
		                    "unpacked",
		                    r->shown, m->n_remote, m->n_remote == 1 ? "" : "s",
		                    (unsigned long long)m->remote_bytes,
		                    m->n_remote == 1 ? "is" : "are");
	/* the files left out come after the bundle's, fetched (parse_remote()
	 * kept the whole within CP_BUNDLE_MAX_TOTAL) */
	for (size_t i = 0; i < m->n_remote; i++)
		dense += round_up(m->remote[i].size, block);
	return check_room(r, dense,
	                  m->n_remote ? "its files, remote ones included, need" : "its files need");
}

/* A file entry about to be read: held to the manifest when it came
 * first; the disk it needs checked. */
static int admit_file(struct reader *r, const char *path, const struct cp_tar_entry *te,
                      int is_manifest, int is_digests)
{
	char shown[300];
	const struct cp_manifest *m = r->c->manifest;
	cp_escape(path, shown, sizeof(shown));
	if (is_manifest) {
		if (te->size > CP_MANIFEST_MAX_SIZE)
			return fail(r, E2BIG, "%s is %llu bytes, more than the limit of %d",
			            CP_BUNDLE_MANIFEST, (unsigned long long)te->size,
			            CP_MANIFEST_MAX_SIZE);
		return 0;
	}
	if (!r->held)
		return check_room(r, round_up(te->stored, fs_block(r)), "it needs");
	if (is_digests && m->version >= 2) {
		size_t cap = cp_manifest_digests_cap(m);
		if (te->size > cap)
			return fail(r, E2BIG,
			            "%s is %llu bytes, more than the %zu its manifest allows",
			            CP_BUNDLE_DIGESTS, (unsigned long long)te->size, cap);
		return 0;
	}
	const struct cp_manifest_file *f = cp_manifest_find_file(m, path);
	if (!f)
		return fail(r, EINVAL, "'%s' is in the bundle but not listed in the manifest",
		            shown);
	if (f->size != te->size)
		return fail(r, EINVAL, "'%s' is %llu bytes, the manifest says %llu", shown,
		            (unsigned long long)te->size, (unsigned long long)f->size);
	if (f->sparse != te->sparse)
		return fail(r, EINVAL, "'%s' is stored %s holes, but the manifest digests it as %s",
		            shown, te->sparse ? "with" : "without", cp_digest_kind_name(f->kind));
	if (!te->sparse) {
		uint64_t n = round_up(te->size, fs_block(r));
		r->dense_left = n < r->dense_left ? r->dense_left - n : 0;
		return 0;
	}
	uint64_t need = round_up(te->stored, fs_block(r));
	return check_room(r, need + r->dense_left, "it and the files after it need");
}

/*
 * Stream the current entry's data: digested as REC's kind, which is the
 * way it is stored (a file with holes by a sparse digest, which skips
 * them), written at its offset to WFD when >= 0 so holes stay holes (both
 * by the file sink's thread, file_sink.h), and copied into CAPTURE
 * (CAPTURE_LEN bytes, zero-filled) when given.
 */
static int feed_data(struct reader *r, char *capture, size_t capture_len)
{
	for (;;) {
		const void *buf;
		size_t len;
		uint64_t off;
		if (cancelled(r))
			return cp_error_set(r->err, EINTR, "interrupted");
		int rc = cp_tar_data(r->tar, &buf, &len, &off, r->err);
		if (rc < 0)
			return stream_failed(r, rc, "in");
		if (rc == 0)
			return 0;
		/* tar_read.c hands out increasing offsets within the size. */
		if (capture && off < capture_len)
			memcpy(capture + off, buf,
			       len < capture_len - (size_t)off ? len : capture_len - (size_t)off);
		if ((rc = cp_file_sink_data(r->sink, buf, len, off)) < 0)
			return fail(r, -rc, "cannot write '%s': %s", r->entry, strerror(-rc));
	}
}

static int copy_data(struct reader *r, const struct cp_tar_entry *te, struct rec *rec, int wfd,
                     char *capture, size_t capture_len)
{
	cp_file_sink_begin(r->sink, wfd, (enum cp_digest_kind)rec->kind);
	int rc = feed_data(r, capture, capture_len);
	/* The sink lets go of WFD before the caller closes it, whatever
	 * happened. */
	int wr = cp_file_sink_end(r->sink, te->size, rec->digest);
	if (rc < 0)
		return rc;
	if (wr < 0)
		return fail(r, -wr, "cannot write '%s': %s", r->entry, strerror(-wr));
	if (wfd >= 0 && ftruncate(wfd, (off_t)te->size) < 0)
		return fail(r, errno, "cannot write '%s': %s", r->entry, strerror(errno));
	return 0;
}

/* The directory of PATH (relative to the top) in the staging directory,
 * created when missing; *BASE its last component. */
static int parent_of(struct reader *r, const char *path, int *dfd, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	int rc = cp_stage_dir(r->stage, path, slash ? (size_t)(slash - path) : 0, 1, dfd);
	if (rc < 0)
		return fail(r, -rc, "cannot create the directory of '%s': %s", r->entry,
		            strerror(-rc));
	return 0;
}

static int record_inode(struct reader *r, struct rec *rec, int dfd, const char *base)
{
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(r, EIO, "cannot find '%s' after writing it: %s", r->entry,
		            strerror(errno));
	rec->dev = st.st_dev;
	rec->ino = st.st_ino;
	rec->written = 1;
	return 0;
}

/* Create the file C->path in the staging directory: a new name, mode
 * C->mode (0600 for the private files whatever the umask). */
static int create_file(struct reader *r, const struct cp_entry_checked *c, int *wfd)
{
	int dfd;
	const char *base;
	int rc = parent_of(r, c->path, &dfd, &base);
	if (rc < 0)
		return rc;
	int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, c->mode);
	if (fd < 0 && errno == EEXIST)
		return fail(r, EINVAL,
		            "'%s' is already on disk under another name (a case-insensitive file "
		            "system?)",
		            r->entry);
	if (fd < 0)
		return fail(r, errno, "cannot create '%s': %s", r->entry, strerror(errno));
	if (c->mode == CP_BUNDLE_PRIVATE_MODE && fchmod(fd, CP_BUNDLE_PRIVATE_MODE) < 0) {
		int e = errno;
		close(fd);
		return fail(r, e, "cannot set the mode of '%s': %s", r->entry, strerror(e));
	}
	*wfd = fd;
	return 0;
}

static int finish_file(struct reader *r, struct rec *rec, int fd)
{
	struct stat st;
	int e = fstat(fd, &st) < 0 ? errno : 0;
	if (close(fd) < 0 && !e)
		e = errno;
	if (e)
		return fail(r, e, "cannot write '%s': %s", r->entry, strerror(e));
	rec->dev = st.st_dev;
	rec->ino = st.st_ino;
	rec->written = 1;
	return 0;
}

static int write_dir(struct reader *r, const struct cp_entry_checked *c, struct rec *rec)
{
	int fd;
	struct stat st;
	int rc = cp_stage_dir(r->stage, c->path, strlen(c->path), 1, &fd);
	if (rc < 0)
		return fail(r, -rc, "cannot create '%s': %s", r->entry, strerror(-rc));
	if (fstat(fd, &st) < 0)
		return fail(r, errno, "cannot create '%s': %s", r->entry, strerror(errno));
	rec->dev = st.st_dev;
	rec->ino = st.st_ino;
	rec->written = 1;
	return 0;
}

static int write_symlink(struct reader *r, const struct cp_entry_checked *c, const char *target,
                         struct rec *rec)
{
	int dfd;
	const char *base;
	int rc = parent_of(r, c->path, &dfd, &base);
	if (rc < 0)
		return rc;
	if (symlinkat(target, dfd, base) < 0) {
		if (errno == EEXIST)
			return fail(
			    r, EINVAL,
			    "'%s' is already on disk under another name (a case-insensitive "
			    "file system?)",
			    r->entry);
		return fail(r, errno, "cannot create '%s': %s", r->entry, strerror(errno));
	}
	return record_inode(r, rec, dfd, base);
}

static int read_file(struct reader *r, const struct cp_entry_checked *c,
                     const struct cp_tar_entry *te, struct rec *rec)
{
	int is_manifest = strcmp(c->path, CP_BUNDLE_MANIFEST) == 0;
	int is_digests = strcmp(c->path, CP_BUNDLE_DIGESTS) == 0;
	int is_report = strcmp(c->path, CP_BUNDLE_REPORT) == 0;
	int first = !r->decided;
	r->decided = 1;
	int rc = admit_file(r, c->path, te, is_manifest, is_digests);
	if (rc < 0)
		return rc;

	char *capture = NULL;
	size_t capture_len = 0;
	if (is_manifest || is_digests) {
		capture_len = (size_t)te->size;
		if (!(capture = calloc(1, capture_len + 1)))
			return cp_error_set(r->err, ENOMEM, "out of memory");
		*(is_manifest ? &r->manifest : &r->digests) = capture;
		*(is_manifest ? &r->manifest_len : &r->digests_len) = capture_len;
		*(is_manifest ? &r->have_manifest : &r->have_digests) = 1;
	} else if (is_report) {
		capture_len = te->size < CP_BUNDLE_MAX_REPORT_SHOWN ? (size_t)te->size
		                                                    : CP_BUNDLE_MAX_REPORT_SHOWN;
		if (!(capture = r->c->report = calloc(1, capture_len + 1)))
			return cp_error_set(r->err, ENOMEM, "out of memory");
		r->c->report_size = te->size;
	}

	rec->size = te->size;
	rec->is_file = 1;
	rec->sparse = (uint8_t)te->sparse;
	/* A file is digested as its manifest says, where the manifest came
	 * first (version 2 on; admit_file() checked the holes agree); in
	 * version 1, whose kinds are all SHA-256, by how it is stored. */
	enum cp_digest_kind kind = cp_digest_kind_for(te->sparse, 0);
	const struct cp_manifest_file *f = r->c->manifest && !is_manifest && !is_digests
	                                       ? cp_manifest_find_file(r->c->manifest, c->path)
	                                       : NULL;
	if (f)
		kind = f->kind;
	rec->kind = (uint8_t)kind;
	int wfd = -1;
	if (r->stage && (rc = create_file(r, c, &wfd)) < 0)
		return rc;
	if (r->stage || capture)
		rc = copy_data(r, te, rec, wfd, capture, capture_len);
	if (wfd >= 0) {
		if (rc == 0)
			rc = finish_file(r, rec, wfd);
		else
			close(wfd);
	}
	if (rc < 0)
		return rc;
	r->c->n_files++;
	r->c->file_bytes += te->size;
	if (is_manifest && first)
		return take_manifest(r);
	return 0;
}

static int read_entry(struct reader *r, const struct cp_tar_entry *te)
{
	struct cp_entry e = {
	    .name = te->name,
	    .type = te->type,
	    .mode = te->mode,
	    .size = (int64_t)te->size,
	    .link = te->link,
	};
	cp_escape(e.name, r->entry, sizeof(r->entry));

	struct cp_entry_checked c;
	int rc = cp_entry_check(r->v, &e, &c, r->err);
	if (rc < 0) {
		if (rc != -ENOMEM)
			cp_error_prefix(r->err, "'%s': ", r->shown);
		return rc;
	}
	if (!c.path[0])
		return 0; /* the top directory: the staging directory stands for it */
	struct rec *rec = rec_for(r, c.node);
	if (!rec)
		return cp_error_set(r->err, ENOMEM, "out of memory");

	if (c.type == CP_ENTRY_FILE) {
		rc = read_file(r, &c, te, rec);
	} else if (c.type == CP_ENTRY_SYMLINK) {
		r->decided = 1;
		r->c->n_symlinks++;
		if (r->stage)
			rc = write_symlink(r, &c, te->link, rec);
	} else if (r->stage) {
		rc = write_dir(r, &c, rec);
	}
	if (rc < 0)
		return rc;
	if (r->o->on_entry)
		r->o->on_entry(r->o->entry_ctx, c.path, c.type, te->size);
	return 0;
}

static int path_of(struct reader *r, size_t node, char *buf, size_t size)
{
	if (cp_entry_path(r->v, (uint32_t)node, buf, size) < 0)
		return cp_error_set(r->err, ENAMETOOLONG, "name too long");
	return 0;
}

/* The tree on disk is what was written: every name still the inode it was
 * created as. */
static int check_disk(struct reader *r)
{
	char path[CP_BUNDLE_MAX_PATH + 1], shown[300];
	for (size_t i = 0; i < r->n_recs; i++) {
		struct stat st;
		if (!r->recs[i].written)
			continue;
		int rc = path_of(r, i, path, sizeof(path));
		if (rc < 0)
			return rc;
		const char *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		int dfd;
		if (cp_stage_dir(r->stage, path, slash ? (size_t)(slash - path) : 0, 0, &dfd) < 0 ||
		    fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_ino != r->recs[i].ino || st.st_dev != r->recs[i].dev)
			return fail(r, EINVAL,
			            "'%s' was replaced by a later entry with another name (a "
			            "case-insensitive file system?)",
			            cp_escape(path, shown, sizeof(shown)));
	}
	return 0;
}

/* Every file is listed in the manifest with its size, stored the way its
 * digest says, and every file listed is there. */
static int check_files(struct reader *r, const struct cp_manifest *m)
{
	char shown[300], path[CP_BUNDLE_MAX_PATH + 1];
	for (size_t i = 0; i < m->n_files; i++) {
		const struct cp_manifest_file *f = &m->files[i];
		enum cp_entry_type type;
		long node = cp_entry_lookup(r->v, f->path, &type);
		cp_escape(f->path, shown, sizeof(shown));
		if (node < 0 || type != CP_ENTRY_FILE || (size_t)node >= r->n_recs)
			return fail(r, EINVAL, "'%s' is listed in the manifest but %s", shown,
			            node < 0 ? "not in the bundle" : "is not a file in it");
		struct rec *rec = &r->recs[node];
		if (rec->size != f->size)
			return fail(r, EINVAL, "'%s' is %llu bytes, the manifest says %llu", shown,
			            (unsigned long long)rec->size, (unsigned long long)f->size);
		/* Never digested again the other way: the holes of a file
		 * stored sparse but listed with a plain sha256 can be a
		 * terabyte of zeros. */
		if (rec->sparse != f->sparse)
			return fail(
			    r, EINVAL, "'%s' is stored %s holes, but the manifest digests it as %s",
			    shown, rec->sparse ? "with" : "without", cp_digest_kind_name(f->kind));
		rec->listed = 1;
	}
	long mnode = cp_entry_lookup(r->v, CP_BUNDLE_MANIFEST, NULL);
	long dnode = m->version >= 2 ? cp_entry_lookup(r->v, CP_BUNDLE_DIGESTS, NULL) : -1;
	for (size_t i = 0; i < r->n_recs; i++) {
		if (!r->recs[i].is_file || r->recs[i].listed || (long)i == mnode ||
		    (long)i == dnode)
			continue;
		int rc = path_of(r, i, path, sizeof(path));
		if (rc < 0)
			return rc;
		return fail(r, EINVAL, "'%s' is in the bundle but not listed in the manifest",
		            cp_escape(path, shown, sizeof(shown)));
	}
	return 0;
}

/* Every file's digest, computed as it was extracted, is the manifest's
 * (check_files() first). */
static int check_digests(struct reader *r, const struct cp_manifest *m)
{
	char shown[300], hex[2 * CP_DIGEST_MAX + 1], want[2 * CP_DIGEST_MAX + 1];
	for (size_t i = 0; i < m->n_files; i++) {
		const struct cp_manifest_file *f = &m->files[i];
		const struct rec *rec = &r->recs[cp_entry_lookup(r->v, f->path, NULL)];
		size_t size = cp_digest_kind_size(f->kind);
		cp_escape(f->path, shown, sizeof(shown));
		if (!f->have_digest)
			return fail(r, EINVAL, "'%s' has no digest", shown);
		if (rec->kind != f->kind)
			return fail(r, EINVAL, "'%s' was digested as %s, the manifest says %s",
			            shown, cp_digest_kind_name(rec->kind),
			            cp_digest_kind_name(f->kind));
		if (memcmp(rec->digest, f->digest, size) != 0) {
			cp_hex(rec->digest, size, hex);
			cp_hex(f->digest, size, want);
			return fail(r, EINVAL,
			            "'%s' does not match the manifest: %s %s, expected %s", shown,
			            cp_digest_kind_name(f->kind), hex, want);
		}
	}
	return 0;
}

/* What the manifest says is in the bundle for each object is there (a
 * file, or a symlink to the copy of the same inode). */
static int check_objects(struct reader *r, const struct cp_manifest *m)
{
	char shown[300], oshown[300];
	for (size_t i = 0; i < m->n_objects; i++) {
		const struct cp_manifest_object *o = &m->objects[i];
		for (size_t k = 0; k <= o->n_debug; k++) {
			const char *bp = k == 0 ? o->bundle_path : o->debug[k - 1].bundle_path;
			enum cp_entry_type type;
			if (!bp || (cp_entry_lookup(r->v, bp, &type) >= 0 &&
			            (type == CP_ENTRY_FILE || type == CP_ENTRY_SYMLINK)))
				continue;
			/* left out, fetched later (or listed) */
			if (cp_manifest_find_remote(m, bp) && cp_entry_lookup(r->v, bp, NULL) < 0)
				continue;
			return fail(r, EINVAL,
			            "'%s' (object '%s') is in the manifest but not in the bundle",
			            cp_escape(bp, shown, sizeof(shown)),
			            cp_escape(o->path, oshown, sizeof(oshown)));
		}
	}
	return 0;
}

int cp_bundle_open(const char *path, const char *shown, int *fd, uint64_t *size,
                   struct cp_error *err)
{
	struct stat st;
	int f = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (f < 0)
		return cp_error_set(err, errno, "cannot open '%s': %s", shown, strerror(errno));
	if (fstat(f, &st) < 0) {
		int e = errno;
		close(f);
		return cp_error_set(err, e, "cannot open '%s': %s", shown, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(f);
		return cp_error_set(err, EISDIR, "'%s': not a bundle: is a directory", shown);
	}
	*size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	/* Read once, front to back: a larger read-ahead (the bundle on
	 * a cold cache otherwise keeps the decompressor waiting). */
	if (S_ISREG(st.st_mode))
		posix_fadvise(f, 0, 0, POSIX_FADV_SEQUENTIAL);
	*fd = f;
	return 0;
}

/* R->fd is open already when the caller opened the bundle.  libarchive
 * only decompresses: its "raw" format hands over the tar stream. */
static int open_archive(struct reader *r)
{
	int rc;
	if (r->fd < 0 &&
	    (rc = cp_bundle_open(r->path, r->shown, &r->fd, &r->file_size, r->err)) < 0)
		return rc;
	struct stat st;
	if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode))
		rc = cp_read_ahead_new(r->fd, READ_AHEAD_SLOTS, READ_BLOCK, &r->ra);
	else
		rc = (r->buf = malloc(READ_BLOCK)) ? 0 : -ENOMEM;
	if (rc < 0 || !(r->a = archive_read_new()))
		return cp_error_set(r->err, ENOMEM, "out of memory");
	/* Only what corepack writes: less code facing the input. */
	if (archive_read_support_format_raw(r->a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(r->a) < ARCHIVE_WARN ||
	    archive_read_support_filter_xz(r->a) < ARCHIVE_WARN ||
	    archive_read_support_filter_gzip(r->a) < ARCHIVE_WARN ||
	    archive_read_support_filter_none(r->a) != ARCHIVE_OK)
		return cp_error_set(r->err, ENOTSUP, "libarchive: %s", archive_error_string(r->a));
	struct archive_entry *ae;
	if (archive_read_open2(r->a, r, NULL, read_cb, NULL, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(r->a, &ae) != ARCHIVE_OK) {
		if (cancelled(r) || archive_errno(r->a) == EINTR)
			return cp_error_set(r->err, EINTR, "interrupted");
		const char *msg = archive_error_string(r->a);
		return fail(r, EINVAL, "not a bundle: %s", msg ? msg : "empty file");
	}
	if (cp_tar_reader_new(tar_source, r, &r->tar) < 0)
		return cp_error_set(r->err, ENOMEM, "out of memory");
	return 0;
}

static int read_entries(struct reader *r)
{
	int rc;
	for (;;) {
		struct cp_tar_entry te;
		rc = cp_tar_next(r->tar, &te, r->err);
		if (rc < 0)
			return stream_failed(r, rc, "after");
		if (rc == 0)
			break;
		if ((rc = read_entry(r, &te)) < 0)
			return rc;
		if (cancelled(r))
			return cp_error_set(r->err, EINTR, "interrupted");
	}
	if (!cp_entry_validator_top(r->v))
		return fail(r, EINVAL, "not a bundle: no entries");
	if (!r->have_manifest)
		return fail(r, EINVAL, "not a corepack bundle: no %s", CP_BUNDLE_MANIFEST);
	if (!r->held) {
		rc = cp_manifest_parse(r->manifest, r->manifest_len, &r->c->manifest, r->err);
		if (rc < 0) {
			if (rc != -ENOMEM)
				cp_error_prefix(r->err, "'%s': ", r->shown);
			return rc;
		}
		if (r->c->manifest->version >= 2)
			return fail(
			    r, EINVAL,
			    "%s: version %d must be the bundle's first entry (it came after "
			    "others)",
			    CP_BUNDLE_MANIFEST, r->c->manifest->version);
	}
	struct cp_manifest *m = r->c->manifest;
	if ((r->stage && (rc = check_disk(r)) < 0) || (rc = check_files(r, m)) < 0 ||
	    (rc = check_objects(r, m)) < 0)
		return rc;
	if (m->version >= 2) {
		if (!r->have_digests)
			return fail(r, EINVAL, "not a corepack bundle: no %s, the files' digests",
			            CP_BUNDLE_DIGESTS);
		rc = cp_manifest_take_digests(m, r->digests, r->digests_len, r->err);
		if (rc < 0) {
			if (rc != -ENOMEM)
				cp_error_prefix(r->err, "'%s': ", r->shown);
			return rc;
		}
	}
	if (r->stage && (rc = check_digests(r, m)) < 0)
		return rc;
	r->c->verified = r->stage != NULL;
	return 0;
}

int cp_bundle_read_fd(const char *path, int fd, uint64_t file_size,
                      const struct cp_bundle_read_opts *opts, struct cp_bundle_contents **out,
                      struct cp_error *err)
{
	struct reader r = {.path = path,
	                   .o = opts,
	                   .err = err,
	                   .fd = fd,
	                   .file_size = file_size,
	                   .stage = opts->stage};
	int rc;
	cp_escape(path, r.shown, sizeof(r.shown));
	if (!(r.c = calloc(1, sizeof(*r.c))) ||
	    cp_file_sink_new(SINK_SLOTS, SINK_SLOT_SIZE, &r.sink) < 0 ||
	    cp_entry_validator_new(&r.v) < 0) {
		rc = cp_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = open_archive(&r)) < 0)
		goto out;
	rc = read_entries(&r);
out:
	cp_tar_reader_free(r.tar);
	if (r.a)
		archive_read_free(r.a);
	cp_read_ahead_free(r.ra);
	if (r.fd >= 0)
		close(r.fd);
	if (rc == 0 && r.c && !(r.c->top = strdup(cp_entry_validator_top(r.v))))
		rc = cp_error_set(err, ENOMEM, "out of memory");
	free(r.buf);
	cp_file_sink_free(r.sink);
	free(r.recs);
	free(r.manifest);
	free(r.digests);
	cp_entry_validator_free(r.v);
	if (rc == -EREMOTE && r.c && r.c->manifest) {
		*out = r.c; /* what it needs, for the caller to say */
		return rc;
	}
	if (rc < 0) {
		cp_bundle_contents_free(r.c);
		return rc;
	}
	*out = r.c;
	return 0;
}

int cp_bundle_read(const char *path, const struct cp_bundle_read_opts *opts,
                   struct cp_bundle_contents **out, struct cp_error *err)
{
	return cp_bundle_read_fd(path, -1, 0, opts, out, err);
}

void cp_bundle_contents_free(struct cp_bundle_contents *c)
{
	if (!c)
		return;
	free(c->top);
	cp_manifest_free(c->manifest);
	free(c->report);
	for (size_t i = 0; i < c->n_gdb_warnings; i++)
		free(c->gdb_warnings[i]);
	free(c->gdb_warnings);
	free(c);
}
