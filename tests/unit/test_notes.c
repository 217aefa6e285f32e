/*
 * Unit tests for notes.c: synthetic note buffers, 32- and 64-bit, both byte
 * orders, and the malformed notes a hostile core can hold.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corepack/notes.h"

struct buf {
	uint8_t d[8192];
	size_t len;
	int be, is64;
};

static void put_u32(struct buf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b->d[b->len++] = b->be ? (uint8_t)(v >> (24 - 8 * i)) : (uint8_t)(v >> (8 * i));
}

static void put_word(struct buf *b, uint64_t v)
{
	if (!b->is64) {
		put_u32(b, (uint32_t)v);
		return;
	}
	if (b->be) {
		put_u32(b, (uint32_t)(v >> 32));
		put_u32(b, (uint32_t)v);
	} else {
		put_u32(b, (uint32_t)v);
		put_u32(b, (uint32_t)(v >> 32));
	}
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	memcpy(b->d + b->len, p, n);
	b->len += n;
}

static void pad4(struct buf *b)
{
	while (b->len % 4)
		b->d[b->len++] = 0;
}

/* Note header for "CORE"; returns the offset of descsz to patch. */
static size_t note_begin(struct buf *b, uint32_t type)
{
	put_u32(b, 5);
	size_t at = b->len;
	put_u32(b, 0);
	put_u32(b, type);
	put_bytes(b, "CORE\0\0\0", 8);
	return at;
}

static void note_end(struct buf *b, size_t at, size_t desc_start)
{
	uint32_t sz = (uint32_t)(b->len - desc_start);
	size_t save = b->len;
	b->len = at;
	put_u32(b, sz);
	b->len = save;
	pad4(b);
}

static void add_nt_file(struct buf *b, const char *const *names, size_t n)
{
	size_t at = note_begin(b, NT_FILE), start = b->len;
	put_word(b, n);
	put_word(b, 4096);
	for (size_t i = 0; i < n; i++) {
		put_word(b, 0x400000 + i * 0x10000);
		put_word(b, 0x400000 + i * 0x10000 + 0x2000);
		put_word(b, i);
	}
	for (size_t i = 0; i < n; i++)
		put_bytes(b, names[i], strlen(names[i]) + 1);
	note_end(b, at, start);
}

static void add_prpsinfo(struct buf *b)
{
	size_t at = note_begin(b, NT_PRPSINFO), start = b->len;
	uint8_t head[16] = {0};
	put_bytes(b, head, b->is64 ? 16 : 12);
	put_u32(b, 1234); /* pid */
	put_u32(b, 1);    /* ppid */
	put_u32(b, 1234);
	put_u32(b, 1234);
	char fname[16] = "crashy", args[80] = "./crashy --now";
	put_bytes(b, fname, 16);
	put_bytes(b, args, 80);
	note_end(b, at, start);
}

static void add_siginfo(struct buf *b)
{
	size_t at = note_begin(b, NT_SIGINFO), start = b->len;
	put_u32(b, 11);
	put_u32(b, 0);
	put_u32(b, 1);
	if (b->is64)
		put_u32(b, 0);
	put_word(b, 0xdeadbeef);
	while (b->len - start < 128)
		b->d[b->len++] = 0;
	note_end(b, at, start);
}

static void add_prstatus(struct buf *b, int pid, int sig)
{
	size_t at = note_begin(b, NT_PRSTATUS), start = b->len;
	put_u32(b, (uint32_t)sig);
	put_u32(b, 0);
	put_u32(b, 0);
	b->d[b->len++] = (uint8_t)(b->be ? 0 : sig);
	b->d[b->len++] = (uint8_t)(b->be ? sig : 0);
	b->len += 2;
	put_word(b, 0);
	put_word(b, 0);
	put_u32(b, (uint32_t)pid);
	b->len += 64;
	note_end(b, at, start);
}

static void add_auxv(struct buf *b)
{
	size_t at = note_begin(b, NT_AUXV), start = b->len;
	put_word(b, AT_PHDR);
	put_word(b, 0x400040);
	put_word(b, AT_ENTRY);
	put_word(b, 0x401000);
	put_word(b, AT_BASE);
	put_word(b, 0x7f0000000000);
	put_word(b, AT_NULL);
	put_word(b, 0);
	put_word(b, AT_PHNUM); /* after AT_NULL: ignored */
	put_word(b, 99);
	note_end(b, at, start);
}

static void full_core_notes(int is64, int be)
{
	struct buf b = {.is64 = is64, .be = be};
	const char *names[] = {"/usr/bin/crashy", "/lib/libc.so.6 (deleted)"};
	add_prstatus(&b, 1234, 11);
	add_prpsinfo(&b);
	add_siginfo(&b);
	add_auxv(&b);
	add_nt_file(&b, names, 2);
	add_prstatus(&b, 1235, 0);
	struct cp_notes n;
	struct cp_error err = {0};
	assert_int_equal(cp_notes_parse(b.d, b.len, is64 ? ELFCLASS64 : ELFCLASS32, be, &n, &err),
	                 0);
	assert_true(n.have_file);
	assert_int_equal(n.n_files, 2);
	assert_string_equal(n.files[0].name, "/usr/bin/crashy");
	assert_string_equal(n.files[1].name, "/lib/libc.so.6 (deleted)");
	assert_int_equal(n.files[1].start, 0x410000);
	assert_int_equal(n.files[1].end, 0x412000);
	assert_int_equal(n.files[1].file_offset, 4096);
	assert_int_equal(n.page_size, 4096);
	assert_true(n.have_prpsinfo);
	assert_int_equal(n.pid, 1234);
	assert_string_equal(n.fname, "crashy");
	assert_string_equal(n.psargs, "./crashy --now");
	assert_true(n.have_siginfo);
	assert_int_equal(n.sig_signo, 11);
	assert_int_equal(n.sig_code, 1);
	assert_int_equal(n.fault_addr, 0xdeadbeef);
	assert_int_equal(n.n_threads, 2);
	assert_int_equal(n.threads[0].pid, 1234);
	assert_int_equal(n.threads[0].cursig, 11);
	assert_int_equal(n.threads[1].pid, 1235);
	assert_true(n.have_auxv);
	assert_int_equal(n.at_phdr, 0x400040);
	assert_int_equal(n.at_entry, 0x401000);
	assert_int_equal(n.at_base, 0x7f0000000000 & (is64 ? ~0ull : 0xffffffffull));
	assert_int_equal(n.at_phnum, 0);
	cp_notes_done(&n);
}

static void test_core64_le(void **state)
{
	full_core_notes(1, 0);
}

static void test_core32_le(void **state)
{
	full_core_notes(0, 0);
}

static void test_core64_be(void **state)
{
	full_core_notes(1, 1);
}

static void test_core32_be(void **state)
{
	full_core_notes(0, 1);
}

static int parse(struct buf *b, struct cp_error *err)
{
	struct cp_notes n;
	int r = cp_notes_parse(b->d, b->len, b->is64 ? ELFCLASS64 : ELFCLASS32, b->be, &n, err);
	if (r == 0)
		cp_notes_done(&n);
	return r;
}

static void test_cut_off_header(void **state)
{
	struct buf b = {.is64 = 1};
	add_prpsinfo(&b);
	b.len -= 20; /* the desc runs past the buffer */
	struct cp_error err = {0};
	assert_int_equal(parse(&b, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cut off"));
	b.len = 7; /* not even a header */
	cp_error_clear(&err);
	assert_int_equal(parse(&b, &err), -EINVAL);
}

static void test_nt_file_count_too_large(void **state)
{
	struct buf b = {.is64 = 1};
	size_t at = note_begin(&b, NT_FILE), start = b.len;
	put_word(&b, 0x7fffffffffffffffull); /* count */
	put_word(&b, 4096);
	note_end(&b, at, start);
	struct cp_error err = {0};
	assert_int_equal(parse(&b, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "NT_FILE"));
}

static void test_nt_file_count_beyond_note(void **state)
{
	struct buf b = {.is64 = 1};
	size_t at = note_begin(&b, NT_FILE), start = b.len;
	put_word(&b, 1000); /* claims 1000 entries, holds none */
	put_word(&b, 4096);
	note_end(&b, at, start);
	struct cp_error err = {0};
	assert_int_equal(parse(&b, &err), -EINVAL);
}

static void test_nt_file_unterminated_name(void **state)
{
	struct buf b = {.is64 = 0};
	size_t at = note_begin(&b, NT_FILE), start = b.len;
	put_word(&b, 1);
	put_word(&b, 4096);
	put_word(&b, 0x1000);
	put_word(&b, 0x2000);
	put_word(&b, 0);
	put_bytes(&b, "/no/terminator", 14);
	note_end(&b, at, start);
	/* pad4 added a NUL when the length was not aligned; make it exact. */
	b.len = start + 20 + 14;
	uint32_t sz = 20 + 14;
	memcpy(b.d + at, &sz, 4);
	while (b.len % 4) {
		/* keep the name unterminated: pad with non-NUL into the desc */
		b.d[b.len++] = 'x';
		sz++;
		memcpy(b.d + at, &sz, 4);
	}
	struct cp_error err = {0};
	assert_int_equal(parse(&b, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "cut off"));
}

static void test_nt_file_bad_range_and_page(void **state)
{
	struct buf b = {.is64 = 1};
	size_t at = note_begin(&b, NT_FILE), start = b.len;
	put_word(&b, 1);
	put_word(&b, 3000); /* not a power of two */
	put_word(&b, 0x1000);
	put_word(&b, 0x2000);
	put_word(&b, 0);
	put_bytes(&b, "/x", 3);
	note_end(&b, at, start);
	struct cp_error err = {0};
	assert_int_equal(parse(&b, &err), -EINVAL);

	struct buf c = {.is64 = 1};
	at = note_begin(&c, NT_FILE);
	start = c.len;
	put_word(&c, 1);
	put_word(&c, 4096);
	put_word(&c, 0x3000); /* end before start */
	put_word(&c, 0x2000);
	put_word(&c, 0);
	put_bytes(&c, "/x", 3);
	note_end(&c, at, start);
	cp_error_clear(&err);
	assert_int_equal(parse(&c, &err), -EINVAL);
}

static void test_short_known_notes(void **state)
{
	static const uint32_t types[] = {NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO};
	for (size_t i = 0; i < 3; i++) {
		struct buf b = {.is64 = 1};
		size_t at = note_begin(&b, types[i]), start = b.len;
		put_u32(&b, 1);
		note_end(&b, at, start);
		struct cp_error err = {0};
		assert_int_equal(parse(&b, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "too short"));
	}
}

static void test_unknown_notes_skipped(void **state)
{
	struct buf b = {.is64 = 1};
	put_u32(&b, 6);
	put_u32(&b, 8);
	put_u32(&b, 0x202); /* NT_X86_XSTATE */
	put_bytes(&b, "LINUX\0\0\0", 8);
	put_word(&b, 42);
	add_auxv(&b);
	struct cp_notes n;
	assert_int_equal(cp_notes_parse(b.d, b.len, ELFCLASS64, 0, &n, NULL), 0);
	assert_true(n.have_auxv);
	assert_false(n.have_file);
	cp_notes_done(&n);
}

static void test_huge_namesz(void **state)
{
	struct buf b = {.is64 = 1};
	put_u32(&b, 0xffffffffu);
	put_u32(&b, 0xffffffffu);
	put_u32(&b, NT_FILE);
	assert_int_equal(parse(&b, NULL), -EINVAL);
}

static void test_signal_names(void **state)
{
	assert_string_equal(cp_signal_name(11), "SIGSEGV");
	assert_string_equal(cp_signal_name(6), "SIGABRT");
	assert_null(cp_signal_name(0));
	assert_null(cp_signal_name(999));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_core64_le),
	    cmocka_unit_test(test_core32_le),
	    cmocka_unit_test(test_core64_be),
	    cmocka_unit_test(test_core32_be),
	    cmocka_unit_test(test_cut_off_header),
	    cmocka_unit_test(test_nt_file_count_too_large),
	    cmocka_unit_test(test_nt_file_count_beyond_note),
	    cmocka_unit_test(test_nt_file_unterminated_name),
	    cmocka_unit_test(test_nt_file_bad_range_and_page),
	    cmocka_unit_test(test_short_known_notes),
	    cmocka_unit_test(test_unknown_notes_skipped),
	    cmocka_unit_test(test_huge_namesz),
	    cmocka_unit_test(test_signal_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
