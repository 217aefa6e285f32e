/*
 * The names gdb will open for a bundle, checked before run-gdb.sh is
 * written.  gdb reads the shared objects' names from the loader's
 * link_map lists in the core's memory (and the loader's from the
 * executable's PT_INTERP) and opens each absolute one at the sysroot
 * plus the name, a relative one from its own working directory (gdb 13's
 * solib_find_1(), seen with strace).  A name such as "/../../tmp/fifo"
 * then leaves the sysroot: gdb opened host files, and a FIFO there hung it
 * beyond SIGTERM.
 *
 * Every such name is resolved in the staging directory as the kernel will
 * resolve it below the unpacked tree: "..", and the bundle's own symlinks
 * followed.  A name that would lead out of the bundle (above its top
 * directory, or to a name there that is not the bundle's) refuses the
 * bundle; a relative name with a ".." component too; a relative name
 * without one is a warning (gdb looks for it wherever it is started).
 * link_map is walked the way corepack walks it (AT_PHDR) and the way gdb
 * finds it (the executable file's .dynamic section), both; the vDSO's
 * entry and the first of each list (the program, ignored by gdb) are
 * skipped; names are read as gdb reads them, at most 511 bytes.
 */
#ifndef COREPACK_GDB_NAMES_H
#define COREPACK_GDB_NAMES_H

#include <stddef.h>

#include "corepack/error.h"
#include "corepack/manifest_read.h"
#include "corepack/stage.h"

/* gdb 13's SO_NAME_MAX_PATH_SIZE - 1: the bytes of l_name it reads. */
#define CP_GDB_SO_NAME_MAX 511

/*
 * Check the names gdb will read from the core and executable extracted
 * into ST (the executable is M's).  A core that is not an ELF core is
 * none gdb reads names from: nothing to check.  Errors: -EINVAL
 * ("link_map name '/../../x' (in the core's memory) leads out of the
 * bundle: gdb would open 'sysroot/../../x'"; an ELF core this reader
 * cannot read), -ENOMEM.  Warnings (malloc'd lines, escaped for a
 * terminal, owned by the caller) go to *WARNINGS, their number to *N.
 */
int cp_gdb_names_check(struct cp_stage *st, const struct cp_manifest *m, char ***warnings,
                       size_t *n, struct cp_error *err);

#endif
