/*
 * chart.c - draws a CSV table as an SVG chart with memtrack's chart code
 * (formats/svg.c), for the seed experiment's pictures:
 *
 *   chart TITLE SUBTITLE XLABEL < TABLE > CHART.svg
 *
 * The table's first column is x (a count), the others series in bytes.
 * Its header names each series as NAME|STYLE|COLOR, STYLE being points,
 * line, dashed or area; an empty cell is a point the series does not have.
 * A series with no value at all is left out.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/svg.h"

#define MAX_SERIES   8
#define MAX_POINTS   1024
#define LINE_MAX_LEN 4096

static double x[MAX_POINTS], y[MAX_SERIES][MAX_POINTS];
static char header[LINE_MAX_LEN];

/* The next comma-separated field of *s (NULL at the end); cut in place. */
static char *field(char **s)
{
	char *f = *s, *comma;

	if (!f)
		return NULL;
	comma = strchr(f, ',');
	if (comma)
		*comma = '\0';
	*s = comma ? comma + 1 : NULL;
	f[strcspn(f, "\r\n")] = '\0';
	return f;
}

static int style(const char *s, enum chart_style *out)
{
	static const struct {
		const char *name;
		enum chart_style style;
	} styles[] = {{"points", CHART_POINTS},
		      {"line", CHART_LINE},
		      {"dashed", CHART_DASHED},
		      {"area", CHART_AREA}};

	for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++)
		if (!strcmp(s, styles[i].name)) {
			*out = styles[i].style;
			return 0;
		}
	return -1;
}

int main(int argc, char **argv)
{
	struct chart_series series[MAX_SERIES];
	struct chart c = {0};
	char line[LINE_MAX_LEN], *s;
	size_t n = 0, ns = 0, kept = 0;

	if (argc != 4 || !fgets(header, sizeof(header), stdin)) {
		fprintf(stderr, "usage: chart TITLE SUBTITLE XLABEL < TABLE > CHART.svg\n");
		return 64;
	}
	s = header;
	field(&s); /* x */
	for (char *f; (f = field(&s)) && ns < MAX_SERIES; ns++) {
		char *name = strtok(f, "|"), *st = strtok(NULL, "|"), *color = strtok(NULL, "|");

		if (!name || !st || !color || style(st, &series[ns].style) < 0) {
			fprintf(stderr,
				"chart: bad series '%s': NAME|points|line|dashed|area|COLOR\n", f);
			return 64;
		}
		series[ns].name = name;
		series[ns].color = color;
	}
	while (n < MAX_POINTS && fgets(line, sizeof(line), stdin)) {
		s = line;
		x[n] = strtod(field(&s), NULL);
		for (size_t k = 0; k < ns; k++) {
			char *f = field(&s);

			y[k][n] = f && *f ? strtod(f, NULL) : NAN;
		}
		n++;
	}
	/* series without any value (no RSS in the logs) are left out */
	for (size_t k = 0; k < ns; k++) {
		int any = 0;

		for (size_t i = 0; i < n; i++)
			any |= !isnan(y[k][i]);
		if (!any)
			continue;
		series[kept] = series[k];
		series[kept++].y = y[k];
	}
	c.title = argv[1];
	c.subtitle = argv[2];
	c.x_label = argv[3];
	c.y_label = "memory";
	c.x_unit = CHART_NUMBER;
	c.y_unit = CHART_BYTES;
	c.x = x;
	c.npoints = n;
	c.series = series;
	c.nseries = kept;
	return svg_chart(stdout, &c) < 0 ? 1 : 0;
}
