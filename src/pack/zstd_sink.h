/*
 * The bundle writer's zstd compression (internal to cp_pack): libzstd's
 * streaming compressor with worker threads and a bounded job size, writing
 * its frames to the output file (outfile.h) through the write-behind
 * (write_behind.h).
 */
#ifndef COREPACK_ZSTD_SINK_H
#define COREPACK_ZSTD_SINK_H

#include <stddef.h>
#include <stdint.h>

#include <zstd.h>

#include "corepack/bundle_write.h"
#include "corepack/error.h"
#include "outfile.h"
#include "write_behind.h"

struct cp_zstd_sink {
	ZSTD_CCtx *zc;
	struct cp_write_behind *wb; /* from the first feed on */
	uint8_t *zout;              /* wb's buffer to fill: compressed bytes not yet
	                             * written, [0, zout_pos) */
	size_t zout_size, zout_pos;
};

/* Set up Z for OPTS' level (default 3) and threads (default: online CPUs,
 * at most 256; one when libzstd has no threads).  Errors name OUTPUT:
 * -ENOMEM, -EINVAL (a level libzstd refuses).  Z is to be given to
 * cp_zstd_sink_done() whatever this returns. */
int cp_zstd_sink_init(struct cp_zstd_sink *z, const struct cp_bundle_opts *opts, const char *output,
                      struct cp_error *err);

/* Compress LEN bytes of IN into OUT; END finishes the frame and returns
 * once all of it is written.  Returns 0, -EIO with *ZERR set to libzstd's
 * message, or with *ZERR NULL -ENOMEM (the first call's buffers) or the
 * -errno of a write (write_behind.h: possibly an earlier one's). */
int cp_zstd_sink_feed(struct cp_zstd_sink *z, struct cp_outfile *out, const void *in, size_t len,
                      int end, const char **zerr);

/* Free Z's contents. */
void cp_zstd_sink_done(struct cp_zstd_sink *z);

#endif
