/*
 * The bundle's names and path rules, shared by the packer and the
 * unpacker (see include/corepack/layout.h): the names a bundle's top
 * directory may hold, and the check that a path from a bundle or a
 * manifest is a normalised path free of control characters.
 */
#include <errno.h>
#include <string.h>

#include "corepack/layout.h"

const char *const cp_bundle_names[] = {
    CP_BUNDLE_CORE,     CP_BUNDLE_SYSROOT,
    CP_BUNDLE_DEBUG,    CP_BUNDLE_MANIFEST,
    CP_BUNDLE_RUN_GDB,  CP_BUNDLE_GDB_SCRIPT,
    CP_BUNDLE_REPORT,   CP_BUNDLE_DIGESTS,
    CP_BUNDLE_RUN_LLDB, NULL,
};

int cp_bundle_top_name(const char *name, size_t len, int *is_dir)
{
	for (const char *const *n = cp_bundle_names; *n; n++) {
		if (strlen(*n) == len && memcmp(*n, name, len) == 0) {
			*is_dir =
			    strcmp(*n, CP_BUNDLE_SYSROOT) == 0 || strcmp(*n, CP_BUNDLE_DEBUG) == 0;
			return 1;
		}
	}
	return 0;
}

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

int cp_bundle_has_control(const char *s)
{
	for (; *s; s++)
		if (is_control((unsigned char)*s))
			return 1;
	return 0;
}

/* The problem with component C (LEN bytes), or NULL. */
const char *cp_bundle_component_problem(const char *c, size_t len)
{
	if (len == 0)
		return "has an empty component";
	if (len == 1 && c[0] == '.')
		return "has a '.' component";
	if (len == 2 && c[0] == '.' && c[1] == '.')
		return "has a '..' component";
	if (len > CP_BUNDLE_MAX_COMPONENT)
		return "has a component longer than 255 bytes";
	return NULL;
}

int cp_bundle_path_check(const char *path, int absolute, const char **why)
{
	size_t len = strlen(path);
	const char *p = path;
	*why = NULL;
	if (len == 0)
		*why = "is empty";
	else if (len > CP_BUNDLE_MAX_PATH)
		*why = "is longer than 4096 bytes";
	else if (cp_bundle_has_control(path))
		*why = "has a control character";
	else if (absolute && path[0] != '/')
		*why = "is not an absolute path";
	else if (!absolute && path[0] == '/')
		*why = "is an absolute path";
	else if (path[len - 1] == '/')
		*why = len == 1 ? "is the root directory" : "ends in '/'";
	if (*why)
		return -EINVAL;
	if (absolute)
		p++;
	while (*p) {
		size_t n = strcspn(p, "/");
		if ((*why = cp_bundle_component_problem(p, n)) != NULL)
			return -EINVAL;
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}
