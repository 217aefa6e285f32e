/*
 * The read-ahead (read_ahead.h): a ring of slots the reading thread fills
 * in file order and the caller empties in the same order.  Slots
 * [head, head + count) hold data; while the caller holds the one it was
 * last given (slots[head], still counted), that slot is not reused: it is
 * released when the caller asks for the next, since libarchive reads its
 * last buffer until then.
 *
 * Measured on the benchmark's bundle (bench/run.sh, 790 MiB of zstd, cold
 * cache): coreunpack reading in its decompressing thread took 1.01-1.02x
 * the time of `zstd -d`, which reads in a thread of its own.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "corepack/thread.h"
#include "read_ahead.h"

struct slot {
	uint8_t *buf;
	ssize_t len; /* bytes, 0 at the end, -errno */
};

struct cp_read_ahead {
	pthread_mutex_t mu;
	pthread_cond_t cv_filled, cv_free;
	pthread_t thread;
	int fd, threaded, quit;
	struct slot *slots;
	size_t n_slots, slot_size;
	size_t head, count; /* filled slots, in file order */
	int holding;        /* the caller holds slots[head] (given, not yet released) */
	int done;           /* the thread stored the end or an error */
};

static ssize_t read_once(int fd, uint8_t *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

static void *read_thread(void *arg)
{
	struct cp_read_ahead *ra = arg;
	pthread_mutex_lock(&ra->mu);
	while (!ra->quit && !ra->done) {
		if (ra->count == ra->n_slots) {
			pthread_cond_wait(&ra->cv_free, &ra->mu);
			continue;
		}
		struct slot *sl = &ra->slots[(ra->head + ra->count) % ra->n_slots];
		pthread_mutex_unlock(&ra->mu);
		ssize_t n = read_once(ra->fd, sl->buf, ra->slot_size);
		pthread_mutex_lock(&ra->mu);
		sl->len = n;
		ra->count++;
		ra->done = n <= 0;
		pthread_cond_signal(&ra->cv_filled);
	}
	pthread_mutex_unlock(&ra->mu);
	return NULL;
}

int cp_read_ahead_new(int fd, size_t n_slots, size_t slot_size, struct cp_read_ahead **out)
{
	if (n_slots < 2 || slot_size == 0 || slot_size > SSIZE_MAX)
		return -EINVAL;
	struct cp_read_ahead *ra = calloc(1, sizeof(*ra));
	if (!ra)
		return -ENOMEM;
	pthread_mutex_init(&ra->mu, NULL);
	pthread_cond_init(&ra->cv_filled, NULL);
	pthread_cond_init(&ra->cv_free, NULL);
	ra->fd = fd;
	ra->n_slots = n_slots;
	ra->slot_size = slot_size;
	int ok = (ra->slots = calloc(n_slots, sizeof(*ra->slots))) != NULL;
	for (size_t i = 0; ok && i < n_slots; i++)
		ok = (ra->slots[i].buf = malloc(slot_size)) != NULL;
	if (!ok) {
		cp_read_ahead_free(ra);
		return -ENOMEM;
	}
	/* The thread takes no signals (thread.h). */
	ra->threaded = cp_thread_start(&ra->thread, read_thread, ra) == 0;
	*out = ra;
	return 0;
}

void cp_read_ahead_free(struct cp_read_ahead *ra)
{
	if (!ra)
		return;
	if (ra->threaded) {
		pthread_mutex_lock(&ra->mu);
		ra->quit = 1;
		pthread_cond_signal(&ra->cv_free);
		pthread_mutex_unlock(&ra->mu);
		pthread_join(ra->thread, NULL);
	}
	for (size_t i = 0; ra->slots && i < ra->n_slots; i++)
		free(ra->slots[i].buf);
	free(ra->slots);
	pthread_mutex_destroy(&ra->mu);
	pthread_cond_destroy(&ra->cv_filled);
	pthread_cond_destroy(&ra->cv_free);
	free(ra);
}

ssize_t cp_read_ahead_next(struct cp_read_ahead *ra, const void **buf)
{
	if (!ra->threaded) {
		/* One slot, read in the caller's thread; an end or an error
		 * stays. */
		struct slot *sl = &ra->slots[0];
		if (!ra->done) {
			sl->len = read_once(ra->fd, sl->buf, ra->slot_size);
			ra->done = sl->len <= 0;
		}
		*buf = sl->buf;
		return sl->len;
	}
	pthread_mutex_lock(&ra->mu);
	if (ra->holding) {
		struct slot *held = &ra->slots[ra->head];
		if (held->len <= 0) {
			/* The end or the error: it stays the answer. */
			pthread_mutex_unlock(&ra->mu);
			*buf = held->buf;
			return held->len;
		}
		ra->head = (ra->head + 1) % ra->n_slots;
		ra->count--;
		ra->holding = 0;
		pthread_cond_signal(&ra->cv_free);
	}
	while (ra->count == 0)
		pthread_cond_wait(&ra->cv_filled, &ra->mu);
	ra->holding = 1;
	struct slot *sl = &ra->slots[ra->head];
	pthread_mutex_unlock(&ra->mu);
	*buf = sl->buf;
	return sl->len;
}
