/*
 * What gdb needs beside the objects themselves, for the scan (modules.c):
 * the libthread_db beside the process's libc, and each packable object's
 * separate debug files (debuginfo.h) and split DWARF (splitdwarf.h), with
 * the names they would be stored under checked and each split DWARF file
 * gdb will not find warned about.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/layout.h"
#include "corepack/modules.h"
#include "modules_private.h"

static int is_libc(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	return strcmp(b, "libc.so.6") == 0 || (strncmp(b, "libc-", 5) == 0 && strstr(b, ".so"));
}

/* The libthread_db beside the crashed process's libc, from the same origin. */
int cp_mod_add_thread_db(const struct cp_core *core, const struct cp_scan_opts *o,
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
		r = host ? cp_mod_warn(s,
		                       "'%s': no libthread_db beside the process's libc; threads "
		                       "will be debugged with the debugging host's",
		                       host)
		         : -ENOMEM;
		free(host);
		free(path);
		return r;
	}
	struct cp_module *m = cp_mod_grow(&s->modules, &s->n_modules, sizeof(*m));
	if (!m) {
		free(path);
		return -ENOMEM;
	}
	m->origin_path = path;
	m->role = CP_ROLE_THREAD_DB;
	r = cp_mod_add_name(s, m, path, CP_NAME_LIBC_DIR);
	if (r == 0)
		r = cp_mod_check_module(core, o, s, m);
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
 * can hold (cp_mod_name_problem()), or the file is left out. */
static int check_debug_names(struct cp_scan *s, struct cp_module *m)
{
	struct cp_debug_result *d = m->debug;
	const char *why;
	if (d->file && (why = cp_mod_name_problem(d->file->host_path)) != NULL) {
		int r = cp_mod_warn(s, "'%s': debug file of '%s' %s: not packed",
		                    d->file->host_path, m->real_path, why);
		cp_debug_file_free(d->file);
		cp_debug_file_free(d->alt);
		d->file = d->alt = NULL;
		d->alt_missing = 0;
		return r;
	}
	if (d->alt && (why = cp_mod_name_problem(d->alt->host_path)) != NULL) {
		int r = cp_mod_warn(s, "'%s': dwz file of '%s' %s: not packed", d->alt->host_path,
		                    m->real_path, why);
		cp_debug_file_free(d->alt);
		d->alt = NULL;
		d->alt_missing = 1;
		return r;
	}
	if (d->debuglink && (cp_bundle_has_control(d->debuglink) ||
	                     cp_bundle_component_problem(d->debuglink, strlen(d->debuglink)))) {
		int r = cp_mod_warn(
		    s, "'%s': .gnu_debuglink name cannot be stored in a bundle: ignored",
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

/* At most this many split DWARF files are named, per object, as missing. */
#define SPLIT_NAMED_MAX 32

/* Ask the debuginfod servers for M's debug file, found nowhere here;
 * one warning when none has it.  Errors: -ENOMEM. */
static int fetch_debug(struct cp_remote *remote, struct cp_scan *s, struct cp_module *m)
{
	struct cp_error e = {0};
	int r = cp_debug_fetch(remote, m->file_build_id, m->file_build_id_len, m->debug, &e);
	if (r == -ENOMEM)
		return r;
	if (r == -ENOENT)
		return cp_mod_warn(s, "'%s': no debug file here, and no debuginfod server has one",
		                   m->real_path);
	if (r < 0)
		return cp_mod_warn(s, "'%s': %s", m->real_path, e.msg);
	return 0;
}

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
			r = cp_mod_warn(
			    s,
			    "'%s': its DWARF package '%s' has no unit with DWO id %016llx "
			    "('%s'): no source lines or variables for that code",
			    m->real_path, sp->dwp->host_path, (unsigned long long)u->dwo_id,
			    u->dwo_name);
		else if (u->stale)
			r = cp_mod_warn(
			    s,
			    "'%s': split DWARF file '%s' is not the one built with it (another "
			    "DWO id than %016llx): not packed; no source lines or variables for "
			    "that code",
			    m->real_path, u->stale, (unsigned long long)u->dwo_id);
		else
			r = cp_mod_warn(
			    s,
			    "'%s': split DWARF file '%s' (compilation directory '%s', DWO id "
			    "%016llx) not found: no source lines or variables for that code",
			    m->real_path, u->dwo_name, u->comp_dir ? u->comp_dir : "-",
			    (unsigned long long)u->dwo_id);
	}
	if (r == 0 && sp && named > SPLIT_NAMED_MAX)
		r = cp_mod_warn(s, "'%s': %zu more split DWARF files not found", m->real_path,
		                named - SPLIT_NAMED_MAX);
	if (r == 0 && sp && sp->n_skipped)
		r = cp_mod_warn(
		    s,
		    "'%s': more than %d skeleton units; the split DWARF of %zu more was not "
		    "looked for",
		    m->real_path, CP_SPLIT_MAX_UNITS, sp->n_skipped);
	return r;
}

int cp_mod_find_debug(const struct cp_scan_opts *o, struct cp_scan *s)
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
			r = cp_mod_warn(s, "%s", e.msg);
		else if ((r = check_debug_names(s, m)) < 0)
			break;
		else if (o->remote && !m->debug->file && !m->debug->has_own_debug_info &&
		         m->file_build_id_len > 0 && (r = fetch_debug(o->remote, s, m)) < 0)
			break;
		else if (m->debug->alt_missing)
			r = cp_mod_warn(
			    s, "'%s': its debug file names a dwz file '%s' that was not found",
			    m->real_path, m->debug->alt_name ? m->debug->alt_name : "?");
		if (r == 0 && m->debug)
			r = find_split(&search, s, m);
	}
	free(sys_debug);
	free(roots);
	return r;
}
