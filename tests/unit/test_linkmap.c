/*
 * Unit tests for linkmap.c: a fake process memory holding program headers,
 * a dynamic section, r_debug and link_map entries, and the hostile variants
 * (cycles, absurd pointers, unterminated names).
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corepack/linkmap.h"

/* One flat region of fake memory at BASE. */
#define BASE 0x10000ull
#define SIZE 0x4000u

struct fake {
	uint8_t mem[SIZE];
};

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = ctx;
	if (addr < BASE || addr - BASE > SIZE || SIZE - (addr - BASE) < len)
		return -EFAULT;
	memcpy(buf, f->mem + (addr - BASE), len);
	return 0;
}

static void w64(struct fake *f, uint64_t addr, uint64_t v)
{
	memcpy(f->mem + (addr - BASE), &v, 8);
}

static void w32(struct fake *f, uint64_t addr, uint32_t v)
{
	memcpy(f->mem + (addr - BASE), &v, 4);
}

enum {
	PHDR = BASE + 0x40,
	DYN = BASE + 0x200,
	RDEBUG = BASE + 0x400,
	LM = BASE + 0x800, /* link_map entries every 0x40 */
	NAMES = BASE + 0x2000,
};

/* A 64-bit little-endian process: PT_PHDR, PT_DYNAMIC (DT_DEBUG), r_debug
 * version 1, N entries named /lib/libN.so. */
static void build64(struct fake *f, struct cp_notes *aux, int n)
{
	memset(f, 0, sizeof(*f));
	memset(aux, 0, sizeof(*aux));
	aux->have_auxv = 1;
	aux->at_phdr = PHDR;
	aux->at_phent = 56;
	aux->at_phnum = 2;
	/* PT_PHDR with p_vaddr 0x40: bias BASE */
	w32(f, PHDR, PT_PHDR);
	w64(f, PHDR + 16, 0x40);
	w32(f, PHDR + 56, PT_DYNAMIC);
	w64(f, PHDR + 56 + 16, 0x200);
	w64(f, PHDR + 56 + 40, 64);
	w64(f, DYN, DT_NEEDED);
	w64(f, DYN + 8, 1);
	w64(f, DYN + 16, DT_DEBUG);
	w64(f, DYN + 24, RDEBUG);
	w64(f, DYN + 32, DT_NULL);
	w32(f, RDEBUG, 1);
	w64(f, RDEBUG + 8, n ? LM : 0);
	for (int i = 0; i < n; i++) {
		uint64_t e = LM + (uint64_t)i * 0x40;
		uint64_t name = NAMES + (uint64_t)i * 0x40;
		w64(f, e, 0x7f0000000000ull + (uint64_t)i * 0x100000);
		w64(f, e + 8, i == 0 ? NAMES + 0x1000 : name);
		w64(f, e + 16, 0x7f0000000000ull + (uint64_t)i * 0x100000 + 0x3000);
		w64(f, e + 24, i + 1 < n ? e + 0x40 : 0);
		w64(f, e + 32, i ? e - 0x40 : 0);
		char s[32];
		snprintf(s, sizeof(s), "/lib/lib%d.so", i);
		memcpy(f->mem + (name - BASE), s, strlen(s) + 1);
	}
}

static void test_walk(void **state)
{
	struct fake *f = malloc(sizeof(*f));
	struct cp_notes aux;
	build64(f, &aux, 3);
	struct cp_linkmap *lm = NULL;
	assert_int_equal(cp_linkmap_walk(fake_read, f, 1, 0, &aux, &lm, NULL), 0);
	assert_null(lm->why);
	assert_int_equal(lm->r_debug, RDEBUG);
	assert_int_equal(lm->n_entries, 3);
	assert_string_equal(lm->entries[0].name, ""); /* the main program */
	assert_string_equal(lm->entries[1].name, "/lib/lib1.so");
	assert_string_equal(lm->entries[2].name, "/lib/lib2.so");
	assert_int_equal(lm->entries[2].l_ld, 0x7f0000000000ull + 0x200000 + 0x3000);
	cp_linkmap_free(lm);
	free(f);
}

static void test_cycle_is_bounded(void **state)
{
	struct fake *f = malloc(sizeof(*f));
	struct cp_notes aux;
	build64(f, &aux, 3);
	/* last entry points back to the first, with a consistent l_prev */
	w64(f, LM + 0x80 + 24, LM);
	w64(f, LM + 32, LM + 0x80);
	struct cp_linkmap *lm = NULL;
	assert_int_equal(cp_linkmap_walk(fake_read, f, 1, 0, &aux, &lm, NULL), 0);
	assert_non_null(lm->why);
	assert_true(lm->n_entries <= CP_LINKMAP_MAX_ENTRIES);
	cp_linkmap_free(lm);
	/* a self-loop with l_prev == itself */
	build64(f, &aux, 1);
	w64(f, LM + 24, LM);
	w64(f, LM + 32, 0);
	assert_int_equal(cp_linkmap_walk(fake_read, f, 1, 0, &aux, &lm, NULL), 0);
	assert_non_null(lm->why);
	assert_int_equal(lm->n_entries, 1);
	cp_linkmap_free(lm);
	free(f);
}

static void test_absurd_pointers(void **state)
{
	struct fake *f = malloc(sizeof(*f));
	struct cp_notes aux;
	build64(f, &aux, 2);
	w64(f, LM + 24, 0xffffffffffffff00ull); /* l_next far away */
	struct cp_linkmap *lm = NULL;
	assert_int_equal(cp_linkmap_walk(fake_read, f, 1, 0, &aux, &lm, NULL), 0);
	assert_int_equal(lm->n_entries, 1);
	assert_non_null(strstr(lm->why, "not in the core"));
	cp_linkmap_free(lm);

	build64(f, &aux, 2);
	w64(f, RDEBUG + 8, 0xdead0000ull); /* r_map unmapped */
	assert_int_equal(cp_linkmap_walk(fake_read, f, 1, 0, &aux, &lm, NULL), 0);
	assert_int_equal(lm->n_entries, 0);
	cp_linkmap_free(lm);

	build64(f, &aux, 2);
	aux.at_phnum = 100000; /* absurd */
	assert_int_equal(cp_linkmap_walk(fake_read, f, 1, 0, &aux, &lm, NULL), 0);
	assert_int_equal(lm->n_entries, 0);
	assert_non_null(lm->why);
	cp_linkmap_free(lm);
	free(f);
}

static void test_unterminated_name(void **state)
{
	struct fake *f = malloc(sizeof(*f));
	struct cp_notes aux;
	build64(f, &aux, 2);
	/* name of entry 1 runs to the end of memory without a NUL */
	uint64_t name = BASE + SIZE - 100;
	memset(f->mem + (name - BASE), 'a', 100);
	w64(f, LM + 0x40 + 8, name);
	struct cp_linkmap *lm = NULL;
	assert_int_equal(cp_linkmap_walk(fake_read, f, 1, 0, &aux, &lm, NULL), 0);
	assert_int_equal(lm->n_entries, 2);
	assert_string_equal(lm->entries[1].name, ""); /* kept, nameless */
	cp_linkmap_free(lm);
	free(f);
}

static void test_static_program(void **state)
{
	struct fake *f = malloc(sizeof(*f));
	struct cp_notes aux;
	build64(f, &aux, 0);
	w32(f, PHDR + 56, PT_NOTE); /* no PT_DYNAMIC */
	w64(f, PHDR + 56 + 16, 0);
	w64(f, PHDR + 56 + 40, 0);
	struct cp_linkmap *lm = NULL;
	assert_int_equal(cp_linkmap_walk(fake_read, f, 1, 0, &aux, &lm, NULL), 0);
	assert_int_equal(lm->n_entries, 0);
	assert_non_null(strstr(lm->why, "static"));
	cp_linkmap_free(lm);

	memset(&aux, 0, sizeof(aux)); /* no auxv at all */
	assert_int_equal(cp_linkmap_walk(fake_read, f, 1, 0, &aux, &lm, NULL), 0);
	assert_int_equal(lm->n_entries, 0);
	cp_linkmap_free(lm);
	free(f);
}

static void test_mem_build_id(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	/* ELF header at BASE, one PT_NOTE at file offset 0x100 holding a GNU
	 * build-id note. */
	memcpy(f->mem, ELFMAG, SELFMAG);
	f->mem[EI_CLASS] = ELFCLASS64;
	w64(f, BASE + 32, 64); /* e_phoff */
	f->mem[56] = 1;        /* e_phnum */
	w32(f, BASE + 64, PT_NOTE);
	w64(f, BASE + 64 + 8, 0x100);
	w64(f, BASE + 64 + 32, 12 + 4 + 4);
	w32(f, BASE + 0x100, 4);
	w32(f, BASE + 0x104, 4);
	w32(f, BASE + 0x108, NT_GNU_BUILD_ID);
	memcpy(f->mem + 0x10c, "GNU", 4);
	memcpy(f->mem + 0x110, "\xde\xad\xbe\xef", 4);
	struct cp_file_mapping m = {BASE, BASE + SIZE, 0, "/x"};
	const struct cp_file_mapping *mp = &m;
	uint8_t id[64];
	assert_int_equal(cp_mem_build_id(fake_read, f, 1, 0, BASE, &mp, 1, id, sizeof(id)), 4);
	assert_memory_equal(id, "\xde\xad\xbe\xef", 4);
	/* descsz larger than the note segment: nothing */
	w32(f, BASE + 0x104, 4000);
	assert_int_equal(cp_mem_build_id(fake_read, f, 1, 0, BASE, &mp, 1, id, sizeof(id)), 0);
	/* not ELF */
	f->mem[0] = 0;
	assert_int_equal(cp_mem_build_id(fake_read, f, 1, 0, BASE, &mp, 1, id, sizeof(id)), 0);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_walk),
	    cmocka_unit_test(test_cycle_is_bounded),
	    cmocka_unit_test(test_absurd_pointers),
	    cmocka_unit_test(test_unterminated_name),
	    cmocka_unit_test(test_static_program),
	    cmocka_unit_test(test_mem_build_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
