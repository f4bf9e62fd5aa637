/*
 * marks.c - memory that grows and shrinks in phases, with checkpoint()
 * called after each: `memtrack run --mark checkpoint` records a mark at
 * every call, the external equivalent of tracemalloc.take_snapshot() there.
 * Every block is written to, so the resident memory grows with it.
 *
 * Prints what is live at each checkpoint, for the tests:
 *   expect mark:N heap FILE:LINE BYTES COUNT
 *   expect mark:N mmap FILE:LINE BYTES COUNT
 * and, for `--mark samples/marks.c:LINE`, the line of the call:
 *   checkpoint line LINE
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "say.h"

#define MIB (1024 * 1024)

static volatile int phase;

static __attribute__((noinline)) void checkpoint(int n)
{
	phase = n;
}

int main(void)
{
	char *big[4], *half[2], *map;
	int big_line = 0, half_line = 0, map_line, call_line;

	for (int i = 0; i < 4; i++) {
		big[i] = malloc(MIB); big_line = __LINE__;
		memset(big[i], 1, MIB);
	}
	checkpoint(1); call_line = __LINE__;

	for (int i = 0; i < 2; i++) {
		half[i] = malloc(MIB / 2); half_line = __LINE__;
		memset(half[i], 2, MIB / 2);
	}
	free(big[2]);
	free(big[3]);
	checkpoint(2);

	map = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); map_line = __LINE__;
	if (map == MAP_FAILED)
		return 1;
	memset(map, 3, 8 * MIB);
	checkpoint(3);

	munmap(map, 8 * MIB);
	free(big[0]);
	free(half[1]);
	checkpoint(4);
	big[0] = big[1];
	half[1] = half[0];

	say("checkpoint line %d\n", call_line);
	say("expect mark:1 heap samples/marks.c:%d %d 4\n", big_line, 4 * MIB);
	say("expect mark:2 heap samples/marks.c:%d %d 2\n", big_line, 2 * MIB);
	say("expect mark:2 heap samples/marks.c:%d %d 2\n", half_line, MIB);
	say("expect mark:3 heap samples/marks.c:%d %d 2\n", big_line, 2 * MIB);
	say("expect mark:3 heap samples/marks.c:%d %d 2\n", half_line, MIB);
	say("expect mark:3 mmap samples/marks.c:%d %d 1\n", map_line, 8 * MIB);
	say("expect mark:4 heap samples/marks.c:%d %d 1\n", big_line, MIB);
	say("expect mark:4 heap samples/marks.c:%d %d 1\n", half_line, MIB / 2);
	return 0;
}
