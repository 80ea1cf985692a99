/*
 * image.h - the guest image: the memory a sandbox starts from, shared by
 * reference count between sandboxes and snapshots.
 *
 * A glint_image is immutable once built: a memfd with the whole guest memory
 * (snapshot region, then scratch), its layout, the hash of the guest ELF,
 * the page-table pool describing the tables in that memory, and the guest's
 * function table when it is known (images captured after initialisation).
 * Sandboxes map the memfd MAP_PRIVATE; snapshots hold an image; a sandbox
 * moving to another image (snapshot, restore) retains the new one before it
 * releases the old, so nothing it uses can be freed under it.
 *
 * glint_function_table is the guest's function table, itself reference
 * counted and immutable: the sandbox that read it at initialisation, every
 * image captured from that sandbox, and every sandbox made from those images
 * share one copy.
 *
 * Threading: retain/release are atomic; everything else is read-only after
 * construction, so images and tables may be shared across threads.
 */
#ifndef GLINT_IMAGE_H
#define GLINT_IMAGE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_loader.h"
#include "error.h"
#include "paging.h"

typedef struct glint_function_table {
    _Atomic uint32_t refs;
    uint32_t count;
    glint_function_info *entries; /* count entries, names point into names */
    char *names;                  /* NUL-terminated names, back to back */
    size_t names_size;
} glint_function_table;

/* One allocation holding room for count entries and names_size bytes of
 * names, all zero; refs 1.  NULL when out of memory.  Counted in c. */
glint_function_table *glint_function_table_new(glint_counters *c, uint32_t count,
                                               size_t names_size);
glint_function_table *glint_function_table_retain(glint_function_table *t);
void glint_function_table_release(glint_function_table *t);
/* NULL when t is NULL or has no function called name. */
const glint_function_info *glint_function_table_find(const glint_function_table *t,
                                                     const char *name);

typedef struct glint_image {
    _Atomic uint32_t refs;
    int fd;              /* memfd: snapshot region, then scratch */
    uint64_t mem_size;   /* layout.total_size */
    uint64_t data_pages; /* non-zero pages the memfd holds (snapshot images) */
    glint_layout_info layout;
    uint64_t elf_hash;               /* glint_image_elf_hash() of the guest binary */
    glint_function_table *functions; /* owned reference, or NULL (not initialised yet) */
    glint_pt_pool pt_pool;           /* table pages in use in this memory */
    struct glint_symbols *symbols;   /* owned reference: the guest's functions, or NULL */
    char name[64];                   /* guest file name for core files, or "" */
} glint_image;

/* An empty image of l->total_size bytes (a sparse memfd that can be sealed);
 * refs 1.  The caller fills the memfd, data_pages, functions and pt_pool. */
glint_status glint_image_new(glint_counters *c, const glint_layout_info *l, uint64_t elf_hash,
                             glint_image **out, glint_error *err);
/* Builds the initial image of a guest: the ELF loaded at l->code_gpa, the
 * PEB (from cfg), init data, the host's CPU tables and stubs, and the page
 * tables; the ELF's function symbols (a malformed or missing symbol table
 * leaves none: they only name code in crash reports) and its name (NULL or
 * a path: the file name is kept).  cfg->init_data is read here and not
 * kept. */
glint_status glint_image_build(glint_counters *c, const glint_layout_info *l,
                               const glint_elf_info *elf, const void *elf_data, size_t elf_size,
                               const char *name, const glint_config *cfg, glint_image **out,
                               glint_error *err);
/* A new image takes over what describes the guest binary from another. */
void glint_image_inherit(glint_image *img, const glint_image *from);
/* Seals the memfd against writes and resizing: the memory of a snapshot can
 * never change under the sandboxes mapping it. */
glint_status glint_image_seal(glint_image *img, glint_error *err);
glint_image *glint_image_retain(glint_image *img);
void glint_image_release(glint_image *img);

uint64_t glint_image_elf_hash(const void *elf_data, size_t elf_size);

#endif
