/*
 * libFuzzer target: the guest ELF loader on arbitrary bytes.
 *
 *   glint_elf_parse  must accept or reject any input without reading outside
 *                    it, and name the problem when it rejects;
 *   glint_elf_load   must succeed on whatever parse accepted and write only
 *                    inside the image (guard pages around it catch the rest);
 *   glint_layout_compute  must lay the accepted image out or refuse it;
 *   glint_symbols_build   must build a table from any input's section
 *                    headers and symbol table or refuse it, and lookups in
 *                    it stay inside it.
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "elf_loader.h"
#include "layout.h"
#include "symbols.h"

#define PAGE 4096u

static void check(int ok) {
    if (!ok) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Symbols from whatever section headers the input has. */
static void fuzz_symbols(const uint8_t *data, size_t size) {
    glint_symbols *syms;
    glint_error err;
    glint_status st = glint_symbols_build(NULL, data, size, 0x1000, 1u << 20, &syms, &err);
    if (st != GLINT_OK) {
        check(st == GLINT_E_ELF || st == GLINT_E_NO_MEMORY);
        check(err.message[0] != '\0');
        return;
    }
    for (uint32_t i = 0; i < syms->count; i++) {
        check(syms->syms[i].addr >= 0x1000 && syms->syms[i].addr < 0x1000 + (1u << 20));
        check(syms->syms[i].name < syms->names_size);
        check(i == 0 || syms->syms[i - 1].addr < syms->syms[i].addr);
        uint64_t off;
        const char *name = glint_symbols_lookup(syms, syms->syms[i].addr, &off);
        check(name != NULL && off == 0 && strlen(name) <= GLINT_SYMBOL_NAME_MAX);
    }
    glint_symbols_release(syms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    glint_elf_info info;
    glint_error err;
    fuzz_symbols(data, size);
    glint_status st = glint_elf_parse(data, size, &info, &err);
    if (st != GLINT_OK) {
        check(st == GLINT_E_ELF || st == GLINT_E_ABI_MISMATCH);
        check(err.code == st && err.message[0] != '\0');
        check(memchr(err.message, 0, sizeof err.message) != NULL);
        return 0;
    }
    /* What parse promises. */
    check(info.segment_count >= 1 && info.segment_count <= GLINT_ELF_MAX_SEGMENTS);
    check(info.image_size % PAGE == 0 && info.image_size <= GLINT_ELF_MAX_IMAGE_SIZE);
    check(info.entry < info.image_size);
    for (uint32_t i = 0; i < info.segment_count; i++) {
        const glint_elf_segment *s = &info.segments[i];
        check(s->filesz <= s->memsz && s->offset <= size && s->filesz <= size - s->offset);
        check(s->vaddr <= info.image_size && s->memsz <= info.image_size - s->vaddr);
    }

    /* The image with an inaccessible page on either side. */
    size_t span = (size_t)info.image_size + 2u * PAGE;
    uint8_t *area = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED) return 0;
    uint8_t *image = area + PAGE;
    check(mprotect(image, info.image_size, PROT_READ | PROT_WRITE) == 0);
    st = glint_elf_load(&info, data, size, image, info.image_size, GLINT_BASE_ADDRESS, &err);
    check(st == GLINT_OK);
    /* Too small an image buffer is refused, not overrun. */
    if (info.image_size > PAGE)
        check(glint_elf_load(&info, data, size, image, info.image_size - PAGE, GLINT_BASE_ADDRESS,
                             &err) != GLINT_OK);
    munmap(area, span);

    glint_layout_params lp = {
        .image_size = info.image_size,
        .entry = info.entry,
        .heap_size = GLINT_DEFAULT_HEAP_SIZE,
        .input_size = GLINT_DEFAULT_INPUT_SIZE,
        .output_size = GLINT_DEFAULT_OUTPUT_SIZE,
        .scratch_size = GLINT_DEFAULT_SCRATCH_SIZE,
        .memory_cap = 16ull << 30,
    };
    glint_layout_info layout;
    st = glint_layout_compute(&lp, &layout, &err);
    if (st == GLINT_OK) {
        check(layout.entry_gpa >= layout.code_gpa &&
              layout.entry_gpa < layout.code_gpa + layout.code_size);
        check(layout.snapshot_gpa + layout.snapshot_size <= layout.scratch_gpa);
    }
    return 0;
}
