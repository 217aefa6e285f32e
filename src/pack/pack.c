/*
 * The packer: opens the core, scans it (modules.c), then writes the
 * bundle (bundle_write.c) in the layout of layout.h.  First it plans every
 * entry: the core, every packable object at its canonical origin path
 * under sysroot/, every symlink that leads to one, the debug files under
 * debug/.build-id/, the generated gdb command file and run-gdb.sh, the
 * report; each file's size and holes are probed without reading it.  Then
 * it writes the manifest first, which lists every file with its size and
 * digest kind (so the unpacker knows what is coming before any data), the
 * planned entries, each file read once and digested on the way, and last
 * digests.json.  The core, report.txt and the manifest (memory, command
 * line, environment) are stored mode 0600.  The scan says what the core
 * holds; what the packer decides about each object (its path in the
 * bundle, its digest) is kept here, in an array parallel to the scan's
 * modules (struct cp_packed_object, manifest.h).  The debug files' part of the
 * plan (decided at open, planned when writing) is in pack_debug.c; the
 * state both share is in pack_private.h.
 *
 * Every file is packed from a descriptor: the core from the one it was
 * scanned through, objects and debug files opened under the scan's access
 * rules (access.h) when probed and again when written, and required to be
 * the very files checked.  A core may name tens of thousands of files, so
 * what was planned is looked up in trees (tsearch) by bundle path and by
 * (device, inode), never by walking everything planned so far.
 */
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "corepack/backtrace.h"
#include "corepack/digest.h"
#include "corepack/io.h"
#include "corepack/layout.h"
#include "corepack/manifest.h"
#include "corepack/pack.h"
#include "corepack/report.h"
#include "corepack/scripts.h"
#include "corepack/sha256.h"
#include "corepack/split_place.h"
#include "corepack/template.h"
#include "pack_private.h"

struct name_ref {
	const char *name; /* points into files[] or links[], which own it */
	size_t index;
};

struct id_ref {
	uint64_t dev, ino;
	size_t module;
};

static int cmp_name_ref(const void *a, const void *b)
{
	return strcmp(((const struct name_ref *)a)->name, ((const struct name_ref *)b)->name);
}

static int cmp_id_ref(const void *a, const void *b)
{
	const struct id_ref *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Index NAME (owned elsewhere) as INDEX in *ROOT; -ENOMEM. */
static int index_name(void **root, const char *name, size_t index)
{
	struct name_ref *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = (struct name_ref){name, index};
	struct name_ref **at = tsearch(n, root, cmp_name_ref);
	if (!at || *at != n)
		free(n);
	return at ? 0 : -ENOMEM;
}

/* The index NAME was given in ROOT, or -1. */
static long find_name(void *const *root, const char *name)
{
	struct name_ref key = {name, 0};
	struct name_ref **at = tfind(&key, root, cmp_name_ref);
	return at ? (long)(*at)->index : -1;
}

/* Grow an array of N elements of SIZE to hold one more, doubling. */
int cp_pack_reserve(void *arrp, size_t n, size_t size)
{
	void **arr = arrp;
	if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) {
		void *a = reallocarray(*arr, n ? n * 2 : 8, size);
		if (!a)
			return -ENOMEM;
		*arr = a;
	}
	return 0;
}

int cp_packer_open(const struct cp_pack_opts *opts, struct cp_packer **out, struct cp_error *err)
{
	struct cp_packer *p = calloc(1, sizeof(*p));
	if (!p)
		return cp_error_set(err, ENOMEM, "out of memory");
	p->opts = *opts;
	int r = opts->use_core_fd ? cp_core_open_fd(opts->core_fd, opts->core_path, &p->core, err)
	                          : cp_core_open(opts->core_path, &p->core, err);
	if (r == 0) {
		struct cp_scan_opts so = {
		    .sysroot = opts->sysroot,
		    .executable = opts->executable,
		    .debug_roots = opts->debug_roots,
		    .n_debug_roots = opts->n_debug_roots,
		    .no_debug = opts->no_debug,
		    .map_files = opts->map_files,
		    .have_owner = opts->have_owner,
		    .owner_uid = opts->owner_uid,
		    .owner_gid = opts->owner_gid,
		    .remote = opts->remote,
		};
		r = cp_scan_core(p->core, &so, &p->scan, err);
	}
	if (r == 0)
		r = cp_pack_plan(p, err);
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

/* A + B, saturating: sizes from files are checked, their sum too. */
static uint64_t add_size(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t path_size(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

/* Sizes as checked by the scan: nothing is looked at again for them. */
static uint64_t objects_bytes(const struct cp_packer *p)
{
	uint64_t total = 0;
	for (size_t i = 0; i < p->scan->n_modules; i++) {
		const struct cp_module *m = &p->scan->modules[i];
		if (!cp_module_packable(m))
			continue;
		total = add_size(total, m->file_id.size);
		if (m->debug && m->debug->file)
			total = add_size(total, m->debug->file->file_id.size);
		if (m->debug && m->debug->alt)
			total = add_size(total, m->debug->alt->file_id.size);
	}
	/* Split DWARF files and gdb scripts were found by searching, not
	 * checked by the scan: their sizes as they are now (the bundle's
	 * entries are held to what was probed when planned). */
	for (size_t i = 0; p->split && i < p->split->n_entries; i++)
		total = add_size(total, path_size(p->split->entries[i].file->host_path));
	for (size_t i = 0; p->autoload && i < p->autoload->n_files; i++)
		total = add_size(total, path_size(p->autoload->files[i].host_path));
	return total;
}

uint64_t cp_packer_total_bytes(const struct cp_packer *p)
{
	return add_size(p->core->file_size, objects_bytes(p));
}

uint64_t cp_packer_estimate_bytes(const struct cp_packer *p)
{
	struct stat st;
	uint64_t core = p->core->file_size;
	if (fstat(p->core->fd, &st) == 0 && (uint64_t)st.st_blocks * 512 < core)
		core = (uint64_t)st.st_blocks * 512;
	return add_size(core, objects_bytes(p));
}

static const struct cp_bundle_file *find_file(const struct cp_packer *p, const char *path)
{
	long i = find_name(&p->files_by_name, path);
	return i < 0 ? NULL : &p->files[i];
}

static int record_file(struct cp_packer *p, const char *path, uint64_t size,
                       enum cp_digest_kind kind, const uint8_t *digest)
{
	if (cp_pack_reserve(&p->files, p->n_files, sizeof(*p->files)) < 0)
		return -ENOMEM;
	struct cp_bundle_file *f = &p->files[p->n_files];
	if (!(f->path = strdup(path)))
		return -ENOMEM;
	f->size = size;
	f->sparse = cp_digest_kind_sparse(kind);
	f->xxh3 = cp_digest_kind_xxh3(kind);
	if (digest)
		memcpy(f->digest, digest, cp_digest_kind_size(kind));
	else
		memset(f->digest, 0, sizeof(f->digest));
	p->n_files++;
	return index_name(&p->files_by_name, f->path, p->n_files - 1);
}

/* A new entry at the end of the plan, NAME copied; NULL on ENOMEM. */
static struct planned *plan_add(struct cp_packer *p, int kind, const char *name)
{
	if (cp_pack_reserve(&p->plan, p->n_plan, sizeof(*p->plan)) < 0)
		return NULL;
	struct planned *e = &p->plan[p->n_plan];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	if (!(e->name = strdup(name)))
		return NULL;
	p->n_plan++;
	return e;
}

/*
 * Open a planned file: the core from its descriptor (duplicated), the
 * given executable (-e) with our own rights, anything else under the
 * scan's access rules and only if it is the file checked (ID).
 */
static int open_planned(const struct cp_packer *p, const char *host, const struct cp_file_id *id,
                        int given, int core, struct stat *st, struct cp_error *err)
{
	if (core) {
		int fd = fcntl(p->core->fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0 || fstat(fd, st) < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			return cp_error_set(err, e, "cannot read '%s': %s", host, strerror(e));
		}
		return fd;
	}
	if (given == PLAN_FETCHED)
		return cp_access_open(NULL, host, id, st, err);
	int fd = given ? cp_open_regular(host, 0, st)
	               : cp_access_open(&p->scan->access, host, id, st, err);
	if (fd < 0 && given)
		return cp_error_set(err, -fd, "cannot open '%s': %s", host,
		                    fd == -EINVAL ? "not a regular file" : strerror(-fd));
	return fd;
}

/*
 * Plan a file once; a second request for the same bundle path reuses the
 * first.  D receives its size and holes (what the manifest says).  The
 * file is HOST as open_planned() opens it.  PERM 0 means 0755 when its
 * mode lets anyone execute it, else 0644.
 */
int cp_pack_plan_file_once(struct cp_packer *p, const char *name, const char *host,
                           const struct cp_file_id *id, int given, int core, unsigned perm,
                           struct cp_file_digest *d, struct cp_error *err)
{
	const struct cp_bundle_file *f = find_file(p, name);
	if (f) {
		d->size = f->size;
		d->data_size = f->size;
		d->sparse = f->sparse;
		d->xxh3 = f->xxh3;
		return 0;
	}
	struct stat st;
	int fd = open_planned(p, host, id, given, core, &st, err);
	if (fd < 0)
		return fd;
	if (perm == 0)
		perm = st.st_mode & 0111 ? 0755 : 0644;
	int r = cp_bundle_probe_fd(fd, host, d, err);
	close(fd);
	if (r < 0)
		return r;
	/* The core is digested with XXH3-128: SHA-256 of gigabytes would
	 * compete with the compression for the CPUs (doc/bundle-format.md,
	 * "Digests"); what users compare with sha256sum keeps SHA-256. */
	d->xxh3 = core;
	struct planned *e = plan_add(p, PLAN_FILE, name);
	if (!e || record_file(p, name, d->size, cp_digest_kind_for(d->sparse, d->xxh3), NULL) < 0)
		return cp_error_set(err, ENOMEM, "out of memory");
	e->host = host;
	e->id = id;
	e->given = given;
	e->core = core;
	e->perm = perm;
	e->probed = *d;
	e->file = p->n_files - 1;
	return 0;
}

/*
 * --thin: ask the debuginfod servers for the file HOST (to be NAME in the
 * bundle) by build-id ID, and leave it out only if what they send is this
 * very file: the same size and SHA-256 (asked, not assumed).  *OUT is set
 * when it is left out (recorded in p->remote; D receives its size).  A
 * file no server has, or one that differs, stays in the bundle (so does
 * one whose transfer was cancelled: the writer stops later); only ENOMEM
 * and an unreadable local file are errors.
 */
int cp_pack_plan_remote(struct cp_packer *p, const char *name, enum cp_remote_kind kind,
                        const uint8_t *id, size_t id_len, const char *host,
                        const struct cp_file_id *fid, int given, struct cp_file_digest *d, int *out,
                        struct cp_error *err)
{
	*out = 0;
	if (!p->opts.thin || !p->opts.remote || id_len == 0 || find_file(p, name))
		return 0;
	long k = find_name(&p->remote_by_name, name);
	if (k >= 0) {
		d->size = d->data_size = p->remote[k].size;
		d->sparse = 0;
		d->xxh3 = 0;
		*out = 1;
		return 0;
	}
	struct stat st;
	int fd = open_planned(p, host, fid, given, 0, &st, err);
	if (fd < 0)
		return fd;
	uint8_t here[32], there[32];
	uint64_t size, rsize;
	int r = cp_digest_fd(fd, host, 0, here, &size, err);
	close(fd);
	if (r < 0)
		return r;
	int rfd;
	if (size == 0 ||
	    cp_remote_fetch(p->opts.remote, kind, id, id_len, size, &rfd, NULL, NULL) < 0)
		return 0; /* not served (or not reachable): packed */
	r = cp_digest_fd(rfd, "debuginfod", 0, there, &rsize, NULL);
	close(rfd);
	if (r < 0 || rsize != size || memcmp(here, there, 32) != 0)
		return 0; /* the server's file is another: packed */
	if (cp_pack_reserve(&p->remote, p->n_remote, sizeof(*p->remote)) < 0)
		return cp_error_set(err, ENOMEM, "out of memory");
	struct cp_remote_file *rf = &p->remote[p->n_remote];
	memset(rf, 0, sizeof(*rf));
	if (!(rf->bundle_path = strdup(name)))
		return cp_error_set(err, ENOMEM, "out of memory");
	rf->kind = kind;
	memcpy(rf->build_id, id, id_len);
	rf->build_id_len = id_len;
	rf->size = size;
	memcpy(rf->sha256, here, 32);
	p->n_remote++;
	if (index_name(&p->remote_by_name, rf->bundle_path, p->n_remote - 1) < 0)
		return cp_error_set(err, ENOMEM, "out of memory");
	d->size = d->data_size = size;
	d->sparse = 0;
	d->xxh3 = 0;
	*out = 1;
	return 0;
}

int cp_pack_plan_symlink(struct cp_packer *p, const char *name, const char *target,
                         struct cp_error *err)
{
	struct planned *e = plan_add(p, PLAN_SYMLINK, name);
	if (!e || !(e->text = strdup(target)))
		return cp_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* The index of an earlier packed module that is the same file as module I
 * (a hardlink, a bind mount: the same inode under another canonical path),
 * or -1; module I is indexed as that file when it is the first.  -2: out
 * of memory. */
static long same_file(struct cp_packer *p, size_t i)
{
	const struct cp_file_id *id = &p->scan->modules[i].file_id;
	if (!id->known)
		return -1;
	struct id_ref *ref = malloc(sizeof(*ref));
	if (!ref)
		return -2;
	*ref = (struct id_ref){id->dev, id->ino, i};
	struct id_ref **at = tsearch(ref, &p->objects_by_id, cmp_id_ref);
	if (!at) {
		free(ref);
		return -2;
	}
	if (*at != ref) {
		free(ref);
		return (long)(*at)->module;
	}
	return -1;
}

int cp_pack_remember_link(struct cp_packer *p, const char *name)
{
	if (cp_pack_reserve(&p->links, p->n_links, sizeof(*p->links)) < 0)
		return -ENOMEM;
	if (!(p->links[p->n_links] = strdup(name)))
		return -ENOMEM;
	p->n_links++;
	return index_name(&p->links_by_name, p->links[p->n_links - 1], p->n_links - 1);
}

/* Store module I as a symlink to the copy of the same file packed for
 * module K. */
static int link_to_packed(struct cp_packer *p, size_t i, size_t k, struct cp_error *err)
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
	int r = cp_pack_plan_symlink(p, pm->bundle_path, target, err);
	free(target);
	if (r == 0 && cp_pack_remember_link(p, pm->bundle_path) < 0)
		r = cp_error_set(err, ENOMEM, "out of memory");
	pm->digest = p->objects[k].digest;
	return r;
}

static int add_objects(struct cp_packer *p, struct cp_error *err)
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
		long k = same_file(p, i);
		int r;
		if (k == -2)
			return cp_error_set(err, ENOMEM, "out of memory");
		if (k >= 0 && strcmp(p->objects[k].bundle_path, pm->bundle_path) != 0) {
			r = link_to_packed(p, i, (size_t)k, err);
		} else {
			r = cp_pack_plan_remote(p, pm->bundle_path, CP_REMOTE_EXECUTABLE,
			                        m->file_build_id, m->file_build_id_len,
			                        m->host_path, &m->file_id, m->given, &pm->digest,
			                        &pm->remote, err);
			if (r == 0 && !pm->remote)
				r = cp_pack_plan_file_once(p, pm->bundle_path, m->host_path,
				                           &m->file_id, m->given, 0, 0, &pm->digest,
				                           err);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int add_links(struct cp_packer *p, struct cp_error *err)
{
	for (size_t i = 0; i < p->scan->n_modules; i++) {
		const struct cp_module *m = &p->scan->modules[i];
		for (size_t k = 0; cp_module_packable(m) && k < m->n_links; k++) {
			char *name;
			if (asprintf(&name, "%s%s", CP_BUNDLE_SYSROOT, m->links[k].path) < 0)
				return cp_error_set(err, ENOMEM, "out of memory");
			int seen = find_name(&p->links_by_name, name) >= 0;
			/* A link over a packed file would replace it on extraction
			 * (over a remote one, keep it from being placed). */
			if (seen || find_file(p, name) ||
			    find_name(&p->remote_by_name, name) >= 0) {
				free(name);
				continue;
			}
			int r = cp_pack_plan_symlink(p, name, m->links[k].target, err);
			if (r == 0 && cp_pack_remember_link(p, name) < 0)
				r = cp_error_set(err, ENOMEM, "out of memory");
			free(name);
			if (r < 0)
				return r;
		}
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

/* Plan TEXT as the file NAME (TEXT is taken over). */
static int add_buffer(struct cp_packer *p, const char *name, char *text, unsigned perm,
                      struct cp_error *err)
{
	struct cp_sha256 s;
	uint8_t digest[32];
	size_t len = strlen(text);
	cp_sha256_init(&s);
	cp_sha256_update(&s, text, len);
	cp_sha256_final(&s, digest);
	struct planned *e = plan_add(p, PLAN_BUFFER, name);
	if (!e || record_file(p, name, len, CP_DIGEST_SHA256, digest) < 0) {
		free(text);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	e->text = text;
	e->perm = perm;
	e->file = p->n_files - 1;
	return 0;
}

/* Packed objects whose debug file comes with a dwz alt file (one
 * CP_DEBUG_KIND_DWZ entry each): lldb 14 cannot read their DWARF. */
static size_t count_dwz(const struct cp_packer *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_debug; i++)
		n += p->debug[i].kind == CP_DEBUG_KIND_DWZ;
	return n;
}

static int add_scripts(struct cp_packer *p, struct cp_error *err)
{
	const struct cp_module *exe = find_role(p, CP_ROLE_EXECUTABLE);
	const struct cp_module *tdb = find_role(p, CP_ROLE_THREAD_DB);
	const struct cp_module *loader = cp_scan_loader(p->scan);
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
	    .n_dwz = count_dwz(p),
	};
	/* `ld.so PROGRAM`: gdb loads the loader, then the program's symbols. */
	if (exe && loader && p->objects[loader - p->scan->modules].bundle_path) {
		in.executable = loader->real_path;
		in.program = exe->real_path;
		in.program_offset = p->scan->program_bias;
	}
	struct cp_scripts s = {0};
	int r = tdb && !tdb_dir ? cp_error_set(err, ENOMEM, "out of memory")
	                        : cp_scripts_render(&in, &s, err);
	if (r == 0) {
		r = add_buffer(p, CP_BUNDLE_GDB_SCRIPT, s.gdb_script, 0644, err);
		s.gdb_script = NULL;
	}
	if (r == 0) {
		r = add_buffer(p, CP_BUNDLE_RUN_GDB, s.run_gdb, 0755, err);
		s.run_gdb = NULL;
	}
	if (r == 0) {
		r = add_buffer(p, CP_BUNDLE_RUN_LLDB, s.run_lldb, 0755, err);
		s.run_lldb = NULL;
	}
	cp_scripts_done(&s);
	free(tdb_dir);
	return r;
}

/* report.txt: the crash summary and every thread's backtrace. */
static int add_report(struct cp_packer *p, struct cp_error *err)
{
	char *text = NULL;
	if (!p->bt)
		return 0;
	int r = cp_report_render(p->core, p->scan, p->bt, 1, &text, err);
	if (r == 0)
		r = add_buffer(p, CP_BUNDLE_REPORT, text, CP_BUNDLE_PRIVATE_MODE, err);
	return r;
}

static int write_manifest(struct cp_packer *p, struct cp_bundle_writer *w,
                          const struct cp_file_digest *core_digest, struct cp_error *err)
{
	const struct cp_module *tdb = find_role(p, CP_ROLE_THREAD_DB);
	char *tdb_dir = tdb ? dir_of(tdb->real_path) : NULL;
	const char *base = strrchr(p->opts.core_path, '/');
	struct cp_manifest_input in = {
	    .core = p->core,
	    .core_name = base ? base + 1 : p->opts.core_path,
	    .core_compression = p->opts.core_compression,
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
	    .remote = p->remote,
	    .n_remote = p->n_remote,
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

/* The planned file E, opened again as it was probed. */
static int add_planned_file(const struct cp_packer *p, struct cp_bundle_writer *w,
                            const struct planned *e, struct cp_file_digest *d, struct cp_error *err)
{
	struct stat st;
	int fd = open_planned(p, e->host, e->id, e->given, e->core, &st, err);
	if (fd < 0)
		return fd;
	int r = cp_bundle_add_fd_probed(w, e->name, fd, e->host, e->perm, &e->probed, d, err);
	close(fd);
	return r;
}

/* Every planned entry, in order; the files' digests into p->files. */
static int write_planned(struct cp_packer *p, struct cp_bundle_writer *w, struct cp_error *err)
{
	for (size_t i = 0; i < p->n_plan; i++) {
		struct planned *e = &p->plan[i];
		struct cp_file_digest d;
		int r = 0;
		switch (e->kind) {
		case PLAN_FILE:
			r = add_planned_file(p, w, e, &d, err);
			if (r == 0)
				memcpy(p->files[e->file].digest, d.digest, sizeof(d.digest));
			break;
		case PLAN_SYMLINK:
			r = cp_bundle_add_symlink(w, e->name, e->text, err);
			break;
		case PLAN_BUFFER:
			r = cp_bundle_add_buffer(w, e->name, e->text, strlen(e->text), e->perm,
			                         err);
			break;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_digests(struct cp_packer *p, struct cp_bundle_writer *w, struct cp_error *err)
{
	char *text = NULL;
	int r = cp_manifest_digests_build(p->files, p->n_files, &text, err);
	if (r == 0)
		r = cp_bundle_add_buffer(w, CP_BUNDLE_DIGESTS, text, strlen(text), 0644, err);
	free(text);
	return r;
}

int cp_packer_write(struct cp_packer *p, struct cp_pack_stats *stats, struct cp_error *err)
{
	struct cp_bundle_writer *w = NULL;
	struct cp_file_digest core_digest = {0};
	int r;
	if (!p->objects && !(p->objects = calloc(p->scan->n_modules + 1, sizeof(*p->objects))))
		return cp_error_set(err, ENOMEM, "out of memory");
	/* The plan, then the manifest from it, then the entries. */
	/* The core from the descriptor it was scanned through: the name may
	 * point elsewhere by now. */
	if (!p->plan &&
	    ((r = cp_pack_plan_file_once(p, CP_BUNDLE_CORE, p->opts.core_path, NULL, 0, 1,
	                                 CP_BUNDLE_PRIVATE_MODE, &core_digest, err)) < 0 ||
	     (r = add_objects(p, err)) < 0 || (r = add_links(p, err)) < 0 ||
	     (r = cp_pack_add_debug(p, err)) < 0 || (r = cp_pack_add_split(p, err)) < 0 ||
	     (r = cp_pack_add_autoload(p, err)) < 0 || (r = add_scripts(p, err)) < 0 ||
	     (r = add_report(p, err)) < 0)) {
		if (r == -ENOMEM)
			cp_error_set(err, ENOMEM, "out of memory");
		return r;
	}
	core_digest.size = p->files[0].size;
	core_digest.sparse = p->files[0].sparse;

	char *top = cp_bundle_top_from_name(p->opts.output);
	if (!top)
		return cp_error_set(err, ENOMEM, "out of memory");
	struct cp_bundle_opts bo = p->opts.bundle;
	bo.progress_total = cp_packer_total_bytes(p);
	/* coreunpack refuses a bundle past this (layout.h): none is written. */
	if (bo.progress_total > CP_BUNDLE_MAX_TOTAL) {
		free(top);
		return cp_error_set(err, EFBIG,
		                    "'%s': the core and its files are %llu bytes (holes included), "
		                    "more than a bundle holds (1 TiB)",
		                    p->core->path, (unsigned long long)bo.progress_total);
	}
	/* what is read: the files left out are not */
	for (size_t i = 0; i < p->n_remote; i++)
		bo.progress_total -= bo.progress_total < p->remote[i].size ? 0 : p->remote[i].size;
	r = cp_bundle_writer_open(p->opts.output, top, &bo, &w, err);
	free(top);
	if (r < 0)
		return r;
	if ((r = write_manifest(p, w, &core_digest, err)) < 0 ||
	    (r = write_planned(p, w, err)) < 0 || (r = write_digests(p, w, err)) < 0) {
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
		stats->n_remote = p->n_remote;
		for (size_t i = 0; i < p->n_remote; i++)
			stats->remote_bytes += p->remote[i].size;
		stats->n_dwz_objects = count_dwz(p);
		struct stat st;
		stats->bundle_size = stat(p->opts.output, &st) == 0 ? (uint64_t)st.st_size : 0;
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
	for (size_t i = 0; i < p->n_remote; i++)
		free(p->remote[i].bundle_path);
	free(p->remote);
	for (size_t i = 0; i < p->n_links; i++)
		free(p->links[i]);
	free(p->links);
	for (size_t i = 0; i < p->n_plan; i++) {
		free(p->plan[i].name);
		free(p->plan[i].text);
	}
	free(p->plan);
	tdestroy(p->files_by_name, free);
	tdestroy(p->remote_by_name, free);
	tdestroy(p->links_by_name, free);
	tdestroy(p->objects_by_id, free);
	free(p);
}
