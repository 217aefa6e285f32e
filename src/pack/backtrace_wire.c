/*
 * The wire format between the unwinder child and the parent, both sides.
 * The parent parses it as untrusted input: the child works on a hostile
 * core and may die in the middle of a record.
 *
 * "CPBT" u8 version (2), then records, integers little-endian:
 *   'S' i32 tid, u8 flags (1 crashing)                      thread starts
 *   'F' u64 pc, u64 offset, i32 line, u8 flags (1 has_offset, 2 inlined,
 *       4 tail_call), str function, str module, str file,
 *       str mangled                                         one frame
 *   'N' str module, str why                                 a module's note,
 *                                                           in or between threads
 *   'T' u8 flags (1 frames_cut), str why                    thread ends
 *   'E' u8 flags (1 threads_cut), str why                   the end
 * str: u32 length (0xffffffff for NULL) and that many bytes, no NUL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtrace_private.h"

static const uint8_t wire_magic[5] = {'C', 'P', 'B', 'T', 2};
#define STR_NULL 0xffffffffu

static void put_u8(struct cp_buf *w, unsigned v)
{
	uint8_t b = (uint8_t)v;
	cp_buf_add(w, &b, 1);
}

static void put_u32(struct cp_buf *w, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	cp_buf_add(w, b, 4);
}

static void put_u64(struct cp_buf *w, uint64_t v)
{
	put_u32(w, (uint32_t)v);
	put_u32(w, (uint32_t)(v >> 32));
}

/* Strings longer than the cap are cut, so the decoder never has to. */
static void put_str(struct cp_buf *w, const char *s)
{
	if (!s) {
		put_u32(w, STR_NULL);
		return;
	}
	size_t n = strlen(s);
	if (n > CP_BACKTRACE_MAX_STRING)
		n = CP_BACKTRACE_MAX_STRING;
	put_u32(w, (uint32_t)n);
	cp_buf_add(w, s, n);
}

void cp_wire_put_thread_start(struct cp_buf *w, int32_t tid, int crashing)
{
	put_u8(w, 'S');
	put_u32(w, (uint32_t)tid);
	put_u8(w, crashing ? 1 : 0);
}

void cp_wire_put_frame(struct cp_buf *w, const struct cp_frame *f)
{
	put_u8(w, 'F');
	put_u64(w, f->pc);
	put_u64(w, f->offset);
	put_u32(w, (uint32_t)(f->line > 0 ? f->line : 0));
	put_u8(w, (f->has_offset ? 1 : 0) | (f->inlined ? 2 : 0) | (f->tail_call ? 4 : 0));
	put_str(w, f->function);
	put_str(w, f->module);
	put_str(w, f->file);
	put_str(w, f->mangled);
}

void cp_wire_put_note(struct cp_buf *w, const char *module, const char *why)
{
	put_u8(w, 'N');
	put_str(w, module);
	put_str(w, why);
}

void cp_wire_put_thread_end(struct cp_buf *w, int frames_cut, const char *why)
{
	put_u8(w, 'T');
	put_u8(w, frames_cut ? 1 : 0);
	put_str(w, why);
}

void cp_wire_put_end(struct cp_buf *w, int threads_cut, const char *why)
{
	put_u8(w, 'E');
	put_u8(w, threads_cut ? 1 : 0);
	put_str(w, why);
}

void cp_wire_put_magic(struct cp_buf *w)
{
	cp_buf_add(w, wire_magic, sizeof(wire_magic));
}

int cp_backtrace_encode(const struct cp_backtrace *bt, uint8_t **buf, size_t *len)
{
	struct cp_buf w = {0};
	cp_buf_add(&w, wire_magic, sizeof(wire_magic));
	for (size_t i = 0; i < bt->n_threads; i++) {
		const struct cp_thread_trace *t = &bt->threads[i];
		cp_wire_put_thread_start(&w, t->tid, t->crashing);
		for (size_t k = 0; k < t->n_frames; k++)
			cp_wire_put_frame(&w, &t->frames[k]);
		cp_wire_put_thread_end(&w, t->frames_cut, t->why);
	}
	for (size_t i = 0; i < bt->n_notes; i++)
		cp_wire_put_note(&w, bt->notes[i].module, bt->notes[i].why);
	cp_wire_put_end(&w, bt->threads_cut, bt->why);
	size_t n = w.len;
	char *d = cp_buf_steal(&w);
	if (!d)
		return -ENOMEM;
	*buf = (uint8_t *)d;
	*len = n;
	return 0;
}

struct rbuf {
	const uint8_t *p;
	size_t len, pos;
};

static bool get(struct rbuf *r, void *out, size_t n)
{
	if (r->len - r->pos < n)
		return false;
	memcpy(out, r->p + r->pos, n);
	r->pos += n;
	return true;
}

static bool get_u8(struct rbuf *r, uint8_t *v)
{
	return get(r, v, 1);
}

static bool get_u32(struct rbuf *r, uint32_t *v)
{
	uint8_t b[4];
	if (!get(r, b, 4))
		return false;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return true;
}

static bool get_u64(struct rbuf *r, uint64_t *v)
{
	uint32_t lo, hi;
	if (!get_u32(r, &lo) || !get_u32(r, &hi))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

/* -1 malformed, -2 ENOMEM, 0 ok (*S may be NULL). */
static int get_str(struct rbuf *r, char **s)
{
	uint32_t n;
	*s = NULL;
	if (!get_u32(r, &n))
		return -1;
	if (n == STR_NULL)
		return 0;
	if (n > CP_BACKTRACE_MAX_STRING || r->len - r->pos < n || memchr(r->p + r->pos, '\0', n))
		return -1;
	*s = strndup((const char *)r->p + r->pos, n);
	if (!*s)
		return -2;
	r->pos += n;
	return 0;
}

static void frame_done(struct cp_frame *f)
{
	free(f->function);
	free(f->mangled);
	free(f->module);
	free(f->file);
}

static void thread_done(struct cp_thread_trace *t)
{
	for (size_t i = 0; i < t->n_frames; i++)
		frame_done(&t->frames[i]);
	free(t->frames);
	free(t->why);
}

void cp_backtrace_free(struct cp_backtrace *bt)
{
	if (!bt)
		return;
	for (size_t i = 0; i < bt->n_threads; i++)
		thread_done(&bt->threads[i]);
	free(bt->threads);
	for (size_t i = 0; i < bt->n_notes; i++) {
		free(bt->notes[i].module);
		free(bt->notes[i].why);
	}
	free(bt->notes);
	free(bt->why);
	free(bt);
}

int cp_wire_set_why(char **dst, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

/* One record; 1 at the end record, 0 to go on, -1 malformed (WHY says
 * what), -2 ENOMEM. */
static int decode_record(struct rbuf *r, struct cp_backtrace *bt, size_t max_threads,
                         size_t max_frames, int *open, const char **why)
{
	uint8_t type, flags;
	uint32_t u32;
	struct cp_thread_trace *t = bt->n_threads ? &bt->threads[bt->n_threads - 1] : NULL;
	if (!get_u8(r, &type))
		return *why = "record cut off", -1;
	switch (type) {
	case 'S': {
		if (*open)
			return *why = "thread started twice", -1;
		if (bt->n_threads >= max_threads)
			return *why = "more threads than asked for", -1;
		if (!get_u32(r, &u32) || !get_u8(r, &flags))
			return *why = "thread record cut off", -1;
		t = realloc(bt->threads, (bt->n_threads + 1) * sizeof(*t));
		if (!t)
			return -2;
		bt->threads = t;
		t = &bt->threads[bt->n_threads++];
		memset(t, 0, sizeof(*t));
		t->tid = (int32_t)u32;
		t->crashing = flags & 1;
		*open = 1;
		return 0;
	}
	case 'F': {
		struct cp_frame f = {0};
		uint32_t line;
		if (!*open)
			return *why = "frame outside a thread", -1;
		if (t->n_frames >= max_frames)
			return *why = "more frames than asked for", -1;
		if (!get_u64(r, &f.pc) || !get_u64(r, &f.offset) || !get_u32(r, &line) ||
		    !get_u8(r, &flags))
			return *why = "frame record cut off", -1;
		if (line > INT32_MAX)
			return *why = "line number out of range", -1;
		f.line = (int)line;
		f.has_offset = flags & 1;
		f.inlined = (flags & 2) != 0;
		f.tail_call = (flags & 4) != 0;
		int s = get_str(r, &f.function);
		if (s == 0)
			s = get_str(r, &f.module);
		if (s == 0)
			s = get_str(r, &f.file);
		if (s == 0)
			s = get_str(r, &f.mangled);
		/* the array holds 1, 3, 7, 15... frames: full when n + 1 is a
		 * power of two */
		if (s == 0 && (t->n_frames & (t->n_frames + 1)) == 0) {
			struct cp_frame *fr = realloc(
			    t->frames, (t->n_frames ? 2 * t->n_frames + 1 : 1) * sizeof(*fr));
			if (fr)
				t->frames = fr;
			else
				s = -2;
		}
		if (s < 0) {
			frame_done(&f);
			return s == -1 ? (*why = "bad string in a frame record", -1) : -2;
		}
		t->frames[t->n_frames++] = f;
		return 0;
	}
	case 'N': {
		char *module = NULL, *why_s = NULL;
		if (bt->n_notes >= CP_BACKTRACE_MAX_NOTES)
			return *why = "more module notes than allowed", -1;
		int g = get_str(r, &module);
		if (g == 0)
			g = get_str(r, &why_s);
		if (g == 0 && (!module || !why_s))
			g = -1;
		/* the array holds 1, 3, 7, 15... notes, as frames do */
		if (g == 0 && (bt->n_notes & (bt->n_notes + 1)) == 0) {
			struct cp_module_note *nn = realloc(
			    bt->notes, (bt->n_notes ? 2 * bt->n_notes + 1 : 1) * sizeof(*nn));
			if (nn)
				bt->notes = nn;
			else
				g = -2;
		}
		if (g < 0) {
			free(module);
			free(why_s);
			return g == -1 ? (*why = "bad string in a note record", -1) : -2;
		}
		bt->notes[bt->n_notes++] = (struct cp_module_note){module, why_s};
		return 0;
	}
	case 'T':
	case 'E': {
		char *s;
		if (type == 'T' && !*open)
			return *why = "thread ended twice", -1;
		if (type == 'E' && *open)
			return *why = "end inside a thread", -1;
		if (!get_u8(r, &flags))
			return *why = "end record cut off", -1;
		int g = get_str(r, &s);
		if (g < 0)
			return g == -1 ? (*why = "bad string in an end record", -1) : -2;
		if (type == 'T') {
			t->frames_cut = flags & 1;
			free(t->why);
			t->why = s;
			*open = 0;
			return 0;
		}
		bt->threads_cut = flags & 1;
		free(bt->why);
		bt->why = s;
		return 1;
	}
	default:
		return *why = "unknown record", -1;
	}
}

int cp_backtrace_decode(const uint8_t *buf, size_t len, size_t max_threads, size_t max_frames,
                        struct cp_backtrace **out, int *complete)
{
	struct cp_backtrace *bt = calloc(1, sizeof(*bt));
	if (!bt)
		return -ENOMEM;
	struct rbuf r = {buf, len, 0};
	uint8_t magic[sizeof(wire_magic)];
	int open = 0, rc = 0, e = 0;
	const char *why = NULL;
	*complete = 0;
	if (len == 0) {
		e = cp_wire_set_why(&bt->why, "the unwinder wrote nothing");
		goto done;
	}
	if (!get(&r, magic, sizeof(magic)) || memcmp(magic, wire_magic, sizeof(magic))) {
		why = "bad header";
		r.pos = 0;
		rc = -1;
	}
	while (rc == 0 && r.pos < r.len)
		rc = decode_record(&r, bt, max_threads, max_frames, &open, &why);
	if (rc == 1 && r.pos != r.len) {
		why = "bytes after the end record";
		rc = -1;
	}
	if (rc == -2)
		e = -ENOMEM;
	else if (rc == 1)
		*complete = 1;
	else if (rc == -1)
		e = cp_wire_set_why(&bt->why, "unwinder output is malformed at byte %zu: %s", r.pos,
		                    why);
	else
		e = cp_wire_set_why(&bt->why, "unwinder output ended early");
done:
	if (e == 0 && open && !bt->threads[bt->n_threads - 1].why)
		e = cp_wire_set_why(&bt->threads[bt->n_threads - 1].why,
		                    "unwinding of this thread did not finish");
	if (e < 0) {
		cp_backtrace_free(bt);
		return -ENOMEM;
	}
	*out = bt;
	return 0;
}
