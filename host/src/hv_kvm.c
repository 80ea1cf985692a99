/*
 * hv_kvm.c - the KVM backend: one VM, one vCPU, 64-bit long mode at CPL 3
 * from the first instruction (no real-mode boot), exits mapped onto
 * glint_exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hv.h"

#define KVM_DEVICE "/dev/kvm"
#define KVM_EXPECTED_API 12
#define CPUID_MAX_ENTRIES 256

/* Control-register bits for the long-mode entry state. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define CR0_TS (1ull << 3)
#define CR4_OSXSAVE (1ull << 18)
#define ENTRY_CR0 (CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG)
#define ENTRY_CR4 (CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT)
/* No EFER.SCE: SYSCALL raises #UD instead of entering CPL 0 at LSTAR. */
#define ENTRY_EFER (EFER_LME | EFER_LMA | EFER_NXE)
/* RFLAGS bits CPL-3 code can change (POPF): arithmetic flags, TF, DF, NT, AC, ID
 * (and RF, which the CPU sets itself). */
#define RFLAGS_GUEST_BITS 0x254dd5ull

/* MSRs saved with the vCPU state.  Guest code (CPL 3) cannot change them
 * (WRMSR is #GP); they are saved so that a restore puts back exactly the
 * state the snapshot had, whatever a KVM did to them meanwhile. */
static const uint32_t saved_msrs[] = {
    0xC0000081, /* STAR */
    0xC0000082, /* LSTAR */
    0xC0000083, /* CSTAR */
    0xC0000084, /* SFMASK */
    0xC0000102, /* KERNEL_GS_BASE */
    0x00000174, /* SYSENTER_CS */
    0x00000175, /* SYSENTER_ESP */
    0x00000176, /* SYSENTER_EIP */
    0x00000277, /* PAT */
};
#define SAVED_MSR_COUNT (sizeof saved_msrs / sizeof saved_msrs[0])

struct msr_block {
    struct kvm_msrs header;
    struct kvm_msr_entry entries[SAVED_MSR_COUNT];
};

/* Layout of glint_vcpu_state.bytes for this backend. */
struct kvm_state_blob {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_vcpu_events events;
    struct msr_block msrs;
    struct kvm_xsave xsave;
};
_Static_assert(sizeof(struct kvm_state_blob) <= sizeof(((glint_vcpu_state *)0)->bytes),
               "vCPU state blob too small for KVM");

/* Dirty ring size: 8192 entries (128 KiB per vCPU).  A guest that writes
 * more distinct pages than this within one call causes one extra exit per
 * ring-full to empty it. */
#define DIRTY_RING_ENTRIES 8192u

struct glint_hv {
    int kvm_fd;
    int vm_fd;
    int vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    bool has_xsave;
    /* Type of TR's hidden descriptor: 11 (busy 64-bit TSS, what LTR leaves)
     * where VMX requires it for VM entry; 9 (available) on AMD, because
     * QEMU's software CPU (the test harness's SVM) checks the I/O
     * permission bitmap only for a TR of type 9.  Real AMD CPUs and PVM
     * accept either. */
    uint8_t tr_type;
    struct kvm_dirty_gfn *ring; /* NULL: classic KVM_GET_DIRTY_LOG */
    size_t ring_bytes;
    uint32_t ring_fetch;
    glint_hv_counters counters;
};

/* ioctl that restarts on EINTR, for setup calls that must not fail spuriously. */
static int kvm_ioctl(glint_hv *hv, int fd, unsigned long req, void *arg) {
    int r;
    do {
        r = ioctl(fd, req, arg);
    } while (r < 0 && errno == EINTR);
    hv->counters.ioctls_other++;
    return r;
}

static void kvm_destroy(glint_hv *hv) {
    if (hv == NULL) return;
    if (hv->run != NULL && hv->run != MAP_FAILED) munmap(hv->run, hv->run_size);
    if (hv->ring != NULL) munmap(hv->ring, hv->ring_bytes);
    if (hv->vcpu_fd >= 0) close(hv->vcpu_fd);
    if (hv->vm_fd >= 0) close(hv->vm_fd);
    if (hv->kvm_fd >= 0) close(hv->kvm_fd);
    free(hv);
}

static glint_status kvm_set_cpuid(glint_hv *hv, glint_error *err) {
    struct {
        struct kvm_cpuid2 header;
        struct kvm_cpuid_entry2 entries[CPUID_MAX_ENTRIES];
    } cpuid;
    memset(&cpuid, 0, sizeof cpuid);
    cpuid.header.nent = CPUID_MAX_ENTRIES;
    if (kvm_ioctl(hv, hv->kvm_fd, KVM_GET_SUPPORTED_CPUID, &cpuid) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_SUPPORTED_CPUID failed");
    /* No paravirtual interface: drop KVM's leaves (0x40000000..0x400000ff)
     * and, where KVM can enforce it, refuse what they would have offered.
     * Otherwise a guest could turn on kvmclock, steal time or async page
     * faults with a WRMSR: KVM would then write into guest memory on its own
     * schedule, and those MSRs are not part of the vCPU state a snapshot
     * saves and a restore puts back.  It also keeps the hypercalls (KICK_CPU,
     * SEND_IPI, ...) out of the guest's reach. */
    hv->tr_type = 0xb;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < cpuid.header.nent && i < CPUID_MAX_ENTRIES; i++) {
        if (cpuid.entries[i].function == 0 && cpuid.entries[i].ebx == 0x68747541u) /* "Auth" */
            hv->tr_type = 0x9;
        uint32_t fn = cpuid.entries[i].function;
        if (fn >= 0x40000000u && fn <= 0x400000ffu) continue;
        cpuid.entries[kept++] = cpuid.entries[i];
    }
    cpuid.header.nent = kept;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_CPUID2, &cpuid) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_SET_CPUID2 failed");
#ifdef KVM_CAP_ENFORCE_PV_FEATURE_CPUID
    if (kvm_ioctl(hv, hv->kvm_fd, KVM_CHECK_EXTENSION,
                  (void *)(uintptr_t)KVM_CAP_ENFORCE_PV_FEATURE_CPUID) > 0) {
        struct kvm_enable_cap cap;
        memset(&cap, 0, sizeof cap);
        cap.cap = KVM_CAP_ENFORCE_PV_FEATURE_CPUID;
        cap.args[0] = 1;
        if (kvm_ioctl(hv, hv->vcpu_fd, KVM_ENABLE_CAP, &cap) < 0)
            return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno,
                                    "KVM_ENABLE_CAP(ENFORCE_PV_FEATURE_CPUID) failed");
    }
#endif
    return GLINT_OK;
}

static glint_status kvm_create(glint_hv **out, glint_error *err) {
    glint_status st;
    *out = NULL;
    glint_hv *hv = calloc(1, sizeof *hv);
    if (hv == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory for the VM");
    hv->counters.allocations = 1;
    hv->kvm_fd = hv->vm_fd = hv->vcpu_fd = -1;

    hv->kvm_fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
    if (hv->kvm_fd < 0) {
        st = glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "cannot open " KVM_DEVICE);
        goto fail;
    }
    int api = kvm_ioctl(hv, hv->kvm_fd, KVM_GET_API_VERSION, NULL);
    if (api != KVM_EXPECTED_API) {
        st = glint_fail(err, GLINT_E_HYPERVISOR, "KVM API version %d, expected %d", api,
                        KVM_EXPECTED_API);
        goto fail;
    }
    if (kvm_ioctl(hv, hv->kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_IMMEDIATE_EXIT) <=
        0) {
        st = glint_fail(err, GLINT_E_HYPERVISOR, "KVM lacks KVM_CAP_IMMEDIATE_EXIT");
        goto fail;
    }
    hv->has_xsave =
        kvm_ioctl(hv, hv->kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_XSAVE) > 0;
    hv->vm_fd = kvm_ioctl(hv, hv->kvm_fd, KVM_CREATE_VM, NULL);
    if (hv->vm_fd < 0) {
        st = glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_CREATE_VM failed");
        goto fail;
    }
    /* The dirty ring must be enabled before the vCPU exists.  It lets
     * restore count dirtied pages without a KVM_GET_DIRTY_LOG per slot. */
    int ring_max =
        kvm_ioctl(hv, hv->kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_DIRTY_LOG_RING);
    size_t ring_bytes = DIRTY_RING_ENTRIES * sizeof(struct kvm_dirty_gfn);
    if (ring_max > 0 && (size_t)ring_max >= ring_bytes) {
        struct kvm_enable_cap cap = {.cap = KVM_CAP_DIRTY_LOG_RING, .args = {ring_bytes}};
        if (kvm_ioctl(hv, hv->vm_fd, KVM_ENABLE_CAP, &cap) == 0) hv->ring_bytes = ring_bytes;
    }
    int run_size = kvm_ioctl(hv, hv->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, NULL);
    if (run_size < (int)sizeof(struct kvm_run)) {
        st = glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_VCPU_MMAP_SIZE failed");
        goto fail;
    }
    hv->run_size = (size_t)run_size;
    hv->vcpu_fd = kvm_ioctl(hv, hv->vm_fd, KVM_CREATE_VCPU, NULL);
    if (hv->vcpu_fd < 0) {
        st = glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_CREATE_VCPU failed");
        goto fail;
    }
    hv->counters.syscalls_other++;
    hv->run = mmap(NULL, hv->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, hv->vcpu_fd, 0);
    if (hv->run == MAP_FAILED) {
        hv->run = NULL;
        st = glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "mmap of kvm_run failed");
        goto fail;
    }
    if (hv->ring_bytes != 0) {
        long page = sysconf(_SC_PAGESIZE);
        hv->counters.syscalls_other++;
        void *ring = mmap(NULL, hv->ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, hv->vcpu_fd,
                          (off_t)KVM_DIRTY_LOG_PAGE_OFFSET * page);
        if (ring == MAP_FAILED) {
            st = glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "mmap of the dirty ring failed");
            goto fail;
        }
        hv->ring = ring;
    }
    st = kvm_set_cpuid(hv, err);
    if (st != GLINT_OK) goto fail;
    *out = hv;
    return GLINT_OK;
fail:
    kvm_destroy(hv);
    return st;
}

static glint_status kvm_map(glint_hv *hv, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
                            uint32_t flags, glint_error *err) {
    struct kvm_userspace_memory_region region = {
        .slot = slot,
        .flags = ((flags & GLINT_HV_MAP_READONLY) ? KVM_MEM_READONLY : 0) |
                 ((flags & GLINT_HV_MAP_LOG_DIRTY) ? KVM_MEM_LOG_DIRTY_PAGES : 0),
        .guest_phys_addr = gpa,
        .memory_size = size,
        .userspace_addr = (uint64_t)(uintptr_t)host,
    };
    if (kvm_ioctl(hv, hv->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno,
                                "KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx", slot,
                                (unsigned long long)gpa, (unsigned long long)size);
    return GLINT_OK;
}

static glint_status kvm_unmap(glint_hv *hv, uint32_t slot, glint_error *err) {
    struct kvm_userspace_memory_region region = {.slot = slot};
    if (kvm_ioctl(hv, hv->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "removing memory slot %u", slot);
    return GLINT_OK;
}

static void flat_segment(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code) {
    memset(s, 0, sizeof *s);
    s->base = 0;
    s->limit = 0xffffffffu;
    s->selector = selector;
    s->type = type;
    s->present = 1;
    s->dpl = selector & 3u; /* the RPL of a user selector is its DPL (abi.h) */
    s->s = 1;
    s->g = 1;
    s->l = code ? 1 : 0;
    s->db = code ? 0 : 1;
}

static glint_status kvm_set_entry(glint_hv *hv, const glint_cpu_entry *e, glint_error *err) {
    struct kvm_sregs sregs;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_SREGS failed");
    /* CPL 3 from the first instruction: CS and SS carry DPL 3, as the
     * descriptors in the guest's GDT do (cpu_x86_64.c). */
    flat_segment(&sregs.cs, GLINT_SEL_USER_CODE, 0xb, true);  /* execute/read, accessed */
    flat_segment(&sregs.ds, GLINT_SEL_USER_DATA, 0x3, false); /* read/write, accessed */
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    memset(&sregs.tr, 0, sizeof sregs.tr);
    sregs.tr.selector = GLINT_SEL_TSS;
    sregs.tr.base = e->tss_base;
    sregs.tr.limit = e->tss_limit;
    sregs.tr.type = hv->tr_type;
    sregs.tr.present = 1;
    memset(&sregs.ldt, 0, sizeof sregs.ldt);
    sregs.ldt.type = 0x2;
    sregs.ldt.present = 1;
    sregs.ldt.unusable = 1;
    sregs.gdt.base = e->gdt_base;
    sregs.gdt.limit = e->gdt_limit;
    sregs.idt.base = e->idt_base;
    sregs.idt.limit = e->idt_limit;
    sregs.cr0 = ENTRY_CR0;
    sregs.cr3 = e->cr3;
    sregs.cr4 = ENTRY_CR4;
    sregs.efer = ENTRY_EFER;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_SET_SREGS failed");

    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    regs.rip = e->rip;
    regs.rsp = e->rsp;
    regs.rdi = e->rdi;
    regs.rsi = e->rsi;
    regs.rflags = e->rflags;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_SET_REGS failed");

    struct kvm_fpu fpu;
    memset(&fpu, 0, sizeof fpu);
    fpu.fcw = 0x37f;
    fpu.mxcsr = 0x1f80;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_FPU, &fpu) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_SET_FPU failed");
    return GLINT_OK;
}

/* KVM_EXIT_* reasons by name, for the reasons Glint does not handle. */
const char *glint_kvm_exit_reason_name(uint32_t reason) {
    static const char *const names[] = {
        [KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
        [KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
        [KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
        [KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
        [KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
        [KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
        [KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS",
        [KVM_EXIT_NMI] = "KVM_EXIT_NMI",
        [KVM_EXIT_X86_RDMSR] = "KVM_EXIT_X86_RDMSR",
        [KVM_EXIT_X86_WRMSR] = "KVM_EXIT_X86_WRMSR",
        [KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
    };
    if (reason < sizeof names / sizeof names[0] && names[reason] != NULL) return names[reason];
    return "unknown KVM exit reason";
}

const char *glint_kvm_internal_error_name(uint32_t suberror) {
    switch (suberror) {
    case KVM_INTERNAL_ERROR_EMULATION: return "KVM internal error: instruction emulation failed";
    case KVM_INTERNAL_ERROR_SIMUL_EX:
        return "KVM internal error: exception while delivering an exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
        return "KVM internal error: exit while delivering an event";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
        return "KVM internal error: unexpected hardware exit reason";
    default: return "KVM internal error";
    }
}

static glint_status kvm_run(glint_hv *hv, glint_exit *exit, glint_error *err) {
    struct kvm_run *run = hv->run;
    memset(exit, 0, sizeof *exit);
    int r = ioctl(hv->vcpu_fd, KVM_RUN, 0);
    hv->counters.runs++;
    if (r < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            exit->kind = GLINT_EXIT_INTERRUPTED;
            exit->reason = KVM_EXIT_INTR;
            return GLINT_OK;
        }
        if (errno == EFAULT) {
            /* KVM could not fault in the host page behind a guest access. */
            exit->kind = GLINT_EXIT_MEMORY_FAULT;
            return GLINT_OK;
        }
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_RUN failed");
    }
    exit->reason = run->exit_reason;
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
        exit->kind = GLINT_EXIT_IO;
        exit->port = run->io.port;
        exit->size = run->io.size;
        exit->count = run->io.count;
        exit->is_write = run->io.direction == KVM_EXIT_IO_OUT;
        /* data_offset comes from the kernel, but check it against the page. */
        if (exit->is_write && run->io.size <= 8 && run->io.data_offset <= hv->run_size - 8)
            memcpy(&exit->data, (const uint8_t *)run + run->io.data_offset, run->io.size);
        return GLINT_OK;
    }
    case KVM_EXIT_MMIO:
        exit->kind = GLINT_EXIT_MMIO;
        exit->gpa = run->mmio.phys_addr;
        exit->size = (uint8_t)(run->mmio.len <= 8 ? run->mmio.len : 8);
        exit->is_write = run->mmio.is_write != 0;
        if (exit->is_write) memcpy(&exit->data, run->mmio.data, exit->size);
        return GLINT_OK;
    case KVM_EXIT_HLT: exit->kind = GLINT_EXIT_HLT; return GLINT_OK;
    case KVM_EXIT_SHUTDOWN: exit->kind = GLINT_EXIT_SHUTDOWN; return GLINT_OK;
    case KVM_EXIT_INTR: exit->kind = GLINT_EXIT_INTERRUPTED; return GLINT_OK;
    case KVM_EXIT_DIRTY_RING_FULL: exit->kind = GLINT_EXIT_DIRTY_FULL; return GLINT_OK;
    case KVM_EXIT_DEBUG:
        exit->kind = GLINT_EXIT_DEBUG;
        exit->what = glint_kvm_exit_reason_name(run->exit_reason);
        exit->debug_vector = run->debug.arch.exception;
        exit->debug_pc = run->debug.arch.pc;
        exit->debug_dr6 = run->debug.arch.dr6;
        return GLINT_OK;
    case KVM_EXIT_FAIL_ENTRY:
        exit->kind = GLINT_EXIT_FAILED;
        exit->detail = run->fail_entry.hardware_entry_failure_reason;
        exit->what = "VM entry failed";
        exit->detail_name = "hardware reason";
        return GLINT_OK;
    case KVM_EXIT_INTERNAL_ERROR:
        exit->kind = GLINT_EXIT_FAILED;
        exit->detail = run->internal.suberror;
        exit->what = glint_kvm_internal_error_name(run->internal.suberror);
        exit->detail_name = "suberror";
        return GLINT_OK;
    default:
        exit->kind = GLINT_EXIT_FAILED;
        exit->what = glint_kvm_exit_reason_name(run->exit_reason);
        return GLINT_OK;
    }
}

/* Completions a string instruction may need: KVM's emulator goes back to the
 * guest at least every 1024 iterations, so this is never reached by a guest
 * that only has to be drained. */
#define MAX_PENDING_COMPLETIONS 4096

static glint_status kvm_complete_pending(glint_hv *hv, glint_error *err) {
    /* With immediate_exit set, KVM_RUN completes the pending PIO/MMIO and
     * returns EINTR before entering the guest.  Completing one exit of a
     * string instruction (REP INS/OUTS, REP MOVS to or from MMIO) or of a
     * split MMIO access may start the next one: KVM_RUN then returns 0 with
     * another I/O exit, which must be completed too.  Left pending, KVM would
     * finish the instruction on whatever registers come next - e.g. those a
     * snapshot restore has just loaded - and write guest memory through them. */
    for (int i = 0; i < MAX_PENDING_COMPLETIONS; i++) {
        hv->run->immediate_exit = 1;
        int r = ioctl(hv->vcpu_fd, KVM_RUN, 0);
        int saved = errno;
        hv->counters.runs++;
        hv->run->immediate_exit = 0;
        if (r < 0) {
            if (saved == EINTR || saved == EAGAIN) return GLINT_OK;
            return glint_fail_errno(err, GLINT_E_HYPERVISOR, saved,
                                    "completing pending I/O failed");
        }
        if (hv->run->exit_reason != KVM_EXIT_IO && hv->run->exit_reason != KVM_EXIT_MMIO)
            return GLINT_OK;
    }
    return glint_fail(err, GLINT_E_HYPERVISOR,
                      "guest I/O still pending after %d completions (string I/O without end?)",
                      MAX_PENDING_COMPLETIONS);
}

static void kvm_request_interrupt(glint_hv *hv) {
    __atomic_store_n(&hv->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

static void kvm_clear_interrupt(glint_hv *hv) {
    __atomic_store_n(&hv->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

static glint_status kvm_get_rip(glint_hv *hv, uint64_t *rip, glint_error *err) {
    struct kvm_regs regs;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_REGS, &regs) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_REGS failed");
    *rip = regs.rip;
    return GLINT_OK;
}

static void fill_msr_indices(struct msr_block *m) {
    memset(m, 0, sizeof *m);
    m->header.nmsrs = SAVED_MSR_COUNT;
    for (size_t i = 0; i < SAVED_MSR_COUNT; i++) m->entries[i].index = saved_msrs[i];
}

static glint_status kvm_save_state(glint_hv *hv, glint_vcpu_state *state, glint_error *err) {
    struct kvm_state_blob *b = (struct kvm_state_blob *)(void *)state->bytes;
    memset(state, 0, sizeof *state);
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_REGS, &b->regs) < 0 ||
        kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_SREGS, &b->sregs) < 0 ||
        kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_VCPU_EVENTS, &b->events) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "reading vCPU registers failed");
    /* KVM on SVM reports TR as busy whatever was set (a workaround in its
     * get_segment); restored that way, the harness's CPU would refuse every
     * OUT.  Keep the type Glint chose. */
    b->sregs.tr.type = hv->tr_type;
    fill_msr_indices(&b->msrs);
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_MSRS, &b->msrs) != (int)SAVED_MSR_COUNT)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_MSRS failed");
    if (hv->has_xsave) {
        if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_XSAVE, &b->xsave) < 0)
            return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_XSAVE failed");
    } else {
        _Static_assert(sizeof(struct kvm_fpu) <= sizeof(struct kvm_xsave), "fpu fits");
        if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_FPU, &b->xsave) < 0)
            return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_FPU failed");
    }
    state->size = sizeof *b;
    return GLINT_OK;
}

static glint_status kvm_restore_state(glint_hv *hv, const glint_vcpu_state *state,
                                      glint_error *err) {
    if (state->size != sizeof(struct kvm_state_blob))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "vCPU state blob has the wrong size");
    /* The ioctls take non-const pointers but do not modify the input. */
    struct kvm_state_blob *b = (struct kvm_state_blob *)(void *)(uintptr_t)state->bytes;
    /* TR's type is this machine's choice (hv->tr_type), not the saver's: a
     * snapshot file may come from a machine of the other vendor. */
    struct kvm_sregs sregs = b->sregs;
    sregs.tr.type = hv->tr_type;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_SREGS, &sregs) < 0 ||
        kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_REGS, &b->regs) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "writing vCPU registers failed");
    if (kvm_ioctl(hv, hv->vcpu_fd, hv->has_xsave ? KVM_SET_XSAVE : KVM_SET_FPU, &b->xsave) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "writing FPU state failed");
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_MSRS, &b->msrs) != (int)SAVED_MSR_COUNT)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_SET_MSRS failed");
    struct kvm_vcpu_events events = b->events;
    events.flags = 0; /* restore pending-exception state only, not NMI/SIPI/shadow */
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_VCPU_EVENTS, &events) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_SET_VCPU_EVENTS failed");
    return GLINT_OK;
}

/* ---- Checking a state blob from a file -------------------------------------- */

static bool segment_is(const struct kvm_segment *s, uint16_t selector, bool code) {
    struct kvm_segment want;
    flat_segment(&want, selector, code ? 0xb : 0x3, code);
    /* The accessed bit and granularity/limit encoding may differ by KVM;
     * what decides privilege and addressing must not. */
    return s->selector == want.selector && s->base == 0 && s->dpl == want.dpl && s->present == 1 &&
           s->s == 1 && s->l == want.l && (s->type & 0xe) == (want.type & 0xe) && s->unusable == 0;
}

static glint_status kvm_check_state(glint_vcpu_state *state, const glint_cpu_entry *e,
                                    glint_error *err) {
    if (state->size != sizeof(struct kvm_state_blob))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "blob of %u bytes, expected %zu",
                          state->size, sizeof(struct kvm_state_blob));
    struct kvm_state_blob *b = (struct kvm_state_blob *)(void *)state->bytes;
    const struct kvm_sregs *sr = &b->sregs;
    const char *bad = NULL;
    if (!segment_is(&sr->cs, GLINT_SEL_USER_CODE, true))
        bad = "CS";
    else if (!segment_is(&sr->ss, GLINT_SEL_USER_DATA, false))
        bad = "SS";
    else if (!segment_is(&sr->ds, GLINT_SEL_USER_DATA, false))
        bad = "DS";
    else if (!segment_is(&sr->es, GLINT_SEL_USER_DATA, false))
        bad = "ES";
    else if (!segment_is(&sr->fs, GLINT_SEL_USER_DATA, false))
        bad = "FS";
    else if (!segment_is(&sr->gs, GLINT_SEL_USER_DATA, false))
        bad = "GS";
    else if (sr->tr.selector != GLINT_SEL_TSS || sr->tr.base != e->tss_base ||
             sr->tr.limit != e->tss_limit || !sr->tr.present)
        bad = "TR";
    else if (sr->gdt.base != e->gdt_base || sr->gdt.limit != e->gdt_limit)
        bad = "GDTR";
    else if (sr->idt.base != e->idt_base || sr->idt.limit != e->idt_limit)
        bad = "IDTR";
    else if (sr->cr3 != e->cr3)
        bad = "CR3";
    else if ((sr->cr0 & ENTRY_CR0) != ENTRY_CR0 || (sr->cr0 & ~(ENTRY_CR0 | CR0_TS)) != 0)
        bad = "CR0";
    else if ((sr->cr4 & ENTRY_CR4) != ENTRY_CR4 || (sr->cr4 & ~(ENTRY_CR4 | CR4_OSXSAVE)) != 0)
        bad = "CR4";
    else if (sr->efer != ENTRY_EFER)
        bad = "EFER";
    else if ((b->regs.rflags & ~RFLAGS_GUEST_BITS) != GLINT_ENTRY_RFLAGS)
        bad = "RFLAGS";
    else if (b->regs.rip >= GLINT_PHYS_TOP)
        bad = "RIP";
    else if (b->events.exception.injected || b->events.exception.pending ||
             b->events.interrupt.injected || b->events.nmi.injected || b->events.nmi.pending)
        bad = "pending events";
    else if (b->msrs.header.nmsrs != SAVED_MSR_COUNT)
        bad = "MSR count";
    if (bad != NULL)
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT, "%s is not what Glint sets up", bad);
    /* Only the values come from the blob; which MSRs they go to is ours. */
    for (size_t i = 0; i < SAVED_MSR_COUNT; i++) {
        b->msrs.entries[i].index = saved_msrs[i];
        b->msrs.entries[i].reserved = 0;
    }
    b->msrs.header.pad = 0;
    return GLINT_OK;
}

static void kvm_counters(const glint_hv *hv, glint_hv_counters *out) { *out = hv->counters; }

static glint_status kvm_collect_dirty(glint_hv *hv, uint64_t *const *bitmaps,
                                      const uint64_t *slot_pages, uint32_t nslots,
                                      glint_error *err) {
    if (hv->ring == NULL) {
        for (uint32_t slot = 0; slot < nslots; slot++) {
            struct kvm_dirty_log log;
            memset(&log, 0, sizeof log);
            log.slot = slot;
            log.dirty_bitmap = bitmaps[slot];
            if (kvm_ioctl(hv, hv->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
                return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_DIRTY_LOG slot %u",
                                        slot);
        }
        return GLINT_OK;
    }
    /* Harvest: entries are published by KVM with F_DIRTY; we hand each back
     * with F_RESET, then one KVM_RESET_DIRTY_RINGS re-arms those pages. */
    uint32_t harvested = 0;
    for (;;) {
        struct kvm_dirty_gfn *e = &hv->ring[hv->ring_fetch % DIRTY_RING_ENTRIES];
        uint32_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
        if (!(flags & KVM_DIRTY_GFN_F_DIRTY)) break;
        uint32_t slot = e->slot & 0xffffu;
        if (slot < nslots && e->offset < slot_pages[slot])
            bitmaps[slot][e->offset / 64] |= 1ull << (e->offset % 64);
        __atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
        hv->ring_fetch++;
        harvested++;
    }
    if (harvested != 0 && kvm_ioctl(hv, hv->vm_fd, KVM_RESET_DIRTY_RINGS, NULL) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_RESET_DIRTY_RINGS failed");
    return GLINT_OK;
}

/* KVM_GET_TSC_KHZ gives the vCPU's frequency (the host's: Glint never sets
 * one, so there is no TSC scaling).  The offset comes from the vCPU's TSC
 * control attribute (Linux 5.16+; exact); without it, from IA32_TSC read
 * between two host RDTSCs (off by at most half the ioctl's duration).
 * Measured: PVM reports offset 0 and its guests' RDTSC is the host's; KVM
 * on SVM (the harness) offsets each vCPU to start near 0. */
static uint64_t host_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return (uint64_t)hi << 32 | lo;
}

static glint_status kvm_tsc_info(glint_hv *hv, int64_t *offset, uint32_t *khz, glint_error *err) {
    int r = kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_TSC_KHZ, NULL);
    if (r <= 0) return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_TSC_KHZ failed");
    *khz = (uint32_t)r;
#ifdef KVM_VCPU_TSC_CTRL
    uint64_t value = 0;
    struct kvm_device_attr attr = {.group = KVM_VCPU_TSC_CTRL,
                                   .attr = KVM_VCPU_TSC_OFFSET,
                                   .addr = (uint64_t)(uintptr_t)&value};
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_DEVICE_ATTR, &attr) == 0) {
        *offset = (int64_t)value;
        return GLINT_OK;
    }
#endif
    struct {
        struct kvm_msrs header;
        struct kvm_msr_entry entry;
    } tsc;
    memset(&tsc, 0, sizeof tsc);
    tsc.header.nmsrs = 1;
    tsc.entry.index = 0x10; /* IA32_TSC */
    uint64_t before = host_rdtsc();
    r = kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_MSRS, &tsc);
    uint64_t after = host_rdtsc();
    if (r != 1) return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_MSRS(IA32_TSC)");
    *offset = (int64_t)(tsc.entry.data - (before + (after - before) / 2u));
    return GLINT_OK;
}

/* ---- Guest debugging (the gdb stub) ------------------------------------ */

static glint_status kvm_set_debug(glint_hv *hv, const glint_hv_debug *dbg, glint_error *err) {
    if (kvm_ioctl(hv, hv->kvm_fd, KVM_CHECK_EXTENSION,
                  (void *)(uintptr_t)KVM_CAP_SET_GUEST_DEBUG) <= 0)
        return glint_fail(err, GLINT_E_HYPERVISOR,
                          "this KVM does not support guest debugging (no KVM_CAP_SET_GUEST_DEBUG)");
    struct kvm_guest_debug gd;
    memset(&gd, 0, sizeof gd);
    if (dbg->flags & GLINT_HV_DEBUG_ENABLE) {
        gd.control = KVM_GUESTDBG_ENABLE;
        if (dbg->flags & GLINT_HV_DEBUG_SINGLESTEP) gd.control |= KVM_GUESTDBG_SINGLESTEP;
        if (dbg->flags & GLINT_HV_DEBUG_SW_BP) gd.control |= KVM_GUESTDBG_USE_SW_BP;
        if (dbg->flags & GLINT_HV_DEBUG_HW_BP) {
            gd.control |= KVM_GUESTDBG_USE_HW_BP;
            for (unsigned i = 0; i < GLINT_HV_DEBUG_HW_SLOTS; i++)
                gd.arch.debugreg[i] = dbg->addr[i];
            gd.arch.debugreg[7] = dbg->dr7;
        }
    }
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_GUEST_DEBUG, &gd) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno,
                                "KVM_SET_GUEST_DEBUG (control 0x%x) failed", gd.control);
    return GLINT_OK;
}

static glint_status kvm_get_regs(glint_hv *hv, glint_regs *r, glint_error *err) {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
        kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "reading vCPU registers failed");
    memset(r, 0, sizeof *r);
    r->rax = regs.rax;
    r->rbx = regs.rbx;
    r->rcx = regs.rcx;
    r->rdx = regs.rdx;
    r->rsi = regs.rsi;
    r->rdi = regs.rdi;
    r->rbp = regs.rbp;
    r->rsp = regs.rsp;
    r->r8 = regs.r8;
    r->r9 = regs.r9;
    r->r10 = regs.r10;
    r->r11 = regs.r11;
    r->r12 = regs.r12;
    r->r13 = regs.r13;
    r->r14 = regs.r14;
    r->r15 = regs.r15;
    r->rip = regs.rip;
    r->rflags = regs.rflags;
    r->cs = sregs.cs.selector;
    r->ss = sregs.ss.selector;
    r->ds = sregs.ds.selector;
    r->es = sregs.es.selector;
    r->fs = sregs.fs.selector;
    r->gs = sregs.gs.selector;
    r->fs_base = sregs.fs.base;
    r->gs_base = sregs.gs.base;
    r->cr0 = sregs.cr0;
    r->cr2 = sregs.cr2;
    r->cr3 = sregs.cr3;
    r->cr4 = sregs.cr4;
    r->efer = sregs.efer;
    return GLINT_OK;
}

static glint_status kvm_set_regs(glint_hv *hv, const glint_regs *r, glint_error *err) {
    struct kvm_regs regs = {
        .rax = r->rax,
        .rbx = r->rbx,
        .rcx = r->rcx,
        .rdx = r->rdx,
        .rsi = r->rsi,
        .rdi = r->rdi,
        .rbp = r->rbp,
        .rsp = r->rsp,
        .r8 = r->r8,
        .r9 = r->r9,
        .r10 = r->r10,
        .r11 = r->r11,
        .r12 = r->r12,
        .r13 = r->r13,
        .r14 = r->r14,
        .r15 = r->r15,
        .rip = r->rip,
        .rflags = r->rflags,
    };
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_REGS, &regs) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_SET_REGS failed");
    return GLINT_OK;
}

static glint_status kvm_resume_user(glint_hv *hv, const glint_regs *r, glint_error *err) {
    struct kvm_sregs sregs;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_SREGS failed");
    flat_segment(&sregs.cs, GLINT_SEL_USER_CODE, 0xb, true);
    flat_segment(&sregs.ss, GLINT_SEL_USER_DATA, 0x3, false);
    /* KVM on SVM reports TR busy whatever was set; written back that way,
     * the harness's CPU would refuse every OUT (see tr_type). */
    sregs.tr.type = hv->tr_type;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_SET_SREGS failed");
    return kvm_set_regs(hv, r, err);
}

static glint_status kvm_get_fpu(glint_hv *hv, glint_fpu_regs *f, glint_error *err) {
    struct kvm_fpu fpu;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_GET_FPU, &fpu) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_GET_FPU failed");
    memset(f, 0, sizeof *f);
    memcpy(f->st, fpu.fpr, sizeof f->st);
    f->fcw = fpu.fcw;
    f->fsw = fpu.fsw;
    f->ftw = fpu.ftwx;
    f->fop = fpu.last_opcode;
    f->fip = fpu.last_ip;
    f->fdp = fpu.last_dp;
    memcpy(f->xmm, fpu.xmm, sizeof f->xmm);
    f->mxcsr = fpu.mxcsr;
    return GLINT_OK;
}

static glint_status kvm_set_fpu(glint_hv *hv, const glint_fpu_regs *f, glint_error *err) {
    struct kvm_fpu fpu;
    memset(&fpu, 0, sizeof fpu);
    memcpy(fpu.fpr, f->st, sizeof f->st);
    fpu.fcw = f->fcw;
    fpu.fsw = f->fsw;
    fpu.ftwx = f->ftw;
    fpu.last_opcode = f->fop;
    fpu.last_ip = f->fip;
    fpu.last_dp = f->fdp;
    memcpy(fpu.xmm, f->xmm, sizeof f->xmm);
    fpu.mxcsr = f->mxcsr;
    if (kvm_ioctl(hv, hv->vcpu_fd, KVM_SET_FPU, &fpu) < 0)
        return glint_fail_errno(err, GLINT_E_HYPERVISOR, errno, "KVM_SET_FPU failed");
    return GLINT_OK;
}

const glint_hv_ops glint_hv_kvm_ops = {
    .name = "kvm",
    .create = kvm_create,
    .destroy = kvm_destroy,
    .map = kvm_map,
    .unmap = kvm_unmap,
    .set_entry = kvm_set_entry,
    .run = kvm_run,
    .complete_pending = kvm_complete_pending,
    .request_interrupt = kvm_request_interrupt,
    .clear_interrupt = kvm_clear_interrupt,
    .get_rip = kvm_get_rip,
    .save_state = kvm_save_state,
    .restore_state = kvm_restore_state,
    .counters = kvm_counters,
    .check_state = kvm_check_state,
    .collect_dirty = kvm_collect_dirty,
    .tsc_info = kvm_tsc_info,
    .set_debug = kvm_set_debug,
    .get_regs = kvm_get_regs,
    .set_regs = kvm_set_regs,
    .resume_user = kvm_resume_user,
    .get_fpu = kvm_get_fpu,
    .set_fpu = kvm_set_fpu,
};
