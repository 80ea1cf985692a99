/*
 * unit_support.h - helpers shared by the unit tests (header only).
 *
 * guarded_alloc(len) returns len bytes that end exactly at a PROT_NONE page,
 * so any read or write one byte past the end faults (SIGSEGV) instead of
 * silently succeeding: this is how the tests prove "never reads outside the
 * buffer" for parsers that take (pointer, size).
 */
#ifndef GLINT_UNIT_SUPPORT_H
#define GLINT_UNIT_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct guarded_buf {
    uint8_t *data; /* len usable bytes, followed immediately by a PROT_NONE page */
    size_t len;
    void *map; /* the whole mapping */
    size_t map_len;
} guarded_buf;

static inline size_t guarded_page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* Returns 0 on success.  The data is zero-filled. */
static inline int guarded_alloc(guarded_buf *g, size_t len) {
    size_t page = guarded_page_size();
    memset(g, 0, sizeof *g);
    size_t data_pages = (len + page - 1) / page;
    g->map_len = (data_pages + 1) * page;
    g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->map == MAP_FAILED) {
        g->map = NULL;
        return -1;
    }
    uint8_t *guard = (uint8_t *)g->map + data_pages * page;
    if (mprotect(guard, page, PROT_NONE) != 0) {
        munmap(g->map, g->map_len);
        g->map = NULL;
        return -1;
    }
    g->data = guard - len;
    g->len = len;
    return 0;
}

/* Copies src into a fresh guarded buffer. */
static inline int guarded_copy(guarded_buf *g, const void *src, size_t len) {
    if (guarded_alloc(g, len) != 0) return -1;
    if (len != 0) memcpy(g->data, src, len);
    return 0;
}

static inline void guarded_free(guarded_buf *g) {
    if (g->map != NULL) munmap(g->map, g->map_len);
    g->map = NULL;
    g->data = NULL;
}

/* Small deterministic PRNG (xorshift64*) for the mutation loops. */
static inline uint64_t unit_rand(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

#endif
