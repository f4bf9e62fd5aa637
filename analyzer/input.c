/*
 * input.c - opening and streaming a log for the reports, with their error
 * and warning lines (see input.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

int input_next(struct log_reader *r, const char *path, struct mt_event *ev, struct an_status *st)
{
	int ret = log_reader_next(r, ev);

	if (ret < 0) {
		const char *why = log_reader_error(r);

		status_add(st, "%s: %s", path, why && why[0] ? why : strerror(-ret));
	}
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
