/*
 * export.c - the table of exporters (export.h) and the little they share.
 * Adding a format is adding its file and a row here.
 */
#include <errno.h>
#include <string.h>

#include "export.h"

extern const struct exporter ex_folded, ex_massif, ex_csv, ex_json, ex_timeline, ex_svg,
	ex_pprof;

const struct exporter *const ex_table[] = {
	&ex_folded, &ex_massif, &ex_csv, &ex_json, &ex_pprof, &ex_timeline, &ex_svg, NULL,
};

const struct exporter *ex_find(const char *name)
{
	for (size_t i = 0; name && ex_table[i]; i++)
		if (!strcmp(ex_table[i]->name, name))
			return ex_table[i];
	return NULL;
}

const char *ex_frame_name(const struct ex_frame *f)
{
	return f->function ? f->function : f->display;
}

/* Length of the well-formed UTF-8 sequence at s, 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void ex_json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', out);
	while (*s) {
		unsigned char c = *s;
		size_t n;

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
		else if ((n = utf8_len(s)) > 0) {
			fwrite(s, 1, n, out);
			s += n;
			continue;
		} else {
			/* JSON is Unicode: a byte that is not (argv may hold any)
			 * becomes U+FFFD */
			fputs("\\ufffd", out);
		}
		s++;
	}
	fputc('"', out);
}

void ex_csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	/* RFC 4180: quoted, quotes doubled */
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int ex_status(FILE *out)
{
	/* asked after every record: no lock, as no other thread writes */
	return ferror_unlocked(out) ? -EIO : 0;
}
