/*
 * Cancellation and deadlines (docs/cancellation.md):
 *   - glint_sandbox_kill from another thread stops a spinning guest; the
 *     time and the number of exits from kill to return are measured;
 *   - a kill that races with the start of a call (before KVM_RUN is entered)
 *     is not lost;
 *   - a kill during a host function ends the call as cancelled once the host
 *     function returns (which is not cut short);
 *   - a kill with no call running, a stale cancel signal, and foreign cancel
 *     signals during a call never cancel anything;
 *   - kills of one sandbox leave others alone, also nested ones (a host
 *     function of A calling into B);
 *   - deadlines from the configuration and from glint_sandbox_set_call_deadline,
 *     during initialisation, guest code and host functions.
 * Every call that could hang has a deadline as a safety net, so a lost kill
 * shows up as GLINT_E_DEADLINE instead of a hung test.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glint/glint.h"
#include "hostile_support.h"
#include "kvm_support.h"

#define MS 1000000ull
#define SAFETY_NS (20000ull * MS)

static int failures;

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("    FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    failures++;
}

static glint_snapshot *base_snap;

/* A watchdog: each step announces itself; if a step takes longer than its
 * allowance the test says which one and fails instead of hanging. */
static const char *volatile current_step = "start";
static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "\n    FAIL: watchdog: stuck in step: ";
    ssize_t ignored = write(1, msg, sizeof msg - 1);
    ignored = write(1, current_step, strlen(current_step));
    ignored = write(1, "\n", 1);
    (void)ignored;
    _exit(1);
}
static void step(const char *name, unsigned seconds) {
    current_step = name;
    alarm(seconds);
    printf("  . %s\n", name);
}

static glint_sandbox *clone_base(uint64_t deadline_ns) {
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.call_deadline_ns = deadline_ns;
    glint_sandbox *sb = NULL;
    glint_error err;
    if (glint_sandbox_create_from_snapshot(base_snap, &cfg, &sb, &err) != GLINT_OK) {
        fprintf(stderr, "FATAL: clone: %s\n", err.message);
        exit(1);
    }
    return sb;
}

static glint_status call_u64(glint_sandbox *sb, const char *fn, uint64_t arg, int64_t *value) {
    glint_value in = glint_u64(arg), out;
    out.as.i64 = 0;
    glint_status st = glint_sandbox_call(sb, fn, GLINT_TYPE_I64, &in, 1, &out);
    if (value != NULL) *value = out.as.i64;
    return st;
}

static void expect_ping(glint_sandbox *sb, const char *when) {
    int64_t v;
    glint_status st = call_u64(sb, "ping", 9, &v);
    if (st != GLINT_OK || v != 10)
        failf("%s: ping -> %s %s", when, glint_status_name(st),
              glint_sandbox_last_error(sb)->message);
}

static void restore_and_ping(glint_sandbox *sb, const char *when) {
    if (glint_sandbox_restore(sb, base_snap) != GLINT_OK)
        failf("%s: restore: %s", when, glint_sandbox_last_error(sb)->message);
    expect_ping(sb, when);
}

/* ---- Kill a spinning guest: timing --------------------------------------------------- */

typedef struct killer {
    glint_sandbox *sb;
    uint64_t delay_us;
    atomic_int *wait_flag; /* wait until *wait_flag is set (a host function runs) */
    atomic_int go;         /* with spin: start killing once set */
    bool spin;             /* retry kill() until it hits a running call (or stop) */
    atomic_int stop;       /* set by the caller once its call returned */
    uint64_t t_kill;       /* when kill() was called (the successful one) */
    bool hit;
    uint64_t attempts;
} killer;

static void *killer_main(void *p) {
    killer *k = p;
    if (k->wait_flag != NULL)
        while (!atomic_load(k->wait_flag)) {
            if (atomic_load(&k->stop)) return NULL;
            usleep(100);
        }
    if (k->delay_us) usleep((useconds_t)k->delay_us);
    if (k->spin)
        while (!atomic_load(&k->go)) __builtin_ia32_pause();
    do {
        k->attempts++;
        k->t_kill = hostile_now_ns();
        k->hit = glint_sandbox_kill(k->sb);
    } while (k->spin && !k->hit && !atomic_load(&k->stop));
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_kill_spinning(void) {
    enum { N = 25 };
    uint64_t lat[N];
    uint64_t exits_after[N];
    printf("[kill a spinning guest from another thread, %d times]\n", N);
    step("kill spinning guests", 300);
    glint_sandbox *sb = clone_base(SAFETY_NS);
    for (int i = 0; i < N; i++) {
        killer k = {.sb = sb, .delay_us = 20000};
        pthread_t t;
        glint_counters before, after;
        glint_sandbox_counters(sb, &before);
        pthread_create(&t, NULL, killer_main, &k);
        glint_status st = call_u64(sb, "spin_forever", 0, NULL);
        uint64_t t_ret = hostile_now_ns();
        pthread_join(t, NULL);
        glint_sandbox_counters(sb, &after);
        lat[i] = t_ret - k.t_kill;
        /* KVM_RUNs of this call that ended after the kill: the interrupted one. */
        exits_after[i] = after.exits_interrupted - before.exits_interrupted;
        if (st != GLINT_E_CANCELLED || !k.hit || !glint_sandbox_is_poisoned(sb))
            failf("kill %d: %s hit=%d poisoned=%d", i, glint_status_name(st), k.hit,
                  glint_sandbox_is_poisoned(sb));
        if (i == 0)
            printf("  call -> %s: %s\n", glint_status_name(st),
                   glint_sandbox_last_error(sb)->message);
        restore_and_ping(sb, "after kill");
    }
    qsort(lat, N, sizeof lat[0], cmp_u64);
    uint64_t max_exits = 0;
    for (int i = 0; i < N; i++) max_exits = exits_after[i] > max_exits ? exits_after[i] : max_exits;
    printf("  kill-to-return: min %.3f ms, median %.3f ms, max %.3f ms; interrupted exits per "
           "kill: at most %" PRIu64 "\n",
           (double)lat[0] / 1e6, (double)lat[N / 2] / 1e6, (double)lat[N - 1] / 1e6, max_exits);
    if (max_exits > 1) failf("a kill took more than one exit");
    glint_sandbox_destroy(sb);
}

/* ---- Kill racing with the start of a call ---------------------------------------------- */

static void test_kill_race_at_entry(void) {
    int n = hostile_full_mode() ? 2000 : 150;
    printf("[kill racing with call entry, %d times]\n", n);
    step("kill racing with entry", 600);
    glint_sandbox *sb = clone_base(SAFETY_NS);
    int cancelled = 0, completed = 0;
    uint64_t attempts = 0;
    for (int i = 0; i < n; i++) {
        /* The killer retries until the call is running, so its kill lands
         * within microseconds of begin_run, often before KVM_RUN. */
        killer k = {.sb = sb, .spin = true};
        pthread_t t;
        pthread_create(&t, NULL, killer_main, &k);
        usleep(1000); /* the killer is spinning on `go` */
        /* spin_n(2): the guest is done almost at once, so the kill may also
         * arrive after the guest finished: then the call succeeds. */
        uint64_t spins = (i % 2) ? 2 : UINT64_MAX;
        int64_t v;
        atomic_store(&k.go, 1);
        glint_status st = call_u64(sb, "spin_n", spins, &v);
        atomic_store(&k.stop, 1);
        pthread_join(t, NULL);
        attempts += k.attempts;
        if (st == GLINT_E_CANCELLED)
            cancelled++;
        else if (st == GLINT_OK && spins == 2)
            completed++;
        else
            failf("race %d: %s (%s)", i, glint_status_name(st),
                  glint_sandbox_last_error(sb)->message);
        if (glint_sandbox_is_poisoned(sb) || st == GLINT_E_CANCELLED)
            restore_and_ping(sb, "after race");
    }
    printf("  %d cancelled, %d finished before the kill landed, 0 lost (%.1f kill attempts per "
           "call)\n",
           cancelled, completed, (double)attempts / n);
    glint_sandbox_destroy(sb);
}

/* ---- Kill during a host function ------------------------------------------------------ */

static void test_kill_in_host_function(void) {
    printf("[kill while the guest is inside a 300 ms host function]\n");
    step("kill in a host function", 120);
    glint_sandbox *sb = clone_base(SAFETY_NS);
    int completed0 = atomic_load(&hostile_host.sleeps_completed);
    int eintr0 = atomic_load(&hostile_host.sleep_eintr);
    killer k = {.sb = sb, .wait_flag = &hostile_host.in_sleep, .delay_us = 50000};
    pthread_t t;
    uint64_t t0 = hostile_now_ns();
    pthread_create(&t, NULL, killer_main, &k);
    glint_status st = call_u64(sb, "hc_sleep", 300, NULL);
    uint64_t t_ret = hostile_now_ns();
    atomic_store(&k.stop, 1);
    pthread_join(t, NULL);
    int completed = atomic_load(&hostile_host.sleeps_completed) - completed0;
    printf("  -> %s after %.1f ms (kill at %.1f ms, return %.1f ms after it); host function "
           "completed: %d, its sleep saw %d EINTR\n",
           glint_status_name(st), (double)(t_ret - t0) / 1e6, (double)(k.t_kill - t0) / 1e6,
           (double)(t_ret - k.t_kill) / 1e6, completed,
           atomic_load(&hostile_host.sleep_eintr) - eintr0);
    if (st != GLINT_E_CANCELLED || !k.hit)
        failf("kill in host function: %s", glint_status_name(st));
    if (completed != 1) failf("the host function did not run to its end");
    if (t_ret - t0 < 300 * MS) failf("the call returned before the host function finished");
    restore_and_ping(sb, "after kill in host function");
    glint_sandbox_destroy(sb);
}

/* ---- Kills and signals that must not cancel ------------------------------------------- */

typedef struct storm {
    pthread_t target;
    atomic_int stop;
    uint64_t sent;
} storm;

static void *storm_main(void *p) {
    storm *s = p;
    while (!atomic_load(&s->stop)) {
        pthread_kill(s->target, SIGRTMIN + 3);
        s->sent++;
        usleep(200);
    }
    return NULL;
}

static void test_stale_and_foreign(void) {
    printf("[idle kills, stale and foreign cancel signals]\n");
    step("stale and foreign signals", 300);
    glint_sandbox *sb = clone_base(SAFETY_NS);
    /* Kill with nothing running, before and after calls. */
    if (glint_sandbox_kill(sb)) failf("kill with no call running reported a hit");
    expect_ping(sb, "after an idle kill");
    for (int i = 0; i < 10; i++) glint_sandbox_kill(sb);
    expect_ping(sb, "after ten idle kills");
    /* The cancel signal sent to this thread between calls. */
    for (int i = 0; i < 10; i++) pthread_kill(pthread_self(), SIGRTMIN + 3);
    expect_ping(sb, "after stale cancel signals");
    /* A host function that signals its own thread in the middle of a call. */
    int64_t v;
    glint_status st = call_u64(sb, "hc_signal_self", 0, &v);
    if (st != GLINT_OK || v != 0)
        failf("self-signal in a host function: %s", glint_status_name(st));
    /* A storm of cancel signals from another thread during long calls, in
     * guest code and across host calls. */
    storm s = {.target = pthread_self()};
    pthread_t t;
    glint_counters before, after;
    glint_sandbox_counters(sb, &before);
    pthread_create(&t, NULL, storm_main, &s);
    glint_status st1 = call_u64(sb, "spin_n", 20000000, &v);
    glint_status st2 = call_u64(sb, "hc_flood", 2000, NULL);
    atomic_store(&s.stop, 1);
    pthread_join(t, NULL);
    glint_sandbox_counters(sb, &after);
    printf("  %" PRIu64 " foreign cancel signals during two calls -> %s, %s; %" PRIu64
           " KVM_RUNs interrupted and resumed\n",
           s.sent, glint_status_name(st1), glint_status_name(st2),
           after.exits_interrupted - before.exits_interrupted);
    if (st1 != GLINT_OK || st2 != GLINT_OK) failf("a foreign signal cancelled a call");
    expect_ping(sb, "after the signal storm");
    /* A kill that arrives after the call finished (the killer saw it
     * running) never cancels the next call. */
    for (int i = 0; i < 50; i++) {
        killer k = {.sb = sb, .spin = true};
        pthread_create(&t, NULL, killer_main, &k);
        atomic_store(&k.go, 1);
        st = call_u64(sb, "spin_n", 1, NULL);
        atomic_store(&k.stop, 1);
        pthread_join(t, NULL);
        if (st == GLINT_E_CANCELLED) {
            restore_and_ping(sb, "late kill");
            continue;
        }
        if (st != GLINT_OK) failf("late kill %d: %s", i, glint_status_name(st));
        expect_ping(sb, "the call after a late kill");
    }
    glint_sandbox_destroy(sb);
}

/* ---- Other sandboxes, nested sandboxes --------------------------------------------------- */

typedef struct worker {
    glint_sandbox *sb;
    const char *fn;
    uint64_t arg;
    glint_status st;
} worker;

static void *worker_main(void *p) {
    worker *w = p;
    w->st = call_u64(w->sb, w->fn, w->arg, NULL);
    return NULL;
}

static void test_kill_leaves_others_alone(void) {
    printf("[a kill stops its own sandbox only]\n");
    step("kill A beside B", 120);
    worker a = {.sb = clone_base(SAFETY_NS), .fn = "spin_forever"};
    worker b = {.sb = clone_base(SAFETY_NS), .fn = "spin_n", .arg = 30000000};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, worker_main, &a);
    pthread_create(&tb, NULL, worker_main, &b);
    usleep(30000);
    bool hit = glint_sandbox_kill(a.sb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    printf("  killed A -> %s; B -> %s\n", glint_status_name(a.st), glint_status_name(b.st));
    if (!hit || a.st != GLINT_E_CANCELLED || b.st != GLINT_OK)
        failf("kill of A affected B or missed A");
    glint_sandbox_destroy(a.sb);
    glint_sandbox_destroy(b.sb);

    /* Nested: A's host function runs a call in B.  Killing A while B runs
     * lets B finish and cancels A when its host function returns; killing B
     * cancels B only. */
    for (int which = 0; which < 2; which++) {
        glint_sandbox *outer = clone_base(SAFETY_NS);
        hostile_host.nested = clone_base(SAFETY_NS);
        step(which == 0 ? "nested: kill the outer sandbox" : "nested: kill the inner sandbox", 120);
        killer k = {.sb = which == 0 ? outer : hostile_host.nested,
                    .wait_flag = &hostile_host.in_nested,
                    .delay_us = 10000};
        atomic_store(&hostile_host.in_nested, 0);
        pthread_t t;
        pthread_create(&t, NULL, killer_main, &k);
        int64_t v;
        uint64_t spins = which == 0 ? 50000000 : UINT64_MAX;
        glint_status st = call_u64(outer, "hc_nested", spins, &v);
        atomic_store(&k.stop, 1);
        pthread_join(t, NULL);
        printf("  nested, kill %s: outer -> %s, inner -> %s\n", which == 0 ? "outer" : "inner",
               glint_status_name(st), glint_status_name(hostile_host.nested_status));
        if (which == 0 && (st != GLINT_E_CANCELLED || hostile_host.nested_status != GLINT_OK))
            failf("nested: killing the outer sandbox");
        if (which == 1 && (st != GLINT_OK || v != -(int64_t)GLINT_E_CANCELLED ||
                           hostile_host.nested_status != GLINT_E_CANCELLED))
            failf("nested: killing the inner sandbox");
        glint_sandbox_destroy(hostile_host.nested);
        hostile_host.nested = NULL;
        glint_sandbox_destroy(outer);
    }
}

/* ---- Deadlines ------------------------------------------------------------------------ */

static void test_deadlines(void) {
    printf("[deadlines]\n");
    step("per-call deadline", 120);
    /* Per call through glint_sandbox_set_call_deadline. */
    glint_sandbox *sb = clone_base(0);
    expect_ping(sb, "no deadline");
    if (glint_sandbox_set_call_deadline(sb, 200 * MS) != GLINT_OK) failf("set_call_deadline");
    uint64_t t0 = hostile_now_ns();
    glint_status st = call_u64(sb, "spin_forever", 0, NULL);
    double ms = (double)(hostile_now_ns() - t0) / 1e6;
    printf("  set_call_deadline(200 ms), spinning guest -> %s after %.1f ms: %s\n",
           glint_status_name(st), ms, glint_sandbox_last_error(sb)->message);
    if (st != GLINT_E_DEADLINE || !glint_sandbox_is_poisoned(sb) || ms < 200)
        failf("per-call deadline");
    restore_and_ping(sb, "after deadline");
    /* Many calls well inside their deadline: none is cancelled by a timer
     * of an earlier call. */
    for (int i = 0; i < 200; i++) {
        st = call_u64(sb, "spin_n", 1000, NULL);
        if (st != GLINT_OK) {
            failf("short call %d under a deadline: %s", i, glint_status_name(st));
            break;
        }
    }
    /* Deadline removed again. */
    glint_sandbox_set_call_deadline(sb, 0);
    if (call_u64(sb, "spin_n", 50000000, NULL) != GLINT_OK) failf("call without deadline");
    /* A deadline passing inside a host function: the call ends when it returns. */
    glint_sandbox_set_call_deadline(sb, 100 * MS);
    int completed0 = atomic_load(&hostile_host.sleeps_completed);
    t0 = hostile_now_ns();
    st = call_u64(sb, "hc_sleep", 300, NULL);
    ms = (double)(hostile_now_ns() - t0) / 1e6;
    printf("  100 ms deadline, 300 ms host function -> %s after %.1f ms\n", glint_status_name(st),
           ms);
    if (st != GLINT_E_DEADLINE || ms < 300 ||
        atomic_load(&hostile_host.sleeps_completed) != completed0 + 1)
        failf("deadline in a host function");
    restore_and_ping(sb, "after deadline in host function");
    glint_sandbox_destroy(sb);

    /* From the configuration, during initialisation. */
    step("deadline during initialisation", 120);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.call_deadline_ns = 300 * MS;
    t0 = hostile_now_ns();
    glint_sandbox *init = hostile_create(&cfg, "hostile_init_spin", &st);
    ms = (double)(hostile_now_ns() - t0) / 1e6;
    printf("  config deadline 300 ms, guest never finishes init -> %s after %.1f ms\n",
           glint_status_name(st), ms);
    if (st != GLINT_E_DEADLINE || !glint_sandbox_is_poisoned(init)) failf("init deadline");
    glint_sandbox_destroy(init);

    /* Kill during initialisation (no deadline). */
    step("kill during initialisation", 120);
    glint_config_init(&cfg);
    glint_sandbox *k_sb = NULL;
    glint_error err;
    if (glint_sandbox_create(&cfg, glint_test_guest_path("hostile_init_spin"), &k_sb, &err) !=
        GLINT_OK) {
        failf("create: %s", err.message);
        return;
    }
    killer k = {.sb = k_sb, .delay_us = 100000};
    pthread_t t;
    pthread_create(&t, NULL, killer_main, &k);
    st = glint_sandbox_initialize(k_sb);
    pthread_join(t, NULL);
    printf("  kill during initialisation -> %s\n", glint_status_name(st));
    if (st != GLINT_E_CANCELLED || !k.hit) failf("kill during init");
    glint_sandbox_destroy(k_sb);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    glint_test_require_kvm();
    signal(SIGALRM, on_alarm);
    int fds0 = hostile_fd_count();
    glint_sandbox *base = hostile_create(NULL, "hostile_guest", NULL);
    hostile_check_ok(glint_sandbox_snapshot(base, &base_snap), base, "snapshot");
    glint_sandbox_destroy(base);
    test_kill_spinning();
    test_kill_race_at_entry();
    test_kill_in_host_function();
    test_stale_and_foreign();
    test_kill_leaves_others_alone();
    test_deadlines();
    alarm(0);
    glint_snapshot_release(base_snap);
    if (hostile_fd_count() != fds0)
        failf("file descriptors leaked: %d -> %d", fds0, hostile_fd_count());
    printf("%d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
