/*
 * Parsing manifest.json from a bundle (json-c), for coreunpack.  The
 * manifest comes from a stranger: the text is size-capped, the tokener
 * strict and depth-capped, and every field used is checked for its JSON
 * type and its shape before it is copied into struct cp_manifest.  Fields
 * that something is built from (bundle paths, the executable's path, the
 * libthread_db directory) must be normalised paths free of control
 * characters; fields only shown to the user are capped in length and
 * escaped when printed.  Nothing of json-c leaks out: the parsed tree is
 * dropped before returning.
 *
 * Messages name the field the way jq would reach it:
 * "manifest.json: objects[3].bundle_path: has a '..' component".
 *
 * Memory: json-c's tree costs up to 260 times the text (784 bytes for
 * each "{}"), so the text is first counted by a small scanner that only
 * tells strings from structure, and refused when the tree would pass
 * CP_MANIFEST_MAX_TREE; only then is it parsed.
 *
 * Version 2 manifests give each file's digest kind, not its digest: the
 * digests come last in the bundle, in digests.json
 * (cp_manifest_take_digests()).
 *
 * The primitives that read and check one JSON value each, and the
 * budgeted parse, are in manifest_json.c (manifest_read_private.h).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/escape.h"
#include "corepack/hex.h"
#include "corepack/layout.h"
#include "corepack/manifest_read.h"
#include "corepack/remote.h"
#include "corepack/scripts.h"
#include "manifest_read_private.h"

static int parse_debug(struct parser *p, json_object *o, struct cp_manifest_debug *d)
{
	int64_t size = 0;
	char *kind = NULL;
	int r;
	if (!cp_mr_is_object(o))
		return cp_mr_fail(p, EINVAL, NULL, "not an object");
	r = cp_mr_get_str(p, o, "kind", K_TOKEN, OPTIONAL, &kind);
	d->kind = cp_debug_kind_from_name(kind);
	free(kind);
	if (r < 0 || (r = cp_mr_get_str(p, o, "found_by", K_TOKEN, OPTIONAL, &d->found_by)) < 0 ||
	    (r = cp_mr_get_str(p, o, "origin", K_PATH, OPTIONAL, &d->origin)) < 0 ||
	    (r = cp_mr_get_str(p, o, "build_id", K_HEX, OPTIONAL, &d->build_id)) < 0 ||
	    (r = cp_mr_get_str(p, o, "bundle_path", K_REL, REQUIRED, &d->bundle_path)) < 0 ||
	    (r = cp_mr_get_int(p, o, "size", 0, (int64_t)CP_BUNDLE_MAX_TOTAL, OPTIONAL, &size)) < 0)
		return r;
	if (strncmp(d->bundle_path, CP_BUNDLE_DEBUG "/", strlen(CP_BUNDLE_DEBUG) + 1) != 0)
		return cp_mr_fail(p, EINVAL, "bundle_path", "not below %s/", CP_BUNDLE_DEBUG);
	d->size = (uint64_t)size;
	return 0;
}

static int role_from_name(const char *token, void *out)
{
	return cp_role_from_name(token, out);
}

static int status_from_name(const char *token, void *out)
{
	return cp_status_from_name(token, out);
}

static int digest_kind_from_name(const char *token, void *out)
{
	return cp_digest_kind_from_name(token, out);
}

static int parse_object(struct parser *p, json_object *o, size_t i, struct cp_manifest_object *m)
{
	int64_t size = 0;
	char *debug_status = NULL;
	int r;
	cp_mr_set_where(p, "objects[%zu]", i);
	if (!cp_mr_is_object(o))
		return cp_mr_fail(p, EINVAL, NULL, "not an object");
	if ((r = cp_mr_get_str(p, o, "path", K_PATH, REQUIRED, &m->path)) < 0 ||
	    (r = cp_mr_get_enum(p, o, "role", "role", role_from_name, &m->role)) < 0 ||
	    (r = cp_mr_get_enum(p, o, "status", "status", status_from_name, &m->status)) < 0 ||
	    (r = cp_mr_get_str(p, o, "detail", K_TEXT, OPTIONAL, &m->detail)) < 0 ||
	    (r = cp_mr_get_str(p, o, "real_path", K_ABS, OPTIONAL, &m->real_path)) < 0 ||
	    (r = cp_mr_get_str(p, o, "bundle_path", K_REL, OPTIONAL, &m->bundle_path)) < 0 ||
	    (r = cp_mr_get_str(p, o, "build_id_core", K_HEX, OPTIONAL, &m->build_id_core)) < 0 ||
	    (r = cp_mr_get_str(p, o, "build_id_file", K_HEX, OPTIONAL, &m->build_id_file)) < 0 ||
	    (r = cp_mr_get_str(p, o, "debug_status", K_TOKEN, OPTIONAL, &debug_status)) < 0 ||
	    (r = cp_mr_get_int(p, o, "size", 0, (int64_t)CP_BUNDLE_MAX_TOTAL, OPTIONAL, &size)) <
	        0) {
		free(debug_status);
		return r;
	}
	m->debug_status = cp_debug_status_from_name(debug_status);
	free(debug_status);
	m->size = (uint64_t)size;
	if (m->bundle_path) {
		/* The packer puts an object at sysroot + its canonical path;
		 * run-gdb.sh is built on that. */
		size_t n = strlen(CP_BUNDLE_SYSROOT);
		if (!m->real_path || strncmp(m->bundle_path, CP_BUNDLE_SYSROOT, n) != 0 ||
		    strcmp(m->bundle_path + n, m->real_path) != 0)
			return cp_mr_fail(p, EINVAL, "bundle_path", "is not %s + real_path",
			                  CP_BUNDLE_SYSROOT);
	}

	json_object *debug;
	size_t n_debug;
	if ((r = cp_mr_get_array(p, o, "debug", CP_MANIFEST_MAX_DEBUG, OPTIONAL, &debug,
	                         &n_debug)) < 0)
		return r;
	if (n_debug && !(m->debug = calloc(n_debug, sizeof(*m->debug))))
		return cp_error_set(p->err, ENOMEM, "out of memory");
	for (size_t k = 0; k < n_debug; k++) {
		cp_mr_set_where(p, "objects[%zu].debug[%zu]", i, k);
		m->n_debug = k + 1;
		if ((r = parse_debug(p, json_object_array_get_idx(debug, k), &m->debug[k])) < 0)
			return r;
	}
	return 0;
}

/* A digest's key (KIND's token) in O, its value into F. */
static int get_digest(struct parser *p, json_object *o, struct cp_manifest_file *f)
{
	char *hex = NULL;
	const char *key = cp_digest_kind_name(f->kind);
	size_t size = cp_digest_kind_size(f->kind);
	int r =
	    cp_mr_get_str(p, o, key, cp_digest_kind_xxh3(f->kind) ? K_XXH : K_SHA, REQUIRED, &hex);
	if (r == 0) {
		cp_unhex(hex, 2 * size, f->digest); /* checked as K_SHA or K_XXH */
		f->have_digest = 1;
	}
	free(hex);
	return r;
}

static int parse_file(struct parser *p, json_object *o, size_t i, struct cp_manifest_file *f)
{
	int64_t size = 0;
	int r;
	cp_mr_set_where(p, "files[%zu]", i);
	if (!cp_mr_is_object(o))
		return cp_mr_fail(p, EINVAL, NULL, "not an object");
	if ((r = cp_mr_get_str(p, o, "path", K_REL, REQUIRED, &f->path)) < 0 ||
	    (r = cp_mr_get_int(p, o, "size", 0, (int64_t)CP_BUNDLE_MAX_TOTAL, REQUIRED, &size)) < 0)
		return r;
	f->size = (uint64_t)size;
	if (p->version >= 2) {
		/* The kind here, the digest in digests.json. */
		if ((r = cp_mr_get_enum(p, o, "digest", "digest kind", digest_kind_from_name,
		                        &f->kind)) < 0)
			return r;
		if (cp_digest_kind_xxh3(f->kind) && p->version < 4)
			return cp_mr_fail(p, EINVAL, "digest", "'%s' needs manifest version 4",
			                  cp_digest_kind_name(f->kind));
	} else {
		/* Version 1: exactly one of the keys (the SHA-256 ones), with
		 * the digest. */
		json_object *v;
		int n = 0;
		for (int k = 0; k <= CP_DIGEST_SPARSE_SHA256; k++) {
			if (json_object_object_get_ex(o, cp_digest_kind_name(k), &v) && v) {
				f->kind = (enum cp_digest_kind)k;
				n++;
			}
		}
		if (n != 1)
			return cp_mr_fail(p, EINVAL, NULL, "needs one of sha256 and sparse_sha256");
		if ((r = get_digest(p, o, f)) < 0)
			return r;
	}
	f->sparse = cp_digest_kind_sparse(f->kind);
	if (strcmp(f->path, CP_BUNDLE_MANIFEST) == 0 || strcmp(f->path, CP_BUNDLE_DIGESTS) == 0)
		return cp_mr_fail(p, EINVAL, "path", "the manifest cannot list %s", f->path);
	return 0;
}

static int cmp_files(const void *a, const void *b, void *ctx)
{
	const struct cp_manifest *m = ctx;
	return strcmp(m->files[*(const size_t *)a].path, m->files[*(const size_t *)b].path);
}

static int index_files(struct parser *p, struct cp_manifest *m)
{
	if (!(m->files_sorted = malloc((m->n_files ? m->n_files : 1) * sizeof(size_t))))
		return cp_error_set(p->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < m->n_files; i++)
		m->files_sorted[i] = i;
	qsort_r(m->files_sorted, m->n_files, sizeof(size_t), cmp_files, m);
	p->where[0] = '\0';
	for (size_t i = 1; i < m->n_files; i++) {
		const char *a = m->files[m->files_sorted[i - 1]].path;
		if (strcmp(a, m->files[m->files_sorted[i]].path) == 0) {
			char shown[256];
			return cp_mr_fail(p, EINVAL, "files", "lists '%s' twice",
			                  cp_escape(a, shown, sizeof(shown)));
		}
	}
	return 0;
}

static int remote_kind_from_name(const char *token, void *out)
{
	int k = cp_remote_kind_parse(token);
	if (k < 0)
		return -1;
	*(int *)out = k;
	return 0;
}

static int cmp_remote(const void *a, const void *b)
{
	return strcmp(((const struct cp_manifest_remote *)a)->path,
	              ((const struct cp_manifest_remote *)b)->path);
}

/* "remote" (version 3): the files a thin bundle left out. */
static int parse_remote(struct parser *p, json_object *root, struct cp_manifest *m)
{
	json_object *remote;
	size_t n;
	int r = cp_mr_get_array(p, root, "remote", CP_MANIFEST_MAX_FILES, OPTIONAL, &remote, &n);
	if (r < 0 || n == 0)
		return r;
	if (!(m->remote = calloc(n, sizeof(*m->remote))))
		return cp_error_set(p->err, ENOMEM, "out of memory");
	uint64_t total = 0;
	for (size_t i = 0; i < m->n_files; i++)
		total += m->files[i].size; /* each at most 1 TiB, 200,000 of them */
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(remote, i);
		struct cp_manifest_remote *f = &m->remote[i];
		int64_t size = 0;
		char *sha = NULL;
		m->n_remote = i + 1;
		cp_mr_set_where(p, "remote[%zu]", i);
		if (!cp_mr_is_object(o))
			return cp_mr_fail(p, EINVAL, NULL, "not an object");
		if ((r = cp_mr_get_str(p, o, "path", K_REL, REQUIRED, &f->path)) < 0 ||
		    (r = cp_mr_get_enum(p, o, "kind", "remote kind", remote_kind_from_name,
		                        &f->kind)) < 0 ||
		    (r = cp_mr_get_str(p, o, "build_id", K_HEX, REQUIRED, &f->build_id)) < 0 ||
		    (r = cp_mr_get_int(p, o, "size", 1, (int64_t)CP_BUNDLE_MAX_TOTAL, REQUIRED,
		                       &size)) < 0 ||
		    (r = cp_mr_get_str(p, o, "sha256", K_SHA, REQUIRED, &sha)) < 0)
			return r;
		cp_unhex(sha, 64, f->sha256);
		free(sha);
		f->size = (uint64_t)size;
		const char *tree =
		    f->kind == CP_REMOTE_EXECUTABLE ? CP_BUNDLE_SYSROOT : CP_BUNDLE_DEBUG;
		if (strncmp(f->path, tree, strlen(tree)) != 0 || f->path[strlen(tree)] != '/')
			return cp_mr_fail(p, EINVAL, "path", "a %s not below %s/",
			                  cp_remote_kind_name(f->kind), tree);
		if (cp_manifest_find_file(m, f->path))
			return cp_mr_fail(p, EINVAL, "path", "is in files too");
		if (f->size > CP_BUNDLE_MAX_TOTAL - total)
			return cp_mr_fail(
			    p, E2BIG, NULL,
			    "the manifest lists more than %llu bytes of files, remote "
			    "ones included",
			    (unsigned long long)CP_BUNDLE_MAX_TOTAL);
		total += f->size;
		m->remote_bytes += f->size;
	}
	/* by path, for cp_manifest_find_remote() */
	qsort(m->remote, n, sizeof(*m->remote), cmp_remote);
	p->where[0] = '\0';
	for (size_t i = 1; i < n; i++) {
		if (strcmp(m->remote[i - 1].path, m->remote[i].path) == 0) {
			char shown[256];
			return cp_mr_fail(p, EINVAL, "remote", "lists '%s' twice",
			                  cp_escape(m->remote[i].path, shown, sizeof(shown)));
		}
	}
	return 0;
}

/* Objects and their debug files that point at a file of "files" give its
 * size.  (A bundle path may also be a symlink: an object that is the same
 * inode as another is stored once; the reader checks those exist.) */
static int check_references(struct parser *p, const struct cp_manifest *m)
{
	for (size_t i = 0; i < m->n_objects; i++) {
		const struct cp_manifest_object *o = &m->objects[i];
		const struct cp_manifest_file *f;
		cp_mr_set_where(p, "objects[%zu]", i);
		const struct cp_manifest_remote *rf;
		if (o->bundle_path && (f = cp_manifest_find_file(m, o->bundle_path)) && o->size &&
		    o->size != f->size)
			return cp_mr_fail(p, EINVAL, "size", "%llu, but files says %llu",
			                  (unsigned long long)o->size, (unsigned long long)f->size);
		if (o->bundle_path && (rf = cp_manifest_find_remote(m, o->bundle_path)) &&
		    o->size && o->size != rf->size)
			return cp_mr_fail(p, EINVAL, "size", "%llu, but remote says %llu",
			                  (unsigned long long)o->size,
			                  (unsigned long long)rf->size);
		for (size_t k = 0; k < o->n_debug; k++) {
			cp_mr_set_where(p, "objects[%zu].debug[%zu]", i, k);
			f = cp_manifest_find_file(m, o->debug[k].bundle_path);
			if (f && o->debug[k].size && o->debug[k].size != f->size)
				return cp_mr_fail(p, EINVAL, "size", "%llu, but files says %llu",
				                  (unsigned long long)o->debug[k].size,
				                  (unsigned long long)f->size);
			rf = cp_manifest_find_remote(m, o->debug[k].bundle_path);
			if (rf && o->debug[k].size && o->debug[k].size != rf->size)
				return cp_mr_fail(p, EINVAL, "size", "%llu, but remote says %llu",
				                  (unsigned long long)o->debug[k].size,
				                  (unsigned long long)rf->size);
		}
	}
	p->where[0] = '\0';
	if (!cp_manifest_find_file(m, CP_BUNDLE_CORE))
		return cp_mr_fail(p, EINVAL, "files", "no '%s' listed: the bundle has no core",
		                  CP_BUNDLE_CORE);
	return 0;
}

/* gdb.solib_search_path: run-gdb.sh puts each in gdb's solib-search-path. */
static int parse_solib_dirs(struct parser *p, json_object *gdb, struct cp_manifest *m)
{
	json_object *a;
	size_t n;
	int r = cp_mr_get_array(p, gdb, "solib_search_path", CP_MANIFEST_MAX_SEARCH_DIRS, OPTIONAL,
	                        &a, &n);
	if (r < 0 || n == 0)
		return r;
	if (!(m->solib_dirs = calloc(n, sizeof(*m->solib_dirs))))
		return cp_error_set(p->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char key[48];
		const char *why;
		snprintf(key, sizeof(key), "solib_search_path[%zu]", i);
		json_object *v = json_object_array_get_idx(a, i);
		m->n_solib_dirs = i + 1;
		if (!v)
			return cp_mr_fail(p, EINVAL, key, "not a string");
		if ((r = cp_mr_take_str(p, key, v, K_ABS, &m->solib_dirs[i])) < 0)
			return r;
		if ((why = cp_scripts_search_dir_problem(m->solib_dirs[i]))) {
			char shown[160];
			return cp_mr_fail(p, EINVAL, key, "'%s': %s",
			                  cp_escape(m->solib_dirs[i], shown, sizeof(shown)), why);
		}
	}
	return 0;
}

/* gdb_scripts: what --trust lets gdb auto-load; only whether an object's
 * script is there matters to run-gdb.sh. */
static int parse_scripts(struct parser *p, json_object *root, struct cp_manifest *m)
{
	json_object *a;
	size_t n;
	p->where[0] = '\0';
	int r = cp_mr_get_array(p, root, "gdb_scripts", CP_MANIFEST_MAX_SCRIPTS, OPTIONAL, &a, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_object *o = json_object_array_get_idx(a, i);
		char *kind = NULL, *bp = NULL;
		cp_mr_set_where(p, "gdb_scripts[%zu]", i);
		if (!cp_mr_is_object(o))
			return cp_mr_fail(p, EINVAL, NULL, "not an object");
		if ((r = cp_mr_get_str(p, o, "kind", K_TOKEN, OPTIONAL, &kind)) == 0 &&
		    (r = cp_mr_get_str(p, o, "bundle_path", K_REL, REQUIRED, &bp)) == 0 &&
		    strncmp(bp, CP_BUNDLE_SYSROOT "/", strlen(CP_BUNDLE_SYSROOT) + 1) != 0)
			r = cp_mr_fail(p, EINVAL, "bundle_path", "not below %s/",
			               CP_BUNDLE_SYSROOT);
		if (r == 0 && kind && strcmp(kind, "auto-load") == 0)
			m->bundle_scripts = 1;
		free(kind);
		free(bp);
	}
	return r;
}

/* "core", "gdb" and "host": the crash and how gdb sees the bundle. */
static int parse_sections(struct parser *p, json_object *root, struct cp_manifest *m)
{
	json_object *core, *gdb, *host, *os = NULL;
	int64_t v;
	int r;

	if ((r = cp_mr_get_node(p, root, "host", json_type_object, OPTIONAL, &host)) < 0)
		return r;
	if (host) {
		cp_mr_set_where(p, "host");
		if ((r = cp_mr_get_str(p, host, "nodename", K_TEXT, OPTIONAL, &m->host_nodename)) <
		        0 ||
		    (r = cp_mr_get_str(p, host, "release", K_TEXT, OPTIONAL, &m->host_release)) <
		        0 ||
		    (r = cp_mr_get_str(p, host, "machine", K_TEXT, OPTIONAL, &m->host_machine)) <
		        0 ||
		    (r = cp_mr_get_node(p, host, "os_release", json_type_object, OPTIONAL, &os)) <
		        0)
			return r;
		cp_mr_set_where(p, "host.os_release");
		if (os &&
		    (r = cp_mr_get_str(p, os, "PRETTY_NAME", K_TEXT, OPTIONAL, &m->host_os)) < 0)
			return r;
	}

	p->where[0] = '\0';
	if ((r = cp_mr_get_node(p, root, "core", json_type_object, REQUIRED, &core)) < 0)
		return r;
	cp_mr_set_where(p, "core");
	char *path = NULL;
	r = cp_mr_get_str(p, core, "path", K_REL, OPTIONAL, &path);
	if (r == 0 && path && strcmp(path, CP_BUNDLE_CORE) != 0)
		r = cp_mr_fail(p, EINVAL, "path", "not '%s'", CP_BUNDLE_CORE);
	free(path);
	if (r < 0 ||
	    (r = cp_mr_get_str(p, core, "original_name", K_TEXT, OPTIONAL,
	                       &m->core_original_name)) < 0 ||
	    (r = cp_mr_get_str(p, core, "machine", K_TOKEN, OPTIONAL, &m->core_machine)) < 0 ||
	    (r = cp_mr_get_str(p, core, "class", K_TOKEN, OPTIONAL, &m->core_class)) < 0 ||
	    (r = cp_mr_get_str(p, core, "executable", K_PATH, OPTIONAL, &m->core_executable)) < 0 ||
	    (r = cp_mr_get_str(p, core, "command", K_TEXT, OPTIONAL, &m->command)) < 0 ||
	    (r = cp_mr_get_str(p, core, "args", K_TEXT, OPTIONAL, &m->args)) < 0 ||
	    (r = cp_mr_get_str(p, core, "signal_name", K_TOKEN, OPTIONAL, &m->signal_name)) < 0 ||
	    (r = cp_mr_get_str(p, core, "fault_address", K_TOKEN, OPTIONAL, &m->fault_address)) <
	        0 ||
	    (r = cp_mr_get_bool(p, core, "truncated", &m->truncated)) < 0)
		return r;
	v = -1;
	if ((r = cp_mr_get_int(p, core, "pid", 0, INT32_MAX, OPTIONAL, &v)) < 0)
		return r;
	m->pid = (long)v;
	v = -1;
	if ((r = cp_mr_get_int(p, core, "signal", 0, CP_MANIFEST_MAX_SIGNAL, OPTIONAL, &v)) < 0)
		return r;
	m->signal = (long)v;
	v = -1;
	if ((r = cp_mr_get_int(p, core, "si_code", INT32_MIN, INT32_MAX, OPTIONAL, &v)) < 0)
		return r;
	m->si_code = (long)v;
	v = -1;
	if ((r = cp_mr_get_int(p, core, "threads", 0, INT32_MAX, OPTIONAL, &v)) < 0)
		return r;
	m->threads = (long)v;
	v = 0;
	if ((r = cp_mr_get_int(p, core, "size", 0, (int64_t)CP_BUNDLE_MAX_TOTAL, OPTIONAL, &v)) < 0)
		return r;
	m->core_size = (uint64_t)v;
	v = 0;
	if ((r = cp_mr_get_int(p, core, "missing_bytes", 0, INT64_MAX, OPTIONAL, &v)) < 0)
		return r;
	m->missing_bytes = (uint64_t)v;
	if (!m->core_machine && !(m->core_machine = strdup("unknown")))
		return cp_error_set(p->err, ENOMEM, "out of memory");

	p->where[0] = '\0';
	if ((r = cp_mr_get_node(p, root, "gdb", json_type_object, REQUIRED, &gdb)) < 0)
		return r;
	cp_mr_set_where(p, "gdb");
	/* run-gdb.sh has these names built in. */
	static const struct {
		const char *key, *value;
	} fixed[] = {
	    {"sysroot", CP_BUNDLE_SYSROOT},
	    {"debug_file_directory", CP_BUNDLE_DEBUG},
	    {"core", CP_BUNDLE_CORE},
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		char *s = NULL;
		r = cp_mr_get_str(p, gdb, fixed[i].key, K_TEXT, OPTIONAL, &s);
		if (r == 0 && s && strcmp(s, fixed[i].value) != 0)
			r = cp_mr_fail(p, EINVAL, fixed[i].key, "not '%s'", fixed[i].value);
		free(s);
		if (r < 0)
			return r;
	}
	if ((r = cp_mr_get_str(p, gdb, "executable", K_PATH, OPTIONAL, &m->gdb_executable)) < 0 ||
	    (r = cp_mr_get_str(p, gdb, "thread_db_dir", K_ABS, OPTIONAL, &m->thread_db_dir)) < 0)
		return r;
	char *off = NULL;
	if ((r = cp_mr_get_str(p, gdb, "program_offset", K_TOKEN, OPTIONAL, &off)) < 0)
		return r;
	if (off) {
		/* An address: "0x" and 1-16 lowercase hex digits. */
		size_t len = strlen(off);
		char *end = NULL;
		errno = 0;
		unsigned long long addr = strtoull(off, &end, 16);
		int ok = len > 2 && len <= 18 && off[0] == '0' && off[1] == 'x' &&
		         strspn(off + 2, "0123456789abcdef") == len - 2 && errno == 0 &&
		         *end == '\0';
		free(off);
		if (!ok)
			return cp_mr_fail(p, EINVAL, "program_offset",
			                  "not an address (0x and hex digits)");
		m->have_program_offset = 1;
		m->program_offset = addr;
	}
	return parse_solib_dirs(p, gdb, m);
}

static int parse_root(struct parser *p, json_object *root, struct cp_manifest *m)
{
	int64_t version = 0;
	json_object *objects, *warnings, *files;
	size_t n_objects, n_warnings, n_files;
	int r;

	if (!cp_mr_is_object(root))
		return cp_error_set(p->err, EINVAL, "manifest.json: not a JSON object");
	if ((r = cp_mr_get_int(p, root, "manifest_version", 0, INT32_MAX, REQUIRED, &version)) < 0)
		return r;
	if (version < CP_MANIFEST_VERSION_MIN || version > CP_MANIFEST_VERSION)
		return cp_mr_fail(
		    p, EINVAL, "manifest_version",
		    "version %lld is not supported (this coreunpack reads versions %d to %d)",
		    (long long)version, CP_MANIFEST_VERSION_MIN, CP_MANIFEST_VERSION);
	m->version = p->version = (int)version;
	if ((r = cp_mr_get_str(p, root, "corepack_version", K_TOKEN, OPTIONAL,
	                       &m->corepack_version)) < 0 ||
	    (r = cp_mr_get_str(p, root, "created", K_TEXT, OPTIONAL, &m->created)) < 0 ||
	    (r = parse_sections(p, root, m)) < 0)
		return r;

	p->where[0] = '\0';
	if ((r = cp_mr_get_array(p, root, "objects", CP_MANIFEST_MAX_OBJECTS, REQUIRED, &objects,
	                         &n_objects)) < 0 ||
	    (r = cp_mr_get_array(p, root, "warnings", CP_MANIFEST_MAX_WARNINGS, OPTIONAL, &warnings,
	                         &n_warnings)) < 0 ||
	    (r = cp_mr_get_array(p, root, "files", CP_MANIFEST_MAX_FILES, REQUIRED, &files,
	                         &n_files)) < 0)
		return r;

	if ((n_objects && !(m->objects = calloc(n_objects, sizeof(*m->objects)))) ||
	    (n_warnings && !(m->warnings = calloc(n_warnings, sizeof(*m->warnings)))) ||
	    (n_files && !(m->files = calloc(n_files, sizeof(*m->files)))))
		return cp_error_set(p->err, ENOMEM, "out of memory");
	size_t n_debug = 0;
	for (size_t i = 0; i < n_objects; i++) {
		m->n_objects = i + 1;
		if ((r = parse_object(p, json_object_array_get_idx(objects, i), i,
		                      &m->objects[i])) < 0)
			return r;
		n_debug += m->objects[i].n_debug;
		if (n_debug > CP_MANIFEST_MAX_DEBUG_TOTAL) {
			p->where[0] = '\0';
			return cp_mr_fail(p, E2BIG, "objects", "more than %d debug files in all",
			                  CP_MANIFEST_MAX_DEBUG_TOTAL);
		}
	}
	if ((r = parse_scripts(p, root, m)) < 0)
		return r;
	p->where[0] = '\0';
	for (size_t i = 0; i < n_warnings; i++) {
		json_object *w = json_object_array_get_idx(warnings, i);
		char key[32];
		snprintf(key, sizeof(key), "warnings[%zu]", i);
		m->n_warnings = i + 1;
		if (!w)
			return cp_mr_fail(p, EINVAL, key, "not a string");
		if ((r = cp_mr_take_str(p, key, w, K_TEXT, &m->warnings[i])) < 0)
			return r;
	}
	for (size_t i = 0; i < n_files; i++) {
		m->n_files = i + 1;
		if ((r = parse_file(p, json_object_array_get_idx(files, i), i, &m->files[i])) < 0)
			return r;
	}
	if ((r = index_files(p, m)) < 0)
		return r;
	if (m->version >= 3 && (r = parse_remote(p, root, m)) < 0)
		return r;
	return check_references(p, m);
}

int cp_manifest_parse(const char *buf, size_t len, struct cp_manifest **out, struct cp_error *err)
{
	struct parser p = {.err = err, .doc = CP_BUNDLE_MANIFEST};
	json_object *root = NULL;
	int r = cp_mr_parse_json(&p, buf, len, CP_MANIFEST_MAX_SIZE, &root);
	if (r < 0)
		return r;
	struct cp_manifest *m = calloc(1, sizeof(*m));
	r = m ? parse_root(&p, root, m) : cp_error_set(err, ENOMEM, "out of memory");
	json_object_put(root);
	if (r < 0) {
		cp_manifest_free(m);
		return r;
	}
	*out = m;
	return 0;
}

size_t cp_manifest_digests_cap(const struct cp_manifest *m)
{
	/* {"files": [{"path": P, "sparse_sha256": HEX}, ...]}: a path's
	 * bytes at most doubled by escapes, 64 hex digits, and room for
	 * indentation. */
	size_t cap = 4096;
	for (size_t i = 0; i < m->n_files; i++)
		cap += 2 * strlen(m->files[i].path) + 256;
	return cap;
}

int cp_manifest_take_digests(struct cp_manifest *m, const char *buf, size_t len,
                             struct cp_error *err)
{
	struct parser p = {.err = err, .doc = CP_BUNDLE_DIGESTS, .version = m->version};
	json_object *root = NULL, *files;
	size_t n;
	int r = cp_mr_parse_json(&p, buf, len, cp_manifest_digests_cap(m), &root);
	if (r < 0)
		return r;
	if (!cp_mr_is_object(root))
		r = cp_error_set(err, EINVAL, "%s: not a JSON object", p.doc);
	else
		r = cp_mr_get_array(&p, root, "files", CP_MANIFEST_MAX_FILES, REQUIRED, &files, &n);
	if (r == 0 && n != m->n_files)
		r = cp_mr_fail(&p, EINVAL, "files", "%zu files, the manifest lists %zu", n,
		               m->n_files);
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_object *o = json_object_array_get_idx(files, i);
		struct cp_manifest_file *f = &m->files[i];
		char *path = NULL;
		cp_mr_set_where(&p, "files[%zu]", i);
		if (!cp_mr_is_object(o))
			r = cp_mr_fail(&p, EINVAL, NULL, "not an object");
		else if ((r = cp_mr_get_str(&p, o, "path", K_REL, REQUIRED, &path)) == 0 &&
		         strcmp(path, f->path) != 0) {
			char a[160], b[160];
			r = cp_mr_fail(&p, EINVAL, "path", "'%s', the manifest says '%s'",
			               cp_escape(path, a, sizeof(a)),
			               cp_escape(f->path, b, sizeof(b)));
		}
		free(path);
		if (r == 0)
			r = get_digest(&p, o, f);
	}
	json_object_put(root);
	return r;
}

void cp_manifest_free(struct cp_manifest *m)
{
	if (!m)
		return;
	char **strs[] = {
	    &m->corepack_version,   &m->created,       &m->host_nodename,
	    &m->host_release,       &m->host_machine,  &m->host_os,
	    &m->core_original_name, &m->core_machine,  &m->core_class,
	    &m->core_executable,    &m->command,       &m->args,
	    &m->signal_name,        &m->fault_address, &m->gdb_executable,
	    &m->thread_db_dir,
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	for (size_t i = 0; i < m->n_objects; i++) {
		struct cp_manifest_object *o = &m->objects[i];
		free(o->path);
		free(o->detail);
		free(o->real_path);
		free(o->bundle_path);
		free(o->build_id_core);
		free(o->build_id_file);
		for (size_t k = 0; k < o->n_debug; k++) {
			free(o->debug[k].found_by);
			free(o->debug[k].origin);
			free(o->debug[k].build_id);
			free(o->debug[k].bundle_path);
		}
		free(o->debug);
	}
	free(m->objects);
	for (size_t i = 0; i < m->n_warnings; i++)
		free(m->warnings[i]);
	free(m->warnings);
	for (size_t i = 0; i < m->n_solib_dirs; i++)
		free(m->solib_dirs[i]);
	free(m->solib_dirs);
	for (size_t i = 0; i < m->n_files; i++)
		free(m->files[i].path);
	free(m->files);
	free(m->files_sorted);
	for (size_t i = 0; i < m->n_remote; i++) {
		free(m->remote[i].path);
		free(m->remote[i].build_id);
	}
	free(m->remote);
	free(m);
}

const struct cp_manifest_remote *cp_manifest_find_remote(const struct cp_manifest *m,
                                                         const char *path)
{
	struct cp_manifest_remote key = {.path = (char *)path};
	return m->n_remote ? bsearch(&key, m->remote, m->n_remote, sizeof(key), cmp_remote) : NULL;
}

const struct cp_manifest_file *cp_manifest_find_file(const struct cp_manifest *m, const char *path)
{
	size_t lo = 0, hi = m->files_sorted ? m->n_files : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cp_manifest_file *f = &m->files[m->files_sorted[mid]];
		int c = strcmp(path, f->path);
		if (c == 0)
			return f;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct cp_manifest_object *cp_manifest_executable(const struct cp_manifest *m)
{
	for (size_t i = 0; i < m->n_objects; i++)
		if (m->objects[i].role == CP_ROLE_EXECUTABLE && m->objects[i].bundle_path)
			return &m->objects[i];
	return NULL;
}

const struct cp_manifest_object *cp_manifest_loader(const struct cp_manifest *m)
{
	for (size_t i = 0; m->have_program_offset && i < m->n_objects; i++)
		if (m->objects[i].role == CP_ROLE_INTERPRETER && m->objects[i].bundle_path)
			return &m->objects[i];
	return NULL;
}

int cp_manifest_object_uses_dwz(const struct cp_manifest_object *o)
{
	for (size_t j = 0; o->bundle_path && j < o->n_debug; j++)
		if (o->debug[j].kind == CP_DEBUG_KIND_DWZ)
			return 1;
	return 0;
}

size_t cp_manifest_dwz_objects(const struct cp_manifest *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_objects; i++)
		n += cp_manifest_object_uses_dwz(&m->objects[i]);
	return n;
}
