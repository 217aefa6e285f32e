/*
 * The unwinder child's work: a libdwfl session over the core, built from
 * the scan (bt_session.c), the walk over its threads and their frames
 * (here), and the symbolization of every frame the way gdb shows it
 * (bt_symbol.c).
 *
 * The Dwfl is not built with dwfl_core_file_report(): elfutils 0.188's
 * link_map walk opens each l_name on this machine, outside any sysroot, and
 * accepts the file when the core's copy of the build-id is not dumped.
 * Here every module is reported with the address range NT_FILE gave, and
 * find_elf / find_debuginfo hand out only the files the scan verified
 * (re-checking their build-ids on the open fd), plus the vDSO from the
 * core's memory.  dwfl_core_file_attach() supplies the threads' registers
 * and the stack memory.
 *
 * To match gdb's backtraces: inlined functions get frames of their own,
 * frames lost to tail calls are rebuilt from DW_TAG_call_site, functions
 * are named by their DWARF linkage name and symbol aliases chosen as gdb
 * chooses, the signal trampoline is "<signal handler called>", and a
 * thread stops at the executable's main.
 *
 * Every record goes to the pipe as soon as it is made (backtrace.c runs
 * this in a child and reads it with a deadline).
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "bt_child.h"

static void write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(3); /* the parent is gone or stopped listening */
		p += k;
		n -= (size_t)k;
	}
}

/* Each record goes out in one write as soon as it is made, so a crash or a
 * timeout later loses nothing already unwound. */
void cp_bt_send_frame(struct bt_child *c, const struct cp_frame *f)
{
	struct cp_buf w = {0};
	cp_wire_put_frame(&w, f);
	if (w.oom)
		_exit(4);
	write_all(c->out_fd, w.d, w.len);
	cp_buf_done(&w);
}

void cp_bt_send_note(struct bt_child *c, const char *module, const char *why)
{
	struct cp_buf w = {0};
	cp_wire_put_note(&w, module, why);
	if (w.oom)
		_exit(4);
	write_all(c->out_fd, w.d, w.len);
	cp_buf_done(&w);
}

static void send_record(struct bt_child *c, int type, int32_t tid, int flag, const char *why)
{
	struct cp_buf w = {0};
	if (type == 'M')
		cp_wire_put_magic(&w);
	else if (type == 'S')
		cp_wire_put_thread_start(&w, tid, flag);
	else if (type == 'T')
		cp_wire_put_thread_end(&w, flag, why);
	else
		cp_wire_put_end(&w, flag, why);
	if (w.oom)
		_exit(4);
	write_all(c->out_fd, w.d, w.len);
	cp_buf_done(&w);
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct bt_child *c = arg;
	Dwarf_Addr pc;
	bool activation;
	if (c->n_frames >= c->max_frames) {
		c->frames_cut = 1;
		return DWARF_CB_ABORT;
	}
	if (!dwfl_frame_pc(state, &pc, &activation)) {
		cp_wire_set_why(&c->why, "cannot read the pc: %s", dwfl_errmsg(-1));
		return DWARF_CB_ABORT;
	}
	bool go = cp_bt_symbolize(c, pc, activation);
	/* Symbolizing may leave an error behind; clear it so a failure of
	 * the next unwinding step is reported, not this. */
	(void)dwfl_errno();
	return go ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static void unwind_thread(struct bt_child *c, Dwfl_Thread *thread)
{
	c->tid = (int32_t)dwfl_thread_tid(thread);
	c->n_frames = 0;
	c->frames_cut = c->past_main = 0;
	c->prev_entry = 0;
	c->prev_mod = NULL;
	free(c->why);
	c->why = NULL;
	send_record(c, 'S', c->tid, c->tid == c->crash_tid, NULL);
	(void)dwfl_errno();
	int r = dwfl_thread_getframes(thread, frame_cb, c);
	if (r == -1 && !c->why) {
		/* taken right here: the next dwfl call would reset it */
		const char *msg = dwfl_errmsg(-1);
		if (c->n_frames == 0)
			cp_wire_set_why(&c->why, "cannot unwind: %s", msg);
		else
			cp_wire_set_why(&c->why, "unwinding stopped after %zu frame%s: %s",
			                c->n_frames, c->n_frames == 1 ? "" : "s", msg);
	}
	send_record(c, 'T', 0, c->frames_cut, c->why);
	c->n_threads++;
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
	struct bt_child *c = arg;
	int crashing = (int32_t)dwfl_thread_tid(thread) == c->crash_tid;
	if (c->crashing_only && !crashing)
		return DWARF_CB_OK;
	if (c->n_threads >= c->max_threads) {
		c->threads_cut = 1;
		return DWARF_CB_ABORT;
	}
	unwind_thread(c, thread);
	return c->crashing_only ? DWARF_CB_ABORT : DWARF_CB_OK;
}

void cp_unwind_child(int fd, const struct cp_core *core, const struct cp_scan *scan,
                     size_t max_threads, size_t max_frames, int crashing_only)
{
	struct bt_child cs = {
	    .core = core,
	    .scan = scan,
	    .max_threads = max_threads,
	    .max_frames = max_frames,
	    .crashing_only = crashing_only,
	    .out_fd = fd,
	};
	struct bt_child *c = &cs;
	send_record(c, 'M', 0, 0, NULL);
	const struct cp_notes *n = &c->core->notes;
	const struct cp_module *exe = cp_scan_executable(c->scan);
	c->exe_name = exe ? exe->origin_path : NULL;
	if (n->n_threads == 0) {
		send_record(c, 'E', 0, 0, "the core has no threads (no NT_PRSTATUS note)");
		return;
	}
	c->crash_tid = n->threads[0].pid;
	elf_version(EV_CURRENT);
	c->dwfl = dwfl_begin(&cp_bt_callbacks);
	if (!c->dwfl) {
		char *why = NULL;
		cp_wire_set_why(&why, "cannot start libdwfl: %s", dwfl_errmsg(-1));
		send_record(c, 'E', 0, 0, why);
		return;
	}
	cp_bt_report_modules(c);
	Elf *elf = elf_begin(c->core->fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		char *why = NULL;
		cp_wire_set_why(&why, "cannot read the core: %s", elf_errmsg(-1));
		send_record(c, 'E', 0, 0, why);
		return;
	}
	if (dwfl_core_file_attach(c->dwfl, elf) < 0) {
		char *why = NULL;
		cp_wire_set_why(&why, "cannot read the threads: %s", dwfl_errmsg(-1));
		send_record(c, 'E', 0, 0, why);
		return;
	}
	char *why = NULL;
	if (dwfl_getthreads(c->dwfl, thread_cb, c) == -1)
		cp_wire_set_why(&why, "cannot list the threads: %s", dwfl_errmsg(-1));
	else if (c->n_threads == 0)
		cp_wire_set_why(&why, "thread %d is not in the core", (int)c->crash_tid);
	send_record(c, 'E', 0, c->threads_cut, why);
}
