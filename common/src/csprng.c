/*
 * csprng.c - ChaCha20 from RFC 8439 (written from the specification) and the
 * fast-key-erasure generator described in csprng.h.
 *
 * Shared by host and guest, like wire.c: no libc beyond memcpy/memset, no
 * state outside the structure the caller passes.
 */
#include "csprng.h"

#include <string.h>

static uint32_t load32_le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32_le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t rotl32(uint32_t v, unsigned n) { return (v << n) | (v >> (32u - n)); }

#define QUARTER_ROUND(x, a, b, c, d)                                                               \
    do {                                                                                           \
        x[a] += x[b];                                                                              \
        x[d] = rotl32(x[d] ^ x[a], 16);                                                            \
        x[c] += x[d];                                                                              \
        x[b] = rotl32(x[b] ^ x[c], 12);                                                            \
        x[a] += x[b];                                                                              \
        x[d] = rotl32(x[d] ^ x[a], 8);                                                             \
        x[c] += x[d];                                                                              \
        x[b] = rotl32(x[b] ^ x[c], 7);                                                             \
    } while (0)

void glint_chacha20_block(const uint8_t key[GLINT_CHACHA20_KEY_SIZE], uint32_t counter,
                          const uint8_t nonce[12], uint8_t out[GLINT_CHACHA20_BLOCK_SIZE]) {
    uint32_t state[16], x[16];
    /* "expand 32-byte k" */
    state[0] = 0x61707865u;
    state[1] = 0x3320646eu;
    state[2] = 0x79622d32u;
    state[3] = 0x6b206574u;
    for (unsigned i = 0; i < 8; i++) state[4 + i] = load32_le(key + 4 * i);
    state[12] = counter;
    for (unsigned i = 0; i < 3; i++) state[13 + i] = load32_le(nonce + 4 * i);
    memcpy(x, state, sizeof x);
    for (unsigned round = 0; round < 10; round++) { /* 20 rounds: 10 double rounds */
        QUARTER_ROUND(x, 0, 4, 8, 12);
        QUARTER_ROUND(x, 1, 5, 9, 13);
        QUARTER_ROUND(x, 2, 6, 10, 14);
        QUARTER_ROUND(x, 3, 7, 11, 15);
        QUARTER_ROUND(x, 0, 5, 10, 15);
        QUARTER_ROUND(x, 1, 6, 11, 12);
        QUARTER_ROUND(x, 2, 7, 8, 13);
        QUARTER_ROUND(x, 3, 4, 9, 14);
    }
    for (unsigned i = 0; i < 16; i++) store32_le(out + 4 * i, x[i] + state[i]);
}

void glint_csprng_seed(glint_csprng *rng, const uint8_t seed[GLINT_CHACHA20_KEY_SIZE]) {
    memcpy(rng->key, seed, GLINT_CHACHA20_KEY_SIZE);
    memset(rng->buffer, 0, sizeof rng->buffer);
    rng->available = 0;
}

/* Produces a buffer of key stream from the current key, moves its first
 * 32 bytes into the key (and wipes them from the buffer): from then on the
 * old key is gone. */
static void refill(glint_csprng *rng) {
    static const uint8_t nonce[12] = {0};
    for (uint32_t i = 0; i < GLINT_CSPRNG_BLOCKS; i++)
        glint_chacha20_block(rng->key, i, nonce, rng->buffer + i * GLINT_CHACHA20_BLOCK_SIZE);
    memcpy(rng->key, rng->buffer, GLINT_CHACHA20_KEY_SIZE);
    memset(rng->buffer, 0, GLINT_CHACHA20_KEY_SIZE);
    rng->available = GLINT_CSPRNG_BUFFER_SIZE - GLINT_CHACHA20_KEY_SIZE;
}

void glint_csprng_bytes(glint_csprng *rng, void *out, size_t len) {
    uint8_t *dst = out;
    while (len != 0) {
        if (rng->available == 0) refill(rng);
        size_t n = len < rng->available ? len : rng->available;
        uint8_t *src = rng->buffer + (GLINT_CSPRNG_BUFFER_SIZE - rng->available);
        memcpy(dst, src, n);
        memset(src, 0, n); /* handed out: not kept */
        rng->available -= (uint32_t)n;
        dst += n;
        len -= n;
    }
}

void glint_csprng_wipe(glint_csprng *rng) {
    /* volatile stores: the wipe must not be optimised away. */
    volatile uint8_t *p = (volatile uint8_t *)rng;
    for (size_t i = 0; i < sizeof *rng; i++) p[i] = 0;
}
