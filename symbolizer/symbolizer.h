/*
 * symbolizer.h - what an address means in the source: function (demangled),
 * file, line and inline chain, through libdw.  Used once per distinct pc at
 * the end of a run, and by the analyzer for logs that lack a symbol table.
 *
 * The symbolizer never touches a process: it opens the module files by path
 * (checking the build-id when the log recorded one) and caches each.
 */
#ifndef MEMTRACK_SYMBOLIZER_H
#define MEMTRACK_SYMBOLIZER_H

#include "../formats/log.h"

struct symbolizer;

int sym_open(struct symbolizer **out);

/* Tells the symbolizer a module exists; m is copied. */
int sym_add_module(struct symbolizer *s, const struct mt_module *m);

/* Resolves (space, pc).  pc is a stack-node pc: an exact instruction address
 * for the innermost frame, return address minus one for callers.  Fills *out
 * (nframes may be 0 when only the module is known; module 0 when not even
 * that).  Strings are owned by the symbolizer until sym_close(). */
int sym_resolve(struct symbolizer *s, uint32_t space, uint64_t pc, struct mt_symbol *out);

/* Whether a module's file could be opened, and if not, why. */
enum sym_module_state {
	SYM_MODULE_UNKNOWN,    /* no module of that id */
	SYM_MODULE_OPEN,       /* opened: its symbols are known */
	SYM_MODULE_MISSING,    /* no file at its path any more */
	SYM_MODULE_CHANGED,    /* the file at its path has another build-id */
	SYM_MODULE_UNREADABLE, /* unreadable, or not ELF */
};

enum sym_module_state sym_module_state(struct symbolizer *s, uint32_t module_id);

/* Non-zero when a module has line information (DWARF found for it). */
int sym_module_has_lines(struct symbolizer *s, uint32_t module_id);

void sym_close(struct symbolizer *s);

#endif
