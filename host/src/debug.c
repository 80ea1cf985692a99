/*
 * debug.c - a gdb session with a sandbox (docs/debugging.md): the socket,
 * the stub's target over the sandbox, and the stops in the run loop.
 *
 * How the guest is stopped and stepped, on every KVM Glint runs on: guest
 * code is at CPL 3 and the host owns the IDT and the exception stubs, so
 *   - a software breakpoint is an INT3 the stub patches into guest code
 *     while the guest runs; #BP goes through IDT gate 3 to the host's stub,
 *     which reports it like any exception (port 0xE5);
 *   - a single step is RFLAGS.TF: the #DB trap after one instruction is
 *     reported the same way;
 *   - the host resumes such a guest itself (hv resume_user: the registers
 *     from the exception record, CPL 3), which the stubs never do;
 *   - Ctrl-C: the connection has O_ASYNC with the sandbox's cancel signal,
 *     so a byte from gdb interrupts KVM_RUN like a kill does, and the run
 *     loop asks here what it was.
 * KVM_SET_GUEST_DEBUG is used only for hardware breakpoints and watchpoints,
 * where a probe VM shows that debug registers fire (measured: they do not
 * on PVM, nor on QEMU's nested SVM; KVM's own single step on PVM leaks the
 * #DB into the guest's IDT, and neither KVM intercepts INT3 there, which is
 * why the exception path above is the one used everywhere).
 *
 * While gdb holds the guest the call's deadline is paused, and a kill
 * (glint_sandbox_kill) ends the wait.  Nothing here trusts gdb's input
 * beyond what the stub checks: registers gdb writes keep the host's
 * segments and IOPL/IF (only arithmetic flags and DF change), memory goes
 * through the checked accessor (and is recorded as host-written).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gdb_stub.h"
#include "sandbox_internal.h"
#include "symbols.h"

#define RFLAGS_TF 0x100ull
/* What gdb may change in RFLAGS: CF PF AF ZF SF DF OF. */
#define RFLAGS_USER 0xcd5ull
#define SEND_TIMEOUT_MS 10000

typedef enum stop_source {
    STOP_NONE,
    STOP_VCPU,  /* registers are the vCPU's (interrupt, first instruction, KVM debug exit) */
    STOP_RECORD /* registers come from an exception record; the vCPU is in a stub */
} stop_source;

struct glint_debug {
    glint_sandbox *sb;
    int listen_fd;
    int conn_fd;
    pid_t owner_tid;   /* thread the connection's O_ASYNC signal goes to */
    bool first_stop;   /* stop before the next instruction the guest runs */
    bool step_pending; /* a single step outlived its run: report it at the next start */
    bool stepping;     /* resumed by gdb for one instruction */
    bool bps_inserted; /* the stub's INT3s are in guest memory */
    bool host_killed;  /* the wait ended by glint_sandbox_kill */
    bool broken;       /* the connection failed: end the session */
    stop_source src;   /* the current stop */
    bool fatal;        /* the current stop ends the run */
    bool regs_dirty, fpu_dirty;
    glint_regs regs;
    glint_fpu_regs fpu;
    bool hw_ok; /* hardware breakpoints work here (probe) */
    char hw_why[256];
    glint_hv_debug hw;
    glint_gdb_target target;
    size_t in_pos, in_len;
    uint8_t in[4096];
    glint_gdb_stub stub; /* last: 80 KiB of buffers */
};

/* ---- Connection ------------------------------------------------------------ */

static void end_session(glint_debug *d) {
    if (d->conn_fd >= 0) close(d->conn_fd);
    if (d->listen_fd >= 0) close(d->listen_fd);
    d->conn_fd = d->listen_fd = -1;
    d->in_pos = d->in_len = 0;
    d->stepping = d->step_pending = d->first_stop = false;
}

static void send_bytes(void *io, const uint8_t *data, size_t len) {
    glint_debug *d = io;
    while (len > 0 && !d->broken && d->conn_fd >= 0) {
        ssize_t n = send(d->conn_fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* gdb is not reading: give it time, not forever. */
            struct pollfd p = {.fd = d->conn_fd, .events = POLLOUT};
            int r = poll(&p, 1, SEND_TIMEOUT_MS);
            if (r > 0 || (r < 0 && errno == EINTR)) continue;
        }
        d->broken = true;
    }
}

/* Reads what the connection has without blocking; false on EOF or error. */
static bool read_available(glint_debug *d) {
    if (d->in_pos == d->in_len) d->in_pos = d->in_len = 0;
    if (d->in_len == sizeof d->in) return true;
    ssize_t n = recv(d->conn_fd, d->in + d->in_len, sizeof d->in - d->in_len, MSG_DONTWAIT);
    if (n > 0) {
        d->in_len += (size_t)n;
        return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    return false;
}

/* Sends the connection's "data arrived" signal (the sandbox's cancel
 * signal: it interrupts KVM_RUN) to the thread running the vCPU. */
static void own_connection(glint_sandbox *sb, glint_debug *d) {
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (d->conn_fd < 0 || d->owner_tid == tid) return;
    struct f_owner_ex owner = {.type = F_OWNER_TID, .pid = tid};
    if (fcntl(d->conn_fd, F_SETSIG, sb->cancel->cancel_signal) == 0 &&
        fcntl(d->conn_fd, F_SETOWN_EX, &owner) == 0)
        d->owner_tid = tid;
}

/* ---- The stub's target: the stopped guest -------------------------------- */

static bool t_get_regs(void *ctx, glint_regs *r, glint_fpu_regs *f) {
    glint_debug *d = ctx;
    if (d->src == STOP_NONE) return false;
    *r = d->regs;
    *f = d->fpu;
    return true;
}

static bool t_set_regs(void *ctx, const glint_regs *r, const glint_fpu_regs *f) {
    glint_debug *d = ctx;
    if (d->src == STOP_NONE || d->fatal) return false;
    glint_regs n = *r;
    /* IOPL, IF, TF, NT, RF...: the host's; gdb may change the flags code
     * computes with. */
    n.rflags = (d->regs.rflags & ~RFLAGS_USER) | (r->rflags & RFLAGS_USER);
    n.cs = d->regs.cs;
    n.ss = d->regs.ss;
    if (memcmp(&n, &d->regs, sizeof n) != 0) d->regs_dirty = true;
    if (memcmp(f, &d->fpu, sizeof *f) != 0) d->fpu_dirty = true;
    d->regs = n;
    d->fpu = *f;
    return true;
}

static size_t t_read_mem(void *ctx, uint64_t addr, void *dst, size_t len) {
    glint_debug *d = ctx;
    size_t done = 0;
    /* Page by page: a range may start in guest memory and run out of it. */
    while (done < len) {
        uint64_t a = addr + done;
        if (a < addr) break; /* wrapped */
        size_t chunk = (size_t)(GLINT_PAGE - (a & (GLINT_PAGE - 1)));
        if (chunk > len - done) chunk = len - done;
        if (!glint_gmem_read(&d->sb->gmem, a, (uint8_t *)dst + done, chunk)) break;
        done += chunk;
    }
    return done;
}

static bool t_write_mem(void *ctx, uint64_t addr, const void *src, size_t len) {
    glint_debug *d = ctx;
    /* Through the accessor that records host writes: snapshots and
     * restores see the page as changed. */
    return glint_gmem_write(&d->sb->gmem, addr, src, len);
}

static int t_hw_break(void *ctx, bool insert, int type, uint64_t addr, uint64_t len) {
    glint_debug *d = ctx;
    if (!d->hw_ok || type == 3) return 0; /* x86 has no read-only watchpoint */
    uint64_t rw = type == 1 ? 0 : type == 2 ? 1 : 3;
    uint64_t lenbits;
    switch (type == 1 ? 1 : len) {
    case 1: lenbits = 0; break;
    case 2: lenbits = 1; break;
    case 4: lenbits = 3; break;
    case 8: lenbits = 2; break;
    default: return -1;
    }
    if (type != 1 && (addr & (len - 1)) != 0) return -1;
    glint_hv_debug hw = d->hw;
    int slot = -1;
    for (int i = 0; i < (int)GLINT_HV_DEBUG_HW_SLOTS; i++) {
        bool used = (hw.dr7 >> (2 * i)) & 1u;
        uint64_t bits = (hw.dr7 >> (16 + 4 * i)) & 0xfu;
        if (insert && !used && slot < 0) slot = i;
        if (!insert && used && hw.addr[i] == addr && bits == (rw | lenbits << 2)) slot = i;
    }
    if (slot < 0) return insert ? -1 : 1;
    uint64_t mask = 3ull << (2 * slot) | 0xfull << (16 + 4 * slot);
    hw.dr7 &= ~mask;
    if (insert) {
        hw.addr[slot] = addr;
        hw.dr7 |= 1ull << (2 * slot) | (rw | lenbits << 2) << (16 + 4 * slot);
    }
    hw.flags = (hw.dr7 & 0xffu) ? GLINT_HV_DEBUG_ENABLE | GLINT_HV_DEBUG_HW_BP : 0;
    if (d->sb->hv_ops->set_debug(d->sb->hv, &hw, NULL) != GLINT_OK) return -1;
    d->hw = hw;
    return 1;
}

static void t_describe(void *ctx, char *buf, size_t size) {
    glint_debug *d = ctx;
    const glint_layout_info *l = &d->sb->layout;
    const glint_image *img = d->sb->image;
    snprintf(buf, size,
             "guest %s: image at 0x%" PRIx64 " (gdb relocates its symbols with qOffsets), entry "
             "0x%" PRIx64 ", stack 0x%" PRIx64 "-0x%" PRIx64 ", heap 0x%" PRIx64 "-0x%" PRIx64
             ", %u function symbols\n"
             "software breakpoints and single step: INT3 and the trap flag through the host's "
             "exception stubs (every KVM)\n"
             "hardware breakpoints and watchpoints: %s (%s)\n",
             img->name[0] ? img->name : "(from memory)", l->code_gpa, l->entry_gpa, l->stack_gpa,
             l->stack_gpa + l->stack_size, l->heap_gpa, l->heap_gpa + l->heap_size,
             img->symbols != NULL ? img->symbols->count : 0u, d->hw_ok ? "available" : "none",
             d->hw_why);
}

/* ---- Stops ------------------------------------------------------------------ */

static bool connected(const glint_sandbox *sb) {
    return sb->debug != NULL && sb->debug->conn_fd >= 0;
}

static void remove_breakpoints(glint_debug *d) {
    if (!d->bps_inserted) return;
    glint_gdb_remove_breakpoints(&d->stub);
    d->bps_inserted = false;
}

/* Records a stop whose registers are the vCPU's. */
static bool stop_from_vcpu(glint_sandbox *sb, glint_debug *d) {
    if (sb->hv_ops->get_regs(sb->hv, &d->regs, &sb->last_error) != GLINT_OK) return false;
    memset(&d->fpu, 0, sizeof d->fpu);
    sb->hv_ops->get_fpu(sb->hv, &d->fpu, NULL);
    d->src = STOP_VCPU;
    d->regs_dirty = d->fpu_dirty = false;
    return true;
}

/* Reports the stop to gdb and serves it until gdb resumes, detaches or
 * kills; the deadline does not run meanwhile.  A kill of the sandbox ends
 * the wait as GLINT_GDB_KILL with host_killed set. */
static glint_gdb_action serve(glint_sandbox *sb, int signal, uint32_t flags) {
    glint_debug *d = sb->debug;
    uint64_t left;
    remove_breakpoints(d); /* a stopped guest's memory is its own */
    glint_sb_pause_deadline(sb, &left);
    glint_gdb_stopped(&d->stub, signal, flags);
    glint_gdb_action a = GLINT_GDB_NONE;
    while (a == GLINT_GDB_NONE) {
        if (d->broken) {
            a = GLINT_GDB_CLOSE;
            break;
        }
        if (d->in_pos < d->in_len) {
            size_t used = 0;
            a = glint_gdb_input(&d->stub, d->in + d->in_pos, d->in_len - d->in_pos, &used);
            d->in_pos += used;
            continue;
        }
        struct pollfd p = {.fd = d->conn_fd, .events = POLLIN};
        int r = poll(&p, 1, -1);
        if (r < 0 && errno == EINTR) {
            if (atomic_load_explicit(&sb->cancel->run_state, memory_order_acquire) &
                GLINT_RUN_CANCEL) {
                d->host_killed = true;
                a = GLINT_GDB_KILL;
            }
            continue;
        }
        if (r < 0 || !read_available(d) || (r > 0 && d->in_pos == d->in_len)) a = GLINT_GDB_CLOSE;
    }
    if (d->broken && a != GLINT_GDB_KILL) a = GLINT_GDB_CLOSE;
    glint_sb_resume_deadline(sb, left);
    /* The O_ASYNC signals of this conversation left an interrupt request. */
    sb->hv_ops->clear_interrupt(sb->hv);
    return a;
}

/* Puts the guest back to running after a resumable stop. */
static glint_status resume_guest(glint_sandbox *sb, glint_debug *d, bool step) {
    glint_status st = GLINT_OK;
    glint_regs r = d->regs;
    r.rflags = step ? (r.rflags | RFLAGS_TF) : (r.rflags & ~RFLAGS_TF);
    if (d->src == STOP_RECORD) {
        /* The stub's OUT is still pending in KVM: finish it first. */
        st = sb->hv_ops->complete_pending(sb->hv, &sb->last_error);
        if (st == GLINT_OK) st = sb->hv_ops->resume_user(sb->hv, &r, &sb->last_error);
    } else if (d->regs_dirty || step || r.rflags != d->regs.rflags) {
        st = sb->hv_ops->set_regs(sb->hv, &r, &sb->last_error);
    }
    if (st == GLINT_OK && d->fpu_dirty) st = sb->hv_ops->set_fpu(sb->hv, &d->fpu, &sb->last_error);
    if (st != GLINT_OK) return glint_sb_poison(sb);
    if (d->conn_fd >= 0) {
        glint_gdb_insert_breakpoints(&d->stub);
        d->bps_inserted = true;
    }
    d->stepping = step;
    d->src = STOP_NONE;
    return GLINT_OK;
}

static void detach(glint_sandbox *sb, glint_debug *d) {
    remove_breakpoints(d);
    if (d->hw.flags != 0) {
        glint_hv_debug off = {0};
        sb->hv_ops->set_debug(sb->hv, &off, NULL);
        memset(&d->hw, 0, sizeof d->hw);
    }
    end_session(d);
}

/* Acts on gdb's answer to a resumable stop. */
static glint_status after_stop(glint_sandbox *sb, glint_gdb_action a) {
    glint_debug *d = sb->debug;
    switch (a) {
    case GLINT_GDB_CONTINUE:
    case GLINT_GDB_STEP: return resume_guest(sb, d, a == GLINT_GDB_STEP);
    case GLINT_GDB_KILL:
        if (d->host_killed) {
            glint_gdb_exited(&d->stub, true, GLINT_GDB_SIGKILL);
            detach(sb, d);
            sb->pending_io = true;
            return glint_sb_fail_poison(sb, GLINT_E_CANCELLED,
                                        "call cancelled by glint_sandbox_kill while gdb held it");
        }
        detach(sb, d);
        sb->pending_io = true;
        return glint_sb_fail_poison(sb, GLINT_E_CANCELLED, "guest killed by the debugger (gdb)");
    case GLINT_GDB_DETACH:
    case GLINT_GDB_CLOSE:
    default: {
        /* The guest runs on without the debugger. */
        glint_status st = resume_guest(sb, d, false);
        detach(sb, d);
        return st;
    }
    }
}

/* ---- Run-loop hooks ----------------------------------------------------------- */

static glint_status wait_for_gdb(glint_sandbox *sb, glint_debug *d) {
    uint64_t left;
    glint_sb_pause_deadline(sb, &left);
    int fd = -1;
    while (fd < 0) {
        struct pollfd p = {.fd = d->listen_fd, .events = POLLIN};
        int r = poll(&p, 1, -1);
        if (r < 0 && errno == EINTR) {
            if (atomic_load_explicit(&sb->cancel->run_state, memory_order_acquire) &
                GLINT_RUN_CANCEL) {
                end_session(d);
                return glint_sb_fail_poison(sb, GLINT_E_CANCELLED,
                                            "call cancelled by glint_sandbox_kill while waiting "
                                            "for gdb to connect");
            }
            continue;
        }
        if (r < 0) break;
        fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0 && errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) break;
    }
    if (fd < 0) {
        int e = errno;
        end_session(d);
        return glint_sb_fail_poison(sb, GLINT_E_IO, "waiting for gdb: %s", strerror(e));
    }
    /* One debugger per session: no more connections. */
    close(d->listen_fd);
    d->listen_fd = -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    d->conn_fd = fd;
    d->owner_tid = 0;
    d->broken = false;
    fcntl(fd, F_SETFL, O_NONBLOCK | O_ASYNC);
    glint_gdb_init(&d->stub, &d->target, send_bytes, d, sb->layout.code_gpa);
    d->first_stop = true;
    sb->hv_ops->clear_interrupt(sb->hv);
    return glint_sb_resume_deadline(sb, left);
}

/* Consumes what gdb sent while the guest ran: true if it asked to stop. */
static bool interrupt_requested(glint_debug *d) {
    bool stop = false;
    if (!read_available(d)) d->broken = true;
    while (d->in_pos < d->in_len) {
        size_t used = 0;
        glint_gdb_action a =
            glint_gdb_input(&d->stub, d->in + d->in_pos, d->in_len - d->in_pos, &used);
        d->in_pos += used;
        if (a == GLINT_GDB_INTERRUPT) stop = true;
        if (a == GLINT_GDB_CLOSE) d->broken = true;
    }
    return stop;
}

glint_status glint_debug_run_start(glint_sandbox *sb) {
    glint_debug *d = sb->debug;
    if (d == NULL) return GLINT_OK;
    glint_status st;
    if (d->conn_fd < 0 && d->listen_fd >= 0 && (st = wait_for_gdb(sb, d)) != GLINT_OK) return st;
    if (d->conn_fd < 0) return GLINT_OK;
    own_connection(sb, d);
    int signal = 0;
    if (d->first_stop || d->step_pending)
        signal = GLINT_GDB_SIGTRAP;
    else if (interrupt_requested(d))
        signal = GLINT_GDB_SIGINT;
    if (d->broken) {
        detach(sb, d);
        return GLINT_OK;
    }
    d->first_stop = d->step_pending = false;
    if (signal == 0) {
        glint_gdb_insert_breakpoints(&d->stub);
        d->bps_inserted = true;
        return GLINT_OK;
    }
    if (!stop_from_vcpu(sb, d)) return glint_sb_poison(sb);
    return after_stop(sb, serve(sb, signal, 0));
}

void glint_debug_run_end(glint_sandbox *sb, glint_status st) {
    glint_debug *d = sb->debug;
    if (d == NULL || d->conn_fd < 0) return;
    remove_breakpoints(d);
    if (st == GLINT_OK) {
        if (d->stepping) {
            /* The step ended the run (it stepped over the DONE OUT): the
             * guest must not keep TF into a snapshot or the next call;
             * the step is reported when the next run starts. */
            glint_regs r;
            if (sb->hv_ops->get_regs(sb->hv, &r, NULL) == GLINT_OK && (r.rflags & RFLAGS_TF)) {
                r.rflags &= ~RFLAGS_TF;
                sb->hv_ops->set_regs(sb->hv, &r, NULL);
            }
            d->stepping = false;
            d->step_pending = true;
        }
        return;
    }
    /* The run failed without a stop gdb saw (crash reports stop first):
     * the guest is gone. */
    glint_gdb_exited(&d->stub, true,
                     sb->last_error.code == GLINT_E_CANCELLED ? GLINT_GDB_SIGKILL
                                                              : GLINT_GDB_SIGSEGV);
    detach(sb, d);
}

glint_status glint_debug_exception(glint_sandbox *sb, const glint_exception_record *rec,
                                   bool *resumed) {
    *resumed = false;
    if (!connected(sb) || (rec->vector != 1 && rec->vector != 3) || (rec->cs & 3u) != 3u)
        return GLINT_OK;
    glint_debug *d = sb->debug;
    glint_regs_from_record(rec, &d->regs);
    memset(&d->fpu, 0, sizeof d->fpu);
    sb->hv_ops->get_fpu(sb->hv, &d->fpu, NULL);
    d->src = STOP_RECORD;
    d->regs_dirty = d->fpu_dirty = false;
    uint32_t flags = 0;
    if (rec->vector == 3 && d->bps_inserted && glint_gdb_is_breakpoint(&d->stub, rec->rip - 1)) {
        /* Our INT3: gdb wants the PC at the breakpoint (swbreak). */
        d->regs.rip = rec->rip - 1;
        flags = GLINT_GDB_STOP_SWBREAK;
    }
    if (rec->vector == 1 && d->stepping) d->regs.rflags &= ~RFLAGS_TF;
    d->stepping = false;
    glint_status st = after_stop(sb, serve(sb, GLINT_GDB_SIGTRAP, flags));
    if (st == GLINT_OK) *resumed = true;
    return st;
}

glint_status glint_debug_interrupted(glint_sandbox *sb) {
    if (!connected(sb)) return GLINT_OK;
    glint_debug *d = sb->debug;
    bool stop = interrupt_requested(d);
    if (d->broken) {
        /* gdb went away while the guest ran: it runs on. */
        detach(sb, d);
        return GLINT_OK;
    }
    if (!stop) return GLINT_OK;
    if (!stop_from_vcpu(sb, d)) return glint_sb_poison(sb);
    if ((d->regs.cs & 3u) != 3u) {
        /* Inside the host's exception stubs, a few instructions before they
         * report an exception: that report is the stop. */
        d->src = STOP_NONE;
        return GLINT_OK;
    }
    return after_stop(sb, serve(sb, GLINT_GDB_SIGINT, 0));
}

glint_status glint_debug_hw_event(glint_sandbox *sb, const glint_exit *ex) {
    glint_debug *d = sb->debug;
    if (!stop_from_vcpu(sb, d)) return glint_sb_poison(sb);
    uint32_t flags = 0;
    uint64_t dr6 = ex->debug_dr6;
    for (unsigned i = 0; i < GLINT_HV_DEBUG_HW_SLOTS; i++) {
        if (!((dr6 >> i) & 1u) || !((d->hw.dr7 >> (2 * i)) & 1u)) continue;
        uint64_t rw = (d->hw.dr7 >> (16 + 4 * i)) & 3u;
        if (rw == 0) {
            flags |= GLINT_GDB_STOP_HWBREAK;
        } else {
            flags |= GLINT_GDB_STOP_WATCH;
            d->stub.watch_type = rw == 1 ? 2 : 4;
            d->stub.watch_addr = d->hw.addr[i];
        }
        break;
    }
    /* With debug registers armed KVM intercepts every #DB, the trap flag's
     * too: a step ends here instead of in the stubs. */
    if (d->stepping && (d->regs.rflags & RFLAGS_TF)) {
        d->regs.rflags &= ~RFLAGS_TF;
        d->regs_dirty = true;
    }
    d->stepping = false;
    return after_stop(sb, serve(sb, GLINT_GDB_SIGTRAP, flags));
}

void glint_debug_fatal_stop(glint_sandbox *sb, const glint_regs *regs, int signal) {
    if (!connected(sb)) return;
    glint_debug *d = sb->debug;
    d->regs = *regs;
    memset(&d->fpu, 0, sizeof d->fpu);
    sb->hv_ops->get_fpu(sb->hv, &d->fpu, NULL);
    d->src = STOP_RECORD;
    d->regs_dirty = d->fpu_dirty = false;
    d->fatal = true;
    glint_gdb_action a = serve(sb, signal, GLINT_GDB_STOP_FATAL);
    /* Whatever gdb does now (continue, step, kill, detach), the guest is
     * gone: say so to a gdb waiting for an answer. */
    if (a == GLINT_GDB_CONTINUE || a == GLINT_GDB_STEP) glint_gdb_exited(&d->stub, true, signal);
    d->fatal = false;
    d->src = STOP_NONE;
    detach(sb, d);
}

void glint_debug_destroy(glint_sandbox *sb) {
    glint_debug *d = sb->debug;
    if (d == NULL) return;
    /* A gdb still waiting hears that the guest is gone. */
    if (d->conn_fd >= 0)
        glint_gdb_exited(&d->stub, sb->poisoned, sb->poisoned ? GLINT_GDB_SIGKILL : 0);
    end_session(d);
    free(d);
    sb->debug = NULL;
}

/* ---- API ------------------------------------------------------------------------- */

/* Parses a loopback address: 127.0.0.0/8 or ::1. */
static bool loopback_address(const char *text, struct sockaddr_storage *ss, socklen_t *len,
                             uint16_t port) {
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) return false;
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *len = sizeof *v4;
        return true;
    }
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return false;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *len = sizeof *v6;
        return true;
    }
    return false;
}

glint_status glint_sandbox_debug_listen(glint_sandbox *sb, const char *address, uint16_t port,
                                        uint16_t *bound_port) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    if (address == NULL) address = "127.0.0.1";
    struct sockaddr_storage ss;
    socklen_t len;
    if (!loopback_address(address, &ss, &len, port))
        return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT,
                             "gdb address '%.100s' is not a loopback address (127.0.0.0/8, ::1): "
                             "whoever connects controls the guest",
                             address);
    if (glint_sb_running(sb)) return glint_sb_fail_running(sb, "glint_sandbox_debug_listen");
    if (sb->debug != NULL && (sb->debug->listen_fd >= 0 || sb->debug->conn_fd >= 0))
        return glint_sb_fail(sb, GLINT_E_STATE, "a gdb session is already open on this sandbox");
    glint_debug *d = sb->debug;
    if (d == NULL) {
        d = glint_counted_calloc(&sb->counters, 1, sizeof *d);
        if (d == NULL) return glint_sb_fail(sb, GLINT_E_NO_MEMORY, "out of memory");
        d->sb = sb;
        d->listen_fd = d->conn_fd = -1;
        d->target = (glint_gdb_target){.ctx = d,
                                       .get_regs = t_get_regs,
                                       .set_regs = t_set_regs,
                                       .read_mem = t_read_mem,
                                       .write_mem = t_write_mem,
                                       .hw_break = t_hw_break,
                                       .describe = t_describe};
        /* Whether debug registers fire here decides gdb's hbreak/watch. */
        d->hw_ok = glint_hv_probe_hw_breakpoints(d->hw_why, sizeof d->hw_why);
        sb->debug = d;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return glint_sb_fail(sb, GLINT_E_IO, "socket for gdb: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1) != 0) {
        int e = errno;
        close(fd);
        return glint_sb_fail(sb, GLINT_E_IO, "listening for gdb on %s port %u: %s", address,
                             (unsigned)port, strerror(e));
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && bound_port != NULL)
        *bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    d->listen_fd = fd;
    return GLINT_OK;
}
