/*
 * The three scripts of a bundle, rendered from the embedded templates
 * (template.h): corepack.gdb (gdb settings, for `gdb -nx -x corepack.gdb`
 * in the bundle's directory), run-gdb.sh (starts gdb on the bundle from
 * wherever it is) and run-lldb.sh (the same for lldb).  Shared by the packer, which puts them in
 * the bundle, and the unpacker, which writes its own in place of the bundle's.
 */
#ifndef COREPACK_SCRIPTS_H
#define COREPACK_SCRIPTS_H

#include <stdint.h>
#include <stddef.h>

#include "corepack/error.h"

struct cp_scripts_input {
	/* Origin path of the packed executable ("/usr/bin/app"; the file is
	 * sysroot/usr/bin/app), or NULL when the bundle has none. */
	const char *executable;
	const char *machine;       /* cp_machine_name() of the core */
	const char *thread_db_dir; /* origin directory of the packed libthread_db, or NULL */
	/* A process started as `ld.so PROGRAM`: EXECUTABLE is then the loader
	 * (gdb finds the libraries through its _r_debug) and PROGRAM (an
	 * origin path of a packed object) is loaded with add-symbol-file at
	 * PROGRAM_OFFSET, its load bias.  NULL otherwise. */
	const char *program;
	uint64_t program_offset;
	/* Origin directories for gdb's solib-search-path (objects the loader
	 * knew by a relative name), each passing
	 * cp_scripts_search_dir_problem(); N_SOLIB_DIRS may be 0. */
	const char *const *solib_dirs;
	size_t n_solib_dirs;
	int bundle_scripts; /* the bundle holds OBJECT-gdb.py scripts of its objects */
	int trust;          /* run-gdb.sh loads the bundle's libthread_db and, with
	                     * BUNDLE_SCRIPTS, auto-loads those scripts */
	size_t n_dwz;       /* objects whose debug file needs a dwz alt file:
	                     * run-lldb.sh warns that lldb 14 cannot read them */
};

struct cp_scripts {
	char *gdb_script; /* corepack.gdb */
	char *run_gdb;    /* run-gdb.sh */
	char *run_lldb;   /* run-lldb.sh */
};

/*
 * Render the three scripts; every value is quoted for sh (cp_quote_sh) and gdb
 * (cp_quote_gdb_arg).  An executable no gdb quoting can carry (see
 * cp_scripts_check_executable) makes corepack.gdb print that the executable
 * is missing instead of loading it.  OUT's strings are malloc'd, owned by
 * the caller (cp_scripts_done()).  Errors: -ENOMEM, -ENOENT (no template).
 */
int cp_scripts_render(const struct cp_scripts_input *in, struct cp_scripts *out,
                      struct cp_error *err);
/* Free S's strings and clear them (S itself is the caller's; NULL
 * accepted). */
void cp_scripts_done(struct cp_scripts *s);

/*
 * Why gdb cannot be handed EXECUTABLE (an origin path) intact, or NULL when
 * it can: cp_quote_gdb_arg() refuses "sysroot" + EXECUTABLE.  That is a
 * control character, or a '~' after a space or tab: gdb 13 tilde-expands
 * those both in its `file` command (corepack.gdb) and in an executable
 * named on its command line (run-gdb.sh); seen: ".../t ~root/x/threads"
 * opened as ".../t /root/x/threads", another file, perhaps the host's.
 * The reason is a static phrase.
 */
const char *cp_scripts_executable_problem(const char *executable);

/*
 * Why DIR (an origin directory) could not be one entry of a gdb search
 * path (libthread-db-search-path, auto-load safe-path, solib-search-path),
 * or NULL: a ':' (list separator), a '$' (gdb substitutes $sdir, $pdir), a
 * control character, a trailing space or tab.  The reason is a static
 * phrase.
 */
const char *cp_scripts_search_dir_problem(const char *dir);

/*
 * The directory below sysroot/ that gdb works in while it loads the core
 * (run-gdb.sh and corepack.gdb `cd` there): the directory of EXECUTABLE
 * (an origin path, "/opt/app/bin/app": "/opt/app/bin"), so that a library
 * the loader knew by a relative name ("../lib/libx.so", resolved by gdb
 * from its working directory before solib-search-path) is looked up in
 * the bundle; "" (sysroot/ itself) for none, "/", or a directory gdb's
 * `cd` could not be given as it is (cp_scripts_search_dir_problem(), a
 * component starting with '.', '~', '\\' or a quote).  Malloc'd; NULL when
 * out of memory.  coreunpack checks every relative name from there
 * (gdb_names.c).
 */
char *cp_scripts_gdb_dir(const char *executable);
/* The same, for the libthread_db directory (run-gdb.sh with trust). */
const char *cp_scripts_thread_db_dir_problem(const char *dir);

#endif
