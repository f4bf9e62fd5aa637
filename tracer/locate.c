/*
 * locate.c - resolving --mark locations.  A FUNCTION is an ELF symbol (any
 * binding: static functions are marks too).  A FILE:LINE is looked up in
 * the DWARF line tables (the file itself, or its separate debug file under
 * /usr/lib/debug/.build-id): among the rows of that line that begin a
 * statement, the lowest address inside each function instance is taken,
 * so that one execution of the line is one mark, like a debugger's
 * breakpoint on it.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../symbolizer/elf.h"
#include "locate.h"

/* Does the line table's full path name the file the user wrote? */
static int same_file(const char *full, const char *want)
{
	size_t lf = strlen(full), lw = strlen(want);

	if (!strcmp(full, want))
		return 1;
	return lf > lw && full[lf - lw - 1] == '/' && !strcmp(full + lf - lw, want);
}

/* The function instance (subprogram or inlined copy) holding addr. */
static Dwarf_Addr instance_of(Dwarf_Die *cudie, Dwarf_Addr addr)
{
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes(cudie, addr, &scopes);
	Dwarf_Addr entry = 0;

	for (int i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			if (dwarf_entrypc(&scopes[i], &entry) != 0)
				dwarf_lowpc(&scopes[i], &entry);
			break;
		}
	}
	free(scopes);
	return entry;
}

static int add_addr(uint64_t *addrs, size_t *n, size_t max, uint64_t *inst, uint64_t a,
		    uint64_t instance)
{
	for (size_t i = 0; i < *n; i++) {
		if (inst[i] == instance) {
			if (a < addrs[i])
				addrs[i] = a;
			return 0;
		}
	}
	if (*n == max)
		return -ENOSPC;
	addrs[*n] = a;
	inst[*n] = instance;
	(*n)++;
	return 0;
}

static int line_addrs(Dwarf *dw, const char *file, int line, uint64_t *addrs, size_t max)
{
	uint64_t inst[LOCATE_MAX];
	Dwarf_Off off = 0, next;
	size_t hsize, n = 0;

	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cudie;
		Dwarf_Lines *lines;
		size_t nlines;
		int prev_line = -1;

		if (!dwarf_offdie(dw, off + hsize, &cudie) ||
		    dwarf_getsrclines(&cudie, &lines, &nlines) != 0) {
			off = next;
			continue;
		}
		for (size_t i = 0; i < nlines; i++) {
			Dwarf_Line *l = dwarf_onesrcline(lines, i);
			const char *src = dwarf_linesrc(l, NULL, NULL);
			Dwarf_Addr a;
			bool stmt = false, end = false;
			int ln = 0;

			dwarf_lineno(l, &ln);
			dwarf_linebeginstatement(l, &stmt);
			dwarf_lineendsequence(l, &end);
			dwarf_lineaddr(l, &a);
			if (!end && stmt && ln == line && prev_line != line && src &&
			    same_file(src, file))
				add_addr(addrs, &n, max, inst, a, instance_of(&cudie, a));
			prev_line = end ? -1 : ln;
		}
		off = next;
	}
	return (int)n;
}

/* The DWARF of path: in the file, or in its separate debug file. */
static Dwarf *open_dwarf(struct elfinfo *e, const char *path, int *fd)
{
	uint8_t id[64];
	size_t n = elfinfo_build_id(e, id, sizeof(id));
	Dwarf *dw;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd >= 0) {
		dw = dwarf_begin(*fd, DWARF_C_READ);
		if (dw)
			return dw;
		close(*fd);
	}
	if (n >= 2 && n <= sizeof(id)) {
		char dbg[256];
		int len = snprintf(dbg, sizeof(dbg), "/usr/lib/debug/.build-id/%02x/", id[0]);

		for (size_t i = 1; i < n; i++)
			len += snprintf(dbg + len, sizeof(dbg) - (size_t)len, "%02x", id[i]);
		snprintf(dbg + len, sizeof(dbg) - (size_t)len, ".debug");
		*fd = open(dbg, O_RDONLY | O_CLOEXEC);
		if (*fd >= 0) {
			dw = dwarf_begin(*fd, DWARF_C_READ);
			if (dw)
				return dw;
			close(*fd);
		}
	}
	*fd = -1;
	return NULL;
}

int locate(struct elfinfo *e, const char *path, const char *location, uint64_t *addrs,
	   size_t max)
{
	const char *colon = strrchr(location, ':');
	char *endp;
	long line;

	if (!max)
		return 0;
	if (max > LOCATE_MAX)
		max = LOCATE_MAX;
	if (colon && colon[1] && (line = strtol(colon + 1, &endp, 10)) > 0 && !*endp) {
		char file[4096];
		int fd, n;
		Dwarf *dw;

		if ((size_t)(colon - location) >= sizeof(file))
			return -ENAMETOOLONG;
		memcpy(file, location, (size_t)(colon - location));
		file[colon - location] = 0;
		dw = open_dwarf(e, path, &fd);
		if (!dw)
			return 0;
		n = line_addrs(dw, file, (int)line, addrs, max);
		dwarf_end(dw);
		close(fd);
		return n;
	}
	uint64_t value, size;

	if (elfinfo_symbol_any(e, location, &value, &size) < 0)
		return 0;
	addrs[0] = value;
	return 1;
}
