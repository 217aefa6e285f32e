/*
 * Unpacking (include/corepack/unpack.h): coreunpack's whole job around the
 * reader.  The target is checked first (nothing of cp_bundle_names may be
 * replaced unless forced), the bundle is read into a fresh staging
 * directory beside the target (bundle_read.c), the bundle's run-gdb.sh and
 * corepack.gdb are replaced by ones rendered from the embedded templates,
 * and every name is moved into place with RENAME_NOREPLACE; any failure or
 * cancellation moves back what was moved and removes the staging
 * directory, so nothing is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/layout.h"
#include "corepack/scripts.h"
#include "corepack/unpack.h"

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Remove the tree at PATH without following symlinks or leaving its file
 * system.  Best effort: used to clean up. */
static void remove_tree(const char *path)
{
	nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int exists_at(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Rename without ever replacing: RENAME_NOREPLACE, or where the file
 * system lacks it, a check just before (the window is the caller's own
 * temporary directory's lifetime, not an attacker's). */
static int move_noreplace(int from, const char *name, int to)
{
	if (renameat2(from, name, to, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (exists_at(to, name))
		return -EEXIST;
	return renameat(from, name, to, name) == 0 ? 0 : -errno;
}

static int write_at(int dfd, const char *name, const char *text, mode_t mode)
{
	size_t len = strlen(text);
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		text += n;
		len -= (size_t)n;
	}
	return close(fd) == 0 ? 0 : -errno;
}

/* Our own run-gdb.sh and corepack.gdb in place of the bundle's. */
static int write_scripts(const struct cp_unpack_opts *o, const char *shown, int sfd,
                         const struct cp_manifest *m, struct cp_error *err)
{
	const struct cp_manifest_object *exe = cp_manifest_executable(m);
	const char *why, *tdb = o->trust ? m->thread_db_dir : NULL;
	char s[300];
	if (exe && (why = cp_scripts_executable_problem(exe->real_path)))
		return cp_error_set(err, EINVAL,
		                    "'%s': the executable '%s' cannot be handed to gdb: %s", shown,
		                    cp_escape(exe->real_path, s, sizeof(s)), why);
	if (tdb && (why = cp_scripts_thread_db_dir_problem(tdb)))
		return cp_error_set(
		    err, EINVAL,
		    "'%s': the libthread_db directory '%s' cannot be handed to gdb: %s", shown,
		    cp_escape(tdb, s, sizeof(s)), why);

	struct cp_scripts_input in = {
	    .executable = exe ? exe->real_path : NULL,
	    .machine = m->core_machine,
	    .thread_db_dir = tdb,
	    .solib_dirs = (const char *const *)m->solib_dirs,
	    .n_solib_dirs = m->n_solib_dirs,
	    .bundle_scripts = m->bundle_scripts,
	    .trust = o->trust,
	};
	struct cp_scripts sc = {0};
	int r = cp_scripts_render(&in, &sc, err);
	if (r == 0 && ((r = write_at(sfd, CP_BUNDLE_GDB_SCRIPT, sc.gdb_script, 0644)) < 0 ||
	               (r = write_at(sfd, CP_BUNDLE_RUN_GDB, sc.run_gdb, 0755)) < 0))
		cp_error_set(err, -r, "cannot write the gdb scripts: %s", strerror(-r));
	cp_scripts_done(&sc);
	return r;
}

struct install {
	int dfd, sfd, oldfd;
	const char *dir;
	uint8_t moved[16], aside[16];
};

static void install_undo(struct install *in)
{
	for (size_t i = 0; cp_bundle_names[i]; i++)
		if (in->moved[i] && move_noreplace(in->dfd, cp_bundle_names[i], in->sfd) == 0)
			in->moved[i] = 0;
	for (size_t i = 0; cp_bundle_names[i]; i++)
		if (in->aside[i] && move_noreplace(in->oldfd, cp_bundle_names[i], in->dfd) == 0)
			in->aside[i] = 0;
}

/* Move every name from the staging directory into the target; with FORCE,
 * first move the target's own into STAGING/.old (deleted with it). */
static int install(struct install *in, int force, struct cp_error *err)
{
	int r = 0;
	const char *name = NULL;
	if (force) {
		if (mkdirat(in->sfd, ".old", 0700) < 0 ||
		    (in->oldfd = openat(in->sfd, ".old", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return cp_error_set(err, errno, "cannot make room in '%s': %s", in->dir,
			                    strerror(errno));
		for (size_t i = 0; (name = cp_bundle_names[i]); i++) {
			if (!exists_at(in->dfd, name))
				continue;
			if ((r = move_noreplace(in->dfd, name, in->oldfd)) < 0) {
				install_undo(in);
				return cp_error_set(err, -r, "cannot move '%s/%s' aside: %s",
				                    in->dir, name, strerror(-r));
			}
			in->aside[i] = 1;
		}
	}
	for (size_t i = 0; (name = cp_bundle_names[i]); i++) {
		if (!exists_at(in->sfd, name))
			continue;
		if ((r = move_noreplace(in->sfd, name, in->dfd)) < 0)
			break;
		in->moved[i] = 1;
	}
	if (r < 0) {
		install_undo(in);
		if (r == -EEXIST)
			return cp_error_set(err, EEXIST,
			                    "'%s/%s' appeared while unpacking; not replacing it",
			                    in->dir, name);
		return cp_error_set(err, -r, "cannot move '%s' into '%s': %s", name, in->dir,
		                    strerror(-r));
	}
	return 0;
}

int cp_unpack(const struct cp_unpack_opts *o, struct cp_bundle_contents **out, struct cp_error *err)
{
	const char *dir = o->dir ? o->dir : ".";
	char shown[300], dshown[300];
	struct install in = {.dfd = -1, .sfd = -1, .oldfd = -1, .dir = dshown};
	struct cp_bundle_contents *c = NULL;
	char *staging = NULL;
	int created = 0, r, bfd = -1;
	uint64_t bsize = 0;

	cp_escape(o->bundle, shown, sizeof(shown));
	cp_escape(dir, dshown, sizeof(dshown));
	/* The bundle first: "cannot open 'x'" says more than "'./core'
	 * already exists" when x is a typo. */
	if ((r = cp_bundle_open(o->bundle, shown, &bfd, &bsize, err)) < 0)
		goto out;
	in.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (in.dfd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0777) < 0) {
			r = cp_error_set(err, errno, "cannot create directory '%s': %s", dshown,
			                 strerror(errno));
			goto out;
		}
		created = 1;
		in.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (in.dfd < 0) {
		r = cp_error_set(err, errno, "cannot open directory '%s': %s", dshown,
		                 strerror(errno));
		goto out;
	}
	for (size_t i = 0; !o->force && cp_bundle_names[i]; i++) {
		if (exists_at(in.dfd, cp_bundle_names[i])) {
			r = cp_error_set(err, EEXIST, "'%s/%s' already exists; not overwriting it",
			                 dshown, cp_bundle_names[i]);
			goto out;
		}
	}

	if (asprintf(&staging, "%s/.coreunpack-XXXXXX", dir) < 0) {
		staging = NULL;
		r = cp_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (!mkdtemp(staging)) {
		r = cp_error_set(err, errno, "cannot create a directory in '%s': %s", dshown,
		                 strerror(errno));
		free(staging);
		staging = NULL;
		goto out;
	}
	struct cp_bundle_read_opts ro = {
	    .staging = staging,
	    .cancel = o->cancel,
	    .progress = o->progress,
	    .progress_ctx = o->progress_ctx,
	    .on_entry = o->on_entry,
	    .entry_ctx = o->entry_ctx,
	};
	r = cp_bundle_read_fd(o->bundle, bfd, bsize, &ro, &c, err);
	bfd = -1; /* closed by cp_bundle_read_fd() */
	if (r < 0)
		goto out;
	if ((in.sfd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = cp_error_set(err, errno, "cannot open '%s': %s", staging, strerror(errno));
		goto out;
	}
	if ((r = write_scripts(o, shown, in.sfd, c->manifest, err)) < 0)
		goto out;
	if (o->cancel && *o->cancel) {
		r = cp_error_set(err, EINTR, "interrupted");
		goto out;
	}
	r = install(&in, o->force, err);
out:
	if (bfd >= 0)
		close(bfd);
	if (in.oldfd >= 0)
		close(in.oldfd);
	if (in.sfd >= 0)
		close(in.sfd);
	if (staging)
		remove_tree(staging);
	free(staging);
	if (in.dfd >= 0)
		close(in.dfd);
	if (r < 0 && created)
		rmdir(dir);
	if (r < 0) {
		cp_bundle_contents_free(c);
		return r;
	}
	*out = c;
	return 0;
}
