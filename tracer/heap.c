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
 * reallocarray tail-calling realloc, realloc(p, 0) calling free, C++'s
 * operators calling malloc and free, or tail-calling them) are not
 * recorded again: a call is nested when it returns into an allocator entry
 * function, to the trampoline (a tail call from a hijacked call), or into
 * the allocator's module while a hijacked call is in progress.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../formats/log_writer.h"
#include "fast.h"
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

/* Whether shadow entry i is still a call in progress: its slot still holds
 * the trampoline.  One abandoned by longjmp (or an exception) has had its
 * slot reused or lies in dead stack; position alone cannot tell, since a
 * handler on a sigaltstack runs above calls that are very much alive. */
static int entry_live(const struct tthread *t, size_t i)
{
	uint64_t word;

	return tmem_read_all(t->tid, t->shadow[i].slot, &word, sizeof(word)) == 0 &&
	       word == t->proc->trampoline;
}

/* Drops entries whose calls were abandoned: their slots hold something
 * else now. */
static void drop_dead(struct tthread *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nshadow; i++)
		if (entry_live(t, i))
			t->shadow[n++] = t->shadow[i];
	t->nshadow = n;
}

void heap_give_back(pid_t pid, int memfd, const struct shadow *entries, size_t n,
		    uint64_t trampoline)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t word;

		if (tmem_read_all(pid, entries[i].slot, &word, sizeof(word)) == 0 &&
		    word == trampoline)
			tmem_write(memfd, entries[i].slot, &entries[i].ret, sizeof(entries[i].ret));
	}
}

/* A hijacked call of t is still running, with its frame above stack
 * pointer sp. */
static int call_active(struct tthread *t, uint64_t sp)
{
	for (size_t i = t->nshadow; i > 0; i--) {
		if (t->shadow[i - 1].slot < sp)
			continue;
		if (entry_live(t, i - 1))
			return 1;
		drop_dead(t);	/* rare: only after a longjmp out of a call */
		return call_active(t, sp);
	}
	return 0;
}

static int in_allocator_module(const struct tproc *p, uint64_t addr)
{
	for (size_t i = 0; i < p->nalloc_ranges; i++)
		if (addr >= p->alloc_ranges[i].start && addr < p->alloc_ranges[i].end)
			return 1;
	return 0;
}

/*
 * Whether an allocator call is the allocator calling itself, to be recorded
 * once as the outer call: it returns into an allocator entry function
 * (realloc(NULL, n) calling malloc), or to the trampoline (reallocarray
 * tail-calling realloc).  A call that returns into the allocator's module
 * while one of its calls runs is either its internals calling malloc, or a
 * libc function (strdup) called by a signal handler that interrupted the
 * allocator.  The stack tells them apart: walking out from the caller,
 * the first reaches an allocator entry function, or a return slot we
 * hijacked (an entry that tail-called into internals: mimalloc's realloc),
 * before it leaves the module; the second leaves the module (the handler)
 * first.  The walk reads the stack as it is, hijacked slots included.
 */
static int is_nested(struct tracer *tr, struct tthread *t, const struct user_regs_struct *regs,
		     uint64_t ret)
{
	const struct tproc *p = t->proc;
	int truncated;
	size_t n;

	if (ret == p->trampoline || in_afn(p, ret))
		return 1;
	if (!in_allocator_module(p, ret) || !call_active(t, regs->rsp))
		return 0;
	if (!p->unw)
		return 1;
	n = unw_capture(p->unw, t->tid, regs, NULL, 0, tr->pcs, 32, &truncated);
	for (size_t i = 1; i < n; i++) {
		if (in_afn(p, tr->pcs[i]) || tr->pcs[i] + 1 == p->trampoline)
			return 1;
		if (!in_allocator_module(p, tr->pcs[i]))
			return 0;
	}
	return 1;
}

static int in_allocator_frames(const struct tracer *tr, const struct tthread *t, size_t nframes)
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
		tr->patches[i] = (struct unw_patch){t->shadow[i].slot, t->shadow[i].ret,
						    t->proc->trampoline};
	return tr->patches;
}

size_t heap_walk(struct tracer *tr, struct tproc *p, struct tthread *t, pid_t tid,
		 const struct user_regs_struct *regs, size_t max, int *truncated)
{
	const struct unw_patch *patches = t && t->nshadow ? shadow_patches(tr, t) : NULL;

	*truncated = 0;
	if (!p->unw)
		return 0;
	return unw_capture(p->unw, tid, regs, patches, patches ? t->nshadow : 0, tr->pcs, max,
			   truncated);
}

/*
 * The fast engine's recorder is not the program: its frames (a wrapper
 * between the program and the allocator it called) drop out of a stack
 * the tracer walked, and say that an allocator call is in progress.
 */
static size_t drop_recorder(struct tracer *tr, const struct tproc *p, size_t n, int *in_alloc)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		if (fast_in_recorder(p, tr->pcs[i]))
			*in_alloc = 1;
		else
			tr->pcs[m++] = tr->pcs[i];
	}
	return m;
}

/*
 * Captures the stack of t at regs into tr->pcs, walking at least `least`
 * frames, and interns up to --depth of them after the first `skip`;
 * returns the stack id (0 without stacks) and the frames walked in
 * *nframes.  *in_alloc is set when a frame of the fast engine's recorder
 * was dropped.
 */
static uint64_t capture(struct tracer *tr, struct tthread *t, const struct user_regs_struct *regs,
			uint32_t *flags, size_t skip, size_t least, size_t *nframes, int *in_alloc)
{
	struct tproc *p = t->proc;
	size_t depth = tr->opts.depth, n, want = depth + skip > least ? depth + skip : least;
	int truncated, fast = p->fast || (p->vm_owner && p->vm_owner->fast);

	/* a wrapper's frames will drop out: a few more */
	n = heap_walk(tr, p, t, t->tid, regs, fast ? want + 4 : want, &truncated);
	if (fast) {
		size_t m = drop_recorder(tr, p, n, in_alloc);

		if (m > want) {
			m = want;
			truncated = 1;
		}
		n = m;
	}
	*nframes = n;
	if (!depth || n <= skip)
		return 0;
	n -= skip;
	if (truncated || n > depth)
		*flags |= MT_EVF_TRUNCATED;
	return log_writer_stack(tr->w, p->symspace, tr->pcs + skip, n < depth ? n : depth);
}

uint64_t heap_capture(struct tracer *tr, struct tthread *t, const struct user_regs_struct *regs,
		      uint32_t *flags)
{
	size_t n;
	int in_alloc = 0;
	/* a few frames even without stacks: whether an allocator made this
	 * syscall (free unmapping a large block) is read off them */
	uint64_t stack = capture(tr, t, regs, flags, 0, 8, &n, &in_alloc);

	if (in_alloc || call_active(t, regs->rsp) || in_allocator_frames(tr, t, n))
		*flags |= MT_EVF_IN_ALLOC;
	return stack;
}

static int push_shadow(struct tthread *t, const struct shadow *s)
{
	/* abandoned calls pile up only where a program longjmps out of them */
	if (t->nshadow >= 32 && t->nshadow == t->capshadow)
		drop_dead(t);
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

/* Swaps the return address at regs->rsp for the trampoline and remembers
 * the call; s carries everything but the addresses.  0 or a negative
 * errno (the call then goes unrecorded). */
static int hijack(struct tracer *tr, struct tthread *t, struct shadow *s, uint64_t ret,
		  int have_ret)
{
	struct tproc *p = t->proc;
	uint64_t sp = s->slot;
	int err;

	if (!have_ret && (!p->unw || unw_peek(p->unw, sp, &ret) < 0) &&
	    (err = tmem_read_all(t->tid, sp, &ret, sizeof(ret))) < 0)
		return err;
	s->ret = ret;
	if ((err = tmem_write(p->memfd, sp, &p->trampoline, sizeof(p->trampoline))) < 0)
		return err;
	if ((err = push_shadow(t, s)) < 0) {
		tmem_write(p->memfd, sp, &ret, sizeof(ret));
		return err;
	}
	return 0;
}

int heap_entry(struct tracer *tr, struct tthread *t, const struct bp *bp,
	       struct user_regs_struct *regs)
{
	struct tproc *p = t->proc;
	uint64_t sp = regs->rsp, ret = 0;
	int have_ret = 0;

	if (!p->followed || p->quiet)
		goto resume;
	if (t->nshadow) {
		struct user_regs_struct at = *regs;

		if (tmem_read_all(t->tid, sp, &ret, sizeof(ret)) < 0)
			goto resume;
		have_ret = 1;
		at.rip = bp->addr;
		if (is_nested(tr, t, &at, ret))
			goto resume;
	}
	if (bp->fn == MT_FN_FREE || bp->fn == ALLOC_FN_DELETE) {
		if (regs->rdi) {
			struct mt_event ev = {.type = MT_EV_FREE, .fn = MT_FN_FREE,
					      .pid = (uint32_t)p->pid, .tid = (uint32_t)t->tid,
					      .addr = regs->rdi};

			trace_event(tr, &ev);
		}
		/* a free it tail-calls returns to the trampoline: nested.  Its
		 * return address is read here: the unwinder's copy of the stack
		 * is the last walk's, and no walk was made. */
		if (bp->fn == ALLOC_FN_DELETE &&
		    (have_ret || tmem_read_all(t->tid, sp, &ret, sizeof(ret)) == 0)) {
			struct shadow s = {.slot = sp, .fn = ALLOC_FN_DELETE};

			hijack(tr, t, &s, ret, 1);
		}
		goto resume;
	}

	struct user_regs_struct at = *regs;
	struct shadow s = {.slot = sp, .fn = bp->fn, .args = {regs->rdi, regs->rsi, regs->rdx}};
	size_t nframes;

	/* The first frame is the entry point itself, whatever its symbol says
	 * (malloc, __libc_malloc, tc_malloc, a static glibc's __calloc): the
	 * stack starts at its caller. */
	at.rip = bp->addr;
	s.stack = capture(tr, t, &at, &s.flags, 1, 0, &nframes, &(int){0});
	hijack(tr, t, &s, ret, have_ret);
resume:
	return bp_resume(bp, t->tid, p->memfd, regs);
}

int heap_hijack(struct tracer *tr, struct tthread *t, struct shadow *s)
{
	return hijack(tr, t, s, 0, 0);
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

	t->nshadow = i - 1;
	regs->rip = s.ret;
	result = regs->rax;
	if (s.nr) {
		sc_wrapper_done(tr, t, &s, result);
		return 0;
	}
	if (s.fn == ALLOC_FN_DELETE)
		return 0;	/* recorded at its entry */

	struct mt_event ev = {.pid = (uint32_t)p->pid, .tid = (uint32_t)t->tid,
			      .stack = s.stack};

	if (s.fn == MT_FN_POSIX_MEMALIGN) {
		uint64_t ptr = 0;

		if ((int)result == 0)
			tmem_read_all(t->tid, s.args[0], &ptr, sizeof(ptr));
		result = ptr;
	}
	alloc_fill(s.fn, s.args, result, &ev);
	ev.flags |= s.flags;
	trace_event(tr, &ev);
	return 0;
}
