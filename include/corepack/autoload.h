/*
 * gdb's auto-load scripts of the packed objects, packed for
 * `coreunpack --trust` only (they are code from the crashed machine): the
 * OBJECT-gdb.py gdb 13 would load for each object on the origin
 * (gdb/auto-load.c: beside the object's real path, then below each
 * auto-load scripts-directory, by default $debugdir:$datadir/auto-load,
 * i.e. /usr/lib/debug and /usr/share/gdb/auto-load), and for gcc's
 * libstdc++ script, which imports its pretty printers from the directory
 * named on its `pythondir = '...'` line, that directory's *.py files.
 *
 * In the bundle the script lies beside the object (sysroot + its real
 * path + "-gdb.py", the first place gdb looks) and the package at sysroot
 * + its origin path, where gcc's script, which finds it relative to the
 * object's directory, reaches it.
 */
#ifndef COREPACK_AUTOLOAD_H
#define COREPACK_AUTOLOAD_H

#include <stddef.h>

#include "corepack/error.h"
#include "corepack/modules.h"

#define CP_AUTOLOAD_MAX_SCRIPT (1024 * 1024)     /* bytes of one OBJECT-gdb.py */
#define CP_AUTOLOAD_MAX_FILES 256                /* files of one Python package */
#define CP_AUTOLOAD_MAX_BYTES (16 * 1024 * 1024) /* bytes of one Python package */
#define CP_AUTOLOAD_MAX_DEPTH 8                  /* directory levels of one */

struct cp_autoload_file {
	size_t module;     /* index into scan->modules of the object it serves */
	int is_script;     /* the object's OBJECT-gdb.py (else a file of its package) */
	char *host_path;   /* the file on this machine (where it was found) */
	char *origin_path; /* the origin path it stands for in the bundle: the
	                    * object's real path + "-gdb.py", a package file's own */
	char *bundle_path; /* "sysroot" + ORIGIN_PATH */
};

struct cp_autoload {
	struct cp_autoload_file *files;
	size_t n_files;
	char **warnings; /* one line each */
	size_t n_warnings;
};

/*
 * Find the scripts of SCAN's packable modules under SYSROOT (NULL for
 * none).  A script or package that is missing, too large or unreadable is
 * left out (a package past its caps with a warning).  *OUT owned by the
 * caller (cp_autoload_free()).  Errors: -ENOMEM only.
 */
int cp_autoload_find(const char *sysroot, const struct cp_scan *scan, struct cp_autoload **out,
                     struct cp_error *err);
void cp_autoload_free(struct cp_autoload *a);

#endif
