/*
 * stop.c - reading a wait status into a stop kind, and restarting a
 * stopped thread: the two halves of every conversation with a tracee.
 *
 * Classification needs the tracer's state in one place only: an int3 of
 * ours is told from the program's own SIGTRAP by the breakpoint table of
 * the memory the thread runs in (a CLONE_VM child runs in its owner's).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stop.h"
#include "trace.h"

static const char *const names[STOP_KINDS] = {
	[STOP_EXITED] = "exited",	  [STOP_BREAKPOINT] = "breakpoint",
	[STOP_SIGTRAP] = "sigtrap",	  [STOP_SIGNAL] = "signal",
	[STOP_SECCOMP] = "seccomp",	  [STOP_SYSCALL] = "syscall",
	[STOP_EXEC] = "exec",		  [STOP_NEWTASK] = "newtask",
	[STOP_VFORK_DONE] = "vfork-done", [STOP_ATTACHED] = "attached",
	[STOP_INTERRUPT] = "interrupt",	  [STOP_GROUP] = "group-stop",
	[STOP_OTHER] = "other",
};

const char *stop_name(enum stop_kind kind)
{
	return kind < STOP_KINDS ? names[kind] : "?";
}

/* Tells our int3 from a SIGTRAP of the program's own. */
static void classify_sigtrap(struct stop *s)
{
	const struct tproc *p = s->t ? s->t->proc : NULL;
	const struct bp_table *bps;
	const struct bp *bp;

	s->kind = STOP_SIGTRAP;
	if (!p)
		return;
	bps = p->vm_owner ? &p->vm_owner->bps : &p->bps;
	if (!bps->len || ptrace(PTRACE_GETREGS, s->tid, 0, &s->regs) < 0)
		return;
	bp = bp_table_get(bps, s->regs.rip - 1);
	if (!bp)
		return;
	if (bp->one_byte) {
		/* rip - 1 could be a real instruction boundary: ask the kernel */
		siginfo_t si;

		if (ptrace(PTRACE_GETSIGINFO, s->tid, 0, &si) < 0 || si.si_code != SI_KERNEL)
			return;
	}
	s->bp = bp;
	s->kind = STOP_BREAKPOINT;
}

void stop_classify(struct tracer *tr, struct stop *s)
{
	int st = s->status;

	(void)tr;
	s->bp = NULL;
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		s->kind = STOP_EXITED;
		s->sig = s->event = 0;
		return;
	}
	s->sig = WSTOPSIG(st);
	s->event = (unsigned)st >> 16;
	switch (s->event) {
	case 0:
		if (s->sig == (SIGTRAP | 0x80))
			s->kind = STOP_SYSCALL;
		else if (s->sig == SIGTRAP)
			classify_sigtrap(s);
		else
			s->kind = STOP_SIGNAL;
		return;
	case PTRACE_EVENT_SECCOMP:
		s->kind = STOP_SECCOMP;
		return;
	case PTRACE_EVENT_EXEC:
		s->kind = STOP_EXEC;
		return;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		s->kind = STOP_NEWTASK;
		return;
	case PTRACE_EVENT_VFORK_DONE:
		s->kind = STOP_VFORK_DONE;
		return;
	case PTRACE_EVENT_STOP:
		if (!s->t || s->t->state == TS_NEW)
			s->kind = STOP_ATTACHED;
		else if (is_stop_signal(s->sig))
			s->kind = STOP_GROUP;
		else
			s->kind = STOP_INTERRUPT;
		return;
	default:
		s->kind = STOP_OTHER;
		return;
	}
}

int stop_wait(struct tracer *tr, pid_t tid, int flags, struct stop *s)
{
	pid_t got;

	while ((got = waitpid(tid, &s->status, __WALL | (flags & STOP_NOHANG ? WNOHANG : 0))) < 0)
		if (errno != EINTR || (flags & STOP_EINTR))
			return -errno;
	if (!got)
		return -EAGAIN;
	s->tid = got;
	s->t = thread_find(tr, got);
	stop_classify(tr, s);
	return 0;
}

int stop_keep_info(struct tthread *t, const siginfo_t *si)
{
	siginfo_t now;
	size_t i;

	if (!si) {
		if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &now) < 0)
			return -1;
		si = &now;
	}
	for (i = 0; i < t->nkept && t->kept[i].signo != si->si_signo; i++)
		;
	if (i == TTHREAD_KEPT)
		i = 0;	/* the oldest goes */
	else if (i == t->nkept)
		t->nkept++;
	t->kept[i].signo = si->si_signo;
	t->kept[i].info = *si;
	return 0;
}

int stop_queued(pid_t tid, int sig)
{
	struct __ptrace_peeksiginfo_args args = {.off = 0, .flags = 0, .nr = 32};
	siginfo_t si[32];
	long n = ptrace(PTRACE_PEEKSIGINFO, tid, &args, si);

	for (long i = 0; i < n; i++)
		if (si[i].si_signo == sig)
			return 1;
	return 0;
}

int stop_kept_queued(struct tthread *t)
{
	for (size_t i = 0; i < t->nkept; i++)
		if (stop_queued(t->tid, t->kept[i].signo))
			return t->kept[i].signo;
	return 0;
}

void stop_raise_again(struct tthread *t, int sig)
{
	/* queued again with its own siginfo where the kernel lets us (a
	 * timer's, sigqueue's); else plain, the siginfo given back at the
	 * delivery stop */
	for (size_t i = 0; i < t->nkept; i++)
		if (t->kept[i].signo == sig &&
		    syscall(SYS_rt_tgsigqueueinfo, t->proc->pid, t->tid, sig, &t->kept[i].info) == 0) {
			t->kept[i] = t->kept[--t->nkept];
			return;
		}
	syscall(SYS_tgkill, t->proc->pid, t->tid, sig);
}

/* At the delivery stop of sig: if it is a signal sent again, it goes in
 * with the siginfo it came with. */
static void give_back_info(struct tthread *t, int sig)
{
	for (size_t i = 0; sig && i < t->nkept; i++)
		if (t->kept[i].signo == sig) {
			ptrace(PTRACE_SETSIGINFO, t->tid, 0, &t->kept[i].info);
			t->kept[i] = t->kept[--t->nkept];
			return;
		}
}

static long request(enum go how)
{
	switch (how) {
	case GO_CONT:
		return PTRACE_CONT;
	case GO_SYSCALL:
		return PTRACE_SYSCALL;
	case GO_LISTEN:
		return PTRACE_LISTEN;
	case GO_DETACH:
		return PTRACE_DETACH;
	default:
		return -1;	/* held, or gone */
	}
}

int stop_restart(pid_t tid, struct resume r)
{
	long req = request(r.how);

	if (req < 0)
		return 0;
	return ptrace(req, tid, 0, r.sig) < 0 ? -ESRCH : 0;
}

int stop_resume(struct tthread *t, struct resume r)
{
	int sig = r.sig, raise_again = 0;

	if (request(r.how) < 0)
		return 0;
	if (t->pending_signal && r.how != GO_LISTEN) {
		if (!t->reraise && !sig)
			sig = t->pending_signal;	/* held at its own delivery stop */
		else if (t->reraise || sig != t->pending_signal)
			/* it left its delivery stop for an injection: the signal
			 * comes again, and its siginfo with it at that stop */
			raise_again = t->pending_signal;
	}
	give_back_info(t, sig);
	if (stop_restart(t->tid, RESUME(r.how, sig)) < 0)
		return -ESRCH;
	if (raise_again)
		stop_raise_again(t, raise_again);
	t->pending_signal = 0;
	t->reraise = 0;
	return 0;
}
