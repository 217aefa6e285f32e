/*
 * Replays a fuzz harness over files and directories of inputs without
 * libFuzzer, so every ctest run checks the corpora (label "fuzz").
 * Usage: fuzz-replay-NAME PATH...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "corepack/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Far above any corpus entry (libFuzzer's -max_len is 4096 by default). */
#define REPLAY_MAX_INPUT (64u << 20)

static int run_file(const char *path, size_t *count)
{
	struct cp_error err = {0};
	char *buf;
	size_t len;
	if (cp_read_file_capped(path, REPLAY_MAX_INPUT, &buf, &len, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	(*count)++;
	return 0;
}

static int run_path(const char *path, size_t *count)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, count);
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort), bad = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
			bad |= run_path(sub, count);
		}
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int bad = 0;
	for (int i = 1; i < argc; i++)
		bad |= run_path(argv[i], &count);
	printf("%zu inputs replayed\n", count);
	return bad || count == 0;
}
