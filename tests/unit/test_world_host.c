/*
 * test_world_host - the world page's host side (host/src/world.c) and the
 * ChaCha20 generator shared with the guest (common/src/csprng.c):
 *   - ChaCha20 against RFC 8439's block vectors; the generator's stream is
 *     a function of its seed alone, independent of how it is drawn, and
 *     erases the key that produced what it handed out;
 *   - entropy generations: fresh and distinct in the real world, identical
 *     for a fixed seed;
 *   - the clock arithmetic: bases, the host-to-guest TSC offset, the rate
 *     from the nominal frequency and from calibration (and its refusal of an
 *     implausible rate), the monotonic floor across refreshes and snapshots,
 *     pinned and coarse clocks, and the guest's formula (page_read).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "world.h"

#define NS 1000000000ull

/* ---- ChaCha20 and the generator ------------------------------------------ */

static void test_chacha20_rfc8439(void **state) {
    (void)state;
    /* RFC 8439, 2.3.2: key 00..1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00,
     * block counter 1. */
    uint8_t key[32], out[64];
    for (int i = 0; i < 32; i++) key[i] = (uint8_t)i;
    const uint8_t nonce[12] = {0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0};
    static const uint8_t want[64] = {
        0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3,
        0x20, 0x71, 0xc4, 0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22,
        0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e, 0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa,
        0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2, 0xb5, 0x12, 0x9c, 0xd1,
        0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e};
    glint_chacha20_block(key, 1, nonce, out);
    assert_memory_equal(out, want, 64);

    /* RFC 8439, A.1 test vector 1: all-zero key and nonce, counter 0. */
    static const uint8_t want0[64] = {
        0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53,
        0x86, 0xbd, 0x28, 0xbd, 0xd2, 0x19, 0xb8, 0xa0, 0x8d, 0xed, 0x1a, 0xa8, 0x36,
        0xef, 0xcc, 0x8b, 0x77, 0x0d, 0xc7, 0xda, 0x41, 0x59, 0x7c, 0x51, 0x57, 0x48,
        0x8d, 0x77, 0x24, 0xe0, 0x3f, 0xb8, 0xd8, 0x4a, 0x37, 0x6a, 0x43, 0xb8, 0xf4,
        0x15, 0x18, 0xa1, 0x1c, 0xc3, 0x87, 0xb6, 0x69, 0xb2, 0xee, 0x65, 0x86};
    memset(key, 0, sizeof key);
    const uint8_t zero_nonce[12] = {0};
    glint_chacha20_block(key, 0, zero_nonce, out);
    assert_memory_equal(out, want0, 64);
}

static void test_csprng_stream(void **state) {
    (void)state;
    uint8_t seed[32];
    for (int i = 0; i < 32; i++) seed[i] = (uint8_t)(i * 7 + 1);
    glint_csprng a, b;
    uint8_t one[1000], parts[1000];
    glint_csprng_seed(&a, seed);
    glint_csprng_bytes(&a, one, sizeof one);
    /* The same seed drawn in odd pieces (across buffer refills) gives the
     * same stream. */
    glint_csprng_seed(&b, seed);
    size_t done = 0, step = 1;
    while (done < sizeof parts) {
        size_t n = step < sizeof parts - done ? step : sizeof parts - done;
        glint_csprng_bytes(&b, parts + done, n);
        done += n;
        step = step * 3 + 1;
    }
    assert_memory_equal(one, parts, sizeof one);
    /* Not trivially the key stream of the seed itself: the first block's
     * first 32 bytes became the next key and were never handed out. */
    uint8_t block[64];
    const uint8_t nonce[12] = {0};
    glint_chacha20_block(seed, 0, nonce, block);
    assert_memory_not_equal(one, block, 32);
    assert_memory_equal(one, block + 32, 32);
    /* The key in use is not the seed any more (erasure). */
    assert_memory_not_equal(a.key, seed, 32);
    /* Another seed, another stream. */
    seed[31] ^= 1;
    glint_csprng_seed(&b, seed);
    glint_csprng_bytes(&b, parts, 64);
    assert_memory_not_equal(one, parts, 64);
    glint_csprng_wipe(&a);
    static const glint_csprng zero;
    assert_memory_equal(&a, &zero, sizeof a);
}

/* ---- Entropy generations ---------------------------------------------------- */

static void test_generations_real_world(void **state) {
    (void)state;
    glint_world_state a, b;
    assert_int_equal(glint_world_init(&a, NULL, NULL), GLINT_OK);
    assert_int_equal(glint_world_init(&b, NULL, NULL), GLINT_OK);
    glint_world_new_generation(&a);
    glint_world_new_generation(&b);
    /* Two sandboxes (each keyed by getrandom): different. */
    assert_true(a.generation != 0 && b.generation != 0);
    assert_true(a.generation != b.generation);
    assert_memory_not_equal(a.seed, b.seed, 32);
    /* Each restore: a new generation and seed. */
    uint64_t g[8];
    uint8_t seeds[8][32];
    for (int i = 0; i < 8; i++) {
        glint_world_new_generation(&a);
        g[i] = a.generation;
        memcpy(seeds[i], a.seed, 32);
        assert_true(g[i] != 0);
        for (int j = 0; j < i; j++) {
            assert_true(g[i] != g[j]);
            assert_memory_not_equal(seeds[i], seeds[j], 32);
        }
    }
    glint_world page;
    glint_world_page_fill(&a, &page);
    assert_int_equal(page.generation, a.generation);
    assert_memory_equal(page.seed, a.seed, 32);
    assert_int_equal(page.flags & GLINT_WORLD_ENTROPY_FIXED, 0);
    glint_world_destroy(&a);
    glint_world_destroy(&b);
}

static void test_generations_fixed(void **state) {
    (void)state;
    glint_world_options o;
    memset(&o, 0, sizeof o);
    o.fixed_entropy = true;
    memset(o.seed, 0x5a, sizeof o.seed);
    glint_world_state a, b;
    assert_int_equal(glint_world_init(&a, &o, NULL), GLINT_OK);
    assert_int_equal(glint_world_init(&b, &o, NULL), GLINT_OK);
    glint_world_new_generation(&a);
    uint64_t first = a.generation;
    glint_world_new_generation(&a); /* a restore: the same */
    glint_world_new_generation(&b); /* another sandbox: the same */
    assert_true(first != 0);
    assert_int_equal(a.generation, first);
    assert_int_equal(b.generation, first);
    assert_memory_equal(a.seed, o.seed, 32);
    assert_memory_equal(b.seed, o.seed, 32);
    /* Another fixed seed: another generation, so a guest seeded from the
     * first one reseeds. */
    o.seed[0] ^= 1;
    glint_world_state c;
    assert_int_equal(glint_world_init(&c, &o, NULL), GLINT_OK);
    glint_world_new_generation(&c);
    assert_true(c.generation != first);
    glint_world page;
    glint_world_page_fill(&c, &page);
    assert_true(page.flags & GLINT_WORLD_ENTROPY_FIXED);
}

/* ---- The clock ------------------------------------------------------------------ */

static glint_world_sample sample(uint64_t host_tsc, uint64_t mono, uint64_t wall) {
    glint_world_sample s = {.host_tsc = host_tsc, .mono_ns = mono, .wall_ns = wall};
    return s;
}

/* A 2 GHz TSC whose guest view is the host's plus 1000. */
static void clock_at_2ghz(glint_world_state *w) {
    assert_int_equal(glint_world_init(w, NULL, NULL), GLINT_OK);
    glint_world_tsc tsc = {.usable = true, .offset = 1000, .khz = 2000000};
    glint_world_set_tsc(w, &tsc);
    assert_int_equal(w->nominal_mult, 1ull << 31); /* 0.5 ns per tick */
}

static void test_clock_bases_and_formula(void **state) {
    (void)state;
    glint_world_state w;
    clock_at_2ghz(&w);
    const uint64_t wall0 = 1700000000ull * NS;
    glint_world_sample s = sample(5000000, 42 * NS, wall0);
    glint_world_refresh(&w, &s);
    glint_world page;
    glint_world_page_fill(&w, &page);
    assert_int_equal(page.flags & (GLINT_WORLD_CLOCK_TSC | GLINT_WORLD_CLOCK_PINNED),
                     GLINT_WORLD_CLOCK_TSC);
    assert_int_equal(page.tsc_base, 5000000 + 1000);
    assert_int_equal(page.mono_base_ns, 42 * NS);
    assert_int_equal(page.wall_base_ns, wall0);
    assert_int_equal(page.refreshes, 1);
    uint64_t mono, wall;
    /* One second of guest TSC later. */
    glint_world_page_read(&page, page.tsc_base + 2000000000ull, &mono, &wall);
    assert_int_equal(mono, 43 * NS);
    assert_int_equal(wall, wall0 + NS);
    /* A TSC below the base (cannot happen, but): the bases. */
    glint_world_page_read(&page, page.tsc_base - 10, &mono, &wall);
    assert_int_equal(mono, 42 * NS);
    /* Saturates instead of wrapping. */
    page.mono_base_ns = UINT64_MAX - 5;
    glint_world_page_read(&page, UINT64_MAX, &mono, &wall);
    assert_int_equal(mono, UINT64_MAX);
    /* The guest's monotonic clock as the host computes it. */
    glint_world_sample later = sample(5000000 + 4000000000ull, 44 * NS, wall0 + 2 * NS);
    assert_int_equal(glint_world_guest_monotonic(&w, &later), 44 * NS);
}

static void test_clock_monotonic_floor(void **state) {
    (void)state;
    glint_world_state w;
    clock_at_2ghz(&w);
    glint_world_sample s = sample(0, 100 * NS, 0);
    glint_world_refresh(&w, &s);
    /* 1 s of TSC, but the host's clock moved only 0.999 s (the TSC runs
     * fast): the new base is what the old parameters reach, not lower. */
    s = sample(2000000000ull, 100 * NS + 999000000ull, NS);
    glint_world_refresh(&w, &s);
    assert_int_equal(w.mono_base_ns, 101 * NS);
    /* The other way round the host's clock wins. */
    s = sample(4000000000ull, 102 * NS + 5000, 2 * NS);
    glint_world_refresh(&w, &s);
    assert_int_equal(w.mono_base_ns, 102 * NS + 5000);
    /* A snapshot's floor from another boot: host clock at 3 s, floor at
     * 500 s: the guest carries on from 500 s, then follows the host. */
    glint_world_state c;
    clock_at_2ghz(&c);
    glint_world_sample boot2 = sample(7, 3 * NS, 0);
    glint_world_set_monotonic(&c, 0, 500 * NS, &boot2);
    assert_int_equal(c.mono_offset, 497 * (int64_t)NS);
    glint_world_refresh(&c, &boot2);
    assert_int_equal(c.mono_base_ns, 500 * NS);
    /* Same boot (host clock beyond the floor): the offset stays. */
    glint_world_state d;
    clock_at_2ghz(&d);
    glint_world_sample same = sample(7, 900 * NS, 0);
    glint_world_set_monotonic(&d, 0, 500 * NS, &same);
    assert_int_equal(d.mono_offset, 0);
    glint_world_set_monotonic(&d, 25, 500 * NS, &same);
    assert_int_equal(d.mono_offset, 25);
}

static void test_clock_calibration(void **state) {
    (void)state;
    glint_world_state w;
    clock_at_2ghz(&w);
    /* The TSC really runs at 2.000004 GHz (2 ppm fast against the host's
     * clock): after a second the rate is the measured one. */
    const uint64_t hz = 2000004000ull;
    glint_world_sample s = sample(0, 10 * NS, 0);
    glint_world_refresh(&w, &s);
    assert_int_equal(w.mult, w.nominal_mult);
    s = sample(hz / 2, 10 * NS + NS / 2, 0); /* half a second: too short */
    glint_world_refresh(&w, &s);
    assert_int_equal(w.mult, w.nominal_mult);
    s = sample(hz * 3, 13 * NS, 0);
    glint_world_refresh(&w, &s);
    uint64_t want = (uint64_t)(((unsigned __int128)3 * NS << 32) / (hz * 3));
    assert_int_equal(w.mult, want);
    /* With the measured rate, 100 s of TSC give 100 s to within 1 us. */
    glint_world page;
    glint_world_page_fill(&w, &page);
    uint64_t mono, wall;
    glint_world_page_read(&page, page.tsc_base + hz * 100, &mono, &wall);
    assert_true(mono >= page.mono_base_ns + 100 * NS - 1000);
    assert_true(mono <= page.mono_base_ns + 100 * NS + 1000);
    /* An implausible rate (a host that suspended: 5000 ppm): refused, the
     * nominal rate again and a new calibration from here. */
    s = sample(hz * 3 + 2000000000ull, 14 * NS + 20000000, 0);
    glint_world_refresh(&w, &s);
    assert_int_equal(w.mult, w.nominal_mult);
    assert_int_equal(w.calib_mono_ns, 14 * NS + 20000000);
    /* A new vCPU (clone) forgets the calibration. */
    glint_world_tsc tsc = {.usable = true, .offset = -5, .khz = 2000000};
    glint_world_set_tsc(&w, &tsc);
    assert_false(w.calibrating);
    assert_int_equal(w.mult, w.nominal_mult);
}

static void test_clock_pinned(void **state) {
    (void)state;
    glint_world_options o;
    memset(&o, 0, sizeof o);
    o.pin_time = true;
    o.pinned_wall_ns = 1234 * NS;
    o.pinned_mono_ns = 77;
    glint_world_state w;
    assert_int_equal(glint_world_init(&w, &o, NULL), GLINT_OK);
    glint_world_tsc tsc = {.usable = true, .offset = 0, .khz = 3000000};
    glint_world_set_tsc(&w, &tsc);
    glint_world_sample s = sample(99999, 5 * NS, 6 * NS);
    glint_world_refresh(&w, &s);
    glint_world page;
    glint_world_page_fill(&w, &page);
    assert_true(page.flags & GLINT_WORLD_CLOCK_PINNED);
    assert_false(page.flags & GLINT_WORLD_CLOCK_TSC);
    uint64_t mono, wall;
    glint_world_page_read(&page, 1ull << 50, &mono, &wall);
    assert_int_equal(mono, 77);
    assert_int_equal(wall, 1234 * NS);
    assert_int_equal(glint_world_guest_monotonic(&w, &s), 77);
    glint_world_pin(&w, 2000 * NS, 78);
    glint_world_refresh(&w, &s);
    glint_world_page_fill(&w, &page);
    glint_world_page_read(&page, 0, &mono, &wall);
    assert_int_equal(mono, 78);
    assert_int_equal(wall, 2000 * NS);
}

static void test_clock_coarse(void **state) {
    (void)state;
    glint_world_state w;
    assert_int_equal(glint_world_init(&w, NULL, NULL), GLINT_OK);
    glint_world_tsc none = {.usable = false};
    glint_world_set_tsc(&w, &none);
    glint_world_sample s = sample(123, 8 * NS, 9 * NS);
    glint_world_refresh(&w, &s);
    glint_world page;
    glint_world_page_fill(&w, &page);
    assert_int_equal(page.flags & (GLINT_WORLD_CLOCK_TSC | GLINT_WORLD_CLOCK_PINNED), 0);
    uint64_t mono, wall;
    glint_world_page_read(&page, 1ull << 40, &mono, &wall);
    assert_int_equal(mono, 8 * NS);
    assert_int_equal(wall, 9 * NS);
    /* Still monotonic: a host clock that went back is not followed. */
    s = sample(0, 7 * NS, 10 * NS);
    glint_world_refresh(&w, &s);
    assert_int_equal(w.mono_base_ns, 8 * NS);
}

static void test_sample_now(void **state) {
    (void)state;
    glint_world_sample a, b;
    glint_world_sample_now(&a);
    glint_world_sample_now(&b);
    assert_true(a.mono_ns != 0 && a.wall_ns != 0);
    assert_true(b.mono_ns >= a.mono_ns);
    assert_true(b.host_tsc > a.host_tsc);
    /* After 2020 and before 2200. */
    assert_true(a.wall_ns > 1577836800ull * NS && a.wall_ns < 7258118400ull * NS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chacha20_rfc8439),
        cmocka_unit_test(test_csprng_stream),
        cmocka_unit_test(test_generations_real_world),
        cmocka_unit_test(test_generations_fixed),
        cmocka_unit_test(test_clock_bases_and_formula),
        cmocka_unit_test(test_clock_monotonic_floor),
        cmocka_unit_test(test_clock_calibration),
        cmocka_unit_test(test_clock_pinned),
        cmocka_unit_test(test_clock_coarse),
        cmocka_unit_test(test_sample_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
