/*
 * nofilemaps: makes N separate mappings (every other page of one region made
 * writable: N/2 writable and N/2 inaccessible mappings alternate, which
 * the kernel cannot merge), then crashes in libcrash.  Past about 65,000
 * mappings the kernel writes no NT_FILE note and counts the program
 * headers with PN_XNUM.
 *
 * usage: nofilemaps N
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libcrash.h"

static int make_mappings(long n)
{
	long page = sysconf(_SC_PAGESIZE);
	char *base = mmap(NULL, (size_t)(n * page), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("nofilemaps: mmap");
		return -1;
	}
	for (long i = 0; i < n; i += 2)
		if (mprotect(base + i * page, (size_t)page, PROT_READ | PROT_WRITE) < 0) {
			perror("nofilemaps: mprotect");
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	if (n < 0 || make_mappings(n) < 0 || crash_variant() < 0)
		return 1;
	crash_deep(-1); /* LINE:main */
	return 0;
}
