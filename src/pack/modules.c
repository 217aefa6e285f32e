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
#include "corepack/image.h"
#include "corepack/io.h"
#include "corepack/layout.h"
#include "corepack/manifest_read.h"
#include "corepack/modules.h"
#include "corepack/scripts.h"

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
	/* our own cache's file, checked to be the one fetched */
	if (f->fetched)
		return cp_access_open(NULL, f->host_path, &f->file_id, st, NULL);
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
	/* The loader may have known an object by a relative name (a DT_NEEDED
	 * of "../lib/libx.so", dlopen("./plugin.so")): kept as it was, for
	 * relative_names(); it is never a path in the bundle. */
	const char *why = NULL;
	if (source == CP_NAME_LINK_MAP && path[0] && path[0] != '/') {
		if (cp_bundle_has_control(path))
			why = "has a control character";
		else if (strlen(path) > CP_BUNDLE_MAX_ORIGIN_PATH)
			why = "is too long for a bundle";
	} else {
		why = name_problem(path);
	}
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

/* The index of the module whose range holds ADDR, or -1. */
static long module_index(const struct cp_scan *s, uint64_t addr)
{
	for (size_t i = 0; i < s->n_modules; i++)
		if (s->modules[i].end && addr >= s->modules[i].start && addr < s->modules[i].end)
			return (long)i;
	return -1;
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
		uint64_t start = UINT64_MAX, end = 0, base = 0, map_lo = 0, map_hi = 0;
		int have_base = 0;
		for (size_t k = i; k < j; k++) {
			if (sorted[k]->start < start)
				start = sorted[k]->start;
			if (sorted[k]->end > end)
				end = sorted[k]->end;
			if (sorted[k]->file_offset == 0 && !have_base) {
				base = sorted[k]->start;
				have_base = 1;
				map_lo = sorted[k]->start;
				map_hi = sorted[k]->end;
			}
		}
		if (!have_base) {
			map_lo = sorted[i]->start;
			map_hi = sorted[i]->end;
		}
		const char *why = name_problem(path);
		int known = 0, elf = !why && have_base && has_elf_magic_core(core, base, &known);
		if (!why && !known) {
			/* a live process's mapped file first: its name may lead
			 * nowhere now, or to another file */
			char *host = NULL;
			if (o->map_files &&
			    asprintf(&host, "%s/%llx-%llx", o->map_files,
			             (unsigned long long)map_lo, (unsigned long long)map_hi) < 0)
				host = NULL;
			elf = host && has_elf_magic_file(s, host);
			free(host);
			host = elf ? NULL : cp_host_path(o->sysroot, path);
			elf = elf || (host && path[0] == '/' && has_elf_magic_file(s, host));
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
		m->header = base;
		m->have_header = have_base;
		m->map_lo = map_lo;
		m->map_hi = map_hi;
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

/* Without NT_FILE (an old kernel or dumper, or a process with more
 * mappings than the kernel's note size limit allows), the loader's list
 * names the libraries; where each lies, and its build-id, come from the
 * ELF header dumped at its l_addr (shared objects are linked at 0). */
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
		int dup = 0;
		for (size_t k = 0; k < s->n_modules && !dup; k++)
			dup = strcmp(s->modules[k].origin_path, e->name) == 0;
		if (dup)
			continue;
		struct cp_module *m = grow(&s->modules, &s->n_modules, sizeof(*m));
		if (!m || !(m->origin_path = strdup(e->name)))
			return -ENOMEM;
		m->start = e->l_addr;
		m->code = 1;
		if (add_name(s, m, e->name, CP_NAME_LINK_MAP) < 0)
			return -ENOMEM;
		struct cp_image_layout l;
		int r = cp_image_from_header(core, e->l_addr, &l);
		if (r == -ENOMEM)
			return r;
		if (r == 0) {
			m->start = l.start;
			m->end = l.end;
			m->header = l.header;
			m->have_header = 1;
			m->core_build_id_len = cp_image_build_id(core, l.header, m->core_build_id,
			                                         sizeof(m->core_build_id));
		}
	}
	return 0;
}

/* Whether the file HOST, opened under the scan's access rules, is the
 * object PROBE stands for: by build-id, or without one by content. */
static int is_verified_candidate(const struct cp_core *core, const struct cp_scan *s,
                                 const struct cp_module *m, const char *host)
{
	uint8_t id[CP_BUILD_ID_MAX];
	size_t len = 0;
	int fd = cp_access_open(&s->access, host, NULL, NULL, NULL);
	if (fd < 0)
		return 0;
	int r = cp_fd_build_id(fd, host, id, sizeof(id), &len, NULL);
	close(fd);
	if (r < 0)
		return 0;
	if (m->core_build_id_len || len)
		return len == m->core_build_id_len && memcmp(id, m->core_build_id, len) == 0;
	struct cp_image_match mt;
	return cp_image_compare(core, m->header, &s->access, host, &mt, NULL) == 0 && mt.bytes &&
	       !mt.differs;
}

/*
 * The path, among N candidate names, of the object PROBE stands for (its
 * ELF header and build-id in the core): a name is taken as it is when
 * absolute, and from the core's directory when relative (where the kernel
 * writes cores by default: the process's working directory).  The first
 * whose file's build-id (or content) matches the core's wins; failing
 * that, the first absolute one, for check_module() to judge; a relative
 * one is never taken unproved.  Returns the path (caller frees) with *K
 * its candidate and *RELATIVE, or NULL.
 */
static char *pick_path(const struct cp_core *core, const struct cp_scan_opts *o,
                       const struct cp_scan *s, const struct cp_module *probe, char *const *cand,
                       int n, int *k_out, int *relative)
{
	const char *slash = strrchr(core->path, '/');
	char *dir =
	    slash ? strndup(core->path, slash == core->path ? 1 : (size_t)(slash - core->path))
	          : getcwd(NULL, 0);
	char *chosen = NULL, *fallback = NULL;
	int fallback_k = -1;
	for (int k = 0; k < n && !chosen; k++) {
		if (!cand[k] || !cand[k][0])
			continue;
		char *path = NULL;
		if (cand[k][0] == '/') {
			path = cp_path_normalize(cand[k]);
		} else if (dir && asprintf(&path, "%s/%s", dir, cand[k]) >= 0) {
			char *norm = cp_path_normalize(path);
			free(path);
			path = norm;
		}
		if (!path)
			continue;
		char *host = cp_host_path(o->sysroot, path);
		if (host && is_verified_candidate(core, s, probe, host)) {
			chosen = path;
			*k_out = k;
			*relative = cand[k][0] != '/';
		} else if (cand[k][0] == '/' && !fallback) {
			fallback = path;
			fallback_k = k;
		} else {
			free(path);
		}
		free(host);
	}
	free(dir);
	if (!chosen && fallback) {
		*k_out = fallback_k;
		*relative = 0;
		return fallback;
	}
	free(fallback);
	return chosen;
}

/* A module for the object of layout L, named PATH (taken over), from
 * SOURCE, with the build-id PROBE read from the core. */
static int add_placed(struct cp_scan *s, const struct cp_module *probe,
                      const struct cp_image_layout *l, char *path, enum cp_name_source source,
                      enum cp_module_role role)
{
	struct cp_module *m = grow(&s->modules, &s->n_modules, sizeof(*m));
	if (!m) {
		free(path);
		return -ENOMEM;
	}
	*m = *probe;
	m->origin_path = path;
	m->start = l->start;
	m->end = l->end;
	m->role = role;
	m->code = 1;
	return add_name(s, m, path, source);
}

/* The object whose ELF header the core holds at L's header, as a probe
 * for pick_path(). */
static void probe_at(const struct cp_core *core, const struct cp_image_layout *l,
                     struct cp_module *probe)
{
	memset(probe, 0, sizeof(*probe));
	probe->header = l->header;
	probe->have_header = 1;
	probe->core_build_id_len =
	    cp_image_build_id(core, l->header, probe->core_build_id, sizeof(probe->core_build_id));
}

/*
 * Without NT_FILE, the executable: where it lies comes from its program
 * headers at AT_PHDR, its build-id from its dumped ELF header, and its
 * path from AT_EXECFN or the command line's first word (NT_PRPSINFO), as
 * pick_path() chooses; with -e, the file given.  *HOW says what was used.
 */
static int exe_from_auxv(const struct cp_core *core, const struct cp_scan_opts *o,
                         struct cp_scan *s, const char **how)
{
	const struct cp_notes *n = &core->notes;
	struct cp_image_layout l;
	struct cp_module probe;
	*how = NULL;
	if (!n->have_auxv || !n->at_phdr)
		return 0;
	int r = cp_image_from_phdr(core, n->at_phdr, n->at_phnum, &l);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || module_index(s, l.header) >= 0)
		return 0;
	probe_at(core, &l, &probe);
	if (o->executable) {
		char *abs = realpath(o->executable, NULL);
		if (!abs)
			return 0; /* scan() says it cannot open it */
		*how = "-e";
		return add_placed(s, &probe, &l, abs, CP_NAME_OPTION, CP_ROLE_EXECUTABLE);
	}
	char *cand[2] = {NULL, NULL};
	static const enum cp_name_source src[2] = {CP_NAME_EXECFN, CP_NAME_PRPSINFO};
	static const char *const cand_how[2][2] = {
	    {"AT_EXECFN", "AT_EXECFN, relative to the core's directory"},
	    {"the command line in NT_PRPSINFO",
	     "the command line in NT_PRPSINFO, relative to the core's directory"}};
	if (n->at_execfn)
		cand[0] =
		    cp_mem_read_string(cp_core_mem_read, (void *)core, n->at_execfn, CP_PATH_MAX);
	if (n->have_prpsinfo && n->psargs[0] &&
	    !(cand[1] = strndup(n->psargs, strcspn(n->psargs, " ")))) {
		free(cand[0]);
		return -ENOMEM;
	}
	int k = -1, relative = 0;
	char *path = pick_path(core, o, s, &probe, cand, 2, &k, &relative);
	free(cand[0]);
	free(cand[1]);
	if (!path)
		return 0;
	*how = cand_how[k][relative];
	return add_placed(s, &probe, &l, path, src[k], CP_ROLE_EXECUTABLE);
}

/* The dynamic loader's options that take a value (elf/rtld.c). */
static int loader_option_with_value(const char *w, size_t len)
{
	static const char *const opts[] = {
	    "--library-path",         "--preload",          "--audit", "--argv0",
	    "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strlen(opts[i]) == len && strncmp(w, opts[i], len) == 0)
			return 1;
	return 0;
}

/*
 * `ld.so PROGRAM` in a core without NT_FILE: the loader's first link_map
 * entry (the main map) has no name, but its l_addr is the program's load
 * bias, where a PIE's dumped ELF header lies; the path is the first
 * operand on the command line after the loader's options, as pick_path()
 * takes it.  Adds the program's module (role left to program_via_loader).
 */
static int program_from_main_map(const struct cp_core *core, const struct cp_scan_opts *o,
                                 struct cp_scan *s, const char **how)
{
	const struct cp_notes *n = &core->notes;
	const struct cp_linkmap *lm = s->linkmap;
	struct cp_image_layout l;
	struct cp_module probe;
	if (lm->n_entries == 0 || module_index(s, lm->entries[0].l_ld) >= 0 || !n->have_prpsinfo)
		return 0;
	int r = cp_image_from_header(core, lm->entries[0].l_addr, &l);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || lm->entries[0].l_ld < l.start || lm->entries[0].l_ld >= l.end)
		return 0;
	probe_at(core, &l, &probe);
	const char *w = n->psargs + strcspn(n->psargs, " "); /* past the loader */
	for (;;) {
		w += strspn(w, " ");
		size_t len = strcspn(w, " ");
		if (len == 0)
			return 0;
		if (strncmp(w, "--", 2) != 0)
			break;
		w += len;
		if (loader_option_with_value(w - len, len)) {
			w += strspn(w, " ");
			w += strcspn(w, " ");
		}
	}
	char *cand = strndup(w, strcspn(w, " "));
	if (!cand)
		return -ENOMEM;
	int k = -1, relative = 0;
	char *path = pick_path(core, o, s, &probe, &cand, 1, &k, &relative);
	free(cand);
	if (!path)
		return 0;
	*how = relative ? "the command line in NT_PRPSINFO (after the loader), relative to the "
	                  "core's directory"
	                : "the command line in NT_PRPSINFO (after the loader)";
	return add_placed(s, &probe, &l, path, CP_NAME_PRPSINFO, CP_ROLE_LIBRARY);
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

/* No build-id on one side or both: what the core holds of the object
 * decides (image.h).  WHY says which build-id is missing. */
static int check_content(const struct cp_core *core, struct cp_scan *s, struct cp_module *m,
                         const char *why)
{
	struct cp_image_match mt = {0};
	struct cp_error e = {0};
	if (m->have_header) {
		int r = cp_image_compare(core, m->header, m->given ? NULL : &s->access,
		                         m->host_path, &mt, &e);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			m->status = CP_STATUS_MISMATCH;
			m->status_detail = strdup(e.msg);
			return m->status_detail ? 0 : -ENOMEM;
		}
	}
	if (mt.differs) {
		m->status = CP_STATUS_MISMATCH;
		if (asprintf(&m->status_detail,
		             "%s, and the core's copy of it differs from the file at offset 0x%llx",
		             why, (unsigned long long)mt.diff_offset) < 0)
			m->status_detail = NULL;
		return m->status_detail ? 0 : -ENOMEM;
	}
	if (mt.bytes) {
		m->status = CP_STATUS_OK;
		m->verified_by = CP_VERIFY_CONTENT;
		if (asprintf(&m->status_detail,
		             "%s; the core's %llu byte%s of it (%llu page%s%s) equal the file", why,
		             (unsigned long long)mt.bytes, mt.bytes == 1 ? "" : "s",
		             (unsigned long long)mt.pages, mt.pages == 1 ? "" : "s",
		             mt.headers_only ? ", headers only: it has text relocations" : "") < 0)
			m->status_detail = NULL;
		return m->status_detail ? 0 : -ENOMEM;
	}
	m->status = m->file_build_id_len ? CP_STATUS_UNVERIFIED : CP_STATUS_NO_BUILD_ID;
	if (asprintf(&m->status_detail, "%s, and the core holds none of its pages to compare",
	             why) < 0)
		return -ENOMEM;
	if (m->role == CP_ROLE_THREAD_DB)
		return 0; /* never mapped: add_thread_db() vouches for it */
	return warn(s, "'%s': %s: %s; packed unchecked", m->host_path, cp_status_name(m->status),
	            m->status_detail);
}

/*
 * A live process's object through its map_files entry (access.h): the
 * very file mapped, found under its NT_FILE name (a canonical path, the
 * kernel's d_path) whatever is at that path now.  Returns the descriptor;
 * -EAGAIN when there is no such route (no live process, no NT_FILE, the
 * entry cannot be opened: not root, unmapped since), for the path to be
 * tried as ever; -EACCES (refused: the owners may not read the file),
 * -ENOMEM.
 */
static int open_mapped(const struct cp_scan_opts *o, struct cp_scan *s, struct cp_module *m,
                       struct stat *st, struct cp_error *e)
{
	if (!o->map_files || !m->map_hi)
		return -EAGAIN;
	char *host = NULL;
	if (asprintf(&host, "%s/%llx-%llx", o->map_files, (unsigned long long)m->map_lo,
	             (unsigned long long)m->map_hi) < 0)
		return -ENOMEM;
	int fd = cp_access_open(&s->access, host, NULL, st, e);
	if (fd < 0) {
		free(host);
		return fd == -ENOMEM || fd == -EACCES ? fd : -EAGAIN;
	}
	m->real_path = cp_path_normalize(m->origin_path);
	if (!m->real_path) {
		close(fd);
		free(host);
		return -ENOMEM;
	}
	m->host_path = host;
	m->via_map_files = 1;
	return fd;
}

/* Find the file, compare build-ids (or contents), set status. */
static int check_module(const struct cp_core *core, const struct cp_scan_opts *o, struct cp_scan *s,
                        struct cp_module *m)
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
	} else if ((fd = open_mapped(o, s, m, &st, &e)) != -EAGAIN) {
		if (fd == -ENOMEM)
			return fd;
		if (fd < 0)
			return module_missing(s, m, e.msg, "refused, not packed");
	} else {
		struct cp_resolved *res = NULL;
		cp_error_clear(&e);
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
			m->verified_by = CP_VERIFY_BUILD_ID;
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
	} else {
		char why[2 * CP_BUILD_ID_MAX + 64];
		if (m->file_build_id_len)
			snprintf(why, sizeof(why),
			         "the core holds no build-id for it (the file has %s)", file_hex);
		else
			snprintf(why, sizeof(why), "no build-id in the core or the file");
		if ((r = check_content(core, s, m, why)) < 0 || m->status != CP_STATUS_MISMATCH)
			return r;
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
static int add_thread_db(const struct cp_core *core, const struct cp_scan_opts *o,
                         struct cp_scan *s)
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
		r = check_module(core, o, s, m);
	if (r == 0 && m->status == CP_STATUS_UNVERIFIED) {
		/* Not mapped, so the core cannot vouch for it; it comes from the
		 * same directory as the libc that was verified. */
		free(m->status_detail);
		m->status_detail = NULL;
		m->status = CP_STATUS_OK;
		m->verified_by = CP_VERIFY_BESIDE_LIBC;
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

/* Ask the debuginfod servers for M's debug file, found nowhere here;
 * one warning when none has it.  Errors: -ENOMEM. */
static int fetch_debug(struct cp_remote *remote, struct cp_scan *s, struct cp_module *m)
{
	struct cp_error e = {0};
	int r = cp_debug_fetch(remote, m->file_build_id, m->file_build_id_len, m->debug, &e);
	if (r == -ENOMEM)
		return r;
	if (r == -ENOENT)
		return warn(s, "'%s': no debug file here, and no debuginfod server has one",
		            m->real_path);
	if (r < 0)
		return warn(s, "'%s': %s", m->real_path, e.msg);
	return 0;
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
			r = add_link(s, m, link, base_name(m->real_path));
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
		else if (o->remote && !m->debug->file && !m->debug->has_own_debug_info &&
		         m->file_build_id_len > 0 && (r = fetch_debug(o->remote, s, m)) < 0)
			break;
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

/*
 * No link_map through the executable's DT_DEBUG (the kernel's executable
 * is the loader itself, started as `ld.so PROGRAM`, or the program has no
 * usable DT_DEBUG): the loader's own `_r_debug` leads to the same lists.
 * LOADER is the dynamic loader's module, checked.  Sets *FOUND.
 */
static int linkmap_from_loader(const struct cp_core *core, struct cp_scan *s,
                               const struct cp_module *loader, int *found, struct cp_error *err)
{
	uint64_t rd;
	struct cp_linkmap *lm = NULL;
	*found = 0;
	if (!loader || !cp_module_packable(loader) || !loader->have_header ||
	    cp_image_symbol(core, &s->access, loader->host_path, loader->header, "_r_debug", &rd,
	                    NULL) < 0)
		return 0;
	int r = cp_linkmap_walk_from(cp_core_mem_read, (void *)core, core->is64, core->big_endian,
	                             rd, &lm, err);
	if (r < 0)
		return r;
	if (lm->n_entries == 0) {
		cp_linkmap_free(lm);
		return 0;
	}
	cp_linkmap_free(s->linkmap);
	s->linkmap = lm;
	*found = 1;
	return 0;
}

/*
 * `ld.so PROGRAM`: the kernel's executable is the loader, and the program
 * is the loader's first link_map entry (the main map), found by where its
 * dynamic section lies.  Swap the roles: the program is the executable,
 * the loader its interpreter.  Returns the program's index, or -1.
 */
static long program_via_loader(const struct cp_core *core, struct cp_scan *s, long kexe)
{
	const struct cp_linkmap *lm = s->linkmap;
	if (kexe < 0 || core->notes.at_base != 0 || lm->n_entries == 0)
		return -1;
	long prog = module_index(s, lm->entries[0].l_ld);
	if (prog < 0 || prog == kexe)
		return -1;
	s->modules[prog].role = CP_ROLE_EXECUTABLE;
	s->modules[kexe].role = CP_ROLE_INTERPRETER;
	s->via_loader = 1;
	s->program_bias = lm->entries[0].l_addr;
	return prog;
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
	if (o->have_owner)
		cp_access_set_owner(&s->access, o->owner_uid, o->owner_gid, geteuid());
	s->access.map_files = o->map_files;
	s->access.trusted = o->debug_roots;
	s->access.n_trusted = o->n_debug_roots;
	int r = cp_linkmap_walk(cp_core_mem_read, (void *)core, core->is64, core->big_endian, n,
	                        &s->linkmap, err);
	if (r < 0)
		return r;
	s->vdso = n->at_sysinfo_ehdr;
	scan_vdso(core, s);
	const char *exe_how = NULL;
	if (n->have_file)
		r = modules_from_nt_file(core, o, s, idx);
	else if ((r = modules_from_linkmap(core, s)) == 0)
		r = exe_from_auxv(core, o, s, &exe_how);
	if (r < 0)
		return r;

	/* Roles: the kernel's executable (AT_PHDR) and its interpreter
	 * (AT_BASE); by index, as the array grows below. */
	long kexe = n->have_auxv ? module_index(s, n->at_phdr) : -1;
	if (kexe < 0 && n->have_auxv)
		kexe = module_index(s, n->at_entry);
	if (kexe >= 0)
		s->modules[kexe].role = CP_ROLE_EXECUTABLE;
	long interp = n->at_base ? module_index(s, n->at_base) : -1;
	if (interp >= 0 && interp != kexe)
		s->modules[interp].role = CP_ROLE_INTERPRETER;
	if (kexe < 0 && o->executable) {
		char *abs = realpath(o->executable, NULL);
		struct cp_module *exe = abs ? grow(&s->modules, &s->n_modules, sizeof(*exe)) : NULL;
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
	} else if (kexe < 0) {
		r = warn(s, "'%s': cannot tell which object is the executable; use -e", core->path);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_modules; i++) {
		if ((r = check_module(core, o, s, &s->modules[i])) < 0)
			return r;
	}

	/* No list through DT_DEBUG: through the loader's _r_debug. */
	int from_loader = 0;
	const char *dt_debug_why = s->linkmap->why; /* a static phrase */
	if (s->linkmap->n_entries == 0) {
		long loader = interp >= 0 ? interp : n->at_base == 0 ? kexe : -1;
		if ((r = linkmap_from_loader(core, s, loader >= 0 ? &s->modules[loader] : NULL,
		                             &from_loader, err)) < 0)
			return r;
		size_t before = s->n_modules;
		if (from_loader && !n->have_file &&
		    ((r = modules_from_linkmap(core, s)) < 0 ||
		     (n->at_base == 0 && (r = program_from_main_map(core, o, s, &exe_how)) < 0)))
			return r;
		for (size_t i = before; i < s->n_modules; i++)
			if ((r = check_module(core, o, s, &s->modules[i])) < 0)
				return r;
	}
	long prog = from_loader ? program_via_loader(core, s, kexe) : -1;
	if (s->linkmap->n_entries == 0 && s->linkmap->why &&
	    (r = warn(s, "'%s': no link_map names: %s", core->path, s->linkmap->why)) < 0)
		return r;
	if (from_loader && prog < 0 &&
	    (r = warn(s,
	              "'%s': no link_map through the executable's DT_DEBUG (%s); the libraries "
	              "were found through the dynamic loader's _r_debug",
	              core->path, dt_debug_why ? dt_debug_why : "none")) < 0)
		return r;

	/* Names from the loader's list, matched by where their dynamic
	 * section lies. */
	for (size_t i = 0; n->have_file && i < s->linkmap->n_entries; i++) {
		const struct cp_linkmap_entry *e = &s->linkmap->entries[i];
		struct cp_module *m = e->name[0] ? module_at(s, idx, e->l_ld) : NULL;
		if (m && (r = add_name(s, m, e->name, CP_NAME_LINK_MAP)) < 0)
			return r;
	}
	struct cp_module *exe = NULL;
	for (size_t i = 0; i < s->n_modules; i++)
		if (s->modules[i].role == CP_ROLE_EXECUTABLE)
			exe = &s->modules[i];
	/* AT_EXECFN names what the kernel executed: the loader, for
	 * `ld.so PROGRAM`. */
	struct cp_module *kx = kexe >= 0 ? &s->modules[kexe] : exe;
	if (kx && n->at_execfn) {
		char *fn =
		    cp_mem_read_string(cp_core_mem_read, (void *)core, n->at_execfn, CP_PATH_MAX);
		if (fn && fn[0] == '/')
			r = add_name(s, kx, fn, CP_NAME_EXECFN);
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
	if (prog >= 0) {
		const struct cp_module *pm = &s->modules[prog], *lm = &s->modules[kexe];
		r = warn(s,
		         "'%s': the process was started through the dynamic loader ('%s'): the "
		         "program is '%s' (the loader's first link_map entry, at bias 0x%llx), and "
		         "the libraries were found through the loader's _r_debug; run-gdb.sh loads "
		         "the loader and the program's symbols",
		         core->path, n->have_prpsinfo ? n->psargs : lm->origin_path,
		         pm->origin_path, (unsigned long long)s->program_bias);
		if (r < 0)
			return r;
	}
	if (!n->have_file) {
		size_t from_lm = 0;
		for (size_t i = 0; i < s->n_modules; i++)
			from_lm += s->modules[i].names &&
			           s->modules[i].names[0].source == CP_NAME_LINK_MAP;
		r = warn(s,
		         "'%s': the core has no NT_FILE note (the kernel leaves it out past about "
		         "65,000 mappings; old kernels and some dumpers write none): %zu libraries "
		         "were taken from the loader's link_map%s and placed by the ELF headers "
		         "dumped in the core; the executable %s%s",
		         core->path, from_lm, from_loader ? " (through its _r_debug)" : "",
		         exe_how ? "from " : "", exe_how ? exe_how : "was not found");
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_modules; i++) {
		struct cp_module *m = &s->modules[i];
		/* A relative name is found through solib-search-path
		 * (cp_scan_solib_dirs()), not by a link. */
		for (size_t k = 0; cp_module_packable(m) && k < m->n_names; k++)
			if (m->names[k].path[0] == '/' &&
			    (r = link_name(s, m, m->names[k].path)) < 0)
				return r;
	}
	if ((r = relative_names(s)) < 0 || (r = add_thread_db(core, o, s)) < 0)
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

const struct cp_module *cp_scan_loader(const struct cp_scan *s)
{
	for (size_t i = 0; s->via_loader && i < s->n_modules; i++)
		if (s->modules[i].role == CP_ROLE_INTERPRETER)
			return &s->modules[i];
	return NULL;
}
