/* Page-table construction.  Intermediate entries are present, writable and
 * user-accessible; the leaf decides the effective permission (x86 takes the
 * most restrictive of all levels), so one table can hold both the guest's
 * pages and the host's supervisor-only ones.
 *
 * After initialisation the page-table area is guest memory the guest could
 * have rewritten, so every entry read back is validated (it must point to a
 * page the builder handed out) before it is followed, and pages taken from
 * the pool are zeroed before use. */
#include "paging.h"

#include <string.h>

#include "glint/abi.h"

#define PAGE ((uint64_t)GLINT_PAGE_SIZE)
#define LARGE_PAGE (1ull << 21)

void glint_pt_init(glint_pt_builder *b, uint8_t *host, uint64_t gpa, uint64_t size) {
    b->host = host;
    b->gpa = gpa;
    b->size = size;
    b->used = PAGE; /* page 0 is the PML4 */
}

static uint64_t *table_at(glint_pt_builder *b, uint64_t table_gpa) {
    return (uint64_t *)(void *)(b->host + (table_gpa - b->gpa));
}

typedef enum { NEXT_OK, NEXT_FULL, NEXT_CORRUPT } next_result;

/* Follows or creates the next-level table behind *entry. */
static next_result next_table(glint_pt_builder *b, uint64_t *entry, uint64_t *table) {
    uint64_t e = *entry;
    if (e & GLINT_PTE_PRESENT) {
        uint64_t addr = e & GLINT_PTE_ADDR_MASK;
        if ((e & GLINT_PTE_LARGE) || addr < b->gpa + PAGE || addr >= b->gpa + b->used)
            return NEXT_CORRUPT;
        *table = addr;
        return NEXT_OK;
    }
    if (b->used > b->size || b->size - b->used < PAGE) return NEXT_FULL;
    uint64_t gpa = b->gpa + b->used;
    b->used += PAGE;
    memset(table_at(b, gpa), 0, PAGE);
    *entry = gpa | GLINT_PTE_PRESENT | GLINT_PTE_WRITE | GLINT_PTE_USER;
    *table = gpa;
    return NEXT_OK;
}

static glint_status walk_error(next_result r, const glint_pt_builder *b, glint_error *err) {
    if (r == NEXT_FULL)
        return glint_fail(err, GLINT_E_TOO_SMALL, "page-table area of %llu bytes is full",
                          (unsigned long long)b->size);
    return glint_fail(
        err, GLINT_E_MAPPING,
        "guest page tables are corrupt (an entry points outside the page-table area)");
}

static bool range_valid(uint64_t gpa, uint64_t size) {
    return ((gpa | size) & (PAGE - 1u)) == 0 && size != 0 && gpa + size > gpa &&
           gpa + size <= GLINT_PHYS_TOP;
}

glint_status glint_pt_map_ex(glint_pt_builder *b, uint64_t gpa, uint64_t size, uint32_t perms,
                             bool large_pages, glint_error *err) {
    if (!range_valid(gpa, size))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "bad page-table range 0x%llx+0x%llx",
                          (unsigned long long)gpa, (unsigned long long)size);
    if (perms & ~(GLINT_PERM_READ | GLINT_PERM_WRITE | GLINT_PERM_EXEC | GLINT_PT_KERNEL))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "bad page permissions 0x%x", perms);
    uint64_t leaf = GLINT_PTE_PRESENT;
    if (!(perms & GLINT_PT_KERNEL)) leaf |= GLINT_PTE_USER;
    if (perms & GLINT_PERM_WRITE) leaf |= GLINT_PTE_WRITE;
    if (!(perms & GLINT_PERM_EXEC)) leaf |= GLINT_PTE_NX;
    uint64_t a = gpa, end = gpa + size;
    while (a < end) {
        uint64_t pdpt, pd, pt;
        next_result r;
        if ((r = next_table(b, &table_at(b, b->gpa)[(a >> 39) & 511], &pdpt)) != NEXT_OK ||
            (r = next_table(b, &table_at(b, pdpt)[(a >> 30) & 511], &pd)) != NEXT_OK)
            return walk_error(r, b, err);
        uint64_t *pde = &table_at(b, pd)[(a >> 21) & 511];
        if (large_pages && (a & (LARGE_PAGE - 1u)) == 0 && end - a >= LARGE_PAGE &&
            !(*pde & GLINT_PTE_PRESENT)) {
            /* A 2 MiB leaf: a large mapping costs one entry per 2 MiB. */
            *pde = a | leaf | GLINT_PTE_LARGE;
            a += LARGE_PAGE;
            continue;
        }
        if ((r = next_table(b, pde, &pt)) != NEXT_OK) return walk_error(r, b, err);
        table_at(b, pt)[(a >> 12) & 511] = a | leaf;
        a += PAGE;
    }
    return GLINT_OK;
}

glint_status glint_pt_map(glint_pt_builder *b, uint64_t gpa, uint64_t size, uint32_t perms,
                          glint_error *err) {
    return glint_pt_map_ex(b, gpa, size, perms, false, err);
}

/* Reads an entry's table address if it is a valid, present, non-leaf entry. */
static bool follow(const glint_pt_builder *b, uint64_t e, uint64_t *table) {
    uint64_t addr = e & GLINT_PTE_ADDR_MASK;
    if (!(e & GLINT_PTE_PRESENT) || (e & GLINT_PTE_LARGE) || addr < b->gpa + PAGE ||
        addr >= b->gpa + b->used)
        return false;
    *table = addr;
    return true;
}

glint_status glint_pt_unmap(glint_pt_builder *b, uint64_t gpa, uint64_t size, glint_error *err) {
    if (!range_valid(gpa, size))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "bad page-table range 0x%llx+0x%llx",
                          (unsigned long long)gpa, (unsigned long long)size);
    uint64_t a = gpa, end = gpa + size;
    while (a < end) {
        uint64_t pdpt, pd, pt;
        if (!follow(b, table_at(b, b->gpa)[(a >> 39) & 511], &pdpt) ||
            !follow(b, table_at(b, pdpt)[(a >> 30) & 511], &pd)) {
            a = (a | ((1ull << 30) - 1u)) + 1u; /* nothing mapped in this 1 GiB */
            continue;
        }
        uint64_t *pde = &table_at(b, pd)[(a >> 21) & 511];
        if ((*pde & GLINT_PTE_PRESENT) && (*pde & GLINT_PTE_LARGE)) {
            *pde = 0;
            a = (a | (LARGE_PAGE - 1u)) + 1u;
            continue;
        }
        if (!follow(b, *pde, &pt)) {
            a = (a | (LARGE_PAGE - 1u)) + 1u;
            continue;
        }
        table_at(b, pt)[(a >> 12) & 511] = 0;
        a += PAGE;
    }
    return GLINT_OK;
}
