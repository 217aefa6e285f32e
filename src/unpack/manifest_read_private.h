/*
 * Private to the manifest reader (manifest_read.c and manifest_json.c):
 * the parser's state, the kinds of string a field may hold, and the
 * primitives that read one checked JSON value each.  See
 * include/corepack/manifest_read.h for the public interface.
 */
#ifndef COREPACK_MANIFEST_READ_PRIVATE_H
#define COREPACK_MANIFEST_READ_PRIVATE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"

enum kind {
	K_TEXT,  /* shown only: any bytes but NUL, capped */
	K_PATH,  /* shown only: a path, no control character, capped */
	K_TOKEN, /* [A-Za-z0-9._+-], 1-64 bytes */
	K_ABS,   /* absolute normalised path */
	K_REL,   /* normalised path below a bundle name */
	K_HEX,   /* lowercase hex, even length, at most 2 * 64 digits */
	K_SHA,   /* 64 lowercase hex digits */
	K_XXH,   /* 32 lowercase hex digits (XXH3-128) */
};

enum { OPTIONAL = 0, REQUIRED = 1 };

struct parser {
	struct cp_error *err;
	const char *doc; /* "manifest.json" or "digests.json" */
	int version;     /* the manifest's */
	char where[160]; /* the object being read: "objects[3].debug[0]" */
};

/* Fail with CODE, the message naming the field: "DOC: WHERE.KEY: why". */
int cp_mr_fail(struct parser *p, int code, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Name the object being read in messages ("objects[3].debug[0]"). */
void cp_mr_set_where(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The JSON value V (named KEY in messages) checked as a string of KIND and
 * copied to *OUT. */
int cp_mr_take_str(struct parser *p, const char *key, json_object *v, enum kind kind, char **out);

/* The string KEY of OBJ checked as KIND, copied to *OUT (NULL when absent
 * or null and not REQUIRED). */
int cp_mr_get_str(struct parser *p, json_object *obj, const char *key, enum kind kind, int required,
                  char **out);

/* The integer KEY of OBJ in [MIN, MAX]; *OUT untouched when absent or null
 * and not REQUIRED. */
int cp_mr_get_int(struct parser *p, json_object *obj, const char *key, int64_t min, int64_t max,
                  int required, int64_t *out);

int cp_mr_get_bool(struct parser *p, json_object *obj, const char *key, int *out);

/* The object (or array, with TYPE) KEY of OBJ; NULL when absent and not
 * REQUIRED. */
int cp_mr_get_node(struct parser *p, json_object *obj, const char *key, json_type type,
                   int required, json_object **out);

/* The array KEY of OBJ with at most MAX elements; its length in *N. */
int cp_mr_get_array(struct parser *p, json_object *obj, const char *key, size_t max, int required,
                    json_object **out, size_t *n);

int cp_mr_is_object(json_object *o);

/* The token KEY of O, checked and mapped by FROM_NAME into *OUT (an enum);
 * WHAT names it in the message for an unknown one. */
int cp_mr_get_enum(struct parser *p, json_object *o, const char *key, const char *what,
                   int (*from_name)(const char *, void *), void *out);

/* The LEN bytes at BUF (at most MAX) as one JSON value, within the tree
 * budget (CP_MANIFEST_MAX_TREE, CP_MANIFEST_MAX_DEPTH), into *ROOT. */
int cp_mr_parse_json(struct parser *p, const char *buf, size_t len, size_t max, json_object **root);

#endif
