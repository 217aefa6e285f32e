/*
 * The staging directory (stage.c): trees removed through descriptors at
 * any depth with a handful of descriptors, paths far past PATH_MAX; a
 * staging directory locked while in use, swept once its lock is free;
 * entries created only below it, never through a symlink.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "corepack/stage.h"

static char top[256];
static int tfd = -1;

static int setup(void **state)
{
	snprintf(top, sizeof(top), "%s/test_stage.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(top));
	tfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(tfd >= 0);
	return 0;
}

static int teardown(void **state)
{
	cp_remove_tree_at(AT_FDCWD, top);
	close(tfd);
	return 0;
}

static size_t entries(int dfd)
{
	int d = dup(dfd);
	DIR *dir = fdopendir(d);
	size_t n = 0;
	assert_non_null(dir);
	rewinddir(dir);
	for (struct dirent *de; (de = readdir(dir));)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(dir);
	return n;
}

/* A tree 600 directories deep (a path of 7200 bytes, past PATH_MAX) with
 * a file and a symlink at every level goes, with at most 16 descriptors
 * open. */
static void test_remove_deep(void **state)
{
	assert_int_equal(mkdirat(tfd, "deep", 0755), 0);
	int cur = openat(tfd, "deep", O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 600; i++) {
		int f = openat(cur, "f", O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(f >= 0);
		close(f);
		assert_int_equal(symlinkat("/etc/passwd", cur, "l"), 0);
		assert_int_equal(mkdirat(cur, "dddddddddd", i % 7 ? 0755 : 0700), 0);
		int next = openat(cur, "dddddddddd", O_RDONLY | O_DIRECTORY);
		close(cur);
		cur = next;
		assert_true(cur >= 0);
	}
	close(cur);
	struct rlimit old, lim = {16, 16};
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* The child holds at most 16 descriptors. */
		if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
			_exit(2);
		_exit(cp_remove_tree_at(tfd, "deep") == 0 ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(faccessat(tfd, "deep", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	/* The symlinks' targets were not followed. */
	assert_int_equal(access("/etc/passwd", F_OK), 0);
}

/* A stage in use is locked; cp_stage_done() removes it whole; the sweep
 * takes only what no one holds. */
static void test_stage_lock_and_sweep(void **state)
{
	struct cp_stage a = CP_STAGE_INIT, b = CP_STAGE_INIT;
	assert_int_equal(cp_stage_create(tfd, top, &a, NULL), 0);
	assert_int_equal(cp_stage_create(tfd, top, &b, NULL), 0);
	assert_true(cp_stage_in_place(&a));
	struct stat sb;
	assert_int_equal(fstat(a.sfd, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	int fd;
	assert_int_equal(cp_stage_dir(&a, "x/y/z", 5, 1, &fd), 0);
	int f = openat(fd, "file", O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(f >= 0);
	close(f);

	/* Another process cannot take a's lock. */
	int other = openat(tfd, a.name, O_RDONLY | O_DIRECTORY);
	pid_t pid = fork();
	if (pid == 0)
		_exit(flock(other, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK ? 0 : 1);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	close(other);

	/* Held: the sweep leaves both. */
	size_t n = 9;
	assert_int_equal(cp_stage_sweep(tfd, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(entries(tfd), 2);

	/* a abandoned (its descriptor closed, as by SIGKILL): swept, its
	 * contents too; b stays.  A directory of that name not 0700 is not
	 * ours: left alone. */
	cp_stage_close(&a);
	assert_int_equal(mkdirat(tfd, CP_STAGE_PREFIX "abcdef", 0755), 0);
	assert_int_equal(cp_stage_sweep(tfd, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(faccessat(tfd, a.name, F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(tfd, b.name, F_OK, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(faccessat(tfd, CP_STAGE_PREFIX "abcdef", F_OK, 0), 0);
	assert_int_equal(unlinkat(tfd, CP_STAGE_PREFIX "abcdef", AT_REMOVEDIR), 0);

	assert_int_equal(cp_stage_done(&b), 0);
	assert_int_equal(entries(tfd), 0);
}

/* A symlink put on the way is refused, and a stage moved away is noticed
 * (and its contents still removed through the descriptor). */
static void test_stage_symlinks(void **state)
{
	struct cp_stage s = CP_STAGE_INIT;
	int fd;
	assert_int_equal(cp_stage_create(tfd, top, &s, NULL), 0);
	assert_int_equal(symlinkat("/tmp", s.sfd, "sysroot"), 0);
	int r = cp_stage_dir(&s, "sysroot/usr", 11, 1, &fd);
	assert_true(r == -ELOOP || r == -ENOTDIR);
	assert_int_equal(cp_stage_dir(&s, "debug/a", 7, 1, &fd), 0);

	assert_int_equal(renameat(tfd, s.name, tfd, "moved"), 0);
	assert_int_equal(symlinkat("/tmp", tfd, s.name), 0);
	assert_false(cp_stage_in_place(&s));
	cp_stage_done(&s);
	/* The symlink is not ours: left; the moved directory is empty. */
	struct stat sb;
	assert_int_equal(fstatat(tfd, s.name, &sb, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(sb.st_mode));
	int m = openat(tfd, "moved", O_RDONLY | O_DIRECTORY);
	assert_true(m >= 0);
	assert_int_equal(entries(m), 0);
	close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_remove_deep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stage_lock_and_sweep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stage_symlinks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
