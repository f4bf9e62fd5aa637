/*
 * tracer.h - the public face of the tracer: launch a command under ptrace
 * (or seize a running process), record every allocator call and mmap-family
 * syscall with its stack into a log writer, and report how the target ended.
 */
#ifndef MEMTRACK_TRACER_H
#define MEMTRACK_TRACER_H

#include <stdint.h>
#include <sys/types.h>

struct log_writer;

struct tracer_opts {
	char *const *argv;	/* run: the command and its arguments */
	const char *path;	/* run: the resolved executable */
	unsigned depth;		/* frames per stack, 0 = no stacks */
	int follow_forks;
	int pin;		/* keep tracer and a single-threaded target on one CPU */
};

struct tracer_result {
	int64_t exit_status;	/* wait(2) status of the first process, -1 unknown */
	int tracer_signal;	/* a signal that stopped the tracer early, 0 if none */
	uint64_t events;
	char error[256];	/* why tracing failed, when tracer_run returns < 0 */
};

struct tracer;

/* Starts argv in a child that waits, under ptrace, just before its exec.
 * Returns 0, or a negative errno with res->error set. */
int tracer_launch(struct tracer **out, const struct tracer_opts *o, struct tracer_result *res);

/* The launched process. */
pid_t tracer_pid(const struct tracer *t);

/* Lets the child exec and traces it until every traced process has ended,
 * appending to w (which the caller owns and closes).  Returns 0, or a
 * negative errno with res->error set. */
int tracer_trace(struct tracer *t, struct log_writer *w, struct tracer_result *res);

/* Frees t; a child that was launched but never traced is killed. */
void tracer_close(struct tracer *t);

/* The log header fields the tracer decides (mode, flags). */
uint32_t tracer_log_flags(const struct tracer_opts *o);

#endif
