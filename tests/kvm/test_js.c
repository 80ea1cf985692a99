/*
 * JavaScript sandbox tests against examples/js/js_guest.c (Duktape): one
 * template sandbox initialises the engine and is snapshotted; the tests
 * evaluate in a clone that is restored to the snapshot before each test
 * (and inside tests where they say so).  Covered: arithmetic, strings and
 * UTF-8, JSON round trips, JS exceptions as errors, the deadline stopping an
 * infinite loop, heap exhaustion reported as GLINT_E_OUT_OF_MEMORY, isolation
 * by restore, host functions (host.print, host.call, host.callTyped), deep
 * recursion, a heap too small for the engine, and per-evaluation counters.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>

#include <cmocka.h>

#include "glint/glint.h"
#include "kvm_support.h"

#define MIB (1024ull * 1024ull)
#define JS_HEAP (4 * MIB)
#define JS_STACK (2048u * 1024u)
/* Generous: the QEMU harness emulates the CPU.  The deadline test uses its own. */
#define JS_DEADLINE_NS (20ull * 1000000000ull)

/* ---- Host functions --------------------------------------------------------- */

static char printed[4096];
static size_t printed_len;

static glint_status host_print(glint_host_call *call, void *user, const glint_value *args,
                               uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    (void)argc;
    (void)ret;
    size_t n = args[0].as.str.len;
    if (n > sizeof printed - 2 - printed_len) n = sizeof printed - 2 - printed_len;
    memcpy(printed + printed_len, args[0].as.str.ptr, n);
    printed_len += n;
    printed[printed_len++] = '\n';
    printed[printed_len] = '\0';
    return GLINT_OK;
}

/* JSON convention: returns its argument array unchanged. */
static glint_status host_echo_json(glint_host_call *call, void *user, const glint_value *args,
                                   uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    (void)argc;
    *ret = args[0];
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

static glint_status host_add(glint_host_call *call, void *user, const glint_value *args,
                             uint32_t argc, glint_value *ret) {
    (void)call;
    (void)user;
    (void)argc;
    ret->as.i32 = (int32_t)((uint32_t)args[0].as.i32 + (uint32_t)args[1].as.i32); /* wraps, no UB */
    return GLINT_OK;
}

static uint8_t reversed[256];

static glint_status host_reverse(glint_host_call *call, void *user, const glint_value *args,
                                 uint32_t argc, glint_value *ret) {
    (void)user;
    (void)argc;
    uint32_t n = args[0].as.bytes.len;
    if (n > sizeof reversed) {
        glint_host_call_set_error(call, "too long");
        return GLINT_E_HOST_FUNCTION_ERROR;
    }
    const uint8_t *p = args[0].as.bytes.ptr;
    for (uint32_t i = 0; i < n; i++) reversed[i] = p[n - 1 - i];
    *ret = glint_bytes(reversed, n);
    return GLINT_OK;
}

/* ---- Fixture ------------------------------------------------------------------ */

static glint_config base_config(uint64_t heap) {
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.heap_size = heap;
    cfg.input_size = 64 * 1024;
    cfg.output_size = 64 * 1024;
    cfg.scratch_size = cfg.input_size + cfg.output_size + JS_STACK + 64 * 1024;
    return cfg;
}

static glint_sandbox *make_template(uint64_t heap, glint_status *init_status) {
    glint_config cfg = base_config(heap);
    glint_sandbox *sb = NULL;
    glint_error err;
    glint_status st = glint_sandbox_create(&cfg, glint_test_guest_path("js_guest"), &sb, &err);
    if (st != GLINT_OK) fail_msg("create: %s", err.message);
    static const glint_type one_string[] = {GLINT_TYPE_STRING};
    static const glint_type two_i32[] = {GLINT_TYPE_I32, GLINT_TYPE_I32};
    static const glint_type one_bytes[] = {GLINT_TYPE_BYTES};
    assert_int_equal(glint_sandbox_register_host_function(sb, "host_print", GLINT_TYPE_VOID,
                                                          one_string, 1, host_print, NULL),
                     GLINT_OK);
    assert_int_equal(glint_sandbox_register_host_function(sb, "echo_json", GLINT_TYPE_STRING,
                                                          one_string, 1, host_echo_json, NULL),
                     GLINT_OK);
    assert_int_equal(glint_sandbox_register_host_function(sb, "fail", GLINT_TYPE_STRING, one_string,
                                                          1, host_fail, NULL),
                     GLINT_OK);
    assert_int_equal(
        glint_sandbox_register_host_function(sb, "add", GLINT_TYPE_I32, two_i32, 2, host_add, NULL),
        GLINT_OK);
    assert_int_equal(glint_sandbox_register_host_function(sb, "reverse", GLINT_TYPE_BYTES,
                                                          one_bytes, 1, host_reverse, NULL),
                     GLINT_OK);
    *init_status = glint_sandbox_initialize(sb);
    return sb;
}

static glint_snapshot *snap;
static glint_sandbox *js; /* clone of snap, deadline JS_DEADLINE_NS */

static glint_sandbox *clone_with_deadline(uint64_t deadline_ns) {
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.call_deadline_ns = deadline_ns;
    glint_sandbox *sb = NULL;
    glint_error err;
    glint_status st = glint_sandbox_create_from_snapshot(snap, &cfg, &sb, &err);
    if (st != GLINT_OK) fail_msg("clone: %s", err.message);
    return sb;
}

static int setup_group(void **state) {
    (void)state;
    glint_status st;
    glint_sandbox *tmpl = make_template(JS_HEAP, &st);
    if (st != GLINT_OK) {
        fprintf(stderr, "initialise: %s\n", glint_sandbox_last_error(tmpl)->message);
        return 1;
    }
    if (glint_sandbox_snapshot(tmpl, &snap) != GLINT_OK) {
        fprintf(stderr, "snapshot: %s\n", glint_sandbox_last_error(tmpl)->message);
        return 1;
    }
    glint_sandbox_destroy(tmpl); /* the snapshot holds everything the clones need */
    js = clone_with_deadline(JS_DEADLINE_NS);
    return 0;
}

static int teardown_group(void **state) {
    (void)state;
    glint_sandbox_destroy(js);
    glint_snapshot_release(snap);
    return 0;
}

static int restore_before(void **state) {
    (void)state;
    printed_len = 0;
    printed[0] = '\0';
    return glint_sandbox_restore(js, snap) != GLINT_OK;
}

/* Evaluates src in sb; the result (or the error message) goes to out. */
static char out[16384];

static glint_status ev_in(glint_sandbox *sb, const char *src) {
    glint_value arg = glint_str(src);
    glint_value res;
    glint_status st = glint_sandbox_call(sb, "eval", GLINT_TYPE_STRING, &arg, 1, &res);
    if (st == GLINT_OK)
        snprintf(out, sizeof out, "%.*s", (int)res.as.str.len, res.as.str.ptr);
    else
        snprintf(out, sizeof out, "%s", glint_sandbox_last_error(sb)->message);
    return st;
}

static glint_status ev(const char *src) { return ev_in(js, src); }

/* Evaluates and checks the exact result. */
#define EXPECT(src, want)                                                                          \
    do {                                                                                           \
        glint_status st_ = ev(src);                                                                \
        if (st_ != GLINT_OK) fail_msg("%s: %s: %s", src, glint_status_name((int)st_), out);        \
        if (strcmp(out, (want)) != 0) fail_msg("%s: got '%s', want '%s'", src, out, (want));       \
    } while (0)

/* Evaluates, expecting failure with code and a message containing needle. */
#define EXPECT_FAIL(src, code, needle)                                                             \
    do {                                                                                           \
        glint_status st_ = ev(src);                                                                \
        if (st_ != (code))                                                                         \
            fail_msg("%s: got %s (%s), want %s", src, glint_status_name((int)st_), out,            \
                     glint_status_name((int)(code)));                                              \
        if (strstr(out, (needle)) == NULL)                                                         \
            fail_msg("%s: message '%s' lacks '%s'", src, out, (needle));                           \
    } while (0)

/* ---- Tests ---------------------------------------------------------------------- */

static void test_arithmetic(void **state) {
    (void)state;
    EXPECT("1+2", "3");
    EXPECT("7/2", "3.5");
    EXPECT("0.1+0.2", "0.30000000000000004");
    EXPECT("2**10", "1024");
    EXPECT("1/0", "Infinity");
    EXPECT("0/0", "NaN");
    EXPECT("-7 % 3", "-1");
    EXPECT("Math.pow(2, 53) + 1", "9007199254740992");
    EXPECT("Math.sqrt(2)", "1.4142135623730951");
    EXPECT("Math.floor(Math.sin(1) * 1e6)", "841470");
    EXPECT("parseInt('ff', 16)", "255");
    EXPECT("(123.456).toFixed(2)", "123.46");
    EXPECT("(255).toString(2)", "11111111");
    EXPECT("var x = 6; x * 7", "42");
    EXPECT("(function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); })(20)",
           "2432902008176640000");
    EXPECT("1e21 + ''", "1e+21");
    EXPECT("true && 1 > 0", "true");
}

static void test_strings(void **state) {
    (void)state;
    EXPECT("'abc'.toUpperCase()", "ABC");
    EXPECT("'a,b,c'.split(',').reverse().join('-')", "c-b-a");
    EXPECT("'x'.repeat(3) + 'y'", "xxxy");
    EXPECT("'  pad '.trim().length", "3");
    EXPECT("'2024-01-15'.replace(/(\\d+)-(\\d+)-(\\d+)/, '$3.$2.$1')", "15.01.2024");
    EXPECT("/^[a-z]+@[a-z]+\\.org$/.test('me@glint.org')", "true");
    EXPECT("'h\\u00e9llo'.length", "5");
    EXPECT("'h\\u00e9llo'", "h\xc3\xa9llo");
    /* UTF-8 in the source comes back unchanged */
    EXPECT("'\xe2\x82\xac' + 1", "\xe2\x82\xac"
                                 "1");
    /* A non-BMP character (a surrogate pair inside Duktape) leaves as 4-byte UTF-8. */
    EXPECT("'\\ud83d\\ude00'", "\xf0\x9f\x98\x80");
    EXPECT("'\\ud83d\\ude00'.length", "2");
    /* A lone surrogate becomes U+FFFD. */
    EXPECT("String.fromCharCode(0xd800) + '!'", "\xef\xbf\xbd!");
    /* A glint string cannot hold U+0000. */
    EXPECT_FAIL("'a\\u0000b'", GLINT_E_GUEST_ERROR, "U+0000");
    EXPECT("JSON.stringify('a\\u0000b')", "\"a\\u0000b\"");
}

static void test_json_round_trip(void **state) {
    (void)state;
    EXPECT("JSON.stringify(JSON.parse('{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\\\\"y\"}'))",
           "{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\\"y\"}");
    /* Objects come back as JSON, other values as String(v). */
    EXPECT("({a: 1, b: [true, null], c: 'q'})", "{\"a\":1,\"b\":[true,null],\"c\":\"q\"}");
    EXPECT("[1, 'two', {three: 3}]", "[1,\"two\",{\"three\":3}]");
    EXPECT("undefined", "undefined");
    EXPECT("null", "null");
    EXPECT("'plain string'", "plain string");
    EXPECT("new Error('as value')", "Error: as value");
    EXPECT("var cyc = {}; cyc.self = cyc; cyc", "[object Object]");
    assert_int_equal(ev("(function named() { return 1; })"), GLINT_OK);
    assert_non_null(strstr(out, "function named"));

    /* Through the host: a value out of one sandbox, parsed in a restored one. */
    EXPECT("var o = {n: 1.5, s: 'q\"\\u00e9', arr: [1, [2, {}]], t: true, z: null}; o",
           "{\"n\":1.5,\"s\":\"q\\\"\xc3\xa9\",\"arr\":[1,[2,{}]],\"t\":true,\"z\":null}");
    char first[256];
    snprintf(first, sizeof first, "%.*s", (int)sizeof first - 1, out);
    assert_int_equal(glint_sandbox_restore(js, snap), GLINT_OK);
    char src[1024], quoted[512];
    /* JSON text is a JavaScript expression ... */
    snprintf(src, sizeof src, "var p = (%s); p.arr[1][0] + p.n + ' ' + p.s", first);
    EXPECT(src, "3.5 q\"\xc3\xa9");
    /* ... and JSON.parse of it, quoted as a string literal, gives it back. */
    size_t q = 0;
    for (const char *p = first; *p != '\0' && q < sizeof quoted - 3; p++) {
        if (*p == '\\' || *p == '\'') quoted[q++] = '\\';
        quoted[q++] = *p;
    }
    quoted[q] = '\0';
    snprintf(src, sizeof src, "JSON.parse('%s')", quoted);
    EXPECT(src, first);
}

static void test_exceptions(void **state) {
    (void)state;
    EXPECT_FAIL("throw new Error('boom')", GLINT_E_GUEST_ERROR, "Error: boom");
    EXPECT_FAIL("function inner() { throw new RangeError('deep'); }\n inner()", GLINT_E_GUEST_ERROR,
                "RangeError: deep");
    assert_non_null(strstr(out, "inner")); /* a stack trace */
    EXPECT_FAIL("null.x", GLINT_E_GUEST_ERROR, "TypeError");
    EXPECT_FAIL("notDefinedAnywhere + 1", GLINT_E_GUEST_ERROR, "ReferenceError");
    EXPECT_FAIL("foo(", GLINT_E_GUEST_ERROR, "SyntaxError");
    EXPECT_FAIL("throw 42", GLINT_E_GUEST_ERROR, "42");
    EXPECT_FAIL("throw {toString: function () { throw 1; }}", GLINT_E_GUEST_ERROR,
                "cannot be converted");
    EXPECT_FAIL("({toString: function () { throw new Error('in toString'); }}).toString()",
                GLINT_E_GUEST_ERROR, "in toString");
    /* Caught inside JavaScript: not an error at all. */
    EXPECT("try { throw new Error('x'); } catch (e) { 'caught ' + e.message; }", "caught x");
    /* None of this poisoned the sandbox. */
    assert_false(glint_sandbox_is_poisoned(js));
    EXPECT("1+1", "2");
}

static void test_infinite_loop_deadline(void **state) {
    (void)state;
    glint_sandbox *sb = clone_with_deadline(300ull * 1000000ull);
    assert_int_equal(ev_in(sb, "while (true) {}"), GLINT_E_DEADLINE);
    assert_true(glint_sandbox_is_poisoned(sb));
    assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
    assert_int_equal(ev_in(sb, "6*7"), GLINT_OK);
    assert_string_equal(out, "42");
    /* A loop that keeps calling the host is stopped too. */
    assert_int_equal(ev_in(sb, "for (;;) host.call('echo_json', 1);"), GLINT_E_DEADLINE);
    assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
    assert_int_equal(ev_in(sb, "'alive'"), GLINT_OK);
    assert_string_equal(out, "alive");
    glint_sandbox_destroy(sb);
}

static void test_memory_exhaustion(void **state) {
    (void)state;
    /* Garbage held by a function: freed once the error unwinds, so the same
     * sandbox carries on without a restore. */
    EXPECT_FAIL("(function () { var a = []; for (;;) a.push('x'.repeat(1000) + a.length); })()",
                GLINT_E_OUT_OF_MEMORY, "alloc failed");
    assert_false(glint_sandbox_is_poisoned(js));
    EXPECT("1+1", "2");
    /* One allocation larger than the heap. */
    EXPECT_FAIL("'x'.repeat(64 * 1024 * 1024).length", GLINT_E_OUT_OF_MEMORY, "alloc failed");
    EXPECT_FAIL("new ArrayBuffer(1e9).byteLength", GLINT_E_OUT_OF_MEMORY, "");
    EXPECT("[1,2,3].length", "3");
    /* A global that keeps the heap full: restore gives the memory back. */
    glint_status st = ev("var hog = []; for (;;) hog.push({i: hog.length, s: 'y' + hog.length});");
    assert_int_equal(st, GLINT_E_OUT_OF_MEMORY);
    assert_false(glint_sandbox_is_poisoned(js));
    assert_int_equal(glint_sandbox_restore(js, snap), GLINT_OK);
    EXPECT("typeof hog", "undefined");
    EXPECT("var big = 'z'.repeat(1024 * 1024); big.length", "1048576");
}

static void test_state_isolation(void **state) {
    (void)state;
    EXPECT("var leaked = 42; this.g = 'set'; Array.prototype.evil = function () {};"
           " JSON.stringify = null; Math.PI = 3; 'ok'",
           "ok");
    /* Without a restore, state persists (same sandbox, same heap)... */
    EXPECT("typeof leaked + ' ' + g + ' ' + typeof [].evil", "number set function");
    /* ... and the guest's formatting does not depend on the replaced JSON.stringify. */
    EXPECT("({k: 1})", "{\"k\":1}");
    glint_counters c;
    assert_int_equal(glint_sandbox_restore(js, snap), GLINT_OK);
    glint_sandbox_counters(js, &c);
    assert_true(c.last_restore_pages_reset > 0);
    EXPECT("typeof leaked", "undefined");
    EXPECT("typeof g", "undefined");
    EXPECT("typeof [].evil", "undefined");
    EXPECT("typeof JSON.stringify", "function");
    EXPECT("Math.PI", "3.141592653589793");
    /* The same engine state after every restore, but not the same random
     * numbers: Math.random draws from the runtime's generator, reseeded by
     * every restore (test_time_and_random). */
    EXPECT("Math.random() < 1", "true");
}

/* The JavaScript engine sees the host's time and distinct random numbers in
 * every restore and every clone of its snapshot (docs/javascript.md). */
static uint64_t host_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_time_and_random(void **state) {
    (void)state;
    /* Date.now() is the host's clock (ms), to within the stated 1 ms (plus
     * Date's truncation to whole ms). */
    uint64_t before = host_ms();
    assert_int_equal(ev("Date.now()"), GLINT_OK);
    uint64_t after = host_ms();
    uint64_t now = strtoull(out, NULL, 10);
    printf("  Date.now() %" PRIu64 ", host [%" PRIu64 ", %" PRIu64 "]\n", now, before, after);
    assert_true(now + 2 >= before && now <= after + 1);
    EXPECT("new Date().getUTCFullYear() >= 2024", "true");
    EXPECT("var t0 = Date.now(), n = 0; while (Date.now() === t0) n++; Date.now() > t0", "true");
    /* Math.random: a new sequence after every restore ... */
    char seen[6][64];
    for (int i = 0; i < 6; i++) {
        assert_int_equal(glint_sandbox_restore(js, snap), GLINT_OK);
        assert_int_equal(ev("Math.random()"), GLINT_OK);
        snprintf(seen[i], sizeof seen[i], "%.63s", out);
        double v = strtod(out, NULL);
        assert_true(v >= 0.0 && v < 1.0);
        for (int j = 0; j < i; j++) assert_string_not_equal(seen[i], seen[j]);
    }
    /* ... and in every clone of the snapshot. */
    glint_sandbox *a = clone_with_deadline(JS_DEADLINE_NS),
                  *b = clone_with_deadline(JS_DEADLINE_NS);
    char ra[64], rb[64];
    assert_int_equal(ev_in(a, "Math.random() + ',' + Math.random()"), GLINT_OK);
    snprintf(ra, sizeof ra, "%.63s", out);
    assert_int_equal(ev_in(b, "Math.random() + ',' + Math.random()"), GLINT_OK);
    snprintf(rb, sizeof rb, "%.63s", out);
    printf("  clone a: %s; clone b: %s\n", ra, rb);
    assert_string_not_equal(ra, rb);
    /* Each clone's Date.now() is the host's too (the snapshot is older). */
    before = host_ms();
    assert_int_equal(ev_in(b, "Date.now()"), GLINT_OK);
    after = host_ms();
    now = strtoull(out, NULL, 10);
    assert_true(now + 2 >= before && now <= after + 1);
    glint_sandbox_destroy(a);
    glint_sandbox_destroy(b);
    /* Deterministic entropy and pinned time, for replay: clones agree. */
    glint_config det;
    glint_config_init(&det);
    det.call_deadline_ns = JS_DEADLINE_NS;
    det.fixed_entropy = true;
    memset(det.entropy_seed, 7, sizeof det.entropy_seed);
    det.pin_time = true;
    det.pinned_realtime_ns = 1700000000000000000ull;
    glint_error err;
    assert_int_equal(glint_sandbox_create_from_snapshot(snap, &det, &a, &err), GLINT_OK);
    assert_int_equal(glint_sandbox_create_from_snapshot(snap, &det, &b, &err), GLINT_OK);
    const char *src = "Date.now() + ':' + Math.random()";
    assert_int_equal(ev_in(a, src), GLINT_OK);
    snprintf(ra, sizeof ra, "%.63s", out);
    assert_int_equal(ev_in(b, src), GLINT_OK);
    assert_string_equal(ra, out);
    assert_true(strncmp(ra, "1700000000000:", 14) == 0);
    glint_sandbox_destroy(a);
    glint_sandbox_destroy(b);
}

static void test_host_functions(void **state) {
    (void)state;
    EXPECT("host.print('hello', 1, [2, 3], null); print('second'); console.log('third'); 'done'",
           "done");
    assert_string_equal(printed, "hello 1 2,3 null\nsecond\nthird\n");
    EXPECT("host.print('\\ud83d\\ude00')", "undefined");
    assert_string_equal(printed + strlen("hello 1 2,3 null\nsecond\nthird\n"),
                        "\xf0\x9f\x98\x80\n");
    EXPECT_FAIL("host.print('nul\\u0000inside')", GLINT_E_GUEST_ERROR, "U+0000");

    /* JSON convention */
    EXPECT("JSON.stringify(host.call('echo_json', 1, 'two', [3], {four: 4}))",
           "[1,\"two\",[3],{\"four\":4}]");
    EXPECT("host.call('echo_json').length", "0");
    EXPECT_FAIL("host.call('fail', 1)", GLINT_E_GUEST_ERROR, "host_fail says no");
    EXPECT("try { host.call('no_such_function'); } catch (e) {"
           " e.message.indexOf(\"host.call('no_such_function') failed: "
           "GLINT_E_FUNCTION_NOT_FOUND\"); }",
           "0");
    /* A signature mismatch is the host's to report */
    EXPECT_FAIL("host.call('add', 1, 2)", GLINT_E_GUEST_ERROR, "GLINT_E_");

    /* Typed calls */
    EXPECT("host.callTyped('add', 'i32(i32, i32)', 2, 40)", "42");
    EXPECT("host.callTyped('add', 'i32(i32,i32)', -2147483648, -1)", "2147483647");
    EXPECT_FAIL("host.callTyped('add', 'i32(i32,i32)', 1.5, 2)", GLINT_E_GUEST_ERROR, "RangeError");
    EXPECT_FAIL("host.callTyped('add', 'i32(i32,i32)', 1)", GLINT_E_GUEST_ERROR, "takes 2");
    EXPECT_FAIL("host.callTyped('add', 'int(i32)', 1)", GLINT_E_GUEST_ERROR, "bad signature");
    EXPECT("Array.prototype.slice.call(host.callTyped('reverse', 'bytes(bytes)',"
           " new Uint8Array([1, 2, 3, 250]))).join(',')",
           "250,3,2,1");
    EXPECT("host.callTyped('reverse', 'bytes(bytes)', new Uint8Array(0)).length", "0");
}

static void test_recursion_limits(void **state) {
    (void)state;
    EXPECT("(function f(n) { return n === 0 ? 0 : 1 + f(n - 1); })(5000)", "5000");
    /* Unbounded recursion, deep nesting in the compiler, the JSON parser and
     * the regexp engine all end in Duktape's RangeError, not a stack overflow:
     * with a 2 MiB stack every recursion limit of Duktape's is reached first
     * (the regexp executor's 10000 levels need more than 1 MiB). */
    EXPECT_FAIL("(function g() { return g() + 1; })()", GLINT_E_GUEST_ERROR, "RangeError");
    EXPECT_FAIL("JSON.parse(Array(100000).join('['))", GLINT_E_GUEST_ERROR, "RangeError");
    EXPECT_FAIL("eval(Array(5000).join('(') + '1' + Array(5000).join(')'))", GLINT_E_GUEST_ERROR,
                "RangeError");
    EXPECT_FAIL("var d = []; for (var i = 0; i < 5000; i++) d = [d]; JSON.stringify(d)",
                GLINT_E_GUEST_ERROR, "RangeError");
    EXPECT_FAIL("/(a|b)*c/.test(Array(20000).join('a') + 'c')", GLINT_E_GUEST_ERROR,
                "regexp executor recursion limit");
    /* Recursion through native functions (each level re-enters the executor in C). */
    EXPECT_FAIL("(function f(n) { return [n].map(function () { return f(n + 1); })[0]; })(0)",
                GLINT_E_GUEST_ERROR, "C stack depth limit");
    assert_false(glint_sandbox_is_poisoned(js));
    EXPECT("/a*c/.test(Array(20000).join('a') + 'c')", "true");
}

static void test_counters_per_eval(void **state) {
    (void)state;
    glint_counters a, b;
    EXPECT("1+2", "3"); /* warm */
    assert_int_equal(glint_sandbox_restore(js, snap), GLINT_OK);
    glint_sandbox_counters(js, &a);
    uint64_t pages = a.last_restore_pages_reset;
    EXPECT("1+2", "3");
    glint_sandbox_counters(js, &b);
    const uint64_t runs = b.vm_runs - a.vm_runs;
    const uint64_t exits = (b.exits_io + b.exits_mmio + b.exits_hlt + b.exits_other) -
                           (a.exits_io + a.exits_mmio + a.exits_hlt + a.exits_other);
    print_message("eval '1+2' after a restore: %llu vm_runs, %llu exits; that restore reset "
                  "%llu pages\n",
                  (unsigned long long)runs, (unsigned long long)exits, (unsigned long long)pages);
    assert_int_equal(runs, 1); /* one KVM_RUN: the call runs to its DONE exit */
    assert_int_equal(exits, 1);
    assert_int_equal(b.host_calls, a.host_calls);
    assert_true(pages > 0 && pages < 1024);
    /* A host.print costs one more exit. */
    glint_sandbox_counters(js, &a);
    EXPECT("print('x'); 1", "1");
    glint_sandbox_counters(js, &b);
    assert_int_equal(b.host_calls - a.host_calls, 1);
    assert_int_equal((b.exits_io - a.exits_io), 2);
}

static void test_heap_too_small(void **state) {
    (void)state;
    glint_status st;
    glint_sandbox *sb = make_template(64 * 1024, &st);
    assert_int_equal(st, GLINT_E_GUEST_ABORT);
    assert_non_null(strstr(glint_sandbox_last_error(sb)->message, "duktape"));
    glint_sandbox_destroy(sb);
}

static void test_stats(void **state) {
    (void)state;
    glint_value res;
    assert_int_equal(glint_sandbox_call(js, "stats", GLINT_TYPE_STRING, NULL, 0, &res), GLINT_OK);
    print_message("js_guest stats after init: %.*s\n", (int)res.as.str.len, res.as.str.ptr);
    assert_non_null(strstr(res.as.str.ptr, "\"heap_in_use\":"));
}

int main(void) {
    glint_test_require_kvm();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_arithmetic, restore_before),
        cmocka_unit_test_setup(test_strings, restore_before),
        cmocka_unit_test_setup(test_json_round_trip, restore_before),
        cmocka_unit_test_setup(test_exceptions, restore_before),
        cmocka_unit_test_setup(test_infinite_loop_deadline, restore_before),
        cmocka_unit_test_setup(test_memory_exhaustion, restore_before),
        cmocka_unit_test_setup(test_state_isolation, restore_before),
        cmocka_unit_test_setup(test_time_and_random, restore_before),
        cmocka_unit_test_setup(test_host_functions, restore_before),
        cmocka_unit_test_setup(test_recursion_limits, restore_before),
        cmocka_unit_test_setup(test_counters_per_eval, restore_before),
        cmocka_unit_test_setup(test_stats, restore_before),
        cmocka_unit_test(test_heap_too_small),
    };
    return cmocka_run_group_tests_name("javascript (duktape)", tests, setup_group, teardown_group);
}
