/*
 * A process that still exists: a live one (corepack --pid), or one the
 * kernel keeps while a core_pattern handler reads its core (corepack
 * --handler, with kernel.core_pipe_limit > 0).  While it exists,
 * /proc/PID/map_files/START-END opens exactly the file mapped there (even
 * deleted or replaced on disk since; the kernel lets only CAP_SYS_ADMIN
 * open it) and /proc/PID/root is its own root (a container's, a private
 * mount namespace's), so no --sysroot is needed.  Its identity (real uid
 * and gid) is read from the kernel's /proc/PID/status, never from a core.
 *
 * A live process's core is written by gdb's gcore (gdb -p PID, the
 * well-kept writer: threads, NT_FILE, the ELF headers of every mapping,
 * NT_PRPSINFO), into an anonymous temporary file that gdb reaches as
 * /proc/self/fd/3; gdb stops the process while it writes and detaches
 * when done, leaving it running.
 */
#ifndef COREPACK_LIVE_H
#define COREPACK_LIVE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "corepack/error.h"

struct cp_live_proc {
	pid_t pid;
	uint32_t uid, gid; /* real, from /proc/PID/status */
	/* /proc/PID/comm: chosen by the process (prctl, its file name), so
	 * attacker-chosen text; at most 15 bytes, NUL-terminated, newline
	 * removed, otherwise as the kernel gives it (escape before printing) */
	char comm[17];
	char root[48];      /* "/proc/PID/root": the sysroot */
	char map_files[48]; /* "/proc/PID/map_files" */
};

/*
 * Look PID up.  Errors: -ESRCH (no such process, messages say so),
 * -EACCES/-EPERM (its /proc entries may not be read: another user's
 * process, not root), -EINVAL (PID < 1, or a /proc/PID/status without
 * real ids), other -errno.  *OUT set only on success.
 */
int cp_live_open(pid_t pid, struct cp_live_proc *out, struct cp_error *err);

struct cp_live_gcore_opts {
	const char *gdb;                     /* gdb's name or path; NULL: "gdb" in PATH */
	const volatile sig_atomic_t *cancel; /* nonzero: gdb is ended, -EINTR; may be NULL */
	unsigned timeout_s;                  /* 0: none; else gdb is ended, -ETIMEDOUT */
};

/*
 * Write a core of P with gdb's gcore into an anonymous temporary file in
 * TMPDIR (cp_core_input_temp()).  Returns its descriptor (the caller's),
 * positioned anywhere; *SECONDS (may be NULL) gets the time gdb ran, an
 * upper bound of the time the process was stopped.  Errors: -ENOENT (no
 * gdb), -EIO (gdb wrote no core: the message gives gdb's last line, such
 * as "ptrace: Operation not permitted."), -EINTR, -ETIMEDOUT, -errno.
 */
int cp_live_gcore(const struct cp_live_proc *p, const char *tmpdir,
                  const struct cp_live_gcore_opts *o, double *seconds, struct cp_error *err);

#endif
