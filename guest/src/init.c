/*
 * init.c - runtime initialisation, the ABI note and the sandbox accessors.
 *
 * entry.asm calls glint_rt_init once with the host's RDI (PEB) and RSI (ABI
 * version).  Order matters: FPU state first, then the checks that may abort
 * (which needs the output buffer), the heap, C constructors, the guest's
 * glint_main, and finally the function table.  Faults at any point are the
 * host's to report (its exception stubs are in place before the first
 * instruction).
 */
#include "runtime.h"

#include <stdio.h>
#include <string.h>

/* ---- ELF note: tells the host which ABI this guest was built for ---------- */

struct glint_rt_abi_note {
    uint32_t name_size;
    uint32_t desc_size;
    uint32_t type;
    char name[8]; /* "Glint\0" padded to a multiple of 4 */
    struct glint_abi_note desc;
};

/* `used` keeps it in the object; the linker script KEEPs .note.glint. */
__attribute__((section(".note.glint"), used,
               aligned(4))) static const struct glint_rt_abi_note glint_rt_abi_note = {
    .name_size = sizeof GLINT_NOTE_NAME, /* 6, with the NUL */
    .desc_size = sizeof(struct glint_abi_note),
    .type = GLINT_NOTE_TYPE_ABI,
    .name = GLINT_NOTE_NAME,
    .desc = {.abi_version = GLINT_ABI_VERSION, .reserved = 0},
};
_Static_assert(sizeof GLINT_NOTE_NAME == 6, "note name size");
_Static_assert(sizeof(struct glint_rt_abi_note) == 12 + 8 + 8, "ELF note layout");

/* ---- State ---------------------------------------------------------------- */

struct glint_rt_layout glint_rt_layout;
uint64_t glint_rt_call_stack_top;

/* Constructor tables, defined by toolchain/guest.ld. */
typedef void (*glint_rt_constructor)(void);
extern const glint_rt_constructor __preinit_array_start[] GLINT_RT_INTERNAL;
extern const glint_rt_constructor __preinit_array_end[] GLINT_RT_INTERNAL;
extern const glint_rt_constructor __init_array_start[] GLINT_RT_INTERNAL;
extern const glint_rt_constructor __init_array_end[] GLINT_RT_INTERNAL;

static void run_constructors(const glint_rt_constructor *begin, const glint_rt_constructor *end) {
    for (const glint_rt_constructor *ctor = begin; ctor < end; ctor++) (*ctor)();
}

static void copy_layout(const glint_peb *peb) {
    glint_rt_layout.peb = peb;
    glint_rt_layout.input = (uint8_t *)(uintptr_t)peb->input.ptr;
    glint_rt_layout.input_size = peb->input.size;
    glint_rt_layout.output = (uint8_t *)(uintptr_t)peb->output.ptr;
    glint_rt_layout.output_size = peb->output.size;
    glint_rt_layout.init_data = (const void *)(uintptr_t)peb->init_data.ptr;
    glint_rt_layout.init_data_size = peb->init_data.size;
    glint_rt_layout.heap_start = peb->heap.ptr;
    glint_rt_layout.heap_size = peb->heap.size;
    glint_rt_call_stack_top = peb->stack_top;
}

void glint_rt_init(const glint_peb *peb, uint64_t abi_version) {
    copy_layout(peb);
    glint_rt_cpu_init();

    if (abi_version != GLINT_ABI_VERSION || peb->abi_version != GLINT_ABI_VERSION) {
        glint_abort(GLINT_E_ABI_MISMATCH,
                    "guest runtime built for ABI version %u, host passed %llu (PEB says %llu)",
                    GLINT_ABI_VERSION, (unsigned long long)abi_version,
                    (unsigned long long)peb->abi_version);
    }

    glint_rt_heap_init(glint_rt_layout.heap_start, glint_rt_layout.heap_size);
    /* Seeded before any constructor could want a random number. */
    glint_rt_world_init(peb);

    run_constructors(__preinit_array_start, __preinit_array_end);
    run_constructors(__init_array_start, __init_array_end);

    glint_main();
    /* Anything glint_main printed without a newline reaches the host before
     * the readiness report. */
    fflush(stdout);

    glint_rt_publish_functions();
    /* Back to _start, whose OUT to GLINT_PORT_DONE reports readiness. */
}

/* ---- Accessors --------------------------------------------------------------- */

const glint_peb *glint_get_peb(void) { return glint_rt_layout.peb; }

const void *glint_init_data(uint64_t *size) {
    const bool present = glint_rt_layout.init_data != NULL && glint_rt_layout.init_data_size != 0;
    if (size != NULL) *size = present ? glint_rt_layout.init_data_size : 0;
    return present ? glint_rt_layout.init_data : NULL;
}

/* The mapping table is read from the PEB at every use, not copied: the host
 * maps and unmaps files between calls. */
static const glint_file_mapping_info *mapping_table(uint32_t *count) {
    const glint_peb *peb = glint_rt_layout.peb;
    *count = 0;
    if (peb == NULL || peb->file_mappings.ptr == 0) return NULL;
    const uint64_t n = peb->file_mappings.size;
    *count = n < GLINT_MAX_FILE_MAPPINGS ? (uint32_t)n : GLINT_MAX_FILE_MAPPINGS;
    return (const glint_file_mapping_info *)(uintptr_t)peb->file_mappings.ptr;
}

uint32_t glint_mapping_count(void) {
    uint32_t count;
    mapping_table(&count);
    return count;
}

const glint_file_mapping_info *glint_mapping_get(uint32_t index) {
    uint32_t count;
    const glint_file_mapping_info *table = mapping_table(&count);
    return index < count ? &table[index] : NULL;
}

const glint_file_mapping_info *glint_mapping_find(const char *label) {
    if (label == NULL) return NULL;
    uint32_t count;
    const glint_file_mapping_info *table = mapping_table(&count);
    for (uint32_t i = 0; i < count; i++) {
        /* Bounded: a label that lacks its NUL never matches past its field. */
        if (strncmp(table[i].label, label, GLINT_FILE_MAPPING_LABEL_SIZE) == 0 &&
            memchr(table[i].label, '\0', GLINT_FILE_MAPPING_LABEL_SIZE) != NULL)
            return &table[i];
    }
    return NULL;
}
