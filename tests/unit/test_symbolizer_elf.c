/*
 * tests/unit/test_symbolizer_elf.c - what the tracer reads from ELF files
 * (symbolizer/elf.h): a function's address by name, the load bias from a
 * mapping of the code, the build-id, whether a .symtab is there.
 *
 * The subject is compiled here, linked by GNU ld and by lld (which leaves
 * a gap between file offsets and addresses that GNU ld does not), as a PIE
 * and as a fixed-address executable.  Run, it prints where the kernel
 * mapped its code (the executable mapping of /proc/self/maps, as the
 * tracer sees it) and where its functions are: the bias from that mapping
 * plus the symbol's value must be the function's address.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "symbolizer/elf.h"

static char dir[64];

static const char subject_src[] =
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"static int helper(int x) { return x * 3; }\n"
	"int grow(int x) { return helper(x) + 1; }\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	char line[4096], path[4096];\n"
	"	unsigned long start, end, off;\n"
	"	FILE *f = fopen(\"/proc/self/maps\", \"r\");\n"
	"	while (fgets(line, sizeof(line), f)) {\n"
	"		char perms[8];\n"
	"		if (sscanf(line, \"%lx-%lx %7s %lx %*s %*s %4095s\", &start, &end, perms,\n"
	"			   &off, path) == 5 && perms[2] == 'x' && strstr(path, "
	"\"subject\"))\n"
	"			printf(\"map %lx %lx\\n\", start, off);\n"
	"	}\n"
	"	printf(\"grow %lx\\nhelper %lx\\n\", (unsigned long)grow,\n"
	"	       (unsigned long)helper);\n"
	"	return grow(argc) == 0;\n"
	"}\n";

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/mt-elf-XXXXXX");
	if (!mkdtemp(dir))
		return -1;

	char src[128];

	snprintf(src, sizeof(src), "%s/subject.c", dir);

	FILE *f = fopen(src, "w");

	if (!f)
		return -1;
	fputs(subject_src, f);
	fclose(f);

	/* the same program from both linkers, as a PIE and at fixed addresses */
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "cd %s && cc -g -O0 -o subject-bfd subject.c && "
		 "cc -g -O0 -fuse-ld=lld -o subject-lld subject.c && "
		 "cc -g -O0 -no-pie -o subject-bfd-nopie subject.c && "
		 "cc -g -O0 -no-pie -fuse-ld=lld -o subject-lld-nopie subject.c && "
		 "strip -o subject-stripped subject-lld",
		 dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct seen {
	uint64_t start, offset, grow, helper;
};

static void run_subject(const char *name, struct seen *s)
{
	char cmd[256], line[256];

	snprintf(cmd, sizeof(cmd), "%s/%s", dir, name);

	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), p)) {
		sscanf(line, "map %" SCNx64 " %" SCNx64, &s->start, &s->offset);
		sscanf(line, "grow %" SCNx64, &s->grow);
		sscanf(line, "helper %" SCNx64, &s->helper);
	}
	assert_int_equal(pclose(p), 0);
	assert_true(s->start && s->grow && s->helper);
}

static void check_linked(const char *name, int is_dyn)
{
	char path[128];
	struct elfinfo *e = NULL;
	struct seen s;
	uint64_t bias = 0, value, size;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	run_subject(name, &s);
	assert_int_equal(elfinfo_open(&e, path), 0);
	assert_int_equal(elfinfo_is_dyn(e), is_dyn);
	assert_true(elfinfo_has_interp(e));
	assert_true(elfinfo_has_symtab(e));
	assert_int_equal(elfinfo_bias(e, s.start, s.offset, &bias), 0);
	if (!is_dyn)
		assert_int_equal(bias, 0);

	assert_int_equal(elfinfo_symbol(e, "grow", &value, &size), 0);
	assert_true(size > 0);
	if (bias + value != s.grow)
		fail_msg("%s: grow at %#" PRIx64 ", bias %#" PRIx64 " + value %#" PRIx64
			 " says %#" PRIx64,
			 name, s.grow, bias, value, bias + value);
	/* a static function is only found when locals are asked for */
	assert_int_equal(elfinfo_symbol(e, "helper", &value, &size), -ENOENT);
	assert_int_equal(elfinfo_symbol_any(e, "helper", &value, &size), 0);
	assert_int_equal(bias + value, s.helper);
	assert_int_equal(elfinfo_symbol_any(e, "no_such_function", &value, &size), -ENOENT);
	elfinfo_close(e);
}

static void test_bfd_pie(void **state)
{
	check_linked("subject-bfd", 1);
}

static void test_lld_pie(void **state)
{
	check_linked("subject-lld", 1);
}

static void test_bfd_fixed(void **state)
{
	check_linked("subject-bfd-nopie", 0);
}

static void test_lld_fixed(void **state)
{
	check_linked("subject-lld-nopie", 0);
}

/* The build-id is the note's, as readelf prints it; a stripped file keeps
 * it and .dynsym, but not .symtab. */
static void test_build_id_and_stripped(void **state)
{
	char path[128], cmd[256], want[256] = "", got[256] = "";
	uint8_t id[64];
	struct elfinfo *e = NULL;
	uint64_t value, size;

	snprintf(path, sizeof(path), "%s/subject-stripped", dir);
	snprintf(cmd, sizeof(cmd), "readelf -n %s | sed -n 's/.*Build ID: //p'", path);

	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	assert_non_null(fgets(want, sizeof(want), p));
	pclose(p);
	want[strcspn(want, "\n")] = '\0';

	assert_int_equal(elfinfo_open(&e, path), 0);

	size_t n = elfinfo_build_id(e, id, sizeof(id));

	assert_true(n >= 8 && n <= sizeof(id));
	for (size_t i = 0; i < n; i++)
		sprintf(got + 2 * i, "%02x", id[i]);
	assert_string_equal(got, want);
	assert_false(elfinfo_has_symtab(e));
	assert_int_equal(elfinfo_symbol_any(e, "helper", &value, &size), -ENOENT);
	elfinfo_close(e);
}

static void test_not_elf(void **state)
{
	struct elfinfo *e = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/subject.c", dir);
	assert_int_equal(elfinfo_open(&e, path), -ENOEXEC);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(elfinfo_open(&e, path), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bfd_pie),
		cmocka_unit_test(test_lld_pie),
		cmocka_unit_test(test_bfd_fixed),
		cmocka_unit_test(test_lld_fixed),
		cmocka_unit_test(test_build_id_and_stripped),
		cmocka_unit_test(test_not_elf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
