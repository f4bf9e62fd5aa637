/*
 * symbolizer/demangle.c - readable names for C++ and Rust symbols.
 *
 * C++ names go through the Itanium demangler of the C++ runtime
 * (__cxa_demangle, from libstdc++: memtrack links -lstdc++), which gives
 * what `addr2line -C` gives: "ns::f(int)".
 *
 * Rust's legacy mangling is Itanium-shaped: _ZN <len><ident>... 17h<hash> E,
 * with the characters an Itanium identifier cannot hold spelled as $..$
 * escapes ("$LT$" for '<') and "::" inside a path written "..".  The same
 * demangler reads it; we then drop the trailing "::h<16 hex>" hash and undo
 * the escapes, which gives what rustc-demangle prints in its short form.
 *
 * Rust v0 names ("_R...") are a different grammar that we do not decode:
 * they stay mangled (the DWARF name, when there is one, is used instead).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* From the C++ ABI (cxxabi.h is a C++ header). */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define RUST_HASH_LEN 16

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Length of a Rust legacy name up to the E that closes it, when it ends in
 * the 17h<16 hex>E hash element, maybe followed by a ".llvm.NNN"-style
 * suffix; else 0.  (Legacy paths may hold ".." themselves, not after E.) */
static size_t rust_legacy_len(const char *name)
{
	if (strncmp(name, "_ZN", 3) != 0)
		return 0;

	const size_t elem = 3 + RUST_HASH_LEN + 1; /* "17h" hex "E" */

	for (const char *h = strstr(name, "17h"); h; h = strstr(h + 1, "17h")) {
		int i;

		for (i = 0; i < RUST_HASH_LEN && is_hex(h[3 + i]); i++)
			;
		if (i == RUST_HASH_LEN && h[elem - 1] == 'E' && (h[elem] == '\0' || h[elem] == '.'))
			return h + elem - name;
	}
	return 0;
}

static const struct {
	const char *code;
	char c;
} rust_escapes[] = {
	{"$SP$", '@'}, {"$BP$", '*'}, {"$RF$", '&'}, {"$LT$", '<'},
	{"$GT$", '>'}, {"$LP$", '('}, {"$RP$", ')'}, {"$C$", ','},
};

/* Decodes one $..$ escape at s into *c; returns its length, 0 if none. */
static size_t rust_escape(const char *s, char *c)
{
	for (size_t i = 0; i < sizeof(rust_escapes) / sizeof(rust_escapes[0]); i++) {
		size_t n = strlen(rust_escapes[i].code);

		if (strncmp(s, rust_escapes[i].code, n) == 0) {
			*c = rust_escapes[i].c;
			return n;
		}
	}
	/* $uXX$: one ASCII character by its hex code */
	if (s[0] == '$' && s[1] == 'u' && is_hex(s[2]) && is_hex(s[3]) && s[4] == '$') {
		*c = (char)strtol((char[]){s[2], s[3], '\0'}, NULL, 16);
		return 5;
	}
	return 0;
}

/* In place: strip the hash element, then undo the escapes. */
static void rust_cleanup(char *s)
{
	size_t len = strlen(s);

	/* "::h" + 16 hex at the end */
	if (len > 3 + RUST_HASH_LEN && strncmp(s + len - RUST_HASH_LEN - 3, "::h", 3) == 0)
		s[len - RUST_HASH_LEN - 3] = '\0';

	char *out = s;
	int component_start = 1;

	for (const char *in = s; *in;) {
		char c;
		size_t n;

		/* A component that would begin with '$' is written "_$". */
		if (component_start && in[0] == '_' && in[1] == '$')
			in++;
		component_start = 0;
		if (in[0] == ':' && in[1] == ':') {
			*out++ = *in++;
			*out++ = *in++;
			component_start = 1;
		} else if (in[0] == '.' && in[1] == '.') {
			*out++ = ':';
			*out++ = ':';
			in += 2;
			component_start = 1;
		} else if (in[0] == '$' && (n = rust_escape(in, &c)) > 0) {
			*out++ = c;
			in += n;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
}

char *demangle_symbol(const char *name)
{
	int status = 0;

	if (!name || strncmp(name, "_Z", 2) != 0)
		return NULL;

	size_t rust_len = rust_legacy_len(name);

	if (rust_len) {
		char *bare = strndup(name, rust_len);

		if (!bare)
			return NULL;
		char *s = __cxa_demangle(bare, NULL, NULL, &status);

		free(bare);
		if (s && status == 0) {
			rust_cleanup(s);
			return s;
		}
		free(s);
		/* Not Rust after all: a C++ name that happens to end alike. */
	}

	char *s = __cxa_demangle(name, NULL, NULL, &status);

	if (status != 0) {
		free(s);
		return NULL;
	}
	return s;
}
