/*
 * symbolizer/symbolizer.c - the public face of the symbolizer (symbolizer.h):
 * ties the module map, the images, the frame resolver, the cache and the
 * string pool together.
 *
 * A pc goes: module map (which module, in which address space) -> image
 * (that module's file, opened on first use) -> cache, or frames_resolve()
 * through libdw on a miss.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "symbolizer.h"
#include "internal.h"

struct symbolizer {
	struct modmap modules;
	struct image_set images;
	struct strpool *strings;
	struct symcache *cache;
};

int sym_open(struct symbolizer **out)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = strpool_open(&s->strings);
	if (ret < 0)
		goto out;
	ret = symcache_open(&s->cache);
	if (ret < 0)
		goto out;
	*out = s;
	return 0;
out:
	sym_close(s);
	return ret;
}

int sym_add_module(struct symbolizer *s, const struct mt_module *m)
{
	if (!s || !m || !m->path || m->start >= m->end || m->build_id_len > MT_LOG_MAX_BUILD_ID)
		return -EINVAL;

	struct image *img = image_get(&s->images, m);

	if (!img)
		return -ENOMEM;
	return modmap_add(&s->modules, m, img);
}

int sym_resolve(struct symbolizer *s, uint32_t space, uint64_t pc, struct mt_symbol *out)
{
	int err = 0;

	if (!s || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->space = space;
	out->pc = pc;

	const struct module *mod = modmap_find(&s->modules, space, pc, &err);

	if (!mod)
		return err;
	out->module = mod->m.id;
	out->offset = pc - mod->m.bias;

	/* A file we cannot open, or not the build recorded: the module is
	 * known, nothing more. */
	if (!image_ready(mod->img))
		return 0;
	if (symcache_get(s->cache, mod->img, pc, out))
		return 0;
	err = frames_resolve(mod->img, pc, s->strings, out);
	if (err < 0)
		return err;
	return symcache_put(s->cache, mod->img, pc, out);
}

enum sym_module_state sym_module_state(struct symbolizer *s, uint32_t module_id)
{
	const struct module *mod = s ? modmap_by_id(&s->modules, module_id) : NULL;

	if (!mod)
		return SYM_MODULE_UNKNOWN;
	if (image_ready(mod->img))
		return SYM_MODULE_OPEN;
	switch (mod->img->state) {
	case IMAGE_MISSING:
		return SYM_MODULE_MISSING;
	case IMAGE_CHANGED:
		return SYM_MODULE_CHANGED;
	default:
		return SYM_MODULE_UNREADABLE;
	}
}

int sym_module_has_lines(struct symbolizer *s, uint32_t module_id)
{
	const struct module *mod = s ? modmap_by_id(&s->modules, module_id) : NULL;

	return mod ? image_has_lines(mod->img) : 0;
}

void sym_close(struct symbolizer *s)
{
	if (!s)
		return;
	modmap_free(&s->modules);
	image_set_free(&s->images);
	symcache_close(s->cache);
	strpool_close(s->strings);
	free(s);
}
