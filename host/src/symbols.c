/*
 * symbols.c - guest function symbols and the frame-pointer unwinder
 * (symbols.h).  The ELF is hostile: the symbol table's location comes from
 * glint_elf_find_symtab (range checked), every name offset is checked
 * against the string table, every name must end inside it.
 */
#include "symbols.h"

#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counted.h"
#include "elf_loader.h"

typedef struct candidate {
    uint64_t addr, size;
    uint64_t name_off; /* in the ELF's string table */
    size_t name_len;
    bool global;
} candidate;

/* x before y: by address; at one address global names first (aliases:
 * keep the public one). */
static bool before(const candidate *x, const candidate *y) {
    if (x->addr != y->addr) return x->addr < y->addr;
    return x->global && !y->global;
}

static void sift_down(candidate *c, uint64_t root, uint64_t n) {
    for (;;) {
        uint64_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && before(&c[child], &c[child + 1])) child++;
        if (!before(&c[root], &c[child])) return;
        candidate t = c[root];
        c[root] = c[child];
        c[child] = t;
        root = child;
    }
}

/* Heapsort: in place and allocation-free (glibc's qsort may malloc, which
 * the library's allocation counters would not see). */
static void sort_candidates(candidate *c, uint64_t n) {
    for (uint64_t i = n / 2; i-- > 0;) sift_down(c, i, n);
    for (uint64_t end = n; end > 1; end--) {
        candidate t = c[0];
        c[0] = c[end - 1];
        c[end - 1] = t;
        sift_down(c, 0, end - 1);
    }
}

glint_status glint_symbols_build(glint_counters *cnt, const void *elf, size_t size, uint64_t base,
                                 uint64_t image_size, glint_symbols **out, glint_error *err) {
    const uint8_t *p = elf;
    glint_elf_symtab tab;
    *out = NULL;
    glint_status st = glint_elf_find_symtab(elf, size, &tab, err);
    if (st != GLINT_OK) return st;
    glint_symbols *s = glint_counted_calloc(cnt, 1, sizeof *s);
    if (s == NULL) return glint_fail(err, GLINT_E_NO_MEMORY, "out of memory for symbols");
    atomic_init(&s->refs, 1);
    s->base = base;
    s->end = base + image_size;
    candidate *c = NULL;
    uint64_t n = 0;
    size_t names = 0;
    if (tab.count > 0) {
        uint64_t limit = tab.count < GLINT_SYMBOLS_MAX ? tab.count : GLINT_SYMBOLS_MAX;
        c = glint_counted_calloc(cnt, (size_t)limit, sizeof *c);
        if (c == NULL) {
            st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory for %" PRIu64 " symbols", limit);
            goto fail;
        }
        for (uint64_t i = 0; i < tab.count && n < limit; i++) {
            Elf64_Sym sym;
            memcpy(&sym, p + tab.sym_offset + i * sizeof sym, sizeof sym);
            if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
                sym.st_value >= image_size || sym.st_name == 0 || sym.st_name >= tab.str_size)
                continue;
            const char *name = (const char *)p + tab.str_offset + sym.st_name;
            size_t max = (size_t)(tab.str_size - sym.st_name);
            const char *nul = memchr(name, 0, max);
            if (nul == NULL) continue; /* runs off the table: not a name */
            size_t len = (size_t)(nul - name);
            if (len == 0) continue;
            if (len > GLINT_SYMBOL_NAME_MAX) len = GLINT_SYMBOL_NAME_MAX;
            uint64_t fsize = sym.st_size;
            if (fsize > image_size - sym.st_value) fsize = image_size - sym.st_value;
            c[n++] = (candidate){.addr = base + sym.st_value,
                                 .size = fsize,
                                 .name_off = sym.st_name,
                                 .name_len = len,
                                 .global = ELF64_ST_BIND(sym.st_info) != STB_LOCAL};
        }
        sort_candidates(c, n);
        /* One entry per address; sum the names that stay. */
        uint64_t kept = 0;
        for (uint64_t i = 0; i < n; i++) {
            if (kept > 0 && c[kept - 1].addr == c[i].addr) continue;
            c[kept++] = c[i];
            names += c[i].name_len + 1;
        }
        n = kept;
    }
    s->syms = glint_counted_calloc(cnt, n ? (size_t)n : 1, sizeof *s->syms);
    s->names = glint_counted_calloc(cnt, names ? names : 1, 1);
    if (s->syms == NULL || s->names == NULL) {
        st = glint_fail(err, GLINT_E_NO_MEMORY, "out of memory for symbols");
        goto fail;
    }
    size_t pos = 0;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(s->names + pos, p + tab.str_offset + c[i].name_off, c[i].name_len);
        s->names[pos + c[i].name_len] = 0;
        s->syms[i] = (glint_symbol){.addr = c[i].addr, .size = c[i].size, .name = (uint32_t)pos};
        pos += c[i].name_len + 1;
    }
    s->count = (uint32_t)n;
    s->names_size = names;
    free(c);
    *out = s;
    return GLINT_OK;
fail:
    free(c);
    glint_symbols_release(s);
    return st;
}

void glint_symbols_retain(glint_symbols *s) {
    if (s != NULL) atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void glint_symbols_release(glint_symbols *s) {
    if (s == NULL || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1) return;
    free(s->syms);
    free(s->names);
    free(s);
}

const char *glint_symbols_lookup(const glint_symbols *s, uint64_t addr, uint64_t *offset) {
    if (s == NULL || s->count == 0 || addr < s->base || addr >= s->end) return NULL;
    /* Last symbol at or below addr. */
    uint32_t lo = 0, hi = s->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->syms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return NULL;
    const glint_symbol *sym = &s->syms[lo - 1];
    if (sym->size != 0 && addr - sym->addr >= sym->size) return NULL;
    if (offset != NULL) *offset = addr - sym->addr;
    return s->names + sym->name;
}

size_t glint_symbols_format(const glint_symbols *s, uint64_t addr, char *buf, size_t size) {
    uint64_t off = 0;
    const char *name = glint_symbols_lookup(s, addr, &off);
    int n = name != NULL ? snprintf(buf, size, "%s+0x%" PRIx64, name, off)
                         : snprintf(buf, size, "0x%" PRIx64, addr);
    if (n < 0) n = 0;
    return (size_t)n < size ? (size_t)n : (size == 0 ? 0 : size - 1);
}

/* True if the bytes before ret are a CALL: rel32 (E8), or FF /2 through a
 * register, [reg+disp8] or [rip+disp32]. */
static bool follows_call(uint64_t ret, glint_unwind_read_fn read, void *ctx) {
    uint8_t b[6];
    if (ret < 6 || !read(ctx, ret - 6, b, sizeof b)) return false;
    if (b[1] == 0xe8) return true;                          /* call rel32 */
    if (b[4] == 0xff && (b[5] & 0x38) == 0x10) return true; /* call *%reg */
    if (b[3] == 0xff && (b[4] & 0x38) == 0x10) return true; /* call *disp8(%reg) */
    if (b[0] == 0xff && (b[1] & 0x38) == 0x10) return true; /* call *disp32(...) */
    return false;
}

/* For the innermost function: where its return address is when it has no
 * frame of its own (yet, or at all), as an offset from rsp; -1 if it has. */
static int frameless_slot(const glint_symbols *syms, uint64_t rip, glint_unwind_read_fn read,
                          void *ctx) {
    uint64_t off;
    if (glint_symbols_lookup(syms, rip, &off) == NULL) return -1;
    uint8_t at_rip = 0, head[16];
    if (read(ctx, rip, &at_rip, 1) && at_rip == 0xc3) return 0; /* RET: frame gone */
    uint64_t start = rip - off;
    if (!read(ctx, start, head, sizeof head)) return -1;
    size_t p = 0;
    if (head[0] == 0xf3 && head[1] == 0x0f && head[2] == 0x1e && head[3] == 0xfa)
        p = 4;                     /* endbr64 */
    if (head[p] != 0x55) return 0; /* no push %rbp first: a leaf without a frame */
    if (off <= p) return 0;        /* before the push */
    /* The compiler may schedule other instructions between the push and
     * mov %rsp,%rbp. */
    for (size_t q = p + 1; q + 3 <= sizeof head; q++) {
        if (head[q] == 0x48 && head[q + 1] == 0x89 && head[q + 2] == 0xe5)
            return off <= q ? 8 : -1; /* pushed, frame not yet set / set */
    }
    return -1;
}

void glint_unwind_fp(uint64_t rip, uint64_t rbp, uint64_t rsp, uint64_t stack_lo, uint64_t stack_hi,
                     uint32_t max_frames, const glint_symbols *syms, glint_unwind_read_fn read,
                     void *ctx, glint_backtrace *bt) {
    memset(bt, 0, sizeof *bt);
    if (max_frames == 0) return;
    if (max_frames > GLINT_UNWIND_MAX_FRAMES) max_frames = GLINT_UNWIND_MAX_FRAMES;
    bt->pcs[bt->count++] = rip;
    if (syms != NULL && bt->count < max_frames) {
        int slot = frameless_slot(syms, rip, read, ctx);
        uint64_t ret;
        if (slot >= 0 && rsp >= stack_lo && rsp < stack_hi && (rsp & 7u) == 0 &&
            read(ctx, rsp + (uint64_t)slot, &ret, sizeof ret) &&
            glint_symbols_lookup(syms, ret - 1, NULL) != NULL && follows_call(ret, read, ctx))
            bt->pcs[bt->count++] = ret;
    }
    uint64_t prev = 0;
    while (rbp != 0) {
        if (bt->count == max_frames) {
            bt->truncated = true;
            return;
        }
        /* A frame is 16 bytes at rbp: inside the stack, aligned, above the
         * last one (a loop or a jump backwards ends the walk). */
        if ((rbp & 7u) != 0 || rbp < stack_lo || stack_hi < 16 || rbp > stack_hi - 16 ||
            rbp <= prev) {
            bt->truncated = true;
            return;
        }
        uint64_t next, ret;
        if (!read(ctx, rbp, &next, sizeof next) || !read(ctx, rbp + 8, &ret, sizeof ret)) {
            bt->truncated = true;
            return;
        }
        if (ret == 0) return; /* the outermost frame */
        bt->pcs[bt->count++] = ret;
        prev = rbp;
        rbp = next;
    }
}

size_t glint_backtrace_format(const glint_symbols *s, const glint_backtrace *bt, char *buf,
                              size_t size) {
    static const char more[] = " <- ...", cut[] = "...";
    size_t len = 0;
    if (size == 0) return 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < bt->count; i++) {
        char item[GLINT_SYMBOL_NAME_MAX + 48];
        uint64_t pc = bt->pcs[i], off = 0;
        /* A return address may be the first byte after its function (a call
         * to a noreturn function): name the call. */
        const char *name = glint_symbols_lookup(s, i == 0 ? pc : pc - 1, &off);
        int n;
        if (name != NULL)
            n = snprintf(item, sizeof item, "%s%s+0x%" PRIx64, i ? " <- " : "", name,
                         i == 0 ? off : off + 1);
        else
            n = snprintf(item, sizeof item, "%s0x%" PRIx64, i ? " <- " : "", pc);
        if (n < 0) n = 0;
        size_t need = (size_t)n < sizeof item ? (size_t)n : sizeof item - 1;
        /* Keep room for "..." while more follows, so a cut text says so. */
        bool more_follows = i + 1 < bt->count || bt->truncated;
        size_t reserve = more_follows ? sizeof cut : 1;
        if (need + reserve > size - len) {
            if (sizeof cut <= size - len) {
                memcpy(buf + len, cut, sizeof cut);
                len += sizeof cut - 1;
            }
            return len;
        }
        memcpy(buf + len, item, need + 1);
        len += need;
    }
    if (bt->truncated) {
        const char *tail = sizeof more <= size - len ? more : cut;
        size_t tail_size = tail == more ? sizeof more : sizeof cut;
        if (tail_size <= size - len) {
            memcpy(buf + len, tail, tail_size);
            len += tail_size - 1;
        }
    }
    return len;
}
