/*
 * io.c - access to the message buffers, message formatting, and glint_abort.
 */
#include "runtime.h"

#include <stdio.h>
#include <string.h>

/* ---- Output buffer ------------------------------------------------------ */

bool glint_rt_output_begin(glint_writer *w) {
    uint8_t *msg;
    uint64_t avail;
    if (glint_stack_reserve(glint_rt_layout.output, glint_rt_layout.output_size, &msg, &avail) != 0)
        return false;
    glint_writer_init(w, msg, avail);
    return true;
}

bool glint_rt_output_commit(uint64_t len) {
    return len != 0 &&
           glint_stack_commit(glint_rt_layout.output, glint_rt_layout.output_size, len) == 0;
}

/* ---- Input buffer -------------------------------------------------------- */

uint64_t glint_rt_input_top(void) {
    return glint_stack_used(glint_rt_layout.input, glint_rt_layout.input_size);
}

void glint_rt_input_set_top(uint64_t top) {
    /* Only ever a value glint_rt_input_top returned, so always in bounds. */
    if (top >= GLINT_STACK_EMPTY && top <= glint_rt_layout.input_size)
        memcpy(glint_rt_layout.input, &top, sizeof top);
}

/* ---- Formatting --------------------------------------------------------------- */

static const char truncation_mark[] = "...";

static uint32_t mark_truncated(char *buf, size_t size) {
    memcpy(buf + size - sizeof truncation_mark, truncation_mark, sizeof truncation_mark);
    return (uint32_t)(size - 1u);
}

uint32_t glint_rt_vformat(char *buf, size_t size, const char *fmt, va_list ap) {
    if (fmt == NULL) fmt = "";
    const int n = vsnprintf(buf, size, fmt, ap);
    if (n < 0) {
        static const char failed[] = "(message formatting failed)";
        return glint_rt_copy_message(buf, size, failed, sizeof failed - 1u);
    }
    if ((size_t)n >= size) mark_truncated(buf, size);
    /* strlen, not n: a %c of 0 would put a NUL inside, which the wire format
     * forbids in strings. */
    return (uint32_t)strlen(buf);
}

uint32_t glint_rt_copy_message(char *buf, size_t size, const char *s, uint32_t len) {
    if (s == NULL) len = 0;
    if (len >= size) {
        memcpy(buf, s, size - 1u);
        buf[size - 1u] = '\0';
        mark_truncated(buf, size);
    } else {
        if (len != 0) memcpy(buf, s, len);
        buf[len] = '\0';
    }
    return (uint32_t)strlen(buf);
}

/* ---- Abort --------------------------------------------------------------------- */

void glint_abort(int32_t code, const char *fmt, ...) {
    /* Static, not on the stack: glint_abort may run with little stack left. */
    static char message[GLINT_ERROR_MESSAGE_MAX];
    /* Re-entry is not expected, but should formatting or pushing the
     * message ever lead back here, the second call only leaves the VM. */
    static bool aborting;

    if (!aborting) {
        aborting = true;
        va_list ap;
        va_start(ap, fmt);
        const uint32_t len = glint_rt_vformat(message, sizeof message, fmt, ap);
        va_end(ap);

        glint_writer w;
        if (glint_rt_output_begin(&w)) {
            uint64_t msg_len = glint_encode_abort(&w, code, message, len);
            if (msg_len == 0) {
                /* Too long for what is left of the output buffer: the code
                 * alone still tells the host what happened. */
                glint_rt_output_begin(&w);
                msg_len = glint_encode_abort(&w, code, "", 0);
            }
            /* If even that fails the host finds no ABORT message and reports
             * a protocol error, which is still a failed, poisoned call. */
            glint_rt_output_commit(msg_len);
        }
    }
    glint_rt_out(GLINT_PORT_ABORT);
    glint_rt_halt_forever();
}
