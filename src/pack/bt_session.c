/*
 * The unwinder child's libdwfl session (see bt_walk.c for the whole):
 * every module reported with the address range NT_FILE gave (or, without
 * NT_FILE, the range of the verified file), and find_elf / find_debuginfo
 * callbacks that hand out only the files the scan verified, re-checking
 * their build-ids on the open fd, plus the vDSO from the core's memory;
 * files with zstd-compressed debug sections are handed out decompressed
 * (bt_zdebug.c).
 * A dwz alt file the scan did not find is replaced by an empty stub so
 * libdw does not look for one on this machine.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt_child.h"
#include "corepack/io.h"

/* The vDSO is a few pages; refuse absurd segments. */
#define VDSO_MAX (1u << 20)

static bool same_build_id(Elf *elf, const uint8_t *want, size_t want_len)
{
	const void *bits;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);
	if (n <= 0)
		return want_len == 0;
	return (size_t)n == want_len && memcmp(bits, want, want_len) == 0;
}

/* Open a file the scan verified; check the build-id again on the fd, as the
 * file may have been replaced since.  Returns the fd, *ELFP set. */
static int open_verified(const char *path, const uint8_t *id, size_t id_len, int check, Elf **elfp)
{
	*elfp = NULL;
	int fd = cp_open_regular(path, 0, NULL);
	if (fd < 0)
		return -1;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || (check && !same_build_id(elf, id, id_len))) {
		elf_end(elf);
		close(fd);
		return -1;
	}
	*elfp = elf;
	return fd;
}

/* A copy of the file FD (read as ELF) with its zstd-compressed debug
 * sections decompressed, or -1 when it has none or they cannot be read;
 * why not goes to the module's note. */
static int decompressed(int fd, Elf *elf, Elf **copy, struct bt_module *bm)
{
	struct stat st;
	char *why = NULL;
	if (fstat(fd, &st) != 0 || st.st_size <= 0)
		return -1;
	int mfd = cp_bt_zdebug_open(elf, (uint64_t)st.st_size, copy, &why);
	if (why && !bm->dwarf_why)
		bm->dwarf_why = why;
	else
		free(why);
	return mfd;
}

static int bt_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
                       char **file_name, Elf **elfp)
{
	struct bt_module *bm = *userdata;
	*elfp = NULL;
	if (!bm)
		return -1;
	if (bm->image) {
		*elfp = elf_memory((char *)bm->image, bm->image_len);
		return -1;
	}
	const struct cp_module *m = bm->m;
	if (!cp_module_packable(m))
		return -1;
	/* Modules with no build-id anywhere cannot be re-checked. */
	int check = m->file_build_id_len > 0 || m->core_build_id_len > 0;
	int fd = open_verified(m->host_path, m->file_build_id, m->file_build_id_len, check, elfp);
	if (fd < 0)
		return -1;
	/* its own debug sections compressed with zstd ("ld
	 * --compress-debug-sections=zstd"): libdwfl reads them here */
	Elf *copy;
	int mfd = decompressed(fd, *elfp, &copy, bm);
	if (mfd >= 0) {
		elf_end(*elfp);
		close(fd);
		*elfp = copy;
		fd = mfd;
	}
	*file_name = strdup(m->host_path);
	return fd;
}

static int bt_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                             Dwarf_Addr base, const char *file_name, const char *debuglink_file,
                             GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	struct bt_module *bm = *userdata;
	if (!bm || !bm->m || !bm->m->debug)
		return -1;
	const struct cp_debug_result *d = bm->m->debug;
	const struct cp_debug_file *want = NULL;
	/* libdwfl asks again for the dwz alt file, with its written name. */
	if (d->alt && d->alt_name && debuglink_file && strcmp(debuglink_file, d->alt_name) == 0)
		want = d->alt;
	else if (!bm->debug_given && d->file)
		want = d->file;
	if (!want)
		return -1;
	Elf *elf;
	int fd = open_verified(want->host_path, want->build_id, want->build_id_len,
	                       want->build_id_len > 0, &elf);
	if (fd < 0)
		return -1;
	int mfd = decompressed(fd, elf, NULL, bm);
	elf_end(elf); /* libdwfl opens its own on the fd */
	if (mfd >= 0) {
		close(fd);
		fd = mfd;
	}
	if (want == d->file)
		bm->debug_given = 1;
	else
		bm->alt_given = 1;
	*debuginfo_file_name = strdup(want->host_path);
	return fd;
}

const Dwfl_Callbacks cp_bt_callbacks = {
    .find_elf = bt_find_elf,
    .find_debuginfo = bt_find_debuginfo,
};

/* The ELF range [LOW, HIGH) of a file loaded with BIAS, with LOW as libdwfl
 * derives the bias back from it (first PT_LOAD, aligned down). */
static int file_range(const char *path, int is_exe, const struct cp_notes *n, uint64_t bias,
                      uint64_t *low, uint64_t *high)
{
	int fd = cp_open_regular(path, 0, NULL);
	if (fd < 0)
		return -1;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t phnum;
	int r = -1, have_first = 0;
	GElf_Ehdr eh;
	uint64_t first = 0, hi = 0;
	if (!elf || !gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &phnum) != 0)
		goto out;
	for (size_t i = 0; i < phnum && i < 65536; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			goto out;
		if (is_exe && ph.p_type == PT_PHDR && n->have_auxv && n->at_phdr)
			bias = n->at_phdr - ph.p_vaddr; /* PIE without NT_FILE */
		if (ph.p_type != PT_LOAD)
			continue;
		if (!have_first) {
			first = ph.p_align > 1 ? ph.p_vaddr & -ph.p_align : ph.p_vaddr;
			have_first = 1;
		}
		if (ph.p_vaddr + ph.p_memsz > hi && ph.p_vaddr + ph.p_memsz >= ph.p_vaddr)
			hi = ph.p_vaddr + ph.p_memsz;
	}
	if (!have_first || hi <= first || bias + first < bias || bias + hi < bias)
		goto out;
	*low = bias + first;
	*high = bias + hi;
	r = 0;
out:
	elf_end(elf);
	close(fd);
	return r;
}

static int cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

void cp_bt_report_modules(struct bt_child *c)
{
	const struct cp_scan *s = c->scan;
	const struct cp_notes *n = &c->core->notes;
	c->mods = calloc(s->n_modules + 1, sizeof(*c->mods));
	uint64_t(*ranges)[3] = calloc(s->n_modules + 1, sizeof(*ranges));
	if (!c->mods || !ranges)
		_exit(4);
	size_t nr = 0;
	for (size_t i = 0; i < s->n_modules; i++) {
		const struct cp_module *m = &s->modules[i];
		uint64_t low = m->start, high = m->end;
		if (m->role == CP_ROLE_THREAD_DB)
			continue; /* not mapped */
		if (!high) {
			/* no NT_FILE: the range comes from the verified file */
			int exe = m->role == CP_ROLE_EXECUTABLE;
			if (!cp_module_packable(m) || (!low && !exe) ||
			    file_range(m->host_path, exe, n, low, &low, &high) < 0)
				continue;
		}
		if (high <= low)
			continue;
		ranges[nr][0] = low;
		ranges[nr][1] = high;
		ranges[nr][2] = i;
		nr++;
	}
	/* the vDSO: its whole segment in the core */
	for (size_t k = 0; s->vdso && k < c->core->n_loads; k++) {
		const struct cp_segment *sg = &c->core->loads[k];
		if (sg->vaddr != s->vdso || sg->memsz == 0 || sg->memsz > VDSO_MAX ||
		    sg->filesz < sg->memsz)
			continue;
		uint8_t *img = malloc(sg->memsz);
		if (img && cp_core_read(c->core, sg->vaddr, img, sg->memsz) == 0) {
			c->mods[s->n_modules] = (struct bt_module){
			    .name = "[vdso]", .image = img, .image_len = sg->memsz};
			ranges[nr][0] = sg->vaddr;
			ranges[nr][1] = sg->vaddr + sg->memsz;
			ranges[nr][2] = s->n_modules;
			nr++;
		} else {
			free(img);
		}
		break;
	}
	qsort(ranges, nr, sizeof(*ranges), cmp_range);
	dwfl_report_begin(c->dwfl);
	uint64_t reached = 0;
	for (size_t k = 0; k < nr; k++) {
		size_t i = (size_t)ranges[k][2];
		if (ranges[k][0] < reached)
			continue;
		struct bt_module *bm = &c->mods[i];
		if (i < s->n_modules)
			*bm = (struct bt_module){.m = &s->modules[i],
			                         .name = s->modules[i].origin_path};
		Dwfl_Module *dm = dwfl_report_module(c->dwfl, bm->name, ranges[k][0], ranges[k][1]);
		if (!dm)
			continue;
		void **ud;
		dwfl_module_info(dm, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
		*ud = bm;
		reached = ranges[k][1];
	}
	dwfl_report_end(c->dwfl, NULL, NULL);
	free(ranges);
}

/*
 * A Dwarf with no units, to stand in for a dwz alt file the scan did not
 * find.  Without one, libdw 0.188 looks for the alt file itself, when a DIE
 * first refers to it, under this machine's /usr/lib/debug and at the
 * written path: files the scan did not verify, outside any sysroot.  With
 * the stub, references into the alt file fail like any missing DIE.
 */
static Dwarf *stub_alt(void)
{
	static Dwarf *stub;
	static struct {
		Elf64_Ehdr eh;
		Elf64_Shdr sh[3];
		char shstr[24];
		char line[8];
	} img;
	static const char names[] = "\0.shstrtab\0.debug_line"; /* at 1 and 11 */
	if (stub)
		return stub;
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS64;
	img.eh.e_ident[EI_DATA] =
	    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_ehsize = sizeof(img.eh);
	img.eh.e_shoff = offsetof(__typeof__(img), sh);
	img.eh.e_shentsize = sizeof(img.sh[0]);
	img.eh.e_shnum = 3;
	img.eh.e_shstrndx = 1;
	memcpy(img.shstr, names, sizeof(names));
	img.sh[1].sh_name = 1;
	img.sh[1].sh_type = SHT_STRTAB;
	img.sh[1].sh_offset = offsetof(__typeof__(img), shstr);
	img.sh[1].sh_size = sizeof(names);
	img.sh[2].sh_name = 11;
	img.sh[2].sh_type = SHT_PROGBITS;
	img.sh[2].sh_offset = offsetof(__typeof__(img), line);
	img.sh[2].sh_size = 1; /* dwarf_begin_elf() wants some DWARF section */
	Elf *elf = elf_memory((char *)&img, sizeof(img));
	stub = elf ? dwarf_begin_elf(elf, DWARF_C_READ, NULL) : NULL;
	return stub;
}

void cp_bt_guard_alt(Dwfl_Module *mod, struct bt_module *bm)
{
	Dwarf_Addr bias;
	const char *name;
	const void *id;
	if (!bm || bm->alt_guarded)
		return;
	bm->alt_guarded = 1;
	Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
	if (dw && !bm->alt_given && dwelf_dwarf_gnu_debugaltlink(dw, &name, &id) > 0) {
		Dwarf *stub = stub_alt();
		if (stub)
			dwarf_setalt(dw, stub);
	}
}
