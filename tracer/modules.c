/*
 * modules.c - the code a process has mapped: recorded from /proc/PID/maps
 * at exec and after every successful file mapping with PROT_EXEC (the
 * seccomp filter shows us that mmap at the exact moment the dynamic loader
 * has mapped a library's text, before any of its code has run), copied
 * into a fork child, forgotten when unmapped.  Hooking what a module
 * defines is arm.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/log_writer.h"
#include "../symbolizer/elf.h"
#include "memory.h"
#include "procmaps.h"
#include "trace.h"
#include "unwind.h"

static struct tmodule *find_module(struct tproc *p, uint64_t start)
{
	for (size_t i = 0; i < p->nmods; i++)
		if (p->mods[i].start == start)
			return &p->mods[i];
	return NULL;
}

static int record_module(struct tracer *tr, struct tproc *p, const struct tmodule *src,
			 const uint8_t *build_id, size_t build_id_len)
{
	struct tmodule m = *src;

	m.path = strdup(src->path);
	if (!m.path)
		return -ENOMEM;
	if (p->followed) {
		struct mt_module lm = {.space = p->symspace, .start = m.start, .end = m.end,
				       .bias = m.bias, .path = m.path};

		lm.build_id_len = (uint32_t)(build_id_len < sizeof(lm.build_id)
						     ? build_id_len
						     : sizeof(lm.build_id));
		memcpy(lm.build_id, build_id, lm.build_id_len);
		m.log_id = log_writer_module(tr->w, &lm);
		unw_add_module(p->unw, m.path, m.start, m.end, m.bias);
	}
	if (p->nmods == p->capmods) {
		size_t nc = p->capmods ? p->capmods * 2 : 32;
		struct tmodule *nv = realloc(p->mods, nc * sizeof(*nv));

		if (!nv) {
			free(m.path);
			return -ENOMEM;
		}
		p->mods = nv;
		p->capmods = nc;
	}
	p->mods[p->nmods++] = m;
	return 0;
}

static int add_module(struct tracer *tr, struct tproc *p, const struct pmap *pm)
{
	struct elfinfo *e = NULL;
	struct tmodule m = {.start = pm->start, .end = pm->end, .dev = pm->dev, .ino = pm->ino,
			    .path = pm->path};
	uint8_t build_id[MT_LOG_MAX_BUILD_ID];
	size_t n;
	int err;

	if (elfinfo_open(&e, pm->path) < 0)
		return 0;	/* not an ELF file we can read: nothing to unwind or arm */
	if (elfinfo_bias(e, pm->start, pm->offset, &m.bias) < 0) {
		elfinfo_close(e);
		return 0;
	}
	n = elfinfo_build_id(e, build_id, sizeof(build_id));
	err = record_module(tr, p, &m, build_id, n < sizeof(build_id) ? n : sizeof(build_id));
	elfinfo_close(e);
	return err;
}

int modules_scan(struct tracer *tr, struct tproc *p, struct tthread *t)
{
	struct pmaps maps;
	int err;

	if ((err = pmaps_read(p->pid, &maps)) < 0)
		return err;
	for (size_t i = 0; i < maps.n && err >= 0; i++) {
		const struct pmap *pm = &maps.v[i];

		if (!(pm->prot & PMAP_X) || !pm->path || pm->path[0] != '/' || !pm->ino)
			continue;
		if (find_module(p, pm->start))
			continue;
		err = add_module(tr, p, pm);
	}
	pmaps_free(&maps);
	if (err < 0)
		return err;
	if (!t) {
		p->arm_pending = 1;
		return 0;
	}
	return modules_arm(tr, p, t);
}

int modules_copy(struct tracer *tr, struct tproc *from, struct tproc *to)
{
	for (size_t i = 0; i < from->nmods; i++) {
		struct elfinfo *e = NULL;
		uint8_t build_id[MT_LOG_MAX_BUILD_ID];
		size_t n = 0;
		int err;

		if (elfinfo_open(&e, from->mods[i].path) == 0) {
			n = elfinfo_build_id(e, build_id, sizeof(build_id));
			elfinfo_close(e);
		}
		err = record_module(tr, to, &from->mods[i], build_id,
				    n < sizeof(build_id) ? n : sizeof(build_id));
		if (err < 0)
			return err;
	}
	return 0;
}

/* The modules of p logged again under a new symbol space. */
static void new_symspace(struct tracer *tr, struct tproc *p)
{
	p->symspace = ++tr->next_space;
	for (size_t i = 0; i < p->nmods; i++) {
		struct tmodule *m = &p->mods[i];
		struct mt_module lm = {.space = p->symspace, .start = m->start, .end = m->end,
				       .bias = m->bias, .path = m->path};
		struct elfinfo *e = NULL;

		if (elfinfo_open(&e, m->path) == 0) {
			size_t n = elfinfo_build_id(e, lm.build_id, sizeof(lm.build_id));

			lm.build_id_len = (uint32_t)(n < sizeof(lm.build_id) ? n : sizeof(lm.build_id));
			elfinfo_close(e);
		}
		m->log_id = log_writer_module(tr->w, &lm);
	}
}

void modules_unmapped(struct tracer *tr, struct tproc *p, uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;
	int gone = 0;

	for (size_t i = 0; i < p->nmods;) {
		struct tmodule *m = &p->mods[i];

		if (m->start < end && addr < m->end) {
			if (p->followed) {
				log_writer_module_gone(tr->w, m->log_id, trace_now(tr));
				unw_remove_module(p->unw, m->start);
			}
			/* breakpoints in it went with its code, and an allocator
			 * in it is no longer one */
			for (size_t k = 0; k < p->nafns;) {
				if (p->afns[k].start >= m->start && p->afns[k].start < m->end)
					p->afns[k] = p->afns[--p->nafns];
				else
					k++;
			}
			for (size_t k = 0; k < p->nalloc_ranges;) {
				if (p->alloc_ranges[k].start == m->start)
					p->alloc_ranges[k] = p->alloc_ranges[--p->nalloc_ranges];
				else
					k++;
			}
			uint64_t a;

			for (size_t k = 0; bp_table_next(&p->bps, &k, &a, NULL);) {
				if (a >= m->start && a < m->end) {
					bp_table_del(&p->bps, a);
					k = 0;	/* the table moved entries */
				}
			}
			free(m->path);
			*m = p->mods[--p->nmods];
			gone = 1;
			continue;
		}
		i++;
	}
	/* Something else may be mapped where that code was (dlclose, then
	 * dlopen of another library): from now on pcs are another space's. */
	if (gone && p->followed)
		new_symspace(tr, p);
}

void modules_free(struct tproc *p)
{
	for (size_t i = 0; i < p->nmods; i++)
		free(p->mods[i].path);
	free(p->mods);
	p->mods = NULL;
	p->nmods = p->capmods = 0;
}
