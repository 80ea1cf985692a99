/*
 * snapshot_file.c - saving snapshots to files and loading them in another
 * process.  Format 4 (little-endian, see docs/snapshots.md):
 *
 *   header   struct snapshot_file_header (magic, versions, hashes, sizes,
 *            configuration, layout, checksum)
 *   vcpu     vcpu_size bytes of backend vCPU state
 *   funcs    function_count x struct snapshot_function
 *   pt pool  pt_words x u64: which pages of the page-table area hold tables
 *   index    data_pages x u64 page numbers, strictly increasing
 *   pages    data_pages x 4096 bytes
 *
 * The checksum is FNV-1a-64 over the whole file with the checksum field
 * zeroed; it catches accidents, not attacks.  A file is untrusted input:
 * everything is validated before any of it is used, and the vCPU state must
 * be the state Glint itself sets up (hv.h check_state): a file cannot choose
 * MSRs, segments, control registers or descriptor tables.
 *
 * Saving is atomic: the file is written under a temporary name in the same
 * directory, synced, renamed over the target, and the directory synced; a
 * failure leaves whatever was at the target untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu.h"
#include "fileio.h"
#include "hash.h"
#include "layout.h"
#include "sandbox_internal.h"

#define FILE_MAGIC "GLINTSNP"
#define FILE_FORMAT_VERSION 4u
/* The world fields (format 4): a monotonic floor beyond ~146 years, or an
 * offset of more than that, is not something this host wrote. */
#define WORLD_MONO_MAX (1ull << 62)

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
    uint64_t pt_words;
    uint64_t world_mono_floor_ns; /* the guest's CLOCK_MONOTONIC at the snapshot */
    int64_t world_mono_offset;    /* its offset to the host's clock (world.h) */
    uint64_t checksum;
};
_Static_assert(sizeof(struct snapshot_file_header) == 344, "snapshot file header size");

struct snapshot_function {
    char name[GLINT_MAX_NAME_LEN + 1];
    uint8_t ret;
    uint8_t argc;
    uint8_t params[GLINT_MAX_ARGS];
    uint8_t reserved[6];
};
/* 128 + 2 + 32 + 6: a record per guest function, sized by GLINT_MAX_ARGS. */
_Static_assert(sizeof(struct snapshot_function) == 168, "snapshot function record size");

static uint64_t pt_words_for(const glint_layout_info *l) {
    return (l->page_tables_size / GLINT_PAGE + 63u) / 64u;
}

/* ---- Saving ---------------------------------------------------------------- */

/* Sequential writer that hashes what it writes. */
typedef struct hashed_writer {
    int fd;
    off_t off;
    uint64_t hash;
    bool failed;
} hashed_writer;

static void hw_write(hashed_writer *w, const void *p, size_t len) {
    if (w->failed) return;
    w->hash = glint_fnv1a(w->hash, p, len);
    if (!glint_pwrite_all(w->fd, p, len, w->off)) {
        w->failed = true;
        return;
    }
    w->off += (off_t)len;
}

/* Calls visit(page) for every non-zero page the image holds, in order. */
static uint64_t for_each_data_page(const glint_image *img, const uint8_t *mem, uint64_t *index,
                                   uint64_t cap) {
    static const uint8_t zero[GLINT_PAGE_SIZE];
    uint64_t pages = img->mem_size / GLINT_PAGE, count = 0;
    off_t pos = 0;
    while ((uint64_t)pos < img->mem_size) {
        off_t data = lseek(img->fd, pos, SEEK_DATA);
        if (data < 0) break; /* ENXIO: no more data */
        off_t hole = lseek(img->fd, data, SEEK_HOLE);
        if (hole < 0) hole = (off_t)img->mem_size;
        for (uint64_t p = (uint64_t)data / GLINT_PAGE; p < pages && p * GLINT_PAGE < (uint64_t)hole;
             p++) {
            if (memcmp(mem + p * GLINT_PAGE, zero, GLINT_PAGE) == 0) continue;
            if (index != NULL && count < cap) index[count] = p;
            count++;
        }
        pos = hole;
    }
    return count;
}

static void fill_header(struct snapshot_file_header *h, const glint_snapshot *snap,
                        uint64_t data_pages) {
    const glint_image *img = snap->image;
    memset(h, 0, sizeof *h);
    memcpy(h->magic, FILE_MAGIC, 8);
    h->format_version = FILE_FORMAT_VERSION;
    h->abi_version = GLINT_ABI_VERSION;
    h->elf_hash = img->elf_hash;
    h->mem_size = img->mem_size;
    h->data_pages = data_pages;
    h->vcpu_size = snap->vcpu.size;
    h->function_count = img->functions != NULL ? img->functions->count : 0;
    h->input_size = snap->cfg.input_size;
    h->output_size = snap->cfg.output_size;
    h->heap_size = snap->cfg.heap_size;
    h->scratch_size = snap->cfg.scratch_size;
    h->init_data_size = snap->cfg.init_data_size;
    h->memory_cap = snap->cfg.memory_cap;
    h->init_data_perms = snap->cfg.init_data_perms;
    h->log_level = (uint32_t)snap->cfg.log_level;
    h->layout = img->layout;
    h->pt_words = pt_words_for(&img->layout);
    h->world_mono_floor_ns = snap->world_mono_floor_ns;
    h->world_mono_offset = snap->world_mono_offset;
}

/* Writes the whole file into fd. */
static glint_status write_snapshot(const glint_snapshot *snap, int fd, const char *path,
                                   glint_error *err) {
    const glint_image *img = snap->image;
    glint_status st = GLINT_OK;
    uint64_t *index = NULL;
    uint8_t *mem = mmap(NULL, img->mem_size, PROT_READ, MAP_SHARED, img->fd, 0);
    if (mem == MAP_FAILED)
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "mapping snapshot image");
    /* Two passes over the (sealed, so unchanging) image: count, then list. */
    uint64_t count = for_each_data_page(img, mem, NULL, 0);
    index = malloc((count ? count : 1) * sizeof *index);
    if (index == NULL) {
        st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
        goto out;
    }
    for_each_data_page(img, mem, index, count);
    struct snapshot_file_header h;
    fill_header(&h, snap, count);
    /* The header is hashed with its checksum field zero, written last. */
    hashed_writer w = {fd, (off_t)sizeof h, glint_fnv1a(GLINT_FNV_BASIS, &h, sizeof h), false};
    hw_write(&w, snap->vcpu.bytes, snap->vcpu.size);
    for (uint32_t i = 0; i < h.function_count; i++) {
        struct snapshot_function f;
        memset(&f, 0, sizeof f);
        const glint_function_info *src = &img->functions->entries[i];
        snprintf(f.name, sizeof f.name, "%s", src->name);
        f.ret = (uint8_t)src->ret;
        f.argc = (uint8_t)src->argc;
        for (uint32_t k = 0; k < src->argc; k++) f.params[k] = (uint8_t)src->params[k];
        hw_write(&w, &f, sizeof f);
    }
    hw_write(&w, img->pt_pool.in_use, h.pt_words * sizeof(uint64_t));
    hw_write(&w, index, count * sizeof *index);
    for (uint64_t i = 0; i < count; i++) hw_write(&w, mem + index[i] * GLINT_PAGE, GLINT_PAGE);
    h.checksum = w.hash;
    if (!w.failed && !glint_pwrite_all(fd, &h, sizeof h, 0)) w.failed = true;
    if (w.failed || fsync(fd) != 0)
        st = glint_fail_errno(err, GLINT_E_IO, errno, "writing %s", path);
out:
    munmap(mem, img->mem_size);
    free(index);
    return st;
}

static glint_status sync_directory(const char *path, glint_error *err) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return glint_fail(err, GLINT_E_IO, "path too long: %s", path);
    const char *dir = dirname(buf);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return glint_fail_errno(err, GLINT_E_IO, errno, "cannot open directory %s", dir);
    int rc = fsync(dfd);
    int e = errno;
    close(dfd);
    /* Some filesystems cannot sync a directory; the rename already happened. */
    if (rc != 0 && e != EINVAL && e != EROFS)
        return glint_fail_errno(err, GLINT_E_IO, e, "syncing directory %s", dir);
    return GLINT_OK;
}

glint_status glint_snapshot_save(const glint_snapshot *snap, const char *path, glint_error *err) {
    glint_error_clear(err);
    if (snap == NULL || path == NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "NULL snapshot or path");
    if (snap->mappings.count != 0)
        return glint_fail(err, GLINT_E_MAPPING,
                          "a snapshot with file or memory mappings cannot be saved (the files "
                          "would not exist in the loading process); unmap them before the "
                          "snapshot and map them again after loading");
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return glint_fail(err, GLINT_E_IO, "path too long: %s", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return glint_fail_errno(err, GLINT_E_IO, errno, "cannot create a temporary file for %s",
                                path);
    glint_status st = write_snapshot(snap, fd, path, err);
    if (close(fd) != 0 && st == GLINT_OK)
        st = glint_fail_errno(err, GLINT_E_IO, errno, "closing %s", tmp);
    if (st == GLINT_OK && fchmodat(AT_FDCWD, tmp, 0644, 0) != 0)
        st = glint_fail_errno(err, GLINT_E_IO, errno, "setting the mode of %s", tmp);
    if (st == GLINT_OK && rename(tmp, path) != 0)
        st = glint_fail_errno(err, GLINT_E_IO, errno, "renaming %s to %s", tmp, path);
    if (st != GLINT_OK) {
        unlink(tmp);
        return st;
    }
    return sync_directory(path, err);
}

/* ---- Loading ----------------------------------------------------------------- */

typedef struct reader {
    int fd;
    const char *path;
    uint64_t hash;
    glint_error *err;
} reader;

static bool read_hashed(reader *r, void *buf, size_t len) {
    if (!glint_read_all(r->fd, buf, len)) return false;
    r->hash = glint_fnv1a(r->hash, buf, len);
    return true;
}

static glint_status format_error(reader *r, const char *what) {
    return glint_fail(r->err, GLINT_E_SNAPSHOT_FORMAT, "snapshot file %s: %s", r->path, what);
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

static glint_status read_header(reader *r, uint64_t file_size, struct snapshot_file_header *h,
                                uint64_t *stored_checksum) {
    if (file_size < sizeof *h || !read_hashed(r, h, sizeof *h))
        return format_error(r, "truncated header");
    *stored_checksum = h->checksum;
    h->checksum = 0;
    r->hash = glint_fnv1a(GLINT_FNV_BASIS, h, sizeof *h);
    if (memcmp(h->magic, FILE_MAGIC, 8) != 0)
        return format_error(r, "not a Glint snapshot (bad magic)");
    if (h->format_version != FILE_FORMAT_VERSION)
        return glint_fail(r->err, GLINT_E_SNAPSHOT_FORMAT,
                          "snapshot file %s has format version %u, expected %u", r->path,
                          h->format_version, FILE_FORMAT_VERSION);
    if (h->abi_version != GLINT_ABI_VERSION)
        return glint_fail(r->err, GLINT_E_SNAPSHOT_MISMATCH,
                          "snapshot file %s is for guest ABI %u, host has %u", r->path,
                          h->abi_version, GLINT_ABI_VERSION);
    if (h->vcpu_size == 0 || h->vcpu_size > sizeof(((glint_vcpu_state *)0)->bytes) ||
        h->function_count > GLINT_MAX_FUNCTIONS || h->mem_size % GLINT_PAGE != 0 ||
        h->data_pages > h->mem_size / GLINT_PAGE || h->log_level > GLINT_LOG_OFF ||
        !layout_consistent(h) || h->pt_words != pt_words_for(&h->layout))
        return format_error(r, "inconsistent sizes or layout");
    if (h->world_mono_floor_ns > WORLD_MONO_MAX ||
        (uint64_t)(h->world_mono_offset < 0 ? -(h->world_mono_offset + 1) : h->world_mono_offset) >
            WORLD_MONO_MAX)
        return format_error(r, "world clock fields out of range");
    uint64_t expected = sizeof *h + h->vcpu_size +
                        (uint64_t)h->function_count * sizeof(struct snapshot_function) +
                        h->pt_words * 8u + h->data_pages * (8u + GLINT_PAGE);
    if (file_size != expected)
        return format_error(r, file_size < expected ? "truncated" : "trailing data");
    return GLINT_OK;
}

/* The vCPU state must be what Glint sets up for this layout. */
static glint_status read_vcpu(reader *r, const struct snapshot_file_header *h,
                              glint_vcpu_state *vcpu) {
    vcpu->size = h->vcpu_size;
    if (!read_hashed(r, vcpu->bytes, h->vcpu_size)) return format_error(r, "truncated vCPU state");
    const glint_layout_info *l = &h->layout;
    glint_cpu_entry expected;
    glint_cpu_entry_state(&expected, l->cpu_tables_gpa, l->page_tables_gpa, l->entry_gpa,
                          l->stack_gpa + l->stack_size, l->peb_gpa, GLINT_ABI_VERSION);
    glint_error why;
    if (glint_hv_kvm_ops.check_state(vcpu, &expected, &why) != GLINT_OK)
        return glint_fail(r->err, GLINT_E_SNAPSHOT_FORMAT, "snapshot file %s: vCPU state: %s",
                          r->path, why.message);
    return GLINT_OK;
}

static glint_status read_functions(reader *r, uint32_t count, glint_function_table **out) {
    glint_function_table *t =
        glint_function_table_new(NULL, count, (size_t)count * (GLINT_MAX_NAME_LEN + 1));
    if (t == NULL) return glint_fail(r->err, GLINT_E_NO_MEMORY, "out of memory");
    char *name = t->names;
    glint_status st = GLINT_OK;
    for (uint32_t i = 0; i < count; i++) {
        struct snapshot_function f;
        if (!read_hashed(r, &f, sizeof f)) {
            st = format_error(r, "truncated function table");
            goto fail;
        }
        size_t n = strnlen(f.name, sizeof f.name);
        bool ok = n > 0 && n < sizeof f.name && glint_type_valid_return(f.ret) &&
                  f.argc <= GLINT_MAX_ARGS;
        for (uint32_t k = 0; ok && k < f.argc; k++) ok = glint_type_valid_param(f.params[k]);
        if (!ok) {
            st = format_error(r, "invalid function table entry");
            goto fail;
        }
        memcpy(name, f.name, n + 1);
        if (glint_function_table_find(&(glint_function_table){.count = i, .entries = t->entries},
                                      name) != NULL) {
            st = format_error(r, "function listed twice");
            goto fail;
        }
        glint_function_info *fi = &t->entries[i];
        fi->name = name;
        fi->ret = (glint_type)f.ret;
        fi->argc = f.argc;
        for (uint32_t k = 0; k < f.argc; k++) fi->params[k] = (glint_type)f.params[k];
        name += n + 1;
    }
    t->names_size = (size_t)(name - t->names);
    *out = t;
    return GLINT_OK;
fail:
    glint_function_table_release(t);
    return st;
}

static glint_status read_pt_pool(reader *r, const struct snapshot_file_header *h,
                                 glint_pt_pool *pool) {
    memset(pool, 0, sizeof *pool);
    pool->pages = h->layout.page_tables_size / GLINT_PAGE;
    if (!read_hashed(r, pool->in_use, h->pt_words * sizeof(uint64_t)))
        return format_error(r, "truncated page-table pool");
    for (uint64_t p = 0; p < h->pt_words * 64u; p++) {
        bool used = (pool->in_use[p / 64u] >> (p % 64u)) & 1u;
        if (used && p >= pool->pages) return format_error(r, "page-table pool out of range");
        pool->in_use_count += used;
    }
    if (!(pool->in_use[0] & 1u)) return format_error(r, "page-table pool lacks the PML4");
    pool->hint = 1;
    return GLINT_OK;
}

static glint_status read_pages(reader *r, const struct snapshot_file_header *h, int image_fd) {
    glint_status st = GLINT_OK;
    uint64_t *index = malloc((h->data_pages ? h->data_pages : 1) * sizeof *index);
    uint8_t *page = malloc(GLINT_PAGE);
    if (index == NULL || page == NULL) {
        st = glint_fail(r->err, GLINT_E_NO_MEMORY, "out of memory");
        goto out;
    }
    if (!read_hashed(r, index, h->data_pages * sizeof *index)) {
        st = format_error(r, "truncated page index");
        goto out;
    }
    for (uint64_t i = 0; i < h->data_pages; i++) {
        if (index[i] >= h->mem_size / GLINT_PAGE || (i > 0 && index[i] <= index[i - 1])) {
            st = format_error(r, "page index out of order or out of range");
            goto out;
        }
    }
    for (uint64_t i = 0; i < h->data_pages; i++) {
        if (!read_hashed(r, page, GLINT_PAGE)) {
            st = format_error(r, "truncated page data");
            goto out;
        }
        if (!glint_pwrite_all(image_fd, page, GLINT_PAGE, (off_t)(index[i] * GLINT_PAGE))) {
            st = glint_fail_errno(r->err, GLINT_E_NO_MEMORY, errno, "filling snapshot image");
            goto out;
        }
    }
out:
    free(index);
    free(page);
    return st;
}

glint_status glint_snapshot_load(const char *path, glint_snapshot **out, glint_error *err) {
    glint_error_clear(err);
    if (path == NULL || out == NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "NULL path or out");
    *out = NULL;
    glint_status st;
    glint_snapshot *snap = NULL;
    glint_image *img = NULL;
    glint_function_table *functions = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (no effect on
     * the reads of a regular file). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return glint_fail_errno(err, GLINT_E_IO, errno, "cannot open %s", path);
    reader r = {fd, path, GLINT_FNV_BASIS, err};
    struct stat sbuf;
    struct snapshot_file_header h;
    uint64_t stored_checksum = 0;
    if (fstat(fd, &sbuf) != 0) {
        st = glint_fail_errno(err, GLINT_E_IO, errno, "cannot stat %s", path);
        goto out;
    }
    if (!S_ISREG(sbuf.st_mode)) {
        st = glint_fail_errno(err, GLINT_E_IO, S_ISDIR(sbuf.st_mode) ? EISDIR : EINVAL,
                              "%s is not a regular file", path);
        goto out;
    }
    if ((st = read_header(&r, (uint64_t)sbuf.st_size, &h, &stored_checksum)) != GLINT_OK) goto out;
    snap = glint_snapshot_alloc(NULL);
    if (snap == NULL) {
        st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
        goto out;
    }
    if ((st = read_vcpu(&r, &h, &snap->vcpu)) != GLINT_OK) goto out;
    if ((st = read_functions(&r, h.function_count, &functions)) != GLINT_OK) goto out;
    if ((st = glint_image_new(NULL, &h.layout, h.elf_hash, &img, err)) != GLINT_OK) goto out;
    img->functions = functions;
    functions = NULL;
    img->data_pages = h.data_pages;
    if ((st = read_pt_pool(&r, &h, &img->pt_pool)) != GLINT_OK) goto out;
    if ((st = read_pages(&r, &h, img->fd)) != GLINT_OK) goto out;
    if (r.hash != stored_checksum) {
        st = format_error(&r, "checksum mismatch (corrupted)");
        goto out;
    }
    if ((st = glint_image_seal(img, err)) != GLINT_OK) goto out;
    /* The log level the image's PEB holds, as the sandboxes will see it. */
    glint_peb peb;
    if (pread(img->fd, &peb, sizeof peb, (off_t)(h.layout.peb_gpa - h.layout.snapshot_gpa)) !=
        (ssize_t)sizeof peb) {
        st = glint_fail_errno(err, GLINT_E_IO, errno, "reading the PEB of %s", path);
        goto out;
    }
    if (peb.log_level > GLINT_LOG_OFF) {
        st = format_error(&r, "PEB holds an invalid log level");
        goto out;
    }
    if (peb.world != GLINT_WORLD_GPA(h.layout.scratch_gpa)) {
        st = format_error(&r, "PEB points at no world page");
        goto out;
    }
    glint_config_init(&snap->cfg);
    snap->cfg.input_size = h.input_size;
    snap->cfg.output_size = h.output_size;
    snap->cfg.heap_size = h.heap_size;
    snap->cfg.scratch_size = h.scratch_size;
    snap->cfg.init_data_size = h.init_data_size;
    snap->cfg.memory_cap = h.memory_cap;
    snap->cfg.init_data_perms = h.init_data_perms;
    snap->cfg.log_level = (glint_log_level)peb.log_level;
    snap->world_mono_floor_ns = h.world_mono_floor_ns;
    snap->world_mono_offset = h.world_mono_offset;
    snap->image = img;
    img = NULL;
    *out = snap;
    snap = NULL;
out:
    glint_function_table_release(functions);
    glint_image_release(img);
    glint_snapshot_release(snap);
    close(fd);
    return st;
}
