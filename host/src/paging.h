/*
 * paging.h - builds x86-64 4-level page tables (4 KiB leaves, NX and
 * read-only from the layout) into a host buffer that holds the guest's
 * page-table area.  Guest virtual == guest physical.
 */
#ifndef GLINT_PAGING_H
#define GLINT_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Most pages a page-table area can have (glint_layout_compute refuses
 * layouts that would need more): 16 GiB each of snapshot and scratch region
 * in 4 KiB leaves, the upper levels, and the mapping pool. */
#define GLINT_PT_MAX_PAGES 16640u

/* Which pages of the page-table area hold a table (bit i: page i; page 0 is
 * the PML4).  Host-side and authoritative: an entry read back from guest
 * memory is followed only if it points to a page marked here.  Kept by the
 * sandbox and copied into each snapshot image, because it describes the
 * contents of that memory. */
typedef struct glint_pt_pool {
    uint64_t in_use[GLINT_PT_MAX_PAGES / 64u];
    uint64_t pages; /* pages in the area */
    uint64_t in_use_count;
    uint64_t hint; /* lowest page that may be free */
} glint_pt_pool;

typedef struct glint_pt_builder {
    uint8_t *host; /* host view of the page-table area */
    uint64_t gpa;  /* its guest-physical address; the PML4 is its first page */
    uint64_t size; /* bytes available */
    glint_pt_pool pool;
    /* Optional: bit i set when page i of the area was written (for the
     * host-write tracking snapshots rely on).  Not owned. */
    uint64_t *written;
} glint_pt_builder;

/* A fresh builder over a zero-filled area: only the PML4 in use. */
void glint_pt_init(glint_pt_builder *b, uint8_t *host, uint64_t gpa, uint64_t size);
/* A builder over an area already holding tables, described by pool. */
void glint_pt_resume(glint_pt_builder *b, uint8_t *host, uint64_t gpa, uint64_t size,
                     const glint_pt_pool *pool);
/* Table pages in use (the PML4 included). */
uint64_t glint_pt_pages_in_use(const glint_pt_builder *b);
/* Maps [gpa, gpa+size) identity with perms (GLINT_PERM_*; READ is implied;
 * plus GLINT_PT_KERNEL for supervisor-only pages) using 4 KiB leaves.  Pages
 * are user-accessible (guest code runs at CPL 3) unless GLINT_PT_KERNEL.
 * All or nothing: on failure (area full, corrupt tables) every entry this
 * call created is cleared again and the tables it allocated are freed. */
glint_status glint_pt_map(glint_pt_builder *b, uint64_t gpa, uint64_t size, uint32_t perms,
                          glint_error *err);
/* Same, with 2 MiB leaves wherever alignment allows (large_pages). */
glint_status glint_pt_map_ex(glint_pt_builder *b, uint64_t gpa, uint64_t size, uint32_t perms,
                             bool large_pages, glint_error *err);
/* Clears the leaves covering [gpa, gpa+size) and frees every table page that
 * becomes empty (never the PML4), so map/unmap cycles never exhaust the area. */
glint_status glint_pt_unmap(glint_pt_builder *b, uint64_t gpa, uint64_t size, glint_error *err);

/* Supervisor-only: the host's CPU tables, exception stubs, exception stack
 * and metadata page.  Beside the public GLINT_PERM_* bits. */
#define GLINT_PT_KERNEL 0x100u

#define GLINT_PTE_PRESENT (1ull << 0)
#define GLINT_PTE_WRITE (1ull << 1)
#define GLINT_PTE_USER (1ull << 2)
#define GLINT_PTE_LARGE (1ull << 7)
#define GLINT_PTE_NX (1ull << 63)
#define GLINT_PTE_ADDR_MASK 0x000ffffffffff000ull

#endif
