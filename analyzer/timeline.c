/*
 * timeline.c - `memtrack timeline`: the memory of a run over time, as CSV
 * (--csv FILE) and as an SVG chart (--svg FILE), both from one replay; CSV
 * on the standard output when neither is asked for.  The moments listed
 * are series.h's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "report.h"
#include "series.h"

#define COMMAND_MAX 4096

int an_timeline(const struct an_opts *o, FILE *out, struct an_status *st)
{
	struct an_opts all = *o;
	struct log_reader *r = NULL;
	struct series_out outs[2] = {{0}};
	const char *paths[2] = {o->csv, o->svg};
	char command[COMMAND_MAX];
	struct ex_info info = {0};
	size_t n = 0;
	int ret;

	if (o->csv && o->svg && !strcmp(o->csv, o->svg)) {
		status_add(st, "--csv and --svg name the same file");
		return -EINVAL;
	}
	if (!o->csv && !o->svg)
		paths[0] = "-";
	all.kind = AN_KIND_ALL;
	ret = input_open(&r, o->log, st);
	if (ret < 0)
		return ret;
	input_watch(r, o->log, o);
	for (size_t i = 0; i < 2; i++) {
		const struct exporter *exp = ex_find(i ? "svg" : "timeline");

		if (!paths[i])
			continue;
		outs[n].exp = exp;
		outs[n].w.state = calloc(1, exp->state_size ? exp->state_size : 1);
		outs[n].w.out = output_open(paths[i], out, st);
		n++;
		if (!outs[n - 1].w.state || !outs[n - 1].w.out) {
			if (!outs[n - 1].w.state)
				status_add(st, "out of memory");
			ret = -EIO;
			goto out;
		}
	}
	info.command = report_command(r, command, sizeof(command));
	info.log = o->log;
	info.kind = "all";
	ret = series_run(r, &all, &info, outs, n, st);
	if (ret >= 0)
		ret = input_check_truncated(r, o->log, st);
out:
	for (size_t i = 0, k = 0; i < 2; i++) {
		if (!paths[i])
			continue;
		ret = output_close(outs[k].w.out, out, paths[i], ret, st);
		free(outs[k++].w.state);
	}
	input_unwatch(r);
	log_reader_close(r);
	return ret;
}
