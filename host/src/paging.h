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

typedef struct glint_pt_builder {
    uint8_t *host; /* host view of the page-table area */
    uint64_t gpa;  /* its guest-physical address; the PML4 is its first page */
    uint64_t size; /* bytes available */
    uint64_t used; /* bytes handed out */
} glint_pt_builder;

/* host must be zero-filled. */
void glint_pt_init(glint_pt_builder *b, uint8_t *host, uint64_t gpa, uint64_t size);
/* Maps [gpa, gpa+size) identity with perms (GLINT_PERM_*; READ is implied;
 * plus GLINT_PT_KERNEL for supervisor-only pages) using 4 KiB leaves.  Pages
 * are user-accessible (guest code runs at CPL 3) unless GLINT_PT_KERNEL. */
glint_status glint_pt_map(glint_pt_builder *b, uint64_t gpa, uint64_t size, uint32_t perms,
                          glint_error *err);
/* Same, with 2 MiB leaves wherever alignment allows (large_pages). */
glint_status glint_pt_map_ex(glint_pt_builder *b, uint64_t gpa, uint64_t size, uint32_t perms,
                             bool large_pages, glint_error *err);
/* Clears the leaves covering [gpa, gpa+size); tables stay allocated. */
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
