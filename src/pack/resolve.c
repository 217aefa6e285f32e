/*
 * Resolving origin paths under a sysroot the way the kernel would inside a
 * chroot, one component at a time, while recording every symlink met so
 * that the bundle can reproduce each name gdb will look up (the SONAME
 * link, /lib -> usr/lib, ...).  Also the lexical path helpers the other
 * modules share: the host path of an origin path, normalisation, and the
 * relative path between two directories.
 *
 * Symlink targets are normalised lexically before they are followed, and
 * the walk follows the normalised target.  That keeps the walk identical to
 * what the bundle's rewritten (relative, never escaping) links resolve to;
 * it differs from the kernel only for a target such as "a/../b" where "a"
 * is itself a symlink, which no distribution ships.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/access.h"
#include "corepack/resolve.h"

/* Length of SYSROOT as a prefix: trailing slashes dropped, so "/" and ""
 * (and NULL) mean no sysroot at all. */
static size_t sysroot_prefix_len(const char *sysroot)
{
	size_t n = sysroot ? strlen(sysroot) : 0;
	while (n > 0 && sysroot[n - 1] == '/')
		n--;
	return n;
}

char *cp_host_path(const char *sysroot, const char *origin_path)
{
	if (!origin_path)
		return NULL;
	size_t sn = sysroot_prefix_len(sysroot);
	if (sn == 0)
		return strdup(origin_path);

	size_t on = strlen(origin_path);
	int need_slash = origin_path[0] != '/';
	char *p = malloc(sn + need_slash + on + 1);
	if (!p)
		return NULL;
	memcpy(p, sysroot, sn);
	if (need_slash)
		p[sn] = '/';
	memcpy(p + sn + need_slash, origin_path, on + 1);
	return p;
}

/*
 * Normalise absolute PATH into OUT (OUTSIZE bytes).  The result is never
 * longer than PATH (or 1 byte, "/"), so OUTSIZE > strlen(PATH) always
 * suffices.  Returns the length, -EINVAL for a relative path, -ENAMETOOLONG
 * when OUT is too small.
 */
static int normalize_into(const char *path, char *out, size_t outsize)
{
	if (path[0] != '/')
		return -EINVAL;
	if (outsize < 2)
		return -ENAMETOOLONG;

	size_t n = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 0)
			break;
		if (len == 1 && p[0] == '.') {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			/* Drop the last component; at the root ".." is the root. */
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else {
			if (n + 1 + len + 1 > outsize)
				return -ENAMETOOLONG;
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return (int)n;
}

char *cp_path_normalize(const char *path)
{
	if (!path || path[0] != '/')
		return NULL;
	size_t size = strlen(path) + 2;
	char *out = malloc(size);
	if (!out)
		return NULL;
	if (normalize_into(path, out, size) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *cp_path_relative(const char *from_dir, const char *to)
{
	/* Normalise again: cheap, and a stray "//" or "." in an argument must
	 * not turn into a wrong number of "../". */
	char *from = cp_path_normalize(from_dir);
	char *dest = cp_path_normalize(to);
	char *rel = NULL;
	if (!from || !dest)
		goto out;

	/* Skip the components both share. */
	const char *a = from, *b = dest;
	for (;;) {
		while (*a == '/')
			a++;
		while (*b == '/')
			b++;
		size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
		if (la == 0 || la != lb || memcmp(a, b, la) != 0)
			break;
		a += la;
		b += lb;
	}

	/* One "../" per component of FROM left over, then the rest of TO. */
	size_t ups = 0;
	for (const char *p = a; *p;) {
		size_t len = strcspn(p, "/");
		if (len > 0)
			ups++;
		p += len;
		while (*p == '/')
			p++;
	}
	size_t blen = strlen(b);
	rel = malloc(3 * ups + blen + 2);
	if (!rel)
		goto out;
	char *w = rel;
	for (size_t i = 0; i < ups; i++) {
		memcpy(w, "../", 3);
		w += 3;
	}
	memcpy(w, b, blen);
	w += blen;
	if (w > rel && w[-1] == '/')
		w--; /* "../../" from TO being an ancestor of FROM */
	if (w == rel)
		*w++ = '.';
	*w = '\0';
out:
	free(from);
	free(dest);
	return rel;
}

void cp_resolved_free(struct cp_resolved *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_links; i++) {
		free(r->links[i].path);
		free(r->links[i].target);
	}
	free(r->links);
	free(r->real);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

/* The walk's state; on the heap because it holds several CP_PATH_MAX
 * buffers. */
struct walk {
	const struct cp_access *acc; /* whose rights; NULL: ours */
	int flags;
	int root_fd; /* the sysroot's directory ("/" without one) */
	struct stat root_st;
	int dir_fd; /* the directory w->done names; root_fd or owned */
	struct stat dir_st;
	char done[CP_PATH_MAX]; /* resolved prefix, symlink-free; "" is "/" */
	size_t done_len;
	char rest[CP_PATH_MAX];   /* what is left to walk */
	char splice[CP_PATH_MAX]; /* scratch for building the next rest */
	char name[CP_PATH_MAX];   /* the component looked up, NUL-terminated */
	char target[CP_PATH_MAX]; /* readlinkat() result, then normalised */
	char link_dir[CP_PATH_MAX];
	char why[CP_PATH_MAX + 256]; /* the reason for a refusal, for the message */
	struct cp_resolved *res;
};

static void walk_set_dir(struct walk *w, int fd, const struct stat *st)
{
	if (w->dir_fd >= 0 && w->dir_fd != w->root_fd)
		close(w->dir_fd);
	w->dir_fd = fd;
	w->dir_st = *st;
}

/* The directory W->done names, for messages. */
static const char *walk_dir_name(const struct walk *w)
{
	return w->done_len ? w->done : "/";
}

/* Refusals under the access rules: the reason is kept for the message. */
static int walk_refuse(struct walk *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int walk_refuse(struct walk *w, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->why, sizeof(w->why), fmt, ap);
	va_end(ap);
	return -code;
}

/* May the owners look up names in the current directory?  The sysroot's
 * own directory is where the process lived: not judged. */
static int walk_may_search(struct walk *w)
{
	if (w->done_len == 0)
		return 0;
	const struct cp_owner *o = cp_access_denied(w->acc, &w->dir_st, 1);
	if (o)
		return walk_refuse(w, EACCES, "%s (uid %u, gid %u) may not search '%s'", o->what,
		                   (unsigned)o->uid, (unsigned)o->gid, walk_dir_name(w));
	return 0;
}

/* Open the directory W->done again, from the root, after a ".." took its
 * last component off: nothing on the way may have become a symlink. */
static int walk_reopen(struct walk *w)
{
	size_t len = w->done_len;
	walk_set_dir(w, w->root_fd, &w->root_st);
	w->done_len = 0;
	for (size_t i = 0; i < len;) {
		while (i < len && w->done[i] == '/')
			i++;
		size_t n = 0;
		while (i + n < len && w->done[i + n] != '/')
			n++;
		if (n == 0)
			break;
		char save = w->done[w->done_len];
		w->done[w->done_len] = '\0';
		int r = walk_may_search(w);
		w->done[w->done_len] = save;
		if (r < 0)
			return r;
		memcpy(w->name, w->done + i, n);
		w->name[n] = '\0';
		int fd = openat(w->dir_fd, w->name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		walk_set_dir(w, fd, &st);
		i += n;
		w->done_len = i;
	}
	w->done_len = len;
	return 0;
}

static int walk_record_link(struct walk *w, const char *link_dir, const char *abs_target)
{
	struct cp_resolved *res = w->res;
	for (size_t i = 0; i < res->n_links; i++)
		if (strcmp(res->links[i].path, w->done) == 0)
			return 0;

	/* At most CP_RESOLVE_MAX_LINKS distinct links, so growing by one is
	 * cheap enough. */
	struct cp_link *links = realloc(res->links, (res->n_links + 1) * sizeof(*links));
	if (!links)
		return -ENOMEM;
	res->links = links;

	char *path = strdup(w->done);
	char *target = cp_path_relative(link_dir, abs_target);
	if (!path || !target) {
		free(path);
		free(target);
		return -ENOMEM;
	}
	links[res->n_links].path = path;
	links[res->n_links].target = target;
	res->n_links++;
	return 0;
}

/*
 * Follow the symlink LINK_FD at w->done, whose directory is the first
 * OLD_LEN bytes of w->done; REMAINING is what is left of the walk after
 * it.  On return the walk restarts from the root with the link's
 * normalised absolute target spliced in front of REMAINING.
 */
static int walk_follow(struct walk *w, int link_fd, size_t old_len, const char *remaining)
{
	ssize_t n = readlinkat(link_fd, "", w->target, sizeof(w->target));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(w->target))
		return -ENAMETOOLONG;
	if (n == 0)
		return -ENOENT;
	w->target[n] = '\0';

	/* The link's directory, as an absolute origin path. */
	char *link_dir = w->link_dir;
	if (old_len == 0) {
		strcpy(link_dir, "/");
	} else {
		memcpy(link_dir, w->done, old_len);
		link_dir[old_len] = '\0';
	}

	/* Absolute targets are inside the sysroot (chroot semantics);
	 * relative ones hang off the link's directory.  Normalising the
	 * joined path applies ".." with the root as the floor. */
	int r;
	if (w->target[0] == '/') {
		strcpy(w->splice, w->target);
	} else {
		if (old_len + 1 + (size_t)n + 1 > sizeof(w->splice))
			return -ENAMETOOLONG;
		memcpy(w->splice, w->done, old_len);
		w->splice[old_len] = '/';
		memcpy(w->splice + old_len + 1, w->target, (size_t)n + 1);
	}
	int tlen = normalize_into(w->splice, w->target, sizeof(w->target));
	if (tlen < 0)
		return tlen;

	r = walk_record_link(w, link_dir, w->target);
	if (r < 0)
		return r;

	/* rest = target + "/" + remaining; remaining may point into w->rest,
	 * hence the scratch buffer. */
	size_t tl = (size_t)tlen, rl = strlen(remaining);
	if (tl + 1 + rl + 1 > sizeof(w->splice))
		return -ENAMETOOLONG;
	memcpy(w->splice, w->target, tl);
	w->splice[tl] = '/';
	memcpy(w->splice + tl + 1, remaining, rl + 1);
	memcpy(w->rest, w->splice, tl + 1 + rl + 1);
	w->done_len = 0;
	w->done[0] = '\0';
	walk_set_dir(w, w->root_fd, &w->root_st);
	return 0;
}

/* The last component, found in the current directory as FD (O_PATH) with
 * ST: what it is, and with CP_RESOLVE_OPEN the file opened for reading. */
static int walk_last(struct walk *w, const struct stat *st)
{
	struct cp_resolved *res = w->res;
	res->exists = 1;
	res->st = *st;
	if (!(w->flags & CP_RESOLVE_OPEN))
		return 0;
	if (!S_ISREG(st->st_mode))
		return walk_refuse(w, EINVAL, "not a regular file");
	const struct cp_owner *o = cp_access_denied(w->acc, st, 4);
	if (o)
		return walk_refuse(w, EACCES, "%s (uid %u, gid %u) may not read it", o->what,
		                   (unsigned)o->uid, (unsigned)o->gid);
	/* O_NONBLOCK: should it have become a FIFO since, open() must not
	 * wait; the identity check below then refuses it. */
	int fd =
	    openat(w->dir_fd, w->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat now;
	if (fstat(fd, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino ||
	    !S_ISREG(now.st_mode)) {
		close(fd);
		return walk_refuse(w, ESTALE, "replaced while it was opened");
	}
	res->fd = fd;
	res->st = now;
	return 0;
}

/* The walk proper; returns 0 or a negative errno, w->done holds the result. */
static int walk_run(struct walk *w)
{
	unsigned links_followed = 0;
	const char *p = w->rest;

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			/* The path named a directory (or the root itself). */
			w->res->exists = 1;
			w->res->st = w->dir_st;
			return w->flags & CP_RESOLVE_OPEN
			           ? walk_refuse(w, EINVAL, "not a regular file")
			           : 0;
		}
		const char *comp = p;
		size_t clen = strcspn(p, "/");
		p += clen;
		const char *after = p;
		while (*after == '/')
			after++;
		int is_last = *after == '\0';

		if (clen == 1 && comp[0] == '.')
			continue;
		if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
			/* done is symlink-free, so dropping its last component
			 * is what the kernel's ".." does; the root is the floor. */
			while (w->done_len > 0 && w->done[w->done_len - 1] != '/')
				w->done_len--;
			if (w->done_len > 0)
				w->done_len--;
			w->done[w->done_len] = '\0';
			int r = walk_reopen(w);
			if (r < 0)
				return r;
			continue;
		}

		int r = walk_may_search(w);
		if (r < 0)
			return r;
		size_t old_len = w->done_len;
		if (old_len + 1 + clen + 1 > sizeof(w->done))
			return -ENAMETOOLONG;
		w->done[old_len] = '/';
		memcpy(w->done + old_len + 1, comp, clen);
		w->done_len = old_len + 1 + clen;
		w->done[w->done_len] = '\0';
		memcpy(w->name, comp, clen);
		w->name[clen] = '\0';

		/* O_PATH|O_NOFOLLOW: the name itself, whatever it is, without
		 * opening a device or waiting on a FIFO; checked on the fd. */
		int fd = openat(w->dir_fd, w->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT && is_last && (w->flags & CP_RESOLVE_MISSING_OK))
				return 0;
			return -errno;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		if (S_ISLNK(st.st_mode)) {
			char why[256];
			if (cp_access_link_refused(w->acc, &st, &w->dir_st, why, sizeof(why))) {
				close(fd);
				return walk_refuse(w, EPERM, "'%s' is %s", w->done, why);
			}
			if (++links_followed > CP_RESOLVE_MAX_LINKS) {
				close(fd);
				return -ELOOP;
			}
			r = walk_follow(w, fd, old_len, after);
			close(fd);
			if (r < 0)
				return r;
			p = w->rest;
			continue;
		}
		if (S_ISDIR(st.st_mode) && !is_last) {
			walk_set_dir(w, fd, &st);
			continue;
		}
		close(fd);
		if (!is_last)
			return -ENOTDIR;
		return walk_last(w, &st);
	}
}

int cp_resolve_as(const struct cp_access *acc, const char *origin_path, int flags,
                  struct cp_resolved **out, struct cp_error *err)
{
	if (!origin_path || origin_path[0] != '/')
		return cp_error_set(err, EINVAL, "cannot resolve '%s': %s",
		                    origin_path ? origin_path : "(null)", "not an absolute path");

	int r;
	struct walk *w = calloc(1, sizeof(*w));
	struct cp_resolved *res = calloc(1, sizeof(*res));
	if (res)
		res->fd = -1;
	if (!w || !res) {
		r = -ENOMEM;
		goto fail;
	}
	w->res = res;
	w->acc = cp_access_restricted(acc) ? acc : NULL;
	w->flags = flags;
	w->dir_fd = w->root_fd = -1;

	size_t len = strlen(origin_path);
	if (len + 1 > sizeof(w->rest)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	memcpy(w->rest, origin_path, len + 1);

	/* The sysroot itself is the administrator's choice: its own path is
	 * followed as given. */
	size_t sn = sysroot_prefix_len(acc ? acc->sysroot : NULL);
	if (sn + 1 > sizeof(w->name)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	if (sn) {
		memcpy(w->name, acc->sysroot, sn);
		w->name[sn] = '\0';
	}
	w->root_fd = open(sn ? w->name : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->root_fd < 0 || fstat(w->root_fd, &w->root_st) < 0) {
		r = -errno;
		goto fail;
	}
	walk_set_dir(w, w->root_fd, &w->root_st);

	r = walk_run(w);
	if (r < 0)
		goto fail;

	res->real = strdup(w->done_len ? w->done : "/");
	if (!res->real) {
		r = -ENOMEM;
		goto fail;
	}
	walk_set_dir(w, -1, &w->root_st);
	close(w->root_fd);
	free(w);
	*out = res;
	return 0;

fail:
	if (w) {
		walk_set_dir(w, -1, &w->root_st);
		if (w->root_fd >= 0)
			close(w->root_fd);
	}
	r = cp_error_set(err, -r, "cannot resolve '%s': %s", origin_path,
	                 w && w->why[0] ? w->why : strerror(-r));
	free(w);
	cp_resolved_free(res);
	return r;
}

int cp_resolve(const char *sysroot, const char *origin_path, int allow_missing,
               struct cp_resolved **out, struct cp_error *err)
{
	struct cp_access own = {.sysroot = sysroot};
	return cp_resolve_as(&own, origin_path, allow_missing ? CP_RESOLVE_MISSING_OK : 0, out,
	                     err);
}
