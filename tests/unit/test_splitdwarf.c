/*
 * Split DWARF: the .dwp index reader on well-formed and broken indexes of
 * both versions, and the placement of .dwo/.dwp files in a bundle
 * (split_place.h) on a scan made by hand: where each file goes, the link
 * gdb finds it by and its target, and the links that must not be made
 * (absolute names, names that climb out, names taken by other files).
 * Finding the files on disk is tested end to end (run-split-dwarf*.sh).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corepack/split_place.h"
#include "corepack/splitdwarf.h"

static void put(unsigned char *p, int n, uint64_t v, int big)
{
	for (int i = 0; i < n; i++)
		p[big ? n - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

/* An index of VERSION with SLOTS slots holding IDS at their hashed slots. */
static size_t make_index(unsigned char *buf, int version, int big, uint32_t slots,
                         const uint64_t *ids, size_t n)
{
	size_t size = 16 + 12 * (size_t)slots;
	memset(buf, 0, size);
	if (version == 5) {
		put(buf, 2, 5, big);
	} else {
		put(buf, 4, (uint64_t)version, big);
	}
	put(buf + 4, 4, 3, big);
	put(buf + 8, 4, n, big);
	put(buf + 12, 4, slots, big);
	for (size_t k = 0; k < n; k++) {
		uint64_t mask = slots - 1, h = ids[k] & mask, step = ((ids[k] >> 32) & mask) | 1;
		while (buf[16 + 8 * slots + 4 * h] || buf[16 + 8 * slots + 4 * h + 3])
			h = (h + step) & mask;
		put(buf + 16 + 8 * h, 8, ids[k], big);
		put(buf + 16 + 8 * slots + 4 * h, 4, k + 1, big);
	}
	return size;
}

static void test_dwp_index(void **state)
{
	(void)state;
	/* Ids that collide in a table of 8 slots, so the probe is walked. */
	static const uint64_t ids[] = {0x1323d619db1f1af7ULL, 0x0000000100000007ULL,
	                               0x0000000200000007ULL, 0x6d4c0433358cbd84ULL};
	unsigned char buf[16 + 12 * 8];
	for (int version = 2; version <= 5; version += 3) {
		for (int big = 0; big <= 1; big++) {
			size_t size = make_index(buf, version, big, 8, ids, 4);
			for (size_t k = 0; k < 4; k++)
				assert_int_equal(cp_dwp_index_has(buf, size, big, ids[k]), 1);
			assert_int_equal(cp_dwp_index_has(buf, size, big, 0x0000000300000007ULL),
			                 0);
			assert_int_equal(cp_dwp_index_has(buf, size, big, 0), 0);
			/* The other byte order reads other counts: refused or not found. */
			assert_true(cp_dwp_index_has(buf, size, !big, ids[0]) <= 0);
			/* Cut short: the slots no longer fit. */
			assert_int_equal(cp_dwp_index_has(buf, size - 1, big, ids[0]), -EINVAL);
		}
	}
	size_t size = make_index(buf, 5, 0, 8, ids, 4);
	put(buf + 12, 4, 6, 0); /* not a power of two */
	assert_int_equal(cp_dwp_index_has(buf, size, 0, ids[0]), -EINVAL);
	size = make_index(buf, 5, 0, 8, ids, 4);
	put(buf + 8, 4, 9, 0); /* more units than slots */
	assert_int_equal(cp_dwp_index_has(buf, size, 0, ids[0]), -EINVAL);
	size = make_index(buf, 5, 0, 8, ids, 4);
	put(buf + 2, 2, 1, 0); /* version 5 with padding that is not 0 */
	assert_int_equal(cp_dwp_index_has(buf, size, 0, ids[0]), -EINVAL);
	size = make_index(buf, 3, 0, 8, ids, 4);
	assert_int_equal(cp_dwp_index_has(buf, size, 0, ids[0]), -EINVAL);
	size = make_index(buf, 2, 0, 8, ids, 1);
	put(buf + 8, 4, 0, 0); /* a row past the unit count */
	assert_int_equal(cp_dwp_index_has(buf, size, 0, ids[0]), 0);
	assert_int_equal(cp_dwp_index_has(buf, 15, 0, ids[0]), -EINVAL);
	/* Huge slot counts cannot make it read past the section. */
	size = make_index(buf, 5, 0, 8, ids, 4);
	put(buf + 12, 4, 0x80000000u, 0);
	put(buf + 8, 4, 1, 0);
	assert_int_equal(cp_dwp_index_has(buf, size, 0, ids[0]), -EINVAL);
	/* An empty index lists nothing. */
	size = make_index(buf, 5, 0, 0, NULL, 0);
	assert_int_equal(cp_dwp_index_has(buf, size, 0, ids[0]), 0);
}

/* A scan of two modules with split DWARF, built by hand. */
struct fixture {
	char *opened0[1], *opened1[2];
	struct cp_scan scan;
	struct cp_module mods[2];
	struct cp_split_result split[2];
	struct cp_split_unit units[8];
	struct cp_debug_file files[8], dwp;
};

static struct cp_split_unit *unit(struct fixture *f, size_t i, uint64_t id, const char *name,
                                  const char *dir)
{
	struct cp_split_unit *u = &f->units[i];
	u->dwo_id = id;
	u->dwo_name = (char *)name;
	u->comp_dir = (char *)dir;
	u->absolute = name[0] == '/';
	f->files[i].host_path = (char *)"/host/x.dwo";
	f->files[i].how = CP_DEBUG_DWO_COMP_DIR;
	u->file = &f->files[i];
	return u;
}

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->scan.modules = f->mods;
	f->scan.n_modules = 2;
	for (int i = 0; i < 2; i++) {
		f->mods[i].status = CP_STATUS_OK;
		f->mods[i].host_path = (char *)"/host/obj";
		f->mods[i].split = &f->split[i];
	}
	f->mods[0].real_path = (char *)"/opt/app/bin/app";
	f->mods[1].real_path = (char *)"/opt/app/lib/libx.so";
	/* libx is also opened by the loader's name in another directory. */
	f->opened0[0] = f->mods[0].real_path;
	f->opened1[0] = f->mods[1].real_path;
	f->opened1[1] = (char *)"/usr/lib/libx.so.1";
	f->split[0].opened = f->opened0;
	f->split[0].n_opened = 1;
	f->split[1].opened = f->opened1;
	f->split[1].n_opened = 2;
}

/* The only link of E, or NULL; its target in *TARGET. */
static const char *link1(const struct cp_split_entry *e, const char **target)
{
	assert_true(e->n_links <= 1);
	if (target)
		*target = e->n_links ? e->link_targets[0] : NULL;
	return e->n_links ? e->links[0] : NULL;
}

static const struct cp_split_entry *entry_of(const struct cp_split_plan *p, const char *bundle)
{
	for (size_t i = 0; i < p->n_entries; i++)
		if (strcmp(p->entries[i].bundle_path, bundle) == 0)
			return &p->entries[i];
	fail_msg("no entry %s", bundle);
	return NULL;
}

static int warned(const struct cp_split_plan *p, const char *what)
{
	for (size_t i = 0; i < p->n_warnings; i++)
		if (strstr(p->warnings[i], what))
			return 1;
	return 0;
}

static void test_place_dwo(void **state)
{
	(void)state;
	struct fixture f;
	setup(&f);
	/* app: a relative name, one in a relative comp_dir, an absolute one,
	 * one that climbs out of sysroot/, one whose link a packed file has. */
	f.split[0].units = &f.units[0];
	f.split[0].n_units = 5;
	unit(&f, 0, 0xc078000339f3de8bULL, "obj/main.dwo", "/build");
	unit(&f, 1, 0x11, "x.dwo", "sub");
	unit(&f, 2, 0x22, "/build/abs.dwo", "/build");
	unit(&f, 3, 0x33, "../../../../../up.dwo", "/build");
	unit(&f, 4, 0x44, "lib/libx.so", "/build");
	/* libx: the same .dwo as app's first, and another id at the name
	 * app's first has, from its own directory ("../bin/obj/main.dwo"). */
	f.split[1].units = &f.units[5];
	f.split[1].n_units = 2;
	unit(&f, 5, 0xc078000339f3de8bULL, "../bin/obj/main.dwo", "/other");
	unit(&f, 6, 0x66, "../bin/obj/main.dwo", "/other");
	f.units[6].dwo_name = (char *)"../bin/obj/main.dwo";

	const char *taken[] = {"sysroot/opt/app/bin/app", "sysroot/opt/app/lib/libx.so",
	                       "sysroot/opt/app/bin/lib"};
	struct cp_split_place_input in = {&f.scan, NULL, taken, 3};
	struct cp_split_plan *p = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_split_place(&in, &p, &err), 0);

	const char *t;
	const struct cp_split_entry *e = entry_of(p, "debug/.dwo/c078000339f3de8b.dwo");
	assert_int_equal(e->kind, CP_DEBUG_KIND_DWO);
	assert_string_equal(link1(e, &t), "sysroot/opt/app/bin/obj/main.dwo");
	assert_string_equal(t, "../../../../../debug/.dwo/c078000339f3de8b.dwo");

	e = entry_of(p, "debug/.dwo/0000000000000011.dwo");
	assert_string_equal(link1(e, &t), "sysroot/opt/app/bin/sub/x.dwo");
	assert_string_equal(t, "../../../../../debug/.dwo/0000000000000011.dwo");

	e = entry_of(p, "debug/.dwo/0000000000000022.dwo");
	assert_null(link1(e, NULL));
	assert_true(warned(p, "'/build/abs.dwo' is packed as debug/.dwo/0000000000000022.dwo, "
	                      "but gdb 13 opens an absolute DW_AT_dwo_name only at that path"));

	e = entry_of(p, "debug/.dwo/0000000000000033.dwo");
	assert_null(link1(e, NULL));
	assert_true(warned(p, "'../../../../../up.dwo' cannot be linked where gdb looks for it "
	                      "(it climbs out of the directory tree)"));

	/* "sysroot/opt/app/bin/lib" is a packed file: nothing can go below it. */
	e = entry_of(p, "debug/.dwo/0000000000000044.dwo");
	assert_null(link1(e, NULL));
	assert_true(
	    warned(p, "'lib/libx.so' cannot be linked as 'sysroot/opt/app/bin/lib/libx.so'"));

	/* libx's copy of the same .dwo asks for the same link, made once by
	 * app's entry, and for one from /usr/lib, its other directory, which
	 * climbs to sysroot/usr/bin/obj/main.dwo. */
	const struct cp_split_entry *mine = NULL;
	for (size_t i = 0; i < p->n_entries; i++)
		if (p->entries[i].module == 1 && p->entries[i].unit == &f.units[5])
			mine = &p->entries[i];
	assert_non_null(mine);
	assert_string_equal(mine->bundle_path, "debug/.dwo/c078000339f3de8b.dwo");
	assert_string_equal(link1(mine, &t), "sysroot/usr/bin/obj/main.dwo");
	assert_string_equal(t, "../../../../debug/.dwo/c078000339f3de8b.dwo");
	/* Another file at the name app's .dwo has: not linked there, and said. */
	e = entry_of(p, "debug/.dwo/0000000000000066.dwo");
	assert_int_equal(e->n_links, 0);
	assert_true(warned(p, "'../bin/obj/main.dwo' cannot be linked as "
	                      "'sysroot/opt/app/bin/obj/main.dwo'"));
	assert_true(warned(p, "'../bin/obj/main.dwo' cannot be linked as "
	                      "'sysroot/usr/bin/obj/main.dwo'"));
	assert_int_equal(p->n_entries, 7);
	cp_split_plan_free(p);
}

static void test_place_dwp_and_debug_file(void **state)
{
	(void)state;
	struct fixture f;
	setup(&f);
	/* app: a .dwp beside it; libx: skeletons in its separate debug file. */
	f.dwp.host_path = (char *)"/opt/app/bin/app.dwp";
	f.dwp.how = CP_DEBUG_DWP;
	f.split[0].dwp = &f.dwp;
	f.split[0].units = &f.units[0];
	f.split[0].n_units = 1;
	unit(&f, 0, 0x1, "a.dwo", "/build");
	f.units[0].file = NULL;
	f.units[0].in_dwp = 1;
	f.split[1].in_debug_file = 1;
	f.split[1].units = &f.units[1];
	f.split[1].n_units = 1;
	unit(&f, 1, 0x2, "obj/l.dwo", "/build");
	const char *debug_paths[] = {NULL, "debug/.build-id/ab/cdef.debug"};
	struct cp_split_place_input in = {&f.scan, debug_paths, NULL, 0};
	struct cp_split_plan *p = NULL;
	struct cp_error err = {0};
	assert_int_equal(cp_split_place(&in, &p, &err), 0);
	assert_int_equal(p->n_entries, 2);
	assert_int_equal(p->n_warnings, 0);
	const char *t;
	const struct cp_split_entry *e = entry_of(p, "debug/.dwp/opt/app/bin/app.dwp");
	assert_int_equal(e->kind, CP_DEBUG_KIND_DWP);
	assert_null(e->unit);
	assert_string_equal(link1(e, &t), "sysroot/opt/app/bin/app.dwp");
	assert_string_equal(t, "../../../../debug/.dwp/opt/app/bin/app.dwp");
	e = entry_of(p, "debug/.dwo/0000000000000002.dwo");
	assert_string_equal(link1(e, &t), "debug/.build-id/ab/obj/l.dwo");
	assert_string_equal(t, "../../../.dwo/0000000000000002.dwo");
	cp_split_plan_free(p);

	/* Without its debug file in the bundle, libx's units are not placed. */
	in.debug_paths = NULL;
	assert_int_equal(cp_split_place(&in, &p, &err), 0);
	assert_int_equal(p->n_entries, 1);
	cp_split_plan_free(p);

	/* A module that is not packed brings nothing. */
	f.mods[0].status = CP_STATUS_MISMATCH;
	assert_int_equal(cp_split_place(&in, &p, &err), 0);
	assert_int_equal(p->n_entries, 0);
	cp_split_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dwp_index),
	    cmocka_unit_test(test_place_dwo),
	    cmocka_unit_test(test_place_dwp_and_debug_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
