/*
 * Rendering corepack.gdb, run-gdb.sh and run-lldb.sh from the embedded
 * templates, for
 * both the packer and the unpacker, so that a bundle's scripts and the
 * ones coreunpack writes in their place come from one function.  Values
 * reach the templates already quoted: for sh with cp_quote_sh(), for gdb's
 * `file` with cp_quote_gdb_arg().  run-gdb.sh hands the paths it builds at
 * run time to gdb as arguments, which need no gdb quoting; run-lldb.sh does
 * the same for lldb, and quotes for lldb's parser at run time the two
 * paths that must go into lldb commands (the sysroot, the debug
 * directory).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/layout.h"
#include "corepack/scripts.h"
#include "corepack/template.h"

static int render(const char *tmpl, const struct cp_template_var *vars, size_t n, char **out,
                  struct cp_error *err)
{
	const struct cp_template *t = cp_template_get(tmpl);
	if (!t)
		return cp_error_set(err, ENOENT, "no template '%s' in this build", tmpl);
	return cp_template_render(t->text, vars, n, out, err);
}

/* "file sysroot/EXE" for corepack.gdb (and "add-symbol-file
 * sysroot/PROGRAM -o OFFSET" after it, for `ld.so PROGRAM`), or a message
 * when EXE is absent or cannot be quoted for gdb.  NULL when out of
 * memory. */
static char *file_command(const char *sysroot, const char *exe, const char *program,
                          uint64_t offset)
{
	char *cmd = NULL, *q = NULL, *qp = NULL;
	int e = 0;
	if (exe) {
		char *rel = NULL, *prel = NULL;
		if (asprintf(&rel, "%s%s", sysroot, exe) < 0)
			return NULL;
		if (program && asprintf(&prel, "%s%s", sysroot, program) < 0) {
			free(rel);
			return NULL;
		}
		errno = 0;
		q = cp_quote_gdb_arg(rel);
		e = errno;
		if (q && prel) {
			qp = cp_quote_gdb_arg(prel);
			e = qp ? 0 : errno;
		}
		free(rel);
		free(prel);
		if (q && (qp || !program)) {
			if (qp ? asprintf(&cmd, "file %s\nadd-symbol-file %s -o 0x%llx", q, qp,
			                  (unsigned long long)offset) < 0
			       : asprintf(&cmd, "file %s", q) < 0)
				cmd = NULL;
			free(q);
			free(qp);
			return cmd;
		}
		free(q);
		if (e != EINVAL)
			return NULL;
	}
	return strdup("echo the executable is not in this bundle\\n");
}

/* The solib directories joined by ':', each after PREFIX ("sysroot" for
 * corepack.gdb, "" for run-gdb.sh, which adds the bundle's path at run
 * time); "" for none.  NULL when out of memory. */
static char *solib_path(const struct cp_scripts_input *in, const char *prefix)
{
	size_t len = 1;
	for (size_t i = 0; i < in->n_solib_dirs; i++)
		len += strlen(prefix) + strlen(in->solib_dirs[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < in->n_solib_dirs; i++) {
		if (i)
			strcat(s, ":");
		strcat(strcat(s, prefix), in->solib_dirs[i]);
	}
	return s;
}

/* "set solib-search-path ./DIR:..." for corepack.gdb (gdb reads the
 * rest of the line as it is; the directories have no ':', control
 * character or trailing blank), or "" for none. */
static char *solib_command(const struct cp_scripts_input *in, const char *sysroot)
{
	char *cmd = NULL, *path = solib_path(in, sysroot);
	if (path && asprintf(&cmd, "%s%s", path[0] ? "set solib-search-path " : "", path) < 0)
		cmd = NULL;
	free(path);
	return cmd;
}

char *cp_scripts_gdb_dir(const char *executable)
{
	const char *slash = executable ? strrchr(executable, '/') : NULL;
	if (!slash || slash == executable || executable[0] != '/')
		return strdup("");
	char *dir = strndup(executable, (size_t)(slash - executable));
	if (dir && (cp_scripts_search_dir_problem(dir) || strstr(dir, "/.") || strchr(dir, '~') ||
	            strchr(dir, '\\') || strchr(dir, '"') || strchr(dir, '\''))) {
		free(dir);
		return strdup("");
	}
	return dir;
}

/* "../" once per component of DIR ("/opt/app/bin": "../../../"). */
static char *ups(const char *dir)
{
	size_t n = 0;
	for (const char *p = dir; *p; p++)
		n += *p == '/';
	char *s = malloc(3 * n + 1);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < n; i++)
		strcat(s, "../");
	return s;
}

int cp_scripts_render(const struct cp_scripts_input *in, struct cp_scripts *out,
                      struct cp_error *err)
{
	char *q_exe = cp_quote_sh(in->executable ? in->executable : "");
	char *q_machine = cp_quote_sh(in->machine ? in->machine : "unknown");
	char *q_tdb = cp_quote_sh(in->thread_db_dir ? in->thread_db_dir : "");
	char *q_prog = cp_quote_sh(in->program && in->executable ? in->program : "");
	char *solib = solib_path(in, "");
	char *q_solib = solib ? cp_quote_sh(solib) : NULL;
	char *file_cmd = NULL, *solib_cmd = NULL, *gdb_text = NULL, *sh_text = NULL;
	char *lldb_text = NULL;
	char offset[24], n_dwz[24];
	int r = -ENOMEM;
	/* corepack.gdb runs in sysroot/GDB_DIR (cp_scripts_gdb_dir()): the
	 * sysroot and the top directory are relative to that. */
	char *gdb_dir = cp_scripts_gdb_dir(in->executable);
	char *up = gdb_dir ? ups(gdb_dir) : NULL;
	char *q_gdb_dir = gdb_dir ? cp_quote_sh(gdb_dir) : NULL;
	char *cwd = NULL, *sysroot = NULL, *top = NULL;
	if (!up || !q_gdb_dir || asprintf(&cwd, "%s%s", CP_BUNDLE_SYSROOT, gdb_dir) < 0 ||
	    asprintf(&sysroot, "%s", up[0] ? up : "./") < 0 || asprintf(&top, "../%s", up) < 0)
		goto out;
	sysroot[strlen(sysroot) - 1] = '\0'; /* "../.." or "." */

	snprintf(offset, sizeof(offset), "0x%llx", (unsigned long long)in->program_offset);
	if (!q_exe || !q_machine || !q_tdb || !q_prog || !q_solib ||
	    !(solib_cmd = solib_command(in, sysroot)) ||
	    !(file_cmd = file_command(sysroot, in->executable, in->program, in->program_offset)))
		goto out;
	struct cp_template_var gdb_vars[] = {
	    {"VERSION", COREPACK_VERSION}, {"GDB_CWD", cwd},
	    {"SYSROOT", sysroot},          {"TOP", top},
	    {"SOLIB_CMD", solib_cmd},      {"FILE_CMD", file_cmd},
	};
	struct cp_template_var sh_vars[] = {
	    {"VERSION", COREPACK_VERSION},
	    {"EXE", q_exe},
	    {"MACHINE", q_machine},
	    {"TRUST", in->trust ? "1" : "0"},
	    {"THREAD_DB_DIR", q_tdb},
	    {"PROGRAM", q_prog},
	    {"PROGRAM_OFFSET", offset},
	    {"SOLIB_DIRS", q_solib},
	    {"BUNDLE_SCRIPTS", in->bundle_scripts ? "1" : "0"},
	    {"GDB_DIR", q_gdb_dir},
	};
	snprintf(n_dwz, sizeof(n_dwz), "%zu", in->n_dwz);
	struct cp_template_var lldb_vars[] = {
	    {"VERSION", COREPACK_VERSION},
	    {"EXE", q_exe},
	    {"DWZ_OBJECTS", n_dwz},
	};
	if ((r = render(CP_BUNDLE_GDB_SCRIPT, gdb_vars, sizeof(gdb_vars) / sizeof(gdb_vars[0]),
	                &gdb_text, err)) < 0 ||
	    (r = render(CP_BUNDLE_RUN_GDB, sh_vars, sizeof(sh_vars) / sizeof(sh_vars[0]), &sh_text,
	                err)) < 0 ||
	    (r = render(CP_BUNDLE_RUN_LLDB, lldb_vars, sizeof(lldb_vars) / sizeof(lldb_vars[0]),
	                &lldb_text, err)) < 0)
		goto out;
	out->gdb_script = gdb_text;
	out->run_gdb = sh_text;
	out->run_lldb = lldb_text;
	gdb_text = sh_text = lldb_text = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		cp_error_set(err, ENOMEM, "out of memory");
	free(q_exe);
	free(q_machine);
	free(q_tdb);
	free(q_prog);
	free(solib);
	free(q_solib);
	free(solib_cmd);
	free(file_cmd);
	free(gdb_text);
	free(sh_text);
	free(lldb_text);
	free(gdb_dir);
	free(up);
	free(q_gdb_dir);
	free(cwd);
	free(sysroot);
	free(top);
	return r;
}

void cp_scripts_done(struct cp_scripts *s)
{
	if (!s)
		return;
	free(s->gdb_script);
	free(s->run_gdb);
	free(s->run_lldb);
	s->gdb_script = s->run_gdb = s->run_lldb = NULL;
}

static int ends_in_blank(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t');
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

const char *cp_scripts_executable_problem(const char *exe)
{
	char *rel = NULL;
	if (asprintf(&rel, ".%s", exe) < 0)
		return "out of memory";
	errno = 0;
	char *q = cp_quote_gdb_arg(rel);
	int e = q ? 0 : errno;
	free(q);
	free(rel);
	if (e == EINVAL || has_control(exe))
		return "gdb would not open that file (a control character, or a '~' after a space, "
		       "which gdb expands to a home directory)";
	return e ? "out of memory" : NULL;
}

const char *cp_scripts_thread_db_dir_problem(const char *dir)
{
	return cp_scripts_search_dir_problem(dir);
}

const char *cp_scripts_search_dir_problem(const char *dir)
{
	if (strchr(dir, ':'))
		return "a ':' would split gdb's search path";
	if (strchr(dir, '$'))
		return "gdb would substitute a '$' in its search path";
	if (has_control(dir))
		return "it has a control character";
	if (ends_in_blank(dir))
		return "it ends in a space or tab, which gdb would strip";
	return NULL;
}
