/*
 * glint_bench - the Glint benchmark suite (docs/benchmarks.md).
 *
 *   glint_bench [--suite glint] [--quick | --iterations N] [--json PATH]
 *               [--config default|heap64m|all] [--scenario NAME]... [--clones N] [--guest PATH]
 *   glint_bench --suite hyperlight [...]   Hyperlight's scenarios: bench_hyperlight.c
 *
 * Scenarios (each at the default sizes and with a 64 MiB heap): create +
 * initialise (cold), create from a snapshot, the empty call, calls with 1 KiB,
 * 64 KiB and 1 MiB of arguments, a call making one host callback, a call
 * whose host callback makes one nested guest call, snapshot,
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
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

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

/* A host callback that calls back into its sandbox: one nested call. */
static glint_status host_nest(glint_host_call *call, void *user, const glint_value *args,
                              uint32_t argc, glint_value *ret) {
    (void)user;
    (void)args;
    (void)argc;
    ret->as.i32 = 0;
    return glint_sandbox_call(glint_host_call_sandbox(call), "nop", GLINT_TYPE_VOID, NULL, 0, NULL);
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
    if (st == GLINT_OK)
        st = glint_sandbox_register_host_function(*out, "host_nest", GLINT_TYPE_I32, NULL, 0,
                                                  host_nest, NULL);
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

static glint_status op_nested(glint_sandbox *sb, void *arg) {
    (void)arg;
    glint_value out;
    return glint_sandbox_call(sb, "call_nested", GLINT_TYPE_I32, NULL, 0, &out);
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

static void sc_nested(bench_ctx *c) {
    if (!wanted("call_nested")) return;
    result *r =
        new_result(c, "call_nested", "call whose host callback makes one nested call", iters(50));
    run_calls(r, &c->main, op_nested, NULL, iters(50));
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
    result *nested = find(c, "call_nested");
    if (cb != NULL && nested != NULL) {
        double dx = mean(nested, M_EXITS) - mean(cb, M_EXITS);
        double drun = mean(nested, M_KVM_RUN) - mean(cb, M_KVM_RUN);
        double dio = mean(nested, M_IOCTLS_OTHER) - mean(cb, M_IOCTLS_OTHER);
        bool met = constant(nested, M_EXITS) && dx == 1.0 && drun == 1.0 && dio == 0.0;
        target *t = add_target(c, "call_nested",
                               "a nested call (host callback -> guest) adds one KVM_RUN and one "
                               "exit to the host callback, no other ioctl",
                               met);
        if (t)
            snprintf(t->figure, sizeof t->figure,
                     "per nested call: %+.2f KVM_RUN, %+.2f exits, %+.2f other ioctls", drun, dx,
                     dio);
        if (!met) nested->flag[M_EXITS] = "NOT MET (target: host callback + 1)";
    }
    static const char *const no_alloc[] = {"call_empty",
                                           "call_nested",
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
        if (!bench_row_common(r, row)) continue;
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
        /* The library's syscalls_other covers mmap/munmap/madvise/mprotect,
         * the deadline timer's syscalls and getrandom (glint.h). */
        double lib_sys = mean(r, M_LIB_SYSCALLS),
               seen_sys = mean(r, M_SYS_MM) + mean(r, M_SYS_BASE + BW_TIMER_CREATE) +
                          mean(r, M_SYS_BASE + BW_TIMER_SETTIME) +
                          mean(r, M_SYS_BASE + BW_TIMER_DELETE) +
                          mean(r, M_SYS_BASE + BW_GETRANDOM);
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
    fprintf(f, "{\"format\":\"glint-bench-1\",\"suite\":\"glint\",\"host\":");
    json_host(f, h);
    fprintf(f, ",\"quick\":%s,\"iterations\":%d,\"configs\":[", opt.iterations ? "false" : "true",
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
        "usage: glint_bench [--suite glint|hyperlight] [--quick | --iterations N] [--json PATH]\n"
        "                   [--config default|heap64m|all] [--scenario PREFIX]... [--clones N]\n"
        "                   [--guest PATH]\n"
        "  --suite S        glint: Glint's own scenarios (default); hyperlight: Hyperlight 0.14's\n"
        "                   benchmark scenarios and sizes (see glint_bench --suite hyperlight -h)\n"
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
        } else if (strcmp(a, "--suite") == 0 && v) {
            i++; /* "glint": main() dispatched any other */
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
    sc_nested(c);
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
    /* --suite picks the scenario set; each suite parses the rest itself. */
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--suite") != 0) continue;
        if (strcmp(argv[i + 1], "hyperlight") == 0) return bench_hyperlight_main(argc, argv);
        if (strcmp(argv[i + 1], "glint") != 0) {
            usage(stderr);
            return 2;
        }
    }
    if (!parse_args(argc, argv)) {
        usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    host_info h;
    detect_host(&h);
    if (!bench_prerequisites(opt.guest)) return 2;

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
