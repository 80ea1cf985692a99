/*
 * gmem.h - the one checked way for the host to touch guest memory.  A
 * glint_gmem describes the host mapping of the two guest-physical regions;
 * glint_gmem_span() returns a host pointer for [gpa, gpa+len) only if the
 * whole range lies inside one region, with overflow checked.
 *
 * Host writes are tracked: a snapshot must know every page that differs
 * from the image the sandbox maps, and KVM's dirty log sees only the
 * guest's writes.  glint_gmem_write() and glint_gmem_span_for_write() mark
 * the pages they hand out in host_dirty (when set); a host path that keeps
 * a raw pointer (the I/O buffers) marks what it wrote with
 * glint_gmem_mark_written().
 */
#ifndef GLINT_GMEM_H
#define GLINT_GMEM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct glint_gmem {
    uint8_t *host; /* host address of the snapshot region; scratch follows */
    uint64_t snapshot_gpa;
    uint64_t snapshot_size;
    uint64_t scratch_gpa;
    uint64_t scratch_size;
    /* Optional: bit i of host_dirty[0] (snapshot region) / [1] (scratch) is
     * set when the host wrote page i.  Not owned. */
    uint64_t *host_dirty[2];
} glint_gmem;

/* Host pointer for [gpa, gpa+len), or NULL if any byte is outside guest
 * memory or the range wraps.  len may be 0 (then gpa must still be inside).
 * For reading; see glint_gmem_span_for_write. */
void *glint_gmem_span(const glint_gmem *m, uint64_t gpa, uint64_t len);
/* Same, for writing: marks the range's pages written. */
void *glint_gmem_span_for_write(const glint_gmem *m, uint64_t gpa, uint64_t len);
/* Marks [gpa, gpa+len) written by the host; false if the range is invalid. */
bool glint_gmem_mark_written(const glint_gmem *m, uint64_t gpa, uint64_t len);
/* Copies out of / into guest memory; false if the range is invalid. */
bool glint_gmem_read(const glint_gmem *m, uint64_t gpa, void *dst, uint64_t len);
bool glint_gmem_write(const glint_gmem *m, uint64_t gpa, const void *src, uint64_t len);

#endif
