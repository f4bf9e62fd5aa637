/*
 * shared.h - what the recorder (mapped into the traced program) and the
 * tracer share: the layout of the shared area (a memfd both map), the
 * records of the ring, the reduced unwind rules, the hook sites.
 *
 * Included by the freestanding recorder and by the tracer: only fixed-size
 * integer types, no libc.  Every field is written by one side only, as its
 * comment says (T: the tracer, R: the recorder); counters that both touch
 * are atomics.
 *
 * The shared area, from its start (offsets in struct mtr_ctl):
 *
 *   the control block          struct mtr_ctl, one page
 *   hook sites                 struct mtr_site[MTR_MAX_SITES]          T
 *   threads                    struct mtr_thread[MTR_THREADS]          T, R
 *   walk replies               struct mtr_reply[MTR_REPLIES]           T, R
 *   unwind rules               struct mtr_rule[rules_mask + 1]         T
 *   the ring                   ring_size bytes, mapped twice in a row  R -> T
 *
 * The ring is mapped twice back to back, so a record never wraps: it is
 * written at head % ring_size, contiguous, whatever its length.
 */
#ifndef MEMTRACK_TRACER_RECORDER_SHARED_H
#define MEMTRACK_TRACER_RECORDER_SHARED_H

#include <stdint.h>

#define MTR_MAGIC   0x3152454452435452ull	/* "RTCRDER1" */
#define MTR_VERSION 1

#define MTR_MAX_SITES	 256
#define MTR_THREADS	 4096		/* power of two */
#define MTR_ACTIVE	 8		/* wrapper calls one thread tracks, nested */
#define MTR_REPLIES	 64
#define MTR_MAX_FRAMES	 1026		/* --depth 1024, the entry, one to see a cut */
#define MTR_MAX_AFNS	 96
#define MTR_MAX_ALLOCMODS 8

/* --- hook sites ------------------------------------------------------------ */

enum mtr_site_kind {
	MTR_SITE_NONE = 0,
	MTR_SITE_ALLOC,		/* fn: enum mt_fn */
	MTR_SITE_SYSCALL,	/* attach: a libc syscall wrapper; fn: syscall nr */
	MTR_SITE_MARK,		/* fn: the mark's number (1-based) */
	MTR_SITE_DLSTATE,	/* attach: the loader's debugger hook */
};

struct mtr_site {
	uint32_t kind;		/* T: enum mtr_site_kind */
	uint32_t fn;		/* T */
	uint64_t addr;		/* T: the hooked instruction */
	uint64_t orig;		/* T: its displaced instructions, relocated, then a
				   jump back: calling it is calling the original */
};

/* --- threads ---------------------------------------------------------------- */

/* A thread as the recorder knows it, by its thread pointer (the fs base;
 * 0 before TLS exists).  key = thread pointer + 1, 0 = empty slot; a slot
 * is never emptied again, so probe chains stay whole.  tid 0: not known
 * (the thread that had it ended); the recorder asks the kernel. */
struct mtr_thread {
	uint64_t key;		/* T, R (compare-and-swap) */
	uint32_t tid;		/* T, R */
	uint32_t nactive;	/* R, that thread only: calls of a wrapper running */
	uint64_t active_sp[MTR_ACTIVE];	/* R: their stack pointers at entry */
	/* R: between reserving a record and making it whole (nested: a
	 * count).  A signal that finds the thread there must wait: a handler
	 * that left by longjmp would lose the record, one that records would
	 * wait behind it.  The tracer takes the signal off its delivery stop,
	 * blocks the thread's signals, and leaves here the signal and the mask
	 * it had; once the record is whole the recorder queues the signal to
	 * its own thread again, siginfo and all (a process may queue itself
	 * any), and puts the mask back: it comes in then, with or without a
	 * tracer. */
	uint32_t in_record;
	uint32_t held_sig;	/* T sets, R clears: a signal waits */
	uint64_t saved_mask;	/* T: the mask to put back */
	uint8_t held_info[128];	/* T: its siginfo_t */
};

/* --- unwind rules ------------------------------------------------------------ */

/* Rule of one pc (the lookup pc: the exact pc of frame 0, return address
 * minus one above it), reduced as tracer/unwind.c reduces DWARF CFI.  The
 * tracer writes, the recorder reads, under a sequence count (odd while
 * being written). */
enum mtr_rule_status {
	MTR_RULE_EMPTY = 0,
	MTR_RULE_OK,
	MTR_RULE_END,		/* return address undefined: the outermost frame */
	MTR_RULE_TRACER,	/* only the tracer's libdwfl walk can go on here */
	MTR_RULE_SIGNAL,	/* a signal frame: CFA = *(sp + cfa_off); the
				   interrupted pc (exact) at sp + ra_off, the
				   registers at sp + off */
};

enum mtr_reg_kind {
	MTR_REG_SAME = 0,
	MTR_REG_UNDEF,
	MTR_REG_AT,		/* saved at CFA + off */
	MTR_REG_VAL,		/* is CFA + off */
};

#define MTR_NREGS   6		/* rbx rbp r12 r13 r14 r15 */
#define MTR_CFA_RSP 0xff	/* cfa_reg: the stack pointer, else an index above */

struct mtr_rule {
	uint32_t seq;		/* T: even when stable */
	uint8_t status;		/* T: enum mtr_rule_status */
	uint8_t cfa_reg;	/* T: MTR_CFA_RSP, or 0..MTR_NREGS-1 */
	uint8_t kind[MTR_NREGS];	/* T: enum mtr_reg_kind */
	int32_t cfa_off;	/* T */
	int32_t ra_off;		/* T: return address at CFA + ra_off */
	int32_t off[MTR_NREGS];	/* T */
	uint32_t pad;
	uint64_t pc;		/* T: the key, 0 = empty */
};

/* --- walk replies -------------------------------------------------------------- */

/* A thread that cannot walk its own stack asks the tracer (a WALK record
 * naming a reply slot it claimed) and waits on `state`; the tracer walks
 * the stack where it lies, with libdw, and answers here. */
enum mtr_reply_state {
	MTR_REPLY_FREE = 0,
	MTR_REPLY_WAITING,	/* R: claimed, asked */
	MTR_REPLY_DONE,		/* T: answered */
};

#define MTR_REPLY_TRUNCATED 0x1u	/* frames remained beyond the answer */

struct mtr_reply {
	uint32_t state;		/* futex word; R: FREE -> WAITING, T: -> DONE */
	uint32_t n;		/* T: frames in pcs */
	uint32_t flags;		/* T: MTR_REPLY_* */
	uint32_t claim;		/* R: who holds it, a token of the claim: a waiter
				   whose slot was taken as abandoned asks again */
	uint64_t done_tsc;	/* T: when it was answered: a slot DONE for over a
				   second was abandoned (its thread left the wait
				   by longjmp) and is taken again */
	uint64_t pcs[MTR_MAX_FRAMES];	/* T */
};

/* --- ring records ------------------------------------------------------------- */

/*
 * Every record starts with a header word: the low 16 bits are its length
 * in 8-byte words, the next 8 its type, the high 40 a tag, (position / 8)
 * mod 2^40, which tells a header from what an earlier lap left there.  The
 * recorder stores it twice: at once with type 0 (reserved: its length is
 * known), and last, with its type and release ordering: a record is whole
 * once its header carries its position's tag and a type.
 *
 * A record another depends on is always whole before that one is reserved
 * (a block is freed after the call that returned it was recorded), so the
 * tracer may log whole records past one that is not (a thread preempted,
 * or in a signal handler, between the two stores) and come back for it:
 * it marks those it took DONE, and its tail waits at the first unfinished.
 */
#define MTR_HDR(tag, type, words)                                                          \
	(((uint64_t)(tag) << 24) | ((uint64_t)(type) << 16) | (uint64_t)(words))
#define MTR_HDR_WORDS(h) ((uint32_t)((h) & 0xffff))
#define MTR_HDR_TYPE(h)	 ((uint32_t)(((h) >> 16) & 0xff))
#define MTR_HDR_TAG(h)	 ((h) >> 24)
#define MTR_TAG_OF(pos)	 (((pos) >> 3) & ((1ull << 40) - 1))

enum mtr_rec_type {
	MTR_REC_ALLOC = 1,	/* an allocator call returned: struct mtr_rec_call */
	MTR_REC_FREE,		/* struct mtr_rec_free */
	MTR_REC_SYSCALL,	/* attach: a syscall wrapper returned: mtr_rec_call */
	MTR_REC_WALK,		/* a thread waits for its stack: struct mtr_rec_walk */
	MTR_REC_DONE = 0xff,	/* logged out of order, past an unfinished one */
};

/* Flags of a call record. */
#define MTR_CALL_TRUNCATED 0x1u	/* frames remained beyond --depth */
#define MTR_CALL_IN_ALLOC  0x2u	/* made inside an allocator call */

struct mtr_rec_call {
	uint64_t hdr;
	uint64_t tsc;		/* when it returned */
	uint32_t tid;
	uint32_t fn;		/* ALLOC: enum mt_fn; SYSCALL: the syscall nr */
	uint32_t flags;		/* MTR_CALL_* */
	uint32_t nframes;
	uint64_t args[6];
	uint64_t ret;		/* posix_memalign: the block, 0 on failure */
	uint64_t pcs[];		/* nframes, innermost first */
};

struct mtr_rec_free {
	uint64_t hdr;
	uint64_t tsc;
	uint32_t tid;
	uint32_t fn;
	uint64_t addr;
};

/* Registers a walk starts from (a struct user_regs_struct's subset). */
struct mtr_regs {
	uint64_t rip, rsp;
	uint64_t rbx, rbp, r12, r13, r14, r15;
	uint64_t rax, rcx, rdx, rsi, rdi, r8, r9, r10, r11, eflags;
};

enum mtr_walk_why {
	MTR_WALK_STACK = 1,	/* the recorder met a pc without a rule: the
				   frames a log keeps (none in the recorder) */
	MTR_WALK_RAW,		/* the same, every frame (the recorder's too): for
				   the nesting test and for syscalls */
	MTR_WALK_MARK,		/* a --mark: the tracer records it, samples RSS */
	MTR_WALK_CHECK,		/* MEMTRACK_UNWIND_CHECK: compare with the recorder's */
};

struct mtr_rec_walk {
	uint64_t hdr;
	uint64_t tsc;
	uint32_t tid;
	uint32_t why;		/* enum mtr_walk_why */
	uint32_t reply;		/* the slot the thread waits on */
	uint32_t max;		/* frames wanted */
	uint32_t site;		/* the hook site */
	uint32_t nframes;	/* CHECK: the recorder's own walk follows */
	struct mtr_regs regs;
	uint64_t pcs[];
};

/* --- the control block ---------------------------------------------------------- */

struct mtr_range {
	uint64_t start, end;
};

/* flags */
#define MTR_F_CHECK 0x1u	/* every walk is also asked of the tracer */
#define MTR_F_QUIET 0x2u	/* a static binary before its first initializer */

struct mtr_ctl {
	uint64_t magic;		/* T: MTR_MAGIC while recording; anything else
				   (a fork child's zeroed copy) passes calls on */
	uint32_t version;	/* T */
	uint32_t flags;		/* T: MTR_F_* */
	uint32_t depth;		/* T: frames a stack keeps (--depth) */
	uint32_t tracer_pid;	/* T */
	uint32_t disabled;	/* R: the tracer is gone; T: detaching */
	uint32_t nsites;	/* T */
	uint64_t sites_off, threads_off, replies_off, rules_off, ring_off;	/* T */
	uint64_t ring_size;	/* T: a power of two */
	uint32_t rules_mask;	/* T: rules - 1, a power of two minus one */
	uint32_t nafns, nallocmods;	/* T */
	uint32_t pad0;
	uint64_t tsc_per_sec;	/* T: how fast the TSC counts */
	uint32_t vmshare;	/* T: tasks of other processes run in this memory
				   (vfork, posix_spawn), with the thread pointer of
				   the one that made them: who calls is asked of the
				   kernel while there are */
	uint32_t pad1;
	struct mtr_range blob;	/* T: the recorder's code: a return into it is
				   a wrapper's call of the original */
	struct mtr_range afns[MTR_MAX_AFNS];		/* T: allocator entry functions */
	struct mtr_range allocmods[MTR_MAX_ALLOCMODS];	/* T: allocator modules' code */

	/* the ring's two ends, each on a cache line of its own */
	uint64_t head __attribute__((aligned(64)));	/* R: bytes reserved */
	uint64_t tail __attribute__((aligned(64)));	/* T: bytes consumed */
	/* the tracer sleeps on doorbell when it has nothing to do */
	uint32_t doorbell __attribute__((aligned(64)));	/* R: rung (incremented) */
	uint32_t sleeping;	/* T: waiting on the doorbell */
	uint64_t dropped;	/* R: records lost (the tracer went away) */
};

#endif
