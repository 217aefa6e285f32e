/*
 * Finding an object's separate debug files in the order gdb 13 searches
 * (gdb/build-id.c, gdb/symfile.c find_separate_debug_file, and
 * dwarf2_get_dwz_file for the dwz alt file), and reading the build-ids,
 * .gnu_debuglink and .gnu_debugaltlink sections that decide it.
 *
 * Build-ids and .gnu_debuglink are read with libdwelf, the CRC32 of a
 * candidate with zlib (crc32.c); .gnu_debugaltlink by hand (parse_altlink
 * says why).  Every file read here may come from another machine: sections
 * are read raw through libelf (which checks them against the file size),
 * every length in them is checked before use, and files are opened so
 * that a FIFO or device planted in a sysroot cannot block or confuse us.  A
 * candidate that cannot be read, or whose build-id or CRC is wrong, is
 * simply not the debug file: only ENOMEM and an unreadable object are
 * errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdwelf.h>

#include "corepack/access.h"
#include "corepack/debuginfo.h"
#include "corepack/io.h"
#include "corepack/remote.h"
#include "corepack/resolve.h"

/* An open ELF file; elf_end() and close() on the way out. */
struct elf_file {
	int fd;
	Elf *elf;
	struct stat st;
};

static void elf_file_done(struct elf_file *f)
{
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
	f->elf = NULL;
	f->fd = -1;
}

/* Open PATH as an ELF file, with ACC's rights (access.h; NULL: ours);
 * WHAT names the operation in error messages. */
static int elf_file_open(struct elf_file *f, const struct cp_access *acc, const char *path,
                         const char *what, struct cp_error *err)
{
	f->fd = -1;
	f->elf = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return cp_error_set(err, EINVAL, "cannot %s '%s': libelf: %s", what, path,
		                    elf_errmsg(-1));

	int fd;
	if (cp_access_restricted(acc)) {
		fd = cp_access_open(acc, path, NULL, &f->st, err);
		if (fd < 0)
			return fd;
	} else {
		fd = cp_open_regular(path, 0, &f->st);
		if (fd == -EINVAL)
			return cp_error_set(err, EINVAL, "cannot %s '%s': not a regular file", what,
			                    path);
		if (fd < 0)
			return cp_error_set(err, -fd, "cannot %s '%s': %s", what, path,
			                    strerror(-fd));
	}
	f->fd = fd;

	/* ELF_C_READ, not _MMAP: a file truncated under us must give a read
	 * error, not SIGBUS. */
	f->elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF) {
		elf_file_done(f);
		return cp_error_set(err, ENOEXEC, "cannot %s '%s': not an ELF file", what, path);
	}
	return 0;
}

/* The build-id of an open ELF file; *LEN = 0 when it has none. */
static int elf_build_id(Elf *elf, const char *path, uint8_t *buf, size_t bufsize, size_t *len,
                        struct cp_error *err)
{
	const void *id;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &id);
	if (n < 0)
		return cp_error_set(err, ENOEXEC, "cannot read build-id of '%s': %s", path,
		                    elf_errmsg(-1));
	if ((size_t)n > bufsize)
		return cp_error_set(err, EOVERFLOW,
		                    "cannot read build-id of '%s': %zd bytes, at most %zu expected",
		                    path, n, bufsize);
	if (n > 0)
		memcpy(buf, id, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int cp_file_build_id(const char *path, uint8_t *buf, size_t bufsize, size_t *len,
                     struct cp_error *err)
{
	struct elf_file f;
	int r = elf_file_open(&f, NULL, path, "read build-id of", err);
	if (r < 0)
		return r;
	size_t n;
	r = elf_build_id(f.elf, path, buf, bufsize, &n, err);
	elf_file_done(&f);
	if (r < 0)
		return r;
	*len = n;
	return 0;
}

int cp_fd_build_id(int fd, const char *path, uint8_t *buf, size_t bufsize, size_t *len,
                   struct cp_error *err)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return cp_error_set(err, EINVAL, "cannot read build-id of '%s': libelf: %s", path,
		                    elf_errmsg(-1));
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return cp_error_set(err, ENOEXEC, "cannot read build-id of '%s': not an ELF file",
		                    path);
	}
	size_t n;
	int r = elf_build_id(elf, path, buf, bufsize, &n, err);
	elf_end(elf);
	if (r < 0)
		return r;
	*len = n;
	return 0;
}

/* What the section headers of an object or debug file tell us. */
struct elf_links {
	char *debuglink; /* .gnu_debuglink name, NULL when absent or malformed */
	uint32_t debuglink_crc;
	char *altlink; /* .gnu_debugaltlink path, NULL when absent or malformed */
	uint8_t alt_id[CP_BUILD_ID_MAX];
	size_t alt_id_len;  /* 0: the alt cannot be verified, so cannot be found */
	int has_debug_info; /* a .debug_info (or .zdebug_info) with contents */
};

static void elf_links_done(struct elf_links *l)
{
	free(l->debuglink);
	free(l->altlink);
}

/* The bytes of section SCN as stored in the file, or NULL/0 for none
 * (SHT_NOBITS, empty, unreadable). */
static const unsigned char *section_bytes(Elf_Scn *scn, size_t *size)
{
	Elf_Data *d = elf_rawdata(scn, NULL);
	if (!d || !d->d_buf || d->d_size == 0)
		return NULL;
	*size = d->d_size;
	return d->d_buf;
}

/*
 * .gnu_debuglink through libdwelf: the file name and its CRC32.  dwelf
 * takes the CRC from the section's last 4 bytes, gdb from just after the
 * name padded to 4: the same place in every section objcopy writes.  A
 * name with a '/' is not a file name: following it would let a crafted
 * object point us anywhere on this machine, so it is treated as no
 * debuglink, as are "", "." and "..".
 */
static int read_debuglink(Elf *elf, struct elf_links *l)
{
	GElf_Word crc;
	const char *name = dwelf_elf_gnu_debuglink(elf, &crc);
	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	l->debuglink = strdup(name);
	if (!l->debuglink)
		return -ENOMEM;
	l->debuglink_crc = crc;
	return 0;
}

/*
 * .gnu_debugaltlink: the alt file's path, NUL, then its build-id bytes.
 * Read here, not with dwelf_dwarf_gnu_debugaltlink(): that one wants a
 * Dwarf handle, and dwarf_begin_elf() reads and decompresses every DWARF
 * section to make one (51 ms for libc's 4 MB debug file here, against
 * 0.01 ms for this section alone), for each debug file of each object.
 */
static int parse_altlink(Elf_Scn *scn, struct elf_links *l)
{
	size_t size;
	const unsigned char *p = section_bytes(scn, &size);
	if (!p)
		return 0;
	size_t nlen = strnlen((const char *)p, size);
	if (nlen == 0 || nlen == size)
		return 0;
	size_t id_len = size - nlen - 1;
	free(l->altlink);
	l->altlink = strdup((const char *)p);
	if (!l->altlink)
		return -ENOMEM;
	if (id_len > 0 && id_len <= sizeof(l->alt_id)) {
		memcpy(l->alt_id, p + nlen + 1, id_len);
		l->alt_id_len = id_len;
	} else {
		l->alt_id_len = 0;
	}
	return 0;
}

/* Read the debuglink and the sections of interest of an open ELF file.
 * Malformed section headers read as "no such section"; only ENOMEM
 * fails. */
static int elf_links_read(Elf *elf, struct elf_links *l)
{
	memset(l, 0, sizeof(*l));
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return 0;
	int r = read_debuglink(elf, l);

	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn && r == 0; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr))
			continue;
		const char *name = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!name)
			continue;
		if (strcmp(name, ".gnu_debugaltlink") == 0 && shdr.sh_type != SHT_NOBITS)
			r = parse_altlink(scn, l);
		else if ((strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0) &&
		         shdr.sh_type != SHT_NOBITS && shdr.sh_size > 0)
			l->has_debug_info = 1;
	}
	if (r < 0) {
		elf_links_done(l);
		memset(l, 0, sizeof(*l));
	}
	return r;
}

/*
 * Join path pieces with exactly one '/' between them; NULL, "" and "/"
 * pieces add nothing, so a missing sysroot needs no special case.
 * Returns 0, -ENOMEM, or -ENAMETOOLONG past CP_PATH_MAX (a candidate that
 * long cannot exist, so callers skip it).
 */
static int path_join(char **out, int npieces, ...)
{
	char *buf = malloc(CP_PATH_MAX);
	if (!buf)
		return -ENOMEM;
	size_t n = 0;
	int r = 0;

	va_list ap;
	va_start(ap, npieces);
	for (int i = 0; i < npieces; i++) {
		const char *p = va_arg(ap, const char *);
		if (!p)
			continue;
		size_t len = strlen(p);
		if (i > 0) {
			while (len > 0 && *p == '/')
				p++, len--;
		}
		while (len > 0 && p[len - 1] == '/')
			len--;
		if (len == 0 && i > 0)
			continue;
		int slash = i > 0;
		if (n + slash + len + 1 > CP_PATH_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		if (slash)
			buf[n++] = '/';
		memcpy(buf + n, p, len);
		n += len;
	}
	va_end(ap);

	if (r < 0) {
		free(buf);
		return r;
	}
	if (n == 0)
		buf[n++] = '/';
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/* "xx/rest.debug" for build-id ID, or -EINVAL when there is no such name. */
static int build_id_name(const uint8_t *id, size_t len, char *buf, size_t bufsize)
{
	if (len == 0 || len > CP_BUILD_ID_MAX || bufsize < 2 * len + sizeof("/.debug"))
		return -EINVAL;
	cp_hex(id, 1, buf);
	buf[2] = '/';
	cp_hex(id + 1, len - 1, buf + 3);
	strcpy(buf + 3 + 2 * (len - 1), ".debug");
	return 0;
}

static struct cp_debug_file *debug_file_new(char *host_path, enum cp_debug_how how,
                                            const uint8_t *id, size_t id_len, uint32_t crc,
                                            const struct stat *st)
{
	struct cp_debug_file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->host_path = host_path;
	cp_file_id_set(&f->file_id, st);
	f->how = how;
	if (id_len <= sizeof(f->build_id)) {
		memcpy(f->build_id, id, id_len);
		f->build_id_len = id_len;
	}
	f->crc = crc;
	return f;
}

void cp_debug_file_free(struct cp_debug_file *f)
{
	if (f) {
		free(f->host_path);
		free(f->url);
		free(f);
	}
}

void cp_debug_result_free(struct cp_debug_result *r)
{
	if (!r)
		return;
	cp_debug_file_free(r->file);
	cp_debug_file_free(r->alt);
	free(r->alt_name);
	free(r->debuglink);
	free(r);
}

/*
 * Accept PATH (taken over) if its build-id is ID.  AVOID, when set, is a
 * file that must not be taken (the object itself).  Returns 1 and sets
 * *OUT when accepted, 0 when not (the path is freed), -ENOMEM.
 */
static int try_by_build_id(const struct cp_debug_search *s, char *path, enum cp_debug_how how,
                           const uint8_t *id, size_t id_len, const struct stat *avoid,
                           struct cp_debug_file **out)
{
	struct elf_file f;
	uint8_t got[CP_BUILD_ID_MAX];
	size_t got_len = 0;
	int ok = 0;

	if (elf_file_open(&f, s->access, path, "read", NULL) < 0)
		goto reject;
	if (avoid && f.st.st_dev == avoid->st_dev && f.st.st_ino == avoid->st_ino) {
		elf_file_done(&f);
		goto reject;
	}
	struct stat st = f.st;
	ok = elf_build_id(f.elf, path, got, sizeof(got), &got_len, NULL) == 0 &&
	     got_len == id_len && memcmp(got, id, id_len) == 0;
	elf_file_done(&f);
	if (!ok)
		goto reject;

	*out = debug_file_new(path, how, got, got_len, 0, &st);
	if (!*out) {
		free(path);
		return -ENOMEM;
	}
	return 1;
reject:
	free(path);
	return 0;
}

/*
 * Accept PATH (taken over) if the CRC32 of the whole file is CRC and it is
 * not the object itself (gdb's separate_debug_file_exists()).
 */
static int try_by_crc(const struct cp_debug_search *s, char *path, enum cp_debug_how how,
                      uint32_t crc, const struct stat *obj, struct cp_debug_file **out)
{
	struct stat st;
	uint32_t got;
	/* One descriptor for the checks, the CRC and the build-id: the file
	 * judged is the file read. */
	int fd = cp_access_open(s->access, path, NULL, &st, NULL);
	if (fd < 0 || (st.st_dev == obj->st_dev && st.st_ino == obj->st_ino) ||
	    cp_crc32_fd(fd, path, &got, NULL) < 0 || got != crc) {
		if (fd >= 0)
			close(fd);
		free(path);
		return 0;
	}

	/* The build-id is recorded for the manifest; its absence is fine. */
	uint8_t id[CP_BUILD_ID_MAX];
	size_t id_len = 0;
	if (cp_fd_build_id(fd, path, id, sizeof(id), &id_len, NULL) < 0)
		id_len = 0;
	close(fd);
	*out = debug_file_new(path, how, id, id_len, crc, &st);
	if (!*out) {
		free(path);
		return -ENOMEM;
	}
	return 1;
}

/* Step 1: ROOT/.build-id/xx/rest.debug for each root. */
static int find_by_build_id(const struct cp_debug_search *s, const uint8_t *id, size_t id_len,
                            enum cp_debug_how how, const struct stat *avoid,
                            struct cp_debug_file **out)
{
	char name[2 * CP_BUILD_ID_MAX + sizeof("/.debug")];
	if (build_id_name(id, id_len, name, sizeof(name)) < 0)
		return 0;
	for (size_t i = 0; i < s->n_roots; i++) {
		char *path;
		int r = path_join(&path, 3, s->roots[i], ".build-id", name);
		if (r == -ENAMETOOLONG)
			continue;
		if (r < 0)
			return r;
		r = try_by_build_id(s, path, how, id, id_len, avoid, out);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Step 2: the debuglink NAME in OBJDIR, OBJDIR/.debug, ROOT/OBJDIR. */
static int find_by_debuglink(const struct cp_debug_search *s, const char *objdir, const char *name,
                             uint32_t crc, const struct stat *obj, struct cp_debug_file **out)
{
	size_t n = 2 + s->n_roots;
	for (size_t i = 0; i < n; i++) {
		char *path;
		enum cp_debug_how how;
		int r;
		if (i == 0) {
			how = CP_DEBUG_LINK_SAME_DIR;
			r = path_join(&path, 3, s->sysroot, objdir, name);
		} else if (i == 1) {
			how = CP_DEBUG_LINK_DOT_DEBUG;
			r = path_join(&path, 4, s->sysroot, objdir, ".debug", name);
		} else {
			how = CP_DEBUG_LINK_ROOT;
			r = path_join(&path, 3, s->roots[i - 2], objdir, name);
		}
		if (r == -ENAMETOOLONG)
			continue;
		if (r < 0)
			return r;
		r = try_by_crc(s, path, how, crc, obj, out);
		if (r != 0)
			return r;
	}
	return 0;
}

/*
 * The canonical name of the host path PATH (NULL with errno set when it
 * cannot be had).  With restricted rights a path below the sysroot is
 * resolved by the access walk, never with our own rights (realpath()
 * would look up names the owners may not see).
 */
static char *canonical(const struct cp_debug_search *s, const char *path)
{
	if (!cp_access_restricted(s->access))
		return realpath(path, NULL);
	char *norm = cp_path_normalize(path);
	if (!norm) {
		errno = path[0] == '/' ? ENOMEM : EINVAL;
		return NULL;
	}
	const char *sys = s->access->sysroot;
	size_t n = sys ? strlen(sys) : 0;
	while (n > 0 && sys[n - 1] == '/')
		n--;
	if (n == 0 || (strncmp(norm, sys, n) == 0 && (norm[n] == '/' || norm[n] == '\0'))) {
		struct cp_resolved *res = NULL;
		char *out = NULL;
		int r = cp_resolve_as(s->access, norm[n] ? norm + n : "/", 0, &res, NULL);
		if (r == 0)
			out = cp_host_path(sys && n ? sys : NULL, res->real);
		cp_resolved_free(res);
		free(norm);
		errno = r == -ENOMEM || (r == 0 && !out) ? ENOMEM : r < 0 ? -r : 0;
		return out;
	}
	/* Elsewhere (a trusted debug directory): as it is. */
	return norm;
}

/*
 * Step 3: the dwz alt file named in DWARF_PATH's .gnu_debugaltlink.  Like
 * gdb's dwarf2_get_dwz_file(): the written path (relative to the directory
 * of DWARF_PATH with symlinks resolved, as Fedora's .build-id links point
 * elsewhere; absolute under the sysroot), then the alt's build-id under
 * each root, then each root + the part from "/.dwz/" on.
 */
static int find_alt(const struct cp_debug_search *s, const char *dwarf_path,
                    const struct elf_links *l, struct cp_debug_file **out)
{
	if (l->alt_id_len == 0)
		return 0;

	char *path = NULL;
	int r = 0;
	if (l->altlink[0] == '/') {
		r = path_join(&path, 2, s->sysroot, l->altlink);
	} else {
		char *real = canonical(s, dwarf_path);
		if (!real)
			return errno == ENOMEM ? -ENOMEM : 0;
		char *slash = strrchr(real, '/');
		if (slash)
			slash[slash == real ? 1 : 0] = '\0';
		r = path_join(&path, 2, real, l->altlink);
		free(real);
	}
	if (r == -ENOMEM)
		return r;
	if (r == 0) {
		/* Report the alt by its canonical name, not "dir/../../.dwz". */
		char *canon = canonical(s, path);
		if (canon) {
			free(path);
			path = canon;
		}
		r = try_by_build_id(s, path, CP_DEBUG_ALT_PATH, l->alt_id, l->alt_id_len, NULL,
		                    out);
		if (r != 0)
			return r;
	}

	r = find_by_build_id(s, l->alt_id, l->alt_id_len, CP_DEBUG_ALT_BUILD_ID, NULL, out);
	if (r != 0)
		return r;

	const char *dwz = strstr(l->altlink, "/.dwz/");
	if (!dwz)
		return 0;
	for (size_t i = 0; i < s->n_roots; i++) {
		r = path_join(&path, 2, s->roots[i], dwz);
		if (r == -ENAMETOOLONG)
			continue;
		if (r < 0)
			return r;
		r = try_by_build_id(s, path, CP_DEBUG_ALT_DWZ_DIR, l->alt_id, l->alt_id_len, NULL,
		                    out);
		if (r != 0)
			return r;
	}
	return 0;
}

/* The directory of origin path ORIGIN ("/" for a file in the root). */
static char *origin_dir(const char *origin)
{
	char *dir = cp_path_normalize(origin);
	if (!dir)
		return NULL;
	char *slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	return dir;
}

int cp_debug_find(const struct cp_debug_search *s, const char *object_host_path,
                  const char *object_origin_path, const uint8_t *build_id, size_t build_id_len,
                  struct cp_debug_result **out, struct cp_error *err)
{
	static const struct cp_debug_search no_search;
	if (!s)
		s = &no_search;
	if (!object_host_path)
		return cp_error_set(err, EINVAL, "cannot find debug files: no object path");

	struct elf_file obj;
	int r = elf_file_open(&obj, s->access, object_host_path, "read", err);
	if (r < 0)
		return r;
	struct stat obj_st = obj.st;
	struct elf_links links;
	r = elf_links_read(obj.elf, &links);
	elf_file_done(&obj);
	if (r < 0)
		return cp_error_set(err, -r, "cannot read '%s': %s", object_host_path,
		                    strerror(-r));

	struct elf_links dlinks = {0};
	char *objdir = NULL;
	struct cp_debug_result *res = calloc(1, sizeof(*res));
	if (!res) {
		r = -ENOMEM;
		goto out;
	}
	res->has_own_debug_info = links.has_debug_info;
	res->debuglink = links.debuglink;
	links.debuglink = NULL;

	if (build_id && build_id_len > 0) {
		r = find_by_build_id(s, build_id, build_id_len, CP_DEBUG_BUILD_ID, &obj_st,
		                     &res->file);
		if (r < 0)
			goto out;
	}

	if (!res->file && res->debuglink) {
		/* Without an origin path, the object's own directory on
		 * this machine is the best guess at OBJDIR. */
		const char *origin = object_origin_path ? object_origin_path : object_host_path;
		objdir = origin[0] == '/' ? origin_dir(origin) : NULL;
		if (!objdir && origin[0] == '/') {
			r = -ENOMEM;
			goto out;
		}
		struct cp_debug_search local = *s;
		if (!object_origin_path)
			local.sysroot = NULL;
		if (objdir) {
			r = find_by_debuglink(&local, objdir, res->debuglink, links.debuglink_crc,
			                      &obj_st, &res->file);
			if (r < 0)
				goto out;
		}
	}

	/* The alt file belongs to whichever file holds the DWARF: the
	 * separate debug file, or else the object itself. */
	const char *dwarf_path = NULL;
	const struct elf_links *alt_links = NULL;
	if (res->file) {
		struct elf_file dbg;
		if (elf_file_open(&dbg, s->access, res->file->host_path, "read", NULL) == 0) {
			r = elf_links_read(dbg.elf, &dlinks);
			elf_file_done(&dbg);
			if (r < 0)
				goto out;
		}
		dwarf_path = res->file->host_path;
		alt_links = &dlinks;
	} else if (links.has_debug_info) {
		dwarf_path = object_host_path;
		alt_links = &links;
	}
	if (alt_links && alt_links->altlink) {
		res->alt_name = strdup(alt_links->altlink);
		if (!res->alt_name) {
			r = -ENOMEM;
			goto out;
		}
		r = find_alt(s, dwarf_path, alt_links, &res->alt);
		if (r < 0)
			goto out;
		res->alt_missing = res->alt == NULL;
	}
	r = 0;

out:
	free(objdir);
	elf_links_done(&links);
	elf_links_done(&dlinks);
	if (r < 0) {
		cp_debug_result_free(res);
		return cp_error_set(err, -r, "cannot find debug files of '%s': %s",
		                    object_host_path, strerror(-r));
	}
	*out = res;
	return 0;
}

/* Fetch the debuginfo of build-id ID and check that it carries that
 * build-id; LINKS (may be NULL) receives its sections of interest. */
static int fetch_checked(struct cp_remote *remote, const uint8_t *id, size_t id_len,
                         struct cp_debug_file **out, struct elf_links *links, struct cp_error *err)
{
	int fd;
	char *path = NULL;
	int r = cp_remote_fetch(remote, CP_REMOTE_DEBUGINFO, id, id_len, 0, &fd, &path, err);
	if (r < 0)
		return r;
	char hex[2 * CP_BUILD_ID_MAX + 1];
	cp_hex(id, id_len, hex);
	const char *url = cp_remote_last_url(remote);
	struct stat st;
	uint8_t got[CP_BUILD_ID_MAX];
	size_t got_len = 0;
	Elf *elf = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = cp_error_set(err, EINVAL,
		                 "debuginfod: debug file of build-id %s: not a regular file", hex);
	} else if (elf_version(EV_CURRENT) == EV_NONE || !(elf = elf_begin(fd, ELF_C_READ, NULL)) ||
	           elf_kind(elf) != ELF_K_ELF) {
		r = cp_error_set(err, ENOEXEC, "debuginfod: debug file of build-id %s: not ELF",
		                 hex);
	} else if ((r = elf_build_id(elf, path, got, sizeof(got), &got_len, err)) < 0) {
		cp_error_prefix(err, "debuginfod: debug file of build-id %s: ", hex);
	} else if (got_len != id_len || memcmp(got, id, id_len) != 0) {
		r = cp_error_set(
		    err, EBADMSG,
		    "debuginfod: debug file of build-id %s from %s has another build-id", hex,
		    url ? url : "the cache");
	} else if (links && (r = elf_links_read(elf, links)) < 0) {
		r = cp_error_set(err, ENOMEM, "out of memory");
	}
	if (elf)
		elf_end(elf);
	close(fd);
	if (r < 0) {
		free(path);
		return r;
	}
	struct cp_debug_file *f = debug_file_new(path, CP_DEBUG_DEBUGINFOD, got, got_len, 0, &st);
	if (!f || (url && !(f->url = strdup(url)))) {
		if (f)
			cp_debug_file_free(f);
		else
			free(path);
		if (links)
			elf_links_done(links);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	f->fetched = 1;
	*out = f;
	return 0;
}

int cp_debug_fetch(struct cp_remote *remote, const uint8_t *build_id, size_t build_id_len,
                   struct cp_debug_result *res, struct cp_error *err)
{
	struct elf_links links;
	int r = fetch_checked(remote, build_id, build_id_len, &res->file, &links, err);
	if (r < 0)
		return r;
	/* its dwz alt file, by the build-id it names (debuginfod serves a
	 * dwz file as the debuginfo of its own build-id) */
	if (links.altlink) {
		res->alt_name = links.altlink;
		links.altlink = NULL;
		if (links.alt_id_len) {
			r = fetch_checked(remote, links.alt_id, links.alt_id_len, &res->alt, NULL,
			                  NULL);
			if (r == -ENOMEM) {
				elf_links_done(&links);
				return cp_error_set(err, ENOMEM, "out of memory");
			}
		}
		res->alt_missing = res->alt == NULL;
	}
	elf_links_done(&links);
	return 0;
}
