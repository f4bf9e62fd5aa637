/*
 * when.c - parses the WHEN of --at, --from and --to:
 *   end | peak | <seconds>s | #<event-number> | mark:<n>
 * Seconds are decimal with up to nanosecond precision ("1.5s", "0.000250s");
 * they are converted without floating point so "0.1s" is exactly 100 ms.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "analyzer.h"
#include "when.h"

/* Digits only, at least one, fitting in a uint64_t. */
static int parse_u64(const char *s, const char *end, uint64_t *out)
{
	uint64_t v = 0;

	if (s == end)
		return -EINVAL;
	for (; s < end; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* "<int>[.<frac>]s" or ".<frac>s" -> nanoseconds; digits beyond the ninth
 * decimal are dropped (the log's clock has no finer grain). */
static int parse_seconds(const char *s, const char *end, uint64_t *ns)
{
	const char *dot = memchr(s, '.', (size_t)(end - s));
	uint64_t whole = 0, frac = 0;
	int digits = 0;

	if (!dot) {
		if (parse_u64(s, end, &whole) < 0)
			return -EINVAL;
	} else {
		if (dot + 1 == end || (dot > s && parse_u64(s, dot, &whole) < 0))
			return -EINVAL;
		for (const char *p = dot + 1; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			if (digits < 9) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				digits++;
			}
		}
	}
	for (; digits < 9; digits++)
		frac *= 10;
	if (whole > (UINT64_MAX - frac) / UINT64_C(1000000000))
		return -EINVAL;
	*ns = whole * UINT64_C(1000000000) + frac;
	return 0;
}

int an_when_parse(const char *text, struct an_when *out)
{
	size_t len = text ? strlen(text) : 0;
	struct an_when w = {AN_WHEN_END, 0};

	if (!len)
		return -EINVAL;
	if (!strcmp(text, "end")) {
		w.kind = AN_WHEN_END;
	} else if (!strcmp(text, "peak")) {
		w.kind = AN_WHEN_PEAK;
	} else if (text[0] == '#') {
		w.kind = AN_WHEN_EVENT;
		if (parse_u64(text + 1, text + len, &w.value) < 0)
			return -EINVAL;
	} else if (!strncmp(text, "mark:", 5)) {
		w.kind = AN_WHEN_MARK;
		if (parse_u64(text + 5, text + len, &w.value) < 0 || w.value == 0)
			return -EINVAL;
	} else if (text[len - 1] == 's') {
		w.kind = AN_WHEN_TIME;
		if (parse_seconds(text, text + len - 1, &w.value) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	*out = w;
	return 0;
}

/* The shortest decimal that reads back as the same time: "1.5s". */
static void seconds(char *buf, size_t len, uint64_t ns)
{
	char frac[16];
	int n = snprintf(frac, sizeof(frac), "%09" PRIu64, ns % UINT64_C(1000000000));

	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(buf, len, "%" PRIu64 "%s%ss", ns / UINT64_C(1000000000), n ? "." : "", frac);
}

const char *when_format(const struct an_when *w, char *buf, size_t len)
{
	switch (w->kind) {
	case AN_WHEN_END:
		snprintf(buf, len, "end");
		break;
	case AN_WHEN_PEAK:
		snprintf(buf, len, "peak");
		break;
	case AN_WHEN_TIME:
		seconds(buf, len, w->value);
		break;
	case AN_WHEN_EVENT:
		snprintf(buf, len, "#%" PRIu64, w->value);
		break;
	case AN_WHEN_MARK:
		snprintf(buf, len, "mark:%" PRIu64, w->value);
		break;
	}
	return buf;
}

const char *when_describe(const struct an_when *w, char *buf, size_t len)
{
	switch (w->kind) {
	case AN_WHEN_END:
		snprintf(buf, len, "at the end of the log");
		break;
	case AN_WHEN_PEAK:
		snprintf(buf, len, "at the peak");
		break;
	case AN_WHEN_TIME: {
		char s[48];

		snprintf(buf, len, "at %s", (seconds(s, sizeof(s), w->value), s));
		break;
	}
	case AN_WHEN_EVENT:
		snprintf(buf, len, "after #%" PRIu64, w->value);
		break;
	case AN_WHEN_MARK:
		snprintf(buf, len, "at mark:%" PRIu64, w->value);
		break;
	}
	return buf;
}
