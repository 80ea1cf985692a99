/*
 * world.c - time and randomness, from the world page the host keeps current
 * (glint/abi.h, "The world page"): clock_gettime, gettimeofday (so time()),
 * getentropy, arc4random and friends, without a VM exit.
 *
 * Time is RDTSC extrapolated from the host's bases; the host refreshes them
 * at every call and keeps CLOCK_MONOTONIC from going backwards across
 * restores and clones.  Randomness is a ChaCha20 generator
 * (common/src/csprng.c) seeded from the page's seed, and reseeded whenever
 * the page's generation differs from the one it was seeded from: the host
 * changes it on every create, clone and restore, and the runtime checks it
 * at initialisation and before every draw (a read of the world page).  So
 * two clones of one snapshot, or one sandbox before and after a restore,
 * never continue the same random sequence.  The check is at the draw, not
 * at every call: a call that draws nothing then writes nothing, and restore
 * keeps resetting only the pages the guest's own work dirtied.
 */
#define _GNU_SOURCE 1 /* every CLOCK_* name and struct timezone under -std=c11 */

#include "runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../common/src/csprng.h"

/* The host rewrites the page while the vCPU is stopped; volatile makes
 * every use a fresh read. */
static const volatile glint_world *world;
static glint_csprng rng;
static uint64_t seeded_generation;
static bool seeded;

void glint_rt_world_init(const glint_peb *peb) {
    world = peb->world != 0 ? (const volatile glint_world *)(uintptr_t)peb->world : NULL;
    glint_rt_world_enter();
}

void glint_rt_world_enter(void) {
    if (world == NULL) return;
    const uint64_t generation = world->generation;
    if (seeded && generation == seeded_generation) return;
    uint8_t seed[GLINT_WORLD_SEED_SIZE];
    for (uint32_t i = 0; i < GLINT_WORLD_SEED_SIZE; i++) seed[i] = world->seed[i];
    glint_csprng_seed(&rng, seed);
    memset(seed, 0, sizeof seed);
    __asm__ volatile("" : : "r"(seed) : "memory"); /* the wipe stays */
    seeded_generation = generation;
    seeded = true;
}

/* ---- Time ------------------------------------------------------------------ */

static uint64_t read_tsc(void) {
    uint32_t lo, hi;
    /* LFENCE: the TSC is read after the instructions before it. */
    __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return (uint64_t)hi << 32 | lo;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* The formula of glint/abi.h. */
static bool read_clocks(uint64_t *mono_ns, uint64_t *wall_ns) {
    if (world == NULL) return false;
    const uint32_t flags = world->flags;
    uint64_t ns = 0;
    if ((flags & (GLINT_WORLD_CLOCK_TSC | GLINT_WORLD_CLOCK_PINNED)) == GLINT_WORLD_CLOCK_TSC) {
        const uint64_t base = world->tsc_base, tsc = read_tsc();
        if (tsc > base) {
            unsigned __int128 p =
                (unsigned __int128)(tsc - base) * world->tsc_mult >> GLINT_WORLD_TSC_SHIFT;
            ns = p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
        }
    }
    *mono_ns = sat_add(world->mono_base_ns, ns);
    *wall_ns = sat_add(world->wall_base_ns, ns);
    return true;
}

uint64_t glint_time_monotonic_ns(void) {
    uint64_t mono, wall;
    return read_clocks(&mono, &wall) ? mono : 0;
}

uint64_t glint_time_realtime_ns(void) {
    uint64_t mono, wall;
    return read_clocks(&mono, &wall) ? wall : 0;
}

static void to_timespec(uint64_t ns, struct timespec *ts) {
    ts->tv_sec = (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
}

/* Which of the two clocks a clock id names: 0 wall, 1 monotonic, -1 none.
 * The CPU-time clocks are not offered: the guest cannot tell its own CPU
 * time from the time it spent stopped between calls. */
static int clock_kind(clockid_t id) {
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE: return 0;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME: return 1;
    default: return -1;
    }
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    const int kind = clock_kind(id);
    if (kind < 0) {
        errno = EINVAL;
        return -1;
    }
    uint64_t mono, wall;
    if (!read_clocks(&mono, &wall)) {
        errno = ENOSYS;
        return -1;
    }
    if (ts == NULL) {
        errno = EFAULT;
        return -1;
    }
    to_timespec(kind == 0 ? wall : mono, ts);
    return 0;
}

int clock_getres(clockid_t id, struct timespec *res) {
    if (clock_kind(id) < 0) {
        errno = EINVAL;
        return -1;
    }
    if (res != NULL) {
        res->tv_sec = 0;
        res->tv_nsec = 1;
    }
    return 0;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    uint64_t mono, wall;
    if (!read_clocks(&mono, &wall)) {
        errno = ENOSYS;
        return -1;
    }
    if (tv != NULL) {
        tv->tv_sec = (time_t)(wall / 1000000000u);
        tv->tv_usec = (suseconds_t)(wall % 1000000000u / 1000u);
    }
    if (tz != NULL) memset(tz, 0, sizeof(struct timezone)); /* UTC */
    return 0;
}

/* ---- Randomness ------------------------------------------------------------------ */

/* OpenBSD's arc4random API, which newlib declares in <stdlib.h>; newlib's
 * own arc4random.o is never linked (these definitions come first), and its
 * arc4random_uniform calls this arc4random. */
void arc4random_buf(void *buf, size_t len) {
    glint_rt_world_enter();
    if (!seeded) glint_abort(GLINT_E_ABI_MISMATCH, "arc4random: the host provides no entropy");
    glint_csprng_bytes(&rng, buf, len);
}

uint32_t arc4random(void) {
    uint32_t v;
    arc4random_buf(&v, sizeof v);
    return v;
}

int getentropy(void *buf, size_t len) {
    if (len > 256u) { /* the interface's limit (OpenBSD, glibc) */
        errno = EIO;
        return -1;
    }
    glint_rt_world_enter();
    if (!seeded) {
        errno = ENOSYS;
        return -1;
    }
    if (len != 0 && buf == NULL) {
        errno = EFAULT;
        return -1;
    }
    glint_csprng_bytes(&rng, buf, len);
    return 0;
}

uint64_t glint_random_u64(void) {
    uint64_t v;
    arc4random_buf(&v, sizeof v);
    return v;
}

double glint_random_double(void) {
    /* 53 random bits: every double in [0, 1) with a spacing of 2^-53. */
    return (double)(glint_random_u64() >> 11) * 0x1.0p-53;
}
