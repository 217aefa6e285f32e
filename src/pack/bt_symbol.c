/*
 * Symbolizing the unwinder child's frames the way gdb shows them:
 * inlined functions get frames of their own, frames lost to tail calls are
 * rebuilt from DW_TAG_call_site, functions are named as gdb names them
 * (bt_name.c) and symbol aliases chosen as gdb chooses, the signal
 * trampoline is "<signal handler called>", and a thread stops at the
 * executable's main.  Units and lines are found also without
 * .debug_aranges (bt_cu.c).  A frame without a line gets its module a note
 * saying why, once.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt_child.h"

/* Tail-call chains rebuilt from DW_TAG_call_site: depth and work caps. */
#define TAILCALL_MAX_DEPTH 6
#define TAILCALL_MAX_VISITS 64
/* The walk of a whole unit for a function dwarf_getscopes() missed. */
#define SCOPE_WALK_DEPTH 64
#define SCOPE_WALK_VISITS (1u << 21)

/* The name a function's symbol has: its linkage name, else its name. */
static const char *die_symbol_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *name = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		name = dwarf_formstring(&a);
	if (!name && dwarf_attr_integrate(die, DW_AT_name, &a))
		name = dwarf_formstring(&a);
	return name;
}

static struct bt_module *module_of(Dwfl_Module *mod)
{
	void **ud;
	if (!mod || !dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL))
		return NULL;
	return *ud;
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

static bool is_code_scope(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_lexical_block;
}

/* The innermost function, inlined function or block holding ADDR, by a
 * walk of the whole unit (capped): dwarf_getscopes() does not look inside
 * a function that does not hold ADDR, where C++ puts the member functions
 * of local classes (a lambda's operator()), and gdb finds them. */
static bool innermost_scope(Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die *out)
{
	Dwarf_Die stack[SCOPE_WALK_DEPTH], next;
	int depth = 0;
	unsigned visits = 0;
	bool found = false;
	if (dwarf_child(cu, &stack[0]) != 0)
		return false;
	for (;;) {
		Dwarf_Die *d = &stack[depth];
		bool holds = is_code_scope(dwarf_tag(d)) && dwarf_haspc(d, addr) > 0;
		if (holds) {
			*out = *d;
			found = true;
		}
		if (++visits > SCOPE_WALK_VISITS)
			return found;
		/* every DIE with children may hold one: go down first */
		if (depth + 1 < SCOPE_WALK_DEPTH && dwarf_haschildren(d) &&
		    dwarf_child(d, &next) == 0) {
			stack[++depth] = next;
			continue;
		}
		if (holds)
			return true; /* nothing inside holds it */
		/* then along, and back up; past the children of a scope that
		 * holds ADDR, none of which does, that scope is the answer */
		while (dwarf_siblingof(&stack[depth], &next) != 0) {
			if (depth == 0)
				return found;
			depth--;
			if (is_code_scope(dwarf_tag(&stack[depth])) &&
			    dwarf_haspc(&stack[depth], addr) > 0)
				return found;
		}
		stack[depth] = next;
	}
}

/* The scopes containing ADDR (a CU-relative address), innermost first,
 * along the concrete nesting: dwarf_getscopes() continues an inlined
 * function with its abstract origin's scopes, which loses the functions it
 * was inlined into, so walk up again from the innermost DIE as eu-addr2line
 * does. */
static int concrete_scopes(Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die **scopes)
{
	Dwarf_Die inner;
	int n = dwarf_getscopes(cu, addr, scopes);
	bool function = false;
	for (int i = 0; i < n && !function; i++)
		function = dwarf_tag(&(*scopes)[i]) == DW_TAG_subprogram ||
		           dwarf_tag(&(*scopes)[i]) == DW_TAG_inlined_subroutine;
	if (function)
		inner = (*scopes)[0];
	else if (n < 0 || !innermost_scope(cu, addr, &inner))
		return n; /* an error (a DIE beyond reach): as libdw says */
	free(*scopes);
	*scopes = NULL;
	return dwarf_getscopes_die(&inner, scopes);
}

static bool die_entry(Dwarf_Die *die, Dwarf_Addr *entry)
{
	return dwarf_entrypc(die, entry) == 0 || dwarf_lowpc(die, entry) == 0;
}

static void set_name(struct cp_frame *f, const struct bt_name *nm)
{
	f->function = (char *)nm->name;
	f->mangled = (char *)nm->mangled;
}

/* Say once per module why a frame of MOD at PC has no source line: gdb
 * shows none either, but not why.  HAVE_CU: a unit covers the pc. */
static void note_no_line(struct bt_child *c, Dwfl_Module *mod, Dwarf_Addr pc, bool have_cu)
{
	struct bt_module *bm = module_of(mod);
	Dwarf_Addr bias;
	char *why = NULL;
	/* the vDSO has no DWARF anywhere; a module that is missing or
	 * mismatched is shown as not symbolized */
	if (!bm || bm->noted || !bm->m || !cp_module_packable(bm->m))
		return;
	bm->noted = 1;
	const struct cp_debug_result *d = bm->m->debug;
	if (bm->dwarf_why)
		cp_wire_set_why(&why, "%s", bm->dwarf_why);
	else if (!dwfl_module_getdwarf(mod, &bias)) {
		if (!d || (!d->file && !d->has_own_debug_info))
			cp_wire_set_why(&why, "no debug information (no separate debug file)");
		else
			cp_wire_set_why(&why, "cannot read its debug information: %s",
			                dwfl_errmsg(-1));
	} else if (!have_cu)
		cp_wire_set_why(&why,
		                "no compilation unit of its debug information covers 0x%016" PRIx64,
		                (uint64_t)pc);
	else
		cp_wire_set_why(&why, "its line table does not cover 0x%016" PRIx64, (uint64_t)pc);
	if (why)
		cp_bt_send_note(c, bm->name, why);
	free(why);
}

/* Emit a frame; false once the thread reached max_frames. */
static bool emit(struct bt_child *c, const struct cp_frame *f)
{
	if (c->n_frames >= c->max_frames) {
		c->frames_cut = 1;
		return false;
	}
	cp_bt_send_frame(c, f);
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
	const char *name = die_symbol_name(&origin);
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
	Dwarf_Die *cu = cp_bt_addrcu(mod, module_of(mod), entry, bias);
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

/* The innermost function, inlined or not, whose code is at ADDR, and its
 * unit in *CUP. */
static bool innermost_function(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Die *out, Dwarf_Die **cup)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = cp_bt_addrcu(mod, module_of(mod), addr, &bias), *scopes = NULL;
	*cup = cu;
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
		Dwarf_Die fdie, *fcu = NULL;
		Dwarf_Addr fbias, lbias;
		/* gdb names a tail-call frame after the innermost function at
		 * its pc, an inlined one included, and adds no frame for the
		 * functions it was inlined into */
		c->name.name = c->name.mangled = NULL;
		if (innermost_function(mod, adj, &fdie, &fcu)) {
			f.has_offset = dwarf_tag(&fdie) == DW_TAG_subprogram;
			if (f.has_offset)
				fdie = last_alias(&fdie);
			cp_bt_die_name(&fdie, fcu, NULL, &c->name);
		} else if (function_at(mod, t.found[i][0], &fdie, &fbias)) {
			fcu = cp_bt_addrcu(mod, module_of(mod), t.found[i][0], &fbias);
			cp_bt_die_name(&fdie, fcu, NULL, &c->name);
			f.has_offset = 1;
		}
		set_name(&f, &c->name);
		f.offset = f.has_offset ? ret - t.found[i][0] : 0;
		struct bt_module *bm = module_of(mod);
		f.module = bm ? (char *)bm->name : NULL;
		Dwarf_Die *lcu = cp_bt_addrcu(mod, bm, adj, &lbias);
		f.file = lcu ? (char *)cp_bt_srcline(lcu, adj - lbias, &f.line) : NULL;
		if (f.line == 0)
			note_no_line(c, mod, ret, lcu != NULL);
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

bool cp_bt_symbolize(struct bt_child *c, Dwarf_Addr pc, bool activation)
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
		cp_bt_guard_alt(mod, bm);
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
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = mod ? cp_bt_addrcu(mod, module_of(mod), adj, &bias) : NULL;
	const char *file = cu ? cp_bt_srcline(cu, adj - bias, &f.line) : NULL;
	if (mod && f.line == 0)
		note_no_line(c, mod, pc, cu != NULL);
	Dwarf_Die *scopes = NULL;
	int n = cu ? concrete_scopes(cu, adj - bias, &scopes) : 0;
	bool go = true, physical = false;
	for (int i = 0; i < n && go; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		f.file = (char *)file;
		if (tag == DW_TAG_inlined_subroutine) {
			cp_bt_die_name(&scopes[i], cu, NULL, &c->name);
			set_name(&f, &c->name);
			f.inlined = 1;
			f.has_offset = 0;
			go = emit(c, &f);
			file = call_file(cu, &scopes[i], &f.line);
			continue;
		}
		Dwarf_Die alias = last_alias(&scopes[i]);
		Dwarf_Addr e;
		if (die_entry(&scopes[i], &e))
			entry = e + bias;
		if (!activation)
			go = emit_tail_calls(c, mod, bias, &scopes[i], pc);
		/* the symbol, when it is the function's own */
		cp_bt_die_name(&alias, cu, symname && adj - off == entry ? symname : NULL,
		               &c->name);
		set_name(&f, &c->name);
		f.inlined = 0;
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
		cp_bt_sym_name(symname ? gdb_alias(mod, symname, &sym, entry) : NULL, &c->name);
		set_name(&f, &c->name);
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
