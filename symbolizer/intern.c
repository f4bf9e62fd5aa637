/*
 * symbolizer/intern.c - the string pool behind every name the symbolizer
 * hands out.  A report resolves thousands of pcs that share a few hundred
 * file and function names, so each distinct string is stored once, in large
 * chunks that are only freed together by strpool_close().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/hash.h"
#include "internal.h"

#define CHUNK_SIZE (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

#define str_eq(a, b) (strcmp((a), (b)) == 0)

/* A string -> its copy in the chunks (the key is that copy too). */
HASH_DEFINE(str_set, const char *, const char *, hash_str, str_eq)

struct strpool {
	struct str_set strings;
	struct chunk *chunks;
};

int strpool_open(struct strpool **out)
{
	struct strpool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	*out = p;
	return 0;
}

static char *store(struct strpool *p, const char *s, size_t len)
{
	struct chunk *c = p->chunks;

	if (!c || c->size - c->used < len + 1) {
		/* Long strings get a chunk of their own, placed behind the
		 * current one so its free space is not abandoned. */
		size_t size = len + 1 > CHUNK_SIZE ? len + 1 : CHUNK_SIZE;
		struct chunk *n = malloc(sizeof(*n) + size);

		if (!n)
			return NULL;
		n->used = 0;
		n->size = size;
		if (c && size > CHUNK_SIZE) {
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			p->chunks = n;
		}
		c = n;
	}
	char *dst = c->data + c->used;

	memcpy(dst, s, len);
	dst[len] = '\0';
	c->used += len + 1;
	return dst;
}

const char *strpool_intern(struct strpool *p, const char *s, int *err)
{
	const char **found, *copy;

	if (!s)
		return NULL;
	found = str_set_get(&p->strings, s);
	if (found)
		return *found;
	copy = store(p, s, strlen(s));
	found = copy ? str_set_put(&p->strings, copy, NULL) : NULL;
	if (!found) {
		*err = -ENOMEM;
		return NULL;
	}
	*found = copy;
	return copy;
}

void strpool_close(struct strpool *p)
{
	if (!p)
		return;
	while (p->chunks) {
		struct chunk *next = p->chunks->next;

		free(p->chunks);
		p->chunks = next;
	}
	str_set_free(&p->strings);
	free(p);
}
