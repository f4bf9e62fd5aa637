/*
 * marks.c - --mark LOCATION: a breakpoint at a function or at a source
 * line, placed in every module that has it, recording a MARK event with
 * its stack (and a resident-size sample) each time the program gets there.
 * A location that the program's executable and the libraries it started
 * with lack is said as it starts; one found in no module at all, at the end
 * of the run, unless said then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../formats/log_writer.h"
#include "../symbolizer/elf.h"
#include "locate.h"
#include "recorder/shared.h"
#include "trace.h"

int marks_arm(struct tracer *tr, struct tproc *p, struct tthread *t, const struct tmodule *m,
	      struct elfinfo *e)
{
	for (size_t i = 0; i < tr->opts.nmarks; i++) {
		uint64_t addrs[LOCATE_MAX];
		int n = locate(e, m->path, tr->opts.marks[i], addrs, LOCATE_MAX);

		for (int k = 0; k < n; k++) {
			struct bp nb = {.kind = BP_MARK, .fn = (uint32_t)i + 1,
					.addr = m->bias + addrs[k]};
			int err;

			if (nb.addr < m->start || nb.addr >= m->end || bp_table_get(&p->bps, nb.addr))
				continue;
			if (p->fast) {
				uint64_t start = 0, size = 0;

				/* a jump must not cover a branch target of its function */
				if (elfinfo_function_at(e, addrs[k], &start, &size) == 0)
					start += m->bias;
				if (size && fast_hook(tr, p, t, nb.addr, start, size, MTR_SITE_MARK,
						      nb.fn) == 0)
					goto placed;
			}
			if ((err = arm_place(tr, p, t, &nb, tr->opts.marks[i], m)) < 0)
				return err;
		placed:
			p->nmarks++;
			if (tr->mark_found)
				tr->mark_found[i] = MARK_PLACED;
		}
	}
	return 0;
}

void marks_hit(struct tracer *tr, struct tthread *t, const struct bp *bp,
	       const struct user_regs_struct *regs)
{
	struct tproc *p = t->proc;
	struct user_regs_struct at = *regs;
	struct mt_event ev = {.type = MT_EV_MARK, .pid = (uint32_t)p->pid,
			      .tid = (uint32_t)t->tid, .arg = bp->fn};

	if (!p->followed)
		return;
	at.rip = bp->addr;
	ev.stack = heap_capture(tr, t, &at, &ev.flags);
	ev.flags &= ~MT_EVF_IN_ALLOC;
	ev.path = log_writer_string(tr->w, tr->opts.marks[bp->fn - 1]);
	trace_event(tr, &ev);
	rss_sample(tr, p);
}

void marks_record(struct tracer *tr, struct tproc *p, pid_t tid, uint64_t addr, uint32_t mark,
		  const uint64_t *pcs, size_t n, int cut, uint64_t at)
{
	struct mt_event ev = {.type = MT_EV_MARK, .pid = (uint32_t)p->pid, .tid = (uint32_t)tid,
			      .arg = mark};
	size_t depth = tr->opts.depth;

	(void)addr;
	if (!p->followed || !mark || mark > tr->opts.nmarks)
		return;
	if (depth && n) {
		if (cut || n > depth)
			ev.flags |= MT_EVF_TRUNCATED;
		ev.stack = log_writer_stack(tr->w, p->symspace, pcs, n < depth ? n : depth);
	}
	ev.path = log_writer_string(tr->w, tr->opts.marks[mark - 1]);
	trace_event_at(tr, &ev, at);
	rss_sample(tr, p);
}

void marks_report_at_start(struct tracer *tr, struct tproc *p)
{
	char exe[64], path[4096];
	ssize_t n;

	if (tr->marks_said || !tr->mark_found || !p->followed)
		return;
	tr->marks_said = 1;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)p->pid);
	if ((n = readlink(exe, path, sizeof(path) - 1)) <= 0)
		n = 0;
	path[n] = 0;
	for (size_t i = 0; i < tr->opts.nmarks; i++)
		if (tr->mark_found[i] == MARK_NOWHERE) {
			trace_warn(tr, "--mark %s: no function or line of that name in %s or the "
				       "libraries it %s (a typo, or no debug information there?); "
				       "libraries it loads later are searched too",
				   tr->opts.marks[i], n ? path : "the program",
				   tr->attached ? "has loaded" : "started with");
			tr->mark_found[i] = MARK_SAID;
		}
}

void marks_report_missing(struct tracer *tr)
{
	for (size_t i = 0; tr->mark_found && i < tr->opts.nmarks; i++)
		if (tr->mark_found[i] == MARK_NOWHERE)
			trace_warn(tr, "--mark %s: no function or line of that name in the traced "
				       "code (a typo, or no debug information there?): no mark "
				       "recorded", tr->opts.marks[i]);
}
