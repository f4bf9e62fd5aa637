/*
 * symbolizer/elf.c - ELF facts through libelf (elf.h): program headers,
 * build-id note, and the file's function symbols by name, read once per
 * file by symtab.c (an allocator is looked up by about a dozen names per
 * module).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf.h"
#include "internal.h"

struct elfinfo {
	int fd;
	Elf *elf;
	int is_dyn, has_interp;
	uint64_t entry;
	GElf_Phdr *loads;
	size_t nloads;
	uint8_t build_id[64];
	size_t build_id_len;
	struct symtab *syms; /* names borrowed from elf */
};

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
	size_t phnum;
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
		if (sh.sh_type == SHT_NOTE && !e->build_id_len)
			read_build_id(e, scn);
	}
	err = symtab_from_elf(&e->syms, e->elf);
	if (err < 0)
		goto out;
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
	symtab_free(e->syms);
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
	return symtab_has_symtab(e->syms);
}

int elfinfo_bias(const struct elfinfo *e, uint64_t start, uint64_t offset, uint64_t *bias)
{
	const GElf_Phdr *found = NULL;

	for (size_t i = 0; i < e->nloads; i++) {
		const GElf_Phdr *ph = &e->loads[i];
		uint64_t align = ph->p_align > 1 ? ph->p_align : 1;
		uint64_t seg_off = ph->p_offset & ~(align - 1);

		/* A mapping of offset `offset` maps the segment's page-aligned
		 * start when offset falls inside the segment's file range.
		 * lld starts each segment in the file page where the last
		 * one ended, at the next page of addresses: its read-only
		 * segment and its code then share the page at offset 0, mapped
		 * twice, 0x1000 apart.  Only the segment's flags tell which
		 * one a mapping is, and the tracer asks about its code. */
		if (offset >= seg_off &&
		    offset < ph->p_offset + (ph->p_filesz ? ph->p_filesz : 1) &&
		    (!found || (!(found->p_flags & PF_X) && (ph->p_flags & PF_X))))
			found = ph;
	}
	if (!found)
		return -ENOENT;
	*bias = start - (found->p_vaddr - (found->p_offset - offset));
	return 0;
}

size_t elfinfo_build_id(const struct elfinfo *e, uint8_t *out, size_t max)
{
	size_t n = e->build_id_len < max ? e->build_id_len : max;

	memcpy(out, e->build_id, n);
	return e->build_id_len;
}

int elfinfo_symbol(struct elfinfo *e, const char *name, uint64_t *value, uint64_t *size)
{
	return symtab_by_name(e->syms, name, 0, value, size);
}

int elfinfo_symbol_any(struct elfinfo *e, const char *name, uint64_t *value, uint64_t *size)
{
	return symtab_by_name(e->syms, name, 1, value, size);
}

int elfinfo_function_at(const struct elfinfo *e, uint64_t addr, uint64_t *value, uint64_t *size)
{
	int err = 0;

	return e->syms && symtab_by_addr(e->syms, addr, value, size, &err) && *size ? 0 : -ENOENT;
}
