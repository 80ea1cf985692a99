/*
 * test_nested - guest -> host -> guest calls (glint_sandbox_call from a host
 * function of the same sandbox) against tests/guests/world_guest.c.
 *
 * nest(level, action, tag) recurses through the host function h_nest, one
 * guest call and one host call per level, down to level 0, which does the
 * action.  Every level checks its own string argument after the nested
 * calls (the input buffer's stacking) and adds 1, as h_nest does.  Checked:
 * results and strings through every depth; the depth limit; a guest error
 * at the bottom stays a call error; the outer calls' error messages
 * survive; abort, fault, kill and the deadline at every depth poison the
 * sandbox and fail every level with the same error; restore recovers; the
 * counts of a nested call (one KVM_RUN, one exit, no allocation); nested
 * calls from elsewhere than a host function are refused.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "glint/glint.h"
#include "kvm_support.h"

enum { NEST_RETURN = 0, NEST_ABORT, NEST_FAULT, NEST_SPIN, NEST_ERROR, NEST_KEEP_ERROR };

#define MAX_LEVELS 64

/* What each h_nest saw from its nested call, by the level it called. */
static glint_status nested_status[MAX_LEVELS];
static char nested_message[MAX_LEVELS][GLINT_ERROR_MESSAGE_SIZE];
static atomic_int deepest_entered; /* lowest level h_nest was asked for */

static void make_tag(char *buf, size_t size, int32_t level) {
    snprintf(buf, size, "level-%d-%08x", (int)level, (unsigned)(level * 2654435761u));
}

/* h_nest(level, action) -> nest(level - 1, action, tag) + 1. */
static glint_status h_nest(glint_host_call *call, void *user, const glint_value *args,
                           uint32_t argc, glint_value *ret) {
    (void)user, (void)argc;
    glint_sandbox *sb = glint_host_call_sandbox(call);
    int32_t below = args[0].as.i32 - 1;
    atomic_store(&deepest_entered, below);
    char tag[48];
    make_tag(tag, sizeof tag, below);
    glint_value a[] = {glint_i32(below), args[1], glint_str(tag)}, r;
    glint_status st = glint_sandbox_call(sb, "nest", GLINT_TYPE_I64, a, 3, &r);
    if (below >= 0 && below < MAX_LEVELS) {
        nested_status[below] = st;
        snprintf(nested_message[below], sizeof nested_message[below], "%s",
                 st == GLINT_OK ? "" : glint_sandbox_last_error(sb)->message);
    }
    if (st != GLINT_OK) {
        glint_host_call_set_error(call, "nest(%d) failed: %s: %s", (int)below,
                                  glint_status_name(st), glint_sandbox_last_error(sb)->message);
        return st;
    }
    ret->as.i64 = r.as.i64 + 1;
    return GLINT_OK;
}

/* h_echo(level, s) -> echo_nested(level - 1, s), the string passed on. */
static glint_status h_echo(glint_host_call *call, void *user, const glint_value *args,
                           uint32_t argc, glint_value *ret) {
    (void)user, (void)argc;
    glint_sandbox *sb = glint_host_call_sandbox(call);
    glint_value a[] = {glint_i32(args[0].as.i32 - 1), args[1]};
    glint_status st = glint_sandbox_call(sb, "echo_nested", GLINT_TYPE_STRING, a, 2, ret);
    if (st != GLINT_OK)
        glint_host_call_set_error(call, "%s", glint_sandbox_last_error(sb)->message);
    return st;
}

/* Nested calls the host gets wrong; returns what they returned. */
static int bad_mode;
static glint_status h_nest_bad(glint_host_call *call, void *user, const glint_value *args,
                               uint32_t argc, glint_value *ret) {
    (void)user, (void)args, (void)argc;
    glint_sandbox *sb = glint_host_call_sandbox(call);
    glint_status st;
    glint_value r;
    if (bad_mode == 0) { /* wrong parameter types */
        glint_value a[] = {glint_u32(1), glint_u32(0), glint_str("x")};
        st = glint_sandbox_call(sb, "nest", GLINT_TYPE_I64, a, 3, &r);
    } else if (bad_mode == 1) { /* arguments larger than the input buffer */
        static char big[20000];
        memset(big, 'b', sizeof big - 1);
        glint_value a[] = {glint_i32(0), glint_str(big)};
        st = glint_sandbox_call(sb, "echo_nested", GLINT_TYPE_STRING, a, 2, &r);
    } else { /* an unknown function */
        st = glint_sandbox_call(sb, "no_such_function", GLINT_TYPE_VOID, NULL, 0, &r);
    }
    ret->as.i32 = (int32_t)st;
    return GLINT_OK;
}

static glint_sandbox *create_cfg(const glint_config *cfg) {
    glint_sandbox *sb = NULL;
    glint_error err;
    if (glint_sandbox_create(cfg, glint_test_guest_path("world_guest"), &sb, &err) != GLINT_OK)
        fail_msg("create: %s", err.message);
    static const glint_type two_i32[] = {GLINT_TYPE_I32, GLINT_TYPE_I32};
    static const glint_type i32_str[] = {GLINT_TYPE_I32, GLINT_TYPE_STRING};
    assert_int_equal(glint_sandbox_register_host_function(sb, "h_nest", GLINT_TYPE_I64, two_i32, 2,
                                                          h_nest, NULL),
                     GLINT_OK);
    assert_int_equal(glint_sandbox_register_host_function(sb, "h_echo", GLINT_TYPE_STRING, i32_str,
                                                          2, h_echo, NULL),
                     GLINT_OK);
    assert_int_equal(glint_sandbox_register_host_function(sb, "h_nest_bad", GLINT_TYPE_I32, NULL, 0,
                                                          h_nest_bad, NULL),
                     GLINT_OK);
    if (glint_sandbox_initialize(sb) != GLINT_OK)
        fail_msg("initialize: %s", glint_sandbox_last_error(sb)->message);
    return sb;
}

static glint_sandbox *create(void) { return create_cfg(NULL); }

static glint_status nest(glint_sandbox *sb, int32_t level, int32_t action, int64_t *out) {
    char tag[48];
    make_tag(tag, sizeof tag, level);
    glint_value a[] = {glint_i32(level), glint_i32(action), glint_str(tag)}, r;
    for (int i = 0; i < MAX_LEVELS; i++) nested_status[i] = (glint_status)-1;
    glint_status st = glint_sandbox_call(sb, "nest", GLINT_TYPE_I64, a, 3, &r);
    if (out != NULL) *out = st == GLINT_OK ? r.as.i64 : -1;
    return st;
}

static void expect_alive(glint_sandbox *sb) {
    int64_t v;
    assert_int_equal(nest(sb, 1, NEST_RETURN, &v), GLINT_OK);
    assert_int_equal(v, 1002);
}

/* ---- Results, strings, counts -------------------------------------------------- */

static void test_nested_results(void **state) {
    (void)state;
    glint_sandbox *sb = create();
    for (int32_t level = 0; level <= 8; level++) {
        glint_counters c0, c1;
        glint_sandbox_counters(sb, &c0);
        int64_t v;
        glint_status st = nest(sb, level, NEST_RETURN, &v);
        if (st != GLINT_OK) fail_msg("nest(%d): %s", level, glint_sandbox_last_error(sb)->message);
        glint_sandbox_counters(sb, &c1);
        assert_int_equal(v, 1000 + 2 * level);
        for (int32_t below = 0; below < level; below++)
            assert_int_equal(nested_status[below], GLINT_OK);
        /* Per level: one host call and one nested call; the nested call is
         * one KVM_RUN and one exit more than a plain host call (whose reply
         * costs one of each), and nothing is allocated. */
        assert_int_equal(c1.nested_calls - c0.nested_calls, (uint64_t)level);
        assert_int_equal(c1.host_calls - c0.host_calls, (uint64_t)level);
        assert_int_equal(c1.vm_runs - c0.vm_runs, 1u + 2u * (uint64_t)level);
        assert_int_equal(c1.exits_io - c0.exits_io, 1u + 2u * (uint64_t)level);
        assert_int_equal(c1.host_allocations, c0.host_allocations);
        assert_int_equal(c1.guest_calls - c0.guest_calls, 1u + (uint64_t)level);
        if (level == 8)
            printf("  nest(8): %" PRIu64 " KVM_RUNs, %" PRIu64 " exits, %" PRIu64
                   " nested calls, %" PRIu64 " allocations\n",
                   c1.vm_runs - c0.vm_runs, c1.exits_io - c0.exits_io,
                   c1.nested_calls - c0.nested_calls, c1.host_allocations - c0.host_allocations);
    }
    glint_sandbox_destroy(sb);
}

static void test_nested_strings(void **state) {
    (void)state;
    glint_sandbox *sb = create();
    for (int32_t level = 0; level <= 6; level++) {
        glint_value a[] = {glint_i32(level), glint_str("hello")}, r;
        assert_int_equal(glint_sandbox_call(sb, "echo_nested", GLINT_TYPE_STRING, a, 2, &r),
                         GLINT_OK);
        char want[64];
        snprintf(want, sizeof want, "%.*shello!%.*s", (int)level, "<<<<<<<<", (int)level,
                 ">>>>>>>>");
        assert_string_equal(r.as.str.ptr, want);
    }
    glint_sandbox_destroy(sb);
}

/* ---- Limits and mistakes --------------------------------------------------------- */

static void test_nested_depth_limit(void **state) {
    (void)state;
    glint_config cfg;
    glint_config_init(&cfg);
    assert_int_equal(cfg.max_call_depth, GLINT_DEFAULT_MAX_CALL_DEPTH);
    cfg.max_call_depth = 3;
    glint_sandbox *sb = create_cfg(&cfg);
    int64_t v;
    assert_int_equal(nest(sb, 3, NEST_RETURN, &v), GLINT_OK);
    assert_int_equal(v, 1006);
    /* One deeper: the fourth nested call is refused; that is an error of
     * the call, not of the sandbox. */
    assert_int_equal(nest(sb, 4, NEST_RETURN, &v), GLINT_E_GUEST_ERROR);
    assert_int_equal(nested_status[0], GLINT_E_STATE);
    assert_non_null(strstr(nested_message[0], "max_call_depth 3"));
    /* The level above got it from its host call and failed with it: a
     * guest error from there up. */
    assert_int_equal(nested_status[1], GLINT_E_GUEST_ERROR);
    assert_false(glint_sandbox_is_poisoned(sb));
    expect_alive(sb);
    glint_sandbox_destroy(sb);
    /* 0: no nested calls at all (what every call was before). */
    cfg.max_call_depth = 0;
    sb = create_cfg(&cfg);
    assert_int_equal(nest(sb, 0, NEST_RETURN, &v), GLINT_OK);
    assert_int_equal(nest(sb, 1, NEST_RETURN, &v), GLINT_E_GUEST_ERROR);
    assert_int_equal(nested_status[0], GLINT_E_STATE);
    glint_sandbox_destroy(sb);
    /* Out of range in the configuration. */
    cfg.max_call_depth = GLINT_MAX_CALL_DEPTH_LIMIT + 1;
    glint_error err;
    assert_int_equal(glint_sandbox_create(&cfg, glint_test_guest_path("world_guest"), &sb, &err),
                     GLINT_E_INVALID_ARGUMENT);
}

static void test_nested_call_errors(void **state) {
    (void)state;
    glint_sandbox *sb = create();
    /* A guest error at the bottom travels up as errors, poisons nothing. */
    int64_t v;
    assert_int_equal(nest(sb, 3, NEST_ERROR, &v), GLINT_E_GUEST_ERROR);
    assert_int_equal(nested_status[0], GLINT_E_GUEST_ERROR);
    assert_int_equal(nested_status[2], GLINT_E_GUEST_ERROR);
    assert_non_null(strstr(nested_message[0], "bottom failed"));
    assert_int_equal(nest(sb, 1, NEST_ERROR, &v), GLINT_E_GUEST_ERROR);
    assert_non_null(strstr(glint_sandbox_last_error(sb)->message, "bottom failed"));
    assert_false(glint_sandbox_is_poisoned(sb));
    expect_alive(sb);
    /* The outermost call's own error message (set before its host call)
     * survives the nested calls, which set theirs. */
    assert_int_equal(nest(sb, 3, NEST_KEEP_ERROR, &v), GLINT_E_GUEST_ERROR);
    assert_non_null(strstr(glint_sandbox_last_error(sb)->message, "kept by level 3"));
    /* Host mistakes in nested calls are errors of those calls. */
    glint_value r;
    const glint_status want[] = {GLINT_E_PARAMETER_TYPE, GLINT_E_ARGS_TOO_BIG,
                                 GLINT_E_FUNCTION_NOT_FOUND};
    for (int mode = 0; mode < 3; mode++) {
        bad_mode = mode;
        assert_int_equal(glint_sandbox_call(sb, "nest_bad", GLINT_TYPE_I32, NULL, 0, &r), GLINT_OK);
        assert_int_equal(r.as.i32, want[mode]);
        assert_false(glint_sandbox_is_poisoned(sb));
    }
    expect_alive(sb);
    glint_sandbox_destroy(sb);
}

/* From another thread while a call runs: not a nested call. */
static glint_sandbox *other_thread_target;
static glint_status other_thread_status;
static void *call_from_other_thread(void *arg) {
    (void)arg;
    glint_value a = glint_i64(1), r;
    other_thread_status =
        glint_sandbox_call(other_thread_target, "ping", GLINT_TYPE_I64, &a, 1, &r);
    return NULL;
}
static glint_status h_other_thread(glint_host_call *call, void *user, const glint_value *args,
                                   uint32_t argc, glint_value *ret) {
    (void)user, (void)args, (void)argc;
    other_thread_target = glint_host_call_sandbox(call);
    pthread_t t;
    pthread_create(&t, NULL, call_from_other_thread, NULL);
    pthread_join(t, NULL);
    ret->as.i64 = 0;
    return GLINT_OK;
}

static void test_nested_only_from_host_functions(void **state) {
    (void)state;
    glint_sandbox *sb = NULL;
    glint_error err;
    assert_int_equal(glint_sandbox_create(NULL, glint_test_guest_path("world_guest"), &sb, &err),
                     GLINT_OK);
    static const glint_type two_i32[] = {GLINT_TYPE_I32, GLINT_TYPE_I32};
    /* h_nest stands in for a host function that calls from another thread. */
    assert_int_equal(glint_sandbox_register_host_function(sb, "h_nest", GLINT_TYPE_I64, two_i32, 2,
                                                          h_other_thread, NULL),
                     GLINT_OK);
    assert_int_equal(glint_sandbox_initialize(sb), GLINT_OK);
    other_thread_status = GLINT_OK;
    assert_int_equal(nest(sb, 1, NEST_RETURN, NULL), GLINT_OK);
    assert_int_equal(other_thread_status, GLINT_E_STATE);
    glint_sandbox_destroy(sb);
}

/* ---- Poisoning at every depth ---------------------------------------------------- */

static void expect_poisoned_everywhere(glint_sandbox *sb, int32_t depth, glint_status got,
                                       glint_status want) {
    if (got != want)
        fail_msg("depth %d: %s, expected %s (%s)", depth, glint_status_name(got),
                 glint_status_name(want), glint_sandbox_last_error(sb)->message);
    for (int32_t below = 0; below < depth; below++) {
        if (nested_status[below] != want)
            fail_msg("depth %d: the nested call to level %d returned %s, expected %s", depth, below,
                     glint_status_name(nested_status[below]), glint_status_name(want));
    }
    assert_true(glint_sandbox_is_poisoned(sb));
    assert_int_equal(glint_sandbox_last_error(sb)->code, want);
    /* Refused until restored. */
    int64_t v;
    assert_int_equal(nest(sb, 0, NEST_RETURN, &v), GLINT_E_POISONED);
}

static void test_nested_abort_and_fault(void **state) {
    (void)state;
    glint_sandbox *sb = create();
    glint_snapshot *snap;
    assert_int_equal(glint_sandbox_snapshot(sb, &snap), GLINT_OK);
    for (int32_t depth = 0; depth <= 4; depth++) {
        assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
        glint_status st = nest(sb, depth, NEST_ABORT, NULL);
        assert_int_equal(glint_sandbox_last_error(sb)->guest_code, 77);
        expect_poisoned_everywhere(sb, depth, st, GLINT_E_GUEST_ABORT);
        assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
        st = nest(sb, depth, NEST_FAULT, NULL);
        assert_int_equal(glint_sandbox_last_error(sb)->vector, 6); /* #UD */
        expect_poisoned_everywhere(sb, depth, st, GLINT_E_GUEST_FAULT);
        assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
        expect_alive(sb);
    }
    glint_snapshot_release(snap);
    glint_sandbox_destroy(sb);
}

typedef struct killer {
    glint_sandbox *sb;
    int32_t bottom; /* kill once h_nest asked for this level */
} killer;

static void *kill_when_deep(void *arg) {
    killer *k = arg;
    while (atomic_load(&deepest_entered) != k->bottom) usleep(1000);
    usleep(50000); /* let the bottom spin */
    glint_sandbox_kill(k->sb);
    return NULL;
}

static void test_nested_kill(void **state) {
    (void)state;
    glint_sandbox *sb = create();
    glint_snapshot *snap;
    assert_int_equal(glint_sandbox_snapshot(sb, &snap), GLINT_OK);
    for (int32_t depth = 1; depth <= 4; depth++) {
        assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
        atomic_store(&deepest_entered, -1);
        killer k = {sb, 0};
        pthread_t t;
        pthread_create(&t, NULL, kill_when_deep, &k);
        glint_status st = nest(sb, depth, NEST_SPIN, NULL);
        pthread_join(t, NULL);
        expect_poisoned_everywhere(sb, depth, st, GLINT_E_CANCELLED);
    }
    assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
    expect_alive(sb);
    glint_snapshot_release(snap);
    glint_sandbox_destroy(sb);
}

static void test_nested_deadline(void **state) {
    (void)state;
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.call_deadline_ns = 300000000ull; /* 300 ms for the outermost call, all levels */
    glint_sandbox *sb = create_cfg(&cfg);
    glint_snapshot *snap;
    assert_int_equal(glint_sandbox_snapshot(sb, &snap), GLINT_OK);
    for (int32_t depth = 0; depth <= 4; depth++) {
        assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
        expect_poisoned_everywhere(sb, depth, nest(sb, depth, NEST_SPIN, NULL), GLINT_E_DEADLINE);
    }
    assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
    expect_alive(sb);
    glint_snapshot_release(snap);
    glint_sandbox_destroy(sb);
}

int main(void) {
    glint_test_require_kvm();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_results),
        cmocka_unit_test(test_nested_strings),
        cmocka_unit_test(test_nested_depth_limit),
        cmocka_unit_test(test_nested_call_errors),
        cmocka_unit_test(test_nested_only_from_host_functions),
        cmocka_unit_test(test_nested_abort_and_fault),
        cmocka_unit_test(test_nested_kill),
        cmocka_unit_test(test_nested_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
