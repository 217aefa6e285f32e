/*
 * Reading files that may be hostile or may have been replaced under us (a
 * core, the files a core names, a sysroot, an extracted bundle): the one
 * way to open one, read it whole, read a range of it, and find its data.
 * The project's rules live here: a FIFO or a device never blocks an open()
 * and is refused, a size is checked against a cap before the work, and a
 * short read is an error, never silently less data.
 */
#ifndef COREPACK_IO_H
#define COREPACK_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "corepack/error.h"

/*
 * Open PATH read-only as a regular file: O_NONBLOCK keeps open() from
 * waiting for a FIFO's writer, and fstat() on the descriptor then refuses
 * anything but a regular file.  FLAGS adds open(2) flags (O_NOFOLLOW for
 * a name that must not be a symlink).  *ST (may be NULL) receives the
 * fstat() result, also when the file is refused.  Returns the descriptor,
 * or -errno from open() and fstat(), or -EINVAL: not a regular file (a
 * directory, a FIFO, a device, a socket).
 */
int cp_open_regular(const char *path, int flags, struct stat *st);

/* Read all LEN bytes at OFF; 0, -errno, or -EIO when the file ends
 * first. */
int cp_pread_full(int fd, void *buf, size_t len, uint64_t off);
/* Write all LEN bytes at OFF; 0, -errno, or -EIO when a write writes
 * nothing. */
int cp_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/*
 * The whole of the regular file PATH, at most CAP bytes, into *OUT (NUL
 * added, owned by the caller) and its length into *LEN.  Never waits on a
 * FIFO and never truncates: errors (the message names PATH) are -errno
 * from open() and read(), -EINVAL: not a regular file, -EFBIG: more than
 * CAP bytes (also when it grows past CAP while read), -ENOMEM.
 */
int cp_read_file_capped(const char *path, size_t cap, char **out, size_t *len,
                        struct cp_error *err);

/* A run of data in a file with holes. */
struct cp_region {
	uint64_t off, len;
};

/*
 * The data regions of FD (SIZE bytes), in order, found with SEEK_DATA and
 * SEEK_HOLE; none for a file that is all hole.  Filesystems without
 * SEEK_DATA report EINVAL (or EOPNOTSUPP through some FUSE servers): then
 * the whole file is one region and holes read as the zeros they are.
 * *OUT (malloc'd, may be NULL when *N is 0) is the caller's.  Errors:
 * -errno from lseek(), -ENOMEM.
 */
int cp_data_regions(int fd, uint64_t size, struct cp_region **out, size_t *n);

#endif
