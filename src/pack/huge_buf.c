/*
 * Buffers in transparent huge pages (huge_buf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "huge_buf.h"

#define HUGE_PAGE (2u << 20)

int cp_huge_buf_alloc(struct cp_huge_buf *b, size_t len)
{
	*b = (struct cp_huge_buf){0};
	if (len == 0 || len > SIZE_MAX - 2 * HUGE_PAGE)
		return -ENOMEM;
	size_t map_len = ((len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1)) + HUGE_PAGE;
	void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -ENOMEM;
	b->map = m;
	b->map_len = map_len;
	b->p = (uint8_t *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
	madvise(b->p, map_len - (size_t)(b->p - (uint8_t *)m), MADV_HUGEPAGE);
#endif
	return 0;
}

void cp_huge_buf_free(struct cp_huge_buf *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	*b = (struct cp_huge_buf){0};
}

int cp_huge_pages_usable(void)
{
	char buf[128];
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "[never]") == NULL;
}
