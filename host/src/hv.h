/*
 * hv.h - the hypervisor backend interface.  The sandbox core talks to the
 * hypervisor only through this ops table, so another backend (MSHV, a mock)
 * can be added beside hv_kvm.c.  A backend instance owns one VM with one vCPU.
 *
 * Threading: all ops are called from the thread running the sandbox, except
 * interrupt(), which may be called from any thread and must be async-signal
 * safe with respect to run().
 */
#ifndef GLINT_HV_H
#define GLINT_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "error.h"

typedef struct glint_hv glint_hv;

#define GLINT_HV_MAP_READONLY 0x1u  /* guest writes exit as MMIO */
#define GLINT_HV_MAP_LOG_DIRTY 0x2u /* track guest-written pages */

/* What a run() ended with: a small set the sandbox core understands. */
typedef enum glint_exit_kind {
    GLINT_EXIT_IO,           /* port I/O; see port/size/count/is_write/data */
    GLINT_EXIT_MMIO,         /* access to unmapped guest-physical memory */
    GLINT_EXIT_HLT,          /* guest executed HLT */
    GLINT_EXIT_SHUTDOWN,     /* triple fault */
    GLINT_EXIT_INTERRUPTED,  /* a signal or interrupt() stopped the run */
    GLINT_EXIT_MEMORY_FAULT, /* host memory behind a slot is gone (file truncated) */
    GLINT_EXIT_DIRTY_FULL,   /* dirty-page ring full: collect_dirty, then run again */
    GLINT_EXIT_FAILED,       /* entry failure, internal error, unknown exit */
    GLINT_EXIT_DEBUG         /* set_debug: a debug exception KVM intercepted; see debug_* */
} glint_exit_kind;

typedef struct glint_exit {
    glint_exit_kind kind;
    uint16_t port;
    uint8_t size;    /* access width in bytes */
    uint32_t count;  /* repeat count (string I/O) */
    bool is_write;   /* OUT / MMIO write */
    uint64_t data;   /* first value written (OUT), up to 8 bytes */
    uint64_t gpa;    /* MMIO address */
    uint32_t reason; /* backend's raw exit reason, for messages */
    uint64_t detail; /* backend's extra detail (hardware reason, suberror) */
    /* GLINT_EXIT_FAILED: what happened, in words ("KVM internal error:
     * instruction emulation failed"); a static string. */
    const char *what;
    const char *detail_name; /* what `detail` is ("hardware reason"), or NULL */
    /* GLINT_EXIT_DEBUG: the exception KVM intercepted (1 = #DB: single step
     * or a debug-register hit, 3 = #BP: an INT3), the guest RIP it reports
     * (for #BP the address of the INT3 itself) and DR6 (#DB). */
    uint32_t debug_vector;
    uint64_t debug_pc;
    uint64_t debug_dr6;
} glint_exit;

/* Guest debugging (set_debug): what the debugger asks of the hypervisor. */
#define GLINT_HV_DEBUG_ENABLE 0x1u     /* intercept debug events at all */
#define GLINT_HV_DEBUG_SINGLESTEP 0x2u /* exit after each guest instruction */
#define GLINT_HV_DEBUG_SW_BP 0x4u      /* INT3 exits to the host instead of the guest's IDT */
#define GLINT_HV_DEBUG_HW_BP 0x8u      /* the debug registers below are armed */
#define GLINT_HV_DEBUG_HW_SLOTS 4u

typedef struct glint_hv_debug {
    uint32_t flags;                         /* GLINT_HV_DEBUG_* */
    uint64_t addr[GLINT_HV_DEBUG_HW_SLOTS]; /* DR0..DR3 */
    uint64_t dr7;                           /* enable, type and length bits of DR0..DR3 */
} glint_hv_debug;

/* The registers a debugger (or a core dump) shows: general, flags,
 * segments, control registers.  Backend neutral. */
typedef struct glint_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip, rflags;
    uint16_t cs, ss, ds, es, fs, gs;
    uint64_t fs_base, gs_base;
    uint64_t cr0, cr2, cr3, cr4, efer;
} glint_regs;

/* x87 and SSE state in FXSAVE terms (what gdb's i386 target description
 * and an NT_FPREGSET note expect). */
typedef struct glint_fpu_regs {
    uint8_t st[8][16]; /* 80-bit registers, each in a 16-byte slot */
    uint16_t fcw, fsw;
    uint8_t ftw; /* abridged tag word, FXSAVE form */
    uint16_t fop;
    uint64_t fip, fdp;
    uint8_t xmm[16][16];
    uint32_t mxcsr;
} glint_fpu_regs;

/* Opaque, fixed-size vCPU state blob (registers, system registers, FPU/SSE). */
typedef struct glint_vcpu_state {
    uint8_t bytes[8192];
    uint32_t size;
} glint_vcpu_state;

typedef struct glint_hv_counters {
    uint64_t runs;
    uint64_t ioctls_other;
    uint64_t syscalls_other; /* mmap/munmap of the backend's shared pages */
    uint64_t allocations;    /* the backend's heap allocations */
} glint_hv_counters;

typedef struct glint_hv_ops {
    const char *name;
    /* Opens the hypervisor and creates a VM with one vCPU. */
    glint_status (*create)(glint_hv **out, glint_error *err);
    void (*destroy)(glint_hv *hv);
    /* Maps host memory [host, host+size) at guest-physical gpa in slot;
     * flags: GLINT_HV_MAP_*. */
    glint_status (*map)(glint_hv *hv, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
                        uint32_t flags, glint_error *err);
    glint_status (*unmap)(glint_hv *hv, uint32_t slot, glint_error *err);
    /* Puts the vCPU in 64-bit long mode at CPL 3 with the host's GDT, IDT and
     * TSS loaded and the given registers (cpu.h, docs/abi.md). */
    glint_status (*set_entry)(glint_hv *hv, const glint_cpu_entry *entry, glint_error *err);
    /* Runs until the next exit.  Returns GLINT_OK with *exit filled, or an
     * error if the run could not be attempted. */
    glint_status (*run)(glint_hv *hv, glint_exit *exit, glint_error *err);
    /* Finishes a pending I/O or MMIO emulation without running guest code,
     * so that saved state is consistent. */
    glint_status (*complete_pending)(glint_hv *hv, glint_error *err);
    /* Asks a concurrent or imminent run() to return GLINT_EXIT_INTERRUPTED. */
    void (*request_interrupt)(glint_hv *hv);
    void (*clear_interrupt)(glint_hv *hv);
    glint_status (*get_rip)(glint_hv *hv, uint64_t *rip, glint_error *err);
    glint_status (*save_state)(glint_hv *hv, glint_vcpu_state *state, glint_error *err);
    glint_status (*restore_state)(glint_hv *hv, const glint_vcpu_state *state, glint_error *err);
    void (*counters)(const glint_hv *hv, glint_hv_counters *out);
    /* Checks a state blob from outside the process (a snapshot file) against
     * the state this backend sets up for `expected` (set_entry): system
     * registers, segments, descriptor tables, control registers, EFER, RFLAGS
     * and pending events must be what Glint produces; the MSR list is rebuilt
     * from the backend's own (only values are taken from the blob).  No VM
     * needed.  GLINT_E_INVALID_ARGUMENT with the first difference named. */
    glint_status (*check_state)(glint_vcpu_state *state, const glint_cpu_entry *expected,
                                glint_error *err);
    /* For slots 0..nslots-1 mapped with GLINT_HV_MAP_LOG_DIRTY: sets bit i
     * of bitmaps[slot] for every page i the guest wrote since the previous
     * collection, and re-arms tracking.  Each bitmap holds the slot's page
     * count in bits, rounded up to 64.  With KVM's dirty ring this reads
     * shared memory and issues one reset ioctl (none if nothing was dirtied);
     * with the classic dirty log, one ioctl per slot (bitmaps overwritten). */
    glint_status (*collect_dirty)(glint_hv *hv, uint64_t *const *bitmaps,
                                  const uint64_t *slot_pages, uint32_t nslots, glint_error *err);
    /* The vCPU's time-stamp counter, for the guest's clock (world.h): guest
     * TSC = host TSC + *offset, ticking at *khz.  Read once per vCPU (the
     * offset does not change while it lives, unless the host suspends).
     * GLINT_E_HYPERVISOR when the backend cannot tell; the guest then gets
     * a coarse clock. */
    glint_status (*tsc_info)(glint_hv *hv, int64_t *offset, uint32_t *khz, glint_error *err);
    /* Guest debugging for the gdb stub.  set_debug arms (or, with flags 0,
     * disarms) single-step and breakpoint interception; events come back from
     * run() as GLINT_EXIT_DEBUG.  A KVM without the capability, or one that
     * refuses a part of the request, fails with GLINT_E_HYPERVISOR and says
     * which part (the caller decides whether to fall back). */
    glint_status (*set_debug)(glint_hv *hv, const glint_hv_debug *dbg, glint_error *err);
    glint_status (*get_regs)(glint_hv *hv, glint_regs *regs, glint_error *err);
    /* Writes the general registers, RIP and RFLAGS only (segments and control
     * registers belong to the host's entry state and are left alone). */
    glint_status (*set_regs)(glint_hv *hv, const glint_regs *regs, glint_error *err);
    /* Writes the general registers, RIP and RFLAGS and puts the vCPU back at
     * CPL 3 with the host's user segments: what the IRETQ at the end of an
     * exception handler would do.  For the debugger, which resumes a guest
     * whose breakpoint or single step the host's exception stubs reported
     * (the stubs themselves never return to the guest). */
    glint_status (*resume_user)(glint_hv *hv, const glint_regs *regs, glint_error *err);
    glint_status (*get_fpu)(glint_hv *hv, glint_fpu_regs *fpu, glint_error *err);
    glint_status (*set_fpu)(glint_hv *hv, const glint_fpu_regs *fpu, glint_error *err);
} glint_hv_ops;

extern const glint_hv_ops glint_hv_kvm_ops;

/* Whether hardware breakpoints work on this KVM: runs a small probe VM
 * (set up as sandboxes are) over an execute breakpoint.  why gets the
 * finding in words either way.  (hv_probe_kvm.c) */
bool glint_hv_probe_hw_breakpoints(char *why, size_t why_size);

/* What a KVM exit the run loop does not handle was, in words (static
 * strings): "KVM_EXIT_DEBUG", "KVM internal error: instruction emulation
 * failed".  Unknown values get a generic text, never NULL. */
const char *glint_kvm_exit_reason_name(uint32_t reason);
const char *glint_kvm_internal_error_name(uint32_t suberror);

#endif /* GLINT_HV_H */
