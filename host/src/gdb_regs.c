/*
 * gdb_regs.c - the gdb stub's registers (gdb_regs.h): target description
 * and packet layout.  The 'g' packet's order: core (general, rip, eflags,
 * segments, x87), sse (xmm, mxcsr), segments (fs_base, gs_base).
 */
#include "gdb_regs.h"

#include <string.h>

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
_Static_assert(REG_COUNT == GLINT_GDB_REG_COUNT && REG_RIP == GLINT_GDB_REG_RIP,
               "gdb_regs.h agrees with the description");

const char glint_gdb_target_xml[] =
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

const size_t glint_gdb_target_xml_size = sizeof glint_gdb_target_xml - 1;

size_t glint_gdb_reg_size(int n) {
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

void glint_gdb_reg_get(glint_regs *r, glint_fpu_regs *f, int n, uint8_t *out) {
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

bool glint_gdb_reg_set(glint_regs *r, glint_fpu_regs *f, int n, const uint8_t *in) {
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
