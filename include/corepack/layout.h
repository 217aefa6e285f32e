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
 *   manifest.json   what was packed and why (see manifest.h)
 *   corepack.gdb    gdb command file, paths relative to the top directory
 *   run-gdb.sh      starts gdb on the bundle from wherever it was extracted
 *   report.txt      the crash summary and every thread's backtrace
 *
 * The core, manifest.json and report.txt hold the crashed process's memory,
 * command line and environment: they are private (mode 0600) in the bundle
 * and after coreunpack, whatever the umask.  Every other file is 0644, or
 * 0755 when executable; directories 0755.
 */
#ifndef COREPACK_LAYOUT_H
#define COREPACK_LAYOUT_H

#include <string.h>

#define CP_BUNDLE_CORE "core"
#define CP_BUNDLE_SYSROOT "sysroot"
#define CP_BUNDLE_DEBUG "debug"
#define CP_BUNDLE_MANIFEST "manifest.json"
#define CP_BUNDLE_GDB_SCRIPT "corepack.gdb"
#define CP_BUNDLE_RUN_GDB "run-gdb.sh"
#define CP_BUNDLE_REPORT "report.txt"

/* manifest.json's "manifest_version" (doc/bundle-format.md, "Versioning"):
 * a reader refuses any version it does not know and ignores fields it does
 * not know.  New fields leave it alone; it goes up only for a change an old
 * reader would misread (a field removed, renamed, retyped or redefined, a
 * new role or status, a layout, path or digest change). */
#define CP_MANIFEST_VERSION 1

#define CP_BUNDLE_PRIVATE_MODE 0600

/* Whether NAME (relative to the top directory) is one of the private
 * files. */
static inline int cp_bundle_private(const char *name)
{
	return strcmp(name, CP_BUNDLE_CORE) == 0 || strcmp(name, CP_BUNDLE_MANIFEST) == 0 ||
	       strcmp(name, CP_BUNDLE_REPORT) == 0;
}

#endif
