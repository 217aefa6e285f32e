/*
 * Rendering the crash report from the core's notes, the scan and the
 * backtrace (see include/corepack/report.h).  Everything that came from the
 * core or from a file (command line, paths, function names) is escaped
 * (escape.h), so a hostile core cannot put terminal escapes or newlines
 * into corepack's output.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "corepack/escape.h"
#include "corepack/report.h"

const char *cp_si_code_name(int signo, int code)
{
	static const char *const segv[] = {NULL,           "SEGV_MAPERR",  "SEGV_ACCERR",
	                                   "SEGV_BNDERR",  "SEGV_PKUERR",  "SEGV_ACCADI",
	                                   "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR",
	                                   "SEGV_MTESERR", "SEGV_CPERR"};
	static const char *const bus[] = {NULL,         "BUS_ADRALN",    "BUS_ADRERR",
	                                  "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"};
	static const char *const ill[] = {NULL,         "ILL_ILLOPC",  "ILL_ILLOPN", "ILL_ILLADR",
	                                  "ILL_ILLTRP", "ILL_PRVOPC",  "ILL_PRVREG", "ILL_COPROC",
	                                  "ILL_BADSTK", "ILL_BADIADDR"};
	static const char *const fpe[] = {NULL,         "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV",
	                                  "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV",
	                                  "FPE_FLTSUB", NULL,         NULL,         NULL,
	                                  NULL,         NULL,         "FPE_FLTUNK", "FPE_CONDTRAP"};
	static const char *const trap[] = {NULL,          "TRAP_BRKPT",  "TRAP_TRACE",
	                                   "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK"};
#define PICK(tab) (code < (int)(sizeof(tab) / sizeof(tab[0])) ? tab[code] : NULL)
	switch (code) {
	case 0:
		return "SI_USER";
	case 0x80:
		return "SI_KERNEL";
	case -1:
		return "SI_QUEUE";
	case -2:
		return "SI_TIMER";
	case -3:
		return "SI_MESGQ";
	case -4:
		return "SI_ASYNCIO";
	case -5:
		return "SI_SIGIO";
	case -6:
		return "SI_TKILL";
	case -7:
		return "SI_DETHREAD";
	case -60:
		return "SI_ASYNCNL";
	}
	if (code < 0)
		return NULL;
	switch (signo) {
	case SIGSEGV:
		return PICK(segv);
	case SIGBUS:
		return PICK(bus);
	case SIGILL:
		return PICK(ill);
	case SIGFPE:
		return PICK(fpe);
	case SIGTRAP:
		return PICK(trap);
	}
	return NULL;
#undef PICK
}

static int is_fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE;
}

static void render_signal(struct cp_buf *b, const struct cp_core *core)
{
	const struct cp_notes *n = &core->notes;
	int sig = n->have_siginfo ? n->sig_signo : n->n_threads ? n->threads[0].cursig : 0;
	const char *name = cp_signal_name(sig);
	if (!sig) {
		cp_buf_printf(b, "signal: none recorded\n");
		return;
	}
	cp_buf_printf(b, "signal: %d (%s)", sig, name ? name : "unknown");
	if (n->have_siginfo) {
		const char *cn = cp_si_code_name(sig, n->sig_code);
		cp_buf_printf(b, ", code %d (%s)", (int)n->sig_code, cn ? cn : "unknown");
		if (n->sig_code > 0 && n->sig_code != 0x80 && is_fault_signal(sig)) {
			cp_buf_printf(b, ", fault address 0x%0*" PRIx64, core->is64 ? 16 : 8,
			              n->fault_addr);
		} else if (n->sig_code == 0 || n->sig_code == -1 || n->sig_code == -6) {
			/* kill(), sigqueue(), tgkill(): the union holds si_pid, si_uid */
			uint64_t w = n->fault_addr;
			uint32_t pid =
			    core->is64 ? (uint32_t)(core->big_endian ? w >> 32 : w) : (uint32_t)w;
			cp_buf_printf(b, ", sent by pid %" PRIu32, pid);
			if (core->is64)
				cp_buf_printf(b, " (uid %" PRIu32 ")",
				              (uint32_t)(core->big_endian ? w : w >> 32));
		}
	}
	cp_buf_add(b, "\n", 1);
}

static const struct cp_module *module_by_name(const struct cp_scan *s, const char *name)
{
	for (size_t i = 0; s && name && i < s->n_modules; i++)
		if (s->modules[i].origin_path && strcmp(s->modules[i].origin_path, name) == 0)
			return &s->modules[i];
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

static void render_frame(struct cp_buf *b, const struct cp_core *core, const struct cp_scan *scan,
                         size_t i, const struct cp_frame *f)
{
	cp_buf_printf(b, "#%-2zu 0x%0*" PRIx64 " ", i, core->is64 ? 16 : 8, f->pc);
	if (f->function) {
		cp_escape_buf(b, f->function);
		if (f->has_offset)
			cp_buf_printf(b, "+0x%" PRIx64, f->offset);
	} else {
		cp_buf_add(b, "??", 2);
	}
	if (f->module) {
		const struct cp_module *m = module_by_name(scan, f->module);
		cp_buf_add(b, " (", 2);
		cp_escape_buf(b, base_name(f->module));
		if (m && !cp_module_packable(m))
			cp_buf_printf(b, ", %s: not symbolized", cp_status_name(m->status));
		cp_buf_add(b, ")", 1);
	}
	if (f->file) {
		cp_buf_add(b, " ", 1);
		cp_escape_buf(b, f->file);
		if (f->line > 0)
			cp_buf_printf(b, ":%d", f->line);
	}
	if (f->inlined)
		cp_buf_add(b, " [inlined]", 10);
	if (f->tail_call)
		cp_buf_add(b, " [tail call]", 12);
	cp_buf_add(b, "\n", 1);
}

static void render_thread(struct cp_buf *b, const struct cp_core *core, const struct cp_scan *scan,
                          const struct cp_thread_trace *t)
{
	cp_buf_printf(b, "\nthread %" PRId32 "%s:\n", t->tid, t->crashing ? " (crashing)" : "");
	for (size_t i = 0; i < t->n_frames; i++)
		render_frame(b, core, scan, i, &t->frames[i]);
	if (t->frames_cut)
		cp_buf_printf(b, "... more frames not shown (cut at %zu)\n", t->n_frames);
	if (t->why) {
		cp_buf_add(b, "(", 1);
		cp_escape_buf(b, t->why);
		cp_buf_add(b, ")\n", 2);
	}
}

static int shows_no_line(const struct cp_thread_trace *t, const char *module)
{
	for (size_t i = 0; i < t->n_frames; i++)
		if (!t->frames[i].line && t->frames[i].module &&
		    strcmp(t->frames[i].module, module) == 0)
			return 1;
	return 0;
}

/* Why frames shown without a line have none: one line per module. */
static void render_notes(struct cp_buf *b, const struct cp_backtrace *bt, int all_threads)
{
	int first = 1;
	for (size_t k = 0; k < bt->n_notes; k++) {
		const struct cp_module_note *nt = &bt->notes[k];
		int shown = 0;
		for (size_t i = 0; i < bt->n_threads && !shown; i++)
			shown = (all_threads || bt->threads[i].crashing) &&
			        shows_no_line(&bt->threads[i], nt->module);
		if (!shown)
			continue;
		if (first)
			cp_buf_add(b, "\n", 1);
		first = 0;
		cp_escape_buf(b, base_name(nt->module));
		cp_buf_add(b, ": no line information: ", 23);
		cp_escape_buf(b, nt->why);
		cp_buf_add(b, "\n", 1);
	}
}

int cp_report_render(const struct cp_core *core, const struct cp_scan *scan,
                     const struct cp_backtrace *bt, int all_threads, char **out,
                     struct cp_error *err)
{
	const struct cp_notes *n = &core->notes;
	const struct cp_module *exe = scan ? cp_scan_executable(scan) : NULL;
	struct cp_buf b = {0};

	cp_buf_add(&b, "executable: ", 12);
	if (exe && exe->origin_path) {
		cp_escape_buf(&b, exe->origin_path);
		if (exe->deleted)
			cp_buf_add(&b, " (deleted)", 10);
		if (!cp_module_packable(exe))
			cp_buf_printf(&b, " (%s)", cp_status_name(exe->status));
	} else if (n->have_prpsinfo && n->fname[0]) {
		cp_escape_buf(&b, n->fname);
		cp_buf_add(&b, " (name only)", 12);
	} else {
		cp_buf_add(&b, "unknown", 7);
	}
	cp_buf_add(&b, "\n", 1);
	if (n->have_prpsinfo) {
		cp_buf_add(&b, "command line: ", 14);
		cp_escape_buf(&b, n->psargs);
		/* the kernel keeps ELF_PRARGSZ - 1 bytes of the arguments */
		if (strlen(n->psargs) >= sizeof(n->psargs) - 2)
			cp_buf_add(&b, " (maybe cut: the kernel keeps 79 bytes)", 39);
		cp_buf_printf(&b, "\npid: %" PRId32 "\n", n->pid);
	} else if (n->n_threads) {
		cp_buf_printf(&b, "pid: %" PRId32 " (of the crashing thread)\n", n->threads[0].pid);
	}
	render_signal(&b, core);
	cp_buf_printf(&b, "threads: %zu\n", n->n_threads);

	if (!bt) {
		cp_buf_add(&b, "backtrace: not available\n", 25);
	} else {
		if (bt->why) {
			cp_buf_add(&b, "backtrace: ", 11);
			cp_escape_buf(&b, bt->why);
			cp_buf_add(&b, "\n", 1);
		}
		size_t shown = 0;
		for (size_t i = 0; i < bt->n_threads; i++) {
			const struct cp_thread_trace *t = &bt->threads[i];
			if (!all_threads && !t->crashing)
				continue;
			render_thread(&b, core, scan, t);
			shown++;
		}
		if (all_threads && (bt->threads_cut || bt->n_threads < n->n_threads) &&
		    n->n_threads > bt->n_threads)
			cp_buf_printf(&b, "\n... %zu more thread%s not unwound (cut at %zu)\n",
			              n->n_threads - bt->n_threads,
			              n->n_threads - bt->n_threads == 1 ? "" : "s", bt->n_threads);
		else if (!all_threads && n->n_threads > shown)
			cp_buf_printf(&b, "\n(%zu other thread%s not shown)\n",
			              n->n_threads - shown, n->n_threads - shown == 1 ? "" : "s");
		if (shown == 0 && !bt->why)
			cp_buf_add(&b, "backtrace: the crashing thread was not unwound\n", 47);
		render_notes(&b, bt, all_threads);
	}
	char *text = cp_buf_steal(&b);
	if (!text)
		return cp_error_set(err, ENOMEM, "out of memory");
	*out = text;
	return 0;
}
