/*
 * Write-behind for the bundle's compressed stream (internal to cp_pack): a
 * few output buffers, filled by the caller one at a time and written to
 * the output file (outfile.h) in order by a thread of their own, so that a
 * write to the disk (a direct one waits for the device) overlaps the
 * compression instead of holding it up.
 *
 * The caller fills cp_write_behind_buf() and hands it over with
 * cp_write_behind_submit(), which returns with the next buffer free to
 * fill.  While the thread runs, only it writes to the output file; after
 * cp_write_behind_flush() or cp_write_behind_free(), the caller may use
 * the file again.  Without the thread (THREADED 0, or it could not start),
 * submit() writes in the caller's thread.
 */
#ifndef COREPACK_WRITE_BEHIND_H
#define COREPACK_WRITE_BEHIND_H

#include <stddef.h>
#include <stdint.h>

#include "outfile.h"

/* Output buffers: one being filled, the others queued or being written. */
#define CP_WRITE_BEHIND_BUFS 3
/* Their alignment: what a direct write needs (outfile.c). */
#define CP_WRITE_BEHIND_ALIGN 4096u

struct cp_write_behind;

/* Buffers of BUF_SIZE bytes (a multiple of CP_WRITE_BEHIND_ALIGN) written
 * to OUT, which must outlive *WB.  0, -EINVAL (BUF_SIZE) or -ENOMEM. */
int cp_write_behind_new(struct cp_outfile *out, size_t buf_size, int threaded,
                        struct cp_write_behind **wb);

/* The buffer to fill: BUF_SIZE bytes, aligned to CP_WRITE_BEHIND_ALIGN. */
uint8_t *cp_write_behind_buf(struct cp_write_behind *wb);

/* Queue the first LEN bytes of the buffer to fill for writing; another
 * buffer then is the one to fill.  Returns 0, or the -errno of the first
 * write that failed (this one's, when written here, or an earlier one's):
 * after a failure, nothing more is written. */
int cp_write_behind_submit(struct cp_write_behind *wb, size_t len);

/* Wait until every queued buffer is written; 0 or the first write's
 * -errno. */
int cp_write_behind_flush(struct cp_write_behind *wb);

/* Stop the thread (buffers still queued are dropped; the write under way
 * is finished) and free WB.  NULL is fine. */
void cp_write_behind_free(struct cp_write_behind *wb);

#endif
