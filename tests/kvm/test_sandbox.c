/*
 * Sandbox tests against tests/guests/test_guest.c: lifecycle, every type,
 * edge values, signature checks on both sides, host callbacks, logging and
 * printing, and every guest failure ending in the right error with the
 * sandbox poisoned.  One shared sandbox serves the tests that leave it usable;
 * each failure test gets its own.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "glint/abi.h"
#include "glint/glint.h"
#include "kvm_support.h"

/* ---- Host functions used by the guest ------------------------------------ */

static glint_status host_add(glint_host_call *call, void *user, const glint_value *args,
                             uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    (void)argc;
    ret->as.i32 = (int32_t)((uint32_t)args[0].as.i32 + (uint32_t)args[1].as.i32); /* wraps, no UB */
    return GLINT_OK;
}

static glint_status host_echo(glint_host_call *call, void *user, const glint_value *args,
                              uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    (void)argc;
    *ret = args[0];
    return GLINT_OK;
}

/* host_sum_args(32 x u64) -> u64, weighted as the guest's sum_args. */
static glint_status host_sum_args(glint_host_call *call, void *user, const glint_value *args,
                                  uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < argc; i++) sum += (uint64_t)(i + 1u) * args[i].as.u64;
    ret->as.u64 = sum;
    return GLINT_OK;
}

static glint_status host_fail(glint_host_call *call, void *user, const glint_value *args,
                              uint32_t argc, glint_value *ret) {
    (void)user;
    (void)args;
    (void)argc;
    (void)ret;
    glint_host_call_set_error(call, "host_fail says no");
    return GLINT_E_HOST_FUNCTION_ERROR;
}

typedef struct capture {
    int log_count;
    uint32_t levels[16];
    char messages[16][64];
    char files[16][128];
    uint32_t lines[16];
    char printed[256];
    size_t printed_len;
} capture;

static void on_log(void *user, glint_log_level level, const char *file, uint32_t line,
                   const char *message, size_t len) {
    capture *c = user;
    if (c->log_count < 16) {
        c->levels[c->log_count] = (uint32_t)level;
        snprintf(c->messages[c->log_count], sizeof c->messages[0], "%.*s", (int)len, message);
        snprintf(c->files[c->log_count], sizeof c->files[0], "%s", file);
        c->lines[c->log_count] = line;
    }
    c->log_count++;
}

static void on_print(void *user, const char *data, size_t len) {
    capture *c = user;
    size_t room = sizeof c->printed - 1 - c->printed_len;
    if (len > room) len = room;
    memcpy(c->printed + c->printed_len, data, len);
    c->printed_len += len;
    c->printed[c->printed_len] = '\0';
}

static void register_host_functions(glint_sandbox *sb) {
    static const glint_type two_i32[] = {GLINT_TYPE_I32, GLINT_TYPE_I32};
    assert_int_equal(glint_sandbox_register_host_function(sb, "host_add", GLINT_TYPE_I32, two_i32,
                                                          2, host_add, NULL),
                     GLINT_OK);
    assert_int_equal(glint_sandbox_register_host_function(sb, "host_fail", GLINT_TYPE_I32, NULL, 0,
                                                          host_fail, NULL),
                     GLINT_OK);
    glint_type u64s[GLINT_MAX_ARGS + 1];
    for (uint32_t i = 0; i <= GLINT_MAX_ARGS; i++) u64s[i] = GLINT_TYPE_U64;
    assert_int_equal(glint_sandbox_register_host_function(sb, "host_sum_args", GLINT_TYPE_U64, u64s,
                                                          GLINT_MAX_ARGS, host_sum_args, NULL),
                     GLINT_OK);
    assert_int_equal(glint_sandbox_register_host_function(sb, "host_too_many", GLINT_TYPE_U64, u64s,
                                                          GLINT_MAX_ARGS + 1, host_sum_args, NULL),
                     GLINT_E_INVALID_ARGUMENT);
    for (int t = GLINT_TYPE_I32; t <= GLINT_TYPE_BYTES; t++) {
        char name[64];
        glint_type ty = (glint_type)t;
        snprintf(name, sizeof name, "host_echo_%s", glint_type_name(t));
        assert_int_equal(
            glint_sandbox_register_host_function(sb, name, ty, &ty, 1, host_echo, NULL), GLINT_OK);
    }
}

static glint_sandbox *make_sandbox(glint_config *cfg, capture *cap) {
    glint_config local;
    if (cfg == NULL) {
        glint_config_init(&local);
        cfg = &local;
    }
    if (cap != NULL) {
        cfg->log_fn = on_log;
        cfg->print_fn = on_print;
        cfg->callback_user = cap;
    }
    glint_sandbox *sb = NULL;
    glint_error err;
    glint_status st = glint_sandbox_create(cfg, glint_test_guest_path("test_guest"), &sb, &err);
    if (st != GLINT_OK) fail_msg("create: %s", err.message);
    register_host_functions(sb);
    st = glint_sandbox_initialize(sb);
    if (st != GLINT_OK) fail_msg("initialise: %s", glint_sandbox_last_error(sb)->message);
    return sb;
}

static glint_sandbox *shared;
static capture shared_capture;

static int setup_shared(void **state) {
    (void)state;
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.log_level = GLINT_LOG_TRACE;
    shared = make_sandbox(&cfg, &shared_capture);
    return shared == NULL;
}

static int teardown_shared(void **state) {
    (void)state;
    glint_sandbox_destroy(shared);
    return 0;
}

static glint_value call1(const char *name, glint_type ret, glint_value arg) {
    glint_value out;
    memset(&out, 0, sizeof out);
    glint_status st = glint_sandbox_call(shared, name, ret, &arg, 1, &out);
    if (st != GLINT_OK) fail_msg("%s: %s", name, glint_sandbox_last_error(shared)->message);
    return out;
}

/* ---- Types --------------------------------------------------------------- */

static void test_echo_integers(void **state) {
    (void)state;
    const int32_t i32s[] = {0, 1, -1, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof i32s / sizeof i32s[0]; i++)
        assert_int_equal(call1("echo_i32", GLINT_TYPE_I32, glint_i32(i32s[i])).as.i32, i32s[i]);
    assert_int_equal(call1("echo_u32", GLINT_TYPE_U32, glint_u32(UINT32_MAX)).as.u32, UINT32_MAX);
    assert_true(call1("echo_i64", GLINT_TYPE_I64, glint_i64(INT64_MIN)).as.i64 == INT64_MIN);
    assert_true(call1("echo_i64", GLINT_TYPE_I64, glint_i64(INT64_MAX)).as.i64 == INT64_MAX);
    assert_true(call1("echo_u64", GLINT_TYPE_U64, glint_u64(UINT64_MAX)).as.u64 == UINT64_MAX);
    assert_true(call1("echo_bool", GLINT_TYPE_BOOL, glint_bool(true)).as.b);
    assert_false(call1("echo_bool", GLINT_TYPE_BOOL, glint_bool(false)).as.b);
}

static void test_echo_floats(void **state) {
    (void)state;
    const double f64s[] = {0.0, -0.0, 1.5, -2.25e300, INFINITY, -INFINITY, 4.9e-324};
    for (size_t i = 0; i < sizeof f64s / sizeof f64s[0]; i++) {
        double got = call1("echo_f64", GLINT_TYPE_F64, glint_f64(f64s[i])).as.f64;
        assert_memory_equal(&got, &f64s[i], sizeof got);
    }
    double nan_in = NAN;
    double nan_out = call1("echo_f64", GLINT_TYPE_F64, glint_f64(nan_in)).as.f64;
    assert_true(isnan(nan_out));
    float f = -3.5f;
    assert_true(call1("echo_f32", GLINT_TYPE_F32, glint_f32(f)).as.f32 == f);
    assert_true(isnan(call1("echo_f32", GLINT_TYPE_F32, glint_f32(NAN)).as.f32));
}

static void test_echo_string_and_bytes(void **state) {
    (void)state;
    glint_value v = call1("echo_string", GLINT_TYPE_STRING, glint_str(""));
    assert_int_equal(v.as.str.len, 0);
    assert_string_equal(v.as.str.ptr, "");
    v = call1("echo_string", GLINT_TYPE_STRING, glint_str("héllo, sandbox"));
    assert_string_equal(v.as.str.ptr, "héllo, sandbox");
    v = call1("echo_bytes", GLINT_TYPE_BYTES, glint_bytes(NULL, 0));
    assert_int_equal(v.as.bytes.len, 0);
    const uint8_t raw[] = {0, 1, 0, 255, 0};
    v = call1("echo_bytes", GLINT_TYPE_BYTES, glint_bytes(raw, sizeof raw));
    assert_int_equal(v.as.bytes.len, sizeof raw);
    assert_memory_equal(v.as.bytes.ptr, raw, sizeof raw);

    glint_value args[2] = {glint_str("foo"), glint_str("bar")};
    glint_value out;
    assert_int_equal(glint_sandbox_call(shared, "concat", GLINT_TYPE_STRING, args, 2, &out),
                     GLINT_OK);
    assert_string_equal(out.as.str.ptr, "foobar");
}

static void test_maximum_size_buffers(void **state) {
    (void)state;
    glint_layout_info l;
    glint_sandbox_layout(shared, &l);
    /* Input: 8 (top) + message + 8 (back-pointer); message = 8 header +
     * name (4 + 10 + 1) + ret + argc + type + len (4) + n. */
    size_t max_in = l.input_size - 16 - 8 - 15 - 2 - 5;
    uint8_t *big = malloc(max_in + 1);
    for (size_t i = 0; i < max_in + 1; i++) big[i] = (uint8_t)(i * 7);
    glint_value arg = glint_bytes(big, (uint32_t)max_in), out;
    assert_int_equal(glint_sandbox_call(shared, "echo_bytes", GLINT_TYPE_BYTES, &arg, 1, &out),
                     GLINT_OK);
    assert_int_equal(out.as.bytes.len, max_in);
    assert_memory_equal(out.as.bytes.ptr, big, max_in);
    arg = glint_bytes(big, (uint32_t)max_in + 1);
    assert_int_equal(glint_sandbox_call(shared, "echo_bytes", GLINT_TYPE_BYTES, &arg, 1, &out),
                     GLINT_E_ARGS_TOO_BIG);
    assert_false(glint_sandbox_is_poisoned(shared));
    free(big);

    /* Output: a result larger than the buffer is an error, not truncation. */
    arg = glint_u32((uint32_t)l.output_size);
    assert_int_equal(glint_sandbox_call(shared, "make_bytes", GLINT_TYPE_BYTES, &arg, 1, &out),
                     GLINT_E_RESULT_TOO_BIG);
    assert_false(glint_sandbox_is_poisoned(shared));
    arg = glint_u32(1000);
    assert_int_equal(glint_sandbox_call(shared, "make_bytes", GLINT_TYPE_BYTES, &arg, 1, &out),
                     GLINT_OK);
    assert_int_equal(out.as.bytes.len, 1000);
    assert_int_equal(((const uint8_t *)out.as.bytes.ptr)[999], 999 & 0xff);
}

/* ABI 2: 32 arguments each way (16 before). */
static void test_max_args_both_ways(void **state) {
    (void)state;
    assert_int_equal(GLINT_MAX_ARGS, 32);
    glint_value args[GLINT_MAX_ARGS + 1], out;
    uint64_t want = 0;
    for (uint32_t i = 0; i <= GLINT_MAX_ARGS; i++) {
        args[i] = glint_u64(1000u + i);
        if (i < GLINT_MAX_ARGS) want += (uint64_t)(i + 1u) * (1000u + i);
    }
    const glint_function_info *f = glint_sandbox_find_function(shared, "sum_args");
    assert_non_null(f);
    assert_int_equal(f->argc, GLINT_MAX_ARGS);
    assert_int_equal(
        glint_sandbox_call(shared, "sum_args", GLINT_TYPE_U64, args, GLINT_MAX_ARGS, &out),
        GLINT_OK);
    assert_true(out.as.u64 == want);
    assert_int_equal(
        glint_sandbox_call(shared, "sum_args", GLINT_TYPE_U64, args, GLINT_MAX_ARGS + 1, &out),
        GLINT_E_INVALID_ARGUMENT);
    assert_false(glint_sandbox_is_poisoned(shared));
    /* Guest -> host with 32 arguments. */
    want = 0;
    for (uint32_t i = 0; i < GLINT_MAX_ARGS; i++) want += (uint64_t)(i + 1u) * (77u + i);
    assert_true(call1("call_host_sum_args", GLINT_TYPE_U64, glint_u64(77)).as.u64 == want);
}

/* The I/O buffers are bounded by memory_cap, not by a fixed 64 MiB: a
 * 65 MiB argument through a 65 MiB + 64 KiB input buffer. */
static void test_io_buffer_above_64_mib(void **state) {
    (void)state;
    const uint32_t n = 65u * 1024u * 1024u;
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.input_size = (uint64_t)n + 64u * 1024u;
    cfg.scratch_size += cfg.input_size - GLINT_DEFAULT_INPUT_SIZE;
    glint_sandbox *sb = make_sandbox(&cfg, NULL);
    uint8_t *big = malloc(n);
    assert_non_null(big);
    memset(big, 0x5A, n);
    big[n - 1] = 0xC3;
    glint_value arg = glint_bytes(big, n), out;
    assert_int_equal(glint_sandbox_call(sb, "bytes_tail", GLINT_TYPE_U64, &arg, 1, &out), GLINT_OK);
    assert_true(out.as.u64 == (uint64_t)n * 256u + 0xC3u);
    free(big);
    glint_sandbox_destroy(sb);
    /* Larger than memory_cap: refused at creation, naming both. */
    glint_config_init(&cfg);
    cfg.memory_cap = 32u * 1024u * 1024u;
    cfg.input_size = cfg.memory_cap + 1u;
    cfg.scratch_size = 2 * cfg.memory_cap;
    glint_error err;
    assert_int_equal(glint_sandbox_create(&cfg, glint_test_guest_path("test_guest"), &sb, &err),
                     GLINT_E_TOO_BIG);
    assert_null(sb);
    assert_non_null(strstr(err.message, "input_size"));
    assert_non_null(strstr(err.message, "memory_cap"));
}

static void test_state_persists_between_calls(void **state) {
    (void)state;
    glint_value a, b;
    assert_int_equal(glint_sandbox_call(shared, "counter_inc", GLINT_TYPE_I64, NULL, 0, &a),
                     GLINT_OK);
    assert_int_equal(glint_sandbox_call(shared, "counter_inc", GLINT_TYPE_I64, NULL, 0, &b),
                     GLINT_OK);
    assert_true(b.as.i64 == a.as.i64 + 1);
    assert_int_equal(glint_sandbox_call(shared, "void_fn", GLINT_TYPE_VOID, NULL, 0, NULL),
                     GLINT_OK);
}

static void test_signature_errors(void **state) {
    (void)state;
    glint_value out, two[2] = {glint_i32(1), glint_i32(2)};
    assert_int_equal(glint_sandbox_call(shared, "no_such_fn", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_E_FUNCTION_NOT_FOUND);
    assert_non_null(strstr(glint_sandbox_last_error(shared)->message, "no_such_fn"));
    assert_int_equal(glint_sandbox_call(shared, "add_i32", GLINT_TYPE_I32, two, 1, &out),
                     GLINT_E_PARAMETER_COUNT);
    glint_value wrong[2] = {glint_i32(1), glint_i64(2)};
    assert_int_equal(glint_sandbox_call(shared, "add_i32", GLINT_TYPE_I32, wrong, 2, &out),
                     GLINT_E_PARAMETER_TYPE);
    assert_int_equal(glint_sandbox_call(shared, "add_i32", GLINT_TYPE_I64, two, 2, &out),
                     GLINT_E_RETURN_TYPE);
    glint_value bad_str = glint_str("x");
    bad_str.as.str.ptr = NULL;
    assert_int_equal(
        glint_sandbox_call(shared, "echo_string", GLINT_TYPE_STRING, &bad_str, 1, &out),
        GLINT_E_INVALID_ARGUMENT);
    assert_false(glint_sandbox_is_poisoned(shared));
    assert_int_equal(glint_sandbox_call(shared, "add_i32", GLINT_TYPE_I32, two, 2, &out), GLINT_OK);
    assert_int_equal(out.as.i32, 3);
}

static void test_guest_error_does_not_poison(void **state) {
    (void)state;
    glint_value arg = glint_str("boom"), out;
    assert_int_equal(glint_sandbox_call(shared, "guest_error", GLINT_TYPE_I32, &arg, 1, &out),
                     GLINT_E_GUEST_ERROR);
    assert_non_null(strstr(glint_sandbox_last_error(shared)->message, "boom"));
    assert_false(glint_sandbox_is_poisoned(shared));
}

/* ---- Host functions ------------------------------------------------------ */

static void test_host_callbacks(void **state) {
    (void)state;
    glint_value args[2] = {glint_i32(40), glint_i32(2)}, out;
    assert_int_equal(glint_sandbox_call(shared, "call_host_add", GLINT_TYPE_I32, args, 2, &out),
                     GLINT_OK);
    assert_int_equal(out.as.i32, 42);
    assert_int_equal(call1("call_host_echo_i32", GLINT_TYPE_I32, glint_i32(INT32_MIN)).as.i32,
                     INT32_MIN);
    assert_int_equal(call1("call_host_echo_u32", GLINT_TYPE_U32, glint_u32(7)).as.u32, 7);
    assert_true(call1("call_host_echo_i64", GLINT_TYPE_I64, glint_i64(INT64_MIN)).as.i64 ==
                INT64_MIN);
    assert_true(call1("call_host_echo_u64", GLINT_TYPE_U64, glint_u64(UINT64_MAX)).as.u64 ==
                UINT64_MAX);
    assert_true(call1("call_host_echo_f32", GLINT_TYPE_F32, glint_f32(1.25f)).as.f32 == 1.25f);
    assert_true(call1("call_host_echo_f64", GLINT_TYPE_F64, glint_f64(-0.5)).as.f64 == -0.5);
    assert_true(call1("call_host_echo_bool", GLINT_TYPE_BOOL, glint_bool(true)).as.b);
    assert_string_equal(
        call1("call_host_echo_string", GLINT_TYPE_STRING, glint_str("round trip")).as.str.ptr,
        "round trip");
    const uint8_t raw[] = {9, 0, 8};
    out = call1("call_host_echo_bytes", GLINT_TYPE_BYTES, glint_bytes(raw, 3));
    assert_int_equal(out.as.bytes.len, 3);
    assert_memory_equal(out.as.bytes.ptr, raw, 3);
}

static void test_host_callback_errors(void **state) {
    (void)state;
    glint_value out;
    assert_int_equal(glint_sandbox_call(shared, "call_host_fail", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_E_HOST_FUNCTION_ERROR);
    assert_non_null(strstr(glint_sandbox_last_error(shared)->message, "host_fail says no"));
    assert_int_equal(glint_sandbox_call(shared, "call_host_unknown", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_OK);
    assert_int_equal(out.as.i32, GLINT_E_FUNCTION_NOT_FOUND);
    assert_int_equal(
        glint_sandbox_call(shared, "call_host_wrong_types", GLINT_TYPE_I32, NULL, 0, &out),
        GLINT_OK);
    assert_int_equal(out.as.i32, GLINT_E_PARAMETER_COUNT);
    assert_false(glint_sandbox_is_poisoned(shared));
}

static void test_many_host_calls(void **state) {
    (void)state;
    glint_counters before, after;
    glint_sandbox_counters(shared, &before);
    glint_value out = call1("call_host_n", GLINT_TYPE_I64, glint_i32(100));
    glint_sandbox_counters(shared, &after);
    /* sum over i in [0,100) of (i + 1) */
    assert_true(out.as.i64 == 5050);
    assert_true(after.host_calls - before.host_calls == 100);
    /* One exit per host call plus the final DONE, and nothing else. */
    assert_true(after.vm_runs - before.vm_runs == 101);
    assert_true(after.ioctls_other == before.ioctls_other);
}

/* ---- Logging and printing ------------------------------------------------ */

static void test_log_levels(void **state) {
    (void)state;
    memset(&shared_capture, 0, sizeof shared_capture);
    assert_int_equal(glint_sandbox_call(shared, "log_levels", GLINT_TYPE_VOID, NULL, 0, NULL),
                     GLINT_OK);
    assert_int_equal(shared_capture.log_count, 5);
    for (int i = 0; i < 5; i++) {
        char expect[32];
        snprintf(expect, sizeof expect, "level %d", i);
        assert_int_equal(shared_capture.levels[i], (uint32_t)i);
        assert_string_equal(shared_capture.messages[i], expect);
        assert_non_null(strstr(shared_capture.files[i], "test_guest.c"));
        assert_true(shared_capture.lines[i] > 0);
    }
}

static void test_log_level_filter(void **state) {
    (void)state;
    capture cap;
    memset(&cap, 0, sizeof cap);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.log_level = GLINT_LOG_WARN;
    glint_sandbox *sb = make_sandbox(&cfg, &cap);
    glint_counters before, after;
    glint_sandbox_counters(sb, &before);
    assert_int_equal(glint_sandbox_call(sb, "log_levels", GLINT_TYPE_VOID, NULL, 0, NULL),
                     GLINT_OK);
    glint_sandbox_counters(sb, &after);
    assert_int_equal(cap.log_count, 2);
    assert_int_equal(cap.levels[0], GLINT_LOG_WARN);
    assert_int_equal(cap.levels[1], GLINT_LOG_ERROR);
    /* Filtered records never leave the guest: 2 log exits + DONE. */
    assert_true(after.vm_runs - before.vm_runs == 3);
    glint_sandbox_destroy(sb);
}

static void test_print(void **state) {
    (void)state;
    memset(&shared_capture, 0, sizeof shared_capture);
    assert_int_equal(glint_sandbox_call(shared, "print_hello", GLINT_TYPE_VOID, NULL, 0, NULL),
                     GLINT_OK);
    assert_string_equal(shared_capture.printed, "hello from guest 42\n");
}

/* ---- Guest failures ------------------------------------------------------ */

typedef struct failure_case {
    const char *function;
    glint_status expected;
    int vector; /* -1: not a CPU exception */
} failure_case;

static void expect_failure(const failure_case *c) {
    glint_sandbox *sb = make_sandbox(NULL, NULL);
    glint_value out;
    glint_status st = glint_sandbox_call(sb, c->function, GLINT_TYPE_I32, NULL, 0, &out);
    const glint_error *e = glint_sandbox_last_error(sb);
    printf("  %-22s -> %s: %s\n", c->function, glint_status_name(st), e->message);
    assert_int_equal(st, c->expected);
    assert_true(e->message[0] != '\0');
    assert_true(glint_sandbox_is_poisoned(sb));
    if (c->vector >= 0) {
        assert_true(e->has_fault);
        assert_int_equal(e->vector, c->vector);
        assert_true(e->rip != 0);
    }
    /* Poisoned: further calls are refused without entering the VM. */
    assert_int_equal(glint_sandbox_call(sb, "add_i32", GLINT_TYPE_I32,
                                        (glint_value[]){glint_i32(1), glint_i32(2)}, 2, &out),
                     GLINT_E_POISONED);
    glint_sandbox_destroy(sb);
}

static void test_guest_failures(void **state) {
    (void)state;
    static const failure_case cases[] = {
        {"fault_ud2", GLINT_E_GUEST_FAULT, 6},
        {"fault_div0", GLINT_E_GUEST_FAULT, 0},
        {"fault_null_read", GLINT_E_GUEST_FAULT, 14},
        {"fault_int3", GLINT_E_GUEST_FAULT, 3},
        {"fault_write_code", GLINT_E_GUEST_FAULT, 14},
        {"fault_exec_heap", GLINT_E_GUEST_FAULT, 14},
        {"fault_exec_data", GLINT_E_GUEST_FAULT, 14},
        {"fault_stack_overflow", GLINT_E_STACK_OVERFLOW, 14},
        {"fault_abort", GLINT_E_GUEST_ABORT, -1},
        {"fault_exit", GLINT_E_GUEST_ABORT, -1},
        {"fault_glint_abort", GLINT_E_GUEST_ABORT, -1},
        /* Privileged at CPL 3: #GP, reported by the host's stubs. */
        {"fault_lidt", GLINT_E_GUEST_FAULT, 13},
        /* Ports outside the TSS's I/O bitmap: #GP before any exit. */
        {"fault_bad_port", GLINT_E_GUEST_FAULT, 13},
        /* A protocol port, read: one exit the host refuses. */
        {"fault_in_port", GLINT_E_UNKNOWN_PORT, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) expect_failure(&cases[i]);
}

static void test_fault_details(void **state) {
    (void)state;
    glint_sandbox *sb = make_sandbox(NULL, NULL);
    glint_value out;
    assert_int_equal(glint_sandbox_call(sb, "fault_null_read", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_E_GUEST_FAULT);
    assert_true(glint_sandbox_last_error(sb)->cr2 < 4096);
    glint_sandbox_destroy(sb);

    sb = make_sandbox(NULL, NULL);
    assert_int_equal(glint_sandbox_call(sb, "fault_exec_heap", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_E_GUEST_FAULT);
    /* Instruction-fetch bit: the heap is NX. */
    assert_true(glint_sandbox_last_error(sb)->error_code & 0x10);
    glint_sandbox_destroy(sb);

    sb = make_sandbox(NULL, NULL);
    assert_int_equal(glint_sandbox_call(sb, "fault_write_code", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_E_GUEST_FAULT);
    /* Write to a present read-only page. */
    assert_int_equal(glint_sandbox_last_error(sb)->error_code & 0x3, 0x3);
    glint_sandbox_destroy(sb);

    sb = make_sandbox(NULL, NULL);
    assert_int_equal(glint_sandbox_call(sb, "fault_glint_abort", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_E_GUEST_ABORT);
    assert_int_equal(glint_sandbox_last_error(sb)->guest_code, 7);
    assert_non_null(strstr(glint_sandbox_last_error(sb)->message, "custom abort"));
    glint_sandbox_destroy(sb);

    sb = make_sandbox(NULL, NULL);
    assert_int_equal(glint_sandbox_call(sb, "fault_exit", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_E_GUEST_ABORT);
    assert_int_equal(glint_sandbox_last_error(sb)->guest_code, 3);
    glint_sandbox_destroy(sb);
}

/* ---- Lifecycle and creation errors --------------------------------------- */

static void test_lifecycle_states(void **state) {
    (void)state;
    glint_sandbox *sb = NULL;
    glint_error err;
    assert_int_equal(glint_sandbox_create(NULL, glint_test_guest_path("test_guest"), &sb, &err),
                     GLINT_OK);
    glint_value out;
    assert_int_equal(glint_sandbox_call(sb, "void_fn", GLINT_TYPE_VOID, NULL, 0, &out),
                     GLINT_E_STATE);
    register_host_functions(sb);
    assert_int_equal(glint_sandbox_register_host_function(sb, "host_add", GLINT_TYPE_I32, NULL, 0,
                                                          host_add, NULL),
                     GLINT_E_EXISTS);
    assert_int_equal(glint_sandbox_initialize(sb), GLINT_OK);
    assert_true(glint_sandbox_function_count(sb) > 40);
    const glint_function_info *f = glint_sandbox_find_function(sb, "add_i32");
    assert_non_null(f);
    assert_int_equal(f->argc, 2);
    assert_int_equal(f->ret, GLINT_TYPE_I32);
    assert_int_equal(glint_sandbox_initialize(sb), GLINT_E_STATE);
    assert_int_equal(
        glint_sandbox_register_host_function(sb, "late", GLINT_TYPE_I32, NULL, 0, host_add, NULL),
        GLINT_E_STATE);
    assert_false(glint_sandbox_kill(sb)); /* nothing running: no effect */
    assert_int_equal(glint_sandbox_call(sb, "void_fn", GLINT_TYPE_VOID, NULL, 0, &out), GLINT_OK);
    glint_sandbox_destroy(sb);
}

static void test_create_errors(void **state) {
    (void)state;
    glint_sandbox *sb = NULL;
    glint_error err;
    assert_int_equal(glint_sandbox_create(NULL, "/nonexistent/guest.elf", &sb, &err), GLINT_E_IO);
    assert_null(sb);
    assert_non_null(strstr(err.message, "/nonexistent/guest.elf"));
    assert_int_equal(glint_sandbox_create(NULL, "/proc/self/exe", &sb, &err), GLINT_E_ELF);
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.input_size = 4096;
    assert_int_equal(glint_sandbox_create(&cfg, glint_test_guest_path("test_guest"), &sb, &err),
                     GLINT_E_TOO_SMALL);
    assert_non_null(strstr(err.message, "input_size"));
    glint_config_init(&cfg);
    cfg.heap_size = 64ull << 30;
    assert_int_equal(glint_sandbox_create(&cfg, glint_test_guest_path("test_guest"), &sb, &err),
                     GLINT_E_TOO_BIG);
    assert_non_null(strstr(err.message, "heap_size"));
}

/* ---- Threads, cancellation, deadlines ----------------------------------- */

typedef struct thread_job {
    glint_sandbox *sb;
    int64_t counter_end;
    int64_t host_sum;
    glint_status status;
} thread_job;

static void *thread_main(void *arg) {
    thread_job *job = arg;
    glint_value out;
    for (int i = 0; i < 50; i++) {
        job->status = glint_sandbox_call(job->sb, "counter_inc", GLINT_TYPE_I64, NULL, 0, &out);
        if (job->status != GLINT_OK) return NULL;
    }
    job->counter_end = out.as.i64;
    glint_value n = glint_i32(20);
    job->status = glint_sandbox_call(job->sb, "call_host_n", GLINT_TYPE_I64, &n, 1, &out);
    job->host_sum = out.as.i64;
    return NULL;
}

static void test_two_sandboxes_two_threads(void **state) {
    (void)state;
    thread_job jobs[2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].sb = make_sandbox(NULL, NULL);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, thread_main, &jobs[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(jobs[i].status, GLINT_OK);
        assert_true(jobs[i].counter_end == 50);
        assert_true(jobs[i].host_sum == 210);
        glint_sandbox_destroy(jobs[i].sb);
    }
}

static void *killer_main(void *arg) {
    usleep(300 * 1000);
    glint_sandbox_kill(arg);
    return NULL;
}

static void test_kill_spinning_guest(void **state) {
    (void)state;
    glint_sandbox *sb = make_sandbox(NULL, NULL);
    pthread_t killer;
    assert_int_equal(pthread_create(&killer, NULL, killer_main, sb), 0);
    glint_value out;
    assert_int_equal(glint_sandbox_call(sb, "spin_forever", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_E_CANCELLED);
    pthread_join(killer, NULL);
    assert_true(glint_sandbox_is_poisoned(sb));
    glint_sandbox_destroy(sb);
}

static void test_deadline(void **state) {
    (void)state;
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.call_deadline_ns = 300ull * 1000 * 1000;
    glint_sandbox *sb = make_sandbox(&cfg, NULL);
    glint_value out;
    glint_value two[2] = {glint_i32(1), glint_i32(2)};
    assert_int_equal(glint_sandbox_call(sb, "add_i32", GLINT_TYPE_I32, two, 2, &out), GLINT_OK);
    assert_int_equal(glint_sandbox_call(sb, "spin_forever", GLINT_TYPE_I32, NULL, 0, &out),
                     GLINT_E_DEADLINE);
    assert_true(glint_sandbox_is_poisoned(sb));
    glint_sandbox_destroy(sb);
}

int main(void) {
    glint_test_require_kvm();
    const struct CMUnitTest shared_tests[] = {
        cmocka_unit_test(test_echo_integers),
        cmocka_unit_test(test_echo_floats),
        cmocka_unit_test(test_echo_string_and_bytes),
        cmocka_unit_test(test_maximum_size_buffers),
        cmocka_unit_test(test_max_args_both_ways),
        cmocka_unit_test(test_state_persists_between_calls),
        cmocka_unit_test(test_signature_errors),
        cmocka_unit_test(test_guest_error_does_not_poison),
        cmocka_unit_test(test_host_callbacks),
        cmocka_unit_test(test_host_callback_errors),
        cmocka_unit_test(test_many_host_calls),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test(test_print),
    };
    const struct CMUnitTest own_tests[] = {
        cmocka_unit_test(test_log_level_filter),
        cmocka_unit_test(test_guest_failures),
        cmocka_unit_test(test_fault_details),
        cmocka_unit_test(test_lifecycle_states),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_io_buffer_above_64_mib),
        cmocka_unit_test(test_two_sandboxes_two_threads),
        cmocka_unit_test(test_kill_spinning_guest),
        cmocka_unit_test(test_deadline),
    };
    int failed =
        cmocka_run_group_tests_name("shared sandbox", shared_tests, setup_shared, teardown_shared);
    failed += cmocka_run_group_tests_name("own sandbox", own_tests, NULL, NULL);
    return failed;
}
