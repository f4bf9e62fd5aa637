/*
 * elfinfo.c - ELF facts through libelf: program headers, build-id note,
 * and a name -> function symbol map built once per file from .symtab and
 * .dynsym (an allocator is looked up by about a dozen names per module).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfinfo.h"

struct esym {
	const char *name;	/* borrowed from libelf's string table */
	uint64_t value, size;
	int local;		/* STB_LOCAL: no other module can bind to it */
};

struct elfinfo {
	int fd;
	Elf *elf;
	int is_dyn, has_interp, has_symtab;
	uint64_t entry;
	GElf_Phdr *loads;
	size_t nloads;
	uint8_t build_id[64];
	size_t build_id_len;
	struct esym *syms;	/* sorted by name */
	size_t nsyms;
};

static int cmp_esym(const void *a, const void *b)
{
	const struct esym *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	/* prefer sized entries first so lookups see them */
	if (c)
		return c;
	return (y->size > 0) - (x->size > 0);
}

static int add_symbols(struct elfinfo *e, Elf_Scn *scn, const GElf_Shdr *sh, size_t *alloc)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n;

	if (!data || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		int type;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value)
			continue;
		name = elf_strptr(e->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (e->nsyms == *alloc) {
			size_t na = *alloc ? *alloc * 2 : 1024;
			struct esym *nv = realloc(e->syms, na * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			e->syms = nv;
			*alloc = na;
		}
		e->syms[e->nsyms++] = (struct esym){name, sym.st_value, sym.st_size,
						    GELF_ST_BIND(sym.st_info) == STB_LOCAL};
	}
	return 0;
}

static void read_build_id(struct elfinfo *e, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + name_off, "GNU", 4)) {
			size_t len = nh.n_descsz < sizeof(e->build_id) ? nh.n_descsz
								      : sizeof(e->build_id);

			memcpy(e->build_id, (char *)data->d_buf + desc_off, len);
			e->build_id_len = len;
			return;
		}
	}
}

int elfinfo_open(struct elfinfo **out, const char *path)
{
	struct elfinfo *e = calloc(1, sizeof(*e));
	size_t phnum, alloc = 0;
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	int err = -ENOEXEC;

	if (!e)
		return -ENOMEM;
	elf_version(EV_CURRENT);
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0) {
		err = -errno;
		goto out;
	}
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh) ||
	    elf_getphdrnum(e->elf, &phnum))
		goto out;
	e->is_dyn = eh.e_type == ET_DYN;
	e->entry = eh.e_entry;
	e->loads = calloc(phnum ? phnum : 1, sizeof(*e->loads));
	if (!e->loads) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD)
			e->loads[e->nloads++] = ph;
		else if (ph.p_type == PT_INTERP)
			e->has_interp = 1;
	}
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			if (sh.sh_type == SHT_SYMTAB)
				e->has_symtab = 1;
			err = add_symbols(e, scn, &sh, &alloc);
			if (err < 0)
				goto out;
		} else if (sh.sh_type == SHT_NOTE && !e->build_id_len) {
			read_build_id(e, scn);
		}
	}
	qsort(e->syms, e->nsyms, sizeof(*e->syms), cmp_esym);
	*out = e;
	return 0;
out:
	elfinfo_close(e);
	return err;
}

void elfinfo_close(struct elfinfo *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e->loads);
	free(e->syms);
	free(e);
}

int elfinfo_is_dyn(const struct elfinfo *e)
{
	return e->is_dyn;
}

uint64_t elfinfo_entry(const struct elfinfo *e)
{
	return e->entry;
}

int elfinfo_has_interp(const struct elfinfo *e)
{
	return e->has_interp;
}

int elfinfo_has_symtab(const struct elfinfo *e)
{
	return e->has_symtab;
}

int elfinfo_bias(const struct elfinfo *e, uint64_t start, uint64_t offset, uint64_t *bias)
{
	for (size_t i = 0; i < e->nloads; i++) {
		const GElf_Phdr *ph = &e->loads[i];
		uint64_t align = ph->p_align > 1 ? ph->p_align : 1;
		uint64_t seg_off = ph->p_offset & ~(align - 1);

		/* A mapping of offset `offset` maps the segment's page-aligned
		 * start when offset falls inside the segment's file range. */
		if (offset >= seg_off && offset < ph->p_offset + (ph->p_filesz ? ph->p_filesz : 1)) {
			*bias = start - (ph->p_vaddr - (ph->p_offset - offset));
			return 0;
		}
	}
	return -ENOENT;
}

size_t elfinfo_build_id(const struct elfinfo *e, uint8_t *out, size_t max)
{
	size_t n = e->build_id_len < max ? e->build_id_len : max;

	memcpy(out, e->build_id, n);
	return e->build_id_len;
}

static int lookup(const struct elfinfo *e, const char *name, int locals, uint64_t *value,
		  uint64_t *size)
{
	size_t lo = 0, hi = e->nsyms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(e->syms[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < e->nsyms && !strcmp(e->syms[lo].name, name); lo++) {
		if (e->syms[lo].local && !locals)
			continue;
		*value = e->syms[lo].value;
		*size = e->syms[lo].size;
		return 0;
	}
	return -ENOENT;
}

int elfinfo_symbol(struct elfinfo *e, const char *name, uint64_t *value, uint64_t *size)
{
	return lookup(e, name, 0, value, size);
}

int elfinfo_symbol_any(struct elfinfo *e, const char *name, uint64_t *value, uint64_t *size)
{
	return lookup(e, name, 1, value, size);
}

int elfinfo_function_at(const struct elfinfo *e, uint64_t addr, uint64_t *value, uint64_t *size)
{
	/* asked once per --mark address: a scan of the sorted-by-name table */
	for (size_t i = 0; i < e->nsyms; i++) {
		const struct esym *s = &e->syms[i];

		if (s->size && addr >= s->value && addr < s->value + s->size) {
			*value = s->value;
			*size = s->size;
			return 0;
		}
	}
	return -ENOENT;
}
