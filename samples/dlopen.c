/*
 * dlopen.c - loads samples' libplugin.so at run time, allocates through it
 * (its plugin_fill calls libc's malloc), and calls the allocator the plugin
 * exports (through dlsym: the program's own calls bind to libc's).
 *
 *   dlopen
 * Prints what stays live at each line, for the tests:
 *   expect heap FILE:LINE BYTES COUNT
 *   note heap FILE:LINE      (libc allocates there too, how much is its own
 *                             business: here, dlopen's bookkeeping)
 */
#include <dlfcn.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "say.h"

int main(int argc, char **argv)
{
	char self[4096], path[4096];
	void *h, **blocks;
	void **(*fill)(int, size_t);
	void *(*plugin_malloc)(size_t);
	void *p;
	int *fill_line, line, open_line;

	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(path, sizeof(path), "%s/libplugin.so", dirname(self));
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL); open_line = __LINE__;
	if (!h) {
		say("dlopen: %s\n", dlerror());
		return 1;
	}
	fill = (void **(*)(int, size_t))dlsym(h, "plugin_fill");
	plugin_malloc = (void *(*)(size_t))dlsym(h, "malloc");
	fill_line = (int *)dlsym(h, "plugin_fill_line");
	if (!fill || !plugin_malloc || !fill_line)
		return 1;
	blocks = fill(8, 1000);
	p = plugin_malloc(300); line = __LINE__;
	if (!blocks || !p)
		return 1;
	say("expect heap samples/libplugin.c:%d %zu 1\n", *fill_line, 8 * sizeof(void *));
	say("expect heap samples/libplugin.c:%d 8000 8\n", *fill_line + 3);
	say("expect heap samples/dlopen.c:%d 300 1\n", line);
	say("note heap samples/dlopen.c:%d\n", open_line);
	return 0;
}
