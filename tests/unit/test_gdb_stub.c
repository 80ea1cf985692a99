/*
 * test_gdb_stub - the gdb remote stub (host/src/gdb_packet.c, gdb_stub.c)
 * against a mock target: framing (checksums, escapes, acks, overflow,
 * interrupts), the target description, registers (g/G/p/P, refusal of
 * segment changes), memory (m/M/X, partial and unmapped reads), software
 * breakpoints patched only while "running" and hidden from reads, hardware
 * breakpoints, resume actions, stop replies, detach and kill, and hostile
 * packets answered with errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdb_stub.h"

#define MEM_BASE 0x1000u
#define MEM_SIZE 0x4000u

typedef struct mock {
    uint8_t mem[MEM_SIZE];
    glint_regs regs;
    glint_fpu_regs fpu;
    bool regs_writable;
    int hw_result; /* what hw_break returns */
    int hw_calls;
    uint8_t out[1 << 17];
    size_t out_len;
} mock;

static bool m_get_regs(void *ctx, glint_regs *r, glint_fpu_regs *f) {
    mock *m = ctx;
    *r = m->regs;
    *f = m->fpu;
    return true;
}

static bool m_set_regs(void *ctx, const glint_regs *r, const glint_fpu_regs *f) {
    mock *m = ctx;
    if (!m->regs_writable) return false;
    m->regs = *r;
    m->fpu = *f;
    return true;
}

static size_t m_read(void *ctx, uint64_t addr, void *dst, size_t len) {
    mock *m = ctx;
    if (addr < MEM_BASE || addr - MEM_BASE >= MEM_SIZE) return 0;
    size_t n = MEM_SIZE - (size_t)(addr - MEM_BASE);
    if (n > len) n = len;
    memcpy(dst, m->mem + (addr - MEM_BASE), n);
    return n;
}

static bool m_write(void *ctx, uint64_t addr, const void *src, size_t len) {
    mock *m = ctx;
    if (addr < MEM_BASE || addr - MEM_BASE >= MEM_SIZE || len > MEM_SIZE - (addr - MEM_BASE))
        return false;
    memcpy(m->mem + (addr - MEM_BASE), src, len);
    return true;
}

static int m_hw(void *ctx, bool insert, int type, uint64_t addr, uint64_t len) {
    mock *m = ctx;
    (void)insert, (void)type, (void)addr, (void)len;
    m->hw_calls++;
    return m->hw_result;
}

static void m_describe(void *ctx, char *buf, size_t size) {
    (void)ctx;
    snprintf(buf, size, "mock target\n");
}

static void m_send(void *io, const uint8_t *data, size_t len) {
    mock *m = io;
    assert_true(len <= sizeof m->out - m->out_len);
    memcpy(m->out + m->out_len, data, len);
    m->out_len += len;
}

typedef struct fixture {
    mock m;
    glint_gdb_target t;
    glint_gdb_stub s;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    for (size_t i = 0; i < MEM_SIZE; i++) f->m.mem[i] = (uint8_t)(i * 7 + 1);
    f->m.regs = (glint_regs){.rax = 0x1111,
                             .rbx = 0x2222,
                             .rsp = 0x4ff0,
                             .rbp = 0x4ff8,
                             .rip = 0x1234,
                             .rflags = 0x246,
                             .cs = 0x1b,
                             .ss = 0x23,
                             .ds = 0x23,
                             .es = 0x23,
                             .fs = 0x23,
                             .gs = 0x23};
    f->m.fpu.fcw = 0x37f;
    f->m.fpu.mxcsr = 0x1f80;
    f->m.fpu.xmm[3][0] = 0xab;
    f->m.regs_writable = true;
    f->t = (glint_gdb_target){.ctx = &f->m,
                              .get_regs = m_get_regs,
                              .set_regs = m_set_regs,
                              .read_mem = m_read,
                              .write_mem = m_write,
                              .hw_break = m_hw,
                              .describe = m_describe};
    glint_gdb_init(&f->s, &f->t, m_send, &f->m, 0x1000);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    free(*state);
    return 0;
}

/* Feeds raw bytes; returns the first action. */
static glint_gdb_action feed_raw(fixture *f, const void *data, size_t len) {
    size_t used = 0, total = 0;
    glint_gdb_action a = GLINT_GDB_NONE;
    while (total < len) {
        a = glint_gdb_input(&f->s, (const uint8_t *)data + total, len - total, &used);
        total += used;
        if (a != GLINT_GDB_NONE) break;
    }
    return a;
}

/* Sends one packet (payload of len bytes) and clears the output first. */
static glint_gdb_action send_n(fixture *f, const char *payload, size_t len) {
    static glint_gdb_tx tx;
    static uint8_t frame[GLINT_GDB_FRAME_MAX];
    glint_gdb_tx_reset(&tx);
    glint_gdb_tx_bytes(&tx, payload, len);
    size_t n = glint_gdb_frame(&tx, frame, sizeof frame);
    assert_true(n > 0);
    f->m.out_len = 0;
    return feed_raw(f, frame, n);
}

static glint_gdb_action send_pkt(fixture *f, const char *payload) {
    return send_n(f, payload, strlen(payload));
}

/* The payload of the last packet in the output (unescaped), NUL terminated;
 * checks its checksum. */
static const char *reply(fixture *f) {
    static char buf[1 << 16];
    const uint8_t *o = f->m.out;
    size_t start = SIZE_MAX;
    for (size_t i = 0; i < f->m.out_len; i++)
        if (o[i] == '$') start = i;
    assert_true(start != SIZE_MAX);
    size_t n = 0;
    unsigned sum = 0;
    size_t i = start + 1;
    for (; i < f->m.out_len && o[i] != '#'; i++) {
        sum += o[i];
        uint8_t c = o[i];
        if (c == '}') {
            i++;
            sum += o[i];
            c = o[i] ^ 0x20;
        }
        buf[n++] = (char)c;
    }
    assert_true(i + 2 < f->m.out_len);
    char hex[3] = {(char)o[i + 1], (char)o[i + 2], 0};
    assert_int_equal(strtoul(hex, NULL, 16), sum & 0xff);
    buf[n] = 0;
    return buf;
}

static void test_framing(void **state) {
    fixture *f = *state;
    /* Good packet: acked, answered. */
    assert_int_equal(send_pkt(f, "qC"), GLINT_GDB_NONE);
    assert_int_equal(f->m.out[0], '+');
    assert_string_equal(reply(f), "QC1");
    /* Bad checksum: NAK, no reply. */
    f->m.out_len = 0;
    feed_raw(f, "$qC#00", 6);
    assert_int_equal(f->m.out_len, 1);
    assert_int_equal(f->m.out[0], '-');
    /* Non-hex checksum. */
    f->m.out_len = 0;
    feed_raw(f, "$qC#zz", 6);
    assert_int_equal(f->m.out[0], '-');
    /* A NAK makes the stub resend its last reply. */
    send_pkt(f, "qC");
    f->m.out_len = 0;
    feed_raw(f, "-", 1);
    assert_string_equal(reply(f), "QC1");
    /* Noise between packets is ignored. */
    f->m.out_len = 0;
    feed_raw(f, "xyz\r\n", 5);
    assert_int_equal(f->m.out_len, 0);
    /* A '$' inside a packet restarts it (NAK for the cut one). */
    f->m.out_len = 0;
    feed_raw(f, "$qfT$qC#b4", 10);
    assert_int_equal(f->m.out[0], '-');
    assert_string_equal(reply(f), "QC1");
}

static void test_overflow_and_escapes(void **state) {
    fixture *f = *state;
    /* A packet longer than the buffer is refused, not overrun. */
    size_t n = GLINT_GDB_PACKET_MAX + 100;
    char *big = malloc(n + 8);
    assert_non_null(big);
    big[0] = '$';
    memset(big + 1, 'a', n);
    unsigned sum = (unsigned)('a' * n) & 0xff;
    snprintf(big + 1 + n, 4, "#%02x", sum);
    f->m.out_len = 0;
    feed_raw(f, big, n + 4);
    assert_int_equal(f->m.out_len, 1);
    assert_int_equal(f->m.out[0], '-');
    free(big);
    /* Escaped bytes in an X packet arrive unescaped in memory. */
    /* '}', '$' and '#' must be escaped on the wire: build the frame by hand. */
    char frame[64];
    size_t k = 0;
    unsigned s = 0;
    frame[k++] = '$';
    const char body[] = {'X', '1',  '0', '0',  '0', ',',  '4', ':',
                         '}', 0x5d, '}', 0x04, '}', 0x03, '7'};
    for (size_t i = 0; i < sizeof body; i++) {
        frame[k++] = body[i];
        s += (uint8_t)body[i];
    }
    k += (size_t)snprintf(frame + k, 4, "#%02x", s & 0xff);
    f->m.out_len = 0;
    feed_raw(f, frame, k);
    assert_string_equal(reply(f), "OK");
    assert_int_equal(f->m.mem[0], '}');
    assert_int_equal(f->m.mem[1], '$');
    assert_int_equal(f->m.mem[2], '#');
    assert_int_equal(f->m.mem[3], '7');
}

static void test_no_ack(void **state) {
    fixture *f = *state;
    send_pkt(f, "QStartNoAckMode");
    assert_int_equal(f->m.out[0], '+');
    assert_string_equal(reply(f), "OK");
    send_pkt(f, "qC");
    assert_int_equal(f->m.out[0], '$');
    f->m.out_len = 0;
    feed_raw(f, "$qC#00", 6);
    assert_int_equal(f->m.out_len, 0);
}

static void test_supported_and_xml(void **state) {
    fixture *f = *state;
    send_pkt(f, "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
    assert_non_null(strstr(reply(f), "PacketSize=4000"));
    assert_non_null(strstr(reply(f), "qXfer:features:read+"));
    /* Read the description in small chunks and put it together. */
    char xml[16384];
    size_t len = 0;
    for (;;) {
        char req[96];
        snprintf(req, sizeof req, "qXfer:features:read:target.xml:%zx,%x", len, 200);
        send_pkt(f, req);
        const char *r = reply(f);
        assert_true(r[0] == 'm' || r[0] == 'l');
        size_t n = strlen(r + 1);
        assert_true(n <= 200 && len + n < sizeof xml);
        memcpy(xml + len, r + 1, n);
        len += n;
        if (r[0] == 'l') break;
    }
    xml[len] = 0;
    assert_non_null(strstr(xml, "<architecture>i386:x86-64</architecture>"));
    assert_non_null(strstr(xml, "org.gnu.gdb.i386.sse"));
    assert_non_null(strstr(xml, "name=\"gs_base\""));
    assert_non_null(strstr(xml, "</target>"));
    send_pkt(f, "qXfer:features:read:other.xml:0,100");
    assert_string_equal(reply(f), "E00");
    send_pkt(f, "qXfer:features:read:target.xml:ffffffff,10");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "qXfer:features:read:target.xml:0");
    assert_string_equal(reply(f), "E01");
}

static void test_registers(void **state) {
    fixture *f = *state;
    send_pkt(f, "g");
    const char *r = reply(f);
    /* 17*8 + 4 + 6*4 + 8*10 + 8*4 + 16*16 + 4 + 2*8 bytes. */
    assert_int_equal(strlen(r), 2 * 552);
    assert_memory_equal(r, "1111000000000000", 16);           /* rax */
    assert_memory_equal(r + 16 * 16, "3412000000000000", 16); /* rip */
    assert_memory_equal(r + 17 * 16, "46020000", 8);          /* eflags */
    assert_memory_equal(r + 17 * 16 + 8, "1b000000", 8);      /* cs */
    /* Round trip of the whole set, with rax changed. */
    char g[2 * 552 + 2];
    strcpy(g + 1, r);
    g[0] = 'G';
    memcpy(g + 1, "efbeadde00000000", 16);
    send_pkt(f, g);
    assert_string_equal(reply(f), "OK");
    assert_int_equal(f->m.regs.rax, 0xdeadbeef);
    assert_int_equal(f->m.regs.rip, 0x1234);
    assert_int_equal(f->m.fpu.xmm[3][0], 0xab);
    assert_int_equal(f->m.fpu.fcw, 0x37f);
    /* A changed segment selector is refused. */
    memcpy(g + 1 + 17 * 16 + 8, "08000000", 8);
    send_pkt(f, g);
    assert_string_equal(reply(f), "E02");
    assert_int_equal(f->m.regs.cs, 0x1b);
    /* Wrong length. */
    send_pkt(f, "G1234");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "Gzz");
    assert_string_equal(reply(f), "E01");
    /* Single registers. */
    send_pkt(f, "p10");
    assert_string_equal(reply(f), "3412000000000000");
    send_pkt(f, "P10=7856341200000000");
    assert_string_equal(reply(f), "OK");
    assert_int_equal(f->m.regs.rip, 0x12345678);
    send_pkt(f, "p28"); /* xmm0 */
    assert_int_equal(strlen(reply(f)), 32);
    send_pkt(f, "p39"); /* fs_base (57) */
    assert_string_equal(reply(f), "0000000000000000");
    send_pkt(f, "p3b"); /* one past the last */
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "pffffffffffffffffff");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "P10=12");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "P12=08000000"); /* cs */
    assert_string_equal(reply(f), "E02");
    /* A stop that does not allow writes. */
    f->m.regs_writable = false;
    send_pkt(f, "P0=0100000000000000");
    assert_string_equal(reply(f), "E03");
}

static void test_memory(void **state) {
    fixture *f = *state;
    send_pkt(f, "m1000,4");
    char want[16];
    snprintf(want, sizeof want, "%02x%02x%02x%02x", f->m.mem[0], f->m.mem[1], f->m.mem[2],
             f->m.mem[3]);
    assert_string_equal(reply(f), want);
    /* Partial: only the bytes up to the end of memory. */
    send_pkt(f, "m4ffe,10");
    assert_int_equal(strlen(reply(f)), 4);
    /* Unmapped, wrapping, malformed, huge. */
    send_pkt(f, "m0,10");
    assert_string_equal(reply(f), "E14");
    send_pkt(f, "mffffffffffffffff,10");
    assert_string_equal(reply(f), "E14");
    send_pkt(f, "m1000");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "m1000,");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "m10000000000000000,1");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "m1000,ffffffffffffffff");
    assert_int_equal(strlen(reply(f)), 2 * (GLINT_GDB_PACKET_MAX / 2));
    send_pkt(f, "m1000,0");
    assert_string_equal(reply(f), "");
    /* Writes. */
    send_pkt(f, "M1010,2:aabb");
    assert_string_equal(reply(f), "OK");
    assert_int_equal(f->m.mem[0x10], 0xaa);
    assert_int_equal(f->m.mem[0x11], 0xbb);
    send_pkt(f, "M1010,2:aab");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "M1010,2:aabbcc");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "M0,1:00");
    assert_string_equal(reply(f), "E14");
    send_pkt(f, "M4fff,2:0000");
    assert_string_equal(reply(f), "E14");
    send_pkt(f, "M1000,ffffffff:00");
    assert_string_equal(reply(f), "E01");
    send_n(f, "X1020,2:\x01\x00", 10);
    assert_string_equal(reply(f), "OK");
    assert_int_equal(f->m.mem[0x20], 1);
    assert_int_equal(f->m.mem[0x21], 0);
    send_n(f, "X1020,3:\x01\x00", 10);
    assert_string_equal(reply(f), "E01");
}

static void test_sw_breakpoints(void **state) {
    fixture *f = *state;
    const uint8_t orig = f->m.mem[0x100];
    send_pkt(f, "Z0,1100,1");
    assert_string_equal(reply(f), "OK");
    assert_true(glint_gdb_is_breakpoint(&f->s, 0x1100));
    assert_int_equal(f->m.mem[0x100], orig); /* not patched while stopped */
    assert_int_equal(glint_gdb_insert_breakpoints(&f->s), 0);
    assert_int_equal(f->m.mem[0x100], 0xCC);
    glint_gdb_insert_breakpoints(&f->s); /* idempotent */
    /* Reads show the original byte; a write under it updates what is restored. */
    send_pkt(f, "m1100,1");
    char want[3];
    snprintf(want, sizeof want, "%02x", orig);
    assert_string_equal(reply(f), want);
    send_pkt(f, "M10ff,2:5566");
    assert_string_equal(reply(f), "OK");
    assert_int_equal(f->m.mem[0xff], 0x55);
    assert_int_equal(f->m.mem[0x100], 0xCC);
    glint_gdb_remove_breakpoints(&f->s);
    assert_int_equal(f->m.mem[0x100], 0x66);
    /* Removal while inserted restores the byte. */
    glint_gdb_insert_breakpoints(&f->s);
    send_pkt(f, "z0,1100,1");
    assert_string_equal(reply(f), "OK");
    assert_int_equal(f->m.mem[0x100], 0x66);
    assert_false(glint_gdb_is_breakpoint(&f->s, 0x1100));
    /* Outside guest memory, malformed, the table's limit. */
    send_pkt(f, "Z0,10,1");
    assert_string_equal(reply(f), "E14");
    send_pkt(f, "Z0,1100");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "Z0,1100,1;X1,0");
    assert_string_equal(reply(f), "E01");
    for (unsigned i = 0; i < GLINT_GDB_MAX_BREAKPOINTS; i++) {
        char p[32];
        snprintf(p, sizeof p, "Z0,%x,1", 0x2000 + i);
        send_pkt(f, p);
        assert_string_equal(reply(f), "OK");
    }
    send_pkt(f, "Z0,3000,1");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "Z0,2000,1"); /* already there */
    assert_string_equal(reply(f), "OK");
}

static void test_hw_breakpoints(void **state) {
    fixture *f = *state;
    f->m.hw_result = 0;
    send_pkt(f, "Z1,1100,1");
    assert_string_equal(reply(f), ""); /* not supported here */
    f->m.hw_result = 1;
    send_pkt(f, "Z2,1100,8");
    assert_string_equal(reply(f), "OK");
    f->m.hw_result = -1;
    send_pkt(f, "z3,1100,8");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "Z5,1100,1");
    assert_string_equal(reply(f), "");
    assert_int_equal(f->m.hw_calls, 3);
    f->t.hw_break = NULL;
    send_pkt(f, "Z1,1100,1");
    assert_string_equal(reply(f), "");
}

static void test_resume_and_stop(void **state) {
    fixture *f = *state;
    send_pkt(f, "?");
    assert_memory_equal(reply(f), "T05thread:1;", 12);
    assert_int_equal(send_pkt(f, "c"), GLINT_GDB_CONTINUE);
    /* While running, only 0x03 means something. */
    f->m.out_len = 0;
    assert_int_equal(feed_raw(f, "\x03", 1), GLINT_GDB_INTERRUPT);
    send_pkt(f, "g");
    assert_string_equal(reply(f), "E01");
    f->m.out_len = 0;
    glint_gdb_stopped(&f->s, GLINT_GDB_SIGTRAP, GLINT_GDB_STOP_SWBREAK);
    const char *r = reply(f);
    assert_memory_equal(r, "T05thread:1;swbreak:;", 21);
    assert_non_null(strstr(r, "10:3412000000000000;")); /* rip expedited */
    /* Stopped: 0x03 does nothing. */
    f->m.out_len = 0;
    assert_int_equal(feed_raw(f, "\x03", 1), GLINT_GDB_NONE);
    assert_int_equal(send_pkt(f, "s"), GLINT_GDB_STEP);
    glint_gdb_stopped(&f->s, GLINT_GDB_SIGTRAP, 0);
    assert_int_equal(send_pkt(f, "c2000"), GLINT_GDB_CONTINUE);
    assert_int_equal(f->m.regs.rip, 0x2000);
    glint_gdb_stopped(&f->s, GLINT_GDB_SIGSEGV, GLINT_GDB_STOP_FATAL);
    assert_memory_equal(reply(f), "T0bthread:1;", 12);
    assert_int_equal(send_pkt(f, "C0b"), GLINT_GDB_CONTINUE);
    glint_gdb_stopped(&f->s, GLINT_GDB_SIGINT, 0);
    assert_int_equal(send_pkt(f, "S05;3000"), GLINT_GDB_STEP);
    assert_int_equal(f->m.regs.rip, 0x3000);
    glint_gdb_stopped(&f->s, GLINT_GDB_SIGTRAP, 0);
    assert_int_equal(send_pkt(f, "Cxx"), GLINT_GDB_NONE);
    assert_string_equal(reply(f), "E01");
    assert_int_equal(send_pkt(f, "c12x"), GLINT_GDB_NONE);
    assert_string_equal(reply(f), "E01");
    /* vCont. */
    send_pkt(f, "vCont?");
    assert_string_equal(reply(f), "vCont;c;C;s;S;t");
    assert_int_equal(send_pkt(f, "vCont;s:1;c"), GLINT_GDB_STEP);
    glint_gdb_stopped(&f->s, GLINT_GDB_SIGTRAP, 0);
    assert_int_equal(send_pkt(f, "vCont;c"), GLINT_GDB_CONTINUE);
    glint_gdb_stopped(&f->s, GLINT_GDB_SIGTRAP, 0);
    assert_int_equal(send_pkt(f, "vCont;C0e:1"), GLINT_GDB_CONTINUE);
    glint_gdb_stopped(&f->s, GLINT_GDB_SIGTRAP, 0);
    assert_int_equal(send_pkt(f, "vCont;x"), GLINT_GDB_NONE);
    assert_string_equal(reply(f), "E01");
    assert_int_equal(send_pkt(f, "vCont"), GLINT_GDB_NONE);
    assert_int_equal(send_pkt(f, "vCont;cc"), GLINT_GDB_NONE);
    /* The end. */
    assert_int_equal(send_pkt(f, "c"), GLINT_GDB_CONTINUE);
    f->m.out_len = 0;
    glint_gdb_exited(&f->s, false, 0);
    assert_string_equal(reply(f), "W00");
    f->m.out_len = 0;
    glint_gdb_exited(&f->s, true, 11); /* nobody waits: nothing sent */
    assert_int_equal(f->m.out_len, 0);
}

static void test_detach_kill_misc(void **state) {
    fixture *f = *state;
    send_pkt(f, "qOffsets");
    assert_string_equal(reply(f), "Text=1000;Data=1000;Bss=1000");
    send_pkt(f, "qfThreadInfo");
    assert_string_equal(reply(f), "m1");
    send_pkt(f, "qsThreadInfo");
    assert_string_equal(reply(f), "l");
    send_pkt(f, "qAttached");
    assert_string_equal(reply(f), "1");
    send_pkt(f, "Hg0");
    assert_string_equal(reply(f), "OK");
    send_pkt(f, "vMustReplyEmpty");
    assert_string_equal(reply(f), "");
    send_pkt(f, "qTStatus");
    assert_string_equal(reply(f), "");
    send_pkt(f, "");
    assert_string_equal(reply(f), "");
    /* monitor info: "info" in hex. */
    send_pkt(f, "qRcmd,696e666f");
    assert_string_equal(reply(f), "6d6f636b207461726765740a"); /* "mock target\n" */
    send_pkt(f, "qRcmd,6");
    assert_string_equal(reply(f), "E01");
    send_pkt(f, "qRcmd,zz");
    assert_string_equal(reply(f), "E01");
    char big[600] = "qRcmd,";
    memset(big + 6, '6', sizeof big - 7);
    big[sizeof big - 1] = 0;
    send_pkt(f, big);
    assert_string_equal(reply(f), "E01");
    assert_int_equal(send_pkt(f, "D"), GLINT_GDB_DETACH);
    assert_string_equal(reply(f), "OK");
    assert_int_equal(send_pkt(f, "k"), GLINT_GDB_KILL);
    assert_int_equal(send_pkt(f, "vKill;1"), GLINT_GDB_KILL);
}

static void test_garbage_closes(void **state) {
    fixture *f = *state;
    glint_gdb_action a = GLINT_GDB_NONE;
    for (int i = 0; i < 100 && a == GLINT_GDB_NONE; i++) a = feed_raw(f, "$x#00", 5);
    assert_int_equal(a, GLINT_GDB_CLOSE);
}

/* Random packets with valid framing: every one gets an answer or an
 * action, and the stub never touches memory outside the mock. */
static void test_random_packets(void **state) {
    fixture *f = *state;
    static const char alphabet[] = "gGpPmMXzZcCsSDkHTvq?:,;=0123456789abcdefxyz$#}*\x03";
    unsigned seed = 12345;
    for (int round = 0; round < 20000; round++) {
        char p[64];
        size_t n = (size_t)(seed % 40);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            p[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        seed = seed * 1103515245u + 12345u;
        glint_gdb_action a = send_n(f, p, n);
        if (a == GLINT_GDB_CONTINUE || a == GLINT_GDB_STEP)
            glint_gdb_stopped(&f->s, GLINT_GDB_SIGTRAP, 0);
        glint_gdb_remove_breakpoints(&f->s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow_and_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_supported_and_xml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sw_breakpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hw_breakpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_and_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detach_kill_misc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_packets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
