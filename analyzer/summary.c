/*
 * summary.c - `memtrack summary [--json]`: the whole run (or the run up to
 * --at) in numbers.  The heap counts follow valgrind memcheck's "total heap
 * usage" line (see replay.h), so the two can be compared on the same
 * program.  Then the marks that were hit, and, for a log of several
 * processes, each process on its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../formats/export.h"
#include "../formats/tracemalloc.h"
#include "input.h"
#include "report.h"
#include "snapshot.h"

#define COMMAND_MAX 4096

struct run_end {
	int known;
	int64_t status; /* exit code, or 128 + signal */
	int signal;	/* 0 if it was not killed */
	uint64_t duration_ns;
};

/* A wait status in the words of a shell. */
static struct run_end wait_status(int64_t ws)
{
	struct run_end e = {0};

	e.status = mt_exit_code(ws);
	e.known = e.status >= 0;
	if (ws >= 0 && WIFSIGNALED((int)ws))
		e.signal = WTERMSIG((int)ws);
	return e;
}

/* How the first process ended: the trailer says, or else its exit event. */
static struct run_end run_end(const struct log_reader *r, int64_t exit_event_status,
			      uint64_t last_ns)
{
	const struct mt_log_trailer *t = log_reader_trailer(r);
	struct run_end e = wait_status(t ? t->exit_status : exit_event_status);

	e.duration_ns = t ? t->duration_ns : last_ns;
	return e;
}

/* One --mark: its hits among the events summed up. */
struct mark_info {
	uint32_t path; /* its location text */
	uint64_t hits;
	uint64_t first; /* the mark:N of its first hit */
	uint64_t first_ns;
};

HASH_DEFINE(mark_table, uint64_t, struct mark_info, table_hash_u64, table_eq_u64)

struct observed {
	const struct log_reader *r;
	int64_t exit_status; /* the first process's exit event */
	struct mark_table marks; /* --mark index -> struct mark_info */
};

static int observe(void *arg, const struct replay *rp, const struct mt_event *ev, uint64_t index)
{
	struct observed *ob = arg;
	struct mark_info *m;
	int created;

	if (ev->type == MT_EV_PROC_EXIT && ev->pid == log_reader_header(ob->r)->pid)
		ob->exit_status = ev->status;
	if (ev->type != MT_EV_MARK || !rp->last_selected)
		return 0;
	m = mark_table_put(&ob->marks, ev->arg, &created);
	if (!m)
		return -ENOMEM;
	if (created) {
		m->path = ev->path;
		m->first = rp->c.marks;
		m->first_ns = ev->time_ns;
	}
	m->hits++;
	return 0;
}


/* One row of both layouts: the name, and whether it is a byte count. */
struct row {
	const char *name;
	uint64_t value;
	int bytes;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The marks in --mark order; those never hit are not listed. */
static size_t sorted_marks(const struct observed *ob, uint64_t **keys)
{
	size_t n = 0, i = 0;
	uint64_t k;

	*keys = malloc((ob->marks.len ? ob->marks.len : 1) * sizeof(**keys));
	if (!*keys)
		return 0;
	while (mark_table_next(&ob->marks, &i, &k, NULL))
		(*keys)[n++] = k;
	qsort(*keys, n, sizeof(**keys), cmp_u64);
	return n;
}

/* The command a process runs: the log's after its first image, its
 * parent's when it forked without exec, else the first module of its
 * address space (the executable, as the tracer records them in address
 * order): its own space's, if the parent has exec'd since. */
static const char *proc_command(const struct log_reader *r, const struct replay *rp, uint32_t pid,
				char *buf, size_t len)
{
	const struct proc_state *p = proc_table_get(&rp->procs, pid);
	const struct mt_module *mods;
	uint32_t own = p ? p->space : 0;
	size_t nmods;

	for (int depth = 0; p && depth < 64; depth++) {
		if (pid == rp->root && p->execs <= 1)
			return report_command(r, buf, len);
		if (p->execs)
			break;
		pid = p->parent;
		p = proc_table_get(&rp->procs, pid);
	}
	if (!p)
		return "?";
	mods = log_reader_modules(r, &nmods);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < nmods; i++)
			if (mods[i].space == (pass ? p->space : own) && mods[i].path)
				return mods[i].path;
	return "?";
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The chosen processes, by pid. */
static size_t sorted_procs(const struct replay *rp, uint32_t **pids)
{
	size_t n = 0, i = 0;
	uint64_t pid;

	*pids = malloc((rp->procs.len ? rp->procs.len : 1) * sizeof(**pids));
	if (!*pids)
		return 0;
	while (proc_table_next(&rp->procs, &i, &pid, NULL))
		if (!rp->pid || rp->pid == pid)
			(*pids)[n++] = (uint32_t)pid;
	qsort(*pids, n, sizeof(**pids), cmp_u32);
	return n;
}

static void print_seconds(FILE *out, uint64_t ns)
{
	fprintf(out, "%" PRIu64 ".%06" PRIu64, ns / 1000000000u, ns % 1000000000u / 1000);
}

/* A power of two as IEC units give it exactly: "512 KiB", "16 EiB". */
static const char *power_text(unsigned log2, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

	snprintf(buf, len, "%llu %s", 1ull << (log2 % 10), units[log2 / 10]);
	return buf;
}

/* --histogram: the non-empty size classes, as text or JSON rows. */
static void print_histogram(FILE *out, const struct replay_counts *c, int json)
{
	size_t n = 0;

	fputs(json ? ",\n  \"histogram\": [" : "histogram (allocs by size class):\n", out);
	for (unsigned k = 0; k < 65; k++) {
		char from[32], to[32];

		if (!c->size_allocs[k])
			continue;
		if (json && k == 64)
			fprintf(out, "%s\n    {\"from\": %llu, \"to\": 18446744073709551616, ", n ? "," : "",
				1ull << 63);
		else if (json)
			fprintf(out, "%s\n    {\"from\": %llu, \"to\": %llu, ", n ? "," : "",
				k ? 1ull << (k - 1) : 0, 1ull << k);
		if (json) {
			fprintf(out, "\"allocs\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
				c->size_allocs[k], c->size_bytes[k]);
		} else {
			if (k)
				fprintf(out, "  [%s, %s)", power_text(k - 1, from, sizeof(from)),
					power_text(k, to, sizeof(to)));
			else
				fputs("  0 B", out);
			fprintf(out, ": %" PRIu64 " allocs, %" PRIu64 " bytes\n", c->size_allocs[k],
				c->size_bytes[k]);
		}
		n++;
	}
	if (json)
		fputs(n ? "\n  ]" : "]", out);
}

static void print_json(FILE *out, const struct log_reader *r, const struct replay *rp,
		       const struct observed *ob, const struct row *rows, size_t nrows,
		       const struct run_end *e, int histogram)
{
	const struct mt_log_header *h = log_reader_header(r);
	char cmd[COMMAND_MAX];
	uint64_t *marks;
	uint32_t *pids;
	size_t n;

	fputs("{\n  \"command\": ", out);
	ex_json_string(out, report_command(r, cmd, sizeof(cmd)));
	fprintf(out, ",\n  \"pid\": %" PRIu32, h->pid);
	for (size_t i = 0; i < nrows; i++)
		fprintf(out, ",\n  \"%s\": %" PRIu64, rows[i].name, rows[i].value);
	fprintf(out, ",\n  \"duration_s\": %.6f", (double)e->duration_ns / 1e9);
	if (e->known)
		fprintf(out, ",\n  \"exit_status\": %" PRId64, e->status);
	else
		fputs(",\n  \"exit_status\": null", out);
	if (e->signal)
		fprintf(out, ",\n  \"exit_signal\": %d", e->signal);
	else
		fputs(",\n  \"exit_signal\": null", out);
	fprintf(out, ",\n  \"truncated\": %s", log_reader_truncated(r) ? "true" : "false");
	if (histogram)
		print_histogram(out, &rp->c, 1);

	fputs(",\n  \"marks\": [", out);
	n = sorted_marks(ob, &marks);
	for (size_t i = 0; i < n; i++) {
		const struct mark_info *m = mark_table_get(&ob->marks, marks[i]);
		const char *where = log_reader_string(r, m->path);

		fprintf(out, "%s\n    {\"mark\": %" PRIu64 ", \"location\": ", i ? "," : "",
			marks[i]);
		if (where)
			ex_json_string(out, where);
		else
			fputs("null", out);
		fprintf(out,
			", \"hits\": %" PRIu64 ", \"first\": \"mark:%" PRIu64 "\", \"first_s\": ",
			m->hits, m->first);
		print_seconds(out, m->first_ns);
		fputc('}', out);
	}
	free(marks);
	fputs(n ? "\n  ]" : "]", out);

	fputs(",\n  \"processes\": [", out);
	n = sorted_procs(rp, &pids);
	for (size_t i = 0; i < n; i++) {
		const struct proc_state *p = proc_table_get(&rp->procs, pids[i]);
		struct run_end pe = wait_status(p->exited ? p->status : -1);

		fprintf(out,
			"%s\n    {\"pid\": %" PRIu32 ", \"parent\": %" PRIu32 ", \"command\": ",
			i ? "," : "", pids[i], p->parent);
		ex_json_string(out, proc_command(r, rp, pids[i], cmd, sizeof(cmd)));
		fprintf(out,
			", \"allocs\": %" PRIu64 ", \"frees\": %" PRIu64
			", \"bytes_allocated\": %" PRIu64 ", \"exit_status\": ",
			p->allocs, p->frees, p->bytes_allocated);
		if (pe.known)
			fprintf(out, "%" PRId64 "}", pe.status);
		else
			fputs("null}", out);
	}
	free(pids);
	fputs(n ? "\n  ]\n}\n" : "]\n}\n", out);
}

static void print_text(FILE *out, const struct log_reader *r, const struct replay *rp,
		       const struct observed *ob, const struct row *rows, size_t nrows,
		       const struct run_end *e, int histogram)
{
	const struct mt_log_header *h = log_reader_header(r);
	char size[TM_SIZE_LEN], cmd[COMMAND_MAX];
	uint64_t *marks;
	uint32_t *pids;
	size_t n;

	fprintf(out, "command: %s\npid: %" PRIu32 "\n", report_command(r, cmd, sizeof(cmd)),
		h->pid);
	for (size_t i = 0; i < nrows; i++) {
		fprintf(out, "%s: %" PRIu64, rows[i].name, rows[i].value);
		if (rows[i].bytes && rows[i].value >= 1024)
			fprintf(out, " (%s)", tm_format_size(size, (double)rows[i].value, 0));
		fputc('\n', out);
	}
	fprintf(out, "duration_s: %.6f\n", (double)e->duration_ns / 1e9);
	if (!e->known)
		fputs("exit_status: unknown\n", out);
	else if (e->signal && sigabbrev_np(e->signal))
		fprintf(out, "exit_status: %" PRId64 " (killed by SIG%s)\n", e->status,
			sigabbrev_np(e->signal));
	else if (e->signal)
		fprintf(out, "exit_status: %" PRId64 " (killed by signal %d)\n", e->status,
			e->signal);
	else
		fprintf(out, "exit_status: %" PRId64 "\n", e->status);
	fprintf(out, "truncated: %s\n", log_reader_truncated(r) ? "yes" : "no");
	if (histogram)
		print_histogram(out, &rp->c, 0);

	n = sorted_marks(ob, &marks);
	if (n)
		fputs("marks:\n", out);
	for (size_t i = 0; i < n; i++) {
		const struct mark_info *m = mark_table_get(&ob->marks, marks[i]);
		const char *where = log_reader_string(r, m->path);

		fprintf(out,
			"  mark %" PRIu64 " %s: %" PRIu64 " hit%s, the first (mark:%" PRIu64
			") at ",
			marks[i], where ? where : "?", m->hits, m->hits == 1 ? "" : "s", m->first);
		print_seconds(out, m->first_ns);
		fputs("s\n", out);
	}
	free(marks);

	n = sorted_procs(rp, &pids);
	if (n > 1)
		fputs("processes:\n", out);
	for (size_t i = 0; i < n && n > 1; i++) {
		const struct proc_state *p = proc_table_get(&rp->procs, pids[i]);
		struct run_end pe = wait_status(p->exited ? p->status : -1);

		fprintf(out, "  pid %" PRIu32, pids[i]);
		if (p->parent)
			fprintf(out, " (child of %" PRIu32 ")", p->parent);
		fprintf(out,
			": %s: %" PRIu64 " allocs, %" PRIu64 " frees, %" PRIu64 " bytes allocated",
			proc_command(r, rp, pids[i], cmd, sizeof(cmd)), p->allocs, p->frees,
			p->bytes_allocated);
		if (pe.known)
			fprintf(out, ", exit status %" PRId64, pe.status);
		fputc('\n', out);
	}
	free(pids);
}

int an_summary(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct observed ob = {.exit_status = -1};
	struct snapshot_opts so = {
		.kind = AN_KIND_ALL, .pid = o->pid, .observe = observe, .arg = &ob};
	struct log_reader *r = NULL;
	struct snapshot_point pt;
	struct replay rp;
	struct run_end e;
	int ret, warned;

	replay_init(&rp, AN_KIND_ALL);
	mark_table_init(&ob.marks);
	ret = input_open(&r, o->log, st);
	if (ret < 0)
		goto out;
	input_watch(r, o->log, o);
	ob.r = r;
	replay_free(&rp);
	ret = snapshot_replay(&rp, r, o->log, &o->at, &so, &pt, st);
	if (ret < 0)
		goto out;
	warned = input_check_truncated(r, o->log, st);
	e = run_end(r, ob.exit_status, pt.end_ns);
	{
		const struct replay_counts *c = &rp.c;
		uint64_t leaked = 0;
		struct row rows[] = {
			{"events", c->events, 0},
			{"allocs", c->allocs, 0},
			{"frees", c->frees, 0},
			{"bytes_allocated", c->bytes_allocated, 1},
			{"peak_bytes", c->heap_peak, 1},
			{"leaked_bytes", c->heap_live, 1},
			{"leaked_count", 0, 0},
			{"unknown_frees", c->unknown_frees + rp.ndoubtful, 0},
			{"teardown_frees", c->teardown_frees, 0},
			{"preexisting_frees", c->preexisting_frees, 0},
			{"temporaries", c->temporaries, 0},
			{"temporary_bytes", c->temporary_bytes, 1},
			{"mmap_calls", c->mmap_calls, 0},
			{"munmap_calls", c->munmap_calls, 0},
			{"mremap_calls", c->mremap_calls, 0},
			{"brk_calls", c->brk_calls, 0},
			{"mmap_calls_in_allocator", c->mmap_calls_in_allocator, 0},
			{"mmap_peak_bytes", c->mmap_peak, 1},
			{"mmap_live_bytes", rp.mapped.anon + rp.mapped.file, 1},
			{"rss_samples", c->rss_samples, 0},
			{"rss_peak_bytes", c->rss_peak, 1},
			{"mark_hits", c->marks, 0},
		};
		size_t nrows = sizeof(rows) / sizeof(rows[0]);

		for (uint32_t i = 0; i < rp.nlots; i++)
			if (rp.lots[i].kind == AN_KIND_HEAP &&
			    replay_space_selected(&rp, rp.lots[i].space))
				leaked += rp.lots[i].now.live;
		rows[6].value = leaked;
		if (o->json)
			print_json(out, r, &rp, &ob, rows, nrows, &e, o->histogram);
		else
			print_text(out, r, &rp, &ob, rows, nrows, &e, o->histogram);
	}
	if (ferror(out)) {
		status_add(st, "writing the report failed");
		ret = -EIO;
		goto out;
	}
	ret = warned;
out:
	mark_table_free(&ob.marks);
	replay_free(&rp);
	if (r) {
		input_unwatch(r);
		log_reader_close(r);
	}
	return ret;
}
