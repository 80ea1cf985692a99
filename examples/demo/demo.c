/*
 * demo.c - a small Glint guest (demo.elf) showing the basics: functions with
 * string and number parameters, a heap-allocated string result, and printf
 * output that the host receives as PRINT messages; and a function that
 * crashes on request, for docs/debugging.md.
 */
#include <glint_guest.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* greet(name) -> "Hello, NAME, from inside a Glint sandbox!"
 *
 * The result lives on the heap until the next greet call frees it: the
 * runtime copies a returned string to the host as soon as the function
 * returns, so it only has to outlive the function itself. */
static char *last_greeting;

static glint_status greet(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    static const char prefix[] = "Hello, ";
    static const char suffix[] = ", from inside a Glint sandbox!";
    const char *name = args[0].as.str.ptr;
    const size_t name_len = args[0].as.str.len;
    const size_t len = (sizeof prefix - 1u) + name_len + (sizeof suffix - 1u);

    free(last_greeting);
    last_greeting = malloc(len + 1u);
    if (last_greeting == NULL) {
        glint_set_error("greet: no memory for a %zu-byte greeting", len);
        return GLINT_E_OUT_OF_MEMORY;
    }
    snprintf(last_greeting, len + 1u, "%s%s%s", prefix, name, suffix);

    printf("greet: greeting %s\n", name); /* shows up on the host as guest output */
    GLINT_INFO("greeted %s", name);

    *ret = glint_str(last_greeting);
    return GLINT_OK;
}

/* add(a, b) -> a + b, wrapping on overflow like the machine does. */
static glint_status add(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    *ret = glint_i32((int32_t)((uint32_t)args[0].as.i32 + (uint32_t)args[1].as.i32));
    return GLINT_OK;
}

/* fib(n) -> the n-th Fibonacci number (fib(0) = 0, fib(1) = 1), iteratively.
 * Exact up to fib(93); beyond that it wraps modulo 2^64. */
static glint_status fib(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    uint64_t previous = 0;
    uint64_t current = 1;
    for (uint32_t i = 0; i < args[0].as.u32; i++) {
        const uint64_t next = previous + current;
        previous = current;
        current = next;
    }
    *ret = glint_u64(previous);
    return GLINT_OK;
}

/* peek(address) -> the byte of guest memory at address.  Unsafe on
 * purpose, for docs/debugging.md: `peek 0` dereferences NULL two frames
 * down, like a real bug, and shows what a crash report, a core file and
 * gdb make of it. */
__attribute__((noinline)) static uint32_t read_byte(uint64_t address) {
    return *(const volatile uint8_t *)(uintptr_t)address;
}

static glint_status peek(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    *ret = glint_u32(read_byte(args[0].as.u64));
    return GLINT_OK;
}

void glint_main(void) {
    glint_register_function("greet", greet, GLINT_TYPE_STRING, 1, GLINT_TYPE_STRING);
    glint_register_function("add", add, GLINT_TYPE_I32, 2, GLINT_TYPE_I32, GLINT_TYPE_I32);
    glint_register_function("fib", fib, GLINT_TYPE_U64, 1, GLINT_TYPE_U32);
    glint_register_function("peek", peek, GLINT_TYPE_U32, 1, GLINT_TYPE_U64);
}
