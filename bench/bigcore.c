/*
 * The benchmark's crashing program: fills HEAP_MIB (default 1536) of mixed
 * data (a third random, a third text-like, a third small integers and
 * pointers, as real heaps are), maps SPARSE_MIB (default 6144) and touches
 * one page every 2 MiB of it, then aborts.  The core is mostly holes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(uint8_t *p, size_t len, int kind)
{
	static const char *const words[] = {"request",
	                                    "timeout",
	                                    "customer",
	                                    "order",
	                                    "id=",
	                                    "status: ok\n",
	                                    "GET /api/v1/items ",
	                                    "error ",
	                                    "0000",
	                                    "{\"key\": ",
	                                    "null, "};
	size_t i = 0;
	while (i + 8 <= len) {
		uint64_t r = next();
		if (kind == 0) {
			memcpy(p + i, &r, 8);
			i += 8;
		} else if (kind == 1) {
			const char *w = words[r % (sizeof(words) / sizeof(words[0]))];
			size_t n = strlen(w);
			if (i + n > len)
				break;
			memcpy(p + i, w, n);
			i += n;
		} else {
			uint64_t v =
			    (r & 1) ? (0x00007f0000000000ull | (r & 0xffffff0ull)) : (r & 0xff);
			memcpy(p + i, &v, 8);
			i += 8;
		}
	}
}

int main(int argc, char **argv)
{
	size_t heap = (size_t)(argc > 1 ? atol(argv[1]) : 1536) << 20;
	size_t sparse = (size_t)(argc > 2 ? atol(argv[2]) : 6144) << 20;
	size_t chunk = 1 << 20;
	uint8_t **blocks = malloc((heap / chunk) * sizeof(*blocks));
	for (size_t i = 0; i < heap / chunk; i++) {
		blocks[i] = malloc(chunk);
		fill(blocks[i], chunk, (int)(i % 3));
	}
	uint8_t *m = mmap(NULL, sparse, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t off = 0; off < sparse; off += 2 << 20)
		m[off] = (uint8_t)off | 1;
	fprintf(stderr, "bigcore: %zu MiB heap, %zu MiB sparse mapping; aborting\n", heap >> 20,
	        sparse >> 20);
	abort();
}
