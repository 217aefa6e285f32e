/*
 * Buffers for direct I/O in transparent huge pages (internal to cp_pack).
 *
 * A direct read or write goes to the device as one request per physically
 * contiguous run of the buffer, up to the queue's max_segments.  In 4 KiB
 * pages, a 1 MiB transfer was two requests on the benchmark's virtio disk
 * (254 segments) and the host's work per page showed in the guest as CPU
 * time stolen; in a 2 MiB huge page it is one request.  Measured there
 * (/proc/diskstats, /proc/stat), packing the benchmark's core:
 *  - reads, caches dropped: 6,200-6,370 requests and the disk busy
 *    3.7-4.0 s, against 4,840-4,870 and 1.2-1.9 s in huge pages;
 *  - direct writes of the bundle, warm: 790-1,579 requests, 1.4-4.5 s
 *    busy and 0.66-1.14 s stolen, against 790, 0.5 s and 0.07-0.11 s.
 */
#ifndef COREPACK_HUGE_BUF_H
#define COREPACK_HUGE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct cp_huge_buf {
	uint8_t *p;     /* LEN bytes, aligned to 2 MiB, zero-filled */
	void *map;      /* the mapping P is in */
	size_t map_len; /* its length */
};

/* Map LEN bytes (at least 1) aligned to a huge page and advised to be
 * backed by transparent huge pages where the kernel has them (THP
 * "always" or "madvise"; elsewhere they are ordinary pages).  0 or
 * -ENOMEM; B is to be given to cp_huge_buf_free() either way. */
int cp_huge_buf_alloc(struct cp_huge_buf *b, size_t len);

/* Unmap B's buffer, if any. */
void cp_huge_buf_free(struct cp_huge_buf *b);

/* Whether anonymous memory advised so may get transparent huge pages:
 * /sys/kernel/mm/transparent_hugepage/enabled exists and does not say
 * "[never]" (the kernel's mm/huge_memory.c). */
int cp_huge_pages_usable(void);

#endif
