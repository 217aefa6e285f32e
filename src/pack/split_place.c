/*
 * Placing split DWARF files in the bundle (split_place.h): one stored copy
 * per .dwo (by DWO id) or .dwp (by object), and a relative symlink where
 * gdb 13 looks first.  Links are checked against every other name of the
 * bundle and against each other on sorted arrays, so that no entry lands
 * on or below another file or link (the unpacker refuses a bundle that
 * does that) at any number of compilation units.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/layout.h"
#include "corepack/strv.h"
#include "corepack/resolve.h"
#include "corepack/split_place.h"

static int warn(struct cp_split_plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int warn(struct cp_split_plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = cp_strv_vaddf(&p->warnings, &p->n_warnings, fmt, ap);
	va_end(ap);
	return r;
}

/*
 * BASE (a bundle directory, "sysroot/usr/lib") + "/" + REL, normalised:
 * "." and empty components dropped, ".." applied but never to BASE's first
 * component ("sysroot", "debug").  NULL with errno EINVAL when REL climbs
 * out of that, ENOMEM.
 */
static char *bundle_join(const char *base, const char *rel)
{
	size_t cap = strlen(base) + strlen(rel) + 2, len = 0;
	char *out = malloc(cap);
	if (!out) {
		errno = ENOMEM;
		return NULL;
	}
	size_t floor = strcspn(base, "/");
	const char *parts[2] = {base, rel};
	for (int k = 0; k < 2; k++) {
		for (const char *c = parts[k]; *c;) {
			size_t n = strcspn(c, "/");
			if (n == 2 && c[0] == '.' && c[1] == '.') {
				if (len <= floor) {
					free(out);
					errno = EINVAL;
					return NULL;
				}
				while (len > 0 && out[len - 1] != '/')
					len--;
				len = len > 0 ? len - 1 : 0;
			} else if (n > 0 && !(n == 1 && c[0] == '.')) {
				if (len > 0)
					out[len++] = '/';
				memcpy(out + len, c, n);
				len += n;
			}
			c += n;
			while (*c == '/')
				c++;
		}
	}
	out[len] = '\0';
	return out;
}

static char *dir_of(const char *path)
{
	char *d = strdup(path);
	char *slash = d ? strrchr(d, '/') : NULL;
	if (slash)
		*slash = '\0';
	return d;
}

/* Add LINK (taken over; NULL: ENOMEM) to E unless it has it. */
static int add_link(struct cp_split_entry *e, char *link)
{
	if (!link)
		return -ENOMEM;
	for (size_t i = 0; i < e->n_links; i++)
		if (strcmp(e->links[i], link) == 0) {
			free(link);
			return 0;
		}
	char **a = realloc(e->links, (e->n_links + 1) * sizeof(*a));
	if (!a) {
		free(link);
		return -ENOMEM;
	}
	e->links = a;
	e->links[e->n_links++] = link;
	return 0;
}

/* A new entry (BUNDLE_PATH taken over), or NULL on ENOMEM. */
static struct cp_split_entry *add_entry(struct cp_split_plan *p, size_t module,
                                        const struct cp_split_unit *unit,
                                        const struct cp_debug_file *file, enum cp_debug_kind kind,
                                        char *bundle_path)
{
	struct cp_split_entry *e =
	    bundle_path ? realloc(p->entries, (p->n_entries + 1) * sizeof(*e)) : NULL;
	if (!e) {
		free(bundle_path);
		return NULL;
	}
	p->entries = e;
	e = &p->entries[p->n_entries++];
	*e = (struct cp_split_entry){module, unit, file, kind, bundle_path, NULL, NULL, 0};
	return e;
}

static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* Link the .dwo of E (a relative name) from directory OBJDIR (a bundle
 * path), or warn why it cannot be.  -ENOMEM only. */
static int dwo_link(struct cp_split_plan *p, const struct cp_module *m, struct cp_split_entry *e,
                    const char *objdir)
{
	const struct cp_split_unit *u = e->unit;
	const char *why = NULL;
	/* gdb tries COMP_DIR/NAME first when COMP_DIR is relative. */
	char *rel = u->comp_dir && u->comp_dir[0] != '/' ? strf("%s/%s", u->comp_dir, u->dwo_name)
	                                                 : strdup(u->dwo_name);
	if (!rel)
		return -ENOMEM;
	errno = 0;
	char *link = bundle_join(objdir, rel);
	free(rel);
	if (!link && errno != EINVAL)
		return -ENOMEM;
	if (!link)
		why = "it climbs out of the directory tree";
	else if (cp_bundle_path_check(link, 0, &why) == 0)
		return add_link(e, link);
	free(link);
	return warn(p,
	            "'%s': split DWARF file '%s' cannot be linked where gdb looks for it (%s): "
	            "gdb will not find it in the bundle",
	            m->real_path, u->dwo_name, why);
}

/* The links of a .dwo: in the directory of each name gdb may open the
 * object by, or beside its debug file DBG. */
static int dwo_links(struct cp_split_plan *p, const struct cp_module *m, struct cp_split_entry *e,
                     const char *dbg)
{
	if (e->unit->absolute)
		return warn(p,
		            "'%s': split DWARF file '%s' is packed as %s, but gdb 13 opens an "
		            "absolute DW_AT_dwo_name only at that path: it will not find it in the "
		            "bundle",
		            m->real_path, e->unit->dwo_name, e->bundle_path);
	int r = 0;
	if (m->split->in_debug_file) {
		char *dir = dir_of(dbg);
		r = dir ? dwo_link(p, m, e, dir) : -ENOMEM;
		free(dir);
		return r;
	}
	for (size_t i = 0; i < m->split->n_opened && r == 0; i++) {
		char *dir = strf("%s%s", CP_BUNDLE_SYSROOT, m->split->opened[i]);
		if (dir)
			*strrchr(dir, '/') = '\0';
		r = dir ? dwo_link(p, m, e, dir) : -ENOMEM;
		free(dir);
	}
	return r;
}

/* The links of a .dwp: NAME.dwp for each name gdb may open the object
 * by, or beside its debug file DBG. */
static int dwp_links(const struct cp_module *m, struct cp_split_entry *e, const char *dbg)
{
	int r = 0;
	if (!m->split->in_debug_file) {
		for (size_t i = 0; i < m->split->n_opened && r == 0; i++)
			r = add_link(e, strf("%s%s.dwp", CP_BUNDLE_SYSROOT, m->split->opened[i]));
		return r;
	}
	char *dir = dir_of(dbg);
	if (!dir)
		return -ENOMEM;
	r = add_link(e, strf("%s.dwp", dbg));
	for (size_t i = 0; i <= m->n_names && r == 0; i++) {
		const char *name = i < m->n_names ? m->names[i].path : m->real_path;
		const char *base = strrchr(name, '/');
		if (name[0] == '/' && base[1])
			r = add_link(e, strf("%s/%s.dwp", dir, base + 1));
	}
	free(dir);
	return r;
}

/* Pass 1: an entry for each file to pack, with the links it should have. */
static int plan_entries(const struct cp_split_place_input *in, struct cp_split_plan *p)
{
	const struct cp_scan *s = in->scan;
	size_t left_out = 0;
	int r = 0;
	for (size_t i = 0; i < s->n_modules && r == 0; i++) {
		const struct cp_module *m = &s->modules[i];
		const struct cp_split_result *sp = m->split;
		const char *dbg = in->debug_paths ? in->debug_paths[i] : NULL;
		struct cp_split_entry *e;
		if (!sp || !cp_module_packable(m) || (sp->in_debug_file && !dbg))
			continue;
		if (sp->dwp) {
			if (p->n_entries >= CP_SPLIT_MAX_FILES) {
				left_out++;
				continue;
			}
			e = add_entry(p, i, NULL, sp->dwp, CP_DEBUG_KIND_DWP,
			              strf("%s/.dwp%s.dwp", CP_BUNDLE_DEBUG, m->real_path));
			r = e ? dwp_links(m, e, dbg) : -ENOMEM;
			continue;
		}
		for (size_t k = 0; k < sp->n_units && r == 0; k++) {
			const struct cp_split_unit *u = &sp->units[k];
			if (!u->file)
				continue;
			if (p->n_entries >= CP_SPLIT_MAX_FILES) {
				left_out++;
				continue;
			}
			e = add_entry(p, i, u, u->file, CP_DEBUG_KIND_DWO,
			              strf("%s/.dwo/%016llx.dwo", CP_BUNDLE_DEBUG,
			                   (unsigned long long)u->dwo_id));
			r = e ? dwo_links(p, m, e, dbg) : -ENOMEM;
		}
	}
	if (r == 0 && left_out)
		r = warn(p, "more than %d split DWARF files; %zu were left out of the bundle",
		         CP_SPLIT_MAX_FILES, left_out);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first index of sorted A (N strings) whose string is >= KEY. */
static size_t lower_bound(const char *const *a, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(a[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int sorted_has(const char *const *a, size_t n, const char *key)
{
	size_t i = lower_bound(a, n, key);
	return i < n && strcmp(a[i], key) == 0;
}

/* Whether sorted A holds NAME itself (unless SKIP_SELF), a name below it,
 * or one of its ancestors: a name that would clash with an entry NAME. */
static int sorted_clash(const char *const *a, size_t n, const char *name, int skip_self)
{
	size_t len = strlen(name);
	char *buf = malloc(len + 2);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, name, len);
	memcpy(buf + len, "/", 2);
	size_t i = lower_bound(a, n, buf);
	int clash = i < n && strncmp(a[i], buf, len + 1) == 0;
	if (!skip_self)
		clash = clash || sorted_has(a, n, name);
	for (size_t k = 0; !clash && k < len; k++) {
		if (name[k] != '/')
			continue;
		buf[k] = '\0';
		clash = sorted_has(a, n, buf);
		buf[k] = '/';
	}
	free(buf);
	return clash;
}

struct link_ref {
	const char *path;
	size_t entry, link; /* entries[entry].links[link] */
};

static int cmp_link(const void *a, const void *b)
{
	const struct link_ref *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (c)
		return c;
	if (x->entry != y->entry)
		return x->entry < y->entry ? -1 : 1;
	return (x->link > y->link) - (x->link < y->link);
}

/* The target of LINK to FILE (both bundle paths), relative to LINK's
 * directory; NULL on ENOMEM. */
static char *link_target(const char *link, const char *file)
{
	char *from = dir_of(link), *rel = NULL;
	char *from_abs = from ? strf("/%s", from) : NULL, *to_abs = strf("/%s", file);
	if (from_abs && to_abs)
		rel = cp_path_relative(from_abs, to_abs);
	free(from);
	free(from_abs);
	free(to_abs);
	return rel;
}

/* Drop link K of E (a warning was given, or another entry makes it). */
static void drop_link(struct cp_split_entry *e, size_t k)
{
	free(e->links[k]);
	e->links[k] = NULL;
}

/* Pass 2: keep the links that clash with nothing, and give them their
 * targets.  Several entries may ask for the same link to the same stored
 * file (one .dwo named by two objects' skeletons): it is made once. */
static int check_links(const struct cp_split_place_input *in, struct cp_split_plan *p)
{
	size_t n_refs = 0, n_taken = in->n_taken + p->n_entries;
	for (size_t i = 0; i < p->n_entries; i++)
		n_refs += p->entries[i].n_links;
	const char **taken = malloc((n_taken + 1) * sizeof(*taken));
	const char **paths = malloc((n_refs + 1) * sizeof(*paths));
	struct link_ref *refs = malloc((n_refs + 1) * sizeof(*refs));
	char *verdict = calloc(n_refs + 1, 1); /* 0 keep, 1 clash, 2 made by another */
	int r = -ENOMEM;
	if (!taken || !paths || !refs || !verdict)
		goto out;
	for (size_t i = 0; i < in->n_taken; i++)
		taken[i] = in->taken[i];
	n_refs = 0;
	for (size_t i = 0; i < p->n_entries; i++) {
		taken[in->n_taken + i] = p->entries[i].bundle_path;
		for (size_t k = 0; k < p->entries[i].n_links; k++)
			refs[n_refs++] = (struct link_ref){p->entries[i].links[k], i, k};
	}
	qsort(taken, n_taken, sizeof(*taken), cmp_str);
	qsort(refs, n_refs, sizeof(*refs), cmp_link);
	for (size_t i = 0; i < n_refs; i++)
		paths[i] = refs[i].path;

	r = 0;
	for (size_t i = 0, first = 0; i < n_refs && r == 0; i++) {
		if (i > 0 && strcmp(refs[i - 1].path, refs[i].path) == 0) {
			/* The same name again: one link, when it is to the same
			 * file and that link is made. */
			const struct cp_split_entry *f = &p->entries[refs[first].entry];
			const struct cp_split_entry *e = &p->entries[refs[i].entry];
			verdict[i] =
			    verdict[first] == 0 && strcmp(f->bundle_path, e->bundle_path) == 0 ? 2
			                                                                       : 1;
			continue;
		}
		first = i;
		int clash = sorted_clash(taken, n_taken, refs[i].path, 0);
		if (clash == 0)
			clash = sorted_clash(paths, n_refs, refs[i].path, 1);
		if (clash < 0)
			r = clash;
		verdict[i] = clash > 0;
	}
	for (size_t i = 0; i < n_refs && r == 0; i++) {
		struct cp_split_entry *e = &p->entries[refs[i].entry];
		const char *link = e->links[refs[i].link];
		if (verdict[i] == 1)
			r = warn(
			    p,
			    "'%s': split DWARF file '%s' cannot be linked as '%s', which another "
			    "file of the bundle needs: gdb will not find it there",
			    in->scan->modules[e->module].real_path,
			    e->unit ? e->unit->dwo_name : e->file->host_path, link);
	}
	for (size_t i = 0; i < n_refs && r == 0; i++)
		if (verdict[i])
			drop_link(&p->entries[refs[i].entry], refs[i].link);
	/* Compact each entry's links and give the rest their targets. */
	for (size_t i = 0; i < p->n_entries && r == 0; i++) {
		struct cp_split_entry *e = &p->entries[i];
		size_t n = 0;
		for (size_t k = 0; k < e->n_links; k++)
			if (e->links[k])
				e->links[n++] = e->links[k];
		e->n_links = n;
		if (n && !(e->link_targets = calloc(n, sizeof(*e->link_targets))))
			r = -ENOMEM;
		for (size_t k = 0; k < n && r == 0; k++)
			if (!(e->link_targets[k] = link_target(e->links[k], e->bundle_path)))
				r = -ENOMEM;
	}
out:
	free(taken);
	free(paths);
	free(refs);
	free(verdict);
	return r;
}

int cp_split_place(const struct cp_split_place_input *in, struct cp_split_plan **out,
                   struct cp_error *err)
{
	struct cp_split_plan *p = calloc(1, sizeof(*p));
	int r = p ? plan_entries(in, p) : -ENOMEM;
	if (r == 0)
		r = check_links(in, p);
	if (r < 0) {
		cp_split_plan_free(p);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	*out = p;
	return 0;
}

void cp_split_plan_free(struct cp_split_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_entries; i++) {
		struct cp_split_entry *e = &p->entries[i];
		for (size_t k = 0; k < e->n_links; k++) {
			free(e->links[k]);
			if (e->link_targets)
				free(e->link_targets[k]);
		}
		free(e->links);
		free(e->link_targets);
		free(e->bundle_path);
	}
	free(p->entries);
	for (size_t i = 0; i < p->n_warnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	free(p);
}
