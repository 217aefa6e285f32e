/*
 * Writing an extracted file and digesting it in a thread of its own, for
 * the bundle reader (internal to cp_unpack).  The reader's thread
 * decompresses and frames the tar stream; each piece of a file's data is
 * copied into a slot and queued, and the sink's thread digests the pieces
 * in order (holes between them as zeros) and writes them at their offsets.
 * Decompression and writing then overlap, as zstd -d's own reading and
 * writing do.  When no thread can be started, the caller's thread does the
 * same work as each piece arrives.
 */
#ifndef COREPACK_FILE_SINK_H
#define COREPACK_FILE_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/schema.h"

struct cp_file_sink;

/* N_SLOTS (at least 2) buffers of SLOT_SIZE bytes.  Errors: -ENOMEM,
 * -EINVAL. */
int cp_file_sink_new(size_t n_slots, size_t slot_size, struct cp_file_sink **out);
/* Stops and joins the thread; S may be NULL. */
void cp_file_sink_free(struct cp_file_sink *s);

/* Start a file: digested as KIND, written to FD (not closed here; -1: only
 * digested).  The previous file must have been ended. */
void cp_file_sink_begin(struct cp_file_sink *s, int fd, enum cp_digest_kind kind);
/* LEN bytes of the file at OFF, which must not be below the end of the
 * previous piece (the bytes between are zeros, a hole); BUF is copied, the
 * caller may reuse it at once.  Returns 0, or the -errno of a write that
 * failed earlier in this file (nothing more is then written). */
int cp_file_sink_data(struct cp_file_sink *s, const void *buf, size_t len, uint64_t off);
/* Wait until every piece is written; the file's digest, with zeros up to
 * SIZE, into OUT (cp_digest_kind_size(KIND) bytes).  Returns 0, or the
 * -errno of the first write that failed (*OUT is then unset). */
int cp_file_sink_end(struct cp_file_sink *s, uint64_t size, uint8_t out[CP_DIGEST_MAX]);

#endif
