/* Page-table construction.  Intermediate entries are present, writable and
 * user-accessible; the leaf decides the effective permission (x86 takes the
 * most restrictive of all levels), so one table can hold both the guest's
 * pages and the host's supervisor-only ones.
 *
 * Table pages come from the page-table area through a host-side bitmap
 * (glint_pt_pool): freed tables go back to it, so file mappings can be added
 * and removed forever.  The area itself is guest memory, so every entry read
 * back is validated (it must point to a page the pool handed out) before it
 * is followed, and pages are zeroed when handed out. */
#include "paging.h"

#include "layout.h"

#include <string.h>

#include "glint/abi.h"

#define LARGE_PAGE (1ull << 21)
#define ENTRIES 512u

static void mark_written(glint_pt_builder *b, uint64_t page) {
    if (b->written != NULL) b->written[page / 64u] |= 1ull << (page % 64u);
}

static bool page_in_use(const glint_pt_pool *p, uint64_t page) {
    return page < p->pages && (p->in_use[page / 64u] >> (page % 64u)) & 1u;
}

static void pool_init(glint_pt_pool *p, uint64_t size) {
    memset(p, 0, sizeof *p);
    p->pages = size / GLINT_PAGE;
    if (p->pages > GLINT_PT_MAX_PAGES) p->pages = GLINT_PT_MAX_PAGES;
    if (p->pages != 0) {
        p->in_use[0] = 1u; /* the PML4 */
        p->in_use_count = 1;
    }
    p->hint = 1;
}

void glint_pt_init(glint_pt_builder *b, uint8_t *host, uint64_t gpa, uint64_t size) {
    b->host = host;
    b->gpa = gpa;
    b->size = size;
    b->written = NULL;
    pool_init(&b->pool, size);
}

void glint_pt_resume(glint_pt_builder *b, uint8_t *host, uint64_t gpa, uint64_t size,
                     const glint_pt_pool *pool) {
    b->host = host;
    b->gpa = gpa;
    b->size = size;
    b->written = NULL;
    b->pool = *pool;
}

uint64_t glint_pt_pages_in_use(const glint_pt_builder *b) { return b->pool.in_use_count; }

static uint64_t *table_at(glint_pt_builder *b, uint64_t table_gpa) {
    return (uint64_t *)(void *)(b->host + (table_gpa - b->gpa));
}

static bool alloc_page(glint_pt_builder *b, uint64_t *page_out) {
    glint_pt_pool *p = &b->pool;
    for (uint64_t w = p->hint / 64u; w < (p->pages + 63u) / 64u; w++) {
        uint64_t free_bits = ~p->in_use[w];
        if (free_bits == 0) continue;
        uint64_t page = w * 64u + (uint64_t)__builtin_ctzll(free_bits);
        if (page >= p->pages) return false;
        p->in_use[w] |= 1ull << (page % 64u);
        p->in_use_count++;
        p->hint = page + 1u;
        *page_out = page;
        return true;
    }
    return false;
}

static void free_page(glint_pt_builder *b, uint64_t page) {
    glint_pt_pool *p = &b->pool;
    if (page == 0 || !page_in_use(p, page)) return;
    p->in_use[page / 64u] &= ~(1ull << (page % 64u));
    p->in_use_count--;
    if (page < p->hint) p->hint = page;
}

/* Reads an entry's table address if it is a present, non-leaf entry that
 * points to a table page of the pool. */
static bool follow(const glint_pt_builder *b, uint64_t e, uint64_t *table) {
    uint64_t addr = e & GLINT_PTE_ADDR_MASK;
    if (!(e & GLINT_PTE_PRESENT) || (e & GLINT_PTE_LARGE) || addr < b->gpa ||
        !page_in_use(&b->pool, (addr - b->gpa) / GLINT_PAGE) || addr == b->gpa)
        return false;
    *table = addr;
    return true;
}

typedef enum { NEXT_OK, NEXT_FULL, NEXT_CORRUPT } next_result;

/* Follows or creates the next-level table behind *entry (in table page
 * `page`). */
static next_result next_table(glint_pt_builder *b, uint64_t page, uint64_t *entry,
                              uint64_t *table) {
    uint64_t e = *entry;
    if (e & GLINT_PTE_PRESENT) return follow(b, e, table) ? NEXT_OK : NEXT_CORRUPT;
    uint64_t fresh;
    if (!alloc_page(b, &fresh)) return NEXT_FULL;
    uint64_t gpa = b->gpa + fresh * GLINT_PAGE;
    memset(table_at(b, gpa), 0, GLINT_PAGE);
    mark_written(b, fresh);
    *entry = gpa | GLINT_PTE_PRESENT | GLINT_PTE_WRITE | GLINT_PTE_USER;
    mark_written(b, page);
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
    return ((gpa | size) & (GLINT_PAGE - 1u)) == 0 && size != 0 && gpa + size > gpa &&
           gpa + size <= GLINT_PHYS_TOP;
}

static uint64_t page_of(const glint_pt_builder *b, uint64_t table_gpa) {
    return (table_gpa - b->gpa) / GLINT_PAGE;
}

glint_status glint_pt_map_ex(glint_pt_builder *b, uint64_t gpa, uint64_t size, uint32_t perms,
                             bool large_pages, glint_error *err) {
    if (!range_valid(gpa, size))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "bad page-table range 0x%llx+0x%llx",
                          (unsigned long long)gpa, (unsigned long long)size);
    if (perms & ~(GLINT_PERM_READ | GLINT_PERM_WRITE | GLINT_PERM_EXEC | GLINT_PT_KERNEL))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "bad page permissions 0x%x", perms);
    if (b->pool.pages == 0) return walk_error(NEXT_FULL, b, err);
    uint64_t leaf = GLINT_PTE_PRESENT;
    if (!(perms & GLINT_PT_KERNEL)) leaf |= GLINT_PTE_USER;
    if (perms & GLINT_PERM_WRITE) leaf |= GLINT_PTE_WRITE;
    if (!(perms & GLINT_PERM_EXEC)) leaf |= GLINT_PTE_NX;
    uint64_t a = gpa, end = gpa + size;
    next_result r = NEXT_OK;
    while (a < end) {
        uint64_t pdpt, pd, pt;
        if ((r = next_table(b, 0, &table_at(b, b->gpa)[(a >> 39) & 511], &pdpt)) != NEXT_OK ||
            (r = next_table(b, page_of(b, pdpt), &table_at(b, pdpt)[(a >> 30) & 511], &pd)) !=
                NEXT_OK)
            break;
        uint64_t *pde = &table_at(b, pd)[(a >> 21) & 511];
        if (large_pages && (a & (LARGE_PAGE - 1u)) == 0 && end - a >= LARGE_PAGE &&
            !(*pde & GLINT_PTE_PRESENT)) {
            /* A 2 MiB leaf: a large mapping costs one entry per 2 MiB. */
            *pde = a | leaf | GLINT_PTE_LARGE;
            mark_written(b, page_of(b, pd));
            a += LARGE_PAGE;
            continue;
        }
        if ((r = next_table(b, page_of(b, pd), pde, &pt)) != NEXT_OK) break;
        table_at(b, pt)[(a >> 12) & 511] = a | leaf;
        mark_written(b, page_of(b, pt));
        a += GLINT_PAGE;
    }
    if (r == NEXT_OK) return GLINT_OK;
    /* All or nothing: a half-built range would leave tables linked that the
     * caller does not know about. */
    glint_pt_unmap(b, gpa, a - gpa + GLINT_PAGE, NULL); /* + the block that failed */
    return walk_error(r, b, err);
}

glint_status glint_pt_map(glint_pt_builder *b, uint64_t gpa, uint64_t size, uint32_t perms,
                          glint_error *err) {
    return glint_pt_map_ex(b, gpa, size, perms, false, err);
}

static bool table_empty(glint_pt_builder *b, uint64_t table) {
    const uint64_t *t = table_at(b, table);
    for (uint32_t i = 0; i < ENTRIES; i++)
        if (t[i] != 0) return false;
    return true;
}

/* Frees `table` and clears *parent_entry (in page parent) when it holds no
 * entry any more.  Returns true if it was freed. */
static bool prune(glint_pt_builder *b, uint64_t parent, uint64_t *parent_entry, uint64_t table) {
    if (!table_empty(b, table)) return false;
    *parent_entry = 0;
    mark_written(b, parent);
    free_page(b, page_of(b, table));
    return true;
}

glint_status glint_pt_unmap(glint_pt_builder *b, uint64_t gpa, uint64_t size, glint_error *err) {
    if (!range_valid(gpa, size))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "bad page-table range 0x%llx+0x%llx",
                          (unsigned long long)gpa, (unsigned long long)size);
    if (b->pool.pages == 0) return GLINT_OK;
    uint64_t a = gpa, end = gpa + size;
    while (a < end) {
        uint64_t pdpt, pd, pt;
        uint64_t *pml4e = &table_at(b, b->gpa)[(a >> 39) & 511];
        if (!follow(b, *pml4e, &pdpt)) {
            a = (a | ((1ull << 39) - 1u)) + 1u; /* nothing mapped in this 512 GiB */
            continue;
        }
        uint64_t *pdpte = &table_at(b, pdpt)[(a >> 30) & 511];
        if (!follow(b, *pdpte, &pd)) {
            a = (a | ((1ull << 30) - 1u)) + 1u; /* nothing mapped in this 1 GiB */
            continue;
        }
        uint64_t *pde = &table_at(b, pd)[(a >> 21) & 511];
        uint64_t next_2m = (a | (LARGE_PAGE - 1u)) + 1u;
        if ((*pde & GLINT_PTE_PRESENT) && (*pde & GLINT_PTE_LARGE)) {
            *pde = 0;
            mark_written(b, page_of(b, pd));
        } else if (follow(b, *pde, &pt)) {
            uint64_t stop = next_2m < end ? next_2m : end;
            for (; a < stop; a += GLINT_PAGE) table_at(b, pt)[(a >> 12) & 511] = 0;
            mark_written(b, page_of(b, pt));
            prune(b, page_of(b, pd), pde, pt);
        }
        /* Done with this 2 MiB block: drop the tables above it that are now
         * empty, bottom up. */
        if (prune(b, page_of(b, pdpt), pdpte, pd)) prune(b, 0, pml4e, pdpt);
        a = next_2m;
    }
    return GLINT_OK;
}
