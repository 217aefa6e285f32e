/*
 * The packer: opens the core, scans it (modules.c), then writes the
 * bundle (bundle_write.c) in the layout of layout.h: the core, every
 * packable object at its canonical origin path under sysroot/, every
 * symlink that leads to one, the debug files under debug/.build-id/, the
 * generated gdb command file and run-gdb.sh, and last the manifest, which
 * lists every other file with its digest.  The core, report.txt and the
 * manifest (memory, command line, environment) are stored mode 0600.
 * The scan says what the core holds; what the packer decides about each
 * object (its path in the bundle, its digest) is kept here, in an array
 * parallel to the scan's modules (struct cp_packed_object, manifest.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "corepack/backtrace.h"
#include "corepack/layout.h"
#include "corepack/manifest.h"
#include "corepack/pack.h"
#include "corepack/report.h"
#include "corepack/scripts.h"
#include "corepack/sha256.h"
#include "corepack/split_place.h"
#include "corepack/template.h"

struct cp_packer {
	struct cp_pack_opts opts;
	struct cp_core *core;
	struct cp_scan *scan;
	/* Filled while writing. */
	struct cp_packed_object *objects; /* parallel to scan->modules */
	struct cp_bundle_file *files;
	size_t n_files;
	struct cp_packed_debug *debug;
	size_t n_debug;
	char **links; /* bundle paths of symlinks written */
	size_t n_links;
	struct cp_backtrace *bt; /* from cp_packer_unwind(), or NULL */
	/* Decided at open, for the warnings to come before the work. */
	char **debug_paths;           /* parallel to scan->modules: its debug file's
	                               * bundle path, or NULL */
	struct cp_split_plan *split;  /* split DWARF files and their links */
	struct cp_autoload *autoload; /* gdb scripts of the objects */
};

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
static int plan(struct cp_packer *p, struct cp_error *err)
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

int cp_packer_open(const struct cp_pack_opts *opts, struct cp_packer **out, struct cp_error *err)
{
	struct cp_packer *p = calloc(1, sizeof(*p));
	if (!p)
		return cp_error_set(err, ENOMEM, "out of memory");
	p->opts = *opts;
	int r = cp_core_open(opts->core_path, &p->core, err);
	if (r == 0) {
		struct cp_scan_opts so = {
		    .sysroot = opts->sysroot,
		    .executable = opts->executable,
		    .debug_roots = opts->debug_roots,
		    .n_debug_roots = opts->n_debug_roots,
		    .no_debug = opts->no_debug,
		};
		r = cp_scan_core(p->core, &so, &p->scan, err);
	}
	if (r == 0)
		r = plan(p, err);
	if (r < 0) {
		cp_packer_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int cp_packer_unwind(struct cp_packer *p, const struct cp_backtrace_opts *o, struct cp_error *err)
{
	struct cp_backtrace *bt = NULL;
	int r = cp_backtrace_core(p->core, p->scan, o, &bt, err);
	if (r < 0)
		return r;
	cp_backtrace_free(p->bt);
	p->bt = bt;
	return 0;
}

const struct cp_backtrace *cp_packer_backtrace(const struct cp_packer *p)
{
	return p->bt;
}

const struct cp_core *cp_packer_core(const struct cp_packer *p)
{
	return p->core;
}

const struct cp_scan *cp_packer_scan(const struct cp_packer *p)
{
	return p->scan;
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static uint64_t objects_bytes(const struct cp_packer *p)
{
	uint64_t total = 0;
	for (size_t i = 0; i < p->scan->n_modules; i++) {
		const struct cp_module *m = &p->scan->modules[i];
		if (!cp_module_packable(m))
			continue;
		total += file_size(m->host_path);
		if (m->debug && m->debug->file)
			total += file_size(m->debug->file->host_path);
		if (m->debug && m->debug->alt)
			total += file_size(m->debug->alt->host_path);
	}
	for (size_t i = 0; p->split && i < p->split->n_entries; i++)
		total += file_size(p->split->entries[i].file->host_path);
	for (size_t i = 0; p->autoload && i < p->autoload->n_files; i++)
		total += file_size(p->autoload->files[i].host_path);
	return total;
}

uint64_t cp_packer_total_bytes(const struct cp_packer *p)
{
	return p->core->file_size + objects_bytes(p);
}

uint64_t cp_packer_estimate_bytes(const struct cp_packer *p)
{
	struct stat st;
	uint64_t core = p->core->file_size;
	if (fstat(p->core->fd, &st) == 0 && (uint64_t)st.st_blocks * 512 < core)
		core = (uint64_t)st.st_blocks * 512;
	return core + objects_bytes(p);
}

static const struct cp_bundle_file *find_file(const struct cp_packer *p, const char *path)
{
	for (size_t i = 0; i < p->n_files; i++)
		if (strcmp(p->files[i].path, path) == 0)
			return &p->files[i];
	return NULL;
}

static int record_file(struct cp_packer *p, const char *path, uint64_t size, int sparse,
                       const uint8_t *sha)
{
	struct cp_bundle_file *f = realloc(p->files, (p->n_files + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	p->files = f;
	f = &p->files[p->n_files];
	if (!(f->path = strdup(path)))
		return -ENOMEM;
	f->size = size;
	f->sparse = sparse;
	memcpy(f->sha256, sha, 32);
	p->n_files++;
	return 0;
}

/* Add a file once; a second request for the same bundle path reuses the
 * first digest. */
static int add_file_once(struct cp_packer *p, struct cp_bundle_writer *w, const char *name,
                         const char *host, unsigned perm, struct cp_file_digest *d,
                         struct cp_error *err)
{
	const struct cp_bundle_file *f = find_file(p, name);
	if (f) {
		d->size = f->size;
		d->data_size = f->size;
		d->sparse = f->sparse;
		memcpy(d->sha256, f->sha256, 32);
		return 0;
	}
	int r = cp_bundle_add_file(w, name, host, perm, d, err);
	if (r == 0 && record_file(p, name, d->size, d->sparse, d->sha256) < 0)
		r = cp_error_set(err, ENOMEM, "out of memory");
	return r;
}

/* 0755 for a file anyone may execute here, else 0644. */
static unsigned object_perm(const char *host)
{
	struct stat st;
	return stat(host, &st) == 0 && (st.st_mode & 0111) ? 0755 : 0644;
}

/* The index of an earlier packed module that is the same file as ST (a
 * hardlink, a bind mount: the same inode under another canonical path),
 * or -1. */
static long same_file(const struct cp_packer *p, size_t upto, const struct stat *st)
{
	for (size_t i = 0; i < upto; i++) {
		const struct cp_module *o = &p->scan->modules[i];
		struct stat ost;
		if (p->objects[i].bundle_path && o->host_path && stat(o->host_path, &ost) == 0 &&
		    ost.st_dev == st->st_dev && ost.st_ino == st->st_ino)
			return (long)i;
	}
	return -1;
}

static int remember_link(struct cp_packer *p, const char *name)
{
	char **l = realloc(p->links, (p->n_links + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	p->links = l;
	if (!(p->links[p->n_links] = strdup(name)))
		return -ENOMEM;
	p->n_links++;
	return 0;
}

/* Store module I as a symlink to the copy of the same file packed for
 * module K. */
static int link_to_packed(struct cp_packer *p, struct cp_bundle_writer *w, size_t i, size_t k,
                          struct cp_error *err)
{
	const struct cp_module *m = &p->scan->modules[i], *o = &p->scan->modules[k];
	struct cp_packed_object *pm = &p->objects[i];
	char *dir = strdup(m->real_path);
	if (!dir)
		return cp_error_set(err, ENOMEM, "out of memory");
	*strrchr(dir, '/') = '\0';
	char *target = cp_path_relative(dir[0] ? dir : "/", o->real_path);
	free(dir);
	if (!target)
		return cp_error_set(err, ENOMEM, "out of memory");
	int r = cp_bundle_add_symlink(w, pm->bundle_path, target, err);
	free(target);
	if (r == 0 && remember_link(p, pm->bundle_path) < 0)
		r = cp_error_set(err, ENOMEM, "out of memory");
	pm->digest = p->objects[k].digest;
	return r;
}

static int add_objects(struct cp_packer *p, struct cp_bundle_writer *w, struct cp_error *err)
{
	for (size_t i = 0; i < p->scan->n_modules; i++) {
		const struct cp_module *m = &p->scan->modules[i];
		struct cp_packed_object *pm = &p->objects[i];
		if (!cp_module_packable(m))
			continue;
		if (asprintf(&pm->bundle_path, "%s%s", CP_BUNDLE_SYSROOT, m->real_path) < 0) {
			pm->bundle_path = NULL;
			return cp_error_set(err, ENOMEM, "out of memory");
		}
		struct stat st;
		long k = stat(m->host_path, &st) == 0 ? same_file(p, i, &st) : -1;
		int r;
		if (k >= 0 && strcmp(p->objects[k].bundle_path, pm->bundle_path) != 0)
			r = link_to_packed(p, w, i, (size_t)k, err);
		else
			r = add_file_once(p, w, pm->bundle_path, m->host_path,
			                  object_perm(m->host_path), &pm->digest, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_links(struct cp_packer *p, struct cp_bundle_writer *w, struct cp_error *err)
{
	for (size_t i = 0; i < p->scan->n_modules; i++) {
		const struct cp_module *m = &p->scan->modules[i];
		for (size_t k = 0; cp_module_packable(m) && k < m->n_links; k++) {
			char *name;
			if (asprintf(&name, "%s%s", CP_BUNDLE_SYSROOT, m->links[k].path) < 0)
				return cp_error_set(err, ENOMEM, "out of memory");
			int seen = 0;
			for (size_t j = 0; j < p->n_links && !seen; j++)
				seen = strcmp(p->links[j], name) == 0;
			/* A link over a packed file would replace it on extraction. */
			if (seen || find_file(p, name)) {
				free(name);
				continue;
			}
			int r = cp_bundle_add_symlink(w, name, m->links[k].target, err);
			if (r == 0 && remember_link(p, name) < 0)
				r = cp_error_set(err, ENOMEM, "out of memory");
			free(name);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int add_debug_file(struct cp_packer *p, struct cp_bundle_writer *w, size_t mod,
                          const struct cp_debug_file *f, enum cp_debug_kind kind, char *bundle_path,
                          struct cp_error *err)
{
	struct cp_packed_debug *d = realloc(p->debug, (p->n_debug + 1) * sizeof(*d));
	if (!d) {
		free(bundle_path);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	p->debug = d;
	d = &p->debug[p->n_debug++];
	*d = (struct cp_packed_debug){mod, f, kind, bundle_path, {0}, NULL, NULL, 0};
	return add_file_once(p, w, bundle_path, f->host_path, 0644, &d->digest, err);
}

/* The split DWARF files and the links gdb finds them by (split_place.h). */
static int add_split(struct cp_packer *p, struct cp_bundle_writer *w, struct cp_error *err)
{
	for (size_t i = 0; p->split && i < p->split->n_entries; i++) {
		const struct cp_split_entry *e = &p->split->entries[i];
		char *bp = strdup(e->bundle_path);
		if (!bp)
			return cp_error_set(err, ENOMEM, "out of memory");
		int r = add_debug_file(p, w, e->module, e->file, e->kind, bp, err);
		if (r < 0)
			return r;
		p->debug[p->n_debug - 1].unit = e->unit;
		p->debug[p->n_debug - 1].links = (const char *const *)e->links;
		p->debug[p->n_debug - 1].n_links = e->n_links;
		for (size_t k = 0; k < e->n_links; k++) {
			if ((r = cp_bundle_add_symlink(w, e->links[k], e->link_targets[k], err)) <
			    0)
				return r;
			if (remember_link(p, e->links[k]) < 0)
				return cp_error_set(err, ENOMEM, "out of memory");
		}
	}
	return 0;
}

/* The objects' gdb scripts (autoload.h), used only with coreunpack --trust. */
static int add_autoload(struct cp_packer *p, struct cp_bundle_writer *w, struct cp_error *err)
{
	for (size_t i = 0; p->autoload && i < p->autoload->n_files; i++) {
		const struct cp_autoload_file *f = &p->autoload->files[i];
		struct cp_file_digest d;
		int r = add_file_once(p, w, f->bundle_path, f->host_path, 0644, &d, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_debug(struct cp_packer *p, struct cp_bundle_writer *w, struct cp_error *err)
{
	for (size_t i = 0; i < p->scan->n_modules; i++) {
		const struct cp_module *m = &p->scan->modules[i];
		if (!p->debug_paths[i])
			continue;
		char *path = strdup(p->debug_paths[i]);
		if (!path)
			return cp_error_set(err, ENOMEM, "out of memory");
		int r = add_debug_file(p, w, i, m->debug->file, CP_DEBUG_KIND_DEBUG, path, err);
		if (r == 0 && m->debug->alt) {
			const struct cp_debug_file *alt = m->debug->alt;
			char *ap = build_id_path(alt->build_id, alt->build_id_len);
			if (ap)
				r = add_debug_file(p, w, i, alt, CP_DEBUG_KIND_DWZ, ap, err);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* The packed module of ROLE, or NULL. */
static const struct cp_module *find_role(const struct cp_packer *p, enum cp_module_role role)
{
	for (size_t i = 0; i < p->scan->n_modules; i++)
		if (p->scan->modules[i].role == role && p->objects[i].bundle_path)
			return &p->scan->modules[i];
	return NULL;
}

static char *dir_of(const char *path)
{
	char *d = path ? strdup(path) : NULL;
	if (d)
		*strrchr(d, '/') = '\0';
	return d;
}

static int add_buffer(struct cp_packer *p, struct cp_bundle_writer *w, const char *name,
                      const char *text, unsigned perm, struct cp_error *err)
{
	struct cp_sha256 s;
	uint8_t digest[32];
	size_t len = strlen(text);
	cp_sha256_init(&s);
	cp_sha256_update(&s, text, len);
	cp_sha256_final(&s, digest);
	int r = cp_bundle_add_buffer(w, name, text, len, perm, err);
	if (r == 0 && record_file(p, name, len, 0, digest) < 0)
		r = cp_error_set(err, ENOMEM, "out of memory");
	return r;
}

static int add_scripts(struct cp_packer *p, struct cp_bundle_writer *w, struct cp_error *err)
{
	const struct cp_module *exe = find_role(p, CP_ROLE_EXECUTABLE);
	const struct cp_module *tdb = find_role(p, CP_ROLE_THREAD_DB);
	char *tdb_dir = tdb ? dir_of(tdb->real_path) : NULL;
	int scripts = 0;
	for (size_t i = 0; p->autoload && i < p->autoload->n_files; i++)
		scripts |= p->autoload->files[i].is_script;
	struct cp_scripts_input in = {
	    .executable = exe ? exe->real_path : NULL,
	    .machine = cp_machine_name(p->core->machine),
	    .thread_db_dir = tdb_dir,
	    .solib_dirs = (const char *const *)p->scan->solib_dirs,
	    .n_solib_dirs = p->scan->n_solib_dirs,
	    .bundle_scripts = scripts,
	    .trust = 0,
	};
	struct cp_scripts s = {0};
	int r = tdb && !tdb_dir ? cp_error_set(err, ENOMEM, "out of memory")
	                        : cp_scripts_render(&in, &s, err);
	if (r == 0 && (r = add_buffer(p, w, CP_BUNDLE_GDB_SCRIPT, s.gdb_script, 0644, err)) == 0)
		r = add_buffer(p, w, CP_BUNDLE_RUN_GDB, s.run_gdb, 0755, err);
	cp_scripts_done(&s);
	free(tdb_dir);
	return r;
}

/* report.txt: the crash summary and every thread's backtrace. */
static int add_report(struct cp_packer *p, struct cp_bundle_writer *w, struct cp_error *err)
{
	char *text = NULL;
	if (!p->bt)
		return 0;
	int r = cp_report_render(p->core, p->scan, p->bt, 1, &text, err);
	if (r == 0)
		r = add_buffer(p, w, CP_BUNDLE_REPORT, text, CP_BUNDLE_PRIVATE_MODE, err);
	free(text);
	return r;
}

static int add_manifest(struct cp_packer *p, struct cp_bundle_writer *w,
                        const struct cp_file_digest *core_digest, struct cp_error *err)
{
	const struct cp_module *tdb = find_role(p, CP_ROLE_THREAD_DB);
	char *tdb_dir = tdb ? dir_of(tdb->real_path) : NULL;
	const char *base = strrchr(p->opts.core_path, '/');
	struct cp_manifest_input in = {
	    .core = p->core,
	    .core_name = base ? base + 1 : p->opts.core_path,
	    .core_digest = *core_digest,
	    .scan = p->scan,
	    .objects = p->objects,
	    .sysroot = p->opts.sysroot,
	    .debug = p->debug,
	    .n_debug = p->n_debug,
	    .files = p->files,
	    .n_files = p->n_files,
	    .thread_db_dir = tdb_dir,
	    .autoload = p->autoload,
	    .created = time(NULL),
	    .backtrace = p->bt,
	};
	char *text = NULL;
	int r = cp_manifest_build(&in, &text, err);
	if (r == 0)
		r = cp_bundle_add_buffer(w, CP_BUNDLE_MANIFEST, text, strlen(text),
		                         CP_BUNDLE_PRIVATE_MODE, err);
	free(text);
	free(tdb_dir);
	return r;
}

int cp_packer_write(struct cp_packer *p, struct cp_pack_stats *stats, struct cp_error *err)
{
	struct cp_bundle_writer *w = NULL;
	struct cp_file_digest core_digest = {0};
	char *top = cp_bundle_top_from_name(p->opts.output);
	if (!top)
		return cp_error_set(err, ENOMEM, "out of memory");
	if (!p->objects && !(p->objects = calloc(p->scan->n_modules + 1, sizeof(*p->objects)))) {
		free(top);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	struct cp_bundle_opts bo = p->opts.bundle;
	bo.progress_total = cp_packer_total_bytes(p);
	int r = cp_bundle_writer_open(p->opts.output, top, &bo, &w, err);
	free(top);
	if (r < 0)
		return r;
	if ((r = cp_bundle_add_file(w, CP_BUNDLE_CORE, p->opts.core_path, CP_BUNDLE_PRIVATE_MODE,
	                            &core_digest, err)) < 0 ||
	    (r = record_file(p, CP_BUNDLE_CORE, core_digest.size, core_digest.sparse,
	                     core_digest.sha256)) < 0 ||
	    (r = add_objects(p, w, err)) < 0 || (r = add_links(p, w, err)) < 0 ||
	    (r = add_debug(p, w, err)) < 0 || (r = add_split(p, w, err)) < 0 ||
	    (r = add_autoload(p, w, err)) < 0 || (r = add_scripts(p, w, err)) < 0 ||
	    (r = add_report(p, w, err)) < 0 || (r = add_manifest(p, w, &core_digest, err)) < 0) {
		if (r == -ENOMEM)
			cp_error_set(err, ENOMEM, "out of memory");
		cp_bundle_writer_abort(w);
		return r;
	}
	if ((r = cp_bundle_writer_commit(w, err)) < 0)
		return r;
	if (stats) {
		memset(stats, 0, sizeof(*stats));
		for (size_t i = 0; i < p->scan->n_modules; i++)
			stats->n_objects += p->objects[i].bundle_path != NULL;
		for (size_t i = 0; i < p->n_files; i++) {
			stats->input_bytes += p->files[i].size;
			stats->n_debug_files += strncmp(p->files[i].path, CP_BUNDLE_DEBUG "/",
			                                strlen(CP_BUNDLE_DEBUG) + 1) == 0;
		}
		stats->n_links = p->n_links;
		stats->bundle_size = file_size(p->opts.output);
	}
	return 0;
}

void cp_packer_free(struct cp_packer *p)
{
	if (!p)
		return;
	cp_backtrace_free(p->bt);
	cp_split_plan_free(p->split);
	cp_autoload_free(p->autoload);
	for (size_t i = 0; p->debug_paths && i < p->scan->n_modules; i++)
		free(p->debug_paths[i]);
	free(p->debug_paths);
	for (size_t i = 0; p->objects && i < p->scan->n_modules; i++)
		free(p->objects[i].bundle_path);
	free(p->objects);
	cp_scan_free(p->scan);
	cp_core_free(p->core);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i].path);
	free(p->files);
	for (size_t i = 0; i < p->n_debug; i++)
		free(p->debug[i].bundle_path);
	free(p->debug);
	for (size_t i = 0; i < p->n_links; i++)
		free(p->links[i]);
	free(p->links);
	free(p);
}
