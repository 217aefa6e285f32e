/*
 * corepack as the kernel's core_pattern pipe handler: the spool directory
 * and its limits (like systemd-coredump's: a maximum core size, the space
 * kept free, a maximum number of bundles), the log (syslog: one line per
 * crash and per refusal), and --install-handler / --uninstall-handler,
 * which set and restore kernel.core_pattern and kernel.core_pipe_limit.
 * Front-end code: it prints and logs.
 */
#ifndef COREPACK_HANDLER_H
#define COREPACK_HANDLER_H

#include <stdint.h>

#include "corepack/live.h"

/* Defaults: like systemd-coredump's ProcessSizeMax (32G) and KeepFree
 * (15% of the filesystem, at most 4G); the newest 32 bundles. */
#define HANDLER_MAX_CORE (32ULL << 30)
#define HANDLER_KEEP_FREE_PERCENT 15
#define HANDLER_KEEP_FREE_MAX (4ULL << 30)
#define HANDLER_MAX_BUNDLES 32
#define HANDLER_PIPE_LIMIT 16
#define HANDLER_DEFAULT_SPOOL "/var/lib/corepack/spool"

struct handler_opts {
	const char *spool;
	uint64_t max_core, keep_free;
	int max_core_set, keep_free_set;
	long max_bundles; /* 0: the default */
};

/* SIZE: bytes, or with a K, M, G or T suffix (powers of 1024).  Returns 0
 * or -1. */
int handler_parse_size(const char *s, uint64_t *out);

/* First thing in handler mode: descriptors 0-2 open (the kernel starts the
 * handler with only standard input, so a file opened later must not become
 * standard output), umask 077, syslog opened, and every failure message
 * (cli_fail) logged with CONTEXT in front. */
void handler_begin(void);
void handler_set_context(const char *context);

/* A line to syslog (and stderr): PRIORITY as syslog(3)'s. */
void handler_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Check (or make, 0700) the spool directory and its free space, and name
 * the bundle for process P: *OUTPUT (caller frees) is
 * SPOOL/EXE-PID-TIME.tar.zst, EXE being P's comm with anything but
 * letters, digits, '.', '_', '+' and '-' made '_'.  *MAX_CORE and
 * *MAX_DATA are the caps for the core: its size, and the data it may put
 * on the spool's filesystem before reaching the space to keep free.
 * Returns an exit status (failures logged).
 */
int handler_prepare(const struct handler_opts *h, const struct cp_live_proc *p, char **output,
                    uint64_t *max_core, uint64_t *max_data);

/* After the bundle OUTPUT is written: remove the oldest bundles beyond
 * the count, and while the free space is below what is kept free (never
 * OUTPUT).  Returns how many were removed. */
int handler_vacuum(const struct handler_opts *h, const char *output);

/* --install-handler and --uninstall-handler; exit statuses. */
int handler_install(const struct handler_opts *h, int force, int quiet);
int handler_uninstall(int quiet);

#endif
