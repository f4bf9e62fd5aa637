/*
 * symbolizer/debuginfo.c - a file's separate debug information, found as
 * dwfl_standard_find_debuginfo() finds it (debuginfo.h): by build-id under
 * /usr/lib/debug/.build-id, then by its .gnu_debuglink name next to the
 * file, in the .debug directory beside it and under /usr/lib/debug.
 *
 * What that function does last, for a file whose debug information is
 * nowhere here, is ask a debuginfod server; and to learn whether one is
 * set, libdw loads libdebuginfod, which brings libcurl with its TLS and
 * Kerberos libraries and initializes them: 7 MB of memory and 5 ms, in
 * every tracer and report that meets such a file (python3, a stripped
 * program).  So it is asked only when DEBUGINFOD_URLS names a server, as
 * debuginfod-aware tools read it.
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

/* Is the file at fd the module's debug information?  The same build-id
 * when it has one; else the CRC its debuglink names. */
static int fits(Dwfl_Module *mod, int fd, const char *debuglink_file, GElf_Word crc)
{
	const unsigned char *want;
	GElf_Addr vaddr;
	int want_len = dwfl_module_build_id(mod, &want, &vaddr);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *have = NULL;
	ssize_t have_len = elf ? dwelf_elf_gnu_build_id(elf, &have) : -1;
	int ok;
	uint32_t c;

	if (want_len > 0 && have_len > 0)
		ok = want_len == have_len && memcmp(want, have, (size_t)want_len) == 0;
	else
		ok = debuglink_file && file_crc(fd, &c) == 0 && c == crc;
	elf_end(elf);
	return ok;
}

/* By the debuglink name: next to the file, in .debug beside it, under
 * /usr/lib/debug; not the file itself. */
static int by_debuglink(Dwfl_Module *mod, const char *file_name, const char *debuglink_file,
			GElf_Word crc, char **found)
{
	char *copy, *dir, *path = NULL;
	const char *name = debuglink_file;
	char *own = NULL;
	struct stat self, st;
	int fd = -1;

	if (!file_name || stat(file_name, &self) < 0 || !(copy = strdup(file_name)))
		return -1;
	dir = dirname(copy);
	if (!name) {
		/* no debuglink: FILE.debug, taken only by its build-id */
		const char *base = strrchr(file_name, '/');

		if (asprintf(&own, "%s.debug", base ? base + 1 : file_name) < 0) {
			free(copy);
			return -1;
		}
		name = own;
	}
	for (int where = 0; where < 3 && fd < 0; where++) {
		int n = where == 0   ? asprintf(&path, "%s/%s", dir, name)
			: where == 1 ? asprintf(&path, "%s/.debug/%s", dir, name)
				     : asprintf(&path, "%s%s/%s", DEBUG_DIR, dir, name);

		if (n < 0) {
			path = NULL;
			break;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 &&
		    (fstat(fd, &st) < 0 || (st.st_dev == self.st_dev && st.st_ino == self.st_ino) ||
		     !fits(mod, fd, debuglink_file, crc))) {
			close(fd);
			fd = -1;
		}
		if (fd < 0) {
			free(path);
			path = NULL;
		}
	}
	free(own);
	free(copy);
	if (fd >= 0)
		*found = path;
	return fd;
}

int sym_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
		       const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		       char **debuginfo_file_name)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	int fd;

	if (urls && *urls)
		return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
						    debuglink_file, debuglink_crc,
						    debuginfo_file_name);
	fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					  debuglink_crc, debuginfo_file_name);
	if (fd >= 0)
		return fd;
	return by_debuglink(mod, file_name, debuglink_file, debuglink_crc, debuginfo_file_name);
}
