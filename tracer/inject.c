/*
 * inject.c - making a stopped tracee run one syscall for the tracer, and
 * the scratch pages obtained that way (out-of-line slots, the return
 * trampoline, a syscall instruction for later injections).
 *
 * Where the syscall instruction comes from: a thread stopped at a
 * syscall-exit-stop has one at rip - 2 (the one it just executed); once a
 * scratch page exists it holds one; otherwise two bytes at rip are
 * borrowed and restored (only when no other thread can run there).
 *
 * A signal that comes as the thread is sent to the syscall stops it at
 * its delivery stop before the syscall runs (signals go in on the way back
 * to user code, after a syscall-exit-stop).  A thread the tracer holds
 * gets it there and then, on its own registers (signal_let_in), and the
 * syscall runs from its handler's first instruction.  In the event loop
 * the caller holds the registers the thread will go on with, so the
 * signal waits: it is taken off its delivery stop and sent again when the
 * thread goes on (stop_keep, stop_resume).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "memory.h"
#include "procmaps.h"
#include "trace.h"

#ifndef MAP_FIXED_NOREPLACE /* headers older than Linux 4.17 */
#define MAP_FIXED_NOREPLACE MT_MAP_FIXED_NOREPLACE
#endif

static const uint8_t syscall_bytes[2] = {0x0f, 0x05};

/*
 * Waits for the injected syscall's exit; 0, a negative errno, or, for a
 * held thread, -EINTR: a signal's delivery stop came first (in s), the
 * syscall has not run.
 */
static int run_to_exit(struct tracer *tr, struct tthread *t, int64_t *ret, struct stop *s)
{
	for (;;) {
		struct __ptrace_syscall_info info = {0};	/* valgrind does not know the kernel fills it */

		if (stop_restart(t->tid, RESUME(GO_SYSCALL, 0)) < 0)
			return -ESRCH;
		if (stop_wait(tr, t->tid, 0, s) < 0 || s->kind == STOP_EXITED) {
			t->state = TS_GONE;
			return -ESRCH;
		}
		switch (s->kind) {
		case STOP_SYSCALL:
		case STOP_SECCOMP:
			if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(info), &info) > 0 &&
			    info.op == PTRACE_SYSCALL_INFO_EXIT) {
				*ret = info.exit.rval;
				return 0;
			}
			break;	/* entry or seccomp stop: go on to the exit */
		case STOP_SIGNAL:
		case STOP_SIGTRAP:
		case STOP_BREAKPOINT:
			/* A signal came first.  (The thread runs no code of
			 * ours, so even a SIGTRAP is the program's.) */
			if (t->held)
				return -EINTR;
			stop_keep(t);
			break;
		default:
			break;
		}
	}
}

/*
 * A thread interrupted in a blocking syscall (attach) stops with rax one of
 * the kernel's -ERESTART* codes, expecting the kernel to restart the call
 * on the way out.  An injected syscall takes that way out first, so the
 * saved registers are put back in their restarted form: the syscall
 * instruction again, with its number (the kernel does the same when no
 * handler runs).
 */
static void restarted(struct user_regs_struct *r)
{
	int64_t rax = (int64_t)r->rax;

	if ((int64_t)r->orig_rax < 0 || rax > -512 || rax < -516)
		return;
	r->rax = rax == -516 ? SYS_restart_syscall : r->orig_rax;	/* -ERESTART_RESTARTBLOCK */
	r->rip -= 2;
}

/* The kernel says: a flag of ours would go stale whenever some path resumed
 * the thread without clearing it, and a stale one hides a syscall waiting
 * to be restarted. */
int at_syscall_exit(pid_t tid)
{
	struct __ptrace_syscall_info info = {0};
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info);

	return n > 0 && info.op == PTRACE_SYSCALL_INFO_EXIT;
}

/* One try of inject_syscall: -EINTR when a signal came first (in s), the
 * thread back on its own registers at that signal's delivery stop. */
static int inject_once(struct tracer *tr, struct tthread *t, long nr, const uint64_t args[6],
		       int64_t *ret, struct stop *s)
{
	struct tproc *p = t->proc;
	struct user_regs_struct saved, regs;
	uint8_t orig[2];
	uint64_t insn;
	int patched = 0, err, exit_stop = at_syscall_exit(t->tid);

	*ret = -ENOSYS;	/* until the kernel says otherwise */
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &saved) < 0)
		return -errno;
	if (exit_stop && tmem_read_all(t->tid, saved.rip - 2, orig, 2) == 0 &&
	    !memcmp(orig, syscall_bytes, 2)) {
		insn = saved.rip - 2;
	} else if (p->syscall_insn) {
		insn = p->syscall_insn;
	} else {
		insn = saved.rip;
		if ((err = tmem_read_all(t->tid, insn, orig, 2)) < 0 ||
		    (err = tmem_write(p->memfd, insn, syscall_bytes, 2)) < 0)
			return err;
		patched = 1;
	}
	regs = saved;
	regs.rip = insn;
	regs.rax = (uint64_t)nr;
	regs.orig_rax = (uint64_t)-1;
	regs.rdi = args[0];
	regs.rsi = args[1];
	regs.rdx = args[2];
	regs.r10 = args[3];
	regs.r8 = args[4];
	regs.r9 = args[5];
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0) {
		err = -errno;
		goto out;
	}
	err = run_to_exit(tr, t, ret, s);
	if (err == -EINTR) {
		/* at the signal's delivery stop: its handler's frame is to
		 * hold the registers as they were (the kernel restarts an
		 * interrupted syscall, or not, by the handler's flags) */
		if (ptrace(PTRACE_SETREGS, t->tid, 0, &saved) < 0)
			err = -errno;
		goto out;
	}
	if (!exit_stop)
		restarted(&saved);
	/* the thread now sits at a syscall-exit-stop: going on from there is
	 * going on from the saved registers */
	if (err == 0 && ptrace(PTRACE_SETREGS, t->tid, 0, &saved) < 0)
		err = -errno;
out:
	if (patched && t->state != TS_GONE)
		tmem_write(p->memfd, insn, orig, 2);
	return err;
}

int inject_syscall(struct tracer *tr, struct tthread *t, long nr, const uint64_t args[6],
		   int64_t *ret)
{
	struct stop s;
	int err;

	/* a held thread: a signal that came first goes in, and the syscall
	 * runs from its handler's first instruction (or from the group-stop
	 * the signal began: the thread is held in it) */
	while ((err = inject_once(tr, t, nr, args, ret, &s)) == -EINTR) {
		int kind = signal_let_in(tr, &s);

		if (kind < 0) {
			t->state = TS_GONE;
			return -ESRCH;
		}
		t->group_stopped |= kind == STOP_GROUP;
	}
	return err;
}

/*
 * A page of scratch within reach of near (rip-relative operands in slots
 * must reach back: +-2 GiB, we stay within 1 GiB).  Mapped read+exec only:
 * the tracer writes it through /proc/PID/mem, the program cannot.
 */
static int new_page(struct tracer *tr, struct tproc *p, struct tthread *t, uint64_t near,
		    uint64_t *out)
{
	const uint64_t reach = 1ull << 30, page = 4096;
	struct pmaps maps;
	uint64_t lo, hi, addr;
	int64_t ret;
	int err;

	if (p->nscratch == MAX_SCRATCH)
		return -ENOSPC;
	if ((err = pmaps_read(p->pid, &maps)) < 0)
		return err;
	lo = near > reach + 0x10000 ? near - reach : 0x10000;
	hi = near + reach < 0x7ffffffff000ull ? near + reach : 0x7ffffffff000ull;
	addr = pmaps_find_gap(&maps, near, page, lo, hi);
	pmaps_free(&maps);
	if (!addr)
		return -ENOMEM;
	uint64_t args[6] = {addr, page, PROT_READ | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint64_t)-1, 0};

	if ((err = inject_syscall(tr, t, SYS_mmap, args, &ret)) < 0)
		return err;
	if (mt_syscall_failed(ret))
		return (int)ret;
	if ((uint64_t)ret != addr)
		return -EEXIST;

	/* Every page starts with the trampoline int3 and a syscall insn. */
	static const uint8_t head[16] = {0xcc, 0xcc, 0xcc, 0xcc, 0x0f, 0x05, 0xcc, 0xcc,
					 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc};

	if ((err = tmem_write(p->memfd, addr, head, sizeof(head))) < 0)
		return err;
	if (!p->trampoline) {
		p->trampoline = addr;
		p->syscall_insn = addr + 4;
	}
	p->scratch[p->nscratch] = addr;
	p->scratch_used[p->nscratch] = sizeof(head);
	p->nscratch++;
	*out = addr;
	return 0;
}

int scratch_alloc(struct tracer *tr, struct tproc *p, struct tthread *t, uint64_t near,
		  size_t len, uint64_t *out)
{
	const uint64_t reach = 1ull << 30;

	for (size_t i = 0; i < p->nscratch; i++) {
		uint64_t a = p->scratch[i];
		uint64_t dist = a > near ? a - near : near - a;

		if (dist < reach && p->scratch_used[i] + len <= 4096) {
			*out = a + p->scratch_used[i];
			p->scratch_used[i] += len;
			return 0;
		}
	}
	uint64_t page;
	int err = new_page(tr, p, t, near, &page);

	if (err < 0)
		return err;
	*out = page + p->scratch_used[p->nscratch - 1];
	p->scratch_used[p->nscratch - 1] += len;
	return 0;
}
