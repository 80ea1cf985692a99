/*
 * glint/types.h - the typed values that cross the sandbox boundary: types,
 * values and their constructors, log levels and the limits on calls.  Part
 * of the public host API (glint/glint.h includes it) and of the wire format
 * (glint/wire.h includes it).  Freestanding C11.
 */
#ifndef GLINT_TYPES_H
#define GLINT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libglint is built with -fvisibility=hidden; the functions declared here
 * are part of its API (exported by libglint.so).  For guests it changes
 * nothing. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

/* Arguments of one call (argc is a u8 on the wire).  Part of ABI 2: the host
 * and the guest runtime size their arrays by it and reject a CALL or a
 * FUNCTIONS entry with more; common/src/wire.c pins it to the ABI version. */
#define GLINT_MAX_ARGS 32u
#define GLINT_MAX_NAME_LEN 127u /* function name bytes, without NUL */
#define GLINT_MAX_FUNCTIONS 256u
#define GLINT_MSG_HEADER_SIZE 8u
#define GLINT_STACK_EMPTY 8u

typedef enum glint_type {
    GLINT_TYPE_VOID = 0, /* return type only */
    GLINT_TYPE_I32 = 1,
    GLINT_TYPE_U32 = 2,
    GLINT_TYPE_I64 = 3,
    GLINT_TYPE_U64 = 4,
    GLINT_TYPE_F32 = 5,
    GLINT_TYPE_F64 = 6,
    GLINT_TYPE_BOOL = 7,
    GLINT_TYPE_STRING = 8,
    GLINT_TYPE_BYTES = 9
} glint_type;
#define GLINT_TYPE_COUNT 10u

typedef enum glint_log_level {
    GLINT_LOG_TRACE = 0,
    GLINT_LOG_DEBUG = 1,
    GLINT_LOG_INFO = 2,
    GLINT_LOG_WARN = 3,
    GLINT_LOG_ERROR = 4,
    GLINT_LOG_OFF = 5
} glint_log_level;

/* A typed value.  For STRING, ptr is NUL terminated and len excludes the NUL;
 * a string never contains NUL.  Ownership: see the function using it. */
typedef struct glint_value {
    glint_type type;
    union {
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        float f32;
        double f64;
        bool b;
        struct {
            const char *ptr;
            uint32_t len;
        } str;
        struct {
            const void *ptr;
            uint32_t len;
        } bytes;
    } as;
} glint_value;

/* Constructors. glint_str computes the length with a bounded scan. */
static inline glint_value glint_void(void) {
    glint_value v = {GLINT_TYPE_VOID, {0}};
    return v;
}
static inline glint_value glint_i32(int32_t x) {
    glint_value v = {GLINT_TYPE_I32, {0}};
    v.as.i32 = x;
    return v;
}
static inline glint_value glint_u32(uint32_t x) {
    glint_value v = {GLINT_TYPE_U32, {0}};
    v.as.u32 = x;
    return v;
}
static inline glint_value glint_i64(int64_t x) {
    glint_value v = {GLINT_TYPE_I64, {0}};
    v.as.i64 = x;
    return v;
}
static inline glint_value glint_u64(uint64_t x) {
    glint_value v = {GLINT_TYPE_U64, {0}};
    v.as.u64 = x;
    return v;
}
static inline glint_value glint_f32(float x) {
    glint_value v = {GLINT_TYPE_F32, {0}};
    v.as.f32 = x;
    return v;
}
static inline glint_value glint_f64(double x) {
    glint_value v = {GLINT_TYPE_F64, {0}};
    v.as.f64 = x;
    return v;
}
static inline glint_value glint_bool(bool x) {
    glint_value v = {GLINT_TYPE_BOOL, {0}};
    v.as.b = x;
    return v;
}
static inline glint_value glint_bytes(const void *p, uint32_t n) {
    glint_value v = {GLINT_TYPE_BYTES, {0}};
    v.as.bytes.ptr = p;
    v.as.bytes.len = n;
    return v;
}
glint_value glint_str(const char *s);

/* Name of a type ("i32", "string", ...) or "invalid". */
const char *glint_type_name(int type);
/* Parses a type name as written by glint_type_name; -1 if unknown. */
int glint_type_parse(const char *name);
bool glint_type_valid_param(int type);  /* any type but VOID */
bool glint_type_valid_return(int type); /* any type */

/* File mappings a sandbox can hold at once, and the bytes of a mapping's
 * label including its NUL (glint/abi.h's FileMappingInfo table). */
#define GLINT_MAX_FILE_MAPPINGS 32u
#define GLINT_FILE_MAPPING_LABEL_SIZE 64u

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop

#endif /* GLINT_TYPES_H */
