/*
 * layout.h - guest-physical memory layout (see docs/abi.md).  Pure
 * computation, unit-tested without KVM.
 *
 * Snapshot region at GLINT_BASE_ADDRESS: image | PEB page | CPU tables page
 * | exception code page | heap | init data | page tables.  Scratch region ending at GLINT_PHYS_TOP:
 * input | output | guard | stack | guard | exception stack | metadata page.
 */
#ifndef GLINT_LAYOUT_H
#define GLINT_LAYOUT_H

#include <stdint.h>

#include "error.h"
#include "glint/abi.h"

/* The page size as a 64-bit value, for address arithmetic on the host. */
#define GLINT_PAGE ((uint64_t)GLINT_PAGE_SIZE)

/* Page-table pages reserved after the initial tables for file mappings
 * (sparse: untouched pages cost no memory).  A mapping takes at most one PD
 * page per GiB it spans plus two PT pages for unaligned ends. */
#define GLINT_MAPPING_PT_POOL_PAGES 128u

typedef struct glint_layout_params {
    uint64_t image_size; /* bytes of the loaded ELF image (page aligned or not) */
    uint64_t entry;      /* ELF entry offset */
    uint64_t heap_size;
    uint64_t init_data_size;
    uint64_t input_size;
    uint64_t output_size;
    uint64_t scratch_size;
    uint64_t memory_cap;
} glint_layout_params;

/* Computes the layout; GLINT_E_TOO_BIG / GLINT_E_TOO_SMALL name the field. */
glint_status glint_layout_compute(const glint_layout_params *p, glint_layout_info *out,
                                  glint_error *err);

/* Number of page-table pages needed to map [gpa, gpa+size) ranges with 4 KiB
 * pages.  ranges: pairs {gpa, size}, sorted, non-overlapping. */
uint64_t glint_page_table_pages(const uint64_t (*ranges)[2], uint32_t count);

#endif
