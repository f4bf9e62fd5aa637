/*
 * log_writer.c - appends a memtrack log (formats/FORMAT.md): the header,
 * then records packed into chunks of about 256 KiB, each compressed as the
 * next blocks of one zstd stream (so that a chunk finds its matches in all
 * those before it) and written with its checksums.
 *
 * The tracer calls log_writer_event() and log_writer_stack() on every
 * allocation, so both append straight into the chunk buffer without
 * allocating: the stack trie remembers the previous stack and only hashes
 * the frames that changed; an event stores its thread and flags only when
 * they differ from the previous event's (or from 0); a heap address is
 * coded against the model of heapaddr.c; times count ticks of the header's
 * unit, found without a division while they stay in one tick, and only the
 * events where the tick moves are listed, in the chunk's TIMES record.
 *
 * Arguments the format cannot represent (an unknown event type, time going
 * backwards, a reference to an undefined stack) are refused with -EINVAL,
 * a record larger than a chunk may hold (a 16 MiB string) with -E2BIG;
 * they write nothing and are not sticky (the functions returning ids return
 * 0 while log_writer_error() stays 0).  Failed writes and allocations are
 * sticky: the tables and the file would disagree after them.
 */
#include "log_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zstd.h>

#include "arena.h"
#include "crc32c.h"
#include "heapaddr.h"
#include "log_format.h"
#include "varint.h"

/* Interned string: its text lives in the writer's arena. */
struct str_slot {
	uint64_t hash;
	const char *s; /* NULL: empty slot */
	size_t len;
	uint32_t id;
};

/*
 * An open-addressing table of (key, pc) -> id, 16 bytes a slot so four share
 * a cache line: the stack trie is looked up for every frame that differs
 * from the previous stack, and large tries live outside the caches.  Three
 * are used: child nodes (key = parent id), root nodes (key = space) and the
 * set of distinct (space, pc) pairs (id = its place in pc_list, from 1).
 * Node ids therefore stop at
 * 2^32-1, which a writer would need some 64 GiB of tables to reach.
 */
struct slot {
	uint64_t pc;
	uint32_t key;
	uint32_t id; /* 0: empty */
};

struct table {
	struct slot *slots;
	size_t mask;
	size_t count;
};

/* Room before a chunk's records for its TIMES record: about 1000 moves of
 * the clock (a second at 1 ms), so that the records never move. */
#define TIMES_GAP 4096

/* An event at which the clock moved: after `skip` events that did not. */
struct time_move {
	uint64_t skip, ticks;
};

/* A distinct (space, pc) of the stacks, in the order they appeared. */
struct pc_entry {
	uint64_t pc;
	uint32_t space;
};

struct log_writer {
	int fd;
	int err; /* sticky, 0 or a negative errno */

	/* The chunk being filled: its records at buf, len of cap bytes, after
	 * a gap for its TIMES record (mem is the whole); room to compress. */
	uint8_t *mem, *buf;
	size_t gap, len, cap;
	uint8_t *zbuf;
	size_t zcap;
	ZSTD_CCtx *zc;

	/* Time: ticks of tick_ns; tick is the current one, which lasts until
	 * next_tick_ns; prev_tick, prev_pid, prev_tid are the last event's. */
	uint64_t tick_ns, tick, next_tick_ns;
	uint64_t prev_tick;
	uint32_t prev_pid, prev_tid;

	/* The chunk's TIMES record: where the tick moved, as (events skipped
	 * since the last move, ticks moved) pairs, and its bytes. */
	struct time_move *moves;
	size_t nmoves, moves_cap;
	uint64_t chunk_events, since_move;
	uint8_t *times;
	size_t times_cap;

	uint64_t last_time; /* of the last event, in ns */
	uint64_t events;

	struct heapaddr heap;

	struct arena arena; /* interned strings, module tables */

	struct str_slot *strs;
	size_t str_mask;
	uint32_t nstrings;

	struct table children, roots, pcs;
	uint64_t nnodes;
	struct pc_entry *pc_list; /* the pcs set, in order */
	size_t npcs, pcs_cap;

	/*
	 * The previous log_writer_stack() call, outermost frame first:
	 * last_ids[j] is the node of the stack last_pcs[0..j].
	 */
	uint32_t last_space;
	size_t last_n, last_cap;
	uint64_t *last_pcs, *last_ids;

	struct log_symbol_base sym; /* the last SYMBOL's, what the next omits */

	struct mt_module *modules; /* arena memory: old copies stay valid */
	size_t nmodules, modules_cap;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h ^ (h >> 32);
}

static int fail(struct log_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	return w->err;
}

static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t k = writev(fd, iov, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= k;
		}
	}
	return 0;
}

/* Room to compress cap raw bytes: zstd's bound, plus the frame header and
 * the block headers of a flush. */
static size_t zbuf_size(size_t cap)
{
	return ZSTD_compressBound(cap) + ZSTD_FRAME_HEADER_SIZE + 64;
}

/* Buffer room: a gap of `gap` bytes before the records, cap for them. */
static int buf_resize(struct log_writer *w, size_t gap, size_t cap)
{
	uint8_t *m = realloc(w->mem, gap + cap);

	if (!m)
		return fail(w, -ENOMEM);
	if (gap != w->gap)
		memmove(m + gap, m + w->gap, w->len);
	w->mem = m;
	w->buf = m + gap;
	w->gap = gap;
	w->cap = cap;
	return 0;
}

/* The chunk's TIMES record, just before its records (the gap grows when
 * it does not fit); its length into *len. */
static int times_record(struct log_writer *w, size_t *len)
{
	size_t need = 1 + VARINT_MAX * (1 + 2 * w->nmoves);
	uint8_t *p;

	if (need > w->times_cap) {
		p = realloc(w->times, need);
		if (!p)
			return fail(w, -ENOMEM);
		w->times = p;
		w->times_cap = need;
	}
	p = w->times;
	*p++ = TAG_TIMES;
	p = varint_put(p, w->nmoves);
	/* a program that keeps its pace makes about as many events each tick:
	 * a skip is stored as its difference from the one before */
	for (size_t i = 0; i < w->nmoves; i++) {
		p = varint_put(p, zigzag_encode((int64_t)(w->moves[i].skip -
							  (i ? w->moves[i - 1].skip : 0))));
		p = varint_put(p, w->moves[i].ticks);
	}
	*len = (size_t)(p - w->times);
	if (*len > w->gap && buf_resize(w, *len * 2, w->cap))
		return w->err;
	memcpy(w->buf - *len, w->times, *len);
	return 0;
}

/*
 * Compresses and writes the current chunk: its TIMES record and its
 * records become the next blocks of the log's zstd frame, flushed so that the chunk ends on a
 * block boundary (a reader decodes it with the chunks before it and
 * nothing after); `last` ends the frame as well.
 */
static int chunk_write(struct log_writer *w, int last)
{
	uint8_t head[CHUNK_HEADER_SIZE];
	ZSTD_inBuffer in;
	ZSTD_outBuffer out;
	struct iovec iov[2];
	size_t left, raw, tlen = 0;
	int rc;

	if (w->err)
		return w->err;
	if (!w->len)
		return 0;
	/* the TIMES record goes first, into the gap before the records */
	if (w->nmoves && (rc = times_record(w, &tlen)))
		return rc;
	raw = tlen + w->len;
	if (raw > CHUNK_MAX_RAW)
		return fail(w, -E2BIG);
	if (zbuf_size(raw) > w->zcap) {
		uint8_t *z = realloc(w->zbuf, zbuf_size(raw));

		if (!z)
			return fail(w, -ENOMEM);
		w->zbuf = z;
		w->zcap = zbuf_size(raw);
	}
	out = (ZSTD_outBuffer){w->zbuf, w->zcap, 0};
	in = (ZSTD_inBuffer){w->buf - tlen, raw, 0};
	do {
		left = ZSTD_compressStream2(w->zc, &out, &in, last ? ZSTD_e_end : ZSTD_e_flush);
		if (ZSTD_isError(left) || (left && out.pos == out.size))
			return fail(w, -EIO); /* the buffer holds a whole bound */
	} while (left);
	put_le32(head, (uint32_t)out.pos);
	put_le32(head + 4, (uint32_t)raw);
	put_le32(head + 8, CODEC_ZSTD);
	put_le32(head + 12, crc32c(0, w->zbuf, out.pos));
	put_le32(head + 16, crc32c(0, head, 16));
	iov[0] = (struct iovec){head, sizeof(head)};
	iov[1] = (struct iovec){w->zbuf, out.pos};
	rc = write_all(w->fd, iov, 2);
	if (rc)
		return fail(w, rc);
	w->len = 0;
	w->nmoves = 0;
	w->chunk_events = 0;
	w->since_move = 0;
	return 0;
}

/* Makes room for a record of at most need bytes, ending the chunk first
 * when the record would take it past its target size. */
static int reserve(struct log_writer *w, size_t need)
{
	int rc;

	if (need > CHUNK_MAX_RAW)
		return -E2BIG;
	if (w->len && w->len + need > CHUNK_TARGET_RAW) {
		rc = chunk_write(w, 0);
		if (rc)
			return rc;
	}
	if (w->len + need > w->cap && buf_resize(w, w->gap, w->len + need))
		return w->err;
	return 0;
}

static int write_header(struct log_writer *w, const struct mt_log_header *h)
{
	const char *cwd = h->cwd ? h->cwd : "";
	size_t cwd_len = strlen(cwd), block, total;
	uint8_t *buf, *p;
	struct iovec iov;
	int rc;

	block = varint_len(h->mode) + varint_len(h->flags) + varint_len(h->depth) +
		varint_len(h->pid) + varint_len(h->start_realtime_ns) + varint_len(h->tick_ns) +
		varint_len(cwd_len) + cwd_len + varint_len(h->argc);
	for (uint32_t i = 0; i < h->argc; i++) {
		size_t n = strlen(h->argv[i]);

		block += varint_len(n) + n;
		if (block > LOG_HEADER_MAX_BLOCK)
			return -E2BIG;
	}
	if (block > LOG_HEADER_MAX_BLOCK)
		return -E2BIG;
	total = LOG_HEADER_FIXED + block + 4;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, MT_LOG_MAGIC, 8);
	put_le32(buf + 8, MT_LOG_VERSION);
	put_le32(buf + 12, (uint32_t)block);
	p = buf + LOG_HEADER_FIXED;
	p = varint_put(p, h->mode);
	p = varint_put(p, h->flags);
	p = varint_put(p, h->depth);
	p = varint_put(p, h->pid);
	p = varint_put(p, h->start_realtime_ns);
	p = varint_put(p, h->tick_ns);
	p = varint_put(p, cwd_len);
	memcpy(p, cwd, cwd_len);
	p += cwd_len;
	p = varint_put(p, h->argc);
	for (uint32_t i = 0; i < h->argc; i++) {
		size_t n = strlen(h->argv[i]);

		p = varint_put(p, n);
		memcpy(p, h->argv[i], n);
		p += n;
	}
	put_le32(p, crc32c(0, buf, (size_t)(p - buf)));
	iov = (struct iovec){buf, total};
	rc = write_all(w->fd, &iov, 1);
	free(buf);
	return rc;
}

static int header_valid(const struct mt_log_header *h)
{
	if (!h || (h->mode != MT_MODE_RUN && h->mode != MT_MODE_ATTACH))
		return 0;
	if (h->flags & ~LOG_HEADER_FLAGS)
		return 0;
	if (h->tick_ns < 1 || h->tick_ns > MT_LOG_MAX_TICK)
		return 0;
	if (h->argc && !h->argv)
		return 0;
	for (uint32_t i = 0; i < h->argc; i++)
		if (!h->argv[i])
			return 0;
	return 1;
}

int log_writer_open(struct log_writer **out, const char *path, const struct mt_log_header *h)
{
	struct log_writer *w;
	int rc;

	*out = NULL;
	if (!header_valid(h))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->tick_ns = h->tick_ns;
	w->cap = CHUNK_TARGET_RAW;
	w->gap = TIMES_GAP;
	w->zcap = zbuf_size(w->cap);
	w->mem = malloc(w->gap + w->cap);
	w->buf = w->mem ? w->mem + w->gap : NULL;
	w->zbuf = malloc(w->zcap);
	w->zc = ZSTD_createCCtx();
	w->str_mask = 1023;
	w->strs = calloc(w->str_mask + 1, sizeof(*w->strs));
	w->children = (struct table){calloc(4096, sizeof(struct slot)), 4095, 0};
	w->roots = (struct table){calloc(64, sizeof(struct slot)), 63, 0};
	w->pcs = (struct table){calloc(4096, sizeof(struct slot)), 4095, 0};
	w->last_cap = 64;
	w->last_pcs = malloc(w->last_cap * sizeof(*w->last_pcs));
	w->last_ids = malloc(w->last_cap * sizeof(*w->last_ids));
	if (!w->buf || !w->zbuf || !w->zc || !w->strs || !w->children.slots || !w->roots.slots ||
	    !w->pcs.slots || !w->last_pcs || !w->last_ids || heapaddr_init(&w->heap, 0)) {
		rc = -ENOMEM;
		goto out;
	}
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, LOG_ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_windowLog, LOG_ZSTD_WINDOW_LOG)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_minMatch, LOG_ZSTD_MIN_MATCH)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_contentSizeFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_dictIDFlag, 0))) {
		rc = -EINVAL;
		goto out;
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (w->fd < 0) {
		rc = -errno;
		goto out;
	}
	rc = write_header(w, h);
	if (rc)
		goto out;
	*out = w;
	return 0;
out:
	w->err = rc;
	log_writer_close(w, NULL);
	return rc;
}

/*
 * The codings of event fields (log.h, MT_EVENTS): whether a value can be
 * written, and its bytes.
 */
static int valid_U64(const struct log_writer *w, const struct mt_event *ev, uint64_t v)
{
	return 1;
}

static int valid_U32(const struct log_writer *w, const struct mt_event *ev, uint32_t v)
{
	return 1;
}

static int valid_I64(const struct log_writer *w, const struct mt_event *ev, int64_t v)
{
	return 1;
}

static int valid_FN(const struct log_writer *w, const struct mt_event *ev, uint32_t fn)
{
	return fn != MT_FN_NONE && fn < MT_FN_COUNT;
}

static int valid_CAUSE(const struct log_writer *w, const struct mt_event *ev, uint32_t cause)
{
	return cause >= MT_PROC_EXEC && cause <= MT_PROC_ATTACH;
}

static int valid_FREEFN(const struct log_writer *w, const struct mt_event *ev, uint32_t fn)
{
	return fn == MT_FN_FREE;
}

static int valid_FREED(const struct log_writer *w, const struct mt_event *ev, uint64_t addr)
{
	return addr != 0;
}

/* An arg after a function that takes none would be lost: refused. */
static int valid_ARG(const struct log_writer *w, const struct mt_event *ev, uint64_t arg)
{
	return !arg || mt_fn_has_arg(ev->fn);
}

static int valid_OLD(const struct log_writer *w, const struct mt_event *ev, uint64_t addr)
{
	return 1;
}

static int valid_BORN(const struct log_writer *w, const struct mt_event *ev, uint64_t addr)
{
	return 1;
}

static int valid_STRING(const struct log_writer *w, const struct mt_event *ev, uint32_t id)
{
	return id <= w->nstrings;
}

static int valid_STACK(const struct log_writer *w, const struct mt_event *ev, uint64_t id)
{
	return id <= w->nnodes;
}

/* The kinds with a BORN field, which may grow the heap model: room is
 * made before the event is written, so that writing cannot fail halfway. */
#define BORN_U64		     0
#define BORN_U32		     0
#define BORN_I64		     0
#define BORN_FN			     0
#define BORN_FREEFN		     0
#define BORN_CAUSE		     0
#define BORN_FREED		     0
#define BORN_OLD		     0
#define BORN_ARG		     0
#define BORN_BORN		     1
#define BORN_STRING		     0
#define BORN_STACK		     0
#define HAS_BORN(member, coding)     | BORN_##coding
#define ROW(kind, tag, name, fields) [MT_EV_##kind] = 0 fields,
static const uint8_t grows_model[MT_EV_TYPE_COUNT] = {MT_EVENTS(ROW, HAS_BORN)};
#undef ROW
#undef HAS_BORN

static inline uint8_t *put_U64(struct log_writer *w, const struct mt_event *ev, uint8_t *p,
			       uint64_t v)
{
	return varint_put(p, v);
}

static inline uint8_t *put_I64(struct log_writer *w, const struct mt_event *ev, uint8_t *p,
			       int64_t v)
{
	return varint_put(p, zigzag_encode(v));
}

static inline uint8_t *put_FREEFN(struct log_writer *w, const struct mt_event *ev, uint8_t *p,
				  uint32_t v)
{
	return p;
}

static inline uint8_t *put_ARG(struct log_writer *w, const struct mt_event *ev, uint8_t *p,
			       uint64_t v)
{
	return mt_fn_has_arg(ev->fn) ? varint_put(p, v) : p;
}

static inline uint8_t *put_FREED(struct log_writer *w, const struct mt_event *ev, uint8_t *p,
				 uint64_t v)
{
	return heapaddr_put_freed(&w->heap, p, v, 0, ev->tid);
}

/* A realloc that failed leaves its old block where it was. */
static inline uint8_t *put_OLD(struct log_writer *w, const struct mt_event *ev, uint8_t *p,
			       uint64_t v)
{
	return heapaddr_put_freed(&w->heap, p, v, (ev->flags & MT_EVF_FAILED) != 0, ev->tid);
}

static inline uint8_t *put_BORN(struct log_writer *w, const struct mt_event *ev, uint8_t *p,
				uint64_t v)
{
	return heapaddr_put_born(&w->heap, p, v, ev->size, ev->tid);
}

/* The others are varints of a checked value. */
#define put_U32	   put_U64
#define put_FN	   put_U64
#define put_CAUSE  put_U64
#define put_STRING put_U64
#define put_STACK  put_U64

/* Every row fits LOG_EVENT_MAX. */
#define ONE(member, coding) +1
#define FITS(kind, tag, name, fields)                                                              \
	_Static_assert(0 fields <= LOG_EVENT_OWN_MAX, "MT_EV_" #kind " has too many fields");
MT_EVENTS(FITS, ONE)
#undef FITS
#undef ONE

static int event_valid(const struct log_writer *w, const struct mt_event *ev)
{
	unsigned t = ev->type;

	if (t < MT_EV_ALLOC || t >= MT_EV_TYPE_COUNT)
		return 0;
	if (ev->flags & ~LOG_EVENT_FLAGS)
		return 0;
	if (ev->time_ns < w->last_time)
		return 0;
	switch (t) {
#define VALID(member, coding) &&valid_##coding(w, ev, ev->member)
#define CASE(kind, tag, name, fields)                                                              \
	case MT_EV_##kind:                                                                         \
		return 1 fields;
		MT_EVENTS(CASE, VALID)
#undef CASE
#undef VALID
	}
	return 1;
}

/* The tick of time_ns (not before the last event's), found by a division
 * only when it leaves the current tick. */
static inline uint64_t tick_of(struct log_writer *w, uint64_t time_ns)
{
	if (time_ns >= w->next_tick_ns) {
		w->tick = w->tick_ns == 1 ? time_ns : time_ns / w->tick_ns;
		w->next_tick_ns =
			w->tick < UINT64_MAX / w->tick_ns ? (w->tick + 1) * w->tick_ns : UINT64_MAX;
	}
	return w->tick;
}

int log_writer_event(struct log_writer *w, const struct mt_event *ev)
{
	uint64_t tick;
	uint8_t *p, *tag;
	int rc;

	if (w->err)
		return w->err;
	if (!event_valid(w, ev))
		return -EINVAL;
	if (grows_model[ev->type] && heapaddr_reserve(&w->heap))
		return fail(w, -ENOMEM);
	if (w->len + LOG_EVENT_MAX > CHUNK_TARGET_RAW) {
		rc = chunk_write(w, 0);
		if (rc)
			return rc;
	}
	tick = tick_of(w, ev->time_ns);
	if (tick != w->prev_tick) {
		if (w->nmoves == w->moves_cap) {
			size_t cap = w->moves_cap ? w->moves_cap * 2 : 256;
			struct time_move *m = realloc(w->moves, cap * sizeof(*m));

			if (!m)
				return fail(w, -ENOMEM);
			w->moves = m;
			w->moves_cap = cap;
		}
		w->moves[w->nmoves++] = (struct time_move){w->since_move, tick - w->prev_tick};
		w->since_move = 0;
	} else {
		w->since_move++;
	}
	w->chunk_events++;
	p = w->buf + w->len;
	tag = p++;
	*tag = (uint8_t)ev->type;
	if (ev->pid != w->prev_pid || ev->tid != w->prev_tid) {
		*tag |= TAG_EVENT_THREAD;
		p = varint_put(p, zigzag_encode((int64_t)ev->pid - (int64_t)w->prev_pid));
		p = varint_put(p, zigzag_encode((int64_t)ev->tid - (int64_t)w->prev_tid));
	}
	if (ev->flags) {
		*tag |= TAG_EVENT_FLAGS;
		p = varint_put(p, ev->flags);
	}
	switch (ev->type) {
#define PUT(member, coding) p = put_##coding(w, ev, p, ev->member);
#define CASE(kind, tag, name, fields)                                                              \
	case MT_EV_##kind:                                                                         \
		fields break;
		MT_EVENTS(CASE, PUT)
#undef CASE
#undef PUT
	}
	w->len = (size_t)(p - w->buf);
	w->prev_tick = tick;
	w->prev_pid = ev->pid;
	w->prev_tid = ev->tid;
	w->last_time = ev->time_ns;
	w->events++;
	return 0;
}

/* Doubles an open-addressing table when it would pass half full. */
static int str_table_grow(struct log_writer *w)
{
	size_t size = (w->str_mask + 1) * 2;
	struct str_slot *t = calloc(size, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i <= w->str_mask; i++) {
		size_t j;

		if (!w->strs[i].s)
			continue;
		for (j = w->strs[i].hash & (size - 1); t[j].s; j = (j + 1) & (size - 1))
			;
		t[j] = w->strs[i];
	}
	free(w->strs);
	w->strs = t;
	w->str_mask = size - 1;
	return 0;
}

/* Interns s, defining it on first use; *copy is the writer's own text. */
static uint32_t intern(struct log_writer *w, const char *s, const char **copy)
{
	size_t len = strlen(s), i;
	uint64_t h = hash_bytes(s, len);
	struct str_slot *slot;
	char *text;
	uint8_t *p;

	if ((size_t)w->nstrings + 1 > (w->str_mask + 1) / 2 && str_table_grow(w)) {
		fail(w, -ENOMEM);
		return 0;
	}
	for (i = h & w->str_mask; w->strs[i].s; i = (i + 1) & w->str_mask) {
		slot = &w->strs[i];
		if (slot->hash == h && slot->len == len && !memcmp(slot->s, s, len)) {
			if (copy)
				*copy = slot->s;
			return slot->id;
		}
	}
	if (w->nstrings == UINT32_MAX || reserve(w, 1 + VARINT_MAX + len))
		return 0;
	text = arena_strndup(&w->arena, s, len);
	if (!text) {
		fail(w, -ENOMEM);
		return 0;
	}
	p = w->buf + w->len;
	*p++ = TAG_STRING;
	p = varint_put(p, len);
	memcpy(p, s, len);
	w->len = (size_t)(p + len - w->buf);
	w->strs[i] = (struct str_slot){h, text, len, ++w->nstrings};
	if (copy)
		*copy = text;
	return w->nstrings;
}

uint32_t log_writer_string(struct log_writer *w, const char *s)
{
	if (!s || w->err)
		return 0;
	return intern(w, s, NULL);
}

/* The slot holding (key, pc), or the empty slot where it would go. */
static inline struct slot *table_find(const struct table *t, uint32_t key, uint64_t pc)
{
	size_t i;

	for (i = log_hash_pair(key, pc) & t->mask; t->slots[i].id; i = (i + 1) & t->mask)
		if (t->slots[i].pc == pc && t->slots[i].key == key)
			break;
	return &t->slots[i];
}

/* Makes room for one more entry, doubling past half full. */
static int table_reserve(struct table *t)
{
	size_t size = (t->mask + 1) * 2;
	struct table bigger;

	if (t->count + 1 <= (t->mask + 1) / 2)
		return 0;
	bigger = (struct table){calloc(size, sizeof(struct slot)), size - 1, t->count};
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i <= t->mask; i++)
		if (t->slots[i].id)
			*table_find(&bigger, t->slots[i].key, t->slots[i].pc) = t->slots[i];
	free(t->slots);
	*t = bigger;
	return 0;
}

/* Room for one more pc in the list of distinct pcs. */
static int pc_list_reserve(struct log_writer *w)
{
	if (w->npcs == w->pcs_cap) {
		size_t cap = w->pcs_cap ? w->pcs_cap * 2 : 1024;
		struct pc_entry *l = realloc(w->pc_list, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		w->pc_list = l;
		w->pcs_cap = cap;
	}
	return 0;
}

/*
 * The node for pc under parent (whose pc is parent_pc; parent 0 makes a
 * root of `space`), defined when new.  Returns 0 on error.
 */
static uint64_t node_intern(struct log_writer *w, uint32_t space, uint64_t parent,
			    uint64_t parent_pc, uint64_t pc)
{
	struct table *t = parent ? &w->children : &w->roots;
	uint32_t key = parent ? (uint32_t)parent : space;
	struct slot *s = table_find(t, key, pc), *in_set;
	uint8_t *p;

	if (s->id)
		return s->id;

	/* New node: make room in the tables first, so that the record and
	 * the tables cannot disagree once it is written. */
	if (w->nnodes == UINT32_MAX) {
		fail(w, -EOVERFLOW);
		return 0;
	}
	if (t->count + 1 > (t->mask + 1) / 2) {
		if (table_reserve(t)) {
			fail(w, -ENOMEM);
			return 0;
		}
		s = table_find(t, key, pc);
	}
	if (table_reserve(&w->pcs) || pc_list_reserve(w)) {
		fail(w, -ENOMEM);
		return 0;
	}
	if (reserve(w, 1 + 3 * VARINT_MAX))
		return 0;
	p = w->buf + w->len;
	*p++ = TAG_STACK;
	/* the parent is most often the node defined just before */
	p = varint_put(p, w->nnodes - parent);
	if (!parent)
		p = varint_put(p, space);
	/* a pc as its distance from the parent's, the same bytes each time
	 * the same call is made in another context */
	p = varint_put(p, zigzag_encode((int64_t)(pc - parent_pc)));
	w->len = (size_t)(p - w->buf);
	*s = (struct slot){pc, key, (uint32_t)++w->nnodes};
	t->count++;
	in_set = table_find(&w->pcs, space, pc);
	if (!in_set->id) {
		*in_set = (struct slot){pc, space, (uint32_t)(w->npcs + 1)};
		w->pcs.count++;
		w->pc_list[w->npcs++] = (struct pc_entry){pc, space};
	}
	return w->nnodes;
}

uint64_t log_writer_stack(struct log_writer *w, uint32_t space, const uint64_t *pcs, size_t n)
{
	size_t k = 0, j;

	if (w->err || n == 0)
		return 0;
	/* Frames shared with the previous stack, counted from the outermost:
	 * their nodes are already known. */
	if (space == w->last_space) {
		size_t m = n < w->last_n ? n : w->last_n;

		while (k < m && w->last_pcs[k] == pcs[n - 1 - k])
			k++;
	}
	if (n > w->last_cap) {
		size_t cap = n * 2;
		uint64_t *a = realloc(w->last_pcs, cap * sizeof(*a));
		uint64_t *b;

		if (!a) {
			fail(w, -ENOMEM);
			return 0;
		}
		w->last_pcs = a;
		b = realloc(w->last_ids, cap * sizeof(*b));
		if (!b) {
			fail(w, -ENOMEM);
			return 0;
		}
		w->last_ids = b;
		w->last_cap = cap;
	}
	w->last_space = space;
	for (j = k; j < n; j++) {
		uint64_t pc = pcs[n - 1 - j];
		uint64_t parent = j ? w->last_ids[j - 1] : 0;
		uint64_t id = node_intern(w, space, parent, j ? w->last_pcs[j - 1] : 0, pc);

		if (!id) {
			w->last_n = 0;
			return 0;
		}
		w->last_pcs[j] = pc;
		w->last_ids[j] = id;
	}
	w->last_n = n;
	return w->last_ids[n - 1];
}

uint32_t log_writer_module(struct log_writer *w, struct mt_module *m)
{
	const char *path = NULL;
	uint32_t path_id = 0;
	struct mt_module *copy;
	uint8_t *p;

	if (w->err || !m || m->end < m->start || m->build_id_len > MT_LOG_MAX_BUILD_ID)
		return 0;
	if (m->path) {
		path_id = intern(w, m->path, &path);
		if (!path_id)
			return 0;
	}
	if (w->nmodules == UINT32_MAX)
		return 0;
	if (w->nmodules == w->modules_cap) {
		size_t cap = w->modules_cap ? w->modules_cap * 2 : 16;

		copy = arena_grow(&w->arena, w->modules, w->nmodules * sizeof(*copy),
				  cap * sizeof(*copy));
		if (!copy) {
			fail(w, -ENOMEM);
			return 0;
		}
		w->modules = copy;
		w->modules_cap = cap;
	}
	if (reserve(w, 1 + 6 * VARINT_MAX + m->build_id_len))
		return 0;
	p = w->buf + w->len;
	*p++ = TAG_MODULE;
	p = varint_put(p, m->space);
	p = varint_put(p, m->start);
	p = varint_put(p, m->end - m->start);
	p = varint_put(p, m->bias);
	p = varint_put(p, path_id);
	p = varint_put(p, m->build_id_len);
	memcpy(p, m->build_id, m->build_id_len);
	w->len = (size_t)(p + m->build_id_len - w->buf);

	copy = &w->modules[w->nmodules++];
	*copy = *m;
	copy->id = (uint32_t)w->nmodules;
	copy->path = path;
	memset(copy->build_id + m->build_id_len, 0, MT_LOG_MAX_BUILD_ID - m->build_id_len);
	m->id = copy->id;
	return copy->id;
}

int log_writer_module_gone(struct log_writer *w, uint32_t id, uint64_t time_ns)
{
	uint8_t *p;
	int rc;

	if (w->err)
		return w->err;
	if (id == 0 || id > w->nmodules)
		return -EINVAL;
	rc = reserve(w, 1 + 2 * VARINT_MAX);
	if (rc)
		return rc;
	p = w->buf + w->len;
	*p++ = TAG_MODULE_GONE;
	p = varint_put(p, id);
	p = varint_put(p, w->tick_ns == 1 ? time_ns : time_ns / w->tick_ns);
	w->len = (size_t)(p - w->buf);
	return 0;
}

/* Interns an optional string into *id; 0 or a negative errno. */
static int intern_opt(struct log_writer *w, const char *s, uint32_t *id)
{
	*id = s ? intern(w, s, NULL) : 0;
	if (s && !*id)
		return w->err ? w->err : -E2BIG;
	return 0;
}

int log_writer_symbol(struct log_writer *w, const struct mt_symbol *s)
{
	uint32_t comp_dir, fns[MT_SYM_MAX_INLINE], files[MT_SYM_MAX_INLINE], head;
	uint64_t bias, offset;
	uint8_t *p;
	int rc;

	if (w->err)
		return w->err;
	if (!s || s->nframes > MT_SYM_MAX_INLINE || s->module > w->nmodules)
		return -EINVAL;
	for (uint32_t i = 0; i < s->nframes; i++)
		if (s->frames[i].flags & ~LOG_SYMF_FLAGS)
			return -EINVAL;
	rc = intern_opt(w, s->comp_dir, &comp_dir);
	for (uint32_t i = 0; !rc && i < s->nframes; i++) {
		rc = intern_opt(w, s->frames[i].function, &fns[i]);
		if (!rc)
			rc = intern_opt(w, s->frames[i].file, &files[i]);
	}
	if (rc)
		return rc;
	rc = reserve(w, 1 + (7 + 4 * MT_SYM_MAX_INLINE) * VARINT_MAX);
	if (rc)
		return rc;
	/* what differs from the previous symbol (symbols come by batches of
	 * nearby pcs: the same space, module, directory and file) or from the
	 * usual (one frame, the offset pc - bias, no flags) is stored, and the
	 * head says which */
	bias = s->module ? w->modules[s->module - 1].bias : 0;
	offset = zigzag_encode((int64_t)(s->offset - (s->pc - bias)));
	head = (s->space != w->sym.space ? SYM_SPACE : 0) |
	       (s->module != w->sym.module ? SYM_MODULE : 0) | (offset ? SYM_OFFSET : 0) |
	       (comp_dir != w->sym.comp_dir ? SYM_COMP_DIR : 0) |
	       (s->nframes != 1 ? SYM_NFRAMES : 0);
	if (s->nframes) {
		head |= (files[0] != w->sym.file ? SYM_FILE : 0) |
			(s->frames[0].flags & MT_SYMF_ALLOCATOR ? SYM_ALLOCATOR : 0);
		w->sym.file = files[0];
	}
	p = w->buf + w->len;
	*p++ = TAG_SYMBOL;
	p = varint_put(p, head);
	if (head & SYM_SPACE)
		p = varint_put(p, s->space);
	p = varint_put(p, zigzag_encode((int64_t)(s->pc - w->sym.pc)));
	if (head & SYM_MODULE)
		p = varint_put(p, s->module);
	if (head & SYM_OFFSET)
		p = varint_put(p, offset);
	if (head & SYM_COMP_DIR)
		p = varint_put(p, comp_dir);
	if (head & SYM_NFRAMES)
		p = varint_put(p, s->nframes);
	for (uint32_t i = 0; i < s->nframes; i++) {
		p = varint_put(p, fns[i]);
		if (i == 0) {
			if (head & SYM_FILE)
				p = varint_put(p, files[0]);
			p = varint_put(p, s->frames[0].line);
			continue;
		}
		p = varint_put(p, files[i]);
		p = varint_put(p, s->frames[i].line);
		p = varint_put(p, s->frames[i].flags);
	}
	w->len = (size_t)(p - w->buf);
	w->sym.space = s->space;
	w->sym.pc = s->pc;
	w->sym.module = s->module;
	w->sym.comp_dir = comp_dir;
	return 0;
}

size_t log_writer_pc_count(const struct log_writer *w)
{
	return w->npcs;
}

int log_writer_pc(const struct log_writer *w, size_t i, uint32_t *space, uint64_t *pc)
{
	if (i >= w->npcs)
		return -ENOENT;
	*space = w->pc_list[i].space;
	*pc = w->pc_list[i].pc;
	return 0;
}

const struct mt_module *log_writer_modules(const struct log_writer *w, size_t *n)
{
	*n = w->nmodules;
	return w->modules;
}

uint64_t log_writer_events(const struct log_writer *w)
{
	return w->events;
}

size_t log_writer_pending(const struct log_writer *w)
{
	return w->len;
}

int log_writer_flush(struct log_writer *w)
{
	return chunk_write(w, 0);
}

int log_writer_error(const struct log_writer *w)
{
	return w->err;
}

/* The trailer ends the last chunk; t->events is ignored: the writer's own
 * count is what the reader checks against. */
static int write_trailer(struct log_writer *w, const struct mt_log_trailer *t)
{
	uint8_t *p;
	int rc;

	if (t->flags & ~LOG_TRAILER_FLAGS)
		return -EINVAL;
	rc = reserve(w, 1 + 4 * VARINT_MAX);
	if (rc)
		return rc;
	p = w->buf + w->len;
	*p++ = TAG_TRAILER;
	p = varint_put(p, zigzag_encode(t->exit_status));
	p = varint_put(p, t->duration_ns);
	p = varint_put(p, w->events);
	p = varint_put(p, t->flags);
	w->len = (size_t)(p - w->buf);
	return 0;
}

int log_writer_close(struct log_writer *w, const struct mt_log_trailer *t)
{
	int rc, trailer = 0;

	if (!w)
		return 0;
	rc = w->err;
	if (!rc && t) {
		rc = write_trailer(w, t);
		trailer = !rc;
	}
	if (!w->err && w->fd >= 0) {
		/* the trailer's chunk ends the zstd frame */
		int flushed = chunk_write(w, trailer);

		if (!rc)
			rc = flushed;
	}
	if (w->fd >= 0 && close(w->fd) && !rc)
		rc = -errno;
	ZSTD_freeCCtx(w->zc);
	free(w->mem);
	free(w->zbuf);
	free(w->strs);
	free(w->children.slots);
	free(w->roots.slots);
	free(w->pcs.slots);
	free(w->last_pcs);
	free(w->last_ids);
	free(w->pc_list);
	free(w->moves);
	free(w->times);
	heapaddr_free(&w->heap);
	arena_free(&w->arena);
	free(w);
	return rc;
}
