/*
 * dispatch.c - the function registry, the FUNCTIONS report, and the per-call
 * dispatcher.
 *
 * A call travels as follows: the host pushes a CALL on the input buffer and
 * resumes the guest after its OUT to GLINT_PORT_DONE; entry.asm calls
 * glint_rt_dispatch on a fresh stack; the dispatcher decodes and checks the
 * call, runs the function, pushes RESULT or ERROR on the output buffer and
 * returns to entry.asm, which OUTs DONE again.
 *
 * Nested calls: a host function may call back into this guest while the
 * guest waits for its reply.  The host then pushes a CALL instead of the
 * reply; hostcall.c hands it to glint_rt_dispatch_nested, which runs it on
 * the current stack (below the waiting function's frames) exactly like a
 * call, and OUTs DONE; then the guest waits for the reply again.  The
 * waiting call's own CALL message and arguments stay below on the input
 * stack, and its error message (glint_set_error) is kept aside.
 */
#include "runtime.h"

#include <stdio.h>
#include <string.h>

/* ---- Registry ------------------------------------------------------------ */

struct registered_function {
    char name[GLINT_MAX_NAME_LEN + 1u];
    uint32_t name_len;
    glint_guest_fn fn;
    glint_type ret;
    uint32_t argc;
    glint_type params[GLINT_MAX_ARGS];
};

/* Static and fixed-size: registration needs no heap, so it cannot fail for
 * lack of memory and leaves all of the heap to the guest. */
static struct registered_function registry[GLINT_MAX_FUNCTIONS];
static uint32_t registry_count;
/* Set once the FUNCTIONS message is out: the host knows no later names. */
static bool registry_closed;

/* First registration failure, reported (as an abort) at the end of init. */
static glint_status registration_failure;
static char registration_failure_message[GLINT_ERROR_MESSAGE_MAX];

static void note_registration_failure(glint_status status, const char *fmt, ...)
    GLINT_PRINTF_LIKE(2, 3);
static void note_registration_failure(glint_status status, const char *fmt, ...) {
    if (registration_failure != GLINT_OK) return; /* keep the first one */
    registration_failure = status;
    va_list ap;
    va_start(ap, fmt);
    glint_rt_vformat(registration_failure_message, sizeof registration_failure_message, fmt, ap);
    va_end(ap);
}

/* Length of a valid name (1..GLINT_MAX_NAME_LEN bytes), else 0. */
static uint32_t checked_name_length(const char *name) {
    if (name == NULL) return 0;
    uint32_t len = 0;
    while (name[len] != '\0') {
        if (++len > GLINT_MAX_NAME_LEN) return 0;
    }
    return len;
}

static const struct registered_function *find_function(const char *name, uint32_t name_len) {
    for (uint32_t i = 0; i < registry_count; i++) {
        if (registry[i].name_len == name_len && memcmp(registry[i].name, name, name_len) == 0)
            return &registry[i];
    }
    return NULL;
}

glint_status glint_register_function_v(const char *name, glint_guest_fn fn, glint_type ret,
                                       uint32_t argc, const glint_type *params) {
    const char *shown = name != NULL ? name : "(null)";
    const uint32_t name_len = checked_name_length(name);

    if (registry_closed) {
        /* Not an init failure: init is over, so just refuse. */
        return GLINT_E_STATE;
    }
    if (name_len == 0) {
        note_registration_failure(GLINT_E_INVALID_ARGUMENT,
                                  "cannot register function '%.*s': the name must be 1 to %u bytes",
                                  (int)GLINT_MAX_NAME_LEN, shown, GLINT_MAX_NAME_LEN);
        return GLINT_E_INVALID_ARGUMENT;
    }
    if (fn == NULL || !glint_type_valid_return((int)ret) || argc > GLINT_MAX_ARGS ||
        (argc != 0 && params == NULL)) {
        note_registration_failure(GLINT_E_INVALID_ARGUMENT, "cannot register function '%s': %s",
                                  name,
                                  fn == NULL                           ? "NULL function pointer"
                                  : !glint_type_valid_return((int)ret) ? "invalid return type"
                                  : argc > GLINT_MAX_ARGS ? "more than GLINT_MAX_ARGS parameters"
                                                          : "NULL parameter type array");
        return GLINT_E_INVALID_ARGUMENT;
    }
    for (uint32_t i = 0; i < argc; i++) {
        if (!glint_type_valid_param((int)params[i])) {
            note_registration_failure(GLINT_E_INVALID_ARGUMENT,
                                      "cannot register function '%s': parameter %u has invalid "
                                      "type %d",
                                      name, i + 1u, (int)params[i]);
            return GLINT_E_INVALID_ARGUMENT;
        }
    }
    if (find_function(name, name_len) != NULL) {
        note_registration_failure(GLINT_E_EXISTS,
                                  "cannot register function '%s': already registered", name);
        return GLINT_E_EXISTS;
    }
    if (registry_count == GLINT_MAX_FUNCTIONS) {
        note_registration_failure(GLINT_E_TOO_BIG,
                                  "cannot register function '%s': already %u functions (the "
                                  "maximum)",
                                  name, GLINT_MAX_FUNCTIONS);
        return GLINT_E_TOO_BIG;
    }

    struct registered_function *entry = &registry[registry_count];
    memcpy(entry->name, name, name_len + 1u);
    entry->name_len = name_len;
    entry->fn = fn;
    entry->ret = ret;
    entry->argc = argc;
    for (uint32_t i = 0; i < argc; i++) entry->params[i] = params[i];
    registry_count++;
    return GLINT_OK;
}

glint_status glint_register_function(const char *name, glint_guest_fn fn, glint_type ret,
                                     uint32_t argc, ...) {
    glint_type params[GLINT_MAX_ARGS];
    if (argc > GLINT_MAX_ARGS) /* let the _v variant report it; read no varargs */
        return glint_register_function_v(name, fn, ret, argc, NULL);
    va_list ap;
    va_start(ap, argc);
    /* An enum argument is passed as int (default promotion). */
    for (uint32_t i = 0; i < argc; i++) params[i] = (glint_type)va_arg(ap, int);
    va_end(ap);
    return glint_register_function_v(name, fn, ret, argc, params);
}

void glint_rt_publish_functions(void) {
    if (registration_failure != GLINT_OK)
        glint_abort(registration_failure, "%s", registration_failure_message);

    glint_writer w;
    if (!glint_rt_output_begin(&w))
        glint_abort(GLINT_E_PROTOCOL, "the output buffer is unusable at initialisation");
    const uint64_t room = w.cap;
    glint_msg_begin(&w, GLINT_MSG_FUNCTIONS);
    glint_put_u32(&w, registry_count);
    for (uint32_t i = 0; i < registry_count; i++) {
        const struct registered_function *f = &registry[i];
        glint_put_function(&w, f->name, f->ret, f->params, f->argc);
    }
    if (!glint_rt_output_commit(glint_msg_end(&w))) {
        glint_abort(GLINT_E_TOO_BIG,
                    "the table of %u guest functions does not fit the output buffer (%llu bytes "
                    "free); enlarge the output buffer or register fewer functions",
                    registry_count, (unsigned long long)room);
    }
    registry_closed = true;
}

/* ---- Per-call error message ------------------------------------------------- */

static char call_error_message[GLINT_ERROR_MESSAGE_MAX];
static uint32_t call_error_message_len;
static bool call_error_message_set;

void glint_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    call_error_message_len =
        glint_rt_vformat(call_error_message, sizeof call_error_message, fmt, ap);
    va_end(ap);
    call_error_message_set = true;
}

/* ---- Dispatch -------------------------------------------------------------------- */

/* Pushes ERROR(code, text).  A text too long for the space left is cut
 * down until it fits: the code always gets through. */
static void push_error_text(glint_status code, const char *text, uint32_t len) {
    for (;;) {
        glint_writer w;
        if (!glint_rt_output_begin(&w)) return; /* the host reports the missing reply */
        if (glint_rt_output_commit(glint_encode_error(&w, (uint32_t)code, text, len))) return;
        if (len == 0) return;
        len /= 2u;
    }
}

/* Pushes ERROR(code, formatted message) for failures the dispatcher finds. */
static void push_error(glint_status code, const char *fmt, ...) GLINT_PRINTF_LIKE(2, 3);
static void push_error(glint_status code, const char *fmt, ...) {
    static char message[GLINT_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    const uint32_t len = glint_rt_vformat(message, sizeof message, fmt, ap);
    va_end(ap);
    push_error_text(code, message, len);
}

/* A string or bytes value the encoder can send; anything else is a bug in
 * the guest function. */
static bool result_is_well_formed(const glint_value *v) {
    switch (v->type) {
    case GLINT_TYPE_STRING:
        return v->as.str.len == 0 ||
               (v->as.str.ptr != NULL && memchr(v->as.str.ptr, '\0', v->as.str.len) == NULL);
    case GLINT_TYPE_BYTES: return v->as.bytes.len == 0 || v->as.bytes.ptr != NULL;
    default: return true;
    }
}

static void run_call(const glint_call_view *call) {
    const struct registered_function *f = find_function(call->name, call->name_len);
    if (f == NULL) {
        push_error(GLINT_E_FUNCTION_NOT_FOUND, "guest function '%s' not found", call->name);
        return;
    }
    if (call->argc != f->argc) {
        push_error(GLINT_E_PARAMETER_COUNT, "guest function '%s' takes %u parameters, got %u",
                   f->name, f->argc, call->argc);
        return;
    }
    for (uint32_t i = 0; i < f->argc; i++) {
        if (call->args[i].type != f->params[i]) {
            push_error(GLINT_E_PARAMETER_TYPE,
                       "guest function '%s' parameter %u: expected %s, got %s", f->name, i + 1u,
                       glint_type_name((int)f->params[i]),
                       glint_type_name((int)call->args[i].type));
            return;
        }
    }
    if (call->ret != f->ret) {
        push_error(GLINT_E_RETURN_TYPE, "guest function '%s' returns %s, caller expects %s",
                   f->name, glint_type_name((int)f->ret), glint_type_name((int)call->ret));
        return;
    }

    glint_value result;
    memset(&result, 0, sizeof result);
    result.type = f->ret;
    const glint_status status = f->fn(call->args, call->argc, &result);

    /* Output printed without a newline reaches the host before the reply. */
    fflush(stdout);
    fflush(stderr);

    if (status != GLINT_OK) {
        if (call_error_message_set) {
            push_error_text(status, call_error_message, call_error_message_len);
        } else {
            const char *description = glint_status_describe((int)status);
            push_error_text(status, description, (uint32_t)strlen(description));
        }
        return;
    }
    if (result.type != f->ret) {
        push_error(GLINT_E_RETURN_TYPE, "guest function '%s' returned %s, declared %s", f->name,
                   glint_type_name((int)result.type), glint_type_name((int)f->ret));
        return;
    }
    if (!result_is_well_formed(&result)) {
        push_error(GLINT_E_GUEST_ERROR,
                   "guest function '%s' returned an invalid %s (NULL pointer or NUL inside)",
                   f->name, glint_type_name((int)result.type));
        return;
    }
    glint_writer w;
    if (!glint_rt_output_begin(&w)) return;
    if (glint_rt_output_commit(glint_encode_result(&w, &result))) return;
    /* Never truncate a result: say it did not fit. */
    const uint32_t size = result.type == GLINT_TYPE_STRING  ? result.as.str.len
                          : result.type == GLINT_TYPE_BYTES ? result.as.bytes.len
                                                            : 0u;
    push_error(GLINT_E_RESULT_TOO_BIG,
               "result of guest function '%s' (%u bytes of %s) does not fit the output buffer "
               "(%llu bytes free)",
               f->name, size, glint_type_name((int)result.type), (unsigned long long)w.cap);
}

static void dispatch(glint_call_view *call) {
    call_error_message_set = false;
    call_error_message_len = 0;
    call_error_message[0] = '\0';
    glint_rt_host_error_reset();

    const uint64_t top_with_call = glint_rt_input_top();
    const uint8_t *msg;
    uint64_t msg_len;
    if (glint_stack_pop(glint_rt_layout.input, glint_rt_layout.input_size, &msg, &msg_len) != 0) {
        push_error(GLINT_E_PROTOCOL, "no call message on the input buffer");
        return;
    }
    const uint64_t top_without_call = glint_rt_input_top();

    glint_msg_kind kind;
    glint_reader body;
    if (!glint_msg_open(msg, msg_len, &kind, &body) || kind != GLINT_MSG_CALL ||
        !glint_decode_call(&body, call)) {
        push_error(GLINT_E_PROTOCOL, "malformed call message on the input buffer");
        return;
    }

    /* Keep the CALL on the input stack while the function runs: replies to
     * its host calls (and nested calls) are pushed above it, so its string
     * and bytes arguments stay intact until it returns. */
    glint_rt_input_set_top(top_with_call);
    run_call(call);
    glint_rt_input_set_top(top_without_call);
}

void glint_rt_dispatch(void) {
    /* The call view is large (GLINT_MAX_ARGS values); static keeps the
     * guest function's stack budget intact.  Nested calls use their own. */
    static glint_call_view call;
    dispatch(&call);
}

/* A nested call while the outer call has an error message set: the message
 * is put aside (4 KiB of stack, only on this path) and back afterwards. */
__attribute__((noinline)) static void dispatch_nested_keeping_message(void) {
    char saved[GLINT_ERROR_MESSAGE_MAX];
    const uint32_t saved_len = call_error_message_len;
    memcpy(saved, call_error_message, saved_len + 1u);
    glint_call_view call;
    dispatch(&call);
    memcpy(call_error_message, saved, saved_len + 1u);
    call_error_message_len = saved_len;
    call_error_message_set = true;
}

void glint_rt_dispatch_nested(void) {
    if (call_error_message_set) {
        dispatch_nested_keeping_message();
        return;
    }
    glint_call_view call;
    dispatch(&call);
    call_error_message_set = false;
    call_error_message_len = 0;
    call_error_message[0] = '\0';
}
