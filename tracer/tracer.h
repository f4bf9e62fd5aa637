/*
 * tracer.h - the public face of the tracer: launch a command under ptrace
 * (or seize a running process), record every allocator call and mmap-family
 * syscall with its stack into a log, and report how the target ended.
 */
#ifndef MEMTRACK_TRACER_H
#define MEMTRACK_TRACER_H

#include <stdint.h>
#include <sys/types.h>

struct mt_log_header;

enum tracer_engine {
	TRACER_FAST = 0,	/* a recorder mapped into the target: no stop per call */
	TRACER_PTRACE,		/* a stop per call: nothing is injected but scratch pages */
};

/* Where a run stands, for a status line (tracer_opts.progress). */
struct tracer_progress {
	uint64_t elapsed_ns;	/* since tracing began */
	uint64_t events;	/* written to the log so far */
	uint64_t log_bytes;	/* the log's size on disk (the chunk being filled not yet) */
	int done;		/* tracing is over: the last call */
};

struct tracer_opts {
	char *const *argv;	/* run: the command and its arguments (argv[0] is
				   looked up in PATH, like execvp) */
	pid_t pid;		/* attach: the process */
	double duration;	/* attach: seconds before detaching; <= 0: until the
				   process ends or memtrack is interrupted */
	unsigned depth;		/* frames per stack, 0 = no stacks */
	int engine;		/* enum tracer_engine */
	int follow_forks;	/* run: record child processes too */
	int pin;		/* run: keep tracer and target on one CPU */
	int exact_time;		/* fast engine: every record reads the clock itself,
				   instead of the time of the tracer's last look at
				   the ring (at most ~0.1 ms earlier while busy) */
	const char *const *marks; /* --mark LOCATION: FUNCTION or FILE:LINE */
	size_t nmarks;
	/* Told of problems that do not stop the run (an allocator that cannot
	 * be hooked, a static binary without symbols), one line each. */
	void (*warn)(void *arg, const char *line);
	void *warn_arg;
	/* Called about four times a second while tracing (from the tracer's
	 * timer, never per event), and once with done set when tracing is
	 * over, before the symbol table is written.  NULL: not called. */
	void (*progress)(void *arg, const struct tracer_progress *p);
	void *progress_arg;
};

struct tracer_result {
	int64_t exit_status;	/* wait(2) status of the first process, -1 unknown */
	int tracer_signal;	/* a signal that stopped the tracer early, 0 if none */
	int detached;		/* attach: the process was left running */
	int logged;		/* the log was finished */
	uint64_t events;	/* how many events it holds */
	char error[256];	/* why tracing failed, when a call returns < 0 */
	char log_error[256];	/* why the log could not be finished, if it could not */
};

struct tracer;

/* Starts argv in a child under ptrace and holds it at its exec, so that a
 * command that cannot run is known before anything is written.  Returns 0,
 * or a negative errno with res->error set: -ENOENT when the command (or
 * its interpreter) does not exist, another errno from exec when it cannot
 * be run, -ELIBACC when capstone cannot be loaded. */
int tracer_launch(struct tracer **out, const struct tracer_opts *o, struct tracer_result *res);

/* Seizes every thread of o->pid and stops them, ready to arm.  Returns 0,
 * or a negative errno with res->error set (no such process, not
 * traceable, capstone cannot be loaded); the process is left as it was. */
int tracer_attach(struct tracer **out, const struct tracer_opts *o, struct tracer_result *res);

/* The launched or attached process. */
pid_t tracer_pid(const struct tracer *t);

/*
 * run: lets the child exec and traces it until every traced process has
 * ended.  attach: arms the seized process and traces it until the duration
 * ends, memtrack is interrupted or the process ends, then detaches.
 *
 * The log is written at logpath: header h (its start time is filled in
 * here), the events as they come, then the symbol table (every distinct pc
 * resolved once, when the traced processes are gone) and the trailer.
 * Returns 0, or a negative errno with res->error set (the log could not be
 * created, or tracing failed: the log is still finished), and/or with
 * res->log_error set (the log could not be finished).
 */
int tracer_trace(struct tracer *t, const char *logpath, struct mt_log_header *h,
		 struct tracer_result *res);

/* Frees t; a child that was launched but never traced is killed. */
void tracer_close(struct tracer *t);

/* The header flags for this tracing mode (how syscalls are captured). */
uint32_t tracer_log_flags(const struct tracer_opts *o);

#endif
