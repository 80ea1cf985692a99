/*
 * sandbox_world.c - a sandbox's world page: the page through which the
 * guest reads the time and gets its entropy (glint/abi.h, "The world page";
 * the arithmetic is world.c's).
 *
 * Why a page of its own: the page is host memory (one anonymous page per
 * sandbox) in its own memory slot, read-only to the guest, outside the
 * snapshot and scratch regions.  Snapshots never contain it, restore's
 * MADV_DONTNEED never drops it, clones get their own, and the host writes it
 * whenever it likes without copying a page of guest memory: restore still
 * copies 0 bytes, and a refresh at every call costs a few stores.
 *
 * When it is written: at create and clone (a new vCPU: its TSC offset and
 * frequency, a first entropy generation), at every restore (a new
 * generation), and at the start of every call and initialisation (fresh
 * clock parameters).  Always while the vCPU is stopped.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "sandbox_internal.h"

_Static_assert(GLINT_ENTROPY_SEED_SIZE == GLINT_WORLD_SEED_SIZE,
               "config.entropy_seed is one world-page seed");

static glint_world_options options_from(const glint_config *cfg) {
    glint_world_options o;
    memset(&o, 0, sizeof o);
    o.pin_time = cfg->pin_time;
    o.pinned_wall_ns = cfg->pinned_realtime_ns;
    o.pinned_mono_ns = cfg->pinned_monotonic_ns;
    o.fixed_entropy = cfg->fixed_entropy;
    memcpy(o.seed, cfg->entropy_seed, sizeof o.seed);
    return o;
}

static void publish(glint_sandbox *sb) { glint_world_page_fill(&sb->world, sb->world_page); }

glint_status glint_sb_world_attach(glint_sandbox *sb, int64_t mono_offset, uint64_t mono_floor_ns,
                                   glint_error *err) {
    const glint_world_options o = options_from(&sb->cfg);
    glint_status st = glint_world_init(&sb->world, &o, err);
    if (st != GLINT_OK) return st;
    if (!o.fixed_entropy) sb->counters.syscalls_other++; /* getrandom */
    void *page = glint_counted_mmap(&sb->counters, NULL, GLINT_WORLD_SIZE, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "mapping the world page");
    sb->world_page = page;
    const uint64_t gpa = GLINT_WORLD_GPA(sb->layout.scratch_gpa);
    st = sb->hv_ops->map(sb->hv, GLINT_SLOT_WORLD, gpa, GLINT_WORLD_SIZE, page,
                         GLINT_HV_MAP_READONLY, err);
    if (st != GLINT_OK) return st;
    /* A hypervisor that cannot tell the vCPU's TSC gets a coarse clock:
     * the time of the last refresh (every call), not an error. */
    glint_world_tsc tsc = {.usable = false};
    glint_error ignored;
    if (sb->hv_ops->tsc_info(sb->hv, &tsc.offset, &tsc.khz, &ignored) == GLINT_OK)
        tsc.usable = true;
    glint_world_set_tsc(&sb->world, &tsc);
    glint_world_sample now;
    glint_world_sample_now(&now);
    glint_world_set_monotonic(&sb->world, mono_offset, mono_floor_ns, &now);
    glint_world_new_generation(&sb->world);
    glint_world_refresh(&sb->world, &now);
    publish(sb);
    return GLINT_OK;
}

void glint_sb_world_refresh(glint_sandbox *sb) {
    if (sb->world_page == NULL) return;
    glint_world_sample now;
    glint_world_sample_now(&now);
    glint_world_refresh(&sb->world, &now);
    glint_world_page_update_clock(&sb->world, sb->world_page);
}

void glint_sb_world_restored(glint_sandbox *sb, const glint_snapshot *snap) {
    glint_world_sample now;
    glint_world_sample_now(&now);
    /* Same vCPU, same TSC: the parameters carry on.  The snapshot's floor
     * only matters for one loaded from a file made on another boot. */
    if (glint_world_guest_monotonic(&sb->world, &now) < snap->world_mono_floor_ns)
        glint_world_set_monotonic(&sb->world, sb->world.mono_offset, snap->world_mono_floor_ns,
                                  &now);
    glint_world_new_generation(&sb->world);
    glint_world_refresh(&sb->world, &now);
    publish(sb);
}

void glint_sb_world_snapshot(glint_sandbox *sb, glint_snapshot *snap) {
    glint_world_sample now;
    glint_world_sample_now(&now);
    snap->world_mono_floor_ns = glint_world_guest_monotonic(&sb->world, &now);
    snap->world_mono_offset = sb->world.mono_offset;
}

void glint_sb_world_release(glint_sandbox *sb) {
    glint_world_destroy(&sb->world);
    if (sb->world_page != NULL)
        munmap(sb->world_page, GLINT_WORLD_SIZE); /* teardown: not counted */
    sb->world_page = NULL;
}

glint_status glint_sandbox_pin_time(glint_sandbox *sb, uint64_t realtime_ns,
                                    uint64_t monotonic_ns) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (glint_sb_running(sb)) return glint_sb_fail_running(sb, "glint_sandbox_pin_time");
    if (!sb->world.options.pin_time)
        return glint_sb_fail(sb, GLINT_E_STATE,
                             "glint_sandbox_pin_time needs a sandbox created with "
                             "config.pin_time");
    glint_world_pin(&sb->world, realtime_ns, monotonic_ns);
    sb->cfg.pinned_realtime_ns = realtime_ns;
    sb->cfg.pinned_monotonic_ns = monotonic_ns;
    glint_sb_world_refresh(sb);
    return GLINT_OK;
}
