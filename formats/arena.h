/*
 * arena.h - memory that never moves until it is all freed at once.  The
 * log writer and reader hand out borrowed pointers (strings, module and
 * symbol tables) that must stay valid until they are closed; an arena makes
 * that true without one malloc per string.
 */
#ifndef MEMTRACK_FORMATS_ARENA_H
#define MEMTRACK_FORMATS_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head; /* the block being filled, linked to older ones */
	size_t used;		  /* bytes used in head */
	size_t size;		  /* bytes available in head */
};

#define ARENA_INIT                                                                                 \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* n bytes aligned for any type, zeroed; NULL when out of memory.  Owned by
 * the arena. */
void *arena_alloc(struct arena *a, size_t n);

/* A NUL-terminated copy of s[0..len); NULL when out of memory. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/*
 * Grows an array to new_size bytes by copying it into fresh arena memory.
 * The old copy stays valid (and unchanged) until arena_free(), so a pointer
 * handed out earlier never dangles; the waste is bounded by the final size
 * when arrays double.  NULL when out of memory (old is then untouched).
 */
void *arena_grow(struct arena *a, const void *old, size_t old_size, size_t new_size);

/* Frees every block; the arena can be used again afterwards. */
void arena_free(struct arena *a);

#endif
