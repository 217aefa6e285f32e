/*
 * relapp: loads its libraries by relative names, as programs run from
 * their build or install tree do.  Linked against "../lib/libcrash.so"
 * (a library without a SONAME, so that is its DT_NEEDED, resolved by the
 * loader from the working directory), it changes to DIR and dlopens
 * "./plugin.so" there; the plugin calls into libcrash, which crashes.
 * Frames: crash_store, crash_deep (libcrash), plugin_entry (plugin),
 * rel_run, main (relapp).
 *
 * usage: relapp DIR [DIR2]: with DIR2, first dlopen DIR2's plugin.so as
 * "././plugin.so" (another file of the same base name; the loader keeps
 * one object per name it was opened by).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

#include "libcrash.h"

static void *load(const char *dir, const char *name)
{
	void *handle;
	if (chdir(dir) != 0) {
		perror(dir);
		return NULL;
	}
	handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!handle)
		fprintf(stderr, "relapp: %s\n", dlerror());
	return handle;
}

static int rel_run(const char *dir)
{
	void *handle = load(dir, "./plugin.so");
	int (*entry)(int);

	if (!handle)
		return 1;
	*(void **)&entry = dlsym(handle, "plugin_entry");
	if (!entry) {
		fprintf(stderr, "relapp: %s\n", dlerror());
		return 1;
	}
	return entry(-1); /* LINE:rel_run */
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: relapp DIR [DIR2]\n");
		return 2;
	}
	/* Keep the link to libcrash even with --as-needed. */
	if (crash_variant() < 0)
		return 1;
	if (argc > 2 && !load(argv[2], "././plugin.so"))
		return 1;
	return rel_run(argv[1]); /* LINE:main */
}
