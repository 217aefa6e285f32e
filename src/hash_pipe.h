/*
 * Digesting a file's blocks on a thread of its own while the caller reads
 * them and feeds them to the compressor: on two cores the SHA-256 of the
 * data then overlaps the reads and writes instead of adding to them.  The
 * caller reads into slots handed out round-robin; a slot comes back only
 * once the thread has digested it.  Internal to the bundle writer.
 */
#ifndef COREPACK_HASH_PIPE_H
#define COREPACK_HASH_PIPE_H

#include <stddef.h>
#include <stdint.h>

struct cp_hash_pipe;

/* N_SLOTS buffers of SLOT_SIZE bytes (a multiple of 4096), 4096-aligned
 * for direct reads.  When no thread can be started the
 * pipe digests in the caller's thread instead.  Errors: -ENOMEM. */
int cp_hash_pipe_new(size_t n_slots, size_t slot_size, struct cp_hash_pipe **out);
/* Stops and joins the thread; P may be NULL. */
void cp_hash_pipe_free(struct cp_hash_pipe *p);

/* Start a file: plain SHA-256, or the sparse digest (digest.h). */
void cp_hash_pipe_begin(struct cp_hash_pipe *p, int sparse);
/* The next slot to read into (waits until it is digested). */
uint8_t *cp_hash_pipe_slot(struct cp_hash_pipe *p);
/* Queue the LEN bytes just read into the slot from cp_hash_pipe_slot().
 * The caller may go on reading the slot (not writing it). */
void cp_hash_pipe_data(struct cp_hash_pipe *p, size_t len);
/* Queue LEN bytes of zeros (a hole). */
void cp_hash_pipe_zeros(struct cp_hash_pipe *p, uint64_t len);
/* Wait for everything queued and give the file's digest. */
void cp_hash_pipe_end(struct cp_hash_pipe *p, uint8_t out[32]);

#endif
