/*
 * test_formats_malformed.c - logs built byte by byte, each departing from
 * formats/FORMAT.md in one way, and the reader's exact answer to each:
 * the return value, the events delivered before the fault, and the
 * one-line reason with its offset.  Records go into stored chunks, so
 * every byte is the test's; the zstd framing is tested with chunks made by
 * zstd's own streaming API, then altered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "formats/crc32c.h"
#include "formats/log_reader.h"
#include "formats/varint.h"

/* Where the first chunk starts with the standard 8-byte header block. */
#define FIRST_CHUNK 28

struct buf {
	uint8_t b[1 << 18];
	size_t n;
};

static void put8(struct buf *o, uint8_t v)
{
	o->b[o->n++] = v;
}

static void putv(struct buf *o, uint64_t v)
{
	o->n = (size_t)(varint_put(o->b + o->n, v) - o->b);
}

static void putz(struct buf *o, int64_t v)
{
	putv(o, zigzag_encode(v));
}

static void put32(struct buf *o, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		put8(o, (uint8_t)(v >> (8 * i)));
}

static void putmem(struct buf *o, const void *p, size_t n)
{
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void set32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* mode 1, flags 0, depth 0, pid 1, start 0, tick 1 ns, cwd "", argc 0 */
static const uint8_t std_block[] = {1, 0, 0, 1, 0, 1, 0, 0};

static void header(struct buf *o, uint32_t version, const uint8_t *block, size_t len)
{
	size_t start = o->n;

	putmem(o, "MEMTRACK", 8);
	put32(o, version);
	put32(o, (uint32_t)len);
	putmem(o, block, len);
	put32(o, crc32c(0, o->b + start, o->n - start));
}

static void std_header(struct buf *o)
{
	o->n = 0;
	header(o, 2, std_block, sizeof(std_block));
}

/* A chunk with explicit header fields (CRCs computed). */
static void chunk_raw(struct buf *o, const uint8_t *data, uint32_t slen, uint32_t ulen,
		      uint32_t codec)
{
	uint8_t head[20];

	set32(head, slen);
	set32(head + 4, ulen);
	set32(head + 8, codec);
	set32(head + 12, crc32c(0, data, slen));
	set32(head + 16, crc32c(0, head, 16));
	putmem(o, head, 20);
	putmem(o, data, slen);
}

/* A stored chunk of the records in rec. */
static void chunk(struct buf *o, const struct buf *rec)
{
	chunk_raw(o, rec->b, (uint32_t)rec->n, (uint32_t)rec->n, 0);
}

/* The log's zstd stream, as the writer makes it: each zchunk() is the
 * next blocks of one frame; `last` ends the frame. */
static ZSTD_CCtx *zc;

static void zstream_start(void)
{
	ZSTD_freeCCtx(zc);
	zc = ZSTD_createCCtx();
	assert_non_null(zc);
	ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, 3);
	ZSTD_CCtx_setParameter(zc, ZSTD_c_contentSizeFlag, 0);
	ZSTD_CCtx_setParameter(zc, ZSTD_c_checksumFlag, 0);
	ZSTD_CCtx_setParameter(zc, ZSTD_c_dictIDFlag, 0);
	ZSTD_CCtx_setParameter(zc, ZSTD_c_windowLog, 20);
}

/* The compressed bytes of rec, next in the stream, into z; their length. */
static size_t zbytes(const struct buf *rec, int last, uint8_t *z, size_t cap)
{
	ZSTD_inBuffer in = {rec->b, rec->n, 0};
	ZSTD_outBuffer out = {z, cap, 0};
	size_t left;

	do {
		left = ZSTD_compressStream2(zc, &out, &in, last ? ZSTD_e_end : ZSTD_e_flush);
		assert_false(ZSTD_isError(left));
	} while (left);
	return out.pos;
}

static void zchunk(struct buf *o, const struct buf *rec, int last)
{
	static uint8_t z[1 << 17];
	size_t n = zbytes(rec, last, z, sizeof(z));

	chunk_raw(o, z, (uint32_t)n, (uint32_t)rec->n, 1);
}

/* An event's tag: its type, bit 0x10 when its thread follows, 0x20 its
 * flags. */
static void ev(struct buf *r, uint8_t type, int thread, int64_t dpid, int64_t dtid, uint64_t flags)
{
	put8(r, (uint8_t)(type | (thread ? 0x10 : 0) | (flags ? 0x20 : 0)));
	if (thread) {
		putz(r, dpid);
		putz(r, dtid);
	}
	if (flags)
		putv(r, flags);
}

static void rss(struct buf *r, uint64_t size)
{
	ev(r, 13, 0, 0, 0, 0);
	putv(r, size);
}

/* A TIMES record of n (skip delta, ticks) pairs. */
static void times(struct buf *r, int n, ...)
{
	va_list ap;

	put8(r, 0x86);
	putv(r, (uint64_t)n);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		putz(r, va_arg(ap, int64_t));
		putv(r, va_arg(ap, uint64_t));
	}
	va_end(ap);
}

static void trailer(struct buf *r, uint64_t events)
{
	put8(r, 0x85);
	putz(r, 0);
	putv(r, 5);
	putv(r, events);
	putv(r, 0);
}

struct outcome {
	int open_rc;
	int rc;	    /* of the next() that did not return 1 */
	int events; /* returned before that */
	int truncated;
	uint64_t last_time, last_addr, last_old_addr, last_arg;
	char msg[512];
};

static void run(const struct buf *file, struct outcome *out)
{
	char path[] = "/tmp/memtrack-malformed-XXXXXX";
	int fd = mkstemp(path);
	struct log_reader *r;
	struct mt_event e;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, file->b, file->n), (ssize_t)file->n);
	close(fd);
	memset(out, 0, sizeof(*out));
	out->open_rc = log_reader_open(&r, path, out->msg, sizeof(out->msg));
	unlink(path);
	if (out->open_rc) {
		assert_null(r);
		return;
	}
	while ((out->rc = log_reader_next(r, &e)) == 1) {
		out->events++;
		out->last_time = e.time_ns;
		out->last_addr = e.addr;
		out->last_old_addr = e.old_addr;
		out->last_arg = e.arg;
	}
	snprintf(out->msg, sizeof(out->msg), "%s", log_reader_error(r));
	out->truncated = log_reader_truncated(r);
	if (out->rc < 0) {
		/* The error sticks, with the same reason. */
		assert_int_equal(log_reader_next(r, &e), out->rc);
		assert_string_equal(log_reader_error(r), out->msg);
		assert_int_equal(out->truncated, 0);
	}
	log_reader_close(r);
}

static void expect_open(const struct buf *file, int rc, const char *msg)
{
	struct outcome o;

	run(file, &o);
	assert_int_equal(o.open_rc, rc);
	assert_string_equal(o.msg, msg);
}

/* Reading fails with -EBADMSG after `events` events, with a reason
 * containing `msg`. */
static void expect_corrupt(const struct buf *file, int events, const char *msg)
{
	struct outcome o;

	run(file, &o);
	assert_int_equal(o.open_rc, 0);
	if (!strstr(o.msg, msg))
		fail_msg("reason \"%s\" lacks \"%s\"", o.msg, msg);
	assert_int_equal(o.rc, -EBADMSG);
	assert_int_equal(o.events, events);
}

/* Reading ends cleanly (cut short: no trailer) after `events` events. */
static void expect_fine(const struct buf *file, int events, struct outcome *o)
{
	run(file, o);
	assert_int_equal(o->open_rc, 0);
	if (o->rc != 0)
		fail_msg("rc %d: %s", o->rc, o->msg);
	assert_int_equal(o->events, events);
}

/* A log of one stored chunk holding rec, after one good RSS event in
 * its own chunk (so that corruption is found after event #0). */
static void log_with(struct buf *file, const struct buf *rec)
{
	struct buf good = {.n = 0};

	std_header(file);
	rss(&good, 4096);
	chunk(file, &good);
	chunk(file, rec);
}

#define SECOND_CHUNK (FIRST_CHUNK + 20 + 3) /* after the good RSS chunk */

static struct buf file, rec;

static void test_open_errors(void **state)
{
	uint8_t block[32];
	char msg[256];
	struct log_reader *r = (void *)1;

	assert_int_equal(log_reader_open(&r, "/nonexistent/memtrack.log", msg, sizeof(msg)),
			 -ENOENT);
	assert_string_equal(msg, "No such file or directory");
	assert_null(r);
	assert_int_equal(log_reader_open(&r, "/tmp", msg, sizeof(msg)), -EISDIR);
	assert_string_equal(msg, "cannot read the log at offset 0: Is a directory");

	file.n = 0;
	expect_open(&file, -ENODATA, "empty file");
	putmem(&file, "abc", 3);
	expect_open(&file, -EBADMSG, "not a memtrack log");
	file.n = 0;
	putmem(&file, "MEMTRACX\x02\0\0\0", 12);
	expect_open(&file, -EBADMSG, "not a memtrack log");
	file.n = 0;
	putmem(&file, "MEM", 3);
	expect_open(&file, -EBADMSG, "log is cut short inside its header (3 of 20 bytes)");

	/* Versions: newer is refused before anything else is read; so is
	 * the first format, which this reader does not read. */
	file.n = 0;
	header(&file, 3, std_block, sizeof(std_block));
	expect_open(&file, -EPROTONOSUPPORT,
		    "log format version 3 is newer than this memtrack supports (2)");
	file.n = 0;
	putmem(&file, "MEMTRACK\xff\xff\xff\xff", 12); /* even with nothing after */
	expect_open(&file, -EPROTONOSUPPORT,
		    "log format version 4294967295 is newer than this memtrack supports (2)");
	file.n = 0;
	header(&file, 0, std_block, sizeof(std_block));
	expect_open(&file, -EBADMSG, "corrupt log header: format version 0 does not exist");
	file.n = 0;
	header(&file, 1, (const uint8_t[]){1, 0, 0, 1, 0, 0, 0}, 7); /* a version 1 header */
	expect_open(&file, -EPROTONOSUPPORT,
		    "log format version 1 is older than this memtrack reads (2): record it "
		    "again, or read it with the memtrack that wrote it");

	/* The header block and its checksum. */
	std_header(&file);
	file.b[17] ^= 1;
	expect_open(&file, -EBADMSG, "corrupt log header: checksum mismatch");
	std_header(&file);
	file.b[FIRST_CHUNK - 1] ^= 0x80; /* in the CRC itself */
	expect_open(&file, -EBADMSG, "corrupt log header: checksum mismatch");
	std_header(&file);
	file.n--;
	expect_open(&file, -EBADMSG, "log is cut short inside its header (27 of 28 bytes)");
	file.n = 0;
	putmem(&file, "MEMTRACK\x02\0\0\0\x01\0\0\x01", 16);
	expect_open(
		&file, -EBADMSG,
		"corrupt log header: a header of 16777217 bytes is larger than the format allows");

	memcpy(block, std_block, sizeof(std_block));
	block[0] = 3; /* mode */
	file.n = 0;
	header(&file, 2, block, sizeof(std_block));
	expect_open(&file, -EBADMSG, "corrupt log header: unknown mode (offset 16)");
	memcpy(block, std_block, sizeof(std_block));
	block[1] = 8; /* flags */
	file.n = 0;
	header(&file, 2, block, sizeof(std_block));
	expect_open(&file, -EBADMSG, "corrupt log header: unknown flags (offset 17)");
	memcpy(block, std_block, sizeof(std_block));
	block[5] = 0; /* a time unit of 0 */
	file.n = 0;
	header(&file, 2, block, sizeof(std_block));
	expect_open(&file, -EBADMSG, "corrupt log header: a time unit of 0 ns (offset 21)");
	memcpy(block, (uint8_t[]){1, 0, 0, 1, 0, 0x81, 0x94, 0xeb, 0xdc, 0x03, 0, 0},
	       12); /* a time unit of 1 s + 1 ns */
	file.n = 0;
	header(&file, 2, block, 12);
	expect_open(&file, -EBADMSG, "corrupt log header: value out of range (offset 21)");
	memcpy(block, std_block, sizeof(std_block));
	block[8] = 0; /* one byte too many */
	file.n = 0;
	header(&file, 2, block, 9);
	expect_open(&file, -EBADMSG,
		    "corrupt log header: unexpected bytes at the end of the header (offset 24)");
	memcpy(block, (uint8_t[]){1, 0, 0, 1, 0, 1, 2, 'a', 0, 0}, 10); /* cwd "a\0" */
	file.n = 0;
	header(&file, 2, block, 10);
	expect_open(&file, -EBADMSG, "corrupt log header: string holds a NUL byte (offset 22)");
	memcpy(block, (uint8_t[]){1, 0, 0, 1, 0, 1, 5, 'a'}, 8); /* cwd runs out */
	file.n = 0;
	header(&file, 2, block, 8);
	expect_open(&file, -EBADMSG, "corrupt log header: string runs past the header (offset 22)");
	memcpy(block, (uint8_t[]){1, 0, 0, 1, 0, 1, 0, 9, 1, 'x'}, 10); /* argc 9, 1 arg */
	file.n = 0;
	header(&file, 2, block, 10);
	expect_open(&file, -EBADMSG,
		    "corrupt log header: more arguments than bytes left (offset 24)");
	memcpy(block, (uint8_t[]){1, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 1, 0, 0},
	       12); /* pid 2^32 */
	file.n = 0;
	header(&file, 2, block, 12);
	expect_open(&file, -EBADMSG, "corrupt log header: value out of range (offset 19)");
	memcpy(block, (uint8_t[]){1, 0, 0, 0x81, 0x00, 0, 1, 0, 0}, 9); /* pid not minimal */
	file.n = 0;
	header(&file, 2, block, 9);
	expect_open(&file, -EBADMSG, "corrupt log header: bad varint (offset 19)");
}

static void test_header_only(void **state)
{
	struct outcome o;

	/* A header and nothing else: the tracer died at once. */
	std_header(&file);
	run(&file, &o);
	assert_int_equal(o.open_rc, 0);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 0);
	assert_int_equal(o.truncated, 1);
	assert_string_equal(
		o.msg,
		"log is cut short before its first event (no trailer; the tracer was killed?)");
}

static void test_chunk_framing(void **state)
{
	struct buf good = {.n = 0};

	rss(&good, 4096);

	/* A damaged chunk header is corruption, even where a damaged length
	 * would point past the end of the file (not truncation). */
	std_header(&file);
	chunk(&file, &good);
	file.b[FIRST_CHUNK + 16] ^= 1;
	expect_corrupt(&file, 0, "corrupt log: the chunk header at offset 28 fails its checksum");
	std_header(&file);
	chunk(&file, &good);
	file.b[FIRST_CHUNK + 1] ^= 0x10; /* stored_len += 4096 */
	expect_corrupt(&file, 0, "corrupt log: the chunk header at offset 28 fails its checksum");

	std_header(&file);
	chunk(&file, &good);
	file.b[FIRST_CHUNK + 20 + 2] ^= 1;
	expect_corrupt(&file, 0, "corrupt log: the chunk at offset 28 fails its checksum");
	std_header(&file);
	chunk(&file, &good);
	chunk(&file, &good);
	file.b[SECOND_CHUNK + 20 + 1] ^= 1; /* second chunk's data */
	expect_corrupt(&file, 1, "corrupt log: the chunk at offset 51 fails its checksum");

	std_header(&file);
	chunk_raw(&file, good.b, (uint32_t)good.n, (uint32_t)good.n, 2);
	expect_corrupt(&file, 0, "corrupt log: unknown codec 2 in the chunk at offset 28");
	std_header(&file);
	chunk_raw(&file, good.b, 0, 0, 0);
	expect_corrupt(&file, 0,
		       "corrupt log: the chunk at offset 28 declares 0 raw bytes (allowed: 1 to "
		       "16777216)");
	std_header(&file);
	chunk_raw(&file, good.b, (uint32_t)good.n, 16777217, 1);
	expect_corrupt(&file, 0, "declares 16777217 raw bytes");
	std_header(&file);
	chunk_raw(&file, good.b, (uint32_t)good.n, (uint32_t)good.n + 1, 0);
	expect_corrupt(&file, 0,
		       "corrupt log: the stored chunk at offset 28 has 3 bytes for 4 raw bytes");
	std_header(&file);
	chunk_raw(&file, good.b, 0, 3, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: the compressed chunk at offset 28 has 0 bytes for 3 raw "
		       "bytes (allowed: 1 to 131)");
	rec.n = 0;
	for (int i = 0; i < 140; i++)
		put8(&rec, 0);
	std_header(&file);
	chunk_raw(&file, rec.b, 132, 3, 1);
	expect_corrupt(&file, 0, "has 132 bytes for 3 raw bytes (allowed: 1 to 131)");
}

static void test_zstd_stream(void **state)
{
	static uint8_t z[1 << 16];
	struct buf a = {.n = 0}, b = {.n = 0}, t = {.n = 0};
	struct outcome o;
	size_t n, at;

	for (int i = 0; i < 40; i++)
		rss(&a, 4096);
	for (int i = 0; i < 10; i++)
		rss(&b, 8192);
	trailer(&t, 51);

	/* The stream across chunks, a stored chunk between them (not part of
	 * it), the frame ended with the trailer's chunk. */
	zstream_start();
	std_header(&file);
	zchunk(&file, &a, 0);
	chunk(&file, &b);
	{
		struct buf bt = b;

		bt.n = 0;
		rss(&bt, 1);
		putmem(&bt, t.b, t.n);
		zchunk(&file, &bt, 1);
	}
	run(&file, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 51);
	assert_int_equal(o.truncated, 0);
	assert_string_equal(o.msg, "");

	/* A chunk decoding to more or fewer bytes than its header says. */
	zstream_start();
	n = zbytes(&a, 0, z, sizeof(z));
	std_header(&file);
	chunk_raw(&file, z, (uint32_t)n, (uint32_t)a.n + 1, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: bad decompressed length in the chunk at offset 28 (120 bytes, "
		       "header says 121)");
	std_header(&file);
	chunk_raw(&file, z, (uint32_t)n, (uint32_t)a.n - 1, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: bad decompressed length in the chunk at offset 28 (120 bytes, "
		       "header says 119)");

	/* The frame header: magic, descriptor 0, a window of at most 8 MiB. */
	std_header(&file);
	chunk_raw(&file, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0", 10, 100, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: the first compressed chunk, at offset 28, does not start a "
		       "zstd frame");
	memcpy(z + 64, z, n);
	z[64 + 4] = 0x04; /* a content checksum */
	std_header(&file);
	chunk_raw(&file, z + 64, (uint32_t)n, (uint32_t)a.n, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: the zstd frame at offset 28 has a frame header descriptor of "
		       "0x04 (the format allows 0)");
	memcpy(z + 64, z, n);
	z[64 + 5] = 14 << 3; /* 16 MiB */
	std_header(&file);
	chunk_raw(&file, z + 64, (uint32_t)n, (uint32_t)a.n, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: the zstd frame at offset 28 asks for a window of 16777216 "
		       "bytes (at most 8388608)");

	/* Blocks: whole, of a known type, of an allowed size. */
	memcpy(z + 64, z, 6); /* the frame header alone */
	std_header(&file);
	chunk_raw(&file, z + 64, 6, 10, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: the compressed chunk at offset 28 holds no zstd block");
	memcpy(z + 70, "\x07\x00\x00", 3); /* a reserved block type */
	std_header(&file);
	chunk_raw(&file, z + 64, 9, 10, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: a reserved zstd block type in the chunk at offset 28");
	memcpy(z + 70, "\x08\x00\x10", 3); /* a raw block of 131073 bytes */
	std_header(&file);
	chunk_raw(&file, z + 64, 9, 10, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: a zstd block of 131073 bytes in the chunk at offset 28");
	memcpy(z + 70, "\x50\x00", 2); /* a header cut */
	std_header(&file);
	chunk_raw(&file, z + 64, 8, 10, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: the chunk at offset 28 ends inside a zstd block header");
	memcpy(z + 70, "\x50\x00\x00\x0d\x80\x20", 6); /* a raw block of 10 bytes, 3 there */
	std_header(&file);
	chunk_raw(&file, z + 64, 12, 10, 1);
	expect_corrupt(&file, 0, "corrupt log: the chunk at offset 28 ends inside a zstd block");
	/* a last raw block of one RSS record, then another block */
	memcpy(z + 70, "\x19\x00\x00\x0d\x80\x20\x18\x00\x00\x0d\x80\x20", 12);
	std_header(&file);
	chunk_raw(&file, z + 64, 18, 6, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: bytes after the last zstd block in the chunk at offset 28");
	/* blocks cut anywhere but at their end do not decode */
	zstream_start();
	n = zbytes(&a, 0, z, sizeof(z));
	z[n - 1] ^= 0xff;
	std_header(&file);
	chunk_raw(&file, z, (uint32_t)n, (uint32_t)a.n, 1);
	run(&file, &o);
	assert_int_equal(o.rc, -EBADMSG);
	assert_int_equal(o.events, 0);

	/* The frame's end and the trailer go together. */
	zstream_start();
	std_header(&file);
	zchunk(&file, &a, 1); /* ends the frame, no trailer */
	expect_corrupt(&file, 40, "the zstd frame ends before the trailer (chunk at offset 28");
	zstream_start();
	rec.n = 0;
	rss(&rec, 1);
	trailer(&rec, 1);
	std_header(&file);
	zchunk(&file, &rec, 0); /* a trailer, the frame still open */
	expect_corrupt(&file, 1, "the trailer's chunk does not end the zstd frame");
	/* a stored trailer after the frame's last chunk: that chunk had no
	 * trailer */
	zstream_start();
	std_header(&file);
	zchunk(&file, &a, 1);
	rec.n = 0;
	trailer(&rec, 40);
	chunk(&file, &rec);
	expect_corrupt(&file, 40, "the zstd frame ends before the trailer");
	/* a log that stops inside its second zstd chunk: cut short, the
	 * first replayed */
	zstream_start();
	std_header(&file);
	zchunk(&file, &a, 0);
	at = file.n;
	zchunk(&file, &b, 0);
	file.n = at + 25;
	expect_fine(&file, 40, &o);
	assert_int_equal(o.truncated, 1);
	/* two chunks swapped: the second no longer follows the first */
	zstream_start();
	std_header(&file);
	zchunk(&file, &a, 0);
	at = file.n;
	zchunk(&file, &b, 0);
	{
		struct buf swapped = {.n = 0};

		putmem(&swapped, file.b, FIRST_CHUNK);
		putmem(&swapped, file.b + at, file.n - at);
		putmem(&swapped, file.b + FIRST_CHUNK, at - FIRST_CHUNK);
		expect_corrupt(&swapped, 0,
			       "corrupt log: the first compressed chunk, at offset "
			       "28, does not start a zstd frame");
	}
}

static void test_trailer_last(void **state)
{
	struct buf good = {.n = 0};
	struct outcome o;
	size_t at;

	rss(&good, 4096);
	/* After the trailer: nothing, not even one byte. */
	rec.n = 0;
	rss(&rec, 1);
	trailer(&rec, 1);
	std_header(&file);
	chunk(&file, &rec);
	run(&file, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 1);
	assert_int_equal(o.truncated, 0);
	at = file.n;
	put8(&file, 0);
	expect_corrupt(&file, 1, "corrupt log: data after the trailer at offset 55");
	assert_int_equal(at, 55);
	file.n = at;
	chunk(&file, &good);
	expect_corrupt(&file, 1, "corrupt log: data after the trailer at offset 55");
	rss(&rec, 1);
	std_header(&file);
	chunk(&file, &rec);
	expect_corrupt(
		&file, 1,
		"corrupt log: records after the trailer (chunk at offset 28, byte 7 of its data)");
}

static void test_records(void **state)
{
	/* Unknown tags, at the first byte of the second chunk: event tags of
	 * type 0, 14 or 15, or with bit 0x40; what lies between the events'
	 * and the definitions'; past TIMES. */
	static const uint8_t tags[] = {0x00, 0x0e, 0x0f, 0x10, 0x20, 0x3e,
				       0x41, 0x4d, 0x7f, 0x87, 0xff};

	for (size_t i = 0; i < sizeof(tags); i++) {
		char want[128];

		rec.n = 0;
		put8(&rec, tags[i]);
		log_with(&file, &rec);
		snprintf(want, sizeof(want),
			 "corrupt log: unknown record tag 0x%02x (chunk at offset %d, byte 0 of "
			 "its data)",
			 tags[i], SECOND_CHUNK);
		expect_corrupt(&file, 1, want);
	}

	/* Varints: too long, overflowing, not minimal, cut by the chunk. */
	rec.n = 0;
	ev(&rec, 13, 0, 0, 0, 0);
	putmem(&rec, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11);
	log_with(&file, &rec);
	expect_corrupt(&file, 1,
		       "varint longer than 10 bytes in record 0x0d at byte 0 (chunk at "
		       "offset 51, byte 1 of its data)");
	rec.n = 0;
	ev(&rec, 13, 0, 0, 0, 0);
	putmem(&rec, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "varint overflows 64 bits");
	rec.n = 0;
	ev(&rec, 13, 0, 0, 0, 0);
	putmem(&rec, "\x80\x00", 2);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "varint is not minimally encoded");
	rec.n = 0;
	ev(&rec, 13, 0, 0, 0, 0); /* size missing */
	log_with(&file, &rec);
	expect_corrupt(&file, 1,
		       "record runs past the end of its chunk in record 0x0d at byte 0 "
		       "(chunk at offset 51, byte 1 of its data)");
	rec.n = 0;
	ev(&rec, 13, 0, 0, 0, 0);
	put8(&rec, 0x80); /* a varint cut by the end of the chunk */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "record runs past the end of its chunk");
	rec.n = 0;
	ev(&rec, 13, 0, 0, 0, 1ull << 32); /* flags beyond 32 bits */
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "value 4294967296 does not fit 32 bits");

	/* Strings. */
	rec.n = 0;
	put8(&rec, 0x80);
	putv(&rec, 10);
	putmem(&rec, "abc", 3);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "string of 10 bytes runs past the end of its chunk");
	rec.n = 0;
	put8(&rec, 0x80);
	putv(&rec, 3);
	putmem(&rec, "a\0c", 3);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "string holds a NUL byte");
}

/* An ALLOC of malloc: stack 0, size, then the BORN code (and literal). */
static void malloc_ev(struct buf *r, uint64_t size, uint64_t code)
{
	ev(r, 1, 0, 0, 0, 0);
	putv(r, 1); /* malloc */
	putv(r, 0); /* no stack */
	putv(r, size);
	putv(r, code);
}

static void free_ev(struct buf *r, uint64_t code)
{
	ev(r, 2, 0, 0, 0, 0);
	putv(r, code);
}

static void test_event_fields(void **state)
{
	/* fn out of range */
	static const uint64_t bad_fn[] = {0, 11, 1000};
	struct outcome o;

	for (size_t i = 0; i < 3; i++) {
		char want[64];

		rec.n = 0;
		ev(&rec, 1, 0, 0, 0, 0);
		putv(&rec, bad_fn[i]);
		putv(&rec, 0);
		putv(&rec, 8);
		putv(&rec, 0);
		log_with(&file, &rec);
		snprintf(want, sizeof(want), "unknown allocator function %d", (int)bad_fn[i]);
		expect_corrupt(&file, 1, want);
	}
	/* an arg only after a function that takes one: calloc's is read */
	rec.n = 0;
	ev(&rec, 1, 0, 0, 0, 0);
	putv(&rec, 2); /* calloc */
	putv(&rec, 0);
	putv(&rec, 80);
	putv(&rec, 10); /* nmemb */
	putv(&rec, 0);	/* failed */
	log_with(&file, &rec);
	expect_fine(&file, 2, &o);
	assert_true(o.last_arg == 10);
	rec.n = 0;
	ev(&rec, 13, 0, 0, 0, 0x10);
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "unknown event flags 0x10");
	for (uint64_t cause = 0; cause < 5; cause += 4) {
		rec.n = 0;
		ev(&rec, 10, 0, 0, 0, 0);
		putv(&rec, 1);
		putv(&rec, 1);
		putv(&rec, cause);
		log_with(&file, &rec);
		expect_corrupt(&file, 1, "unknown process cause");
	}

	/* What the tag says is stored must be: not the value left out. */
	rec.n = 0;
	put8(&rec, 0x2d); /* rss, flags follow */
	putv(&rec, 0);
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "event flags of 0 stored (chunk at offset 51, byte 1");
	rec.n = 0;
	ev(&rec, 13, 1, 0, 0, 0);
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a thread change to the same thread (chunk at offset 51, byte 1");

	/* pid and tid stay on 32 bits; they go on from the last event, in
	 * any chunk. */
	rec.n = 0;
	ev(&rec, 13, 1, -1, 0, 0);
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "pid delta -1 leaves 32 bits");
	rec.n = 0;
	ev(&rec, 13, 1, 0, (int64_t)UINT32_MAX + 1, 0);
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "tid delta 4294967296 leaves 32 bits");
	std_header(&file);
	rec.n = 0;
	ev(&rec, 13, 1, 5, 5, 0);
	putv(&rec, 1);
	chunk(&file, &rec);
	rec.n = 0;
	ev(&rec, 13, 1, -6, 0, 0); /* from 5: leaves 32 bits */
	putv(&rec, 1);
	chunk(&file, &rec);
	expect_corrupt(&file, 1, "pid delta -6 leaves 32 bits");
}

static void test_heap_addresses(void **state)
{
	struct outcome o;

	/* A block made at 0x1000 (next_guess 0: a delta of 0x1000), freed by
	 * its distance from the last made, made again as the last freed. */
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000);
	free_ev(&rec, 2);
	malloc_ev(&rec, 8, 1);
	log_with(&file, &rec);
	expect_fine(&file, 4, &o);
	assert_true(o.last_addr == 0x1000);

	/* A free naming nothing, or not the shortest way. */
	rec.n = 0;
	free_ev(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1,
		       "address 0 where the format does not allow it (chunk at offset 51, byte 1");
	rec.n = 0;
	free_ev(&rec, 1);
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "address 0 where the format does not allow it");
	rec.n = 0;
	free_ev(&rec, 2); /* no block made */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a freed address names no live block");
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000);
	free_ev(&rec, 4); /* one before the last made */
	log_with(&file, &rec);
	expect_corrupt(&file, 2, "a freed address names no live block");
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000);
	free_ev(&rec, 5); /* the serial before the one after the last freed: 0 */
	log_with(&file, &rec);
	expect_corrupt(&file, 2, "a freed address names no live block");
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000);
	free_ev(&rec, 3); /* the serial after the last freed: 1, but 2 says it */
	log_with(&file, &rec);
	expect_corrupt(&file, 2, "an address not in the coding the format prescribes for it");
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000);
	free_ev(&rec, 1); /* a live block as a literal */
	putv(&rec, 0x1000);
	log_with(&file, &rec);
	expect_corrupt(&file, 2, "an address not in the coding the format prescribes for it");
	rec.n = 0;
	free_ev(&rec, 1); /* a literal of no live block is fine */
	putv(&rec, 0x1000);
	log_with(&file, &rec);
	expect_fine(&file, 2, &o);

	/* Blocks freed in the order they were made: each the serial after
	 * the last freed (an odd code), but the last made: even, on a tie. */
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000); /* serial 1 at 0x1000 */
	malloc_ev(&rec, 8, 11);		 /* serial 2 at 0x1020: next_guess */
	malloc_ev(&rec, 8, 11);		 /* serial 3 at 0x1040 */
	free_ev(&rec, 3);		 /* serial 1: after serial 0 */
	free_ev(&rec, 3);		 /* serial 2: after serial 1 */
	free_ev(&rec, 2);		 /* serial 3: the last made */
	log_with(&file, &rec);
	expect_fine(&file, 7, &o);
	assert_true(o.last_addr == 0x1040);

	/* Made: the last freed, then the first of its class, literals and
	 * zeros refused where another coding says it. */
	rec.n = 0;
	malloc_ev(&rec, 8, 1); /* nothing freed yet */
	log_with(&file, &rec);
	expect_corrupt(&file, 1,
		       "an address coded as the last freed before any free (chunk at offset 51, "
		       "byte 4");
	rec.n = 0;
	malloc_ev(&rec, 8, 2); /* an empty slot */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "an address coded as a freed one its size class does not hold");
	rec.n = 0;
	malloc_ev(&rec, 8, 10); /* a literal where a delta says it */
	putv(&rec, 0x1000);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "an address not in the coding the format prescribes for it");
	rec.n = 0;
	malloc_ev(&rec, 8, 11); /* next_guess + 0: 0 */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "address 0 where the format does not allow it");
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000);
	free_ev(&rec, 2);
	malloc_ev(&rec, 8, 2); /* the class's last freed is the last freed: 1 says it */
	log_with(&file, &rec);
	expect_corrupt(&file, 3, "an address not in the coding the format prescribes for it");
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000); /* 0x1000, class 1 */
	malloc_ev(&rec, 100, 11);	 /* 0x1020, another class */
	free_ev(&rec, 3);		 /* 0x1000: after serial 0 */
	free_ev(&rec, 2);		 /* 0x1020: now the last freed */
	malloc_ev(&rec, 8, 2);		 /* class 1's most recent: 0x1000 */
	log_with(&file, &rec);
	expect_fine(&file, 6, &o);
	assert_true(o.last_addr == 0x1000);

	/* The last freed and the next block are each thread's: another
	 * thread has freed nothing yet; two tids sharing a slot (1 and 257)
	 * start afresh. */
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000); /* thread 0 */
	free_ev(&rec, 2);
	ev(&rec, 1, 1, 0, 1, 0); /* thread 1: the last freed? */
	putv(&rec, 1);
	putv(&rec, 0);
	putv(&rec, 8);
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 3, "an address coded as the last freed before any free");
	rec.n = 0;
	ev(&rec, 1, 1, 0, 1, 0); /* thread 1 at 0x1000 */
	putv(&rec, 1);
	putv(&rec, 0);
	putv(&rec, 8);
	putv(&rec, 11 + 0x2000);
	ev(&rec, 1, 1, 0, 256, 0); /* thread 257: its next is not 0x1020 */
	putv(&rec, 1);
	putv(&rec, 0);
	putv(&rec, 8);
	putv(&rec, 11 + 2 * 0x1020);
	ev(&rec, 1, 1, 0, -256, 0); /* thread 1 again, afresh: 0x1060 from 0 */
	putv(&rec, 1);
	putv(&rec, 0);
	putv(&rec, 8);
	putv(&rec, 11 + 2 * 0x1060);
	log_with(&file, &rec);
	expect_fine(&file, 4, &o);
	assert_true(o.last_addr == 0x1060);

	/* realloc: NULL is 0; a failed one keeps its block. */
	rec.n = 0;
	malloc_ev(&rec, 8, 11 + 0x2000);
	ev(&rec, 3, 0, 0, 0, 2); /* realloc, FAILED */
	putv(&rec, 3);		 /* realloc */
	putv(&rec, 0);		 /* no stack */
	putv(&rec, 2);		 /* old: the last made */
	putv(&rec, 1 << 20);	 /* size */
	putv(&rec, 0);		 /* nothing made */
	free_ev(&rec, 2);	 /* still there */
	ev(&rec, 3, 0, 0, 0, 0); /* realloc(NULL, 16) */
	putv(&rec, 3);
	putv(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 16);
	putv(&rec, 1); /* at the last freed */
	log_with(&file, &rec);
	expect_fine(&file, 5, &o);
	assert_true(o.last_old_addr == 0 && o.last_addr == 0x1000);
	rec.n = 0;
	ev(&rec, 3, 0, 0, 0, 0);
	putv(&rec, 3);
	putv(&rec, 0);
	putv(&rec, 2); /* old: no block */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a freed address names no live block");
}

static void test_times(void **state)
{
	struct buf h = {.n = 0};
	struct outcome o;
	uint8_t block[16];

	/* Moves at events 0 and 2 (skips 0, then 1: a delta of +1); a chunk
	 * without TIMES keeps the time. */
	std_header(&file);
	rec.n = 0;
	times(&rec, 2, (int64_t)0, (uint64_t)5, (int64_t)1, (uint64_t)7);
	rss(&rec, 1);
	rss(&rec, 1);
	rss(&rec, 1);
	chunk(&file, &rec);
	rec.n = 0;
	rss(&rec, 1);
	chunk(&file, &rec);
	expect_fine(&file, 4, &o);
	assert_true(o.last_time == 12);
	/* in a unit of 10 ns */
	memcpy(block, std_block, sizeof(std_block));
	block[5] = 10;
	file.n = 0;
	header(&file, 2, block, sizeof(std_block));
	rec.n = 0;
	times(&rec, 1, (int64_t)0, (uint64_t)3);
	rss(&rec, 1);
	chunk(&file, &rec);
	expect_fine(&file, 1, &o);
	assert_true(o.last_time == 30);

	/* Out of place, empty, not moving, past the chunk's events. */
	rec.n = 0;
	rss(&rec, 1);
	times(&rec, 1, (int64_t)0, (uint64_t)1);
	log_with(&file, &rec);
	expect_corrupt(&file, 2, "a TIMES record that does not start its chunk");
	rec.n = 0;
	times(&rec, 0);
	rss(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a TIMES record of 0 moves");
	rec.n = 0;
	put8(&rec, 0x86);
	putv(&rec, 1000);
	rss(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a TIMES record of 1000 moves");
	rec.n = 0;
	times(&rec, 1, (int64_t)0, (uint64_t)0);
	rss(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "the clock moves by 0 ticks");
	rec.n = 0;
	times(&rec, 1, (int64_t)3, (uint64_t)1);
	rss(&rec, 1);
	rss(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 3,
		       "the TIMES record moves the clock at event 3 of a chunk of 2 events");
	rec.n = 0;
	times(&rec, 1, (int64_t)1000, (uint64_t)1);
	rss(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "the clock moves at an event past the chunk's end");
	rec.n = 0;
	times(&rec, 2, (int64_t)0, (uint64_t)1, (int64_t)-1, (uint64_t)1);
	rss(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "the clock moves at an event past the chunk's end");

	/* Time passing 2^64 - 1 ns: in ticks, or once multiplied by the unit. */
	std_header(&file);
	rec.n = 0;
	times(&rec, 1, (int64_t)0, UINT64_MAX);
	rss(&rec, 1);
	chunk(&file, &rec);
	rec.n = 0;
	times(&rec, 1, (int64_t)0, (uint64_t)1);
	rss(&rec, 1);
	chunk(&file, &rec);
	expect_corrupt(&file, 1, "event time overflows 64 bits");
	file.n = 0;
	header(&file, 2, block, sizeof(std_block)); /* 10 ns */
	rec.n = 0;
	times(&rec, 1, (int64_t)0, UINT64_MAX / 10 + 1);
	rss(&rec, 1);
	chunk(&file, &rec);
	expect_corrupt(&file, 0, "event time overflows 64 bits");
	(void)h;
}

static void test_references(void **state)
{
	/* An event naming an undefined stack or string. */
	rec.n = 0;
	ev(&rec, 1, 0, 0, 0, 0);
	putv(&rec, 1);
	putv(&rec, 1); /* stack 1 */
	log_with(&file, &rec);
	expect_corrupt(&file, 1,
		       "reference to undefined stack 1 (chunk at offset 51, byte 2 of its data)");
	rec.n = 0;
	ev(&rec, 4, 0, 0, 0, 0);
	putv(&rec, 0x7f0000000000);
	putv(&rec, 4096);
	putv(&rec, 3);
	putv(&rec, 2);
	putz(&rec, 3);
	putv(&rec, 0);
	putv(&rec, 1); /* path 1 */
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined string 1");
	/* a mark's location text */
	rec.n = 0;
	ev(&rec, 12, 0, 0, 0, 0);
	putv(&rec, 1); /* --mark 1 */
	putv(&rec, 1); /* path 1 */
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined string 1 (chunk at offset 51, byte 2 of");

	/* Stack nodes: a root, its child, a parent before the first. */
	rec.n = 0;
	put8(&rec, 0x81); /* root: back = nodes so far, space 1, pc 0x1000 */
	putv(&rec, 0);
	putv(&rec, 1);
	putz(&rec, 0x1000);
	put8(&rec, 0x81); /* the child of node 1 */
	putv(&rec, 0);
	putz(&rec, -0x10);
	put8(&rec, 0x81); /* 5 back from node 3: none */
	putv(&rec, 5);
	putz(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "stack node 3 refers to a parent 3 nodes before the first");

	/* Modules: path, build-id, extent. */
	rec.n = 0;
	put8(&rec, 0x82);
	putv(&rec, 1);
	putv(&rec, 0x400000);
	putv(&rec, 0x1000);
	putv(&rec, 0);
	putv(&rec, 1); /* path 1: undefined */
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined string 1");
	rec.n = 0;
	put8(&rec, 0x82);
	putv(&rec, 1);
	putv(&rec, 0x400000);
	putv(&rec, 0x1000);
	putv(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 65);
	for (int i = 0; i < 65; i++)
		put8(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "build-id of 65 bytes (at most 64)");
	rec.n = 0;
	put8(&rec, 0x82);
	putv(&rec, 1);
	putv(&rec, 0x400000);
	putv(&rec, 0x1000);
	putv(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 20);
	put8(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "build-id runs past the end of its chunk");
	rec.n = 0;
	put8(&rec, 0x82);
	putv(&rec, 1);
	putv(&rec, 2);
	putv(&rec, UINT64_MAX - 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "module ends beyond 2^64");
	rec.n = 0;
	put8(&rec, 0x83);
	putv(&rec, 1);
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined module 1");
	rec.n = 0;
	put8(&rec, 0x83);
	putv(&rec, 0);
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "module 0 cannot be gone");

	/* Trailer: miscounted events, unknown flags. */
	rec.n = 0;
	trailer(&rec, 5);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "the trailer counts 5 events, the log holds 1");
	rec.n = 0;
	put8(&rec, 0x85);
	putz(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 1);
	putv(&rec, 4);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "unknown trailer flags 0x4");
}

/* A SYMBOL's head, then its fields as the test gives them. */
static void sym(struct buf *r, uint32_t head)
{
	put8(r, 0x84);
	putv(r, head);
}

static void test_symbols(void **state)
{
	struct outcome o;

	/* What differs from the last SYMBOL is stored; what is the same is
	 * not: a module, then two symbols sharing it, strings defined. */
	rec.n = 0;
	put8(&rec, 0x80); /* string 1 "f" */
	putv(&rec, 1);
	put8(&rec, 'f');
	put8(&rec, 0x82); /* module 1 */
	putv(&rec, 1);
	putv(&rec, 0x400000);
	putv(&rec, 0x1000);
	putv(&rec, 0x400000);
	putv(&rec, 1);
	putv(&rec, 0);
	sym(&rec, 0x01 | 0x02 | 0x08 | 0x20); /* space, module, comp_dir, file */
	putv(&rec, 1);			      /* space 1 */
	putz(&rec, 0x400010);		      /* pc */
	putv(&rec, 1);			      /* module 1 */
	putv(&rec, 1);			      /* comp_dir "f" */
	putv(&rec, 1);			      /* function "f" */
	putv(&rec, 1);			      /* file "f" */
	putv(&rec, 7);			      /* line */
	sym(&rec, 0x40);		      /* the rest as before, an allocator */
	putz(&rec, 0x10);
	putv(&rec, 1);
	putv(&rec, 8);
	rss(&rec, 1);
	log_with(&file, &rec);
	expect_fine(&file, 2, &o);

	/* Unknown head bits; undefined module and strings; frame counts;
	 * flags of further frames. */
	rec.n = 0;
	sym(&rec, 0x80);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "unknown symbol head bits 0x80");
	rec.n = 0;
	sym(&rec, 0x02);
	putz(&rec, 0x1000);
	putv(&rec, 1); /* module 1: undefined */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined module 1");
	rec.n = 0;
	sym(&rec, 0x08);
	putz(&rec, 0x1000);
	putv(&rec, 1); /* comp_dir: undefined */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined string 1");
	rec.n = 0;
	sym(&rec, 0x00);
	putz(&rec, 0x1000);
	putv(&rec, 1); /* function: undefined */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined string 1");
	rec.n = 0;
	sym(&rec, 0x10);
	putz(&rec, 0x1000);
	putv(&rec, 17);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "symbol with 17 frames stored (2 to 16, or 0)");
	rec.n = 0;
	sym(&rec, 0x10);
	putz(&rec, 0x1000);
	putv(&rec, 1); /* one frame: the usual, left out */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "symbol with 1 frames stored (2 to 16, or 0)");
	rec.n = 0;
	sym(&rec, 0x10 | 0x40);
	putz(&rec, 0x1000);
	putv(&rec, 0); /* no frames, but the first frame's flags */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a symbol without frames has a first frame's file or flags");
	rec.n = 0;
	sym(&rec, 0x10);
	putz(&rec, 0x1000);
	putv(&rec, 2);
	putv(&rec, 0); /* frame 0: function, line */
	putv(&rec, 12);
	putv(&rec, 0); /* frame 1: function, file, line, flags */
	putv(&rec, 0);
	putv(&rec, 12);
	putv(&rec, 2);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "unknown symbol flags 0x2");

	/* A field stored as it was, or as the usual. */
	rec.n = 0;
	sym(&rec, 0x01);
	putv(&rec, 0); /* space 0: as before the first */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a symbol's space stored as it was");
	rec.n = 0;
	sym(&rec, 0x02);
	putz(&rec, 0x1000);
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a symbol's module stored as it was");
	rec.n = 0;
	sym(&rec, 0x04);
	putz(&rec, 0x1000);
	putz(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a symbol's offset stored as pc - bias");
	rec.n = 0;
	sym(&rec, 0x08);
	putz(&rec, 0x1000);
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a symbol's directory stored as it was");
	rec.n = 0;
	sym(&rec, 0x20);
	putz(&rec, 0x1000);
	putv(&rec, 0); /* function */
	putv(&rec, 0); /* file 0: as before the first */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "a symbol's file stored as it was");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),   cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_chunk_framing), cmocka_unit_test(test_zstd_stream),
		cmocka_unit_test(test_trailer_last),  cmocka_unit_test(test_records),
		cmocka_unit_test(test_event_fields),  cmocka_unit_test(test_heap_addresses),
		cmocka_unit_test(test_times),	      cmocka_unit_test(test_references),
		cmocka_unit_test(test_symbols),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	ZSTD_freeCCtx(zc);
	return rc;
}
