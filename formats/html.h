/*
 * html.h - `memtrack report`'s page: one self-contained HTML file, its
 * style and script (formats/report/, carried inside memtrack) and its data
 * inline, so it opens from disk and fetches nothing.
 */
#ifndef MEMTRACK_FORMATS_HTML_H
#define MEMTRACK_FORMATS_HTML_H

#include <stddef.h>
#include <stdio.h>

/*
 * Writes the page: title (plain text, escaped here) and the report's data,
 * json[0..len), one JSON value the script reads (formats/report/report.js
 * says what it holds).  Returns 0, or -EIO when the stream failed.
 */
int html_write(FILE *out, const char *title, const char *json, size_t len);

#endif
