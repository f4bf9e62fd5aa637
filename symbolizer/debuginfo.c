/*
 * symbolizer/debuginfo.c - a file's separate debug information, found as
 * dwfl_standard_find_debuginfo() finds it (debuginfo.h): by build-id under
 * /usr/lib/debug/.build-id, then by name (its .gnu_debuglink's, or
 * FILE.debug) beside the file, in the .debug directory beside it and
 * under /usr/lib/debug, and again from the path a link leads to.  A
 * module with a build-id takes only a file of that build-id; one without,
 * the file of its debuglink's CRC.
 *
 * What that function does last, for a file whose debug information is
 * nowhere here, is ask a debuginfod server; and to learn whether one is
 * set, libdw loads libdebuginfod, which brings libcurl with its TLS and
 * Kerberos libraries and initializes them: 7 MB of memory and 5 ms, in
 * every tracer and report that meets such a file (python3, a stripped
 * program).  So it is asked only when DEBUGINFOD_URLS names a server, as
 * debuginfod-aware tools read it.  The file dwz moves a module's shared
 * DWARF to (asked by name without a CRC, once the module's own DWARF is
 * open) is left to libdw, which knows how to check it.
 */
#include "debuginfo.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define DEBUG_DIR "/usr/lib/debug"

/* The CRC-32 of a whole file, as .gnu_debuglink holds it. */
static int file_crc(int fd, uint32_t *crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0L, Z_NULL, 0);
	off_t at = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), at)) > 0) {
		c = crc32(c, buf, (uInt)n);
		at += n;
	}
	*crc = (uint32_t)c;
	return n < 0 ? -1 : 0;
}

/* Is the file at fd the module's debug information?  A module with a
 * build-id takes only a file of the same build-id; one without takes the
 * file whose CRC its debuglink names (check), or any. */
static int fits(Dwfl_Module *mod, int fd, int check, GElf_Word crc)
{
	const unsigned char *want;
	GElf_Addr vaddr;
	int want_len = dwfl_module_build_id(mod, &want, &vaddr);
	uint32_t c;

	if (want_len > 0) {
		Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		const void *have = NULL;
		ssize_t have_len = elf ? dwelf_elf_gnu_build_id(elf, &have) : -1;
		int same = have_len == want_len && memcmp(want, have, (size_t)want_len) == 0;

		elf_end(elf);
		return same;
	}
	return !check || (file_crc(fd, &c) == 0 && c == crc);
}

/* What a search by name goes through. */
struct search {
	Dwfl_Module *mod;
	struct stat self; /* the file itself, never its own debug file */
	int check;	  /* the CRC is the debuglink's to check */
	GElf_Word crc;
};

/* dir/sub/name (sub may be NULL), if it is there and the module's; 1 when
 * it is (its fd and path in *fd, *found), 0 when it is not there, -1 when
 * it is there but not the module's (the search goes on elsewhere). */
static int try_at(const struct search *se, const char *dir, const char *sub, const char *name,
		  int *fd, char **found)
{
	char *path;
	struct stat st;
	int n = sub ? asprintf(&path, "%s/%s/%s", dir, sub, name)
		    : asprintf(&path, "%s/%s", dir, name);

	if (n < 0)
		return 0;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		free(path);
		return 0;
	}
	if (fstat(*fd, &st) < 0 || (st.st_dev == se->self.st_dev && st.st_ino == se->self.st_ino) ||
	    !fits(se->mod, *fd, se->check, se->crc)) {
		close(*fd);
		free(path);
		return -1;
	}
	*found = path;
	return 1;
}

/*
 * By name, in the places libdw looks: the file's directory, the .debug
 * directory beside it, then (for an absolute path) under /usr/lib/debug,
 * by the file's directory whole, then without its first component, and
 * so on down to /usr/lib/debug itself.  The name is the debuglink's, or
 * without one FILE.debug (and under /usr/lib/debug also FILE).  A place
 * that holds a file not the module's ends that place's search.
 */
static int by_name(const struct search *se, const char *file_name, const char *debuglink_file,
		   char **found)
{
	char *copy = strdup(file_name), *dir, *own = NULL;
	const char *base = strrchr(file_name, '/'), *name = debuglink_file, *sub;
	int fd = -1, r;

	base = base ? base + 1 : file_name;
	if (!copy)
		return -1;
	dir = dirname(copy);
	if (!name && asprintf(&own, "%s.debug", base) >= 0)
		name = own;
	if (!name)
		goto out;
	if (try_at(se, dir, NULL, name, &fd, found) > 0 ||
	    try_at(se, dir, ".debug", name, &fd, found) > 0)
		goto out;
	fd = -1;
	/* under /usr/lib/debug: by the file's directory, then without its
	 * first component, and so on, then in /usr/lib/debug itself */
	for (sub = dir[0] == '/' && dir[1] ? dir + 1 : NULL; sub;) {
		const char *at = *sub ? sub : NULL;

		r = try_at(se, DEBUG_DIR, at, name, &fd, found);
		if (r == 0 && !debuglink_file)
			r = try_at(se, DEBUG_DIR, at, base, &fd, found);
		if (r > 0)
			goto out;
		fd = -1;
		if (r < 0 || !at)
			break;
		sub = strchr(sub, '/');
		sub = sub ? sub + 1 : "";
	}
out:
	free(own);
	free(copy);
	return fd;
}

/* The search by name for a file, or for the file its path leads to. */
static int by_debuglink(Dwfl_Module *mod, const char *file_name, const char *debuglink_file,
			GElf_Word crc, char **found)
{
	struct search se = {.mod = mod, .check = debuglink_file && crc, .crc = crc};
	char *real;
	int fd;

	if (!file_name || stat(file_name, &se.self) < 0)
		return -1;
	fd = by_name(&se, file_name, debuglink_file, found);
	if (fd < 0 && (real = realpath(file_name, NULL))) {
		/* a link: the debug file may be beside what it leads to */
		if (strcmp(real, file_name))
			fd = by_name(&se, real, debuglink_file, found);
		free(real);
	}
	return fd;
}

int sym_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
		       const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		       char **debuginfo_file_name)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	int fd;

	/* a server named; or, a name without a CRC, the file dwz moved the
	 * module's shared DWARF to (asked once the module's DWARF is open),
	 * which libdw knows how to check */
	if ((urls && *urls) || (debuglink_file && !debuglink_crc))
		return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
						    debuglink_file, debuglink_crc,
						    debuginfo_file_name);
	fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					  debuglink_crc, debuginfo_file_name);
	if (fd >= 0)
		return fd;
	return by_debuglink(mod, file_name, debuglink_file, debuglink_crc, debuginfo_file_name);
}
