/*
 * log_unpack.c - rewrites a memtrack log with every zstd chunk stored raw
 * (codec 0), its CRCs recomputed: the same records, as bytes the fuzzer
 * can mutate into other records (a mutated zstd block only fails to
 * decompress).  Only the framing of formats/FORMAT.md is read here: the
 * zstd chunks are one stream, decoded in order.
 *
 *   log_unpack IN OUT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "formats/crc32c.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int fail(const char *what)
{
	fprintf(stderr, "log_unpack: %s\n", what);
	return 2;
}

int main(int argc, char **argv)
{
	FILE *in, *out;
	ZSTD_DCtx *dz;
	uint8_t *d, head[20];
	long n;
	size_t pos;
	int ret = 0;

	if (argc != 3)
		return fail("usage: log_unpack IN OUT");
	in = fopen(argv[1], "rb");
	if (!in || fseek(in, 0, SEEK_END) || (n = ftell(in)) < 20 || fseek(in, 0, SEEK_SET))
		return fail("cannot read the input");
	d = malloc((size_t)n);
	if (!d || fread(d, 1, (size_t)n, in) != (size_t)n)
		return fail("cannot read the input");
	fclose(in);
	out = fopen(argv[2], "wb");
	if (!out)
		return fail("cannot write the output");
	pos = 16 + (size_t)get32(d + 12) + 4;
	if (pos > (size_t)n)
		return fail("the header runs past the end");
	fwrite(d, 1, pos, out);
	dz = ZSTD_createDCtx();
	if (!dz)
		return fail("out of memory");
	while (pos + 20 <= (size_t)n) {
		uint32_t stored = get32(d + pos), raw = get32(d + pos + 4),
			 codec = get32(d + pos + 8);
		uint8_t *data = d + pos + 20, *plain = NULL;

		if (pos + 20 + stored > (size_t)n)
			break; /* a cut chunk: left out */
		if (codec == 1) {
			ZSTD_inBuffer in = {data, stored, 0};
			ZSTD_outBuffer o = {NULL, raw, 0};

			plain = malloc(raw ? raw : 1);
			o.dst = plain;
			while (plain && in.pos < in.size && o.pos < o.size &&
			       !ZSTD_isError(ZSTD_decompressStream(dz, &o, &in)))
				;
			if (!plain || in.pos != in.size || o.pos != raw) {
				ret = fail("a zstd chunk does not decompress");
				free(plain);
				break;
			}
			data = plain;
			stored = raw;
			codec = 0;
		}
		put32(head, stored);
		put32(head + 4, raw);
		put32(head + 8, codec);
		put32(head + 12, crc32c(0, data, stored));
		put32(head + 16, crc32c(0, head, 16));
		fwrite(head, 1, 20, out);
		fwrite(data, 1, stored, out);
		pos += 20 + get32(d + pos);
		free(plain);
	}
	ZSTD_freeDCtx(dz);
	if (fclose(out))
		return fail("cannot write the output");
	free(d);
	return ret;
}
