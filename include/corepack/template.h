/*
 * Templates for the generated scripts (templates/NAME.in, embedded at build
 * time by cmake/embed-templates.cmake), their rendering, and the quoting
 * that makes untrusted values (paths from a core or a manifest) safe to
 * place in a POSIX sh script or a gdb command.
 */
#ifndef COREPACK_TEMPLATE_H
#define COREPACK_TEMPLATE_H

#include <stddef.h>

#include "corepack/error.h"

struct cp_template {
	const char *name; /* "run-gdb.sh", "corepack.gdb" */
	const char *text;
	size_t len;
};

/* Terminated by an entry whose name is NULL (generated file). */
extern const struct cp_template cp_templates[];

/* The embedded template NAME, or NULL. */
const struct cp_template *cp_template_get(const char *name);

struct cp_template_var {
	const char *name;  /* "EXE" for @EXE@ */
	const char *value; /* substituted as is: quote it first if needed */
};

/*
 * Replace every @NAME@ in TEXT by its value.  An @NAME@ with no variable is
 * an error (-EINVAL naming it), so a template never ships a placeholder;
 * "@@" stands for a literal "@".  *OUT is malloc'd, owned by the caller.
 */
int cp_template_render(const char *text, const struct cp_template_var *vars, size_t n_vars,
                       char **out, struct cp_error *err);

/* 'value' with every ' written as '\'' : one sh word whatever VALUE holds.
 * Caller frees; NULL on ENOMEM. */
char *cp_quote_sh(const char *value);

/* VALUE as one argument of a gdb command parsed with gdb_buildargv (`file`,
 * `symbol-file`): spaces, tabs, quotes and backslashes escaped with a
 * backslash.  Returns NULL (errno EINVAL) when no quoting can carry VALUE:
 * it is empty, holds a newline or another control character but tab,
 * starts with '-' (read as an option), or has a '~' at its start or after
 * whitespace (tilde-expanded by gdb after unquoting).  Pass absolute paths.
 * Not for `core-file`: gdb 13 takes its argument literally, to the end of
 * the line (an escaped path is not found), so give it a path with no
 * whitespace, quotes or backslashes, e.g. one relative to the bundle.
 * Caller frees. */
char *cp_quote_gdb_arg(const char *value);

#endif
