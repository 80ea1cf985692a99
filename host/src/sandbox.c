/*
 * sandbox.c - sandbox lifecycle, the run loop and the host side of the call
 * protocol.
 *
 * Memory: the guest image is built once in a memfd; the sandbox maps it
 * MAP_PRIVATE, so guest (and host) writes land in private copy-on-write pages
 * and the memfd stays the pristine image that snapshots and restores build on.
 *
 * Hot path (glint_sandbox_call): encode the call into the input buffer, one
 * KVM_RUN per exit, decode in place.  No allocation, no syscall besides
 * KVM_RUN unless a deadline is configured (two timer syscalls).
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
#include <sys/syscall.h>
#include <unistd.h>

#include "elf_loader.h"
#include "layout.h"
#include "cpu.h"
#include "paging.h"
#include "sandbox_internal.h"

#define PAGE ((uint64_t)GLINT_PAGE_SIZE)
#define DEFAULT_CANCEL_SIGNAL_OFFSET 3
#define MAX_ELF_FILE_SIZE (GLINT_ELF_MAX_IMAGE_SIZE + (64ull << 20))

/* The sandbox running on this thread, for the cancel-signal handler. */
static _Thread_local glint_sandbox *tls_running __attribute__((tls_model("initial-exec"))) = NULL;

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
}

uint64_t glint_hash64(const void *data, size_t len, uint64_t seed) {
    /* FNV-1a; identifies a guest binary, not a security primitive. */
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void *glint_sb_calloc(glint_sandbox *sb, size_t n, size_t size) {
    sb->counters.host_allocations++;
    return calloc(n, size);
}

/* ---- Errors ----------------------------------------------------------- */

#define sb_fail glint_sb_fail
glint_status glint_sb_fail(glint_sandbox *sb, glint_status code, const char *fmt, ...) {
    glint_error *e = &sb->last_error;
    glint_error_clear(e);
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return code;
}

glint_status glint_sb_poison(glint_sandbox *sb) {
    sb->poisoned = true;
    return sb->last_error.code;
}

static glint_status sb_fail_poison(glint_sandbox *sb, glint_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static glint_status sb_fail_poison(glint_sandbox *sb, glint_status code, const char *fmt, ...) {
    glint_error *e = &sb->last_error;
    glint_error_clear(e);
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return glint_sb_poison(sb);
}

const glint_error *glint_sandbox_last_error(const glint_sandbox *sb) {
    static const glint_error null_sandbox = {.code = GLINT_E_INVALID_ARGUMENT,
                                             .message = "NULL sandbox"};
    return sb != NULL ? &sb->last_error : &null_sandbox;
}

bool glint_sandbox_is_poisoned(const glint_sandbox *sb) { return sb == NULL || sb->poisoned; }

/* ---- Cancel signal ----------------------------------------------------- */

static void cancel_signal_handler(int sig) {
    (void)sig;
    int saved = errno;
    /* Every sandbox running on this thread: the innermost one (a host
     * function may call into another sandbox) and those whose host function
     * it runs inside.  An interrupt request on a sandbox that was not meant
     * is harmless: its run loop sees neither a kill nor a passed deadline
     * and re-enters. */
    for (glint_sandbox *sb = tls_running; sb != NULL; sb = sb->tls_outer)
        sb->hv_ops->request_interrupt(sb->hv);
    errno = saved;
}

glint_status glint_sb_install_cancel_handler(int sig, glint_error *err) {
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0)
        return glint_fail_errno(err, GLINT_E_INVALID_ARGUMENT, errno, "bad cancel_signal %d", sig);
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == cancel_signal_handler) return GLINT_OK;
    if ((old.sa_flags & SA_SIGINFO) || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT,
                          "signal %d already has a handler; choose another cancel_signal", sig);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cancel_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: KVM_RUN must return EINTR */
    if (sigaction(sig, &sa, NULL) != 0)
        return glint_fail_errno(err, GLINT_E_INVALID_ARGUMENT, errno,
                                "installing the cancel handler for signal %d", sig);
    return GLINT_OK;
}

/* ---- Creation ---------------------------------------------------------- */

static glint_status validate_config(const glint_config *c, glint_error *err) {
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
    if (c->memory_cap > 2 * GLINT_MAX_MEMORY_SIZE)
        return glint_fail(err, GLINT_E_TOO_BIG, "memory_cap %" PRIu64 " exceeds %llu",
                          c->memory_cap, (unsigned long long)(2 * GLINT_MAX_MEMORY_SIZE));
    if (c->cancel_signal != 0 && (c->cancel_signal < SIGRTMIN || c->cancel_signal > SIGRTMAX))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT,
                          "cancel_signal %d is not a real-time signal (%d..%d)", c->cancel_signal,
                          SIGRTMIN, SIGRTMAX);
    return GLINT_OK;
}

/* Per-page permissions of the image (segments may share pages: union). */
static glint_status map_image(glint_pt_builder *pt, const glint_elf_info *elf, uint64_t base,
                              glint_error *err) {
    uint64_t pages = elf->image_size / PAGE;
    uint8_t *perm = calloc(pages, 1);
    if (perm == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    for (uint32_t i = 0; i < elf->segment_count; i++) {
        const glint_elf_segment *s = &elf->segments[i];
        uint64_t first = s->vaddr / PAGE, last = (s->vaddr + s->memsz - 1) / PAGE;
        for (uint64_t p = first; p <= last && p < pages; p++) perm[p] |= (uint8_t)s->perms;
    }
    glint_status st = GLINT_OK;
    for (uint64_t p = 0; p < pages && st == GLINT_OK; p++) {
        if (perm[p] == 0) continue;
        if ((perm[p] & GLINT_PERM_WRITE) && (perm[p] & GLINT_PERM_EXEC)) {
            st = glint_fail(err, GLINT_E_ELF, "page 0x%" PRIx64 " would be writable and executable",
                            p * PAGE);
            break;
        }
        st = glint_pt_map(pt, base + p * PAGE, PAGE, perm[p], err);
    }
    free(perm);
    return st;
}

static glint_status build_page_tables(uint8_t *snap, const glint_layout_info *l,
                                      const glint_elf_info *elf, uint32_t init_perms,
                                      uint64_t *pt_used, glint_error *err) {
    glint_pt_builder pt;
    glint_status st;
    glint_pt_init(&pt, snap + (l->page_tables_gpa - l->snapshot_gpa), l->page_tables_gpa,
                  l->page_tables_size);
    if ((st = map_image(&pt, elf, l->code_gpa, err)) != GLINT_OK) return st;
    /* The host's CPU state: supervisor-only, never writable by guest code. */
    if ((st = glint_cpu_install(snap, l, &pt, err)) != GLINT_OK) return st;
    const struct {
        uint64_t gpa, size;
        uint32_t perms;
    } regions[] = {
        {l->peb_gpa, PAGE, GLINT_PERM_READ},
        {l->heap_gpa, l->heap_size, GLINT_PERM_READ | GLINT_PERM_WRITE},
        {l->init_data_gpa, l->init_data_size, init_perms | GLINT_PERM_READ},
        {l->input_gpa, l->input_size + l->output_size, GLINT_PERM_READ | GLINT_PERM_WRITE},
        {l->stack_gpa, l->stack_size, GLINT_PERM_READ | GLINT_PERM_WRITE},
    };
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        if (regions[i].size == 0) continue;
        st = glint_pt_map(&pt, regions[i].gpa, regions[i].size, regions[i].perms, err);
        if (st != GLINT_OK) return st;
    }
    *pt_used = pt.used;
    return GLINT_OK;
}

static void write_peb(uint8_t *snap, const glint_layout_info *l, const glint_config *c) {
    glint_peb peb;
    memset(&peb, 0, sizeof peb);
    peb.input.size = l->input_size;
    peb.input.ptr = l->input_gpa;
    peb.output.size = l->output_size;
    peb.output.ptr = l->output_gpa;
    peb.init_data.size = c->init_data_size;
    peb.init_data.ptr = c->init_data_size != 0 ? l->init_data_gpa : 0;
    peb.heap.size = l->heap_size;
    peb.heap.ptr = l->heap_gpa;
    peb.file_mappings.size = 0;
    peb.file_mappings.ptr = l->peb_gpa + GLINT_FILE_MAPPINGS_OFFSET;
    peb.abi_version = GLINT_ABI_VERSION;
    peb.stack_top = l->stack_gpa + l->stack_size;
    peb.stack_limit = l->stack_gpa;
    peb.exception_stack_top = l->exception_stack_gpa + l->exception_stack_size;
    peb.metadata = l->metadata_gpa;
    peb.log_level = (uint32_t)c->log_level;
    memcpy(snap + (l->peb_gpa - l->snapshot_gpa), &peb, sizeof peb);
}

/* Builds the initial image in a fresh memfd. */
static glint_status build_image(glint_sandbox *sb, const glint_elf_info *elf, const void *data,
                                size_t size, glint_error *err) {
    const glint_layout_info *l = &sb->layout;
    glint_status st;
    sb->image_fd = memfd_create("glint-image", MFD_CLOEXEC);
    if (sb->image_fd < 0)
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "memfd_create failed");
    if (ftruncate(sb->image_fd, (off_t)l->total_size) != 0)
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "sizing the guest image");
    /* Counted: the build mapping (mmap + munmap) and map_image's page array. */
    sb->counters.syscalls_other += 2;
    sb->counters.host_allocations++;
    uint8_t *snap =
        mmap(NULL, l->snapshot_size, PROT_READ | PROT_WRITE, MAP_SHARED, sb->image_fd, 0);
    if (snap == MAP_FAILED)
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "mapping the guest image");
    st = glint_elf_load(elf, data, size, snap, l->code_size, l->code_gpa, err);
    if (st == GLINT_OK) {
        write_peb(snap, l, &sb->cfg);
        if (sb->cfg.init_data_size != 0)
            memcpy(snap + (l->init_data_gpa - l->snapshot_gpa), sb->cfg.init_data,
                   sb->cfg.init_data_size);
        st = build_page_tables(snap, l, elf, sb->cfg.init_data_perms, &sb->pt_used, err);
    }
    munmap(snap, l->snapshot_size);
    return st;
}

glint_status glint_sb_map_memory(glint_sandbox *sb, int fd, glint_error *err) {
    const glint_layout_info *l = &sb->layout;
    sb->mem_size = l->total_size;
    sb->counters.syscalls_other++;
    sb->mem = mmap(NULL, sb->mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
    if (sb->mem == MAP_FAILED) {
        sb->mem = NULL;
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "mapping guest memory");
    }
    sb->gmem.host = sb->mem;
    sb->gmem.snapshot_gpa = l->snapshot_gpa;
    sb->gmem.snapshot_size = l->snapshot_size;
    sb->gmem.scratch_gpa = l->scratch_gpa;
    sb->gmem.scratch_size = l->scratch_size;
    sb->input = glint_gmem_span(&sb->gmem, l->input_gpa, l->input_size);
    sb->output = glint_gmem_span(&sb->gmem, l->output_gpa, l->output_size);
    if (sb->input == NULL || sb->output == NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "I/O buffers outside guest memory");
    sb->dirty_pages[GLINT_SLOT_SNAPSHOT] = l->snapshot_size / PAGE;
    sb->dirty_pages[GLINT_SLOT_SCRATCH] = l->scratch_size / PAGE;
    for (uint32_t i = 0; i < 2; i++) {
        sb->dirty_bitmaps[i] =
            glint_sb_calloc(sb, (sb->dirty_pages[i] + 63u) / 64u, sizeof(uint64_t));
        if (sb->dirty_bitmaps[i] == NULL)
            return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    }
    glint_status st = sb->hv_ops->map(sb->hv, GLINT_SLOT_SNAPSHOT, l->snapshot_gpa,
                                      l->snapshot_size, sb->mem, GLINT_HV_MAP_LOG_DIRTY, err);
    if (st != GLINT_OK) return st;
    return sb->hv_ops->map(sb->hv, GLINT_SLOT_SCRATCH, l->scratch_gpa, l->scratch_size,
                           sb->mem + l->snapshot_size, GLINT_HV_MAP_LOG_DIRTY, err);
}

glint_status glint_sandbox_create_from_memory(const glint_config *cfg, const void *elf_data,
                                              size_t elf_size, glint_sandbox **out,
                                              glint_error *err) {
    glint_config defaults;
    glint_elf_info elf;
    glint_status st;
    glint_error_clear(err);
    if (out == NULL) return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    if (elf_data == NULL) return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "ELF buffer is NULL");
    if (cfg == NULL) {
        glint_config_init(&defaults);
        cfg = &defaults;
    }
    if ((st = validate_config(cfg, err)) != GLINT_OK) return st;
    if ((st = glint_elf_parse(elf_data, elf_size, &elf, err)) != GLINT_OK) return st;

    glint_sandbox *sb = calloc(1, sizeof *sb);
    if (sb == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    sb->counters.host_allocations = 1;
    sb->image_fd = -1;
    sb->cfg = *cfg;
    sb->cfg.init_data = NULL; /* copied into the image below; not kept */
    sb->hv_ops = &glint_hv_kvm_ops;
    sb->host_call.sandbox = sb;
    sb->cancel_signal =
        cfg->cancel_signal != 0 ? cfg->cancel_signal : SIGRTMIN + DEFAULT_CANCEL_SIGNAL_OFFSET;
    sb->elf_hash = glint_hash64(elf_data, elf_size, 0);

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
    if ((st = glint_layout_compute(&lp, &sb->layout, err)) != GLINT_OK) goto fail;
    sb->cfg.init_data = cfg->init_data; /* needed by build_image only */
    st = build_image(sb, &elf, elf_data, elf_size, err);
    sb->cfg.init_data = NULL;
    if (st != GLINT_OK) goto fail;
    if ((st = glint_sb_install_cancel_handler(sb->cancel_signal, err)) != GLINT_OK) goto fail;
    if ((st = sb->hv_ops->create(&sb->hv, err)) != GLINT_OK) goto fail;
    sb->counters.host_allocations++; /* the backend's state */
    sb->counters.syscalls_other++;   /* its kvm_run mapping */
    if ((st = glint_sb_map_memory(sb, sb->image_fd, err)) != GLINT_OK) goto fail;
    glint_cpu_entry entry;
    glint_cpu_entry_state(&entry, sb->layout.cpu_tables_gpa, sb->layout.page_tables_gpa,
                          sb->layout.entry_gpa, sb->layout.stack_gpa + sb->layout.stack_size,
                          sb->layout.peb_gpa, GLINT_ABI_VERSION);
    if ((st = sb->hv_ops->set_entry(sb->hv, &entry, err)) != GLINT_OK) goto fail;
    sb->state = GLINT_STATE_CREATED;
    *out = sb;
    return GLINT_OK;
fail:
    glint_sandbox_destroy(sb);
    return st;
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
    if (fstat(fd, &st) != 0) {
        status = glint_fail_errno(err, GLINT_E_IO, errno, "cannot stat %s", elf_path);
        close(fd);
        return status;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > MAX_ELF_FILE_SIZE) {
        close(fd);
        return glint_fail(err, GLINT_E_ELF, "%s is not a regular file of 1..%llu bytes", elf_path,
                          (unsigned long long)MAX_ELF_FILE_SIZE);
    }
    /* A private copy in memory: the file may change under us afterwards. */
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size);
    if (data == NULL) {
        close(fd);
        return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory reading %s", elf_path);
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            status = n < 0 ? glint_fail_errno(err, GLINT_E_IO, errno, "reading %s", elf_path)
                           : glint_fail(err, GLINT_E_IO, "%s shrank while being read", elf_path);
            free(data);
            close(fd);
            return status;
        }
        done += (size_t)n;
    }
    close(fd);
    status = glint_sandbox_create_from_memory(cfg, data, size, out, err);
    free(data);
    if (status == GLINT_OK) (*out)->counters.host_allocations++; /* the file's copy */
    return status;
}

void glint_sb_free_functions(glint_sandbox *sb) {
    if (!sb->functions_borrowed) {
        free(sb->functions);
        free(sb->function_names);
    }
    sb->functions = NULL;
    sb->function_names = NULL;
    sb->function_count = 0;
    sb->functions_borrowed = false;
}

void glint_sandbox_destroy(glint_sandbox *sb) {
    if (sb == NULL) return;
    if (sb->timer_created) timer_delete(sb->deadline_timer);
    if (sb->hv != NULL) sb->hv_ops->destroy(sb->hv);
    glint_sb_unmap_all(sb);
    if (sb->mem != NULL) munmap(sb->mem, sb->mem_size);
    if (sb->backing != NULL)
        glint_snapshot_release(sb->backing);
    else if (sb->image_fd >= 0)
        close(sb->image_fd);
    for (uint32_t i = 0; i < sb->host_function_count; i++) free(sb->host_functions[i].name);
    free(sb->host_functions);
    glint_sb_free_functions(sb);
    free(sb->dirty_bitmaps[0]);
    free(sb->dirty_bitmaps[1]);
    free(sb);
}

/* ---- Host functions ---------------------------------------------------- */

static bool name_valid(const char *name) {
    if (name == NULL || name[0] == '\0') return false;
    return strnlen(name, GLINT_MAX_NAME_LEN + 1) <= GLINT_MAX_NAME_LEN;
}

static glint_host_function *find_host_function(glint_sandbox *sb, const char *name,
                                               uint32_t name_len) {
    for (uint32_t i = 0; i < sb->host_function_count; i++) {
        glint_host_function *f = &sb->host_functions[i];
        if (strncmp(f->name, name, name_len) == 0 && f->name[name_len] == '\0') return f;
    }
    return NULL;
}

glint_status glint_sandbox_register_host_function(glint_sandbox *sb, const char *name,
                                                  glint_type ret, const glint_type *params,
                                                  uint32_t argc, glint_host_fn fn, void *user) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (sb->state != GLINT_STATE_CREATED && !(sb->cloned && !sb->called))
        return sb_fail(sb, GLINT_E_STATE,
                       "host functions must be registered before initialisation (or, on a "
                       "sandbox made from a snapshot, before its first call)");
    if (!name_valid(name))
        return sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "host function name empty or longer than %u",
                       GLINT_MAX_NAME_LEN);
    if (fn == NULL)
        return sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "host function '%s' has no callback", name);
    if (argc > GLINT_MAX_ARGS || (argc != 0 && params == NULL))
        return sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "host function '%s': bad parameter list",
                       name);
    if (!glint_type_valid_return((int)ret))
        return sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "host function '%s': bad return type %d", name,
                       (int)ret);
    for (uint32_t i = 0; i < argc; i++) {
        if (!glint_type_valid_param((int)params[i]))
            return sb_fail(sb, GLINT_E_INVALID_ARGUMENT,
                           "host function '%s': parameter %u has bad type %d", name, i,
                           (int)params[i]);
    }
    if (find_host_function(sb, name, (uint32_t)strlen(name)) != NULL)
        return sb_fail(sb, GLINT_E_EXISTS, "host function '%s' is already registered", name);
    if (sb->host_function_count == GLINT_MAX_FUNCTIONS)
        return sb_fail(sb, GLINT_E_TOO_BIG, "more than %u host functions", GLINT_MAX_FUNCTIONS);
    if (sb->host_function_count == sb->host_function_cap) {
        uint32_t cap = sb->host_function_cap ? sb->host_function_cap * 2 : 8;
        glint_host_function *grown = realloc(sb->host_functions, cap * sizeof *grown);
        sb->counters.host_allocations++;
        if (grown == NULL) return sb_fail(sb, GLINT_E_NO_MEMORY, "out of memory");
        sb->host_functions = grown;
        sb->host_function_cap = cap;
    }
    glint_host_function *f = &sb->host_functions[sb->host_function_count];
    memset(f, 0, sizeof *f);
    f->name = strdup(name);
    sb->counters.host_allocations++;
    if (f->name == NULL) return sb_fail(sb, GLINT_E_NO_MEMORY, "out of memory");
    f->ret = ret;
    f->argc = argc;
    if (argc != 0) memcpy(f->params, params, argc * sizeof *params);
    f->fn = fn;
    f->user = user;
    sb->host_function_count++;
    return GLINT_OK;
}

void glint_host_call_set_error(glint_host_call *call, const char *fmt, ...) {
    if (call == NULL || fmt == NULL) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->message, sizeof call->message, fmt, ap);
    va_end(ap);
    call->has_message = true;
}

glint_sandbox *glint_host_call_sandbox(glint_host_call *call) {
    return call != NULL ? call->sandbox : NULL;
}

/* ---- Protocol helpers ---------------------------------------------------- */

static glint_status pop_output(glint_sandbox *sb, glint_msg_kind *kind, glint_reader *body) {
    const uint8_t *msg;
    uint64_t len;
    if (glint_stack_pop(sb->output, sb->layout.output_size, &msg, &len) != 0)
        return sb_fail_poison(sb, GLINT_E_PROTOCOL,
                              "output buffer corrupt: top or back-pointer out of range");
    if (!glint_msg_open(msg, len, kind, body))
        return sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed message header in output buffer");
    return GLINT_OK;
}

static bool signature_matches(const glint_type *params, uint32_t argc, const glint_value *args,
                              uint32_t *bad) {
    for (uint32_t i = 0; i < argc; i++) {
        if (args[i].type != params[i]) {
            *bad = i;
            return false;
        }
    }
    return true;
}

/* The guest filled the input stack (host-call replies it never popped) or
 * corrupted its top: no room for a reply. */
static glint_status fail_input_full(glint_sandbox *sb) {
    uint64_t top;
    memcpy(&top, sb->input, sizeof top);
    return sb_fail_poison(sb, GLINT_E_PROTOCOL,
                          "input buffer full or corrupt (top 0x%" PRIx64 " of %" PRIu64
                          " bytes): no room for the reply to a host call",
                          top, sb->layout.input_size);
}

/* Pushes ERROR(code, message) for the guest onto the input buffer. */
static glint_status push_input_error(glint_sandbox *sb, uint32_t code, const char *message) {
    uint8_t *slot;
    uint64_t avail;
    glint_writer w;
    if (glint_stack_reserve(sb->input, sb->layout.input_size, &slot, &avail) != 0)
        return fail_input_full(sb);
    glint_writer_init(&w, slot, avail);
    size_t mlen = strnlen(message, GLINT_HOST_ERROR_SIZE);
    uint64_t n = glint_encode_error(&w, code, message, (uint32_t)mlen);
    if (n == 0 || glint_stack_commit(sb->input, sb->layout.input_size, n) != 0)
        return sb_fail_poison(sb, GLINT_E_PROTOCOL, "input buffer has no room for a host result");
    return GLINT_OK;
}

static glint_status handle_host_call(glint_sandbox *sb, glint_reader *body) {
    glint_call_view call;
    char msg[GLINT_HOST_ERROR_SIZE];
    if (!glint_decode_call(body, &call))
        return sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed host-call message from guest");
    sb->counters.host_calls++;
    glint_host_function *f = find_host_function(sb, call.name, call.name_len);
    if (f == NULL) {
        snprintf(msg, sizeof msg, "host function '%s' not found", call.name);
        return push_input_error(sb, GLINT_E_FUNCTION_NOT_FOUND, msg);
    }
    uint32_t bad;
    if (call.argc != f->argc) {
        snprintf(msg, sizeof msg, "host function '%s' takes %u arguments, got %u", f->name, f->argc,
                 call.argc);
        return push_input_error(sb, GLINT_E_PARAMETER_COUNT, msg);
    }
    if (!signature_matches(f->params, f->argc, call.args, &bad)) {
        snprintf(msg, sizeof msg, "host function '%s' argument %u must be %s, got %s", f->name, bad,
                 glint_type_name((int)f->params[bad]), glint_type_name((int)call.args[bad].type));
        return push_input_error(sb, GLINT_E_PARAMETER_TYPE, msg);
    }
    if (call.ret != f->ret) {
        snprintf(msg, sizeof msg, "host function '%s' returns %s, guest expects %s", f->name,
                 glint_type_name((int)f->ret), glint_type_name((int)call.ret));
        return push_input_error(sb, GLINT_E_RETURN_TYPE, msg);
    }

    glint_value ret;
    memset(&ret, 0, sizeof ret);
    ret.type = f->ret;
    sb->host_call.has_message = false;
    GLINT_TRACE_HOST_CALL_START(sb, f->name, call.argc);
    glint_status st = f->fn(&sb->host_call, f->user, call.args, call.argc, &ret);
    GLINT_TRACE_HOST_CALL_END(sb, f->name, st);
    if (st != GLINT_OK) {
        if (!sb->host_call.has_message)
            snprintf(sb->host_call.message, sizeof sb->host_call.message,
                     "host function '%s' failed: %s", f->name, glint_status_describe(st));
        return push_input_error(sb, (uint32_t)st, sb->host_call.message);
    }
    if (ret.type != f->ret) {
        snprintf(msg, sizeof msg, "host function '%s' returned %s instead of %s", f->name,
                 glint_type_name((int)ret.type), glint_type_name((int)f->ret));
        return push_input_error(sb, GLINT_E_HOST_FUNCTION_ERROR, msg);
    }
    uint8_t *slot;
    uint64_t avail;
    glint_writer w;
    if (glint_stack_reserve(sb->input, sb->layout.input_size, &slot, &avail) != 0)
        return fail_input_full(sb);
    glint_writer_init(&w, slot, avail);
    uint64_t n = glint_encode_result(&w, &ret);
    if (n == 0) {
        snprintf(msg, sizeof msg,
                 "host function '%s' result does not fit the input buffer "
                 "(or is an invalid value)",
                 f->name);
        return push_input_error(sb, GLINT_E_RESULT_TOO_BIG, msg);
    }
    if (glint_stack_commit(sb->input, sb->layout.input_size, n) != 0)
        return sb_fail_poison(sb, GLINT_E_PROTOCOL, "input buffer corrupt on commit");
    return GLINT_OK;
}

static glint_status handle_log(glint_sandbox *sb, glint_reader *body) {
    glint_log_view log;
    if (!glint_decode_log(body, &log) || log.level > GLINT_LOG_ERROR)
        return sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed log record from guest");
    if (sb->cfg.log_fn != NULL && log.level >= (uint32_t)sb->cfg.log_level)
        sb->cfg.log_fn(sb->cfg.callback_user, (glint_log_level)log.level, log.file, log.line,
                       log.message, log.message_len);
    return GLINT_OK;
}

static glint_status handle_print(glint_sandbox *sb, glint_reader *body) {
    const uint8_t *data;
    uint32_t len;
    if (!glint_decode_print(body, &data, &len))
        return sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed print message from guest");
    if (sb->cfg.print_fn != NULL && len != 0)
        sb->cfg.print_fn(sb->cfg.callback_user, (const char *)data, len);
    return GLINT_OK;
}

static glint_status handle_abort(glint_sandbox *sb) {
    glint_msg_kind kind;
    glint_reader body;
    int32_t code;
    const char *text;
    uint32_t text_len;
    glint_status st = pop_output(sb, &kind, &body);
    if (st != GLINT_OK) return st;
    if (kind != GLINT_MSG_ABORT || !glint_decode_abort(&body, &code, &text, &text_len))
        return sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed abort message from guest");
    sb_fail(sb, GLINT_E_GUEST_ABORT, "guest aborted with code %d: %.*s", code, (int)text_len, text);
    sb->last_error.guest_code = code;
    return glint_sb_poison(sb);
}

static uint64_t guest_rip(glint_sandbox *sb);

static glint_status handle_exception(glint_sandbox *sb) {
    /* Only the host's stubs (CPL 0) write the record and OUT here.  The
     * TSS's I/O bitmap already keeps guest code off this port; checking
     * where the OUT came from keeps a forged report out even on a KVM that
     * got the bitmap wrong. */
    uint64_t out_rip = guest_rip(sb);
    if (!glint_cpu_rip_in_exception_code(sb->layout.exception_code_gpa, out_rip))
        return sb_fail_poison(sb, GLINT_E_PROTOCOL,
                              "guest code wrote to the exception port 0x%x at RIP 0x%" PRIx64
                              " (only the host's exception stubs report exceptions)",
                              GLINT_PORT_EXCEPTION, out_rip);
    glint_exception_record rec;
    if (!glint_gmem_read(&sb->gmem, sb->layout.metadata_gpa, &rec, sizeof rec))
        return sb_fail_poison(sb, GLINT_E_PROTOCOL, "exception record unreadable");
    const glint_layout_info *l = &sb->layout;
    bool overflow = rec.vector == 14 && rec.cr2 >= l->stack_gpa - PAGE && rec.cr2 < l->stack_gpa;
    if (overflow)
        sb_fail(sb, GLINT_E_STACK_OVERFLOW,
                "guest stack overflow: page fault at 0x%" PRIx64 " (guard page below the %" PRIu64
                "-byte stack), RIP 0x%" PRIx64,
                rec.cr2, l->stack_size, rec.rip);
    else if (rec.vector == 14 && rec.rip == 0 && rec.cr2 == 0)
        /* PVM does not honour EFER.SCE: a guest SYSCALL jumps to LSTAR (0,
         * never mapped) at CPL 3 instead of raising #UD.  The instruction
         * after it is in RCX. */
        sb_fail(sb, GLINT_E_GUEST_FAULT,
                "guest page fault (instruction fetch) at RIP 0x0, error code 0x%" PRIx64
                ": a jump to address 0, or a SYSCALL on a KVM that ignores EFER.SCE (then the "
                "instruction after it is at RCX 0x%" PRIx64 ")",
                rec.error_code, rec.rcx);
    else if (rec.vector == 14)
        sb_fail(sb, GLINT_E_GUEST_FAULT,
                "guest page fault (%s %s) at 0x%" PRIx64 ", RIP 0x%" PRIx64
                ", error code 0x%" PRIx64,
                (rec.error_code & 0x10) ? "instruction fetch"
                : (rec.error_code & 2)  ? "write"
                                        : "read",
                (rec.error_code & 1) ? "protection violation" : "not present", rec.cr2, rec.rip,
                rec.error_code);
    else
        sb_fail(sb, GLINT_E_GUEST_FAULT,
                "guest CPU exception %s (vector %" PRIu64 ") at RIP 0x%" PRIx64
                ", error code 0x%" PRIx64 "%s",
                glint_cpu_vector_name(rec.vector), rec.vector, rec.rip, rec.error_code,
                (rec.cs & 3u) == 0 ? " in the host's exception code (CPL 0)" : "");
    glint_error *e = &sb->last_error;
    e->has_fault = true;
    e->vector = (uint32_t)rec.vector;
    e->rip = rec.rip;
    e->cr2 = rec.cr2;
    e->error_code = rec.error_code;
    return glint_sb_poison(sb);
}

/* Handles one protocol OUT; returns GLINT_OK to keep running, or sets *done. */
static glint_status handle_port(glint_sandbox *sb, const glint_exit *ex, bool *done) {
    glint_msg_kind kind;
    glint_reader body;
    glint_status st;
    switch (ex->port) {
    case GLINT_PORT_DONE: *done = true; return GLINT_OK;
    case GLINT_PORT_ABORT: return handle_abort(sb);
    case GLINT_PORT_EXCEPTION: return handle_exception(sb);
    default: break;
    }
    if ((st = pop_output(sb, &kind, &body)) != GLINT_OK) return st;
    switch (ex->port) {
    case GLINT_PORT_HOST_CALL:
        if (kind != GLINT_MSG_CALL) break;
        return handle_host_call(sb, &body);
    case GLINT_PORT_LOG:
        if (kind != GLINT_MSG_LOG) break;
        return handle_log(sb, &body);
    case GLINT_PORT_PRINT:
        if (kind != GLINT_MSG_PRINT) break;
        return handle_print(sb, &body);
    default: break;
    }
    return sb_fail_poison(sb, GLINT_E_PROTOCOL, "message kind %d does not match port 0x%x",
                          (int)kind, ex->port);
}

static uint64_t guest_rip(glint_sandbox *sb) {
    uint64_t rip = 0;
    if (sb->hv_ops->get_rip(sb->hv, &rip, NULL) != GLINT_OK) return 0;
    return rip;
}

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static glint_status fail_cancelled(glint_sandbox *sb) {
    sb->pending_io = true;
    return sb_fail_poison(sb, GLINT_E_CANCELLED, "call cancelled by glint_sandbox_kill");
}

static glint_status fail_deadline(glint_sandbox *sb) {
    sb->pending_io = true;
    return sb_fail_poison(sb, GLINT_E_DEADLINE, "call exceeded its deadline of %" PRIu64 " ns",
                          sb->cfg.call_deadline_ns);
}

glint_status glint_sb_run_until_done(glint_sandbox *sb) {
    glint_exit ex;
    glint_status st;
    for (;;) {
        if (atomic_load_explicit(&sb->run_state, memory_order_acquire) & GLINT_RUN_CANCEL)
            return fail_cancelled(sb);
        if (sb->deadline_ns != 0 && monotonic_ns() >= sb->deadline_ns) return fail_deadline(sb);
        st = sb->hv_ops->run(sb->hv, &ex, &sb->last_error);
        if (st != GLINT_OK) return glint_sb_poison(sb);
        GLINT_TRACE_VM_EXIT(sb, ex.kind, ex.port, ex.reason);
        switch (ex.kind) {
        case GLINT_EXIT_IO:
            sb->counters.exits_io++;
            if (ex.is_write && ex.size == 1 && ex.count == 1 && ex.port >= GLINT_PORT_FIRST &&
                ex.port <= GLINT_PORT_LAST) {
                bool done = false;
                st = handle_port(sb, &ex, &done);
                if (st != GLINT_OK) {
                    sb->pending_io = true;
                    return st;
                }
                if (done) return GLINT_OK;
                continue;
            }
            sb->pending_io = true;
            sb_fail_poison(sb, GLINT_E_UNKNOWN_PORT,
                           "guest %s port 0x%x (%u byte%s, count %u) at RIP 0x%" PRIx64
                           ": not part of the protocol",
                           ex.is_write ? "wrote to" : "read from", ex.port, ex.size,
                           ex.size == 1 ? "" : "s", ex.count, guest_rip(sb));
            return sb->last_error.code;
        case GLINT_EXIT_MMIO: {
            sb->counters.exits_mmio++;
            sb->pending_io = true;
            uint64_t rip = guest_rip(sb);
            const char *what = "unmapped guest-physical address";
            for (uint32_t i = 0; i < sb->mapping_count; i++) {
                if (ex.gpa - sb->mappings[i].gpa < sb->mappings[i].size)
                    what = "read-only mapping at guest-physical address";
            }
            sb_fail(sb, GLINT_E_MEMORY_ACCESS,
                    "guest %s %s 0x%" PRIx64 " (%u bytes) at RIP 0x%" PRIx64,
                    ex.is_write ? "wrote to" : "read from", what, ex.gpa, ex.size, rip);
            sb->last_error.gpa = ex.gpa;
            sb->last_error.rip = rip;
            sb->last_error.has_fault = true;
            return glint_sb_poison(sb);
        }
        case GLINT_EXIT_HLT:
            sb->counters.exits_hlt++;
            return sb_fail_poison(sb, GLINT_E_UNEXPECTED_EXIT,
                                  "guest halted (HLT) at RIP 0x%" PRIx64 " outside the protocol",
                                  guest_rip(sb));
        case GLINT_EXIT_SHUTDOWN:
            sb->counters.exits_other++;
            return sb_fail_poison(sb, GLINT_E_TRIPLE_FAULT,
                                  "guest triple fault: the vCPU shut down");
        case GLINT_EXIT_INTERRUPTED: {
            sb->counters.exits_interrupted++;
            uint64_t state = atomic_load_explicit(&sb->run_state, memory_order_acquire);
            if (state & GLINT_RUN_CANCEL) return fail_cancelled(sb);
            if (sb->deadline_ns != 0 && monotonic_ns() >= sb->deadline_ns) return fail_deadline(sb);
            /* A stale or foreign signal: clear and re-enter. */
            sb->hv_ops->clear_interrupt(sb->hv);
            continue;
        }
        case GLINT_EXIT_MEMORY_FAULT:
            sb->counters.exits_other++;
            sb->pending_io = true;
            return sb_fail_poison(sb, GLINT_E_MEMORY_ACCESS,
                                  "guest touched memory the host cannot provide at RIP 0x%" PRIx64
                                  " (a mapped file truncated or changed on the host?)",
                                  guest_rip(sb));
        case GLINT_EXIT_DIRTY_FULL:
            sb->counters.exits_other++;
            st = sb->hv_ops->collect_dirty(sb->hv, sb->dirty_bitmaps, sb->dirty_pages, 2,
                                           &sb->last_error);
            if (st != GLINT_OK) return glint_sb_poison(sb);
            continue;
        case GLINT_EXIT_FAILED:
            sb->counters.exits_other++;
            return sb_fail_poison(sb, GLINT_E_UNEXPECTED_EXIT,
                                  "%s at RIP 0x%" PRIx64 " (KVM exit reason %u, %s 0x%" PRIx64 ")",
                                  ex.what != NULL ? ex.what : "unexpected VM exit", guest_rip(sb),
                                  ex.reason, ex.detail_name != NULL ? ex.detail_name : "detail",
                                  ex.detail);
        }
    }
}

/* ---- Call bracketing for cancellation and deadlines -------------------- */

static glint_status arm_deadline(glint_sandbox *sb) {
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (!sb->timer_created || sb->timer_tid != tid) {
        if (sb->timer_created) timer_delete(sb->deadline_timer);
        sb->timer_created = false;
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = sb->cancel_signal;
        sev._sigev_un._tid = tid;
        sb->counters.syscalls_other += 2;
        if (timer_create(CLOCK_MONOTONIC, &sev, &sb->deadline_timer) != 0)
            return sb_fail(sb, GLINT_E_NO_MEMORY, "timer_create failed: %s", strerror(errno));
        sb->timer_created = true;
        sb->timer_tid = tid;
    }
    /* The absolute deadline is taken before the timer is armed, so that it
     * is never later than the timer's expiry: when the timer's signal
     * arrives the run loop always finds the deadline passed (otherwise it
     * would take the signal for a stale one and re-enter a guest that may
     * spin forever, with no second signal to come). */
    uint64_t ns = sb->cfg.call_deadline_ns;
    uint64_t now = monotonic_ns();
    sb->deadline_ns = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(ns % 1000000000ull);
    sb->counters.syscalls_other++;
    if (timer_settime(sb->deadline_timer, 0, &its, NULL) != 0)
        return sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "timer_settime failed: %s", strerror(errno));
    return GLINT_OK;
}

static glint_status begin_run(glint_sandbox *sb) {
    sb->hv_ops->clear_interrupt(sb->hv);
    sb->vcpu_thread = pthread_self();
    sb->tls_outer = tls_running; /* non-NULL inside another sandbox's host function */
    tls_running = sb;
    uint64_t gen = atomic_load_explicit(&sb->run_state, memory_order_relaxed) & ~(uint64_t)3u;
    atomic_store_explicit(&sb->run_state, gen | GLINT_RUN_RUNNING, memory_order_release);
    sb->deadline_ns = 0;
    if (sb->cfg.call_deadline_ns != 0) return arm_deadline(sb);
    return GLINT_OK;
}

static void end_run(glint_sandbox *sb) {
    uint64_t gen = atomic_load_explicit(&sb->run_state, memory_order_relaxed) & ~(uint64_t)3u;
    atomic_store_explicit(&sb->run_state, gen + GLINT_RUN_GEN_ONE, memory_order_release);
    /* A concurrent kill may still be signalling this thread: wait it out so
     * that it never targets a thread that has moved on or exited. */
    while (atomic_load_explicit(&sb->killers, memory_order_acquire) != 0) __builtin_ia32_pause();
    if (sb->deadline_ns != 0) {
        struct itimerspec off;
        memset(&off, 0, sizeof off);
        sb->counters.syscalls_other++;
        timer_settime(sb->deadline_timer, 0, &off, NULL);
        sb->deadline_ns = 0;
    }
    tls_running = sb->tls_outer;
    sb->tls_outer = NULL;
}

/* True while a run is in progress on sb.  Since a sandbox is used by one
 * thread at a time, a caller that finds it true is a host function of this
 * very sandbox trying to re-enter it. */
bool glint_sb_running(const glint_sandbox *sb) {
    return (atomic_load_explicit(&sb->run_state, memory_order_acquire) & GLINT_RUN_RUNNING) != 0;
}

glint_status glint_sb_fail_running(glint_sandbox *sb, const char *what) {
    return sb_fail(sb, GLINT_E_STATE,
                   "%s refused: a call is running on this sandbox (re-entry from one of its host "
                   "functions is not allowed)",
                   what);
}

glint_status glint_sandbox_set_call_deadline(glint_sandbox *sb, uint64_t deadline_ns) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (glint_sb_running(sb)) return glint_sb_fail_running(sb, "glint_sandbox_set_call_deadline");
    sb->cfg.call_deadline_ns = deadline_ns;
    return GLINT_OK;
}

bool glint_sandbox_kill(glint_sandbox *sb) {
    if (sb == NULL) return false;
    atomic_fetch_add_explicit(&sb->killers, 1, memory_order_acq_rel);
    uint64_t s = atomic_load_explicit(&sb->run_state, memory_order_acquire);
    bool hit = false;
    while (s & GLINT_RUN_RUNNING) {
        if (atomic_compare_exchange_weak_explicit(&sb->run_state, &s, s | GLINT_RUN_CANCEL,
                                                  memory_order_acq_rel, memory_order_acquire)) {
            hit = true;
            break;
        }
    }
    if (hit) pthread_kill(sb->vcpu_thread, sb->cancel_signal);
    GLINT_TRACE_KILL(sb, hit);
    atomic_fetch_sub_explicit(&sb->killers, 1, memory_order_acq_rel);
    return hit;
}

/* ---- Initialisation ----------------------------------------------------- */

static glint_status read_function_table(glint_sandbox *sb) {
    glint_msg_kind kind;
    glint_reader body;
    uint32_t count;
    glint_status st = pop_output(sb, &kind, &body);
    if (st != GLINT_OK) return st;
    if (kind != GLINT_MSG_FUNCTIONS || !glint_decode_functions_count(&body, &count))
        return sb_fail_poison(sb, GLINT_E_PROTOCOL,
                              "guest did not report its function table at initialisation");
    /* Names are copied into one block: sum their sizes in a first pass. */
    glint_reader pass = body;
    size_t names_size = 0;
    glint_function_view fv;
    for (uint32_t i = 0; i < count; i++) {
        if (!glint_decode_function_next(&pass, &fv))
            return sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed function table entry %u", i);
        names_size += fv.name_len + 1u;
    }
    if (!glint_reader_done(&pass))
        return sb_fail_poison(sb, GLINT_E_PROTOCOL, "trailing bytes after the function table");
    sb->functions = glint_sb_calloc(sb, count ? count : 1, sizeof *sb->functions);
    sb->function_names = glint_sb_calloc(sb, names_size ? names_size : 1, 1);
    if (sb->functions == NULL || sb->function_names == NULL)
        return sb_fail_poison(sb, GLINT_E_NO_MEMORY, "out of memory for the function table");
    char *name = sb->function_names;
    for (uint32_t i = 0; i < count; i++) {
        glint_decode_function_next(&body, &fv);
        memcpy(name, fv.name, fv.name_len);
        name[fv.name_len] = '\0';
        for (uint32_t j = 0; j < i; j++) {
            if (strcmp(sb->functions[j].name, name) == 0)
                return sb_fail_poison(sb, GLINT_E_PROTOCOL, "guest reported function '%s' twice",
                                      name);
        }
        glint_function_info *f = &sb->functions[i];
        f->name = name;
        f->ret = fv.ret;
        f->argc = fv.argc;
        memcpy(f->params, fv.params, fv.argc * sizeof fv.params[0]);
        name += fv.name_len + 1u;
    }
    sb->function_count = count;
    return GLINT_OK;
}

glint_status glint_sandbox_initialize(glint_sandbox *sb) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (glint_sb_running(sb)) return glint_sb_fail_running(sb, "glint_sandbox_initialize");
    if (sb->poisoned)
        return sb_fail(sb, GLINT_E_POISONED, "sandbox is poisoned: %s", sb->last_error.message);
    if (sb->state != GLINT_STATE_CREATED)
        return sb_fail(sb, GLINT_E_STATE, "sandbox is already initialised");
    glint_stack_init(sb->input, sb->layout.input_size);
    glint_stack_init(sb->output, sb->layout.output_size);
    glint_status st = begin_run(sb);
    if (st == GLINT_OK) st = glint_sb_run_until_done(sb);
    end_run(sb);
    if (st == GLINT_OK) st = read_function_table(sb);
    if (st != GLINT_OK) {
        if (!sb->poisoned) glint_sb_poison(sb);
        return st;
    }
    sb->state = GLINT_STATE_READY;
    glint_error_clear(&sb->last_error);
    return GLINT_OK;
}

/* ---- Calls ---------------------------------------------------------------- */

const glint_function_info *glint_sandbox_find_function(const glint_sandbox *sb, const char *name) {
    if (sb == NULL || name == NULL) return NULL;
    for (uint32_t i = 0; i < sb->function_count; i++) {
        if (strcmp(sb->functions[i].name, name) == 0) return &sb->functions[i];
    }
    return NULL;
}

uint32_t glint_sandbox_function_count(const glint_sandbox *sb) {
    return sb != NULL ? sb->function_count : 0;
}

const glint_function_info *glint_sandbox_function(const glint_sandbox *sb, uint32_t index) {
    if (sb == NULL || index >= sb->function_count) return NULL;
    return &sb->functions[index];
}

static glint_status check_call(glint_sandbox *sb, const char *name, glint_type ret,
                               const glint_value *args, uint32_t argc) {
    if (glint_sb_running(sb)) return glint_sb_fail_running(sb, "glint_sandbox_call");
    if (sb->state != GLINT_STATE_READY)
        return sb_fail(sb, GLINT_E_STATE, "sandbox is not initialised");
    if (sb->poisoned)
        return sb_fail(sb, GLINT_E_POISONED, "sandbox is poisoned; restore a snapshot first");
    if (name == NULL) return sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "function name is NULL");
    if (argc > GLINT_MAX_ARGS || (argc != 0 && args == NULL))
        return sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "bad argument list (argc %u)", argc);
    const glint_function_info *f = glint_sandbox_find_function(sb, name);
    if (f == NULL)
        return sb_fail(sb, GLINT_E_FUNCTION_NOT_FOUND, "guest function '%s' not found", name);
    if (argc != f->argc)
        return sb_fail(sb, GLINT_E_PARAMETER_COUNT, "'%s' takes %u arguments, got %u", name,
                       f->argc, argc);
    uint32_t bad;
    if (!signature_matches(f->params, argc, args, &bad))
        return sb_fail(sb, GLINT_E_PARAMETER_TYPE, "'%s' argument %u must be %s, got %s", name, bad,
                       glint_type_name((int)f->params[bad]), glint_type_name((int)args[bad].type));
    if (ret != f->ret)
        return sb_fail(sb, GLINT_E_RETURN_TYPE, "'%s' returns %s, caller expects %s", name,
                       glint_type_name((int)f->ret), glint_type_name((int)ret));
    for (uint32_t i = 0; i < argc; i++) {
        const glint_value *v = &args[i];
        if (v->type == GLINT_TYPE_STRING &&
            (v->as.str.ptr == NULL || memchr(v->as.str.ptr, 0, v->as.str.len) != NULL))
            return sb_fail(sb, GLINT_E_INVALID_ARGUMENT,
                           "'%s' argument %u: string is NULL or contains NUL", name, i);
        if (v->type == GLINT_TYPE_BYTES && v->as.bytes.len != 0 && v->as.bytes.ptr == NULL)
            return sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "'%s' argument %u: bytes pointer is NULL",
                           name, i);
    }
    return GLINT_OK;
}

static glint_status read_call_result(glint_sandbox *sb, const char *name, glint_type ret,
                                     glint_value *result) {
    glint_msg_kind kind;
    glint_reader body;
    glint_status st = pop_output(sb, &kind, &body);
    if (st != GLINT_OK) return st;
    if (kind == GLINT_MSG_RESULT) {
        glint_value v;
        if (!glint_decode_result(&body, &v))
            return sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed result from '%s'", name);
        if (v.type != ret)
            return sb_fail(sb, GLINT_E_RETURN_TYPE, "'%s' returned %s, declared %s", name,
                           glint_type_name((int)v.type), glint_type_name((int)ret));
        if (result != NULL) *result = v;
        return GLINT_OK;
    }
    if (kind == GLINT_MSG_ERROR) {
        glint_error_view e;
        if (!glint_decode_error(&body, &e))
            return sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed error from '%s'", name);
        glint_status code = GLINT_E_GUEST_ERROR;
        if ((e.code >= GLINT_E_FUNCTION_NOT_FOUND && e.code <= GLINT_E_OUT_OF_MEMORY))
            code = (glint_status)e.code;
        sb_fail(sb, code, "'%s' failed: %.*s", name, (int)e.message_len, e.message);
        sb->last_error.guest_code = (int32_t)e.code;
        return code;
    }
    return sb_fail_poison(sb, GLINT_E_PROTOCOL, "unexpected message kind %d as result of '%s'",
                          (int)kind, name);
}

glint_status glint_sandbox_call(glint_sandbox *sb, const char *name, glint_type ret,
                                const glint_value *args, uint32_t argc, glint_value *result) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    glint_status st = check_call(sb, name, ret, args, argc);
    if (st != GLINT_OK) return st;

    uint8_t *slot;
    uint64_t avail;
    glint_writer w;
    glint_stack_init(sb->input, sb->layout.input_size);
    glint_stack_reserve(sb->input, sb->layout.input_size, &slot, &avail);
    glint_writer_init(&w, slot, avail);
    uint64_t n = glint_encode_call(&w, name, ret, args, argc);
    if (n == 0)
        return sb_fail(sb, GLINT_E_ARGS_TOO_BIG,
                       "arguments of '%s' do not fit the %" PRIu64 "-byte input buffer", name,
                       sb->layout.input_size);
    glint_stack_commit(sb->input, sb->layout.input_size, n);
    glint_stack_init(sb->output, sb->layout.output_size);
    /* Restore uses this to count host-written pages the dirty log can't see. */
    if (n + 16u > sb->host_dirty_input) sb->host_dirty_input = n + 16u;
    sb->called = true;
    GLINT_TRACE_CALL_START(sb, name, argc);

    st = begin_run(sb);
    if (st == GLINT_OK) st = glint_sb_run_until_done(sb);
    end_run(sb);
    GLINT_TRACE_CALL_END(sb, name, st);
    if (st != GLINT_OK) return st;
    st = read_call_result(sb, name, ret, result);
    if (st == GLINT_OK) sb->counters.guest_calls++;
    return st;
}

/* ---- Introspection ------------------------------------------------------- */

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
}
