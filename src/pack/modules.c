/*
 * Turning a core into the list of objects to pack.  NT_FILE gives each
 * mapped file and its address range; the auxiliary vector tells which one
 * is the executable and which the dynamic loader; the link_map walk adds
 * the names the loader opened (SONAME links, /lib vs /usr/lib); the
 * executable's PT_INTERP and AT_EXECFN add theirs.  Each object is then
 * resolved under the sysroot (recording the symlinks on the way), its
 * build-id compared with the one in the core's memory, and its debug files
 * looked up.  Anything wrong with one object becomes its status and a
 * warning; only running out of memory stops the scan.
 *
 * Every file is found and opened with the core owners' rights when they
 * are not ours (access.h), on descriptors (resolve.c), and a core file is
 * never an object; names the bundle cannot hold are left out.  A core may
 * have a million mappings: modules are placed by a binary search over their
 * sorted mappings, and the arrays grow by doubling.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/access.h"
#include "corepack/io.h"
#include "corepack/layout.h"
#include "corepack/manifest_read.h"
#include "corepack/modules.h"

static const char deleted_suffix[] = " (deleted)";

/* Names kept per object: real objects have a handful (NT_FILE, link_map,
 * PT_INTERP, AT_EXECFN); a crafted link_map could give one thousands. */
#define MAX_NAMES 64
/* Objects one scan keeps: as many as a manifest holds (manifest_read.h),
 * less room for the executable given with -e and libthread_db. */
#define MAX_OBJECTS (CP_MANIFEST_MAX_OBJECTS - 2)

int cp_module_packable(const struct cp_module *m)
{
	return m->host_path && m->status != CP_STATUS_MISMATCH && m->status != CP_STATUS_MISSING;
}

int cp_module_open(const struct cp_scan *s, const struct cp_module *m, struct stat *st)
{
	if (!m->host_path)
		return -ENOENT;
	if (m->given)
		return cp_open_regular(m->host_path, 0, st);
	return cp_access_open(&s->access, m->host_path, &m->file_id, st, NULL);
}

int cp_debug_file_open(const struct cp_scan *s, const struct cp_debug_file *f, struct stat *st)
{
	return cp_access_open(&s->access, f->host_path, &f->file_id, st, NULL);
}

/* Grow *ARR (of N elements of SIZE) by one zeroed element; NULL on ENOMEM.
 * Arrays grown only here hold max(8, the next power of two) elements, so
 * the array doubles when N reaches one: a core of a million mappings
 * costs a million cheap calls, not a million copies of a growing array. */
static void *grow(void *arrp, size_t *n, size_t size)
{
	void **arr = arrp;
	if (*n == 0 || (*n >= 8 && (*n & (*n - 1)) == 0)) {
		void *a = reallocarray(*arr, *n ? *n * 2 : 8, size);
		if (!a)
			return NULL;
		*arr = a;
	}
	void *e = (char *)*arr + *n * size;
	memset(e, 0, size);
	(*n)++;
	return e;
}

static int warn(struct cp_scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int warn(struct cp_scan *s, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	char **w = grow(&s->warnings, &s->n_warnings, sizeof(*w));
	if (!w) {
		free(msg);
		return -ENOMEM;
	}
	*w = msg;
	return 0;
}

/*
 * A name the bundle can hold: one coreunpack accepts (layout.h: absolute,
 * normalised, no control character) with room for the bundle's top
 * directory and "sysroot/" in front.  Returns why not, or NULL.  A name
 * from a core that fails is reported and left out, never packed: a
 * bundle that corepack calls good must unpack.
 */
static const char *name_problem(const char *path)
{
	const char *why;
	if (cp_bundle_path_check(path, 1, &why) < 0)
		return why;
	if (strlen(path) > CP_BUNDLE_MAX_ORIGIN_PATH)
		return "is too long for a bundle";
	return NULL;
}

static int add_name(struct cp_scan *s, struct cp_module *m, const char *path,
                    enum cp_name_source source)
{
	for (size_t i = 0; i < m->n_names; i++)
		if (strcmp(m->names[i].path, path) == 0)
			return 0;
	const char *why = name_problem(path);
	if (why)
		return warn(s, "'%s': %s name %s: not used", path, cp_name_source_name(source),
		            why);
	if (m->n_names == MAX_NAMES)
		return warn(s, "'%s': more than %d names; '%s' and later ones are not used",
		            m->origin_path, MAX_NAMES, path);
	char *p = strdup(path);
	struct cp_name *nm = p ? grow(&m->names, &m->n_names, sizeof(*nm)) : NULL;
	if (!nm) {
		free(p);
		return -ENOMEM;
	}
	nm->path = p;
	nm->source = source;
	return 0;
}

static int add_link(struct cp_scan *s, struct cp_module *m, const char *path, const char *target)
{
	for (size_t i = 0; i < m->n_links; i++)
		if (strcmp(m->links[i].path, path) == 0)
			return 0;
	const char *why = name_problem(path);
	if (!why && (cp_bundle_has_control(target) || strlen(target) > CP_BUNDLE_MAX_PATH))
		why = "has a target coreunpack would refuse";
	if (why)
		return warn(s, "'%s': symlink %s: not packed", path, why);
	char *p = strdup(path), *t = strdup(target);
	struct cp_link *l = p && t ? grow(&m->links, &m->n_links, sizeof(*l)) : NULL;
	if (!l) {
		free(p);
		free(t);
		return -ENOMEM;
	}
	l->path = p;
	l->target = t;
	return 0;
}

static int add_links(struct cp_scan *s, struct cp_module *m, const struct cp_resolved *r)
{
	for (size_t i = 0; i < r->n_links; i++)
		if (add_link(s, m, r->links[i].path, r->links[i].target) < 0)
			return -ENOMEM;
	return 0;
}

/* Where each NT_FILE mapping of a module lies, sorted by start: what lies
 * at an address is a binary search, not a walk over every module (a core
 * may have a million mappings, and the link_map 65,536 names to place). */
struct map_ref {
	uint64_t start, end;
	size_t module;
};

struct map_index {
	struct map_ref *refs;
	size_t n;
};

static int cmp_map_ref(const void *a, const void *b)
{
	const struct map_ref *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_mapping_name(const void *a, const void *b)
{
	const struct cp_file_mapping *x = *(const struct cp_file_mapping *const *)a;
	const struct cp_file_mapping *y = *(const struct cp_file_mapping *const *)b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int has_elf_magic_file(const struct cp_scan *s, const char *host_path)
{
	unsigned char b[4];
	int fd = cp_access_open(&s->access, host_path, NULL, NULL, NULL);
	if (fd < 0)
		return 0;
	int ok = cp_pread_full(fd, b, 4, 0) == 0 && memcmp(b, "\177ELF", 4) == 0;
	close(fd);
	return ok;
}

static int has_elf_magic_core(const struct cp_core *core, uint64_t addr, int *known)
{
	unsigned char b[4];
	*known = cp_core_read(core, addr, b, 4) == 0;
	return *known && memcmp(b, "\177ELF", 4) == 0;
}

/* One module per distinct NT_FILE name that is an ELF object. */
static int modules_from_nt_file(const struct cp_core *core, const struct cp_scan_opts *o,
                                struct cp_scan *s, struct map_index *idx)
{
	const struct cp_notes *n = &core->notes;
	if (n->n_files == 0)
		return 0;
	const struct cp_file_mapping **sorted = malloc(n->n_files * sizeof(*sorted));
	idx->refs = malloc(n->n_files * sizeof(*idx->refs));
	if (!sorted || !idx->refs)
		return free(sorted), -ENOMEM;
	for (size_t i = 0; i < n->n_files; i++)
		sorted[i] = &n->files[i];
	qsort(sorted, n->n_files, sizeof(*sorted), cmp_mapping_name);
	int r = 0, capped = 0;
	for (size_t i = 0, j; i < n->n_files && r == 0; i = j) {
		for (j = i + 1; j < n->n_files && strcmp(sorted[j]->name, sorted[i]->name) == 0;
		     j++)
			;
		const char *name = sorted[i]->name;
		size_t len = strlen(name);
		int deleted = len > strlen(deleted_suffix) &&
		              strcmp(name + len - strlen(deleted_suffix), deleted_suffix) == 0;
		char *path = strndup(name, deleted ? len - strlen(deleted_suffix) : len);
		if (!path)
			return free(sorted), -ENOMEM;
		uint64_t start = UINT64_MAX, end = 0, base = 0;
		int have_base = 0;
		for (size_t k = i; k < j; k++) {
			if (sorted[k]->start < start)
				start = sorted[k]->start;
			if (sorted[k]->end > end)
				end = sorted[k]->end;
			if (sorted[k]->file_offset == 0 && !have_base) {
				base = sorted[k]->start;
				have_base = 1;
			}
		}
		const char *why = name_problem(path);
		int known = 0, elf = !why && have_base && has_elf_magic_core(core, base, &known);
		if (!why && !known) {
			char *host = cp_host_path(o->sysroot, path);
			elf = host && path[0] == '/' && has_elf_magic_file(s, host);
			free(host);
		}
		if (why && (r = warn(s, "'%s': mapped file name %s: not packed", path, why)) < 0)
			return free(path), free(sorted), r;
		if (elf && s->n_modules == MAX_OBJECTS && !capped++) {
			r = warn(s,
			         "'%s': more than %d objects, more than a bundle holds: this and "
			         "the later ones (by name) are not packed",
			         path, MAX_OBJECTS);
			if (r < 0)
				return free(path), free(sorted), r;
		}
		if (!elf || s->n_modules >= MAX_OBJECTS) {
			struct cp_other_mapping *om = grow(&s->others, &s->n_others, sizeof(*om));
			if (!om)
				return free(path), free(sorted), -ENOMEM;
			*om = (struct cp_other_mapping){path, start, end};
			continue;
		}
		struct cp_module *m = grow(&s->modules, &s->n_modules, sizeof(*m));
		if (!m)
			return free(path), free(sorted), -ENOMEM;
		m->origin_path = path;
		m->deleted = deleted;
		m->start = start;
		m->end = end;
		if (have_base)
			m->core_build_id_len = cp_mem_build_id(
			    cp_core_mem_read, (void *)core, core->is64, core->big_endian, base,
			    sorted + i, j - i, m->core_build_id, sizeof(m->core_build_id));
		for (size_t k = i; k < j; k++) {
			const struct cp_segment *sg = cp_core_segment_at(core, sorted[k]->start);
			m->code |= !sg || (sg->flags & PF_X);
			idx->refs[idx->n++] =
			    (struct map_ref){sorted[k]->start, sorted[k]->end, s->n_modules - 1};
		}
		r = add_name(s, m, path, CP_NAME_NT_FILE);
	}
	qsort(idx->refs, idx->n, sizeof(*idx->refs), cmp_map_ref);
	free(sorted);
	return r;
}

/* Without NT_FILE (an old kernel, or a process with too many mappings),
 * the loader's list is all we have. */
static int modules_from_linkmap(const struct cp_core *core, struct cp_scan *s)
{
	const struct cp_linkmap *lm = s->linkmap;
	for (size_t i = 0; lm && i < lm->n_entries; i++) {
		const struct cp_linkmap_entry *e = &lm->entries[i];
		if (e->name[0] != '/')
			continue;
		const char *why = name_problem(e->name);
		if (!why && s->n_modules >= MAX_OBJECTS)
			why = "is past the number of objects a bundle holds";
		if (why) {
			if (warn(s, "'%s': link_map name %s: not packed", e->name, why) < 0)
				return -ENOMEM;
			continue;
		}
		struct cp_module *m = grow(&s->modules, &s->n_modules, sizeof(*m));
		if (!m || !(m->origin_path = strdup(e->name)))
			return -ENOMEM;
		m->start = e->l_addr;
		m->code = 1;
		if (add_name(s, m, e->name, CP_NAME_LINK_MAP) < 0)
			return -ENOMEM;
		/* Shared objects are linked at 0, so l_addr is where the ELF
		 * header lies; read the build-id from there if it was dumped. */
		struct cp_file_mapping fm = {e->l_addr, e->l_addr + 65536, 0, e->name};
		const struct cp_file_mapping *fmp = &fm;
		m->core_build_id_len =
		    cp_mem_build_id(cp_core_mem_read, (void *)core, core->is64, core->big_endian,
		                    e->l_addr, &fmp, 1, m->core_build_id, sizeof(m->core_build_id));
	}
	return 0;
}

/* The module whose NT_FILE mapping holds ADDR, or NULL. */
static struct cp_module *module_at(struct cp_scan *s, const struct map_index *idx, uint64_t addr)
{
	size_t lo = 0, hi = idx->n;
	while (lo < hi) { /* the first mapping starting after ADDR */
		size_t mid = lo + (hi - lo) / 2;
		if (idx->refs[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= idx->refs[lo - 1].end)
		return NULL;
	return &s->modules[idx->refs[lo - 1].module];
}

/* PT_INTERP of the module's file, or NULL. */
static char *read_pt_interp(const struct cp_scan *s, const struct cp_module *m)
{
	int fd = m->given ? cp_open_regular(m->host_path, 0, NULL)
	                  : cp_access_open(&s->access, m->host_path, &m->file_id, NULL, NULL);
	if (fd < 0)
		return NULL;
	char *interp = NULL;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t phnum, size;
	const char *raw = elf ? elf_rawfile(elf, &size) : NULL;
	if (raw && elf_getphdrnum(elf, &phnum) == 0) {
		for (size_t i = 0; i < phnum && i < 4096; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_INTERP)
				continue;
			if (ph.p_offset < size && ph.p_filesz > 1 && ph.p_filesz <= CP_PATH_MAX &&
			    size - ph.p_offset >= ph.p_filesz &&
			    memchr(raw + ph.p_offset, '\0', ph.p_filesz))
				interp = strdup(raw + ph.p_offset);
			break;
		}
	}
	elf_end(elf);
	close(fd);
	return interp;
}

static void hexstr(const uint8_t *b, size_t len, char *out)
{
	if (len == 0)
		strcpy(out, "none");
	else
		cp_hex(b, len, out);
}

/* The module is not packed: no file, or none we may use; says why. */
static int module_missing(struct cp_scan *s, struct cp_module *m, const char *why, const char *verb)
{
	m->status = CP_STATUS_MISSING;
	free(m->status_detail);
	if (asprintf(&m->status_detail, "%s%s", why,
	             m->deleted ? " (deleted after it was mapped)" : "") < 0) {
		m->status_detail = NULL;
		return -ENOMEM;
	}
	return warn(s, "'%s': %s: %s", m->origin_path, verb, m->status_detail);
}

/*
 * Find the file, compare build-ids, set status.  The file is found and
 * opened by the access walk (access.h): with the core's owners' rights
 * when they are not ours, and what is checked (owner, mode, type, ELF
 * type, build-id) is the file opened, whose identity is kept for every
 * later open.  A core file is never an object.
 */
static int check_module(const struct cp_scan_opts *o, struct cp_scan *s, struct cp_module *m)
{
	struct cp_error e = {0};
	struct stat st;
	int r, fd;
	if (m->role == CP_ROLE_EXECUTABLE && o->executable) {
		/* -e: the file is given on this machine; it keeps the core's
		 * name in the bundle. */
		char *norm = cp_path_normalize(m->origin_path);
		m->real_path = norm;
		m->host_path = realpath(o->executable, NULL);
		if (!norm)
			return -ENOMEM;
		m->given = 1;
		fd = m->host_path ? cp_open_regular(m->host_path, 0, &st) : -errno;
		if (fd < 0) {
			free(m->host_path);
			m->host_path = NULL;
			m->status = CP_STATUS_MISSING;
			if (asprintf(&m->status_detail, "cannot open '%s': %s", o->executable,
			             fd == -EINVAL ? "not a regular file" : strerror(-fd)) < 0)
				return -ENOMEM;
			return warn(s, "%s", m->status_detail);
		}
	} else {
		struct cp_resolved *res = NULL;
		r = cp_resolve_as(&s->access, m->origin_path, CP_RESOLVE_OPEN, &res, &e);
		if (r == -ENOMEM)
			return r;
		fd = -1;
		if (r == 0) {
			m->host_path = cp_host_path(o->sysroot, res->real);
			m->real_path = strdup(res->real);
			if (!m->host_path || !m->real_path || add_links(s, m, res) < 0)
				return cp_resolved_free(res), -ENOMEM;
			fd = res->fd;
			res->fd = -1;
			st = res->st;
		}
		cp_resolved_free(res);
		if (fd < 0)
			return module_missing(s, m, e.msg[0] ? e.msg : "no such file",
			                      r == -EACCES || r == -EPERM ? "refused, not packed"
			                                                  : "missing");
	}
	cp_file_id_set(&m->file_id, &st);
	if (cp_fd_is_core(fd)) {
		close(fd);
		free(m->host_path);
		free(m->real_path);
		m->host_path = m->real_path = NULL;
		return module_missing(s, m,
		                      "a core file (ELF type ET_CORE), never packed as an object",
		                      "refused, not packed");
	}
	cp_error_clear(&e);
	r = cp_fd_build_id(fd, m->host_path, m->file_build_id, sizeof(m->file_build_id),
	                   &m->file_build_id_len, &e);
	close(fd);
	if (r == -ENOMEM)
		return r;
	char core_hex[2 * CP_BUILD_ID_MAX + 1], file_hex[2 * CP_BUILD_ID_MAX + 1];
	hexstr(m->core_build_id, m->core_build_id_len, core_hex);
	hexstr(m->file_build_id, m->file_build_id_len, file_hex);
	if (r < 0) {
		m->status = CP_STATUS_MISMATCH;
		m->status_detail = strdup(e.msg);
	} else if (m->core_build_id_len && m->file_build_id_len) {
		if (m->core_build_id_len == m->file_build_id_len &&
		    memcmp(m->core_build_id, m->file_build_id, m->file_build_id_len) == 0) {
			m->status = CP_STATUS_OK;
			return 0;
		}
		m->status = CP_STATUS_MISMATCH;
		if (asprintf(&m->status_detail, "build-id %s on disk, %s in the core", file_hex,
		             core_hex) < 0)
			return -ENOMEM;
	} else if (m->core_build_id_len) {
		m->status = CP_STATUS_MISMATCH;
		if (asprintf(&m->status_detail, "file has no build-id, the core has %s", core_hex) <
		    0)
			return -ENOMEM;
	} else if (m->file_build_id_len) {
		m->status = CP_STATUS_UNVERIFIED;
		m->status_detail = strdup("the core holds no build-id for it (not dumped)");
		return m->status_detail ? 0 : -ENOMEM;
	} else {
		m->status = CP_STATUS_NO_BUILD_ID;
		m->status_detail = strdup("no build-id in the core or the file");
		return m->status_detail ? 0 : -ENOMEM;
	}
	if (!m->status_detail)
		return -ENOMEM;
	return warn(s,
	            "'%s': mismatch: %s; the file on this machine is not the one that ran, "
	            "not packed",
	            m->host_path, m->status_detail);
}

/*
 * Make NAME resolve to the module's file inside the bundle: usually the
 * symlinks met while resolving it are enough; when the name leads
 * elsewhere on this machine (or nowhere), add a link from it to the file.
 */
static int link_name(struct cp_scan *s, struct cp_module *m, const char *name)
{
	struct cp_resolved *res = NULL;
	struct cp_error e = {0};
	int r = cp_resolve_as(&s->access, name, CP_RESOLVE_MISSING_OK, &res, &e);
	if (r == -ENOMEM)
		return r;
	/* A name the core's owners could not resolve (a directory they may
	 * not search, a symlink not to be followed) is not probed further
	 * and gets no link: nothing found beyond what they may see reaches
	 * the bundle. */
	if (r == -EACCES || r == -EPERM)
		return warn(s, "'%s': %s; the name is not reproduced in the bundle", name, e.msg);
	if (r == 0 && res->exists && strcmp(res->real, m->real_path) == 0) {
		r = add_links(s, m, res);
		cp_resolved_free(res);
		return r;
	}
	cp_resolved_free(res);
	res = NULL;
	/* Link DIR(name)/BASE(name) -> the file, DIR resolved first. */
	char *norm = cp_path_normalize(name);
	if (!norm)
		return -ENOMEM;
	char *slash = strrchr(norm, '/');
	if (!slash || slash[1] == '\0' || strcmp(norm, m->real_path) == 0) {
		free(norm);
		return 0;
	}
	*slash = '\0';
	const char *dir = norm[0] ? norm : "/";
	char *parent = NULL;
	r = cp_resolve_as(&s->access, dir, CP_RESOLVE_MISSING_OK, &res, &e);
	if (r == -ENOMEM) {
		free(norm);
		return r;
	}
	if (r == -EACCES || r == -EPERM) {
		free(norm);
		return warn(s, "'%s': %s; the name is not reproduced in the bundle", name, e.msg);
	}
	if (r == 0) {
		parent = strdup(res->real);
		r = add_links(s, m, res);
	} else {
		parent = strdup(dir);
		r = 0;
	}
	cp_resolved_free(res);
	char *link = NULL, *target = NULL;
	if (r == 0 && parent &&
	    asprintf(&link, "%s/%s", strcmp(parent, "/") ? parent : "", slash + 1) >= 0 &&
	    (target = cp_path_relative(parent, m->real_path)))
		r = add_link(s, m, link, target);
	else if (r == 0)
		r = -ENOMEM;
	free(norm);
	free(parent);
	free(link);
	free(target);
	return r;
}

static int is_libc(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return strcmp(b, "libc.so.6") == 0 || (strncmp(b, "libc-", 5) == 0 && strstr(b, ".so"));
}

/* The libthread_db beside the crashed process's libc, from the same origin. */
static int add_thread_db(const struct cp_scan_opts *o, struct cp_scan *s)
{
	size_t libc = s->n_modules;
	for (size_t i = 0; i < s->n_modules; i++)
		if (s->modules[i].real_path && is_libc(s->modules[i].real_path))
			libc = i;
	if (libc == s->n_modules || !cp_module_packable(&s->modules[libc]))
		return 0;
	char *dir = strdup(s->modules[libc].real_path);
	if (!dir)
		return -ENOMEM;
	*strrchr(dir, '/') = '\0';
	char *path = NULL;
	if (asprintf(&path, "%s/libthread_db.so.1", dir) < 0) {
		free(dir);
		return -ENOMEM;
	}
	free(dir);
	struct cp_resolved *res = NULL;
	int r = cp_resolve_as(&s->access, path, CP_RESOLVE_MISSING_OK, &res, NULL);
	int there = r == 0 && res->exists;
	cp_resolved_free(res);
	if (r == -ENOMEM) {
		free(path);
		return r;
	}
	if (!there) {
		char *host = cp_host_path(o->sysroot, path);
		r = host ? warn(s,
		                "'%s': no libthread_db beside the process's libc; threads "
		                "will be debugged with the debugging host's",
		                host)
		         : -ENOMEM;
		free(host);
		free(path);
		return r;
	}
	struct cp_module *m = grow(&s->modules, &s->n_modules, sizeof(*m));
	if (!m) {
		free(path);
		return -ENOMEM;
	}
	m->origin_path = path;
	m->role = CP_ROLE_THREAD_DB;
	r = add_name(s, m, path, CP_NAME_LIBC_DIR);
	if (r == 0)
		r = check_module(o, s, m);
	if (r == 0 && m->status == CP_STATUS_UNVERIFIED) {
		/* Not mapped, so the core cannot vouch for it; it comes from the
		 * same directory as the libc that was verified. */
		free(m->status_detail);
		m->status_detail = NULL;
		m->status = CP_STATUS_OK;
	}
	return r;
}

/* Debug files are listed by the path they were found at, and one found by
 * debuglink alone is stored under its name: both must be names the bundle
 * can hold (name_problem()), or the file is left out. */
static int check_debug_names(struct cp_scan *s, struct cp_module *m)
{
	struct cp_debug_result *d = m->debug;
	const char *why;
	if (d->file && (why = name_problem(d->file->host_path)) != NULL) {
		int r = warn(s, "'%s': debug file of '%s' %s: not packed", d->file->host_path,
		             m->real_path, why);
		cp_debug_file_free(d->file);
		cp_debug_file_free(d->alt);
		d->file = d->alt = NULL;
		d->alt_missing = 0;
		return r;
	}
	if (d->alt && (why = name_problem(d->alt->host_path)) != NULL) {
		int r = warn(s, "'%s': dwz file of '%s' %s: not packed", d->alt->host_path,
		             m->real_path, why);
		cp_debug_file_free(d->alt);
		d->alt = NULL;
		d->alt_missing = 1;
		return r;
	}
	if (d->debuglink && (cp_bundle_has_control(d->debuglink) ||
	                     cp_bundle_component_problem(d->debuglink, strlen(d->debuglink)))) {
		int r = warn(s, "'%s': .gnu_debuglink name cannot be stored in a bundle: ignored",
		             m->real_path);
		if (d->file && !m->file_build_id_len) {
			/* stored under that name: not packed */
			cp_debug_file_free(d->file);
			cp_debug_file_free(d->alt);
			d->file = d->alt = NULL;
			d->alt_missing = 0;
		}
		free(d->debuglink);
		d->debuglink = NULL;
		return r;
	}
	return 0;
}

static int find_debug(const struct cp_scan_opts *o, struct cp_scan *s)
{
	char *sys_debug = cp_host_path(o->sysroot, "/usr/lib/debug");
	const char **roots = calloc(o->n_debug_roots + 1, sizeof(*roots));
	if (!sys_debug || !roots) {
		free(sys_debug);
		free(roots);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->n_debug_roots; i++)
		roots[i] = o->debug_roots[i];
	roots[o->n_debug_roots] = sys_debug;
	struct cp_debug_search search = {o->sysroot, roots, o->n_debug_roots + 1, &s->access};
	int r = 0;
	for (size_t i = 0; i < s->n_modules && r == 0; i++) {
		struct cp_module *m = &s->modules[i];
		if (!cp_module_packable(m))
			continue;
		struct cp_error e = {0};
		r = cp_debug_find(&search, m->host_path, m->real_path, m->file_build_id,
		                  m->file_build_id_len, &m->debug, &e);
		if (r == -ENOMEM)
			break;
		if (r < 0)
			r = warn(s, "%s", e.msg);
		else if ((r = check_debug_names(s, m)) < 0)
			break;
		else if (m->debug->alt_missing)
			r = warn(s, "'%s': its debug file names a dwz file '%s' that was not found",
			         m->real_path, m->debug->alt_name ? m->debug->alt_name : "?");
	}
	free(sys_debug);
	free(roots);
	return r;
}

/* The vDSO has no file: gdb reads it from the core.  Its build-id is
 * still worth listing (eu-unstrip -n does). */
static void scan_vdso(const struct cp_core *core, struct cp_scan *s)
{
	for (size_t i = 0; s->vdso && i < core->n_loads; i++) {
		const struct cp_segment *seg = &core->loads[i];
		if (s->vdso < seg->vaddr || s->vdso - seg->vaddr >= seg->memsz)
			continue;
		s->vdso_end = seg->vaddr + seg->memsz;
		struct cp_file_mapping fm = {s->vdso, s->vdso_end, 0, "[vdso]"};
		const struct cp_file_mapping *fmp = &fm;
		s->vdso_build_id_len =
		    cp_mem_build_id(cp_core_mem_read, (void *)core, core->is64, core->big_endian,
		                    s->vdso, &fmp, 1, s->vdso_build_id, sizeof(s->vdso_build_id));
		break;
	}
}

static int scan(const struct cp_core *core, const struct cp_scan_opts *o, struct cp_scan *s,
                struct map_index *idx, struct cp_error *err)
{
	const struct cp_notes *n = &core->notes;
	struct stat core_st;
	if (fstat(core->fd, &core_st) < 0)
		return cp_error_set(err, errno, "cannot read '%s': %s", core->path,
		                    strerror(errno));
	cp_access_for_core(&s->access, o->sysroot, n, &core_st, geteuid());
	s->access.trusted = o->debug_roots;
	s->access.n_trusted = o->n_debug_roots;
	int r = cp_linkmap_walk(cp_core_mem_read, (void *)core, core->is64, core->big_endian, n,
	                        &s->linkmap, err);
	if (r < 0)
		return r;
	s->vdso = n->at_sysinfo_ehdr;
	scan_vdso(core, s);
	if (n->have_file) {
		r = modules_from_nt_file(core, o, s, idx);
	} else {
		r = warn(s,
		         "'%s': the core has no NT_FILE note; objects are taken from the "
		         "loader's link_map",
		         core->path);
		if (r == 0)
			r = modules_from_linkmap(core, s);
	}
	if (r < 0)
		return r;
	if (s->linkmap->n_entries == 0 && s->linkmap->why &&
	    (r = warn(s, "'%s': no link_map names: %s", core->path, s->linkmap->why)) < 0)
		return r;

	struct cp_module *exe = n->have_auxv ? module_at(s, idx, n->at_phdr) : NULL;
	if (!exe && n->have_auxv)
		exe = module_at(s, idx, n->at_entry);
	if (exe)
		exe->role = CP_ROLE_EXECUTABLE;
	struct cp_module *interp = n->at_base ? module_at(s, idx, n->at_base) : NULL;
	if (interp && interp != exe)
		interp->role = CP_ROLE_INTERPRETER;
	if (!exe && o->executable) {
		char *abs = realpath(o->executable, NULL);
		exe = abs ? grow(&s->modules, &s->n_modules, sizeof(*exe)) : NULL;
		if (!exe) {
			free(abs);
			return cp_error_set(err, errno ? errno : ENOMEM, "cannot open '%s': %s",
			                    o->executable, strerror(errno ? errno : ENOMEM));
		}
		exe->origin_path = abs;
		exe->role = CP_ROLE_EXECUTABLE;
		exe->code = 1;
		if ((r = add_name(s, exe, abs, CP_NAME_OPTION)) < 0)
			return r;
	} else if (!exe) {
		r = warn(s, "'%s': cannot tell which object is the executable; use -e", core->path);
		if (r < 0)
			return r;
	}

	/* Names from the loader's list, matched by where their dynamic
	 * section lies. */
	for (size_t i = 0; n->have_file && i < s->linkmap->n_entries; i++) {
		const struct cp_linkmap_entry *e = &s->linkmap->entries[i];
		struct cp_module *m = e->name[0] == '/' ? module_at(s, idx, e->l_ld) : NULL;
		if (m && (r = add_name(s, m, e->name, CP_NAME_LINK_MAP)) < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_modules; i++) {
		if ((r = check_module(o, s, &s->modules[i])) < 0)
			return r;
	}
	exe = NULL;
	for (size_t i = 0; i < s->n_modules; i++)
		if (s->modules[i].role == CP_ROLE_EXECUTABLE)
			exe = &s->modules[i];
	if (exe && n->at_execfn) {
		char *fn =
		    cp_mem_read_string(cp_core_mem_read, (void *)core, n->at_execfn, CP_PATH_MAX);
		if (fn && fn[0] == '/')
			r = add_name(s, exe, fn, CP_NAME_EXECFN);
		free(fn);
		if (r < 0)
			return r;
	}
	if (exe && exe->host_path) {
		char *pt_interp = read_pt_interp(s, exe);
		for (size_t i = 0; pt_interp && pt_interp[0] == '/' && i < s->n_modules && r == 0;
		     i++)
			if (s->modules[i].role == CP_ROLE_INTERPRETER)
				r = add_name(s, &s->modules[i], pt_interp, CP_NAME_PT_INTERP);
		free(pt_interp);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_modules; i++) {
		struct cp_module *m = &s->modules[i];
		for (size_t k = 0; cp_module_packable(m) && k < m->n_names; k++)
			if ((r = link_name(s, m, m->names[k].path)) < 0)
				return r;
	}
	if ((r = add_thread_db(o, s)) < 0)
		return r;
	if (!o->no_debug && (r = find_debug(o, s)) < 0)
		return r;
	return 0;
}

int cp_scan_core(const struct cp_core *core, const struct cp_scan_opts *opts, struct cp_scan **out,
                 struct cp_error *err)
{
	elf_version(EV_CURRENT);
	struct cp_scan *s = calloc(1, sizeof(*s));
	if (!s)
		return cp_error_set(err, ENOMEM, "out of memory");
	struct map_index idx = {0};
	int r = scan(core, opts, s, &idx, err);
	free(idx.refs);
	if (r < 0) {
		cp_scan_free(s);
		return cp_error_set(err, -r, "cannot scan '%s': %s", core->path, strerror(-r));
	}
	*out = s;
	return 0;
}

static void module_done(struct cp_module *m)
{
	free(m->origin_path);
	for (size_t i = 0; i < m->n_names; i++)
		free(m->names[i].path);
	free(m->names);
	free(m->status_detail);
	free(m->real_path);
	free(m->host_path);
	for (size_t i = 0; i < m->n_links; i++) {
		free(m->links[i].path);
		free(m->links[i].target);
	}
	free(m->links);
	cp_debug_result_free(m->debug);
}

void cp_scan_free(struct cp_scan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_modules; i++)
		module_done(&s->modules[i]);
	free(s->modules);
	for (size_t i = 0; i < s->n_others; i++)
		free(s->others[i].path);
	free(s->others);
	cp_linkmap_free(s->linkmap);
	for (size_t i = 0; i < s->n_warnings; i++)
		free(s->warnings[i]);
	free(s->warnings);
	free(s);
}

const struct cp_module *cp_scan_executable(const struct cp_scan *s)
{
	for (size_t i = 0; i < s->n_modules; i++)
		if (s->modules[i].role == CP_ROLE_EXECUTABLE)
			return &s->modules[i];
	return NULL;
}
