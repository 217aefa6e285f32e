/*
 * The text forms of `corepack --list` (the JSON form is cp_listing_json()
 * in manifest.h).  Rendering only: the front end prints the result.
 *
 * table: one line per object, "RANGE BUILDID FILE STATUS DEBUGFILE NAME":
 *   RANGE      START-END as the core's NT_FILE mappings of the file span
 *              them ("0x7f..-0x7f.."), "-" for libthread_db (packed, but
 *              not mapped by the process)
 *   BUILDID    the core's copy, else the file's; "-" for none
 *   FILE       the file found on this machine, "-" when none
 *   STATUS     ok, mismatch, missing, no-build-id, unverified
 *              (cp_status_name()), or in-core for the vDSO
 *   DEBUGFILE  the separate debug file found, "-" for none
 *   NAME       the path the process had mapped; "[vdso]" for the vDSO
 * (the front end adds a closing line with the totals).
 *
 * unstrip: eu-unstrip -n's module lines (elfutils src/unstrip.c,
 * list_module()), "START+SIZE BUILDID[@ADDR] FILE DEBUGFILE NAME", with
 * libdwfl's values: for a module whose file on this machine is used (ok,
 * unverified, no-build-id), START+SIZE spans its ELF file's PT_LOAD
 * segments at the load bias, from the first segment's aligned p_vaddr to
 * the last one's p_vaddr + p_memsz, as libdwfl reports a module from its
 * file (__libdwfl_elf_address_range); for the vDSO and a module without a
 * usable file (missing, mismatch), the same segments read from the core's
 * memory with the end rounded up to the page size, as
 * dwfl_segment_report_module() does.  ADDR is where the build-id note's
 * descriptor lies in the process.  FILE is the file on this machine
 * (canonical: eu-unstrip prints the name it opened, often a symlink to
 * it), "." for the vDSO (read from the core), "-" for none; DEBUGFILE the
 * separate debug file, "." when the object carries its own DWARF, "-" for
 * none; NAME the basename of the loader's name for the object (link_map),
 * else of its mapped path, and for modules read from memory the mapped
 * path as NT_FILE has it, or the vDSO's DT_SONAME.  libthread_db, not
 * mapped, is not listed.  No totals line.
 *
 * Names from the core are escaped (escape.h): printable ASCII as it is,
 * '\' doubled, every other byte as \xNN.
 */
#ifndef COREPACK_LISTING_H
#define COREPACK_LISTING_H

#include <stdint.h>

#include "corepack/core.h"
#include "corepack/error.h"
#include "corepack/modules.h"

/* The table's lines.  *OUT is malloc'ed, the caller frees it.  Errors:
 * -ENOMEM. */
int cp_listing_table(const struct cp_scan *scan, char **out, struct cp_error *err);

/* The eu-unstrip -n lines.  Reads the objects' files and the core's
 * memory; an object whose ELF headers cannot be read from either is
 * listed with its NT_FILE range and no @ADDR.  *OUT is malloc'ed, the
 * caller frees it.  Errors: -ENOMEM. */
int cp_listing_unstrip(const struct cp_core *core, const struct cp_scan *scan, char **out,
                       struct cp_error *err);

#endif
