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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../formats/log_writer.h"
#include "../symbolizer/elf.h"
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

#define RSS_INTERVAL_US 10000	/* resident size sampled every 10 ms */

static volatile sig_atomic_t stop_signal, rss_due;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void on_alarm(int sig)
{
	rss_due = 1;
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

static void restart(struct tthread *t, int how, int sig)
{
	if (ptrace(how, t->tid, 0, sig) < 0)
		return;	/* it died under us; its exit is on the way */
	if (t->pending_signal) {
		syscall(SYS_tgkill, t->proc->pid, t->tid, t->pending_signal);
		t->pending_signal = 0;
		t->reraise = 0;
	}
}

/* --- handlers ----------------------------------------------------------------- */

/* Arming problems do not stop the run: the program goes on, less is
 * recorded, and the user is told once. */
void trace_warn(struct tracer *tr, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!tr->opts.warn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tr->opts.warn(tr->opts.warn_arg, line);
}

void trace_report_error(struct tracer *tr, int err)
{
	if (err >= 0)
		return;
	trace_warn(tr, "%s", tr->error[0] ? tr->error : strerror(-err));
	tr->error[0] = 0;
}

/* MEMTRACK_UNWIND_CHECK=1: say whether the two unwinders ever disagreed. */
static void unwind_check_report(struct tracer *tr)
{
	uint64_t mismatches = 0;
	char first[256] = "";

	for (struct tproc *p = tr->procs; p; p = p->next)
		if (p->unw)
			mismatches += unw_check_mismatches(p->unw, first, sizeof(first));
	mismatches += tr->unwind_mismatches;
	if (mismatches)
		trace_warn(tr, "unwind check: %llu stacks walked differently; first: %s",
			   (unsigned long long)mismatches,
			   first[0] ? first : tr->unwind_first_mismatch);
}

static void warn_no_allocator(struct tracer *tr, struct tproc *p)
{
	char link[64], exe[4096];
	ssize_t n;

	if (p->warned_static)
		return;
	p->warned_static = 1;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)p->pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	trace_warn(tr, "%s is statically linked and has no allocator symbols (stripped?): heap "
		       "calls cannot be hooked, only mmap-family calls are recorded", exe);
}

static void sample_rss(struct tracer *tr, struct tproc *p)
{
	char path[64];
	unsigned long long size, resident;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)p->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
		struct mt_event ev = {.type = MT_EV_RSS, .pid = (uint32_t)p->pid,
				      .tid = (uint32_t)p->pid,
				      .size = resident * (unsigned long long)tr->page_size};

		trace_event(tr, &ev);
	}
	fclose(f);
}

static void mark_hit(struct tracer *tr, struct tthread *t, const struct bp *bp,
		     const struct user_regs_struct *regs)
{
	struct tproc *p = t->proc;
	struct user_regs_struct at = *regs;
	struct mt_event ev = {.type = MT_EV_MARK, .pid = (uint32_t)p->pid,
			      .tid = (uint32_t)t->tid, .arg = bp->fn};

	if (!p->followed)
		return;
	at.rip = bp->addr;
	ev.stack = heap_capture(tr, t, &at, &ev.flags);
	ev.flags &= ~MT_EVF_IN_ALLOC;
	ev.path = log_writer_string(tr->w, tr->opts.marks[bp->fn - 1]);
	trace_event(tr, &ev);
	sample_rss(tr, p);
}


/*
 * attach: a process we do not record needs no tracer (there is no seccomp
 * filter to serve).  Once its memory holds none of our patches (a fork
 * child's copy is cleaned when it is created; a vfork child shares ours
 * until it execs), it is let go.
 */
static int let_go(struct tracer *tr, struct tthread *t)
{
	if (!tr->attached || t->proc->followed || t->proc->vm_owner)
		return 0;
	ptrace(PTRACE_DETACH, t->tid, 0, 0);
	thread_free(tr, t);
	return 1;
}

static void log_proc_start(struct tracer *tr, struct tproc *p, pid_t ppid, unsigned cause)
{
	struct mt_event ev = {.type = MT_EV_PROC_START, .pid = (uint32_t)p->pid,
			      .tid = (uint32_t)p->pid, .space = p->space, .arg = (uint64_t)ppid,
			      .mflags = cause};

	trace_event(tr, &ev);
}

/* A one-shot int3 at addr (kind BP_ENTRY or BP_INIT); 0 or -errno. */
static int one_shot(struct tproc *p, uint64_t addr, int kind)
{
	struct bp *bp = bpt_add(&p->bps, addr);

	if (!bp)
		return -ENOMEM;
	if (tmem_read_all(p->pid, addr, bp->orig, 1) < 0 || bp_insert(bp, p->memfd) < 0) {
		bpt_del(&p->bps, addr);
		return -EFAULT;
	}
	bp->kind = (uint8_t)kind;
	bp->exec = BP_EXEC_NONE;
	bp->len = 1;
	return 0;
}

/* The executable's module and ELF facts, or NULL for a dynamic program. */
static struct tmodule *static_exe(struct tproc *p, struct elfinfo **e)
{
	char link[64], exe[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)p->pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	if (elfinfo_open(e, exe) < 0)
		return NULL;
	for (size_t i = 0; !elfinfo_has_interp(*e) && i < p->nmods; i++)
		if (!strcmp(p->mods[i].path, exe))
			return &p->mods[i];
	elfinfo_close(*e);
	*e = NULL;
	return NULL;
}

/*
 * A static binary is armed at its first instruction, by a one-shot int3
 * there; its heap calls are recorded from its first initializer (_init,
 * or main) on.  Before that, static glibc does what ld.so does for a
 * dynamic program (search paths, origin, TLS), on the program's own
 * allocator where ld.so uses a private one nobody sees: skipping it makes
 * a program report the same allocations whichever way it was linked.
 */
static void break_at_entry(struct tproc *p)
{
	struct elfinfo *e = NULL;
	struct tmodule *m = static_exe(p, &e);
	uint64_t entry;

	if (!m)
		return;
	entry = m->bias + elfinfo_entry(e);
	if (entry >= m->start && entry < m->end && one_shot(p, entry, BP_ENTRY) == 0)
		p->arm_pending = 0;	/* at the entry, not at the first syscall */
	elfinfo_close(e);
}

static void break_at_init(struct tproc *p)
{
	struct elfinfo *e = NULL;
	struct tmodule *m = static_exe(p, &e);
	static const char *const names[] = {"_init", "main"};
	uint64_t value, size;

	if (!m)
		return;
	for (size_t i = 0; i < 2; i++) {
		if (elfinfo_symbol_any(e, names[i], &value, &size) == 0 &&
		    one_shot(p, m->bias + value, BP_INIT) == 0) {
			p->quiet = 1;
			break;
		}
	}
	elfinfo_close(e);
}

static void on_exec(struct tracer *tr, struct stop *s)
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
		log_proc_start(tr, p, p->pid == tr->root ? getpid() : 0, MT_PROC_EXEC);
		/* the executable and the dynamic loader are mapped now; they are
		 * armed at the first syscall exit, or at the entry of a static
		 * binary */
		modules_scan(tr, p, NULL);
		break_at_entry(p);
	}
	if (!let_go(tr, t))
		restart(t, PTRACE_CONT, 0);
}

static void on_new_task(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t, *nt;
	struct tproc *p = t->proc;
	unsigned long msg = 0;
	uint64_t flags = proc_clone_flags(s->tid, s->event);
	pid_t tid;

	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) < 0)
		goto out;
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
			goto out;
		nt = thread_new(tr, np, tid, TS_NEW);
		if (nt)
			trace_report_error(tr, proc_inherit(tr, p, t, np, nt, !!(flags & CLONE_VM)));
	}
	if (nt)
		nt->own_affinity = t->own_affinity;	/* a new task has its creator's mask */
	if (nt && tr->attached && s->event == PTRACE_EVENT_VFORK)
		t->vfork_child = tid;	/* until its PTRACE_EVENT_VFORK_DONE */
	if (nt && proc_take_early_stop(tr, tid)) {
		nt->state = TS_RUNNING;
		if (!let_go(tr, nt))
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
}

static void on_seccomp(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0) {
		restart(t, PTRACE_CONT, 0);
		return;
	}
	if (regs.orig_rax == SYS_sched_getaffinity || regs.orig_rax == SYS_sched_setaffinity) {
		t->affinity_call = (long)regs.orig_rax;
		restart(t, PTRACE_SYSCALL, 0);
		return;
	}
	if (!p->followed) {
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

/*
 * A mapping came back at [addr, addr + len).  Another thread's munmap of
 * that range may still wait to be reaped at its exit; the kernel finished
 * it before this mmap could return the range, so it goes into the log
 * first, or replaying the log would unmap the new mapping.
 */
static void unmaps_first(struct tracer *tr, struct tthread *t, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < THREAD_BUCKETS; i++)
		for (struct tthread *u = tr->threads[i]; u; u = u->next) {
			if (u == t || u->proc != t->proc || !u->sc || u->sc->nr != SYS_munmap ||
			    u->sc_args[0] >= addr + len || addr >= u->sc_args[0] + u->sc_args[1])
				continue;
			trace_syscall_done(tr, u, u->sc, u->sc_args, 0, u->sc_flags, u->sc_stack);
			u->sc = NULL;	/* logged: its exit has nothing more to say */
		}
}

void trace_syscall_done(struct tracer *tr, struct tthread *t, const struct sc_desc *sc,
			const uint64_t args[6], int64_t ret, uint32_t flags, uint64_t stack)
{
	struct tproc *p = t->proc;
	struct mt_event ev = {.pid = (uint32_t)p->pid, .tid = (uint32_t)t->tid, .flags = flags,
			      .stack = stack};

	sc->fill(args, ret, &ev);
	if ((ev.type == MT_EV_MMAP || ev.type == MT_EV_MREMAP) && !(ev.flags & MT_EVF_FAILED))
		unmaps_first(tr, t, ev.addr, ev.size);
	if (ev.type == MT_EV_MMAP && !(ev.flags & MT_EVF_FAILED) && !(ev.mflags & 0x20) &&
	    ev.fd >= 0)
		ev.path = fd_path(tr, p->pid, ev.fd);
	if (p->followed)
		trace_event(tr, &ev);

	if (ev.type == MT_EV_MMAP && !(ev.flags & MT_EVF_FAILED) && (ev.prot & 0x4) && ev.path)
		trace_report_error(tr, modules_scan(tr, p, t));
	else if (ev.type == MT_EV_MUNMAP && !(ev.flags & MT_EVF_FAILED))
		modules_unmapped(tr, p, ev.addr, ev.size);
}

/*
 * The program asked which CPUs it may run on: the kernel answered with the
 * one CPU memtrack keeps it on; show it the mask it had (programs size
 * thread pools and buffers by it: sort, make -j, OpenMP).  A task that set
 * its own mask is no longer pinned: the kernel's answer is the truth.
 */
static void fix_affinity(struct tracer *tr, struct tthread *t)
{
	struct user_regs_struct regs;
	struct tthread *about;
	long call = t->affinity_call;
	size_t n;

	t->affinity_call = 0;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0 || (int64_t)regs.rax < 0)
		return;
	/* about itself (0) or another traced task: those are the pinned ones */
	about = regs.rdi ? thread_find(tr, (pid_t)regs.rdi) : t;
	if (!about)
		return;
	if (call == SYS_sched_setaffinity) {
		about->own_affinity = 1;
		return;
	}
	if (about->own_affinity || !regs.rax)
		return;
	n = (size_t)regs.rax < sizeof(tr->orig_affinity) ? (size_t)regs.rax
							 : sizeof(tr->orig_affinity);
	tmem_write(t->proc->memfd, regs.rdx, &tr->orig_affinity, n);
}

static void on_syscall_exit(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;
	struct user_regs_struct regs;
	const struct sc_desc *sc = t->sc;

	if (t->affinity_call) {
		fix_affinity(tr, t);
		restart(t, PTRACE_CONT, 0);
		return;
	}
	t->sc = NULL;
	if (!sc || ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0) {
		restart(t, PTRACE_CONT, 0);
		return;
	}
	if (p->arm_pending)
		trace_report_error(tr, modules_arm(tr, p, t));
	trace_syscall_done(tr, t, sc, t->sc_args, (int64_t)regs.rax, t->sc_flags, t->sc_stack);
	restart(t, PTRACE_CONT, 0);
}

/* Is this hit a call sent back to its breakpoint by signal_out_of_scratch?
 * Then it is forgotten, with any left by handlers that never returned. */
static int replayed(struct tthread *t, uint64_t addr, uint64_t sp)
{
	for (size_t i = t->nreplay; i-- > 0;)
		if (t->replay[i].addr == addr && t->replay[i].sp == sp) {
			t->nreplay = i;
			return 1;
		}
	return 0;
}

static void on_breakpoint(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;
	const struct bp *bp = s->bp;
	int err = 0;

	if (replayed(t, bp->addr, s->regs.rsp)) {
		/* the call was recorded before the signal came: go on with it */
		if (bp_resume(bp, t->tid, p->memfd, &s->regs) == 0 &&
		    ptrace(PTRACE_SETREGS, t->tid, 0, &s->regs) < 0)
			return;
		restart(t, PTRACE_CONT, 0);
		return;
	}
	switch (bp->kind) {
	case BP_ALLOC:
		err = heap_entry(tr, t, bp, &s->regs);
		break;
	case BP_TRAMPOLINE:
		err = heap_return(tr, t, &s->regs);
		break;
	case BP_SYSCALL:
		err = heap_wrapper_entry(tr, t, bp, &s->regs);
		break;
	case BP_MARK:
		mark_hit(tr, t, bp, &s->regs);
		err = bp_resume(bp, t->tid, p->memfd, &s->regs);
		break;
	case BP_DLSTATE:
		/* the loader changed the module list (dlopen, dlclose) */
		trace_report_error(tr, modules_scan(tr, p, t));
		err = bp_resume(bp, t->tid, p->memfd, &s->regs);
		break;
	case BP_ENTRY:
	case BP_INIT: {
		/* one-shot: the instruction under it runs as it is */
		int kind = bp->kind;

		bp_remove(bp, p->memfd);
		s->regs.rip = bp->addr;
		bpt_del(&p->bps, bp->addr);
		if (ptrace(PTRACE_SETREGS, t->tid, 0, &s->regs) < 0)
			return;
		if (kind == BP_INIT) {
			p->quiet = 0;
		} else {
			trace_report_error(tr, modules_arm(tr, p, t));
			if (p->armed)
				break_at_init(p);
			else
				warn_no_allocator(tr, p);
		}
		restart(t, PTRACE_CONT, 0);
		return;
	}
	default:
		err = bp_resume(bp, t->tid, p->memfd, &s->regs);
		break;
	}
	if (err < 0) {
		/* Without its return address the thread cannot go on. */
		trace_report_error(tr, err);
		kill(p->pid, SIGKILL);
		restart(t, PTRACE_CONT, 0);
		return;
	}
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &s->regs) < 0)
		return;
	restart(t, PTRACE_CONT, 0);
}

/*
 * A signal is about to be delivered to a thread that sits in our scratch
 * code: at an out-of-line slot (its instruction run or not) or at the
 * trampoline (its call just returned).  The handler's frame would keep
 * that address, and the handler would return there, perhaps after memtrack
 * detached and unmapped the page.  The thread is moved back into the
 * program's own code first: after the displaced instruction, or to the
 * breakpoint to run it again (the call is not recorded twice: see
 * on_breakpoint), or, from the trampoline, to its caller.
 */
static void signal_out_of_scratch(struct tracer *tr, struct tthread *t)
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
			if (t->nreplay == TTHREAD_REPLAYS) {
				/* the oldest goes: a handler that never returned */
				memmove(t->replay, t->replay + 1,
					sizeof(t->replay[0]) * (TTHREAD_REPLAYS - 1));
				t->nreplay--;
			}
			t->replay[t->nreplay].addr = bp->addr;
			t->replay[t->nreplay].sp = regs.rsp;
			t->nreplay++;
		}
	}
	ptrace(PTRACE_SETREGS, t->tid, 0, &regs);
}

/* --- classification ------------------------------------------------------------ */

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
	case PTRACE_EVENT_VFORK_DONE:
		s->t->vfork_child = 0;
		s->kind = STOP_OTHER;
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
		/* a signal an injection held back, raised again: as it came */
		if (t->info_saved && t->pending_info.si_signo == s->sig) {
			ptrace(PTRACE_SETSIGINFO, t->tid, 0, &t->pending_info);
			t->info_saved = 0;
		}
		signal_out_of_scratch(tr, t);
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
		if (let_go(tr, t))
			break;
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

/* Attach mode: time to detach? */
static int detach_due(struct tracer *tr)
{
	return stop_signal ||
	       (tr->opts.duration > 0 && trace_now(tr) >= (uint64_t)(tr->opts.duration * 1e9));
}

int tracer_trace(struct tracer *tr, struct log_writer *w, struct tracer_result *res)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, stop = {.sa_handler = on_stop_signal};
	struct sigaction alarm = {.sa_handler = on_alarm};
	struct sigaction old_int, old_quit, old_term, old_hup, old_alrm;
	struct itimerval rss_timer = {{0, RSS_INTERVAL_US}, {0, RSS_INTERVAL_US}};
	struct itimerval no_timer = {{0, 0}, {0, 0}};
	uint64_t last_flush = 0;
	struct timespec ts;
	int killed = 0;

	tr->w = w;
	tr->page_size = sysconf(_SC_PAGESIZE);
	if (tr->opts.nmarks)
		tr->mark_found = calloc(tr->opts.nmarks, 1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	tr->t0 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

	/* run: the terminal's ^C and ^\ are the program's to handle, memtrack
	 * ends with it; SIGTERM/SIGHUP to memtrack end the run, log intact.
	 * attach: ^C, SIGTERM and SIGHUP detach. */
	sigaction(SIGINT, tr->attached ? &stop : &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &stop, &old_term);
	sigaction(SIGHUP, &stop, &old_hup);
	sigaction(SIGALRM, &alarm, &old_alrm);
	setitimer(ITIMER_REAL, &rss_timer, NULL);

	if (tr->attached) {
		attach_arm(tr);
	} else {
		struct tproc *root = proc_new(tr, tr->root, 1);

		if (!root || !thread_new(tr, root, tr->root, TS_RUNNING)) {
			snprintf(res->error, sizeof(res->error), "out of memory");
			kill(tr->root, SIGKILL);
			return -ENOMEM;
		}
		/* the child is held at its exec: that is the first stop */
		struct stop first = {.tid = tr->root, .status = tr->exec_status,
				     .t = thread_find(tr, tr->root)};

		classify(&first);
		dispatch(tr, &first);
	}
	tr->traced = 1;

	while (tr->ntasks) {
		struct stop s = {0};
		uint64_t now = trace_now(tr);

		if (rss_due) {
			rss_due = 0;
			for (struct tproc *p = tr->procs; p; p = p->next)
				if (p->followed && p->exec_seen)
					sample_rss(tr, p);
		}
		/* A tracer killed outright loses what its last chunk held:
		 * keep that to about a second of events. */
		if (now - last_flush > 1000000000u) {
			log_writer_flush(w);
			last_flush = now;
		}
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
		s.tid = waitpid(-1, &s.status, __WALL);
		if (s.tid < 0) {
			if (errno == EINTR)
				continue;
			break;	/* ECHILD: nothing left */
		}
		s.t = thread_find(tr, s.tid);
		if (!s.t) {
			/* A new task's first stop, before its creator's event. */
			if (WIFSTOPPED(s.status))
				proc_add_early_stop(tr, s.tid);
			continue;
		}
		classify(&s);
		dispatch(tr, &s);
	}

	setitimer(ITIMER_REAL, &no_timer, NULL);
	sigaction(SIGALRM, &old_alrm, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	launch_unpin(tr);

	res->exit_status = tr->root_status;
	unwind_check_report(tr);
	for (size_t i = 0; tr->mark_found && i < tr->opts.nmarks; i++)
		if (!tr->mark_found[i])
			trace_warn(tr, "--mark %s: no function or line of that name in the traced "
				       "code (a typo, or no debug information there?): no mark "
				       "recorded", tr->opts.marks[i]);
	return res->error[0] && res->detached ? -EIO : 0;
}
