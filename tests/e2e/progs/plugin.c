/*
 * plugin: a dlopened module that calls into libcrash.  The app opens it by
 * an absolute path through a symlink, so the loader's name for it differs
 * from the real file.
 */
#include "libcrash.h"

int plugin_entry(int wait_fd);

int plugin_entry(int wait_fd)
{
	crash_deep(wait_fd); /* LINE:plugin_entry */
	return crash_variant();
}
