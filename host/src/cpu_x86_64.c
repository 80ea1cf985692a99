/*
 * cpu_x86_64.c - GDT, TSS, IDT and the CPL-0 exception stubs the host
 * installs in every guest (cpu.h).
 *
 * Descriptor formats: Intel SDM vol. 3, 3.4.5 (segment descriptors), 7.2.3
 * (64-bit TSS descriptor), 7.7 (64-bit TSS), 6.14.1 (64-bit IDT gates).
 */
#include "cpu.h"

#include <string.h>

/* 64-bit code, present, accessed (preset: the CPU never has to write the
 * read-only GDT page), L=1, G=1; DPL 0 and DPL 3. */
#define GDT_KERNEL_CODE 0x00AF9B000000FFFFull
#define GDT_USER_CODE 0x00AFFB000000FFFFull
/* Data, present, read/write, accessed, D/B=1, G=1; DPL 0 and DPL 3. */
#define GDT_KERNEL_DATA 0x00CF93000000FFFFull
#define GDT_USER_DATA 0x00CFF3000000FFFFull
/* Busy 64-bit TSS (type 0xB), present, DPL 0: the backend loads TR as busy,
 * as LTR would have left it. */
#define TSS_ACCESS_BUSY 0x8Bull
#define TSS_SIZE 104u
/* I/O permission bitmap right after the TSS: one bit per port 0..255 (0 =
 * allowed), then the 0xFF byte the CPU needs past the last one it reads.
 * Ports above 255 lie beyond the TSS limit: denied. */
#define IO_BITMAP_BYTES 32u
#define TSS_LIMIT (TSS_SIZE + IO_BITMAP_BYTES + 1u - 1u)
_Static_assert(GLINT_CPU_TSS_OFFSET + TSS_LIMIT + 1u <= GLINT_CPU_IDT_OFFSET,
               "TSS and I/O bitmap fit before the IDT");
_Static_assert(GLINT_PORT_LAST < IO_BITMAP_BYTES * 8u, "protocol ports are in the bitmap");
/* 64-bit interrupt gates (IF stays clear in the stub), present; DPL 0 so
 * that INT n from CPL 3 raises #GP, except #BP and #OF (INT3, INTO), which
 * are DPL 3 so that a breakpoint reports as one. */
#define IDT_GATE_KERNEL 0x8Eu
#define IDT_GATE_USER 0xEEu
#define STUB_SIZE 16u

/* Offsets inside glint_exception_record, as the stubs below use them. */
#define REC_VECTOR 0
#define REC_ERROR 8
#define REC_RIP 16
#define REC_CS 24
#define REC_RFLAGS 32
#define REC_RSP 40
#define REC_SS 48
#define REC_CR2 56
#define REC_RAX 64
_Static_assert(offsetof(glint_exception_record, vector) == REC_VECTOR, "record offsets");
_Static_assert(offsetof(glint_exception_record, error_code) == REC_ERROR, "record offsets");
_Static_assert(offsetof(glint_exception_record, rip) == REC_RIP, "record offsets");
_Static_assert(offsetof(glint_exception_record, cs) == REC_CS, "record offsets");
_Static_assert(offsetof(glint_exception_record, rflags) == REC_RFLAGS, "record offsets");
_Static_assert(offsetof(glint_exception_record, rsp) == REC_RSP, "record offsets");
_Static_assert(offsetof(glint_exception_record, ss) == REC_SS, "record offsets");
_Static_assert(offsetof(glint_exception_record, cr2) == REC_CR2, "record offsets");
_Static_assert(offsetof(glint_exception_record, rax) == REC_RAX, "record offsets");
_Static_assert(offsetof(glint_exception_record, rbx) == REC_RAX + 8, "record offsets");
_Static_assert(offsetof(glint_exception_record, rcx) == REC_RAX + 16, "record offsets");
_Static_assert(offsetof(glint_exception_record, rdx) == REC_RAX + 24, "record offsets");
_Static_assert(offsetof(glint_exception_record, rsi) == REC_RAX + 32, "record offsets");
_Static_assert(offsetof(glint_exception_record, rdi) == REC_RAX + 40, "record offsets");
_Static_assert(offsetof(glint_exception_record, rbp) == REC_RAX + 48, "record offsets");
_Static_assert(offsetof(glint_exception_record, r8) == REC_RAX + 56, "record offsets");
_Static_assert(offsetof(glint_exception_record, r15) == REC_RAX + 112, "record offsets");
_Static_assert(GLINT_PORT_EXCEPTION == 0xE5, "stubs OUT to 0xE5");
/* The stubs address the metadata page absolutely (0xFFFFFF000, asserted in
 * abi.h): it sits at the same place in every layout. */

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * The stubs, as position-independent bytes in .rodata that the host copies
 * into each guest's exception code page: 32 entries STUB_SIZE bytes apart
 * (the IDT points gate N at entry N), then the common part.
 *
 * Entry N evens out the CPU's frame (a dummy error code where the CPU pushes
 * none) and pushes N.  The common part runs on the exception stack (TSS.RSP0,
 * or the current one for a fault at CPL 0).  It saves the general registers
 * first (RAX with a store to an absolute address, so that no register is
 * lost), then the CPU's frame and CR2, and OUTs to GLINT_PORT_EXCEPTION.
 * Integer instructions only: PVM emulates CPL-0 code, and SSE state is the
 * guest's.  The host never resumes a guest after this OUT; if anything did,
 * HLT at CPL 0 is one more exit the host reports.
 */
// clang-format off
__asm__(
    ".pushsection .rodata.glint_exception_code,\"a\",@progbits\n"
    ".balign 16\n"
    ".globl glint_exception_code_start\n"
    ".hidden glint_exception_code_start\n"
    "glint_exception_code_start:\n"
    ".irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    ".if (\\v == 8) || ((\\v >= 10) && (\\v <= 14)) || (\\v == 17) || (\\v == 21) || (\\v == 29) || (\\v == 30)\n"
    ".else\n"
    "  pushq $0\n"
    ".endif\n"
    "  pushq $\\v\n"
    "  jmp .Lglint_exception_common\n"
    "  .balign " STR(STUB_SIZE) ", 0xcc\n"
    ".endr\n"
    ".Lglint_exception_common:\n"
    "  movabsq %rax, 0xFFFFFF000 + " STR(REC_RAX) "\n"
    "  movabsq $0xFFFFFF000, %rax\n"
    "  movq %rbx, " STR(REC_RAX) " + 8(%rax)\n"
    "  movq %rcx, " STR(REC_RAX) " + 16(%rax)\n"
    "  movq %rdx, " STR(REC_RAX) " + 24(%rax)\n"
    "  movq %rsi, " STR(REC_RAX) " + 32(%rax)\n"
    "  movq %rdi, " STR(REC_RAX) " + 40(%rax)\n"
    "  movq %rbp, " STR(REC_RAX) " + 48(%rax)\n"
    "  movq %r8, " STR(REC_RAX) " + 56(%rax)\n"
    "  movq %r9, " STR(REC_RAX) " + 64(%rax)\n"
    "  movq %r10, " STR(REC_RAX) " + 72(%rax)\n"
    "  movq %r11, " STR(REC_RAX) " + 80(%rax)\n"
    "  movq %r12, " STR(REC_RAX) " + 88(%rax)\n"
    "  movq %r13, " STR(REC_RAX) " + 96(%rax)\n"
    "  movq %r14, " STR(REC_RAX) " + 104(%rax)\n"
    "  movq %r15, " STR(REC_RAX) " + 112(%rax)\n"
    "  movq 0(%rsp), %rbx\n"
    "  movq %rbx, " STR(REC_VECTOR) "(%rax)\n"
    "  movq 8(%rsp), %rbx\n"
    "  movq %rbx, " STR(REC_ERROR) "(%rax)\n"
    "  movq 16(%rsp), %rbx\n"
    "  movq %rbx, " STR(REC_RIP) "(%rax)\n"
    "  movq 24(%rsp), %rbx\n"
    "  movq %rbx, " STR(REC_CS) "(%rax)\n"
    "  movq 32(%rsp), %rbx\n"
    "  movq %rbx, " STR(REC_RFLAGS) "(%rax)\n"
    "  movq 40(%rsp), %rbx\n"
    "  movq %rbx, " STR(REC_RSP) "(%rax)\n"
    "  movq 48(%rsp), %rbx\n"
    "  movq %rbx, " STR(REC_SS) "(%rax)\n"
    "  movq %cr2, %rbx\n"
    "  movq %rbx, " STR(REC_CR2) "(%rax)\n"
    "  outb %al, $0xE5\n"
    "1:\n"
    "  hlt\n"
    "  jmp 1b\n"
    ".globl glint_exception_code_end\n"
    ".hidden glint_exception_code_end\n"
    "glint_exception_code_end:\n"
    ".popsection\n");
// clang-format on

extern const uint8_t glint_exception_code_start[];
extern const uint8_t glint_exception_code_end[];

size_t glint_cpu_exception_code_size(void) {
    return (size_t)(glint_exception_code_end - glint_exception_code_start);
}

size_t glint_cpu_write_exception_code(uint8_t *page) {
    size_t size = glint_cpu_exception_code_size();
    memcpy(page, glint_exception_code_start, size);
    /* The rest of the page: INT3 (a stray jump there faults at CPL 0). */
    memset(page + size, 0xCC, GLINT_PAGE_SIZE - size);
    return size;
}

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }

void glint_cpu_write_tables(uint8_t *page, uint64_t tables_gpa, uint64_t exception_code_gpa,
                            uint64_t exception_stack_top) {
    const uint64_t tss = tables_gpa + GLINT_CPU_TSS_OFFSET;
    const uint64_t tss_limit = TSS_LIMIT;

    /* GDT. */
    uint8_t *gdt = page;
    put64(gdt + 0, 0);
    put64(gdt + GLINT_SEL_KERNEL_CODE, GDT_KERNEL_CODE);
    put64(gdt + GLINT_SEL_KERNEL_DATA, GDT_KERNEL_DATA);
    put64(gdt + (GLINT_SEL_USER_CODE & ~3u), GDT_USER_CODE);
    put64(gdt + (GLINT_SEL_USER_DATA & ~3u), GDT_USER_DATA);
    put64(gdt + GLINT_SEL_TSS, (tss_limit & 0xFFFFu) | ((tss & 0xFFFFFFull) << 16) |
                                   (TSS_ACCESS_BUSY << 40) | (((tss_limit >> 16) & 0xFu) << 48) |
                                   (((tss >> 24) & 0xFFull) << 56));
    put64(gdt + GLINT_SEL_TSS + 8u, tss >> 32);

    /* TSS: RSP0 is where the CPU switches on an exception from CPL 3; no IST
     * (a fault at CPL 0 stays on the exception stack and, should it recur,
     * runs into its guard page: #DF, then a triple fault the host reports).
     *
     * Guest code runs with IOPL 0, so every IN/OUT at CPL 3 is checked
     * against the I/O permission bitmap: only the ports guest code may use
     * (GLINT_PORT_DONE..GLINT_PORT_ABORT) are allowed; any other port, the
     * exception port included, is a #GP reported by the stubs.  On VMX/SVM
     * the check is the CPU's and an allowed OUT is one VM exit, as with IOPL
     * 3; PVM runs CPL-3 code natively and enforces the bitmap, not IOPL. */
    uint8_t *t = page + GLINT_CPU_TSS_OFFSET;
    put64(t + 4, exception_stack_top); /* RSP0 */
    const uint16_t iomap_base = TSS_SIZE;
    memcpy(t + 102, &iomap_base, sizeof iomap_base);
    uint8_t *bitmap = t + TSS_SIZE;
    memset(bitmap, 0xFF, IO_BITMAP_BYTES + 1u);
    for (uint32_t port = GLINT_PORT_FIRST; port < GLINT_PORT_EXCEPTION; port++)
        bitmap[port / 8u] &= (uint8_t) ~(1u << (port % 8u));

    /* IDT. */
    for (uint32_t v = 0; v < GLINT_CPU_EXCEPTION_VECTORS; v++) {
        const uint64_t handler = exception_code_gpa + (uint64_t)v * STUB_SIZE;
        const uint8_t type = (v == 3 || v == 4) ? IDT_GATE_USER : IDT_GATE_KERNEL;
        const uint64_t low = (handler & 0xFFFFu) | ((uint64_t)GLINT_SEL_KERNEL_CODE << 16) |
                             ((uint64_t)type << 40) | (((handler >> 16) & 0xFFFFu) << 48);
        uint8_t *gate = page + GLINT_CPU_IDT_OFFSET + (size_t)v * 16u;
        put64(gate, low);
        put64(gate + 8, handler >> 32);
    }
}

glint_status glint_cpu_install(uint8_t *snap, const glint_layout_info *l, glint_pt_builder *pt,
                               glint_error *err) {
    glint_cpu_write_tables(snap + (l->cpu_tables_gpa - l->snapshot_gpa), l->cpu_tables_gpa,
                           l->exception_code_gpa, l->exception_stack_gpa + l->exception_stack_size);
    glint_cpu_write_exception_code(snap + (l->exception_code_gpa - l->snapshot_gpa));
    /* Read-only even for CPL 0 (CR0.WP): nothing writes descriptor tables
     * after this (accessed and busy bits are preset). */
    glint_status st;
    if ((st = glint_pt_map(pt, l->cpu_tables_gpa, GLINT_PAGE_SIZE,
                           GLINT_PERM_READ | GLINT_PT_KERNEL, err)) != GLINT_OK ||
        (st = glint_pt_map(pt, l->exception_code_gpa, GLINT_PAGE_SIZE,
                           GLINT_PERM_READ | GLINT_PERM_EXEC | GLINT_PT_KERNEL, err)) != GLINT_OK)
        return st;
    return glint_pt_map(pt, l->exception_stack_gpa, l->exception_stack_size + GLINT_METADATA_SIZE,
                        GLINT_PERM_READ | GLINT_PERM_WRITE | GLINT_PT_KERNEL, err);
}

void glint_cpu_entry_state(glint_cpu_entry *e, uint64_t tables_gpa, uint64_t cr3, uint64_t rip,
                           uint64_t rsp, uint64_t rdi, uint64_t rsi) {
    memset(e, 0, sizeof *e);
    e->cr3 = cr3;
    e->rip = rip;
    e->rsp = rsp;
    e->rdi = rdi;
    e->rsi = rsi;
    e->rflags = GLINT_ENTRY_RFLAGS;
    e->gdt_base = tables_gpa;
    e->gdt_limit = (uint16_t)(GLINT_GDT_ENTRIES * 8u - 1u);
    e->idt_base = tables_gpa + GLINT_CPU_IDT_OFFSET;
    e->idt_limit = (uint16_t)(GLINT_CPU_EXCEPTION_VECTORS * 16u - 1u);
    e->tss_base = tables_gpa + GLINT_CPU_TSS_OFFSET;
    e->tss_limit = (uint16_t)TSS_LIMIT;
}

bool glint_cpu_rip_in_exception_code(uint64_t exception_code_gpa, uint64_t rip) {
    /* <=: a hypervisor may report the RIP after the OUT (PVM does). */
    return rip >= exception_code_gpa && rip - exception_code_gpa <= glint_cpu_exception_code_size();
}

const char *glint_cpu_vector_name(uint64_t v) {
    static const char *const names[] = {"#DE", "#DB",  "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                        "#DF", "#CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
                                        "#MF", "#AC",  "#MC", "#XM", "#VE", "#CP"};
    return v < sizeof names / sizeof names[0] ? names[v] : "#??";
}
