/*
 * log_format.h - the framing of a memtrack log shared by the writer and the
 * reader: record tags, header and chunk layout, limits.  FORMAT.md is the
 * spec; these constants are its numbers.  Private to formats/.
 */
#ifndef MEMTRACK_FORMATS_LOG_FORMAT_H
#define MEMTRACK_FORMATS_LOG_FORMAT_H

#include <stdint.h>

#include "log.h"

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
#define CHUNK_MAX_RAW	  (16u << 20) /* raw bytes in one chunk */
#define CHUNK_TARGET_RAW  (64u << 10) /* where the writer cuts */

enum chunk_codec {
	CODEC_STORED = 0,
	CODEC_ZSTD = 1,
};

/* Record tags: events are their enum mt_event_type (1 to
 * MT_EV_TYPE_COUNT - 1, the rows of MT_EVENTS); definitions and the
 * trailer sit apart so events can be appended. */
enum record_tag {
	TAG_STRING = 0x40,
	TAG_STACK = 0x41,
	TAG_MODULE = 0x42,
	TAG_MODULE_GONE = 0x43,
	TAG_SYMBOL = 0x44,
	TAG_TRAILER = 0x45,
};

_Static_assert((int)MT_EV_TYPE_COUNT <= (int)TAG_STRING,
	       "event tags run into the definitions' tags");

/* Bits a reader accepts in each flags field. */
#define LOG_HEADER_FLAGS                                                                           \
	(MT_LOG_SYSCALLS_SECCOMP | MT_LOG_SYSCALLS_PTRACE | MT_LOG_SYSCALLS_WRAPPERS)
#define LOG_EVENT_FLAGS	  (MT_EVF_IN_ALLOC | MT_EVF_FAILED | MT_EVF_PREEXIST | MT_EVF_TRUNCATED)
#define LOG_SYMF_FLAGS	  (MT_SYMF_ALLOCATOR)
#define LOG_TRAILER_FLAGS (MT_TRAILER_DETACHED | MT_TRAILER_ABORTED)

/*
 * The most bytes one event record takes: a tag, the four fields every
 * event starts with and at most LOG_EVENT_OWN_MAX of its own (MMAP has
 * that many; log_writer.c checks every row of MT_EVENTS), 10 bytes each.
 */
#define LOG_EVENT_OWN_MAX 8
#define LOG_EVENT_MAX	  (1 + (4 + LOG_EVENT_OWN_MAX) * 10)

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
