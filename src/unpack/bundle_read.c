/*
 * Reading a bundle from a stranger; see include/corepack/bundle_read.h:
 * the stream through libarchive, the staging directory it is extracted
 * into, and the checks against the manifest.
 *
 * Defence in layers, because libarchive's ARCHIVE_EXTRACT_SECURE_* flags
 * alone have been bypassed before (CVE-2021-23177, issues 743-745) and do
 * not look at a symlink's target at all:
 *  1. only the tar format and the filters a bundle can use are compiled
 *     into the reader;
 *  2. every header goes through the entry validator (entry_check.c) before
 *     anything is written: names, types, modes, sizes, symlink targets, and
 *     every name's place relative to the names before it;
 *  3. what is written is a fresh archive_entry holding only what the
 *     validator accepted (no owner, no xattrs, no ACLs, masked modes), into
 *     an empty directory, through archive_write_disk with the secure flags;
 *  4. after the last entry, every name written is lstat'ed again and must
 *     be the inode it was when written (a case-insensitive or normalising
 *     file system can make two names one), and every file is checked
 *     against the manifest's list: size, digest (sha256, or the sparse
 *     digest of digest.h for a file with holes), none missing, none extra;
 *  5. only then is anything moved into the target directory (unpack.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "corepack/bundle_read.h"
#include "corepack/digest.h"
#include "corepack/io.h"
#include "corepack/layout.h"
#include "corepack/sha256.h"

#define READ_BLOCK (1024 * 1024)

struct rec {
	uint8_t digest[32]; /* sha256, or the sparse digest when SPARSE */
	uint64_t size;
	dev_t dev;
	ino_t ino;
	uint8_t is_file;
	uint8_t sparse;  /* stored with holes: digested as sparse_sha256 */
	uint8_t written; /* on disk: check it is still the same inode */
	uint8_t listed;  /* in the manifest's files */
};

struct reader {
	const char *path;
	char shown[300]; /* PATH for messages */
	const struct cp_bundle_read_opts *o;
	struct cp_error *err;
	int fd;
	uint8_t *buf;
	uint64_t file_size, consumed;
	struct archive *a, *disk;
	struct cp_entry_validator *v;
	struct rec *recs; /* by node id */
	size_t n_recs;
	struct cp_any_digest *dg; /* the entry's digest */
	char *manifest;
	size_t manifest_len;
	int have_manifest;
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

/* An error of libarchive's reader: not a tar at all, truncated or corrupt,
 * or interrupted.  WHERE is "in" or "after" the entry being read. */
static int fail_archive(struct reader *r, const char *where)
{
	if (cancelled(r) || archive_errno(r->a) == EINTR)
		return cp_error_set(r->err, EINTR, "interrupted");
	const char *msg = archive_error_string(r->a);
	if (!msg)
		msg = "unexpected end of data";
	if (archive_format(r->a) == 0)
		return fail(r, EINVAL, "not a bundle: %s", msg);
	if (!r->entry[0])
		return fail(r, EIO, "truncated or corrupt: %s", msg);
	return fail(r, EIO, "truncated or corrupt (%s entry '%s'): %s", where, r->entry, msg);
}

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **buf)
{
	struct reader *r = ctx;
	for (;;) {
		if (cancelled(r)) {
			archive_set_error(a, EINTR, "interrupted");
			return -1;
		}
		ssize_t n = read(r->fd, r->buf, READ_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "read error: %s", strerror(errno));
			return -1;
		}
		r->consumed += (uint64_t)n;
		if (r->o->progress)
			r->o->progress(r->o->progress_ctx, r->consumed, r->file_size);
		*buf = r->buf;
		return n;
	}
}

/* Skipping without reading, for an uncompressed bundle in a regular file
 * (libarchive asks the client only when no filter is in the way). */
static la_int64_t skip_cb(struct archive *a, void *ctx, la_int64_t request)
{
	struct reader *r = ctx;
	(void)a;
	if (!r->file_size || request <= 0 || lseek(r->fd, request, SEEK_CUR) < 0)
		return 0;
	r->consumed += (uint64_t)request;
	return request;
}

static enum cp_entry_type entry_type(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return CP_ENTRY_HARDLINK;
	switch (archive_entry_filetype(ae)) {
	case AE_IFREG:
		return CP_ENTRY_FILE;
	case AE_IFDIR:
		return CP_ENTRY_DIR;
	case AE_IFLNK:
		return CP_ENTRY_SYMLINK;
	case AE_IFCHR:
		return CP_ENTRY_CHARDEV;
	case AE_IFBLK:
		return CP_ENTRY_BLOCKDEV;
	case AE_IFIFO:
		return CP_ENTRY_FIFO;
	case AE_IFSOCK:
		return CP_ENTRY_SOCKET;
	default:
		return CP_ENTRY_UNKNOWN;
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

/*
 * Stream the current entry's data: digested (the packer's way: a file
 * stored with holes by the sparse digest, which skips them, any other by
 * SHA-256 with holes as the zeros they read as), written to disk block by
 * block at its offset so holes stay holes, and copied into CAPTURE
 * (CAPTURE_LEN bytes, zero-filled) when given.
 */
static int copy_data(struct reader *r, uint64_t size, struct rec *rec, char *capture,
                     size_t capture_len)
{
	uint64_t pos = 0;
	cp_any_digest_init(r->dg, rec->sparse);
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		if (cancelled(r))
			return cp_error_set(r->err, EINTR, "interrupted");
		int ar = archive_read_data_block(r->a, &buf, &len, &off);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN)
			return fail_archive(r, "in");
		if (off < 0 || (uint64_t)off < pos || (uint64_t)off > size ||
		    len > size - (uint64_t)off)
			return fail(r, EIO, "corrupt: entry '%s' has data past its size", r->entry);
		cp_any_digest_zeros(r->dg, (uint64_t)off - pos);
		cp_any_digest_data(r->dg, buf, len);
		if (capture && (uint64_t)off < capture_len)
			memcpy(capture + off, buf,
			       len < capture_len - (size_t)off ? len : capture_len - (size_t)off);
		if (r->disk && len &&
		    archive_write_data_block(r->disk, buf, len, off) != ARCHIVE_OK)
			return fail(r, EIO, "cannot write '%s': %s", r->entry,
			            archive_error_string(r->disk));
		pos = (uint64_t)off + len;
	}
	cp_any_digest_zeros(r->dg, size - pos);
	cp_any_digest_final(r->dg, rec->digest);
	return 0;
}

/* A fresh header holding only what the validator accepted. */
static int write_entry(struct reader *r, const struct cp_entry_checked *c, const struct cp_entry *e)
{
	struct archive_entry *de = archive_entry_new();
	if (!de)
		return cp_error_set(r->err, ENOMEM, "out of memory");
	archive_entry_set_pathname(de, c->path);
	archive_entry_set_filetype(de, c->type == CP_ENTRY_FILE  ? AE_IFREG
	                               : c->type == CP_ENTRY_DIR ? AE_IFDIR
	                                                         : AE_IFLNK);
	archive_entry_set_perm(de, c->mode);
	if (c->type == CP_ENTRY_FILE)
		archive_entry_set_size(de, e->size);
	if (c->type == CP_ENTRY_SYMLINK)
		archive_entry_set_symlink(de, e->link);
	int ar = archive_write_header(r->disk, de);
	archive_entry_free(de);
	if (ar != ARCHIVE_OK)
		return fail(r, EIO, "cannot create '%s': %s", r->entry,
		            archive_error_string(r->disk));
	return 0;
}

static int finish_entry(struct reader *r, const struct cp_entry_checked *c, struct rec *rec)
{
	struct stat st;
	if (archive_write_finish_entry(r->disk) != ARCHIVE_OK)
		return fail(r, EIO, "cannot write '%s': %s", r->entry,
		            archive_error_string(r->disk));
	/* archive_write_disk applied the umask, which may take more than
	 * group and other bits away. */
	if (c->type == CP_ENTRY_FILE && c->mode == CP_BUNDLE_PRIVATE_MODE &&
	    fchmodat(AT_FDCWD, c->path, CP_BUNDLE_PRIVATE_MODE, 0) < 0)
		return fail(r, EIO, "cannot set the mode of '%s': %s", r->entry, strerror(errno));
	if (lstat(c->path, &st) < 0)
		return fail(r, EIO, "cannot find '%s' after writing it: %s", r->entry,
		            strerror(errno));
	rec->dev = st.st_dev;
	rec->ino = st.st_ino;
	rec->written = 1;
	return 0;
}

static int read_entry(struct reader *r, struct archive_entry *ae)
{
	struct cp_entry e = {
	    .name = archive_entry_pathname(ae),
	    .type = entry_type(ae),
	    .mode = (unsigned)archive_entry_perm(ae) & 07777,
	    .size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0,
	};
	e.link = e.type == CP_ENTRY_HARDLINK  ? archive_entry_hardlink(ae)
	         : e.type == CP_ENTRY_SYMLINK ? archive_entry_symlink(ae)
	                                      : NULL;
	cp_escape(e.name ? e.name : "", r->entry, sizeof(r->entry));

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

	char *capture = NULL;
	size_t capture_len = 0;
	int is_manifest = strcmp(c.path, CP_BUNDLE_MANIFEST) == 0;
	int is_report = strcmp(c.path, CP_BUNDLE_REPORT) == 0;
	if (is_manifest) {
		if (e.size > CP_MANIFEST_MAX_SIZE)
			return fail(r, E2BIG, "%s is %lld bytes, more than the limit of %d",
			            CP_BUNDLE_MANIFEST, (long long)e.size, CP_MANIFEST_MAX_SIZE);
		capture_len = (size_t)e.size;
		if (!(capture = r->manifest = calloc(1, capture_len + 1)))
			return cp_error_set(r->err, ENOMEM, "out of memory");
		r->manifest_len = capture_len;
		r->have_manifest = 1;
	} else if (is_report) {
		capture_len = e.size < CP_BUNDLE_MAX_REPORT_SHOWN ? (size_t)e.size
		                                                  : CP_BUNDLE_MAX_REPORT_SHOWN;
		if (!(capture = r->c->report = calloc(1, capture_len + 1)))
			return cp_error_set(r->err, ENOMEM, "out of memory");
		r->c->report_size = (uint64_t)e.size;
	}

	if (r->disk && (rc = write_entry(r, &c, &e)) < 0)
		return rc;
	if (c.type == CP_ENTRY_FILE) {
		rec->size = (uint64_t)e.size;
		rec->is_file = 1;
		rec->sparse = archive_entry_sparse_count(ae) > 0;
		if (r->disk || capture) {
			if ((rc = copy_data(r, (uint64_t)e.size, rec, capture, capture_len)) < 0)
				return rc;
		} else if (archive_read_data_skip(r->a) < ARCHIVE_WARN) {
			return fail_archive(r, "in");
		}
		r->c->n_files++;
		r->c->file_bytes += (uint64_t)e.size;
	} else if (c.type == CP_ENTRY_SYMLINK) {
		r->c->n_symlinks++;
	}
	if (r->disk && (rc = finish_entry(r, &c, rec)) < 0)
		return rc;
	if (r->o->on_entry)
		r->o->on_entry(r->o->entry_ctx, c.path, c.type, (uint64_t)e.size);
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
		if (lstat(path, &st) < 0 || st.st_ino != r->recs[i].ino ||
		    st.st_dev != r->recs[i].dev)
			return fail(r, EINVAL,
			            "'%s' was replaced by a later entry with another name (a "
			            "case-insensitive file system?)",
			            cp_escape(path, shown, sizeof(shown)));
	}
	return 0;
}

/* Digest the extracted file PATH the other way (SPARSE or plain) than it
 * was digested while streaming: for a file stored with holes but listed
 * with a plain sha256, or the reverse.  Interruptible: the holes of a big
 * file can take a while as zeros. */
static int digest_again(struct reader *r, const char *path, int sparse, uint8_t out[32])
{
	int fd = cp_open_regular(path, O_NOFOLLOW, NULL), rc = 0;
	if (fd < 0)
		return fd;
	cp_any_digest_init(r->dg, sparse);
	for (;;) {
		if (cancelled(r)) {
			rc = -EINTR;
			break;
		}
		ssize_t n = read(fd, r->buf, READ_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		cp_any_digest_data(r->dg, r->buf, (size_t)n);
	}
	close(fd);
	if (rc == 0)
		cp_any_digest_final(r->dg, out);
	return rc;
}

/* Every file is listed in the manifest with its size and digest, and every
 * file listed is there.  A file digested the other way than the manifest
 * says (stored dense but listed sparse, or the reverse) is digested again
 * from the disk. */
static int check_files(struct reader *r, const struct cp_manifest *m, int verify)
{
	char shown[300], hex[65], want[65], path[CP_BUNDLE_MAX_PATH + 1];
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
		rec->listed = 1;
		if (!verify)
			continue;
		int rc;
		if (rec->sparse != f->sparse &&
		    (rc = digest_again(r, f->path, f->sparse, rec->digest)) < 0)
			return rc == -EINTR
			           ? cp_error_set(r->err, EINTR, "interrupted")
			           : fail(r, -rc, "cannot check '%s': %s", shown, strerror(-rc));
		if (memcmp(rec->digest, f->sha256, 32) != 0) {
			cp_hex(rec->digest, 32, hex);
			cp_hex(f->sha256, 32, want);
			return fail(r, EINVAL,
			            "'%s' does not match the manifest: %s %s, expected %s", shown,
			            f->sparse ? "sparse_sha256" : "sha256", hex, want);
		}
	}
	long mnode = cp_entry_lookup(r->v, CP_BUNDLE_MANIFEST, NULL);
	for (size_t i = 0; i < r->n_recs; i++) {
		if (!r->recs[i].is_file || r->recs[i].listed || (long)i == mnode)
			continue;
		int rc = path_of(r, i, path, sizeof(path));
		if (rc < 0)
			return rc;
		return fail(r, EINVAL, "'%s' is in the bundle but not listed in the manifest",
		            cp_escape(path, shown, sizeof(shown)));
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
	*fd = f;
	return 0;
}

/* R->fd is open already when the caller opened the bundle. */
static int open_archive(struct reader *r)
{
	int rc;
	if (r->fd < 0 &&
	    (rc = cp_bundle_open(r->path, r->shown, &r->fd, &r->file_size, r->err)) < 0)
		return rc;
	if (!(r->buf = malloc(READ_BLOCK)) || !(r->a = archive_read_new()))
		return cp_error_set(r->err, ENOMEM, "out of memory");
	/* Only what corepack writes: less code facing the input. */
	if (archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(r->a) < ARCHIVE_WARN ||
	    archive_read_support_filter_xz(r->a) < ARCHIVE_WARN ||
	    archive_read_support_filter_gzip(r->a) < ARCHIVE_WARN ||
	    archive_read_support_filter_none(r->a) != ARCHIVE_OK)
		return cp_error_set(r->err, ENOTSUP, "libarchive: %s", archive_error_string(r->a));
	if (archive_read_open2(r->a, r, NULL, read_cb, skip_cb, NULL) != ARCHIVE_OK)
		return fail_archive(r, "at");
	if (r->o->staging) {
		if (!(r->disk = archive_write_disk_new()))
			return cp_error_set(r->err, ENOMEM, "out of memory");
		/* No _OWNER, _PERM, _XATTR, _ACL, _FFLAGS, _TIME: none of it
		 * would be taken from the bundle anyway (write_entry builds a
		 * clean header), but say so. */
		archive_write_disk_set_options(r->disk, ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		                                            ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		                                            ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	}
	return 0;
}

static int read_entries(struct reader *r)
{
	int rc;
	for (;;) {
		struct archive_entry *ae;
		int ar = archive_read_next_header(r->a, &ae);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN)
			return fail_archive(r, "after");
		if ((rc = read_entry(r, ae)) < 0)
			return rc;
		if (cancelled(r))
			return cp_error_set(r->err, EINTR, "interrupted");
	}
	if (r->disk && archive_write_close(r->disk) != ARCHIVE_OK)
		return fail(r, EIO, "cannot finish extracting: %s", archive_error_string(r->disk));
	if (!cp_entry_validator_top(r->v))
		return fail(r, EINVAL, "not a bundle: no entries");
	if (!r->have_manifest)
		return fail(r, EINVAL, "not a corepack bundle: no %s", CP_BUNDLE_MANIFEST);

	rc = cp_manifest_parse(r->manifest, r->manifest_len, &r->c->manifest, r->err);
	if (rc < 0) {
		if (rc != -ENOMEM)
			cp_error_prefix(r->err, "'%s': ", r->shown);
		return rc;
	}
	if ((r->disk && (rc = check_disk(r)) < 0) ||
	    (rc = check_files(r, r->c->manifest, r->disk != NULL)) < 0 ||
	    (rc = check_objects(r, r->c->manifest)) < 0)
		return rc;
	r->c->verified = r->disk != NULL;
	return 0;
}

int cp_bundle_read_fd(const char *path, int fd, uint64_t file_size,
                      const struct cp_bundle_read_opts *opts, struct cp_bundle_contents **out,
                      struct cp_error *err)
{
	struct reader r = {.path = path, .o = opts, .err = err, .fd = fd, .file_size = file_size};
	int cwd = -1, rc;
	cp_escape(path, r.shown, sizeof(r.shown));
	if (!(r.c = calloc(1, sizeof(*r.c))) || !(r.dg = malloc(sizeof(*r.dg))) ||
	    cp_entry_validator_new(&r.v) < 0) {
		rc = cp_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = open_archive(&r)) < 0)
		goto out;
	if (opts->staging) {
		/* archive_write_disk takes names relative to the working
		 * directory and, with _SECURE_NOABSOLUTEPATHS, only those. */
		cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cwd < 0)
			cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cwd < 0 || chdir(opts->staging) < 0) {
			rc = cp_error_set(err, errno, "cannot enter '%s': %s", opts->staging,
			                  strerror(errno));
			goto out;
		}
	}
	rc = read_entries(&r);
out:
	if (cwd >= 0) {
		if (fchdir(cwd) < 0 && rc == 0)
			rc = cp_error_set(err, errno, "cannot return to the working directory: %s",
			                  strerror(errno));
		close(cwd);
	}
	if (r.disk)
		archive_write_free(r.disk);
	if (r.a)
		archive_read_free(r.a);
	if (r.fd >= 0)
		close(r.fd);
	if (rc == 0 && r.c && !(r.c->top = strdup(cp_entry_validator_top(r.v))))
		rc = cp_error_set(err, ENOMEM, "out of memory");
	free(r.buf);
	free(r.dg);
	free(r.recs);
	free(r.manifest);
	cp_entry_validator_free(r.v);
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
	free(c);
}
