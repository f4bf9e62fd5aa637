/*
 * cpumask.c - tracer and target on one CPU, and what the target is told.
 *
 * A ptrace stop costs 5x less when tracer and tracee do not bounce between
 * CPUs, so `run` keeps both on the CPU it started on: the ptrace engine
 * always; the fast engine (whose stops are few: the mmap family, new code)
 * while the program is one thread, since pinning its threads together
 * would take from it the CPUs it runs on, and the tracer's own threads (the
 * drainer, the symbols) run elsewhere.  The program must not see that: programs size thread pools and buffers by the CPUs they may use
 * (sort, make -j, OpenMP), so sched_getaffinity answers with the mask the
 * tracer had.  A task that sets its own mask is no longer pinned by us: the
 * kernel's answer is the truth from then on.  Both calls are rows of the
 * syscall table that stop only while pinned.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "memory.h"
#include "trace.h"

void cpumask_pin(struct tracer *tr)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(tr->orig_affinity), &tr->orig_affinity) < 0)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == 0)
		tr->pinned = 1;
}

void cpumask_unpin(struct tracer *tr)
{
	if (tr->pinned)
		sched_setaffinity(0, sizeof(tr->orig_affinity), &tr->orig_affinity);
	tr->pinned = 0;
}

void cpumask_free_thread(struct tracer *tr, pthread_t thread)
{
	if (tr->pinned)
		pthread_setaffinity_np(thread, sizeof(tr->orig_affinity), &tr->orig_affinity);
}

void cpumask_spread(struct tracer *tr)
{
	if (!tr->pinned || tr->opts.engine != TRACER_FAST)
		return;
	for_each_thread(tr, t)
		if (!t->own_affinity)
			sched_setaffinity(t->tid, sizeof(tr->orig_affinity), &tr->orig_affinity);
	cpumask_unpin(tr);
}

/* The task a call at its exit stop asked about (its pid argument: 0 is
 * itself), with its registers; NULL when the call failed or the task is not
 * one of ours (then it was never pinned by us). */
static struct tthread *asked_about(struct tracer *tr, struct tthread *t,
				   struct user_regs_struct *regs)
{
	if (ptrace(PTRACE_GETREGS, t->tid, 0, regs) < 0 || (int64_t)regs->rax < 0)
		return NULL;
	return regs->rdi ? thread_find(tr, (pid_t)regs->rdi) : t;
}

void cpumask_setaffinity_done(struct tracer *tr, struct tthread *t)
{
	struct user_regs_struct regs;
	struct tthread *about = asked_about(tr, t, &regs);

	if (about)
		about->own_affinity = 1;
}

void cpumask_getaffinity_done(struct tracer *tr, struct tthread *t)
{
	struct user_regs_struct regs;
	struct tthread *about = asked_about(tr, t, &regs);
	size_t n;

	/* the raw syscall returns the size of the mask it wrote */
	if (!about || about->own_affinity || !regs.rax)
		return;
	n = (size_t)regs.rax < sizeof(tr->orig_affinity) ? (size_t)regs.rax
							 : sizeof(tr->orig_affinity);
	tmem_write(t->proc->memfd, regs.rdx, &tr->orig_affinity, n);
}
