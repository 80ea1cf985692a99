/*
 * test_layout - guest-physical memory layout (host/src/layout.c): the
 * documented default layout with exact addresses, every size limit (code and
 * field name in the message), overflow with sizes near 2^64, and exact
 * page-table page counts across 2 MiB / 1 GiB / 512 GiB boundaries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "layout.h"
#include "glint/abi.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PAGE 4096ull
#define TOP (1ull << 36)

/* Page-table pages reserved beyond the initial tables (for file mappings). */
#ifndef GLINT_MAPPING_PT_POOL_PAGES
#define GLINT_MAPPING_PT_POOL_PAGES 0u
#endif
#define POOL ((uint64_t)GLINT_MAPPING_PT_POOL_PAGES)
/* Defaults: [0x1000, 0x26000) + 6 initial table pages + the pool. */
#define DEFAULT_PT_SIZE ((6 + POOL) * PAGE)
#define DEFAULT_SNAPSHOT_SIZE (0x27000 + DEFAULT_PT_SIZE)
#define DEFAULT_TOTAL (DEFAULT_SNAPSHOT_SIZE + 288 * KiB)

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (strstr((hay), (needle)) == NULL) fail_msg("\"%s\" lacks \"%s\"", (hay), (needle));     \
    } while (0)

static glint_layout_params defaults(void) {
    glint_layout_params p = {
        .image_size = 0x3456,
        .entry = 0x123,
        .heap_size = GLINT_DEFAULT_HEAP_SIZE,
        .init_data_size = 0,
        .input_size = GLINT_DEFAULT_INPUT_SIZE,
        .output_size = GLINT_DEFAULT_OUTPUT_SIZE,
        .scratch_size = GLINT_DEFAULT_SCRATCH_SIZE,
        .memory_cap = 16 * GiB,
    };
    return p;
}

/* Relations that must hold for every successful layout. */
static void check_invariants(const glint_layout_params *p, const glint_layout_info *l) {
    /* Snapshot region, upwards from 0x1000. */
    assert_int_equal(l->code_gpa, 0x1000);
    assert_int_equal(l->snapshot_gpa, 0x1000);
    assert_int_equal(l->code_size % PAGE, 0);
    assert_true(l->code_size >= p->image_size && l->code_size - p->image_size < PAGE);
    assert_int_equal(l->entry_gpa, l->code_gpa + p->entry);
    assert_int_equal(l->peb_gpa, l->code_gpa + l->code_size);
    /* The host's CPU tables and exception code: one page each after the PEB. */
    assert_int_equal(l->cpu_tables_gpa, l->peb_gpa + PAGE);
    assert_int_equal(l->exception_code_gpa, l->cpu_tables_gpa + PAGE);
    assert_int_equal(l->heap_gpa, l->exception_code_gpa + PAGE);
    assert_int_equal(l->heap_gpa % PAGE, 0);
    assert_true(l->heap_size >= p->heap_size && l->heap_size - p->heap_size < PAGE);
    assert_int_equal(l->heap_size % PAGE, 0);
    assert_int_equal(l->init_data_gpa, l->heap_gpa + l->heap_size);
    assert_true(l->init_data_size >= p->init_data_size &&
                l->init_data_size - p->init_data_size < PAGE);
    assert_int_equal(l->page_tables_gpa, l->init_data_gpa + l->init_data_size);
    assert_int_equal(l->page_tables_size % PAGE, 0);
    assert_int_equal(l->snapshot_size, l->page_tables_gpa + l->page_tables_size - 0x1000);
    /* Scratch region, ending at 1 << 36. */
    assert_int_equal(l->scratch_gpa + l->scratch_size, TOP);
    assert_int_equal(l->scratch_gpa % PAGE, 0);
    assert_int_equal(l->input_gpa, l->scratch_gpa);
    assert_true(l->input_size >= p->input_size && l->input_size - p->input_size < PAGE);
    assert_int_equal(l->output_gpa, l->input_gpa + l->input_size);
    assert_true(l->output_size >= p->output_size && l->output_size - p->output_size < PAGE);
    /* Stack guard page between output and stack. */
    assert_int_equal(l->stack_gpa, l->output_gpa + l->output_size + PAGE);
    assert_true(l->stack_size >= GLINT_MIN_STACK_SIZE);
    assert_int_equal(l->stack_size % PAGE, 0);
    /* Exception-stack guard page between stack and exception stack. */
    assert_int_equal(l->exception_stack_gpa, l->stack_gpa + l->stack_size + PAGE);
    assert_int_equal(l->exception_stack_size, GLINT_EXCEPTION_STACK_SIZE);
    assert_int_equal(l->metadata_gpa, l->exception_stack_gpa + l->exception_stack_size);
    assert_int_equal(l->metadata_gpa, TOP - PAGE);
    assert_int_equal(l->total_size, l->snapshot_size + l->scratch_size);
    assert_true(l->total_size <= p->memory_cap);
    /* The two regions do not overlap, nor the world page right below
     * scratch (not guest memory: its own slot). */
    assert_true(l->snapshot_gpa + l->snapshot_size <= GLINT_WORLD_GPA(l->scratch_gpa));
    /* Page tables are sized for what gets mapped: the world page too. */
    const uint64_t ranges[][2] = {{0x1000, l->page_tables_gpa - 0x1000},
                                  {l->scratch_gpa - PAGE, l->scratch_size + PAGE}};
    assert_int_equal(l->page_tables_size, (glint_page_table_pages(ranges, 2) + POOL) * PAGE);
}

static void test_default_layout_exact(void **state) {
    (void)state;
    glint_layout_params p = defaults();
    glint_layout_info l;
    glint_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    /* Snapshot region. */
    assert_int_equal(l.code_gpa, 0x1000);
    assert_int_equal(l.code_size, 0x4000);
    assert_int_equal(l.entry_gpa, 0x1123);
    assert_int_equal(l.peb_gpa, 0x5000);
    assert_int_equal(l.cpu_tables_gpa, 0x6000);
    assert_int_equal(l.exception_code_gpa, 0x7000);
    assert_int_equal(l.heap_gpa, 0x8000);
    assert_int_equal(l.heap_size, 0x20000);
    assert_int_equal(l.init_data_gpa, 0x28000);
    assert_int_equal(l.init_data_size, 0);
    assert_int_equal(l.page_tables_gpa, 0x28000);
    /* The metadata page sits where the exception stubs expect it. */
    assert_int_equal(l.metadata_gpa, GLINT_METADATA_GPA);
    /* PML4 + 1 PDPT + 2 PDs (GiB 0 and GiB 63) + 2 PTs, plus the pool. */
    assert_int_equal(l.page_tables_size, DEFAULT_PT_SIZE);
    assert_int_equal(l.snapshot_gpa, 0x1000);
    assert_int_equal(l.snapshot_size, DEFAULT_SNAPSHOT_SIZE);
    /* Scratch region: 288 KiB below 1 << 36. */
    assert_int_equal(l.scratch_gpa, 0xffffb8000ull);
    assert_int_equal(l.scratch_size, 288 * KiB);
    assert_int_equal(l.input_gpa, 0xffffb8000ull);
    assert_int_equal(l.input_size, 16 * KiB);
    assert_int_equal(l.output_gpa, 0xffffbc000ull);
    assert_int_equal(l.output_size, 16 * KiB);
    assert_int_equal(l.stack_gpa, 0xffffc1000ull);           /* guard at 0xffffc0000 */
    assert_int_equal(l.stack_size, 228 * KiB);               /* 288 - 16 - 16 - 4 - 4 - 16 - 4 */
    assert_int_equal(l.exception_stack_gpa, 0xfffffb000ull); /* guard at 0xfffffa000 */
    assert_int_equal(l.exception_stack_size, 16 * KiB);
    assert_int_equal(l.metadata_gpa, 0xffffff000ull);
    assert_int_equal(l.total_size, DEFAULT_TOTAL);
}

static void test_layout_rounding(void **state) {
    (void)state;
    glint_layout_params p = defaults();
    p.image_size = 1;
    p.entry = 0;
    p.heap_size = GLINT_MIN_HEAP_SIZE + 1;
    p.init_data_size = 5000;
    p.input_size = GLINT_MIN_IO_BUFFER_SIZE + 1;
    p.output_size = GLINT_MIN_IO_BUFFER_SIZE;
    p.scratch_size = 1 * MiB + 1;
    glint_layout_info l;
    glint_error err;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    assert_int_equal(l.code_size, PAGE);
    assert_int_equal(l.peb_gpa, 0x2000);
    assert_int_equal(l.heap_gpa, 0x5000);
    assert_int_equal(l.heap_size, 20 * KiB);
    assert_int_equal(l.init_data_gpa, 0xa000);
    assert_int_equal(l.init_data_size, 8 * KiB);
    assert_int_equal(l.page_tables_gpa, 0xc000);
    assert_int_equal(l.scratch_size, 1 * MiB + PAGE);
    assert_int_equal(l.input_size, 12 * KiB);
    assert_int_equal(l.output_size, 8 * KiB);
    /* 1 MiB + 4 KiB - 12 - 8 - 4 - 4 - 16 - 4 KiB */
    assert_int_equal(l.stack_size, 1 * MiB + PAGE - 48 * KiB);

    /* Scratch crossing a 2 MiB boundary: one more page table. */
    p.scratch_size = 2 * MiB + PAGE;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    assert_int_equal(l.page_tables_size, (7 + POOL) * PAGE);

    /* A snapshot region crossing 1 GiB: a second PD and many PTs. */
    p = defaults();
    p.heap_size = 1 * GiB;
    p.memory_cap = 2 * GiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    /* [0x1000, 0x4000_8000 + 0x0): PTs 0..512 (513), PDs 2, scratch PD+PT */
    assert_int_equal(l.page_tables_gpa, 0x40008000ull);
    assert_int_equal(l.page_tables_size, (1 + 1 + 3 + 514 + POOL) * PAGE);
}

static void test_scratch_minimum(void **state) {
    (void)state;
    glint_layout_params p = defaults();
    glint_layout_info l;
    glint_error err;
    /* 16 + 16 KiB buffers, 2 guards, 16 KiB exception stack, metadata page,
     * 16 KiB minimum stack. */
    const uint64_t min = (16 + 16 + 4 + 4 + 16 + 4 + 16) * KiB;
    p.scratch_size = min;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    assert_int_equal(l.stack_size, GLINT_MIN_STACK_SIZE);
    check_invariants(&p, &l);
    p.scratch_size = min - 1; /* rounds up to min */
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    assert_int_equal(l.scratch_size, min);
    p.scratch_size = min - PAGE;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_SMALL);
    assert_int_equal(err.code, GLINT_E_TOO_SMALL);
    assert_contains(err.message, "scratch_size");
    p.scratch_size = 0;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_SMALL);
    assert_contains(err.message, "scratch_size");
    /* Large buffers need more scratch. */
    p = defaults();
    p.input_size = 64 * MiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_SMALL);
    assert_contains(err.message, "scratch_size");
    p.scratch_size = 64 * MiB + min - 16 * KiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    assert_int_equal(l.stack_size, GLINT_MIN_STACK_SIZE);
    check_invariants(&p, &l);
}

struct limit_case {
    const char *field; /* also the expected word in the message */
    size_t offset;     /* offsetof(glint_layout_params, field) */
    uint64_t value;
    glint_status want;
};

#define FIELD(f) #f, offsetof(glint_layout_params, f)

static void test_size_limits(void **state) {
    (void)state;
    const uint64_t max = GLINT_MAX_MEMORY_SIZE;
    const struct limit_case cases[] = {
        {FIELD(input_size), 0, GLINT_E_TOO_SMALL},
        {FIELD(input_size), 8 * KiB - 1, GLINT_E_TOO_SMALL},
        {FIELD(input_size), max + 1, GLINT_E_TOO_BIG},
        {FIELD(input_size), max + PAGE, GLINT_E_TOO_BIG},
        {FIELD(input_size), UINT64_MAX - PAGE + 2, GLINT_E_TOO_BIG},
        {FIELD(input_size), UINT64_MAX, GLINT_E_TOO_BIG},
        {FIELD(output_size), 0, GLINT_E_TOO_SMALL},
        {FIELD(output_size), 8 * KiB - 1, GLINT_E_TOO_SMALL},
        {FIELD(output_size), max + 1, GLINT_E_TOO_BIG},
        {FIELD(output_size), UINT64_MAX - PAGE + 2, GLINT_E_TOO_BIG},
        {FIELD(output_size), UINT64_MAX, GLINT_E_TOO_BIG},
        {FIELD(heap_size), 0, GLINT_E_TOO_SMALL},
        {FIELD(heap_size), 16 * KiB - 1, GLINT_E_TOO_SMALL},
        {FIELD(heap_size), max + 1, GLINT_E_TOO_BIG},
        {FIELD(heap_size), UINT64_MAX - PAGE + 2, GLINT_E_TOO_BIG},
        {FIELD(heap_size), UINT64_MAX, GLINT_E_TOO_BIG},
        {FIELD(init_data_size), max + 1, GLINT_E_TOO_BIG},
        {FIELD(init_data_size), UINT64_MAX - PAGE + 2, GLINT_E_TOO_BIG},
        {FIELD(init_data_size), UINT64_MAX, GLINT_E_TOO_BIG},
        {FIELD(image_size), 0, GLINT_E_TOO_SMALL},
        {FIELD(image_size), max + 1, GLINT_E_TOO_BIG},
        {FIELD(image_size), UINT64_MAX - PAGE + 2, GLINT_E_TOO_BIG},
        {FIELD(image_size), UINT64_MAX, GLINT_E_TOO_BIG},
        {FIELD(scratch_size), max + 1, GLINT_E_TOO_BIG},
        {FIELD(scratch_size), UINT64_MAX - PAGE + 2, GLINT_E_TOO_BIG},
        {FIELD(scratch_size), UINT64_MAX, GLINT_E_TOO_BIG},
        {FIELD(memory_cap), 0, GLINT_E_TOO_BIG},
        {FIELD(memory_cap), DEFAULT_TOTAL - 1, GLINT_E_TOO_BIG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        glint_layout_params p = defaults();
        memcpy((uint8_t *)&p + cases[i].offset, &cases[i].value, sizeof(uint64_t));
        glint_layout_info l;
        glint_error err;
        memset(&err, 0, sizeof err);
        glint_status st = glint_layout_compute(&p, &l, &err);
        if (st != cases[i].want)
            fail_msg("%s = %llu: got %s, want %s (%s)", cases[i].field,
                     (unsigned long long)cases[i].value, glint_status_name(st),
                     glint_status_name(cases[i].want), err.message);
        assert_int_equal(err.code, cases[i].want);
        assert_contains(err.message, cases[i].field);
    }
}

/* The I/O buffers have no fixed maximum (it was 64 MiB before ABI 2): they
 * are bounded by memory_cap, with a message naming both. */
static void test_io_buffers_bounded_by_memory_cap(void **state) {
    (void)state;
    glint_layout_info l;
    glint_error err;
    glint_layout_params p = defaults();
    /* Hyperlight's large-parameter benchmark: 2 x 50 MiB + 1 MiB of input,
     * a 750 MiB heap, 304 MiB of scratch. */
    p.input_size = 2 * 50 * MiB + MiB;
    p.heap_size = 15 * 50 * MiB;
    p.scratch_size = 6 * 50 * MiB + 4 * MiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    assert_int_equal(l.input_size, 101 * MiB);
    /* Both buffers far above the old 64 MiB limit. */
    p = defaults();
    p.input_size = 1 * GiB;
    p.output_size = 512 * MiB;
    p.scratch_size = 2 * GiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    assert_int_equal(l.output_gpa, l.input_gpa + 1 * GiB);
    /* A buffer larger than memory_cap: too big, naming the field and the cap. */
    const char *const fields[] = {"input_size", "output_size"};
    for (int i = 0; i < 2; i++) {
        p = defaults();
        p.memory_cap = 256 * MiB;
        p.scratch_size = 1 * GiB;
        if (i == 0)
            p.input_size = 256 * MiB + 1;
        else
            p.output_size = 256 * MiB + 1;
        memset(&err, 0, sizeof err);
        assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_BIG);
        assert_int_equal(err.code, GLINT_E_TOO_BIG);
        assert_contains(err.message, fields[i]);
        assert_contains(err.message, "memory_cap");
        /* Exactly memory_cap passes this check; the total then does not fit. */
        if (i == 0)
            p.input_size = 256 * MiB;
        else
            p.output_size = 256 * MiB;
        assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_BIG);
        assert_contains(err.message, "guest memory");
    }
    /* Within memory_cap but not within scratch: scratch is too small. */
    p = defaults();
    p.input_size = 128 * MiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_SMALL);
    assert_contains(err.message, "scratch_size");
}

static void test_limits_accept_boundaries(void **state) {
    (void)state;
    glint_layout_info l;
    glint_error err;
    glint_layout_params p = defaults();
    p.input_size = 8 * KiB;
    p.output_size = 8 * KiB;
    p.heap_size = 16 * KiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    p = defaults();
    p.input_size = 64 * MiB;
    p.output_size = 64 * MiB;
    p.scratch_size = 256 * MiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    assert_int_equal(l.stack_size, 256 * MiB - 128 * MiB - 28 * KiB);
    /* memory_cap exactly the total. */
    p = defaults();
    p.memory_cap = DEFAULT_TOTAL;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    assert_int_equal(l.total_size, p.memory_cap);
    /* Largest scratch region. */
    p = defaults();
    p.scratch_size = GLINT_MAX_MEMORY_SIZE;
    p.memory_cap = 32 * GiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    assert_int_equal(l.scratch_gpa, TOP - GLINT_MAX_MEMORY_SIZE);
    /* err may be NULL. */
    p.image_size = 0;
    assert_int_equal(glint_layout_compute(&p, &l, NULL), GLINT_E_TOO_SMALL);
}

static void test_snapshot_sum_limits(void **state) {
    (void)state;
    const uint64_t max = GLINT_MAX_MEMORY_SIZE;
    glint_layout_info l;
    glint_error err;
    /* Each size alone is acceptable, their sum is not. */
    glint_layout_params p = defaults();
    p.image_size = max;
    p.heap_size = max;
    p.init_data_size = max;
    p.memory_cap = UINT64_MAX;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_BIG);
    assert_contains(err.message, "heap_size");
    assert_contains(err.message, "init_data_size");
    /* Image + PEB + CPU pages + heap exactly at the limit, then the page
     * tables push the snapshot region over it. */
    p = defaults();
    p.image_size = PAGE;
    p.heap_size = max - 4 * PAGE;
    p.memory_cap = UINT64_MAX;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_BIG);
    assert_contains(err.message, "snapshot");
    /* One page less: the first check passes, the snapshot check still fails
     * because page tables take more than a page. */
    p.heap_size = max - 5 * PAGE;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_BIG);
    /* With room for the page tables it fits. */
    p.heap_size = 8 * GiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    check_invariants(&p, &l);
    assert_true(l.snapshot_size <= max);
    /* Same request against a memory cap. */
    p.memory_cap = 8 * GiB;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_E_TOO_BIG);
    assert_contains(err.message, "memory_cap");
}

static uint64_t ptp(uint64_t gpa, uint64_t size) {
    const uint64_t r[1][2] = {{gpa, size}};
    return glint_page_table_pages(r, 1);
}

static void test_page_table_pages(void **state) {
    (void)state;
    assert_int_equal(glint_page_table_pages(NULL, 0), 1);
    assert_int_equal(ptp(0x1000, 0), 1);
    assert_int_equal(ptp(0, PAGE), 4);
    assert_int_equal(ptp(0x1000, 2 * MiB - PAGE), 4); /* fills PT 0 exactly */
    assert_int_equal(ptp(0x1000, 2 * MiB), 5);        /* one page into PT 1 */
    assert_int_equal(ptp(2 * MiB - PAGE, 2 * PAGE), 5);
    assert_int_equal(ptp(2 * MiB, 2 * MiB), 4);
    assert_int_equal(ptp(0, 4 * MiB + PAGE), 6);
    assert_int_equal(ptp(1 * GiB - PAGE, 2 * PAGE), 6); /* 2 PDs, 2 PTs */
    assert_int_equal(ptp(0, 1 * GiB), 1 + 1 + 1 + 512);
    assert_int_equal(ptp(0, 1 * GiB + PAGE), 1 + 1 + 2 + 513);
    assert_int_equal(ptp(512 * GiB - PAGE, 2 * PAGE), 7); /* 2 PDPTs, 2 PDs, 2 PTs */
    assert_int_equal(ptp(512 * GiB - 2 * MiB, 4 * MiB), 7);
    assert_int_equal(ptp(256 * GiB - PAGE, 2 * PAGE), 6); /* one PDPT covers 512 GiB */
    assert_int_equal(ptp(0, 3 * GiB), 1 + 1 + 3 + 3 * 512);
    assert_int_equal(ptp(TOP - PAGE, PAGE), 4);

    /* Ranges sharing tables. */
    const uint64_t same_pt[][2] = {{0x1000, PAGE}, {0x3000, PAGE}, {0x10000, 0x10000}};
    assert_int_equal(glint_page_table_pages(same_pt, 3), 4);
    const uint64_t share_last[][2] = {{0x1000, PAGE}, {0x3000, PAGE}, {2 * MiB - PAGE, 2 * PAGE}};
    assert_int_equal(glint_page_table_pages(share_last, 3), 5);
    const uint64_t two_gib[][2] = {{0x1000, PAGE}, {TOP - 288 * KiB, 288 * KiB}};
    assert_int_equal(glint_page_table_pages(two_gib, 2), 6);
    const uint64_t far[][2] = {{0x1000, PAGE}, {512 * GiB, PAGE}, {1024 * GiB + 1 * GiB, PAGE}};
    assert_int_equal(glint_page_table_pages(far, 3), 1 + 3 + 3 + 3);
    const uint64_t with_empty[][2] = {{0x1000, PAGE}, {0x5000, 0}, {0x200000, PAGE}};
    assert_int_equal(glint_page_table_pages(with_empty, 3), 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_layout_exact),
        cmocka_unit_test(test_layout_rounding),
        cmocka_unit_test(test_scratch_minimum),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_io_buffers_bounded_by_memory_cap),
        cmocka_unit_test(test_limits_accept_boundaries),
        cmocka_unit_test(test_snapshot_sum_limits),
        cmocka_unit_test(test_page_table_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
