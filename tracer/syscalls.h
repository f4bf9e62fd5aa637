/*
 * syscalls.h - the syscalls the tracer stops for: one table row each.  The
 * mmap family is recorded; sched_getaffinity and sched_setaffinity are
 * answered (while tracer and target share one CPU).  The seccomp filter
 * that makes exactly these stop the tracee is built from the same rows.
 */
#ifndef MEMTRACK_TRACER_SYSCALLS_H
#define MEMTRACK_TRACER_SYSCALLS_H

#include <stddef.h>
#include <stdint.h>

#include "../formats/log.h"

struct tracer;
struct tthread;

#define SC_RECORD 0x1u	/* its calls are events in the log */
#define SC_PINNED 0x2u	/* it stops only while the target is pinned */

struct sc_desc {
	long nr;
	const char *name;
	const char *wrapper;	/* libc's function for it (attach hooks that), or NULL */
	unsigned flags;		/* SC_* */
	/* SC_RECORD: fills the event's type-specific fields from the
	 * arguments and the result (a raw kernel return: -4095..-1 is an
	 * errno) */
	void (*fill)(const uint64_t args[6], int64_t ret, struct mt_event *ev);
	/* otherwise: what its exit does (the thread sits at the exit stop) */
	void (*done)(struct tracer *tr, struct tthread *t);
};

/* The table's rows, n of them. */
const struct sc_desc *sc_table_rows(size_t *n);

/* The row for syscall nr, or NULL if the tracer does not stop for it. */
const struct sc_desc *sc_find(long nr);

/* Installs the filter in the calling process (the child, between fork and
 * exec): the rows' syscalls return SECCOMP_RET_TRACE (the SC_PINNED ones
 * only when `pinned`); all others run untouched.  0 or a negative errno. */
int sc_install_filter(int pinned);

#endif
