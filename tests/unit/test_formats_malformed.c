/*
 * test_formats_malformed.c - logs built byte by byte, each departing from
 * formats/FORMAT.md in one way, and the reader's exact answer to each:
 * the return value, the events delivered before the fault, and the
 * one-line reason with its offset.
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

/* Where the first chunk starts with the standard 7-byte header block. */
#define FIRST_CHUNK 27

struct buf {
	uint8_t b[1 << 16];
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

/* mode 1, flags 0, depth 0, pid 1, start 0, cwd "", argc 0 */
static const uint8_t std_block[] = {1, 0, 0, 1, 0, 0, 0};

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
	header(o, 1, std_block, sizeof(std_block));
}

/* A chunk with explicit header fields (CRCs computed unless told). */
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

static void chunk(struct buf *o, const struct buf *rec)
{
	chunk_raw(o, rec->b, (uint32_t)rec->n, (uint32_t)rec->n, 0);
}

static void chunk_zstd(struct buf *o, const struct buf *rec, uint32_t ulen)
{
	static uint8_t z[1 << 16];
	size_t n = ZSTD_compress(z, sizeof(z), rec->b, rec->n, 1);

	assert_false(ZSTD_isError(n));
	assert_true(n < rec->n);
	chunk_raw(o, z, (uint32_t)n, ulen, 1);
}

/* The common event prefix: time delta, pid/tid deltas, flags. */
static void ev_head(struct buf *r, uint8_t tag, uint64_t dt, int64_t dpid, int64_t dtid,
		    uint64_t flags)
{
	put8(r, tag);
	putv(r, dt);
	putz(r, dpid);
	putz(r, dtid);
	putv(r, flags);
}

static void rss(struct buf *r, uint64_t dt, uint64_t size)
{
	ev_head(r, 13, dt, 0, 0, 0);
	putv(r, size);
}

struct outcome {
	int open_rc;
	int rc;	    /* of the next() that did not return 1 */
	int events; /* returned before that */
	int truncated;
	char msg[512];
};

static void run(const struct buf *file, struct outcome *out)
{
	char path[] = "/tmp/memtrack-malformed-XXXXXX";
	int fd = mkstemp(path);
	struct log_reader *r;
	struct mt_event ev;

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
	while ((out->rc = log_reader_next(r, &ev)) == 1)
		out->events++;
	snprintf(out->msg, sizeof(out->msg), "%s", log_reader_error(r));
	out->truncated = log_reader_truncated(r);
	if (out->rc < 0) {
		/* The error sticks, with the same reason. */
		assert_int_equal(log_reader_next(r, &ev), out->rc);
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

/* A log of one stored chunk holding rec, after one good RSS event in
 * its own chunk (so that corruption is found after event #0). */
static void log_with(struct buf *file, const struct buf *rec)
{
	struct buf good = {.n = 0};

	std_header(file);
	rss(&good, 0, 4096);
	chunk(file, &good);
	chunk(file, rec);
}

#define SECOND_CHUNK (FIRST_CHUNK + 20 + 7) /* after the good RSS chunk */

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
	putmem(&file, "MEMTRACX\x01\0\0\0", 12);
	expect_open(&file, -EBADMSG, "not a memtrack log");
	file.n = 0;
	putmem(&file, "MEM", 3);
	expect_open(&file, -EBADMSG, "log is cut short inside its header (3 of 20 bytes)");

	/* Versions: newer is refused before anything else is read. */
	file.n = 0;
	header(&file, 2, std_block, sizeof(std_block));
	expect_open(&file, -EPROTONOSUPPORT,
		    "log format version 2 is newer than this memtrack supports (1)");
	file.n = 0;
	putmem(&file, "MEMTRACK\xff\xff\xff\xff", 12); /* even with nothing after */
	expect_open(&file, -EPROTONOSUPPORT,
		    "log format version 4294967295 is newer than this memtrack supports (1)");
	file.n = 0;
	header(&file, 0, std_block, sizeof(std_block));
	expect_open(&file, -EBADMSG, "corrupt log header: format version 0 does not exist");

	/* The header block and its checksum. */
	std_header(&file);
	file.b[17] ^= 1;
	expect_open(&file, -EBADMSG, "corrupt log header: checksum mismatch");
	std_header(&file);
	file.b[FIRST_CHUNK - 1] ^= 0x80; /* in the CRC itself */
	expect_open(&file, -EBADMSG, "corrupt log header: checksum mismatch");
	std_header(&file);
	file.n--;
	expect_open(&file, -EBADMSG, "log is cut short inside its header (26 of 27 bytes)");
	file.n = 0;
	putmem(&file, "MEMTRACK\x01\0\0\0\x01\0\0\x01", 16);
	expect_open(
		&file, -EBADMSG,
		"corrupt log header: a header of 16777217 bytes is larger than the format allows");

	memcpy(block, std_block, sizeof(std_block));
	block[0] = 3; /* mode */
	file.n = 0;
	header(&file, 1, block, sizeof(std_block));
	expect_open(&file, -EBADMSG, "corrupt log header: unknown mode (offset 16)");
	memcpy(block, std_block, sizeof(std_block));
	block[1] = 8; /* flags */
	file.n = 0;
	header(&file, 1, block, sizeof(std_block));
	expect_open(&file, -EBADMSG, "corrupt log header: unknown flags (offset 17)");
	memcpy(block, std_block, sizeof(std_block));
	block[7] = 0; /* one byte too many */
	file.n = 0;
	header(&file, 1, block, 8);
	expect_open(&file, -EBADMSG,
		    "corrupt log header: unexpected bytes at the end of the header (offset 23)");
	memcpy(block, (uint8_t[]){1, 0, 0, 1, 0, 2, 'a', 0, 0}, 9); /* cwd "a\0" */
	file.n = 0;
	header(&file, 1, block, 9);
	expect_open(&file, -EBADMSG, "corrupt log header: string holds a NUL byte (offset 21)");
	memcpy(block, (uint8_t[]){1, 0, 0, 1, 0, 5, 'a'}, 7); /* cwd runs out */
	file.n = 0;
	header(&file, 1, block, 7);
	expect_open(&file, -EBADMSG, "corrupt log header: string runs past the header (offset 21)");
	memcpy(block, (uint8_t[]){1, 0, 0, 1, 0, 0, 9, 1, 'x'}, 9); /* argc 9, 1 arg */
	file.n = 0;
	header(&file, 1, block, 9);
	expect_open(&file, -EBADMSG,
		    "corrupt log header: more arguments than bytes left (offset 23)");
	memcpy(block, (uint8_t[]){1, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0},
	       11); /* pid 2^32 */
	file.n = 0;
	header(&file, 1, block, 11);
	expect_open(&file, -EBADMSG, "corrupt log header: value out of range (offset 19)");
	memcpy(block, (uint8_t[]){1, 0, 0, 0x81, 0x00, 0, 0, 0}, 8); /* pid not minimal */
	file.n = 0;
	header(&file, 1, block, 8);
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
	struct outcome o;
	size_t at;

	rss(&good, 10, 4096);

	/* A damaged chunk header is corruption, even where a damaged length
	 * would point past the end of the file (not truncation). */
	std_header(&file);
	chunk(&file, &good);
	file.b[FIRST_CHUNK + 16] ^= 1;
	expect_corrupt(&file, 0, "corrupt log: the chunk header at offset 27 fails its checksum");
	std_header(&file);
	chunk(&file, &good);
	file.b[FIRST_CHUNK + 1] ^= 0x10; /* stored_len += 4096 */
	expect_corrupt(&file, 0, "corrupt log: the chunk header at offset 27 fails its checksum");

	std_header(&file);
	chunk(&file, &good);
	file.b[FIRST_CHUNK + 20 + 2] ^= 1;
	expect_corrupt(&file, 0, "corrupt log: the chunk at offset 27 fails its checksum");
	std_header(&file);
	chunk(&file, &good);
	chunk(&file, &good);
	file.b[SECOND_CHUNK + 20 + 4] ^= 1; /* second chunk's data */
	expect_corrupt(&file, 1, "corrupt log: the chunk at offset 54 fails its checksum");

	std_header(&file);
	chunk_raw(&file, good.b, (uint32_t)good.n, (uint32_t)good.n, 2);
	expect_corrupt(&file, 0, "corrupt log: unknown codec 2 in the chunk at offset 27");
	std_header(&file);
	chunk_raw(&file, good.b, 0, 0, 0);
	expect_corrupt(&file, 0,
		       "corrupt log: the chunk at offset 27 declares 0 raw bytes (allowed: 1 to "
		       "16777216)");
	std_header(&file);
	chunk_raw(&file, good.b, (uint32_t)good.n, 16777217, 1);
	expect_corrupt(&file, 0, "declares 16777217 raw bytes");
	std_header(&file);
	chunk_raw(&file, good.b, (uint32_t)good.n, (uint32_t)good.n + 1, 0);
	expect_corrupt(&file, 0,
		       "corrupt log: the stored chunk at offset 27 has 7 bytes for 8 raw bytes");
	std_header(&file);
	chunk_raw(&file, good.b, (uint32_t)good.n, (uint32_t)good.n, 1);
	expect_corrupt(&file, 0,
		       "corrupt log: the compressed chunk at offset 27 (7 bytes) is not smaller "
		       "than its 7 raw bytes");

	/* zstd: a frame whose size disagrees with raw_len, garbage, and a
	 * frame followed by stray bytes. */
	rec.n = 0;
	for (int i = 0; i < 40; i++)
		rss(&rec, 1, 4096);
	std_header(&file);
	chunk_zstd(&file, &rec, (uint32_t)rec.n);
	run(&file, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 40);
	std_header(&file);
	chunk_zstd(&file, &rec, (uint32_t)rec.n + 1);
	expect_corrupt(&file, 0,
		       "corrupt log: bad decompressed length in the chunk at offset 27 (frame says "
		       "280, header says 281)");
	std_header(&file);
	chunk_zstd(&file, &rec, (uint32_t)rec.n - 1);
	expect_corrupt(&file, 0, "bad decompressed length in the chunk at offset 27");
	std_header(&file);
	chunk_raw(&file, (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0", 10, 100, 1);
	expect_corrupt(&file, 0, "bad decompressed length in the chunk at offset 27");
	{
		static uint8_t z[4096];
		size_t n = ZSTD_compress(z, sizeof(z), rec.b, rec.n, 1);

		z[n] = 0x42;
		std_header(&file);
		chunk_raw(&file, z, (uint32_t)n + 1, (uint32_t)rec.n, 1);
		expect_corrupt(&file, 0,
			       "corrupt log: the chunk at offset 27 is not one whole zstd frame");
	}

	/* After the trailer: nothing, not even one byte. */
	rec.n = 0;
	rss(&rec, 1, 1);
	put8(&rec, 0x45);
	putz(&rec, 0);
	putv(&rec, 5);
	putv(&rec, 1);
	putv(&rec, 0);
	std_header(&file);
	chunk(&file, &rec);
	run(&file, &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.events, 1);
	assert_int_equal(o.truncated, 0);
	at = file.n;
	put8(&file, 0);
	expect_corrupt(&file, 1, "corrupt log: data after the trailer at offset 58");
	assert_int_equal(at, 58);
	file.n = at;
	chunk(&file, &good);
	expect_corrupt(&file, 1, "corrupt log: data after the trailer at offset 58");
	rss(&rec, 1, 1);
	std_header(&file);
	chunk(&file, &rec);
	expect_corrupt(
		&file, 1,
		"corrupt log: records after the trailer (chunk at offset 27, byte 11 of its data)");
}

static void test_records(void **state)
{
	/* Unknown tags, at the first byte of the second chunk. */
	static const uint8_t tags[] = {0x00, 0x0e, 0x3f, 0x46, 0x80, 0xff};

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
	ev_head(&rec, 13, 1, 0, 0, 0);
	putmem(&rec, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11);
	log_with(&file, &rec);
	expect_corrupt(&file, 1,
		       "varint longer than 10 bytes in record 0x0d at byte 0 (chunk at "
		       "offset 54, byte 5 of its data)");
	rec.n = 0;
	ev_head(&rec, 13, 1, 0, 0, 0);
	putmem(&rec, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "varint overflows 64 bits");
	rec.n = 0;
	ev_head(&rec, 13, 1, 0, 0, 0);
	putmem(&rec, "\x80\x00", 2);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "varint is not minimally encoded");
	rec.n = 0;
	ev_head(&rec, 13, 1, 0, 0, 0); /* size missing */
	log_with(&file, &rec);
	expect_corrupt(&file, 1,
		       "record runs past the end of its chunk in record 0x0d at byte 0 "
		       "(chunk at offset 54, byte 5 of its data)");
	rec.n = 0;
	ev_head(&rec, 13, 1, 0, 0, 0);
	put8(&rec, 0x80); /* a varint cut by the end of the chunk */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "record runs past the end of its chunk");
	rec.n = 0;
	ev_head(&rec, 13, 1, 0, 0, 1ull << 32); /* flags beyond 32 bits */
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "value 4294967296 does not fit 32 bits");

	/* Strings. */
	rec.n = 0;
	put8(&rec, 0x40);
	putv(&rec, 10);
	putmem(&rec, "abc", 3);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "string of 10 bytes runs past the end of its chunk");
	rec.n = 0;
	put8(&rec, 0x40);
	putv(&rec, 3);
	putmem(&rec, "a\0c", 3);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "string holds a NUL byte");
}

static void test_event_fields(void **state)
{
	/* fn out of range */
	static const uint64_t bad_fn[] = {0, 11, 1000};

	for (size_t i = 0; i < 3; i++) {
		char want[64];

		rec.n = 0;
		ev_head(&rec, 1, 1, 0, 0, 0);
		putv(&rec, bad_fn[i]);
		putv(&rec, 0x1000);
		putv(&rec, 8);
		putv(&rec, 0);
		putv(&rec, 0);
		log_with(&file, &rec);
		snprintf(want, sizeof(want), "unknown allocator function %d", (int)bad_fn[i]);
		expect_corrupt(&file, 1, want);
	}
	rec.n = 0;
	ev_head(&rec, 2, 1, 0, 0, 0);
	putv(&rec, 5);
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "free of address 0 (chunk at offset 54, byte 6 of its data)");
	rec.n = 0;
	ev_head(&rec, 13, 1, 0, 0, 0x10);
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "unknown event flags 0x10");
	for (uint64_t cause = 0; cause < 5; cause += 4) {
		rec.n = 0;
		ev_head(&rec, 10, 1, 0, 0, 0);
		putv(&rec, 1);
		putv(&rec, 1);
		putv(&rec, cause);
		log_with(&file, &rec);
		expect_corrupt(&file, 1, "unknown process cause");
	}

	/* pid and tid must stay on 32 bits; the delta base is 0 at the
	 * start of each chunk. */
	rec.n = 0;
	ev_head(&rec, 13, 1, -1, 0, 0);
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "pid delta -1 leaves 32 bits");
	rec.n = 0;
	ev_head(&rec, 13, 1, 0, (int64_t)UINT32_MAX + 1, 0);
	putv(&rec, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "tid delta 4294967296 leaves 32 bits");

	/* Time: backwards across a chunk boundary, and overflowing. */
	std_header(&file);
	rec.n = 0;
	rss(&rec, 10, 1);
	chunk(&file, &rec);
	rec.n = 0;
	rss(&rec, 9, 1); /* absolute: the delta base is 0 in a new chunk */
	chunk(&file, &rec);
	expect_corrupt(&file, 1, "time goes backwards (9 ns after 10 ns)");
	rec.n = 0;
	rss(&rec, 0, 1);
	rss(&rec, UINT64_MAX, 1);
	rss(&rec, 1, 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 3, "event time overflows 64 bits");
	rec.n = 0;
	rss(&rec, 0, 1); /* equal time is fine */
	log_with(&file, &rec);
	{
		struct outcome o;

		run(&file, &o);
		assert_int_equal(o.rc, 0);
		assert_int_equal(o.events, 2);
		assert_int_equal(o.truncated, 1);
	}
}

static void test_references(void **state)
{
	/* An event naming an undefined stack or string. */
	rec.n = 0;
	ev_head(&rec, 1, 1, 0, 0, 0);
	putv(&rec, 1);
	putv(&rec, 0x1000);
	putv(&rec, 8);
	putv(&rec, 0);
	putv(&rec, 1); /* stack 1 */
	log_with(&file, &rec);
	expect_corrupt(&file, 1,
		       "reference to undefined stack 1 (chunk at offset 54, byte 10 of its data)");
	rec.n = 0;
	ev_head(&rec, 4, 1, 0, 0, 0);
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
	ev_head(&rec, 12, 1, 0, 0, 0);
	putv(&rec, 1); /* --mark 1 */
	putv(&rec, 1); /* path 1 */
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined string 1 (chunk at offset 54, byte 6 of");

	/* A defined one is fine; the next id is not. */
	rec.n = 0;
	put8(&rec, 0x41); /* STACK root, space 1, pc 0x1000 */
	putv(&rec, 0);
	putv(&rec, 1);
	putv(&rec, 0x1000);
	put8(&rec, 0x41); /* child of 1 */
	putv(&rec, 1);
	putz(&rec, -0x10);
	put8(&rec, 0x41); /* child of 3: undefined */
	putv(&rec, 3);
	putz(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "stack node 3 refers to undefined parent 3");

	/* Modules: path, build-id, extent. */
	rec.n = 0;
	put8(&rec, 0x42);
	putv(&rec, 1);
	putv(&rec, 0x400000);
	putv(&rec, 0x1000);
	putv(&rec, 0);
	putv(&rec, 1); /* path 1: undefined */
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined string 1");
	rec.n = 0;
	put8(&rec, 0x42);
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
	put8(&rec, 0x42);
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
	put8(&rec, 0x42);
	putv(&rec, 1);
	putv(&rec, 2);
	putv(&rec, UINT64_MAX - 1);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "module ends beyond 2^64");
	rec.n = 0;
	put8(&rec, 0x43);
	putv(&rec, 1);
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined module 1");
	rec.n = 0;
	put8(&rec, 0x43);
	putv(&rec, 0);
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "module 0 cannot be gone");

	/* Symbols: module, strings, frame count, flags. */
	rec.n = 0;
	put8(&rec, 0x44);
	putv(&rec, 1);
	putv(&rec, 0x1000);
	putv(&rec, 1); /* module 1: undefined */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined module 1");
	rec.n = 0;
	put8(&rec, 0x40);
	putv(&rec, 1);
	put8(&rec, 'f');
	put8(&rec, 0x44);
	putv(&rec, 1);
	putv(&rec, 0x1000);
	putv(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 1); /* comp_dir "f" */
	putv(&rec, 1);
	putv(&rec, 1); /* function "f" */
	putv(&rec, 2); /* file: undefined */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "reference to undefined string 2");
	rec.n = 0;
	put8(&rec, 0x44);
	putv(&rec, 1);
	putv(&rec, 0x1000);
	putv(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 17);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "symbol with 17 frames (at most 16)");
	rec.n = 0;
	put8(&rec, 0x44);
	putv(&rec, 1);
	putv(&rec, 0x1000);
	putv(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 1);
	putv(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 12);
	putv(&rec, 2); /* flags */
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "unknown symbol flags 0x2");

	/* Trailer: miscounted events, unknown flags. */
	rec.n = 0;
	put8(&rec, 0x45);
	putz(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 5);
	putv(&rec, 0);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "the trailer counts 5 events, the log holds 1");
	rec.n = 0;
	put8(&rec, 0x45);
	putz(&rec, 0);
	putv(&rec, 0);
	putv(&rec, 1);
	putv(&rec, 4);
	log_with(&file, &rec);
	expect_corrupt(&file, 1, "unknown trailer flags 0x4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),   cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_chunk_framing), cmocka_unit_test(test_records),
		cmocka_unit_test(test_event_fields),  cmocka_unit_test(test_references),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
