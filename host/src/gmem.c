#include "gmem.h"

#include <string.h>

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

bool glint_gmem_read(const glint_gmem *m, uint64_t gpa, void *dst, uint64_t len) {
    const void *src = glint_gmem_span(m, gpa, len);
    if (src == NULL) return false;
    memcpy(dst, src, len);
    return true;
}

bool glint_gmem_write(const glint_gmem *m, uint64_t gpa, const void *src, uint64_t len) {
    void *dst = glint_gmem_span(m, gpa, len);
    if (dst == NULL) return false;
    memcpy(dst, src, len);
    return true;
}
