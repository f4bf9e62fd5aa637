/*
 * symbolizer/internal.h - what the symbolizer's files share with each other.
 * Nothing outside symbolizer/ includes this header (it pulls in libdwfl);
 * the rest of memtrack sees only symbolizer.h.
 *
 * None of this is thread-safe: a symbolizer belongs to one thread.
 */
#ifndef MEMTRACK_SYMBOLIZER_INTERNAL_H
#define MEMTRACK_SYMBOLIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <elfutils/libdwfl.h>

#include "../formats/log.h"

/* --- intern.c: strings that live until the pool is closed ---------------- */

struct strpool;

int strpool_open(struct strpool **out);
/* Returns the pool's copy of s (the same pointer for equal strings), or NULL
 * when s is NULL or memory ran out (then *err is set to -ENOMEM). */
const char *strpool_intern(struct strpool *p, const char *s, int *err);
void strpool_close(struct strpool *p);

/* --- symtab.c: ELF symbol tables, by name and by address --------------- */

struct symtab;

/* The function symbols of one file's own .symtab and .dynsym, for lookups
 * by name.  Names are borrowed from elf, which must outlive the table. */
int symtab_from_elf(struct symtab **out, Elf *elf);
/* Every symbol libdwfl searches for mod, for lookups by address.  Names are
 * borrowed from libdwfl (valid until dwfl_end). */
int symtab_from_dwfl(struct symtab **out, Dwfl_Module *mod);
/* Non-zero when symtab_from_elf found a .symtab. */
int symtab_has_symtab(const struct symtab *t);
/* A defined function by exact name (locals only when asked): 0 or -ENOENT. */
int symtab_by_name(const struct symtab *t, const char *name, int locals, uint64_t *value,
		   uint64_t *size);
/* The symbol dwfl_module_addrinfo names for addr (a module address), with
 * its value and size, or NULL (*err = -ENOMEM when the index could not be
 * built on this first lookup). */
const char *symtab_by_addr(struct symtab *t, uint64_t addr, uint64_t *value, uint64_t *size,
			   int *err);
void symtab_free(struct symtab *t);

/* --- demangle.c: C++ and Rust symbol names ------------------------------ */

/* Returns a malloc'd readable form of a mangled name (the caller frees it),
 * or NULL when name is not mangled in a scheme we read (plain C names, Rust
 * v0 "_R" names) or memory ran out. */
char *demangle_symbol(const char *name);

/* --- allocator.c: which functions belong to the allocator --------------- */

/* Non-zero when a demangled function name is an allocator entry point or
 * allocator internals (MT_SYMF_ALLOCATOR). */
int allocator_match(const char *function);

/* --- image.c: one ELF file opened with libdwfl at one load bias ---------- */

enum image_state {
	IMAGE_UNOPENED = 0, /* not looked at yet: opened on first use */
	IMAGE_OPEN,	    /* dwfl and mod are valid */
	IMAGE_FAILED,	    /* unreadable or not ELF */
	IMAGE_MISSING,	    /* no file at its path */
	IMAGE_CHANGED,	    /* a file of another build-id at its path */
};

struct image {
	char *path;
	uint64_t bias;
	uint8_t build_id[MT_LOG_MAX_BUILD_ID];
	uint32_t build_id_len;
	enum image_state state;
	int other_build; /* the file opened was of another build-id */
	int has_lines;	 /* -1 until asked */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	struct fnindex *functions; /* built as pcs arrive, NULL at first */
	struct symtab *symbols;	   /* ELF symbols by address, on first use */
	struct image *next;	   /* in the image set */
};

struct image_set {
	struct image *head;
};

/* Finds the image for (path, bias, build-id), or creates it unopened.
 * Returns NULL when memory ran out.  The set owns the image. */
struct image *image_get(struct image_set *set, const struct mt_module *m);
/* Opens the file on first call; returns non-zero when img->mod is usable. */
int image_ready(struct image *img);
/* The ELF symbol holding pc (a runtime address in the open image), as
 * dwfl_module_addrinfo names it, or NULL; *off is pc's distance from its
 * start, *size its size.  The name is libdwfl's.  Returns NULL with *err
 * set when memory ran out. */
const char *image_symbol(struct image *img, uint64_t pc, uint64_t *off, uint64_t *size, int *err);
/* Non-zero when DWARF line information was found for the image. */
int image_has_lines(struct image *img);
void image_set_free(struct image_set *set);

/* --- fnindex.c: which function and block DIEs hold an address ---------- */

struct fnindex;

/* Finds the subprogram DIE whose code holds addr (a DWARF address inside
 * the unit cudie), creating *idx and indexing the unit on first use.
 * Returns 1 and fills *out when found, 0 when not, -ENOMEM. */
int fnindex_find(struct fnindex **idx, Dwarf_Die *cudie, Dwarf_Addr addr, Dwarf_Die *out);
/* Whether the unit's own ranges hold addr: 1, 0, -ENOMEM. */
int fnindex_cu_holds(struct fnindex **idx, Dwarf_Die *cudie, Dwarf_Addr addr);
/* The first child of parent that is a block (inlined subroutine, lexical,
 * try, catch or with block) whose ranges hold addr: 1 and *out, 0 when
 * none, -ENOMEM. */
int fnindex_block(struct fnindex **idx, Dwarf_Die *parent, Dwarf_Addr addr, Dwarf_Die *out);
void fnindex_free(struct fnindex *idx);

/* --- modules.c: which module holds a pc in an address space ------------- */

struct module {
	struct mt_module m; /* m.path points into img->path */
	struct image *img;
};

struct span;

struct modmap {
	struct module *mods; /* in the order they were added */
	size_t n, cap;
	struct span *spans; /* lookup index, sorted by (space, start) */
	int dirty;	    /* spans needs rebuilding */
};

int modmap_add(struct modmap *map, const struct mt_module *m, struct image *img);
/* The module holding (space, pc), the latest added on overlap, or NULL.
 * Returns -ENOMEM through *err when the index could not be built. */
const struct module *modmap_find(struct modmap *map, uint32_t space, uint64_t pc, int *err);
/* The latest added module with this id, or NULL. */
const struct module *modmap_by_id(const struct modmap *map, uint32_t id);
void modmap_free(struct modmap *map);

/* --- frames.c: pc -> inline chain, from DWARF or the ELF symbol tables --- */

/* Fills out->comp_dir, out->nframes and out->frames for pc (a runtime
 * address inside the open image img).  Strings come from pool.  Returns 0
 * or -ENOMEM. */
int frames_resolve(struct image *img, uint64_t pc, struct strpool *pool, struct mt_symbol *out);

/* --- cache.c: resolved frames, keyed by (image, pc) --------------------- */

struct symcache;

int symcache_open(struct symcache **out);
/* Copies a cached answer into out (comp_dir, nframes, frames); returns
 * non-zero on a hit. */
int symcache_get(struct symcache *c, const struct image *img, uint64_t pc, struct mt_symbol *out);
/* Remembers what frames_resolve put in sym.  Returns 0 or -ENOMEM. */
int symcache_put(struct symcache *c, const struct image *img, uint64_t pc,
		 const struct mt_symbol *sym);
void symcache_close(struct symcache *c);

#endif
