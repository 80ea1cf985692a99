/*
 * File mappings and host memory regions (filemap/filemap.c) against
 * tests/guests/filemap_guest.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "glint/glint.h"
#include "kvm_support.h"

#define MAP_GPA 0x100000000ull /* 4 GiB: between the snapshot and scratch regions */
#define PAGE 4096u

static char dir[256];

static uint64_t fnv(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Writes a file of n pseudo-random bytes; returns its path (static buffer
 * per call site index). */
static const char *make_file(const char *name, size_t n, uint8_t **content) {
    static char paths[8][512];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, 512, "%s/%s", dir, name);
    uint8_t *buf = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)((i * 2654435761u) >> 13);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    if (content != NULL)
        *content = buf;
    else
        free(buf);
    return path;
}

static uint64_t file_hash(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint64_t h = 0xcbf29ce484222325ull;
    int c;
    while ((c = fgetc(f)) != EOF) {
        h ^= (uint8_t)c;
        h *= 0x100000001b3ull;
    }
    fclose(f);
    return h;
}

static glint_sandbox *create(void) {
    glint_sandbox *sb = NULL;
    glint_error err;
    if (glint_sandbox_create(NULL, glint_test_guest_path("filemap_guest"), &sb, &err) != GLINT_OK)
        fail_msg("create: %s", err.message);
    return sb;
}

static glint_sandbox *create_ready(void) {
    glint_sandbox *sb = create();
    if (glint_sandbox_initialize(sb) != GLINT_OK)
        fail_msg("init: %s", glint_sandbox_last_error(sb)->message);
    return sb;
}

static glint_status call_hash(glint_sandbox *sb, const char *label, uint64_t len, uint64_t *h) {
    glint_value args[2] = {glint_str(label), glint_u64(len)}, out;
    glint_status st = glint_sandbox_call(sb, "mapping_hash", GLINT_TYPE_U64, args, 2, &out);
    *h = out.as.u64;
    return st;
}

static glint_status call_read(glint_sandbox *sb, const char *label, uint64_t off, uint32_t *v) {
    glint_value args[2] = {glint_str(label), glint_u64(off)}, out;
    out.as.u32 = 0;
    glint_status st = glint_sandbox_call(sb, "mapping_read", GLINT_TYPE_U32, args, 2, &out);
    *v = out.as.u32;
    return st;
}

static glint_status call_write(glint_sandbox *sb, const char *label, uint64_t off, uint32_t v) {
    glint_value args[3] = {glint_str(label), glint_u64(off), glint_u32(v)};
    return glint_sandbox_call(sb, "mapping_write", GLINT_TYPE_VOID, args, 3, NULL);
}

static uint32_t guest_mapping_count(glint_sandbox *sb) {
    glint_value out;
    assert_int_equal(glint_sandbox_call(sb, "mapping_count", GLINT_TYPE_U32, NULL, 0, &out),
                     GLINT_OK);
    return out.as.u32;
}

static void test_mapped_before_init_visible_at_boot(void **state) {
    (void)state;
    uint8_t *content;
    const size_t n = 3 * PAGE + 123;
    const char *path = make_file("data.bin", n, &content);
    glint_sandbox *sb = create();
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, path, NULL), GLINT_OK);
    assert_int_equal(glint_sandbox_initialize(sb), GLINT_OK);
    glint_value out;
    assert_int_equal(glint_sandbox_call(sb, "init_mappings", GLINT_TYPE_STRING, NULL, 0, &out),
                     GLINT_OK);
    assert_string_equal(out.as.str.ptr, "1:data.bin");
    uint64_t h;
    assert_int_equal(call_hash(sb, "data.bin", n, &h), GLINT_OK);
    assert_true(h == fnv(content, n));
    /* The tail of the last page reads as zero. */
    uint32_t v;
    assert_int_equal(call_read(sb, "data.bin", 4 * PAGE - 1, &v), GLINT_OK);
    assert_int_equal(v, 0);
    glint_mapping_info info;
    assert_true(glint_sandbox_mapping(sb, 0, &info));
    assert_true(info.gpa == MAP_GPA && info.size == 4 * PAGE && info.is_file);
    glint_sandbox_destroy(sb);
    free(content);
}

static void test_copy_on_write_never_touches_file(void **state) {
    (void)state;
    const size_t n = 2 * PAGE;
    const char *path = make_file("cow.bin", n, NULL);
    uint64_t before = file_hash(path);
    glint_sandbox *sb = create_ready();
    glint_mapping_options opts = {.mode = GLINT_MAP_COPY_ON_WRITE, .label = "cow"};
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, path, &opts), GLINT_OK);
    assert_int_equal(call_write(sb, "cow", 10, 0xAB), GLINT_OK);
    assert_int_equal(call_write(sb, "cow", PAGE + 5, 0xCD), GLINT_OK);
    uint32_t v;
    assert_int_equal(call_read(sb, "cow", 10, &v), GLINT_OK);
    assert_int_equal(v, 0xAB);
    assert_int_equal(call_read(sb, "cow", PAGE + 5, &v), GLINT_OK);
    assert_int_equal(v, 0xCD);
    assert_true(file_hash(path) == before);
    glint_sandbox_destroy(sb);
    assert_true(file_hash(path) == before);
}

static void test_read_only_write_faults_and_poisons(void **state) {
    (void)state;
    const char *path = make_file("ro.bin", PAGE, NULL);
    glint_sandbox *sb = create_ready();
    glint_mapping_options opts = {.label = "ro"};
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, path, &opts), GLINT_OK);
    glint_status st = call_write(sb, "ro", 1, 7);
    const glint_error *e = glint_sandbox_last_error(sb);
    printf("  write to read-only mapping -> %s: %s\n", glint_status_name(st), e->message);
    assert_int_equal(st, GLINT_E_GUEST_FAULT);
    assert_int_equal(e->vector, 14);
    assert_true(e->cr2 == MAP_GPA + 1);
    assert_true(glint_sandbox_is_poisoned(sb));
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA + (1ull << 30), path, NULL),
                     GLINT_E_POISONED);
    glint_sandbox_destroy(sb);
}

static void expect_mapping_error(glint_sandbox *sb, glint_status st, glint_status want,
                                 const char *needle) {
    const glint_error *e = glint_sandbox_last_error(sb);
    printf("  -> %s: %s\n", glint_status_name(st), e->message);
    assert_int_equal(st, want);
    if (needle != NULL) assert_non_null(strstr(e->message, needle));
}

/* ---- Executable mappings (GLINT_MAP_EXEC) -------------------------------------- */

/* x86-64 code the guest calls as uint64_t f(uint64_t): */
static const uint8_t code_add42[] = {0x48, 0x8d, 0x47, 0x2a, 0xc3}; /* lea rax,[rdi+42]; ret */
static const uint8_t code_square[] = {0x48, 0x89, 0xf8, 0x48,
                                      0x0f, 0xaf, 0xc0, 0xc3}; /* rax=rdi*rdi */

/* A file of `size` bytes with add42 at 0, square at `square_at`. */
static const char *make_code_file(const char *name, size_t size, size_t square_at) {
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 512, "%s/%s", dir, name);
    uint8_t *buf = calloc(1, size);
    assert_non_null(buf);
    memcpy(buf, code_add42, sizeof code_add42);
    memcpy(buf + square_at, code_square, sizeof code_square);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, size, f), size);
    fclose(f);
    free(buf);
    return path;
}

static glint_status call_code(glint_sandbox *sb, const char *label, uint64_t off, uint64_t arg,
                              uint64_t *out) {
    glint_value args[3] = {glint_str(label), glint_u64(off), glint_u64(arg)}, r;
    r.as.u64 = 0;
    glint_status st = glint_sandbox_call(sb, "mapping_call", GLINT_TYPE_U64, args, 3, &r);
    *out = r.as.u64;
    return st;
}

/* A poisoning page fault with this error code (P, W, U, I bits), then
 * recovery by restore. */
static void expect_page_fault(glint_sandbox *sb, glint_status st, uint64_t error_code,
                              glint_snapshot *snap) {
    const glint_error *e = glint_sandbox_last_error(sb);
    printf("  -> %s: %s\n", glint_status_name(st), e->message);
    assert_int_equal(st, GLINT_E_GUEST_FAULT);
    assert_int_equal(e->vector, 14);
    assert_int_equal(e->error_code, error_code);
    assert_true(glint_sandbox_is_poisoned(sb));
    assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
}

#define PF_WRITE_PROT 0x7u  /* present, write, user */
#define PF_FETCH_PROT 0x15u /* present, user, instruction fetch */

static void test_exec_mappings(void **state) {
    (void)state;
    const char *path = make_code_file("code.bin", 2 * PAGE, PAGE);
    const uint64_t file_hash_before = file_hash(path);
    glint_sandbox *sb = create_ready();
    glint_mapping_options x = {.mode = GLINT_MAP_READ_ONLY | GLINT_MAP_EXEC, .label = "rx"};
    glint_mapping_options cx = {.mode = GLINT_MAP_COPY_ON_WRITE | GLINT_MAP_EXEC, .label = "cowx"};
    glint_mapping_options ro = {.mode = GLINT_MAP_READ_ONLY, .label = "ro"};
    glint_mapping_options cow = {.mode = GLINT_MAP_COPY_ON_WRITE, .label = "cow"};
    glint_mapping_options bare = {.mode = GLINT_MAP_EXEC, .label = "x"}; /* = READ_ONLY | EXEC */
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, path, &x), GLINT_OK);
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA + 0x10000, path, &cx), GLINT_OK);
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA + 0x20000, path, &ro), GLINT_OK);
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA + 0x30000, path, &cow), GLINT_OK);
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA + 0x40000, path, &bare), GLINT_OK);
    glint_mapping_info info;
    assert_true(glint_sandbox_mapping(sb, 4, &info));
    assert_int_equal(info.mode, GLINT_MAP_READ_ONLY | GLINT_MAP_EXEC);
    glint_snapshot *snap;
    assert_int_equal(glint_sandbox_snapshot(sb, &snap), GLINT_OK);

    /* The guest runs code found in the executable mappings. */
    uint64_t v;
    const char *exec_labels[] = {"rx", "cowx", "x"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(call_code(sb, exec_labels[i], 0, 5, &v), GLINT_OK);
        assert_int_equal(v, 47);
        assert_int_equal(call_code(sb, exec_labels[i], PAGE, 12, &v), GLINT_OK);
        assert_int_equal(v, 144);
        uint32_t byte;
        assert_int_equal(call_read(sb, exec_labels[i], 1, &byte), GLINT_OK);
        assert_int_equal(byte, code_add42[1]);
    }
    /* W^X: an executable mapping is never writable, copy-on-write or not. */
    for (int i = 0; i < 3; i++)
        expect_page_fault(sb, call_write(sb, exec_labels[i], 0, 0xcc), PF_WRITE_PROT, snap);
    expect_page_fault(sb, call_write(sb, "cowx", PAGE + 3, 0x90), PF_WRITE_PROT, snap);
    /* ... and a mapping without GLINT_MAP_EXEC is never executable. */
    expect_page_fault(sb, call_code(sb, "ro", 0, 1, &v), PF_FETCH_PROT, snap);
    expect_page_fault(sb, call_code(sb, "cow", PAGE, 1, &v), PF_FETCH_PROT, snap);
    /* Writing code into a copy-on-write mapping and then running it: the
     * write works (a private page), the jump into it faults. */
    assert_int_equal(call_write(sb, "cow", 0x800, 0xc3), GLINT_OK); /* ret */
    expect_page_fault(sb, call_code(sb, "cow", 0x800, 1, &v), PF_FETCH_PROT, snap);
    /* Clones of the snapshot run the mapped code too. */
    glint_sandbox *c = NULL;
    glint_error err;
    assert_int_equal(glint_sandbox_create_from_snapshot(snap, NULL, &c, &err), GLINT_OK);
    assert_int_equal(call_code(c, "cowx", PAGE, 9, &v), GLINT_OK);
    assert_int_equal(v, 81);
    glint_sandbox_destroy(c);
    assert_int_equal(call_code(sb, "rx", 0, 0, &v), GLINT_OK);
    assert_int_equal(v, 42);
    assert_true(file_hash(path) == file_hash_before);
    glint_snapshot_release(snap);
    glint_sandbox_destroy(sb);
}

/* Code at 3 MiB into a file mapped at a 2 MiB boundary: executable 2 MiB
 * leaves (the NX bit of large pages). */
static void test_exec_mapping_large_pages(void **state) {
    (void)state;
    const size_t size = 4u << 20;
    const char *path = make_code_file("big-code.bin", size, 3u << 20);
    glint_sandbox *sb = create_ready();
    glint_mapping_options x = {.mode = GLINT_MAP_READ_ONLY | GLINT_MAP_EXEC, .label = "bigx"};
    glint_mapping_options ro = {.mode = GLINT_MAP_READ_ONLY, .label = "big"};
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, path, &x), GLINT_OK);
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA + (8u << 20), path, &ro), GLINT_OK);
    glint_snapshot *snap;
    assert_int_equal(glint_sandbox_snapshot(sb, &snap), GLINT_OK);
    uint64_t v;
    assert_int_equal(call_code(sb, "bigx", 3u << 20, 11, &v), GLINT_OK);
    assert_int_equal(v, 121);
    expect_page_fault(sb, call_code(sb, "big", 3u << 20, 11, &v), PF_FETCH_PROT, snap);
    expect_page_fault(sb, call_write(sb, "bigx", 3u << 20, 0), PF_WRITE_PROT, snap);
    glint_snapshot_release(snap);
    glint_sandbox_destroy(sb);
}

static void test_exec_mapping_refusals(void **state) {
    (void)state;
    const char *path = make_file("nx.bin", PAGE, NULL);
    glint_sandbox *sb = create_ready();
    glint_mapping_options rwx = {.mode = GLINT_MAP_READ_WRITE | GLINT_MAP_EXEC};
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA, path, &rwx), GLINT_E_MAPPING,
                         "GLINT_MAP_EXEC");
    glint_mapping_options odd = {.mode = 0x8};
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA, path, &odd), GLINT_E_MAPPING,
                         "mode 0x8");
    /* Host memory is never executable. */
    void *mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mem != MAP_FAILED);
    glint_mapping_options hx = {.mode = GLINT_MAP_READ_ONLY | GLINT_MAP_EXEC};
    expect_mapping_error(sb, glint_sandbox_map_host_memory(sb, MAP_GPA, mem, PAGE, &hx),
                         GLINT_E_MAPPING, "executable");
    glint_mapping_options hrwx = {.mode = GLINT_MAP_READ_WRITE | GLINT_MAP_EXEC};
    expect_mapping_error(sb, glint_sandbox_map_host_memory(sb, MAP_GPA, mem, PAGE, &hrwx),
                         GLINT_E_MAPPING, "executable");
    assert_int_equal(glint_sandbox_mapping_count(sb), 0);
    munmap(mem, PAGE);
    glint_sandbox_destroy(sb);
    /* Init data: writable and executable at once is refused too. */
    glint_config cfg;
    glint_config_init(&cfg);
    static const uint8_t blob[16];
    cfg.init_data = blob;
    cfg.init_data_size = sizeof blob;
    cfg.init_data_perms = GLINT_PERM_READ | GLINT_PERM_WRITE | GLINT_PERM_EXEC;
    glint_error err;
    assert_int_equal(glint_sandbox_create(&cfg, glint_test_guest_path("filemap_guest"), &sb, &err),
                     GLINT_E_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "W^X"));
}

static void test_validation(void **state) {
    (void)state;
    const char *path = make_file("v.bin", 2 * PAGE, NULL);
    const char *empty = make_file("empty.bin", 0, NULL);
    glint_sandbox *sb = create_ready();
    glint_layout_info l;
    glint_sandbox_layout(sb, &l);
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA + 12, path, NULL), GLINT_E_MAPPING,
                         "not page aligned");
    expect_mapping_error(sb, glint_sandbox_map_file(sb, l.heap_gpa, path, NULL), GLINT_E_MAPPING,
                         "overlaps guest memory");
    expect_mapping_error(sb, glint_sandbox_map_file(sb, l.scratch_gpa - PAGE, path, NULL),
                         GLINT_E_MAPPING, "scratch");
    /* The world page lies right below scratch: a mapping may end at it. */
    expect_mapping_error(sb, glint_sandbox_map_file(sb, l.scratch_gpa - 2 * PAGE, path, NULL),
                         GLINT_E_MAPPING, "world page");
    assert_int_equal(glint_sandbox_map_file(sb, l.scratch_gpa - 3 * PAGE, path, NULL), GLINT_OK);
    assert_int_equal(glint_sandbox_unmap(sb, l.scratch_gpa - 3 * PAGE), GLINT_OK);
    expect_mapping_error(sb, glint_sandbox_map_file(sb, (1ull << 36) - PAGE, path, NULL),
                         GLINT_E_MAPPING, NULL);
    expect_mapping_error(sb, glint_sandbox_map_file(sb, UINT64_MAX & ~0xfffull, path, NULL),
                         GLINT_E_MAPPING, NULL);
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA, empty, NULL), GLINT_E_MAPPING,
                         "empty");
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA, "/nonexistent/x", NULL),
                         GLINT_E_IO, "/nonexistent/x");
    assert_int_equal(glint_sandbox_last_error(sb)->sys_errno, ENOENT);
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA, dir, NULL), GLINT_E_MAPPING,
                         "not a regular file");
    /* A FIFO must be refused without blocking.  9p (the harness shares the
     * host's /tmp that way) cannot create FIFOs: use /dev/shm when it can. */
    char fifo[512];
    snprintf(fifo, sizeof fifo, "/dev/shm/glint-fifo-%d", (int)getpid());
    if (mkfifo(fifo, 0600) != 0) snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    if (access(fifo, F_OK) == 0 || mkfifo(fifo, 0600) == 0) {
        expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA, fifo, NULL), GLINT_E_MAPPING,
                             "not a regular file");
        unlink(fifo);
    } else {
        printf("  FIFO case NOT RUN: cannot create a FIFO here (%s)\n", strerror(errno));
    }
    char long_label[80];
    memset(long_label, 'x', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = '\0';
    glint_mapping_options opts = {.label = long_label};
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA, path, &opts), GLINT_E_MAPPING,
                         "longer than");
    glint_mapping_options nul = {.label = "a\0b", .label_len = 3};
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA, path, &nul), GLINT_E_MAPPING,
                         "NUL");
    glint_mapping_options bad_mode = {.mode = GLINT_MAP_READ_WRITE};
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA, path, &bad_mode), GLINT_E_MAPPING,
                         NULL);
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, path, NULL), GLINT_OK);
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA + PAGE, path, NULL),
                         GLINT_E_MAPPING, "overlaps mapping");
    assert_int_equal(glint_sandbox_unmap(sb, MAP_GPA), GLINT_OK);
    expect_mapping_error(sb, glint_sandbox_unmap(sb, MAP_GPA), GLINT_E_NOT_FOUND, NULL);
    /* 32 mappings fit, the 33rd does not. */
    for (uint32_t i = 0; i < GLINT_MAX_FILE_MAPPINGS; i++) {
        char label[16];
        snprintf(label, sizeof label, "m%u", i);
        glint_mapping_options o = {.label = label};
        assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA + i * 4 * PAGE, path, &o), GLINT_OK);
    }
    expect_mapping_error(sb, glint_sandbox_map_file(sb, MAP_GPA + 200 * PAGE, path, NULL),
                         GLINT_E_MAPPING, "at most");
    assert_int_equal(guest_mapping_count(sb), GLINT_MAX_FILE_MAPPINGS);
    assert_false(glint_sandbox_is_poisoned(sb));
    glint_sandbox_destroy(sb);
}

static void test_truncated_file_is_a_clean_error(void **state) {
    (void)state;
    const char *path = make_file("trunc.bin", 3 * PAGE, NULL);
    glint_sandbox *sb = create_ready();
    glint_mapping_options opts = {.label = "t"};
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, path, &opts), GLINT_OK);
    assert_int_equal(truncate(path, 0), 0);
    uint32_t v;
    glint_status st = call_read(sb, "t", 2 * PAGE, &v);
    expect_mapping_error(sb, st, GLINT_E_MEMORY_ACCESS, "host");
    assert_true(glint_sandbox_is_poisoned(sb));
    glint_sandbox_destroy(sb);
}

static void test_large_sparse_file(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/sparse.bin", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1ll << 30), 0);
    assert_int_equal(pwrite(fd, "Z", 1, (1ll << 30) - 1), 1);
    close(fd);
    glint_sandbox *sb = create_ready();
    glint_mapping_options opts = {.label = "big"};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, path, &opts), GLINT_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("  mapped a 1 GiB sparse file in %.3f ms\n",
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    uint32_t v;
    assert_int_equal(call_read(sb, "big", (1ull << 30) - 1, &v), GLINT_OK);
    assert_int_equal(v, 'Z');
    assert_int_equal(call_read(sb, "big", 512ull << 20, &v), GLINT_OK);
    assert_int_equal(v, 0);
    glint_sandbox_destroy(sb);
    unlink(path);
}

static void test_unmap_removes_access(void **state) {
    (void)state;
    const char *path = make_file("u.bin", PAGE, NULL);
    glint_sandbox *sb = create_ready();
    glint_mapping_options opts = {.label = "u"};
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, path, &opts), GLINT_OK);
    uint32_t v;
    assert_int_equal(call_read(sb, "u", 0, &v), GLINT_OK);
    assert_int_equal(glint_sandbox_unmap(sb, MAP_GPA), GLINT_OK);
    assert_int_equal(guest_mapping_count(sb), 0);
    glint_value addr = glint_u64(MAP_GPA), out;
    glint_status st = glint_sandbox_call(sb, "read_address", GLINT_TYPE_U32, &addr, 1, &out);
    expect_mapping_error(sb, st, GLINT_E_GUEST_FAULT, NULL);
    assert_true(glint_sandbox_last_error(sb)->cr2 == MAP_GPA);
    glint_sandbox_destroy(sb);
}

static void test_host_memory_regions(void **state) {
    (void)state;
    uint8_t *ro = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(ro != MAP_FAILED && rw != MAP_FAILED);
    memset(ro, 0x5A, 2 * PAGE);
    glint_sandbox *sb = create_ready();
    glint_mapping_options o_ro = {.label = "ro-mem", .mode = GLINT_MAP_READ_ONLY};
    glint_mapping_options o_rw = {.label = "rw-mem", .mode = GLINT_MAP_READ_WRITE};
    assert_int_equal(glint_sandbox_map_host_memory(sb, MAP_GPA, ro, 2 * PAGE, &o_ro), GLINT_OK);
    assert_int_equal(glint_sandbox_map_host_memory(sb, MAP_GPA + 2 * PAGE, rw, PAGE, &o_rw),
                     GLINT_OK);
    uint32_t v;
    assert_int_equal(call_read(sb, "ro-mem", PAGE + 3, &v), GLINT_OK);
    assert_int_equal(v, 0x5A);
    assert_int_equal(call_write(sb, "rw-mem", 100, 0x77), GLINT_OK);
    assert_int_equal(rw[100], 0x77); /* the embedder sees the guest's write */
    assert_int_equal(glint_sandbox_map_host_memory(sb, MAP_GPA + 8 * PAGE, ro + 1, PAGE, &o_ro),
                     GLINT_E_MAPPING);
    assert_int_equal(call_write(sb, "ro-mem", 0, 1), GLINT_E_GUEST_FAULT);
    assert_int_equal(ro[0], 0x5A);
    glint_sandbox_destroy(sb);
    munmap(ro, 2 * PAGE);
    munmap(rw, PAGE);
}

static void test_restore_semantics(void **state) {
    (void)state;
    const char *a = make_file("a.bin", PAGE, NULL);
    const char *b = make_file("b.bin", PAGE, NULL);
    glint_sandbox *sb = create_ready();
    glint_mapping_options oa = {.label = "a", .mode = GLINT_MAP_COPY_ON_WRITE};
    glint_mapping_options ob = {.label = "b"};
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA, a, &oa), GLINT_OK);
    uint32_t orig;
    assert_int_equal(call_read(sb, "a", 0, &orig), GLINT_OK);
    glint_snapshot *snap = NULL;
    assert_int_equal(glint_sandbox_snapshot(sb, &snap), GLINT_OK);

    /* After the snapshot: write to a, map b, then restore. */
    assert_int_equal(call_write(sb, "a", 0, (orig + 1) & 0xff), GLINT_OK);
    assert_int_equal(glint_sandbox_map_file(sb, MAP_GPA + (1ull << 30), b, &ob), GLINT_OK);
    assert_int_equal(guest_mapping_count(sb), 2);
    assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
    assert_int_equal(glint_sandbox_mapping_count(sb), 1);
    assert_int_equal(guest_mapping_count(sb), 1);
    uint32_t v;
    assert_int_equal(call_read(sb, "a", 0, &v), GLINT_OK);
    assert_int_equal(v, orig); /* the private write is gone */
    glint_value addr = glint_u64(MAP_GPA + (1ull << 30)), out;
    assert_int_not_equal(glint_sandbox_call(sb, "read_address", GLINT_TYPE_U32, &addr, 1, &out),
                         GLINT_OK); /* b is gone */
    assert_true(glint_sandbox_is_poisoned(sb));

    /* Unmapping a after the snapshot: restore brings it back. */
    assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
    assert_int_equal(glint_sandbox_unmap(sb, MAP_GPA), GLINT_OK);
    assert_int_equal(guest_mapping_count(sb), 0);
    assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
    assert_int_equal(guest_mapping_count(sb), 1);
    assert_int_equal(call_read(sb, "a", 0, &v), GLINT_OK);
    assert_int_equal(v, orig);

    /* A clone gets the snapshot's mappings. */
    glint_sandbox *clone = NULL;
    glint_error err;
    assert_int_equal(glint_sandbox_create_from_snapshot(snap, NULL, &clone, &err), GLINT_OK);
    assert_int_equal(glint_sandbox_mapping_count(clone), 1);
    assert_int_equal(call_read(clone, "a", 0, &v), GLINT_OK);
    assert_int_equal(v, orig);
    /* Snapshots with mappings cannot be saved to files. */
    char path[512];
    snprintf(path, sizeof path, "%s/snap.bin", dir);
    assert_int_equal(glint_snapshot_save(snap, path, &err), GLINT_E_MAPPING);
    glint_sandbox_destroy(clone);
    glint_snapshot_release(snap);
    glint_sandbox_destroy(sb);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/glint-filemap-XXXXXX");
    return mkdtemp(dir) == NULL;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) != 0;
}

int main(void) {
    glint_test_require_kvm();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapped_before_init_visible_at_boot),
        cmocka_unit_test(test_copy_on_write_never_touches_file),
        cmocka_unit_test(test_read_only_write_faults_and_poisons),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_truncated_file_is_a_clean_error),
        cmocka_unit_test(test_large_sparse_file),
        cmocka_unit_test(test_unmap_removes_access),
        cmocka_unit_test(test_host_memory_regions),
        cmocka_unit_test(test_restore_semantics),
        cmocka_unit_test(test_exec_mappings),
        cmocka_unit_test(test_exec_mapping_large_pages),
        cmocka_unit_test(test_exec_mapping_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
