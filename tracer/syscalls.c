/*
 * syscalls.c - the syscalls the tracer stops for (a table: adding one is
 * adding a row), the seccomp-bpf filter that stops the tracee for exactly
 * those, so that every other syscall costs the traced program nothing, and
 * a recorded syscall's way into the log:
 *
 *   run:    seccomp stop at its entry (arguments, stack) -> PTRACE_SYSCALL
 *           -> syscall-exit-stop (result) -> sc_done
 *   attach: breakpoint on libc's wrapper (arguments, stack), its return
 *           hijacked -> the trampoline (the C result) -> sc_done
 *
 * sc_done logs the event and follows what the call did to the module map:
 * a new executable file mapping is a module to record and arm, an unmapped
 * one is forgotten.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../formats/log_writer.h"
#include "syscalls.h"
#include "trace.h"

static void fill_mmap(const uint64_t a[6], int64_t ret, struct mt_event *ev)
{
	ev->type = MT_EV_MMAP;
	ev->addr = mt_syscall_failed(ret) ? 0 : (uint64_t)ret;
	ev->size = a[1];
	ev->prot = (uint32_t)a[2];
	ev->mflags = (uint32_t)a[3];
	ev->fd = (int32_t)a[4];
	ev->offset = a[5];
	ev->result = ret;
	if (mt_syscall_failed(ret))
		ev->flags |= MT_EVF_FAILED;
}

static void fill_munmap(const uint64_t a[6], int64_t ret, struct mt_event *ev)
{
	ev->type = MT_EV_MUNMAP;
	ev->addr = a[0];
	ev->size = a[1];
	ev->result = ret;
	if (mt_syscall_failed(ret))
		ev->flags |= MT_EVF_FAILED;
}

static void fill_mremap(const uint64_t a[6], int64_t ret, struct mt_event *ev)
{
	ev->type = MT_EV_MREMAP;
	ev->old_addr = a[0];
	ev->old_size = a[1];
	ev->size = a[2];
	ev->mflags = (uint32_t)a[3];
	ev->addr = mt_syscall_failed(ret) ? 0 : (uint64_t)ret;
	ev->result = ret;
	if (mt_syscall_failed(ret))
		ev->flags |= MT_EVF_FAILED;
}

static void fill_brk(const uint64_t a[6], int64_t ret, struct mt_event *ev)
{
	ev->type = MT_EV_BRK;
	ev->arg = a[0];
	ev->addr = (uint64_t)ret;
	ev->result = ret;
	/* brk never returns an error: it returns the old break on failure */
	if (a[0] && (uint64_t)ret != a[0])
		ev->flags |= MT_EVF_FAILED;
}

static const struct sc_desc sc_table[] = {
	{SYS_mmap, "mmap", "mmap64", SC_RECORD, fill_mmap, NULL},
	{SYS_munmap, "munmap", "munmap", SC_RECORD, fill_munmap, NULL},
	{SYS_mremap, "mremap", "mremap", SC_RECORD, fill_mremap, NULL},
	{SYS_brk, "brk", "brk", SC_RECORD, fill_brk, NULL},
	/* the program asks which CPUs it may run on: not the one it is kept on */
	{SYS_sched_getaffinity, "sched_getaffinity", NULL, SC_PINNED, NULL,
	 cpumask_getaffinity_done},
	{SYS_sched_setaffinity, "sched_setaffinity", NULL, SC_PINNED, NULL,
	 cpumask_setaffinity_done},
};

#define NSC (sizeof(sc_table) / sizeof(sc_table[0]))

const struct sc_desc *sc_table_rows(size_t *n)
{
	*n = NSC;
	return sc_table;
}

const struct sc_desc *sc_find(long nr)
{
	for (size_t i = 0; i < NSC; i++)
		if (sc_table[i].nr == nr)
			return &sc_table[i];
	return NULL;
}

int sc_install_filter(int pinned)
{
	struct sock_filter f[4 + 2 * NSC + 1];
	struct sock_fprog prog = {.filter = f};
	size_t n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < NSC; i++) {
		if ((sc_table[i].flags & SC_PINNED) && !pinned)
			continue;
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (uint32_t)sc_table[i].nr, 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						      SECCOMP_RET_TRACE | (uint32_t)sc_table[i].nr);
	}
	f[n] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)(n + 1);

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		return 0;
	/* Without CAP_SYS_ADMIN a filter needs no_new_privs. */
	if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : -errno;
}

/* --- into the log ------------------------------------------------------------ */

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

static void sc_done(struct tracer *tr, struct tproc *p, struct tthread *t, pid_t tid,
		    const struct sc_desc *sc, const uint64_t args[6], int64_t ret, uint32_t flags,
		    uint64_t stack, uint64_t at);

/*
 * A mapping came back at [addr, addr + len).  Another thread's munmap of
 * that range may still wait to be reaped at its exit; the kernel finished
 * it before this mmap could return the range, so it goes into the log
 * first, or replaying the log would unmap the new mapping.
 */
static void unmaps_first(struct tracer *tr, struct tproc *p, struct tthread *t, uint64_t addr,
			 uint64_t len)
{
	for_each_thread(tr, u) {
		if (u == t || u->proc != p || !u->sc || u->sc->nr != SYS_munmap ||
		    u->sc_args[0] >= addr + len || addr >= u->sc_args[0] + u->sc_args[1])
			continue;
		sc_done(tr, p, u, u->tid, u->sc, u->sc_args, 0, u->sc_flags, u->sc_stack, 0);
		u->sc = NULL;	/* logged: its exit has nothing more to say */
	}
}

/* The event of a syscall of p's thread tid (t, when it is stopped there)
 * that returned ret, at trace time `at` (0: now). */
static void sc_done(struct tracer *tr, struct tproc *p, struct tthread *t, pid_t tid,
		    const struct sc_desc *sc, const uint64_t args[6], int64_t ret, uint32_t flags,
		    uint64_t stack, uint64_t at)
{
	struct mt_event ev = {.pid = (uint32_t)p->pid, .tid = (uint32_t)tid, .flags = flags,
			      .stack = stack};
	int ok;

	sc->fill(args, ret, &ev);
	ok = !(ev.flags & MT_EVF_FAILED);
	if ((ev.type == MT_EV_MMAP || ev.type == MT_EV_MREMAP) && ok)
		unmaps_first(tr, p, t, ev.addr, ev.size);
	if (ev.type == MT_EV_MMAP && ok && !(ev.mflags & MT_MAP_ANONYMOUS) && ev.fd >= 0)
		ev.path = fd_path(tr, p->pid, ev.fd);
	if (p->followed && at)
		trace_event_at(tr, &ev, at);
	else if (p->followed)
		trace_event(tr, &ev);

	if (ev.type == MT_EV_MMAP && ok && (ev.prot & MT_PROT_EXEC) && ev.path)
		trace_report_error(tr, modules_scan(tr, p, t));
	else if (ev.type == MT_EV_MUNMAP && ok)
		modules_unmapped(tr, p, ev.addr, ev.size);
}

/* --- run: the seccomp stop and the exit stop ------------------------------------ */

struct resume sc_on_seccomp(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct user_regs_struct regs;
	const struct sc_desc *sc;

	if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
		return GO_ON;
	sc = sc_find((long)regs.orig_rax);
	/* a process we do not record only needs its CPU-mask answers */
	if (!sc || ((sc->flags & SC_RECORD) && !t->proc->followed))
		return GO_ON;
	t->sc = sc;
	t->sc_args[0] = regs.rdi;
	t->sc_args[1] = regs.rsi;
	t->sc_args[2] = regs.rdx;
	t->sc_args[3] = regs.r10;
	t->sc_args[4] = regs.r8;
	t->sc_args[5] = regs.r9;
	t->sc_flags = 0;
	t->sc_stack = sc->flags & SC_RECORD ? heap_capture(tr, t, &regs, &t->sc_flags) : 0;
	return RESUME(GO_SYSCALL, 0);
}

struct resume sc_on_exit(struct tracer *tr, struct stop *s)
{
	struct tthread *t = s->t;
	struct tproc *p = t->proc;
	struct user_regs_struct regs;
	const struct sc_desc *sc = t->sc;

	t->sc = NULL;
	if (!sc)
		return GO_ON;	/* a munmap logged early by unmaps_first */
	if (sc->done) {
		sc->done(tr, t);
		return GO_ON;
	}
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &regs) < 0)
		return GO_ON;
	/* the first syscall exit after exec: ld.so's first brk, before anything
	 * can allocate; modules recorded at exec are armed here */
	if (p->arm_pending)
		trace_report_error(tr, modules_arm(tr, p, t));
	sc_done(tr, p, t, t->tid, sc, t->sc_args, (int64_t)regs.rax, t->sc_flags, t->sc_stack, 0);
	return GO_ON;
}

/* --- attach: libc's wrappers ---------------------------------------------------- */

int sc_wrapper_entry(struct tracer *tr, struct tthread *t, const struct bp *bp,
		     struct user_regs_struct *regs)
{
	struct tproc *p = t->proc;
	struct user_regs_struct at = *regs;
	/* a wrapper is a function: its fourth argument is in rcx, not r10 */
	struct shadow s = {.slot = regs->rsp, .nr = bp->fn,
			   .args = {regs->rdi, regs->rsi, regs->rdx, regs->rcx, regs->r8, regs->r9}};

	if (p->followed) {
		at.rip = bp->addr;
		s.stack = heap_capture(tr, t, &at, &s.flags);
		heap_hijack(tr, t, &s);
	}
	return bp_resume(bp, t->tid, p->memfd, regs);
}

/* A wrapper's C result as the raw syscall result the table expects. */
static int64_t raw_result(uint32_t nr, const uint64_t args[6], uint64_t rax)
{
	if ((int64_t)rax == -1)
		return -1;		/* the errno is in the thread's TLS: unknown */
	if (nr == SYS_brk)
		return (int64_t)args[0];	/* brk(addr) returned 0: the break is addr */
	return (int64_t)rax;
}

void sc_wrapper_done(struct tracer *tr, struct tthread *t, const struct shadow *s, uint64_t rax)
{
	const struct sc_desc *sc = sc_find(s->nr);

	if (sc && (sc->flags & SC_RECORD))
		sc_done(tr, t->proc, t, t->tid, sc, s->args, raw_result(s->nr, s->args, rax), s->flags,
			s->stack, 0);
}

void sc_wrapper_record(struct tracer *tr, struct tproc *p, pid_t tid, uint32_t nr,
		       const uint64_t args[6], uint64_t rax, uint32_t flags, uint64_t stack,
		       uint64_t at)
{
	const struct sc_desc *sc = sc_find(nr);

	if (sc && (sc->flags & SC_RECORD))
		sc_done(tr, p, NULL, tid, sc, args, raw_result(nr, args, rax), flags, stack,
			at ? at : 1);
}
