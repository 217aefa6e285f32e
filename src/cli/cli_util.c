/*
 * Front-end helpers; see cli_util.h.  Progress is drawn on stderr only
 * when it is a terminal, at most five times a second, and erased when done.
 */
#include <archive.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"

static const char *progname = "corepack";

void cli_init(const char *name)
{
	progname = name;
}

const char *cli_progname(void)
{
	return progname;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", progname, prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void (*fail_hook)(const char *msg);

void cli_on_fail(void (*fn)(const char *msg))
{
	fail_hook = fn;
}

void cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (fail_hook) {
		char msg[2048];
		va_list copy;
		va_copy(copy, ap);
		vsnprintf(msg, sizeof(msg), fmt, copy);
		va_end(copy);
		fail_hook(msg);
	}
	vmsg("", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int cli_usage(const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vmsg("", fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	return 2;
}

int cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int cli_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void cli_human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

void cli_print_version(const char *more)
{
	printf("%s %s\n%s\n%s", progname, COREPACK_VERSION, archive_version_details(),
	       more ? more : "");
}

static int stdout_errno; /* the first failed write's errno, when known */

void cli_puts_stdout(const char *s)
{
	if (fputs(s, stdout) == EOF && !stdout_errno)
		stdout_errno = errno;
}

void cli_flush_stdout(void)
{
	if (fflush(stdout) != 0 && !stdout_errno)
		stdout_errno = errno;
}

/* gnulib's close_stdout, in short: a stream that failed, or whose last
 * flush fails, is an error; a closed descriptor is one only when
 * something was to be written to it. */
static void close_stdout(void)
{
	int failed_before = ferror(stdout), pending = __fpending(stdout) > 0;
	errno = 0;
	int failed = fclose(stdout) != 0;
	int e = failed ? errno : 0;
	if (!failed_before && (!failed || (e == EBADF && !pending)))
		return;
	if (!e)
		e = stdout_errno;
	if (e)
		fprintf(stderr, "%s: write error on standard output: %s\n", progname, strerror(e));
	else
		fprintf(stderr, "%s: write error on standard output\n", progname);
	_exit(1);
}

void cli_check_stdout_at_exit(void)
{
	atexit(close_stdout);
}

static volatile sig_atomic_t cancelled;

static void on_signal(int sig)
{
	(void)sig;
	cancelled = 1;
}

const volatile sig_atomic_t *cli_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return &cancelled;
}

const volatile sig_atomic_t *cli_cancelled(void)
{
	return &cancelled;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_progress_init(struct cli_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->start = now();
	return isatty(STDERR_FILENO);
}

void cli_progress_update(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	double t = now();
	if (t - p->last < 0.2)
		return;
	p->last = t;
	char d[32], tot[32], rate[32];
	double secs = t - p->start;
	double bps = secs > 0 ? (double)done / secs : 0;
	cli_human_size(done, d, sizeof(d));
	cli_human_size(total, tot, sizeof(tot));
	cli_human_size((uint64_t)bps, rate, sizeof(rate));
	double left = bps > 0 && total > done ? (double)(total - done) / bps : 0;
	fprintf(stderr, "\r%s: %s of %s, %s/s, %.0fs left\033[K", progname, d, tot, rate, left);
	p->shown = 1;
}

void cli_progress_done(struct cli_progress *p)
{
	if (p && p->shown)
		fputs("\r\033[K", stderr);
}
