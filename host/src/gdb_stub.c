/*
 * gdb_stub.c - RSP command handling (gdb_stub.h).  Every packet comes from
 * a socket: numbers are parsed with overflow checks, lengths are bounded by
 * the stub's fixed buffers before anything is read or written, and the
 * target's memory callbacks decide what guest memory is reachable.
 */
#include "gdb_stub.h"

#include <stdio.h>
#include <string.h>

/* After this many malformed packets in a row the peer is not gdb (or the
 * line is broken): close instead of NAKing forever. */
#define MAX_BAD_PACKETS 64u

/* ---- Register layout of the target description ------------------------ */

/* The order of the 'g' packet: core (general, rip, eflags, segments, x87),
 * sse (xmm, mxcsr), segments (fs_base, gs_base): gdb numbers registers in
 * the order the description lists them. */
enum {
    REG_RAX,
    REG_R15 = 15,
    REG_RIP,
    REG_EFLAGS,
    REG_CS,
    REG_GS = 23,
    REG_ST0,
    REG_ST7 = 31,
    REG_FCTRL,
    REG_FSTAT,
    REG_FTAG,
    REG_FISEG,
    REG_FIOFF,
    REG_FOSEG,
    REG_FOOFF,
    REG_FOP,
    REG_XMM0,
    REG_XMM15 = 55,
    REG_MXCSR,
    REG_FS_BASE,
    REG_GS_BASE,
    REG_COUNT
};

static const char target_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
    "<target version=\"1.0\">\n"
    "<architecture>i386:x86-64</architecture>\n"
    "<feature name=\"org.gnu.gdb.i386.core\">\n"
    "<flags id=\"i386_eflags\" size=\"4\">\n"
    "<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>\n"
    "<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>\n"
    "<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>\n"
    "<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>\n"
    "<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>\n"
    "<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>\n"
    "<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>\n"
    "<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>\n"
    "<field name=\"ID\" start=\"21\" end=\"21\"/>\n"
    "</flags>\n"
    "<reg name=\"rax\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rbx\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rcx\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rdx\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rsi\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rdi\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rbp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
    "<reg name=\"rsp\" bitsize=\"64\" type=\"data_ptr\"/>\n"
    "<reg name=\"r8\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r9\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r10\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r11\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r12\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r13\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r14\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"r15\" bitsize=\"64\" type=\"int64\"/>\n"
    "<reg name=\"rip\" bitsize=\"64\" type=\"code_ptr\"/>\n"
    "<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
    "<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
    "<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
    "<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
    "</feature>\n"
    "<feature name=\"org.gnu.gdb.i386.sse\">\n"
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
    "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
    "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
    "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
    "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
    "<union id=\"vec128\">\n"
    "<field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>\n"
    "<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>\n"
    "<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>\n"
    "<field name=\"uint128\" type=\"uint128\"/>\n"
    "</union>\n"
    "<flags id=\"i386_mxcsr\" size=\"4\">\n"
    "<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>\n"
    "<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>\n"
    "<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>\n"
    "<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>\n"
    "<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>\n"
    "<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>\n"
    "<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/>\n"
    "</flags>\n"
    "<reg name=\"xmm0\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm1\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm2\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm3\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm4\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm5\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm6\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm7\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm8\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm9\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm10\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm11\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm12\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm13\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm14\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\"/>\n"
    "<reg name=\"mxcsr\" bitsize=\"32\" type=\"i386_mxcsr\" group=\"vector\"/>\n"
    "</feature>\n"
    "<feature name=\"org.gnu.gdb.i386.segments\">\n"
    "<reg name=\"fs_base\" bitsize=\"64\" type=\"int\"/>\n"
    "<reg name=\"gs_base\" bitsize=\"64\" type=\"int\"/>\n"
    "</feature>\n"
    "</target>\n";

/* Byte size of register n in the 'g' packet. */
static size_t reg_size(int n) {
    if (n <= REG_RIP) return 8;
    if (n >= REG_ST0 && n <= REG_ST7) return 10;
    if (n >= REG_XMM0 && n <= REG_XMM15) return 16;
    if (n == REG_FS_BASE || n == REG_GS_BASE) return 8;
    return 4;
}

/* FXSAVE keeps an abridged tag (one bit: register in use); gdb shows the
 * full x87 tag word (two bits: valid, zero, special, empty). */
static uint16_t full_tag_word(const glint_fpu_regs *f) {
    unsigned top = (f->fsw >> 11) & 7u;
    uint16_t tag = 0;
    for (unsigned phys = 0; phys < 8; phys++) {
        unsigned t = 3; /* empty */
        if (f->ftw & (1u << phys)) {
            const uint8_t *r = f->st[(phys - top) & 7u]; /* st(i) is physical (top + i) % 8 */
            uint16_t exp = (uint16_t)((r[9] & 0x7f) << 8 | r[8]);
            uint64_t mant;
            memcpy(&mant, r, 8);
            if (exp == 0x7fff)
                t = 2;
            else if (exp == 0)
                t = mant == 0 ? 1 : 2;
            else
                t = (mant >> 63) ? 0 : 2;
        }
        tag |= (uint16_t)(t << (2 * phys));
    }
    return tag;
}

static uint8_t abridged_tag(uint16_t full) {
    uint8_t ftw = 0;
    for (unsigned phys = 0; phys < 8; phys++)
        if (((full >> (2 * phys)) & 3u) != 3u) ftw |= (uint8_t)(1u << phys);
    return ftw;
}

static uint64_t *gpr(glint_regs *r, int n) {
    uint64_t *const order[] = {&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi,
                               &r->rbp, &r->rsp, &r->r8,  &r->r9,  &r->r10, &r->r11,
                               &r->r12, &r->r13, &r->r14, &r->r15, &r->rip};
    return order[n];
}

static uint16_t *seg(glint_regs *r, int n) {
    uint16_t *const order[] = {&r->cs, &r->ss, &r->ds, &r->es, &r->fs, &r->gs};
    return order[n - REG_CS];
}

/* Register n in its 'g' packet form (little endian, reg_size(n) bytes). */
static void reg_get(glint_regs *r, glint_fpu_regs *f, int n, uint8_t *out) {
    uint32_t v32 = 0;
    if (n <= REG_RIP) {
        memcpy(out, gpr(r, n), 8);
        return;
    }
    if (n >= REG_ST0 && n <= REG_ST7) {
        memcpy(out, f->st[n - REG_ST0], 10);
        return;
    }
    if (n >= REG_XMM0 && n <= REG_XMM15) {
        memcpy(out, f->xmm[n - REG_XMM0], 16);
        return;
    }
    if (n == REG_FS_BASE || n == REG_GS_BASE) {
        memcpy(out, n == REG_FS_BASE ? &r->fs_base : &r->gs_base, 8);
        return;
    }
    if (n == REG_EFLAGS)
        v32 = (uint32_t)r->rflags;
    else if (n >= REG_CS && n <= REG_GS)
        v32 = *seg(r, n);
    else if (n == REG_FCTRL)
        v32 = f->fcw;
    else if (n == REG_FSTAT)
        v32 = f->fsw;
    else if (n == REG_FTAG)
        v32 = full_tag_word(f);
    else if (n == REG_FISEG)
        v32 = (uint32_t)(f->fip >> 32);
    else if (n == REG_FIOFF)
        v32 = (uint32_t)f->fip;
    else if (n == REG_FOSEG)
        v32 = (uint32_t)(f->fdp >> 32);
    else if (n == REG_FOOFF)
        v32 = (uint32_t)f->fdp;
    else if (n == REG_FOP)
        v32 = f->fop;
    else if (n == REG_MXCSR)
        v32 = f->mxcsr;
    memcpy(out, &v32, 4);
}

/* Stores register n from its packet form.  Returns false for a value the
 * stub refuses: segment selectors and bases are the host's (docs/abi.md). */
static bool reg_set(glint_regs *r, glint_fpu_regs *f, int n, const uint8_t *in) {
    uint32_t v32;
    uint64_t v64;
    if (n <= REG_RIP) {
        memcpy(gpr(r, n), in, 8);
        return true;
    }
    if (n >= REG_ST0 && n <= REG_ST7) {
        memcpy(f->st[n - REG_ST0], in, 10);
        return true;
    }
    if (n >= REG_XMM0 && n <= REG_XMM15) {
        memcpy(f->xmm[n - REG_XMM0], in, 16);
        return true;
    }
    if (n == REG_FS_BASE || n == REG_GS_BASE) {
        memcpy(&v64, in, 8);
        return v64 == (n == REG_FS_BASE ? r->fs_base : r->gs_base);
    }
    memcpy(&v32, in, 4);
    if (n == REG_EFLAGS)
        r->rflags = (r->rflags & ~0xffffffffull) | v32;
    else if (n >= REG_CS && n <= REG_GS)
        return v32 == *seg(r, n);
    else if (n == REG_FCTRL)
        f->fcw = (uint16_t)v32;
    else if (n == REG_FSTAT)
        f->fsw = (uint16_t)v32;
    else if (n == REG_FTAG)
        f->ftw = abridged_tag((uint16_t)v32);
    else if (n == REG_FISEG)
        f->fip = (f->fip & 0xffffffffull) | (uint64_t)v32 << 32;
    else if (n == REG_FIOFF)
        f->fip = (f->fip & ~0xffffffffull) | v32;
    else if (n == REG_FOSEG)
        f->fdp = (f->fdp & 0xffffffffull) | (uint64_t)v32 << 32;
    else if (n == REG_FOOFF)
        f->fdp = (f->fdp & ~0xffffffffull) | v32;
    else if (n == REG_FOP)
        f->fop = (uint16_t)v32;
    else if (n == REG_MXCSR)
        f->mxcsr = v32;
    return true;
}

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
        const int expedite[] = {6, 7, REG_RIP}; /* rbp, rsp, rip */
        for (size_t i = 0; i < sizeof expedite / sizeof expedite[0]; i++) {
            uint8_t v[8];
            reg_get(&r, &f, expedite[i], v);
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
    for (int n = 0; n < REG_COUNT; n++) {
        uint8_t v[16];
        reg_get(&r, &f, n, v);
        glint_gdb_tx_hex(&s->tx, v, reg_size(n));
    }
    reply(s);
}

static void cmd_write_regs(glint_gdb_stub *s, const char *hex, size_t digits) {
    glint_regs r;
    glint_fpu_regs f;
    if (!load_regs(s, &r, &f)) return reply_str(s, "E01");
    size_t pos = 0;
    for (int n = 0; n < REG_COUNT; n++) {
        uint8_t v[16];
        size_t sz = reg_size(n);
        /* gdb may send fewer registers than it knows; the rest stay. */
        if (digits - pos < 2 * sz) break;
        if (!glint_gdb_decode_hex(hex + pos, 2 * sz, v, sizeof v, NULL)) return reply_str(s, "E01");
        if (!reg_set(&r, &f, n, v)) return reply_str(s, "E02");
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
    if (n >= REG_COUNT) return reply_str(s, "E01");
    if (!load_regs(s, &r, &f)) return reply_str(s, "E01");
    uint8_t v[16];
    reg_get(&r, &f, (int)n, v);
    glint_gdb_tx_reset(&s->tx);
    glint_gdb_tx_hex(&s->tx, v, reg_size((int)n));
    reply(s);
}

static void cmd_write_reg(glint_gdb_stub *s, const char *arg, size_t len) {
    uint64_t n;
    const char *p;
    glint_regs r;
    glint_fpu_regs f;
    if (!glint_gdb_parse_hex_u64(arg, &p, &n) || *p != '=' || n >= REG_COUNT)
        return reply_str(s, "E01");
    p++;
    size_t digits = len - (size_t)(p - arg);
    uint8_t v[16];
    if (digits != 2 * reg_size((int)n) || !glint_gdb_decode_hex(p, digits, v, sizeof v, NULL))
        return reply_str(s, "E01");
    if (!load_regs(s, &r, &f)) return reply_str(s, "E01");
    if (!reg_set(&r, &f, (int)n, v)) return reply_str(s, "E02");
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
    const size_t total = sizeof target_xml - 1;
    if (off > total) return reply_str(s, "E01");
    size_t n = total - (size_t)off;
    if (len < n) n = (size_t)len;
    if (n > GLINT_GDB_PACKET_MAX - 1) n = GLINT_GDB_PACKET_MAX - 1;
    glint_gdb_tx_reset(&s->tx);
    glint_gdb_tx_str(&s->tx, off + n < total ? "m" : "l");
    glint_gdb_tx_bytes(&s->tx, target_xml + off, n);
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
