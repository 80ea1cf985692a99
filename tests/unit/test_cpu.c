/*
 * test_cpu.c - the CPU state the host installs in every guest
 * (host/src/cpu_x86_64.c) checked byte by byte against the architecture and
 * against abi.h, and the names the KVM backend gives to unexpected exits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cpu.h"
#include "hv.h"
#include "layout.h"

#define PAGE 4096u
#define TABLES_GPA 0x6000ull
#define CODE_GPA 0x7000ull
#define STACK_TOP 0xFFFFFF000ull

static uint64_t get64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void test_gdt(void **state) {
    (void)state;
    static uint8_t page[PAGE];
    memset(page, 0, sizeof page);
    glint_cpu_write_tables(page, TABLES_GPA, CODE_GPA, STACK_TOP);
    assert_int_equal(get64(page), 0); /* null descriptor */
    /* Access byte (bits 40-47) and flags (L at 53, D/B at 54): present,
     * DPL, code/data, accessed preset. */
    const uint64_t kcode = get64(page + GLINT_SEL_KERNEL_CODE);
    const uint64_t kdata = get64(page + GLINT_SEL_KERNEL_DATA);
    const uint64_t ucode = get64(page + (GLINT_SEL_USER_CODE & ~3u));
    const uint64_t udata = get64(page + (GLINT_SEL_USER_DATA & ~3u));
    assert_int_equal((kcode >> 40) & 0xFF, 0x9B);
    assert_int_equal((ucode >> 40) & 0xFF, 0xFB); /* DPL 3 */
    assert_int_equal((kdata >> 40) & 0xFF, 0x93);
    assert_int_equal((udata >> 40) & 0xFF, 0xF3); /* DPL 3 */
    assert_true((kcode >> 53) & 1);               /* L: 64-bit code */
    assert_true((ucode >> 53) & 1);
    assert_int_equal(GLINT_SEL_USER_CODE & 3u, 3u);
    assert_int_equal(GLINT_SEL_USER_DATA & 3u, 3u);
    /* TSS descriptor: busy 64-bit TSS at TABLES_GPA + GLINT_CPU_TSS_OFFSET. */
    const uint64_t lo = get64(page + GLINT_SEL_TSS), hi = get64(page + GLINT_SEL_TSS + 8);
    const uint64_t base = ((lo >> 16) & 0xFFFFFF) | (((lo >> 56) & 0xFF) << 24) | (hi << 32);
    assert_int_equal(base, TABLES_GPA + GLINT_CPU_TSS_OFFSET);
    assert_int_equal((lo >> 40) & 0xFF, 0x8B);
    /* Nothing past the GDT's last entry before the TSS. */
    for (size_t i = GLINT_GDT_ENTRIES * 8u; i < GLINT_CPU_TSS_OFFSET; i++)
        assert_int_equal(page[i], 0);
}

static void test_tss_and_io_bitmap(void **state) {
    (void)state;
    static uint8_t page[PAGE];
    memset(page, 0, sizeof page);
    glint_cpu_write_tables(page, TABLES_GPA, CODE_GPA, STACK_TOP);
    const uint8_t *tss = page + GLINT_CPU_TSS_OFFSET;
    assert_int_equal(get64(tss + 4), STACK_TOP);                              /* RSP0 */
    for (int i = 0; i < 7; i++) assert_int_equal(get64(tss + 36 + 8 * i), 0); /* no IST */
    uint16_t iomap;
    memcpy(&iomap, tss + 102, 2);
    assert_int_equal(iomap, 104);
    glint_cpu_entry e;
    glint_cpu_entry_state(&e, TABLES_GPA, 0x28000, 0x1123, 0x1000, 0x5000, GLINT_ABI_VERSION);
    /* Port p is allowed iff its bit is 0 and the byte lies within the limit. */
    for (uint32_t port = 0; port < 65536; port++) {
        const uint32_t byte = 104u + port / 8u;
        const bool in_limit = byte + 1u <= e.tss_limit; /* the CPU reads 2 bytes */
        const bool allowed = in_limit && !((tss[byte] >> (port % 8u)) & 1u);
        const bool want = port >= GLINT_PORT_DONE && port <= GLINT_PORT_ABORT;
        if (allowed != want) fail_msg("port 0x%x: allowed %d, want %d", port, allowed, want);
    }
    assert_true(e.tss_limit >= 104u + 32u); /* covers the last byte of the bitmap + 0xFF */
    assert_int_equal(tss[104 + 32], 0xFF);
    assert_true(GLINT_CPU_TSS_OFFSET + e.tss_limit < GLINT_CPU_IDT_OFFSET);
}

static void test_idt(void **state) {
    (void)state;
    static uint8_t page[PAGE];
    memset(page, 0, sizeof page);
    glint_cpu_write_tables(page, TABLES_GPA, CODE_GPA, STACK_TOP);
    for (uint32_t v = 0; v < GLINT_CPU_EXCEPTION_VECTORS; v++) {
        const uint8_t *g = page + GLINT_CPU_IDT_OFFSET + 16u * v;
        const uint64_t lo = get64(g), hi = get64(g + 8);
        const uint64_t handler =
            (lo & 0xFFFF) | (((lo >> 48) & 0xFFFF) << 16) | ((hi & 0xFFFFFFFF) << 32);
        assert_int_equal(handler, CODE_GPA + 16u * v);
        assert_int_equal((lo >> 16) & 0xFFFF, GLINT_SEL_KERNEL_CODE);
        assert_int_equal((lo >> 32) & 7, 0); /* IST 0: TSS.RSP0 */
        const uint8_t type = (uint8_t)(lo >> 40);
        /* Interrupt gates; only #BP and #OF callable from CPL 3. */
        assert_int_equal(type, (v == 3 || v == 4) ? 0xEE : 0x8E);
        assert_int_equal(hi >> 32, 0);
    }
}

/* Entry N of the stubs: [push $0] push $N; jmp; at 16-byte intervals. */
static void test_exception_code(void **state) {
    (void)state;
    static uint8_t page[PAGE];
    memset(page, 0, sizeof page);
    const size_t size = glint_cpu_write_exception_code(page);
    assert_int_equal(size, glint_cpu_exception_code_size());
    assert_true(size > 32u * 16u && size < PAGE);
    for (uint32_t v = 0; v < 32; v++) {
        const uint8_t *stub = page + 16u * v;
        const bool cpu_error_code =
            v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
        size_t i = 0;
        if (!cpu_error_code) {
            assert_int_equal(stub[i++], 0x6A); /* push imm8 */
            assert_int_equal(stub[i++], 0);
        }
        assert_int_equal(stub[i++], 0x6A);
        assert_int_equal(stub[i++], v);
        assert_true(stub[i] == 0xE9 || stub[i] == 0xEB); /* jmp rel32 / rel8 */
    }
    /* The common part ends with OUT to the exception port, then HLT; the rest
     * of the page is INT3. */
    const uint8_t out_e5[] = {0xE6, GLINT_PORT_EXCEPTION, 0xF4};
    assert_non_null(memmem(page + 32u * 16u, size - 32u * 16u, out_e5, sizeof out_e5));
    for (size_t i = size; i < PAGE; i++) assert_int_equal(page[i], 0xCC);
    /* Only the stubs may report: RIP before or right after the OUT. */
    assert_true(glint_cpu_rip_in_exception_code(CODE_GPA, CODE_GPA));
    assert_true(glint_cpu_rip_in_exception_code(CODE_GPA, CODE_GPA + size));
    assert_false(glint_cpu_rip_in_exception_code(CODE_GPA, CODE_GPA + size + 1));
    assert_false(glint_cpu_rip_in_exception_code(CODE_GPA, CODE_GPA - 1));
    assert_false(glint_cpu_rip_in_exception_code(CODE_GPA, 0x1234));
}

static void test_entry_state(void **state) {
    (void)state;
    glint_cpu_entry e;
    glint_cpu_entry_state(&e, TABLES_GPA, 0x28000, 0x1123, 0x2000, 0x5000, GLINT_ABI_VERSION);
    assert_int_equal(e.rflags, 0x2); /* IOPL 0, IF 0 */
    assert_int_equal(e.cr3, 0x28000);
    assert_int_equal(e.rip, 0x1123);
    assert_int_equal(e.rsp, 0x2000);
    assert_int_equal(e.rdi, 0x5000);
    assert_int_equal(e.rsi, GLINT_ABI_VERSION);
    assert_int_equal(e.gdt_base, TABLES_GPA);
    assert_int_equal(e.gdt_limit, GLINT_GDT_ENTRIES * 8u - 1u);
    assert_int_equal(e.idt_base, TABLES_GPA + GLINT_CPU_IDT_OFFSET);
    assert_int_equal(e.idt_limit, 32u * 16u - 1u);
    assert_int_equal(e.tss_base, TABLES_GPA + GLINT_CPU_TSS_OFFSET);
}

/* glint_cpu_install maps the host's pages supervisor-only, the rest is the
 * caller's. */
static void test_install_maps_supervisor_pages(void **state) {
    (void)state;
    glint_layout_params p = {.image_size = PAGE,
                             .heap_size = GLINT_DEFAULT_HEAP_SIZE,
                             .input_size = GLINT_DEFAULT_INPUT_SIZE,
                             .output_size = GLINT_DEFAULT_OUTPUT_SIZE,
                             .scratch_size = GLINT_DEFAULT_SCRATCH_SIZE,
                             .memory_cap = 1ull << 30};
    glint_layout_info l;
    glint_error err;
    assert_int_equal(glint_layout_compute(&p, &l, &err), GLINT_OK);
    uint8_t *snap = test_calloc(1, l.snapshot_size);
    glint_pt_builder pt;
    glint_pt_init(&pt, snap + (l.page_tables_gpa - l.snapshot_gpa), l.page_tables_gpa,
                  l.page_tables_size);
    assert_int_equal(glint_cpu_install(snap, &l, &pt, &err), GLINT_OK);
    /* PML4 -> PDPT -> PD -> PT of the CPU tables page: present, no U/S. */
    uint64_t table = l.page_tables_gpa;
    for (int level = 3; level >= 0; level--) {
        uint64_t e = get64(snap + (table - l.snapshot_gpa) +
                           8u * ((l.cpu_tables_gpa >> (12 + 9 * level)) & 511));
        assert_true(e & GLINT_PTE_PRESENT);
        if (level == 0) {
            assert_false(e & GLINT_PTE_USER);
            assert_false(e & GLINT_PTE_WRITE);
            assert_true(e & GLINT_PTE_NX);
        }
        table = e & GLINT_PTE_ADDR_MASK;
    }
    /* The tables were written where the layout says. */
    assert_int_equal(
        get64(snap + (l.cpu_tables_gpa - l.snapshot_gpa) + GLINT_SEL_KERNEL_CODE) >> 40 & 0xFF,
        0x9B);
    assert_int_equal(snap[l.exception_code_gpa - l.snapshot_gpa], 0x6A);
    test_free(snap);
}

static void test_names(void **state) {
    (void)state;
    assert_string_equal(glint_cpu_vector_name(13), "#GP");
    assert_string_equal(glint_cpu_vector_name(14), "#PF");
    assert_string_equal(glint_cpu_vector_name(1000), "#??");
    assert_string_equal(glint_kvm_internal_error_name(1),
                        "KVM internal error: instruction emulation failed");
    assert_non_null(strstr(glint_kvm_internal_error_name(77), "KVM internal error"));
    assert_string_equal(glint_kvm_exit_reason_name(4), "KVM_EXIT_DEBUG");
    assert_string_equal(glint_kvm_exit_reason_name(29), "KVM_EXIT_X86_RDMSR");
    assert_non_null(glint_kvm_exit_reason_name(12345));
    assert_non_null(glint_kvm_exit_reason_name(15)); /* a hole in the table */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gdt),         cmocka_unit_test(test_tss_and_io_bitmap),
        cmocka_unit_test(test_idt),         cmocka_unit_test(test_exception_code),
        cmocka_unit_test(test_entry_state), cmocka_unit_test(test_install_maps_supervisor_pages),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
