/*
 * The entry validator (include/corepack/entry_check.h): a pure function
 * over one tar header and the names accepted before it.  No I/O and no
 * libarchive, so it can be fuzzed on its own (tests/fuzz/fuzz_entries.c).
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/entry_check.h"
#include "corepack/escape.h"
#include "corepack/layout.h"

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

int cp_entry_path(const struct cp_entry_validator *v, uint32_t id, char *buf, size_t size)
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
	                    cp_escape(e->name ? e->name : "", name, sizeof(name)), why);
}

/* The symlink target T of an entry whose path below the top has DEPTH
 * components (its directory is DEPTH - 1 deep). */
static int check_symlink(const struct cp_entry *e, size_t depth, struct cp_error *err)
{
	const char *t = e->link;
	char shown[300];
	if (!t || !*t)
		return refuse(e, err, EINVAL, "symlink with an empty target");
	cp_escape(t, shown, sizeof(shown));
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
		              cp_escape(e->link ? e->link : "", shown, sizeof(shown)));
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
		              cp_escape(v->top, shown, sizeof(shown)));
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
