/*
 * Template lookup and rendering, and the quoting functions checked against
 * the programs that will parse their output: sh for cp_quote_sh(), gdb 13
 * itself for cp_quote_gdb_arg().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_skip.h"

#include "corepack/template.h"

/* Runs ARGV with stdout and stderr captured into *OUT (malloc'd); returns
 * the exit status, or -1 when it did not exit normally. */
static int run_capture(char *const argv[], char **out)
{
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);

	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (cap - len < 1024) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		ssize_t n = read(pfd[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(pfd[0]);

	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *render_ok(const char *text, const struct cp_template_var *vars, size_t n)
{
	struct cp_error err = {0};
	char *out = NULL;
	int r = cp_template_render(text, vars, n, &out, &err);
	if (r != 0)
		fail_msg("render of \"%s\" failed: %s", text, err.msg);
	assert_non_null(out);
	return out;
}

static void assert_renders(const char *text, const struct cp_template_var *vars, size_t n,
                           const char *want)
{
	char *out = render_ok(text, vars, n);
	assert_string_equal(out, want);
	free(out);
}

static void test_template_get(void **state)
{
	size_t count = 0;
	for (const struct cp_template *t = cp_templates; t->name; t++, count++) {
		assert_ptr_equal(cp_template_get(t->name), t);
		assert_int_equal(strlen(t->text), t->len);
	}
	assert_true(count > 0);
	assert_null(cp_template_get("no-such-template"));
	assert_null(cp_template_get(""));
}

static void test_render_substitutes(void **state)
{
	const struct cp_template_var vars[] = {
	    {"EXE", "/usr/bin/prog"},
	    {"CORE", "core.123"},
	    {"A_1", "x"},
	    {"EMPTY", ""},
	};
	size_t n = sizeof(vars) / sizeof(vars[0]);

	assert_renders("", vars, n, "");
	assert_renders("no placeholders\n", vars, n, "no placeholders\n");
	assert_renders("file @EXE@\ncore-file @CORE@\n", vars, n,
	               "file /usr/bin/prog\ncore-file core.123\n");
	assert_renders("@EXE@", vars, n, "/usr/bin/prog");
	assert_renders("@A_1@@A_1@", vars, n, "xx");
	assert_renders("[@EMPTY@]", vars, n, "[]");
	/* A value is not scanned again: it may hold anything. */
	const struct cp_template_var tricky[] = {{"V", "@V@ @@ @NOPE@"}};
	assert_renders("<@V@>", tricky, 1, "<@V@ @@ @NOPE@>");
}

static void test_render_literal_at(void **state)
{
	const struct cp_template_var vars[] = {{"X", "1"}};

	assert_renders("a@@b", vars, 1, "a@b");
	assert_renders("@@X@@", vars, 1, "@X@");
	assert_renders("exec gdb \"$@\"\n", vars, 1, "exec gdb \"$@\"\n");
	assert_renders("for a in \"$@\"; do :; done; echo $@", vars, 1,
	               "for a in \"$@\"; do :; done; echo $@");
	assert_renders("mail root@example.org", vars, 1, "mail root@example.org");
	assert_renders("@lower@ @Mixed@ @ @", vars, 1, "@lower@ @Mixed@ @ @");
	assert_renders("@X", vars, 1, "@X");
	assert_renders("@X Y@", vars, 1, "@X Y@");
	assert_renders("trailing @", vars, 1, "trailing @");
	assert_renders("@", vars, 1, "@");
	assert_renders("x@@", vars, 1, "x@");
	assert_renders("$@@X@", vars, 1, "$@X@");
	assert_renders("\"$@\"@X@", vars, 1, "\"$@\"1");
}

static void test_render_unknown_variable(void **state)
{
	const struct cp_template_var vars[] = {{"EXE", "prog"}, {"NULLVAL", NULL}};
	struct cp_error err = {0};
	char *out = (char *)"untouched";

	assert_int_equal(cp_template_render("file @EXE@\ncore @CORE@\n", vars, 2, &out, &err),
	                 -EINVAL);
	assert_string_equal(out, "untouched");
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "template variable '@CORE@' has no value");

	/* A prefix of a known name is not that name. */
	cp_error_clear(&err);
	assert_int_equal(cp_template_render("@EX@", vars, 2, &out, &err), -EINVAL);
	assert_string_equal(err.msg, "template variable '@EX@' has no value");

	cp_error_clear(&err);
	assert_int_equal(cp_template_render("@NULLVAL@", vars, 2, &out, &err), -EINVAL);
	assert_string_equal(out, "untouched");

	/* No variables at all, and a NULL error object. */
	assert_int_equal(cp_template_render("@EXE@", NULL, 0, &out, NULL), -EINVAL);
}

static const char *const awkward[] = {
    "",
    "plain",
    "with space",
    "it's",
    "'",
    "''",
    "'\\''",
    "$(echo pwned)",
    "`echo pwned`",
    "$HOME ${HOME} $1 $@ $*",
    "line1\nline2\n",
    "tab\there",
    "back\\slash\\",
    "\"double\"",
    "* ? [a-z] ~ ~root",
    "-n",
    "%s %d %%",
    "; rm -rf / #",
    "\xc3\xa9t\xc3\xa9 \xe2\x82\xac",
};

static void test_quote_sh_unit(void **state)
{
	char *q;

	q = cp_quote_sh("");
	assert_string_equal(q, "''");
	free(q);
	q = cp_quote_sh("a b");
	assert_string_equal(q, "'a b'");
	free(q);
	q = cp_quote_sh("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
}

/* sh -c 'printf %s QUOTED' must print the value back, byte for byte. */
static void test_quote_sh_with_sh(void **state)
{
	for (size_t i = 0; i < sizeof(awkward) / sizeof(awkward[0]); i++) {
		char *q = cp_quote_sh(awkward[i]);
		assert_non_null(q);
		char *cmd;
		assert_true(asprintf(&cmd, "printf %%s %s", q) > 0);

		char *argv[] = {"sh", "-c", cmd, NULL};
		char *out;
		assert_int_equal(run_capture(argv, &out), 0);
		if (strcmp(out, awkward[i]) != 0)
			fail_msg("sh turned %s into \"%s\"", q, out);
		free(out);
		free(cmd);
		free(q);
	}
}

static void assert_gdb_quote(const char *value, const char *want)
{
	char *q = cp_quote_gdb_arg(value);
	assert_non_null(q);
	assert_string_equal(q, want);
	free(q);
}

static void assert_gdb_refused(const char *value)
{
	errno = 0;
	assert_null(cp_quote_gdb_arg(value));
	assert_int_equal(errno, EINVAL);
}

static void test_quote_gdb_unit(void **state)
{
	assert_gdb_quote("/usr/bin/prog", "/usr/bin/prog");
	assert_gdb_quote("a b", "a\\ b");
	assert_gdb_quote("a\tb", "a\\\tb");
	assert_gdb_quote("it's \"x\" a\\b", "it\\'s\\ \\\"x\\\"\\ a\\\\b");
	assert_gdb_quote("/a~b/c:~d", "/a~b/c:~d");
	assert_gdb_quote("/x/-y", "/x/-y");
	assert_gdb_quote("/trailing ", "/trailing\\ ''");
	/* A line ending in a backslash would join the next in a command
	 * file. */
	assert_gdb_quote("/x/app\\", "/x/app\\\\''");
	assert_gdb_quote("/\xc3\xa9", "/\xc3\xa9");

	assert_gdb_refused("");
	assert_gdb_refused("a\nb");
	assert_gdb_refused("a\rb");
	assert_gdb_refused("\x01");
	assert_gdb_refused("a\x1f");
	assert_gdb_refused("a\x7f");
	assert_gdb_refused("-readnow");
	assert_gdb_refused("~/prog");
	assert_gdb_refused("/tmp/a ~root/t");
	assert_gdb_refused("/tmp/a\t~/t");
}

static int have_gdb(void)
{
	char *argv[] = {"gdb", "--version", NULL};
	char *out;
	int r = run_capture(argv, &out);
	free(out);
	return r == 0;
}

/* gdb -nx -batch -ex "file QUOTED" -ex "info files" must name the file. */
static void test_quote_gdb_with_gdb(void **state)
{
	if (!have_gdb())
		cp_test_skip("gdb is not installed");

	char top[] = "/tmp/cp-test-gdb.XXXXXX";
	assert_non_null(mkdtemp(top));
	const char *names[] = {
	    "dir with spaces", "dir with 'single' and \"double\" quotes",
	    "back\\slash",     "tab\tand a~tilde",
	    "trailing space ",
	};
	char *made[sizeof(names) / sizeof(names[0])];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *dir, *prog;
		assert_true(asprintf(&dir, "%s/%s", top, names[i]) > 0);
		assert_int_equal(mkdir(dir, 0755), 0);
		assert_true(asprintf(&prog, "%s/prog '%zu' x", dir, i) > 0);
		char *cp_argv[] = {"cp", "/bin/true", prog, NULL};
		char *out;
		assert_int_equal(run_capture(cp_argv, &out), 0);
		free(out);
		made[i] = prog;
		free(dir);

		char *q = cp_quote_gdb_arg(prog);
		assert_non_null(q);
		char *cmd, *want;
		assert_true(asprintf(&cmd, "file %s", q) > 0);
		assert_true(asprintf(&want, "Symbols from \"%s\".", prog) > 0);
		char *gdb_argv[] = {"gdb", "-nx", "-batch", "-ex", cmd, "-ex", "info files", NULL};
		assert_int_equal(run_capture(gdb_argv, &out), 0);
		if (!strstr(out, want))
			fail_msg("gdb did not load \"%s\" from `%s`:\n%s", prog, cmd, out);
		free(out);
		free(want);
		free(cmd);
		free(q);
	}

	char *rm_argv[] = {"rm", "-rf", top, NULL};
	char *out;
	assert_int_equal(run_capture(rm_argv, &out), 0);
	free(out);
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++)
		free(made[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_template_get),
	    cmocka_unit_test(test_render_substitutes),
	    cmocka_unit_test(test_render_literal_at),
	    cmocka_unit_test(test_render_unknown_variable),
	    cmocka_unit_test(test_quote_sh_unit),
	    cmocka_unit_test(test_quote_sh_with_sh),
	    cmocka_unit_test(test_quote_gdb_unit),
	    cmocka_unit_test(test_quote_gdb_with_gdb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
