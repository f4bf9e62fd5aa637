/*
 * symbolizer/fnindex.c - which subprogram DIE holds an address: an index of
 * the functions of each compilation unit, built the first time a pc falls
 * in that unit.
 *
 * Without it, each pc would cost a walk over its whole unit's DIEs
 * (dwarf_getscopes does one; large C++ units hold thousands of top-level
 * DIEs).  With it, a pc costs a binary search, then a descent inside one
 * function (frames.c).
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

struct cu_funcs {
	const void *key; /* the CU DIE's address in the debug data */
	struct fn_range *v;
	size_t n, cap;
};

struct fnindex {
	struct cu_funcs *cus; /* sorted by key */
	size_t n, cap;
};

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
	size_t lo = 0, hi = idx->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)idx->cus[mid].key < (uintptr_t)key)
			lo = mid + 1;
		else
			hi = mid;
	}
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
	if (*err < 0) {
		free(cu.v);
		return NULL;
	}
	qsort(cu.v, cu.n, sizeof(*cu.v), range_cmp);
	memmove(&idx->cus[lo + 1], &idx->cus[lo], (idx->n - lo) * sizeof(*idx->cus));
	idx->cus[lo] = cu;
	idx->n++;
	return &idx->cus[lo];
}

int fnindex_find(struct fnindex **pidx, Dwarf_Die *cudie, Dwarf_Addr addr, Dwarf_Die *out)
{
	int err = 0;

	if (!*pidx && !(*pidx = calloc(1, sizeof(**pidx))))
		return -ENOMEM;

	struct cu_funcs *cu = cu_funcs_of(*pidx, cudie, &err);

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

void fnindex_free(struct fnindex *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->n; i++)
		free(idx->cus[i].v);
	free(idx->cus);
	free(idx);
}
