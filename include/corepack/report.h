/*
 * The crash report: what crashed (executable, command line, pid), how
 * (signal, its si_code by name, the fault address), and where (the crashing
 * thread's backtrace; with all_threads, every thread's).  It is what
 * corepack prints as its summary and what the bundle carries as report.txt.
 * Rendering is a pure function of the core's notes, the scan and the
 * backtrace: it prints nothing.  The text is plain ASCII: names taken from
 * the core or from files are escaped (escape.h: \xNN for control and
 * non-ASCII bytes, '\' doubled).
 */
#ifndef COREPACK_REPORT_H
#define COREPACK_REPORT_H

#include "corepack/backtrace.h"
#include "corepack/core.h"
#include "corepack/error.h"
#include "corepack/modules.h"

/*
 * Render the report into *OUT (a NUL-terminated malloc'ed string, owned by
 * the caller).  SCAN and BT may be NULL (no module names; no backtrace:
 * the report says "backtrace: not available").  Frames are numbered as gdb
 * does ("#0  0x00007f... crash_store+0x12 (libcrash.so.1.0.0) libcrash.c:45");
 * a frame in a module that was missing or mismatched says so; after the
 * threads, for each module with a frame shown without a line, why
 * ("libx.so: no line information: no debug information (no separate debug
 * file)").  Errors: -ENOMEM only.
 */
int cp_report_render(const struct cp_core *core, const struct cp_scan *scan,
                     const struct cp_backtrace *bt, int all_threads, char **out,
                     struct cp_error *err);

/* "SEGV_MAPERR" for (SIGSEGV, 1), "SI_TKILL" for (any, -6); NULL unknown. */
const char *cp_si_code_name(int signo, int code);

#endif
