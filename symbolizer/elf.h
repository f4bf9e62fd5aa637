/*
 * symbolizer/elf.h - the facts the tracer needs from an ELF file on disk:
 * its type, load segments (to compute a load bias from a mapping),
 * build-id, and function symbols by name (.symtab and .dynsym).
 *
 * The one ELF reader of memtrack: the symbolizer reads the same symbol
 * tables by address (symtab.c, behind symbolizer/internal.h).  This header
 * hides libelf: the tracer includes it alone.
 */
#ifndef MEMTRACK_SYMBOLIZER_ELF_H
#define MEMTRACK_SYMBOLIZER_ELF_H

#include <stddef.h>
#include <stdint.h>

struct elfinfo;

/* Opens path; 0 or a negative errno (-ENOEXEC: not a usable ELF file).
 * The caller owns *out and closes it with elfinfo_close(). */
int elfinfo_open(struct elfinfo **out, const char *path);
void elfinfo_close(struct elfinfo *e);

/* Non-zero for ET_DYN (PIE or shared object), zero for ET_EXEC. */
int elfinfo_is_dyn(const struct elfinfo *e);

/* The entry point (an ELF address). */
uint64_t elfinfo_entry(const struct elfinfo *e);

/* Non-zero when the file has a PT_INTERP (a dynamically linked program). */
int elfinfo_has_interp(const struct elfinfo *e);

/* The load bias implied by an executable mapping of file offset `offset`
 * at `start` (where several segments share that file page, the executable
 * one is meant); 0 or -ENOENT if no PT_LOAD covers that offset.  Module
 * offsets are then ELF addresses: pc - bias is what addr2line takes. */
int elfinfo_bias(const struct elfinfo *e, uint64_t start, uint64_t offset, uint64_t *bias);

/* Build-id note; returns its length (0 if none), copying at most max bytes. */
size_t elfinfo_build_id(const struct elfinfo *e, uint8_t *out, size_t max);

/* A defined global or weak function (or ifunc) symbol by exact name, from .symtab or
 * .dynsym; value is an ELF address.  0 or -ENOENT. */
int elfinfo_symbol(struct elfinfo *e, const char *name, uint64_t *value, uint64_t *size);

/* The same, local (static) functions included. */
int elfinfo_symbol_any(struct elfinfo *e, const char *name, uint64_t *value, uint64_t *size);

/* The function symbol (sized) whose code holds the ELF address addr.
 * 0 or -ENOENT. */
int elfinfo_function_at(const struct elfinfo *e, uint64_t addr, uint64_t *value, uint64_t *size);

/* Non-zero when the file has a .symtab (it is not stripped). */
int elfinfo_has_symtab(const struct elfinfo *e);

#endif
