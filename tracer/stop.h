/*
 * stop.h - the one vocabulary of ptrace stops: what a wait(2) status means
 * for a traced thread, and how a stopped thread goes on.
 *
 * Every waiter of the tracer (the event loop, attach's hold and detach, a
 * syscall injection, the launch) reads statuses through stop_wait() and
 * stop_classify(), and every restart of a tracee goes through
 * stop_resume().  Handlers decide; they do not restart.
 *
 *   kind               cause                                   usual resume
 *   STOP_EXITED        the thread or process ended             (none)
 *   STOP_BREAKPOINT    an int3 of ours: allocator, trampoline  GO_CONT
 *   STOP_SIGTRAP       a SIGTRAP that is the program's own     GO_CONT + SIGTRAP
 *   STOP_SIGNAL        signal-delivery-stop                    GO_CONT + the signal
 *   STOP_SECCOMP       entry of a recorded syscall             GO_SYSCALL (for its exit)
 *   STOP_SYSCALL       syscall-stop (PTRACE_SYSCALL's)         GO_CONT
 *   STOP_EXEC          a new program image                     GO_CONT
 *   STOP_NEWTASK       clone/fork/vfork, told to the parent    GO_CONT
 *   STOP_VFORK_DONE    a vfork child let its parent go         GO_CONT
 *   STOP_ATTACHED      the first stop of a new task            GO_CONT
 *   STOP_INTERRUPT     PTRACE_INTERRUPT took effect            GO_CONT, or held
 *   STOP_GROUP         group-stop (SIGSTOP, SIGTSTP, ...)      GO_LISTEN
 *   STOP_OTHER         anything else                           GO_CONT
 */
#ifndef MEMTRACK_TRACER_STOP_H
#define MEMTRACK_TRACER_STOP_H

#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

struct tracer;
struct tthread;
struct bp;

enum stop_kind {
	STOP_EXITED,
	STOP_BREAKPOINT,
	STOP_SIGTRAP,
	STOP_SIGNAL,
	STOP_SECCOMP,
	STOP_SYSCALL,
	STOP_EXEC,
	STOP_NEWTASK,
	STOP_VFORK_DONE,
	STOP_ATTACHED,
	STOP_INTERRUPT,
	STOP_GROUP,
	STOP_OTHER,
	STOP_KINDS
};

struct stop {
	pid_t tid;
	int status;		/* as wait(2) gave it */
	enum stop_kind kind;
	int sig;		/* WSTOPSIG */
	int event;		/* PTRACE_EVENT_*, 0 for none */
	struct tthread *t;	/* NULL: a task the tracer does not know yet */
	struct user_regs_struct regs;	/* STOP_BREAKPOINT: read once, here */
	const struct bp *bp;		/* STOP_BREAKPOINT */
};

/* How a stopped thread goes on. */
enum go {
	GO_CONT,		/* PTRACE_CONT */
	GO_SYSCALL,		/* PTRACE_SYSCALL: stop again at the syscall's exit */
	GO_LISTEN,		/* PTRACE_LISTEN: stays in its group-stop */
	GO_DETACH,		/* PTRACE_DETACH */
	GO_HOLD,		/* stays stopped: the tracer has more to do with it */
	GO_NONE,		/* it is gone, or was let go by the handler */
};

struct resume {
	enum go how;
	int sig;		/* delivered with GO_CONT, GO_SYSCALL, GO_DETACH */
};

#define RESUME(how, sig) ((struct resume){(how), (sig)})
#define GO_ON		 RESUME(GO_CONT, 0)

/*
 * Waits for a stop of tid (-1: of any task) and classifies it.  A signal
 * stop_resume sent again plain has its own siginfo back first, so that
 * whoever reads it (PTRACE_GETSIGINFO) reads that one.  EINTR (the
 * RSS timer, a stop signal to memtrack) is not an error here without
 * STOP_EINTR: the wait goes on.  With STOP_NOHANG it does not wait.
 * Returns 0, -EINTR (only with STOP_EINTR), -EAGAIN (STOP_NOHANG, no stop)
 * or the waitpid errno (ECHILD: nothing left to wait for).
 */
#define STOP_EINTR  0x1
#define STOP_NOHANG 0x2
int stop_wait(struct tracer *tr, pid_t tid, int flags, struct stop *s);

/* Fills s->kind (and s->sig, s->event, s->bp, s->regs) from s->status;
 * s->t may be NULL.  A stop of ours and one of the program's are told
 * apart here only. */
void stop_classify(struct tracer *tr, struct stop *s);

/*
 * Restarts t as r says.  Signals an injection took off their delivery stop
 * (stop_keep) are sent again first (but with GO_LISTEN: the thread stays
 * stopped), each with its siginfo where the kernel lets another process
 * queue it (a timer's, sigqueue's); the others go plain, and stop_wait
 * gives them their siginfo back at their delivery stop.  Returns 0, or
 * -ESRCH when the thread is gone (its exit is on its way to a wait).
 */
int stop_resume(struct tthread *t, struct resume r);

/* At a signal's delivery stop that t is taken off (an injection run from
 * the event loop): keeps the signal and its siginfo, to send again when
 * t goes on. */
void stop_keep(struct tthread *t);
/* Is sig queued for tid, not yet taken?  (A thread that ran into an int3
 * just as an interrupt came reports the interrupt first.) */
int stop_queued(pid_t tid, int sig);
/* A signal kept for t that has not come back to its delivery stop yet
 * (not sent again, or sent and still queued), 0 if none. */
int stop_kept_queued(struct tthread *t);

/* The raw half of stop_resume, for a task that has no thread of the
 * tracer yet (the launched child before its exec). */
int stop_restart(pid_t tid, struct resume r);

/* The name of a stop kind, for messages. */
const char *stop_name(enum stop_kind kind);

#endif
