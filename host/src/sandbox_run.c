/*
 * sandbox_run.c - the run loop and the host side of the call protocol:
 * KVM exits, the protocol ports (DONE, host calls, logs, prints, aborts,
 * exceptions), guest calls and the function table a guest reports at
 * initialisation.
 *
 * Hot path (glint_sandbox_call): encode the call into the input buffer, one
 * KVM_RUN per exit, decode in place.  No allocation, no syscall besides
 * KVM_RUN unless a deadline is configured (two timer syscalls).  Everything
 * read from the buffers was written by the guest: the wire decoder checks
 * every length and offset (common/src/wire.c).
 *
 * Nested calls: a host function may call guest functions of its own
 * sandbox.  The guest is then stopped in the OUT of its host call; the
 * nested CALL is pushed on the input stack above what is there (the waiting
 * call's CALL) and the vCPU resumed: the guest runtime runs it, pushes its
 * RESULT and OUTs DONE, which ends the nested run loop.  When the host
 * function returns, its reply goes on the input stack as usual and the
 * outer run loop resumes the guest.  If anything on the way poisoned the
 * sandbox, the guest is not resumed at any depth: each level returns the
 * poisoning error.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "sandbox_internal.h"

/* ---- Protocol helpers ---------------------------------------------------- */

static glint_status pop_output(glint_sandbox *sb, glint_msg_kind *kind, glint_reader *body) {
    const uint8_t *msg;
    uint64_t len;
    if (glint_stack_pop(sb->output, sb->layout.output_size, &msg, &len) != 0)
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL,
                                    "output buffer corrupt: top or back-pointer out of range");
    if (!glint_msg_open(msg, len, kind, body))
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL,
                                    "malformed message header in output buffer");
    return GLINT_OK;
}

static bool signature_matches(const glint_type *params, uint32_t argc, const glint_value *args,
                              uint32_t *bad) {
    for (uint32_t i = 0; i < argc; i++) {
        if (args[i].type != params[i]) {
            *bad = i;
            return false;
        }
    }
    return true;
}

/* The guest filled the input stack (host-call replies it never popped) or
 * corrupted its top: no room for a reply. */
static glint_status fail_input_full(glint_sandbox *sb) {
    uint64_t top;
    memcpy(&top, sb->input, sizeof top);
    return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL,
                                "input buffer full or corrupt (top 0x%" PRIx64 " of %" PRIu64
                                " bytes): no room for the reply to a host call",
                                top, sb->layout.input_size);
}

/* Pushes ERROR(code, message) for the guest onto the input buffer. */
static glint_status push_input_error(glint_sandbox *sb, uint32_t code, const char *message) {
    uint8_t *slot;
    uint64_t avail;
    glint_writer w;
    if (glint_stack_reserve(sb->input, sb->layout.input_size, &slot, &avail) != 0)
        return fail_input_full(sb);
    glint_writer_init(&w, slot, avail);
    size_t mlen = strnlen(message, GLINT_HOST_ERROR_SIZE);
    uint64_t n = glint_encode_error(&w, code, message, (uint32_t)mlen);
    if (n == 0 || glint_stack_commit(sb->input, sb->layout.input_size, n) != 0)
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL,
                                    "input buffer has no room for a host result");
    return GLINT_OK;
}

static glint_status handle_host_call(glint_sandbox *sb, glint_reader *body) {
    glint_call_view call;
    char msg[GLINT_HOST_ERROR_SIZE];
    if (!glint_decode_call(body, &call))
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed host-call message from guest");
    sb->counters.host_calls++;
    glint_host_function *f =
        glint_host_function_find(&sb->host_functions, call.name, call.name_len);
    if (f == NULL) {
        snprintf(msg, sizeof msg, "host function '%s' not found", call.name);
        return push_input_error(sb, GLINT_E_FUNCTION_NOT_FOUND, msg);
    }
    uint32_t bad;
    if (call.argc != f->argc) {
        snprintf(msg, sizeof msg, "host function '%s' takes %u arguments, got %u", f->name, f->argc,
                 call.argc);
        return push_input_error(sb, GLINT_E_PARAMETER_COUNT, msg);
    }
    if (!signature_matches(f->params, f->argc, call.args, &bad)) {
        snprintf(msg, sizeof msg, "host function '%s' argument %u must be %s, got %s", f->name, bad,
                 glint_type_name((int)f->params[bad]), glint_type_name((int)call.args[bad].type));
        return push_input_error(sb, GLINT_E_PARAMETER_TYPE, msg);
    }
    if (call.ret != f->ret) {
        snprintf(msg, sizeof msg, "host function '%s' returns %s, guest expects %s", f->name,
                 glint_type_name((int)f->ret), glint_type_name((int)call.ret));
        return push_input_error(sb, GLINT_E_RETURN_TYPE, msg);
    }

    glint_value ret;
    memset(&ret, 0, sizeof ret);
    ret.type = f->ret;
    /* Per host call, not per sandbox: a nested call may run other host
     * functions before this one sets its error message. */
    struct glint_host_call hc = {.sandbox = sb, .has_message = false};
    GLINT_TRACE_HOST_CALL_START(sb, f->name, call.argc);
    sb->host_call_depth++;
    glint_status st = f->fn(&hc, f->user, call.args, call.argc, &ret);
    sb->host_call_depth--;
    GLINT_TRACE_HOST_CALL_END(sb, f->name, st);
    /* A nested call poisoned the sandbox (abort, fault, kill, deadline):
     * the guest is not resumed, whatever the host function returned. */
    if (sb->poisoned) return sb->last_error.code;
    if (st != GLINT_OK) {
        if (!hc.has_message)
            snprintf(hc.message, sizeof hc.message, "host function '%s' failed: %s", f->name,
                     glint_status_describe(st));
        return push_input_error(sb, (uint32_t)st, hc.message);
    }
    if (ret.type != f->ret) {
        snprintf(msg, sizeof msg, "host function '%s' returned %s instead of %s", f->name,
                 glint_type_name((int)ret.type), glint_type_name((int)f->ret));
        return push_input_error(sb, GLINT_E_HOST_FUNCTION_ERROR, msg);
    }
    uint8_t *slot;
    uint64_t avail;
    glint_writer w;
    if (glint_stack_reserve(sb->input, sb->layout.input_size, &slot, &avail) != 0)
        return fail_input_full(sb);
    glint_writer_init(&w, slot, avail);
    uint64_t n = glint_encode_result(&w, &ret);
    if (n == 0) {
        snprintf(msg, sizeof msg,
                 "host function '%s' result does not fit the input buffer "
                 "(or is an invalid value)",
                 f->name);
        return push_input_error(sb, GLINT_E_RESULT_TOO_BIG, msg);
    }
    if (glint_stack_commit(sb->input, sb->layout.input_size, n) != 0)
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "input buffer corrupt on commit");
    return GLINT_OK;
}

static glint_status handle_log(glint_sandbox *sb, glint_reader *body) {
    glint_log_view log;
    if (!glint_decode_log(body, &log) || log.level > GLINT_LOG_ERROR)
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed log record from guest");
    if (sb->cfg.log_fn != NULL && log.level >= (uint32_t)sb->cfg.log_level)
        sb->cfg.log_fn(sb->cfg.callback_user, (glint_log_level)log.level, log.file, log.line,
                       log.message, log.message_len);
    return GLINT_OK;
}

static glint_status handle_print(glint_sandbox *sb, glint_reader *body) {
    const uint8_t *data;
    uint32_t len;
    if (!glint_decode_print(body, &data, &len))
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed print message from guest");
    if (sb->cfg.print_fn != NULL && len != 0)
        sb->cfg.print_fn(sb->cfg.callback_user, (const char *)data, len);
    return GLINT_OK;
}

static glint_status handle_abort(glint_sandbox *sb) {
    glint_msg_kind kind;
    glint_reader body;
    int32_t code;
    const char *text;
    uint32_t text_len;
    glint_status st = pop_output(sb, &kind, &body);
    if (st != GLINT_OK) return st;
    if (kind != GLINT_MSG_ABORT || !glint_decode_abort(&body, &code, &text, &text_len))
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed abort message from guest");
    glint_sb_fail(sb, GLINT_E_GUEST_ABORT, "guest aborted with code %d: %.*s", code, (int)text_len,
                  text);
    sb->last_error.guest_code = code;
    glint_sb_crash_report(sb, NULL, SIGABRT, true);
    return glint_sb_poison(sb);
}

static uint64_t guest_rip(glint_sandbox *sb);

static glint_status handle_exception(glint_sandbox *sb) {
    /* Only the host's stubs (CPL 0) write the record and OUT here.  The
     * TSS's I/O bitmap already keeps guest code off this port; checking
     * where the OUT came from keeps a forged report out even on a KVM that
     * got the bitmap wrong. */
    uint64_t out_rip = guest_rip(sb);
    if (!glint_cpu_rip_in_exception_code(sb->layout.exception_code_gpa, out_rip))
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL,
                                    "guest code wrote to the exception port 0x%x at RIP 0x%" PRIx64
                                    " (only the host's exception stubs report exceptions)",
                                    GLINT_PORT_EXCEPTION, out_rip);
    glint_exception_record rec;
    if (!glint_gmem_read(&sb->gmem, sb->layout.metadata_gpa, &rec, sizeof rec))
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "exception record unreadable");
    if (sb->debug != NULL) {
        /* A debugger's breakpoint or single step: served, and the guest goes on. */
        bool resumed;
        glint_status st = glint_debug_exception(sb, &rec, &resumed);
        if (st != GLINT_OK || resumed) return st;
    }
    const glint_layout_info *l = &sb->layout;
    bool overflow =
        rec.vector == 14 && rec.cr2 >= l->stack_gpa - GLINT_PAGE && rec.cr2 < l->stack_gpa;
    if (overflow)
        glint_sb_fail(sb, GLINT_E_STACK_OVERFLOW,
                      "guest stack overflow: page fault at 0x%" PRIx64
                      " (guard page below the %" PRIu64 "-byte stack), RIP 0x%" PRIx64,
                      rec.cr2, l->stack_size, rec.rip);
    else if (rec.vector == 14 && rec.rip == 0 && rec.cr2 == 0)
        /* PVM does not honour EFER.SCE: a guest SYSCALL jumps to LSTAR (0,
         * never mapped) at CPL 3 instead of raising #UD.  The instruction
         * after it is in RCX. */
        glint_sb_fail(
            sb, GLINT_E_GUEST_FAULT,
            "guest page fault (instruction fetch) at RIP 0x0, error code 0x%" PRIx64
            ": a jump to address 0, or a SYSCALL on a KVM that ignores EFER.SCE (then the "
            "instruction after it is at RCX 0x%" PRIx64 ")",
            rec.error_code, rec.rcx);
    else if (rec.vector == 14)
        glint_sb_fail(sb, GLINT_E_GUEST_FAULT,
                      "guest page fault (%s %s) at 0x%" PRIx64 ", RIP 0x%" PRIx64
                      ", error code 0x%" PRIx64,
                      (rec.error_code & 0x10) ? "instruction fetch"
                      : (rec.error_code & 2)  ? "write"
                                              : "read",
                      (rec.error_code & 1) ? "protection violation" : "not present", rec.cr2,
                      rec.rip, rec.error_code);
    else
        glint_sb_fail(sb, GLINT_E_GUEST_FAULT,
                      "guest CPU exception %s (vector %" PRIu64 ") at RIP 0x%" PRIx64
                      ", error code 0x%" PRIx64 "%s",
                      glint_cpu_vector_name(rec.vector), rec.vector, rec.rip, rec.error_code,
                      (rec.cs & 3u) == 0 ? " in the host's exception code (CPL 0)" : "");
    glint_error *e = &sb->last_error;
    e->has_fault = true;
    e->vector = (uint32_t)rec.vector;
    e->rip = rec.rip;
    e->cr2 = rec.cr2;
    e->error_code = rec.error_code;
    glint_regs regs;
    glint_regs_from_record(&rec, &regs);
    glint_sb_crash_report(sb, &regs, glint_signal_for_vector(rec.vector), true);
    return glint_sb_poison(sb);
}

/* Handles one protocol OUT; returns GLINT_OK to keep running, or sets *done. */
static glint_status handle_port(glint_sandbox *sb, const glint_exit *ex, bool *done) {
    glint_msg_kind kind;
    glint_reader body;
    glint_status st;
    switch (ex->port) {
    case GLINT_PORT_DONE: *done = true; return GLINT_OK;
    case GLINT_PORT_ABORT: return handle_abort(sb);
    case GLINT_PORT_EXCEPTION: return handle_exception(sb);
    default: break;
    }
    if ((st = pop_output(sb, &kind, &body)) != GLINT_OK) return st;
    switch (ex->port) {
    case GLINT_PORT_HOST_CALL:
        if (kind != GLINT_MSG_CALL) break;
        return handle_host_call(sb, &body);
    case GLINT_PORT_LOG:
        if (kind != GLINT_MSG_LOG) break;
        return handle_log(sb, &body);
    case GLINT_PORT_PRINT:
        if (kind != GLINT_MSG_PRINT) break;
        return handle_print(sb, &body);
    default: break;
    }
    return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "message kind %d does not match port 0x%x",
                                (int)kind, ex->port);
}

static uint64_t guest_rip(glint_sandbox *sb) {
    uint64_t rip = 0;
    if (sb->hv_ops->get_rip(sb->hv, &rip, NULL) != GLINT_OK) return 0;
    return rip;
}

static glint_status fail_cancelled(glint_sandbox *sb) {
    sb->pending_io = true;
    return glint_sb_fail_poison(sb, GLINT_E_CANCELLED, "call cancelled by glint_sandbox_kill");
}

static glint_status fail_deadline(glint_sandbox *sb) {
    sb->pending_io = true;
    glint_sb_fail(sb, GLINT_E_DEADLINE, "call exceeded its deadline of %" PRIu64 " ns",
                  sb->cfg.call_deadline_ns);
    glint_sb_crash_report(sb, NULL, SIGXCPU, true);
    return glint_sb_poison(sb);
}

static glint_status run_loop(glint_sandbox *sb);

glint_status glint_sb_run_until_done(glint_sandbox *sb) {
    /* The debugger brackets the outermost run only: a nested call runs
     * inside it, with its breakpoints in place and its stops served by the
     * run loop's own hooks. */
    if (sb->debug == NULL || sb->call_depth > 0) return run_loop(sb);
    glint_status st = glint_debug_run_start(sb);
    if (st == GLINT_OK) st = run_loop(sb);
    glint_debug_run_end(sb, st);
    return st;
}

static glint_status run_loop(glint_sandbox *sb) {
    glint_exit ex;
    glint_status st;
    for (;;) {
        if (atomic_load_explicit(&sb->cancel->run_state, memory_order_acquire) & GLINT_RUN_CANCEL)
            return fail_cancelled(sb);
        if (sb->deadline_ns != 0 && glint_monotonic_ns() >= sb->deadline_ns)
            return fail_deadline(sb);
        st = sb->hv_ops->run(sb->hv, &ex, &sb->last_error);
        if (st != GLINT_OK) return glint_sb_poison(sb);
        GLINT_TRACE_VM_EXIT(sb, ex.kind, ex.port, ex.reason);
        switch (ex.kind) {
        case GLINT_EXIT_IO:
            sb->counters.exits_io++;
            if (ex.is_write && ex.size == 1 && ex.count == 1 && ex.port >= GLINT_PORT_FIRST &&
                ex.port <= GLINT_PORT_LAST) {
                bool done = false;
                st = handle_port(sb, &ex, &done);
                if (st != GLINT_OK) {
                    sb->pending_io = true;
                    return st;
                }
                if (done) return GLINT_OK;
                continue;
            }
            sb->pending_io = true;
            glint_sb_fail(sb, GLINT_E_UNKNOWN_PORT,
                          "guest %s port 0x%x (%u byte%s, count %u) at RIP 0x%" PRIx64
                          ": not part of the protocol",
                          ex.is_write ? "wrote to" : "read from", ex.port, ex.size,
                          ex.size == 1 ? "" : "s", ex.count, guest_rip(sb));
            glint_sb_crash_report(sb, NULL, SIGSEGV, true);
            return glint_sb_poison(sb);
        case GLINT_EXIT_MMIO: {
            sb->counters.exits_mmio++;
            sb->pending_io = true;
            uint64_t rip = guest_rip(sb);
            const char *what = "unmapped guest-physical address";
            for (uint32_t i = 0; i < sb->mappings.count; i++) {
                const glint_mapping *m = &sb->mappings.entries[i];
                if (ex.gpa - m->gpa < m->size) what = "read-only mapping at guest-physical address";
            }
            glint_sb_fail(sb, GLINT_E_MEMORY_ACCESS,
                          "guest %s %s 0x%" PRIx64 " (%u bytes) at RIP 0x%" PRIx64,
                          ex.is_write ? "wrote to" : "read from", what, ex.gpa, ex.size, rip);
            sb->last_error.gpa = ex.gpa;
            sb->last_error.rip = rip;
            sb->last_error.has_fault = true;
            glint_sb_crash_report(sb, NULL, SIGSEGV, true);
            return glint_sb_poison(sb);
        }
        case GLINT_EXIT_HLT:
            sb->counters.exits_hlt++;
            return glint_sb_fail_poison(
                sb, GLINT_E_UNEXPECTED_EXIT,
                "guest halted (HLT) at RIP 0x%" PRIx64 " outside the protocol", guest_rip(sb));
        case GLINT_EXIT_SHUTDOWN:
            sb->counters.exits_other++;
            return glint_sb_fail_poison(sb, GLINT_E_TRIPLE_FAULT,
                                        "guest triple fault: the vCPU shut down");
        case GLINT_EXIT_INTERRUPTED: {
            sb->counters.exits_interrupted++;
            uint64_t state = atomic_load_explicit(&sb->cancel->run_state, memory_order_acquire);
            if (state & GLINT_RUN_CANCEL) return fail_cancelled(sb);
            if (sb->deadline_ns != 0 && glint_monotonic_ns() >= sb->deadline_ns)
                return fail_deadline(sb);
            /* A stale or foreign signal: clear and re-enter. */
            sb->hv_ops->clear_interrupt(sb->hv);
            /* ... or gdb's Ctrl-C (its connection signals the vCPU thread). */
            if (sb->debug != NULL && (st = glint_debug_interrupted(sb)) != GLINT_OK) return st;
            continue;
        }
        case GLINT_EXIT_MEMORY_FAULT:
            sb->counters.exits_other++;
            sb->pending_io = true;
            return glint_sb_fail_poison(
                sb, GLINT_E_MEMORY_ACCESS,
                "guest touched memory the host cannot provide at RIP 0x%" PRIx64
                " (a mapped file truncated or changed on the host?)",
                guest_rip(sb));
        case GLINT_EXIT_DIRTY_FULL:
            sb->counters.exits_other++;
            st = sb->hv_ops->collect_dirty(sb->hv, sb->dirty_bitmaps, sb->dirty_pages, 2,
                                           &sb->last_error);
            if (st != GLINT_OK) return glint_sb_poison(sb);
            continue;
        case GLINT_EXIT_DEBUG:
            sb->counters.exits_other++;
            /* Only a debugger arms hardware breakpoints (debug.c). */
            if (sb->debug != NULL) {
                if ((st = glint_debug_hw_event(sb, &ex)) != GLINT_OK) return st;
                continue;
            }
            /* fallthrough */
        case GLINT_EXIT_FAILED:
            sb->counters.exits_other++;
            return glint_sb_fail_poison(
                sb, GLINT_E_UNEXPECTED_EXIT,
                "%s at RIP 0x%" PRIx64 " (KVM exit reason %u, %s 0x%" PRIx64 ")",
                ex.what != NULL ? ex.what : "unexpected VM exit", guest_rip(sb), ex.reason,
                ex.detail_name != NULL ? ex.detail_name : "detail", ex.detail);
        }
    }
}

/* ---- Call bracketing for cancellation and deadlines -------------------- */

/* ---- Calls ---------------------------------------------------------------- */

static glint_status check_call(glint_sandbox *sb, const char *name, glint_type ret,
                               const glint_value *args, uint32_t argc) {
    if (sb->state != GLINT_STATE_READY)
        return glint_sb_fail(sb, GLINT_E_STATE, "sandbox is not initialised");
    if (sb->poisoned)
        return glint_sb_fail(sb, GLINT_E_POISONED, "sandbox is poisoned; restore a snapshot first");
    if (name == NULL) return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "function name is NULL");
    if (argc > GLINT_MAX_ARGS || (argc != 0 && args == NULL))
        return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "bad argument list (argc %u)", argc);
    const glint_function_info *f = glint_function_table_find(sb->functions, name);
    if (f == NULL)
        return glint_sb_fail(sb, GLINT_E_FUNCTION_NOT_FOUND, "guest function '%s' not found", name);
    if (argc != f->argc)
        return glint_sb_fail(sb, GLINT_E_PARAMETER_COUNT, "'%s' takes %u arguments, got %u", name,
                             f->argc, argc);
    uint32_t bad;
    if (!signature_matches(f->params, argc, args, &bad))
        return glint_sb_fail(sb, GLINT_E_PARAMETER_TYPE, "'%s' argument %u must be %s, got %s",
                             name, bad, glint_type_name((int)f->params[bad]),
                             glint_type_name((int)args[bad].type));
    if (ret != f->ret)
        return glint_sb_fail(sb, GLINT_E_RETURN_TYPE, "'%s' returns %s, caller expects %s", name,
                             glint_type_name((int)f->ret), glint_type_name((int)ret));
    for (uint32_t i = 0; i < argc; i++) {
        const glint_value *v = &args[i];
        if (v->type == GLINT_TYPE_STRING &&
            (v->as.str.ptr == NULL || memchr(v->as.str.ptr, 0, v->as.str.len) != NULL))
            return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT,
                                 "'%s' argument %u: string is NULL or contains NUL", name, i);
        if (v->type == GLINT_TYPE_BYTES && v->as.bytes.len != 0 && v->as.bytes.ptr == NULL)
            return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT,
                                 "'%s' argument %u: bytes pointer is NULL", name, i);
    }
    return GLINT_OK;
}

static glint_status read_call_result(glint_sandbox *sb, const char *name, glint_type ret,
                                     glint_value *result) {
    glint_msg_kind kind;
    glint_reader body;
    glint_status st = pop_output(sb, &kind, &body);
    if (st != GLINT_OK) return st;
    if (kind == GLINT_MSG_RESULT) {
        glint_value v;
        if (!glint_decode_result(&body, &v))
            return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed result from '%s'", name);
        if (v.type != ret)
            return glint_sb_fail(sb, GLINT_E_RETURN_TYPE, "'%s' returned %s, declared %s", name,
                                 glint_type_name((int)v.type), glint_type_name((int)ret));
        if (result != NULL) *result = v;
        return GLINT_OK;
    }
    if (kind == GLINT_MSG_ERROR) {
        glint_error_view e;
        if (!glint_decode_error(&body, &e))
            return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed error from '%s'", name);
        glint_status code = GLINT_E_GUEST_ERROR;
        if ((e.code >= GLINT_E_FUNCTION_NOT_FOUND && e.code <= GLINT_E_OUT_OF_MEMORY))
            code = (glint_status)e.code;
        glint_sb_fail(sb, code, "'%s' failed: %.*s", name, (int)e.message_len, e.message);
        sb->last_error.guest_code = (int32_t)e.code;
        return code;
    }
    return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL,
                                "unexpected message kind %d as result of '%s'", (int)kind, name);
}

/* A guest call from a host function of this sandbox, while the guest waits
 * in that host call's OUT (see the top of this file). */
static glint_status nested_call(glint_sandbox *sb, const char *name, glint_type ret,
                                const glint_value *args, uint32_t argc, glint_value *result) {
    if (sb->host_call_depth == 0 || !pthread_equal(pthread_self(), sb->cancel->vcpu_thread))
        return glint_sb_fail_running(sb, "glint_sandbox_call");
    if (sb->call_depth >= sb->cfg.max_call_depth)
        return glint_sb_fail(sb, GLINT_E_STATE,
                             "nested call of '%s' refused: %u nested call%s deep already "
                             "(config.max_call_depth %u)",
                             name != NULL ? name : "(null)", sb->call_depth,
                             sb->call_depth == 1 ? "" : "s", sb->cfg.max_call_depth);
    glint_status st = check_call(sb, name, ret, args, argc);
    if (st != GLINT_OK) return st;
    /* Above whatever the input stack holds: the waiting calls' CALL
     * messages, whose arguments the guest still uses. */
    uint8_t *slot;
    uint64_t avail;
    glint_writer w;
    if (glint_stack_reserve(sb->input, sb->layout.input_size, &slot, &avail) != 0)
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL,
                                    "input buffer corrupt: no room for a nested call");
    glint_writer_init(&w, slot, avail);
    uint64_t n = glint_encode_call(&w, name, ret, args, argc);
    if (n == 0)
        return glint_sb_fail(sb, GLINT_E_ARGS_TOO_BIG,
                             "arguments of nested call '%s' do not fit the %" PRIu64
                             " bytes left in the input buffer",
                             name, avail);
    if (glint_stack_commit(sb->input, sb->layout.input_size, n) != 0)
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "input buffer corrupt on commit");
    glint_gmem_mark_written(&sb->gmem, sb->layout.input_gpa,
                            glint_stack_used(sb->input, sb->layout.input_size) + 8u);
    sb->counters.nested_calls++;
    sb->call_depth++;
    GLINT_TRACE_CALL_START(sb, name, argc);
    st = glint_sb_run_until_done(sb);
    GLINT_TRACE_CALL_END(sb, name, st);
    sb->call_depth--;
    if (st != GLINT_OK) return st;
    st = read_call_result(sb, name, ret, result);
    if (st == GLINT_OK) sb->counters.guest_calls++;
    return st;
}

glint_status glint_sandbox_call(glint_sandbox *sb, const char *name, glint_type ret,
                                const glint_value *args, uint32_t argc, glint_value *result) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (glint_sb_running(sb)) return nested_call(sb, name, ret, args, argc, result);
    glint_status st = check_call(sb, name, ret, args, argc);
    if (st != GLINT_OK) return st;

    uint8_t *slot;
    uint64_t avail;
    glint_writer w;
    glint_stack_init(sb->input, sb->layout.input_size);
    glint_stack_reserve(sb->input, sb->layout.input_size, &slot, &avail);
    glint_writer_init(&w, slot, avail);
    uint64_t n = glint_encode_call(&w, name, ret, args, argc);
    if (n == 0)
        return glint_sb_fail(sb, GLINT_E_ARGS_TOO_BIG,
                             "arguments of '%s' do not fit the %" PRIu64 "-byte input buffer", name,
                             sb->layout.input_size);
    glint_stack_commit(sb->input, sb->layout.input_size, n);
    glint_stack_init(sb->output, sb->layout.output_size);
    /* Host writes are invisible to KVM's dirty log: record them for
     * snapshots and restore's page count (a few bit operations). */
    glint_gmem_mark_written(&sb->gmem, sb->layout.input_gpa, n + 16u);
    glint_gmem_mark_written(&sb->gmem, sb->layout.output_gpa, GLINT_STACK_EMPTY);
    sb->called = true;
    GLINT_TRACE_CALL_START(sb, name, argc);

    glint_sb_world_refresh(sb);
    st = glint_sb_begin_run(sb);
    if (st == GLINT_OK) st = glint_sb_run_until_done(sb);
    glint_sb_end_run(sb);
    GLINT_TRACE_CALL_END(sb, name, st);
    if (st != GLINT_OK) return st;
    st = read_call_result(sb, name, ret, result);
    if (st == GLINT_OK) sb->counters.guest_calls++;
    return st;
}

/* ---- Introspection ------------------------------------------------------- */
/* ---- The function table reported at initialisation ------------------------ */

glint_status glint_sb_read_function_table(glint_sandbox *sb, glint_function_table **out) {
    glint_msg_kind kind;
    glint_reader body;
    uint32_t count;
    *out = NULL;
    glint_status st = pop_output(sb, &kind, &body);
    if (st != GLINT_OK) return st;
    if (kind != GLINT_MSG_FUNCTIONS || !glint_decode_functions_count(&body, &count))
        return glint_sb_fail_poison(sb, GLINT_E_PROTOCOL,
                                    "guest did not report its function table at initialisation");
    /* One decoding pass over one copy of the message: every name with its
     * NUL is shorter than the bytes encoding it, so the rest of the body
     * bounds the names block. */
    size_t names_cap = (size_t)(body.len - body.pos);
    glint_function_table *t = glint_function_table_new(&sb->counters, count, names_cap);
    if (t == NULL)
        return glint_sb_fail_poison(sb, GLINT_E_NO_MEMORY, "out of memory for the function table");
    char *name = t->names;
    for (uint32_t i = 0; i < count; i++) {
        glint_function_view fv;
        if (!glint_decode_function_next(&body, &fv) ||
            (size_t)(name - t->names) + fv.name_len + 1u > names_cap) {
            st = glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "malformed function table entry %u", i);
            goto fail;
        }
        memcpy(name, fv.name, fv.name_len);
        name[fv.name_len] = '\0';
        if (glint_function_table_find(&(glint_function_table){.count = i, .entries = t->entries},
                                      name) != NULL) {
            st = glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "guest reported function '%s' twice",
                                      name);
            goto fail;
        }
        glint_function_info *f = &t->entries[i];
        f->name = name;
        f->ret = fv.ret;
        f->argc = fv.argc;
        memcpy(f->params, fv.params, fv.argc * sizeof fv.params[0]);
        name += fv.name_len + 1u;
    }
    if (!glint_reader_done(&body)) {
        st = glint_sb_fail_poison(sb, GLINT_E_PROTOCOL, "trailing bytes after the function table");
        goto fail;
    }
    t->names_size = (size_t)(name - t->names);
    *out = t;
    return GLINT_OK;
fail:
    glint_function_table_release(t);
    return st;
}
