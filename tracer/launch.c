/*
 * launch.c - starting the command under ptrace.
 *
 * The child installs the seccomp filter (so that only mmap-family syscalls
 * ever stop it), stops itself, and execs once the tracer has seized it;
 * if exec fails, the errno comes back through a close-on-exec pipe.  The
 * tracer and the child are put on one CPU first: a ptrace stop costs 5x
 * less when tracer and tracee do not bounce between CPUs.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace.h"

#define TRACE_OPTIONS                                                                      \
	(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP |              \
	 PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK)

/* What the child reports through the pipe: which step failed, and errno. */
struct launch_failure {
	int step;		/* 1: seccomp filter, 2: exec */
	int err;
};

static void pin(struct tracer *tr)
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

static void unpin(struct tracer *tr)
{
	if (tr->pinned)
		sched_setaffinity(0, sizeof(tr->orig_affinity), &tr->orig_affinity);
	tr->pinned = 0;
}

static void child(const struct tracer_opts *o, int fd)
{
	struct launch_failure f = {0};
	int err;

	if ((err = sc_install_filter()) < 0) {
		f.step = 1;
		f.err = -err;
		goto fail;
	}
	raise(SIGSTOP);
	execv(o->path, o->argv);
	f.step = 2;
	f.err = errno;
fail:
	if (write(fd, &f, sizeof(f)) < 0)
		_exit(127);
	_exit(127);
}

int tracer_launch(struct tracer **out, const struct tracer_opts *o, struct tracer_result *res)
{
	struct tracer *tr = calloc(1, sizeof(*tr));
	int fds[2], status;
	pid_t pid;

	if (!tr) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -ENOMEM;
	}
	tr->opts = *o;
	tr->root_status = -1;
	tr->errpipe = -1;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(res->error, sizeof(res->error), "pipe: %s", strerror(errno));
		free(tr);
		return -errno;
	}
	if (o->pin)
		pin(tr);
	pid = fork();
	if (pid < 0) {
		int err = errno;

		snprintf(res->error, sizeof(res->error), "fork: %s", strerror(err));
		close(fds[0]);
		close(fds[1]);
		unpin(tr);
		free(tr);
		return -err;
	}
	if (pid == 0) {
		close(fds[0]);
		child(o, fds[1]);
	}
	close(fds[1]);
	tr->errpipe = fds[0];
	tr->root = pid;

	/* The child stops itself before exec; seize it there. */
	while (waitpid(pid, &status, WSTOPPED) < 0 && errno == EINTR)
		;
	if (!WIFSTOPPED(status)) {
		struct launch_failure f = {0};

		if (read(tr->errpipe, &f, sizeof(f)) == sizeof(f) && f.step == 1)
			snprintf(res->error, sizeof(res->error),
				 "cannot install the seccomp filter: %s", strerror(f.err));
		else
			snprintf(res->error, sizeof(res->error), "the child died before exec");
		tracer_close(tr);
		return -ECHILD;
	}
	if (ptrace(PTRACE_SEIZE, pid, 0, TRACE_OPTIONS) < 0) {
		int err = errno;

		snprintf(res->error, sizeof(res->error), "cannot trace process %d: %s", (int)pid,
			 strerror(err));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		tr->root = 0;
		tracer_close(tr);
		return -err;
	}
	*out = tr;
	return 0;
}

pid_t tracer_pid(const struct tracer *tr)
{
	return tr->root;
}

/* Why the child never ran the program, from the pipe; 0 if it did. */
int launch_failure(struct tracer *tr, char *buf, size_t size)
{
	struct launch_failure f = {0};

	if (tr->errpipe < 0)
		return 0;
	if (read(tr->errpipe, &f, sizeof(f)) != sizeof(f) || f.step != 2)
		return 0;
	snprintf(buf, size, "cannot run '%s': %s", tr->opts.argv[0], strerror(f.err));
	return -f.err;
}

void launch_unpin(struct tracer *tr)
{
	unpin(tr);
}

void tracer_close(struct tracer *tr)
{
	if (!tr)
		return;
	if (tr->root && !tr->ntasks && tr->root_status < 0) {
		/* launched, never traced: do not leave it stopped forever */
		int status;

		kill(tr->root, SIGKILL);
		while (waitpid(tr->root, &status, __WALL) < 0 && errno == EINTR)
			;
	}
	if (tr->errpipe >= 0)
		close(tr->errpipe);
	free(tr->patches);
	unpin(tr);
	free(tr);
}

uint32_t tracer_log_flags(const struct tracer_opts *o)
{
	return MT_LOG_SYSCALLS_SECCOMP;
}
