/*
 * html.c - the report's page (see html.h).  The style and the script are
 * files of formats/report/, assembled into memtrack by .incbin, as the
 * recorder is; the Makefile rebuilds this file when they change.  The page
 * forbids itself any fetch (its Content-Security-Policy allows only what it
 * carries inline), so a report can be opened anywhere, offline.
 */
#include <errno.h>
#include <string.h>

#include "html.h"

/* Each asset: its bytes, then a NUL, so it can be written as a string. */
#define ASSET(name, path)                                                                          \
	__asm__(".section .rodata." #name ", \"a\"\n"                                              \
		".globl " #name "\n" #name ":\n"                                                   \
		".incbin \"" path "\"\n"                                                           \
		".byte 0\n"                                                                        \
		".previous\n");                                                                    \
	extern const char name[]

ASSET(report_css, "formats/report/report.css");
ASSET(report_js, "formats/report/report.js");

static void text(FILE *out, const char *s)
{
	for (; *s; s++) {
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

int html_write(FILE *out, const char *title, const char *json, size_t len)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"memtrack\">\n<title>",
	      out);
	text(out, title);
	fputs("</title>\n<style>\n", out);
	fputs(report_css, out);
	fputs("</style>\n</head>\n<body>\n<noscript>This report draws itself with JavaScript."
	      "</noscript>\n<script type=\"application/json\" id=\"memtrack-data\">",
	      out);
	/* "</script>" must not end the data early: '<' only occurs inside
	 * JSON strings, where \u003c means the same */
	for (size_t i = 0; i < len; i++) {
		if (json[i] == '<')
			fputs("\\u003c", out);
		else
			fputc(json[i], out);
	}
	fputs("</script>\n<script>\n", out);
	fputs(report_js, out);
	fputs("</script>\n</body>\n</html>\n", out);
	return ferror(out) ? -EIO : 0;
}
