/*
 * Unit tests for src/pack/debuginfo.c and src/pack/crc32.c.  The fixtures are real
 * ELF files built once per run with cc, objcopy and strip in a temporary
 * directory (known build-ids through -Wl,--build-id=0x...), then copied
 * into a fresh tree for each test: a debug root with .build-id links, a
 * sysroot with the object's directory, dwz alt files named by a
 * .gnu_debugaltlink section added with objcopy.  One test uses the host's
 * libc and its libc6-dbg debug file when they are installed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "test_skip.h"

#include "corepack/debuginfo.h"
#include "corepack/io.h"
#include "corepack/resolve.h"

/* Build-ids given to the linker, so the .build-id names are known. */
#define ID_T "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334"
#define ID_OTHER "a1b2c3d4e5f60718293a4b5c6d7e8f90deadbeef"
#define ID_ALT "dd00112233445566778899aabbccddeeff001122"
#define ID_ALT_WRONG "dd00112233445566778899aabbccddeeff00beef"

/* The artifacts, built once in this directory by the group setup. */
static char g_art[64];

/* ---- helpers ---- */

static void hex_to_bytes(const char *hex, uint8_t *out, size_t *len)
{
	assert_int_equal(cp_unhex(hex, strlen(hex), out), 0);
	*len = strlen(hex) / 2;
}

/* Run a shell command built from FMT; only fixture paths (mkdtemp names)
 * are ever substituted. */
__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -1;
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

__attribute__((format(printf, 1, 2))) static char *xfmt(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	return s;
}

static void mkdir_p(const char *path)
{
	char *p = strdup(path);
	assert_non_null(p);
	for (char *c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
		*c = '/';
	}
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
	free(p);
}

static void write_file(const char *path, const void *data, size_t len)
{
	char *dir = strdup(path);
	assert_non_null(dir);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	free(dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void *read_all(const char *path, size_t *len)
{
	char *text;
	assert_int_equal(cp_read_file_capped(path, 1u << 30, &text, len, NULL), 0);
	return text;
}

/* Copy artifact NAME to DST (directories made). */
static void put(const char *name, const char *dst)
{
	char *src = xfmt("%s/%s", g_art, name);
	size_t len;
	void *data = read_all(src, &len);
	write_file(dst, data, len);
	free(data);
	free(src);
}

static void link_to(const char *target, const char *path)
{
	char *dir = strdup(path);
	assert_non_null(dir);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	free(dir);
	assert_int_equal(symlink(target, path), 0);
}

/* ROOT/.build-id/xx/rest.debug for hex build-id HEX. */
static char *build_id_path(const char *root, const char *hex)
{
	return xfmt("%s/.build-id/%.2s/%s.debug", root, hex, hex + 2);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- fixtures ---- */

/* Build the ELF artifacts once: an object with build-id ID_T, its debug
 * file and stripped copy with a debuglink; another with ID_OTHER; one with
 * no build-id; two alt files; and libt.so.debug variants carrying a
 * .gnu_debugaltlink. */
static int group_setup(void **state)
{
	snprintf(g_art, sizeof(g_art), "/tmp/cp-debuginfo-art-XXXXXX");
	if (!mkdtemp(g_art))
		return -1;
	char *src = xfmt("%s/t.c", g_art);
	static const char code[] = "int answer(int x) { return x * 42; }\n"
	                           "int other(int x) { return x + 7; }\n";
	FILE *f = fopen(src, "w");
	if (!f)
		return -1;
	fputs(code, f);
	fclose(f);

	const char *cc = "cc -g -O0 -shared -fPIC -o";
	int r = 0;
	r |= sh("cd %s && %s libt_full.so t.c -Wl,--build-id=0x" ID_T, g_art, cc);
	r |= sh("cd %s && objcopy --only-keep-debug libt_full.so libt.so.debug", g_art);
	r |= sh("cd %s && objcopy --strip-debug --add-gnu-debuglink=libt.so.debug libt_full.so "
	        "libt.so",
	        g_art);
	r |= sh("cd %s && %s other_full.so t.c -DOTHER -Wl,--build-id=0x" ID_OTHER, g_art, cc);
	r |= sh("cd %s && objcopy --only-keep-debug other_full.so other.debug", g_art);
	r |= sh("cd %s && %s libn_full.so t.c -Wl,--build-id=none", g_art, cc);
	r |= sh("cd %s && objcopy --only-keep-debug libn_full.so libn.so.debug", g_art);
	r |= sh("cd %s && objcopy --strip-debug --add-gnu-debuglink=libn.so.debug libn_full.so "
	        "libn.so",
	        g_art);
	r |= sh("cd %s && %s alt.debug t.c -Wl,--build-id=0x" ID_ALT, g_art, cc);
	r |= sh("cd %s && %s alt_wrong.debug t.c -Wl,--build-id=0x" ID_ALT_WRONG, g_art, cc);
	free(src);
	if (r != 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	if (g_art[0])
		rm_rf(g_art);
	return 0;
}

/* A fresh directory per test. */
static int setup_case(void **state)
{
	char tmpl[] = "/tmp/cp-debuginfo-XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir)
		return -1;
	*state = strdup(dir);
	return *state ? 0 : -1;
}

static int teardown_case(void **state)
{
	if (*state)
		rm_rf(*state);
	free(*state);
	return 0;
}

/*
 * Make artifact OUT_NAME: artifact BASE with a .gnu_debugaltlink naming
 * ALT_PATH and build-id hex ALT_ID (NULL: no build-id bytes at all).
 */
static void make_altlinked_from(const char *base, const char *out_name, const char *alt_path,
                                const char *alt_id)
{
	uint8_t sec[512];
	size_t n = strlen(alt_path) + 1;
	memcpy(sec, alt_path, n);
	if (alt_id) {
		size_t idl;
		hex_to_bytes(alt_id, sec + n, &idl);
		n += idl;
	}
	char *bin = xfmt("%s/%s.sec", g_art, out_name);
	write_file(bin, sec, n);
	assert_int_equal(sh("cd %s && objcopy --add-section .gnu_debugaltlink=%s %s %s", g_art, bin,
	                    base, out_name),
	                 0);
	free(bin);
}

static void make_altlinked(const char *out_name, const char *alt_path, const char *alt_id)
{
	make_altlinked_from("libt.so.debug", out_name, alt_path, alt_id);
}

static const uint8_t *id_of(const char *hex, uint8_t *buf, size_t *len)
{
	hex_to_bytes(hex, buf, len);
	return buf;
}

/* ---- CRC-32, hex, names ---- */

/* The CRC of whole files holding the standard check strings (the values
 * zlib's crc32() and gdb's gnu_debuglink_crc32() give). */
static void test_crc32_vectors(void **state)
{
	static const struct {
		const char *text;
		uint32_t crc;
	} v[] = {
	    {"123456789", 0xcbf43926},
	    {"", 0},
	    {"a", 0xe8b7be43},
	    {"The quick brown fox jumps over the lazy dog", 0x414fa339},
	};
	const char *dir = *state;
	char *path = xfmt("%s/vector", dir);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t crc = 0x12345678;
		write_file(path, v[i].text, strlen(v[i].text));
		assert_int_equal(cp_crc32_file(path, &crc, NULL), 0);
		assert_int_equal(crc, v[i].crc);
	}
	free(path);
}

static void test_crc32_file(void **state)
{
	const char *dir = *state;
	/* Over two 256 KiB read blocks, not a multiple of one. */
	size_t len = 600000;
	unsigned char *data = malloc(len);
	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 9));
	char *path = xfmt("%s/blob", dir);
	write_file(path, data, len);

	uint32_t crc = 0x12345678;
	assert_int_equal(cp_crc32_file(path, &crc, NULL), 0);
	assert_int_equal(crc, (uint32_t)crc32_z(0, data, len));

	char *empty = xfmt("%s/empty", dir);
	write_file(empty, "", 0);
	assert_int_equal(cp_crc32_file(empty, &crc, NULL), 0);
	assert_int_equal(crc, 0);

	/* Failures leave the output alone and say what failed. */
	struct cp_error err = {0};
	char *missing = xfmt("%s/missing", dir);
	crc = 7;
	assert_int_equal(cp_crc32_file(missing, &crc, &err), -ENOENT);
	assert_int_equal(crc, 7);
	assert_non_null(strstr(err.msg, "cannot open '"));
	assert_int_equal(cp_crc32_file(dir, &crc, NULL), -EINVAL);
	assert_int_equal(crc, 7);

	free(data);
	free(path);
	free(empty);
	free(missing);
}

static void test_hex_and_names(void **state)
{
	static const uint8_t id[] = {0x00, 0x0f, 0xa5, 0xff};
	char buf[2 * sizeof(id) + 1];
	cp_hex(id, sizeof(id), buf);
	assert_string_equal(buf, "000fa5ff");
	cp_hex(id, 0, buf);
	assert_string_equal(buf, "");

	assert_string_equal(cp_debug_how_name(CP_DEBUG_NONE), "none");
	assert_string_equal(cp_debug_how_name(CP_DEBUG_BUILD_ID), "build-id");
	assert_string_equal(cp_debug_how_name(CP_DEBUG_LINK_SAME_DIR), "debuglink");
	assert_string_equal(cp_debug_how_name(CP_DEBUG_LINK_DOT_DEBUG), "debuglink-.debug");
	assert_string_equal(cp_debug_how_name(CP_DEBUG_LINK_ROOT), "debuglink-root");
	assert_string_equal(cp_debug_how_name(CP_DEBUG_ALT_PATH), "dwz-path");
	assert_string_equal(cp_debug_how_name(CP_DEBUG_ALT_BUILD_ID), "dwz-build-id");
	assert_string_equal(cp_debug_how_name(CP_DEBUG_ALT_DWZ_DIR), "dwz-dir");
	assert_string_equal(cp_debug_how_name((enum cp_debug_how)99), "unknown");
}

/* ---- cp_file_build_id ---- */

static void test_file_build_id(void **state)
{
	const char *dir = *state;
	uint8_t want[CP_BUILD_ID_MAX], got[CP_BUILD_ID_MAX];
	size_t want_len, len = 99;

	char *p = xfmt("%s/libt.so", g_art);
	id_of(ID_T, want, &want_len);
	assert_int_equal(cp_file_build_id(p, got, sizeof(got), &len, NULL), 0);
	assert_int_equal(len, 20);
	assert_memory_equal(got, want, want_len);

	/* The debug file made by objcopy keeps the note. */
	char *d = xfmt("%s/libt.so.debug", g_art);
	assert_int_equal(cp_file_build_id(d, got, sizeof(got), &len, NULL), 0);
	assert_int_equal(len, 20);
	assert_memory_equal(got, want, want_len);

	/* No build-id: success with length 0. */
	char *n = xfmt("%s/libn.so", g_art);
	len = 99;
	assert_int_equal(cp_file_build_id(n, got, sizeof(got), &len, NULL), 0);
	assert_int_equal(len, 0);

	/* Too small a buffer is an error, not a truncated id. */
	len = 99;
	assert_int_equal(cp_file_build_id(p, got, 8, &len, NULL), -EOVERFLOW);
	assert_int_equal(len, 99);

	struct cp_error err = {0};
	char *missing = xfmt("%s/missing", dir);
	assert_int_equal(cp_file_build_id(missing, got, sizeof(got), &len, &err), -ENOENT);
	assert_int_equal(err.code, ENOENT);

	char *text = xfmt("%s/text", dir);
	write_file(text, "this is not an ELF file\n", 24);
	cp_error_clear(&err);
	assert_int_equal(cp_file_build_id(text, got, sizeof(got), &len, &err), -ENOEXEC);
	assert_non_null(strstr(err.msg, "not an ELF file"));

	char *empty = xfmt("%s/empty", dir);
	write_file(empty, "", 0);
	assert_int_equal(cp_file_build_id(empty, got, sizeof(got), &len, NULL), -ENOEXEC);
	assert_int_equal(cp_file_build_id(dir, got, sizeof(got), &len, NULL), -EINVAL);
	assert_int_equal(len, 99);

	char *fifo = xfmt("%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* Must neither block in open() nor be read. */
	assert_int_equal(cp_file_build_id(fifo, got, sizeof(got), &len, NULL), -EINVAL);

	free(p);
	free(d);
	free(n);
	free(missing);
	free(text);
	free(empty);
	free(fifo);
}

/*
 * Truncated and corrupted copies of real files: every call must return
 * cleanly (run under ASan/UBSan in CI).  A truncated object may still
 * yield its build-id, but never a wrong one.
 */
static void test_untrusted_files(void **state)
{
	const char *dir = *state;
	uint8_t want[CP_BUILD_ID_MAX], got[CP_BUILD_ID_MAX];
	size_t want_len, len;
	id_of(ID_T, want, &want_len);
	char *path = xfmt("%s/bad.so", dir);
	char *root = xfmt("%s/root", dir);
	const char *roots[] = {root};
	struct cp_debug_search s = {.roots = roots, .n_roots = 1};
	char *dbg = build_id_path(root, ID_T);
	put("libt.so.debug", dbg);

	static const char *const names[] = {"libt.so", "libt.so.debug"};
	for (size_t k = 0; k < 2; k++) {
		char *src = xfmt("%s/%s", g_art, names[k]);
		size_t size;
		unsigned char *orig = read_all(src, &size);
		unsigned char *buf = malloc(size);
		assert_non_null(buf);

		/* Every prefix length in steps, and the last few bytes. */
		for (size_t cut = 0; cut < size; cut += (cut < 256 ? 1 : 61)) {
			write_file(path, orig, cut);
			int r = cp_file_build_id(path, got, sizeof(got), &len, NULL);
			if (r == 0 && len > 0)
				assert_memory_equal(got, want, want_len);
			struct cp_debug_result *res = NULL;
			if (cp_debug_find(&s, path, "/usr/lib/bad.so", want, want_len, &res,
			                  NULL) == 0)
				cp_debug_result_free(res);
		}

		/* Byte flips with a fixed seed, over the ELF header, the
		 * section headers (at the end) and everything else. */
		srand(12345);
		for (int round = 0; round < 400; round++) {
			memcpy(buf, orig, size);
			for (int j = 0; j < 8; j++) {
				size_t at;
				switch (rand() % 3) {
				case 0:
					at = (size_t)rand() % 64;
					break;
				case 1:
					at =
					    size - 1 - (size_t)rand() % (size < 2048 ? size : 2048);
					break;
				default:
					at = (size_t)rand() % size;
				}
				buf[at] = (unsigned char)rand();
			}
			write_file(path, buf, size);
			if (cp_file_build_id(path, got, sizeof(got), &len, NULL) == 0)
				assert_true(len <= sizeof(got));
			struct cp_debug_result *res = NULL;
			if (cp_debug_find(&s, path, "/usr/lib/bad.so", want, want_len, &res,
			                  NULL) == 0)
				cp_debug_result_free(res);
		}
		free(orig);
		free(buf);
		free(src);
	}
	free(path);
	free(root);
	free(dbg);
}

/* ---- cp_debug_find: build-id ---- */

static void test_find_by_build_id(void **state)
{
	const char *dir = *state;
	char *root = xfmt("%s/debug", dir);
	char *obj = xfmt("%s/libt.so", dir);
	char *dbg = build_id_path(root, ID_T);
	put("libt.so", obj);
	put("libt.so.debug", dbg);
	uint8_t id[CP_BUILD_ID_MAX];
	size_t id_len;
	id_of(ID_T, id, &id_len);

	const char *roots[] = {root};
	struct cp_debug_search s = {.roots = roots, .n_roots = 1};
	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", id, id_len, &res, NULL), 0);
	assert_non_null(res->file);
	assert_string_equal(res->file->host_path, dbg);
	assert_int_equal(res->file->how, CP_DEBUG_BUILD_ID);
	assert_int_equal(res->file->build_id_len, id_len);
	assert_memory_equal(res->file->build_id, id, id_len);
	assert_int_equal(res->file->crc, 0);
	assert_null(res->alt);
	assert_int_equal(res->alt_missing, 0);
	assert_null(res->alt_name);
	assert_int_equal(res->has_own_debug_info, 0);
	/* The debuglink is reported even when not used. */
	assert_string_equal(res->debuglink, "libt.so.debug");
	cp_debug_result_free(res);

	/* With no build-id given, step 1 is skipped and nothing else fits. */
	res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", NULL, 0, &res, NULL), 0);
	assert_null(res->file);
	cp_debug_result_free(res);

	free(root);
	free(obj);
	free(dbg);
}

/* A file at the build-id path whose own build-id differs is not taken;
 * a later root with the right one is. */
static void test_build_id_mismatch(void **state)
{
	const char *dir = *state;
	char *root1 = xfmt("%s/debug1", dir);
	char *root2 = xfmt("%s/debug2", dir);
	char *obj = xfmt("%s/libt.so", dir);
	char *wrong = build_id_path(root1, ID_T);
	put("libt.so", obj);
	put("other.debug", wrong);
	uint8_t id[CP_BUILD_ID_MAX];
	size_t id_len;
	id_of(ID_T, id, &id_len);

	const char *roots[] = {root1, root2};
	struct cp_debug_search s = {.roots = roots, .n_roots = 2};
	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", id, id_len, &res, NULL), 0);
	assert_null(res->file);
	assert_null(res->alt);
	cp_debug_result_free(res);

	char *right = build_id_path(root2, ID_T);
	put("libt.so.debug", right);
	res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", id, id_len, &res, NULL), 0);
	assert_non_null(res->file);
	assert_string_equal(res->file->host_path, right);
	assert_int_equal(res->file->how, CP_DEBUG_BUILD_ID);
	cp_debug_result_free(res);

	free(root1);
	free(root2);
	free(obj);
	free(wrong);
	free(right);
}

/* ---- cp_debug_find: .gnu_debuglink ---- */

/*
 * gdb's order, with the object under a sysroot: SYSROOT/OBJDIR/NAME,
 * SYSROOT/OBJDIR/.debug/NAME, ROOT/OBJDIR/NAME.  Each is removed in turn
 * to show the next one is found, with the CRC objcopy stored.
 */
static void test_debuglink_order(void **state)
{
	const char *dir = *state;
	char *sysroot = xfmt("%s/sysroot", dir);
	char *root = xfmt("%s/debug", dir);
	char *obj = xfmt("%s/usr/lib/libn.so", sysroot);
	char *same = xfmt("%s/usr/lib/libn.so.debug", sysroot);
	char *dotdebug = xfmt("%s/usr/lib/.debug/libn.so.debug", sysroot);
	char *inroot = xfmt("%s/usr/lib/libn.so.debug", root);
	put("libn.so", obj);
	put("libn.so.debug", same);
	put("libn.so.debug", dotdebug);
	put("libn.so.debug", inroot);

	uint32_t crc;
	assert_int_equal(cp_crc32_file(same, &crc, NULL), 0);

	const char *roots[] = {root};
	struct cp_debug_search s = {.sysroot = sysroot, .roots = roots, .n_roots = 1};
	static const enum cp_debug_how hows[] = {CP_DEBUG_LINK_SAME_DIR, CP_DEBUG_LINK_DOT_DEBUG,
	                                         CP_DEBUG_LINK_ROOT};
	char *paths[] = {same, dotdebug, inroot};
	for (int i = 0; i < 3; i++) {
		struct cp_debug_result *res = NULL;
		assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libn.so", NULL, 0, &res, NULL),
		                 0);
		assert_non_null(res->file);
		assert_string_equal(res->file->host_path, paths[i]);
		assert_int_equal(res->file->how, hows[i]);
		assert_int_equal(res->file->crc, crc);
		assert_int_equal(res->file->build_id_len, 0);
		assert_string_equal(res->debuglink, "libn.so.debug");
		cp_debug_result_free(res);
		assert_int_equal(unlink(paths[i]), 0);
	}

	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libn.so", NULL, 0, &res, NULL), 0);
	assert_null(res->file);
	assert_string_equal(res->debuglink, "libn.so.debug");
	cp_debug_result_free(res);

	free(sysroot);
	free(root);
	free(obj);
	free(same);
	free(dotdebug);
	free(inroot);
}

/* The OBJDIR of the rules is the canonical origin directory, not the
 * directory the object happens to sit in on this machine. */
static void test_debuglink_uses_origin_dir(void **state)
{
	const char *dir = *state;
	char *root = xfmt("%s/debug", dir);
	char *obj = xfmt("%s/staging/libn.so", dir);
	char *inroot = xfmt("%s/usr/lib/x86_64-linux-gnu/libn.so.debug", root);
	put("libn.so", obj);
	put("libn.so.debug", inroot);

	const char *roots[] = {root};
	struct cp_debug_search s = {.roots = roots, .n_roots = 1};
	struct cp_debug_result *res = NULL;
	assert_int_equal(
	    cp_debug_find(&s, obj, "/usr/lib/x86_64-linux-gnu/libn.so", NULL, 0, &res, NULL), 0);
	assert_non_null(res->file);
	assert_string_equal(res->file->host_path, inroot);
	assert_int_equal(res->file->how, CP_DEBUG_LINK_ROOT);
	cp_debug_result_free(res);

	free(root);
	free(obj);
	free(inroot);
}

/* A candidate whose CRC differs is skipped, whichever place it is in. */
static void test_debuglink_crc_mismatch(void **state)
{
	const char *dir = *state;
	char *obj = xfmt("%s/lib/libn.so", dir);
	char *same = xfmt("%s/lib/libn.so.debug", dir);
	char *dotdebug = xfmt("%s/lib/.debug/libn.so.debug", dir);
	put("libn.so", obj);
	put("libn.so.debug", same);
	/* One byte more: same ELF contents, different CRC. */
	assert_int_equal(sh("printf x >> %s", same), 0);

	struct cp_debug_search s = {.sysroot = dir};
	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/lib/libn.so", NULL, 0, &res, NULL), 0);
	assert_null(res->file);
	cp_debug_result_free(res);

	put("libn.so.debug", dotdebug);
	res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/lib/libn.so", NULL, 0, &res, NULL), 0);
	assert_non_null(res->file);
	assert_string_equal(res->file->host_path, dotdebug);
	assert_int_equal(res->file->how, CP_DEBUG_LINK_DOT_DEBUG);
	cp_debug_result_free(res);

	free(obj);
	free(same);
	free(dotdebug);
}

/* An object that carries its own DWARF says so; a stripped one does not. */
static void test_own_debug_info(void **state)
{
	char *full = xfmt("%s/libt_full.so", g_art);
	char *stripped = xfmt("%s/libt.so", g_art);
	struct cp_debug_search s = {0};
	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, full, "/usr/lib/libt_full.so", NULL, 0, &res, NULL), 0);
	assert_int_equal(res->has_own_debug_info, 1);
	assert_null(res->file);
	assert_null(res->debuglink);
	cp_debug_result_free(res);

	res = NULL;
	assert_int_equal(cp_debug_find(&s, stripped, "/usr/lib/libt.so", NULL, 0, &res, NULL), 0);
	assert_int_equal(res->has_own_debug_info, 0);
	cp_debug_result_free(res);
	free(full);
	free(stripped);
}

/* Malformed .gnu_debuglink sections read as no debuglink. */
static void test_malformed_debuglink(void **state)
{
	const char *dir = *state;
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} cases[] = {
	    {"nonul", "libx.debug", 10},             /* no NUL */
	    {"nocrc", "libx.debug\0\0", 12},         /* no room for the CRC */
	    {"slash", "../x.debug\0\0\1\2\3\4", 16}, /* not a file name */
	    {"empty", "\0\0\0\0\1\2\3\4", 8},        /* empty name */
	    {"dot", ".\0\0\0\1\2\3\4", 8},           /* the directory itself */
	    {"dotdot", "..\0\0\1\2\3\4", 8},         /* its parent */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *sec = xfmt("%s/%s.sec", dir, cases[i].name);
		char *obj = xfmt("%s/%s.so", dir, cases[i].name);
		write_file(sec, cases[i].bytes, cases[i].len);
		assert_int_equal(sh("objcopy --remove-section .gnu_debuglink "
		                    "--add-section .gnu_debuglink=%s %s/libn.so %s",
		                    sec, g_art, obj),
		                 0);
		struct cp_debug_search s = {0};
		struct cp_debug_result *res = NULL;
		assert_int_equal(cp_debug_find(&s, obj, "/lib/x.so", NULL, 0, &res, NULL), 0);
		assert_null(res->debuglink);
		assert_null(res->file);
		cp_debug_result_free(res);
		free(sec);
		free(obj);
	}
}

static void test_unreadable_object(void **state)
{
	const char *dir = *state;
	struct cp_debug_search s = {0};
	struct cp_debug_result *res = (void *)0x1;
	struct cp_error err = {0};
	char *missing = xfmt("%s/missing.so", dir);
	assert_int_equal(cp_debug_find(&s, missing, "/lib/missing.so", NULL, 0, &res, &err),
	                 -ENOENT);
	assert_ptr_equal(res, (void *)0x1);
	assert_non_null(strstr(err.msg, missing));

	char *text = xfmt("%s/text.so", dir);
	write_file(text, "#!/bin/sh\n", 10);
	assert_int_equal(cp_debug_find(&s, text, "/lib/text.so", NULL, 0, &res, NULL), -ENOEXEC);
	assert_ptr_equal(res, (void *)0x1);
	cp_debug_result_free(NULL);
	free(missing);
	free(text);
}

/* ---- dwz alt files ---- */

/*
 * Fedora-like: ROOT/.build-id/xx/rest.debug is a symlink to the real debug
 * file two directories deeper; the relative altlink only works from the
 * real file's directory.
 */
static void test_alt_by_path_from_real_dir(void **state)
{
	const char *dir = *state;
	make_altlinked("alt_rel.debug", "../../../.dwz/t.debug", ID_ALT);
	char *root = xfmt("%s/debug", dir);
	char *obj = xfmt("%s/libt.so", dir);
	char *real_dbg = xfmt("%s/usr/lib/x86_64/libt.so.debug", root);
	char *link = build_id_path(root, ID_T);
	char *alt = xfmt("%s/.dwz/t.debug", root);
	put("libt.so", obj);
	put("alt_rel.debug", real_dbg);
	link_to(real_dbg, link);
	put("alt.debug", alt);

	uint8_t id[CP_BUILD_ID_MAX], alt_id[CP_BUILD_ID_MAX];
	size_t id_len, alt_len;
	id_of(ID_T, id, &id_len);
	id_of(ID_ALT, alt_id, &alt_len);
	const char *roots[] = {root};
	struct cp_debug_search s = {.roots = roots, .n_roots = 1};
	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", id, id_len, &res, NULL), 0);
	assert_non_null(res->file);
	assert_string_equal(res->file->host_path, link);
	assert_int_equal(res->file->how, CP_DEBUG_BUILD_ID);
	assert_string_equal(res->alt_name, "../../../.dwz/t.debug");
	assert_non_null(res->alt);
	assert_int_equal(res->alt_missing, 0);
	assert_int_equal(res->alt->how, CP_DEBUG_ALT_PATH);
	char *alt_real = realpath(alt, NULL);
	assert_string_equal(res->alt->host_path, alt_real);
	assert_int_equal(res->alt->build_id_len, alt_len);
	assert_memory_equal(res->alt->build_id, alt_id, alt_len);
	cp_debug_result_free(res);

	free(alt_real);
	free(root);
	free(obj);
	free(real_dbg);
	free(link);
	free(alt);
}

/* An absolute altlink is under the sysroot; failing that, the alt's
 * build-id under a root; failing that, ROOT + "/.dwz/..." part. */
static void test_alt_lookup_order(void **state)
{
	const char *dir = *state;
	const char *written = "/usr/lib/debug/.dwz/x86_64-linux-gnu/t.debug";
	make_altlinked("alt_abs.debug", written, ID_ALT);
	char *sysroot = xfmt("%s/sysroot", dir);
	char *root1 = xfmt("%s/debug1", dir);
	char *root2 = xfmt("%s/debug2", dir);
	char *obj = xfmt("%s/usr/lib/libt.so", sysroot);
	char *dbg = build_id_path(root1, ID_T);
	char *in_sysroot = xfmt("%s%s", sysroot, written);
	char *by_id = build_id_path(root2, ID_ALT);
	char *in_dwz = xfmt("%s/.dwz/x86_64-linux-gnu/t.debug", root2);
	put("libt.so", obj);
	put("alt_abs.debug", dbg);
	put("alt.debug", in_sysroot);
	put("alt.debug", by_id);
	put("alt.debug", in_dwz);

	uint8_t id[CP_BUILD_ID_MAX];
	size_t id_len;
	id_of(ID_T, id, &id_len);
	const char *roots[] = {root1, root2};
	struct cp_debug_search s = {.sysroot = sysroot, .roots = roots, .n_roots = 2};
	static const enum cp_debug_how hows[] = {CP_DEBUG_ALT_PATH, CP_DEBUG_ALT_BUILD_ID,
	                                         CP_DEBUG_ALT_DWZ_DIR};
	char *paths[] = {in_sysroot, by_id, in_dwz};
	for (int i = 0; i < 3; i++) {
		struct cp_debug_result *res = NULL;
		assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", id, id_len, &res, NULL),
		                 0);
		assert_non_null(res->file);
		assert_string_equal(res->file->host_path, dbg);
		assert_string_equal(res->alt_name, written);
		assert_non_null(res->alt);
		assert_int_equal(res->alt->how, hows[i]);
		assert_string_equal(res->alt->host_path, paths[i]);
		assert_int_equal(res->alt_missing, 0);
		cp_debug_result_free(res);
		assert_int_equal(unlink(paths[i]), 0);
	}

	/* None left: the debug file is still found, the alt is missing. */
	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", id, id_len, &res, NULL), 0);
	assert_non_null(res->file);
	assert_null(res->alt);
	assert_int_equal(res->alt_missing, 1);
	assert_string_equal(res->alt_name, written);
	cp_debug_result_free(res);

	free(sysroot);
	free(root1);
	free(root2);
	free(obj);
	free(dbg);
	free(in_sysroot);
	free(by_id);
	free(in_dwz);
}

/* An alt file whose build-id differs from the one in .gnu_debugaltlink
 * is not the alt, wherever it is found. */
static void test_alt_build_id_mismatch(void **state)
{
	const char *dir = *state;
	make_altlinked("alt_rel2.debug", "../../.dwz/t.debug", ID_ALT);
	char *root = xfmt("%s/debug", dir);
	char *obj = xfmt("%s/libt.so", dir);
	char *dbg = build_id_path(root, ID_T);
	put("libt.so", obj);
	put("alt_rel2.debug", dbg);
	char *by_path = xfmt("%s/.dwz/t.debug", root);
	char *by_id = build_id_path(root, ID_ALT);
	put("alt_wrong.debug", by_path);
	put("alt_wrong.debug", by_id);

	uint8_t id[CP_BUILD_ID_MAX];
	size_t id_len;
	id_of(ID_T, id, &id_len);
	const char *roots[] = {root};
	struct cp_debug_search s = {.roots = roots, .n_roots = 1};
	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", id, id_len, &res, NULL), 0);
	assert_non_null(res->file);
	assert_null(res->alt);
	assert_int_equal(res->alt_missing, 1);
	assert_string_equal(res->alt_name, "../../.dwz/t.debug");
	cp_debug_result_free(res);

	/* The right one by the written path. */
	put("alt.debug", by_path);
	res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", id, id_len, &res, NULL), 0);
	assert_non_null(res->alt);
	assert_int_equal(res->alt->how, CP_DEBUG_ALT_PATH);
	char *real = realpath(by_path, NULL);
	assert_string_equal(res->alt->host_path, real);
	cp_debug_result_free(res);

	/* An altlink with no build-id bytes cannot be verified: missing. */
	make_altlinked("alt_noid.debug", "../../.dwz/t.debug", NULL);
	assert_int_equal(unlink(dbg), 0);
	put("alt_noid.debug", dbg);
	res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/usr/lib/libt.so", id, id_len, &res, NULL), 0);
	assert_non_null(res->file);
	assert_null(res->alt);
	assert_int_equal(res->alt_missing, 1);
	cp_debug_result_free(res);

	free(real);
	free(root);
	free(obj);
	free(dbg);
	free(by_path);
	free(by_id);
}

/* An object that carries its own dwz-compressed DWARF needs its alt file
 * too, found relative to the object itself. */
static void test_alt_of_object_itself(void **state)
{
	const char *dir = *state;
	make_altlinked_from("libt_full.so", "full_alt.so", "../.dwz/t.debug", ID_ALT);
	char *obj = xfmt("%s/lib/libt_full.so", dir);
	char *alt = xfmt("%s/.dwz/t.debug", dir);
	put("full_alt.so", obj);
	put("alt.debug", alt);

	struct cp_debug_search s = {.sysroot = dir};
	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, obj, "/lib/libt_full.so", NULL, 0, &res, NULL), 0);
	assert_int_equal(res->has_own_debug_info, 1);
	assert_null(res->file);
	assert_string_equal(res->alt_name, "../.dwz/t.debug");
	assert_non_null(res->alt);
	assert_int_equal(res->alt->how, CP_DEBUG_ALT_PATH);
	assert_string_equal(res->alt->host_path, alt);
	cp_debug_result_free(res);
	free(obj);
	free(alt);
}

/* ---- the host's libc and libc6-dbg ---- */

static void test_system_libc(void **state)
{
	static const char *const libcs[] = {"/usr/lib/x86_64-linux-gnu/libc.so.6",
	                                    "/lib/x86_64-linux-gnu/libc.so.6"};
	const char *libc = NULL;
	for (size_t i = 0; i < 2 && !libc; i++)
		if (access(libcs[i], R_OK) == 0)
			libc = libcs[i];
	if (!libc)
		cp_test_skip("no libc.so.6 at the Debian paths");

	uint8_t id[CP_BUILD_ID_MAX];
	size_t id_len = 0;
	assert_int_equal(cp_file_build_id(libc, id, sizeof(id), &id_len, NULL), 0);
	if (id_len == 0)
		cp_test_skip("libc.so.6 has no build-id");
	char hex[2 * CP_BUILD_ID_MAX + 1];
	cp_hex(id, id_len, hex);
	char *dbg = build_id_path("/usr/lib/debug", hex);
	if (access(dbg, R_OK) != 0) {
		free(dbg);
		cp_test_skip(
		    "libc6-dbg is not installed (no /usr/lib/debug build-id file for libc)");
	}

	struct cp_resolved *rv = NULL;
	assert_int_equal(cp_resolve(NULL, libc, 0, &rv, NULL), 0);
	const char *roots[] = {"/usr/lib/debug"};
	struct cp_debug_search s = {.roots = roots, .n_roots = 1};
	struct cp_debug_result *res = NULL;
	assert_int_equal(cp_debug_find(&s, libc, rv->real, id, id_len, &res, NULL), 0);
	assert_non_null(res->file);
	assert_int_equal(res->file->how, CP_DEBUG_BUILD_ID);
	assert_string_equal(res->file->host_path, dbg);
	assert_int_equal(res->file->build_id_len, id_len);
	assert_memory_equal(res->file->build_id, id, id_len);
	/* Debian names the debuglink after the build-id too. */
	assert_non_null(res->debuglink);
	assert_non_null(strstr(res->debuglink, hex + 2));
	if (res->alt_name) {
		/* A dwz-compressed libc6-dbg: the alt must be found. */
		assert_non_null(res->alt);
		assert_int_equal(res->alt_missing, 0);
		print_message("libc alt %s found by %s at %s\n", res->alt_name,
		              cp_debug_how_name(res->alt->how), res->alt->host_path);
	} else {
		assert_null(res->alt);
		assert_int_equal(res->alt_missing, 0);
	}
	cp_debug_result_free(res);
	cp_resolved_free(rv);
	free(dbg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32_vectors),
	    cmocka_unit_test_setup_teardown(test_crc32_file, setup_case, teardown_case),
	    cmocka_unit_test(test_hex_and_names),
	    cmocka_unit_test_setup_teardown(test_file_build_id, setup_case, teardown_case),
	    cmocka_unit_test_setup_teardown(test_untrusted_files, setup_case, teardown_case),
	    cmocka_unit_test_setup_teardown(test_find_by_build_id, setup_case, teardown_case),
	    cmocka_unit_test_setup_teardown(test_build_id_mismatch, setup_case, teardown_case),
	    cmocka_unit_test_setup_teardown(test_debuglink_order, setup_case, teardown_case),
	    cmocka_unit_test_setup_teardown(test_debuglink_uses_origin_dir, setup_case,
	                                    teardown_case),
	    cmocka_unit_test_setup_teardown(test_debuglink_crc_mismatch, setup_case, teardown_case),
	    cmocka_unit_test(test_own_debug_info),
	    cmocka_unit_test_setup_teardown(test_malformed_debuglink, setup_case, teardown_case),
	    cmocka_unit_test_setup_teardown(test_unreadable_object, setup_case, teardown_case),
	    cmocka_unit_test_setup_teardown(test_alt_by_path_from_real_dir, setup_case,
	                                    teardown_case),
	    cmocka_unit_test_setup_teardown(test_alt_lookup_order, setup_case, teardown_case),
	    cmocka_unit_test_setup_teardown(test_alt_build_id_mismatch, setup_case, teardown_case),
	    cmocka_unit_test_setup_teardown(test_alt_of_object_itself, setup_case, teardown_case),
	    cmocka_unit_test(test_system_libc),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
