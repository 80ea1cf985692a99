/*
 * world.c - per-sandbox time and entropy for the world page (world.h).
 *
 * Time.  The guest reads RDTSC and extrapolates from bases the host wrote:
 * ns = (tsc - tsc_base) * mult >> 32.  The host samples its own TSC and
 * clocks (vDSO, no system call) and converts its TSC into the guest's with
 * the vCPU's TSC offset, so a refresh costs no ioctl.  The rate starts as
 * the vCPU's nominal frequency (KVM_GET_TSC_KHZ, kHz resolution) and, once
 * a vCPU has run for a second, is measured against the host's
 * CLOCK_MONOTONIC over its whole life, which also follows NTP's frequency
 * correction.  Every refresh takes the larger of the host's CLOCK_MONOTONIC
 * and what the previous parameters give at that instant as the new base:
 * the guest's monotonic clock never steps back.
 *
 * Entropy.  A ChaCha20 generator per sandbox, keyed once from getrandom(2);
 * each generation takes 40 bytes from it (seed and generation number), so
 * restore needs neither a system call nor a write to snapshotted memory.
 */
#define _GNU_SOURCE 1 /* getrandom */
#include "world.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define NS_PER_SEC 1000000000ull
/* A calibration is kept only within this distance of the nominal rate:
 * NTP slews by at most 500 ppm, so anything further off is a host that
 * suspended, migrated or changed its TSC, not a rate. */
#define CALIBRATION_MAX_PPM 1000u
/* The rate is measured over at least this long. */
#define CALIBRATION_MIN_NS NS_PER_SEC
/* A sample is the host's clocks read between two TSC readings; one
 * bracketed by at most SAMPLE_TIGHT_TICKS (a few microseconds at any TSC
 * frequency) was not interrupted and is taken at once; otherwise the
 * tightest of SAMPLE_TRIES.  (clock_gettime goes through the vDSO where the
 * host's clocksource allows, which is the common case: no system call.) */
#define SAMPLE_TRIES 3
#define SAMPLE_TIGHT_TICKS 10000u

static uint64_t read_tsc(void) {
    uint32_t lo, hi;
    /* LFENCE first: the TSC is read after the instructions before it. */
    __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return (uint64_t)hi << 32 | lo;
}

static uint64_t clock_ns(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

void glint_world_sample_now(glint_world_sample *out) {
    uint64_t best_width = UINT64_MAX;
    for (int i = 0; i < SAMPLE_TRIES; i++) {
        uint64_t t0 = read_tsc();
        uint64_t mono = clock_ns(CLOCK_MONOTONIC);
        uint64_t wall = clock_ns(CLOCK_REALTIME);
        uint64_t t1 = read_tsc();
        if (t1 - t0 < best_width) {
            best_width = t1 - t0;
            out->host_tsc = t0 + (t1 - t0) / 2u;
            out->mono_ns = mono;
            out->wall_ns = wall;
        }
        if (best_width <= SAMPLE_TIGHT_TICKS) break;
    }
}

/* (a * b) >> GLINT_WORLD_TSC_SHIFT, saturating. */
static uint64_t mul_shift(uint64_t a, uint64_t b) {
    unsigned __int128 p = (unsigned __int128)a * b >> GLINT_WORLD_TSC_SHIFT;
    return p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static uint64_t add_signed(uint64_t a, int64_t b) {
    if (b >= 0) return sat_add(a, (uint64_t)b);
    uint64_t m = (uint64_t)0 - (uint64_t)b;
    return a > m ? a - m : 0;
}

glint_status glint_world_init(glint_world_state *w, const glint_world_options *options,
                              glint_error *err) {
    memset(w, 0, sizeof *w);
    if (options != NULL) w->options = *options;
    if (w->options.fixed_entropy) return GLINT_OK;
    uint8_t key[GLINT_CHACHA20_KEY_SIZE];
    size_t got = 0;
    while (got < sizeof key) {
        ssize_t n = getrandom(key + got, sizeof key - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            return glint_fail_errno(err, GLINT_E_IO, n < 0 ? errno : EIO,
                                    "getrandom failed: no entropy for the guest");
        got += (size_t)n;
    }
    glint_csprng_seed(&w->rng, key);
    explicit_bzero(key, sizeof key);
    return GLINT_OK;
}

void glint_world_destroy(glint_world_state *w) {
    glint_csprng_wipe(&w->rng);
    explicit_bzero(w->seed, sizeof w->seed);
    explicit_bzero(w->options.seed, sizeof w->options.seed);
}

void glint_world_set_tsc(glint_world_state *w, const glint_world_tsc *tsc) {
    w->tsc = *tsc;
    w->calibrating = false;
    if (!tsc->usable || tsc->khz == 0) {
        w->tsc.usable = false;
        w->nominal_mult = w->mult = 0;
        return;
    }
    /* ns per tick = 10^6 / khz. */
    w->nominal_mult = (uint64_t)(((unsigned __int128)1000000u << GLINT_WORLD_TSC_SHIFT) / tsc->khz);
    w->mult = w->nominal_mult;
}

void glint_world_set_monotonic(glint_world_state *w, int64_t mono_offset, uint64_t floor_ns,
                               const glint_world_sample *now) {
    w->mono_offset = mono_offset;
    uint64_t guest = add_signed(now->mono_ns, mono_offset);
    if (guest < floor_ns) {
        /* Another boot: the host's clock is behind the snapshot's.  Shift
         * so the guest carries on from its floor. */
        unsigned __int128 need = (unsigned __int128)floor_ns - now->mono_ns;
        w->mono_offset = need > INT64_MAX ? INT64_MAX : (int64_t)need;
    }
}

/* The generation of a fixed seed: the same for every sandbox given that
 * seed (so their guests seed identically), never 0. */
static uint64_t fixed_generation(const uint8_t seed[GLINT_WORLD_SEED_SIZE]) {
    static const uint8_t nonce[12] = {'g', 'l', 'i', 'n', 't', '-', 'w', 'o', 'r', 'l', 'd', 0};
    uint8_t block[GLINT_CHACHA20_BLOCK_SIZE];
    glint_chacha20_block(seed, 0, nonce, block);
    uint64_t g;
    memcpy(&g, block, sizeof g);
    return g | 1u;
}

void glint_world_new_generation(glint_world_state *w) {
    if (w->options.fixed_entropy) {
        memcpy(w->seed, w->options.seed, sizeof w->seed);
        w->generation = fixed_generation(w->options.seed);
        return;
    }
    uint64_t previous = w->generation, g;
    do {
        glint_csprng_bytes(&w->rng, &g, sizeof g);
    } while (g == 0 || g == previous);
    w->generation = g;
    glint_csprng_bytes(&w->rng, w->seed, sizeof w->seed);
}

/* The guest's monotonic and wall clocks at guest TSC `tsc` under the
 * current parameters. */
static uint64_t extrapolate(const glint_world_state *w, uint64_t base, uint64_t tsc) {
    if (!w->tsc.usable || tsc <= w->tsc_base) return base;
    return sat_add(base, mul_shift(tsc - w->tsc_base, w->mult));
}

static uint64_t guest_tsc_at(const glint_world_state *w, uint64_t host_tsc) {
    return host_tsc + (uint64_t)w->tsc.offset; /* two's complement: wraps like the TSC */
}

/* Measured ns per tick over the vCPU's life so far, if long enough and
 * plausible; the nominal rate otherwise. */
static void calibrate(glint_world_state *w, uint64_t guest_tsc, uint64_t mono_ns) {
    if (!w->calibrating || guest_tsc < w->calib_guest_tsc || mono_ns < w->calib_mono_ns) {
        w->calibrating = true;
        w->calib_guest_tsc = guest_tsc;
        w->calib_mono_ns = mono_ns;
        w->mult = w->nominal_mult;
        return;
    }
    uint64_t dt = guest_tsc - w->calib_guest_tsc, dns = mono_ns - w->calib_mono_ns;
    if (dns < CALIBRATION_MIN_NS || dt == 0) return;
    unsigned __int128 m = ((unsigned __int128)dns << GLINT_WORLD_TSC_SHIFT) / dt;
    unsigned __int128 nominal = w->nominal_mult;
    unsigned __int128 diff = m > nominal ? m - nominal : nominal - m;
    if (diff * 1000000u > nominal * CALIBRATION_MAX_PPM) {
        /* Implausible: start measuring again from here. */
        w->calib_guest_tsc = guest_tsc;
        w->calib_mono_ns = mono_ns;
        w->mult = w->nominal_mult;
        return;
    }
    w->mult = (uint64_t)m;
}

void glint_world_refresh(glint_world_state *w, const glint_world_sample *now) {
    if (w->options.pin_time) {
        w->tsc_base = 0;
        w->mono_base_ns = w->options.pinned_mono_ns;
        w->wall_base_ns = w->options.pinned_wall_ns;
        w->have_params = true;
        w->refreshes++;
        return;
    }
    uint64_t guest_tsc = w->tsc.usable ? guest_tsc_at(w, now->host_tsc) : 0;
    uint64_t mono = add_signed(now->mono_ns, w->mono_offset);
    if (w->have_params) {
        /* Never behind what the guest may already have read. */
        uint64_t previous = extrapolate(w, w->mono_base_ns, guest_tsc);
        if (previous > mono) mono = previous;
    }
    if (w->tsc.usable) calibrate(w, guest_tsc, now->mono_ns);
    w->tsc_base = guest_tsc;
    w->mono_base_ns = mono;
    w->wall_base_ns = now->wall_ns;
    w->have_params = true;
    w->refreshes++;
}

void glint_world_pin(glint_world_state *w, uint64_t wall_ns, uint64_t mono_ns) {
    w->options.pinned_wall_ns = wall_ns;
    w->options.pinned_mono_ns = mono_ns;
}

uint64_t glint_world_guest_monotonic(const glint_world_state *w, const glint_world_sample *now) {
    if (w->options.pin_time) return w->options.pinned_mono_ns;
    uint64_t mono = add_signed(now->mono_ns, w->mono_offset);
    if (w->have_params) {
        uint64_t previous = extrapolate(w, w->mono_base_ns, guest_tsc_at(w, now->host_tsc));
        if (previous > mono) mono = previous;
    }
    return mono;
}

void glint_world_page_update_clock(const glint_world_state *w, glint_world *page) {
    uint32_t flags = 0;
    if (w->options.pin_time)
        flags |= GLINT_WORLD_CLOCK_PINNED;
    else if (w->tsc.usable)
        flags |= GLINT_WORLD_CLOCK_TSC;
    if (w->options.fixed_entropy) flags |= GLINT_WORLD_ENTROPY_FIXED;
    page->flags = flags;
    page->tsc_base = (flags & GLINT_WORLD_CLOCK_TSC) ? w->tsc_base : 0;
    page->tsc_mult = (flags & GLINT_WORLD_CLOCK_TSC) ? w->mult : 0;
    page->mono_base_ns = w->mono_base_ns;
    page->wall_base_ns = w->wall_base_ns;
    page->refreshes = w->refreshes;
}

void glint_world_page_fill(const glint_world_state *w, glint_world *page) {
    memset(page, 0, sizeof *page);
    page->generation = w->generation;
    memcpy(page->seed, w->seed, sizeof page->seed);
    glint_world_page_update_clock(w, page);
}

void glint_world_page_read(const glint_world *page, uint64_t tsc, uint64_t *mono_ns,
                           uint64_t *wall_ns) {
    uint64_t ns = 0;
    if ((page->flags & (GLINT_WORLD_CLOCK_TSC | GLINT_WORLD_CLOCK_PINNED)) ==
            GLINT_WORLD_CLOCK_TSC &&
        tsc > page->tsc_base)
        ns = mul_shift(tsc - page->tsc_base, page->tsc_mult);
    *mono_ns = sat_add(page->mono_base_ns, ns);
    *wall_ns = sat_add(page->wall_base_ns, ns);
}
