/*
 * hostile_guest.c - a guest that attacks the host (hostile_guest.elf).
 *
 * Every registered function except the few helpers at the end is one
 * attack.  Most are declared (u64 arg) -> i64; an attack whose job is to
 * stop the guest returns NOT_STOPPED (0x7777) only if the host let it carry
 * on, which tests/hostile/test_hostile.c reports.  Attacks bypass the runtime
 * where the runtime would refuse to misbehave: they write the message
 * buffers directly and execute OUT/IN/HLT/MOV CRn/WRMSR/LGDT/IRETQ...
 * themselves.
 *
 * The guest runs at CPL 3 (docs/security.md): every privileged instruction,
 * every access to the host's supervisor-only pages (GDT/TSS/IDT, exception
 * stubs, exception stack, metadata page) and every port outside
 * GLINT_PORT_DONE..GLINT_PORT_ABORT must end in a CPU exception the host's
 * stubs report.  Attacks whose faulting instruction must be named exactly
 * are written in assembly (ASM_ROUTINE): the instruction sits at the label
 * hostile_site_<attack>, and fault_site("<attack>") tells the host test its
 * address, which the reported RIP must equal.
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
/* Garbage in the whole output buffer, then an OUT to the port ARG (the
 * exception record is out of reach: see exception_record_forged). */
ATTACK(garbage_port) {
    (void)argc;
    rng_state ^= args[0].as.u64 * 0x100000001B3ull;
    uint8_t *b = out_buf();
    for (uint64_t i = 0; i < out_cap(); i += 8) put64(b + i, rng());
    out8((uint16_t)ARG, (uint8_t)rng());
    CARRIED_ON();
}
/* An exception record with an absurd vector, to be reported on purpose: the
 * metadata page is supervisor-only, so the first store is a #PF (and the
 * OUT to 0xE5 would be a #GP: priv_out_exception). */
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

/* ---- Attacks in assembly, with the address of their faulting instruction -------- */

/* A routine hostile_<name>(u64 arg in RDI): `setup`, then `insn` at the
 * global label hostile_site_<name>, then RET with RAX as the result should
 * the CPU let it pass.  Top-level assembly is emitted exactly once (the
 * compiler can neither inline nor clone it), so the label is the one address
 * the host compares the reported RIP with.  Routines that return clobber only
 * RAX, RCX, RDX, RSI, RDI, R8-R11 (caller-saved). */
#define ASM_ROUTINE(name, setup, insn)                                                             \
    __asm__(".pushsection .text.hostile_" #name ",\"ax\",@progbits\n"                              \
            ".globl hostile_" #name "\n"                                                           \
            ".hidden hostile_" #name "\n"                                                          \
            ".type hostile_" #name ",@function\n"                                                  \
            "hostile_" #name ":\n\t" setup "\n"                                                    \
            ".globl hostile_site_" #name "\n"                                                      \
            ".hidden hostile_site_" #name "\n"                                                     \
            "hostile_site_" #name ":\n\t" insn "\n\t"                                              \
            "ret\n"                                                                                \
            ".size hostile_" #name ", . - hostile_" #name "\n"                                     \
            ".popsection\n");                                                                      \
    uint64_t hostile_##name(uint64_t arg);                                                         \
    extern const char hostile_site_##name[]

/* An attack that must never get past its instruction. */
#define FAULT_ATTACK(name, setup, insn)                                                            \
    ASM_ROUTINE(name, setup, insn);                                                                \
    ATTACK(name) {                                                                                 \
        (void)argc;                                                                                \
        (void)hostile_##name(ARG);                                                                 \
        CARRIED_ON();                                                                              \
    }

/* An attack the CPU lets pass (harmlessly): its routine's RAX is the result. */
#define PASSING_ATTACK(name, setup, insn)                                                          \
    ASM_ROUTINE(name, setup, insn);                                                                \
    ATTACK(name) {                                                                                 \
        (void)argc;                                                                                \
        *ret = glint_i64((int64_t)hostile_##name(ARG));                                            \
        return GLINT_OK;                                                                           \
    }

/* The selectors of the host's GDT (abi.h), as the assembly below spells them. */
_Static_assert(GLINT_SEL_KERNEL_CODE == 0x08 && GLINT_SEL_KERNEL_DATA == 0x10 &&
                   GLINT_SEL_USER_CODE == 0x1B && GLINT_SEL_USER_DATA == 0x23 &&
                   GLINT_SEL_TSS == 0x28 && GLINT_GDT_ENTRIES == 7,
               "selectors used by the segment attacks");
_Static_assert(GLINT_PORT_EXCEPTION == 0xE5, "priv_out_exception forges an OUT to 0xE5");

/* ---- CPU exceptions ------------------------------------------------------------------ */

FAULT_ATTACK(cpu_int3, "", "int3");
FAULT_ATTACK(cpu_ud2, "", "ud2");
FAULT_ATTACK(cpu_div0, "xor %ecx, %ecx\n\tmov $1, %eax\n\txor %edx, %edx", "div %rcx");
/* INT 0x80: beyond the 32-gate IDT, #GP (error code 0x80 * 8 + 2: IDT).
 * Here and below, where PVM or QEMU's TCG differ, test_hostile.c says how. */
FAULT_ATTACK(cpu_int80, "", "int $0x80");
/* INT 14 from CPL 3: the #PF gate has DPL 0, so a fake page fault into the
 * host's stubs is a #GP (error code 14 * 8 + 2) instead. */
FAULT_ATTACK(cpu_int_pf, "", "int $14");
/* ICEBP (INT1): a #DB delivered through the DPL-0 gate without the DPL
 * check, as the CPU defines it; the stubs report it like any #DB. */
FAULT_ATTACK(cpu_icebp, "", ".byte 0xf1");
/* SYSCALL with EFER.SCE off: #UD (the host never enables it, so there is no
 * LSTAR to enter CPL 0 at; PVM ignores SCE and jumps to LSTAR, 0, at CPL 3). */
FAULT_ATTACK(cpu_syscall, "", "syscall");
/* The same with RSP = ARG: an entry at CPL 0 that kept the guest's stack
 * would push the CPU's frame there (an address of the host's pages, or none). */
FAULT_ATTACK(cpu_syscall_rsp, "mov %rsp, %rdx\n\tmov %rdi, %rsp", "syscall\n\tmov %rdx, %rsp");
/* SYSENTER in 64-bit mode: #UD on AMD (invalid in long mode), #GP(0) on
 * Intel (IA32_SYSENTER_CS is 0). */
FAULT_ATTACK(cpu_sysenter, "", "sysenter");
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
/* RSP pointed at unmapped page 0, then a push: the #PF is delivered on the
 * exception stack (TSS.RSP0), never on the guest's broken one. */
FAULT_ATTACK(cpu_bad_stack, "mov %rsp, %rdx\n\tmov $0x800, %rsp", "push %rax\n\tmov %rdx, %rsp");
/* EFLAGS.AC and a misaligned load: no #AC while the guest's CR0.AM is clear
 * (hv_kvm.c); returns the loaded value (0). */
PASSING_ATTACK(cpu_alignment_check,
               "sub $32, %rsp\n\tmovq $0, 1(%rsp)\n\tpushfq\n\torq $0x40000, (%rsp)\n\tpopfq",
               "mov 1(%rsp), %rax\n\tpushfq\n\tandq $~0x40000, (%rsp)\n\tpopfq\n\t"
               "add $32, %rsp");

/* ---- Privileged instructions at CPL 3: #GP (or #UD where the CPU says so) ----------- */

FAULT_ATTACK(priv_wrmsr, "mov $0xC0000080, %ecx\n\txor %eax, %eax\n\txor %edx, %edx", "wrmsr");
FAULT_ATTACK(priv_rdmsr, "mov $0xC0000080, %ecx", "rdmsr");
FAULT_ATTACK(priv_mov_cr0, "xor %eax, %eax", "mov %rax, %cr0");
FAULT_ATTACK(priv_mov_cr3, "mov %rdi, %rax", "mov %rax, %cr3");
FAULT_ATTACK(priv_mov_cr4, "xor %eax, %eax", "mov %rax, %cr4");
FAULT_ATTACK(priv_read_cr3, "", "mov %cr3, %rax");
FAULT_ATTACK(priv_mov_dr7, "mov $0x3ff, %eax", "mov %rax, %dr7");
/* LGDT/LIDT of a table in guest memory (base = the stack, limit 0xfff). */
FAULT_ATTACK(priv_lgdt, "sub $16, %rsp\n\tmovw $0xfff, (%rsp)\n\tmov %rsp, 2(%rsp)",
             "lgdt (%rsp)\n\tadd $16, %rsp");
FAULT_ATTACK(priv_lidt, "sub $16, %rsp\n\tmovw $0xfff, (%rsp)\n\tmov %rsp, 2(%rsp)",
             "lidt (%rsp)\n\tadd $16, %rsp");
FAULT_ATTACK(priv_ltr, "mov $0x28, %eax", "ltr %ax");
FAULT_ATTACK(priv_lldt, "xor %eax, %eax", "lldt %ax");
FAULT_ATTACK(priv_hlt, "", "hlt");
FAULT_ATTACK(priv_invlpg, "", "invlpg (%rdi)");
/* XSETBV: #UD from an Intel CPU (the guest's CR4.OSXSAVE is clear); on AMD
 * KVM intercepts it first and refuses it at CPL 3 with #GP(0). */
FAULT_ATTACK(priv_xsetbv, "xor %ecx, %ecx\n\tmov $7, %eax\n\txor %edx, %edx", "xsetbv");
FAULT_ATTACK(priv_clts, "", "clts");
FAULT_ATTACK(priv_wbinvd, "", "wbinvd");
FAULT_ATTACK(priv_invd, "", "invd");
FAULT_ATTACK(priv_swapgs, "", "swapgs");
/* SYSRET: #UD with EFER.SCE off. */
FAULT_ATTACK(priv_sysret, "lea 1f(%rip), %rcx\n\tpushfq\n\tpop %r11", "sysretq\n1:");
/* SYSEXIT (REX.W): #GP(0) at CPL 3. */
FAULT_ATTACK(priv_sysexit, "", ".byte 0x48, 0x0f, 0x35");
FAULT_ATTACK(priv_cli, "", "cli");
FAULT_ATTACK(priv_sti, "", "sti");
/* RDPMC with CR4.PCE clear: #GP. */
FAULT_ATTACK(priv_rdpmc, "xor %ecx, %ecx", "rdpmc");
/* A forged exception report: OUT to 0xE5 from guest code.  The TSS's I/O
 * bitmap denies the port to CPL 3, so this is a #GP, and the record in the
 * (supervisor-only) metadata page is never the guest's. */
FAULT_ATTACK(priv_out_exception, "xor %eax, %eax", "outb %al, $0xE5");
/* POPF of IF and IOPL 3 at CPL 3: silently ignored, no fault.  Returns the
 * IF and IOPL bits that changed, and IOPL afterwards (0: nothing changed, and
 * IOPL is 0). */
#define FLAGS_RESULT                                                                               \
    "pushfq\n\tpop %rax\n\tmov %rax, %rdx\n\txor %rcx, %rax\n\tand $0x3200, %eax\n\t"              \
    "and $0x3000, %edx\n\tor %rdx, %rax"
PASSING_ATTACK(priv_popf_iopl,
               "pushfq\n\tpop %rcx\n\tmov %rcx, %rax\n\tor $0x3200, %rax\n\tpush %rax",
               "popfq\n\t" FLAGS_RESULT);
/* IRETQ to the current CS/SS with IF and IOPL 3 in the RFLAGS image: the
 * CPU keeps IF and IOPL at CPL 3.  Returns as priv_popf_iopl. */
PASSING_ATTACK(
    priv_iretq_iopl,
    "pushfq\n\tpop %rcx\n\txor %eax, %eax\n\tmov %ss, %ax\n\tpush %rax\n\t"
    "lea 8(%rsp), %rax\n\tpush %rax\n\tmov %rcx, %rax\n\tor $0x3200, %rax\n\tpush %rax\n\t"
    "xor %eax, %eax\n\tmov %cs, %ax\n\tpush %rax\n\tlea 1f(%rip), %rax\n\tpush %rax",
    "iretq\n1:\n\t" FLAGS_RESULT);

/* ---- Descriptors: reaching CPL 0 through the host's GDT ----------------------------- */

/* IRETQ to the DPL-0 code selector: #GP(0x08) (RPL < CPL). */
FAULT_ATTACK(seg_iretq_kernel_cs,
             "xor %eax, %eax\n\tmov %ss, %ax\n\tpush %rax\n\tlea 8(%rsp), %rax\n\tpush %rax\n\t"
             "pushfq\n\tpush $0x08\n\tlea 1f(%rip), %rax\n\tpush %rax",
             "iretq\n1:");
/* Far return to the DPL-0 code selector: #GP(0x08). */
FAULT_ATTACK(seg_lret_kernel_cs, "push $0x08\n\tlea 1f(%rip), %rax\n\tpush %rax", "lretq\n1:");
/* Far jump (m16:32) to the DPL-0 code selector: #GP(0x08) (DPL != CPL). */
FAULT_ATTACK(seg_ljmp_kernel_cs,
             "lea 1f(%rip), %rax\n\tsub $16, %rsp\n\tmov %eax, (%rsp)\n\tmovw $0x08, 4(%rsp)",
             "ljmp *(%rsp)\n1:\n\tadd $16, %rsp");
/* Far jump (m16:32) to the user data selector: #GP(0x20) (not code).  The
 * target is UD2, which means the same in 32-bit code, should some GDT have
 * 32-bit code there. */
FAULT_ATTACK(seg_ljmp_user_data,
             "lea 1f(%rip), %rax\n\tsub $16, %rsp\n\tmov %eax, (%rsp)\n\tmovw $0x23, 4(%rsp)",
             "ljmp *(%rsp)\n1:\n\tud2");
/* The DPL-0 data selector into DS / SS: #GP(0x10). */
FAULT_ATTACK(seg_ds_kernel, "mov $0x10, %eax", "mov %eax, %ds");
FAULT_ATTACK(seg_ss_kernel, "mov $0x10, %eax", "mov %eax, %ss");
/* The user data selector with RPL 0 into SS: #GP(0x20) (RPL != CPL). */
FAULT_ATTACK(seg_ss_rpl0, "mov $0x20, %eax", "mov %eax, %ss");
/* The TSS selector into DS: #GP(0x28) (a system segment). */
FAULT_ATTACK(seg_ds_tss, "mov $0x28, %eax", "mov %eax, %ds");
/* A selector beyond the GDT's limit into ES: #GP(0x38). */
FAULT_ATTACK(seg_es_beyond_gdt, "mov $0x3b, %eax", "mov %eax, %es");
/* SGDT, SIDT, STR, SMSW: readable at CPL 3 while CR4.UMIP is clear; they
 * only tell the guest what the layout says anyway. */
PASSING_ATTACK(info_sgdt, "sub $16, %rsp", "sgdt (%rsp)\n\tmov 2(%rsp), %rax\n\tadd $16, %rsp");
PASSING_ATTACK(info_sidt, "sub $16, %rsp", "sidt (%rsp)\n\tmov 2(%rsp), %rax\n\tadd $16, %rsp");
PASSING_ATTACK(info_str, "xor %eax, %eax", "str %ax");
PASSING_ATTACK(info_smsw, "xor %eax, %eax", "smsw %rax");
PASSING_ATTACK(info_rdtscp, "", "rdtscp\n\tshl $32, %rdx\n\tor %rdx, %rax");

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

/* ---- Register state the guest can set at CPL 3, and restore ------------------------ */

/* The upper half of YMM0 (AVX: #UD while the guest's CR4.OSXSAVE is clear)
 * and the GS base (WRGSBASE: #UD while CR4.FSGSBASE is clear).  Where the CPU
 * allows them (PVM: ring 3 runs under the host's CR4), a restore must put
 * the snapshot's values back. */
PASSING_ATTACK(state_ymm_poke, "movq %rdi, %xmm1\n\tpunpcklqdq %xmm1, %xmm1",
               "vinsertf128 $1, %xmm1, %ymm0, %ymm0\n\txor %eax, %eax");
PASSING_ATTACK(state_ymm_peek, "", "vextractf128 $1, %ymm0, %xmm1\n\tmovq %xmm1, %rax");
PASSING_ATTACK(state_gsbase_poke, "", "wrgsbase %rdi\n\txor %eax, %eax");
PASSING_ATTACK(state_gsbase_peek, "", "rdgsbase %rax");

/* ---- Port I/O ------------------------------------------------------------------------ */

/* Port ARG.  Allowed by the I/O bitmap (every byte of the access inside
 * GLINT_PORT_DONE..GLINT_PORT_ABORT): one VM exit, which the host refuses
 * unless it is an 8-bit OUT; anything else: #GP(0) at the IN/OUT. */
FAULT_ATTACK(port_out8, "mov %edi, %edx\n\tmov $0x5a, %eax", "outb %al, %dx");
FAULT_ATTACK(port_out16, "mov %edi, %edx\n\tmov $0x5a5a, %eax", "outw %ax, %dx");
FAULT_ATTACK(port_out32, "mov %edi, %edx\n\tmov $0x5a5a5a5a, %eax", "outl %eax, %dx");
FAULT_ATTACK(port_in8, "mov %edi, %edx", "inb %dx, %al");
FAULT_ATTACK(port_in16, "mov %edi, %edx", "inw %dx, %ax");
FAULT_ATTACK(port_in32, "mov %edi, %edx", "inl %dx, %eax");
/* REP OUTSB / REP INSB of 16 bytes (from / into the stack). */
FAULT_ATTACK(port_rep_outsb, "mov %edi, %edx\n\tsub $16, %rsp\n\tmov %rsp, %rsi\n\tmov $16, %ecx",
             "rep outsb\n\tadd $16, %rsp");
FAULT_ATTACK(port_rep_insb, "mov %edi, %edx\n\tsub $16, %rsp\n\tmov %rsp, %rdi\n\tmov $16, %ecx",
             "rep insb\n\tadd $16, %rsp");

/* ---- Spinning ------------------------------------------------------------------------- */

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

/* ---- Memory the guest does not own ---------------------------------------------------- */

/* Read / write / execute / REP MOVSB at guest address ARG (virtual ==
 * physical).  The host test aims them at the supervisor-only pages (GDT,
 * TSS, IDT, exception stubs, exception stack, metadata), at the page tables
 * (not mapped at all) and at addresses with no memory: each is a #PF with
 * CR2 = ARG, never an access. */
FAULT_ATTACK(mem_read, "", "mov (%rdi), %rax");
FAULT_ATTACK(mem_write, "mov $0x1122334455667788, %rax", "mov %rax, (%rdi)");
FAULT_ATTACK(mem_exec, "", "call *%rdi");
FAULT_ATTACK(mem_rep_movs, "mov %rdi, %rsi\n\tsub $256, %rsp\n\tmov %rsp, %rdi\n\tmov $256, %ecx",
             "rep movsb\n\tadd $256, %rsp");
/* Reads / writes the u64 at ARG and returns it (mapped memory: no fault). */
PASSING_ATTACK(mem_peek, "", "mov (%rdi), %rax");
PASSING_ATTACK(mem_poke, "mov $0x1122334455667788, %rax", "mov %rax, (%rdi)");

/* ---- MSRs, CPUID, hypercalls ----------------------------------------------------- */

/* RDMSR / WRMSR of MSR ARG (0 or ~0 written): #GP at CPL 3, whatever the MSR. */
FAULT_ATTACK(msr_read, "mov %edi, %ecx", "rdmsr");
FAULT_ATTACK(msr_write_zero, "mov %edi, %ecx\n\txor %eax, %eax\n\txor %edx, %edx", "wrmsr");
FAULT_ATTACK(msr_write_ones, "mov %edi, %ecx\n\tmov $-1, %eax\n\tmov $-1, %edx", "wrmsr");
/* kvmclock (MSR_KVM_SYSTEM_TIME_NEW) aimed at a page of the guest image. */
static uint64_t kvmclock_page[512] __attribute__((aligned(4096)));
ASM_ROUTINE(kvmclock_wrmsr,
            "mov $0x4b564d01, %ecx\n\tmov %edi, %eax\n\tshr $32, %rdi\n\tmov %edi, %edx", "wrmsr");
ATTACK(kvmclock_enable) {
    UNUSED_ARGS;
    hostile_kvmclock_wrmsr((uint64_t)(uintptr_t)kvmclock_page | 1u);
    CARRIED_ON();
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
/* VMCALL / VMMCALL with hypercall number ARG, other arguments 0: KVM
 * refuses hypercalls from CPL 3 (-KVM_EPERM = -1 in RAX) when the
 * instruction reaches it at all.  Returns RAX. */
PASSING_ATTACK(hypercall,
               "push %rbx\n\tmov %rdi, %rax\n\txor %ebx, %ebx\n\txor %ecx, %ecx\n\t"
               "xor %edx, %edx\n\txor %esi, %esi",
               "vmcall\n\tpop %rbx");
PASSING_ATTACK(hypercall_vmmcall,
               "push %rbx\n\tmov %rdi, %rax\n\txor %ebx, %ebx\n\txor %ecx, %ecx\n\t"
               "xor %edx, %edx\n\txor %esi, %esi",
               "vmmcall\n\tpop %rbx");
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

/* (string attack) -> i64: the address of the instruction the assembly
 * routine of that attack faults on (kvmclock_enable: its WRMSR), -1 if the
 * attack has none. */
static const struct {
    const char *name;
    const char *site;
} sites[] = {
#define S(n)                                                                                       \
    { #n, hostile_site_##n }
    S(cpu_int3),
    S(cpu_ud2),
    S(cpu_div0),
    S(cpu_int80),
    S(cpu_int_pf),
    S(cpu_icebp),
    S(cpu_syscall),
    S(cpu_syscall_rsp),
    S(cpu_sysenter),
    S(cpu_bad_stack),
    S(cpu_alignment_check),
    S(priv_wrmsr),
    S(priv_rdmsr),
    S(priv_mov_cr0),
    S(priv_mov_cr3),
    S(priv_mov_cr4),
    S(priv_read_cr3),
    S(priv_mov_dr7),
    S(priv_lgdt),
    S(priv_lidt),
    S(priv_ltr),
    S(priv_lldt),
    S(priv_hlt),
    S(priv_invlpg),
    S(priv_xsetbv),
    S(priv_clts),
    S(priv_wbinvd),
    S(priv_invd),
    S(priv_swapgs),
    S(priv_sysret),
    S(priv_sysexit),
    S(priv_cli),
    S(priv_sti),
    S(priv_rdpmc),
    S(priv_out_exception),
    S(priv_popf_iopl),
    S(priv_iretq_iopl),
    S(seg_iretq_kernel_cs),
    S(seg_lret_kernel_cs),
    S(seg_ljmp_kernel_cs),
    S(seg_ljmp_user_data),
    S(seg_ds_kernel),
    S(seg_ss_kernel),
    S(seg_ss_rpl0),
    S(seg_ds_tss),
    S(seg_es_beyond_gdt),
    S(info_sgdt),
    S(info_sidt),
    S(info_str),
    S(info_smsw),
    S(info_rdtscp),
    S(state_ymm_poke),
    S(state_ymm_peek),
    S(state_gsbase_poke),
    S(state_gsbase_peek),
    S(port_out8),
    S(port_out16),
    S(port_out32),
    S(port_in8),
    S(port_in16),
    S(port_in32),
    S(port_rep_outsb),
    S(port_rep_insb),
    S(mem_read),
    S(mem_write),
    S(mem_exec),
    S(mem_rep_movs),
    S(mem_peek),
    S(mem_poke),
    S(msr_read),
    S(msr_write_zero),
    S(msr_write_ones),
    S(kvmclock_wrmsr),
    S(hypercall),
    S(hypercall_vmmcall),
#undef S
};
static glint_status fault_site(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const char *name = args[0].as.str.ptr;
    if (strcmp(name, "kvmclock_enable") == 0) name = "kvmclock_wrmsr";
    for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
        if (strcmp(sites[i].name, name) == 0) {
            *ret = glint_i64((int64_t)(uintptr_t)sites[i].site);
            return GLINT_OK;
        }
    }
    *ret = glint_i64(-1);
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
    A(cpu_int_pf),
    A(cpu_icebp),
    A(cpu_syscall),
    A(cpu_syscall_rsp),
    A(cpu_sysenter),
    A(cpu_single_step),
    A(cpu_noncanonical),
    A(cpu_null_write),
    A(cpu_bad_stack),
    A(cpu_alignment_check),
    A(priv_wrmsr),
    A(priv_rdmsr),
    A(priv_mov_cr0),
    A(priv_mov_cr3),
    A(priv_mov_cr4),
    A(priv_read_cr3),
    A(priv_mov_dr7),
    A(priv_lgdt),
    A(priv_lidt),
    A(priv_ltr),
    A(priv_lldt),
    A(priv_hlt),
    A(priv_invlpg),
    A(priv_xsetbv),
    A(priv_clts),
    A(priv_wbinvd),
    A(priv_invd),
    A(priv_swapgs),
    A(priv_sysret),
    A(priv_sysexit),
    A(priv_cli),
    A(priv_sti),
    A(priv_rdpmc),
    A(priv_out_exception),
    A(priv_popf_iopl),
    A(priv_iretq_iopl),
    A(seg_iretq_kernel_cs),
    A(seg_lret_kernel_cs),
    A(seg_ljmp_kernel_cs),
    A(seg_ljmp_user_data),
    A(seg_ds_kernel),
    A(seg_ss_kernel),
    A(seg_ss_rpl0),
    A(seg_ds_tss),
    A(seg_es_beyond_gdt),
    A(info_sgdt),
    A(info_sidt),
    A(info_str),
    A(info_smsw),
    A(info_rdtscp),
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
    A(state_ymm_poke),
    A(state_ymm_peek),
    A(state_gsbase_poke),
    A(state_gsbase_peek),
    A(port_out8),
    A(port_out16),
    A(port_out32),
    A(port_in8),
    A(port_in16),
    A(port_in32),
    A(port_rep_outsb),
    A(port_rep_insb),
    A(spin_forever),
    A(spin_n),
    A(mem_read),
    A(mem_write),
    A(mem_exec),
    A(mem_rep_movs),
    A(mem_peek),
    A(mem_poke),
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
    glint_register_function("fault_site", fault_site, GLINT_TYPE_I64, 1, GLINT_TYPE_STRING);
    init_attack();
}
