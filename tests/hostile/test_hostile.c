/*
 * The hostile-guest suite: every attack of tests/hostile/hostile_guest.c and
 * tests/hostile/init_attacks.asm against a fresh sandbox, checking that
 *   - the host process survives (the test keeps running),
 *   - the call (or initialisation) ends with the expected status and a
 *     non-empty message,
 *   - the sandbox is poisoned exactly when the status is a run failure
 *     (40..49), and otherwise still answers calls,
 *   - a poisoned sandbox refuses calls and comes back with a snapshot restore,
 *   - two bystander sandboxes are unaffected: one checked after every
 *     attack, one called continuously from another thread,
 *   - host memory does not grow with floods (the host buffers nothing).
 * The ASan/UBSan build runs the same test; any report aborts it.
 * GLINT_HOSTILE_FULL=1 sweeps all 65536 ports (slow under emulation).
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glint/glint.h"
#include "hostile_support.h"
#include "kvm_support.h"

#define END ((glint_status)-1)
#define MAX_EXPECT 6
#define DEFAULT_DEADLINE_NS (10ull * 1000 * 1000 * 1000)

/* Flags of an attack. */
#define F_FOLLOWUP_ANY 0x1   /* the guest is out of step afterwards: any follow-up result */
#define F_GPA 0x2            /* MEMORY_ACCESS must name the attacked guest-physical address */
#define F_VALUE 0x4          /* on GLINT_OK the result must equal .value */
#define F_CPU_MAY_IGNORE 0x8 /* some (emulated) CPUs let it pass: harmless then */

/* Where an attack's argument comes from. */
typedef enum {
    ARG_FIXED,
    ARG_SNAPSHOT_END, /* first guest-physical byte after the snapshot region */
    ARG_BELOW_SCRATCH /* last page below the scratch region */
} arg_kind;

typedef struct attack {
    const char *name; /* guest function */
    uint64_t arg;
    glint_status expect[MAX_EXPECT]; /* acceptable outcomes, END-terminated */
    int vector;                      /* CPU exception vector to check, -1: none */
    unsigned flags;
    int64_t value;
    arg_kind arg_kind;
    uint64_t deadline_ns; /* 0: DEFAULT_DEADLINE_NS */
} attack;

#define E(...)                                                                                     \
    { __VA_ARGS__, END }
#define P GLINT_E_PROTOCOL
#define FAULT GLINT_E_GUEST_FAULT

static int failures;
static int attacks_run;

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("    FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    failures++;
}

static bool run_failure(glint_status st) {
    return (st >= GLINT_E_GUEST_ABORT && st <= GLINT_E_UNEXPECTED_EXIT) || st == GLINT_E_HYPERVISOR;
}

static bool expected(const glint_status *set, glint_status st) {
    for (int i = 0; i < MAX_EXPECT && set[i] != END; i++)
        if (set[i] == st) return true;
    return false;
}

/* ---- Bystanders -------------------------------------------------------------- */

static glint_sandbox *bystander;

static void check_bystander(const char *after) {
    glint_value arg = glint_u64(41), out;
    glint_status st = glint_sandbox_call(bystander, "ping", GLINT_TYPE_I64, &arg, 1, &out);
    if (st != GLINT_OK || out.as.i64 != 42)
        failf("bystander broken after %s: %s %s", after, glint_status_name(st),
              glint_sandbox_last_error(bystander)->message);
}

typedef struct busy_bystander {
    glint_sandbox *sb;
    atomic_int stop;
    uint64_t calls, failures;
} busy_bystander;

static void *busy_main(void *p) {
    busy_bystander *b = p;
    while (!atomic_load(&b->stop)) {
        glint_value arg = glint_u64(b->calls), out;
        glint_status st = glint_sandbox_call(b->sb, "ping", GLINT_TYPE_I64, &arg, 1, &out);
        if (st != GLINT_OK || out.as.i64 != (int64_t)b->calls + 1) b->failures++;
        b->calls++;
        usleep(2000);
    }
    return NULL;
}

/* ---- One attack ------------------------------------------------------------------- */

static glint_snapshot *base_snap; /* an initialised hostile_guest */
static glint_layout_info base_layout;

static uint64_t resolve_arg(const attack *a) {
    switch (a->arg_kind) {
    case ARG_SNAPSHOT_END: return base_layout.snapshot_gpa + base_layout.snapshot_size;
    case ARG_BELOW_SCRATCH: return base_layout.scratch_gpa - 4096;
    default: return a->arg;
    }
}

static glint_sandbox *clone_base(uint64_t deadline_ns) {
    glint_config cfg;
    glint_config_init(&cfg);
    hostile_count_callbacks(&cfg);
    cfg.call_deadline_ns = deadline_ns;
    glint_sandbox *sb = NULL;
    glint_error err;
    glint_status st = glint_sandbox_create_from_snapshot(base_snap, &cfg, &sb, &err);
    if (st != GLINT_OK) {
        fprintf(stderr, "FATAL: clone: %s\n", err.message);
        exit(1);
    }
    return sb;
}

/* After an attack on sb: a poisoned sandbox refuses calls and is restored;
 * a healthy one answers. */
static void check_after(glint_sandbox *sb, const char *name, glint_status st, unsigned flags) {
    glint_value arg = glint_u64(7), out;
    bool poisoned = glint_sandbox_is_poisoned(sb);
    if (poisoned != run_failure(st))
        failf("%s: poisoned=%d after %s", name, poisoned, glint_status_name(st));
    if (poisoned) {
        glint_status again = glint_sandbox_call(sb, "ping", GLINT_TYPE_I64, &arg, 1, &out);
        if (again != GLINT_E_POISONED)
            failf("%s: poisoned sandbox answered %s", name, glint_status_name(again));
        glint_status r = glint_sandbox_restore(sb, base_snap);
        if (r != GLINT_OK) {
            failf("%s: restore failed: %s", name, glint_sandbox_last_error(sb)->message);
            return;
        }
    }
    st = glint_sandbox_call(sb, "ping", GLINT_TYPE_I64, &arg, 1, &out);
    if (flags & F_FOLLOWUP_ANY) {
        if (st != GLINT_OK && !run_failure(st) && glint_sandbox_last_error(sb)->message[0] == '\0')
            failf("%s: follow-up call failed without a message", name);
        return;
    }
    if (st != GLINT_OK || out.as.i64 != 8)
        failf("%s: follow-up call after %s: %s %s", name, poisoned ? "restore" : "attack",
              glint_status_name(st), glint_sandbox_last_error(sb)->message);
}

static void run_attack(const attack *a) {
    uint64_t arg = resolve_arg(a);
    glint_sandbox *sb = clone_base(a->deadline_ns ? a->deadline_ns : DEFAULT_DEADLINE_NS);
    glint_value in = glint_u64(arg), out;
    memset(&out, 0, sizeof out);
    glint_type ret = strcmp(a->name, "huge_result") == 0 ? GLINT_TYPE_BYTES : GLINT_TYPE_I64;
    glint_status st = glint_sandbox_call(sb, a->name, ret, &in, 1, &out);
    const glint_error *e = glint_sandbox_last_error(sb);
    attacks_run++;
    char shown[64];
    snprintf(shown, sizeof shown, "%s(0x%" PRIx64 ")", a->name, arg);
    if (st == GLINT_OK)
        printf("  %-38s -> GLINT_OK, value %" PRId64 "\n", shown, out.as.i64);
    else
        printf("  %-38s -> %s%s: %s\n", shown, glint_status_name(st),
               glint_sandbox_is_poisoned(sb) ? " [poisoned]" : "", e->message);
    if (!expected(a->expect, st)) failf("%s: unexpected %s", shown, glint_status_name(st));
    if (st != GLINT_OK && e->message[0] == '\0') failf("%s: empty error message", shown);
    if (st == GLINT_OK && (a->flags & F_VALUE) && out.as.i64 != a->value)
        failf("%s: value %" PRId64 ", expected %" PRId64, shown, out.as.i64, a->value);
    if (st == GLINT_OK && out.as.i64 == 0x7777 && ret == GLINT_TYPE_I64 &&
        !(a->flags & F_CPU_MAY_IGNORE))
        failf("%s: the guest carried on after its attack", shown);
    if (a->vector >= 0 && st == GLINT_E_GUEST_FAULT &&
        (!e->has_fault || e->vector != (uint32_t)a->vector))
        failf("%s: vector %u, expected %d", shown, e->vector, a->vector);
    if ((a->flags & F_GPA) && st == GLINT_E_MEMORY_ACCESS && e->gpa != arg)
        failf("%s: reported GPA 0x%" PRIx64, shown, e->gpa);
    check_after(sb, shown, st, a->flags);
    glint_sandbox_destroy(sb);
    check_bystander(shown);
}

/* ---- The attack table ------------------------------------------------------------ */

static const attack runtime_attacks[] = {
    /* Output buffer: top and back-pointers, lengths near 2^64. */
    {"ob_top_huge", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_top_max_done", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_top_unaligned", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_top_zero", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_top_past_end", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_back_huge", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_back_above_top", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_back_zero", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_back_unaligned", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_done_empty", 0, E(P), -1, 0, 0, 0, 0},
    {"ob_chain_full", 0, E(P), -1, 0, 0, 0, 0},
    /* Messages claiming more than the buffer holds, malformed contents. */
    {"msg_body_len_max", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_body_len_past_buffer", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_print_claims_more", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_string_len_max", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_string_no_nul", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_result_len_huge", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_bad_kind", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_bad_version", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_wrong_kind_for_port", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_log_bad_level", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_abort_malformed", 0, E(P), -1, 0, 0, 0, 0},
    {"msg_result_wrong_type", 0, E(GLINT_E_RETURN_TYPE), -1, F_FOLLOWUP_ANY, 0, 0, 0},
    {"msg_error_code_zero", 0, E(GLINT_E_GUEST_ERROR), -1, F_FOLLOWUP_ANY, 0, 0, 0},
    {"exception_record_forged", 0, E(FAULT), -1, 0, 0, 0, 0},
    /* Every protocol port with garbage in the buffers. */
    {"garbage_port", 0xE0, E(P), -1, 0, 0, 0, 0},
    {"garbage_port", 0xE1, E(P), -1, 0, 0, 0, 0},
    {"garbage_port", 0xE2, E(P), -1, 0, 0, 0, 0},
    {"garbage_port", 0xE3, E(P), -1, 0, 0, 0, 0},
    {"garbage_port", 0xE4, E(P), -1, 0, 0, 0, 0},
    {"garbage_port", 0xE5, E(FAULT), -1, 0, 0, 0, 0},
    /* Input buffer. */
    {"ib_top_corrupt", 0, E(P), -1, 0, 0, 0, 0},
    {"ib_fill_with_replies", 0, E(P), -1, 0, 0, 0, 0},
    /* Host functions: malformed calls, wrong names/types/counts, re-entry,
     * huge returns, recursion. */
    {"hc_raw_argc_200", 0, E(P), -1, 0, 0, 0, 0},
    {"hc_raw_bad_types", 0, E(P), -1, 0, 0, 0, 0},
    {"hc_raw_name_too_long", 0, E(P), -1, 0, 0, 0, 0},
    {"hc_unknown_name", 0, E(GLINT_OK), -1, F_VALUE, GLINT_E_FUNCTION_NOT_FOUND, 0, 0},
    {"hc_wrong_count", 0, E(GLINT_OK), -1, F_VALUE, GLINT_E_PARAMETER_COUNT, 0, 0},
    {"hc_wrong_type", 0, E(GLINT_OK), -1, F_VALUE, GLINT_E_PARAMETER_TYPE, 0, 0},
    {"hc_wrong_return_type", 0, E(GLINT_OK), -1, F_VALUE, GLINT_E_RETURN_TYPE, 0, 0},
    {"hc_reenter", 0, E(GLINT_OK), -1, F_VALUE, GLINT_E_HOST_FUNCTION_ERROR, 0, 0},
    {"hc_huge_return", 0, E(GLINT_OK), -1, F_VALUE, GLINT_E_RESULT_TOO_BIG, 0, 0},
    {"hc_host_bad_return", 0, E(GLINT_OK), -1, F_VALUE, GLINT_E_HOST_FUNCTION_ERROR, 0, 0},
    {"hc_recursion", 300, E(GLINT_OK), -1, F_VALUE, 300 * 301 / 2, 0, 0},
    {"hc_flood", 3000, E(GLINT_OK), -1, F_VALUE, 3000, 0, 0},
    {"hc_signal_self", 0, E(GLINT_OK), -1, F_VALUE, 0, 0, 0},
    /* CPU exceptions. */
    {"cpu_int3", 0, E(FAULT), 3, 0, 0, 0, 0},
    {"cpu_ud2", 0, E(FAULT), 6, 0, 0, 0, 0},
    {"cpu_div0", 0, E(FAULT), 0, 0, 0, 0, 0},
    {"cpu_int80", 0, E(FAULT), 13, 0, 0, 0, 0},
    {"cpu_single_step", 0, E(FAULT), 1, 0, 0, 0, 0},
    {"cpu_noncanonical", 0, E(FAULT), 13, 0, 0, 0, 0},
    {"cpu_null_write", 0, E(FAULT), 14, 0, 0, 0, 0},
    {"cpu_cr0_no_paging", 0, E(FAULT), 13, 0, 0, 0, 0},
    /* QEMU's emulated CPU (the test harness) ignores reserved CR4 bits. */
    {"cpu_cr4_reserved", 0, E(FAULT, GLINT_OK), 13, F_CPU_MAY_IGNORE, 0, 0, 0},
    {"cpu_xsetbv", 0, E(FAULT), -1, 0, 0, 0, 0},
    {"cpu_syscall", 0, E(FAULT, GLINT_E_TRIPLE_FAULT), -1, 0, 0, 0, 0},
    {"cpu_bad_stack", 0, E(FAULT), 14, 0, 0, 0, 0},
    {"cpu_triple_fault", 0, E(GLINT_E_TRIPLE_FAULT), -1, 0, 0, 0, 0},
    {"cpu_gdt_garbage", 0, E(FAULT, GLINT_E_TRIPLE_FAULT), -1, 0, 0, 0, 0},
    /* Read-only regions and NX. */
    {"mem_write_code", 0, E(FAULT), 14, 0, 0, 0, 0},
    {"mem_write_rodata", 0, E(FAULT), 14, 0, 0, 0, 0},
    {"mem_write_peb", 0, E(FAULT), 14, 0, 0, 0, 0},
    {"mem_exec_heap", 0, E(FAULT), 14, 0, 0, 0, 0},
    {"mem_exec_data", 0, E(FAULT), 14, 0, 0, 0, 0},
    {"mem_exec_stack", 0, E(FAULT), 14, 0, 0, 0, 0},
    {"mem_exec_input", 0, E(FAULT), 14, 0, 0, 0, 0},
    /* Stack, recursion, heap, results. */
    {"stack_overflow", 0, E(GLINT_E_STACK_OVERFLOW), 14, 0, 0, 0, 0},
    {"infinite_recursion", 0, E(GLINT_E_STACK_OVERFLOW), 14, 0, 0, 0, 0},
    {"stack_skip_guard", 0, E(FAULT), 14, 0, 0, 0, 0},
    {"heap_exhaust", 0, E(GLINT_OK), -1, 0, 0, 0, 0},
    {"heap_oom_error", 0, E(GLINT_E_OUT_OF_MEMORY), -1, 0, 0, 0, 0},
    {"huge_result", 0, E(GLINT_E_RESULT_TOO_BIG), -1, 0, 0, 0, 0},
    {"abort_long_message", 0, E(GLINT_E_GUEST_ABORT), -1, 0, 0, 0, 0},
    /* Port I/O: unknown ports, all widths, IN, string I/O. */
    {"port_out8", 0x00, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out8", 0x80, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out8", 0x3F8, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out8", 0xCF8, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out8", 0xDF, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out8", 0xE6, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out8", 0xFFFF, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out16", 0xE0, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out16", 0xE1, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out16", 0xE5, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out32", 0xE0, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out32", 0xE2, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_out32", 0xE4, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_in8", 0xE0, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_in8", 0x60, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_in16", 0xE1, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    {"port_in32", 0xE3, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    /* KVM may split a string OUT into single OUTs: then it is a DONE with
     * nothing on the output buffer. */
    {"port_rep_outsb", 0xE0, E(GLINT_E_UNKNOWN_PORT, P), -1, 0, 0, 0, 0},
    {"port_rep_insb", 0xE2, E(GLINT_E_UNKNOWN_PORT), -1, 0, 0, 0, 0},
    /* HLT and spinning. */
    {"hlt_loop", 0, E(GLINT_E_UNEXPECTED_EXIT), -1, 0, 0, 0, 0},
    {"sti_hlt", 0, E(GLINT_E_UNEXPECTED_EXIT), -1, 0, 0, 0, 0},
    {"spin_forever", 0, E(GLINT_E_DEADLINE), -1, 0, 0, 0, 300ull * 1000 * 1000},
    /* MMIO to unmapped guest-physical addresses (through the guest's own
     * page tables), CR3 and page-table rewrites reaching outside memory. */
    {"mmio_read", 0, E(GLINT_E_MEMORY_ACCESS), -1, F_GPA, 0, ARG_SNAPSHOT_END, 0},
    {"mmio_write", 0, E(GLINT_E_MEMORY_ACCESS), -1, F_GPA, 0, ARG_SNAPSHOT_END, 0},
    {"mmio_read", 0, E(GLINT_E_MEMORY_ACCESS), -1, F_GPA, 0, ARG_BELOW_SCRATCH, 0},
    {"mmio_read", 0x40000000, E(GLINT_E_MEMORY_ACCESS), -1, F_GPA, 0, 0, 0},
    {"mmio_write", 0xFEE00300, E(GLINT_E_MEMORY_ACCESS), -1, F_GPA, 0, 0, 0},
    {"mmio_read", 0xFEC00000, E(GLINT_E_MEMORY_ACCESS), -1, F_GPA, 0, 0, 0},
    {"mmio_write", 1ull << 36, E(GLINT_E_MEMORY_ACCESS, FAULT), -1, F_GPA, 0, 0, 0},
    {"mmio_read", (1ull << 39) + 0x1238, E(GLINT_E_MEMORY_ACCESS, FAULT), -1, F_GPA, 0, 0, 0},
    {"mmio_rep_movs", 0x40000000, E(GLINT_E_MEMORY_ACCESS), -1, F_GPA, 0, 0, 0},
    {"mmio_exec", 0x40000000, E(GLINT_E_MEMORY_ACCESS, GLINT_E_UNEXPECTED_EXIT, FAULT), -1, 0, 0, 0,
     0},
    {"pt_read_host_tables", 0, E(GLINT_OK), -1, F_VALUE, 1, 0, 0},
    /* A page walk through unbacked memory: depending on the CPU, KVM
     * reports it or retries the access forever inside the kernel (no exit
     * to the host at all): the deadline ends that like any endless loop. */
    {"cr3_unbacked", 0x40000000,
     E(GLINT_E_MEMORY_ACCESS, GLINT_E_UNEXPECTED_EXIT, GLINT_E_TRIPLE_FAULT, FAULT,
       GLINT_E_DEADLINE),
     -1, 0, 0, 0, 1000ull * 1000 * 1000},
    {"cr3_garbage", 0, E(GLINT_E_TRIPLE_FAULT, FAULT, GLINT_E_UNEXPECTED_EXIT), -1, 0, 0, 0, 0},
    {"pt_rewrite_host_tables", 0x40000000,
     E(GLINT_E_MEMORY_ACCESS, GLINT_E_UNEXPECTED_EXIT, GLINT_E_TRIPLE_FAULT, FAULT,
       GLINT_E_DEADLINE),
     -1, 0, 0, 0, 1000ull * 1000 * 1000},
    {"pt_self_reference", 0, E(GLINT_E_TRIPLE_FAULT, FAULT, GLINT_E_UNEXPECTED_EXIT), -1, 0, 0, 0,
     0},
    /* CPUID, hypercalls, TSC: harmless. */
    {"cpuid_all", 0, E(GLINT_OK), -1, 0, 0, 0, 0},
    {"rdtsc_rdrand", 0, E(GLINT_OK), -1, 0, 0, 0, 0},
    {"hypercall", 0, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
    {"hypercall", 5, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
    {"hypercall", 9, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
    {"hypercall", 10, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
    {"hypercall", 11, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
    {"hypercall", 12, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
    {"hypercall", 0xFFFFFFFF, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
    {"hypercall_vmmcall", 0, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
    {"hypercall_vmmcall", 5, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
    {"hypercall_vmmcall", 10, E(GLINT_OK, FAULT), -1, 0, 0, 0, 0},
};

static void test_runtime_attacks(void) {
    printf("[attacks on a running guest]\n");
    for (size_t i = 0; i < sizeof runtime_attacks / sizeof runtime_attacks[0]; i++)
        run_attack(&runtime_attacks[i]);
    /* What the host functions saw of their own re-entry attempts. */
    if (hostile_host.reenter_status != GLINT_E_STATE)
        failf("glint_sandbox_call from a host function returned %s, expected GLINT_E_STATE",
              glint_status_name(hostile_host.reenter_status));
}

/* Re-entering restore from a host function must be refused too. */
static void test_reentry_restore(void) {
    printf("[re-entry: restore from a host function]\n");
    glint_sandbox *sb = clone_base(DEFAULT_DEADLINE_NS);
    hostile_host.restore_target = base_snap;
    hostile_host.reenter_restore_status = GLINT_OK;
    glint_value in = glint_u64(0), out;
    glint_status st = glint_sandbox_call(sb, "hc_reenter", GLINT_TYPE_I64, &in, 1, &out);
    hostile_host.restore_target = NULL;
    printf("  restore inside h_reenter -> %s; call -> %s\n",
           glint_status_name(hostile_host.reenter_restore_status), glint_status_name(st));
    if (hostile_host.reenter_restore_status != GLINT_E_STATE || st != GLINT_OK)
        failf("re-entrant restore not refused");
    check_after(sb, "hc_reenter/restore", st, 0);
    glint_sandbox_destroy(sb);
    attacks_run++;
}

/* ---- MSRs ------------------------------------------------------------------------------- */

static const struct {
    uint32_t msr;
    const char *name;
} msrs[] = {
    {0x10, "TSC"},
    {0x1B, "APIC_BASE"},
    {0x3A, "FEATURE_CONTROL"},
    {0x48, "SPEC_CTRL"},
    {0x49, "PRED_CMD"},
    {0x8B, "BIOS_SIGN_ID"},
    {0xFE, "MTRRCAP"},
    {0x174, "SYSENTER_CS"},
    {0x179, "MCG_CAP"},
    {0x17A, "MCG_STATUS"},
    {0x1A0, "MISC_ENABLE"},
    {0x1D9, "DEBUGCTL"},
    {0x277, "PAT"},
    {0x2FF, "MTRR_DEF_TYPE"},
    {0x480, "VMX_BASIC"},
    {0x6E0, "TSC_DEADLINE"},
    {0x802, "X2APIC_ID"},
    {0x830, "X2APIC_ICR"},
    {0xC0000080, "EFER"},
    {0xC0000081, "STAR"},
    {0xC0000082, "LSTAR"},
    {0xC0000100, "FS_BASE"},
    {0xC0000101, "GS_BASE"},
    {0xC0000102, "KERNEL_GS_BASE"},
    {0xC0000103, "TSC_AUX"},
    {0xC0010015, "AMD_HWCR"},
    {0xC0010114, "AMD_VM_CR"},
    {0xC0010117, "AMD_VM_HSAVE_PA"},
    {0x11, "KVM_WALL_CLOCK"},
    {0x12, "KVM_SYSTEM_TIME"},
    {0x4b564d00, "KVM_WALL_CLOCK_NEW"},
    {0x4b564d01, "KVM_SYSTEM_TIME_NEW"},
    {0x4b564d02, "KVM_ASYNC_PF_EN"},
    {0x4b564d03, "KVM_STEAL_TIME"},
    {0x4b564d04, "KVM_PV_EOI_EN"},
    {0x4b564d05, "KVM_POLL_CONTROL"},
    {0x40000000, "HV_GUEST_OS_ID"},
    {0x40000001, "HV_HYPERCALL"},
    {0xDEADBEEF, "bogus"},
    {0xFFFFFFFF, "bogus_max"},
};

/* Harmless (GLINT_OK, the sandbox keeps working) or refused by the CPU
 * (#GP reported as a guest fault); nothing else. */
static void test_msrs(void) {
    static const char *const ops[] = {"msr_read", "msr_write_zero", "msr_write_ones"};
    printf("[rdmsr/wrmsr of sensitive MSRs]\n");
    glint_sandbox *sb = clone_base(DEFAULT_DEADLINE_NS);
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        printf("  %-20s", msrs[i].name);
        for (size_t o = 0; o < 3; o++) {
            glint_value in = glint_u64(msrs[i].msr), out;
            glint_status st = glint_sandbox_call(sb, ops[o], GLINT_TYPE_I64, &in, 1, &out);
            const glint_error *e = glint_sandbox_last_error(sb);
            attacks_run++;
            if (st == GLINT_OK)
                printf(" %s=ok", ops[o] + 4);
            else
                printf(" %s=%s%s", ops[o] + 4, glint_status_name(st) + 8,
                       e->has_fault ? (e->vector == 13 ? "(#GP)" : "(?)") : "");
            if (st != GLINT_OK && st != GLINT_E_GUEST_FAULT && st != GLINT_E_TRIPLE_FAULT &&
                st != GLINT_E_UNEXPECTED_EXIT)
                failf("MSR 0x%x %s: %s %s", msrs[i].msr, ops[o], glint_status_name(st), e->message);
            if (st != GLINT_OK && e->message[0] == '\0')
                failf("MSR 0x%x: empty message", msrs[i].msr);
            /* Harmless or not, the next call works (after a restore if poisoned). */
            if (glint_sandbox_is_poisoned(sb) != run_failure(st))
                failf("MSR 0x%x %s: poisoned state wrong", msrs[i].msr, ops[o]);
            if (glint_sandbox_is_poisoned(sb) || st == GLINT_OK) {
                /* A write that "worked" may still have broken the guest: restore anyway. */
                if (glint_sandbox_restore(sb, base_snap) != GLINT_OK)
                    failf("MSR 0x%x: restore failed", msrs[i].msr);
            }
            glint_value ping = glint_u64(1);
            st = glint_sandbox_call(sb, "ping", GLINT_TYPE_I64, &ping, 1, &out);
            if (st != GLINT_OK || out.as.i64 != 2)
                failf("MSR 0x%x %s: sandbox broken after restore: %s", msrs[i].msr, ops[o],
                      glint_status_name(st));
        }
        printf("\n");
    }
    glint_sandbox_destroy(sb);
    check_bystander("MSRs");
}

/* kvmclock aimed at guest memory must not survive a restore: after it, KVM
 * must no longer write into the restored guest. */
static void test_kvmclock_restore(void) {
    printf("[kvmclock enabled, then restore]\n");
    glint_sandbox *sb = clone_base(DEFAULT_DEADLINE_NS);
    glint_value in = glint_u64(0), out;
    glint_status st = glint_sandbox_call(sb, "kvmclock_enable", GLINT_TYPE_I64, &in, 1, &out);
    attacks_run++;
    if (st != GLINT_OK) {
        printf("  kvmclock_enable -> %s (refused: nothing to check)\n", glint_status_name(st));
        glint_sandbox_destroy(sb);
        return;
    }
    st = glint_sandbox_call(sb, "kvmclock_peek", GLINT_TYPE_I64, &in, 1, &out);
    printf("  page written by KVM before restore: %s\n", out.as.i64 != 0 ? "yes" : "no");
    if (glint_sandbox_restore(sb, base_snap) != GLINT_OK) failf("kvmclock: restore failed");
    /* KVM rewrites the clock page when the vCPU moves to another CPU: move
     * this thread around between calls. */
    cpu_set_t original;
    sched_getaffinity(0, sizeof original, &original);
    int cpus = CPU_COUNT(&original), written = 0;
    for (int i = 0; i < 8; i++) {
        cpu_set_t one;
        CPU_ZERO(&one);
        int n = 0;
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &original) && n++ == i % cpus) CPU_SET(c, &one);
        sched_setaffinity(0, sizeof one, &one);
        st = glint_sandbox_call(sb, "kvmclock_peek", GLINT_TYPE_I64, &in, 1, &out);
        if (st == GLINT_OK && out.as.i64 != 0) written++;
    }
    sched_setaffinity(0, sizeof original, &original);
    printf("  page written by KVM after restore (8 calls over %d CPUs): %d of 8\n", cpus, written);
    if (written != 0)
        failf("kvmclock survives a restore: KVM keeps writing into restored guest memory");
    glint_sandbox_destroy(sb);
}

/* ---- Port sweep --------------------------------------------------------------------------- */

static void test_port_sweep(void) {
    bool full = hostile_full_mode();
    printf("[port sweep: OUT and IN on %s]\n",
           full ? "all 65536 ports" : "ports 0-0x1ff and every 97th");
    glint_sandbox *sb = clone_base(DEFAULT_DEADLINE_NS);
    unsigned swept = 0;
    static const char *const ops[] = {"port_out8", "port_in8"};
    for (uint32_t port = 0; port <= 0xFFFF; port++) {
        if (!full && port > 0x1FF && port % 97 != 0) continue;
        for (size_t o = 0; o < 2; o++) {
            if (o == 1 && !full && port % 3 != 0) continue;
            glint_value in = glint_u64(port), out;
            glint_status st = glint_sandbox_call(sb, ops[o], GLINT_TYPE_I64, &in, 1, &out);
            bool protocol = port >= GLINT_PORT_FIRST && port <= GLINT_PORT_LAST && o == 0;
            /* OUT to a protocol port from the middle of a call: nothing (or
             * a forged exception record) on the buffers. */
            bool ok = protocol ? (st == GLINT_E_PROTOCOL || st == GLINT_E_GUEST_FAULT)
                               : st == GLINT_E_UNKNOWN_PORT;
            if (!ok || !glint_sandbox_is_poisoned(sb) ||
                glint_sandbox_last_error(sb)->message[0] == '\0')
                failf("%s(0x%x) -> %s: %s", ops[o], port, glint_status_name(st),
                      glint_sandbox_last_error(sb)->message);
            if (glint_sandbox_restore(sb, base_snap) != GLINT_OK) {
                failf("restore after port 0x%x failed", port);
                break;
            }
            swept++;
        }
    }
    glint_value ping = glint_u64(1), out;
    if (glint_sandbox_call(sb, "ping", GLINT_TYPE_I64, &ping, 1, &out) != GLINT_OK)
        failf("sandbox broken after the port sweep");
    printf(
        "  %u port accesses, each UNKNOWN_PORT (PROTOCOL on the protocol ports), each restored\n",
        swept);
    glint_sandbox_destroy(sb);
    attacks_run += (int)swept;
    check_bystander("port sweep");
}

/* ---- Floods ----------------------------------------------------------------------------- */

static void test_floods(void) {
    static const struct {
        const char *name;
        uint64_t n;
    } floods[] = {
        {"log_flood", 100000},     /* 100k records of ~1 KiB through glint_log */
        {"print_flood", 100000},   /* 100k lines of 1000 bytes through printf */
        {"log_flood_raw", 100000}, /* 100k raw LOG OUTs */
        {"print_huge", 16u << 20}, /* 16 MiB in 4 KiB writes */
        {"hc_flood", 100000},      /* 100k host calls */
    };
    printf("[floods: the host buffers nothing, memory stays flat]\n");
    for (size_t i = 0; i < sizeof floods / sizeof floods[0]; i++) {
        /* A deadline bounds the flood's time under slow emulation; on real
         * hardware each finishes well within it. */
        glint_sandbox *sb = clone_base(4ull * 1000 * 1000 * 1000);
        uint64_t rss0 = hostile_rss_kib();
        uint64_t records0 = hostile_host.log_records, bytes0 = hostile_host.log_bytes,
                 printed0 = hostile_host.print_bytes;
        uint64_t t0 = hostile_now_ns();
        glint_value in = glint_u64(floods[i].n), out;
        glint_status st = glint_sandbox_call(sb, floods[i].name, GLINT_TYPE_I64, &in, 1, &out);
        double secs = (double)(hostile_now_ns() - t0) / 1e9;
        uint64_t rss1 = hostile_rss_kib();
        glint_counters c;
        glint_sandbox_counters(sb, &c);
        printf("  %-14s n=%-9" PRIu64 " -> %-16s %.2f s, %" PRIu64 " exits, log %" PRIu64
               " records / %" PRIu64 " KiB, print %" PRIu64 " KiB, RSS %" PRIu64 " -> %" PRIu64
               " KiB\n",
               floods[i].name, floods[i].n, glint_status_name(st), secs, c.vm_runs,
               hostile_host.log_records - records0, (hostile_host.log_bytes - bytes0) >> 10,
               (hostile_host.print_bytes - printed0) >> 10, rss0, rss1);
        if (st != GLINT_OK && st != GLINT_E_DEADLINE)
            failf("%s: %s %s", floods[i].name, glint_status_name(st),
                  glint_sandbox_last_error(sb)->message);
        if (rss1 > rss0 + 8192)
            failf("%s: RSS grew by %" PRIu64 " KiB", floods[i].name, rss1 - rss0);
        check_after(sb, floods[i].name, st, 0);
        glint_sandbox_destroy(sb);
        check_bystander(floods[i].name);
        attacks_run++;
    }
}

/* ---- Attacks during initialisation --------------------------------------------------------- */

typedef struct init_attack {
    const char *guest;     /* guest ELF */
    const char *init_data; /* for hostile_guest: the attack */
    glint_status expect;
    uint64_t deadline_ns;
    const char *call; /* when initialisation succeeds: a call that must fail */
    glint_status call_expect;
} init_attack;

static const init_attack init_attacks[] = {
    {"hostile_init_spin", NULL, GLINT_E_DEADLINE, 500ull * 1000 * 1000, NULL, 0},
    {"hostile_init_hlt", NULL, GLINT_E_UNEXPECTED_EXIT, 0, NULL, 0},
    {"hostile_init_garbage", NULL, P, 0, NULL, 0},
    {"hostile_init_top", NULL, P, 0, NULL, 0},
    {"hostile_init_count", NULL, P, 0, NULL, 0},
    {"hostile_init_duplicate", NULL, P, 0, NULL, 0},
    {"hostile_init_empty", NULL, P, 0, NULL, 0},
    {"hostile_init_result", NULL, P, 0, NULL, 0},
    {"hostile_init_ud2", NULL, GLINT_E_TRIPLE_FAULT, 0, NULL, 0},
    {"hostile_init_in", NULL, GLINT_E_UNKNOWN_PORT, 0, NULL, 0},
    {"hostile_init_name_len", NULL, P, 0, NULL, 0},
    {"hostile_init_trailing", NULL, P, 0, NULL, 0},
    {"hostile_init_void_param", NULL, P, 0, NULL, 0},
    {"hostile_init_raw_result", NULL, GLINT_OK, 0, "f", P},
    {"hostile_init_exception", NULL, FAULT, 0, NULL, 0},
    {"hostile_init_abort", NULL, P, 0, NULL, 0},
    {"hostile_init_log_storm", NULL, GLINT_E_DEADLINE, 1000ull * 1000 * 1000, NULL, 0},
    {"hostile_guest", "spin", GLINT_E_DEADLINE, 500ull * 1000 * 1000, NULL, 0},
    {"hostile_guest", "fault", FAULT, 0, NULL, 0},
    {"hostile_guest", "abort", GLINT_E_GUEST_ABORT, 0, NULL, 0},
    {"hostile_guest", "bad_registration", GLINT_E_GUEST_ABORT, 0, NULL, 0},
    {"hostile_guest", "too_many_functions", GLINT_E_GUEST_ABORT, 0, NULL, 0},
    {"hostile_guest", "corrupt_output", P, 0, NULL, 0},
    {"hostile_guest", "reenter", GLINT_OK, 0, NULL, 0},
    {"hostile_guest", "log_flood", GLINT_OK, 0, NULL, 0},
};

static void test_init_attacks(void) {
    printf("[attacks during initialisation]\n");
    for (size_t i = 0; i < sizeof init_attacks / sizeof init_attacks[0]; i++) {
        const init_attack *a = &init_attacks[i];
        glint_config cfg;
        glint_config_init(&cfg);
        hostile_count_callbacks(&cfg);
        cfg.call_deadline_ns = a->deadline_ns ? a->deadline_ns : DEFAULT_DEADLINE_NS;
        if (a->init_data != NULL) {
            cfg.init_data = a->init_data;
            cfg.init_data_size = strlen(a->init_data) + 1;
        }
        glint_status st;
        hostile_host.reenter_init_status = GLINT_OK;
        glint_sandbox *sb = hostile_create(&cfg, a->guest, &st);
        const glint_error *e = glint_sandbox_last_error(sb);
        char shown[80];
        snprintf(shown, sizeof shown, "%s%s%s", a->guest, a->init_data ? ":" : "",
                 a->init_data ? a->init_data : "");
        printf("  %-38s -> %s%s%s\n", shown, glint_status_name(st), st ? ": " : "",
               st ? e->message : "");
        attacks_run++;
        if (st != a->expect) failf("%s: expected %s", shown, glint_status_name(a->expect));
        if (st != GLINT_OK) {
            if (e->message[0] == '\0') failf("%s: empty message", shown);
            if (!glint_sandbox_is_poisoned(sb)) failf("%s: not poisoned", shown);
            if (glint_sandbox_initialize(sb) != GLINT_E_POISONED)
                failf("%s: a second initialisation was not refused", shown);
        } else if (a->call != NULL) {
            glint_value out;
            glint_status cs = glint_sandbox_call(sb, a->call, GLINT_TYPE_BYTES, NULL, 0, &out);
            printf("  %-38s -> %s: %s\n", "  then call f()", glint_status_name(cs),
                   glint_sandbox_last_error(sb)->message);
            if (cs != a->call_expect || !glint_sandbox_is_poisoned(sb))
                failf("%s: call %s -> %s", shown, a->call, glint_status_name(cs));
        } else {
            glint_value arg = glint_u64(1), out;
            if (glint_sandbox_call(sb, "ping", GLINT_TYPE_I64, &arg, 1, &out) != GLINT_OK)
                failf("%s: initialised sandbox does not answer", shown);
        }
        if (a->init_data != NULL && strcmp(a->init_data, "reenter") == 0 &&
            hostile_host.reenter_init_status != GLINT_E_STATE)
            failf("glint_sandbox_initialize from a host function returned %s",
                  glint_status_name(hostile_host.reenter_init_status));
        glint_sandbox_destroy(sb);
        check_bystander(shown);
    }
}

/* ---- main ------------------------------------------------------------------------------------ */

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    glint_test_require_kvm();
    uint64_t t0 = hostile_now_ns();
    uint64_t rss_start = hostile_rss_kib();
    int fds_start = hostile_fd_count();

    bystander = hostile_create(NULL, "hostile_guest", NULL);
    busy_bystander busy = {.sb = hostile_create(NULL, "hostile_guest", NULL)};
    pthread_t busy_thread;
    if (pthread_create(&busy_thread, NULL, busy_main, &busy) != 0) return 1;

    glint_sandbox *base = hostile_create(NULL, "hostile_guest", NULL);
    hostile_check_ok(glint_sandbox_snapshot(base, &base_snap), base, "snapshot");
    glint_sandbox_layout(base, &base_layout);
    glint_sandbox_destroy(base);

    test_init_attacks();
    test_runtime_attacks();
    test_reentry_restore();
    test_msrs();
    test_kvmclock_restore();
    test_floods();
    test_port_sweep();

    atomic_store(&busy.stop, 1);
    pthread_join(busy_thread, NULL);
    printf("[busy bystander on another thread: %" PRIu64 " calls, %" PRIu64 " failures]\n",
           busy.calls, busy.failures);
    if (busy.failures != 0 || busy.calls == 0) failf("the busy bystander was affected");
    check_bystander("everything");
    glint_sandbox_destroy(busy.sb);
    glint_sandbox_destroy(bystander);
    glint_snapshot_release(base_snap);

    int fds_end = hostile_fd_count();
    printf("[process: fds %d -> %d, RSS %" PRIu64 " -> %" PRIu64 " KiB, %.1f s]\n", fds_start,
           fds_end, rss_start, hostile_rss_kib(), (double)(hostile_now_ns() - t0) / 1e9);
    if (fds_end != fds_start) failf("file descriptors leaked: %d -> %d", fds_start, fds_end);
    printf("%d attacks, %d failures\n", attacks_run, failures);
    return failures == 0 ? 0 : 1;
}
