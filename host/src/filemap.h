/*
 * filemap.h - host files and embedder memory mapped into guest-physical
 * memory (docs/file-mappings.md): the mapping table a sandbox and its
 * snapshots keep, and the sandbox operations on it (filemap.c).
 */
#ifndef GLINT_FILEMAP_H
#define GLINT_FILEMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "glint/glint.h"

/* A guest-physical range backed by a host file or embedder memory. */
typedef struct glint_mapping {
    uint64_t gpa;
    uint64_t size; /* page aligned */
    uint32_t mode; /* GLINT_MAP_* */
    char label[GLINT_FILE_MAPPING_LABEL_SIZE];
    int fd;         /* file mappings: our own descriptor; -1 for host memory */
    void *host;     /* host address mapped into the guest */
    bool owns_host; /* host is our mmap of fd (unmapped with the mapping) */
    uint32_t slot;  /* KVM memory slot (sandbox tables only) */
} glint_mapping;

/* The mappings of a sandbox or of a snapshot, in the guest's table order.
 * A table owns its descriptors and the host views it mapped (owns_host). */
typedef struct glint_mapping_table {
    glint_mapping entries[GLINT_MAX_FILE_MAPPINGS];
    uint32_t count;
} glint_mapping_table;

/* dst becomes a copy of src for keeping in a snapshot: descriptors are
 * duplicated, file views are not (a sandbox maps its own), embedder memory
 * keeps its address.  dst must be empty.  GLINT_E_NO_MEMORY (descriptors
 * exhausted) leaves dst empty. */
glint_status glint_mapping_table_copy(glint_mapping_table *dst, const glint_mapping_table *src);
/* Closes the descriptors and unmaps the views t owns; t becomes empty. */
void glint_mapping_table_free(glint_mapping_table *t);

typedef struct glint_sandbox glint_sandbox;
/* Makes the sandbox's mappings (slots, host views) equal to snap_table's,
 * after its memory (which holds the page tables and the PEB table) went
 * back to the snapshot's.  Copy-on-write mappings it keeps lose their
 * private pages.  On failure the sandbox's table is consistent (every entry
 * has a slot) and the caller poisons the sandbox. */
glint_status glint_filemap_restore(glint_sandbox *sb, const glint_mapping_table *snap_table);

#endif
