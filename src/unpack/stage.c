/*
 * The staging directory and the removal of trees, through directory
 * descriptors only (include/corepack/stage.h).
 *
 * Why descriptors: the target directory may be writable by another user
 * (a shared directory), who can rename the staging directory away and put
 * a symlink in its place at any moment.  A path through it would then
 * lead wherever the symlink points, and the bundle (its own run-gdb.sh
 * included) would be written there.  A descriptor keeps meaning the
 * directory that was created; O_NOFOLLOW on every component refuses a
 * symlink met on the way.
 *
 * Why trees are removed one level at a time, going back up through "..":
 * names up to 4096 bytes below a staging directory make paths longer than
 * PATH_MAX (nftw() fails there), and one descriptor per level would run
 * out at depth 1024.  Each ".." is checked to be the directory it was on
 * the way down.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "corepack/stage.h"

static const char name_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static int is_stage_name(const char *name)
{
	size_t n = strlen(CP_STAGE_PREFIX);
	if (strncmp(name, CP_STAGE_PREFIX, n) != 0 || strlen(name) != n + 6)
		return 0;
	return strspn(name + n, name_chars) == 6;
}

static void random_name(char *out)
{
	uint8_t rnd[6];
	size_t n = strlen(CP_STAGE_PREFIX);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* No entropy yet: the clock and the pid, retried on EEXIST. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t v =
		    (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 20) ^ (uint64_t)ts.tv_sec;
		for (size_t i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)(v >> (8 * i));
	}
	memcpy(out, CP_STAGE_PREFIX, n);
	for (size_t i = 0; i < 6; i++)
		out[n + i] = name_chars[rnd[i] % (sizeof(name_chars) - 1)];
	out[n + 6] = '\0';
}

static int open_dir_at(int dfd, const char *name)
{
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* FD is a directory of ours without group or other bits, still linked in
 * DFD as NAME. */
static int is_ours(int dfd, const char *name, int fd, struct stat *st)
{
	struct stat at;
	if (fstat(fd, st) < 0 || !S_ISDIR(st->st_mode) || st->st_uid != geteuid() ||
	    (st->st_mode & 077) || st->st_nlink == 0)
		return 0;
	return fstatat(dfd, name, &at, AT_SYMLINK_NOFOLLOW) == 0 && at.st_dev == st->st_dev &&
	       at.st_ino == st->st_ino;
}

int cp_stage_create(int dfd, const char *dshown, struct cp_stage *st, struct cp_error *err)
{
	for (int attempt = 0; attempt < 64; attempt++) {
		char name[sizeof(st->name)];
		struct stat sst;
		random_name(name);
		if (mkdirat(dfd, name, 0700) < 0) {
			if (errno == EEXIST)
				continue;
			return cp_error_set(err, errno, "cannot create a directory in '%s': %s",
			                    dshown, strerror(errno));
		}
		int fd = open_dir_at(dfd, name);
		if (fd < 0)
			continue; /* swapped or swept before we opened it: another name */
		/* A sweeper that found it before the lock was taken may hold
		 * the lock, or may have removed it: then another name. */
		if (fchmod(fd, 0700) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 ||
		    !is_ours(dfd, name, fd, &sst)) {
			close(fd);
			continue;
		}
		memset(st, 0, sizeof(*st));
		st->dfd = dfd;
		st->sfd = fd;
		st->cache_fd = -1;
		st->dev = sst.st_dev;
		st->ino = sst.st_ino;
		memcpy(st->name, name, sizeof(name));
		return 0;
	}
	return cp_error_set(err, EEXIST,
	                    "cannot create a directory in '%s': every name tried was taken or "
	                    "changed under us",
	                    dshown);
}

int cp_stage_in_place(const struct cp_stage *st)
{
	struct stat at;
	return fstatat(st->dfd, st->name, &at, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(at.st_mode) &&
	       at.st_dev == st->dev && at.st_ino == st->ino;
}

static void cache_drop(struct cp_stage *st)
{
	if (st->cache_fd >= 0)
		close(st->cache_fd);
	st->cache_fd = -1;
	free(st->cache_path);
	st->cache_path = NULL;
}

int cp_stage_dir(struct cp_stage *st, const char *path, size_t len, int create, int *fd)
{
	if (len == 0) {
		*fd = st->sfd;
		return 0;
	}
	if (st->cache_path && strlen(st->cache_path) == len &&
	    memcmp(st->cache_path, path, len) == 0) {
		*fd = st->cache_fd;
		return 0;
	}
	cache_drop(st);
	char comp[256];
	int cur = st->sfd;
	for (size_t i = 0; i < len;) {
		size_t n = 0;
		while (i + n < len && path[i + n] != '/')
			n++;
		if (n == 0 || n >= sizeof(comp)) {
			if (cur != st->sfd)
				close(cur);
			return -EINVAL;
		}
		memcpy(comp, path + i, n);
		comp[n] = '\0';
		int next = open_dir_at(cur, comp);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
				int e = errno;
				if (cur != st->sfd)
					close(cur);
				return -e;
			}
			next = open_dir_at(cur, comp);
		}
		int e = errno;
		if (cur != st->sfd)
			close(cur);
		if (next < 0)
			return -e;
		cur = next;
		i += n + 1;
	}
	if (!(st->cache_path = strndup(path, len))) {
		close(cur);
		return -ENOMEM;
	}
	st->cache_fd = cur;
	*fd = cur;
	return 0;
}

/* The names in the directory FD (not "." and ".."), NUL-separated. */
static int read_names(int fd, struct cp_buf *names)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d < 0)
		return -errno;
	DIR *dir = fdopendir(d);
	if (!dir) {
		int e = errno;
		close(d);
		return -e;
	}
	rewinddir(dir);
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		cp_buf_add(names, de->d_name, strlen(de->d_name) + 1);
	}
	closedir(dir);
	return names->oom ? -ENOMEM : 0;
}

struct level {
	struct cp_buf names;
	size_t pos;
	char *self; /* its name in the level above */
	dev_t dev;
	ino_t ino;
};

/* Empty the directory FD (not removed itself). */
static int remove_contents(int fd)
{
	struct level *stack = NULL;
	size_t depth = 0, cap = 0;
	int rc = 0, cur = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	char *self = NULL;
	if (cur < 0)
		return -errno;
	for (;;) {
		/* Enter CUR: a new level. */
		struct stat st;
		if (depth == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct level *s = realloc(stack, ncap * sizeof(*s));
			if (!s) {
				rc = -ENOMEM;
				free(self);
				break;
			}
			stack = s;
			cap = ncap;
		}
		struct level *l = &stack[depth++];
		memset(l, 0, sizeof(*l));
		l->self = self;
		self = NULL;
		int r = fstat(cur, &st) < 0 ? -errno : read_names(cur, &l->names);
		l->dev = st.st_dev;
		l->ino = st.st_ino;
		if (r < 0 && !rc)
			rc = r;
		/* Remove its names; descend into the first directory. */
		int descended = 0;
		while (!descended) {
			l = &stack[depth - 1];
			if (l->pos < l->names.len) {
				const char *nm = l->names.d + l->pos;
				l->pos += strlen(nm) + 1;
				if (unlinkat(cur, nm, 0) == 0 || errno == ENOENT)
					continue;
				if (errno != EISDIR && errno != EPERM) {
					if (!rc)
						rc = -errno;
					continue;
				}
				int sub = open_dir_at(cur, nm);
				if (sub < 0) {
					if (!rc)
						rc = -errno;
					continue;
				}
				if (!(self = strdup(nm))) {
					close(sub);
					if (!rc)
						rc = -ENOMEM;
					continue;
				}
				close(cur);
				cur = sub;
				descended = 1;
				continue;
			}
			/* Done with this level: back up and remove it. */
			cp_buf_done(&l->names);
			char *mine = l->self;
			depth--;
			if (depth == 0) {
				free(mine);
				close(cur);
				free(stack);
				return rc;
			}
			struct stat pst;
			int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (parent < 0 || fstat(parent, &pst) < 0 ||
			    pst.st_dev != stack[depth - 1].dev ||
			    pst.st_ino != stack[depth - 1].ino) {
				/* Moved while we were inside: stop here. */
				if (parent >= 0)
					close(parent);
				free(mine);
				close(cur);
				for (size_t i = 0; i < depth; i++) {
					cp_buf_done(&stack[i].names);
					free(stack[i].self);
				}
				free(stack);
				return rc ? rc : -ESTALE;
			}
			close(cur);
			cur = parent;
			if (unlinkat(cur, mine, AT_REMOVEDIR) < 0 && errno != ENOENT && !rc)
				rc = -errno;
			free(mine);
		}
	}
	close(cur);
	for (size_t i = 0; i < depth; i++) {
		cp_buf_done(&stack[i].names);
		free(stack[i].self);
	}
	free(stack);
	return rc;
}

int cp_remove_tree_at(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	int fd = open_dir_at(dirfd, name);
	if (fd < 0)
		return -errno;
	int rc = remove_contents(fd);
	close(fd);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !rc)
		rc = -errno;
	return rc;
}

void cp_stage_close(struct cp_stage *st)
{
	if (!st || st->sfd < 0)
		return;
	cache_drop(st);
	close(st->sfd);
	st->sfd = -1;
}

int cp_stage_done(struct cp_stage *st)
{
	if (!st || st->sfd < 0)
		return 0;
	cache_drop(st);
	int rc = remove_contents(st->sfd);
	/* Only the name that is still ours: a directory put in its place
	 * by someone else stays. */
	if (cp_stage_in_place(st) && unlinkat(st->dfd, st->name, AT_REMOVEDIR) < 0 && !rc)
		rc = -errno;
	close(st->sfd);
	st->sfd = -1;
	return rc;
}

int cp_stage_sweep(int dfd, size_t *removed)
{
	struct cp_buf names = {0};
	size_t n = 0;
	int rc = read_names(dfd, &names);
	if (rc == -ENOMEM)
		return rc;
	for (size_t pos = 0; rc == 0 && pos < names.len;) {
		const char *nm = names.d + pos;
		pos += strlen(nm) + 1;
		if (!is_stage_name(nm))
			continue;
		struct stat st;
		int fd = open_dir_at(dfd, nm);
		if (fd < 0)
			continue;
		/* Ours, and no coreunpack holds it. */
		if (is_ours(dfd, nm, fd, &st) && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			remove_contents(fd);
			if (is_ours(dfd, nm, fd, &st) && unlinkat(dfd, nm, AT_REMOVEDIR) == 0)
				n++;
		}
		close(fd);
	}
	cp_buf_done(&names);
	if (removed)
		*removed = n;
	return 0;
}
