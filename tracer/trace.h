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

#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "../formats/log.h"
#include "breakpoint.h"
#include "syscalls.h"
#include "tracer.h"

struct unwinder;
struct log_writer;

/* An ELF file whose code is mapped into a process. */
struct tmodule {
	char *path;
	uint64_t start, end;	/* the executable mapping */
	uint64_t bias;
	uint64_t dev, ino;
	uint32_t log_id;
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
	uint64_t args[3];
	uint64_t stack;		/* stack id, captured at entry */
	uint32_t fn;
	uint32_t flags;		/* MT_EVF_* */
};

#define MAX_SCRATCH 8

struct tproc {
	pid_t pid;
	uint32_t space;		/* address space id in the log, 0 before exec */
	int memfd;
	int followed;		/* its events are recorded */
	int armed;		/* allocator breakpoints are in place */
	int exec_seen;
	struct tproc *vm_owner;	/* CLONE_VM child (vfork): whose memory it shares */
	struct bp_table bps;
	struct tmodule *mods;
	size_t nmods, capmods;
	struct afn afns[MT_FN_COUNT];
	size_t nafns;
	uint64_t alloc_lo, alloc_hi;	/* code of the allocator's module */
	uint64_t scratch[MAX_SCRATCH];	/* pages for slots, trampoline, syscall */
	size_t scratch_used[MAX_SCRATCH];
	size_t nscratch;
	uint64_t trampoline;	/* int3 where hijacked returns land */
	uint64_t syscall_insn;	/* "syscall" for injections, 0 until a page exists */
	struct unwinder *unw;
	size_t nthreads;
	struct tproc *next;
};

enum thread_state {
	TS_NEW = 0,		/* created by an event; its first stop is pending */
	TS_RUNNING,
	TS_GONE,
};

struct tthread {
	pid_t tid;
	struct tproc *proc;
	int state;
	int at_syscall_exit;	/* stopped at a syscall-exit-stop (injection uses it) */
	int pending_signal;	/* swallowed during an injection; re-raised after */
	struct shadow *shadow;
	size_t nshadow, capshadow;
	/* a recorded syscall between its seccomp stop and its exit */
	const struct sc_desc *sc;
	uint64_t sc_args[6];
	uint64_t sc_stack;
	uint32_t sc_flags;
	struct tthread *next;	/* hash chain */
};

#define THREAD_BUCKETS 256

struct tracer {
	struct tracer_opts opts;
	pid_t root;
	int64_t root_status;
	int root_exec_seen;
	int errpipe;		/* read end: the child's exec errno */
	struct log_writer *w;
	struct tproc *procs;
	struct tthread *threads[THREAD_BUCKETS];
	size_t ntasks;		/* live traced threads, all processes */
	uint32_t next_space;
	uint64_t t0;		/* CLOCK_MONOTONIC ns when tracing began */
	int pinned;
	cpu_set_t orig_affinity;
	char error[256];
	uint64_t pcs[1025];	/* stack capture buffer */
	struct unw_patch *patches;
	size_t cappatches;
};

/* A ptrace failure the tracer cannot recover from for that thread. */
#define TRACE_ERR(tr, ...) snprintf((tr)->error, sizeof((tr)->error), __VA_ARGS__)

/* launch.c */
int launch_failure(struct tracer *tr, char *buf, size_t size);
void launch_unpin(struct tracer *tr);

/* loop.c */
uint64_t trace_now(const struct tracer *tr);
struct tthread *thread_find(struct tracer *tr, pid_t tid);
void trace_event(struct tracer *tr, struct mt_event *ev);

/* modules.c */
int modules_scan(struct tracer *tr, struct tproc *p, struct tthread *t);
void modules_unmapped(struct tracer *tr, struct tproc *p, uint64_t addr, uint64_t len);
void modules_free(struct tproc *p);

/* heap.c */
int heap_entry(struct tracer *tr, struct tthread *t, const struct bp *bp,
	       struct user_regs_struct *regs);
int heap_return(struct tracer *tr, struct tthread *t, struct user_regs_struct *regs);
uint64_t heap_capture(struct tracer *tr, struct tthread *t, const struct user_regs_struct *regs,
		      uint32_t *flags);
int heap_in_allocator(const struct tracer *tr, const struct tthread *t, size_t nframes);

/* inject.c */
int inject_syscall(struct tracer *tr, struct tthread *t, long nr, const uint64_t args[6],
		   int64_t *ret);
int scratch_alloc(struct tracer *tr, struct tproc *p, struct tthread *t, uint64_t near,
		  size_t len, uint64_t *out);

/* allocators.c */
struct alloc_entry {
	const char *name;
	uint32_t fn;		/* enum mt_fn */
};
extern const struct alloc_entry alloc_entries[];
extern const size_t nalloc_entries;
void alloc_fill(uint32_t fn, const uint64_t args[3], uint64_t ret, struct mt_event *ev);

#endif
