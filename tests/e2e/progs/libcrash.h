/* libcrash: the shared library the e2e test programs crash in. */
#ifndef LIBCRASH_H
#define LIBCRASH_H

/* Crash with SIGSEGV, three frames deep inside the library.  When wait_fd
 * is not negative, first write "ready\n" to stdout and block reading one
 * byte from wait_fd: the test uses the pause to replace the library on disk
 * or to take a core with gcore. */
void crash_deep(int wait_fd);

/* Which build of the library this is (the mismatch test builds two). */
int crash_variant(void);

#endif
