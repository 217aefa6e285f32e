/*
 * Private to the bundle writer (bundle_write.c and bundle_file.c): the
 * writer's state and the entry steps the regular-file entries share with
 * the others.  See include/corepack/bundle_write.h for the public
 * interface.
 */
#ifndef COREPACK_BUNDLE_WRITE_PRIVATE_H
#define COREPACK_BUNDLE_WRITE_PRIVATE_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "corepack/bundle_write.h"
#include "corepack/error.h"
#include "outfile.h"
#include "read_pipe.h"
#include "zstd_sink.h"

struct cp_bundle_writer {
	struct archive *a;
	struct cp_outfile out;
	char *top;
	/* An entry failed after its header was written: the archive is no
	 * longer well-formed and nothing more may be added or committed. */
	int broken;
	int discard; /* drop all output: the writer is being given up */
	time_t now;  /* mtime of buffer entries */
	/* Reads and digests files on threads of its own; made when first
	 * needed. */
	struct cp_read_pipe *pipe;
	/* .tar.zst is compressed here, not by libarchive's filter, whose
	 * multi-threaded jobs cannot be sized: see zstd_sink.c. */
	struct cp_zstd_sink zstd;
	/* libarchive 3.6.2 ignores the close callback's result: ending the
	 * frame records its failure here for commit to see. */
	int close_errno;
	char close_msg[128];

	const volatile sig_atomic_t *cancel;
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	uint64_t progress_total;
	uint64_t done;
	uint64_t last_progress_ns;
};

/* -EINTR (and the error) once the caller's cancel flag is set. */
int cp_bw_check_cancel(struct cp_bundle_writer *w, struct cp_error *err);
/* Count N bytes done, and tell the progress callback now and then. */
void cp_bw_add_progress(struct cp_bundle_writer *w, uint64_t n);
/* The checks every add does, then a new entry for NAME in *OUT.  "." (the
 * top directory itself) is a name only for directories. */
int cp_bw_start_entry(struct cp_bundle_writer *w, const char *name, unsigned type, unsigned perm,
                      struct archive_entry **out, struct cp_error *err);
/* The entry's header, its data (any failure leaves a partial entry and
 * breaks the writer), and its end. */
int cp_bw_write_header(struct cp_bundle_writer *w, struct archive_entry *e, const char *name,
                       struct cp_error *err);
int cp_bw_write_data(struct cp_bundle_writer *w, const void *p, size_t n, const char *name,
                     struct cp_error *err);
int cp_bw_finish_entry(struct cp_bundle_writer *w, const char *name, struct cp_error *err);

#endif
