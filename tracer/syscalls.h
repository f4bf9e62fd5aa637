/*
 * syscalls.h - the mmap-family syscalls memtrack records: one table row per
 * syscall, and the seccomp filter that makes only those stop the tracee.
 */
#ifndef MEMTRACK_TRACER_SYSCALLS_H
#define MEMTRACK_TRACER_SYSCALLS_H

#include <stdint.h>

#include "../formats/log.h"

struct sc_desc {
	long nr;
	const char *name;
	const char *wrapper;	/* libc's function for it (attach hooks that) */
	/* Fills the event's type-specific fields from the arguments and the
	 * result (a raw kernel return: -4095..-1 is an errno). */
	void (*fill)(const uint64_t args[6], int64_t ret, struct mt_event *ev);
};

/* The table's rows, n of them. */
const struct sc_desc *sc_table_rows(size_t *n);

/* The row for syscall nr, or NULL if memtrack does not record it. */
const struct sc_desc *sc_find(long nr);

/* Installs the filter in the calling process (the child, between fork and
 * exec): the recorded syscalls return SECCOMP_RET_TRACE, and so does
 * sched_getaffinity and sched_setaffinity when `pinned` (the tracer shows
 * the program the mask it had, not the one CPU it is kept on, until it sets
 * one itself); all others run untouched.
 * 0 or a negative errno. */
int sc_install_filter(int pinned);


#endif
