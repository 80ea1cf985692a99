/*
 * test_paging - x86-64 page-table construction (host/src/paging.c), checked
 * by a small software page walker: every page's PRESENT/WRITE/NX bits,
 * identity mapping, guard pages not present, table count equal to
 * glint_page_table_pages(), a full table area, bad ranges; 2 MiB leaves,
 * unmapping, and corrupted (guest-rewritten) tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "paging.h"
#include "unit_support.h"

#define PAGE 4096ull
#define MiB (1024ull * 1024ull)
#define GiB (1024ull * MiB)
#define TOP (1ull << 36)
#define RW (GLINT_PERM_READ | GLINT_PERM_WRITE)
#define RX (GLINT_PERM_READ | GLINT_PERM_EXEC)
#define RO GLINT_PERM_READ

#ifndef GLINT_MAPPING_PT_POOL_PAGES
#define GLINT_MAPPING_PT_POOL_PAGES 0u
#endif
#define POOL ((uint64_t)GLINT_MAPPING_PT_POOL_PAGES)

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (strstr((hay), (needle)) == NULL) fail_msg("\"%s\" lacks \"%s\"", (hay), (needle));     \
    } while (0)

/* The page-table area: host buffer standing for guest-physical [gpa, gpa+size). */
typedef struct pt_area {
    guarded_buf g;
    uint64_t gpa;
    uint64_t size;
} pt_area;

static void area_init(pt_area *a, uint64_t gpa, uint64_t pages, glint_pt_builder *b) {
    a->gpa = gpa;
    a->size = pages * PAGE;
    assert_int_equal(guarded_alloc(&a->g, a->size), 0); /* zero-filled */
    glint_pt_init(b, a->g.data, gpa, a->size);
}

static uint64_t table_entry(const pt_area *a, uint64_t table_gpa, unsigned index) {
    /* Every table pointer must lie inside the area, page aligned. */
    if (table_gpa < a->gpa || table_gpa - a->gpa >= a->size || (table_gpa & (PAGE - 1)) != 0)
        fail_msg("table at 0x%llx outside the area", (unsigned long long)table_gpa);
    uint64_t e;
    memcpy(&e, a->g.data + (table_gpa - a->gpa) + index * 8u, 8);
    return e;
}

/* Walks the 4 levels for va; returns the leaf PTE (or 2 MiB PDE, with
 * *large set) or 0 if not present.  Intermediate entries must be
 * present+writable+user and executable (NX clear) so that the leaf alone
 * decides the permission. */
static uint64_t walk_ex(const pt_area *a, uint64_t va, bool *large) {
    uint64_t table = a->gpa;
    *large = false;
    for (int level = 3; level >= 1; level--) {
        uint64_t e = table_entry(a, table, (unsigned)((va >> (12 + 9 * level)) & 511));
        if (!(e & GLINT_PTE_PRESENT)) return 0;
        if (level == 1 && (e & GLINT_PTE_LARGE)) {
            *large = true;
            assert_int_equal(e & GLINT_PTE_ADDR_MASK, va & ~((2 * MiB) - 1)); /* identity */
            assert_int_equal(e & ~(GLINT_PTE_ADDR_MASK | GLINT_PTE_PRESENT | GLINT_PTE_WRITE |
                                   GLINT_PTE_USER | GLINT_PTE_NX | GLINT_PTE_LARGE),
                             0);
            return e;
        }
        assert_int_equal(e & ~GLINT_PTE_ADDR_MASK,
                         GLINT_PTE_PRESENT | GLINT_PTE_WRITE | GLINT_PTE_USER);
        table = e & GLINT_PTE_ADDR_MASK;
    }
    uint64_t leaf = table_entry(a, table, (unsigned)((va >> 12) & 511));
    if (!(leaf & GLINT_PTE_PRESENT)) {
        assert_int_equal(leaf, 0);
        return 0;
    }
    assert_int_equal(leaf & GLINT_PTE_ADDR_MASK, va & ~(PAGE - 1)); /* identity */
    /* No bits other than P, W, U/S, NX (no PWT, PCD, PAT...). */
    assert_int_equal(leaf & ~(GLINT_PTE_ADDR_MASK | GLINT_PTE_PRESENT | GLINT_PTE_WRITE |
                              GLINT_PTE_USER | GLINT_PTE_NX),
                     0);
    return leaf;
}

static uint64_t walk(const pt_area *a, uint64_t va) {
    bool large;
    uint64_t e = walk_ex(a, va, &large);
    if (large) fail_msg("0x%llx is mapped by a 2 MiB page", (unsigned long long)va);
    return e;
}

static void check_perms(uint64_t va, uint64_t leaf, uint32_t perms) {
    if (leaf == 0) fail_msg("page 0x%llx is not present", (unsigned long long)va);
    if (((leaf & GLINT_PTE_WRITE) != 0) != ((perms & GLINT_PERM_WRITE) != 0))
        fail_msg("page 0x%llx WRITE bit wrong", (unsigned long long)va);
    if (((leaf & GLINT_PTE_NX) != 0) != ((perms & GLINT_PERM_EXEC) == 0))
        fail_msg("page 0x%llx NX bit wrong", (unsigned long long)va);
}

/* perms 0: not present.  Otherwise a 4 KiB leaf with these permissions. */
static void expect_page(const pt_area *a, uint64_t va, uint32_t perms) {
    bool large;
    uint64_t leaf = walk_ex(a, va, &large);
    if (perms == 0) {
        if (leaf != 0) fail_msg("page 0x%llx is present", (unsigned long long)va);
        return;
    }
    if (large) fail_msg("0x%llx is mapped by a 2 MiB page", (unsigned long long)va);
    check_perms(va, leaf, perms);
}

/* A 2 MiB leaf with these permissions covers va. */
static void expect_large(const pt_area *a, uint64_t va, uint32_t perms) {
    bool large;
    uint64_t leaf = walk_ex(a, va, &large);
    if (!large) fail_msg("0x%llx is not mapped by a 2 MiB page", (unsigned long long)va);
    check_perms(va, leaf, perms);
}

static void expect_range(const pt_area *a, uint64_t gpa, uint64_t size, uint32_t perms) {
    for (uint64_t p = gpa; p < gpa + size; p += PAGE) expect_page(a, p, perms);
}

static void test_map_and_walk(void **state) {
    (void)state;
    glint_pt_builder b;
    pt_area a;
    area_init(&a, 0x100000, 16, &b);
    glint_error err;
    struct {
        uint64_t gpa, size;
        uint32_t perms;
    } const regions[] = {
        {0x1000, 0x2000, RX},               /* text */
        {0x3000, 0x1000, RO},               /* rodata */
        {0x4000, 0x2000, RW},               /* data; 0x6000 left as a guard */
        {0x7000, 0x1000, GLINT_PERM_EXEC},  /* exec without read: READ implied */
        {2 * MiB - 2 * PAGE, 4 * PAGE, RW}, /* crosses a 2 MiB boundary */
        {TOP - 5 * PAGE, 2 * PAGE, RW},     /* stack; guard page below and above */
        {TOP - 2 * PAGE, 2 * PAGE, RW},     /* ends at the 36-bit top */
    };
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        assert_int_equal(glint_pt_map(&b, regions[i].gpa, regions[i].size, regions[i].perms, &err),
                         GLINT_OK);
    /* Exactly the tables the layout code predicts: PML4, PDPT, PDs for GiB 0
     * and 63, PTs for 2 MiB blocks 0, 1 and the last one. */
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), 7 * PAGE);
    const uint64_t ranges[][2] = {
        {0x1000, 0x7000}, {2 * MiB - 2 * PAGE, 4 * PAGE}, {TOP - 5 * PAGE, 5 * PAGE}};
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE) / PAGE, glint_page_table_pages(ranges, 3));

    expect_page(&a, 0, 0); /* NULL page */
    expect_range(&a, 0x1000, 0x2000, RX);
    expect_range(&a, 0x3000, 0x1000, RO);
    expect_range(&a, 0x4000, 0x2000, RW);
    expect_page(&a, 0x6000, 0);
    expect_page(&a, 0x7000, RX & ~GLINT_PERM_READ);
    expect_page(&a, 0x8000, 0);
    expect_page(&a, 2 * MiB - 3 * PAGE, 0);
    expect_range(&a, 2 * MiB - 2 * PAGE, 4 * PAGE, RW);
    expect_page(&a, 2 * MiB + 2 * PAGE, 0);
    expect_page(&a, TOP - 6 * PAGE, 0);
    expect_range(&a, TOP - 5 * PAGE, 2 * PAGE, RW);
    expect_page(&a, TOP - 3 * PAGE, 0); /* guard */
    expect_range(&a, TOP - 2 * PAGE, 2 * PAGE, RW);
    /* Whole-table sweep of the first 4 MiB: only the mapped pages. */
    for (uint64_t va = 0; va < 4 * MiB; va += PAGE) {
        bool mapped = (va >= 0x1000 && va < 0x6000) || va == 0x7000 ||
                      (va >= 2 * MiB - 2 * PAGE && va < 2 * MiB + 2 * PAGE);
        assert_int_equal(walk(&a, va) != 0, mapped);
    }
    /* Unrelated GiBs and the PML4 entries above are empty. */
    expect_page(&a, 1 * GiB, 0);
    expect_page(&a, 512 * GiB, 0);
    expect_page(&a, (1ull << 47) - PAGE, 0);
    /* Unused area pages remain zero. */
    for (uint64_t off = (glint_pt_pages_in_use(&b) * PAGE); off < a.size; off++)
        assert_int_equal(a.g.data[off], 0);
    guarded_free(&a.g);
}

/* The real layout: map every region the sandbox maps and compare the table
 * count with layout's page_tables_size. */
static void test_layout_regions_fit(void **state) {
    (void)state;
    glint_layout_params p = {
        .image_size = 0x23456,
        .entry = 0,
        .heap_size = 3 * MiB,
        .init_data_size = 10000,
        .input_size = 64 * 1024,
        .output_size = 32 * 1024,
        .scratch_size = 3 * MiB,
        .memory_cap = UINT64_MAX,
    };
    glint_layout_info l;
    glint_error err;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    glint_pt_builder b;
    pt_area a;
    area_init(&a, l.page_tables_gpa, l.page_tables_size / PAGE, &b);
    const struct {
        uint64_t gpa, size;
        uint32_t perms;
    } regions[] = {
        {l.code_gpa, l.code_size, RX},
        {l.peb_gpa, PAGE, RO},
        {l.heap_gpa, l.heap_size, RW},
        {l.init_data_gpa, l.init_data_size, RO},
        {l.input_gpa, l.input_size + l.output_size, RW},
        {l.stack_gpa, l.stack_size, RW},
        {l.exception_stack_gpa, l.exception_stack_size + PAGE, RW},
    };
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        assert_int_equal(glint_pt_map(&b, regions[i].gpa, regions[i].size, regions[i].perms, &err),
                         GLINT_OK);
    /* layout's count is exact here (plus the pool kept for later mappings) */
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), l.page_tables_size - POOL * PAGE);
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        expect_range(&a, regions[i].gpa, regions[i].size, regions[i].perms);
    expect_page(&a, 0, 0);
    expect_page(&a, l.stack_gpa - PAGE, 0);           /* stack guard */
    expect_page(&a, l.exception_stack_gpa - PAGE, 0); /* exception-stack guard */
    expect_page(&a, l.page_tables_gpa, 0);            /* tables not mapped */
    expect_page(&a, l.scratch_gpa - PAGE, 0);
    guarded_free(&a.g);
}

static void test_area_full(void **state) {
    (void)state;
    glint_error err;
    glint_pt_builder b;
    pt_area a;
    /* PML4 + PDPT + PD, no room for a PT. */
    area_init(&a, 0x200000, 3, &b);
    memset(&err, 0, sizeof err);
    assert_int_equal(glint_pt_map(&b, 0x1000, PAGE, RW, &err), GLINT_E_TOO_SMALL);
    assert_int_equal(err.code, GLINT_E_TOO_SMALL);
    assert_contains(err.message, "full");
    assert_true((glint_pt_pages_in_use(&b) * PAGE) <= a.size);
    guarded_free(&a.g);

    /* Room for one PT: the first 2 MiB block maps, the next one does not. */
    area_init(&a, 0x200000, 4, &b);
    assert_int_equal(glint_pt_map(&b, 0, 2 * MiB, RW, &err), GLINT_OK);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), 4 * PAGE);
    assert_int_equal(glint_pt_map(&b, 2 * MiB - PAGE, 2 * PAGE, RW, &err), GLINT_E_TOO_SMALL);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), 4 * PAGE);
    assert_int_equal(glint_pt_map(&b, 1 * GiB, PAGE, RW, &err), GLINT_E_TOO_SMALL);
    /* Re-mapping inside the existing PT needs nothing new. */
    assert_int_equal(glint_pt_map(&b, 0x5000, PAGE, RX, &err), GLINT_OK);
    expect_page(&a, 0x5000, RX);
    expect_page(&a, 0x4000, RW);
    guarded_free(&a.g);

    /* An area that is not a whole number of pages: the partial page at the
     * end is never handed out. */
    a.gpa = 0x200000;
    a.size = 3 * PAGE + 2048;
    assert_int_equal(guarded_alloc(&a.g, a.size), 0);
    glint_pt_init(&b, a.g.data, a.gpa, a.size);
    assert_int_equal(glint_pt_map(&b, 0, PAGE, RW, &err), GLINT_E_TOO_SMALL);
    /* All or nothing: the PDPT and PD made before the failure are gone. */
    assert_int_equal(glint_pt_pages_in_use(&b), 1);
    guarded_free(&a.g);

    /* Only the PML4. */
    area_init(&a, 0x200000, 1, &b);
    assert_int_equal(glint_pt_map(&b, 0, PAGE, RW, NULL), GLINT_E_TOO_SMALL);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), PAGE);
    guarded_free(&a.g);
}

/* Guest code runs at CPL 3: its pages carry U/S, the host's CPU tables,
 * exception code, exception stack and metadata (GLINT_PT_KERNEL) do not,
 * and the intermediate levels never decide (they are all U/S). */
static void test_user_and_kernel_pages(void **state) {
    (void)state;
    pt_area a;
    glint_pt_builder b;
    glint_error err;
    area_init(&a, 0x100000, 16, &b);
    assert_int_equal(glint_pt_map(&b, 0x1000, PAGE, RX, &err), GLINT_OK);
    assert_int_equal(glint_pt_map(&b, 0x2000, PAGE, RO | GLINT_PT_KERNEL, &err), GLINT_OK);
    assert_int_equal(glint_pt_map(&b, 0x3000, PAGE, RX | GLINT_PT_KERNEL, &err), GLINT_OK);
    assert_int_equal(glint_pt_map(&b, TOP - 2 * PAGE, 2 * PAGE, RW | GLINT_PT_KERNEL, &err),
                     GLINT_OK);
    assert_int_equal(glint_pt_map_ex(&b, 2 * MiB, 2 * MiB, RO, true, &err), GLINT_OK);
    bool large;
    assert_true(walk(&a, 0x1000) & GLINT_PTE_USER);
    assert_false(walk(&a, 0x2000) & GLINT_PTE_USER);
    assert_false(walk(&a, 0x2000) & GLINT_PTE_WRITE);
    assert_true(walk(&a, 0x2000) & GLINT_PTE_NX);
    assert_false(walk(&a, 0x3000) & GLINT_PTE_USER);
    assert_false(walk(&a, 0x3000) & GLINT_PTE_NX);
    assert_false(walk(&a, TOP - PAGE) & GLINT_PTE_USER);
    assert_true(walk(&a, TOP - PAGE) & GLINT_PTE_WRITE);
    assert_true(walk_ex(&a, 2 * MiB, &large) & GLINT_PTE_USER);
    assert_true(large);
    /* Unknown permission bits are refused, nothing is mapped. */
    const uint64_t used = (glint_pt_pages_in_use(&b) * PAGE);
    assert_int_equal(glint_pt_map(&b, 0x5000, PAGE, RW | 0x8u, &err), GLINT_E_INVALID_ARGUMENT);
    assert_contains(err.message, "permissions");
    assert_int_equal(glint_pt_map(&b, 0x5000, PAGE, 0x80000000u, &err), GLINT_E_INVALID_ARGUMENT);
    assert_int_equal(walk(&a, 0x5000), 0);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), used);
    guarded_free(&a.g);
}

static void test_bad_ranges(void **state) {
    (void)state;
    glint_pt_builder b;
    pt_area a;
    area_init(&a, 0x200000, 8, &b);
    glint_error err;
    const uint64_t bad[][2] = {
        {0x1001, PAGE},
        {0x1000, PAGE + 1},
        {0x1000, 0x800},
        {0x1800, 0x800},
        {TOP - PAGE, 2 * PAGE}, /* past the 36-bit space */
        {TOP, PAGE},
        {UINT64_MAX & ~(PAGE - 1), 2 * PAGE}, /* wraps */
        {PAGE, UINT64_MAX & ~(PAGE - 1)},     /* wraps */
        {0, UINT64_MAX},
        {0x1000, 0}, /* empty */
        {0, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(glint_pt_map(&b, bad[i][0], bad[i][1], RW, &err),
                         GLINT_E_INVALID_ARGUMENT);
        assert_int_equal(err.code, GLINT_E_INVALID_ARGUMENT);
        assert_contains(err.message, "range");
    }
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), PAGE); /* nothing allocated */
    for (uint64_t off = 0; off < a.size; off++) assert_int_equal(a.g.data[off], 0);
    guarded_free(&a.g);
}

static void test_large_pages(void **state) {
    (void)state;
    glint_pt_builder b;
    pt_area a;
    glint_error err;
    area_init(&a, 0x100000, 8, &b);
    /* Unaligned head and tail get 4 KiB leaves, the aligned middle 2 MiB ones. */
    assert_int_equal(glint_pt_map_ex(&b, 2 * MiB - PAGE, PAGE + 4 * MiB + PAGE, RW, true, &err),
                     GLINT_OK);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE),
                     5 * PAGE); /* PML4, PDPT, PD, PT for blocks 0 and 3 */
    expect_page(&a, 2 * MiB - 2 * PAGE, 0);
    expect_page(&a, 2 * MiB - PAGE, RW);
    expect_large(&a, 2 * MiB, RW);
    expect_large(&a, 3 * MiB + PAGE, RW);
    expect_large(&a, 4 * MiB, RW);
    expect_large(&a, 6 * MiB - 1, RW);
    expect_page(&a, 6 * MiB, RW);
    expect_page(&a, 6 * MiB + PAGE, 0);
    /* Executable, read-only large page in another GiB. */
    assert_int_equal(glint_pt_map_ex(&b, 1 * GiB, 2 * MiB, RX, true, &err), GLINT_OK);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), 6 * PAGE); /* one more PD, no PT */
    expect_large(&a, 1 * GiB + 12345, RX);
    expect_page(&a, 1 * GiB + 2 * MiB, 0);
    /* Without large_pages the same shape uses 4 KiB leaves. */
    assert_int_equal(glint_pt_map_ex(&b, 1 * GiB + 2 * MiB, 2 * MiB, RO, false, &err), GLINT_OK);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), 7 * PAGE);
    expect_page(&a, 1 * GiB + 2 * MiB, RO);
    expect_page(&a, 1 * GiB + 4 * MiB - PAGE, RO);
    /* A block that already has a page table keeps 4 KiB leaves. */
    assert_int_equal(glint_pt_map_ex(&b, 0, 2 * MiB, RO, true, &err), GLINT_OK);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), 7 * PAGE);
    expect_page(&a, 0, RO);
    expect_page(&a, 2 * MiB - PAGE, RO);
    /* Bad ranges are refused the same way as glint_pt_map's. */
    assert_int_equal(glint_pt_map_ex(&b, 2 * MiB + 1, 2 * MiB, RW, true, &err),
                     GLINT_E_INVALID_ARGUMENT);
    assert_int_equal(glint_pt_map_ex(&b, TOP - 2 * MiB, 4 * MiB, RW, true, &err),
                     GLINT_E_INVALID_ARGUMENT);
    guarded_free(&a.g);
}

/* A failed map leaves no table linked: the next mapping gets fresh tables
 * and a read where nothing is mapped finds nothing (the aliasing bug of
 * issue 12: tables made before a failure stayed linked, the next mapping
 * reused their pages). */
static void test_failed_map_leaves_nothing(void **state) {
    (void)state;
    glint_pt_builder b;
    pt_area a;
    glint_error err;
    /* PML4, PDPT, PD and one PT fit; a 4 MiB range in 4 KiB leaves needs two PTs. */
    area_init(&a, 0x100000, 4, &b);
    assert_int_equal(glint_pt_map(&b, 1 * GiB, 4 * MiB, RW, &err), GLINT_E_TOO_SMALL);
    assert_int_equal(glint_pt_pages_in_use(&b), 1);
    expect_page(&a, 1 * GiB, 0);
    expect_page(&a, 1 * GiB + 2 * MiB, 0);
    /* Another GiB maps into fresh tables; the failed range stays unmapped. */
    assert_int_equal(glint_pt_map(&b, 2 * GiB, PAGE, RO, &err), GLINT_OK);
    expect_page(&a, 2 * GiB, RO);
    expect_page(&a, 1 * GiB, 0);
    expect_page(&a, 2 * GiB + PAGE, 0);
    assert_int_equal(glint_pt_pages_in_use(&b), 4);
    guarded_free(&a.g);
}

/* Unmapping gives table pages back: ten thousand map/unmap cycles at
 * different 2 MiB blocks (different GiBs, so each needs its own PD and PT)
 * run in an area of four pages. */
static void test_map_unmap_cycles_reuse_tables(void **state) {
    (void)state;
    glint_pt_builder b;
    pt_area a;
    glint_error err;
    area_init(&a, 0x100000, 4, &b);
    for (uint64_t i = 0; i < 10000; i++) {
        uint64_t gpa = ((i * 2 * MiB) + (i % 3) * 1 * GiB) % (TOP - 4 * MiB);
        gpa &= ~(2 * MiB - 1u);
        assert_int_equal(glint_pt_map(&b, gpa + PAGE, 2 * PAGE, RW, &err), GLINT_OK);
        expect_page(&a, gpa + PAGE, RW);
        assert_int_equal(glint_pt_unmap(&b, gpa + PAGE, 2 * PAGE, &err), GLINT_OK);
        expect_page(&a, gpa + PAGE, 0);
        assert_int_equal(glint_pt_pages_in_use(&b), 1);
    }
    guarded_free(&a.g);
}

static void test_unmap(void **state) {
    (void)state;
    glint_pt_builder b;
    pt_area a;
    glint_error err;
    area_init(&a, 0x100000, 8, &b);
    assert_int_equal(glint_pt_map(&b, 0, 4 * MiB, RW, &err), GLINT_OK);
    assert_int_equal(glint_pt_map_ex(&b, 4 * MiB, 4 * MiB, RX, true, &err), GLINT_OK);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), 5 * PAGE);

    assert_int_equal(glint_pt_unmap(&b, 0x1000, 2 * PAGE, &err), GLINT_OK);
    expect_page(&a, 0, RW);
    expect_page(&a, 0x1000, 0);
    expect_page(&a, 0x2000, 0);
    expect_page(&a, 0x3000, RW);
    /* Across a 2 MiB boundary. */
    assert_int_equal(glint_pt_unmap(&b, 2 * MiB - PAGE, 2 * PAGE, &err), GLINT_OK);
    expect_page(&a, 2 * MiB - 2 * PAGE, RW);
    expect_page(&a, 2 * MiB - PAGE, 0);
    expect_page(&a, 2 * MiB, 0);
    expect_page(&a, 2 * MiB + PAGE, RW);
    /* A large page. */
    assert_int_equal(glint_pt_unmap(&b, 4 * MiB, 2 * MiB, &err), GLINT_OK);
    expect_page(&a, 4 * MiB, 0);
    expect_page(&a, 6 * MiB - PAGE, 0);
    expect_large(&a, 6 * MiB, RX);
    /* Unmapping clears whole leaves: a 4 KiB range inside a 2 MiB leaf
     * removes that leaf ("the leaves covering [gpa, gpa+size)"). */
    assert_int_equal(glint_pt_unmap(&b, 7 * MiB, PAGE, &err), GLINT_OK);
    expect_page(&a, 6 * MiB, 0);
    /* Nothing mapped there: no-ops, no tables allocated. */
    assert_int_equal(glint_pt_unmap(&b, 1 * GiB, 4 * MiB, &err), GLINT_OK);
    assert_int_equal(glint_pt_unmap(&b, TOP - PAGE, PAGE, &err), GLINT_OK);
    assert_int_equal(glint_pt_unmap(&b, 8 * MiB, 2 * GiB, &err), GLINT_OK);
    assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), 5 * PAGE);
    expect_page(&a, 0x3000, RW);
    expect_page(&a, 4 * MiB - PAGE, RW);
    /* Bad ranges. */
    assert_int_equal(glint_pt_unmap(&b, 0x1001, PAGE, &err), GLINT_E_INVALID_ARGUMENT);
    assert_int_equal(glint_pt_unmap(&b, 0x1000, 0x800, &err), GLINT_E_INVALID_ARGUMENT);
    assert_int_equal(glint_pt_unmap(&b, TOP, PAGE, &err), GLINT_E_INVALID_ARGUMENT);
    assert_int_equal(glint_pt_unmap(&b, UINT64_MAX & ~(PAGE - 1), 2 * PAGE, &err),
                     GLINT_E_INVALID_ARGUMENT);
    /* The freed range can be mapped again, with 4 KiB or 2 MiB leaves. */
    assert_int_equal(glint_pt_map(&b, 4 * MiB, PAGE, RO, &err), GLINT_OK);
    expect_page(&a, 4 * MiB, RO);
    assert_int_equal(glint_pt_map_ex(&b, 6 * MiB, 2 * MiB, RW, true, &err), GLINT_OK);
    expect_large(&a, 6 * MiB, RW);
    guarded_free(&a.g);
}

static void put_entry(pt_area *a, uint64_t table_off, unsigned index, uint64_t value) {
    memcpy(a->g.data + table_off + index * 8u, &value, 8);
}

/* After initialisation the tables are guest memory: entries pointing
 * outside the pages the builder handed out are refused, never followed. */
static void test_corrupt_tables(void **state) {
    (void)state;
    const uint64_t area_gpa = 0x100000;
    const uint64_t bad_targets[] = {
        area_gpa,            /* the PML4 itself */
        area_gpa + 4 * PAGE, /* inside the area but not handed out */
        area_gpa + 7 * PAGE, /* last page of the area, not handed out */
        area_gpa + 8 * PAGE, /* just past the area */
        0x1000,              /* below the area */
        GLINT_PTE_ADDR_MASK & ~(PAGE - 1),
    };
    for (size_t i = 0; i < sizeof bad_targets / sizeof bad_targets[0]; i++) {
        for (unsigned level = 0; level < 3; level++) {
            glint_pt_builder b;
            pt_area a;
            glint_error err;
            area_init(&a, area_gpa, 8, &b);
            /* PML4 at page 0, PDPT at 1, PD at 2, PT at 3. */
            assert_int_equal(glint_pt_map(&b, 0, PAGE, RW, &err), GLINT_OK);
            assert_int_equal((glint_pt_pages_in_use(&b) * PAGE), 4 * PAGE);
            put_entry(&a, level * PAGE, 0, bad_targets[i] | GLINT_PTE_PRESENT | GLINT_PTE_WRITE);
            memset(&err, 0, sizeof err);
            assert_int_equal(glint_pt_map(&b, PAGE, PAGE, RW, &err), GLINT_E_MAPPING);
            assert_int_equal(err.code, GLINT_E_MAPPING);
            assert_contains(err.message, "corrupt");
            assert_int_equal(glint_pt_map_ex(&b, 2 * MiB, 2 * MiB, RW, true, &err),
                             level == 2 ? GLINT_OK : GLINT_E_MAPPING);
            /* Unmap skips what it cannot follow. */
            assert_int_equal(glint_pt_unmap(&b, 0, 4 * MiB, &err), GLINT_OK);
            assert_true((glint_pt_pages_in_use(&b) * PAGE) <= 5 * PAGE);
            /* The pages not handed out are untouched. */
            for (uint64_t off = 5 * PAGE; off < a.size; off++) assert_int_equal(a.g.data[off], 0);
            guarded_free(&a.g);
        }
    }
    /* Pages not yet handed out may have been scribbled on by the guest: they
     * are zeroed when they become tables, so no stray entry appears. */
    {
        glint_pt_builder b;
        pt_area a;
        glint_error err;
        area_init(&a, area_gpa, 8, &b);
        assert_int_equal(glint_pt_map(&b, 0, PAGE, RW, &err), GLINT_OK);
        memset(a.g.data + (glint_pt_pages_in_use(&b) * PAGE), 0xff,
               a.size - (glint_pt_pages_in_use(&b) * PAGE));
        assert_int_equal(glint_pt_map(&b, 1 * GiB, PAGE, RO, &err), GLINT_OK);
        expect_page(&a, 1 * GiB, RO);
        for (uint64_t va = 1 * GiB + PAGE; va < 1 * GiB + 4 * MiB; va += PAGE)
            expect_page(&a, va, 0);
        expect_page(&a, 2 * GiB, 0);
        guarded_free(&a.g);
    }

    /* A 2 MiB leaf where a page table is expected is not followed either. */
    glint_pt_builder b;
    pt_area a;
    glint_error err;
    area_init(&a, area_gpa, 8, &b);
    assert_int_equal(glint_pt_map(&b, 0, PAGE, RW, &err), GLINT_OK);
    put_entry(&a, PAGE, 0,
              (area_gpa + 2 * PAGE) | GLINT_PTE_PRESENT | GLINT_PTE_WRITE | GLINT_PTE_LARGE);
    assert_int_equal(glint_pt_map(&b, PAGE, PAGE, RW, &err), GLINT_E_MAPPING);
    guarded_free(&a.g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_and_walk),
        cmocka_unit_test(test_layout_regions_fit),
        cmocka_unit_test(test_area_full),
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_large_pages),
        cmocka_unit_test(test_unmap),
        cmocka_unit_test(test_failed_map_leaves_nothing),
        cmocka_unit_test(test_map_unmap_cycles_reuse_tables),
        cmocka_unit_test(test_corrupt_tables),
        cmocka_unit_test(test_user_and_kernel_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
