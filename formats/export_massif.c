/*
 * export_massif.c - valgrind massif's output file (massif.out.PID), read by
 * ms_print and massif-visualizer: massif's snapshots of the heap over the
 * run, the detailed ones and the peak with massif's allocation tree.
 *
 * The time unit is B, as `valgrind --tool=massif --time-unit=B` gives: the
 * bytes allocated and freed so far, with the extra bytes valgrind's
 * allocator adds (analyzer/massif.c says which snapshots, and why).  It
 * does not depend on how much the tracing slowed the program down, and it
 * is what massif recommends for short runs.  A tree's root is the whole
 * snapshot; its children are the
 * allocation sites (the first frame outside the allocator), each one's
 * children the callers that brought it there, biggest first:
 *
 *   n2: 8000016 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.
 *    n1: 8000008 0x109189: random_array (samples/arrays.c:21)
 *     n1: 8000008 0x10920c: main (samples/arrays.c:42)
 *   ...
 *
 * ms_print reads '#' as the start of a comment, so a '#' in a name
 * becomes '?'.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"

struct mnode {
	struct ex_frame f;
	uint64_t bytes;
	struct mnode *child; /* first child */
	struct mnode *next;  /* next sibling */
	size_t nchildren;
};

struct massif {
	unsigned long long snapshots;
	struct mnode root;
	struct ex_sample detail; /* the sample being detailed */
	int in_detail;
	int err;
};

static int massif_begin(struct ex_writer *w)
{
	fprintf(w->out,
		"desc: memtrack export --format massif --kind %s (time unit B: bytes "
		"allocated and freed so far)\n",
		w->info->kind ? w->info->kind : "heap");
	/* "cmd:" takes the rest of its line */
	fputs("cmd: ", w->out);
	for (const char *p = w->info->command ? w->info->command : ""; *p; p++)
		fputc(*p == '\n' ? ' ' : *p, w->out);
	fputs("\ntime_unit: B\n", w->out);
	return ex_status(w->out);
}

static void header(struct ex_writer *w, const struct ex_sample *s, const char *tree)
{
	struct massif *m = w->state;

	fprintf(w->out,
		"#-----------\nsnapshot=%llu\n#-----------\ntime=%llu\nmem_heap_B=%llu\n"
		"mem_heap_extra_B=%llu\nmem_stacks_B=0\nheap_tree=%s\n",
		m->snapshots++, (unsigned long long)s->moved, (unsigned long long)s->total,
		(unsigned long long)s->extra, tree);
}

static int streq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int same_frame(const struct ex_frame *a, const struct ex_frame *b)
{
	return a->pc == b->pc && a->line == b->line && streq(a->function, b->function) &&
	       streq(a->file, b->file);
}

static int add_stack(struct mnode *root, const struct ex_site *s)
{
	struct mnode *at = root;

	root->bytes += s->size;
	for (size_t i = 0; i < s->nframes; i++) {
		struct mnode *c;

		for (c = at->child; c && !same_frame(&c->f, &s->frames[i]); c = c->next)
			;
		if (!c) {
			c = calloc(1, sizeof(*c));
			if (!c)
				return -ENOMEM;
			c->f = s->frames[i];
			c->next = at->child;
			at->child = c;
			at->nchildren++;
		}
		c->bytes += s->size;
		at = c;
	}
	return 0;
}

static void put_text(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s == '#' ? '?' : *s == '\n' ? ' ' : *s, out);
}

/* Biggest first; equal sizes in the order of their text. */
static int by_bytes(const void *pa, const void *pb)
{
	const struct mnode *a = *(struct mnode *const *)pa, *b = *(struct mnode *const *)pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->f.pc != b->f.pc)
		return a->f.pc < b->f.pc ? -1 : 1;
	return a->f.line < b->f.line ? -1 : a->f.line > b->f.line;
}

static int print_tree(FILE *out, const struct mnode *n, int depth)
{
	struct mnode **kids = NULL;
	size_t k = 0;
	int ret = 0;

	fprintf(out, "%*sn%zu: %llu ", depth, "", n->nchildren, (unsigned long long)n->bytes);
	if (!depth) {
		fputs("(heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n", out);
	} else {
		fprintf(out, "0x%llx: ", (unsigned long long)n->f.pc);
		put_text(out, n->f.function ? n->f.function : "???");
		if (n->f.file) {
			fputs(" (", out);
			put_text(out, n->f.file);
			fprintf(out, ":%u)\n", n->f.line);
		} else if (n->f.module) {
			fputs(" (in ", out);
			put_text(out, n->f.module);
			fputs(")\n", out);
		} else {
			fputc('\n', out);
		}
	}
	if (n->nchildren && !(kids = malloc(n->nchildren * sizeof(*kids))))
		return -ENOMEM;
	for (const struct mnode *c = n->child; c && k < n->nchildren; c = c->next)
		kids[k++] = (struct mnode *)c;
	if (k)
		qsort(kids, k, sizeof(*kids), by_bytes);
	for (size_t i = 0; i < k && ret == 0; i++)
		ret = print_tree(out, kids[i], depth + 1);
	free(kids);
	return ret;
}

static void free_tree(struct mnode *n)
{
	struct mnode *c = n->child, *next;

	for (; c; c = next) {
		next = c->next;
		free_tree(c);
		free(c);
	}
	n->child = NULL;
	n->nchildren = 0;
	n->bytes = 0;
}

static int massif_event(struct ex_writer *w, const struct ex_record *rec)
{
	struct massif *m = w->state;
	int ret = 0;

	switch (rec->type) {
	case EX_SAMPLE:
		header(w, &rec->u.sample, "empty");
		break;
	case EX_DETAIL_BEGIN:
		free_tree(&m->root);
		m->detail = rec->u.sample;
		m->in_detail = 1;
		break;
	case EX_SITE:
		if (m->in_detail)
			ret = add_stack(&m->root, &rec->u.site);
		break;
	case EX_DETAIL_END:
		header(w, &m->detail, m->detail.peak ? "peak" : "detailed");
		ret = print_tree(w->out, &m->root, 0);
		free_tree(&m->root);
		m->in_detail = 0;
		break;
	}
	return ret ? ret : ex_status(w->out);
}

static int massif_end(struct ex_writer *w)
{
	struct massif *m = w->state;

	free_tree(&m->root);
	return ex_status(w->out);
}

const struct exporter ex_massif = {
	.name = "massif",
	.input = EX_INPUT_SERIES | EX_INPUT_DETAIL,
	.export_format = 1,
	.state_size = sizeof(struct massif),
	.begin = massif_begin,
	.event = massif_event,
	.end = massif_end,
};
