/*
 * The manifest reader's primitives (manifest_read.c reads the fields):
 * each reads one JSON value of manifest.json or digests.json and checks
 * its type and shape (the kinds of string: tokens, normalised paths, hex,
 * text capped for showing), with messages that name the field the way jq
 * would reach it; and the text parsed as one JSON value within the
 * budgets: its size, json-c's depth, and the cost of json-c's tree,
 * estimated by a small scanner before anything is built.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/escape.h"
#include "corepack/hex.h"
#include "corepack/layout.h"
#include "corepack/manifest_read.h"
#include "manifest_read_private.h"

int cp_mr_fail(struct parser *p, int code, const char *key, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	const char *dot = *p->where && key ? "." : "";
	if (!*p->where && !key)
		return cp_error_set(p->err, code, "%s: %s", p->doc, why);
	return cp_error_set(p->err, code, "%s: %s%s%s: %s", p->doc, p->where, dot, key ? key : "",
	                    why);
}

static int is_token(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

/* A path below one of the bundle's names, as "files" and "bundle_path"
 * give them: "core", "sysroot/usr/lib/libc.so.6".  Returns a reason or NULL. */
static const char *rel_problem(const char *s)
{
	const char *why;
	if (cp_bundle_path_check(s, 0, &why) < 0)
		return why;
	size_t first = strcspn(s, "/");
	int is_dir;
	if (!cp_bundle_top_name(s, first, &is_dir))
		return "is not below a bundle name (core, sysroot/, debug/, ...)";
	if (is_dir != (s[first] == '/'))
		return is_dir ? "names a directory of the bundle, not a file"
		              : "is below a file of the bundle";
	return NULL;
}

/* The JSON value V (named KEY in messages) checked as a string of KIND and
 * copied to *OUT. */
int cp_mr_take_str(struct parser *p, const char *key, json_object *v, enum kind kind, char **out)
{
	if (!json_object_is_type(v, json_type_string))
		return cp_mr_fail(p, EINVAL, key, "not a string");
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len)
		return cp_mr_fail(p, EINVAL, key, "has a NUL byte");

	const char *why = NULL;
	switch (kind) {
	case K_TEXT:
		if (len > CP_MANIFEST_MAX_TEXT)
			return cp_mr_fail(p, E2BIG, key, "%zu bytes, more than the limit of %d",
			                  len, CP_MANIFEST_MAX_TEXT);
		break;
	case K_PATH:
		if (len == 0)
			why = "is empty";
		else if (len > CP_BUNDLE_MAX_PATH)
			why = "is longer than 4096 bytes";
		else if (cp_bundle_has_control(s))
			why = "has a control character";
		break;
	case K_TOKEN:
		if (!is_token(s, len))
			why = "is not a word of letters, digits and ._+-";
		break;
	case K_ABS:
		if (cp_bundle_path_check(s, 1, &why) == 0)
			why = NULL;
		break;
	case K_REL:
		why = rel_problem(s);
		break;
	case K_HEX:
		if (len == 0 || len > 128 || cp_unhex(s, len, NULL) < 0)
			why = "is not a build-id (lowercase hex, at most 128 digits)";
		break;
	case K_SHA:
		if (len != 64 || cp_unhex(s, len, NULL) < 0)
			why = "is not a sha256 (64 lowercase hex digits)";
		break;
	case K_XXH:
		if (len != 32 || cp_unhex(s, len, NULL) < 0)
			why = "is not an xxh3_128 (32 lowercase hex digits)";
		break;
	}
	if (why) {
		char shown[160];
		return cp_mr_fail(p, EINVAL, key, "'%s' %s", cp_escape(s, shown, sizeof(shown)),
		                  why);
	}
	if (!(*out = strdup(s)))
		return cp_error_set(p->err, ENOMEM, "out of memory");
	return 0;
}

/* The string KEY of OBJ checked as KIND, copied to *OUT (NULL when absent
 * or null and not REQUIRED). */
int cp_mr_get_str(struct parser *p, json_object *obj, const char *key, enum kind kind, int required,
                  char **out)
{
	json_object *v = NULL;
	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v) {
		if (required)
			return cp_mr_fail(p, EINVAL, key, "missing");
		return 0;
	}
	return cp_mr_take_str(p, key, v, kind, out);
}

/* The integer KEY of OBJ in [MIN, MAX]; *OUT untouched when absent or null
 * and not REQUIRED. */
int cp_mr_get_int(struct parser *p, json_object *obj, const char *key, int64_t min, int64_t max,
                  int required, int64_t *out)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v) {
		if (required)
			return cp_mr_fail(p, EINVAL, key, "missing");
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return cp_mr_fail(p, EINVAL, key, "not an integer");
	errno = 0;
	int64_t n = json_object_get_int64(v);
	/* json-c keeps integers past INT64_MAX as unsigned and clamps here. */
	if (errno == ERANGE || n < min || n > max)
		return cp_mr_fail(p, E2BIG, key, "%s out of range (%lld to %lld)",
		                  json_object_get_string(v), (long long)min, (long long)max);
	*out = n;
	return 0;
}

int cp_mr_get_bool(struct parser *p, json_object *obj, const char *key, int *out)
{
	json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return cp_mr_fail(p, EINVAL, key, "not true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

/* The object (or array, with TYPE) KEY of OBJ; NULL when absent and not
 * REQUIRED. */
int cp_mr_get_node(struct parser *p, json_object *obj, const char *key, json_type type,
                   int required, json_object **out)
{
	json_object *v = NULL;
	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v) {
		if (required)
			return cp_mr_fail(p, EINVAL, key, "missing");
		return 0;
	}
	if (!json_object_is_type(v, type))
		return cp_mr_fail(p, EINVAL, key,
		                  type == json_type_array ? "not an array" : "not an object");
	*out = v;
	return 0;
}

/* The array KEY of OBJ with at most MAX elements; its length in *N. */
int cp_mr_get_array(struct parser *p, json_object *obj, const char *key, size_t max, int required,
                    json_object **out, size_t *n)
{
	int r = cp_mr_get_node(p, obj, key, json_type_array, required, out);
	*n = r == 0 && *out ? json_object_array_length(*out) : 0;
	if (r == 0 && *n > max)
		return cp_mr_fail(p, E2BIG, key, "%zu elements, more than the limit of %zu", *n,
		                  max);
	return r;
}

int cp_mr_is_object(json_object *o)
{
	return o && json_object_is_type(o, json_type_object);
}

void cp_mr_set_where(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->where, sizeof(p->where), fmt, ap);
	va_end(ap);
}

/* The token KEY of O, checked and mapped by FROM_NAME into *OUT (an enum);
 * WHAT names it in the message for an unknown one. */
int cp_mr_get_enum(struct parser *p, json_object *o, const char *key, const char *what,
                   int (*from_name)(const char *, void *), void *out)
{
	char *token = NULL;
	int r = cp_mr_get_str(p, o, key, K_TOKEN, REQUIRED, &token);
	if (r == 0 && from_name(token, out) < 0)
		r = cp_mr_fail(p, EINVAL, key, "unknown %s '%s'", what, token);
	free(token);
	return r;
}

/* What json-c's tree for the LEN bytes at BUF would cost, by the weights
 * of manifest_read.h, counted without building it: containers and the
 * other values (strings, numbers, literals) outside strings.  Malformed
 * text is json-c's to refuse; this only has to stay in bounds. */
static uint64_t tree_estimate(const char *buf, size_t len)
{
	uint64_t cost = len;
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (c == '{') {
			cost += 800;
		} else if (c == '[') {
			cost += 160;
		} else if (c == '"') {
			in_string = 1;
			cost += 112;
		} else if ((c >= '0' && c <= '9') || c == '-' || c == 't' || c == 'f' || c == 'n') {
			/* One value: skip the rest of the token. */
			cost += 112;
			while (i + 1 < len && buf[i + 1] != ',' && buf[i + 1] != ']' &&
			       buf[i + 1] != '}' && buf[i + 1] != ' ' && buf[i + 1] != '\n' &&
			       buf[i + 1] != '"')
				i++;
		}
	}
	return cost;
}

/* The LEN bytes at BUF as one JSON value, within the budgets, into *ROOT. */
int cp_mr_parse_json(struct parser *p, const char *buf, size_t len, size_t max, json_object **root)
{
	if (len > max)
		return cp_error_set(p->err, E2BIG, "%s: %zu bytes, more than the limit of %zu",
		                    p->doc, len, max);
	uint64_t tree = tree_estimate(buf, len);
	if (tree > CP_MANIFEST_MAX_TREE)
		return cp_error_set(p->err, E2BIG,
		                    "%s: %zu bytes of JSON that would take about %llu MiB to hold, "
		                    "more than the limit of %d MiB",
		                    p->doc, len, (unsigned long long)(tree >> 20),
		                    CP_MANIFEST_MAX_TREE >> 20);
	json_tokener *tok = json_tokener_new_ex(CP_MANIFEST_MAX_DEPTH);
	if (!tok)
		return cp_error_set(p->err, ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || je != json_tokener_success) {
		json_object_put(o);
		if (je == json_tokener_continue)
			return cp_error_set(p->err, EINVAL, "%s: not valid JSON: ends early",
			                    p->doc);
		return cp_error_set(p->err, EINVAL, "%s: not valid JSON: %s at byte %zu", p->doc,
		                    json_tokener_error_desc(je), end);
	}
	for (size_t i = end; i < len; i++) {
		if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\t' && buf[i] != '\r') {
			json_object_put(o);
			return cp_error_set(p->err, EINVAL,
			                    "%s: not valid JSON: text after the end at byte %zu",
			                    p->doc, i);
		}
	}
	*root = o;
	return 0;
}
