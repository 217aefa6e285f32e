/*
 * bt-driver: scan a core like corepack does and print the crash report with
 * the backtraces (cp_backtrace_core + cp_report_render), for the e2e tests
 * until corepack prints the report itself.
 *
 * usage: bt-driver [--sysroot DIR] [--debug-dir DIR]... [-e EXE] [--no-debug]
 *                  [--all] [--crashing-only] [--max-threads N] [--max-frames N]
 *                  [--timeout-ms N] CORE
 * Exit 0 report printed, 1 failure, 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/backtrace.h"
#include "corepack/core.h"
#include "corepack/modules.h"
#include "corepack/report.h"

static int number(const char *s, unsigned long *out)
{
	char *end;
	*out = strtoul(s, &end, 10);
	return *s && !*end ? 0 : -1;
}

int main(int argc, char **argv)
{
	enum {
		O_SYSROOT = 256,
		O_DEBUG_DIR,
		O_NO_DEBUG,
		O_ALL,
		O_CRASHING,
		O_THREADS,
		O_FRAMES,
		O_TIMEOUT
	};
	static const struct option longopts[] = {
	    {"sysroot", required_argument, NULL, O_SYSROOT},
	    {"debug-dir", required_argument, NULL, O_DEBUG_DIR},
	    {"executable", required_argument, NULL, 'e'},
	    {"no-debug", no_argument, NULL, O_NO_DEBUG},
	    {"all", no_argument, NULL, O_ALL},
	    {"crashing-only", no_argument, NULL, O_CRASHING},
	    {"max-threads", required_argument, NULL, O_THREADS},
	    {"max-frames", required_argument, NULL, O_FRAMES},
	    {"timeout-ms", required_argument, NULL, O_TIMEOUT},
	    {NULL, 0, NULL, 0},
	};
	struct cp_scan_opts so = {0};
	struct cp_backtrace_opts bo = {0};
	const char *dirs[16];
	int all = 0, opt;
	unsigned long v;
	while ((opt = getopt_long(argc, argv, "e:", longopts, NULL)) != -1) {
		switch (opt) {
		case O_SYSROOT:
			so.sysroot = optarg;
			break;
		case O_DEBUG_DIR:
			if (so.n_debug_roots == 16)
				return fprintf(stderr, "bt-driver: too many --debug-dir\n"), 2;
			dirs[so.n_debug_roots++] = optarg;
			break;
		case 'e':
			so.executable = optarg;
			break;
		case O_NO_DEBUG:
			so.no_debug = 1;
			break;
		case O_ALL:
			all = 1;
			break;
		case O_CRASHING:
			bo.crashing_only = 1;
			break;
		case O_THREADS:
		case O_FRAMES:
		case O_TIMEOUT:
			if (number(optarg, &v) < 0)
				return fprintf(stderr, "bt-driver: bad number '%s'\n", optarg), 2;
			if (opt == O_THREADS)
				bo.max_threads = v;
			else if (opt == O_FRAMES)
				bo.max_frames = v;
			else
				bo.timeout_ms = (unsigned)v;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return fprintf(stderr, "bt-driver: one core file expected\n"), 2;
	so.debug_roots = dirs;

	struct cp_error err = {0};
	struct cp_core *core = NULL;
	struct cp_scan *scan = NULL;
	struct cp_backtrace *bt = NULL;
	char *text = NULL;
	int rc = 1;
	if (cp_core_open(argv[optind], &core, &err) < 0 ||
	    cp_scan_core(core, &so, &scan, &err) < 0 ||
	    cp_backtrace_core(core, scan, &bo, &bt, &err) < 0 ||
	    cp_report_render(core, scan, bt, all, &text, &err) < 0) {
		fprintf(stderr, "bt-driver: %s\n", err.msg);
		goto out;
	}
	fputs(text, stdout);
	rc = 0;
out:
	free(text);
	cp_backtrace_free(bt);
	cp_scan_free(scan);
	cp_core_free(core);
	return rc;
}
