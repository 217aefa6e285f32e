/*
 * Finding the separate debug files of an object the way gdb does:
 * the build-id tree under each debug root, then .gnu_debuglink (CRC32
 * checked) in the object's directory, its .debug/ subdirectory and
 * ROOT/<object's directory>/ under each debug root; and for each debug file
 * found, the dwz alt file named by .gnu_debugaltlink (by its written path
 * relative to the debug file's real directory, by its build-id under each
 * root, and by the part after "/.dwz/" under each root).
 *
 * A missing debug file is data, not an error: cp_debug_find() returns 0
 * with out->file == NULL.
 */
#ifndef COREPACK_DEBUGINFO_H
#define COREPACK_DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/access.h"
#include "corepack/error.h"
#include "corepack/hex.h"
#include "corepack/schema.h"

#define CP_BUILD_ID_MAX 64

/* How a debug file was found: enum cp_debug_how and cp_debug_how_name()
 * ("build-id", "debuglink", ...) are schema.h's. */

struct cp_debug_file {
	char *host_path; /* the file opened on this machine */
	enum cp_debug_how how;
	uint8_t build_id[CP_BUILD_ID_MAX]; /* the debug file's own build-id */
	size_t build_id_len;               /* 0 when it has none */
	uint32_t crc;                      /* CRC32 of the file when found by debuglink */
	struct cp_file_id file_id;         /* the file found (access.h) */
	/* Fetched from a debuginfod server (how == CP_DEBUG_DEBUGINFOD): a
	 * file of corepack's own cache, not of the core's machine, opened
	 * with our rights and only as the file checked (FILE_ID); URL: the
	 * server it came from, or NULL when it was in the cache already. */
	int fetched;
	char *url;
};

struct cp_debug_result {
	struct cp_debug_file *file; /* NULL when none found */
	struct cp_debug_file *alt;  /* dwz alt file, NULL when none needed/found */
	int alt_missing;            /* the debug file names an alt that was not found */
	char *alt_name;             /* the .gnu_debugaltlink path as written, or NULL */
	int has_own_debug_info;     /* the object itself carries .debug_info */
	char *debuglink;            /* the object's .gnu_debuglink name, or NULL */
};

struct cp_debug_search {
	const char *sysroot;      /* NULL/"" for none; objects' dirs are under it */
	const char *const *roots; /* debug roots as paths on this machine */
	size_t n_roots;
	/* Whose rights every file is opened with (access.h); NULL: ours. */
	const struct cp_access *access;
};

/*
 * Find debug files for an object.  OBJECT_HOST_PATH is the object's file on
 * this machine; OBJECT_ORIGIN_PATH is its canonical origin path (for the
 * ROOT/<object's directory>/ rule and the object's own directory under the
 * sysroot).  BUILD_ID may be NULL/0 when the object has none.  Debug files
 * found by build-id must carry the same build-id; found by debuglink, the
 * CRC must match.  On success *OUT is set (owned by the caller,
 * cp_debug_result_free()); errors are only for ENOMEM and an unreadable
 * object (errno from open(), -EINVAL: not a regular file, -ENOEXEC: not
 * ELF).  A .gnu_debuglink name containing '/' is ignored (reported NULL).
 */
int cp_debug_find(const struct cp_debug_search *s, const char *object_host_path,
                  const char *object_origin_path, const uint8_t *build_id, size_t build_id_len,
                  struct cp_debug_result **out, struct cp_error *err);
void cp_debug_result_free(struct cp_debug_result *r);
void cp_debug_file_free(struct cp_debug_file *f);

struct cp_remote;
/*
 * Ask the debuginfod servers of REMOTE (remote.h) for the debug file of
 * BUILD_ID, and check that what came has that build-id; then, when it
 * names a dwz alt file, for that by its build-id.  Sets RES->file (the
 * file in the client's cache, fetched set) and RES->alt, alt_name,
 * alt_missing as cp_debug_find() does; RES->file must be NULL.  Errors:
 * -ENOENT: no server has it; -EBADMSG: a server sent a file of another
 * build-id; -ENOEXEC: not ELF; others from cp_remote_fetch().
 */
int cp_debug_fetch(struct cp_remote *remote, const uint8_t *build_id, size_t build_id_len,
                   struct cp_debug_result *res, struct cp_error *err);

/* gdb's .gnu_debuglink CRC32 (zlib's crc32()) of a whole file; *OUT is
 * set only on success.  Errors: errno from open()/read(), -EINVAL: not a
 * regular file. */
int cp_crc32_file(const char *path, uint32_t *out, struct cp_error *err);
/* The same of the open file FD from its start (PATH names it in
 * messages). */
int cp_crc32_fd(int fd, const char *path, uint32_t *out, struct cp_error *err);

/* The build-id of an ELF file on disk; *LEN is 0 when it has none.
 * Errors: errno from open(), -EINVAL: not a regular file, -ENOEXEC: not
 * ELF or malformed notes, -EOVERFLOW: longer than BUFSIZE. */
int cp_file_build_id(const char *path, uint8_t *buf, size_t bufsize, size_t *len,
                     struct cp_error *err);
/* The same of the open file FD (PATH names it in messages). */
int cp_fd_build_id(int fd, const char *path, uint8_t *buf, size_t bufsize, size_t *len,
                   struct cp_error *err);

#endif
