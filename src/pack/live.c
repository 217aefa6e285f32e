/*
 * A process that still exists (live.h): its identity from the kernel's
 * /proc/PID files, and a core of it written by gdb's gcore.  gdb runs as a
 * child in its own process group (a Ctrl-C on the terminal reaches
 * corepack, which ends gdb with SIGTERM: gdb then detaches from the
 * process it attached to, which keeps running), its standard error read
 * for the reason of a failure, the core written into a descriptor gdb
 * inherits as fd 3, and done only when gdb says it saved it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "corepack/core_input.h"
#include "corepack/io.h"
#include "corepack/live.h"

/* /proc/PID/status is a few KiB; a line this long is not one we read. */
#define STATUS_MAX (64 * 1024)
/* gdb's standard error kept for messages: its last line. */
#define GDB_LINE_MAX 512

/* The first (real) id on the line of /proc/PID/status starting KEY. */
static int status_id(const char *status, const char *key, uint32_t *out)
{
	size_t k = strlen(key);
	for (const char *l = status; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, k) != 0)
			continue;
		char *end;
		errno = 0;
		unsigned long v = strtoul(l + k, &end, 10);
		if (errno || end == l + k || v > UINT32_MAX)
			return -EINVAL;
		*out = (uint32_t)v;
		return 0;
	}
	return -EINVAL;
}

int cp_live_open(pid_t pid, struct cp_live_proc *out, struct cp_error *err)
{
	struct cp_live_proc p;
	memset(&p, 0, sizeof(p));
	if (pid < 1)
		return cp_error_set(err, EINVAL, "invalid process id %ld", (long)pid);
	p.pid = pid;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	char *status = NULL;
	size_t len = 0;
	struct cp_error e = {0};
	int r = cp_read_file_capped(path, STATUS_MAX, &status, &len, &e);
	if (r == -ENOENT)
		return cp_error_set(err, ESRCH, "no process %ld", (long)pid);
	if (r < 0)
		return cp_error_set(err, -r, "cannot read '%s': %s", path, strerror(-r));
	if (status_id(status, "Uid:", &p.uid) < 0 || status_id(status, "Gid:", &p.gid) < 0) {
		free(status);
		return cp_error_set(err, EINVAL, "cannot read '%s': no real uid or gid", path);
	}
	free(status);
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, p.comm, sizeof(p.comm) - 1);
		close(fd);
		if (n > 0) {
			p.comm[n] = '\0';
			p.comm[strcspn(p.comm, "\n")] = '\0';
		}
	}
	snprintf(p.root, sizeof(p.root), "/proc/%ld/root", (long)pid);
	snprintf(p.map_files, sizeof(p.map_files), "/proc/%ld/map_files", (long)pid);
	/* The root must be reachable: another user's process is not ours to
	 * read unless we are root (ptrace access rules). */
	fd = open(p.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int en = errno;
		return cp_error_set(err, en == ENOENT ? ESRCH : en, "cannot open '%s': %s", p.root,
		                    en == ENOENT ? "the process is gone" : strerror(en));
	}
	close(fd);
	*out = p;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child: gdb attaches, writes the core to fd 3, detaches. */
static void exec_gdb(const struct cp_live_proc *p, const struct cp_live_gcore_opts *o, int core_fd,
                     int err_fd, pid_t parent)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	/* out of the way of 0-3 first: either may be one of them */
	core_fd = fcntl(core_fd, F_DUPFD, 10);
	err_fd = fcntl(err_fd, F_DUPFD, 10);
	int null = open("/dev/null", O_RDWR);
	if (core_fd < 0 || err_fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(err_fd, 1) < 0 ||
	    dup2(err_fd, 2) < 0 || dup2(core_fd, 3) < 0 || fcntl(3, F_SETFD, 0) < 0)
		_exit(127);
	char pid[24];
	snprintf(pid, sizeof(pid), "%ld", (long)p->pid);
	const char *gdb = o && o->gdb ? o->gdb : "gdb";
	/* No init files, nothing auto-loaded from the process's files, no
	 * symbols of its libraries read: only what gcore needs. */
	char *const argv[] = {(char *)gdb,
	                      "-nx",
	                      "-batch",
	                      "-iex",
	                      "set auto-load off",
	                      "-iex",
	                      "set debuginfod enabled off",
	                      "-iex",
	                      "set auto-solib-add off",
	                      "-iex",
	                      "set pagination off",
	                      "-p",
	                      pid,
	                      "-ex",
	                      "gcore /proc/self/fd/3",
	                      "-ex",
	                      "detach",
	                      NULL};
	execvp(gdb, argv);
	_exit(errno == ENOENT ? 126 : 127);
}

/* What gdb said: whether it saved the core, and its last line that is not
 * a "[New LWP ...]"-style notice (the reason of a failure). */
struct gdb_said {
	char acc[GDB_LINE_MAX];
	size_t acc_len;
	char line[GDB_LINE_MAX];
	int saved;
};

static void said_line(struct gdb_said *g)
{
	g->acc[g->acc_len] = '\0';
	if (strncmp(g->acc, "Saved corefile ", 15) == 0)
		g->saved = 1;
	else if (g->acc_len && g->acc[0] != '[')
		snprintf(g->line, sizeof(g->line), "%s", g->acc);
	g->acc_len = 0;
}

static void said(struct gdb_said *g, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			said_line(g);
		} else if (g->acc_len < GDB_LINE_MAX - 1) {
			g->acc[g->acc_len++] = buf[i];
		}
	}
}

int cp_live_gcore(const struct cp_live_proc *p, const char *tmpdir,
                  const struct cp_live_gcore_opts *o, double *seconds, struct cp_error *err)
{
	int core_fd = cp_core_input_temp(tmpdir, err);
	if (core_fd < 0)
		return core_fd;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		int e = errno;
		close(core_fd);
		return cp_error_set(err, e, "cannot run gdb: %s", strerror(e));
	}
	double t0 = now_s();
	pid_t parent = getpid(), child = fork();
	if (child < 0) {
		int e = errno;
		close(core_fd);
		close(pipefd[0]);
		close(pipefd[1]);
		return cp_error_set(err, e, "cannot run gdb: %s", strerror(e));
	}
	if (child == 0)
		exec_gdb(p, o, core_fd, pipefd[1], parent);
	close(pipefd[1]);

	char buf[4096];
	struct gdb_said g;
	memset(&g, 0, sizeof(g));
	int r = 0;
	for (;;) {
		if (o && o->cancel && *o->cancel) {
			r = -EINTR;
			break;
		}
		if (o && o->timeout_s && now_s() - t0 > o->timeout_s) {
			r = -ETIMEDOUT;
			break;
		}
		struct pollfd pfd = {pipefd[0], POLLIN, 0};
		int n = poll(&pfd, 1, 200);
		if (n < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (n <= 0)
			continue;
		ssize_t k = read(pipefd[0], buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break; /* gdb is done (or closed its standard error) */
		said(&g, buf, (size_t)k);
	}
	if (g.acc_len)
		said_line(&g);
	close(pipefd[0]);
	if (r < 0)
		kill(child, SIGTERM); /* gdb detaches on SIGTERM */
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (seconds)
		*seconds = now_s() - t0;
	struct stat st;
	if (r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 126)
		r = cp_error_set(err, ENOENT, "cannot run '%s': no such program (install gdb)",
		                 o && o->gdb ? o->gdb : "gdb");
	else if (r == -EINTR)
		cp_error_set(err, EINTR, "interrupted while gdb wrote the core of process %ld",
		             (long)p->pid);
	else if (r == -ETIMEDOUT)
		cp_error_set(err, ETIMEDOUT,
		             "gdb took more than %u s to write the core of process %ld",
		             o->timeout_s, (long)p->pid);
	else if (r < 0)
		cp_error_set(err, -r, "cannot run gdb: %s", strerror(-r));
	else if (!g.saved || fstat(core_fd, &st) < 0 || st.st_size == 0)
		r = cp_error_set(err, EIO, "gdb wrote no core of process %ld%s%s", (long)p->pid,
		                 g.line[0] ? ": " : "", g.line);
	if (r < 0) {
		close(core_fd);
		return r;
	}
	return core_fd;
}
