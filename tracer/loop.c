/*
 * loop.c - the event loop: wait for a stop, classify it (stop.c), hand it
 * to the handler of its kind, and restart the thread the way the handler
 * says, here and nowhere else in the loop:
 *
 *     while (tasks are left)
 *             dispatch(next stop);
 *
 * The table of stop kinds and their usual restarts is in stop.h; the
 * handlers live with what they are about: processes and threads
 * (process.c), recorded syscalls (syscalls.c), the program's signals
 * (signals.c), and the breakpoints below, by kind.
 *
 * With the fast engine a second thread drains the processes' rings
 * (fast.c); both hold the tracer's lock while they touch it, this one for
 * all but its wait.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "../formats/log_writer.h"
#include "trace.h"

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}


/* An int3 of ours, by what it is for.  Each handler leaves in s->regs
 * where the thread goes on. */
static struct resume on_breakpoint(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;
	const struct bp *bp = s->bp;
	int err;

	if (signal_replayed(t, bp->addr, s->regs.rsp)) {
		/* the call was recorded before the signal came: go on with it */
		err = bp_resume(bp, t->tid, p->memfd, &s->regs);
	} else {
		switch (bp->kind) {
		case BP_ALLOC:
			err = heap_entry(tr, t, bp, &s->regs);
			break;
		case BP_TRAMPOLINE:
			err = heap_return(tr, t, &s->regs);
			break;
		case BP_SYSCALL:
			err = sc_wrapper_entry(tr, t, bp, &s->regs);
			break;
		case BP_MARK:
			marks_hit(tr, t, bp, &s->regs);
			err = bp_resume(bp, t->tid, p->memfd, &s->regs);
			break;
		case BP_DLSTATE:
			/* the loader changed the module list (dlopen, dlclose) */
			trace_report_error(tr, modules_scan(tr, p, t));
			err = bp_resume(bp, t->tid, p->memfd, &s->regs);
			break;
		case BP_ENTRY:
		case BP_INIT:
		case BP_START:
			err = static_hit(tr, t, bp, &s->regs);
			break;
		default:
			err = bp_resume(bp, t->tid, p->memfd, &s->regs);
			break;
		}
	}
	if (err < 0) {
		/* Without its return address the thread cannot go on. */
		trace_report_error(tr, err);
		kill(p->pid, SIGKILL);
		return GO_ON;
	}
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &s->regs) < 0)
		return RESUME(GO_NONE, 0);	/* it died under us */
	return GO_ON;
}

static struct resume on_vfork_done(struct tracer *tr, struct stop *s)
{
	s->t->vfork_child = 0;
	return GO_ON;
}

static struct resume on_group_stop(struct tracer *tr, struct stop *s)
{
	return RESUME(GO_LISTEN, 0);	/* stopped it stays, and we hear of SIGCONT */
}

static struct resume go_on(struct tracer *tr, struct stop *s)
{
	return GO_ON;
}

typedef struct resume (*stop_handler)(struct tracer *tr, struct stop *s);

static const stop_handler handlers[STOP_KINDS] = {
	[STOP_EXITED] = proc_on_exited,
	[STOP_BREAKPOINT] = on_breakpoint,
	[STOP_SIGTRAP] = signal_on_delivery,
	[STOP_SIGNAL] = signal_on_delivery,
	[STOP_SECCOMP] = sc_on_seccomp,
	[STOP_SYSCALL] = sc_on_exit,
	[STOP_EXEC] = proc_on_exec,
	[STOP_NEWTASK] = proc_on_new_task,
	[STOP_VFORK_DONE] = on_vfork_done,
	[STOP_ATTACHED] = proc_on_attached,
	[STOP_INTERRUPT] = go_on,
	[STOP_GROUP] = on_group_stop,
	[STOP_OTHER] = go_on,
};

/* The stops whose handlers may log an event. */
static const int logs_events[STOP_KINDS] = {
	[STOP_EXITED] = 1,  [STOP_BREAKPOINT] = 1, [STOP_SECCOMP] = 1, [STOP_SYSCALL] = 1,
	[STOP_EXEC] = 1,    [STOP_NEWTASK] = 1,    [STOP_ATTACHED] = 1,
};

static void dispatch(struct tracer *tr, struct stop *s)
{
	struct resume r;

	/* the fast engine: a thread's earlier calls are in its ring; they go
	 * into the log before anything this stop brings.  A stop that logs
	 * nothing (a signal on its way in, a group-stop) has nothing to be
	 * ordered after, and waits for no drain: a timer storm is not slowed */
	if (tr->nfast && s->t && logs_events[s->kind])
		while (fast_drain(tr, s->t->proc) > 0)
			;
	r = handlers[s->kind](tr, s);

	if (r.how != GO_NONE)	/* GO_NONE: s->t may be freed */
		stop_resume(s->t, r);

}

void loop_run_for(struct tracer *tr, uint64_t ns)
{
	uint64_t until = trace_now(tr) + ns;

	while (tr->ntasks && trace_now(tr) < until) {
		struct stop s;
		int err = stop_wait(tr, -1, STOP_EINTR | STOP_NOHANG, &s);

		if (err == -EAGAIN) {
			/* the drainer answers walks meanwhile */
			fast_unlock(tr);
			usleep(50);
			fast_lock(tr);
			continue;
		}
		if (err < 0)
			break;
		if (!s.t) {
			if (WIFSTOPPED(s.status))
				proc_add_early_stop(tr, s.tid);
			continue;
		}
		dispatch(tr, &s);
	}
}

static void kill_all(struct tracer *tr)
{
	for (struct tproc *p = tr->procs; p; p = p->next)
		kill(p->pid, SIGKILL);
}

/* Attach mode: time to detach? */
static int detach_due(struct tracer *tr)
{
	return stop_signal ||
	       (tr->opts.duration > 0 && trace_now(tr) >= (uint64_t)(tr->opts.duration * 1e9));
}

void loop_run(struct tracer *tr, struct tracer_result *res)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, stop = {.sa_handler = on_stop_signal};
	struct sigaction old_int, old_quit, old_term, old_hup;
	int killed = 0;

	/* run: the terminal's ^C and ^\ are the program's to handle, memtrack
	 * ends with it; SIGTERM/SIGHUP to memtrack end the run, log intact.
	 * attach: ^C, SIGTERM and SIGHUP detach. */
	sigaction(SIGINT, tr->attached ? &stop : &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &stop, &old_term);
	sigaction(SIGHUP, &stop, &old_hup);
	rss_start(tr);

	/* the fast engine's rings are drained by a thread of their own, under
	 * the tracer's lock; this one waits for stops */
	if (tr->opts.engine == TRACER_FAST)
		fast_drainer_start(tr);
	fast_lock(tr);
	if (tr->attached) {
		attach_arm(tr);
	} else {
		/* the child is held at its exec: that is the first stop */
		struct tproc *root = proc_new(tr, tr->root, 1);
		struct stop first = {.tid = tr->root, .status = tr->exec_status};

		first.t = root ? thread_new(tr, root, tr->root, TS_RUNNING) : NULL;
		if (!first.t) {
			snprintf(res->error, sizeof(res->error), "out of memory");
			kill(tr->root, SIGKILL);
		} else {
			stop_classify(tr, &first);
			dispatch(tr, &first);
		}
	}
	tr->traced = 1;

	while (tr->ntasks) {
		struct stop s;
		int err;

		/* the timer's work: RSS samples, the status line; symbols and a
		 * flush of the log */
		if (rss_poll(tr))
			record_progress(tr, 0);
		record_poll(tr);
		if (tr->attached && detach_due(tr)) {
			res->tracer_signal = stop_signal;
			if (attach_detach(tr) < 0)
				snprintf(res->error, sizeof(res->error),
					 "could not undo every change in process %d",
					 (int)tr->root);
			res->detached = 1;
			break;
		}
		if (stop_signal && !killed) {
			res->tracer_signal = stop_signal;
			kill_all(tr);
			killed = 1;
		}
		/* the drainer has the tracer while this thread waits */
		fast_unlock(tr);
		err = stop_wait(tr, -1, STOP_EINTR, &s);
		fast_lock(tr);
		if (err == -EINTR)
			continue;
		if (err < 0)
			break;	/* ECHILD: nothing left */
		if (!s.t) {
			/* A new task's first stop, before its creator's event. */
			if (WIFSTOPPED(s.status))
				proc_add_early_stop(tr, s.tid);
			continue;
		}
		dispatch(tr, &s);
	}
	fast_drainer_stop(tr);

	fast_unlock(tr);
	rss_stop(tr);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
}
