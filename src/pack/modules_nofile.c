/*
 * Finding the objects of a core without an NT_FILE note (an old kernel or
 * dumper, or more mappings than the kernel's note size limit allows), for
 * the scan (modules.c): the loader's link_map names the libraries and the
 * ELF headers dumped in the core place them; the executable is placed by
 * AT_PHDR and named by AT_EXECFN or the command line, as pick_path()
 * proves.  And when the executable's DT_DEBUG gives no link_map, the
 * loader's own _r_debug gives it, with `ld.so PROGRAM` telling the program
 * from the loader.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corepack/access.h"
#include "corepack/image.h"
#include "corepack/modules.h"
#include "modules_private.h"

/* Without NT_FILE (an old kernel or dumper, or a process with more
 * mappings than the kernel's note size limit allows), the loader's list
 * names the libraries; where each lies, and its build-id, come from the
 * ELF header dumped at its l_addr (shared objects are linked at 0). */
int cp_mod_from_linkmap(const struct cp_core *core, struct cp_scan *s)
{
	const struct cp_linkmap *lm = s->linkmap;
	for (size_t i = 0; lm && i < lm->n_entries; i++) {
		const struct cp_linkmap_entry *e = &lm->entries[i];
		if (e->name[0] != '/')
			continue;
		const char *why = cp_mod_name_problem(e->name);
		if (!why && s->n_modules >= CP_MOD_MAX_OBJECTS)
			why = "is past the number of objects a bundle holds";
		if (why) {
			if (cp_mod_warn(s, "'%s': link_map name %s: not packed", e->name, why) < 0)
				return -ENOMEM;
			continue;
		}
		int dup = 0;
		for (size_t k = 0; k < s->n_modules && !dup; k++)
			dup = strcmp(s->modules[k].origin_path, e->name) == 0;
		if (dup)
			continue;
		struct cp_module *m = cp_mod_grow(&s->modules, &s->n_modules, sizeof(*m));
		if (!m || !(m->origin_path = strdup(e->name)))
			return -ENOMEM;
		m->start = e->l_addr;
		m->code = 1;
		if (cp_mod_add_name(s, m, e->name, CP_NAME_LINK_MAP) < 0)
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
 * that, the first absolute one, for cp_mod_check_module() to judge; a relative
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
	struct cp_module *m = cp_mod_grow(&s->modules, &s->n_modules, sizeof(*m));
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
	return cp_mod_add_name(s, m, path, source);
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
int cp_mod_exe_from_auxv(const struct cp_core *core, const struct cp_scan_opts *o,
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
	if (r < 0 || cp_mod_index(s, l.header) >= 0)
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
int cp_mod_program_from_main_map(const struct cp_core *core, const struct cp_scan_opts *o,
                                 struct cp_scan *s, const char **how)
{
	const struct cp_notes *n = &core->notes;
	const struct cp_linkmap *lm = s->linkmap;
	struct cp_image_layout l;
	struct cp_module probe;
	if (lm->n_entries == 0 || cp_mod_index(s, lm->entries[0].l_ld) >= 0 || !n->have_prpsinfo)
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

/*
 * No link_map through the executable's DT_DEBUG (the kernel's executable
 * is the loader itself, started as `ld.so PROGRAM`, or the program has no
 * usable DT_DEBUG): the loader's own `_r_debug` leads to the same lists.
 * LOADER is the dynamic loader's module, checked.  Sets *FOUND.
 */
int cp_mod_linkmap_from_loader(const struct cp_core *core, struct cp_scan *s,
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
long cp_mod_program_via_loader(const struct cp_core *core, struct cp_scan *s, long kexe)
{
	const struct cp_linkmap *lm = s->linkmap;
	if (kexe < 0 || core->notes.at_base != 0 || lm->n_entries == 0)
		return -1;
	long prog = cp_mod_index(s, lm->entries[0].l_ld);
	if (prog < 0 || prog == kexe)
		return -1;
	s->modules[prog].role = CP_ROLE_EXECUTABLE;
	s->modules[kexe].role = CP_ROLE_INTERPRETER;
	s->via_loader = 1;
	s->program_bias = lm->entries[0].l_addr;
	return prog;
}
