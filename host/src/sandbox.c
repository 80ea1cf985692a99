/*
 * sandbox.c - sandbox lifecycle and configuration: create (from an ELF file
 * or buffer), initialise, destroy, errors and introspection.  The run loop
 * is in sandbox_run.c, cancellation in sandbox_cancel.c, the memory a
 * sandbox maps in image.c.
 *
 * Memory: the sandbox maps its image's memfd MAP_PRIVATE, so guest (and
 * host) writes land in private copy-on-write pages and the image stays the
 * pristine memory that snapshots and restores build on.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu.h"
#include "elf_loader.h"
#include "fileio.h"
#include "layout.h"
#include "sandbox_internal.h"

#define MAX_ELF_FILE_SIZE (GLINT_ELF_MAX_IMAGE_SIZE + (64ull << 20))

void glint_config_init(glint_config *cfg) {
    if (cfg == NULL) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->input_size = GLINT_DEFAULT_INPUT_SIZE;
    cfg->output_size = GLINT_DEFAULT_OUTPUT_SIZE;
    cfg->heap_size = GLINT_DEFAULT_HEAP_SIZE;
    cfg->scratch_size = GLINT_DEFAULT_SCRATCH_SIZE;
    cfg->init_data_perms = GLINT_PERM_READ;
    cfg->log_level = GLINT_LOG_INFO;
    cfg->memory_cap = 16ull << 30;
    cfg->max_call_depth = GLINT_DEFAULT_MAX_CALL_DEPTH;
}

/* ---- Errors ----------------------------------------------------------- */

glint_status glint_sb_fail(glint_sandbox *sb, glint_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    glint_vfail(&sb->last_error, code, fmt, ap);
    va_end(ap);
    return code;
}

glint_status glint_sb_poison(glint_sandbox *sb) {
    sb->poisoned = true;
    return sb->last_error.code;
}

glint_status glint_sb_fail_poison(glint_sandbox *sb, glint_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    glint_vfail(&sb->last_error, code, fmt, ap);
    va_end(ap);
    return glint_sb_poison(sb);
}

const glint_error *glint_sandbox_last_error(const glint_sandbox *sb) {
    static const glint_error null_sandbox = {.code = GLINT_E_INVALID_ARGUMENT,
                                             .message = "NULL sandbox"};
    return sb != NULL ? &sb->last_error : &null_sandbox;
}

bool glint_sandbox_is_poisoned(const glint_sandbox *sb) { return sb == NULL || sb->poisoned; }

/* ---- Configuration ------------------------------------------------------ */

glint_status glint_config_validate(const glint_config *c, glint_error *err) {
    if (c->init_data_size != 0 && c->init_data == NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT,
                          "init_data is NULL but init_data_size is %" PRIu64, c->init_data_size);
    if (c->init_data_perms & ~(GLINT_PERM_READ | GLINT_PERM_WRITE | GLINT_PERM_EXEC))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "init_data_perms has unknown bits 0x%x",
                          c->init_data_perms);
    if ((unsigned)c->log_level > GLINT_LOG_OFF)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "log_level %d out of range",
                          (int)c->log_level);
    if (c->memory_cap == 0) return glint_fail(err, GLINT_E_TOO_SMALL, "memory_cap is 0");
    if (c->core_dir != NULL && c->core_dir[0] == '\0')
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "core_dir is empty (NULL: no core files)");
    if (c->memory_cap > 2 * GLINT_MAX_MEMORY_SIZE)
        return glint_fail(err, GLINT_E_TOO_BIG, "memory_cap %" PRIu64 " exceeds %llu",
                          c->memory_cap, (unsigned long long)(2 * GLINT_MAX_MEMORY_SIZE));
    if ((c->init_data_perms & GLINT_PERM_WRITE) && (c->init_data_perms & GLINT_PERM_EXEC))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT,
                          "init_data_perms: init data cannot be writable and executable (W^X)");
    if (c->max_call_depth > GLINT_MAX_CALL_DEPTH_LIMIT)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "max_call_depth %u exceeds %u",
                          c->max_call_depth, GLINT_MAX_CALL_DEPTH_LIMIT);
    if (c->cancel_signal != 0 && (c->cancel_signal < SIGRTMIN || c->cancel_signal > SIGRTMAX))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT,
                          "cancel_signal %d is not a real-time signal (%d..%d)", c->cancel_signal,
                          SIGRTMIN, SIGRTMAX);
    return GLINT_OK;
}

/* ---- Creation ---------------------------------------------------------- */

glint_sandbox *glint_sb_alloc(const glint_config *cfg) {
    glint_counters counted = {0};
    glint_sandbox *sb = glint_counted_calloc(&counted, 1, sizeof *sb);
    if (sb == NULL) return NULL;
    sb->counters = counted;
    sb->cfg = *cfg;
    sb->cfg.init_data = NULL; /* copied into the image; never kept */
    /* The caller's string may go away: keep a copy, and no pointer in cfg
     * (snapshots copy cfg and outlive the sandbox). */
    sb->cfg.core_dir = NULL;
    if (cfg->core_dir != NULL) {
        sb->core_dir = glint_counted_strdup(&sb->counters, cfg->core_dir);
        if (sb->core_dir == NULL) {
            free(sb);
            return NULL;
        }
    }
    sb->hv_ops = &glint_hv_kvm_ops;
    int sig = cfg->cancel_signal != 0 ? cfg->cancel_signal : glint_default_cancel_signal();
    sb->cancel = glint_kill_handle_new(&sb->counters, sig);
    if (sb->cancel == NULL) {
        free(sb);
        return NULL;
    }
    return sb;
}

static glint_status map_memory(glint_sandbox *sb, glint_error *err) {
    const glint_layout_info *l = &sb->layout;
    sb->mem_size = l->total_size;
    sb->mem = glint_counted_mmap(&sb->counters, NULL, sb->mem_size, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_NORESERVE, sb->image->fd, 0);
    if (sb->mem == MAP_FAILED) {
        sb->mem = NULL;
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "mapping guest memory");
    }
    sb->dirty_pages[GLINT_SLOT_SNAPSHOT] = l->snapshot_size / GLINT_PAGE;
    sb->dirty_pages[GLINT_SLOT_SCRATCH] = l->scratch_size / GLINT_PAGE;
    for (uint32_t i = 0; i < 2; i++) {
        size_t words = (sb->dirty_pages[i] + 63u) / 64u;
        sb->dirty_bitmaps[i] = glint_counted_calloc(&sb->counters, words, sizeof(uint64_t));
        sb->host_dirty[i] = glint_counted_calloc(&sb->counters, words, sizeof(uint64_t));
        if (sb->dirty_bitmaps[i] == NULL || sb->host_dirty[i] == NULL)
            return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    }
    sb->gmem = (glint_gmem){
        .host = sb->mem,
        .snapshot_gpa = l->snapshot_gpa,
        .snapshot_size = l->snapshot_size,
        .scratch_gpa = l->scratch_gpa,
        .scratch_size = l->scratch_size,
        .host_dirty = {sb->host_dirty[0], sb->host_dirty[1]},
    };
    sb->input = glint_gmem_span(&sb->gmem, l->input_gpa, l->input_size);
    sb->output = glint_gmem_span(&sb->gmem, l->output_gpa, l->output_size);
    if (sb->input == NULL || sb->output == NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "I/O buffers outside guest memory");
    glint_status st = sb->hv_ops->map(sb->hv, GLINT_SLOT_SNAPSHOT, l->snapshot_gpa,
                                      l->snapshot_size, sb->mem, GLINT_HV_MAP_LOG_DIRTY, err);
    if (st != GLINT_OK) return st;
    return sb->hv_ops->map(sb->hv, GLINT_SLOT_SCRATCH, l->scratch_gpa, l->scratch_size,
                           sb->mem + l->snapshot_size, GLINT_HV_MAP_LOG_DIRTY, err);
}

glint_status glint_sb_attach_image(glint_sandbox *sb, glint_image *image, glint_error *err) {
    sb->image = glint_image_retain(image);
    sb->layout = image->layout;
    sb->pt_pool = image->pt_pool;
    glint_status st;
    if ((st = glint_sb_install_cancel_handler(sb->cancel->cancel_signal, err)) != GLINT_OK)
        return st;
    if ((st = sb->hv_ops->create(&sb->hv, err)) != GLINT_OK) return st;
    if ((st = map_memory(sb, err)) != GLINT_OK) return st;
    glint_peb peb;
    if (!glint_gmem_read(&sb->gmem, sb->layout.peb_gpa, &peb, sizeof peb))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "PEB outside guest memory");
    sb->peb_log_level = peb.log_level;
    return GLINT_OK;
}

glint_status glint_sb_switch_image(glint_sandbox *sb, glint_image *image) {
    void *p = glint_counted_mmap(&sb->counters, sb->mem, sb->mem_size, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, image->fd, 0);
    if (p == MAP_FAILED)
        /* The old mapping is gone or intact; either way the memory is not
         * what the sandbox expects. */
        return glint_sb_fail_poison(sb, GLINT_E_NO_MEMORY, "remapping guest memory failed: %s",
                                    strerror(errno));
    glint_image *old = sb->image;
    sb->image = glint_image_retain(image);
    glint_image_release(old);
    return GLINT_OK;
}

void glint_sb_set_functions(glint_sandbox *sb, glint_function_table *t) {
    glint_function_table *old = sb->functions;
    sb->functions = glint_function_table_retain(t);
    glint_function_table_release(old);
}

glint_status glint_sb_sync_log_level(glint_sandbox *sb) {
    uint32_t level = (uint32_t)sb->cfg.log_level;
    if (sb->peb_log_level == level) return GLINT_OK;
    /* One host-written PEB page; the guest reads the level on every record. */
    if (!glint_gmem_write(&sb->gmem, sb->layout.peb_gpa + offsetof(glint_peb, log_level), &level,
                          sizeof level))
        return glint_sb_fail_poison(sb, GLINT_E_INVALID_ARGUMENT, "PEB outside guest memory");
    sb->peb_log_level = level;
    return GLINT_OK;
}

/* name: the guest's file (core files are named after it), or NULL. */
static glint_status create_from_memory(const glint_config *cfg, const void *elf_data,
                                       size_t elf_size, const char *name, glint_sandbox **out,
                                       glint_error *err) {
    glint_config defaults;
    glint_elf_info elf;
    glint_layout_info layout;
    glint_status st;
    glint_error_clear(err);
    if (out == NULL) return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    if (elf_data == NULL) return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "ELF buffer is NULL");
    if (cfg == NULL) {
        glint_config_init(&defaults);
        cfg = &defaults;
    }
    if ((st = glint_config_validate(cfg, err)) != GLINT_OK) return st;
    if ((st = glint_elf_parse(elf_data, elf_size, &elf, err)) != GLINT_OK) return st;
    const glint_layout_params lp = {
        .image_size = elf.image_size,
        .entry = elf.entry,
        .heap_size = cfg->heap_size,
        .init_data_size = cfg->init_data_size,
        .input_size = cfg->input_size,
        .output_size = cfg->output_size,
        .scratch_size = cfg->scratch_size,
        .memory_cap = cfg->memory_cap,
    };
    if ((st = glint_layout_compute(&lp, &layout, err)) != GLINT_OK) return st;

    glint_sandbox *sb = glint_sb_alloc(cfg);
    if (sb == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    glint_image *image = NULL;
    st =
        glint_image_build(&sb->counters, &layout, &elf, elf_data, elf_size, name, cfg, &image, err);
    if (st == GLINT_OK) st = glint_sb_attach_image(sb, image, err);
    glint_image_release(image); /* the sandbox holds its own reference */
    if (st != GLINT_OK) goto fail;
    glint_cpu_entry entry;
    glint_cpu_entry_state(&entry, sb->layout.cpu_tables_gpa, sb->layout.page_tables_gpa,
                          sb->layout.entry_gpa, sb->layout.stack_gpa + sb->layout.stack_size,
                          sb->layout.peb_gpa, GLINT_ABI_VERSION);
    if ((st = sb->hv_ops->set_entry(sb->hv, &entry, err)) != GLINT_OK) goto fail;
    if ((st = glint_sb_world_attach(sb, 0, 0, err)) != GLINT_OK) goto fail;
    sb->state = GLINT_STATE_CREATED;
    *out = sb;
    return GLINT_OK;
fail:
    glint_sandbox_destroy(sb);
    return st;
}

glint_status glint_sandbox_create_from_memory(const glint_config *cfg, const void *elf_data,
                                              size_t elf_size, glint_sandbox **out,
                                              glint_error *err) {
    return create_from_memory(cfg, elf_data, elf_size, NULL, out, err);
}

glint_status glint_sandbox_create(const glint_config *cfg, const char *elf_path,
                                  glint_sandbox **out, glint_error *err) {
    glint_error_clear(err);
    if (out != NULL) *out = NULL;
    if (elf_path == NULL) return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "elf_path is NULL");
    /* O_NONBLOCK: a FIFO must not block us; fstat rejects it below. */
    int fd = open(elf_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return glint_fail_errno(err, GLINT_E_IO, errno, "cannot open %s", elf_path);
    struct stat st;
    glint_status status;
    uint8_t *data = NULL;
    glint_counters counted = {0};
    if (fstat(fd, &st) != 0) {
        status = glint_fail_errno(err, GLINT_E_IO, errno, "cannot stat %s", elf_path);
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > MAX_ELF_FILE_SIZE) {
        status = glint_fail(err, GLINT_E_ELF, "%s is not a regular file of 1..%llu bytes", elf_path,
                            (unsigned long long)MAX_ELF_FILE_SIZE);
        goto out;
    }
    /* A private copy in memory: the file may change under us afterwards. */
    size_t size = (size_t)st.st_size;
    data = glint_counted_malloc(&counted, size);
    if (data == NULL) {
        status = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory reading %s", elf_path);
        goto out;
    }
    if (!glint_read_all(fd, data, size)) {
        status = errno != 0 ? glint_fail_errno(err, GLINT_E_IO, errno, "reading %s", elf_path)
                            : glint_fail(err, GLINT_E_IO, "%s shrank while being read", elf_path);
        goto out;
    }
    status = create_from_memory(cfg, data, size, elf_path, out, err);
    if (status == GLINT_OK) (*out)->counters.host_allocations += counted.host_allocations;
out:
    free(data);
    close(fd);
    return status;
}

void glint_sandbox_destroy(glint_sandbox *sb) {
    if (sb == NULL) return;
    glint_debug_destroy(sb);
    glint_sb_cancel_teardown(sb);
    if (sb->hv != NULL) sb->hv_ops->destroy(sb->hv);
    glint_sb_world_release(sb);
    glint_filemap_release_all(sb);
    if (sb->mem != NULL) munmap(sb->mem, sb->mem_size);
    glint_image_release(sb->image);
    glint_function_table_release(sb->functions);
    glint_host_function_table_free(&sb->host_functions);
    free(sb->core_dir);
    for (uint32_t i = 0; i < 2; i++) {
        free(sb->dirty_bitmaps[i]);
        free(sb->host_dirty[i]);
    }
    free(sb);
}

/* ---- Initialisation ----------------------------------------------------- */

glint_status glint_sandbox_initialize(glint_sandbox *sb) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (glint_sb_running(sb)) return glint_sb_fail_running(sb, "glint_sandbox_initialize");
    if (sb->poisoned)
        return glint_sb_fail(sb, GLINT_E_POISONED, "sandbox is poisoned: %s",
                             sb->last_error.message);
    if (sb->state != GLINT_STATE_CREATED)
        return glint_sb_fail(sb, GLINT_E_STATE, "sandbox is already initialised");
    glint_stack_init(sb->input, sb->layout.input_size);
    glint_stack_init(sb->output, sb->layout.output_size);
    glint_gmem_mark_written(&sb->gmem, sb->layout.input_gpa, GLINT_STACK_EMPTY);
    glint_gmem_mark_written(&sb->gmem, sb->layout.output_gpa, GLINT_STACK_EMPTY);
    glint_sb_world_refresh(sb);
    glint_status st = glint_sb_begin_run(sb);
    if (st == GLINT_OK) st = glint_sb_run_until_done(sb);
    glint_sb_end_run(sb);
    glint_function_table *table = NULL;
    if (st == GLINT_OK) st = glint_sb_read_function_table(sb, &table);
    if (st != GLINT_OK) {
        if (!sb->poisoned) glint_sb_poison(sb);
        return st;
    }
    glint_sb_set_functions(sb, table);
    glint_function_table_release(table);
    sb->state = GLINT_STATE_READY;
    glint_error_clear(&sb->last_error);
    return GLINT_OK;
}

/* ---- Introspection ------------------------------------------------------- */

const glint_function_info *glint_sandbox_find_function(const glint_sandbox *sb, const char *name) {
    return sb != NULL ? glint_function_table_find(sb->functions, name) : NULL;
}

uint32_t glint_sandbox_function_count(const glint_sandbox *sb) {
    return sb != NULL && sb->functions != NULL ? sb->functions->count : 0;
}

const glint_function_info *glint_sandbox_function(const glint_sandbox *sb, uint32_t index) {
    if (sb == NULL || sb->functions == NULL || index >= sb->functions->count) return NULL;
    return &sb->functions->entries[index];
}

void glint_sandbox_layout(const glint_sandbox *sb, glint_layout_info *out) {
    if (out == NULL) return;
    if (sb == NULL) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = sb->layout;
}

void glint_sandbox_counters(const glint_sandbox *sb, glint_counters *out) {
    if (out == NULL) return;
    memset(out, 0, sizeof *out);
    if (sb == NULL) return;
    *out = sb->counters;
    glint_hv_counters hc = {0};
    if (sb->hv != NULL) sb->hv_ops->counters(sb->hv, &hc);
    out->vm_runs = hc.runs;
    out->ioctls_other = hc.ioctls_other;
    out->syscalls_other += hc.syscalls_other;
    out->host_allocations += hc.allocations;
}
