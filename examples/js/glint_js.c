/*
 * glint-js - evaluate JavaScript in Glint sandboxes (docs/javascript.md).
 *
 *   glint-js [options] EXPR [EXPR...]
 *   glint-js [options] --bench N EXPR [EXPR...]
 *
 * Creates a sandbox from js_guest.elf (Duktape), lets it initialise the
 * engine, takes a snapshot, and evaluates each expression in a sandbox
 * restored to that snapshot, so every evaluation starts from the same clean,
 * ready engine.  --bench measures evaluations per second with a restore
 * between them (and, for comparison, with a fresh clone per evaluation and
 * with no reset at all), with per-evaluation counters.
 *
 * Host functions offered to the JavaScript code:
 *   host_print(string) -> void     behind host.print / print / console.log
 *   now(string) -> string          host.call('now'): the host's clock, ms since the epoch
 *   add(f64, f64) -> f64           host.callTyped('add', 'f64(f64,f64)', a, b)
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glint/glint.h"

#ifndef GLINT_JS_GUEST_ELF
#define GLINT_JS_GUEST_ELF "js_guest.elf"
#endif

#define MIB (1024ull * 1024ull)

typedef struct options {
    const char *guest;
    uint64_t heap_mb;
    uint64_t stack_kb;
    uint64_t deadline_ms;
    uint64_t bench;
    unsigned bench_modes; /* bit per bench_mode */
    bool keep_state;
    bool stats;
    bool quiet_print;
    const char *exprs[256];
    bool expr_is_file[256];
    int expr_count;
} options;

/* ---- Host functions ---------------------------------------------------------- */

static glint_status host_print(glint_host_call *call, void *user, const glint_value *args,
                               uint32_t argc, glint_value *ret) {
    (void)call;
    (void)argc;
    (void)ret;
    const bool *quiet = user;
    if (!*quiet) {
        fwrite(args[0].as.str.ptr, 1, args[0].as.str.len, stdout);
        fputc('\n', stdout);
    }
    return GLINT_OK;
}

static glint_status host_now(glint_host_call *call, void *user, const glint_value *args,
                             uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    (void)args;
    (void)argc;
    static char text[32];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(text, sizeof text, "%.3f", (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
    *ret = glint_str(text);
    return GLINT_OK;
}

static glint_status host_add(glint_host_call *call, void *user, const glint_value *args,
                             uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    (void)argc;
    ret->as.f64 = args[0].as.f64 + args[1].as.f64;
    return GLINT_OK;
}

static void on_guest_print(void *user, const char *data, size_t len) {
    (void)user;
    fwrite(data, 1, len, stdout);
}

static void on_guest_log(void *user, glint_log_level level, const char *file, uint32_t line,
                         const char *message, size_t len) {
    (void)user;
    fprintf(stderr, "[guest log %d %s:%u] %.*s\n", (int)level, file, line, (int)len, message);
}

/* ---- Helpers --------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t exits(const glint_counters *c) {
    return c->exits_io + c->exits_mmio + c->exits_hlt + c->exits_other;
}

static void report_failure(const char *what, glint_status st, const glint_error *e) {
    fprintf(stderr, "error: %s: %s: %s\n", what, glint_status_name((int)st),
            e != NULL && e->message[0] != '\0' ? e->message : glint_status_describe((int)st));
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "glint-js: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "glint-js: %s: out of memory\n", path);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: glint-js [options] EXPR [EXPR...]\n"
            "       glint-js [options] --bench N EXPR [EXPR...]\n"
            "\n"
            "Evaluates each JavaScript EXPR (Duktape, ES5.1 plus some ES2015+) in a Glint sandbox\n"
            "restored to a snapshot taken after the engine initialised, and prints its value.\n"
            "\n"
            "options:\n"
            "  -f, --file PATH     evaluate the contents of PATH (in order with the EXPRs)\n"
            "  --guest PATH        the guest (default $GLINT_JS_GUEST, else %s)\n"
            "  --heap-mb N         guest heap, the JavaScript memory limit (default 8)\n"
            "  --stack-kb N        guest stack (default 2048)\n"
            "  --deadline-ms N     deadline of each evaluation (default 2000; 0: none)\n"
            "  --keep-state        no restore between the EXPRs: one session, state carries over\n"
            "  --stats             print per-evaluation counters on stderr\n"
            "  --bench N           evaluate each EXPR N times per mode and print a table\n"
            "  --bench-mode M      restore, clone, reuse or all (default; repeatable)\n"
            "  -h, --help          this text\n"
            "\n"
            "JavaScript sees host.print(...) (also print, console.log), host.call(name, ...args)\n"
            "(JSON convention; here: 'now') and host.callTyped(name, sig, ...args) (here: 'add',\n"
            "'f64(f64,f64)').  Exit status: 0 all evaluations succeeded, 1 one failed, 2 setup "
            "error.\n",
            GLINT_JS_GUEST_ELF);
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->guest = getenv("GLINT_JS_GUEST") != NULL ? getenv("GLINT_JS_GUEST") : GLINT_JS_GUEST_ELF;
    o->heap_mb = 8;
    o->stack_kb = 2048;
    o->deadline_ms = 2000;
    bool only_exprs = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool is_file = false;
        if (!only_exprs && a[0] == '-' && a[1] != '\0') {
            if (strcmp(a, "--") == 0) {
                only_exprs = true;
                continue;
            }
            if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                usage(stdout);
                exit(0);
            }
            if (strcmp(a, "--keep-state") == 0) {
                o->keep_state = true;
                continue;
            }
            if (strcmp(a, "--bench-mode") == 0) {
                if (val == NULL) {
                    fprintf(stderr, "glint-js: --bench-mode needs a value\n");
                    return 2;
                }
                i++;
                if (strcmp(val, "all") == 0)
                    o->bench_modes = 7u;
                else if (strcmp(val, "restore") == 0)
                    o->bench_modes |= 1u;
                else if (strcmp(val, "clone") == 0)
                    o->bench_modes |= 2u;
                else if (strcmp(val, "reuse") == 0)
                    o->bench_modes |= 4u;
                else {
                    fprintf(stderr, "glint-js: --bench-mode: all, restore, clone or reuse\n");
                    return 2;
                }
                continue;
            }
            if (strcmp(a, "--stats") == 0) {
                o->stats = true;
                continue;
            }
            uint64_t *num = NULL;
            if (strcmp(a, "--heap-mb") == 0)
                num = &o->heap_mb;
            else if (strcmp(a, "--stack-kb") == 0)
                num = &o->stack_kb;
            else if (strcmp(a, "--deadline-ms") == 0)
                num = &o->deadline_ms;
            else if (strcmp(a, "--bench") == 0)
                num = &o->bench;
            else if (strcmp(a, "--guest") == 0 || strcmp(a, "-f") == 0 ||
                     strcmp(a, "--file") == 0) {
                if (val == NULL) {
                    fprintf(stderr, "glint-js: %s needs a value\n", a);
                    return 2;
                }
                i++;
                if (strcmp(a, "--guest") == 0) {
                    o->guest = val;
                    continue;
                }
                a = val;
                is_file = true;
            } else {
                fprintf(stderr, "glint-js: unknown option %s (try --help)\n", a);
                return 2;
            }
            if (num != NULL) {
                if (val == NULL || !parse_u64(val, num)) {
                    fprintf(stderr, "glint-js: %s needs a number\n", a);
                    return 2;
                }
                i++;
                continue;
            }
        }
        if (o->expr_count == (int)(sizeof o->exprs / sizeof o->exprs[0])) {
            fprintf(stderr, "glint-js: too many expressions\n");
            return 2;
        }
        o->expr_is_file[o->expr_count] = is_file;
        o->exprs[o->expr_count++] = a;
    }
    if (o->bench_modes == 0) o->bench_modes = 7u;
    if (o->expr_count == 0) {
        usage(stderr);
        return 2;
    }
    if (o->heap_mb == 0 || o->heap_mb > 4096 || o->stack_kb < 64 || o->stack_kb > 1024 * 1024) {
        fprintf(stderr, "glint-js: --heap-mb must be 1..4096 and --stack-kb 64..1048576\n");
        return 2;
    }
    return 0;
}

/* ---- Setup -------------------------------------------------------------------- */

typedef struct js_setup {
    glint_config cfg;
    glint_snapshot *snap;
    double init_s;
    double snapshot_s;
    glint_counters init_counters;
} js_setup;

static bool quiet_print;

/* Creates the template sandbox, initialises the engine (no deadline: it is
 * done once), snapshots it and destroys it; the snapshot keeps what it needs. */
static int make_snapshot(const options *o, js_setup *s) {
    glint_config_init(&s->cfg);
    s->cfg.heap_size = o->heap_mb * MIB;
    s->cfg.input_size = 64 * 1024;
    s->cfg.output_size = 256 * 1024;
    s->cfg.scratch_size = s->cfg.input_size + s->cfg.output_size + o->stack_kb * 1024 + 64 * 1024;
    s->cfg.log_level = GLINT_LOG_WARN;
    s->cfg.log_fn = on_guest_log;
    s->cfg.print_fn = on_guest_print;
    s->cfg.call_deadline_ns = 0;

    const double t0 = now_s();
    glint_sandbox *sb = NULL;
    glint_error err;
    glint_status st = glint_sandbox_create(&s->cfg, o->guest, &sb, &err);
    if (st != GLINT_OK) {
        report_failure(o->guest, st, &err);
        return 2;
    }
    static const glint_type one_string[] = {GLINT_TYPE_STRING};
    static const glint_type two_f64[] = {GLINT_TYPE_F64, GLINT_TYPE_F64};
    if ((st = glint_sandbox_register_host_function(sb, "host_print", GLINT_TYPE_VOID, one_string, 1,
                                                   host_print, &quiet_print)) != GLINT_OK ||
        (st = glint_sandbox_register_host_function(sb, "now", GLINT_TYPE_STRING, one_string, 1,
                                                   host_now, NULL)) != GLINT_OK ||
        (st = glint_sandbox_register_host_function(sb, "add", GLINT_TYPE_F64, two_f64, 2, host_add,
                                                   NULL)) != GLINT_OK ||
        (st = glint_sandbox_initialize(sb)) != GLINT_OK) {
        report_failure("initialise", st, glint_sandbox_last_error(sb));
        glint_sandbox_destroy(sb);
        return 2;
    }
    s->init_s = now_s() - t0;
    glint_sandbox_counters(sb, &s->init_counters);
    const double t1 = now_s();
    st = glint_sandbox_snapshot(sb, &s->snap);
    s->snapshot_s = now_s() - t1;
    if (st != GLINT_OK) {
        report_failure("snapshot", st, glint_sandbox_last_error(sb));
        glint_sandbox_destroy(sb);
        return 2;
    }
    glint_sandbox_destroy(sb);
    s->cfg.call_deadline_ns = o->deadline_ms * 1000000ull;
    return 0;
}

static glint_status js_eval(glint_sandbox *sb, const char *source, glint_value *out) {
    glint_value arg = glint_str(source);
    return glint_sandbox_call(sb, "eval", GLINT_TYPE_STRING, &arg, 1, out);
}

/* ---- Plain evaluation ------------------------------------------------------- */

static int run_exprs(const options *o, js_setup *s, char **sources) {
    glint_sandbox *sb = NULL;
    glint_error err;
    glint_status st = glint_sandbox_create_from_snapshot(s->snap, &s->cfg, &sb, &err);
    if (st != GLINT_OK) {
        report_failure("clone", st, &err);
        return 2;
    }
    int rc = 0;
    for (int i = 0; i < o->expr_count; i++) {
        glint_counters before, after;
        glint_sandbox_counters(sb, &before);
        /* A fresh clone needs no restore; after that, restore before each
         * evaluation (and always after a failure that poisoned the sandbox). */
        if ((i > 0 && !o->keep_state) || glint_sandbox_is_poisoned(sb)) {
            st = glint_sandbox_restore(sb, s->snap);
            if (st != GLINT_OK) {
                report_failure("restore", st, glint_sandbox_last_error(sb));
                rc = 2;
                break;
            }
        }
        glint_value result;
        st = js_eval(sb, sources[i], &result);
        fflush(stdout);
        if (st == GLINT_OK) {
            fwrite(result.as.str.ptr, 1, result.as.str.len, stdout);
            fputc('\n', stdout);
        } else {
            report_failure("eval", st, glint_sandbox_last_error(sb));
            rc = 1;
        }
        fflush(stdout);
        glint_sandbox_counters(sb, &after);
        if (o->stats) {
            fprintf(stderr,
                    "[eval %d: vm_runs %" PRIu64 ", exits %" PRIu64 ", host_calls %" PRIu64
                    ", pages reset by the restore before it %" PRIu64 "]\n",
                    i + 1, after.vm_runs - before.vm_runs, exits(&after) - exits(&before),
                    after.host_calls - before.host_calls,
                    after.restores != before.restores ? after.last_restore_pages_reset : 0);
        }
    }
    glint_sandbox_destroy(sb);
    return rc;
}

/* ---- Bench -------------------------------------------------------------------- */

typedef enum { MODE_RESTORE, MODE_CLONE, MODE_REUSE } bench_mode;

typedef struct bench_row {
    double total_s, reset_s, call_s;
    uint64_t vm_runs, exits, host_calls, pages_reset, pages_max, syscalls, evals;
} bench_row;

static void add_delta(bench_row *r, const glint_counters *a, const glint_counters *b) {
    r->vm_runs += b->vm_runs - a->vm_runs;
    r->exits += exits(b) - exits(a);
    r->host_calls += b->host_calls - a->host_calls;
    r->syscalls += (b->ioctls_other + b->syscalls_other) - (a->ioctls_other + a->syscalls_other);
}

static int bench_one(const options *o, js_setup *s, const char *source, bench_mode mode,
                     bench_row *r) {
    memset(r, 0, sizeof *r);
    glint_sandbox *sb = NULL;
    glint_error err;
    glint_status st;
    if (mode != MODE_CLONE) {
        if ((st = glint_sandbox_create_from_snapshot(s->snap, &s->cfg, &sb, &err)) != GLINT_OK) {
            report_failure("clone", st, &err);
            return 2;
        }
    }
    const double start = now_s();
    for (uint64_t i = 0; i < o->bench; i++) {
        glint_counters a, b;
        memset(&a, 0, sizeof a);
        const double t0 = now_s();
        if (mode == MODE_CLONE) {
            if ((st = glint_sandbox_create_from_snapshot(s->snap, &s->cfg, &sb, &err)) !=
                GLINT_OK) {
                report_failure("clone", st, &err);
                return 2;
            }
        } else {
            glint_sandbox_counters(sb, &a);
            if (mode == MODE_RESTORE && (st = glint_sandbox_restore(sb, s->snap)) != GLINT_OK) {
                report_failure("restore", st, glint_sandbox_last_error(sb));
                glint_sandbox_destroy(sb);
                return 2;
            }
        }
        const double t1 = now_s();
        glint_value result;
        st = js_eval(sb, source, &result);
        const double t2 = now_s();
        if (st != GLINT_OK) {
            report_failure("eval", st, glint_sandbox_last_error(sb));
            glint_sandbox_destroy(sb);
            return 1;
        }
        glint_sandbox_counters(sb, &b);
        add_delta(r, &a, &b);
        if (mode == MODE_RESTORE) {
            r->pages_reset += b.last_restore_pages_reset;
            if (b.last_restore_pages_reset > r->pages_max)
                r->pages_max = b.last_restore_pages_reset;
        }
        if (mode == MODE_CLONE) {
            glint_sandbox_destroy(sb);
            sb = NULL;
        }
        r->reset_s += t1 - t0;
        r->call_s += t2 - t1;
        r->evals++;
    }
    r->total_s = now_s() - start;
    glint_sandbox_destroy(sb);
    return 0;
}

static int run_bench(const options *o, js_setup *s, char **sources) {
    quiet_print = true;
    printf("glint-js bench: %" PRIu64 " evaluations per mode and expression; heap %" PRIu64
           " MiB, deadline %" PRIu64 " ms\n",
           o->bench, o->heap_mb, o->deadline_ms);
    printf("engine init (create + initialise): %.1f ms, %" PRIu64 " vm_runs, %" PRIu64
           " exits; snapshot: %.1f ms, %.1f MiB of guest memory\n",
           s->init_s * 1e3, s->init_counters.vm_runs, exits(&s->init_counters), s->snapshot_s * 1e3,
           (double)glint_snapshot_memory_size(s->snap) / (double)MIB);
    /* The engine's footprint, from a throwaway clone (calls change state). */
    glint_sandbox *probe = NULL;
    glint_error err;
    glint_value v;
    if (glint_sandbox_create_from_snapshot(s->snap, &s->cfg, &probe, &err) == GLINT_OK &&
        glint_sandbox_call(probe, "stats", GLINT_TYPE_STRING, NULL, 0, &v) == GLINT_OK)
        printf("guest heap after init (bytes): %.*s\n", (int)v.as.str.len, v.as.str.ptr);
    glint_sandbox_destroy(probe);
    fflush(stdout);
    static const char *const names[] = {"restore+eval", "clone+eval", "eval, no reset"};
    int rc = 0;
    for (int e = 0; e < o->expr_count; e++) {
        printf("\nexpression %d: %.60s%s\n", e + 1, sources[e],
               strlen(sources[e]) > 60 ? "..." : "");
        printf("%-15s %10s %10s %10s %10s %8s %8s %8s %9s %9s %9s\n", "mode", "evals/s", "us/eval",
               "reset us", "call us", "vm_runs", "exits", "hcalls", "pg reset", "pg max",
               "syscalls");
        for (int m = 0; m < 3; m++) {
            if ((o->bench_modes & (1u << m)) == 0) continue;
            bench_row r;
            int brc = bench_one(o, s, sources[e], (bench_mode)m, &r);
            if (brc != 0) {
                rc = brc;
                break;
            }
            const double n = (double)r.evals;
            char pg[16] = "-", pgmax[16] = "-";
            if (m == MODE_RESTORE) {
                snprintf(pg, sizeof pg, "%.1f", (double)r.pages_reset / n);
                snprintf(pgmax, sizeof pgmax, "%" PRIu64, r.pages_max);
            }
            printf("%-15s %10.1f %10.1f %10.1f %10.1f %8.1f %8.1f %8.1f %9s %9s %9.1f\n", names[m],
                   n / r.total_s, r.total_s / n * 1e6, r.reset_s / n * 1e6, r.call_s / n * 1e6,
                   (double)r.vm_runs / n, (double)r.exits / n, (double)r.host_calls / n, pg, pgmax,
                   (double)r.syscalls / n);
            fflush(stdout);
        }
        fflush(stdout);
    }
    printf(
        "\nreset us: restore (restore+eval) or create_from_snapshot (clone+eval); pg reset: pages\n"
        "the restore dropped (dirtied by the previous evaluation); syscalls: KVM ioctls other "
        "than\n"
        "KVM_RUN plus mmap/madvise/timer syscalls per evaluation, reset included.\n");
    return rc;
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) return rc;
    quiet_print = false;

    char *sources[256];
    for (int i = 0; i < o.expr_count; i++) {
        sources[i] = o.expr_is_file[i] ? read_file(o.exprs[i]) : strdup(o.exprs[i]);
        if (sources[i] == NULL) return 2;
    }
    js_setup s;
    memset(&s, 0, sizeof s);
    rc = make_snapshot(&o, &s);
    if (rc == 0) rc = o.bench > 0 ? run_bench(&o, &s, sources) : run_exprs(&o, &s, sources);
    glint_snapshot_release(s.snap);
    for (int i = 0; i < o.expr_count; i++) free(sources[i]);
    return rc;
}
