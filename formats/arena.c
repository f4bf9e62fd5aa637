/*
 * arena.c - blocks of memory carved up front to back and freed together
 * (see arena.h for why).
 */
#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (64 * 1024)

struct arena_block {
	struct arena_block *next;
	alignas(max_align_t) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	size_t need = (n + align - 1) & ~(align - 1);
	struct arena_block *b;
	void *p;

	if (need < n)
		return NULL;
	if (!a->head || a->size - a->used < need) {
		size_t size = need > BLOCK_SIZE / 4 ? need : BLOCK_SIZE;

		/* A large request gets a block of its own, linked behind the
		 * head so the head's free space is not abandoned. */
		b = calloc(1, sizeof(*b) + size);
		if (!b)
			return NULL;
		if (size != BLOCK_SIZE && a->head) {
			b->next = a->head->next;
			a->head->next = b;
			return b->data;
		}
		b->next = a->head;
		a->head = b;
		a->used = 0;
		a->size = size;
	}
	p = a->head->data + a->used;
	a->used += need;
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p;

	if (len + 1 == 0)
		return NULL;
	p = arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *arena_grow(struct arena *a, const void *old, size_t old_size, size_t new_size)
{
	void *p = arena_alloc(a, new_size);

	if (p && old_size)
		memcpy(p, old, old_size < new_size ? old_size : new_size);
	return p;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;

	while (b) {
		struct arena_block *next = b->next;

		free(b);
		b = next;
	}
	a->head = NULL;
	a->used = 0;
	a->size = 0;
}
