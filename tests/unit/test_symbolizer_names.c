/*
 * tests/unit/test_symbolizer_names.c - function names: C++ and Rust (legacy
 * and v0, against rustfilt) demangling, the allocator table, and the allocator flag on the real
 * allocator functions of this process's libc and libstdc++.
 *
 * The demangler and the table are internal to the symbolizer, so this test
 * includes symbolizer/internal.h, as the symbolizer's own files do.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "symbolizer/symbolizer.h"
#include "symbolizer/internal.h"

static void expect_demangled(const char *mangled, const char *readable)
{
	char *s = demangle_symbol(mangled);

	if (!readable) {
		assert_null(s);
		return;
	}
	assert_non_null(s);
	assert_string_equal(s, readable);
	free(s);
}

static void test_demangle_cxx(void **state)
{
	expect_demangled("_ZN2ns1fEi", "ns::f(int)");
	expect_demangled("_ZN2ns1fEd", "ns::f(double)");
	expect_demangled("_ZN2ns6Widget4growEm", "ns::Widget::grow(unsigned long)");
	expect_demangled("_Znwm", "operator new(unsigned long)");
	expect_demangled("_ZnamSt11align_val_t", "operator new[](unsigned long, std::align_val_t)");
	expect_demangled("_ZdlPvm", "operator delete(void*, unsigned long)");
	/* plain C names, and what is not a valid mangled name, stay as they are */
	expect_demangled("malloc", NULL);
	expect_demangled("__libc_malloc", NULL);
	expect_demangled("_Zfoo", NULL);
	expect_demangled("", NULL);
	expect_demangled(NULL, NULL);
}

static void test_demangle_rust(void **state)
{
	/* legacy mangling: the hash goes, the $..$ escapes are undone */
	expect_demangled("_ZN4core3fmt5write17h0123456789abcdefE", "core::fmt::write");
	expect_demangled("_ZN1r4grow17h8b2ddc53a4a9e097E", "r::grow");
	expect_demangled("_ZN5alloc7raw_vec19RawVec$LT$T$C$A$GT$8grow_one17h76111196bd863648E",
			 "alloc::raw_vec::RawVec<T,A>::grow_one");
	expect_demangled("_ZN70_$LT$alloc..vec..Vec$LT$T$C$A$GT$$u20$as$u20$core..ops..drop.."
			 "Drop$GT$4drop17h0123456789abcdefE",
			 "<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop");
	expect_demangled("_ZN3std2rt27$u7b$$u7b$closure$u7d$$u7d$17h0123456789abcdefE",
			 "std::rt::{{closure}}");
	/* a suffix added by LLVM's ThinLTO */
	expect_demangled("_ZN1r4grow17h8b2ddc53a4a9e097E.llvm.1234567", "r::grow");
}

/* Rust v0: the expected text is what rustfilt (Debian's) prints for each. */
static void test_demangle_rust_v0(void **state)
{
	expect_demangled("_RNvCs1234_1r4grow", "r::grow");
	expect_demangled("_RNvNvCs1234_1r4main4grow", "r::main::grow");
	/* const generic arguments */
	expect_demangled("_RINvCs1234_1r3fooKj5_E", "r::foo::<5>");
	expect_demangled("_RINvCs1234_1r3fooKanb_E", "r::foo::<-11>");
	expect_demangled("_RINvCs1234_1r3fooKb1_E", "r::foo::<true>");
	expect_demangled("_RINvCs1234_1r3fooKc61_E", "r::foo::<'a'>");
	expect_demangled("_RINvCs1234_1r3fooKRe616263_E", "r::foo::<\"abc\">");
	expect_demangled("_RINvCs1234_1r3fooKAj1_j2_EE", "r::foo::<{[1, 2]}>");
	expect_demangled("_RINvCs1234_1r3fooKTj1_b0_EE", "r::foo::<{(1, false)}>");
	/* ThinLTO's suffix goes, a static's ".0" stays */
	expect_demangled("_RNvNtCs1234_1r1m4grow.llvm.123", "r::m::grow");
	expect_demangled("_RNvNtNtCsjrHSEGnQ3l9_3std6thread11main_thread4MAIN.0",
			 "std::thread::main_thread::MAIN.0");
	/* from Rust 1.95's own library: inherent and trait impls, closures,
	 * shims, back-references, slices, arrays, fn pointers, dyn, for<'a> */
	expect_demangled("_RNvMs4_NtCslNYArtu3iFV_5alloc7raw_vecNtB5_11RawVecInner15try_allocate_in"
			 "CsduwmD7cSIQq_5gimli",
			 "<alloc::raw_vec::RawVecInner>::try_allocate_in");
	expect_demangled("_RNvYjNtNtCsgEmfK2I1SDS_4core3cmp3Ord3maxB7_",
			 "<usize as core::cmp::Ord>::max");
	expect_demangled("_RNCNvNtNtCsgEmfK2I1SDS_4core5slice6memchr7memrchrs_0B7_",
			 "core::slice::memchr::memrchr::{closure#1}");
	expect_demangled("_RNSINvNtCsjrHSEGnQ3l9_3std9panicking11begin_panicReE5reifyB6_",
			 "std::panicking::begin_panic::<&str>::{shim:reify#0}");
	expect_demangled("_RINvMNtCsgEmfK2I1SDS_4core5sliceSh8align_toTjjEEB5_",
			 "<[u8]>::align_to::<(usize, usize)>");
	expect_demangled("_RINvNtCsgEmfK2I1SDS_4core3ptr4readAhj2_EB4_",
			 "core::ptr::read::<[u8; 2]>");
	expect_demangled("_RINvNtCsgEmfK2I1SDS_4core3ptr4readTOhFUKCBx_EuEECsjrHSEGnQ3l9_3std",
			 "core::ptr::read::<(*mut u8, unsafe extern \"C\" fn(*mut u8))>");
	expect_demangled("_RNvXs1g_NtCsgEmfK2I1SDS_4core3fmtRDNtB6_5DebugEL_Bx_3fmtB8_",
			 "<&dyn core::fmt::Debug as core::fmt::Debug>::fmt");
	expect_demangled(
		"_RNvXs1_NtNtNtCsgEmfK2I1SDS_4core3ops8function5implsQDG_INtB7_5FnMutTRL0_"
		"NtNtNtCsjrHSEGnQ3l9_3std12backtrace_rs9backtrace5FrameEEp6OutputbEL_IBS_TRB18_"
		"EE8call_mutB1e_",
		"<&mut dyn for<'a> core::ops::function::FnMut<(&'a "
		"std::backtrace_rs::backtrace::Frame,), Output = bool> as "
		"core::ops::function::FnMut<(&std::backtrace_rs::backtrace::Frame,)>>::call_mut");
	/* not v0, or not whole: left mangled */
	expect_demangled("_RNvCs1234_1ru3caf_", NULL); /* Punycode, not decoded */
	expect_demangled("_RNvCs1234_1r", NULL);
	expect_demangled("_R0NvC1r1f", NULL);
	expect_demangled("_RNvB_1a", NULL); /* a back-reference to itself */
	expect_demangled("_RNvCs1234_1r4grow$x", NULL);
	expect_demangled("_RINvCs1234_1r3fooKb2_E", NULL);
	expect_demangled("_R", NULL);
}

/* Every v0 name in a Rust program, its symbol table and its DWARF linkage
 * names (built by the Makefile, with Rust's own library in it), reads as
 * rustfilt reads it. */
static void test_demangle_rust_v0_rustfilt(void **state)
{
	const char *bin = "build/samples/rust-v0/rust_alloc";
	char cmd[512], name[8192], want[8192];
	size_t n = 0, wrong = 0;

	if (access(bin, R_OK) != 0)
		fail_msg("%s is missing: make samples", bin);

	char tmp[] = "/tmp/mt-v0-XXXXXX";

	assert_non_null(mkdtemp(tmp));
	snprintf(cmd, sizeof(cmd),
		 "strings -a %s | grep -E '^_R[A-Za-z0-9_]+(\\.[A-Za-z0-9.]+)?$' | sort -u > "
		 "%s/names"
		 " && rustfilt < %s/names > %s/rustfilt",
		 bin, tmp, tmp, tmp);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/names", tmp);

	FILE *names = fopen(cmd, "r");

	snprintf(cmd, sizeof(cmd), "%s/rustfilt", tmp);

	FILE *wants = fopen(cmd, "r");

	assert_non_null(names);
	assert_non_null(wants);
	while (fgets(name, sizeof(name), names)) {
		assert_non_null(fgets(want, sizeof(want), wants));
		name[strcspn(name, "\n")] = '\0';
		want[strcspn(want, "\n")] = '\0';

		char *got = demangle_symbol(name);

		if (!got || strcmp(got, want) != 0) {
			if (wrong++ < 5)
				fprintf(stderr, "%s\n  rustfilt: %s\n  memtrack: %s\n", name, want,
					got ? got : "(not demangled)");
		}
		free(got);
		n++;
	}
	fclose(names);
	fclose(wants);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
	fprintf(stderr, "# %zu v0 names, %zu differ from rustfilt\n", n, wrong);
	assert_true(n > 1000);
	assert_int_equal(wrong, 0);
}

static void test_allocator_table(void **state)
{
	static const char *const yes[] = {
		"malloc",
		"calloc",
		"realloc",
		"reallocarray",
		"free",
		"posix_memalign",
		"aligned_alloc",
		"memalign",
		"valloc",
		"pvalloc",
		"__libc_malloc",
		"__libc_calloc",
		"__libc_realloc",
		"__libc_free",
		"__libc_memalign",
		"__libc_valloc",
		"__libc_pvalloc",
		"__libc_reallocarray",
		"_int_malloc",
		"_int_realloc",
		"_int_free",
		"_int_memalign",
		"_mid_memalign",
		"sysmalloc",
		"tcache_init",
		"malloc_consolidate",
		"ptmalloc_init",
		"__malloc_arena_thread_freeres",
		"mmap",
		"mmap64",
		"__mmap",
		"__mmap64",
		"munmap",
		"__munmap",
		"mremap",
		"__mremap",
		"brk",
		"__brk",
		"sbrk",
		"__sbrk",
		/* glibc's internal aliases and GCC's clones */
		"__GI___libc_malloc",
		"__GI___mmap64",
		"tcache_init.part.0",
		"_int_free.isra.0",
		"sysmalloc.cold",
		"malloc_consolidate.constprop.0",
		/* every C++ operator new and delete */
		"operator new(unsigned long)",
		"operator new[](unsigned long)",
		"operator new(unsigned long, std::nothrow_t const&)",
		"operator new[](unsigned long, std::nothrow_t const&)",
		"operator new(unsigned long, std::align_val_t)",
		"operator new[](unsigned long, std::align_val_t, std::nothrow_t const&)",
		"operator delete(void*)",
		"operator delete[](void*)",
		"operator delete(void*, unsigned long)",
		"operator delete[](void*, unsigned long, std::align_val_t)",
		"operator delete(void*, std::nothrow_t const&)",
		"operator new(unsigned long) [clone .cold]",
		"operator new",
		"operator delete[]",
	};
	static const char *const no[] = {
		"main",
		"my_malloc",
		"malloc_wrapper",
		"xmalloc",
		"mallocx",
		"freeze",
		"mmap_file",
		"g_malloc",
		"operator newline",
		"ns::operator new(unsigned long)",
		"Foo::operator delete(void*)",
		"std::allocator<int>::allocate(unsigned long)",
		"operator<<(std::ostream&, int)",
		"",
		NULL,
	};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!allocator_match(yes[i]))
			fail_msg("%s should be an allocator function", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		if (allocator_match(no[i]))
			fail_msg("%s should not be an allocator function", no[i]);
	}
}

/* Where this process's copy of a library function is: its file, where that
 * file is loaded (its bias: libraries are linked at 0) and the address. */
struct libfn {
	const char *path;
	uint64_t base;
	uint64_t addr;
};

static void find_libfn(const char *lib, const char *name, struct libfn *out)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
	Dl_info info;

	assert_non_null(h);

	void *fn = dlsym(h, name);

	assert_non_null(fn);
	assert_true(dladdr(fn, &info) != 0);
	out->path = info.dli_fname;
	out->base = (uint64_t)(uintptr_t)info.dli_fbase;
	out->addr = (uint64_t)(uintptr_t)fn;
	dlclose(h);
}

static void expect_allocator(struct symbolizer *s, uint32_t space, uint64_t pc, const char *name1,
			     const char *name2)
{
	struct mt_symbol sym;

	assert_int_equal(sym_resolve(s, space, pc, &sym), 0);
	assert_int_equal(sym.module, space);
	assert_true(sym.nframes >= 1);

	const char *fn = sym.frames[sym.nframes - 1].function;

	assert_non_null(fn);
	if (strcmp(fn, name1) != 0 && (!name2 || strcmp(fn, name2) != 0))
		fail_msg("%#llx resolved to %s, not %s", (unsigned long long)pc, fn, name1);
	for (uint32_t i = 0; i < sym.nframes; i++)
		assert_true(sym.frames[i].flags & MT_SYMF_ALLOCATOR);
}

static void test_libc_malloc(void **state)
{
	struct symbolizer *s;
	struct libfn m, f, q;

	find_libfn("libc.so.6", "malloc", &m);
	find_libfn("libc.so.6", "free", &f);
	find_libfn("libc.so.6", "qsort", &q);
	assert_int_equal(sym_open(&s), 0);

	/* space 1: the file at bias 0, pcs are ELF addresses */
	struct mt_module mod = {
		.id = 1,
		.space = 1,
		.start = 0,
		.end = 1ull << 32,
		.bias = 0,
		.path = m.path,
	};

	assert_int_equal(sym_add_module(s, &mod), 0);
	/* space 2: where this process has it */
	mod.id = 2;
	mod.space = 2;
	mod.start = m.base;
	mod.end = m.base + (1ull << 32);
	mod.bias = m.base;
	assert_int_equal(sym_add_module(s, &mod), 0);

	expect_allocator(s, 1, m.addr - m.base, "malloc", "__libc_malloc");
	expect_allocator(s, 2, m.addr, "malloc", "__libc_malloc");
	expect_allocator(s, 1, f.addr - f.base, "free", "__libc_free");

	/* one instruction in, still malloc */
	expect_allocator(s, 2, m.addr + 4, "malloc", "__libc_malloc");

	struct mt_symbol sym;

	assert_int_equal(sym_resolve(s, 2, q.addr, &sym), 0);
	assert_true(sym.nframes >= 1);
	for (uint32_t i = 0; i < sym.nframes; i++)
		assert_int_equal(sym.frames[i].flags, 0);
	sym_close(s);
}

static void test_cxx_operators(void **state)
{
	static const struct {
		const char *mangled, *readable;
	} ops[] = {
		{"_Znwm", "operator new(unsigned long)"},
		{"_Znam", "operator new[](unsigned long)"},
		{"_ZnwmRKSt9nothrow_t", "operator new(unsigned long, std::nothrow_t const&)"},
		{"_ZnwmSt11align_val_t", "operator new(unsigned long, std::align_val_t)"},
		{"_ZdlPv", "operator delete(void*)"},
		{"_ZdlPvm", "operator delete(void*, unsigned long)"},
		{"_ZdaPv", "operator delete[](void*)"},
	};
	struct symbolizer *s;

	assert_int_equal(sym_open(&s), 0);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct libfn fn;

		find_libfn("libstdc++.so.6", ops[i].mangled, &fn);

		struct mt_module mod = {
			.id = i + 1,
			.space = i + 1,
			.start = fn.base,
			.end = fn.base + (1ull << 32),
			.bias = fn.base,
			.path = fn.path,
		};

		assert_int_equal(sym_add_module(s, &mod), 0);
		expect_allocator(s, i + 1, fn.addr, ops[i].readable, NULL);
	}
	sym_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demangle_cxx),
		cmocka_unit_test(test_demangle_rust),
		cmocka_unit_test(test_allocator_table),
		cmocka_unit_test(test_libc_malloc),
		cmocka_unit_test(test_cxx_operators),
		cmocka_unit_test(test_demangle_rust_v0),
		cmocka_unit_test(test_demangle_rust_v0_rustfilt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
