/*
 * breakpoint.h - int3 breakpoints that never single-step.
 *
 * When a breakpoint is placed, capstone decodes the instruction it
 * displaces, once.  On every hit the tracer makes the thread continue as if
 * that instruction had executed in place: branches are emulated from their
 * decoded operands; everything else runs out of line from a slot in a
 * scratch page (relocated when rip-relative) that jumps back after it.  The
 * int3 never leaves the code, so no other thread can run past it.
 */
#ifndef MEMTRACK_TRACER_BREAKPOINT_H
#define MEMTRACK_TRACER_BREAKPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "../formats/hash.h"

enum bp_kind {
	BP_ALLOC = 1,		/* an allocator entry point */
	BP_TRAMPOLINE,		/* where hijacked returns land */
	BP_ENTRY,		/* one-shot: a static program's entry point */
	BP_INIT,		/* one-shot: a static program's first initializer */
	BP_START,		/* one-shot: a dynamic program's entry point (--mark) */
	BP_MARK,		/* --mark: record a mark event */
	BP_SYSCALL,		/* attach: a libc syscall wrapper (fn: syscall nr) */
	BP_DLSTATE,		/* attach: the loader's debugger hook (dlopen) */
};

enum bp_exec {
	BP_EXEC_XOL = 1,	/* run the copy in the slot; it jumps back */
	BP_EXEC_SKIP,		/* nop, endbr64: nothing to do */
	BP_EXEC_JMP,		/* rip = target */
	BP_EXEC_JMP_MEM,	/* rip = *(u64 *)target (jmp *disp(%rip)) */
	BP_EXEC_JCC,		/* rip = cond ? target : next */
	BP_EXEC_CALL,		/* push next; rip = target */
	BP_EXEC_RET,		/* rip = pop */
	BP_EXEC_NONE,		/* the handler decides (trampoline, one-shot) */
};

#define BP_SLOT_SIZE 32		/* bytes of scratch per out-of-line slot */

struct bp {
	uint64_t addr;
	uint8_t orig[16];	/* the bytes under the int3 (first is displaced) */
	uint8_t len;		/* length of the displaced instruction */
	uint8_t kind;		/* enum bp_kind */
	uint8_t exec;		/* enum bp_exec */
	uint8_t cond;		/* BP_EXEC_JCC: x86 condition code 0..15 */
	uint8_t one_byte;	/* the displaced instruction is 1 byte long, so
				   addr + 1 is a real instruction boundary */
	uint32_t fn;		/* BP_ALLOC: enum mt_fn; BP_MARK: mark number */
	uint64_t target;	/* branch target, or the slot for XOL */
};

/*
 * Loads capstone (dlopen, by the soname it had at build time) and opens its
 * x86-64 decoder, once per process; the functions below load it themselves
 * when nothing has.  Returns 0, or -ELIBACC with one line in error[size]
 * ("cannot load libcapstone.so.4: ...").
 */
int bp_load(char *error, size_t size);

/*
 * Decodes the instruction at bp->addr from code[0..ncode) and decides how
 * hits continue.  When it must run out of line, the slot bytes for address
 * slot_addr are built into slot[BP_SLOT_SIZE] and *slot_used is set; the
 * caller writes them to the tracee.  Returns 0, or -ENOTSUP for an
 * instruction that can neither be emulated nor relocated to slot_addr.
 */
int bp_prepare(struct bp *bp, const uint8_t *code, size_t ncode, uint64_t slot_addr,
	       uint8_t slot[BP_SLOT_SIZE], int *slot_used);

/* A printable form of the displaced instruction ("push r12"), for errors. */
void bp_describe(const struct bp *bp, char *buf, size_t size);

/*
 * Makes regs continue past the displaced instruction of a hit breakpoint
 * (regs->rip is still bp->addr + 1 on entry).  May read or write tracee
 * memory (jmp through memory, call).  0 or a negative errno.
 */
int bp_resume(const struct bp *bp, pid_t tid, int memfd, struct user_regs_struct *regs);

/* Places / removes the int3; 0 or a negative errno. */
int bp_insert(const struct bp *bp, int memfd);
int bp_remove(const struct bp *bp, int memfd);

/*
 * Jumps instead of int3 (the fast engine): the whole instructions that
 * begin at addr and cover at least `need` bytes are displaced by a 5-byte
 * jump, and must run elsewhere.  bp_relocate copies them from code[0..ncode)
 * into out (room for cap bytes) as they must run at out_addr: rip-relative
 * operands and branches are re-aimed, a call is pushed by hand so that it
 * returns to the original code.  Every instruction's offset in the original
 * and in the copy goes to map (BP_MAX_DISPLACED entries), so a thread found
 * in the middle can be moved.  Returns the bytes written, *displaced the
 * bytes covered, or -ENOTSUP for what cannot run elsewhere (a return, a
 * call that is not the last, loop, an address out of reach).
 */
#define BP_MAX_DISPLACED 8

struct bp_insn_map {
	uint8_t from, to;	/* offsets in the original, in the copy */
};

int bp_relocate(const uint8_t *code, size_t ncode, uint64_t addr, size_t need,
		uint64_t out_addr, uint8_t *out, size_t cap, size_t *displaced,
		struct bp_insn_map map[BP_MAX_DISPLACED], size_t *nmap);

/* Whether a direct branch of the function code[0..ncode) at addr lands
 * strictly inside (lo, hi): a jump over those bytes would break it. */
int bp_branch_into(const uint8_t *code, size_t ncode, uint64_t addr, uint64_t lo, uint64_t hi);

static inline uint64_t bp_hash(uint64_t addr)
{
	return (addr * 0x9e3779b97f4a7c15ull) >> 32;
}

#define bp_eq(a, b) ((a) == (b))

/* The breakpoints of an address space by address: bp_table_get() finds one,
 * bp_table_del() removes it, bp_table_next() walks them. */
HASH_DEFINE(bp_table, uint64_t, struct bp, bp_hash, bp_eq)

/* The out-of-line breakpoint whose slot a thread at rip sits in: at its
 * displaced instruction (*ran = 0) or at the jump back after it (*ran = 1);
 * NULL if none. */
const struct bp *bpt_find_slot(const struct bp_table *t, uint64_t rip, int *ran);
/* Adds (or returns the existing) breakpoint at addr; NULL on ENOMEM.  The
 * pointer is valid until the next bpt_add or bp_table_del. */
struct bp *bpt_add(struct bp_table *t, uint64_t addr);

#endif
