/*
 * Wire format codec shared by host and guest (see glint/wire.h).  Everything
 * read from a buffer is treated as hostile: lengths are compared against what
 * remains before any pointer arithmetic, so a length near 2^64 can't wrap.
 */
#include "glint/wire.h"

#include "glint/abi.h"

/* Host and guest both compile this file: these keep the argument limit of
 * ABI 2 and 3 the same on both sides.  Changing GLINT_MAX_ARGS changes what
 * either side accepts, so it needs a new GLINT_ABI_VERSION. */
_Static_assert((GLINT_ABI_VERSION != 2u && GLINT_ABI_VERSION != 3u) || GLINT_MAX_ARGS == 32u,
               "ABI 2 and 3 carry at most 32 call arguments");
_Static_assert(GLINT_MAX_ARGS <= 255u, "argc is a u8 on the wire");

#define wire_memcpy __builtin_memcpy
#define wire_memchr __builtin_memchr

static uint64_t load_u64(const uint8_t *p) {
    uint64_t v;
    wire_memcpy(&v, p, sizeof v);
    return v;
}

static void store_u64(uint8_t *p, uint64_t v) { wire_memcpy(p, &v, sizeof v); }

static uint64_t pad8(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

glint_value glint_str(const char *s) {
    glint_value v = {GLINT_TYPE_STRING, {0}};
    uint32_t n = 0;
    if (s != NULL) {
        while (s[n] != '\0' && n < UINT32_MAX - 1u) n++;
    }
    v.as.str.ptr = s != NULL ? s : "";
    v.as.str.len = n;
    return v;
}

static const char *const type_names[GLINT_TYPE_COUNT] = {"void", "i32", "u32",  "i64",    "u64",
                                                         "f32",  "f64", "bool", "string", "bytes"};

const char *glint_type_name(int type) {
    if (type < 0 || (unsigned)type >= GLINT_TYPE_COUNT) return "invalid";
    return type_names[type];
}

int glint_type_parse(const char *name) {
    if (name == NULL) return -1;
    for (unsigned i = 0; i < GLINT_TYPE_COUNT; i++) {
        const char *a = type_names[i];
        const char *b = name;
        while (*a != '\0' && *a == *b) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0') return (int)i;
    }
    return -1;
}

bool glint_type_valid_param(int type) { return type > 0 && (unsigned)type < GLINT_TYPE_COUNT; }
bool glint_type_valid_return(int type) { return type >= 0 && (unsigned)type < GLINT_TYPE_COUNT; }

/* ---- Stacks ---------------------------------------------------------- */

int glint_stack_init(uint8_t *buf, uint64_t cap) {
    if (buf == NULL || cap < 2u * GLINT_STACK_EMPTY) return -1;
    store_u64(buf, GLINT_STACK_EMPTY);
    return 0;
}

/* A valid top is 8-aligned, at least 8 and at most cap. */
static bool top_valid(uint64_t top, uint64_t cap) {
    return top >= GLINT_STACK_EMPTY && top <= cap && (top & 7u) == 0;
}

uint64_t glint_stack_used(const uint8_t *buf, uint64_t cap) {
    if (buf == NULL || cap < 2u * GLINT_STACK_EMPTY) return 0;
    uint64_t top = load_u64(buf);
    return top_valid(top, cap) ? top : 0;
}

int glint_stack_reserve(uint8_t *buf, uint64_t cap, uint8_t **msg, uint64_t *avail) {
    if (buf == NULL || cap < 2u * GLINT_STACK_EMPTY) return -1;
    uint64_t top = load_u64(buf);
    if (!top_valid(top, cap) || cap - top < 8u) return -1;
    *msg = buf + top;
    /* Room for the padded message plus its back-pointer. */
    *avail = (cap - top - 8u) & ~(uint64_t)7u;
    return 0;
}

int glint_stack_commit(uint8_t *buf, uint64_t cap, uint64_t len) {
    if (buf == NULL || cap < 2u * GLINT_STACK_EMPTY) return -1;
    uint64_t top = load_u64(buf);
    if (!top_valid(top, cap) || cap - top < 8u) return -1;
    uint64_t room = cap - top - 8u;
    if (len > room) return -1;
    uint64_t padded = pad8(len);
    if (padded > room) return -1;
    /* Zero the padding so no stale bytes cross the boundary. */
    for (uint64_t i = len; i < padded; i++) buf[top + i] = 0;
    store_u64(buf + top + padded, top);
    store_u64(buf, top + padded + 8u);
    return 0;
}

int glint_stack_peek(const uint8_t *buf, uint64_t cap, const uint8_t **msg, uint64_t *len) {
    if (buf == NULL || cap < 2u * GLINT_STACK_EMPTY) return -1;
    uint64_t top = load_u64(buf);
    if (!top_valid(top, cap) || top < GLINT_STACK_EMPTY + 8u) return -1;
    uint64_t back = load_u64(buf + top - 8u);
    if (back < GLINT_STACK_EMPTY || back > top - 8u || (back & 7u) != 0) return -1;
    *msg = buf + back;
    *len = top - 8u - back;
    return 0;
}

int glint_stack_pop(uint8_t *buf, uint64_t cap, const uint8_t **msg, uint64_t *len) {
    if (glint_stack_peek(buf, cap, msg, len) != 0) return -1;
    store_u64(buf, (uint64_t)(*msg - buf));
    return 0;
}

/* ---- Writer ---------------------------------------------------------- */

void glint_writer_init(glint_writer *w, uint8_t *buf, uint64_t cap) {
    w->buf = buf;
    w->cap = buf != NULL ? cap : 0;
    w->pos = 0;
    w->msg_start = 0;
    w->overflow = false;
}

void glint_put_raw(glint_writer *w, const void *p, uint64_t n) {
    if (w->overflow) return;
    if (n > w->cap - w->pos) {
        w->overflow = true;
        return;
    }
    if (n != 0) wire_memcpy(w->buf + w->pos, p, n);
    w->pos += n;
}

void glint_put_u8(glint_writer *w, uint8_t v) { glint_put_raw(w, &v, 1); }
void glint_put_u32(glint_writer *w, uint32_t v) { glint_put_raw(w, &v, 4); }
void glint_put_u64(glint_writer *w, uint64_t v) { glint_put_raw(w, &v, 8); }

bool glint_put_string(glint_writer *w, const char *s, uint32_t len) {
    if (len != 0 && (s == NULL || wire_memchr(s, 0, len) != NULL)) {
        w->overflow = true;
        return false;
    }
    glint_put_u32(w, len);
    glint_put_raw(w, s, len);
    glint_put_u8(w, 0);
    return !w->overflow;
}

bool glint_put_value(glint_writer *w, const glint_value *v) {
    if (!glint_type_valid_return((int)v->type)) {
        w->overflow = true;
        return false;
    }
    glint_put_u8(w, (uint8_t)v->type);
    switch (v->type) {
    case GLINT_TYPE_VOID: break;
    case GLINT_TYPE_I32: glint_put_raw(w, &v->as.i32, 4); break;
    case GLINT_TYPE_U32: glint_put_raw(w, &v->as.u32, 4); break;
    case GLINT_TYPE_I64: glint_put_raw(w, &v->as.i64, 8); break;
    case GLINT_TYPE_U64: glint_put_raw(w, &v->as.u64, 8); break;
    case GLINT_TYPE_F32: glint_put_raw(w, &v->as.f32, 4); break;
    case GLINT_TYPE_F64: glint_put_raw(w, &v->as.f64, 8); break;
    case GLINT_TYPE_BOOL: glint_put_u8(w, v->as.b ? 1u : 0u); break;
    case GLINT_TYPE_STRING: return glint_put_string(w, v->as.str.ptr, v->as.str.len);
    case GLINT_TYPE_BYTES:
        if (v->as.bytes.len != 0 && v->as.bytes.ptr == NULL) {
            w->overflow = true;
            return false;
        }
        glint_put_u32(w, v->as.bytes.len);
        glint_put_raw(w, v->as.bytes.ptr, v->as.bytes.len);
        break;
    }
    return !w->overflow;
}

void glint_msg_begin(glint_writer *w, glint_msg_kind kind) {
    w->msg_start = w->pos;
    glint_put_u8(w, (uint8_t)kind);
    glint_put_u8(w, GLINT_WIRE_VERSION);
    glint_put_u8(w, 0);
    glint_put_u8(w, 0);
    glint_put_u32(w, 0);
}

uint64_t glint_msg_end(glint_writer *w) {
    if (w->overflow) return 0;
    uint64_t total = w->pos - w->msg_start;
    uint64_t body = total - GLINT_MSG_HEADER_SIZE;
    if (body > UINT32_MAX) {
        w->overflow = true;
        return 0;
    }
    uint32_t body32 = (uint32_t)body;
    wire_memcpy(w->buf + w->msg_start + 4, &body32, 4);
    return total;
}

uint64_t glint_encode_call(glint_writer *w, const char *name, glint_type ret,
                           const glint_value *args, uint32_t argc) {
    uint32_t name_len = 0;
    if (name == NULL || argc > GLINT_MAX_ARGS || (argc != 0 && args == NULL) ||
        !glint_type_valid_return((int)ret))
        return 0;
    while (name[name_len] != '\0') {
        if (++name_len > GLINT_MAX_NAME_LEN) return 0;
    }
    if (name_len == 0) return 0;
    glint_msg_begin(w, GLINT_MSG_CALL);
    glint_put_string(w, name, name_len);
    glint_put_u8(w, (uint8_t)ret);
    glint_put_u8(w, (uint8_t)argc);
    for (uint32_t i = 0; i < argc; i++) {
        if (!glint_type_valid_param((int)args[i].type) || !glint_put_value(w, &args[i])) return 0;
    }
    return glint_msg_end(w);
}

uint64_t glint_encode_result(glint_writer *w, const glint_value *v) {
    glint_msg_begin(w, GLINT_MSG_RESULT);
    if (!glint_put_value(w, v)) return 0;
    return glint_msg_end(w);
}

uint64_t glint_encode_error(glint_writer *w, uint32_t code, const char *msg, uint32_t msg_len) {
    glint_msg_begin(w, GLINT_MSG_ERROR);
    glint_put_u32(w, code);
    if (!glint_put_string(w, msg, msg_len)) return 0;
    return glint_msg_end(w);
}

uint64_t glint_encode_log(glint_writer *w, uint32_t level, uint32_t line, const char *file,
                          uint32_t file_len, const char *msg, uint32_t msg_len) {
    glint_msg_begin(w, GLINT_MSG_LOG);
    glint_put_u32(w, level);
    glint_put_u32(w, line);
    if (!glint_put_string(w, file, file_len) || !glint_put_string(w, msg, msg_len)) return 0;
    return glint_msg_end(w);
}

uint64_t glint_encode_print(glint_writer *w, const void *data, uint32_t len) {
    if (len != 0 && data == NULL) return 0;
    glint_msg_begin(w, GLINT_MSG_PRINT);
    glint_put_u32(w, len);
    glint_put_raw(w, data, len);
    return glint_msg_end(w);
}

uint64_t glint_encode_abort(glint_writer *w, int32_t code, const char *msg, uint32_t msg_len) {
    glint_msg_begin(w, GLINT_MSG_ABORT);
    glint_put_raw(w, &code, 4);
    if (!glint_put_string(w, msg, msg_len)) return 0;
    return glint_msg_end(w);
}

bool glint_put_function(glint_writer *w, const char *name, glint_type ret, const glint_type *params,
                        uint32_t argc) {
    uint32_t name_len = 0;
    if (name == NULL || argc > GLINT_MAX_ARGS || !glint_type_valid_return((int)ret)) return false;
    while (name[name_len] != '\0') {
        if (++name_len > GLINT_MAX_NAME_LEN) return false;
    }
    if (name_len == 0) return false;
    glint_put_string(w, name, name_len);
    glint_put_u8(w, (uint8_t)ret);
    glint_put_u8(w, (uint8_t)argc);
    for (uint32_t i = 0; i < argc; i++) {
        if (!glint_type_valid_param((int)params[i])) return false;
        glint_put_u8(w, (uint8_t)params[i]);
    }
    return !w->overflow;
}

/* ---- Reader ---------------------------------------------------------- */

void glint_reader_init(glint_reader *r, const uint8_t *buf, uint64_t len) {
    r->buf = buf;
    r->len = buf != NULL ? len : 0;
    r->pos = 0;
    r->error = false;
}

static bool get_raw(glint_reader *r, void *out, uint64_t n) {
    if (r->error || n > r->len - r->pos) {
        r->error = true;
        return false;
    }
    wire_memcpy(out, r->buf + r->pos, n);
    r->pos += n;
    return true;
}

bool glint_get_u8(glint_reader *r, uint8_t *v) { return get_raw(r, v, 1); }
bool glint_get_u32(glint_reader *r, uint32_t *v) { return get_raw(r, v, 4); }
bool glint_get_u64(glint_reader *r, uint64_t *v) { return get_raw(r, v, 8); }

bool glint_get_string(glint_reader *r, const char **s, uint32_t *len) {
    uint32_t n;
    if (!glint_get_u32(r, &n)) return false;
    /* n bytes plus the NUL must remain; compare without adding to n. */
    if (r->len - r->pos < 1u || (uint64_t)n > r->len - r->pos - 1u) goto bad;
    const char *p = (const char *)(r->buf + r->pos);
    if (p[n] != '\0' || (n != 0 && wire_memchr(p, 0, n) != NULL)) goto bad;
    *s = p;
    *len = n;
    r->pos += (uint64_t)n + 1u;
    return true;
bad:
    r->error = true;
    return false;
}

bool glint_get_value(glint_reader *r, glint_value *v) {
    uint8_t t;
    if (!glint_get_u8(r, &t)) return false;
    if (!glint_type_valid_return(t)) {
        r->error = true;
        return false;
    }
    v->type = (glint_type)t;
    switch (v->type) {
    case GLINT_TYPE_VOID: return true;
    case GLINT_TYPE_I32: return get_raw(r, &v->as.i32, 4);
    case GLINT_TYPE_U32: return get_raw(r, &v->as.u32, 4);
    case GLINT_TYPE_I64: return get_raw(r, &v->as.i64, 8);
    case GLINT_TYPE_U64: return get_raw(r, &v->as.u64, 8);
    case GLINT_TYPE_F32: return get_raw(r, &v->as.f32, 4);
    case GLINT_TYPE_F64: return get_raw(r, &v->as.f64, 8);
    case GLINT_TYPE_BOOL: {
        uint8_t b;
        if (!glint_get_u8(r, &b)) return false;
        if (b > 1u) {
            r->error = true;
            return false;
        }
        v->as.b = b != 0;
        return true;
    }
    case GLINT_TYPE_STRING: return glint_get_string(r, &v->as.str.ptr, &v->as.str.len);
    case GLINT_TYPE_BYTES: {
        uint32_t n;
        if (!glint_get_u32(r, &n)) return false;
        if ((uint64_t)n > r->len - r->pos) {
            r->error = true;
            return false;
        }
        v->as.bytes.ptr = r->buf + r->pos;
        v->as.bytes.len = n;
        r->pos += n;
        return true;
    }
    }
    r->error = true;
    return false;
}

bool glint_reader_done(const glint_reader *r) { return !r->error && r->pos == r->len; }

bool glint_msg_open(const uint8_t *msg, uint64_t len, glint_msg_kind *kind, glint_reader *body) {
    if (msg == NULL || len < GLINT_MSG_HEADER_SIZE) return false;
    uint8_t k = msg[0];
    uint32_t body_len;
    wire_memcpy(&body_len, msg + 4, 4);
    if (msg[1] != GLINT_WIRE_VERSION || msg[2] != 0 || msg[3] != 0) return false;
    if (k < GLINT_MSG_CALL || k > GLINT_MSG_FUNCTIONS) return false;
    if ((uint64_t)body_len > len - GLINT_MSG_HEADER_SIZE) return false;
    /* Only stack padding may follow the body, and it is zero. */
    uint64_t pad = len - GLINT_MSG_HEADER_SIZE - body_len;
    if (pad >= 8u) return false;
    for (uint64_t i = 0; i < pad; i++) {
        if (msg[GLINT_MSG_HEADER_SIZE + body_len + i] != 0) return false;
    }
    *kind = (glint_msg_kind)k;
    glint_reader_init(body, msg + GLINT_MSG_HEADER_SIZE, body_len);
    return true;
}

bool glint_decode_call(glint_reader *body, glint_call_view *out) {
    uint8_t ret, argc;
    if (!glint_get_string(body, &out->name, &out->name_len)) return false;
    if (out->name_len == 0 || out->name_len > GLINT_MAX_NAME_LEN) return false;
    if (!glint_get_u8(body, &ret) || !glint_get_u8(body, &argc)) return false;
    if (!glint_type_valid_return(ret) || argc > GLINT_MAX_ARGS) return false;
    out->ret = (glint_type)ret;
    out->argc = argc;
    for (uint32_t i = 0; i < argc; i++) {
        if (!glint_get_value(body, &out->args[i])) return false;
        if (out->args[i].type == GLINT_TYPE_VOID) return false;
    }
    return glint_reader_done(body);
}

bool glint_decode_error(glint_reader *body, glint_error_view *out) {
    return glint_get_u32(body, &out->code) &&
           glint_get_string(body, &out->message, &out->message_len) && glint_reader_done(body);
}

bool glint_decode_result(glint_reader *body, glint_value *out) {
    return glint_get_value(body, out) && glint_reader_done(body);
}

bool glint_decode_log(glint_reader *body, glint_log_view *out) {
    return glint_get_u32(body, &out->level) && glint_get_u32(body, &out->line) &&
           glint_get_string(body, &out->file, &out->file_len) &&
           glint_get_string(body, &out->message, &out->message_len) && glint_reader_done(body);
}

bool glint_decode_print(glint_reader *body, const uint8_t **data, uint32_t *len) {
    uint32_t n;
    if (!glint_get_u32(body, &n) || (uint64_t)n != body->len - body->pos) return false;
    *data = body->buf + body->pos;
    *len = n;
    body->pos += n;
    return true;
}

bool glint_decode_abort(glint_reader *body, int32_t *code, const char **msg, uint32_t *msg_len) {
    uint32_t c;
    if (!glint_get_u32(body, &c)) return false;
    *code = (int32_t)c;
    return glint_get_string(body, msg, msg_len) && glint_reader_done(body);
}

bool glint_decode_functions_count(glint_reader *body, uint32_t *count) {
    if (!glint_get_u32(body, count)) return false;
    if (*count > GLINT_MAX_FUNCTIONS) {
        body->error = true;
        return false;
    }
    return true;
}

bool glint_decode_function_next(glint_reader *body, glint_function_view *out) {
    uint8_t ret, argc;
    if (!glint_get_string(body, &out->name, &out->name_len)) return false;
    if (out->name_len == 0 || out->name_len > GLINT_MAX_NAME_LEN) goto bad;
    if (!glint_get_u8(body, &ret) || !glint_get_u8(body, &argc)) return false;
    if (!glint_type_valid_return(ret) || argc > GLINT_MAX_ARGS) goto bad;
    out->ret = (glint_type)ret;
    out->argc = argc;
    for (uint32_t i = 0; i < argc; i++) {
        uint8_t t;
        if (!glint_get_u8(body, &t)) return false;
        if (!glint_type_valid_param(t)) goto bad;
        out->params[i] = (glint_type)t;
    }
    return true;
bad:
    body->error = true;
    return false;
}
