/*
 * test_guest.c - the guest the host tests run against (test_guest.elf).
 *
 * Every function here is part of the tests' contract: names, parameter and
 * return types must not change without the host tests changing with them.
 * The fault_* functions deliberately crash the guest in one specific way
 * each; they are declared ()->i32 and return 0 only if the crash did not
 * happen (which a host test then reports).
 */
#include <glint_guest.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Echo: every type through unchanged -------------------------------- */

/* The argument (strings and bytes: pointing into the input buffer, valid
 * until the function returns) is the result. */
static glint_status echo(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    *ret = args[0];
    return GLINT_OK;
}

/* ---- Simple functions ---------------------------------------------------- */

static glint_status add_i32(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    /* Wrapping addition, without signed-overflow UB. */
    *ret = glint_i32((int32_t)((uint32_t)args[0].as.i32 + (uint32_t)args[1].as.i32));
    return GLINT_OK;
}

static glint_status void_fn(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret; /* already GLINT_TYPE_VOID */
    return GLINT_OK;
}

/* Survives from call to call; a snapshot restore resets it. */
static int64_t counter;

static glint_status counter_inc(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    counter++;
    *ret = glint_i64(counter);
    return GLINT_OK;
}

/* Results built on the heap live until the next call of the same function,
 * which frees them: the dispatcher copies a result as soon as the function
 * returns. */
static char *concat_result;
static uint8_t *make_bytes_result;

static glint_status concat(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t a_len = args[0].as.str.len;
    const uint32_t b_len = args[1].as.str.len;
    const uint64_t total = (uint64_t)a_len + b_len;
    if (total > UINT32_MAX - 1u) {
        glint_set_error("concat: result of %llu bytes is too long", (unsigned long long)total);
        return GLINT_E_GUEST_ERROR;
    }
    free(concat_result);
    concat_result = malloc((size_t)total + 1u);
    if (concat_result == NULL) {
        glint_set_error("concat: no memory for %llu bytes", (unsigned long long)total + 1u);
        return GLINT_E_OUT_OF_MEMORY;
    }
    memcpy(concat_result, args[0].as.str.ptr, a_len);
    memcpy(concat_result + a_len, args[1].as.str.ptr, b_len);
    concat_result[total] = '\0';
    ret->as.str.ptr = concat_result;
    ret->as.str.len = (uint32_t)total;
    return GLINT_OK;
}

static glint_status make_bytes(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t n = args[0].as.u32;
    free(make_bytes_result);
    /* malloc(0) may return NULL; one spare byte keeps NULL meaning "no memory". */
    make_bytes_result = malloc((size_t)n + 1u);
    if (make_bytes_result == NULL) {
        glint_set_error("make_bytes: no memory for %u bytes", n);
        return GLINT_E_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < n; i++) make_bytes_result[i] = (uint8_t)(i & 0xffu);
    *ret = glint_bytes(make_bytes_result, n);
    return GLINT_OK;
}

static glint_status sum_bytes(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint8_t *data = args[0].as.bytes.ptr;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < args[0].as.bytes.len; i++) sum += data[i];
    *ret = glint_u64(sum);
    return GLINT_OK;
}

/* sum_args(32 x u64) -> u64: sum of (i + 1) * args[i], so that a value in
 * the wrong position changes the result; GLINT_MAX_ARGS parameters. */
static glint_status sum_args(const glint_value *args, uint32_t argc, glint_value *ret) {
    uint64_t sum = 0;
    for (uint32_t i = 0; i < argc; i++) sum += (uint64_t)(i + 1u) * args[i].as.u64;
    *ret = glint_u64(sum);
    return GLINT_OK;
}

/* bytes_tail(bytes) -> u64: length * 256 + the last byte, reading only that
 * byte (large arguments without guest work proportional to their size). */
static glint_status bytes_tail(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint32_t len = args[0].as.bytes.len;
    const uint8_t *data = args[0].as.bytes.ptr;
    *ret = glint_u64((uint64_t)len * 256u + (len != 0 ? data[len - 1u] : 0u));
    return GLINT_OK;
}

static glint_status guest_error(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    (void)ret;
    glint_set_error("%s", args[0].as.str.ptr);
    return GLINT_E_GUEST_ERROR;
}

/* ---- Host calls -------------------------------------------------------------- */

/* Fails the current call with the host call's code and the host's message. */
static glint_status host_call_failed(glint_status status) {
    glint_set_error("%s", glint_host_error());
    return status;
}

static glint_status call_host_add(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const glint_status status = glint_call_host(
        "host_add", GLINT_TYPE_I32, ret, 2, glint_i32(args[0].as.i32), glint_i32(args[1].as.i32));
    return status == GLINT_OK ? GLINT_OK : host_call_failed(status);
}

/* call_host_sum_args(u64 base) -> u64: host_sum_args(base, base + 1, ...,
 * base + 31), a host call with GLINT_MAX_ARGS arguments. */
static glint_status call_host_sum_args(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    glint_value many[GLINT_MAX_ARGS];
    for (uint32_t i = 0; i < GLINT_MAX_ARGS; i++) many[i] = glint_u64(args[0].as.u64 + i);
    const glint_status status =
        glint_call_host_v("host_sum_args", GLINT_TYPE_U64, many, GLINT_MAX_ARGS, ret);
    return status == GLINT_OK ? GLINT_OK : host_call_failed(status);
}

/* call_host_echo_<type>(x) returns host_echo_<type>(x). */
static glint_status call_host_echo(const char *host_function, const glint_value *args,
                                   glint_value *ret) {
    const glint_status status = glint_call_host_v(host_function, args[0].type, args, 1, ret);
    return status == GLINT_OK ? GLINT_OK : host_call_failed(status);
}

#define DEFINE_CALL_HOST_ECHO(type_name)                                                           \
    static glint_status call_host_echo_##type_name(const glint_value *args, uint32_t argc,         \
                                                   glint_value *ret) {                             \
        (void)argc;                                                                                \
        return call_host_echo("host_echo_" #type_name, args, ret);                                 \
    }
DEFINE_CALL_HOST_ECHO(i32)
DEFINE_CALL_HOST_ECHO(u32)
DEFINE_CALL_HOST_ECHO(i64)
DEFINE_CALL_HOST_ECHO(u64)
DEFINE_CALL_HOST_ECHO(f32)
DEFINE_CALL_HOST_ECHO(f64)
DEFINE_CALL_HOST_ECHO(bool)
DEFINE_CALL_HOST_ECHO(string)
DEFINE_CALL_HOST_ECHO(bytes)

static glint_status call_host_fail(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    const glint_status status = glint_call_host("host_fail", GLINT_TYPE_I32, ret, 0);
    return status == GLINT_OK ? GLINT_OK : host_call_failed(status);
}

static glint_status call_host_n(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const int32_t n = args[0].as.i32;
    int64_t sum = 0;
    for (int32_t i = 0; i < n; i++) {
        glint_value r;
        const glint_status status =
            glint_call_host("host_add", GLINT_TYPE_I32, &r, 2, glint_i32(i), glint_i32(1));
        if (status != GLINT_OK) return host_call_failed(status);
        sum += r.as.i32;
    }
    *ret = glint_i64(sum);
    return GLINT_OK;
}

/* These two report the status of a host call that must fail, as a value. */
static glint_status call_host_unknown(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    *ret = glint_i32((int32_t)glint_call_host("no_such_host_fn", GLINT_TYPE_I32, NULL, 0));
    return GLINT_OK;
}

static glint_status call_host_wrong_types(const glint_value *args, uint32_t argc,
                                          glint_value *ret) {
    (void)args;
    (void)argc;
    *ret = glint_i32((int32_t)glint_call_host("host_add", GLINT_TYPE_I32, NULL, 1, glint_str("x")));
    return GLINT_OK;
}

/* ---- Logging and printing ---------------------------------------------------- */

static glint_status log_levels(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    GLINT_TRACE("level %d", GLINT_LOG_TRACE);
    GLINT_DEBUG("level %d", GLINT_LOG_DEBUG);
    GLINT_INFO("level %d", GLINT_LOG_INFO);
    GLINT_WARN("level %d", GLINT_LOG_WARN);
    GLINT_ERROR("level %d", GLINT_LOG_ERROR);
    return GLINT_OK;
}

static glint_status print_hello(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    printf("hello from guest %d\n", 42);
    return GLINT_OK;
}

/* ---- Faults ---------------------------------------------------------------------- */

/* The compiler must not see through these: each fault has to happen at run
 * time, exactly as written. */

static glint_status fault_ud2(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    __asm__ volatile("ud2");
    *ret = glint_i32(0);
    return GLINT_OK;
}

static glint_status fault_div0(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    volatile int32_t dividend = 1;
    volatile int32_t divisor = 0;
    *ret = glint_i32(dividend / divisor); /* #DE */
    return GLINT_OK;
}

static glint_status fault_null_read(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    /* A volatile pointer variable: the compiler cannot know it is NULL and
     * so cannot replace the load with a trap of its own. */
    const volatile int32_t *volatile pointer = NULL;
    *ret = glint_i32(*pointer); /* #PF at address 0 */
    return GLINT_OK;
}

static glint_status fault_int3(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    __asm__ volatile("int3");
    *ret = glint_i32(0);
    return GLINT_OK;
}

static glint_status fault_write_code(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    /* Rewrites a byte of this very function with its own value: a #PF if
     * text is read-only, and harmless if it is not (the test then fails
     * without the guest breaking). */
    volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)&fault_write_code;
    *code = *code;
    *ret = glint_i32(0);
    return GLINT_OK;
}

typedef void (*code_pointer)(void);

static glint_status fault_exec_heap(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    volatile uint8_t *block = malloc(64);
    if (block == NULL) {
        glint_set_error("fault_exec_heap: malloc(64) failed");
        return GLINT_E_OUT_OF_MEMORY;
    }
    block[0] = 0xC3; /* ret */
    code_pointer volatile function = (code_pointer)(uintptr_t)block;
    function(); /* #PF (instruction fetch) if the heap is not executable */
    *ret = glint_i32(0);
    return GLINT_OK;
}

/* Writable data, not text: executing it must fault. */
static uint8_t data_code[16] = {0xC3}; /* ret */

static glint_status fault_exec_data(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    code_pointer volatile function = (code_pointer)(uintptr_t)data_code;
    function(); /* #PF (instruction fetch) if data is not executable */
    *ret = glint_i32(0);
    return GLINT_OK;
}

/* Set to false by nobody: it only keeps the compiler from proving the
 * recursion infinite (and from warning about it). */
static volatile bool keep_recursing = true;

__attribute__((noinline)) static uint64_t recurse(uint64_t depth) {
    /* Every byte of the frame is written, so the frames walk down the stack
     * without skipping a page: the first access below the stack is in the
     * guard page. */
    volatile uint8_t frame[2048];
    for (size_t i = 0; i < sizeof frame; i++) frame[i] = (uint8_t)depth;
    if (!keep_recursing) return frame[depth % sizeof frame];
    /* Not a tail call: the result is used after the call returns. */
    return recurse(depth + 1) + frame[depth % sizeof frame];
}

static glint_status fault_stack_overflow(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    *ret = glint_i32((int32_t)recurse(0));
    return GLINT_OK;
}

static glint_status fault_abort(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    abort();
}

static glint_status fault_exit(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    exit(3);
}

static glint_status fault_glint_abort(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    glint_abort(7, "custom abort");
}

static glint_status fault_lidt(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    /* Guest code runs at CPL 3: LIDT is privileged (#GP), so a guest can
     * neither replace the host's IDT nor triple-fault the vCPU with it. */
    static const struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty_idt = {0, 0};
    __asm__ volatile("lidt %0\n\t"
                     "int3"
                     :
                     : "m"(empty_idt)
                     : "memory");
    *ret = glint_i32(0);
    return GLINT_OK;
}

static glint_status fault_bad_port(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    __asm__ volatile("outb %%al, $0x99" : : "a"((uint8_t)0) : "memory");
    *ret = glint_i32(0);
    return GLINT_OK;
}

static glint_status fault_in_port(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    uint8_t value;
    __asm__ volatile("inb $0xE0, %%al" : "=a"(value) : : "memory");
    *ret = glint_i32(value);
    return GLINT_OK;
}

static glint_status spin_forever(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    (void)ret;
    volatile uint64_t spins = 0;
    for (;;) spins++; /* until the host's deadline or kill stops the vCPU */
    return GLINT_OK;  /* not reached */
}

/* ---- Heap ---------------------------------------------------------------------------- */

static glint_status heap_exhaust(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    uint64_t total = 0;
    for (;;) {
        volatile uint8_t *block = malloc(4096);
        if (block == NULL) break;
        block[0] = 1; /* used, so the allocation cannot be optimised away */
        total += 4096;
    }
    *ret = glint_u64(total);
    return GLINT_OK;
}

/* ---- Registration ----------------------------------------------------------------------- */

void glint_main(void) {
    glint_register_function("echo_i32", echo, GLINT_TYPE_I32, 1, GLINT_TYPE_I32);
    glint_register_function("echo_u32", echo, GLINT_TYPE_U32, 1, GLINT_TYPE_U32);
    glint_register_function("echo_i64", echo, GLINT_TYPE_I64, 1, GLINT_TYPE_I64);
    glint_register_function("echo_u64", echo, GLINT_TYPE_U64, 1, GLINT_TYPE_U64);
    glint_register_function("echo_f32", echo, GLINT_TYPE_F32, 1, GLINT_TYPE_F32);
    glint_register_function("echo_f64", echo, GLINT_TYPE_F64, 1, GLINT_TYPE_F64);
    glint_register_function("echo_bool", echo, GLINT_TYPE_BOOL, 1, GLINT_TYPE_BOOL);
    glint_register_function("echo_string", echo, GLINT_TYPE_STRING, 1, GLINT_TYPE_STRING);
    glint_register_function("echo_bytes", echo, GLINT_TYPE_BYTES, 1, GLINT_TYPE_BYTES);

    glint_register_function("add_i32", add_i32, GLINT_TYPE_I32, 2, GLINT_TYPE_I32, GLINT_TYPE_I32);
    glint_register_function("void_fn", void_fn, GLINT_TYPE_VOID, 0);
    glint_register_function("counter_inc", counter_inc, GLINT_TYPE_I64, 0);
    glint_register_function("concat", concat, GLINT_TYPE_STRING, 2, GLINT_TYPE_STRING,
                            GLINT_TYPE_STRING);
    glint_register_function("make_bytes", make_bytes, GLINT_TYPE_BYTES, 1, GLINT_TYPE_U32);
    glint_register_function("sum_bytes", sum_bytes, GLINT_TYPE_U64, 1, GLINT_TYPE_BYTES);
    glint_type u64s[GLINT_MAX_ARGS];
    for (uint32_t i = 0; i < GLINT_MAX_ARGS; i++) u64s[i] = GLINT_TYPE_U64;
    glint_register_function_v("sum_args", sum_args, GLINT_TYPE_U64, GLINT_MAX_ARGS, u64s);
    glint_register_function("call_host_sum_args", call_host_sum_args, GLINT_TYPE_U64, 1,
                            GLINT_TYPE_U64);
    glint_register_function("bytes_tail", bytes_tail, GLINT_TYPE_U64, 1, GLINT_TYPE_BYTES);
    glint_register_function("guest_error", guest_error, GLINT_TYPE_I32, 1, GLINT_TYPE_STRING);

    glint_register_function("call_host_add", call_host_add, GLINT_TYPE_I32, 2, GLINT_TYPE_I32,
                            GLINT_TYPE_I32);
    glint_register_function("call_host_echo_i32", call_host_echo_i32, GLINT_TYPE_I32, 1,
                            GLINT_TYPE_I32);
    glint_register_function("call_host_echo_u32", call_host_echo_u32, GLINT_TYPE_U32, 1,
                            GLINT_TYPE_U32);
    glint_register_function("call_host_echo_i64", call_host_echo_i64, GLINT_TYPE_I64, 1,
                            GLINT_TYPE_I64);
    glint_register_function("call_host_echo_u64", call_host_echo_u64, GLINT_TYPE_U64, 1,
                            GLINT_TYPE_U64);
    glint_register_function("call_host_echo_f32", call_host_echo_f32, GLINT_TYPE_F32, 1,
                            GLINT_TYPE_F32);
    glint_register_function("call_host_echo_f64", call_host_echo_f64, GLINT_TYPE_F64, 1,
                            GLINT_TYPE_F64);
    glint_register_function("call_host_echo_bool", call_host_echo_bool, GLINT_TYPE_BOOL, 1,
                            GLINT_TYPE_BOOL);
    glint_register_function("call_host_echo_string", call_host_echo_string, GLINT_TYPE_STRING, 1,
                            GLINT_TYPE_STRING);
    glint_register_function("call_host_echo_bytes", call_host_echo_bytes, GLINT_TYPE_BYTES, 1,
                            GLINT_TYPE_BYTES);
    glint_register_function("call_host_fail", call_host_fail, GLINT_TYPE_I32, 0);
    glint_register_function("call_host_n", call_host_n, GLINT_TYPE_I64, 1, GLINT_TYPE_I32);
    glint_register_function("call_host_unknown", call_host_unknown, GLINT_TYPE_I32, 0);
    glint_register_function("call_host_wrong_types", call_host_wrong_types, GLINT_TYPE_I32, 0);

    glint_register_function("log_levels", log_levels, GLINT_TYPE_VOID, 0);
    glint_register_function("print_hello", print_hello, GLINT_TYPE_VOID, 0);

    glint_register_function("fault_ud2", fault_ud2, GLINT_TYPE_I32, 0);
    glint_register_function("fault_div0", fault_div0, GLINT_TYPE_I32, 0);
    glint_register_function("fault_null_read", fault_null_read, GLINT_TYPE_I32, 0);
    glint_register_function("fault_int3", fault_int3, GLINT_TYPE_I32, 0);
    glint_register_function("fault_write_code", fault_write_code, GLINT_TYPE_I32, 0);
    glint_register_function("fault_exec_heap", fault_exec_heap, GLINT_TYPE_I32, 0);
    glint_register_function("fault_exec_data", fault_exec_data, GLINT_TYPE_I32, 0);
    glint_register_function("fault_stack_overflow", fault_stack_overflow, GLINT_TYPE_I32, 0);
    glint_register_function("fault_abort", fault_abort, GLINT_TYPE_I32, 0);
    glint_register_function("fault_exit", fault_exit, GLINT_TYPE_I32, 0);
    glint_register_function("fault_glint_abort", fault_glint_abort, GLINT_TYPE_I32, 0);
    glint_register_function("fault_lidt", fault_lidt, GLINT_TYPE_I32, 0);
    glint_register_function("fault_bad_port", fault_bad_port, GLINT_TYPE_I32, 0);
    glint_register_function("fault_in_port", fault_in_port, GLINT_TYPE_I32, 0);
    glint_register_function("spin_forever", spin_forever, GLINT_TYPE_I32, 0);

    glint_register_function("heap_exhaust", heap_exhaust, GLINT_TYPE_U64, 0);
}
