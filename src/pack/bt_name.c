/*
 * Function names as gdb 13 prints them in a backtrace (bt_symbol.c asks).
 *
 * From DWARF, gdb names a function by its linkage name.  In C (and any
 * language but C++ and Rust) it shows that name as it is (glibc's __GI_
 * aliases, an asm label).  In C++ it shows the demangled linkage name
 * without its parameter list ("acme::Job::run"); a function without one
 * (a lambda's operator(), a template instantiated on a local type, an
 * extern "C" function in a namespace) gets the name of its DIE prefixed
 * with the names of the namespaces and classes around it, gdb's
 * determine_prefix().  Rust functions are always named that way.  gdb
 * then removes the parameters with a parser of its own, which fails on
 * some names (function-local ones, ABI tags, lambdas): those it prints
 * with their parameters, the demangler's or, for a name made from the
 * DWARF, its own printing of the parameters' types.  It also puts names
 * in a canonical form (gcc's "long int" becomes "long").
 * From a symbol table (no DWARF for the pc), gdb demangles the symbol with
 * its parameters and in full ("take(std::basic_string<char, ...> const&)",
 * the Rust v0 crate disambiguator "crate[3c1c0]::crash", the legacy Rust
 * hash "::h0123456789abcdef").
 *
 * These rules were read off gdb 13.1's output on g++ 12 and clang++ 14
 * programs (tests/e2e/run-backtrace-cxx.sh and run-backtrace-rust-names.sh
 * compare them); where gdb's parser is only approximated
 * (gdb_keeps_params()), a name may still differ.
 *
 * Demangling is libiberty's (the demangler gdb and binutils use): the
 * callback interfaces, which allocate nothing on the heap.  They use the
 * stack in proportion to the name, so names longer than DEMANGLE_MAX are
 * shown as they are.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <libiberty/demangle.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bt_child.h"

/* cp-demangle.c keeps about 56 bytes of stack per character of the name. */
#define DEMANGLE_MAX 16384
/* Bounds on the walk up the scopes of a DIE. */
#define SCOPE_DEPTH 64
#define PREFIX_DEPTH 16
#define SIBLING_STEPS (1u << 20)

#ifndef DW_LANG_C_plus_plus_17
#define DW_LANG_C_plus_plus_17 0x2a
#endif
#ifndef DW_LANG_C_plus_plus_20
#define DW_LANG_C_plus_plus_20 0x2b
#endif

/* Text into a fixed buffer, cut at its size. */
struct sbuf {
	char *p;
	size_t len, cap; /* cap includes the NUL */
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + 1 >= b->cap)
		return;
	if (n > b->cap - 1 - b->len)
		n = b->cap - 1 - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void demangle_cb(const char *s, size_t n, void *arg)
{
	sb_add(arg, s, n);
}

/* libiberty's cplus_demangle() in its default (auto) style, which gdb
 * uses: Rust first (legacy Rust names are also valid C++ names), then the
 * C++ ABI.  True with the result in OUT->buf. */
static bool demangle(const char *mangled, int options, struct bt_name *out)
{
	struct sbuf b = {out->buf, 0, sizeof(out->buf)};
	if (strnlen(mangled, DEMANGLE_MAX + 1) > DEMANGLE_MAX)
		return false;
	out->buf[0] = '\0';
	if (rust_demangle_callback(mangled, options, demangle_cb, &b) && b.len)
		return true;
	b.len = 0;
	out->buf[0] = '\0';
	return cplus_demangle_v3_callback(mangled, options, demangle_cb, &b) && b.len;
}

void cp_bt_sym_name(const char *sym, struct bt_name *out)
{
	out->name = sym;
	out->mangled = NULL;
	if (sym && demangle(sym, DMGL_PARAMS | DMGL_ANSI | DMGL_VERBOSE, out) &&
	    strcmp(out->buf, sym) != 0) {
		out->name = out->buf;
		out->mangled = sym;
	}
}

/* Whether gdb's parser of C++ names (cp-name-parser.y, used by
 * cp_remove_params()) fails on FULL, a demangled name with its parameters:
 * then gdb prints the name with them.  It fails on function-local names
 * ("f(int)::Local::run(int)", lambdas), ABI tags ("[abi:cxx11]"), braces
 * ("{lambda(int)#1}") and function types as template arguments
 * ("std::function<void (int)>"; pointers to functions, "void (*)(int)",
 * it reads).  Seen with gdb 13 on g++ 12 and clang++ 14 output. */
static bool gdb_keeps_params(const char *name)
{
	/* "(anonymous namespace)::" is no function-local name */
	char full[CP_BACKTRACE_MAX_STRING + 1];
	static const char anon[] = "(anonymous namespace)";
	snprintf(full, sizeof(full), "%s", name);
	for (char *p = full; (p = strstr(p, anon)) != NULL; p += sizeof(anon) - 1)
		memset(p, '_', sizeof(anon) - 1);
	if (strstr(full, "[abi:") || strchr(full, '{') || strstr(full, ")::"))
		return true;
	int angle = 0;
	for (const char *p = full; *p; p++) {
		if (strncmp(p, "operator", 8) == 0 && (p == full || p[-1] == ':' || p[-1] == ' ')) {
			/* operator<, operator<<, operator() are not brackets */
			p += 8;
			while (*p && strchr("<>=!+-*/%^&|~,()[]", *p))
				p++;
			if (!*p)
				break;
		}
		if (*p == '<')
			angle++;
		else if (*p == '>' && angle > 0)
			angle--;
		else if (angle > 0 && p[0] == ' ' && p[1] == '(' && p[2] != '*' && p[2] != '&')
			return true;
	}
	return false;
}

static bool is_cplus(int lang)
{
	return lang == DW_LANG_C_plus_plus || lang == DW_LANG_C_plus_plus_03 ||
	       lang == DW_LANG_C_plus_plus_11 || lang == DW_LANG_C_plus_plus_14 ||
	       lang == DW_LANG_C_plus_plus_17 || lang == DW_LANG_C_plus_plus_20 ||
	       lang == DW_LANG_ObjC_plus_plus;
}

static const char *linkage_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		return dwarf_formstring(&a);
	return NULL;
}

static const char *plain_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, DW_AT_name, &a) ? dwarf_formstring(&a) : NULL;
}

/* The DIEs enclosing DIE, from its unit's DIE down (DIE excluded), into
 * UP; their number, or -1 when DIE cannot be reached (libdw keeps no
 * parent links, so walk down from the unit). */
static int ancestors(Dwarf_Die *die, Dwarf_Die *up, int max)
{
	Dwarf_Die cur;
	if (!dwarf_diecu(die, &cur, NULL, NULL))
		return -1;
	Dwarf_Off want = dwarf_dieoffset(die);
	unsigned steps = 0;
	int n = 0;
	while (dwarf_dieoffset(&cur) != want) {
		Dwarf_Die child, next;
		if (n == max || dwarf_child(&cur, &child) != 0)
			return -1;
		up[n++] = cur;
		/* the last child at or before WANT holds it */
		while (dwarf_dieoffset(&child) != want) {
			if (++steps > SIBLING_STEPS || dwarf_siblingof(&child, &next) != 0 ||
			    dwarf_dieoffset(&next) > want)
				break;
			child = next;
		}
		if (dwarf_dieoffset(&child) > want)
			return -1;
		cur = child;
	}
	return n;
}

/* gdb's die_specification(): the DIE whose place in the tree gives DIE's
 * scope, following DW_AT_specification and DW_AT_abstract_origin. */
static Dwarf_Die declaration_of(Dwarf_Die *die)
{
	Dwarf_Die d = *die, t;
	for (int i = 0; i < 8; i++) {
		Dwarf_Attribute a;
		if ((!dwarf_attr(&d, DW_AT_specification, &a) &&
		     !dwarf_attr(&d, DW_AT_abstract_origin, &a)) ||
		    !dwarf_formref_die(&a, &t))
			break;
		d = t;
	}
	return d;
}

static void put_prefix(struct sbuf *b, Dwarf_Die *die, int depth);

/* PREFIX::NAME of a namespace or class DIE. */
static void put_qualified(struct sbuf *b, Dwarf_Die *die, const char *name, int depth)
{
	size_t before = b->len;
	put_prefix(b, die, depth + 1);
	if (b->len > before)
		sb_puts(b, "::");
	sb_puts(b, name);
}

/* The name of a class gdb accepts: gcc once named anonymous ones "._N" or
 * "<anonymous struct>". */
static const char *class_name(Dwarf_Die *die)
{
	const char *n = dwarf_diename(die);
	if (n && (strncmp(n, "._", 2) == 0 || strncmp(n, "<anonymous", 10) == 0))
		return NULL;
	return n;
}

/* gdb's determine_prefix() for C++ and Rust: the namespaces and named
 * classes around DIE; nothing past a function or an unnamed class. */
static void put_prefix(struct sbuf *b, Dwarf_Die *die, int depth)
{
	Dwarf_Die decl = declaration_of(die);
	Dwarf_Die up[SCOPE_DEPTH];
	if (depth > PREFIX_DEPTH)
		return;
	int n = ancestors(&decl, up, SCOPE_DEPTH);
	if (n <= 0)
		return;
	Dwarf_Die *parent = &up[n - 1];
	const char *name;
	bool flag = false;
	Dwarf_Attribute a;
	switch (dwarf_tag(parent)) {
	case DW_TAG_namespace:
		name = dwarf_diename(parent);
		if (name && strcmp(name, "::") == 0)
			return; /* gcc 4.0's global namespace */
		put_qualified(b, parent, name ? name : "(anonymous namespace)", depth);
		return;
	case DW_TAG_class_type:
	case DW_TAG_interface_type:
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_module:
		name = class_name(parent);
		if (name)
			put_qualified(b, parent, name, depth);
		return;
	case DW_TAG_enumeration_type:
		if (dwarf_attr(parent, DW_AT_enum_class, &a) && dwarf_formflag(&a, &flag) == 0 &&
		    flag) {
			name = dwarf_diename(parent);
			if (name)
				put_qualified(b, parent, name, depth);
			return;
		}
		put_prefix(b, parent, depth + 1);
		return;
	case DW_TAG_subprogram:
	case DW_TAG_compile_unit:
	case DW_TAG_partial_unit:
	case DW_TAG_type_unit:
	case DW_TAG_skeleton_unit:
		return;
	default: /* lexical blocks and the like add nothing */
		put_prefix(b, parent, depth + 1);
		return;
	}
}

/* The DIE's DW_AT_type, or false (void). */
static bool die_type(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, out);
}

enum decl { PTR, REF, RREF, CONST, VOLATILE };

/* gdb canonicalizes C++ names (cp_canonicalize_string): gcc's spellings of
 * the integer types become the demangler's. */
static const char *canonical_base(const char *name)
{
	static const char *const map[][2] = {
	    {"long int", "long"},
	    {"long unsigned int", "unsigned long"},
	    {"short int", "short"},
	    {"short unsigned int", "unsigned short"},
	    {"long long int", "long long"},
	    {"long long unsigned int", "unsigned long long"},
	    {"__int128 unsigned", "unsigned __int128"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(name, map[i][0]) == 0)
			return map[i][1];
	return name;
}

/* " const", " volatile" of the qualifiers in CHAIN[FROM, TO), const first
 * as gdb prints them; with a space after rather than before (a prefix). */
static void put_quals(struct sbuf *b, const int *chain, int from, int to, bool prefix)
{
	bool c = false, v = false;
	for (int i = from; i < to; i++) {
		c |= chain[i] == CONST;
		v |= chain[i] == VOLATILE;
	}
	if (c)
		sb_puts(b, prefix ? "const " : " const");
	if (v)
		sb_puts(b, prefix ? "volatile " : " volatile");
}

/* A parameter's type as gdb's C++ type printer shows it (c_print_type:
 * "const std::_Any_data &", "struct {...} &", "char * const *"), without
 * its own const and volatile, which gdb drops in a function's name; false
 * for the kinds this does not print (arrays, functions, members). */
static bool put_param_type(struct sbuf *b, Dwarf_Die *type)
{
	static const char *const text[] = {" *", " &", " &&"};
	int chain[32], n = 0; /* declarators and qualifiers, outside in */
	bool top = true, have = true;
	Dwarf_Die t = *type;
	for (;;) {
		int tag = dwarf_tag(&t), k;
		if (tag == DW_TAG_pointer_type)
			k = PTR;
		else if (tag == DW_TAG_reference_type)
			k = REF;
		else if (tag == DW_TAG_rvalue_reference_type)
			k = RREF;
		else if (tag == DW_TAG_const_type)
			k = CONST;
		else if (tag == DW_TAG_volatile_type)
			k = VOLATILE;
		else
			break;
		if (n == 32)
			return false;
		if (k < CONST)
			top = false;
		if (!top || k < CONST)
			chain[n++] = k;
		if (!die_type(&t, &t)) {
			have = false; /* void */
			break;
		}
	}
	/* qualifiers of the base go before it: "const char *" */
	int base_quals = n;
	while (base_quals > 0 && chain[base_quals - 1] >= CONST)
		base_quals--;
	put_quals(b, chain, base_quals, n, true);
	if (!have) {
		sb_puts(b, "void");
	} else {
		int tag = dwarf_tag(&t);
		const char *name = dwarf_diename(&t);
		if (tag == DW_TAG_base_type && name) {
			sb_puts(b, canonical_base(name));
		} else if ((tag == DW_TAG_typedef || tag == DW_TAG_structure_type ||
		            tag == DW_TAG_class_type || tag == DW_TAG_union_type ||
		            tag == DW_TAG_enumeration_type) &&
		           name) {
			size_t before = b->len;
			put_prefix(b, &t, 0);
			if (b->len > before)
				sb_puts(b, "::");
			sb_puts(b, name);
		} else if (tag == DW_TAG_structure_type) {
			sb_puts(b, "struct {...}");
		} else if (tag == DW_TAG_class_type) {
			sb_puts(b, "class {...}");
		} else if (tag == DW_TAG_union_type) {
			sb_puts(b, "union {...}");
		} else if (tag == DW_TAG_enumeration_type) {
			sb_puts(b, "enum {...}");
		} else {
			return false;
		}
	}
	/* declarators from the inside out, each with its qualifiers */
	for (int i = base_quals - 1; i >= 0; i--) {
		if (chain[i] >= CONST)
			continue;
		sb_puts(b, text[chain[i]]);
		int q = i;
		while (q > 0 && chain[q - 1] >= CONST)
			q--;
		put_quals(b, chain, q, i, false);
	}
	return true;
}

/* gdb's physname parameter list of a C++ function DIE (c_type_print_args
 * and the " const" of a const member function); false when a parameter's
 * type is not one put_param_type() prints. */
static bool put_params(struct sbuf *b, Dwarf_Die *die)
{
	Dwarf_Die child, t;
	Dwarf_Attribute a;
	bool any = false, varargs = false, is_const_this = false;
	sb_puts(b, "(");
	if (dwarf_child(die, &child) == 0) {
		int k = 0;
		do {
			int tag = dwarf_tag(&child);
			bool artificial = false;
			if (++k > 256)
				return false;
			if (tag == DW_TAG_unspecified_parameters)
				varargs = true;
			if (tag != DW_TAG_formal_parameter)
				continue;
			if (dwarf_attr_integrate(&child, DW_AT_artificial, &a))
				dwarf_formflag(&a, &artificial);
			if (artificial) {
				/* this: a pointer to const for a const member */
				Dwarf_Die p;
				is_const_this = die_type(&child, &p) && die_type(&p, &p) &&
				                dwarf_tag(&p) == DW_TAG_const_type;
				continue;
			}
			if (any)
				sb_puts(b, ", ");
			if (!die_type(&child, &t) || !put_param_type(b, &t))
				return false;
			any = true;
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	if (any && varargs)
		sb_puts(b, ", ...");
	else if (!any)
		sb_puts(b, "void");
	sb_puts(b, ")");
	if (is_const_this)
		sb_puts(b, " const");
	return true;
}

static bool is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* gcc's spellings of integer types in template arguments of a name
 * ("apply<long int>") as gdb's canonical form has them ("apply<long>"),
 * in place. */
static void canonical_ints(char *s)
{
	static const char *const from[] = {"long long unsigned int", "long long int",
	                                   "long unsigned int",      "long int",
	                                   "short unsigned int",     "short int"};
	for (size_t k = 0; k < sizeof(from) / sizeof(from[0]); k++) {
		const char *to = canonical_base(from[k]);
		size_t fl = strlen(from[k]), tl = strlen(to);
		for (char *p = s; (p = strstr(p, from[k])) != NULL;) {
			if ((p > s && is_ident(p[-1])) || is_ident(p[fl])) {
				p += fl;
				continue;
			}
			memcpy(p, to, tl);
			memmove(p + tl, p + fl, strlen(p + fl) + 1);
			p += tl;
		}
	}
}

/* A C++ function with a linkage name: gdb demangles it with the
 * parameters (and in full, as for symbols: std::basic_string<char, ...>,
 * not std::string), then removes them from what it prints when it can
 * parse the name: then the same as demangling without them.  When it does
 * not demangle, gdb shows it as it is. */
static void cplus_linkage_name(const char *linkage, struct bt_name *out)
{
	int opts = DMGL_ANSI | DMGL_VERBOSE;
	out->name = linkage;
	if (!demangle(linkage, opts | DMGL_PARAMS | DMGL_RET_DROP, out))
		return;
	if (!gdb_keeps_params(out->buf) && !demangle(linkage, opts, out))
		return;
	out->name = out->buf;
	out->mangled = linkage;
}

/* A C++ or Rust function named from its DIE and scopes (gdb's
 * dwarf2_compute_name()): the name in OUT->buf. */
static void scoped_name(Dwarf_Die *die, const char *name, bool cplus, const char *sym,
                        struct bt_name *out)
{
	struct sbuf b = {out->buf, 0, sizeof(out->buf)};
	out->buf[0] = '\0';
	out->name = out->buf;
	put_prefix(&b, die, 0);
	if (b.len)
		sb_puts(&b, "::");
	sb_puts(&b, name);
	if (!cplus)
		return;
	/* gdb prints the name with its parameters when its parser cannot
	 * read it, */
	size_t bare = b.len;
	if (dwarf_tag(die) == DW_TAG_subprogram && put_params(&b, die) && b.len + 1 < b.cap &&
	    gdb_keeps_params(out->buf))
		return;
	b.len = bare;
	out->buf[bare] = '\0';
	if (gdb_keeps_params(out->buf) || !strchr(out->buf, '<'))
		return;
	/* else in its canonical form, which is the demangler's: the
	 * function's symbol's when there is one */
	char made[sizeof(out->buf)];
	memcpy(made, out->buf, bare + 1);
	if (sym && demangle(sym, DMGL_ANSI | DMGL_VERBOSE, out))
		return;
	memcpy(out->buf, made, bare + 1);
	canonical_ints(out->buf);
}

void cp_bt_die_name(Dwarf_Die *die, Dwarf_Die *cudie, const char *sym, struct bt_name *out)
{
	Dwarf_Word lang = 0;
	Dwarf_Attribute a;
	const char *linkage = linkage_name(die), *name = plain_name(die);
	if (cudie && dwarf_attr(cudie, DW_AT_language, &a))
		dwarf_formudata(&a, &lang);
	bool cplus = is_cplus((int)lang);
	out->mangled = NULL;
	out->name = linkage ? linkage : name;
	if (!name && !linkage && sym) {
		cp_bt_sym_name(sym, out);
	} else if (cplus && linkage) {
		cplus_linkage_name(linkage, out);
	} else if ((cplus || lang == DW_LANG_Rust) && name) {
		scoped_name(die, name, cplus, sym, out);
		/* Rust's linkage name, which gdb ignores, or the symbol */
		out->mangled = linkage ? linkage : sym && strcmp(sym, out->name) != 0 ? sym : NULL;
	}
}
