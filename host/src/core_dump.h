/*
 * core_dump.h - ELF core files of crashed guests, in the format gdb reads
 * for Linux x86-64 processes, so that `gdb guest.elf core` shows the
 * registers, memory and a backtrace of the guest at the crash:
 *
 *   PT_NOTE   NT_PRSTATUS (signal, user_regs_struct), NT_PRPSINFO (name),
 *             NT_FPREGSET (x87/SSE, FXSAVE layout), NT_AUXV (AT_ENTRY: gdb
 *             relocates the static-PIE guest image from it)
 *   PT_LOAD   one per guest memory region, at its guest address
 *
 * Bounded: regions are written in the order given while they fit
 * max_size; one that does not fit is left out (the notes say nothing of it,
 * gdb reports its memory as unreadable).  The file is written under a
 * temporary name in the target directory and renamed when complete, so a
 * core file is never seen half written.  All data comes from host memory
 * (the caller's copies of the registers and the host mapping of guest
 * memory); no guest-controlled pointer is followed.
 */
#ifndef GLINT_CORE_DUMP_H
#define GLINT_CORE_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "hv.h"

#define GLINT_CORE_MAX_REGIONS 16u
#define GLINT_CORE_DEFAULT_MAX_SIZE (64ull << 20)

typedef struct glint_core_region {
    uint64_t gpa;        /* guest address (= guest-physical) */
    uint64_t size;       /* bytes */
    const uint8_t *host; /* host view of [gpa, gpa + size) */
    uint32_t perms;      /* GLINT_PERM_* */
} glint_core_region;

typedef struct glint_core_desc {
    const char *dir;  /* existing directory to write into */
    const char *name; /* guest name: file name and NT_PRPSINFO (cut, sanitised) */
    int signal;       /* Linux signal number for NT_PRSTATUS (11: SIGSEGV ...) */
    glint_regs regs;
    glint_fpu_regs fpu;
    bool has_fpu;
    uint64_t entry;    /* guest address of the ELF entry point (AT_ENTRY) */
    uint64_t max_size; /* file size bound; 0: GLINT_CORE_DEFAULT_MAX_SIZE */
    uint32_t region_count;
    glint_core_region regions[GLINT_CORE_MAX_REGIONS]; /* in priority order */
} glint_core_desc;

/* Writes DIR/core.NAME.PID.N (N: a nanosecond timestamp) and puts its
 * path in path (cut to path_size).  Errors: GLINT_E_IO (directory missing
 * or not writable, disk full: nothing is left behind),
 * GLINT_E_INVALID_ARGUMENT (no directory, too many regions). */
glint_status glint_core_write(const glint_core_desc *d, char *path, size_t path_size,
                              glint_error *err);

#endif /* GLINT_CORE_DUMP_H */
