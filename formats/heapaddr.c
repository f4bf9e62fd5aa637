/*
 * heapaddr.c - the heap-address codes of a memtrack log (heapaddr.h,
 * formats/FORMAT.md "Heap addresses"): the model writer and reader keep,
 * and the codes themselves.  Every change to the model but the storing
 * of its live blocks is made by the same function on both sides, so the
 * two cannot drift apart.
 *
 * The writer runs this for every allocation and free of the traced
 * program: its live blocks are a map of one multiply to hash, 16-byte
 * slots, and no tombstones (deletion shifts the probe run back), so a
 * program that churns millions of blocks keeps a map the size of its live
 * set.  The reader must also find a block from its serial, and holds the
 * live blocks of a whole log at once: it keeps them in heaplive.h's few
 * bytes each.
 */
#include "heapaddr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "varint.h"

struct heapaddr_slot {
	uint64_t key, val;
};

#define MAP_MIN_BITS 6

/*
 * Where a key's probe starts.  An address: the blocks of one 4 KiB page
 * sit side by side (a block takes 32 bytes at least, so they fill half
 * the page's 256 slots at most), so that blocks a program uses together
 * share cache lines, and each page starts at a place of its own
 * (Fibonacci hashing of its number): the map of a program with a large
 * heap is then mostly in the caches where it is used.
 */
static inline size_t map_home(const struct heapaddr_map *m, uint64_t key)
{
	size_t mask = ((size_t)1 << m->bits) - 1;

	return ((size_t)(((key >> 12) * 0x9e3779b97f4a7c15ull) >> (64 - m->bits)) +
		(size_t)((key >> 4) & 255)) &
	       mask;
}

/* The slot holding key, or the empty one where it would go. */
static inline struct heapaddr_slot *map_find(const struct heapaddr_map *m, uint64_t key)
{
	size_t mask = ((size_t)1 << m->bits) - 1, i = map_home(m, key);

	while (m->slots[i].key && m->slots[i].key != key)
		i = (i + 1) & mask;
	return &m->slots[i];
}

static int map_init(struct heapaddr_map *m)
{
	m->bits = MAP_MIN_BITS;
	m->len = 0;
	m->slots = calloc((size_t)1 << m->bits, sizeof(*m->slots));
	return m->slots ? 0 : -ENOMEM;
}

/* The map doubled. */
static __attribute__((noinline)) int map_grow(struct heapaddr_map *m)
{
	struct heapaddr_map bigger = {.bits = m->bits + 1, .len = m->len};
	size_t n = (size_t)1 << m->bits;

	bigger.slots = calloc(n * 2, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (m->slots[i].key)
			*map_find(&bigger, m->slots[i].key) = m->slots[i];
	free(m->slots);
	*m = bigger;
	return 0;
}

/* Removes the key of slot s (a used slot): the later members of its probe
 * run whose home does not lie cyclically in (hole, j] move into the hole. */
static inline void map_remove(struct heapaddr_map *m, struct heapaddr_slot *s)
{
	size_t mask = ((size_t)1 << m->bits) - 1, i = (size_t)(s - m->slots), j;

	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = map_home(m, m->slots[j].key);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->len--;
}

int heapaddr_init(struct heapaddr *h, int reader)
{
	memset(h, 0, sizeof(*h));
	h->reader = reader;
	if (!reader && map_init(&h->live)) {
		heapaddr_free(h);
		return -ENOMEM;
	}
	return 0;
}

void heapaddr_free(struct heapaddr *h)
{
	free(h->live.slots);
	h->live.slots = NULL;
	heaplive_free(&h->blocks);
}

void heapaddr_reset(struct heapaddr *h)
{
	struct heapaddr_map live = h->live;
	int reader = h->reader;

	if (live.slots) {
		memset(live.slots, 0, sizeof(*live.slots) << live.bits);
		live.len = 0;
	}
	heaplive_free(&h->blocks);
	memset(h, 0, sizeof(*h));
	h->reader = reader;
	h->live = live;
}

static inline unsigned size_class(uint64_t size)
{
	/* glibc's bins: a chunk is the request plus 8, rounded up to 16 */
	if (size <= 1000)
		return (unsigned)((size + 23) >> 4);
	/* then one class per power of two: 1000 < size < 2^64 gives 64..118 */
	return 54u + (64u - (unsigned)__builtin_clzll(size));
}

unsigned heapaddr_class(uint64_t size)
{
	return size_class(size);
}

/* The state of thread tid: its slot, taken afresh when it held another
 * thread (of 256 at once, two sharing a slot only predict less). */
static inline struct heapaddr_thread *thread_of(struct heapaddr *h, uint32_t tid)
{
	struct heapaddr_thread *t = &h->threads[tid % HEAPADDR_THREADS];

	if (t->tid != tid)
		*t = (struct heapaddr_thread){.tid = tid};
	return t;
}

/* --- the changes to the model ------------------------------------------------ */

static inline void ring_push(struct heapaddr *h, unsigned cls, uint64_t addr)
{
	h->ring[cls][h->ring_pos[cls]] = addr;
	h->ring_pos[cls] = (uint8_t)((h->ring_pos[cls] + 1) % HEAPADDR_RING);
}

/* The k-th last address freed of class cls (0: the last), 0 when none. */
static inline uint64_t ring_slot(const struct heapaddr *h, unsigned cls, unsigned k)
{
	return h->ring[cls][(h->ring_pos[cls] + HEAPADDR_RING - 1 - k) % HEAPADDR_RING];
}

/* The live block of that serial, address and class is freed by thread t
 * (and the caller takes it out of its live blocks). */
static inline void free_block(struct heapaddr *h, uint64_t serial, uint64_t addr, unsigned cls,
			      struct heapaddr_thread *t)
{
	ring_push(h, cls, addr);
	t->last_freed = addr;
	h->freed_serial = serial;
}

/* Where a block made after one of `size` bytes at addr would start if the
 * allocator cuts blocks one after the other (glibc does from its top
 * chunk: a block takes its size plus 8, rounded up to 16, at least 32). */
static inline uint64_t guess_next(uint64_t addr, uint64_t size)
{
	uint64_t chunk = size > UINT64_MAX - 23 ? 0 : (size + 8 + 15) & ~(uint64_t)15;

	return addr + (chunk < 32 ? 32 : chunk);
}

/* A block of `size` bytes is made at addr (not 0) by thread t: the
 * model's counts (the caller adds it to its live blocks). */
static inline void make_block(struct heapaddr *h, struct heapaddr_thread *t, uint64_t addr,
			      uint64_t size)
{
	h->made++;
	t->next_guess = guess_next(addr, size);
	h->last_made = addr;
}

/* The slots of class cls's ring holding addr, as bits by slot (most often
 * none): compared one by one without a loop, the compiler's loop took
 * twice the instructions. */
static inline unsigned ring_holds(const struct heapaddr *h, unsigned cls, uint64_t addr)
{
	const uint64_t *r = h->ring[cls];

	return (unsigned)(r[0] == addr) | (unsigned)(r[1] == addr) << 1 |
	       (unsigned)(r[2] == addr) << 2 | (unsigned)(r[3] == addr) << 3 |
	       (unsigned)(r[4] == addr) << 4 | (unsigned)(r[5] == addr) << 5 |
	       (unsigned)(r[6] == addr) << 6 | (unsigned)(r[7] == addr) << 7;
}

/* The BORN code of addr for a block of class cls made by thread t: the
 * first of these that applies. */
static inline uint64_t born_code(const struct heapaddr *h, const struct heapaddr_thread *t,
				 uint64_t addr, unsigned cls)
{
	unsigned held, k = HEAPADDR_RING;
	uint64_t zz;

	_Static_assert(HEAPADDR_RING == 8, "ring_holds() compares 8 slots");
	if (!addr)
		return HEAPADDR_BORN_ZERO;
	if (addr == t->last_freed)
		return HEAPADDR_BORN_LAST_FREED;
	held = ring_holds(h, cls, addr);
	if (held) {
		/* the most recent of them: the least k (usually one slot) */
		for (; held; held &= held - 1) {
			unsigned slot = (unsigned)__builtin_ctz(held);
			unsigned age = (h->ring_pos[cls] + HEAPADDR_RING - 1 - slot) % HEAPADDR_RING;

			if (age < k)
				k = age;
		}
		return HEAPADDR_BORN_RING + k;
	}
	zz = zigzag_encode((int64_t)(addr - t->next_guess));
	if (zz > UINT64_MAX - HEAPADDR_BORN_DELTA)
		return HEAPADDR_BORN_LITERAL;
	return HEAPADDR_BORN_DELTA + zz;
}

/* --- the writer ------------------------------------------------------------- */

int heapaddr_grow(struct heapaddr *h)
{
	return map_grow(&h->live);
}

/* The code of the live block of serial `serial`: by its distance from the
 * last block made (blocks freed last-made-first-freed), or from the one
 * after the last freed (freed in the order they were made), whichever is
 * shorter, the first on a tie. */
static inline uint64_t live_code(const struct heapaddr *h, uint64_t serial)
{
	uint64_t back = h->made - serial;
	uint64_t next = zigzag_encode((int64_t)(serial - h->freed_serial - 1));

	/* serials stay far below 2^62: neither doubling overflows */
	if (back <= next)
		return HEAPADDR_FREED_LIVE + 2 * back;
	return HEAPADDR_FREED_LIVE + 2 * next + 1;
}

/* The slot of the live block at addr, or the empty one where it would go.
 * The block made last (what a program frees most often) is found without
 * hashing, while nothing has moved it. */
static inline struct heapaddr_slot *live_slot(const struct heapaddr *h, uint64_t addr)
{
	struct heapaddr_slot *s = &h->live.slots[h->last_made_slot];

	return addr == h->last_made && s->key == addr ? s : map_find(&h->live, addr);
}

uint8_t *heapaddr_put_freed(struct heapaddr *h, uint8_t *p, uint64_t addr, int keep, uint32_t tid)
{
	struct heapaddr_slot *s;

	if (!addr)
		return varint_put(p, HEAPADDR_FREED_ZERO);
	s = live_slot(h, addr);
	if (!s->key) {
		p = varint_put(p, HEAPADDR_FREED_LITERAL);
		if (!keep)
			thread_of(h, tid)->last_freed = addr;
		return varint_put(p, addr);
	}
	p = varint_put(p, live_code(h, s->val >> 8));
	if (!keep) {
		free_block(h, s->val >> 8, addr, (unsigned)(s->val & 0xff), thread_of(h, tid));
		map_remove(&h->live, s);
	}
	return p;
}

uint8_t *heapaddr_put_born(struct heapaddr *h, uint8_t *p, uint64_t addr, uint64_t size,
			   uint32_t tid)
{
	struct heapaddr_thread *t = thread_of(h, tid);
	unsigned cls = size_class(size);
	uint64_t code = born_code(h, t, addr, cls);

	p = varint_put(p, code);
	if (code == HEAPADDR_BORN_LITERAL)
		p = varint_put(p, addr);
	if (addr) {
		/* room was reserved; a block still live at that address (its
		 * free was not seen) is forgotten */
		struct heapaddr_slot *s = map_find(&h->live, addr);

		make_block(h, t, addr, size);
		h->last_made_slot = (size_t)(s - h->live.slots);
		if (!s->key)
			h->live.len++;
		s->key = addr;
		s->val = h->made << 8 | cls;
	}
	return p;
}

/* --- the reader ------------------------------------------------------------- */

int heapaddr_get_freed(struct heapaddr *h, uint64_t code, uint64_t literal, int zero_ok, int keep,
		       uint32_t tid, uint64_t *addr)
{
	uint64_t x, serial;
	unsigned cls;
	int live;

	if (code == HEAPADDR_FREED_ZERO) {
		*addr = 0;
		return zero_ok ? HEAPADDR_OK : HEAPADDR_ZERO;
	}
	if (code == HEAPADDR_FREED_LITERAL) {
		if (!literal)
			return HEAPADDR_ZERO;
		/* a live block is named by its distance */
		if (heaplive_has(&h->blocks, literal))
			return HEAPADDR_NOT_SHORTEST;
		if (!keep)
			thread_of(h, tid)->last_freed = literal;
		*addr = literal;
		return HEAPADDR_OK;
	}
	x = code - HEAPADDR_FREED_LIVE;
	if (x & 1)
		serial = h->freed_serial + 1 + (uint64_t)zigzag_decode(x >> 1);
	else if (x >> 1 < h->made)
		serial = h->made - (x >> 1);
	else
		return HEAPADDR_NOT_LIVE;
	if (live_code(h, serial) != code) {
		live = heaplive_get(&h->blocks, serial, addr, &cls);
		return live ? HEAPADDR_NOT_SHORTEST : HEAPADDR_NOT_LIVE;
	}
	live = keep ? heaplive_get(&h->blocks, serial, addr, &cls)
		    : heaplive_take(&h->blocks, serial, addr, &cls);
	if (!live)
		return HEAPADDR_NOT_LIVE;
	if (!keep)
		free_block(h, serial, *addr, cls, thread_of(h, tid));
	return HEAPADDR_OK;
}

int heapaddr_get_born(struct heapaddr *h, uint64_t code, uint64_t literal, uint64_t size,
		      uint32_t tid, uint64_t *addr)
{
	struct heapaddr_thread *t = thread_of(h, tid);
	unsigned cls = size_class(size);
	uint64_t a;

	if (code == HEAPADDR_BORN_ZERO) {
		*addr = 0;
		return HEAPADDR_OK;
	}
	if (code == HEAPADDR_BORN_LAST_FREED) {
		a = t->last_freed;
		if (!a)
			return HEAPADDR_NOTHING_FREED;
	} else if (code < HEAPADDR_BORN_LITERAL) {
		a = ring_slot(h, cls, (unsigned)(code - HEAPADDR_BORN_RING));
		if (!a)
			return HEAPADDR_EMPTY_SLOT;
	} else if (code == HEAPADDR_BORN_LITERAL) {
		a = literal;
	} else {
		a = t->next_guess + (uint64_t)zigzag_decode(code - HEAPADDR_BORN_DELTA);
	}
	if (!a)
		return HEAPADDR_ZERO;
	if (born_code(h, t, a, cls) != code)
		return HEAPADDR_NOT_SHORTEST;
	if (heaplive_make(&h->blocks, h->made + 1, a, cls) < 0)
		return HEAPADDR_NOMEM;
	make_block(h, t, a, size);
	*addr = a;
	return HEAPADDR_OK;
}

const char *heapaddr_strerror(int err)
{
	switch (err) {
	case HEAPADDR_NOMEM:
		return "out of memory";
	case HEAPADDR_ZERO:
		return "address 0 where the format does not allow it";
	case HEAPADDR_NOT_LIVE:
		return "a freed address names no live block";
	case HEAPADDR_NOTHING_FREED:
		return "an address coded as the last freed before any free";
	case HEAPADDR_EMPTY_SLOT:
		return "an address coded as a freed one its size class does not hold";
	case HEAPADDR_NOT_SHORTEST:
		return "an address not in the coding the format prescribes for it";
	}
	return "no error";
}
