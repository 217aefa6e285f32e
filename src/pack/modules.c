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
 *
 * This file holds the scan itself (NT_FILE, the roles, the order of the
 * steps), the helpers its parts share (modules_private.h) and the public
 * API; objects without NT_FILE are found in modules_nofile.c, files
 * checked in modules_check.c, names made to work in modules_names.c, and
 * debug files and libthread_db looked up in modules_debug.c.
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
#include "modules_private.h"

static const char deleted_suffix[] = " (deleted)";

/* Names kept per object: real objects have a handful (NT_FILE, link_map,
 * PT_INTERP, AT_EXECFN); a crafted link_map could give one thousands. */
#define MAX_NAMES 64

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
void *cp_mod_grow(void *arrp, size_t *n, size_t size)
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

int cp_mod_warn(struct cp_scan *s, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	char **w = cp_mod_grow(&s->warnings, &s->n_warnings, sizeof(*w));
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
const char *cp_mod_name_problem(const char *path)
{
	const char *why;
	if (cp_bundle_path_check(path, 1, &why) < 0)
		return why;
	if (strlen(path) > CP_BUNDLE_MAX_ORIGIN_PATH)
		return "is too long for a bundle";
	return NULL;
}

int cp_mod_add_name(struct cp_scan *s, struct cp_module *m, const char *path,
                    enum cp_name_source source)
{
	for (size_t i = 0; i < m->n_names; i++)
		if (strcmp(m->names[i].path, path) == 0)
			return 0;
	/* The loader may have known an object by a relative name (a DT_NEEDED
	 * of "../lib/libx.so", dlopen("./plugin.so")): kept as it was, for
	 * cp_mod_relative_names(); it is never a path in the bundle. */
	const char *why = NULL;
	if (source == CP_NAME_LINK_MAP && path[0] && path[0] != '/') {
		if (cp_bundle_has_control(path))
			why = "has a control character";
		else if (strlen(path) > CP_BUNDLE_MAX_ORIGIN_PATH)
			why = "is too long for a bundle";
	} else {
		why = cp_mod_name_problem(path);
	}
	if (why)
		return cp_mod_warn(s, "'%s': %s name %s: not used", path,
		                   cp_name_source_name(source), why);
	if (m->n_names == MAX_NAMES)
		return cp_mod_warn(s, "'%s': more than %d names; '%s' and later ones are not used",
		                   m->origin_path, MAX_NAMES, path);
	char *p = strdup(path);
	struct cp_name *nm = p ? cp_mod_grow(&m->names, &m->n_names, sizeof(*nm)) : NULL;
	if (!nm) {
		free(p);
		return -ENOMEM;
	}
	nm->path = p;
	nm->source = source;
	return 0;
}

int cp_mod_add_link(struct cp_scan *s, struct cp_module *m, const char *path, const char *target)
{
	for (size_t i = 0; i < m->n_links; i++)
		if (strcmp(m->links[i].path, path) == 0)
			return 0;
	const char *why = cp_mod_name_problem(path);
	if (!why && (cp_bundle_has_control(target) || strlen(target) > CP_BUNDLE_MAX_PATH))
		why = "has a target coreunpack would refuse";
	if (why)
		return cp_mod_warn(s, "'%s': symlink %s: not packed", path, why);
	char *p = strdup(path), *t = strdup(target);
	struct cp_link *l = p && t ? cp_mod_grow(&m->links, &m->n_links, sizeof(*l)) : NULL;
	if (!l) {
		free(p);
		free(t);
		return -ENOMEM;
	}
	l->path = p;
	l->target = t;
	return 0;
}

int cp_mod_add_links(struct cp_scan *s, struct cp_module *m, const struct cp_resolved *r)
{
	for (size_t i = 0; i < r->n_links; i++)
		if (cp_mod_add_link(s, m, r->links[i].path, r->links[i].target) < 0)
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
long cp_mod_index(const struct cp_scan *s, uint64_t addr)
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
		const char *why = cp_mod_name_problem(path);
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
		if (why &&
		    (r = cp_mod_warn(s, "'%s': mapped file name %s: not packed", path, why)) < 0)
			return free(path), free(sorted), r;
		if (elf && s->n_modules == CP_MOD_MAX_OBJECTS && !capped++) {
			r = cp_mod_warn(
			    s,
			    "'%s': more than %d objects, more than a bundle holds: this and "
			    "the later ones (by name) are not packed",
			    path, CP_MOD_MAX_OBJECTS);
			if (r < 0)
				return free(path), free(sorted), r;
		}
		if (!elf || s->n_modules >= CP_MOD_MAX_OBJECTS) {
			struct cp_other_mapping *om =
			    cp_mod_grow(&s->others, &s->n_others, sizeof(*om));
			if (!om)
				return free(path), free(sorted), -ENOMEM;
			*om = (struct cp_other_mapping){path, start, end};
			continue;
		}
		struct cp_module *m = cp_mod_grow(&s->modules, &s->n_modules, sizeof(*m));
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
		r = cp_mod_add_name(s, m, path, CP_NAME_NT_FILE);
	}
	qsort(idx->refs, idx->n, sizeof(*idx->refs), cmp_map_ref);
	free(sorted);
	return r;
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
	else if ((r = cp_mod_from_linkmap(core, s)) == 0)
		r = cp_mod_exe_from_auxv(core, o, s, &exe_how);
	if (r < 0)
		return r;

	/* Roles: the kernel's executable (AT_PHDR) and its interpreter
	 * (AT_BASE); by index, as the array grows below. */
	long kexe = n->have_auxv ? cp_mod_index(s, n->at_phdr) : -1;
	if (kexe < 0 && n->have_auxv)
		kexe = cp_mod_index(s, n->at_entry);
	if (kexe >= 0)
		s->modules[kexe].role = CP_ROLE_EXECUTABLE;
	long interp = n->at_base ? cp_mod_index(s, n->at_base) : -1;
	if (interp >= 0 && interp != kexe)
		s->modules[interp].role = CP_ROLE_INTERPRETER;
	if (kexe < 0 && o->executable) {
		char *abs = realpath(o->executable, NULL);
		struct cp_module *exe =
		    abs ? cp_mod_grow(&s->modules, &s->n_modules, sizeof(*exe)) : NULL;
		if (!exe) {
			free(abs);
			return cp_error_set(err, errno ? errno : ENOMEM, "cannot open '%s': %s",
			                    o->executable, strerror(errno ? errno : ENOMEM));
		}
		exe->origin_path = abs;
		exe->role = CP_ROLE_EXECUTABLE;
		exe->code = 1;
		if ((r = cp_mod_add_name(s, exe, abs, CP_NAME_OPTION)) < 0)
			return r;
	} else if (kexe < 0) {
		r = cp_mod_warn(s, "'%s': cannot tell which object is the executable; use -e",
		                core->path);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < s->n_modules; i++) {
		if ((r = cp_mod_check_module(core, o, s, &s->modules[i])) < 0)
			return r;
	}

	/* No list through DT_DEBUG: through the loader's _r_debug. */
	int from_loader = 0;
	const char *dt_debug_why = s->linkmap->why; /* a static phrase */
	if (s->linkmap->n_entries == 0) {
		long loader = interp >= 0 ? interp : n->at_base == 0 ? kexe : -1;
		if ((r = cp_mod_linkmap_from_loader(
		         core, s, loader >= 0 ? &s->modules[loader] : NULL, &from_loader, err)) < 0)
			return r;
		size_t before = s->n_modules;
		if (from_loader && !n->have_file &&
		    ((r = cp_mod_from_linkmap(core, s)) < 0 ||
		     (n->at_base == 0 &&
		      (r = cp_mod_program_from_main_map(core, o, s, &exe_how)) < 0)))
			return r;
		for (size_t i = before; i < s->n_modules; i++)
			if ((r = cp_mod_check_module(core, o, s, &s->modules[i])) < 0)
				return r;
	}
	long prog = from_loader ? cp_mod_program_via_loader(core, s, kexe) : -1;
	if (s->linkmap->n_entries == 0 && s->linkmap->why &&
	    (r = cp_mod_warn(s, "'%s': no link_map names: %s", core->path, s->linkmap->why)) < 0)
		return r;
	if (from_loader && prog < 0 &&
	    (r = cp_mod_warn(
	         s,
	         "'%s': no link_map through the executable's DT_DEBUG (%s); the libraries "
	         "were found through the dynamic loader's _r_debug",
	         core->path, dt_debug_why ? dt_debug_why : "none")) < 0)
		return r;

	/* Names from the loader's list, matched by where their dynamic
	 * section lies. */
	for (size_t i = 0; n->have_file && i < s->linkmap->n_entries; i++) {
		const struct cp_linkmap_entry *e = &s->linkmap->entries[i];
		struct cp_module *m = e->name[0] ? module_at(s, idx, e->l_ld) : NULL;
		if (m && (r = cp_mod_add_name(s, m, e->name, CP_NAME_LINK_MAP)) < 0)
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
			r = cp_mod_add_name(s, kx, fn, CP_NAME_EXECFN);
		free(fn);
		if (r < 0)
			return r;
	}
	if (exe && exe->host_path) {
		char *pt_interp = read_pt_interp(s, exe);
		for (size_t i = 0; pt_interp && pt_interp[0] == '/' && i < s->n_modules && r == 0;
		     i++)
			if (s->modules[i].role == CP_ROLE_INTERPRETER)
				r = cp_mod_add_name(s, &s->modules[i], pt_interp,
				                    CP_NAME_PT_INTERP);
		free(pt_interp);
		if (r < 0)
			return r;
	}
	if (prog >= 0) {
		const struct cp_module *pm = &s->modules[prog], *lm = &s->modules[kexe];
		r = cp_mod_warn(
		    s,
		    "'%s': the process was started through the dynamic loader ('%s'): the "
		    "program is '%s' (the loader's first link_map entry, at bias 0x%llx), and "
		    "the libraries were found through the loader's _r_debug; run-gdb.sh loads "
		    "the loader and the program's symbols",
		    core->path, n->have_prpsinfo ? n->psargs : lm->origin_path, pm->origin_path,
		    (unsigned long long)s->program_bias);
		if (r < 0)
			return r;
	}
	if (!n->have_file) {
		size_t from_lm = 0;
		for (size_t i = 0; i < s->n_modules; i++)
			from_lm += s->modules[i].names &&
			           s->modules[i].names[0].source == CP_NAME_LINK_MAP;
		r = cp_mod_warn(
		    s,
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
			    (r = cp_mod_link_name(s, m, m->names[k].path)) < 0)
				return r;
	}
	if ((r = cp_mod_relative_names(s)) < 0 || (r = cp_mod_add_thread_db(core, o, s)) < 0)
		return r;
	if (!o->no_debug && (r = cp_mod_find_debug(o, s)) < 0)
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
