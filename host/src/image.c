/*
 * image.c - guest images and function tables (image.h).
 *
 * Building an image writes the memfd through a temporary shared mapping;
 * the sandbox then maps it MAP_PRIVATE, so neither guest nor host writes
 * ever reach it and it stays the pristine memory that restores go back to.
 */
#include "image.h"

#include "layout.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "counted.h"
#include "cpu.h"
#include "hash.h"
#include "symbols.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* ---- Function tables ----------------------------------------------------- */

glint_function_table *glint_function_table_new(glint_counters *c, uint32_t count,
                                               size_t names_size) {
    size_t entries = (size_t)count * sizeof(glint_function_info);
    if (names_size > SIZE_MAX - sizeof(glint_function_table) - entries) return NULL;
    glint_function_table *t =
        glint_counted_calloc(c, 1, sizeof *t + entries + (names_size ? names_size : 1u));
    if (t == NULL) return NULL;
    atomic_init(&t->refs, 1);
    t->count = count;
    t->entries = (glint_function_info *)(void *)(t + 1);
    t->names = (char *)(t->entries + count);
    t->names_size = names_size;
    return t;
}

glint_function_table *glint_function_table_retain(glint_function_table *t) {
    if (t != NULL) atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void glint_function_table_release(glint_function_table *t) {
    if (t == NULL) return;
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1) free(t);
}

const glint_function_info *glint_function_table_find(const glint_function_table *t,
                                                     const char *name) {
    if (t == NULL || name == NULL) return NULL;
    for (uint32_t i = 0; i < t->count; i++) {
        if (strcmp(t->entries[i].name, name) == 0) return &t->entries[i];
    }
    return NULL;
}

/* ---- Images -------------------------------------------------------------- */

uint64_t glint_image_elf_hash(const void *elf_data, size_t elf_size) {
    return glint_fnv1a(GLINT_FNV_BASIS, elf_data, elf_size);
}

glint_status glint_image_new(glint_counters *c, const glint_layout_info *l, uint64_t elf_hash,
                             glint_image **out, glint_error *err) {
    *out = NULL;
    glint_image *img = glint_counted_calloc(c, 1, sizeof *img);
    if (img == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    atomic_init(&img->refs, 1);
    img->mem_size = l->total_size;
    img->layout = *l;
    img->elf_hash = elf_hash;
    img->fd = memfd_create("glint-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (img->fd < 0) {
        glint_status st = glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "memfd_create failed");
        free(img);
        return st;
    }
    if (ftruncate(img->fd, (off_t)l->total_size) != 0) {
        glint_status st =
            glint_fail_errno(err, GLINT_E_NO_MEMORY, errno,
                             "sizing a guest image of %" PRIu64 " bytes", l->total_size);
        glint_image_release(img);
        return st;
    }
    *out = img;
    return GLINT_OK;
}

glint_status glint_image_seal(glint_image *img, glint_error *err) {
    if (fcntl(img->fd, F_ADD_SEALS, SEALS) != 0)
        return glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "sealing a guest image");
    return GLINT_OK;
}

glint_image *glint_image_retain(glint_image *img) {
    if (img != NULL) atomic_fetch_add_explicit(&img->refs, 1, memory_order_relaxed);
    return img;
}

void glint_image_release(glint_image *img) {
    if (img == NULL) return;
    if (atomic_fetch_sub_explicit(&img->refs, 1, memory_order_acq_rel) != 1) return;
    if (img->fd >= 0) close(img->fd);
    glint_function_table_release(img->functions);
    glint_symbols_release(img->symbols);
    free(img);
}

/* ---- Building the initial image ------------------------------------------ */

/* Per-page permissions of the image (segments may share pages: union). */
static glint_status map_elf_pages(glint_counters *c, glint_pt_builder *pt,
                                  const glint_elf_info *elf, uint64_t base, glint_error *err) {
    uint64_t pages = elf->image_size / GLINT_PAGE;
    uint8_t *perm = glint_counted_calloc(c, pages ? pages : 1, 1);
    if (perm == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory");
    for (uint32_t i = 0; i < elf->segment_count; i++) {
        const glint_elf_segment *s = &elf->segments[i];
        uint64_t first = s->vaddr / GLINT_PAGE, last = (s->vaddr + s->memsz - 1) / GLINT_PAGE;
        for (uint64_t p = first; p <= last && p < pages; p++) perm[p] |= (uint8_t)s->perms;
    }
    glint_status st = GLINT_OK;
    for (uint64_t p = 0; p < pages && st == GLINT_OK; p++) {
        if (perm[p] == 0) continue;
        if ((perm[p] & GLINT_PERM_WRITE) && (perm[p] & GLINT_PERM_EXEC)) {
            st = glint_fail(err, GLINT_E_ELF, "page 0x%" PRIx64 " would be writable and executable",
                            p * GLINT_PAGE);
            break;
        }
        st = glint_pt_map(pt, base + p * GLINT_PAGE, GLINT_PAGE, perm[p], err);
    }
    free(perm);
    return st;
}

static glint_status build_page_tables(glint_counters *c, uint8_t *mem, const glint_layout_info *l,
                                      const glint_elf_info *elf, uint32_t init_perms,
                                      glint_pt_pool *pool, glint_error *err) {
    glint_pt_builder pt;
    glint_status st;
    glint_pt_init(&pt, mem + (l->page_tables_gpa - l->snapshot_gpa), l->page_tables_gpa,
                  l->page_tables_size);
    if ((st = map_elf_pages(c, &pt, elf, l->code_gpa, err)) != GLINT_OK) return st;
    /* The host's CPU state: supervisor-only, never writable by guest code. */
    if ((st = glint_cpu_install(mem, l, &pt, err)) != GLINT_OK) return st;
    const struct {
        uint64_t gpa, size;
        uint32_t perms;
    } regions[] = {
        {l->peb_gpa, GLINT_PAGE, GLINT_PERM_READ},
        /* The world page: not in this memory (its own slot), but in the
         * guest's tables like any other page it may read. */
        {GLINT_WORLD_GPA(l->scratch_gpa), GLINT_WORLD_SIZE, GLINT_PERM_READ},
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
    *pool = pt.pool;
    return GLINT_OK;
}

static void write_peb(uint8_t *mem, const glint_layout_info *l, const glint_config *cfg) {
    glint_peb peb;
    memset(&peb, 0, sizeof peb);
    peb.input.size = l->input_size;
    peb.input.ptr = l->input_gpa;
    peb.output.size = l->output_size;
    peb.output.ptr = l->output_gpa;
    peb.init_data.size = cfg->init_data_size;
    peb.init_data.ptr = cfg->init_data_size != 0 ? l->init_data_gpa : 0;
    peb.heap.size = l->heap_size;
    peb.heap.ptr = l->heap_gpa;
    peb.file_mappings.size = 0;
    peb.file_mappings.ptr = l->peb_gpa + GLINT_FILE_MAPPINGS_OFFSET;
    peb.abi_version = GLINT_ABI_VERSION;
    peb.stack_top = l->stack_gpa + l->stack_size;
    peb.stack_limit = l->stack_gpa;
    peb.exception_stack_top = l->exception_stack_gpa + l->exception_stack_size;
    peb.metadata = l->metadata_gpa;
    peb.log_level = (uint32_t)cfg->log_level;
    peb.world = GLINT_WORLD_GPA(l->scratch_gpa);
    memcpy(mem + (l->peb_gpa - l->snapshot_gpa), &peb, sizeof peb);
}

void glint_image_inherit(glint_image *img, const glint_image *from) {
    glint_symbols_retain(from->symbols);
    img->symbols = from->symbols;
    memcpy(img->name, from->name, sizeof img->name);
}

glint_status glint_image_build(glint_counters *c, const glint_layout_info *l,
                               const glint_elf_info *elf, const void *elf_data, size_t elf_size,
                               const char *name, const glint_config *cfg, glint_image **out,
                               glint_error *err) {
    glint_image *img;
    glint_status st = glint_image_new(c, l, glint_image_elf_hash(elf_data, elf_size), &img, err);
    if (st != GLINT_OK) return st;
    if (name != NULL) {
        const char *slash = strrchr(name, '/');
        snprintf(img->name, sizeof img->name, "%s", slash != NULL ? slash + 1 : name);
    }
    if (glint_symbols_build(c, elf_data, elf_size, l->code_gpa, l->code_size, &img->symbols,
                            NULL) != GLINT_OK)
        img->symbols = NULL;
    uint8_t *mem = glint_counted_mmap(c, NULL, l->snapshot_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                                      img->fd, 0);
    if (mem == MAP_FAILED) {
        st = glint_fail_errno(err, GLINT_E_NO_MEMORY, errno, "mapping the guest image");
        goto fail;
    }
    st = glint_elf_load(elf, elf_data, elf_size, mem, l->code_size, l->code_gpa, err);
    if (st == GLINT_OK) {
        write_peb(mem, l, cfg);
        if (cfg->init_data_size != 0)
            memcpy(mem + (l->init_data_gpa - l->snapshot_gpa), cfg->init_data, cfg->init_data_size);
        st = build_page_tables(c, mem, l, elf, cfg->init_data_perms, &img->pt_pool, err);
    }
    glint_counted_munmap(c, mem, l->snapshot_size);
    if (st == GLINT_OK) st = glint_image_seal(img, err);
    if (st != GLINT_OK) goto fail;
    *out = img;
    return GLINT_OK;
fail:
    glint_image_release(img);
    return st;
}
