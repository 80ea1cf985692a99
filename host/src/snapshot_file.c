/*
 * snapshot_file.c - saving snapshots to files and loading them in another
 * process.  Format (little-endian, see docs/snapshots.md):
 *
 *   header   struct snapshot_file_header (magic, versions, hashes, sizes,
 *            configuration, layout, checksum)
 *   vcpu     vcpu_size bytes of backend vCPU state
 *   funcs    function_count x struct snapshot_function
 *   index    data_pages x u64 page numbers, strictly increasing
 *   pages    data_pages x 4096 bytes
 *
 * The checksum is FNV-1a-64 over the whole file with the checksum field
 * zeroed.  Everything is validated before any of it is used.
 */
#include <errno.h>
#include <fcntl.h>
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
#define FILE_MAGIC "GLINTSNP"
#define FILE_FORMAT_VERSION 2u
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct snapshot_file_header {
    char magic[8];
    uint32_t format_version;
    uint32_t abi_version;
    uint64_t elf_hash;
    uint64_t mem_size;
    uint64_t data_pages;
    uint32_t vcpu_size;
    uint32_t function_count;
    uint64_t input_size, output_size, heap_size, scratch_size;
    uint64_t init_data_size, memory_cap;
    uint32_t init_data_perms, log_level;
    glint_layout_info layout;
    uint64_t pt_used;
    uint64_t checksum;
};

struct snapshot_function {
    char name[GLINT_MAX_NAME_LEN + 1];
    uint8_t ret;
    uint8_t argc;
    uint8_t params[GLINT_MAX_ARGS];
    uint8_t reserved[6];
};
/* 128 + 2 + 32 + 6: a record per guest function, sized by GLINT_MAX_ARGS. */
_Static_assert(sizeof(struct snapshot_function) == 168, "snapshot function record size");

/* Sequential writer that hashes what it writes (chained FNV-1a). */
typedef struct hashed_writer {
    int fd;
    off_t off;
    uint64_t hash;
    bool failed;
} hashed_writer;

static uint64_t fnv_continue(uint64_t h, const void *data, size_t len);

static void hw_write(hashed_writer *w, const void *p, size_t len) {
    if (w->failed) return;
    w->hash = fnv_continue(w->hash, p, len);
    const uint8_t *b = p;
    while (len != 0) {
        ssize_t n = pwrite(w->fd, b, len, w->off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            w->failed = true;
            return;
        }
        b += n;
        len -= (size_t)n;
        w->off += n;
    }
}

static uint64_t fnv_continue(uint64_t h, const void *data, size_t len) {
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define FNV_BASIS 0xcbf29ce484222325ull

glint_status glint_snapshot_save(const glint_snapshot *snap, const char *path, glint_error *err) {
    glint_error_clear(err);
    if (snap == NULL || path == NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "NULL snapshot or path");
    if (snap->mapping_count != 0)
        return glint_fail(err, GLINT_E_MAPPING,
                          "a snapshot with file or memory mappings cannot be saved (the files "
                          "would not exist in the loading process); unmap them before the "
                          "snapshot and map them again after loading");
    glint_status st = GLINT_OK;
    uint8_t *image = MAP_FAILED;
    uint64_t *index = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return glint_fail_errno(err, GLINT_E_IO, errno, "cannot create %s", path);
    image = mmap(NULL, snap->mem_size, PROT_READ, MAP_SHARED, snap->fd, 0);
    if (image == MAP_FAILED) {
        st = glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "mapping snapshot image");
        goto out;
    }
    /* Data pages are those the memfd actually holds (SEEK_DATA skips holes). */
    uint64_t pages = snap->mem_size / PAGE, count = 0;
    index = malloc((snap->data_pages ? snap->data_pages : 1) * sizeof *index);
    if (index == NULL) {
        st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
        goto out;
    }
    off_t pos = 0;
    while ((uint64_t)pos < snap->mem_size) {
        off_t data = lseek(snap->fd, pos, SEEK_DATA);
        if (data < 0) break; /* ENXIO: no more data */
        off_t hole = lseek(snap->fd, data, SEEK_HOLE);
        if (hole < 0) hole = (off_t)snap->mem_size;
        for (uint64_t p = (uint64_t)data / PAGE; p < pages && p * PAGE < (uint64_t)hole; p++) {
            static const uint8_t zero[GLINT_PAGE_SIZE];
            if (memcmp(image + p * PAGE, zero, PAGE) == 0) continue;
            if (count == snap->data_pages) {
                uint64_t *grown = realloc(index, (count * 2 + 1) * sizeof *index);
                if (grown == NULL) {
                    st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
                    goto out;
                }
                index = grown;
            }
            index[count++] = p;
        }
        pos = hole;
    }
    struct snapshot_file_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, FILE_MAGIC, 8);
    h.format_version = FILE_FORMAT_VERSION;
    h.abi_version = GLINT_ABI_VERSION;
    h.elf_hash = snap->elf_hash;
    h.mem_size = snap->mem_size;
    h.data_pages = count;
    h.vcpu_size = snap->vcpu.size;
    h.function_count = snap->function_count;
    h.input_size = snap->cfg.input_size;
    h.output_size = snap->cfg.output_size;
    h.heap_size = snap->cfg.heap_size;
    h.scratch_size = snap->cfg.scratch_size;
    h.init_data_size = snap->cfg.init_data_size;
    h.memory_cap = snap->cfg.memory_cap;
    h.init_data_perms = snap->cfg.init_data_perms;
    h.log_level = (uint32_t)snap->cfg.log_level;
    h.layout = snap->layout;
    h.pt_used = snap->pt_used;

    /* The header is hashed with its checksum field zero, written last. */
    hashed_writer w = {fd, (off_t)sizeof h, fnv_continue(FNV_BASIS, &h, sizeof h), false};
#define EMIT(ptr, len) hw_write(&w, (ptr), (len))
    EMIT(snap->vcpu.bytes, snap->vcpu.size);
    for (uint32_t i = 0; i < snap->function_count; i++) {
        struct snapshot_function f;
        memset(&f, 0, sizeof f);
        const glint_function_info *src = &snap->functions[i];
        snprintf(f.name, sizeof f.name, "%s", src->name);
        f.ret = (uint8_t)src->ret;
        f.argc = (uint8_t)src->argc;
        for (uint32_t k = 0; k < src->argc; k++) f.params[k] = (uint8_t)src->params[k];
        EMIT(&f, sizeof f);
    }
    EMIT(index, count * sizeof *index);
    for (uint64_t i = 0; i < count; i++) EMIT(image + index[i] * PAGE, PAGE);
#undef EMIT
    h.checksum = w.hash;
    if (!w.failed) {
        hashed_writer hw = {fd, 0, FNV_BASIS, false};
        hw_write(&hw, &h, sizeof h);
        w.failed = hw.failed;
    }
    if (w.failed || fsync(fd) != 0)
        st = glint_fail_errno(err, GLINT_E_IO, errno, "writing %s", path);
out:
    if (image != MAP_FAILED) munmap(image, snap->mem_size);
    free(index);
    if (close(fd) != 0 && st == GLINT_OK)
        st = glint_fail_errno(err, GLINT_E_IO, errno, "closing %s", path);
    return st;
}

static bool read_exact(int fd, void *buf, size_t len, uint64_t *hash) {
    uint8_t *p = buf;
    size_t want = len;
    while (len != 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
    }
    *hash = fnv_continue(*hash, buf, want);
    return true;
}

static glint_status format_error(glint_error *err, const char *path, const char *what) {
    return glint_fail(err, GLINT_E_SNAPSHOT_FORMAT, "snapshot file %s: %s", path, what);
}

/* Recomputes the layout from the stored sizes: a file whose layout doesn't
 * follow from its own configuration was not written by this format. */
static bool layout_consistent(const struct snapshot_file_header *h) {
    glint_layout_params lp = {
        .image_size = h->layout.code_size,
        .entry = h->layout.entry_gpa - h->layout.code_gpa,
        .heap_size = h->heap_size,
        .init_data_size = h->init_data_size,
        .input_size = h->input_size,
        .output_size = h->output_size,
        .scratch_size = h->scratch_size,
        .memory_cap = h->memory_cap,
    };
    glint_layout_info l;
    if (h->layout.entry_gpa < h->layout.code_gpa) return false;
    if (glint_layout_compute(&lp, &l, NULL) != GLINT_OK) return false;
    return memcmp(&l, &h->layout, sizeof l) == 0 && l.total_size == h->mem_size;
}

glint_status glint_snapshot_load(const char *path, glint_snapshot **out, glint_error *err) {
    glint_error_clear(err);
    if (path == NULL || out == NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "NULL path or out");
    *out = NULL;
    glint_status st = GLINT_OK;
    glint_snapshot *snap = NULL;
    uint64_t *index = NULL;
    uint8_t *page = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (no effect on
     * the reads of a regular file). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return glint_fail_errno(err, GLINT_E_IO, errno, "cannot open %s", path);
    struct stat sbuf;
    struct snapshot_file_header h;
    uint64_t hash = FNV_BASIS;
    if (fstat(fd, &sbuf) != 0) {
        st = glint_fail_errno(err, GLINT_E_IO, errno, "cannot stat %s", path);
        goto out;
    }
    if (!S_ISREG(sbuf.st_mode)) {
        st = glint_fail_errno(err, GLINT_E_IO, S_ISDIR(sbuf.st_mode) ? EISDIR : EINVAL,
                              "%s is not a regular file", path);
        goto out;
    }
    if ((uint64_t)sbuf.st_size < sizeof h || !read_exact(fd, &h, sizeof h, &hash)) {
        st = format_error(err, path, "truncated header");
        goto out;
    }
    uint64_t stored_checksum = h.checksum;
    h.checksum = 0;
    hash = fnv_continue(FNV_BASIS, &h, sizeof h);
    if (memcmp(h.magic, FILE_MAGIC, 8) != 0) {
        st = format_error(err, path, "not a Glint snapshot (bad magic)");
        goto out;
    }
    if (h.format_version != FILE_FORMAT_VERSION) {
        st = glint_fail(err, GLINT_E_SNAPSHOT_FORMAT,
                        "snapshot file %s has format version %u, expected %u", path,
                        h.format_version, FILE_FORMAT_VERSION);
        goto out;
    }
    if (h.abi_version != GLINT_ABI_VERSION) {
        st = glint_fail(err, GLINT_E_SNAPSHOT_MISMATCH,
                        "snapshot file %s is for guest ABI %u, host has %u", path, h.abi_version,
                        GLINT_ABI_VERSION);
        goto out;
    }
    if (h.vcpu_size == 0 || h.vcpu_size > sizeof snap->vcpu.bytes ||
        h.function_count > GLINT_MAX_FUNCTIONS || h.mem_size % PAGE != 0 ||
        h.data_pages > h.mem_size / PAGE || !layout_consistent(&h) || h.pt_used < PAGE ||
        h.pt_used > h.layout.page_tables_size || h.pt_used % PAGE != 0) {
        st = format_error(err, path, "inconsistent sizes or layout");
        goto out;
    }
    uint64_t expected = sizeof h + h.vcpu_size +
                        (uint64_t)h.function_count * sizeof(struct snapshot_function) +
                        h.data_pages * (8u + PAGE);
    if ((uint64_t)sbuf.st_size != expected) {
        st = format_error(err, path,
                          (uint64_t)sbuf.st_size < expected ? "truncated" : "trailing data");
        goto out;
    }
    snap = calloc(1, sizeof *snap);
    if (snap == NULL) {
        st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
        goto out;
    }
    atomic_init(&snap->refs, 1);
    snap->fd = -1;
    snap->vcpu.size = h.vcpu_size;
    if (!read_exact(fd, snap->vcpu.bytes, h.vcpu_size, &hash)) {
        st = format_error(err, path, "truncated vCPU state");
        goto out;
    }
    snap->functions = calloc(h.function_count ? h.function_count : 1, sizeof *snap->functions);
    snap->function_names = calloc(h.function_count ? h.function_count : 1, GLINT_MAX_NAME_LEN + 1);
    if (snap->functions == NULL || snap->function_names == NULL) {
        st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < h.function_count; i++) {
        struct snapshot_function f;
        if (!read_exact(fd, &f, sizeof f, &hash)) {
            st = format_error(err, path, "truncated function table");
            goto out;
        }
        size_t n = strnlen(f.name, sizeof f.name);
        bool ok = n > 0 && n < sizeof f.name && glint_type_valid_return(f.ret) &&
                  f.argc <= GLINT_MAX_ARGS;
        for (uint32_t k = 0; ok && k < f.argc; k++) ok = glint_type_valid_param(f.params[k]);
        if (!ok) {
            st = format_error(err, path, "invalid function table entry");
            goto out;
        }
        char *name = snap->function_names + (size_t)i * (GLINT_MAX_NAME_LEN + 1);
        memcpy(name, f.name, n + 1);
        glint_function_info *fi = &snap->functions[i];
        fi->name = name;
        fi->ret = (glint_type)f.ret;
        fi->argc = f.argc;
        for (uint32_t k = 0; k < f.argc; k++) fi->params[k] = (glint_type)f.params[k];
    }
    snap->function_count = h.function_count;
    index = malloc((h.data_pages ? h.data_pages : 1) * sizeof *index);
    page = malloc(PAGE);
    if (index == NULL || page == NULL) {
        st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
        goto out;
    }
    if (!read_exact(fd, index, h.data_pages * sizeof *index, &hash)) {
        st = format_error(err, path, "truncated page index");
        goto out;
    }
    for (uint64_t i = 0; i < h.data_pages; i++) {
        if (index[i] >= h.mem_size / PAGE || (i > 0 && index[i] <= index[i - 1])) {
            st = format_error(err, path, "page index out of order or out of range");
            goto out;
        }
    }
    snap->fd = memfd_create("glint-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (snap->fd < 0 || ftruncate(snap->fd, (off_t)h.mem_size) != 0) {
        st = glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "creating snapshot image");
        goto out;
    }
    for (uint64_t i = 0; i < h.data_pages; i++) {
        if (!read_exact(fd, page, PAGE, &hash)) {
            st = format_error(err, path, "truncated page data");
            goto out;
        }
        if (pwrite(snap->fd, page, PAGE, (off_t)(index[i] * PAGE)) != (ssize_t)PAGE) {
            st = glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "filling snapshot image");
            goto out;
        }
    }
    if (hash != stored_checksum) {
        st = format_error(err, path, "checksum mismatch (corrupted)");
        goto out;
    }
    if (fcntl(snap->fd, F_ADD_SEALS, SEALS) != 0) {
        st = glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "sealing snapshot image");
        goto out;
    }
    snap->mem_size = h.mem_size;
    snap->data_pages = h.data_pages;
    snap->layout = h.layout;
    snap->pt_used = h.pt_used;
    glint_config_init(&snap->cfg);
    snap->cfg.input_size = h.input_size;
    snap->cfg.output_size = h.output_size;
    snap->cfg.heap_size = h.heap_size;
    snap->cfg.scratch_size = h.scratch_size;
    snap->cfg.init_data_size = h.init_data_size;
    snap->cfg.memory_cap = h.memory_cap;
    snap->cfg.init_data_perms = h.init_data_perms;
    snap->cfg.log_level =
        h.log_level <= GLINT_LOG_OFF ? (glint_log_level)h.log_level : GLINT_LOG_INFO;
    snap->elf_hash = h.elf_hash;
    *out = snap;
    snap = NULL;
out:
    glint_snapshot_release(snap);
    free(index);
    free(page);
    close(fd);
    return st;
}
