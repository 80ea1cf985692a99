/*
 * elf_loader.h - loader for untrusted guest ELF files: static PIE for x86-64, linked
 * at 0, R_X86_64_RELATIVE relocations only, carrying the Glint ABI note.
 * Every header, offset and size is checked (with overflow checks) before use;
 * parse and load never read outside the buffer they are given.
 */
#ifndef GLINT_ELF_LOADER_H
#define GLINT_ELF_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define GLINT_ELF_MAX_SEGMENTS 16u
#define GLINT_ELF_MAX_PHDRS 64u
#define GLINT_ELF_MAX_IMAGE_SIZE (1ull << 30)

typedef struct glint_elf_segment {
    uint64_t vaddr; /* offset from the image base */
    uint64_t memsz;
    uint64_t offset; /* file offset */
    uint64_t filesz;
    uint32_t perms; /* GLINT_PERM_* */
} glint_elf_segment;

typedef struct glint_elf_info {
    uint64_t image_size; /* page-aligned end of the highest PT_LOAD */
    uint64_t entry;      /* entry point, offset from the image base */
    uint32_t segment_count;
    glint_elf_segment segments[GLINT_ELF_MAX_SEGMENTS];
    uint64_t rela_offset; /* file offset of the RELA table (0 if none) */
    uint64_t rela_count;
    uint32_t abi_version;
} glint_elf_info;

/* Validates the whole file; GLINT_E_ELF or GLINT_E_ABI_MISMATCH on failure. */
glint_status glint_elf_parse(const void *data, size_t size, glint_elf_info *out, glint_error *err);

/* Copies the segments into image (image_size bytes, zero-filled by the
 * caller, at guest address load_base) and applies the relocations.  info
 * must come from glint_elf_parse on the same data. */
glint_status glint_elf_load(const glint_elf_info *info, const void *data, size_t size,
                            uint8_t *image, uint64_t image_size, uint64_t load_base,
                            glint_error *err);

/* Where the symbol table is, for symbolized crash reports (symbols.c).
 * Offsets and sizes are checked against the file; a file without .symtab
 * (stripped) gives count 0 and GLINT_OK. */
typedef struct glint_elf_symtab {
    uint64_t sym_offset; /* file offset of the Elf64_Sym array */
    uint64_t count;      /* entries */
    uint64_t str_offset; /* file offset of the string table */
    uint64_t str_size;
} glint_elf_symtab;

/* Finds .symtab and its string table through the section headers.
 * GLINT_E_ELF if the section headers that lead there are malformed. */
glint_status glint_elf_find_symtab(const void *data, size_t size, glint_elf_symtab *out,
                                   glint_error *err);

#endif
