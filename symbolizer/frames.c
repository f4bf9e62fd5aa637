/*
 * symbolizer/frames.c - what one pc means: the chain of functions that
 * contain it, innermost inline level first, with a file:line for each.
 *
 * With DWARF: fnindex.c finds the subprogram whose code holds the pc;
 * below it, the blocks holding the pc lead down to the innermost inlined
 * instance:
 *
 *   subprogram h
 *     inlined_subroutine f  (call_file/call_line: where h calls f)
 *       lexical_block
 *         inlined_subroutine g  (call_file/call_line: where f calls g)
 *
 * which becomes frames g @ the line table's line for the pc, f @ g's call
 * site, h @ f's call site.  (dwarf_getscopes() is no help here: past an
 * inlined instance it continues with the lexical parents of the inline
 * function's abstract definition, not with the function it was inlined
 * into; and it walks the whole unit for every pc.)
 *
 * Without DWARF for the pc: one frame named by the ELF symbol tables
 * (.symtab, .dynsym and the MiniDebugInfo .gnu_debugdata, through
 * symtab.c's index: the name dwfl_module_addrinfo gives), with no file and
 * line 0.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>

#include "internal.h"

/* The chain of function DIEs holding addr (a DWARF address in cudie's
 * unit), innermost first, malloc'd into *chain.  Returns its length, 0
 * when no function holds addr, -ENOMEM. */
static int function_chain(struct image *img, Dwarf_Die *cudie, Dwarf_Addr addr, Dwarf_Die **chain)
{
	Dwarf_Die fn, child;
	int found = fnindex_find(&img->functions, cudie, addr, &fn);

	if (found <= 0)
		return found;

	int n = 0, cap = 8;
	Dwarf_Die *v = malloc(cap * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[n++] = fn;

	/* Down through the blocks that hold addr, keeping the inlined
	 * instances: the depth bound only guards against malformed DWARF. */
	for (Dwarf_Die cur = fn; n < 1024; cur = child) {
		int inside = fnindex_block(&img->functions, &cur, addr, &child);

		if (inside < 0) {
			free(v);
			return inside;
		}
		if (!inside)
			break;
		if (dwarf_tag(&child) != DW_TAG_inlined_subroutine)
			continue;
		if (n == cap) {
			Dwarf_Die *nv = realloc(v, 2 * cap * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
			cap *= 2;
		}
		v[n++] = child;
	}

	/* innermost first */
	for (int i = 0; i < n / 2; i++) {
		Dwarf_Die t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	*chain = v;
	return n;
}

/* A name that says which function it is: the demangled linkage name tells
 * C++ overloads apart ("ns::f(int)") and gives Rust its path; C has only
 * DW_AT_name.  The attributes may sit on the abstract origin (inlined
 * instances) or on the in-class declaration (DW_AT_specification). */
static const char *die_function(Dwarf_Die *die, struct strpool *pool, int *err)
{
	Dwarf_Attribute attr;
	const char *linkage =
		dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));

	if (!linkage)
		linkage =
			dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (linkage) {
		char *readable = demangle_symbol(linkage);

		if (readable) {
			const char *s = strpool_intern(pool, readable, err);

			free(readable);
			return s;
		}
	}
	return strpool_intern(pool, name ? name : linkage, err);
}

/* The ELF symbol holding pc, demangled, or NULL. */
static const char *elf_function(struct image *img, uint64_t pc, struct strpool *pool, int *err)
{
	uint64_t off = 0, size = 0;
	const char *name = image_symbol(img, pc, &off, &size, err);

	if (!name || !*name)
		return NULL;
	/* A sized symbol that does not contain pc does not name it. */
	if (size && off >= size)
		return NULL;

	char *readable = demangle_symbol(name);
	const char *s = strpool_intern(pool, readable ? readable : name, err);

	free(readable);
	return s;
}

/* Lexically tidies a path in place: "a//b" and "a/./b" become "a/b".
 * ".." is left alone: it may cross a symbolic link. */
static void tidy_path(char *s)
{
	char *out = s;

	for (const char *in = s; *in;) {
		if (in[0] == '/' && out > s && out[-1] == '/') {
			in++;
		} else if (in[0] == '.' && (out == s || out[-1] == '/') &&
			   (in[1] == '/' || (in[1] == '\0' && out > s))) {
			in += in[1] ? 2 : 1;
		} else {
			*out++ = *in++;
		}
	}
	if (out > s + 1 && out[-1] == '/')
		out--;
	*out = '\0';
}

/* The full path of a source file.  libdw joins each file name to its line
 * table directory, but not that directory to the compilation directory: a
 * relative result is relative to comp_dir.  Except from directory 0, which
 * is comp_dir itself: when comp_dir is relative (builds made with
 * -fdebug-prefix-map, like Debian's glibc: "./malloc"), a name that starts
 * with it already went through it. */
static const char *full_path(const char *file, const char *comp_dir, struct strpool *pool, int *err)
{
	if (!file)
		return NULL;

	size_t dlen = 0;

	if (comp_dir && *comp_dir && file[0] != '/') {
		dlen = strlen(comp_dir);
		if (comp_dir[0] != '/' && strncmp(file, comp_dir, dlen) == 0 && file[dlen] == '/')
			dlen = 0;
	}

	char *path = malloc(dlen + 1 + strlen(file) + 1);

	if (!path) {
		*err = -ENOMEM;
		return NULL;
	}
	if (dlen) {
		memcpy(path, comp_dir, dlen);
		path[dlen] = '/';
		strcpy(path + dlen + 1, file);
	} else {
		strcpy(path, file);
	}
	tidy_path(path);

	const char *s = strpool_intern(pool, path, err);

	free(path);
	return s;
}

/* Whether comp_dir is where rustc remaps the sources of Rust's own
 * library ("/rustc/<commit hash>") or of the crates it depends on
 * ("/rust/deps/<crate>-<version>").  Such a unit's files are named
 * relative to that root ("library/alloc/src/alloc.rs"), while a program's
 * units name the same file whole, for the generic code they instantiate
 * from it: reports, which show a file relative to its comp_dir, would
 * split one file in two.  Its comp_dir is not reported, so the file has
 * one name, the whole one, as Rust's own panic messages print it (and
 * "src/lib.rs" of a dependency is not taken for the program's own). */
static int rust_library_root(const char *comp_dir)
{
	if (strncmp(comp_dir, "/rust/deps/", 11) == 0)
		return 1;
	if (strncmp(comp_dir, "/rustc/", 7) != 0)
		return 0;
	for (int i = 7; i < 7 + 40; i++)
		if (!isxdigit((unsigned char)comp_dir[i]))
			return 0;
	return comp_dir[47] == '\0' || comp_dir[47] == '/';
}

/* Where the inlined instance inl was called from, in its caller. */
static void call_site(Dwarf_Die *inl, const char *comp_dir, struct strpool *pool, int *err,
		      struct mt_symframe *f)
{
	Dwarf_Attribute attr;
	Dwarf_Word val;
	Dwarf_Die cu;
	Dwarf_Files *files;
	size_t nfiles;

	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &val) == 0)
		f->line = (uint32_t)val;
	/* Index 0 is valid: DWARF 5 numbers files from 0, and libdw puts a
	 * placeholder at 0 for older versions, which number them from 1. */
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &val) == 0 &&
	    dwarf_diecu(inl, &cu, NULL, NULL) && dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 &&
	    val < nfiles)
		f->file = full_path(dwarf_filesrc(files, val, NULL, NULL), comp_dir, pool, err);
}

/* Allocator flags: by name, and every inline level of a function that is
 * itself the allocator (malloc's inlined helpers are malloc's internals). */
static void set_flags(struct mt_symbol *out)
{
	for (uint32_t i = 0; i < out->nframes; i++) {
		if (allocator_match(out->frames[i].function))
			out->frames[i].flags |= MT_SYMF_ALLOCATOR;
	}
	if (out->nframes > 0 && (out->frames[out->nframes - 1].flags & MT_SYMF_ALLOCATOR)) {
		for (uint32_t i = 0; i < out->nframes; i++)
			out->frames[i].flags |= MT_SYMF_ALLOCATOR;
	}
}

int frames_resolve(struct image *img, uint64_t pc, struct strpool *pool, struct mt_symbol *out)
{
	Dwfl_Module *mod = img->mod;
	int err = 0;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cudie = dwfl_module_addrdie(mod, pc, &bias);
	const char *comp_dir = NULL;

	/* libdw may answer with a unit whose ranges do not hold pc (code
	 * without DWARF, such as crt1.o's _start, placed after an optimized
	 * unit's .text.startup), and its line table's nearest row would then
	 * name a line of some other function. */
	if (cudie) {
		int holds = fnindex_cu_holds(&img->functions, cudie, pc - bias);

		if (holds < 0)
			return holds;
		if (!holds)
			cudie = NULL;
	}
	Dwarf_Die *chain = NULL;
	int nchain = 0;
	const char *file = NULL;
	int line = 0;

	out->comp_dir = NULL;
	out->nframes = 0;
	memset(out->frames, 0, sizeof(out->frames));

	if (cudie) {
		Dwarf_Attribute attr;
		Dwfl_Line *l = dwfl_module_getsrc(mod, pc);

		comp_dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr));
		nchain = function_chain(img, cudie, pc - bias, &chain);
		if (nchain < 0)
			return nchain;
		if (l)
			file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
		if (!file)
			line = 0;
	}

	struct mt_symframe *f = out->frames;

	if (nchain == 0) {
		f[0].function = elf_function(img, pc, pool, &err);
		f[0].file = full_path(file, comp_dir, pool, &err);
		f[0].line = line > 0 ? (uint32_t)line : 0;
		if (f[0].function || f[0].file)
			out->nframes = 1;
	} else {
		/* Deeper chains than fit keep their innermost levels and the
		 * real function, whose call site stays right. */
		uint32_t n = nchain > MT_SYM_MAX_INLINE ? MT_SYM_MAX_INLINE : (uint32_t)nchain;

		for (uint32_t k = 0; k < n; k++) {
			int i = k + 1 == n ? nchain - 1 : (int)k;

			f[k].function = die_function(&chain[i], pool, &err);
			if (i == 0) {
				f[k].file = full_path(file, comp_dir, pool, &err);
				f[k].line = line > 0 ? (uint32_t)line : 0;
			} else {
				call_site(&chain[i - 1], comp_dir, pool, &err, &f[k]);
			}
		}
		if (!f[n - 1].function)
			f[n - 1].function = elf_function(img, pc, pool, &err);
		out->nframes = n;
	}
	free(chain);

	if (out->nframes > 0 && comp_dir && !rust_library_root(comp_dir)) {
		/* Tidied like the file names, so that they still start with it. */
		char *dir = strdup(comp_dir);

		if (!dir)
			return -ENOMEM;
		tidy_path(dir);
		out->comp_dir = strpool_intern(pool, dir, &err);
		free(dir);
	}
	set_flags(out);
	return err;
}
