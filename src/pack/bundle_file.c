/*
 * Regular files as bundle entries, for the writer (bundle_write.c): probing
 * a file (size, data regions) and adding it by name or descriptor.
 *
 * Files are read once, in 1 MiB blocks, by threads that keep reads in
 * flight ahead of the compressor and digest each block on the way
 * (read_pipe.h); large files bypass the page cache where it holds none of
 * them (file_reader.h), and the bundle is written back as it grows
 * (outfile.c), so packing a core neither fills the machine's page cache
 * nor leaves it hundreds of megabytes of dirty pages.  Holes found with
 * SEEK_DATA/SEEK_HOLE become a pax (GNU 1.0) sparse map; libarchive's pax
 * writer then wants the *logical* stream, holes included as zeros, and
 * drops the hole bytes itself.
 *
 * Choices worth knowing:
 *  - A file that is all hole keeps its last byte as data: libarchive
 *    3.6.2's reader returns a sparse entry without data as empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bundle_write_private.h"
#include "corepack/bundle_write.h"
#include "corepack/digest.h"
#include "corepack/io.h"
#include "file_reader.h"
#include "read_pipe.h"

#define BLOCK_SIZE (1024 * 1024)
/* Blocks read ahead of the compressor: enough to cover a zstd job's
 * worth of input while the compressor waits for its workers. */
#define READ_SLOTS 8
/* Files with this much data bypass the page cache where it holds none of
 * it (file_reader.h); smaller ones are read the ordinary way. */
#define DIRECT_MIN (64ULL << 20)

/* Holes are fed to libarchive from here, so nothing is allocated per
 * hole however large. */
static const uint8_t zero_block[64 * 1024];
/* A hole: zeros into libarchive, which stores none of them but must see
 * them to keep its place in the sparse map. */
static int feed_hole(struct cp_bundle_writer *w, uint64_t len, const char *name,
                     struct cp_error *err)
{
	while (len > 0) {
		int r = cp_bw_check_cancel(w, err);
		if (r < 0) {
			w->broken = 1;
			return r;
		}
		uint64_t step = len < BLOCK_SIZE ? len : BLOCK_SIZE;
		for (uint64_t left = step; left > 0;) {
			size_t n = left < sizeof(zero_block) ? (size_t)left : sizeof(zero_block);
			if ((r = cp_bw_write_data(w, zero_block, n, name, err)) < 0)
				return r;
			left -= n;
		}
		len -= step;
		cp_bw_add_progress(w, step);
	}
	return 0;
}

/* The file's data and holes, in order, from the read pipe into libarchive. */
static int feed_file(struct cp_bundle_writer *w, const char *host_path, const char *name,
                     struct cp_error *err)
{
	for (;;) {
		int r = cp_bw_check_cancel(w, err);
		if (r < 0) {
			w->broken = 1;
			return r;
		}
		struct cp_piece pc;
		cp_read_pipe_next(w->pipe, &pc);
		switch (pc.kind) {
		case CP_PIECE_END:
			return 0;
		case CP_PIECE_ERROR:
			w->broken = 1;
			if (pc.err == 0)
				return cp_error_set(err, EIO,
				                    "cannot read '%s': file shrank while being "
				                    "packed (%llu bytes read of %llu)",
				                    host_path, (unsigned long long)pc.off,
				                    (unsigned long long)(pc.off + pc.len));
			return cp_error_set(err, pc.err, "cannot read '%s': %s", host_path,
			                    strerror(pc.err));
		case CP_PIECE_HOLE:
			if ((r = feed_hole(w, pc.len, name, err)) < 0)
				return r;
			break;
		case CP_PIECE_DATA:
			if ((r = cp_bw_write_data(w, pc.data, (size_t)pc.len, name, err)) < 0)
				return r;
			cp_bw_add_progress(w, pc.len);
			break;
		}
	}
}

/* The data regions of FD (SIZE bytes) as the entry will store them, and
 * whether that is with holes. */
static int file_regions(int fd, uint64_t size, struct cp_region **regions, size_t *n_regions,
                        uint64_t *data_size, int *sparse)
{
	int r = cp_data_regions(fd, size, regions, n_regions);
	if (r < 0)
		return r;
	/* archive_read_data() of libarchive 3.6.2 returns nothing for a
	 * sparse entry without data (GNU tar's own such entries too). */
	if (*n_regions == 0 && size > 0) {
		free(*regions);
		if (!(*regions = malloc(sizeof(**regions))))
			return -ENOMEM;
		(*regions)[0] = (struct cp_region){size - 1, 1};
		*n_regions = 1;
	}
	*data_size = 0;
	for (size_t i = 0; i < *n_regions; i++)
		*data_size += (*regions)[i].len;
	*sparse = *data_size < size;
	return 0;
}

/* HOST_PATH opened as a regular file, or the error for it. */
static int open_source(const char *host_path, struct stat *st, struct cp_error *err)
{
	/* A FIFO put where a file was must be refused, not hang in open(). */
	int fd = cp_open_regular(host_path, 0, st);
	if (fd == -EINVAL)
		return cp_error_set(err, EINVAL, "cannot pack '%s': not a regular file", host_path);
	if (fd < 0)
		return cp_error_set(err, -fd, "cannot open '%s': %s", host_path, strerror(-fd));
	return fd;
}

/* FD's fstat(), which must be a regular file, or the error for it. */
static int stat_source(int fd, const char *label, struct stat *st, struct cp_error *err)
{
	if (fstat(fd, st) < 0)
		return cp_error_set(err, errno, "cannot read '%s': %s", label, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return cp_error_set(err, EINVAL, "cannot pack '%s': not a regular file", label);
	return 0;
}

int cp_bundle_probe_fd(int fd, const char *label, struct cp_file_digest *out, struct cp_error *err)
{
	struct stat st;
	struct cp_region *regions = NULL;
	size_t n_regions = 0;
	int r = stat_source(fd, label, &st, err);
	if (r < 0)
		return r;
	struct cp_file_digest d = {.size = (uint64_t)st.st_size};
	r = file_regions(fd, d.size, &regions, &n_regions, &d.data_size, &d.sparse);
	free(regions);
	if (r < 0)
		return cp_error_set(err, -r, "cannot read '%s': %s", label, strerror(-r));
	*out = d;
	return 0;
}

int cp_bundle_probe_file(const char *host_path, struct cp_file_digest *out, struct cp_error *err)
{
	struct stat st;
	int fd = open_source(host_path, &st, err);
	if (fd < 0)
		return fd;
	int r = cp_bundle_probe_fd(fd, host_path, out, err);
	close(fd);
	return r;
}

/* Add the regular file open as FD (not closed here), HOST_PATH naming it
 * in messages; with PROBED, it must still be what was probed. */
static int add_fd(struct cp_bundle_writer *w, const char *name, int fd, const char *host_path,
                  unsigned perm, const struct cp_file_digest *probed, struct cp_file_digest *digest,
                  struct cp_error *err)
{
	struct stat st;
	int r = stat_source(fd, host_path, &st, err);
	if (r < 0)
		return r;
	struct archive_entry *e;
	if ((r = cp_bw_start_entry(w, name, AE_IFREG, perm, &e, err)) < 0)
		return r;

	struct cp_region *regions = NULL;
	size_t n_regions = 0;
	struct cp_file_reader rd = {.fd = -1, .dfd = -1};
	int reading = 0; /* the read pipe has the file */
	uint64_t size = (uint64_t)st.st_size, data_size;
	int sparse;
	/* Read once, front to back: ask for read-ahead. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((r = file_regions(fd, size, &regions, &n_regions, &data_size, &sparse)) < 0) {
		r = cp_error_set(err, -r, "cannot read '%s': %s", host_path, strerror(-r));
		goto out;
	}
	/* The manifest, written first, already says what this entry is. */
	if (probed && (probed->size != size || probed->sparse != sparse)) {
		r = cp_error_set(err, ESTALE,
		                 "cannot pack '%s': it changed while being packed (%llu bytes%s, "
		                 "was %llu%s)",
		                 host_path, (unsigned long long)size, sparse ? " with holes" : "",
		                 (unsigned long long)probed->size,
		                 probed->sparse ? " with holes" : "");
		goto out;
	}

	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
	if (sparse) {
		/* The size must be set first: libarchive drops regions that
		 * end beyond it. */
		for (size_t i = 0; i < n_regions; i++)
			archive_entry_sparse_add_entry(e, (la_int64_t)regions[i].off,
			                               (la_int64_t)regions[i].len);
		/* As GNU tar does, a trailing hole is closed by an empty
		 * region at the end of the file. */
		if (regions[n_regions - 1].off + regions[n_regions - 1].len < size)
			archive_entry_sparse_add_entry(e, (la_int64_t)size, 0);
	}

	if ((r = cp_bw_write_header(w, e, name, err)) < 0)
		goto out;
	cp_file_reader_init(&rd, fd, size, data_size >= DIRECT_MIN);

	if (!w->pipe && (r = cp_read_pipe_new(READ_SLOTS, BLOCK_SIZE, &w->pipe)) < 0) {
		r = cp_error_set(err, -r, "cannot read '%s': %s", host_path, strerror(-r));
		goto out;
	}
	/* Without DIGEST nothing is hashed; with PROBED, by its kind's hash. */
	int xxh3 = probed && probed->xxh3;
	enum cp_read_hash hash = CP_READ_HASH_NONE;
	if (digest && xxh3)
		hash = sparse ? CP_READ_HASH_SPARSE_XXH3 : CP_READ_HASH_XXH3;
	else if (digest)
		hash = sparse ? CP_READ_HASH_SPARSE : CP_READ_HASH_PLAIN;
	cp_read_pipe_begin(w->pipe, &rd, regions, n_regions, size, hash);
	reading = 1;
	if ((r = feed_file(w, host_path, name, err)) < 0)
		goto out;
	reading = 0;
	uint8_t value[CP_DIGEST_MAX] = {0};
	cp_read_pipe_end(w->pipe, value);

	/* A file cut short inside a hole went unnoticed by the reads. */
	struct stat st2;
	if (fstat(fd, &st2) == 0 && (uint64_t)st2.st_size < size) {
		w->broken = 1;
		r = cp_error_set(err, EIO, "cannot read '%s': file shrank while being packed",
		                 host_path);
		goto out;
	}
	if ((r = cp_bw_finish_entry(w, name, err)) < 0)
		goto out;

	if (digest) {
		digest->size = size;
		digest->data_size = data_size;
		digest->sparse = sparse;
		digest->xxh3 = xxh3;
		memcpy(digest->digest, value, sizeof(value));
	}

out:
	/* The pipe's thread lets go of the reader before it is undone. */
	if (reading)
		cp_read_pipe_end(w->pipe, NULL);
	cp_file_reader_done(&rd);
	archive_entry_free(e);
	free(regions);
	return r;
}

int cp_bundle_add_file(struct cp_bundle_writer *w, const char *name, const char *host_path,
                       unsigned perm, struct cp_file_digest *digest, struct cp_error *err)
{
	return cp_bundle_add_file_probed(w, name, host_path, perm, NULL, digest, err);
}

int cp_bundle_add_file_probed(struct cp_bundle_writer *w, const char *name, const char *host_path,
                              unsigned perm, const struct cp_file_digest *probed,
                              struct cp_file_digest *digest, struct cp_error *err)
{
	struct stat st;
	int fd = open_source(host_path, &st, err);
	if (fd < 0)
		return fd;
	int r = add_fd(w, name, fd, host_path, perm, probed, digest, err);
	close(fd);
	return r;
}

int cp_bundle_add_fd(struct cp_bundle_writer *w, const char *name, int fd, const char *label,
                     unsigned perm, struct cp_file_digest *digest, struct cp_error *err)
{
	return add_fd(w, name, fd, label, perm, NULL, digest, err);
}

int cp_bundle_add_fd_probed(struct cp_bundle_writer *w, const char *name, int fd, const char *label,
                            unsigned perm, const struct cp_file_digest *probed,
                            struct cp_file_digest *digest, struct cp_error *err)
{
	return add_fd(w, name, fd, label, perm, probed, digest, err);
}
