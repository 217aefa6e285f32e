/*
 * The unwinder child's work: a libdwfl session over the core, built from
 * the scan, and the symbolization of every frame the way gdb shows it.
 *
 * The Dwfl is not built with dwfl_core_file_report(): elfutils 0.188's
 * link_map walk opens each l_name on this machine, outside any sysroot, and
 * accepts the file when the core's copy of the build-id is not dumped.
 * Here every module is reported with the address range NT_FILE gave, and
 * find_elf / find_debuginfo hand out only the files the scan verified
 * (re-checking their build-ids on the open fd), plus the vDSO from the
 * core's memory.  dwfl_core_file_attach() supplies the threads' registers
 * and the stack memory.
 *
 * To match gdb's backtraces: inlined functions get frames of their own,
 * frames lost to tail calls are rebuilt from DW_TAG_call_site, functions
 * are named by their DWARF linkage name and symbol aliases chosen as gdb
 * chooses, the signal trampoline is "<signal handler called>", and a
 * thread stops at the executable's main.
 *
 * Every record goes to the pipe as soon as it is made (backtrace.c runs
 * this in a child and reads it with a deadline).
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
#include <unistd.h>

#include "backtrace_private.h"

/* The vDSO is a few pages; refuse absurd segments. */
#define VDSO_MAX (1u << 20)
/* Tail-call chains rebuilt from DW_TAG_call_site: depth and work caps. */
#define TAILCALL_MAX_DEPTH 6
#define TAILCALL_MAX_VISITS 64

struct bt_module {
	const struct cp_module *m; /* NULL for the vDSO */
	const char *name;          /* origin path, or "[vdso]" */
	uint8_t *image;            /* the vDSO's bytes, read from the core */
	size_t image_len;
	int debug_given, alt_given, alt_guarded;
};

struct bt_child {
	const struct cp_core *core;
	const struct cp_scan *scan;
	size_t max_threads, max_frames;
	int crashing_only;
	int out_fd;
	Dwfl *dwfl;
	struct bt_module *mods;
	const char *exe_name; /* origin path of the executable, or NULL */
	int32_t crash_tid;
	size_t n_threads;
	int threads_cut;
	/* the thread being unwound */
	int32_t tid;
	size_t n_frames;
	int frames_cut, past_main;
	uint64_t prev_entry; /* entry pc of the previous physical frame's function */
	Dwfl_Module *prev_mod;
	char *why;
};

static void write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			_exit(3); /* the parent is gone or stopped listening */
		p += k;
		n -= (size_t)k;
	}
}

/* Each record goes out in one write as soon as it is made, so a crash or a
 * timeout later loses nothing already unwound. */
static void send_frame(struct bt_child *c, const struct cp_frame *f)
{
	struct cp_buf w = {0};
	cp_wire_put_frame(&w, f);
	if (w.oom)
		_exit(4);
	write_all(c->out_fd, w.d, w.len);
	free(w.d);
}

static void send_record(struct bt_child *c, int type, int32_t tid, int flag, const char *why)
{
	struct cp_buf w = {0};
	if (type == 'M')
		cp_wire_put_magic(&w);
	else if (type == 'S')
		cp_wire_put_thread_start(&w, tid, flag);
	else if (type == 'T')
		cp_wire_put_thread_end(&w, flag, why);
	else
		cp_wire_put_end(&w, flag, why);
	if (w.oom)
		_exit(4);
	write_all(c->out_fd, w.d, w.len);
	free(w.d);
}

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
	int fd = open(path, O_RDONLY | O_CLOEXEC);
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
	if (fd >= 0)
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
	elf_end(elf); /* libdwfl opens its own on the fd */
	if (want == d->file)
		bm->debug_given = 1;
	else
		bm->alt_given = 1;
	*debuginfo_file_name = strdup(want->host_path);
	return fd;
}

static const Dwfl_Callbacks bt_callbacks = {
    .find_elf = bt_find_elf,
    .find_debuginfo = bt_find_debuginfo,
};

/* The ELF range [LOW, HIGH) of a file loaded with BIAS, with LOW as libdwfl
 * derives the bias back from it (first PT_LOAD, aligned down). */
static int file_range(const char *path, int is_exe, const struct cp_notes *n, uint64_t bias,
                      uint64_t *low, uint64_t *high)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
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

/* Report every module the scan placed, plus the vDSO.  Modules whose range
 * collides with one already reported are left out. */
static void report_modules(struct bt_child *c)
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

/* Before anything reads MOD's DWARF: if it names a dwz alt file that we
 * did not hand to libdwfl, give it the stub. */
static void guard_alt(Dwfl_Module *mod, struct bt_module *bm)
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

static const char *die_function_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *name = NULL;
	/* gdb prints C functions by their linkage name when there is one
	 * (glibc's __GI_ aliases) */
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		name = dwarf_formstring(&a);
	if (!name && dwarf_attr_integrate(die, DW_AT_name, &a))
		name = dwarf_formstring(&a);
	return name;
}

/* Assemblers emit one subprogram per alias of a function, all with the
 * same range (glibc's __clone3, __GI___clone3, clone3); gdb shows the last
 * one.  Returns that sibling of DIE, or DIE. */
static Dwarf_Die last_alias(Dwarf_Die *die)
{
	Dwarf_Die best = *die, next = *die;
	Dwarf_Addr lo, hi, lo2, hi2;
	if (dwarf_lowpc(die, &lo) != 0 || dwarf_highpc(die, &hi) != 0)
		return best;
	for (int i = 0; i < 16 && dwarf_siblingof(&next, &next) == 0; i++) {
		if (dwarf_tag(&next) != DW_TAG_subprogram || dwarf_lowpc(&next, &lo2) != 0 ||
		    dwarf_highpc(&next, &hi2) != 0 || lo2 != lo || hi2 != hi)
			break;
		best = next;
	}
	return best;
}

/* The source file of index DW_AT_call_file in the CU. */
static const char *call_file(Dwarf_Die *cudie, Dwarf_Die *die, int *line)
{
	Dwarf_Attribute a;
	Dwarf_Word idx, ln;
	Dwarf_Files *files;
	size_t nfiles;
	*line = 0;
	if (dwarf_attr(die, DW_AT_call_line, &a) && dwarf_formudata(&a, &ln) == 0 &&
	    ln <= INT32_MAX)
		*line = (int)ln;
	if (!dwarf_attr(die, DW_AT_call_file, &a) || dwarf_formudata(&a, &idx) != 0 ||
	    dwarf_getsrcfiles(cudie, &files, &nfiles) != 0 || idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

/* The scopes containing ADDR (a CU-relative address), innermost first,
 * along the concrete nesting: dwarf_getscopes() continues an inlined
 * function with its abstract origin's scopes, which loses the functions it
 * was inlined into, so walk up again from the innermost DIE as eu-addr2line
 * does. */
static int concrete_scopes(Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die **scopes)
{
	int n = dwarf_getscopes(cu, addr, scopes);
	if (n <= 0)
		return n;
	Dwarf_Die inner = (*scopes)[0];
	free(*scopes);
	*scopes = NULL;
	return dwarf_getscopes_die(&inner, scopes);
}

static bool die_entry(Dwarf_Die *die, Dwarf_Addr *entry)
{
	return dwarf_entrypc(die, entry) == 0 || dwarf_lowpc(die, entry) == 0;
}

/* Emit a frame; false once the thread reached max_frames. */
static bool emit(struct bt_child *c, const struct cp_frame *f)
{
	if (c->n_frames >= c->max_frames) {
		c->frames_cut = 1;
		return false;
	}
	send_frame(c, f);
	c->n_frames++;
	return true;
}

/* --- tail calls: gdb rebuilds the frames of functions that ended in a jump
 * from DW_TAG_call_site; without them our backtraces miss frames gdb shows
 * (e.g. glibc's __futex_abstimed_wait_cancelable64 under pthread_join). */

struct call_site {
	Dwarf_Addr return_pc; /* in the module's DWARF addresses */
	Dwarf_Addr target;    /* entry of the called function; 0 unknown */
	bool tail;
};

static bool find_symbol_by_name(Dwfl_Module *mod, const char *name, Dwarf_Addr *addr)
{
	int n = dwfl_module_getsymtab(mod);
	for (int i = 1; i < n && i < (1 << 22); i++) {
		GElf_Sym sym;
		GElf_Addr a;
		const char *s = dwfl_module_getsym_info(mod, i, &sym, &a, NULL, NULL, NULL);
		if (s && GELF_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_shndx != SHN_UNDEF &&
		    strcmp(s, name) == 0) {
			*addr = a;
			return true;
		}
	}
	return false;
}

/* The entry (absolute address) of the function a call site calls. */
static Dwarf_Addr call_site_target(Dwfl_Module *mod, Dwarf_Addr bias, Dwarf_Die *site)
{
	Dwarf_Attribute a;
	Dwarf_Die origin;
	Dwarf_Addr entry;
	if (!dwarf_attr(site, DW_AT_call_origin, &a) &&
	    !dwarf_attr(site, DW_AT_abstract_origin, &a))
		return 0;
	if (!dwarf_formref_die(&a, &origin))
		return 0;
	if (die_entry(&origin, &entry))
		return entry + bias;
	/* a declaration: find the definition by name in the symbol table */
	const char *name = die_function_name(&origin);
	Dwarf_Addr addr;
	return name && find_symbol_by_name(mod, name, &addr) ? addr : 0;
}

static bool read_call_site(Dwfl_Module *mod, Dwarf_Addr bias, Dwarf_Die *die, struct call_site *cs)
{
	Dwarf_Attribute a;
	bool flag = false;
	int tag = dwarf_tag(die);
	if (tag != DW_TAG_call_site && tag != DW_TAG_GNU_call_site)
		return false;
	if (!dwarf_attr(die, DW_AT_call_return_pc, &a) && !dwarf_attr(die, DW_AT_low_pc, &a))
		return false;
	if (dwarf_formaddr(&a, &cs->return_pc) != 0)
		return false;
	cs->return_pc += bias;
	cs->tail = (dwarf_attr(die, DW_AT_call_tail_call, &a) ||
	            dwarf_attr(die, DW_AT_GNU_tail_call, &a)) &&
	           dwarf_formflag(&a, &flag) == 0 && flag;
	cs->target = call_site_target(mod, bias, die);
	return true;
}

/* Walk the call sites under DIE (into lexical blocks and inlined
 * subroutines, not nested functions); stop when FN returns true. */
static bool each_call_site(Dwfl_Module *mod, Dwarf_Addr bias, Dwarf_Die *die, int depth,
                           bool (*fn)(const struct call_site *, void *), void *arg)
{
	Dwarf_Die child;
	if (depth > 32 || dwarf_child(die, &child) != 0)
		return false;
	do {
		struct call_site cs;
		int tag = dwarf_tag(&child);
		if (read_call_site(mod, bias, &child, &cs)) {
			if (fn(&cs, arg))
				return true;
		} else if (tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) {
			if (each_call_site(mod, bias, &child, depth + 1, fn, arg))
				return true;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

/* The subprogram DIE whose entry is ENTRY (absolute). */
static bool function_at(Dwfl_Module *mod, Dwarf_Addr entry, Dwarf_Die *out, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, entry, bias);
	Dwarf_Die *scopes = NULL;
	bool ok = false;
	if (!cu)
		return false;
	int n = concrete_scopes(cu, entry - *bias, &scopes);
	for (int i = n - 1; i >= 0; i--) {
		Dwarf_Addr e;
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram && die_entry(&scopes[i], &e) &&
		    e + *bias == entry) {
			*out = scopes[i];
			ok = true;
			break;
		}
	}
	free(scopes);
	return ok;
}

/* The innermost function, inlined or not, whose code is at ADDR. */
static bool innermost_function(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Die *out)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias), *scopes = NULL;
	bool ok = false;
	int n = cu ? concrete_scopes(cu, addr - bias, &scopes) : 0;
	for (int i = 0; i < n && !ok; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram) {
			*out = scopes[i];
			ok = true;
		}
	}
	free(scopes);
	return ok;
}

struct tail_search {
	Dwfl_Module *mod;
	Dwarf_Addr goal; /* entry of the function the chain must reach */
	int depth, visits;
	int n_paths;                            /* chains found; more than one: ambiguous */
	Dwarf_Addr path[TAILCALL_MAX_DEPTH][2]; /* [entry, return_pc] for each hop */
	Dwarf_Addr found[TAILCALL_MAX_DEPTH][2];
	int found_len;
};

static bool tail_search_from(struct tail_search *t, Dwarf_Addr entry);

static bool tail_hop(const struct call_site *cs, void *arg)
{
	struct tail_search *t = arg;
	if (!cs->tail || !cs->target)
		return false;
	t->path[t->depth][1] = cs->return_pc;
	if (cs->target == t->goal) {
		if (t->n_paths++ == 0) {
			memcpy(t->found, t->path, sizeof(t->path));
			t->found_len = t->depth + 1;
		}
		return t->n_paths > 1; /* stop once ambiguous */
	}
	return tail_search_from(t, cs->target);
}

static bool tail_search_from(struct tail_search *t, Dwarf_Addr entry)
{
	Dwarf_Die fn;
	Dwarf_Addr bias;
	if (t->depth + 1 >= TAILCALL_MAX_DEPTH || ++t->visits > TAILCALL_MAX_VISITS)
		return false;
	if (!function_at(t->mod, entry, &fn, &bias))
		return false;
	t->depth++;
	t->path[t->depth][0] = entry;
	bool stop = each_call_site(t->mod, bias, &fn, 0, tail_hop, t);
	t->depth--;
	return stop;
}

struct call_at {
	Dwarf_Addr return_pc;
	struct call_site found;
	bool ok;
};

static bool call_at_pc(const struct call_site *cs, void *arg)
{
	struct call_at *ca = arg;
	if (cs->return_pc != ca->return_pc)
		return false;
	ca->found = *cs;
	ca->ok = true;
	return true;
}

/* Frames for the functions between the caller at PC (a return address in
 * FN_DIE) and the callee whose entry was c->prev_entry, when the caller's
 * call site called a function that reached the callee only by tail calls,
 * in one unambiguous way.  Emitted innermost first. */
static bool emit_tail_calls(struct bt_child *c, Dwfl_Module *mod, Dwarf_Addr bias,
                            Dwarf_Die *fn_die, Dwarf_Addr pc)
{
	if (!c->prev_entry || c->prev_mod != mod)
		return true;
	struct call_at ca = {.return_pc = pc};
	each_call_site(mod, bias, fn_die, 0, call_at_pc, &ca);
	if (!ca.ok || !ca.found.target || ca.found.target == c->prev_entry)
		return true;
	struct tail_search t = {.mod = mod, .goal = c->prev_entry, .depth = -1};
	tail_search_from(&t, ca.found.target);
	if (t.n_paths != 1)
		return true;
	for (int i = t.found_len - 1; i >= 0; i--) {
		Dwarf_Addr ret = t.found[i][1], adj = ret - 1;
		struct cp_frame f = {.pc = ret, .tail_call = 1, .module = NULL};
		Dwarf_Die fdie;
		Dwarf_Addr fbias;
		void **ud;
		/* gdb names a tail-call frame after the innermost function at
		 * its pc, an inlined one included, and adds no frame for the
		 * functions it was inlined into */
		if (innermost_function(mod, adj, &fdie)) {
			f.has_offset = dwarf_tag(&fdie) == DW_TAG_subprogram;
			if (f.has_offset)
				fdie = last_alias(&fdie);
			f.function = (char *)die_function_name(&fdie);
		} else if (function_at(mod, t.found[i][0], &fdie, &fbias)) {
			f.function = (char *)die_function_name(&fdie);
			f.has_offset = 1;
		}
		f.offset = f.has_offset ? ret - t.found[i][0] : 0;
		dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
		f.module = *ud ? (char *)((struct bt_module *)*ud)->name : NULL;
		Dwfl_Line *line = dwfl_module_getsrc(mod, adj);
		if (line)
			f.file = (char *)dwfl_lineinfo(line, NULL, &f.line, NULL, NULL, NULL);
		if (!emit(c, &f))
			return false;
	}
	return true;
}

/* Of the function symbols at the same address and size as the one libdwfl
 * chose (glibc's clone3/__clone3, raise/gsignal), the one gdb shows: gdb
 * sorts its minimal symbols by address then name and takes the last, unless
 * that is a local and the one before it a global. */
struct alias {
	const char *name;
	int local;
};

static int cmp_alias(const void *a, const void *b)
{
	return strcmp(((const struct alias *)a)->name, ((const struct alias *)b)->name);
}

static const char *gdb_alias(Dwfl_Module *mod, const char *symname, const GElf_Sym *chosen,
                             GElf_Addr addr)
{
	struct alias al[32];
	size_t n_al = 0;
	int n = dwfl_module_getsymtab(mod);
	if (chosen->st_size == 0)
		return symname;
	for (int i = 1; i < n && i < (1 << 22) && n_al < 32; i++) {
		GElf_Sym sym;
		GElf_Addr a;
		const char *s = dwfl_module_getsym_info(mod, i, &sym, &a, NULL, NULL, NULL);
		if (s && a == addr && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
		    sym.st_shndx != SHN_UNDEF && sym.st_size == chosen->st_size)
			al[n_al++] = (struct alias){s, GELF_ST_BIND(sym.st_info) == STB_LOCAL};
	}
	if (n_al == 0)
		return symname;
	qsort(al, n_al, sizeof(al[0]), cmp_alias);
	if (n_al > 1 && al[n_al - 1].local && !al[n_al - 2].local)
		return al[n_al - 2].name;
	return al[n_al - 1].name;
}

/* Whether the CFI at ADJ marks a signal trampoline (__restore_rt): gdb
 * shows that frame as "<signal handler called>". */
static bool is_signal_frame(Dwfl_Module *mod, Dwarf_Addr adj)
{
	Dwarf_Addr bias;
	Dwarf_CFI *cfis[2] = {dwfl_module_eh_cfi(mod, &bias), NULL};
	for (int i = 0; i < 2; i++) {
		if (i == 1)
			cfis[1] = dwfl_module_dwarf_cfi(mod, &bias);
		Dwarf_Frame *frame = NULL;
		bool signalp = false;
		Dwarf_Addr start, end;
		if (cfis[i] && dwarf_cfi_addrframe(cfis[i], adj - bias, &frame) == 0 &&
		    dwarf_frame_info(frame, &start, &end, &signalp) >= 0) {
			free(frame);
			return signalp;
		}
		free(frame);
	}
	return false;
}

/* Symbolize one physical frame into one or more frames (inlined functions
 * first).  False when the thread must stop (max_frames, or past main). */
static bool symbolize(struct bt_child *c, Dwarf_Addr pc, bool activation)
{
	Dwarf_Addr adj = activation || pc == 0 ? pc : pc - 1;
	Dwfl_Module *mod = dwfl_addrmodule(c->dwfl, adj);
	Dwarf_Addr mlow, mhigh;
	/* 0.188 hands out the last module for addresses beyond every module */
	if (mod && (!dwfl_module_info(mod, NULL, &mlow, &mhigh, NULL, NULL, NULL, NULL) ||
	            adj < mlow || adj >= mhigh))
		mod = NULL;
	struct cp_frame f = {.pc = pc};
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *symname = NULL;
	Dwarf_Addr entry = 0;
	if (mod) {
		void **ud;
		dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
		struct bt_module *bm = *ud;
		f.module = bm ? (char *)bm->name : NULL;
		guard_alt(mod, bm);
		symname = dwfl_module_addrinfo(mod, adj, &off, &sym, NULL, NULL, NULL);
		if (symname)
			entry = adj - off;
	}
	/* libdwfl reports the trampoline's frame as an activation: its own
	 * FDE is the signal frame's */
	if (mod && is_signal_frame(mod, adj)) {
		f.function = "<signal handler called>";
		f.module = NULL;
		c->prev_entry = 0;
		c->prev_mod = NULL;
		return emit(c, &f);
	}
	Dwfl_Line *line = mod ? dwfl_module_getsrc(mod, adj) : NULL;
	const char *file = line ? dwfl_lineinfo(line, NULL, &f.line, NULL, NULL, NULL) : NULL;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = mod ? dwfl_module_addrdie(mod, adj, &bias) : NULL;
	Dwarf_Die *scopes = NULL;
	int n = cu ? concrete_scopes(cu, adj - bias, &scopes) : 0;
	bool go = true, physical = false;
	for (int i = 0; i < n && go; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		f.function = (char *)die_function_name(&scopes[i]);
		f.file = (char *)file;
		if (tag == DW_TAG_inlined_subroutine) {
			f.inlined = 1;
			f.has_offset = 0;
			go = emit(c, &f);
			file = call_file(cu, &scopes[i], &f.line);
			continue;
		}
		Dwarf_Die alias = last_alias(&scopes[i]);
		f.function = (char *)die_function_name(&alias);
		Dwarf_Addr e;
		if (die_entry(&scopes[i], &e))
			entry = e + bias;
		if (!activation)
			go = emit_tail_calls(c, mod, bias, &scopes[i], pc);
		f.inlined = 0;
		if (!f.function)
			f.function = (char *)symname;
		f.has_offset = entry && pc >= entry;
		f.offset = f.has_offset ? pc - entry : 0;
		if (go)
			go = emit(c, &f);
		physical = true;
		break;
	}
	free(scopes);
	if (go && !physical) {
		/* no DWARF for this pc: the symbol table */
		f.function = symname ? (char *)gdb_alias(mod, symname, &sym, entry) : NULL;
		f.file = (char *)file;
		f.inlined = 0;
		f.has_offset = symname != NULL;
		f.offset = symname ? off + (pc - adj) : 0;
		go = emit(c, &f);
	}
	c->prev_entry = entry;
	c->prev_mod = mod;
	/* gdb stops at main ("backtrace past-main" off); so do we. */
	if (go && f.function && strcmp(f.function, "main") == 0 && c->exe_name && f.module &&
	    strcmp(f.module, c->exe_name) == 0) {
		c->past_main = 1;
		go = false;
	}
	return go;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct bt_child *c = arg;
	Dwarf_Addr pc;
	bool activation;
	if (c->n_frames >= c->max_frames) {
		c->frames_cut = 1;
		return DWARF_CB_ABORT;
	}
	if (!dwfl_frame_pc(state, &pc, &activation)) {
		cp_wire_set_why(&c->why, "cannot read the pc: %s", dwfl_errmsg(-1));
		return DWARF_CB_ABORT;
	}
	bool go = symbolize(c, pc, activation);
	/* Symbolizing may leave an error behind; clear it so a failure of
	 * the next unwinding step is reported, not this. */
	(void)dwfl_errno();
	return go ? DWARF_CB_OK : DWARF_CB_ABORT;
}

static void unwind_thread(struct bt_child *c, Dwfl_Thread *thread)
{
	c->tid = (int32_t)dwfl_thread_tid(thread);
	c->n_frames = 0;
	c->frames_cut = c->past_main = 0;
	c->prev_entry = 0;
	c->prev_mod = NULL;
	free(c->why);
	c->why = NULL;
	send_record(c, 'S', c->tid, c->tid == c->crash_tid, NULL);
	(void)dwfl_errno();
	int r = dwfl_thread_getframes(thread, frame_cb, c);
	if (r == -1 && !c->why) {
		/* taken right here: the next dwfl call would reset it */
		const char *msg = dwfl_errmsg(-1);
		if (c->n_frames == 0)
			cp_wire_set_why(&c->why, "cannot unwind: %s", msg);
		else
			cp_wire_set_why(&c->why, "unwinding stopped after %zu frame%s: %s",
			                c->n_frames, c->n_frames == 1 ? "" : "s", msg);
	}
	send_record(c, 'T', 0, c->frames_cut, c->why);
	c->n_threads++;
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
	struct bt_child *c = arg;
	int crashing = (int32_t)dwfl_thread_tid(thread) == c->crash_tid;
	if (c->crashing_only && !crashing)
		return DWARF_CB_OK;
	if (c->n_threads >= c->max_threads) {
		c->threads_cut = 1;
		return DWARF_CB_ABORT;
	}
	unwind_thread(c, thread);
	return c->crashing_only ? DWARF_CB_ABORT : DWARF_CB_OK;
}

void cp_unwind_child(int fd, const struct cp_core *core, const struct cp_scan *scan,
                     size_t max_threads, size_t max_frames, int crashing_only)
{
	struct bt_child cs = {
	    .core = core,
	    .scan = scan,
	    .max_threads = max_threads,
	    .max_frames = max_frames,
	    .crashing_only = crashing_only,
	    .out_fd = fd,
	};
	struct bt_child *c = &cs;
	send_record(c, 'M', 0, 0, NULL);
	const struct cp_notes *n = &c->core->notes;
	const struct cp_module *exe = cp_scan_executable(c->scan);
	c->exe_name = exe ? exe->origin_path : NULL;
	if (n->n_threads == 0) {
		send_record(c, 'E', 0, 0, "the core has no threads (no NT_PRSTATUS note)");
		return;
	}
	c->crash_tid = n->threads[0].pid;
	elf_version(EV_CURRENT);
	c->dwfl = dwfl_begin(&bt_callbacks);
	if (!c->dwfl) {
		char *why = NULL;
		cp_wire_set_why(&why, "cannot start libdwfl: %s", dwfl_errmsg(-1));
		send_record(c, 'E', 0, 0, why);
		return;
	}
	report_modules(c);
	Elf *elf = elf_begin(c->core->fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		char *why = NULL;
		cp_wire_set_why(&why, "cannot read the core: %s", elf_errmsg(-1));
		send_record(c, 'E', 0, 0, why);
		return;
	}
	if (dwfl_core_file_attach(c->dwfl, elf) < 0) {
		char *why = NULL;
		cp_wire_set_why(&why, "cannot read the threads: %s", dwfl_errmsg(-1));
		send_record(c, 'E', 0, 0, why);
		return;
	}
	char *why = NULL;
	if (dwfl_getthreads(c->dwfl, thread_cb, c) == -1)
		cp_wire_set_why(&why, "cannot list the threads: %s", dwfl_errmsg(-1));
	else if (c->n_threads == 0)
		cp_wire_set_why(&why, "thread %d is not in the core", (int)c->crash_tid);
	send_record(c, 'E', 0, c->threads_cut, why);
}
