/*
 * Private to the backtrace code (backtrace.c, backtrace_wire.c and the
 * unwinder child, bt_*.c): the writer side of the wire format between the
 * unwinder child and the parent, and the child's entry point.  See
 * include/corepack/backtrace.h for the public interface.
 */
#ifndef COREPACK_BACKTRACE_PRIVATE_H
#define COREPACK_BACKTRACE_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "corepack/backtrace.h"

/* Append one record (see backtrace_wire.c for the format). */
void cp_wire_put_magic(struct cp_buf *w);
void cp_wire_put_thread_start(struct cp_buf *w, int32_t tid, int crashing);
void cp_wire_put_frame(struct cp_buf *w, const struct cp_frame *f);
void cp_wire_put_note(struct cp_buf *w, const char *module, const char *why);
void cp_wire_put_thread_end(struct cp_buf *w, int frames_cut, const char *why);
void cp_wire_put_end(struct cp_buf *w, int threads_cut, const char *why);

/* Replace *DST with a formatted message; -ENOMEM keeps the old one. */
int cp_wire_set_why(char **dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How many bytes the decompressed copy of PATH's zstd-compressed debug
 * sections adds to it (bt_zdebug.c); 0 for none or an unreadable file.
 * The child maps such copies privately writable, within its RLIMIT_DATA. */
uint64_t cp_bt_zdebug_extra(const char *path);

/* The child's work: unwind and write the records to FD.  Returns when
 * done (the caller _exits); exits with status 3 or 4 when the pipe breaks
 * or memory runs out. */
void cp_unwind_child(int fd, const struct cp_core *core, const struct cp_scan *scan,
                     size_t max_threads, size_t max_frames, int crashing_only);

#endif
