/*
 * loop.c - the ptrace event loop: wait for a stop, classify it into one of
 * the stop kinds below, handle it, restart the thread the way that kind
 * requires.  Processes and threads are created and retired here.
 *
 *   stop kind          cause                               restart
 *   STOP_EXITED        thread or process ended             (none)
 *   STOP_BREAKPOINT    int3 of ours: allocator, trampoline  PTRACE_CONT
 *   STOP_SIGTRAP       a SIGTRAP that is not ours          PTRACE_CONT + SIGTRAP
 *   STOP_SIGNAL        signal-delivery-stop                PTRACE_CONT + the signal
 *   STOP_SECCOMP       entry of a recorded syscall         PTRACE_SYSCALL (for its exit)
 *   STOP_SYSCALL_EXIT  its exit                            PTRACE_CONT
 *   STOP_EXEC          a new program image                 PTRACE_CONT
 *   STOP_NEWTASK       clone/fork/vfork reported by parent PTRACE_CONT
 *   STOP_ATTACHED      first stop of a new task            PTRACE_CONT
 *   STOP_GROUP         group-stop (SIGSTOP, SIGTSTP...)    PTRACE_LISTEN
 *   STOP_OTHER         PTRACE_EVENT_EXIT and the like      PTRACE_CONT
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../formats/log_writer.h"
#include "memory.h"
#include "trace.h"
#include "unwind.h"

enum stop_kind {
	STOP_EXITED,
	STOP_BREAKPOINT,
	STOP_SIGTRAP,
	STOP_SIGNAL,
	STOP_SECCOMP,
	STOP_SYSCALL_EXIT,
	STOP_EXEC,
	STOP_NEWTASK,
	STOP_ATTACHED,
	STOP_GROUP,
	STOP_OTHER,
};

struct stop {
	pid_t tid;
	int status;
	enum stop_kind kind;
	int sig;
	int event;
	struct tthread *t;
	struct user_regs_struct regs;	/* STOP_BREAKPOINT */
	const struct bp *bp;
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

uint64_t trace_now(const struct tracer *tr)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - tr->t0;
}

void trace_event(struct tracer *tr, struct mt_event *ev)
{
	ev->time_ns = trace_now(tr);
	log_writer_event(tr->w, ev);
}

/* --- processes and threads ------------------------------------------------- */

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

static struct tproc *proc_new(struct tracer *tr, pid_t pid, int followed)
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

static void proc_reset_image(struct tproc *p)
{
	bpt_free(&p->bps);
	modules_free(p);
	p->nafns = 0;
	p->armed = 0;
	p->nscratch = 0;
	p->trampoline = p->syscall_insn = 0;
	p->alloc_lo = p->alloc_hi = 0;
}

static void proc_free(struct tracer *tr, struct tproc *p)
{
	for (struct tproc **pp = &tr->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	for (struct tproc *q = tr->procs; q; q = q->next)
		if (q->vm_owner == p)
			q->vm_owner = NULL;
	proc_reset_image(p);
	unw_close(p->unw);
	if (p->memfd >= 0)
		close(p->memfd);
	free(p);
}

static struct tthread *thread_new(struct tracer *tr, struct tproc *p, pid_t tid, int state)
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

static void thread_free(struct tracer *tr, struct tthread *t)
{
	for (struct tthread **pp = bucket(tr, t->tid); *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	free(t->shadow);
	free(t);
	tr->ntasks--;
}

/* New tasks whose first stop came before their creator's event. */
struct early_stop {
	pid_t tid;
	struct early_stop *next;
};
static struct early_stop *early_stops;

static int take_early_stop(pid_t tid)
{
	for (struct early_stop **pp = &early_stops; *pp; pp = &(*pp)->next)
		if ((*pp)->tid == tid) {
			struct early_stop *e = *pp;

			*pp = e->next;
			free(e);
			return 1;
		}
	return 0;
}

static void restart(struct tthread *t, int how, int sig)
{
	t->at_syscall_exit = 0;
	if (ptrace(how, t->tid, 0, sig) < 0)
		return;	/* it died under us; its exit is on the way */
	if (t->pending_signal) {
		syscall(SYS_tgkill, t->proc->pid, t->tid, t->pending_signal);
		t->pending_signal = 0;
	}
}

/* --- handlers ----------------------------------------------------------------- */

static void log_proc_start(struct tracer *tr, struct tproc *p, pid_t ppid, unsigned cause)
{
	struct mt_event ev = {.type = MT_EV_PROC_START, .pid = (uint32_t)p->pid,
			      .tid = (uint32_t)p->pid, .space = p->space, .arg = (uint64_t)ppid,
			      .mflags = cause};

	trace_event(tr, &ev);
}

static void on_exec(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;

	proc_reset_image(p);
	p->vm_owner = NULL;
	p->exec_seen = 1;
	if (p->memfd >= 0)
		close(p->memfd);
	p->memfd = tmem_open(p->pid);	/* the old fd still points at the old image */
	for (size_t i = 0; i < THREAD_BUCKETS; i++)
		for (struct tthread *u = tr->threads[i]; u; u = u->next)
			if (u->proc == p)
				u->nshadow = 0;
	if (p->pid == tr->root)
		tr->root_exec_seen = 1;
	if (p->followed) {
		unw_close(p->unw);
		p->unw = NULL;
		unw_open(&p->unw, p->pid);
		p->space = ++tr->next_space;
		log_proc_start(tr, p, p->pid == tr->root ? getpid() : 0, MT_PROC_EXEC);
		/* the executable and the dynamic loader are mapped now */
		modules_scan(tr, p, NULL);
	}
	restart(t, PTRACE_CONT, 0);
}

/* Removes our int3 bytes from a forked child's copy of the code. */
static void disarm_copy(struct tproc *parent, struct tproc *child)
{
	for (size_t i = 0; i < parent->bps.cap; i++) {
		const struct bp *bp = &parent->bps.slots[i];

		if (bp->addr && bp->kind != BP_TRAMPOLINE)
			bp_remove(bp, child->memfd);
	}
}

static int is_same_process(pid_t tid, pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	int tgid = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid == pid;
}

static void on_new_task(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t, *nt;
	struct tproc *p = t->proc;
	unsigned long msg = 0;
	pid_t tid;

	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) < 0)
		goto out;
	tid = (pid_t)msg;
	if (s->event == PTRACE_EVENT_CLONE && is_same_process(tid, p->pid)) {
		nt = thread_new(tr, p, tid, TS_NEW);
		if (nt && p->followed) {
			struct mt_event ev = {.type = MT_EV_THREAD_START, .pid = (uint32_t)p->pid,
					      .tid = (uint32_t)tid};

			trace_event(tr, &ev);
		}
	} else {
		/*
		 * A new process.  It inherited the seccomp filter, so it must stay
		 * traced (untraced, its mmap calls would fail); it is not recorded,
		 * and a copy of our code patches is taken out of its memory.  A
		 * vfork child shares our memory: nothing may be restored there.
		 */
		struct tproc *np = proc_new(tr, tid, 0);

		if (!np)
			goto out;
		if (s->event == PTRACE_EVENT_VFORK)
			np->vm_owner = p->vm_owner ? p->vm_owner : p;
		else if (!(np->memfd < 0))
			disarm_copy(p, np);
		nt = thread_new(tr, np, tid, TS_NEW);
	}
	if (nt && take_early_stop(tid)) {
		nt->state = TS_RUNNING;
		restart(nt, PTRACE_CONT, 0);
	}
out:
	restart(t, PTRACE_CONT, 0);
}

static void on_exited(struct tracer *tr, struct stop *s)
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
	thread_free(tr, t);
	if (--p->nthreads == 0)
		proc_free(tr, p);
}

static void on_seccomp(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;
	struct user_regs_struct regs;

	if (!p->followed || ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0) {
		restart(t, PTRACE_CONT, 0);
		return;
	}
	t->sc = sc_find((long)regs.orig_rax);
	if (!t->sc) {
		restart(t, PTRACE_CONT, 0);
		return;
	}
	t->sc_args[0] = regs.rdi;
	t->sc_args[1] = regs.rsi;
	t->sc_args[2] = regs.rdx;
	t->sc_args[3] = regs.r10;
	t->sc_args[4] = regs.r8;
	t->sc_args[5] = regs.r9;
	t->sc_flags = 0;
	t->sc_stack = heap_capture(tr, t, &regs, &t->sc_flags);
	restart(t, PTRACE_SYSCALL, 0);
}

static uint32_t fd_path(struct tracer *tr, pid_t pid, int64_t fd)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/fd/%lld", (int)pid, (long long)fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = 0;
	return log_writer_string(tr->w, path);
}

static void on_syscall_exit(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;
	struct user_regs_struct regs;
	const struct sc_desc *sc = t->sc;

	t->sc = NULL;
	if (!sc || ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0) {
		restart(t, PTRACE_CONT, 0);
		return;
	}
	t->at_syscall_exit = 1;

	struct mt_event ev = {.pid = (uint32_t)p->pid, .tid = (uint32_t)t->tid,
			      .flags = t->sc_flags, .stack = t->sc_stack};
	int64_t ret = (int64_t)regs.rax;

	sc->fill(t->sc_args, ret, &ev);
	if (ev.type == MT_EV_MMAP && !(ev.flags & MT_EVF_FAILED) && !(ev.mflags & 0x20) &&
	    ev.fd >= 0)
		ev.path = fd_path(tr, p->pid, ev.fd);
	trace_event(tr, &ev);

	if (ev.type == MT_EV_MMAP && !(ev.flags & MT_EVF_FAILED) && (ev.prot & 0x4) && ev.path) {
		if (modules_scan(tr, p, t) < 0 && tr->error[0]) {
			fprintf(stderr, "memtrack: %s\n", tr->error);
			tr->error[0] = 0;
		}
	} else if (ev.type == MT_EV_MUNMAP && !(ev.flags & MT_EVF_FAILED)) {
		modules_unmapped(tr, p, ev.addr, ev.size);
	}
	restart(t, PTRACE_CONT, 0);
}

static void on_breakpoint(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;
	const struct bp *bp = s->bp;
	int err = 0;

	switch (bp->kind) {
	case BP_ALLOC:
		err = heap_entry(tr, t, bp, &s->regs);
		break;
	case BP_TRAMPOLINE:
		err = heap_return(tr, t, &s->regs);
		break;
	default:
		err = bp_resume(bp, t->tid, p->memfd, &s->regs);
		break;
	}
	if (err < 0) {
		/* Without its return address the thread cannot go on. */
		fprintf(stderr, "memtrack: %s\n", tr->error[0] ? tr->error : strerror(-err));
		tr->error[0] = 0;
		kill(p->pid, SIGKILL);
		restart(t, PTRACE_CONT, 0);
		return;
	}
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &s->regs) < 0)
		return;
	restart(t, PTRACE_CONT, 0);
}

/* --- classification ------------------------------------------------------------ */

static int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Tells our int3 from a SIGTRAP of the program's own. */
static void classify_sigtrap(struct stop *s)
{
	struct tproc *p = s->t->proc;
	const struct bp_table *bps = p->vm_owner ? &p->vm_owner->bps : &p->bps;
	const struct bp *bp;

	s->kind = STOP_SIGTRAP;
	if (!bps->n || ptrace(PTRACE_GETREGS, s->tid, 0, &s->regs) < 0)
		return;
	bp = bpt_find(bps, s->regs.rip - 1);
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

static void classify(struct stop *s)
{
	int st = s->status;

	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		s->kind = STOP_EXITED;
		return;
	}
	s->sig = WSTOPSIG(st);
	s->event = (unsigned)st >> 16;
	switch (s->event) {
	case 0:
		if (s->sig == (SIGTRAP | 0x80))
			s->kind = STOP_SYSCALL_EXIT;
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
	case PTRACE_EVENT_STOP:
		if (s->t->state == TS_NEW)
			s->kind = STOP_ATTACHED;
		else if (is_stop_signal(s->sig))
			s->kind = STOP_GROUP;
		else
			s->kind = STOP_OTHER;
		return;
	default:
		s->kind = STOP_OTHER;
		return;
	}
}

static void dispatch(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;

	switch (s->kind) {
	case STOP_EXITED:
		on_exited(tr, s);
		break;
	case STOP_BREAKPOINT:
		on_breakpoint(tr, s);
		break;
	case STOP_SIGTRAP:
	case STOP_SIGNAL:
		restart(t, PTRACE_CONT, s->sig);
		break;
	case STOP_SECCOMP:
		on_seccomp(tr, s);
		break;
	case STOP_SYSCALL_EXIT:
		on_syscall_exit(tr, s);
		break;
	case STOP_EXEC:
		on_exec(tr, s);
		break;
	case STOP_NEWTASK:
		on_new_task(tr, s);
		break;
	case STOP_ATTACHED:
		t->state = TS_RUNNING;
		restart(t, PTRACE_CONT, 0);
		break;
	case STOP_GROUP:
		restart(t, PTRACE_LISTEN, 0);
		break;
	case STOP_OTHER:
		restart(t, PTRACE_CONT, 0);
		break;
	}
}

/* --- the loop ----------------------------------------------------------------- */

static void kill_all(struct tracer *tr)
{
	for (struct tproc *p = tr->procs; p; p = p->next)
		kill(p->pid, SIGKILL);
}

int tracer_trace(struct tracer *tr, struct log_writer *w, struct tracer_result *res)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, stop = {.sa_handler = on_stop_signal};
	struct sigaction old_int, old_quit, old_term, old_hup;
	struct timespec ts;
	struct tproc *root;
	int killed = 0;

	tr->w = w;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	tr->t0 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

	/* The terminal's ^C and ^\ are the program's to handle; memtrack ends
	 * with it.  SIGTERM/SIGHUP to memtrack end the run, log intact. */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &stop, &old_term);
	sigaction(SIGHUP, &stop, &old_hup);

	root = proc_new(tr, tr->root, 1);
	if (!root || !thread_new(tr, root, tr->root, TS_RUNNING)) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		kill(tr->root, SIGKILL);
		return -ENOMEM;
	}
	kill(tr->root, SIGCONT);

	uint64_t last_flush = 0;

	while (tr->ntasks) {
		struct stop s = {0};
		uint64_t now = trace_now(tr);

		/* A tracer killed outright loses what its last chunk held:
		 * keep that to about a second of events. */
		if (now - last_flush > 1000000000u) {
			log_writer_flush(w);
			last_flush = now;
		}

		if (stop_signal && !killed) {
			res->tracer_signal = stop_signal;
			kill_all(tr);
			killed = 1;
		}
		s.tid = waitpid(-1, &s.status, __WALL);
		if (s.tid < 0) {
			if (errno == EINTR)
				continue;
			break;	/* ECHILD: nothing left */
		}
		s.t = thread_find(tr, s.tid);
		if (!s.t) {
			/* A new task's first stop, before its creator's event. */
			struct early_stop *e = calloc(1, sizeof(*e));

			if (WIFSTOPPED(s.status) && e) {
				e->tid = s.tid;
				e->next = early_stops;
				early_stops = e;
			} else {
				free(e);
			}
			continue;
		}
		classify(&s);
		dispatch(tr, &s);
	}

	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	launch_unpin(tr);

	res->exit_status = tr->root_status;
	res->events = log_writer_events(w);
	if (!tr->root_exec_seen) {
		int err = launch_failure(tr, res->error, sizeof(res->error));

		if (err < 0)
			return err;
	}
	return 0;
}
