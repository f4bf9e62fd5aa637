/*
 * attach.c - tracing a process that is already running, and leaving it
 * unharmed.
 *
 * Seizing: every thread listed in /proc/PID/task is seized and interrupted,
 * and the list is read again until no new thread appears (threads created
 * meanwhile by a seized thread are attached by the kernel itself).
 *
 * Arming: no seccomp filter (a filter outlives its tracer, and without a
 * tracer SECCOMP_RET_TRACE fails the syscall), so mmap-family calls are
 * caught by breakpoints on libc's wrappers, and modules loaded later by one
 * on the loader's _dl_debug_state, which it calls around every dlopen.
 *
 * Detaching: every thread is stopped; hijacked return slots get their real
 * addresses back; a thread caught between an out-of-line instruction and
 * its jump back is moved to the matching place in the real code; every
 * int3 is replaced by its original byte; the scratch pages are unmapped;
 * then each thread is let go.  A signal that finds a thread held, at
 * either end, goes in at once (signal_let_in): none waits for the tracer.
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memory.h"
#include "trace.h"
#include "unwind.h"

#define ATTACH_OPTIONS                                                                     \
	(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACECLONE |                \
	 PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE)

static int await_stop(struct tracer *tr, struct tthread *t, int detaching);

/*
 * A task born while memtrack attaches or detaches (the event stop of its
 * parent t reports it).  A thread joins the table: it is held, restored
 * and let go with the others.  A process holds nothing of ours when we
 * attach; when we detach, a fork's copy of our code is cleaned first, and
 * it is let go at its first stop.  A child sharing our memory (vfork,
 * posix_spawn) is a process of its own that runs in it: it joins the table
 * too, and its parent, after a vfork, is blocked until the child execs or
 * exits (t->vfork_child).
 */
static void adopt(struct tracer *tr, struct tthread *t, int event)
{
	struct tproc *p = t->proc, *np;
	uint64_t flags = proc_clone_flags(t->tid, event);
	unsigned long msg = 0;
	struct tthread *nt;
	struct stop s;

	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) < 0)
		return;
	if (event == PTRACE_EVENT_VFORK)
		t->vfork_child = (pid_t)msg;
	/* a thread listed in /proc (seize_all) before its creator's event came */
	if (thread_find(tr, (pid_t)msg))
		return;
	if (!(flags & CLONE_THREAD) && (flags & CLONE_VM)) {
		np = proc_new(tr, (pid_t)msg, 0);
		nt = np ? thread_new(tr, np, (pid_t)msg, TS_RUNNING) : NULL;
		if (nt)
			proc_inherit(tr, p, t, np, nt, 1);
	} else {
		nt = thread_new(tr, p, (pid_t)msg, TS_RUNNING);
	}
	if (!nt)
		return;
	/* its first stop may have come before this event, and been put aside
	 * by the main loop: it is stopped already */
	if (proc_take_early_stop(tr, nt->tid))
		nt->held = 1;
	if (flags & (CLONE_THREAD | CLONE_VM))
		return;	/* held with the others */
	if (nt->held || (stop_wait(tr, nt->tid, 0, &s) == 0 && s.kind != STOP_EXITED)) {
		int memfd = tmem_open(nt->tid);

		struct bp *bp;

		for (size_t i = 0; memfd >= 0 && bp_table_next(&p->bps, &i, NULL, &bp);) {
			if (bp->kind != BP_TRAMPOLINE)
				bp_remove(bp, memfd);
		}
		if (memfd >= 0) {
			heap_give_back(nt->tid, memfd, t->shadow, t->nshadow, p->trampoline);
			close(memfd);
		}
		stop_resume(nt, RESUME(GO_DETACH, 0));
	}
	thread_free(tr, nt);
}

/*
 * Waits until t sits in a stop we can hold it in, outside any syscall: the
 * interrupt (or its first stop, or a group-stop).  A signal on its way in
 * goes in first, and the thread is held at its handler's first
 * instruction (signal_let_in).  Detaching, a breakpoint hit is settled
 * first: a returning call of ours is recorded and sent back to its caller;
 * a call just starting is rewound to run its original instruction after we
 * are gone.
 * 0, 1 when it is blocked in vfork until its child execs or exits (not
 * held), or -ESRCH when the thread is gone.
 */
static int await_stop(struct tracer *tr, struct tthread *t, int detaching)
{
	struct tproc *p = t->proc;

	if (t->vfork_child)
		return 1;	/* blocked in vfork: it stops once its child is done */
	for (;;) {
		struct stop s;

		if (stop_wait(tr, t->tid, 0, &s) < 0 || s.kind == STOP_EXITED)
			return -ESRCH;
		switch (s.kind) {
		case STOP_INTERRUPT:
		case STOP_GROUP:
		case STOP_ATTACHED:
			if (!stop_queued(t->tid, SIGTRAP)) {
				/* held; or the process is stopped (SIGSTOP and the like) */
				t->group_stopped = s.kind == STOP_GROUP;
				goto held;
			}
			/* go on to the trap's own stop: settled below, or kept for
			 * the program if the trap is not ours */
			if (stop_resume(t, GO_ON) < 0)
				return -ESRCH;
			continue;
		case STOP_NEWTASK:
			adopt(tr, t, s.event);
			if (t->vfork_child) {
				/* it blocks until its child is done: not now */
				ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
				return stop_resume(t, GO_ON) < 0 ? -ESRCH : 1;
			}
			break;
		case STOP_VFORK_DONE:
			t->vfork_child = 0;
			break;
		case STOP_EXEC:
			/* a new image: nothing of ours is left in it */
			proc_reset_image(p);
			t->nshadow = 0;
			goto held;
		case STOP_BREAKPOINT:
			if (detaching) {
				if (s.bp->kind == BP_TRAMPOLINE) {
					if (heap_return(tr, t, &s.regs) < 0)
						return -EPROTO;
				} else {
					s.regs.rip = s.bp->addr;
				}
				if (ptrace(PTRACE_SETREGS, t->tid, 0, &s.regs) < 0)
					return -ESRCH;
				goto held;
			}
			/* before arming, no int3 is ours: the program's SIGTRAP */
			/* fall through */
		case STOP_SIGTRAP:
		case STOP_SIGNAL:
			/* the program's own, SIGTRAP too */
			if (signal_let_in(tr, &s) < 0)
				return -ESRCH;
			t->group_stopped = s.kind == STOP_GROUP;
			goto held;
		default:
			break;
		}
		/* A stop we do not hold a thread in: an event stop is inside its
		 * syscall (a syscall injected there would take the call's
		 * place), a syscall stop is not ours.  The interrupt, consumed
		 * by this stop, is sent again: it stops the thread once the
		 * call returned. */
		ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
		if (stop_resume(t, GO_ON) < 0)
			return -ESRCH;
	}
held:
	t->held = 1;
	return 0;
}

/* Holds every thread of the table; tasks born meanwhile join it. */
static void hold_all(struct tracer *tr, int detaching)
{
	int again;

	do {
		again = 0;
		for_each_thread(tr, t) {
			if (t->held || t->vfork_child)
				continue;
			again = 1;
			if (await_stop(tr, t, detaching) < 0) {
				thread_free(tr, t);
				if (!tr->procs)
					return;
			}
		}
	} while (again);
}

/* Why PTRACE_SEIZE refused tid: 1 the kernel attached it to us already
 * (the child of a thread we had seized), 2 it is exiting (a thread that
 * ended is listed until it is reaped), 0 someone else traces it. */
static int seize_refused(pid_t tid)
{
	char path[64], line[128];
	FILE *f;
	int tracer = -1;
	char state = 'X';

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 2;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "State: %c", &state);
		sscanf(line, "TracerPid: %d", &tracer);
	}
	fclose(f);
	if (state == 'Z' || state == 'X')
		return 2;
	return tracer == getpid() ? 1 : 0;
}

static int seize_all(struct tracer *tr, struct tproc *p, struct tracer_result *res)
{
	char path[64];
	int added;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	do {
		DIR *d = opendir(path);
		struct dirent *de;

		if (!d) {
			snprintf(res->error, sizeof(res->error), "cannot read %s: %s", path,
				 strerror(errno));
			return -errno;
		}
		added = 0;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);

			if (tid <= 0 || thread_find(tr, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, ATTACH_OPTIONS) < 0) {
				int err = errno;

				int why = err == EPERM ? seize_refused(tid) : 0;

				if (err == ESRCH || why == 2)
					continue;	/* it ended meanwhile */
				if (!why) {
					closedir(d);
					snprintf(res->error, sizeof(res->error),
						 "cannot trace process %d: %s", (int)p->pid,
						 err == EPERM ? "permission denied (another tracer, "
								"or not yours?)"
							      : strerror(err));
					return -err;
				}
			} else {
				ptrace(PTRACE_INTERRUPT, tid, 0, 0);
			}
			if (!thread_new(tr, p, tid, TS_RUNNING)) {
				closedir(d);
				return -ENOMEM;
			}
			added++;
		}
		closedir(d);
		hold_all(tr, 0);
	} while (added && tr->procs);
	return 0;
}

int attach_seize(struct tracer *tr, struct tracer_result *res)
{
	struct tproc *p = proc_new(tr, tr->root, 1);
	int err;

	if (!p) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -ENOMEM;
	}
	p->exec_seen = 1;
	if ((err = seize_all(tr, p, res)) < 0 || !tr->ntasks) {
		if (!err) {
			snprintf(res->error, sizeof(res->error), "process %d has no threads left",
				 (int)tr->root);
			err = -ESRCH;
		}
		/* let go of what was seized: each thread must be in a stop first */
		hold_all(tr, 0);
		for_each_thread(tr, t)
			stop_resume(t, RESUME(GO_DETACH, 0));
		return err;
	}
	return 0;
}

/* A held thread running in p's memory (one of p's own first), or NULL. */
static struct tthread *held_thread(struct tracer *tr, struct tproc *p)
{
	struct tthread *t = thread_find(tr, p->pid), *other = NULL;

	if (t && t->held && t->proc == p)
		return t;
	for_each_thread(tr, u) {
		if (!u->held)
			continue;
		if (u->proc == p)
			return u;
		if (u->proc->vm_owner == p && !other)
			other = u;
	}
	return other;
}

/* The process attached to (children that share its memory come first in
 * the list). */
static struct tproc *target(struct tracer *tr)
{
	for (struct tproc *p = tr->procs; p; p = p->next)
		if (p->pid == tr->root)
			return p;
	return tr->procs;
}

/* A held thread goes on as it was: with the signal it was held with, or
 * stopped still if its process was. */
static void release(struct tthread *u)
{
	int stopped = u->group_stopped;

	u->held = u->group_stopped = 0;
	u->let_in_frame = 0;
	if (!stopped) {
		stop_resume(u, GO_ON);
	} else if (at_syscall_exit(u->tid)) {
		/* a stopped process stays stopped: an injection took the
		 * thread out of its group-stop, the interrupt puts it back
		 * before it runs an instruction */
		ptrace(PTRACE_INTERRUPT, u->tid, 0, 0);
		stop_resume(u, GO_ON);
	} else {
		stop_resume(u, RESUME(GO_LISTEN, 0));
	}
}

int attach_arm(struct tracer *tr)
{
	struct tproc *p = target(tr);
	struct tthread *t = held_thread(tr, p);
	struct mt_event ev = {.type = MT_EV_PROC_START, .pid = (uint32_t)p->pid,
			      .tid = (uint32_t)p->pid, .mflags = MT_PROC_ATTACH};
	int err;

	p->space = p->symspace = ++tr->next_space;
	ev.space = p->space;
	trace_event(tr, &ev);
	for_each_thread(tr, u) {
		struct mt_event te = {.type = MT_EV_THREAD_START, .pid = (uint32_t)p->pid,
				      .tid = (uint32_t)u->tid};

		if (u->tid != p->pid && u->proc == p)
			trace_event(tr, &te);
	}
	err = t ? modules_scan(tr, p, t) : -ESRCH;
	trace_report_error(tr, err);
	if (err == 0)
		marks_report_at_start(tr, p);	/* every module it has is armed */
	for_each_thread(tr, u) {
		struct tproc *own = u->proc->vm_owner ? u->proc->vm_owner : u->proc;

		/* the fast engine: not in the middle of a jump, nor back there
		 * from a handler, and known by its thread pointer */
		fast_move_out_of_sites(own, u);
		signal_mend_frame(own, u);
		fast_thread_started(tr, u);
		release(u);
	}
	return err;
}

/*
 * Lets go of a held thread.  Its signals went in when it was held; one
 * the event loop sent again before (stop_resume) and that waits for its
 * siginfo back, queued still, is let in from its delivery stop first: the
 * thread runs until none is left (those that come first go in as they
 * are).
 */
static void let_go_of(struct tracer *tr, struct tthread *t)
{
	struct stop s;
	int sig = 0;

	t->let_in_frame = 0;
	for (int n = 0; n < 16 && stop_kept_queued(t); n++) {
		if (stop_resume(t, RESUME(GO_CONT, sig)) < 0 || stop_wait(tr, t->tid, 0, &s) < 0 ||
		    s.kind == STOP_EXITED)
			return;
		sig = s.kind == STOP_SIGNAL || s.kind == STOP_SIGTRAP ? s.sig : 0;
	}
	stop_resume(t, RESUME(GO_DETACH, sig));
}

/* Puts a thread caught inside an out-of-line slot back into the code. */
static void leave_scratch(struct tproc *p, struct tthread *t)
{
	struct user_regs_struct regs;
	const struct bp *bp;
	int ran;

	if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0 ||
	    !(bp = bpt_find_slot(&p->bps, regs.rip, &ran)))
		return;
	/* the instruction has not run; or it has, the jump back has not */
	regs.rip = ran ? bp->addr + bp->len : bp->addr;
	ptrace(PTRACE_SETREGS, t->tid, 0, &regs);
}

/* Unmaps p's scratch pages from a thread of p held outside any syscall. */
static int unmap_scratch(struct tracer *tr, struct tproc *p, struct tthread *t)
{
	int err = 0;

	/* the first page holds the syscall instruction injections run: last */
	for (size_t i = p->nscratch; i-- > 0;) {
		uint64_t args[6] = {p->scratch[i], 4096};
		int64_t ret;

		if (inject_syscall(tr, t, SYS_munmap, args, &ret) < 0 || ret != 0)
			err = -EIO;
	}
	p->nscratch = 0;
	return err;
}

/* Takes everything of ours out of the memory p owns (its threads and the
 * children sharing it are held, but a vfork parent: when that is p's only
 * thread, the scratch pages wait for it). */
static int clean(struct tracer *tr, struct tproc *p)
{
	struct tthread *inj = held_thread(tr, p);
	struct bp *bp;
	int err = 0;

	for_each_thread(tr, t) {
		if (t->proc != p && t->proc->vm_owner != p)
			continue;
		heap_give_back(t->tid, p->memfd, t->shadow, t->nshadow, p->trampoline);
		t->nshadow = 0;
		if (t->held)
			leave_scratch(p, t);
	}
	for (size_t i = 0; bp_table_next(&p->bps, &i, NULL, &bp);) {
		if (bp->kind != BP_TRAMPOLINE && bp_remove(bp, p->memfd) < 0)
			err = -EIO;
	}
	if (inj && inj->proc == p && unmap_scratch(tr, p, inj) < 0)
		err = -EIO;
	return err;
}

/* Stops every thread and holds it; 0, or 1 when no process is left. */
static int stop_all(struct tracer *tr)
{
	for_each_thread(tr, t) {
		t->held = 0;
		ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
	}
	hold_all(tr, 1);
	return !tr->procs;
}

/* The fast engine: is any held thread of p's memory inside the recorder or
 * a stub (its pc, or a return address on its stack)? */
static int inside_recorder(struct tracer *tr, struct tproc *p)
{
	for_each_thread(tr, t) {
		struct user_regs_struct regs;
		size_t n;
		int cut;

		if (!t->held || (t->proc != p && t->proc->vm_owner != p) ||
		    ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
			continue;
		tr->pcs[0] = regs.rip;
		n = heap_walk(tr, p, t, t->tid, &regs, UNW_MAX_FRAMES - 1, &cut);
		if (fast_inside(p, tr->pcs, n ? n : 1))
			return 1;
	}
	return 0;
}

/*
 * The fast engine: the jumps go back to the original bytes (every thread
 * is held), then the threads run until none is inside the recorder or a
 * stub any more (a call in progress, a wait for its stack), for up to two
 * seconds.  -EBUSY when one stayed: the recorder stays mapped, recording
 * nothing, and so do the stubs.
 */
static int leave_recorder(struct tracer *tr)
{
	int any = 0;

	for (struct tproc *p = tr->procs; p; p = p->next)
		if (!p->vm_owner && p->fast) {
			fast_unhook(p);
			any = 1;
		}
	for (int round = 0; any && round < 2000; round++) {
		int inside = 0;

		for (struct tproc *p = tr->procs; p && !inside; p = p->next)
			inside = !p->vm_owner && p->fast && inside_recorder(tr, p);
		if (!inside)
			return 0;
		for_each_thread(tr, t)
			if (t->held)
				release(t);
		/* a millisecond of running: signals keep coming, and go in */
		loop_run_for(tr, 1000000);
		if (stop_all(tr))
			return 0;
	}
	return any ? -EBUSY : 0;
}

int attach_detach(struct tracer *tr)
{
	int err = 0, busy;

	if (!tr->procs)
		return 0;
	if (stop_all(tr))
		return 0;	/* the process ended meanwhile */
	busy = leave_recorder(tr);
	if (!tr->procs)
		return 0;
	for (struct tproc *p = tr->procs; p; p = p->next) {
		struct tthread *inj = held_thread(tr, p);

		if (p->vm_owner || !p->fast)
			continue;
		if (busy) {
			trace_warn(tr, "process %d: a thread stayed inside memtrack's recorder: it "
				       "stays mapped there, recording nothing", (int)p->pid);
			fast_free(tr, p);
			p->nscratch = 0;	/* its stubs stay too */
		} else if (inj && inj->proc == p && fast_detach(tr, p, inj) < 0) {
			err = -EIO;
		}
		/* else by its own thread, after a vfork, as the scratch pages */
	}
	/* every memory that holds breakpoints: the target's, or, when it
	 * exited or exec'd, that of a child still sharing the old one */
	for (struct tproc *p = tr->procs; p; p = p->next)
		if (!p->vm_owner && clean(tr, p) < 0)
			err = -EIO;
	for_each_thread(tr, t)
		if (t->held) {
			let_go_of(tr, t);
			t->held = 0;
			t->state = TS_GONE;
		}
	/* a vfork parent goes on once its child, let go just now, is done */
	for_each_thread(tr, t) {
		if (t->state == TS_GONE)
			continue;
		t->vfork_child = 0;
		if (await_stop(tr, t, 1) < 0)
			continue;
		if (!t->proc->vm_owner && t->proc->fast && fast_detach(tr, t->proc, t) < 0)
			err = -EIO;
		if (!t->proc->vm_owner && t->proc->nscratch && unmap_scratch(tr, t->proc, t) < 0)
			err = -EIO;
		let_go_of(tr, t);
	}
	return err;
}

int attach_let_go(struct tracer *tr, struct tthread *t)
{
	/*
	 * A process we do not record needs no tracer (there is no seccomp
	 * filter to serve).  Once its memory holds none of our patches (a fork
	 * child's copy is cleaned when it is created; a vfork child shares ours
	 * until it execs), it is let go.
	 */
	if (!tr->attached || t->proc->followed || t->proc->vm_owner)
		return 0;
	stop_resume(t, RESUME(GO_DETACH, 0));
	thread_free(tr, t);
	return 1;
}
