/*
 * record.c - the tracer's side of the log: the writer is opened before the
 * first event and closed after the last, with the trailer.
 *
 * The symbol table is written as the run goes, so that a log cut short
 * (memtrack killed) names what it holds, and can be read where the
 * binaries are not: each distinct pc the stacks hold is resolved once, by
 * a symbolizer on a thread of its own (at a lower priority, off the path
 * of every stop and of the drainer), and written at the next flush.  The
 * writer is only touched by the thread that holds the tracer; the symbol
 * thread sees copies of the modules and pcs, and hands back symbols whose
 * strings its symbolizer owns until the log is closed.
 *
 * Progress: the writer's event count and the log's size on disk, handed to
 * opts.progress from the timer's tick, a few times a second.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../formats/log_writer.h"
#include "../symbolizer/symbolizer.h"
#include "trace.h"

/* How often new pcs go to the symbol thread, and symbols come back: the
 * log itself is flushed every second. */
#define SYMBOL_POLL_NS 100000000u
#define FLUSH_NS       1000000000u
/* ... and sooner when a chunk has grown, so that closing the log (which
 * compresses what is left) takes a few ms, not tens: at most every 100 ms,
 * which costs a long run a few bytes a second. */
#define EARLY_FLUSH_NS	  100000000u
#define EARLY_FLUSH_BYTES (128u << 10)

struct pc_ref {
	uint64_t pc;
	uint32_t space;
};

struct symq {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int quit;

	/* Under lock: to the thread, modules (copies, their paths its own) and
	 * pcs; from it, symbols and whether it is resolving. */
	struct mt_module *mods;
	size_t nmods, mods_cap;
	struct pc_ref *pcs;
	size_t npcs, pcs_cap;
	struct mt_symbol *out;
	size_t nout, out_cap;
	int busy;

	struct symbolizer *sym; /* the thread's */
	int err;		/* the first failure to write a symbol */

	/* The writer's side: what was handed over so far. */
	size_t mods_sent, pcs_sent;
	uint64_t last_poll, last_flush;
};

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


static int by_pc(const void *a, const void *b)
{
	const struct pc_ref *x = a, *y = b;

	if (x->space != y->space)
		return x->space < y->space ? -1 : 1;
	return (x->pc > y->pc) - (x->pc < y->pc);
}

/* Grows *v (of *cap elements of size each) to hold n; 0 or -ENOMEM. */
static int room(void **v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *p;

	if (n <= *cap)
		return 0;
	while (c < n)
		c *= 2;
	p = realloc(*v, c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/*
 * The symbol thread: takes what was handed over, resolves each pc once
 * (sorted, so that a batch's symbols lie near each other in the log), and
 * hands the symbols back.  A pc that cannot be resolved gets no symbol.
 */
static void *symbol_thread(void *arg)
{
	struct symq *q = arg;
	struct mt_module *mods = NULL;
	struct pc_ref *pcs = NULL;
	size_t nmods, npcs, mods_cap = 0, pcs_cap = 0;

	/* below the program and the drainer: the symbols can wait */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->quit && !q->nmods && !q->npcs)
			pthread_cond_wait(&q->wake, &q->lock);
		if (!q->nmods && !q->npcs)
			break; /* quit, and nothing left */
		/* swap the queues with the thread's empty ones */
		{
			struct mt_module *m = mods;
			struct pc_ref *p = pcs;
			size_t mc = mods_cap, pc = pcs_cap;

			mods = q->mods;
			mods_cap = q->mods_cap;
			nmods = q->nmods;
			pcs = q->pcs;
			pcs_cap = q->pcs_cap;
			npcs = q->npcs;
			q->mods = m;
			q->mods_cap = mc;
			q->pcs = p;
			q->pcs_cap = pc;
			q->nmods = q->npcs = 0;
		}
		q->busy = 1;
		pthread_mutex_unlock(&q->lock);

		for (size_t i = 0; i < nmods; i++) {
			sym_add_module(q->sym, &mods[i]);
			free((char *)mods[i].path);
		}
		if (npcs) /* pcs is NULL before the first */
			qsort(pcs, npcs, sizeof(*pcs), by_pc);
		for (size_t i = 0; i < npcs; i++) {
			struct mt_symbol s;

			if (sym_resolve(q->sym, pcs[i].space, pcs[i].pc, &s) < 0)
				continue;
			pthread_mutex_lock(&q->lock);
			if (room((void **)&q->out, &q->out_cap, q->nout + 1, sizeof(*q->out)) == 0)
				q->out[q->nout++] = s;
			pthread_mutex_unlock(&q->lock);
		}
		pthread_mutex_lock(&q->lock);
		q->busy = 0;
		pthread_cond_broadcast(&q->wake);
	}
	pthread_mutex_unlock(&q->lock);
	free(mods);
	free(pcs);
	return NULL;
}

/* Hands the new modules and pcs of the log to the symbol thread. */
static void symbols_send(struct tracer *tr, struct symq *q)
{
	const struct mt_module *mods;
	size_t nmods, npcs = log_writer_pc_count(tr->w);

	mods = log_writer_modules(tr->w, &nmods);
	if (nmods == q->mods_sent && npcs == q->pcs_sent)
		return;
	pthread_mutex_lock(&q->lock);
	if (room((void **)&q->mods, &q->mods_cap, q->nmods + nmods - q->mods_sent,
		 sizeof(*q->mods)) ||
	    room((void **)&q->pcs, &q->pcs_cap, q->npcs + npcs - q->pcs_sent, sizeof(*q->pcs))) {
		pthread_mutex_unlock(&q->lock);
		return; /* out of memory: tried again next time */
	}
	/* the modules first: a pc's module came before the pc */
	for (; q->mods_sent < nmods; q->mods_sent++) {
		struct mt_module m = mods[q->mods_sent];

		m.path = m.path ? strdup(m.path) : NULL;
		q->mods[q->nmods++] = m;
	}
	for (; q->pcs_sent < npcs; q->pcs_sent++) {
		struct pc_ref *r = &q->pcs[q->npcs++];

		log_writer_pc(tr->w, q->pcs_sent, &r->space, &r->pc);
	}
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

/* Writes the symbols the thread has made so far. */
static void symbols_write(struct tracer *tr, struct symq *q)
{
	pthread_mutex_lock(&q->lock);
	for (size_t i = 0; i < q->nout; i++) {
		int err = log_writer_symbol(tr->w, &q->out[i]);

		if (err < 0 && !q->err)
			q->err = err;
	}
	q->nout = 0;
	pthread_mutex_unlock(&q->lock);
}

static void symq_free(struct symq *q)
{
	for (size_t i = 0; i < q->nmods; i++)
		free((char *)q->mods[i].path);
	free(q->mods);
	free(q->pcs);
	free(q->out);
	sym_close(q->sym);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* The symbol queue, its thread started. */
static struct symq *symq_open(void)
{
	struct symq *q = calloc(1, sizeof(*q));
	sigset_t all, old;
	int err;

	if (!q)
		return NULL;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	if (sym_open(&q->sym) < 0) {
		symq_free(q);
		return NULL;
	}
	/* memtrack's signals are the ptrace thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&q->thread, NULL, symbol_thread, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		symq_free(q);
		return NULL;
	}
	return q;
}

void record_poll(struct tracer *tr)
{
	struct symq *q = tr->symq;
	uint64_t now = trace_now(tr);

	if (q && now - q->last_poll >= SYMBOL_POLL_NS) {
		symbols_write(tr, q);
		symbols_send(tr, q);
		q->last_poll = now;
	}
	/* a tracer killed outright loses what its last chunk held: keep
	 * that to about a second of events */
	if (now - tr->last_flush >= FLUSH_NS ||
	    (now - tr->last_flush >= EARLY_FLUSH_NS &&
	     log_writer_pending(tr->w) >= EARLY_FLUSH_BYTES)) {
		log_writer_flush(tr->w);
		tr->last_flush = now;
	}
}

/* The last symbols: everything handed over, resolved and written. */
static int symbols_finish(struct tracer *tr)
{
	struct symq *q = tr->symq;
	int err;

	if (!q)
		return 0;
	symbols_send(tr, q);
	pthread_mutex_lock(&q->lock);
	q->quit = 1;
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	symbols_write(tr, q);
	err = q->err;
	symq_free(q);
	tr->symq = NULL;
	return err;
}

int record_open(struct tracer *tr, const char *logpath, struct mt_log_header *h,
		struct tracer_result *res)
{
	struct timespec now;
	int err;

	clock_gettime(CLOCK_REALTIME, &now);
	tr->record_start = monotonic_ns();
	tr->logpath = logpath;
	h->start_realtime_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	err = log_writer_open(&tr->w, logpath, h);
	if (err < 0) {
		snprintf(res->error, sizeof(res->error), "cannot write %s: %s", logpath,
			 strerror(-err));
		return err;
	}
	tr->symq = symq_open();
	if (tr->symq)
		cpumask_free_thread(tr, tr->symq->thread);
	if (!tr->symq) {
		snprintf(res->error, sizeof(res->error), "cannot start the symbol thread");
		log_writer_close(tr->w, NULL);
		tr->w = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* 25 ticks of the 10 ms timer: four times a second */
#define PROGRESS_TICKS 25

void record_progress(struct tracer *tr, int done)
{
	struct tracer_progress p = {.done = done};
	struct stat sb;

	if (!tr->opts.progress || !tr->w || (!done && ++tr->ticks < PROGRESS_TICKS))
		return;
	tr->ticks = 0;
	p.elapsed_ns = trace_now(tr);
	p.events = log_writer_events(tr->w);
	if (tr->logpath && stat(tr->logpath, &sb) == 0)
		p.log_bytes = (uint64_t)sb.st_size;
	tr->opts.progress(tr->opts.progress_arg, &p);
}

int record_close(struct tracer *tr, const char *logpath, struct tracer_result *res)
{
	struct mt_log_trailer trailer = {
		.exit_status = res->exit_status,
		.events = log_writer_events(tr->w),
		.flags = (res->tracer_signal ? MT_TRAILER_ABORTED : 0) |
			 (res->detached ? MT_TRAILER_DETACHED : 0),
	};
	int serr = symbols_finish(tr), cerr;

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
