/* Makes many mappings, then crashes: manymaps COUNT [DIR NFILES].  The
 * first NFILES mappings are of the files DIR/0 .. DIR/NFILES-1 (one page
 * each, from offset 0, so the core holds each one's first page); the rest
 * are anonymous pages, never touched.  Neighbours alternate protections so
 * the kernel cannot merge them; every other file mapping is executable.  Stops early, without
 * failing, when the kernel refuses more (vm.max_map_count), and prints how many it made. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	long nfiles = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
	long page = sysconf(_SC_PAGESIZE), made = 0;
	/* One reservation, then fixed mappings inside it: neighbours. */
	char *base = mmap(NULL, (size_t)(count * page), PROT_NONE,
	                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (long i = 0; i < count; i++) {
		int prot = i % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
		int code = i % 2 ? PROT_READ : PROT_READ | PROT_EXEC;
		void *want = base + i * page, *got;
		if (i < nfiles) {
			char name[4096];
			snprintf(name, sizeof(name), "%s/%ld", argv[2], i);
			int fd = open(name, O_RDONLY);
			if (fd < 0) {
				perror(name);
				return 1;
			}
			got = mmap(want, (size_t)page, code, MAP_PRIVATE | MAP_FIXED, fd, 0);
			close(fd);
		} else {
			got = mmap(want, (size_t)page, prot,
			           MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0);
		}
		if (got == MAP_FAILED) {
			if (errno == ENOMEM)
				break;
			perror("mmap");
			return 1;
		}
		made++;
	}
	printf("%ld mappings\n", made);
	fflush(stdout);
	*(volatile int *)0 = 1; /* LINE: crash */
	return 0;
}
