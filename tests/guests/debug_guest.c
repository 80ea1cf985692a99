/*
 * debug_guest.c - the guest of the debugging tests (tests/kvm/test_debug.c)
 * and of docs/debugging.md: small call chains with known names, a global
 * to print, a crash two frames down, a spin for Ctrl-C, and crashes with a
 * corrupted frame-pointer chain.  Names and signatures are a contract with
 * those tests.
 */
#include <glint_guest.h>

#include <stdint.h>
#include <stdlib.h>

/* Counts calls of work(); the tests print it from gdb. */
int32_t g_work_calls;

/* A header of a made-up packet format: the first byte is its length. */
__attribute__((noinline)) int32_t parse_header(const volatile uint8_t *packet) {
    return packet[0] * 2 + packet[1]; /* #PF at packet == NULL */
}

__attribute__((noinline)) int32_t dispatch_packet(const volatile uint8_t *packet) {
    int32_t n = parse_header(packet);
    return n + 1;
}

__attribute__((noinline)) int32_t compute(int32_t n) {
    int32_t r = n * 2;
    return r + 1;
}

/* work(n) -> 2n + 1 */
static glint_status work(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    g_work_calls++;
    *ret = glint_i32(compute(args[0].as.i32));
    return GLINT_OK;
}

/* crash() -> never: NULL dereference in parse_header <- dispatch_packet. */
static glint_status crash(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc;
    *ret = glint_i32(dispatch_packet(NULL));
    return GLINT_OK;
}

__attribute__((noinline)) void spin_loop(void) {
    for (volatile uint64_t i = 0;; i++) {}
}

/* spin() -> never: until Ctrl-C, kill or the deadline. */
static glint_status spin(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc, (void)ret;
    spin_loop();
    return GLINT_OK;
}

/* crash_wild_fp() / crash_loop_fp(): UD2 with the frame-pointer chain
 * pointing at garbage / at itself: the host's backtrace must end short. */
static glint_status crash_wild_fp(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc, (void)ret;
    __asm__ volatile("movabs $0xdeadbeefdeadbee8, %%rax\n\tmov %%rax, %%rbp\n\tud2" ::: "rax");
    return GLINT_OK;
}

static glint_status crash_loop_fp(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc, (void)ret;
    __asm__ volatile("mov %%rbp, (%%rbp)\n\tud2" ::: "memory");
    return GLINT_OK;
}

/* recurse(n): deep enough to overflow the stack for large n. */
__attribute__((noinline)) int32_t recurse_down(int32_t n) {
    volatile char pad[512];
    pad[0] = (char)n;
    if (n == 0) return pad[0];
    return recurse_down(n - 1) + pad[0];
}

static glint_status recurse(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    *ret = glint_i32(recurse_down(args[0].as.i32));
    return GLINT_OK;
}

static glint_status do_abort(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc, (void)ret;
    abort();
}

/* relay(n) -> the host function host_relay(n), which calls work(n) in
 * this sandbox again (a nested call): 2n + 1. */
static glint_status relay(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    glint_status st = glint_call_host("host_relay", GLINT_TYPE_I32, ret, 1, args[0]);
    if (st != GLINT_OK) glint_set_error("host_relay failed: %s", glint_host_error());
    return st;
}

void glint_main(void) {
    glint_register_function("work", work, GLINT_TYPE_I32, 1, GLINT_TYPE_I32);
    glint_register_function("crash", crash, GLINT_TYPE_I32, 0);
    glint_register_function("spin", spin, GLINT_TYPE_VOID, 0);
    glint_register_function("crash_wild_fp", crash_wild_fp, GLINT_TYPE_VOID, 0);
    glint_register_function("crash_loop_fp", crash_loop_fp, GLINT_TYPE_VOID, 0);
    glint_register_function("recurse", recurse, GLINT_TYPE_I32, 1, GLINT_TYPE_I32);
    glint_register_function("do_abort", do_abort, GLINT_TYPE_VOID, 0);
    glint_register_function("relay", relay, GLINT_TYPE_I32, 1, GLINT_TYPE_I32);
}
