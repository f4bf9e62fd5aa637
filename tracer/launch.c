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
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
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

static void child(const struct tracer *tr, int fd)
{
	struct launch_failure f = {0};
	int err;

	if ((err = sc_install_filter(tr->pinned)) < 0) {
		f.step = 1;
		f.err = -err;
		goto fail;
	}
	kill(getpid(), SIGSTOP);	/* the tracer seizes it here */
	execv(tr->path, tr->opts.argv);
	f.step = 2;
	f.err = errno;
fail:
	if (write(fd, &f, sizeof(f)) < 0)
		_exit(127);
	_exit(127);
}

/* Finds cmd the way execvp would; 0, or a negative errno with the reason
 * in res->error. */
static int resolve(const char *cmd, char *path, size_t size, struct tracer_result *res)
{
	struct stat st;
	int err = 0;

	if (strchr(cmd, '/')) {
		if (snprintf(path, size, "%s", cmd) >= (int)size)
			err = -ENAMETOOLONG;
	} else {
		const char *dirs = getenv("PATH");
		int found = 0;

		if (!dirs || !*dirs)
			dirs = "/usr/local/bin:/usr/bin:/bin";
		while (*dirs && !found && !err) {
			const char *colon = strchr(dirs, ':');
			size_t len = colon ? (size_t)(colon - dirs) : strlen(dirs);

			if (snprintf(path, size, "%.*s%s%s", (int)len, dirs, len ? "/" : "", cmd) >=
			    (int)size)
				err = -ENAMETOOLONG;
			else if (!stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK))
				found = 1;
			dirs += len + (colon != NULL);
		}
		if (!found && !err) {
			snprintf(res->error, sizeof(res->error), "cannot run '%s': command not found",
				 cmd);
			return -ENOENT;
		}
	}
	if (!err && stat(path, &st) < 0)
		err = -errno;
	else if (!err && S_ISDIR(st.st_mode))
		err = -EISDIR;
	else if (!err && access(path, X_OK) < 0)
		err = -errno;
	if (err)
		snprintf(res->error, sizeof(res->error), "cannot run '%s': %s", cmd,
			 err == -EISDIR ? "is a directory" : strerror(-err));
	return err;
}

int launch_start(struct tracer *tr, struct tracer_result *res)
{
	const struct tracer_opts *o = &tr->opts;
	char path[PATH_MAX];
	int fds[2], status, err;
	pid_t pid;

	if ((err = resolve(o->argv[0], path, sizeof(path), res)) < 0)
		return err;
	snprintf(tr->path, sizeof(tr->path), "%s", path);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(res->error, sizeof(res->error), "pipe: %s", strerror(errno));
		return -errno;
	}
	if (o->pin)
		cpumask_pin(tr);
	pid = fork();
	if (pid < 0) {
		err = errno;
		snprintf(res->error, sizeof(res->error), "fork: %s", strerror(err));
		close(fds[0]);
		close(fds[1]);
		return -err;
	}
	if (pid == 0) {
		close(fds[0]);
		child(tr, fds[1]);
	}
	close(fds[1]);
	tr->errpipe = fds[0];
	tr->root = pid;

	/* The child stops itself before exec (a job-control stop of a child
	 * not traced yet, not a ptrace stop); seize it there. */
	while (waitpid(pid, &status, WSTOPPED) < 0 && errno == EINTR)
		;
	if (!WIFSTOPPED(status)) {
		struct launch_failure f = {0};

		if (read(tr->errpipe, &f, sizeof(f)) == sizeof(f) && f.step == 1)
			snprintf(res->error, sizeof(res->error),
				 "cannot install the seccomp filter: %s", strerror(f.err));
		else
			snprintf(res->error, sizeof(res->error), "the child died before exec");
		tr->root = 0;
		return -ECHILD;
	}
	if (ptrace(PTRACE_SEIZE, pid, 0, TRACE_OPTIONS) < 0) {
		err = errno;
		snprintf(res->error, sizeof(res->error), "cannot trace process %d: %s", (int)pid,
			 strerror(err));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		tr->root = 0;
		return -err;
	}

	/* Let it exec, and hold it at the exec: whether the command runs at
	 * all is known before anything (the log) is written. */
	kill(pid, SIGCONT);
	for (;;) {
		struct stop s;

		if (stop_wait(tr, pid, 0, &s) < 0 || s.kind == STOP_EXITED) {
			struct launch_failure f = {0};

			err = -ECHILD;
			if (read(tr->errpipe, &f, sizeof(f)) == sizeof(f) && f.step == 2) {
				snprintf(res->error, sizeof(res->error), "cannot run '%s': %s",
					 o->argv[0], strerror(f.err));
				err = -f.err;
			} else {
				snprintf(res->error, sizeof(res->error), "the child died before exec");
			}
			tr->root = 0;
			return err;
		}
		if (s.kind == STOP_EXEC) {
			tr->exec_status = s.status;
			return 0;
		}
		/* the stops of lifting its own SIGSTOP (the group-stop seen by
		 * the seize, the wake-up, SIGCONT itself): go on, a signal as it
		 * came */
		stop_restart(pid, RESUME(GO_CONT, s.event ? 0 : s.sig));
	}
}
