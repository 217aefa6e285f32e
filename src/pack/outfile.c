/*
 * The bundle's output file (outfile.h): a temporary file beside the output
 * that only cp_outfile_commit() moves into place, so no failure,
 * interruption or full disk ever leaves a partial bundle under the
 * output's name; or, for an existing character device or FIFO given with
 * force, the output itself.
 *
 * Choices worth knowing:
 *  - The temporary file has no name (O_TMPFILE) where the filesystem
 *    allows it and the file can be named later (linkat() through
 *    /proc/self/fd, or AT_EMPTY_PATH with CAP_DAC_READ_SEARCH): killed
 *    with SIGKILL, by the OOM killer or a reboot, corepack then leaves
 *    nothing behind, as the kernel frees an unnamed file with its last
 *    descriptor.  Elsewhere (a filesystem without O_TMPFILE, no /proc) it
 *    is a hidden file ".NAME.XXXXXX" beside the output, removed on any
 *    error or signal corepack can catch, but left by SIGKILL.
 *  - An existing output is never replaced without force.  With force, a
 *    regular file is replaced by rename(); without it, the bundle is moved
 *    in with link() (renameat2(RENAME_NOREPLACE) where the filesystem has
 *    no hard links), so an output created meanwhile is not replaced.
 *  - An output that exists and is a character device or a FIFO (with
 *    force: /dev/full, /dev/stdout on a terminal or pipe, a named pipe) is
 *    written directly, without a temporary file or rename: a temporary
 *    file in /dev renamed over the device would replace the device node.
 *    A failure may then leave part of a stream in the pipe; the reader
 *    sees a truncated archive.  Any other non-regular output (a directory,
 *    a socket) is refused.
 *  - The bundle is created mode 0600 (mkstemp's), as the kernel creates a
 *    core: it holds the crashed process's memory.
 *  - The bundle never fills the page cache: the zstd stream goes to the
 *    temporary file with direct writes where they can be made
 *    (cp_outfile_direct_io()), and anything written through the page
 *    cache is written back and dropped as it grows (note_written()), so
 *    packing a core neither leaves the machine hundreds of megabytes of
 *    dirty pages nor keeps the bundle in its page cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

/* The bundle is written back and dropped from the page cache as it grows,
 * this much at a time (see note_written()). */
#define WRITEBACK_CHUNK (8ULL << 20)

/* The output's directory exists, is one, and we may create files in it
 * (the temporary file and the link to the output name). */
static int check_output_dir(const char *output, struct cp_error *err)
{
	const char *slash = strrchr(output, '/');
	char *dir =
	    slash ? strndup(output, slash == output ? 1 : (size_t)(slash - output)) : strdup(".");
	if (!dir)
		return cp_error_set(err, ENOMEM, "cannot write '%s': %s", output, strerror(ENOMEM));

	struct stat st;
	int r = 0;
	if (stat(dir, &st) < 0)
		r = cp_error_set(err, errno, "cannot write '%s': directory '%s': %s", output, dir,
		                 strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		r = cp_error_set(err, ENOTDIR, "cannot write '%s': '%s' is not a directory", output,
		                 dir);
	else if (access(dir, W_OK | X_OK) < 0)
		r = cp_error_set(err, errno, "cannot write '%s': directory '%s': %s", output, dir,
		                 strerror(errno));
	free(dir);
	return r;
}

int cp_outfile_check(const char *output, int force, int *direct, struct cp_error *err)
{
	struct stat st;
	if (direct)
		*direct = 0;
	/* lstat: a dangling symlink is a name taken too (link() would fail
	 * on it after all the work). */
	if (lstat(output, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return check_output_dir(output, err);
		return cp_error_set(err, errno, "cannot write '%s': %s", output, strerror(errno));
	}
	if (!force)
		return cp_error_set(err, EEXIST, "'%s' already exists", output);
	if (S_ISLNK(st.st_mode) && stat(output, &st) < 0)
		return check_output_dir(output, err); /* replaced by rename() */
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
		if (direct)
			*direct = 1;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return cp_error_set(err, EINVAL, "cannot write '%s': not a regular file", output);
	return check_output_dir(output, err);
}

/* The directory of OUTPUT ("." for a bare name); NULL on ENOMEM. */
static char *dir_of(const char *output)
{
	const char *slash = strrchr(output, '/');
	return slash ? strndup(output, slash == output ? 1 : (size_t)(slash - output))
	             : strdup(".");
}

/* A name for the unnamed file FD that linkat() can follow, into BUF. */
static void proc_fd_name(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

/*
 * An unnamed file (O_TMPFILE) in the output's directory, if the filesystem
 * makes one and it can be given a name at commit: -EOPNOTSUPP otherwise,
 * for the caller to fall back to a named one.
 */
static int create_unnamed(struct cp_outfile *f)
{
	char *dir = dir_of(f->output);
	if (!dir)
		return -ENOMEM;
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	free(dir);
	if (fd < 0)
		return -EOPNOTSUPP;
	/* Named through /proc/self/fd (any user) or AT_EMPTY_PATH (with
	 * CAP_DAC_READ_SEARCH): without /proc, only the second. */
	char proc[64];
	struct stat st;
	proc_fd_name(fd, proc, sizeof(proc));
	if (stat(proc, &st) < 0 && geteuid() != 0) {
		close(fd);
		return -EOPNOTSUPP;
	}
	f->fd = fd;
	f->unnamed = 1;
	return 0;
}

static int create_temp(struct cp_outfile *f, struct cp_error *err)
{
	const char *slash = strrchr(f->output, '/');
	const char *base = slash ? slash + 1 : f->output;
	int dirlen = slash ? (int)(slash - f->output) + 1 : 0;

	int r = create_unnamed(f);
	if (r == 0 || r == -ENOMEM)
		return r == 0 ? 0
		              : cp_error_set(err, ENOMEM, "cannot write '%s': %s", f->output,
		                             strerror(ENOMEM));

	if (asprintf(&f->tmp, "%.*s.%s.XXXXXX", dirlen, f->output, base) < 0) {
		f->tmp = NULL;
		return cp_error_set(err, ENOMEM, "cannot write '%s': %s", f->output,
		                    strerror(ENOMEM));
	}
	f->fd = mkostemp(f->tmp, O_CLOEXEC);
	if (f->fd < 0) {
		int e = errno;
		free(f->tmp);
		f->tmp = NULL;
		return cp_error_set(err, e, "cannot create a temporary file for '%s': %s",
		                    f->output, strerror(e));
	}
	return 0;
}

int cp_outfile_open(struct cp_outfile *f, const char *output, int force, int direct,
                    struct cp_error *err)
{
	*f = (struct cp_outfile){.fd = -1, .force = force};
	if (!(f->output = strdup(output)))
		return cp_error_set(err, ENOMEM, "cannot write '%s': %s", output, strerror(ENOMEM));
	if (direct) {
		f->fd = open(output, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (f->fd < 0)
			return cp_error_set(err, errno, "cannot open '%s': %s", output,
			                    strerror(errno));
		return 0;
	}
	f->temp = 1;
	return create_temp(f, err);
}

/*
 * A bundle is hundreds of megabytes written once.  Left to the kernel, it
 * becomes that much dirty page cache, flushed in a burst at the end (which
 * commit's fsync() then waits for whole) and kept cached after.  So each
 * WRITEBACK_CHUNK is handed to writeback as soon as it is written, and the
 * one before it is waited for and dropped from the cache: dirty pages stay
 * under two chunks, the disk writes while zstd compresses, and commit has
 * little left to wait for.  sync_file_range()'s wait consumes a
 * writeback error that fsync() would then not see, so the first one is
 * kept for commit to report.  Only for the temporary file: a device or
 * FIFO output is left alone.
 */
static void note_written(struct cp_outfile *f, size_t n)
{
	f->written += n;
	if (!f->temp || f->writeback_off)
		return;
	while (f->written - f->flushed >= WRITEBACK_CHUNK) {
		int r = sync_file_range(f->fd, (off_t)f->flushed, (off_t)WRITEBACK_CHUNK,
		                        SYNC_FILE_RANGE_WRITE);
		if (r == 0 && f->flushed >= WRITEBACK_CHUNK) {
			off_t prev = (off_t)(f->flushed - WRITEBACK_CHUNK);
			r = sync_file_range(f->fd, prev, (off_t)WRITEBACK_CHUNK,
			                    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
			                        SYNC_FILE_RANGE_WAIT_AFTER);
			if (r == 0)
				posix_fadvise(f->fd, prev, (off_t)WRITEBACK_CHUNK,
				              POSIX_FADV_DONTNEED);
		}
		if (r < 0) {
			if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
			    errno != ESPIPE)
				f->writeback_errno = errno;
			f->writeback_off = 1;
			return;
		}
		f->flushed += WRITEBACK_CHUNK;
	}
}

/*
 * Direct writes (O_DIRECT) of the temporary file: the bundle's pages never
 * enter the page cache, and the kernel neither copies them there nor
 * writes them back nor drops them after (note_written()'s calls): the
 * system time of packing the benchmark's core averaged 0.53 and 0.58 s
 * against 0.85 and 0.87 s in two sets of five alternated warm rounds, and
 * corepack took 4.98-5.48 s against 5.05-5.58 s in the second; with
 * caches dropped 5.66-6.44 s against 5.91-6.43 s.  A direct write must have its buffer, length and
 * file offset aligned to the device's logical block size, which 4096
 * covers.  The first write that is not aligned (a stream's last), or
 * that the filesystem refuses (EINVAL), turns them off for good: the rest
 * goes through the page cache and its writeback as before.
 */
#define DIRECT_ALIGN 4096u

int cp_outfile_direct_io(struct cp_outfile *f)
{
	int fl;
	if (f->temp && !f->direct_io && f->written == 0 && (fl = fcntl(f->fd, F_GETFL)) >= 0 &&
	    fcntl(f->fd, F_SETFL, fl | O_DIRECT) == 0)
		f->direct_io = 1;
	return f->direct_io;
}

static void direct_io_off(struct cp_outfile *f)
{
	int fl = fcntl(f->fd, F_GETFL);
	if (fl >= 0)
		fcntl(f->fd, F_SETFL, fl & ~O_DIRECT);
	f->direct_io = 0;
	f->flushed = f->written;
}

int cp_outfile_write(struct cp_outfile *f, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		if (f->direct_io && ((uintptr_t)p | len | f->written) % DIRECT_ALIGN)
			direct_io_off(f);
		ssize_t n = write(f->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EINVAL && f->direct_io) {
			direct_io_off(f);
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
		if (f->direct_io) {
			f->written += (size_t)n;
			f->flushed = f->written;
		} else
			note_written(f, (size_t)n);
	}
	return 0;
}

/* The new name is in place; with sync, make that survive a crash too.
 * Failing here would report an error for a bundle that exists, so errors
 * are ignored. */
static void sync_dir_of(const struct cp_outfile *f, const char *path)
{
	if (!f->sync)
		return;
	char *dir = dir_of(path);
	if (!dir)
		return;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Link the unnamed file FD at NAME; 0 or -errno (-EEXIST: NAME is taken). */
static int link_fd(int fd, const char *name)
{
	char proc[64];
	proc_fd_name(fd, proc, sizeof(proc));
	if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno == EEXIST)
		return -EEXIST;
	if (linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0)
		return 0;
	return -errno;
}

/*
 * Give the unnamed file its name: the output itself when it must not be
 * replaced (an output created meanwhile makes it fail, -EEXIST); with
 * force, a fresh hidden name renamed over the output, so the output is
 * replaced at once, never missing.
 */
static int link_unnamed(struct cp_outfile *f, struct cp_error *err)
{
	int r;
	if (!f->force) {
		if ((r = link_fd(f->fd, f->output)) < 0)
			return cp_error_set(err, -r, "cannot write '%s': %s", f->output,
			                    strerror(-r));
		sync_dir_of(f, f->output);
		return 0;
	}
	const char *slash = strrchr(f->output, '/');
	const char *base = slash ? slash + 1 : f->output;
	int dirlen = slash ? (int)(slash - f->output) + 1 : 0;
	char *tmp = NULL;
	r = -EEXIST;
	for (unsigned i = 0; i < 100 && r == -EEXIST; i++) {
		free(tmp);
		uint32_t salt = 0;
		if (getrandom(&salt, sizeof(salt), GRND_NONBLOCK) != sizeof(salt))
			salt = (uint32_t)getpid() * 2654435761u + i;
		if (asprintf(&tmp, "%.*s.%s.%08" PRIx32, dirlen, f->output, base, salt) < 0) {
			tmp = NULL;
			r = -ENOMEM;
			break;
		}
		r = link_fd(f->fd, tmp);
	}
	if (r == 0 && rename(tmp, f->output) < 0) {
		r = -errno;
		unlink(tmp);
	}
	if (r < 0)
		r = cp_error_set(err, -r, "cannot write '%s': %s", f->output, strerror(-r));
	else
		sync_dir_of(f, f->output);
	free(tmp);
	return r;
}

static int move_into_place(struct cp_outfile *f, struct cp_error *err)
{
	if (f->force) {
		if (rename(f->tmp, f->output) < 0)
			return cp_error_set(err, errno, "cannot rename '%s' to '%s': %s", f->tmp,
			                    f->output, strerror(errno));
	} else if (link(f->tmp, f->output) == 0) {
		/* Both names are ours now; the temporary one going is all
		 * that matters and a failure leaves nothing wrong behind. */
		unlink(f->tmp);
	} else if (errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS) {
		/* No hard links here (vfat, some FUSE): atomic no-replace
		 * rename instead. */
		if (renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->output, RENAME_NOREPLACE) < 0)
			return cp_error_set(err, errno, "cannot write '%s': %s", f->output,
			                    strerror(errno));
	} else {
		return cp_error_set(err, errno, "cannot write '%s': %s", f->output,
		                    strerror(errno));
	}
	free(f->tmp);
	f->tmp = NULL;
	sync_dir_of(f, f->output);
	return 0;
}

/*
 * Before the bundle gets its name, its data is written out: with sync by
 * fsync(), which also waits for the filesystem's journal (two commits with
 * the directory's, 0.2-1.2 s on the benchmark's disk); without, by waiting
 * for the writeback of every page (sync_file_range(), which also reports
 * a write error), so the bundle appears under its name whole and a write
 * error is reported, and the process does not wait for the journal, as
 * tar and zstd do not.  Where the filesystem has no sync_file_range(),
 * fsync().
 */
static int write_out(struct cp_outfile *f)
{
	if (!f->sync && !f->writeback_off &&
	    sync_file_range(f->fd, 0, 0,
	                    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
	                        SYNC_FILE_RANGE_WAIT_AFTER) == 0)
		return 0;
	if (!f->sync && !f->writeback_off && errno != EINVAL && errno != ENOSYS &&
	    errno != EOPNOTSUPP && errno != ESPIPE)
		return -errno;
	return fsync(f->fd) < 0 ? -errno : 0;
}

int cp_outfile_commit(struct cp_outfile *f, struct cp_error *err)
{
	int r = 0;
	if (f->writeback_errno)
		r = cp_error_set(err, f->writeback_errno, "cannot write '%s': %s", f->output,
		                 strerror(f->writeback_errno));
	if (r == 0 && f->temp && (r = write_out(f)) < 0)
		r = cp_error_set(err, -r, "cannot write '%s': %s", f->output, strerror(-r));
	if (r == 0 && f->unnamed)
		r = link_unnamed(f, err);
	if (r == 0) {
		int fd = f->fd;
		f->fd = -1;
		if (close(fd) < 0)
			r = cp_error_set(err, errno, "cannot write '%s': %s", f->output,
			                 strerror(errno));
	}
	if (r == 0 && f->tmp)
		r = move_into_place(f, err);
	return r;
}

void cp_outfile_done(struct cp_outfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	free(f->output);
	*f = (struct cp_outfile){.fd = -1};
}
