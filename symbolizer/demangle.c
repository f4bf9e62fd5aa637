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
 * Rust v0 names ("_R...", the mangling of Rust's own library now, and of
 * any crate built with -C symbol-mangling-version=v0) are a grammar of
 * their own, decoded below into what rustfilt prints.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
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

/* --- Rust v0 ------------------------------------------------------------
 *
 * The grammar of rustc's symbol-mangling/v0 chapter, read and printed in
 * one pass, in the form rustfilt prints: crate hashes and instantiating
 * crates left out, generic arguments shown, closures as {closure#N}.
 * Parts that are parsed but not printed (an impl's own path) go through
 * the same functions with printing off.  Back-references are byte offsets
 * from just after "_R", always to an earlier place, so following them
 * terminates; nesting is bounded against hostile input.  Identifiers in
 * Punycode (non-ASCII names) are not decoded: such a name stays mangled.
 */

#define V0_MAX_DEPTH 300

struct v0 {
	const char *sym; /* after "_R" */
	size_t len, pos;
	char *out;
	size_t olen, ocap;
	int printing;
	int err;
	int depth;
	uint64_t bound_lifetimes;
};

static void v0_put(struct v0 *p, const char *s, size_t n)
{
	if (!p->printing || p->err)
		return;
	if (p->olen + n + 1 > p->ocap) {
		size_t cap = p->ocap ? p->ocap : 128;

		while (p->olen + n + 1 > cap)
			cap *= 2;

		char *o = realloc(p->out, cap);

		if (!o) {
			p->err = 1;
			return;
		}
		p->out = o;
		p->ocap = cap;
	}
	memcpy(p->out + p->olen, s, n);
	p->olen += n;
	p->out[p->olen] = '\0';
}

static void v0_print(struct v0 *p, const char *s)
{
	v0_put(p, s, strlen(s));
}

static void v0_print_u64(struct v0 *p, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	v0_print(p, buf);
}

static int v0_peek(const struct v0 *p)
{
	return p->pos < p->len ? (unsigned char)p->sym[p->pos] : 0;
}

static int v0_next(struct v0 *p)
{
	if (p->pos >= p->len) {
		p->err = 1;
		return 0;
	}
	return (unsigned char)p->sym[p->pos++];
}

static int v0_eat(struct v0 *p, int c)
{
	if (v0_peek(p) != c)
		return 0;
	p->pos++;
	return 1;
}

/* <base-62-number>: "_" is 0, digits then "_" are their value plus 1. */
static uint64_t v0_integer_62(struct v0 *p)
{
	uint64_t x = 0;

	if (v0_eat(p, '_'))
		return 0;
	for (;;) {
		int c = v0_next(p), d;

		if (c == '_')
			break;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'z')
			d = 10 + c - 'a';
		else if (c >= 'A' && c <= 'Z')
			d = 36 + c - 'A';
		else {
			p->err = 1;
			return 0;
		}
		if (x > (UINT64_MAX - (uint64_t)d) / 62) {
			p->err = 1;
			return 0;
		}
		x = x * 62 + (uint64_t)d;
	}
	if (x == UINT64_MAX)
		p->err = 1;
	return x + 1;
}

/* An optional <base-62-number> after tag: 0 when absent, else 1 more. */
static uint64_t v0_opt_integer_62(struct v0 *p, int tag)
{
	if (!v0_eat(p, tag))
		return 0;

	uint64_t x = v0_integer_62(p);

	if (x == UINT64_MAX)
		p->err = 1;
	return x + 1;
}

static uint64_t v0_disambiguator(struct v0 *p)
{
	return v0_opt_integer_62(p, 's');
}

static uint64_t v0_decimal(struct v0 *p)
{
	uint64_t x = 0;
	int c = v0_peek(p);

	if (c == '0') {
		p->pos++;
		return 0;
	}
	if (c < '1' || c > '9') {
		p->err = 1;
		return 0;
	}
	while ((c = v0_peek(p)) >= '0' && c <= '9') {
		if (x > (UINT64_MAX - 9) / 10) {
			p->err = 1;
			return 0;
		}
		x = x * 10 + (uint64_t)(c - '0');
		p->pos++;
	}
	return x;
}

/* <undisambiguated-identifier>: its bytes in the input, *n long. */
static const char *v0_ident(struct v0 *p, size_t *n)
{
	if (v0_eat(p, 'u')) {
		p->err = 1; /* Punycode */
		return "";
	}

	uint64_t len = v0_decimal(p);

	v0_eat(p, '_');
	if (p->err || len > p->len - p->pos) {
		p->err = 1;
		return "";
	}

	const char *s = p->sym + p->pos;

	p->pos += len;
	*n = (size_t)len;
	return s;
}

static int v0_enter(struct v0 *p)
{
	if (++p->depth > V0_MAX_DEPTH)
		p->err = 1;
	return !p->err;
}

typedef void (*v0_fn)(struct v0 *p, int arg);

/* B <base-62-number>: fn run at an earlier position, then back here. */
static void v0_backref(struct v0 *p, v0_fn fn, int arg)
{
	size_t at = p->pos - 1; /* the 'B' */
	uint64_t target = v0_integer_62(p);

	if (p->err || target >= at) {
		p->err = 1;
		return;
	}
	if (!p->printing)
		return;

	size_t back = p->pos;

	p->pos = (size_t)target;
	fn(p, arg);
	p->pos = back;
}

static void v0_path(struct v0 *p, int in_value);
static void v0_type(struct v0 *p, int unused);
static void v0_const(struct v0 *p, int in_value);

/* Items up to the closing 'E', sep between them; returns how many. */
static size_t v0_list(struct v0 *p, v0_fn fn, int arg, const char *sep)
{
	size_t i = 0;

	while (!p->err && !v0_eat(p, 'E')) {
		if (p->pos >= p->len) {
			p->err = 1;
			break;
		}
		if (i++)
			v0_print(p, sep);
		fn(p, arg);
	}
	return i;
}

static void v0_lifetime(struct v0 *p, uint64_t lt)
{
	if (!p->printing)
		return;
	v0_print(p, "'");
	if (lt == 0) {
		v0_print(p, "_");
		return;
	}
	if (lt > p->bound_lifetimes) {
		p->err = 1;
		return;
	}

	uint64_t depth = p->bound_lifetimes - lt;

	if (depth < 26) {
		char c = (char)('a' + depth);

		v0_put(p, &c, 1);
	} else {
		v0_print(p, "_");
		v0_print_u64(p, depth);
	}
}

/* [G <base-62-number>]: "for<'a, 'b> " before what fn prints. */
static void v0_binder(struct v0 *p, v0_fn fn, int arg)
{
	uint64_t n = v0_opt_integer_62(p, 'G');

	if (!p->printing) {
		fn(p, arg);
		return;
	}
	if (n > 0) {
		v0_print(p, "for<");
		for (uint64_t i = 0; i < n && !p->err; i++) {
			if (i)
				v0_print(p, ", ");
			p->bound_lifetimes++;
			v0_lifetime(p, 1);
		}
		v0_print(p, "> ");
	}
	fn(p, arg);
	p->bound_lifetimes -= n;
}

static void v0_generic_arg(struct v0 *p, int unused)
{
	if (v0_eat(p, 'L'))
		v0_lifetime(p, v0_integer_62(p));
	else if (v0_eat(p, 'K'))
		v0_const(p, 0);
	else
		v0_type(p, 0);
}

static void v0_path(struct v0 *p, int in_value)
{
	size_t n = 0;
	const char *name;
	uint64_t dis;

	if (!v0_enter(p))
		return;

	int tag = v0_next(p);

	switch (tag) {
	case 'C':
		v0_disambiguator(p);
		name = v0_ident(p, &n);
		v0_put(p, name, n);
		break;
	case 'N': {
		int ns = v0_next(p);

		if (!((ns >= 'a' && ns <= 'z') || (ns >= 'A' && ns <= 'Z'))) {
			p->err = 1;
			break;
		}
		v0_path(p, in_value);
		dis = v0_disambiguator(p);
		name = v0_ident(p, &n);
		if (ns >= 'A' && ns <= 'Z') {
			/* closures, shims: {closure#0}, {shim:vtable#0} */
			char c = (char)ns;

			v0_print(p, "::{");
			if (ns == 'C')
				v0_print(p, "closure");
			else if (ns == 'S')
				v0_print(p, "shim");
			else
				v0_put(p, &c, 1);
			if (n) {
				v0_print(p, ":");
				v0_put(p, name, n);
			}
			v0_print(p, "#");
			v0_print_u64(p, dis);
			v0_print(p, "}");
		} else if (n) {
			v0_print(p, "::");
			v0_put(p, name, n);
		}
		break;
	}
	case 'M':
	case 'X':
	case 'Y':
		if (tag != 'Y') {
			/* the impl's own path is not shown */
			int printing = p->printing;

			v0_disambiguator(p);
			p->printing = 0;
			v0_path(p, 0);
			p->printing = printing;
		}
		v0_print(p, "<");
		v0_type(p, 0);
		if (tag != 'M') {
			v0_print(p, " as ");
			v0_path(p, 0);
		}
		v0_print(p, ">");
		break;
	case 'I':
		v0_path(p, in_value);
		if (in_value)
			v0_print(p, "::");
		v0_print(p, "<");
		v0_list(p, v0_generic_arg, 0, ", ");
		v0_print(p, ">");
		break;
	case 'B':
		v0_backref(p, v0_path, in_value);
		break;
	default:
		p->err = 1;
	}
	p->depth--;
}

static const char *v0_basic_type(int tag)
{
	switch (tag) {
	case 'a':
		return "i8";
	case 'b':
		return "bool";
	case 'c':
		return "char";
	case 'd':
		return "f64";
	case 'e':
		return "str";
	case 'f':
		return "f32";
	case 'h':
		return "u8";
	case 'i':
		return "isize";
	case 'j':
		return "usize";
	case 'l':
		return "i32";
	case 'm':
		return "u32";
	case 'n':
		return "i128";
	case 'o':
		return "u128";
	case 's':
		return "i16";
	case 't':
		return "u16";
	case 'u':
		return "()";
	case 'v':
		return "...";
	case 'x':
		return "i64";
	case 'y':
		return "u64";
	case 'z':
		return "!";
	case 'p':
		return "_";
	default:
		return NULL;
	}
}

static void v0_fn_sig(struct v0 *p, int unused)
{
	int is_unsafe = v0_eat(p, 'U');
	const char *abi = NULL;
	size_t abi_len = 0;

	if (v0_eat(p, 'K')) {
		if (v0_eat(p, 'C')) {
			abi = "C";
			abi_len = 1;
		} else {
			abi = v0_ident(p, &abi_len);
			if (!abi_len)
				p->err = 1;
		}
	}
	if (is_unsafe)
		v0_print(p, "unsafe ");
	if (abi) {
		/* "C_unwind" is written extern "C-unwind" */
		v0_print(p, "extern \"");
		for (size_t i = 0; i < abi_len; i++)
			v0_put(p, abi[i] == '_' ? "-" : &abi[i], 1);
		v0_print(p, "\" ");
	}
	v0_print(p, "fn(");
	v0_list(p, v0_type, 0, ", ");
	v0_print(p, ")");
	if (!v0_eat(p, 'u')) {
		v0_print(p, " -> ");
		v0_type(p, 0);
	}
}

/* A path whose generic arguments stay open for associated-type bindings;
 * returns non-zero when "<" was printed and not closed. */
static int v0_path_open(struct v0 *p)
{
	if (v0_eat(p, 'B')) {
		size_t at = p->pos - 1;
		uint64_t target = v0_integer_62(p);
		int open = 0;

		if (p->err || target >= at) {
			p->err = 1;
			return 0;
		}
		if (!p->printing)
			return 0;

		size_t back = p->pos;

		p->pos = (size_t)target;
		open = v0_path_open(p);
		p->pos = back;
		return open;
	}
	if (v0_eat(p, 'I')) {
		v0_path(p, 0);
		v0_print(p, "<");
		v0_list(p, v0_generic_arg, 0, ", ");
		/* v0_list ate the 'E' and printed nothing after the last */
		return 1;
	}
	v0_path(p, 0);
	return 0;
}

static void v0_dyn_trait(struct v0 *p, int unused)
{
	int open = v0_path_open(p);

	while (!p->err && v0_eat(p, 'p')) {
		size_t n = 0;
		const char *name;

		v0_print(p, open ? ", " : "<");
		open = 1;
		name = v0_ident(p, &n);
		v0_put(p, name, n);
		v0_print(p, " = ");
		v0_type(p, 0);
	}
	if (open)
		v0_print(p, ">");
}

static void v0_dyn_bounds(struct v0 *p, int unused)
{
	v0_list(p, v0_dyn_trait, 0, " + ");
}

static void v0_type(struct v0 *p, int unused)
{
	int tag = v0_next(p);
	const char *basic = v0_basic_type(tag);

	if (basic) {
		v0_print(p, basic);
		return;
	}
	if (!v0_enter(p))
		return;
	switch (tag) {
	case 'R':
	case 'Q':
		v0_print(p, "&");
		if (v0_eat(p, 'L')) {
			uint64_t lt = v0_integer_62(p);

			if (lt) {
				v0_lifetime(p, lt);
				v0_print(p, " ");
			}
		}
		if (tag == 'Q')
			v0_print(p, "mut ");
		v0_type(p, 0);
		break;
	case 'P':
		v0_print(p, "*const ");
		v0_type(p, 0);
		break;
	case 'O':
		v0_print(p, "*mut ");
		v0_type(p, 0);
		break;
	case 'A':
	case 'S':
		v0_print(p, "[");
		v0_type(p, 0);
		if (tag == 'A') {
			v0_print(p, "; ");
			v0_const(p, 1);
		}
		v0_print(p, "]");
		break;
	case 'T':
		v0_print(p, "(");
		if (v0_list(p, v0_type, 0, ", ") == 1)
			v0_print(p, ",");
		v0_print(p, ")");
		break;
	case 'F':
		v0_binder(p, v0_fn_sig, 0);
		break;
	case 'D':
		v0_print(p, "dyn ");
		v0_binder(p, v0_dyn_bounds, 0);
		if (!v0_eat(p, 'L')) {
			p->err = 1;
			break;
		}

		uint64_t lt = v0_integer_62(p);

		if (lt) {
			v0_print(p, " + ");
			v0_lifetime(p, lt);
		}
		break;
	case 'B':
		v0_backref(p, v0_type, 0);
		break;
	default:
		/* a path used as a type */
		p->pos--;
		v0_path(p, 0);
	}
	p->depth--;
}

/* <const-data>: hex nibbles up to '_', into *v when they fit 64 bits. */
static const char *v0_hex(struct v0 *p, size_t *n, uint64_t *v, int *fits)
{
	const char *s = p->sym + p->pos;

	*v = 0;
	*fits = 1;
	*n = 0;
	for (;;) {
		int c = v0_next(p), d;

		if (p->err)
			return s;
		if (c == '_')
			break;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = 10 + c - 'a';
		else {
			p->err = 1;
			return s;
		}
		if (*v >> 60)
			*fits = 0;
		*v = (*v << 4) | (uint64_t)d;
		(*n)++;
	}
	return s;
}

static void v0_const_uint(struct v0 *p)
{
	size_t n;
	uint64_t v;
	int fits;
	const char *hex = v0_hex(p, &n, &v, &fits);

	if (fits) {
		v0_print_u64(p, v);
	} else {
		v0_print(p, "0x");
		v0_put(p, hex, n);
	}
}

/* A char as Rust's {:?} writes it: 'a', '\n', '\u{7f}'. */
static void v0_char(struct v0 *p, uint64_t c, char quote)
{
	char buf[16];

	switch (c) {
	case '\t':
		v0_print(p, "\\t");
		return;
	case '\r':
		v0_print(p, "\\r");
		return;
	case '\n':
		v0_print(p, "\\n");
		return;
	case '\\':
		v0_print(p, "\\\\");
		return;
	case '\0':
		v0_print(p, "\\0");
		return;
	default:
		break;
	}
	if (c == (uint64_t)quote) {
		buf[0] = '\\';
		buf[1] = quote;
		v0_put(p, buf, 2);
	} else if (c >= 0x20 && c < 0x7f) {
		buf[0] = (char)c;
		v0_put(p, buf, 1);
	} else if (c < 0x80 || c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) {
		if (c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) {
			p->err = 1;
			return;
		}
		snprintf(buf, sizeof(buf), "\\u{%" PRIx64 "}", c);
		v0_print(p, buf);
	} else {
		/* UTF-8 */
		int n = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;

		for (int i = n - 1; i > 0; i--) {
			buf[i] = (char)(0x80 | (c & 0x3f));
			c >>= 6;
		}
		buf[0] = (char)((n == 2 ? 0xc0 : n == 3 ? 0xe0 : 0xf0) | c);
		v0_put(p, buf, (size_t)n);
	}
}

/* A string constant: UTF-8 bytes in hex, printed as a "..." literal. */
static void v0_str_literal(struct v0 *p)
{
	size_t n;
	uint64_t v;
	int fits;
	const char *hex = v0_hex(p, &n, &v, &fits);

	if (p->err || n % 2) {
		p->err = 1;
		return;
	}
	v0_print(p, "\"");
	for (size_t i = 0; i < n && !p->err;) {
		/* decode one UTF-8 character from the hex pairs */
		unsigned b[4] = {0};
		int len;
		uint64_t c;

		for (int k = 0; k < 4 && i + 2 * k + 1 < n; k++)
			b[k] = (unsigned)strtoul((char[]){hex[i + 2 * k], hex[i + 2 * k + 1], 0},
						 NULL, 16);
		len = b[0] < 0x80 ? 1 : (b[0] >> 5) == 6 ? 2 : (b[0] >> 4) == 14 ? 3 : 4;
		if (i + 2 * (size_t)len > n) {
			p->err = 1;
			return;
		}
		c = len == 1 ? b[0] : b[0] & (0x7f >> len);
		for (int k = 1; k < len; k++)
			c = (c << 6) | (b[k] & 0x3f);
		v0_char(p, c, '"');
		i += 2 * (size_t)len;
	}
	v0_print(p, "\"");
}

static void v0_field(struct v0 *p, int unused)
{
	size_t n = 0;
	const char *name;

	v0_disambiguator(p);
	name = v0_ident(p, &n);
	v0_put(p, name, n);
	v0_print(p, ": ");
	v0_const(p, 1);
}

static void v0_const(struct v0 *p, int in_value)
{
	int tag, braced = 0;
	size_t n;
	uint64_t v;
	int fits;

	if (!v0_enter(p))
		return;
	tag = v0_next(p);
	/* a constant that is not a plain value, among generic arguments */
#define OPEN_BRACE()                                                                               \
	do {                                                                                       \
		if (!in_value) {                                                                   \
			v0_print(p, "{");                                                          \
			braced = 1;                                                                \
		}                                                                                  \
	} while (0)
	switch (tag) {
	case 'p':
		v0_print(p, "_");
		break;
	case 'h':
	case 't':
	case 'm':
	case 'y':
	case 'o':
	case 'j':
		v0_const_uint(p);
		break;
	case 'a':
	case 's':
	case 'l':
	case 'x':
	case 'n':
	case 'i':
		if (v0_eat(p, 'n'))
			v0_print(p, "-");
		v0_const_uint(p);
		break;
	case 'b':
		v0_hex(p, &n, &v, &fits);
		if (v > 1)
			p->err = 1;
		else
			v0_print(p, v ? "true" : "false");
		break;
	case 'c':
		v0_hex(p, &n, &v, &fits);
		v0_print(p, "'");
		v0_char(p, fits ? v : UINT64_MAX, '\'');
		v0_print(p, "'");
		break;
	case 'e':
		OPEN_BRACE();
		v0_print(p, "*");
		v0_str_literal(p);
		break;
	case 'R':
	case 'Q':
		if (tag == 'R' && v0_eat(p, 'e')) {
			v0_str_literal(p);
			break;
		}
		OPEN_BRACE();
		v0_print(p, tag == 'R' ? "&" : "&mut ");
		v0_const(p, 1);
		break;
	case 'A':
		OPEN_BRACE();
		v0_print(p, "[");
		v0_list(p, v0_const, 1, ", ");
		v0_print(p, "]");
		break;
	case 'T':
		OPEN_BRACE();
		v0_print(p, "(");
		if (v0_list(p, v0_const, 1, ", ") == 1)
			v0_print(p, ",");
		v0_print(p, ")");
		break;
	case 'V':
		OPEN_BRACE();
		v0_path(p, 1);
		switch (v0_next(p)) {
		case 'U':
			break;
		case 'T':
			v0_print(p, "(");
			v0_list(p, v0_const, 1, ", ");
			v0_print(p, ")");
			break;
		case 'S':
			v0_print(p, " { ");
			v0_list(p, v0_field, 0, ", ");
			v0_print(p, " }");
			break;
		default:
			p->err = 1;
		}
		break;
	case 'B':
		v0_backref(p, v0_const, in_value);
		break;
	default:
		p->err = 1;
	}
#undef OPEN_BRACE
	if (braced)
		v0_print(p, "}");
	p->depth--;
}

/* Where LLVM's ".llvm.<hex>" (ThinLTO) starts in name, dropped as rustfilt
 * drops it; else the end of name. */
static size_t without_llvm_suffix(const char *name)
{
	const char *l = strstr(name, ".llvm.");

	if (!l)
		return strlen(name);
	for (const char *c = l + 6; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'F') || *c == '@'))
			return strlen(name);
	return (size_t)(l - name);
}

/* Other suffixes (".0" on a static) are kept, as rustfilt keeps them. */
static int symbol_like(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return 1;
}

static char *rust_v0_demangle(const char *name)
{
	struct v0 p = {.sym = name + 2, .printing = 1};
	size_t end = without_llvm_suffix(name) - 2;

	for (const char *c = p.sym; c < p.sym + end && *c != '.' && *c != '$'; c++) {
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z') || *c == '_'))
			return NULL;
		p.len++;
	}
	/* an encoding version: only the unnumbered one exists */
	if (p.len == 0 || (p.sym[0] >= '0' && p.sym[0] <= '9'))
		return NULL;
	v0_path(&p, 1);
	/* the instantiating crate: not shown */
	if (!p.err && v0_peek(&p) >= 'A' && v0_peek(&p) <= 'Z') {
		p.printing = 0;
		v0_path(&p, 0);
		p.printing = 1;
	}

	const char *suffix = p.sym + p.pos;
	size_t slen = end - p.pos;

	if (p.err || p.pos != p.len || (slen && (*suffix != '.' || !symbol_like(suffix, slen)))) {
		free(p.out);
		return NULL;
	}
	v0_put(&p, suffix, slen);
	if (p.err) {
		free(p.out);
		return NULL;
	}
	return p.out;
}

char *demangle_symbol(const char *name)
{
	int status = 0;

	if (name && strncmp(name, "_R", 2) == 0)
		return rust_v0_demangle(name);
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
