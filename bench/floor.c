/*
 * floor.c - the cheapest possible ptrace tracer, as the benchmark's floor:
 * runs `churn N traps` and, at each of its int3 stops, does what any
 * tracer must do at a breakpoint (read the registers, write them back,
 * continue) and nothing else.  Tracer and target share one CPU, as
 * memtrack keeps them.
 *
 *   floor CHURN N [THREADS]      prints the number of stops
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	cpu_set_t one;
	long stops = 0;
	int status;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: floor CHURN N\n");
		return 64;
	}
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		execl(argv[1], argv[1], argv[2], "traps", argc > 3 ? argv[3] : "1", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE);
	ptrace(PTRACE_CONT, pid, 0, 0);
	for (;;) {
		pid_t tid = waitpid(-1, &status, __WALL);
		int sig;

		if (tid < 0)
			break;
		if (!WIFSTOPPED(status)) {
			if (tid == pid)
				break;
			continue;
		}
		sig = WSTOPSIG(status);
		if (sig == SIGTRAP && !(status >> 16)) {
			struct user_regs_struct regs;

			ptrace(PTRACE_GETREGS, tid, 0, &regs);
			ptrace(PTRACE_SETREGS, tid, 0, &regs);
			stops++;
			sig = 0;
		} else if (sig == SIGTRAP || sig == SIGSTOP) {
			sig = 0;	/* a clone event, a new thread's first stop */
		}
		ptrace(PTRACE_CONT, tid, 0, sig);
	}
	printf("%ld\n", stops);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
