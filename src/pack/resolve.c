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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	free(r);
}

/* The walk's state; on the heap because it holds several CP_PATH_MAX
 * buffers. */
struct walk {
	const char *sysroot;
	size_t sysroot_len;
	char done[CP_PATH_MAX]; /* resolved prefix, symlink-free; "" is "/" */
	size_t done_len;
	char rest[CP_PATH_MAX];   /* what is left to walk */
	char splice[CP_PATH_MAX]; /* scratch for building the next rest */
	char host[CP_PATH_MAX];   /* sysroot + done */
	char target[CP_PATH_MAX]; /* readlink() result, then normalised */
	char link_dir[CP_PATH_MAX];
	struct cp_resolved *res;
};

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
 * Follow the symlink at w->done (host path in w->host), whose directory is
 * the first OLD_LEN bytes of w->done; REMAINING is what is left of the walk
 * after it.  On return the walk restarts from the root with the link's
 * normalised absolute target spliced in front of REMAINING.
 */
static int walk_follow(struct walk *w, size_t old_len, const char *remaining)
{
	ssize_t n = readlink(w->host, w->target, sizeof(w->target));
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
	return 0;
}

/* The walk proper; returns 0 or a negative errno, w->done holds the result. */
static int walk_run(struct walk *w, int allow_missing)
{
	unsigned links_followed = 0;
	const char *p = w->rest;

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return 0;
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
			continue;
		}

		size_t old_len = w->done_len;
		if (old_len + 1 + clen + 1 > sizeof(w->done))
			return -ENAMETOOLONG;
		w->done[old_len] = '/';
		memcpy(w->done + old_len + 1, comp, clen);
		w->done_len = old_len + 1 + clen;
		w->done[w->done_len] = '\0';

		if (w->sysroot_len + w->done_len + 1 > sizeof(w->host))
			return -ENAMETOOLONG;
		if (w->sysroot_len > 0)
			memcpy(w->host, w->sysroot, w->sysroot_len);
		memcpy(w->host + w->sysroot_len, w->done, w->done_len + 1);

		struct stat st;
		if (lstat(w->host, &st) < 0) {
			if (errno == ENOENT && is_last && allow_missing)
				return 0;
			return -errno;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links_followed > CP_RESOLVE_MAX_LINKS)
				return -ELOOP;
			int r = walk_follow(w, old_len, after);
			if (r < 0)
				return r;
			p = w->rest;
			continue;
		}
		if (!is_last && !S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
}

int cp_resolve(const char *sysroot, const char *origin_path, int allow_missing,
               struct cp_resolved **out, struct cp_error *err)
{
	if (!origin_path || origin_path[0] != '/')
		return cp_error_set(err, EINVAL, "cannot resolve '%s': %s",
		                    origin_path ? origin_path : "(null)", "not an absolute path");

	int r;
	struct walk *w = calloc(1, sizeof(*w));
	struct cp_resolved *res = calloc(1, sizeof(*res));
	if (!w || !res) {
		r = -ENOMEM;
		goto fail;
	}
	w->res = res;
	w->sysroot = sysroot;
	w->sysroot_len = sysroot_prefix_len(sysroot);

	size_t len = strlen(origin_path);
	if (len + 1 > sizeof(w->rest)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	memcpy(w->rest, origin_path, len + 1);

	r = walk_run(w, allow_missing);
	if (r < 0)
		goto fail;

	res->real = strdup(w->done_len ? w->done : "/");
	if (!res->real) {
		r = -ENOMEM;
		goto fail;
	}
	free(w);
	*out = res;
	return 0;

fail:
	free(w);
	cp_resolved_free(res);
	return cp_error_set(err, -r, "cannot resolve '%s': %s", origin_path, strerror(-r));
}
