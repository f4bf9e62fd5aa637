/*
 * popcount.h - the number of bits set in a 64-bit word, for the live-block
 * tables (blocks.c, heaplive.c) that find an entry by counting the bits
 * before it.
 *
 * x86_64's baseline has no popcnt instruction, so the compiler's builtin
 * calls a table-driven routine; the instruction is used where the CPU has
 * it (__builtin_cpu_supports reads one flag libgcc set at start-up, a test
 * the branch predictor settles once), else a few shifts and a multiply.
 */
#ifndef MEMTRACK_FORMATS_POPCOUNT_H
#define MEMTRACK_FORMATS_POPCOUNT_H

#include <stdint.h>

static inline unsigned popcount64(uint64_t x)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("popcnt")) {
		uint64_t n;

		__asm__("popcntq %1, %0" : "=r"(n) : "rm"(x));
		return (unsigned)n;
	}
#endif
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

#endif
