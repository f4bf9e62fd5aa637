/*
 * log_reader.h - streams a memtrack log back (formats/FORMAT.md).
 *
 * log_reader_next() returns events one at a time in log order.  The records
 * that define what events refer to (strings, stack nodes, modules, symbols)
 * are absorbed into the reader's tables as they pass, so the reader's memory
 * grows with distinct stacks and symbols, never with events.  Symbols are
 * normally at the end of the log: they are complete once next() returned 0.
 *
 * Everything returned is borrowed from the reader and stays valid until
 * log_reader_close().
 */
#ifndef MEMTRACK_FORMATS_LOG_READER_H
#define MEMTRACK_FORMATS_LOG_READER_H

#include "log.h"

struct log_reader;

/* Opens path and checks its header.  On failure returns a negative errno and
 * writes a one-line reason (no trailing newline) into err[0..errlen). */
int log_reader_open(struct log_reader **out, const char *path, char *err, size_t errlen);

const struct mt_log_header *log_reader_header(const struct log_reader *r);

/* Reads the next event into *ev.  Returns 1 for an event, 0 at the end of the
 * log (complete or cut short: see log_reader_truncated), or a negative errno
 * when the log is corrupt (reason in log_reader_error). */
int log_reader_next(struct log_reader *r, struct mt_event *ev);

/* Reads up to n events into ev[0..n), as many calls of log_reader_next()
 * would, without a call per event; *got says how many.  Returns 1 when it
 * read n (more may follow), else what the call after the last event read
 * returned: 0 at the end of the log, or a negative errno. */
int log_reader_next_many(struct log_reader *r, struct mt_event *ev, size_t n, size_t *got);

/* Index of the event last returned by next() (0-based: "#N"). */
uint64_t log_reader_event_index(const struct log_reader *r);

/* Bytes of the log read so far in this pass (to tell how much is left). */
uint64_t log_reader_position(const struct log_reader *r);

/* Goes back to the first event, keeping the tables already built. */
int log_reader_rewind(struct log_reader *r);

/* Non-zero when the log ended without its trailer (tracer killed) or with a
 * partial last chunk; log_reader_error() then says what was cut. */
int log_reader_truncated(const struct log_reader *r);

/* The trailer, or NULL when the log has none (yet, or at all). */
const struct mt_log_trailer *log_reader_trailer(const struct log_reader *r);

/* Last error or truncation reason, "" if none. */
const char *log_reader_error(const struct log_reader *r);

/* String by id, NULL if undefined (id 0 is always NULL). */
const char *log_reader_string(const struct log_reader *r, uint32_t id);

/* A stack-trie node: its parent (0 at the root), its pc and address space.
 * Returns 0, or -ENOENT for an undefined id. */
int log_reader_stack_node(const struct log_reader *r, uint64_t id, uint64_t *parent,
			  uint64_t *pc, uint32_t *space);

/* Number of stack nodes defined so far (ids run from 1 to this). */
uint64_t log_reader_stack_count(const struct log_reader *r);

/* Symbol for (space, pc), or NULL if the log holds none for it. */
const struct mt_symbol *log_reader_symbol(const struct log_reader *r, uint32_t space, uint64_t pc);

/* Number of symbols absorbed so far. */
size_t log_reader_symbol_count(const struct log_reader *r);

/* Modules seen so far, in log order (ids 1..n). */
const struct mt_module *log_reader_modules(const struct log_reader *r, size_t *n);

void log_reader_close(struct log_reader *r);

#endif
