/*
 * symbols.h - the guest's function symbols, kept from its ELF at load, and a
 * frame-pointer unwinder, for crash reports that name code:
 *
 *   guest page fault (...) at 0x0, RIP 0x2345 (parse_header+0x12), ...;
 *   backtrace: parse_header+0x12 <- dispatch+0x40 <- glint_rt_dispatch+0x6b
 *
 * The table is immutable once built and reference counted, so that
 * snapshots and their clones share it.  The unwinder reads guest memory only
 * through a callback and trusts nothing it reads: hard bounds on frames,
 * frame pointers must rise strictly, be 8-aligned and lie in the stack, so
 * hostile stack contents give a short or truncated backtrace, never a crash
 * or a hang.
 */
#ifndef GLINT_SYMBOLS_H
#define GLINT_SYMBOLS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "glint/glint.h"

#define GLINT_SYMBOLS_MAX 1000000u /* function symbols kept from one ELF */
#define GLINT_SYMBOL_NAME_MAX 255u /* longer names are cut */
#define GLINT_UNWIND_MAX_FRAMES 64u

typedef struct glint_symbol {
    uint64_t addr; /* guest address (image base + st_value) */
    uint64_t size; /* 0 if the ELF does not say */
    uint32_t name; /* offset in names */
} glint_symbol;

typedef struct glint_symbols {
    _Atomic uint32_t refs;
    uint64_t base;  /* guest address the image (linked at 0) was loaded at */
    uint64_t end;   /* base + image size: no symbol lies beyond */
    uint32_t count; /* sorted by addr, one per address */
    glint_symbol *syms;
    char *names;
    size_t names_size;
} glint_symbols;

/* Builds the table from the ELF's .symtab (STT_FUNC symbols inside the
 * image), for an image of image_size bytes loaded at base.  A stripped ELF
 * gives an empty table.  Errors: GLINT_E_ELF (malformed section headers or
 * symbol table), GLINT_E_NO_MEMORY.  The result has one reference.
 * Allocations are counted in c (may be NULL). */
glint_status glint_symbols_build(glint_counters *c, const void *elf, size_t size, uint64_t base,
                                 uint64_t image_size, glint_symbols **out, glint_error *err);
void glint_symbols_retain(glint_symbols *s);
void glint_symbols_release(glint_symbols *s); /* NULL is ignored */

/* The function containing addr and the offset into it, or NULL (no table,
 * outside the image, past a sized function's end). */
const char *glint_symbols_lookup(const glint_symbols *s, uint64_t addr, uint64_t *offset);

/* "name+0x12" (or "0x1234" when unknown) into buf; returns strlen. */
size_t glint_symbols_format(const glint_symbols *s, uint64_t addr, char *buf, size_t size);

/* Reads len bytes of guest memory; false if any is unreadable. */
typedef bool (*glint_unwind_read_fn)(void *ctx, uint64_t addr, void *dst, size_t len);

typedef struct glint_backtrace {
    uint32_t count; /* pcs[0] is the faulting RIP, then return addresses */
    bool truncated; /* the chain went on (or turned bad) when the walk stopped */
    uint64_t pcs[GLINT_UNWIND_MAX_FRAMES];
} glint_backtrace;

/* Walks the frame-pointer chain from (rip, rbp): each frame is [rbp] = the
 * caller's rbp, [rbp + 8] = the return address.  Frames must lie within
 * [stack_lo, stack_hi) and rise strictly; the walk ends at rbp 0 or a zero
 * return address (the runtime's entry clears rbp), after max_frames (at
 * most GLINT_UNWIND_MAX_FRAMES) or at the first frame that breaks a rule
 * (then truncated is set).
 *
 * The innermost function may not have set up its frame: compilers leave it
 * out of leaf functions (GCC even with -mno-omit-leaf-frame-pointer), and a
 * fault can hit a prologue or a RET.  With symbols (syms non-NULL) the
 * walk then takes the caller's address from the stack at rsp (at most 8
 * bytes up), but only if it follows a CALL instruction in a known
 * function, and goes on from the unchanged rbp. */
void glint_unwind_fp(uint64_t rip, uint64_t rbp, uint64_t rsp, uint64_t stack_lo, uint64_t stack_hi,
                     uint32_t max_frames, const glint_symbols *syms, glint_unwind_read_fn read,
                     void *ctx, glint_backtrace *bt);

/* "f+0x12 <- g+0x40 <- h+0x8" (" <- ..." when truncated), cut to fit buf
 * with a trailing "..." when it does not.  Return addresses are named after
 * the call that precedes them (addr - 1), offsets are of the address
 * itself.  Returns strlen. */
size_t glint_backtrace_format(const glint_symbols *s, const glint_backtrace *bt, char *buf,
                              size_t size);

#endif /* GLINT_SYMBOLS_H */
