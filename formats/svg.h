/*
 * svg.h - a line chart as a self-contained SVG file, written by hand: a
 * title, axes with units and rounded ticks, series drawn as stacked areas,
 * lines or points, labelled vertical lines (marks; labels that would
 * overlap are staggered down their lines), one highlighted point
 * (the peak), and a legend.  Nothing but the FILE is needed to view it.
 *
 * Everything the chart points to is borrowed for the call.
 */
#ifndef MEMTRACK_FORMATS_SVG_H
#define MEMTRACK_FORMATS_SVG_H

#include <stddef.h>
#include <stdio.h>

/* How an axis's numbers read. */
enum chart_unit {
	CHART_NUMBER,	/* 1,000,000 */
	CHART_SECONDS,	/* 250 ms, 1.5 s */
	CHART_BYTES,	/* 512 KiB, 8 MiB (powers of 1024) */
};

enum chart_style {
	CHART_AREA,	/* filled, stacked on the areas before it */
	CHART_LINE,
	CHART_DASHED,
	CHART_POINTS,	/* a line through diamonds, as measured points read */
};

struct chart_series {
	const char *name;
	const char *color;	/* an SVG color: "#1f77b4" */
	enum chart_style style;
	const double *y;	/* one per point; NAN where the series has no value */
};

struct chart_vline {
	double x;
	const char *label;	/* NULL: a line without text */
};

struct chart {
	const char *title;
	const char *subtitle;		/* NULL for none */
	const char *x_label, *y_label;	/* the unit is added: "time (s)" */
	enum chart_unit x_unit, y_unit;
	int steps;			/* values hold until the next point (memory
					   over time), else straight segments */
	const double *x;		/* npoints, ascending */
	double x_end;			/* > 0: the x axis ends exactly there (the
					   end of a run), not at a round value */
	size_t npoints;
	const struct chart_series *series;
	size_t nseries;
	const struct chart_vline *vlines;
	size_t nvlines;
	const char *vline_name;		/* its legend entry, e.g. "mark" */
	int has_peak;
	double peak_x, peak_y;
	const char *peak_label;		/* "peak 7.6 MiB at 1.2 s", in the legend */
};

/* Writes the chart; 0, -EINVAL for a chart without points, or -EIO. */
int svg_chart(FILE *out, const struct chart *c);

/* A value in an axis's unit, the way the chart labels it ("7.6 MiB",
 * "250 ms"), into buf of len bytes; returns buf. */
const char *svg_format(char *buf, size_t len, double v, enum chart_unit unit);

#endif
