/*
 * Unpacking a bundle: the whole of coreunpack's job.  Refuses to replace
 * anything (unless forced), extracts into a fresh directory beside the
 * target (bundle_read.h), writes run-gdb.sh and corepack.gdb from the
 * embedded templates and the validated manifest, and moves the result into
 * place only when every check passed.  Any failure or cancellation leaves
 * nothing behind.
 */
#ifndef COREPACK_UNPACK_H
#define COREPACK_UNPACK_H

#include <signal.h>
#include <stdint.h>

#include "corepack/bundle_read.h"
#include "corepack/error.h"
#include "corepack/remote.h"

struct cp_unpack_opts {
	const char *bundle;
	const char *dir; /* target directory; NULL for the working directory */
	int force;       /* replace the names coreunpack creates */
	int trust;       /* run-gdb.sh uses the bundle's libthread_db */
	const volatile sig_atomic_t *cancel;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	void (*on_entry)(void *ctx, const char *path, enum cp_entry_type type, uint64_t size);
	void *entry_ctx;
	/* debuginfod client (remote.h; not owned) to fetch a thin bundle's
	 * remote files with, or NULL: such a bundle is then refused
	 * (-EREMOTE) before anything is written. */
	struct cp_remote *remote;
};

/*
 * Unpack: the bundle is opened first (an unreadable or missing bundle, or
 * a directory, fails before DIR is looked at).  DIR is created when
 * missing (not its parents).  Unless FORCE, if any of cp_bundle_names
 * exists in DIR, fails with -EEXIST before writing anything.  core,
 * manifest.json and report.txt are made mode 0600 whatever the umask.  The
 * bundle is extracted into a fresh directory made in DIR
 * (".coreunpack-XXXXXX") and checked (cp_bundle_read()); the bundle's
 * run-gdb.sh and corepack.gdb are replaced by ones rendered here; then
 * every name is moved into DIR (with FORCE, after moving aside every one of
 * cp_bundle_names DIR had, which are then deleted).  On any failure,
 * including -EINTR, the temporary directory is removed, whatever was moved
 * is moved back, and DIR is removed again if this call created it.
 * A thin bundle's remote files are fetched with OPTS->remote into the
 * temporary directory once the bundle checked out, and checked there
 * (remote_fetch.h); without a client it fails with -EREMOTE before
 * writing anything, *OUT then set all the same (its manifest lists what
 * is remote).  *OUT (the bundle's contents) is owned by the caller.
 */
int cp_unpack(const struct cp_unpack_opts *opts, struct cp_bundle_contents **out,
              struct cp_error *err);

#endif
