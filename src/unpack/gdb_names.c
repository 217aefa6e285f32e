/*
 * The names gdb will open for an unpacked bundle, checked in the staging
 * directory before run-gdb.sh is written; see include/corepack/gdb_names.h.
 *
 * The core is read with the same code corepack scans it with (cp_core:
 * libelf framing, notes, memory, the link_map walk), the executable's
 * PT_INTERP and .dynamic with libelf.  The resolution of a name is done
 * here by hand, one component at a time through directory descriptors
 * (fstatat, readlinkat, openat of ".."), because the question is not
 * whether the name opens now but where the kernel would lead gdb in the
 * unpacked tree: up past its top directory (openat2's RESOLVE_BENEATH
 * would only say "not below", and needs Linux 5.6), or, at the top, to a
 * name that is not the bundle's (another file of the target directory).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/core.h"
#include "corepack/escape.h"
#include "corepack/gdb_names.h"
#include "corepack/io.h"
#include "corepack/layout.h"
#include "corepack/linkmap.h"
#include "corepack/scripts.h"

#define MAX_HOPS 40        /* symlinks followed, as the kernel's */
#define MAX_EXPANDED 16384 /* bytes of a name with its symlinks expanded */
#define MAX_INTERP 4096    /* bytes of PT_INTERP */

struct checker {
	struct cp_stage *st;
	struct cp_error *err;
	char **warnings;
	size_t n_warnings;
	/* gdb's working directory below sysroot/ while it loads the core
	 * (cp_scripts_gdb_dir()); "" for sysroot/ itself. */
	char *gdb_dir;
};

static int is_top(const struct cp_stage *st, int fd)
{
	struct stat sb;
	return fstat(fd, &sb) == 0 && sb.st_dev == st->dev && sb.st_ino == st->ino;
}

/*
 * Where NAME (absolute, as gdb appends it to the sysroot) leads below the
 * staging directory: 0 inside the bundle (found or not: a name the kernel
 * cannot resolve opens nothing), 1 out of it, -ENOMEM.  *FILE_FD, when not
 * NULL, receives the regular file it names, opened, or -1.
 */
static int resolve(struct cp_stage *st, const char *name, int *file_fd)
{
	int sysroot, cur, hops = 0, out = 0;
	if (file_fd)
		*file_fd = -1;
	if (cp_stage_dir(st, CP_BUNDLE_SYSROOT, strlen(CP_BUNDLE_SYSROOT), 0, &sysroot) < 0)
		return 0; /* no sysroot/: "sysroot/..." fails at once */
	if ((cur = fcntl(sysroot, F_DUPFD_CLOEXEC, 0)) < 0)
		return 0;
	char *rest = strdup(name);
	if (!rest) {
		close(cur);
		return -ENOMEM;
	}
	char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break; /* resolved: a directory, or where we stopped */
		char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		char comp[256];
		if (len >= sizeof(comp))
			break; /* ENAMETOOLONG */
		memcpy(comp, p, len);
		comp[len] = '\0';
		p = end;
		if (strcmp(comp, ".") == 0)
			continue;
		int top = is_top(st, cur);
		if (strcmp(comp, "..") == 0) {
			if (top) {
				out = 1; /* above the unpacked tree */
				break;
			}
			int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			close(cur);
			cur = up;
			if (cur < 0)
				break;
			continue;
		}
		int is_dir;
		if (top && !cp_bundle_top_name(comp, len, &is_dir)) {
			out = 1; /* another file of the target directory */
			break;
		}
		struct stat sb;
		if (fstatat(cur, comp, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			break; /* not there: gdb opens nothing */
		if (S_ISLNK(sb.st_mode)) {
			char target[CP_BUNDLE_MAX_PATH + 1];
			ssize_t n = readlinkat(cur, comp, target, sizeof(target) - 1);
			if (n <= 0 || ++hops > MAX_HOPS)
				break; /* ELOOP */
			target[n] = '\0';
			if (target[0] == '/') {
				out = 1;
				break;
			}
			size_t rlen = strlen(p);
			if ((size_t)n + 1 + rlen > MAX_EXPANDED)
				break;
			char *next = malloc((size_t)n + 2 + rlen);
			if (!next) {
				free(rest);
				close(cur);
				return -ENOMEM;
			}
			memcpy(next, target, (size_t)n);
			next[n] = '/';
			memcpy(next + n + 1, p, rlen + 1);
			free(rest);
			rest = p = next;
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			int down =
			    openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			close(cur);
			cur = down;
			if (cur < 0)
				break;
			continue;
		}
		/* A file: the end of the name, or ENOTDIR. */
		while (*p == '/')
			p++;
		if (!*p && file_fd && S_ISREG(sb.st_mode))
			*file_fd = openat(cur, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		break;
	}
	if (cur >= 0)
		close(cur);
	free(rest);
	return out;
}

/* NAME as gdb would open it: refused when it leads out of the bundle.  An
 * absolute name is opened below the sysroot; a relative one from gdb's
 * working directory, which run-gdb.sh and corepack.gdb make sysroot/ +
 * c->gdb_dir while the core is loaded (then, not found, gdb looks its base
 * name up in solib-search-path). */
static int check_name(struct checker *c, const char *name, const char *what)
{
	char shown[1200], dir[600];
	if (!name[0])
		return 0;
	cp_escape(name, shown, sizeof(shown));
	char *path = NULL;
	if (name[0] != '/' && asprintf(&path, "%s/%s", c->gdb_dir, name) < 0)
		return cp_error_set(c->err, ENOMEM, "out of memory");
	int r = resolve(c->st, path ? path : name, NULL);
	free(path);
	if (r < 0)
		return cp_error_set(c->err, ENOMEM, "out of memory");
	if (r && name[0] == '/')
		return cp_error_set(c->err, EINVAL,
		                    "%s '%s' leads out of the bundle: gdb would open '%s%s'", what,
		                    shown, CP_BUNDLE_SYSROOT, shown);
	if (r)
		return cp_error_set(
		    c->err, EINVAL,
		    "%s '%s' leads out of the bundle: gdb would open it from '%s%s/'", what, shown,
		    CP_BUNDLE_SYSROOT, cp_escape(c->gdb_dir, dir, sizeof(dir)));
	return 0;
}

/* The bytes of l_name gdb reads at ADDR: up to CP_GDB_SO_NAME_MAX, to the
 * NUL or to memory the core does not hold. */
static void gdb_view(const struct cp_core *core, uint64_t addr, char *out)
{
	size_t len = 0;
	while (len < CP_GDB_SO_NAME_MAX) {
		char piece[64];
		size_t chunk = 64 - (size_t)((addr + len) % 64);
		if (chunk > CP_GDB_SO_NAME_MAX - len)
			chunk = CP_GDB_SO_NAME_MAX - len;
		if (addr + len < addr || cp_core_read(core, addr + len, piece, chunk) < 0) {
			/* The chunk crosses into memory not dumped: byte by byte. */
			while (len < CP_GDB_SO_NAME_MAX &&
			       cp_core_read(core, addr + len, piece, 1) == 0 && piece[0])
				out[len++] = piece[0];
			break;
		}
		char *nul = memchr(piece, '\0', chunk);
		size_t n = nul ? (size_t)(nul - piece) : chunk;
		memcpy(out + len, piece, n);
		len += n;
		if (nul)
			break;
	}
	out[len] = '\0';
}

static int check_list(struct checker *c, const struct cp_core *core, const struct cp_linkmap *lm,
                      uint64_t vdso, uint64_t vdso_end)
{
	char name[CP_GDB_SO_NAME_MAX + 1];
	for (size_t i = 0; i < lm->n_entries; i++) {
		const struct cp_linkmap_entry *e = &lm->entries[i];
		/* gdb ignores the program's entry and drops the vDSO's (its
		 * l_ld is inside the vDSO's PT_LOAD). */
		if (e->first || !e->l_name || (e->l_ld >= vdso && e->l_ld < vdso_end))
			continue;
		gdb_view(core, e->l_name, name);
		int r = check_name(c, name, "link_map name (in the core's memory)");
		if (r < 0)
			return r;
	}
	return 0;
}

/* What gdb takes from the executable file: its PT_INTERP (*INTERP,
 * malloc'd) and r_debug as gdb finds it, through the file's .dynamic
 * section (gdb's scan_dyntag()), read from the core (*R_DEBUG, 0 when
 * none). */
static void exe_route(int fd, const struct cp_core *core, char **interp, uint64_t *r_debug)
{
	*interp = NULL;
	*r_debug = 0;
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	size_t phnum, shstrndx;
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    (gelf_getclass(e) == ELFCLASS64) != (core->is64 != 0))
		goto out;
	if (elf_getphdrnum(e, &phnum) == 0) {
		for (size_t i = 0; i < phnum && i < 4096; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_INTERP)
				continue;
			size_t n = ph.p_filesz < MAX_INTERP ? (size_t)ph.p_filesz : MAX_INTERP;
			char *s = calloc(1, n + 1);
			if (s && cp_pread_full(fd, s, n, ph.p_offset) == 0)
				*interp = s;
			else
				free(s);
			break;
		}
	}
	if (elf_getshdrstrndx(e, &shstrndx) < 0)
		goto out;
	uint64_t disp = 0;
	if (eh.e_type == ET_DYN && core->notes.have_auxv)
		disp = core->notes.at_entry - eh.e_entry;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(e, scn));) {
		GElf_Shdr sh;
		const char *nm;
		if (!gelf_getshdr(scn, &sh) || !(nm = elf_strptr(e, shstrndx, sh.sh_name)) ||
		    strcmp(nm, ".dynamic") != 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t ent = core->is64 ? 16 : 8, word = core->is64 ? 8 : 4;
		for (size_t i = 0; d && i < d->d_size / ent && i < 4096; i++) {
			GElf_Dyn dyn;
			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag != DT_DEBUG)
				continue;
			uint8_t b[8];
			if (cp_core_read(core, sh.sh_addr + disp + i * ent + word, b, word) == 0)
				*r_debug = cp_read_word(b, core->is64, core->big_endian);
			break;
		}
		break;
	}
out:
	if (e)
		elf_end(e);
}

/* The core's first bytes: whether gdb would load it as a core at all. */
static int is_elf_core(int fd)
{
	uint8_t h[20];
	if (cp_pread_full(fd, h, sizeof(h), 0) < 0 || memcmp(h, ELFMAG, SELFMAG) != 0)
		return 0;
	uint16_t type = h[EI_DATA] == ELFDATA2MSB ? (uint16_t)(h[16] << 8 | h[17])
	                                          : (uint16_t)(h[17] << 8 | h[16]);
	return type == ET_CORE;
}

static int check(struct checker *c, const struct cp_manifest *m)
{
	int fd = openat(c->st->sfd, CP_BUNDLE_CORE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!is_elf_core(fd)) {
		close(fd);
		return 0; /* gdb loads no core from it, and no names */
	}
	struct cp_core *core = NULL;
	struct cp_error cerr = {0};
	int r = cp_core_open_fd(fd, CP_BUNDLE_CORE, &core, &cerr);
	close(fd); /* duplicated by cp_core_open_fd() */
	if (r < 0)
		return cp_error_set(c->err, cerr.code == ENOMEM ? ENOMEM : EINVAL,
		                    "cannot check the names gdb will read from the core: %s",
		                    cerr.msg);
	struct cp_linkmap *a = NULL, *b = NULL;
	char *interp = NULL;
	r = cp_linkmap_walk(cp_core_mem_read, core, core->is64, core->big_endian, &core->notes, &a,
	                    c->err);
	const struct cp_manifest_object *exe = cp_manifest_executable(m);
	uint64_t rd = 0;
	if (r == 0 && exe && exe->real_path) {
		int efd;
		if ((r = resolve(c->st, exe->real_path, &efd)) < 0) {
			r = cp_error_set(c->err, ENOMEM, "out of memory");
		} else if (efd >= 0) {
			exe_route(efd, core, &interp, &rd);
			close(efd);
			r = 0;
		} else {
			r = 0;
		}
	}
	if (r == 0 && interp)
		r = check_name(c, interp, "the executable's PT_INTERP");
	if (r == 0 && rd && rd != a->r_debug)
		r = cp_linkmap_walk_from(cp_core_mem_read, core, core->is64, core->big_endian, rd,
		                         &b, c->err);
	uint64_t vdso = 0, vdso_end = 0;
	for (size_t i = 0; i < core->n_loads; i++) {
		if (core->notes.at_sysinfo_ehdr &&
		    core->loads[i].vaddr == core->notes.at_sysinfo_ehdr) {
			vdso = core->loads[i].vaddr;
			vdso_end = vdso + core->loads[i].memsz;
		}
	}
	if (r == 0)
		r = check_list(c, core, a, vdso, vdso_end);
	if (r == 0 && b)
		r = check_list(c, core, b, vdso, vdso_end);
	free(interp);
	cp_linkmap_free(a);
	cp_linkmap_free(b);
	cp_core_free(core);
	return r;
}

int cp_gdb_names_check(struct cp_stage *st, const struct cp_manifest *m, char ***warnings,
                       size_t *n, struct cp_error *err)
{
	struct checker c = {.st = st, .err = err};
	/* The executable run-gdb.sh gives gdb (unpack.c): the loader for
	 * `ld.so PROGRAM`. */
	const struct cp_manifest_object *exe = cp_manifest_executable(m);
	const struct cp_manifest_object *loader = exe ? cp_manifest_loader(m) : NULL;
	if (loader)
		exe = loader;
	if (!(c.gdb_dir = cp_scripts_gdb_dir(exe ? exe->real_path : NULL)))
		return cp_error_set(err, ENOMEM, "out of memory");
	int r = check(&c, m);
	free(c.gdb_dir);
	if (r < 0) {
		for (size_t i = 0; i < c.n_warnings; i++)
			free(c.warnings[i]);
		free(c.warnings);
		return r;
	}
	*warnings = c.warnings;
	*n = c.n_warnings;
	return 0;
}
