/*
 * The hostile-guest suite: every attack of tests/hostile/hostile_guest.c and
 * tests/hostile/init_attacks.asm against a fresh sandbox, checking that
 *   - the host process survives (the test keeps running),
 *   - the call (or initialisation) ends with the expected status and a
 *     non-empty message; for CPU exceptions the exact vector and error code,
 *     and where the attack knows them the RIP (the address of the faulting
 *     instruction, from the guest's fault_site) and CR2,
 *   - the sandbox is poisoned exactly when the status is a run failure
 *     (40..49), and otherwise still answers calls,
 *   - a poisoned sandbox refuses calls and comes back with a snapshot restore,
 *   - two bystander sandboxes are unaffected: one checked after every
 *     attack, one called continuously from another thread,
 *   - host memory does not grow with floods (the host buffers nothing).
 * The ASan/UBSan build runs the same test; any report aborts it.
 * GLINT_HOSTILE_FULL=1 sweeps all 65536 ports (slow under emulation).
 *
 * Guest code runs at CPL 3 (docs/security.md).  Where the outcome depends on
 * the KVM, an attack has one entry per platform (ON_*): PVM runs guest
 * ring-3 code natively on the host's CPU state, so a few instructions follow
 * the host's CR4 and IDT rather than the guest's; SVM and VMX differ where
 * AMD and Intel CPUs do.  Every other outcome is the same everywhere.
 */
#include <cpuid.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glint/abi.h"
#include "glint/glint.h"
#include "hostile_support.h"
#include "kvm_support.h"

#define END ((glint_status)-1)
#define MAX_EXPECT 6
#define DEFAULT_DEADLINE_NS (10ull * 1000 * 1000 * 1000)
#define PAGE 4096ull

/* ---- Platforms ---------------------------------------------------------------------- */

/* Where the KVM tests run: PVM (this project's development machines: a
 * paravirtual KVM that runs guest ring 3 natively), hardware virtualisation
 * (AMD SVM, Intel VMX), or the test harness (AMD SVM emulated by QEMU's TCG,
 * whose CPU emulation has a few quirks of its own).  The ON_SVM and ON_VMX
 * expectations that differ from ON_QEMU_SVM follow the vendors' manuals;
 * no machine of this project has run them. */
#define ON_SVM 0x1u
#define ON_VMX 0x2u
#define ON_PVM_AMD 0x4u
#define ON_PVM_INTEL 0x8u
#define ON_QEMU_SVM 0x10u
#define ON_PVM (ON_PVM_AMD | ON_PVM_INTEL)
#define ON_REAL_HW (ON_SVM | ON_VMX)
#define ON_HW (ON_SVM | ON_VMX | ON_QEMU_SVM)
#define ON_AMD (ON_SVM | ON_QEMU_SVM | ON_PVM_AMD)
#define ON_INTEL (ON_VMX | ON_PVM_INTEL)

static unsigned platform;

static unsigned detect_platform(void) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    __get_cpuid(0, &a, &b, &c, &d);
    bool amd = b == 0x68747541u; /* "Auth" enticAMD (guests see the host's vendor) */
    glint_hypervisor_info hi;
    if (glint_hypervisor_probe(&hi, false) != GLINT_OK) {
        fprintf(stderr, "FATAL: glint_hypervisor_probe failed\n");
        exit(1);
    }
    switch (hi.kind) {
    case GLINT_HYPERVISOR_PVM: return amd ? ON_PVM_AMD : ON_PVM_INTEL;
    case GLINT_HYPERVISOR_SVM:
        return hi.nested && strcmp(hi.outer_hypervisor, "TCGTCGTCGTCG") == 0 ? ON_QEMU_SVM : ON_SVM;
    case GLINT_HYPERVISOR_VMX: return ON_VMX;
    default:
        /* Not known: hardware rules by vendor (the attacks for PVM then fail
         * loudly if it was PVM after all). */
        printf("[hypervisor kind unknown (%s): expecting %s]\n", hi.kind_source,
               amd ? "SVM" : "VMX");
        return amd ? ON_SVM : ON_VMX;
    }
}

static const char *platform_name(unsigned p) {
    switch (p) {
    case ON_SVM: return "SVM (AMD hardware virtualisation)";
    case ON_QEMU_SVM: return "SVM emulated by QEMU (TCG): the test harness";
    case ON_VMX: return "VMX (Intel hardware virtualisation)";
    case ON_PVM_AMD: return "PVM on AMD";
    default: return "PVM on Intel";
    }
}

/* ---- Attack descriptions -------------------------------------------------------------- */

/* Flags of an attack. */
#define F_FOLLOWUP_ANY 0x1 /* the guest is out of step afterwards: any follow-up result */
#define F_VALUE 0x2        /* on GLINT_OK the result must equal .value */
#define F_VALUE_ARG 0x4    /* on GLINT_OK the result must equal the resolved argument */
#define F_CR2 0x8          /* a fault's CR2 must equal the resolved argument */
#define F_RIP_SITE 0x10    /* a fault's RIP must be the guest's fault_site(name) + .rip_offset */
#define F_RIP_ARG 0x20     /* a fault's RIP must equal the resolved argument */
#define F_RIP_CR2 0x40     /* a fault's RIP must equal its CR2 (instruction fetch) */
#define F_AT_ZERO 0x80     /* a fault's RIP and CR2 must be 0 (PVM: SYSCALL ran to LSTAR = 0) */
#define F_CARRIES_ON 0x100 /* the guest carries on (NOT_STOPPED) where the CPU lets it */

/* Where an attack's argument comes from: a base from the layout plus .arg. */
typedef enum {
    ARG_FIXED,
    ARG_SNAPSHOT_END,        /* first guest-physical byte after the snapshot region */
    ARG_BELOW_SCRATCH,       /* last page below the world page (the page below scratch) */
    ARG_WORLD,               /* the world page (glint/abi.h): host memory, read-only */
    ARG_CPU_TABLES,          /* GDT (+0), TSS (+0x100), IDT (+0x200) */
    ARG_EXCEPTION_CODE,      /* the host's exception stubs */
    ARG_EXCEPTION_STACK_TOP, /* the top of the exception stack (TSS.RSP0) */
    ARG_METADATA,            /* the metadata page (exception record) */
    ARG_PAGE_TABLES,         /* the page tables */
} arg_kind;

typedef struct attack {
    const char *name; /* guest function */
    uint64_t arg;
    arg_kind arg_kind;
    unsigned on;                     /* platforms (ON_*); 0: all */
    glint_status expect[MAX_EXPECT]; /* acceptable outcomes, END-terminated */
    int vector;                      /* GUEST_FAULT / STACK_OVERFLOW: the vector */
    bool check_err;
    uint64_t err; /* the error code, when check_err */
    unsigned flags;
    int64_t value;
    int rip_offset;       /* F_RIP_SITE: traps (#BP, #DB) report the next instruction */
    uint64_t deadline_ns; /* 0: DEFAULT_DEADLINE_NS */
} attack;

#define E(...)                                                                                     \
    { __VA_ARGS__, END }
#define P GLINT_E_PROTOCOL
#define FAULT GLINT_E_GUEST_FAULT
#define ERR(e) .check_err = true, .err = (e)
/* Outcomes: a CPU exception with its vector and error code (#UD, #DE, #BP,
 * #DB have none: the stubs report 0). */
#define GP(e) .expect = E(FAULT), .vector = 13, ERR(e)
#define UD .expect = E(FAULT), .vector = 6, ERR(0)
#define PF(e) .expect = E(FAULT), .vector = 14, ERR(e)
#define OK .expect = E(GLINT_OK)
#define STATUS(s) .expect = E(s)
/* Page-fault error codes: P (protection, else not present), W, U (CPL 3), I (fetch). */
#define PF_READ_NP 0x4u
#define PF_WRITE_NP 0x6u
#define PF_FETCH_NP 0x14u
#define PF_READ_PROT 0x5u
#define PF_WRITE_PROT 0x7u
#define PF_FETCH_PROT 0x15u
/* Error code of a #GP raised by INT n through a gate it may not use (IDT bit). */
#define IDT_ERR(n) (((uint64_t)(n) << 3) | 2u)

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

static uint64_t resolve_arg(arg_kind kind, uint64_t arg) {
    const glint_layout_info *l = &base_layout;
    switch (kind) {
    case ARG_SNAPSHOT_END: return l->snapshot_gpa + l->snapshot_size + arg;
    case ARG_BELOW_SCRATCH: return GLINT_WORLD_GPA(l->scratch_gpa) - PAGE + arg;
    case ARG_WORLD: return GLINT_WORLD_GPA(l->scratch_gpa) + arg;
    case ARG_CPU_TABLES: return l->cpu_tables_gpa + arg;
    case ARG_EXCEPTION_CODE: return l->exception_code_gpa + arg;
    case ARG_EXCEPTION_STACK_TOP: return l->exception_stack_gpa + l->exception_stack_size + arg;
    case ARG_METADATA: return l->metadata_gpa + arg;
    case ARG_PAGE_TABLES: return l->page_tables_gpa + arg;
    default: return arg;
    }
}

/* The address of the instruction the guest's assembly routine for `name`
 * faults on (hostile_guest.c, fault_site), asked of the bystander. */
static uint64_t fault_site(const char *name) {
    glint_value in = glint_str(name), out;
    glint_status st = glint_sandbox_call(bystander, "fault_site", GLINT_TYPE_I64, &in, 1, &out);
    if (st != GLINT_OK || out.as.i64 <= 0) {
        failf("fault_site(%s): %s, %" PRId64, name, glint_status_name(st), out.as.i64);
        return 0;
    }
    return (uint64_t)out.as.i64;
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

/* Checks a fault's details against the attack (status already checked). */
static void check_fault(const attack *a, const char *shown, const glint_error *e, uint64_t arg,
                        uint64_t site) {
    if (!e->has_fault) {
        failf("%s: no fault details", shown);
        return;
    }
    if (e->vector != (uint32_t)a->vector)
        failf("%s: vector %u, expected %d", shown, e->vector, a->vector);
    if (a->check_err && e->error_code != a->err)
        failf("%s: error code 0x%" PRIx64 ", expected 0x%" PRIx64, shown, e->error_code, a->err);
    if ((a->flags & F_CR2) && e->cr2 != arg)
        failf("%s: CR2 0x%" PRIx64 ", expected 0x%" PRIx64, shown, e->cr2, arg);
    if ((a->flags & F_RIP_SITE) && e->rip != site + (uint64_t)a->rip_offset)
        failf("%s: RIP 0x%" PRIx64 ", expected 0x%" PRIx64 " (fault_site%+d)", shown, e->rip,
              site + (uint64_t)a->rip_offset, a->rip_offset);
    if ((a->flags & F_RIP_ARG) && e->rip != arg)
        failf("%s: RIP 0x%" PRIx64 ", expected 0x%" PRIx64, shown, e->rip, arg);
    if ((a->flags & F_AT_ZERO) && (e->rip != 0 || e->cr2 != 0))
        failf("%s: RIP 0x%" PRIx64 " CR2 0x%" PRIx64 ", expected 0 (LSTAR)", shown, e->rip, e->cr2);
    if ((a->flags & F_RIP_CR2) && e->rip != e->cr2)
        failf("%s: RIP 0x%" PRIx64 " != CR2 0x%" PRIx64, shown, e->rip, e->cr2);
}

static void run_attack(const attack *a) {
    uint64_t arg = resolve_arg(a->arg_kind, a->arg);
    uint64_t site = (a->flags & F_RIP_SITE) ? fault_site(a->name) : 0;
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
        printf("  %-38s -> GLINT_OK, value %" PRId64 " (0x%" PRIx64 ")\n", shown, out.as.i64,
               out.as.u64);
    else
        printf("  %-38s -> %s%s: %s\n", shown, glint_status_name(st),
               glint_sandbox_is_poisoned(sb) ? " [poisoned]" : "", e->message);
    if (!expected(a->expect, st)) failf("%s: unexpected %s", shown, glint_status_name(st));
    if (st != GLINT_OK && e->message[0] == '\0') failf("%s: empty error message", shown);
    if (st == GLINT_OK && (a->flags & F_VALUE) && out.as.i64 != a->value)
        failf("%s: value %" PRId64 ", expected %" PRId64, shown, out.as.i64, a->value);
    if (st == GLINT_OK && (a->flags & F_VALUE_ARG) && out.as.u64 != arg)
        failf("%s: value 0x%" PRIx64 ", expected 0x%" PRIx64, shown, out.as.u64, arg);
    if (st == GLINT_OK && out.as.i64 == 0x7777 && ret == GLINT_TYPE_I64 &&
        !(a->flags & F_CARRIES_ON))
        failf("%s: the guest carried on after its attack", shown);
    if (st == GLINT_E_GUEST_FAULT || st == GLINT_E_STACK_OVERFLOW)
        check_fault(a, shown, e, arg, site);
    check_after(sb, shown, st, a->flags);
    glint_sandbox_destroy(sb);
    check_bystander(shown);
}

/* ---- The attack table ------------------------------------------------------------ */

#define SITE F_RIP_SITE
static const attack runtime_attacks[] = {
    /* Output buffer: top and back-pointers, lengths near 2^64. */
    {"ob_top_huge", STATUS(P)},
    {"ob_top_max_done", STATUS(P)},
    {"ob_top_unaligned", STATUS(P)},
    {"ob_top_zero", STATUS(P)},
    {"ob_top_past_end", STATUS(P)},
    {"ob_back_huge", STATUS(P)},
    {"ob_back_above_top", STATUS(P)},
    {"ob_back_zero", STATUS(P)},
    {"ob_back_unaligned", STATUS(P)},
    {"ob_done_empty", STATUS(P)},
    {"ob_chain_full", STATUS(P)},
    /* Messages claiming more than the buffer holds, malformed contents. */
    {"msg_body_len_max", STATUS(P)},
    {"msg_body_len_past_buffer", STATUS(P)},
    {"msg_print_claims_more", STATUS(P)},
    {"msg_string_len_max", STATUS(P)},
    {"msg_string_no_nul", STATUS(P)},
    {"msg_result_len_huge", STATUS(P)},
    {"msg_bad_kind", STATUS(P)},
    {"msg_bad_version", STATUS(P)},
    {"msg_wrong_kind_for_port", STATUS(P)},
    {"msg_log_bad_level", STATUS(P)},
    {"msg_abort_malformed", STATUS(P)},
    {"msg_result_wrong_type", STATUS(GLINT_E_RETURN_TYPE), .flags = F_FOLLOWUP_ANY},
    {"msg_error_code_zero", STATUS(GLINT_E_GUEST_ERROR), .flags = F_FOLLOWUP_ANY},
    /* Every protocol port with garbage in the output buffer. */
    {"garbage_port", 0xE0, STATUS(P)},
    {"garbage_port", 0xE1, STATUS(P)},
    {"garbage_port", 0xE2, STATUS(P)},
    {"garbage_port", 0xE3, STATUS(P)},
    {"garbage_port", 0xE4, STATUS(P)},
    {"garbage_port", 0xE5, GP(0)},
    /* Exception reports are the stubs' alone: the record is supervisor-only,
     * the exception port is not in the I/O bitmap. */
    {"exception_record_forged", 0, ARG_METADATA, PF(PF_WRITE_PROT), .flags = F_CR2},
    {"priv_out_exception", GP(0), .flags = SITE},
    /* Input buffer. */
    {"ib_top_corrupt", STATUS(P)},
    {"ib_fill_with_replies", STATUS(P)},
    /* Host functions: malformed calls, wrong names/types/counts, re-entry,
     * huge returns, recursion. */
    {"hc_raw_argc_200", STATUS(P)},
    {"hc_raw_bad_types", STATUS(P)},
    {"hc_raw_name_too_long", STATUS(P)},
    {"hc_unknown_name", OK, .flags = F_VALUE, .value = GLINT_E_FUNCTION_NOT_FOUND},
    {"hc_wrong_count", OK, .flags = F_VALUE, .value = GLINT_E_PARAMETER_COUNT},
    {"hc_wrong_type", OK, .flags = F_VALUE, .value = GLINT_E_PARAMETER_TYPE},
    {"hc_wrong_return_type", OK, .flags = F_VALUE, .value = GLINT_E_RETURN_TYPE},
    {"hc_reenter", OK, .flags = F_VALUE, .value = GLINT_E_HOST_FUNCTION_ERROR},
    {"hc_huge_return", OK, .flags = F_VALUE, .value = GLINT_E_RESULT_TOO_BIG},
    {"hc_host_bad_return", OK, .flags = F_VALUE, .value = GLINT_E_HOST_FUNCTION_ERROR},
    {"hc_recursion", 300, OK, .flags = F_VALUE, .value = 300 * 301 / 2},
    {"hc_flood", 3000, OK, .flags = F_VALUE, .value = 3000},
    {"hc_signal_self", OK, .flags = F_VALUE, .value = 0},
    /* CPU exceptions.  #BP and ICEBP's #DB are traps: RIP after the instruction. */
    {"cpu_int3", .expect = E(FAULT), .vector = 3, ERR(0), .flags = SITE, .rip_offset = 1},
    {"cpu_ud2", UD, .flags = SITE},
    {"cpu_div0", .expect = E(FAULT), .vector = 0, ERR(0), .flags = SITE},
    /* INT 0x80 is beyond the IDT's 32 gates: #GP (IDT entry 0x80), and INT 14
     * from CPL 3 may not use the DPL-0 #PF gate: #GP (IDT entry 14), so no
     * fake page fault reaches the stubs.  QEMU's TCG (the harness) computes
     * the error code with 16-byte entries (0x802, 0xe2) and reports the
     * second #GP after the instruction; PVM reports #UD for both (its
     * switcher does not deliver a guest's INT n). */
    {"cpu_int80", .on = ON_REAL_HW, GP(IDT_ERR(0x80)), .flags = SITE},
    {"cpu_int80", .on = ON_QEMU_SVM, GP(0x802), .flags = SITE},
    {"cpu_int80", .on = ON_PVM, UD, .flags = SITE},
    {"cpu_int_pf", .on = ON_REAL_HW, GP(IDT_ERR(14)), .flags = SITE},
    {"cpu_int_pf", .on = ON_QEMU_SVM, GP(0xE2), .flags = SITE, .rip_offset = 2},
    {"cpu_int_pf", .on = ON_PVM, UD, .flags = SITE},
    /* ICEBP: a #DB trap (RIP after it) through the DPL-0 gate, which the CPU
     * allows for INT1; PVM reports the ICEBP's own RIP; QEMU's TCG raises #UD. */
    {"cpu_icebp", .on = ON_REAL_HW, .expect = E(FAULT), .vector = 1, ERR(0), .flags = SITE,
     .rip_offset = 1},
    {"cpu_icebp", .on = ON_QEMU_SVM, UD, .flags = SITE},
    {"cpu_icebp", .on = ON_PVM, .expect = E(FAULT), .vector = 1, ERR(0), .flags = SITE},
    /* SYSCALL with EFER.SCE clear: #UD.  PVM ignores EFER.SCE: the guest's
     * SYSCALL continues at LSTAR, which the host leaves 0 (never mapped), so
     * the stubs report a #PF fetching 0 (U set in the error code: still CPL 3;
     * with LSTAR pointed at the stubs' page, an experiment gave a protection
     * violation, not CPL-0 code).  Whatever RSP the guest set (the host's
     * supervisor pages, read-only, unmapped, non-canonical), the report comes
     * through cleanly. */
    {"cpu_syscall", .on = ON_HW, UD, .flags = SITE},
    {"cpu_syscall", .on = ON_PVM, PF(PF_FETCH_NP), .flags = F_AT_ZERO},
    {"cpu_syscall_rsp", 0x800, .on = ON_HW, UD, .flags = SITE},
    {"cpu_syscall_rsp", 0x800, .on = ON_PVM, PF(PF_FETCH_NP), .flags = F_AT_ZERO},
    {"cpu_syscall_rsp", 0x800, ARG_METADATA, .on = ON_HW, UD, .flags = SITE},
    {"cpu_syscall_rsp", 0x800, ARG_METADATA, .on = ON_PVM, PF(PF_FETCH_NP), .flags = F_AT_ZERO},
    {"cpu_syscall_rsp", 0x800, ARG_CPU_TABLES, .on = ON_HW, UD, .flags = SITE},
    {"cpu_syscall_rsp", 0x800, ARG_CPU_TABLES, .on = ON_PVM, PF(PF_FETCH_NP), .flags = F_AT_ZERO},
    {"cpu_syscall_rsp", 0x800, ARG_EXCEPTION_CODE, .on = ON_HW, UD, .flags = SITE},
    {"cpu_syscall_rsp", 0x800, ARG_EXCEPTION_CODE, .on = ON_PVM, PF(PF_FETCH_NP),
     .flags = F_AT_ZERO},
    {"cpu_syscall_rsp", 0, ARG_EXCEPTION_STACK_TOP, .on = ON_HW, UD, .flags = SITE},
    {"cpu_syscall_rsp", 0, ARG_EXCEPTION_STACK_TOP, .on = ON_PVM, PF(PF_FETCH_NP),
     .flags = F_AT_ZERO},
    {"cpu_syscall_rsp", 0x2000, .on = ON_HW, UD, .flags = SITE},
    {"cpu_syscall_rsp", 0x2000, .on = ON_PVM, PF(PF_FETCH_NP), .flags = F_AT_ZERO},
    {"cpu_syscall_rsp", 0x8000000000000000ull, .on = ON_HW, UD, .flags = SITE},
    {"cpu_syscall_rsp", 0x8000000000000000ull, .on = ON_PVM, PF(PF_FETCH_NP), .flags = F_AT_ZERO},
    /* SYSENTER in 64-bit mode: #UD on AMD, #GP(0) on Intel (SYSENTER_CS 0). */
    {"cpu_sysenter", .on = ON_AMD, UD, .flags = SITE},
    {"cpu_sysenter", .on = ON_INTEL, GP(0), .flags = SITE},
    {"cpu_single_step", .expect = E(FAULT), .vector = 1, ERR(0)},
    {"cpu_noncanonical", GP(0)},
    {"cpu_null_write", 0, PF(PF_WRITE_NP), .flags = F_CR2},
    {"cpu_bad_stack", 0x7F8, PF(PF_WRITE_NP), .flags = F_CR2 | SITE},
    /* EFLAGS.AC and a misaligned load: nothing while the guest's CR0.AM is
     * clear; PVM runs ring 3 under the host's CR0, where AM is set: #AC(0). */
    {"cpu_alignment_check", .on = ON_HW, OK, .flags = F_VALUE, .value = 0},
    {"cpu_alignment_check", .on = ON_PVM, .expect = E(FAULT), .vector = 17, ERR(0), .flags = SITE},
    /* Privileged instructions at CPL 3 (issue 11): #GP(0) at the instruction. */
    {"priv_wrmsr", GP(0), .flags = SITE},
    {"priv_rdmsr", GP(0), .flags = SITE},
    {"priv_mov_cr0", GP(0), .flags = SITE},
    {"priv_mov_cr3", 0, ARG_PAGE_TABLES, GP(0), .flags = SITE},
    {"priv_mov_cr4", GP(0), .flags = SITE},
    {"priv_read_cr3", GP(0), .flags = SITE},
    {"priv_mov_dr7", GP(0), .flags = SITE},
    {"priv_lgdt", GP(0), .flags = SITE},
    {"priv_lidt", GP(0), .flags = SITE},
    {"priv_ltr", GP(0), .flags = SITE},
    {"priv_lldt", GP(0), .flags = SITE},
    {"priv_hlt", GP(0), .flags = SITE},
    {"priv_invlpg", 0x1000, GP(0), .flags = SITE},
    /* XSETBV: on Intel the CPU raises #UD itself (the guest's CR4.OSXSAVE is
     * clear) before any VM exit; on AMD XSETBV is intercepted first and KVM
     * refuses it at CPL 3 with #GP(0); PVM (the host's CR4, OSXSAVE set):
     * #GP(0). */
    {"priv_xsetbv", .on = ON_VMX, UD, .flags = SITE},
    {"priv_xsetbv", .on = ON_AMD | ON_PVM, GP(0), .flags = SITE},
    {"priv_clts", GP(0), .flags = SITE},
    {"priv_wbinvd", GP(0), .flags = SITE},
    {"priv_invd", GP(0), .flags = SITE},
    {"priv_swapgs", GP(0), .flags = SITE},
    /* SYSRET: #UD with EFER.SCE clear; PVM (the host's EFER): #GP(0).
     * SYSEXIT: #GP(0) (CPL 3). */
    {"priv_sysret", .on = ON_HW, UD, .flags = SITE},
    {"priv_sysret", .on = ON_PVM, GP(0), .flags = SITE},
    {"priv_sysexit", GP(0), .flags = SITE},
    {"priv_cli", GP(0), .flags = SITE},
    {"priv_sti", GP(0), .flags = SITE},
    {"priv_rdpmc", GP(0), .flags = SITE},
    /* POPF / IRETQ of IF and IOPL 3: ignored at CPL 3, the guest carries on. */
    {"priv_popf_iopl", OK, .flags = F_VALUE, .value = 0},
    {"priv_iretq_iopl", OK, .flags = F_VALUE, .value = 0},
    /* Descriptors: no way to a DPL-0 selector. */
    {"seg_iretq_kernel_cs", GP(GLINT_SEL_KERNEL_CODE), .flags = SITE},
    {"seg_lret_kernel_cs", GP(GLINT_SEL_KERNEL_CODE), .flags = SITE},
    {"seg_ljmp_kernel_cs", GP(GLINT_SEL_KERNEL_CODE), .flags = SITE},
    /* Far jump to the user data selector as code (no way into 32-bit code): #GP(0x20). */
    {"seg_ljmp_user_data", GP(GLINT_SEL_USER_DATA & ~3u), .flags = SITE},
    {"seg_ds_kernel", GP(GLINT_SEL_KERNEL_DATA), .flags = SITE},
    {"seg_ss_kernel", GP(GLINT_SEL_KERNEL_DATA), .flags = SITE},
    {"seg_ss_rpl0", GP(GLINT_SEL_USER_DATA & ~3u), .flags = SITE},
    /* The TSS selector into DS: #GP(0x28).  PVM loads it: ring-3 code runs
     * natively there, on a GDT that is not the guest's, where 0x28 is
     * apparently a DPL-3 data segment (harmless: still CPL 3, flat). */
    {"seg_ds_tss", .on = ON_HW, GP(GLINT_SEL_TSS), .flags = SITE},
    {"seg_ds_tss", .on = ON_PVM, OK, .flags = F_CARRIES_ON},
    {"seg_es_beyond_gdt", GP(GLINT_GDT_ENTRIES * 8u), .flags = SITE},
    /* SGDT/SIDT/STR/SMSW (CR4.UMIP clear): what the layout says anyway. */
    {"info_sgdt", 0, ARG_CPU_TABLES, OK, .flags = F_VALUE_ARG},
    {"info_sidt", 0x200, ARG_CPU_TABLES, OK, .flags = F_VALUE_ARG},
    {"info_str", OK, .flags = F_VALUE, .value = GLINT_SEL_TSS},
    {"info_smsw", OK, .flags = F_VALUE, .value = 0x80010033}, /* CR0: PG WP NE ET MP PE */
    {"info_rdtscp", OK},
    /* The host's supervisor-only pages: #PF (protection violation, CPL 3)
     * with CR2 = the address; execution faults at the target. */
    {"mem_read", 0, ARG_CPU_TABLES, PF(PF_READ_PROT), .flags = F_CR2 | SITE},
    {"mem_write", 0, ARG_CPU_TABLES, PF(PF_WRITE_PROT), .flags = F_CR2 | SITE},
    {"mem_write", 0x104, ARG_CPU_TABLES, PF(PF_WRITE_PROT), .flags = F_CR2 | SITE}, /* TSS.RSP0 */
    {"mem_write", 0x2D0, ARG_CPU_TABLES, PF(PF_WRITE_PROT), .flags = F_CR2 | SITE}, /* #GP gate */
    {"mem_exec", 0, ARG_CPU_TABLES, PF(PF_FETCH_PROT), .flags = F_CR2 | F_RIP_ARG},
    {"mem_read", 0, ARG_EXCEPTION_CODE, PF(PF_READ_PROT), .flags = F_CR2 | SITE},
    {"mem_write", 0, ARG_EXCEPTION_CODE, PF(PF_WRITE_PROT), .flags = F_CR2 | SITE},
    {"mem_exec", 0, ARG_EXCEPTION_CODE, PF(PF_FETCH_PROT), .flags = F_CR2 | F_RIP_ARG},
    {"mem_exec", 0x200, ARG_EXCEPTION_CODE, PF(PF_FETCH_PROT), .flags = F_CR2 | F_RIP_ARG},
    {"mem_read", -8ull, ARG_EXCEPTION_STACK_TOP, PF(PF_READ_PROT), .flags = F_CR2 | SITE},
    {"mem_write", -8ull, ARG_EXCEPTION_STACK_TOP, PF(PF_WRITE_PROT), .flags = F_CR2 | SITE},
    {"mem_read", 0, ARG_METADATA, PF(PF_READ_PROT), .flags = F_CR2 | SITE},
    {"mem_write", 0x40, ARG_METADATA, PF(PF_WRITE_PROT), .flags = F_CR2 | SITE},
    /* The page tables are not mapped at all. */
    {"mem_read", 0, ARG_PAGE_TABLES, PF(PF_READ_NP), .flags = F_CR2 | SITE},
    {"mem_write", 0, ARG_PAGE_TABLES, PF(PF_WRITE_NP), .flags = F_CR2 | SITE},
    /* Guest-physical addresses with no memory: not in the page tables
     * either, so a #PF, never an MMIO exit. */
    {"mem_read", 0, ARG_SNAPSHOT_END, PF(PF_READ_NP), .flags = F_CR2 | SITE},
    {"mem_write", 0, ARG_SNAPSHOT_END, PF(PF_WRITE_NP), .flags = F_CR2 | SITE},
    {"mem_read", 0, ARG_BELOW_SCRATCH, PF(PF_READ_NP), .flags = F_CR2 | SITE},
    /* The world page: the guest reads it (its clock and seed), never writes
     * or executes it; its memory slot is read-only as well. */
    {"mem_read", 0, ARG_WORLD, OK, .flags = F_CARRIES_ON},
    {"mem_write", 0, ARG_WORLD, PF(PF_WRITE_PROT), .flags = F_CR2 | SITE},
    {"mem_write", 0x48, ARG_WORLD, PF(PF_WRITE_PROT), .flags = F_CR2 | SITE},
    {"mem_exec", 0, ARG_WORLD, PF(PF_FETCH_PROT), .flags = F_CR2 | F_RIP_ARG},
    {"mem_read", 0x40000000, PF(PF_READ_NP), .flags = F_CR2 | SITE},
    {"mem_write", 0xFEE00300, PF(PF_WRITE_NP), .flags = F_CR2 | SITE},
    {"mem_read", 0xFEC00000, PF(PF_READ_NP), .flags = F_CR2 | SITE},
    {"mem_write", 1ull << 36, PF(PF_WRITE_NP), .flags = F_CR2 | SITE},
    {"mem_read", (1ull << 39) + 0x1238, PF(PF_READ_NP), .flags = F_CR2 | SITE},
    {"mem_rep_movs", 0x40000000, PF(PF_READ_NP), .flags = F_CR2 | SITE},
    {"mem_exec", 0x40000000, PF(PF_FETCH_NP), .flags = F_CR2 | F_RIP_ARG},
    /* The guest's own read-only regions and NX. */
    {"mem_write_code", PF(PF_WRITE_PROT)},
    {"mem_write_rodata", PF(PF_WRITE_PROT)},
    {"mem_write_peb", PF(PF_WRITE_PROT)},
    {"mem_exec_heap", PF(PF_FETCH_PROT), .flags = F_RIP_CR2},
    {"mem_exec_data", PF(PF_FETCH_PROT), .flags = F_RIP_CR2},
    {"mem_exec_stack", PF(PF_FETCH_PROT), .flags = F_RIP_CR2},
    {"mem_exec_input", PF(PF_FETCH_PROT), .flags = F_RIP_CR2},
    /* Stack, recursion, heap, results. */
    {"stack_overflow", STATUS(GLINT_E_STACK_OVERFLOW), .vector = 14, ERR(PF_WRITE_NP)},
    {"infinite_recursion", STATUS(GLINT_E_STACK_OVERFLOW), .vector = 14, ERR(PF_WRITE_NP)},
    {"stack_skip_guard", PF(PF_WRITE_NP)},
    {"heap_exhaust", OK},
    {"heap_oom_error", STATUS(GLINT_E_OUT_OF_MEMORY)},
    {"huge_result", STATUS(GLINT_E_RESULT_TOO_BIG)},
    {"abort_long_message", STATUS(GLINT_E_GUEST_ABORT)},
    /* Port I/O: every port outside 0xE0-0xE4 is #GP(0) at the instruction
     * (the I/O bitmap); inside, every access but an 8-bit OUT is refused by
     * the host. */
    {"port_out8", 0x00, GP(0), .flags = SITE},
    {"port_out8", 0x80, GP(0), .flags = SITE},
    {"port_out8", 0x3F8, GP(0), .flags = SITE},
    {"port_out8", 0xCF8, GP(0), .flags = SITE},
    {"port_out8", 0xDF, GP(0), .flags = SITE},
    {"port_out8", 0xE5, GP(0), .flags = SITE},
    {"port_out8", 0xE6, GP(0), .flags = SITE},
    {"port_out8", 0xFFFF, GP(0), .flags = SITE},
    {"port_out16", 0xE0, STATUS(GLINT_E_UNKNOWN_PORT)},
    {"port_out16", 0xE3, STATUS(GLINT_E_UNKNOWN_PORT)},
    {"port_out16", 0xE4, GP(0), .flags = SITE}, /* 0xE5 is its second byte */
    {"port_out16", 0xDF, GP(0), .flags = SITE},
    {"port_out32", 0xE0, STATUS(GLINT_E_UNKNOWN_PORT)},
    {"port_out32", 0xE1, STATUS(GLINT_E_UNKNOWN_PORT)},
    {"port_out32", 0xE2, GP(0), .flags = SITE},
    {"port_out32", 0xE4, GP(0), .flags = SITE},
    {"port_in8", 0xE0, STATUS(GLINT_E_UNKNOWN_PORT)},
    {"port_in8", 0xE5, GP(0), .flags = SITE},
    {"port_in8", 0x60, GP(0), .flags = SITE},
    {"port_in16", 0xE1, STATUS(GLINT_E_UNKNOWN_PORT)},
    {"port_in32", 0xE0, STATUS(GLINT_E_UNKNOWN_PORT)},
    {"port_in32", 0xE3, GP(0), .flags = SITE},
    /* String OUT to DONE: KVM (PVM and SVM alike) hands the host one exit per
     * element (count 1), so this is a DONE with nothing on the output buffer. */
    {"port_rep_outsb", 0xE0, STATUS(P)},
    {"port_rep_outsb", 0xE5, GP(0), .flags = SITE},
    {"port_rep_insb", 0xE2, STATUS(GLINT_E_UNKNOWN_PORT)},
    {"port_rep_insb", 0x80, GP(0), .flags = SITE},
    /* Spinning: only the deadline ends it. */
    {"spin_forever", STATUS(GLINT_E_DEADLINE), .deadline_ns = 300ull * 1000 * 1000},
    /* CPUID, TSC: harmless. */
    {"cpuid_all", OK},
    {"rdtsc_rdrand", OK},
    /* Hypercalls from CPL 3: KVM refuses the vendor's own instruction with
     * -KVM_EPERM (RAX = -1) before looking at the number; the other vendor's
     * instruction is emulated after a #UD and refused as privileged: #GP(0). */
    {"hypercall", 0, .on = ON_AMD, GP(0), .flags = SITE},
    {"hypercall", 5, .on = ON_AMD, GP(0), .flags = SITE},
    {"hypercall", 9, .on = ON_AMD, GP(0), .flags = SITE},
    {"hypercall", 10, .on = ON_AMD, GP(0), .flags = SITE},
    {"hypercall", 11, .on = ON_AMD, GP(0), .flags = SITE},
    {"hypercall", 12, .on = ON_AMD, GP(0), .flags = SITE},
    {"hypercall", 0xFFFFFFFF, .on = ON_AMD, GP(0), .flags = SITE},
    {"hypercall", 0, .on = ON_INTEL, OK, .flags = F_VALUE, .value = -1},
    {"hypercall", 5, .on = ON_INTEL, OK, .flags = F_VALUE, .value = -1},
    {"hypercall", 10, .on = ON_INTEL, OK, .flags = F_VALUE, .value = -1},
    {"hypercall_vmmcall", 0, .on = ON_AMD, OK, .flags = F_VALUE, .value = -1},
    {"hypercall_vmmcall", 5, .on = ON_AMD, OK, .flags = F_VALUE, .value = -1},
    {"hypercall_vmmcall", 9, .on = ON_AMD, OK, .flags = F_VALUE, .value = -1},
    {"hypercall_vmmcall", 10, .on = ON_AMD, OK, .flags = F_VALUE, .value = -1},
    {"hypercall_vmmcall", 12, .on = ON_AMD, OK, .flags = F_VALUE, .value = -1},
    {"hypercall_vmmcall", 0xFFFFFFFF, .on = ON_AMD, OK, .flags = F_VALUE, .value = -1},
    {"hypercall_vmmcall", 0, .on = ON_INTEL, GP(0), .flags = SITE},
    {"hypercall_vmmcall", 10, .on = ON_INTEL, GP(0), .flags = SITE},
};
#undef SITE

static void test_runtime_attacks(void) {
    printf("[attacks on a running guest]\n");
    for (size_t i = 0; i < sizeof runtime_attacks / sizeof runtime_attacks[0]; i++) {
        const attack *a = &runtime_attacks[i];
        if (a->on == 0 || (a->on & platform)) run_attack(a);
    }
    /* What the host functions saw of their own re-entry attempts: a call is
     * a nested call (allowed, config.max_call_depth), nothing else is. */
    if (hostile_host.reenter_status != GLINT_OK)
        failf("glint_sandbox_call from a host function (a nested call) returned %s, expected "
              "GLINT_OK",
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

/* Every RDMSR and WRMSR at CPL 3 is #GP(0) at the instruction, whatever the
 * MSR: nothing reaches KVM's MSR emulation. */
static void test_msrs(void) {
    static const char *const ops[] = {"msr_read", "msr_write_zero", "msr_write_ones"};
    printf("[rdmsr/wrmsr of sensitive MSRs]\n");
    uint64_t sites[3];
    for (size_t o = 0; o < 3; o++) sites[o] = fault_site(ops[o]);
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
            if (st != GLINT_E_GUEST_FAULT || !e->has_fault || e->vector != 13 ||
                e->error_code != 0 || e->rip != sites[o])
                failf("MSR 0x%x %s: %s (vector %u, error code 0x%" PRIx64 ", RIP 0x%" PRIx64
                      "), expected #GP(0) at 0x%" PRIx64 ": %s",
                      msrs[i].msr, ops[o], glint_status_name(st), e->vector, e->error_code, e->rip,
                      sites[o], e->message);
            if (glint_sandbox_is_poisoned(sb) != run_failure(st))
                failf("MSR 0x%x %s: poisoned state wrong", msrs[i].msr, ops[o]);
            if (glint_sandbox_restore(sb, base_snap) != GLINT_OK)
                failf("MSR 0x%x: restore failed", msrs[i].msr);
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

/* kvmclock aimed at guest memory: the WRMSR is a #GP, and KVM never writes
 * the page, before the restore or after it (moving the vCPU thread between
 * CPUs, which is when KVM would rewrite an enabled clock page). */
static void test_kvmclock_restore(void) {
    printf("[kvmclock enabled, then restore]\n");
    glint_sandbox *sb = clone_base(DEFAULT_DEADLINE_NS);
    uint64_t site = fault_site("kvmclock_enable");
    glint_value in = glint_u64(0), out;
    glint_status st = glint_sandbox_call(sb, "kvmclock_enable", GLINT_TYPE_I64, &in, 1, &out);
    const glint_error *e = glint_sandbox_last_error(sb);
    attacks_run++;
    printf("  kvmclock_enable -> %s: %s\n", glint_status_name(st), e->message);
    if (st != GLINT_E_GUEST_FAULT || e->vector != 13 || e->rip != site)
        failf("kvmclock_enable: expected #GP at 0x%" PRIx64, site);
    if (glint_sandbox_restore(sb, base_snap) != GLINT_OK) failf("kvmclock: restore failed");
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
        if (st != GLINT_OK || out.as.i64 != 0) written++;
    }
    sched_setaffinity(0, sizeof original, &original);
    printf("  page written by KVM after restore (8 calls over %d CPUs): %d of 8\n", cpus, written);
    if (written != 0) failf("kvmclock page written (or peek failed) after the refused WRMSR");
    glint_sandbox_destroy(sb);
}

/* ---- Mappings ----------------------------------------------------------------------------- */

/* Memory the host maps and unmaps between calls.  The guest reaches a
 * mapping only while it exists: after glint_sandbox_unmap the page tables no
 * longer map it (and KVM's slot is gone), so the next access is a #PF, never
 * an access to the old memory or an MMIO exit.  A read-only mapping is
 * read-only in the page tables before KVM's read-only slot is ever asked. */
static void expect_call(glint_sandbox *sb, const char *fn, uint64_t arg, glint_status want,
                        int64_t value, uint64_t pf_err, const char *what) {
    glint_value in = glint_u64(arg), out;
    memset(&out, 0, sizeof out);
    glint_status st = glint_sandbox_call(sb, fn, GLINT_TYPE_I64, &in, 1, &out);
    const glint_error *e = glint_sandbox_last_error(sb);
    attacks_run++;
    char shown[96];
    snprintf(shown, sizeof shown, "%s: %s(0x%" PRIx64 ")", what, fn, arg);
    if (st == GLINT_OK)
        printf("  %-48s -> GLINT_OK, value 0x%" PRIx64 "\n", shown, out.as.u64);
    else
        printf("  %-48s -> %s: %s\n", shown, glint_status_name(st), e->message);
    if (st != want) {
        failf("%s: %s, expected %s", shown, glint_status_name(st), glint_status_name(want));
    } else if (st == GLINT_OK && out.as.i64 != value) {
        failf("%s: value 0x%" PRIx64 ", expected 0x%" PRIx64, shown, out.as.u64, (uint64_t)value);
    } else if (st == GLINT_E_GUEST_FAULT &&
               (e->vector != 14 || e->cr2 != arg || e->error_code != pf_err)) {
        failf("%s: vector %u CR2 0x%" PRIx64 " error 0x%" PRIx64 ", expected #PF at 0x%" PRIx64
              " error 0x%" PRIx64,
              shown, e->vector, e->cr2, e->error_code, arg, pf_err);
    }
    if (glint_sandbox_is_poisoned(sb) && glint_sandbox_restore(sb, base_snap) != GLINT_OK)
        failf("%s: restore failed", shown);
}

static void test_mappings(void) {
    printf("[host memory mapped, then unmapped]\n");
    const uint64_t gpa = 0x40000000;
    uint64_t *host = aligned_alloc(PAGE, PAGE);
    if (host == NULL) {
        failf("out of memory");
        return;
    }
    memset(host, 0, PAGE);
    host[0] = 0x0123456789ABCDEFull;
    glint_sandbox *sb = clone_base(DEFAULT_DEADLINE_NS);
    glint_mapping_options rw = {.mode = GLINT_MAP_READ_WRITE, .label = "rw"};
    glint_mapping_options ro = {.mode = GLINT_MAP_READ_ONLY, .label = "ro"};
    glint_status st = glint_sandbox_map_host_memory(sb, gpa, host, PAGE, &rw);
    if (st != GLINT_OK) failf("map read-write: %s", glint_sandbox_last_error(sb)->message);
    expect_call(sb, "mem_peek", gpa, GLINT_OK, 0x0123456789ABCDEFll, 0, "mapped read-write");
    expect_call(sb, "mem_poke", gpa, GLINT_OK, 0x1122334455667788ll, 0, "mapped read-write");
    if (host[0] != 0x1122334455667788ull) failf("the guest's write did not reach host memory");
    if (glint_sandbox_unmap(sb, gpa) != GLINT_OK)
        failf("unmap: %s", glint_sandbox_last_error(sb)->message);
    host[0] = 0x5555555555555555ull;
    expect_call(sb, "mem_peek", gpa, GLINT_E_GUEST_FAULT, 0, PF_READ_NP, "unmapped");
    expect_call(sb, "mem_poke", gpa, GLINT_E_GUEST_FAULT, 0, PF_WRITE_NP, "unmapped");
    if (host[0] != 0x5555555555555555ull) failf("host memory written after unmap");
    st = glint_sandbox_map_host_memory(sb, gpa, host, PAGE, &ro);
    if (st != GLINT_OK) failf("map read-only: %s", glint_sandbox_last_error(sb)->message);
    expect_call(sb, "mem_peek", gpa, GLINT_OK, 0x5555555555555555ll, 0, "mapped read-only");
    expect_call(sb, "mem_poke", gpa, GLINT_E_GUEST_FAULT, 0, PF_WRITE_PROT, "mapped read-only");
    if (host[0] != 0x5555555555555555ull) failf("read-only host memory written");
    /* The restore after that fault returned the sandbox to base_snap, which
     * has no mappings: the page is gone again. */
    expect_call(sb, "mem_peek", gpa, GLINT_E_GUEST_FAULT, 0, PF_READ_NP, "restored (no mapping)");
    glint_sandbox_destroy(sb);
    free(host);
    check_bystander("mappings");
}

/* ---- Register state and restore ---------------------------------------------------------- */

/* Register state the guest may set at CPL 3 where the CPU lets it (PVM runs
 * ring 3 under the host's CR4: AVX and WRGSBASE work there; on SVM/VMX the
 * guest's CR4 makes both #UD).  A restore must bring back the snapshot's
 * values: nothing a call leaves in registers reaches the restored guest. */
static void test_state_restore(void) {
    static const struct {
        const char *poke, *peek;
    } state[] = {{"state_ymm_poke", "state_ymm_peek"}, {"state_gsbase_poke", "state_gsbase_peek"}};
    const uint64_t pattern = 0x00005A5A5A5A5A5Aull; /* canonical: a valid GS base */
    bool allowed = (platform & ON_PVM) != 0;
    printf("[register state across restore: %s]\n",
           allowed ? "allowed at CPL 3 here, must not survive a restore" : "#UD at CPL 3");
    for (size_t i = 0; i < sizeof state / sizeof state[0]; i++) {
        glint_sandbox *sb = clone_base(DEFAULT_DEADLINE_NS);
        uint64_t site = fault_site(state[i].poke);
        glint_value in = glint_u64(pattern), out;
        glint_status st = glint_sandbox_call(sb, state[i].poke, GLINT_TYPE_I64, &in, 1, &out);
        const glint_error *e = glint_sandbox_last_error(sb);
        attacks_run++;
        printf("  %-20s -> %s%s%s\n", state[i].poke, glint_status_name(st), st ? ": " : "",
               st ? e->message : "");
        if (!allowed) {
            if (st != GLINT_E_GUEST_FAULT || e->vector != 6 || e->rip != site)
                failf("%s: expected #UD at 0x%" PRIx64, state[i].poke, site);
            if (glint_sandbox_restore(sb, base_snap) != GLINT_OK) failf("restore failed");
        } else {
            if (st != GLINT_OK) failf("%s: %s", state[i].poke, glint_status_name(st));
            st = glint_sandbox_call(sb, state[i].peek, GLINT_TYPE_I64, &in, 1, &out);
            printf("  %-20s -> %s, 0x%" PRIx64 " (the next call sees it)\n", state[i].peek,
                   glint_status_name(st), out.as.u64);
            if (st != GLINT_OK || out.as.u64 != pattern)
                failf("%s: %s 0x%" PRIx64, state[i].peek, glint_status_name(st), out.as.u64);
            if (glint_sandbox_restore(sb, base_snap) != GLINT_OK) failf("restore failed");
            st = glint_sandbox_call(sb, state[i].peek, GLINT_TYPE_I64, &in, 1, &out);
            printf("  %-20s -> %s, 0x%" PRIx64 " after restore\n", state[i].peek,
                   glint_status_name(st), out.as.u64);
            if (st != GLINT_OK || out.as.u64 != 0)
                failf("%s after restore: %s 0x%" PRIx64 ": the value survived the restore",
                      state[i].peek, glint_status_name(st), out.as.u64);
        }
        glint_value ping = glint_u64(1);
        if (glint_sandbox_call(sb, "ping", GLINT_TYPE_I64, &ping, 1, &out) != GLINT_OK ||
            out.as.i64 != 2)
            failf("%s: sandbox broken afterwards", state[i].poke);
        glint_sandbox_destroy(sb);
    }
    check_bystander("register state");
}

/* ---- Port sweep --------------------------------------------------------------------------- */

/* Expected outcome of an access of `size` bytes at `port`: allowed by the
 * I/O bitmap only if every byte lies in GLINT_PORT_DONE..GLINT_PORT_ABORT;
 * then the host takes an 8-bit OUT as protocol (PROTOCOL here: nothing on the
 * output buffer) and refuses anything else (UNKNOWN_PORT); otherwise #GP(0). */
static glint_status port_outcome(uint32_t port, uint32_t size, bool out) {
    if (port < GLINT_PORT_DONE || port + size - 1u > GLINT_PORT_ABORT) return GLINT_E_GUEST_FAULT;
    return out && size == 1 ? GLINT_E_PROTOCOL : GLINT_E_UNKNOWN_PORT;
}

static void test_port_sweep(void) {
    bool full = hostile_full_mode();
    printf("[port sweep: %s]\n",
           full ? "8/16/32-bit OUT and IN on all 65536 ports"
                : "OUT and IN on ports 0-0x1ff and every 97th; 16/32-bit on 0xd8-0xef and the top "
                  "ports");
    static const struct {
        const char *fn;
        uint32_t size;
        bool out;
    } ops[] = {{"port_out8", 1, true},  {"port_in8", 1, false},  {"port_out16", 2, true},
               {"port_in16", 2, false}, {"port_out32", 4, true}, {"port_in32", 4, false}};
    uint64_t sites[6];
    for (size_t o = 0; o < 6; o++) sites[o] = fault_site(ops[o].fn);
    glint_sandbox *sb = clone_base(DEFAULT_DEADLINE_NS);
    unsigned swept = 0, counts[3] = {0, 0, 0};
    for (uint32_t port = 0; port <= 0xFFFF; port++) {
        if (!full && port > 0x1FF && port % 97 != 0 && port < 0xFFFC) continue;
        bool wide = (port >= 0xD8 && port <= 0xEF) || port >= 0xFFFC;
        for (size_t o = 0; o < 6; o++) {
            if (o >= 2 && !wide && !full) continue;
            if (o == 1 && !full && port % 3 != 0 && !wide) continue;
            glint_value in = glint_u64(port), out;
            glint_status st = glint_sandbox_call(sb, ops[o].fn, GLINT_TYPE_I64, &in, 1, &out);
            const glint_error *e = glint_sandbox_last_error(sb);
            glint_status want = port_outcome(port, ops[o].size, ops[o].out);
            bool ok = st == want && glint_sandbox_is_poisoned(sb) && e->message[0] != '\0';
            if (ok && st == GLINT_E_GUEST_FAULT)
                ok = e->vector == 13 && e->error_code == 0 && e->rip == sites[o];
            if (!ok)
                failf("%s(0x%x) -> %s (vector %u, error code 0x%" PRIx64 ", RIP 0x%" PRIx64
                      "), expected %s: %s",
                      ops[o].fn, port, glint_status_name(st), e->vector, e->error_code, e->rip,
                      glint_status_name(want), e->message);
            counts[want == GLINT_E_GUEST_FAULT ? 0 : want == GLINT_E_PROTOCOL ? 1 : 2]++;
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
    printf("  %u port accesses, each restored: %u #GP(0) at the IN/OUT, %u PROTOCOL (8-bit OUT "
           "to 0xe0-0xe4), %u UNKNOWN_PORT (other accesses inside 0xe0-0xe4)\n",
           swept, counts[0], counts[1], counts[2]);
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
    int vector;     /* GUEST_FAULT: the vector */
    bool rip_entry; /* GUEST_FAULT: RIP must be the entry point */
} init_attack;

static const init_attack init_attacks[] = {
    {"hostile_init_spin", NULL, .expect = GLINT_E_DEADLINE, .deadline_ns = 500ull * 1000 * 1000},
    {"hostile_init_hlt", NULL, .expect = FAULT, .vector = 13, .rip_entry = true},
    {"hostile_init_garbage", NULL, .expect = P},
    {"hostile_init_top", NULL, .expect = P},
    {"hostile_init_count", NULL, .expect = P},
    {"hostile_init_duplicate", NULL, .expect = P},
    {"hostile_init_empty", NULL, .expect = P},
    {"hostile_init_result", NULL, .expect = P},
    {"hostile_init_ud2", NULL, .expect = FAULT, .vector = 6, .rip_entry = true},
    {"hostile_init_in", NULL, .expect = GLINT_E_UNKNOWN_PORT},
    {"hostile_init_name_len", NULL, .expect = P},
    {"hostile_init_trailing", NULL, .expect = P},
    {"hostile_init_void_param", NULL, .expect = P},
    {"hostile_init_raw_result", NULL, .expect = GLINT_OK, .call = "f", .call_expect = P},
    {"hostile_init_exception", NULL, .expect = FAULT, .vector = 13, .rip_entry = true},
    {"hostile_init_abort", NULL, .expect = P},
    {"hostile_init_log_storm", NULL, .expect = GLINT_E_DEADLINE,
     .deadline_ns = 1000ull * 1000 * 1000},
    {"hostile_init_wrmsr", NULL, .expect = FAULT, .vector = 13, .rip_entry = true},
    {"hostile_guest", "spin", .expect = GLINT_E_DEADLINE, .deadline_ns = 500ull * 1000 * 1000},
    {"hostile_guest", "fault", .expect = FAULT, .vector = 6},
    {"hostile_guest", "abort", .expect = GLINT_E_GUEST_ABORT},
    {"hostile_guest", "bad_registration", .expect = GLINT_E_GUEST_ABORT},
    {"hostile_guest", "too_many_functions", .expect = GLINT_E_GUEST_ABORT},
    {"hostile_guest", "corrupt_output", .expect = P},
    {"hostile_guest", "reenter", .expect = GLINT_OK},
    {"hostile_guest", "log_flood", .expect = GLINT_OK},
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
        if (st == FAULT && a->expect == FAULT) {
            glint_layout_info l;
            glint_sandbox_layout(sb, &l);
            if (!e->has_fault || e->vector != (uint32_t)a->vector)
                failf("%s: vector %u, expected %d", shown, e->vector, a->vector);
            if (a->rip_entry && e->rip != l.entry_gpa)
                failf("%s: RIP 0x%" PRIx64 ", expected the entry point 0x%" PRIx64, shown, e->rip,
                      l.entry_gpa);
        }
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
    platform = detect_platform();
    printf("[platform: %s]\n", platform_name(platform));
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
    test_mappings();
    test_state_restore();
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
