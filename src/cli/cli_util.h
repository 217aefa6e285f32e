/*
 * Shared by the two front ends (corepack, coreunpack): message printing in
 * the "PROGRAM: message" form, number parsing, sizes for humans, the
 * version line, and the progress line shown on a terminal.
 */
#ifndef COREPACK_CLI_UTIL_H
#define COREPACK_CLI_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

void cli_init(const char *progname);
const char *cli_progname(void);
/* "PROG: message" on stderr. */
void cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Also hand every cli_fail() message (without "PROG: ") to FN (the
 * core_pattern handler's syslog); NULL for none. */
void cli_on_fail(void (*fn)(const char *msg));
/* Print "PROG: message" (when FMT) and the --help hint; returns 2. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_parse_long(const char *s, long min, long max, long *out);
int cli_is_dir(const char *path);
void cli_human_size(uint64_t bytes, char *buf, size_t size);
/* "PROG VERSION", libarchive's versions, then MORE (lines of other
 * libraries' versions, each ending in a newline; may be NULL). */
void cli_print_version(const char *more);

/* Check standard output when the program exits (atexit): whatever could
 * not be written (a full disk, /dev/full) is reported as "PROG: write
 * error on standard output: REASON" and the exit status becomes 1.  Call
 * once, before anything is printed. */
void cli_check_stdout_at_exit(void);
/* fputs(S, stdout) and fflush(stdout) that remember why a write failed,
 * for the message at exit (a failed write inside a long fputs leaves
 * nothing for fclose to fail on, and so no reason). */
void cli_puts_stdout(const char *s);
void cli_flush_stdout(void);

/* Catch SIGINT, SIGTERM and SIGHUP into a flag the library polls (its
 * "cancel" options); returns the flag.  No SA_RESTART, so a read blocked on
 * a pipe returns and the flag is noticed. */
const volatile sig_atomic_t *cli_catch_signals(void);
/* The same flag, for code that did not keep the pointer. */
const volatile sig_atomic_t *cli_cancelled(void);

struct cli_progress {
	double start, last;
	int shown;
};
/* Returns nonzero when stderr is a terminal (progress will be shown). */
int cli_progress_init(struct cli_progress *p);
void cli_progress_update(void *ctx, uint64_t done, uint64_t total);
/* Clear the progress line; P may be NULL. */
void cli_progress_done(struct cli_progress *p);

#endif
