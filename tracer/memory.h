/*
 * memory.h - reading and writing tracee memory.
 *
 * Reads go through process_vm_readv (one syscall for many bytes, never a
 * PEEKDATA per word); writes go through /proc/PID/mem, which, for a
 * tracer, may write read-only code pages (that is how breakpoints land).
 */
#ifndef MEMTRACK_TRACER_MEMORY_H
#define MEMTRACK_TRACER_MEMORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads up to len bytes at addr; returns how many were read (stops at the
 * first unreadable page), or a negative errno if none could be. */
ssize_t tmem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* Reads exactly len bytes; 0 or a negative errno. */
int tmem_read_all(pid_t pid, uint64_t addr, void *buf, size_t len);

/* Opens /proc/PID/mem for writing; returns an fd or a negative errno. */
int tmem_open(pid_t pid);

/* Writes exactly len bytes through a tmem_open() fd; 0 or a negative errno. */
int tmem_write(int memfd, uint64_t addr, const void *buf, size_t len);

#endif
