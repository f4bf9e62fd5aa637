/*
 * modules.c - the code a process has mapped, and hooking it.
 *
 * Modules are recorded from /proc/PID/maps at exec and after every
 * successful file mapping with PROT_EXEC: the seccomp filter shows us that
 * mmap at the exact moment the dynamic loader has mapped a library's text,
 * before any of its code has run.  Hooking (allocators, marks) needs a
 * stopped thread that can run an injected syscall (for scratch pages), so
 * modules recorded at exec wait for the first syscall exit (ld.so's first
 * brk, before anything can allocate) or, in a static binary, for a
 * one-shot breakpoint on the entry point.
 *
 * Every module that defines malloc is armed: normally libc alone; with a
 * preloaded allocator (jemalloc, tcmalloc, mimalloc) that one too, and a
 * call is recorded once whichever the program binds to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/log_writer.h"
#include "elfinfo.h"
#include "locate.h"
#include "memory.h"
#include "procmaps.h"
#include "trace.h"
#include "unwind.h"

#define MAX_MARK_ADDRS 64

static struct tmodule *find_module(struct tproc *p, uint64_t start)
{
	for (size_t i = 0; i < p->nmods; i++)
		if (p->mods[i].start == start)
			return &p->mods[i];
	return NULL;
}

/* A breakpoint at addr whose displaced instruction runs from a slot in a
 * scratch page near it; *bp is filled but for kind-specific fields. */
static int place(struct tracer *tr, struct tproc *p, struct tthread *t, struct bp *nb,
		 const char *what, const struct tmodule *m)
{
	uint8_t code[16], slot[BP_SLOT_SIZE];
	uint64_t slot_addr;
	struct bp *bp;
	int used, err;
	ssize_t n = tmem_read(t->tid, nb->addr, code, sizeof(code));

	if (n <= 0) {
		TRACE_ERR(tr, "cannot read %s at %#llx in %s", what, (unsigned long long)nb->addr,
			  m->path);
		return n < 0 ? (int)n : -EFAULT;
	}
	if ((err = scratch_alloc(tr, p, t, nb->addr, BP_SLOT_SIZE, &slot_addr)) < 0) {
		TRACE_ERR(tr, "cannot map a scratch page near %s in process %d: %s", m->path,
			  (int)p->pid, strerror(-err));
		return err;
	}
	if ((err = bp_prepare(nb, code, (size_t)n, slot_addr, slot, &used)) < 0) {
		char insn[64];

		bp_describe(nb, insn, sizeof(insn));
		TRACE_ERR(tr, "cannot hook %s: its first instruction (%s) can be neither "
			      "emulated nor run out of line", what, insn);
		return err;
	}
	if (used && (err = tmem_write(p->memfd, slot_addr, slot, BP_SLOT_SIZE)) < 0)
		return err;
	if ((err = bp_insert(nb, p->memfd)) < 0)
		return err;
	bp = bpt_add(&p->bps, nb->addr);
	if (!bp)
		return -ENOMEM;
	*bp = *nb;
	return 0;
}

/* Hooks every allocator entry point e defines; 0 if it defines none. */
static int arm_allocator(struct tracer *tr, struct tproc *p, struct tthread *t,
			 const struct tmodule *m, struct elfinfo *e)
{
	uint64_t value, size;
	int err;

	if (elfinfo_symbol(e, "malloc", &value, &size) < 0)
		return 0;
	if (p->nalloc_ranges == MAX_ALLOCATORS)
		return 0;
	for (size_t i = 0; i < nalloc_entries; i++) {
		const struct alloc_entry *ae = &alloc_entries[i];
		struct bp nb = {.kind = BP_ALLOC, .fn = ae->fn};

		if (elfinfo_symbol(e, ae->name, &value, &size) < 0)
			continue;
		nb.addr = m->bias + value;
		if (bpt_find(&p->bps, nb.addr))
			continue;	/* an alias of an earlier row */
		if ((err = place(tr, p, t, &nb, ae->name, m)) < 0)
			return err;
		if (p->nafns < sizeof(p->afns) / sizeof(p->afns[0]))
			p->afns[p->nafns++] =
				(struct afn){nb.addr, nb.addr + (size ? size : 1), ae->fn};
	}
	/* the trampoline is a breakpoint like the others */
	struct bp *tb = bpt_add(&p->bps, p->trampoline);

	if (!tb)
		return -ENOMEM;
	*tb = (struct bp){.addr = p->trampoline, .kind = BP_TRAMPOLINE, .exec = BP_EXEC_NONE,
			  .len = 1, .orig = {0xcc}};
	p->alloc_ranges[p->nalloc_ranges++] = (struct range){m->start, m->end};
	p->armed = 1;
	return 0;
}

/* Hooks the --mark locations that lie in module m. */
static int arm_marks(struct tracer *tr, struct tproc *p, struct tthread *t,
		     const struct tmodule *m, struct elfinfo *e)
{
	for (size_t i = 0; i < tr->opts.nmarks; i++) {
		uint64_t addrs[MAX_MARK_ADDRS];
		int n = locate(e, m->path, tr->opts.marks[i], addrs, MAX_MARK_ADDRS);

		for (int k = 0; k < n; k++) {
			struct bp nb = {.kind = BP_MARK, .fn = (uint32_t)i + 1,
					.addr = m->bias + addrs[k]};
			int err;

			if (nb.addr < m->start || nb.addr >= m->end || bpt_find(&p->bps, nb.addr))
				continue;
			if ((err = place(tr, p, t, &nb, tr->opts.marks[i], m)) < 0)
				return err;
			p->nmarks++;
		}
	}
	return 0;
}

/* attach: libc's syscall wrappers stand in for the seccomp filter, and the
 * loader's debugger hook tells of dlopen. */
static int arm_wrappers(struct tracer *tr, struct tproc *p, struct tthread *t,
			const struct tmodule *m, struct elfinfo *e)
{
	const struct sc_desc *rows;
	size_t n;
	uint64_t value, size;
	int err;

	rows = sc_table_rows(&n);
	for (size_t i = 0; i < n; i++) {
		struct bp nb = {.kind = BP_SYSCALL, .fn = (uint32_t)rows[i].nr};

		if (elfinfo_symbol(e, rows[i].wrapper, &value, &size) < 0)
			continue;
		nb.addr = m->bias + value;
		if (!bpt_find(&p->bps, nb.addr) && (err = place(tr, p, t, &nb, rows[i].wrapper, m)) < 0)
			return err;
	}
	if (elfinfo_symbol(e, "_dl_debug_state", &value, &size) == 0) {
		struct bp nb = {.kind = BP_DLSTATE, .addr = m->bias + value};

		if (!bpt_find(&p->bps, nb.addr) &&
		    (err = place(tr, p, t, &nb, "_dl_debug_state", m)) < 0)
			return err;
	}
	return 0;
}

static int arm_module(struct tracer *tr, struct tproc *p, struct tthread *t, struct tmodule *m)
{
	struct elfinfo *e = NULL;
	int err;

	m->armed = 1;
	if (elfinfo_open(&e, m->path) < 0)
		return 0;
	err = arm_allocator(tr, p, t, m, e);
	if (err == 0 && tr->attached)
		err = arm_wrappers(tr, p, t, m, e);
	if (err == 0 && tr->opts.nmarks)
		err = arm_marks(tr, p, t, m, e);
	elfinfo_close(e);
	return err;
}

int modules_arm(struct tracer *tr, struct tproc *p, struct tthread *t)
{
	int err = 0;

	p->arm_pending = 0;
	if (!p->followed)
		return 0;
	for (size_t i = 0; i < p->nmods && err == 0; i++)
		if (!p->mods[i].armed)
			err = arm_module(tr, p, t, &p->mods[i]);
	return err;
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
			for (size_t k = 0; k < p->bps.cap; k++) {
				uint64_t a = p->bps.slots[k].addr;

				if (a && a >= m->start && a < m->end) {
					bpt_del(&p->bps, a);
					k = (size_t)-1;	/* the table moved entries */
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
