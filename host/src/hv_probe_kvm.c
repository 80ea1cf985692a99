/*
 * hv_probe_kvm.c - glint_hypervisor_probe(): what /dev/kvm is here, which
 * of the capabilities Glint uses it has, and whether a guest really runs on
 * it (a probe VM set up exactly as a sandbox is).
 *
 * Why a probe guest: "/dev/kvm opens" says nothing about whether guests run.
 * A paravirtual KVM (PVM) opens and answers every ioctl, yet emulates CPL-0
 * code and fails on SSE there; nested setups may lack features.  Only running
 * the CPL-3 entry, an OUT exit and the exception path proves the sandbox
 * model works on this KVM.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cpu.h"
#include "gmem.h"
#include "hv.h"
#include "layout.h"
#include "paging.h"

#define KVM_DEVICE "/dev/kvm"

/* The probe guest's value: RDI at entry, echoed through XMM0 to the OUT. */
#define PROBE_VALUE 0x5Au

/* CPL-3 code of the probe guest. */
static const uint8_t probe_code[] = {
    0x66, 0x48,
    0x0f, 0x6e,
    0xc7, /* movq %rdi, %xmm0   (SSE at CPL 3) */
    0x66, 0x48,
    0x0f, 0x7e,
    0xc0,                  /* movq %xmm0, %rax */
    0xe6, GLINT_PORT_DONE, /* out %al, $GLINT_PORT_DONE */
    0x0f, 0x0b,            /* ud2 -> #UD -> the host's stub */
};
#define PROBE_UD2_OFFSET 12u

const char *glint_hypervisor_kind_name(glint_hypervisor_kind kind) {
    switch (kind) {
    case GLINT_HYPERVISOR_NONE: return "none";
    case GLINT_HYPERVISOR_UNKNOWN: return "unknown";
    case GLINT_HYPERVISOR_VMX: return "vmx";
    case GLINT_HYPERVISOR_SVM: return "svm";
    case GLINT_HYPERVISOR_PVM: return "pvm";
    }
    return "unknown";
}

static bool path_exists(const char *path) { return access(path, F_OK) == 0; }

/* True if /proc/cpuinfo's first "flags" line has the flag. */
static bool cpu_has_flag(const char *flag) {
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (f == NULL) return false;
    char line[4096];
    bool found = false;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "flags", 5) != 0) continue;
        const size_t n = strlen(flag);
        for (const char *p = strstr(line, flag); p != NULL; p = strstr(p + 1, flag)) {
            if ((p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) {
                found = true;
                break;
            }
        }
        break;
    }
    fclose(f);
    return found;
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* The KVM module decides the kind; PVM first, since a PVM host may also
 * have kvm_intel/kvm_amd loaded for nothing. */
static void detect_kind(glint_hypervisor_info *out) {
    static const struct {
        const char *path;
        glint_hypervisor_kind kind;
    } modules[] = {
        {"/sys/module/kvm_pvm", GLINT_HYPERVISOR_PVM},
        {"/sys/module/kvm_intel", GLINT_HYPERVISOR_VMX},
        {"/sys/module/kvm_amd", GLINT_HYPERVISOR_SVM},
    };
    out->kind = GLINT_HYPERVISOR_UNKNOWN;
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        if (path_exists(modules[i].path)) {
            out->kind = modules[i].kind;
            snprintf(out->kind_source, sizeof out->kind_source, "%s", modules[i].path);
            break;
        }
    }
    if (out->kind == GLINT_HYPERVISOR_UNKNOWN) {
        /* Modules built into the kernel leave no /sys/module entry with
         * parameters of their own name on some kernels: fall back on the
         * CPU's flags. */
        if (cpu_has_flag("vmx")) out->kind = GLINT_HYPERVISOR_VMX;
        if (cpu_has_flag("svm")) out->kind = GLINT_HYPERVISOR_SVM;
        if (out->kind != GLINT_HYPERVISOR_UNKNOWN)
            snprintf(out->kind_source, sizeof out->kind_source, "/proc/cpuinfo flags");
    }
    uint32_t a, b, c, d;
    cpuid(1, &a, &b, &c, &d);
    out->nested = (c >> 31) & 1u;
    if (out->nested) {
        cpuid(0x40000000u, &a, &b, &c, &d);
        memcpy(out->outer_hypervisor + 0, &b, 4);
        memcpy(out->outer_hypervisor + 4, &c, 4);
        memcpy(out->outer_hypervisor + 8, &d, 4);
        out->outer_hypervisor[12] = '\0';
        for (int i = 0; i < 12; i++) {
            char ch = out->outer_hypervisor[i];
            if (ch != '\0' && (ch < 0x20 || ch > 0x7e)) out->outer_hypervisor[i] = '?';
        }
    }
}

static void check_caps(glint_hypervisor_info *out, int kvm_fd) {
    static const struct {
        const char *name;
        long cap;
        bool required;
        const char *use;
    } caps[] = {
        {"KVM_CAP_USER_MEMORY", KVM_CAP_USER_MEMORY, true, "guest memory from host mappings"},
        {"KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT, true, "race-free kill and deadlines"},
        {"KVM_CAP_EXT_CPUID", KVM_CAP_EXT_CPUID, true, "CPUID without the PV leaves"},
        {"KVM_CAP_VCPU_EVENTS", KVM_CAP_VCPU_EVENTS, true, "vCPU state in snapshots"},
        {"KVM_CAP_XSAVE", KVM_CAP_XSAVE, false, "full FPU/SSE/AVX state in snapshots"},
        {"KVM_CAP_DIRTY_LOG_RING", KVM_CAP_DIRTY_LOG_RING, false,
         "restore counts dirty pages without a dirty-log ioctl"},
        {"KVM_CAP_ENFORCE_PV_FEATURE_CPUID", KVM_CAP_ENFORCE_PV_FEATURE_CPUID, false,
         "paravirtual MSRs and hypercalls refused"},
        {"KVM_CAP_READONLY_MEM", KVM_CAP_READONLY_MEM, false, "read-only memory slots"},
        {"KVM_CAP_SET_GUEST_DEBUG", KVM_CAP_SET_GUEST_DEBUG, false, "debugging guests"},
    };
    _Static_assert(sizeof caps / sizeof caps[0] <= GLINT_HYPERVISOR_MAX_CAPS, "caps fit");
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        glint_hypervisor_cap *c = &out->caps[out->cap_count++];
        c->name = caps[i].name;
        c->use = caps[i].use;
        c->required = caps[i].required;
        c->present = ioctl(kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) > 0;
    }
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A probe VM set up exactly as a sandbox is, with `code` at the image base. */
typedef struct probe_vm {
    glint_layout_info l;
    uint8_t *mem;
    glint_gmem gm;
    glint_hv *hv;
} probe_vm;

static void probe_vm_teardown(probe_vm *vm) {
    if (vm->hv != NULL) glint_hv_kvm_ops.destroy(vm->hv);
    if (vm->mem != NULL) munmap(vm->mem, vm->l.total_size);
    vm->hv = NULL;
    vm->mem = NULL;
}

/* On failure fills msg and returns false (nothing left to tear down). */
static bool probe_vm_setup(probe_vm *vm, const uint8_t *code, size_t code_size, uint64_t rdi,
                           char *msg, size_t msg_size) {
    const glint_hv_ops *ops = &glint_hv_kvm_ops;
    glint_error err;
    glint_error_clear(&err);
    memset(vm, 0, sizeof *vm);
    const glint_layout_params lp = {
        .image_size = GLINT_PAGE_SIZE,
        .entry = 0,
        .heap_size = GLINT_MIN_HEAP_SIZE,
        .input_size = GLINT_MIN_IO_BUFFER_SIZE,
        .output_size = GLINT_MIN_IO_BUFFER_SIZE,
        .scratch_size = 2u * GLINT_MIN_IO_BUFFER_SIZE + 3u * GLINT_PAGE_SIZE +
                        GLINT_EXCEPTION_STACK_SIZE + GLINT_MIN_STACK_SIZE,
        .memory_cap = 64ull << 20,
    };
    glint_layout_info *l = &vm->l;
    if (glint_layout_compute(&lp, l, &err) != GLINT_OK) {
        snprintf(msg, msg_size, "probe layout: %.400s", err.message);
        return false;
    }
    uint8_t *mem =
        mmap(NULL, l->total_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        snprintf(msg, msg_size, "probe memory: %s", strerror(errno));
        return false;
    }
    vm->mem = mem;
    vm->gm = (glint_gmem){
        mem, l->snapshot_gpa, l->snapshot_size, l->scratch_gpa, l->scratch_size, {NULL, NULL}};
    memcpy(glint_gmem_span(&vm->gm, l->code_gpa, code_size), code, code_size);
    glint_pt_builder pt;
    glint_pt_init(&pt, glint_gmem_span(&vm->gm, l->page_tables_gpa, l->page_tables_size),
                  l->page_tables_gpa, l->page_tables_size);
    glint_cpu_entry entry;
    if (glint_pt_map(&pt, l->code_gpa, l->code_size, GLINT_PERM_READ | GLINT_PERM_EXEC, &err) !=
            GLINT_OK ||
        glint_pt_map(&pt, l->stack_gpa, l->stack_size, GLINT_PERM_READ | GLINT_PERM_WRITE, &err) !=
            GLINT_OK ||
        glint_cpu_install(mem, l, &pt, &err) != GLINT_OK) {
        snprintf(msg, msg_size, "probe page tables: %.400s", err.message);
        probe_vm_teardown(vm);
        return false;
    }
    glint_cpu_entry_state(&entry, l->cpu_tables_gpa, l->page_tables_gpa, l->code_gpa,
                          l->stack_gpa + l->stack_size, rdi, GLINT_ABI_VERSION);
    if (ops->create(&vm->hv, &err) != GLINT_OK ||
        ops->map(vm->hv, 0, l->snapshot_gpa, l->snapshot_size, mem, 0, &err) != GLINT_OK ||
        ops->map(vm->hv, 1, l->scratch_gpa, l->scratch_size, mem + l->snapshot_size, 0, &err) !=
            GLINT_OK ||
        ops->set_entry(vm->hv, &entry, &err) != GLINT_OK) {
        snprintf(msg, msg_size, "probe VM setup: %.400s", err.message);
        probe_vm_teardown(vm);
        return false;
    }
    return true;
}

/* Runs the probe guest; on failure fills out->message and returns false. */
static bool run_probe_guest(glint_hypervisor_info *out) {
    const glint_hv_ops *ops = &glint_hv_kvm_ops;
    glint_error err;
    glint_error_clear(&err);
    bool ok = false;
    const uint64_t t0 = now_ns();
    probe_vm vm;
    if (!probe_vm_setup(&vm, probe_code, sizeof probe_code, PROBE_VALUE, out->message,
                        sizeof out->message))
        return false;
    glint_hv *hv = vm.hv;
    const glint_layout_info l = vm.l;
    glint_gmem gm = vm.gm;
    glint_exit ex;
    /* First exit: the OUT, carrying the value through an SSE register. */
    if (ops->run(hv, &ex, &err) != GLINT_OK) {
        snprintf(out->message, sizeof out->message, "probe KVM_RUN: %.400s", err.message);
        goto done;
    }
    uint64_t rip = 0;
    if (ex.kind != GLINT_EXIT_IO || ex.port != GLINT_PORT_DONE || !ex.is_write ||
        ex.data != PROBE_VALUE) {
        ops->get_rip(hv, &rip, NULL);
        if (ex.kind == GLINT_EXIT_FAILED)
            snprintf(out->message, sizeof out->message,
                     "guests do not run here: %s at RIP 0x%" PRIx64
                     " (KVM exit reason %u, %s 0x%" PRIx64 ")",
                     ex.what != NULL ? ex.what : "unexpected exit", rip, ex.reason,
                     ex.detail_name != NULL ? ex.detail_name : "detail", ex.detail);
        else if (ex.kind == GLINT_EXIT_IO && ex.port == GLINT_PORT_EXCEPTION) {
            glint_exception_record rec;
            memset(&rec, 0, sizeof rec);
            glint_gmem_read(&gm, l.metadata_gpa, &rec, sizeof rec);
            snprintf(
                out->message, sizeof out->message,
                "guests do not run here: the probe guest took CPU exception %s (vector %" PRIu64
                ") at RIP 0x%" PRIx64 " (entry 0x%" PRIx64 "), error code 0x%" PRIx64
                ", CR2 0x%" PRIx64 ", RFLAGS 0x%" PRIx64,
                glint_cpu_vector_name(rec.vector), rec.vector, rec.rip, l.code_gpa, rec.error_code,
                rec.cr2, rec.rflags);
        } else
            snprintf(out->message, sizeof out->message,
                     "guests do not run here: the probe's OUT of 0x%x to port 0x%x came back as "
                     "exit kind %d, port 0x%x, value 0x%" PRIx64 " at RIP 0x%" PRIx64,
                     PROBE_VALUE, GLINT_PORT_DONE, (int)ex.kind, ex.port, ex.data, rip);
        goto done;
    }
    /* Second exit: UD2 at CPL 3, delivered through the host's IDT to its
     * stub, which reports it. */
    if (ops->run(hv, &ex, &err) != GLINT_OK) {
        snprintf(out->message, sizeof out->message, "probe KVM_RUN: %.400s", err.message);
        goto done;
    }
    ops->get_rip(hv, &rip, NULL);
    glint_exception_record rec;
    memset(&rec, 0, sizeof rec);
    glint_gmem_read(&gm, l.metadata_gpa, &rec, sizeof rec);
    if (ex.kind != GLINT_EXIT_IO || ex.port != GLINT_PORT_EXCEPTION ||
        !glint_cpu_rip_in_exception_code(l.exception_code_gpa, rip) || rec.vector != 6 ||
        rec.rip != l.code_gpa + PROBE_UD2_OFFSET || rec.cs != GLINT_SEL_USER_CODE) {
        snprintf(out->message, sizeof out->message,
                 "guests run, but exceptions are not reported: UD2 at CPL 3 ended in exit kind "
                 "%d (port 0x%x, RIP 0x%" PRIx64 "), record vector %" PRIu64 " RIP 0x%" PRIx64,
                 (int)ex.kind, ex.port, rip, rec.vector, rec.rip);
        goto done;
    }
    out->probe_ns = now_ns() - t0;
    ok = true;
done:
    probe_vm_teardown(&vm);
    return ok;
}

/* CPL-3 code for the hardware-breakpoint probe: the breakpoint is on the
 * second NOP; the OUT says it did not fire. */
static const uint8_t hw_probe_code[] = {0x90, 0x90, 0xe6, GLINT_PORT_DONE, 0x0f, 0x0b};

bool glint_hv_probe_hw_breakpoints(char *why, size_t why_size) {
    probe_vm vm;
    glint_error err;
    glint_exit ex;
    if (!probe_vm_setup(&vm, hw_probe_code, sizeof hw_probe_code, 0, why, why_size)) return false;
    bool ok = false;
    const uint64_t target = vm.l.code_gpa + 1;
    glint_hv_debug dbg = {.flags = GLINT_HV_DEBUG_ENABLE | GLINT_HV_DEBUG_HW_BP,
                          .addr = {target},
                          .dr7 = 0x1}; /* L0, execute, length 1 */
    if (glint_hv_kvm_ops.set_debug(vm.hv, &dbg, &err) != GLINT_OK) {
        snprintf(why, why_size, "%s", err.message);
    } else if (glint_hv_kvm_ops.run(vm.hv, &ex, &err) != GLINT_OK) {
        snprintf(why, why_size, "KVM_RUN: %s", err.message);
    } else if (ex.kind == GLINT_EXIT_DEBUG && ex.debug_vector == 1 && ex.debug_pc == target) {
        ok = true;
        snprintf(why, why_size, "debug registers fire for CPL-3 code (KVM_SET_GUEST_DEBUG)");
    } else if (ex.kind == GLINT_EXIT_IO && ex.port == GLINT_PORT_DONE) {
        snprintf(why, why_size,
                 "this KVM accepts KVM_SET_GUEST_DEBUG but its debug registers do not fire for "
                 "CPL-3 guest code (probe: an execute breakpoint was run over)");
    } else {
        snprintf(why, why_size,
                 "an execute breakpoint ended in exit kind %d (reason %u, vector %u, pc 0x%" PRIx64
                 "), not a debug exit at 0x%" PRIx64,
                 (int)ex.kind, ex.reason, ex.debug_vector, ex.debug_pc, target);
    }
    probe_vm_teardown(&vm);
    return ok;
}

glint_status glint_hypervisor_probe(glint_hypervisor_info *out, bool run_guest) {
    if (out == NULL) return GLINT_E_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->api_version = -1;
    out->kind = GLINT_HYPERVISOR_NONE;
    out->device_exists = path_exists(KVM_DEVICE);
    int fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        out->open_errno = errno;
        snprintf(out->message, sizeof out->message, "%s %s: %s", KVM_DEVICE,
                 out->device_exists ? "does not open" : "does not exist", strerror(errno));
        return GLINT_OK;
    }
    out->device_opens = true;
    out->api_version = ioctl(fd, KVM_GET_API_VERSION, 0);
    detect_kind(out);
    check_caps(out, fd);
    close(fd);
    for (uint32_t i = 0; i < out->cap_count; i++) {
        if (out->caps[i].required && !out->caps[i].present) {
            snprintf(out->message, sizeof out->message, "KVM lacks %s, which Glint requires",
                     out->caps[i].name);
            return GLINT_OK;
        }
    }
    if (out->api_version != 12) {
        snprintf(out->message, sizeof out->message, "KVM API version %d, Glint needs 12",
                 out->api_version);
        return GLINT_OK;
    }
    if (!run_guest) {
        snprintf(out->message, sizeof out->message, "KVM answers; probe guest not run");
        return GLINT_OK;
    }
    out->probe_ran = true;
    out->guests_run = run_probe_guest(out);
    if (out->guests_run)
        snprintf(out->message, sizeof out->message,
                 "guests run here (%s KVM%s): CPL-3 code with SSE, an OUT exit and an exception "
                 "report in %.2f ms, VM creation included",
                 glint_hypervisor_kind_name(out->kind), out->nested ? ", nested" : "",
                 (double)out->probe_ns / 1e6);
    return GLINT_OK;
}
