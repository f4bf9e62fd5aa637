/*
 * tests/unit/test_symbolizer_symtab.c - the sorted symbol index answers
 * every address as dwfl_module_addrinfo does, on real libraries (libc with
 * libc6-dbg's .symtab, libstdc++, the dynamic loader, libm) and on an
 * assembled subject full of what the alias rules decide between.
 *
 * Every pc: the answer of either lookup can only change where a symbol
 * starts or ends or a section begins or ends, and at such a boundary b it
 * may hold for b alone (labels without a size, absolute symbols).  So
 * asking at b and b+1 for every boundary visits every stretch of
 * addresses that has one answer; the answer inside a stretch is the same
 * name at a growing offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "symbolizer/internal.h"

#define BIAS 0x7f1234560000ull

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static Dwfl_Module *open_module(Dwfl **dwfl, const char *path)
{
	*dwfl = dwfl_begin(&callbacks);
	assert_non_null(*dwfl);
	dwfl_report_begin(*dwfl);

	Dwfl_Module *mod = dwfl_report_elf(*dwfl, path, path, -1, BIAS, true);

	assert_int_equal(dwfl_report_end(*dwfl, NULL, NULL), 0);
	if (!mod)
		fail_msg("%s: %s", path, dwfl_errmsg(-1));
	return mod;
}

struct pcs {
	uint64_t *v;
	size_t n, cap;
};

static void add_pc(struct pcs *p, uint64_t pc)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4096;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		assert_non_null(p->v);
	}
	p->v[p->n++] = pc;
}

static void add_boundary(struct pcs *p, uint64_t b)
{
	add_pc(p, b);
	add_pc(p, b + 1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The addresses to ask about mod, sorted and unique; one in every `keep`. */
static void collect_pcs(Dwfl_Module *mod, struct pcs *p, size_t keep)
{
	int n = dwfl_module_getsymtab(mod);

	assert_true(n > 0);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr value;

		if (!dwfl_module_getsym_info(mod, i, &sym, &value, NULL, NULL, NULL))
			continue;
		add_boundary(p, value);
		add_boundary(p, value + sym.st_size);
	}

	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	Elf_Scn *scn = NULL;

	assert_non_null(elf);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		add_boundary(p, sh.sh_addr + bias);
		add_boundary(p, sh.sh_addr + bias + sh.sh_size);
	}
	qsort(p->v, p->n, sizeof(*p->v), cmp_u64);

	size_t k = 0;

	for (size_t i = 0; i < p->n; i++)
		if (k == 0 || p->v[k - 1] != p->v[i])
			p->v[k++] = p->v[i];
	p->n = 0;
	for (size_t i = 0; i < k; i += keep)
		p->v[p->n++] = p->v[i];
}

/* Asks both for every pc; returns how many pcs got a name. */
static size_t compare(const char *path, size_t keep)
{
	Dwfl *dwfl;
	Dwfl_Module *mod = open_module(&dwfl, path);
	struct symtab *t = NULL;
	struct pcs p = {0};
	size_t named = 0, wrong = 0;

	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(symtab_from_dwfl(&t, mod), 0);
	collect_pcs(mod, &p, keep);
	for (size_t i = 0; i < p.n; i++) {
		uint64_t pc = p.v[i], value = 0, size = 0;
		GElf_Off off = 0;
		GElf_Sym sym;
		int err = 0;
		const char *want = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
		const char *got = symtab_by_addr(t, pc, &value, &size, &err);

		assert_int_equal(err, 0);
		if (want != got || (want && (pc - value != off || size != sym.st_size))) {
			if (wrong++ < 10)
				fprintf(stderr,
					"%s: pc %#" PRIx64 ": addrinfo %s+%#" PRIx64
					" size %" PRIu64 ", index %s+%#" PRIx64 " size %" PRIu64
					"\n",
					path, (uint64_t)(pc - BIAS), want ? want : "(none)",
					(uint64_t)off, (uint64_t)sym.st_size, got ? got : "(none)",
					pc - value, size);
		}
		named += want != NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "# %s: %zu pcs, %zu named, %zu differ (%.1f s)\n", path, p.n, named, wrong,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	assert_int_equal(wrong, 0);
	free(p.v);
	symtab_free(t);
	dwfl_end(dwfl);
	return named;
}

static void test_libc(void **state)
{
	/* libc6-dbg's .symtab (found by build-id) holds the locals, so both
	 * passes and the alias rules between them are exercised. */
	assert_true(compare("/lib/x86_64-linux-gnu/libc.so.6", 1) > 5000);
}

static void test_libstdcxx(void **state)
{
	assert_true(compare("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", 1) > 5000);
}

static void test_loader_and_libm(void **state)
{
	assert_true(compare("/lib64/ld-linux-x86-64.so.2", 1) > 500);
	assert_true(compare("/lib/x86_64-linux-gnu/libm.so.6", 1) > 1000);
}

static char subject[64];

/* Aliases of every binding at one address, nested sized symbols, labels
 * without a size (in .text, in another section, absolute), a local and a
 * global at the same place, objects and a TLS symbol. */
static const char subject_asm[] = "	.text\n"
				  "	.globl g1, g2, big, lbl_g, abs_g\n"
				  "	.weak w1, w2\n"
				  "	.type g1,@function\n"
				  "	.type w1,@function\n"
				  "	.type l1,@function\n"
				  "	.type big,@function\n"
				  "l1: w1: g1:\n"
				  "	.fill 32, 1, 0x90\n"
				  "	.size l1, 32\n"
				  "	.size w1, 16\n"
				  "	.size g1, 32\n"
				  "w2: g2: l2:\n"
				  "	.fill 16, 1, 0x90\n"
				  "	.size w2, 8\n"
				  "	.size g2, 16\n"
				  "	.size l2, 8\n"
				  "big:\n"
				  "	.fill 8, 1, 0x90\n"
				  "inner:\n"
				  "	.fill 8, 1, 0x90\n"
				  "	.size inner, 8\n"
				  "lbl_g:\n"
				  "lbl_l:\n"
				  "	.fill 24, 1, 0x90\n"
				  "	.size big, 40\n"
				  "lbl_l2:\n"
				  "	.fill 16, 1, 0x90\n"
				  "lbl_l3: lbl_g3:\n"
				  "	.globl lbl_g3\n"
				  "	.fill 16, 1, 0x90\n"
				  "	.type obj,@object\n"
				  "obj:	.fill 8, 1, 0\n"
				  "	.size obj, 8\n"
				  "tail:\n"
				  "	.fill 8, 1, 0x90\n"
				  "	.set abs_g, 0x40\n"
				  "	.set abs_l, 0x48\n"
				  "	.section .other,\"ax\",@progbits\n"
				  "other_l:\n"
				  "	.fill 16, 1, 0x90\n"
				  "	.section .tbss,\"awT\",@nobits\n"
				  "	.type tls,@object\n"
				  "tls:	.zero 8\n"
				  "	.size tls, 8\n"
				  "	.data\n"
				  "data_l: .quad 0\n";

static int setup_subject(void **state)
{
	char src[80], cmd[256];

	snprintf(subject, sizeof(subject), "/tmp/mt-symtab-XXXXXX");
	if (!mkdtemp(subject))
		return -1;
	snprintf(src, sizeof(src), "%s/s.s", subject);

	FILE *f = fopen(src, "w");

	if (!f)
		return -1;
	fputs(subject_asm, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cc -shared -nostdlib -o %s/s.so %s", subject, src);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown_subject(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", subject);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_alias_rules(void **state)
{
	char path[80];

	snprintf(path, sizeof(path), "%s/s.so", subject);
	assert_true(compare(path, 1) > 20);
}

/* cc1 (28,902 .dynsym entries, the table the index was built for): one
 * boundary in 47, as the scan is slow there. */
static void test_cc1_sampled(void **state)
{
	const char *cc1 = "/usr/lib/gcc/x86_64-linux-gnu/12/cc1";

	if (access(cc1, R_OK) != 0)
		fail_msg("%s is missing (gcc-12)", cc1);
	assert_true(compare(cc1, 97) > 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libc),
		cmocka_unit_test(test_libstdcxx),
		cmocka_unit_test(test_loader_and_libm),
		cmocka_unit_test_setup_teardown(test_alias_rules, setup_subject, teardown_subject),
		cmocka_unit_test(test_cc1_sampled),
	};

	elf_version(EV_CURRENT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
