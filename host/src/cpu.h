/*
 * cpu.h - the CPU state the host owns for every guest: GDT, TSS and IDT in
 * the CPU tables page, the CPL-0 exception stubs in the exception code page,
 * and the register state of the first entry (docs/abi.md, "Entry contract").
 *
 * Guest code runs at CPL 3 from its first instruction.  CPL 0 holds only the
 * exception stubs, which are part of the host (versioned with the ABI), not
 * of the guest image: they store the exception record in the metadata page
 * and OUT to GLINT_PORT_EXCEPTION using integer instructions only (a
 * paravirtual KVM such as PVM emulates CPL-0 code and has no SSE there).
 *
 * Functions over caller-provided buffers; no KVM, unit-tested.
 */
#ifndef GLINT_CPU_H
#define GLINT_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint/abi.h"
#include "glint/glint.h"
#include "paging.h"

/* RFLAGS of the first entry: reserved bit 1, IOPL 0 (the TSS's I/O bitmap
 * decides which ports CPL 3 may use), interrupts off. */
#define GLINT_ENTRY_RFLAGS 0x2ull

/* Register state of the first entry, filled by glint_cpu_entry_state and
 * loaded by the hypervisor backend (hv.h). */
typedef struct glint_cpu_entry {
    uint64_t cr3, rip, rsp, rdi, rsi, rflags;
    uint64_t gdt_base, idt_base, tss_base;
    uint16_t gdt_limit, idt_limit, tss_limit;
} glint_cpu_entry;

/* Writes GDT, TSS (RSP0 = exception_stack_top) and IDT (every vector into
 * the stub at exception_code_gpa) into the zero-filled page `page`, which the
 * guest sees at tables_gpa. */
void glint_cpu_write_tables(uint8_t *page, uint64_t tables_gpa, uint64_t exception_code_gpa,
                            uint64_t exception_stack_top);

/* Copies the exception stubs into `page` (GLINT_PAGE_SIZE bytes, zero
 * filled).  Returns the stubs' size in bytes. */
size_t glint_cpu_write_exception_code(uint8_t *page);

/* The stubs' size in bytes. */
size_t glint_cpu_exception_code_size(void);

/* Installs the host's CPU state into a guest laid out as l: writes the
 * tables and the exception code into snap (the host view of the snapshot
 * region, l->snapshot_gpa onwards; both pages zero-filled) and maps those two
 * pages, the exception stack and the metadata page supervisor-only in pt.
 * Errors: those of glint_pt_map (GLINT_E_TOO_SMALL when pt is full). */
glint_status glint_cpu_install(uint8_t *snap, const glint_layout_info *l, glint_pt_builder *pt,
                               glint_error *err);

/* Entry state for a guest whose tables were written at tables_gpa. */
void glint_cpu_entry_state(glint_cpu_entry *e, uint64_t tables_gpa, uint64_t cr3, uint64_t rip,
                           uint64_t rsp, uint64_t rdi, uint64_t rsi);

/* True if rip lies in the stubs copied to exception_code_gpa: only they may
 * report an exception (OUT to GLINT_PORT_EXCEPTION). */
bool glint_cpu_rip_in_exception_code(uint64_t exception_code_gpa, uint64_t rip);

/* Short name of an exception vector ("#PF"), "#??" when unknown. */
const char *glint_cpu_vector_name(uint64_t vector);

#endif /* GLINT_CPU_H */
