/*
 * gdb_stub.c - RSP command handling (gdb_stub.h).  Every packet comes from
 * a socket: numbers are parsed with overflow checks, lengths are bounded by
 * the stub's fixed buffers before anything is read or written, and the
 * target's memory callbacks decide what guest memory is reachable.
 */
#include "gdb_stub.h"

#include <stdio.h>
#include <string.h>

#include "gdb_regs.h"

/* After this many malformed packets in a row the peer is not gdb (or the
 * line is broken): close instead of NAKing forever. */
#define MAX_BAD_PACKETS 64u

/* ---- Replies ----------------------------------------------------------- */

static void send_raw(glint_gdb_stub *s, const uint8_t *data, size_t len) {
    if (s->send != NULL && len != 0) s->send(s->io, data, len);
}

/* Sends tx as one packet (an error if it overflowed) and keeps the frame
 * for a resend. */
static void reply(glint_gdb_stub *s) {
    if (s->tx.overflow) {
        glint_gdb_tx_reset(&s->tx);
        glint_gdb_tx_str(&s->tx, "E01");
    }
    s->frame_len = glint_gdb_frame(&s->tx, s->frame, sizeof s->frame);
    send_raw(s, s->frame, s->frame_len);
    glint_gdb_tx_reset(&s->tx);
}

static void reply_str(glint_gdb_stub *s, const char *text) {
    glint_gdb_tx_reset(&s->tx);
    glint_gdb_tx_str(&s->tx, text);
    reply(s);
}

static void reply_stop(glint_gdb_stub *s) {
    glint_gdb_tx_reset(&s->tx);
    glint_gdb_tx_printf(&s->tx, "T%02xthread:1;", (unsigned)s->stop_signal & 0xffu);
    if (s->stop_flags & GLINT_GDB_STOP_SWBREAK) glint_gdb_tx_str(&s->tx, "swbreak:;");
    if (s->stop_flags & GLINT_GDB_STOP_HWBREAK) glint_gdb_tx_str(&s->tx, "hwbreak:;");
    if (s->stop_flags & GLINT_GDB_STOP_WATCH)
        glint_gdb_tx_printf(&s->tx, "%s:%llx;",
                            s->watch_type == 3   ? "rwatch"
                            : s->watch_type == 4 ? "awatch"
                                                 : "watch",
                            (unsigned long long)s->watch_addr);
    /* The registers a backtrace starts from, to spare gdb a 'g' round trip. */
    glint_regs r;
    glint_fpu_regs f;
    memset(&r, 0, sizeof r);
    memset(&f, 0, sizeof f);
    if (s->target->get_regs != NULL && s->target->get_regs(s->target->ctx, &r, &f)) {
        const int expedite[] = {GLINT_GDB_REG_RBP, GLINT_GDB_REG_RSP, GLINT_GDB_REG_RIP};
        for (size_t i = 0; i < sizeof expedite / sizeof expedite[0]; i++) {
            uint8_t v[8];
            glint_gdb_reg_get(&r, &f, expedite[i], v);
            glint_gdb_tx_printf(&s->tx, "%02x:", expedite[i]);
            glint_gdb_tx_hex(&s->tx, v, 8);
            glint_gdb_tx_str(&s->tx, ";");
        }
    }
    reply(s);
}

/* ---- Commands ----------------------------------------------------------- */

/* Parses "ADDR,LEN" (hex) and stops at the first byte after LEN. */
static bool parse_addr_len(const char *p, const char **end, uint64_t *addr, uint64_t *len) {
    if (!glint_gdb_parse_hex_u64(p, &p, addr) || *p != ',') return false;
    return glint_gdb_parse_hex_u64(p + 1, end, len);
}

static bool load_regs(glint_gdb_stub *s, glint_regs *r, glint_fpu_regs *f) {
    memset(r, 0, sizeof *r);
    memset(f, 0, sizeof *f);
    return s->target->get_regs != NULL && s->target->get_regs(s->target->ctx, r, f);
}

static void cmd_read_regs(glint_gdb_stub *s) {
    glint_regs r;
    glint_fpu_regs f;
    if (!load_regs(s, &r, &f)) return reply_str(s, "E01");
    glint_gdb_tx_reset(&s->tx);
    for (int n = 0; n < GLINT_GDB_REG_COUNT; n++) {
        uint8_t v[16];
        glint_gdb_reg_get(&r, &f, n, v);
        glint_gdb_tx_hex(&s->tx, v, glint_gdb_reg_size(n));
    }
    reply(s);
}

static void cmd_write_regs(glint_gdb_stub *s, const char *hex, size_t digits) {
    glint_regs r;
    glint_fpu_regs f;
    if (!load_regs(s, &r, &f)) return reply_str(s, "E01");
    size_t pos = 0;
    for (int n = 0; n < GLINT_GDB_REG_COUNT; n++) {
        uint8_t v[16];
        size_t sz = glint_gdb_reg_size(n);
        /* gdb may send fewer registers than it knows; the rest stay. */
        if (digits - pos < 2 * sz) break;
        if (!glint_gdb_decode_hex(hex + pos, 2 * sz, v, sizeof v, NULL)) return reply_str(s, "E01");
        if (!glint_gdb_reg_set(&r, &f, n, v)) return reply_str(s, "E02");
        pos += 2 * sz;
    }
    if (pos != digits) return reply_str(s, "E01");
    if (s->target->set_regs == NULL || !s->target->set_regs(s->target->ctx, &r, &f))
        return reply_str(s, "E03");
    reply_str(s, "OK");
}

static void cmd_read_reg(glint_gdb_stub *s, const char *arg) {
    uint64_t n;
    const char *end;
    glint_regs r;
    glint_fpu_regs f;
    if (!glint_gdb_parse_hex_u64(arg, &end, &n) || *end != 0) return reply_str(s, "E01");
    if (n >= GLINT_GDB_REG_COUNT) return reply_str(s, "E01");
    if (!load_regs(s, &r, &f)) return reply_str(s, "E01");
    uint8_t v[16];
    glint_gdb_reg_get(&r, &f, (int)n, v);
    glint_gdb_tx_reset(&s->tx);
    glint_gdb_tx_hex(&s->tx, v, glint_gdb_reg_size((int)n));
    reply(s);
}

static void cmd_write_reg(glint_gdb_stub *s, const char *arg, size_t len) {
    uint64_t n;
    const char *p;
    glint_regs r;
    glint_fpu_regs f;
    if (!glint_gdb_parse_hex_u64(arg, &p, &n) || *p != '=' || n >= GLINT_GDB_REG_COUNT)
        return reply_str(s, "E01");
    p++;
    size_t digits = len - (size_t)(p - arg);
    uint8_t v[16];
    if (digits != 2 * glint_gdb_reg_size((int)n) ||
        !glint_gdb_decode_hex(p, digits, v, sizeof v, NULL))
        return reply_str(s, "E01");
    if (!load_regs(s, &r, &f)) return reply_str(s, "E01");
    if (!glint_gdb_reg_set(&r, &f, (int)n, v)) return reply_str(s, "E02");
    if (s->target->set_regs == NULL || !s->target->set_regs(s->target->ctx, &r, &f))
        return reply_str(s, "E03");
    reply_str(s, "OK");
}

/* While the guest runs with breakpoints inserted, memory shows INT3 at
 * their addresses; gdb must see (and write) the original bytes. */
static void hide_breakpoints(const glint_gdb_stub *s, uint64_t addr, uint8_t *buf, size_t len) {
    for (uint32_t i = 0; i < s->bp_count; i++) {
        const glint_gdb_breakpoint *b = &s->bps[i];
        if (b->inserted && b->addr - addr < len) buf[b->addr - addr] = b->saved;
    }
}

static void cmd_read_mem(glint_gdb_stub *s, const char *arg) {
    uint64_t addr, len;
    const char *end;
    if (!parse_addr_len(arg, &end, &addr, &len) || *end != 0) return reply_str(s, "E01");
    if (len > sizeof s->mem) len = sizeof s->mem; /* gdb asks again for the rest */
    if (len == 0) return reply_str(s, "");
    size_t got = s->target->read_mem(s->target->ctx, addr, s->mem, (size_t)len);
    if (got == 0) return reply_str(s, "E14"); /* EFAULT, as gdbserver says */
    if (got > len) got = (size_t)len;
    hide_breakpoints(s, addr, s->mem, got);
    glint_gdb_tx_reset(&s->tx);
    glint_gdb_tx_hex(&s->tx, s->mem, got);
    reply(s);
}

/* M (hex data) or X (binary data); data/avail is what follows the ':'. */
static void cmd_write_mem(glint_gdb_stub *s, const char *arg, size_t arg_len, bool binary) {
    uint64_t addr, len;
    const char *p;
    if (!parse_addr_len(arg, &p, &addr, &len) || *p != ':') return reply_str(s, "E01");
    p++;
    size_t avail = arg_len - (size_t)(p - arg);
    if (len > sizeof s->mem) return reply_str(s, "E01");
    if (binary) {
        if (avail != len) return reply_str(s, "E01");
        memcpy(s->mem, p, avail);
    } else if (avail != 2 * len || !glint_gdb_decode_hex(p, avail, s->mem, sizeof s->mem, NULL)) {
        return reply_str(s, "E01");
    }
    if (len == 0) return reply_str(s, "OK");
    /* A write over an inserted breakpoint changes the byte to restore. */
    for (uint32_t i = 0; i < s->bp_count; i++) {
        glint_gdb_breakpoint *b = &s->bps[i];
        if (b->inserted && b->addr - addr < len) {
            b->saved = s->mem[b->addr - addr];
            s->mem[b->addr - addr] = 0xCC;
        }
    }
    if (!s->target->write_mem(s->target->ctx, addr, s->mem, (size_t)len))
        return reply_str(s, "E14");
    reply_str(s, "OK");
}

static int find_breakpoint(const glint_gdb_stub *s, uint64_t addr) {
    for (uint32_t i = 0; i < s->bp_count; i++)
        if (s->bps[i].addr == addr) return (int)i;
    return -1;
}

bool glint_gdb_is_breakpoint(const glint_gdb_stub *s, uint64_t addr) {
    return find_breakpoint(s, addr) >= 0;
}

static void cmd_breakpoint(glint_gdb_stub *s, const char *arg, bool insert) {
    uint64_t type, addr, kind;
    const char *p;
    if (!glint_gdb_parse_hex_u64(arg, &p, &type) || *p != ',' ||
        !parse_addr_len(p + 1, &p, &addr, &kind))
        return reply_str(s, "E01");
    /* Conditions and commands (";X...") are not supported: gdb evaluates
     * them itself when the stub does not say it can. */
    if (*p != 0) return reply_str(s, "E01");
    if (type == 0) {
        int i = find_breakpoint(s, addr);
        if (!insert) {
            if (i >= 0) {
                glint_gdb_breakpoint *b = &s->bps[i];
                if (b->inserted) s->target->write_mem(s->target->ctx, b->addr, &b->saved, 1);
                s->bps[i] = s->bps[--s->bp_count];
            }
            return reply_str(s, "OK");
        }
        if (i >= 0) return reply_str(s, "OK");
        uint8_t byte;
        if (s->bp_count == GLINT_GDB_MAX_BREAKPOINTS) return reply_str(s, "E01");
        /* Refuse an address that is not guest memory now, not at resume. */
        if (s->target->read_mem(s->target->ctx, addr, &byte, 1) != 1) return reply_str(s, "E14");
        s->bps[s->bp_count++] = (glint_gdb_breakpoint){.addr = addr};
        return reply_str(s, "OK");
    }
    if (type > 4) return reply_str(s, "");
    if (s->target->hw_break == NULL) return reply_str(s, "");
    int r = s->target->hw_break(s->target->ctx, insert, (int)type, addr, kind);
    reply_str(s, r > 0 ? "OK" : r == 0 ? "" : "E01");
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH */
static void cmd_xfer_features(glint_gdb_stub *s, const char *arg) {
    static const char annex[] = "target.xml:";
    uint64_t off, len;
    const char *end;
    if (strncmp(arg, annex, sizeof annex - 1) != 0) return reply_str(s, "E00");
    if (!parse_addr_len(arg + sizeof annex - 1, &end, &off, &len) || *end != 0)
        return reply_str(s, "E01");
    const size_t total = glint_gdb_target_xml_size;
    if (off > total) return reply_str(s, "E01");
    size_t n = total - (size_t)off;
    if (len < n) n = (size_t)len;
    if (n > GLINT_GDB_PACKET_MAX - 1) n = GLINT_GDB_PACKET_MAX - 1;
    glint_gdb_tx_reset(&s->tx);
    glint_gdb_tx_str(&s->tx, off + n < total ? "m" : "l");
    glint_gdb_tx_bytes(&s->tx, glint_gdb_target_xml + off, n);
    reply(s);
}

/* qRcmd,HEX: "monitor" commands. */
static void cmd_monitor(glint_gdb_stub *s, const char *hex, size_t digits) {
    char cmd[128];
    size_t n;
    if (digits / 2 >= sizeof cmd ||
        !glint_gdb_decode_hex(hex, digits, (uint8_t *)cmd, sizeof cmd - 1, &n))
        return reply_str(s, "E01");
    cmd[n] = 0;
    char text[GLINT_GDB_MONITOR_MAX];
    if (strcmp(cmd, "info") == 0 && s->target->describe != NULL) {
        text[0] = 0;
        s->target->describe(s->target->ctx, text, sizeof text);
        text[sizeof text - 1] = 0;
    } else {
        snprintf(text, sizeof text,
                 "Glint gdb stub. Commands: \"monitor info\" (guest, layout, what this "
                 "hypervisor supports).\n");
    }
    glint_gdb_tx_reset(&s->tx);
    glint_gdb_tx_hex(&s->tx, text, strlen(text));
    reply(s);
}

static bool starts(const char *p, const char *prefix) {
    return strncmp(p, prefix, strlen(prefix)) == 0;
}

/* A resume command's optional address ("c ADDR", "s ADDR", "C sig;ADDR"):
 * moves RIP there first.  False if malformed or the target refuses. */
static bool resume_at(glint_gdb_stub *s, const char *arg) {
    if (*arg == 0) return true;
    uint64_t addr;
    const char *end;
    glint_regs r;
    glint_fpu_regs f;
    if (!glint_gdb_parse_hex_u64(arg, &end, &addr) || *end != 0) return false;
    if (!load_regs(s, &r, &f)) return false;
    r.rip = addr;
    return s->target->set_regs != NULL && s->target->set_regs(s->target->ctx, &r, &f);
}

/* vCont;ACTION[:THREAD][;ACTION...]: one thread, so the first action
 * decides.  The signal of C/S cannot be delivered to a guest: ignored. */
static glint_gdb_action cmd_vcont(glint_gdb_stub *s, const char *arg) {
    if (*arg != ';') {
        reply_str(s, "E01");
        return GLINT_GDB_NONE;
    }
    char a = arg[1];
    if (a == 'c' || a == 's') {
        if (arg[2] != 0 && arg[2] != ':' && arg[2] != ';') goto bad;
    } else if (a == 'C' || a == 'S') {
        uint64_t sig;
        const char *end;
        if (!glint_gdb_parse_hex_u64(arg + 2, &end, &sig) || sig > 0xff) goto bad;
        if (*end != 0 && *end != ':' && *end != ';') goto bad;
    } else if (a == 't') {
        /* Stop a thread that is already stopped: report it again. */
        reply_stop(s);
        return GLINT_GDB_NONE;
    } else {
        goto bad;
    }
    s->running = true;
    s->stopped = false;
    return (a == 's' || a == 'S') ? GLINT_GDB_STEP : GLINT_GDB_CONTINUE;
bad:
    reply_str(s, "E01");
    return GLINT_GDB_NONE;
}

static glint_gdb_action resume(glint_gdb_stub *s, bool step, const char *addr_arg) {
    if (!resume_at(s, addr_arg)) {
        reply_str(s, "E01");
        return GLINT_GDB_NONE;
    }
    s->running = true;
    s->stopped = false;
    return step ? GLINT_GDB_STEP : GLINT_GDB_CONTINUE;
}

static glint_gdb_action dispatch(glint_gdb_stub *s, const char *p, size_t len) {
    switch (p[0]) {
    case '?': reply_stop(s); return GLINT_GDB_NONE;
    case 'g':
        if (len != 1) break;
        cmd_read_regs(s);
        return GLINT_GDB_NONE;
    case 'G': cmd_write_regs(s, p + 1, len - 1); return GLINT_GDB_NONE;
    case 'p': cmd_read_reg(s, p + 1); return GLINT_GDB_NONE;
    case 'P': cmd_write_reg(s, p + 1, len - 1); return GLINT_GDB_NONE;
    case 'm': cmd_read_mem(s, p + 1); return GLINT_GDB_NONE;
    case 'M': cmd_write_mem(s, p + 1, len - 1, false); return GLINT_GDB_NONE;
    case 'X': cmd_write_mem(s, p + 1, len - 1, true); return GLINT_GDB_NONE;
    case 'Z': cmd_breakpoint(s, p + 1, true); return GLINT_GDB_NONE;
    case 'z': cmd_breakpoint(s, p + 1, false); return GLINT_GDB_NONE;
    case 'c': return resume(s, false, p + 1);
    case 's': return resume(s, true, p + 1);
    case 'C':
    case 'S': {
        uint64_t sig;
        const char *end;
        if (!glint_gdb_parse_hex_u64(p + 1, &end, &sig) || sig > 0xff ||
            (*end != 0 && *end != ';')) {
            reply_str(s, "E01");
            return GLINT_GDB_NONE;
        }
        return resume(s, p[0] == 'S', *end == ';' ? end + 1 : end);
    }
    case 'D': reply_str(s, "OK"); return GLINT_GDB_DETACH;
    case 'k': return GLINT_GDB_KILL;
    case 'H':
        /* One thread: any selection is fine. */
        reply_str(s, "OK");
        return GLINT_GDB_NONE;
    case 'T': reply_str(s, "OK"); return GLINT_GDB_NONE;
    case 'v':
        if (strcmp(p, "vCont?") == 0) {
            reply_str(s, "vCont;c;C;s;S;t");
            return GLINT_GDB_NONE;
        }
        if (starts(p, "vCont")) return cmd_vcont(s, p + 5);
        if (starts(p, "vKill")) {
            reply_str(s, "OK");
            return GLINT_GDB_KILL;
        }
        break;
    case 'q':
        if (starts(p, "qSupported")) {
            glint_gdb_tx_reset(&s->tx);
            glint_gdb_tx_printf(&s->tx,
                                "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;"
                                "QStartNoAckMode+;vContSupported+",
                                GLINT_GDB_PACKET_MAX);
            reply(s);
            return GLINT_GDB_NONE;
        }
        if (starts(p, "qXfer:features:read:")) {
            cmd_xfer_features(s, p + strlen("qXfer:features:read:"));
            return GLINT_GDB_NONE;
        }
        if (strcmp(p, "qOffsets") == 0) {
            glint_gdb_tx_reset(&s->tx);
            glint_gdb_tx_printf(
                &s->tx, "Text=%llx;Data=%llx;Bss=%llx", (unsigned long long)s->image_base,
                (unsigned long long)s->image_base, (unsigned long long)s->image_base);
            reply(s);
            return GLINT_GDB_NONE;
        }
        if (strcmp(p, "qC") == 0) {
            reply_str(s, "QC1");
            return GLINT_GDB_NONE;
        }
        if (strcmp(p, "qfThreadInfo") == 0) {
            reply_str(s, "m1");
            return GLINT_GDB_NONE;
        }
        if (strcmp(p, "qsThreadInfo") == 0) {
            reply_str(s, "l");
            return GLINT_GDB_NONE;
        }
        if (starts(p, "qAttached")) {
            reply_str(s, "1");
            return GLINT_GDB_NONE;
        }
        if (starts(p, "qRcmd,")) {
            cmd_monitor(s, p + 6, len - 6);
            return GLINT_GDB_NONE;
        }
        break;
    case 'Q':
        if (strcmp(p, "QStartNoAckMode") == 0) {
            reply_str(s, "OK");
            s->no_ack = true;
            return GLINT_GDB_NONE;
        }
        break;
    default: break;
    }
    reply_str(s, ""); /* not supported */
    return GLINT_GDB_NONE;
}

/* ---- Public ------------------------------------------------------------ */

void glint_gdb_init(glint_gdb_stub *s, const glint_gdb_target *target, glint_gdb_send_fn send,
                    void *io, uint64_t image_base) {
    memset(s, 0, sizeof *s);
    s->target = target;
    s->send = send;
    s->io = io;
    s->image_base = image_base;
    s->stop_signal = GLINT_GDB_SIGTRAP;
    glint_gdb_rx_init(&s->rx);
}

glint_gdb_action glint_gdb_input(glint_gdb_stub *s, const uint8_t *data, size_t len, size_t *used) {
    glint_gdb_action action = GLINT_GDB_NONE;
    size_t i = 0;
    while (i < len && action == GLINT_GDB_NONE) {
        glint_gdb_rx_event ev = glint_gdb_rx_byte(&s->rx, data[i++]);
        switch (ev) {
        case GLINT_GDB_RX_NONE:
        case GLINT_GDB_RX_ACK: break;
        case GLINT_GDB_RX_NAK:
            if (!s->no_ack) send_raw(s, s->frame, s->frame_len);
            break;
        case GLINT_GDB_RX_INTERRUPT:
            if (s->running) action = GLINT_GDB_INTERRUPT;
            break;
        case GLINT_GDB_RX_BAD:
            if (!s->no_ack) send_raw(s, (const uint8_t *)"-", 1);
            if (++s->bad_packets >= MAX_BAD_PACKETS) action = GLINT_GDB_CLOSE;
            break;
        case GLINT_GDB_RX_PACKET:
            s->bad_packets = 0;
            if (!s->no_ack) send_raw(s, (const uint8_t *)"+", 1);
            if (s->running) {
                /* All-stop: gdb sends nothing but 0x03 while the guest runs. */
                reply_str(s, "E01");
                break;
            }
            if (s->rx.len == 0) {
                reply_str(s, "");
                break;
            }
            action = dispatch(s, (const char *)s->rx.buf, s->rx.len);
            break;
        }
    }
    if (used != NULL) *used = i;
    return action;
}

void glint_gdb_stopped(glint_gdb_stub *s, int signal, uint32_t flags) {
    s->stop_signal = signal;
    s->stop_flags = flags;
    s->stopped = true;
    if (s->running) {
        s->running = false;
        reply_stop(s);
    }
}

void glint_gdb_exited(glint_gdb_stub *s, bool by_signal, int code) {
    if (!s->running) return;
    s->running = false;
    glint_gdb_tx_reset(&s->tx);
    glint_gdb_tx_printf(&s->tx, "%c%02x", by_signal ? 'X' : 'W', (unsigned)code & 0xffu);
    reply(s);
}

uint32_t glint_gdb_insert_breakpoints(glint_gdb_stub *s) {
    static const uint8_t int3 = 0xCC;
    uint32_t failed = 0;
    for (uint32_t i = 0; i < s->bp_count; i++) {
        glint_gdb_breakpoint *b = &s->bps[i];
        if (b->inserted) continue;
        if (s->target->read_mem(s->target->ctx, b->addr, &b->saved, 1) != 1 ||
            !s->target->write_mem(s->target->ctx, b->addr, &int3, 1)) {
            failed++;
            continue;
        }
        b->inserted = true;
    }
    return failed;
}

void glint_gdb_remove_breakpoints(glint_gdb_stub *s) {
    for (uint32_t i = 0; i < s->bp_count; i++) {
        glint_gdb_breakpoint *b = &s->bps[i];
        if (!b->inserted) continue;
        s->target->write_mem(s->target->ctx, b->addr, &b->saved, 1);
        b->inserted = false;
    }
}
