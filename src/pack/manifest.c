/*
 * Writing manifest.json and digests.json with json-c.  The manifest is the
 * bundle's record of the crash (process, signal, packing host) and of
 * every object: its names, addresses, build-ids, status, place in the
 * bundle, size and debug files with how each was found, and of every file:
 * its size and how it is digested.  It is the bundle's first entry, so it
 * holds no digest: those are known only once the files were read, and go
 * last, in digests.json.  Values are strings and numbers only; addresses
 * are "0x..." strings because JSON numbers lose 64-bit precision in most
 * readers.
 */
#include <errno.h>
#include <json-c/json.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "corepack/io.h"
#include "corepack/layout.h"
#include "corepack/manifest.h"
#include "corepack/manifest_read.h"
#include "corepack/sha256.h"

/* json_object_object_add that notices allocation failure in one flag.  A
 * NULL value is JSON null in json-c, so only the add itself can fail. */
struct jb {
	int oom;
	/* Indexes of in->debug ordered by module, in the packer's order within
	 * one (the packer adds split DWARF files after every other debug
	 * file); NULL when there is no debug file. */
	size_t *debug_order;
};

static int cmp_debug_index(const void *a, const void *b, void *base)
{
	const struct cp_packed_debug *d = base;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	size_t mx = d[x].module, my = d[y].module;
	if (mx != my)
		return mx < my ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* B->debug_order for IN: -ENOMEM. */
static int order_debug(struct jb *b, const struct cp_manifest_input *in)
{
	b->debug_order = NULL;
	if (in->n_debug == 0)
		return 0;
	if (!(b->debug_order = calloc(in->n_debug, sizeof(*b->debug_order))))
		return -ENOMEM;
	for (size_t i = 0; i < in->n_debug; i++)
		b->debug_order[i] = i;
	qsort_r(b->debug_order, in->n_debug, sizeof(*b->debug_order), cmp_debug_index,
	        (void *)in->debug);
	return 0;
}

static void put(struct jb *b, json_object *o, const char *key, json_object *v)
{
	if (!o || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		b->oom = 1;
	}
}

static void append(struct jb *b, json_object *a, json_object *v)
{
	if (!a || json_object_array_add(a, v) != 0) {
		json_object_put(v);
		b->oom = 1;
	}
}

/* Serialise ROOT (consumed) into a malloc'd string with a final newline. */
static int finish(struct jb *b, json_object *root, char **out, struct cp_error *err)
{
	const char *text =
	    b->oom ? NULL
	           : json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE);
	char *copy = text ? malloc(strlen(text) + 2) : NULL;
	if (copy)
		strcat(strcpy(copy, text), "\n");
	json_object_put(root);
	if (!copy)
		return cp_error_set(err, ENOMEM, "out of memory writing JSON");
	*out = copy;
	return 0;
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : json_object_new_null();
}

static json_object *jaddr(uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_object_new_string(buf);
}

static json_object *jhex(const uint8_t *b, size_t len)
{
	char buf[2 * CP_BUILD_ID_MAX + 1];
	if (len == 0 || len > CP_BUILD_ID_MAX)
		return json_object_new_null();
	cp_hex(b, len, buf);
	return json_object_new_string(buf);
}

/* The digest D of KIND under the key that says which digest it is. */
static void put_digest(struct jb *b, json_object *o, enum cp_digest_kind kind, const uint8_t *d)
{
	char hex[2 * CP_DIGEST_MAX + 1];
	cp_hex(d, cp_digest_kind_size(kind), hex);
	put(b, o, cp_digest_kind_name(kind), json_object_new_string(hex));
}

/* os-release is a few hundred bytes; anything past this is not one. */
#define OS_RELEASE_MAX (64 * 1024)

/* The values of /etc/os-release that identify the system.  Read whole
 * (io.h): a FIFO there is refused rather than waited on, and a long line
 * stays one line instead of being split into a KEY=value of its own. */
static json_object *os_release(struct jb *b)
{
	static const char *const keys[] = {"ID", "VERSION_ID", "PRETTY_NAME", "VERSION_CODENAME"};
	json_object *o = json_object_new_object();
	char *text = NULL;
	size_t len;
	if (cp_read_file_capped("/etc/os-release", OS_RELEASE_MAX, &text, &len, NULL) < 0 &&
	    cp_read_file_capped("/usr/lib/os-release", OS_RELEASE_MAX, &text, &len, NULL) < 0)
		return o;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *v = eq + 1;
		size_t n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(line, keys[i]) == 0)
				put(b, o, keys[i], json_object_new_string(v));
	}
	free(text);
	return o;
}

static json_object *host_object(struct jb *b)
{
	json_object *h = json_object_new_object();
	struct utsname u;
	if (uname(&u) == 0) {
		put(b, h, "sysname", jstr(u.sysname));
		put(b, h, "nodename", jstr(u.nodename));
		put(b, h, "release", jstr(u.release));
		put(b, h, "version", jstr(u.version));
		put(b, h, "machine", jstr(u.machine));
	}
	put(b, h, "os_release", os_release(b));
	return h;
}

static json_object *core_object(struct jb *b, const struct cp_manifest_input *in)
{
	const struct cp_core *c = in->core;
	const struct cp_notes *n = &c->notes;
	json_object *o = json_object_new_object();
	const struct cp_module *exe = cp_scan_executable(in->scan);
	put(b, o, "path", jstr(CP_BUNDLE_CORE));
	put(b, o, "original_name", jstr(in->core_name));
	put(b, o, "compression", jstr(in->core_compression));
	put(b, o, "size", json_object_new_int64((int64_t)in->core_digest.size));
	put(b, o, "class", jstr(c->is64 ? "ELF64" : "ELF32"));
	put(b, o, "byte_order", jstr(c->big_endian ? "big" : "little"));
	put(b, o, "machine", jstr(cp_machine_name(c->machine)));
	put(b, o, "e_machine", json_object_new_int(c->machine));
	put(b, o, "executable", jstr(exe ? exe->origin_path : NULL));
	/* Every number from the core is written only within the range the
	 * reader accepts (manifest_read.c): a crafted value out of it is left
	 * out, never written for coreunpack to refuse. */
	if (n->have_prpsinfo) {
		if (n->pid <= INT32_MAX)
			put(b, o, "pid", json_object_new_int64(n->pid));
		if (n->ppid <= INT32_MAX)
			put(b, o, "ppid", json_object_new_int64(n->ppid));
		put(b, o, "command", jstr(n->fname));
		put(b, o, "args", jstr(n->psargs));
	}
	int sig = n->have_siginfo ? n->sig_signo : n->n_threads ? n->threads[0].cursig : 0;
	if (sig < 0 || sig > CP_MANIFEST_MAX_SIGNAL)
		sig = 0;
	put(b, o, "signal", json_object_new_int(sig));
	put(b, o, "signal_name", jstr(cp_signal_name(sig)));
	if (n->have_siginfo) {
		put(b, o, "si_code", json_object_new_int(n->sig_code));
		put(b, o, "fault_address", jaddr(n->fault_addr));
	}
	put(b, o, "threads", json_object_new_int64((int64_t)n->n_threads));
	put(b, o, "truncated", json_object_new_boolean(c->missing_bytes > 0));
	put(b, o, "missing_bytes", json_object_new_int64((int64_t)c->missing_bytes));
	put(b, o, "vdso", in->scan->vdso ? jaddr(in->scan->vdso) : json_object_new_null());
	put(b, o, "nt_file", json_object_new_boolean(n->have_file));
	put(b, o, "link_map_entries", json_object_new_int64((int64_t)in->scan->linkmap->n_entries));
	return o;
}

/* The debug files of module MOD: a binary search of B->debug_order finds
 * the first. */
static json_object *debug_array(struct jb *b, const struct cp_manifest_input *in, size_t mod)
{
	json_object *a = json_object_new_array();
	const size_t *ord = b->debug_order;
	size_t lo = 0, hi = ord ? in->n_debug : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (in->debug[ord[mid]].module < mod)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; ord && i < in->n_debug && in->debug[ord[i]].module == mod; i++) {
		const struct cp_packed_debug *d = &in->debug[ord[i]];
		json_object *o = json_object_new_object();
		put(b, o, "kind", jstr(cp_debug_kind_name(d->kind)));
		put(b, o, "found_by", jstr(cp_debug_how_name(d->file->how)));
		put(b, o, "origin", jstr(d->file->host_path));
		if (d->file->url)
			put(b, o, "url", jstr(d->file->url));
		put(b, o, "build_id", jhex(d->file->build_id, d->file->build_id_len));
		put(b, o, "bundle_path", jstr(d->bundle_path));
		put(b, o, "size", json_object_new_int64((int64_t)d->digest.size));
		if (d->unit) {
			char id[17];
			snprintf(id, sizeof(id), "%016llx", (unsigned long long)d->unit->dwo_id);
			put(b, o, "dwo_id", jstr(id));
			put(b, o, "dwo_name", jstr(d->unit->dwo_name));
			put(b, o, "comp_dir", jstr(d->unit->comp_dir));
		}
		if (d->kind == CP_DEBUG_KIND_DWO || d->kind == CP_DEBUG_KIND_DWP) {
			json_object *links = json_object_new_array();
			for (size_t k = 0; k < d->n_links; k++)
				append(b, links, jstr(d->links[k]));
			put(b, o, "links", links);
		}
		if (d->remote)
			put(b, o, "remote", json_object_new_boolean(1));
		append(b, a, o);
	}
	return a;
}

static enum cp_debug_status debug_status(const struct cp_module *m)
{
	if (!m->debug)
		return cp_module_packable(m) ? CP_DEBUG_STATUS_NOT_SEARCHED
		                             : CP_DEBUG_STATUS_NOT_PACKED;
	if (m->debug->file)
		return m->debug->alt_missing ? CP_DEBUG_STATUS_FOUND_WITHOUT_DWZ
		                             : CP_DEBUG_STATUS_FOUND;
	return m->debug->has_own_debug_info ? CP_DEBUG_STATUS_IN_OBJECT : CP_DEBUG_STATUS_NONE;
}

static json_object *module_object(struct jb *b, const struct cp_manifest_input *in, size_t i)
{
	const struct cp_module *m = &in->scan->modules[i];
	json_object *o = json_object_new_object();
	put(b, o, "path", jstr(m->origin_path));
	put(b, o, "role", jstr(cp_role_name(m->role)));
	json_object *names = json_object_new_array();
	for (size_t k = 0; k < m->n_names; k++) {
		json_object *nm = json_object_new_object();
		put(b, nm, "path", jstr(m->names[k].path));
		put(b, nm, "source", jstr(cp_name_source_name(m->names[k].source)));
		append(b, names, nm);
	}
	put(b, o, "names", names);
	put(b, o, "start", m->end ? jaddr(m->start) : json_object_new_null());
	put(b, o, "end", m->end ? jaddr(m->end) : json_object_new_null());
	put(b, o, "deleted", json_object_new_boolean(m->deleted));
	put(b, o, "build_id_core", jhex(m->core_build_id, m->core_build_id_len));
	put(b, o, "build_id_file", jhex(m->file_build_id, m->file_build_id_len));
	put(b, o, "status", jstr(cp_status_name(m->status)));
	put(b, o, "verified_by", jstr(cp_verify_name(m->verified_by)));
	put(b, o, "detail", jstr(m->status_detail));
	put(b, o, "real_path", jstr(m->real_path));
	put(b, o, "file", jstr(m->host_path));
	put(b, o, "debug_file",
	    jstr(m->debug && m->debug->file ? m->debug->file->host_path : NULL));
	const struct cp_packed_object *po = in->objects ? &in->objects[i] : NULL;
	put(b, o, "bundle_path", jstr(po ? po->bundle_path : NULL));
	if (po && po->bundle_path)
		put(b, o, "size", json_object_new_int64((int64_t)po->digest.size));
	if (po && po->remote)
		put(b, o, "remote", json_object_new_boolean(1));
	put(b, o, "debug_status", jstr(cp_debug_status_name(debug_status(m))));
	put(b, o, "debuglink", jstr(m->debug ? m->debug->debuglink : NULL));
	put(b, o, "debug", debug_array(b, in, i));
	return o;
}

/* The crashing thread's frames, as unwound at pack time; null without. */
static json_object *crash_object(struct jb *b, const struct cp_backtrace *bt)
{
	if (!bt)
		return NULL;
	json_object *o = json_object_new_object();
	put(b, o, "why", jstr(bt->why));
	const struct cp_thread_trace *t = NULL;
	for (size_t i = 0; i < bt->n_threads && !t; i++)
		if (bt->threads[i].crashing)
			t = &bt->threads[i];
	if (!t) {
		put(b, o, "thread", NULL);
		return o;
	}
	put(b, o, "thread", json_object_new_int(t->tid));
	put(b, o, "thread_why", jstr(t->why));
	put(b, o, "frames_cut", json_object_new_boolean(t->frames_cut));
	json_object *frames = json_object_new_array();
	for (size_t i = 0; i < t->n_frames; i++) {
		const struct cp_frame *f = &t->frames[i];
		json_object *fo = json_object_new_object();
		put(b, fo, "pc", jaddr(f->pc));
		put(b, fo, "function", jstr(f->function));
		if (f->mangled)
			put(b, fo, "mangled", jstr(f->mangled));
		put(b, fo, "offset", f->has_offset ? jaddr(f->offset) : NULL);
		put(b, fo, "module", jstr(f->module));
		put(b, fo, "file", jstr(f->file));
		put(b, fo, "line", f->line ? json_object_new_int(f->line) : NULL);
		if (f->inlined)
			put(b, fo, "inlined", json_object_new_boolean(1));
		if (f->tail_call)
			put(b, fo, "tail_call", json_object_new_boolean(1));
		append(b, frames, fo);
	}
	put(b, o, "frames", frames);
	/* why frames of a module have no line, for the modules above */
	json_object *notes = json_object_new_array();
	for (size_t k = 0; k < bt->n_notes; k++) {
		const struct cp_module_note *nt = &bt->notes[k];
		int used = 0;
		for (size_t i = 0; i < t->n_frames && !used; i++)
			used = !t->frames[i].line && t->frames[i].module &&
			       strcmp(t->frames[i].module, nt->module) == 0;
		if (!used)
			continue;
		json_object *no = json_object_new_object();
		put(b, no, "module", jstr(nt->module));
		put(b, no, "why", jstr(nt->why));
		append(b, notes, no);
	}
	put(b, o, "no_lines", notes);
	return o;
}

/* Whether link K of module I was already listed for an earlier module
 * (several libraries share "/lib -> usr/lib"). */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Whether PATH was listed already (a tsearch tree of the paths, which
 * stay owned by the scan); -1 on ENOMEM. */
static int link_listed(void **seen, const char *path)
{
	const char **at = tsearch(path, seen, cmp_str);
	if (!at)
		return -1;
	return *at != path;
}

static void no_free(void *p)
{
	(void)p;
}

/* The scan's warnings, as many as the reader takes (manifest_read.h), each
 * within its text cap; past the count, one line says how many more. */
static json_object *warnings_array(struct jb *b, const struct cp_scan *s)
{
	json_object *a = json_object_new_array();
	size_t n = s->n_warnings;
	size_t keep = n <= CP_MANIFEST_MAX_WARNINGS ? n : CP_MANIFEST_MAX_WARNINGS - 1;
	for (size_t i = 0; i < keep; i++) {
		const char *w = s->warnings[i];
		if (strlen(w) > CP_MANIFEST_MAX_TEXT - 4) {
			char *cut = strndup(w, CP_MANIFEST_MAX_TEXT - 4);
			if (cut)
				strcpy(cut + CP_MANIFEST_MAX_TEXT - 7, "...");
			append(b, a, jstr(cut));
			free(cut);
		} else {
			append(b, a, jstr(w));
		}
	}
	if (keep < n) {
		char more[96];
		snprintf(more, sizeof(more), "%zu more warnings, not recorded here", n - keep);
		append(b, a, jstr(more));
	}
	return a;
}

int cp_manifest_build(const struct cp_manifest_input *in, char **out, struct cp_error *err)
{
	struct jb b = {0};
	json_object *root = json_object_new_object();
	char when[32];
	struct tm tm;
	gmtime_r(&in->created, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	put(&b, root, "manifest_version",
	    json_object_new_int(in->n_remote ? CP_MANIFEST_VERSION_THIN
	                                     : CP_MANIFEST_VERSION_FULL));
	put(&b, root, "corepack_version", jstr(COREPACK_VERSION));
	put(&b, root, "created", jstr(when));
	put(&b, root, "host", host_object(&b));
	put(&b, root, "sysroot", jstr(in->sysroot));
	put(&b, root, "core", core_object(&b, in));
	put(&b, root, "crash", crash_object(&b, in->backtrace));

	const struct cp_module *exe = cp_scan_executable(in->scan);
	int exe_packed = exe && in->objects && in->objects[exe - in->scan->modules].bundle_path;
	json_object *gdb = json_object_new_object();
	put(&b, gdb, "sysroot", jstr(CP_BUNDLE_SYSROOT));
	put(&b, gdb, "debug_file_directory", jstr(CP_BUNDLE_DEBUG));
	put(&b, gdb, "executable", jstr(exe_packed ? exe->origin_path : NULL));
	put(&b, gdb, "core", jstr(CP_BUNDLE_CORE));
	put(&b, gdb, "thread_db_dir", jstr(in->thread_db_dir));
	const struct cp_module *loader = cp_scan_loader(in->scan);
	int via_loader =
	    exe_packed && loader && in->objects[loader - in->scan->modules].bundle_path;
	put(&b, gdb, "program_offset",
	    via_loader ? jaddr(in->scan->program_bias) : json_object_new_null());
	json_object *solib = json_object_new_array();
	for (size_t i = 0; i < in->scan->n_solib_dirs; i++)
		append(&b, solib, jstr(in->scan->solib_dirs[i]));
	put(&b, gdb, "solib_search_path", solib);
	put(&b, root, "gdb", gdb);

	json_object *scripts = json_object_new_array();
	for (size_t i = 0; in->autoload && i < in->autoload->n_files; i++) {
		const struct cp_autoload_file *f = &in->autoload->files[i];
		json_object *o = json_object_new_object();
		put(&b, o, "kind", jstr(f->is_script ? "auto-load" : "python"));
		put(&b, o, "object", jstr(in->scan->modules[f->module].real_path));
		put(&b, o, "origin", jstr(f->host_path));
		put(&b, o, "bundle_path", jstr(f->bundle_path));
		append(&b, scripts, o);
	}
	put(&b, root, "gdb_scripts", scripts);

	if (order_debug(&b, in) < 0)
		b.oom = 1;
	json_object *objs = json_object_new_array();
	for (size_t i = 0; i < in->scan->n_modules; i++)
		append(&b, objs, module_object(&b, in, i));
	put(&b, root, "objects", objs);
	free(b.debug_order);
	b.debug_order = NULL;

	json_object *links = json_object_new_array();
	void *seen = NULL;
	for (size_t i = 0; i < in->scan->n_modules; i++) {
		const struct cp_module *m = &in->scan->modules[i];
		for (size_t k = 0; cp_module_packable(m) && k < m->n_links; k++) {
			int listed = link_listed(&seen, m->links[k].path);
			if (listed < 0)
				b.oom = 1;
			if (listed)
				continue;
			json_object *l = json_object_new_object();
			put(&b, l, "path", jstr(m->links[k].path));
			put(&b, l, "target", jstr(m->links[k].target));
			append(&b, links, l);
		}
	}
	tdestroy(seen, no_free);
	put(&b, root, "links", links);

	json_object *others = json_object_new_array();
	for (size_t i = 0; i < in->scan->n_others; i++) {
		json_object *o = json_object_new_object();
		put(&b, o, "path", jstr(in->scan->others[i].path));
		put(&b, o, "start", jaddr(in->scan->others[i].start));
		put(&b, o, "end", jaddr(in->scan->others[i].end));
		append(&b, others, o);
	}
	put(&b, root, "other_mappings", others);

	put(&b, root, "warnings", warnings_array(&b, in->scan));

	json_object *files = json_object_new_array();
	for (size_t i = 0; i < in->n_files; i++) {
		json_object *f = json_object_new_object();
		put(&b, f, "path", jstr(in->files[i].path));
		put(&b, f, "size", json_object_new_int64((int64_t)in->files[i].size));
		put(&b, f, "digest",
		    jstr(cp_digest_kind_name(
		        cp_digest_kind_for(in->files[i].sparse, in->files[i].xxh3))));
		append(&b, files, f);
	}
	put(&b, root, "files", files);
	if (in->n_remote) {
		json_object *remote = json_object_new_array();
		for (size_t i = 0; i < in->n_remote; i++) {
			const struct cp_remote_file *rf = &in->remote[i];
			json_object *f = json_object_new_object();
			put(&b, f, "path", jstr(rf->bundle_path));
			put(&b, f, "kind", jstr(cp_remote_kind_name(rf->kind)));
			put(&b, f, "build_id", jhex(rf->build_id, rf->build_id_len));
			put(&b, f, "size", json_object_new_int64((int64_t)rf->size));
			put_digest(&b, f, CP_DIGEST_SHA256, rf->sha256);
			append(&b, remote, f);
		}
		put(&b, root, "remote", remote);
	}
	int r = finish(&b, root, out, err);
	size_t len = r == 0 ? strlen(*out) : 0;
	if (len > CP_MANIFEST_MAX_SIZE) {
		/* coreunpack would refuse it: no such bundle is written. */
		free(*out);
		*out = NULL;
		return cp_error_set(err, EFBIG,
		                    "manifest.json would be %zu bytes, more than coreunpack reads "
		                    "(%d MiB); the core names too many objects",
		                    len, CP_MANIFEST_MAX_SIZE >> 20);
	}
	return r;
}

int cp_manifest_digests_build(const struct cp_bundle_file *files, size_t n, char **out,
                              struct cp_error *err)
{
	struct jb b = {0};
	json_object *root = json_object_new_object();
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *f = json_object_new_object();
		put(&b, f, "path", jstr(files[i].path));
		put_digest(&b, f, cp_digest_kind_for(files[i].sparse, files[i].xxh3),
		           files[i].digest);
		append(&b, a, f);
	}
	put(&b, root, "files", a);
	return finish(&b, root, out, err);
}

int cp_listing_json(const struct cp_core *core, const struct cp_scan *scan, uint64_t estimate,
                    char **out, struct cp_error *err)
{
	struct jb b = {0};
	struct cp_manifest_input in = {.core = core, .scan = scan};
	json_object *root = json_object_new_object();
	json_object *c = json_object_new_object();
	const struct cp_notes *n = &core->notes;
	const struct cp_module *exe = cp_scan_executable(scan);
	put(&b, c, "path", jstr(core->path));
	put(&b, c, "class", jstr(core->is64 ? "ELF64" : "ELF32"));
	put(&b, c, "machine", jstr(cp_machine_name(core->machine)));
	put(&b, c, "executable", jstr(exe ? exe->origin_path : NULL));
	put(&b, c, "args", jstr(n->have_prpsinfo ? n->psargs : NULL));
	put(&b, c, "truncated", json_object_new_boolean(core->missing_bytes > 0));
	put(&b, c, "missing_bytes", json_object_new_int64((int64_t)core->missing_bytes));
	put(&b, root, "core", c);
	json_object *objs = json_object_new_array();
	for (size_t i = 0; i < scan->n_modules; i++)
		append(&b, objs, module_object(&b, &in, i));
	put(&b, root, "objects", objs);
	if (scan->vdso) {
		json_object *v = json_object_new_object();
		put(&b, v, "start", jaddr(scan->vdso));
		put(&b, v, "end", jaddr(scan->vdso_end));
		put(&b, v, "build_id", jhex(scan->vdso_build_id, scan->vdso_build_id_len));
		put(&b, root, "vdso", v);
	}
	json_object *others = json_object_new_array();
	for (size_t i = 0; i < scan->n_others; i++) {
		json_object *o = json_object_new_object();
		put(&b, o, "path", jstr(scan->others[i].path));
		put(&b, o, "start", jaddr(scan->others[i].start));
		put(&b, o, "end", jaddr(scan->others[i].end));
		append(&b, others, o);
	}
	put(&b, root, "other_mappings", others);
	json_object *warnings = json_object_new_array();
	for (size_t i = 0; i < scan->n_warnings; i++)
		append(&b, warnings, jstr(scan->warnings[i]));
	put(&b, root, "warnings", warnings);
	size_t counts[CP_STATUS_COUNT] = {0}, packed = 0, debug = 0;
	for (size_t i = 0; i < scan->n_modules; i++) {
		const struct cp_module *m = &scan->modules[i];
		counts[m->status]++;
		packed += cp_module_packable(m) != 0;
		debug += m->debug && m->debug->file;
	}
	json_object *t = json_object_new_object();
	put(&b, t, "objects", json_object_new_int64((int64_t)scan->n_modules));
	for (int st = 0; st < CP_STATUS_COUNT; st++)
		put(&b, t, cp_status_name(st), json_object_new_int64((int64_t)counts[st]));
	put(&b, t, "packable", json_object_new_int64((int64_t)packed));
	put(&b, t, "debug_files", json_object_new_int64((int64_t)debug));
	put(&b, t, "bundle_bytes_before_compression", json_object_new_int64((int64_t)estimate));
	put(&b, root, "totals", t);
	return finish(&b, root, out, err);
}
