/*
 * glint_bench - the Glint benchmark suite (docs/benchmarks.md).
 *
 *   glint_bench [--quick | --iterations N] [--json PATH] [--config default|heap64m|all]
 *               [--scenario NAME]... [--clones N] [--guest PATH]
 *
 * Scenarios (each at the default sizes and with a 64 MiB heap): create +
 * initialise (cold), create from a snapshot, the empty call, calls with 1 KiB,
 * 64 KiB and 1 MiB of arguments, a call making one host callback, snapshot,
 * restore after the guest dirtied 1/16/256/4096 pages, map a file, and the
 * latency from glint_sandbox_kill() to the killed call returning.  Then the
 * resident memory each extra sandbox made from one snapshot costs.
 *
 * For every scenario: median and p99 wall time, and per operation the
 * library's counters (glint_counters: VM exits by kind, KVM_RUNs, other
 * ioctls, other syscalls, host allocations, restore figures) next to the same
 * things counted from the outside by the --wrap interposers of bench_wrap.c
 * (ioctls by request, syscalls by kind, heap allocations, bytes copied), host
 * minor page faults (getrusage), and the guest pages written (KVM's dirty log,
 * through last_restore_pages_reset).  The count targets are checked
 * and every miss is flagged next to its figure.
 *
 * Output: a Markdown table per configuration on stdout, JSON to --json.
 * Exit status: 0 when everything ran (whether or not targets are met),
 * 1 when a scenario failed, 2 on usage errors or when KVM is unusable.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_wrap.h"
#include "glint/glint.h"

#ifndef GLINT_BENCH_GUEST
#define GLINT_BENCH_GUEST "bench_guest.elf"
#endif

#define KiB (1024ull)
#define MiB (1024ull * 1024ull)
#define PAGE 4096ull

/* ==== Metrics ========================================================== */

/* One operation's figures; all are counts per operation. */
enum {
    M_KVM_RUN, /* KVM_RUN ioctls (outside count) */
    M_EXITS,   /* VM exits, all kinds (library) */
    M_EXIT_IO,
    M_EXIT_MMIO,
    M_EXIT_HLT,
    M_EXIT_INTR,
    M_EXIT_OTHER,
    M_IOCTLS_OTHER, /* KVM ioctls other than KVM_RUN (outside count) */
    M_SYS_MM,       /* mmap + munmap + madvise + mprotect (outside count) */
    M_SYS_OTHER,    /* every other wrapped syscall (outside count) */
    M_MINFLT,       /* minor page faults of the calling thread (getrusage) */
    M_COPIED_GUEST, /* bytes copied to/from guest memory by the host (outside) */
    M_COPIED_ALL,   /* bytes through memcpy/memmove in the library (outside) */
    M_ALLOCS_LIB,   /* glint_counters.host_allocations */
    M_ALLOCS_SEEN,  /* malloc/calloc/realloc/strdup calls (outside) */
    M_FREES_SEEN,
    M_LIB_VM_RUNS,          /* glint_counters.vm_runs */
    M_LIB_IOCTLS,           /* glint_counters.ioctls_other */
    M_LIB_SYSCALLS,         /* glint_counters.syscalls_other */
    M_PAGES_RESET,          /* last_restore_pages_reset (restore operations) */
    M_LIB_RESTORE_SYSCALLS, /* last_restore_syscalls */
    M_LIB_RESTORE_BYTES,    /* last_restore_bytes_copied */
    M_RESTORE_EXTRA,        /* syscalls besides register setting (restore target) */
    M_IOCTL_BASE,
    M_SYS_BASE = M_IOCTL_BASE + BW_IOCTL_KINDS,
    M_COUNT = M_SYS_BASE + BW_SYS_KINDS
};

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

#define MAX_SAMPLES 100000
#define NOTE_SIZE 640

typedef struct result {
    const char *id;
    const char *title;
    bool ran;             /* measured */
    bool failed;          /* an error stopped it (note says why) */
    char note[NOTE_SIZE]; /* why not available / failed, or a remark */
    uint64_t *ns;         /* wall time samples */
    int n;
    double sum[M_COUNT];
    uint64_t min[M_COUNT], max[M_COUNT];
    bool has_touched;
    uint64_t pages_touched;    /* guest pages written by one operation */
    const char *flag[M_COUNT]; /* "NOT MET: ..." next to a figure */
} result;

static void result_init(result *r, const char *id, const char *title, int capacity) {
    memset(r, 0, sizeof *r);
    r->id = id;
    r->title = title;
    r->ns = calloc((size_t)(capacity > 0 ? capacity : 1), sizeof *r->ns);
    for (int i = 0; i < M_COUNT; i++) r->min[i] = UINT64_MAX;
}

static void result_record(result *r, uint64_t ns, const uint64_t *m) {
    r->ns[r->n++] = ns;
    for (int i = 0; i < M_COUNT; i++) {
        r->sum[i] += (double)m[i];
        if (m[i] < r->min[i]) r->min[i] = m[i];
        if (m[i] > r->max[i]) r->max[i] = m[i];
    }
    r->ran = true;
}

static void result_note(result *r, bool failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void result_note(result *r, bool failed, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note, sizeof r->note, fmt, ap);
    va_end(ap);
    r->failed = failed;
}

static double mean(const result *r, int m) { return r->n ? r->sum[m] / r->n : 0.0; }
static bool constant(const result *r, int m) { return r->n && r->min[m] == r->max[m]; }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median, p99 (nearest rank: with fewer than 100 samples it is the maximum). */
static void percentiles(const result *r, uint64_t *median, uint64_t *p99, uint64_t *lo,
                        uint64_t *hi) {
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

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_minflt(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
    return (uint64_t)ru.ru_minflt;
}

typedef struct probe {
    glint_counters lib0;
    uint64_t flt0;
    uint64_t t0;
} probe;

/* sb: the sandbox whose counters the operation changes, NULL when it makes a
 * new one (whose counters start at zero). */
static void op_begin(probe *p, const glint_sandbox *sb) {
    memset(&p->lib0, 0, sizeof p->lib0);
    if (sb != NULL) glint_sandbox_counters(sb, &p->lib0);
    p->flt0 = thread_minflt();
    bench_wrap_begin();
    p->t0 = now_ns();
}

/* Returns the wall time; fills m[M_COUNT] from sb's counters (may be NULL
 * when the operation's sandbox is gone). */
static uint64_t op_end(probe *p, const glint_sandbox *sb, uint64_t *m) {
    uint64_t t1 = now_ns();
    bench_wrap_counts w;
    bench_wrap_end(&w);
    uint64_t flt1 = thread_minflt();
    glint_counters c;
    memset(&c, 0, sizeof c);
    if (sb != NULL) glint_sandbox_counters(sb, &c);
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

/* ==== Benchmark set-up ===================================================== */

typedef struct options {
    int iterations; /* 0: quick defaults */
    const char *json;
    const char *guest;
    bool configs[2];
    const char *only[32];
    int only_count;
    int clones;
} options;

static options opt;

static glint_status host_nop(glint_host_call *call, void *user, const glint_value *args,
                             uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    (void)args;
    (void)argc;
    ret->as.i32 = 0;
    return GLINT_OK;
}

typedef struct bench_config {
    const char *name;
    const char *title;
    uint64_t heap_size;
} bench_config;

static const bench_config configs[2] = {
    {"default", "default sizes (heap 128 KiB, input/output 16 KiB, scratch 288 KiB)", 0},
    {"heap64m", "64 MiB heap (other sizes default)", 64 * MiB},
};

static void make_config(const bench_config *bc, uint64_t input_size, glint_config *cfg) {
    glint_config_init(cfg);
    if (bc->heap_size != 0) cfg->heap_size = bc->heap_size;
    if (input_size > cfg->input_size) {
        /* Same stack as the default: grow scratch by what the input grew. */
        cfg->scratch_size += input_size - cfg->input_size;
        cfg->input_size = input_size;
    }
}

/* Create + register + initialise: what "create + initialise" measures. */
static glint_status new_sandbox(const glint_config *cfg, glint_sandbox **out, char *why,
                                size_t why_size) {
    glint_error err;
    glint_status st = glint_sandbox_create(cfg, opt.guest, out, &err);
    if (st != GLINT_OK) {
        snprintf(why, why_size, "create: %s", err.message);
        return st;
    }
    st = glint_sandbox_register_host_function(*out, "host_nop", GLINT_TYPE_I32, NULL, 0, host_nop,
                                              NULL);
    if (st == GLINT_OK) st = glint_sandbox_initialize(*out);
    if (st != GLINT_OK) {
        snprintf(why, why_size, "initialise: %s", glint_sandbox_last_error(*out)->message);
        glint_sandbox_destroy(*out);
        *out = NULL;
    }
    return st;
}

/* A sandbox running on top of its own snapshot. */
typedef struct instance {
    glint_config cfg;
    glint_sandbox *sb;
    glint_snapshot *snap;
} instance;

static bool instance_open(instance *in, const bench_config *bc, uint64_t input_size, char *why,
                          size_t why_size) {
    memset(in, 0, sizeof *in);
    make_config(bc, input_size, &in->cfg);
    if (new_sandbox(&in->cfg, &in->sb, why, why_size) != GLINT_OK) return false;
    if (glint_sandbox_snapshot(in->sb, &in->snap) != GLINT_OK) {
        snprintf(why, why_size, "snapshot: %s", glint_sandbox_last_error(in->sb)->message);
        glint_sandbox_destroy(in->sb);
        in->sb = NULL;
        return false;
    }
    return true;
}

static void instance_close(instance *in) {
    glint_sandbox_destroy(in->sb);
    glint_snapshot_release(in->snap);
    memset(in, 0, sizeof *in);
}

static const char *sb_error(const glint_sandbox *sb) {
    return glint_sandbox_last_error(sb)->message;
}

/* ==== Scenarios ============================================================ */

typedef struct bench_ctx {
    const bench_config *bc;
    instance main; /* default input size */
    uint32_t dirty_capacity;
    result results[32];
    int result_count;
} bench_ctx;

static bool wanted(const char *id) {
    if (opt.only_count == 0) return true;
    for (int i = 0; i < opt.only_count; i++)
        if (strncmp(id, opt.only[i], strlen(opt.only[i])) == 0) return true;
    return false;
}

static int iters(int quick) { return opt.iterations > 0 ? opt.iterations : quick; }

static result *new_result(bench_ctx *c, const char *id, const char *title, int n) {
    result *r = &c->results[c->result_count++];
    result_init(r, id, title, n);
    return r;
}

/* Guest pages one operation writes, from a freshly restored state: restore,
 * run op, restore again and read last_restore_pages_reset (KVM's dirty log of
 * both slots plus the input pages the host wrote). */
typedef glint_status (*sb_op)(glint_sandbox *sb, void *arg);

static bool measure_touched(result *r, instance *in, sb_op op, void *arg) {
    glint_counters c;
    if (glint_sandbox_restore(in->sb, in->snap) != GLINT_OK) return false;
    glint_status st = op(in->sb, arg);
    (void)st; /* a killed call fails on purpose */
    if (glint_sandbox_restore(in->sb, in->snap) != GLINT_OK) return false;
    glint_sandbox_counters(in->sb, &c);
    r->has_touched = true;
    r->pages_touched = c.last_restore_pages_reset;
    return true;
}

static glint_status op_nop(glint_sandbox *sb, void *arg) {
    (void)arg;
    return glint_sandbox_call(sb, "nop", GLINT_TYPE_VOID, NULL, 0, NULL);
}

static glint_status op_take_bytes(glint_sandbox *sb, void *arg) {
    glint_value out;
    return glint_sandbox_call(sb, "take_bytes", GLINT_TYPE_U32, (const glint_value *)arg, 1, &out);
}

static glint_status op_callback(glint_sandbox *sb, void *arg) {
    (void)arg;
    glint_value out;
    return glint_sandbox_call(sb, "call_host", GLINT_TYPE_I32, NULL, 0, &out);
}

/* -- create + initialise (cold) -- */
static void sc_create_cold(bench_ctx *c) {
    const char *id = "create_cold";
    if (!wanted(id)) return;
    int n = iters(10);
    result *r = new_result(c, id, "create + initialise (cold)", n);
    uint64_t m[M_COUNT];
    char why[NOTE_SIZE];
    for (int i = -1; i < n; i++) {
        glint_sandbox *sb = NULL;
        probe p;
        op_begin(&p, NULL);
        glint_status st = new_sandbox(&c->main.cfg, &sb, why, sizeof why);
        uint64_t ns = op_end(&p, sb, m);
        if (st != GLINT_OK) {
            result_note(r, true, "%s", why);
            return;
        }
        if (i >= 0) result_record(r, ns, m);
        if (i == n - 1) {
            /* Pages the initialisation wrote: restore it onto the base
             * snapshot (same guest and sizes) and read the count. */
            glint_counters cc;
            if (glint_sandbox_restore(sb, c->main.snap) == GLINT_OK) {
                glint_sandbox_counters(sb, &cc);
                r->has_touched = true;
                r->pages_touched = cc.last_restore_pages_reset;
            }
        }
        glint_sandbox_destroy(sb);
    }
}

/* -- create from snapshot -- */
static void sc_create_from_snapshot(bench_ctx *c) {
    const char *id = "create_from_snapshot";
    if (!wanted(id)) return;
    int n = iters(20);
    result *r = new_result(c, id, "create from snapshot", n);
    uint64_t m[M_COUNT];
    for (int i = -1; i < n; i++) {
        glint_sandbox *sb = NULL;
        glint_error err;
        probe p;
        op_begin(&p, NULL);
        glint_status st = glint_sandbox_create_from_snapshot(c->main.snap, NULL, &sb, &err);
        uint64_t ns = op_end(&p, sb, m);
        if (st != GLINT_OK) {
            result_note(r, true, "create_from_snapshot: %s", err.message);
            return;
        }
        if (i >= 0) result_record(r, ns, m);
        glint_sandbox_destroy(sb);
    }
    r->has_touched = true; /* no guest code runs */
    r->pages_touched = 0;
}

/* -- calls: empty, arguments, host callback -- */
static void run_calls(result *r, instance *in, sb_op op, void *arg, int n) {
    uint64_t m[M_COUNT];
    if (glint_sandbox_restore(in->sb, in->snap) != GLINT_OK) {
        result_note(r, true, "restore: %s", sb_error(in->sb));
        return;
    }
    for (int i = -5; i < n; i++) {
        probe p;
        op_begin(&p, in->sb);
        glint_status st = op(in->sb, arg);
        uint64_t ns = op_end(&p, in->sb, m);
        if (st != GLINT_OK) {
            result_note(r, true, "call: %s", sb_error(in->sb));
            return;
        }
        if (i >= 0) result_record(r, ns, m);
    }
    if (!measure_touched(r, in, op, arg)) result_note(r, true, "restore: %s", sb_error(in->sb));
}

static void sc_call_empty(bench_ctx *c) {
    if (!wanted("call_empty")) return;
    result *r = new_result(c, "call_empty", "empty call round trip", iters(50));
    run_calls(r, &c->main, op_nop, NULL, iters(50));
}

static void sc_call_args(bench_ctx *c, const char *id, const char *title, uint64_t size) {
    if (!wanted(id)) return;
    int n = iters(50);
    result *r = new_result(c, id, title, n);
    uint8_t *data = malloc(size);
    if (data == NULL) {
        result_note(r, true, "out of memory");
        return;
    }
    for (uint64_t i = 0; i < size; i++) data[i] = (uint8_t)(i * 31u + 7u);
    glint_value arg = glint_bytes(data, (uint32_t)size);
    /* The input buffer must hold the call: the smallest power of two >= 16
     * KiB with room for the arguments and the message header. */
    uint64_t input = 16 * KiB;
    while (input < size + 4 * KiB) input *= 2;
    instance own, *in = &c->main;
    char why[NOTE_SIZE];
    if (input > c->main.cfg.input_size) {
        if (!instance_open(&own, c->bc, input, why, sizeof why)) {
            result_note(r, true, "%s", why);
            free(data);
            return;
        }
        in = &own;
    }
    run_calls(r, in, op_take_bytes, &arg, n);
    if (!r->failed && in == &own)
        result_note(r, false, "input buffer %" PRIu64 " KiB", (uint64_t)(input / KiB));
    if (in == &own) instance_close(&own);
    free(data);
}

static void sc_callback(bench_ctx *c) {
    if (!wanted("call_host_callback")) return;
    result *r = new_result(c, "call_host_callback", "call with one host callback", iters(50));
    run_calls(r, &c->main, op_callback, NULL, iters(50));
}

/* -- snapshot -- */
static void sc_snapshot(bench_ctx *c) {
    const char *id = "snapshot";
    if (!wanted(id)) return;
    int n = iters(20);
    result *r = new_result(c, id, "snapshot (after one call)", n);
    instance *in = &c->main;
    uint64_t m[M_COUNT];
    for (int i = -1; i < n; i++) {
        if (op_nop(in->sb, NULL) != GLINT_OK) {
            result_note(r, true, "call: %s", sb_error(in->sb));
            break;
        }
        glint_snapshot *s = NULL;
        probe p;
        op_begin(&p, in->sb);
        glint_status st = glint_sandbox_snapshot(in->sb, &s);
        uint64_t ns = op_end(&p, in->sb, m);
        if (st != GLINT_OK) {
            result_note(r, true, "snapshot: %s", sb_error(in->sb));
            break;
        }
        if (i >= 0) result_record(r, ns, m);
        glint_snapshot_release(s); /* the sandbox keeps it while it runs on it */
    }
    if (glint_sandbox_restore(in->sb, in->snap) != GLINT_OK && !r->failed)
        result_note(r, true, "restore: %s", sb_error(in->sb));
}

/* -- restore after dirtying N pages -- */
/* Two rows: the restore itself, and the call that follows it (writing the N
 * pages again), which is where a copy-on-write restore's deferred cost - one
 * host page fault per page the guest touches again - shows up. */
static void sc_restore(bench_ctx *c, const char *id, const char *call_id, const char *title,
                       const char *call_title, uint32_t pages) {
    if (!wanted(id) && !wanted(call_id)) return;
    int n = iters(20);
    result *r = new_result(c, id, title, n);
    instance *in = &c->main;
    if (pages > c->dirty_capacity) {
        result_note(r, false, "n/a: the heap has room for %u pages", c->dirty_capacity);
        return;
    }
    result *rc = new_result(c, call_id, call_title, n);
    uint64_t m[M_COUNT];
    glint_value arg = glint_u32(pages), out;
    if (glint_sandbox_restore(in->sb, in->snap) != GLINT_OK) {
        result_note(r, true, "restore: %s", sb_error(in->sb));
        return;
    }
    for (int i = -1; i < n; i++) {
        probe p;
        op_begin(&p, in->sb);
        glint_status st = glint_sandbox_call(in->sb, "dirty_pages", GLINT_TYPE_U32, &arg, 1, &out);
        uint64_t ns = op_end(&p, in->sb, m);
        if (st != GLINT_OK || out.as.u32 != pages) {
            result_note(r, true, "dirty_pages(%u): %s", pages,
                        st != GLINT_OK ? sb_error(in->sb) : "wrote fewer pages");
            return;
        }
        if (i >= 0) result_record(rc, ns, m);
        op_begin(&p, in->sb);
        st = glint_sandbox_restore(in->sb, in->snap);
        ns = op_end(&p, in->sb, m);
        if (st != GLINT_OK) {
            result_note(r, true, "restore: %s", sb_error(in->sb));
            return;
        }
        if (i >= 0) result_record(r, ns, m);
    }
    r->has_touched = true; /* restore runs no guest code */
    r->pages_touched = 0;
    rc->has_touched = true; /* what the following restore reset */
    rc->pages_touched = r->max[M_PAGES_RESET];
    result_note(rc, false,
                "the call right after a restore; its pages are reset by the next restore");
}

/* -- map a file -- */
static void sc_map_file(bench_ctx *c) {
    const char *id = "map_file";
    if (!wanted(id)) return;
    int n = iters(20);
    result *r = new_result(c, id, "map a file (1 MiB, read-only)", n);
#ifdef GLINT_HAVE_FILE_MAPPINGS
    instance *in = &c->main;
    char path[] = "/tmp/glint-bench-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        result_note(r, true, "mkstemp: %s", strerror(errno));
        return;
    }
    static uint8_t chunk[64 * 1024];
    for (size_t i = 0; i < sizeof chunk; i++) chunk[i] = (uint8_t)i;
    bool ok = true;
    for (int i = 0; i < 16 && ok; i++) ok = write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk;
    close(fd);
    if (!ok) {
        result_note(r, true, "writing %s failed", path);
        unlink(path);
        return;
    }
    /* Far above the snapshot region and below the scratch region. */
    const uint64_t gpa = 16ull << 30;
    glint_mapping_options mo;
    memset(&mo, 0, sizeof mo);
    mo.mode = GLINT_MAP_READ_ONLY;
    mo.label = "bench";
    uint64_t m[M_COUNT];
    if (glint_sandbox_restore(in->sb, in->snap) != GLINT_OK) {
        result_note(r, true, "restore: %s", sb_error(in->sb));
        unlink(path);
        return;
    }
    for (int i = -1; i < n; i++) {
        probe p;
        op_begin(&p, in->sb);
        glint_status st = glint_sandbox_map_file(in->sb, gpa, path, &mo);
        uint64_t ns = op_end(&p, in->sb, m);
        if (st != GLINT_OK) {
            result_note(r, true, "map_file: %s", sb_error(in->sb));
            break;
        }
        if (i >= 0) result_record(r, ns, m);
        if (glint_sandbox_unmap(in->sb, gpa) != GLINT_OK) {
            result_note(r, true, "unmap: %s", sb_error(in->sb));
            break;
        }
    }
    unlink(path);
    if (glint_sandbox_restore(in->sb, in->snap) != GLINT_OK && !r->failed)
        result_note(r, true, "restore: %s", sb_error(in->sb));
#else
    (void)c;
    (void)n;
    result_note(r, false, "not available: this libglint has no glint_sandbox_map_file");
#endif
}

/* -- kill-to-return latency -- */
typedef struct killer {
    glint_sandbox *sb;
    atomic_bool go;
    uint64_t t_kill;
    bool hit;
} killer;

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static void *killer_main(void *arg) {
    killer *k = arg;
    while (!atomic_load(&k->go)) sleep_us(100);
    sleep_us(3000); /* let the guest spin */
    for (int tries = 0; tries < 5000; tries++) {
        uint64_t t = now_ns();
        if (glint_sandbox_kill(k->sb)) {
            k->t_kill = t;
            k->hit = true;
            return NULL;
        }
        sleep_us(1000);
    }
    return NULL;
}

/* Starts a killer, runs spin() until killed; returns the call's status. */
static glint_status kill_once(glint_sandbox *sb, probe *p, uint64_t *m, uint64_t *latency,
                              bool *hit) {
    killer k;
    memset(&k, 0, sizeof k);
    k.sb = sb;
    pthread_t t;
    if (pthread_create(&t, NULL, killer_main, &k) != 0) return GLINT_E_NO_MEMORY;
    if (p != NULL) op_begin(p, sb);
    atomic_store(&k.go, true);
    glint_status st = glint_sandbox_call(sb, "spin", GLINT_TYPE_VOID, NULL, 0, NULL);
    uint64_t t_ret = now_ns();
    if (p != NULL) op_end(p, sb, m);
    pthread_join(t, NULL);
    *hit = k.hit;
    *latency = k.hit && t_ret > k.t_kill ? t_ret - k.t_kill : 0;
    return st;
}

static glint_status op_kill(glint_sandbox *sb, void *arg) {
    (void)arg;
    uint64_t lat;
    bool hit;
    return kill_once(sb, NULL, NULL, &lat, &hit);
}

static void sc_kill(bench_ctx *c) {
    const char *id = "kill_latency";
    if (!wanted(id)) return;
    int n = iters(20);
    result *r = new_result(c, id, "kill-to-return latency (spinning guest)", n);
    instance *in = &c->main;
    uint64_t m[M_COUNT];
    for (int i = -1; i < n; i++) {
        if (glint_sandbox_restore(in->sb, in->snap) != GLINT_OK) {
            result_note(r, true, "restore: %s", sb_error(in->sb));
            return;
        }
        probe p;
        uint64_t latency;
        bool hit;
        glint_status st = kill_once(in->sb, &p, m, &latency, &hit);
        if (st != GLINT_E_CANCELLED || !hit) {
            result_note(r, true, "spin ended with %s (%s), kill %s", glint_status_name(st),
                        sb_error(in->sb), hit ? "hit" : "missed");
            return;
        }
        if (i >= 0) result_record(r, latency, m);
    }
    result_note(r, false,
                "time from glint_sandbox_kill() to the call returning; counts: the whole call");
    if (!measure_touched(r, in, op_kill, NULL))
        result_note(r, true, "restore: %s", sb_error(in->sb));
}

/* ==== Resident memory per extra sandbox ===================================== */

/* Process figures from /proc/self/status and /proc/self/smaps_rollup, and
 * kernel figures from /proc/meminfo (system-wide: approximate, since other
 * processes move them too; KVM's per-VM memory is kernel memory, outside any
 * RSS).  All in KiB. */
static const struct {
    const char *file;
    const char *field;
    const char *key; /* JSON */
} mem_fields[] = {
    {"/proc/self/status", "VmRSS", "vm_rss"},
    {"/proc/self/status", "RssAnon", "rss_anon"},
    {"/proc/self/status", "RssFile", "rss_file"},
    {"/proc/self/status", "RssShmem", "rss_shmem"},
    {"/proc/self/smaps_rollup", "Pss", "pss"},
    {"/proc/self/smaps_rollup", "Pss_Anon", "pss_anon"},
    {"/proc/self/smaps_rollup", "Pss_File", "pss_file"},
    {"/proc/self/smaps_rollup", "Pss_Shmem", "pss_shmem"},
    {"/proc/meminfo", "SUnreclaim", "kernel_slab_unreclaimable"},
    {"/proc/meminfo", "KernelStack", "kernel_stack"},
    {"/proc/meminfo", "PageTables", "kernel_page_tables"},
    {"/proc/meminfo", "SecPageTables", "kernel_secondary_page_tables"},
    {"/proc/meminfo", "VmallocUsed", "kernel_vmalloc"},
};
#define MEM_FIELDS ((int)(sizeof mem_fields / sizeof mem_fields[0]))

typedef struct memstat {
    long v[MEM_FIELDS];
    bool have[MEM_FIELDS];
} memstat;

static long field(const char *line, const char *name) {
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0 || line[n] != ':') return -1;
    return strtol(line + n + 1, NULL, 10);
}

static void read_memstat(memstat *ms) {
    memset(ms, 0, sizeof *ms);
    static const char *const files[] = {"/proc/self/status", "/proc/self/smaps_rollup",
                                        "/proc/meminfo"};
    char line[256];
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        FILE *f = fopen(files[fi], "r");
        if (f == NULL) continue;
        while (fgets(line, sizeof line, f)) {
            for (int i = 0; i < MEM_FIELDS; i++) {
                if (strcmp(mem_fields[i].file, files[fi]) != 0) continue;
                long v = field(line, mem_fields[i].field);
                if (v >= 0) {
                    ms->v[i] = v;
                    ms->have[i] = true;
                }
            }
        }
        fclose(f);
    }
}

typedef struct rss_result {
    bool ran;
    char note[NOTE_SIZE];
    int clones;
    bool have[MEM_FIELDS];
    double idle[MEM_FIELDS], called[MEM_FIELDS]; /* per sandbox, KiB */
} rss_result;

static void memstat_delta(const memstat *a, const memstat *b, int n, double *out, bool *have) {
    for (int i = 0; i < MEM_FIELDS; i++) {
        have[i] = a->have[i] && b->have[i];
        out[i] = have[i] ? (double)(b->v[i] - a->v[i]) / n : 0.0;
    }
}

static void measure_rss(bench_ctx *c, rss_result *rr) {
    memset(rr, 0, sizeof *rr);
    if (!wanted("rss")) return;
    int n = opt.clones;
    glint_sandbox **sbs = calloc((size_t)n, sizeof *sbs);
    if (sbs == NULL) return;
    memstat before, idle, called;
    read_memstat(&before);
    int made = 0;
    for (; made < n; made++) {
        glint_error err;
        if (glint_sandbox_create_from_snapshot(c->main.snap, NULL, &sbs[made], &err) != GLINT_OK) {
            snprintf(rr->note, sizeof rr->note, "clone %d: %.400s", made, err.message);
            break;
        }
    }
    if (made == n) {
        read_memstat(&idle);
        for (int i = 0; i < n; i++) {
            if (op_nop(sbs[i], NULL) != GLINT_OK) {
                snprintf(rr->note, sizeof rr->note, "call on clone %d: %.400s", i,
                         sb_error(sbs[i]));
                break;
            }
        }
        read_memstat(&called);
        if (rr->note[0] == '\0') {
            bool h2[MEM_FIELDS];
            rr->ran = true;
            rr->clones = n;
            memstat_delta(&before, &idle, n, rr->idle, rr->have);
            memstat_delta(&before, &called, n, rr->called, h2);
        }
    }
    for (int i = 0; i < made; i++) glint_sandbox_destroy(sbs[i]);
    free(sbs);
}

/* ==== Targets =============================================================== */

typedef struct target {
    const char *config;
    const char *scenario;
    const char *text; /* the target */
    bool met;
    char figure[200]; /* what was measured */
} target;

static target targets[64];
static int target_count;

static result *find(bench_ctx *c, const char *id) {
    for (int i = 0; i < c->result_count; i++)
        if (strcmp(c->results[i].id, id) == 0 && c->results[i].ran) return &c->results[i];
    return NULL;
}

static target *add_target(bench_ctx *c, const char *scenario, const char *text, bool met) {
    if (target_count == (int)(sizeof targets / sizeof targets[0])) return NULL;
    target *t = &targets[target_count++];
    memset(t, 0, sizeof *t);
    t->config = c->bc->name;
    t->scenario = scenario;
    t->text = text;
    t->met = met;
    return t;
}

static void check_targets(bench_ctx *c) {
    result *empty = find(c, "call_empty");
    if (empty != NULL) {
        bool met = empty->max[M_KVM_RUN] == 1 && empty->min[M_KVM_RUN] == 1 &&
                   empty->max[M_EXITS] == 1 && empty->min[M_EXITS] == 1;
        target *t = add_target(c, "call_empty", "an empty call is one KVM_RUN and one exit", met);
        if (t)
            snprintf(t->figure, sizeof t->figure, "%.2f KVM_RUN, %.2f exits",
                     mean(empty, M_KVM_RUN), mean(empty, M_EXITS));
        if (!met) {
            empty->flag[M_KVM_RUN] = "NOT MET (target 1)";
            empty->flag[M_EXITS] = "NOT MET (target 1)";
        }
    }
    result *cb = find(c, "call_host_callback");
    if (empty != NULL && cb != NULL) {
        double dx = mean(cb, M_EXITS) - mean(empty, M_EXITS);
        double dio = mean(cb, M_IOCTLS_OTHER) - mean(empty, M_IOCTLS_OTHER);
        double drun = mean(cb, M_KVM_RUN) - mean(empty, M_KVM_RUN);
        bool met = constant(cb, M_EXITS) && constant(cb, M_IOCTLS_OTHER) && dx == 1.0 &&
                   dio == 0.0 && drun == 1.0;
        target *t = add_target(c, "call_host_callback",
                               "each host callback adds one exit and no other ioctl "
                               "(only the KVM_RUN that resumes the guest)",
                               met);
        if (t)
            snprintf(t->figure, sizeof t->figure,
                     "vs. empty call: %+.2f exits, %+.2f KVM_RUN, %+.2f other ioctls", dx, drun,
                     dio);
        if (!met) {
            if (dx != 1.0) cb->flag[M_EXITS] = "NOT MET (target: empty call + 1)";
            if (dio != 0.0 || drun != 1.0)
                cb->flag[M_IOCTLS_OTHER] = "NOT MET (target: no other ioctl)";
        }
    }
    static const char *const no_alloc[] = {"call_empty",
                                           "call_args_1k",
                                           "call_args_64k",
                                           "call_args_1m",
                                           "call_host_callback",
                                           "restore_dirty_1",
                                           "restore_dirty_16",
                                           "restore_dirty_256",
                                           "restore_dirty_4096",
                                           "after_restore_dirty_1",
                                           "after_restore_dirty_16",
                                           "after_restore_dirty_256",
                                           "after_restore_dirty_4096"};
    for (size_t i = 0; i < sizeof no_alloc / sizeof no_alloc[0]; i++) {
        result *r = find(c, no_alloc[i]);
        if (r == NULL) continue;
        bool met = r->max[M_ALLOCS_LIB] == 0 && r->max[M_ALLOCS_SEEN] == 0;
        target *t = add_target(
            c, no_alloc[i], "no host heap allocation on the call, callback or restore path", met);
        if (t)
            snprintf(t->figure, sizeof t->figure,
                     "%.2f counted by the library, %.2f seen by the interposer",
                     mean(r, M_ALLOCS_LIB), mean(r, M_ALLOCS_SEEN));
        if (!met) r->flag[M_ALLOCS_LIB] = "NOT MET (target 0)";
    }
    for (int i = 0; i < c->result_count; i++) {
        result *r = &c->results[i];
        if (!r->ran || strncmp(r->id, "restore_dirty_", 14) != 0) continue;
        bool met = r->max[M_RESTORE_EXTRA] <= 2;
        target *t = add_target(c, r->id,
                               "restore issues at most two syscalls besides register setting", met);
        if (t) {
            int len = snprintf(t->figure, sizeof t->figure, "%.2f:", mean(r, M_RESTORE_EXTRA));
            for (int k = 0; k < BW_IOCTL_KINDS; k++) {
                if (bench_ioctl_is_register_set(k) || r->max[M_IOCTL_BASE + k] == 0) continue;
                len += snprintf(t->figure + len, sizeof t->figure - (size_t)len, " %s %.2f",
                                bench_ioctl_name(k), mean(r, M_IOCTL_BASE + k));
                if (len >= (int)sizeof t->figure) break;
            }
            for (int k = 0; k < BW_SYS_KINDS && len < (int)sizeof t->figure; k++) {
                if (r->max[M_SYS_BASE + k] == 0) continue;
                len += snprintf(t->figure + len, sizeof t->figure - (size_t)len, " %s %.2f",
                                bench_sys_name(k), mean(r, M_SYS_BASE + k));
            }
        }
        if (!met) r->flag[M_RESTORE_EXTRA] = "NOT MET (target <= 2)";
        bool copy_met = r->max[M_COPIED_GUEST] == 0 && r->max[M_LIB_RESTORE_BYTES] == 0;
        t = add_target(c, r->id, "restore copies no guest memory in user space", copy_met);
        if (t)
            snprintf(t->figure, sizeof t->figure,
                     "%.0f bytes seen, %.0f bytes by the library's count", mean(r, M_COPIED_GUEST),
                     mean(r, M_LIB_RESTORE_BYTES));
        if (!copy_met) r->flag[M_COPIED_GUEST] = "NOT MET (target 0)";
    }
}

/* ==== Host description ====================================================== */

typedef struct host_info {
    bool hypervisor; /* CPUID.1:ECX[31] */
    char hv_signature[13];
    char hv_name[64];
    char dmi[160];
    char cpu[160];
    char kernel[160];
    bool in_harness;
    glint_hypervisor_kind kvm_kind;
    char kvm_line[400];
} host_info;

static void read_line(const char *path, char *out, size_t size) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    if (fgets(out, (int)size, f) == NULL) out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

static void detect_host(host_info *h) {
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
                                   "emulated, exits ~0.1 ms)"
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

static void fmt_time(uint64_t ns, char *out, size_t size) {
    if (ns < 10000)
        snprintf(out, size, "%" PRIu64 " ns", ns);
    else if (ns < 10000000)
        snprintf(out, size, "%.1f us", (double)ns / 1e3);
    else if (ns < 10000000000ull)
        snprintf(out, size, "%.2f ms", (double)ns / 1e6);
    else
        snprintf(out, size, "%.2f s", (double)ns / 1e9);
}

static int fmt_num(double v, char *out, size_t size) {
    if (v == floor(v)) return snprintf(out, size, "%.0f", v);
    return snprintf(out, size, "%.2f", v);
}

/* "3", or "2.5 (2-3)" when it varied between iterations; flag appended. */
static void fmt_metric(const result *r, int m, char *out, size_t size) {
    int len = fmt_num(mean(r, m), out, size);
    if (!constant(r, m) && len < (int)size)
        len += snprintf(out + len, size - (size_t)len, " (%" PRIu64 "-%" PRIu64 ")", r->min[m],
                        r->max[m]);
    if (r->flag[m] && len < (int)size) snprintf(out + len, size - (size_t)len, " %s", r->flag[m]);
}

static void fmt_bytes(double v, char *out, size_t size) {
    if (v >= 10.0 * MiB)
        snprintf(out, size, "%.1f MiB", v / MiB);
    else if (v >= 10.0 * KiB)
        snprintf(out, size, "%.1f KiB", v / KiB);
    else
        snprintf(out, size, "%.0f B", v);
}

#define NCOL 14
#define CELL 160

static void print_table(char (*cells)[NCOL][CELL], int rows, int cols) {
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

static void breakdown(const result *r, int base, int kinds, const char *(*name)(int), bool skip_run,
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

static void print_config(bench_ctx *c, const rss_result *rr) {
    printf("\n## %s: %s\n\n", c->bc->name, c->bc->title);
    static char cells[40][NCOL][CELL];
    const char *head[NCOL] = {"scenario",
                              "n",
                              "median",
                              "p99",
                              "KVM_RUN",
                              "exits",
                              "other ioctls",
                              "mmap/munmap/madvise/mprotect",
                              "other syscalls",
                              "minor faults",
                              "guest pages touched",
                              "pages reset",
                              "bytes copied (guest mem)",
                              "host allocs (library / seen)"};
    for (int i = 0; i < NCOL; i++) snprintf(cells[0][i], CELL, "%s", head[i]);
    int rows = 1;
    for (int i = 0; i < c->result_count && rows < 40; i++, rows++) {
        result *r = &c->results[i];
        char(*row)[CELL] = cells[rows];
        for (int k = 0; k < NCOL; k++) row[k][0] = '\0';
        snprintf(row[0], CELL, "%s", r->id);
        if (!r->ran) {
            snprintf(row[1], CELL, "-");
            snprintf(row[2], CELL, "%s%s", r->failed ? "FAILED: " : "", r->note);
            continue;
        }
        uint64_t med, p99, lo, hi;
        percentiles(r, &med, &p99, &lo, &hi);
        snprintf(row[1], CELL, "%d", r->n);
        fmt_time(med, row[2], CELL);
        fmt_time(p99, row[3], CELL);
        fmt_metric(r, M_KVM_RUN, row[4], CELL);
        fmt_metric(r, M_EXITS, row[5], CELL);
        if (r->max[M_EXITS] != 0) {
            static const struct {
                int m;
                const char *n;
            } kinds[] = {{M_EXIT_IO, "io"},
                         {M_EXIT_MMIO, "mmio"},
                         {M_EXIT_HLT, "hlt"},
                         {M_EXIT_INTR, "intr"},
                         {M_EXIT_OTHER, "other"}};
            size_t len = strlen(row[5]);
            len += (size_t)snprintf(row[5] + len, CELL - len, " (");
            bool first = true;
            for (size_t k = 0; k < 5 && len < CELL; k++) {
                if (r->max[kinds[k].m] == 0) continue;
                char v[32];
                fmt_num(mean(r, kinds[k].m), v, sizeof v);
                len += (size_t)snprintf(row[5] + len, CELL - len, "%s%s %s", first ? "" : ", ",
                                        kinds[k].n, v);
                first = false;
            }
            if (len < CELL) snprintf(row[5] + len, CELL - len, ")");
        }
        fmt_metric(r, M_IOCTLS_OTHER, row[6], CELL);
        if (strncmp(r->id, "restore_dirty_", 14) == 0) {
            size_t len = strlen(row[6]);
            char v[96];
            fmt_metric(r, M_RESTORE_EXTRA, v, sizeof v);
            snprintf(row[6] + len, CELL - len, "; besides registers: %s", v);
        }
        fmt_metric(r, M_SYS_MM, row[7], CELL);
        fmt_metric(r, M_SYS_OTHER, row[8], CELL);
        fmt_metric(r, M_MINFLT, row[9], CELL);
        if (r->has_touched)
            snprintf(row[10], CELL, "%" PRIu64, r->pages_touched);
        else
            snprintf(row[10], CELL, "-");
        if (strncmp(r->id, "restore_dirty_", 14) == 0)
            fmt_metric(r, M_PAGES_RESET, row[11], CELL);
        else
            snprintf(row[11], CELL, "-");
        fmt_bytes(mean(r, M_COPIED_GUEST), row[12], CELL);
        if (r->flag[M_COPIED_GUEST]) {
            size_t len = strlen(row[12]);
            snprintf(row[12] + len, CELL - len, " %s", r->flag[M_COPIED_GUEST]);
        }
        char a[64], b[64];
        fmt_metric(r, M_ALLOCS_LIB, a, sizeof a);
        fmt_metric(r, M_ALLOCS_SEEN, b, sizeof b);
        snprintf(row[13], CELL, "%s / %s", a, b);
    }
    print_table(cells, rows, NCOL);

    printf("\nPer operation, by kind (means):\n\n");
    for (int i = 0; i < c->result_count; i++) {
        result *r = &c->results[i];
        if (!r->ran) continue;
        char io[600], sys[600];
        breakdown(r, M_IOCTL_BASE, BW_IOCTL_KINDS, bench_ioctl_name, false, io, sizeof io);
        breakdown(r, M_SYS_BASE, BW_SYS_KINDS, bench_sys_name, false, sys, sizeof sys);
        char all[32];
        fmt_bytes(mean(r, M_COPIED_ALL), all, sizeof all);
        printf("- %s: ioctls: %s; syscalls: %s; memcpy/memmove: %s%s%s\n", r->id, io, sys, all,
               r->note[0] ? "; note: " : "", r->note);
    }

    printf("\nLibrary counters vs. outside counts (per operation, where they differ):\n\n");
    int diffs = 0;
    for (int i = 0; i < c->result_count; i++) {
        result *r = &c->results[i];
        if (!r->ran) continue;
        /* The library's syscalls_other covers mmap/munmap/madvise/mprotect and
         * the deadline timer's syscalls (glint.h). */
        double lib_sys = mean(r, M_LIB_SYSCALLS),
               seen_sys = mean(r, M_SYS_MM) + mean(r, M_SYS_BASE + BW_TIMER_CREATE) +
                          mean(r, M_SYS_BASE + BW_TIMER_SETTIME) +
                          mean(r, M_SYS_BASE + BW_TIMER_DELETE);
        struct {
            const char *what;
            double lib, seen;
        } pairs[] = {
            {"KVM_RUN (vm_runs)", mean(r, M_LIB_VM_RUNS), mean(r, M_KVM_RUN)},
            {"other ioctls (ioctls_other)", mean(r, M_LIB_IOCTLS), mean(r, M_IOCTLS_OTHER)},
            {"mmap/munmap/madvise/mprotect/timer syscalls (syscalls_other)", lib_sys, seen_sys},
            {"allocations (host_allocations)", mean(r, M_ALLOCS_LIB), mean(r, M_ALLOCS_SEEN)},
        };
        for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
            if (pairs[k].lib == pairs[k].seen) continue;
            char l[32], s[32];
            fmt_num(pairs[k].lib, l, sizeof l);
            fmt_num(pairs[k].seen, s, sizeof s);
            printf("- %s: %s: library %s, seen %s\n", r->id, pairs[k].what, l, s);
            diffs++;
        }
    }
    if (diffs == 0) printf("- none\n");

    printf("\nMemory per extra sandbox from one snapshot (KiB per sandbox):\n\n");
    if (rr->ran) {
        for (int pass = 0; pass < 2; pass++) {
            const double *v = pass ? rr->called : rr->idle;
            printf("- %d clones, %s: process: VmRSS %+.1f (anon %+.1f, file %+.1f, shmem %+.1f), "
                   "PSS %+.1f (anon %+.1f, shmem %+.1f); kernel, system-wide:",
                   rr->clones, pass ? "after one empty call each" : "just created", v[0], v[1],
                   v[2], v[3], v[4], v[5], v[7]);
            for (int i = 8; i < MEM_FIELDS; i++)
                if (rr->have[i]) printf(" %s %+.1f", mem_fields[i].field, v[i]);
            printf("\n");
        }
    } else {
        printf("- not measured%s%s\n", rr->note[0] ? ": " : "", rr->note);
    }
}

/* One line per (configuration, target): the scenarios that meet it together,
 * every miss on its own line with its figure. */
static void print_targets(void) {
    printf("\n## Targets\n\n");
    bool done[64] = {false};
    for (int i = 0; i < target_count; i++) {
        if (done[i]) continue;
        target *t = &targets[i];
        char met_list[600] = "";
        int len = 0;
        const char *met_figure = NULL;
        for (int j = i; j < target_count; j++) {
            target *u = &targets[j];
            if (strcmp(u->config, t->config) != 0 || strcmp(u->text, t->text) != 0) continue;
            if (!u->met) continue;
            done[j] = true;
            if (met_figure == NULL) met_figure = u->figure;
            if (len < (int)sizeof met_list)
                len += snprintf(met_list + len, sizeof met_list - (size_t)len, "%s%s",
                                len ? ", " : "", u->scenario);
        }
        if (met_figure != NULL)
            printf("- [met] %s: %s - %s (e.g. %s)\n", t->config, t->text, met_list, met_figure);
        for (int j = i; j < target_count; j++) {
            target *u = &targets[j];
            if (done[j] || strcmp(u->config, t->config) != 0 || strcmp(u->text, t->text) != 0)
                continue;
            done[j] = true;
            printf("- [NOT MET] %s: %s - %s: %s\n", u->config, u->text, u->scenario, u->figure);
        }
    }
}

/* ==== Output: JSON =========================================================== */

static void json_str(FILE *f, const char *s) {
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

static void json_result(FILE *f, const result *r) {
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
            if (restore_only && strncmp(r->id, "restore_", 8) != 0) continue;
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

static void json_memstat(FILE *f, const double *v, const bool *have) {
    fputc('{', f);
    bool first = true;
    for (int i = 0; i < MEM_FIELDS; i++) {
        if (!have[i]) continue;
        fprintf(f, "%s\"%s\":%.1f", first ? "" : ",", mem_fields[i].key, v[i]);
        first = false;
    }
    fputc('}', f);
}

static bool write_json(const char *path, const host_info *h, bench_ctx *ctxs, const rss_result *rss,
                       int nctx) {
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "glint_bench: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    fprintf(f, "{\"format\":\"glint-bench-1\",\"host\":{\"kvm\":\"%s\",\"hypervisor\":",
            h->hypervisor ? "nested" : "native");
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
    fprintf(f, "},\"quick\":%s,\"iterations\":%d,\"configs\":[", opt.iterations ? "false" : "true",
            opt.iterations);
    for (int i = 0; i < nctx; i++) {
        bench_ctx *c = &ctxs[i];
        fprintf(f, "%s{\"name\":", i ? "," : "");
        json_str(f, c->bc->name);
        fprintf(f, ",\"title\":");
        json_str(f, c->bc->title);
        fprintf(f,
                ",\"heap_size\":%" PRIu64 ",\"input_size\":%" PRIu64 ",\"output_size\":%" PRIu64
                ",\"dirty_capacity_pages\":%u,\"scenarios\":[",
                c->main.cfg.heap_size, c->main.cfg.input_size, c->main.cfg.output_size,
                c->dirty_capacity);
        for (int j = 0; j < c->result_count; j++) {
            if (j) fputc(',', f);
            json_result(f, &c->results[j]);
        }
        fprintf(f, "],\"memory_per_extra_sandbox_kib\":");
        if (rss[i].ran) {
            fprintf(f, "{\"clones\":%d,\"idle\":", rss[i].clones);
            json_memstat(f, rss[i].idle, rss[i].have);
            fprintf(f, ",\"after_one_call\":");
            json_memstat(f, rss[i].called, rss[i].have);
            fprintf(f, "}");
        } else {
            fprintf(f, "null");
        }
        fprintf(f, "}");
    }
    fprintf(f, "],\"targets\":[");
    for (int i = 0; i < target_count; i++) {
        target *t = &targets[i];
        fprintf(f, "%s{\"config\":", i ? "," : "");
        json_str(f, t->config);
        fprintf(f, ",\"scenario\":");
        json_str(f, t->scenario);
        fprintf(f, ",\"target\":");
        json_str(f, t->text);
        fprintf(f, ",\"met\":%s,\"measured\":", t->met ? "true" : "false");
        json_str(f, t->figure);
        fprintf(f, "}");
    }
    fprintf(f, "]}\n");
    bool ok = fclose(f) == 0;
    if (!ok) fprintf(stderr, "glint_bench: writing %s failed\n", path);
    return ok;
}

/* ==== Main ==================================================================== */

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: glint_bench [--quick | --iterations N] [--json PATH] [--config "
        "default|heap64m|all]\n"
        "                   [--scenario PREFIX]... [--clones N] [--guest PATH]\n"
        "  --quick          few iterations per scenario (default; for emulated KVM)\n"
        "  --iterations N   N timed iterations of every scenario (real hardware: 1000)\n"
        "  --json PATH      also write the results as JSON to PATH\n"
        "  --config NAME    only this configuration (default: all)\n"
        "  --scenario P     only scenarios whose id starts with P (repeatable; 'rss' for memory)\n"
        "  --clones N       sandboxes for the resident-memory measurement (default 16)\n"
        "  --guest PATH     the bench guest (default %s)\n",
        GLINT_BENCH_GUEST);
}

static bool parse_args(int argc, char **argv) {
    opt.configs[0] = opt.configs[1] = true;
    opt.clones = 16;
    opt.guest = GLINT_BENCH_GUEST;
    static char guest_buf[4096];
    const char *dir = getenv("GLINT_GUEST_DIR");
    if (dir != NULL && dir[0] != '\0') {
        snprintf(guest_buf, sizeof guest_buf, "%s/bench_guest.elf", dir);
        opt.guest = guest_buf;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            opt.iterations = 0;
        } else if (strcmp(a, "--iterations") == 0 && v) {
            opt.iterations = atoi(v);
            i++;
            if (opt.iterations < 1 || opt.iterations > MAX_SAMPLES) return false;
        } else if (strcmp(a, "--json") == 0 && v) {
            opt.json = v;
            i++;
        } else if (strcmp(a, "--guest") == 0 && v) {
            opt.guest = v;
            i++;
        } else if (strcmp(a, "--clones") == 0 && v) {
            opt.clones = atoi(v);
            i++;
            if (opt.clones < 1 || opt.clones > 4096) return false;
        } else if (strcmp(a, "--config") == 0 && v) {
            i++;
            opt.configs[0] = strcmp(v, "default") == 0 || strcmp(v, "all") == 0;
            opt.configs[1] = strcmp(v, "heap64m") == 0 || strcmp(v, "all") == 0;
            if (!opt.configs[0] && !opt.configs[1]) return false;
        } else if (strcmp(a, "--scenario") == 0 && v) {
            i++;
            if (opt.only_count == (int)(sizeof opt.only / sizeof opt.only[0])) return false;
            opt.only[opt.only_count++] = v;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else {
            return false;
        }
    }
    return true;
}

static void run_config(bench_ctx *c, rss_result *rr) {
    char why[NOTE_SIZE];
    if (!instance_open(&c->main, c->bc, 0, why, sizeof why)) {
        result *r = new_result(c, "setup", "base sandbox and snapshot", 1);
        result_note(r, true, "%s", why);
        return;
    }
    glint_value out;
    if (glint_sandbox_call(c->main.sb, "dirty_capacity", GLINT_TYPE_U32, NULL, 0, &out) == GLINT_OK)
        c->dirty_capacity = out.as.u32;
    sc_create_cold(c);
    sc_create_from_snapshot(c);
    sc_call_empty(c);
    sc_call_args(c, "call_args_1k", "call with 1 KiB of arguments", 1 * KiB);
    sc_call_args(c, "call_args_64k", "call with 64 KiB of arguments", 64 * KiB);
    sc_call_args(c, "call_args_1m", "call with 1 MiB of arguments", 1 * MiB);
    sc_callback(c);
    sc_snapshot(c);
    sc_restore(c, "restore_dirty_1", "after_restore_dirty_1", "restore after dirtying 1 page",
               "first call after restore, writing 1 page", 1);
    sc_restore(c, "restore_dirty_16", "after_restore_dirty_16", "restore after dirtying 16 pages",
               "first call after restore, writing 16 pages", 16);
    sc_restore(c, "restore_dirty_256", "after_restore_dirty_256",
               "restore after dirtying 256 pages", "first call after restore, writing 256 pages",
               256);
    sc_restore(c, "restore_dirty_4096", "after_restore_dirty_4096",
               "restore after dirtying 4096 pages", "first call after restore, writing 4096 pages",
               4096);
    sc_map_file(c);
    sc_kill(c);
    measure_rss(c, rr);
    check_targets(c);
}

int main(int argc, char **argv) {
    if (!parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    host_info h;
    detect_host(&h);
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr,
                "glint_bench: /dev/kvm is not usable here (%s); run bench/run.sh, which uses the "
                "QEMU KVM harness when needed\n",
                strerror(errno));
        return 2;
    }
    close(fd);
    if (access(opt.guest, R_OK) != 0) {
        fprintf(stderr, "glint_bench: guest %s: %s (build the bench_guest target)\n", opt.guest,
                strerror(errno));
        return 2;
    }

    printf("# Glint benchmarks on %s KVM%s\n\n", glint_hypervisor_kind_name(h.kvm_kind),
           h.in_harness ? " (QEMU harness)" : "");
    printf("**%s**\n\n", h.kvm_line);
    printf("host: %s; CPU: %s; %s; %s\n", h.kernel, h.cpu[0] ? h.cpu : "?",
           h.dmi[0] ? h.dmi : "no DMI", opt.iterations ? "fixed iterations" : "quick mode");
    printf("Counts are per operation (mean; \"a (lo-hi)\" when they varied). Times: median and p99 "
           "(nearest rank; with n < 100 the p99 is the maximum).\n");

    static bench_ctx ctxs[2];
    static rss_result rss[2];
    int nctx = 0;
    bool failed = false;
    for (int i = 0; i < 2; i++) {
        if (!opt.configs[i]) continue;
        bench_ctx *c = &ctxs[nctx];
        memset(c, 0, sizeof *c);
        c->bc = &configs[i];
        run_config(c, &rss[nctx]);
        print_config(c, &rss[nctx]);
        for (int j = 0; j < c->result_count; j++) failed |= c->results[j].failed;
        nctx++;
    }
    print_targets();
    printf("\n**%s**\n", h.kvm_line);
    if (opt.json != NULL) {
        if (!write_json(opt.json, &h, ctxs, rss, nctx))
            failed = true;
        else
            printf("JSON: %s\n", opt.json);
    }
    for (int i = 0; i < nctx; i++) {
        instance_close(&ctxs[i].main);
        for (int j = 0; j < ctxs[i].result_count; j++) free(ctxs[i].results[j].ns);
    }
    return failed ? 1 : 0;
}
