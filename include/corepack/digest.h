/*
 * The digest of a sparse file (the core): SHA-256 over, for every 64 KiB
 * chunk of the logical contents that is not all zero, the chunk's index as
 * 8 little-endian bytes followed by the chunk (the last one may be short).
 * All-zero chunks contribute nothing, so holes cost nothing to digest and
 * the value does not depend on where a filesystem put the holes: the
 * packer and the unpacker reach the same value from their own files.
 * Manifests call it "sparse_sha256"; files without holes use plain
 * SHA-256 ("sha256"), which sha256sum can check.
 */
#ifndef COREPACK_DIGEST_H
#define COREPACK_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"
#include "corepack/sha256.h"

#define CP_SPARSE_CHUNK 65536u

struct cp_sparse_digest {
	struct cp_sha256 sha;
	uint64_t index; /* chunk being filled */
	size_t fill;    /* bytes of it seen */
	int nonzero;    /* any of them nonzero */
	uint8_t chunk[CP_SPARSE_CHUNK];
};

void cp_sparse_digest_init(struct cp_sparse_digest *d);
/* The next LEN bytes of the logical contents. */
void cp_sparse_digest_data(struct cp_sparse_digest *d, const void *buf, size_t len);
/* The next LEN bytes are a hole (zeros): O(1) for whole chunks. */
void cp_sparse_digest_zeros(struct cp_sparse_digest *d, uint64_t len);
void cp_sparse_digest_final(struct cp_sparse_digest *d, uint8_t out[32]);

/* A file's digest as its manifest records it: the sparse digest, or plain
 * SHA-256 over the whole contents (holes as zeros). */
struct cp_any_digest {
	int sparse;
	struct cp_sha256 plain;
	struct cp_sparse_digest sd;
};

void cp_any_digest_init(struct cp_any_digest *d, int sparse);
void cp_any_digest_data(struct cp_any_digest *d, const void *buf, size_t len);
/* LEN bytes of zeros: O(1) for the sparse digest. */
void cp_any_digest_zeros(struct cp_any_digest *d, uint64_t len);
void cp_any_digest_final(struct cp_any_digest *d, uint8_t out[32]);

/*
 * Digest a file on disk: its data regions found with SEEK_DATA/SEEK_HOLE
 * (the whole file where the filesystem cannot tell), holes as zeros.
 * SPARSE selects the sparse digest, else plain SHA-256.  *SIZE gets the
 * file's size.
 */
int cp_digest_file(const char *path, int sparse, uint8_t out[32], uint64_t *size,
                   struct cp_error *err);
/* The same of the open regular file FD, from its start whatever its
 * offset (PATH names it in messages); FD stays open. */
int cp_digest_fd(int fd, const char *path, int sparse, uint8_t out[32], uint64_t *size,
                 struct cp_error *err);

#endif
