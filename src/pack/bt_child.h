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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backtrace_private.h"

struct bt_module {
	const struct cp_module *m;  /* NULL for the vDSO */
	const struct cp_scan *scan; /* whose access rules open m's files */
	const char *name;           /* origin path, or "[vdso]" */
	uint8_t *image;             /* the vDSO's bytes, read from the core */
	size_t image_len;
	int debug_given, alt_given, alt_guarded;
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
};

/* libdwfl's callbacks: only the files the scan verified (bt_session.c). */
extern const Dwfl_Callbacks cp_bt_callbacks;

/* Report every module the scan placed, plus the vDSO, to C->dwfl; modules
 * whose range collides with one already reported are left out. */
void cp_bt_report_modules(struct bt_child *c);

/* Before anything reads MOD's DWARF: if it names a dwz alt file that was
 * not handed to libdwfl, give it a stub (see bt_session.c). */
void cp_bt_guard_alt(Dwfl_Module *mod, struct bt_module *bm);

/* Send one frame record to the parent (bt_walk.c). */
void cp_bt_send_frame(struct bt_child *c, const struct cp_frame *f);

/* Symbolize one physical frame at PC into one or more frames (inlined
 * functions first), sent as they are made (bt_symbol.c).  False when the
 * thread must stop (max_frames, or past main). */
bool cp_bt_symbolize(struct bt_child *c, Dwarf_Addr pc, bool activation);

#endif
