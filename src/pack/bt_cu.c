/*
 * The compilation unit and source line of an address, for the unwinder
 * child's frames.  libdwfl finds an address's unit through
 * .debug_aranges, which clang does not emit (its default, DWARF 5 or not);
 * elfutils 0.188 does not make up for it, so dwfl_module_addrdie() and
 * dwfl_module_getsrc() find nothing in such units, while gdb reads the
 * units' own ranges.  When libdwfl finds no unit, look through the units'
 * DW_AT_low_pc/DW_AT_high_pc and DW_AT_ranges, in a table made once per
 * module and capped.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>

#include "bt_child.h"

/* What a module's table may hold; past it, the rest is left out. */
#define MAX_UNITS (1u << 20)
#define MAX_RANGES (1u << 21)

static int cmp_range(const void *a, const void *b)
{
	const struct bt_cu_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool add_range(struct bt_module *bm, size_t *cap, Dwarf_Addr lo, Dwarf_Addr hi, uint32_t cu)
{
	if (bm->n_ranges == *cap) {
		size_t n = *cap ? 2 * *cap : 64;
		struct bt_cu_range *r = realloc(bm->ranges, n * sizeof(*r));
		if (!r)
			return false;
		bm->ranges = r;
		*cap = n;
	}
	bm->ranges[bm->n_ranges++] = (struct bt_cu_range){lo, hi, cu};
	return true;
}

static void build_index(Dwfl_Module *mod, struct bt_module *bm)
{
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(mod, &bias);
	size_t cu_cap = 0, range_cap = 0;
	Dwarf_CU *unit = NULL;
	Dwarf_Die cudie;
	Dwarf_Half version;
	uint8_t type;
	bm->cus_built = 1;
	bm->cus_bias = bias;
	if (!dw)
		return;
	while (bm->n_cus < MAX_UNITS && bm->n_ranges < MAX_RANGES &&
	       dwarf_get_units(dw, unit, &unit, &version, &type, &cudie, NULL) == 0) {
		/* partial and type units hold no code of their own; skeleton
		 * units' DIEs are in .dwo files this does not read */
		if (type != DW_UT_compile)
			continue;
		if (bm->n_cus == cu_cap) {
			size_t n = cu_cap ? 2 * cu_cap : 64;
			Dwarf_Die *d = realloc(bm->cus, n * sizeof(*d));
			if (!d)
				break;
			bm->cus = d;
			cu_cap = n;
		}
		Dwarf_Addr base, lo, hi;
		ptrdiff_t off = 0;
		bool any = false, ok = true;
		while (ok && bm->n_ranges < MAX_RANGES &&
		       (off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
			if (hi > lo) {
				ok = add_range(bm, &range_cap, lo, hi, (uint32_t)bm->n_cus);
				any = true;
			}
		}
		if (!ok)
			break;
		if (any)
			bm->cus[bm->n_cus++] = cudie;
	}
	if (bm->n_ranges > 1)
		qsort(bm->ranges, bm->n_ranges, sizeof(*bm->ranges), cmp_range);
}

Dwarf_Die *cp_bt_addrcu(Dwfl_Module *mod, struct bt_module *bm, Dwarf_Addr addr, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, bias);
	if (cu || !bm)
		return cu;
	if (!bm->cus_built)
		build_index(mod, bm);
	if (bm->n_ranges == 0 || addr < bm->cus_bias)
		return NULL;
	Dwarf_Addr a = addr - bm->cus_bias;
	/* the last range starting at or before A, then back over ranges
	 * that start earlier and may still hold it */
	size_t l = 0, u = bm->n_ranges;
	while (l < u) {
		size_t m = l + (u - l) / 2;
		if (bm->ranges[m].lo <= a)
			l = m + 1;
		else
			u = m;
	}
	for (size_t i = l, k = 0; i > 0 && k < 64; i--, k++) {
		const struct bt_cu_range *r = &bm->ranges[i - 1];
		if (a >= r->lo && a < r->hi) {
			*bias = bm->cus_bias;
			return &bm->cus[r->cu];
		}
	}
	return NULL;
}

const char *cp_bt_srcline(Dwarf_Die *cudie, Dwarf_Addr addr, int *line)
{
	*line = 0;
	Dwarf_Line *l = cudie ? dwarf_getsrc_die(cudie, addr) : NULL;
	int n = 0;
	if (!l || dwarf_lineno(l, &n) != 0)
		return NULL;
	const char *file = dwarf_linesrc(l, NULL, NULL);
	if (file)
		*line = n > 0 ? n : 0;
	return file;
}
