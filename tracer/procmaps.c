/*
 * procmaps.c - parsing /proc/PID/maps, and finding free address space near
 * a module (scratch pages must lie within +-2 GiB of the code they serve, so
 * that rip-relative instructions can run there).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"

int pmaps_read(pid_t pid, struct pmaps *out)
{
	char path[64], *line = NULL;
	size_t cap = 0, alloc = 0;
	FILE *f;
	int err = 0;

	out->v = NULL;
	out->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct pmap m = {0};
		char perms[8];
		unsigned major, minor;
		int pathpos = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &m.start, &m.end, perms, &m.offset, &major, &minor, &m.ino,
			   &pathpos) < 7)
			continue;
		m.dev = ((uint64_t)major << 32) | minor;
		m.prot = (perms[0] == 'r' ? PMAP_R : 0) | (perms[1] == 'w' ? PMAP_W : 0) |
			 (perms[2] == 'x' ? PMAP_X : 0);
		if (pathpos > 0 && line[pathpos] && line[pathpos] != '\n') {
			size_t len = strcspn(line + pathpos, "\n");

			m.path = strndup(line + pathpos, len);
			if (!m.path) {
				err = -ENOMEM;
				break;
			}
		}
		if (out->n == alloc) {
			size_t na = alloc ? alloc * 2 : 64;
			struct pmap *nv = realloc(out->v, na * sizeof(*nv));

			if (!nv) {
				free(m.path);
				err = -ENOMEM;
				break;
			}
			out->v = nv;
			alloc = na;
		}
		out->v[out->n++] = m;
	}
	free(line);
	fclose(f);
	if (err)
		pmaps_free(out);
	return err;
}

void pmaps_free(struct pmaps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

static uint64_t dist(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

uint64_t pmaps_find_gap(const struct pmaps *m, uint64_t near, uint64_t len, uint64_t lo,
			uint64_t hi)
{
	uint64_t best = 0, prev_end = lo;

	/* Gaps lie between consecutive mappings; candidates are the gap's ends
	 * closest to `near`. */
	for (size_t i = 0; i <= m->n; i++) {
		uint64_t gap_lo = prev_end;
		uint64_t gap_hi = i < m->n ? m->v[i].start : hi;

		if (gap_lo < lo)
			gap_lo = lo;
		if (gap_hi > hi)
			gap_hi = hi;
		if (gap_hi > gap_lo && gap_hi - gap_lo >= len) {
			/* take the end of the gap nearest to `near` */
			uint64_t cand = near < gap_lo ? gap_lo : gap_hi - len;

			if (near >= gap_lo && near + len <= gap_hi)
				cand = near;
			if (!best || dist(cand, near) < dist(best, near))
				best = cand;
		}
		if (i < m->n && m->v[i].end > prev_end)
			prev_end = m->v[i].end;
	}
	return best;
}
