/*
 * The hash pipe: one worker thread, a bounded queue of blocks and holes,
 * and round-robin read slots; see hash_pipe.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/digest.h"
#include "corepack/sha256.h"
#include "hash_pipe.h"

#define QUEUE_LEN 64

struct item {
	int slot;       /* -1 for a hole */
	size_t len;     /* bytes in the slot */
	uint64_t zeros; /* a hole's length */
};

struct cp_hash_pipe {
	pthread_t thread;
	int threaded;
	int inited; /* mu and cv initialised */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item q[QUEUE_LEN];
	size_t head, count;
	int stop;
	uint8_t **slots;
	int *busy; /* slot queued and not yet digested */
	size_t n_slots, next;
	/* The current file's digest, touched by the worker only while items
	 * are queued and by the caller only when the queue is empty. */
	int sparse;
	struct cp_sha256 plain;
	struct cp_sparse_digest *sd;
};

static void digest_item(struct cp_hash_pipe *p, const struct item *it)
{
	if (it->slot >= 0) {
		if (p->sparse)
			cp_sparse_digest_data(p->sd, p->slots[it->slot], it->len);
		else
			cp_sha256_update(&p->plain, p->slots[it->slot], it->len);
		return;
	}
	if (p->sparse) {
		cp_sparse_digest_zeros(p->sd, it->zeros);
		return;
	}
	static const uint8_t zeros[65536];
	for (uint64_t left = it->zeros; left > 0;) {
		size_t n = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
		cp_sha256_update(&p->plain, zeros, n);
		left -= n;
	}
}

static void *worker(void *arg)
{
	struct cp_hash_pipe *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->count == 0 && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		/* Stopping drops whatever is still queued: the file is being
		 * given up. */
		if (p->stop)
			break;
		struct item it = p->q[p->head];
		pthread_mutex_unlock(&p->mu);
		digest_item(p, &it);
		pthread_mutex_lock(&p->mu);
		p->head = (p->head + 1) % QUEUE_LEN;
		p->count--;
		if (it.slot >= 0)
			p->busy[it.slot] = 0;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int cp_hash_pipe_new(size_t n_slots, size_t slot_size, struct cp_hash_pipe **out)
{
	struct cp_hash_pipe *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n_slots = n_slots;
	p->slots = calloc(n_slots, sizeof(*p->slots));
	p->busy = calloc(n_slots, sizeof(*p->busy));
	p->sd = malloc(sizeof(*p->sd));
	int ok = p->slots && p->busy && p->sd;
	for (size_t i = 0; ok && i < n_slots; i++)
		ok = (p->slots[i] = aligned_alloc(4096, slot_size)) != NULL;
	if (!ok) {
		cp_hash_pipe_free(p);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->inited = 1;
	/* The worker takes no signals: the front end's handlers run in the
	 * main thread, which checks the cancel flag. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	p->threaded = pthread_create(&p->thread, NULL, worker, p) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	*out = p;
	return 0;
}

void cp_hash_pipe_free(struct cp_hash_pipe *p)
{
	if (!p)
		return;
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	if (p->inited) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
	}
	for (size_t i = 0; p->slots && i < p->n_slots; i++)
		free(p->slots[i]);
	free(p->slots);
	free(p->busy);
	free(p->sd);
	free(p);
}

static void wait_idle(struct cp_hash_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->count > 0)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void cp_hash_pipe_begin(struct cp_hash_pipe *p, int sparse)
{
	wait_idle(p);
	p->sparse = sparse;
	if (sparse)
		cp_sparse_digest_init(p->sd);
	else
		cp_sha256_init(&p->plain);
}

uint8_t *cp_hash_pipe_slot(struct cp_hash_pipe *p)
{
	size_t s = p->next;
	pthread_mutex_lock(&p->mu);
	while (p->busy[s])
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	return p->slots[s];
}

static void submit(struct cp_hash_pipe *p, struct item it)
{
	if (!p->threaded) {
		digest_item(p, &it);
		return;
	}
	pthread_mutex_lock(&p->mu);
	while (p->count == QUEUE_LEN)
		pthread_cond_wait(&p->cv, &p->mu);
	p->q[(p->head + p->count) % QUEUE_LEN] = it;
	p->count++;
	if (it.slot >= 0)
		p->busy[it.slot] = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void cp_hash_pipe_data(struct cp_hash_pipe *p, size_t len)
{
	struct item it = {(int)p->next, len, 0};
	p->next = (p->next + 1) % p->n_slots;
	submit(p, it);
}

void cp_hash_pipe_zeros(struct cp_hash_pipe *p, uint64_t len)
{
	struct item it = {-1, 0, len};
	submit(p, it);
}

void cp_hash_pipe_end(struct cp_hash_pipe *p, uint8_t out[32])
{
	wait_idle(p);
	if (p->sparse)
		cp_sparse_digest_final(p->sd, out);
	else
		cp_sha256_final(&p->plain, out);
}
