/*
 * export.c - the table of exporters (export.h) and the little they share.
 * Adding a format is adding its file and a row here.
 */
#include <errno.h>
#include <string.h>

#include "export.h"

extern const struct exporter ex_folded, ex_massif, ex_csv, ex_json, ex_timeline, ex_svg;

const struct exporter *const ex_table[] = {
	&ex_folded, &ex_massif, &ex_csv, &ex_json, &ex_timeline, &ex_svg, NULL,
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

void ex_json_string(FILE *out, const char *s)
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
	return ferror(out) ? -EIO : 0;
}
