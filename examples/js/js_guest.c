/*
 * js_guest.c - JavaScript in a Glint sandbox: the Duktape engine (2.x),
 * compiled for the guest against the Glint runtime and newlib.
 *
 * glint_main creates the Duktape heap (all built-ins), installs the `host`
 * object and compiles two small helpers, then collects garbage, so that a
 * snapshot taken right after initialisation holds a ready, compact engine.
 * The host then runs each evaluation on a sandbox restored to that snapshot
 * (examples/js/glint_js.c, docs/javascript.md).
 *
 * Guest functions
 *   eval(string source) -> string   the completion value of `source` as text:
 *                                   strings as they are, undefined as
 *                                   "undefined", other objects (not functions
 *                                   or errors) as JSON.stringify gives them,
 *                                   everything else as String(v).
 *       An uncaught exception fails the call with GLINT_E_GUEST_ERROR and the
 *       error's stack trace (Error objects) or String(value) as the message.
 *       Running out of guest heap (an allocation failed even after Duktape's
 *       emergency garbage collection, and the uncaught error is Duktape's
 *       "alloc failed" or its DoubleError) fails it with
 *       GLINT_E_OUT_OF_MEMORY; the sandbox stays usable either way.
 *   stats() -> string               JSON {"heap_size", "heap_arena", "heap_in_use"}
 *                                   (bytes; newlib's mallinfo).
 *
 * JavaScript API (globals)
 *   host.print(...values)               String() of each value, joined by " ",
 *                                       sent to the host function
 *                                       "host_print"(string) -> void.
 *   print(...), console.log(...)        the same function.
 *   host.call(name, ...args)            JSON convention: calls host function
 *                                       name(string) -> string with
 *                                       JSON.stringify(args) and returns
 *                                       JSON.parse(reply) (undefined for "").
 *   host.callTyped(name, sig, ...args)  typed: sig is "ret(type,...)" with
 *                                       glint type names, e.g. "i32(i32,i32)";
 *                                       values are converted and checked.
 *   A failing host call throws an Error naming the function and the status.
 *   Date.now(), new Date()              the host's clock (CLOCK_REALTIME through
 *                                       gettimeofday, no VM exit).
 *   Math.random()                       the runtime's ChaCha20 generator: a
 *                                       new sequence after every restore and
 *                                       in every clone.
 *
 * Strings leave the guest as UTF-8: Duktape keeps non-BMP characters as
 * CESU-8 surrogate pairs internally, which are recombined here (a lone
 * surrogate becomes U+FFFD).  Glint strings cannot hold U+0000, so a result
 * or host-call string containing one is an error.
 */
#include <glint_guest.h>

#include <malloc.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "duktape.h"

/* glint_abort code when Duktape hits a fatal (unrecoverable) error. */
#define JS_FATAL_ABORT_CODE 70

static duk_context *js;
static void *helper_format;   /* function (v) -> string       */
static void *helper_describe; /* function (e) -> string       */
static void *helper_is_oom;   /* function (e) -> boolean      */

/* Helpers written in JavaScript.  They capture the original built-ins, so a
 * script that replaces JSON.stringify or String only affects itself. */
static const char helpers_source[] =
    "(function (stringify, S, E) {\n"
    "  return {\n"
    "    format: function (v) {\n"
    "      if (v === undefined) return 'undefined';\n"
    "      if (typeof v === 'string') return v;\n"
    "      if (typeof v === 'object' && v !== null && !(v instanceof E)) {\n"
    "        var j;\n"
    "        try { j = stringify(v); } catch (x) { j = undefined; }\n"
    "        if (typeof j === 'string') return j;\n"
    "      }\n"
    "      return S(v);\n"
    "    },\n"
    "    describe: function (e) {\n"
    "      try {\n"
    "        if (e instanceof E && typeof e.stack === 'string') return e.stack;\n"
    "      } catch (x) { }\n"
    "      try { return S(e); } catch (x) { }\n"
    "      return 'uncaught exception (the thrown value cannot be converted to a string)';\n"
    "    },\n"
    "    isOom: function (e) {\n"
    "      try {\n"
    "        return e instanceof E && (e.message === 'alloc failed' || e.name === 'DoubleError');\n"
    "      } catch (x) { return false; }\n"
    "    }\n"
    "  };\n"
    "})(JSON.stringify, String, Error)";

/* ---- UTF-8 out of Duktape's CESU-8 ---------------------------------------- */

/* A 3-byte sequence ED A0..BF 80..BF encodes a UTF-16 surrogate (U+D800..DFFF). */
static bool is_surrogate_at(const unsigned char *p, size_t left) {
    return left >= 3 && p[0] == 0xEDu && p[1] >= 0xA0u && p[1] <= 0xBFu && (p[2] & 0xC0u) == 0x80u;
}

static uint32_t surrogate_value(const unsigned char *p) {
    return 0xD000u | ((uint32_t)(p[1] & 0x3Fu) << 6) | (uint32_t)(p[2] & 0x3Fu);
}

/* Scans in[0..len): *needs_fix if it holds surrogates, *has_nul if U+0000. */
static void scan_text(const unsigned char *in, size_t len, bool *needs_fix, bool *has_nul) {
    *needs_fix = false;
    *has_nul = memchr(in, 0, len) != NULL;
    for (const unsigned char *p = in; (p = memchr(p, 0xED, len - (size_t)(p - in))) != NULL; p++) {
        if (is_surrogate_at(p, len - (size_t)(p - in))) {
            *needs_fix = true;
            return;
        }
    }
}

/* Rewrites surrogate pairs as 4-byte UTF-8 and lone surrogates as U+FFFD.
 * The output is never longer than the input; returns its length. */
static size_t cesu_to_utf8(const unsigned char *in, size_t len, unsigned char *out) {
    size_t i = 0, o = 0;
    while (i < len) {
        if (is_surrogate_at(in + i, len - i)) {
            const uint32_t hi = surrogate_value(in + i);
            if (hi <= 0xDBFFu && is_surrogate_at(in + i + 3, len - i - 3)) {
                const uint32_t lo = surrogate_value(in + i + 3);
                if (lo >= 0xDC00u) {
                    const uint32_t cp = 0x10000u + ((hi - 0xD800u) << 10) + (lo - 0xDC00u);
                    out[o++] = (unsigned char)(0xF0u | (cp >> 18));
                    out[o++] = (unsigned char)(0x80u | ((cp >> 12) & 0x3Fu));
                    out[o++] = (unsigned char)(0x80u | ((cp >> 6) & 0x3Fu));
                    out[o++] = (unsigned char)(0x80u | (cp & 0x3Fu));
                    i += 6;
                    continue;
                }
            }
            out[o++] = 0xEFu; /* U+FFFD */
            out[o++] = 0xBFu;
            out[o++] = 0xBDu;
            i += 3;
            continue;
        }
        out[o++] = in[i++];
    }
    return o;
}

/*
 * The string at idx as UTF-8 without NUL, for a glint string.  Returns a
 * pointer into the string itself when it needs no change, else pushes the
 * converted text as a new string and points into that (the value at idx is
 * left alone).  Throws a TypeError naming `what` when the text contains
 * U+0000.  The pointer stays valid while the string stays on the value stack.
 */
static const char *require_glint_string(duk_context *c, duk_idx_t idx, const char *what,
                                        uint32_t *out_len) {
    idx = duk_require_normalize_index(c, idx);
    duk_size_t len;
    const char *s = duk_require_lstring(c, idx, &len);
    if (len > UINT32_MAX - 1u) {
        (void)duk_range_error(c, "%s: string of %lu bytes is too long", what, (unsigned long)len);
    }
    bool needs_fix, has_nul;
    scan_text((const unsigned char *)s, len, &needs_fix, &has_nul);
    if (has_nul) {
        (void)duk_type_error(c, "%s: the string contains U+0000, which a glint string cannot carry",
                             what);
    }
    if (needs_fix) {
        unsigned char *buf = duk_push_fixed_buffer(c, len);
        s = duk_get_string(c, idx); /* re-read: the push may have run the GC */
        const size_t n = cesu_to_utf8((const unsigned char *)s, len, buf);
        duk_push_lstring(c, (const char *)buf, n);
        duk_remove(c, -2);
        s = duk_get_lstring(c, -1, &len);
    }
    *out_len = (uint32_t)len;
    return s;
}

/* ---- The host object ------------------------------------------------------- */

static duk_ret_t throw_host_failure(duk_context *c, const char *api, const char *name,
                                    glint_status st) {
    return duk_error(c, DUK_ERR_ERROR, "%s('%s') failed: %s: %s", api, name,
                     glint_status_name((int)st), glint_host_error());
}

/* host.print(...values) */
static duk_ret_t js_print(duk_context *c) {
    const duk_idx_t n = duk_get_top(c);
    duk_push_string(c, " ");
    duk_insert(c, 0);
    duk_join(c, n); /* ToString() of each value */
    uint32_t len;
    const char *text = require_glint_string(c, -1, "host.print", &len);
    glint_value arg = {GLINT_TYPE_STRING, {0}};
    arg.as.str.ptr = text;
    arg.as.str.len = len;
    const glint_status st = glint_call_host("host_print", GLINT_TYPE_VOID, NULL, 1, arg);
    if (st != GLINT_OK) return throw_host_failure(c, "host.print", "host_print", st);
    return 0;
}

/* host.call(name, ...args): name(JSON.stringify(args)) -> JSON text. */
static duk_ret_t js_call(duk_context *c) {
    const duk_idx_t n = duk_get_top(c);
    const char *name = duk_require_string(c, 0);
    duk_push_array(c);
    for (duk_idx_t i = 1; i < n; i++) {
        duk_dup(c, i);
        duk_put_prop_index(c, -2, (duk_uarridx_t)(i - 1));
    }
    duk_json_encode(c, -1);
    uint32_t len;
    const char *json = require_glint_string(c, -1, "host.call", &len);
    glint_value arg = {GLINT_TYPE_STRING, {0}};
    arg.as.str.ptr = json;
    arg.as.str.len = len;
    glint_value reply;
    const glint_status st = glint_call_host(name, GLINT_TYPE_STRING, &reply, 1, arg);
    if (st != GLINT_OK) return throw_host_failure(c, "host.call", name, st);
    if (reply.as.str.len == 0) return 0; /* undefined */
    duk_push_lstring(c, reply.as.str.ptr, reply.as.str.len);
    duk_json_decode(c, -1);
    return 1;
}

/* Parses "ret(t1, t2, ...)" into types; throws a TypeError when malformed. */
static uint32_t parse_signature(duk_context *c, const char *sig, glint_type *ret,
                                glint_type *params) {
    char word[16];
    const char *p = sig;
    uint32_t count = 0;
    int which = -1; /* -1: return type, then parameter index */
    for (;;) {
        while (*p == ' ') p++;
        size_t n = 0;
        while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            if (n + 1 >= sizeof word) goto bad;
            word[n++] = *p++;
        }
        word[n] = '\0';
        while (*p == ' ') p++;
        if (which == -1) {
            const int t = glint_type_parse(word);
            if (t < 0 || !glint_type_valid_return(t) || *p != '(') goto bad;
            *ret = (glint_type)t;
            p++;
            which = 0;
            while (*p == ' ') p++;
            if (*p == ')') {
                p++;
                break;
            }
            continue;
        }
        const int t = glint_type_parse(word);
        if (t < 0 || !glint_type_valid_param(t) || count >= GLINT_MAX_ARGS) goto bad;
        params[count++] = (glint_type)t;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ')') {
            p++;
            break;
        }
        goto bad;
    }
    while (*p == ' ') p++;
    if (*p != '\0') goto bad;
    return count;
bad:
    (void)duk_type_error(c,
                         "host.callTyped: bad signature '%s' (expected e.g. \"i32(i32, string)\"; "
                         "types: i32 u32 i64 u64 f32 f64 bool string bytes, void as return)",
                         sig);
    return 0;
}

static double require_integer(duk_context *c, duk_idx_t idx, uint32_t argno, double lo,
                              double hi_excl, const char *type) {
    const double d = duk_require_number(c, idx);
    if (!(d == floor(d) && d >= lo && d < hi_excl)) {
        (void)duk_range_error(c, "host.callTyped: argument %u (%.17g) is not a valid %s",
                              (unsigned)argno, d, type);
    }
    return d;
}

/* host.callTyped(name, sig, ...args) */
static duk_ret_t js_call_typed(duk_context *c) {
    const duk_idx_t n = duk_get_top(c);
    const char *name = duk_require_string(c, 0);
    const char *sig = duk_require_string(c, 1);
    glint_type ret = GLINT_TYPE_VOID;
    glint_type params[GLINT_MAX_ARGS];
    const uint32_t argc = parse_signature(c, sig, &ret, params);
    if ((duk_idx_t)argc != n - 2) {
        return duk_type_error(c, "host.callTyped('%s'): signature '%s' takes %u arguments, got %ld",
                              name, sig, (unsigned)argc, (long)(n - 2));
    }
    glint_value args[GLINT_MAX_ARGS];
    memset(args, 0, sizeof args);
    for (uint32_t i = 0; i < argc; i++) {
        const duk_idx_t idx = (duk_idx_t)(i + 2u);
        const uint32_t argno = i + 1u;
        glint_value *v = &args[i];
        v->type = params[i];
        switch (params[i]) {
        case GLINT_TYPE_I32:
            v->as.i32 = (int32_t)require_integer(c, idx, argno, -2147483648.0, 2147483648.0, "i32");
            break;
        case GLINT_TYPE_U32:
            v->as.u32 = (uint32_t)require_integer(c, idx, argno, 0.0, 4294967296.0, "u32");
            break;
        case GLINT_TYPE_I64:
            v->as.i64 = (int64_t)require_integer(c, idx, argno, -9223372036854775808.0,
                                                 9223372036854775808.0, "i64");
            break;
        case GLINT_TYPE_U64:
            v->as.u64 =
                (uint64_t)require_integer(c, idx, argno, 0.0, 18446744073709551616.0, "u64");
            break;
        case GLINT_TYPE_F32: v->as.f32 = (float)duk_require_number(c, idx); break;
        case GLINT_TYPE_F64: v->as.f64 = duk_require_number(c, idx); break;
        case GLINT_TYPE_BOOL: v->as.b = duk_require_boolean(c, idx) != 0; break;
        case GLINT_TYPE_STRING: {
            uint32_t len;
            v->as.str.ptr = require_glint_string(c, idx, "host.callTyped", &len);
            v->as.str.len = len;
            break;
        }
        case GLINT_TYPE_BYTES: {
            duk_size_t len;
            void *p = duk_require_buffer_data(c, idx, &len);
            if (len > UINT32_MAX) return duk_range_error(c, "host.callTyped: buffer too large");
            v->as.bytes.ptr = p;
            v->as.bytes.len = (uint32_t)len;
            break;
        }
        default: return duk_type_error(c, "host.callTyped: bad parameter type");
        }
    }
    glint_value result;
    memset(&result, 0, sizeof result);
    const glint_status st = glint_call_host_v(name, ret, args, argc, &result);
    if (st != GLINT_OK) return throw_host_failure(c, "host.callTyped", name, st);
    switch (ret) {
    case GLINT_TYPE_VOID: return 0;
    case GLINT_TYPE_I32: duk_push_int(c, result.as.i32); break;
    case GLINT_TYPE_U32: duk_push_uint(c, result.as.u32); break;
    case GLINT_TYPE_I64: duk_push_number(c, (double)result.as.i64); break;
    case GLINT_TYPE_U64: duk_push_number(c, (double)result.as.u64); break;
    case GLINT_TYPE_F32: duk_push_number(c, (double)result.as.f32); break;
    case GLINT_TYPE_F64: duk_push_number(c, result.as.f64); break;
    case GLINT_TYPE_BOOL: duk_push_boolean(c, result.as.b); break;
    case GLINT_TYPE_STRING: duk_push_lstring(c, result.as.str.ptr, result.as.str.len); break;
    case GLINT_TYPE_BYTES: {
        /* Copy first: the reply lives in the input buffer only until the next host call. */
        void *buf = duk_push_fixed_buffer(c, result.as.bytes.len);
        if (result.as.bytes.len != 0) memcpy(buf, result.as.bytes.ptr, result.as.bytes.len);
        duk_push_buffer_object(c, -1, 0, result.as.bytes.len, DUK_BUFOBJ_UINT8ARRAY);
        break;
    }
    default: return duk_type_error(c, "host.callTyped: bad return type");
    }
    return 1;
}

static const duk_function_list_entry host_functions[] = {
    {"print", js_print, DUK_VARARGS},
    {"call", js_call, DUK_VARARGS},
    {"callTyped", js_call_typed, DUK_VARARGS},
    {NULL, NULL, 0},
};

/* ---- Engine setup ----------------------------------------------------------- */

/* Duktape's allocator: newlib's malloc on the guest heap, noting failures.
 * Duktape answers a failed allocation with an emergency garbage collection
 * and retries; only when that fails too does it throw "alloc failed". */
static bool alloc_failed;

static void *js_alloc(void *udata, duk_size_t size) {
    (void)udata;
    void *p = malloc(size);
    if (p == NULL && size != 0) alloc_failed = true;
    return p;
}

static void *js_realloc(void *udata, void *ptr, duk_size_t size) {
    (void)udata;
    void *p = realloc(ptr, size);
    if (p == NULL && size != 0) alloc_failed = true;
    return p;
}

static void js_free(void *udata, void *ptr) {
    (void)udata;
    free(ptr);
}

static void fatal_handler(void *udata, const char *msg) {
    (void)udata;
    glint_abort(JS_FATAL_ABORT_CODE, "duktape fatal error: %s", msg != NULL ? msg : "(no message)");
}

/* Math.random from the runtime's generator (ChaCha20, seeded by the host and
 * reseeded on every create, clone and restore: glint_guest.h), not from
 * Duktape's own xoroshiro128+, whose state would be part of the snapshot:
 * every restore and every clone of the engine would then repeat one
 * sequence.  53 random bits, uniform in [0, 1). */
static duk_ret_t js_math_random(duk_context *c) {
    duk_push_number(c, glint_random_double());
    return 1;
}

static void replace_math_random(duk_context *c) {
    duk_get_prop_string(c, -1, "Math");
    duk_push_string(c, "random");
    duk_push_c_function(c, js_math_random, 0);
    duk_push_string(c, "name");
    duk_push_string(c, "random");
    duk_def_prop(c, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
    /* Like the built-in: writable, configurable, not enumerable. */
    duk_def_prop(c, -3,
                 DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_CONFIGURABLE |
                     DUK_DEFPROP_CLEAR_ENUMERABLE);
    duk_pop(c);
}

static duk_ret_t setup_globals(duk_context *c, void *udata) {
    (void)udata;
    duk_push_global_object(c);
    replace_math_random(c);

    duk_push_object(c); /* host */
    duk_put_function_list(c, -1, host_functions);
    duk_get_prop_string(c, -1, "print");
    duk_put_prop_string(c, -3, "print"); /* global print = host.print */
    duk_push_object(c);                  /* console */
    duk_get_prop_string(c, -2, "print");
    duk_put_prop_string(c, -2, "log");
    duk_put_prop_string(c, -3, "console");
    duk_put_prop_string(c, -2, "host");

    /* The helpers, kept reachable from the heap stash. */
    duk_push_heap_stash(c);
    duk_push_string(c, helpers_source);
    duk_push_string(c, "glint-helpers");
    duk_compile(c, DUK_COMPILE_EVAL);
    duk_call(c, 0);
    duk_get_prop_string(c, -1, "format");
    helper_format = duk_get_heapptr(c, -1);
    duk_put_prop_string(c, -3, "format");
    duk_get_prop_string(c, -1, "describe");
    helper_describe = duk_get_heapptr(c, -1);
    duk_put_prop_string(c, -3, "describe");
    duk_get_prop_string(c, -1, "isOom");
    helper_is_oom = duk_get_heapptr(c, -1);
    duk_put_prop_string(c, -3, "isOom");
    return 0;
}

/* ---- Guest functions ------------------------------------------------------------ */

/* Runs source and formats the value; leaves the text to return (UTF-8, no
 * NUL) on the stack top. */
static duk_ret_t eval_body(duk_context *c, void *udata) {
    const glint_value *source = udata;
    duk_push_lstring(c, source->as.str.ptr, source->as.str.len);
    duk_push_string(c, "input");
    duk_compile(c, DUK_COMPILE_EVAL);
    duk_call(c, 0);
    duk_push_heapptr(c, helper_format);
    duk_insert(c, -2);
    duk_call(c, 1);
    uint32_t len;
    (void)require_glint_string(c, -1, "eval result", &len);
    return 1;
}

/* Calls helper(error) with the error at the stack top; leaves the result. */
static duk_ret_t call_helper_body(duk_context *c, void *udata) {
    duk_push_heapptr(c, udata);
    duk_insert(c, -2);
    duk_call(c, 1);
    return 1;
}

static glint_status js_eval(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    duk_set_top(js, 0); /* drops the previous call's result */
    alloc_failed = false;
    if (duk_safe_call(js, eval_body, (void *)&args[0], 0, 1) == DUK_EXEC_SUCCESS) {
        /* The string stays on the value stack until the next call. */
        duk_size_t len;
        ret->as.str.ptr = duk_get_lstring(js, -1, &len);
        ret->as.str.len = (uint32_t)len;
        return GLINT_OK;
    }

    /* An uncaught error: out of memory (an allocation failed for good and
     * the error says so), or anything else. */
    bool oom = false;
    if (alloc_failed) {
        duk_dup(js, -1);
        if (duk_safe_call(js, call_helper_body, helper_is_oom, 1, 1) == DUK_EXEC_SUCCESS)
            oom = duk_to_boolean(js, -1) != 0;
        else
            oom = true; /* even the check failed: the heap is full */
        duk_pop(js);
    }
    duk_dup(js, -1);
    if (duk_safe_call(js, call_helper_body, helper_describe, 1, 1) == DUK_EXEC_SUCCESS &&
        duk_is_string(js, -1)) {
        glint_set_error("%s", duk_get_string(js, -1));
    } else {
        glint_set_error("uncaught JavaScript exception (describing it failed too%s)",
                        alloc_failed ? ": out of memory" : "");
        oom = alloc_failed;
    }
    duk_set_top(js, 0);
    /* Give the memory back now rather than at the next allocation. */
    duk_gc(js, 0);
    return oom ? GLINT_E_OUT_OF_MEMORY : GLINT_E_GUEST_ERROR;
}

static char stats_text[160];

static glint_status js_stats(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    const struct mallinfo mi = mallinfo();
    snprintf(stats_text, sizeof stats_text,
             "{\"heap_size\":%llu,\"heap_arena\":%llu,\"heap_in_use\":%llu}",
             (unsigned long long)glint_get_peb()->heap.size, (unsigned long long)mi.arena,
             (unsigned long long)mi.uordblks);
    *ret = glint_str(stats_text);
    return GLINT_OK;
}

void glint_main(void) {
    js = duk_create_heap(js_alloc, js_realloc, js_free, NULL, fatal_handler);
    if (js == NULL) {
        glint_abort(
            JS_FATAL_ABORT_CODE,
            "duktape: cannot create the JavaScript heap (guest heap of %llu bytes too small?)",
            (unsigned long long)glint_get_peb()->heap.size);
    }
    if (duk_safe_call(js, setup_globals, NULL, 0, 1) != DUK_EXEC_SUCCESS) {
        glint_abort(JS_FATAL_ABORT_CODE, "duktape: setting up the globals failed: %s",
                    duk_safe_to_string(js, -1));
    }
    duk_set_top(js, 0);
    /* Twice: the first pass may only run finalizers / leave objects for the second. */
    duk_gc(js, 0);
    duk_gc(js, 0);
    glint_register_function("eval", js_eval, GLINT_TYPE_STRING, 1, GLINT_TYPE_STRING);
    glint_register_function("stats", js_stats, GLINT_TYPE_STRING, 0);
}
