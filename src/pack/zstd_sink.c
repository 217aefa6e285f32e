/*
 * The zstd sink of the bundle writer (zstd_sink.h): the tar stream
 * compressed through libzstd directly, multi-threaded.  libarchive 3.6.2's
 * filter takes a level and a thread count only, and its multi-threaded
 * jobs (8 MiB at level 3, several in flight) put corepack's peak RSS near
 * 90 MiB.  4 MiB jobs keep it near 40 MiB (2 threads) at the same ratio
 * within 0.02%; 2 MiB jobs halve that again but re-read each job's overlap
 * window often enough to cost ~10% more compression time (measured on the
 * benchmark core).  At levels up to 5 (the fast, dfast and greedy
 * strategies) each job reloads an eighth of the window (2 MiB at level 3)
 * from the job before, libzstd's default overlap: 1/32 of the input with
 * its 8 MiB jobs (bsdtar's, which run the same instruction count in
 * libzstd under callgrind as a sixteenth of the window with 4 MiB jobs),
 * 1/16 with ours.  There the jobs start afresh instead (overlapLog 1, no
 * overlap): under callgrind, 1.4% fewer instructions than with a sixteenth
 * of the window on 128 MiB of the benchmark's core, 2.7% fewer than with
 * libzstd's default, for a bundle 0.010% larger (828.29 MB against
 * 828.21).  The frame carries a content checksum, as the zstd tool's does.
 *
 * The compressed stream is written 1 MiB at a time rather than in
 * libzstd's 128 KiB blocks (ZSTD_CStreamOutSize()): writing the benchmark's
 * 790 MiB bundle took 0.95-1.0 s of system time in write() that way and
 * 0.42-0.44 s in 1 MiB writes (the kernel's page cache takes large writes
 * in large folios), and the writeback calls of outfile.c, made per 8 MiB
 * written, cost half as much (perf trace, warm cache).  Where the kernel
 * has transparent huge pages for the buffers (huge_buf.h), the temporary
 * file is written with direct writes instead, from a thread of their own
 * (write_behind.c): no copy into the page cache, no writeback to ask for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "huge_buf.h"
#include "zstd_sink.h"

#define ZSTD_JOB_SIZE (4u << 20)
/* Compressed bytes are written this many at a time (the last write of a
 * frame excepted). */
#define ZSTD_OUT_SIZE (1u << 20)

int cp_zstd_sink_init(struct cp_zstd_sink *z, const struct cp_bundle_opts *opts, const char *output,
                      struct cp_error *err)
{
	long threads = opts->threads;
	if (threads <= 0)
		threads = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	if (threads > 256)
		threads = 256;
	int level = opts->level_set ? opts->level : 3;
	z->zc = ZSTD_createCCtx();
	z->zout_size = ZSTD_OUT_SIZE;
	if (!z->zc)
		return cp_error_set(err, ENOMEM, "cannot write '%s': %s", output, strerror(ENOMEM));
	size_t e = ZSTD_CCtx_setParameter(z->zc, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(e))
		e = ZSTD_CCtx_setParameter(z->zc, ZSTD_c_checksumFlag, 1);
	if (ZSTD_isError(e))
		return cp_error_set(err, EINVAL, "cannot write '%s': zstd level %d: %s", output,
		                    level, ZSTD_getErrorName(e));
	/* A libzstd built without threads refuses workers: then one thread. */
	if (!ZSTD_isError(ZSTD_CCtx_setParameter(z->zc, ZSTD_c_nbWorkers, (int)threads))) {
		ZSTD_CCtx_setParameter(z->zc, ZSTD_c_jobSize, ZSTD_JOB_SIZE);
		if (level <= 5)
			ZSTD_CCtx_setParameter(z->zc, ZSTD_c_overlapLog, 1);
	}
	return 0;
}

int cp_zstd_sink_feed(struct cp_zstd_sink *z, struct cp_outfile *out, const void *in, size_t len,
                      int end, const char **zerr)
{
	if (!z->wb) {
		/* Where the buffers can be huge pages (huge_buf.h), the
		 * temporary file is written directly, by a thread of its own
		 * (write_behind.c); anything else here, as it comes. */
		int direct = cp_huge_pages_usable() && cp_outfile_direct_io(out);
		int r = cp_write_behind_new(out, z->zout_size, direct, &z->wb);
		if (r < 0) {
			*zerr = NULL;
			return r;
		}
		z->zout = cp_write_behind_buf(z->wb);
	}
	ZSTD_inBuffer ib = {in, len, 0};
	for (;;) {
		ZSTD_outBuffer ob = {z->zout, z->zout_size, z->zout_pos};
		size_t left =
		    ZSTD_compressStream2(z->zc, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left)) {
			*zerr = ZSTD_getErrorName(left);
			return -EIO;
		}
		z->zout_pos = ob.pos;
		int done = end ? left == 0 : ib.pos == ib.size;
		if (z->zout_pos == z->zout_size || (end && done)) {
			int r = cp_write_behind_submit(z->wb, z->zout_pos);
			if (r == 0 && end && done)
				r = cp_write_behind_flush(z->wb);
			z->zout = cp_write_behind_buf(z->wb);
			z->zout_pos = 0;
			if (r < 0) {
				*zerr = NULL;
				return r;
			}
		}
		if (done)
			return 0;
	}
}

void cp_zstd_sink_done(struct cp_zstd_sink *z)
{
	ZSTD_freeCCtx(z->zc);
	cp_write_behind_free(z->wb);
	*z = (struct cp_zstd_sink){0};
}
