/*
 * Whose rights the files a core names are read with (access.h): the
 * core's owners, the permission and symlink rules judged for them, and the
 * one way to open a file on the core's behalf.  The walk itself, one
 * component at a time on descriptors, is resolve.c's.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corepack/access.h"
#include "corepack/io.h"
#include "corepack/resolve.h"

static void add_owner(struct cp_access *a, uint32_t uid, uint32_t gid, const char *what, uid_t euid)
{
	if (uid == 0 || uid == (uint32_t)euid || a->n_owners == CP_ACCESS_MAX_OWNERS)
		return;
	for (size_t i = 0; i < a->n_owners; i++)
		if (a->owners[i].uid == uid && a->owners[i].gid == gid)
			return;
	a->owners[a->n_owners++] = (struct cp_owner){uid, gid, what};
}

void cp_access_for_core(struct cp_access *a, const char *sysroot, const struct cp_notes *notes,
                        const struct stat *core_st, uid_t euid)
{
	a->sysroot = sysroot;
	a->n_owners = 0;
	if (notes && notes->have_owner)
		add_owner(a, notes->uid, notes->gid, "the crashed process", euid);
	if (core_st)
		add_owner(a, (uint32_t)core_st->st_uid, (uint32_t)core_st->st_gid,
		          "the core file's owner", euid);
}

void cp_access_set_owner(struct cp_access *a, uint32_t uid, uint32_t gid, uid_t euid)
{
	a->n_owners = 0;
	add_owner(a, uid, gid, "the process", euid);
}

int cp_access_restricted(const struct cp_access *a)
{
	return a && a->n_owners > 0;
}

static int owner_may(const struct cp_owner *o, const struct stat *st, unsigned mask)
{
	unsigned bits;
	if ((uint32_t)st->st_uid == o->uid)
		bits = (st->st_mode >> 6) & 7;
	else if ((uint32_t)st->st_gid == o->gid)
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return (bits & mask) == mask;
}

const struct cp_owner *cp_access_denied(const struct cp_access *a, const struct stat *st,
                                        unsigned mask)
{
	for (size_t i = 0; a && i < a->n_owners; i++)
		if (!owner_may(&a->owners[i], st, mask))
			return &a->owners[i];
	return NULL;
}

const char *cp_access_link_refused(const struct cp_access *a, const struct stat *link,
                                   const struct stat *dir, char *why, size_t size)
{
	if (!cp_access_restricted(a))
		return NULL;
	for (size_t i = 0; i < a->n_owners; i++) {
		if ((uint32_t)link->st_uid == a->owners[i].uid) {
			snprintf(why, size, "a symlink owned by %s (uid %u): not followed",
			         a->owners[i].what, (unsigned)a->owners[i].uid);
			return why;
		}
	}
	if (link->st_uid != 0 && link->st_uid != dir->st_uid) {
		snprintf(why, size,
		         "a symlink owned by uid %u in a directory owned by uid %u: not followed",
		         (unsigned)link->st_uid, (unsigned)dir->st_uid);
		return why;
	}
	return NULL;
}

void cp_file_id_set(struct cp_file_id *id, const struct stat *st)
{
	*id = (struct cp_file_id){(uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
	                          (uint32_t)st->st_mode, 1};
}

/* Whether the normalised PATH is DIR or below it. */
static int below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The origin path (below the sysroot) to walk for HOST, or NULL when HOST
 * is read with our own rights; *OUTSIDE set when it is neither trusted nor
 * below the sysroot. */
static const char *origin_of(const struct cp_access *a, const char *host, int *outside)
{
	*outside = 0;
	for (size_t i = 0; i < a->n_trusted; i++) {
		char *t = cp_path_normalize(a->trusted[i]);
		int in = t && below(host, t);
		free(t);
		if (in)
			return NULL;
	}
	const char *s = a->sysroot;
	size_t n = s ? strlen(s) : 0;
	while (n > 0 && s[n - 1] == '/')
		n--;
	if (n == 0)
		return host;
	char *root = strndup(s, n);
	char *norm = root ? cp_path_normalize(root) : NULL;
	const char *origin = NULL;
	if (norm && below(host, norm)) {
		size_t k = strlen(norm);
		if (strcmp(norm, "/") == 0)
			k = 0;
		origin = host[k] ? host + k : "/";
	}
	free(root);
	free(norm);
	if (!origin)
		*outside = 1;
	return origin;
}

static int check_id(int fd, const char *path, const struct cp_file_id *id, struct stat *st,
                    struct cp_error *err)
{
	if (id && id->known &&
	    ((uint64_t)st->st_dev != id->dev || (uint64_t)st->st_ino != id->ino)) {
		close(fd);
		return cp_error_set(err, ESTALE, "cannot open '%s': replaced since it was checked",
		                    path);
	}
	return fd;
}

/* Whether HOST is an entry of A's map_files directory: "DIR/START-END". */
static int is_map_file(const struct cp_access *a, const char *host)
{
	size_t n = a && a->map_files ? strlen(a->map_files) : 0;
	if (n == 0 || strncmp(host, a->map_files, n) != 0 || host[n] != '/')
		return 0;
	const char *e = host + n + 1;
	static const char hex[] = "0123456789abcdef";
	size_t lo = strspn(e, hex), hi = lo && e[lo] == '-' ? strspn(e + lo + 1, hex) : 0;
	return hi > 0 && e[lo + 1 + hi] == '\0';
}

/* A map_files entry: the kernel's link is followed (it leads to the file
 * mapped, which no name on disk can redirect), then the file is judged. */
static int open_map_file(const struct cp_access *a, const char *host_path, struct stat *st,
                         struct cp_error *err)
{
	int fd = cp_open_regular(host_path, 0, st);
	if (fd == -EINVAL)
		return cp_error_set(err, EINVAL, "cannot open '%s': not a regular file", host_path);
	if (fd < 0)
		return cp_error_set(err, -fd, "cannot open '%s': %s", host_path, strerror(-fd));
	const struct cp_owner *o = cp_access_denied(a, st, 4);
	if (o) {
		close(fd);
		return cp_error_set(err, EACCES, "cannot open '%s': %s (uid %u) may not read it",
		                    host_path, o->what, (unsigned)o->uid);
	}
	return fd;
}

int cp_access_open(const struct cp_access *a, const char *host_path, const struct cp_file_id *id,
                   struct stat *st, struct cp_error *err)
{
	struct stat own;
	if (!st)
		st = &own;
	if (is_map_file(a, host_path)) {
		int fd = open_map_file(a, host_path, st, err);
		return fd < 0 ? fd : check_id(fd, host_path, id, st, err);
	}
	if (!cp_access_restricted(a)) {
		int fd = cp_open_regular(host_path, 0, st);
		if (fd == -EINVAL)
			return cp_error_set(err, EINVAL, "cannot open '%s': not a regular file",
			                    host_path);
		if (fd < 0)
			return cp_error_set(err, -fd, "cannot open '%s': %s", host_path,
			                    strerror(-fd));
		return check_id(fd, host_path, id, st, err);
	}

	char *norm = cp_path_normalize(host_path);
	if (!norm)
		return host_path[0] == '/'
		           ? cp_error_set(err, ENOMEM, "out of memory")
		           : cp_error_set(err, EINVAL, "cannot open '%s': not an absolute path",
		                          host_path);
	int outside, fd;
	const char *origin = origin_of(a, norm, &outside);
	if (outside) {
		fd = cp_error_set(err, EACCES, "cannot open '%s': outside the sysroot", host_path);
	} else if (!origin) {
		fd = cp_open_regular(norm, 0, st);
		if (fd == -EINVAL)
			fd = cp_error_set(err, EINVAL, "cannot open '%s': not a regular file",
			                  host_path);
		else if (fd < 0)
			fd = cp_error_set(err, -fd, "cannot open '%s': %s", host_path,
			                  strerror(-fd));
	} else {
		struct cp_resolved *res = NULL;
		fd = cp_resolve_as(a, origin, CP_RESOLVE_OPEN, &res, err);
		if (fd == 0) {
			fd = res->fd;
			res->fd = -1;
			*st = res->st;
		}
		cp_resolved_free(res);
	}
	free(norm);
	return fd < 0 ? fd : check_id(fd, host_path, id, st, err);
}

int cp_fd_is_core(int fd)
{
	union {
		Elf64_Ehdr e64;
		char bytes[sizeof(Elf64_Ehdr)];
	} hdr;
	struct stat st;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < sizeof(Elf32_Ehdr))
		return 0;
	size_t n = (uint64_t)st.st_size < sizeof(hdr) ? (size_t)st.st_size : sizeof(hdr);
	if (cp_pread_full(fd, hdr.bytes, n, 0) < 0 || elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	/* libelf frames the header from a copy: a file of any size costs one
	 * small read. */
	Elf *e = elf_memory(hdr.bytes, n);
	GElf_Ehdr h;
	int core = e && elf_kind(e) == ELF_K_ELF && gelf_getehdr(e, &h) && h.e_type == ET_CORE;
	elf_end(e);
	return core;
}
