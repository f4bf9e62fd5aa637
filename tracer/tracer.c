/*
 * tracer.c - the tracer's lifecycle, the one place of tracer.h's
 * functions: a tracer is made by launching a command (launch.c) or
 * seizing a process (attach.c), traces into a log (record.c) through the
 * event loop (loop.c), and is closed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"
#include "unwind.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1ul << 1)	/* asm/hwcap2.h */
#endif

/* The tracer decodes the instructions it hooks with capstone, loaded here:
 * a library that cannot be loaded is said before anything is started. */
static int tracer_new(struct tracer **out, const struct tracer_opts *o, struct tracer_result *res)
{
	struct tracer *tr;
	int err;

	if ((err = bp_load(res->error, sizeof(res->error))) < 0)
		return err;
	if (!(tr = calloc(1, sizeof(*tr)))) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -ENOMEM;
	}
	tr->opts = *o;
	tr->root_status = -1;
	tr->errpipe = -1;
	*out = tr;
	return 0;
}

int tracer_launch(struct tracer **out, const struct tracer_opts *o, struct tracer_result *res)
{
	struct tracer *tr;
	int err;

	if ((err = tracer_new(&tr, o, res)) < 0)
		return err;
	if ((err = launch_start(tr, res)) < 0) {
		tracer_close(tr);
		return err;
	}
	*out = tr;
	return 0;
}

int tracer_attach(struct tracer **out, const struct tracer_opts *o, struct tracer_result *res)
{
	struct tracer *tr;
	int err;

	if (o->pid == getpid()) {
		snprintf(res->error, sizeof(res->error), "cannot trace process %d: it is memtrack",
			 (int)o->pid);
		return -EINVAL;
	}
	if (kill(o->pid, 0) < 0 && errno == ESRCH) {
		snprintf(res->error, sizeof(res->error), "no process %d", (int)o->pid);
		return -ESRCH;
	}
	if ((err = tracer_new(&tr, o, res)) < 0)
		return err;
	tr->root = o->pid;
	tr->attached = 1;
	if ((err = attach_seize(tr, res)) < 0) {
		tracer_close(tr);
		return err;
	}
	*out = tr;
	return 0;
}

pid_t tracer_pid(const struct tracer *tr)
{
	return tr->root;
}

uint32_t tracer_log_flags(const struct tracer_opts *o)
{
	return o->pid ? MT_LOG_SYSCALLS_WRAPPERS : MT_LOG_SYSCALLS_SECCOMP;
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

int tracer_trace(struct tracer *tr, const char *logpath, struct mt_log_header *h,
		 struct tracer_result *res)
{
	struct timespec ts;
	const char *check;
	int err;

	if ((err = record_open(tr, logpath, h, res)) < 0)
		return err;
	tr->page_size = sysconf(_SC_PAGESIZE);
	check = getenv("MEMTRACK_UNWIND_CHECK");
	tr->unwind_check = check && *check == '1';
	/* the fast engine's recorder reads the thread pointer with rdfsbase
	 * where the kernel lets programs (Linux 5.9, a CPU that has it);
	 * MEMTRACK_NO_FSGSBASE=1 makes it ask the kernel, as elsewhere */
	check = getenv("MEMTRACK_NO_FSGSBASE");
	tr->no_fsgsbase = (check && *check == '1') || !(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE);
	check = getenv("MEMTRACK_TEST_STALL");
	if (check && sscanf(check, "%u:%u", &tr->test_stalls, &tr->test_stall_ms) != 2)
		tr->test_stalls = 0;
	if (tr->opts.nmarks)
		tr->mark_found = calloc(tr->opts.nmarks, 1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	tr->t0 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

	loop_run(tr, res);
	record_progress(tr, 1);
	cpumask_unpin(tr);
	res->exit_status = tr->root_status;
	unwind_check_report(tr);
	marks_report_missing(tr);
	err = res->error[0] && res->detached ? -EIO : 0;

	int werr = record_close(tr, logpath, res);

	return err < 0 ? err : werr;
}

void tracer_close(struct tracer *tr)
{
	if (!tr)
		return;
	if (tr->root && !tr->attached && !tr->traced) {
		/* launched, never traced: do not leave it stopped forever */
		int status;

		kill(tr->root, SIGKILL);
		while (waitpid(tr->root, &status, __WALL) < 0 && errno == EINTR)
			;
	}
	while (tr->procs) {
		struct tproc *p = tr->procs;

		for_each_thread(tr, t)
			if (t->proc == p)
				thread_free(tr, t);	/* frees p after its last */
		if (tr->procs == p)
			proc_free(tr, p);
	}
	while (proc_take_early_stop(tr, tr->early_stops ? tr->early_stops->tid : 0))
		;
	if (tr->errpipe >= 0)
		close(tr->errpipe);
	free(tr->mark_found);
	free(tr->patches);
	free(tr->clk.epoch_tsc);
	cpumask_unpin(tr);
	free(tr);
}
