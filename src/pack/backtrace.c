/*
 * Running the unwinder (bt_walk.c) in a forked child, so that a core whose
 * stack makes libdw assert, crash or loop cannot take corepack down: the
 * child resets the front end's signal handlers, dumps no core, limits its
 * memory, and dies with the parent; the parent reads its records (wire
 * format: backtrace_wire.c) with a deadline and a size cap, kills it when
 * either is hit, and says in the result why it is short.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backtrace_private.h"

/* Memory the child may use beyond the debug files it maps privately. */
#define CHILD_MEMORY_BASE (1ull << 30)

#if defined(__SANITIZE_ADDRESS__)
#define CHILD_LIMIT_DATA 0 /* ASan's shadow memory counts as data */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILD_LIMIT_DATA 0
#endif
#endif
#ifndef CHILD_LIMIT_DATA
#define CHILD_LIMIT_DATA 1
#endif

static void child_setup(pid_t parent, unsigned timeout_ms, uint64_t mem_limit)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* the front end's handlers are not ours */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* a crash of the unwinder must not leave a core of corepack behind */
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(5);
	alarm(timeout_ms / 1000 + 2); /* the parent kills us first */
	if (CHILD_LIMIT_DATA && mem_limit) {
		rl.rlim_cur = rl.rlim_max = mem_limit;
		setrlimit(RLIMIT_DATA, &rl);
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
}

/* libdwfl maps debug files privately writable: they count as data, and
 * so do the decompressed copies of those with zstd sections (bt_zdebug.c). */
static uint64_t child_memory_limit(const struct cp_scan *s)
{
	uint64_t total = CHILD_MEMORY_BASE;
	for (size_t i = 0; i < s->n_modules; i++) {
		const struct cp_debug_result *d = s->modules[i].debug;
		if (!d)
			continue;
		const char *files[2] = {d->file ? d->file->host_path : NULL,
		                        d->alt ? d->alt->host_path : NULL};
		for (int k = 0; k < 2; k++) {
			uint64_t a = file_size(files[k]);
			uint64_t z = files[k] ? cp_bt_zdebug_extra(files[k]) : 0;
			if (total + a < total || total + a + z < total + a)
				return 0;
			total += a + z;
		}
	}
	return total;
}

static const char *signal_label(int sig)
{
	const char *n = cp_signal_name(sig);
	return n ? n : "unknown";
}

enum stop { STOP_EOF, STOP_TIMEOUT, STOP_CAP, STOP_CANCEL, STOP_READ_ERROR };

struct reader {
	struct cp_buf out; /* at most CP_BACKTRACE_MAX_OUTPUT bytes */
	int read_errno;
};

/* Read the child's output until EOF, the deadline, the cap or a cancel. */
static enum stop read_child(int fd, uint64_t deadline, const volatile sig_atomic_t *cancel,
                            struct reader *r)
{
	char chunk[65536];
	for (;;) {
		if (cancel && *cancel)
			return STOP_CANCEL;
		uint64_t now = now_ms();
		if (now >= deadline)
			return STOP_TIMEOUT;
		uint64_t left = deadline - now;
		struct pollfd pfd = {fd, POLLIN, 0};
		int k = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (k < 0 && errno != EINTR) {
			r->read_errno = errno;
			return STOP_READ_ERROR;
		}
		if (k <= 0)
			continue;
		if (r->out.len >= CP_BACKTRACE_MAX_OUTPUT)
			return STOP_CAP;
		size_t want = CP_BACKTRACE_MAX_OUTPUT - r->out.len;
		ssize_t got = read(fd, chunk, want < sizeof(chunk) ? want : sizeof(chunk));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0) {
			r->read_errno = errno;
			return STOP_READ_ERROR;
		}
		if (got == 0)
			return STOP_EOF;
		cp_buf_add(&r->out, chunk, (size_t)got);
		if (r->out.oom) {
			r->read_errno = ENOMEM;
			return STOP_READ_ERROR;
		}
	}
}

/* Reap the child; kill it if it has not exited by DEADLINE.  Returns the
 * wait status, or -1 when it cannot be known (SIGCHLD ignored). */
static int reap_child(pid_t pid, uint64_t deadline, int kill_now)
{
	int st;
	if (kill_now)
		kill(pid, SIGKILL);
	for (;;) {
		pid_t w = waitpid(pid, &st, kill_now ? 0 : WNOHANG);
		if (w == pid)
			return st;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			kill_now = 1;
			continue;
		}
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* Say why the result is short, from how the child ended. */
static int explain(struct cp_backtrace *bt, enum stop stop, int status, int complete,
                   unsigned timeout_ms, int read_errno)
{
	char *why = NULL;
	int r = 0;
	if (stop == STOP_TIMEOUT)
		r = cp_wire_set_why(&why, "unwinder timed out after %u ms", timeout_ms);
	else if (stop == STOP_CAP)
		r = cp_wire_set_why(&why, "unwinder output exceeded %u bytes; the rest was dropped",
		                    CP_BACKTRACE_MAX_OUTPUT);
	else if (stop == STOP_READ_ERROR)
		r = cp_wire_set_why(&why, "cannot read the unwinder's output: %s",
		                    strerror(read_errno));
	else if (complete)
		return 0; /* whatever happened after the end record does not matter */
	else if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		r = cp_wire_set_why(&why,
		                    "unwinder was killed (signal 9, SIGKILL; out of memory?)");
	else if (status != -1 && WIFSIGNALED(status))
		r = cp_wire_set_why(&why, "unwinder crashed (signal %d, %s)", WTERMSIG(status),
		                    signal_label(WTERMSIG(status)));
	else if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) != 0)
		r = cp_wire_set_why(&why, "unwinder failed (exit status %d)", WEXITSTATUS(status));
	else
		return 0; /* the decoder's own why stands */
	if (r < 0)
		return r;
	free(bt->why);
	bt->why = why;
	return 0;
}

int cp_backtrace_core(const struct cp_core *core, const struct cp_scan *scan,
                      const struct cp_backtrace_opts *o, struct cp_backtrace **out,
                      struct cp_error *err)
{
	struct cp_backtrace_opts d = {0};
	if (!o)
		o = &d;
	size_t max_threads = o->max_threads ? o->max_threads : CP_BACKTRACE_DEFAULT_THREADS;
	size_t max_frames = o->max_frames ? o->max_frames : CP_BACKTRACE_DEFAULT_FRAMES;
	unsigned timeout = o->timeout_ms ? o->timeout_ms : CP_BACKTRACE_DEFAULT_TIMEOUT_MS;
	if (max_threads > CP_BACKTRACE_MAX_THREADS)
		max_threads = CP_BACKTRACE_MAX_THREADS;
	if (max_frames > CP_BACKTRACE_MAX_FRAMES)
		max_frames = CP_BACKTRACE_MAX_FRAMES;
	if (o->crashing_only)
		max_threads = 1;

	uint64_t mem_limit = child_memory_limit(scan);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cp_error_set(err, errno, "cannot create a pipe for the unwinder: %s",
		                    strerror(errno));
	pid_t parent = getpid();
	uint64_t deadline = now_ms() + timeout;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return cp_error_set(err, e, "cannot start the unwinder: %s", strerror(e));
	}
	if (pid == 0) {
		close(p[0]);
		child_setup(parent, timeout, mem_limit);
		if (o->child_hook && o->child_hook(p[1], o->child_hook_arg))
			_exit(0);
		cp_unwind_child(p[1], core, scan, max_threads, max_frames, o->crashing_only);
		_exit(0);
	}
	close(p[1]);
	struct reader rd = {0};
	enum stop stop = read_child(p[0], deadline, o->cancel, &rd);
	close(p[0]);
	/* After EOF the child is exiting; give it until the deadline. */
	int status = reap_child(pid, deadline + 1000, stop != STOP_EOF);
	if (stop == STOP_CANCEL) {
		cp_buf_done(&rd.out);
		return cp_error_set(err, EINTR, "interrupted");
	}
	struct cp_backtrace *bt = NULL;
	int complete = 0;
	int r = cp_backtrace_decode((const uint8_t *)rd.out.d, rd.out.len, max_threads, max_frames,
	                            &bt, &complete);
	cp_buf_done(&rd.out);
	if (r == 0)
		r = explain(bt, stop, status, complete, timeout, rd.read_errno);
	if (r < 0) {
		cp_backtrace_free(bt);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	*out = bt;
	return 0;
}
