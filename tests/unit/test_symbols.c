/*
 * test_symbols - guest symbols and the frame-pointer unwinder
 * (host/src/symbols.c, glint_elf_find_symtab): a synthetic ELF with a
 * symbol table (lookup, aliases, sized and unsized functions, names cut),
 * hostile section headers and symbol tables, the real test guest when it is
 * built, and unwinding of well-formed and hostile stacks (loops, frames that
 * go down, wild and misaligned pointers, unreadable memory, endless chains),
 * formatting into buffers that end at a guard page.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_loader.h"
#include "symbols.h"
#include "unit_support.h"

#define BASE 0x1000u
#define IMAGE 0x10000u

/* ---- A synthetic ELF: header, .symtab, .strtab, section headers ---------- */

typedef struct synth {
    uint8_t buf[8192];
    size_t size;
    Elf64_Ehdr *eh;
    Elf64_Shdr *sh; /* 3: null, symtab, strtab */
    Elf64_Sym *sym;
    char *str;
} synth;

static const char strtab[] = "\0alpha\0beta\0gamma\0local_alias\0global_alias\0data\0huge\0";

static void synth_build(synth *s) {
    memset(s, 0, sizeof *s);
    s->eh = (Elf64_Ehdr *)s->buf;
    memcpy(s->eh->e_ident, ELFMAG, SELFMAG);
    s->eh->e_ident[EI_CLASS] = ELFCLASS64;
    s->eh->e_ident[EI_DATA] = ELFDATA2LSB;
    s->eh->e_ident[EI_VERSION] = EV_CURRENT;
    s->eh->e_type = ET_DYN;
    s->eh->e_machine = EM_X86_64;
    s->eh->e_version = EV_CURRENT;
    s->eh->e_ehsize = sizeof(Elf64_Ehdr);
    s->eh->e_phentsize = sizeof(Elf64_Phdr);
    s->eh->e_phnum = 1; /* check_header wants one; find_symtab never reads it */
    s->eh->e_phoff = sizeof(Elf64_Ehdr);
    size_t off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    s->sym = (Elf64_Sym *)(s->buf + off);
    const struct {
        uint32_t name;
        uint64_t value, size;
        unsigned char type, bind;
    } syms[] = {
        {0, 0, 0, STT_NOTYPE, STB_LOCAL},
        {1, 0x100, 0x20, STT_FUNC, STB_GLOBAL},       /* alpha */
        {7, 0x200, 0, STT_FUNC, STB_LOCAL},           /* beta, no size */
        {12, 0x300, 0x10, STT_FUNC, STB_LOCAL},       /* gamma */
        {18, 0x400, 0x20, STT_FUNC, STB_LOCAL},       /* local_alias */
        {30, 0x400, 0x20, STT_FUNC, STB_GLOBAL},      /* global_alias: wins */
        {43, 0x500, 0x10, STT_OBJECT, STB_GLOBAL},    /* data: not a function */
        {48, 0x600, ~0ull, STT_FUNC, STB_GLOBAL},     /* huge: size clamped */
        {1, IMAGE + 0x10, 0x10, STT_FUNC, STB_LOCAL}, /* outside the image */
    };
    const size_t nsym = sizeof syms / sizeof syms[0];
    for (size_t i = 0; i < nsym; i++) {
        s->sym[i].st_name = syms[i].name;
        s->sym[i].st_value = syms[i].value;
        s->sym[i].st_size = syms[i].size;
        s->sym[i].st_info = ELF64_ST_INFO(syms[i].bind, syms[i].type);
        s->sym[i].st_shndx = i ? 1 : SHN_UNDEF;
    }
    size_t sym_off = off;
    off += nsym * sizeof(Elf64_Sym);
    s->str = (char *)s->buf + off;
    memcpy(s->str, strtab, sizeof strtab);
    size_t str_off = off;
    off += sizeof strtab;
    off = (off + 7) & ~(size_t)7;
    s->eh->e_shoff = off;
    s->eh->e_shentsize = sizeof(Elf64_Shdr);
    s->eh->e_shnum = 3;
    s->sh = (Elf64_Shdr *)(s->buf + off);
    s->sh[1].sh_type = SHT_SYMTAB;
    s->sh[1].sh_offset = sym_off;
    s->sh[1].sh_size = nsym * sizeof(Elf64_Sym);
    s->sh[1].sh_entsize = sizeof(Elf64_Sym);
    s->sh[1].sh_link = 2;
    s->sh[2].sh_type = SHT_STRTAB;
    s->sh[2].sh_offset = str_off;
    s->sh[2].sh_size = sizeof strtab;
    s->size = off + 3 * sizeof(Elf64_Shdr);
}

/* Builds from a copy that ends at a guard page. */
static glint_status build_guarded(const synth *s, glint_symbols **out) {
    guarded_buf g;
    assert_int_equal(guarded_alloc(&g, s->size), 0);
    memcpy(g.data, s->buf, s->size);
    glint_error err;
    glint_status st = glint_symbols_build(NULL, g.data, s->size, BASE, IMAGE, out, &err);
    if (st != GLINT_OK) assert_true(err.message[0] != 0);
    guarded_free(&g);
    return st;
}

static void test_lookup(void **state) {
    (void)state;
    synth s;
    synth_build(&s);
    glint_symbols *t;
    assert_int_equal(build_guarded(&s, &t), GLINT_OK);
    uint64_t off;
    assert_int_equal(t->count, 5); /* alpha beta gamma global_alias huge */
    assert_string_equal(glint_symbols_lookup(t, BASE + 0x100, &off), "alpha");
    assert_int_equal(off, 0);
    assert_string_equal(glint_symbols_lookup(t, BASE + 0x11f, &off), "alpha");
    assert_int_equal(off, 0x1f);
    assert_null(glint_symbols_lookup(t, BASE + 0x120, &off));                 /* past its size */
    assert_string_equal(glint_symbols_lookup(t, BASE + 0x2ff, &off), "beta"); /* unsized */
    assert_string_equal(glint_symbols_lookup(t, BASE + 0x405, &off), "global_alias");
    assert_null(glint_symbols_lookup(t, BASE + 0x505, &off)); /* data is not code */
    assert_string_equal(glint_symbols_lookup(t, BASE + IMAGE - 1, &off), "huge");
    assert_null(glint_symbols_lookup(t, BASE + IMAGE, &off));
    assert_null(glint_symbols_lookup(t, BASE + 0xff, &off));
    assert_null(glint_symbols_lookup(t, 0, &off));
    assert_null(glint_symbols_lookup(NULL, BASE + 0x100, &off));
    char buf[64];
    glint_symbols_format(t, BASE + 0x30c, buf, sizeof buf);
    assert_string_equal(buf, "gamma+0xc");
    glint_symbols_format(t, BASE + 0x312, buf, sizeof buf); /* past gamma's size */
    assert_string_equal(buf, "0x1312");
    glint_symbols_format(t, 0xdeadbeef, buf, sizeof buf);
    assert_string_equal(buf, "0xdeadbeef");
    glint_symbols_format(t, BASE + 0x30c, buf, 4);
    assert_string_equal(buf, "gam");
    glint_symbols_retain(t);
    glint_symbols_release(t);
    glint_symbols_release(t);
    glint_symbols_release(NULL);
}

static void test_hostile_tables(void **state) {
    (void)state;
    synth s;
    glint_symbols *t = NULL;
    /* No section headers: empty table. */
    synth_build(&s);
    s.eh->e_shoff = 0;
    assert_int_equal(build_guarded(&s, &t), GLINT_OK);
    assert_int_equal(t->count, 0);
    assert_null(glint_symbols_lookup(t, BASE + 0x100, NULL));
    glint_symbols_release(t);
    /* Section headers past the end of the file. */
    synth_build(&s);
    s.eh->e_shoff = s.size - 8;
    assert_int_equal(build_guarded(&s, &t), GLINT_E_ELF);
    synth_build(&s);
    s.eh->e_shoff = ~0ull - 16;
    assert_int_equal(build_guarded(&s, &t), GLINT_E_ELF);
    synth_build(&s);
    s.eh->e_shentsize = 12;
    assert_int_equal(build_guarded(&s, &t), GLINT_E_ELF);
    /* Symbol table out of the file, wrong entry size, bad link. */
    synth_build(&s);
    s.sh[1].sh_size = 1ull << 40;
    assert_int_equal(build_guarded(&s, &t), GLINT_E_ELF);
    synth_build(&s);
    s.sh[1].sh_entsize = 16;
    assert_int_equal(build_guarded(&s, &t), GLINT_E_ELF);
    synth_build(&s);
    s.sh[1].sh_link = 7;
    assert_int_equal(build_guarded(&s, &t), GLINT_E_ELF);
    synth_build(&s);
    s.sh[1].sh_link = 0;
    assert_int_equal(build_guarded(&s, &t), GLINT_E_ELF);
    synth_build(&s);
    s.sh[2].sh_type = SHT_PROGBITS;
    assert_int_equal(build_guarded(&s, &t), GLINT_E_ELF);
    synth_build(&s);
    s.sh[2].sh_offset = s.size;
    assert_int_equal(build_guarded(&s, &t), GLINT_E_ELF);
    /* Names: an offset past the table, a name without its NUL (the table is
     * cut in the middle of "huge"), a long name. */
    synth_build(&s);
    s.sym[1].st_name = 5000;
    s.sh[2].sh_size = sizeof strtab - 3;
    s.str[sizeof strtab - 3] = 'x';
    assert_int_equal(build_guarded(&s, &t), GLINT_OK);
    assert_null(glint_symbols_lookup(t, BASE + 0x100, NULL));
    assert_null(glint_symbols_lookup(t, BASE + 0x600, NULL)); /* "huge" lost its NUL */
    assert_string_equal(glint_symbols_lookup(t, BASE + 0x300, NULL), "gamma");
    glint_symbols_release(t);
}

static void test_long_name(void **state) {
    (void)state;
    /* One symbol whose name is 1000 bytes: kept cut to the limit. */
    static uint8_t elf[8192];
    synth s;
    synth_build(&s);
    memcpy(elf, s.buf, s.size);
    size_t name_off = s.size;
    memset(elf + name_off, 'n', 1000);
    elf[name_off + 1000] = 0;
    Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
    Elf64_Shdr *sh = (Elf64_Shdr *)(elf + eh->e_shoff);
    Elf64_Sym *sym = (Elf64_Sym *)(elf + sh[1].sh_offset);
    sh[2].sh_offset = name_off - 1; /* string table: a NUL, then the name */
    elf[name_off - 1] = 0;
    sh[2].sh_size = 1002;
    sh[1].sh_size = 2 * sizeof(Elf64_Sym);
    sym[1].st_name = 1;
    glint_symbols *t;
    glint_error err;
    assert_int_equal(glint_symbols_build(NULL, elf, name_off + 1001, BASE, IMAGE, &t, &err),
                     GLINT_OK);
    const char *n = glint_symbols_lookup(t, BASE + 0x100, NULL);
    assert_non_null(n);
    assert_int_equal(strlen(n), GLINT_SYMBOL_NAME_MAX);
    glint_symbols_release(t);
}

static void test_real_guest(void **state) {
    (void)state;
#ifdef GLINT_GUEST_DIR
    char path[512];
    snprintf(path, sizeof path, "%s/test_guest.elf", GLINT_GUEST_DIR);
    FILE *f = fopen(path, "rb");
    if (f == NULL) skip();
    static uint8_t data[8 << 20];
    size_t size = fread(data, 1, sizeof data, f);
    fclose(f);
    glint_elf_info info;
    glint_error err;
    assert_int_equal(glint_elf_parse(data, size, &info, &err), GLINT_OK);
    glint_symbols *t;
    assert_int_equal(glint_symbols_build(NULL, data, size, BASE, info.image_size, &t, &err),
                     GLINT_OK);
    assert_true(t->count > 50);
    /* The entry point is _start. */
    uint64_t off = 1;
    assert_string_equal(glint_symbols_lookup(t, BASE + info.entry, &off), "_start");
    assert_int_equal(off, 0);
    glint_symbols_release(t);
#else
    skip();
#endif
}

/* ---- Unwinder ------------------------------------------------------------ */

#define STACK_LO 0x100000u
#define STACK_HI 0x101000u

typedef struct fake_stack {
    uint64_t words[(STACK_HI - STACK_LO) / 8];
    uint8_t code[0x1000]; /* guest code at BASE */
    uint64_t reads;
} fake_stack;

static bool read_word(void *ctx, uint64_t addr, void *dst, size_t len) {
    fake_stack *fs = ctx;
    fs->reads++;
    if (addr >= BASE && addr - BASE < sizeof fs->code && len <= sizeof fs->code - (addr - BASE)) {
        memcpy(dst, fs->code + (addr - BASE), len);
        return true;
    }
    if (addr < STACK_LO || addr >= STACK_HI || len > STACK_HI - addr) return false;
    memcpy(dst, (uint8_t *)fs->words + (addr - STACK_LO), len);
    return true;
}

static void frame(fake_stack *fs, uint64_t at, uint64_t next, uint64_t ret) {
    fs->words[(at - STACK_LO) / 8] = next;
    fs->words[(at - STACK_LO) / 8 + 1] = ret;
}

static void test_unwind_good(void **state) {
    (void)state;
    static fake_stack fs;
    memset(&fs, 0, sizeof fs);
    frame(&fs, 0x100f00, 0x100f40, BASE + 0x310);
    frame(&fs, 0x100f40, 0x100fe0, BASE + 0x105);
    frame(&fs, 0x100fe0, 0, BASE + 0x210);
    glint_backtrace bt;
    glint_unwind_fp(BASE + 0x412, 0x100f00, 0, STACK_LO, STACK_HI, 64, NULL, read_word, &fs, &bt);
    assert_int_equal(bt.count, 4);
    assert_false(bt.truncated);
    assert_int_equal(bt.pcs[0], BASE + 0x412);
    assert_int_equal(bt.pcs[3], BASE + 0x210);
    synth s;
    synth_build(&s);
    glint_symbols *t;
    assert_int_equal(build_guarded(&s, &t), GLINT_OK);
    char buf[256];
    glint_backtrace_format(t, &bt, buf, sizeof buf);
    assert_string_equal(buf, "global_alias+0x12 <- gamma+0x10 <- alpha+0x5 <- beta+0x10");
    /* A zero return address ends the chain too. */
    frame(&fs, 0x100f40, 0x100fe0, 0);
    glint_unwind_fp(BASE + 0x412, 0x100f00, 0, STACK_LO, STACK_HI, 64, NULL, read_word, &fs, &bt);
    assert_int_equal(bt.count, 2);
    assert_false(bt.truncated);
    /* Unknown addresses print as numbers. */
    bt.pcs[1] = 0x99;
    glint_backtrace_format(t, &bt, buf, sizeof buf);
    assert_string_equal(buf, "global_alias+0x12 <- 0x99");
    /* Frame limit. */
    frame(&fs, 0x100f40, 0x100fe0, BASE + 0x105);
    glint_unwind_fp(BASE + 0x412, 0x100f00, 0, STACK_LO, STACK_HI, 2, NULL, read_word, &fs, &bt);
    assert_int_equal(bt.count, 2);
    assert_true(bt.truncated);
    glint_backtrace_format(t, &bt, buf, sizeof buf);
    assert_string_equal(buf, "global_alias+0x12 <- gamma+0x10 <- ...");
    glint_unwind_fp(BASE, 0, 0, STACK_LO, STACK_HI, 0, NULL, read_word, &fs, &bt);
    assert_int_equal(bt.count, 0);
    glint_symbols_release(t);
}

static void test_unwind_hostile(void **state) {
    (void)state;
    static fake_stack fs;
    glint_backtrace bt;
    /* A frame pointing at itself: one return address, then the loop is refused. */
    memset(&fs, 0, sizeof fs);
    frame(&fs, 0x100f00, 0x100f00, BASE + 0x100);
    glint_unwind_fp(BASE, 0x100f00, 0, STACK_LO, STACK_HI, 64, NULL, read_word, &fs, &bt);
    assert_int_equal(bt.count, 2);
    assert_true(bt.truncated);
    /* A two-frame cycle. */
    frame(&fs, 0x100f00, 0x100f20, BASE + 0x100);
    frame(&fs, 0x100f20, 0x100f00, BASE + 0x100);
    glint_unwind_fp(BASE, 0x100f00, 0, STACK_LO, STACK_HI, 64, NULL, read_word, &fs, &bt);
    assert_int_equal(bt.count, 3);
    assert_true(bt.truncated);
    /* Wild, misaligned, out-of-stack, at the very top, wrapping. */
    const uint64_t bad[] = {0xdeadbeefdeadbeef, 0x100f03, STACK_LO - 16,
                            STACK_HI - 8,       STACK_HI, ~0ull - 7};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        glint_unwind_fp(BASE, bad[i], 0, STACK_LO, STACK_HI, 64, NULL, read_word, &fs, &bt);
        assert_int_equal(bt.count, 1);
        assert_true(bt.truncated);
    }
    /* Unreadable memory inside the claimed stack range. */
    glint_unwind_fp(BASE, 0x200000, 0, 0x200000, 0x300000, 64, NULL, read_word, &fs, &bt);
    assert_int_equal(bt.count, 1);
    assert_true(bt.truncated);
    /* An endless rising chain: bounded by the frame limit, bounded reads. */
    memset(&fs, 0, sizeof fs);
    for (uint64_t a = STACK_LO; a + 32 <= STACK_HI; a += 16) frame(&fs, a, a + 16, BASE + 0x100);
    fs.reads = 0;
    glint_unwind_fp(BASE, STACK_LO, 0, STACK_LO, STACK_HI, 1000, NULL, read_word, &fs, &bt);
    assert_int_equal(bt.count, GLINT_UNWIND_MAX_FRAMES);
    assert_true(bt.truncated);
    assert_true(fs.reads <= 2 * GLINT_UNWIND_MAX_FRAMES);
    /* An empty stack range. */
    glint_unwind_fp(BASE, 16, 0, 0, 8, 64, NULL, read_word, &fs, &bt);
    assert_int_equal(bt.count, 1);
    assert_true(bt.truncated);
}

/* The innermost function without a frame of its own: a leaf, a fault in a
 * prologue, at a RET.  The caller comes from the stack, checked. */
static void test_unwind_frameless(void **state) {
    (void)state;
    static fake_stack fs;
    memset(&fs, 0, sizeof fs);
    synth s;
    synth_build(&s);
    glint_symbols *t;
    assert_int_equal(build_guarded(&s, &t), GLINT_OK);
    static const uint8_t prologue[] = {0x55, 0x48, 0x89, 0xe5};
    memcpy(fs.code + 0x100, prologue, sizeof prologue); /* alpha: a frame */
    fs.code[0x300] = 0x8b;                              /* gamma: a leaf */
    fs.code[0x20b] = 0xe8;                              /* beta+0xb: call rel32 */
    fs.code[0x30c] = 0xc3;                              /* gamma+0xc: ret */
    const uint64_t rsp = 0x100e00, ret = BASE + 0x210;  /* after beta's call */
    fs.words[(rsp - STACK_LO) / 8] = ret;
    fs.words[(rsp + 8 - STACK_LO) / 8] = ret;
    frame(&fs, 0x100f00, 0, BASE + 0x105);
    glint_backtrace bt;
    char buf[256];
    /* Leaf. */
    glint_unwind_fp(BASE + 0x304, 0x100f00, rsp, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    glint_backtrace_format(t, &bt, buf, sizeof buf);
    assert_string_equal(buf, "gamma+0x4 <- beta+0x10 <- alpha+0x5");
    /* At a RET. */
    glint_unwind_fp(BASE + 0x30c, 0x100f00, rsp, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    assert_int_equal(bt.count, 3);
    assert_int_equal(bt.pcs[1], ret);
    /* Prologue: before the push (slot 0) and between push and mov (slot 8). */
    glint_unwind_fp(BASE + 0x100, 0x100f00, rsp, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    assert_int_equal(bt.count, 3);
    fs.words[(rsp - STACK_LO) / 8] = 0x12345; /* what was pushed: not an address */
    glint_unwind_fp(BASE + 0x101, 0x100f00, rsp, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    assert_int_equal(bt.count, 3);
    assert_int_equal(bt.pcs[1], ret);
    /* Something scheduled between push and mov (GCC does): still slot 8. */
    static const uint8_t spread[] = {0x55, 0x66, 0x0f, 0xef, 0xc0, 0x48, 0x89, 0xe5};
    memcpy(fs.code + 0x100, spread, sizeof spread);
    glint_unwind_fp(BASE + 0x105, 0x100f00, rsp, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    assert_int_equal(bt.count, 3);
    assert_int_equal(bt.pcs[1], ret);
    glint_unwind_fp(BASE + 0x108, 0x100f00, rsp, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    assert_int_equal(bt.count, 2);
    memcpy(fs.code + 0x100, prologue, sizeof prologue);
    memset(fs.code + 0x104, 0, 4);
    /* Frame set up: the chain alone. */
    glint_unwind_fp(BASE + 0x108, 0x100f00, rsp, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    assert_int_equal(bt.count, 2);
    assert_int_equal(bt.pcs[1], BASE + 0x105);
    /* A stack word that does not follow a call, or is not code: ignored. */
    fs.words[(rsp - STACK_LO) / 8] = BASE + 0x220;
    glint_unwind_fp(BASE + 0x304, 0x100f00, rsp, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    assert_int_equal(bt.count, 2);
    fs.words[(rsp - STACK_LO) / 8] = 0xdeadbeef;
    glint_unwind_fp(BASE + 0x304, 0x100f00, rsp, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    assert_int_equal(bt.count, 2);
    /* rsp outside the stack or misaligned: not read. */
    fs.words[(rsp - STACK_LO) / 8] = ret;
    glint_unwind_fp(BASE + 0x304, 0x100f00, 8, STACK_LO, STACK_HI, 64, t, read_word, &fs, &bt);
    assert_int_equal(bt.count, 2);
    glint_unwind_fp(BASE + 0x304, 0x100f00, rsp + 3, STACK_LO, STACK_HI, 64, t, read_word, &fs,
                    &bt);
    assert_int_equal(bt.count, 2);
    glint_symbols_release(t);
}

static void test_format_bounds(void **state) {
    (void)state;
    synth s;
    synth_build(&s);
    glint_symbols *t;
    assert_int_equal(build_guarded(&s, &t), GLINT_OK);
    glint_backtrace bt = {.count = GLINT_UNWIND_MAX_FRAMES, .truncated = true};
    for (uint32_t i = 0; i < bt.count; i++) bt.pcs[i] = BASE + 0x101 + i % 3 * 0x100;
    /* Every size from 0 to past the full text, each ending at a guard page. */
    for (size_t size = 0; size < 2048; size++) {
        guarded_buf g;
        assert_int_equal(guarded_alloc(&g, size ? size : 1), 0);
        char *buf = (char *)g.data;
        size_t n = glint_backtrace_format(t, &bt, buf, size);
        if (size > 0) {
            assert_int_equal(strlen(buf), n);
            assert_true(n < size);
            if (size > 16 && size < 1000) assert_string_equal(buf + n - 3, "...");
        } else {
            assert_int_equal(n, 0);
        }
        guarded_free(&g);
    }
    glint_symbols_release(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),           cmocka_unit_test(test_hostile_tables),
        cmocka_unit_test(test_long_name),        cmocka_unit_test(test_real_guest),
        cmocka_unit_test(test_unwind_good),      cmocka_unit_test(test_unwind_hostile),
        cmocka_unit_test(test_unwind_frameless), cmocka_unit_test(test_format_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
