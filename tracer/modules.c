/*
 * modules.c - the code a process has mapped, and arming its allocator.
 *
 * Modules are (re)scanned from /proc/PID/maps at exec and after every
 * successful file mapping with PROT_EXEC — which the seccomp filter shows
 * us at the exact moment the dynamic loader has mapped a library's text and
 * before any of its code has run.  That is when the allocator is armed: the
 * first module, in load order, that defines malloc is the one the program's
 * calls bind to, and arming it then catches every call valgrind would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/log_writer.h"
#include "elfinfo.h"
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

/* Places breakpoints on every allocator entry point e defines. */
static int arm(struct tracer *tr, struct tproc *p, struct tthread *t, const struct tmodule *m,
	       struct elfinfo *e)
{
	uint64_t value, size;
	int err;

	if (elfinfo_symbol(e, "malloc", &value, &size) < 0)
		return 0;	/* not an allocator */

	for (size_t i = 0; i < nalloc_entries; i++) {
		const struct alloc_entry *ae = &alloc_entries[i];
		uint8_t code[16], slot[BP_SLOT_SIZE];
		uint64_t addr, slot_addr;
		struct bp nb = {0}, *bp;
		int used;
		ssize_t n;

		if (elfinfo_symbol(e, ae->name, &value, &size) < 0)
			continue;
		addr = m->bias + value;
		if (bpt_find(&p->bps, addr))
			continue;	/* an alias of an earlier row */
		n = tmem_read(t->tid, addr, code, sizeof(code));
		if (n <= 0) {
			TRACE_ERR(tr, "cannot read %s at %#llx in %s", ae->name,
				  (unsigned long long)addr, m->path);
			return n < 0 ? (int)n : -EFAULT;
		}
		if ((err = scratch_alloc(tr, p, t, addr, BP_SLOT_SIZE, &slot_addr)) < 0) {
			TRACE_ERR(tr, "cannot map a scratch page near %s in process %d: %s",
				  m->path, (int)p->pid, strerror(-err));
			return err;
		}
		nb.addr = addr;
		nb.kind = BP_ALLOC;
		nb.fn = ae->fn;
		if ((err = bp_prepare(&nb, code, (size_t)n, slot_addr, slot, &used)) < 0) {
			char what[64];

			bp_describe(&nb, what, sizeof(what));
			TRACE_ERR(tr, "cannot hook %s: its first instruction (%s) can be neither "
				      "emulated nor run out of line", ae->name, what);
			return err;
		}
		if (used && (err = tmem_write(p->memfd, slot_addr, slot, BP_SLOT_SIZE)) < 0)
			return err;
		if ((err = bp_insert(&nb, p->memfd)) < 0)
			return err;
		bp = bpt_add(&p->bps, addr);
		if (!bp)
			return -ENOMEM;
		*bp = nb;
		if (p->nafns < MT_FN_COUNT)
			p->afns[p->nafns++] = (struct afn){addr, addr + (size ? size : 1), ae->fn};
	}
	/* the trampoline is a breakpoint like the others */
	struct bp *tb = bpt_add(&p->bps, p->trampoline);

	if (!tb)
		return -ENOMEM;
	tb->addr = p->trampoline;
	tb->kind = BP_TRAMPOLINE;
	tb->exec = BP_EXEC_NONE;
	tb->len = 1;
	tb->orig[0] = 0xcc;
	p->alloc_lo = m->start;
	p->alloc_hi = m->end;
	p->armed = 1;
	return 0;
}

static int add_module(struct tracer *tr, struct tproc *p, struct tthread *t,
		      const struct pmap *pm)
{
	struct elfinfo *e = NULL;
	struct tmodule m = {0};
	int err;

	if (elfinfo_open(&e, pm->path) < 0)
		return 0;	/* not an ELF file we can read: nothing to unwind or arm */
	if (elfinfo_bias(e, pm->start, pm->offset, &m.bias) < 0) {
		elfinfo_close(e);
		return 0;
	}
	m.path = strdup(pm->path);
	if (!m.path) {
		elfinfo_close(e);
		return -ENOMEM;
	}
	m.start = pm->start;
	m.end = pm->end;
	m.dev = pm->dev;
	m.ino = pm->ino;

	if (p->followed) {
		struct mt_module lm = {.space = p->space, .start = m.start, .end = m.end,
				       .bias = m.bias, .path = m.path};

		lm.build_id_len = (uint32_t)elfinfo_build_id(e, lm.build_id,
							     sizeof(lm.build_id));
		if (lm.build_id_len > sizeof(lm.build_id))
			lm.build_id_len = sizeof(lm.build_id);
		m.log_id = log_writer_module(tr->w, &lm);
		unw_add_module(p->unw, m.path, m.start, m.end, m.bias);
	}
	if (p->nmods == p->capmods) {
		size_t nc = p->capmods ? p->capmods * 2 : 32;
		struct tmodule *nv = realloc(p->mods, nc * sizeof(*nv));

		if (!nv) {
			free(m.path);
			elfinfo_close(e);
			return -ENOMEM;
		}
		p->mods = nv;
		p->capmods = nc;
	}
	p->mods[p->nmods++] = m;

	/* Arming needs a stopped thread that can run an injected syscall. */
	err = 0;
	if (!p->armed && p->followed && t)
		err = arm(tr, p, t, &m, e);
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
		err = add_module(tr, p, t, pm);
	}
	pmaps_free(&maps);
	return err;
}

void modules_unmapped(struct tracer *tr, struct tproc *p, uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;

	for (size_t i = 0; i < p->nmods;) {
		struct tmodule *m = &p->mods[i];

		if (m->start < end && addr < m->end) {
			if (p->followed) {
				log_writer_module_gone(tr->w, m->log_id, trace_now(tr));
				unw_remove_module(p->unw, m->start);
			}
			free(m->path);
			*m = p->mods[--p->nmods];
			continue;
		}
		i++;
	}
}

void modules_free(struct tproc *p)
{
	for (size_t i = 0; i < p->nmods; i++)
		free(p->mods[i].path);
	free(p->mods);
	p->mods = NULL;
	p->nmods = p->capmods = 0;
}
