/*
 * longjmp.c - a program with its own allocator (a bump arena, as an
 * interpreter might have), which a storm of timer signals interrupts and
 * whose handler longjmps back out, often out of a malloc call whose return
 * memtrack hijacked.  The arena is safe to abandon anywhere, so the program
 * is well defined; memtrack must drop those abandoned calls and still
 * record what comes after exactly.
 *
 *   longjmp [ROUNDS]       default 20000 allocations in the storm
 * Prints what stays live at the end, for the tests:
 *   expect heap FILE:LINE BYTES COUNT
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "say.h"

static _Alignas(64) char arena[64 << 20];
static size_t used;
static char *volatile arena_base = arena;

/* The allocator everything in this process binds to, libc included.  Kept
 * out of the optimizer's reach (noipa): a compiler that sees it may inline
 * it, or drop calls to a free that does nothing, and then there is no call
 * left to trace. */
#define ALLOCATOR __attribute__((noipa, used))

ALLOCATOR void *malloc(size_t n)
{
	size_t at = (used + 15) & ~(size_t)15;

	if (n > sizeof(arena) || at + n > sizeof(arena)) {
		errno = ENOMEM;
		return NULL;
	}
	used = at + n;
	return arena + at;
}

ALLOCATOR void free(void *p)
{
	(void)p;	/* an arena is released all at once */
}

ALLOCATOR void *calloc(size_t n, size_t size)
{
	void *p = n && size > SIZE_MAX / n ? NULL : malloc(n * size);

	return p ? memset(p, 0, n * size) : NULL;
}

ALLOCATOR void *realloc(void *old, size_t n)
{
	void *p = malloc(n);

	if (p && old)
		memcpy(p, old, n);	/* the arena is contiguous: reading past is fine */
	return p;
}

ALLOCATOR void *memalign(size_t align, size_t n)
{
	used = (used + align - 1) & ~(align - 1);
	return malloc(n);
}

ALLOCATOR int posix_memalign(void **out, size_t align, size_t n)
{
	*out = memalign(align, n);
	return *out ? 0 : ENOMEM;
}

ALLOCATOR void *aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

static sigjmp_buf back;
static volatile sig_atomic_t ticks, jumps, jumping;
static void *volatile sink;

/* siglongjmp unblocks SIGALRM before it jumps: a tick already pending then
 * runs this handler on top of the jump's frame.  Were that one to jump as
 * well, and the next, a storm faster than its delivery (a traced program's
 * signals each stop in the tracer) would nest handlers until the stack
 * overflows: the program's own fault, not its tracer's.  So no tick jumps
 * while a jump is under way. */
static void on_tick(int sig)
{
	if (++ticks % 3 == 0 && !jumping) {
		jumps++;
		jumping = 1;
		siglongjmp(back, 1);
	}
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 20000;
	struct itimerval storm = {{0, 50}, {0, 50}}, calm = {{0, 0}, {0, 0}};
	void *keep[16];
	volatile long i = 0;
	int line = 0;

	size_t start = used;

	signal(SIGALRM, on_tick);
	setitimer(ITIMER_REAL, &storm, NULL);
	sigsetjmp(back, 1);
	jumping = 0;
	for (; i < rounds; i++)
		sink = malloc(16);
	setitimer(ITIMER_REAL, &calm, NULL);
	signal(SIGALRM, SIG_IGN);
	/* A longjmp may land after malloc returned and before the loop kept
	 * count, so the program cannot know every block it got: it gives back
	 * the storm's whole stretch of arena, block by block (16-byte blocks,
	 * one after the other; through a volatile pointer, so that the compiler,
	 * which sees only a static array, does not warn of freeing it). */
	for (size_t off = (start + 15) & ~(size_t)15; off < used; off += 16)
		free(arena_base + off);
	for (int k = 0; k < 16; k++) {
		keep[k] = malloc(48); line = __LINE__;
	}
	sink = keep[0];
	say("expect heap samples/longjmp.c:%d %d 16\n", line, 16 * 48);
	return 0;
}
