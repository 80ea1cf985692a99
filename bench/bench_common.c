/*
 * bench_common.c - what glint_bench's suites share (bench.h): metrics and
 * results, the probe around one operation, the host's description, tables
 * and JSON.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ==== Metrics ========================================================== */

static const char *const metric_names[M_SYS_BASE] = {
    [M_KVM_RUN] = "kvm_run",
    [M_EXITS] = "exits",
    [M_EXIT_IO] = "exits_io",
    [M_EXIT_MMIO] = "exits_mmio",
    [M_EXIT_HLT] = "exits_hlt",
    [M_EXIT_INTR] = "exits_interrupted",
    [M_EXIT_OTHER] = "exits_other",
    [M_IOCTLS_OTHER] = "ioctls_other",
    [M_SYS_MM] = "syscalls_mm",
    [M_SYS_OTHER] = "syscalls_other",
    [M_MINFLT] = "minor_faults",
    [M_COPIED_GUEST] = "bytes_copied_guest",
    [M_COPIED_ALL] = "bytes_copied_all",
    [M_ALLOCS_LIB] = "host_allocations_library",
    [M_ALLOCS_SEEN] = "host_allocations_seen",
    [M_FREES_SEEN] = "host_frees_seen",
    [M_LIB_VM_RUNS] = "library_vm_runs",
    [M_LIB_IOCTLS] = "library_ioctls_other",
    [M_LIB_SYSCALLS] = "library_syscalls_other",
    [M_PAGES_RESET] = "pages_reset",
    [M_LIB_RESTORE_SYSCALLS] = "library_last_restore_syscalls",
    [M_LIB_RESTORE_BYTES] = "library_last_restore_bytes_copied",
    [M_RESTORE_EXTRA] = "restore_syscalls_besides_registers",
};

/* ==== Scenario results ==================================================== */

void result_init(result *r, const char *id, const char *title, int capacity) {
    memset(r, 0, sizeof *r);
    r->id = id;
    r->title = title;
    r->ns = calloc((size_t)(capacity > 0 ? capacity : 1), sizeof *r->ns);
    for (int i = 0; i < M_COUNT; i++) r->min[i] = UINT64_MAX;
}

void result_record(result *r, uint64_t ns, const uint64_t *m) {
    r->ns[r->n++] = ns;
    for (int i = 0; i < M_COUNT; i++) {
        r->sum[i] += (double)m[i];
        if (m[i] < r->min[i]) r->min[i] = m[i];
        if (m[i] > r->max[i]) r->max[i] = m[i];
    }
    r->ran = true;
}

void result_note(result *r, bool failed, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof r->note, fmt, ap);
    va_end(ap);
    r->failed = failed;
}

double mean(const result *r, int m) { return r->n ? r->sum[m] / r->n : 0.0; }
bool constant(const result *r, int m) { return r->n && r->min[m] == r->max[m]; }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void percentiles(const result *r, uint64_t *median, uint64_t *p99, uint64_t *lo, uint64_t *hi) {
    *median = *p99 = *lo = *hi = 0;
    if (r->n == 0) return;
    uint64_t *s = malloc((size_t)r->n * sizeof *s);
    if (s == NULL) return;
    memcpy(s, r->ns, (size_t)r->n * sizeof *s);
    qsort(s, (size_t)r->n, sizeof *s, cmp_u64);
    *median = r->n % 2 ? s[r->n / 2] : (s[r->n / 2 - 1] + s[r->n / 2]) / 2;
    size_t rank = (size_t)ceil(0.99 * r->n);
    *p99 = s[rank ? rank - 1 : 0];
    *lo = s[0];
    *hi = s[r->n - 1];
    free(s);
}

/* ==== Measuring one operation ============================================== */

uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static uint64_t thread_minflt(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
    return (uint64_t)ru.ru_minflt;
}

void op_begin(probe *p, const glint_sandbox *sb) {
    memset(&p->lib0, 0, sizeof p->lib0);
    if (sb != NULL) glint_sandbox_counters(sb, &p->lib0);
    p->flt0 = thread_minflt();
    bench_wrap_begin();
    p->t0 = now_ns();
}

static uint64_t op_finish(probe *p, const glint_sandbox *sb, const glint_counters *last,
                          uint64_t *m) {
    uint64_t t1 = now_ns();
    bench_wrap_counts w;
    bench_wrap_end(&w);
    uint64_t flt1 = thread_minflt();
    glint_counters c;
    memset(&c, 0, sizeof c);
    if (last != NULL)
        c = *last;
    else if (sb != NULL)
        glint_sandbox_counters(sb, &c);
    const glint_counters *a = &p->lib0;
    memset(m, 0, M_COUNT * sizeof *m);
    m[M_KVM_RUN] = w.ioctl[BW_KVM_RUN];
    m[M_EXIT_IO] = c.exits_io - a->exits_io;
    m[M_EXIT_MMIO] = c.exits_mmio - a->exits_mmio;
    m[M_EXIT_HLT] = c.exits_hlt - a->exits_hlt;
    m[M_EXIT_INTR] = c.exits_interrupted - a->exits_interrupted;
    m[M_EXIT_OTHER] = c.exits_other - a->exits_other;
    m[M_EXITS] = m[M_EXIT_IO] + m[M_EXIT_MMIO] + m[M_EXIT_HLT] + m[M_EXIT_INTR] + m[M_EXIT_OTHER];
    uint64_t extra = 0;
    for (int k = 0; k < BW_IOCTL_KINDS; k++) {
        m[M_IOCTL_BASE + k] = w.ioctl[k];
        if (k != BW_KVM_RUN) m[M_IOCTLS_OTHER] += w.ioctl[k];
        if (!bench_ioctl_is_register_set(k)) extra += w.ioctl[k];
    }
    for (int k = 0; k < BW_SYS_KINDS; k++) {
        m[M_SYS_BASE + k] = w.sys[k];
        if (k == BW_MMAP || k == BW_MUNMAP || k == BW_MADVISE || k == BW_MPROTECT)
            m[M_SYS_MM] += w.sys[k];
        else
            m[M_SYS_OTHER] += w.sys[k];
        extra += w.sys[k];
    }
    m[M_RESTORE_EXTRA] = extra;
    m[M_MINFLT] = flt1 - p->flt0;
    m[M_COPIED_GUEST] = w.copied_guest;
    m[M_COPIED_ALL] = w.copied_all;
    m[M_ALLOCS_LIB] = c.host_allocations - a->host_allocations;
    m[M_ALLOCS_SEEN] = w.allocs;
    m[M_FREES_SEEN] = w.frees;
    m[M_LIB_VM_RUNS] = c.vm_runs - a->vm_runs;
    m[M_LIB_IOCTLS] = c.ioctls_other - a->ioctls_other;
    m[M_LIB_SYSCALLS] = c.syscalls_other - a->syscalls_other;
    if (c.restores != a->restores) {
        m[M_PAGES_RESET] = c.last_restore_pages_reset;
        m[M_LIB_RESTORE_SYSCALLS] = c.last_restore_syscalls;
        m[M_LIB_RESTORE_BYTES] = c.last_restore_bytes_copied;
    }
    return t1 - p->t0;
}

uint64_t op_end(probe *p, const glint_sandbox *sb, uint64_t *m) {
    return op_finish(p, sb, NULL, m);
}

uint64_t op_end_last(probe *p, const glint_counters *last, uint64_t *m) {
    return op_finish(p, NULL, last, m);
}

/* ==== Host description ====================================================== */

static void read_line(const char *path, char *out, size_t size) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    if (fgets(out, (int)size, f) == NULL) out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

void detect_host(host_info *h) {
    memset(h, 0, sizeof *h);
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) h->hypervisor = (c >> 31) & 1u;
    if (h->hypervisor) {
        __cpuid(0x40000000u, a, b, c, d);
        memcpy(h->hv_signature, &b, 4);
        memcpy(h->hv_signature + 4, &c, 4);
        memcpy(h->hv_signature + 8, &d, 4);
        for (int i = 0; i < 12; i++)
            if (h->hv_signature[i] != '\0' && (h->hv_signature[i] < 32 || h->hv_signature[i] > 126))
                h->hv_signature[i] = '?';
        static const struct {
            const char *sig, *name;
        } known[] = {
            {"KVMKVMKVM", "KVM"},
            {"Linux KVM Hv", "KVM (Hyper-V enlightenments)"},
            {"TCGTCGTCGTCG", "QEMU TCG (software CPU)"},
            {"Microsoft Hv", "Hyper-V"},
            {"VMwareVMware", "VMware"},
            {"XenVMMXenVMM", "Xen"},
            {"VBoxVBoxVBox", "VirtualBox"},
            {"ACRNACRNACRN", "ACRN"},
            {"bhyve bhyve ", "bhyve"},
            {" lrpepyh  vr", "Parallels"},
        };
        snprintf(h->hv_name, sizeof h->hv_name, "an unknown hypervisor (CPUID signature \"%s\")",
                 h->hv_signature);
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (strncmp(h->hv_signature, known[i].sig, 12) == 0)
                snprintf(h->hv_name, sizeof h->hv_name, "%s", known[i].name);
    }
    char vendor[64], product[80];
    read_line("/sys/class/dmi/id/sys_vendor", vendor, sizeof vendor);
    read_line("/sys/class/dmi/id/product_name", product, sizeof product);
    snprintf(h->dmi, sizeof h->dmi, "%s%s%s", vendor, vendor[0] && product[0] ? " " : "", product);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                if (v != NULL) {
                    snprintf(h->cpu, sizeof h->cpu, "%s", v + 2);
                    h->cpu[strcspn(h->cpu, "\n")] = '\0';
                }
                break;
            }
        }
        fclose(f);
    }
    struct utsname u;
    if (uname(&u) == 0) snprintf(h->kernel, sizeof h->kernel, "%s %s", u.sysname, u.release);
    const char *ih = getenv("GLINT_IN_HARNESS");
    h->in_harness = ih != NULL && strcmp(ih, "1") == 0;
    glint_hypervisor_info hi;
    glint_hypervisor_probe(&hi, false);
    h->kvm_kind = hi.kind;
    const char *kind_words = hi.kind == GLINT_HYPERVISOR_PVM
                                 ? "PVM (paravirtual: CPL-3 guest code native, CPL-0 code "
                                   "emulated, each exit a round trip through the host)"
                             : hi.kind == GLINT_HYPERVISOR_VMX ? "VMX (hardware virtualisation)"
                             : hi.kind == GLINT_HYPERVISOR_SVM ? "SVM (hardware virtualisation)"
                                                               : "of unknown kind";
    if (h->hypervisor)
        snprintf(h->kvm_line, sizeof h->kvm_line,
                 "KVM: %s, NESTED under %s%s%s%s - wall times are not bare-metal figures; "
                 "compare counts, not times",
                 kind_words, h->hv_name, h->dmi[0] ? " [" : "", h->dmi, h->dmi[0] ? "]" : "");
    else
        snprintf(h->kvm_line, sizeof h->kvm_line,
                 "KVM: %s, native (no hypervisor CPUID bit: this kernel runs on bare metal)",
                 kind_words);
    if (h->in_harness) {
        size_t len = strlen(h->kvm_line);
        snprintf(h->kvm_line + len, sizeof h->kvm_line - len,
                 "; inside Glint's QEMU/TCG test harness (every exit is emulated: ~0.1-1 ms)");
    }
}

/* ==== Output: tables ========================================================= */

void fmt_time(uint64_t ns, char *out, size_t size) {
    if (ns < 10000)
        snprintf(out, size, "%" PRIu64 " ns", ns);
    else if (ns < 10000000)
        snprintf(out, size, "%.1f us", (double)ns / 1e3);
    else if (ns < 10000000000ull)
        snprintf(out, size, "%.2f ms", (double)ns / 1e6);
    else
        snprintf(out, size, "%.2f s", (double)ns / 1e9);
}

int fmt_num(double v, char *out, size_t size) {
    if (v == floor(v)) return snprintf(out, size, "%.0f", v);
    return snprintf(out, size, "%.2f", v);
}

void fmt_metric(const result *r, int m, char *out, size_t size) {
    int len = fmt_num(mean(r, m), out, size);
    if (!constant(r, m) && len < (int)size)
        len += snprintf(out + len, size - (size_t)len, " (%" PRIu64 "-%" PRIu64 ")", r->min[m],
                        r->max[m]);
    if (r->flag[m] && len < (int)size) snprintf(out + len, size - (size_t)len, " %s", r->flag[m]);
}

void fmt_bytes(double v, char *out, size_t size) {
    if (v >= 10.0 * MiB)
        snprintf(out, size, "%.1f MiB", v / MiB);
    else if (v >= 10.0 * KiB)
        snprintf(out, size, "%.1f KiB", v / KiB);
    else
        snprintf(out, size, "%.0f B", v);
}

bool bench_row_common(const result *r, char (*row)[CELL]) {
    for (int k = 0; k < NCOL; k++) row[k][0] = '\0';
    snprintf(row[0], CELL, "%s", r->id);
    if (!r->ran) {
        snprintf(row[1], CELL, "-");
        snprintf(row[2], CELL, "%s%.140s", r->failed ? "FAILED: " : "", r->note);
        return false;
    }
    uint64_t med, p99, lo, hi;
    percentiles(r, &med, &p99, &lo, &hi);
    snprintf(row[1], CELL, "%d", r->n);
    fmt_time(med, row[2], CELL);
    fmt_time(p99, row[3], CELL);
    fmt_metric(r, M_KVM_RUN, row[4], CELL);
    fmt_metric(r, M_EXITS, row[5], CELL);
    fmt_metric(r, M_IOCTLS_OTHER, row[6], CELL);
    return true;
}

void print_table(char (*cells)[NCOL][CELL], int rows, int cols) {
    int w[NCOL] = {0};
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int l = (int)strlen(cells[r][c]);
            if (l > w[c]) w[c] = l;
        }
    for (int r = 0; r < rows; r++) {
        printf("|");
        for (int c = 0; c < cols; c++) printf(" %-*s |", w[c], cells[r][c]);
        printf("\n");
        if (r == 0) {
            printf("|");
            for (int c = 0; c < cols; c++) {
                printf("-");
                for (int i = 0; i < w[c]; i++) printf("-");
                printf("-|");
            }
            printf("\n");
        }
    }
}

void breakdown(const result *r, int base, int kinds, const char *(*name)(int), bool skip_run,
               char *out, size_t size) {
    int len = 0;
    out[0] = '\0';
    for (int k = 0; k < kinds && len < (int)size; k++) {
        if (skip_run && k == BW_KVM_RUN) continue;
        if (r->max[base + k] == 0) continue;
        char v[32];
        fmt_num(mean(r, base + k), v, sizeof v);
        len += snprintf(out + len, size - (size_t)len, "%s%s %s", len ? ", " : "", name(k), v);
    }
    if (len == 0) snprintf(out, size, "-");
}

/* ==== Output: JSON =========================================================== */

void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static const char *metric_name(int m, char *buf, size_t size) {
    if (m < M_IOCTL_BASE) return metric_names[m];
    if (m < M_SYS_BASE) {
        snprintf(buf, size, "ioctl_%s", bench_ioctl_name(m - M_IOCTL_BASE));
        return buf;
    }
    snprintf(buf, size, "syscall_%s", bench_sys_name(m - M_SYS_BASE));
    return buf;
}

void json_result(FILE *f, const result *r) {
    fprintf(f, "{\"id\":");
    json_str(f, r->id);
    fprintf(f, ",\"title\":");
    json_str(f, r->title);
    fprintf(f, ",\"ran\":%s,\"failed\":%s,\"note\":", r->ran ? "true" : "false",
            r->failed ? "true" : "false");
    json_str(f, r->note);
    if (r->ran) {
        uint64_t med, p99, lo, hi;
        percentiles(r, &med, &p99, &lo, &hi);
        double sum = 0;
        for (int i = 0; i < r->n; i++) sum += (double)r->ns[i];
        fprintf(f,
                ",\"iterations\":%d,\"wall_ns\":{\"median\":%" PRIu64 ",\"p99\":%" PRIu64
                ",\"min\":%" PRIu64 ",\"max\":%" PRIu64 ",\"mean\":%.0f}",
                r->n, med, p99, lo, hi, sum / r->n);
        if (r->has_touched) fprintf(f, ",\"guest_pages_touched\":%" PRIu64, r->pages_touched);
        fprintf(f, ",\"per_op\":{");
        bool first = true;
        for (int m = 0; m < M_COUNT; m++) {
            if (m >= M_IOCTL_BASE && r->max[m] == 0) continue; /* kinds: non-zero only */
            bool restore_only = m == M_PAGES_RESET || m == M_LIB_RESTORE_SYSCALLS ||
                                m == M_LIB_RESTORE_BYTES || m == M_RESTORE_EXTRA;
            if (restore_only && !r->restore_metrics && strncmp(r->id, "restore_", 8) != 0) continue;
            char buf[64];
            fprintf(f, "%s", first ? "" : ",");
            first = false;
            json_str(f, metric_name(m, buf, sizeof buf));
            fprintf(f, ":{\"mean\":%.4g,\"min\":%" PRIu64 ",\"max\":%" PRIu64, mean(r, m),
                    r->min[m], r->max[m]);
            if (r->flag[m]) {
                fprintf(f, ",\"flag\":");
                json_str(f, r->flag[m]);
            }
            fprintf(f, "}");
        }
        fprintf(f, "}");
    }
    fprintf(f, "}");
}

void json_host(FILE *f, const host_info *h) {
    fprintf(f, "{\"kvm\":\"%s\",\"kvm_kind\":", h->hypervisor ? "nested" : "native");
    json_str(f, glint_hypervisor_kind_name(h->kvm_kind));
    fprintf(f, ",\"hypervisor\":");
    json_str(f, h->hypervisor ? h->hv_name : "");
    fprintf(f, ",\"hypervisor_signature\":");
    json_str(f, h->hv_signature);
    fprintf(f, ",\"dmi\":");
    json_str(f, h->dmi);
    fprintf(f, ",\"cpu\":");
    json_str(f, h->cpu);
    fprintf(f, ",\"kernel\":");
    json_str(f, h->kernel);
    fprintf(f, ",\"in_harness\":%s,\"line\":", h->in_harness ? "true" : "false");
    json_str(f, h->kvm_line);
    fprintf(f, "}");
}

bool bench_prerequisites(const char *guest) {
    /* The same question test.sh and run.sh ask: does a guest run on this
     * KVM?  "/dev/kvm opens" is not the answer (a paravirtual KVM opens). */
    glint_hypervisor_info hi;
    if (glint_hypervisor_probe(&hi, true) != GLINT_OK || !hi.guests_run) {
        fprintf(stderr,
                "glint_bench: guests do not run on this machine's KVM (%s); run bench/run.sh, "
                "which uses the QEMU KVM harness when needed\n",
                hi.message);
        return false;
    }
    if (access(guest, R_OK) != 0) {
        fprintf(stderr, "glint_bench: guest %s: %s (build the bench_guest target)\n", guest,
                strerror(errno));
        return false;
    }
    return true;
}
