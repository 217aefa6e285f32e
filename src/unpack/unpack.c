/*
 * Unpacking (include/corepack/unpack.h): coreunpack's whole job around the
 * reader.  The target is checked first (nothing of cp_bundle_names may be
 * replaced unless forced; a directory every user may write to is refused
 * unless sticky), the staging directories killed coreunpacks left in it
 * are removed, the bundle is read into a fresh staging directory in the
 * target (stage.c, bundle_read.c), the names gdb will open from its core
 * and executable are checked (gdb_names.c), the bundle's run-gdb.sh,
 * corepack.gdb and run-lldb.sh are replaced by ones rendered from the embedded templates,
 * and every name is moved into place with RENAME_NOREPLACE; any failure or
 * cancellation moves back what was moved and removes the staging
 * directory, so nothing is left behind.  Everything goes through the
 * descriptors of the target and the staging directory, never a path
 * through them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corepack/gdb_names.h"
#include "corepack/remote_fetch.h"
#include "corepack/layout.h"
#include "corepack/scripts.h"
#include "corepack/stage.h"
#include "corepack/unpack.h"

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

/* Our own run-gdb.sh, corepack.gdb and run-lldb.sh in place of the
 * bundle's (a version 1 bundle has no run-lldb.sh: it gets one too). */
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
	    .n_dwz = cp_manifest_dwz_objects(m),
	};
	/* `ld.so PROGRAM`: gdb loads the loader, then the program's symbols. */
	const struct cp_manifest_object *loader = cp_manifest_loader(m);
	if (exe && loader) {
		if ((why = cp_scripts_executable_problem(loader->real_path)))
			return cp_error_set(
			    err, EINVAL,
			    "'%s': the dynamic loader '%s' cannot be handed to gdb: %s", shown,
			    cp_escape(loader->real_path, s, sizeof(s)), why);
		in.executable = loader->real_path;
		in.program = exe->real_path;
		in.program_offset = m->program_offset;
	}
	struct cp_scripts sc = {0};
	int r = cp_scripts_render(&in, &sc, err);
	if (r == 0 && ((r = write_at(sfd, CP_BUNDLE_GDB_SCRIPT, sc.gdb_script, 0644)) < 0 ||
	               (r = write_at(sfd, CP_BUNDLE_RUN_GDB, sc.run_gdb, 0755)) < 0 ||
	               (r = write_at(sfd, CP_BUNDLE_RUN_LLDB, sc.run_lldb, 0755)) < 0))
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

/* An existing directory anyone may write to, without the sticky bit:
 * whatever is unpacked there can be renamed away and replaced by another
 * user's file (run-gdb.sh with it) before it is used.  (One made here
 * has the mode the user's umask gives it.) */
static int check_target(int dfd, const char *dshown, struct cp_error *err)
{
	struct stat st;
	if (fstat(dfd, &st) < 0)
		return cp_error_set(err, errno, "cannot open directory '%s': %s", dshown,
		                    strerror(errno));
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		return cp_error_set(
		    err, EPERM,
		    "'%s' is writable by every user and not sticky: what is unpacked "
		    "there could be replaced before you use it; unpack elsewhere",
		    dshown);
	return 0;
}

int cp_unpack(const struct cp_unpack_opts *o, struct cp_bundle_contents **out, struct cp_error *err)
{
	const char *dir = o->dir ? o->dir : ".";
	char shown[300], dshown[300];
	struct install in = {.dfd = -1, .sfd = -1, .oldfd = -1, .dir = dshown};
	struct cp_stage st = CP_STAGE_INIT;
	struct cp_bundle_contents *c = NULL;
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
	if (!created && (r = check_target(in.dfd, dshown, err)) < 0)
		goto out;
	for (size_t i = 0; !o->force && cp_bundle_names[i]; i++) {
		if (exists_at(in.dfd, cp_bundle_names[i])) {
			r = cp_error_set(err, EEXIST, "'%s/%s' already exists; not overwriting it",
			                 dshown, cp_bundle_names[i]);
			goto out;
		}
	}

	/* What a coreunpack killed here left behind (its lock is free). */
	if ((r = cp_stage_sweep(in.dfd, NULL)) < 0) {
		r = cp_error_set(err, -r, "out of memory");
		goto out;
	}
	if ((r = cp_stage_create(in.dfd, dshown, &st, err)) < 0)
		goto out;
	struct cp_bundle_read_opts ro = {
	    .stage = &st,
	    .cancel = o->cancel,
	    .progress = o->progress,
	    .progress_ctx = o->progress_ctx,
	    .on_entry = o->on_entry,
	    .entry_ctx = o->entry_ctx,
	    .fetch_remote = o->remote != NULL,
	};
	r = cp_bundle_read_fd(o->bundle, bfd, bsize, &ro, &c, err);
	bfd = -1; /* closed by cp_bundle_read_fd() */
	if (r < 0)
		goto out;
	in.sfd = st.sfd;
	/* A thin bundle's remote files, checked into the stage with the rest
	 * (remote_fetch.h). */
	if (c->manifest->n_remote &&
	    (r = cp_remote_fetch_all(o->remote, c->manifest, &st, o->cancel, err)) < 0) {
		if (r != -ENOMEM && r != -EINTR)
			cp_error_prefix(err, "'%s': ", shown);
		goto out;
	}
	/* The names gdb will open, before a script that starts it exists. */
	if ((r = cp_gdb_names_check(&st, c->manifest, &c->gdb_warnings, &c->n_gdb_warnings, err)) <
	    0) {
		if (r != -ENOMEM)
			cp_error_prefix(err, "'%s': ", shown);
		goto out;
	}
	if ((r = write_scripts(o, shown, in.sfd, c->manifest, err)) < 0)
		goto out;
	if (o->cancel && *o->cancel) {
		r = cp_error_set(err, EINTR, "interrupted");
		goto out;
	}
	if (!cp_stage_in_place(&st)) {
		r = cp_error_set(err, EBUSY,
		                 "'%s/%s' was moved or replaced while unpacking: another process "
		                 "is changing '%s'; nothing was unpacked",
		                 dshown, st.name, dshown);
		goto out;
	}
	r = install(&in, o->force, err);
out:
	if (bfd >= 0)
		close(bfd);
	if (in.oldfd >= 0)
		close(in.oldfd);
	cp_stage_done(&st);
	if (in.dfd >= 0)
		close(in.dfd);
	if (r < 0 && created)
		rmdir(dir);
	if (r == -EREMOTE && c) {
		*out = c; /* the manifest says what is needed */
		return r;
	}
	if (r < 0) {
		cp_bundle_contents_free(c);
		return r;
	}
	*out = c;
	return 0;
}
