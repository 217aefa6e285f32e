/*
 * libcrash: the library the e2e programs crash in.  Built as libcrash.so.1
 * (SONAME) so that the name the loader opened (libcrash.so.1, a symlink)
 * differs from the file the kernel mapped (libcrash.so.1.0.0).
 *
 * The "LINE:name" comments mark the line gdb must report for frame "name";
 * the tests find them with grep, so the sources can change freely.
 * LIBCRASH_VARIANT=2 builds different code for the mismatch test.
 */
#include <stdio.h>
#include <unistd.h>

#include "libcrash.h"

#ifndef LIBCRASH_VARIANT
#define LIBCRASH_VARIANT 1
#endif

#if LIBCRASH_VARIANT == 2
/* Shifts every function below, so the replaced library's code differs. */
int crash_padding(int x);
int crash_padding(int x)
{
	return x * 7 + 3;
}
#endif

int crash_variant(void)
{
	return LIBCRASH_VARIANT;
}

static void crash_wait(int fd)
{
	char c;

	fputs("ready\n", stdout);
	fflush(stdout);
	if (read(fd, &c, 1) < 0) /* LINE:crash_wait */
		perror("libcrash: read");
}

static void crash_store(volatile int *where, int value)
{
	*where = value; /* LINE:crash_store */
}

void crash_deep(int wait_fd)
{
	if (wait_fd >= 0)
		crash_wait(wait_fd);        /* LINE:crash_deep_wait */
	crash_store((volatile int *)0, 42); /* LINE:crash_deep */
}
