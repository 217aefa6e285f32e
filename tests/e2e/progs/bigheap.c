/* Fills MIB (argv[1], default 96) MiB of incompressible heap, then crashes:
 * a core that takes a while to pack at a high compression level. */
#include <stdint.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	size_t n = (size_t)(argc > 1 ? atol(argv[1]) : 96) << 20;
	uint64_t *p = malloc(n), x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
	*(volatile int *)0 = (int)p[n / 16]; /* LINE: crash */
	return 0;
}
