/*
 * hostcall.c - calling functions the host registered.
 *
 * The guest pushes a CALL on the output buffer and OUTs to
 * GLINT_PORT_HOST_CALL.  The host pops it, runs the function during that
 * exit, pushes RESULT or ERROR on the input buffer and resumes the guest,
 * which pops the reply.
 *
 * The host function may call guest functions of this sandbox (nested
 * calls): for each, the host pushes a CALL on the input buffer and resumes
 * the guest instead of replying.  The guest runs it (dispatch.c), reports
 * DONE, and waits again; the reply comes when the host function returns.
 */
#include "runtime.h"

#include <string.h>

static char host_error_message[GLINT_ERROR_MESSAGE_MAX];

void glint_rt_host_error_reset(void) { host_error_message[0] = '\0'; }

const char *glint_host_error(void) { return host_error_message; }

static glint_status fail(glint_status status, const char *fmt, ...) GLINT_PRINTF_LIKE(2, 3);
static glint_status fail(glint_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    glint_rt_vformat(host_error_message, sizeof host_error_message, fmt, ap);
    va_end(ap);
    return status;
}

/* Checks what glint_encode_call would silently refuse, so that the caller
 * learns which argument is wrong. */
static glint_status check_arguments(const char *name, const glint_value *args, uint32_t argc) {
    for (uint32_t i = 0; i < argc; i++) {
        const glint_value *v = &args[i];
        if (!glint_type_valid_param((int)v->type))
            return fail(GLINT_E_INVALID_ARGUMENT, "host call '%s': argument %u has invalid type %d",
                        name, i + 1u, (int)v->type);
        if (v->type == GLINT_TYPE_STRING && v->as.str.len != 0 &&
            (v->as.str.ptr == NULL || memchr(v->as.str.ptr, '\0', v->as.str.len) != NULL))
            return fail(GLINT_E_INVALID_ARGUMENT,
                        "host call '%s': argument %u is a string with a NUL inside or a NULL "
                        "pointer",
                        name, i + 1u);
        if (v->type == GLINT_TYPE_BYTES && v->as.bytes.len != 0 && v->as.bytes.ptr == NULL)
            return fail(GLINT_E_INVALID_ARGUMENT, "host call '%s': argument %u is NULL bytes", name,
                        i + 1u);
    }
    return GLINT_OK;
}

/* True when the top of the input stack is a CALL: the host calls back into
 * the guest before replying. */
static bool nested_call_pending(void) {
    const uint8_t *msg;
    uint64_t msg_len;
    glint_msg_kind kind;
    glint_reader body;
    return glint_stack_peek(glint_rt_layout.input, glint_rt_layout.input_size, &msg, &msg_len) ==
               0 &&
           glint_msg_open(msg, msg_len, &kind, &body) && kind == GLINT_MSG_CALL;
}

/* Reads the host's reply from the top of the input stack. */
static glint_status read_reply(const char *name, glint_type ret, glint_value *result) {
    const uint8_t *msg;
    uint64_t msg_len;
    glint_msg_kind kind;
    glint_reader body;
    if (glint_stack_pop(glint_rt_layout.input, glint_rt_layout.input_size, &msg, &msg_len) != 0 ||
        !glint_msg_open(msg, msg_len, &kind, &body))
        return fail(GLINT_E_PROTOCOL, "host call '%s': no readable reply on the input buffer",
                    name);

    if (kind == GLINT_MSG_ERROR) {
        glint_error_view error;
        if (!glint_decode_error(&body, &error))
            return fail(GLINT_E_PROTOCOL, "host call '%s': malformed ERROR reply", name);
        glint_rt_copy_message(host_error_message, sizeof host_error_message, error.message,
                              error.message_len);
        /* An ERROR claiming success would leave the caller with no value. */
        if (error.code == GLINT_OK)
            return fail(GLINT_E_PROTOCOL, "host call '%s': ERROR reply with code 0", name);
        return (glint_status)error.code;
    }
    if (kind != GLINT_MSG_RESULT)
        return fail(GLINT_E_PROTOCOL, "host call '%s': unexpected reply (message kind %d)", name,
                    (int)kind);

    glint_value value;
    if (!glint_decode_result(&body, &value))
        return fail(GLINT_E_PROTOCOL, "host call '%s': malformed RESULT reply", name);
    if (value.type != ret)
        return fail(GLINT_E_RETURN_TYPE, "host call '%s' returned %s, expected %s", name,
                    glint_type_name((int)value.type), glint_type_name((int)ret));
    if (result != NULL) *result = value;
    return GLINT_OK;
}

glint_status glint_call_host_v(const char *name, glint_type ret, const glint_value *args,
                               uint32_t argc, glint_value *result) {
    glint_rt_host_error_reset();
    if (result != NULL) {
        memset(result, 0, sizeof *result);
        result->type = GLINT_TYPE_VOID;
    }

    uint32_t name_len = 0;
    if (name == NULL) return fail(GLINT_E_INVALID_ARGUMENT, "host call: NULL function name");
    while (name[name_len] != '\0' && name_len <= GLINT_MAX_NAME_LEN) name_len++;
    if (name_len == 0 || name_len > GLINT_MAX_NAME_LEN)
        return fail(GLINT_E_INVALID_ARGUMENT, "host call: the function name must be 1 to %u bytes",
                    GLINT_MAX_NAME_LEN);
    if (!glint_type_valid_return((int)ret))
        return fail(GLINT_E_INVALID_ARGUMENT, "host call '%s': invalid return type %d", name,
                    (int)ret);
    if (argc > GLINT_MAX_ARGS)
        return fail(GLINT_E_INVALID_ARGUMENT, "host call '%s': %u arguments, at most %u allowed",
                    name, argc, GLINT_MAX_ARGS);
    if (argc != 0 && args == NULL)
        return fail(GLINT_E_INVALID_ARGUMENT, "host call '%s': NULL argument array", name);
    const glint_status bad_arguments = check_arguments(name, args, argc);
    if (bad_arguments != GLINT_OK) return bad_arguments;

    glint_writer w;
    if (!glint_rt_output_begin(&w))
        return fail(GLINT_E_PROTOCOL, "host call '%s': the output buffer is unusable", name);
    const uint64_t room = w.cap;
    if (!glint_rt_output_commit(glint_encode_call(&w, name, ret, args, argc)))
        return fail(GLINT_E_ARGS_TOO_BIG,
                    "host call '%s': the arguments do not fit the output buffer (%llu bytes free)",
                    name, (unsigned long long)room);

    /* Whatever the host pushes, the input stack goes back to where it was
     * (with the current guest call's CALL message, see dispatch.c). */
    const uint64_t input_top = glint_rt_input_top();
    glint_rt_out(GLINT_PORT_HOST_CALL);
    while (nested_call_pending()) {
        glint_rt_dispatch_nested();
        glint_rt_out(GLINT_PORT_DONE);
    }
    glint_rt_host_error_reset(); /* whatever the nested calls left */
    const glint_status status = read_reply(name, ret, result);
    glint_rt_input_set_top(input_top);
    return status;
}

glint_status glint_call_host(const char *name, glint_type ret, glint_value *result, uint32_t argc,
                             ...) {
    glint_value args[GLINT_MAX_ARGS];
    if (argc > GLINT_MAX_ARGS) /* let the _v variant report it; read no varargs */
        return glint_call_host_v(name, ret, NULL, argc, result);
    va_list ap;
    va_start(ap, argc);
    for (uint32_t i = 0; i < argc; i++) args[i] = va_arg(ap, glint_value);
    va_end(ap);
    return glint_call_host_v(name, ret, args, argc, result);
}
