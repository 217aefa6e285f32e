/* Writes a name of its choice into the loader's list, then crashes:
 * lmname LIBRARY NAME dlopens LIBRARY and sets its link_map l_name to
 * NAME, as any process may (the list is in its own memory), so the core
 * says the library was opened as NAME. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct link_map *lm = NULL;
	void *h = argc > 2 ? dlopen(argv[1], RTLD_NOW) : NULL;
	if (!h || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm) {
		fprintf(stderr, "lmname: %s\n", argc > 2 ? dlerror() : "usage: lmname LIB NAME");
		return 1;
	}
	lm->l_name = argv[2];
	*(volatile int *)0 = 1; /* LINE: crash */
	return 0;
}
