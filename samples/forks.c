/*
 * forks.c - a process tree in one log (memtrack run --follow-forks): the
 * parent allocates two blocks and forks; the child frees one of the blocks
 * it inherited (an ordinary free, in its own copy), allocates one of its
 * own and exits without freeing anything; a second child execs this
 * program again ("forks exec"), which allocates in a fresh image.
 *
 * Each process prints what it holds when it ends, for the tests:
 *   expect pid=PID heap FILE:LINE BYTES COUNT
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "say.h"

static void *volatile sink;

int main(int argc, char **argv)
{
	int a_line, c_line, e_line;
	char *a, *b, *c;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "exec")) {
		sink = malloc(3000); e_line = __LINE__;
		say("expect pid=%d heap samples/forks.c:%d 3000 1\n", (int)getpid(), e_line);
		return 0;
	}
	a = malloc(1000); a_line = __LINE__;
	b = malloc(2000);
	sink = a;
	sink = b;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		free(b);
		c = malloc(500); c_line = __LINE__;
		sink = c;
		say("expect pid=%d heap samples/forks.c:%d 1000 1\n", (int)getpid(), a_line);
		say("expect pid=%d heap samples/forks.c:%d 500 1\n", (int)getpid(), c_line);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	free(b);
	say("expect pid=%d heap samples/forks.c:%d 1000 1\n", (int)getpid(), a_line);
	return 0;
}
