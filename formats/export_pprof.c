/*
 * export_pprof.c - pprof's profile.proto, gzipped: the file `go tool pprof`,
 * its web UI and the tools that speak pprof read.  The sample types are
 * those of Go's heap profiles, so pprof's heap options work as they do on
 * Go's: alloc_objects (count) and alloc_space (bytes) allocated up to the
 * moment, inuse_objects (count) and inuse_space (bytes) live at it, the last
 * the default.  One sample per stack, its allocation site first.
 *
 * A location is one pc of a stack: its lines are the pc's inline chain,
 * the innermost first, as profile.proto orders them; a function is a
 * (name, file) pair; a mapping is a module of the log, with its build-id.
 * The protobuf is written by hand (varints and length-delimited fields are
 * all it takes), then compressed by zlib into a gzip stream.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "arena.h"
#include "export.h"
#include "hash.h"

/* --- a protobuf message being written --------------------------------------- */

struct pb {
	unsigned char *v;
	size_t n, cap;
	int failed; /* out of memory: every later write is dropped */
};

enum { PB_VARINT = 0, PB_BYTES = 2 };

static void pb_put(struct pb *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->n + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *v;

		while (cap < b->n + len)
			cap *= 2;
		v = realloc(b->v, cap);
		if (!v) {
			b->failed = 1;
			return;
		}
		b->v = v;
		b->cap = cap;
	}
	memcpy(b->v + b->n, data, len);
	b->n += len;
}

static void pb_varint(struct pb *b, uint64_t x)
{
	unsigned char buf[10];
	size_t n = 0;

	do {
		buf[n++] = (unsigned char)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
		x >>= 7;
	} while (x);
	pb_put(b, buf, n);
}

static void pb_key(struct pb *b, unsigned field, unsigned wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

/* An integer field; proto3 leaves zeros out. */
static void pb_int(struct pb *b, unsigned field, uint64_t x)
{
	if (!x)
		return;
	pb_key(b, field, PB_VARINT);
	pb_varint(b, x);
}

static void pb_bytes(struct pb *b, unsigned field, const void *data, size_t len)
{
	pb_key(b, field, PB_BYTES);
	pb_varint(b, len);
	pb_put(b, data, len);
}

/* A sub-message: written into m, then appended as a field of b; m is
 * emptied for the next one. */
static void pb_message(struct pb *b, unsigned field, struct pb *m)
{
	if (m->failed)
		b->failed = 1;
	pb_bytes(b, field, m->v, m->n);
	m->n = 0;
}

/* A packed repeated integer field. */
static void pb_packed(struct pb *b, unsigned field, const uint64_t *x, size_t n, struct pb *tmp)
{
	for (size_t i = 0; i < n; i++)
		pb_varint(tmp, x[i]);
	pb_message(b, field, tmp);
}

/* --- the profile's tables ----------------------------------------------------- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return hash_mix64(h);
}

static int str_eq(const char *a, const char *b)
{
	return !strcmp(a, b);
}

/* text -> its index + 1, in strings or in the key tables below */
HASH_DEFINE(pprof_index, const char *, uint64_t, str_hash, str_eq)

struct pprof_location {
	uint64_t mapping, address;
	size_t first, nlines; /* into pprof.lines */
};

struct pprof_line {
	uint64_t function, line;
};

struct pprof_function {
	uint64_t name, file; /* string indices */
};

struct pprof_sample {
	size_t first, n; /* into pprof.stack */
	uint64_t values[4];
};

struct pprof {
	struct arena arena;	    /* the keys' text */
	struct pprof_index strings; /* text -> string index + 1 */
	const char **string_v;
	size_t nstrings, capstrings;
	struct pprof_index functions; /* "name\nfile" -> function id */
	struct pprof_function *function_v;
	size_t nfunctions, capfunctions;
	struct pprof_index locations; /* "mapping address function:line..." -> id */
	struct pprof_location *location_v;
	size_t nlocations, caplocations;
	struct pprof_line *line_v;
	size_t nlines, caplines;
	uint64_t *stack; /* the samples' location ids */
	size_t nstack, capstack;
	struct pprof_sample *sample_v;
	size_t nsamples, capsamples;
};

/* Makes room for one more element of v[n]. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

#define GROW(p, name)                                                                              \
	grow((void **)&(p)->name##_v, &(p)->cap##name##s, (p)->n##name##s, sizeof(*(p)->name##_v))

/* The string table's index of s; index 0 is "". */
static int64_t string_index(struct pprof *p, const char *s)
{
	uint64_t *slot;
	char *copy;

	if (!s || !*s)
		return 0;
	slot = pprof_index_get(&p->strings, s);
	if (slot)
		return (int64_t)*slot;
	if (GROW(p, string) < 0 || !(copy = arena_strndup(&p->arena, s, strlen(s))))
		return -ENOMEM;
	slot = pprof_index_put(&p->strings, copy, NULL);
	if (!slot)
		return -ENOMEM;
	p->string_v[p->nstrings] = copy;
	*slot = ++p->nstrings; /* string 0 is "", written first */
	return (int64_t)*slot;
}

static int64_t function_id(struct pprof *p, const struct ex_frame *f)
{
	const char *name = ex_frame_name(f), *file = f->file ? f->file : "";
	size_t len = strlen(name) + strlen(file) + 2;
	char *key = arena_alloc(&p->arena, len);
	int64_t n, fl;
	uint64_t *slot;

	if (!key)
		return -ENOMEM;
	snprintf(key, len, "%s\n%s", name, file);
	slot = pprof_index_get(&p->functions, key);
	if (slot)
		return (int64_t)*slot;
	n = string_index(p, name);
	fl = string_index(p, file);
	if (n < 0 || fl < 0 || GROW(p, function) < 0)
		return -ENOMEM;
	slot = pprof_index_put(&p->functions, key, NULL);
	if (!slot)
		return -ENOMEM;
	p->function_v[p->nfunctions] = (struct pprof_function){(uint64_t)n, (uint64_t)fl};
	*slot = ++p->nfunctions;
	return (int64_t)*slot;
}

/* The location of frames[0..n): one pc, its inline chain innermost first. */
static int64_t location_id(struct pprof *p, const struct ex_frame *frames, size_t n)
{
	char key[64 + 48 * 16];
	size_t len, first = p->nlines;
	uint64_t *slot;
	char *copy;

	len = (size_t)snprintf(key, sizeof(key), "%u %llx", frames[0].module_id,
			       (unsigned long long)frames[0].pc);
	for (size_t i = 0; i < n; i++) {
		int64_t fn = function_id(p, &frames[i]);

		if (fn < 0 ||
		    grow((void **)&p->line_v, &p->caplines, p->nlines, sizeof(*p->line_v)) < 0)
			return -ENOMEM;
		p->line_v[p->nlines++] = (struct pprof_line){(uint64_t)fn, frames[i].line};
		if (len < sizeof(key) - 48)
			len += (size_t)snprintf(key + len, sizeof(key) - len, " %lld:%u",
						(long long)fn, frames[i].line);
	}
	slot = pprof_index_get(&p->locations, key);
	if (slot) {
		p->nlines = first; /* known: its lines are already there */
		return (int64_t)*slot;
	}
	if (GROW(p, location) < 0 || !(copy = arena_strndup(&p->arena, key, len)))
		return -ENOMEM;
	slot = pprof_index_put(&p->locations, copy, NULL);
	if (!slot)
		return -ENOMEM;
	p->location_v[p->nlocations] = (struct pprof_location){
		.mapping = frames[0].module_id,
		.address = frames[0].pc,
		.first = first,
		.nlines = n,
	};
	*slot = ++p->nlocations;
	return (int64_t)*slot;
}

static int pprof_begin(struct ex_writer *w)
{
	return 0;
}

static int pprof_event(struct ex_writer *w, const struct ex_record *rec)
{
	struct pprof *p = w->state;
	const struct ex_site *s = &rec->u.site;
	struct pprof_sample *sm;
	size_t first = p->nstack;

	if (rec->type != EX_SITE || !s->nframes || (!s->allocs && !s->count))
		return 0;
	for (size_t i = 0; i < s->nframes;) {
		size_t n = 1;
		int64_t id;

		while (s->frames[i + n - 1].inlined && i + n < s->nframes &&
		       s->frames[i + n].pc == s->frames[i].pc)
			n++;
		id = location_id(p, s->frames + i, n);
		if (id < 0 ||
		    grow((void **)&p->stack, &p->capstack, p->nstack, sizeof(*p->stack)) < 0)
			return -ENOMEM;
		p->stack[p->nstack++] = (uint64_t)id;
		i += n;
	}
	if (GROW(p, sample) < 0)
		return -ENOMEM;
	sm = &p->sample_v[p->nsamples++];
	sm->first = first;
	sm->n = p->nstack - first;
	sm->values[0] = s->allocs;
	sm->values[1] = s->allocated;
	sm->values[2] = s->count;
	sm->values[3] = s->size;
	return 0;
}

static void release(struct pprof *p)
{
	pprof_index_free(&p->strings);
	pprof_index_free(&p->functions);
	pprof_index_free(&p->locations);
	free(p->string_v);
	free(p->function_v);
	free(p->location_v);
	free(p->line_v);
	free(p->stack);
	free(p->sample_v);
	arena_free(&p->arena);
	memset(p, 0, sizeof(*p));
}

static const struct mt_module *module_of(const struct ex_info *info, uint32_t id)
{
	if (id && id <= info->nmodules && info->modules[id - 1].id == id)
		return &info->modules[id - 1];
	for (size_t i = 0; i < info->nmodules; i++)
		if (info->modules[i].id == id)
			return &info->modules[i];
	return NULL;
}

/* The whole Profile message into b. */
static int encode(struct pprof *p, const struct ex_info *info, struct pb *b)
{
	static const char *const types[4][2] = {
		{"alloc_objects", "count"},
		{"alloc_space", "bytes"},
		{"inuse_objects", "count"},
		{"inuse_space", "bytes"},
	};
	struct pb m = {0}, tmp = {0};
	int64_t idx[8];
	char comment[512];
	int ret = 0;

	/* every string the header needs, interned before the table is written */
	for (int i = 0; i < 4; i++) {
		idx[2 * i] = string_index(p, types[i][0]);
		idx[2 * i + 1] = string_index(p, types[i][1]);
	}
	snprintf(comment, sizeof(comment), "memtrack: %s, at %s",
		 info->command ? info->command : "", info->when ? info->when : "end");
	int64_t comment_idx = string_index(p, comment);
	int64_t space = string_index(p, "space");
	int64_t bytes = string_index(p, "bytes");

	for (size_t i = 0; i < info->nmodules; i++) {
		const struct mt_module *mod = &info->modules[i];
		char build_id[2 * MT_LOG_MAX_BUILD_ID + 1];

		for (uint32_t k = 0; k < mod->build_id_len && k < MT_LOG_MAX_BUILD_ID; k++)
			snprintf(build_id + 2 * k, 3, "%02x", mod->build_id[k]);
		build_id[2 * (mod->build_id_len < MT_LOG_MAX_BUILD_ID ? mod->build_id_len
								      : MT_LOG_MAX_BUILD_ID)] =
			'\0';
		if (string_index(p, mod->path) < 0 || string_index(p, build_id) < 0)
			return -ENOMEM;
	}
	for (int i = 0; i < 8; i++)
		if (idx[i] < 0)
			return -ENOMEM;
	if (comment_idx < 0 || space < 0 || bytes < 0)
		return -ENOMEM;

	for (int i = 0; i < 4; i++) {
		pb_int(&m, 1, (uint64_t)idx[2 * i]);
		pb_int(&m, 2, (uint64_t)idx[2 * i + 1]);
		pb_message(b, 1, &m);
	}
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct pprof_sample *s = &p->sample_v[i];

		pb_packed(&m, 1, p->stack + s->first, s->n, &tmp);
		pb_packed(&m, 2, s->values, 4, &tmp);
		pb_message(b, 2, &m);
	}
	for (size_t i = 0; i < info->nmodules; i++) {
		const struct mt_module *mod = &info->modules[i];
		char build_id[2 * MT_LOG_MAX_BUILD_ID + 1] = "";

		for (uint32_t k = 0; k < mod->build_id_len && k < MT_LOG_MAX_BUILD_ID; k++)
			snprintf(build_id + 2 * k, 3, "%02x", mod->build_id[k]);
		pb_int(&m, 1, mod->id);
		pb_int(&m, 2, mod->start);
		pb_int(&m, 3, mod->end);
		/* file_offset: the ELF address of the span's start, which is
		 * its offset in the file as GNU ld lays segments out */
		pb_int(&m, 4, mod->start - mod->bias);
		pb_int(&m, 5, (uint64_t)string_index(p, mod->path));
		pb_int(&m, 6, (uint64_t)string_index(p, build_id));
		pb_int(&m, 7, 1);
		pb_int(&m, 8, 1);
		pb_int(&m, 9, 1);
		pb_int(&m, 10, 1);
		pb_message(b, 3, &m);
	}
	for (size_t i = 0; i < p->nlocations; i++) {
		const struct pprof_location *l = &p->location_v[i];

		pb_int(&m, 1, i + 1);
		pb_int(&m, 2, module_of(info, (uint32_t)l->mapping) ? l->mapping : 0);
		pb_int(&m, 3, l->address);
		for (size_t k = 0; k < l->nlines; k++) {
			pb_int(&tmp, 1, p->line_v[l->first + k].function);
			pb_int(&tmp, 2, p->line_v[l->first + k].line);
			pb_message(&m, 4, &tmp);
		}
		pb_message(b, 4, &m);
	}
	for (size_t i = 0; i < p->nfunctions; i++) {
		pb_int(&m, 1, i + 1);
		pb_int(&m, 2, p->function_v[i].name);
		pb_int(&m, 3, p->function_v[i].name);
		pb_int(&m, 4, p->function_v[i].file);
		pb_message(b, 5, &m);
	}
	pb_bytes(b, 6, "", 0);
	for (size_t i = 0; i < p->nstrings; i++)
		pb_bytes(b, 6, p->string_v[i], strlen(p->string_v[i]));
	pb_int(b, 9, info->start_realtime_ns);
	pb_int(b, 10, info->end_ns);
	/* period_type space/bytes, period 1: every allocation is in */
	pb_int(&m, 1, (uint64_t)space);
	pb_int(&m, 2, (uint64_t)bytes);
	pb_message(b, 11, &m);
	pb_int(b, 12, 1);
	pb_int(b, 13, (uint64_t)comment_idx);
	pb_int(b, 14, (uint64_t)idx[6]); /* inuse_space */
	if (m.failed || tmp.failed || b->failed)
		ret = -ENOMEM;
	free(m.v);
	free(tmp.v);
	return ret;
}

/* data[0..len) as a gzip stream into out. */
static int gzip_write(FILE *out, const unsigned char *data, size_t len)
{
	unsigned char buf[16384];
	z_stream z;
	int ret = 0, zr;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip header and trailer around the deflate stream */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	z.next_in = (unsigned char *)data;
	z.avail_in = 0;
	do {
		size_t chunk = len > UINT32_MAX ? UINT32_MAX : len;

		if (!z.avail_in && len) {
			z.avail_in = (uInt)chunk;
			len -= chunk;
		}
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		zr = deflate(&z, len || z.avail_in ? Z_NO_FLUSH : Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			ret = -EIO;
			break;
		}
		if (fwrite(buf, 1, sizeof(buf) - z.avail_out, out) != sizeof(buf) - z.avail_out) {
			ret = -EIO;
			break;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	return ret ? ret : ex_status(out);
}

static int pprof_end(struct ex_writer *w)
{
	struct pprof *p = w->state;
	struct pb b = {0};
	int ret = encode(p, w->info, &b);

	if (ret == 0)
		ret = gzip_write(w->out, b.v ? b.v : (const unsigned char *)"", b.n);
	free(b.v);
	release(p);
	return ret;
}

const struct exporter ex_pprof = {
	.name = "pprof",
	.input = EX_INPUT_STACKS,
	.export_format = 1,
	.state_size = sizeof(struct pprof),
	.begin = pprof_begin,
	.event = pprof_event,
	.end = pprof_end,
};
