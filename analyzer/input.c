/*
 * input.c - opening and streaming a log for the reports, with their error
 * and warning lines (see input.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "input.h"

void status_add(struct an_status *st, const char *fmt, ...)
{
	size_t len = strlen(st->message);
	va_list ap;

	if (len && len + 1 < sizeof(st->message))
		st->message[len++] = '\n';
	if (len + 1 >= sizeof(st->message))
		return;
	va_start(ap, fmt);
	vsnprintf(st->message + len, sizeof(st->message) - len, fmt, ap);
	va_end(ap);
}

int input_open(struct log_reader **r, const char *path, struct an_status *st)
{
	char err[512] = "";
	int ret;

	if (!path) {
		status_add(st, "no log given");
		return -EINVAL;
	}
	ret = log_reader_open(r, path, err, sizeof(err));
	if (ret < 0) {
		*r = NULL;
		status_add(st, "%s: %s", path, err[0] ? err : strerror(-ret));
	}
	return ret;
}

/* The logs being watched: a report reads one or two. */
static struct watch {
	const struct log_reader *r;
	const char *path;
	uint64_t size;
	unsigned events;
	void (*progress)(void *arg, const char *log, uint64_t read, uint64_t size);
	void *arg;
} watches[2];

/* told every this many events: a few milliseconds of reading */
#define WATCH_EVENTS 16384

void input_watch(struct log_reader *r, const char *path, const struct an_opts *o)
{
	struct stat sb;

	if (!o->progress || stat(path, &sb) < 0)
		return;
	for (size_t i = 0; i < sizeof(watches) / sizeof(watches[0]); i++)
		if (!watches[i].r) {
			watches[i] = (struct watch){r, path, (uint64_t)sb.st_size, 0, o->progress,
						    o->progress_arg};
			return;
		}
}

void input_unwatch(const struct log_reader *r)
{
	for (size_t i = 0; i < sizeof(watches) / sizeof(watches[0]); i++)
		if (watches[i].r == r)
			memset(&watches[i], 0, sizeof(watches[i]));
}

/* n events were read (ret > 0), or the pass stopped (ret <= 0). */
static void watched(const struct log_reader *r, int ret, size_t n)
{
	for (size_t i = 0; i < sizeof(watches) / sizeof(watches[0]); i++) {
		struct watch *w = &watches[i];
		unsigned before = w->events;

		if (w->r != r)
			continue;
		w->events += (unsigned)n;
		if (ret <= 0)
			w->progress(w->arg, w->path, UINT64_MAX, w->size);
		else if (before / WATCH_EVENTS != w->events / WATCH_EVENTS)
			w->progress(w->arg, w->path, log_reader_position(r), w->size);
	}
}

static void failed(struct log_reader *r, const char *path, int ret, struct an_status *st)
{
	const char *why = log_reader_error(r);

	status_add(st, "%s: %s", path, why && why[0] ? why : strerror(-ret));
}

int input_next(struct log_reader *r, const char *path, struct mt_event *ev, struct an_status *st)
{
	int ret = log_reader_next(r, ev);

	if (watches[0].r || watches[1].r)
		watched(r, ret, 1);
	if (ret < 0)
		failed(r, path, ret, st);
	return ret;
}

int input_next_many(struct log_reader *r, const char *path, struct mt_event *ev, size_t n,
		    size_t *got, struct an_status *st)
{
	int ret = log_reader_next_many(r, ev, n, got);

	if (watches[0].r || watches[1].r) {
		if (*got)
			watched(r, 1, *got);
		if (ret <= 0)
			watched(r, ret, 0);
	}
	if (ret < 0)
		failed(r, path, ret, st);
	return ret;
}

int input_drain(struct log_reader *r, const char *path, struct an_status *st)
{
	struct mt_event ev;
	int ret;

	while ((ret = input_next(r, path, &ev, st)) > 0)
		;
	return ret;
}

int input_check_truncated(struct log_reader *r, const char *path, struct an_status *st)
{
	const char *why;

	if (!log_reader_truncated(r))
		return 0;
	why = log_reader_error(r);
	status_add(st, "%s: %s: the report covers what was read", path,
		   why && why[0] ? why : "the log is cut short");
	return 1;
}

FILE *output_open(const char *path, FILE *out, struct an_status *st)
{
	FILE *f;

	if (!path || !strcmp(path, "-"))
		return out;
	f = fopen(path, "w");
	if (!f)
		status_add(st, "cannot write %s: %s", path, strerror(errno));
	return f;
}

int output_close(FILE *f, FILE *out, const char *path, int ret, struct an_status *st)
{
	if (!f || f == out)
		return ret;
	if (fclose(f) != 0 && ret >= 0) {
		status_add(st, "writing %s failed: %s", path, strerror(errno));
		return -EIO;
	}
	return ret;
}
