/* Maps the ELF files named on the command line (hard links of one file,
 * say) read-only and executable, so the core's NT_FILE names the same
 * inode under several paths; then crashes. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY);
		if (fd < 0 ||
		    mmap(NULL, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) == MAP_FAILED) {
			perror(argv[i]);
			return 1;
		}
		close(fd);
	}
	*(volatile int *)0 = 1; /* LINE: crash */
	return 0;
}
