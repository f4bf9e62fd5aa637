/*
 * procmaps.h - a process's mappings, as /proc/PID/maps lists them.
 */
#ifndef MEMTRACK_TRACER_PROCMAPS_H
#define MEMTRACK_TRACER_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PMAP_R 0x1u
#define PMAP_W 0x2u
#define PMAP_X 0x4u

struct pmap {
	uint64_t start, end;
	uint64_t offset;
	uint64_t dev, ino;
	unsigned prot;		/* PMAP_* */
	char *path;		/* NULL for anonymous mappings; "[stack]" etc. kept */
};

struct pmaps {
	struct pmap *v;
	size_t n;
};

/* Reads /proc/PID/maps into *out (sorted by address, as the kernel lists
 * them); 0 or a negative errno.  Free with pmaps_free(). */
int pmaps_read(pid_t pid, struct pmaps *out);
void pmaps_free(struct pmaps *m);

/* The lowest unmapped gap of at least len bytes within [lo, hi), searching
 * outward from near; returns its address or 0. */
uint64_t pmaps_find_gap(const struct pmaps *m, uint64_t near, uint64_t len, uint64_t lo,
			uint64_t hi);

#endif
