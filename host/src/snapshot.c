/*
 * snapshot.c - snapshots, restore, clones and snapshot files.
 *
 * A snapshot is a sealed memfd holding the whole guest memory plus the vCPU
 * state.  Every sandbox restored to it or cloned from it maps the memfd
 * MAP_PRIVATE: clean pages are shared page-cache pages, written pages become
 * private copies.  Restore therefore is one madvise(MADV_DONTNEED) over the
 * mapping (the kernel only visits populated page tables, and frees only the
 * private copies), plus the register ioctls.  KVM's dirty log on both slots
 * counts the pages the guest wrote, for the counters.  See docs/snapshots.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "sandbox_internal.h"

#define PAGE ((uint64_t)GLINT_PAGE_SIZE)
#define SNAPSHOT_MAGIC "GLINTSNP"
#define SNAPSHOT_FORMAT_VERSION 1u
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static glint_snapshot *snapshot_alloc(void) {
    glint_snapshot *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    atomic_init(&s->refs, 1);
    s->fd = -1;
    return s;
}

void glint_snapshot_retain(glint_snapshot *snap) {
    if (snap != NULL) atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
}

void glint_snapshot_release(glint_snapshot *snap) {
    if (snap == NULL) return;
    if (atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) != 1) return;
    if (snap->fd >= 0) close(snap->fd);
    glint_snapshot_free_mappings(snap);
    free(snap->functions);
    free(snap->function_names);
    for (uint32_t i = 0; i < snap->host_function_count; i++) free(snap->host_functions[i].name);
    free(snap->host_functions);
    free(snap);
}

uint64_t glint_snapshot_memory_size(const glint_snapshot *snap) {
    return snap != NULL ? snap->mem_size : 0;
}

static bool page_is_zero(const uint8_t *p) {
    static const uint8_t zero[GLINT_PAGE_SIZE];
    return memcmp(p, zero, GLINT_PAGE_SIZE) == 0;
}

static bool write_all(int fd, const void *buf, size_t len, off_t off) {
    const uint8_t *p = buf;
    while (len != 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return true;
}

static glint_status new_image_fd(uint64_t size, int *fd_out, glint_error *err) {
    int fd = memfd_create("glint-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "memfd_create failed");
    if (ftruncate(fd, (off_t)size) != 0) {
        glint_status st = glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "sizing snapshot image");
        close(fd);
        return st;
    }
    *fd_out = fd;
    return GLINT_OK;
}

/* Copies the sandbox's memory into fd, skipping pages that are not resident
 * (holes read as zero) and pages that are all zero, so the image stays sparse
 * and untouched memory is never faulted in. */
static glint_status copy_memory(glint_sandbox *sb, int fd, uint64_t *data_pages, glint_error *err) {
    uint64_t pages = sb->mem_size / PAGE;
    unsigned char *resident = malloc(pages);
    if (resident == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    sb->counters.host_allocations++;
    if (mincore(sb->mem, sb->mem_size, resident) != 0) {
        free(resident);
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "mincore on guest memory");
    }
    *data_pages = 0;
    for (uint64_t i = 0; i < pages; i++) {
        const uint8_t *p = sb->mem + i * PAGE;
        if (!(resident[i] & 1) || page_is_zero(p)) continue;
        if (!write_all(fd, p, PAGE, (off_t)(i * PAGE))) {
            free(resident);
            return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "writing snapshot image");
        }
        (*data_pages)++;
    }
    free(resident);
    if (fcntl(fd, F_ADD_SEALS, SEALS) != 0)
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "sealing snapshot image");
    return GLINT_OK;
}

static glint_status copy_function_table(glint_snapshot *snap, const glint_function_info *fns,
                                        uint32_t count) {
    size_t names = 0;
    for (uint32_t i = 0; i < count; i++) names += strlen(fns[i].name) + 1;
    snap->functions = calloc(count ? count : 1, sizeof *snap->functions);
    snap->function_names = calloc(names ? names : 1, 1);
    if (snap->functions == NULL || snap->function_names == NULL) return GLINT_E_NO_MEMORY;
    char *p = snap->function_names;
    for (uint32_t i = 0; i < count; i++) {
        size_t n = strlen(fns[i].name) + 1;
        memcpy(p, fns[i].name, n);
        snap->functions[i] = fns[i];
        snap->functions[i].name = p;
        p += n;
    }
    snap->function_count = count;
    snap->function_names_size = names;
    return GLINT_OK;
}

static glint_status copy_host_functions(glint_host_function **dst, uint32_t *dst_count,
                                        const glint_host_function *src, uint32_t count) {
    if (count == 0) return GLINT_OK;
    glint_host_function *fns = calloc(count, sizeof *fns);
    if (fns == NULL) return GLINT_E_NO_MEMORY;
    for (uint32_t i = 0; i < count; i++) {
        fns[i] = src[i];
        fns[i].name = strdup(src[i].name);
        if (fns[i].name == NULL) {
            for (uint32_t j = 0; j < i; j++) free(fns[j].name);
            free(fns);
            return GLINT_E_NO_MEMORY;
        }
    }
    *dst = fns;
    *dst_count = count;
    return GLINT_OK;
}

/* Points the sandbox's private mapping at a new image. */
static glint_status remap_onto(glint_sandbox *sb, glint_snapshot *snap) {
    void *p = mmap(sb->mem, sb->mem_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, snap->fd, 0);
    sb->counters.syscalls_other++;
    if (p == MAP_FAILED) {
        /* The old mapping is gone or intact; either way the memory is not
         * what the sandbox expects: poison. */
        glint_sb_fail(sb, GLINT_E_NO_MEMORY, "remapping guest memory failed: %s", strerror(errno));
        return glint_sb_poison(sb);
    }
    if (sb->backing != NULL)
        glint_snapshot_release(sb->backing);
    else if (sb->image_fd >= 0)
        close(sb->image_fd);
    glint_snapshot_retain(snap);
    sb->backing = snap;
    sb->image_fd = snap->fd;
    return GLINT_OK;
}

static uint64_t popcount_words(const uint64_t *w, uint64_t n) {
    uint64_t c = 0;
    for (uint64_t i = 0; i < n; i++) c += (uint64_t)__builtin_popcountll(w[i]);
    return c;
}

/* Collects what the guest dirtied since the last call, adds the input
 * pages only the host wrote (KVM logs guest writes only; the input buffer
 * starts the scratch slot), counts the pages and clears the bitmaps. */
static glint_status count_dirty_pages(glint_sandbox *sb, uint64_t *pages) {
    glint_status st =
        sb->hv_ops->collect_dirty(sb->hv, sb->dirty_bitmaps, sb->dirty_pages, 2, &sb->last_error);
    if (st != GLINT_OK) return st;
    uint64_t host_pages = (sb->host_dirty_input + PAGE - 1u) / PAGE;
    uint64_t *scratch = sb->dirty_bitmaps[GLINT_SLOT_SCRATCH];
    for (uint64_t i = 0; i < host_pages; i++) scratch[i / 64] |= 1ull << (i % 64);
    uint64_t count = 0;
    for (uint32_t slot = 0; slot < 2; slot++) {
        uint64_t words = (sb->dirty_pages[slot] + 63u) / 64u;
        count += popcount_words(sb->dirty_bitmaps[slot], words);
        memset(sb->dirty_bitmaps[slot], 0, words * sizeof(uint64_t));
    }
    sb->host_dirty_input = 0;
    *pages = count;
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
    glint_snapshot *snap = snapshot_alloc();
    if (snap == NULL) return glint_sb_fail(sb, GLINT_E_NO_MEMORY, "out of memory");
    sb->counters.host_allocations++;
    /* Finish the DONE OUT so the saved RIP is past it. */
    if ((st = sb->hv_ops->complete_pending(sb->hv, &sb->last_error)) != GLINT_OK) goto fail;
    if ((st = sb->hv_ops->save_state(sb->hv, &snap->vcpu, &sb->last_error)) != GLINT_OK) goto fail;
    if ((st = new_image_fd(sb->mem_size, &snap->fd, &sb->last_error)) != GLINT_OK) goto fail;
    if ((st = copy_memory(sb, snap->fd, &snap->data_pages, &sb->last_error)) != GLINT_OK) goto fail;
    snap->mem_size = sb->mem_size;
    snap->layout = sb->layout;
    snap->cfg = sb->cfg;
    snap->elf_hash = sb->elf_hash;
    snap->pt_used = sb->pt_used;
    if (glint_sb_snapshot_mappings(sb, snap) != GLINT_OK) {
        st = glint_sb_fail(sb, GLINT_E_NO_MEMORY, "duplicating mapping descriptors failed");
        goto fail;
    }
    /* Tables and names: the function table and its names, and (only when
     * there are host functions: copy_host_functions allocates nothing for
     * none) the host-function table and one name each. */
    sb->counters.host_allocations +=
        2u + (sb->host_function_count != 0 ? 1u + sb->host_function_count : 0u);
    if (copy_function_table(snap, sb->functions, sb->function_count) != GLINT_OK ||
        copy_host_functions(&snap->host_functions, &snap->host_function_count, sb->host_functions,
                            sb->host_function_count) != GLINT_OK) {
        st = glint_sb_fail(sb, GLINT_E_NO_MEMORY, "out of memory");
        goto fail;
    }
    /* Run on top of the snapshot from now on: the sandbox's private pages
     * are dropped and its memory is shared with the snapshot. */
    if ((st = remap_onto(sb, snap)) != GLINT_OK) goto fail;
    uint64_t ignored;
    if ((st = count_dirty_pages(sb, &ignored)) != GLINT_OK) goto fail;
    *out = snap;
    return GLINT_OK;
fail:
    glint_snapshot_release(snap);
    return st;
}

static glint_status check_compatible(glint_sandbox *sb, const glint_snapshot *snap) {
    if (snap->elf_hash != sb->elf_hash)
        return glint_sb_fail(sb, GLINT_E_SNAPSHOT_MISMATCH,
                             "snapshot is of another guest binary (hash %016" PRIx64
                             ", sandbox %016" PRIx64 ")",
                             snap->elf_hash, sb->elf_hash);
    if (memcmp(&snap->layout, &sb->layout, sizeof snap->layout) != 0)
        return glint_sb_fail(sb, GLINT_E_SNAPSHOT_MISMATCH,
                             "snapshot has another memory layout (sizes differ)");
    return GLINT_OK;
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
    if ((st = count_dirty_pages(sb, &pages)) != GLINT_OK) return glint_sb_poison(sb);
    if (sb->backing != snap) {
        if ((st = remap_onto(sb, snap)) != GLINT_OK) return st;
    } else {
        sb->counters.syscalls_other++;
        if (madvise(sb->mem, sb->mem_size, MADV_DONTNEED) != 0) {
            glint_sb_fail(sb, GLINT_E_NO_MEMORY, "madvise(MADV_DONTNEED) failed: %s",
                          strerror(errno));
            return glint_sb_poison(sb);
        }
    }
    if ((st = sb->hv_ops->restore_state(sb->hv, &snap->vcpu, &sb->last_error)) != GLINT_OK)
        return glint_sb_poison(sb);
    sb->pt_used = snap->pt_used;
    if (sb->mapping_count != 0 || snap->mapping_count != 0) {
        if ((st = glint_sb_restore_mappings(sb, snap)) != GLINT_OK) return glint_sb_poison(sb);
    }
    if (!(sb->functions_borrowed && sb->functions == snap->functions)) {
        glint_sb_free_functions(sb);
        sb->functions = snap->functions;
        sb->function_names = snap->function_names;
        sb->function_count = snap->function_count;
        sb->functions_borrowed = true;
    }
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
    glint_status st;
    glint_sandbox *sb = calloc(1, sizeof *sb);
    if (sb == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    sb->counters.host_allocations = 1;
    sb->image_fd = -1;
    sb->cfg = snap->cfg;
    if (cfg != NULL) {
        sb->cfg.log_fn = cfg->log_fn;
        sb->cfg.print_fn = cfg->print_fn;
        sb->cfg.callback_user = cfg->callback_user;
        sb->cfg.log_level = cfg->log_level;
        sb->cfg.call_deadline_ns = cfg->call_deadline_ns;
        sb->cfg.cancel_signal = cfg->cancel_signal;
    }
    sb->layout = snap->layout;
    sb->elf_hash = snap->elf_hash;
    sb->hv_ops = &glint_hv_kvm_ops;
    sb->host_call.sandbox = sb;
    sb->cancel_signal = sb->cfg.cancel_signal != 0 ? sb->cfg.cancel_signal : SIGRTMIN + 3;
    if ((unsigned)sb->cfg.log_level > GLINT_LOG_OFF || sb->cancel_signal < SIGRTMIN ||
        sb->cancel_signal > SIGRTMAX) {
        st = glint_fail(err, GLINT_E_INVALID_ARGUMENT, "bad log_level or cancel_signal");
        goto fail;
    }
    glint_snapshot_retain(snap);
    sb->backing = snap;
    sb->image_fd = snap->fd;
    if (copy_host_functions(&sb->host_functions, &sb->host_function_count, snap->host_functions,
                            snap->host_function_count) != GLINT_OK) {
        st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
        goto fail;
    }
    sb->host_function_cap = sb->host_function_count;
    if ((st = sb->hv_ops->create(&sb->hv, err)) != GLINT_OK) goto fail;
    sb->counters.host_allocations +=
        1u + (sb->host_function_count ? 1u + sb->host_function_count : 0u);
    sb->counters.syscalls_other++; /* the backend's kvm_run mapping */
    if ((st = glint_sb_map_memory(sb, snap->fd, err)) != GLINT_OK) goto fail;
    if ((st = sb->hv_ops->restore_state(sb->hv, &snap->vcpu, err)) != GLINT_OK) goto fail;
    sb->pt_used = snap->pt_used;
    if (snap->mapping_count != 0 && glint_sb_restore_mappings(sb, snap) != GLINT_OK) {
        st = GLINT_E_MAPPING;
        if (err != NULL) *err = sb->last_error;
        goto fail;
    }
    if ((st = glint_sb_install_cancel_handler(sb->cancel_signal, err)) != GLINT_OK) goto fail;
    sb->functions = snap->functions;
    sb->function_names = snap->function_names;
    sb->function_count = snap->function_count;
    sb->functions_borrowed = true;
    sb->state = GLINT_STATE_READY;
    sb->cloned = true;
    uint64_t ignored;
    if ((st = count_dirty_pages(sb, &ignored)) != GLINT_OK) {
        if (err != NULL) *err = sb->last_error;
        goto fail;
    }
    *out = sb;
    return GLINT_OK;
fail:
    glint_sandbox_destroy(sb);
    return st;
}
