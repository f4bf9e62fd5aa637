/*
 * varint.h - LEB128 varints and zigzag, the integer coding of every record
 * in a memtrack log (formats/FORMAT.md, "Integers").
 *
 * Inline because the writer encodes about ten of them per traced event and
 * the reader decodes them for every event of a replay.
 *
 * A varint is the value's 7-bit groups, least significant first, each byte
 * but the last with bit 7 set.  The format only allows the shortest
 * encoding: at most 10 bytes, no bits beyond the 64th, and no trailing
 * 0x00 group after the first byte.
 */
#ifndef MEMTRACK_FORMATS_VARINT_H
#define MEMTRACK_FORMATS_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX 10 /* bytes in the longest varint (UINT64_MAX) */

/* What varint_get() found wrong; 0 is success. */
enum varint_error {
	VARINT_OK = 0,
	VARINT_SHORT = 1,      /* the input ended inside the varint */
	VARINT_TOO_LONG = 2,   /* an 11th byte would follow */
	VARINT_OVERFLOW = 3,   /* the 10th byte holds bits beyond 64 */
	VARINT_NOT_MINIMAL = 4 /* a trailing zero group: a shorter coding exists */
};

/* Writes v at p (room for VARINT_MAX bytes needed); returns the end. */
static inline uint8_t *varint_put(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* Bytes varint_put() writes for v. */
static inline size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* The rest of varint_get_long(): four bytes or more. */
static __attribute__((noinline, unused)) int varint_get_longer(const uint8_t **p, uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t x = (uint64_t)(q[0] & 0x7f) | (uint64_t)(q[1] & 0x7f) << 7 |
		     (uint64_t)(q[2] & 0x7f) << 14;
	unsigned i;

	for (i = 3;; i++) {
		uint8_t b = q[i];

		if (i == VARINT_MAX - 1 && b > 1)
			return b & 0x80 ? VARINT_TOO_LONG : VARINT_OVERFLOW;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0)
				return VARINT_NOT_MINIMAL;
			break;
		}
	}
	*v = x;
	*p = q + i + 1;
	return VARINT_OK;
}

/* varint_get() past its first byte, with all ten bytes of the longest
 * varint in the buffer: no end to check, and the two- and three-byte
 * varints (stack ids, sizes, addresses' codes) without a loop. */
static inline __attribute__((always_inline)) int varint_get_long(const uint8_t **p, uint64_t *v)
{
	const uint8_t *q = *p;

	if (q[1] < 0x80) {
		if (!q[1])
			return VARINT_NOT_MINIMAL;
		*v = (uint64_t)(q[0] & 0x7f) | (uint64_t)q[1] << 7;
		*p = q + 2;
		return VARINT_OK;
	}
	if (q[2] < 0x80) {
		if (!q[2])
			return VARINT_NOT_MINIMAL;
		*v = (uint64_t)(q[0] & 0x7f) | (uint64_t)(q[1] & 0x7f) << 7 | (uint64_t)q[2] << 14;
		*p = q + 3;
		return VARINT_OK;
	}
	return varint_get_longer(p, v);
}

/* varint_get() near the end of the buffer, or at its end. */
static __attribute__((noinline, unused)) int varint_get_near_end(const uint8_t **p,
								const uint8_t *end,
							 uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t x = 0;
	unsigned i;

	for (i = 0;; i++) {
		uint8_t b;

		if (q == end)
			return VARINT_SHORT;
		b = *q++;
		if (i == VARINT_MAX - 1 && b > 1)
			return b & 0x80 ? VARINT_TOO_LONG : VARINT_OVERFLOW;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				return VARINT_NOT_MINIMAL;
			break;
		}
	}
	*v = x;
	*p = q;
	return VARINT_OK;
}

/*
 * Reads one varint from [*p, end) into *v and advances *p past it.  On
 * error returns an enum varint_error and leaves *p and *v unchanged.
 */
static inline __attribute__((always_inline)) int varint_get(const uint8_t **p, const uint8_t *end,
							    uint64_t *v)
{
	const uint8_t *q = *p;

	/* The common case, in every event: one byte. */
	if (__builtin_expect(q < end && *q < 0x80, 1)) {
		*v = *q;
		*p = q + 1;
		return VARINT_OK;
	}
	if (__builtin_expect(end - q >= VARINT_MAX, 1))
		return varint_get_long(p, v);
	return varint_get_near_end(p, end, v);
}

/* Zigzag maps signed to unsigned so that small magnitudes stay short:
 * 0, -1, 1, -2, 2 ... become 0, 1, 2, 3, 4 ... */
static inline uint64_t zigzag_encode(int64_t v)
{
	uint64_t u = (uint64_t)v;

	/* The sign spread over all bits, without shifting a negative value
	 * (implementation-defined in C, and flagged by the analyzers). */
	return (u << 1) ^ (0 - (u >> 63));
}

static inline int64_t zigzag_decode(uint64_t u)
{
	return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

#endif
