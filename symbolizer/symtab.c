/*
 * symbolizer/symtab.c - ELF symbol tables, read once per file and looked up
 * by name (the tracer: where is malloc, where is the --mark function) or by
 * address (the symbolizer: which function holds this pc).
 *
 * Two readers fill the same table:
 * - symtab_from_elf: one file's own .symtab and .dynsym through libelf,
 *   its function symbols only (what the tracer can hook);
 * - symtab_from_dwfl: every symbol libdwfl searches for a module
 *   (dwfl_module_getsym_info covers the file's .symtab, or else its debug
 *   file's, its .dynsym, and the MiniDebugInfo table in .gnu_debugdata).
 *
 * By address, the answer is dwfl_module_addrinfo's, found by binary search
 * instead of its scan of the whole table for every pc (cc1's 28,902 .dynsym
 * entries: 3.7 s of a 6.7 s run).  Its rules, which decide between aliases:
 * - a candidate has a name, is defined, is not a section, file or TLS
 *   symbol, and starts at or below the address;
 * - global and weak symbols are searched first; local ones only when no
 *   global one answered (and none without a size sits exactly there);
 * - a sized symbol must hold the address.  Among those, in table order, a
 *   later one replaces the current choice when it starts closer to the
 *   address or binds more strongly (global > weak > local), or when it
 *   starts at the same place with the same binding and is smaller;
 * - with no sized answer, a symbol without a size (an assembly label) is
 *   taken if it lies in the address's section and no candidate reaches
 *   past it; of several such labels at one place, the last searched.
 * Replacement depends on the order, so the few candidates that hold an
 * address are replayed in table order rather than ranked.
 */
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct symbol {
	const char *name; /* borrowed from the file's string table */
	uint64_t value, size;
	uint32_t order;	  /* position in the order the tables are searched */
	uint32_t section; /* for by-address: the section value lies in (0: none) */
	uint8_t bind;	  /* STB_* */
	uint8_t local;	  /* searched in the second pass */
	uint8_t absolute; /* shndx >= SHN_LORESERVE: matches only exactly */
};

/* One search pass: its symbols sorted by (value, order), and for each the
 * furthest end reached by it and every symbol before it. */
struct pass {
	uint32_t *v;
	uint64_t *reach;
	size_t n;
};

struct symtab {
	struct symbol *syms;
	size_t n, cap;
	uint32_t *by_name; /* sorted by (name, sized first, order) */
	int has_symtab;
	Dwfl_Module *mod; /* by-address tables: where sections are looked up */
	int by_addr_built;
	struct pass passes[2]; /* global, then local */
};

static int add(struct symtab *t, const struct symbol *s)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct symbol *v = realloc(t->syms, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->syms = v;
		t->cap = cap;
	}
	t->syms[t->n++] = *s;
	return 0;
}

/* --- by name ------------------------------------------------------------- */

static int name_cmp(const void *a, const void *b, void *table)
{
	const struct symtab *t = table;
	const struct symbol *x = &t->syms[*(const uint32_t *)a];
	const struct symbol *y = &t->syms[*(const uint32_t *)b];
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	/* sized entries first, so that lookups see them */
	if ((x->size > 0) != (y->size > 0))
		return x->size > 0 ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int build_by_name(struct symtab *t)
{
	t->by_name = malloc((t->n ? t->n : 1) * sizeof(*t->by_name));
	if (!t->by_name)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		t->by_name[i] = (uint32_t)i;
	qsort_r(t->by_name, t->n, sizeof(*t->by_name), name_cmp, t);
	return 0;
}

static int read_elf_table(struct symtab *t, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);

	if (!data || !sh->sh_entsize)
		return 0;

	size_t n = sh->sh_size / sh->sh_entsize;

	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;

		int type = GELF_ST_TYPE(sym.st_info);

		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value)
			continue;

		const char *name = elf_strptr(elf, sh->sh_link, sym.st_name);

		if (!name || !*name)
			continue;

		struct symbol s = {.name = name,
				   .value = sym.st_value,
				   .size = sym.st_size,
				   .order = (uint32_t)t->n,
				   .bind = GELF_ST_BIND(sym.st_info),
				   .local = GELF_ST_BIND(sym.st_info) == STB_LOCAL};
		int err = add(t, &s);

		if (err < 0)
			return err;
	}
	return 0;
}

int symtab_from_elf(struct symtab **out, Elf *elf)
{
	struct symtab *t = calloc(1, sizeof(*t));
	Elf_Scn *scn = NULL;
	int err = 0;

	if (!t)
		return -ENOMEM;
	while (err == 0 && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			t->has_symtab = 1;
		err = read_elf_table(t, elf, scn, &sh);
	}
	if (err == 0)
		err = build_by_name(t);
	if (err < 0) {
		symtab_free(t);
		return err;
	}
	*out = t;
	return 0;
}

int symtab_has_symtab(const struct symtab *t)
{
	return t->has_symtab;
}

int symtab_by_name(const struct symtab *t, const char *name, int locals, uint64_t *value,
		   uint64_t *size)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(t->syms[t->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < t->n && strcmp(t->syms[t->by_name[lo]].name, name) == 0; lo++) {
		const struct symbol *s = &t->syms[t->by_name[lo]];

		if (s->local && !locals)
			continue;
		*value = s->value;
		*size = s->size;
		return 0;
	}
	return -ENOENT;
}

/* --- by address ---------------------------------------------------------- */

/* The section libdwfl places addr in (its own lookup, which counts a
 * section's end as inside it unless the next one starts there), or 0. */
static uint32_t section_of(Dwfl_Module *mod, uint64_t addr)
{
	Dwarf_Addr a = addr, bias;
	Elf_Scn *scn = dwfl_module_address_section(mod, &a, &bias);

	return scn ? (uint32_t)elf_ndxscn(scn) : 0;
}

int symtab_from_dwfl(struct symtab **out, Dwfl_Module *mod)
{
	struct symtab *t = calloc(1, sizeof(*t));
	int n = dwfl_module_getsymtab(mod);
	int first_global = dwfl_module_getsymtab_first_global(mod);
	int err = 0;

	if (!t)
		return -ENOMEM;
	t->mod = mod;
	/* Index 0 is the null symbol.  With first_global 0 (a .dynsym found
	 * through the program headers alone) every symbol is in the first
	 * pass. */
	for (int i = 1; err == 0 && i < n && first_global >= 0; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		GElf_Word shndx;
		const char *name =
			dwfl_module_getsym_info(mod, i, &sym, &value, &shndx, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);

		if (!name || !*name || sym.st_shndx == SHN_UNDEF || type == STT_SECTION ||
		    type == STT_FILE || type == STT_TLS)
			continue;

		struct symbol s = {.name = name,
				   .value = value,
				   .size = sym.st_size,
				   .order = (uint32_t)i,
				   .bind = GELF_ST_BIND(sym.st_info),
				   .local = i < first_global,
				   .absolute = shndx >= SHN_LORESERVE};

		if (s.size == 0 && !s.absolute)
			s.section = section_of(mod, value);
		err = add(t, &s);
	}
	if (err < 0) {
		symtab_free(t);
		return err;
	}
	*out = t;
	return 0;
}

static int addr_cmp(const void *a, const void *b, void *table)
{
	const struct symtab *t = table;
	const struct symbol *x = &t->syms[*(const uint32_t *)a];
	const struct symbol *y = &t->syms[*(const uint32_t *)b];

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void free_passes(struct symtab *t)
{
	for (int p = 0; p < 2; p++) {
		free(t->passes[p].v);
		free(t->passes[p].reach);
		t->passes[p] = (struct pass){0};
	}
}

static int build_by_addr(struct symtab *t)
{
	for (int p = 0; p < 2; p++) {
		struct pass *ps = &t->passes[p];
		size_t n = 0;

		ps->v = malloc((t->n ? t->n : 1) * sizeof(*ps->v));
		ps->reach = malloc((t->n ? t->n : 1) * sizeof(*ps->reach));
		if (!ps->v || !ps->reach) {
			free_passes(t);
			return -ENOMEM;
		}
		for (size_t i = 0; i < t->n; i++)
			if (t->syms[i].local == p)
				ps->v[n++] = (uint32_t)i;
		qsort_r(ps->v, n, sizeof(*ps->v), addr_cmp, t);
		for (size_t i = 0; i < n; i++) {
			const struct symbol *s = &t->syms[ps->v[i]];

			ps->reach[i] = s->value + s->size;
			if (i > 0 && ps->reach[i - 1] > ps->reach[i])
				ps->reach[i] = ps->reach[i - 1];
		}
		ps->n = n;
	}
	t->by_addr_built = 1;
	return 0;
}

/* The number of the pass's symbols that start at or below addr. */
static size_t count_below(const struct symtab *t, const struct pass *ps, uint64_t addr)
{
	size_t lo = 0, hi = ps->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[ps->v[mid]].value <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int bind_rank(const struct symbol *s)
{
	switch (s->bind) {
	case STB_GLOBAL:
		return 3;
	case STB_WEAK:
		return 2;
	case STB_LOCAL:
		return 1;
	default:
		return 0;
	}
}

/* Whether s, taken in table order after cur, replaces it (sized symbols
 * that both hold the address). */
static int replaces(const struct symbol *cur, const struct symbol *s)
{
	if (!cur || cur->value < s->value || bind_rank(cur) < bind_rank(s))
		return 1;
	return cur->value == s->value && ((cur->size > s->size && bind_rank(cur) <= bind_rank(s)) ||
					  (cur->size >= s->size && bind_rank(cur) < bind_rank(s)));
}

/* The sized symbol of one pass that holds addr, by the replacement rule;
 * *reach gets the furthest end of the pass's candidates (0 if none). */
static const struct symbol *sized_holder(const struct symtab *t, const struct pass *ps,
					 uint64_t addr, uint64_t *reach)
{
	size_t below = count_below(t, ps, addr);
	const struct symbol *best = NULL;

	*reach = below ? ps->reach[below - 1] : 0;

	/* The holders, walked back while anything earlier still reaches
	 * past addr, then replayed in table order: holders of one address
	 * are a handful of aliases, so a selection by order is enough. */
	uint32_t done = 0;

	for (;;) {
		const struct symbol *next = NULL;

		for (size_t i = below; i-- > 0 && ps->reach[i] > addr;) {
			const struct symbol *s = &t->syms[ps->v[i]];

			if (s->size == 0 || addr - s->value >= s->size)
				continue;
			if (s->order >= done && (!next || s->order < next->order))
				next = s;
		}
		if (!next)
			return best;
		if (replaces(best, next))
			best = next;
		done = next->order + 1;
	}
}

/* The last searched symbol without a size at exactly value in the pass,
 * lying in addr's section (sec), or NULL. */
static const struct symbol *label_at(const struct symtab *t, const struct pass *ps, uint64_t value,
				     uint64_t addr, uint32_t sec)
{
	const struct symbol *best = NULL;

	for (size_t i = count_below(t, ps, value); i-- > 0;) {
		const struct symbol *s = &t->syms[ps->v[i]];

		if (s->value != value)
			break;
		if (s->size != 0)
			continue;
		if (s->absolute ? s->value != addr : s->section != sec)
			continue;
		if (!best || s->order > best->order)
			best = s;
	}
	return best;
}

const char *symtab_by_addr(struct symtab *t, uint64_t addr, uint64_t *value, uint64_t *size,
			   int *err)
{
	if (!t->by_addr_built) {
		int ret = build_by_addr(t);

		if (ret < 0) {
			*err = ret;
			return NULL;
		}
	}

	const struct pass *globals = &t->passes[0], *locals = &t->passes[1];
	uint64_t reach, local_reach;
	const struct symbol *s = sized_holder(t, globals, addr, &reach);

	if (!s) {
		uint32_t sec = section_of(t->mod, addr);
		/* A global label exactly at addr answers without the locals. */
		int search_locals = locals->n > 0 && !label_at(t, globals, addr, addr, sec);

		if (search_locals) {
			s = sized_holder(t, locals, addr, &local_reach);
			if (local_reach > reach)
				reach = local_reach;
		}
		/* A label is taken only where no candidate reaches past it. */
		if (!s && search_locals)
			s = label_at(t, locals, reach, addr, sec);
		if (!s)
			s = label_at(t, globals, reach, addr, sec);
	}
	if (!s)
		return NULL;
	*value = s->value;
	*size = s->size;
	return s->name;
}

void symtab_free(struct symtab *t)
{
	if (!t)
		return;
	free(t->syms);
	free(t->by_name);
	free_passes(t);
	free(t);
}
