/*
 * Finding an object's split DWARF files (.dwo, .dwp) where gdb 13 finds
 * them, and checking each against the skeleton unit that names it
 * (splitdwarf.h).
 *
 * Skeleton and split units are read with libdw (dwarf_get_units,
 * dwarf_cu_info), over libelf handles opened with ELF_C_READ so that a file
 * truncated under us gives a read error, not SIGBUS.  The .dwp index is read
 * by hand: libdw 0.188 (Debian 12) cannot open DWARF packages (that came
 * with dwarf_cu_dwp_section_info in 0.191), and the index is four counts and
 * two arrays, each checked against the section's size.  Paths in skeletons
 * come from the object: they are normalised as origin paths and looked up
 * under the sysroot or a debug root, never outside.
 */
#include <dwarf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/libdw.h>

#include "corepack/io.h"
#include "corepack/resolve.h"
#include "corepack/splitdwarf.h"

/* Units walked in one file before giving up on it: a crafted .debug_info
 * of tiny units must not keep us busy for long. */
#define MAX_UNITS_WALKED (16 * CP_SPLIT_MAX_UNITS)

struct elf_handle {
	int fd;
	Elf *elf;
};

static void elf_handle_done(struct elf_handle *h)
{
	if (h->elf)
		elf_end(h->elf);
	if (h->fd >= 0)
		close(h->fd);
	h->elf = NULL;
	h->fd = -1;
}

/* Open PATH as an ELF file: 0, -ENOMEM, or -ENOENT for anything gdb would
 * not take (no such file, not a regular file, not ELF). */
static int elf_handle_open(const char *path, struct elf_handle *h)
{
	h->elf = NULL;
	h->fd = cp_open_regular(path, 0, NULL);
	if (h->fd < 0) {
		int r = h->fd == -ENOMEM ? -ENOMEM : -ENOENT;
		h->fd = -1;
		return r;
	}
	h->elf = elf_begin(h->fd, ELF_C_READ, NULL);
	if (!h->elf || elf_kind(h->elf) != ELF_K_ELF) {
		elf_handle_done(h);
		return -ENOENT;
	}
	return 0;
}

static Elf_Scn *find_section(Elf *elf, const char *want)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		return NULL;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr shdr;
		const char *name;
		if (gelf_getshdr(scn, &shdr) && shdr.sh_type != SHT_NOBITS &&
		    (name = elf_strptr(elf, shstrndx, shdr.sh_name)) && strcmp(name, want) == 0)
			return scn;
	}
	return NULL;
}

/* A string of the CU DIE, or NULL; long ones count as absent. */
static const char *die_string(Dwarf_Die *die, unsigned name)
{
	Dwarf_Attribute a;
	const char *s = dwarf_formstring(dwarf_attr(die, name, &a));
	return s && *s && strlen(s) < CP_PATH_MAX ? s : NULL;
}

static int add_unit(struct cp_split_result *r, uint64_t id, const char *name, const char *dir)
{
	struct cp_split_unit *u = realloc(r->units, (r->n_units + 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	r->units = u;
	u = &r->units[r->n_units];
	memset(u, 0, sizeof(*u));
	u->dwo_id = id;
	u->dwo_name = strdup(name);
	u->comp_dir = dir ? strdup(dir) : NULL;
	r->n_units++;
	if (!u->dwo_name || (dir && !u->comp_dir))
		return -ENOMEM;
	u->absolute = name[0] == '/';
	return 0;
}

/* The skeleton units of ELF into R. */
static int read_skeletons(Elf *elf, struct cp_split_result *r)
{
	Dwarf *dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return 0;
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t type;
	Dwarf_Die cudie;
	int rc = 0;
	for (size_t walked = 0; rc == 0 && walked < MAX_UNITS_WALKED &&
	                        dwarf_get_units(dw, cu, &next, &version, &type, &cudie, NULL) == 0;
	     walked++) {
		cu = next;
		uint64_t id;
		if (type != DW_UT_skeleton ||
		    dwarf_cu_info(cu, NULL, NULL, NULL, NULL, &id, NULL, NULL) != 0)
			continue;
		const char *name = die_string(&cudie, DW_AT_dwo_name);
		if (!name)
			name = die_string(&cudie, DW_AT_GNU_dwo_name);
		if (!name)
			continue;
		if (r->n_units >= CP_SPLIT_MAX_UNITS) {
			r->n_skipped++;
			continue;
		}
		rc = add_unit(r, id, name, die_string(&cudie, DW_AT_comp_dir));
	}
	dwarf_end(dw);
	return rc;
}

/*
 * Whether PATH is a .dwo holding a split unit with ID: 1 yes; 0 an ELF
 * file without it (gdb would open it and fail); -ENOENT nothing gdb would
 * open; -ENOMEM.
 */
static int dwo_has_id(const char *path, uint64_t id)
{
	struct elf_handle h;
	int r = elf_handle_open(path, &h);
	if (r < 0)
		return r;
	Dwarf *dw = dwarf_begin_elf(h.elf, DWARF_C_READ, NULL);
	int found = 0;
	if (dw) {
		Dwarf_CU *cu = NULL, *next;
		Dwarf_Half version;
		uint8_t type;
		uint64_t uid;
		for (size_t walked = 0;
		     !found && walked < MAX_UNITS_WALKED &&
		     dwarf_get_units(dw, cu, &next, &version, &type, NULL, NULL) == 0;
		     walked++) {
			cu = next;
			found = type == DW_UT_split_compile &&
			        dwarf_cu_info(cu, NULL, NULL, NULL, NULL, &uid, NULL, NULL) == 0 &&
			        uid == id;
		}
		dwarf_end(dw);
	}
	elf_handle_done(&h);
	return found;
}

static uint64_t rd(const unsigned char *p, int n, int big)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[big ? i : n - 1 - i] << (8 * (n - 1 - i));
	return v;
}

int cp_dwp_index_has(const unsigned char *s, size_t size, int big_endian, uint64_t id)
{
	if (size < 16)
		return -EINVAL;
	/* Version 2 is a 4-byte word; version 5 a 2-byte one and 2 bytes of
	 * padding. */
	if (rd(s, 4, big_endian) != 2 && (rd(s, 2, big_endian) != 5 || rd(s + 2, 2, big_endian)))
		return -EINVAL;
	uint64_t units = rd(s + 8, 4, big_endian), slots = rd(s + 12, 4, big_endian);
	if (slots == 0)
		return units == 0 ? 0 : -EINVAL;
	if ((slots & (slots - 1)) != 0 || units > slots || (size - 16) / 12 < slots)
		return -EINVAL;
	const unsigned char *sigs = s + 16, *rows = s + 16 + 8 * slots;
	/* The probe of DWARF 5 section 7.3.5.3 (and gdb's). */
	uint64_t mask = slots - 1, h = id & mask, step = ((id >> 32) & mask) | 1;
	for (uint64_t i = 0; i < slots; i++, h = (h + step) & mask) {
		uint64_t sig = rd(sigs + 8 * h, 8, big_endian);
		uint64_t row = rd(rows + 4 * h, 4, big_endian);
		if (sig == id && row != 0)
			return row <= units;
		if (sig == 0 && row == 0)
			return 0;
	}
	return 0;
}

/* PATH as a DWARF package: its .debug_cu_index in *INDEX (a copy, the
 * caller's), or -ENOENT when it is none. */
static int dwp_index(const char *path, unsigned char **index, size_t *size, int *big)
{
	struct elf_handle h;
	int r = elf_handle_open(path, &h);
	if (r < 0)
		return r;
	r = -ENOENT;
	Elf_Scn *scn = find_section(h.elf, ".debug_cu_index");
	Elf_Data *d = scn ? elf_rawdata(scn, NULL) : NULL;
	const unsigned char *ident = (const unsigned char *)elf_getident(h.elf, NULL);
	GElf_Shdr shdr;
	if (d && d->d_buf && ident && gelf_getshdr(scn, &shdr) &&
	    !(shdr.sh_flags & SHF_COMPRESSED) &&
	    cp_dwp_index_has(d->d_buf, d->d_size, ident[EI_DATA] == ELFDATA2MSB, 0) >= 0) {
		*index = malloc(d->d_size);
		if (!*index) {
			r = -ENOMEM;
		} else {
			memcpy(*index, d->d_buf, d->d_size);
			*size = d->d_size;
			*big = ident[EI_DATA] == ELFDATA2MSB;
			r = 0;
		}
	}
	elf_handle_done(&h);
	return r;
}

/* A + "/" + B, or NULL (ENOMEM, or longer than CP_PATH_MAX: no such file). */
static char *join(const char *a, const char *b)
{
	char *s;
	size_t la = strlen(a);
	errno = 0;
	while (la > 0 && a[la - 1] == '/')
		la--;
	if (asprintf(&s, "%.*s/%s", (int)la, a, b) < 0)
		return NULL;
	if (strlen(s) >= CP_PATH_MAX) {
		free(s);
		errno = ENAMETOOLONG;
		return NULL;
	}
	return s;
}

/* The file on this machine for origin path DIR/NAME (DIR NULL: NAME is
 * absolute), normalised so that ".." stops at the origin's root. */
static char *origin_file(const char *sysroot, const char *dir, const char *name)
{
	errno = 0;
	char *joined = dir ? join(dir, name) : strdup(name);
	char *norm = joined ? cp_path_normalize(joined) : NULL;
	char *host = norm ? cp_host_path(sysroot, norm) : NULL;
	free(joined);
	free(norm);
	return host;
}

/* ROOT (a directory on this machine) + NAME, NAME kept below ROOT. */
static char *under(const char *root, const char *name)
{
	errno = 0;
	char *abs = join("", name); /* "/" + name */
	char *norm = abs ? cp_path_normalize(abs) : NULL;
	char *host = norm ? join(root, norm + 1) : NULL;
	free(abs);
	free(norm);
	return host;
}

/* The directory part of PATH ("/" for "/x"), or NULL on ENOMEM. */
static char *dir_name(const char *path)
{
	char *d = strdup(path);
	char *slash = d ? strrchr(d, '/') : NULL;
	if (slash)
		slash[slash == d ? 1 : 0] = '\0';
	return d;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

struct finder {
	const struct cp_debug_search *s;
	const struct cp_split_object *o;
	const struct cp_split_result *res;
	char *objdir; /* the debug file's directory on this machine (in_debug_file) */
};

/* Add PATH (taken over) to R's opened names unless it is there. */
static int add_opened(struct cp_split_result *r, char *path)
{
	if (!path)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_opened; i++)
		if (strcmp(r->opened[i], path) == 0) {
			free(path);
			return 0;
		}
	char **a = realloc(r->opened, (r->n_opened + 1) * sizeof(*a));
	if (!a) {
		free(path);
		return -ENOMEM;
	}
	r->opened = a;
	r->opened[r->n_opened++] = path;
	return 0;
}

/* R's opened names: the real path, then each absolute name with its
 * directory resolved under the sysroot (as is when it cannot be). */
static int opened_names(const struct cp_debug_search *s, const struct cp_split_object *o,
                        struct cp_split_result *r)
{
	int rc = o->real_path ? add_opened(r, strdup(o->real_path)) : 0;
	for (size_t i = 0; rc == 0 && i < o->n_names; i++) {
		const char *name = o->names[i];
		struct cp_resolved *res = NULL;
		if (!name || name[0] != '/')
			continue;
		char *norm = cp_path_normalize(name), *dir = norm ? dir_name(norm) : NULL,
		     *p = NULL;
		if (!dir) {
			free(norm);
			return -ENOMEM;
		}
		rc = cp_resolve(s->sysroot, dir, 0, &res, NULL);
		if (rc == -ENOMEM) {
			free(norm);
			free(dir);
			return rc;
		}
		const char *real = rc == 0 ? res->real : dir;
		if (asprintf(&p, "%s%s%s", strcmp(real, "/") ? real : "", "/", base_name(norm)) < 0)
			p = NULL;
		cp_resolved_free(res);
		free(norm);
		free(dir);
		rc = add_opened(r, p);
	}
	return rc;
}

/* Try candidate PATH (taken over; NULL: skipped unless errno is ENOMEM)
 * for unit U.  1 when it is U's file, 0 to go on, -ENOMEM. */
static int try_dwo(struct cp_split_unit *u, char *path, enum cp_debug_how how)
{
	if (!path)
		return errno == ENOMEM ? -ENOMEM : 0;
	int r = dwo_has_id(path, u->dwo_id);
	if (r == 1) {
		u->file = calloc(1, sizeof(*u->file));
		if (!u->file) {
			free(path);
			return -ENOMEM;
		}
		u->file->host_path = path;
		u->file->how = how;
		return 1;
	}
	if (r == 0 && !u->stale) {
		u->stale = path;
		return 0;
	}
	free(path);
	return r == -ENOMEM ? r : 0;
}

static int find_dwo(const struct finder *f, struct cp_split_unit *u)
{
	const struct cp_debug_search *s = f->s;
	const char *name = u->dwo_name, *cd = u->comp_dir;
	int r;
	if (u->absolute)
		return try_dwo(u, origin_file(s->sysroot, NULL, name), CP_DEBUG_DWO_PATH);
	/* gdb tries COMP_DIR/NAME first: absolute, as it is; relative, in
	 * the object's directory (and its cwd) and the debug roots. */
	char *rel = cd && cd[0] != '/' ? join(cd, name) : NULL;
	if (cd && cd[0] != '/' && !rel)
		return errno == ENOMEM ? -ENOMEM : 0;
	const char *names[2] = {rel, name};
	if (cd && cd[0] == '/' &&
	    (r = try_dwo(u, origin_file(s->sysroot, cd, name), CP_DEBUG_DWO_COMP_DIR)) != 0)
		goto out;
	for (int k = rel ? 0 : 1; k < 2; k++) {
		if (f->o->in_debug_file) {
			if ((r = try_dwo(u, under(f->objdir, names[k]), CP_DEBUG_DWO_OBJECT_DIR)) !=
			    0)
				goto out;
		}
		for (size_t i = 0; i < f->res->n_opened; i++) {
			char *dir = dir_name(f->res->opened[i]);
			char *p = dir ? origin_file(s->sysroot, dir, names[k]) : NULL;
			free(dir);
			if ((r = try_dwo(u, p, CP_DEBUG_DWO_OBJECT_DIR)) != 0)
				goto out;
		}
		for (size_t i = 0; i < s->n_roots; i++)
			if ((r = try_dwo(u, under(s->roots[i], names[k]), CP_DEBUG_DWO_ROOT)) != 0)
				goto out;
	}
	r = 0;
out:
	free(rel);
	return r < 0 ? r : 0;
}

/* Take PATH (taken over) as the .dwp when it is one: 1, 0 when not, -ENOMEM. */
static int try_dwp(struct cp_split_result *res, char *path, enum cp_debug_how how)
{
	unsigned char *index = NULL;
	size_t size = 0;
	int big = 0;
	if (!path)
		return errno == ENOMEM ? -ENOMEM : 0;
	int r = dwp_index(path, &index, &size, &big);
	if (r < 0) {
		free(path);
		return r == -ENOMEM ? r : 0;
	}
	res->dwp = calloc(1, sizeof(*res->dwp));
	if (!res->dwp) {
		free(index);
		free(path);
		return -ENOMEM;
	}
	res->dwp->host_path = path;
	res->dwp->how = how;
	for (size_t i = 0; i < res->n_units; i++)
		res->units[i].in_dwp =
		    cp_dwp_index_has(index, size, big, res->units[i].dwo_id) == 1;
	free(index);
	return 1;
}

/* gdb's open_and_init_dwp_file: NAME.dwp for the names the object was
 * opened by (for skeletons in a debug file: beside that file, and the
 * debug file's own name + .dwp), then BASENAME.dwp under each root. */
static int find_dwp(const struct finder *f, struct cp_split_result *res)
{
	const struct cp_split_object *o = f->o;
	const struct cp_debug_search *s = f->s;
	size_t n = o->n_names + 1;
	int r = 0;
	for (size_t i = 0; i < n && r == 0 && o->in_debug_file; i++) {
		const char *name = i < o->n_names ? o->names[i] : o->real_path;
		char *dwp = NULL;
		if (!name || name[0] != '/')
			continue;
		if (asprintf(&dwp, "%s.dwp", base_name(name)) < 0)
			return -ENOMEM;
		r = try_dwp(res, join(f->objdir, dwp), CP_DEBUG_DWP);
		free(dwp);
	}
	for (size_t i = 0; i < res->n_opened && r == 0 && !o->in_debug_file; i++) {
		char *dwp = NULL;
		if (asprintf(&dwp, "%s.dwp", res->opened[i]) < 0)
			return -ENOMEM;
		r = try_dwp(res, origin_file(s->sysroot, NULL, dwp), CP_DEBUG_DWP);
		free(dwp);
	}
	if (r == 0 && o->in_debug_file) {
		char *dwp = NULL;
		if (asprintf(&dwp, "%s.dwp", o->dwarf_path) < 0)
			return -ENOMEM;
		r = try_dwp(res, dwp, CP_DEBUG_DWP);
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *name = i < o->n_names ? o->names[i] : o->real_path;
		if (!name || name[0] != '/')
			continue;
		for (size_t k = 0; k < s->n_roots && r == 0; k++) {
			char *dwp = NULL;
			if (asprintf(&dwp, "%s.dwp", base_name(name)) < 0)
				return -ENOMEM;
			r = try_dwp(res, join(s->roots[k], dwp), CP_DEBUG_DWP_ROOT);
			free(dwp);
		}
	}
	return r < 0 ? r : 0;
}

int cp_split_find(const struct cp_debug_search *s, const struct cp_split_object *o,
                  struct cp_split_result **out, struct cp_error *err)
{
	static const struct cp_debug_search no_search;
	struct elf_handle h;
	struct cp_split_result *res = NULL;
	struct finder f = {s ? s : &no_search, o, NULL, NULL};
	*out = NULL;
	int r = elf_handle_open(o->dwarf_path, &h);
	if (r < 0)
		goto out;
	/* Every skeleton has DW_AT_addr_base (or DW_AT_GNU_addr_base) into
	 * .debug_addr; gcc's whole-DWARF objects have none, and this is read
	 * from the section headers, without reading any DWARF. */
	if (!find_section(h.elf, ".debug_addr")) {
		elf_handle_done(&h);
		return 0;
	}
	res = calloc(1, sizeof(*res));
	r = res ? read_skeletons(h.elf, res) : -ENOMEM;
	elf_handle_done(&h);
	if (r < 0 || res->n_units == 0)
		goto out;
	res->in_debug_file = o->in_debug_file;
	f.res = res;
	if (o->in_debug_file ? !(f.objdir = dir_name(o->dwarf_path))
	                     : opened_names(f.s, o, res) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = find_dwp(&f, res)) < 0)
		goto out;
	for (size_t i = 0; i < res->n_units && !res->dwp; i++)
		if ((r = find_dwo(&f, &res->units[i])) < 0)
			goto out;
	for (size_t i = 0; i < res->n_units; i++)
		res->n_missing += res->dwp ? !res->units[i].in_dwp : !res->units[i].file;
	*out = res;
	res = NULL;
	r = 0;
out:
	free(f.objdir);
	cp_split_result_free(res);
	if (r == -ENOMEM)
		return cp_error_set(err, ENOMEM, "out of memory");
	return 0;
}

void cp_split_result_free(struct cp_split_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_units; i++) {
		struct cp_split_unit *u = &r->units[i];
		free(u->dwo_name);
		free(u->comp_dir);
		free(u->stale);
		if (u->file)
			free(u->file->host_path);
		free(u->file);
	}
	free(r->units);
	for (size_t i = 0; i < r->n_opened; i++)
		free(r->opened[i]);
	free(r->opened);
	if (r->dwp)
		free(r->dwp->host_path);
	free(r->dwp);
	free(r);
}
