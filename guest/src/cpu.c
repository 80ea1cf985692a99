/*
 * cpu.c - the guest's own descriptor tables and its exception handler.
 *
 * The host enters the guest with CS/DS/SS loaded from a GDT of its own; the
 * runtime replaces it with one inside the guest image (so that it is part of
 * every snapshot), adds a TSS whose IST1 is the dedicated exception stack,
 * and points all 32 exception vectors at exceptions.asm through IST1.  An
 * exception is therefore always handled on a known-good stack, even after a
 * stack overflow, and reported to the host through the metadata page.
 */
#include "runtime.h"

/* ---- Descriptor formats (Intel SDM vol. 3, ch. 3.4.5, 6.14.1, 7.7) ------- */

/* 64-bit code: present, DPL 0, code exec/read, accessed, L=1, G=1.  The
 * accessed bit is preset so the CPU never needs to write it. */
#define GDT_CODE64 0x00AF9B000000FFFFull
/* Data: present, DPL 0, read/write, accessed, D/B=1, G=1 (base/limit are
 * ignored in long mode, the attributes are not). */
#define GDT_DATA 0x00CF93000000FFFFull
#define GDT_TSS_SELECTOR 0x18u
#define GDT_ENTRIES 5u /* null, code, data, TSS (two slots) */

_Static_assert(GLINT_GDT_CODE_SELECTOR == 1u * 8u, "code descriptor is GDT entry 1");
_Static_assert(GLINT_GDT_DATA_SELECTOR == 2u * 8u, "data descriptor is GDT entry 2");

/* Access byte of an available 64-bit TSS: present, DPL 0, type 9. */
#define TSS_ACCESS_AVAILABLE 0x89ull
/* Interrupt gate: present, DPL 0, type 0xE (keeps IF clear in the handler). */
#define IDT_INTERRUPT_GATE 0x8Eu
#define IST_EXCEPTIONS 1u

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS layout");

struct idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate layout");

struct __attribute__((packed)) descriptor_table_register {
    uint16_t limit;
    uint64_t base;
};

/* In .bss, hence writable (ltr sets the busy bit in the TSS descriptor). */
static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[GLINT_RT_EXCEPTION_VECTORS] __attribute__((aligned(16)));

static void reset_fpu_state(void) {
    /* Default x87 control word and MXCSR (all exceptions masked, round to
     * nearest), whatever the host left in them. */
    const uint32_t mxcsr_default = 0x1F80u;
    __asm__ volatile("fninit");
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr_default));
}

static void load_gdt(void) {
    const uint64_t base = (uint64_t)(uintptr_t)&tss;
    const uint64_t limit = sizeof tss - 1u;

    gdt[0] = 0;
    gdt[GLINT_GDT_CODE_SELECTOR / 8u] = GDT_CODE64;
    gdt[GLINT_GDT_DATA_SELECTOR / 8u] = GDT_DATA;
    gdt[GDT_TSS_SELECTOR / 8u] = (limit & 0xFFFFu) | ((base & 0xFFFFFFull) << 16) |
                                 (TSS_ACCESS_AVAILABLE << 40) | (((limit >> 16) & 0xFu) << 48) |
                                 (((base >> 24) & 0xFFull) << 56);
    gdt[GDT_TSS_SELECTOR / 8u + 1u] = base >> 32;

    const struct descriptor_table_register gdtr = {
        .limit = (uint16_t)(sizeof gdt - 1u),
        .base = (uint64_t)(uintptr_t)gdt,
    };
    __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");

    /* The segment registers still hold what the host loaded: reload them
     * from the new table.  CS through a far return, which every x86-64 CPU
     * supports in long mode (a far jump to a 64-bit offset is Intel-only). */
    __asm__ volatile("pushq %[code]\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %[data], %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     :
                     : [code] "i"(GLINT_GDT_CODE_SELECTOR), [data] "i"(GLINT_GDT_DATA_SELECTOR)
                     : "rax", "memory");

    __asm__ volatile("ltr %w0" : : "r"((uint16_t)GDT_TSS_SELECTOR) : "memory");
}

static void load_idt(void) {
    const uint64_t stubs = (uint64_t)(uintptr_t)glint_rt_exception_stubs;
    for (uint32_t vector = 0; vector < GLINT_RT_EXCEPTION_VECTORS; vector++) {
        const uint64_t handler = stubs + (uint64_t)vector * GLINT_RT_EXCEPTION_STUB_SIZE;
        idt[vector] = (struct idt_gate){
            .offset_low = (uint16_t)handler,
            .selector = GLINT_GDT_CODE_SELECTOR,
            .ist = IST_EXCEPTIONS,
            .type_attr = IDT_INTERRUPT_GATE,
            .offset_mid = (uint16_t)(handler >> 16),
            .offset_high = (uint32_t)(handler >> 32),
            .reserved = 0,
        };
    }
    /* Only the exception vectors exist: INT n for n >= 32 (or any external
     * interrupt) lies beyond the limit and raises #GP, which is reported. */
    const struct descriptor_table_register idtr = {
        .limit = (uint16_t)(sizeof idt - 1u),
        .base = (uint64_t)(uintptr_t)idt,
    };
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
}

void glint_rt_cpu_init(uint64_t exception_stack_top) {
    reset_fpu_state();
    tss.ist[IST_EXCEPTIONS - 1u] = exception_stack_top;
    tss.rsp[0] = exception_stack_top; /* unused: the guest never leaves CPL 0 */
    tss.iomap_base = sizeof tss;      /* no I/O permission bitmap */
    load_gdt();
    load_idt();
}

/* ---- Exception handler ----------------------------------------------------- */

static uint64_t read_cr2(void) {
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    return cr2;
}

void glint_rt_exception(const struct glint_rt_exception_frame *frame) {
    /* CR2 first, before anything here could fault and overwrite it. */
    const uint64_t cr2 = read_cr2();
    /* An exception inside this handler (say, a bad metadata address) comes
     * back here on a fresh IST1 stack; it must not loop writing the record
     * again, so the second time only the exit is repeated. */
    static volatile bool reporting;

    if (!reporting) {
        reporting = true;
        glint_metadata *metadata = glint_rt_layout.metadata;
        if (metadata != NULL) {
            /* volatile: plain 64-bit stores, in order, for the host to read
             * (and no SSE, in case the fault was about SSE state). */
            volatile glint_exception_record *record = &metadata->exception;
            record->vector = frame->vector;
            record->error_code = frame->error_code;
            record->rip = frame->rip;
            record->cs = frame->cs;
            record->rflags = frame->rflags;
            record->rsp = frame->rsp;
            record->ss = frame->ss;
            record->cr2 = cr2;
        }
    }
    glint_rt_out(GLINT_PORT_EXCEPTION);
    glint_rt_halt_forever();
}

void glint_rt_halt_forever(void) {
    for (;;) __asm__ volatile("cli\n\thlt" : : : "memory");
}
