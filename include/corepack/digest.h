/*
 * The digests the manifest records (schema.h's digest kinds) and coreunpack
 * verifies.  Two hashes: SHA-256 (nettle, sha256.h) for the objects and
 * debug files, which users compare with sha256sum, and XXH3-128
 * (libxxhash) for the core, where SHA-256 would cost as much CPU as a
 * third of the compression (doc/bundle-format.md, "Digests").
 *
 * The sparse digest of a file with holes (the core): the hash over, for
 * every 64 KiB chunk of the logical contents that is not all zero, the
 * chunk's index as 8 little-endian bytes followed by the chunk (the last
 * one may be short).  All-zero chunks contribute nothing, so holes cost
 * nothing to digest and the value does not depend on where a filesystem
 * put the holes: the packer and the unpacker reach the same value from
 * their own files.  Manifests call it "sparse_sha256" or
 * "sparse_xxh3_128"; files without holes use the plain hash ("sha256",
 * which sha256sum prints, or "xxh3_128", which xxh128sum prints).
 */
#ifndef COREPACK_DIGEST_H
#define COREPACK_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/error.h"
#include "corepack/schema.h"
#include "corepack/sha256.h"

#define CP_SPARSE_CHUNK 65536u

struct XXH3_state_s;

/* One of the two hashes, streaming.  XXH is libxxhash's state, allocated
 * by its owner (cp_any_digest_new()); NULL for SHA-256. */
struct cp_hash {
	struct cp_sha256 sha;
	struct XXH3_state_s *xxh; /* used when XXH3 */
	int xxh3;
};

struct cp_sparse_digest {
	struct cp_hash h;
	uint64_t index; /* chunk being filled */
	size_t fill;    /* bytes of it seen */
	int nonzero;    /* any of them nonzero */
	/* CHUNK[FILL..] is all zero bytes, so a hole costs no copy; the data
	 * copied in since the chunk began is at [DIRTY_LO, DIRTY_HI), zeroed
	 * again once the chunk is digested. */
	size_t dirty_lo, dirty_hi;
	uint8_t chunk[CP_SPARSE_CHUNK];
};

/* The sparse digest with SHA-256 ("sparse_sha256"). */
void cp_sparse_digest_init(struct cp_sparse_digest *d);
/* The next LEN bytes of the logical contents. */
void cp_sparse_digest_data(struct cp_sparse_digest *d, const void *buf, size_t len);
/* The next LEN bytes are a hole (zeros): O(1) for whole chunks. */
void cp_sparse_digest_zeros(struct cp_sparse_digest *d, uint64_t len);
/* The 32 bytes of the SHA-256 form (as cp_sparse_digest_init() gives). */
void cp_sparse_digest_final(struct cp_sparse_digest *d, uint8_t out[32]);

/* A file's digest of any kind (schema.h): the sparse digest, or the plain
 * hash over the whole contents (holes as zeros). */
struct cp_any_digest {
	enum cp_digest_kind kind;
	struct cp_hash plain;
	struct cp_sparse_digest sd;
	struct XXH3_state_s *xxh; /* owned; shared by PLAIN and SD */
};

/* A digest for any kind, to be given to cp_any_digest_init() before each
 * file; NULL when out of memory.  Freed with cp_any_digest_free() (NULL
 * is accepted). */
struct cp_any_digest *cp_any_digest_new(void);
void cp_any_digest_free(struct cp_any_digest *d);
/* Start digesting a file as KIND. */
void cp_any_digest_init(struct cp_any_digest *d, enum cp_digest_kind kind);
void cp_any_digest_data(struct cp_any_digest *d, const void *buf, size_t len);
/* LEN bytes of zeros: O(1) for the sparse digest. */
void cp_any_digest_zeros(struct cp_any_digest *d, uint64_t len);
/* The digest, cp_digest_kind_size(kind) bytes of OUT. */
void cp_any_digest_final(struct cp_any_digest *d, uint8_t out[CP_DIGEST_MAX]);

/*
 * Digest a file on disk: its data regions found with SEEK_DATA/SEEK_HOLE
 * (the whole file where the filesystem cannot tell), holes as zeros.
 * SPARSE selects the sparse digest, else plain SHA-256 (both SHA-256).
 * *SIZE gets the file's size.
 */
int cp_digest_file(const char *path, int sparse, uint8_t out[32], uint64_t *size,
                   struct cp_error *err);
/* The same of the open regular file FD, from its start whatever its
 * offset (PATH names it in messages); FD stays open. */
int cp_digest_fd(int fd, const char *path, int sparse, uint8_t out[32], uint64_t *size,
                 struct cp_error *err);
/* The same with a digest of any KIND: cp_digest_kind_size(KIND) bytes of
 * OUT. */
int cp_digest_fd_as(int fd, const char *path, enum cp_digest_kind kind, uint8_t out[CP_DIGEST_MAX],
                    uint64_t *size, struct cp_error *err);

#endif
