/*
 * The benchmark's floor input: copies the data regions of FILE (what
 * SEEK_DATA/SEEK_HOLE report, the bytes a sparse archive stores) to OUT,
 * back to back, holes left out.  `zstd` on OUT is then the cost of
 * compressing the core's data alone, without reading, digesting or
 * framing anything else.
 *
 *   databytes FILE OUT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: databytes FILE OUT\n");
		return 2;
	}
	int in = open(argv[1], O_RDONLY);
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct stat st;
	if (in < 0 || out < 0 || fstat(in, &st) < 0) {
		fprintf(stderr, "databytes: %s\n", strerror(errno));
		return 1;
	}
	off_t off = 0;
	while (off < st.st_size) {
		off_t data = lseek(in, off, SEEK_DATA);
		if (data < 0)
			break; /* ENXIO: only a hole is left */
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0) {
			fprintf(stderr, "databytes: %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		off_t pos = data;
		while (pos < hole) {
			size_t len = (size_t)(hole - pos);
			ssize_t n = copy_file_range(in, &pos, out, NULL, len, 0);
			if (n <= 0) {
				fprintf(stderr, "databytes: %s: %s\n", argv[1],
				        n < 0 ? strerror(errno) : "file shrank");
				return 1;
			}
		}
		off = hole;
	}
	if (close(out) < 0) {
		fprintf(stderr, "databytes: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	return 0;
}
