/*
 * signals.c - the program's own signals.
 *
 * A signal goes in as it came (its siginfo too, when an injection held it
 * back: stop_resume gives that back).  The one thing to mend first: a
 * thread that sits in our scratch code, at an out-of-line slot (its
 * instruction run or not) or at the trampoline (its call just returned).
 * The handler's frame would keep that address, and the handler would
 * return there, perhaps after memtrack detached and unmapped the page.  The
 * thread is moved back into the program's own code first: after the
 * displaced instruction, or to the breakpoint to run it again (the call is
 * not recorded twice: signal_replayed), or, from the trampoline, to its
 * caller.
 *
 * The fast engine's recorder runs in the program: a thread caught between
 * reserving a record and making it whole gets its signal once the record
 * is (fast_hold_signal).
 *
 * A thread the tracer holds (attach, detach) or runs a syscall in is not
 * taken off a signal's delivery stop and sent the signal again later: a
 * signal sent again by another process cannot keep a siginfo the kernel
 * made (setitimer's SI_KERNEL, kill's SI_USER; it arrives as SI_TKILL),
 * and a tracer that dies before it gives the siginfo back leaves the
 * program a wrong one.  The signal goes in there and then (signal_let_in):
 * the kernel builds the handler's frame, and an interrupt stops the thread
 * before the handler's first instruction, where the tracer goes on.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <ucontext.h>

#include "memory.h"
#include "trace.h"

int signal_replayed(struct tthread *t, uint64_t addr, uint64_t sp)
{
	for (size_t i = t->nreplay; i-- > 0;)
		if (t->replay[i].addr == addr && t->replay[i].sp == sp) {
			t->nreplay = i;
			return 1;
		}
	return 0;
}

static void push_replay(struct tthread *t, uint64_t addr, uint64_t sp)
{
	if (t->nreplay == TTHREAD_REPLAYS) {
		/* the oldest goes: a handler that never returned */
		memmove(t->replay, t->replay + 1, sizeof(t->replay[0]) * (TTHREAD_REPLAYS - 1));
		t->nreplay--;
	}
	t->replay[t->nreplay].addr = addr;
	t->replay[t->nreplay].sp = sp;
	t->nreplay++;
}

static void out_of_scratch(struct tracer *tr, struct tthread *t)
{
	struct tproc *own = t->proc->vm_owner ? t->proc->vm_owner : t->proc;
	struct user_regs_struct regs;
	int inside = 0;

	if (!own->nscratch || ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
		return;
	for (size_t i = 0; i < own->nscratch; i++)
		inside |= regs.rip >= own->scratch[i] && regs.rip < own->scratch[i] + 4096;
	if (!inside)
		return;
	if (regs.rip == own->trampoline) {
		if (heap_return(tr, t, &regs) < 0)
			return;
	} else {
		int ran;
		const struct bp *bp = bpt_find_slot(&own->bps, regs.rip, &ran);

		if (!bp)
			return;
		if (ran) {
			regs.rip = bp->addr + bp->len;
		} else {
			regs.rip = bp->addr;
			push_replay(t, bp->addr, regs.rsp);
		}
	}
	ptrace(PTRACE_SETREGS, t->tid, 0, &regs);
}

struct resume signal_on_delivery(struct tracer *tr, struct stop *s)
{
	/* the fast engine: a signal waits for the record the thread is in
	 * the middle of; the recorder sends it again after */
	if (fast_hold_signal(tr, s->t, s->sig))
		return GO_ON;
	out_of_scratch(tr, s->t);
	return RESUME(GO_CONT, s->sig);
}

/* Where the pc a signal's frame saved lies, the frame at sp (the
 * handler's first instruction: sp points at its return address, the
 * ucontext follows). */
static uint64_t saved_pc_at(uint64_t sp)
{
	return sp + 8 + offsetof(ucontext_t, uc_mcontext.gregs[REG_RIP]);
}

int signal_let_in(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct resume r = signal_on_delivery(tr, s);
	struct user_regs_struct before, after;
	int have_before = ptrace(PTRACE_GETREGS, t->tid, 0, &before) == 0;

	/* PTRACE_INTERRUPT leaves a thread at a delivery stop where it is;
	 * the kernel takes the trap once the signal is handled (its frame
	 * built, or ignored), before the thread returns to its code */
	ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
	for (;;) {
		if (stop_restart(t->tid, r) < 0 || stop_wait(tr, t->tid, 0, s) < 0 ||
		    s->kind == STOP_EXITED)
			return -ESRCH;
		switch (s->kind) {
		case STOP_INTERRUPT:
		case STOP_GROUP:
		case STOP_ATTACHED:
			/* a frame was built: the first of a hold saved the
			 * thread's own pc */
			if (t->held && have_before && !t->let_in_frame &&
			    ptrace(PTRACE_GETREGS, t->tid, 0, &after) == 0 &&
			    after.rsp != before.rsp)
				t->let_in_frame = after.rsp;
			return s->kind;
		case STOP_SIGNAL:
		case STOP_SIGTRAP:
			/* another signal's delivery stop first: it goes in
			 * too */
			r = signal_on_delivery(tr, s);
			break;
		default:
			r = GO_ON;
			break;
		}
	}
}

void signal_mend_frame(struct tproc *own, struct tthread *t)
{
	uint64_t at = t->let_in_frame, pc, moved;

	t->let_in_frame = 0;
	if (at && tmem_read_all(t->tid, saved_pc_at(at), &pc, sizeof(pc)) == 0 &&
	    (moved = fast_out_of_sites(own, pc)) != pc)
		tmem_write(own->memfd, saved_pc_at(at), &moved, sizeof(moved));
}
