/*
 * The staging directory: the private directory (".coreunpack-XXXXXX",
 * mode 0700) that coreunpack makes in the target directory, extracts a
 * bundle into and moves the result out of.  Everything here works through
 * directory descriptors opened O_NOFOLLOW, never through a path a process
 * of another user could swap for a symlink: the staging directory is
 * created with mkdirat() in the target's descriptor and used only through
 * its own, entries are created with openat()/mkdirat()/symlinkat()
 * relative to their parent's descriptor, and trees are removed with
 * unlinkat() one directory descriptor at a time, at any depth (no path is
 * ever longer than one component).
 *
 * A staging directory in use holds an flock() on its own descriptor for
 * as long as its coreunpack lives; the kernel drops it when the process
 * dies, however (SIGKILL, the OOM killer).  cp_stage_sweep() removes the
 * staging directories of the calling user whose lock it can take: those
 * a killed coreunpack left behind.
 */
#ifndef COREPACK_STAGE_H
#define COREPACK_STAGE_H

#include <stddef.h>
#include <sys/types.h>

#include "corepack/error.h"

#define CP_STAGE_PREFIX ".coreunpack-"

struct cp_stage {
	int dfd;                                /* the target directory (the caller's) */
	int sfd;                                /* the staging directory; holds the lock */
	char name[sizeof(CP_STAGE_PREFIX) + 6]; /* its name in the target */
	dev_t dev;
	ino_t ino;
	/* The directory of the last entry created, kept open. */
	char *cache_path;
	int cache_fd;
};

/* A stage not created yet (cp_stage_done() does nothing with it). */
#define CP_STAGE_INIT                                                                              \
	{                                                                                          \
		.dfd = -1, .sfd = -1, .cache_fd = -1                                               \
	}

/*
 * Make a fresh staging directory in DFD (DSHOWN names it in messages),
 * open it, lock it and check that it is the directory made (owned by this
 * user, mode 0700, still linked under its name).  Errors: -errno of
 * mkdirat() and openat(), with "cannot create a directory in 'DIR': ...".
 * *ST is set up on success only; cp_stage_done() it.
 */
int cp_stage_create(int dfd, const char *dshown, struct cp_stage *st, struct cp_error *err);

/*
 * Remove everything in the staging directory, then the directory itself
 * when its name in the target still names it, and close it.  Best effort
 * (nothing to report on the way out of a failure); returns 0 when all of
 * it went, else the first -errno.  Nothing is done for CP_STAGE_INIT.
 */
int cp_stage_done(struct cp_stage *st);

/* Close ST's descriptors and leave the directory as it is (for a caller
 * that keeps what was extracted, such as a test). */
void cp_stage_close(struct cp_stage *st);

/* Whether the staging directory is still linked in the target under its
 * name (no one moved or replaced it). */
int cp_stage_in_place(const struct cp_stage *st);

/*
 * The directory PATH below the staging directory ("" for the staging
 * directory itself), its missing components created 0755 when CREATE;
 * components are opened O_NOFOLLOW, so a symlink on the way is refused
 * (-ELOOP, -ENOTDIR).  *FD belongs to the stage: do not close it; it stays
 * valid until the next call.  Errors: -errno.
 */
int cp_stage_dir(struct cp_stage *st, const char *path, size_t len, int create, int *fd);

/*
 * Remove the staging directories of this user in DFD that no running
 * coreunpack holds (see above): a name CP_STAGE_PREFIX + 6 characters, a
 * directory owned by the caller without group or other bits, whose lock
 * is free.  *REMOVED (may be NULL) counts them.  Best effort: returns 0,
 * or -ENOMEM.
 */
int cp_stage_sweep(int dfd, size_t *removed);

/*
 * Remove NAME in the directory DIRFD: a file or symlink, or a directory
 * with everything below it, without following symlinks or leaving the
 * tree, through descriptors only (any depth, any path length).  Returns 0,
 * or the first -errno (the rest is still attempted).
 */
int cp_remove_tree_at(int dirfd, const char *name);

#endif
