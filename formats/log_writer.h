/*
 * log_writer.h - appends a memtrack log (formats/FORMAT.md).
 *
 * The tracer feeds events as they happen; the writer interns strings and
 * stacks (a trie: node = parent node + pc, so a stack is one number), codes
 * times in the header's unit, heap addresses against the blocks live so
 * far and the rest as small deltas, and compresses the records as one zstd
 * stream cut into checksummed chunks.  It lists every distinct (space, pc)
 * its stacks hold, in the order they appeared, so that the caller can add
 * their symbols as the run goes.
 *
 * Errors are sticky: after the first failed write every call returns the
 * same negative errno and writes nothing more.  All functions return 0 or a
 * negative errno unless said otherwise.
 */
#ifndef MEMTRACK_FORMATS_LOG_WRITER_H
#define MEMTRACK_FORMATS_LOG_WRITER_H

#include "log.h"

struct log_writer;

/* Creates (or truncates) path and writes the header.  *out owns the file. */
int log_writer_open(struct log_writer **out, const char *path, const struct mt_log_header *h);

/* Appends one event; time_ns must not go backwards.  It is stored in the
 * header's tick_ns, rounded down. */
int log_writer_event(struct log_writer *w, const struct mt_event *ev);

/* Interned string id (>= 1) for s, defining it in the log on first use.
 * Returns 0 for NULL or on error (see log_writer_error). */
uint32_t log_writer_string(struct log_writer *w, const char *s);

/* Interned stack id for pcs[0..n) in address space `space`, innermost frame
 * first.  Defines missing trie nodes.  Returns 0 when n == 0 or on error. */
uint64_t log_writer_stack(struct log_writer *w, uint32_t space, const uint64_t *pcs, size_t n);

/* Records a module mapping; assigns and returns m->id (>= 1), 0 on error. */
uint32_t log_writer_module(struct log_writer *w, struct mt_module *m);

/* Records that module `id` was unmapped at time_ns (rounded down to a tick). */
int log_writer_module_gone(struct log_writer *w, uint32_t id, uint64_t time_ns);

/* Records what one pc means (once per distinct pc, as the run goes). */
int log_writer_symbol(struct log_writer *w, const struct mt_symbol *s);

/* The distinct (space, pc) pairs the stacks hold so far: there are
 * log_writer_pc_count() of them, and the i-th to appear is (*space, *pc).
 * Returns 0, or -ENOENT past the end. */
size_t log_writer_pc_count(const struct log_writer *w);
int log_writer_pc(const struct log_writer *w, size_t i, uint32_t *space, uint64_t *pc);

/* Modules recorded so far (borrowed until close). */
const struct mt_module *log_writer_modules(const struct log_writer *w, size_t *n);

/* Events written so far. */
uint64_t log_writer_events(const struct log_writer *w);

/* Bytes of records in the chunk being filled (not yet compressed). */
size_t log_writer_pending(const struct log_writer *w);

/* Ends the current chunk and writes it out, so a crash loses nothing
 * before this point. */
int log_writer_flush(struct log_writer *w);

/* The sticky error, 0 if none. */
int log_writer_error(const struct log_writer *w);

/* Writes the trailer (unless t is NULL), flushes and closes; frees w. */
int log_writer_close(struct log_writer *w, const struct mt_log_trailer *t);

#endif
