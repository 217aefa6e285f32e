/*
 * The generated scripts: lookup of the embedded templates (the table comes
 * from cmake/embed-templates.cmake), @NAME@ substitution, and the quoting
 * that lets an untrusted value (a path from a core or a manifest) travel as
 * exactly one sh word or one gdb argument.
 *
 * Only "@" followed by [A-Z0-9_]+ and a closing "@" is a placeholder, so
 * the "$@" of sh, e-mail addresses and a lone "@" pass through unchanged;
 * "@@" is how a template writes an "@" that would otherwise close or open a
 * placeholder.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "corepack/template.h"

const struct cp_template *cp_template_get(const char *name)
{
	for (const struct cp_template *t = cp_templates; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static int is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static const struct cp_template_var *find_var(const struct cp_template_var *vars, size_t n_vars,
                                              const char *name, size_t len)
{
	for (size_t i = 0; i < n_vars; i++)
		if (strncmp(vars[i].name, name, len) == 0 && vars[i].name[len] == '\0')
			return &vars[i];
	return NULL;
}

int cp_template_render(const char *text, const struct cp_template_var *vars, size_t n_vars,
                       char **out, struct cp_error *err)
{
	struct cp_buf b = {0};
	const char *p = text;

	while (!b.oom && *p) {
		const char *at = strchr(p, '@');
		if (!at) {
			cp_buf_puts(&b, p);
			break;
		}
		cp_buf_add(&b, p, (size_t)(at - p));

		if (at[1] == '@') {
			cp_buf_add(&b, "@", 1);
			p = at + 2;
			continue;
		}
		const char *name = at + 1, *end = name;
		while (is_name_char(*end))
			end++;
		if (end == name || *end != '@') {
			/* Not a placeholder: the '@' is text. */
			cp_buf_add(&b, "@", 1);
			p = at + 1;
			continue;
		}

		const struct cp_template_var *v =
		    find_var(vars, n_vars, name, (size_t)(end - name));
		if (!v || !v->value) {
			cp_buf_done(&b);
			return cp_error_set(err, EINVAL, "template variable '@%.*s@' has no value",
			                    (int)(end - name), name);
		}
		cp_buf_puts(&b, v->value);
		p = end + 1;
	}

	/* An empty template still renders to a string the caller can free. */
	char *s = cp_buf_steal(&b);
	if (!s)
		return cp_error_set(err, ENOMEM, "cannot render template: %s", strerror(ENOMEM));
	*out = s;
	return 0;
}

char *cp_quote_sh(const char *value)
{
	size_t n = 3; /* two quotes and the NUL */
	for (const char *p = value; *p; p++)
		n += *p == '\'' ? 4 : 1;

	char *q = malloc(n), *o = q;
	if (!q)
		return NULL;
	*o++ = '\'';
	for (const char *p = value; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}

/*
 * gdb's `file` splits its argument with gdb_buildargv (libiberty's
 * buildargv): whitespace separates words, and quotes and backslashes are
 * consumed, so a backslash before each of those makes the value one word
 * again.  What no quoting can carry is refused (NULL, errno EINVAL):
 *  - a control character other than tab: a line break ends the command,
 *    and DEL goes with them because readline treats it as one;
 *  - an empty value, which `file` reads as "discard the program";
 *  - a leading '-': gdb takes the word for an option, quoted or not;
 *  - a '~' at the start or after a space or tab: gdb tilde-expands the
 *    word after unquoting it (readline's tilde_expand), seen with gdb 13
 *    turning "/tmp/a ~root/t" into "/tmp/a /root/t".
 * gdb also strips trailing whitespace from a command line, escaped or not,
 * and joins a line ending in a backslash, escaped or not, with the next
 * one (in a command file: "file x\\" then "core-file core" became one
 * command); so a value ending in a space, a tab or a backslash gets an
 * empty '' after it, which ends the line without adding to the word.
 */
static int gdb_needs_escape(char c)
{
	return c == ' ' || c == '\t' || c == '\'' || c == '"' || c == '\\';
}

char *cp_quote_gdb_arg(const char *value)
{
	size_t len = strlen(value);
	size_t n = 3; /* a closing '' and the NUL */

	if (len == 0 || value[0] == '-' || value[0] == '~') {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f ||
		    (c == '~' && (value[i - 1] == ' ' || value[i - 1] == '\t'))) {
			errno = EINVAL;
			return NULL;
		}
		n += gdb_needs_escape(value[i]) ? 2 : 1;
	}

	char *q = malloc(n), *o = q;
	if (!q)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (gdb_needs_escape(value[i]))
			*o++ = '\\';
		*o++ = value[i];
	}
	if (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\\') {
		*o++ = '\'';
		*o++ = '\'';
	}
	*o = '\0';
	return q;
}
