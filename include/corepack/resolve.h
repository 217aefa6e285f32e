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
#include <sys/stat.h>

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
	int exists;     /* the final component exists (always, unless
	                 * CP_RESOLVE_MISSING_OK) */
	struct stat st; /* then what it is (not followed: never a symlink) */
	int fd;         /* CP_RESOLVE_OPEN: the file, open for reading; the
	                 * caller may take it (set -1); else -1 */
};

struct cp_access;

/* cp_resolve_as() flags */
#define CP_RESOLVE_MISSING_OK 1 /* the final component may be missing */
#define CP_RESOLVE_OPEN                                                                            \
	2 /* open the final file for reading: it must                                              \
	   * be a regular file the owners may read */

/*
 * Resolve ORIGIN_PATH (absolute) under ACC's sysroot, judged with ACC's
 * rules (access.h; NULL or not restricted: our own rights).  The walk goes
 * one component at a time on descriptors (openat() with O_PATH and
 * O_NOFOLLOW, readlinkat(), fstat()), so what is checked is what is used:
 * a name swapped for a symlink meanwhile is not followed past the check,
 * and with CP_RESOLVE_OPEN the file opened is the one checked.  Before
 * looking a name up in a directory, the owners must be allowed to search
 * it: a path the owners could not resolve is not looked at beyond that
 * point (no lookup, no readlink).  A missing intermediate directory is
 * always an error.  On success *OUT is set and owned by the caller
 * (cp_resolved_free()).  Errors: -ENOENT, -ELOOP (more than
 * CP_RESOLVE_MAX_LINKS), -ENAMETOOLONG, -EINVAL (relative path; with
 * CP_RESOLVE_OPEN, not a regular file), -EACCES (an owner may not search a
 * directory or read the file: the message names the owner and the
 * directory), -EPERM (a symlink not followed: the message says why),
 * -ESTALE (replaced while opened), -ENOMEM, other errno.
 */
int cp_resolve_as(const struct cp_access *acc, const char *origin_path, int flags,
                  struct cp_resolved **out, struct cp_error *err);

/* cp_resolve_as() with our own rights under SYSROOT (NULL, "" or "/" for
 * none), the final component allowed to be missing if ALLOW_MISSING. */
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
