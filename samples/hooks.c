/*
 * hooks.c - what a tracer left in this process: the first byte of each
 * allocator entry point in memory (0xe9, a jump: the fast engine; 0xcc, an
 * int3: the ptrace engine; anything else: not hooked), and whether a
 * recorder area of memtrack's is mapped.  One line each, for the tests:
 *   entry NAME 0xBYTE
 *   recorder yes|no
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void entry(const char *name, const void *fn)
{
	printf("entry %s 0x%02x\n", name, *(const unsigned char *)fn);
}

int main(void)
{
	char line[512];
	int mapped = 0;
	FILE *f;

	free(malloc(1));	/* the allocator has run once: all is armed */
	entry("malloc", (const void *)malloc);
	entry("calloc", (const void *)calloc);
	entry("realloc", (const void *)realloc);
	entry("free", (const void *)free);
	entry("posix_memalign", (const void *)posix_memalign);
	entry("aligned_alloc", (const void *)aligned_alloc);
	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		mapped |= strstr(line, "/memfd:memtrack") != NULL;
	if (f)
		fclose(f);
	printf("recorder %s\n", mapped ? "yes" : "no");
	return 0;
}
