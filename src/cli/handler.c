/*
 * The core_pattern pipe handler's spool, limits and log, and its
 * installation (handler.h).
 *
 * The handler runs as root, started by the kernel with no environment, no
 * terminal and only standard input open, on the core of any user's
 * process.  Everything it names comes from the kernel (the pid from %P,
 * the identity from /proc/PID/status); the one string the process chose,
 * its comm, goes into the bundle's name only through a whitelist of
 * characters.  The spool must be a directory of ours that no one else may
 * write (a user able to write there could plant names for our writes and
 * removals); bundles are created 0600 (umask 077) and linked into place
 * when complete (outfile.c).
 *
 * --install-handler writes /etc/sysctl.d/50-corepack.conf (sorted after
 * systemd's 50-coredump.conf, so it wins at boot) and the kernel's values
 * now, after saving the values it replaces in
 * /var/lib/corepack/previous-core-pattern; --uninstall-handler puts them
 * back.  COREPACK_HANDLER_ROOT, for tests only, is put in front of those
 * paths and of /proc/sys/kernel: the whole installation then happens in a
 * scratch directory.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "corepack/escape.h"
#include "handler.h"

#define SYSCTL_FILE "/etc/sysctl.d/50-corepack.conf"
#define STATE_DIR "/var/lib/corepack"
#define STATE_FILE STATE_DIR "/previous-core-pattern"
#define PROC_PATTERN "/proc/sys/kernel/core_pattern"
#define PROC_PIPE_LIMIT "/proc/sys/kernel/core_pipe_limit"
/* The kernel's CORENAME_MAX_SIZE, the terminating NUL included. */
#define PATTERN_MAX 128
/* Bundles looked at in the spool at most (vacuum). */
#define SPOOL_SCAN_MAX 100000

int handler_parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	if (*end) {
		const char *units = "KMGT", *u = strchr(units, toupper((unsigned char)*end));
		if (!u || end[1])
			return -1;
		shift = 10 * (unsigned)(u - units + 1);
	}
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* ---- the log ---- */

static char log_context[256];
static int stderr_open;

static void log_fail(const char *msg)
{
	syslog(LOG_ERR, "%s%s", log_context, msg);
}

void handler_begin(void)
{
	/* The kernel opens only standard input (the core); a descriptor
	 * opened later must not become 1 or 2, where messages would go. */
	stderr_open = fcntl(2, F_GETFD) >= 0;
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) /* cannot happen: the lowest is taken */
				close(n);
		}
	umask(077);
	openlog("corepack", LOG_PID, LOG_DAEMON);
	cli_on_fail(log_fail);
}

void handler_set_context(const char *context)
{
	snprintf(log_context, sizeof(log_context), "%s: ", context);
}

void handler_log(int priority, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	syslog(priority, "%s%s", log_context, msg);
	if (stderr_open)
		fprintf(stderr, "%s: %s%s\n", cli_progname(), log_context, msg);
}

/* ---- the spool ---- */

/* DIR exists (made 0700 when missing and MAKE), is a directory (not a
 * symlink), ours, and writable by no one else.  Returns 0 or an exit
 * status, the failure said. */
static int spool_check(const char *dir, int make)
{
	struct stat st;
	char a[4 * 4096 + 8];
	if (dir[0] != '/')
		return cli_fail("spool '%s': not an absolute path", cp_escape(dir, a, sizeof(a))),
		       1;
	if (lstat(dir, &st) < 0 && errno == ENOENT && make) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return cli_fail("cannot make the spool '%s': %s",
			                cp_escape(dir, a, sizeof(a)), strerror(errno)),
			       1;
	}
	if (lstat(dir, &st) < 0)
		return cli_fail("cannot use the spool '%s': %s", cp_escape(dir, a, sizeof(a)),
		                strerror(errno)),
		       1;
	if (!S_ISDIR(st.st_mode))
		return cli_fail("cannot use the spool '%s': not a directory",
		                cp_escape(dir, a, sizeof(a))),
		       1;
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return cli_fail("cannot use the spool '%s': owned by uid %u, mode %04o; it must be "
		                "ours (uid %u) and writable by no one else",
		                cp_escape(dir, a, sizeof(a)), (unsigned)st.st_uid,
		                (unsigned)(st.st_mode & 07777), (unsigned)geteuid()),
		       1;
	return 0;
}

/* The space free on DIR's filesystem and the space to keep free there. */
static int spool_space(const struct handler_opts *h, const char *dir, uint64_t *avail,
                       uint64_t *keep)
{
	struct statvfs vfs;
	if (statvfs(dir, &vfs) < 0)
		return -errno;
	*avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	uint64_t size = (uint64_t)vfs.f_blocks * vfs.f_frsize;
	*keep = h->keep_free_set ? h->keep_free : size / 100 * HANDLER_KEEP_FREE_PERCENT;
	if (!h->keep_free_set && *keep > HANDLER_KEEP_FREE_MAX)
		*keep = HANDLER_KEEP_FREE_MAX;
	return 0;
}

int handler_prepare(const struct handler_opts *h, const struct cp_live_proc *p, char **output,
                    uint64_t *max_core, uint64_t *max_data)
{
	int rc = spool_check(h->spool, 1);
	if (rc)
		return rc;
	uint64_t avail, keep;
	char a[4 * 4096 + 8], s1[32], s2[32];
	int r = spool_space(h, h->spool, &avail, &keep);
	if (r < 0)
		return cli_fail("cannot use the spool '%s': %s", cp_escape(h->spool, a, sizeof(a)),
		                strerror(-r)),
		       1;
	if (avail <= keep) {
		cli_human_size(avail, s1, sizeof(s1));
		cli_human_size(keep, s2, sizeof(s2));
		return cli_fail("refused: %s free in '%s', %s to keep free (--keep-free)", s1,
		                cp_escape(h->spool, a, sizeof(a)), s2),
		       1;
	}
	*max_data = avail - keep;
	*max_core = h->max_core_set ? h->max_core : HANDLER_MAX_CORE;

	char exe[sizeof(p->comm) + 1];
	size_t n = 0;
	if (!p->comm[0] || p->comm[0] == '.' || p->comm[0] == '-')
		exe[n++] = '_';
	for (const char *c = p->comm; *c && n < sizeof(exe) - 1; c++)
		exe[n++] = isalnum((unsigned char)*c) || strchr("._+-", *c) ? *c : '_';
	exe[n] = '\0';
	if (asprintf(output, "%s%s%s-%ld-%lld.tar.zst", h->spool,
	             h->spool[strlen(h->spool) - 1] == '/' ? "" : "/", exe, (long)p->pid,
	             (long long)time(NULL)) < 0) {
		*output = NULL;
		return cli_fail("out of memory"), 1;
	}
	return 0;
}

/* Whether NAME is one of our bundles: X-PID-TIME.tar.zst. */
static int is_bundle_name(const char *name)
{
	static const char sfx[] = ".tar.zst";
	size_t len = strlen(name), k = strlen(sfx);
	if (name[0] == '.' || len <= k || strcmp(name + len - k, sfx) != 0)
		return 0;
	size_t end = len - k, digits = 0, dashes = 0;
	for (size_t i = end; i > 0 && dashes < 2; i--) {
		char c = name[i - 1];
		if (isdigit((unsigned char)c)) {
			digits++;
		} else if (c == '-' && digits > 0) {
			dashes++;
			digits = 0;
		} else {
			return 0;
		}
	}
	return dashes == 2;
}

struct spooled {
	char *name;
	time_t mtime;
};

static int cmp_spooled(const void *a, const void *b)
{
	const struct spooled *x = a, *y = b;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

int handler_vacuum(const struct handler_opts *h, const char *output)
{
	int dfd = open(h->spool, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return 0;
	}
	const char *keep_name = strrchr(output, '/') ? strrchr(output, '/') + 1 : output;
	struct spooled *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < SPOOL_SCAN_MAX) {
		struct stat st;
		if (!is_bundle_name(e->d_name) ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			struct spooled *l = reallocarray(list, cap ? cap * 2 : 64, sizeof(*l));
			if (!l)
				break;
			list = l;
			cap = cap ? cap * 2 : 64;
		}
		if (!(list[n].name = strdup(e->d_name)))
			break;
		list[n++].mtime = st.st_mtime;
	}
	qsort(list, n, sizeof(*list), cmp_spooled);
	long max = h->max_bundles > 0 ? h->max_bundles : HANDLER_MAX_BUNDLES;
	size_t left = n;
	int removed = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t avail = UINT64_MAX, keep = 0;
		int over = left > (size_t)max;
		if (!over && (spool_space(h, h->spool, &avail, &keep) < 0 || avail >= keep))
			break;
		if (strcmp(list[i].name, keep_name) == 0)
			continue;
		if (unlinkat(dfd, list[i].name, 0) == 0 || errno == ENOENT) {
			removed++;
			left--;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
	closedir(d);
	return removed;
}

/* ---- installation ---- */

static char *at_root(const char *path)
{
	const char *root = getenv("COREPACK_HANDLER_ROOT");
	char *p = NULL;
	if (asprintf(&p, "%s%s", root ? root : "", path) < 0)
		return NULL;
	return p;
}

/* The first line of PATH (a sysctl file), at most 4 KiB, into a new
 * string; NULL with errno set. */
static char *read_line(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char buf[4096];
	if (!fgets(buf, sizeof(buf), f)) {
		buf[0] = '\0';
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

/* Write TEXT into PATH: with REPLACE, a new file renamed over it
 * (complete or not at all); else in place (a /proc/sys file). */
static int write_text(const char *path, const char *text, int replace)
{
	char *tmp = NULL;
	int fd;
	if (replace) {
		if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
			return -ENOMEM;
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd >= 0)
			fchmod(fd, 0644);
	} else {
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	}
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return -e;
	}
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	int e = w < 0 ? errno : (size_t)w != len ? EIO : 0;
	if (!e && replace && fsync(fd) < 0)
		e = errno;
	if (close(fd) < 0 && !e)
		e = errno;
	if (replace) {
		if (!e && rename(tmp, path) < 0)
			e = errno;
		if (e)
			unlink(tmp);
		free(tmp);
	}
	return -e;
}

/* Who the pattern hands cores to, or NULL when it names a file. */
static const char *pattern_owner(const char *pattern)
{
	if (pattern[0] != '|')
		return NULL;
	if (strstr(pattern, "systemd-coredump"))
		return "systemd-coredump";
	if (strstr(pattern, "apport"))
		return "apport";
	if (strstr(pattern, "corepack") && strstr(pattern, " --handler "))
		return "corepack";
	return "another program";
}

/* A path the kernel's split of the pattern at spaces keeps whole, and
 * that holds no % (a specifier). */
static int pattern_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '%' || *s == 0x7f)
			return 0;
	return 1;
}

struct install_paths {
	char *sysctl_file, *state_dir, *state_file, *pattern, *pipe_limit;
};

static void paths_free(struct install_paths *p)
{
	free(p->sysctl_file);
	free(p->state_dir);
	free(p->state_file);
	free(p->pattern);
	free(p->pipe_limit);
}

static int paths_get(struct install_paths *p)
{
	p->sysctl_file = at_root(SYSCTL_FILE);
	p->state_dir = at_root(STATE_DIR);
	p->state_file = at_root(STATE_FILE);
	p->pattern = at_root(PROC_PATTERN);
	p->pipe_limit = at_root(PROC_PIPE_LIMIT);
	return p->sysctl_file && p->state_dir && p->state_file && p->pattern && p->pipe_limit
	           ? 0
	           : -ENOMEM;
}

int handler_install(const struct handler_opts *h, int force, int quiet)
{
	struct install_paths p = {0};
	char *old = NULL, *old_limit = NULL, *spool = NULL, *text = NULL;
	char exe[4096], a[4 * 4096 + 8];
	int rc = 1, r;
	if (paths_get(&p) < 0) {
		cli_fail("out of memory");
		goto out;
	}
	if (!(old = read_line(p.pattern)) || !(old_limit = read_line(p.pipe_limit))) {
		cli_fail("cannot read '%s': %s", old ? p.pipe_limit : p.pattern, strerror(errno));
		goto out;
	}
	const char *who = pattern_owner(old);
	if (who && strcmp(who, "corepack") != 0 && !force) {
		cli_fail("kernel.core_pattern pipes cores to %s ('%s'); use -f to replace it "
		         "(--uninstall-handler puts it back)",
		         who, cp_escape(old, a, sizeof(a)));
		goto out;
	}
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		cli_fail("cannot find corepack's own path: %s", strerror(errno));
		goto out;
	}
	exe[n] = '\0';
	if (h->spool)
		spool = strdup(h->spool);
	else if (mkdir(p.state_dir, 0755) < 0 && errno != EEXIST)
		cli_fail("cannot make '%s': %s", p.state_dir, strerror(errno));
	else
		spool = at_root(HANDLER_DEFAULT_SPOOL);
	if (!spool)
		goto out;
	while (strlen(spool) > 1 && spool[strlen(spool) - 1] == '/')
		spool[strlen(spool) - 1] = '\0';
	if (!pattern_safe(exe) || !pattern_safe(spool)) {
		cli_fail("'%s': a path with a space, a control character or %% cannot go into "
		         "kernel.core_pattern",
		         cp_escape(pattern_safe(exe) ? spool : exe, a, sizeof(a)));
		goto out;
	}
	if ((rc = spool_check(spool, 1)) != 0)
		goto out;
	rc = 1;
	char pattern[PATTERN_MAX + 1];
	if (snprintf(pattern, sizeof(pattern), "|%s --handler %%P --spool %s", exe, spool) >=
	    PATTERN_MAX) {
		cli_fail(
		    "the pattern '|%s --handler %%P --spool %s' is longer than the kernel's %d "
		    "bytes; choose a shorter --spool",
		    exe, spool, PATTERN_MAX - 1);
		goto out;
	}
	long limit = atol(old_limit);
	if (limit < HANDLER_PIPE_LIMIT)
		limit = HANDLER_PIPE_LIMIT;

	/* The values replaced are saved once: a second install keeps what
	 * was there before the first. */
	if (!who || strcmp(who, "corepack") != 0) {
		if (mkdir(p.state_dir, 0755) < 0 && errno != EEXIST) {
			cli_fail("cannot make '%s': %s", p.state_dir, strerror(errno));
			goto out;
		}
		if (asprintf(
		        &text,
		        "# kernel.core_pattern and kernel.core_pipe_limit before corepack "
		        "--install-handler\nkernel.core_pattern = %s\nkernel.core_pipe_limit = "
		        "%s\n",
		        old, old_limit) < 0) {
			text = NULL;
			cli_fail("out of memory");
			goto out;
		}
		if ((r = write_text(p.state_file, text, 1)) < 0) {
			cli_fail("cannot write '%s': %s", p.state_file, strerror(-r));
			goto out;
		}
		free(text);
		text = NULL;
	}
	if (asprintf(&text,
	             "# Written by corepack --install-handler; corepack --uninstall-handler "
	             "removes it.\nkernel.core_pattern = %s\nkernel.core_pipe_limit = %ld\n",
	             pattern, limit) < 0) {
		text = NULL;
		cli_fail("out of memory");
		goto out;
	}
	if ((r = write_text(p.sysctl_file, text, 1)) < 0) {
		cli_fail("cannot write '%s': %s", p.sysctl_file, strerror(-r));
		goto out;
	}
	char lim[32];
	snprintf(lim, sizeof(lim), "%ld", limit);
	/* the limit first: the kernel keeps the process for the handler only
	 * when it is above 0 */
	if ((r = write_text(p.pipe_limit, lim, 0)) < 0 ||
	    (r = write_text(p.pattern, pattern, 0)) < 0) {
		cli_fail("cannot set kernel.core_pattern and kernel.core_pipe_limit: %s",
		         strerror(-r));
		write_text(p.pipe_limit, old_limit, 0);
		unlink(p.sysctl_file);
		goto out;
	}
	rc = 0;
	if (quiet)
		goto out;
	printf("kernel.core_pattern was '%s' (%s), kernel.core_pipe_limit %s%s%s%s\n",
	       cp_escape(old, a, sizeof(a)), !who ? "core files written by the kernel" : who,
	       old_limit, who && strcmp(who, "corepack") == 0 ? "" : "; saved in '",
	       who && strcmp(who, "corepack") == 0 ? "" : p.state_file,
	       who && strcmp(who, "corepack") == 0 ? "" : "'");
	printf("kernel.core_pattern is now '%s', kernel.core_pipe_limit %ld; also at boot "
	       "('%s')\n",
	       pattern, limit, p.sysctl_file);
	if (who && strcmp(who, "apport") == 0)
		cli_warn(
		    "apport sets kernel.core_pattern again when its service starts: disable it "
		    "(systemctl disable apport) to keep corepack");
out:
	free(old);
	free(old_limit);
	free(spool);
	free(text);
	paths_free(&p);
	return rc;
}

/* The value of KEY in the saved file TEXT ("KEY = VALUE" lines). */
static char *saved_value(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, k) == 0 && strncmp(l + k, " = ", 3) == 0)
			return strndup(l + k + 3, strcspn(l + k + 3, "\n"));
	}
	return NULL;
}

int handler_uninstall(int quiet)
{
	struct install_paths p = {0};
	char *cur = NULL, *text = NULL, *pattern = NULL, *limit = NULL;
	char a[4 * 4096 + 8];
	int rc = 1;
	if (paths_get(&p) < 0) {
		cli_fail("out of memory");
		goto out;
	}
	FILE *f = fopen(p.state_file, "re");
	if (f) {
		size_t cap = 16384, len = 0;
		text = calloc(1, cap);
		if (text)
			len = fread(text, 1, cap - 1, f);
		fclose(f);
		if (!text) {
			cli_fail("out of memory");
			goto out;
		}
		text[len] = '\0';
		pattern = saved_value(text, "kernel.core_pattern");
		limit = saved_value(text, "kernel.core_pipe_limit");
		if (!pattern || !limit) {
			cli_fail("cannot read '%s': no saved kernel.core_pattern and "
			         "kernel.core_pipe_limit",
			         p.state_file);
			goto out;
		}
	} else if (errno != ENOENT) {
		cli_fail("cannot read '%s': %s", p.state_file, strerror(errno));
		goto out;
	} else if (access(p.sysctl_file, F_OK) < 0) {
		cli_fail("the handler is not installed (no '%s')", p.state_file);
		goto out;
	}
	if (!(cur = read_line(p.pattern))) {
		cli_fail("cannot read '%s': %s", p.pattern, strerror(errno));
		goto out;
	}
	const char *who = pattern_owner(cur);
	int ours = who && strcmp(who, "corepack") == 0;
	int r;
	if (ours && pattern) {
		if ((r = write_text(p.pattern, pattern, 0)) < 0 ||
		    (r = write_text(p.pipe_limit, limit, 0)) < 0) {
			cli_fail(
			    "cannot restore kernel.core_pattern and kernel.core_pipe_limit: %s",
			    strerror(-r));
			goto out;
		}
	}
	if (unlink(p.sysctl_file) < 0 && errno != ENOENT) {
		cli_fail("cannot remove '%s': %s", p.sysctl_file, strerror(errno));
		goto out;
	}
	if (pattern && unlink(p.state_file) < 0 && errno != ENOENT) {
		cli_fail("cannot remove '%s': %s", p.state_file, strerror(errno));
		goto out;
	}
	rc = 0;
	if (!ours)
		cli_warn("kernel.core_pattern is '%s', not corepack's: left as it is",
		         cp_escape(cur, a, sizeof(a)));
	else if (!pattern)
		cli_warn("no saved values ('%s'): kernel.core_pattern left as it is", p.state_file);
	if (quiet)
		goto out;
	if (ours && pattern)
		printf("kernel.core_pattern restored to '%s', kernel.core_pipe_limit to %s\n",
		       cp_escape(pattern, a, sizeof(a)), limit);
	printf("removed '%s'\n", p.sysctl_file);
out:
	free(cur);
	free(text);
	free(pattern);
	free(limit);
	paths_free(&p);
	return rc;
}
