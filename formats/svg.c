/*
 * svg.c - a line chart written as SVG text (see svg.h).
 *
 * The page is 960 x 540: the title on top, the plot on the left, the legend
 * to its right.  Axes start at 0 and end at a rounded value above the data
 * (the x axis, when the chart says where, at its x_end);
 * ticks fall on 1, 2, 2.5 or 5 times a power of ten of the axis's unit
 * (bytes in KiB, MiB or GiB; seconds in µs, ms or s), so every label is a
 * short round number.  Groups carry class names (series, axis, legend,
 * marks, peak) and series their name in data-name, so that scripts and
 * tests can find them.
 */
#include <errno.h>
#include <math.h> /* isnan, fabs: no libm needed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

#define WIDTH		    960
#define HEIGHT		    540
#define LEFT		    92
#define RIGHT		    (WIDTH - 230)
#define TOP		    70
#define BOTTOM		    (HEIGHT - 62)
#define MAX_LABELLED_VLINES 24
#define MAX_MARKERS	    200

#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

/* An axis: values are shown divided by `scale`, followed by `unit`. */
struct axis {
	double top;  /* the axis ends here (data units) */
	double step; /* between ticks (data units) */
	double scale;
	const char *unit;
	int decimals; /* of tick labels, in the scaled unit */
};

static void text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

/* The unit a value of this size reads best in. */
static void pick_unit(double max, enum chart_unit unit, double *scale, const char **name)
{
	static const char *const bytes[] = {"B", "KiB", "MiB", "GiB", "TiB"};

	*scale = 1;
	*name = "";
	switch (unit) {
	case CHART_BYTES:
		*name = bytes[0];
		for (int i = 1; i < 5 && max >= 1024 * *scale; i++) {
			*scale *= 1024;
			*name = bytes[i];
		}
		break;
	case CHART_SECONDS:
		if (max >= 1) {
			*name = "s";
		} else if (max >= 1e-3) {
			*scale = 1e-3;
			*name = "ms";
		} else {
			*scale = 1e-6;
			*name = "\xc2\xb5s";
		}
		break;
	case CHART_NUMBER:
		break;
	}
}

/* The power of ten at or below v > 0, without libm. */
static double decade(double v)
{
	double m = 1;

	while (m > v)
		m /= 10;
	while (m * 10 <= v)
		m *= 10;
	return m;
}

/* The smallest integer at or above v (|v| well inside a long long). */
static double ceiling(double v)
{
	long long i = (long long)v;

	return (double)(i < v ? i + 1 : i);
}

static int whole(double v)
{
	long long i = (long long)(v + (v < 0 ? -0.5 : 0.5));

	return fabs(v - (double)i) <= 1e-9;
}

/* The step between about five ticks, rounded to 1, 2, 2.5 or 5 x 10^e. */
static struct axis make_axis(double max, enum chart_unit unit)
{
	static const double nice[] = {1, 2, 2.5, 5, 10};
	struct axis a = {0};
	double raw, mag;

	if (!(max > 0))
		max = 1;
	pick_unit(max, unit, &a.scale, &a.unit);
	raw = max / a.scale / 5;
	mag = decade(raw);
	a.step = 10 * mag;
	for (size_t i = 0; i < sizeof(nice) / sizeof(nice[0]); i++)
		if (nice[i] * mag >= raw) {
			a.step = nice[i] * mag;
			break;
		}
	/* whole bytes and counts: no tick between two integers */
	if (unit != CHART_SECONDS && a.scale == 1 && a.step < 1)
		a.step = 1;
	a.decimals = 0;
	for (double s = a.step; a.decimals < 6 && !whole(s); s *= 10)
		a.decimals++;
	a.top = ceiling(max / a.scale / a.step - 1e-9) * a.step * a.scale;
	a.step *= a.scale;
	return a;
}

/* "1,234,567" */
static void thousands(char *buf, size_t len, double v)
{
	char digits[64];
	int n = snprintf(digits, sizeof(digits), "%.0f", fabs(v)), k = 0;
	size_t o = 0;

	if (v < 0 && o + 1 < len)
		buf[o++] = '-';
	for (int i = 0; i < n && o + 2 < len; i++) {
		buf[o++] = digits[i];
		k = n - i - 1;
		if (k && k % 3 == 0)
			buf[o++] = ',';
	}
	buf[o] = '\0';
}

static const char *tick_label(char *buf, size_t len, double v, const struct axis *a,
			      enum chart_unit unit)
{
	if (v == 0) {
		snprintf(buf, len, "0");
	} else if (unit == CHART_NUMBER && a->decimals == 0) {
		thousands(buf, len, v);
	} else {
		double scaled = v / a->scale, f = scaled;
		int d = 0, n;

		/* 2.5 ms, 5 ms: as few decimals as the value needs */
		while (d < a->decimals && !whole(f)) {
			f *= 10;
			d++;
		}
		n = snprintf(buf, len, "%.*f", d, scaled);

		if (*a->unit && n > 0 && (size_t)n < len)
			snprintf(buf + n, len - (size_t)n, " %s", a->unit);
	}
	return buf;
}

const char *svg_format(char *buf, size_t len, double v, enum chart_unit unit)
{
	double scale;
	const char *name;
	double s;

	if (unit == CHART_NUMBER) {
		thousands(buf, len, v);
		return buf;
	}
	pick_unit(fabs(v), unit, &scale, &name);
	s = v / scale;
	snprintf(buf, len,
		 fabs(s) < 10	 ? "%.2f %s"
		 : fabs(s) < 100 ? "%.1f %s"
				 : "%.0f %s",
		 s, name);
	return buf;
}

struct plot {
	const struct chart *c;
	struct axis x, y;
	double x0;
};

static double px(const struct plot *p, double x)
{
	return LEFT + (x - p->x0) / (p->x.top - p->x0) * (RIGHT - LEFT);
}

static double py(const struct plot *p, double y)
{
	return BOTTOM - y / p->y.top * (BOTTOM - TOP);
}

static void axes(FILE *out, const struct plot *p)
{
	const struct chart *c = p->c;
	char label[64];

	fputs("<g class=\"axis\" id=\"axis-y\" font-size=\"12\" fill=\"#333\">\n", out);
	for (int i = 0; i * p->y.step <= p->y.top * (1 + 1e-9); i++) {
		double v = i * p->y.step, y = py(p, v);

		fprintf(out,
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>\n"
			"<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#333\"/>\n"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
			LEFT, y, RIGHT, y, i ? "#e4e4e4" : "#333", LEFT - 5, y, LEFT, y, LEFT - 8,
			y + 4);
		text(out, tick_label(label, sizeof(label), v, &p->y, c->y_unit));
		fputs("</text>\n", out);
	}
	fprintf(out,
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n"
		"<text class=\"label\" transform=\"translate(18 %d) rotate(-90)\" "
		"text-anchor=\"middle\" font-size=\"13\">",
		LEFT, TOP, LEFT, BOTTOM, (TOP + BOTTOM) / 2);
	text(out, c->y_label);
	fputs("</text>\n</g>\n", out);

	fputs("<g class=\"axis\" id=\"axis-x\" font-size=\"12\" fill=\"#333\">\n", out);
	for (int i = 0; p->x0 + i * p->x.step <= p->x.top * (1 + 1e-9) + 1e-12; i++) {
		double v = p->x0 + i * p->x.step, x = px(p, v);

		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#f0f0f0\"/>\n"
			"<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>\n"
			"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
			x, TOP, x, BOTTOM, x, BOTTOM, x, BOTTOM + 5, x, BOTTOM + 20);
		text(out, tick_label(label, sizeof(label), v, &p->x, c->x_unit));
		fputs("</text>\n", out);
	}
	fprintf(out,
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n"
		"<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
		"font-size=\"13\">",
		LEFT, BOTTOM, RIGHT, BOTTOM, (LEFT + RIGHT) / 2, HEIGHT - 18);
	text(out, c->x_label);
	fputs("</text>\n</g>\n", out);
}

static double value(const struct chart_series *s, size_t i)
{
	return isnan(s->y[i]) ? 0 : s->y[i];
}

/* The stacked areas, bottom up: each one's top is the sum so far. */
static void areas(FILE *out, const struct plot *p, double *base, double *top)
{
	const struct chart *c = p->c;

	for (size_t i = 0; i < c->npoints; i++)
		base[i] = 0;
	for (size_t k = 0; k < c->nseries; k++) {
		const struct chart_series *s = &c->series[k];

		if (s->style != CHART_AREA)
			continue;
		for (size_t i = 0; i < c->npoints; i++)
			top[i] = base[i] + value(s, i);
		fputs("<g class=\"series\" data-name=\"", out);
		text(out, s->name);
		fprintf(out, "\">\n<path fill=\"%s\" fill-opacity=\"0.35\" stroke=\"none\" d=\"",
			s->color);
		for (size_t i = 0; i < c->npoints; i++) {
			if (i && c->steps)
				fprintf(out, "L%.1f %.1f", px(p, c->x[i]), py(p, top[i - 1]));
			fprintf(out, "%c%.1f %.1f", i ? 'L' : 'M', px(p, c->x[i]), py(p, top[i]));
		}
		for (size_t i = c->npoints; i-- > 0;) {
			fprintf(out, "L%.1f %.1f", px(p, c->x[i]), py(p, base[i]));
			if (i && c->steps)
				fprintf(out, "L%.1f %.1f", px(p, c->x[i]), py(p, base[i - 1]));
		}
		fprintf(out, "Z\"/>\n<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" d=\"",
			s->color);
		for (size_t i = 0; i < c->npoints; i++) {
			if (i && c->steps)
				fprintf(out, "L%.1f %.1f", px(p, c->x[i]), py(p, top[i - 1]));
			fprintf(out, "%c%.1f %.1f", i ? 'L' : 'M', px(p, c->x[i]), py(p, top[i]));
		}
		fputs("\"/>\n</g>\n", out);
		memcpy(base, top, c->npoints * sizeof(*base));
	}
}

static void diamond(FILE *out, double x, double y, const char *color)
{
	fprintf(out,
		"<path d=\"M%.1f %.1fl4.5 4.5l-4.5 4.5l-4.5 -4.5Z\" fill=\"%s\" stroke=\"white\" "
		"stroke-width=\"0.8\"/>\n",
		x, y - 4.5, color);
}

static void lines(FILE *out, const struct plot *p)
{
	const struct chart *c = p->c;

	for (size_t k = 0; k < c->nseries; k++) {
		const struct chart_series *s = &c->series[k];
		int pen = 0;

		if (s->style == CHART_AREA)
			continue;
		fputs("<g class=\"series\" data-name=\"", out);
		text(out, s->name);
		fprintf(out, "\">\n<path fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s d=\"",
			s->color, s->style == CHART_POINTS ? "1.2" : "2",
			s->style == CHART_DASHED ? " stroke-dasharray=\"7 4\"" : "");
		for (size_t i = 0; i < c->npoints; i++) {
			if (isnan(s->y[i])) {
				pen = 0;
				continue;
			}
			if (pen && c->steps)
				fprintf(out, "L%.1f %.1f", px(p, c->x[i]), py(p, s->y[i - 1]));
			fprintf(out, "%c%.1f %.1f", pen ? 'L' : 'M', px(p, c->x[i]),
				py(p, s->y[i]));
			pen = 1;
		}
		fputs("\"/>\n", out);
		if (s->style == CHART_POINTS && c->npoints <= MAX_MARKERS)
			for (size_t i = 0; i < c->npoints; i++)
				if (!isnan(s->y[i]))
					diamond(out, px(p, c->x[i]), py(p, s->y[i]), s->color);
		fputs("</g>\n", out);
	}
}

/* How much room a label takes: its characters at about 0.6 em each (11 px
 * text) down its line, and across it the ascent left of the baseline and
 * the descent right of it. */
#define LABEL_CHAR    6.6
#define LABEL_ASCENT  10
#define LABEL_DESCENT 3
#define LABEL_GAP     5

struct label_box {
	double x0, x1, y0, y1;
};

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * Where a label goes beside its line at x: left of it (the baseline 4 px
 * off), from the top of the plot down, below the labels already placed
 * that it would cover; failing that, right of the line the same way.
 * Returns 0 and the label's box in *box, or -1 when it fits on neither side
 * above the x axis.
 */
static int stagger(const struct label_box *placed, size_t n, double x, double len,
		   struct label_box *box)
{
	static const double baseline[2] = {-4, 4 + LABEL_ASCENT};

	for (int side = 0; side < 2; side++) {
		struct label_box b = {x + baseline[side] - LABEL_ASCENT,
				      x + baseline[side] + LABEL_DESCENT, TOP + 6, TOP + 6 + len};
		int moved = 1;

		while (moved) {
			moved = 0;
			for (size_t i = 0; i < n; i++)
				if (b.x0 < placed[i].x1 + 1 && placed[i].x0 < b.x1 + 1 &&
				    b.y0 < placed[i].y1 + LABEL_GAP &&
				    placed[i].y0 < b.y1 + LABEL_GAP) {
					b.y0 = placed[i].y1 + LABEL_GAP;
					b.y1 = b.y0 + len;
					moved = 1;
				}
		}
		if (b.y1 <= BOTTOM - 4) {
			*box = b;
			return 0;
		}
	}
	return -1;
}

static void vlines(FILE *out, const struct plot *p)
{
	const struct chart *c = p->c;
	size_t every = (c->nvlines + MAX_LABELLED_VLINES - 1) / MAX_LABELLED_VLINES, n = 0;
	struct label_box *placed;

	if (!c->nvlines)
		return;
	placed = calloc(c->nvlines, sizeof(*placed));
	fputs("<g class=\"marks\" font-size=\"11\" fill=\"#444\">\n", out);
	for (size_t i = 0; i < c->nvlines; i++) {
		double x = px(p, c->vlines[i].x);
		struct label_box b;

		fprintf(out,
			"<line class=\"mark\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
			"stroke=\"#555\" stroke-width=\"1\" stroke-dasharray=\"4 3\">",
			x, TOP, x, BOTTOM);
		if (c->vlines[i].label) {
			fputs("<title>", out);
			text(out, c->vlines[i].label);
			fputs("</title>", out);
		}
		fputs("</line>\n", out);
		if (!c->vlines[i].label || i % every || !placed)
			continue;
		if (stagger(placed, n, x, (double)utf8_chars(c->vlines[i].label) * LABEL_CHAR, &b) <
		    0)
			continue; /* no room beside its line: its title still names it */
		placed[n++] = b;
		fprintf(out,
			"<text class=\"mark-label\" transform=\"translate(%.1f %.1f) rotate(-90)\" "
			"text-anchor=\"end\" stroke=\"white\" stroke-width=\"3\" "
			"paint-order=\"stroke\">",
			b.x0 + LABEL_ASCENT, b.y0);
		text(out, c->vlines[i].label);
		fputs("</text>\n", out);
	}
	fputs("</g>\n", out);
	free(placed);
}

/* The peak: a dot on the chart; its words are in the legend, where they
 * cannot cover a mark's label. */
static void peak(FILE *out, const struct plot *p)
{
	const struct chart *c = p->c;

	if (!c->has_peak)
		return;
	fprintf(out, "<g class=\"peak\">\n<title>");
	text(out, c->peak_label);
	fprintf(out,
		"</title>\n<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#d62728\" "
		"stroke=\"white\" stroke-width=\"1.5\"/>\n</g>\n",
		px(p, c->peak_x), py(p, c->peak_y));
}

#define LEGEND_CHARS 30 /* what fits right of the plot at 12 px */

/* One legend entry, its name wrapped at spaces to fit; returns the lines
 * it took. */
static int legend_entry(FILE *out, int y, const char *name, const char *swatch)
{
	int x = RIGHT + 20, lines = 0;
	const char *p = name;

	fprintf(out, "<g class=\"legend-entry\" data-name=\"");
	text(out, name);
	fprintf(out, "\" transform=\"translate(%d %d)\">\n%s<text x=\"28\" y=\"4\">", x, y, swatch);
	while (*p) {
		size_t len = strlen(p), cut = len;
		char line[LEGEND_CHARS + 1];

		if (len > LEGEND_CHARS) {
			cut = LEGEND_CHARS;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (!cut)
				cut = LEGEND_CHARS;
		}
		memcpy(line, p, cut);
		line[cut] = '\0';
		fprintf(out, "<tspan x=\"28\" dy=\"%d\">", lines ? 15 : 0);
		text(out, line);
		fputs("</tspan>", out);
		lines++;
		p += cut;
		while (*p == ' ')
			p++;
	}
	fputs("</text>\n</g>\n", out);
	return lines ? lines : 1;
}

static void legend(FILE *out, const struct plot *p)
{
	const struct chart *c = p->c;
	char swatch[512];
	int y = TOP + 8;

	fputs("<g class=\"legend\" font-size=\"12\" fill=\"#222\">\n", out);
	for (size_t k = 0; k < c->nseries; k++) {
		const struct chart_series *s = &c->series[k];

		switch (s->style) {
		case CHART_AREA:
			snprintf(swatch, sizeof(swatch),
				 "<rect x=\"0\" y=\"-6\" width=\"20\" height=\"12\" fill=\"%s\" "
				 "fill-opacity=\"0.35\" stroke=\"%s\"/>\n",
				 s->color, s->color);
			break;
		case CHART_POINTS:
			snprintf(swatch, sizeof(swatch),
				 "<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"%s\" "
				 "stroke-width=\"1.2\"/>\n<path d=\"M10 -4.5l4.5 4.5l-4.5 4.5l-4.5 "
				 "-4.5Z\" fill=\"%s\"/>\n",
				 s->color, s->color);
			break;
		default:
			snprintf(swatch, sizeof(swatch),
				 "<line x1=\"0\" y1=\"0\" x2=\"20\" y2=\"0\" stroke=\"%s\" "
				 "stroke-width=\"2\"%s/>\n",
				 s->color,
				 s->style == CHART_DASHED ? " stroke-dasharray=\"7 4\"" : "");
			break;
		}
		y += 7 + 15 * legend_entry(out, y, s->name, swatch);
	}
	if (c->nvlines)
		y += 7 + 15 * legend_entry(out, y, c->vline_name ? c->vline_name : "mark",
					   "<line x1=\"10\" y1=\"-8\" x2=\"10\" y2=\"8\" "
					   "stroke=\"#555\" stroke-dasharray=\"4 3\"/>\n");
	if (c->has_peak)
		legend_entry(out, y, c->peak_label ? c->peak_label : "peak",
			     "<circle cx=\"10\" cy=\"0\" r=\"5\" fill=\"#d62728\"/>\n");
	fputs("</g>\n", out);
}

int svg_chart(FILE *out, const struct chart *c)
{
	double xmax = 0, ymax = 0, *sums, *tops;
	struct plot p = {.c = c};

	if (!c->npoints)
		return -EINVAL;
	sums = calloc(2 * c->npoints, sizeof(*sums));
	if (!sums)
		return -ENOMEM;
	tops = sums + c->npoints;
	/* the y axis holds the stacked areas and every line */
	for (size_t i = 0; i < c->npoints; i++) {
		double stacked = 0;

		if (c->x[i] > xmax)
			xmax = c->x[i];
		for (size_t k = 0; k < c->nseries; k++) {
			double v = c->series[k].y[i];

			if (isnan(v))
				continue;
			if (c->series[k].style == CHART_AREA)
				stacked += v;
			else if (v > ymax)
				ymax = v;
		}
		if (stacked > ymax)
			ymax = stacked;
	}
	for (size_t i = 0; i < c->nvlines; i++)
		if (c->vlines[i].x > xmax)
			xmax = c->vlines[i].x;
	p.x0 = 0;
	if (c->x_end > xmax)
		xmax = c->x_end;
	p.x = make_axis(xmax, c->x_unit);
	/* the axis ends with the run: its ticks stay round, its end does not */
	if (c->x_end > 0 && xmax > 0)
		p.x.top = xmax;
	p.y = make_axis(ymax * 1.05, c->y_unit);

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"%s\">\n<title>",
		WIDTH, HEIGHT, WIDTH, HEIGHT, FONT);
	text(out, c->title);
	fprintf(out,
		"</title>\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n"
		"<text id=\"title\" x=\"%d\" y=\"30\" font-size=\"18\" font-weight=\"bold\" "
		"fill=\"#111\">",
		WIDTH, HEIGHT, LEFT);
	text(out, c->title);
	fputs("</text>\n", out);
	if (c->subtitle) {
		fprintf(out,
			"<text id=\"subtitle\" x=\"%d\" y=\"50\" font-size=\"12\" "
			"fill=\"#555\">",
			LEFT);
		text(out, c->subtitle);
		fputs("</text>\n", out);
	}
	axes(out, &p);
	areas(out, &p, sums, tops);
	lines(out, &p);
	vlines(out, &p);
	peak(out, &p);
	legend(out, &p);
	fputs("</svg>\n", out);
	free(sums);
	return ferror(out) ? -EIO : 0;
}
