/* Checksums in C for the crate matrix: FNV-1a (32 and 64 bits) and CRC-32 (the reflected
 * polynomial 0xedb88320, bit by bit). Integers only, so the same code builds hard- and
 * soft-float. */
#include <stddef.h>
#include <stdint.h>

uint32_t sums_fnv1a32(const unsigned char *p, size_t n) {
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x01000193u;
    }
    return h;
}

uint64_t sums_fnv1a64(const unsigned char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint32_t sums_crc32(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
        }
    }
    return ~c;
}
