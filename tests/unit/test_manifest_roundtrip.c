/*
 * The manifest written by the packer (cp_manifest_build, manifest.c) and
 * read back by the unpacker (cp_manifest_parse, manifest_read.c) agree:
 * a synthetic scan with every status, every role, every debug_status,
 * debug files of both kinds found every usual way, warnings, plain and
 * sparse digests and a backtrace is built into JSON, parsed, and every
 * field the reader exposes equals what went in.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <cmocka.h>

#include "corepack/layout.h"
#include "corepack/manifest.h"
#include "corepack/manifest_read.h"

enum { N_MODULES = 7, N_DEBUG = 4, MAX_FILES = 18 };

struct fixture {
	struct cp_core core;
	struct cp_thread_info threads[3];
	struct cp_linkmap_entry lm_entries[2];
	struct cp_linkmap linkmap;
	struct cp_module modules[N_MODULES];
	struct cp_name names[N_MODULES][2];
	struct cp_debug_file dfiles[N_DEBUG];
	struct cp_debug_result dres[N_MODULES];
	char *warnings[2];
	struct cp_other_mapping other;
	struct cp_scan scan;
	struct cp_packed_object objects[N_MODULES];
	struct cp_packed_debug debug[N_DEBUG];
	struct cp_bundle_file files[MAX_FILES];
	size_t n_files;
	struct cp_frame frames[2];
	struct cp_module_note notes[2];
	struct cp_thread_trace trace;
	struct cp_backtrace bt;
	struct cp_manifest_input in;
};

/* A digest that differs per SEED, so that a swapped entry shows. */
static struct cp_file_digest digest(uint64_t size, int sparse, int seed)
{
	struct cp_file_digest d = {.size = size, .data_size = size, .sparse = sparse};
	for (int i = 0; i < 32; i++)
		d.sha256[i] = (uint8_t)(seed * 37 + i * 11);
	return d;
}

static void add_file(struct fixture *f, const char *path, const struct cp_file_digest *d)
{
	assert_true(f->n_files < MAX_FILES);
	struct cp_bundle_file *bf = &f->files[f->n_files++];
	bf->path = (char *)path;
	bf->size = d->size;
	bf->sparse = d->sparse;
	memcpy(bf->sha256, d->sha256, 32);
}

static void module(struct fixture *f, size_t i, const char *path, enum cp_module_role role,
                   enum cp_module_status status, int packed)
{
	struct cp_module *m = &f->modules[i];
	m->origin_path = (char *)path;
	m->role = role;
	m->status = status;
	m->start = 0x400000 + 0x100000 * i;
	m->end = m->start + 0x2000;
	m->names = f->names[i];
	m->names[0] = (struct cp_name){(char *)path, CP_NAME_NT_FILE};
	m->names[1] = (struct cp_name){(char *)path, CP_NAME_LINK_MAP};
	m->n_names = 2;
	m->core_build_id_len =
	    status == CP_STATUS_NO_BUILD_ID || status == CP_STATUS_UNVERIFIED ? 0 : 20;
	for (size_t k = 0; k < m->core_build_id_len; k++)
		m->core_build_id[k] = (uint8_t)(0xa0 + i + k);
	m->file_build_id_len =
	    status == CP_STATUS_NO_BUILD_ID || status == CP_STATUS_MISSING ? 0 : 20;
	for (size_t k = 0; k < m->file_build_id_len; k++)
		m->file_build_id[k] = (uint8_t)(status == CP_STATUS_MISMATCH ? 0x11 : 0xa0 + i + k);
	if (status != CP_STATUS_OK)
		m->status_detail = (char *)"the reason, with a\ttab";
	if (status != CP_STATUS_MISSING) {
		m->real_path = (char *)path;
		m->host_path = (char *)path;
	}
	if (packed) {
		struct cp_packed_object *po = &f->objects[i];
		assert_int_not_equal(asprintf(&po->bundle_path, "%s%s", CP_BUNDLE_SYSROOT, path),
		                     -1);
		po->digest = digest(1000 + i, i == 2, (int)i);
		add_file(f, po->bundle_path, &po->digest);
	}
}

static void packed_debug(struct fixture *f, size_t k, size_t mod, enum cp_debug_kind kind,
                         const char *bundle_path, int sparse)
{
	f->debug[k] = (struct cp_packed_debug){
	    .module = mod,
	    .file = &f->dfiles[k],
	    .kind = kind,
	    .bundle_path = (char *)bundle_path,
	    .digest = digest(5000 + k, sparse, 50 + (int)k),
	};
	add_file(f, bundle_path, &f->debug[k].digest);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct cp_core *c = &f->core;
	c->path = (char *)"/var/crash/core.4242";
	c->is64 = 1;
	c->machine = EM_X86_64;
	c->missing_bytes = 4096;
	struct cp_notes *n = &c->notes;
	n->have_file = 1;
	n->have_prpsinfo = 1;
	n->pid = 4242;
	n->ppid = 1;
	strcpy(n->fname, "app");
	strcpy(n->psargs, "/usr/bin/app --serve 'x y'");
	f->threads[0] = (struct cp_thread_info){4243, SIGSEGV};
	f->threads[1] = (struct cp_thread_info){4242, 0};
	f->threads[2] = (struct cp_thread_info){4244, 0};
	n->threads = f->threads;
	n->n_threads = 3;
	n->have_siginfo = 1;
	n->sig_signo = SIGSEGV;
	n->sig_code = 1;
	n->fault_addr = 0x10;

	f->lm_entries[0] = (struct cp_linkmap_entry){0, 0x3e00, (char *)"", 0, 1};
	f->lm_entries[1] =
	    (struct cp_linkmap_entry){0x7f00000000, 0x7f00003e00, (char *)"/lib/ld.so", 0, 0};
	f->linkmap = (struct cp_linkmap){f->lm_entries, 2, 0x404040, NULL};

	/* The core: sparse. */
	struct cp_file_digest core = digest(1 << 20, 1, 99);
	add_file(f, CP_BUNDLE_CORE, &core);

	/* Every role, every status, every debug_status. */
	module(f, 0, "/usr/bin/app", CP_ROLE_EXECUTABLE, CP_STATUS_OK, 1);
	module(f, 1, "/usr/lib/libfoo.so.1", CP_ROLE_LIBRARY, CP_STATUS_MISMATCH, 0);
	module(f, 2, "/lib/ld.so", CP_ROLE_INTERPRETER, CP_STATUS_UNVERIFIED, 1);
	module(f, 3, "/usr/lib/libgone.so", CP_ROLE_LIBRARY, CP_STATUS_MISSING, 0);
	module(f, 4, "/usr/lib/libthread_db.so.1", CP_ROLE_THREAD_DB, CP_STATUS_NO_BUILD_ID, 1);
	module(f, 5, "/usr/lib/libnodebug.so", CP_ROLE_LIBRARY, CP_STATUS_OK, 1);
	module(f, 6, "/usr/lib/libplain.so", CP_ROLE_LIBRARY, CP_STATUS_OK, 1);
	f->modules[4].end = f->modules[4].start = 0; /* libthread_db: not mapped */

	/* app: a debug file by build-id and its dwz alt file by build-id */
	f->dfiles[0] =
	    (struct cp_debug_file){.host_path = (char *)"/usr/lib/debug/.build-id/a0/a1.debug",
	                           .how = CP_DEBUG_BUILD_ID,
	                           .build_id_len = 20};
	memcpy(f->dfiles[0].build_id, f->modules[0].file_build_id, 20);
	f->dfiles[1] =
	    (struct cp_debug_file){.host_path = (char *)"/usr/lib/debug/.dwz/x86_64/app.debug",
	                           .how = CP_DEBUG_ALT_BUILD_ID,
	                           .build_id_len = 4,
	                           .build_id = {0xde, 0xad, 0xbe, 0xef}};
	f->dres[0] = (struct cp_debug_result){.file = &f->dfiles[0], .alt = &f->dfiles[1]};
	f->modules[0].debug = &f->dres[0];
	packed_debug(f, 0, 0, CP_DEBUG_KIND_DEBUG, "debug/.build-id/a0/a1.debug", 0);
	packed_debug(f, 1, 0, CP_DEBUG_KIND_DWZ, "debug/.build-id/de/adbeef.debug", 1);
	/* ld.so: its own DWARF */
	f->dres[2] = (struct cp_debug_result){.has_own_debug_info = 1};
	f->modules[2].debug = &f->dres[2];
	/* libthread_db: no build-id, by debuglink in .debug/, its dwz alt missing */
	f->dfiles[2] = (struct cp_debug_file){.host_path = (char *)"/usr/lib/.debug/tdb.debug",
	                                      .how = CP_DEBUG_LINK_DOT_DEBUG,
	                                      .crc = 0x1234};
	f->dres[4] = (struct cp_debug_result){
	    .file = &f->dfiles[2], .alt_missing = 1, .debuglink = (char *)"tdb.debug"};
	f->modules[4].debug = &f->dres[4];
	packed_debug(f, 2, 4, CP_DEBUG_KIND_DEBUG, "debug/usr/lib/tdb.debug", 0);
	/* libnodebug: not searched (no debug result); libplain: searched, none */
	f->modules[6].debug = &f->dres[6];
	f->dfiles[3] = (struct cp_debug_file){0};

	f->warnings[0] = (char *)"'/usr/lib/libfoo.so.1': mismatch: replaced after the crash";
	f->warnings[1] = (char *)"a warning with \x1b[31m and a \"quote\"";
	f->other = (struct cp_other_mapping){(char *)"/dev/shm/data", 0x10000, 0x20000};
	f->scan = (struct cp_scan){
	    .modules = f->modules,
	    .n_modules = N_MODULES,
	    .others = &f->other,
	    .n_others = 1,
	    .linkmap = &f->linkmap,
	    .vdso = 0x7ffd0000,
	    .vdso_end = 0x7ffd2000,
	    .warnings = f->warnings,
	    .n_warnings = 2,
	};

	f->frames[0] = (struct cp_frame){.pc = 0x401234,
	                                 .function = (char *)"acme::crash",
	                                 .mangled = (char *)"_ZN4acme5crashEv",
	                                 .offset = 4,
	                                 .has_offset = 1,
	                                 .module = (char *)"/usr/bin/app",
	                                 .file = (char *)"/src/app.c",
	                                 .line = 12};
	f->frames[1] = (struct cp_frame){.pc = 0x401300, .function = (char *)"main", .inlined = 1};
	f->trace = (struct cp_thread_trace){4243, 1, f->frames, 2, 0, NULL};
	/* the note on app is listed (main has no line), libz's is not */
	f->notes[0] = (struct cp_module_note){(char *)"/usr/lib/libz.so.1", (char *)"no debug"};
	f->notes[1] = (struct cp_module_note){(char *)"/usr/bin/app", (char *)"why \"app\""};
	f->frames[1].module = (char *)"/usr/bin/app";
	f->bt = (struct cp_backtrace){
	    .threads = &f->trace, .n_threads = 1, .notes = f->notes, .n_notes = 2};

	f->in = (struct cp_manifest_input){
	    .core = &f->core,
	    .core_name = "core.4242",
	    .core_digest = core,
	    .scan = &f->scan,
	    .objects = f->objects,
	    .sysroot = "/srv/root",
	    .debug = f->debug,
	    .n_debug = 3,
	    .files = f->files,
	    .n_files = f->n_files,
	    .thread_db_dir = "/usr/lib",
	    .created = 1704164645, /* 2024-01-02T03:04:05Z */
	    .backtrace = &f->bt,
	};
	return f;
}

static void fixture_free(struct fixture *f)
{
	for (size_t i = 0; i < N_MODULES; i++)
		free(f->objects[i].bundle_path);
	free(f);
}

static void assert_hex(const char *got, const uint8_t *b, size_t len)
{
	if (len == 0) {
		assert_null(got);
		return;
	}
	char want[2 * CP_BUILD_ID_MAX + 1];
	cp_hex(b, len, want);
	assert_non_null(got);
	assert_string_equal(got, want);
}

static void assert_str(const char *got, const char *want)
{
	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
}

static struct cp_manifest *round_trip(struct fixture *f, char **text)
{
	struct cp_error err = {0};
	struct cp_manifest *m = NULL;
	assert_int_equal(cp_manifest_build(&f->in, text, &err), 0);
	int r = cp_manifest_parse(*text, strlen(*text), &m, &err);
	if (r < 0)
		print_error("%s\n%s\n", err.msg, *text);
	assert_int_equal(r, 0);
	return m;
}

static void test_every_field(void **state)
{
	struct fixture *f = fixture_new();
	char *text = NULL;
	struct cp_manifest *m = round_trip(f, &text);
	const struct cp_notes *n = &f->core.notes;

	assert_int_equal(m->version, CP_MANIFEST_VERSION_FULL);
	assert_str(m->corepack_version, COREPACK_VERSION);
	assert_str(m->created, "2024-01-02T03:04:05Z");
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	assert_str(m->host_nodename, u.nodename);
	assert_str(m->host_release, u.release);
	assert_str(m->host_machine, u.machine);

	assert_str(m->core_original_name, "core.4242");
	assert_str(m->core_machine, cp_machine_name(EM_X86_64));
	assert_str(m->core_class, "ELF64");
	assert_str(m->core_executable, "/usr/bin/app");
	assert_str(m->command, n->fname);
	assert_str(m->args, n->psargs);
	assert_str(m->signal_name, "SIGSEGV");
	assert_int_equal(m->pid, 4242);
	assert_int_equal(m->signal, SIGSEGV);
	assert_int_equal(m->si_code, 1);
	assert_int_equal(m->threads, 3);
	assert_str(m->fault_address, "0x10");
	assert_true(m->truncated);
	assert_int_equal(m->core_size, f->in.core_digest.size);
	assert_int_equal(m->missing_bytes, 4096);
	assert_str(m->gdb_executable, "/usr/bin/app");
	assert_str(m->thread_db_dir, "/usr/lib");

	assert_int_equal(m->n_objects, N_MODULES);
	for (size_t i = 0; i < N_MODULES; i++) {
		const struct cp_module *sm = &f->modules[i];
		const struct cp_packed_object *po = &f->objects[i];
		const struct cp_manifest_object *o = &m->objects[i];
		assert_str(o->path, sm->origin_path);
		assert_int_equal(o->role, sm->role);
		assert_int_equal(o->status, sm->status);
		assert_str(o->detail, sm->status_detail);
		assert_str(o->real_path, sm->real_path);
		assert_str(o->bundle_path, po->bundle_path);
		assert_hex(o->build_id_core, sm->core_build_id, sm->core_build_id_len);
		assert_hex(o->build_id_file, sm->file_build_id, sm->file_build_id_len);
		assert_int_equal(o->size, po->bundle_path ? po->digest.size : 0);
		size_t n_debug = 0;
		for (size_t k = 0; k < f->in.n_debug; k++) {
			const struct cp_packed_debug *d = &f->debug[k];
			if (d->module != i)
				continue;
			const struct cp_manifest_debug *md = &o->debug[n_debug++];
			assert_int_equal(md->kind, d->kind);
			assert_str(md->found_by, cp_debug_how_name(d->file->how));
			assert_str(md->origin, d->file->host_path);
			assert_hex(md->build_id, d->file->build_id, d->file->build_id_len);
			assert_str(md->bundle_path, d->bundle_path);
			assert_int_equal(md->size, d->digest.size);
		}
		assert_int_equal(o->n_debug, n_debug);
	}
	static const enum cp_debug_status want_ds[N_MODULES] = {
	    CP_DEBUG_STATUS_FOUND,
	    CP_DEBUG_STATUS_NOT_PACKED,
	    CP_DEBUG_STATUS_IN_OBJECT,
	    CP_DEBUG_STATUS_NOT_PACKED,
	    CP_DEBUG_STATUS_FOUND_WITHOUT_DWZ,
	    CP_DEBUG_STATUS_NOT_SEARCHED,
	    CP_DEBUG_STATUS_NONE,
	};
	for (size_t i = 0; i < N_MODULES; i++)
		assert_int_equal(m->objects[i].debug_status, want_ds[i]);

	assert_int_equal(m->n_warnings, 2);
	assert_str(m->warnings[0], f->warnings[0]);
	assert_str(m->warnings[1], f->warnings[1]);

	/* The digests come back through digests.json. */
	char *digests = NULL;
	struct cp_error derr = {0};
	assert_int_equal(cp_manifest_digests_build(f->files, f->n_files, &digests, NULL), 0);
	if (cp_manifest_take_digests(m, digests, strlen(digests), &derr) != 0)
		fail_msg("%s", derr.msg);
	free(digests);
	assert_int_equal(m->n_files, f->n_files);
	for (size_t i = 0; i < f->n_files; i++) {
		assert_true(m->files[i].have_digest);
		assert_str(m->files[i].path, f->files[i].path);
		assert_int_equal(m->files[i].size, f->files[i].size);
		assert_int_equal(m->files[i].sparse, f->files[i].sparse);
		assert_memory_equal(m->files[i].sha256, f->files[i].sha256, 32);
		assert_ptr_equal(cp_manifest_find_file(m, f->files[i].path), &m->files[i]);
	}
	assert_ptr_equal(cp_manifest_executable(m), &m->objects[0]);

	/* The backtrace goes out too (the reader has no use for it). */
	assert_non_null(strstr(text, "\"function\":\"acme::crash\""));
	assert_non_null(strstr(text, "\"mangled\":\"_ZN4acme5crashEv\""));
	const char *nl = strstr(text, "\"no_lines\":[");
	assert_non_null(nl);
	assert_non_null(strstr(nl, "\"module\":\"/usr/bin/app\""));
	assert_non_null(strstr(nl, "\"why\":\"why \\\"app\\\"\""));
	assert_null(strstr(text, "libz.so.1")); /* no frame there */
	cp_manifest_free(m);
	free(text);
	fixture_free(f);
}

/* Every role and status the writer can put down is one the reader takes,
 * and the tables of the two sides are the same one. */
static void test_every_token(void **state)
{
	for (int s = 0; s < CP_STATUS_COUNT; s++) {
		enum cp_module_status back;
		assert_int_equal(cp_status_from_name(cp_status_name(s), &back), 0);
		assert_int_equal(back, s);
	}
	for (int r = 0; r < CP_ROLE_COUNT; r++) {
		enum cp_module_role back;
		assert_int_equal(cp_role_from_name(cp_role_name(r), &back), 0);
		assert_int_equal(back, r);
	}
	for (int d = 0; d < CP_DEBUG_STATUS_UNKNOWN; d++)
		assert_int_equal(cp_debug_status_from_name(cp_debug_status_name(d)), d);
	for (int k = 0; k < CP_DEBUG_KIND_UNKNOWN; k++)
		assert_int_equal(cp_debug_kind_from_name(cp_debug_kind_name(k)), k);
	enum cp_module_status st;
	assert_int_equal(cp_status_from_name("fine", &st), -EINVAL);
	assert_int_equal(cp_debug_status_from_name("new-in-v1.1"), CP_DEBUG_STATUS_UNKNOWN);
	assert_int_equal(cp_debug_kind_from_name(NULL), CP_DEBUG_KIND_UNKNOWN);
}

/* Split DWARF files, solib-search-path directories and gdb scripts: what
 * run-gdb.sh is made from reads back, and the rest is written. */
static void test_split_and_scripts(void **state)
{
	struct fixture *f = fixture_new();
	static char *dirs[] = {(char *)"/opt/app/lib", (char *)"/opt/app/plugins"};
	f->scan.solib_dirs = dirs;
	f->scan.n_solib_dirs = 2;
	struct cp_split_unit unit = {.dwo_id = 0xc078000339f3de8bULL,
	                             .dwo_name = (char *)"obj/plain.dwo",
	                             .comp_dir = (char *)"/build"};
	struct cp_debug_file dwo = {.host_path = (char *)"/build/obj/plain.dwo",
	                            .how = CP_DEBUG_DWO_COMP_DIR};
	struct cp_debug_file dwp = {.host_path = (char *)"/usr/lib/libnodebug.so.dwp",
	                            .how = CP_DEBUG_DWP};
	static const char *const dwo_links[] = {"sysroot/usr/lib/obj/plain.dwo"};
	static const char *const dwp_links[] = {"sysroot/usr/lib/libnodebug.so.dwp"};
	struct cp_packed_debug debug[N_DEBUG + 2];
	memcpy(debug, f->debug, sizeof(f->debug));
	debug[3] = (struct cp_packed_debug){6,
	                                    &dwo,
	                                    CP_DEBUG_KIND_DWO,
	                                    (char *)"debug/.dwo/c078000339f3de8b.dwo",
	                                    digest(70, 0, 70),
	                                    &unit,
	                                    dwo_links,
	                                    1,
	                                    0};
	debug[4] = (struct cp_packed_debug){5,
	                                    &dwp,
	                                    CP_DEBUG_KIND_DWP,
	                                    (char *)"debug/.dwp/usr/lib/libnodebug.so.dwp",
	                                    digest(80, 0, 80),
	                                    NULL,
	                                    dwp_links,
	                                    1,
	                                    0};
	add_file(f, debug[3].bundle_path, &debug[3].digest);
	add_file(f, debug[4].bundle_path, &debug[4].digest);
	struct cp_autoload_file af[2] = {
	    {6, 1, (char *)"/usr/share/gdb/auto-load/usr/lib/libplain.so-gdb.py",
	     (char *)"/usr/lib/libplain.so-gdb.py", (char *)"sysroot/usr/lib/libplain.so-gdb.py"},
	    {6, 0, (char *)"/usr/share/gcc/python/x.py", (char *)"/usr/share/gcc/python/x.py",
	     (char *)"sysroot/usr/share/gcc/python/x.py"},
	};
	struct cp_autoload al = {af, 2, NULL, 0};
	f->in.debug = debug;
	f->in.n_debug = 5;
	f->in.n_files = f->n_files;
	f->in.autoload = &al;

	char *text = NULL;
	struct cp_manifest *m = round_trip(f, &text);
	assert_int_equal(m->n_solib_dirs, 2);
	assert_str(m->solib_dirs[0], "/opt/app/lib");
	assert_str(m->solib_dirs[1], "/opt/app/plugins");
	assert_true(m->bundle_scripts);
	const struct cp_manifest_object *o = &m->objects[6];
	assert_int_equal(o->n_debug, 1);
	assert_int_equal(o->debug[0].kind, CP_DEBUG_KIND_DWO);
	assert_str(o->debug[0].found_by, "dwo-comp-dir");
	assert_str(o->debug[0].bundle_path, "debug/.dwo/c078000339f3de8b.dwo");
	assert_null(o->debug[0].build_id);
	o = &m->objects[5];
	assert_int_equal(o->n_debug, 1);
	assert_int_equal(o->debug[0].kind, CP_DEBUG_KIND_DWP);
	assert_str(o->debug[0].found_by, "dwp");
	assert_non_null(strstr(text, "\"dwo_id\":\"c078000339f3de8b\""));
	assert_non_null(strstr(text, "\"dwo_name\":\"obj/plain.dwo\""));
	assert_non_null(strstr(text, "\"links\":["));
	assert_non_null(strstr(text, "\"sysroot/usr/lib/obj/plain.dwo\""));
	assert_non_null(strstr(text, "\"kind\":\"python\""));
	cp_manifest_free(m);
	free(text);

	/* Without an object's script, --trust has nothing to auto-load. */
	al.n_files = 0;
	m = round_trip(f, &text);
	assert_false(m->bundle_scripts);
	cp_manifest_free(m);
	free(text);
	fixture_free(f);
}

/* Nothing packed (--list --json's objects, or a manifest of a bundle that
 * holds the core only): no bundle paths, no gdb executable. */
static void test_nothing_packed(void **state)
{
	struct fixture *f = fixture_new();
	f->in.objects = NULL;
	f->in.n_debug = 0;
	f->in.n_files = 1; /* the core */
	f->in.thread_db_dir = NULL;
	char *text = NULL;
	struct cp_manifest *m = round_trip(f, &text);
	for (size_t i = 0; i < m->n_objects; i++) {
		assert_null(m->objects[i].bundle_path);
		assert_int_equal(m->objects[i].n_debug, 0);
	}
	assert_null(m->gdb_executable);
	assert_null(cp_manifest_executable(m));
	cp_manifest_free(m);
	free(text);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_field),
	    cmocka_unit_test(test_every_token),
	    cmocka_unit_test(test_nothing_packed),
	    cmocka_unit_test(test_split_and_scripts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
