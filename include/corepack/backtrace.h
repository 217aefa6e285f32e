/*
 * Backtraces of a core's threads made at pack time with libdwfl's unwinder,
 * using only the files the scan verified (struct cp_scan: each module's
 * host_path when cp_module_packable(), its debug file and dwz alt file), so
 * they honour --sysroot and --debug-dir like the bundle does.  A module whose
 * file is missing or mismatched gets no ELF: its frames show "??" with the
 * module's name.
 *
 * Function names are gdb's: C++ names demangled or built from the DWARF
 * scopes, Rust names demangled, the names gdb shows from a symbol table
 * demangled as gdb demangles them; the mangled name is kept beside.  Where
 * frames of a module have no source line, the result says why, once per
 * module (no debug file, debug sections compressed with a method that
 * cannot be read, code outside every compilation unit).
 *
 * The core is untrusted and libdw asserts or loops on some broken stacks, so
 * the unwinding runs in a forked child that streams a small binary record
 * per thread into a pipe.  The parent reads it with a deadline, caps what it
 * accepts, kills the child on timeout, and turns every failure of the child
 * (timeout, crash, malformed output) into a "why" string on the result:
 * a core that cannot be unwound is data, not an error.
 */
#ifndef COREPACK_BACKTRACE_H
#define COREPACK_BACKTRACE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "corepack/core.h"
#include "corepack/error.h"
#include "corepack/modules.h"

#define CP_BACKTRACE_DEFAULT_THREADS 64
#define CP_BACKTRACE_DEFAULT_FRAMES 128
#define CP_BACKTRACE_DEFAULT_TIMEOUT_MS 10000
/* Hard caps whatever the options say. */
#define CP_BACKTRACE_MAX_THREADS 4096
#define CP_BACKTRACE_MAX_FRAMES 4096
#define CP_BACKTRACE_MAX_OUTPUT (16u << 20) /* bytes accepted from the child */
#define CP_BACKTRACE_MAX_STRING 4096        /* longer names are cut */
#define CP_BACKTRACE_MAX_NOTES 4096         /* module notes accepted from the child */

struct cp_frame {
	uint64_t pc;     /* the frame's pc: a return address for callers */
	char *function;  /* as gdb prints it (demangled); NULL when unknown ("??") */
	char *mangled;   /* the linkage or symbol name FUNCTION was made from,
	                  * when it differs (C++, Rust); NULL otherwise */
	uint64_t offset; /* pc - start of the symbol; valid when has_offset */
	int has_offset;
	char *module;  /* origin path of the object ("[vdso]"), NULL: none */
	char *file;    /* source file as the line table names it, or NULL */
	int line;      /* 0 when unknown */
	int inlined;   /* a function inlined at this pc (same pc as the next) */
	int tail_call; /* a frame left by a tail call, rebuilt from DWARF */
};

struct cp_thread_trace {
	int32_t tid;
	int crashing; /* the thread that took the signal (first NT_PRSTATUS) */
	struct cp_frame *frames;
	size_t n_frames;
	int frames_cut; /* stopped at max_frames with more to go */
	char *why;      /* why it could not be unwound (fully), or NULL */
};

/* Why the frames of a module have no source line (one per module, for
 * the modules that have frames without a line). */
struct cp_module_note {
	char *module; /* origin path of the object, as in cp_frame.module */
	char *why;    /* "no debug information (no separate debug file)" */
};

struct cp_backtrace {
	struct cp_thread_trace *threads; /* the crashing thread first */
	size_t n_threads;
	int threads_cut; /* max_threads reached with more threads in the core */
	char *why;       /* why the unwinding failed or stopped, or NULL */
	struct cp_module_note *notes;
	size_t n_notes;
};

struct cp_backtrace_opts {
	size_t max_threads;  /* 0: CP_BACKTRACE_DEFAULT_THREADS */
	size_t max_frames;   /* per thread; 0: CP_BACKTRACE_DEFAULT_FRAMES */
	unsigned timeout_ms; /* for the whole unwinding; 0: the default */
	int crashing_only;   /* unwind the crashing thread only */
	/* Set asynchronously (Ctrl-C): kill the child, return -EINTR. */
	const volatile sig_atomic_t *cancel;
	/* For tests: run in the child before unwinding, with the pipe's fd;
	 * when it returns nonzero the child exits without unwinding. */
	int (*child_hook)(int fd, void *arg);
	void *child_hook_arg;
};

/*
 * Unwind the threads of CORE (the crashing thread first, then the others in
 * the core's order) and symbolize every frame with the files of SCAN.  O may
 * be NULL for the defaults.  Returns 0 with *OUT set (owned by the caller,
 * cp_backtrace_free()) also when nothing could be unwound: then out->why or
 * a thread's why says so ("unwinder timed out after 10000 ms", "unwinder
 * crashed (signal 11, SIGSEGV)", the dwfl_errmsg() of the failing step).
 * Errors: -ENOMEM, -EINTR (cancelled), errno of pipe()/fork().
 *
 * Forks: call it before starting threads of your own, and do not reap
 * unknown children with wait(-1) meanwhile.
 */
int cp_backtrace_core(const struct cp_core *core, const struct cp_scan *scan,
                      const struct cp_backtrace_opts *o, struct cp_backtrace **out,
                      struct cp_error *err);
void cp_backtrace_free(struct cp_backtrace *bt);

/*
 * The wire format between the child and the parent, exposed for tests and
 * fuzzing.  cp_backtrace_encode() serializes BT (as the child does, thread
 * by thread) into a malloc'ed buffer.  cp_backtrace_decode() parses BUF
 * defensively: it keeps every complete thread record, stops at the first
 * malformed byte or at the caps (MAX_THREADS, MAX_FRAMES per thread, string
 * length, CP_BACKTRACE_MAX_NOTES), and says so in out->why; *COMPLETE is set when the end record
 * was seen.  Both fail only with -ENOMEM.
 */
int cp_backtrace_encode(const struct cp_backtrace *bt, uint8_t **buf, size_t *len);
int cp_backtrace_decode(const uint8_t *buf, size_t len, size_t max_threads, size_t max_frames,
                        struct cp_backtrace **out, int *complete);

#endif
