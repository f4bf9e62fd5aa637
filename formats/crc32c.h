/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of the log header and of
 * every chunk (formats/FORMAT.md).  Reflected polynomial 0x82F63B78, initial
 * value and final xor 0xFFFFFFFF, as in iSCSI, ext4 and SCTP:
 * crc32c(0, "123456789", 9) == 0xE3069283.
 */
#ifndef MEMTRACK_FORMATS_CRC32C_H
#define MEMTRACK_FORMATS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC of buf[0..len) continuing from crc (0 to start), so that
 * crc32c(crc32c(0, a, na), b, nb) is the CRC of a followed by b.  Uses the
 * SSE4.2 crc32 instruction when the CPU has it. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The same, always computed with tables (what crc32c() falls back to);
 * exposed so that tests can check the two agree. */
uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len);

#endif
