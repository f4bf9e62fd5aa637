/*
 * symbolizer/debuginfo.h - where a file's separate debug information is,
 * for libdwfl's Dwfl_Callbacks.find_debuginfo.  Only the code that opens
 * files with libdwfl (symbolizer/image.c, the tracer's unwinder) uses it,
 * so this header pulls in libdwfl.
 */
#ifndef MEMTRACK_SYMBOLIZER_DEBUGINFO_H
#define MEMTRACK_SYMBOLIZER_DEBUGINFO_H

#include <elfutils/libdwfl.h>

/* dwfl_standard_find_debuginfo(), without asking debuginfod unless
 * DEBUGINFOD_URLS names a server: an fd and *debuginfo_file_name (the
 * caller's to free), or -1. */
int sym_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
		       const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		       char **debuginfo_file_name);

#endif
