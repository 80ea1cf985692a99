/*
 * Soak test: many sandbox lifecycles and call/restore cycles in one process,
 * with file descriptors and RSS measured (and printed) along the way.
 *
 *   phase 1: create / register / initialise / call (with host calls) / destroy
 *   phase 2: call / restore on one sandbox
 *   phase 3: clone from a snapshot / call / destroy
 *
 * Modes (argument or GLINT_SOAK environment variable):
 *   quick (default, the test command):  300 lifecycles,  3000 call/restore, 300 clones
 *   full  (real hardware, one command):  10000 lifecycles, 100000 call/restore, 10000 clones
 *       GLINT_SOAK=full ctest --test-dir build -R soak --output-on-failure
 * or N1 N2 N3 as arguments for other counts.
 *
 * Fails if the number of open descriptors changes, or RSS grows by more than
 * a tolerance between the 10 % mark (allocator and page caches warm) and the
 * end.  In the ASan build LeakSanitizer checks for leaks at the end (and at
 * exit); ASan's quarantine is kept small so that freed memory does not look
 * like growth.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glint/glint.h"
#include "hostile_support.h"
#include "kvm_support.h"

#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ASAN 1
#endif
#endif

#ifdef SOAK_ASAN
#include <sanitizer/lsan_interface.h>
/* A small quarantine: freed blocks are recycled instead of piling up. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=1:detect_leaks=1"; }
#endif

static int failures;

typedef struct probe {
    const char *phase;
    uint64_t done, total;
    int fds;
    uint64_t rss_kib;
} probe;

static probe take(const char *phase, uint64_t done, uint64_t total) {
    probe p = {phase, done, total, hostile_fd_count(), hostile_rss_kib()};
    printf("  %-10s %7" PRIu64 " / %-7" PRIu64 "  fds %3d  RSS %7" PRIu64 " KiB\n", phase, done,
           total, p.fds, p.rss_kib);
    return p;
}

/* Growth from the warm mark to the end must stay under the tolerance. */
static void judge(const char *phase, probe start, probe warm, probe end, double secs, uint64_t n) {
    uint64_t tolerance_kib = 4096;
#ifdef SOAK_ASAN
    tolerance_kib = 16384; /* shadow memory and allocator metadata move in larger steps */
#endif
    int64_t growth = (int64_t)end.rss_kib - (int64_t)warm.rss_kib;
    printf("  %s: %" PRIu64 " cycles in %.1f s (%.0f/s); fds %d -> %d; RSS %" PRIu64 " -> %" PRIu64
           " -> %" PRIu64 " KiB (growth after warm-up %" PRId64 " KiB, tolerance %" PRIu64 ")\n",
           phase, n, secs, (double)n / secs, start.fds, end.fds, start.rss_kib, warm.rss_kib,
           end.rss_kib, growth, tolerance_kib);
    if (end.fds != start.fds) {
        printf("    FAIL: %s leaked file descriptors\n", phase);
        failures++;
    }
    if (growth > (int64_t)tolerance_kib) {
        printf("    FAIL: %s: RSS grew by %" PRId64 " KiB\n", phase, growth);
        failures++;
    }
}

static void must(glint_status st, glint_sandbox *sb, const char *what, uint64_t i) {
    if (st == GLINT_OK) return;
    printf("    FAIL: %s (cycle %" PRIu64 "): %s: %s\n", what, i, glint_status_name(st),
           sb != NULL ? glint_sandbox_last_error(sb)->message : "");
    failures++;
    exit(1);
}

static void call_work(glint_sandbox *sb, uint64_t i) {
    glint_value arg = glint_u64(i), out;
    must(glint_sandbox_call(sb, "ping", GLINT_TYPE_I64, &arg, 1, &out), sb, "ping", i);
    if (out.as.i64 != (int64_t)i + 1) must(GLINT_E_PROTOCOL, sb, "ping value", i);
    arg = glint_u64(3); /* three levels of recursion, one host call each */
    must(glint_sandbox_call(sb, "hc_recursion", GLINT_TYPE_I64, &arg, 1, &out), sb, "hc_recursion",
         i);
    if (out.as.i64 != 6) must(GLINT_E_PROTOCOL, sb, "hc_recursion value", i);
}

static void phase_lifecycles(uint64_t n) {
    printf("[phase 1: create / initialise / call / destroy x %" PRIu64 "]\n", n);
    probe start = take("start", 0, n), warm = start;
    uint64_t t0 = hostile_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        glint_sandbox *sb = hostile_create(NULL, "hostile_guest", NULL);
        call_work(sb, i);
        glint_sandbox_destroy(sb);
        if (i + 1 == n / 10) warm = take("warm", i + 1, n);
        if (i + 1 == n / 2) take("middle", i + 1, n);
    }
    double secs = (double)(hostile_now_ns() - t0) / 1e9;
    probe end = take("end", n, n);
    judge("lifecycles", start, warm, end, secs, n);
}

static void phase_restores(uint64_t n) {
    printf("[phase 2: call / restore x %" PRIu64 "]\n", n);
    glint_sandbox *sb = hostile_create(NULL, "hostile_guest", NULL);
    glint_snapshot *snap = NULL;
    must(glint_sandbox_snapshot(sb, &snap), sb, "snapshot", 0);
    probe start = take("start", 0, n), warm = start;
    uint64_t t0 = hostile_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        call_work(sb, i);
        must(glint_sandbox_restore(sb, snap), sb, "restore", i);
        if (i + 1 == n / 10) warm = take("warm", i + 1, n);
        if (i + 1 == n / 2) take("middle", i + 1, n);
    }
    double secs = (double)(hostile_now_ns() - t0) / 1e9;
    glint_counters c;
    glint_sandbox_counters(sb, &c);
    probe end = take("end", n, n);
    printf("  restores: %" PRIu64 ", pages reset by the last one: %" PRIu64 "\n", c.restores,
           c.last_restore_pages_reset);
    judge("call/restore", start, warm, end, secs, n);
    glint_sandbox_destroy(sb);
    glint_snapshot_release(snap);
}

static void phase_clones(uint64_t n) {
    printf("[phase 3: clone from snapshot / call / destroy x %" PRIu64 "]\n", n);
    glint_sandbox *base = hostile_create(NULL, "hostile_guest", NULL);
    glint_snapshot *snap = NULL;
    must(glint_sandbox_snapshot(base, &snap), base, "snapshot", 0);
    glint_sandbox_destroy(base);
    probe start = take("start", 0, n), warm = start;
    uint64_t t0 = hostile_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        glint_sandbox *sb = NULL;
        glint_error err;
        if (glint_sandbox_create_from_snapshot(snap, NULL, &sb, &err) != GLINT_OK) {
            printf("    FAIL: clone %" PRIu64 ": %s\n", i, err.message);
            exit(1);
        }
        call_work(sb, i);
        glint_sandbox_destroy(sb);
        if (i + 1 == n / 10) warm = take("warm", i + 1, n);
        if (i + 1 == n / 2) take("middle", i + 1, n);
    }
    double secs = (double)(hostile_now_ns() - t0) / 1e9;
    probe end = take("end", n, n);
    judge("clones", start, warm, end, secs, n);
    glint_snapshot_release(snap);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    glint_test_require_kvm();
    uint64_t lifecycles = 300, restores = 3000, clones = 300;
    const char *mode = argc > 1 ? argv[1] : getenv("GLINT_SOAK");
    if (mode != NULL && strcmp(mode, "full") == 0) {
        lifecycles = 10000;
        restores = 100000;
        clones = 10000;
    } else if (argc == 4) {
        lifecycles = strtoull(argv[1], NULL, 0);
        restores = strtoull(argv[2], NULL, 0);
        clones = strtoull(argv[3], NULL, 0);
    }
    printf("soak (%s%s): %" PRIu64 " lifecycles, %" PRIu64 " call/restore cycles, %" PRIu64
           " clones\n",
           mode != NULL && strcmp(mode, "full") == 0 ? "full"
           : argc == 4                               ? "custom"
                                                     : "quick",
#ifdef SOAK_ASAN
           ", ASan+LSan",
#else
           "",
#endif
           lifecycles, restores, clones);
    /* One warm-up lifecycle: first-use allocations (cancel-signal handler,
     * stdio, the guest file's page cache) are not growth. */
    glint_sandbox_destroy(hostile_create(NULL, "hostile_guest", NULL));

    phase_lifecycles(lifecycles);
    phase_restores(restores);
    phase_clones(clones);
#ifdef SOAK_ASAN
    if (__lsan_do_recoverable_leak_check() != 0) {
        printf("    FAIL: LeakSanitizer found leaks (report above)\n");
        failures++;
    } else {
        printf("LeakSanitizer: no leaks\n");
    }
#endif
    printf("%d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
