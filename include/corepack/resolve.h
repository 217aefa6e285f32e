/*
 * Resolving an origin path the way the crashed process's kernel did, inside
 * an optional sysroot, while recording every symlink met on the way so the
 * bundle can reproduce them.
 *
 * Paths named "origin" are absolute paths as the crashed process saw them
 * ("/lib/x86_64-linux-gnu/libc.so.6").  The file actually opened on this
 * machine is SYSROOT + origin path.  Absolute symlink targets are taken
 * relative to the sysroot (as in a chroot), and ".." never climbs above it.
 */
#ifndef COREPACK_RESOLVE_H
#define COREPACK_RESOLVE_H

#include <stddef.h>

#include "corepack/error.h"

/* Cap on symlinks followed while resolving one path (as the kernel's 40). */
#define CP_RESOLVE_MAX_LINKS 40
/* Cap on the length of any path handled. */
#define CP_PATH_MAX 4096

struct cp_link {
	/* Origin path of the symlink itself; its parent directory contains no
	 * symlink, so the bundle can create it without writing through one. */
	char *path;
	/* Target rewritten relative to the link's directory, so it resolves
	 * inside the bundle ("usr/lib", "libz.so.1.2.13", "../lib/x86_64-...").
	 * Never absolute. */
	char *target;
};

struct cp_resolved {
	char *real;            /* canonical origin path, no symlink in it */
	struct cp_link *links; /* symlinks met, in the order met */
	size_t n_links;
};

/*
 * Resolve ORIGIN_PATH (absolute) under SYSROOT (NULL, "" or "/" for none).
 * The final component need not exist only if ALLOW_MISSING is set; a
 * missing intermediate directory is always an error.
 * On success *OUT is set and owned by the caller (cp_resolved_free()).
 * Errors: -ENOENT, -ELOOP (more than CP_RESOLVE_MAX_LINKS), -ENAMETOOLONG,
 * -EINVAL (relative path), -ENOMEM, other errno from lstat/readlink.
 */
int cp_resolve(const char *sysroot, const char *origin_path, int allow_missing,
               struct cp_resolved **out, struct cp_error *err);
void cp_resolved_free(struct cp_resolved *r);

/*
 * The path on this machine for ORIGIN_PATH: SYSROOT + ORIGIN_PATH (or a
 * copy of ORIGIN_PATH when there is no sysroot).  Returns NULL on ENOMEM.
 */
char *cp_host_path(const char *sysroot, const char *origin_path);

/*
 * Lexically normalise an absolute path: collapse "//", drop ".", apply ".."
 * (never above "/").  Returns a new string, NULL on ENOMEM or a relative
 * input.
 */
char *cp_path_normalize(const char *path);

/* Relative path from directory FROM_DIR to TO (both absolute, normalised). */
char *cp_path_relative(const char *from_dir, const char *to);

#endif
