/*
 * resolve.c - stacks into source frames (see resolve.h): a cache from
 * (space, pc) to the frames of that pc, built from the log's symbol table or,
 * failing that, from a symbolizer opened on first need.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/arena.h"
#include "../symbolizer/symbolizer.h"
#include "input.h"
#include "resolve.h"
#include "table.h"

/* A walk longer than this is a loop in a corrupt trie. */
#define MAX_STACK_NODES 65536

struct pc_frames {
	const struct an_frame *f;
	uint32_t n;
};

HASH_DEFINE(pc_table, struct table_key, struct pc_frames, table_hash_pair, table_eq_pair)

struct resolver {
	struct log_reader *r;
	const struct mt_module *mods;
	size_t nmods;
	struct symbolizer *sym;
	int sym_tried;
	struct pc_table pcs;	     /* (space, pc) -> struct pc_frames */
	struct arena arena;	     /* frames and the strings made for them */
	const struct an_frame **vec; /* resolver_stack()'s answer */
	size_t cap;
	struct an_frame unknown;
	struct an_frame cut;
	/* pcs left unnamed because their module's file is gone [0] or is
	 * another build [1] (a log cut short before their symbols) */
	struct unnamed {
		size_t pcs;
		uint32_t *ids; /* the modules, each once */
		size_t nids, cap;
		const char *example; /* the first */
	} unnamed[2];
};

int resolver_open(struct resolver **out, struct log_reader *r)
{
	struct resolver *res = calloc(1, sizeof(*res));

	if (!res)
		return -ENOMEM;
	res->r = r;
	res->mods = log_reader_modules(r, &res->nmods);
	pc_table_init(&res->pcs);
	res->unknown.display = "<unknown>";
	res->cut.display = "[truncated]";
	res->cut.cut = log_reader_header(r)->depth;
	*out = res;
	return 0;
}

void resolver_close(struct resolver *res)
{
	if (!res)
		return;
	sym_close(res->sym);
	free(res->unnamed[0].ids);
	free(res->unnamed[1].ids);
	pc_table_free(&res->pcs);
	arena_free(&res->arena);
	free(res->vec);
	free(res);
}

static const struct mt_module *module_by_id(const struct resolver *res, uint32_t id)
{
	if (!id)
		return NULL;
	if (id <= res->nmods && res->mods[id - 1].id == id)
		return &res->mods[id - 1];
	for (size_t i = 0; i < res->nmods; i++)
		if (res->mods[i].id == id)
			return &res->mods[i];
	return NULL;
}

/* The module mapped last over pc: a later mapping replaces an earlier one. */
static const struct mt_module *module_by_pc(const struct resolver *res, uint32_t space, uint64_t pc)
{
	for (size_t i = res->nmods; i-- > 0;) {
		const struct mt_module *m = &res->mods[i];

		if (m->space == space && m->start <= pc && pc < m->end)
			return m;
	}
	return NULL;
}

/* The symbolizer for pcs the log has no symbol for, opened on first need
 * over every module of the log. */
static struct symbolizer *symbolizer(struct resolver *res)
{
	if (res->sym_tried)
		return res->sym;
	res->sym_tried = 1;
	if (sym_open(&res->sym) < 0) {
		res->sym = NULL;
		return NULL;
	}
	for (size_t i = 0; i < res->nmods; i++)
		sym_add_module(res->sym, &res->mods[i]); /* an odd module only stays unknown */
	return res->sym;
}

/* file relative to comp_dir when it lies under it (gcc samples/arrays.c run
 * in /src records /src/samples/arrays.c: show samples/arrays.c). */
static const char *display_path(const char *file, const char *comp_dir)
{
	size_t len;

	if (!comp_dir || file[0] != '/')
		return file;
	len = strlen(comp_dir);
	while (len > 0 && comp_dir[len - 1] == '/')
		len--;
	/* Relative to "/" would only drop the slash. */
	if (!len || strncmp(file, comp_dir, len) || file[len] != '/' || !file[len + 1])
		return file;
	return file + len + 1;
}

static const char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *arena_printf(struct arena *a, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	return arena_strndup(a, buf, (size_t)n);
}

/* "MODULE+0xOFF(FUNCTION)", "MODULE+0xOFF" or "0xPC": OFF is the offset in
 * the module (an ELF address, what addr2line -e MODULE takes). */
static const char *module_form(struct resolver *res, const struct mt_module *m,
			       const char *function, uint64_t offset, uint64_t pc)
{
	if (!m)
		return arena_printf(&res->arena, "0x%" PRIx64, pc);
	if (function)
		return arena_printf(&res->arena, "%s+0x%" PRIx64 "(%s)", m->path, offset, function);
	return arena_printf(&res->arena, "%s+0x%" PRIx64, m->path, offset);
}

/* A pc of module m stays unnamed: counted when its file is gone or is
 * another build (the log lacks its symbols: it was cut short). */
static void note_unnamed(struct resolver *res, const struct mt_module *m)
{
	enum sym_module_state why = sym_module_state(res->sym, m->id);
	int i = why == SYM_MODULE_MISSING ? 0 : why == SYM_MODULE_CHANGED ? 1 : -1;
	struct unnamed *u;
	size_t k;

	if (i < 0)
		return;
	u = &res->unnamed[i];
	u->pcs++;
	for (k = 0; k < u->nids && u->ids[k] != m->id; k++)
		;
	if (k < u->nids)
		return;
	if (u->nids == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 8;
		uint32_t *ids = realloc(u->ids, cap * sizeof(*ids));

		if (!ids)
			return; /* the count stays a little short */
		u->ids = ids;
		u->cap = cap;
	}
	u->ids[u->nids++] = m->id;
	if (!u->example)
		u->example = m->path;
}

int resolver_note_unnamed(struct resolver *res, const char *log, struct an_status *st)
{
	static const char *const why[2][2] = {
		{"the file is gone", "the files are gone"},
		{"the file there now is another build (its build-id differs)",
		 "the files there now are other builds (their build-ids differ)"},
	};
	char others[64] = "";
	int said = 0;

	for (int i = 0; res && i < 2; i++) {
		const struct unnamed *u = &res->unnamed[i];

		if (!u->pcs)
			continue;
		if (u->nids > 1)
			snprintf(others, sizeof(others), " and %zu other module%s", u->nids - 1,
				 u->nids > 2 ? "s" : "");
		status_add(st,
			   "%s: %zu pc%s of %s%s cannot be named: %s, and the log holds no "
			   "symbols for them (cut short before they were written?)",
			   log, u->pcs, u->pcs == 1 ? "" : "s",
			   u->example ? u->example : "a module", others, why[i][u->nids > 1]);
		said = 1;
	}
	return said;
}

static int resolve_pc(struct resolver *res, uint32_t space, uint64_t pc, struct pc_frames *out)
{
	const struct mt_symbol *sym = log_reader_symbol(res->r, space, pc);
	int in_log = sym != NULL;
	const struct mt_module *m;
	struct mt_symbol found;
	struct an_frame *f;
	uint64_t offset;
	uint32_t n;

	/* the log's symbol, or what the module's file says now */
	if ((!sym || !sym->nframes) && symbolizer(res) &&
	    sym_resolve(res->sym, space, pc, &found) == 0 && (found.nframes || !sym))
		sym = &found;
	m = sym ? module_by_id(res, sym->module) : NULL;
	if (!m)
		m = module_by_pc(res, space, pc);
	if (m && !in_log && (!sym || !sym->nframes))
		note_unnamed(res, m);
	offset = sym && sym->module ? sym->offset : m ? pc - m->bias : pc;
	n = sym && sym->nframes ? sym->nframes : 1;
	if (n > MT_SYM_MAX_INLINE)
		n = MT_SYM_MAX_INLINE;
	f = arena_alloc(&res->arena, n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct mt_symframe *sf = sym && sym->nframes ? &sym->frames[i] : NULL;

		f[i].pc = pc;
		f[i].module = m ? m->path : NULL;
		f[i].module_id = m ? m->id : 0;
		f[i].comp_dir = sym ? sym->comp_dir : NULL;
		f[i].inlined = i + 1 < n;
		if (sf) {
			f[i].function = sf->function;
			f[i].file = sf->file;
			f[i].flags = sf->flags;
		}
		if (sf && sf->file) {
			f[i].line = sf->line;
			f[i].display = display_path(f[i].file, f[i].comp_dir);
		} else {
			f[i].display = module_form(res, m, f[i].function, offset, pc);
			if (!f[i].display)
				return -ENOMEM;
		}
	}
	out->f = f;
	out->n = n;
	return 0;
}

static int push(struct resolver *res, size_t *n, const struct an_frame *f)
{
	if (*n == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 64;
		const struct an_frame **v = realloc(res->vec, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		res->vec = v;
		res->cap = cap;
	}
	res->vec[(*n)++] = f;
	return 0;
}

const struct an_frame *const *resolver_stack(struct resolver *res, uint64_t stack, size_t *n)
{
	uint64_t id = stack & ~AN_STACK_CUT, parent, pc;
	uint32_t space;
	size_t nodes = 0;

	*n = 0;
	while (id && nodes++ < MAX_STACK_NODES &&
	       log_reader_stack_node(res->r, id, &parent, &pc, &space) == 0) {
		int created;
		struct pc_frames *pf = pc_table_put(&res->pcs, TABLE_KEY(space, pc), &created);

		if (!pf || (created && resolve_pc(res, space, pc, pf) < 0)) {
			if (pf)
				pc_table_del(&res->pcs, TABLE_KEY(space, pc));
			return NULL;
		}
		for (uint32_t i = 0; i < pf->n; i++)
			if (push(res, n, &pf->f[i]) < 0)
				return NULL;
		id = parent;
	}
	if (!*n && push(res, n, &res->unknown) < 0)
		return NULL;
	if ((stack & AN_STACK_CUT) && res->vec[0] != &res->unknown && push(res, n, &res->cut) < 0)
		return NULL;
	return res->vec;
}

struct module_lines {
	int has_lines;
};

HASH_DEFINE(module_table, uint64_t, struct module_lines, table_hash_u64, table_eq_u64)

size_t resolver_modules_without_lines(struct resolver *res, size_t *total, const char **example)
{
	struct module_table mods = {0};
	size_t i = 0, without = 0;
	uint32_t example_id = 0;
	struct module_lines *ml;
	struct pc_frames *pf;

	*total = 0;
	*example = NULL;
	while (pc_table_next(&res->pcs, &i, NULL, &pf)) {
		for (uint32_t k = 0; k < pf->n; k++) {
			const struct an_frame *f = &pf->f[k];

			if (!f->module_id)
				continue;
			ml = module_table_put(&mods, f->module_id, NULL);
			if (!ml)
				goto out;
			if (f->file || (res->sym && sym_module_has_lines(res->sym, f->module_id)))
				ml->has_lines = 1;
		}
	}
	i = 0;
	*total = mods.len;
	for (uint64_t id; module_table_next(&mods, &i, &id, &ml);) {
		if (ml->has_lines)
			continue;
		without++;
		/* the first module of the log makes a stable example */
		if (!example_id || id < example_id)
			example_id = (uint32_t)id;
	}
	if (example_id) {
		const struct mt_module *m = module_by_id(res, example_id);

		*example = m ? m->path : NULL;
	}
out:
	module_table_free(&mods);
	return without;
}
