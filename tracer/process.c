/*
 * process.c - the traced processes and threads: creation, what a fork
 * child inherits, exec, and retirement.
 *
 * A process is an address space as the tracer sees it: its breakpoints,
 * scratch pages, modules and unwinder.  A fork child gets a copy of all of
 * it (its memory is a copy, int3 bytes and hijacked return slots
 * included); a CLONE_VM child (vfork, posix_spawn) shares its parent's
 * memory, so it shares the parent's breakpoints and must never have bytes
 * restored through it.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../formats/log_writer.h"
#include "memory.h"
#include "trace.h"
#include "unwind.h"

static struct tthread **bucket(struct tracer *tr, pid_t tid)
{
	return &tr->threads[(unsigned)tid % THREAD_BUCKETS];
}

struct tthread *thread_find(struct tracer *tr, pid_t tid)
{
	for (struct tthread *t = *bucket(tr, tid); t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

struct tthread *thread_new(struct tracer *tr, struct tproc *p, pid_t tid, int state)
{
	struct tthread *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->tid = tid;
	t->proc = p;
	t->state = state;
	t->next = *bucket(tr, tid);
	*bucket(tr, tid) = t;
	p->nthreads++;
	tr->ntasks++;
	return t;
}

void thread_free(struct tracer *tr, struct tthread *t)
{
	struct tproc *p = t->proc;

	for (struct tthread **pp = bucket(tr, t->tid); *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	free(t->shadow);
	free(t);
	tr->ntasks--;
	if (--p->nthreads == 0)
		proc_free(tr, p);
}

struct tproc *proc_new(struct tracer *tr, pid_t pid, int followed)
{
	struct tproc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	p->followed = followed;
	p->memfd = tmem_open(pid);
	if (followed && unw_open(&p->unw, pid) < 0)
		p->unw = NULL;
	p->next = tr->procs;
	tr->procs = p;
	return p;
}

void proc_reset_image(struct tproc *p)
{
	bp_table_free(&p->bps);
	modules_free(p);
	p->nafns = 0;
	p->armed = 0;
	p->arm_pending = 0;
	p->nscratch = 0;
	p->trampoline = p->syscall_insn = 0;
	p->nalloc_ranges = 0;
	p->nmarks = 0;
	p->nhooked = 0;
}

void proc_free(struct tracer *tr, struct tproc *p)
{
	for (struct tproc **pp = &tr->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	proc_hand_over(tr, p);
	fast_vmshare(p, -1);
	fast_free(tr, p);
	proc_reset_image(p);
	if (p->unw)
		tr->unwind_mismatches += unw_check_mismatches(
			p->unw, tr->unwind_mismatches ? NULL : tr->unwind_first_mismatch,
			sizeof(tr->unwind_first_mismatch));
	unw_close(p->unw);
	if (p->memfd >= 0)
		close(p->memfd);
	free(p);
}

/* The state of an address space that a copy of it shares. */
static void copy_image(struct tproc *to, const struct tproc *from)
{
	memcpy(to->afns, from->afns, sizeof(to->afns));
	to->nafns = from->nafns;
	memcpy(to->alloc_ranges, from->alloc_ranges, sizeof(to->alloc_ranges));
	to->nalloc_ranges = from->nalloc_ranges;
	memcpy(to->scratch, from->scratch, sizeof(to->scratch));
	memcpy(to->scratch_used, from->scratch_used, sizeof(to->scratch_used));
	to->nscratch = from->nscratch;
	to->trampoline = from->trampoline;
	to->syscall_insn = from->syscall_insn;
	memcpy(to->hooked, from->hooked, sizeof(to->hooked));
	to->nhooked = from->nhooked;
	to->armed = from->armed;
	to->arm_pending = from->arm_pending;
	to->exec_seen = from->exec_seen;
}

void proc_hand_over(struct tracer *tr, struct tproc *p)
{
	struct tproc *heir = NULL;

	for (struct tproc *q = tr->procs; q; q = q->next) {
		if (q->vm_owner != p)
			continue;
		if (heir) {
			q->vm_owner = heir;
			continue;
		}
		heir = q;
		fast_vmshare(q, -1);	/* no guest of it any more: its owner */
		q->vm_owner = NULL;
		copy_image(q, p);
		bp_table_free(&q->bps);
		q->bps = p->bps;
		memset(&p->bps, 0, sizeof(p->bps));
		/* and the recorder in it, ring and all */
		q->fast = p->fast;
		p->fast = NULL;
	}
}

int proc_inherit(struct tracer *tr, struct tproc *parent, struct tthread *forker,
		 struct tproc *child, struct tthread *ct, int shares_vm)
{
	struct tproc *owner = parent->vm_owner ? parent->vm_owner : parent;
	int err = 0;

	copy_image(child, parent);
	if (shares_vm) {
		/* One memory: the owner's breakpoints serve both. */
		child->vm_owner = owner;
		child->space = parent->space;
		child->symspace = parent->symspace;
		fast_vmshare(child, 1);
	} else {
		if (child->followed) {
			err = bp_table_copy(&child->bps, &owner->bps) < 0 ? -ENOMEM : 0;
		} else {
			/* Nothing is recorded there: take our patches out of its copy
			 * of the code and give back the return addresses the forking
			 * thread had lent us (fork from a signal handler that
			 * interrupted malloc). */
			struct bp *bp;

			for (size_t i = 0; bp_table_next(&owner->bps, &i, NULL, &bp);) {
				if (bp->kind != BP_TRAMPOLINE)
					bp_remove(bp, child->memfd);
			}
			heap_give_back(child->pid, child->memfd, forker->shadow, forker->nshadow,
				       owner->trampoline);
			child->armed = 0;
			child->nafns = 0;
			child->nhooked = 0;
		}
		/* its copy of the recorder writes where the parent's does: it
		 * gets its own area, or none, before it runs (fast_fork_child) */
		child->fast_pending = !!owner->fast;
		if (child->followed)
			child->space = child->symspace = ++tr->next_space;
	}
	if (!child->followed)
		return err;

	/* its stack holds the forking thread's hijacked slots */
	if (forker->nshadow) {
		ct->shadow = malloc(forker->nshadow * sizeof(*ct->shadow));
		if (!ct->shadow)
			return -ENOMEM;
		memcpy(ct->shadow, forker->shadow, forker->nshadow * sizeof(*ct->shadow));
		ct->nshadow = ct->capshadow = forker->nshadow;
	}
	if (err == 0)
		err = modules_copy(tr, parent, child);
	struct mt_event ev = {.type = MT_EV_PROC_START, .pid = (uint32_t)child->pid,
			      .tid = (uint32_t)child->pid, .space = child->space,
			      .arg = (uint64_t)parent->pid, .mflags = MT_PROC_FORK};

	trace_event(tr, &ev);
	return err;
}

void proc_add_early_stop(struct tracer *tr, pid_t tid)
{
	struct early_stop *e = calloc(1, sizeof(*e));

	if (!e)
		return;
	e->tid = tid;
	e->next = tr->early_stops;
	tr->early_stops = e;
}

int proc_take_early_stop(struct tracer *tr, pid_t tid)
{
	for (struct early_stop **pp = &tr->early_stops; *pp; pp = &(*pp)->next)
		if ((*pp)->tid == tid) {
			struct early_stop *e = *pp;

			*pp = e->next;
			free(e);
			return 1;
		}
	return 0;
}

uint64_t proc_clone_flags(pid_t parent, int event)
{
	struct user_regs_struct regs;
	uint64_t flags = 0;

	if (ptrace(PTRACE_GETREGS, parent, 0, &regs) < 0)
		return event == PTRACE_EVENT_VFORK ? CLONE_VM | CLONE_VFORK : 0;
	switch (regs.orig_rax) {
	case SYS_clone:
		return regs.rdi;
	case SYS_clone3:	/* flags: the first field of struct clone_args */
		return tmem_read_all(parent, regs.rdi, &flags, 8) == 0 ? flags : 0;
	case SYS_vfork:
		return CLONE_VM | CLONE_VFORK;
	default:
		return 0;	/* fork */
	}
}

/* --- the stops that make and end tasks and images ---------------------------- */

struct resume proc_on_exec(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;
	unsigned long former = 0;

	/* exec from a thread other than the leader: that thread now carries
	 * the leader's tid, and its old tid will never report anything */
	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &former) == 0 && (pid_t)former != t->tid) {
		struct tthread *old = thread_find(tr, (pid_t)former);

		if (old && old != t)
			thread_free(tr, old);
	}
	proc_hand_over(tr, p);	/* a CLONE_VM child stays in the old memory */
	fast_vmshare(p, -1);	/* it leaves its owner's memory */
	fast_free(tr, p);	/* drained before this stop; the image is gone */
	proc_reset_image(p);
	p->vm_owner = NULL;
	p->quiet = 0;
	p->exec_seen = 1;
	if (p->memfd >= 0)
		close(p->memfd);
	p->memfd = tmem_open(p->pid);	/* the old fd still points at the old image */
	t->nshadow = 0;
	if (p->followed) {
		unw_close(p->unw);
		p->unw = NULL;
		unw_open(&p->unw, p->pid);
		p->space = p->symspace = ++tr->next_space;
		trace_proc_start(tr, p, p->pid == tr->root ? getpid() : 0, MT_PROC_EXEC);
		/* the executable and the dynamic loader are mapped now; they are
		 * armed at the first syscall exit, or at the entry of a static
		 * binary */
		modules_scan(tr, p, NULL);
		static_break_at_entry(tr, p);
	}
	return attach_let_go(tr, t) ? RESUME(GO_NONE, 0) : GO_ON;
}

/* Waits for a new task's first stop (a fork child of the fast engine must
 * have its area before it runs); 0, or -ESRCH when it died first.  A
 * signal before it goes in, and the task stops again before it runs. */
static int first_stop(struct tracer *tr, struct tthread *nt)
{
	for (;;) {
		struct stop s;

		if (stop_wait(tr, nt->tid, 0, &s) < 0 || s.kind == STOP_EXITED)
			return -ESRCH;	/* its exit is lost with it: nothing ran */
		if (s.kind == STOP_SIGNAL || s.kind == STOP_SIGTRAP) {
			if (signal_let_in(tr, &s) < 0)
				return -ESRCH;
		}
		if (s.kind == STOP_ATTACHED)
			return 0;
		stop_restart(nt->tid, GO_ON);
	}
}

/* A new task at its first stop, about to run. */
static void started(struct tracer *tr, struct tthread *nt, struct tproc *parent)
{
	nt->state = TS_RUNNING;
	if (nt->proc->fast_pending) {
		nt->proc->fast_pending = 0;
		trace_report_error(tr, fast_fork_child(tr, parent, nt->proc, nt));
	} else {
		fast_thread_started(tr, nt);
	}
}

struct resume proc_on_new_task(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t, *nt;
	struct tproc *p = t->proc;
	unsigned long msg = 0;
	uint64_t flags = proc_clone_flags(s->tid, s->event);
	pid_t tid;

	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) < 0)
		return GO_ON;
	tid = (pid_t)msg;
	if (flags & CLONE_THREAD) {
		nt = thread_new(tr, p, tid, TS_NEW);
		if (nt && p->followed) {
			struct mt_event ev = {.type = MT_EV_THREAD_START, .pid = (uint32_t)p->pid,
					      .tid = (uint32_t)tid};

			trace_event(tr, &ev);
		}
	} else {
		/*
		 * A new process.  It inherited the seccomp filter, so it stays
		 * traced even when it is not followed: untraced, its mmap calls
		 * would fail.
		 */
		struct tproc *np = proc_new(tr, tid, p->followed && tr->opts.follow_forks);

		if (!np)
			return GO_ON;
		nt = thread_new(tr, np, tid, TS_NEW);
		if (nt)
			trace_report_error(tr, proc_inherit(tr, p, t, np, nt, !!(flags & CLONE_VM)));
	}
	if (!nt)
		return GO_ON;
	nt->own_affinity = t->own_affinity;	/* a new task has its creator's mask */
	cpumask_spread(tr);
	if (tr->attached && s->event == PTRACE_EVENT_VFORK)
		t->vfork_child = tid;	/* until its PTRACE_EVENT_VFORK_DONE */
	if (proc_take_early_stop(tr, tid) || (nt->proc->fast_pending && first_stop(tr, nt) == 0)) {
		/* its first stop came before this event, or the fast engine
		 * waited for it: it waits for us */
		started(tr, nt, p);
		if (!attach_let_go(tr, nt))
			stop_resume(nt, GO_ON);
	}
	return GO_ON;
}

struct resume proc_on_exited(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;

	if (p->followed) {
		struct mt_event ev = {.pid = (uint32_t)p->pid, .tid = (uint32_t)t->tid,
				      .status = s->status};

		ev.type = t->tid == p->pid ? MT_EV_PROC_EXIT : MT_EV_THREAD_EXIT;
		trace_event(tr, &ev);
	}
	if (t->tid == tr->root)
		tr->root_status = s->status;
	fast_thread_gone(tr, t);
	thread_free(tr, t);
	return RESUME(GO_NONE, 0);
}

struct resume proc_on_attached(struct tracer *tr, struct stop *s)
{
	s->t->state = TS_RUNNING;
	fast_thread_started(tr, s->t);
	return attach_let_go(tr, s->t) ? RESUME(GO_NONE, 0) : GO_ON;
}
