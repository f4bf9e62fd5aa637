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

/* The siginfo a signal sent again plain carries: tgkill's, from us. */
static int sent_plain(const siginfo_t *si)
{
	return si->si_code == SI_TKILL && si->si_pid == getpid();
}

static void drop_kept(struct tthread *t, size_t i)
{
	memmove(&t->kept[i], &t->kept[i + 1], (t->nkept - i - 1) * sizeof(t->kept[0]));
	t->nkept--;
}

/*
 * At a signal-delivery-stop of t: if it is a signal sent again plain, it
 * gets its siginfo back (the oldest kept of its number: real-time signals
 * queue in order).  A standard signal (below 32, for the kernel) is
 * pending once at most, so other kept ones of its number were merged into
 * it: they go too.
 */
static void give_back(struct stop *s)
{
	struct tthread *t = s->t;
	int sig = WSTOPSIG(s->status), given = 0, standard = sig < 32;
	siginfo_t now;

	if (!t || !t->nkept || !WIFSTOPPED(s->status) || (s->status >> 16) ||
	    sig == (SIGTRAP | 0x80) || ptrace(PTRACE_GETSIGINFO, s->tid, 0, &now) < 0 ||
	    !sent_plain(&now))
		return;
	for (size_t i = 0; i < t->nkept;) {
		if (!t->kept[i].sent || t->kept[i].signo != sig || (given && !standard)) {
			i++;
			continue;
		}
		if (!given)
			given = ptrace(PTRACE_SETSIGINFO, s->tid, 0, &t->kept[i].info) == 0;
		drop_kept(t, i);
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
	give_back(s);
	stop_classify(tr, s);
	return 0;
}

void stop_keep(struct tthread *t)
{
	siginfo_t si;

	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) < 0)
		return;	/* not at a delivery stop: gone */
	if (t->nkept == TTHREAD_KEPT)
		drop_kept(t, 0);	/* the oldest goes */
	t->kept[t->nkept].signo = si.si_signo;
	t->kept[t->nkept].sent = 0;
	t->kept[t->nkept].info = si;
	t->nkept++;
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
		if (!t->kept[i].sent || stop_queued(t->tid, t->kept[i].signo))
			return t->kept[i].signo;
	return 0;
}

/* Sends again what injections took off its delivery stops: queued with
 * its own siginfo where the kernel lets another process do it (not for a
 * siginfo the kernel made, nor kill's or tgkill's), else plain. */
static void send_kept(struct tthread *t)
{
	for (size_t i = 0; i < t->nkept;) {
		if (t->kept[i].sent) {
			i++;
		} else if (syscall(SYS_rt_tgsigqueueinfo, t->proc->pid, t->tid, t->kept[i].signo,
				   &t->kept[i].info) == 0) {
			drop_kept(t, i);
		} else {
			syscall(SYS_tgkill, t->proc->pid, t->tid, t->kept[i].signo);
			t->kept[i].sent = 1;
			i++;
		}
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
	if (request(r.how) < 0)
		return 0;
	if (r.how != GO_LISTEN)
		send_kept(t);
	return stop_restart(t->tid, r);
}
