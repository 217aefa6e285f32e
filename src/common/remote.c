/*
 * The debuginfod client (include/corepack/remote.h) over libdebuginfod.
 * The library reads DEBUGINFOD_URLS and the other settings itself; here
 * is only what corepack adds: a bound on each file's size enforced in
 * the progress callback (DEBUGINFOD_MAXSIZE is a request a server may
 * ignore, and a lying one would), and the caller's progress.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corepack/hex.h"
#include "corepack/remote.h"

int cp_remote_configured(void)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	return urls && urls[strspn(urls, " \t")] != '\0';
}

static const char *const kind_names[] = {
    [CP_REMOTE_EXECUTABLE] = "executable",
    [CP_REMOTE_DEBUGINFO] = "debuginfo",
};

const char *cp_remote_kind_name(enum cp_remote_kind kind)
{
	return (unsigned)kind < 2 ? kind_names[kind] : "?";
}

int cp_remote_kind_parse(const char *name)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return i;
	return -1;
}

#ifndef COREPACK_DEBUGINFOD
/* A static build: no client (remote.h).  No struct cp_remote is ever
 * made, so the functions that take one are never reached. */
int cp_remote_supported(void)
{
	return 0;
}

int cp_remote_new(struct cp_remote **out, struct cp_error *err)
{
	*out = NULL;
	return 0;
}

void cp_remote_free(struct cp_remote *r)
{
}

void cp_remote_set_progress(struct cp_remote *r, cp_remote_progress_fn fn, void *arg)
{
}

const char *cp_remote_last_url(const struct cp_remote *r)
{
	return NULL;
}

int cp_remote_fetch(struct cp_remote *r, enum cp_remote_kind kind, const uint8_t *id, size_t len,
                    uint64_t max_size, int *fd, char **path, struct cp_error *err)
{
	return cp_error_set(err, ENOTSUP, "this build has no debuginfod client");
}
#else
#include <elfutils/debuginfod.h>

struct cp_remote {
	debuginfod_client *client;
	cp_remote_progress_fn fn;
	void *arg;
	/* the transfer under way */
	const char *hex;
	uint64_t max_size;
	int too_big;
	char *url;
};

int cp_remote_supported(void)
{
	return 1;
}

static int progress(debuginfod_client *c, long a, long b)
{
	struct cp_remote *r = debuginfod_get_user_data(c);
	if (!r)
		return 0;
	uint64_t done = a > 0 ? (uint64_t)a : 0, total = b > 0 ? (uint64_t)b : 0;
	if (r->max_size && (done > r->max_size || total > r->max_size)) {
		r->too_big = 1;
		return 1;
	}
	return r->fn ? r->fn(r->arg, r->hex, done, total) : 0;
}

int cp_remote_new(struct cp_remote **out, struct cp_error *err)
{
	*out = NULL;
	if (!cp_remote_configured())
		return 0;
	struct cp_remote *r = calloc(1, sizeof(*r));
	if (!r)
		return cp_error_set(err, ENOMEM, "out of memory");
	r->client = debuginfod_begin();
	if (!r->client) {
		free(r);
		return cp_error_set(err, EIO, "cannot start the debuginfod client");
	}
	debuginfod_set_user_data(r->client, r);
	debuginfod_set_progressfn(r->client, progress);
	*out = r;
	return 0;
}

void cp_remote_free(struct cp_remote *r)
{
	if (!r)
		return;
	debuginfod_end(r->client);
	free(r->url);
	free(r);
}

void cp_remote_set_progress(struct cp_remote *r, cp_remote_progress_fn fn, void *arg)
{
	r->fn = fn;
	r->arg = arg;
}

const char *cp_remote_last_url(const struct cp_remote *r)
{
	return r->url;
}

int cp_remote_fetch(struct cp_remote *r, enum cp_remote_kind kind, const uint8_t *id, size_t len,
                    uint64_t max_size, int *fd, char **path, struct cp_error *err)
{
	char hex[2 * 64 + 1];
	if (len == 0 || len > 64)
		return cp_error_set(err, EINVAL, "cannot ask debuginfod: build-id of %zu bytes",
		                    len);
	cp_hex(id, len, hex);
	r->hex = hex;
	r->max_size = max_size;
	r->too_big = 0;
	free(r->url);
	r->url = NULL;
	char *p = NULL;
	int got = kind == CP_REMOTE_EXECUTABLE
	              ? debuginfod_find_executable(r->client, id, (int)len, &p)
	              : debuginfod_find_debuginfo(r->client, id, (int)len, &p);
	r->hex = NULL;
	if (got < 0) {
		free(p);
		if (r->too_big)
			return cp_error_set(
			    err, EFBIG, "debuginfod: %s of build-id %s: larger than %llu bytes",
			    cp_remote_kind_name(kind), hex, (unsigned long long)max_size);
		if (got == -ENOENT)
			return cp_error_set(err, ENOENT,
			                    "debuginfod: no server has the %s of build-id %s",
			                    cp_remote_kind_name(kind), hex);
		return cp_error_set(err, -got, "debuginfod: %s of build-id %s: %s",
		                    cp_remote_kind_name(kind), hex, strerror(-got));
	}
	const char *url = debuginfod_get_url(r->client);
	if (url)
		r->url = strdup(url);
	*fd = got;
	if (path)
		*path = p;
	else
		free(p);
	return 0;
}
#endif
