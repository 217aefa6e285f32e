/*
 * The read pipe (read_pipe.h): reader threads, a hasher thread, a ring of
 * read slots and a queue of pieces in file order.
 *
 * A reader plans the file's next piece and queues it, takes the next slot
 * for data and reads into it; READERS of them keep that many reads in
 * flight, which a disk shared with busy CPUs (a VM's) serves markedly
 * faster than one at a time, and none waits for the digest.  The hasher
 * digests the pieces in order as they become ready, and the caller takes
 * them in order too.  A piece leaves the queue, and its slot is reused,
 * once it is both digested and given back by the caller.
 *
 * Regions smaller than a slot are read whole into a shared slot, several
 * to a piece of the queue (a batch), and given to the caller one piece per
 * region and per hole as before: a sparse core's 3,072 one-page regions
 * used to be 6,144 handoffs between threads while the compressor waited
 * (bench/run.sh: 20,000 voluntary context switches to pack its core, now
 * 8,000).
 *
 * Queue positions are counted from the start of the file: retired <=
 * hashed, released <= taken <= tail.  The cursor is moved under the mutex
 * when a piece is planned; the hasher alone touches the digest while the
 * file is active, and the caller in begin() and end(), when no thread is
 * inside a piece.  Everything else is shared under the mutex.
 *
 * Hand-written because the libraries at hand read and compress in one
 * thread: libarchive's archive_read_disk and its writer read a file
 * through the page cache and feed the compressor in turn, and compute no
 * digest.  Overlapping direct reads, SHA-256 and compression here took the
 * benchmark in the README from 1.05x to 0.89x of bsdtar's time (caches
 * dropped); the hashing itself is nettle's SHA-256 or libxxhash's XXH3
 * (digest.c), the compression libzstd's (zstd_sink.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/digest.h"
#include "corepack/thread.h"
#include "huge_buf.h"
#include "read_pipe.h"

/* Pieces queued: every slot's block plus the holes between them. */
#define QUEUE_LEN 64
/* Reads in flight. */
#define READERS 2

struct item {
	enum cp_piece_kind kind;
	int slot; /* DATA */
	uint64_t off, len;
	uint64_t region_end; /* DATA */
	int err;
	int ready; /* read (DATA), or nothing to read */
	/* DATA, a batch: regions [ri, ri + n_reg) whole, each after the hole
	 * before it (from OFF on), back to back in the slot; 0: one block. */
	size_t ri, n_reg;
};

/* The caller's way through the batch it took last: the pieces it is made
 * of, given one per cp_read_pipe_next() without the mutex. */
struct batch_walk {
	size_t ri, end_ri; /* the next region; past the batch's last */
	uint64_t pos;      /* the file offset of the next piece */
	const uint8_t *data;
};

struct cp_read_pipe {
	pthread_t readers[READERS], hasher;
	int n_readers; /* started */
	int threaded;
	pthread_mutex_t mu;
	/* Who waits for what, each woken only by what it waits for: a
	 * single condition broadcast to all took 29,000 context switches to
	 * pack the benchmark's core, against bsdtar's 4,000. */
	pthread_cond_t cv_read; /* readers: room to queue a piece */
	pthread_cond_t cv_hash; /* the hasher: a piece ready */
	pthread_cond_t cv_call; /* the caller: a piece ready, or end()'s wait */
	int end_waits;          /* end() waits for the hasher */

	/* N_SLOTS of SLOT_SIZE bytes, back to back, in huge pages for
	 * direct reads (huge_buf.h) */
	struct cp_huge_buf slab;
	uint8_t *slots; /* slab.p */
	size_t n_slots, slot_size;
	size_t slot_next;  /* the next slot to fill */
	size_t slots_used; /* filled and not yet retired, oldest first */

	struct item q[QUEUE_LEN];
	uint64_t retired, hashed, released, taken, tail;

	int active;      /* a file is being read */
	int finished;    /* its last piece (END or ERROR) is queued */
	int reached_end; /* the caller took END */
	int stop;        /* end() wants the threads out of the file */
	int reading;     /* reads in flight */
	int hashing;     /* the hasher is digesting a piece */
	int quit;

	/* The file. */
	struct cp_file_reader *rd;
	const struct cp_region *regions;
	size_t n_regions, ri;
	uint64_t pos, size;
	enum cp_read_hash hash;
	struct cp_any_digest *digest;
	struct batch_walk walk; /* the caller's */
};

static struct item *at(struct cp_read_pipe *p, uint64_t i)
{
	return &p->q[i % QUEUE_LEN];
}

static int halted(const struct cp_read_pipe *p)
{
	return p->stop || p->quit || !p->active;
}

/* Pieces that are digested and given back leave the queue. */
static void retire(struct cp_read_pipe *p)
{
	uint64_t upto = p->hashed < p->released ? p->hashed : p->released;
	for (; p->retired < upto; p->retired++)
		if (at(p, p->retired)->slot >= 0)
			p->slots_used--;
}

/* Slot I's buffer. */
static uint8_t *slot(const struct cp_read_pipe *p, int i)
{
	return p->slots + (size_t)i * p->slot_size;
}

/*
 * Small regions whole, with the holes before them, in one slot: a sparse
 * core has thousands of one-page regions (a mapping touched here and
 * there), and as a piece each, every one was handed from reader to hasher
 * to caller on its own, while the compressor had nothing to do.  Called
 * with the cursor at or before regions[ri], which is smaller than a slot.
 */
static struct item plan_batch(struct cp_read_pipe *p)
{
	struct item it = {CP_PIECE_DATA, -1, p->pos, 0, 0, 0, 0, p->ri, 0};
	uint64_t used = 0;
	while (p->ri < p->n_regions && p->regions[p->ri].len <= p->slot_size - used) {
		used += p->regions[p->ri].len;
		it.n_reg++;
		p->ri++;
	}
	/* An empty region neither ends a batch (its hole would be lost) nor
	 * starts one (plan() skips it). */
	while (p->regions[p->ri - 1].len == 0) {
		it.n_reg--;
		p->ri--;
	}
	const struct cp_region *last = &p->regions[p->ri - 1];
	it.region_end = last->off + last->len;
	it.len = it.region_end - it.off;
	p->pos = it.region_end;
	return it;
}

/* Plan the next piece at the cursor and move past it. */
static struct item plan(struct cp_read_pipe *p)
{
	while (p->ri < p->n_regions && (p->pos >= p->regions[p->ri].off + p->regions[p->ri].len ||
	                                p->regions[p->ri].len == 0))
		p->ri++;
	if (p->ri < p->n_regions && p->pos <= p->regions[p->ri].off &&
	    p->regions[p->ri].len < p->slot_size)
		return plan_batch(p);
	struct item it = {CP_PIECE_END, -1, p->pos, 0, 0, 0, 1, 0, 0};
	if (p->ri == p->n_regions) {
		if (p->pos < p->size) {
			it.kind = CP_PIECE_HOLE;
			it.len = p->size - p->pos;
		}
	} else if (p->pos < p->regions[p->ri].off) {
		it.kind = CP_PIECE_HOLE;
		it.len = p->regions[p->ri].off - p->pos;
	} else {
		it.kind = CP_PIECE_DATA;
		it.region_end = p->regions[p->ri].off + p->regions[p->ri].len;
		it.len =
		    it.region_end - p->pos < p->slot_size ? it.region_end - p->pos : p->slot_size;
		it.ready = 0;
	}
	p->pos += it.len;
	return it;
}

/* Read LEN bytes at OFF into BUF whole (a short read is retried from where
 * it stopped), or turn IT into the error that stopped it: its offset, up to
 * REGION_END.  Returns 0 or -1.  No lock held. */
static int read_block(struct cp_read_pipe *p, struct item *it, uint8_t *buf, uint64_t off,
                      uint64_t len, uint64_t region_end)
{
	uint64_t done = 0;
	while (done < len) {
		ssize_t got =
		    cp_file_reader_pread(p->rd, buf + done, (size_t)(len - done), off + done);
		if (got <= 0) {
			it->kind = CP_PIECE_ERROR;
			it->err = got < 0 ? errno : 0;
			it->off = off + done;
			it->len = region_end - it->off;
			it->n_reg = 0;
			return -1;
		}
		done += (uint64_t)got;
	}
	return 0;
}

/* Read IT's block, or each region of its batch; a batch that fails is
 * an error as a whole: the caller stops at it anyway. */
static void read_piece(struct cp_read_pipe *p, struct item *it)
{
	uint8_t *buf = slot(p, it->slot);
	if (it->n_reg == 0) {
		read_block(p, it, buf, it->off, it->len, it->region_end);
		return;
	}
	size_t end_ri = it->ri + it->n_reg;
	for (size_t i = it->ri; i < end_ri; i++) {
		const struct cp_region *r = &p->regions[i];
		if (read_block(p, it, buf, r->off, r->len, r->off + r->len) < 0)
			return;
		buf += r->len;
	}
}

/* Whether a reader may queue a piece now: room in the queue and a free
 * slot (holes wait for one too: only for pieces already queued). */
static int can_produce(const struct cp_read_pipe *p)
{
	return !halted(p) && !p->finished && p->tail - p->retired < QUEUE_LEN &&
	       p->slots_used < p->n_slots;
}

/* Queue the file's next piece and read it.  Called when can_produce();
 * returns with mu held, dropping it for the read itself. */
static void produce(struct cp_read_pipe *p)
{
	struct item it = plan(p);
	if (it.kind == CP_PIECE_DATA) {
		it.slot = (int)p->slot_next;
		p->slot_next = (p->slot_next + 1) % p->n_slots;
		p->slots_used++;
	}
	uint64_t i = p->tail++;
	*at(p, i) = it;
	if (it.kind == CP_PIECE_END)
		p->finished = 1;
	if (it.kind == CP_PIECE_DATA) {
		p->reading++;
		pthread_mutex_unlock(&p->mu);
		read_piece(p, &it);
		pthread_mutex_lock(&p->mu);
		p->reading--;
		/* After end() began, the queue is no longer this file's. */
		if (!halted(p)) {
			it.ready = 1;
			*at(p, i) = it;
			if (it.kind == CP_PIECE_ERROR)
				p->finished = 1;
		}
	}
	pthread_cond_signal(&p->cv_hash);
	pthread_cond_signal(&p->cv_call);
}

static void hash_piece(struct cp_read_pipe *p, const struct item *it)
{
	if (p->hash == CP_READ_HASH_NONE)
		return;
	if (it->kind == CP_PIECE_DATA && it->n_reg > 0) {
		const uint8_t *buf = slot(p, it->slot);
		uint64_t pos = it->off;
		for (size_t i = it->ri; i < it->ri + it->n_reg; i++) {
			const struct cp_region *r = &p->regions[i];
			cp_any_digest_zeros(p->digest, r->off - pos);
			cp_any_digest_data(p->digest, buf, (size_t)r->len);
			buf += r->len;
			pos = r->off + r->len;
		}
	} else if (it->kind == CP_PIECE_DATA)
		cp_any_digest_data(p->digest, slot(p, it->slot), (size_t)it->len);
	else if (it->kind == CP_PIECE_HOLE)
		cp_any_digest_zeros(p->digest, it->len);
}

/* Digest the next queued piece.  Called and returns with mu held. */
static void digest_next(struct cp_read_pipe *p)
{
	struct item it = *at(p, p->hashed);
	p->hashing = 1;
	pthread_mutex_unlock(&p->mu);
	hash_piece(p, &it);
	pthread_mutex_lock(&p->mu);
	p->hashing = 0;
	if (!halted(p)) {
		p->hashed++;
		retire(p);
	}
	pthread_cond_broadcast(&p->cv_read);
	if (p->end_waits)
		pthread_cond_signal(&p->cv_call);
}

static void *reader(void *arg)
{
	struct cp_read_pipe *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && !can_produce(p))
			pthread_cond_wait(&p->cv_read, &p->mu);
		if (p->quit)
			break;
		produce(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void *hasher(void *arg)
{
	struct cp_read_pipe *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && (halted(p) || p->hashed == p->tail || !at(p, p->hashed)->ready))
			pthread_cond_wait(&p->cv_hash, &p->mu);
		if (p->quit)
			break;
		digest_next(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void stop_threads(struct cp_read_pipe *p, int hasher_up)
{
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->cv_read);
	pthread_cond_broadcast(&p->cv_hash);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n_readers; i++)
		pthread_join(p->readers[i], NULL);
	if (hasher_up)
		pthread_join(p->hasher, NULL);
	p->n_readers = 0;
	p->quit = 0;
}

int cp_read_pipe_new(size_t n_slots, size_t slot_size, struct cp_read_pipe **out)
{
	if (n_slots < 2 || n_slots >= QUEUE_LEN || slot_size == 0 || slot_size % CP_READER_ALIGN ||
	    slot_size > CP_READER_MAX)
		return -EINVAL;
	struct cp_read_pipe *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n_slots = n_slots;
	p->slot_size = slot_size;
	p->digest = cp_any_digest_new();
	int ok = p->digest && cp_huge_buf_alloc(&p->slab, n_slots * slot_size) == 0;
	p->slots = p->slab.p;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_read, NULL);
	pthread_cond_init(&p->cv_hash, NULL);
	pthread_cond_init(&p->cv_call, NULL);
	if (!ok) {
		cp_read_pipe_free(p);
		return -ENOMEM;
	}
	/* The threads take no signals (thread.h).  Without both threads the
	 * caller's thread does their work. */
	while (p->n_readers < READERS && cp_thread_start(&p->readers[p->n_readers], reader, p) == 0)
		p->n_readers++;
	int h_up = p->n_readers > 0 && cp_thread_start(&p->hasher, hasher, p) == 0;
	if (h_up)
		p->threaded = 1;
	else
		stop_threads(p, 0);
	*out = p;
	return 0;
}

void cp_read_pipe_free(struct cp_read_pipe *p)
{
	if (!p)
		return;
	if (p->threaded)
		stop_threads(p, 1);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv_read);
	pthread_cond_destroy(&p->cv_hash);
	pthread_cond_destroy(&p->cv_call);
	cp_huge_buf_free(&p->slab);
	cp_any_digest_free(p->digest);
	free(p);
}

void cp_read_pipe_begin(struct cp_read_pipe *p, struct cp_file_reader *rd,
                        const struct cp_region *regions, size_t n, uint64_t size,
                        enum cp_read_hash hash)
{
	pthread_mutex_lock(&p->mu);
	p->rd = rd;
	p->regions = regions;
	p->n_regions = n;
	p->ri = 0;
	p->pos = 0;
	p->size = size;
	p->hash = hash;
	cp_any_digest_init(
	    p->digest,
	    cp_digest_kind_for(hash == CP_READ_HASH_SPARSE || hash == CP_READ_HASH_SPARSE_XXH3,
	                       hash == CP_READ_HASH_XXH3 || hash == CP_READ_HASH_SPARSE_XXH3));
	p->active = 1;
	pthread_cond_broadcast(&p->cv_read);
	pthread_cond_signal(&p->cv_hash);
	pthread_mutex_unlock(&p->mu);
}

/* The next piece of the batch the caller is in, if any is left. */
static int walk_next(struct cp_read_pipe *p, struct cp_piece *out)
{
	struct batch_walk *w = &p->walk;
	while (w->ri < w->end_ri && p->regions[w->ri].len == 0)
		w->ri++;
	if (w->ri == w->end_ri)
		return 0;
	const struct cp_region *r = &p->regions[w->ri];
	if (w->pos < r->off) {
		*out = (struct cp_piece){CP_PIECE_HOLE, w->pos, r->off - w->pos, NULL, 0};
		w->pos = r->off;
		return 1;
	}
	*out = (struct cp_piece){CP_PIECE_DATA, r->off, r->len, w->data, 0};
	w->data += r->len;
	w->pos = r->off + r->len;
	w->ri++;
	return 1;
}

void cp_read_pipe_next(struct cp_read_pipe *p, struct cp_piece *out)
{
	/* Within a batch, its slot stays the caller's. */
	if (walk_next(p, out))
		return;
	pthread_mutex_lock(&p->mu);
	if (p->released < p->taken) {
		p->released = p->taken;
		retire(p);
		pthread_cond_broadcast(&p->cv_read);
	}
	struct item it;
	for (;;) {
		if (!p->active) {
			it = (struct item){
			    .kind = CP_PIECE_ERROR, .slot = -1, .err = EINVAL, .ready = 1};
			break;
		}
		if (p->taken < p->tail && at(p, p->taken)->ready) {
			it = *at(p, p->taken);
			if (it.kind != CP_PIECE_END && it.kind != CP_PIECE_ERROR)
				p->taken++;
			break;
		}
		if (p->threaded) {
			pthread_cond_wait(&p->cv_call, &p->mu);
			continue;
		}
		/* Alone, the caller reads and digests a piece itself; it has
		 * given back every slot, so one is free. */
		produce(p);
		while (p->hashed < p->tail)
			digest_next(p);
	}
	if (it.kind == CP_PIECE_END)
		p->reached_end = 1;
	pthread_mutex_unlock(&p->mu);

	if (it.kind == CP_PIECE_DATA && it.n_reg > 0) {
		p->walk = (struct batch_walk){it.ri, it.ri + it.n_reg, it.off, slot(p, it.slot)};
		walk_next(p, out);
		return;
	}
	*out = (struct cp_piece){it.kind, it.off, it.len, NULL, it.err};
	if (it.kind == CP_PIECE_DATA)
		out->data = slot(p, it.slot);
}

int cp_read_pipe_end(struct cp_read_pipe *p, uint8_t out[32])
{
	pthread_mutex_lock(&p->mu);
	int reached = p->reached_end;
	p->end_waits = 1;
	if (reached) /* everything before END is still to be digested */
		while (p->hashed < p->tail - 1)
			pthread_cond_wait(&p->cv_call, &p->mu);
	p->stop = 1;
	while (p->reading || p->hashing)
		pthread_cond_wait(&p->cv_call, &p->mu);
	p->end_waits = 0;
	p->active = 0;
	p->finished = 0;
	p->reached_end = 0;
	p->stop = 0;
	p->retired = p->hashed = p->released = p->taken = p->tail = 0;
	p->slot_next = p->slots_used = 0;
	p->walk = (struct batch_walk){0};
	pthread_mutex_unlock(&p->mu);

	if (!reached)
		return -1;
	if (out)
		cp_any_digest_final(p->digest, out);
	return 0;
}
