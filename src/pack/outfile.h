/*
 * The bundle's output file, for the bundle writer (internal to cp_pack):
 * the checks on the output name before any work, a temporary file beside
 * the output (mode 0600; unnamed, O_TMPFILE, where the filesystem allows)
 * written with direct writes where asked (cp_outfile_direct_io()) and
 * otherwise written back to disk as it grows, and its commit (its data written out,
 * or with sync fsync'd, then linked or moved to the output name without
 * replacing an output that appeared meanwhile unless forced) or removal.  An existing character
 * device or FIFO given with force is written in place instead.
 */
#ifndef COREPACK_OUTFILE_H
#define COREPACK_OUTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"

struct cp_outfile {
	char *output; /* the output name (owned) */
	char *tmp;    /* the named temporary file; NULL when writing straight
	               * to a device or FIFO, to an unnamed file, and once
	               * committed */
	int fd;
	int temp;    /* writing a temporary file (named or not) */
	int unnamed; /* it has no name (O_TMPFILE) until commit links it */
	int force;   /* replace an existing output */
	int sync;    /* commit fsyncs the file and its directory */
	/* Writeback of the temporary file as it grows: bytes written, bytes
	 * handed to writeback, and its first failure (commit reports it). */
	uint64_t written, flushed;
	int writeback_errno;
	int writeback_off; /* the filesystem has no sync_file_range() */
	int direct_io;     /* O_DIRECT (cp_outfile_direct_io()) */
};

/* What cp_bundle_output_check() documents (bundle_write.h). */
int cp_outfile_check(const char *output, int force, int *direct, struct cp_error *err);

/* Open OUTPUT for writing: the device or FIFO itself when DIRECT (from
 * cp_outfile_check()), else a new temporary file beside it.  Errors name
 * OUTPUT (errno from open() or mkostemp(), -ENOMEM).  F is to be given to
 * cp_outfile_done() whatever this returns. */
int cp_outfile_open(struct cp_outfile *f, const char *output, int force, int direct,
                    struct cp_error *err);

/* Write the temporary file with O_DIRECT from now on, where the
 * filesystem takes the flag; only before the first write.  Writes whose
 * buffer, length and offset are aligned to 4096 bytes then bypass the page
 * cache; the first that is not, or that the filesystem refuses (EINVAL),
 * turns it off for good and goes through the page cache.  Returns whether
 * it is on. */
int cp_outfile_direct_io(struct cp_outfile *f);

/* Write all LEN bytes of BUF; 0 or -errno. */
int cp_outfile_write(struct cp_outfile *f, const void *buf, size_t len);

/* Report a writeback error, wait for the temporary file's data to be
 * written out (with sync: fsync it), close it and move it to the output
 * name (-EEXIST when an output appeared meanwhile and not force; with
 * sync, the directory is fsync'd after).  A full disk typically shows here
 * (-ENOSPC).  Then cp_outfile_done(). */
int cp_outfile_commit(struct cp_outfile *f, struct cp_error *err);

/* Close, remove the temporary file if it is still there, and free F's
 * contents. */
void cp_outfile_done(struct cp_outfile *f);

#endif
