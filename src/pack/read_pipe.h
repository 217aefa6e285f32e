/*
 * Reading a file ahead of its packer.  A thread of the pipe's own reads the
 * file's data regions front to back into a ring of slots and digests each
 * block as it arrives, while the caller takes the blocks, and the holes
 * between them, in file order and feeds them to the compressor.  Reads
 * (direct ones especially, which get no read-ahead from the kernel) and
 * digests then overlap the compression instead of stalling it.  When no
 * thread can be started, the caller's thread does the same work, one
 * piece at a time.  Internal to the bundle writer.
 */
#ifndef COREPACK_READ_PIPE_H
#define COREPACK_READ_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/io.h"
#include "file_reader.h"

struct cp_read_pipe;

enum cp_read_hash {
	CP_READ_HASH_NONE,
	CP_READ_HASH_PLAIN,       /* SHA-256 of the contents */
	CP_READ_HASH_SPARSE,      /* the sparse digest (digest.h), SHA-256 */
	CP_READ_HASH_XXH3,        /* XXH3-128 of the contents */
	CP_READ_HASH_SPARSE_XXH3, /* the sparse digest, XXH3-128 */
};

enum cp_piece_kind {
	CP_PIECE_DATA,
	CP_PIECE_HOLE,
	CP_PIECE_END,   /* the whole file has been read */
	CP_PIECE_ERROR, /* a read failed or came up short */
};

struct cp_piece {
	enum cp_piece_kind kind;
	uint64_t off;        /* where in the file */
	uint64_t len;        /* DATA, HOLE: bytes; ERROR: up to the region's end */
	const uint8_t *data; /* DATA: valid until the next cp_read_pipe_next() */
	int err;             /* ERROR: the read's errno; 0: the file ended early */
};

/* N_SLOTS (at least 2) buffers of SLOT_SIZE bytes (a multiple of
 * CP_READER_ALIGN, at most CP_READER_MAX), aligned for direct reads.
 * Errors: -ENOMEM, -EINVAL. */
int cp_read_pipe_new(size_t n_slots, size_t slot_size, struct cp_read_pipe **out);
/* Stops and joins the thread; P may be NULL. */
void cp_read_pipe_free(struct cp_read_pipe *p);

/* Start reading a file of SIZE bytes through RD: its data REGIONS (N, in
 * order, not overlapping, within SIZE); the rest is holes.  RD and REGIONS
 * must stay as they are until cp_read_pipe_end(). */
void cp_read_pipe_begin(struct cp_read_pipe *p, struct cp_file_reader *rd,
                        const struct cp_region *regions, size_t n, uint64_t size,
                        enum cp_read_hash hash);
/* The next piece in file order, waiting for it.  After END or ERROR
 * nothing more is read and the same piece is given again. */
void cp_read_pipe_next(struct cp_read_pipe *p, struct cp_piece *out);
/* Stop reading the file, at END or early, and wait until the thread has let
 * go of RD.  When END was reached, OUT (if not NULL) gets the digest (32
 * bytes of SHA-256, 16 of XXH3-128); returns 0 then, -1 when the file was
 * not read to its end. */
int cp_read_pipe_end(struct cp_read_pipe *p, uint8_t out[32]);

#endif
