/*
 * bench_hyperlight.c - glint_bench --suite hyperlight: the scenarios of
 * Hyperlight 0.14's benchmarks (src/hyperlight_host/benches/benchmarks.rs),
 * under Hyperlight's Criterion ids and with its sizes, so that the two can be
 * put side by side (docs/benchmarks.md, "Side by side with Hyperlight").
 *
 *   sandboxes/create_uninitialized[_and_drop]/SIZE   glint_sandbox_create (+ destroy)
 *   sandboxes/create_initialized[_and_drop]/SIZE     create + initialize (+ destroy)
 *   guest_calls/call/SIZE                  Echo("hello\n") on a live sandbox
 *   guest_calls/call_with_restore/SIZE     Echo + restore to the snapshot taken after init
 *   guest_calls/call_with_host_function/SIZE   Add(1, 41): the guest calls HostAdd on the host
 *   guest_calls/different_thread           the first Echo on a new thread (default size)
 *   guest_calls/interrupt_latency          kill() to the killed Spin() returning (default size)
 *   snapshots/create/SIZE, snapshots/restore/SIZE   after one Echo
 *   guest_functions_with_large_parameters/guest_call_with_large_parameters
 *                                          LargeParameters(50 MiB bytes, 50 MiB string)
 *   function_call_serialization/serialize_function_call, deserialize_function_call
 *                                          the wire codec on a CALL of 11 arguments, four of
 *                                          10 MiB (host only, no VM)
 *   sample_workloads/24K_in_8K_out_c       24 KiB of bytes in, 8 KiB out
 *   shared_memory/{fill,copy_to_slice,copy_from_slice}/{1MB,64MB}
 *                                          host access to guest memory (see below)
 *
 * SIZE is Hyperlight's: default (each project's defaults), small (heap 8 MiB),
 * medium (heap 64 MiB, scratch 0x50000), large (heap 256 MiB, scratch
 * 0x100000).  Every figure comes with the counts Glint's own suite collects
 * (bench.h: KVM_RUN, exits, other ioctls, syscalls, minor faults, bytes
 * copied, allocations).  Where Glint differs from Hyperlight in what a
 * scenario can do, the scenario's note says so; docs/benchmarks.md lists the
 * differences.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
/* shared_memory: the library's checked accessor to guest memory
 * (glint_gmem_span/read/write), which the public API does not expose. */
#include "gmem.h"
#include "sandbox_internal.h"

#define HL_MAX_RESULTS 96
#define HL_ID_SIZE 96

/* ==== Options ============================================================== */

typedef struct hl_options {
    int iterations; /* 0: quick defaults */
    const char *json;
    const char *guest;
    const char *only[32];
    int only_count;
} hl_options;

static hl_options hl;

static int hl_iters(int quick) { return hl.iterations > 0 ? hl.iterations : quick; }

static bool hl_wanted(const char *id) {
    if (hl.only_count == 0) return true;
    for (int i = 0; i < hl.only_count; i++)
        if (strncmp(id, hl.only[i], strlen(hl.only[i])) == 0) return true;
    return false;
}

/* ==== Sizes ================================================================ */

/* Hyperlight's SandboxSize: only the heap (and for medium and large the
 * scratch region) differs from the defaults. */
typedef struct hl_size {
    const char *name;
    uint64_t heap_size;    /* 0: default */
    uint64_t scratch_size; /* 0: default */
} hl_size;

static const hl_size hl_sizes[4] = {
    {"default", 0, 0},
    {"small", 8 * MiB, 0},
    {"medium", 64 * MiB, 0x50000},
    {"large", 256 * MiB, 0x100000},
};

static void size_config(const hl_size *s, glint_config *cfg) {
    glint_config_init(cfg);
    if (s->heap_size != 0) cfg->heap_size = s->heap_size;
    if (s->scratch_size != 0) cfg->scratch_size = s->scratch_size;
}

/* ==== Results ============================================================== */

static result hl_results[HL_MAX_RESULTS];
static char hl_ids[HL_MAX_RESULTS][HL_ID_SIZE];
static int hl_count;

static result *hl_result(const char *title, int n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static result *hl_result(const char *title, int n, const char *fmt, ...) {
    if (hl_count == HL_MAX_RESULTS) {
        fprintf(stderr, "glint_bench: more than %d scenarios\n", HL_MAX_RESULTS);
        exit(1);
    }
    char *id = hl_ids[hl_count];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(id, HL_ID_SIZE, fmt, ap);
    va_end(ap);
    result *r = &hl_results[hl_count++];
    result_init(r, id, title, n);
    return r;
}

/* Like hl_wanted for an id made from a format. */
static bool hl_wanted_f(const char *fmt, const char *arg) {
    char id[HL_ID_SIZE];
    snprintf(id, sizeof id, fmt, arg);
    return hl_wanted(id);
}

/* ==== Sandboxes ============================================================ */

static glint_status host_add(glint_host_call *call, void *user, const glint_value *args,
                             uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    (void)argc;
    ret->as.i32 = args[0].as.i32 + args[1].as.i32;
    return GLINT_OK;
}

/* create (+ HostAdd when with_host_add) + initialize. */
static glint_sandbox *open_sandbox(const glint_config *cfg, bool with_host_add, char *why,
                                   size_t why_size) {
    glint_error err;
    glint_sandbox *sb = NULL;
    if (glint_sandbox_create(cfg, hl.guest, &sb, &err) != GLINT_OK) {
        snprintf(why, why_size, "create: %s", err.message);
        return NULL;
    }
    static const glint_type two_i32[2] = {GLINT_TYPE_I32, GLINT_TYPE_I32};
    glint_status st = GLINT_OK;
    if (with_host_add)
        st = glint_sandbox_register_host_function(sb, "HostAdd", GLINT_TYPE_I32, two_i32, 2,
                                                  host_add, NULL);
    if (st == GLINT_OK) st = glint_sandbox_initialize(sb);
    if (st != GLINT_OK) {
        snprintf(why, why_size, "initialise: %s", glint_sandbox_last_error(sb)->message);
        glint_sandbox_destroy(sb);
        return NULL;
    }
    return sb;
}

static const char *sb_error(const glint_sandbox *sb) {
    return glint_sandbox_last_error(sb)->message;
}

/* Echo(text), checking the answer. */
static glint_status echo(glint_sandbox *sb, const char *text) {
    glint_value arg = glint_str(text), out;
    glint_status st = glint_sandbox_call(sb, "Echo", GLINT_TYPE_STRING, &arg, 1, &out);
    if (st == GLINT_OK &&
        (out.as.str.len != arg.as.str.len || memcmp(out.as.str.ptr, text, arg.as.str.len) != 0))
        st = GLINT_E_GUEST_ERROR;
    return st;
}

/* ==== sandboxes/ =========================================================== */

/* create_uninitialized: glint_sandbox_create only (ELF from the file, image,
 * VM and vCPU: Glint creates the VM here, Hyperlight in evolve()).
 * initialized: + glint_sandbox_initialize.  and_drop: + destroy, timed. */
static void sc_create(const hl_size *s, bool initialized, bool drop) {
    const char *kind = initialized ? "create_initialized" : "create_uninitialized";
    char fmt[80];
    snprintf(fmt, sizeof fmt, "sandboxes/%s%s/%%s", kind, drop ? "_and_drop" : "");
    if (!hl_wanted_f(fmt, s->name)) return;
    int n = hl_iters(10);
    result *r =
        hl_result(initialized ? (drop ? "create + initialise + destroy" : "create + initialise")
                              : (drop ? "create + destroy" : "create"),
                  n, fmt, s->name);
    glint_config cfg;
    size_config(s, &cfg);
    uint64_t m[M_COUNT];
    for (int i = -1; i < n; i++) {
        glint_sandbox *sb = NULL;
        glint_error err;
        probe p;
        op_begin(&p, NULL);
        glint_status st = glint_sandbox_create(&cfg, hl.guest, &sb, &err);
        if (st == GLINT_OK && initialized) st = glint_sandbox_initialize(sb);
        uint64_t ns;
        if (st == GLINT_OK && drop) {
            glint_counters last;
            glint_sandbox_counters(sb, &last);
            glint_sandbox_destroy(sb);
            sb = NULL;
            ns = op_end_last(&p, &last, m);
        } else {
            ns = op_end(&p, sb, m);
        }
        if (st != GLINT_OK) {
            result_note(r, true, "%s", sb != NULL ? sb_error(sb) : err.message);
            glint_sandbox_destroy(sb);
            return;
        }
        if (i >= 0) result_record(r, ns, m);
        glint_sandbox_destroy(sb);
    }
    if (!initialized)
        result_note(r, false, "includes KVM_CREATE_VM and the vCPU (Hyperlight: in evolve)");
}

/* ==== guest_calls/ ========================================================= */

typedef enum call_kind { CALL_ECHO, CALL_ECHO_RESTORE, CALL_HOST_FUNCTION } call_kind;

static void sc_calls(const hl_size *s, call_kind kind) {
    static const char *const fmts[] = {"guest_calls/call/%s", "guest_calls/call_with_restore/%s",
                                       "guest_calls/call_with_host_function/%s"};
    static const char *const titles[] = {"Echo(\"hello\\n\")", "Echo + restore",
                                         "Add(1, 41) calling HostAdd on the host"};
    if (!hl_wanted_f(fmts[kind], s->name)) return;
    int n = hl_iters(50);
    result *r = hl_result(titles[kind], n, fmts[kind], s->name);
    r->restore_metrics = kind == CALL_ECHO_RESTORE;
    glint_config cfg;
    size_config(s, &cfg);
    char why[NOTE_SIZE];
    glint_sandbox *sb = open_sandbox(&cfg, kind == CALL_HOST_FUNCTION, why, sizeof why);
    if (sb == NULL) {
        result_note(r, true, "%s", why);
        return;
    }
    glint_snapshot *snap = NULL;
    if (kind == CALL_ECHO_RESTORE && glint_sandbox_snapshot(sb, &snap) != GLINT_OK) {
        result_note(r, true, "snapshot: %s", sb_error(sb));
        glint_sandbox_destroy(sb);
        return;
    }
    uint64_t m[M_COUNT];
    const glint_value add_args[2] = {glint_i32(1), glint_i32(41)};
    for (int i = -5; i < n; i++) {
        probe p;
        glint_value out;
        op_begin(&p, sb);
        glint_status st;
        if (kind == CALL_HOST_FUNCTION) {
            st = glint_sandbox_call(sb, "Add", GLINT_TYPE_I32, add_args, 2, &out);
            if (st == GLINT_OK && out.as.i32 != 42) st = GLINT_E_GUEST_ERROR;
        } else {
            st = echo(sb, "hello\n");
            if (st == GLINT_OK && kind == CALL_ECHO_RESTORE) st = glint_sandbox_restore(sb, snap);
        }
        uint64_t ns = op_end(&p, sb, m);
        if (st != GLINT_OK) {
            result_note(r, true, "%s: %s", glint_status_name(st), sb_error(sb));
            break;
        }
        if (i >= 0) result_record(r, ns, m);
    }
    glint_snapshot_release(snap);
    glint_sandbox_destroy(sb);
}

/* different_thread: the sandbox made one call on the main thread; the next
 * one is made, and timed, on a new thread. */
typedef struct thread_call {
    glint_sandbox *sb;
    pthread_barrier_t *barrier;
    glint_status st;
    uint64_t ns;
    uint64_t m[M_COUNT];
} thread_call;

static void *thread_call_main(void *arg) {
    thread_call *t = arg;
    pthread_barrier_wait(t->barrier);
    probe p;
    op_begin(&p, t->sb);
    t->st = echo(t->sb, "hello\n");
    t->ns = op_end(&p, t->sb, t->m);
    return NULL;
}

static void sc_different_thread(void) {
    if (!hl_wanted("guest_calls/different_thread")) return;
    int n = hl_iters(20);
    result *r = hl_result("first Echo on a new thread", n, "guest_calls/different_thread");
    glint_config cfg;
    size_config(&hl_sizes[0], &cfg);
    char why[NOTE_SIZE];
    glint_sandbox *sb = open_sandbox(&cfg, false, why, sizeof why);
    if (sb == NULL) {
        result_note(r, true, "%s", why);
        return;
    }
    for (int i = -1; i < n; i++) {
        if (echo(sb, "warmup\n") != GLINT_OK) {
            result_note(r, true, "warm-up call: %s", sb_error(sb));
            break;
        }
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, 2);
        thread_call t;
        memset(&t, 0, sizeof t);
        t.sb = sb;
        t.barrier = &barrier;
        pthread_t th;
        if (pthread_create(&th, NULL, thread_call_main, &t) != 0) {
            result_note(r, true, "pthread_create failed");
            pthread_barrier_destroy(&barrier);
            break;
        }
        pthread_barrier_wait(&barrier);
        pthread_join(th, NULL);
        pthread_barrier_destroy(&barrier);
        if (t.st != GLINT_OK) {
            result_note(r, true, "call on the new thread: %s", sb_error(sb));
            break;
        }
        if (i >= 0) result_record(r, t.ns, t.m);
    }
    glint_sandbox_destroy(sb);
}

/* interrupt_latency: a fresh sandbox per iteration (as Hyperlight: a killed
 * sandbox is poisoned), Spin() killed after 10 ms from another thread. */
typedef struct hl_killer {
    glint_sandbox *sb;
    pthread_barrier_t *barrier;
    uint64_t t_kill;
    bool hit;
} hl_killer;

static void *hl_killer_main(void *arg) {
    hl_killer *k = arg;
    pthread_barrier_wait(k->barrier);
    sleep_us(10000); /* Hyperlight: "ensure the guest function is running" */
    /* kill() is true only while a call runs: on a loaded machine the call
     * may not have entered the guest yet. */
    for (int tries = 0; tries < 5000 && !k->hit; tries++) {
        uint64_t t = now_ns();
        if (glint_sandbox_kill(k->sb)) {
            k->t_kill = t;
            k->hit = true;
        } else {
            sleep_us(1000);
        }
    }
    return NULL;
}

static void sc_interrupt_latency(void) {
    if (!hl_wanted("guest_calls/interrupt_latency")) return;
    int n = hl_iters(10);
    result *r =
        hl_result("kill() to the killed Spin() returning", n, "guest_calls/interrupt_latency");
    glint_config cfg;
    size_config(&hl_sizes[0], &cfg);
    uint64_t m[M_COUNT];
    for (int i = -1; i < n; i++) {
        char why[NOTE_SIZE];
        glint_sandbox *sb = open_sandbox(&cfg, false, why, sizeof why);
        if (sb == NULL) {
            result_note(r, true, "%s", why);
            return;
        }
        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, 2);
        hl_killer k = {sb, &barrier, 0, false};
        pthread_t th;
        if (pthread_create(&th, NULL, hl_killer_main, &k) != 0) {
            result_note(r, true, "pthread_create failed");
            pthread_barrier_destroy(&barrier);
            glint_sandbox_destroy(sb);
            return;
        }
        pthread_barrier_wait(&barrier);
        probe p;
        op_begin(&p, sb);
        glint_status st = glint_sandbox_call(sb, "Spin", GLINT_TYPE_VOID, NULL, 0, NULL);
        uint64_t t_ret = now_ns();
        op_end(&p, sb, m);
        pthread_join(th, NULL);
        pthread_barrier_destroy(&barrier);
        bool ok = st == GLINT_E_CANCELLED && k.hit;
        if (!ok)
            result_note(r, true, "Spin ended with %s (%s), kill %s", glint_status_name(st),
                        sb_error(sb), k.hit ? "hit" : "missed");
        glint_sandbox_destroy(sb);
        if (!ok) return;
        if (i >= 0) result_record(r, t_ret > k.t_kill ? t_ret - k.t_kill : 0, m);
    }
    result_note(r, false,
                "time from glint_sandbox_kill() to the call returning; counts: the "
                "whole call");
}

/* ==== snapshots/ =========================================================== */

static void sc_snapshots(const hl_size *s, bool restore) {
    const char *fmt = restore ? "snapshots/restore/%s" : "snapshots/create/%s";
    if (!hl_wanted_f(fmt, s->name)) return;
    int n = hl_iters(20);
    result *r = hl_result(restore ? "restore (after one Echo)" : "snapshot (after one Echo)", n,
                          fmt, s->name);
    r->restore_metrics = restore;
    glint_config cfg;
    size_config(s, &cfg);
    char why[NOTE_SIZE];
    glint_sandbox *sb = open_sandbox(&cfg, false, why, sizeof why);
    if (sb == NULL) {
        result_note(r, true, "%s", why);
        return;
    }
    glint_snapshot *base = NULL;
    if (restore && glint_sandbox_snapshot(sb, &base) != GLINT_OK) {
        result_note(r, true, "snapshot: %s", sb_error(sb));
        glint_sandbox_destroy(sb);
        return;
    }
    uint64_t m[M_COUNT];
    for (int i = -1; i < n; i++) {
        if (echo(sb, "hello\n") != GLINT_OK) {
            result_note(r, true, "Echo: %s", sb_error(sb));
            break;
        }
        probe p;
        glint_snapshot *snap = NULL;
        op_begin(&p, sb);
        glint_status st =
            restore ? glint_sandbox_restore(sb, base) : glint_sandbox_snapshot(sb, &snap);
        uint64_t ns = op_end(&p, sb, m);
        glint_snapshot_release(snap);
        if (st != GLINT_OK) {
            result_note(r, true, "%s: %s", restore ? "restore" : "snapshot", sb_error(sb));
            break;
        }
        if (i >= 0) result_record(r, ns, m);
    }
    glint_snapshot_release(base);
    glint_sandbox_destroy(sb);
}

/* ==== guest_functions_with_large_parameters/ ================================ */

#define LARGE_SIZE (50u * 1024u * 1024u) /* Hyperlight's SIZE: "50 MB" */

static void sc_large_parameters(void) {
    const char *id = "guest_functions_with_large_parameters/guest_call_with_large_parameters";
    if (!hl_wanted(id)) return;
    int n = hl_iters(10);
    result *r = hl_result("LargeParameters(50 MiB bytes, 50 MiB string)", n, "%s", id);
    /* Hyperlight's configuration, byte for byte.  Glint's guest needs none of
     * the heap (arguments are read in place in the input buffer), but the
     * sizes are kept so that the memory layout is the same. */
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.input_size = 2ull * LARGE_SIZE + MiB;
    cfg.heap_size = 15ull * LARGE_SIZE;
    cfg.scratch_size = 6ull * LARGE_SIZE + 4 * MiB;
    uint8_t *bytes = calloc(LARGE_SIZE, 1);
    char *text = malloc((size_t)LARGE_SIZE + 1u);
    char why[NOTE_SIZE];
    glint_sandbox *sb = NULL;
    if (bytes == NULL || text == NULL) {
        result_note(r, true, "out of memory");
        goto out;
    }
    /* Hyperlight's string is 50 MiB of NUL bytes; a Glint string may not
     * contain NUL (the wire format's strings are C strings), so 'x'. */
    memset(text, 'x', LARGE_SIZE);
    text[LARGE_SIZE] = '\0';
    sb = open_sandbox(&cfg, false, why, sizeof why);
    if (sb == NULL) {
        result_note(r, true, "%s", why);
        goto out;
    }
    const glint_value args[2] = {glint_bytes(bytes, LARGE_SIZE), glint_str(text)};
    uint64_t m[M_COUNT];
    for (int i = -1; i < n; i++) {
        probe p;
        op_begin(&p, sb);
        glint_status st = glint_sandbox_call(sb, "LargeParameters", GLINT_TYPE_VOID, args, 2, NULL);
        uint64_t ns = op_end(&p, sb, m);
        if (st != GLINT_OK) {
            result_note(r, true, "%s: %s", glint_status_name(st), sb_error(sb));
            goto out;
        }
        if (i >= 0) result_record(r, ns, m);
    }
    result_note(r, false,
                "input 101 MiB, heap 750 MiB, scratch 304 MiB (Hyperlight's); the string is 'x' "
                "bytes (NUL in Hyperlight's, not a valid Glint string)");
out:
    glint_sandbox_destroy(sb);
    free(bytes);
    free(text);
}

/* ==== function_call_serialization/ ========================================== */

#define SER_BIG (10u * 1024u * 1024u)

/* Hyperlight's FunctionCall("TestFunction", 11 parameters, returns Int),
 * through Glint's codec (common/src/wire.c) on the host.  The encoder writes
 * into a caller's buffer (in a call: the input buffer), so there is no
 * builder to size or allocate; decoding validates and points into the
 * message (zero copy). */
static void sc_serialization(void) {
    const char *ser_id = "function_call_serialization/serialize_function_call";
    const char *de_id = "function_call_serialization/deserialize_function_call";
    bool want_ser = hl_wanted(ser_id), want_de = hl_wanted(de_id);
    if (!want_ser && !want_de) return;
    int n = hl_iters(20);
    result *rs =
        want_ser ? hl_result("encode the CALL (glint_encode_call)", n, "%s", ser_id) : NULL;
    result *rd =
        want_de ? hl_result("decode the CALL (glint_msg_open + glint_decode_call)", n, "%s", de_id)
                : NULL;
    uint8_t *ones = malloc(SER_BIG);
    char *twos = malloc((size_t)SER_BIG + 1u);
    const uint64_t cap = 4ull * SER_BIG + MiB; /* the arguments + 1 MiB, as Hyperlight's input */
    uint8_t *buf = malloc(cap);
    if (ones == NULL || twos == NULL || buf == NULL) {
        if (rs) result_note(rs, true, "out of memory");
        if (rd) result_note(rd, true, "out of memory");
        goto out;
    }
    memset(ones, 1, SER_BIG);
    memset(twos, 2, SER_BIG);
    twos[SER_BIG] = '\0';
    const glint_value args[11] = {
        glint_bytes(ones, SER_BIG),
        glint_str(twos),
        glint_i32(42),
        glint_u32(100),
        glint_i64(1000),
        glint_u64(2000),
        glint_f32(521521.53f),
        glint_f64(432.53),
        glint_bool(true),
        glint_bytes(ones, SER_BIG),
        glint_str(twos),
    };
    uint64_t m[M_COUNT];
    uint64_t len = 0;
    for (int i = -1; i < n && rs != NULL; i++) {
        probe p;
        glint_writer w;
        op_begin(&p, NULL);
        glint_writer_init(&w, buf, cap);
        len = glint_encode_call(&w, "TestFunction", GLINT_TYPE_I32, args, 11);
        uint64_t ns = op_end(&p, NULL, m);
        if (len == 0) {
            result_note(rs, true, "glint_encode_call failed");
            goto out;
        }
        if (i >= 0) result_record(rs, ns, m);
    }
    if (rs != NULL) result_note(rs, false, "%" PRIu64 "-byte message, 4 x 10 MiB arguments", len);
    if (rd == NULL) goto out;
    glint_writer w;
    glint_writer_init(&w, buf, cap);
    len = glint_encode_call(&w, "TestFunction", GLINT_TYPE_I32, args, 11);
    static glint_call_view view; /* 32 values: keep it off the stack */
    for (int i = -1; i < n; i++) {
        probe p;
        glint_msg_kind kind;
        glint_reader body;
        op_begin(&p, NULL);
        bool ok = glint_msg_open(buf, len, &kind, &body) && kind == GLINT_MSG_CALL &&
                  glint_decode_call(&body, &view);
        uint64_t ns = op_end(&p, NULL, m);
        if (!ok || view.argc != 11 || view.args[10].as.str.len != SER_BIG) {
            result_note(rd, true, "decoding failed");
            goto out;
        }
        if (i >= 0) result_record(rd, ns, m);
    }
    result_note(rd, false,
                "validates every byte that needs it (strings: no NUL inside, NUL after) and "
                "points into the message; Hyperlight's decoder copies into owned values");
out:
    free(ones);
    free(twos);
    free(buf);
}

/* ==== sample_workloads/ ====================================================== */

static void sc_24k_in_8k_out(void) {
    const char *id = "sample_workloads/24K_in_8K_out_c";
    if (!hl_wanted(id)) return;
    int n = hl_iters(50);
    result *r = hl_result("24 KiB of bytes in, 8 KiB out (C guest)", n, "%s", id);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.input_size = 25 * KiB; /* Hyperlight: input_data_size 25 * 1024 */
    char why[NOTE_SIZE];
    glint_sandbox *sb = open_sandbox(&cfg, false, why, sizeof why);
    if (sb == NULL) {
        result_note(r, true, "%s", why);
        return;
    }
    static uint8_t input[24 * 1024];
    memset(input, 1, sizeof input);
    const glint_value arg = glint_bytes(input, sizeof input);
    uint64_t m[M_COUNT];
    for (int i = -5; i < n; i++) {
        probe p;
        glint_value out;
        op_begin(&p, sb);
        glint_status st = glint_sandbox_call(sb, "24K_in_8K_out", GLINT_TYPE_BYTES, &arg, 1, &out);
        uint64_t ns = op_end(&p, sb, m);
        if (st == GLINT_OK && out.as.bytes.len != 8 * 1024) st = GLINT_E_GUEST_ERROR;
        if (st != GLINT_OK) {
            result_note(r, true, "%s: %s", glint_status_name(st), sb_error(sb));
            break;
        }
        if (i >= 0) result_record(r, ns, m);
    }
    glint_sandbox_destroy(sb);
}

/* ==== shared_memory/ ========================================================= */

/* Hyperlight measures its SharedMemory type on a region of its own.  Glint's
 * public API has no call for host reads and writes of guest memory (the
 * embedder passes data as arguments, or maps its own memory with
 * glint_sandbox_map_host_memory); the library's internal accessor is
 * glint_gmem (host/src/gmem.h), the bounds-checked way every host access
 * to guest memory goes.  So these rows measure glint_gmem_span + memset
 * (fill), glint_gmem_read (copy_to_slice) and glint_gmem_write
 * (copy_from_slice) on the heap of a sandbox with a 64 MiB heap: its
 * MAP_PRIVATE view of the image memfd, as guest code sees it. */
typedef enum shm_op { SHM_FILL, SHM_TO_SLICE, SHM_FROM_SLICE } shm_op;

static void sc_shared_memory(void) {
    static const char *const ops[] = {"fill", "copy_to_slice", "copy_from_slice"};
    static const struct {
        uint64_t size;
        const char *name;
    } sizes[] = {{1 * MiB, "1MB"}, {64 * MiB, "64MB"}};
    bool any = false;
    for (int o = 0; o < 3; o++)
        for (int s = 0; s < 2; s++) {
            char id[HL_ID_SIZE];
            snprintf(id, sizeof id, "shared_memory/%s/%s", ops[o], sizes[s].name);
            any |= hl_wanted(id);
        }
    if (!any) return;
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = 64 * MiB;
    char why[NOTE_SIZE];
    glint_sandbox *sb = open_sandbox(&cfg, false, why, sizeof why);
    uint8_t *slice = malloc(64 * MiB);
    glint_layout_info l;
    glint_sandbox_layout(sb, &l);
    for (int o = 0; o < 3; o++) {
        for (int s = 0; s < 2; s++) {
            char id[HL_ID_SIZE];
            snprintf(id, sizeof id, "shared_memory/%s/%s", ops[o], sizes[s].name);
            if (!hl_wanted(id)) continue;
            int n = hl_iters(20);
            result *r = hl_result(o == SHM_FILL       ? "glint_gmem_span + memset 0xAB"
                                  : o == SHM_TO_SLICE ? "glint_gmem_read into a host buffer"
                                                      : "glint_gmem_write from a host buffer",
                                  n, "%s", id);
            if (sb == NULL || slice == NULL) {
                result_note(r, true, "%s", sb == NULL ? why : "out of memory");
                continue;
            }
            const uint64_t size = sizes[s].size;
            memset(slice, 0xCD, size);
            uint64_t m[M_COUNT];
            for (int i = -3; i < n; i++) {
                probe p;
                op_begin(&p, NULL);
                bool ok;
                if (o == SHM_FILL) {
                    void *span = glint_gmem_span(&sb->gmem, l.heap_gpa, size);
                    if ((ok = span != NULL)) memset(span, 0xAB, size);
                } else if (o == SHM_TO_SLICE) {
                    ok = glint_gmem_read(&sb->gmem, l.heap_gpa, slice, size);
                } else {
                    ok = glint_gmem_write(&sb->gmem, l.heap_gpa, slice, size);
                }
                uint64_t ns = op_end(&p, NULL, m);
                if (!ok) {
                    result_note(r, true, "guest range rejected");
                    break;
                }
                if (i >= 0) result_record(r, ns, m);
            }
            if (r->ran) {
                uint64_t med, p99, lo, hi;
                percentiles(r, &med, &p99, &lo, &hi);
                result_note(r, false, "%.2f GiB/s at the median; internal accessor (no public API)",
                            med ? (double)size / (double)med * 1e9 / (1024.0 * MiB) : 0.0);
            }
        }
    }
    free(slice);
    glint_sandbox_destroy(sb);
}

/* ==== Output ================================================================== */

static void print_results(void) {
    static char cells[HL_MAX_RESULTS + 1][NCOL][CELL];
    const char *head[] = {"scenario (Hyperlight id)",
                          "n",
                          "median",
                          "p99",
                          "KVM_RUN",
                          "exits",
                          "other ioctls",
                          "syscalls (mm + other)",
                          "minor faults",
                          "bytes copied (guest mem)",
                          "host allocs (library / seen)"};
    const int cols = (int)(sizeof head / sizeof head[0]);
    for (int i = 0; i < cols; i++) snprintf(cells[0][i], CELL, "%s", head[i]);
    int rows = 1;
    for (int i = 0; i < hl_count; i++, rows++) {
        result *r = &hl_results[i];
        char(*row)[CELL] = cells[rows];
        if (!bench_row_common(r, row)) continue;
        char a[64], b[64];
        fmt_metric(r, M_SYS_MM, a, sizeof a);
        fmt_metric(r, M_SYS_OTHER, b, sizeof b);
        snprintf(row[7], CELL, "%s + %s", a, b);
        fmt_metric(r, M_MINFLT, row[8], CELL);
        fmt_bytes(mean(r, M_COPIED_GUEST), row[9], CELL);
        fmt_metric(r, M_ALLOCS_LIB, a, sizeof a);
        fmt_metric(r, M_ALLOCS_SEEN, b, sizeof b);
        snprintf(row[10], CELL, "%s / %s", a, b);
    }
    print_table(cells, rows, cols);

    printf("\nPer operation, by kind (means), and notes:\n\n");
    for (int i = 0; i < hl_count; i++) {
        result *r = &hl_results[i];
        if (!r->ran) continue;
        char io[600], sys[600], all[32];
        breakdown(r, M_IOCTL_BASE, BW_IOCTL_KINDS, bench_ioctl_name, false, io, sizeof io);
        breakdown(r, M_SYS_BASE, BW_SYS_KINDS, bench_sys_name, false, sys, sizeof sys);
        fmt_bytes(mean(r, M_COPIED_ALL), all, sizeof all);
        printf("- %s: ioctls: %s; syscalls: %s; memcpy/memmove: %s", r->id, io, sys, all);
        if (r->restore_metrics && r->max[M_PAGES_RESET] != 0)
            printf("; pages reset %.0f", mean(r, M_PAGES_RESET));
        printf("%s%s\n", r->note[0] ? "; note: " : "", r->note);
    }
}

static bool write_json(const char *path, const host_info *h) {
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "glint_bench: cannot write %s: %s\n", path, strerror(errno));
        return false;
    }
    fprintf(f, "{\"format\":\"glint-bench-1\",\"suite\":\"hyperlight\",\"reference\":"
               "\"hyperlight 0.14 src/hyperlight_host/benches/benchmarks.rs\",\"host\":");
    json_host(f, h);
    fprintf(f, ",\"quick\":%s,\"iterations\":%d,\"sizes\":[", hl.iterations ? "false" : "true",
            hl.iterations);
    for (int i = 0; i < 4; i++)
        fprintf(f, "%s{\"name\":\"%s\",\"heap_size\":%" PRIu64 ",\"scratch_size\":%" PRIu64 "}",
                i ? "," : "", hl_sizes[i].name, hl_sizes[i].heap_size, hl_sizes[i].scratch_size);
    fprintf(f, "],\"scenarios\":[");
    for (int i = 0; i < hl_count; i++) {
        if (i) fputc(',', f);
        json_result(f, &hl_results[i]);
    }
    fprintf(f, "]}\n");
    bool ok = fclose(f) == 0;
    if (!ok) fprintf(stderr, "glint_bench: writing %s failed\n", path);
    return ok;
}

/* ==== Main ===================================================================== */

static void hl_usage(FILE *f) {
    fprintf(f,
            "usage: glint_bench --suite hyperlight [--quick | --iterations N] [--json PATH]\n"
            "                   [--scenario PREFIX]... [--guest PATH]\n"
            "  Hyperlight 0.14's benchmark scenarios and sizes, under its Criterion ids\n"
            "  (sandboxes/..., guest_calls/..., snapshots/..., shared_memory/...).\n"
            "  --quick          few iterations per scenario (default)\n"
            "  --iterations N   N timed iterations of every scenario\n"
            "  --json PATH      also write the results as JSON to PATH\n"
            "  --scenario P     only ids starting with P (repeatable), e.g. guest_calls/call/\n"
            "  --guest PATH     the bench guest (default %s)\n",
            GLINT_BENCH_GUEST);
}

static bool hl_parse(int argc, char **argv) {
    hl.guest = GLINT_BENCH_GUEST;
    static char guest_buf[4096];
    const char *dir = getenv("GLINT_GUEST_DIR");
    if (dir != NULL && dir[0] != '\0') {
        snprintf(guest_buf, sizeof guest_buf, "%s/bench_guest.elf", dir);
        hl.guest = guest_buf;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--suite") == 0 && v) {
            i++;
        } else if (strcmp(a, "--quick") == 0) {
            hl.iterations = 0;
        } else if (strcmp(a, "--iterations") == 0 && v) {
            hl.iterations = atoi(v);
            i++;
            if (hl.iterations < 1 || hl.iterations > MAX_SAMPLES) return false;
        } else if (strcmp(a, "--json") == 0 && v) {
            hl.json = v;
            i++;
        } else if (strcmp(a, "--guest") == 0 && v) {
            hl.guest = v;
            i++;
        } else if (strcmp(a, "--scenario") == 0 && v) {
            i++;
            if (hl.only_count == (int)(sizeof hl.only / sizeof hl.only[0])) return false;
            hl.only[hl.only_count++] = v;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            hl_usage(stdout);
            exit(0);
        } else {
            return false;
        }
    }
    return true;
}

int bench_hyperlight_main(int argc, char **argv) {
    if (!hl_parse(argc, argv)) {
        hl_usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    host_info h;
    detect_host(&h);
    if (!bench_prerequisites(hl.guest)) return 2;

    printf("# Glint on Hyperlight's benchmarks, on %s KVM%s\n\n",
           glint_hypervisor_kind_name(h.kvm_kind), h.in_harness ? " (QEMU harness)" : "");
    printf("**%s**\n\n", h.kvm_line);
    printf("host: %s; CPU: %s; %s; %s\n", h.kernel, h.cpu[0] ? h.cpu : "?",
           h.dmi[0] ? h.dmi : "no DMI", hl.iterations ? "fixed iterations" : "quick mode");
    printf("Scenarios and sizes of Hyperlight 0.14's src/hyperlight_host/benches/benchmarks.rs, "
           "under its Criterion ids. Sizes: default (Glint's defaults: heap 128 KiB, scratch 288 "
           "KiB), small (heap 8 MiB), medium (heap 64 MiB, scratch 0x50000), large (heap 256 MiB, "
           "scratch 0x100000). Counts are per operation (mean; \"a (lo-hi)\" when they varied). "
           "Times: median and p99 (nearest rank; with n < 100 the p99 is the maximum).\n\n");

    uint64_t t0 = now_ns();
    for (int drop = 0; drop < 2; drop++)
        for (int s = 0; s < 4; s++) sc_create(&hl_sizes[s], false, drop);
    for (int drop = 0; drop < 2; drop++)
        for (int s = 0; s < 4; s++) sc_create(&hl_sizes[s], true, drop);
    for (int k = CALL_ECHO; k <= CALL_HOST_FUNCTION; k++)
        for (int s = 0; s < 4; s++) sc_calls(&hl_sizes[s], (call_kind)k);
    sc_different_thread();
    sc_interrupt_latency();
    for (int restore = 0; restore < 2; restore++)
        for (int s = 0; s < 4; s++) sc_snapshots(&hl_sizes[s], restore);
    sc_large_parameters();
    sc_serialization();
    sc_24k_in_8k_out();
    sc_shared_memory();

    print_results();
    printf("\nSuite run time: %.1f s\n", (double)(now_ns() - t0) / 1e9);
    printf("\n**%s**\n", h.kvm_line);
    bool failed = false;
    for (int i = 0; i < hl_count; i++) failed |= hl_results[i].failed;
    if (hl.json != NULL) {
        if (!write_json(hl.json, &h))
            failed = true;
        else
            printf("JSON: %s\n", hl.json);
    }
    for (int i = 0; i < hl_count; i++) free(hl_results[i].ns);
    return failed ? 1 : 0;
}
