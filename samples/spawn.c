/*
 * spawn.c - children of every kind, each of which must come out unharmed
 * when memtrack does not follow them: system() and posix_spawn() (a child
 * that shares the parent's memory until it execs), vfork, a fork child
 * that allocates (it inherited the parent's breakpoints: they must be gone
 * from its copy), a clone(CLONE_VM) child that allocates in the parent's
 * memory (its breakpoints must stay), and, last, exec from a thread that is
 * not the main one (the new image must be traced afresh: with "again" the
 * program re-executes itself that way and allocates in the new image).
 *
 *   spawn [again | orphan | orphan-exec]
 * With "orphan" a clone(CLONE_VM) child outlives its parent and then
 * allocates in the memory it shared (the parent's breakpoints live on in
 * it); with "orphan-exec" the parent execs instead of exiting, which leaves
 * the child alone in the old memory.  The child says "orphan: allocated".
 *
 * Prints what stays live, for the tests (the first image's account, then
 * "exec", then the second image's):
 *   expect heap FILE:LINE BYTES COUNT
 *   note heap FILE:LINE        (libc's own memory at a call of the sample)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "say.h"

extern char **environ;
static void *volatile sink;
static char *self;

static int child_allocates(void *arg)
{
	for (int i = 0; i < 5; i++)
		sink = malloc(200);	/* into the parent's memory: CLONE_VM */
	return 0;
}

/* Waits for its parent to be gone from this memory, then allocates. */
static int orphan(void *arg)
{
	struct timespec pause = {0, 300000000};

	nanosleep(&pause, NULL);
	for (int i = 0; i < 5; i++) {
		sink = malloc(200);
		free(sink);
	}
	say("orphan: allocated\n");
	return 0;
}

static void *exec_from_thread(void *arg)
{
	char *argv[] = {self, "again", NULL};

	execv(self, argv);
	_exit(127);
}

static int check(int status, const char *what)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say("child %s failed: status %#x\n", what, status);
		exit(1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char stack[64 << 10];
	int status, line_before, line_after, line_spawn, line_system;
	void *before, *after[3];
	pid_t pid;

	self = argv[0];
	if (argc > 1 && !strcmp(argv[1], "again")) {
		/* the image exec'd from a thread: allocate at a known line */
		void *p = malloc(777); int line = __LINE__;

		sink = p;
		say("expect heap samples/spawn.c:%d 777 1\n", line);
		return 0;
	}

	if (argc > 1 && !strncmp(argv[1], "orphan", 6)) {
		clone(orphan, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
		if (!strcmp(argv[1], "orphan-exec"))
			execl("/bin/true", "true", (char *)NULL);
		return 0;
	}

	before = malloc(100); line_before = __LINE__;
	sink = before;

	status = system("exit 0"); line_system = __LINE__;
	check(status, "system");

	char *args[] = {"true", NULL};
	int err = posix_spawnp(&pid, "true", NULL, NULL, args, environ); line_spawn = __LINE__;

	if (err != 0)
		return 1;
	waitpid(pid, &status, 0);
	check(status, "posix_spawn");

	pid = vfork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	check(status, "vfork");

	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 5; i++)
			sink = malloc(300);	/* would trap on a leftover int3 */
		_exit(0);
	}
	waitpid(pid, &status, 0);
	check(status, "fork");

	pid = clone(child_allocates, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
	waitpid(pid, &status, 0);
	check(status, "clone(CLONE_VM)");

	/* the breakpoints are all still in place */
	for (int i = 0; i < 3; i++) {
		after[i] = malloc(50); line_after = __LINE__;
		sink = after[i];	/* used, or -O2 drops the call */
	}
	say("expect heap samples/spawn.c:%d 100 1\n", line_before);
	say("expect heap samples/spawn.c:%d 150 3\n", line_after);
	say("note heap samples/spawn.c:%d\n", line_system);
	say("note heap samples/spawn.c:%d\n", line_spawn);

	/* exec from a thread other than the main one */
	pthread_t t;
	int line_thread;

	say("note heap samples/spawn.c:%d\n", __LINE__ + 2);
	say("exec\n");
	pthread_create(&t, NULL, exec_from_thread, NULL); line_thread = __LINE__;
	pthread_join(t, NULL);
	(void)line_thread;
	return 1;	/* not reached: the thread's exec replaced us */
}
