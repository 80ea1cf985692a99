/*
 * libFuzzer target: the gdb remote stub (host/src/gdb_packet.c, gdb_stub.c)
 * on arbitrary bytes from the connection, against a mock target whose memory
 * ends at an inaccessible page.
 *
 *   every byte sequence is consumed without reading or writing outside the
 *   stub's buffers or the mock's memory;
 *   replies are well-framed packets ('$' ... '#xx' with a correct checksum)
 *   or single '+'/'-' bytes;
 *   resume actions are answered by a stop (as the sandbox does), so long
 *   inputs walk through many stop/resume cycles with breakpoints patched
 *   (INT3 exactly at the table's addresses) and removed each time.
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "gdb_stub.h"

#define PAGE 4096u
#define MEM_BASE 0x10000u
#define MEM_SIZE (4u * PAGE)

static void check(int ok) {
    if (!ok) abort();
}

typedef struct mock {
    uint8_t *mem; /* MEM_SIZE bytes followed by a PROT_NONE page */
    glint_regs regs;
    glint_fpu_regs fpu;
    uint64_t sent;
} mock;

static bool get_regs(void *ctx, glint_regs *r, glint_fpu_regs *f) {
    mock *m = ctx;
    *r = m->regs;
    *f = m->fpu;
    return true;
}

static bool set_regs(void *ctx, const glint_regs *r, const glint_fpu_regs *f) {
    mock *m = ctx;
    m->regs = *r;
    m->fpu = *f;
    return true;
}

static size_t read_mem(void *ctx, uint64_t addr, void *dst, size_t len) {
    mock *m = ctx;
    if (addr < MEM_BASE || addr - MEM_BASE >= MEM_SIZE) return 0;
    size_t n = MEM_SIZE - (size_t)(addr - MEM_BASE);
    if (n > len) n = len;
    memcpy(dst, m->mem + (addr - MEM_BASE), n);
    return n;
}

static bool write_mem(void *ctx, uint64_t addr, const void *src, size_t len) {
    mock *m = ctx;
    if (addr < MEM_BASE || addr - MEM_BASE >= MEM_SIZE || len > MEM_SIZE - (addr - MEM_BASE))
        return false;
    memcpy(m->mem + (addr - MEM_BASE), src, len);
    return true;
}

static int hw_break(void *ctx, bool insert, int type, uint64_t addr, uint64_t len) {
    (void)ctx, (void)insert;
    check(type >= 1 && type <= 4);
    return (addr ^ len) & 1 ? 1 : 0;
}

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Every reply is '+', '-' or one whole packet with a good checksum. */
static void send_fn(void *io, const uint8_t *d, size_t n) {
    mock *m = io;
    m->sent += n;
    if (n == 1) {
        check(d[0] == '+' || d[0] == '-');
        return;
    }
    check(n >= 4 && d[0] == '$' && d[n - 3] == '#');
    unsigned sum = 0;
    for (size_t i = 1; i < n - 3; i++) {
        check(d[i] != '$' && d[i] != '#');
        sum += d[i];
    }
    check(hexval(d[n - 2]) >= 0 && hexval(d[n - 1]) >= 0);
    check((unsigned)(hexval(d[n - 2]) << 4 | hexval(d[n - 1])) == (sum & 0xffu));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static glint_gdb_stub stub; /* 80 KiB: not on the fuzzer's stack */
    static uint8_t *area;
    static uint8_t pristine[MEM_SIZE];
    if (area == NULL) {
        area =
            mmap(NULL, MEM_SIZE + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        check(area != MAP_FAILED);
        check(mprotect(area + MEM_SIZE, PAGE, PROT_NONE) == 0);
        for (size_t i = 0; i < MEM_SIZE; i++) pristine[i] = (uint8_t)(i * 13 + 5);
    }
    memcpy(area, pristine, MEM_SIZE);
    mock m = {.mem = area};
    m.regs.rip = MEM_BASE + 0x40;
    m.regs.rsp = MEM_BASE + MEM_SIZE - 64;
    m.regs.cs = 0x1b;
    m.regs.ss = 0x23;
    const glint_gdb_target t = {.ctx = &m,
                                .get_regs = get_regs,
                                .set_regs = set_regs,
                                .read_mem = read_mem,
                                .write_mem = write_mem,
                                .hw_break = hw_break,
                                .describe = NULL};
    glint_gdb_init(&stub, &t, send_fn, &m, MEM_BASE);
    size_t pos = 0;
    unsigned cycles = 0;
    while (pos < size) {
        size_t used = 0;
        glint_gdb_action a = glint_gdb_input(&stub, data + pos, size - pos, &used);
        check(used <= size - pos);
        pos += used;
        if (a == GLINT_GDB_CLOSE || a == GLINT_GDB_KILL || a == GLINT_GDB_DETACH) break;
        if (a == GLINT_GDB_CONTINUE || a == GLINT_GDB_STEP) {
            glint_gdb_insert_breakpoints(&stub);
            /* Patched bytes are INT3 exactly at table addresses. */
            for (uint32_t i = 0; i < stub.bp_count; i++)
                if (stub.bps[i].inserted) check(area[stub.bps[i].addr - MEM_BASE] == 0xCC);
            glint_gdb_remove_breakpoints(&stub);
            cycles++;
            glint_gdb_stopped(&stub, (cycles & 1) ? GLINT_GDB_SIGTRAP : GLINT_GDB_SIGINT,
                              (cycles & 2) ? GLINT_GDB_STOP_SWBREAK : 0);
        }
        if (a == GLINT_GDB_NONE) check(pos == size);
    }
    glint_gdb_exited(&stub, false, 0);
    return 0;
}
