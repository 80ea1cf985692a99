/*
 * The harness proof: tiny.elf, built by the guest toolchain, is loaded by the
 * ELF loader into guest memory with host-built 4-level page tables, the vCPU
 * starts in 64-bit long mode at its entry, the guest writes 0x42 to port
 * 0xE0 and halts.  Exercises the layers below the sandbox (loader, layout,
 * paging, KVM backend) directly, so a failure here points below the protocol.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "elf_loader.h"
#include "gmem.h"
#include "hv.h"
#include "kvm_support.h"
#include "layout.h"
#include "paging.h"

#define TINY_EXPECTED_PORT 0xE0
#define TINY_EXPECTED_VALUE 0x42

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    *size = 0;
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void test_tiny_guest_port_write(void **state) {
    (void)state;
    glint_error err;
    size_t size = 0;
    uint8_t *file = read_file(glint_test_guest_path("tiny"), &size);
    assert_non_null(file);

    glint_elf_info elf;
    assert_int_equal(glint_elf_parse(file, size, &elf, &err), GLINT_OK);

    glint_layout_params lp = {.image_size = elf.image_size,
                              .entry = elf.entry,
                              .heap_size = GLINT_DEFAULT_HEAP_SIZE,
                              .input_size = GLINT_DEFAULT_INPUT_SIZE,
                              .output_size = GLINT_DEFAULT_OUTPUT_SIZE,
                              .scratch_size = GLINT_DEFAULT_SCRATCH_SIZE,
                              .memory_cap = 1ull << 30};
    glint_layout_info l;
    assert_int_equal(glint_layout_compute(&lp, &l, &err), GLINT_OK);

    uint8_t *mem =
        mmap(NULL, l.total_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);
    glint_gmem gm = {mem,           l.snapshot_gpa, l.snapshot_size,
                     l.scratch_gpa, l.scratch_size, {NULL, NULL}};
    uint8_t *image = glint_gmem_span(&gm, l.code_gpa, l.code_size);
    assert_non_null(image);
    assert_int_equal(glint_elf_load(&elf, file, size, image, l.code_size, l.code_gpa, &err),
                     GLINT_OK);

    glint_pt_builder pt;
    glint_pt_init(&pt, glint_gmem_span(&gm, l.page_tables_gpa, l.page_tables_size),
                  l.page_tables_gpa, l.page_tables_size);
    assert_int_equal(
        glint_pt_map(&pt, l.code_gpa, l.code_size, GLINT_PERM_READ | GLINT_PERM_EXEC, &err),
        GLINT_OK);
    assert_int_equal(
        glint_pt_map(&pt, l.stack_gpa, l.stack_size, GLINT_PERM_READ | GLINT_PERM_WRITE, &err),
        GLINT_OK);
    /* The host's CPU state, supervisor-only, as the sandbox builds it. */
    assert_int_equal(
        glint_cpu_install(glint_gmem_span(&gm, l.snapshot_gpa, l.snapshot_size), &l, &pt, &err),
        GLINT_OK);

    glint_hv *hv = NULL;
    const glint_hv_ops *ops = &glint_hv_kvm_ops;
    assert_int_equal(ops->create(&hv, &err), GLINT_OK);
    assert_int_equal(ops->map(hv, 0, l.snapshot_gpa, l.snapshot_size, mem, 0, &err), GLINT_OK);
    assert_int_equal(ops->map(hv, 1, l.scratch_gpa, l.scratch_size, mem + l.snapshot_size, 0, &err),
                     GLINT_OK);
    glint_cpu_entry entry;
    glint_cpu_entry_state(&entry, l.cpu_tables_gpa, l.page_tables_gpa, l.entry_gpa,
                          l.stack_gpa + l.stack_size, l.peb_gpa, GLINT_ABI_VERSION);
    assert_int_equal(ops->set_entry(hv, &entry, &err), GLINT_OK);

    glint_exit ex;
    assert_int_equal(ops->run(hv, &ex, &err), GLINT_OK);
    assert_int_equal(ex.kind, GLINT_EXIT_IO);
    assert_true(ex.is_write);
    assert_int_equal(ex.size, 1);
    assert_int_equal(ex.port, TINY_EXPECTED_PORT);
    assert_int_equal(ex.data, TINY_EXPECTED_VALUE);
    printf("guest wrote 0x%llx to port 0x%x\n", (unsigned long long)ex.data, ex.port);

    /* HLT at CPL 3 is privileged: #GP, delivered through the host's IDT to
     * its CPL-0 stub, which records it in the metadata page and OUTs to the
     * exception port.  No triple fault, no HLT exit. */
    assert_int_equal(ops->run(hv, &ex, &err), GLINT_OK);
    assert_int_equal(ex.kind, GLINT_EXIT_IO);
    assert_int_equal(ex.port, GLINT_PORT_EXCEPTION);
    uint64_t rip = 0;
    assert_int_equal(ops->get_rip(hv, &rip, &err), GLINT_OK);
    assert_true(glint_cpu_rip_in_exception_code(l.exception_code_gpa, rip));
    glint_exception_record rec;
    assert_true(glint_gmem_read(&gm, l.metadata_gpa, &rec, sizeof rec));
    printf("HLT at CPL 3: vector %llu at RIP 0x%llx (entry 0x%llx), CS 0x%llx, SS 0x%llx\n",
           (unsigned long long)rec.vector, (unsigned long long)rec.rip,
           (unsigned long long)l.entry_gpa, (unsigned long long)rec.cs, (unsigned long long)rec.ss);
    assert_int_equal(rec.vector, 13);
    assert_int_equal(rec.cs, GLINT_SEL_USER_CODE);
    assert_int_equal(rec.ss, GLINT_SEL_USER_DATA);
    assert_int_equal(rec.rip, l.entry_gpa + 4); /* mov al, 0x42 (2) + out 0xE0, al (2) */
    assert_int_equal(rec.rax & 0xff, TINY_EXPECTED_VALUE);

    ops->destroy(hv);
    munmap(mem, l.total_size);
    free(file);
}

int main(void) {
    glint_test_require_kvm();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_tiny_guest_port_write)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
