/*
 * The tar stream of a bundle, read by hand (include/corepack/tar_read.h).
 *
 * Hand code where a library exists, for a measured reason: libarchive's
 * tar reader (3.6.2) parses a GNU 1.0 sparse map inside
 * archive_read_next_header(), allocating a list node for every region
 * before the caller sees the entry: a 10 KB bundle whose map lists 25
 * million regions cost it 1.15 GB, and nothing in its API bounds that.
 * Here every budget is checked before the memory is taken: the sparse map
 * is counted against CP_TAR_MAX_REGIONS and the entry's own size before
 * one region is stored, pax headers and GNU long names are capped, and
 * the data is handed out in place, straight from the decompressor's
 * buffers.  libarchive still does the decompression (bundle_read.c).
 *
 * Where two readers could disagree about where the next header starts,
 * the stream is refused rather than interpreted: a link, directory or
 * device with data, a second pax header for one entry, a pax global
 * header, the GNU 0.x sparse formats, old GNU sparse headers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/escape.h"
#include "corepack/tar_read.h"

#define BLOCK 512

struct cp_tar_reader {
	cp_tar_source_fn source;
	void *ctx;
	const uint8_t *blk; /* the source's current buffer */
	size_t blk_len, blk_pos;
	uint64_t consumed;
	int seen_header; /* a good header was read: failures now are corruption */
	int ended;

	/* The current entry. */
	uint64_t data_left; /* stored bytes (map excluded) not yet handed out */
	uint64_t skip;      /* padding after them */
	int sparse;
	struct cp_region *regions;
	size_t n_regions, region;
	uint64_t region_done; /* bytes of regions[region] handed out */
	uint64_t dense_off;

	/* Headers that describe the next entry. */
	char *path, *linkpath, *sparse_name, *long_name, *long_link;
	int have_pax;
	int have_size, have_realsize, sparse_major, sparse_minor, sparse_old;
	uint64_t pax_size, realsize;

	uint8_t hdr[BLOCK];
	char ustar_name[256 + 1], ustar_link[100 + 1];
	uint8_t *buf; /* pax headers, long names (CP_TAR_MAX_PAX) */
};

int cp_tar_reader_new(cp_tar_source_fn source, void *ctx, struct cp_tar_reader **out)
{
	struct cp_tar_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->buf = malloc(CP_TAR_MAX_PAX + 1))) {
		free(r);
		return -ENOMEM;
	}
	r->source = source;
	r->ctx = ctx;
	r->sparse_major = r->sparse_minor = -1;
	*out = r;
	return 0;
}

static void clear_pending(struct cp_tar_reader *r)
{
	free(r->path);
	free(r->linkpath);
	free(r->sparse_name);
	free(r->long_name);
	free(r->long_link);
	r->path = r->linkpath = r->sparse_name = r->long_name = r->long_link = NULL;
	r->have_pax = r->have_size = r->have_realsize = r->sparse_old = 0;
	r->sparse_major = r->sparse_minor = -1;
	r->pax_size = r->realsize = 0;
}

void cp_tar_reader_free(struct cp_tar_reader *r)
{
	if (!r)
		return;
	clear_pending(r);
	free(r->regions);
	free(r->buf);
	free(r);
}

uint64_t cp_tar_consumed(const struct cp_tar_reader *r)
{
	return r->consumed;
}

static int corrupt(struct cp_tar_reader *r, struct cp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int corrupt(struct cp_tar_reader *r, struct cp_error *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->seen_header)
		return cp_error_set(err, EINVAL, "not a tar archive: %s", msg);
	return cp_error_set(err, EIO, "%s (at byte %llu of the tar stream)", msg,
	                    (unsigned long long)r->consumed);
}

/* Make bytes available in the current buffer: 1, 0 at the end of the
 * stream, or the source's error. */
static int fill(struct cp_tar_reader *r, struct cp_error *err)
{
	while (r->blk_pos == r->blk_len) {
		const void *b;
		size_t n;
		int rc = r->source(r->ctx, &b, &n, err);
		if (rc < 0)
			return rc;
		if (n == 0)
			return 0;
		r->blk = b;
		r->blk_len = n;
		r->blk_pos = 0;
	}
	return 1;
}

/* N bytes into DST; at the end of the stream: -EIO "truncated", or 0
 * with *GOT short when GOT is given (the caller decides). */
static int take(struct cp_tar_reader *r, void *dst, size_t n, size_t *got, struct cp_error *err)
{
	size_t done = 0;
	while (done < n) {
		int rc = fill(r, err);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (got) {
				*got = done;
				return 0;
			}
			return corrupt(r, err, "truncated");
		}
		size_t k = r->blk_len - r->blk_pos;
		if (k > n - done)
			k = n - done;
		memcpy((uint8_t *)dst + done, r->blk + r->blk_pos, k);
		r->blk_pos += k;
		r->consumed += k;
		done += k;
	}
	if (got)
		*got = done;
	return 0;
}

static int skip(struct cp_tar_reader *r, uint64_t n, struct cp_error *err)
{
	while (n > 0) {
		int rc = fill(r, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return corrupt(r, err, "truncated");
		size_t k = r->blk_len - r->blk_pos;
		if (k > n)
			k = (size_t)n;
		r->blk_pos += k;
		r->consumed += k;
		n -= k;
	}
	return 0;
}

static uint64_t padding(uint64_t n)
{
	return (BLOCK - n % BLOCK) % BLOCK;
}

/* A numeric header field: octal digits between optional leading spaces
 * and a space or NUL, or base-256 (first byte 0x80) for large values. */
static int parse_number(const uint8_t *f, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return -1; /* negative, or more than 63 bits */
		for (size_t i = 1; i < n; i++) {
			if (v >> 55)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return 0;
	}
	size_t i = 0;
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	*out = v;
	return 0;
}

/* A pax decimal value: digits only, no sign, at most 2^63 - 1. */
static int parse_decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

static int is_zero_block(const uint8_t *b)
{
	for (size_t i = 0; i < BLOCK; i++)
		if (b[i])
			return 0;
	return 1;
}

static int checksum_ok(const uint8_t *h)
{
	uint64_t want;
	if (parse_number(h + 148, 8, &want) < 0)
		return 0;
	uint64_t u = 0;
	int64_t s = 0;
	for (size_t i = 0; i < BLOCK; i++) {
		uint8_t c = i >= 148 && i < 156 ? ' ' : h[i];
		u += c;
		s += (int8_t)c;
	}
	/* Some old writers summed signed bytes. */
	return u == want || (uint64_t)s == want;
}

/* A field of N bytes, NUL-terminated or full, into DST (N + 1 bytes). */
static size_t copy_field(char *dst, const uint8_t *f, size_t n)
{
	size_t len = strnlen((const char *)f, n);
	memcpy(dst, f, len);
	dst[len] = '\0';
	return len;
}

/* A string value of a pax record or long name: no NUL inside. */
static int dup_value(const char *s, size_t n, char **out)
{
	if (memchr(s, '\0', n))
		return -EINVAL;
	char *d = strndup(s, n);
	if (!d)
		return -ENOMEM;
	free(*out);
	*out = d;
	return 0;
}

static int pax_record(struct cp_tar_reader *r, const char *key, size_t klen, const char *val,
                      size_t vlen, struct cp_error *err)
{
#define KEY(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
	int rc = 0;
	uint64_t n;
	if (KEY("path"))
		rc = dup_value(val, vlen, &r->path);
	else if (KEY("linkpath"))
		rc = dup_value(val, vlen, &r->linkpath);
	else if (KEY("GNU.sparse.name"))
		rc = dup_value(val, vlen, &r->sparse_name);
	else if (KEY("size") || KEY("GNU.sparse.realsize")) {
		if (parse_decimal(val, vlen, &n) < 0)
			return corrupt(r, err, "pax header: bad %.*s", (int)klen, key);
		if (KEY("size")) {
			r->pax_size = n;
			r->have_size = 1;
		} else {
			r->realsize = n;
			r->have_realsize = 1;
		}
	} else if (KEY("GNU.sparse.major") || KEY("GNU.sparse.minor")) {
		if (parse_decimal(val, vlen, &n) < 0 || n > 1000)
			return corrupt(r, err, "pax header: bad %.*s", (int)klen, key);
		*(KEY("GNU.sparse.major") ? &r->sparse_major : &r->sparse_minor) = (int)n;
	} else if (KEY("GNU.sparse.size") || KEY("GNU.sparse.numblocks") ||
	           KEY("GNU.sparse.offset") || KEY("GNU.sparse.numbytes") ||
	           KEY("GNU.sparse.map")) {
		r->sparse_old = 1;
	}
	/* Other keywords (times, owners, hdrcharset, vendor extensions)
	 * carry nothing a bundle uses: ignored, as pax says unknown ones
	 * are. */
#undef KEY
	if (rc == -ENOMEM)
		return cp_error_set(err, ENOMEM, "out of memory");
	if (rc < 0)
		return corrupt(r, err, "pax header: a name with a NUL byte");
	return 0;
}

/* The records "LEN KEY=VALUE\n" of a pax extended header in r->buf. */
static int parse_pax(struct cp_tar_reader *r, size_t len, struct cp_error *err)
{
	const char *p = (const char *)r->buf, *end = p + len;
	while (p < end) {
		/* A header's data is padded with NULs after the last record. */
		if (*p == '\0')
			break;
		size_t digits = 0;
		uint64_t rlen = 0;
		while (p + digits < end && p[digits] >= '0' && p[digits] <= '9' && digits < 8)
			rlen = rlen * 10 + (uint64_t)(p[digits++] - '0');
		if (digits == 0 || p + digits >= end || p[digits] != ' ' || rlen < digits + 3 ||
		    rlen > (uint64_t)(end - p) || p[rlen - 1] != '\n')
			return corrupt(r, err, "pax header: a malformed record");
		const char *key = p + digits + 1, *rec_end = p + rlen - 1;
		const char *eq = memchr(key, '=', (size_t)(rec_end - key));
		if (!eq || eq == key)
			return corrupt(r, err, "pax header: a record without a keyword");
		int rc =
		    pax_record(r, key, (size_t)(eq - key), eq + 1, (size_t)(rec_end - eq - 1), err);
		if (rc < 0)
			return rc;
		p += rlen;
	}
	return 0;
}

/* The data of a pax or long-name header (SIZE bytes, capped by CAP) into
 * r->buf, NUL-terminated, padding skipped. */
static int read_meta(struct cp_tar_reader *r, uint64_t size, size_t cap, const char *what,
                     struct cp_error *err)
{
	if (size > cap)
		return cp_error_set(err, E2BIG, "%s of %llu bytes, more than the limit of %zu",
		                    what, (unsigned long long)size, cap);
	int rc = take(r, r->buf, (size_t)size, NULL, err);
	if (rc == 0)
		rc = skip(r, padding(size), err);
	r->buf[size] = '\0';
	return rc;
}

/* One line of a GNU 1.0 sparse map: a decimal number and '\n', at most
 * 20 digits, counted against *LEFT (the entry's stored bytes). */
static int map_number(struct cp_tar_reader *r, uint64_t *left, uint64_t *out, struct cp_error *err)
{
	uint64_t v = 0;
	for (int digits = 0;; digits++) {
		uint8_t c;
		if (*left == 0)
			return corrupt(r, err, "sparse map runs past its entry");
		int rc = take(r, &c, 1, NULL, err);
		if (rc < 0)
			return rc;
		(*left)--;
		if (c == '\n' && digits > 0) {
			*out = v;
			return 0;
		}
		if (c < '0' || c > '9' || digits == 19 || v > (INT64_MAX - 9) / 10)
			return corrupt(r, err, "sparse map: not a number");
		v = v * 10 + (uint64_t)(c - '0');
	}
}

/* The GNU 1.0 sparse map at the start of the entry's STORED bytes: its
 * regions within REALSIZE, checked before they are stored. */
static int read_sparse_map(struct cp_tar_reader *r, uint64_t stored, uint64_t realsize,
                           struct cp_error *err)
{
	uint64_t left = stored, count, sum = 0, end = 0;
	int rc = map_number(r, &left, &count, err);
	if (rc < 0)
		return rc;
	/* One region per CP_TAR_REGION_BYTES of the file, whatever its
	 * holes: SEEK_DATA's regions are at least a block, and so are the
	 * holes between them.  Each region costs at least 4 bytes of map. */
	uint64_t most = realsize / CP_TAR_REGION_BYTES + 2;
	if (count > CP_TAR_MAX_REGIONS || count > most)
		return cp_error_set(
		    err, E2BIG,
		    "sparse map of %llu regions, more than the limit of %llu for a "
		    "file of %llu bytes",
		    (unsigned long long)count,
		    (unsigned long long)(most < CP_TAR_MAX_REGIONS ? most : CP_TAR_MAX_REGIONS),
		    (unsigned long long)realsize);
	if (count > left / 4)
		return corrupt(r, err, "sparse map of %llu regions in %llu bytes",
		               (unsigned long long)count, (unsigned long long)stored);
	free(r->regions);
	r->regions = NULL;
	r->n_regions = 0;
	if (count && !(r->regions = malloc((size_t)count * sizeof(*r->regions))))
		return cp_error_set(err, ENOMEM, "out of memory");
	for (uint64_t i = 0; i < count; i++) {
		uint64_t off, len;
		if ((rc = map_number(r, &left, &off, err)) < 0 ||
		    (rc = map_number(r, &left, &len, err)) < 0)
			return rc;
		/* Sorted, apart, inside the file; an empty region only last,
		 * at the very end (GNU tar's mark for a trailing hole). */
		if (off < end || off > realsize || len > realsize - off ||
		    (len == 0 && (off != realsize || i + 1 != count)))
			return corrupt(r, err, "sparse map: region %llu (%llu+%llu) out of place",
			               (unsigned long long)i, (unsigned long long)off,
			               (unsigned long long)len);
		r->regions[r->n_regions++] = (struct cp_region){off, len};
		end = off + len;
		sum += len;
	}
	uint64_t map = stored - left, pad = padding(map);
	if (pad > left || left - pad != sum)
		return corrupt(
		    r, err, "sparse map: its regions hold %llu bytes, the entry %llu after the map",
		    (unsigned long long)sum, (unsigned long long)(pad > left ? 0 : left - pad));
	if ((rc = skip(r, pad, err)) < 0)
		return rc;
	r->data_left = sum;
	return 0;
}

static enum cp_entry_type type_of(char flag)
{
	switch (flag) {
	case '0':
	case '\0':
	case '7': /* contiguous: a regular file everywhere */
		return CP_ENTRY_FILE;
	case '1':
		return CP_ENTRY_HARDLINK;
	case '2':
		return CP_ENTRY_SYMLINK;
	case '3':
		return CP_ENTRY_CHARDEV;
	case '4':
		return CP_ENTRY_BLOCKDEV;
	case '5':
		return CP_ENTRY_DIR;
	case '6':
		return CP_ENTRY_FIFO;
	default:
		return CP_ENTRY_UNKNOWN;
	}
}

/* Build *OUT from the header in r->hdr and what came before it. */
static int make_entry(struct cp_tar_reader *r, int gnu, uint64_t hsize, struct cp_tar_entry *out,
                      struct cp_error *err)
{
	const uint8_t *h = r->hdr;
	char flag = (char)h[156];
	uint64_t mode;
	if (parse_number(h + 100, 8, &mode) < 0)
		return corrupt(r, err, "bad mode field");
	size_t n = 0;
	if (!gnu && h[345]) {
		n = copy_field(r->ustar_name, h + 345, 155);
		r->ustar_name[n++] = '/';
	}
	copy_field(r->ustar_name + n, h, 100);
	copy_field(r->ustar_link, h + 157, 100);

	memset(out, 0, sizeof(*out));
	out->type = type_of(flag);
	out->mode = (unsigned)mode & 07777;
	out->name = r->long_name ? r->long_name : r->path ? r->path : r->ustar_name;
	if (out->type == CP_ENTRY_SYMLINK || out->type == CP_ENTRY_HARDLINK)
		out->link = r->long_link ? r->long_link : r->linkpath ? r->linkpath : r->ustar_link;
	uint64_t stored = r->have_size ? r->pax_size : hsize;
	if (out->type == CP_ENTRY_UNKNOWN)
		return cp_error_set(err, ENOTSUP, "tar entry type '%c' (0x%02x) is not read",
		                    flag >= 0x20 && flag < 0x7f ? flag : '?', (unsigned char)flag);
	if (out->type != CP_ENTRY_FILE && stored != 0)
		return corrupt(r, err, "a %s with %llu bytes of data",
		               out->type == CP_ENTRY_DIR ? "directory" : "link or device",
		               (unsigned long long)stored);

	r->sparse = 0;
	r->region = 0;
	r->region_done = 0;
	r->dense_off = 0;
	r->n_regions = 0;
	r->skip = padding(stored);
	if (r->sparse_old)
		return cp_error_set(err, ENOTSUP, "GNU sparse format 0.x is not read (1.0 is)");
	if (r->sparse_major >= 0 || r->sparse_minor >= 0) {
		if (r->sparse_major != 1 || r->sparse_minor != 0)
			return cp_error_set(err, ENOTSUP,
			                    "GNU sparse format %d.%d is not read (1.0 is)",
			                    r->sparse_major, r->sparse_minor);
		if (out->type != CP_ENTRY_FILE || !r->sparse_name || !r->have_realsize)
			return corrupt(r, err, "GNU 1.0 sparse header without a name or size");
		out->name = r->sparse_name;
		int rc = read_sparse_map(r, stored, r->realsize, err);
		if (rc < 0) {
			char shown[300];
			cp_error_prefix(err,
			                "entry '%s': ", cp_escape(out->name, shown, sizeof(shown)));
			return rc;
		}
		r->sparse = 1;
		out->sparse = 1;
		out->size = r->realsize;
		out->stored = r->data_left;
		out->regions = r->regions;
		out->n_regions = r->n_regions;
		return 0;
	}
	r->data_left = stored;
	out->size = out->stored = stored;
	return 0;
}

int cp_tar_next(struct cp_tar_reader *r, struct cp_tar_entry *out, struct cp_error *err)
{
	int rc;
	if (r->ended)
		return 0;
	if ((rc = skip(r, r->data_left + r->skip, err)) < 0)
		return rc;
	r->data_left = r->skip = 0;
	clear_pending(r);
	for (;;) {
		size_t got;
		if ((rc = take(r, r->hdr, BLOCK, &got, err)) < 0)
			return rc;
		if (got == 0 && !r->have_pax && !r->long_name && !r->long_link) {
			r->ended = 1; /* the end of the stream between entries */
			return 0;
		}
		if (got < BLOCK)
			return corrupt(r, err, "truncated");
		if (is_zero_block(r->hdr)) {
			if (r->have_pax || r->long_name || r->long_link)
				return corrupt(r, err, "the archive ends after an extended header");
			r->ended = 1;
			return 0;
		}
		if (!checksum_ok(r->hdr))
			return corrupt(r, err, "bad header checksum");
		int posix = memcmp(r->hdr + 257, "ustar\0", 6) == 0;
		int gnu = memcmp(r->hdr + 257, "ustar  \0", 8) == 0;
		if (!posix && !gnu)
			return corrupt(r, err, "not a POSIX or GNU tar header");
		r->seen_header = 1;
		uint64_t size;
		if (parse_number(r->hdr + 124, 12, &size) < 0 || size > INT64_MAX)
			return corrupt(r, err, "bad size field");
		char flag = (char)r->hdr[156];
		if (flag == 'x') {
			if (r->have_pax)
				return corrupt(r, err, "two pax headers for one entry");
			if ((rc = read_meta(r, size, CP_TAR_MAX_PAX, "pax header", err)) < 0 ||
			    (rc = parse_pax(r, (size_t)size, err)) < 0)
				return rc;
			r->have_pax = 1;
			continue;
		}
		if (flag == 'L' || flag == 'K') {
			char **dst = flag == 'L' ? &r->long_name : &r->long_link;
			if (*dst)
				return corrupt(r, err, "two GNU long names for one entry");
			if ((rc = read_meta(r, size, CP_TAR_MAX_LONGNAME, "GNU long name", err)) <
			    0)
				return rc;
			/* The name ends at its NUL. */
			size_t len = strnlen((const char *)r->buf, (size_t)size);
			if (!(*dst = strndup((const char *)r->buf, len)))
				return cp_error_set(err, ENOMEM, "out of memory");
			continue;
		}
		if (flag == 'g')
			return cp_error_set(err, ENOTSUP, "pax global headers are not read");
		if ((rc = make_entry(r, gnu, size, out, err)) < 0)
			return rc;
		return 1;
	}
}

int cp_tar_data(struct cp_tar_reader *r, const void **buf, size_t *len, uint64_t *off,
                struct cp_error *err)
{
	if (r->data_left == 0)
		return 0;
	int rc = fill(r, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return corrupt(r, err, "truncated");
	uint64_t n = r->blk_len - r->blk_pos;
	if (n > r->data_left)
		n = r->data_left;
	if (r->sparse) {
		while (r->region < r->n_regions && r->region_done == r->regions[r->region].len) {
			r->region++;
			r->region_done = 0;
		}
		/* data_left is the sum of what the regions still hold. */
		const struct cp_region *g = &r->regions[r->region];
		if (n > g->len - r->region_done)
			n = g->len - r->region_done;
		*off = g->off + r->region_done;
		r->region_done += n;
	} else {
		*off = r->dense_off;
		r->dense_off += n;
	}
	*buf = r->blk + r->blk_pos;
	*len = (size_t)n;
	r->blk_pos += (size_t)n;
	r->consumed += n;
	r->data_left -= n;
	return 1;
}
