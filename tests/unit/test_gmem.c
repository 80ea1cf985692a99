/*
 * test_gmem - the checked guest-memory accessor (host/src/gmem.c): spans
 * inside each region, straddling either end, gpa+len overflow, len 0, the gap
 * between the regions, and the read/write helpers.  The host buffer ends at
 * a PROT_NONE page, so a span that escaped the check would fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gmem.h"
#include "unit_support.h"

#define SNAP_GPA 0x1000ull
#define SNAP_SIZE 0x10000ull
#define SCR_GPA 0xffff8000ull
#define SCR_SIZE 0x8000ull

typedef struct fixture {
    guarded_buf g;
    glint_gmem m;
} fixture;

static int setup(void **state) {
    static fixture f;
    if (guarded_alloc(&f.g, SNAP_SIZE + SCR_SIZE) != 0) return -1;
    f.m.host = f.g.data;
    f.m.snapshot_gpa = SNAP_GPA;
    f.m.snapshot_size = SNAP_SIZE;
    f.m.scratch_gpa = SCR_GPA;
    f.m.scratch_size = SCR_SIZE;
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    guarded_free(&f->g);
    return 0;
}

static void test_span_inside(void **state) {
    fixture *f = *state;
    const glint_gmem *m = &f->m;
    uint8_t *h = f->g.data;
    assert_ptr_equal(glint_gmem_span(m, SNAP_GPA, SNAP_SIZE), h);
    assert_ptr_equal(glint_gmem_span(m, SNAP_GPA, 1), h);
    assert_ptr_equal(glint_gmem_span(m, SNAP_GPA + 0x1234, 0x100), h + 0x1234);
    assert_ptr_equal(glint_gmem_span(m, SNAP_GPA + SNAP_SIZE - 1, 1), h + SNAP_SIZE - 1);
    assert_ptr_equal(glint_gmem_span(m, SNAP_GPA + SNAP_SIZE - 8, 8), h + SNAP_SIZE - 8);
    assert_ptr_equal(glint_gmem_span(m, SCR_GPA, SCR_SIZE), h + SNAP_SIZE);
    assert_ptr_equal(glint_gmem_span(m, SCR_GPA + 0x10, 0x20), h + SNAP_SIZE + 0x10);
    assert_ptr_equal(glint_gmem_span(m, SCR_GPA + SCR_SIZE - 8, 8), h + SNAP_SIZE + SCR_SIZE - 8);
    assert_ptr_equal(glint_gmem_span(m, SCR_GPA + SCR_SIZE - 1, 1), h + SNAP_SIZE + SCR_SIZE - 1);
    /* len 0 inside a region. */
    assert_ptr_equal(glint_gmem_span(m, SNAP_GPA, 0), h);
    assert_ptr_equal(glint_gmem_span(m, SNAP_GPA + SNAP_SIZE - 1, 0), h + SNAP_SIZE - 1);
    assert_ptr_equal(glint_gmem_span(m, SCR_GPA + 5, 0), h + SNAP_SIZE + 5);
}

static void test_span_outside(void **state) {
    fixture *f = *state;
    const glint_gmem *m = &f->m;
    const uint64_t bad[][2] = {
        /* straddling the ends */
        {SNAP_GPA + SNAP_SIZE - 1, 2},
        {SNAP_GPA + SNAP_SIZE - 8, 9},
        {SNAP_GPA, SNAP_SIZE + 1},
        {SNAP_GPA - 1, 1},
        {SNAP_GPA - 1, 2},
        {SCR_GPA + SCR_SIZE - 1, 2},
        {SCR_GPA - 1, 2},
        {SCR_GPA, SCR_SIZE + 1},
        /* len 0 at the end (one past the last byte) */
        {SNAP_GPA + SNAP_SIZE, 0},
        {SCR_GPA + SCR_SIZE, 0},
        /* below, in the gap, above */
        {0, 1},
        {0, 0},
        {SNAP_GPA + SNAP_SIZE, 1},
        {0x80000000ull, 16},
        {SCR_GPA - 1, 1},
        {SCR_GPA + SCR_SIZE, 1},
        /* one range covering both regions and the gap */
        {SNAP_GPA, SCR_GPA + SCR_SIZE - SNAP_GPA},
        /* gpa + len overflows */
        {UINT64_MAX, 1},
        {UINT64_MAX, 2},
        {UINT64_MAX - 7, 16},
        {SNAP_GPA, UINT64_MAX},
        {SNAP_GPA + 8, UINT64_MAX - 7},             /* gpa + len wraps to SNAP_GPA */
        {SCR_GPA, UINT64_MAX - SCR_GPA + 1 + 0x10}, /* wraps to 0x10 */
        {SCR_GPA + 1, UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (glint_gmem_span(m, bad[i][0], bad[i][1]) != NULL)
            fail_msg("span 0x%llx+0x%llx accepted", (unsigned long long)bad[i][0],
                     (unsigned long long)bad[i][1]);
    }
    /* No memory or no descriptor. */
    assert_null(glint_gmem_span(NULL, SNAP_GPA, 1));
    glint_gmem empty = *m;
    empty.host = NULL;
    assert_null(glint_gmem_span(&empty, SNAP_GPA, 1));
}

/* A region reaching the very top of the 64-bit space: gpa + len == 2^64
 * must be accepted, anything further must not wrap into acceptance. */
static void test_span_region_at_top(void **state) {
    fixture *f = *state;
    glint_gmem m = f->m;
    m.scratch_gpa = UINT64_MAX - SCR_SIZE + 1;
    uint8_t *scr = f->g.data + SNAP_SIZE;
    assert_ptr_equal(glint_gmem_span(&m, UINT64_MAX, 1), scr + SCR_SIZE - 1);
    assert_ptr_equal(glint_gmem_span(&m, m.scratch_gpa, SCR_SIZE), scr);
    assert_ptr_equal(glint_gmem_span(&m, UINT64_MAX - 7, 8), scr + SCR_SIZE - 8);
    assert_null(glint_gmem_span(&m, UINT64_MAX, 2));
    assert_null(glint_gmem_span(&m, UINT64_MAX - 7, 9));
    assert_null(glint_gmem_span(&m, m.scratch_gpa, SCR_SIZE + 1));
    assert_null(glint_gmem_span(&m, m.scratch_gpa - 1, 2));
    /* Empty regions contain nothing. */
    m.snapshot_size = 0;
    assert_null(glint_gmem_span(&m, SNAP_GPA, 0));
    assert_null(glint_gmem_span(&m, SNAP_GPA, 1));
}

static void test_read_write(void **state) {
    fixture *f = *state;
    const glint_gmem *m = &f->m;
    uint8_t *h = f->g.data;
    memset(h, 0, SNAP_SIZE + SCR_SIZE);

    const char pattern[] = "0123456789abcdef";
    assert_true(glint_gmem_write(m, SNAP_GPA + 0x100, pattern, 16));
    assert_memory_equal(h + 0x100, pattern, 16);
    assert_int_equal(h[0xff], 0);
    assert_int_equal(h[0x110], 0);
    assert_true(glint_gmem_write(m, SCR_GPA + SCR_SIZE - 16, pattern, 16));
    assert_memory_equal(h + SNAP_SIZE + SCR_SIZE - 16, pattern, 16);

    uint8_t out[32];
    memset(out, 0xee, sizeof out);
    assert_true(glint_gmem_read(m, SNAP_GPA + 0x100, out, 16));
    assert_memory_equal(out, pattern, 16);
    assert_int_equal(out[16], 0xee);
    memset(out, 0xee, sizeof out);
    assert_true(glint_gmem_read(m, SCR_GPA + SCR_SIZE - 16, out, 16));
    assert_memory_equal(out, pattern, 16);

    /* Straddling writes change nothing; failed reads leave dst alone. */
    assert_false(glint_gmem_write(m, SNAP_GPA + SNAP_SIZE - 8, pattern, 16));
    for (uint64_t i = SNAP_SIZE - 8; i < SNAP_SIZE; i++) assert_int_equal(h[i], 0);
    assert_false(glint_gmem_write(m, SCR_GPA + SCR_SIZE - 8, pattern, 16));
    assert_false(glint_gmem_write(m, SCR_GPA - 8, pattern, 16));
    for (uint64_t i = SNAP_SIZE; i < SNAP_SIZE + 8; i++) assert_int_equal(h[i], 0);
    assert_false(glint_gmem_write(m, UINT64_MAX - 7, pattern, 16));
    memset(out, 0xee, sizeof out);
    assert_false(glint_gmem_read(m, SNAP_GPA + SNAP_SIZE - 8, out, 16));
    assert_false(glint_gmem_read(m, 0x80000000ull, out, 1));
    assert_false(glint_gmem_read(m, UINT64_MAX, out, 2));
    for (size_t i = 0; i < sizeof out; i++) assert_int_equal(out[i], 0xee);

    /* Length 0 inside succeeds and copies nothing. */
    assert_true(glint_gmem_read(m, SNAP_GPA, out, 0));
    assert_true(glint_gmem_write(m, SCR_GPA, pattern, 0));
    assert_int_equal(h[SNAP_SIZE], 0);
    assert_int_equal(out[0], 0xee);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_span_inside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_span_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_span_region_at_top, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
