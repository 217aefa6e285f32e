/*
 * The helpers of src/common that every other file relies on: opening and
 * reading files under the project's rules (a FIFO is refused at once, a
 * file over its cap is refused rather than cut, a short read is an error),
 * the data regions of a file with holes, lowercase hex both ways, the one
 * escape for text from a core or a bundle, the growing buffer, and adding
 * context to an error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "corepack/error.h"
#include "corepack/escape.h"
#include "corepack/hex.h"
#include "corepack/io.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/cp-common-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
	static char p[128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_read_file_capped(void **state)
{
	struct cp_error err = {0};
	char data[100], *text = NULL;
	size_t len = 0;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	char *p = path_of("hundred");
	write_file(p, data, sizeof(data));

	/* exactly at the cap: whole, NUL added */
	assert_int_equal(cp_read_file_capped(p, 100, &text, &len, &err), 0);
	assert_int_equal(len, 100);
	assert_memory_equal(text, data, 100);
	assert_int_equal(text[100], '\0');
	free(text);

	/* one byte over: refused, never the first 99 bytes */
	text = NULL;
	assert_int_equal(cp_read_file_capped(p, 99, &text, &len, &err), -EFBIG);
	assert_null(text);
	assert_non_null(strstr(err.msg, "larger than 99 bytes"));
	assert_non_null(strstr(err.msg, p));

	/* empty */
	p = path_of("empty");
	write_file(p, "", 0);
	assert_int_equal(cp_read_file_capped(p, 10, &text, &len, NULL), 0);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);

	/* missing; a directory */
	cp_error_clear(&err);
	assert_int_equal(cp_read_file_capped(path_of("none"), 10, &text, &len, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot open '"));
	assert_int_equal(cp_read_file_capped(dir, 10, &text, &len, NULL), -EINVAL);
}

/* A FIFO with no writer: refused at once, not waited on (the alarm turns a
 * hang into a failure). */
static void test_fifo_refused(void **state)
{
	struct cp_error err = {0};
	char *p = path_of("fifo"), *text = NULL;
	size_t len;
	struct stat st;
	assert_int_equal(mkfifo(p, 0600), 0);
	alarm(10);
	assert_int_equal(cp_read_file_capped(p, 1 << 20, &text, &len, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(cp_open_regular(p, 0, &st), -EINVAL);
	assert_true(S_ISFIFO(st.st_mode));
	alarm(0);
	assert_int_equal(cp_open_regular("/dev/null", 0, NULL), -EINVAL);
}

static void test_open_regular_nofollow(void **state)
{
	char *target = strdup(path_of("target")), *link = strdup(path_of("link"));
	write_file(target, "x", 1);
	assert_int_equal(symlink(target, link), 0);
	int fd = cp_open_regular(link, 0, NULL);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cp_open_regular(link, O_NOFOLLOW, NULL), -ELOOP);
	free(target);
	free(link);
}

static void test_pread_full(void **state)
{
	char *p = path_of("ten"), buf[16];
	write_file(p, "0123456789", 10);
	int fd = cp_open_regular(p, 0, NULL);
	assert_true(fd >= 0);
	assert_int_equal(cp_pread_full(fd, buf, 4, 6), 0);
	assert_memory_equal(buf, "6789", 4);
	assert_int_equal(cp_pread_full(fd, buf, 5, 6), -EIO); /* the file ends first */
	close(fd);
}

/* Whatever the filesystem can tell, the regions are in order, inside the
 * file, and cover every byte of data. */
static void test_data_regions(void **state)
{
	char *p = path_of("sparse");
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	const uint64_t size = 4u << 20, at = 2u << 20;
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(pwrite(fd, "data", 4, (off_t)at), 4);
	struct cp_region *r = NULL;
	size_t n = 0;
	assert_int_equal(cp_data_regions(fd, size, &r, &n), 0);
	assert_true(n >= 1);
	uint64_t end = 0;
	int covered = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(r[i].off >= end);
		assert_true(r[i].len > 0 && r[i].off + r[i].len <= size);
		covered |= r[i].off <= at && at + 4 <= r[i].off + r[i].len;
		end = r[i].off + r[i].len;
	}
	assert_true(covered);
	free(r);

	/* all hole: no region, or (no SEEK_DATA) the whole file */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(cp_data_regions(fd, size, &r, &n), 0);
	assert_true(n == 0 || (n == 1 && r[0].off == 0 && r[0].len == size));
	free(r);
	close(fd);
}

static void test_hex(void **state)
{
	const uint8_t b[] = {0x00, 0x9f, 0xa0, 0xff};
	char hex[9];
	uint8_t back[4];
	cp_hex(b, sizeof(b), hex);
	assert_string_equal(hex, "009fa0ff");
	assert_int_equal(cp_unhex(hex, 8, back), 0);
	assert_memory_equal(back, b, 4);
	assert_int_equal(cp_unhex("009FA0FF", 8, NULL), -EINVAL); /* lowercase only */
	assert_int_equal(cp_unhex("abc", 3, NULL), -EINVAL);
	assert_int_equal(cp_unhex("0g", 2, NULL), -EINVAL);
	cp_hex(b, 0, hex);
	assert_string_equal(hex, "");
}

static void test_escape(void **state)
{
	const char *in = "a\\b\x1b[2J\n\xc3\xa9\x9b~";
	const char *want = "a\\\\b\\x1b[2J\\x0a\\xc3\\xa9\\x9b~";
	char buf[64], *dup = cp_escape_dup(in);
	struct cp_buf b = {0};
	assert_string_equal(cp_escape(in, buf, sizeof(buf)), want);
	assert_string_equal(dup, want);
	cp_escape_buf(&b, in);
	assert_string_equal(b.d, want);
	free(dup);
	cp_buf_done(&b);
	/* cut between escapes, never inside one */
	assert_string_equal(cp_escape("ab\x01\x02\x03", buf, 10), "ab\\x01...");
}

static void test_buf(void **state)
{
	struct cp_buf b = {0};
	char *s = cp_buf_steal(&b);
	assert_string_equal(s, ""); /* nothing added is still a string */
	free(s);
	for (int i = 0; i < 1000; i++)
		cp_buf_printf(&b, "%d,", i);
	cp_buf_puts(&b, "end");
	assert_int_equal(b.oom, 0);
	assert_non_null(strstr(b.d, "998,999,end"));
	size_t len = b.len;
	s = cp_buf_steal(&b);
	assert_int_equal(strlen(s), len);
	assert_null(b.d);
	free(s);
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cp_buf_printf(&b, "<%s>", big); /* past printf's small buffer */
	assert_int_equal(b.len, sizeof(big) + 1);
	cp_buf_done(&b);
}

static void test_error_prefix(void **state)
{
	struct cp_error err = {0};
	/* nothing set: nothing to prefix; NULL accepted */
	cp_error_prefix(&err, "'%s': ", "core.1");
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
	cp_error_prefix(NULL, "x");

	assert_int_equal(cp_error_set(&err, EINVAL, "notes are cut off at offset %d", 12), -EINVAL);
	cp_error_prefix(&err, "'%s': ", "core.1");
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "'core.1': notes are cut off at offset 12");
	cp_error_prefix(&err, "cannot pack: ");
	assert_string_equal(err.msg, "cannot pack: 'core.1': notes are cut off at offset 12");

	/* bounded: a long message loses its end, a long prefix fills it all */
	char long_text[3000];
	memset(long_text, 'm', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	cp_error_reset(&err, EIO, "%s", long_text);
	cp_error_prefix(&err, "'%s': ", "f");
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	assert_memory_equal(err.msg, "'f': mmm", 8);
	memset(long_text, 'p', sizeof(long_text) - 1);
	cp_error_reset(&err, EIO, "tail");
	cp_error_prefix(&err, "%s", long_text);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	assert_int_equal(err.msg[0], 'p');
	assert_int_equal(err.code, EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_file_capped),
	    cmocka_unit_test(test_fifo_refused),
	    cmocka_unit_test(test_open_regular_nofollow),
	    cmocka_unit_test(test_pread_full),
	    cmocka_unit_test(test_data_regions),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_buf),
	    cmocka_unit_test(test_error_prefix),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
