/*
 * fuzz_log.c - a libFuzzer target: arbitrary bytes read as a memtrack log,
 * through the reader and every report the analyzer makes of it.
 *
 * Each input runs twice: as it is, so the framing's checks (magic, lengths,
 * CRCs) are what meets it, and once more with the header's and every
 * chunk's checksums recomputed, so that a mutated record reaches the
 * decoder past the CRC that would otherwise reject it.  Reports write to
 * /dev/null: what is checked is that nothing crashes, leaks or trips a
 * sanitizer, whatever the bytes.
 *
 * The mutator adds what libFuzzer's byte-level mutations rarely make of a
 * chunked file: a chunk duplicated, two chunks swapped, a chunk dropped,
 * the file cut short at a chunk boundary or inside one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analyzer/analyzer.h"
#include "formats/crc32c.h"

#define HEAD	   16 /* magic, version, block_len */
#define CHUNK_HEAD 20 /* stored_len, raw_len, codec, data_crc, head_crc */
#define MAX_CHUNKS 4096

/* libFuzzer's entry points and its own mutator. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Where the chunks start: past the header and its CRC, or 0 when the
 * header's own length does not fit the file. */
static size_t chunks_start(const uint8_t *d, size_t n)
{
	uint64_t block;

	if (n < HEAD + 4)
		return 0;
	block = get32(d + 12);
	if (HEAD + block + 4 > n)
		return 0;
	return HEAD + (size_t)block + 4;
}

/* Offsets of the whole chunks (with the file's end as the last entry);
 * returns how many. */
static size_t chunk_bounds(const uint8_t *d, size_t n, size_t *at, size_t max)
{
	size_t pos = chunks_start(d, n), k = 0;

	if (!pos)
		return 0;
	while (k + 1 < max && pos + CHUNK_HEAD <= n) {
		uint64_t len = get32(d + pos);

		if (pos + CHUNK_HEAD + len > n)
			break;
		at[k++] = pos;
		pos += CHUNK_HEAD + (size_t)len;
	}
	at[k] = pos;
	return k;
}

/* The header's CRC and every chunk's two CRCs made right again. */
static void fix_checksums(uint8_t *d, size_t n)
{
	size_t pos = chunks_start(d, n);

	if (!pos)
		return;
	put32(d + pos - 4, crc32c(0, d, pos - 4));
	while (pos + CHUNK_HEAD <= n) {
		uint64_t len = get32(d + pos);

		if (pos + CHUNK_HEAD + len > n)
			len = n - pos - CHUNK_HEAD; /* a cut chunk: as much as is there */
		put32(d + pos + 12, crc32c(0, d + pos + CHUNK_HEAD, (size_t)len));
		put32(d + pos + 16, crc32c(0, d + pos, 16));
		pos += CHUNK_HEAD + (size_t)len;
	}
}

static FILE *devnull;

static void report(int (*fn)(const struct an_opts *, FILE *, struct an_status *), struct an_opts o)
{
	struct an_status st = {{0}};

	fn(&o, devnull, &st);
}

/* Every report over the log at path, at a moment the bytes choose. */
static void reports(const char *path, const uint8_t *d, size_t n)
{
	static const struct an_when whens[] = {
		{AN_WHEN_END, 0},    {AN_WHEN_PEAK, 0}, {AN_WHEN_TIME, 1000000},
		{AN_WHEN_EVENT, 20}, {AN_WHEN_MARK, 1},
	};
	struct an_opts o = {.log = path, .kind = AN_KIND_ALL, .limit = 10};
	uint32_t h = n ? crc32c(0, d, n < 64 ? n : 64) : 0;

	o.at = whens[h % (sizeof(whens) / sizeof(whens[0]))];
	report(an_summary, o);
	o.json = 1;
	report(an_summary, o);
	o.json = 0;
	report(an_top, o);
	o.by = AN_BY_TRACEBACK;
	o.cumulative = 1;
	report(an_top, o);
	o.cumulative = 0;
	o.by = AN_BY_FUNCTION;
	o.temporary = 1;
	report(an_top, o);
	o.temporary = 0;
	o.by = AN_BY_LINENO;
	report(an_leaks, o);
	report(an_replay, o);
	o.csv = "-";
	o.svg = "-";
	report(an_timeline, o);
	o.csv = o.svg = NULL;
	o.from = (struct an_when){AN_WHEN_MARK, 1};
	o.to = (struct an_when){AN_WHEN_END, 0};
	report(an_diff, o);
	o.log2 = path;
	report(an_diff, o);
	o.log2 = NULL;
	for (const char *const *f =
		     (const char *const[]){"folded", "massif", "csv", "json", "pprof", NULL};
	     *f; f++) {
		o.format = *f;
		o.by = f[0][0] == 'j' ? AN_BY_TRACEBACK : AN_BY_LINENO;
		report(an_export, o);
	}
	/* the page replays the log five times where the others replay it once:
	 * one input in three keeps the pass short */
	o.format = NULL;
	o.output = "-";
	if (h % 3 == 0)
		report(an_report, o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	uint8_t *copy;

	if (fd < 0) {
		fd = memfd_create("fuzz-log", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		devnull = fopen("/dev/null", "w");
		if (!devnull)
			abort();
	}
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			fix_checksums(copy, size);
		if (ftruncate(fd, 0) < 0 || pwrite(fd, copy, size, 0) != (ssize_t)size)
			abort();
		reports(path, copy, size);
	}
	free(copy);
	return 0;
}

/* Chunk-level mutations, one in two; libFuzzer's own otherwise. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed)
{
	static size_t at[MAX_CHUNKS];
	size_t k = chunk_bounds(data, size, at, MAX_CHUNKS);
	uint8_t *tmp;
	size_t a, b, la, lb;

	srand(seed);
	if (k < 2 || rand() % 2)
		return LLVMFuzzerMutate(data, size, max);
	a = (size_t)rand() % k;
	b = (size_t)rand() % k;
	la = at[a + 1] - at[a];
	lb = at[b + 1] - at[b];
	switch (rand() % 4) {
	case 0: /* chunk a again, after chunk b */
		if (size + la > max)
			return LLVMFuzzerMutate(data, size, max);
		tmp = malloc(la);
		if (!tmp)
			return size;
		memcpy(tmp, data + at[a], la);
		memmove(data + at[b + 1] + la, data + at[b + 1], size - at[b + 1]);
		memcpy(data + at[b + 1], tmp, la);
		free(tmp);
		return size + la;
	case 1: /* a and b swapped (a before b) */
		if (a > b) {
			size_t t = a;

			a = b;
			b = t;
			la = at[a + 1] - at[a];
			lb = at[b + 1] - at[b];
		}
		if (a == b)
			return size;
		tmp = malloc(at[b + 1] - at[a]);
		if (!tmp)
			return size;
		memcpy(tmp, data + at[b], lb);
		memcpy(tmp + lb, data + at[a + 1], at[b] - at[a + 1]);
		memcpy(tmp + lb + (at[b] - at[a + 1]), data + at[a], la);
		memcpy(data + at[a], tmp, at[b + 1] - at[a]);
		free(tmp);
		return size;
	case 2: /* chunk a dropped */
		memmove(data + at[a], data + at[a + 1], size - at[a + 1]);
		return size - la;
	default: /* cut at a chunk boundary, or inside chunk a */
		return rand() % 2 ? at[a] : at[a] + (size_t)rand() % la;
	}
}
