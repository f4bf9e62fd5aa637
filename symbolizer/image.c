/*
 * symbolizer/image.c - ELF files opened with libdwfl, one per (path, load
 * bias, build-id).
 *
 * Each image gets a Dwfl of its own holding that single module, rather than
 * one Dwfl per address space:
 * - the same file at the same bias is opened once however many address
 *   spaces map it (every fork child repeats its parent's map);
 * - libdwfl refuses overlapping modules in one Dwfl (DWFL_E_OVERLAP), while
 *   an address space's history may hold overlapping modules (a library
 *   unmapped and another mapped in its place, an exec): which module a pc
 *   belongs to is decided by modules.c, latest added first, not by libdwfl;
 * - a file is opened lazily, when a pc first needs it, which incremental
 *   reporting into a shared Dwfl would make awkward.
 *
 * Files are reported "offline" with dwfl_report_elf().  For ET_DYN, with
 * add_p_vaddr set, libdwfl places the file at base + p_vaddr, so its bias is
 * base: passing the recorded load bias makes runtime pcs resolve as they
 * are.  For ET_EXEC libdwfl ignores base and uses the file's own addresses
 * (bias 0, as recorded).  Separate debug information is found as
 * dwfl_standard_find_debuginfo finds it, debuginfod asked only when set
 * (debuginfo.c): build-id under /usr/lib/debug/.build-id, then
 * .gnu_debuglink next to the file, in .debug/ and under /usr/lib/debug.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "debuginfo.h"
#include "internal.h"

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = sym_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = NULL, /* the default ":.debug:/usr/lib/debug" */
};

#define DELETED_SUFFIX " (deleted)"

struct image *image_get(struct image_set *set, const struct mt_module *m)
{
	for (struct image *img = set->head; img; img = img->next) {
		if (img->bias == m->bias && img->build_id_len == m->build_id_len &&
		    memcmp(img->build_id, m->build_id, m->build_id_len) == 0 &&
		    strcmp(img->path, m->path) == 0)
			return img;
	}

	struct image *img = calloc(1, sizeof(*img));

	if (!img)
		return NULL;
	img->path = strdup(m->path);
	if (!img->path) {
		free(img);
		return NULL;
	}
	img->bias = m->bias;
	img->build_id_len = m->build_id_len;
	memcpy(img->build_id, m->build_id, m->build_id_len);
	img->has_lines = -1;
	img->next = set->head;
	set->head = img;
	return img;
}

/* A file whose build-id differs from the one recorded is another build of
 * the program: its lines would be wrong, so it is not used at all.  A file
 * without a build-id cannot be the one recorded either. */
static int build_id_matches(const struct image *img, Dwfl_Module *mod)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	Dwarf_Addr bias;

	if (img->build_id_len == 0)
		return 1;
	if (!dwfl_module_getelf(mod, &bias))
		return 0;

	int len = dwfl_module_build_id(mod, &bits, &vaddr);

	return len > 0 && (uint32_t)len == img->build_id_len &&
	       memcmp(bits, img->build_id, len) == 0;
}

/* Every open image keeps its file (and its debug file) open.  A process
 * maps hundreds of libraries, and a log may hold many processes: when the
 * descriptors run out, raise the soft limit to the hard one, once, rather
 * than leave the remaining modules unresolved. */
static int raise_fd_limit(void)
{
	static int raised;
	struct rlimit lim;

	if (raised || getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max)
		return 0;
	raised = 1;
	lim.rlim_cur = lim.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

static int report(struct image *img, const char *path)
{
	Dwfl *dwfl = dwfl_begin(&offline_callbacks);

	if (!dwfl)
		return 0;
	dwfl_report_begin(dwfl);

	Dwfl_Module *mod = dwfl_report_elf(dwfl, path, path, -1, img->bias, true);
	int error = errno;
	int ended = dwfl_report_end(dwfl, NULL, NULL) == 0;

	if (!ended || !mod || !build_id_matches(img, mod)) {
		if (ended && mod)
			img->other_build = 1; /* there, but not the build recorded */
		dwfl_end(dwfl);
		errno = error;
		return 0;
	}
	img->dwfl = dwfl;
	img->mod = mod;
	img->state = IMAGE_OPEN;
	return 1;
}

static int try_open(struct image *img, const char *path)
{
	errno = 0;
	if (report(img, path))
		return 1;
	return errno == EMFILE && raise_fd_limit() && report(img, path);
}

int image_ready(struct image *img)
{
	if (img->state != IMAGE_UNOPENED)
		return img->state == IMAGE_OPEN;

	img->state = IMAGE_FAILED;
	if (try_open(img, img->path))
		return 1;

	/* /proc/PID/maps names a file removed while mapped "PATH (deleted)".
	 * A file now at PATH is only trusted when its build-id proves it is
	 * the same build (reinstalled, or the path was recorded that way). */
	size_t len = strlen(img->path), slen = strlen(DELETED_SUFFIX);
	char *path = NULL;

	if (img->build_id_len > 0 && len > slen &&
	    strcmp(img->path + len - slen, DELETED_SUFFIX) == 0) {
		int ok;

		path = strndup(img->path, len - slen);
		ok = path && try_open(img, path);
		if (ok) {
			free(path);
			return 1;
		}
	}
	/* why, for the reports to say */
	if (img->other_build)
		img->state = IMAGE_CHANGED;
	else if (access(path ? path : img->path, F_OK) != 0 && errno == ENOENT)
		img->state = IMAGE_MISSING;
	free(path);
	return 0;
}

const char *image_symbol(struct image *img, uint64_t pc, uint64_t *off, uint64_t *size, int *err)
{
	uint64_t value;
	const char *name;

	if (!img->symbols) {
		int ret = symtab_from_dwfl(&img->symbols, img->mod);

		if (ret < 0) {
			*err = ret;
			return NULL;
		}
	}
	name = symtab_by_addr(img->symbols, pc, &value, size, err);
	if (name)
		*off = pc - value;
	return name;
}

int image_has_lines(struct image *img)
{
	if (img->has_lines >= 0)
		return img->has_lines;
	img->has_lines = 0;
	if (!image_ready(img))
		return 0;

	/* The first compilation unit with a line table is enough. */
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;

	while ((cu = dwfl_module_nextcu(img->mod, cu, &bias)) != NULL) {
		Dwarf_Lines *lines;
		size_t n;

		if (dwarf_getsrclines(cu, &lines, &n) == 0 && n > 0) {
			img->has_lines = 1;
			break;
		}
	}
	return img->has_lines;
}

void image_set_free(struct image_set *set)
{
	while (set->head) {
		struct image *img = set->head;

		set->head = img->next;
		fnindex_free(img->functions);
		symtab_free(img->symbols);
		if (img->dwfl)
			dwfl_end(img->dwfl);
		free(img->path);
		free(img);
	}
}
