/*
 * libFuzzer target: the output-buffer parser on an arbitrary buffer, as the
 * host reads a guest's output buffer: glint_stack_peek/pop (the top and
 * back-pointers are the guest's), then glint_msg_open and the decoder the
 * message kind selects, until the stack is empty or refused.  Also pushes
 * onto the hostile buffer (glint_stack_reserve/commit), as the host does with
 * host-call replies on the input buffer.
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glint/wire.h"

static void check(int ok) {
    if (!ok) abort();
}

static void decode(const uint8_t *msg, uint64_t len) {
    glint_msg_kind kind;
    glint_reader body;
    if (!glint_msg_open(msg, len, &kind, &body)) return;
    switch (kind) {
    case GLINT_MSG_CALL: {
        static glint_call_view c;
        (void)glint_decode_call(&body, &c);
        break;
    }
    case GLINT_MSG_RESULT: {
        glint_value v;
        (void)glint_decode_result(&body, &v);
        break;
    }
    case GLINT_MSG_ERROR: {
        glint_error_view e;
        (void)glint_decode_error(&body, &e);
        break;
    }
    case GLINT_MSG_LOG: {
        glint_log_view l;
        (void)glint_decode_log(&body, &l);
        break;
    }
    case GLINT_MSG_PRINT: {
        const uint8_t *d;
        uint32_t n;
        (void)glint_decode_print(&body, &d, &n);
        break;
    }
    case GLINT_MSG_ABORT: {
        int32_t code;
        const char *m;
        uint32_t n;
        (void)glint_decode_abort(&body, &code, &m, &n);
        break;
    }
    case GLINT_MSG_FUNCTIONS: {
        uint32_t count;
        glint_function_view f;
        if (glint_decode_functions_count(&body, &count))
            for (uint32_t i = 0; i < count && glint_decode_function_next(&body, &f); i++) {}
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* An exactly-sized heap copy: ASan sees any access past the buffer. */
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL) return 0;
    memcpy(buf, data, size);
    uint64_t cap = size;

    uint64_t used = glint_stack_used(buf, cap);
    check(used == 0 || (used >= GLINT_STACK_EMPTY && used <= cap && used % 8 == 0));
    for (uint64_t i = 0; i <= cap / 8; i++) {
        const uint8_t *peeked, *msg;
        uint64_t plen, len;
        if (glint_stack_peek(buf, cap, &peeked, &plen) != 0) {
            check(glint_stack_pop(buf, cap, &msg, &len) != 0);
            break;
        }
        check(glint_stack_pop(buf, cap, &msg, &len) == 0);
        check(msg == peeked && len == plen);
        check(msg >= buf + GLINT_STACK_EMPTY && len <= cap && (uint64_t)(msg - buf) <= cap - len);
        decode(msg, len);
    }

    /* Pushing onto the same hostile buffer. */
    memcpy(buf, data, size);
    uint8_t *slot;
    uint64_t avail;
    if (glint_stack_reserve(buf, cap, &slot, &avail) == 0) {
        check(slot >= buf + GLINT_STACK_EMPTY && avail <= cap &&
              (uint64_t)(slot - buf) <= cap - avail);
        uint64_t want = size >= 16 ? (data[size - 1] | (uint64_t)data[size - 2] << 8) : avail;
        if (want > avail) want = avail;
        memset(slot, 0x5A, want);
        if (glint_stack_commit(buf, cap, want) == 0) {
            const uint8_t *msg;
            uint64_t len;
            check(glint_stack_pop(buf, cap, &msg, &len) == 0 && msg == slot && len >= want &&
                  len < want + 8);
        }
    }
    free(buf);
    return 0;
}
