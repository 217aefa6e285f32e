/*
 * Fuzz harness: the tar stream as coreunpack reads it (tar_read.c, the
 * decompressed bytes of a bundle) under its budgets, each entry through
 * the entry validator, every entry's data read to the end and checked to
 * come at increasing offsets inside the entry.  The input is handed over
 * in pieces of varying size (the first byte chooses them), as a
 * decompressor would.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/entry_check.h"
#include "corepack/tar_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct source {
	const uint8_t *p;
	size_t left, piece;
};

static int feed(void *ctx, const void **buf, size_t *len, struct cp_error *err)
{
	struct source *s = ctx;
	(void)err;
	size_t n = s->left < s->piece ? s->left : s->piece;
	*buf = s->p;
	*len = n;
	s->p += n;
	s->left -= n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const size_t pieces[] = {1, 7, 512, 513, 4096, 65536};
	struct source s = {data + 1, size - 1, pieces[data[0] % 6]};
	struct cp_tar_reader *r = NULL;
	struct cp_entry_validator *v = NULL;
	if (cp_tar_reader_new(feed, &s, &r) < 0 || cp_entry_validator_new(&v) < 0)
		abort();
	for (int i = 0; i < 100000; i++) {
		struct cp_tar_entry e;
		if (cp_tar_next(r, &e, NULL) <= 0)
			break;
		struct cp_entry ce = {e.name, e.type, e.mode, (int64_t)e.size, e.link};
		struct cp_entry_checked c;
		cp_entry_check(v, &ce, &c, NULL);
		if (e.sparse) {
			uint64_t sum = 0;
			for (size_t k = 0; k < e.n_regions; k++) {
				if (e.regions[k].off + e.regions[k].len > e.size)
					abort();
				sum += e.regions[k].len;
			}
			if (sum != e.stored)
				abort();
		}
		uint64_t pos = 0, got = 0;
		const void *buf;
		size_t len;
		uint64_t off;
		int rc;
		while ((rc = cp_tar_data(r, &buf, &len, &off, NULL)) > 0) {
			if (off < pos || len == 0 || off + len > e.size)
				abort();
			pos = off + len;
			got += len;
		}
		if (rc == 0 && got != e.stored)
			abort();
		if (rc < 0)
			break;
	}
	cp_entry_validator_free(v);
	cp_tar_reader_free(r);
	return 0;
}
