#include "hostile_support.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include "kvm_support.h"

hostile_host_state hostile_host;

static glint_status h_i32(glint_host_call *call, void *user, const glint_value *args, uint32_t argc,
                          glint_value *ret) {
    (void)call, (void)user, (void)argc;
    ret->as.i32 = args[0].as.i32;
    return GLINT_OK;
}

/* Re-enters its own sandbox: a call is a nested call (allowed); restore
 * must be refused. */
static glint_status h_reenter(glint_host_call *call, void *user, const glint_value *args,
                              uint32_t argc, glint_value *ret) {
    (void)user, (void)args, (void)argc, (void)ret;
    glint_sandbox *sb = glint_host_call_sandbox(call);
    glint_value arg = glint_u64(1), out;
    hostile_host.reenter_status = glint_sandbox_call(sb, "ping", GLINT_TYPE_I64, &arg, 1, &out);
    if (hostile_host.restore_target != NULL)
        hostile_host.reenter_restore_status =
            glint_sandbox_restore(sb, hostile_host.restore_target);
    glint_host_call_set_error(call, "re-entry refused with status %d",
                              (int)hostile_host.reenter_status);
    return GLINT_E_HOST_FUNCTION_ERROR;
}

static glint_status h_reenter_init(glint_host_call *call, void *user, const glint_value *args,
                                   uint32_t argc, glint_value *ret) {
    (void)user, (void)args, (void)argc;
    hostile_host.reenter_init_status = glint_sandbox_initialize(glint_host_call_sandbox(call));
    ret->as.i32 = (int32_t)hostile_host.reenter_init_status;
    return GLINT_OK;
}

/* A 1 MiB string: far more than the 16 KiB input buffer. */
static glint_status h_big(glint_host_call *call, void *user, const glint_value *args, uint32_t argc,
                          glint_value *ret) {
    (void)call, (void)user, (void)args, (void)argc;
    static char *big;
    if (big == NULL) {
        big = malloc((1u << 20) + 1);
        if (big == NULL) return GLINT_E_NO_MEMORY;
        memset(big, 'B', 1u << 20);
        big[1u << 20] = '\0';
    }
    ret->as.str.ptr = big;
    ret->as.str.len = 1u << 20;
    return GLINT_OK;
}

/* A host bug: returns a string although it declared i32. */
static glint_status h_bad_ret(glint_host_call *call, void *user, const glint_value *args,
                              uint32_t argc, glint_value *ret) {
    (void)call, (void)user, (void)args, (void)argc;
    *ret = glint_str("not an i32");
    return GLINT_OK;
}

/* Sleeps its argument in ms, all of it, whatever signals arrive. */
static glint_status h_sleep(glint_host_call *call, void *user, const glint_value *args,
                            uint32_t argc, glint_value *ret) {
    (void)call, (void)user, (void)argc;
    atomic_store(&hostile_host.in_sleep, 1);
    struct timespec left = {.tv_sec = args[0].as.u32 / 1000,
                            .tv_nsec = (long)(args[0].as.u32 % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        atomic_fetch_add(&hostile_host.sleep_eintr, 1);
    atomic_fetch_add(&hostile_host.sleeps_completed, 1);
    atomic_store(&hostile_host.in_sleep, 0);
    ret->as.i32 = 0;
    return GLINT_OK;
}

static glint_status h_signal_self(glint_host_call *call, void *user, const glint_value *args,
                                  uint32_t argc, glint_value *ret) {
    (void)call, (void)user, (void)args, (void)argc;
    pthread_kill(pthread_self(), SIGRTMIN + 3);
    ret->as.i32 = 0;
    return GLINT_OK;
}

/* Runs spin_n(arg) in hostile_host.nested (another sandbox). */
static glint_status h_nested(glint_host_call *call, void *user, const glint_value *args,
                             uint32_t argc, glint_value *ret) {
    (void)call, (void)user, (void)argc;
    glint_value out;
    atomic_store(&hostile_host.in_nested, 1);
    hostile_host.nested_status =
        glint_sandbox_call(hostile_host.nested, "spin_n", GLINT_TYPE_I64, &args[0], 1, &out);
    if (hostile_host.nested_status != GLINT_OK) return hostile_host.nested_status;
    ret->as.i64 = out.as.i64;
    return GLINT_OK;
}

void hostile_register_host_functions(glint_sandbox *sb) {
    static const glint_type i32[] = {GLINT_TYPE_I32};
    static const glint_type u32[] = {GLINT_TYPE_U32};
    static const glint_type u64[] = {GLINT_TYPE_U64};
    const struct {
        const char *name;
        glint_type ret;
        const glint_type *params;
        uint32_t argc;
        glint_host_fn fn;
    } fns[] = {
        {"h_i32", GLINT_TYPE_I32, i32, 1, h_i32},
        {"h_reenter", GLINT_TYPE_I32, NULL, 0, h_reenter},
        {"h_reenter_init", GLINT_TYPE_I32, NULL, 0, h_reenter_init},
        {"h_big", GLINT_TYPE_STRING, NULL, 0, h_big},
        {"h_bad_ret", GLINT_TYPE_I32, NULL, 0, h_bad_ret},
        {"h_sleep", GLINT_TYPE_I32, u32, 1, h_sleep},
        {"h_signal_self", GLINT_TYPE_I32, NULL, 0, h_signal_self},
        {"h_nested", GLINT_TYPE_I64, u64, 1, h_nested},
    };
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        glint_status st = glint_sandbox_register_host_function(
            sb, fns[i].name, fns[i].ret, fns[i].params, fns[i].argc, fns[i].fn, NULL);
        hostile_check_ok(st, sb, fns[i].name);
    }
}

static void count_log(void *user, glint_log_level level, const char *file, uint32_t line,
                      const char *message, size_t len) {
    (void)user, (void)level, (void)file, (void)line, (void)message;
    atomic_fetch_add(&hostile_host.log_records, 1);
    atomic_fetch_add(&hostile_host.log_bytes, len);
}

static void count_print(void *user, const char *data, size_t len) {
    (void)user, (void)data;
    atomic_fetch_add(&hostile_host.print_bytes, len);
}

void hostile_count_callbacks(glint_config *cfg) {
    cfg->log_fn = count_log;
    cfg->print_fn = count_print;
    cfg->callback_user = NULL;
}

void hostile_check_ok(glint_status st, glint_sandbox *sb, const char *what) {
    if (st == GLINT_OK) return;
    fprintf(stderr, "FATAL: %s: %s: %s\n", what, glint_status_name(st),
            sb != NULL ? glint_sandbox_last_error(sb)->message : "");
    exit(1);
}

glint_sandbox *hostile_create(const glint_config *cfg, const char *name,
                              glint_status *init_status) {
    glint_sandbox *sb = NULL;
    glint_error err;
    glint_status st = glint_sandbox_create(cfg, glint_test_guest_path(name), &sb, &err);
    if (st != GLINT_OK) {
        fprintf(stderr, "FATAL: creating %s: %s: %s\n", name, glint_status_name(st), err.message);
        exit(1);
    }
    hostile_register_host_functions(sb);
    st = glint_sandbox_initialize(sb);
    if (init_status != NULL)
        *init_status = st;
    else
        hostile_check_ok(st, sb, "initialise");
    return sb;
}

uint64_t hostile_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return 0;
    char line[256];
    uint64_t kib = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmRSS: %lu kB", &kib) == 1) break;
    }
    fclose(f);
    return kib;
}

int hostile_fd_count(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') n++;
    }
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

uint64_t hostile_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool hostile_full_mode(void) {
    const char *v = getenv("GLINT_HOSTILE_FULL");
    return v != NULL && strcmp(v, "1") == 0;
}

bool hostile_sanitized(void) {
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}
