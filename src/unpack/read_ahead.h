/*
 * Reading a regular file front to back in a thread of its own, for the
 * bundle reader (internal to cp_unpack).  The reader's thread
 * decompresses; this thread keeps a ring of slots filled with the next
 * bytes of the bundle, so decompression does not wait for read() when the
 * cache is cold, as zstd -d's own reading thread does not.  When no thread
 * can be started, the caller's thread reads as it asks.
 *
 * Only for regular files: a read() from a pipe may block for ever, and
 * the thread must be joinable at any time.
 */
#ifndef COREPACK_READ_AHEAD_H
#define COREPACK_READ_AHEAD_H

#include <stddef.h>
#include <sys/types.h>

struct cp_read_ahead;

/* Read FD (not closed here) from its current offset, N_SLOTS (at least 2)
 * reads of up to SLOT_SIZE bytes ahead.  Errors: -ENOMEM, -EINVAL. */
int cp_read_ahead_new(int fd, size_t n_slots, size_t slot_size, struct cp_read_ahead **out);
/* Stops and joins the thread (after the read it is in, if any); RA may be
 * NULL. */
void cp_read_ahead_free(struct cp_read_ahead *ra);

/* The next bytes of the file in *BUF, valid until the next call or
 * cp_read_ahead_free().  Returns their number, 0 at the end of the file,
 * or the -errno of the read that failed (and again on every later call). */
ssize_t cp_read_ahead_next(struct cp_read_ahead *ra, const void **buf);

#endif
