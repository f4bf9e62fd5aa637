/*
 * unwind.h - stack capture for one traced address space.
 *
 * The stack is copied out of the tracee with process_vm_readv (a window
 * grown on demand, never a PEEKDATA per word) and walked locally with
 * DWARF call-frame information from libdw.  Each distinct pc's unwind rule
 * is extracted once and cached, so a walk costs a hash lookup and a load
 * per frame; what the cache cannot express (signal frames, CFI
 * expressions, code without CFI) is walked by libdwfl's own unwinder over
 * the same copy.
 */
#ifndef MEMTRACK_TRACER_UNWIND_H
#define MEMTRACK_TRACER_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct unwinder;

/* A word of the stack to read as `value` where memory holds `expect`:
 * return addresses the tracer hijacked (expect is the trampoline; a slot
 * that holds something else was reused after its call was abandoned). */
struct unw_patch {
	uint64_t addr;
	uint64_t value;
	uint64_t expect;
};

/* The most frames one capture walks. */
#define UNW_MAX_FRAMES 1025

int unw_open(struct unwinder **out, pid_t pid);
void unw_close(struct unwinder *u);

/* Adds a module whose code lies in [start, end), loaded with `bias`. */
int unw_add_module(struct unwinder *u, const char *path, uint64_t start, uint64_t end,
		   uint64_t bias);

/* Forgets the module that starts at start (it was unmapped). */
void unw_remove_module(struct unwinder *u, uint64_t start);

/*
 * Captures up to max frames of thread tid stopped with regs.  pcs[0] is
 * regs->rip; pcs[i > 0] are return addresses minus one (the call
 * instruction), so every pc symbolizes to the line that was executing.
 * Returns the number of frames; *truncated is set when frames remained
 * beyond max (at most UNW_MAX_FRAMES).
 */
size_t unw_capture(struct unwinder *u, pid_t tid, const struct user_regs_struct *regs,
		   const struct unw_patch *patches, size_t npatches, uint64_t *pcs, size_t max,
		   int *truncated);

/* A word of the stack copy made by the last unw_capture (patches applied):
 * 0, or -ENOENT when addr is outside the copy. */
int unw_peek(const struct unwinder *u, uint64_t addr, uint64_t *out);

/* MEMTRACK_UNWIND_CHECK=1: every fast walk is redone by libdwfl.  Returns
 * how many differed, the first described into buf (when buf is not NULL
 * and empty). */
uint64_t unw_check_mismatches(const struct unwinder *u, char *buf, size_t size);

#endif
