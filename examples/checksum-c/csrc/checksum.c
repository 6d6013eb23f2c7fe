/* See checksum.h. Written for a freestanding environment: only <stddef.h>, <stdint.h>,
 * <stdlib.h> (malloc, free) and <stdio.h> (snprintf) are used. */
#include "checksum.h"

#include <stdio.h>
#include <stdlib.h>

#define CRC32_POLY_REFLECTED 0xEDB88320u
#define ADLER32_MOD 65521u
/* The most bytes Adler-32 can sum before its 32-bit sums must be reduced. */
#define ADLER32_BLOCK 5552u

static uint32_t crc32_table[256];
static int crc32_table_ready;

static void crc32_build_table(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int bit = 0; bit < 8; bit++)
            c = (c & 1u) ? (c >> 1) ^ CRC32_POLY_REFLECTED : c >> 1;
        crc32_table[n] = c;
    }
    crc32_table_ready = 1;
}

uint32_t checksum_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    if (!crc32_table_ready)
        crc32_build_table();
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = crc32_table[(crc ^ data[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

uint32_t checksum_adler32(uint32_t adler, const uint8_t *data, size_t len)
{
    uint32_t a = adler & 0xffffu;
    uint32_t b = adler >> 16;
    while (len > 0) {
        size_t block = len < ADLER32_BLOCK ? len : ADLER32_BLOCK;
        len -= block;
        while (block-- > 0) {
            a += *data++;
            b += a;
        }
        a %= ADLER32_MOD;
        b %= ADLER32_MOD;
    }
    return (b << 16) | a;
}

struct checksum_state *checksum_state_new(void)
{
    struct checksum_state *s = malloc(sizeof *s);
    if (s == NULL)
        return NULL;
    s->crc32 = CHECKSUM_CRC32_INIT;
    s->adler32 = CHECKSUM_ADLER32_INIT;
    s->length = 0;
    return s;
}

void checksum_state_update(struct checksum_state *state, const uint8_t *data, size_t len)
{
    state->crc32 = checksum_crc32(state->crc32, data, len);
    state->adler32 = checksum_adler32(state->adler32, data, len);
    state->length += len;
}

void checksum_state_free(struct checksum_state *state)
{
    free(state);
}

int checksum_state_format(const struct checksum_state *state, char *out, size_t size)
{
    return snprintf(out, size, "crc32=%08x adler32=%08x length=%llu", (unsigned)state->crc32,
                    (unsigned)state->adler32, (unsigned long long)state->length);
}
