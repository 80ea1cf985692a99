/*
 * test_core_dump - ELF core files (host/src/core_dump.c) from a synthetic
 * guest state: the file is read back (header, program headers, every note,
 * memory contents), the size bound leaves regions out, failures leave
 * nothing behind, and gdb (where installed) reads registers, SSE state and
 * memory from it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_dump.h"

#define CODE_GPA 0x2000u
#define STACK_GPA 0x100000u

static uint8_t code[0x1800];
static uint8_t stack[0x3000];

typedef struct fixture {
    char dir[64];
    glint_core_desc d;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/glint-core-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    for (size_t i = 0; i < sizeof code; i++) code[i] = (uint8_t)(0x90 + i % 7);
    for (size_t i = 0; i < sizeof stack; i++) stack[i] = (uint8_t)(i * 3);
    glint_core_desc *d = &f->d;
    d->dir = f->dir;
    d->name = "/some/where/my guest.elf";
    d->signal = 11;
    d->regs = (glint_regs){.rax = 0x1111,
                           .rbx = 0x2222,
                           .rip = CODE_GPA + 0x10,
                           .rsp = STACK_GPA + 0x2f00,
                           .rbp = STACK_GPA + 0x2f40,
                           .rflags = 0x10246,
                           .cs = 0x1b,
                           .ss = 0x23};
    d->fpu.fcw = 0x37f;
    d->fpu.mxcsr = 0x1f80;
    for (int i = 0; i < 16; i++) d->fpu.xmm[0][i] = (uint8_t)(0xa0 + i);
    d->has_fpu = true;
    d->entry = CODE_GPA;
    d->region_count = 2;
    d->regions[0] =
        (glint_core_region){STACK_GPA, sizeof stack, stack, GLINT_PERM_READ | GLINT_PERM_WRITE};
    d->regions[1] =
        (glint_core_region){CODE_GPA, sizeof code, code, GLINT_PERM_READ | GLINT_PERM_EXEC};
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    DIR *dir = opendir(f->dir);
    struct dirent *e;
    while (dir != NULL && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        unlink(p);
    }
    if (dir != NULL) closedir(dir);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int count_files(const char *dirname) {
    DIR *dir = opendir(dirname);
    int n = 0;
    struct dirent *e;
    while (dir != NULL && (e = readdir(dir)) != NULL)
        if (e->d_name[0] != '.') n++;
    if (dir != NULL) closedir(dir);
    return n;
}

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Finds note `type` in the PT_NOTE; returns its descriptor and size. */
static const uint8_t *find_note(const uint8_t *file, const Elf64_Phdr *note, uint32_t type,
                                uint32_t *size) {
    size_t pos = note->p_offset, end = note->p_offset + note->p_filesz;
    while (pos + sizeof(Elf64_Nhdr) <= end) {
        Elf64_Nhdr nh;
        memcpy(&nh, file + pos, sizeof nh);
        pos += sizeof nh;
        size_t name = (nh.n_namesz + 3u) & ~3u, desc = (nh.n_descsz + 3u) & ~3u;
        assert_true(pos + name + desc <= end);
        assert_string_equal((const char *)file + pos, "CORE");
        if (nh.n_type == type) {
            *size = nh.n_descsz;
            return file + pos + name;
        }
        pos += name + desc;
    }
    return NULL;
}

static void test_write_and_read_back(void **state) {
    fixture *f = *state;
    char path[512];
    glint_error err;
    assert_int_equal(glint_core_write(&f->d, path, sizeof path, &err), GLINT_OK);
    assert_int_equal(count_files(f->dir), 1); /* no temporary left */
    assert_non_null(strstr(path, "/core.my_guest.elf."));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    size_t size;
    uint8_t *file = read_file(path, &size);
    Elf64_Ehdr eh;
    memcpy(&eh, file, sizeof eh);
    assert_memory_equal(eh.e_ident, ELFMAG, SELFMAG);
    assert_int_equal(eh.e_type, ET_CORE);
    assert_int_equal(eh.e_machine, EM_X86_64);
    assert_int_equal(eh.e_phnum, 3);
    Elf64_Phdr ph[3];
    memcpy(ph, file + eh.e_phoff, sizeof ph);
    assert_int_equal(ph[0].p_type, PT_NOTE);
    assert_int_equal(ph[1].p_type, PT_LOAD);
    assert_int_equal(ph[1].p_vaddr, STACK_GPA);
    assert_int_equal(ph[1].p_flags, PF_R | PF_W);
    assert_int_equal(ph[2].p_vaddr, CODE_GPA);
    assert_int_equal(ph[2].p_flags, PF_R | PF_X);
    assert_int_equal(ph[2].p_filesz, sizeof code);
    assert_true(ph[2].p_offset + ph[2].p_filesz <= size);
    assert_memory_equal(file + ph[1].p_offset, stack, sizeof stack);
    assert_memory_equal(file + ph[2].p_offset, code, sizeof code);
    assert_int_equal(ph[1].p_offset % 4096, 0);
    assert_int_equal(size % 4096, 0);
    uint32_t n;
    const uint8_t *desc = find_note(file, &ph[0], NT_PRSTATUS, &n);
    assert_non_null(desc);
    assert_int_equal(n, sizeof(struct elf_prstatus));
    struct elf_prstatus prs;
    memcpy(&prs, desc, sizeof prs);
    assert_int_equal(prs.pr_cursig, 11);
    struct user_regs_struct u;
    memcpy(&u, &prs.pr_reg, sizeof u);
    assert_int_equal(u.rip, CODE_GPA + 0x10);
    assert_int_equal(u.rsp, STACK_GPA + 0x2f00);
    assert_int_equal(u.rbp, STACK_GPA + 0x2f40);
    assert_int_equal(u.rax, 0x1111);
    assert_int_equal(u.cs, 0x1b);
    desc = find_note(file, &ph[0], NT_PRPSINFO, &n);
    assert_non_null(desc);
    struct elf_prpsinfo psi;
    memcpy(&psi, desc, sizeof psi);
    assert_string_equal(psi.pr_fname, "my_guest.elf");
    desc = find_note(file, &ph[0], NT_FPREGSET, &n);
    assert_non_null(desc);
    assert_int_equal(n, 512);
    assert_int_equal(desc[160], 0xa0); /* xmm0 at offset 160 of FXSAVE */
    desc = find_note(file, &ph[0], NT_AUXV, &n);
    assert_non_null(desc);
    uint64_t auxv[6];
    assert_int_equal(n, sizeof auxv);
    memcpy(auxv, desc, sizeof auxv);
    assert_int_equal(auxv[2], AT_ENTRY);
    assert_int_equal(auxv[3], CODE_GPA);
    free(file);
}

static void test_size_bound(void **state) {
    fixture *f = *state;
    char path[512];
    glint_error err;
    /* Room for the headers and the code region only: the stack is left out. */
    f->d.max_size = 4096 + 0x2000;
    assert_int_equal(glint_core_write(&f->d, path, sizeof path, &err), GLINT_OK);
    size_t size;
    uint8_t *file = read_file(path, &size);
    Elf64_Ehdr eh;
    memcpy(&eh, file, sizeof eh);
    assert_int_equal(eh.e_phnum, 2);
    assert_true(size <= f->d.max_size);
    Elf64_Phdr ph[2];
    memcpy(ph, file + eh.e_phoff, sizeof ph);
    assert_int_equal(ph[1].p_vaddr, CODE_GPA);
    free(file);
    unlink(path);
    /* No room for any region: notes only. */
    f->d.max_size = 1;
    assert_int_equal(glint_core_write(&f->d, path, sizeof path, &err), GLINT_OK);
    file = read_file(path, &size);
    memcpy(&eh, file, sizeof eh);
    assert_int_equal(eh.e_phnum, 1);
    free(file);
    /* Empty and NULL regions are skipped. */
    f->d.max_size = 0;
    f->d.regions[0].size = 0;
    f->d.regions[1].host = NULL;
    assert_int_equal(glint_core_write(&f->d, path, sizeof path, &err), GLINT_OK);
}

static void test_errors(void **state) {
    fixture *f = *state;
    char path[512] = "untouched";
    glint_error err;
    glint_core_desc d = f->d;
    d.dir = "/nonexistent/glint";
    assert_int_equal(glint_core_write(&d, path, sizeof path, &err), GLINT_E_IO);
    assert_non_null(strstr(err.message, "/nonexistent/glint"));
    assert_string_equal(path, "untouched");
    d.dir = NULL;
    assert_int_equal(glint_core_write(&d, path, sizeof path, &err), GLINT_E_INVALID_ARGUMENT);
    d.dir = "";
    assert_int_equal(glint_core_write(&d, path, sizeof path, &err), GLINT_E_INVALID_ARGUMENT);
    d = f->d;
    d.region_count = GLINT_CORE_MAX_REGIONS + 1;
    assert_int_equal(glint_core_write(&d, path, sizeof path, &err), GLINT_E_INVALID_ARGUMENT);
    assert_int_equal(glint_core_write(NULL, path, sizeof path, &err), GLINT_E_INVALID_ARGUMENT);
    /* A read-only directory: nothing is left behind. */
    if (geteuid() != 0) {
        chmod(f->dir, 0500);
        assert_int_equal(glint_core_write(&f->d, path, sizeof path, &err), GLINT_E_IO);
        chmod(f->dir, 0700);
    }
    assert_int_equal(count_files(f->dir), 0);
    /* Odd names are sanitised; an empty one becomes "guest". */
    d = f->d;
    d.name = "";
    assert_int_equal(glint_core_write(&d, path, sizeof path, &err), GLINT_OK);
    assert_non_null(strstr(path, "/core.guest."));
    d.name = NULL;
    assert_int_equal(glint_core_write(&d, path, sizeof path, &err), GLINT_OK);
    d.name = "../../etc/x";
    assert_int_equal(glint_core_write(&d, path, sizeof path, &err), GLINT_OK);
    assert_non_null(strstr(path, "/core.x."));
}

/* gdb reads the core: registers, SSE, memory. */
static void test_gdb_reads_it(void **state) {
    fixture *f = *state;
    if (access("/usr/bin/gdb", X_OK) != 0) {
        print_message("gdb not installed (scripts/deps.sh installs it): part skipped\n");
        skip();
    }
    char path[512], cmd[1024], out[8192];
    glint_error err;
    assert_int_equal(glint_core_write(&f->d, path, sizeof path, &err), GLINT_OK);
    snprintf(cmd, sizeof cmd,
             "gdb -nx -batch -c '%s' -ex 'info registers rip rsp' -ex 'p/x $xmm0.v16_int8[1]' "
             "-ex 'x/1bx 0x%x' 2>&1",
             path, STACK_GPA + 3);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    print_message("%s", out);
    assert_non_null(strstr(out, "terminated with signal SIGSEGV"));
    assert_non_null(strstr(out, "rip            0x2010"));
    assert_non_null(strstr(out, "rsp            0x102f00"));
    assert_non_null(strstr(out, "= 0xa1"));
    assert_non_null(strstr(out, ":\t0x09")); /* stack[3] = 9 */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_and_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gdb_reads_it, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
