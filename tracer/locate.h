/*
 * locate.h - where a --mark LOCATION is in an ELF file: the entry of a
 * function, or the first instruction of a source line in each function
 * (and each inlined copy) that holds it.
 */
#ifndef MEMTRACK_TRACER_LOCATE_H
#define MEMTRACK_TRACER_LOCATE_H

#include <stddef.h>
#include <stdint.h>

struct elfinfo;

#define LOCATE_MAX 64	/* the most addresses one location has */

/* ELF addresses (before the load bias) of location in the file at path
 * (whose elfinfo is e), at most max of them.  Returns how many (0: not in
 * this file), or a negative errno.  max is at most LOCATE_MAX. */
int locate(struct elfinfo *e, const char *path, const char *location, uint64_t *addrs,
	   size_t max);

#endif
