/*
 * log_reader.c - streams a memtrack log back (formats/FORMAT.md), one chunk
 * in memory at a time.  Definitions (strings, stack nodes, modules,
 * symbols) are absorbed into tables as they pass; events are returned.
 *
 * The chunks' zstd blocks form one stream: each is decoded after all those
 * before it, so the reader only ever goes forward (a rewind starts the
 * stream, and the heap-address model, over).  Its memory grows with the
 * stacks, symbols and live heap blocks of the log, never with its events.
 *
 * The reader accepts exactly what FORMAT.md allows.  Anything else is
 * corruption, reported once as one line naming the offset, after which
 * every call returns the same error.  A log that simply stops (no trailer,
 * or a last chunk cut in the middle) is not corrupt: every whole chunk is
 * replayed and the end is reported as truncation.
 */
#include "log_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "arena.h"
#include "crc32c.h"
#include "heapaddr.h"
#include "log_format.h"
#include "varint.h"

/* What decodes an event's fields: inlined in the loop of
 * log_reader_next_many(), whatever the compiler thinks of its size (a call
 * per field took a fifth of decoding). */
#define DECODE static inline __attribute__((always_inline))

struct node {
	uint64_t parent;
	uint64_t pc;
	uint32_t space;
};

enum reader_state {
	READING,
	ENDED,	/* at the trailer, or where the log was cut */
	FAILED, /* corrupt or unreadable: err and msg say why */
};

struct log_reader {
	int fd;
	struct mt_log_header hdr;
	struct arena arena; /* strings, header, modules, symbols */

	uint64_t first_chunk; /* file offsets */
	uint64_t next_chunk;
	uint64_t chunk_off;

	/* The chunk being decoded: base..end, cursor p, current record rec. */
	uint8_t *stored, *raw;
	size_t stored_cap, raw_cap;
	const uint8_t *base, *p, *end, *rec;
	uint32_t codec;
	ZSTD_DCtx *zd;
	int frame_started, frame_ended; /* the zstd frame, in this pass */
	uint32_t zstd_window;

	/* The last event's, as later events are coded from them. */
	uint64_t prev_tick;
	uint32_t prev_pid, prev_tid;

	/* The chunk's TIMES record: at which of its events (counted from 0)
	 * the clock moves, and by how many ticks; the next one to reach. */
	struct time_move {
		uint64_t event, ticks;
	} * moves;
	size_t nmoves, moves_cap, next_move;
	uint64_t move_at; /* the event of moves[next_move], UINT64_MAX when none */
	uint64_t chunk_events;

	struct heapaddr heap;

	uint64_t nevents; /* returned in this pass */
	enum reader_state state;
	int err;
	int truncated;
	int trailer_seen; /* in this pass */
	int has_trailer;
	struct mt_log_trailer trailer;
	char msg[256];

	/*
	 * Tables.  n* count what was absorbed, seen_* what this pass has
	 * read so far: after a rewind, a definition is absorbed only once
	 * seen_* passes n*, and references are checked against seen_*.
	 */
	const char **strings; /* by id; [0] is NULL */
	size_t strings_cap;
	uint32_t nstrings, seen_strings;

	struct node *nodes; /* by id; [0] unused */
	uint64_t nodes_cap, nnodes, seen_nodes;

	struct mt_module *modules; /* arena memory: old copies stay valid */
	size_t modules_cap, nmodules, seen_modules;

	struct mt_symbol **syms; /* open addressing on (space, pc) */
	size_t sym_mask, nsyms;
	struct log_symbol_base sym; /* the last SYMBOL's, what the next omits */
	uint64_t sym_records, seen_sym_records;
};

__attribute__((format(printf, 2, 3))) static int fail(struct log_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->state = FAILED;
	r->err = -EBADMSG;
	return r->err;
}

/* Corruption inside the current chunk, at byte `at` of its data. */
__attribute__((format(printf, 3, 4))) static int corrupt(struct log_reader *r, const uint8_t *at,
							 const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return fail(r, "corrupt log: %s (chunk at offset %" PRIu64 ", byte %zu of its data)", why,
		    r->chunk_off, (size_t)(at - r->base));
}

static int io_error(struct log_reader *r, int err, uint64_t off)
{
	snprintf(r->msg, sizeof(r->msg), "cannot read the log at offset %" PRIu64 ": %s", off,
		 strerror(-err));
	r->state = FAILED;
	r->err = err;
	return err;
}

/* Reads up to n bytes at off; fewer only at the end of the file. */
static ssize_t read_at(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static void describe_cut(struct log_reader *r, char *buf, size_t len)
{
	if (r->nevents)
		snprintf(buf, len, "log is cut short after event #%" PRIu64, r->nevents - 1);
	else
		snprintf(buf, len, "log is cut short before its first event");
}

/* The log stops here without its trailer: the end, not an error. */
static int cut(struct log_reader *r, size_t have, size_t want)
{
	char where[80];

	describe_cut(r, where, sizeof(where));
	if (want)
		snprintf(r->msg, sizeof(r->msg),
			 "%s: its last chunk, at offset %" PRIu64 ", is partial (%zu of %zu bytes; "
			 "no trailer; the tracer was killed?)",
			 where, r->next_chunk, have, want);
	else
		snprintf(r->msg, sizeof(r->msg), "%s (no trailer; the tracer was killed?)", where);
	r->truncated = 1;
	r->state = ENDED;
	return 0;
}

static int grow_buffer(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *b;

	if (need <= *cap)
		return 0;
	b = realloc(*buf, need);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = need;
	return 0;
}

/*
 * The zstd frame's header: the magic, a frame header descriptor of 0 (no
 * content size, no checksum, no dictionary, a window descriptor) and a
 * window of at most LOG_ZSTD_MAX_WINDOW.  Returns its size, or a negative
 * errno with the reason given.
 */
static int zstd_frame_header(struct log_reader *r, uint64_t off, const uint8_t *d, size_t len)
{
	unsigned exponent, mantissa;
	uint64_t window;

	if (len < ZSTD_FRAME_HEADER_SIZE || get_le32(d) != ZSTD_FRAME_MAGIC)
		return fail(r,
			    "corrupt log: the first compressed chunk, at offset %" PRIu64
			    ", does not start a zstd frame",
			    off);
	if (d[4] != 0)
		return fail(r,
			    "corrupt log: the zstd frame at offset %" PRIu64
			    " has a frame header descriptor of 0x%02x (the format allows 0)",
			    off, d[4]);
	exponent = d[5] >> 3;
	mantissa = d[5] & 7;
	window = (uint64_t)1 << (10 + exponent);
	window += window / 8 * mantissa;
	if (window > LOG_ZSTD_MAX_WINDOW)
		return fail(r,
			    "corrupt log: the zstd frame at offset %" PRIu64
			    " asks for a window of %" PRIu64 " bytes (at most %u)",
			    off, window, LOG_ZSTD_MAX_WINDOW);
	r->zstd_window = (uint32_t)window;
	return ZSTD_FRAME_HEADER_SIZE;
}

/*
 * A zstd chunk: the next whole blocks of the log's frame (its header
 * first in the first one), which decode to exactly ulen bytes into
 * r->raw.  The last block of the frame may only end the trailer's chunk,
 * which read_trailer() and the end of the chunk check.
 */
static int zstd_blocks(struct log_reader *r, uint64_t off, uint32_t len, uint32_t ulen)
{
	const uint8_t *d = r->stored;
	size_t pos = 0, z;
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;

	/* (no chunk follows the frame's end: that chunk holds the trailer) */
	if (!r->frame_started) {
		int n = zstd_frame_header(r, off, d, len);

		if (n < 0)
			return n;
		pos = (size_t)n;
	}
	if (pos == len)
		return fail(r,
			    "corrupt log: the compressed chunk at offset %" PRIu64
			    " holds no zstd block",
			    off);
	while (pos < len) {
		uint32_t h, type, size, body;

		if (r->frame_ended)
			return fail(r,
				    "corrupt log: bytes after the last zstd block in the chunk at "
				    "offset %" PRIu64,
				    off);
		if (len - pos < ZSTD_BLOCK_HEADER_SIZE)
			return fail(r,
				    "corrupt log: the chunk at offset %" PRIu64
				    " ends inside a zstd block header",
				    off);
		h = (uint32_t)d[pos] | (uint32_t)d[pos + 1] << 8 | (uint32_t)d[pos + 2] << 16;
		type = (h >> 1) & 3;
		size = h >> 3;
		if (type == 3)
			return fail(r,
				    "corrupt log: a reserved zstd block type in the chunk at "
				    "offset %" PRIu64,
				    off);
		if (size > ZSTD_BLOCK_MAX || size > r->zstd_window)
			return fail(r,
				    "corrupt log: a zstd block of %" PRIu32
				    " bytes in the chunk at offset %" PRIu64,
				    size, off);
		body = type == 1 ? 1 : size; /* an RLE block stores its byte once */
		pos += ZSTD_BLOCK_HEADER_SIZE;
		if (body > len - pos)
			return fail(r,
				    "corrupt log: the chunk at offset %" PRIu64
				    " ends inside a zstd block",
				    off);
		pos += body;
		if (h & 1)
			r->frame_ended = 1;
	}
	r->frame_started = 1;
	/* one byte of room more than expected: a chunk decoding to more
	 * stops there, with input left over */
	if (grow_buffer(&r->raw, &r->raw_cap, (size_t)ulen + 1))
		return io_error(r, -ENOMEM, off);
	in = (ZSTD_inBuffer){d, len, 0};
	out = (ZSTD_outBuffer){r->raw, (size_t)ulen + 1, 0};
	while (in.pos < in.size && out.pos < out.size) {
		z = ZSTD_decompressStream(r->zd, &out, &in);
		if (ZSTD_isError(z))
			return fail(r,
				    "corrupt log: the chunk at offset %" PRIu64
				    " does not decompress: %s",
				    off, ZSTD_getErrorName(z));
		if (!z && in.pos < in.size)
			break;
	}
	if (in.pos != in.size || out.pos != ulen)
		return fail(r,
			    "corrupt log: bad decompressed length in the chunk at offset %" PRIu64
			    " (%s%zu bytes, header says %" PRIu32 ")",
			    off, in.pos != in.size ? "more than " : "", out.pos, ulen);
	return 0;
}

/* Loads the next chunk: 1 when loaded, 0 at the end of the log, or a
 * negative errno. */
static int load_chunk(struct log_reader *r)
{
	uint8_t head[CHUNK_HEADER_SIZE];
	uint64_t off = r->next_chunk;
	uint32_t len, ulen, codec;
	ssize_t n;

	if (r->trailer_seen) {
		n = read_at(r->fd, head, 1, off);
		if (n < 0)
			return io_error(r, (int)n, off);
		if (n > 0)
			return fail(r, "corrupt log: data after the trailer at offset %" PRIu64,
				    off);
		r->state = ENDED;
		return 0;
	}
	n = read_at(r->fd, head, sizeof(head), off);
	if (n < 0)
		return io_error(r, (int)n, off);
	if (n == 0)
		return cut(r, 0, 0);
	if (n < CHUNK_HEADER_SIZE)
		return cut(r, (size_t)n, CHUNK_HEADER_SIZE);
	if (get_le32(head + 16) != crc32c(0, head, 16))
		return fail(
			r, "corrupt log: the chunk header at offset %" PRIu64 " fails its checksum",
			off);
	len = get_le32(head);
	ulen = get_le32(head + 4);
	codec = get_le32(head + 8);
	if (codec != CODEC_STORED && codec != CODEC_ZSTD)
		return fail(
			r, "corrupt log: unknown codec %" PRIu32 " in the chunk at offset %" PRIu64,
			codec, off);
	if (ulen == 0 || ulen > CHUNK_MAX_RAW)
		return fail(r,
			    "corrupt log: the chunk at offset %" PRIu64 " declares %" PRIu32
			    " raw bytes (allowed: 1 to %u)",
			    off, ulen, CHUNK_MAX_RAW);
	if (codec == CODEC_STORED && len != ulen)
		return fail(r,
			    "corrupt log: the stored chunk at offset %" PRIu64 " has %" PRIu32
			    " bytes for %" PRIu32 " raw bytes",
			    off, len, ulen);
	if (codec == CODEC_ZSTD && (len == 0 || len > LOG_ZSTD_MAX_STORED(ulen)))
		return fail(r,
			    "corrupt log: the compressed chunk at offset %" PRIu64 " has %" PRIu32
			    " bytes for %" PRIu32 " raw bytes (allowed: 1 to %" PRIu32 ")",
			    off, len, ulen, LOG_ZSTD_MAX_STORED(ulen));
	if (grow_buffer(&r->stored, &r->stored_cap, len))
		return io_error(r, -ENOMEM, off);
	n = read_at(r->fd, r->stored, len, off + CHUNK_HEADER_SIZE);
	if (n < 0)
		return io_error(r, (int)n, off);
	if ((size_t)n < len)
		return cut(r, CHUNK_HEADER_SIZE + (size_t)n, CHUNK_HEADER_SIZE + (size_t)len);
	if (get_le32(head + 12) != crc32c(0, r->stored, len))
		return fail(r, "corrupt log: the chunk at offset %" PRIu64 " fails its checksum",
			    off);
	if (codec == CODEC_ZSTD) {
		int rc = zstd_blocks(r, off, len, ulen);

		if (rc)
			return rc;
		r->base = r->raw;
	} else {
		r->base = r->stored;
	}
	r->p = r->base;
	r->end = r->base + ulen;
	r->codec = codec;
	r->chunk_off = off;
	r->next_chunk = off + CHUNK_HEADER_SIZE + len;
	return 1;
}

static int bad_varint(struct log_reader *r, int e)
{
	static const char *const why[] = {
		[VARINT_SHORT] = "record runs past the end of its chunk",
		[VARINT_TOO_LONG] = "varint longer than 10 bytes",
		[VARINT_OVERFLOW] = "varint overflows 64 bits",
		[VARINT_NOT_MINIMAL] = "varint is not minimally encoded",
	};

	return corrupt(r, r->p, "%s in record 0x%02x at byte %zu", why[e], *r->rec,
		       (size_t)(r->rec - r->base));
}

DECODE int get(struct log_reader *r, uint64_t *v)
{
	int e = varint_get(&r->p, r->end, v);

	if (e) {
		bad_varint(r, e);
		return -EBADMSG; /* a constant, so the compiler sees *v is set on 0 */
	}
	return 0;
}

DECODE int get32(struct log_reader *r, uint32_t *v)
{
	const uint8_t *at = r->p;
	uint64_t x;

	if (get(r, &x))
		return -EBADMSG;
	if (x > UINT32_MAX) {
		corrupt(r, at, "value %" PRIu64 " does not fit 32 bits", x);
		return -EBADMSG;
	}
	*v = (uint32_t)x;
	return 0;
}

DECODE int getz(struct log_reader *r, int64_t *v)
{
	uint64_t x;
	int rc = get(r, &x);

	if (!rc)
		*v = zigzag_decode(x);
	return rc;
}

/* The string whose id was just read from `at`, checked. */
DECODE int check_string(struct log_reader *r, const uint8_t *at, uint64_t id)
{
	if (id > r->seen_strings)
		return corrupt(r, at, "reference to undefined string %" PRIu64, id);
	return 0;
}

DECODE int check_stack(struct log_reader *r, const uint8_t *at, uint64_t id)
{
	if (id > r->seen_nodes)
		return corrupt(r, at, "reference to undefined stack %" PRIu64, id);
	return 0;
}

DECODE int check_module(struct log_reader *r, const uint8_t *at, uint64_t id)
{
	if (id > r->seen_modules)
		return corrupt(r, at, "reference to undefined module %" PRIu64, id);
	return 0;
}

/* A zigzag delta from a 32-bit base that must land on 32 bits. */
static int apply_delta32(struct log_reader *r, const uint8_t *at, const char *what, uint32_t base,
			 int64_t d, uint32_t *out)
{
	if (d < -(int64_t)base || d > (int64_t)(UINT32_MAX - base))
		return corrupt(r, at, "%s delta %" PRId64 " leaves 32 bits", what, d);
	*out = (uint32_t)((int64_t)base + d);
	return 0;
}

/*
 * The codings of event fields (log.h, MT_EVENTS): each reads one field
 * into *v and checks it, naming the field's first byte when it is wrong.
 */
DECODE int get_U64(struct log_reader *r, struct mt_event *ev, uint64_t *v)
{
	return get(r, v);
}

DECODE int get_U32(struct log_reader *r, struct mt_event *ev, uint32_t *v)
{
	return get32(r, v);
}

DECODE int get_I64(struct log_reader *r, struct mt_event *ev, int64_t *v)
{
	return getz(r, v);
}

DECODE int get_FN(struct log_reader *r, struct mt_event *ev, uint32_t *v)
{
	const uint8_t *at = r->p;
	int rc = get32(r, v);

	if (!rc && (*v == MT_FN_NONE || *v >= MT_FN_COUNT))
		return corrupt(r, at, "unknown allocator function %" PRIu32, *v);
	return rc;
}

DECODE int get_FREEFN(struct log_reader *r, struct mt_event *ev, uint32_t *v)
{
	*v = MT_FN_FREE;
	return 0;
}

DECODE int get_ARG(struct log_reader *r, struct mt_event *ev, uint64_t *v)
{
	*v = 0;
	return mt_fn_has_arg(ev->fn) ? get(r, v) : 0;
}

DECODE int get_CAUSE(struct log_reader *r, struct mt_event *ev, uint32_t *v)
{
	const uint8_t *at = r->p;
	int rc = get32(r, v);

	if (!rc && (*v < MT_PROC_EXEC || *v > MT_PROC_ATTACH))
		return corrupt(r, at, "unknown process cause %" PRIu32, *v);
	return rc;
}

/* A freed address: its code, the literal after HEAPADDR_FREED_LITERAL. */
DECODE int get_freed(struct log_reader *r, int zero_ok, int keep, uint32_t tid, uint64_t *v)
{
	const uint8_t *at = r->p;
	uint64_t code, literal = 0;
	int e;

	if (get(r, &code) || (code == HEAPADDR_FREED_LITERAL && get(r, &literal)))
		return -EBADMSG;
	e = heapaddr_get_freed(&r->heap, code, literal, zero_ok, keep, tid, v);
	if (e == HEAPADDR_NOMEM)
		return io_error(r, -ENOMEM, r->chunk_off);
	if (e)
		return corrupt(r, at, "%s", heapaddr_strerror(e));
	return 0;
}

DECODE int get_FREED(struct log_reader *r, struct mt_event *ev, uint64_t *v)
{
	return get_freed(r, 0, 0, ev->tid, v);
}

/* A realloc that failed leaves its old block where it was. */
DECODE int get_OLD(struct log_reader *r, struct mt_event *ev, uint64_t *v)
{
	return get_freed(r, 1, (ev->flags & MT_EVF_FAILED) != 0, ev->tid, v);
}

/* An address made: coded against the freed ones of the size read before. */
DECODE int get_BORN(struct log_reader *r, struct mt_event *ev, uint64_t *v)
{
	const uint8_t *at = r->p;
	uint64_t code, literal = 0;
	int e;

	if (get(r, &code) || (code == HEAPADDR_BORN_LITERAL && get(r, &literal)))
		return -EBADMSG;
	e = heapaddr_get_born(&r->heap, code, literal, ev->size, ev->tid, v);
	if (e == HEAPADDR_NOMEM)
		return io_error(r, -ENOMEM, r->chunk_off);
	if (e)
		return corrupt(r, at, "%s", heapaddr_strerror(e));
	return 0;
}

DECODE int get_STRING(struct log_reader *r, struct mt_event *ev, uint32_t *v)
{
	const uint8_t *at = r->p;
	int rc = get32(r, v);

	return rc ? rc : check_string(r, at, *v);
}

DECODE int get_STACK(struct log_reader *r, struct mt_event *ev, uint64_t *v)
{
	const uint8_t *at = r->p;
	int rc = get(r, v);

	return rc ? rc : check_stack(r, at, *v);
}

/* ev zeroed 16 bytes at a time: the compiler makes memset() of a struct
 * this size a `rep stos`, whose start-up took a tenth of decoding, and a
 * copy of a zero struct loads as much as it stores. */
static inline void zero_event(struct mt_event *ev)
{
	typedef long long v2di __attribute__((vector_size(16)));
	const v2di zero = {0, 0};
	char *p = (char *)ev;

	_Static_assert(sizeof(*ev) == 8 * sizeof(zero), "zero_event() stores 8 times 16 bytes");
	memcpy(p, &zero, 16);
	memcpy(p + 16, &zero, 16);
	memcpy(p + 32, &zero, 16);
	memcpy(p + 48, &zero, 16);
	memcpy(p + 64, &zero, 16);
	memcpy(p + 80, &zero, 16);
	memcpy(p + 96, &zero, 16);
	memcpy(p + 112, &zero, 16);
}

/* tag: the record's tag, the event type in its low bits and which of the
 * common fields follow in the others.  (Inlined in the loop of
 * log_reader_next_many(), as are the codings of its fields.) */
DECODE int read_event(struct log_reader *r, unsigned tag,
							  struct mt_event *ev)
{
	const uint8_t *at;
	uint64_t tick = r->prev_tick;
	int rc;

	zero_event(ev);
	ev->type = tag & TAG_EVENT_TYPE;
	ev->pid = r->prev_pid;
	ev->tid = r->prev_tid;
	if (r->move_at == r->chunk_events) {
		uint64_t ticks = r->moves[r->next_move++].ticks;

		r->move_at = r->next_move < r->nmoves ? r->moves[r->next_move].event : UINT64_MAX;
		if (ticks > UINT64_MAX - tick || tick + ticks > UINT64_MAX / r->hdr.tick_ns)
			return corrupt(r, r->rec, "event time overflows 64 bits");
		tick += ticks;
	}
	r->chunk_events++;
	ev->time_ns = tick * r->hdr.tick_ns;
	if (tag & TAG_EVENT_THREAD) {
		int64_t dpid, dtid;

		at = r->p;
		if ((rc = getz(r, &dpid)) ||
		    (rc = apply_delta32(r, at, "pid", r->prev_pid, dpid, &ev->pid)))
			return rc;
		if ((rc = getz(r, &dtid)) ||
		    (rc = apply_delta32(r, at, "tid", r->prev_tid, dtid, &ev->tid)))
			return rc;
		if (!dpid && !dtid)
			return corrupt(r, at, "a thread change to the same thread");
	}
	if (tag & TAG_EVENT_FLAGS) {
		at = r->p;
		if ((rc = get32(r, &ev->flags)))
			return rc;
		if (!ev->flags)
			return corrupt(r, at, "event flags of 0 stored");
		if (ev->flags & ~LOG_EVENT_FLAGS)
			return corrupt(r, at, "unknown event flags 0x%" PRIx32, ev->flags);
	}
	switch (ev->type) {
#define GET(member, coding)                                                                        \
	if ((rc = get_##coding(r, ev, &ev->member)))                                               \
		return rc;
#define CASE(kind, tag, name, fields)                                                              \
	case MT_EV_##kind:                                                                         \
		fields break;
		MT_EVENTS(CASE, GET)
#undef CASE
#undef GET
	}
	r->prev_tick = tick;
	r->prev_pid = ev->pid;
	r->prev_tid = ev->tid;
	r->nevents++;
	return 0;
}

static int read_string(struct log_reader *r)
{
	const uint8_t *at = r->p;
	uint64_t len;
	char *s;
	int rc;

	if ((rc = get(r, &len)))
		return rc;
	if (len > (uint64_t)(r->end - r->p))
		return corrupt(r, at, "string of %" PRIu64 " bytes runs past the end of its chunk",
			       len);
	if (memchr(r->p, '\0', len))
		return corrupt(r, at, "string holds a NUL byte");
	if (r->seen_strings == UINT32_MAX)
		return corrupt(r, r->rec, "more than 2^32-1 strings");
	if (r->seen_strings++ < r->nstrings) {
		r->p += len;
		return 0;
	}
	if ((size_t)r->nstrings + 2 > r->strings_cap) {
		size_t cap = r->strings_cap * 2;
		const char **t = realloc(r->strings, cap * sizeof(*t));

		if (!t)
			return io_error(r, -ENOMEM, r->chunk_off);
		r->strings = t;
		r->strings_cap = cap;
	}
	s = arena_strndup(&r->arena, (const char *)r->p, len);
	if (!s)
		return io_error(r, -ENOMEM, r->chunk_off);
	r->strings[++r->nstrings] = s;
	r->p += len;
	return 0;
}

static int read_stack(struct log_reader *r)
{
	const uint8_t *at = r->p;
	struct node n = {0};
	uint64_t back;
	int64_t d;
	int rc;

	/* how far back the parent was defined: 0 the last node, seen_nodes
	 * none (a root) */
	if ((rc = get(r, &back)))
		return rc;
	if (back > r->seen_nodes)
		return corrupt(r, at,
			       "stack node %" PRIu64 " refers to a parent %" PRIu64
			       " nodes before the first",
			       r->seen_nodes + 1, back - r->seen_nodes);
	n.parent = r->seen_nodes - back;
	if (n.parent)
		n.space = r->nodes[n.parent].space;
	else if ((rc = get32(r, &n.space)))
		return rc;
	/* the pc: its distance from the parent's (a root's: from 0) */
	if ((rc = getz(r, &d)))
		return rc;
	n.pc = (n.parent ? r->nodes[n.parent].pc : 0) + (uint64_t)d;
	if (r->seen_nodes++ < r->nnodes)
		return 0;
	if (r->nnodes + 2 > r->nodes_cap) {
		uint64_t cap = r->nodes_cap * 2;
		struct node *t = realloc(r->nodes, cap * sizeof(*t));

		if (!t)
			return io_error(r, -ENOMEM, r->chunk_off);
		r->nodes = t;
		r->nodes_cap = cap;
	}
	r->nodes[++r->nnodes] = n;
	return 0;
}

static int read_module(struct log_reader *r)
{
	struct mt_module m = {0};
	const uint8_t *at;
	uint64_t size;
	uint32_t path;
	int rc;

	if ((rc = get32(r, &m.space)) || (rc = get(r, &m.start)))
		return rc;
	at = r->p;
	if ((rc = get(r, &size)))
		return rc;
	if (size > UINT64_MAX - m.start)
		return corrupt(r, at, "module ends beyond 2^64");
	m.end = m.start + size;
	if ((rc = get(r, &m.bias)))
		return rc;
	at = r->p;
	if ((rc = get32(r, &path)) || (rc = check_string(r, at, path)))
		return rc;
	at = r->p;
	if ((rc = get32(r, &m.build_id_len)))
		return rc;
	if (m.build_id_len > MT_LOG_MAX_BUILD_ID)
		return corrupt(r, at, "build-id of %" PRIu32 " bytes (at most %d)", m.build_id_len,
			       MT_LOG_MAX_BUILD_ID);
	if (m.build_id_len > (size_t)(r->end - r->p))
		return corrupt(r, at, "build-id runs past the end of its chunk");
	memcpy(m.build_id, r->p, m.build_id_len);
	r->p += m.build_id_len;
	if (r->seen_modules == UINT32_MAX)
		return corrupt(r, r->rec, "more than 2^32-1 modules");
	if (r->seen_modules++ < r->nmodules)
		return 0;
	if (r->nmodules == r->modules_cap) {
		size_t cap = r->modules_cap ? r->modules_cap * 2 : 16;
		struct mt_module *t = arena_grow(&r->arena, r->modules, r->nmodules * sizeof(*t),
						 cap * sizeof(*t));

		if (!t)
			return io_error(r, -ENOMEM, r->chunk_off);
		r->modules = t;
		r->modules_cap = cap;
	}
	m.id = (uint32_t)(r->nmodules + 1);
	m.path = r->strings[path];
	r->modules[r->nmodules++] = m;
	return 0;
}

static int read_module_gone(struct log_reader *r)
{
	const uint8_t *at = r->p;
	uint64_t id, time;
	int rc;

	if ((rc = get(r, &id)))
		return rc;
	if (id == 0)
		return corrupt(r, at, "module 0 cannot be gone");
	if ((rc = check_module(r, at, id)) || (rc = get(r, &time)))
		return rc;
	return 0;
}

static struct mt_symbol **sym_slot(struct mt_symbol **tab, size_t mask, uint32_t space, uint64_t pc)
{
	size_t i;

	for (i = log_hash_pair(space, pc) & mask; tab[i]; i = (i + 1) & mask)
		if (tab[i]->pc == pc && tab[i]->space == space)
			break;
	return &tab[i];
}

static int sym_table_grow(struct log_reader *r)
{
	size_t size = (r->sym_mask + 1) * 2;
	struct mt_symbol **t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i <= r->sym_mask; i++)
		if (r->syms[i])
			*sym_slot(t, size - 1, r->syms[i]->space, r->syms[i]->pc) = r->syms[i];
	free(r->syms);
	r->syms = t;
	r->sym_mask = size - 1;
	return 0;
}

/* A string id where a SYMBOL record has one: checked, and its text. */
static int get_string_id(struct log_reader *r, uint32_t *id, const char **text)
{
	const uint8_t *at = r->p;
	int rc;

	if ((rc = get32(r, id)) || (rc = check_string(r, at, *id)))
		return rc;
	*text = r->strings[*id];
	return 0;
}

static int read_symbol(struct log_reader *r)
{
	struct log_symbol_base *base = &r->sym;
	struct mt_symbol s = {0}, **slot;
	const uint8_t *at = r->p;
	uint32_t head, comp_dir = base->comp_dir, file = base->file;
	uint64_t offset = 0;
	int64_t d;
	int rc;

	if ((rc = get32(r, &head)))
		return rc;
	if (head & ~SYM_HEAD)
		return corrupt(r, at, "unknown symbol head bits 0x%" PRIx32, head & ~SYM_HEAD);
	s.space = base->space;
	s.module = base->module;
	s.nframes = 1;
	/* each field the head says follows must differ from what it replaces */
	at = r->p;
	if ((head & SYM_SPACE) && ((rc = get32(r, &s.space)) || s.space == base->space))
		return rc ? rc : corrupt(r, at, "a symbol's space stored as it was");
	if ((rc = getz(r, &d)))
		return rc;
	s.pc = base->pc + (uint64_t)d;
	at = r->p;
	if (head & SYM_MODULE) {
		if ((rc = get32(r, &s.module)) || (rc = check_module(r, at, s.module)))
			return rc;
		if (s.module == base->module)
			return corrupt(r, at, "a symbol's module stored as it was");
	}
	at = r->p;
	if ((head & SYM_OFFSET) && ((rc = get(r, &offset)) || !offset))
		return rc ? rc : corrupt(r, at, "a symbol's offset stored as pc - bias");
	s.offset = s.pc - (s.module ? r->modules[s.module - 1].bias : 0) +
		   (uint64_t)zigzag_decode(offset);
	at = r->p;
	if (head & SYM_COMP_DIR) {
		if ((rc = get_string_id(r, &comp_dir, &s.comp_dir)))
			return rc;
		if (comp_dir == base->comp_dir)
			return corrupt(r, at, "a symbol's directory stored as it was");
	}
	s.comp_dir = r->strings[comp_dir];
	at = r->p;
	if (head & SYM_NFRAMES) {
		if ((rc = get32(r, &s.nframes)))
			return rc;
		if (s.nframes == 1 || s.nframes > MT_SYM_MAX_INLINE)
			return corrupt(r, at,
				       "symbol with %" PRIu32 " frames stored (2 to %d, or 0)",
				       s.nframes, MT_SYM_MAX_INLINE);
	}
	if (!s.nframes && (head & (SYM_FILE | SYM_ALLOCATOR)))
		return corrupt(r, r->rec,
			       "a symbol without frames has a first frame's file or flags");
	for (uint32_t i = 0; i < s.nframes; i++) {
		struct mt_symframe *f = &s.frames[i];
		uint32_t id;

		if ((rc = get_string_id(r, &id, &f->function)))
			return rc;
		at = r->p;
		if (i == 0) {
			if (head & SYM_FILE) {
				if ((rc = get_string_id(r, &file, &f->file)))
					return rc;
				if (file == base->file)
					return corrupt(r, at, "a symbol's file stored as it was");
			}
			f->file = r->strings[file];
			f->flags = head & SYM_ALLOCATOR ? MT_SYMF_ALLOCATOR : 0;
			if ((rc = get32(r, &f->line)))
				return rc;
			continue;
		}
		if ((rc = get_string_id(r, &id, &f->file)) || (rc = get32(r, &f->line)))
			return rc;
		at = r->p;
		if ((rc = get32(r, &f->flags)))
			return rc;
		if (f->flags & ~LOG_SYMF_FLAGS)
			return corrupt(r, at, "unknown symbol flags 0x%" PRIx32, f->flags);
	}
	base->space = s.space;
	base->pc = s.pc;
	base->module = s.module;
	base->comp_dir = comp_dir;
	if (s.nframes)
		base->file = file;
	if (r->seen_sym_records++ < r->sym_records)
		return 0;
	if (r->nsyms + 1 > (r->sym_mask + 1) / 2 && sym_table_grow(r))
		return io_error(r, -ENOMEM, r->chunk_off);
	/* A later symbol for the same (space, pc) replaces the earlier one. */
	slot = sym_slot(r->syms, r->sym_mask, s.space, s.pc);
	if (!*slot) {
		*slot = arena_alloc(&r->arena, sizeof(**slot));
		if (!*slot)
			return io_error(r, -ENOMEM, r->chunk_off);
		r->nsyms++;
	}
	**slot = s;
	r->sym_records++;
	return 0;
}

static int read_trailer(struct log_reader *r)
{
	struct mt_log_trailer t;
	const uint8_t *at;
	int rc;

	if ((rc = getz(r, &t.exit_status)) || (rc = get(r, &t.duration_ns)))
		return rc;
	at = r->p;
	if ((rc = get(r, &t.events)))
		return rc;
	if (t.events != r->nevents)
		return corrupt(r, at,
			       "the trailer counts %" PRIu64 " events, the log holds %" PRIu64,
			       t.events, r->nevents);
	at = r->p;
	if ((rc = get32(r, &t.flags)))
		return rc;
	if (t.flags & ~LOG_TRAILER_FLAGS)
		return corrupt(r, at, "unknown trailer flags 0x%" PRIx32, t.flags);
	if (r->p != r->end)
		return corrupt(r, r->p, "records after the trailer");
	if (r->codec == CODEC_ZSTD && !r->frame_ended)
		return corrupt(r, r->rec, "the trailer's chunk does not end the zstd frame");
	r->trailer = t;
	r->has_trailer = 1;
	r->trailer_seen = 1;
	return 0;
}

/*
 * The chunk's TIMES record, when its first: the events at which the clock
 * moves, as (events skipped since the last move, ticks) pairs.  Reads it
 * into r->moves.
 */
static int read_times(struct log_reader *r)
{
	const uint8_t *at = r->p;
	uint64_t n, event = 0, skip = 0;
	int rc;

	r->nmoves = r->next_move = 0;
	r->move_at = UINT64_MAX;
	r->chunk_events = 0;
	if (r->p == r->end || *r->p != TAG_TIMES)
		return 0;
	r->rec = r->p++;
	if ((rc = get(r, &n)))
		return rc;
	/* each pair takes two bytes at least: a bound before allocating */
	if (n == 0 || n > (uint64_t)(r->end - r->p) / 2)
		return corrupt(r, at, "a TIMES record of %" PRIu64 " moves", n);
	if (n > r->moves_cap) {
		struct time_move *m = realloc(r->moves, n * sizeof(*m));

		if (!m)
			return io_error(r, -ENOMEM, r->chunk_off);
		r->moves = m;
		r->moves_cap = n;
	}
	for (uint64_t i = 0; i < n; i++) {
		int64_t d;

		at = r->p;
		if ((rc = getz(r, &d)) || (rc = get(r, &r->moves[i].ticks)))
			return rc;
		if (!r->moves[i].ticks)
			return corrupt(r, at, "the clock moves by 0 ticks");
		/* skips are differences from the previous skip */
		skip += (uint64_t)d;
		if (skip > (uint64_t)(r->end - r->p) || event + skip + (i > 0) > CHUNK_MAX_RAW)
			return corrupt(r, at, "the clock moves at an event past the chunk's end");
		event += skip + (i > 0);
		r->moves[i].event = event;
	}
	r->nmoves = (size_t)n;
	r->move_at = r->moves[0].event;
	return 0;
}

/* log_reader_next(), inlined in the loop of log_reader_next_many(). */
DECODE int next_event(struct log_reader *r,
							  struct mt_event *ev)
{
	int rc;

	if (r->state == ENDED)
		return 0;
	if (r->state == FAILED)
		return r->err;
	for (;;) {
		unsigned tag;

		if (r->p == r->end) {
			if (r->next_move < r->nmoves)
				return corrupt(r, r->p,
					       "the TIMES record moves the clock at event %" PRIu64
					       " of a chunk of %" PRIu64 " events",
					       r->moves[r->next_move].event, r->chunk_events);
			if (r->frame_ended && !r->trailer_seen && r->base)
				return corrupt(r, r->p, "the zstd frame ends before the trailer");
			rc = load_chunk(r);
			if (rc <= 0 || (rc = read_times(r)))
				return rc;
			continue;
		}
		r->rec = r->p;
		tag = *r->p++;
		if (tag < TAG_EVENT_LIMIT && (tag & TAG_EVENT_TYPE) >= MT_EV_ALLOC &&
		    (tag & TAG_EVENT_TYPE) < MT_EV_TYPE_COUNT) {
			rc = read_event(r, tag, ev);
			return rc ? rc : 1;
		}
		switch (tag) {
		case TAG_STRING:
			rc = read_string(r);
			break;
		case TAG_STACK:
			rc = read_stack(r);
			break;
		case TAG_MODULE:
			rc = read_module(r);
			break;
		case TAG_MODULE_GONE:
			rc = read_module_gone(r);
			break;
		case TAG_SYMBOL:
			rc = read_symbol(r);
			break;
		case TAG_TRAILER:
			rc = read_trailer(r);
			break;
		case TAG_TIMES:
			rc = corrupt(r, r->rec, "a TIMES record that does not start its chunk");
			break;
		default:
			rc = corrupt(r, r->rec, "unknown record tag 0x%02x", tag);
			break;
		}
		if (rc)
			return rc;
	}
}

int log_reader_next(struct log_reader *r, struct mt_event *ev)
{
	return next_event(r, ev);
}

int log_reader_next_many(struct log_reader *r, struct mt_event *ev, size_t n, size_t *got)
{
	size_t i = 0;
	int rc = 1;

	while (i < n && (rc = next_event(r, &ev[i])) > 0)
		i++;
	*got = i;
	return rc > 0 ? 1 : rc;
}

/* Header problems: a cut-short header is an error here (there is nothing
 * to replay), unlike a cut-short chunk. */
static int header_cut(struct log_reader *r, size_t have, size_t want)
{
	fail(r, "log is cut short inside its header (%zu of %zu bytes)", have, want);
	return r->err;
}

static int header_corrupt(struct log_reader *r, const uint8_t *at, const char *why)
{
	fail(r, "corrupt log header: %s (offset %zu)", why,
	     LOG_HEADER_FIXED + (size_t)(at - r->base));
	return -EBADMSG; /* a constant, so the analyzers see what is set on 0 */
}

/* Reads a length-prefixed header string into the arena. */
static int header_string(struct log_reader *r, char **out)
{
	const uint8_t *at = r->p;
	uint64_t len;
	int e = varint_get(&r->p, r->end, &len);

	if (e)
		return header_corrupt(r, at, "bad varint");
	if (len > (uint64_t)(r->end - r->p))
		return header_corrupt(r, at, "string runs past the header");
	if (memchr(r->p, '\0', len))
		return header_corrupt(r, at, "string holds a NUL byte");
	*out = arena_strndup(&r->arena, (const char *)r->p, len);
	if (!*out)
		return io_error(r, -ENOMEM, 0);
	r->p += len;
	return 0;
}

static int header_u64(struct log_reader *r, uint64_t *v, uint64_t max)
{
	const uint8_t *at = r->p;

	if (varint_get(&r->p, r->end, v))
		return header_corrupt(r, at, "bad varint");
	if (*v > max)
		return header_corrupt(r, at, "value out of range");
	return 0;
}

static int header_u32(struct log_reader *r, uint32_t *v)
{
	uint64_t x;
	int rc = header_u64(r, &x, UINT32_MAX);

	/* x is unset when the varint was bad: leave *v alone then */
	if (!rc)
		*v = (uint32_t)x;
	return rc;
}

static int read_header(struct log_reader *r)
{
	uint8_t fixed[LOG_HEADER_FIXED], *block = NULL;
	uint32_t version, blen;
	char *cwd, **argv;
	ssize_t n;
	int rc;

	n = read_at(r->fd, fixed, sizeof(fixed), 0);
	if (n < 0)
		return io_error(r, (int)n, 0);
	if (n == 0) {
		fail(r, "empty file");
		return r->err = -ENODATA;
	}
	if (memcmp(fixed, MT_LOG_MAGIC, (size_t)n < 8 ? (size_t)n : 8))
		return fail(r, "not a memtrack log");
	if (n < 12)
		return header_cut(r, (size_t)n, LOG_HEADER_FIXED + 4);
	version = get_le32(fixed + 8);
	if (version > MT_LOG_VERSION) {
		fail(r, "log format version %" PRIu32 " is newer than this memtrack supports (%d)",
		     version, MT_LOG_VERSION);
		return r->err = -EPROTONOSUPPORT;
	}
	if (version == 0)
		return fail(r, "corrupt log header: format version 0 does not exist");
	if (version < MT_LOG_VERSION) {
		fail(r,
		     "log format version %" PRIu32 " is older than this memtrack reads (%d): "
		     "record it again, or read it with the memtrack that wrote it",
		     version, MT_LOG_VERSION);
		return r->err = -EPROTONOSUPPORT;
	}
	if (n < LOG_HEADER_FIXED)
		return header_cut(r, (size_t)n, LOG_HEADER_FIXED + 4);
	blen = get_le32(fixed + 12);
	if (blen > LOG_HEADER_MAX_BLOCK)
		return fail(r,
			    "corrupt log header: a header of %" PRIu32
			    " bytes is larger than the format allows",
			    blen);
	block = malloc((size_t)blen + 4);
	if (!block)
		return io_error(r, -ENOMEM, 0);
	n = read_at(r->fd, block, (size_t)blen + 4, LOG_HEADER_FIXED);
	if (n < 0) {
		rc = io_error(r, (int)n, LOG_HEADER_FIXED);
		goto out;
	}
	if ((size_t)n < (size_t)blen + 4) {
		rc = header_cut(r, LOG_HEADER_FIXED + (size_t)n,
				LOG_HEADER_FIXED + (size_t)blen + 4);
		goto out;
	}
	if (get_le32(block + blen) != crc32c(crc32c(0, fixed, sizeof(fixed)), block, blen)) {
		rc = fail(r, "corrupt log header: checksum mismatch");
		goto out;
	}

	r->base = r->p = block;
	r->end = block + blen;
	r->hdr.version = version;
	if ((rc = header_u32(r, &r->hdr.mode)))
		goto out;
	if (r->hdr.mode != MT_MODE_RUN && r->hdr.mode != MT_MODE_ATTACH) {
		rc = header_corrupt(r, r->p - 1, "unknown mode");
		goto out;
	}
	if ((rc = header_u32(r, &r->hdr.flags)))
		goto out;
	if (r->hdr.flags & ~LOG_HEADER_FLAGS) {
		rc = header_corrupt(r, r->p - 1, "unknown flags");
		goto out;
	}
	if ((rc = header_u32(r, &r->hdr.depth)) || (rc = header_u32(r, &r->hdr.pid)) ||
	    (rc = header_u64(r, &r->hdr.start_realtime_ns, UINT64_MAX)))
		goto out;
	if ((rc = header_u64(r, &r->hdr.tick_ns, MT_LOG_MAX_TICK)))
		goto out;
	if (!r->hdr.tick_ns) {
		rc = header_corrupt(r, r->p - 1, "a time unit of 0 ns");
		goto out;
	}
	if ((rc = header_string(r, &cwd)) || (rc = header_u32(r, &r->hdr.argc)))
		goto out;
	r->hdr.cwd = cwd;
	/* Each argument takes at least one byte: a bound before allocating. */
	if (r->hdr.argc > (size_t)(r->end - r->p)) {
		rc = header_corrupt(r, r->p, "more arguments than bytes left");
		goto out;
	}
	argv = arena_alloc(&r->arena, ((size_t)r->hdr.argc + 1) * sizeof(*argv));
	if (!argv) {
		rc = io_error(r, -ENOMEM, 0);
		goto out;
	}
	for (uint32_t i = 0; i < r->hdr.argc; i++)
		if ((rc = header_string(r, &argv[i])))
			goto out;
	argv[r->hdr.argc] = NULL;
	r->hdr.argv = argv;
	if (r->p != r->end) {
		rc = header_corrupt(r, r->p, "unexpected bytes at the end of the header");
		goto out;
	}
	r->first_chunk = LOG_HEADER_FIXED + (uint64_t)blen + 4;
	rc = 0;
out:
	r->base = r->p = r->end = NULL;
	free(block);
	return rc;
}

int log_reader_open(struct log_reader **out, const char *path, char *err, size_t errlen)
{
	struct log_reader *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s", strerror(-rc));
		return rc;
	}
	r->fd = -1;
	r->move_at = UINT64_MAX;
	r->strings_cap = 1024;
	r->strings = calloc(r->strings_cap, sizeof(*r->strings));
	r->nodes_cap = 4096;
	r->nodes = malloc(r->nodes_cap * sizeof(*r->nodes));
	r->sym_mask = 1023;
	r->syms = calloc(r->sym_mask + 1, sizeof(*r->syms));
	r->zd = ZSTD_createDCtx();
	if (r->zd)
		ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax, LOG_ZSTD_MAX_WINDOW_LOG);
	if (!r->strings || !r->nodes || !r->syms || !r->zd || heapaddr_init(&r->heap, 1)) {
		rc = -ENOMEM;
		snprintf(r->msg, sizeof(r->msg), "%s", strerror(-rc));
		goto out;
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		rc = -errno;
		snprintf(r->msg, sizeof(r->msg), "%s", strerror(-rc));
		goto out;
	}
	rc = read_header(r);
	if (rc)
		goto out;
	log_reader_rewind(r);
	r->msg[0] = '\0';
	*out = r;
	return 0;
out:
	if (errlen)
		snprintf(err, errlen, "%s", r->msg);
	log_reader_close(r);
	return rc;
}

const struct mt_log_header *log_reader_header(const struct log_reader *r)
{
	return &r->hdr;
}

uint64_t log_reader_event_index(const struct log_reader *r)
{
	return r->nevents ? r->nevents - 1 : 0;
}

uint64_t log_reader_position(const struct log_reader *r)
{
	return r->next_chunk;
}

int log_reader_rewind(struct log_reader *r)
{
	r->next_chunk = r->first_chunk;
	r->base = r->p = r->end = r->rec = NULL;
	r->prev_tick = 0;
	r->prev_pid = 0;
	r->prev_tid = 0;
	memset(&r->sym, 0, sizeof(r->sym));
	r->frame_started = 0;
	r->frame_ended = 0;
	r->nmoves = r->next_move = 0;
	r->move_at = UINT64_MAX;
	ZSTD_DCtx_reset(r->zd, ZSTD_reset_session_only);
	heapaddr_reset(&r->heap);
	r->nevents = 0;
	r->trailer_seen = 0;
	r->seen_strings = 0;
	r->seen_nodes = 0;
	r->seen_modules = 0;
	r->seen_sym_records = 0;
	r->state = READING;
	r->err = 0;
	return 0;
}

int log_reader_truncated(const struct log_reader *r)
{
	return r->truncated;
}

const struct mt_log_trailer *log_reader_trailer(const struct log_reader *r)
{
	return r->has_trailer ? &r->trailer : NULL;
}

const char *log_reader_error(const struct log_reader *r)
{
	return r->msg;
}

const char *log_reader_string(const struct log_reader *r, uint32_t id)
{
	return id <= r->nstrings ? r->strings[id] : NULL;
}

int log_reader_stack_node(const struct log_reader *r, uint64_t id, uint64_t *parent, uint64_t *pc,
			  uint32_t *space)
{
	const struct node *n;

	if (id == 0 || id > r->nnodes)
		return -ENOENT;
	n = &r->nodes[id];
	if (parent)
		*parent = n->parent;
	if (pc)
		*pc = n->pc;
	if (space)
		*space = n->space;
	return 0;
}

uint64_t log_reader_stack_count(const struct log_reader *r)
{
	return r->nnodes;
}

const struct mt_symbol *log_reader_symbol(const struct log_reader *r, uint32_t space, uint64_t pc)
{
	return *sym_slot(r->syms, r->sym_mask, space, pc);
}

size_t log_reader_symbol_count(const struct log_reader *r)
{
	return r->nsyms;
}

const struct mt_module *log_reader_modules(const struct log_reader *r, size_t *n)
{
	*n = r->nmodules;
	return r->modules;
}

void log_reader_close(struct log_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->zd);
	heapaddr_free(&r->heap);
	free(r->moves);
	free(r->stored);
	free(r->raw);
	free(r->strings);
	free(r->nodes);
	free(r->syms);
	arena_free(&r->arena);
	free(r);
}
