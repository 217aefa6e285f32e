/*
 * app: links libcrash, dlopens a plugin and crashes inside libcrash,
 * called from the plugin.  Frames: crash_store, crash_deep (libcrash),
 * plugin_entry (plugin), app_run, main (app).
 *
 * usage: app PLUGIN [wait]
 *   wait: print "ready" and block on stdin before crashing.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "libcrash.h"

static int app_run(const char *plugin, int wait_fd)
{
	void *handle = dlopen(plugin, RTLD_NOW);
	int (*entry)(int);

	if (!handle) {
		fprintf(stderr, "app: %s\n", dlerror());
		return 1;
	}
	*(void **)&entry = dlsym(handle, "plugin_entry");
	if (!entry) {
		fprintf(stderr, "app: %s\n", dlerror());
		return 1;
	}
	return entry(wait_fd); /* LINE:app_run */
}

int main(int argc, char **argv)
{
	int wait_fd = -1;

	if (argc < 2) {
		fprintf(stderr, "usage: app PLUGIN [wait]\n");
		return 2;
	}
	if (argc > 2 && strcmp(argv[2], "wait") == 0)
		wait_fd = 0;
	/* Keep the link to libcrash even with --as-needed. */
	if (crash_variant() < 0)
		return 1;
	return app_run(argv[1], wait_fd); /* LINE:main */
}
