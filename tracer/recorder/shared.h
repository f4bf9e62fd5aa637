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
 *   walk caches                struct mtr_wcache[MTR_WCACHES]          R
 *   unwind rules               struct mtr_rule[rules_mask + 1]         T
 *   the ring                   ring_size bytes, mapped twice in a row  R -> T
 *
 * The ring is mapped twice back to back, so a record never wraps: it is
 * written at head % ring_size, contiguous, whatever its length.
 */
#ifndef MEMTRACK_TRACER_RECORDER_SHARED_H
#define MEMTRACK_TRACER_RECORDER_SHARED_H

#include <stdint.h>

#include "../../formats/log.h"

#define MTR_MAGIC   0x3152454452435452ull	/* "RTCRDER1" */
#define MTR_VERSION 2

#define MTR_MAX_SITES	 256
#define MTR_THREADS	 4096		/* power of two */
#define MTR_ACTIVE	 8		/* wrapper calls one thread tracks, nested */
#define MTR_REPLIES	 64
#define MTR_MAX_FRAMES	 1026		/* --depth 1024, the entry, one to see a cut */
#define MTR_MAX_AFNS	 96
#define MTR_MAX_ALLOCMODS 8
#define MTR_LAST_FRAMES	 128		/* a stack a thread's next one may refer to */
#define MTR_NO_SLOT	 0xffff

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
	/* R: a tail the ring was read with: up to it there is room, and the
	 * shared tail (a line the tracer writes) is read again only when a
	 * record would pass it */
	uint64_t tail_seen;
	/* R: the stack of this slot's last ALLOC record, outermost frame
	 * first (so that a stack sharing its outer frames rewrites only the
	 * rest), last_n frames (0 when it had more than MTR_LAST_FRAMES), and
	 * that record's number.  The tracer keeps the same per slot, from the
	 * records: struct mtr_rec_alloc says how the next stack differs. */
	uint32_t last_n;
	uint32_t last_seq;
	uint64_t last_pcs[MTR_LAST_FRAMES];
};

/* --- unwind rules ------------------------------------------------------------ */

/* Rule of one pc (the lookup pc: the exact pc of frame 0, return address
 * minus one above it), reduced as tracer/unwind.c reduces DWARF CFI, in
 * 32 bytes: a frame's walk reads one line.  The tracer writes a new rule
 * whole, then its pc (release); a published rule is rewritten only when
 * its code goes away, with ctl.rules_gen odd meanwhile, so a walk that
 * began and ended with the same even count read whole rules. */
enum mtr_rule_status {
	MTR_RULE_EMPTY = 0,
	MTR_RULE_OK,
	MTR_RULE_END,		/* return address undefined: the outermost frame */
	MTR_RULE_TRACER,	/* only the tracer's libdwfl walk can go on here */
	MTR_RULE_SIGNAL,	/* a signal frame: CFA = *(sp + cfa_off); the
				   interrupted pc (exact) at sp + ra_off, the
				   registers at sp + off */
};

#define MTR_NREGS   6		/* rbx rbp r12 r13 r14 r15 */
#define MTR_CFA_RSP 0xff	/* cfa_reg: the stack pointer, else an index above */

/* Each register (bit i of a mask, in the order above) is the same as in
 * the callee unless its bit is set in one of three disjoint masks: `at`,
 * saved at CFA + off[i] (signal frames: sp + off[i]); `val`, it is
 * CFA + off[i]; `undef`, it is lost. */
struct mtr_rule {
	uint64_t pc;		/* T: the key, 0 = empty */
	int32_t cfa_off;	/* T */
	int16_t ra_off;		/* T: return address at CFA + ra_off */
	uint8_t status;		/* T: enum mtr_rule_status */
	uint8_t cfa_reg;	/* T: MTR_CFA_RSP, or 0..MTR_NREGS-1 */
	uint8_t at, val, undef;	/* T: register masks */
	uint8_t pad;
	int16_t off[MTR_NREGS];	/* T */
};
_Static_assert(sizeof(struct mtr_rule) == 32, "a rule is half a cache line");

/* --- walk caches ----------------------------------------------------------------- */

/*
 * The last walk a thread made from an allocator entry, for its next walk
 * to end early: when a frame of the new walk is one of the old (same pc,
 * same stack pointer, the same value in the registers the rest of the walk
 * reads) and every word the rest of the old walk read still holds what it
 * read, the rest of the walk is the old one's, exactly.  Checking a frame
 * is a load or two; walking it is a rule lookup and its registers.
 *
 * A walk's frames are a list, innermost first, out of a pool: the new
 * walk's own frames are linked in front of the old ones it shares, so
 * nothing is copied.  Only the recorder touches it (threads whose slots
 * share a cache take turns: busy).
 */
#define MTR_WCACHES	 512		/* power of two: slot & (MTR_WCACHES - 1) */
#define MTR_WF_POOL	 256
#define MTR_WF_MAXWALK	 128		/* longer walks are not cached */
#define MTR_WF_END	 0xffff

#define MTR_WF_STEP	 0x1u	/* a step was taken from it: ra was read */
#define MTR_WF_NOMATCH	 0x2u	/* a walk may not end early here (see recorder.c) */
#define MTR_WF_RBP_VALID 0x4u	/* rbp was known entering it (rbp_in) */
#define MTR_WF_BLOB	 0x8u	/* it or a frame after it is in the recorder */

struct mtr_wframe {
	uint64_t sp, lookup;	/* the frame: its stack pointer, its lookup pc */
	uint64_t ra_at, ra;	/* its step read its return address there */
	uint64_t rbp_at, rbp;	/* ... and rbp there (rbp_at 0: nothing to check) */
	uint64_t rbp_in;	/* rbp entering it */
	uint16_t next;		/* its caller's frame, MTR_WF_END */
	uint8_t flags;		/* MTR_WF_* */
	uint8_t need;		/* registers entering it that the rest of the walk reads */
	uint8_t use, def, at;	/* its rule's registers: the CFA's (not rsp), those
				   it sets, those it reads from the stack */
	uint8_t pad;
};

struct mtr_wcache {
	uint32_t busy;		/* R: a walk uses it (compare-and-swap) */
	uint32_t owner;		/* R: slot + 1 of the thread whose walk it holds */
	uint32_t gen;		/* R: ctl.rules_gen it was walked under */
	uint32_t len;		/* R: frames in its list */
	uint16_t head, free;	/* R: its innermost frame; the free list */
	uint8_t ready;		/* R: the pool is a free list */
	uint8_t cut;		/* R: the stack goes on past its last frame */
	uint16_t pad;
	struct mtr_wframe f[MTR_WF_POOL];
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
	MTR_REC_ALLOC = 1,	/* an allocator call returned: struct mtr_rec_alloc */
	MTR_REC_FREE,		/* struct mtr_rec_free */
	MTR_REC_SYSCALL,	/* attach: a syscall wrapper returned: mtr_rec_call */
	MTR_REC_WALK,		/* a thread waits for its stack: struct mtr_rec_walk */
	MTR_REC_DONE = 0xff,	/* logged out of order, past an unfinished one */
};

/* Flags of a call record. */
#define MTR_CALL_TRUNCATED 0x1u	/* frames remained beyond --depth */
#define MTR_CALL_IN_ALLOC  0x2u	/* made inside an allocator call */
#define MTR_CALL_TSC	   0x4u	/* its time is a TSC word of its own, not its epoch */

/*
 * Who made an allocator call, and when: a record's time is the TSC the
 * tracer published as `epoch` (struct mtr_ctl), which the tracer looks up
 * again by its low 16 bits, or, with MTR_CALL_TSC, a word of its own.
 */
struct mtr_who {
	uint32_t tid;
	uint16_t epoch;
	uint16_t fn : 12;	/* the site's fn: an enum mt_fn, or one of the
				   tracer's own (tracer/trace.h, ALLOC_FN_*) */
	uint16_t flags : 4;	/* MTR_CALL_* */
};
_Static_assert(sizeof(struct mtr_who) == 8, "who and when in one word");

/* The arguments an allocator call's record keeps: as many as alloc_fill
 * (tracer/allocators.c) reads for it. */
static inline uint32_t mtr_nargs(uint32_t fn)
{
	switch (fn) {
	case MT_FN_MALLOC:
	case MT_FN_VALLOC:
	case MT_FN_PVALLOC:
		return 1;
	case MT_FN_CALLOC:
	case MT_FN_REALLOC:
	case MT_FN_MEMALIGN:
	case MT_FN_ALIGNED_ALLOC:
		return 2;
	default:
		return 3;
	}
}

/*
 * An allocator call that returned.  Then follow, in 8-byte words: its
 * mtr_nargs(fn) arguments; the TSC with MTR_CALL_TSC; pcs[nnew].  Its
 * stack (innermost first) is those pcs, then the outermost nkeep frames of
 * the slot's previous ALLOC record's stack (whose seq is one less),
 * innermost of them first: a loop that allocates from one place writes no
 * frame at all.  Without a slot (MTR_NO_SLOT) nkeep is 0 and seq means
 * nothing.
 */
struct mtr_rec_alloc {
	uint64_t hdr;
	struct mtr_who who;
	uint16_t slot;		/* the thread's slot in the table, MTR_NO_SLOT */
	uint16_t seq;		/* the slot's ALLOC records so far, this one too */
	uint16_t nnew;
	uint16_t nkeep;
	uint64_t ret;		/* posix_memalign: the block, 0 on failure */
	uint64_t words[];
};

/* free(addr), then the TSC with MTR_CALL_TSC. */
struct mtr_rec_free {
	uint64_t hdr;
	struct mtr_who who;
	uint64_t addr;
	uint64_t words[];
};

/* A libc syscall wrapper's call (attach): every frame. */
struct mtr_rec_call {
	uint64_t hdr;
	uint64_t tsc;		/* when it returned */
	uint32_t tid;
	uint32_t fn;		/* the syscall nr */
	uint32_t flags;		/* MTR_CALL_* */
	uint32_t nframes;
	uint64_t args[6];
	uint64_t ret;
	uint64_t pcs[];		/* nframes, innermost first */
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
#define MTR_F_EXACT_TIME 0x4u	/* every record reads the TSC (see epoch) */
#define MTR_F_NO_FSGSBASE 0x8u	/* rdfsbase would fault: ask the kernel */

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
	uint64_t wcaches_off;	/* T */
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
	struct mtr_range afns_box, allocmods_box;	/* T: what each set spans */
	uint32_t rules_gen;	/* T: odd while a published rule is rewritten */
	/* T: a test's stall (MEMTRACK_TEST_STALL): this many of the next walk
	 * requests wait stall_ms between their reservation and their commit,
	 * as a thread preempted or stopped there would */
	uint32_t stalls, stall_ms;

	/* the ring's two ends, each on a cache line of its own */
	uint64_t head __attribute__((aligned(64)));	/* R: bytes reserved */
	uint64_t tail __attribute__((aligned(64)));	/* T: bytes consumed */
	/* threads that wait for room sleep on room_bell, which the tracer rings
	 * when it moves the tail while there are any */
	uint32_t room_bell __attribute__((aligned(64)));	/* T */
	uint32_t room_waiters;	/* R */
	/* the tracer sleeps on doorbell when it has nothing to do */
	uint32_t doorbell __attribute__((aligned(64)));	/* R: rung (incremented) */
	uint64_t dropped;	/* R: records lost (the tracer went away) */
	/*
	 * Time.  Reading the TSC costs more than the rest of a free's record
	 * on some machines (14-40 ns in a VM), so while the tracer drains it
	 * publishes the TSC every 100 us or so, numbered (epoch), and a record
	 * names the number: its time is then at most that much early, plus
	 * what a look at the ring takes, finer than the log keeps unless asked
	 * (MTR_F_EXACT_TIME).  0 while the tracer sleeps: records read the TSC.
	 */
	uint32_t sleeping __attribute__((aligned(64)));	/* T: waiting on the doorbell */
	uint32_t epoch;		/* T */
};

#endif
