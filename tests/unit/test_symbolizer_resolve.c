/*
 * tests/unit/test_symbolizer_resolve.c - pcs of real programs resolved to
 * function, file, line and inline chain.
 *
 * The subjects (tests/unit/data/sym_subject.c and sym_subject_cxx.cpp) are
 * compiled here with gcc/g++ -g at -O0 and -O2, from a temporary directory
 * with a relative source path, as a user builds: so the compilation
 * directory is that directory and the source is DIR/src/subject.c.  Each
 * subject prints where it was loaded and, for each of its call sites, the
 * pc and the frames expected there; the test resolves the pcs and compares.
 * Variants of the binary cover separate debug info (.gnu_debuglink), a
 * symbol table without DWARF, no symbols at all, a wrong build-id, missing,
 * deleted and non-ELF files; and that a file without debug info makes
 * libdw load debuginfod's client only when DEBUGINFOD_URLS names a server.
 *
 * Run from the top of the repository (the subjects are found from there).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <dlfcn.h>

#include "symbolizer/symbolizer.h"

#define DATA_DIR  "tests/unit/data"
#define MAX_SITES 64
#define MAX_DEPTH 4

struct site {
	uint64_t pc;
	int nframes;
	char function[MAX_DEPTH][64];
	unsigned line[MAX_DEPTH];
};

/* One run of a compiled subject. */
struct run {
	uint64_t start, end, bias;
	uint8_t build_id[MT_LOG_MAX_BUILD_ID];
	uint32_t build_id_len;
	int nsites;
	struct site sites[MAX_SITES];
};

static char dir[64]; /* the temporary build directory */
static char c_source[PATH_MAX], cxx_source[PATH_MAX];

static void path_in(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

static int sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);

	int status = system(cmd);

	if (status != 0)
		fprintf(stderr, "failed (%d): %s\n", status, cmd);
	return status;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Runs bin/NAME and reads what it says about itself. */
static void run_subject(const char *name, struct run *r)
{
	char cmd[PATH_MAX + 16], line[512];

	memset(r, 0, sizeof(*r));
	snprintf(cmd, sizeof(cmd), "%s/bin/%s", dir, name);

	FILE *f = popen(cmd, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char id[2 * MT_LOG_MAX_BUILD_ID + 1];

		if (sscanf(line, "module %" SCNx64 " %" SCNx64 " %" SCNx64 " %128s", &r->start,
			   &r->end, &r->bias, id) == 4) {
			if (strcmp(id, "-") != 0) {
				r->build_id_len = strlen(id) / 2;
				for (uint32_t i = 0; i < r->build_id_len; i++)
					r->build_id[i] =
						hexval(id[2 * i]) << 4 | hexval(id[2 * i + 1]);
			}
			continue;
		}
		assert_true(strncmp(line, "site ", 5) == 0);
		assert_true(r->nsites < MAX_SITES);

		struct site *s = &r->sites[r->nsites++];
		char *save, *tok = strtok_r(line + 5, " \n", &save);

		s->pc = strtoull(tok, NULL, 16);
		while ((tok = strtok_r(NULL, " \n", &save)) != NULL) {
			assert_true(s->nframes < MAX_DEPTH);
			snprintf(s->function[s->nframes], sizeof(s->function[0]), "%s", tok);
			/* the C++ subject writes '+' for ' ' */
			for (char *p = s->function[s->nframes]; *p; p++)
				if (*p == '+')
					*p = ' ';
			tok = strtok_r(NULL, " \n", &save);
			assert_non_null(tok);
			s->line[s->nframes++] = strtoul(tok, NULL, 10);
		}
	}
	assert_int_equal(pclose(f), 0);
	assert_true(r->end > r->start);
	assert_true(r->nsites > 0);
}

static int setup(void **state)
{
	char here[PATH_MAX / 2], rel[PATH_MAX];

	/* The sources sit beside this file (__FILE__ is relative to the top
	 * of the repository); the compilers run elsewhere. */
	snprintf(here, sizeof(here), "%s", __FILE__);
	*strrchr(here, '/') = '\0';
	snprintf(rel, sizeof(rel), "%s/data/sym_subject.c", here);
	if (!realpath(rel, c_source)) {
		fprintf(stderr, "%s: not found; run from the top of the repository\n", rel);
		return -1;
	}
	snprintf(rel, sizeof(rel), "%s/data/sym_subject_cxx.cpp", here);
	if (!realpath(rel, cxx_source)) {
		fprintf(stderr, "%s: not found; run from the top of the repository\n", rel);
		return -1;
	}

	snprintf(dir, sizeof(dir), "/tmp/memtrack-sym-XXXXXX");
	if (!mkdtemp(dir))
		return -1;

	/* Binaries: c0, c2 (gcc -O0/-O2), cxx0, cxx2, and from c0:
	 * dbglink (DWARF moved to dbglink.debug), dotdebug (to
	 * .debug/dotdebug.debug), symtab (DWARF removed), bare (no symbols
	 * at all); nobid, with no build-id (its debuglink's CRC says which
	 * file is its DWARF), badcrc, whose debug file changed after, and
	 * otherbid, whose debuglink names c2's DWARF (the CRC is right, the
	 * build-id is not); nolink, with neither build-id nor debuglink, its
	 * DWARF in nolink.debug beside it; viasym, a link to a binary whose
	 * debug file is beside the binary, not the link; bidless, whose
	 * debug file lost its build-id note (its debuglink's CRC is right). */
	return sh("cd %s && mkdir src bin && cp %s src/subject.c && cp %s src/subject.cpp &&"
		  " gcc -g -O0 -o bin/c0 src/subject.c && gcc -g -O2 -o bin/c2 src/subject.c &&"
		  " g++ -g -O0 -o bin/cxx0 src/subject.cpp && g++ -g -O2 -o bin/cxx2 "
		  "src/subject.cpp &&"
		  " cp bin/c0 bin/dbglink && objcopy --only-keep-debug bin/dbglink "
		  "bin/dbglink.debug &&"
		  " objcopy --strip-debug --add-gnu-debuglink=bin/dbglink.debug bin/dbglink &&"
		  " mkdir bin/.debug && cp bin/c0 bin/dotdebug &&"
		  " objcopy --only-keep-debug bin/dotdebug bin/.debug/dotdebug.debug &&"
		  " objcopy --strip-debug --add-gnu-debuglink=bin/.debug/dotdebug.debug "
		  "bin/dotdebug &&"
		  " gcc -g -O0 -Wl,--build-id=none -o bin/nobid src/subject.c &&"
		  " objcopy --only-keep-debug bin/nobid bin/nobid.debug &&"
		  " objcopy --strip-debug --add-gnu-debuglink=bin/nobid.debug bin/nobid &&"
		  " cp bin/nobid bin/badcrc && cp bin/nobid.debug bin/badcrc.debug &&"
		  " objcopy --remove-section=.gnu_debuglink bin/badcrc &&"
		  " objcopy --add-gnu-debuglink=bin/badcrc.debug bin/badcrc &&"
		  " printf x >> bin/badcrc.debug &&"
		  " cp bin/c0 bin/otherbid &&"
		  " objcopy --only-keep-debug bin/c2 bin/otherbid.debug &&"
		  " objcopy --strip-debug --add-gnu-debuglink=bin/otherbid.debug bin/otherbid &&"
		  " gcc -g -O0 -Wl,--build-id=none -o bin/nolink src/subject.c &&"
		  " objcopy --only-keep-debug bin/nolink bin/nolink.debug &&"
		  " objcopy --strip-debug bin/nolink &&"
		  " mkdir linked && cp bin/dbglink linked/real && cp bin/dbglink.debug "
		  "linked/real.dbg &&"
		  " objcopy --remove-section=.gnu_debuglink linked/real &&"
		  " (cd linked && objcopy --add-gnu-debuglink=real.dbg real) &&"
		  " ln -s ../linked/real bin/viasym &&"
		  " cp bin/c0 bin/bidless && objcopy --only-keep-debug bin/c0 bin/bidless.debug &&"
		  " objcopy --remove-section=.note.gnu.build-id bin/bidless.debug &&"
		  " objcopy --strip-debug --add-gnu-debuglink=bin/bidless.debug bin/bidless &&"
		  " cp bin/c0 bin/symtab && objcopy --strip-debug bin/symtab &&"
		  " cp bin/c0 bin/bare && objcopy --strip-all bin/bare",
		  dir, c_source, cxx_source) == 0
		       ? 0
		       : -1;
}

static int teardown(void **state)
{
	if (dir[0])
		sh("rm -rf %s", dir);
	return 0;
}

/* Adds bin/NAME as it was loaded in run r, as module id in space id. */
static void add_run(struct symbolizer *s, uint32_t id, const char *name, const struct run *r,
		    int with_build_id)
{
	char path[PATH_MAX];
	struct mt_module m = {
		.id = id,
		.space = id,
		.start = r->start,
		.end = r->end,
		.bias = r->bias,
		.path = path,
	};

	snprintf(path, sizeof(path), "%s/bin/%s", dir, name);
	if (with_build_id) {
		m.build_id_len = r->build_id_len;
		memcpy(m.build_id, r->build_id, r->build_id_len);
	}
	assert_int_equal(sym_add_module(s, &m), 0);
}

/* Every site of run r resolves in space id to exactly what it printed. */
static void expect_sites(struct symbolizer *s, uint32_t id, const struct run *r, const char *file)
{
	for (int i = 0; i < r->nsites; i++) {
		const struct site *site = &r->sites[i];
		struct mt_symbol sym;

		assert_int_equal(sym_resolve(s, id, site->pc, &sym), 0);
		assert_int_equal(sym.space, id);
		assert_int_equal(sym.pc, site->pc);
		assert_int_equal(sym.module, id);
		assert_int_equal(sym.offset, site->pc - r->bias);
		assert_non_null(sym.comp_dir);
		assert_string_equal(sym.comp_dir, dir);
		assert_int_equal(sym.nframes, site->nframes);
		for (int k = 0; k < site->nframes; k++) {
			assert_non_null(sym.frames[k].function);
			assert_string_equal(sym.frames[k].function, site->function[k]);
			assert_non_null(sym.frames[k].file);
			assert_string_equal(sym.frames[k].file, file);
			assert_int_equal(sym.frames[k].line, site->line[k]);
			assert_int_equal(sym.frames[k].flags, 0);
		}
	}
}

static void check_c(const char *name)
{
	struct symbolizer *s;
	struct run r;
	char file[PATH_MAX];

	run_subject(name, &r);
	/* plain(), then the inline chains of two and three levels */
	assert_int_equal(r.nsites, 3);
	assert_int_equal(r.sites[0].nframes, 1);
	assert_int_equal(r.sites[1].nframes, 2);
	assert_int_equal(r.sites[2].nframes, 3);

	path_in(file, "src/subject.c");
	assert_int_equal(sym_open(&s), 0);
	add_run(s, 1, name, &r, 1);
	expect_sites(s, 1, &r, file);
	assert_true(sym_module_has_lines(s, 1));
	sym_close(s);
}

static void test_c_O0(void **state)
{
	check_c("c0");
}

static void test_c_O2(void **state)
{
	check_c("c2");
}

/* One function with forty inlined children: the first pc inside it walks
 * them, the others go through the index of them built then. */
static void check_wide(const char *name)
{
	struct symbolizer *s;
	struct run r;
	char file[PATH_MAX], cmd[64];

	snprintf(cmd, sizeof(cmd), "%s wide", name);
	run_subject(cmd, &r);
	assert_int_equal(r.nsites, 40);
	path_in(file, "src/subject.c");
	assert_int_equal(sym_open(&s), 0);
	add_run(s, 1, name, &r, 1);
	expect_sites(s, 1, &r, file);
	sym_close(s);
}

static void test_wide_O0(void **state)
{
	check_wide("c0");
}

static void test_wide_O2(void **state)
{
	check_wide("c2");
}

static void check_cxx(const char *name)
{
	struct symbolizer *s;
	struct run r;
	char file[PATH_MAX];

	run_subject(name, &r);
	assert_int_equal(r.nsites, 4);
	assert_string_equal(r.sites[0].function[0], "ns::f(int)");
	assert_string_equal(r.sites[1].function[0], "ns::f(double)");
	assert_string_equal(r.sites[2].function[0], "ns::Widget::grow(unsigned long)");
	assert_string_equal(r.sites[3].function[0], "void ns::twice<long>(long)");

	path_in(file, "src/subject.cpp");
	assert_int_equal(sym_open(&s), 0);
	add_run(s, 1, name, &r, 0);
	expect_sites(s, 1, &r, file);
	sym_close(s);
}

static void test_cxx_O0(void **state)
{
	check_cxx("cxx0");
}

static void test_cxx_O2(void **state)
{
	check_cxx("cxx2");
}

/* DWARF in a separate file, found through .gnu_debuglink next to the
 * binary: the same answers as with DWARF inside. */
static void test_debuglink(void **state)
{
	struct symbolizer *s;
	struct run r;
	char file[PATH_MAX];

	run_subject("dbglink", &r);
	path_in(file, "src/subject.c");
	assert_int_equal(sym_open(&s), 0);
	add_run(s, 1, "dbglink", &r, 1);
	expect_sites(s, 1, &r, file);
	assert_true(sym_module_has_lines(s, 1));
	sym_close(s);
}

/* The same through .debug/ beside the binary, and by the debuglink's CRC
 * for a binary without a build-id. */
/* Subject name run and resolved: whether its module has lines (with
 * file, the sites are checked against it too). */
static int lines_of(const char *name, const char *file)
{
	struct symbolizer *s;
	struct run r;
	int lines;

	run_subject(name, &r);
	assert_int_equal(sym_open(&s), 0);
	add_run(s, 1, name, &r, 1);
	if (file)
		expect_sites(s, 1, &r, file);
	lines = sym_module_has_lines(s, 1);
	sym_close(s);
	return lines;
}

static void test_debuglink_dirs(void **state)
{
	char file[PATH_MAX];

	path_in(file, "src/subject.c");
	assert_true(lines_of("dotdebug", file));
	assert_true(lines_of("nobid", file));
	/* no build-id and no debuglink: FILE.debug beside it, unchecked */
	assert_true(lines_of("nolink", file));
	/* through a link: beside the file it leads to */
	assert_true(lines_of("viasym", file));
}

/* A debug file whose CRC is not the debuglink's, or whose build-id is not
 * the binary's, is not the binary's. */
static void test_debuglink_bad_crc(void **state)
{
	assert_false(lines_of("badcrc", NULL));
	assert_false(lines_of("otherbid", NULL));
	/* a module with a build-id takes only a file of that build-id */
	assert_false(lines_of("bidless", NULL));
}

/* No DWARF: the ELF symbol alone, no file, line 0 (one frame: inlining is
 * invisible).  No symbols either: nothing but the module. */
static void test_no_dwarf(void **state)
{
	struct symbolizer *s;
	struct run r, rb;
	struct mt_symbol sym;

	run_subject("symtab", &r);
	run_subject("bare", &rb);
	assert_int_equal(sym_open(&s), 0);
	add_run(s, 1, "symtab", &r, 1);
	add_run(s, 2, "bare", &rb, 1);

	static const char *const functions[] = {"plain", "outer", "outer2"};

	for (int i = 0; i < 3; i++) {
		assert_int_equal(sym_resolve(s, 1, r.sites[i].pc, &sym), 0);
		assert_int_equal(sym.module, 1);
		assert_int_equal(sym.nframes, 1);
		assert_string_equal(sym.frames[0].function, functions[i]);
		assert_null(sym.frames[0].file);
		assert_int_equal(sym.frames[0].line, 0);
		assert_null(sym.comp_dir);

		assert_int_equal(sym_resolve(s, 2, rb.sites[i].pc, &sym), 0);
		assert_int_equal(sym.module, 2);
		assert_int_equal(sym.offset, rb.sites[i].pc - rb.bias);
		assert_int_equal(sym.nframes, 0);
	}
	assert_false(sym_module_has_lines(s, 1));
	assert_false(sym_module_has_lines(s, 2));
	sym_close(s);
	/* no debuginfod server named: its client never loaded */
	assert_null(dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_NOLOAD));
}

/* With a server named, the file without debug info is asked of it, as
 * libdw asks (the server here refuses at once), and nothing is found. */
static void test_debuginfod_named(void **state)
{
	struct symbolizer *s;
	struct run r;
	char cache[PATH_MAX];

	snprintf(cache, sizeof(cache), "%s/debuginfod-cache", dir);
	setenv("DEBUGINFOD_URLS", "http://127.0.0.1:9/", 1);
	setenv("DEBUGINFOD_CACHE_PATH", cache, 1);
	setenv("DEBUGINFOD_TIMEOUT", "2", 1);
	run_subject("symtab", &r);
	assert_null(dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_NOLOAD));
	assert_int_equal(sym_open(&s), 0);
	add_run(s, 1, "symtab", &r, 1);
	assert_false(sym_module_has_lines(s, 1));
	sym_close(s);
	assert_non_null(dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_NOLOAD));
	unsetenv("DEBUGINFOD_URLS");
}

/* A file that is not the build recorded resolves nothing rather than
 * wrong lines. */
static void test_build_id(void **state)
{
	struct symbolizer *s;
	struct run r;
	struct mt_symbol sym;
	char path[PATH_MAX];

	run_subject("c0", &r);
	assert_int_equal(r.build_id_len, 20);
	path_in(path, "bin/c0");
	assert_int_equal(sym_open(&s), 0);

	/* space 1: the right build-id; space 2: one bit off; space 3: the
	 * right bytes but shorter */
	struct mt_module m = {
		.id = 1,
		.space = 1,
		.start = r.start,
		.end = r.end,
		.bias = r.bias,
		.path = path,
		.build_id_len = r.build_id_len,
	};

	memcpy(m.build_id, r.build_id, r.build_id_len);
	assert_int_equal(sym_add_module(s, &m), 0);
	m.id = m.space = 2;
	m.build_id[7] ^= 0x10;
	assert_int_equal(sym_add_module(s, &m), 0);
	m.id = m.space = 3;
	m.build_id[7] ^= 0x10;
	m.build_id_len = 8;
	assert_int_equal(sym_add_module(s, &m), 0);

	assert_int_equal(sym_resolve(s, 1, r.sites[0].pc, &sym), 0);
	assert_int_equal(sym.nframes, 1);
	assert_string_equal(sym.frames[0].function, "plain");
	for (uint32_t space = 2; space <= 3; space++) {
		assert_int_equal(sym_resolve(s, space, r.sites[0].pc, &sym), 0);
		assert_int_equal(sym.module, space);
		assert_int_equal(sym.offset, r.sites[0].pc - r.bias);
		assert_int_equal(sym.nframes, 0);
		assert_null(sym.comp_dir);
		assert_false(sym_module_has_lines(s, space));
	}
	assert_true(sym_module_has_lines(s, 1));
	sym_close(s);
}

static void expect_module_only(struct symbolizer *s, uint32_t space, uint64_t pc, uint32_t module)
{
	struct mt_symbol sym;

	assert_int_equal(sym_resolve(s, space, pc, &sym), 0);
	assert_int_equal(sym.module, module);
	assert_int_equal(sym.nframes, 0);
	assert_false(sym_module_has_lines(s, module));
}

/* Files that are missing, not ELF, or deleted: no crash, the module is
 * still named. */
static void test_bad_files(void **state)
{
	struct symbolizer *s;
	struct run r;
	struct mt_symbol sym;
	char path[PATH_MAX];
	uint64_t pc;

	run_subject("c0", &r);
	pc = r.sites[0].pc;
	assert_int_equal(sym_open(&s), 0);

	struct mt_module m = {
		.id = 1,
		.space = 1,
		.start = r.start,
		.end = r.end,
		.bias = r.bias,
		.path = "/nonexistent/libgone.so",
	};

	assert_int_equal(sym_add_module(s, &m), 0);
	expect_module_only(s, 1, pc, 1);

	m.id = m.space = 2;
	m.path = c_source; /* a C file */
	assert_int_equal(sym_add_module(s, &m), 0);
	expect_module_only(s, 2, pc, 2);

	m.id = m.space = 3;
	m.path = "/dev/null";
	assert_int_equal(sym_add_module(s, &m), 0);
	expect_module_only(s, 3, pc, 3);

	m.id = m.space = 4;
	m.path = dir; /* a directory */
	assert_int_equal(sym_add_module(s, &m), 0);
	expect_module_only(s, 4, pc, 4);

	/* Deleted before it was ever opened: as if missing, under either
	 * name (/proc/PID/maps appends " (deleted)"). */
	path_in(path, "bin/gone");
	assert_int_equal(sh("cp %s/bin/c0 %s", dir, path), 0);
	add_run(s, 5, "gone", &r, 1);
	assert_int_equal(unlink(path), 0);
	expect_module_only(s, 5, pc, 5);
	m.id = m.space = 6;
	strcat(path, " (deleted)");
	m.path = path;
	assert_int_equal(sym_add_module(s, &m), 0);
	expect_module_only(s, 6, pc, 6);

	/* Deleted after it was opened: the open file still answers. */
	path_in(path, "bin/later");
	assert_int_equal(sh("cp %s/bin/c0 %s", dir, path), 0);
	add_run(s, 7, "later", &r, 1);
	assert_int_equal(sym_resolve(s, 7, r.sites[0].pc, &sym), 0);
	assert_int_equal(sym.nframes, 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(sym_resolve(s, 7, r.sites[2].pc, &sym), 0);
	assert_int_equal(sym.nframes, 3);
	assert_string_equal(sym.frames[2].function, "outer2");

	/* "PATH (deleted)" while PATH exists: used only when its build-id
	 * proves it is the same build. */
	path_in(path, "bin/c0 (deleted)");
	m.id = m.space = 8;
	m.path = path;
	m.build_id_len = r.build_id_len;
	memcpy(m.build_id, r.build_id, r.build_id_len);
	assert_int_equal(sym_add_module(s, &m), 0);
	assert_int_equal(sym_resolve(s, 8, pc, &sym), 0);
	assert_int_equal(sym.nframes, 1);
	assert_string_equal(sym.frames[0].function, "plain");
	m.id = m.space = 9;
	m.build_id_len = 0;
	assert_int_equal(sym_add_module(s, &m), 0);
	expect_module_only(s, 9, pc, 9);

	sym_close(s);
}

/* Which module holds a pc: per address space, the latest added on overlap,
 * none outside every module. */
static void test_module_map(void **state)
{
	struct symbolizer *s;
	struct run r;
	struct mt_symbol sym;
	char path[PATH_MAX];
	uint64_t pc;

	run_subject("c0", &r);
	pc = r.sites[0].pc;
	path_in(path, "bin/c0");
	assert_int_equal(sym_open(&s), 0);

	assert_int_equal(sym_resolve(s, 1, pc, &sym), 0);
	assert_int_equal(sym.module, 0);
	assert_int_equal(sym.nframes, 0);
	assert_int_equal(sym.pc, pc);

	struct mt_module m = {
		.id = 1,
		.space = 1,
		.start = r.start,
		.end = r.end,
		.bias = r.bias,
		.path = "/nonexistent/old",
	};

	assert_int_equal(sym_add_module(s, &m), 0);
	m.id = 2;
	m.path = path;
	assert_int_equal(sym_add_module(s, &m), 0);
	assert_int_equal(sym_resolve(s, 1, pc, &sym), 0);
	assert_int_equal(sym.module, 2);
	assert_int_equal(sym.nframes, 1);

	/* a later module over part of it wins there only */
	m.id = 3;
	m.start = pc;
	m.end = pc + 1;
	m.bias = 0;
	m.path = "/nonexistent/new";
	assert_int_equal(sym_add_module(s, &m), 0);
	assert_int_equal(sym_resolve(s, 1, pc, &sym), 0);
	assert_int_equal(sym.module, 3);
	assert_int_equal(sym.offset, pc);
	assert_int_equal(sym.nframes, 0);
	assert_int_equal(sym_resolve(s, 1, r.sites[1].pc, &sym), 0);
	assert_int_equal(sym.module, 2);
	assert_int_equal(sym.nframes, 2);

	/* bounds: [start, end) */
	assert_int_equal(sym_resolve(s, 1, r.start, &sym), 0);
	assert_int_equal(sym.module, 2);
	assert_int_equal(sym_resolve(s, 1, r.end, &sym), 0);
	assert_int_equal(sym.module, 0);
	assert_int_equal(sym_resolve(s, 1, r.start - 1, &sym), 0);
	assert_int_equal(sym.module, 0);

	/* other address spaces see none of it */
	assert_int_equal(sym_resolve(s, 2, pc, &sym), 0);
	assert_int_equal(sym.module, 0);
	assert_int_equal(sym_resolve(s, 0, pc, &sym), 0);
	assert_int_equal(sym.module, 0);

	/* what is not a module */
	assert_false(sym_module_has_lines(s, 99));
	m.start = m.end;
	assert_int_equal(sym_add_module(s, &m), -EINVAL);
	m.end = m.start + 1;
	m.path = NULL;
	assert_int_equal(sym_add_module(s, &m), -EINVAL);
	m.path = path;
	m.build_id_len = MT_LOG_MAX_BUILD_ID + 1;
	assert_int_equal(sym_add_module(s, &m), -EINVAL);
	assert_int_equal(sym_resolve(s, 1, pc, NULL), -EINVAL);
	sym_close(s);
}

/* Repeated lookups give the same answer, with the same (interned)
 * strings, in every address space mapping the same file. */
static void test_repeat(void **state)
{
	struct symbolizer *s;
	struct run r;
	struct mt_symbol a, b;

	run_subject("c2", &r);
	assert_int_equal(sym_open(&s), 0);
	add_run(s, 1, "c2", &r, 1);
	add_run(s, 2, "c2", &r, 1); /* a fork child */

	for (int i = 0; i < r.nsites; i++) {
		assert_int_equal(sym_resolve(s, 1, r.sites[i].pc, &a), 0);
		for (uint32_t space = 1; space <= 2; space++) {
			assert_int_equal(sym_resolve(s, space, r.sites[i].pc, &b), 0);
			assert_int_equal(b.space, space);
			assert_int_equal(b.module, space);
			assert_ptr_equal(b.comp_dir, a.comp_dir);
			assert_int_equal(b.nframes, a.nframes);
			for (uint32_t k = 0; k < a.nframes; k++) {
				assert_ptr_equal(b.frames[k].function, a.frames[k].function);
				assert_ptr_equal(b.frames[k].file, a.frames[k].file);
				assert_int_equal(b.frames[k].line, a.frames[k].line);
			}
		}
	}
	/* one file name for all sites */
	assert_int_equal(sym_resolve(s, 1, r.sites[0].pc, &a), 0);
	assert_int_equal(sym_resolve(s, 2, r.sites[2].pc, &b), 0);
	assert_ptr_equal(a.frames[0].file, b.frames[2].file);
	sym_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c_O0),
		cmocka_unit_test(test_c_O2),
		cmocka_unit_test(test_wide_O0),
		cmocka_unit_test(test_wide_O2),
		cmocka_unit_test(test_cxx_O0),
		cmocka_unit_test(test_cxx_O2),
		cmocka_unit_test(test_debuglink),
		cmocka_unit_test(test_debuglink_dirs),
		cmocka_unit_test(test_debuglink_bad_crc),
		cmocka_unit_test(test_no_dwarf),
		cmocka_unit_test(test_build_id),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_module_map),
		cmocka_unit_test(test_repeat),
		/* last: it leaves debuginfod's client loaded */
		cmocka_unit_test(test_debuginfod_named),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
