/* Page-table construction.  Intermediate entries are present+writable; the
 * leaf decides the effective permission (x86 takes the most restrictive). */
#include "paging.h"

#include <string.h>

#include "glint/abi.h"

void glint_pt_init(glint_pt_builder *b, uint8_t *host, uint64_t gpa, uint64_t size) {
    b->host = host;
    b->gpa = gpa;
    b->size = size;
    b->used = GLINT_PAGE_SIZE; /* page 0 is the PML4 */
}

static uint64_t *table_at(glint_pt_builder *b, uint64_t table_gpa) {
    return (uint64_t *)(void *)(b->host + (table_gpa - b->gpa));
}

/* Returns the next-level table, allocating it; 0 when the area is full. */
static uint64_t next_table(glint_pt_builder *b, uint64_t *entry) {
    if (*entry & GLINT_PTE_PRESENT) return *entry & GLINT_PTE_ADDR_MASK;
    if (b->size - b->used < GLINT_PAGE_SIZE) return 0;
    uint64_t gpa = b->gpa + b->used;
    b->used += GLINT_PAGE_SIZE;
    *entry = gpa | GLINT_PTE_PRESENT | GLINT_PTE_WRITE;
    return gpa;
}

glint_status glint_pt_map(glint_pt_builder *b, uint64_t gpa, uint64_t size, uint32_t perms,
                          glint_error *err) {
    if ((gpa | size) & (GLINT_PAGE_SIZE - 1u) || gpa + size < gpa || gpa + size > GLINT_PHYS_TOP)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "bad page-table range 0x%llx+0x%llx",
                          (unsigned long long)gpa, (unsigned long long)size);
    uint64_t leaf_flags = GLINT_PTE_PRESENT;
    if (perms & GLINT_PERM_WRITE) leaf_flags |= GLINT_PTE_WRITE;
    if (!(perms & GLINT_PERM_EXEC)) leaf_flags |= GLINT_PTE_NX;
    for (uint64_t a = gpa; a < gpa + size; a += GLINT_PAGE_SIZE) {
        uint64_t *pml4 = table_at(b, b->gpa);
        uint64_t pdpt = next_table(b, &pml4[(a >> 39) & 511]);
        if (pdpt == 0) goto full;
        uint64_t pd = next_table(b, &table_at(b, pdpt)[(a >> 30) & 511]);
        if (pd == 0) goto full;
        uint64_t pt = next_table(b, &table_at(b, pd)[(a >> 21) & 511]);
        if (pt == 0) goto full;
        table_at(b, pt)[(a >> 12) & 511] = a | leaf_flags;
    }
    return GLINT_OK;
full:
    return glint_fail(err, GLINT_E_TOO_SMALL, "page-table area of %llu bytes is full",
                      (unsigned long long)b->size);
}
