/*
 * Making the names the loader and the kernel knew each object by work in
 * the bundle, for the scan (modules.c): an absolute name becomes the
 * symlinks met resolving it, or a link to the file; a relative one (a
 * DT_NEEDED of "../lib/libx.so", dlopen("./plugin.so")) puts the file's
 * directory into the bundle's solib-search-path, with a warning where gdb
 * would find another file first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/layout.h"
#include "corepack/modules.h"
#include "corepack/scripts.h"
#include "modules_private.h"

/*
 * Make NAME resolve to the module's file inside the bundle: usually the
 * symlinks met while resolving it are enough; when the name leads
 * elsewhere on this machine (or nowhere), add a link from it to the file.
 */
int cp_mod_link_name(struct cp_scan *s, struct cp_module *m, const char *name)
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
		return cp_mod_warn(s, "'%s': %s; the name is not reproduced in the bundle", name,
		                   e.msg);
	if (r == 0 && res->exists && strcmp(res->real, m->real_path) == 0) {
		r = cp_mod_add_links(s, m, res);
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
		return cp_mod_warn(s, "'%s': %s; the name is not reproduced in the bundle", name,
		                   e.msg);
	}
	if (r == 0) {
		parent = strdup(res->real);
		r = cp_mod_add_links(s, m, res);
	} else {
		parent = strdup(dir);
		r = 0;
	}
	cp_resolved_free(res);
	char *link = NULL, *target = NULL;
	if (r == 0 && parent &&
	    asprintf(&link, "%s/%s", strcmp(parent, "/") ? parent : "", slash + 1) >= 0 &&
	    (target = cp_path_relative(parent, m->real_path)))
		r = cp_mod_add_link(s, m, link, target);
	else if (r == 0)
		r = -ENOMEM;
	free(norm);
	free(parent);
	free(link);
	free(target);
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
			r = cp_mod_warn(
			    s,
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
		r = cp_mod_warn(
		    s,
		    "'%s': the loader knew it as '%s', which gdb cannot be pointed at in the "
		    "bundle (%s): gdb will not load it",
		    m->real_path, name, why);
	} else if (strcmp(base, base_name(m->real_path)) != 0) {
		if (asprintf(&link, "%s/%s", strcmp(dir, "/") ? dir : "", base) < 0) {
			link = NULL;
			r = -ENOMEM;
		} else if ((taken = path_taken(s, m, link))) {
			r = cp_mod_warn(
			    s,
			    "'%s': the loader knew it as '%s', but '%s' is another file: gdb "
			    "will load that one",
			    m->real_path, name, link);
		} else {
			r = cp_mod_add_link(s, m, link, base_name(m->real_path));
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
int cp_mod_relative_names(struct cp_scan *s)
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
