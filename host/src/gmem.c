#include "gmem.h"

#include <string.h>

#include "glint/abi.h"

static bool inside(uint64_t base, uint64_t size, uint64_t gpa, uint64_t len) {
    return gpa >= base && gpa - base < size && len <= size - (gpa - base);
}

void *glint_gmem_span(const glint_gmem *m, uint64_t gpa, uint64_t len) {
    if (m == NULL || m->host == NULL) return NULL;
    if (inside(m->snapshot_gpa, m->snapshot_size, gpa, len))
        return m->host + (gpa - m->snapshot_gpa);
    if (inside(m->scratch_gpa, m->scratch_size, gpa, len))
        return m->host + m->snapshot_size + (gpa - m->scratch_gpa);
    return NULL;
}

static void mark(uint64_t *bits, uint64_t offset, uint64_t len) {
    if (bits == NULL || len == 0) return;
    uint64_t first = offset / GLINT_PAGE_SIZE, last = (offset + len - 1u) / GLINT_PAGE_SIZE;
    for (uint64_t p = first; p <= last; p++) bits[p / 64u] |= 1ull << (p % 64u);
}

bool glint_gmem_mark_written(const glint_gmem *m, uint64_t gpa, uint64_t len) {
    if (glint_gmem_span(m, gpa, len) == NULL) return false;
    if (inside(m->snapshot_gpa, m->snapshot_size, gpa, len))
        mark(m->host_dirty[0], gpa - m->snapshot_gpa, len);
    else
        mark(m->host_dirty[1], gpa - m->scratch_gpa, len);
    return true;
}

void *glint_gmem_span_for_write(const glint_gmem *m, uint64_t gpa, uint64_t len) {
    void *p = glint_gmem_span(m, gpa, len);
    if (p != NULL) glint_gmem_mark_written(m, gpa, len);
    return p;
}

bool glint_gmem_read(const glint_gmem *m, uint64_t gpa, void *dst, uint64_t len) {
    const void *src = glint_gmem_span(m, gpa, len);
    if (src == NULL) return false;
    memcpy(dst, src, len);
    return true;
}

bool glint_gmem_write(const glint_gmem *m, uint64_t gpa, const void *src, uint64_t len) {
    void *dst = glint_gmem_span_for_write(m, gpa, len);
    if (dst == NULL) return false;
    memcpy(dst, src, len);
    return true;
}
