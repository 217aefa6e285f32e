/*
 * Unit tests for image.c (and cp_core_segment_after()): a synthetic
 * 64-bit core whose memory holds the dumped first page of a small shared
 * object, and that object's file on disk.  The layout found from the
 * dumped headers, the build-id read through them, and the comparison of
 * the dumped bytes with the file: equal, a byte changed in a read-only
 * segment (a mismatch at that offset), a byte changed in a writable one
 * (not compared), nothing dumped (nothing compared).
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
#include <unistd.h>

#include <cmocka.h>

#include "corepack/core.h"
#include "corepack/image.h"

#define BASE 0x7f0000010000ULL /* where the object's first page lies */
#define OBJ_SIZE 0x3000

static char dir[] = "/tmp/cp-test-image.XXXXXX";
static char core_path[256], obj_path[256];

/* The object: ELF header, three program headers (PT_LOAD r-- at 0 of
 * 0x400 bytes, PT_LOAD rw- at file 0x1000 / vaddr 0x2000, PT_NOTE with a
 * build-id at 0x300), then filler. */
static void make_object(uint8_t *o)
{
	memset(o, 0, OBJ_SIZE);
	for (size_t i = 0x400; i < OBJ_SIZE; i++)
		o[i] = (uint8_t)(i * 7);
	Elf64_Ehdr *e = (Elf64_Ehdr *)o;
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = ET_DYN;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_phoff = sizeof(*e);
	e->e_ehsize = sizeof(*e);
	e->e_phentsize = sizeof(Elf64_Phdr);
	e->e_phnum = 3;
	Elf64_Phdr *ph = (Elf64_Phdr *)(o + sizeof(*e));
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
	                     .p_flags = PF_R,
	                     .p_offset = 0,
	                     .p_vaddr = 0,
	                     .p_filesz = 0x400,
	                     .p_memsz = 0x400,
	                     .p_align = 0x1000};
	ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
	                     .p_flags = PF_R | PF_W,
	                     .p_offset = 0x1000,
	                     .p_vaddr = 0x2000,
	                     .p_filesz = 0x800,
	                     .p_memsz = 0x1000,
	                     .p_align = 0x1000};
	ph[2] = (Elf64_Phdr){.p_type = PT_NOTE,
	                     .p_flags = PF_R,
	                     .p_offset = 0x300,
	                     .p_vaddr = 0x300,
	                     .p_filesz = 36,
	                     .p_memsz = 36,
	                     .p_align = 4};
	uint32_t *n = (uint32_t *)(o + 0x300);
	n[0] = 4;  /* namesz */
	n[1] = 20; /* descsz */
	n[2] = NT_GNU_BUILD_ID;
	memcpy(o + 0x30c, "GNU", 4);
	for (int i = 0; i < 20; i++)
		o[0x310 + i] = (uint8_t)(0xa0 + i);
}

/* A core: one PRSTATUS note; PT_LOADs: the object's first page (dumped),
 * its writable segment (dumped, from DATA), and 4 pages not dumped. */
static void make_core(const uint8_t *first_page, const uint8_t *data, int dump_first)
{
	uint8_t buf[0x4000];
	memset(buf, 0, sizeof(buf));
	Elf64_Ehdr *e = (Elf64_Ehdr *)buf;
	memcpy(e->e_ident, ELFMAG, SELFMAG);
	e->e_ident[EI_CLASS] = ELFCLASS64;
	e->e_ident[EI_DATA] = ELFDATA2LSB;
	e->e_ident[EI_VERSION] = EV_CURRENT;
	e->e_type = ET_CORE;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_phoff = sizeof(*e);
	e->e_ehsize = sizeof(*e);
	e->e_phentsize = sizeof(Elf64_Phdr);
	e->e_phnum = 4;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*e));
	/* the note at 0x200: a PRSTATUS of 336 bytes */
	uint32_t *n = (uint32_t *)(buf + 0x200);
	n[0] = 5;
	n[1] = 336;
	n[2] = NT_PRSTATUS;
	memcpy(buf + 0x20c, "CORE", 5);
	ph[0] = (Elf64_Phdr){
	    .p_type = PT_NOTE, .p_offset = 0x200, .p_filesz = 12 + 8 + 336, .p_align = 4};
	ph[1] = (Elf64_Phdr){.p_type = PT_LOAD,
	                     .p_flags = PF_R,
	                     .p_offset = 0x1000,
	                     .p_vaddr = BASE,
	                     .p_filesz = dump_first ? 0x1000 : 0,
	                     .p_memsz = 0x1000,
	                     .p_align = 0x1000};
	ph[2] = (Elf64_Phdr){.p_type = PT_LOAD,
	                     .p_flags = PF_R | PF_W,
	                     .p_offset = 0x2000,
	                     .p_vaddr = BASE + 0x2000,
	                     .p_filesz = 0x1000,
	                     .p_memsz = 0x1000,
	                     .p_align = 0x1000};
	ph[3] = (Elf64_Phdr){.p_type = PT_LOAD,
	                     .p_flags = PF_R,
	                     .p_offset = 0x3000,
	                     .p_vaddr = BASE + 0x10000,
	                     .p_filesz = 0,
	                     .p_memsz = 0x4000,
	                     .p_align = 0x1000};
	memcpy(buf + 0x1000, first_page, 0x1000);
	memcpy(buf + 0x2000, data, 0x800);
	FILE *f = fopen(core_path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, sizeof(buf), f), sizeof(buf));
	fclose(f);
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(core_path, sizeof(core_path), "%s/core", dir);
	snprintf(obj_path, sizeof(obj_path), "%s/libobj.so", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(core_path);
	unlink(obj_path);
	rmdir(dir);
	return 0;
}

static struct cp_core *open_core(void)
{
	struct cp_core *c = NULL;
	struct cp_error err = {0};
	int r = cp_core_open(core_path, &c, &err);
	if (r < 0)
		fail_msg("cp_core_open: %s", err.msg);
	return c;
}

static void test_segment_after(void **state)
{
	uint8_t o[OBJ_SIZE];
	make_object(o);
	make_core(o, o + 0x1000, 1);
	struct cp_core *c = open_core();
	assert_ptr_equal(cp_core_segment_after(c, 0), &c->loads[0]);
	assert_ptr_equal(cp_core_segment_after(c, BASE + 0xfff), &c->loads[0]);
	assert_ptr_equal(cp_core_segment_after(c, BASE + 0x1000), &c->loads[1]);
	assert_ptr_equal(cp_core_segment_after(c, BASE + 0x3000), &c->loads[2]);
	assert_null(cp_core_segment_after(c, BASE + 0x14000));
	cp_core_free(c);
}

static void test_layout_and_build_id(void **state)
{
	uint8_t o[OBJ_SIZE];
	make_object(o);
	make_core(o, o + 0x1000, 1);
	struct cp_core *c = open_core();
	struct cp_image_layout l;
	assert_int_equal(cp_image_from_header(c, BASE, &l), 0);
	assert_true(l.header == BASE && l.bias == BASE && l.start == BASE);
	assert_true(l.end == BASE + 0x3000);
	assert_int_equal(cp_image_from_header(c, BASE + 0x2000, &l), -ENOENT);  /* no ELF there */
	assert_int_equal(cp_image_from_header(c, BASE + 0x10000, &l), -ENOENT); /* not dumped */
	uint8_t id[64];
	assert_int_equal(cp_image_build_id(c, BASE, id, sizeof(id)), 20);
	assert_int_equal(id[0], 0xa0);
	assert_int_equal(id[19], 0xb3);
	/* AT_PHDR without PT_PHDR: the ELF header at the start of the page */
	assert_int_equal(cp_image_from_phdr(c, BASE + 64, 3, &l), 0);
	assert_true(l.header == BASE && l.end == BASE + 0x3000);
	assert_int_equal(cp_image_from_phdr(c, BASE + 72, 3, &l), -ENOENT);
	cp_core_free(c);
}

static void test_compare(void **state)
{
	uint8_t o[OBJ_SIZE], changed[OBJ_SIZE];
	struct cp_image_match m;
	struct cp_error err = {0};
	make_object(o);
	make_core(o, o + 0x1000, 1);
	struct cp_core *c = open_core();

	write_file(obj_path, o, sizeof(o));
	assert_int_equal(cp_image_compare(c, BASE, NULL, obj_path, &m, &err), 0);
	assert_false(m.differs);
	assert_int_equal(m.bytes, 0x400); /* the read-only PT_LOAD only */
	assert_int_equal(m.pages, 1);

	/* A byte of the writable segment: relocated data, not compared. */
	memcpy(changed, o, sizeof(o));
	changed[0x1010] ^= 0xff;
	write_file(obj_path, changed, sizeof(changed));
	assert_int_equal(cp_image_compare(c, BASE, NULL, obj_path, &m, &err), 0);
	assert_false(m.differs);
	assert_int_equal(m.bytes, 0x400);

	/* A byte of the read-only segment: a mismatch, at its offset. */
	memcpy(changed, o, sizeof(o));
	changed[0x3a0] ^= 0x01;
	write_file(obj_path, changed, sizeof(changed));
	assert_int_equal(cp_image_compare(c, BASE, NULL, obj_path, &m, &err), 0);
	assert_true(m.differs);
	assert_int_equal(m.diff_offset, 0x3a0);

	/* A file shorter than its segments, equal as far as it goes: the
	 * process had bytes where the file has none. */
	write_file(obj_path, o, 0x200);
	assert_int_equal(cp_image_compare(c, BASE, NULL, obj_path, &m, &err), 0);
	assert_true(m.differs);
	assert_int_equal(m.diff_offset, 0x200);
	cp_core_free(c);

	/* The first page not dumped: nothing to compare. */
	make_core(o, o + 0x1000, 0);
	c = open_core();
	write_file(obj_path, o, sizeof(o));
	assert_int_equal(cp_image_compare(c, BASE, NULL, obj_path, &m, &err), 0);
	assert_int_equal(m.bytes, 0);
	assert_false(m.differs);
	cp_core_free(c);

	/* Not an ELF file. */
	write_file(obj_path, (const uint8_t *)"not elf", 7);
	c = open_core();
	assert_int_equal(cp_image_compare(c, BASE, NULL, obj_path, &m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not an ELF file"));
	cp_core_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_segment_after),
	    cmocka_unit_test(test_layout_and_build_id),
	    cmocka_unit_test(test_compare),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
