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

#include "corepack/io.h"
#include "corepack/layout.h"
#include "corepack/modules.h"
#include "corepack/scripts.h"

static const char deleted_suffix[] = " (deleted)";

int cp_module_packable(const struct cp_module *m)
{
	return m->host_path && m->status != CP_STATUS_MISMATCH && m->status != CP_STATUS_MISSING;
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
	char **w = realloc(s->warnings, (s->n_warnings + 1) * sizeof(*w));
	if (!w) {
		free(msg);
		return -ENOMEM;
	}
	s->warnings = w;
	s->warnings[s->n_warnings++] = msg;
	return 0;
}

/* Grow *ARR (of N elements of SIZE) by one zeroed element; NULL on ENOMEM. */
static void *grow(void *arrp, size_t *n, size_t size)
{
	void **arr = arrp;
	void *a = realloc(*arr, (*n + 1) * size);
	if (!a)
		return NULL;
	*arr = a;
	void *e = (char *)a + *n * size;
	memset(e, 0, size);
	(*n)++;
	return e;
}

static int add_name(struct cp_module *m, const char *path, enum cp_name_source source)
{
	for (size_t i = 0; i < m->n_names; i++)
		if (strcmp(m->names[i].path, path) == 0)
			return 0;
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

static int add_link(struct cp_module *m, const char *path, const char *target)
{
	for (size_t i = 0; i < m->n_links; i++)
		if (strcmp(m->links[i].path, path) == 0)
			return 0;
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

static int add_links(struct cp_module *m, const struct cp_resolved *r)
{
	for (size_t i = 0; i < r->n_links; i++)
		if (add_link(m, r->links[i].path, r->links[i].target) < 0)
			return -ENOMEM;
	return 0;
}

struct mapping_ref {
	const struct cp_file_mapping *map;
};

static int cmp_mapping_name(const void *a, const void *b)
{
	const struct cp_file_mapping *x = *(const struct cp_file_mapping *const *)a;
	const struct cp_file_mapping *y = *(const struct cp_file_mapping *const *)b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int has_elf_magic_file(const char *host_path)
{
	unsigned char b[4];
	int fd = cp_open_regular(host_path, 0, NULL);
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
                                struct cp_scan *s)
{
	const struct cp_notes *n = &core->notes;
	if (n->n_files == 0)
		return 0;
	const struct cp_file_mapping **sorted = malloc(n->n_files * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < n->n_files; i++)
		sorted[i] = &n->files[i];
	qsort(sorted, n->n_files, sizeof(*sorted), cmp_mapping_name);
	int r = 0;
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
		int known = 0, elf = have_base && has_elf_magic_core(core, base, &known);
		if (!known) {
			char *host = cp_host_path(o->sysroot, path);
			elf = host && path[0] == '/' && has_elf_magic_file(host);
			free(host);
		}
		if (!elf) {
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
		r = add_name(m, path, CP_NAME_NT_FILE);
	}
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
		struct cp_module *m = grow(&s->modules, &s->n_modules, sizeof(*m));
		if (!m || !(m->origin_path = strdup(e->name)))
			return -ENOMEM;
		m->start = e->l_addr;
		if (add_name(m, e->name, CP_NAME_LINK_MAP) < 0)
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

static struct cp_module *module_at(struct cp_scan *s, uint64_t addr)
{
	for (size_t i = 0; i < s->n_modules; i++)
		if (s->modules[i].end && addr >= s->modules[i].start && addr < s->modules[i].end)
			return &s->modules[i];
	return NULL;
}

/* PT_INTERP of an ELF file on disk, or NULL. */
static char *read_pt_interp(const char *host_path)
{
	int fd = cp_open_regular(host_path, 0, NULL);
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

/* Find the file, compare build-ids, set status. */
static int check_module(const struct cp_scan_opts *o, struct cp_scan *s, struct cp_module *m)
{
	struct cp_error e = {0};
	struct cp_resolved *res = NULL;
	int r;
	if (m->role == CP_ROLE_EXECUTABLE && o->executable) {
		/* -e: the file is given on this machine; it keeps the core's
		 * name in the bundle. */
		char *norm = cp_path_normalize(m->origin_path);
		m->real_path = norm;
		m->host_path = realpath(o->executable, NULL);
		if (!norm)
			return -ENOMEM;
		if (!m->host_path) {
			m->status = CP_STATUS_MISSING;
			if (asprintf(&m->status_detail, "cannot open '%s': %s", o->executable,
			             strerror(errno)) < 0)
				return -ENOMEM;
			return warn(s, "%s", m->status_detail);
		}
	} else {
		r = cp_resolve(o->sysroot, m->origin_path, 1, &res, &e);
		if (r == -ENOMEM)
			return r;
		if (r == 0) {
			char *host = cp_host_path(o->sysroot, res->real);
			struct stat st;
			if (!host)
				return cp_resolved_free(res), -ENOMEM;
			if (stat(host, &st) == 0 && S_ISREG(st.st_mode)) {
				m->real_path = strdup(res->real);
				m->host_path = host;
				if (!m->real_path || add_links(m, res) < 0)
					return cp_resolved_free(res), -ENOMEM;
			} else {
				free(host);
				snprintf(e.msg, sizeof(e.msg), "no such file");
			}
			cp_resolved_free(res);
		}
		if (!m->host_path) {
			m->status = CP_STATUS_MISSING;
			if (asprintf(&m->status_detail, "%s%s", e.msg[0] ? e.msg : "no such file",
			             m->deleted ? " (deleted after it was mapped)" : "") < 0)
				return -ENOMEM;
			return warn(s, "'%s': missing: %s", m->origin_path, m->status_detail);
		}
	}
	cp_error_clear(&e);
	r = cp_file_build_id(m->host_path, m->file_build_id, sizeof(m->file_build_id),
	                     &m->file_build_id_len, &e);
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
static int link_name(const struct cp_scan_opts *o, struct cp_module *m, const char *name)
{
	struct cp_resolved *res = NULL;
	int r = cp_resolve(o->sysroot, name, 1, &res, NULL);
	if (r == -ENOMEM)
		return r;
	if (r == 0 && strcmp(res->real, m->real_path) == 0) {
		r = add_links(m, res);
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
	r = cp_resolve(o->sysroot, dir, 1, &res, NULL);
	if (r == -ENOMEM) {
		free(norm);
		return r;
	}
	if (r == 0) {
		parent = strdup(res->real);
		r = add_links(m, res);
	} else {
		parent = strdup(dir);
		r = 0;
	}
	cp_resolved_free(res);
	char *link = NULL, *target = NULL;
	if (r == 0 && parent &&
	    asprintf(&link, "%s/%s", strcmp(parent, "/") ? parent : "", slash + 1) >= 0 &&
	    (target = cp_path_relative(parent, m->real_path)))
		r = add_link(m, link, target);
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
	char *host = cp_host_path(o->sysroot, path);
	struct stat st;
	if (!host || stat(host, &st) != 0) {
		int r = host ? warn(s,
		                    "'%s': no libthread_db beside the process's libc; threads "
		                    "will be debugged with the debugging host's",
		                    host)
		             : -ENOMEM;
		free(host);
		free(path);
		return r;
	}
	free(host);
	struct cp_module *m = grow(&s->modules, &s->n_modules, sizeof(*m));
	if (!m) {
		free(path);
		return -ENOMEM;
	}
	m->origin_path = path;
	m->role = CP_ROLE_THREAD_DB;
	int r = add_name(m, path, CP_NAME_LIBC_DIR);
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

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* Whether a packable module other than NOT has PATH as its file or as one
 * of its links. */
static int path_taken(const struct cp_scan *s, const struct cp_module * not, const char *path)
{
	for (size_t i = 0; i < s->n_modules; i++) {
		const struct cp_module *m = &s->modules[i];
		if (m == not || !cp_module_packable(m))
			continue;
		if (strcmp(m->real_path, path) == 0)
			return 1;
		for (size_t k = 0; k < m->n_links; k++)
			if (strcmp(m->links[k].path, path) == 0)
				return 1;
	}
	return 0;
}

static int add_solib_dir(struct cp_scan *s, const char *dir)
{
	for (size_t i = 0; i < s->n_solib_dirs; i++)
		if (strcmp(s->solib_dirs[i], dir) == 0)
			return 0;
	char *d = strdup(dir);
	char **a = d ? realloc(s->solib_dirs, (s->n_solib_dirs + 1) * sizeof(*a)) : NULL;
	if (!a) {
		free(d);
		return -ENOMEM;
	}
	s->solib_dirs = a;
	s->solib_dirs[s->n_solib_dirs++] = d;
	return 0;
}

/* Warn when a file of base name BASE in a solib-search-path directory
 * before DIR would be found for M's relative NAME instead of M. */
static int check_search_order(struct cp_scan *s, const struct cp_module *m, const char *name,
                              const char *dir, const char *base)
{
	int r = 0;
	for (size_t d = 0; d < s->n_solib_dirs && r == 0; d++) {
		char *p = NULL;
		if (strcmp(s->solib_dirs[d], dir) == 0)
			break;
		if (asprintf(&p, "%s/%s", strcmp(s->solib_dirs[d], "/") ? s->solib_dirs[d] : "",
		             base) < 0)
			return -ENOMEM;
		if (path_taken(s, m, p))
			r = warn(s,
			         "'%s': gdb looks up the loader's name '%s' by its base name and "
			         "finds '%s' first: it will load that file instead",
			         m->real_path, name, p);
		free(p);
	}
	return r;
}

/* M's relative NAME: its directory into solib-search-path, and a link
 * BASE -> the file when the base names differ. */
static int relative_name(struct cp_scan *s, struct cp_module *m, const char *name)
{
	const char *base = base_name(name);
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return 0;
	char *dir = strdup(m->real_path), *link = NULL;
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	slash[slash == dir ? 1 : 0] = '\0';
	/* The manifest holds the directory as a normalised path, never "/". */
	const char *why =
	    strcmp(dir, "/") == 0 ? "it lies in /" : cp_scripts_search_dir_problem(dir);
	if (!why)
		why = cp_bundle_component_problem(base, strlen(base));
	int r = 0, taken = 0;
	if (why) {
		r = warn(s,
		         "'%s': the loader knew it as '%s', which gdb cannot be pointed at in the "
		         "bundle (%s): gdb will not load it",
		         m->real_path, name, why);
	} else if (strcmp(base, base_name(m->real_path)) != 0) {
		if (asprintf(&link, "%s/%s", strcmp(dir, "/") ? dir : "", base) < 0) {
			link = NULL;
			r = -ENOMEM;
		} else if ((taken = path_taken(s, m, link))) {
			r = warn(s,
			         "'%s': the loader knew it as '%s', but '%s' is another file: gdb "
			         "will load that one",
			         m->real_path, name, link);
		} else {
			r = add_link(m, link, base_name(m->real_path));
		}
	}
	if (r == 0 && !why && !taken && (r = add_solib_dir(s, dir)) == 0)
		r = check_search_order(s, m, name, dir, base);
	free(link);
	free(dir);
	return r;
}

/*
 * Objects the loader knew by a relative name (a DT_NEEDED of
 * "../lib/libx.so", dlopen("./plugin.so")): gdb resolves that name from
 * its own working directory, and failing that looks its base name up in
 * solib-search-path.  So their directories become the bundle's
 * solib-search-path, with a link BASE -> the file where the base name
 * differs from the file's; a file of the same base name met first in that
 * path is warned about.
 */
static int relative_names(struct cp_scan *s)
{
	int r = 0;
	for (size_t i = 0; i < s->n_modules && r == 0; i++) {
		struct cp_module *m = &s->modules[i];
		for (size_t k = 0; cp_module_packable(m) && k < m->n_names && r == 0; k++)
			if (m->names[k].path[0] != '/')
				r = relative_name(s, m, m->names[k].path);
	}
	return r;
}

/* At most this many split DWARF files are named, per object, as missing. */
#define SPLIT_NAMED_MAX 32

/* Look for the split DWARF of M (splitdwarf.h) and warn about each unit
 * gdb will not find. */
static int find_split(const struct cp_debug_search *search, struct cp_scan *s, struct cp_module *m)
{
	const char *dwarf = m->debug->file                 ? m->debug->file->host_path
	                    : m->debug->has_own_debug_info ? m->host_path
	                                                   : NULL;
	if (!dwarf)
		return 0;
	const char **names = calloc(m->n_names + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_names; i++)
		names[i] = m->names[i].path;
	struct cp_split_object so = {dwarf, m->debug->file != NULL, names, m->n_names,
	                             m->real_path};
	struct cp_error e = {0};
	int r = cp_split_find(search, &so, &m->split, &e);
	free(names);
	const struct cp_split_result *sp = m->split;
	size_t named = 0;
	for (size_t i = 0; r == 0 && sp && i < sp->n_units; i++) {
		const struct cp_split_unit *u = &sp->units[i];
		if (sp->dwp ? u->in_dwp : u->file != NULL)
			continue;
		if (named++ >= SPLIT_NAMED_MAX)
			continue;
		if (sp->dwp)
			r = warn(s,
			         "'%s': its DWARF package '%s' has no unit with DWO id %016llx "
			         "('%s'): no source lines or variables for that code",
			         m->real_path, sp->dwp->host_path, (unsigned long long)u->dwo_id,
			         u->dwo_name);
		else if (u->stale)
			r = warn(
			    s,
			    "'%s': split DWARF file '%s' is not the one built with it (another "
			    "DWO id than %016llx): not packed; no source lines or variables for "
			    "that code",
			    m->real_path, u->stale, (unsigned long long)u->dwo_id);
		else
			r = warn(s,
			         "'%s': split DWARF file '%s' (compilation directory '%s', DWO id "
			         "%016llx) not found: no source lines or variables for that code",
			         m->real_path, u->dwo_name, u->comp_dir ? u->comp_dir : "-",
			         (unsigned long long)u->dwo_id);
	}
	if (r == 0 && sp && named > SPLIT_NAMED_MAX)
		r = warn(s, "'%s': %zu more split DWARF files not found", m->real_path,
		         named - SPLIT_NAMED_MAX);
	if (r == 0 && sp && sp->n_skipped)
		r = warn(s,
		         "'%s': more than %d skeleton units; the split DWARF of %zu more was not "
		         "looked for",
		         m->real_path, CP_SPLIT_MAX_UNITS, sp->n_skipped);
	return r;
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
	struct cp_debug_search search = {o->sysroot, roots, o->n_debug_roots + 1};
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
		else if (m->debug->alt_missing)
			r = warn(s, "'%s': its debug file names a dwz file '%s' that was not found",
			         m->real_path, m->debug->alt_name ? m->debug->alt_name : "?");
		if (r == 0 && m->debug)
			r = find_split(&search, s, m);
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
                struct cp_error *err)
{
	const struct cp_notes *n = &core->notes;
	int r = cp_linkmap_walk(cp_core_mem_read, (void *)core, core->is64, core->big_endian, n,
	                        &s->linkmap, err);
	if (r < 0)
		return r;
	s->vdso = n->at_sysinfo_ehdr;
	scan_vdso(core, s);
	if (n->have_file) {
		r = modules_from_nt_file(core, o, s);
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

	struct cp_module *exe = n->have_auxv ? module_at(s, n->at_phdr) : NULL;
	if (!exe && n->have_auxv)
		exe = module_at(s, n->at_entry);
	if (exe)
		exe->role = CP_ROLE_EXECUTABLE;
	struct cp_module *interp = n->at_base ? module_at(s, n->at_base) : NULL;
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
		if ((r = add_name(exe, abs, CP_NAME_OPTION)) < 0)
			return r;
		/* the interpreter pointer may have moved with the array */
		interp = n->at_base ? module_at(s, n->at_base) : NULL;
	} else if (!exe) {
		r = warn(s, "'%s': cannot tell which object is the executable; use -e", core->path);
		if (r < 0)
			return r;
	}

	/* Names from the loader's list, matched by where their dynamic
	 * section lies. */
	for (size_t i = 0; n->have_file && i < s->linkmap->n_entries; i++) {
		const struct cp_linkmap_entry *e = &s->linkmap->entries[i];
		struct cp_module *m = e->name[0] ? module_at(s, e->l_ld) : NULL;
		if (m && (r = add_name(m, e->name, CP_NAME_LINK_MAP)) < 0)
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
			r = add_name(exe, fn, CP_NAME_EXECFN);
		free(fn);
		if (r < 0)
			return r;
	}
	if (exe && exe->host_path) {
		char *pt_interp = read_pt_interp(exe->host_path);
		for (size_t i = 0; pt_interp && pt_interp[0] == '/' && i < s->n_modules; i++)
			if (s->modules[i].role == CP_ROLE_INTERPRETER)
				r = add_name(&s->modules[i], pt_interp, CP_NAME_PT_INTERP);
		free(pt_interp);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_modules; i++) {
		struct cp_module *m = &s->modules[i];
		/* A relative name is found through solib-search-path
		 * (cp_scan_solib_dirs()), not by a link. */
		for (size_t k = 0; cp_module_packable(m) && k < m->n_names; k++)
			if (m->names[k].path[0] == '/' &&
			    (r = link_name(o, m, m->names[k].path)) < 0)
				return r;
	}
	if ((r = relative_names(s)) < 0 || (r = add_thread_db(o, s)) < 0)
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
	int r = scan(core, opts, s, err);
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
	cp_split_result_free(m->split);
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
	for (size_t i = 0; i < s->n_solib_dirs; i++)
		free(s->solib_dirs[i]);
	free(s->solib_dirs);
	free(s);
}

const struct cp_module *cp_scan_executable(const struct cp_scan *s)
{
	for (size_t i = 0; i < s->n_modules; i++)
		if (s->modules[i].role == CP_ROLE_EXECUTABLE)
			return &s->modules[i];
	return NULL;
}
