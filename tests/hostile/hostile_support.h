/* Shared by the hostile-guest host tests: the host functions the hostile
 * guest calls, sandbox helpers, and process measurements (RSS, fds, time). */
#ifndef GLINT_HOSTILE_SUPPORT_H
#define GLINT_HOSTILE_SUPPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "glint/glint.h"

/* What the host functions saw (one process-wide record; tests reset it). */
typedef struct hostile_host_state {
    glint_status reenter_status;      /* glint_sandbox_call() inside h_reenter */
    glint_status reenter_init_status; /* glint_sandbox_initialize() inside h_reenter_init */
    glint_status reenter_restore_status;
    atomic_int in_sleep;         /* 1 while h_sleep runs */
    atomic_int sleeps_completed; /* h_sleep calls that slept their full time */
    atomic_int sleep_eintr;      /* EINTRs h_sleep saw (the cancel signal) */
    glint_sandbox *nested;       /* sandbox h_nested calls into */
    atomic_int in_nested;        /* set when h_nested starts */
    glint_status nested_status;
    glint_snapshot *restore_target; /* snapshot h_reenter tries to restore */
    _Atomic uint64_t log_records, log_bytes, print_bytes;
} hostile_host_state;
extern hostile_host_state hostile_host;

/* Registers h_i32, h_reenter, h_reenter_init, h_big, h_bad_ret, h_sleep,
 * h_signal_self, h_nested. */
void hostile_register_host_functions(glint_sandbox *sb);
/* Log/print callbacks that only count (the host must not buffer floods). */
void hostile_count_callbacks(glint_config *cfg);

/* Creates a sandbox of the built guest `name`, registers the host functions
 * and initialises it.  With init_status NULL a failure ends the process;
 * otherwise the initialisation status is stored there and the sandbox (maybe
 * poisoned) is returned. */
glint_sandbox *hostile_create(const glint_config *cfg, const char *name, glint_status *init_status);
/* Fails the process (exit 1) with a message if st != GLINT_OK. */
void hostile_check_ok(glint_status st, glint_sandbox *sb, const char *what);

uint64_t hostile_rss_kib(void);
int hostile_fd_count(void);
uint64_t hostile_now_ns(void);
bool hostile_full_mode(void); /* GLINT_HOSTILE_FULL=1 */
bool hostile_sanitized(void); /* built with ASan */

#endif
