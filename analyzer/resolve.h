/*
 * resolve.h - stacks into source frames for the reports.
 *
 * A stack id walks the log's stack trie (innermost pc first); each pc is
 * looked up in the log's symbol table, or, for a pc the log has no symbol
 * for, in a symbolizer over the log's modules; each symbol expands to its
 * frames, innermost inline level first.  Every distinct pc is resolved once.
 */
#ifndef MEMTRACK_ANALYZER_RESOLVE_H
#define MEMTRACK_ANALYZER_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "../formats/log_reader.h"

struct an_frame {
	/* What reports print: the source path relative to the compilation
	 * directory when the file lies under it, else the full path; for a
	 * frame without a file "MODULE(FUNCTION+0xOFF)" or "MODULE+0xOFF";
	 * "0xPC" in no known module; "<unknown>" for a missing stack. */
	const char *display;
	const char *file;	/* full source path, NULL if unknown */
	const char *comp_dir;	/* compilation directory, NULL if unknown */
	const char *function;	/* NULL if unknown */
	const char *module;	/* module path, NULL if in no known module */
	uint32_t module_id;	/* 0 if in no known module */
	uint64_t pc;		/* the address it was resolved from (0: none) */
	uint32_t line;		/* 0 if unknown */
	uint32_t flags;		/* MT_SYMF_* */
	/* Not 0 when this frame is inlined into the next one: both come from
	 * the same pc (one physical frame of the stack). */
	uint32_t inlined;
	/* Not 0 only on the pseudo-frame that ends a stack cut at --depth
	 * (display "[truncated]"): that depth.  It is never a site, never
	 * passes a filter, and a traceback prints it as a line of its own. */
	uint32_t cut;
};

/* A stack id with this bit set is the stack without it, cut at --depth (its
 * event carried MT_EVF_TRUNCATED): resolver_stack() ends it with the cut
 * pseudo-frame.  Trie ids never reach it. */
#define AN_STACK_CUT (UINT64_C(1) << 63)

struct resolver;

/* The reader must have been read to its end (modules and symbols in).
 * r stays owned by the caller and must outlive the resolver. */
int resolver_open(struct resolver **out, struct log_reader *r);
void resolver_close(struct resolver *res);

/*
 * The frames of a stack, innermost first, never empty (a stack the log
 * does not hold is one "<unknown>" frame); with AN_STACK_CUT, the last is
 * the cut pseudo-frame.  The array is valid until the
 * next call; the frames until resolver_close().  NULL when memory ran out.
 */
const struct an_frame *const *resolver_stack(struct resolver *res, uint64_t stack, size_t *n);

struct an_status;

/* When some pcs resolved so far stayed unnamed because their module's
 * file is gone or is another build than the one traced (a log cut short
 * before their symbols were written), says so in one line per reason and
 * returns 1; else 0. */
int resolver_note_unnamed(struct resolver *res, const char *log, struct an_status *st);

/*
 * Modules among those the resolved frames lie in that have no line
 * information; *example names one.  Returns how many, *total of how many.
 */
size_t resolver_modules_without_lines(struct resolver *res, size_t *total, const char **example);

#endif
