/*
 * source.c - a cache of source files split into lines (see source.h).  A
 * report touches a few dozen files at most: a list searched in order is
 * enough.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source.h"

struct source_file {
	char *path;
	char *text;   /* the file, line ends replaced by NULs */
	char **lines; /* into text; NULL when unreadable */
	uint32_t nlines;
	struct source_file *next;
};

struct sources {
	struct source_file *head;
};

int sources_open(struct sources **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void sources_close(struct sources *s)
{
	struct source_file *f, *next;

	if (!s)
		return;
	for (f = s->head; f; f = next) {
		next = f->next;
		free(f->path);
		free(f->text);
		free(f->lines);
		free(f);
	}
	free(s);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *b = realloc(buf, cap ? cap * 2 : 65536);

			if (!b)
				goto fail;
			buf = b;
			cap = cap ? cap * 2 : 65536;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* Splits text in place at every "\n", "\r\n" and "\r". */
static int split(struct source_file *f, size_t len)
{
	uint32_t cap = 0;

	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && f->text[j] != '\n' && f->text[j] != '\r')
			j++;
		if (f->nlines == cap) {
			char **l = realloc(f->lines, (cap ? cap * 2 : 256) * sizeof(*l));

			if (!l)
				return -ENOMEM;
			f->lines = l;
			cap = cap ? cap * 2 : 256;
		}
		f->lines[f->nlines++] = f->text + i;
		if (j < len && f->text[j] == '\r' && j + 1 < len && f->text[j + 1] == '\n')
			f->text[j++] = '\0';
		if (j < len)
			f->text[j++] = '\0';
		i = j;
	}
	return 0;
}

static struct source_file *load(const char *path)
{
	struct source_file *f = calloc(1, sizeof(*f));
	size_t len;

	if (!f)
		return NULL;
	f->path = strdup(path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	f->text = read_file(path, &len);
	if (f->text && split(f, len) < 0) {
		free(f->lines);
		f->lines = NULL;
		f->nlines = 0;
	}
	return f;
}

const char *sources_line(struct sources *s, const char *path, uint32_t line)
{
	struct source_file *f;

	for (f = s->head; f; f = f->next)
		if (!strcmp(f->path, path))
			break;
	if (!f) {
		f = load(path);
		if (!f)
			return NULL;
		f->next = s->head;
		s->head = f;
	}
	if (!line || line > f->nlines)
		return NULL;
	return f->lines[line - 1];
}
