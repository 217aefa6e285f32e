/*
 * Unit tests for backtrace.c without a core: the wire format between the
 * unwinder child and the parent (round trip; every truncation, every byte
 * flipped and random bytes parse without harm; the caps), and the isolation
 * of the child, driven through child_hook: a crash, a hang, garbage, nothing,
 * a flood past the cap, output cut mid-thread, an exit status, a cancel.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "corepack/backtrace.h"

static struct cp_frame frames_a[3] = {
    {.pc = 0x1000,
     .function = "acme::inner",
     .mangled = "_ZN4acme5innerEv",
     .offset = 4,
     .has_offset = 1,
     .module = "/lib/liba.so",
     .file = "/src/a.c",
     .line = 10},
    {.pc = 0x1000,
     .function = "inl",
     .module = "/lib/liba.so",
     .file = "/src/a.h",
     .line = 3,
     .inlined = 1},
    {.pc = 0x2000, .function = NULL, .module = NULL, .file = NULL, .line = 0, .tail_call = 1},
};
static struct cp_frame frames_b[1] = {
    {.pc = 0xffffffffffffffffull,
     .function = "x",
     .offset = 0xffffffffffffffffull,
     .has_offset = 1,
     .module = "[vdso]",
     .line = 2147483647},
};
static struct cp_thread_trace threads[2] = {
    {.tid = 77, .crashing = 1, .frames = frames_a, .n_frames = 3, .frames_cut = 1, .why = NULL},
    {.tid = -5, .crashing = 0, .frames = frames_b, .n_frames = 1, .why = "stopped: because"},
};
static struct cp_module_note notes[2] = {
    {.module = "/lib/liba.so", .why = "no debug information (no separate debug file)"},
    {.module = "[vdso]", .why = ""},
};
static struct cp_backtrace sample = {.threads = threads,
                                     .n_threads = 2,
                                     .threads_cut = 1,
                                     .why = "whole why",
                                     .notes = notes,
                                     .n_notes = 2};

static void assert_same_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_same_frame(const struct cp_frame *a, const struct cp_frame *b)
{
	assert_int_equal(a->pc, b->pc);
	assert_int_equal(a->has_offset, b->has_offset);
	if (a->has_offset)
		assert_int_equal(a->offset, b->offset);
	assert_int_equal(a->line, b->line);
	assert_int_equal(a->inlined, b->inlined);
	assert_int_equal(a->tail_call, b->tail_call);
	assert_same_str(a->function, b->function);
	assert_same_str(a->module, b->module);
	assert_same_str(a->file, b->file);
	assert_same_str(a->mangled, b->mangled);
}

static void encode_sample(uint8_t **buf, size_t *len)
{
	assert_int_equal(cp_backtrace_encode(&sample, buf, len), 0);
	assert_true(*len > 5);
}

static void test_round_trip(void **state)
{
	uint8_t *buf;
	size_t len;
	struct cp_backtrace *bt;
	int complete;
	encode_sample(&buf, &len);
	assert_int_equal(cp_backtrace_decode(buf, len, 64, 128, &bt, &complete), 0);
	assert_true(complete);
	assert_int_equal(bt->n_threads, 2);
	assert_int_equal(bt->threads_cut, 1);
	assert_string_equal(bt->why, "whole why");
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(bt->threads[i].tid, threads[i].tid);
		assert_int_equal(bt->threads[i].crashing, threads[i].crashing);
		assert_int_equal(bt->threads[i].frames_cut, threads[i].frames_cut);
		assert_same_str(bt->threads[i].why, threads[i].why);
		assert_int_equal(bt->threads[i].n_frames, threads[i].n_frames);
		for (size_t k = 0; k < threads[i].n_frames; k++)
			assert_same_frame(&bt->threads[i].frames[k], &threads[i].frames[k]);
	}
	assert_int_equal(bt->n_notes, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(bt->notes[i].module, notes[i].module);
		assert_string_equal(bt->notes[i].why, notes[i].why);
	}
	cp_backtrace_free(bt);
	free(buf);
	cp_backtrace_free(NULL);
}

/* Every prefix parses: complete threads are kept, the rest is explained. */
static void test_every_truncation(void **state)
{
	uint8_t *buf;
	size_t len;
	encode_sample(&buf, &len);
	for (size_t k = 0; k < len; k++) {
		uint8_t *copy = malloc(k ? k : 1); /* exact size: ASan sees overreads */
		memcpy(copy, buf, k);
		struct cp_backtrace *bt;
		int complete = 1;
		assert_int_equal(cp_backtrace_decode(copy, k, 64, 128, &bt, &complete), 0);
		assert_false(complete);
		assert_non_null(bt->why);
		assert_true(bt->n_threads <= 2);
		for (size_t i = 0; i < bt->n_threads; i++) {
			assert_true(bt->threads[i].n_frames <= threads[i].n_frames);
			for (size_t f = 0; f < bt->threads[i].n_frames; f++)
				assert_same_frame(&bt->threads[i].frames[f], &threads[i].frames[f]);
		}
		cp_backtrace_free(bt);
		free(copy);
	}
	free(buf);
}

static void test_flipped_and_random_bytes(void **state)
{
	uint8_t *buf;
	size_t len;
	encode_sample(&buf, &len);
	for (size_t k = 0; k < len; k++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t *copy = malloc(len);
			memcpy(copy, buf, len);
			copy[k] ^= (uint8_t)(1u << bit);
			struct cp_backtrace *bt;
			int complete;
			assert_int_equal(cp_backtrace_decode(copy, len, 64, 128, &bt, &complete),
			                 0);
			assert_true(bt->n_threads <= 64);
			cp_backtrace_free(bt);
			free(copy);
		}
	}
	free(buf);
	uint64_t x = 88172645463325252ull;
	for (int round = 0; round < 2000; round++) {
		size_t n = 5 + (size_t)(round % 300);
		uint8_t *r = malloc(n);
		memcpy(r, "CPBT\2", 5);
		for (size_t i = 5; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* mostly valid record types, to get past the first byte */
			r[i] = (i % 7 == 5) ? "SFTENZ"[x % 6] : (uint8_t)x;
		}
		struct cp_backtrace *bt;
		int complete;
		assert_int_equal(cp_backtrace_decode(r, n, 8, 8, &bt, &complete), 0);
		assert_true(bt->n_threads <= 8);
		for (size_t i = 0; i < bt->n_threads; i++)
			assert_true(bt->threads[i].n_frames <= 8);
		cp_backtrace_free(bt);
		free(r);
	}
}

static void test_caps(void **state)
{
	uint8_t *buf;
	size_t len;
	struct cp_backtrace *bt;
	int complete;
	encode_sample(&buf, &len);
	assert_int_equal(cp_backtrace_decode(buf, len, 1, 128, &bt, &complete), 0);
	assert_false(complete);
	assert_int_equal(bt->n_threads, 1);
	assert_non_null(strstr(bt->why, "more threads than asked for"));
	cp_backtrace_free(bt);
	assert_int_equal(cp_backtrace_decode(buf, len, 64, 2, &bt, &complete), 0);
	assert_false(complete);
	assert_int_equal(bt->threads[0].n_frames, 2);
	assert_non_null(strstr(bt->why, "more frames than asked for"));
	cp_backtrace_free(bt);
	free(buf);

	/* long strings are cut by the encoder, never accepted long */
	char *big = malloc(CP_BACKTRACE_MAX_STRING + 100);
	memset(big, 'n', CP_BACKTRACE_MAX_STRING + 99);
	big[CP_BACKTRACE_MAX_STRING + 99] = '\0';
	struct cp_frame f = {.pc = 1, .function = big};
	struct cp_thread_trace t = {.tid = 1, .frames = &f, .n_frames = 1};
	struct cp_backtrace one = {.threads = &t, .n_threads = 1};
	assert_int_equal(cp_backtrace_encode(&one, &buf, &len), 0);
	assert_int_equal(cp_backtrace_decode(buf, len, 4, 4, &bt, &complete), 0);
	assert_true(complete);
	assert_int_equal(strlen(bt->threads[0].frames[0].function), CP_BACKTRACE_MAX_STRING);
	cp_backtrace_free(bt);
	free(buf);
	free(big);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *why;
	} cases[] = {
	    {"", 0, "the unwinder wrote nothing"},
	    {"CPBT\1E\0\377\377\377\377", 11, "bad header"}, /* the old version */
	    {"CPBT\2Q", 6, "unknown record"},
	    {"CPBT\2F", 6, "frame outside a thread"},
	    {"CPBT\2T\0\377\377\377\377", 11, "thread ended twice"},
	    {"CPBT\2S\1\0\0\0\1S", 12, "thread started twice"},
	    {"CPBT\2S\1\0\0\0\1E\0\377\377\377\377", 17, "end inside a thread"},
	    {"CPBT\2E\0\377\377\377\377X", 12, "bytes after the end record"},
	    /* a string with a NUL in it; one longer than the cap */
	    {"CPBT\2E\0\2\0\0\0a\0", 13, "bad string"},
	    {"CPBT\2E\0\1\20\0\0", 11, "bad string"},
	    /* a note without a module */
	    {"CPBT\2N\377\377\377\377\0\0\0\0", 14, "bad string in a note record"},
	    /* a line number above INT32_MAX */
	    {"CPBT\2S\1\0\0\0\0F\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\200\0", 33,
	     "line number out of range"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cp_backtrace *bt;
		int complete = 1;
		assert_int_equal(cp_backtrace_decode((const uint8_t *)cases[i].bytes, cases[i].len,
		                                     4, 4, &bt, &complete),
		                 0);
		assert_false(complete);
		if (!strstr(bt->why, cases[i].why))
			fail_msg("case %zu: why is '%s', expected '%s'", i, bt->why, cases[i].why);
		cp_backtrace_free(bt);
	}
}

/* ---- the child, through child_hook -------------------------------------- */

static struct cp_core empty_core;
static struct cp_scan empty_scan;

static struct cp_backtrace *run_hook(int (*hook)(int, void *), void *arg, unsigned timeout_ms,
                                     int expect)
{
	struct cp_backtrace_opts o = {
	    .timeout_ms = timeout_ms, .child_hook = hook, .child_hook_arg = arg};
	struct cp_backtrace *bt = NULL;
	struct cp_error err = {0};
	int r = cp_backtrace_core(&empty_core, &empty_scan, &o, &bt, &err);
	assert_int_equal(r, expect);
	if (expect == 0)
		assert_non_null(bt);
	return bt;
}

static void write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k <= 0)
			_exit(9);
		p = (const char *)p + k;
		n -= (size_t)k;
	}
}

static int hook_crash(int fd, void *arg)
{
	raise(SIGSEGV);
	return 1;
}

static void test_child_crash(void **state)
{
	struct cp_backtrace *bt = run_hook(hook_crash, NULL, 5000, 0);
	assert_string_equal(bt->why, "unwinder crashed (signal 11, SIGSEGV)");
	assert_int_equal(bt->n_threads, 0);
	cp_backtrace_free(bt);
}

static int hook_hang(int fd, void *arg)
{
	for (;;)
		pause();
	return 1;
}

static void test_child_hang(void **state)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct cp_backtrace *bt = run_hook(hook_hang, NULL, 300, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_string_equal(bt->why, "unwinder timed out after 300 ms");
	assert_true(b.tv_sec - a.tv_sec < 5);
	cp_backtrace_free(bt);
}

static int hook_garbage(int fd, void *arg)
{
	write_all(fd, "garbage!", 8);
	return 1;
}

static int hook_nothing(int fd, void *arg)
{
	return 1;
}

static void test_child_garbage_or_nothing(void **state)
{
	struct cp_backtrace *bt = run_hook(hook_garbage, NULL, 5000, 0);
	assert_string_equal(bt->why, "unwinder output is malformed at byte 0: bad header");
	cp_backtrace_free(bt);
	bt = run_hook(hook_nothing, NULL, 5000, 0);
	assert_string_equal(bt->why, "the unwinder wrote nothing");
	cp_backtrace_free(bt);
}

static int hook_flood(int fd, void *arg)
{
	static uint8_t chunk[1 << 16];
	memcpy(chunk, "CPBT\2", 5);
	for (;;)
		write_all(fd, chunk, sizeof(chunk)); /* killed by the parent */
	return 1;
}

static void test_child_flood(void **state)
{
	struct cp_backtrace *bt = run_hook(hook_flood, NULL, 20000, 0);
	assert_non_null(strstr(bt->why, "unwinder output exceeded 16777216 bytes"));
	cp_backtrace_free(bt);
}

/* The sample's first thread and frame, then a crash. */
static int hook_partial(int fd, void *arg)
{
	struct cp_frame f = frames_a[0];
	struct cp_thread_trace t = {.tid = 77, .crashing = 1, .frames = &f, .n_frames = 1};
	struct cp_backtrace one = {.threads = &t, .n_threads = 1};
	uint8_t *buf;
	size_t len;
	if (cp_backtrace_encode(&one, &buf, &len) < 0)
		_exit(8);
	write_all(fd, buf, len - 12); /* less the 'T' and 'E' records (6 bytes each) */
	raise(SIGABRT);
	return 1;
}

static void test_child_partial(void **state)
{
	struct cp_backtrace *bt = run_hook(hook_partial, NULL, 5000, 0);
	assert_string_equal(bt->why, "unwinder crashed (signal 6, SIGABRT)");
	assert_int_equal(bt->n_threads, 1);
	assert_int_equal(bt->threads[0].tid, 77);
	assert_int_equal(bt->threads[0].n_frames, 1);
	assert_same_frame(&bt->threads[0].frames[0], &frames_a[0]);
	assert_string_equal(bt->threads[0].why, "unwinding of this thread did not finish");
	cp_backtrace_free(bt);
}

static int hook_complete_then_exit(int fd, void *arg)
{
	uint8_t *buf;
	size_t len;
	if (cp_backtrace_encode(&sample, &buf, &len) < 0)
		_exit(8);
	write_all(fd, buf, len);
	_exit(*(int *)arg);
}

static void test_child_exit_status(void **state)
{
	int status = 7;
	/* a complete stream stands, whatever the exit status */
	struct cp_backtrace *bt = run_hook(hook_complete_then_exit, &status, 5000, 0);
	assert_string_equal(bt->why, "whole why");
	assert_int_equal(bt->n_threads, 2);
	cp_backtrace_free(bt);
}

static int hook_exit7(int fd, void *arg)
{
	write_all(fd, "CPBT\2", 5);
	_exit(7);
}

static void test_child_exit_early(void **state)
{
	struct cp_backtrace *bt = run_hook(hook_exit7, NULL, 5000, 0);
	assert_string_equal(bt->why, "unwinder failed (exit status 7)");
	cp_backtrace_free(bt);
}

static volatile sig_atomic_t cancel_flag;

static void test_cancel(void **state)
{
	cancel_flag = 1;
	struct cp_backtrace_opts o = {
	    .timeout_ms = 20000, .child_hook = hook_hang, .cancel = &cancel_flag};
	struct cp_backtrace *bt = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_backtrace_core(&empty_core, &empty_scan, &o, &bt, &err), -EINTR);
	assert_null(bt);
	assert_string_equal(err.msg, "interrupted");
}

static void test_no_threads(void **state)
{
	/* the real child on a core without NT_PRSTATUS: it says so */
	struct cp_backtrace *bt = run_hook(NULL, NULL, 5000, 0);
	assert_string_equal(bt->why, "the core has no threads (no NT_PRSTATUS note)");
	assert_int_equal(bt->n_threads, 0);
	cp_backtrace_free(bt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_flipped_and_random_bytes),
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_child_crash),
	    cmocka_unit_test(test_child_hang),
	    cmocka_unit_test(test_child_garbage_or_nothing),
	    cmocka_unit_test(test_child_flood),
	    cmocka_unit_test(test_child_partial),
	    cmocka_unit_test(test_child_exit_status),
	    cmocka_unit_test(test_child_exit_early),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_no_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
