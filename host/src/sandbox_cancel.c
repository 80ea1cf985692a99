/*
 * sandbox_cancel.c - cancellation and deadlines (docs/cancellation.md).
 *
 * A run is bracketed by glint_sb_begin_run/glint_sb_end_run, which publish
 * "running" in run_state and which thread runs the vCPU.  glint_sandbox_kill
 * (any thread) sets CANCEL and signals that thread; the signal interrupts
 * KVM_RUN (no SA_RESTART) and the run loop sees CANCEL.  A deadline is a
 * POSIX timer that sends the same signal to the vCPU thread.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox_internal.h"

/* The sandbox running on this thread, for the cancel-signal handler. */
static _Thread_local glint_sandbox *tls_running = NULL;

/* This thread's identity for the deadline timer.  A timer targets a thread
 * by TID, and TIDs are reused once a thread exits: a timer made for an
 * exited thread would silently never fire for a new thread with the same
 * TID.  The (TID, first-use time) pair names a thread uniquely: two threads
 * with one TID never live at the same time. */
static _Thread_local struct {
    pid_t tid;
    uint64_t id;
} tls_thread;

uint64_t glint_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int glint_default_cancel_signal(void) { return SIGRTMIN + 3; }

static void cancel_signal_handler(int sig) {
    (void)sig;
    int saved = errno;
    /* Every sandbox running on this thread: the innermost one (a host
     * function may call into another sandbox) and those whose host function
     * it runs inside.  An interrupt request on a sandbox that was not meant
     * is harmless: its run loop sees neither a kill nor a passed deadline
     * and re-enters. */
    for (glint_sandbox *sb = tls_running; sb != NULL; sb = sb->tls_outer)
        sb->hv_ops->request_interrupt(sb->hv);
    errno = saved;
}

glint_status glint_sb_install_cancel_handler(int sig, glint_error *err) {
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0)
        return glint_fail_errno(err, GLINT_E_INVALID_ARGUMENT, errno, "bad cancel_signal %d", sig);
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == cancel_signal_handler) return GLINT_OK;
    if ((old.sa_flags & SA_SIGINFO) || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
        return glint_fail(err, GLINT_E_INVALID_ARGUMENT,
                          "signal %d already has a handler; choose another cancel_signal", sig);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cancel_signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: KVM_RUN must return EINTR */
    if (sigaction(sig, &sa, NULL) != 0)
        return glint_fail_errno(err, GLINT_E_INVALID_ARGUMENT, errno,
                                "installing the cancel handler for signal %d", sig);
    return GLINT_OK;
}

static void this_thread(pid_t *tid, uint64_t *id) {
    if (tls_thread.id == 0) {
        tls_thread.tid = (pid_t)syscall(SYS_gettid);
        tls_thread.id = glint_monotonic_ns() | 1u;
    }
    *tid = tls_thread.tid;
    *id = tls_thread.id;
}

/* Sets the absolute deadline ns from now, then arms the timer for it (in
 * that order: see arm_deadline). */
static glint_status start_deadline(glint_sandbox *sb, uint64_t ns) {
    uint64_t now = glint_monotonic_ns();
    sb->deadline_ns = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(ns % 1000000000ull);
    if (glint_counted_timer_settime(&sb->counters, sb->deadline_timer, &its) != 0)
        return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "timer_settime failed: %s",
                             strerror(errno));
    return GLINT_OK;
}

static glint_status arm_deadline(glint_sandbox *sb) {
    pid_t tid;
    uint64_t id;
    this_thread(&tid, &id);
    if (!sb->timer_created || sb->timer_tid != tid || sb->timer_thread_id != id) {
        if (sb->timer_created) glint_counted_timer_delete(&sb->counters, sb->deadline_timer);
        sb->timer_created = false;
        struct sigevent sev;
        memset(&sev, 0, sizeof sev);
        sev.sigev_notify = SIGEV_THREAD_ID;
        sev.sigev_signo = sb->cancel->cancel_signal;
        sev._sigev_un._tid = tid;
        if (glint_counted_timer_create(&sb->counters, CLOCK_MONOTONIC, &sev, &sb->deadline_timer) !=
            0)
            return glint_sb_fail(sb, GLINT_E_NO_MEMORY, "timer_create failed: %s", strerror(errno));
        sb->timer_created = true;
        sb->timer_tid = tid;
        sb->timer_thread_id = id;
    }
    /* The absolute deadline is taken before the timer is armed, so that it
     * is never later than the timer's expiry: when the timer's signal
     * arrives the run loop always finds the deadline passed (otherwise it
     * would take the signal for a stale one and re-enter a guest that may
     * spin forever, with no second signal to come). */
    return start_deadline(sb, sb->cfg.call_deadline_ns);
}

glint_status glint_sb_begin_run(glint_sandbox *sb) {
    sb->hv_ops->clear_interrupt(sb->hv);
    sb->cancel->vcpu_thread = pthread_self();
    sb->tls_outer = tls_running; /* non-NULL inside another sandbox's host function */
    tls_running = sb;
    uint64_t gen =
        atomic_load_explicit(&sb->cancel->run_state, memory_order_relaxed) & ~(uint64_t)3u;
    atomic_store_explicit(&sb->cancel->run_state, gen | GLINT_RUN_RUNNING, memory_order_release);
    sb->deadline_ns = 0;
    if (sb->cfg.call_deadline_ns != 0) return arm_deadline(sb);
    return GLINT_OK;
}

static void wait_until_zero(_Atomic uint32_t *count) {
    while (atomic_load_explicit(count, memory_order_acquire) != 0) __builtin_ia32_pause();
}

glint_kill_handle *glint_kill_handle_new(glint_counters *c, int sig) {
    glint_kill_handle *h = glint_counted_calloc(c, 1, sizeof *h);
    if (h == NULL) return NULL;
    atomic_init(&h->refs, 1);
    atomic_init(&h->run_state, 0);
    atomic_init(&h->signalling, 0);
    h->cancel_signal = sig;
    return h;
}

glint_kill_handle *glint_sandbox_kill_handle(glint_sandbox *sb) {
    if (sb == NULL) return NULL;
    atomic_fetch_add_explicit(&sb->cancel->refs, 1, memory_order_relaxed);
    return sb->cancel;
}

void glint_kill_handle_release(glint_kill_handle *h) {
    if (h == NULL) return;
    if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) == 1) free(h);
}

void glint_sb_end_run(glint_sandbox *sb) {
    uint64_t gen =
        atomic_load_explicit(&sb->cancel->run_state, memory_order_relaxed) & ~(uint64_t)3u;
    atomic_store_explicit(&sb->cancel->run_state, gen + GLINT_RUN_GEN_ONE, memory_order_release);
    /* A concurrent kill that saw this run may still be signalling this
     * thread: wait it out so that it never targets a thread that has moved
     * on or exited.  Kills from now on see no run and never signal. */
    wait_until_zero(&sb->cancel->signalling);
    if (sb->deadline_ns != 0) {
        struct itimerspec off;
        memset(&off, 0, sizeof off);
        glint_counted_timer_settime(&sb->counters, sb->deadline_timer, &off);
        sb->deadline_ns = 0;
    }
    tls_running = sb->tls_outer;
    sb->tls_outer = NULL;
}

void glint_sb_pause_deadline(glint_sandbox *sb, uint64_t *left) {
    *left = 0;
    if (sb->deadline_ns == 0) return;
    uint64_t now = glint_monotonic_ns();
    /* Already passed: resume gives it 1 ns, and the run loop ends the call. */
    *left = sb->deadline_ns > now ? sb->deadline_ns - now : 1;
    struct itimerspec off;
    memset(&off, 0, sizeof off);
    glint_counted_timer_settime(&sb->counters, sb->deadline_timer, &off);
}

glint_status glint_sb_resume_deadline(glint_sandbox *sb, uint64_t left) {
    if (left == 0 || sb->deadline_ns == 0) return GLINT_OK;
    return start_deadline(sb, left);
}

void glint_sb_cancel_teardown(glint_sandbox *sb) {
    if (sb->cancel == NULL) return;
    /* A glint_sandbox_kill that began before destroy reads the sandbox until
     * it leaves.  Kills through a handle touch only the handle: destroy
     * never waits for them. */
    wait_until_zero(&sb->api_kills);
    if (sb->timer_created) glint_counted_timer_delete(&sb->counters, sb->deadline_timer);
    sb->timer_created = false;
    glint_kill_handle_release(sb->cancel);
    sb->cancel = NULL;
}

/* True while a run is in progress on sb.  Since a sandbox is used by one
 * thread at a time, a caller that finds it true is a host function of this
 * very sandbox trying to re-enter it. */
bool glint_sb_running(const glint_sandbox *sb) {
    return (atomic_load_explicit(&sb->cancel->run_state, memory_order_acquire) &
            GLINT_RUN_RUNNING) != 0;
}

glint_status glint_sb_fail_running(glint_sandbox *sb, const char *what) {
    return glint_sb_fail(sb, GLINT_E_STATE,
                         "%s refused: a call is running on this sandbox (re-entry from one of its "
                         "host functions is not allowed)",
                         what);
}

glint_status glint_sandbox_set_call_deadline(glint_sandbox *sb, uint64_t deadline_ns) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (glint_sb_running(sb)) return glint_sb_fail_running(sb, "glint_sandbox_set_call_deadline");
    sb->cfg.call_deadline_ns = deadline_ns;
    return GLINT_OK;
}

bool glint_kill_handle_kill(glint_kill_handle *h) {
    if (h == NULL) return false;
    uint64_t s = atomic_load_explicit(&h->run_state, memory_order_acquire);
    if (!(s & GLINT_RUN_RUNNING)) {
        GLINT_TRACE_KILL(h, false);
        return false;
    }
    /* Counted before the CAS: a CAS that succeeds happened before the run's
     * end (which changes run_state), so that end sees the count and waits.
     * A run that ends first makes the CAS fail (the generation moved on). */
    atomic_fetch_add_explicit(&h->signalling, 1, memory_order_acq_rel);
    s = atomic_load_explicit(&h->run_state, memory_order_acquire);
    bool hit = false;
    while (s & GLINT_RUN_RUNNING) {
        if (atomic_compare_exchange_weak_explicit(&h->run_state, &s, s | GLINT_RUN_CANCEL,
                                                  memory_order_acq_rel, memory_order_acquire)) {
            hit = true;
            break;
        }
    }
    if (hit) pthread_kill(h->vcpu_thread, h->cancel_signal);
    GLINT_TRACE_KILL(h, hit);
    atomic_fetch_sub_explicit(&h->signalling, 1, memory_order_acq_rel);
    return hit;
}

bool glint_sandbox_kill(glint_sandbox *sb) {
    if (sb == NULL) return false;
    atomic_fetch_add_explicit(&sb->api_kills, 1, memory_order_acq_rel);
    bool hit = glint_kill_handle_kill(sb->cancel);
    atomic_fetch_sub_explicit(&sb->api_kills, 1, memory_order_acq_rel);
    return hit;
}
