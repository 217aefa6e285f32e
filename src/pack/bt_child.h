/*
 * Private to the unwinder child (bt_session.c, bt_symbol.c, bt_walk.c):
 * its state, the modules it hands to libdwfl, and the functions one part
 * calls in another.  Everything here runs in the child backtrace.c forks;
 * a failure to write to the parent or to allocate exits the child
 * (status 3 or 4), which the parent reports.
 */
#ifndef COREPACK_BT_CHILD_H
#define COREPACK_BT_CHILD_H

#include <elfutils/libdwfl.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backtrace_private.h"

/* One address range of a compilation unit (bt_cu.c). */
struct bt_cu_range {
	Dwarf_Addr lo, hi; /* [lo, hi) in the module's DWARF addresses */
	uint32_t cu;       /* index into bt_module.cus */
};

struct bt_module {
	const struct cp_module *m; /* NULL for the vDSO */
	const char *name;          /* origin path, or "[vdso]" */
	uint8_t *image;            /* the vDSO's bytes, read from the core */
	size_t image_len;
	int debug_given, alt_given, alt_guarded;
	/* why its DWARF cannot be read in full (bt_zdebug.c), or NULL */
	char *dwarf_why;
	int noted; /* a note on missing lines was sent */
	/* units by address, built when libdwfl finds no CU (bt_cu.c) */
	int cus_built;
	Dwarf_Die *cus;
	size_t n_cus;
	struct bt_cu_range *ranges; /* sorted by lo */
	size_t n_ranges;
	Dwarf_Addr cus_bias;
};

/* A function's name as gdb prints it in a backtrace (bt_name.c): NAME
 * points into the DWARF, the symbol table or BUF; MANGLED is the linkage or
 * symbol name it was made from when that differs, else NULL. */
struct bt_name {
	const char *name, *mangled;
	char buf[CP_BACKTRACE_MAX_STRING + 1];
};

struct bt_child {
	const struct cp_core *core;
	const struct cp_scan *scan;
	size_t max_threads, max_frames;
	int crashing_only;
	int out_fd;
	Dwfl *dwfl;
	struct bt_module *mods;
	const char *exe_name; /* origin path of the executable, or NULL */
	int32_t crash_tid;
	size_t n_threads;
	int threads_cut;
	/* the thread being unwound */
	int32_t tid;
	size_t n_frames;
	int frames_cut, past_main;
	uint64_t prev_entry; /* entry pc of the previous physical frame's function */
	Dwfl_Module *prev_mod;
	char *why;
	struct bt_name name; /* of the frame being made */
};

/* libdwfl's callbacks: only the files the scan verified (bt_session.c). */
extern const Dwfl_Callbacks cp_bt_callbacks;

/* Report every module the scan placed, plus the vDSO, to C->dwfl; modules
 * whose range collides with one already reported are left out. */
void cp_bt_report_modules(struct bt_child *c);

/* Before anything reads MOD's DWARF: if it names a dwz alt file that was
 * not handed to libdwfl, give it a stub (see bt_session.c). */
void cp_bt_guard_alt(Dwfl_Module *mod, struct bt_module *bm);

/* Send one frame record, or a note on a module, to the parent (bt_walk.c). */
void cp_bt_send_frame(struct bt_child *c, const struct cp_frame *f);
void cp_bt_send_note(struct bt_child *c, const char *module, const char *why);

/* The compilation unit DIE covering ADDR (absolute) in MOD, with *BIAS,
 * through .debug_aranges or else the units' own ranges; NULL for none
 * (bt_cu.c).  The DIE stays valid as long as the module. */
Dwarf_Die *cp_bt_addrcu(Dwfl_Module *mod, struct bt_module *bm, Dwarf_Addr addr, Dwarf_Addr *bias);
/* The source file and *LINE of ADDR (relative to the CU's bias) from the
 * line table of CUDIE; NULL (and *LINE 0) when it has none. */
const char *cp_bt_srcline(Dwarf_Die *cudie, Dwarf_Addr addr, int *line);

/* Of the function DIE (subprogram or inlined subroutine) in CUDIE; SYM is
 * the symbol at the function's entry, or NULL. */
void cp_bt_die_name(Dwarf_Die *die, Dwarf_Die *cudie, const char *sym, struct bt_name *out);
/* Of a symbol table entry, as gdb shows a minimal symbol. */
void cp_bt_sym_name(const char *sym, struct bt_name *out);

/* Debug sections compressed with zstd, which libelf 0.188 cannot read
 * (bt_zdebug.c).  For a file's ELF (read with ELF_C_READ_MMAP, SIZE
 * bytes): -1 when it has none, else the fd of an in-memory copy with them
 * decompressed (its ELF in *OUT when OUT is not NULL).  When some debug
 * sections cannot be read (an unknown method, corrupt data, past the
 * caps), sets *WHY (malloc'ed) to say why, if it is NULL. */
int cp_bt_zdebug_open(Elf *elf, uint64_t size, Elf **out, char **why);

/* Symbolize one physical frame at PC into one or more frames (inlined
 * functions first), sent as they are made (bt_symbol.c).  False when the
 * thread must stop (max_frames, or past main). */
bool cp_bt_symbolize(struct bt_child *c, Dwarf_Addr pc, bool activation);

#endif
