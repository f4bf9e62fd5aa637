/*
 * libplugin.c - a shared object that samples/dlopen loads at run time.  It
 * allocates through libc (plugin_fill) and it also exports an allocator of
 * its own (malloc/free over a static arena), reachable only through dlsym:
 * a module mapped long after start-up, whose code must be unwound through,
 * symbolized, and whose allocator must be armed.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

static _Alignas(16) char arena[1 << 16];
static size_t used;
int plugin_fill_line;

void *malloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (used + n > sizeof(arena))
		return NULL;
	p = arena + used;
	used += n;
	return p;
}

void free(void *p)
{
	(void)p;	/* an arena: freed all at once, never piecemeal */
}

/* n blocks of size bytes from libc's allocator, found past this module's
 * own malloc (the program's calls never bind to it; ours should not either) */
void **plugin_fill(int n, size_t size)
{
	void *(*libc_malloc)(size_t) = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	void **v = libc_malloc(n * sizeof(*v)); plugin_fill_line = __LINE__;

	for (int i = 0; i < n && v; i++) {
		v[i] = libc_malloc(size);
	}
	return v;
}
