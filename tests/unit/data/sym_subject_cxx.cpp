/*
 * tests/unit/data/sym_subject_cxx.cpp - the C++ program for the symbolizer
 * tests: overloads, a member function and a template, each printing the
 * pc of a call it makes and the demangled name the symbolizer must give
 * (what `addr2line -f -C` prints), in sym_subject.c's format:
 *
 *   module START END BIAS BUILD-ID
 *   site PC FUNCTION LINE
 *
 * FUNCTION is printed with '+' for ' ', so that each field is one word.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>

static __attribute__((noipa)) void *here()
{
	return __builtin_return_address(0);
}

static __attribute__((noipa)) void site(void *ra, const char *fn, int line)
{
	printf("site %#lx %s %d\n", (unsigned long)ra - 1, fn, line);
}

namespace ns
{

__attribute__((noipa)) void f(int x)
{
	site(here(), "ns::f(int)", __LINE__ + x);
}

__attribute__((noipa)) void f(double x)
{
	site(here(), "ns::f(double)", __LINE__ + (int)x);
}

struct Widget {
	void grow(unsigned long n);
};

__attribute__((noipa)) void Widget::grow(unsigned long n)
{
	site(here(), "ns::Widget::grow(unsigned+long)", __LINE__ + (int)n);
}

template <typename T> __attribute__((noipa)) void twice(T x)
{
	site(here(), "void+ns::twice<long>(long)", __LINE__ + (int)x);
}

} // namespace ns

static int print_module(struct dl_phdr_info *info, size_t, void *)
{
	unsigned long start = ~0ul, end = 0;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		if (info->dlpi_addr + ph->p_vaddr < start)
			start = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > end)
			end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	printf("module %#lx %#lx %#lx -\n", start, end, (unsigned long)info->dlpi_addr);
	return 1;
}

int main()
{
	dl_iterate_phdr(print_module, nullptr);
	ns::f(0);
	ns::f(0.0);
	ns::Widget w;
	w.grow(0);
	ns::twice<long>(0);
	return 0;
}
