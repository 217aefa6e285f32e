/*
 * The manifest's token tables (include/corepack/schema.h): each enumeration
 * spelled once, indexed by its value.  tests/e2e/run-docs.sh reads these
 * arrays (by their names) to check bundle-format.md.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "corepack/schema.h"

static const char *const module_statuses[] = {
    [CP_STATUS_OK] = "ok",
    [CP_STATUS_MISMATCH] = "mismatch",
    [CP_STATUS_MISSING] = "missing",
    [CP_STATUS_NO_BUILD_ID] = "no-build-id",
    [CP_STATUS_UNVERIFIED] = "unverified",
};

static const char *const verifications[] = {
    [CP_VERIFY_BUILD_ID] = "build-id",
    [CP_VERIFY_CONTENT] = "content",
    [CP_VERIFY_BESIDE_LIBC] = "beside-libc",
};

static const char *const roles[] = {
    [CP_ROLE_LIBRARY] = "library",
    [CP_ROLE_EXECUTABLE] = "executable",
    [CP_ROLE_INTERPRETER] = "interpreter",
    [CP_ROLE_THREAD_DB] = "thread_db",
};

static const char *const name_sources[] = {
    [CP_NAME_NT_FILE] = "nt_file",     [CP_NAME_LINK_MAP] = "link_map",
    [CP_NAME_PT_INTERP] = "pt_interp", [CP_NAME_EXECFN] = "execfn",
    [CP_NAME_OPTION] = "option",       [CP_NAME_LIBC_DIR] = "libc_dir",
    [CP_NAME_PRPSINFO] = "prpsinfo",
};

static const char *const debug_hows[] = {
    [CP_DEBUG_NONE] = "none",
    [CP_DEBUG_BUILD_ID] = "build-id",
    [CP_DEBUG_LINK_SAME_DIR] = "debuglink",
    [CP_DEBUG_LINK_DOT_DEBUG] = "debuglink-.debug",
    [CP_DEBUG_LINK_ROOT] = "debuglink-root",
    [CP_DEBUG_ALT_PATH] = "dwz-path",
    [CP_DEBUG_ALT_BUILD_ID] = "dwz-build-id",
    [CP_DEBUG_ALT_DWZ_DIR] = "dwz-dir",
    [CP_DEBUG_DWO_PATH] = "dwo-path",
    [CP_DEBUG_DWO_COMP_DIR] = "dwo-comp-dir",
    [CP_DEBUG_DWO_OBJECT_DIR] = "dwo-object-dir",
    [CP_DEBUG_DWO_ROOT] = "dwo-debug-dir",
    [CP_DEBUG_DWP] = "dwp",
    [CP_DEBUG_DWP_ROOT] = "dwp-debug-dir",
    [CP_DEBUG_DEBUGINFOD] = "debuginfod",
};

static const char *const debug_statuses[] = {
    [CP_DEBUG_STATUS_FOUND] = "found",
    [CP_DEBUG_STATUS_FOUND_WITHOUT_DWZ] = "found-without-dwz",
    [CP_DEBUG_STATUS_IN_OBJECT] = "in-object",
    [CP_DEBUG_STATUS_NONE] = "none",
    [CP_DEBUG_STATUS_NOT_SEARCHED] = "not-searched",
    [CP_DEBUG_STATUS_NOT_PACKED] = "not-packed",
};

static const char *const debug_kinds[] = {
    [CP_DEBUG_KIND_DEBUG] = "debug",
    [CP_DEBUG_KIND_DWZ] = "dwz",
    [CP_DEBUG_KIND_DWO] = "dwo",
    [CP_DEBUG_KIND_DWP] = "dwp",
};

static const char *const digest_kinds[] = {
    [CP_DIGEST_SHA256] = "sha256",
    [CP_DIGEST_SPARSE_SHA256] = "sparse_sha256",
    [CP_DIGEST_XXH3_128] = "xxh3_128",
    [CP_DIGEST_SPARSE_XXH3_128] = "sparse_xxh3_128",
};

#define N(tab) (sizeof(tab) / sizeof(tab[0]))

static const char *name_of(const char *const *tab, size_t n, unsigned v)
{
	return v < n && tab[v] ? tab[v] : "unknown";
}

/* The index of TOKEN in TAB, or -1. */
static int index_of(const char *const *tab, size_t n, const char *token)
{
	for (size_t i = 0; token && i < n; i++)
		if (tab[i] && strcmp(tab[i], token) == 0)
			return (int)i;
	return -1;
}

const char *cp_status_name(enum cp_module_status s)
{
	return name_of(module_statuses, N(module_statuses), (unsigned)s);
}

const char *cp_verify_name(enum cp_verify v)
{
	return v == CP_VERIFY_NONE ? NULL : name_of(verifications, N(verifications), (unsigned)v);
}

const char *cp_role_name(enum cp_module_role r)
{
	return name_of(roles, N(roles), (unsigned)r);
}

const char *cp_name_source_name(enum cp_name_source s)
{
	return name_of(name_sources, N(name_sources), (unsigned)s);
}

const char *cp_debug_how_name(enum cp_debug_how how)
{
	return name_of(debug_hows, N(debug_hows), (unsigned)how);
}

const char *cp_debug_status_name(enum cp_debug_status s)
{
	return name_of(debug_statuses, N(debug_statuses), (unsigned)s);
}

const char *cp_debug_kind_name(enum cp_debug_kind k)
{
	return name_of(debug_kinds, N(debug_kinds), (unsigned)k);
}

const char *cp_digest_kind_name(enum cp_digest_kind k)
{
	return name_of(digest_kinds, N(digest_kinds), (unsigned)k);
}

int cp_status_from_name(const char *token, enum cp_module_status *out)
{
	int i = index_of(module_statuses, N(module_statuses), token);
	if (i < 0)
		return -EINVAL;
	*out = (enum cp_module_status)i;
	return 0;
}

int cp_role_from_name(const char *token, enum cp_module_role *out)
{
	int i = index_of(roles, N(roles), token);
	if (i < 0)
		return -EINVAL;
	*out = (enum cp_module_role)i;
	return 0;
}

int cp_digest_kind_from_name(const char *token, enum cp_digest_kind *out)
{
	int i = index_of(digest_kinds, N(digest_kinds), token);
	if (i < 0)
		return -EINVAL;
	*out = (enum cp_digest_kind)i;
	return 0;
}

int cp_digest_kind_sparse(enum cp_digest_kind k)
{
	return k == CP_DIGEST_SPARSE_SHA256 || k == CP_DIGEST_SPARSE_XXH3_128;
}

int cp_digest_kind_xxh3(enum cp_digest_kind k)
{
	return k == CP_DIGEST_XXH3_128 || k == CP_DIGEST_SPARSE_XXH3_128;
}

size_t cp_digest_kind_size(enum cp_digest_kind k)
{
	return cp_digest_kind_xxh3(k) ? 16 : 32;
}

enum cp_digest_kind cp_digest_kind_for(int sparse, int xxh3)
{
	if (xxh3)
		return sparse ? CP_DIGEST_SPARSE_XXH3_128 : CP_DIGEST_XXH3_128;
	return sparse ? CP_DIGEST_SPARSE_SHA256 : CP_DIGEST_SHA256;
}

enum cp_debug_status cp_debug_status_from_name(const char *token)
{
	int i = index_of(debug_statuses, N(debug_statuses), token);
	return i < 0 ? CP_DEBUG_STATUS_UNKNOWN : (enum cp_debug_status)i;
}

enum cp_debug_kind cp_debug_kind_from_name(const char *token)
{
	int i = index_of(debug_kinds, N(debug_kinds), token);
	return i < 0 ? CP_DEBUG_KIND_UNKNOWN : (enum cp_debug_kind)i;
}
