/*
 * The packer's debug files (pack.c is the rest of the packer): what it
 * decides at open, so that its warnings come with the scan's (each
 * object's separate debug file's bundle path, the objects' gdb scripts,
 * and where the split DWARF files go, clear of every other name of the
 * bundle), and the planned entries for them when writing: the separate
 * debug files and dwz alt files under debug/, the split DWARF files and
 * the links gdb finds them by, and the gdb scripts.  Each is opened under
 * the scan's access rules, like every file read for the core.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/autoload.h"
#include "corepack/hex.h"
#include "corepack/layout.h"
#include "corepack/manifest.h"
#include "corepack/split_place.h"
#include "pack_private.h"

static char *build_id_path(const uint8_t *id, size_t len)
{
	char hex[2 * CP_BUILD_ID_MAX + 1];
	char *s;
	if (len < 2)
		return NULL;
	cp_hex(id, len, hex);
	if (asprintf(&s, "%s/.build-id/%.2s/%s.debug", CP_BUNDLE_DEBUG, hex, hex + 2) < 0)
		return NULL;
	return s;
}

/* Where the separate debug file of M goes: gdb looks a debug file up by
 * the object's build-id; an object without one by its debuglink under
 * DEBUGDIR/<object's directory>/.  NULL for none (or ENOMEM). */
static char *debug_bundle_path(const struct cp_module *m)
{
	if (!cp_module_packable(m) || !m->debug || !m->debug->file)
		return NULL;
	char *path = build_id_path(m->file_build_id, m->file_build_id_len);
	if (!path && m->debug->debuglink) {
		char *dir = strdup(m->real_path);
		if (dir) {
			*strrchr(dir, '/') = '\0';
			if (asprintf(&path, "%s%s/%s", CP_BUNDLE_DEBUG, dir, m->debug->debuglink) <
			    0)
				path = NULL;
		}
		free(dir);
	}
	return path;
}

/* Append WARNINGS (taken over, the array freed) to the scan's. */
static int take_warnings(struct cp_scan *s, char **warnings, size_t n)
{
	if (n == 0) {
		free(warnings);
		return 0;
	}
	char **w = realloc(s->warnings, (s->n_warnings + n) * sizeof(*w));
	if (!w) {
		for (size_t i = 0; i < n; i++)
			free(warnings[i]);
		free(warnings);
		return -ENOMEM;
	}
	s->warnings = w;
	for (size_t i = 0; i < n; i++)
		s->warnings[s->n_warnings++] = warnings[i];
	free(warnings);
	return 0;
}

/* The names the bundle will hold besides the split DWARF files, for
 * cp_split_place(): strings made here are kept in OWNED. */
struct taken {
	const char **names;
	size_t n;
	char **owned;
	size_t n_owned;
};

static int take(struct taken *t, const char *name, int own)
{
	const char **a = realloc(t->names, (t->n + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	t->names = a;
	if (own) {
		char **o = realloc(t->owned, (t->n_owned + 1) * sizeof(*o));
		if (!o)
			return -ENOMEM;
		t->owned = o;
		t->owned[t->n_owned++] = (char *)name;
	}
	t->names[t->n++] = name;
	return 0;
}

/* Take a name made with asprintf (NULL: ENOMEM). */
static int take_own(struct taken *t, char *name)
{
	if (!name)
		return -ENOMEM;
	int r = take(t, name, 1);
	if (r < 0)
		free(name);
	return r;
}

static char *strf(const char *a, const char *b)
{
	char *s;
	return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

/* What the packer decides before writing, so that its warnings come with
 * the scan's: the debug files' bundle paths, the gdb scripts, and where
 * the split DWARF files go (clear of every other name of the bundle). */
int cp_pack_plan(struct cp_packer *p, struct cp_error *err)
{
	const struct cp_scan *s = p->scan;
	struct taken t = {0};
	int r = -ENOMEM;
	if (!(p->debug_paths = calloc(s->n_modules + 1, sizeof(*p->debug_paths))))
		goto out;
	if ((r = cp_autoload_find(p->opts.sysroot, s, &p->autoload, err)) < 0)
		goto out;
	r = -ENOMEM;
	for (size_t i = 0; i < s->n_modules; i++) {
		const struct cp_module *m = &s->modules[i];
		if (!cp_module_packable(m))
			continue;
		if ((p->debug_paths[i] = debug_bundle_path(m)) &&
		    take(&t, p->debug_paths[i], 0) < 0)
			goto out;
		const struct cp_debug_file *alt = m->debug ? m->debug->alt : NULL;
		char *ap = alt ? build_id_path(alt->build_id, alt->build_id_len) : NULL;
		if ((ap && take_own(&t, ap) < 0) ||
		    take_own(&t, strf(CP_BUNDLE_SYSROOT, m->real_path)) < 0)
			goto out;
		for (size_t k = 0; k < m->n_links; k++)
			if (take_own(&t, strf(CP_BUNDLE_SYSROOT, m->links[k].path)) < 0)
				goto out;
	}
	for (size_t i = 0; i < p->autoload->n_files; i++)
		if (take(&t, p->autoload->files[i].bundle_path, 0) < 0)
			goto out;
	struct cp_split_place_input in = {s, (const char *const *)p->debug_paths, t.names, t.n};
	if ((r = cp_split_place(&in, &p->split, err)) < 0)
		goto out;
	r = take_warnings(p->scan, p->autoload->warnings, p->autoload->n_warnings);
	p->autoload->warnings = NULL;
	p->autoload->n_warnings = 0;
	if (r == 0)
		r = take_warnings(p->scan, p->split->warnings, p->split->n_warnings);
	p->split->warnings = NULL;
	p->split->n_warnings = 0;
out:
	if (r == -ENOMEM)
		cp_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < t.n_owned; i++)
		free(t.owned[i]);
	free(t.owned);
	free(t.names);
	return r;
}

/* A debug file of module MOD; ID (ID_LEN bytes, 0: none) is the build-id
 * a debuginfod server serves it by (--thin). */
static int add_debug_file(struct cp_packer *p, size_t mod, const struct cp_debug_file *f,
                          enum cp_debug_kind kind, char *bundle_path, const uint8_t *id,
                          size_t id_len, struct cp_error *err)
{
	if (cp_pack_reserve(&p->debug, p->n_debug, sizeof(*p->debug)) < 0) {
		free(bundle_path);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	struct cp_packed_debug *d = &p->debug[p->n_debug++];
	*d = (struct cp_packed_debug){
	    .module = mod, .file = f, .kind = kind, .bundle_path = bundle_path};
	int r = cp_pack_plan_remote(p, bundle_path, CP_REMOTE_DEBUGINFO, id, id_len, f->host_path,
	                            &f->file_id, f->fetched ? PLAN_FETCHED : 0, &d->digest,
	                            &d->remote, err);
	if (r < 0 || d->remote)
		return r;
	return cp_pack_plan_file_once(p, bundle_path, f->host_path, &f->file_id,
	                              f->fetched ? PLAN_FETCHED : 0, 0, 0644, &d->digest, err);
}

/* The split DWARF files and the links gdb finds them by (split_place.h).
 * Like every file read for the core, they are opened under the scan's
 * access rules. */
int cp_pack_add_split(struct cp_packer *p, struct cp_error *err)
{
	for (size_t i = 0; p->split && i < p->split->n_entries; i++) {
		const struct cp_split_entry *e = &p->split->entries[i];
		char *bp = strdup(e->bundle_path);
		if (!bp)
			return cp_error_set(err, ENOMEM, "out of memory");
		int r = add_debug_file(p, e->module, e->file, e->kind, bp, NULL, 0, err);
		if (r < 0)
			return r;
		p->debug[p->n_debug - 1].unit = e->unit;
		p->debug[p->n_debug - 1].links = (const char *const *)e->links;
		p->debug[p->n_debug - 1].n_links = e->n_links;
		for (size_t k = 0; k < e->n_links; k++) {
			if ((r = cp_pack_plan_symlink(p, e->links[k], e->link_targets[k], err)) < 0)
				return r;
			if (cp_pack_remember_link(p, e->links[k]) < 0)
				return cp_error_set(err, ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* The objects' gdb scripts (autoload.h), used only with coreunpack --trust;
 * opened under the scan's access rules. */
int cp_pack_add_autoload(struct cp_packer *p, struct cp_error *err)
{
	for (size_t i = 0; p->autoload && i < p->autoload->n_files; i++) {
		const struct cp_autoload_file *f = &p->autoload->files[i];
		struct cp_file_digest d;
		int r = cp_pack_plan_file_once(p, f->bundle_path, f->host_path, NULL, 0, 0, 0644,
		                               &d, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cp_pack_add_debug(struct cp_packer *p, struct cp_error *err)
{
	for (size_t i = 0; i < p->scan->n_modules; i++) {
		const struct cp_module *m = &p->scan->modules[i];
		if (!p->debug_paths[i])
			continue;
		char *path = strdup(p->debug_paths[i]);
		if (!path)
			return cp_error_set(err, ENOMEM, "out of memory");
		/* gdb and debuginfod ask for it by the object's build-id */
		int r = add_debug_file(p, i, m->debug->file, CP_DEBUG_KIND_DEBUG, path,
		                       m->file_build_id, m->file_build_id_len, err);
		if (r == 0 && m->debug->alt) {
			const struct cp_debug_file *alt = m->debug->alt;
			char *ap = build_id_path(alt->build_id, alt->build_id_len);
			if (ap)
				r = add_debug_file(p, i, alt, CP_DEBUG_KIND_DWZ, ap, alt->build_id,
				                   alt->build_id_len, err);
		}
		if (r < 0)
			return r;
	}
	return 0;
}