/* Memory layout computation; every addition is overflow-checked by keeping
 * each size below GLINT_MAX_MEMORY_SIZE before summing. */
#include "layout.h"
#include "paging.h"

#include <string.h>

#include "glint/abi.h"

static uint64_t page_up(uint64_t v) { return (v + GLINT_PAGE - 1u) & ~(GLINT_PAGE - 1u); }

/* Distinct index count at one paging level (shift 21: PT pages, 30: PD
 * pages, 39: PDPT pages) over sorted disjoint ranges. */
static uint64_t distinct_blocks(const uint64_t (*ranges)[2], uint32_t count, unsigned shift) {
    uint64_t total = 0, last = UINT64_MAX;
    for (uint32_t i = 0; i < count; i++) {
        if (ranges[i][1] == 0) continue;
        uint64_t first = ranges[i][0] >> shift;
        uint64_t end = (ranges[i][0] + ranges[i][1] - 1u) >> shift;
        if (first == last) first++;
        if (end >= first) total += end - first + 1u;
        last = end;
    }
    return total;
}

uint64_t glint_page_table_pages(const uint64_t (*ranges)[2], uint32_t count) {
    return 1u /* PML4 */ + distinct_blocks(ranges, count, 39) + distinct_blocks(ranges, count, 30) +
           distinct_blocks(ranges, count, 21);
}

static glint_status check_size(const char *field, uint64_t value, uint64_t min, uint64_t max,
                               glint_error *err) {
    if (value < min)
        return glint_fail(err, GLINT_E_TOO_SMALL, "%s is %llu bytes, minimum is %llu", field,
                          (unsigned long long)value, (unsigned long long)min);
    if (value > max)
        return glint_fail(err, GLINT_E_TOO_BIG, "%s is %llu bytes, maximum is %llu", field,
                          (unsigned long long)value, (unsigned long long)max);
    return GLINT_OK;
}

/* The I/O buffers have no fixed maximum: a buffer is bounded only by what the
 * sandbox may have in all (memory_cap, and the scratch region that must hold
 * it), so large arguments and results need nothing but a larger
 * configuration.  Checked here, before any sum, to name the field. */
static glint_status check_io_size(const char *field, uint64_t value, uint64_t memory_cap,
                                  glint_error *err) {
    glint_status st =
        check_size(field, value, GLINT_MIN_IO_BUFFER_SIZE, GLINT_MAX_MEMORY_SIZE, err);
    if (st != GLINT_OK) return st;
    if (value > memory_cap)
        return glint_fail(err, GLINT_E_TOO_BIG, "%s is %llu bytes, more than memory_cap %llu",
                          field, (unsigned long long)value, (unsigned long long)memory_cap);
    return GLINT_OK;
}

glint_status glint_layout_compute(const glint_layout_params *p, glint_layout_info *out,
                                  glint_error *err) {
    glint_status st;
    memset(out, 0, sizeof *out);
    const uint64_t max = GLINT_MAX_MEMORY_SIZE;
    if ((st = check_io_size("input_size", p->input_size, p->memory_cap, err)) != GLINT_OK ||
        (st = check_io_size("output_size", p->output_size, p->memory_cap, err)) != GLINT_OK ||
        (st = check_size("heap_size", p->heap_size, GLINT_MIN_HEAP_SIZE, max, err)) != GLINT_OK ||
        (st = check_size("init_data_size", p->init_data_size, 0, max, err)) != GLINT_OK ||
        (st = check_size("image_size", p->image_size, 1, max, err)) != GLINT_OK ||
        (st = check_size("scratch_size", p->scratch_size, 0, max, err)) != GLINT_OK)
        return st;

    /* Scratch region, from the top of physical memory downwards. */
    uint64_t scratch = page_up(p->scratch_size);
    uint64_t input = page_up(p->input_size), output = page_up(p->output_size);
    uint64_t fixed =
        input + output + 2u * GLINT_PAGE + GLINT_EXCEPTION_STACK_SIZE + GLINT_METADATA_SIZE;
    uint64_t min_scratch = fixed + GLINT_MIN_STACK_SIZE;
    if (scratch < min_scratch)
        return glint_fail(err, GLINT_E_TOO_SMALL,
                          "scratch_size is %llu bytes, minimum is %llu for these buffer sizes",
                          (unsigned long long)p->scratch_size, (unsigned long long)min_scratch);
    out->scratch_size = scratch;
    out->scratch_gpa = GLINT_PHYS_TOP - scratch;
    out->input_gpa = out->scratch_gpa;
    out->input_size = input;
    out->output_gpa = out->input_gpa + input;
    out->output_size = output;
    out->stack_gpa = out->output_gpa + output + GLINT_PAGE; /* guard page below */
    out->metadata_gpa = GLINT_PHYS_TOP - GLINT_METADATA_SIZE;
    out->exception_stack_size = GLINT_EXCEPTION_STACK_SIZE;
    out->exception_stack_gpa = out->metadata_gpa - GLINT_EXCEPTION_STACK_SIZE;
    out->stack_size = out->exception_stack_gpa - GLINT_PAGE - out->stack_gpa;

    /* Snapshot region, from GLINT_BASE_ADDRESS upwards. */
    out->code_gpa = GLINT_BASE_ADDRESS;
    out->code_size = page_up(p->image_size);
    out->entry_gpa = out->code_gpa + p->entry;
    out->peb_gpa = out->code_gpa + out->code_size;
    out->cpu_tables_gpa = out->peb_gpa + GLINT_PAGE;
    out->exception_code_gpa = out->cpu_tables_gpa + GLINT_PAGE;
    out->heap_gpa = out->exception_code_gpa + GLINT_PAGE;
    out->heap_size = page_up(p->heap_size);
    out->init_data_gpa = out->heap_gpa + out->heap_size;
    out->init_data_size = page_up(p->init_data_size);
    out->page_tables_gpa = out->init_data_gpa + out->init_data_size;
    if (out->page_tables_gpa - GLINT_BASE_ADDRESS > max)
        return glint_fail(err, GLINT_E_TOO_BIG,
                          "image + heap_size + init_data_size exceed the %llu byte limit",
                          (unsigned long long)max);

    /* The page tables map everything but themselves and the guard pages,
     * and the world page right below the scratch region. */
    const uint64_t ranges[][2] = {
        {GLINT_BASE_ADDRESS, out->page_tables_gpa - GLINT_BASE_ADDRESS},
        {GLINT_WORLD_GPA(out->scratch_gpa), out->scratch_size + GLINT_WORLD_SIZE},
    };
    out->page_tables_size =
        (glint_page_table_pages(ranges, 2) + GLINT_MAPPING_PT_POOL_PAGES) * GLINT_PAGE;
    if (out->page_tables_size / GLINT_PAGE > GLINT_PT_MAX_PAGES)
        return glint_fail(err, GLINT_E_TOO_BIG, "page tables of %llu pages exceed %u",
                          (unsigned long long)(out->page_tables_size / GLINT_PAGE),
                          GLINT_PT_MAX_PAGES);
    out->snapshot_gpa = GLINT_BASE_ADDRESS;
    out->snapshot_size = out->page_tables_gpa + out->page_tables_size - GLINT_BASE_ADDRESS;
    if (out->snapshot_size > max)
        return glint_fail(err, GLINT_E_TOO_BIG, "snapshot region of %llu bytes exceeds %llu",
                          (unsigned long long)out->snapshot_size, (unsigned long long)max);
    out->total_size = out->snapshot_size + out->scratch_size;
    if (out->total_size > p->memory_cap)
        return glint_fail(err, GLINT_E_TOO_BIG,
                          "guest memory of %llu bytes exceeds memory_cap %llu",
                          (unsigned long long)out->total_size, (unsigned long long)p->memory_cap);
    return GLINT_OK;
}
