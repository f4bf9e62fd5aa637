/*
 * symbolizer/intern.c - the string pool behind every name the symbolizer
 * hands out.  A report resolves thousands of pcs that share a few hundred
 * file and function names, so each distinct string is stored once, in large
 * chunks that are only freed together by strpool_close().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CHUNK_SIZE (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

struct strpool {
	const char **slots; /* open addressing, NULL = empty */
	size_t nslots;	    /* a power of two */
	size_t count;
	struct chunk *chunks;
};

static uint64_t hash_str(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

int strpool_open(struct strpool **out)
{
	struct strpool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->nslots = 256;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return -ENOMEM;
	}
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

static int grow(struct strpool *p)
{
	size_t nslots = p->nslots * 2;
	const char **slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < p->nslots; i++) {
		const char *s = p->slots[i];

		if (!s)
			continue;
		size_t j = hash_str(s, strlen(s)) & (nslots - 1);

		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = s;
	}
	free(p->slots);
	p->slots = slots;
	p->nslots = nslots;
	return 0;
}

const char *strpool_intern(struct strpool *p, const char *s, int *err)
{
	if (!s)
		return NULL;
	if ((p->count + 1) * 4 > p->nslots * 3 && grow(p) < 0) {
		*err = -ENOMEM;
		return NULL;
	}

	size_t len = strlen(s);
	size_t i = hash_str(s, len) & (p->nslots - 1);

	while (p->slots[i]) {
		if (strcmp(p->slots[i], s) == 0)
			return p->slots[i];
		i = (i + 1) & (p->nslots - 1);
	}

	char *copy = store(p, s, len);

	if (!copy) {
		*err = -ENOMEM;
		return NULL;
	}
	p->slots[i] = copy;
	p->count++;
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
	free(p->slots);
	free(p);
}
