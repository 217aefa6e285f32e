/*
 * The bundle's layout.  Every entry of a bundle lives under one top
 * directory (named after the bundle file, "core.123" for core.123.tar.zst);
 * below it:
 *
 *   core            the core file
 *   sysroot/        every packed object at its origin path, with the
 *                   symlinks that lead to it (gdb: set sysroot)
 *   debug/          separate debug files, by build-id:
 *                   debug/.build-id/xx/rest.debug, dwz alt files included
 *                   (gdb: set debug-file-directory)
 *   manifest.json   what was packed and why (see manifest.h): the first
 *                   entry, so that the unpacker knows every file's name,
 *                   size and digest kind before any data arrives
 *   digests.json    every file's digest, known only once it was read: the
 *                   last entry
 *   corepack.gdb    gdb command file, paths relative to the top directory
 *   run-gdb.sh      starts gdb on the bundle from wherever it was extracted
 *   report.txt      the crash summary and every thread's backtrace
 *
 * Paths in a bundle are relative to the top directory, normalised (no
 * empty, "." or ".." component), free of control characters and within the
 * caps below; cp_bundle_path_check() is the rule, applied by the entry
 * validator (entry_check.h) and the manifest reader (manifest_read.h).
 *
 * The core, manifest.json and report.txt hold the crashed process's memory,
 * command line and environment: they are private (mode 0600) in the bundle
 * and after coreunpack, whatever the umask.  Every other file is 0644, or
 * 0755 when executable; directories 0755.
 */
#ifndef COREPACK_LAYOUT_H
#define COREPACK_LAYOUT_H

#include <stddef.h>
#include <string.h>

#define CP_BUNDLE_CORE "core"
#define CP_BUNDLE_SYSROOT "sysroot"
#define CP_BUNDLE_DEBUG "debug"
#define CP_BUNDLE_MANIFEST "manifest.json"
#define CP_BUNDLE_GDB_SCRIPT "corepack.gdb"
#define CP_BUNDLE_RUN_GDB "run-gdb.sh"
#define CP_BUNDLE_RUN_LLDB "run-lldb.sh" /* since manifest version 2 */
#define CP_BUNDLE_REPORT "report.txt"
#define CP_BUNDLE_DIGESTS "digests.json"

/* manifest.json's "manifest_version" (doc/bundle-format.md, "Versioning"):
 * a reader refuses any version it does not know and ignores fields it does
 * not know.  New fields leave it alone; it goes up only for a change an old
 * reader would misread (a field removed, renamed, retyped or redefined, a
 * new role or status, a layout, path or digest change). */
#define CP_MANIFEST_VERSION 4
/* What corepack writes.  Version 4 digests the core with XXH3-128 (the
 * digest kinds xxh3_128 and sparse_xxh3_128), which readers of versions 2
 * and 3 do not know, so every bundle is of version 4, thin or not.
 * (Version 3 was written for thin bundles only, version 2 for the
 * others.) */
#define CP_MANIFEST_VERSION_FULL 4
#define CP_MANIFEST_VERSION_THIN 4
/* The oldest version still read: version 1, whose manifest came last and
 * held the digests itself, and which had no run-lldb.sh. */
#define CP_MANIFEST_VERSION_MIN 1

#define CP_BUNDLE_PRIVATE_MODE 0600

/* What a bundle may ask of coreunpack; past a cap it is refused. */
#define CP_BUNDLE_MAX_NAMES 200000       /* entries, and the directories their names imply */
#define CP_BUNDLE_MAX_PATH 4096          /* bytes in an entry name or symlink target */
#define CP_BUNDLE_MAX_COMPONENT 255      /* bytes in one component of a name */
#define CP_BUNDLE_MAX_TOTAL (1ULL << 40) /* 1 TiB: files' logical sizes, holes included */
/* The longest origin path an object can have: its entry name is
 * TOP/sysroot/PATH, and TOP is one component. */
#define CP_BUNDLE_MAX_ORIGIN_PATH                                                                  \
	(CP_BUNDLE_MAX_PATH - CP_BUNDLE_MAX_COMPONENT - 1 - (sizeof(CP_BUNDLE_SYSROOT) - 1))

/* The names coreunpack creates in the target directory (the names a
 * bundle's top directory may hold), NULL-terminated. */
extern const char *const cp_bundle_names[];

/* Whether NAME (one component, LEN bytes) is one of cp_bundle_names.
 * *IS_DIR tells sysroot/debug from the files. */
int cp_bundle_top_name(const char *name, size_t len, int *is_dir);

/*
 * Check PATH as a normalised path: not empty, no empty, "." or ".."
 * component, no trailing '/', no control character (bytes below 0x20 and
 * 0x7f), components of at most CP_BUNDLE_MAX_COMPONENT bytes, the whole at
 * most CP_BUNDLE_MAX_PATH.  ABSOLUTE: must start with one '/' ("/" itself
 * is refused); otherwise must not start with '/'.  Returns 0, or -EINVAL
 * with *WHY set to a static phrase ("has a '..' component").
 */
int cp_bundle_path_check(const char *path, int absolute, const char **why);

/* The problem with one component C (LEN bytes) of a path, as a static
 * phrase ("has a '..' component"), or NULL when there is none. */
const char *cp_bundle_component_problem(const char *c, size_t len);

/* Whether S holds a control character (a byte below 0x20, or 0x7f). */
int cp_bundle_has_control(const char *s);

/* Whether NAME (relative to the top directory) is one of the private
 * files. */
static inline int cp_bundle_private(const char *name)
{
	return strcmp(name, CP_BUNDLE_CORE) == 0 || strcmp(name, CP_BUNDLE_MANIFEST) == 0 ||
	       strcmp(name, CP_BUNDLE_REPORT) == 0;
}

#endif
