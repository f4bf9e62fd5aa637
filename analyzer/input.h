/*
 * input.h - how the reports open and stream a log, and how they word what
 * went wrong: every message is one line in an_status, prefixed by the log's
 * path when it is about the log.
 */
#ifndef MEMTRACK_ANALYZER_INPUT_H
#define MEMTRACK_ANALYZER_INPUT_H

#include "../formats/log_reader.h"
#include "analyzer.h"

/* Appends one line to st->message (lines are separated by '\n'). */
void status_add(struct an_status *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Opens path; on failure st holds "PATH: reason".  The caller closes *r. */
int input_open(struct log_reader **r, const char *path, struct an_status *st);

/* Tells o->progress (if any) how far input_next() has read r, now and
 * then, and when it stopped (the end of a pass, or an error); until
 * input_unwatch(r).  Two logs at most are watched at once (diff). */
void input_watch(struct log_reader *r, const char *path, const struct an_opts *o);
void input_unwatch(const struct log_reader *r);

/* log_reader_next(), with a corrupt log worded into st. */
int input_next(struct log_reader *r, const char *path, struct mt_event *ev,
	       struct an_status *st);

/* log_reader_next_many(), the same way. */
int input_next_many(struct log_reader *r, const char *path, struct mt_event *ev, size_t n,
		    size_t *got, struct an_status *st);

/* Reads the rest of the log, so its symbol table is in; 0 or < 0. */
int input_drain(struct log_reader *r, const char *path, struct an_status *st);

/* After the log was read to its end: a warning when it was cut short.
 * Returns 1 when it warned, 0 when the log was whole. */
int input_check_truncated(struct log_reader *r, const char *path, struct an_status *st);

/* Where a report writes: the file at path, or out when path is NULL or
 * "-".  NULL, with the reason in st, when the file cannot be created. */
FILE *output_open(const char *path, FILE *out, struct an_status *st);

/* Closes what output_open() opened (not out); returns ret, or -EIO when
 * closing the file failed. */
int output_close(FILE *f, FILE *out, const char *path, int ret, struct an_status *st);

#endif
