/*
 * bench.h - what the two benchmark suites of glint_bench share
 * (bench_common.c): per-operation metrics, scenario results, the probe that
 * measures one operation (wall time, library counters, the --wrap
 * interposers' counts, minor faults), the description of the host and its
 * KVM, and the table and JSON primitives.
 *
 *   glint_bench.c       Glint's own suite (--suite glint, the default)
 *   bench_hyperlight.c  Hyperlight 0.14's scenarios and sizes (--suite hyperlight)
 */
#ifndef GLINT_BENCH_H
#define GLINT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* ==== Scenario results ==================================================== */

#define MAX_SAMPLES 100000
#define NOTE_SIZE 640

typedef struct result {
    const char *id;
    const char *title;
    bool ran;             /* measured */
    bool failed;          /* an error stopped it (note says why) */
    bool restore_metrics; /* a restore: JSON carries the restore-only metrics */
    char note[NOTE_SIZE]; /* why not available / failed, or a remark */
    uint64_t *ns;         /* wall time samples */
    int n;
    double sum[M_COUNT];
    uint64_t min[M_COUNT], max[M_COUNT];
    bool has_touched;
    uint64_t pages_touched;    /* guest pages written by one operation */
    const char *flag[M_COUNT]; /* "NOT MET: ..." next to a figure */
} result;

void result_init(result *r, const char *id, const char *title, int capacity);
void result_record(result *r, uint64_t ns, const uint64_t *m);
void result_note(result *r, bool failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
double mean(const result *r, int m);
bool constant(const result *r, int m);
/* Median, p99 (nearest rank: with fewer than 100 samples it is the maximum). */
void percentiles(const result *r, uint64_t *median, uint64_t *p99, uint64_t *lo, uint64_t *hi);

/* ==== Measuring one operation ============================================== */

uint64_t now_ns(void);
void sleep_us(long us);

typedef struct probe {
    glint_counters lib0;
    uint64_t flt0;
    uint64_t t0;
} probe;

/* sb: the sandbox whose counters the operation changes, NULL when it makes a
 * new one (whose counters start at zero). */
void op_begin(probe *p, const glint_sandbox *sb);
/* Returns the wall time; fills m[M_COUNT] from sb's counters (may be NULL
 * when the operation's sandbox is gone). */
uint64_t op_end(probe *p, const glint_sandbox *sb, uint64_t *m);
/* The same for an operation that destroyed its sandbox: last holds the
 * counters read just before the destroy (inside the timed window). */
uint64_t op_end_last(probe *p, const glint_counters *last, uint64_t *m);

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
    char kvm_line[512];
} host_info;

void detect_host(host_info *h);
/* /dev/kvm opens and the guest is readable; otherwise says why on stderr. */
bool bench_prerequisites(const char *guest);

/* ==== Output ================================================================= */

void fmt_time(uint64_t ns, char *out, size_t size);
int fmt_num(double v, char *out, size_t size);
/* "3", or "2.5 (2-3)" when it varied between iterations; flag appended. */
void fmt_metric(const result *r, int m, char *out, size_t size);
void fmt_bytes(double v, char *out, size_t size);

#define NCOL 14
#define CELL 160
/* A Markdown table; row 0 is the header. */
void print_table(char (*cells)[NCOL][CELL], int rows, int cols);
/* The columns every suite's table starts with: id, n, median, p99,
 * KVM_RUN, exits, other ioctls.  Clears the row first.  For a scenario that
 * did not run, fills id, "-" and its note, and returns false. */
bool bench_row_common(const result *r, char (*row)[CELL]);
/* "KVM_RUN 1, KVM_SET_REGS 1" from the per-kind metrics base..base+kinds. */
void breakdown(const result *r, int base, int kinds, const char *(*name)(int), bool skip_run,
               char *out, size_t size);

void json_str(FILE *f, const char *s);
/* "host":{...} without the key. */
void json_host(FILE *f, const host_info *h);
void json_result(FILE *f, const result *r);

/* The Hyperlight suite (bench_hyperlight.c): glint_bench --suite hyperlight. */
int bench_hyperlight_main(int argc, char **argv);

#endif
