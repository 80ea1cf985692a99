/*
 * crash.c - what a failed run leaves for the developer (docs/debugging.md):
 * the guest's backtrace, named with its symbols, at the end of the error
 * message, and with a core directory an ELF core file that gdb opens with
 * the guest ELF.  Everything is read from host copies: the exception record
 * (copied out of the metadata page), the vCPU's registers, and guest memory
 * through the checked accessor; nothing the guest wrote is trusted (the
 * unwinder bounds every frame, core regions come from the layout).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_dump.h"
#include "sandbox_internal.h"
#include "symbols.h"

void glint_regs_from_record(const glint_exception_record *rec, glint_regs *r) {
    memset(r, 0, sizeof *r);
    r->rax = rec->rax;
    r->rbx = rec->rbx;
    r->rcx = rec->rcx;
    r->rdx = rec->rdx;
    r->rsi = rec->rsi;
    r->rdi = rec->rdi;
    r->rbp = rec->rbp;
    r->rsp = rec->rsp;
    r->r8 = rec->r8;
    r->r9 = rec->r9;
    r->r10 = rec->r10;
    r->r11 = rec->r11;
    r->r12 = rec->r12;
    r->r13 = rec->r13;
    r->r14 = rec->r14;
    r->r15 = rec->r15;
    r->rip = rec->rip;
    r->rflags = rec->rflags;
    r->cs = (uint16_t)rec->cs;
    r->ss = (uint16_t)rec->ss;
    r->ds = r->es = r->fs = r->gs = GLINT_SEL_USER_DATA;
    r->cr2 = rec->cr2;
}

int glint_signal_for_vector(uint64_t vector) {
    switch (vector) {
    case 0:  /* #DE */
    case 16: /* #MF */
    case 19: /* #XM */ return SIGFPE;
    case 1:
    case 3: return SIGTRAP;
    case 6:
    case 7: return SIGILL;
    case 17: /* #AC */
    case 18: /* #MC */ return SIGBUS;
    default: return SIGSEGV;
    }
}

static bool read_guest(void *ctx, uint64_t addr, void *dst, size_t len) {
    return glint_gmem_read(ctx, addr, dst, len);
}

/* Appends text to the message if it fits, cutting it otherwise. */
static void append(glint_error *e, const char *text) {
    size_t used = strnlen(e->message, sizeof e->message);
    if (used + 1 >= sizeof e->message) return;
    size_t n = strnlen(text, sizeof e->message - used - 1);
    memcpy(e->message + used, text, n);
    e->message[used + n] = '\0';
}

static void add_region(glint_core_desc *d, uint64_t gpa, uint64_t size, const glint_gmem *m,
                       uint32_t perms) {
    if (size == 0 || d->region_count == GLINT_CORE_MAX_REGIONS) return;
    const uint8_t *host = glint_gmem_span(m, gpa, size);
    if (host == NULL) return;
    d->regions[d->region_count++] = (glint_core_region){gpa, size, host, perms};
}

static void write_core(glint_sandbox *sb, const glint_regs *regs, int signal) {
    const glint_layout_info *l = &sb->layout;
    glint_core_desc *d = glint_counted_calloc(&sb->counters, 1, sizeof *d);
    if (d == NULL) {
        append(&sb->last_error, "; no core file: out of memory");
        return;
    }
    d->dir = sb->core_dir;
    d->name = sb->image->name[0] ? sb->image->name : "guest";
    d->signal = signal;
    d->regs = *regs;
    d->has_fpu = sb->hv_ops->get_fpu(sb->hv, &d->fpu, NULL) == GLINT_OK;
    d->entry = l->entry_gpa;
    d->max_size = sb->cfg.core_max_size;
    /* Most useful first: the bound drops what comes last. */
    const uint32_t rw = GLINT_PERM_READ | GLINT_PERM_WRITE;
    uint64_t stack_top = l->stack_gpa + l->stack_size, live = l->stack_gpa;
    if (regs->rsp >= l->stack_gpa && regs->rsp < stack_top) live = regs->rsp & ~(GLINT_PAGE - 1);
    /* With the page above the stack (the exception stack's guard, zeros):
     * gdb's unwinder reads past the outermost frame and finds a 0 there. */
    if (glint_gmem_span(&sb->gmem, stack_top, GLINT_PAGE) != NULL)
        add_region(d, live, stack_top + GLINT_PAGE - live, &sb->gmem, rw);
    else
        add_region(d, live, stack_top - live, &sb->gmem, rw);
    add_region(d, l->code_gpa, l->code_size, &sb->gmem, rw | GLINT_PERM_EXEC);
    add_region(d, l->peb_gpa, GLINT_PAGE, &sb->gmem, GLINT_PERM_READ);
    add_region(d, l->heap_gpa, l->heap_size, &sb->gmem, rw);
    add_region(d, l->init_data_gpa, l->init_data_size, &sb->gmem, GLINT_PERM_READ);
    add_region(d, l->input_gpa, l->input_size, &sb->gmem, rw);
    add_region(d, l->output_gpa, l->output_size, &sb->gmem, rw);
    if (live > l->stack_gpa) add_region(d, l->stack_gpa, live - l->stack_gpa, &sb->gmem, rw);
    char path[512], text[600];
    glint_error err;
    if (glint_core_write(d, path, sizeof path, &err) == GLINT_OK)
        snprintf(text, sizeof text, "; core dumped to %s", path);
    else
        snprintf(text, sizeof text, "; no core file: %s", err.message);
    append(&sb->last_error, text);
    free(d);
}

void glint_sb_crash_report(glint_sandbox *sb, const glint_regs *regs, int signal, bool core) {
    glint_regs vcpu;
    if (regs == NULL) {
        if (sb->hv_ops->get_regs(sb->hv, &vcpu, NULL) != GLINT_OK) return;
        regs = &vcpu;
    }
    /* The debugger first: it sees the guest as it is. */
    glint_debug_fatal_stop(sb, regs, signal);
    const glint_layout_info *l = &sb->layout;
    glint_backtrace bt;
    glint_unwind_fp(regs->rip, regs->rbp, regs->rsp, l->stack_gpa, l->stack_gpa + l->stack_size,
                    GLINT_UNWIND_MAX_FRAMES, sb->image->symbols, read_guest, &sb->gmem, &bt);
    char text[GLINT_ERROR_MESSAGE_SIZE];
    size_t used = strnlen(sb->last_error.message, sizeof sb->last_error.message);
    static const char label[] = "; backtrace: ";
    /* Leave room for the core file's path when there will be one. */
    size_t room = sizeof sb->last_error.message - used;
    size_t reserve = core && sb->core_dir != NULL ? 96u : 0u;
    if (room > sizeof label + reserve + 16u) {
        size_t n = room - reserve - sizeof label + 1u;
        if (n > sizeof text) n = sizeof text;
        glint_backtrace_format(sb->image->symbols, &bt, text, n);
        append(&sb->last_error, label);
        append(&sb->last_error, text);
    }
    if (core && sb->core_dir != NULL) write_core(sb, regs, signal);
}
