/*
 * hostile_guest.c - a guest that attacks the host (hostile_guest.elf).
 *
 * Every registered function except the few helpers at the end is one
 * attack.  Most are declared (u64 arg) -> i64; an attack whose job is to
 * stop the guest returns NOT_STOPPED (0x7777) only if the host let it carry
 * on, which tests/hostile/test_hostile.c reports.  Attacks bypass the runtime
 * where the runtime would refuse to misbehave: they write the message
 * buffers and the page tables directly and execute OUT/IN/HLT/MOV CR3/WRMSR
 * themselves.
 *
 * The init-data blob selects an attack during initialisation (see
 * init_attack()), for the cases where the guest never becomes ready.
 */
#include <glint_guest.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOT_STOPPED 0x7777

void *sbrk(ptrdiff_t increment); /* the runtime's (guest/src/sys.c) */

#define ATTACK(name)                                                                               \
    static glint_status name(const glint_value *args, uint32_t argc, glint_value *ret)
#define ARG (args[0].as.u64)
#define UNUSED_ARGS                                                                                \
    do {                                                                                           \
        (void)args;                                                                                \
        (void)argc;                                                                                \
        (void)ret;                                                                                 \
    } while (0)
#define CARRIED_ON()                                                                               \
    do {                                                                                           \
        *ret = glint_i64(NOT_STOPPED);                                                             \
        return GLINT_OK;                                                                           \
    } while (0)

/* ---- Low-level helpers ------------------------------------------------------- */

static uint8_t *out_buf(void) { return (uint8_t *)(uintptr_t)glint_get_peb()->output.ptr; }
static uint64_t out_cap(void) { return glint_get_peb()->output.size; }
static uint8_t *in_buf(void) { return (uint8_t *)(uintptr_t)glint_get_peb()->input.ptr; }

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }
static uint64_t get64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }

static void out8(uint16_t port, uint8_t v) {
    __asm__ volatile("outb %b0, %w1" : : "a"(v), "Nd"(port) : "memory");
}
static void out16(uint16_t port, uint16_t v) {
    __asm__ volatile("outw %w0, %w1" : : "a"(v), "Nd"(port) : "memory");
}
static void out32(uint16_t port, uint32_t v) {
    __asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"(port) : "memory");
}
static uint8_t in8(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static uint16_t in16(uint16_t port) {
    uint16_t v;
    __asm__ volatile("inw %w1, %w0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}
static uint32_t in32(uint16_t port) {
    uint32_t v;
    __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

/* xorshift64: deterministic garbage. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* Pushes len raw bytes as one message on the output stack (the framing is
 * right, the content is whatever the attack wants). */
static void push_raw(const void *msg, uint64_t len) {
    uint8_t *slot;
    uint64_t avail;
    if (glint_stack_reserve(out_buf(), out_cap(), &slot, &avail) != 0 || len > avail) return;
    memcpy(slot, msg, len);
    glint_stack_commit(out_buf(), out_cap(), len);
}

/* Encodes a well-formed message with w, then lets the caller damage it. */
static uint8_t scratch_msg[512];
static glint_writer begin_msg(glint_msg_kind kind) {
    glint_writer w;
    glint_writer_init(&w, scratch_msg, sizeof scratch_msg);
    glint_msg_begin(&w, kind);
    return w;
}

/* A well-formed LOG message; returns its length. */
static uint64_t good_log(void) {
    glint_writer w;
    glint_writer_init(&w, scratch_msg, sizeof scratch_msg);
    return glint_encode_log(&w, GLINT_LOG_INFO, 1, "f.c", 3, "hello", 5);
}

/* ---- Output buffer: top and back-pointers --------------------------------------- */

/* A valid LOG message, then the stack's top replaced by `top`. */
static void log_with_top(uint64_t top, uint16_t port) {
    push_raw(scratch_msg, good_log());
    put64(out_buf(), top);
    out8(port, 0);
}

ATTACK(ob_top_huge) {
    UNUSED_ARGS;
    log_with_top(0xFFFFFFFFFFFFFFF8ull, GLINT_PORT_LOG);
    CARRIED_ON();
}
ATTACK(ob_top_max_done) {
    UNUSED_ARGS;
    log_with_top(UINT64_MAX, GLINT_PORT_DONE);
    CARRIED_ON();
}
ATTACK(ob_top_unaligned) {
    UNUSED_ARGS;
    push_raw(scratch_msg, good_log());
    put64(out_buf(), get64(out_buf()) + 3);
    out8(GLINT_PORT_PRINT, 0);
    CARRIED_ON();
}
ATTACK(ob_top_zero) {
    UNUSED_ARGS;
    log_with_top(0, GLINT_PORT_DONE);
    CARRIED_ON();
}
ATTACK(ob_top_past_end) {
    UNUSED_ARGS;
    log_with_top(out_cap() + 8, GLINT_PORT_HOST_CALL);
    CARRIED_ON();
}
/* Back-pointer (the u64 just below top) replaced by `back`. */
static void log_with_back(uint64_t back, uint16_t port) {
    push_raw(scratch_msg, good_log());
    uint64_t top = get64(out_buf());
    put64(out_buf() + top - 8, back);
    out8(port, 0);
}
ATTACK(ob_back_huge) {
    UNUSED_ARGS;
    log_with_back(0xFFFFFFFFFFFFFFF0ull, GLINT_PORT_LOG);
    CARRIED_ON();
}
ATTACK(ob_back_above_top) {
    UNUSED_ARGS;
    log_with_back(get64(out_buf()) + 64, GLINT_PORT_LOG);
    CARRIED_ON();
}
ATTACK(ob_back_zero) {
    UNUSED_ARGS;
    log_with_back(0, GLINT_PORT_DONE);
    CARRIED_ON();
}
ATTACK(ob_back_unaligned) {
    UNUSED_ARGS;
    log_with_back(12, GLINT_PORT_LOG);
    CARRIED_ON();
}
ATTACK(ob_done_empty) {
    UNUSED_ARGS;
    glint_stack_init(out_buf(), out_cap());
    out8(GLINT_PORT_DONE, 0);
    CARRIED_ON();
}
/* The output stack filled up to its last byte with back-to-back tiny
 * messages whose back-pointers chain to each other, then DONE. */
ATTACK(ob_chain_full) {
    UNUSED_ARGS;
    uint8_t *b = out_buf();
    uint64_t cap = out_cap(), top = 8;
    while (top + 16 <= cap) {
        put64(b + top, 0x0101010101010101ull);
        put64(b + top + 8, top);
        top += 16;
    }
    put64(b, top);
    out8(GLINT_PORT_DONE, 0);
    CARRIED_ON();
}

/* ---- Messages: lengths and contents ------------------------------------------------ */

ATTACK(msg_body_len_max) {
    UNUSED_ARGS;
    uint64_t n = good_log();
    put32(scratch_msg + 4, 0xFFFFFFFFu);
    push_raw(scratch_msg, n);
    out8(GLINT_PORT_LOG, 0);
    CARRIED_ON();
}
ATTACK(msg_body_len_past_buffer) {
    UNUSED_ARGS;
    uint64_t n = good_log();
    put32(scratch_msg + 4, (uint32_t)out_cap()); /* more than the whole buffer */
    push_raw(scratch_msg, n);
    out8(GLINT_PORT_LOG, 0);
    CARRIED_ON();
}
/* PRINT claiming 1 GiB of data with 16 bytes present. */
ATTACK(msg_print_claims_more) {
    UNUSED_ARGS;
    glint_writer w = begin_msg(GLINT_MSG_PRINT);
    glint_put_u32(&w, 1u << 30);
    glint_put_raw(&w, "0123456789abcdef", 16);
    push_raw(scratch_msg, glint_msg_end(&w));
    out8(GLINT_PORT_PRINT, 0);
    CARRIED_ON();
}
/* LOG whose file-name string claims 2^32-1 bytes. */
ATTACK(msg_string_len_max) {
    UNUSED_ARGS;
    glint_writer w = begin_msg(GLINT_MSG_LOG);
    glint_put_u32(&w, GLINT_LOG_INFO);
    glint_put_u32(&w, 1);
    glint_put_u32(&w, 0xFFFFFFFFu);
    glint_put_raw(&w, "abc\0", 4);
    push_raw(scratch_msg, glint_msg_end(&w));
    out8(GLINT_PORT_LOG, 0);
    CARRIED_ON();
}
/* A string that lacks its NUL terminator (the byte after it is 'X'). */
ATTACK(msg_string_no_nul) {
    UNUSED_ARGS;
    glint_writer w = begin_msg(GLINT_MSG_LOG);
    glint_put_u32(&w, GLINT_LOG_INFO);
    glint_put_u32(&w, 1);
    glint_put_u32(&w, 3);
    glint_put_raw(&w, "abcX", 4);
    glint_put_u32(&w, 0);
    glint_put_u8(&w, 0);
    push_raw(scratch_msg, glint_msg_end(&w));
    out8(GLINT_PORT_LOG, 0);
    CARRIED_ON();
}
/* RESULT bytes of length 0xFFFFFFF0, then DONE. */
ATTACK(msg_result_len_huge) {
    UNUSED_ARGS;
    glint_writer w = begin_msg(GLINT_MSG_RESULT);
    glint_put_u8(&w, GLINT_TYPE_BYTES);
    glint_put_u32(&w, 0xFFFFFFF0u);
    glint_put_raw(&w, "xy", 2);
    push_raw(scratch_msg, glint_msg_end(&w));
    out8(GLINT_PORT_DONE, 0);
    CARRIED_ON();
}
ATTACK(msg_bad_kind) {
    UNUSED_ARGS;
    uint64_t n = good_log();
    scratch_msg[0] = 0xFF;
    push_raw(scratch_msg, n);
    out8(GLINT_PORT_LOG, 0);
    CARRIED_ON();
}
ATTACK(msg_bad_version) {
    UNUSED_ARGS;
    uint64_t n = good_log();
    scratch_msg[1] = 99;
    scratch_msg[3] = 1; /* and a nonzero reserved byte */
    push_raw(scratch_msg, n);
    out8(GLINT_PORT_LOG, 0);
    CARRIED_ON();
}
ATTACK(msg_wrong_kind_for_port) {
    UNUSED_ARGS;
    glint_writer w;
    glint_writer_init(&w, scratch_msg, sizeof scratch_msg);
    glint_value v = glint_i64(1);
    push_raw(scratch_msg, glint_encode_result(&w, &v));
    out8(GLINT_PORT_LOG, 0);
    CARRIED_ON();
}
ATTACK(msg_log_bad_level) {
    UNUSED_ARGS;
    glint_writer w;
    glint_writer_init(&w, scratch_msg, sizeof scratch_msg);
    push_raw(scratch_msg, glint_encode_log(&w, 99, 1, "f", 1, "m", 1));
    out8(GLINT_PORT_LOG, 0);
    CARRIED_ON();
}
/* A RESULT of a type other than declared: the host must refuse it without
 * poisoning (the guest only hurts itself).  The guest then carries on after
 * its OUT when the next call arrives, out of step with the host. */
ATTACK(msg_result_wrong_type) {
    UNUSED_ARGS;
    glint_writer w;
    glint_writer_init(&w, scratch_msg, sizeof scratch_msg);
    glint_value v = glint_str("not an i64");
    push_raw(scratch_msg, glint_encode_result(&w, &v));
    out8(GLINT_PORT_DONE, 0);
    CARRIED_ON();
}
/* ABORT whose message string overruns the message. */
ATTACK(msg_abort_malformed) {
    UNUSED_ARGS;
    glint_writer w = begin_msg(GLINT_MSG_ABORT);
    glint_put_u32(&w, 5);
    glint_put_u32(&w, 1000);
    glint_put_raw(&w, "oops", 4);
    push_raw(scratch_msg, glint_msg_end(&w));
    out8(GLINT_PORT_ABORT, 0);
    CARRIED_ON();
}
/* ERROR whose code claims success and whose text is long. */
ATTACK(msg_error_code_zero) {
    UNUSED_ARGS;
    glint_writer w;
    glint_writer_init(&w, scratch_msg, sizeof scratch_msg);
    push_raw(scratch_msg, glint_encode_error(&w, 0, "zero", 4));
    out8(GLINT_PORT_DONE, 0);
    CARRIED_ON();
}
/* Garbage in the whole output buffer and the exception record, then an OUT
 * to the protocol port ARG. */
ATTACK(garbage_port) {
    (void)argc;
    rng_state ^= args[0].as.u64 * 0x100000001B3ull;
    uint8_t *b = out_buf();
    for (uint64_t i = 0; i < out_cap(); i += 8) put64(b + i, rng());
    volatile uint64_t *record = (volatile uint64_t *)(uintptr_t)glint_get_peb()->metadata;
    for (size_t i = 0; i < sizeof(glint_exception_record) / 8; i++) record[i] = rng();
    out8((uint16_t)ARG, (uint8_t)rng());
    CARRIED_ON();
}
/* An exception record with an absurd vector, reported on purpose. */
ATTACK(exception_record_forged) {
    UNUSED_ARGS;
    volatile glint_exception_record *r =
        (volatile glint_exception_record *)(uintptr_t)glint_get_peb()->metadata;
    r->vector = UINT64_MAX;
    r->error_code = UINT64_MAX;
    r->rip = 0xDEADBEEFDEADBEEFull;
    r->cr2 = UINT64_MAX;
    out8(GLINT_PORT_EXCEPTION, 0);
    CARRIED_ON();
}

/* ---- Input buffer ---------------------------------------------------------------------- */

/* A host call after the input stack's top was corrupted: the host has no
 * valid place to put the reply. */
ATTACK(ib_top_corrupt) {
    UNUSED_ARGS;
    put64(in_buf(), 0xFFFFFFFFFFFFFF00ull);
    glint_value r;
    glint_call_host("h_i32", GLINT_TYPE_I32, &r, 1, glint_i32(1));
    CARRIED_ON();
}
/* Raw host calls whose replies are never popped, until the input stack is
 * full. */
ATTACK(ib_fill_with_replies) {
    UNUSED_ARGS;
    for (int i = 0; i < 100000; i++) {
        glint_writer w;
        glint_writer_init(&w, scratch_msg, sizeof scratch_msg);
        glint_value a = glint_i32(i);
        push_raw(scratch_msg, glint_encode_call(&w, "h_i32", GLINT_TYPE_I32, &a, 1));
        out8(GLINT_PORT_HOST_CALL, 0);
    }
    CARRIED_ON();
}

/* ---- Host calls ---------------------------------------------------------------------- */

/* Raw CALL with argc 200 (GLINT_MAX_ARGS is 16). */
ATTACK(hc_raw_argc_200) {
    UNUSED_ARGS;
    glint_writer w = begin_msg(GLINT_MSG_CALL);
    glint_put_string(&w, "h_i32", 5);
    glint_put_u8(&w, GLINT_TYPE_I32);
    glint_put_u8(&w, 200);
    for (int i = 0; i < 20; i++) {
        glint_put_u8(&w, GLINT_TYPE_I32);
        glint_put_u32(&w, 0);
    }
    push_raw(scratch_msg, glint_msg_end(&w));
    out8(GLINT_PORT_HOST_CALL, 0);
    CARRIED_ON();
}
/* Raw CALL with a VOID argument and a bad type byte. */
ATTACK(hc_raw_bad_types) {
    UNUSED_ARGS;
    glint_writer w = begin_msg(GLINT_MSG_CALL);
    glint_put_string(&w, "h_i32", 5);
    glint_put_u8(&w, GLINT_TYPE_I32);
    glint_put_u8(&w, 2);
    glint_put_u8(&w, GLINT_TYPE_VOID);
    glint_put_u8(&w, 0xEE);
    push_raw(scratch_msg, glint_msg_end(&w));
    out8(GLINT_PORT_HOST_CALL, 0);
    CARRIED_ON();
}
/* Raw CALL with a 128-byte name (one more than allowed). */
ATTACK(hc_raw_name_too_long) {
    UNUSED_ARGS;
    char name[129];
    memset(name, 'n', 128);
    name[128] = '\0';
    glint_writer w = begin_msg(GLINT_MSG_CALL);
    glint_put_string(&w, name, 128);
    glint_put_u8(&w, GLINT_TYPE_I32);
    glint_put_u8(&w, 0);
    push_raw(scratch_msg, glint_msg_end(&w));
    out8(GLINT_PORT_HOST_CALL, 0);
    CARRIED_ON();
}

/* These report the status the host answered with, as the value. */
ATTACK(hc_unknown_name) {
    UNUSED_ARGS;
    *ret = glint_i64(glint_call_host("no_such_host_function", GLINT_TYPE_I32, NULL, 0));
    return GLINT_OK;
}
ATTACK(hc_wrong_count) {
    UNUSED_ARGS;
    *ret = glint_i64(glint_call_host("h_i32", GLINT_TYPE_I32, NULL, 3, glint_i32(1), glint_i32(2),
                                     glint_i32(3)));
    return GLINT_OK;
}
ATTACK(hc_wrong_type) {
    UNUSED_ARGS;
    *ret = glint_i64(glint_call_host("h_i32", GLINT_TYPE_I32, NULL, 1, glint_str("text")));
    return GLINT_OK;
}
ATTACK(hc_wrong_return_type) {
    UNUSED_ARGS;
    *ret = glint_i64(glint_call_host("h_i32", GLINT_TYPE_BYTES, NULL, 1, glint_i32(1)));
    return GLINT_OK;
}
/* The host function tries to call back into this sandbox. */
ATTACK(hc_reenter) {
    UNUSED_ARGS;
    *ret = glint_i64(glint_call_host("h_reenter", GLINT_TYPE_I32, NULL, 0));
    return GLINT_OK;
}
/* The host function returns a 1 MiB string: more than the input buffer. */
ATTACK(hc_huge_return) {
    UNUSED_ARGS;
    *ret = glint_i64(glint_call_host("h_big", GLINT_TYPE_STRING, NULL, 0));
    return GLINT_OK;
}
/* The host function returns a value of the wrong type (a host bug). */
ATTACK(hc_host_bad_return) {
    UNUSED_ARGS;
    *ret = glint_i64(glint_call_host("h_bad_ret", GLINT_TYPE_I32, NULL, 0));
    return GLINT_OK;
}
/* Recursion ARG levels deep, each level making a host call. */
__attribute__((noinline)) static int64_t host_recursion(uint64_t depth) {
    if (depth == 0) return 0;
    glint_value r;
    if (glint_call_host("h_i32", GLINT_TYPE_I32, &r, 1, glint_i32((int32_t)depth)) != GLINT_OK)
        return -1000000;
    int64_t below = host_recursion(depth - 1);
    return below + r.as.i32;
}
ATTACK(hc_recursion) {
    (void)argc;
    *ret = glint_i64(host_recursion(ARG));
    return GLINT_OK;
}
/* ARG host calls in a row. */
ATTACK(hc_flood) {
    (void)argc;
    int64_t sum = 0;
    for (uint64_t i = 0; i < ARG; i++) {
        glint_value r;
        glint_status st = glint_call_host("h_i32", GLINT_TYPE_I32, &r, 1, glint_i32(1));
        if (st != GLINT_OK) return st;
        sum += r.as.i32;
    }
    *ret = glint_i64(sum);
    return GLINT_OK;
}
/* Sleeps ARG ms in a host function (cancellation tests). */
ATTACK(hc_sleep) {
    (void)argc;
    glint_status st = glint_call_host("h_sleep", GLINT_TYPE_I32, NULL, 1, glint_u32((uint32_t)ARG));
    *ret = glint_i64(st);
    return GLINT_OK;
}

/* The host function sends the cancel signal to its own thread (a stale,
 * foreign signal: the call must not end as cancelled). */
ATTACK(hc_signal_self) {
    UNUSED_ARGS;
    *ret = glint_i64(glint_call_host("h_signal_self", GLINT_TYPE_I32, NULL, 0));
    return GLINT_OK;
}
/* The host function runs a call of ARG spins in another sandbox. */
ATTACK(hc_nested) {
    (void)argc;
    glint_value r;
    glint_status st = glint_call_host("h_nested", GLINT_TYPE_I64, &r, 1, glint_u64(ARG));
    *ret = glint_i64(st == GLINT_OK ? r.as.i64 : -(int64_t)st);
    return GLINT_OK;
}

/* ---- CPU exceptions ------------------------------------------------------------------ */

ATTACK(cpu_int3) {
    UNUSED_ARGS;
    __asm__ volatile("int3");
    CARRIED_ON();
}
ATTACK(cpu_ud2) {
    UNUSED_ARGS;
    __asm__ volatile("ud2");
    CARRIED_ON();
}
ATTACK(cpu_div0) {
    UNUSED_ARGS;
    volatile uint64_t a = 1, b = 0, quotient;
    quotient = a / b; /* stored to a volatile: the DIV must execute */
    (void)quotient;
    CARRIED_ON();
}
/* INT 0x80: beyond the 32-gate IDT, #GP. */
ATTACK(cpu_int80) {
    UNUSED_ARGS;
    __asm__ volatile("int $0x80");
    CARRIED_ON();
}
/* TF set: #DB after the next instruction. */
ATTACK(cpu_single_step) {
    UNUSED_ARGS;
    __asm__ volatile("pushfq\n\t"
                     "orq $0x100, (%%rsp)\n\t"
                     "popfq\n\t"
                     "nop\n\t"
                     "nop" ::
                         : "memory", "cc");
    CARRIED_ON();
}
ATTACK(cpu_noncanonical) {
    UNUSED_ARGS;
    volatile uint64_t *volatile p = (volatile uint64_t *)0x8000000000000000ull;
    *ret = glint_i64((int64_t)*p);
    CARRIED_ON();
}
ATTACK(cpu_null_write) {
    UNUSED_ARGS;
    volatile uint64_t *volatile p = NULL;
    *p = 1;
    CARRIED_ON();
}
/* Clearing CR0.PG in long mode: #GP. */
ATTACK(cpu_cr0_no_paging) {
    UNUSED_ARGS;
    uint64_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 &= ~(1ull << 31);
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
    CARRIED_ON();
}
/* Reserved CR4 bit: #GP. */
ATTACK(cpu_cr4_reserved) {
    UNUSED_ARGS;
    uint64_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 |= 1ull << 63;
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
    CARRIED_ON();
}
/* XSETBV with nonsense: #UD (no OSXSAVE) or #GP. */
ATTACK(cpu_xsetbv) {
    UNUSED_ARGS;
    __asm__ volatile("xsetbv" : : "c"(0), "a"(0xFFFFFFFFu), "d"(0xFFFFFFFFu) : "memory");
    CARRIED_ON();
}
/* SYSCALL with LSTAR = 0 and STAR = 0. */
ATTACK(cpu_syscall) {
    UNUSED_ARGS;
    __asm__ volatile("wrmsr" : : "c"(0xC0000082u), "a"(0u), "d"(0u));
    __asm__ volatile("syscall" ::: "rcx", "r11", "memory");
    CARRIED_ON();
}
/* RSP pointed at unmapped page 0, then a push. */
ATTACK(cpu_bad_stack) {
    UNUSED_ARGS;
    __asm__ volatile("mov $0x800, %%rsp\n\t"
                     "push %%rax" ::
                         : "memory");
    CARRIED_ON();
}
/* IDT with limit 0: int3 -> #GP -> #DF -> shutdown. */
ATTACK(cpu_triple_fault) {
    UNUSED_ARGS;
    static const struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty_idt = {0, 0};
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty_idt) : "memory");
    CARRIED_ON();
}
/* A GDT full of garbage, then a segment reload and a fault. */
ATTACK(cpu_gdt_garbage) {
    UNUSED_ARGS;
    static uint64_t garbage_gdt[8];
    for (int i = 0; i < 8; i++) garbage_gdt[i] = rng();
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } gdtr = {sizeof garbage_gdt - 1, (uint64_t)(uintptr_t)garbage_gdt};
    __asm__ volatile("lgdt %0\n\t"
                     "mov $0x10, %%ax\n\t"
                     "mov %%ax, %%ds\n\t"
                     "ud2"
                     :
                     : "m"(gdtr)
                     : "rax", "memory");
    CARRIED_ON();
}

/* ---- Memory protection ------------------------------------------------------------- */

ATTACK(mem_write_code) {
    UNUSED_ARGS;
    volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)&mem_write_code;
    *code = 0xCC;
    CARRIED_ON();
}
static const uint64_t rodata_word = 0x1234;
ATTACK(mem_write_rodata) {
    UNUSED_ARGS;
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)&rodata_word;
    *p = 1;
    CARRIED_ON();
}
ATTACK(mem_write_peb) {
    UNUSED_ARGS;
    volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)glint_get_peb();
    *p = 0;
    CARRIED_ON();
}
typedef void (*code_fn)(void);
ATTACK(mem_exec_heap) {
    UNUSED_ARGS;
    volatile uint8_t *block = malloc(64);
    if (block == NULL) return GLINT_E_OUT_OF_MEMORY;
    block[0] = 0xC3;
    code_fn volatile f = (code_fn)(uintptr_t)block;
    f();
    CARRIED_ON();
}
static uint8_t data_ret[16] = {0xC3};
ATTACK(mem_exec_data) {
    UNUSED_ARGS;
    code_fn volatile f = (code_fn)(uintptr_t)data_ret;
    f();
    CARRIED_ON();
}
ATTACK(mem_exec_stack) {
    UNUSED_ARGS;
    volatile uint8_t on_stack[16] = {0xC3};
    code_fn volatile f = (code_fn)(uintptr_t)on_stack;
    f();
    CARRIED_ON();
}
/* Jump into the middle of the input buffer (data written by the host). */
ATTACK(mem_exec_input) {
    UNUSED_ARGS;
    code_fn volatile f = (code_fn)(uintptr_t)(in_buf() + 64);
    f();
    CARRIED_ON();
}

/* ---- Stack, recursion, heap ------------------------------------------------------ */

static volatile bool keep_going = true;
__attribute__((noinline)) static uint64_t recurse_big(uint64_t depth) {
    volatile uint8_t frame[1024];
    for (size_t i = 0; i < sizeof frame; i++) frame[i] = (uint8_t)depth;
    if (!keep_going) return frame[0];
    return recurse_big(depth + 1) + frame[depth % sizeof frame];
}
ATTACK(stack_overflow) {
    UNUSED_ARGS;
    *ret = glint_i64((int64_t)recurse_big(0));
    CARRIED_ON();
}
/* Small frames, unbounded depth. */
__attribute__((noinline)) static uint64_t recurse_small(uint64_t n) {
    volatile uint64_t local = n; /* a frame of its own; XOR defeats accumulator elimination */
    if (!keep_going) return n;
    return recurse_small(n + 1) ^ local;
}
ATTACK(infinite_recursion) {
    UNUSED_ARGS;
    *ret = glint_i64((int64_t)recurse_small(0));
    CARRIED_ON();
}
/* One alloca-like jump far below the stack (skipping the guard page). */
ATTACK(stack_skip_guard) {
    UNUSED_ARGS;
    volatile uint8_t *p = (volatile uint8_t *)__builtin_frame_address(0) - (1u << 20);
    *p = 1;
    CARRIED_ON();
}
/* malloc until NULL (and absurd sizes), free everything, report the count. */
ATTACK(heap_exhaust) {
    UNUSED_ARGS;
    void **blocks = NULL;
    size_t n = 0;
    volatile size_t huge = SIZE_MAX, half = SIZE_MAX / 2;
    if (malloc(huge) != NULL || malloc(half) != NULL || calloc(huge, 2) != NULL)
        return GLINT_E_GUEST_ERROR;
    if (sbrk(-(ptrdiff_t)(1ull << 40)) != (void *)-1) return GLINT_E_GUEST_ERROR;
    for (;;) {
        void **grown = malloc(sizeof *blocks);
        if (grown == NULL) break;
        *grown = blocks;
        blocks = grown;
        n++;
    }
    while (blocks != NULL) {
        void **next = *blocks;
        free(blocks);
        blocks = next;
    }
    *ret = glint_i64((int64_t)n);
    return GLINT_OK;
}
/* Exhausts the heap and fails the call with GLINT_E_OUT_OF_MEMORY. */
ATTACK(heap_oom_error) {
    UNUSED_ARGS;
    size_t n = 0;
    while (malloc(1024) != NULL) n++;
    glint_set_error("heap exhausted after %zu KiB", n);
    return GLINT_E_OUT_OF_MEMORY;
}
/* Result larger than the output buffer: (u64) -> bytes. */
ATTACK(huge_result) {
    UNUSED_ARGS;
    static uint8_t *big;
    if (big == NULL) big = calloc(1, 64 * 1024);
    if (big == NULL) return GLINT_E_OUT_OF_MEMORY;
    *ret = glint_bytes(big, 64 * 1024);
    return GLINT_OK;
}
/* abort() with an 8 KiB message. */
ATTACK(abort_long_message) {
    UNUSED_ARGS;
    static char text[8192];
    memset(text, 'A', sizeof text - 1);
    glint_abort(-1, "%s", text);
}

/* ---- Port I/O ------------------------------------------------------------------------ */

ATTACK(port_out8) {
    (void)argc;
    out8((uint16_t)ARG, 0x5A);
    CARRIED_ON();
}
ATTACK(port_out16) {
    (void)argc;
    out16((uint16_t)ARG, 0x5A5A);
    CARRIED_ON();
}
ATTACK(port_out32) {
    (void)argc;
    out32((uint16_t)ARG, 0x5A5A5A5Au);
    CARRIED_ON();
}
ATTACK(port_in8) {
    (void)argc;
    *ret = glint_i64(in8((uint16_t)ARG));
    CARRIED_ON();
}
ATTACK(port_in16) {
    (void)argc;
    *ret = glint_i64(in16((uint16_t)ARG));
    CARRIED_ON();
}
ATTACK(port_in32) {
    (void)argc;
    *ret = glint_i64(in32((uint16_t)ARG));
    CARRIED_ON();
}
/* REP OUTSB of 16 bytes to a protocol port. */
ATTACK(port_rep_outsb) {
    (void)argc;
    const uint8_t *src = scratch_msg;
    uint64_t n = 16;
    __asm__ volatile("rep outsb" : "+S"(src), "+c"(n) : "d"((uint16_t)ARG) : "memory");
    CARRIED_ON();
}
ATTACK(port_rep_insb) {
    (void)argc;
    uint8_t *dst = scratch_msg;
    uint64_t n = 16;
    __asm__ volatile("rep insb" : "+D"(dst), "+c"(n) : "d"((uint16_t)ARG) : "memory");
    CARRIED_ON();
}

/* ---- HLT ------------------------------------------------------------------------------- */

ATTACK(hlt_loop) {
    UNUSED_ARGS;
    for (;;) __asm__ volatile("cli\n\thlt" ::: "memory");
    CARRIED_ON();
}
ATTACK(sti_hlt) {
    UNUSED_ARGS;
    for (;;) __asm__ volatile("sti\n\thlt" ::: "memory");
    CARRIED_ON();
}
ATTACK(spin_forever) {
    UNUSED_ARGS;
    volatile uint64_t n = 0;
    for (;;) n++;
    CARRIED_ON();
}
/* Spins for ARG iterations then returns (the busy part of cancellation tests). */
ATTACK(spin_n) {
    (void)argc;
    volatile uint64_t n = 0;
    for (uint64_t i = 0; i < ARG; i++) n++;
    *ret = glint_i64((int64_t)n);
    return GLINT_OK;
}

/* ---- Page tables and CR3 ---------------------------------------------------------------- */

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define LARGE_PAGE (2ull << 20)
#define WINDOW_VA (2ull << 30) /* PDPT entry 2 */

static uint64_t pt_pml4[512] __attribute__((aligned(4096)));
static uint64_t pt_pdpt[512] __attribute__((aligned(4096)));
static uint64_t pt_pd_low[512] __attribute__((aligned(4096)));
static uint64_t pt_pd_top[512] __attribute__((aligned(4096)));
static uint64_t pt_pd_window[512] __attribute__((aligned(4096)));
static uint8_t garbage_page[4096] __attribute__((aligned(4096)));

static uint64_t read_cr3(void) {
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static uint64_t addr(const void *p) { return (uint64_t)(uintptr_t)p; }

/* Own page tables (guest virtual == guest physical, as the host sets it up):
 * 2 MiB pages for the low 1 GiB (the image, heap, PEB, page tables) and for
 * the top 2 MiB below GLINT_PHYS_TOP (the scratch region: buffers, stacks,
 * metadata), plus a 2 MiB window at WINDOW_VA onto window_gpa. */
static volatile uint8_t *own_tables(uint64_t window_gpa, bool exec) {
    memset(pt_pml4, 0, sizeof pt_pml4);
    memset(pt_pdpt, 0, sizeof pt_pdpt);
    memset(pt_pd_window, 0, sizeof pt_pd_window);
    for (uint64_t i = 0; i < 512; i++) pt_pd_low[i] = (i * LARGE_PAGE) | PTE_P | PTE_W | PTE_PS;
    memset(pt_pd_top, 0, sizeof pt_pd_top);
    pt_pd_top[511] = (GLINT_PHYS_TOP - LARGE_PAGE) | PTE_P | PTE_W | PTE_PS;
    pt_pd_window[0] =
        (window_gpa & ~(LARGE_PAGE - 1)) | PTE_P | PTE_W | PTE_PS | (exec ? 0 : PTE_NX);
    pt_pdpt[0] = addr(pt_pd_low) | PTE_P | PTE_W;
    pt_pdpt[2] = addr(pt_pd_window) | PTE_P | PTE_W;
    pt_pdpt[((GLINT_PHYS_TOP - 1) >> 30) & 511] = addr(pt_pd_top) | PTE_P | PTE_W;
    pt_pml4[0] = addr(pt_pdpt) | PTE_P | PTE_W;
    write_cr3(addr(pt_pml4));
    return (volatile uint8_t *)(uintptr_t)(WINDOW_VA + (window_gpa & (LARGE_PAGE - 1)));
}

/* Read / write / execute at guest-physical ARG through own page tables. */
ATTACK(mmio_read) {
    (void)argc;
    volatile uint8_t *p = own_tables(ARG, false);
    *ret = glint_i64((int64_t) * (volatile uint64_t *)p);
    CARRIED_ON();
}
ATTACK(mmio_write) {
    (void)argc;
    volatile uint8_t *p = own_tables(ARG, false);
    *(volatile uint64_t *)p = 0x1122334455667788ull;
    CARRIED_ON();
}
ATTACK(mmio_exec) {
    (void)argc;
    volatile uint8_t *p = own_tables(ARG, true);
    code_fn volatile f = (code_fn)(uintptr_t)p;
    f();
    CARRIED_ON();
}
/* MMIO by a string instruction: REP MOVSB from the window. */
ATTACK(mmio_rep_movs) {
    (void)argc;
    volatile uint8_t *p = own_tables(ARG, false);
    const volatile uint8_t *src = p;
    uint8_t *dst = scratch_msg;
    uint64_t n = 256;
    __asm__ volatile("rep movsb" : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
    CARRIED_ON();
}
/* Own tables with the window on the host-built page tables: the guest reads
 * (and could rewrite) them - harmless, they are its own memory.  CR3 then
 * goes back to the host's tables, untouched. */
ATTACK(pt_read_host_tables) {
    UNUSED_ARGS;
    uint64_t pt_gpa = read_cr3() & ~0xFFFull;
    volatile uint64_t *pml4 = (volatile uint64_t *)own_tables(pt_gpa, false);
    uint64_t entry = pml4[0];
    write_cr3(pt_gpa);
    *ret = glint_i64((int64_t)(entry & PTE_P));
    return GLINT_OK;
}
/* CR3 -> a guest-physical address with no memory behind it. */
ATTACK(cr3_unbacked) {
    (void)argc;
    write_cr3(ARG);
    CARRIED_ON();
}
/* CR3 -> a page of 0xFF bytes (reserved bits everywhere). */
ATTACK(cr3_garbage) {
    UNUSED_ARGS;
    memset(garbage_page, 0xFF, sizeof garbage_page);
    write_cr3(addr(garbage_page));
    CARRIED_ON();
}
/* The host's own PML4 rewritten (through own tables) so that entry 0 points
 * at unbacked memory, then CR3 switched back to it. */
ATTACK(pt_rewrite_host_tables) {
    (void)argc;
    uint64_t pt_gpa = read_cr3() & ~0xFFFull;
    volatile uint64_t *pml4 = (volatile uint64_t *)own_tables(pt_gpa, false);
    pml4[0] = (ARG & ~0xFFFull) | PTE_P | PTE_W;
    write_cr3(pt_gpa);
    *(volatile uint64_t *)(uintptr_t)scratch_msg = 1;
    CARRIED_ON();
}
/* PML4 entry 0 of the host's tables made a self-reference with the
 * user/large bits set: page walks loop through the PML4 itself. */
ATTACK(pt_self_reference) {
    UNUSED_ARGS;
    uint64_t pt_gpa = read_cr3() & ~0xFFFull;
    volatile uint64_t *pml4 = (volatile uint64_t *)own_tables(pt_gpa, false);
    pml4[0] = pt_gpa | PTE_P | PTE_W | PTE_PS;
    write_cr3(pt_gpa);
    *(volatile uint64_t *)(uintptr_t)scratch_msg = 1;
    CARRIED_ON();
}

/* ---- MSRs, CPUID, hypercalls ----------------------------------------------------- */

static uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    return ((uint64_t)hi << 32) | lo;
}
static void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
ATTACK(msr_read) {
    (void)argc;
    *ret = glint_i64((int64_t)rdmsr((uint32_t)ARG));
    return GLINT_OK;
}
ATTACK(msr_write_zero) {
    (void)argc;
    wrmsr((uint32_t)ARG, 0);
    *ret = glint_i64(0);
    return GLINT_OK;
}
ATTACK(msr_write_ones) {
    (void)argc;
    wrmsr((uint32_t)ARG, UINT64_MAX);
    *ret = glint_i64(0);
    return GLINT_OK;
}
/* kvmclock (MSR_KVM_SYSTEM_TIME_NEW) aimed at a page of the guest image. */
static uint64_t kvmclock_page[512] __attribute__((aligned(4096)));
ATTACK(kvmclock_enable) {
    UNUSED_ARGS;
    wrmsr(0x4b564d01u, addr(kvmclock_page) | 1u);
    *ret = glint_i64(0);
    return GLINT_OK;
}
ATTACK(kvmclock_peek) {
    UNUSED_ARGS;
    uint64_t any = 0;
    for (size_t i = 0; i < 512; i++) any |= ((volatile uint64_t *)kvmclock_page)[i];
    *ret = glint_i64((int64_t)any);
    return GLINT_OK;
}
ATTACK(cpuid_all) {
    UNUSED_ARGS;
    uint64_t sum = 0;
    static const uint32_t bases[] = {0, 0x40000000u, 0x80000000u, 0xC0000000u};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        for (uint32_t leaf = bases[b]; leaf < bases[b] + 0x24; leaf++) {
            for (uint32_t sub = 0; sub < 4; sub++) {
                uint32_t r[4];
                __asm__ volatile("cpuid"
                                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                                 : "a"(leaf), "c"(sub));
                sum += r[0] ^ r[1] ^ r[2] ^ r[3];
            }
        }
    }
    *ret = glint_i64((int64_t)sum);
    return GLINT_OK;
}
/* VMCALL with hypercall number ARG (KVM answers or #UD). */
ATTACK(hypercall) {
    (void)argc;
    uint64_t rax = ARG;
    __asm__ volatile("vmcall" : "+a"(rax) : "b"(0), "c"(0), "d"(0), "S"(0) : "memory");
    *ret = glint_i64((int64_t)rax);
    return GLINT_OK;
}
/* VMMCALL (AMD's form) with hypercall number ARG. */
ATTACK(hypercall_vmmcall) {
    (void)argc;
    uint64_t rax = ARG;
    __asm__ volatile("vmmcall" : "+a"(rax) : "b"(0), "c"(0), "d"(0), "S"(0) : "memory");
    *ret = glint_i64((int64_t)rax);
    return GLINT_OK;
}
ATTACK(rdtsc_rdrand) {
    UNUSED_ARGS;
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    *ret = glint_i64(((int64_t)hi << 32) | lo);
    return GLINT_OK;
}

/* ---- Floods --------------------------------------------------------------------- */

static char flood_text[1001];
ATTACK(log_flood) {
    (void)argc;
    memset(flood_text, 'L', 1000);
    for (uint64_t i = 0; i < ARG; i++) GLINT_INFO("%llu %s", (unsigned long long)i, flood_text);
    *ret = glint_i64((int64_t)ARG);
    return GLINT_OK;
}
ATTACK(print_flood) {
    (void)argc;
    memset(flood_text, 'P', 1000);
    for (uint64_t i = 0; i < ARG; i++) printf("%s\n", flood_text);
    *ret = glint_i64((int64_t)ARG);
    return GLINT_OK;
}
/* ARG bytes written to stdout in one write() (no newline). */
ATTACK(print_huge) {
    (void)argc;
    static char chunk[4096];
    memset(chunk, 'H', sizeof chunk);
    uint64_t left = ARG;
    while (left > 0) {
        size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
        if (write(1, chunk, n) < 0) return GLINT_E_GUEST_ERROR;
        left -= n;
    }
    *ret = glint_i64((int64_t)ARG);
    return GLINT_OK;
}
/* Raw LOG records sent straight from a loop, ARG of them. */
ATTACK(log_flood_raw) {
    (void)argc;
    uint64_t n = good_log();
    for (uint64_t i = 0; i < ARG; i++) {
        push_raw(scratch_msg, n);
        out8(GLINT_PORT_LOG, 0);
    }
    *ret = glint_i64((int64_t)ARG);
    return GLINT_OK;
}

/* ---- Helpers for the host tests ----------------------------------------------------- */

static glint_status ping(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    *ret = glint_i64((int64_t)(args[0].as.u64 + 1));
    return GLINT_OK;
}

/* ---- Registration ---------------------------------------------------------------------- */

static const struct {
    const char *name;
    glint_guest_fn fn;
} attacks[] = {
#define A(n)                                                                                       \
    { #n, n }
    A(ob_top_huge),
    A(ob_top_max_done),
    A(ob_top_unaligned),
    A(ob_top_zero),
    A(ob_top_past_end),
    A(ob_back_huge),
    A(ob_back_above_top),
    A(ob_back_zero),
    A(ob_back_unaligned),
    A(ob_done_empty),
    A(ob_chain_full),
    A(msg_body_len_max),
    A(msg_body_len_past_buffer),
    A(msg_print_claims_more),
    A(msg_string_len_max),
    A(msg_string_no_nul),
    A(msg_result_len_huge),
    A(msg_bad_kind),
    A(msg_bad_version),
    A(msg_wrong_kind_for_port),
    A(msg_log_bad_level),
    A(msg_result_wrong_type),
    A(msg_abort_malformed),
    A(msg_error_code_zero),
    A(garbage_port),
    A(exception_record_forged),
    A(ib_top_corrupt),
    A(ib_fill_with_replies),
    A(hc_raw_argc_200),
    A(hc_raw_bad_types),
    A(hc_raw_name_too_long),
    A(hc_unknown_name),
    A(hc_wrong_count),
    A(hc_wrong_type),
    A(hc_wrong_return_type),
    A(hc_reenter),
    A(hc_huge_return),
    A(hc_host_bad_return),
    A(hc_recursion),
    A(hc_flood),
    A(hc_sleep),
    A(hc_signal_self),
    A(hc_nested),
    A(cpu_int3),
    A(cpu_ud2),
    A(cpu_div0),
    A(cpu_int80),
    A(cpu_single_step),
    A(cpu_noncanonical),
    A(cpu_null_write),
    A(cpu_cr0_no_paging),
    A(cpu_cr4_reserved),
    A(cpu_xsetbv),
    A(cpu_syscall),
    A(cpu_bad_stack),
    A(cpu_triple_fault),
    A(cpu_gdt_garbage),
    A(mem_write_code),
    A(mem_write_rodata),
    A(mem_write_peb),
    A(mem_exec_heap),
    A(mem_exec_data),
    A(mem_exec_stack),
    A(mem_exec_input),
    A(stack_overflow),
    A(infinite_recursion),
    A(stack_skip_guard),
    A(heap_exhaust),
    A(heap_oom_error),
    A(abort_long_message),
    A(port_out8),
    A(port_out16),
    A(port_out32),
    A(port_in8),
    A(port_in16),
    A(port_in32),
    A(port_rep_outsb),
    A(port_rep_insb),
    A(hlt_loop),
    A(sti_hlt),
    A(spin_forever),
    A(spin_n),
    A(mmio_read),
    A(mmio_write),
    A(mmio_exec),
    A(mmio_rep_movs),
    A(pt_read_host_tables),
    A(cr3_unbacked),
    A(cr3_garbage),
    A(pt_rewrite_host_tables),
    A(pt_self_reference),
    A(msr_read),
    A(msr_write_zero),
    A(msr_write_ones),
    A(kvmclock_enable),
    A(kvmclock_peek),
    A(cpuid_all),
    A(hypercall),
    A(hypercall_vmmcall),
    A(rdtsc_rdrand),
    A(log_flood),
    A(print_flood),
    A(print_huge),
    A(log_flood_raw),
#undef A
};

/* Attacks during initialisation, chosen by the init-data blob (a string). */
static void init_attack(void) {
    uint64_t size;
    const char *cmd = glint_init_data(&size);
    if (cmd == NULL) return;
    if (strcmp(cmd, "spin") == 0) {
        volatile uint64_t n = 0;
        for (;;) n++;
    } else if (strcmp(cmd, "fault") == 0) {
        __asm__ volatile("ud2");
    } else if (strcmp(cmd, "abort") == 0) {
        glint_abort(42, "refusing to initialise");
    } else if (strcmp(cmd, "bad_registration") == 0) {
        glint_register_function("bad", ping, (glint_type)77, 0);
    } else if (strcmp(cmd, "too_many_functions") == 0) {
        for (int i = 0; i < 300; i++) {
            char name[32];
            snprintf(name, sizeof name, "f%d", i);
            glint_register_function(name, ping, GLINT_TYPE_I64, 1, GLINT_TYPE_U64);
        }
    } else if (strcmp(cmd, "reenter") == 0) {
        /* The host function tries glint_sandbox_initialize() again. */
        glint_status st = glint_call_host("h_reenter_init", GLINT_TYPE_I32, NULL, 0);
        printf("h_reenter_init -> %d\n", (int)st);
    } else if (strcmp(cmd, "corrupt_output") == 0) {
        put64(out_buf(), 0xFFFFFFFFFFFFFFF8ull);
    } else if (strcmp(cmd, "log_flood") == 0) {
        for (int i = 0; i < 2000; i++) GLINT_INFO("init record %d", i);
    }
}

void glint_main(void) {
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++)
        glint_register_function(attacks[i].name, attacks[i].fn, GLINT_TYPE_I64, 1, GLINT_TYPE_U64);
    glint_register_function("huge_result", huge_result, GLINT_TYPE_BYTES, 1, GLINT_TYPE_U64);
    glint_register_function("ping", ping, GLINT_TYPE_I64, 1, GLINT_TYPE_U64);
    init_attack();
}
