/*
 * Asking debuginfod servers for files by build-id, through libdebuginfod
 * (elfutils' client: no HTTP code of ours).  The servers are the ones the
 * environment names, as for every elfutils tool: DEBUGINFOD_URLS (space
 * separated), DEBUGINFOD_TIMEOUT, DEBUGINFOD_CACHE_PATH, DEBUGINFOD_MAXTIME
 * are the library's.  A file comes back as a descriptor on the client's
 * cache file; what a server sends is as untrusted as a bundle: callers
 * check its build-id (and digest) before using it.  Library code: the
 * progress of a transfer goes to the caller's callback, never printed.
 *
 * A static build (COREPACK_STATIC) has no libdebuginfod to link (Debian
 * ships no archive of it): there cp_remote_supported() is 0 and
 * cp_remote_new() never makes a client, and the front ends say so.
 */
#ifndef COREPACK_REMOTE_H
#define COREPACK_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"

/* What is asked for: /buildid/ID/executable or /buildid/ID/debuginfo. */
enum cp_remote_kind {
	CP_REMOTE_EXECUTABLE,
	CP_REMOTE_DEBUGINFO,
};

struct cp_remote;

/* Called while a file arrives: DONE bytes of TOTAL (0 when unknown) of
 * the file named by build-id HEX.  A nonzero return cancels it. */
typedef int (*cp_remote_progress_fn)(void *arg, const char *hex, uint64_t done, uint64_t total);

/* Nonzero when DEBUGINFOD_URLS names at least one server. */
int cp_remote_configured(void);
/* Nonzero when this build has the debuginfod client (not a static one). */
int cp_remote_supported(void);

/*
 * A client for the servers of DEBUGINFOD_URLS into *OUT (cp_remote_free()),
 * or *OUT = NULL and 0 when none is configured or the build has no client.  Errors: -ENOMEM, -EIO
 * (libdebuginfod failed to start).
 */
int cp_remote_new(struct cp_remote **out, struct cp_error *err);
void cp_remote_free(struct cp_remote *r);
void cp_remote_set_progress(struct cp_remote *r, cp_remote_progress_fn fn, void *arg);

/*
 * Fetch the file of KIND for build-id ID (LEN bytes, 1-64).  At most
 * MAX_SIZE bytes are accepted (0: no bound of ours): a transfer that
 * passes it is cancelled (-EFBIG).  On success *FD is a read-only
 * descriptor on the fetched file (the caller closes it) and *PATH (may be
 * NULL) its path in the client's cache (the caller frees it).  Errors:
 * -ENOENT: no server has it; -EFBIG; other -errno from libdebuginfod
 * (-ETIME, -ECONNREFUSED, ...), with a message naming the build-id.
 */
int cp_remote_fetch(struct cp_remote *r, enum cp_remote_kind kind, const uint8_t *id, size_t len,
                    uint64_t max_size, int *fd, char **path, struct cp_error *err);

/* The server URL of the last successful fetch, or NULL (owned by R, valid
 * until the next fetch). */
const char *cp_remote_last_url(const struct cp_remote *r);

/* "executable", "debuginfo": the names of enum cp_remote_kind, as the
 * manifest writes them; cp_remote_kind_parse() returns -1 for others. */
const char *cp_remote_kind_name(enum cp_remote_kind kind);
int cp_remote_kind_parse(const char *name);

#endif
