/*
 * Reading a bundle from a stranger; see include/corepack/bundle_read.h.
 *
 * Defence in layers, because libarchive's ARCHIVE_EXTRACT_SECURE_* flags
 * alone have been bypassed before (CVE-2021-23177, issues 743-745) and do
 * not look at a symlink's target at all:
 *  1. only the tar format and the filters a bundle can use are compiled
 *     into the reader;
 *  2. every header goes through the entry validator (below) before
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
 *  5. only then is anything moved into the target directory.
 *
 * The validator keeps the accepted names as a tree of components (a node
 * per name, children found through one hash table keyed by parent and
 * component), so memory grows with the bytes of distinct components, not
 * with the full length of every name and of every prefix of it.
 *
 * Symlink targets are checked lexically from the symlink's own directory.
 * That is sound only because (a) no entry is ever placed below a symlink,
 * so the symlink's ancestors are real directories and its leading ".."
 * climb through them, and (b) ".." is refused after a name ("a/../.."),
 * where "a" might itself be a symlink and the lexical answer wrong.  Each
 * symlink then resolves below one of the bundle's names, and so does any
 * chain of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include "corepack/layout.h"
#include "corepack/scripts.h"
#include "corepack/sha256.h"

#define READ_BLOCK (1024 * 1024)

/* ---- the entry validator ---------------------------------------------- */

struct node {
	uint32_t parent;
	uint32_t name_off; /* into the pool */
	uint16_t name_len;
	uint8_t type; /* enum cp_entry_type: FILE, DIR or SYMLINK */
};

struct cp_entry_validator {
	char *top;
	struct node *nodes; /* [0] is the top directory */
	size_t n_nodes, cap_nodes;
	char *pool;
	size_t pool_len, pool_cap;
	uint32_t *table; /* node ids, 0 = empty slot; open addressing */
	size_t table_cap;
	size_t n_entries;
	uint64_t total;
	char rel[CP_BUNDLE_MAX_PATH + 1];
};

int cp_entry_validator_new(struct cp_entry_validator **out)
{
	struct cp_entry_validator *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->cap_nodes = 64;
	v->table_cap = 128;
	v->nodes = malloc(v->cap_nodes * sizeof(*v->nodes));
	v->table = calloc(v->table_cap, sizeof(*v->table));
	if (!v->nodes || !v->table) {
		cp_entry_validator_free(v);
		return -ENOMEM;
	}
	v->nodes[0] = (struct node){0, 0, 0, CP_ENTRY_DIR};
	v->n_nodes = 1;
	*out = v;
	return 0;
}

void cp_entry_validator_free(struct cp_entry_validator *v)
{
	if (!v)
		return;
	free(v->top);
	free(v->nodes);
	free(v->pool);
	free(v->table);
	free(v);
}

const char *cp_entry_validator_top(const struct cp_entry_validator *v)
{
	return v->top;
}

static uint64_t node_hash(uint32_t parent, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ parent;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

static int node_is(const struct cp_entry_validator *v, uint32_t id, uint32_t parent,
                   const char *name, size_t len)
{
	const struct node *n = &v->nodes[id];
	return n->parent == parent && n->name_len == len &&
	       memcmp(v->pool + n->name_off, name, len) == 0;
}

static uint32_t find_child(const struct cp_entry_validator *v, uint32_t parent, const char *name,
                           size_t len)
{
	size_t mask = v->table_cap - 1;
	for (size_t i = node_hash(parent, name, len) & mask;; i = (i + 1) & mask) {
		uint32_t id = v->table[i];
		if (id == 0 || node_is(v, id, parent, name, len))
			return id;
	}
}

static void table_put(uint32_t *table, size_t cap, uint64_t hash, uint32_t id)
{
	size_t i = hash & (cap - 1);
	while (table[i])
		i = (i + 1) & (cap - 1);
	table[i] = id;
}

static int grow_table(struct cp_entry_validator *v)
{
	size_t cap = v->table_cap * 2;
	uint32_t *t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t id = 1; id < v->n_nodes; id++) {
		const struct node *n = &v->nodes[id];
		table_put(t, cap, node_hash(n->parent, v->pool + n->name_off, n->name_len),
		          (uint32_t)id);
	}
	free(v->table);
	v->table = t;
	v->table_cap = cap;
	return 0;
}

/* Add the child NAME of PARENT; the caller checked it is absent and within
 * CP_BUNDLE_MAX_COMPONENT. */
static int add_child(struct cp_entry_validator *v, uint32_t parent, const char *name, size_t len,
                     enum cp_entry_type type, uint32_t *out)
{
	if (v->n_nodes > CP_BUNDLE_MAX_NAMES)
		return -E2BIG;
	if (v->n_nodes == v->cap_nodes) {
		struct node *n = realloc(v->nodes, 2 * v->cap_nodes * sizeof(*n));
		if (!n)
			return -ENOMEM;
		v->nodes = n;
		v->cap_nodes *= 2;
	}
	if (len > v->pool_cap - v->pool_len) {
		size_t cap = v->pool_cap ? v->pool_cap : 4096;
		while (len > cap - v->pool_len)
			cap *= 2;
		char *p = realloc(v->pool, cap);
		if (!p)
			return -ENOMEM;
		v->pool = p;
		v->pool_cap = cap;
	}
	if (2 * (v->n_nodes + 1) > v->table_cap && grow_table(v) < 0)
		return -ENOMEM;
	memcpy(v->pool + v->pool_len, name, len);
	uint32_t id = (uint32_t)v->n_nodes++;
	v->nodes[id] = (struct node){parent, (uint32_t)v->pool_len, (uint16_t)len, (uint8_t)type};
	v->pool_len += len;
	table_put(v->table, v->table_cap, node_hash(parent, name, len), id);
	*out = id;
	return 0;
}

long cp_entry_lookup(const struct cp_entry_validator *v, const char *path, enum cp_entry_type *type)
{
	uint32_t id = 0;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || n > CP_BUNDLE_MAX_COMPONENT)
			return -1;
		if (!(id = find_child(v, id, p, n)))
			return -1;
		p += n;
		if (*p == '/')
			p++;
	}
	if (type)
		*type = (enum cp_entry_type)v->nodes[id].type;
	return (long)id;
}

/* The path of node ID relative to the top into BUF. */
static int node_path(const struct cp_entry_validator *v, uint32_t id, char *buf, size_t size)
{
	size_t len = 0;
	for (uint32_t i = id; i != 0; i = v->nodes[i].parent)
		len += v->nodes[i].name_len + (len ? 1 : 0);
	if (len >= size)
		return -ENAMETOOLONG;
	buf[len] = '\0';
	for (uint32_t i = id; i != 0; i = v->nodes[i].parent) {
		const struct node *n = &v->nodes[i];
		len -= n->name_len;
		memcpy(buf + len, v->pool + n->name_off, n->name_len);
		if (len)
			buf[--len] = '/';
	}
	return 0;
}

static const char *type_phrase(enum cp_entry_type t)
{
	switch (t) {
	case CP_ENTRY_FILE:
		return "a file";
	case CP_ENTRY_DIR:
		return "a directory";
	case CP_ENTRY_SYMLINK:
		return "a symlink";
	case CP_ENTRY_HARDLINK:
		return "a hard link";
	case CP_ENTRY_CHARDEV:
		return "a character device";
	case CP_ENTRY_BLOCKDEV:
		return "a block device";
	case CP_ENTRY_FIFO:
		return "a FIFO";
	case CP_ENTRY_SOCKET:
		return "a socket";
	default:
		return "of an unknown type";
	}
}

/* What an entry of a refused type is. */
static const char *type_noun(enum cp_entry_type t)
{
	switch (t) {
	case CP_ENTRY_CHARDEV:
		return "character device";
	case CP_ENTRY_BLOCKDEV:
		return "block device";
	case CP_ENTRY_FIFO:
		return "FIFO";
	case CP_ENTRY_SOCKET:
		return "socket";
	default:
		return "unsupported file type";
	}
}

static int refuse(const struct cp_entry *e, struct cp_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(const struct cp_entry *e, struct cp_error *err, int code, const char *fmt, ...)
{
	char why[600], name[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return cp_error_set(err, code, "refused entry '%s': %s",
	                    cp_bundle_printable(e->name ? e->name : "", name, sizeof(name)), why);
}

/* The symlink target T of an entry whose path below the top has DEPTH
 * components (its directory is DEPTH - 1 deep). */
static int check_symlink(const struct cp_entry *e, size_t depth, struct cp_error *err)
{
	const char *t = e->link;
	char shown[300];
	if (!t || !*t)
		return refuse(e, err, EINVAL, "symlink with an empty target");
	cp_bundle_printable(t, shown, sizeof(shown));
	if (strlen(t) > CP_BUNDLE_MAX_PATH)
		return refuse(e, err, EINVAL, "symlink target longer than 4096 bytes");
	if (cp_bundle_has_control(t))
		return refuse(e, err, EINVAL, "symlink target '%s' has a control character", shown);
	if (t[0] == '/')
		return refuse(e, err, EINVAL, "symlink to the absolute path '%s'", shown);

	size_t d = depth - 1;
	int named = 0;
	for (const char *p = t; *p;) {
		size_t n = strcspn(p, "/");
		int dotdot = n == 2 && p[0] == '.' && p[1] == '.';
		if (dotdot) {
			if (named)
				return refuse(
				    e, err, EINVAL,
				    "symlink target '%s' has '..' after a name (only leading "
				    "'..' are accepted)",
				    shown);
			if (d == 0)
				return refuse(e, err, EINVAL,
				              "symlink target '%s' leaves the bundle", shown);
			d--;
		} else if (n > CP_BUNDLE_MAX_COMPONENT) {
			return refuse(e, err, EINVAL,
			              "symlink target '%s' has a component longer than 255 bytes",
			              shown);
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			int is_dir;
			/* At the top, only the bundle's own names are inside it:
			 * anything else is the user's, beside the unpacked tree. */
			if (d == 0 && !cp_bundle_top_name(p, n, &is_dir))
				return refuse(e, err, EINVAL,
				              "symlink target '%s' leaves the bundle", shown);
			named = 1;
			d++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (d == 0)
		return refuse(e, err, EINVAL,
		              "symlink target '%s' is the directory the bundle is unpacked into",
		              shown);
	return 0;
}

int cp_entry_check(struct cp_entry_validator *v, const struct cp_entry *e,
                   struct cp_entry_checked *out, struct cp_error *err)
{
	const char *name = e->name ? e->name : "";
	size_t len = strlen(name);
	const char *why;

	if (++v->n_entries > CP_BUNDLE_MAX_NAMES)
		return refuse(e, err, E2BIG, "more than %d entries", CP_BUNDLE_MAX_NAMES);
	if (len == 0)
		return refuse(e, err, EINVAL, "empty name");
	if (len > CP_BUNDLE_MAX_PATH)
		return refuse(e, err, EINVAL, "name longer than %d bytes", CP_BUNDLE_MAX_PATH);
	if (cp_bundle_has_control(name))
		return refuse(e, err, EINVAL, "control character in the name");
	if (name[0] == '/')
		return refuse(e, err, EINVAL, "absolute name");
	if (e->type == CP_ENTRY_HARDLINK) {
		char shown[300];
		return refuse(e, err, EINVAL, "hard link (to '%s')",
		              cp_bundle_printable(e->link ? e->link : "", shown, sizeof(shown)));
	}
	if (e->type != CP_ENTRY_FILE && e->type != CP_ENTRY_DIR && e->type != CP_ENTRY_SYMLINK)
		return refuse(e, err, EINVAL, "%s", type_noun(e->type));
	if (e->mode & 07000)
		return refuse(e, err, EINVAL, "setuid, setgid or sticky bit (mode %04o)",
		              e->mode & 07777);
	if (name[len - 1] == '/') {
		if (e->type != CP_ENTRY_DIR)
			return refuse(e, err, EINVAL, "name ends in '/' but it is %s",
			              type_phrase(e->type));
		len--;
	}

	/* Components: the first is the top directory. */
	const char *comp[CP_BUNDLE_MAX_PATH / 2 + 2];
	size_t clen[CP_BUNDLE_MAX_PATH / 2 + 2], n = 0;
	for (size_t i = 0; i <= len;) {
		size_t k = i;
		while (k < len && name[k] != '/')
			k++;
		if ((why = cp_bundle_component_problem(name + i, k - i)) != NULL)
			return refuse(e, err, EINVAL, "%s", why);
		comp[n] = name + i;
		clen[n++] = k - i;
		i = k + 1;
	}
	if (!v->top) {
		if (!(v->top = strndup(comp[0], clen[0])))
			return cp_error_set(err, ENOMEM, "out of memory");
	} else if (strlen(v->top) != clen[0] || memcmp(v->top, comp[0], clen[0]) != 0) {
		char shown[300];
		return refuse(e, err, EINVAL, "outside the top directory '%s/'",
		              cp_bundle_printable(v->top, shown, sizeof(shown)));
	}

	out->type = e->type;
	out->mode = e->type == CP_ENTRY_FILE  ? (e->mode & 0111 ? 0755 : 0644)
	            : e->type == CP_ENTRY_DIR ? 0755
	                                      : 0777;
	if (n == 1) {
		if (e->type != CP_ENTRY_DIR)
			return refuse(e, err, EINVAL, "the top directory is %s",
			              type_phrase(e->type));
		v->rel[0] = '\0';
		out->path = v->rel;
		out->node = 0;
		return 0;
	}

	/* Below the top: one of the bundle's names, of its type. */
	int top_dir;
	if (!cp_bundle_top_name(comp[1], clen[1], &top_dir))
		return refuse(e, err, EINVAL,
		              "'%.*s' is not a bundle name (core, sysroot/, debug/, manifest.json, "
		              "run-gdb.sh, corepack.gdb, report.txt)",
		              (int)clen[1], comp[1]);
	if (top_dir && n == 2 && e->type != CP_ENTRY_DIR)
		return refuse(e, err, EINVAL, "'%.*s' must be a directory, not %s", (int)clen[1],
		              comp[1], type_phrase(e->type));
	if (!top_dir && n > 2)
		return refuse(e, err, EINVAL, "below '%.*s', which is a file", (int)clen[1],
		              comp[1]);
	if (!top_dir && e->type != CP_ENTRY_FILE)
		return refuse(e, err, EINVAL, "'%.*s' must be a regular file, not %s", (int)clen[1],
		              comp[1], type_phrase(e->type));

	/* Every directory on the way must be one: never a symlink (nothing is
	 * written through one), never a file. */
	uint32_t id = 0;
	int r;
	for (size_t i = 1; i < n; i++) {
		uint32_t child = find_child(v, id, comp[i], clen[i]);
		int last = i == n - 1;
		if (child && !last && v->nodes[child].type != CP_ENTRY_DIR) {
			enum cp_entry_type t = (enum cp_entry_type)v->nodes[child].type;
			return refuse(e, err, EINVAL, "%s %s '%.*s'",
			              t == CP_ENTRY_SYMLINK ? "written through" : "below",
			              type_phrase(t), (int)(comp[i] + clen[i] - name), name);
		}
		if (child && last) {
			if (v->nodes[child].type == CP_ENTRY_DIR && e->type == CP_ENTRY_DIR) {
				id = child; /* a directory named again changes nothing */
				break;
			}
			return refuse(e, err, EINVAL, "duplicate: the name is already %s",
			              type_phrase((enum cp_entry_type)v->nodes[child].type));
		}
		if (!child) {
			if (last && e->type == CP_ENTRY_SYMLINK &&
			    (r = check_symlink(e, n - 1, err)) < 0)
				return r;
			if (last && e->type == CP_ENTRY_FILE) {
				if (e->size < 0)
					return refuse(e, err, EINVAL, "negative size");
				if ((uint64_t)e->size > CP_BUNDLE_MAX_TOTAL - v->total)
					return refuse(e, err, E2BIG,
					              "the bundle's files would exceed %llu bytes",
					              (unsigned long long)CP_BUNDLE_MAX_TOTAL);
				v->total += (uint64_t)e->size;
			}
			r = add_child(v, id, comp[i], clen[i], last ? e->type : CP_ENTRY_DIR,
			              &child);
			if (r == -E2BIG)
				return refuse(e, err, E2BIG, "more than %d names in the bundle",
				              CP_BUNDLE_MAX_NAMES);
			if (r < 0)
				return cp_error_set(err, ENOMEM, "out of memory");
		}
		id = child;
	}

	/* The path below the top, without a trailing '/'. */
	size_t off = (size_t)(comp[1] - name);
	memcpy(v->rel, comp[1], len - off);
	v->rel[len - off] = '\0';
	out->path = v->rel;
	out->node = id;
	/* What holds the process's memory stays private whatever the
	 * header says. */
	if (e->type == CP_ENTRY_FILE && cp_bundle_private(out->path))
		out->mode = CP_BUNDLE_PRIVATE_MODE;
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

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
	struct cp_error verr = {0};
	struct cp_entry e = {
	    .name = archive_entry_pathname(ae),
	    .type = entry_type(ae),
	    .mode = (unsigned)archive_entry_perm(ae) & 07777,
	    .size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0,
	};
	e.link = e.type == CP_ENTRY_HARDLINK  ? archive_entry_hardlink(ae)
	         : e.type == CP_ENTRY_SYMLINK ? archive_entry_symlink(ae)
	                                      : NULL;
	cp_bundle_printable(e.name ? e.name : "", r->entry, sizeof(r->entry));

	struct cp_entry_checked c;
	int rc = cp_entry_check(r->v, &e, &c, &verr);
	if (rc < 0)
		return rc == -ENOMEM ? cp_error_set(r->err, ENOMEM, "out of memory")
		                     : fail(r, -rc, "%s", verr.msg);
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
	if (node_path(r->v, (uint32_t)node, buf, size) < 0)
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
			            cp_bundle_printable(path, shown, sizeof(shown)));
	}
	return 0;
}

/* Digest the extracted file PATH the other way (SPARSE or plain) than it
 * was digested while streaming: for a file stored with holes but listed
 * with a plain sha256, or the reverse.  Interruptible: the holes of a big
 * file can take a while as zeros. */
static int digest_again(struct reader *r, const char *path, int sparse, uint8_t out[32])
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY), rc = 0;
	if (fd < 0)
		return -errno;
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
		cp_bundle_printable(f->path, shown, sizeof(shown));
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
			cp_sha256_hex(rec->digest, hex);
			cp_sha256_hex(f->sha256, want);
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
		            cp_bundle_printable(path, shown, sizeof(shown)));
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
			            cp_bundle_printable(bp, shown, sizeof(shown)),
			            cp_bundle_printable(o->path, oshown, sizeof(oshown)));
		}
	}
	return 0;
}

/* Open the bundle file PATH (SHOWN for messages) into *FD; *SIZE is its
 * size when it is a regular file, else 0 (a pipe, a FIFO). */
static int open_bundle(const char *path, const char *shown, int *fd, uint64_t *size,
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
	if (r->fd < 0 && (rc = open_bundle(r->path, r->shown, &r->fd, &r->file_size, r->err)) < 0)
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

	struct cp_error merr = {0};
	rc = cp_manifest_parse(r->manifest, r->manifest_len, &r->c->manifest, &merr);
	if (rc < 0)
		return rc == -ENOMEM ? cp_error_set(r->err, ENOMEM, "out of memory")
		                     : fail(r, -rc, "%s", merr.msg);
	if ((r->disk && (rc = check_disk(r)) < 0) ||
	    (rc = check_files(r, r->c->manifest, r->disk != NULL)) < 0 ||
	    (rc = check_objects(r, r->c->manifest)) < 0)
		return rc;
	r->c->verified = r->disk != NULL;
	return 0;
}

/* cp_bundle_read() of PATH, open as FD (and of FILE_SIZE) when FD >= 0;
 * FD is closed whatever happens. */
static int read_bundle(const char *path, int fd, uint64_t file_size,
                       const struct cp_bundle_read_opts *opts, struct cp_bundle_contents **out,
                       struct cp_error *err)
{
	struct reader r = {.path = path, .o = opts, .err = err, .fd = fd, .file_size = file_size};
	int cwd = -1, rc;
	cp_bundle_printable(path, r.shown, sizeof(r.shown));
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
	return read_bundle(path, -1, 0, opts, out, err);
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

/* ---- unpacking ------------------------------------------------------------ */

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Remove the tree at PATH without following symlinks or leaving its file
 * system.  Best effort: used to clean up. */
static void remove_tree(const char *path)
{
	nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int exists_at(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Rename without ever replacing: RENAME_NOREPLACE, or where the file
 * system lacks it, a check just before (the window is the caller's own
 * temporary directory's lifetime, not an attacker's). */
static int move_noreplace(int from, const char *name, int to)
{
	if (renameat2(from, name, to, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (exists_at(to, name))
		return -EEXIST;
	return renameat(from, name, to, name) == 0 ? 0 : -errno;
}

static int write_at(int dfd, const char *name, const char *text, mode_t mode)
{
	size_t len = strlen(text);
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		text += n;
		len -= (size_t)n;
	}
	return close(fd) == 0 ? 0 : -errno;
}

/* Our own run-gdb.sh and corepack.gdb in place of the bundle's. */
static int write_scripts(const struct cp_unpack_opts *o, const char *shown, int sfd,
                         const struct cp_manifest *m, struct cp_error *err)
{
	const struct cp_manifest_object *exe = cp_manifest_executable(m);
	const char *why, *tdb = o->trust ? m->thread_db_dir : NULL;
	char s[300];
	if (exe && (why = cp_scripts_executable_problem(exe->real_path)))
		return cp_error_set(err, EINVAL,
		                    "'%s': the executable '%s' cannot be handed to gdb: %s", shown,
		                    cp_bundle_printable(exe->real_path, s, sizeof(s)), why);
	if (tdb && (why = cp_scripts_thread_db_dir_problem(tdb)))
		return cp_error_set(
		    err, EINVAL,
		    "'%s': the libthread_db directory '%s' cannot be handed to gdb: %s", shown,
		    cp_bundle_printable(tdb, s, sizeof(s)), why);

	struct cp_scripts_input in = {
	    .executable = exe ? exe->real_path : NULL,
	    .machine = m->core_machine,
	    .thread_db_dir = tdb,
	    .trust = o->trust,
	};
	struct cp_scripts sc = {0};
	int r = cp_scripts_render(&in, &sc, err);
	if (r == 0 && ((r = write_at(sfd, CP_BUNDLE_GDB_SCRIPT, sc.gdb_script, 0644)) < 0 ||
	               (r = write_at(sfd, CP_BUNDLE_RUN_GDB, sc.run_gdb, 0755)) < 0))
		cp_error_set(err, -r, "cannot write the gdb scripts: %s", strerror(-r));
	cp_scripts_free(&sc);
	return r;
}

struct install {
	int dfd, sfd, oldfd;
	const char *dir;
	uint8_t moved[16], aside[16];
};

static void install_undo(struct install *in)
{
	for (size_t i = 0; cp_bundle_names[i]; i++)
		if (in->moved[i] && move_noreplace(in->dfd, cp_bundle_names[i], in->sfd) == 0)
			in->moved[i] = 0;
	for (size_t i = 0; cp_bundle_names[i]; i++)
		if (in->aside[i] && move_noreplace(in->oldfd, cp_bundle_names[i], in->dfd) == 0)
			in->aside[i] = 0;
}

/* Move every name from the staging directory into the target; with FORCE,
 * first move the target's own into STAGING/.old (deleted with it). */
static int install(struct install *in, int force, struct cp_error *err)
{
	int r = 0;
	const char *name = NULL;
	if (force) {
		if (mkdirat(in->sfd, ".old", 0700) < 0 ||
		    (in->oldfd = openat(in->sfd, ".old", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return cp_error_set(err, errno, "cannot make room in '%s': %s", in->dir,
			                    strerror(errno));
		for (size_t i = 0; (name = cp_bundle_names[i]); i++) {
			if (!exists_at(in->dfd, name))
				continue;
			if ((r = move_noreplace(in->dfd, name, in->oldfd)) < 0) {
				install_undo(in);
				return cp_error_set(err, -r, "cannot move '%s/%s' aside: %s",
				                    in->dir, name, strerror(-r));
			}
			in->aside[i] = 1;
		}
	}
	for (size_t i = 0; (name = cp_bundle_names[i]); i++) {
		if (!exists_at(in->sfd, name))
			continue;
		if ((r = move_noreplace(in->sfd, name, in->dfd)) < 0)
			break;
		in->moved[i] = 1;
	}
	if (r < 0) {
		install_undo(in);
		if (r == -EEXIST)
			return cp_error_set(err, EEXIST,
			                    "'%s/%s' appeared while unpacking; not replacing it",
			                    in->dir, name);
		return cp_error_set(err, -r, "cannot move '%s' into '%s': %s", name, in->dir,
		                    strerror(-r));
	}
	return 0;
}

int cp_unpack(const struct cp_unpack_opts *o, struct cp_bundle_contents **out, struct cp_error *err)
{
	const char *dir = o->dir ? o->dir : ".";
	char shown[300], dshown[300];
	struct install in = {.dfd = -1, .sfd = -1, .oldfd = -1, .dir = dshown};
	struct cp_bundle_contents *c = NULL;
	char *staging = NULL;
	int created = 0, r, bfd = -1;
	uint64_t bsize = 0;

	cp_bundle_printable(o->bundle, shown, sizeof(shown));
	cp_bundle_printable(dir, dshown, sizeof(dshown));
	/* The bundle first: "cannot open 'x'" says more than "'./core'
	 * already exists" when x is a typo. */
	if ((r = open_bundle(o->bundle, shown, &bfd, &bsize, err)) < 0)
		goto out;
	in.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (in.dfd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0777) < 0) {
			r = cp_error_set(err, errno, "cannot create directory '%s': %s", dshown,
			                 strerror(errno));
			goto out;
		}
		created = 1;
		in.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (in.dfd < 0) {
		r = cp_error_set(err, errno, "cannot open directory '%s': %s", dshown,
		                 strerror(errno));
		goto out;
	}
	for (size_t i = 0; !o->force && cp_bundle_names[i]; i++) {
		if (exists_at(in.dfd, cp_bundle_names[i])) {
			r = cp_error_set(err, EEXIST, "'%s/%s' already exists; not overwriting it",
			                 dshown, cp_bundle_names[i]);
			goto out;
		}
	}

	if (asprintf(&staging, "%s/.coreunpack-XXXXXX", dir) < 0) {
		staging = NULL;
		r = cp_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (!mkdtemp(staging)) {
		r = cp_error_set(err, errno, "cannot create a directory in '%s': %s", dshown,
		                 strerror(errno));
		free(staging);
		staging = NULL;
		goto out;
	}
	struct cp_bundle_read_opts ro = {
	    .staging = staging,
	    .cancel = o->cancel,
	    .progress = o->progress,
	    .progress_ctx = o->progress_ctx,
	    .on_entry = o->on_entry,
	    .entry_ctx = o->entry_ctx,
	};
	r = read_bundle(o->bundle, bfd, bsize, &ro, &c, err);
	bfd = -1; /* closed by read_bundle() */
	if (r < 0)
		goto out;
	if ((in.sfd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = cp_error_set(err, errno, "cannot open '%s': %s", staging, strerror(errno));
		goto out;
	}
	if ((r = write_scripts(o, shown, in.sfd, c->manifest, err)) < 0)
		goto out;
	if (o->cancel && *o->cancel) {
		r = cp_error_set(err, EINTR, "interrupted");
		goto out;
	}
	r = install(&in, o->force, err);
out:
	if (bfd >= 0)
		close(bfd);
	if (in.oldfd >= 0)
		close(in.oldfd);
	if (in.sfd >= 0)
		close(in.sfd);
	if (staging)
		remove_tree(staging);
	free(staging);
	if (in.dfd >= 0)
		close(in.dfd);
	if (r < 0 && created)
		rmdir(dir);
	if (r < 0) {
		cp_bundle_contents_free(c);
		return r;
	}
	*out = c;
	return 0;
}
