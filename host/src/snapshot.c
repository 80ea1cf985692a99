/*
 * snapshot.c - snapshots, restore and clones.
 *
 * A snapshot holds an image (image.h: a sealed memfd with the whole guest
 * memory, its layout and function table) plus the vCPU state, the host
 * functions and the mapping table.  Every sandbox restored to it or cloned
 * from it maps the image's memfd MAP_PRIVATE: clean pages are shared
 * page-cache pages, written pages become private copies.  Restore therefore
 * is one madvise(MADV_DONTNEED) over the mapping (the kernel only visits
 * populated page tables, and frees only the private copies), plus the
 * register ioctls.  See docs/snapshots.md.
 *
 * Which pages a snapshot must copy: those the current image holds (the
 * memfd's data extents, SEEK_DATA/SEEK_HOLE: resident or swapped out alike)
 * and those written since the memory last equalled the image, by the guest
 * (KVM's dirty log) or by the host (gmem's record).  Every other page is a
 * hole in both and reads as zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fileio.h"
#include "layout.h"
#include "sandbox_internal.h"

glint_snapshot *glint_snapshot_alloc(glint_counters *c) {
    glint_snapshot *s = glint_counted_calloc(c, 1, sizeof *s);
    if (s == NULL) return NULL;
    atomic_init(&s->refs, 1);
    return s;
}

void glint_snapshot_retain(glint_snapshot *snap) {
    if (snap != NULL) atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
}

void glint_snapshot_release(glint_snapshot *snap) {
    if (snap == NULL) return;
    if (atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) != 1) return;
    glint_image_release(snap->image);
    glint_mapping_table_free(&snap->mappings);
    glint_host_function_table_free(&snap->host_functions);
    free(snap);
}

uint64_t glint_snapshot_memory_size(const glint_snapshot *snap) {
    return snap != NULL && snap->image != NULL ? snap->image->mem_size : 0;
}

static bool page_is_zero(const uint8_t *p) {
    static const uint8_t zero[GLINT_PAGE_SIZE];
    return memcmp(p, zero, GLINT_PAGE_SIZE) == 0;
}

static bool bit(const uint64_t *bits, uint64_t i) { return (bits[i / 64u] >> (i % 64u)) & 1u; }

/* Collects the guest's writes into dirty_bitmaps (cumulative). */
static glint_status collect_guest_writes(glint_sandbox *sb) {
    return sb->hv_ops->collect_dirty(sb->hv, sb->dirty_bitmaps, sb->dirty_pages, 2,
                                     &sb->last_error);
}

glint_status glint_sb_reset_dirty(glint_sandbox *sb, uint64_t *pages) {
    glint_status st = collect_guest_writes(sb);
    if (st != GLINT_OK) return st;
    uint64_t count = 0;
    for (uint32_t slot = 0; slot < 2; slot++) {
        uint64_t words = (sb->dirty_pages[slot] + 63u) / 64u;
        for (uint64_t w = 0; w < words; w++) {
            count += (uint64_t)__builtin_popcountll(sb->dirty_bitmaps[slot][w] |
                                                    sb->host_dirty[slot][w]);
        }
        memset(sb->dirty_bitmaps[slot], 0, words * sizeof(uint64_t));
        memset(sb->host_dirty[slot], 0, words * sizeof(uint64_t));
    }
    if (pages != NULL) *pages = count;
    return GLINT_OK;
}

/* Walks the data extents of a memfd page by page (SEEK_DATA/SEEK_HOLE). */
typedef struct extent_cursor {
    int fd;
    uint64_t size;
    uint64_t data; /* current extent [data, hole); data == size: no more */
    uint64_t hole;
} extent_cursor;

static bool extent_contains(extent_cursor *c, uint64_t off) {
    while (off >= c->hole && c->data < c->size) {
        off_t d = lseek(c->fd, (off_t)off, SEEK_DATA);
        if (d < 0) { /* ENXIO: no data at or after off */
            c->data = c->hole = c->size;
            break;
        }
        off_t h = lseek(c->fd, d, SEEK_HOLE);
        c->data = (uint64_t)d;
        c->hole = h < 0 ? c->size : (uint64_t)h;
    }
    return off >= c->data && off < c->hole;
}

/* Copies the sandbox's memory into the new image, page by page where the
 * page may hold data (see the top of this file), skipping zero pages so the
 * image stays sparse. */
static glint_status copy_memory(glint_sandbox *sb, glint_image *img) {
    glint_status st = collect_guest_writes(sb);
    if (st != GLINT_OK) return st;
    extent_cursor cur = {sb->image->fd, sb->mem_size, 0, 0};
    uint64_t snapshot_pages = sb->dirty_pages[GLINT_SLOT_SNAPSHOT];
    uint64_t pages = sb->mem_size / GLINT_PAGE;
    img->data_pages = 0;
    for (uint64_t i = 0; i < pages; i++) {
        uint32_t slot = i < snapshot_pages ? GLINT_SLOT_SNAPSHOT : GLINT_SLOT_SCRATCH;
        uint64_t index = i < snapshot_pages ? i : i - snapshot_pages;
        bool written = bit(sb->dirty_bitmaps[slot], index) || bit(sb->host_dirty[slot], index);
        if (!written && !extent_contains(&cur, i * GLINT_PAGE)) continue;
        const uint8_t *p = sb->mem + i * GLINT_PAGE;
        if (page_is_zero(p)) continue;
        if (!glint_pwrite_all(img->fd, p, GLINT_PAGE, (off_t)(i * GLINT_PAGE)))
            return glint_sb_fail(sb, GLINT_E_NO_MEMORY, "writing snapshot image: %s",
                                 strerror(errno));
        img->data_pages++;
    }
    return GLINT_OK;
}

glint_status glint_sandbox_snapshot(glint_sandbox *sb, glint_snapshot **out) {
    if (sb == NULL || out == NULL) return GLINT_E_INVALID_ARGUMENT;
    *out = NULL;
    if (glint_sb_running(sb)) return glint_sb_fail_running(sb, "glint_sandbox_snapshot");
    if (sb->state != GLINT_STATE_READY)
        return glint_sb_fail(sb, GLINT_E_STATE, "snapshot needs an initialised sandbox");
    if (sb->poisoned)
        return glint_sb_fail(sb, GLINT_E_POISONED, "cannot snapshot a poisoned sandbox");
    glint_status st;
    glint_image *img = NULL;
    glint_snapshot *snap = glint_snapshot_alloc(&sb->counters);
    if (snap == NULL) return glint_sb_fail(sb, GLINT_E_NO_MEMORY, "out of memory");
    /* Finish the DONE OUT so the saved RIP is past it. */
    if ((st = sb->hv_ops->complete_pending(sb->hv, &sb->last_error)) != GLINT_OK) goto fail;
    if ((st = sb->hv_ops->save_state(sb->hv, &snap->vcpu, &sb->last_error)) != GLINT_OK) goto fail;
    st = glint_image_new(&sb->counters, &sb->layout, sb->image->elf_hash, &img, &sb->last_error);
    if (st != GLINT_OK) goto fail;
    if ((st = copy_memory(sb, img)) != GLINT_OK) goto fail;
    if ((st = glint_image_seal(img, &sb->last_error)) != GLINT_OK) goto fail;
    img->functions = glint_function_table_retain(sb->functions);
    img->pt_pool = sb->pt_pool;
    glint_image_inherit(img, sb->image); /* symbols and name, for crash reports */
    snap->image = glint_image_retain(img);
    snap->cfg = sb->cfg;
    glint_sb_world_snapshot(sb, snap);
    snap->cfg.log_level = (glint_log_level)sb->peb_log_level; /* what its PEB holds */
    if (glint_mapping_table_copy(&snap->mappings, &sb->mappings) != GLINT_OK) {
        st = glint_sb_fail(sb, GLINT_E_NO_MEMORY, "duplicating mapping descriptors failed");
        goto fail;
    }
    if (glint_host_function_table_copy(&sb->counters, &snap->host_functions, &sb->host_functions) !=
        GLINT_OK) {
        st = glint_sb_fail(sb, GLINT_E_NO_MEMORY, "out of memory");
        goto fail;
    }
    /* Run on top of the snapshot from now on: the sandbox's private pages
     * are dropped and its memory is shared with the snapshot. */
    if ((st = glint_sb_switch_image(sb, img)) != GLINT_OK) goto fail;
    if ((st = glint_sb_reset_dirty(sb, NULL)) != GLINT_OK) goto fail;
    glint_image_release(img);
    *out = snap;
    return GLINT_OK;
fail:
    glint_image_release(img);
    glint_snapshot_release(snap);
    return st;
}

static glint_status check_compatible(glint_sandbox *sb, const glint_snapshot *snap) {
    if (snap->image->elf_hash != sb->image->elf_hash)
        return glint_sb_fail(sb, GLINT_E_SNAPSHOT_MISMATCH,
                             "snapshot is of another guest binary (hash %016" PRIx64
                             ", sandbox %016" PRIx64 ")",
                             snap->image->elf_hash, sb->image->elf_hash);
    if (memcmp(&snap->image->layout, &sb->layout, sizeof sb->layout) != 0)
        return glint_sb_fail(sb, GLINT_E_SNAPSHOT_MISMATCH,
                             "snapshot has another memory layout (sizes differ)");
    return GLINT_OK;
}

/* What a sandbox takes over from the snapshot it now runs on. */
static glint_status adopt(glint_sandbox *sb, const glint_snapshot *snap) {
    glint_status st;
    sb->pt_pool = snap->image->pt_pool;
    if (sb->mappings.count != 0 || snap->mappings.count != 0) {
        if ((st = glint_filemap_restore(sb, &snap->mappings)) != GLINT_OK) return st;
    }
    glint_sb_set_functions(sb, snap->image->functions);
    sb->peb_log_level = (uint32_t)snap->cfg.log_level;
    return glint_sb_sync_log_level(sb);
}

glint_status glint_sandbox_restore(glint_sandbox *sb, glint_snapshot *snap) {
    if (sb == NULL || snap == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (glint_sb_running(sb)) return glint_sb_fail_running(sb, "glint_sandbox_restore");
    GLINT_TRACE_RESTORE_START(sb, snap);
    glint_status st = check_compatible(sb, snap);
    if (st != GLINT_OK) return st;
    glint_counters before;
    glint_sandbox_counters(sb, &before);
    /* A run that ended inside an I/O exit leaves a completion pending in
     * KVM; finish it now so it can't act on the restored registers. */
    if (sb->pending_io) {
        if ((st = sb->hv_ops->complete_pending(sb->hv, &sb->last_error)) != GLINT_OK)
            return glint_sb_poison(sb);
        sb->pending_io = false;
    }
    uint64_t pages = 0;
    if ((st = glint_sb_reset_dirty(sb, &pages)) != GLINT_OK) return glint_sb_poison(sb);
    if (sb->image != snap->image) {
        if ((st = glint_sb_switch_image(sb, snap->image)) != GLINT_OK) return st;
    } else if (glint_counted_madvise(&sb->counters, sb->mem, sb->mem_size, MADV_DONTNEED) != 0) {
        return glint_sb_fail_poison(sb, GLINT_E_NO_MEMORY, "madvise(MADV_DONTNEED) failed: %s",
                                    strerror(errno));
    }
    if ((st = sb->hv_ops->restore_state(sb->hv, &snap->vcpu, &sb->last_error)) != GLINT_OK)
        return glint_sb_poison(sb);
    if ((st = adopt(sb, snap)) != GLINT_OK) return glint_sb_poison(sb);
    /* A new entropy generation: the guest reseeds before its next draw. */
    glint_sb_world_restored(sb, snap);
    sb->state = GLINT_STATE_READY;
    sb->poisoned = false;
    glint_error_clear(&sb->last_error);
    glint_counters after;
    glint_sandbox_counters(sb, &after);
    sb->counters.restores++;
    sb->counters.last_restore_pages_reset = pages;
    sb->counters.last_restore_bytes_copied = 0;
    sb->counters.last_restore_syscalls =
        (after.ioctls_other - before.ioctls_other) + (after.syscalls_other - before.syscalls_other);
    GLINT_TRACE_RESTORE_END(sb, snap, pages);
    return GLINT_OK;
}

glint_status glint_sandbox_create_from_snapshot(glint_snapshot *snap, const glint_config *cfg,
                                                glint_sandbox **out, glint_error *err) {
    glint_error_clear(err);
    if (out == NULL || snap == NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "NULL snapshot or out");
    *out = NULL;
    /* Sizes come from the snapshot; callbacks, log level, deadline and
     * cancel signal from the caller. */
    glint_config merged = snap->cfg;
    if (cfg != NULL) {
        merged.log_fn = cfg->log_fn;
        merged.print_fn = cfg->print_fn;
        merged.callback_user = cfg->callback_user;
        merged.log_level = cfg->log_level;
        merged.call_deadline_ns = cfg->call_deadline_ns;
        merged.cancel_signal = cfg->cancel_signal;
        merged.pin_time = cfg->pin_time;
        merged.pinned_realtime_ns = cfg->pinned_realtime_ns;
        merged.pinned_monotonic_ns = cfg->pinned_monotonic_ns;
        merged.fixed_entropy = cfg->fixed_entropy;
        memcpy(merged.entropy_seed, cfg->entropy_seed, sizeof merged.entropy_seed);
        merged.max_call_depth = cfg->max_call_depth;
        merged.core_dir = cfg->core_dir;
        merged.core_max_size = cfg->core_max_size;
    }
    glint_config check = merged;
    check.init_data_size = 0; /* already in the image */
    glint_status st = glint_config_validate(&check, err);
    if (st != GLINT_OK) return st;
    glint_sandbox *sb = glint_sb_alloc(&merged);
    if (sb == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    if (glint_host_function_table_copy(&sb->counters, &sb->host_functions, &snap->host_functions) !=
        GLINT_OK) {
        st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
        goto fail;
    }
    if ((st = glint_sb_attach_image(sb, snap->image, err)) != GLINT_OK) goto fail;
    if ((st = sb->hv_ops->restore_state(sb->hv, &snap->vcpu, err)) != GLINT_OK) goto fail;
    /* The memory equals the image: start the written-pages record here, so
     * that adopt's writes (the log level) are in it. */
    if ((st = glint_sb_reset_dirty(sb, NULL)) != GLINT_OK) goto fail_sb;
    if ((st = adopt(sb, snap)) != GLINT_OK) goto fail_sb;
    /* Its own world page: a new vCPU, a new entropy generation, the clock
     * never earlier than the snapshot's. */
    st = glint_sb_world_attach(sb, snap->world_mono_offset, snap->world_mono_floor_ns, err);
    if (st != GLINT_OK) goto fail;
    sb->state = GLINT_STATE_READY;
    sb->cloned = true;
    *out = sb;
    return GLINT_OK;
fail_sb:
    if (err != NULL) *err = sb->last_error;
fail:
    glint_sandbox_destroy(sb);
    return st;
}
