/*
 * Write-behind (write_behind.h): a ring of CP_WRITE_BEHIND_BUFS buffers in
 * one allocation and a writer thread.
 *
 * Counts run from the start: written <= submitted, and the buffer to fill
 * is number SUBMITTED (modulo the ring), free once submitted - written <
 * CP_WRITE_BEHIND_BUFS.  The caller alone moves SUBMITTED, the thread
 * WRITTEN, both under the mutex; a buffer's bytes belong to the caller
 * until submitted and to the thread until written.
 *
 * Why a thread: the bundle's temporary file is written with O_DIRECT
 * (outfile.c), and a direct write returns only when the device has the
 * data, 2-2.5 ms per 1 MiB on the benchmark's disk (dd oflag=direct,
 * 400-470 MB/s).  Written in the compressing thread (from buffers in
 * 4 KiB pages), that held libzstd's workers up: packing the benchmark's
 * core took 5.42-6.16 s against 4.79-5.55 s through the page cache (four
 * alternated warm rounds).  io_uring (liburing) would queue the writes
 * without a thread, but containers and kernel.io_uring_disabled often
 * turn it off; a thread works everywhere.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "corepack/thread.h"
#include "huge_buf.h"
#include "write_behind.h"

struct cp_write_behind {
	struct cp_outfile *out;
	struct cp_huge_buf mem;
	uint8_t *bufs; /* CP_WRITE_BEHIND_BUFS of BUF_SIZE, back to back, in mem */
	size_t buf_size;
	size_t len[CP_WRITE_BEHIND_BUFS];
	uint64_t submitted, written;
	int err;  /* the first write's -errno */
	int quit; /* free(): stop */
	int threaded;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv_work; /* the thread: a buffer queued, or quit */
	pthread_cond_t cv_done; /* the caller: a buffer written */
};

static uint8_t *buf_at(const struct cp_write_behind *wb, uint64_t i)
{
	return wb->bufs + (size_t)(i % CP_WRITE_BEHIND_BUFS) * wb->buf_size;
}

static void *writer(void *arg)
{
	struct cp_write_behind *wb = arg;

	pthread_mutex_lock(&wb->mu);
	for (;;) {
		while (!wb->quit && wb->written == wb->submitted)
			pthread_cond_wait(&wb->cv_work, &wb->mu);
		if (wb->quit)
			break;
		uint64_t i = wb->written;
		int r = 0;
		if (!wb->err) {
			pthread_mutex_unlock(&wb->mu);
			r = cp_outfile_write(wb->out, buf_at(wb, i),
			                     wb->len[i % CP_WRITE_BEHIND_BUFS]);
			pthread_mutex_lock(&wb->mu);
		}
		if (r < 0 && !wb->err)
			wb->err = r;
		wb->written++;
		pthread_cond_signal(&wb->cv_done);
	}
	pthread_mutex_unlock(&wb->mu);
	return NULL;
}

int cp_write_behind_new(struct cp_outfile *out, size_t buf_size, int threaded,
                        struct cp_write_behind **wbp)
{
	*wbp = NULL;
	if (buf_size == 0 || buf_size % CP_WRITE_BEHIND_ALIGN)
		return -EINVAL;
	struct cp_write_behind *wb = calloc(1, sizeof(*wb));
	if (!wb)
		return -ENOMEM;
	wb->out = out;
	wb->buf_size = buf_size;
	if (buf_size > SIZE_MAX / CP_WRITE_BEHIND_BUFS ||
	    cp_huge_buf_alloc(&wb->mem, buf_size * CP_WRITE_BEHIND_BUFS) < 0) {
		free(wb);
		return -ENOMEM;
	}
	wb->bufs = wb->mem.p;
	pthread_mutex_init(&wb->mu, NULL);
	pthread_cond_init(&wb->cv_work, NULL);
	pthread_cond_init(&wb->cv_done, NULL);
	/* The thread takes no signals (thread.h); without it, the caller's
	 * thread writes. */
	wb->threaded = threaded && cp_thread_start(&wb->thread, writer, wb) == 0;
	*wbp = wb;
	return 0;
}

uint8_t *cp_write_behind_buf(struct cp_write_behind *wb)
{
	return buf_at(wb, wb->submitted);
}

int cp_write_behind_submit(struct cp_write_behind *wb, size_t len)
{
	if (!wb->threaded) {
		if (!wb->err && len > 0)
			wb->err = cp_outfile_write(wb->out, buf_at(wb, wb->submitted), len);
		return wb->err;
	}
	pthread_mutex_lock(&wb->mu);
	wb->len[wb->submitted % CP_WRITE_BEHIND_BUFS] = len;
	wb->submitted++;
	pthread_cond_signal(&wb->cv_work);
	while (wb->submitted - wb->written >= CP_WRITE_BEHIND_BUFS)
		pthread_cond_wait(&wb->cv_done, &wb->mu);
	int r = wb->err;
	pthread_mutex_unlock(&wb->mu);
	return r;
}

int cp_write_behind_flush(struct cp_write_behind *wb)
{
	if (!wb->threaded)
		return wb->err;
	pthread_mutex_lock(&wb->mu);
	while (wb->written < wb->submitted)
		pthread_cond_wait(&wb->cv_done, &wb->mu);
	int r = wb->err;
	pthread_mutex_unlock(&wb->mu);
	return r;
}

void cp_write_behind_free(struct cp_write_behind *wb)
{
	if (!wb)
		return;
	if (wb->threaded) {
		pthread_mutex_lock(&wb->mu);
		wb->quit = 1;
		pthread_cond_signal(&wb->cv_work);
		pthread_mutex_unlock(&wb->mu);
		pthread_join(wb->thread, NULL);
	}
	pthread_mutex_destroy(&wb->mu);
	pthread_cond_destroy(&wb->cv_work);
	pthread_cond_destroy(&wb->cv_done);
	cp_huge_buf_free(&wb->mem);
	free(wb);
}
