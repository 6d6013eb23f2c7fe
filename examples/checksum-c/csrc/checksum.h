/* CRC-32 (IEEE 802.3, reflected, as in zlib and Ethernet) and Adler-32 over byte buffers.
 * Both are incremental: pass the previous value to continue a running checksum, or the
 * initial value to start one. */
#ifndef MORGANA_CHECKSUM_H
#define MORGANA_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Starting value of a CRC-32. */
#define CHECKSUM_CRC32_INIT 0u
/* Starting value of an Adler-32. */
#define CHECKSUM_ADLER32_INIT 1u

/* Both checksums of a stream, updated together. */
struct checksum_state {
    uint32_t crc32;
    uint32_t adler32;
    uint64_t length;
};

uint32_t checksum_crc32(uint32_t crc, const uint8_t *data, size_t len);
uint32_t checksum_adler32(uint32_t adler, const uint8_t *data, size_t len);

/* A new state on the heap (NULL when out of memory); free it with checksum_state_free. */
struct checksum_state *checksum_state_new(void);
void checksum_state_update(struct checksum_state *state, const uint8_t *data, size_t len);
void checksum_state_free(struct checksum_state *state);

/* Writes "crc32=XXXXXXXX adler32=XXXXXXXX length=N" into out (at most size bytes with the
 * NUL); returns the length the full text needs, like snprintf. */
int checksum_state_format(const struct checksum_state *state, char *out, size_t size);

#endif
