/*
 * Finding each object's file and judging it against the core, for the scan
 * (modules.c): the file given with -e, a live process's map_files entry, or
 * the name resolved under the sysroot with the core owners' rights
 * (access.h), never a core file; then the build-ids compared, or without
 * them what the core holds of the object (image.h).  The verdict is the
 * module's status, with a warning when it is not packed or packed
 * unchecked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/access.h"
#include "corepack/image.h"
#include "corepack/io.h"
#include "corepack/modules.h"
#include "modules_private.h"

static void hexstr(const uint8_t *b, size_t len, char *out)
{
	if (len == 0)
		strcpy(out, "none");
	else
		cp_hex(b, len, out);
}

/* The module is not packed: no file, or none we may use; says why. */
static int module_missing(struct cp_scan *s, struct cp_module *m, const char *why, const char *verb)
{
	m->status = CP_STATUS_MISSING;
	free(m->status_detail);
	if (asprintf(&m->status_detail, "%s%s", why,
	             m->deleted ? " (deleted after it was mapped)" : "") < 0) {
		m->status_detail = NULL;
		return -ENOMEM;
	}
	return cp_mod_warn(s, "'%s': %s: %s", m->origin_path, verb, m->status_detail);
}

/* No build-id on one side or both: what the core holds of the object
 * decides (image.h).  WHY says which build-id is missing. */
static int check_content(const struct cp_core *core, struct cp_scan *s, struct cp_module *m,
                         const char *why)
{
	struct cp_image_match mt = {0};
	struct cp_error e = {0};
	if (m->have_header) {
		int r = cp_image_compare(core, m->header, m->given ? NULL : &s->access,
		                         m->host_path, &mt, &e);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			m->status = CP_STATUS_MISMATCH;
			m->status_detail = strdup(e.msg);
			return m->status_detail ? 0 : -ENOMEM;
		}
	}
	if (mt.differs) {
		m->status = CP_STATUS_MISMATCH;
		if (asprintf(&m->status_detail,
		             "%s, and the core's copy of it differs from the file at offset 0x%llx",
		             why, (unsigned long long)mt.diff_offset) < 0)
			m->status_detail = NULL;
		return m->status_detail ? 0 : -ENOMEM;
	}
	if (mt.bytes) {
		m->status = CP_STATUS_OK;
		m->verified_by = CP_VERIFY_CONTENT;
		if (asprintf(&m->status_detail,
		             "%s; the core's %llu byte%s of it (%llu page%s%s) equal the file", why,
		             (unsigned long long)mt.bytes, mt.bytes == 1 ? "" : "s",
		             (unsigned long long)mt.pages, mt.pages == 1 ? "" : "s",
		             mt.headers_only ? ", headers only: it has text relocations" : "") < 0)
			m->status_detail = NULL;
		return m->status_detail ? 0 : -ENOMEM;
	}
	m->status = m->file_build_id_len ? CP_STATUS_UNVERIFIED : CP_STATUS_NO_BUILD_ID;
	if (asprintf(&m->status_detail, "%s, and the core holds none of its pages to compare",
	             why) < 0)
		return -ENOMEM;
	if (m->role == CP_ROLE_THREAD_DB)
		return 0; /* never mapped: cp_mod_add_thread_db() vouches for it */
	return cp_mod_warn(s, "'%s': %s: %s; packed unchecked", m->host_path,
	                   cp_status_name(m->status), m->status_detail);
}

/*
 * A live process's object through its map_files entry (access.h): the
 * very file mapped, found under its NT_FILE name (a canonical path, the
 * kernel's d_path) whatever is at that path now.  Returns the descriptor;
 * -EAGAIN when there is no such route (no live process, no NT_FILE, the
 * entry cannot be opened: not root, unmapped since), for the path to be
 * tried as ever; -EACCES (refused: the owners may not read the file),
 * -ENOMEM.
 */
static int open_mapped(const struct cp_scan_opts *o, struct cp_scan *s, struct cp_module *m,
                       struct stat *st, struct cp_error *e)
{
	if (!o->map_files || !m->map_hi)
		return -EAGAIN;
	char *host = NULL;
	if (asprintf(&host, "%s/%llx-%llx", o->map_files, (unsigned long long)m->map_lo,
	             (unsigned long long)m->map_hi) < 0)
		return -ENOMEM;
	int fd = cp_access_open(&s->access, host, NULL, st, e);
	if (fd < 0) {
		free(host);
		return fd == -ENOMEM || fd == -EACCES ? fd : -EAGAIN;
	}
	m->real_path = cp_path_normalize(m->origin_path);
	if (!m->real_path) {
		close(fd);
		free(host);
		return -ENOMEM;
	}
	m->host_path = host;
	m->via_map_files = 1;
	return fd;
}

/* Find the file, compare build-ids (or contents), set status. */
int cp_mod_check_module(const struct cp_core *core, const struct cp_scan_opts *o, struct cp_scan *s,
                        struct cp_module *m)
{
	struct cp_error e = {0};
	struct stat st;
	int r, fd;
	if (m->role == CP_ROLE_EXECUTABLE && o->executable) {
		/* -e: the file is given on this machine; it keeps the core's
		 * name in the bundle. */
		char *norm = cp_path_normalize(m->origin_path);
		m->real_path = norm;
		m->host_path = realpath(o->executable, NULL);
		if (!norm)
			return -ENOMEM;
		m->given = 1;
		fd = m->host_path ? cp_open_regular(m->host_path, 0, &st) : -errno;
		if (fd < 0) {
			free(m->host_path);
			m->host_path = NULL;
			m->status = CP_STATUS_MISSING;
			if (asprintf(&m->status_detail, "cannot open '%s': %s", o->executable,
			             fd == -EINVAL ? "not a regular file" : strerror(-fd)) < 0)
				return -ENOMEM;
			return cp_mod_warn(s, "%s", m->status_detail);
		}
	} else if ((fd = open_mapped(o, s, m, &st, &e)) != -EAGAIN) {
		if (fd == -ENOMEM)
			return fd;
		if (fd < 0)
			return module_missing(s, m, e.msg, "refused, not packed");
	} else {
		struct cp_resolved *res = NULL;
		cp_error_clear(&e);
		r = cp_resolve_as(&s->access, m->origin_path, CP_RESOLVE_OPEN, &res, &e);
		if (r == -ENOMEM)
			return r;
		fd = -1;
		if (r == 0) {
			m->host_path = cp_host_path(o->sysroot, res->real);
			m->real_path = strdup(res->real);
			if (!m->host_path || !m->real_path || cp_mod_add_links(s, m, res) < 0)
				return cp_resolved_free(res), -ENOMEM;
			fd = res->fd;
			res->fd = -1;
			st = res->st;
		}
		cp_resolved_free(res);
		if (fd < 0)
			return module_missing(s, m, e.msg[0] ? e.msg : "no such file",
			                      r == -EACCES || r == -EPERM ? "refused, not packed"
			                                                  : "missing");
	}
	cp_file_id_set(&m->file_id, &st);
	if (cp_fd_is_core(fd)) {
		close(fd);
		free(m->host_path);
		free(m->real_path);
		m->host_path = m->real_path = NULL;
		return module_missing(s, m,
		                      "a core file (ELF type ET_CORE), never packed as an object",
		                      "refused, not packed");
	}
	cp_error_clear(&e);
	r = cp_fd_build_id(fd, m->host_path, m->file_build_id, sizeof(m->file_build_id),
	                   &m->file_build_id_len, &e);
	close(fd);
	if (r == -ENOMEM)
		return r;
	char core_hex[2 * CP_BUILD_ID_MAX + 1], file_hex[2 * CP_BUILD_ID_MAX + 1];
	hexstr(m->core_build_id, m->core_build_id_len, core_hex);
	hexstr(m->file_build_id, m->file_build_id_len, file_hex);
	if (r < 0) {
		m->status = CP_STATUS_MISMATCH;
		m->status_detail = strdup(e.msg);
	} else if (m->core_build_id_len && m->file_build_id_len) {
		if (m->core_build_id_len == m->file_build_id_len &&
		    memcmp(m->core_build_id, m->file_build_id, m->file_build_id_len) == 0) {
			m->status = CP_STATUS_OK;
			m->verified_by = CP_VERIFY_BUILD_ID;
			return 0;
		}
		m->status = CP_STATUS_MISMATCH;
		if (asprintf(&m->status_detail, "build-id %s on disk, %s in the core", file_hex,
		             core_hex) < 0)
			return -ENOMEM;
	} else if (m->core_build_id_len) {
		m->status = CP_STATUS_MISMATCH;
		if (asprintf(&m->status_detail, "file has no build-id, the core has %s", core_hex) <
		    0)
			return -ENOMEM;
	} else {
		char why[2 * CP_BUILD_ID_MAX + 64];
		if (m->file_build_id_len)
			snprintf(why, sizeof(why),
			         "the core holds no build-id for it (the file has %s)", file_hex);
		else
			snprintf(why, sizeof(why), "no build-id in the core or the file");
		if ((r = check_content(core, s, m, why)) < 0 || m->status != CP_STATUS_MISMATCH)
			return r;
	}
	if (!m->status_detail)
		return -ENOMEM;
	return cp_mod_warn(s,
	                   "'%s': mismatch: %s; the file on this machine is not the one that ran, "
	                   "not packed",
	                   m->host_path, m->status_detail);
}
