/*
 * trace.h - the tracer's state, shared by the files of tracer/ and by
 * nothing outside it: traced processes (one address space each), their
 * threads, and the functions that move between files.
 *
 * Everything is keyed by pid/tid from the start, so threads and forked
 * children are more of the same rather than a rewrite.
 */
#ifndef MEMTRACK_TRACER_TRACE_H
#define MEMTRACK_TRACER_TRACE_H

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "../formats/log.h"
#include "breakpoint.h"
#include "fast.h"
#include "stop.h"
#include "syscalls.h"
#include "tracer.h"

struct unwinder;
struct log_writer;
struct symq;

/* An ELF file whose code is mapped into a process. */
struct tmodule {
	char *path;
	uint64_t start, end;	/* the executable mapping */
	uint64_t bias;
	uint64_t dev, ino;
	uint32_t log_id;
	int armed;		/* allocators and marks it defines are hooked */
};

/* A code range: an allocator's module, for the nesting rule. */
struct range {
	uint64_t start, end;
};

/* An armed allocator entry point: calls returning into [start, end) come
 * from inside it. */
struct afn {
	uint64_t start, end;
	uint32_t fn;		/* enum mt_fn */
};

/* A call in progress whose return address was hijacked. */
struct shadow {
	uint64_t slot;		/* where the return address lives */
	uint64_t ret;		/* the real return address */
	uint64_t args[6];
	uint64_t stack;		/* stack id, captured at entry */
	uint32_t fn;		/* enum mt_fn; MT_FN_NONE for a syscall wrapper */
	uint32_t nr;		/* syscall wrapper: the syscall */
	uint32_t flags;		/* MT_EVF_* */
};

#define MAX_SCRATCH 8
#define MAX_ALLOCATORS 8	/* modules defining malloc, armed at once */
#define MAX_ALLOC_ENTRIES 32	/* rows of alloc_entries (allocators.c), at most */
#define MAX_HOOKED 128		/* entry points hooked with a jump, per image */

struct tproc {
	pid_t pid;
	uint32_t space;		/* address space id in the log (PROC_START), 0 before exec */
	uint32_t symspace;	/* the space its stacks and modules are logged in:
				   a new one after each unmap of a module, so that a
				   pc means the code mapped when it was recorded */
	int memfd;
	uint64_t last_rss;	/* the last RSS sample logged, bytes (rss.c) */
	int followed;		/* its events are recorded */
	int armed;		/* some allocator's breakpoints are in place */
	int arm_pending;	/* modules wait for a stop that can inject */
	int warned_static;	/* said once that a static binary has no allocator */
	int quiet;		/* static binary before _init: heap calls are the
				   built-in loader's, not the program's */
	int exec_seen;
	struct tproc *vm_owner;	/* CLONE_VM child (vfork): whose memory it shares */
	struct bp_table bps;
	struct tmodule *mods;
	size_t nmods, capmods;
	struct afn afns[MAX_ALLOC_ENTRIES * MAX_ALLOCATORS];
	size_t nafns;
	struct range alloc_ranges[MAX_ALLOCATORS];	/* code of allocator modules */
	size_t nalloc_ranges;
	size_t nmarks;		/* mark breakpoints placed */
	uint64_t scratch[MAX_SCRATCH];	/* pages for slots, trampoline, syscall */
	size_t scratch_used[MAX_SCRATCH];
	size_t nscratch;
	uint64_t trampoline;	/* int3 where hijacked returns land */
	uint64_t syscall_insn;	/* "syscall" for injections, 0 until a page exists */
	struct unwinder *unw;
	struct fastproc *fast;	/* the fast engine's state, NULL for the ptrace engine */
	uint64_t hooked[MAX_HOOKED];	/* entries it hooked with a jump */
	size_t nhooked;
	int fast_pending;	/* a fork child: its area is made at its first stop */
	int vmshare_counted;	/* a CLONE_VM child counted in its owner's area */
	size_t nthreads;
	struct tproc *next;
};

enum thread_state {
	TS_NEW = 0,		/* created by an event; its first stop is pending */
	TS_RUNNING,
	TS_GONE,
};

#define TTHREAD_REPLAYS 16	/* calls resumed at their breakpoint, nested */
#define TTHREAD_KEPT 8		/* signals kept to be sent again */

struct tthread {
	pid_t tid;
	struct tproc *proc;
	int state;
	int held;		/* attach, detach: sits in a stop we hold it in */
	pid_t vfork_child;	/* attach: blocked in vfork until it execs or exits */
	int group_stopped;	/* attach: held in a group-stop (the process is stopped) */
	/* a signal came as it was about to run an out-of-line slot: it was
	 * moved back to the breakpoint, whose next hit at this stack pointer
	 * only resumes the call (handlers nest: SA_NODEFER, other signals) */
	struct {
		uint64_t addr, sp;
	} replay[TTHREAD_REPLAYS];
	size_t nreplay;
	/* signals an injection took off their delivery stop (the event loop's:
	 * its caller holds the thread's registers, so they cannot go in
	 * before it): sent again when the thread goes on (stop_resume), and,
	 * when the kernel would not let us queue them with their siginfo,
	 * given it back at their new delivery stop (sent, stop_wait) */
	struct {
		int signo;
		int sent;
		siginfo_t info;
	} kept[TTHREAD_KEPT];
	size_t nkept;
	/* attach: the frame of the first signal let in while the thread was
	 * held (signal_let_in), 0 if none: the pc it saved is the thread's
	 * own, mended as the thread's own once the program is armed (those
	 * let in after saved a handler's entry) */
	uint64_t let_in_frame;
	struct shadow *shadow;
	size_t nshadow, capshadow;
	long affinity_call;	/* in sched_get/setaffinity: its number, else 0 */
	int own_affinity;	/* it set its CPU mask: the kernel's is the truth */
	/* a recorded syscall between its seccomp stop and its exit */
	const struct sc_desc *sc;
	uint64_t sc_args[6];
	uint64_t sc_stack;
	uint32_t sc_flags;
	/* the fast engine: its slot in the recorder's thread table, and the
	 * number of the area that holds it (an exec makes a new one, which
	 * may be allocated where the old one was: numbers are never reused) */
	struct mtr_thread *fast_slot;
	uint64_t fast_area;
	struct tthread *next;	/* hash chain */
};

#define THREAD_BUCKETS 256

/* Every traced thread of tr, as t; t may be freed in the body. */
#define for_each_thread(tr, t)                                                             \
	for (size_t b_ = 0; b_ < THREAD_BUCKETS; b_++)                                     \
		for (struct tthread *t = (tr)->threads[b_], *n_ = t ? t->next : NULL; t;  \
		     t = n_, n_ = t ? t->next : NULL)

/* A new task whose first stop came before its creator's event. */
struct early_stop {
	pid_t tid;
	struct early_stop *next;
};

struct tracer {
	struct tracer_opts opts;
	pid_t root;
	char path[4096];	/* run: the executable, found like execvp */
	int64_t root_status;
	int errpipe;		/* read end: the child's exec errno */
	struct log_writer *w;
	struct tproc *procs;
	struct tthread *threads[THREAD_BUCKETS];
	size_t ntasks;		/* live traced threads, all processes */
	struct early_stop *early_stops;
	uint32_t next_space;
	uint64_t t0;		/* CLOCK_MONOTONIC ns when tracing began */
	long page_size;
	int pinned;
	cpu_set_t orig_affinity;
	char error[256];
	int attached;		/* attach mode: seized, never launched */
	unsigned char *mark_found;	/* per --mark: MARK_* */
	int marks_said;		/* the program started: the marks it lacks were said */
	int traced;		/* tracer_trace ran */
	uint64_t unwind_mismatches;	/* of processes gone: MEMTRACK_UNWIND_CHECK */
	char unwind_first_mismatch[256];
	int exec_status;	/* run: the held exec stop of the launched child */
	uint64_t record_start;	/* CLOCK_MONOTONIC ns when the log was opened */
	const char *logpath;	/* the log being written */
	unsigned ticks;		/* of the timer, since the last progress call */
	uint64_t last_flush;	/* trace time of the log's last flush */
	struct symq *symq;	/* record.c: the symbols, resolved as the run goes */
	uint64_t pcs[1025];	/* stack capture buffer (UNW_MAX_FRAMES) */
	uint64_t last_time;	/* of the last event: the log's time never goes back */
	size_t nfast;		/* processes the fast engine records */
	/* the drainer thread (fast.c) and the lock it shares with this one */
	pthread_t drainer_thread;
	pthread_mutex_t lock;
	int drainer_on, drainer_quit;
	int lock_wanted;	/* the ptrace thread waits for the lock */
	int in_drainer;		/* the drainer holds it: drains in batches */
	struct fastproc *drainer_waits_on;	/* its doorbell, while it sleeps */
	int unwind_check;	/* MEMTRACK_UNWIND_CHECK=1 */
	int no_fsgsbase;	/* programs may not use rdfsbase here */
	/* MEMTRACK_TEST_STALL=N:MS, for the tests: the first N walk requests
	 * of each process stall MS ms half-written (struct mtr_ctl, stalls) */
	uint32_t test_stalls, test_stall_ms;
	struct {
		uint64_t tsc0, ns0;	/* the TSC and CLOCK_MONOTONIC, read together */
		double ns_per_tick;
		int ready;
		uint32_t epoch;		/* the last published (shared.h, mtr_ctl) */
		uint64_t epoch_at;	/* its TSC */
		uint64_t *epoch_tsc;	/* 65536: the TSC of each epoch, by its low bits */
		uint64_t last_tsc, last_time;	/* the last conversion */
		uint64_t refined_at;	/* the TSC when the rate was last refined */
		double last_rate;
	} clk;			/* the fast engine's records are stamped with the TSC */
	struct unw_patch *patches;
	size_t cappatches;
};

/* A ptrace failure the tracer cannot recover from for that thread. */
#define TRACE_ERR(tr, ...) snprintf((tr)->error, sizeof((tr)->error), __VA_ARGS__)

/* A group-stop's signals: the process is stopped, not signalled. */
static inline int is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* record.c: the log side of the tracer */
int record_open(struct tracer *tr, const char *logpath, struct mt_log_header *h,
		struct tracer_result *res);
/* The last symbols, the trailer (from res), close. */
int record_close(struct tracer *tr, const char *logpath, struct tracer_result *res);
/* The timer ticked (every 10 ms): every 25th tick, tells opts.progress
 * where the run stands; with done, tells it the run is over. */
void record_progress(struct tracer *tr, int done);
/* Called as the loop goes round (at least every 10 ms): hands new pcs to
 * the symbol thread and writes its symbols, flushes the log each second. */
void record_poll(struct tracer *tr);
uint64_t trace_now(const struct tracer *tr);
void trace_event(struct tracer *tr, struct mt_event *ev);
/* The same, for an event that happened at trace time `at` (a ring record). */
void trace_event_at(struct tracer *tr, struct mt_event *ev, uint64_t at);
/* MEMTRACK_UNWIND_CHECK: the recorder and the tracer walked a stack
 * differently. */
void unwind_check_mismatch(struct tracer *tr, const uint64_t *a, size_t na, const uint64_t *b,
			   size_t nb);
void trace_report_error(struct tracer *tr, int err);
void trace_warn(struct tracer *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* PROC_START of p, its cause an enum mt_proc_cause. */
void trace_proc_start(struct tracer *tr, struct tproc *p, pid_t ppid, unsigned cause);

/* loop.c */
/* Waits for stops and dispatches them until no traced task is left, or
 * (attach) it is time to detach. */
void loop_run(struct tracer *tr, struct tracer_result *res);
/* Handles stops as they come for ns (attach, detaching: threads run on
 * until none is inside the fast engine's recorder). */
void loop_run_for(struct tracer *tr, uint64_t ns);

/* launch.c */
/* Starts tr->opts.argv under ptrace, held at its exec (tr->exec_status). */
int launch_start(struct tracer *tr, struct tracer_result *res);

/* cpumask.c: tracer and target on one CPU, and what the target is told */
void cpumask_pin(struct tracer *tr);
void cpumask_unpin(struct tracer *tr);
/* A thread of the tracer's own (the drainer, the symbols) runs on any CPU. */
void cpumask_free_thread(struct tracer *tr, pthread_t thread);
/* The fast engine: the traced program has a second task now, every one of
 * its threads (and the tracer) runs on any CPU from now on. */
void cpumask_spread(struct tracer *tr);
/* The exit of sched_getaffinity / sched_setaffinity (rows of the syscall
 * table, stopped only while pinned). */
void cpumask_getaffinity_done(struct tracer *tr, struct tthread *t);
void cpumask_setaffinity_done(struct tracer *tr, struct tthread *t);

/* process.c */
struct tthread *thread_find(struct tracer *tr, pid_t tid);
struct tthread *thread_new(struct tracer *tr, struct tproc *p, pid_t tid, int state);
void thread_free(struct tracer *tr, struct tthread *t);	/* frees its process after its last */
struct tproc *proc_new(struct tracer *tr, pid_t pid, int followed);
void proc_reset_image(struct tproc *p);
void proc_free(struct tracer *tr, struct tproc *p);
/* p leaves its memory (it ended, or exec'd) while CLONE_VM children still
 * run in it, int3 bytes and all: the first of them takes the breakpoints
 * over and becomes the owner for the others. */
void proc_hand_over(struct tracer *tr, struct tproc *p);
int proc_inherit(struct tracer *tr, struct tproc *parent, struct tthread *forker,
		 struct tproc *child, struct tthread *ct, int shares_vm);
/* The clone flags of the call that created a task, read from the parent
 * stopped at its clone/fork/vfork event: CLONE_THREAD says thread, CLONE_VM
 * shared memory (clone(CLONE_VM | SIGCHLD) is reported as a fork). */
uint64_t proc_clone_flags(pid_t parent, int event);
void proc_add_early_stop(struct tracer *tr, pid_t tid);
int proc_take_early_stop(struct tracer *tr, pid_t tid);
/* The stops that make and end tasks and images. */
struct resume proc_on_exec(struct tracer *tr, struct stop *s);
struct resume proc_on_new_task(struct tracer *tr, struct stop *s);
struct resume proc_on_exited(struct tracer *tr, struct stop *s);
struct resume proc_on_attached(struct tracer *tr, struct stop *s);

/* modules.c */
/* Records modules newly mapped; arms them now if t can run an injected
 * syscall, else leaves p->arm_pending for modules_arm(). */
int modules_scan(struct tracer *tr, struct tproc *p, struct tthread *t);
int modules_copy(struct tracer *tr, struct tproc *from, struct tproc *to);
void modules_unmapped(struct tracer *tr, struct tproc *p, uint64_t addr, uint64_t len);
void modules_free(struct tproc *p);

/* heap.c */
int heap_entry(struct tracer *tr, struct tthread *t, const struct bp *bp,
	       struct user_regs_struct *regs);
int heap_return(struct tracer *tr, struct tthread *t, struct user_regs_struct *regs);
/* Pushes a hijacked call: s carries the arguments, stack and flags; the
 * return address at s->slot is swapped for the trampoline. */
int heap_hijack(struct tracer *tr, struct tthread *t, struct shadow *s);
/* Writes the real return addresses back into the slots of entries whose
 * calls are still in progress in process pid (memfd its memory). */
void heap_give_back(pid_t pid, int memfd, const struct shadow *entries, size_t n,
		    uint64_t trampoline);
uint64_t heap_capture(struct tracer *tr, struct tthread *t, const struct user_regs_struct *regs,
		      uint32_t *flags);
/* Walks up to max frames of process p's thread tid at regs into tr->pcs,
 * through the return addresses t (if not NULL) lent us. */
size_t heap_walk(struct tracer *tr, struct tproc *p, struct tthread *t, pid_t tid,
		 const struct user_regs_struct *regs, size_t max, int *truncated);

/* syscalls.c: a recorded syscall's way from its entry to the log */
struct resume sc_on_seccomp(struct tracer *tr, struct stop *s);
struct resume sc_on_exit(struct tracer *tr, struct stop *s);
/* attach: a libc syscall wrapper was entered (its return is hijacked) */
int sc_wrapper_entry(struct tracer *tr, struct tthread *t, const struct bp *bp,
		     struct user_regs_struct *regs);
/* ... and returned rax through the trampoline */
void sc_wrapper_done(struct tracer *tr, struct tthread *t, const struct shadow *s, uint64_t rax);
/* ... or the fast engine's recorder saw it return, at trace time `at` */
void sc_wrapper_record(struct tracer *tr, struct tproc *p, pid_t tid, uint32_t nr,
		       const uint64_t args[6], uint64_t rax, uint32_t flags, uint64_t stack,
		       uint64_t at);

/* signals.c */
/* The program's own signal, at its delivery stop. */
struct resume signal_on_delivery(struct tracer *tr, struct stop *s);
/*
 * A thread the tracer keeps stopped (attach, detach, an injection) met a
 * signal at its delivery stop s: the signal goes in now, as
 * signal_on_delivery says, and the thread stops again before it runs an
 * instruction (at its handler's first).  The kernel builds the handler's
 * frame from the siginfo as it was sent; nothing is left for the tracer to
 * send again.  Returns the stop it is held in (STOP_INTERRUPT, STOP_GROUP
 * when the signal stopped the process, STOP_ATTACHED for a new task; in
 * s), or -ESRCH when it is gone.
 */
int signal_let_in(struct tracer *tr, struct stop *s);
/* attach, armed: the pc the frame of the first signal let in saved, in
 * the middle of a fast site's displaced bytes, moves to their copy, as a
 * thread's own pc does (fast_move_out_of_sites); the frame is forgotten. */
void signal_mend_frame(struct tproc *own, struct tthread *t);
/* Is this hit a call sent back to its breakpoint by a signal?  Then it is
 * forgotten, with any left by handlers that never returned. */
int signal_replayed(struct tthread *t, uint64_t addr, uint64_t sp);

/* static.c: a statically linked program, and where a program starts */
/* After exec: a one-shot breakpoint at its entry, where a static program
 * is armed, and where the --mark locations the first program lacks are
 * said. */
void static_break_at_entry(struct tracer *tr, struct tproc *p);
/* The one-shot breakpoints of the entry and the first initializer. */
int static_hit(struct tracer *tr, struct tthread *t, const struct bp *bp,
	       struct user_regs_struct *regs);

/* marks.c */
struct elfinfo;
struct tmodule;
/* Hooks the --mark locations that lie in module m. */
int marks_arm(struct tracer *tr, struct tproc *p, struct tthread *t, const struct tmodule *m,
	      struct elfinfo *e);
void marks_hit(struct tracer *tr, struct tthread *t, const struct bp *bp,
	       const struct user_regs_struct *regs);
/* A mark the fast engine met: frames pcs[0..n) from its address. */
void marks_record(struct tracer *tr, struct tproc *p, pid_t tid, uint64_t addr, uint32_t mark,
		  const uint64_t *pcs, size_t n, int cut, uint64_t at);
/* tr->mark_found[i] */
enum { MARK_NOWHERE = 0, MARK_PLACED, MARK_SAID };
/* At the start of the program (its entry point; attach: once armed): says
 * which --mark its executable and the libraries it started with lack. */
void marks_report_at_start(struct tracer *tr, struct tproc *p);
/* At the end: says which --mark was found in no module, unless said at the
 * start. */
void marks_report_missing(struct tracer *tr);

/* rss.c: resident size sampled every 10 ms, and at marks */
void rss_start(struct tracer *tr);
void rss_stop(struct tracer *tr);
/* Samples every followed process if the interval has passed; returns 1
 * then (the timer ticked), else 0. */
int rss_poll(struct tracer *tr);
/* Logs p's RSS now (at a mark). */
void rss_sample(struct tracer *tr, struct tproc *p);

/* inject.c */
/* Is the thread at a syscall-exit-stop?  (The kernel says.) */
int at_syscall_exit(pid_t tid);
int inject_syscall(struct tracer *tr, struct tthread *t, long nr, const uint64_t args[6],
		   int64_t *ret);
int scratch_alloc(struct tracer *tr, struct tproc *p, struct tthread *t, uint64_t near,
		  size_t len, uint64_t *out);

/* arm.c */
/* Arms every module of p not armed yet (allocators, marks; attach: syscall
 * wrappers), through t, which must be able to run an injected syscall. */
int modules_arm(struct tracer *tr, struct tproc *p, struct tthread *t);
/* A breakpoint at nb->addr whose displaced instruction runs from a slot in
 * a scratch page near it; nb is filled but for its kind-specific fields. */
int arm_place(struct tracer *tr, struct tproc *p, struct tthread *t, struct bp *nb,
	      const char *what, const struct tmodule *m);

/* attach.c */
int attach_seize(struct tracer *tr, struct tracer_result *res);
int attach_arm(struct tracer *tr);
int attach_detach(struct tracer *tr);
/* attach: a task memtrack does not record is let go at once (1), when its
 * memory holds nothing of ours. */
int attach_let_go(struct tracer *tr, struct tthread *t);

/* allocators.c */
struct alloc_entry {
	const char *name;
	uint32_t fn;		/* enum mt_fn, or ALLOC_FN_* below */
};
/* Entry points no enum mt_fn describes, the tracer's own numbers, never in
 * a log: C++'s aligned new, whose arguments are (size, alignment), logged
 * as aligned_alloc; C++'s delete, logged as free (allocators.c). */
#define ALLOC_FN_NEW_ALIGNED 0x100
#define ALLOC_FN_DELETE	     0x101
extern const struct alloc_entry alloc_entries[];
extern const size_t nalloc_entries;
void alloc_fill(uint32_t fn, const uint64_t args[3], uint64_t ret, struct mt_event *ev);

#endif
