/*
 * Private to the scan of a core into objects (modules.c and the
 * modules_*.c files it is split into): the helpers they share and the
 * steps of the scan that live outside modules.c.  See
 * include/corepack/modules.h for the public interface.  Every function
 * returns 0 or -ENOMEM (or as said), and anything wrong with one object
 * becomes a warning in the scan (cp_mod_warn()).
 */
#ifndef COREPACK_MODULES_PRIVATE_H
#define COREPACK_MODULES_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/manifest_read.h"
#include "corepack/modules.h"

/* Objects one scan keeps: as many as a manifest holds (manifest_read.h),
 * less room for the executable given with -e and libthread_db. */
#define CP_MOD_MAX_OBJECTS (CP_MANIFEST_MAX_OBJECTS - 2)

/* modules.c: shared helpers. */

/* Grow *ARR (of N elements of SIZE) by one zeroed element; NULL on ENOMEM
 * (doubling: see modules.c). */
void *cp_mod_grow(void *arrp, size_t *n, size_t size);
/* Append a formatted warning to the scan. */
int cp_mod_warn(struct cp_scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Why PATH is not a name the bundle can hold, or NULL. */
const char *cp_mod_name_problem(const char *path);
/* Add a name (or a symlink, or the symlinks met resolving a path) to M;
 * a name the bundle cannot hold is warned about and left out. */
int cp_mod_add_name(struct cp_scan *s, struct cp_module *m, const char *path,
                    enum cp_name_source source);
int cp_mod_add_link(struct cp_scan *s, struct cp_module *m, const char *path, const char *target);
int cp_mod_add_links(struct cp_scan *s, struct cp_module *m, const struct cp_resolved *r);
/* The index of the module whose range holds ADDR, or -1. */
long cp_mod_index(const struct cp_scan *s, uint64_t addr);

/* modules_nofile.c: objects placed by the ELF headers dumped in the core,
 * for cores without NT_FILE, and the loader's _r_debug. */
int cp_mod_from_linkmap(const struct cp_core *core, struct cp_scan *s);
int cp_mod_exe_from_auxv(const struct cp_core *core, const struct cp_scan_opts *o,
                         struct cp_scan *s, const char **how);
int cp_mod_program_from_main_map(const struct cp_core *core, const struct cp_scan_opts *o,
                                 struct cp_scan *s, const char **how);
int cp_mod_linkmap_from_loader(const struct cp_core *core, struct cp_scan *s,
                               const struct cp_module *loader, int *found, struct cp_error *err);
long cp_mod_program_via_loader(const struct cp_core *core, struct cp_scan *s, long kexe);

/* modules_check.c: find each object's file, compare it with the core. */
int cp_mod_check_module(const struct cp_core *core, const struct cp_scan_opts *o, struct cp_scan *s,
                        struct cp_module *m);

/* modules_names.c: names as links in the bundle, relative names through
 * solib-search-path. */
int cp_mod_link_name(struct cp_scan *s, struct cp_module *m, const char *name);
int cp_mod_relative_names(struct cp_scan *s);

/* modules_debug.c: libthread_db and the objects' debug files. */
int cp_mod_add_thread_db(const struct cp_core *core, const struct cp_scan_opts *o,
                         struct cp_scan *s);
int cp_mod_find_debug(const struct cp_scan_opts *o, struct cp_scan *s);

#endif
