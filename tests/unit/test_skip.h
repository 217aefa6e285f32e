/*
 * Skipping a unit test case with a reason.  cmocka's skip() is silent and
 * the program still exits 0, so a case that skips on some machine would
 * drop out of CI unnoticed: under CI=true (.ci/run) a skip fails the case
 * unless the test program is listed in CP_ALLOWED_SKIPS
 * (tests/CMakeLists.txt), which sets CP_SKIP_ALLOWED.  Include after
 * <cmocka.h>.
 */
#ifndef COREPACK_TEST_SKIP_H
#define COREPACK_TEST_SKIP_H

#include <stdlib.h>
#include <string.h>

#define cp_test_skip(why) cp_test_skip_at(__func__, (why), __FILE__, __LINE__)

static inline void cp_test_skip_at(const char *func, const char *why, const char *file, int line)
{
	const char *ci = getenv("CI"), *allowed = getenv("CP_SKIP_ALLOWED");
	if (ci && strcmp(ci, "true") == 0 && !(allowed && *allowed)) {
		print_error("%s: skipped under CI=true but not listed in CP_ALLOWED_SKIPS "
		            "(tests/CMakeLists.txt): %s\n",
		            func, why);
		_fail(file, line);
	}
	print_message("%s: SKIP: %s\n", func, why);
	_skip(file, line);
}

#endif
