/*
 * glint/wire.h - the call wire format, shared by host and guest.
 *
 * Buffers.  The input buffer (host -> guest) and output buffer (guest -> host)
 * are stacks of messages: a little-endian u64 "top" at offset 0 (empty = 8),
 * then messages, each padded to 8 bytes and followed by a u64 back-pointer to
 * its own start offset.  Pushing writes at "top"; popping reads the
 * back-pointer just below "top".  Every offset read from a buffer is checked
 * against the buffer's capacity before use (glint_stack_pop).
 *
 * Messages.  An 8-byte header {u8 kind, u8 wire version, u16 zero, u32 body
 * length} and a body made of the primitives below, all little-endian and
 * unaligned:
 *   value   := u8 type, payload (i32/u32/f32: 4 bytes, i64/u64/f64: 8 bytes,
 *              bool: 1 byte 0|1, string: u32 len + len bytes + NUL (no NUL
 *              inside), bytes: u32 len + len bytes, void: nothing)
 *   string  := same as a string value's payload
 *   CALL      name:string ret:u8 argc:u8 value[argc]
 *   RESULT    value                       (type == the declared return type)
 *   ERROR     code:u32 message:string
 *   LOG       level:u32 line:u32 file:string message:string
 *   PRINT     data:u32 len + bytes
 *   ABORT     code:i32 message:string
 *   FUNCTIONS count:u32 { name:string ret:u8 argc:u8 type[argc] }[count]
 * The decoder is strict: unknown kinds/types, a nonzero reserved field, a
 * length beyond the message, a missing NUL, trailing bytes, are all errors.
 *
 * Decoded strings and bytes point into the buffer they were decoded from (no
 * copy); they stay valid as long as that buffer is not modified.
 */
#ifndef GLINT_WIRE_H
#define GLINT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint/types.h"

/* Internal to libglint and the guest runtime: not part of libglint.so's
 * exported API (the library is built with hidden visibility). */

#define GLINT_WIRE_VERSION 1u
typedef enum glint_msg_kind {
    GLINT_MSG_CALL = 1,
    GLINT_MSG_RESULT = 2,
    GLINT_MSG_ERROR = 3,
    GLINT_MSG_LOG = 4,
    GLINT_MSG_PRINT = 5,
    GLINT_MSG_ABORT = 6,
    GLINT_MSG_FUNCTIONS = 7
} glint_msg_kind;

/* ---- Message stacks --------------------------------------------------- */
/* All return 0 on success, -1 on a malformed or full buffer. */
int glint_stack_init(uint8_t *buf, uint64_t cap);
/* Space for the next message: *msg = buf + top, *avail = bytes usable for the
 * message (capacity minus top, padding and the back-pointer). */
int glint_stack_reserve(uint8_t *buf, uint64_t cap, uint8_t **msg, uint64_t *avail);
/* Publishes a message of len bytes written at the reserved position. */
int glint_stack_commit(uint8_t *buf, uint64_t cap, uint64_t len);
/* Pops the top message.  Validates top and the back-pointer against cap. */
int glint_stack_pop(uint8_t *buf, uint64_t cap, const uint8_t **msg, uint64_t *len);
/* Like glint_stack_pop but leaves the message on the stack, so that decoded
 * strings/bytes stay valid while later messages are pushed above it. */
int glint_stack_peek(const uint8_t *buf, uint64_t cap, const uint8_t **msg, uint64_t *len);
/* Number of bytes in use (top), or 0 if top is invalid. */
uint64_t glint_stack_used(const uint8_t *buf, uint64_t cap);

/* ---- Writer ------------------------------------------------------------ */
typedef struct glint_writer {
    uint8_t *buf;
    uint64_t cap;
    uint64_t pos;
    uint64_t msg_start;
    bool overflow; /* set once anything did not fit; all later puts no-ops */
} glint_writer;

void glint_writer_init(glint_writer *w, uint8_t *buf, uint64_t cap);
void glint_put_u8(glint_writer *w, uint8_t v);
void glint_put_u32(glint_writer *w, uint32_t v);
void glint_put_u64(glint_writer *w, uint64_t v);
void glint_put_raw(glint_writer *w, const void *p, uint64_t n);
/* Returns false (and sets overflow) for a string containing NUL. */
bool glint_put_string(glint_writer *w, const char *s, uint32_t len);
/* Returns false for an invalid value (bad type, NUL inside a string). */
bool glint_put_value(glint_writer *w, const glint_value *v);
void glint_msg_begin(glint_writer *w, glint_msg_kind kind);
/* Patches the header's body length; returns total message length or 0 on
 * overflow. */
uint64_t glint_msg_end(glint_writer *w);

/* Whole-message encoders (begin+body+end).  Return the message length, or 0
 * if it did not fit / was invalid. */
uint64_t glint_encode_call(glint_writer *w, const char *name, glint_type ret,
                           const glint_value *args, uint32_t argc);
uint64_t glint_encode_result(glint_writer *w, const glint_value *v);
uint64_t glint_encode_error(glint_writer *w, uint32_t code, const char *msg, uint32_t msg_len);
uint64_t glint_encode_log(glint_writer *w, uint32_t level, uint32_t line, const char *file,
                          uint32_t file_len, const char *msg, uint32_t msg_len);
uint64_t glint_encode_print(glint_writer *w, const void *data, uint32_t len);
uint64_t glint_encode_abort(glint_writer *w, int32_t code, const char *msg, uint32_t msg_len);

/* ---- Reader ------------------------------------------------------------ */
typedef struct glint_reader {
    const uint8_t *buf;
    uint64_t len;
    uint64_t pos;
    bool error; /* set once anything was malformed; later gets fail */
} glint_reader;

void glint_reader_init(glint_reader *r, const uint8_t *buf, uint64_t len);
bool glint_get_u8(glint_reader *r, uint8_t *v);
bool glint_get_u32(glint_reader *r, uint32_t *v);
bool glint_get_u64(glint_reader *r, uint64_t *v);
bool glint_get_string(glint_reader *r, const char **s, uint32_t *len);
bool glint_get_value(glint_reader *r, glint_value *v);
/* True when every byte was consumed and nothing failed. */
bool glint_reader_done(const glint_reader *r);

/* Validates a message header; on success *kind is set and body reads the
 * body only. */
bool glint_msg_open(const uint8_t *msg, uint64_t len, glint_msg_kind *kind, glint_reader *body);

/* Decoded CALL (also used for host calls). */
typedef struct glint_call_view {
    const char *name;
    uint32_t name_len;
    glint_type ret;
    uint32_t argc;
    glint_value args[GLINT_MAX_ARGS];
} glint_call_view;
bool glint_decode_call(glint_reader *body, glint_call_view *out);

typedef struct glint_error_view {
    uint32_t code;
    const char *message;
    uint32_t message_len;
} glint_error_view;
bool glint_decode_error(glint_reader *body, glint_error_view *out);
bool glint_decode_result(glint_reader *body, glint_value *out);

typedef struct glint_log_view {
    uint32_t level;
    uint32_t line;
    const char *file;
    uint32_t file_len;
    const char *message;
    uint32_t message_len;
} glint_log_view;
bool glint_decode_log(glint_reader *body, glint_log_view *out);
bool glint_decode_print(glint_reader *body, const uint8_t **data, uint32_t *len);
bool glint_decode_abort(glint_reader *body, int32_t *code, const char **msg, uint32_t *msg_len);

/* FUNCTIONS: iterate with glint_decode_function_next after reading count. */
typedef struct glint_function_view {
    const char *name;
    uint32_t name_len;
    glint_type ret;
    uint32_t argc;
    glint_type params[GLINT_MAX_ARGS];
} glint_function_view;
bool glint_decode_functions_count(glint_reader *body, uint32_t *count);
bool glint_decode_function_next(glint_reader *body, glint_function_view *out);
/* Guest side encoder for one FUNCTIONS entry (after glint_msg_begin and the
 * u32 count). */
bool glint_put_function(glint_writer *w, const char *name, glint_type ret, const glint_type *params,
                        uint32_t argc);

#endif /* GLINT_WIRE_H */
