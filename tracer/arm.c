/*
 * arm.c - hooking what a module defines: allocator entry points, the
 * --mark locations, and (attach) libc's syscall wrappers and the loader's
 * debugger hook.
 *
 * Hooking needs a stopped thread that can run an injected syscall (for
 * scratch pages), so modules recorded at exec wait for the first syscall
 * exit (ld.so's first brk, before anything can allocate) or, in a static
 * binary, for a one-shot breakpoint on the entry point.
 *
 * Every module that defines malloc is armed: normally libc alone; with a
 * preloaded allocator (jemalloc, tcmalloc, mimalloc) that one too, and a
 * call is recorded once whichever the program binds to.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../symbolizer/elf.h"
#include "memory.h"
#include "recorder/shared.h"
#include "trace.h"

int arm_place(struct tracer *tr, struct tproc *p, struct tthread *t, struct bp *nb,
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

/* Whether the fast engine hooked addr with a jump already. */
static int hooked(const struct tproc *p, uint64_t addr)
{
	for (size_t i = 0; i < p->nhooked; i++)
		if (p->hooked[i] == addr)
			return 1;
	return 0;
}

/*
 * A function's entry hooked: with a jump to the recorder (the fast engine)
 * where one fits, else with an int3 (the ptrace path: a function too short
 * for a jump, an instruction that cannot run elsewhere).
 */
static int hook(struct tracer *tr, struct tproc *p, struct tthread *t, struct bp *nb,
		const char *what, const struct tmodule *m, uint64_t size, uint32_t kind)
{
	/* the recorder calls the original of a delete as of free: a tail
	 * call of free returns into the recorder, which says nested */
	uint32_t fn = kind == MTR_SITE_ALLOC && nb->fn == ALLOC_FN_DELETE ? MT_FN_FREE : nb->fn;

	if (tr->opts.engine == TRACER_FAST && p->fast && p->nhooked < MAX_HOOKED &&
	    fast_hook(tr, p, t, nb->addr, nb->addr, size, kind, fn) == 0) {
		p->hooked[p->nhooked++] = nb->addr;
		return 0;
	}
	return arm_place(tr, p, t, nb, what, m);
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
	/* the fast engine's recorder comes with the first allocator */
	if (tr->opts.engine == TRACER_FAST && (err = fast_start(tr, p, t, m->start)) < 0)
		trace_report_error(tr, err);	/* the ptrace path serves then */
	for (size_t i = 0; i < nalloc_entries; i++) {
		const struct alloc_entry *ae = &alloc_entries[i];
		struct bp nb = {.kind = BP_ALLOC, .fn = ae->fn};

		if (elfinfo_symbol(e, ae->name, &value, &size) < 0)
			continue;
		nb.addr = m->bias + value;
		if (bp_table_get(&p->bps, nb.addr) || hooked(p, nb.addr))
			continue;	/* an alias of an earlier row */
		if ((err = hook(tr, p, t, &nb, ae->name, m, size, MTR_SITE_ALLOC)) < 0)
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
	fast_share_ranges(p);
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

		if (!(rows[i].flags & SC_RECORD) || !rows[i].wrapper ||
		    elfinfo_symbol(e, rows[i].wrapper, &value, &size) < 0)
			continue;
		nb.addr = m->bias + value;
		if (!bp_table_get(&p->bps, nb.addr) && !hooked(p, nb.addr) &&
		    (err = hook(tr, p, t, &nb, rows[i].wrapper, m, size, MTR_SITE_SYSCALL)) < 0)
			return err;
	}
	if (elfinfo_symbol(e, "_dl_debug_state", &value, &size) == 0) {
		struct bp nb = {.kind = BP_DLSTATE, .addr = m->bias + value};

		if (!bp_table_get(&p->bps, nb.addr) &&
		    (err = arm_place(tr, p, t, &nb, "_dl_debug_state", m)) < 0)
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
		err = marks_arm(tr, p, t, m, e);
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

