/* hash.h - FNV-1a, 64-bit: identifies guest binaries and checksums snapshot
 * files against accidental corruption.  Not a security primitive. */
#ifndef GLINT_HASH_H
#define GLINT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define GLINT_FNV_BASIS 0xcbf29ce484222325ull

/* Continues hash h over data (start with GLINT_FNV_BASIS). */
static inline uint64_t glint_fnv1a(uint64_t h, const void *data, size_t len) {
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#endif
