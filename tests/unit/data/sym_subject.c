/*
 * tests/unit/data/sym_subject.c - a program for the symbolizer tests to
 * resolve.  It prints where it is loaded and, for each of its call sites,
 * the pc of the call together with what the symbolizer must say about it:
 * the function and line (it knows them: __func__, __LINE__) and, for
 * inlined code, the caller and the line of the call.
 *
 *   module START END BIAS BUILD-ID
 *   site PC FUNCTION LINE [CALLER CALL-LINE]...
 *
 * With the argument "wide", the sites of wide() alone.
 *
 * PC is a return address minus one, as memtrack records callers' pcs.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

/* Returns the address its call returns to; never inlined nor cloned. */
static __attribute__((noipa)) void *here(void)
{
	return __builtin_return_address(0);
}

static __attribute__((noipa)) void site(void *ra, const char *fn, int line)
{
	printf("site %#lx %s %d\n", (unsigned long)ra - 1, fn, line);
}

static __attribute__((noipa)) void site_in(void *ra, const char *fn, int line, const char *chain)
{
	printf("site %#lx %s %d %s\n", (unsigned long)ra - 1, fn, line, chain);
}

__attribute__((noinline)) void plain(void)
{
	site(here(), __func__, __LINE__);
}

static inline __attribute__((always_inline)) void inlined(const char *caller, int call_line)
{
	char chain[64];

	snprintf(chain, sizeof(chain), "%s %d", caller, call_line);
	site_in(here(), __func__, __LINE__, chain);
}

__attribute__((noinline)) void outer(void)
{
	inlined(__func__, __LINE__);
}

static inline __attribute__((always_inline)) void innermost(const char *chain)
{
	site_in(here(), __func__, __LINE__, chain);
}

static inline __attribute__((always_inline)) void middle(const char *caller, int call_line)
{
	char chain[64];

	snprintf(chain, sizeof(chain), "%s %d %s %d", __func__, __LINE__ + 1, caller, call_line);
	innermost(chain);
}

__attribute__((noinline)) void outer2(void)
{
	middle(__func__, __LINE__);
}

/* Forty inlined calls in one function: a DIE with that many children is
 * indexed by the symbolizer after its first walk, as a huge function's
 * blocks and call sites are.  Printed only when asked ("wide"). */
__attribute__((noinline)) void wide(void)
{
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
	inlined(__func__, __LINE__);
}

static int print_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long start = ~0ul, end = 0;
	char build_id[2 * 64 + 1] = "-";

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD) {
			if (info->dlpi_addr + ph->p_vaddr < start)
				start = info->dlpi_addr + ph->p_vaddr;
			if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > end)
				end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		} else if (ph->p_type == PT_NOTE) {
			const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
			const char *e = p + ph->p_memsz;

			while (p + sizeof(ElfW(Nhdr)) <= e) {
				const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
				const char *name = p + sizeof(*n);
				const unsigned char *desc =
					(const unsigned char *)name + ((n->n_namesz + 3) & ~3u);

				if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
				    memcmp(name, "GNU", 4) == 0 && n->n_descsz <= 64) {
					for (unsigned j = 0; j < n->n_descsz; j++)
						sprintf(build_id + 2 * j, "%02x", desc[j]);
				}
				p = (const char *)desc + ((n->n_descsz + 3) & ~3u);
			}
		}
	}
	printf("module %#lx %#lx %#lx %s\n", start, end, (unsigned long)info->dlpi_addr, build_id);
	return 1; /* the first object is the program itself */
}

int main(int argc, char **argv)
{
	dl_iterate_phdr(print_module, NULL);
	if (argc > 1 && strcmp(argv[1], "wide") == 0) {
		wide();
		return 0;
	}
	plain();
	outer();
	outer2();
	return 0;
}
