/*
 * record.c - the tracer's side of the log: the writer is opened before the
 * first event and closed after the last, with the symbol table and the
 * trailer in between.
 *
 * The symbol table: every distinct pc the stacks hold is resolved once, by
 * the symbolizer, after the traced processes are gone (nothing of it is on
 * the hot path), and appended, so that the log can be read where the
 * binaries are not.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../formats/log_writer.h"
#include "../symbolizer/symbolizer.h"
#include "trace.h"

uint64_t trace_now(const struct tracer *tr)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - tr->t0;
}

void trace_event_at(struct tracer *tr, struct mt_event *ev, uint64_t at)
{
	/* a ring record's time is the TSC's, a stop's the clock's: the two
	 * may disagree by a hair, the log's order may not */
	if (at < tr->last_time)
		at = tr->last_time;
	tr->last_time = at;
	ev->time_ns = at;
	log_writer_event(tr->w, ev);
}

void trace_event(struct tracer *tr, struct mt_event *ev)
{
	trace_event_at(tr, ev, trace_now(tr));
}

void unwind_check_mismatch(struct tracer *tr, const uint64_t *a, size_t na, const uint64_t *b,
			   size_t nb)
{
	if (!tr->unwind_mismatches++) {
		int len = snprintf(tr->unwind_first_mismatch, sizeof(tr->unwind_first_mismatch),
				   "recorder %zu frames, tracer %zu:", na, nb);

		for (size_t i = 0; i < (na > nb ? na : nb) && len < (int)sizeof(tr->unwind_first_mismatch);
		     i++)
			len += snprintf(tr->unwind_first_mismatch + len,
					sizeof(tr->unwind_first_mismatch) - (size_t)len, " %#llx/%#llx",
					i < na ? (unsigned long long)a[i] : 0ull,
					i < nb ? (unsigned long long)b[i] : 0ull);
	}
}

void trace_proc_start(struct tracer *tr, struct tproc *p, pid_t ppid, unsigned cause)
{
	struct mt_event ev = {.type = MT_EV_PROC_START, .pid = (uint32_t)p->pid,
			      .tid = (uint32_t)p->pid, .space = p->space, .arg = (uint64_t)ppid,
			      .mflags = cause};

	trace_event(tr, &ev);
}

/* Arming problems do not stop the run: the program goes on, less is
 * recorded, and the user is told once. */
void trace_warn(struct tracer *tr, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!tr->opts.warn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tr->opts.warn(tr->opts.warn_arg, line);
}

void trace_report_error(struct tracer *tr, int err)
{
	if (err >= 0)
		return;
	trace_warn(tr, "%s", tr->error[0] ? tr->error : strerror(-err));
	tr->error[0] = 0;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int record_open(struct tracer *tr, const char *logpath, struct mt_log_header *h,
		struct tracer_result *res)
{
	struct timespec now;
	int err;

	clock_gettime(CLOCK_REALTIME, &now);
	tr->record_start = monotonic_ns();
	h->start_realtime_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	err = log_writer_open(&tr->w, logpath, h);
	if (err < 0)
		snprintf(res->error, sizeof(res->error), "cannot write %s: %s", logpath,
			 strerror(-err));
	return err;
}

struct symtab_ctx {
	struct symbolizer *sym;
	struct log_writer *w;
	int err;
};

static int add_symbol(void *arg, uint32_t space, uint64_t pc)
{
	struct symtab_ctx *ctx = arg;
	struct mt_symbol s;
	int err = sym_resolve(ctx->sym, space, pc, &s);

	if (err < 0)
		return 0;	/* unresolvable pcs simply get no symbol */
	err = log_writer_symbol(ctx->w, &s);
	if (err < 0) {
		ctx->err = err;
		return 1;
	}
	return 0;
}

/* Resolves every distinct pc once and appends the symbol table. */
static int write_symbols(struct log_writer *w)
{
	struct symtab_ctx ctx = {.w = w};
	const struct mt_module *mods;
	size_t nmods;
	int err = sym_open(&ctx.sym);

	if (err < 0)
		return err;
	mods = log_writer_modules(w, &nmods);
	for (size_t i = 0; i < nmods; i++)
		sym_add_module(ctx.sym, &mods[i]);
	for (size_t i = 0, n = log_writer_pc_count(w); i < n && !ctx.err; i++) {
		uint32_t space;
		uint64_t pc;

		if (log_writer_pc(w, i, &space, &pc) == 0 && add_symbol(&ctx, space, pc))
			break;
	}
	sym_close(ctx.sym);
	return ctx.err;
}

int record_close(struct tracer *tr, const char *logpath, struct tracer_result *res)
{
	struct mt_log_trailer trailer = {
		.exit_status = res->exit_status,
		.events = log_writer_events(tr->w),
		.flags = (res->tracer_signal ? MT_TRAILER_ABORTED : 0) |
			 (res->detached ? MT_TRAILER_DETACHED : 0),
	};
	int serr = write_symbols(tr->w), cerr;

	trailer.duration_ns = monotonic_ns() - tr->record_start;
	cerr = log_writer_close(tr->w, &trailer);
	tr->w = NULL;
	res->events = trailer.events;
	if (serr < 0 || cerr < 0) {
		int err = serr < 0 ? serr : cerr;

		snprintf(res->log_error, sizeof(res->log_error), "writing %s failed: %s", logpath,
			 strerror(-err));
		return err;
	}
	res->logged = 1;
	return 0;
}
