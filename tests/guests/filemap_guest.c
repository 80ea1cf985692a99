/*
 * filemap_guest.c - the guest side of tests/kvm/test_filemap.c: finds
 * mappings by label, hashes them, reads and writes their bytes, and records
 * what it saw during initialisation.
 */
#include <glint_guest.h>

#include <stdio.h>
#include <string.h>

static char init_report[128];

static const glint_file_mapping_info *find(const glint_value *label) {
    const glint_file_mapping_info *m = glint_mapping_find(label->as.str.ptr);
    if (m == NULL) glint_set_error("no mapping labelled '%s'", label->as.str.ptr);
    return m;
}

/* "count:first-label" as seen by glint_main, before any call. */
static glint_status init_mappings(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    *ret = glint_str(init_report);
    return GLINT_OK;
}

static glint_status mapping_count(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args;
    (void)argc;
    *ret = glint_u32(glint_mapping_count());
    return GLINT_OK;
}

/* FNV-1a over the first len bytes of the mapping. */
static glint_status mapping_hash(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const glint_file_mapping_info *m = find(&args[0]);
    if (m == NULL) return GLINT_E_NOT_FOUND;
    uint64_t len = args[1].as.u64;
    if (len > m->size) {
        glint_set_error("length %llu exceeds mapping size %llu", (unsigned long long)len,
                        (unsigned long long)m->size);
        return GLINT_E_GUEST_ERROR;
    }
    const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)m->guest_addr;
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    *ret = glint_u64(h);
    return GLINT_OK;
}

/* Reads one byte at offset; offsets beyond the mapping are deliberately not
 * checked so that tests can make the guest touch what the host removed. */
static glint_status mapping_read(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const glint_file_mapping_info *m = find(&args[0]);
    if (m == NULL) return GLINT_E_NOT_FOUND;
    const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)m->guest_addr;
    *ret = glint_u32(p[args[1].as.u64]);
    return GLINT_OK;
}

static glint_status mapping_write(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    (void)ret;
    const glint_file_mapping_info *m = find(&args[0]);
    if (m == NULL) return GLINT_E_NOT_FOUND;
    volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)m->guest_addr;
    p[args[1].as.u64] = (uint8_t)args[2].as.u32;
    return GLINT_OK;
}

/* Reads a byte at a raw guest address (for accesses after an unmap). */
static glint_status read_address(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)args[0].as.u64;
    *ret = glint_u32(*p);
    return GLINT_OK;
}

/* Calls the code at offset in the mapping as uint64_t f(uint64_t arg):
 * programs run straight out of a mapped file (GLINT_MAP_EXEC). */
static glint_status mapping_call(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const glint_file_mapping_info *m = find(&args[0]);
    if (m == NULL) return GLINT_E_NOT_FOUND;
    uint64_t (*fn)(uint64_t) = (uint64_t(*)(uint64_t))(uintptr_t)(m->guest_addr + args[1].as.u64);
    *ret = glint_u64(fn(args[2].as.u64));
    return GLINT_OK;
}

void glint_main(void) {
    uint32_t n = glint_mapping_count();
    const glint_file_mapping_info *first = glint_mapping_get(0);
    snprintf(init_report, sizeof init_report, "%u:%s", n, first != NULL ? first->label : "");
    glint_register_function("init_mappings", init_mappings, GLINT_TYPE_STRING, 0);
    glint_register_function("mapping_count", mapping_count, GLINT_TYPE_U32, 0);
    glint_register_function("mapping_hash", mapping_hash, GLINT_TYPE_U64, 2, GLINT_TYPE_STRING,
                            GLINT_TYPE_U64);
    glint_register_function("mapping_read", mapping_read, GLINT_TYPE_U32, 2, GLINT_TYPE_STRING,
                            GLINT_TYPE_U64);
    glint_register_function("mapping_write", mapping_write, GLINT_TYPE_VOID, 3, GLINT_TYPE_STRING,
                            GLINT_TYPE_U64, GLINT_TYPE_U32);
    glint_register_function("read_address", read_address, GLINT_TYPE_U32, 1, GLINT_TYPE_U64);
    glint_register_function("mapping_call", mapping_call, GLINT_TYPE_U64, 3, GLINT_TYPE_STRING,
                            GLINT_TYPE_U64, GLINT_TYPE_U64);
}
