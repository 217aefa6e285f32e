/*
 * Fuzz harness: the wire format between the unwinder child and corepack
 * (cp_backtrace_decode), and the report rendered from what it accepted.
 * The first byte picks the caps and the core's word size; the rest is the
 * child's output.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corepack/backtrace.h"
#include "corepack/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t max_threads = 1 + (data[0] & 7), max_frames = 1 + ((data[0] >> 3) & 15);
	struct cp_backtrace *bt;
	int complete;
	if (cp_backtrace_decode(data + 1, size - 1, max_threads, max_frames, &bt, &complete) < 0)
		return 0;
	if (bt->n_threads > max_threads)
		abort();
	for (size_t i = 0; i < bt->n_threads; i++)
		if (bt->threads[i].n_frames > max_frames)
			abort();

	struct cp_thread_info threads[2] = {{1, 11}, {2, 0}};
	struct cp_module mods[1];
	memset(mods, 0, sizeof(mods));
	mods[0].origin_path = "/lib/liba.so";
	mods[0].status = CP_STATUS_MISMATCH;
	struct cp_scan scan;
	memset(&scan, 0, sizeof(scan));
	scan.modules = mods;
	scan.n_modules = 1;
	struct cp_core core;
	memset(&core, 0, sizeof(core));
	core.is64 = (data[0] & 0x80) != 0;
	core.notes.threads = threads;
	core.notes.n_threads = 2;
	char *text = NULL;
	if (cp_report_render(&core, &scan, bt, 1, &text, NULL) == 0) {
		for (const char *p = text; *p; p++)
			if (*p != '\n' && (*p < 0x20 || *p > 0x7e))
				abort(); /* the report must stay plain ASCII */
		free(text);
	}
	cp_backtrace_free(bt);
	return 0;
}
