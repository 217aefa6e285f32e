/*
 * Reading a tar stream from a stranger (the decompressed bytes of a
 * bundle), one header at a time, within budgets fixed before anything is
 * allocated: a pax extended header of at most CP_TAR_MAX_PAX bytes, a GNU
 * long name of at most CP_TAR_MAX_LONGNAME, a sparse map of at most
 * CP_TAR_MAX_REGIONS regions and at most one region per 512 bytes of the
 * file.  Formats read: POSIX ustar and pax (with the GNU 1.0 sparse
 * format that libarchive and GNU tar write), and GNU tar's headers with
 * 'L'/'K' long names.  Refused: pax global headers, the GNU 0.x sparse
 * formats, old GNU sparse ('S') and the other GNU types, anything else
 * that would need a guess about where the next header starts.
 * Sources: POSIX.1-2017 pax(1) "ustar Interchange Format" and "pax
 * Extended Header"; GNU tar's manual, "GNU Sparse Formats" (1.0).
 */
#ifndef COREPACK_TAR_READ_H
#define COREPACK_TAR_READ_H

#include <stddef.h>
#include <stdint.h>

#include "corepack/entry_check.h"
#include "corepack/error.h"
#include "corepack/io.h"

#define CP_TAR_MAX_PAX (64 * 1024)    /* bytes of one pax extended header */
#define CP_TAR_MAX_LONGNAME 8192      /* bytes of a GNU 'L'/'K' long name */
#define CP_TAR_MAX_REGIONS (1u << 20) /* regions of one sparse map */
#define CP_TAR_REGION_BYTES 512       /* at most one region per this many bytes */

/*
 * The decompressed stream: sets *BUF and *LEN to the next bytes (valid
 * until the next call), *LEN 0 at the end.  Returns 0, or a negative errno
 * with ERR set (the reader passes it on unchanged).
 */
typedef int (*cp_tar_source_fn)(void *ctx, const void **buf, size_t *len, struct cp_error *err);

struct cp_tar_entry {
	const char *name;                /* as stored: the pax path, GNU.sparse.name, a GNU
	                                  * long name, or the ustar prefix and name */
	const char *link;                /* hard or symbolic link target, else NULL */
	enum cp_entry_type type;         /* FILE, DIR, SYMLINK, HARDLINK, devices, FIFO */
	unsigned mode;                   /* permission bits (07777) */
	uint64_t size;                   /* logical size: holes included */
	uint64_t stored;                 /* data bytes in the archive (the sparse map excluded) */
	int sparse;                      /* stored with a sparse map (holes) */
	const struct cp_region *regions; /* the map, sorted, when sparse */
	size_t n_regions;
};

struct cp_tar_reader;

/* Errors: -ENOMEM.  Free with cp_tar_reader_free() (NULL accepted). */
int cp_tar_reader_new(cp_tar_source_fn source, void *ctx, struct cp_tar_reader **out);
void cp_tar_reader_free(struct cp_tar_reader *r);

/*
 * The next entry's header into *OUT (valid until the next call): 1, or 0
 * at the end of the archive (a zero block, or the end of the stream right
 * after an entry).  What the previous entry's data was not read is
 * skipped.  Errors, with a message: -EINVAL when the very first header is
 * not a tar header ("not a tar archive: ..."), -EIO for a corrupt or cut
 * short stream ("truncated", "bad header checksum", ...), -E2BIG past a
 * budget, -ENOTSUP for a format refused above, the source's errors.
 */
int cp_tar_next(struct cp_tar_reader *r, struct cp_tar_entry *out, struct cp_error *err);

/*
 * The current entry's next data: *BUF, *LEN bytes at logical offset *OFF
 * (offsets increase; the gaps between are holes).  Returns 1, 0 at the end
 * of the entry's data, or an error as cp_tar_next()'s.
 */
int cp_tar_data(struct cp_tar_reader *r, const void **buf, size_t *len, uint64_t *off,
                struct cp_error *err);

/* Bytes of the stream consumed so far. */
uint64_t cp_tar_consumed(const struct cp_tar_reader *r);

#endif
