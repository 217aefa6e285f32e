/*
 * Private to corepack's front end (corepack.c and corepack_args.c): the
 * exit statuses, the settings the command line gives (struct cli), and
 * the option parsing and usage checks that fill them.
 */
#ifndef COREPACK_CLI_PRIVATE_H
#define COREPACK_CLI_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/live.h"
#include "corepack/pack.h"
#include "handler.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

enum list_format { LIST_TABLE, LIST_UNSTRIP, LIST_JSON };

struct cli {
	struct cp_pack_opts pack;
	const char **debug_dirs;
	size_t n_debug_dirs;
	char *default_output;
	const char *format_opt; /* "--json" or "--format" when given */
	enum list_format format;
	int quiet, verbose, strict, list, nice, no_backtrace, no_debuginfod;
	/* --pid, --handler (0 when not given) and the handler's settings */
	long pid, handler_pid;
	struct handler_opts handler;
	int install, uninstall;
	struct cp_live_proc live;
	/* caps on a core read from standard input (the handler's) */
	uint64_t max_core, max_data;
	char *live_core_name;
};

/* --help's text. */
extern const char corepack_usage_text[];

/* Fill C from the command line: EXIT_OK to go on (C->pack.core_path set,
 * or an --install-handler/--uninstall-handler request), EXIT_USAGE after a
 * usage message; --help and --version print and exit. */
int corepack_parse_args(int argc, char **argv, struct cli *c);

/* Options that contradict each other, a bundle name without a format, a
 * level its compression cannot take: EXIT_USAGE (message printed),
 * before anything is opened. */
int corepack_check_usage(struct cli *c);

#endif
