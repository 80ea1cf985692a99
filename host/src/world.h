/*
 * world.h - the host side of the world page (glint/abi.h, "The world page"):
 * what a guest needs from the world outside and cannot get without a VM
 * exit or a trusted source: time and entropy.
 *
 * Each sandbox owns one glint_world_state.  It keeps
 *   - a ChaCha20 generator keyed from getrandom(2) when the sandbox is made
 *     (one system call, at create and clone only), from which every entropy
 *     generation draws a fresh seed: create, clone and restore each get one
 *     without a system call and without touching guest memory proper;
 *   - the vCPU's TSC offset and frequency, so the host can turn its own
 *     RDTSC into the guest's without an ioctl, and the clock parameters last
 *     written, so the guest's CLOCK_MONOTONIC never goes backwards across a
 *     refresh, a restore or a clone.
 *
 * Nothing here touches KVM or guest memory: the sandbox hands in samples of
 * the host's clocks and copies glint_world_page_fill's output into the world
 * page.  That keeps the arithmetic unit-testable (tests/unit/test_world.c).
 */
#ifndef GLINT_WORLD_H
#define GLINT_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "../../common/src/csprng.h"
#include "error.h"
#include "glint/abi.h"

/* What the embedder chose (glint_config): deterministic time and entropy
 * for replay, or the real world (the default). */
typedef struct glint_world_options {
    bool pin_time;           /* the guest's clocks read exactly the pinned values */
    uint64_t pinned_wall_ns; /* CLOCK_REALTIME when pinned, ns since the epoch */
    uint64_t pinned_mono_ns; /* CLOCK_MONOTONIC when pinned */
    bool fixed_entropy;      /* every generation is seeded from `seed` */
    uint8_t seed[GLINT_WORLD_SEED_SIZE];
} glint_world_options;

/* The host's clocks at one instant: its TSC and CLOCK_MONOTONIC /
 * CLOCK_REALTIME in ns. */
typedef struct glint_world_sample {
    uint64_t host_tsc;
    uint64_t mono_ns;
    uint64_t wall_ns;
} glint_world_sample;

/* The vCPU's TSC as the hypervisor reports it: guest TSC = host TSC +
 * offset, ticking at khz (no TSC scaling: Glint never sets a frequency). */
typedef struct glint_world_tsc {
    bool usable; /* false: no frequency known; the guest gets a coarse clock */
    int64_t offset;
    uint32_t khz;
} glint_world_tsc;

typedef struct glint_world_state {
    glint_world_options options;
    /* Entropy. */
    glint_csprng rng;
    uint64_t generation;
    uint8_t seed[GLINT_WORLD_SEED_SIZE];
    /* The vCPU's TSC. */
    glint_world_tsc tsc;
    uint64_t nominal_mult; /* ns per tick << GLINT_WORLD_TSC_SHIFT, from khz */
    uint64_t mult;         /* the rate in use: nominal, or calibrated */
    bool calibrating;      /* calib_* hold the first sample of this vCPU */
    uint64_t calib_guest_tsc, calib_mono_ns;
    /* guest CLOCK_MONOTONIC = host CLOCK_MONOTONIC + mono_offset; 0 unless a
     * snapshot's floor (from another boot) demanded more. */
    int64_t mono_offset;
    /* The parameters last written; have_params once there are any. */
    bool have_params;
    uint64_t tsc_base, mono_base_ns, wall_base_ns;
    uint64_t refreshes;
} glint_world_state;

/* Reading the host's clocks (the only function here with side effects on
 * the outside world, besides getrandom in glint_world_init): TSC,
 * CLOCK_MONOTONIC and CLOCK_REALTIME as close together as a few tries
 * allow; no system call where the vDSO serves clock_gettime. */
void glint_world_sample_now(glint_world_sample *out);

/* Sets up w: options copied, the generator keyed from getrandom(2) (unless
 * options->fixed_entropy, which needs no randomness), no clock yet.
 * options may be NULL for the real world.  GLINT_E_IO if getrandom fails. */
glint_status glint_world_init(glint_world_state *w, const glint_world_options *options,
                              glint_error *err);
/* Wipes the generator's key and the current seed. */
void glint_world_destroy(glint_world_state *w);

/* A new vCPU (create, clone): its TSC offset and frequency.  Forgets the
 * previous rate calibration (the monotonic floor stays). */
void glint_world_set_tsc(glint_world_state *w, const glint_world_tsc *tsc);

/* Makes the guest's CLOCK_MONOTONIC at `now` at least floor_ns (a
 * snapshot's reading, perhaps from another boot), starting from
 * mono_offset (the snapshot's offset; 0 for a fresh sandbox). */
void glint_world_set_monotonic(glint_world_state *w, int64_t mono_offset, uint64_t floor_ns,
                               const glint_world_sample *now);

/* Entropy: a new generation and seed (create, clone, restore).  With fixed
 * entropy the generation and seed are the same every time, so a guest that
 * already seeded from them carries on from its own (snapshotted) state. */
void glint_world_new_generation(glint_world_state *w);

/* Clock: recomputes the parameters from `now` (ignored when time is
 * pinned).  CLOCK_MONOTONIC as the previous parameters would extrapolate it
 * is a floor for the new ones. */
void glint_world_refresh(glint_world_state *w, const glint_world_sample *now);

/* Pins time to these values (replay); only meaningful with options.pin_time. */
void glint_world_pin(glint_world_state *w, uint64_t wall_ns, uint64_t mono_ns);

/* The guest's CLOCK_MONOTONIC at `now` under the current parameters (what a
 * snapshot records as its floor). */
uint64_t glint_world_guest_monotonic(const glint_world_state *w, const glint_world_sample *now);

/* What the guest sees, for the world page: everything (fill), or only the
 * clock parameters (update_clock: a refresh between generations). */
void glint_world_page_fill(const glint_world_state *w, glint_world *page);
void glint_world_page_update_clock(const glint_world_state *w, glint_world *page);

/* The guest-side formula (the runtime's, repeated for the tests): the
 * clocks a page gives at guest TSC `tsc`. */
void glint_world_page_read(const glint_world *page, uint64_t tsc, uint64_t *mono_ns,
                           uint64_t *wall_ns);

#endif /* GLINT_WORLD_H */
