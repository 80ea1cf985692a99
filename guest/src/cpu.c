/*
 * cpu.c - the CPU state the runtime itself sets up: x87 and SSE control.
 *
 * Everything privileged belongs to the host (docs/abi.md, "Entry contract"):
 * the runtime runs at CPL 3 from its first instruction, the host built the
 * GDT, TSS, IDT and page tables in supervisor-only pages and handles every
 * exception with its own CPL-0 stubs.  Nothing here needs CPL 0.
 */
#include "runtime.h"

void glint_rt_cpu_init(void) {
    /* Default x87 control word and MXCSR (all exceptions masked, round to
     * nearest), whatever state the vCPU came with. */
    const uint32_t mxcsr_default = 0x1F80u;
    __asm__ volatile("fninit");
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr_default));
}

void glint_rt_halt_forever(void) {
    for (;;) __asm__ volatile("ud2" : : : "memory");
}
