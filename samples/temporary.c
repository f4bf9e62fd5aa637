/*
 * temporary.c - temporary allocations as heaptrack defines them (a block
 * freed by its thread before that thread allocated anything else), at one
 * line, beside blocks that live longer and are not temporary.
 *
 * Prints what it made, for the tests:
 *   expect temporary FILE:LINE BYTES COUNT     (top --temporary)
 *   expect heap FILE:LINE BYTES COUNT          (live at the end)
 */
#include <stdlib.h>

#include "say.h"

#define TEMPS 100
#define KEPT  8

static void *volatile sink;

int main(void)
{
	void *kept[KEPT];
	int temp_line = 0, kept_line = 0, last_line;

	/* used and freed at once: temporaries */
	for (int i = 0; i < TEMPS; i++) {
		char *p = malloc(64); temp_line = __LINE__;

		if (!p)
			return 1;
		p[0] = (char)i;
		sink = p;
		free(p);
	}
	/* freed only after other blocks were allocated: not temporaries */
	for (int i = 0; i < KEPT; i++) {
		kept[i] = malloc(32); kept_line = __LINE__;
		sink = kept[i];
	}
	sink = malloc(16); last_line = __LINE__;
	for (int i = 0; i < KEPT; i++)
		free(kept[i]);
	say("expect temporary samples/temporary.c:%d %d %d\n", temp_line, TEMPS * 64, TEMPS);
	say("expect heap samples/temporary.c:%d 16 1\n", last_line);
	(void)kept_line;
	return 0;
}
