/*
 * The manifest parser on hostile input: a manifest shaped like corepack's
 * is accepted and read back; then one field at a time is removed, given
 * the wrong JSON type, made huge, malformed or inconsistent, and each must
 * be refused with a message naming the field.  The base manifest is of
 * version 1 (digests inside); version 2's digest kinds and digests.json,
 * and the memory budget of the JSON tree, have tests of their own.
 */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corepack/layout.h"
#include "corepack/manifest_read.h"
#include "corepack/remote.h"

#define SHA_A "3ba877bf16cd2995ad2eae73da02e1c2f17cc678f5da9ff21e1a134f1cf9f504"
#define SHA_B "6b4a45352fd0c540a9c7c718f35ce8c8e46a4e482f9d3885a910c32d1a0e1421"
#define SHA_C "c0cbb1c23cf18a6a3774d44e646aa74ca795f3b24aeb91ae90af054684ac900e"

/* A manifest as corepack writes it (trimmed to what coreunpack reads and a
 * few fields it ignores). */
static const char base_json[] =
    "{\n"
    "  \"manifest_version\": 1,\n"
    "  \"corepack_version\": \"0.1.0\",\n"
    "  \"created\": \"2026-11-23T01:06:06Z\",\n"
    "  \"host\": {\"nodename\": \"vm\", \"release\": \"6.1.0\", \"machine\": \"x86_64\",\n"
    "           \"os_release\": {\"PRETTY_NAME\": \"Debian GNU/Linux 12 (bookworm)\"}},\n"
    "  \"sysroot\": null,\n"
    "  \"core\": {\"path\": \"core\", \"original_name\": \"core\", \"size\": 8839168,\n"
    "           \"sha256\": \"" SHA_A "\", \"class\": \"ELF64\", \"machine\": \"x86_64\",\n"
    "           \"executable\": \"/tmp/up/t\", \"pid\": 24788, \"command\": \"t\",\n"
    "           \"args\": \"./t \", \"signal\": 11, \"signal_name\": \"SIGSEGV\",\n"
    "           \"si_code\": 1, \"fault_address\": \"0x0\", \"threads\": 2,\n"
    "           \"truncated\": false, \"missing_bytes\": 0},\n"
    "  \"gdb\": {\"sysroot\": \"sysroot\", \"debug_file_directory\": \"debug\",\n"
    "          \"executable\": \"/tmp/up/t\", \"core\": \"core\",\n"
    "          \"thread_db_dir\": \"/usr/lib/x86_64-linux-gnu\"},\n"
    "  \"objects\": [\n"
    "    {\"path\": \"/tmp/up/t\", \"role\": \"executable\",\n"
    "     \"names\": [{\"path\": \"/tmp/up/t\", \"source\": \"nt_file\"}],\n"
    "     \"build_id_core\": \"188db1e3715f89deeac59496f4dd352cdb48daff\",\n"
    "     \"build_id_file\": \"188db1e3715f89deeac59496f4dd352cdb48daff\",\n"
    "     \"status\": \"ok\", \"detail\": null, \"real_path\": \"/tmp/up/t\",\n"
    "     \"bundle_path\": \"sysroot/tmp/up/t\", \"size\": 17704, \"sha256\": \"" SHA_B "\",\n"
    "     \"debug_status\": \"in-object\", \"debuglink\": null, \"debug\": []},\n"
    "    {\"path\": \"/usr/lib/x86_64-linux-gnu/libc.so.6\", \"role\": \"library\",\n"
    "     \"build_id_core\": \"93ac61ec5a8eb1396f9fbd350e3169a558528a40\",\n"
    "     \"build_id_file\": null, \"status\": \"unverified\", \"detail\": \"no copy\",\n"
    "     \"real_path\": \"/usr/lib/x86_64-linux-gnu/libc.so.6\",\n"
    "     \"bundle_path\": \"sysroot/usr/lib/x86_64-linux-gnu/libc.so.6\", \"size\": 10,\n"
    "     \"debug_status\": \"found\",\n"
    "     \"debug\": [{\"kind\": \"debug\", \"found_by\": \"build-id\",\n"
    "                \"origin\": \"/usr/lib/debug/.build-id/93/ac.debug\",\n"
    "                \"build_id\": \"93ac61ec5a8eb1396f9fbd350e3169a558528a40\",\n"
    "                \"bundle_path\": \"debug/.build-id/93/ac.debug\", \"size\": 20}]},\n"
    "    {\"path\": \"/usr/lib/libz.so.1\", \"role\": \"library\", \"status\": \"mismatch\",\n"
    "     \"detail\": \"replaced\", \"real_path\": \"/usr/lib/libz.so.1\",\n"
    "     \"bundle_path\": null, \"debug\": []}\n"
    "  ],\n"
    "  \"links\": [{\"path\": \"/lib\", \"target\": \"usr/lib\"}],\n"
    "  \"warnings\": [\"'/usr/lib/libz.so.1': replaced after the crash\"],\n"
    "  \"files\": [\n"
    "    {\"path\": \"core\", \"size\": 8839168, \"sparse_sha256\": \"" SHA_A "\"},\n"
    "    {\"path\": \"sysroot/tmp/up/t\", \"size\": 17704, \"sha256\": \"" SHA_B "\"},\n"
    "    {\"path\": \"sysroot/usr/lib/x86_64-linux-gnu/libc.so.6\", \"size\": 10,\n"
    "     \"sha256\": \"" SHA_B "\"},\n"
    "    {\"path\": \"debug/.build-id/93/ac.debug\", \"size\": 20, \"sha256\": \"" SHA_C "\"},\n"
    "    {\"path\": \"run-gdb.sh\", \"size\": 2, \"sha256\": \"" SHA_C "\"},\n"
    "    {\"path\": \"corepack.gdb\", \"size\": 3, \"sha256\": \"" SHA_C "\"}\n"
    "  ]\n"
    "}\n";

static json_object *base(void)
{
	json_object *o = json_tokener_parse(base_json);
	assert_non_null(o);
	return o;
}

/* The JSON value at PATH ("objects.0.debug"), which must exist. */
static json_object *at(json_object *root, const char *path)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	json_object *o = root;
	for (char *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save)) {
		json_object *next = NULL;
		if (json_object_is_type(o, json_type_array))
			next = json_object_array_get_idx(o, (size_t)atoi(k));
		else
			assert_true(json_object_object_get_ex(o, k, &next));
		assert_non_null(next);
		o = next;
	}
	return o;
}

/* Set KEY of the object at PATH to V (consumed); V NULL deletes KEY. */
static void set(json_object *root, const char *path, const char *key, json_object *v)
{
	json_object *o = path ? at(root, path) : root;
	if (v)
		json_object_object_add(o, key, v);
	else
		json_object_object_del(o, key);
}

static int parse_text(const char *text, size_t len, struct cp_manifest **out, struct cp_error *err)
{
	cp_error_clear(err);
	return cp_manifest_parse(text, len, out, err);
}

static int parse_json(json_object *root, struct cp_manifest **out, struct cp_error *err)
{
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
	int r = parse_text(text, strlen(text), out, err);
	json_object_put(root);
	return r;
}

/* ROOT (consumed) is refused with CODE and a message holding WANT. */
static void assert_refused(json_object *root, int code, const char *want)
{
	struct cp_manifest *m = NULL;
	struct cp_error err;
	int r = parse_json(root, &m, &err);
	if (r != -code || !strstr(err.msg, want))
		fail_msg("got %d '%s', expected %d and a message with '%s'", r, err.msg, -code,
		         want);
	assert_null(m);
	assert_non_null(strstr(err.msg, "manifest.json: "));
}

/* Version 2 (run-lldb.sh added) is read, and so is version 1 (test_valid). */
static void test_valid(void **state)
{
	struct cp_manifest *m = NULL;
	struct cp_error err;
	assert_int_equal(parse_text(base_json, strlen(base_json), &m, &err), 0);
	assert_int_equal(m->version, 1);
	assert_string_equal(m->corepack_version, "0.1.0");
	assert_string_equal(m->host_nodename, "vm");
	assert_string_equal(m->host_os, "Debian GNU/Linux 12 (bookworm)");
	assert_string_equal(m->core_machine, "x86_64");
	assert_string_equal(m->core_executable, "/tmp/up/t");
	assert_string_equal(m->args, "./t ");
	assert_string_equal(m->signal_name, "SIGSEGV");
	assert_int_equal(m->pid, 24788);
	assert_int_equal(m->signal, 11);
	assert_int_equal(m->threads, 2);
	assert_int_equal(m->truncated, 0);
	assert_string_equal(m->thread_db_dir, "/usr/lib/x86_64-linux-gnu");
	assert_int_equal(m->n_objects, 3);
	assert_int_equal(m->objects[1].status, CP_STATUS_UNVERIFIED);
	assert_int_equal(m->objects[1].n_debug, 1);
	assert_string_equal(m->objects[1].debug[0].bundle_path, "debug/.build-id/93/ac.debug");
	assert_null(m->objects[2].bundle_path);
	assert_int_equal(m->n_warnings, 1);
	assert_int_equal(m->n_files, 6);

	const struct cp_manifest_file *f = cp_manifest_find_file(m, "core");
	assert_non_null(f);
	assert_int_equal(f->sparse, 1);
	assert_int_equal(f->size, 8839168);
	assert_int_equal(f->sha256[0], 0x3b);
	assert_int_equal(f->sha256[31], 0x04);
	f = cp_manifest_find_file(m, "sysroot/tmp/up/t");
	assert_non_null(f);
	assert_int_equal(f->sparse, 0);
	assert_null(cp_manifest_find_file(m, "sysroot/tmp/up"));
	assert_null(cp_manifest_find_file(m, "manifest.json"));
	for (size_t i = 0; i < m->n_files; i++)
		assert_ptr_equal(cp_manifest_find_file(m, m->files[i].path), &m->files[i]);

	const struct cp_manifest_object *exe = cp_manifest_executable(m);
	assert_non_null(exe);
	assert_string_equal(exe->real_path, "/tmp/up/t");
	cp_manifest_free(m);
	cp_manifest_free(NULL);
}

static void test_minimal(void **state)
{
	static const char text[] =
	    "{\"manifest_version\":1,\"core\":{},\"gdb\":{},\"objects\":[],"
	    "\"files\":[{\"path\":\"core\",\"size\":0,\"sha256\":\"" SHA_A "\"}]}";
	struct cp_manifest *m = NULL;
	struct cp_error err;
	assert_int_equal(parse_text(text, strlen(text), &m, &err), 0);
	assert_string_equal(m->core_machine, "unknown");
	assert_int_equal(m->pid, -1);
	assert_null(m->thread_db_dir);
	assert_null(cp_manifest_executable(m));
	cp_manifest_free(m);
}

static void test_malformed_json(void **state)
{
	static const char *const bad[] = {
	    "",
	    "{",
	    "{\"manifest_version\": 1,",
	    "{\"manifest_version\": 1,}",
	    "{\"a\": [1, 2,]}",
	    "{} {}",
	    "{} x",
	    "nul",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cp_manifest *m = NULL;
		struct cp_error err;
		int r = parse_text(bad[i], strlen(bad[i]), &m, &err);
		if (r != -EINVAL || !strstr(err.msg, "not valid JSON"))
			fail_msg("'%s': got %d '%s'", bad[i], r, err.msg);
		assert_null(m);
	}
	/* json-c reads NaN as a number: still not an integer. */
	struct cp_manifest *m = NULL;
	struct cp_error err;
	static const char nan[] = "{\"manifest_version\": NaN}";
	assert_int_equal(parse_text(nan, strlen(nan), &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "manifest_version: not an integer"));
	/* Valid JSON but no object; an embedded NUL. */
	assert_int_equal(parse_text("[1]", 3, &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a JSON object"));
	assert_int_equal(parse_text("{}\0{}", 5, &m, &err), -EINVAL);
	/* Trailing whitespace is fine (corepack ends with a newline). */
	static const char ws[] = "{\"manifest_version\":1}\n \t\r\n";
	assert_int_equal(parse_text(ws, strlen(ws), &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "core: missing"));
}

static void test_too_deep(void **state)
{
	char text[200] = "{\"manifest_version\":1,\"x\":";
	for (int i = 0; i < 20; i++)
		strcat(text, "[");
	for (int i = 0; i < 20; i++)
		strcat(text, "]");
	strcat(text, "}");
	struct cp_manifest *m = NULL;
	struct cp_error err;
	assert_int_equal(parse_text(text, strlen(text), &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not valid JSON"));
}

static void test_too_large(void **state)
{
	size_t len = CP_MANIFEST_MAX_SIZE + 1;
	char *text = malloc(len);
	assert_non_null(text);
	memset(text, ' ', len);
	text[0] = '{';
	text[1] = '}';
	struct cp_manifest *m = NULL;
	struct cp_error err;
	assert_int_equal(parse_text(text, len, &m, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "limit"));
	free(text);
}

static void test_missing_fields(void **state)
{
	static const struct {
		const char *path, *key, *want;
	} cases[] = {
	    {NULL, "manifest_version", "manifest_version: missing"},
	    {NULL, "core", "core: missing"},
	    {NULL, "gdb", "gdb: missing"},
	    {NULL, "objects", "objects: missing"},
	    {NULL, "files", "files: missing"},
	    {"objects.0", "path", "objects[0].path: missing"},
	    {"objects.1", "role", "objects[1].role: missing"},
	    {"objects.1", "status", "objects[1].status: missing"},
	    {"objects.1.debug.0", "bundle_path", "objects[1].debug[0].bundle_path: missing"},
	    {"files.2", "path", "files[2].path: missing"},
	    {"files.2", "size", "files[2].size: missing"},
	    {"files.2", "sha256", "files[2]: needs one of sha256 and sparse_sha256"},
	    /* bundle_path without real_path: where does run-gdb.sh find it? */
	    {"objects.0", "real_path", "objects[0].bundle_path: is not sysroot + real_path"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *root = base();
		set(root, cases[i].path, cases[i].key, NULL);
		assert_refused(root, EINVAL, cases[i].want);
	}
}

static void test_wrong_types(void **state)
{
	static const struct {
		const char *path, *key, *json, *want;
	} cases[] = {
	    {NULL, "manifest_version", "\"1\"", "manifest_version: not an integer"},
	    {NULL, "manifest_version", "1.0", "manifest_version: not an integer"},
	    {NULL, "core", "[]", "core: not an object"},
	    {NULL, "objects", "{}", "objects: not an array"},
	    {NULL, "files", "\"core\"", "files: not an array"},
	    {NULL, "warnings", "[1]", "warnings[0]: not a string"},
	    {NULL, "warnings", "[null]", "warnings[0]: not a string"},
	    {"core", "pid", "\"24788\"", "core.pid: not an integer"},
	    {"core", "truncated", "1", "core.truncated: not true or false"},
	    {"core", "machine", "62", "core.machine: not a string"},
	    {"gdb", "thread_db_dir", "[]", "gdb.thread_db_dir: not a string"},
	    {"objects.0", "path", "{}", "objects[0].path: not a string"},
	    {"objects.0", "debug", "{}", "objects[0].debug: not an array"},
	    {"objects.1", "debug", "[\"x\"]", "objects[1].debug[0]: not an object"},
	    {"files.0", "size", "\"8839168\"", "files[0].size: not an integer"},
	    {"files.0", "size", "8839168.0", "files[0].size: not an integer"},
	    {"files.1", "sha256", "true", "files[1].sha256: not a string"},
	    {NULL, "host", "\"vm\"", "host: not an object"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *root = base();
		set(root, cases[i].path, cases[i].key, json_tokener_parse(cases[i].json));
		assert_refused(root, EINVAL, cases[i].want);
	}
	json_object *root = base();
	json_object_array_put_idx(at(root, "objects"), 0, json_object_new_string("x"));
	assert_refused(root, EINVAL, "objects[0]: not an object");
	root = base();
	json_object_array_put_idx(at(root, "files"), 0, NULL);
	assert_refused(root, EINVAL, "files[0]: not an object");
}

static void test_huge_values(void **state)
{
	static const struct {
		const char *path, *key, *json, *want;
	} cases[] = {
	    {"files.0", "size", "-1", "files[0].size: -1 out of range"},
	    {"files.0", "size", "1099511627777", "out of range"},
	    {"files.0", "size", "9223372036854775807", "out of range"},
	    {"files.0", "size", "18446744073709551615", "out of range"},
	    {"core", "pid", "4294967296", "core.pid: 4294967296 out of range"},
	    {"core", "signal", "-5", "core.signal: -5 out of range"},
	    {"objects.0", "size", "1099511627777", "objects[0].size"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *root = base();
		json_object *v = json_tokener_parse(cases[i].json);
		assert_non_null(v);
		set(root, cases[i].path, cases[i].key, v);
		assert_refused(root, E2BIG, cases[i].want);
	}

	/* A text field past its cap, a path past 4096 bytes. */
	char *big = malloc(CP_MANIFEST_MAX_TEXT + 2);
	assert_non_null(big);
	memset(big, 'w', CP_MANIFEST_MAX_TEXT + 1);
	big[CP_MANIFEST_MAX_TEXT + 1] = '\0';
	json_object *root = base();
	json_object_array_put_idx(at(root, "warnings"), 0, json_object_new_string(big));
	assert_refused(root, E2BIG, "warnings[0]: 16385 bytes");
	big[4097] = '\0';
	big[0] = '/';
	root = base();
	set(root, "objects.0", "path", json_object_new_string(big));
	assert_refused(root, EINVAL, "objects[0].path: '/www");
	free(big);

	/* Counts: the cap is checked before any element is read. */
	static const struct {
		const char *key;
		size_t n;
		const char *want;
	} counts[] = {
	    {"objects", CP_MANIFEST_MAX_OBJECTS + 1, "objects: 8193 elements"},
	    {"files", CP_MANIFEST_MAX_FILES + 1, "files: 200001 elements"},
	    {"warnings", CP_MANIFEST_MAX_WARNINGS + 1, "warnings: 10001 elements"},
	};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		json_object *a = json_object_new_array_ext((int)counts[i].n);
		for (size_t k = 0; k < counts[i].n; k++)
			json_object_array_add(a, json_object_new_int(0));
		root = base();
		set(root, NULL, counts[i].key, a);
		assert_refused(root, E2BIG, counts[i].want);
	}
	json_object *d = json_object_new_array();
	for (int k = 0; k <= CP_MANIFEST_MAX_DEBUG; k++)
		json_object_array_add(d, json_object_new_object());
	root = base();
	set(root, "objects.1", "debug", d);
	assert_refused(root, E2BIG, "objects[1].debug: 65537 elements");

	/* Split DWARF makes many debug files per object, but not past a total. */
	json_object *objs = json_object_new_array();
	for (int i = 0; i < 4; i++) {
		json_object *o = json_object_new_object(), *dd = json_object_new_array();
		json_object_object_add(o, "path", json_object_new_string("/x"));
		json_object_object_add(o, "role", json_object_new_string("library"));
		json_object_object_add(o, "status", json_object_new_string("ok"));
		for (int k = 0; k < CP_MANIFEST_MAX_DEBUG_TOTAL / 4 + (i == 3); k++) {
			json_object *e = json_object_new_object();
			json_object_object_add(e, "bundle_path",
			                       json_object_new_string("debug/x.dwo"));
			json_object_array_add(dd, e);
		}
		json_object_object_add(o, "debug", dd);
		json_object_array_add(objs, o);
	}
	root = base();
	set(root, NULL, "objects", objs);
	/* So many debug entries cannot pass the tree estimate (800 bytes a
	 * JSON object) that comes first: refused before the count. */
	assert_refused(root, E2BIG, "more than the limit of 128 MiB");

	json_object *dirs = json_object_new_array();
	for (int k = 0; k <= CP_MANIFEST_MAX_SEARCH_DIRS; k++)
		json_object_array_add(dirs, json_object_new_string("/lib"));
	root = base();
	set(root, "gdb", "solib_search_path", dirs);
	assert_refused(root, E2BIG, "gdb.solib_search_path: 4097 elements");
}

/* gdb.solib_search_path ends up in gdb's search path, gdb_scripts decide
 * what --trust auto-loads: both are checked. */
static void test_gdb_paths(void **state)
{
	(void)state;
	static const struct {
		const char *value, *want;
	} bad[] = {
	    {"lib", "is not an absolute path"},
	    {"/opt/a:/etc", "a ':' would split gdb's search path"},
	    {"/opt/$sdir", "gdb would substitute a '$'"},
	    {"/opt/a ", "ends in a space or tab"},
	    {"/opt/../etc", "'..'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *root = base(), *a = json_object_new_array();
		json_object_array_add(a, json_object_new_string("/opt/app/lib"));
		json_object_array_add(a, json_object_new_string(bad[i].value));
		set(root, "gdb", "solib_search_path", a);
		assert_refused(root, EINVAL, bad[i].want);
	}

	struct cp_manifest *m = NULL;
	struct cp_error err;
	json_object *root = base(), *a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("/opt/app/lib"));
	json_object_array_add(a, json_object_new_string("/opt/app/plugins"));
	set(root, "gdb", "solib_search_path", a);
	a = json_object_new_array();
	json_object *sc = json_object_new_object();
	json_object_object_add(sc, "kind", json_object_new_string("python"));
	json_object_object_add(sc, "bundle_path",
	                       json_object_new_string("sysroot/usr/share/gcc/python/x.py"));
	json_object_array_add(a, sc);
	set(root, NULL, "gdb_scripts", a);
	assert_int_equal(parse_json(root, &m, &err), 0);
	assert_int_equal(m->n_solib_dirs, 2);
	assert_string_equal(m->solib_dirs[1], "/opt/app/plugins");
	assert_false(m->bundle_scripts);
	cp_manifest_free(m);

	root = base();
	a = json_object_new_array();
	sc = json_object_new_object();
	json_object_object_add(sc, "kind", json_object_new_string("auto-load"));
	json_object_object_add(sc, "bundle_path",
	                       json_object_new_string("sysroot/usr/lib/libstdc++.so.6-gdb.py"));
	json_object_array_add(a, sc);
	set(root, NULL, "gdb_scripts", a);
	assert_int_equal(parse_json(root, &m, &err), 0);
	assert_true(m->bundle_scripts);
	assert_int_equal(m->n_solib_dirs, 0);
	cp_manifest_free(m);

	root = base();
	a = json_object_new_array();
	sc = json_object_new_object();
	json_object_object_add(sc, "kind", json_object_new_string("auto-load"));
	json_object_object_add(sc, "bundle_path", json_object_new_string("debug/x-gdb.py"));
	json_object_array_add(a, sc);
	set(root, NULL, "gdb_scripts", a);
	assert_refused(root, EINVAL, "gdb_scripts[0].bundle_path: not below sysroot/");
}

static void test_bad_strings(void **state)
{
	static const struct {
		const char *path, *key, *value, *want;
	} cases[] = {
	    /* Paths coreunpack builds on. */
	    {"objects.0", "real_path", "tmp/up/t", "is not an absolute path"},
	    {"objects.0", "real_path", "/tmp/../up/t", "has a '..' component"},
	    {"objects.0", "real_path", "/tmp//up/t", "has an empty component"},
	    {"objects.0", "real_path", "/tmp/./up/t", "has a '.' component"},
	    {"objects.0", "real_path", "/tmp/up/t/", "ends in '/'"},
	    {"objects.0", "real_path", "/", "is the root directory"},
	    {"objects.0", "real_path", "/tmp/u\np/t", "has a control character"},
	    {"objects.0", "real_path", "/tmp/u\033[2Jp/t", "'/tmp/u\\x1b[2Jp/t' has a control"},
	    {"objects.0", "bundle_path", "sysroot/../../etc/passwd", "has a '..' component"},
	    {"objects.0", "bundle_path", "/sysroot/tmp/up/t", "is an absolute path"},
	    {"objects.0", "bundle_path", "etc/passwd", "is not below a bundle name"},
	    {"objects.0", "bundle_path", "sysroot/tmp/up/other", "is not sysroot + real_path"},
	    {"objects.1.debug.0", "bundle_path", "sysroot/usr/lib/x86_64-linux-gnu/libc.so.6",
	     "not below debug/"},
	    {"files.1", "path", "manifest.json", "the manifest cannot list manifest.json"},
	    {"files.1", "path", "core/x", "is below a file of the bundle"},
	    {"files.1", "path", "sysroot", "names a directory of the bundle"},
	    {"files.1", "path", ".gdbinit", "is not below a bundle name"},
	    {"files.1", "path", "", "is empty"},
	    {"gdb", "thread_db_dir", "usr/lib", "is not an absolute path"},
	    {"gdb", "thread_db_dir", "/usr/lib/../../x", "has a '..' component"},
	    /* Shown only, but never with control characters when a path. */
	    {"objects.0", "path", "/tmp/a\rb", "objects[0].path: '/tmp/a\\x0db' has a control"},
	    {"objects.0", "path", "", "objects[0].path: '' is empty"},
	    /* Words and digests. */
	    {"objects.0", "status", "fine", "unknown status 'fine'"},
	    {"objects.0", "role", "plugin", "unknown role 'plugin'"},
	    {"objects.0", "status", "ok; rm -rf /", "is not a word"},
	    {"core", "machine", "x86 64", "core.machine: 'x86 64' is not a word"},
	    {"core", "machine", "", "core.machine: '' is not a word"},
	    {"objects.0", "build_id_core", "188DB1", "is not a build-id"},
	    {"objects.0", "build_id_core", "188db", "is not a build-id"},
	    {"files.0", "sparse_sha256", SHA_A "00", "is not a sha256"},
	    {"files.1", "sha256",
	     "3BA877BF16CD2995AD2EAE73DA02E1C2F17CC678F5DA9FF21E1A134F1CF9F504", "is not a sha256"},
	    {"core", "path", "sysroot/core", "core.path: not 'core'"},
	    {"gdb", "sysroot", "/", "gdb.sysroot: not 'sysroot'"},
	    {"gdb", "core", "../core", "gdb.core: not 'core'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *root = base();
		set(root, cases[i].path, cases[i].key, json_object_new_string(cases[i].value));
		assert_refused(root, EINVAL, cases[i].want);
	}

	/* A NUL inside a string ("\u0000"). */
	json_object *root = base();
	set(root, "objects.0", "real_path", json_object_new_string_len("/tmp/up/t\0/x", 12));
	assert_refused(root, EINVAL, "objects[0].real_path: has a NUL byte");
}

static void test_inconsistent(void **state)
{
	json_object *root = base();
	set(root, NULL, "manifest_version", json_object_new_int(CP_MANIFEST_VERSION + 1));
	assert_refused(root, EINVAL, "is not supported (this coreunpack reads versions 1 to");
	root = base();
	set(root, NULL, "manifest_version", json_object_new_int(0));
	assert_refused(root, EINVAL, "version 0 is not supported");

	/* A file listed twice. */
	root = base();
	json_object *dup = NULL;
	json_object_deep_copy(at(root, "files.3"), &dup, NULL);
	json_object_array_add(at(root, "files"), dup);
	assert_refused(root, EINVAL, "files: lists 'debug/.build-id/93/ac.debug' twice");

	/* No core. */
	root = base();
	json_object_array_del_idx(at(root, "files"), 0, 1);
	assert_refused(root, EINVAL, "no 'core' listed");

	/* Both digests. */
	root = base();
	set(root, "files.1", "sparse_sha256", json_object_new_string(SHA_B));
	assert_refused(root, EINVAL, "files[1]: needs one of sha256 and sparse_sha256");

	/* An object's size disagrees with the file listed. */
	root = base();
	set(root, "objects.0", "size", json_object_new_int(17705));
	assert_refused(root, EINVAL, "objects[0].size: 17705, but files says 17704");
	root = base();
	set(root, "objects.1.debug.0", "size", json_object_new_int(21));
	assert_refused(root, EINVAL, "objects[1].debug[0].size: 21, but files says 20");

	/* A bundle path not in files may be a symlink (same inode stored
	 * once): the parser accepts it, the reader checks it. */
	struct cp_manifest *m = NULL;
	struct cp_error err;
	root = base();
	set(root, "objects.1", "real_path", json_object_new_string("/usr/lib/libc.so.6"));
	set(root, "objects.1", "bundle_path", json_object_new_string("sysroot/usr/lib/libc.so.6"));
	assert_int_equal(parse_json(root, &m, &err), 0);
	cp_manifest_free(m);
}

/* The base manifest as version 2: each file's digest kind under
 * "digest", no digests. */
static json_object *base_v2(void)
{
	json_object *root = base();
	set(root, NULL, "manifest_version", json_object_new_int(2));
	json_object *files = at(root, "files");
	for (size_t i = 0; i < json_object_array_length(files); i++) {
		json_object *f = json_object_array_get_idx(files, i);
		const char *kind =
		    json_object_object_get_ex(f, "sha256", NULL) ? "sha256" : "sparse_sha256";
		json_object_object_add(f, "digest", json_object_new_string(kind));
		json_object_object_del(f, kind);
	}
	return root;
}

static const char digests_json[] =
    "{\"files\": [{\"path\": \"core\", \"sparse_sha256\": \"" SHA_A "\"},\n"
    " {\"path\": \"sysroot/tmp/up/t\", \"sha256\": \"" SHA_B "\"},\n"
    " {\"path\": \"sysroot/usr/lib/x86_64-linux-gnu/libc.so.6\", \"sha256\": \"" SHA_B "\"},\n"
    " {\"path\": \"debug/.build-id/93/ac.debug\", \"sha256\": \"" SHA_C "\"},\n"
    " {\"path\": \"run-gdb.sh\", \"sha256\": \"" SHA_C "\"},\n"
    " {\"path\": \"corepack.gdb\", \"sha256\": \"" SHA_C "\"}]}\n";

/* Version 2: kinds in the manifest, digests from digests.json, checked
 * against the manifest's list. */
static void test_version2(void **state)
{
	struct cp_manifest *m = NULL;
	struct cp_error err;
	assert_int_equal(parse_json(base_v2(), &m, &err), 0);
	assert_int_equal(m->version, 2);
	assert_int_equal(m->files[0].kind, CP_DIGEST_SPARSE_SHA256);
	assert_true(m->files[0].sparse);
	assert_int_equal(m->files[1].kind, CP_DIGEST_SHA256);
	assert_false(m->files[1].have_digest);
	assert_true(cp_manifest_digests_cap(m) >= sizeof(digests_json));
	if (cp_manifest_take_digests(m, digests_json, strlen(digests_json), &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(m->files[0].have_digest && m->files[5].have_digest);
	assert_int_equal(m->files[0].sha256[0], 0x3b);
	assert_int_equal(m->files[5].sha256[0], 0xc0);

	/* digests.json that does not follow the manifest. */
	static const struct {
		const char *from, *to, *want;
	} bad[] = {
	    {"\"sparse_sha256\"", "\"sha256\"", "files[0].sparse_sha256: missing"},
	    {"\"run-gdb.sh\"", "\"corepack.gdb\"", "files[4].path: 'corepack.gdb', the manifest"},
	    {"]}", ",{}]}", "files: 7 files, the manifest lists 6"},
	    {"\"" SHA_C "\"}]", "\"" SHA_C "0\"}]", "files[5].sha256: '"},
	    {"{\"files\"", "[{\"files\"", "digests.json: not valid JSON"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[4096];
		const char *at_ = strstr(digests_json, bad[i].from);
		assert_non_null(at_);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at_ - digests_json), digests_json,
		         bad[i].to, at_ + strlen(bad[i].from));
		cp_error_clear(&err);
		int r = cp_manifest_take_digests(m, text, strlen(text), &err);
		if (r != -EINVAL || !strstr(err.msg, bad[i].want) ||
		    strncmp(err.msg, "digests.json: ", 14) != 0)
			fail_msg("case %zu: got %d '%s', expected '%s'", i, r, err.msg,
			         bad[i].want);
	}
	/* Longer than the manifest allows. */
	size_t cap = cp_manifest_digests_cap(m);
	char *big = malloc(cap + 1);
	assert_non_null(big);
	memset(big, ' ', cap + 1);
	assert_int_equal(cp_manifest_take_digests(m, big, cap + 1, &err), -E2BIG);
	free(big);
	cp_manifest_free(m);

	/* A version 2 file with no kind, or an unknown one. */
	json_object *root = base_v2();
	set(root, "files.2", "digest", NULL);
	assert_refused(root, EINVAL, "files[2].digest: missing");
	root = base_v2();
	set(root, "files.2", "digest", json_object_new_string("md5"));
	assert_refused(root, EINVAL, "files[2].digest: unknown digest kind 'md5'");
	root = base_v2();
	set(root, "files.2", "path", json_object_new_string("digests.json"));
	assert_refused(root, EINVAL, "the manifest cannot list digests.json");
}

/* Version 4: the core's digest kind is an XXH3-128 one, 32 hex digits in
 * digests.json; an XXH3-128 kind in an older version is refused. */
static void test_version4_xxh3(void **state)
{
	json_object *root = base_v2();
	set(root, NULL, "manifest_version", json_object_new_int(4));
	set(root, "files.0", "digest", json_object_new_string("sparse_xxh3_128"));
	struct cp_manifest *m = NULL;
	struct cp_error err;
	assert_int_equal(parse_json(root, &m, &err), 0);
	assert_int_equal(m->version, 4);
	assert_int_equal(m->files[0].kind, CP_DIGEST_SPARSE_XXH3_128);
	assert_true(m->files[0].sparse);
	assert_int_equal(cp_digest_kind_size(m->files[0].kind), 16);

	char text[4096];
	const char *from = "\"sparse_sha256\": \"" SHA_A "\"";
	const char *at_ = strstr(digests_json, from);
	assert_non_null(at_);
	snprintf(text, sizeof(text), "%.*s\"sparse_xxh3_128\": \"%s\"%s", (int)(at_ - digests_json),
	         digests_json, "00112233445566778899aabbccddeeff", at_ + strlen(from));
	if (cp_manifest_take_digests(m, text, strlen(text), &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(m->files[0].have_digest);
	assert_int_equal(m->files[0].digest[0], 0x00);
	assert_int_equal(m->files[0].digest[15], 0xff);
	/* A SHA-256's 64 digits under the XXH3-128 key. */
	snprintf(text, sizeof(text), "%.*s\"sparse_xxh3_128\": \"%s\"%s", (int)(at_ - digests_json),
	         digests_json, SHA_A, at_ + strlen(from));
	cp_error_clear(&err);
	assert_int_equal(cp_manifest_take_digests(m, text, strlen(text), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "files[0].sparse_xxh3_128: '"));
	assert_non_null(strstr(err.msg, "is not an xxh3_128 (32 lowercase hex digits)"));
	cp_manifest_free(m);

	/* The XXH3-128 kinds came with version 4. */
	for (int version = 2; version <= 3; version++) {
		root = base_v2();
		set(root, NULL, "manifest_version", json_object_new_int(version));
		set(root, "files.0", "digest", json_object_new_string("sparse_xxh3_128"));
		assert_refused(root, EINVAL,
		               "files[0].digest: 'sparse_xxh3_128' needs manifest version 4");
	}
	root = base();
	json_object *f0 = json_object_array_get_idx(at(root, "files"), 0);
	json_object_object_del(f0, "sparse_sha256");
	json_object_object_add(f0, "sparse_xxh3_128",
	                       json_object_new_string("00112233445566778899aabbccddeeff"));
	assert_refused(root, EINVAL, "files[0]: needs one of sha256 and sparse_sha256");
}

/* JSON that json-c would need gigabytes to hold is refused before it is
 * parsed: a manifest of "{}" within the size cap (measured: 784 bytes of
 * heap each, 4.2 GB for 16 MiB of them). */
static void test_json_bomb(void **state)
{
	static const char *const units[] = {"{}", "[]", "0", "\"\""};
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t ul = strlen(units[u]), n = (CP_MANIFEST_MAX_SIZE - 2) / (ul + 1), len = 0;
		char *text = malloc(CP_MANIFEST_MAX_SIZE);
		assert_non_null(text);
		text[len++] = '[';
		for (size_t i = 0; i < n; i++) {
			memcpy(text + len, units[u], ul);
			len += ul;
			text[len++] = ',';
		}
		text[len - 1] = ']';
		struct cp_manifest *m = NULL;
		struct cp_error err;
		int r = parse_text(text, len, &m, &err);
		/* Numbers and strings cost less than "{}", but every unit here
		 * is past the budget. */
		if (r != -E2BIG || !strstr(err.msg, "MiB to hold"))
			fail_msg("%s: got %d '%s'", units[u], r, err.msg);
		free(text);
	}
	/* A real manifest is far within it. */
	struct cp_manifest *m = NULL;
	struct cp_error err;
	assert_int_equal(parse_text(base_json, strlen(base_json), &m, &err), 0);
	cp_manifest_free(m);
}

/* Version 3, a thin bundle: the executable left out, listed in
 * "remote" instead of "files". */
static json_object *base_v3(void)
{
	json_object *root = base_v2();
	set(root, NULL, "manifest_version", json_object_new_int(3));
	json_object_array_del_idx(at(root, "files"), 1, 1);
	json_object *remote = json_tokener_parse(
	    "[{\"path\": \"sysroot/tmp/up/t\", \"kind\": \"executable\", \"build_id\": "
	    "\"188db1e3715f89deeac59496f4dd352cdb48daff\", \"size\": 17704, \"sha256\": \"" SHA_B
	    "\"}]");
	assert_non_null(remote);
	set(root, NULL, "remote", remote);
	return root;
}

static void test_version3_remote(void **state)
{
	struct cp_manifest *m = NULL;
	struct cp_error err;
	if (parse_json(base_v3(), &m, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(m->version, 3);
	assert_int_equal(m->n_remote, 1);
	assert_int_equal(m->remote_bytes, 17704);
	const struct cp_manifest_remote *rf = cp_manifest_find_remote(m, "sysroot/tmp/up/t");
	assert_non_null(rf);
	assert_int_equal(rf->kind, CP_REMOTE_EXECUTABLE);
	assert_string_equal(rf->build_id, "188db1e3715f89deeac59496f4dd352cdb48daff");
	assert_int_equal(rf->sha256[0], 0x6b);
	assert_null(cp_manifest_find_file(m, "sysroot/tmp/up/t"));
	assert_null(cp_manifest_find_remote(m, "sysroot/tmp/up/u"));
	cp_manifest_free(m);

	/* "remote" means nothing in version 2: ignored */
	json_object *root = base_v3();
	set(root, NULL, "manifest_version", json_object_new_int(2));
	assert_int_equal(parse_json(root, &m, &err), 0);
	assert_int_equal(m->n_remote, 0);
	cp_manifest_free(m);

	root = base_v3();
	set(root, "remote.0", "path", json_object_new_string("core"));
	assert_refused(root, EINVAL, "remote[0].path: a executable not below sysroot/");
	root = base_v3();
	set(root, "remote.0", "path",
	    json_object_new_string("sysroot/usr/lib/x86_64-linux-gnu/libc.so.6"));
	assert_refused(root, EINVAL, "remote[0].path: is in files too");
	root = base_v3();
	set(root, "remote.0", "kind", json_object_new_string("debuginfo"));
	assert_refused(root, EINVAL, "remote[0].path: a debuginfo not below debug/");
	root = base_v3();
	set(root, "remote.0", "kind", json_object_new_string("source"));
	assert_refused(root, EINVAL, "remote[0].kind: unknown remote kind 'source'");
	root = base_v3();
	set(root, "remote.0", "size", json_object_new_int(0));
	assert_refused(root, E2BIG, "remote[0].size: 0 out of range");
	root = base_v3();
	set(root, "remote.0", "sha256", NULL);
	assert_refused(root, EINVAL, "remote[0].sha256: missing");
	root = base_v3();
	set(root, "remote.0", "build_id", json_object_new_string("abc"));
	assert_refused(root, EINVAL, "remote[0].build_id: 'abc' is not a build-id");
	root = base_v3();
	set(root, "remote.0", "size", json_object_new_int(5));
	assert_refused(root, EINVAL, "objects[0].size: 17704, but remote says 5");
	root = base_v3();
	json_object *dup = NULL;
	json_object_deep_copy(at(root, "remote.0"), &dup, NULL);
	json_object_array_add(at(root, "remote"), dup);
	assert_refused(root, EINVAL, "remote: lists 'sysroot/tmp/up/t' twice");
	/* past 1 TiB, files and remote ones added */
	root = base_v3();
	set(root, "remote.0", "size", json_object_new_int64(1LL << 40));
	set(root, "objects.0", "size", NULL);
	assert_refused(root, E2BIG, "more than 1099511627776 bytes of files, remote ones included");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version2),        cmocka_unit_test(test_version4_xxh3),
	    cmocka_unit_test(test_json_bomb),       cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_minimal),         cmocka_unit_test(test_malformed_json),
	    cmocka_unit_test(test_too_deep),        cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_missing_fields),  cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_huge_values),     cmocka_unit_test(test_bad_strings),
	    cmocka_unit_test(test_inconsistent),    cmocka_unit_test(test_gdb_paths),
	    cmocka_unit_test(test_version3_remote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
