/*
 * Finding the gdb auto-load scripts of the packed objects and the Python
 * package gcc's libstdc++ script imports (autoload.h).  Everything here is
 * read from the crashed machine's tree (the sysroot): files are opened as
 * regular files only, read whole under a cap, and the package directory
 * named in a script is an origin path like any other, looked up under the
 * sysroot, walked without following symlinks and capped in depth, files
 * and bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/autoload.h"
#include "corepack/io.h"
#include "corepack/layout.h"
#include "corepack/strv.h"
#include "corepack/resolve.h"

static int warn(struct cp_autoload *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int warn(struct cp_autoload *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = cp_strv_vaddf(&a->warnings, &a->n_warnings, fmt, ap);
	va_end(ap);
	return r;
}

/* Add a file (HOST taken over) unless its origin path is there already;
 * a path the bundle cannot hold is skipped. */
static int add_file(struct cp_autoload *a, size_t module, int is_script, char *host,
                    const char *origin)
{
	const char *why;
	char *bundle = NULL;
	for (size_t i = 0; i < a->n_files; i++)
		if (strcmp(a->files[i].origin_path, origin) == 0) {
			free(host);
			return 0;
		}
	if (asprintf(&bundle, "%s%s", CP_BUNDLE_SYSROOT, origin) < 0) {
		free(host);
		return -ENOMEM;
	}
	if (cp_bundle_path_check(bundle, 0, &why) < 0) {
		free(host);
		free(bundle);
		return 0;
	}
	char *o = strdup(origin);
	struct cp_autoload_file *f = o ? realloc(a->files, (a->n_files + 1) * sizeof(*f)) : NULL;
	if (!f) {
		free(o);
		free(host);
		free(bundle);
		return -ENOMEM;
	}
	a->files = f;
	a->files[a->n_files++] = (struct cp_autoload_file){module, is_script, host, o, bundle};
	return 0;
}

/* The origin directory on gcc's `pythondir = '/usr/share/gcc/python'`
 * line of SCRIPT, or NULL. */
static char *python_dir(const char *script)
{
	static const char key[] = "pythondir = '";
	for (const char *line = script; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > sizeof(key) && strncmp(line, key, sizeof(key) - 1) == 0 &&
		    line[len - 1] == '\'' && line[sizeof(key) - 1] == '/') {
			char *dir = strndup(line + sizeof(key) - 1, len - sizeof(key));
			char *norm = dir && !strchr(dir, '\'') ? cp_path_normalize(dir) : NULL;
			free(dir);
			return norm;
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

struct walk {
	struct cp_autoload *a;
	const char *sysroot;
	size_t module;
	size_t files;
	unsigned long long bytes;
	int over; /* a cap was reached */
};

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The *.py files below origin directory DIR. */
static int walk_dir(struct walk *w, const char *dir, int depth)
{
	char *host = cp_host_path(w->sysroot, dir);
	DIR *d = host ? opendir(host) : NULL;
	int r = host ? 0 : -ENOMEM;
	for (struct dirent *de; d && r == 0 && !w->over && (de = readdir(d));) {
		const char *n = de->d_name;
		char *origin = NULL, *path = NULL;
		struct stat st;
		if (n[0] == '.' || strcmp(n, "__pycache__") == 0)
			continue;
		if (asprintf(&origin, "%s/%s", dir, n) < 0 ||
		    !(path = cp_host_path(w->sysroot, origin))) {
			free(origin);
			r = -ENOMEM;
			break;
		}
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (depth + 1 < CP_AUTOLOAD_MAX_DEPTH)
				r = walk_dir(w, origin, depth + 1);
			else
				w->over = 1;
			free(path);
		} else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && ends_with(n, ".py")) {
			w->files++;
			w->bytes += (unsigned long long)st.st_size;
			if (w->files > CP_AUTOLOAD_MAX_FILES || w->bytes > CP_AUTOLOAD_MAX_BYTES) {
				w->over = 1;
				free(path);
			} else {
				r = add_file(w->a, w->module, 0, path, origin);
			}
		} else {
			free(path);
		}
		free(origin);
	}
	if (d)
		closedir(d);
	free(host);
	return r;
}

/* gcc's script imports from PYDIR: pack the package, or nothing of it. */
static int add_package(struct cp_autoload *a, const char *sysroot, size_t module, const char *pydir,
                       const char *object)
{
	size_t before = a->n_files;
	struct walk w = {a, sysroot, module, 0, 0, 0};
	int r = walk_dir(&w, pydir, 0);
	if (r < 0 || !w.over)
		return r;
	while (a->n_files > before) {
		struct cp_autoload_file *f = &a->files[--a->n_files];
		free(f->host_path);
		free(f->origin_path);
		free(f->bundle_path);
	}
	return warn(a,
	            "'%s': the Python package its gdb script imports ('%s') has more than %d "
	            "files, %d MiB or %d levels: not packed",
	            object, pydir, CP_AUTOLOAD_MAX_FILES, CP_AUTOLOAD_MAX_BYTES >> 20,
	            CP_AUTOLOAD_MAX_DEPTH);
}

/* The first OBJECT-gdb.py of module M gdb would load, read whole. */
static int find_script(struct cp_autoload *a, const char *sysroot, size_t i,
                       const struct cp_module *m)
{
	static const char *const dirs[] = {"", "/usr/lib/debug", "/usr/share/gdb/auto-load"};
	for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		char *origin = NULL, *host, *text = NULL;
		size_t len;
		if (asprintf(&origin, "%s%s-gdb.py", dirs[k], m->real_path) < 0)
			return -ENOMEM;
		if (!(host = cp_host_path(sysroot, origin))) {
			free(origin);
			return -ENOMEM;
		}
		int r = cp_read_file_capped(host, CP_AUTOLOAD_MAX_SCRIPT, &text, &len, NULL);
		if (r < 0) {
			free(origin);
			free(host);
			if (r == -ENOMEM)
				return r;
			continue;
		}
		/* It is packed beside the object, where gdb looks first. */
		char *beside = NULL, *pydir = python_dir(text);
		free(text);
		free(origin);
		if (asprintf(&beside, "%s-gdb.py", m->real_path) < 0) {
			free(host);
			free(pydir);
			return -ENOMEM;
		}
		r = add_file(a, i, 1, host, beside);
		free(beside);
		if (r == 0 && pydir)
			r = add_package(a, sysroot, i, pydir, m->real_path);
		free(pydir);
		return r;
	}
	return 0;
}

int cp_autoload_find(const char *sysroot, const struct cp_scan *scan, struct cp_autoload **out,
                     struct cp_error *err)
{
	struct cp_autoload *a = calloc(1, sizeof(*a));
	int r = a ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < scan->n_modules; i++)
		if (cp_module_packable(&scan->modules[i]))
			r = find_script(a, sysroot, i, &scan->modules[i]);
	if (r < 0) {
		cp_autoload_free(a);
		return cp_error_set(err, ENOMEM, "out of memory");
	}
	*out = a;
	return 0;
}

void cp_autoload_free(struct cp_autoload *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_files; i++) {
		free(a->files[i].host_path);
		free(a->files[i].origin_path);
		free(a->files[i].bundle_path);
	}
	free(a->files);
	for (size_t i = 0; i < a->n_warnings; i++)
		free(a->warnings[i]);
	free(a->warnings);
	free(a);
}
