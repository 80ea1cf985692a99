/*
 * snapshot_guest.c - the guest of the snapshot tests (tests/kvm/test_snapshot.c).
 *
 * Every kind of guest state a snapshot must capture and a restore must put
 * back: a global, heap blocks reachable from a global list, the stack, a
 * large .bss array whose pages can be dirtied one by one, and crashes that
 * poison the sandbox.  Names and signatures are a contract with the tests.
 *
 *   set_global(i64) -> i64       stores the value, returns the previous one
 *   get_global() -> i64
 *   heap_put(string) -> u32      malloc'ed copy appended to a list; returns the new count
 *   heap_get(u32) -> string      the index-th string (GLINT_E_GUEST_ERROR if out of range)
 *   heap_count() -> u32
 *   deep_stack(u32 depth) -> u64 recursion, every frame byte written; a value
 *                                depending on depth and on a call counter
 *   dirty_pages(u32 n) -> u32    writes one byte in each of the first n pages
 *                                of a 256-page page-aligned .bss array; returns
 *                                the number of calls so far (the byte written)
 *   read_pages(u32 n) -> u32     reads the bytes dirty_pages(n) would write (their sum);
 *                                writes only the call counter, like dirty_pages
 *   page_byte(u32 page) -> u32   the byte dirty_pages writes in that page
 *   dirty_heap(u32 n) -> u32     writes one byte in each of n pages of a heap
 *                                block (allocated, or grown, when first needed
 *                                and kept); returns the byte written
 *   read_heap(u32 n) -> u32      the same for dirty_heap(n)
 *   pages_gpa() -> u64           guest address of the array
 *   call_host_inc(i64) -> i64    returns host_inc(x) (host function i64 -> i64)
 *   fault_ud2() -> i32           #UD: poisons the sandbox
 *   spin_forever() -> i32        loops until the host's deadline or kill
 */
#include <glint_guest.h>

#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 4096u
#define DIRTY_PAGES 256u
#define MAX_STRINGS 1024u

static int64_t global_value;

static char *strings[MAX_STRINGS];
static uint32_t string_count;

/* Counts deep_stack and dirty_pages calls, so that every call writes
 * different bytes (a restore must visibly undo them). */
static uint32_t call_counter;

/* 1 MiB, 256 whole pages: nothing else shares them. */
static uint8_t dirty_area[DIRTY_PAGES * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static glint_status set_global(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    *ret = glint_i64(global_value);
    global_value = args[0].as.i64;
    return GLINT_OK;
}

static glint_status get_global(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    *ret = glint_i64(global_value);
    return GLINT_OK;
}

static glint_status heap_put(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    if (string_count == MAX_STRINGS) {
        glint_set_error("heap_put: list full (%u strings)", MAX_STRINGS);
        return GLINT_E_GUEST_ERROR;
    }
    const uint32_t len = args[0].as.str.len;
    char *copy = malloc((size_t)len + 1u);
    if (copy == NULL) {
        glint_set_error("heap_put: no memory for %u bytes", len + 1u);
        return GLINT_E_OUT_OF_MEMORY;
    }
    memcpy(copy, args[0].as.str.ptr, (size_t)len + 1u);
    strings[string_count++] = copy;
    *ret = glint_u32(string_count);
    return GLINT_OK;
}

static glint_status heap_get(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t index = args[0].as.u32;
    if (index >= string_count) {
        glint_set_error("heap_get: index %u out of range (%u strings)", index, string_count);
        return GLINT_E_GUEST_ERROR;
    }
    /* Heap memory outlives the function: the dispatcher copies it out. */
    *ret = glint_str(strings[index]);
    return GLINT_OK;
}

static glint_status heap_count(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    *ret = glint_u32(string_count);
    return GLINT_OK;
}

__attribute__((noinline)) static uint64_t recurse(uint32_t depth, uint32_t salt) {
    /* 1 KiB frames, every byte written: the stack really changes. */
    volatile uint8_t frame[1024];
    for (size_t i = 0; i < sizeof frame; i++) frame[i] = (uint8_t)(depth + salt + i);
    if (depth == 0) return frame[salt % sizeof frame];
    /* Not a tail call: the result is used after the call returns. */
    return recurse(depth - 1u, salt) + frame[depth % sizeof frame];
}

static glint_status deep_stack(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t depth = args[0].as.u32;
    if (depth > 150u) {
        glint_set_error("deep_stack: depth %u exceeds 150", depth);
        return GLINT_E_GUEST_ERROR;
    }
    call_counter++;
    *ret = glint_u64(recurse(depth, call_counter));
    return GLINT_OK;
}

/* Never 0, so a dirtied page is never all zero again. */
static uint8_t dirty_byte(void) { return (uint8_t)(call_counter % 255u + 1u); }

static glint_status dirty_pages(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t n = args[0].as.u32;
    if (n > DIRTY_PAGES) {
        glint_set_error("dirty_pages: %u pages requested, the area has %u", n, DIRTY_PAGES);
        return GLINT_E_GUEST_ERROR;
    }
    call_counter++;
    const uint8_t value = dirty_byte();
    volatile uint8_t *area = dirty_area;
    for (uint32_t i = 0; i < n; i++) area[(size_t)i * PAGE_SIZE + (i % 64u) * 64u] = value;
    *ret = glint_u32(value);
    return GLINT_OK;
}

/* A heap block kept across calls (a snapshot taken after it was allocated
 * holds it), for dirtying more pages than the .bss area has. */
static uint8_t *heap_block;
static uint32_t heap_block_pages;

static glint_status dirty_heap(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t n = args[0].as.u32;
    if (n > heap_block_pages) {
        free(heap_block);
        heap_block_pages = 0;
        heap_block = malloc((size_t)n * PAGE_SIZE);
        if (heap_block == NULL) {
            glint_set_error("dirty_heap: no memory for %u pages", n);
            return GLINT_E_OUT_OF_MEMORY;
        }
        heap_block_pages = n;
    }
    call_counter++;
    const uint8_t value = dirty_byte();
    volatile uint8_t *block = heap_block;
    for (uint32_t i = 0; i < n; i++) block[(size_t)i * PAGE_SIZE] = value;
    *ret = glint_u32(value);
    return GLINT_OK;
}

/* The same accesses as dirty_heap/dirty_pages, as reads: the same pages and
 * page tables are walked, and of the pages only the call counter's is
 * written (as by dirty_heap/dirty_pages). */
static glint_status read_heap(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t n = args[0].as.u32;
    if (n > heap_block_pages) {
        glint_set_error("read_heap: %u pages requested, the block has %u", n, heap_block_pages);
        return GLINT_E_GUEST_ERROR;
    }
    call_counter++;
    const volatile uint8_t *block = heap_block;
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += block[(size_t)i * PAGE_SIZE];
    *ret = glint_u32(sum);
    return GLINT_OK;
}

static glint_status read_pages(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t n = args[0].as.u32;
    if (n > DIRTY_PAGES) {
        glint_set_error("read_pages: %u pages requested, the area has %u", n, DIRTY_PAGES);
        return GLINT_E_GUEST_ERROR;
    }
    call_counter++;
    const volatile uint8_t *area = dirty_area;
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) sum += area[(size_t)i * PAGE_SIZE + (i % 64u) * 64u];
    *ret = glint_u32(sum);
    return GLINT_OK;
}

static glint_status page_byte(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t i = args[0].as.u32;
    if (i >= DIRTY_PAGES) {
        glint_set_error("page_byte: page %u out of range", i);
        return GLINT_E_GUEST_ERROR;
    }
    const volatile uint8_t *area = dirty_area;
    *ret = glint_u32(area[(size_t)i * PAGE_SIZE + (i % 64u) * 64u]);
    return GLINT_OK;
}

static glint_status pages_gpa(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    *ret = glint_u64((uint64_t)(uintptr_t)dirty_area);
    return GLINT_OK;
}

static glint_status call_host_inc(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const glint_status status = glint_call_host("host_inc", GLINT_TYPE_I64, ret, 1, args[0]);
    if (status != GLINT_OK) {
        glint_set_error("host_inc failed: %s", glint_host_error());
        return status;
    }
    return GLINT_OK;
}

static glint_status fault_ud2(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    __asm__ volatile("ud2");
    *ret = glint_i32(0);
    return GLINT_OK;
}

static glint_status spin_forever(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    volatile uint64_t spins = 0;
    for (;;) spins++; /* until the host's deadline or kill stops the vCPU */
    return GLINT_OK;  /* not reached */
}

void glint_main(void) {
    glint_register_function("set_global", set_global, GLINT_TYPE_I64, 1, GLINT_TYPE_I64);
    glint_register_function("get_global", get_global, GLINT_TYPE_I64, 0);
    glint_register_function("heap_put", heap_put, GLINT_TYPE_U32, 1, GLINT_TYPE_STRING);
    glint_register_function("heap_get", heap_get, GLINT_TYPE_STRING, 1, GLINT_TYPE_U32);
    glint_register_function("heap_count", heap_count, GLINT_TYPE_U32, 0);
    glint_register_function("deep_stack", deep_stack, GLINT_TYPE_U64, 1, GLINT_TYPE_U32);
    glint_register_function("dirty_pages", dirty_pages, GLINT_TYPE_U32, 1, GLINT_TYPE_U32);
    glint_register_function("page_byte", page_byte, GLINT_TYPE_U32, 1, GLINT_TYPE_U32);
    glint_register_function("dirty_heap", dirty_heap, GLINT_TYPE_U32, 1, GLINT_TYPE_U32);
    glint_register_function("read_heap", read_heap, GLINT_TYPE_U32, 1, GLINT_TYPE_U32);
    glint_register_function("read_pages", read_pages, GLINT_TYPE_U32, 1, GLINT_TYPE_U32);
    glint_register_function("pages_gpa", pages_gpa, GLINT_TYPE_U64, 0);
    glint_register_function("call_host_inc", call_host_inc, GLINT_TYPE_I64, 1, GLINT_TYPE_I64);
    glint_register_function("fault_ud2", fault_ud2, GLINT_TYPE_I32, 0);
    glint_register_function("spin_forever", spin_forever, GLINT_TYPE_I32, 0);
}
