/*
 * test_wire - the shared wire codec (common/src/wire.c) and status names.
 *
 * Round trips of every value type through CALL and RESULT (bit-exact floats),
 * the message stacks (exact top/back-pointer values, LIFO, padding, corrupted
 * offsets on a buffer that ends at a PROT_NONE page), decoder strictness
 * (every truncation, hostile lengths, bad headers), encoder boundaries
 * (exactly-fits vs one byte short, on guarded buffers) and the other kinds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glint/status.h"
#include "glint/wire.h"
#include "unit_support.h"

#define BIG 65536u

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void wr64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint32_t f32_bits(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

static uint64_t f64_bits(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}

/* Floats built from raw bits, never through arithmetic, so NaN payloads and
 * the signalling bit survive to the encoder. */
static glint_value f32_from_bits(uint32_t bits) {
    glint_value v = glint_f32(0.0f);
    memcpy(&v.as.f32, &bits, 4);
    return v;
}

static glint_value f64_from_bits(uint64_t bits) {
    glint_value v = glint_f64(0.0);
    memcpy(&v.as.f64, &bits, 8);
    return v;
}

/* Encoded size of a value (type byte + payload), from the format spec. */
static uint64_t value_wire_size(const glint_value *v) {
    switch (v->type) {
    case GLINT_TYPE_VOID: return 1;
    case GLINT_TYPE_I32:
    case GLINT_TYPE_U32:
    case GLINT_TYPE_F32: return 5;
    case GLINT_TYPE_I64:
    case GLINT_TYPE_U64:
    case GLINT_TYPE_F64: return 9;
    case GLINT_TYPE_BOOL: return 2;
    case GLINT_TYPE_STRING: return 1 + 4 + (uint64_t)v->as.str.len + 1;
    case GLINT_TYPE_BYTES: return 1 + 4 + (uint64_t)v->as.bytes.len;
    }
    fail_msg("bad type %d", (int)v->type);
    return 0;
}

static void assert_value_equal(const glint_value *want, const glint_value *got) {
    assert_int_equal(want->type, got->type);
    switch (want->type) {
    case GLINT_TYPE_VOID: break;
    case GLINT_TYPE_I32: assert_int_equal(want->as.i32, got->as.i32); break;
    case GLINT_TYPE_U32: assert_int_equal(want->as.u32, got->as.u32); break;
    case GLINT_TYPE_I64: assert_true(want->as.i64 == got->as.i64); break;
    case GLINT_TYPE_U64: assert_true(want->as.u64 == got->as.u64); break;
    case GLINT_TYPE_F32: assert_int_equal(f32_bits(want->as.f32), f32_bits(got->as.f32)); break;
    case GLINT_TYPE_F64: assert_true(f64_bits(want->as.f64) == f64_bits(got->as.f64)); break;
    case GLINT_TYPE_BOOL: assert_int_equal(want->as.b, got->as.b); break;
    case GLINT_TYPE_STRING:
        assert_int_equal(want->as.str.len, got->as.str.len);
        assert_non_null(got->as.str.ptr);
        if (want->as.str.len != 0)
            assert_memory_equal(want->as.str.ptr, got->as.str.ptr, want->as.str.len);
        assert_int_equal(got->as.str.ptr[got->as.str.len], '\0');
        break;
    case GLINT_TYPE_BYTES:
        assert_int_equal(want->as.bytes.len, got->as.bytes.len);
        if (want->as.bytes.len != 0)
            assert_memory_equal(want->as.bytes.ptr, got->as.bytes.ptr, want->as.bytes.len);
        break;
    }
}

/* Copies msg to a buffer ending at a PROT_NONE page and decodes it fully
 * according to its kind.  Returns whether the decoder accepted it. */
static bool decode_any(const uint8_t *msg, uint64_t len) {
    glint_msg_kind kind;
    glint_reader r;
    if (!glint_msg_open(msg, len, &kind, &r)) return false;
    switch (kind) {
    case GLINT_MSG_CALL: {
        glint_call_view v;
        return glint_decode_call(&r, &v);
    }
    case GLINT_MSG_RESULT: {
        glint_value v;
        return glint_decode_result(&r, &v);
    }
    case GLINT_MSG_ERROR: {
        glint_error_view v;
        return glint_decode_error(&r, &v);
    }
    case GLINT_MSG_LOG: {
        glint_log_view v;
        return glint_decode_log(&r, &v);
    }
    case GLINT_MSG_PRINT: {
        const uint8_t *d;
        uint32_t n;
        return glint_decode_print(&r, &d, &n) && glint_reader_done(&r);
    }
    case GLINT_MSG_ABORT: {
        int32_t code;
        const char *m;
        uint32_t n;
        return glint_decode_abort(&r, &code, &m, &n);
    }
    case GLINT_MSG_FUNCTIONS: {
        uint32_t count;
        if (!glint_decode_functions_count(&r, &count)) return false;
        for (uint32_t i = 0; i < count; i++) {
            glint_function_view f;
            if (!glint_decode_function_next(&r, &f)) return false;
        }
        return glint_reader_done(&r);
    }
    }
    return false;
}

static bool decode_guarded(const void *msg, uint64_t len) {
    guarded_buf g;
    assert_int_equal(guarded_copy(&g, msg, len), 0);
    bool ok = decode_any(g.data, len);
    guarded_free(&g);
    return ok;
}

/* Raw message builder for hand-made (possibly malformed) messages. */
typedef struct raw_msg {
    uint8_t b[4096];
    uint64_t n;
} raw_msg;

static void raw_u8(raw_msg *m, uint8_t v) {
    assert_true(m->n < sizeof m->b);
    m->b[m->n++] = v;
}
static void raw_u32(raw_msg *m, uint32_t v) {
    assert_true(m->n + 4 <= sizeof m->b);
    memcpy(m->b + m->n, &v, 4);
    m->n += 4;
}
static void raw_mem(raw_msg *m, const void *p, uint64_t n) {
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
/* u32 length, bytes, NUL. */
static void raw_str(raw_msg *m, const char *s) {
    raw_u32(m, (uint32_t)strlen(s));
    raw_mem(m, s, strlen(s));
    raw_u8(m, 0);
}
static void raw_begin(raw_msg *m, uint8_t kind) {
    m->n = 0;
    raw_u8(m, kind);
    raw_u8(m, GLINT_WIRE_VERSION);
    raw_u8(m, 0);
    raw_u8(m, 0);
    raw_u32(m, 0);
}
/* Sets the header's body length to everything after the header. */
static void raw_end(raw_msg *m) {
    uint32_t body = (uint32_t)(m->n - GLINT_MSG_HEADER_SIZE);
    memcpy(m->b + 4, &body, 4);
}

/* Every strict prefix of a valid message is rejected: both with the original
 * header (body length beyond the message) and with the header's length
 * patched to the prefix (body itself truncated).  Buffers are guarded. */
static void assert_all_truncations_rejected(const uint8_t *msg, uint64_t len) {
    uint8_t *copy = malloc(len + 1);
    assert_non_null(copy);
    assert_true(decode_guarded(msg, len));
    for (uint64_t n = 0; n < len; n++) {
        if (decode_guarded(msg, n))
            fail_msg("prefix of %llu/%llu bytes accepted", (unsigned long long)n,
                     (unsigned long long)len);
        if (n >= GLINT_MSG_HEADER_SIZE) {
            memcpy(copy, msg, n);
            uint32_t body = (uint32_t)(n - GLINT_MSG_HEADER_SIZE);
            memcpy(copy + 4, &body, 4);
            if (decode_guarded(copy, n))
                fail_msg("truncated body of %llu/%llu bytes accepted", (unsigned long long)n,
                         (unsigned long long)len);
        }
    }
    free(copy);
}

/* ---- value round trips -------------------------------------------------- */

static char long_string[10001];
static const uint8_t bytes_with_nuls[] = {0, 1, 0, 0, 0xff, 0, 'a', 0};

static size_t make_values(glint_value *v) {
    size_t n = 0;
    for (size_t i = 0; i < sizeof long_string - 1; i++) long_string[i] = (char)('a' + i % 26);
    long_string[sizeof long_string - 1] = '\0';
    v[n++] = glint_i32(INT32_MIN);
    v[n++] = glint_i32(INT32_MAX);
    v[n++] = glint_i32(0);
    v[n++] = glint_i32(-1);
    v[n++] = glint_u32(0);
    v[n++] = glint_u32(UINT32_MAX);
    v[n++] = glint_i64(INT64_MIN);
    v[n++] = glint_i64(INT64_MAX);
    v[n++] = glint_i64(-1);
    v[n++] = glint_u64(0);
    v[n++] = glint_u64(UINT64_MAX);
    v[n++] = f32_from_bits(0x7fc00001u); /* quiet NaN with payload */
    v[n++] = f32_from_bits(0xff800001u); /* negative signalling NaN */
    v[n++] = glint_f32(INFINITY);
    v[n++] = glint_f32(-INFINITY);
    v[n++] = f32_from_bits(0x80000000u); /* -0.0f */
    v[n++] = f32_from_bits(0x00000001u); /* smallest denormal */
    v[n++] = glint_f32(FLT_MAX);
    v[n++] = f64_from_bits(0x7ff8000000000123ull);
    v[n++] = f64_from_bits(0xfff0000000000001ull);
    v[n++] = glint_f64(INFINITY);
    v[n++] = glint_f64(-INFINITY);
    v[n++] = f64_from_bits(0x8000000000000000ull); /* -0.0 */
    v[n++] = glint_f64(DBL_MAX);
    v[n++] = glint_f64(-1.5);
    v[n++] = glint_bool(true);
    v[n++] = glint_bool(false);
    v[n++] = glint_str("");
    v[n++] = glint_str("hello");
    v[n++] = glint_str(long_string);
    v[n++] = glint_bytes(NULL, 0);
    v[n++] = glint_bytes("", 0);
    v[n++] = glint_bytes(bytes_with_nuls, sizeof bytes_with_nuls);
    v[n++] = glint_bytes(long_string, 10000);
    return n;
}

static void test_constructors(void **state) {
    (void)state;
    glint_value v = glint_str("abc");
    assert_int_equal(v.type, GLINT_TYPE_STRING);
    assert_int_equal(v.as.str.len, 3);
    v = glint_str(NULL);
    assert_int_equal(v.as.str.len, 0);
    assert_string_equal(v.as.str.ptr, "");
    v = glint_str("");
    assert_int_equal(v.as.str.len, 0);
    assert_int_equal(glint_void().type, GLINT_TYPE_VOID);
    assert_int_equal(glint_i32(-5).as.i32, -5);
    assert_true(glint_u64(UINT64_MAX).as.u64 == UINT64_MAX);
}

static void test_result_roundtrip_all_types(void **state) {
    (void)state;
    static uint8_t buf[BIG];
    glint_value vals[64];
    size_t n = make_values(vals);
    vals[n++] = glint_void(); /* RESULT may carry VOID */
    for (size_t i = 0; i < n; i++) {
        glint_writer w;
        glint_writer_init(&w, buf, sizeof buf);
        uint64_t len = glint_encode_result(&w, &vals[i]);
        assert_int_equal(len, GLINT_MSG_HEADER_SIZE + value_wire_size(&vals[i]));
        assert_int_equal(w.pos, len);
        assert_false(w.overflow);
        glint_msg_kind kind;
        glint_reader r;
        assert_true(glint_msg_open(buf, len, &kind, &r));
        assert_int_equal(kind, GLINT_MSG_RESULT);
        glint_value out;
        memset(&out, 0xa5, sizeof out);
        assert_true(glint_decode_result(&r, &out));
        assert_value_equal(&vals[i], &out);
        /* Decoded strings/bytes point into the message, not at the source. */
        if (vals[i].type == GLINT_TYPE_STRING)
            assert_true((const uint8_t *)out.as.str.ptr > buf &&
                        (const uint8_t *)out.as.str.ptr < buf + len);
    }
}

static void test_call_roundtrip_each_type(void **state) {
    (void)state;
    static uint8_t buf[BIG];
    glint_value vals[64];
    size_t n = make_values(vals);
    for (size_t i = 0; i < n; i++) {
        glint_writer w;
        glint_writer_init(&w, buf, sizeof buf);
        glint_type ret = (glint_type)(i % GLINT_TYPE_COUNT);
        uint64_t len = glint_encode_call(&w, "some_function", ret, &vals[i], 1);
        /* header + name(4 + 13 + 1) + ret + argc + value */
        assert_int_equal(len, 8 + 18 + 2 + value_wire_size(&vals[i]));
        glint_msg_kind kind;
        glint_reader r;
        assert_true(glint_msg_open(buf, len, &kind, &r));
        assert_int_equal(kind, GLINT_MSG_CALL);
        glint_call_view cv;
        assert_true(glint_decode_call(&r, &cv));
        assert_int_equal(cv.name_len, 13);
        assert_memory_equal(cv.name, "some_function", 14);
        assert_int_equal(cv.ret, ret);
        assert_int_equal(cv.argc, 1);
        assert_value_equal(&vals[i], &cv.args[0]);
    }
}

static void test_call_roundtrip_many_args(void **state) {
    (void)state;
    static uint8_t buf[BIG];
    glint_value vals[64];
    size_t n = make_values(vals);
    /* All values, GLINT_MAX_ARGS at a time; the last chunk is partial. */
    for (size_t start = 0; start < n; start += GLINT_MAX_ARGS) {
        uint32_t argc = (uint32_t)(n - start < GLINT_MAX_ARGS ? n - start : GLINT_MAX_ARGS);
        glint_writer w;
        glint_writer_init(&w, buf, sizeof buf);
        uint64_t want = 8 + 4 + 1 + 1 + 2;
        for (uint32_t i = 0; i < argc; i++) want += value_wire_size(&vals[start + i]);
        uint64_t len = glint_encode_call(&w, "f", GLINT_TYPE_VOID, &vals[start], argc);
        assert_int_equal(len, want);
        glint_msg_kind kind;
        glint_reader r;
        assert_true(glint_msg_open(buf, len, &kind, &r));
        glint_call_view cv;
        assert_true(glint_decode_call(&r, &cv));
        assert_int_equal(cv.argc, argc);
        assert_int_equal(cv.ret, GLINT_TYPE_VOID);
        for (uint32_t i = 0; i < argc; i++) assert_value_equal(&vals[start + i], &cv.args[i]);
    }
    /* Zero arguments. */
    glint_writer w;
    glint_writer_init(&w, buf, sizeof buf);
    uint64_t len = glint_encode_call(&w, "noargs", GLINT_TYPE_I64, NULL, 0);
    assert_int_equal(len, 8 + 4 + 7 + 2);
    glint_msg_kind kind;
    glint_reader r;
    glint_call_view cv;
    assert_true(glint_msg_open(buf, len, &kind, &r));
    assert_true(glint_decode_call(&r, &cv));
    assert_int_equal(cv.argc, 0);
    assert_int_equal(cv.ret, GLINT_TYPE_I64);
}

/* The exact bytes of a CALL, so that a format change cannot go unnoticed. */
static void test_call_golden_bytes(void **state) {
    (void)state;
    uint8_t buf[64];
    glint_writer w;
    glint_writer_init(&w, buf, sizeof buf);
    glint_value args[2] = {glint_u32(0x01020304u), glint_bool(true)};
    uint64_t len = glint_encode_call(&w, "ab", GLINT_TYPE_STRING, args, 2);
    static const uint8_t want[] = {GLINT_MSG_CALL,
                                   GLINT_WIRE_VERSION,
                                   0,
                                   0,
                                   16,
                                   0,
                                   0,
                                   0, /* header, body 16 */
                                   2,
                                   0,
                                   0,
                                   0,
                                   'a',
                                   'b',
                                   0, /* name */
                                   GLINT_TYPE_STRING,
                                   2, /* ret, argc */
                                   GLINT_TYPE_U32,
                                   4,
                                   3,
                                   2,
                                   1, /* u32 LE */
                                   GLINT_TYPE_BOOL,
                                   1};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
}

/* ---- stacks ------------------------------------------------------------- */

static uint64_t push_msg(uint8_t *buf, uint64_t cap, const uint8_t *msg, uint64_t len) {
    uint8_t *slot;
    uint64_t avail;
    assert_int_equal(glint_stack_reserve(buf, cap, &slot, &avail), 0);
    assert_true(len <= avail);
    memcpy(slot, msg, len);
    assert_int_equal(glint_stack_commit(buf, cap, len), 0);
    return rd64(buf);
}

static void test_stack_push_pop_lifo(void **state) {
    (void)state;
    const uint64_t cap = 512;
    guarded_buf g;
    assert_int_equal(guarded_alloc(&g, cap), 0);
    uint8_t *buf = g.data;
    memset(buf, 0xcc, cap); /* stale bytes: padding must be zeroed */
    assert_int_equal(glint_stack_init(buf, cap), 0);
    assert_int_equal(rd64(buf), 8);
    assert_int_equal(glint_stack_used(buf, cap), 8);

    uint8_t *slot;
    uint64_t avail;
    assert_int_equal(glint_stack_reserve(buf, cap, &slot, &avail), 0);
    assert_ptr_equal(slot, buf + 8);
    assert_int_equal(avail, 496); /* 512 - 8 (top) - 8 (back-pointer) */

    uint8_t m[256];
    glint_writer w;
    /* A: RESULT i32 42 (13 bytes -> padded 16). */
    glint_writer_init(&w, m, sizeof m);
    glint_value v42 = glint_i32(42);
    uint64_t la = glint_encode_result(&w, &v42);
    assert_int_equal(la, 13);
    assert_int_equal(push_msg(buf, cap, m, la), 32);
    assert_int_equal(rd64(buf + 24), 8); /* back-pointer of A */
    for (int i = 13; i < 16; i++) assert_int_equal(buf[8 + i], 0);
    /* B: ERROR 7 "boom" (21 bytes -> 24). */
    glint_writer_init(&w, m, sizeof m);
    uint64_t lb = glint_encode_error(&w, 7, "boom", 4);
    assert_int_equal(lb, 21);
    assert_int_equal(push_msg(buf, cap, m, lb), 64);
    assert_int_equal(rd64(buf + 56), 32);
    for (int i = 21; i < 24; i++) assert_int_equal(buf[32 + i], 0);
    /* C: PRINT of nothing (12 bytes -> 16). */
    glint_writer_init(&w, m, sizeof m);
    uint64_t lc = glint_encode_print(&w, NULL, 0);
    assert_int_equal(lc, 12);
    assert_int_equal(push_msg(buf, cap, m, lc), 88);
    assert_int_equal(rd64(buf + 80), 64);
    assert_int_equal(glint_stack_used(buf, cap), 88);

    const uint8_t *msg;
    uint64_t len;
    glint_msg_kind kind;
    glint_reader r;
    /* Peek leaves top alone. */
    assert_int_equal(glint_stack_peek(buf, cap, &msg, &len), 0);
    assert_ptr_equal(msg, buf + 64);
    assert_int_equal(len, 16);
    assert_int_equal(rd64(buf), 88);
    assert_int_equal(glint_stack_peek(buf, cap, &msg, &len), 0);
    assert_ptr_equal(msg, buf + 64);

    /* Pop C (the padding is accepted by msg_open). */
    assert_int_equal(glint_stack_pop(buf, cap, &msg, &len), 0);
    assert_ptr_equal(msg, buf + 64);
    assert_int_equal(len, 16);
    assert_int_equal(rd64(buf), 64);
    assert_true(glint_msg_open(msg, len, &kind, &r));
    assert_int_equal(kind, GLINT_MSG_PRINT);
    const uint8_t *pd;
    uint32_t pn;
    assert_true(glint_decode_print(&r, &pd, &pn));
    assert_int_equal(pn, 0);

    /* Pop B. */
    assert_int_equal(glint_stack_pop(buf, cap, &msg, &len), 0);
    assert_ptr_equal(msg, buf + 32);
    assert_int_equal(len, 24);
    assert_int_equal(rd64(buf), 32);
    assert_true(glint_msg_open(msg, len, &kind, &r));
    assert_int_equal(kind, GLINT_MSG_ERROR);
    glint_error_view ev;
    assert_true(glint_decode_error(&r, &ev));
    assert_int_equal(ev.code, 7);
    assert_int_equal(ev.message_len, 4);
    assert_memory_equal(ev.message, "boom", 5);

    /* Push D on top of A, then pop D and A. */
    glint_writer_init(&w, m, sizeof m);
    glint_value vd = glint_u64(UINT64_MAX);
    uint64_t ld = glint_encode_result(&w, &vd);
    assert_int_equal(ld, 17);
    assert_int_equal(push_msg(buf, cap, m, ld), 64);
    assert_int_equal(glint_stack_pop(buf, cap, &msg, &len), 0);
    assert_ptr_equal(msg, buf + 32);
    assert_int_equal(len, 24);
    assert_true(glint_msg_open(msg, len, &kind, &r));
    glint_value out;
    assert_true(glint_decode_result(&r, &out));
    assert_true(out.as.u64 == UINT64_MAX);

    assert_int_equal(glint_stack_pop(buf, cap, &msg, &len), 0);
    assert_ptr_equal(msg, buf + 8);
    assert_int_equal(len, 16);
    assert_int_equal(rd64(buf), 8);
    assert_true(glint_msg_open(msg, len, &kind, &r));
    assert_true(glint_decode_result(&r, &out));
    assert_int_equal(out.as.i32, 42);

    /* Empty: pop and peek fail and leave top alone. */
    assert_int_equal(glint_stack_pop(buf, cap, &msg, &len), -1);
    assert_int_equal(glint_stack_peek(buf, cap, &msg, &len), -1);
    assert_int_equal(rd64(buf), 8);
    guarded_free(&g);
}

static void test_stack_full(void **state) {
    (void)state;
    guarded_buf g;
    assert_int_equal(guarded_alloc(&g, 64), 0);
    uint8_t *buf = g.data;
    uint8_t *slot;
    uint64_t avail;
    assert_int_equal(glint_stack_init(buf, 64), 0);
    assert_int_equal(glint_stack_reserve(buf, 64, &slot, &avail), 0);
    assert_int_equal(avail, 48);
    assert_int_equal(glint_stack_commit(buf, 64, 49), -1); /* one byte too many */
    assert_int_equal(rd64(buf), 8);
    assert_int_equal(glint_stack_commit(buf, 64, UINT64_MAX), -1);
    assert_int_equal(glint_stack_commit(buf, 64, 48), 0); /* exactly fits */
    assert_int_equal(rd64(buf), 64);
    assert_int_equal(rd64(buf + 56), 8);
    assert_int_equal(glint_stack_reserve(buf, 64, &slot, &avail), -1);
    assert_int_equal(glint_stack_commit(buf, 64, 0), -1);
    assert_int_equal(rd64(buf), 64);
    guarded_free(&g);

    /* Capacity that is not a multiple of 8: 63 bytes. */
    assert_int_equal(guarded_alloc(&g, 63), 0);
    buf = g.data;
    assert_int_equal(glint_stack_init(buf, 63), 0);
    assert_int_equal(glint_stack_reserve(buf, 63, &slot, &avail), 0);
    assert_int_equal(avail, 40);
    assert_int_equal(glint_stack_commit(buf, 63, 41), -1); /* pads to 48: 8+48+8 > 63 */
    assert_int_equal(glint_stack_commit(buf, 63, 40), 0);
    assert_int_equal(rd64(buf), 56);
    assert_int_equal(glint_stack_reserve(buf, 63, &slot, &avail), -1);
    guarded_free(&g);

    /* Too small to be a stack, and NULL. */
    uint8_t tiny[16];
    assert_int_equal(glint_stack_init(tiny, 15), -1);
    assert_int_equal(glint_stack_init(NULL, 64), -1);
    assert_int_equal(glint_stack_init(tiny, 16), 0);
    assert_int_equal(glint_stack_reserve(tiny, 16, &slot, &avail), 0);
    assert_int_equal(avail, 0);
    assert_int_equal(glint_stack_commit(tiny, 16, 1), -1);
}

static void test_stack_corrupted_top(void **state) {
    (void)state;
    const uint64_t cap = 256;
    const uint64_t bad[] = {
        0, 1, 4, 7, 12, 13, 20, cap + 8, cap + 16, 1ull << 32, UINT64_MAX - 7, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        guarded_buf g;
        assert_int_equal(guarded_alloc(&g, cap), 0);
        uint8_t *buf = g.data;
        /* Plausible contents below: back-pointers that would be valid. */
        for (uint64_t off = 8; off + 8 <= cap; off += 8) wr64(buf + off, 8);
        wr64(buf, bad[i]);
        const uint8_t *msg = NULL;
        uint64_t len = 12345;
        uint8_t *slot = NULL;
        uint64_t avail = 777;
        assert_int_equal(glint_stack_pop(buf, cap, &msg, &len), -1);
        assert_int_equal(glint_stack_peek(buf, cap, &msg, &len), -1);
        assert_int_equal(glint_stack_reserve(buf, cap, &slot, &avail), -1);
        assert_int_equal(glint_stack_commit(buf, cap, 8), -1);
        assert_int_equal(glint_stack_used(buf, cap), 0);
        assert_null(msg);
        assert_int_equal(len, 12345);
        assert_null(slot);
        assert_int_equal(avail, 777);
        assert_true(rd64(buf) == bad[i]); /* unchanged */
        guarded_free(&g);
    }
    /* top == cap is valid (full stack): pop reads the last 8 bytes only. */
    guarded_buf g;
    assert_int_equal(guarded_alloc(&g, cap), 0);
    wr64(g.data, cap);
    wr64(g.data + cap - 8, 8);
    const uint8_t *msg;
    uint64_t len;
    assert_int_equal(glint_stack_pop(g.data, cap, &msg, &len), 0);
    assert_ptr_equal(msg, g.data + 8);
    assert_int_equal(len, cap - 16);
    assert_int_equal(rd64(g.data), 8);
    guarded_free(&g);
}

static void test_stack_corrupted_back_pointer(void **state) {
    (void)state;
    const uint64_t cap = 128;
    const uint64_t top = 48; /* one 32-byte message at 8, back-pointer at 40 */
    const uint64_t bad[] = {top, top - 4, top + 8,        cap,       0, 4, 7,
                            12,  33,      UINT64_MAX - 7, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        guarded_buf g;
        assert_int_equal(guarded_alloc(&g, cap), 0);
        uint8_t *buf = g.data;
        wr64(buf, top);
        wr64(buf + top - 8, bad[i]);
        const uint8_t *msg = NULL;
        uint64_t len = 99;
        assert_int_equal(glint_stack_peek(buf, cap, &msg, &len), -1);
        assert_int_equal(glint_stack_pop(buf, cap, &msg, &len), -1);
        assert_null(msg);
        assert_int_equal(len, 99);
        assert_int_equal(rd64(buf), top);
        guarded_free(&g);
    }
    /* Valid extremes: back == top - 8 (empty message) and back == 8. */
    guarded_buf g;
    assert_int_equal(guarded_alloc(&g, cap), 0);
    const uint8_t *msg;
    uint64_t len;
    wr64(g.data, top);
    wr64(g.data + top - 8, top - 8);
    assert_int_equal(glint_stack_peek(g.data, cap, &msg, &len), 0);
    assert_ptr_equal(msg, g.data + top - 8);
    assert_int_equal(len, 0);
    wr64(g.data + top - 8, 8);
    assert_int_equal(glint_stack_pop(g.data, cap, &msg, &len), 0);
    assert_ptr_equal(msg, g.data + 8);
    assert_int_equal(len, top - 16);
    assert_int_equal(rd64(g.data), 8);
    guarded_free(&g);
}

/* ---- decoder strictness -------------------------------------------------- */

static void test_truncation_every_length(void **state) {
    (void)state;
    static uint8_t buf[BIG];
    glint_writer w;
    uint64_t len;

    glint_value args[6] = {glint_i32(-7),  glint_str("text"), glint_bytes("\0\1\2", 3),
                           glint_f64(2.5), glint_bool(true),  glint_u64(1)};
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_call(&w, "fn", GLINT_TYPE_BYTES, args, 6);
    assert_true(len > 0);
    assert_all_truncations_rejected(buf, len);

    for (size_t i = 0; i < 6; i++) {
        glint_writer_init(&w, buf, sizeof buf);
        len = glint_encode_result(&w, &args[i]);
        assert_true(len > 0);
        assert_all_truncations_rejected(buf, len);
    }
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_error(&w, 24, "failure", 7);
    assert_all_truncations_rejected(buf, len);
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_log(&w, GLINT_LOG_WARN, 99, "file.c", 6, "msg", 3);
    assert_all_truncations_rejected(buf, len);
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_print(&w, "printed", 7);
    assert_all_truncations_rejected(buf, len);
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_abort(&w, -3, "bye", 3);
    assert_all_truncations_rejected(buf, len);

    glint_writer_init(&w, buf, sizeof buf);
    glint_msg_begin(&w, GLINT_MSG_FUNCTIONS);
    glint_put_u32(&w, 2);
    const glint_type p[2] = {GLINT_TYPE_STRING, GLINT_TYPE_I32};
    assert_true(glint_put_function(&w, "one", GLINT_TYPE_VOID, p, 2));
    assert_true(glint_put_function(&w, "two", GLINT_TYPE_F32, NULL, 0));
    len = glint_msg_end(&w);
    assert_all_truncations_rejected(buf, len);
}

static void test_padding_after_body(void **state) {
    (void)state;
    uint8_t buf[64];
    memset(buf, 0, sizeof buf);
    glint_writer w;
    glint_writer_init(&w, buf, sizeof buf);
    glint_value v = glint_i32(1);
    uint64_t len = glint_encode_result(&w, &v);
    assert_int_equal(len, 13);
    for (uint64_t extra = 0; extra < 8; extra++) assert_true(decode_guarded(buf, len + extra));
    assert_false(decode_guarded(buf, len + 8));
    assert_false(decode_guarded(buf, len + 20));
}

static void test_hostile_lengths(void **state) {
    (void)state;
    const uint32_t lens[] = {UINT32_MAX, UINT32_MAX - 1, 0x80000000u, 0x10000u, 4, 5};
    raw_msg m;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        /* RESULT string whose length exceeds the 3 bytes + NUL present. */
        raw_begin(&m, GLINT_MSG_RESULT);
        raw_u8(&m, GLINT_TYPE_STRING);
        raw_u32(&m, lens[i]);
        raw_mem(&m, "abc", 4);
        raw_end(&m);
        assert_false(decode_guarded(m.b, m.n));
        /* RESULT bytes. */
        raw_begin(&m, GLINT_MSG_RESULT);
        raw_u8(&m, GLINT_TYPE_BYTES);
        raw_u32(&m, lens[i]);
        raw_mem(&m, "abc", 3);
        raw_end(&m);
        assert_false(decode_guarded(m.b, m.n));
        /* CALL name. */
        raw_begin(&m, GLINT_MSG_CALL);
        raw_u32(&m, lens[i]);
        raw_mem(&m, "fn\0", 3);
        raw_u8(&m, 0);
        raw_u8(&m, 0);
        raw_end(&m);
        assert_false(decode_guarded(m.b, m.n));
        /* PRINT length. */
        raw_begin(&m, GLINT_MSG_PRINT);
        raw_u32(&m, lens[i]);
        raw_mem(&m, "abc", 3);
        raw_end(&m);
        assert_false(decode_guarded(m.b, m.n));
        /* LOG file name. */
        raw_begin(&m, GLINT_MSG_LOG);
        raw_u32(&m, 1);
        raw_u32(&m, 2);
        raw_u32(&m, lens[i]);
        raw_mem(&m, "f\0", 2);
        raw_str(&m, "m");
        raw_end(&m);
        assert_false(decode_guarded(m.b, m.n));
    }
    /* Controls: the same shapes with correct lengths decode. */
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_STRING);
    raw_u32(&m, 3);
    raw_mem(&m, "abc", 4);
    raw_end(&m);
    assert_true(decode_guarded(m.b, m.n));
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_BYTES);
    raw_u32(&m, 3);
    raw_mem(&m, "abc", 3);
    raw_end(&m);
    assert_true(decode_guarded(m.b, m.n));
    raw_begin(&m, GLINT_MSG_PRINT);
    raw_u32(&m, 3);
    raw_mem(&m, "abc", 3);
    raw_end(&m);
    assert_true(decode_guarded(m.b, m.n));
    /* PRINT with a length shorter than the data: trailing bytes. */
    raw_begin(&m, GLINT_MSG_PRINT);
    raw_u32(&m, 2);
    raw_mem(&m, "abc", 3);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    /* Header body length near 2^32. */
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_BOOL);
    raw_u8(&m, 1);
    raw_end(&m);
    uint32_t huge = UINT32_MAX;
    memcpy(m.b + 4, &huge, 4);
    assert_false(decode_guarded(m.b, m.n));
}

static void test_strings_nul_rules(void **state) {
    (void)state;
    raw_msg m;
    /* Missing terminator: the string runs to the end of the body. */
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_STRING);
    raw_u32(&m, 3);
    raw_mem(&m, "abc", 3);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    /* Terminator replaced by another byte. */
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_STRING);
    raw_u32(&m, 3);
    raw_mem(&m, "abcx", 4);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    /* Embedded NUL. */
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_STRING);
    raw_u32(&m, 3);
    raw_mem(&m, "a\0c\0", 4);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    /* Embedded NUL in a CALL name and in an ERROR message. */
    raw_begin(&m, GLINT_MSG_CALL);
    raw_u32(&m, 2);
    raw_mem(&m, "\0f\0", 3);
    raw_u8(&m, 0);
    raw_u8(&m, 0);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    raw_begin(&m, GLINT_MSG_ERROR);
    raw_u32(&m, 1);
    raw_u32(&m, 2);
    raw_mem(&m, "x\0\0", 3);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    /* Empty string with its NUL: valid. */
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_STRING);
    raw_u32(&m, 0);
    raw_u8(&m, 0);
    raw_end(&m);
    assert_true(decode_guarded(m.b, m.n));
    /* Empty string without its NUL. */
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_STRING);
    raw_u32(&m, 0);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
}

static void test_bool_and_type_values(void **state) {
    (void)state;
    raw_msg m;
    for (unsigned b = 0; b < 256; b++) {
        raw_begin(&m, GLINT_MSG_RESULT);
        raw_u8(&m, GLINT_TYPE_BOOL);
        raw_u8(&m, (uint8_t)b);
        raw_end(&m);
        glint_msg_kind kind;
        glint_reader r;
        glint_value v;
        assert_true(glint_msg_open(m.b, m.n, &kind, &r));
        bool ok = glint_decode_result(&r, &v);
        assert_int_equal(ok, b <= 1);
        if (ok) assert_int_equal(v.as.b, b == 1);
    }
    /* Unknown value types in RESULT and as CALL arguments. */
    const uint8_t bad_types[] = {10, 11, 127, 128, 255};
    for (size_t i = 0; i < sizeof bad_types; i++) {
        raw_begin(&m, GLINT_MSG_RESULT);
        raw_u8(&m, bad_types[i]);
        raw_u32(&m, 0);
        raw_end(&m);
        assert_false(decode_guarded(m.b, m.n));
        raw_begin(&m, GLINT_MSG_CALL);
        raw_str(&m, "f");
        raw_u8(&m, GLINT_TYPE_VOID);
        raw_u8(&m, 1);
        raw_u8(&m, bad_types[i]);
        raw_u32(&m, 0);
        raw_end(&m);
        assert_false(decode_guarded(m.b, m.n));
        /* Unknown return type in a CALL. */
        raw_begin(&m, GLINT_MSG_CALL);
        raw_str(&m, "f");
        raw_u8(&m, bad_types[i]);
        raw_u8(&m, 0);
        raw_end(&m);
        assert_false(decode_guarded(m.b, m.n));
    }
    /* Control: type 9 (bytes) with an empty payload is fine. */
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_BYTES);
    raw_u32(&m, 0);
    raw_end(&m);
    assert_true(decode_guarded(m.b, m.n));
}

static void test_header_checks(void **state) {
    (void)state;
    uint8_t buf[64];
    glint_writer w;
    glint_writer_init(&w, buf, sizeof buf);
    glint_value v = glint_u32(5);
    uint64_t len = glint_encode_result(&w, &v);
    assert_true(decode_guarded(buf, len));
    uint8_t m[64];
    glint_msg_kind kind;
    glint_reader r;

    /* Unknown message kinds. */
    const uint8_t kinds[] = {0, 8, 9, 0x81, 255};
    for (size_t i = 0; i < sizeof kinds; i++) {
        memcpy(m, buf, len);
        m[0] = kinds[i];
        assert_false(glint_msg_open(m, len, &kind, &r));
    }
    /* Wire versions other than the current one. */
    const uint8_t versions[] = {0, GLINT_WIRE_VERSION + 1, 255};
    for (size_t i = 0; i < sizeof versions; i++) {
        memcpy(m, buf, len);
        m[1] = versions[i];
        assert_false(glint_msg_open(m, len, &kind, &r));
    }
    /* Reserved bytes. */
    for (int at = 2; at <= 3; at++) {
        for (int val = 1; val < 256; val *= 2) {
            memcpy(m, buf, len);
            m[at] = (uint8_t)val;
            assert_false(glint_msg_open(m, len, &kind, &r));
        }
    }
    /* Each valid kind opens (body decoding aside). */
    for (uint8_t k = GLINT_MSG_CALL; k <= GLINT_MSG_FUNCTIONS; k++) {
        memcpy(m, buf, len);
        m[0] = k;
        assert_true(glint_msg_open(m, len, &kind, &r));
        assert_int_equal(kind, k);
        assert_int_equal(r.len, len - 8);
        assert_ptr_equal(r.buf, m + 8);
    }
    /* NULL and short messages. */
    assert_false(glint_msg_open(NULL, 8, &kind, &r));
    assert_false(glint_msg_open(buf, 7, &kind, &r));
}

static void test_trailing_bytes(void **state) {
    (void)state;
    raw_msg m;
    /* Extra bytes inside the declared body, for each kind. */
    raw_begin(&m, GLINT_MSG_RESULT);
    raw_u8(&m, GLINT_TYPE_I32);
    raw_u32(&m, 1);
    raw_u8(&m, 0);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    raw_begin(&m, GLINT_MSG_CALL);
    raw_str(&m, "f");
    raw_u8(&m, GLINT_TYPE_VOID);
    raw_u8(&m, 1);
    raw_u8(&m, GLINT_TYPE_BOOL);
    raw_u8(&m, 0);
    raw_u8(&m, 0); /* trailing */
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    m.n--;
    raw_end(&m);
    assert_true(decode_guarded(m.b, m.n)); /* control */
    raw_begin(&m, GLINT_MSG_ERROR);
    raw_u32(&m, 1);
    raw_str(&m, "e");
    raw_u8(&m, 0);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    raw_begin(&m, GLINT_MSG_LOG);
    raw_u32(&m, 1);
    raw_u32(&m, 2);
    raw_str(&m, "f");
    raw_str(&m, "m");
    raw_u8(&m, 0);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    raw_begin(&m, GLINT_MSG_ABORT);
    raw_u32(&m, 1);
    raw_str(&m, "m");
    raw_u8(&m, 0);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    raw_begin(&m, GLINT_MSG_FUNCTIONS);
    raw_u32(&m, 0);
    raw_u8(&m, 0);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
}

static void raw_call_with_name(raw_msg *m, uint32_t name_len) {
    char name[GLINT_MAX_NAME_LEN + 2];
    assert_true(name_len < sizeof name);
    memset(name, 'n', name_len);
    name[name_len] = '\0';
    raw_begin(m, GLINT_MSG_CALL);
    raw_str(m, name);
    raw_u8(m, GLINT_TYPE_VOID);
    raw_u8(m, 0);
    raw_end(m);
}

static void test_call_limits_decode(void **state) {
    (void)state;
    raw_msg m;
    /* argc up to GLINT_MAX_ARGS, not beyond. */
    for (uint32_t argc = GLINT_MAX_ARGS - 1; argc <= GLINT_MAX_ARGS + 2; argc++) {
        raw_begin(&m, GLINT_MSG_CALL);
        raw_str(&m, "f");
        raw_u8(&m, GLINT_TYPE_I32);
        raw_u8(&m, (uint8_t)argc);
        for (uint32_t i = 0; i < argc; i++) {
            raw_u8(&m, GLINT_TYPE_I32);
            raw_u32(&m, i);
        }
        raw_end(&m);
        assert_int_equal(decode_guarded(m.b, m.n), argc <= GLINT_MAX_ARGS);
    }
    raw_begin(&m, GLINT_MSG_CALL);
    raw_str(&m, "f");
    raw_u8(&m, GLINT_TYPE_I32);
    raw_u8(&m, 255);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    /* Name length limits. */
    raw_call_with_name(&m, GLINT_MAX_NAME_LEN);
    assert_true(decode_guarded(m.b, m.n));
    raw_call_with_name(&m, GLINT_MAX_NAME_LEN + 1);
    assert_false(decode_guarded(m.b, m.n));
    raw_call_with_name(&m, 0);
    assert_false(decode_guarded(m.b, m.n));
    raw_call_with_name(&m, 1);
    assert_true(decode_guarded(m.b, m.n));
    /* VOID is not a parameter type. */
    raw_begin(&m, GLINT_MSG_CALL);
    raw_str(&m, "f");
    raw_u8(&m, GLINT_TYPE_VOID);
    raw_u8(&m, 2);
    raw_u8(&m, GLINT_TYPE_BOOL);
    raw_u8(&m, 1);
    raw_u8(&m, GLINT_TYPE_VOID);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    /* Fewer values than argc. */
    raw_begin(&m, GLINT_MSG_CALL);
    raw_str(&m, "f");
    raw_u8(&m, GLINT_TYPE_VOID);
    raw_u8(&m, 2);
    raw_u8(&m, GLINT_TYPE_BOOL);
    raw_u8(&m, 1);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
}

/* ABI 2 carries 32 arguments (16 before): every type in one CALL of exactly
 * GLINT_MAX_ARGS values, decoded on a guarded buffer; one more is refused by
 * the encoder, the decoder and the FUNCTIONS entry codec alike. */
static void test_call_max_args_mixed(void **state) {
    (void)state;
    assert_int_equal(GLINT_MAX_ARGS, 32);
    static uint8_t buf[BIG];
    static char text[GLINT_MAX_ARGS][16];
    glint_value args[GLINT_MAX_ARGS + 1];
    glint_type types[GLINT_MAX_ARGS + 1];
    for (uint32_t i = 0; i <= GLINT_MAX_ARGS; i++) {
        switch (i % 9) {
        case 0: args[i] = glint_i32(-(int32_t)i); break;
        case 1: args[i] = glint_u32(i * 1000u); break;
        case 2: args[i] = glint_i64(-(int64_t)((uint64_t)i << 40)); break;
        case 3: args[i] = glint_u64((uint64_t)i << 50); break;
        case 4: args[i] = glint_f32((float)i / 4.0f); break;
        case 5: args[i] = glint_f64((double)i / 8.0); break;
        case 6: args[i] = glint_bool(i & 1u); break;
        case 7:
            snprintf(text[i % GLINT_MAX_ARGS], sizeof text[0], "arg %u", i);
            args[i] = glint_str(text[i % GLINT_MAX_ARGS]);
            break;
        default: args[i] = glint_bytes(text, i); break;
        }
        types[i] = args[i].type;
    }
    glint_writer w;
    glint_writer_init(&w, buf, sizeof buf);
    uint64_t want = 8 + 4 + 1 + 1 + 2;
    for (uint32_t i = 0; i < GLINT_MAX_ARGS; i++) want += value_wire_size(&args[i]);
    uint64_t len = glint_encode_call(&w, "f", GLINT_TYPE_U64, args, GLINT_MAX_ARGS);
    assert_int_equal(len, want);
    assert_true(decode_guarded(buf, len));
    glint_msg_kind kind;
    glint_reader r;
    assert_true(glint_msg_open(buf, len, &kind, &r));
    glint_call_view cv;
    assert_true(glint_decode_call(&r, &cv));
    assert_int_equal(cv.argc, GLINT_MAX_ARGS);
    for (uint32_t i = 0; i < GLINT_MAX_ARGS; i++) assert_value_equal(&args[i], &cv.args[i]);
    /* 33: the encoder refuses; patching argc to 33 after a 33rd value makes
     * the decoder refuse. */
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, "f", GLINT_TYPE_U64, args, GLINT_MAX_ARGS + 1), 0);
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_call(&w, "f", GLINT_TYPE_U64, args, GLINT_MAX_ARGS);
    uint8_t extra[8] = {GLINT_TYPE_BOOL, 1};
    memcpy(buf + len, extra, 2);
    uint32_t body = (uint32_t)(len - 8 + 2);
    memcpy(buf + 4, &body, 4);
    buf[8 + 4 + 1 + 1 + 1] = GLINT_MAX_ARGS + 1; /* argc after "f\0" and ret */
    assert_false(decode_guarded(buf, len + 2));
    buf[8 + 4 + 1 + 1 + 1] = GLINT_MAX_ARGS; /* one value too many: trailing bytes */
    assert_false(decode_guarded(buf, len + 2));
    /* FUNCTIONS entries: 32 parameters round trip, 33 are refused. */
    glint_writer_init(&w, buf, sizeof buf);
    glint_msg_begin(&w, GLINT_MSG_FUNCTIONS);
    glint_put_u32(&w, 1);
    assert_true(glint_put_function(&w, "g", GLINT_TYPE_VOID, types, GLINT_MAX_ARGS));
    len = glint_msg_end(&w);
    assert_true(glint_msg_open(buf, len, &kind, &r));
    uint32_t count;
    glint_function_view fv;
    assert_true(glint_decode_functions_count(&r, &count));
    assert_true(glint_decode_function_next(&r, &fv));
    assert_int_equal(fv.argc, GLINT_MAX_ARGS);
    for (uint32_t i = 0; i < GLINT_MAX_ARGS; i++) assert_int_equal(fv.params[i], types[i]);
    assert_true(glint_reader_done(&r));
    glint_writer_init(&w, buf, sizeof buf);
    assert_false(glint_put_function(&w, "g", GLINT_TYPE_VOID, types, GLINT_MAX_ARGS + 1));
}

/* Hyperlight's serialisation benchmark call: 11 arguments, four of them 10
 * MiB (two bytes, two strings).  Tens of MiB in one message: lengths are
 * u32, the buffer's offsets u64. */
static void test_call_large_arguments(void **state) {
    (void)state;
    const uint32_t big = 10u * 1024u * 1024u;
    uint8_t *ones = malloc(big);
    char *twos = malloc((size_t)big + 1u);
    assert_non_null(ones);
    assert_non_null(twos);
    memset(ones, 1, big);
    memset(twos, 2, big);
    twos[big] = '\0';
    const glint_value args[11] = {
        glint_bytes(ones, big), glint_str(twos),        glint_i32(42),         glint_u32(100),
        glint_i64(1000),        glint_u64(2000),        glint_f32(521521.53f), glint_f64(432.53),
        glint_bool(true),       glint_bytes(ones, big), glint_str(twos),
    };
    uint64_t want = 8 + 4 + 12 + 1 + 2;
    for (int i = 0; i < 11; i++) want += value_wire_size(&args[i]);
    guarded_buf g;
    assert_int_equal(guarded_alloc(&g, want), 0);
    glint_writer w;
    glint_writer_init(&w, g.data, want);
    assert_int_equal(glint_encode_call(&w, "TestFunction", GLINT_TYPE_I32, args, 11), want);
    glint_msg_kind kind;
    glint_reader r;
    assert_true(glint_msg_open(g.data, want, &kind, &r));
    glint_call_view cv;
    assert_true(glint_decode_call(&r, &cv));
    assert_int_equal(cv.argc, 11);
    for (int i = 0; i < 11; i++) assert_value_equal(&args[i], &cv.args[i]);
    /* One byte short: the encoder reports overflow instead of writing past. */
    glint_writer_init(&w, g.data + 1, want - 1);
    assert_int_equal(glint_encode_call(&w, "TestFunction", GLINT_TYPE_I32, args, 11), 0);
    guarded_free(&g);
    free(ones);
    free(twos);
}

static void test_call_limits_encode(void **state) {
    (void)state;
    static uint8_t buf[BIG];
    glint_writer w;
    char name[GLINT_MAX_NAME_LEN + 2];
    memset(name, 'q', sizeof name);
    name[GLINT_MAX_NAME_LEN] = '\0';
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, name, GLINT_TYPE_VOID, NULL, 0),
                     8 + 4 + GLINT_MAX_NAME_LEN + 1 + 2);
    name[GLINT_MAX_NAME_LEN] = 'q';
    name[GLINT_MAX_NAME_LEN + 1] = '\0';
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, name, GLINT_TYPE_VOID, NULL, 0), 0);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, "", GLINT_TYPE_VOID, NULL, 0), 0);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, NULL, GLINT_TYPE_VOID, NULL, 0), 0);

    glint_value args[GLINT_MAX_ARGS + 1];
    for (uint32_t i = 0; i <= GLINT_MAX_ARGS; i++) args[i] = glint_i32((int32_t)i);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, "f", GLINT_TYPE_VOID, args, GLINT_MAX_ARGS),
                     8 + 6 + 2 + 5 * GLINT_MAX_ARGS);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, "f", GLINT_TYPE_VOID, args, GLINT_MAX_ARGS + 1), 0);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, "f", GLINT_TYPE_VOID, NULL, 1), 0);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, "f", (glint_type)GLINT_TYPE_COUNT, NULL, 0), 0);

    /* VOID and invalid argument types. */
    args[1] = glint_void();
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, "f", GLINT_TYPE_VOID, args, 2), 0);
    args[1].type = (glint_type)10;
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, "f", GLINT_TYPE_VOID, args, 2), 0);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_result(&w, &args[1]), 0);
    assert_true(w.overflow);
}

static void test_encoder_rejects_nul_strings(void **state) {
    (void)state;
    uint8_t buf[256];
    glint_writer w;
    glint_value v = glint_str("x");
    v.as.str.ptr = "a\0b";
    v.as.str.len = 3;
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_result(&w, &v), 0);
    assert_true(w.overflow);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_call(&w, "f", GLINT_TYPE_VOID, &v, 1), 0);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_error(&w, 1, "e\0rr", 4), 0);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_log(&w, 1, 1, "fi\0le", 5, "m", 1), 0);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_log(&w, 1, 1, "file", 4, "\0", 1), 0);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_abort(&w, 1, "ab\0", 3), 0);
    /* NULL with a nonzero length. */
    glint_writer_init(&w, buf, sizeof buf);
    assert_false(glint_put_string(&w, NULL, 3));
    assert_true(w.overflow);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_print(&w, NULL, 3), 0);
    glint_value b = glint_bytes(NULL, 2);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_result(&w, &b), 0);
    /* Controls: the valid prefix is accepted, NULL with length 0 too. */
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_error(&w, 1, "e\0rr", 1), 8 + 4 + 4 + 1 + 1);
    glint_writer_init(&w, buf, sizeof buf);
    assert_int_equal(glint_encode_error(&w, 1, NULL, 0), 8 + 4 + 4 + 1);
    /* After an overflow every later put is a no-op. */
    glint_writer_init(&w, buf, sizeof buf);
    assert_false(glint_put_string(&w, "a\0", 2));
    uint64_t pos = w.pos;
    glint_put_u64(&w, 1);
    glint_put_raw(&w, "abc", 3);
    assert_int_equal(w.pos, pos);
    assert_int_equal(glint_msg_end(&w), 0);
}

/* Encodes one message into a guarded buffer of exactly cap bytes. */
typedef uint64_t (*encode_fn)(glint_writer *w);

static uint64_t enc_call(glint_writer *w) {
    glint_value a[3] = {glint_str("arg"), glint_i64(-1), glint_bytes("\0\0", 2)};
    return glint_encode_call(w, "call_me", GLINT_TYPE_STRING, a, 3);
}
static uint64_t enc_result(glint_writer *w) {
    glint_value v = glint_str("a result string");
    return glint_encode_result(w, &v);
}
static uint64_t enc_result_f64(glint_writer *w) {
    glint_value v = glint_f64(1.0);
    return glint_encode_result(w, &v);
}
static uint64_t enc_error(glint_writer *w) { return glint_encode_error(w, 3, "msg", 3); }
static uint64_t enc_log(glint_writer *w) {
    return glint_encode_log(w, GLINT_LOG_INFO, 12, "src/x.c", 7, "logged", 6);
}
static uint64_t enc_print(glint_writer *w) { return glint_encode_print(w, "0123456789", 10); }
static uint64_t enc_abort(glint_writer *w) { return glint_encode_abort(w, INT32_MIN, "panic", 5); }
static uint64_t enc_functions(glint_writer *w) {
    const glint_type p[1] = {GLINT_TYPE_BYTES};
    glint_msg_begin(w, GLINT_MSG_FUNCTIONS);
    glint_put_u32(w, 1);
    if (!glint_put_function(w, "fun", GLINT_TYPE_BOOL, p, 1)) return 0;
    return glint_msg_end(w);
}

static void test_encoder_overflow_boundary(void **state) {
    (void)state;
    const encode_fn fns[] = {enc_call, enc_result, enc_result_f64, enc_error,
                             enc_log,  enc_print,  enc_abort,      enc_functions};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        uint8_t ref[512];
        glint_writer w;
        glint_writer_init(&w, ref, sizeof ref);
        uint64_t len = fns[i](&w);
        assert_true(len > GLINT_MSG_HEADER_SIZE);
        assert_true(decode_any(ref, len));

        /* Exactly fits. */
        guarded_buf g;
        assert_int_equal(guarded_alloc(&g, len), 0);
        glint_writer_init(&w, g.data, len);
        assert_int_equal(fns[i](&w), len);
        assert_false(w.overflow);
        assert_memory_equal(g.data, ref, len);
        guarded_free(&g);

        /* Every smaller capacity (one byte short first) overflows without
         * writing past the end (the guard page would fault). */
        for (uint64_t cap = len; cap-- > 0;) {
            assert_int_equal(guarded_alloc(&g, cap), 0);
            glint_writer_init(&w, g.data, cap);
            if (fns[i](&w) != 0)
                fail_msg("encoder %zu: capacity %llu of %llu accepted", i, (unsigned long long)cap,
                         (unsigned long long)len);
            assert_true(w.overflow);
            assert_true(w.pos <= cap);
            guarded_free(&g);
        }
    }
    /* A NULL buffer has capacity 0. */
    glint_writer w;
    glint_writer_init(&w, NULL, 100);
    assert_int_equal(w.cap, 0);
    assert_int_equal(enc_error(&w), 0);
}

/* ---- other kinds --------------------------------------------------------- */

static void open_kind(const uint8_t *buf, uint64_t len, glint_msg_kind want, glint_reader *r) {
    glint_msg_kind kind;
    assert_true(glint_msg_open(buf, len, &kind, r));
    assert_int_equal(kind, want);
}

static void test_other_kinds_roundtrip(void **state) {
    (void)state;
    static uint8_t buf[BIG];
    glint_writer w;
    glint_reader r;
    uint64_t len;

    /* ERROR */
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_error(&w, UINT32_MAX, "went wrong", 10);
    assert_int_equal(len, 8 + 4 + 4 + 10 + 1);
    open_kind(buf, len, GLINT_MSG_ERROR, &r);
    glint_error_view ev;
    assert_true(glint_decode_error(&r, &ev));
    assert_int_equal(ev.code, UINT32_MAX);
    assert_int_equal(ev.message_len, 10);
    assert_string_equal(ev.message, "went wrong");
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_error(&w, 0, "", 0);
    open_kind(buf, len, GLINT_MSG_ERROR, &r);
    assert_true(glint_decode_error(&r, &ev));
    assert_int_equal(ev.message_len, 0);
    assert_string_equal(ev.message, "");

    /* LOG */
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_log(&w, GLINT_LOG_ERROR, 4242, "guest/src/log.c", 15, "a message", 9);
    assert_int_equal(len, 8 + 4 + 4 + (4 + 15 + 1) + (4 + 9 + 1));
    open_kind(buf, len, GLINT_MSG_LOG, &r);
    glint_log_view lv;
    assert_true(glint_decode_log(&r, &lv));
    assert_int_equal(lv.level, GLINT_LOG_ERROR);
    assert_int_equal(lv.line, 4242);
    assert_int_equal(lv.file_len, 15);
    assert_string_equal(lv.file, "guest/src/log.c");
    assert_int_equal(lv.message_len, 9);
    assert_string_equal(lv.message, "a message");

    /* PRINT, with NUL bytes and empty. */
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_print(&w, "a\0b\n", 4);
    assert_int_equal(len, 8 + 4 + 4);
    open_kind(buf, len, GLINT_MSG_PRINT, &r);
    const uint8_t *pd;
    uint32_t pn;
    assert_true(glint_decode_print(&r, &pd, &pn));
    assert_int_equal(pn, 4);
    assert_memory_equal(pd, "a\0b\n", 4);
    assert_true(glint_reader_done(&r));
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_print(&w, NULL, 0);
    open_kind(buf, len, GLINT_MSG_PRINT, &r);
    assert_true(glint_decode_print(&r, &pd, &pn));
    assert_int_equal(pn, 0);

    /* ABORT, negative code. */
    glint_writer_init(&w, buf, sizeof buf);
    len = glint_encode_abort(&w, -42, "fatal", 5);
    assert_int_equal(len, 8 + 4 + 4 + 5 + 1);
    open_kind(buf, len, GLINT_MSG_ABORT, &r);
    int32_t code;
    const char *am;
    uint32_t an;
    assert_true(glint_decode_abort(&r, &code, &am, &an));
    assert_int_equal(code, -42);
    assert_int_equal(an, 5);
    assert_string_equal(am, "fatal");
}

static void test_functions_roundtrip(void **state) {
    (void)state;
    static uint8_t buf[BIG];
    glint_writer w;
    glint_reader r;
    uint32_t count;

    /* No functions. */
    glint_writer_init(&w, buf, sizeof buf);
    glint_msg_begin(&w, GLINT_MSG_FUNCTIONS);
    glint_put_u32(&w, 0);
    uint64_t len = glint_msg_end(&w);
    assert_int_equal(len, 12);
    open_kind(buf, len, GLINT_MSG_FUNCTIONS, &r);
    assert_true(glint_decode_functions_count(&r, &count));
    assert_int_equal(count, 0);
    assert_true(glint_reader_done(&r));

    /* GLINT_MAX_FUNCTIONS entries with varied signatures. */
    glint_writer_init(&w, buf, sizeof buf);
    glint_msg_begin(&w, GLINT_MSG_FUNCTIONS);
    glint_put_u32(&w, GLINT_MAX_FUNCTIONS);
    for (uint32_t i = 0; i < GLINT_MAX_FUNCTIONS; i++) {
        char name[32];
        snprintf(name, sizeof name, "fn_%u", i);
        glint_type params[GLINT_MAX_ARGS];
        uint32_t argc = i % (GLINT_MAX_ARGS + 1);
        for (uint32_t j = 0; j < argc; j++) params[j] = (glint_type)(1 + (i + j) % 9);
        assert_true(glint_put_function(&w, name, (glint_type)(i % GLINT_TYPE_COUNT), params, argc));
    }
    len = glint_msg_end(&w);
    assert_true(len > 0);
    open_kind(buf, len, GLINT_MSG_FUNCTIONS, &r);
    assert_true(glint_decode_functions_count(&r, &count));
    assert_int_equal(count, GLINT_MAX_FUNCTIONS);
    for (uint32_t i = 0; i < count; i++) {
        char name[32];
        snprintf(name, sizeof name, "fn_%u", i);
        glint_function_view f;
        assert_true(glint_decode_function_next(&r, &f));
        assert_int_equal(f.name_len, strlen(name));
        assert_string_equal(f.name, name);
        assert_int_equal(f.ret, i % GLINT_TYPE_COUNT);
        assert_int_equal(f.argc, i % (GLINT_MAX_ARGS + 1));
        for (uint32_t j = 0; j < f.argc; j++) assert_int_equal(f.params[j], 1 + (i + j) % 9);
    }
    assert_true(glint_reader_done(&r));
    assert_true(decode_guarded(buf, len));

    /* count > GLINT_MAX_FUNCTIONS is rejected even before the entries. */
    uint32_t too_many = GLINT_MAX_FUNCTIONS + 1;
    memcpy(buf + 8, &too_many, 4);
    open_kind(buf, len, GLINT_MSG_FUNCTIONS, &r);
    assert_false(glint_decode_functions_count(&r, &count));
    too_many = UINT32_MAX;
    memcpy(buf + 8, &too_many, 4);
    assert_false(decode_guarded(buf, len));
    /* count smaller than the entries present: trailing bytes. */
    uint32_t fewer = GLINT_MAX_FUNCTIONS - 1;
    memcpy(buf + 8, &fewer, 4);
    assert_false(decode_guarded(buf, len));

    /* Malformed entries. */
    raw_msg m;
    const uint8_t bad_entry_types[][3] = {
        {GLINT_TYPE_VOID, 1, GLINT_TYPE_VOID}, /* VOID parameter */
        {GLINT_TYPE_VOID, 1, 10},              /* unknown parameter type */
        {10, 0, 0},                            /* unknown return type */
        {GLINT_TYPE_VOID, GLINT_MAX_ARGS + 1, 1},
    };
    for (size_t i = 0; i < sizeof bad_entry_types / sizeof bad_entry_types[0]; i++) {
        raw_begin(&m, GLINT_MSG_FUNCTIONS);
        raw_u32(&m, 1);
        raw_str(&m, "f");
        raw_u8(&m, bad_entry_types[i][0]);
        raw_u8(&m, bad_entry_types[i][1]);
        for (uint32_t j = 0; j < bad_entry_types[i][1]; j++) raw_u8(&m, bad_entry_types[i][2]);
        raw_end(&m);
        assert_false(decode_guarded(m.b, m.n));
    }
    raw_begin(&m, GLINT_MSG_FUNCTIONS);
    raw_u32(&m, 1);
    raw_str(&m, "");
    raw_u8(&m, 0);
    raw_u8(&m, 0);
    raw_end(&m);
    assert_false(decode_guarded(m.b, m.n));
    raw_begin(&m, GLINT_MSG_FUNCTIONS); /* control */
    raw_u32(&m, 1);
    raw_str(&m, "f");
    raw_u8(&m, 0);
    raw_u8(&m, 1);
    raw_u8(&m, GLINT_TYPE_BYTES);
    raw_end(&m);
    assert_true(decode_guarded(m.b, m.n));

    /* The entry encoder refuses what the decoder would. */
    const glint_type pv[2] = {GLINT_TYPE_I32, GLINT_TYPE_VOID};
    char longname[GLINT_MAX_NAME_LEN + 2];
    memset(longname, 'l', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    glint_type many[GLINT_MAX_ARGS + 1];
    for (uint32_t i = 0; i <= GLINT_MAX_ARGS; i++) many[i] = GLINT_TYPE_U32;
    glint_writer_init(&w, buf, sizeof buf);
    assert_false(glint_put_function(&w, "f", GLINT_TYPE_VOID, pv, 2));
    glint_writer_init(&w, buf, sizeof buf);
    assert_false(glint_put_function(&w, longname, GLINT_TYPE_VOID, NULL, 0));
    glint_writer_init(&w, buf, sizeof buf);
    assert_false(glint_put_function(&w, "", GLINT_TYPE_VOID, NULL, 0));
    glint_writer_init(&w, buf, sizeof buf);
    assert_false(glint_put_function(&w, "f", (glint_type)10, NULL, 0));
    glint_writer_init(&w, buf, sizeof buf);
    assert_false(glint_put_function(&w, "f", GLINT_TYPE_VOID, many, GLINT_MAX_ARGS + 1));
    glint_writer_init(&w, buf, sizeof buf);
    assert_true(glint_put_function(&w, "f", GLINT_TYPE_VOID, many, GLINT_MAX_ARGS));
}

/* Random mutations of valid messages: decoding never reads outside the
 * (guarded) message and never crashes; the result is just true/false. */
static void test_decoder_mutation_fuzz(void **state) {
    (void)state;
    const encode_fn fns[] = {enc_call, enc_result, enc_result_f64, enc_error,
                             enc_log,  enc_print,  enc_abort,      enc_functions};
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    unsigned accepted = 0, rejected = 0;
    for (unsigned iter = 0; iter < 20000; iter++) {
        uint8_t m[512];
        glint_writer w;
        glint_writer_init(&w, m, sizeof m);
        uint64_t len = fns[iter % (sizeof fns / sizeof fns[0])](&w);
        assert_true(len > 0);
        unsigned flips = 1 + (unsigned)(unit_rand(&seed) % 4);
        for (unsigned f = 0; f < flips; f++) {
            uint64_t at = unit_rand(&seed) % len;
            if (unit_rand(&seed) & 1)
                m[at] ^= (uint8_t)(1u << (unit_rand(&seed) % 8));
            else
                m[at] = (uint8_t)unit_rand(&seed);
        }
        uint64_t n = len;
        if (unit_rand(&seed) % 8 == 0) n = unit_rand(&seed) % (len + 1);
        if (decode_guarded(m, n))
            accepted++;
        else
            rejected++;
    }
    assert_true(accepted > 0);
    assert_true(rejected > 0);
}

/* ---- names ---------------------------------------------------------------- */

static void test_type_names(void **state) {
    (void)state;
    static const char *const names[GLINT_TYPE_COUNT] = {"void", "i32", "u32",  "i64",    "u64",
                                                        "f32",  "f64", "bool", "string", "bytes"};
    for (int t = 0; t < (int)GLINT_TYPE_COUNT; t++) {
        assert_string_equal(glint_type_name(t), names[t]);
        assert_int_equal(glint_type_parse(names[t]), t);
        assert_true(glint_type_valid_return(t));
        assert_int_equal(glint_type_valid_param(t), t != GLINT_TYPE_VOID);
    }
    assert_int_equal(GLINT_TYPE_BYTES + 1, GLINT_TYPE_COUNT);
    const int bad[] = {-1, -100, (int)GLINT_TYPE_COUNT, 11, 255, 256, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_string_equal(glint_type_name(bad[i]), "invalid");
        assert_false(glint_type_valid_param(bad[i]));
        assert_false(glint_type_valid_return(bad[i]));
    }
    const char *bad_names[] = {"",     "invalid", "I32",   "i3",      "i322",    "int",
                               " i32", "i32 ",    "strin", "strings", "bytes\n", "voidx"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        assert_int_equal(glint_type_parse(bad_names[i]), -1);
    assert_int_equal(glint_type_parse(NULL), -1);
}

static void test_status_names(void **state) {
    (void)state;
    assert_string_equal(glint_status_name(GLINT_OK), "GLINT_OK");
    assert_string_equal(glint_status_describe(GLINT_OK), "success");
    assert_string_equal(glint_status_name(GLINT_E_ELF), "GLINT_E_ELF");
    assert_string_equal(glint_status_describe(GLINT_E_ELF),
                        "malformed or unsupported guest binary");
    assert_string_equal(glint_status_name(GLINT_E_TOO_SMALL), "GLINT_E_TOO_SMALL");
    assert_string_equal(glint_status_name(GLINT_E_GUEST_FAULT), "GLINT_E_GUEST_FAULT");
    assert_string_equal(glint_status_name(GLINT_E_MAPPING), "GLINT_E_MAPPING");
    assert_string_equal(glint_status_describe(GLINT_E_MAPPING), "file mapping rejected");
    const int unknown[] = {-1, 13, 19, 29, 39, 50, 59, 63, 1000, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_string_equal(glint_status_name(unknown[i]), "GLINT_E_UNKNOWN");
        assert_string_equal(glint_status_describe(unknown[i]), "unknown status");
    }
    /* Every code in glint/status.h has a distinct name starting GLINT_ and a
     * description; nothing else has one. */
    static const int known[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                12, 20, 21, 22, 23, 24, 25, 26, 27, 28, 40, 41,
                                42, 43, 44, 45, 46, 47, 48, 49, 60, 61, 62};
    const size_t nk = sizeof known / sizeof known[0];
    size_t k = 0;
    for (int code = -10; code < 300; code++) {
        const char *name = glint_status_name(code);
        bool is_known = k < nk && known[k] == code;
        if (is_known) {
            k++;
            assert_int_equal(strncmp(name, "GLINT_", 6), 0);
            assert_string_not_equal(name, "GLINT_E_UNKNOWN");
            assert_string_not_equal(glint_status_describe(code), "unknown status");
            for (size_t j = 0; j + 1 < k; j++)
                assert_string_not_equal(name, glint_status_name(known[j]));
        } else {
            assert_string_equal(name, "GLINT_E_UNKNOWN");
        }
    }
    assert_int_equal(k, nk);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constructors),
        cmocka_unit_test(test_result_roundtrip_all_types),
        cmocka_unit_test(test_call_roundtrip_each_type),
        cmocka_unit_test(test_call_roundtrip_many_args),
        cmocka_unit_test(test_call_golden_bytes),
        cmocka_unit_test(test_stack_push_pop_lifo),
        cmocka_unit_test(test_stack_full),
        cmocka_unit_test(test_stack_corrupted_top),
        cmocka_unit_test(test_stack_corrupted_back_pointer),
        cmocka_unit_test(test_truncation_every_length),
        cmocka_unit_test(test_padding_after_body),
        cmocka_unit_test(test_hostile_lengths),
        cmocka_unit_test(test_strings_nul_rules),
        cmocka_unit_test(test_bool_and_type_values),
        cmocka_unit_test(test_header_checks),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_call_limits_decode),
        cmocka_unit_test(test_call_limits_encode),
        cmocka_unit_test(test_call_max_args_mixed),
        cmocka_unit_test(test_call_large_arguments),
        cmocka_unit_test(test_encoder_rejects_nul_strings),
        cmocka_unit_test(test_encoder_overflow_boundary),
        cmocka_unit_test(test_other_kinds_roundtrip),
        cmocka_unit_test(test_functions_roundtrip),
        cmocka_unit_test(test_decoder_mutation_fuzz),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_status_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
