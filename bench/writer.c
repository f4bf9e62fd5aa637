/*
 * writer.c - what the log writer costs per event: a log's events, with
 * their stacks as the tracer hands them over (pcs, innermost first), are
 * written again through formats/log_writer.c, and the time per event of
 * that alone (encoding, stack interning, compression, the write) is
 * printed.  The fast engine's drainer thread runs exactly this for every
 * record it drains, so it bounds the event rate memtrack keeps up with.
 *
 *   writer LOG [ROUNDS [OUT [TICK_NS]]]
 *     LOG     a memtrack log to replay (record it with --time-resolution 1ns
 *             so the times the writer sees are the tracer's own)
 *     ROUNDS  passes over the events (5); the median and the best are shown
 *     OUT     where the copies go (/dev/null)
 *     TICK_NS the copies' time unit (1000000: memtrack's default, 1 ms)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/log_reader.h"
#include "formats/log_writer.h"

struct stack {
	uint64_t id;
	uint32_t space;
	uint32_t n;
	uint64_t *pcs;
};

struct input {
	struct mt_event *events;
	size_t nevents, cap;
	struct stack *stacks; /* by stack id, filled lazily */
	uint64_t nstacks;
	const char **paths; /* an event's path string, by event index */
	struct log_reader *r;
};

static struct stack *stack_of(struct input *in, uint64_t id)
{
	struct stack *s = &in->stacks[id];
	uint64_t node = id, parent, pc;
	uint32_t n = 0;

	if (s->pcs)
		return s;
	for (node = id; node && log_reader_stack_node(in->r, node, &parent, &pc, &s->space) == 0;
	     node = parent)
		n++;
	s->pcs = malloc(n * sizeof(*s->pcs));
	if (!s->pcs)
		return NULL;
	n = 0;
	for (node = id; node && log_reader_stack_node(in->r, node, &parent, &pc, NULL) == 0;
	     node = parent)
		s->pcs[n++] = pc;
	s->n = n;
	return s;
}

static int load(struct input *in, const char *path)
{
	struct mt_event ev;
	char err[256];
	int rc = log_reader_open(&in->r, path, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "writer: %s: %s\n", path, err);
		return rc;
	}
	while ((rc = log_reader_next(in->r, &ev)) > 0) {
		if (in->nevents == in->cap) {
			in->cap = in->cap ? in->cap * 2 : 1 << 16;
			in->events = realloc(in->events, in->cap * sizeof(*in->events));
			in->paths = realloc(in->paths, in->cap * sizeof(*in->paths));
			if (!in->events || !in->paths)
				return -ENOMEM;
		}
		in->paths[in->nevents] = log_reader_string(in->r, ev.path);
		in->events[in->nevents++] = ev;
	}
	if (rc < 0) {
		fprintf(stderr, "writer: %s: %s\n", path, log_reader_error(in->r));
		return rc;
	}
	in->nstacks = log_reader_stack_count(in->r);
	in->stacks = calloc(in->nstacks + 1, sizeof(*in->stacks));
	if (!in->stacks)
		return -ENOMEM;
	for (size_t i = 0; i < in->nevents; i++)
		if (in->events[i].stack && !stack_of(in, in->events[i].stack))
			return -ENOMEM;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One pass: the modules, then every event as the tracer writes it. */
static int write_copy(struct input *in, const char *out, uint64_t tick, double *secs)
{
	struct mt_log_header h = *log_reader_header(in->r);
	const struct mt_module *mods;
	struct log_writer *w;
	size_t nmods;
	double t0;
	int rc;

	h.tick_ns = tick;
	rc = log_writer_open(&w, out, &h);

	if (rc < 0)
		return rc;
	mods = log_reader_modules(in->r, &nmods);
	for (size_t i = 0; i < nmods; i++) {
		struct mt_module m = mods[i];

		log_writer_module(w, &m);
	}
	t0 = now();
	for (size_t i = 0; i < in->nevents; i++) {
		struct mt_event ev = in->events[i];

		if (ev.stack) {
			const struct stack *s = &in->stacks[ev.stack];

			ev.stack = log_writer_stack(w, s->space, s->pcs, s->n);
		}
		if (ev.path)
			ev.path = log_writer_string(w, in->paths[i]);
		log_writer_event(w, &ev);
	}
	rc = log_writer_close(w, &(struct mt_log_trailer){.exit_status = -1});
	*secs = now() - t0;
	return rc;
}

/* The same pass without the writer: what reading the events back from
 * memory costs the benchmark itself, taken off the writer's figure. */
static double read_only(struct input *in)
{
	static volatile uint64_t sink __attribute__((unused));
	uint64_t sum = 0;
	double t0 = now();

	for (size_t i = 0; i < in->nevents; i++) {
		struct mt_event ev = in->events[i];

		if (ev.stack)
			sum += in->stacks[ev.stack].pcs[0];
		sum += ev.addr + ev.time_ns + (uintptr_t)in->paths[i];
	}
	sink = sum;
	return now() - t0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct input in = {0};
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	const char *out = argc > 3 ? argv[3] : "/dev/null";
	uint64_t tick = argc > 4 ? strtoull(argv[4], NULL, 10) : 1000000;
	double secs[64], idle[64];

	if (argc < 2 || rounds < 1 || rounds > 64 || tick < 1 || tick > MT_LOG_MAX_TICK) {
		fprintf(stderr, "usage: writer LOG [ROUNDS [OUT [TICK_NS]]]\n");
		return 64;
	}
	if (load(&in, argv[1]) < 0)
		return 2;
	if (!in.nevents) {
		fprintf(stderr, "writer: %s holds no event\n", argv[1]);
		return 2;
	}
	for (int i = 0; i < rounds; i++) {
		int rc = write_copy(&in, out, tick, &secs[i]);

		if (rc < 0) {
			fprintf(stderr, "writer: writing %s: %s\n", out, strerror(-rc));
			return 2;
		}
		idle[i] = read_only(&in);
	}
	qsort(secs, (size_t)rounds, sizeof(*secs), by_value);
	qsort(idle, (size_t)rounds, sizeof(*idle), by_value);
	printf("%zu events, %llu stack nodes: the writer takes %.1f ns per event (median of %d "
	       "rounds; best %.1f; reading the events back %.1f ns, taken off)\n",
	       in.nevents, (unsigned long long)in.nstacks,
	       (secs[rounds / 2] - idle[rounds / 2]) / in.nevents * 1e9, rounds,
	       (secs[0] - idle[0]) / in.nevents * 1e9, idle[rounds / 2] / in.nevents * 1e9);
	return 0;
}
