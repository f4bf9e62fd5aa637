/*
 * log_format.h - the framing of a memtrack log shared by the writer and the
 * reader: record tags, header and chunk layout, limits.  FORMAT.md is the
 * spec; these constants are its numbers.  Private to formats/.
 */
#ifndef MEMTRACK_FORMATS_LOG_FORMAT_H
#define MEMTRACK_FORMATS_LOG_FORMAT_H

#include <stdint.h>

#include "log.h"
#include "varint.h"

/*
 * File header: magic (8), version (u32), block length (u32), the block
 * (varints), CRC-32C (u32) of everything before it.
 */
#define LOG_HEADER_FIXED     16 /* magic + version + block length */
#define LOG_HEADER_MAX_BLOCK (16u << 20)

/*
 * Chunk header: stored length, raw length, codec, CRC-32C of the stored
 * bytes, CRC-32C of these 16 bytes; all u32 little-endian.
 */
#define CHUNK_HEADER_SIZE 20
#define CHUNK_MAX_RAW	  (16u << 20)	/* raw bytes in one chunk */
#define CHUNK_TARGET_RAW  (1024u << 10) /* where the writer cuts */

enum chunk_codec {
	CODEC_STORED = 0,
	CODEC_ZSTD = 1, /* the next blocks of the log's one zstd frame */
};

/*
 * The zstd frame: its header (magic, a frame header descriptor of 0: no
 * content size, no checksum, no dictionary; a window descriptor), then
 * blocks of a 3-byte header each.  The writer's level and window; the
 * largest window a reader accepts.
 */
#define ZSTD_FRAME_MAGIC	0xfd2fb528u
#define ZSTD_FRAME_HEADER_SIZE	6
#define ZSTD_BLOCK_HEADER_SIZE	3
#define ZSTD_BLOCK_MAX		(128u << 10)
#define LOG_ZSTD_LEVEL		6
#define LOG_ZSTD_WINDOW_LOG	22
#define LOG_ZSTD_MIN_MATCH	4 /* records are short: matches of 4 pay */
#define LOG_ZSTD_MAX_WINDOW_LOG 23
#define LOG_ZSTD_MAX_WINDOW	(1u << LOG_ZSTD_MAX_WINDOW_LOG)
/* The most stored bytes a zstd chunk of raw bytes may take: above zstd's
 * own bound (raw + raw/256 + a little), with the frame and block headers. */
#define LOG_ZSTD_MAX_STORED(raw) ((raw) + (raw) / 256 + 128)

/*
 * Record tags.  An event's tag is its enum mt_event_type (1 to
 * MT_EV_TYPE_COUNT - 1, the rows of MT_EVENTS) in the low four bits, and
 * two bits saying which of the fields every event has are stored: the
 * others are the previous event's (thread) or 0 (flags).  Times are not in
 * the events: a chunk's TIMES record, its first, says at which of its
 * events the clock moved (so that the events of a program that repeats
 * itself stay the same bytes from one millisecond to the next, for zstd to
 * match).  Definitions and the trailer have tags of their own, from 0x80.
 */
#define TAG_EVENT_TYPE	 0x0fu
#define TAG_EVENT_THREAD 0x10u /* pid and tid deltas follow */
#define TAG_EVENT_FLAGS	 0x20u /* flags follow */
#define TAG_EVENT_LIMIT	 0x40u /* event tags are below */

enum record_tag {
	TAG_STRING = 0x80,
	TAG_STACK = 0x81,
	TAG_MODULE = 0x82,
	TAG_MODULE_GONE = 0x83,
	TAG_SYMBOL = 0x84,
	TAG_TRAILER = 0x85,
	TAG_TIMES = 0x86,
};

_Static_assert((int)MT_EV_TYPE_COUNT - 1 <= (int)TAG_EVENT_TYPE,
	       "event types run out of the tag's four bits");

/*
 * A SYMBOL record's head: which fields follow.  The others are the last
 * SYMBOL's (space, module, comp_dir, the first frame's file) or the usual
 * (the offset pc - module bias, one frame, no flags).
 */
#define SYM_SPACE     0x01u
#define SYM_MODULE    0x02u
#define SYM_OFFSET    0x04u
#define SYM_COMP_DIR  0x08u
#define SYM_NFRAMES   0x10u
#define SYM_FILE      0x20u /* the first frame's file */
#define SYM_ALLOCATOR 0x40u /* the first frame's flags are MT_SYMF_ALLOCATOR */
#define SYM_HEAD      0x7fu /* every bit a head may have */

/* What a SYMBOL record leaves out is taken from the last one's. */
struct log_symbol_base {
	uint64_t pc;
	uint32_t space, module, comp_dir, file;
};

/* Bits a reader accepts in each flags field. */
#define LOG_HEADER_FLAGS                                                                           \
	(MT_LOG_SYSCALLS_SECCOMP | MT_LOG_SYSCALLS_PTRACE | MT_LOG_SYSCALLS_WRAPPERS)
#define LOG_EVENT_FLAGS	  (MT_EVF_IN_ALLOC | MT_EVF_FAILED | MT_EVF_PREEXIST | MT_EVF_TRUNCATED)
#define LOG_SYMF_FLAGS	  (MT_SYMF_ALLOCATOR)
#define LOG_TRAILER_FLAGS (MT_TRAILER_DETACHED | MT_TRAILER_ABORTED)

/*
 * The most bytes one event record takes: a tag, the pid, tid and flags
 * every event may store and at most LOG_EVENT_OWN_MAX
 * of its own (MMAP has that many; log_writer.c checks every row of
 * MT_EVENTS), each at most two varints (an address and its literal).
 */
#define LOG_EVENT_OWN_MAX 8
#define LOG_EVENT_MAX	  (1 + 3 * VARINT_MAX + LOG_EVENT_OWN_MAX * 2 * VARINT_MAX)

/* Hash of two integers for the open-addressing tables keyed by
 * (parent, pc) and (space, pc); the low bits index, so the high ones are
 * folded down. */
static inline uint64_t log_hash_pair(uint64_t a, uint64_t b)
{
	uint64_t h =
		a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) * 0xc2b2ae3d27d4eb4full;

	return h ^ (h >> 31);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
