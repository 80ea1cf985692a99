/*
 * gdb_regs.h - the registers the gdb stub shows: its target description
 * (org.gnu.gdb.i386.core, .sse, .segments for x86-64) and the layout of
 * the 'g' packet that follows from it.  Pure functions over glint_regs and
 * glint_fpu_regs.
 */
#ifndef GLINT_GDB_REGS_H
#define GLINT_GDB_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv.h"

/* gdb numbers registers in the order the description lists them. */
#define GLINT_GDB_REG_RBP 6
#define GLINT_GDB_REG_RSP 7
#define GLINT_GDB_REG_RIP 16
#define GLINT_GDB_REG_COUNT 59

extern const char glint_gdb_target_xml[];
extern const size_t glint_gdb_target_xml_size; /* without the NUL */

/* Byte size of register n (0 <= n < GLINT_GDB_REG_COUNT) in the packets. */
size_t glint_gdb_reg_size(int n);
/* Register n in its packet form (little endian, glint_gdb_reg_size(n)
 * bytes; x87 tags converted from FXSAVE's abridged form). */
void glint_gdb_reg_get(glint_regs *r, glint_fpu_regs *f, int n, uint8_t *out);
/* Stores register n from its packet form.  Returns false for a value the
 * stub refuses: segment selectors and bases are the host's (docs/abi.md). */
bool glint_gdb_reg_set(glint_regs *r, glint_fpu_regs *f, int n, const uint8_t *in);

#endif /* GLINT_GDB_REGS_H */
