/*
 * libFuzzer target: the wire-format decoder on arbitrary bytes.
 *
 * The input is decoded as a whole message (glint_msg_open, then the decoder
 * its kind selects) and, raw, as the body of every kind.  Every string or
 * bytes view a decoder returns must lie inside the input, strings must be
 * NUL terminated without a NUL inside, and whatever decodes must re-encode to
 * something that decodes to the same values.
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glint/wire.h"

static const uint8_t *lo, *hi; /* the current input */

static void check(int ok) {
    if (!ok) abort();
}

static void check_span(const void *p, uint64_t len) {
    const uint8_t *b = p;
    check(len == 0 || (b >= lo && b <= hi && len <= (uint64_t)(hi - b)));
}

static void check_string(const char *s, uint32_t len) {
    check_span(s, (uint64_t)len + 1u);
    check(s[len] == '\0' && memchr(s, 0, len) == NULL);
}

static void check_value(const glint_value *v) {
    check(glint_type_valid_return((int)v->type));
    if (v->type == GLINT_TYPE_STRING) check_string(v->as.str.ptr, v->as.str.len);
    if (v->type == GLINT_TYPE_BYTES) check_span(v->as.bytes.ptr, v->as.bytes.len);
    if (v->type == GLINT_TYPE_BOOL) check(v->as.b == 0 || v->as.b == 1);
}

static int same_value(const glint_value *a, const glint_value *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case GLINT_TYPE_VOID: return 1;
    case GLINT_TYPE_I32:
    case GLINT_TYPE_U32:
    case GLINT_TYPE_F32: return memcmp(&a->as.u32, &b->as.u32, 4) == 0;
    case GLINT_TYPE_I64:
    case GLINT_TYPE_U64:
    case GLINT_TYPE_F64: return memcmp(&a->as.u64, &b->as.u64, 8) == 0;
    case GLINT_TYPE_BOOL: return a->as.b == b->as.b;
    case GLINT_TYPE_STRING:
        return a->as.str.len == b->as.str.len &&
               memcmp(a->as.str.ptr, b->as.str.ptr, a->as.str.len) == 0;
    case GLINT_TYPE_BYTES:
        return a->as.bytes.len == b->as.bytes.len &&
               (a->as.bytes.len == 0 ||
                memcmp(a->as.bytes.ptr, b->as.bytes.ptr, a->as.bytes.len) == 0);
    }
    return 0;
}

/* Re-encodes a decoded CALL and decodes the result again. */
static void round_trip_call(const glint_call_view *c) {
    static uint8_t buf[1u << 17];
    glint_writer w;
    glint_writer_init(&w, buf, sizeof buf);
    uint64_t n = glint_encode_call(&w, c->name, c->ret, c->args, c->argc);
    if (n == 0) return; /* did not fit */
    glint_msg_kind kind;
    glint_reader body;
    check(glint_msg_open(buf, n, &kind, &body) && kind == GLINT_MSG_CALL);
    static glint_call_view again;
    check(glint_decode_call(&body, &again));
    check(again.name_len == c->name_len && memcmp(again.name, c->name, c->name_len) == 0);
    check(again.ret == c->ret && again.argc == c->argc);
    for (uint32_t i = 0; i < c->argc; i++) check(same_value(&again.args[i], &c->args[i]));
}

static void round_trip_result(const glint_value *v) {
    static uint8_t buf[1u << 17];
    glint_writer w;
    glint_writer_init(&w, buf, sizeof buf);
    uint64_t n = glint_encode_result(&w, v);
    if (n == 0) return;
    glint_msg_kind kind;
    glint_reader body;
    glint_value again;
    check(glint_msg_open(buf, n, &kind, &body) && kind == GLINT_MSG_RESULT);
    check(glint_decode_result(&body, &again) && same_value(&again, v));
}

/* Every decoder on one body. */
static void decode_all(const uint8_t *p, uint64_t len, int only_kind) {
    glint_reader r;
    if (only_kind == 0 || only_kind == GLINT_MSG_CALL) {
        static glint_call_view c;
        glint_reader_init(&r, p, len);
        if (glint_decode_call(&r, &c)) {
            check_string(c.name, c.name_len);
            check(c.name_len >= 1 && c.name_len <= GLINT_MAX_NAME_LEN && c.argc <= GLINT_MAX_ARGS);
            for (uint32_t i = 0; i < c.argc; i++) {
                check_value(&c.args[i]);
                check(c.args[i].type != GLINT_TYPE_VOID);
            }
            check(glint_reader_done(&r));
            round_trip_call(&c);
        }
    }
    if (only_kind == 0 || only_kind == GLINT_MSG_RESULT) {
        glint_value v;
        glint_reader_init(&r, p, len);
        if (glint_decode_result(&r, &v)) {
            check_value(&v);
            round_trip_result(&v);
        }
    }
    if (only_kind == 0 || only_kind == GLINT_MSG_ERROR) {
        glint_error_view e;
        glint_reader_init(&r, p, len);
        if (glint_decode_error(&r, &e)) check_string(e.message, e.message_len);
    }
    if (only_kind == 0 || only_kind == GLINT_MSG_LOG) {
        glint_log_view l;
        glint_reader_init(&r, p, len);
        if (glint_decode_log(&r, &l)) {
            check_string(l.file, l.file_len);
            check_string(l.message, l.message_len);
        }
    }
    if (only_kind == 0 || only_kind == GLINT_MSG_PRINT) {
        const uint8_t *d;
        uint32_t n;
        glint_reader_init(&r, p, len);
        if (glint_decode_print(&r, &d, &n)) check_span(d, n);
    }
    if (only_kind == 0 || only_kind == GLINT_MSG_ABORT) {
        int32_t code;
        const char *m;
        uint32_t n;
        glint_reader_init(&r, p, len);
        if (glint_decode_abort(&r, &code, &m, &n)) check_string(m, n);
    }
    if (only_kind == 0 || only_kind == GLINT_MSG_FUNCTIONS) {
        uint32_t count;
        glint_reader_init(&r, p, len);
        if (glint_decode_functions_count(&r, &count)) {
            check(count <= GLINT_MAX_FUNCTIONS);
            glint_function_view f;
            for (uint32_t i = 0; i < count; i++) {
                if (!glint_decode_function_next(&r, &f)) break;
                check_string(f.name, f.name_len);
                check(f.argc <= GLINT_MAX_ARGS && glint_type_valid_return((int)f.ret));
                for (uint32_t a = 0; a < f.argc; a++)
                    check(glint_type_valid_param((int)f.params[a]));
            }
        }
    }
    /* The primitive getters, one after another until the reader fails. */
    glint_reader_init(&r, p, len);
    for (int i = 0; i < 64 && !r.error; i++) {
        glint_value v;
        if (glint_get_value(&r, &v)) check_value(&v);
        check(r.pos <= r.len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lo = data;
    hi = data + size;
    glint_msg_kind kind;
    glint_reader body;
    if (glint_msg_open(data, size, &kind, &body)) {
        check(kind >= GLINT_MSG_CALL && kind <= GLINT_MSG_FUNCTIONS);
        check_span(body.buf, body.len);
        check(size - GLINT_MSG_HEADER_SIZE - body.len < 8);
        decode_all(body.buf, body.len, kind);
    }
    decode_all(data, size, 0);
    /* Type names and parsing never read out of bounds. */
    if (size >= 1) {
        const char *name = glint_type_name((int8_t)data[0]);
        int t = glint_type_parse(name);
        check(t == -1 || strcmp(glint_type_name(t), name) == 0);
    }
    return 0;
}
