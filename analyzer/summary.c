/*
 * summary.c - `memtrack summary [--json]`: the whole run in numbers.  The
 * heap counts follow valgrind memcheck's "total heap usage" line (see
 * replay.h), so the two can be compared on the same program.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../formats/tracemalloc.h"
#include "input.h"
#include "replay.h"

struct run_end {
	int known;
	int64_t status; /* exit code, or 128 + signal */
	int signal;	/* 0 if it was not killed */
	uint64_t duration_ns;
};

/* How the first process ended: the trailer says, or else its exit event. */
static struct run_end run_end(const struct log_reader *r, int64_t exit_event_status,
			      uint64_t last_ns)
{
	const struct mt_log_trailer *t = log_reader_trailer(r);
	int64_t ws = t ? t->exit_status : exit_event_status;
	struct run_end e = {0};

	e.duration_ns = t ? t->duration_ns : last_ns;
	if (ws < 0)
		return e;
	if (WIFEXITED((int)ws)) {
		e.known = 1;
		e.status = WEXITSTATUS((int)ws);
	} else if (WIFSIGNALED((int)ws)) {
		e.known = 1;
		e.signal = WTERMSIG((int)ws);
		e.status = 128 + e.signal;
	}
	return e;
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c == '\r')
			fputs("\\r", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void command_line(FILE *out, const struct mt_log_header *h)
{
	for (uint32_t i = 0; i < h->argc; i++)
		fprintf(out, "%s%s", i ? " " : "", h->argv[i]);
}

/* One row of both layouts: the name, and whether it is a byte count. */
struct row {
	const char *name;
	uint64_t value;
	int bytes;
};

static void print_json(FILE *out, const struct log_reader *r, const struct row *rows, size_t nrows,
		       const struct run_end *e)
{
	const struct mt_log_header *h = log_reader_header(r);
	char *cmd = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&cmd, &len);

	if (m) {
		command_line(m, h);
		fclose(m);
	}
	fputs("{\n  \"command\": ", out);
	json_string(out, cmd ? cmd : "");
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
	fprintf(out, ",\n  \"truncated\": %s\n}\n", log_reader_truncated(r) ? "true" : "false");
	free(cmd);
}

static void print_text(FILE *out, const struct log_reader *r, const struct row *rows, size_t nrows,
		       const struct run_end *e)
{
	const struct mt_log_header *h = log_reader_header(r);
	char size[TM_SIZE_LEN];

	fputs("command: ", out);
	command_line(out, h);
	fprintf(out, "\npid: %" PRIu32 "\n", h->pid);
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
}

int an_summary(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct log_reader *r = NULL;
	struct replay rp;
	struct mt_event ev;
	int64_t exit_event_status = -1;
	uint64_t last_ns = 0;
	struct run_end e;
	int ret, warned;

	replay_init(&rp, AN_KIND_ALL);
	ret = input_open(&r, o->log, st);
	if (ret < 0)
		goto out;
	while ((ret = input_next(r, o->log, &ev, st)) > 0) {
		if (replay_event(&rp, &ev, log_reader_event_index(r)) < 0) {
			status_add(st, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		if (ev.type == MT_EV_PROC_EXIT && ev.pid == log_reader_header(r)->pid)
			exit_event_status = ev.status;
		last_ns = ev.time_ns;
	}
	if (ret < 0)
		goto out;
	warned = input_check_truncated(r, o->log, st);
	e = run_end(r, exit_event_status, last_ns);
	{
		const struct replay_counts *c = &rp.c;
		const struct row rows[] = {
			{"events", c->events, 0},
			{"allocs", c->allocs, 0},
			{"frees", c->frees, 0},
			{"bytes_allocated", c->bytes_allocated, 1},
			{"peak_bytes", c->heap_peak, 1},
			{"leaked_bytes", c->heap_live, 1},
			{"leaked_count", rp.heap.len, 0},
			{"unknown_frees", c->unknown_frees, 0},
			{"mmap_calls", c->mmap_calls, 0},
			{"munmap_calls", c->munmap_calls, 0},
			{"mremap_calls", c->mremap_calls, 0},
			{"brk_calls", c->brk_calls, 0},
			{"mmap_calls_in_allocator", c->mmap_calls_in_allocator, 0},
			{"mmap_peak_bytes", c->mmap_peak, 1},
			{"mmap_live_bytes", rp.maps.live, 1},
		};
		size_t nrows = sizeof(rows) / sizeof(rows[0]);

		if (o->json)
			print_json(out, r, rows, nrows, &e);
		else
			print_text(out, r, rows, nrows, &e);
	}
	if (ferror(out)) {
		status_add(st, "writing the report failed");
		ret = -EIO;
		goto out;
	}
	ret = warned;
out:
	replay_free(&rp);
	if (r)
		log_reader_close(r);
	return ret;
}
