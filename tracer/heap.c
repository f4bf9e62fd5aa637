/*
 * heap.c - the hot path: an allocator entry point was hit, or a hijacked
 * return came back to the trampoline.
 *
 * At entry the stack is captured and the return address is swapped for the
 * trampoline, remembered on the thread's shadow stack; at the trampoline
 * the result is in rax and the thread goes on at the real return address.
 * Two stops per call, no single-step, no breakpoint in the caller.  free
 * returns nothing worth waiting for, so it costs one stop.
 *
 * Calls made by the allocator itself (realloc(NULL, n) calling malloc,
 * reallocarray tail-calling realloc, realloc(p, 0) calling free) are not
 * recorded again: a call is nested when it returns into an allocator entry
 * function, to the trampoline (a tail call from a hijacked call), or into
 * the allocator's module while a hijacked call is in progress.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/log_writer.h"
#include "memory.h"
#include "trace.h"
#include "unwind.h"

static int in_afn(const struct tproc *p, uint64_t addr)
{
	for (size_t i = 0; i < p->nafns; i++)
		if (addr >= p->afns[i].start && addr < p->afns[i].end)
			return 1;
	return 0;
}

/* A hijacked call of t is still running below stack pointer sp (entries
 * whose slot lies below sp were abandoned by longjmp). */
static int call_active(const struct tthread *t, uint64_t sp)
{
	for (size_t i = t->nshadow; i > 0; i--)
		if (t->shadow[i - 1].slot >= sp)
			return 1;
	return 0;
}

static int is_nested(const struct tthread *t, uint64_t sp, uint64_t ret)
{
	const struct tproc *p = t->proc;

	return ret == p->trampoline || in_afn(p, ret) ||
	       (ret >= p->alloc_lo && ret < p->alloc_hi && call_active(t, sp));
}

int heap_in_allocator(const struct tracer *tr, const struct tthread *t, size_t nframes)
{
	/* frame 0 is the syscall itself; an allocator frame above it means the
	 * allocator made this call (free unmapping a large block) */
	for (size_t i = 1; i < nframes; i++)
		if (in_afn(t->proc, tr->pcs[i]))
			return 1;
	return 0;
}

static const struct unw_patch *shadow_patches(struct tracer *tr, const struct tthread *t)
{
	if (t->nshadow > tr->cappatches) {
		size_t nc = t->nshadow * 2;
		struct unw_patch *np = realloc(tr->patches, nc * sizeof(*np));

		if (!np)
			return NULL;
		tr->patches = np;
		tr->cappatches = nc;
	}
	for (size_t i = 0; i < t->nshadow; i++)
		tr->patches[i] = (struct unw_patch){t->shadow[i].slot, t->shadow[i].ret};
	return tr->patches;
}

/*
 * Captures the stack of t at regs into tr->pcs and interns it; returns the
 * stack id (0 without stacks) and the frame count in *nframes.
 */
static uint64_t capture(struct tracer *tr, struct tthread *t, const struct user_regs_struct *regs,
			uint32_t *flags, size_t *nframes)
{
	struct tproc *p = t->proc;
	const struct unw_patch *patches = t->nshadow ? shadow_patches(tr, t) : NULL;
	int truncated;
	size_t n;

	*nframes = 0;
	if (!tr->opts.depth || !p->unw)
		return 0;
	n = unw_capture(p->unw, t->tid, regs, patches, patches ? t->nshadow : 0, tr->pcs,
			tr->opts.depth, &truncated);
	if (truncated)
		*flags |= MT_EVF_TRUNCATED;
	*nframes = n;
	return log_writer_stack(tr->w, p->space, tr->pcs, n);
}

uint64_t heap_capture(struct tracer *tr, struct tthread *t, const struct user_regs_struct *regs,
		      uint32_t *flags)
{
	size_t n;
	uint64_t stack = capture(tr, t, regs, flags, &n);

	/* syscalls want to know whether an allocator made them */
	if (call_active(t, regs->rsp) || heap_in_allocator(tr, t, n))
		*flags |= MT_EVF_IN_ALLOC;
	return stack;
}

static int push_shadow(struct tthread *t, const struct shadow *s)
{
	if (t->nshadow == t->capshadow) {
		size_t nc = t->capshadow ? t->capshadow * 2 : 8;
		struct shadow *ns = realloc(t->shadow, nc * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		t->shadow = ns;
		t->capshadow = nc;
	}
	t->shadow[t->nshadow++] = *s;
	return 0;
}

int heap_entry(struct tracer *tr, struct tthread *t, const struct bp *bp,
	       struct user_regs_struct *regs)
{
	struct tproc *p = t->proc;
	uint64_t sp = regs->rsp, ret = 0;
	int have_ret = 0, err;

	if (!p->followed)
		goto resume;
	if (t->nshadow) {
		if (tmem_read_all(t->tid, sp, &ret, sizeof(ret)) < 0)
			goto resume;
		have_ret = 1;
		if (is_nested(t, sp, ret))
			goto resume;
	}
	if (bp->fn == MT_FN_FREE) {
		if (regs->rdi) {
			struct mt_event ev = {.type = MT_EV_FREE, .fn = MT_FN_FREE,
					      .pid = (uint32_t)p->pid, .tid = (uint32_t)t->tid,
					      .addr = regs->rdi};

			trace_event(tr, &ev);
		}
		goto resume;
	}

	struct user_regs_struct at = *regs;
	struct shadow s = {.slot = sp, .fn = bp->fn,
			   .args = {regs->rdi, regs->rsi, regs->rdx}};
	size_t nframes;

	at.rip = bp->addr;
	s.stack = capture(tr, t, &at, &s.flags, &nframes);
	if (!have_ret && unw_peek(p->unw, sp, &ret) < 0 &&
	    tmem_read_all(t->tid, sp, &ret, sizeof(ret)) < 0)
		goto resume;	/* no return address: let the call go unrecorded */
	s.ret = ret;
	if ((err = tmem_write(p->memfd, sp, &p->trampoline, sizeof(p->trampoline))) < 0)
		goto resume;
	if ((err = push_shadow(t, &s)) < 0) {
		tmem_write(p->memfd, sp, &ret, sizeof(ret));
		return err;
	}
resume:
	return bp_resume(bp, t->tid, p->memfd, regs);
}

int heap_return(struct tracer *tr, struct tthread *t, struct user_regs_struct *regs)
{
	struct tproc *p = t->proc;
	uint64_t slot = regs->rsp - 8, result;
	size_t i = t->nshadow;

	/* Entries above the match belong to calls abandoned by longjmp or an
	 * exception: their frames are gone, drop them. */
	while (i > 0 && t->shadow[i - 1].slot != slot)
		i--;
	if (!i) {
		TRACE_ERR(tr, "thread %d returned through the trampoline from an unknown call "
			      "(stack pointer %#llx)", (int)t->tid, (unsigned long long)regs->rsp);
		return -EPROTO;
	}
	struct shadow s = t->shadow[i - 1];
	struct mt_event ev = {.pid = (uint32_t)p->pid, .tid = (uint32_t)t->tid,
			      .stack = s.stack};

	t->nshadow = i - 1;
	result = regs->rax;
	if (s.fn == MT_FN_POSIX_MEMALIGN) {
		uint64_t ptr = 0;

		if ((int)result == 0)
			tmem_read_all(t->tid, s.args[0], &ptr, sizeof(ptr));
		result = ptr;
	}
	alloc_fill(s.fn, s.args, result, &ev);
	ev.flags |= s.flags;
	trace_event(tr, &ev);
	regs->rip = s.ret;
	return 0;
}
