/*
 * Unit tests for report.c: the header (executable, command line, pid,
 * signal with si_code and fault address or sender), frames as gdb numbers
 * them, the cuts and reasons, the notes on modules without lines, escaping
 * of hostile names, 32-bit cores, and si_code names.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corepack/report.h"

struct fixture {
	struct cp_core core;
	struct cp_thread_info threads[3];
	struct cp_module modules[2];
	struct cp_scan scan;
	struct cp_frame frames0[4], frames1[1];
	struct cp_thread_trace traces[2];
	struct cp_backtrace bt;
};

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct cp_notes *n = &f->core.notes;
	f->core.is64 = 1;
	n->have_prpsinfo = 1;
	n->pid = 4242;
	strcpy(n->fname, "app");
	strcpy(n->psargs, "/usr/bin/app --flag");
	f->threads[0] = (struct cp_thread_info){4243, SIGSEGV};
	f->threads[1] = (struct cp_thread_info){4242, 0};
	f->threads[2] = (struct cp_thread_info){4244, 0};
	n->threads = f->threads;
	n->n_threads = 3;
	n->have_siginfo = 1;
	n->sig_signo = SIGSEGV;
	n->sig_code = 1;
	n->fault_addr = 0x10;

	f->modules[0].origin_path = "/usr/bin/app";
	f->modules[0].role = CP_ROLE_EXECUTABLE;
	f->modules[0].host_path = "/usr/bin/app";
	f->modules[0].status = CP_STATUS_OK;
	f->modules[1].origin_path = "/usr/lib/libfoo.so.1";
	f->modules[1].host_path = "/usr/lib/libfoo.so.1";
	f->modules[1].status = CP_STATUS_MISMATCH;
	f->scan.modules = f->modules;
	f->scan.n_modules = 2;

	f->frames0[0] = (struct cp_frame){.pc = 0x7f0000001000, .module = "/usr/lib/libfoo.so.1"};
	f->frames0[1] = (struct cp_frame){.pc = 0x401234,
	                                  .function = "helper",
	                                  .module = "/usr/bin/app",
	                                  .file = "/src/app.c",
	                                  .line = 12,
	                                  .inlined = 1};
	f->frames0[2] = (struct cp_frame){.pc = 0x401234,
	                                  .function = "run",
	                                  .offset = 0x24,
	                                  .has_offset = 1,
	                                  .module = "/usr/bin/app",
	                                  .file = "/src/app.c",
	                                  .line = 30};
	f->frames0[3] = (struct cp_frame){.pc = 0x401300,
	                                  .function = "main",
	                                  .offset = 0x10,
	                                  .has_offset = 1,
	                                  .module = "/usr/bin/app",
	                                  .file = "/src/app.c",
	                                  .line = 44};
	f->frames1[0] = (struct cp_frame){.pc = 0x7f0000002000,
	                                  .function = "__libc_pause",
	                                  .offset = 0x32,
	                                  .has_offset = 1,
	                                  .module = "/usr/lib/libc.so.6",
	                                  .tail_call = 1};
	f->traces[0] = (struct cp_thread_trace){4243, 1, f->frames0, 4, 0, NULL};
	f->traces[1] = (struct cp_thread_trace){4242, 0, f->frames1, 1, 1, "unwinding stopped"};
	f->bt.threads = f->traces;
	f->bt.n_threads = 2;
	return f;
}

static char *render(struct fixture *f, const struct cp_backtrace *bt, int all)
{
	char *out = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_report_render(&f->core, &f->scan, bt, all, &out, &err), 0);
	assert_non_null(out);
	for (const char *p = out; *p; p++)
		assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f)); /* plain ASCII */
	return out;
}

static void test_summary(void **state)
{
	struct fixture *f = fixture_new();
	char *out = render(f, &f->bt, 0);
	assert_string_equal(
	    out, "executable: /usr/bin/app\n"
	         "command line: /usr/bin/app --flag\n"
	         "pid: 4242\n"
	         "signal: 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault address 0x0000000000000010\n"
	         "threads: 3\n"
	         "\n"
	         "thread 4243 (crashing):\n"
	         "#0  0x00007f0000001000 ?? (libfoo.so.1, mismatch: not symbolized)\n"
	         "#1  0x0000000000401234 helper (app) /src/app.c:12 [inlined]\n"
	         "#2  0x0000000000401234 run+0x24 (app) /src/app.c:30\n"
	         "#3  0x0000000000401300 main+0x10 (app) /src/app.c:44\n"
	         "\n"
	         "(2 other threads not shown)\n");
	free(out);
	free(f);
}

/* A module's note shows when a frame shown is in it without a line: the
 * summary (crashing thread) and the report (all threads) differ. */
static void test_module_notes(void **state)
{
	struct fixture *f = fixture_new();
	struct cp_module_note notes[3] = {
	    {.module = "/usr/lib/libc.so.6",
	     .why = "no debug information (no separate debug file)"},
	    {.module = "/usr/bin/app", .why = "never shown: every frame has a line"},
	    {.module = "/usr/lib/libfoo.so.1", .why = "bad \x1b[1m section"},
	};
	f->frames0[2].mangled = "_Z3runv";
	f->bt.notes = notes;
	f->bt.n_notes = 3;
	char *out = render(f, &f->bt, 0);
	assert_non_null(strstr(out, "(2 other threads not shown)\n"
	                            "\n"
	                            "libfoo.so.1: no line information: bad \\x1b[1m section\n"));
	assert_null(strstr(out, "libc.so.6: no line"));
	assert_null(strstr(out, "never shown"));
	assert_null(strstr(out, "_Z3runv")); /* the mangled name is the manifest's */
	free(out);
	out = render(f, &f->bt, 1);
	assert_non_null(strstr(out, "\nlibc.so.6: no line information: no debug information "
	                            "(no separate debug file)\n"));
	assert_non_null(strstr(out, "\nlibfoo.so.1: no line information: "));
	assert_null(strstr(out, "never shown"));
	free(out);
	free(f);
}

static void test_all_threads_cut(void **state)
{
	struct fixture *f = fixture_new();
	f->bt.threads_cut = 1;
	f->bt.why = "unwinder timed out after 10000 ms";
	char *out = render(f, &f->bt, 1);
	assert_non_null(strstr(out, "threads: 3\nbacktrace: unwinder timed out after 10000 ms\n"));
	assert_non_null(strstr(out, "\nthread 4242:\n"
	                            "#0  0x00007f0000002000 __libc_pause+0x32 (libc.so.6) "
	                            "[tail call]\n"
	                            "... more frames not shown (cut at 1)\n"
	                            "(unwinding stopped)\n"));
	assert_non_null(strstr(out, "\n... 1 more thread not unwound (cut at 2)\n"));
	assert_null(strstr(out, "other thread"));
	free(out);
	free(f);
}

static void test_no_backtrace(void **state)
{
	struct fixture *f = fixture_new();
	char *out = render(f, NULL, 1);
	assert_non_null(strstr(out, "threads: 3\nbacktrace: not available\n"));
	assert_null(strstr(out, "#0"));
	free(out);
	/* a backtrace without the crashing thread says so */
	f->traces[0].crashing = 0;
	f->bt.n_threads = 1;
	out = render(f, &f->bt, 0);
	assert_non_null(strstr(out, "backtrace: the crashing thread was not unwound\n"));
	free(out);
	free(f);
}

static void test_escaping(void **state)
{
	struct fixture *f = fixture_new();
	strcpy(f->core.notes.psargs, "evil\x1b[31m\n\\x\xff");
	f->frames0[2].function = "fn\rname";
	f->frames0[2].file = "/src/a\tb.c";
	f->modules[0].origin_path = "/usr/bin/app\x07";
	f->frames0[2].module = "/usr/bin/app\x07";
	char *out = render(f, &f->bt, 0);
	assert_non_null(strstr(out, "executable: /usr/bin/app\\x07\n"));
	assert_non_null(strstr(out, "command line: evil\\x1b[31m\\x0a\\\\x\\xff\n"));
	assert_non_null(strstr(out, " fn\\x0dname+0x24 (app\\x07) /src/a\\x09b.c:30\n"));
	free(out);
	free(f);
}

static void test_kill_sender(void **state)
{
	struct fixture *f = fixture_new();
	struct cp_notes *n = &f->core.notes;
	n->sig_signo = SIGABRT;
	n->sig_code = -6;
	n->fault_addr = (uint64_t)1000 << 32 | 4242; /* si_pid, si_uid, little-endian */
	char *out = render(f, &f->bt, 0);
	assert_non_null(strstr(out, "signal: 6 (SIGABRT), code -6 (SI_TKILL), sent by pid 4242 "
	                            "(uid 1000)\n"));
	assert_null(strstr(out, "fault address"));
	free(out);
	f->core.big_endian = 1;
	n->sig_signo = SIGTERM;
	n->sig_code = 0;
	n->fault_addr = (uint64_t)77 << 32 | 5;
	out = render(f, &f->bt, 0);
	assert_non_null(strstr(out, "signal: 15 (SIGTERM), code 0 (SI_USER), sent by pid 77 "
	                            "(uid 5)\n"));
	free(out);
	free(f);
}

static void test_32bit_and_no_siginfo(void **state)
{
	struct fixture *f = fixture_new();
	f->core.is64 = 0;
	f->core.notes.have_siginfo = 0;
	f->threads[0].cursig = SIGBUS;
	f->frames0[3].pc = 0x8049000;
	char *out = render(f, &f->bt, 0);
	assert_non_null(strstr(out, "\nsignal: 7 (SIGBUS)\n"));
	assert_non_null(strstr(out, "#3  0x08049000 main+0x10 (app) /src/app.c:44\n"));
	free(out);
	/* a fault on a 32-bit core prints 8 digits */
	f->core.notes.have_siginfo = 1;
	f->core.notes.sig_signo = SIGBUS;
	f->core.notes.sig_code = 1;
	f->core.notes.fault_addr = 0xdeadbeef;
	out = render(f, &f->bt, 0);
	assert_non_null(strstr(out, "code 1 (BUS_ADRALN), fault address 0xdeadbeef\n"));
	free(out);
	free(f);
}

static void test_header_fallbacks(void **state)
{
	struct fixture *f = fixture_new();
	/* no executable in the scan: NT_PRPSINFO's name */
	f->modules[0].role = CP_ROLE_LIBRARY;
	/* a command line the kernel may have cut */
	memset(f->core.notes.psargs, 'a', 79);
	f->core.notes.psargs[79] = '\0';
	char *out = render(f, &f->bt, 0);
	assert_non_null(strstr(out, "executable: app (name only)\n"));
	assert_non_null(strstr(out, "aaaa (maybe cut: the kernel keeps 79 bytes)\n"));
	free(out);
	/* nothing at all */
	f->core.notes.have_prpsinfo = 0;
	f->core.notes.have_siginfo = 0;
	f->core.notes.n_threads = 0;
	out = render(f, NULL, 0);
	assert_string_equal(out, "executable: unknown\n"
	                         "signal: none recorded\n"
	                         "threads: 0\n"
	                         "backtrace: not available\n");
	free(out);
	/* a mismatched executable says so */
	f->modules[0].role = CP_ROLE_EXECUTABLE;
	f->modules[0].status = CP_STATUS_MISMATCH;
	f->modules[0].deleted = 1;
	out = render(f, NULL, 0);
	assert_non_null(strstr(out, "executable: /usr/bin/app (deleted) (mismatch)\n"));
	free(out);
	free(f);
}

static void test_si_code_names(void **state)
{
	assert_string_equal(cp_si_code_name(SIGSEGV, 1), "SEGV_MAPERR");
	assert_string_equal(cp_si_code_name(SIGSEGV, 2), "SEGV_ACCERR");
	assert_string_equal(cp_si_code_name(SIGBUS, 1), "BUS_ADRALN");
	assert_string_equal(cp_si_code_name(SIGBUS, 2), "BUS_ADRERR");
	assert_string_equal(cp_si_code_name(SIGILL, 2), "ILL_ILLOPN");
	assert_string_equal(cp_si_code_name(SIGFPE, 1), "FPE_INTDIV");
	assert_string_equal(cp_si_code_name(SIGTRAP, 1), "TRAP_BRKPT");
	assert_string_equal(cp_si_code_name(SIGABRT, -6), "SI_TKILL");
	assert_string_equal(cp_si_code_name(SIGKILL, 0), "SI_USER");
	assert_string_equal(cp_si_code_name(SIGSEGV, 0x80), "SI_KERNEL");
	assert_string_equal(cp_si_code_name(SIGUSR1, -1), "SI_QUEUE");
	assert_null(cp_si_code_name(SIGSEGV, 99));
	assert_null(cp_si_code_name(SIGFPE, 9));
	assert_null(cp_si_code_name(SIGABRT, 1));
	assert_null(cp_si_code_name(SIGSEGV, -99));
	assert_null(cp_si_code_name(SIGSEGV, INT32_MAX));
}

static void test_unknown_signal_and_code(void **state)
{
	struct fixture *f = fixture_new();
	f->core.notes.sig_signo = 99;
	f->core.notes.sig_code = 42;
	char *out = render(f, &f->bt, 0);
	assert_non_null(strstr(out, "signal: 99 (unknown), code 42 (unknown)\n"));
	free(out);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_module_notes),
	    cmocka_unit_test(test_all_threads_cut),
	    cmocka_unit_test(test_no_backtrace),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_kill_sender),
	    cmocka_unit_test(test_32bit_and_no_siginfo),
	    cmocka_unit_test(test_header_fallbacks),
	    cmocka_unit_test(test_si_code_names),
	    cmocka_unit_test(test_unknown_signal_and_code),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
