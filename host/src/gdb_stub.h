/*
 * gdb_stub.h - the command side of gdb's Remote Serial Protocol, against a
 * small target interface (registers, memory, hardware breakpoints).  The
 * stub turns bytes from gdb into actions for its owner (continue, step,
 * interrupt, detach, kill) and replies; the owner tells it when the target
 * stopped or ended.  Software breakpoints live here: a table of addresses
 * whose bytes the owner patches to INT3 only while the guest runs
 * (glint_gdb_insert_breakpoints / glint_gdb_remove_breakpoints), so that a
 * stopped or idle guest's memory is never modified.
 *
 * No I/O (replies go through the send callback), no allocation, no globals;
 * all buffers are fixed size.  Every input is hostile: a malformed packet is
 * answered with an error ("E01"), an unknown one with the empty reply that
 * RSP defines for "not supported"; nothing makes the stub read or write
 * outside its buffers.  Supported: ?, g, G, p, P, m, M, X, c, s, C, S,
 * vCont, Z0-Z4/z0-z4, D, k, vKill, H, T, qSupported (PacketSize,
 * qXfer:features:read, swbreak, hwbreak, QStartNoAckMode), qXfer target
 * description (general, segment, x87, SSE registers and fs_base/gs_base),
 * qOffsets, qC, qfThreadInfo, qsThreadInfo, qAttached, qRcmd (monitor).
 */
#ifndef GLINT_GDB_STUB_H
#define GLINT_GDB_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdb_packet.h"
#include "hv.h"

/* gdb's target signal numbers (the "T" stop reply), as used by Linux. */
#define GLINT_GDB_SIGINT 2
#define GLINT_GDB_SIGILL 4
#define GLINT_GDB_SIGTRAP 5
#define GLINT_GDB_SIGABRT 6
#define GLINT_GDB_SIGFPE 8
#define GLINT_GDB_SIGKILL 9
#define GLINT_GDB_SIGSEGV 11
#define GLINT_GDB_SIGALRM 14
#define GLINT_GDB_SIGXCPU 24

#define GLINT_GDB_MAX_BREAKPOINTS 64u
#define GLINT_GDB_MONITOR_MAX 1024u

/* What a stopped target can do; all callbacks receive ctx. */
typedef struct glint_gdb_target {
    void *ctx;
    /* Registers of the stopped guest; false if they cannot be read. */
    bool (*get_regs)(void *ctx, glint_regs *regs, glint_fpu_regs *fpu);
    /* Writes registers back (general, RIP, flags, x87/SSE); false if the
     * current stop does not allow it.  The stub itself refuses changes of
     * segment selectors and bases, which belong to the host. */
    bool (*set_regs)(void *ctx, const glint_regs *regs, const glint_fpu_regs *fpu);
    /* Copies up to len bytes at guest address addr; returns how many bytes
     * from addr on could be read (0: none). */
    size_t (*read_mem)(void *ctx, uint64_t addr, void *dst, size_t len);
    /* Writes len bytes; true only if all of them were written. */
    bool (*write_mem)(void *ctx, uint64_t addr, const void *src, size_t len);
    /* Hardware breakpoint (type 1) or watchpoint (2 write, 3 read, 4 access)
     * of len bytes: 1 done, 0 not supported on this hypervisor, -1 refused
     * (no free debug register, bad alignment).  NULL: never supported. */
    int (*hw_break)(void *ctx, bool insert, int type, uint64_t addr, uint64_t len);
    /* Text for "monitor info" (NUL terminated, truncated to size). */
    void (*describe)(void *ctx, char *buf, size_t size);
} glint_gdb_target;

/* What the owner must do after feeding input. */
typedef enum glint_gdb_action {
    GLINT_GDB_NONE,      /* all input consumed; keep reading */
    GLINT_GDB_CONTINUE,  /* resume the guest */
    GLINT_GDB_STEP,      /* execute one instruction, then report a stop */
    GLINT_GDB_INTERRUPT, /* gdb asked a running guest to stop (Ctrl-C) */
    GLINT_GDB_DETACH,    /* gdb left; the guest runs on without the debugger */
    GLINT_GDB_KILL,      /* gdb killed the guest: end the run */
    GLINT_GDB_CLOSE      /* protocol breakdown: drop the connection */
} glint_gdb_action;

typedef struct glint_gdb_breakpoint {
    uint64_t addr;
    uint8_t saved; /* original byte while inserted */
    bool inserted;
} glint_gdb_breakpoint;

/* Stop flags for glint_gdb_stopped. */
#define GLINT_GDB_STOP_SWBREAK 0x1u /* at one of the table's breakpoints (PC already adjusted) */
#define GLINT_GDB_STOP_FATAL 0x2u   /* the guest cannot resume: any resume ends the run */
#define GLINT_GDB_STOP_HWBREAK 0x4u /* at a hardware breakpoint */
#define GLINT_GDB_STOP_WATCH 0x8u   /* a watchpoint (watch_type, watch_addr) triggered */

typedef void (*glint_gdb_send_fn)(void *io, const uint8_t *data, size_t len);

typedef struct glint_gdb_stub {
    const glint_gdb_target *target;
    glint_gdb_send_fn send;
    void *io;
    uint64_t image_base; /* qOffsets: where the image (linked at 0) was loaded */
    bool no_ack;
    bool running; /* gdb waits for a stop reply */
    bool stopped; /* a stop has been recorded since the last resume */
    int stop_signal;
    uint32_t stop_flags;
    int watch_type;       /* GLINT_GDB_STOP_WATCH: 2 write, 3 read, 4 access */
    uint64_t watch_addr;  /* GLINT_GDB_STOP_WATCH: the watched address */
    uint32_t bad_packets; /* in a row; too many closes the connection */
    uint32_t bp_count;
    glint_gdb_breakpoint bps[GLINT_GDB_MAX_BREAKPOINTS];
    glint_gdb_rx rx;
    glint_gdb_tx tx;
    size_t frame_len;
    uint8_t frame[GLINT_GDB_FRAME_MAX]; /* last reply, for a '-' resend */
    uint8_t mem[GLINT_GDB_PACKET_MAX / 2];
} glint_gdb_stub;

/* Prepares a stub (no stop recorded yet; '?' answers SIGTRAP). */
void glint_gdb_init(glint_gdb_stub *s, const glint_gdb_target *target, glint_gdb_send_fn send,
                    void *io, uint64_t image_base);

/* Processes input bytes until an action other than GLINT_GDB_NONE comes up
 * or the bytes run out; *used receives how many were consumed (the rest
 * belongs to the next call).  Replies are sent as packets complete. */
glint_gdb_action glint_gdb_input(glint_gdb_stub *s, const uint8_t *data, size_t len, size_t *used);

/* The target stopped with signal (GLINT_GDB_SIG*) and flags: sends the stop
 * reply if gdb waits for one, and remembers it for '?'. */
void glint_gdb_stopped(glint_gdb_stub *s, int signal, uint32_t flags);

/* The target ended: "W code" (exited) or "X signal" (killed by it), if gdb
 * waits for a reply.  After this the connection should be closed. */
void glint_gdb_exited(glint_gdb_stub *s, bool by_signal, int code);

/* Patches INT3 into every breakpoint address (through the target's memory
 * callbacks) / restores the original bytes.  Idempotent.  Returns the
 * number of breakpoints that could not be patched. */
uint32_t glint_gdb_insert_breakpoints(glint_gdb_stub *s);
void glint_gdb_remove_breakpoints(glint_gdb_stub *s);
/* True if addr is in the breakpoint table. */
bool glint_gdb_is_breakpoint(const glint_gdb_stub *s, uint64_t addr);

#endif /* GLINT_GDB_STUB_H */
