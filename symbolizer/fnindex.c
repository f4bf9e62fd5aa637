/*
 * symbolizer/fnindex.c - which subprogram DIE holds an address: an index of
 * the functions of each compilation unit, built the first time a pc falls
 * in that unit.
 *
 * Without it, each pc would cost a walk over its whole unit's DIEs
 * (dwarf_getscopes does one; large C++ units hold thousands of top-level
 * DIEs).  With it, a pc costs a binary search, then a descent inside one
 * function (frames.c), through the block children that hold the pc: a
 * DIE with many children (a huge function's blocks and call sites) gets
 * an index of them too.  Whether the unit holds the pc at all is also a
 * binary search, over the unit's ranges (one per function with
 * -ffunction-sections).
 *
 * Functions are looked for where compilers put them: at the top of the
 * unit (GCC, also for C++ members and namespace members, which refer to
 * their declaration with DW_AT_specification), inside namespace, class
 * and structure DIEs (clang, rustc), and in partial units brought in with
 * DW_TAG_imported_unit (dwz).  GNU C nested functions, which sit inside
 * their parent's DIE, are not indexed: their pcs fall back to the ELF
 * symbol.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>

#include "internal.h"

struct fn_range {
	Dwarf_Addr low, high; /* [low, high), DWARF addresses */
	Dwarf_Die die;
};

/* An address range of a DIE: [low, high), with the furthest high of it
 * and the entries sorted before it; order says which DIE came first. */
struct span {
	Dwarf_Addr low, high, reach;
	size_t order;
	Dwarf_Die die;
};

struct spans {
	struct span *v;
	size_t n, cap;
};

struct cu_funcs {
	const void *key; /* the CU DIE's address in the debug data */
	struct fn_range *v;
	size_t n, cap;
	struct spans ranges; /* the unit's own ranges */
};

/* The block children of one DIE that has many of them. */
struct blocks {
	const void *key; /* the DIE's address in the debug data */
	struct spans spans;
};

struct fnindex {
	struct cu_funcs *cus; /* sorted by key */
	size_t n, cap;
	struct blocks *big; /* sorted by key */
	size_t nbig, capbig;
};

/* Children scanned one by one before the DIE gets an index: the blocks of
 * a huge function (a compiler's, an interpreter's loop), or its call
 * sites, would otherwise be walked again for every pc inside it. */
#define BLOCK_INDEX_MIN 32

static int spans_add(struct spans *s, Dwarf_Die *die, size_t order)
{
	Dwarf_Addr base, low, high;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &low, &high)) > 0) {
		if (low >= high)
			continue;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;
			struct span *v = realloc(s->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			s->v = v;
			s->cap = cap;
		}
		s->v[s->n++] = (struct span){.low = low, .high = high, .order = order, .die = *die};
	}
	return 0;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->low != y->low)
		return x->low < y->low ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void spans_sort(struct spans *s)
{
	if (s->n)	/* no spans: no array, and qsort wants one */
		qsort(s->v, s->n, sizeof(*s->v), span_cmp);
	for (size_t i = 0; i < s->n; i++) {
		s->v[i].reach = s->v[i].high;
		if (i > 0 && s->v[i - 1].reach > s->v[i].reach)
			s->v[i].reach = s->v[i - 1].reach;
	}
}

/* The first (by order) of the spans holding addr, or NULL. */
static const struct span *spans_find(const struct spans *s, Dwarf_Addr addr)
{
	size_t lo = 0, hi = s->n;
	const struct span *best = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].low <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && s->v[i].reach > addr;) {
		if (addr < s->v[i].high && (!best || s->v[i].order < best->order))
			best = &s->v[i];
	}
	return best;
}

/* Binary search of an array of structs whose first member is a key. */
#define FIND_KEY(arr, n, k)                                                                        \
	({                                                                                         \
		size_t lo_ = 0, hi_ = (n);                                                         \
		while (lo_ < hi_) {                                                                \
			size_t mid_ = lo_ + (hi_ - lo_) / 2;                                       \
			if ((uintptr_t)(arr)[mid_].key < (uintptr_t)(k))                           \
				lo_ = mid_ + 1;                                                    \
			else                                                                       \
				hi_ = mid_;                                                        \
		}                                                                                  \
		lo_;                                                                               \
	})

static int add_ranges(struct cu_funcs *cu, Dwarf_Die *die)
{
	Dwarf_Addr base, low, high;
	ptrdiff_t off = 0;

	while ((off = dwarf_ranges(die, off, &base, &low, &high)) > 0) {
		if (low >= high)
			continue;
		if (cu->n == cu->cap) {
			size_t cap = cu->cap ? cu->cap * 2 : 64;
			struct fn_range *v = realloc(cu->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			cu->v = v;
			cu->cap = cap;
		}
		cu->v[cu->n++] = (struct fn_range){.low = low, .high = high, .die = *die};
	}
	return 0;
}

/* Depth guards against malformed DWARF that imports a unit into itself. */
static int collect(struct cu_funcs *cu, Dwarf_Die *parent, int depth)
{
	Dwarf_Die child;
	int ret = 0;

	if (depth > 64 || dwarf_child(parent, &child) != 0)
		return 0;
	do {
		Dwarf_Attribute attr;
		Dwarf_Die unit;

		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
			ret = add_ranges(cu, &child);
			break;
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
		case DW_TAG_module:
			ret = collect(cu, &child, depth + 1);
			break;
		case DW_TAG_imported_unit:
			if (dwarf_formref_die(dwarf_attr(&child, DW_AT_import, &attr), &unit))
				ret = collect(cu, &unit, depth + 1);
			break;
		default:
			break;
		}
	} while (ret == 0 && dwarf_siblingof(&child, &child) == 0);
	return ret;
}

static int range_cmp(const void *a, const void *b)
{
	const struct fn_range *x = a, *y = b;

	if (x->low != y->low)
		return x->low < y->low ? -1 : 1;
	return x->high < y->high ? -1 : x->high > y->high;
}

/* The unit's function list, built on first use. */
static struct cu_funcs *cu_funcs_of(struct fnindex *idx, Dwarf_Die *cudie, int *err)
{
	const void *key = cudie->addr;
	size_t lo = FIND_KEY(idx->cus, idx->n, key);

	if (lo < idx->n && idx->cus[lo].key == key)
		return &idx->cus[lo];

	if (idx->n == idx->cap) {
		size_t cap = idx->cap ? idx->cap * 2 : 16;
		struct cu_funcs *cus = realloc(idx->cus, cap * sizeof(*cus));

		if (!cus) {
			*err = -ENOMEM;
			return NULL;
		}
		idx->cus = cus;
		idx->cap = cap;
	}

	struct cu_funcs cu = {.key = key};

	*err = collect(&cu, cudie, 0);
	if (*err == 0)
		*err = spans_add(&cu.ranges, cudie, 0);
	if (*err < 0) {
		free(cu.v);
		free(cu.ranges.v);
		return NULL;
	}
	qsort(cu.v, cu.n, sizeof(*cu.v), range_cmp);
	spans_sort(&cu.ranges);
	memmove(&idx->cus[lo + 1], &idx->cus[lo], (idx->n - lo) * sizeof(*idx->cus));
	idx->cus[lo] = cu;
	idx->n++;
	return &idx->cus[lo];
}

static struct cu_funcs *cu_of(struct fnindex **pidx, Dwarf_Die *cudie, int *err)
{
	if (!*pidx && !(*pidx = calloc(1, sizeof(**pidx)))) {
		*err = -ENOMEM;
		return NULL;
	}
	return cu_funcs_of(*pidx, cudie, err);
}

int fnindex_cu_holds(struct fnindex **pidx, Dwarf_Die *cudie, Dwarf_Addr addr)
{
	int err = 0;
	struct cu_funcs *cu = cu_of(pidx, cudie, &err);

	if (!cu)
		return err;
	return spans_find(&cu->ranges, addr) != NULL;
}

int fnindex_find(struct fnindex **pidx, Dwarf_Die *cudie, Dwarf_Addr addr, Dwarf_Die *out)
{
	int err = 0;
	struct cu_funcs *cu = cu_of(pidx, cudie, &err);

	if (!cu)
		return err;

	/* hi = the number of ranges starting at or before addr */
	size_t lo = 0, hi = cu->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cu->v[mid].low <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Functions do not overlap, but a few producers emit duplicates or
	 * enclosing ranges: the nearest start that still covers addr wins. */
	for (size_t i = hi, seen = 0; i-- > 0 && seen < 8; seen++) {
		if (addr < cu->v[i].high) {
			*out = cu->v[i].die;
			return 1;
		}
	}
	return 0;
}

/* DIEs inside a function that may hold inlined code. */
static int is_block(int tag)
{
	return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block ||
	       tag == DW_TAG_try_block || tag == DW_TAG_catch_block || tag == DW_TAG_with_stmt;
}

/* Indexes the block children of parent, inserted at position at. */
static int index_blocks(struct fnindex *idx, size_t at, Dwarf_Die *parent)
{
	struct blocks b = {.key = parent->addr};
	Dwarf_Die child;
	size_t order = 0;
	int err = 0;

	if (dwarf_child(parent, &child) == 0) {
		do {
			if (is_block(dwarf_tag(&child)))
				err = spans_add(&b.spans, &child, order);
			order++;
		} while (err == 0 && dwarf_siblingof(&child, &child) == 0);
	}
	if (err == 0 && idx->nbig == idx->capbig) {
		size_t cap = idx->capbig ? idx->capbig * 2 : 16;
		struct blocks *v = realloc(idx->big, cap * sizeof(*v));

		if (!v)
			err = -ENOMEM;
		else {
			idx->big = v;
			idx->capbig = cap;
		}
	}
	if (err < 0) {
		free(b.spans.v);
		return err;
	}
	spans_sort(&b.spans);
	memmove(&idx->big[at + 1], &idx->big[at], (idx->nbig - at) * sizeof(*idx->big));
	idx->big[at] = b;
	idx->nbig++;
	return 0;
}

int fnindex_block(struct fnindex **pidx, Dwarf_Die *parent, Dwarf_Addr addr, Dwarf_Die *out)
{
	if (!*pidx && !(*pidx = calloc(1, sizeof(**pidx))))
		return -ENOMEM;

	struct fnindex *idx = *pidx;
	size_t at = FIND_KEY(idx->big, idx->nbig, parent->addr);

	if (at < idx->nbig && idx->big[at].key == parent->addr) {
		const struct span *s = spans_find(&idx->big[at].spans, addr);

		if (s)
			*out = s->die;
		return s != NULL;
	}

	/* The first child that is a block holding addr, one by one. */
	Dwarf_Die child;
	size_t seen = 0;
	int found = 0;

	if (dwarf_child(parent, &child) == 0) {
		do {
			seen++;
			if (is_block(dwarf_tag(&child)) && dwarf_haspc(&child, addr) > 0) {
				*out = child;
				found = 1;
				break;
			}
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	if (seen >= BLOCK_INDEX_MIN) {
		int err = index_blocks(idx, at, parent);

		if (err < 0)
			return err;
	}
	return found;
}

void fnindex_free(struct fnindex *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->n; i++) {
		free(idx->cus[i].v);
		free(idx->cus[i].ranges.v);
	}
	free(idx->cus);
	for (size_t i = 0; i < idx->nbig; i++)
		free(idx->big[i].spans.v);
	free(idx->big);
	free(idx);
}
