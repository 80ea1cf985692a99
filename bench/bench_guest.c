/*
 * bench_guest.c - the guest glint_bench measures (bench_guest.elf).
 *
 * Every function does as little as possible, so that what the benchmark
 * counts is the cost of the host/guest machinery, not guest work:
 *
 *   nop()               -> void  the empty call
 *   take_bytes(bytes)   -> u32   argument passing; returns the length without
 *                                reading the data (arguments are zero-copy)
 *   call_host()         -> i32   exactly one host callback (host_nop() -> i32)
 *   call_nested()       -> i32   one host callback, host_nest() -> i32, which
 *                                calls nop() in this sandbox: a nested call
 *   dirty_pages(u32 n)  -> u32   writes one byte to each of n distinct pages
 *                                of a heap block reserved at initialisation;
 *                                returns how many it wrote (at most capacity)
 *   dirty_capacity()    -> u32   pages dirty_pages can write
 *   spin()              -> void  loops until the host kills the call
 *
 * And Hyperlight 0.14's benchmark guest functions (its simpleguest), under
 * their names, for glint_bench --suite hyperlight (bench_hyperlight.c):
 *
 *   Echo(string)              -> string  returns its argument
 *   Add(i32, i32)             -> i32     returns HostAdd(a, b), a host function
 *   LargeParameters(bytes, string) -> void  does nothing with them
 *   24K_in_8K_out(bytes)      -> bytes   24 KiB in, its first 8 KiB out
 *   Spin()                    -> void    as spin()
 *
 * The dirty block is malloc'ed once in glint_main and never written there,
 * so its pages are untouched (and absent from the snapshot image) until
 * dirty_pages writes them.
 */
#include <glint_guest.h>

#include <stdlib.h>

#define PAGE 4096u
/* Heap left to malloc for anything else (the runtime itself needs none). */
#define HEAP_MARGIN (16u * 1024u)

static volatile uint8_t *dirty_block; /* page aligned */
static uint32_t dirty_block_pages;

static glint_status nop(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    return GLINT_OK;
}

static glint_status take_bytes(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    *ret = glint_u32(args[0].as.bytes.len);
    return GLINT_OK;
}

static glint_status call_host(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    glint_status status = glint_call_host("host_nop", GLINT_TYPE_I32, ret, 0);
    if (status != GLINT_OK) glint_set_error("host_nop failed: %s", glint_host_error());
    return status;
}

static glint_status call_nested(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    glint_status status = glint_call_host("host_nest", GLINT_TYPE_I32, ret, 0);
    if (status != GLINT_OK) glint_set_error("host_nest failed: %s", glint_host_error());
    return status;
}

static glint_status dirty_pages(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    uint32_t n = args[0].as.u32;
    if (n > dirty_block_pages) n = dirty_block_pages;
    for (uint32_t i = 0; i < n; i++) dirty_block[(size_t)i * PAGE] = (uint8_t)(i | 1u);
    *ret = glint_u32(n);
    return GLINT_OK;
}

static glint_status dirty_capacity(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    *ret = glint_u32(dirty_block_pages);
    return GLINT_OK;
}

static glint_status spin(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    volatile uint64_t spins = 0;
    for (;;) spins++; /* until glint_sandbox_kill stops the vCPU */
    return GLINT_OK;  /* not reached */
}

static glint_status echo(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    *ret = args[0]; /* points into the input buffer; the runtime copies it out */
    return GLINT_OK;
}

static glint_status add(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    glint_status status = glint_call_host("HostAdd", GLINT_TYPE_I32, ret, 2, args[0], args[1]);
    if (status != GLINT_OK) glint_set_error("HostAdd failed: %s", glint_host_error());
    return status;
}

static glint_status large_parameters(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    return GLINT_OK; /* the arguments were decoded and checked; nothing else to do */
}

static glint_status twenty_four_k_in_eight_k_out(const glint_value *args, uint32_t argc,
                                                 glint_value *ret) {
    (void)argc;
    if (args[0].as.bytes.len != 24u * 1024u) {
        glint_set_error("input must be 24 KiB, got %u bytes", args[0].as.bytes.len);
        return GLINT_E_GUEST_ERROR;
    }
    *ret = glint_bytes(args[0].as.bytes.ptr, 8u * 1024u);
    return GLINT_OK;
}

/* Reserves the largest block the heap allows, leaving HEAP_MARGIN. */
static void reserve_dirty_block(void) {
    uint64_t heap = glint_get_peb()->heap.size;
    if (heap <= HEAP_MARGIN + 2u * PAGE) return;
    uint64_t size = heap - HEAP_MARGIN;
    uint8_t *block = NULL;
    while (size >= 2u * PAGE && (block = malloc((size_t)size)) == NULL) size -= PAGE;
    if (block == NULL) return;
    uintptr_t first = ((uintptr_t)block + PAGE - 1u) & ~(uintptr_t)(PAGE - 1u);
    uintptr_t end = ((uintptr_t)block + (uintptr_t)size) & ~(uintptr_t)(PAGE - 1u);
    dirty_block = (volatile uint8_t *)first;
    dirty_block_pages = end > first ? (uint32_t)((end - first) / PAGE) : 0u;
}

void glint_main(void) {
    reserve_dirty_block();
    glint_register_function("nop", nop, GLINT_TYPE_VOID, 0);
    glint_register_function("take_bytes", take_bytes, GLINT_TYPE_U32, 1, GLINT_TYPE_BYTES);
    glint_register_function("call_host", call_host, GLINT_TYPE_I32, 0);
    glint_register_function("call_nested", call_nested, GLINT_TYPE_I32, 0);
    glint_register_function("dirty_pages", dirty_pages, GLINT_TYPE_U32, 1, GLINT_TYPE_U32);
    glint_register_function("dirty_capacity", dirty_capacity, GLINT_TYPE_U32, 0);
    glint_register_function("spin", spin, GLINT_TYPE_VOID, 0);
    glint_register_function("Echo", echo, GLINT_TYPE_STRING, 1, GLINT_TYPE_STRING);
    glint_register_function("Add", add, GLINT_TYPE_I32, 2, GLINT_TYPE_I32, GLINT_TYPE_I32);
    glint_register_function("LargeParameters", large_parameters, GLINT_TYPE_VOID, 2,
                            GLINT_TYPE_BYTES, GLINT_TYPE_STRING);
    glint_register_function("24K_in_8K_out", twenty_four_k_in_eight_k_out, GLINT_TYPE_BYTES, 1,
                            GLINT_TYPE_BYTES);
    glint_register_function("Spin", spin, GLINT_TYPE_VOID, 0);
}
