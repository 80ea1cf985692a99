/*
 * test_elf - the guest ELF loader (host/src/elf_loader.c) against a corpus
 * generated here: a minimal valid Glint guest (static PIE, RX text + RW data,
 * PT_DYNAMIC with R_X86_64_RELATIVE relocations, the Glint ABI note) and
 * malformations of it.  Every file is parsed from a buffer that ends at a
 * PROT_NONE page, so an out-of-bounds read faults.  A fixed-seed mutation loop
 * checks that random corruption never crashes the parser and that whatever
 * it accepts can be loaded.  Real guests in GLINT_GUEST_DIR, if any were
 * built, must parse and load too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf_loader.h"
#include "glint/abi.h"
#include "unit_support.h"

#define PAGE 4096ull
#define BUILD_CAP 8192u
#define SLOT_SENTINEL 0xdeadbeefcafef00dull
#define DATA_BIAS 0x1000u /* data vaddr = file offset + DATA_BIAS */

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (strstr((hay), (needle)) == NULL) fail_msg("\"%s\" lacks \"%s\"", (hay), (needle));     \
    } while (0)

/* ---- the corpus builder ---------------------------------------------------- */

typedef struct elf_spec {
    unsigned extra_phdrs; /* PT_NULL program headers appended (mutators fill them) */
    unsigned extra_dyn;   /* DT_DEBUG entries before DT_NULL (mutators rewrite them) */
    unsigned extra_rela;  /* R_X86_64_NONE entries after the two RELATIVE ones */
    unsigned notes;       /* copies of the Glint note (1 = normal) */
} elf_spec;

static const elf_spec S_DEFAULT = {0, 0, 0, 1};

/* Indexes of the fixed program headers. */
enum { PH_TEXT = 0, PH_DATA = 1, PH_DYN = 2, PH_NOTE = 3, PH_FIXED = 4 };
/* Indexes of the fixed dynamic entries. */
enum { DYN_RELA = 0, DYN_RELASZ = 1, DYN_RELAENT = 2, DYN_FIXED = 3 };

typedef struct elf_build {
    uint8_t *buf; /* BUILD_CAP bytes, malloc'd (so struct views are fine) */
    size_t size;
    unsigned phnum;
    size_t note_off, note_size;
    size_t code_off, text_size;
    size_t data_off, data_filesz;
    uint64_t data_vaddr, data_memsz;
    size_t dyn_off;
    unsigned ndyn; /* including DT_NULL */
    size_t slot_off[2];
    size_t marker_off;
    size_t rela_off;
    unsigned nrela;
    uint64_t image_size;
} elf_build;

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }
static uint64_t vaddr_of_data(const elf_build *b, size_t off) {
    (void)b;
    return off + DATA_BIAS;
}

static Elf64_Ehdr *EH(elf_build *b) { return (Elf64_Ehdr *)(void *)b->buf; }
static Elf64_Phdr *PH(elf_build *b, unsigned i) {
    return (Elf64_Phdr *)(void *)(b->buf + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}
static Elf64_Dyn *DYN(elf_build *b, unsigned i) {
    return (Elf64_Dyn *)(void *)(b->buf + b->dyn_off + i * sizeof(Elf64_Dyn));
}
static Elf64_Rela *RELA(elf_build *b, unsigned i) {
    return (Elf64_Rela *)(void *)(b->buf + b->rela_off + i * sizeof(Elf64_Rela));
}
static Elf64_Nhdr *NHDR(elf_build *b) { return (Elf64_Nhdr *)(void *)(b->buf + b->note_off); }
static struct glint_abi_note *NDESC(elf_build *b) {
    return (struct glint_abi_note *)(void *)(b->buf + b->note_off + sizeof(Elf64_Nhdr) + 8);
}

static const uint8_t code_bytes[16] = {0x48, 0x31, 0xc0, 0xe6, 0xe0, 0xf4, 0xeb, 0xfd,
                                       0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xcc};
static const char marker[16] = "glint-data-byte";

/*
 * File layout (default spec; offsets in the file == vaddr for text, data at
 * vaddr = offset + 0x1000 like a real linker's page-congruent placement):
 *   0x000 ELF header          | PT_LOAD R+X  [0, text_size)
 *   0x040 program headers     |
 *   ...   Glint note (PT_NOTE)|
 *   ...   code (entry)        |
 *   data: dynamic, 2 slots, marker, RELA table | PT_LOAD R+W, + 4 KiB bss
 */
static void build(elf_build *b, const elf_spec *s) {
    memset(b, 0, sizeof *b);
    b->buf = calloc(1, BUILD_CAP);
    assert_non_null(b->buf);
    b->phnum = PH_FIXED + s->extra_phdrs;
    size_t pos = sizeof(Elf64_Ehdr) + b->phnum * sizeof(Elf64_Phdr);

    b->note_off = align_up(pos, 8);
    b->note_size = s->notes * (sizeof(Elf64_Nhdr) + 8 + sizeof(struct glint_abi_note));
    for (unsigned i = 0; i < s->notes; i++) {
        uint8_t *n = b->buf + b->note_off + i * (sizeof(Elf64_Nhdr) + 16);
        Elf64_Nhdr nh = {.n_namesz = sizeof GLINT_NOTE_NAME,
                         .n_descsz = sizeof(struct glint_abi_note),
                         .n_type = GLINT_NOTE_TYPE_ABI};
        memcpy(n, &nh, sizeof nh);
        memcpy(n + sizeof nh, GLINT_NOTE_NAME, sizeof GLINT_NOTE_NAME);
        struct glint_abi_note d = {GLINT_ABI_VERSION, 0};
        memcpy(n + sizeof nh + 8, &d, sizeof d);
    }
    pos = b->note_off + b->note_size;

    b->code_off = align_up(pos, 16);
    memcpy(b->buf + b->code_off, code_bytes, sizeof code_bytes);
    b->text_size = b->code_off + sizeof code_bytes;

    b->data_off = align_up(b->text_size, 8);
    b->data_vaddr = vaddr_of_data(b, b->data_off);
    b->dyn_off = b->data_off;
    b->ndyn = DYN_FIXED + s->extra_dyn + 1;
    b->slot_off[0] = b->dyn_off + b->ndyn * sizeof(Elf64_Dyn);
    b->slot_off[1] = b->slot_off[0] + 8;
    b->marker_off = b->slot_off[1] + 8;
    b->rela_off = b->marker_off + sizeof marker;
    b->nrela = 2 + s->extra_rela;
    b->size = b->rela_off + b->nrela * sizeof(Elf64_Rela);
    assert_true(b->size <= BUILD_CAP);
    b->data_filesz = b->size - b->data_off;
    b->data_memsz = b->data_filesz + 0x1000; /* bss */
    b->image_size = align_up(b->data_vaddr + b->data_memsz, PAGE);

    uint64_t sentinel = SLOT_SENTINEL;
    memcpy(b->buf + b->slot_off[0], &sentinel, 8);
    memcpy(b->buf + b->slot_off[1], &sentinel, 8);
    memcpy(b->buf + b->marker_off, marker, sizeof marker);

    Elf64_Ehdr *eh = EH(b);
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh->e_type = ET_DYN;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = b->code_off;
    eh->e_phoff = sizeof(Elf64_Ehdr);
    eh->e_shoff = 0;
    eh->e_ehsize = sizeof(Elf64_Ehdr);
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = (uint16_t)b->phnum;
    eh->e_shentsize = sizeof(Elf64_Shdr);

    *PH(b, PH_TEXT) = (Elf64_Phdr){.p_type = PT_LOAD,
                                   .p_flags = PF_R | PF_X,
                                   .p_offset = 0,
                                   .p_vaddr = 0,
                                   .p_paddr = 0,
                                   .p_filesz = b->text_size,
                                   .p_memsz = b->text_size,
                                   .p_align = PAGE};
    *PH(b, PH_DATA) = (Elf64_Phdr){.p_type = PT_LOAD,
                                   .p_flags = PF_R | PF_W,
                                   .p_offset = b->data_off,
                                   .p_vaddr = b->data_vaddr,
                                   .p_paddr = b->data_vaddr,
                                   .p_filesz = b->data_filesz,
                                   .p_memsz = b->data_memsz,
                                   .p_align = PAGE};
    *PH(b, PH_DYN) = (Elf64_Phdr){.p_type = PT_DYNAMIC,
                                  .p_flags = PF_R | PF_W,
                                  .p_offset = b->dyn_off,
                                  .p_vaddr = b->data_vaddr,
                                  .p_paddr = b->data_vaddr,
                                  .p_filesz = b->ndyn * sizeof(Elf64_Dyn),
                                  .p_memsz = b->ndyn * sizeof(Elf64_Dyn),
                                  .p_align = 8};
    *PH(b, PH_NOTE) = (Elf64_Phdr){.p_type = PT_NOTE,
                                   .p_flags = PF_R,
                                   .p_offset = b->note_off,
                                   .p_vaddr = b->note_off,
                                   .p_paddr = b->note_off,
                                   .p_filesz = b->note_size,
                                   .p_memsz = b->note_size,
                                   .p_align = 4};
    /* extra program headers stay PT_NULL (all zero) */

    *DYN(b, DYN_RELA) = (Elf64_Dyn){.d_tag = DT_RELA, .d_un.d_ptr = vaddr_of_data(b, b->rela_off)};
    *DYN(b, DYN_RELASZ) =
        (Elf64_Dyn){.d_tag = DT_RELASZ, .d_un.d_val = b->nrela * sizeof(Elf64_Rela)};
    *DYN(b, DYN_RELAENT) = (Elf64_Dyn){.d_tag = DT_RELAENT, .d_un.d_val = sizeof(Elf64_Rela)};
    for (unsigned i = 0; i < s->extra_dyn; i++)
        *DYN(b, DYN_FIXED + i) = (Elf64_Dyn){.d_tag = DT_DEBUG, .d_un.d_val = 0};
    *DYN(b, b->ndyn - 1) = (Elf64_Dyn){.d_tag = DT_NULL, .d_un.d_val = 0};

    /* slot 0 = &code, slot 1 = &marker, after relocation. */
    *RELA(b, 0) = (Elf64_Rela){.r_offset = vaddr_of_data(b, b->slot_off[0]),
                               .r_info = ELF64_R_INFO(0, R_X86_64_RELATIVE),
                               .r_addend = (int64_t)b->code_off};
    *RELA(b, 1) = (Elf64_Rela){.r_offset = vaddr_of_data(b, b->slot_off[1]),
                               .r_info = ELF64_R_INFO(0, R_X86_64_RELATIVE),
                               .r_addend = (int64_t)vaddr_of_data(b, b->marker_off)};
    /* extra relocations stay R_X86_64_NONE (all zero) */
}

static void build_free(elf_build *b) {
    free(b->buf);
    b->buf = NULL;
}

/* ---- parse / load helpers -------------------------------------------------- */

static glint_status parse_guarded(const uint8_t *data, size_t size, glint_elf_info *info,
                                  glint_error *err) {
    guarded_buf g;
    assert_int_equal(guarded_copy(&g, data, size), 0);
    memset(err, 0, sizeof *err);
    glint_status st = glint_elf_parse(g.data, size, info, err);
    guarded_free(&g);
    return st;
}

static void expect_reject_size(elf_build *b, size_t size, glint_status want, const char *needle,
                               const char *what) {
    glint_elf_info info;
    glint_error err;
    glint_status st = parse_guarded(b->buf, size, &info, &err);
    if (st != want)
        fail_msg("%s: got %s (%s), want %s", what, glint_status_name(st), err.message,
                 glint_status_name(want));
    assert_int_equal(err.code, want);
    assert_true(strlen(err.message) > 0);
    if (strstr(err.message, needle) == NULL)
        fail_msg("%s: message \"%s\" lacks \"%s\"", what, err.message, needle);
}

/* The image lives in its own mapping with a PROT_NONE page after it. */
typedef struct image_map {
    uint8_t *data;
    uint64_t size;
    void *map;
    size_t map_len;
} image_map;

static void image_alloc(image_map *im, uint64_t size) {
    im->map_len = align_up(size, PAGE) + PAGE;
    im->map = mmap(NULL, im->map_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(im->map != MAP_FAILED);
    uint8_t *guard = (uint8_t *)im->map + align_up(size, PAGE);
    assert_int_equal(mprotect(guard, PAGE, PROT_NONE), 0);
    im->data = guard - size;
    im->size = size;
}

static void image_free(image_map *im) { munmap(im->map, im->map_len); }

static uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Parse + load succeed and the info is self-consistent. */
static void check_info_sane(const glint_elf_info *info, size_t size) {
    assert_true(info->image_size > 0 && info->image_size <= GLINT_ELF_MAX_IMAGE_SIZE);
    assert_int_equal(info->image_size % PAGE, 0);
    assert_true(info->entry < info->image_size);
    assert_true(info->segment_count >= 1 && info->segment_count <= GLINT_ELF_MAX_SEGMENTS);
    bool entry_exec = false;
    for (uint32_t i = 0; i < info->segment_count; i++) {
        const glint_elf_segment *s = &info->segments[i];
        assert_true(s->memsz > 0);
        assert_true(s->filesz <= s->memsz);
        assert_true(s->vaddr + s->memsz <= info->image_size);
        assert_true(s->offset <= size && s->filesz <= size - s->offset);
        assert_false((s->perms & GLINT_PERM_WRITE) && (s->perms & GLINT_PERM_EXEC));
        if ((s->perms & GLINT_PERM_EXEC) && info->entry >= s->vaddr &&
            info->entry < s->vaddr + s->memsz)
            entry_exec = true;
        for (uint32_t j = 0; j < i; j++) {
            const glint_elf_segment *o = &info->segments[j];
            assert_true(s->vaddr >= o->vaddr + o->memsz || o->vaddr >= s->vaddr + s->memsz);
        }
    }
    assert_true(entry_exec);
    assert_int_equal(info->abi_version, GLINT_ABI_VERSION);
    if (info->rela_count != 0) {
        assert_true(info->rela_count <= size / sizeof(Elf64_Rela));
        assert_true(info->rela_offset + info->rela_count * sizeof(Elf64_Rela) <= size);
    }
}

static void expect_ok(elf_build *b, glint_elf_info *info) {
    glint_error err;
    glint_status st = parse_guarded(b->buf, b->size, info, &err);
    if (st != GLINT_OK) fail_msg("valid file rejected: %s", err.message);
    check_info_sane(info, b->size);
    guarded_buf g;
    assert_int_equal(guarded_copy(&g, b->buf, b->size), 0);
    image_map im;
    image_alloc(&im, info->image_size);
    assert_int_equal(glint_elf_load(info, g.data, b->size, im.data, im.size, 0x1000, &err),
                     GLINT_OK);
    image_free(&im);
    guarded_free(&g);
}

#define REJECT_S(spec, want, needle, ...)                                                          \
    do {                                                                                           \
        elf_build b_;                                                                              \
        build(&b_, (spec));                                                                        \
        {                                                                                          \
            elf_build *b = &b_;                                                                    \
            (void)b;                                                                               \
            __VA_ARGS__;                                                                           \
        }                                                                                          \
        expect_reject_size(&b_, b_.size, (want), (needle), #__VA_ARGS__);                          \
        build_free(&b_);                                                                           \
    } while (0)
#define REJECT(want, needle, ...) REJECT_S(&S_DEFAULT, want, needle, __VA_ARGS__)
#define ACCEPT_S(spec, ...)                                                                        \
    do {                                                                                           \
        elf_build b_;                                                                              \
        glint_elf_info i_;                                                                         \
        build(&b_, (spec));                                                                        \
        {                                                                                          \
            elf_build *b = &b_;                                                                    \
            (void)b;                                                                               \
            __VA_ARGS__;                                                                           \
        }                                                                                          \
        expect_ok(&b_, &i_);                                                                       \
        build_free(&b_);                                                                           \
    } while (0)
#define ACCEPT(...) ACCEPT_S(&S_DEFAULT, __VA_ARGS__)

/* ---- the valid guest -------------------------------------------------------- */

static void test_valid_parse(void **state) {
    (void)state;
    elf_build b;
    build(&b, &S_DEFAULT);
    /* The builder's layout, pinned so that the expectations below are exact. */
    assert_int_equal(b.size, 0x1e0);
    assert_int_equal(b.code_off, 0x140);
    assert_int_equal(b.data_vaddr, 0x1150);

    glint_elf_info info;
    glint_error err;
    assert_int_equal(parse_guarded(b.buf, b.size, &info, &err), GLINT_OK);
    assert_int_equal(info.image_size, 0x3000);
    assert_int_equal(info.entry, 0x140);
    assert_int_equal(info.segment_count, 2);
    assert_int_equal(info.segments[0].vaddr, 0);
    assert_int_equal(info.segments[0].memsz, 0x150);
    assert_int_equal(info.segments[0].offset, 0);
    assert_int_equal(info.segments[0].filesz, 0x150);
    assert_int_equal(info.segments[0].perms, GLINT_PERM_READ | GLINT_PERM_EXEC);
    assert_int_equal(info.segments[1].vaddr, 0x1150);
    assert_int_equal(info.segments[1].memsz, 0x1090);
    assert_int_equal(info.segments[1].offset, 0x150);
    assert_int_equal(info.segments[1].filesz, 0x90);
    assert_int_equal(info.segments[1].perms, GLINT_PERM_READ | GLINT_PERM_WRITE);
    assert_int_equal(info.rela_offset, 0x1b0);
    assert_int_equal(info.rela_count, 2);
    assert_int_equal(info.abi_version, GLINT_ABI_VERSION);
    check_info_sane(&info, b.size);
    build_free(&b);
}

static void test_valid_load(void **state) {
    (void)state;
    elf_build b;
    build(&b, &S_DEFAULT);
    glint_elf_info info;
    glint_error err;
    assert_int_equal(parse_guarded(b.buf, b.size, &info, &err), GLINT_OK);
    guarded_buf file;
    assert_int_equal(guarded_copy(&file, b.buf, b.size), 0);

    const uint64_t bases[] = {0x1000, 0, 0x7fff00000000ull, 0xffffffff80000000ull};
    for (size_t k = 0; k < sizeof bases / sizeof bases[0]; k++) {
        const uint64_t base = bases[k];
        image_map im;
        image_alloc(&im, info.image_size);
        assert_int_equal(glint_elf_load(&info, file.data, b.size, im.data, im.size, base, &err),
                         GLINT_OK);
        /* Text: the first 0x150 file bytes, verbatim. */
        assert_memory_equal(im.data, b.buf, b.text_size);
        /* Gap between the segments: untouched zeros. */
        for (uint64_t a = b.text_size; a < b.data_vaddr; a++) assert_int_equal(im.data[a], 0);
        /* Data: verbatim except the two relocated slots. */
        const uint64_t s0 = vaddr_of_data(&b, b.slot_off[0]);
        const uint64_t s1 = vaddr_of_data(&b, b.slot_off[1]);
        assert_memory_equal(im.data + b.data_vaddr, b.buf + b.data_off, s0 - b.data_vaddr);
        assert_true(rd64(im.data + s0) == base + b.code_off);
        assert_true(rd64(im.data + s1) == base + vaddr_of_data(&b, b.marker_off));
        assert_memory_equal(im.data + s1 + 8, b.buf + b.slot_off[1] + 8,
                            b.size - (b.slot_off[1] + 8));
        /* bss and the rest of the image: zero. */
        for (uint64_t a = b.data_vaddr + b.data_filesz; a < im.size; a++)
            assert_int_equal(im.data[a], 0);
        image_free(&im);
    }

    /* An image larger than needed is fine; a smaller one is refused. */
    image_map im;
    image_alloc(&im, info.image_size + PAGE);
    assert_int_equal(glint_elf_load(&info, file.data, b.size, im.data, im.size, 0, &err), GLINT_OK);
    image_free(&im);
    image_alloc(&im, info.image_size - 1);
    assert_int_equal(glint_elf_load(&info, file.data, b.size, im.data, im.size, 0, &err),
                     GLINT_E_INVALID_ARGUMENT);
    assert_contains(err.message, "too small");
    image_free(&im);

    /* Info that does not match the file is refused, never followed. */
    image_alloc(&im, info.image_size);
    glint_elf_info bad = info;
    bad.segments[1].filesz = b.size; /* offset + filesz past the file */
    assert_int_equal(glint_elf_load(&bad, file.data, b.size, im.data, im.size, 0, &err),
                     GLINT_E_INVALID_ARGUMENT);
    assert_contains(err.message, "does not match");
    bad = info;
    bad.segments[1].memsz = info.image_size; /* vaddr + memsz past the image */
    assert_int_equal(glint_elf_load(&bad, file.data, b.size, im.data, im.size, 0, &err),
                     GLINT_E_INVALID_ARGUMENT);
    bad = info;
    bad.rela_count = b.size; /* table past the file */
    assert_int_equal(glint_elf_load(&bad, file.data, b.size, im.data, im.size, 0, &err),
                     GLINT_E_INVALID_ARGUMENT);
    bad = info;
    bad.rela_count = UINT64_MAX / sizeof(Elf64_Rela) + 1; /* count * 24 wraps to 8 */
    assert_int_equal(glint_elf_load(&bad, file.data, b.size, im.data, im.size, 0, &err),
                     GLINT_E_INVALID_ARGUMENT);
    image_free(&im);
    guarded_free(&file);
    build_free(&b);
}

static void test_valid_variants(void **state) {
    (void)state;
    /* R_X86_64_NONE entries are counted and skipped. */
    const elf_spec none = {0, 0, 2, 1};
    elf_build eb;
    glint_elf_info info;
    build(&eb, &none);
    expect_ok(&eb, &info);
    assert_int_equal(info.rela_count, 4);
    build_free(&eb);

    /* No relocations at all (RELASZ 0), or no DT_RELA. */
    ACCEPT(DYN(b, DYN_RELASZ)->d_un.d_val = 0);
    ACCEPT(DYN(b, DYN_RELA)->d_tag = DT_DEBUG);
    /* No PT_DYNAMIC. */
    ACCEPT(PH(b, PH_DYN)->p_type = PT_NULL);
    /* Harmless program headers: GNU_STACK, PT_PHDR, a zero-size PT_LOAD. */
    const elf_spec one_ph = {1, 0, 0, 1};
    ACCEPT_S(&one_ph, PH(b, 4)->p_type = PT_GNU_STACK; PH(b, 4)->p_flags = PF_R | PF_W);
    ACCEPT_S(&one_ph, PH(b, 4)->p_type = PT_PHDR; PH(b, 4)->p_offset = 64;
             PH(b, 4)->p_filesz = 5 * sizeof(Elf64_Phdr));
    ACCEPT_S(&one_ph, PH(b, 4)->p_type = PT_LOAD; PH(b, 4)->p_flags = PF_R | PF_W | PF_X;
             PH(b, 4)->p_vaddr = 0x100);
    /* DT_REL / DT_JMPREL / DT_PLTRELSZ with value 0 are tolerated. */
    const elf_spec one_dyn = {0, 1, 0, 1};
    ACCEPT_S(&one_dyn, DYN(b, 3)->d_tag = DT_REL);
    ACCEPT_S(&one_dyn, DYN(b, 3)->d_tag = DT_PLTRELSZ);
    /* Entry at the last byte of text; alignment 0 and 1. */
    ACCEPT(EH(b)->e_entry = b->text_size - 1);
    ACCEPT(PH(b, PH_TEXT)->p_align = 0; PH(b, PH_DATA)->p_align = 1);
    /* A relocation at the very end of the image, addend == image size. */
    ACCEPT(RELA(b, 0)->r_offset = b->image_size - 8);
    ACCEPT(RELA(b, 1)->r_addend = (int64_t)b->image_size);
    /* Segments that share a page (no byte overlap). */
    ACCEPT(PH(b, PH_DATA)->p_vaddr = b->text_size; DYN(b, DYN_RELA)->d_un.d_ptr = b->rela_off;
           RELA(b, 0)->r_offset = b->slot_off[0]; RELA(b, 1)->r_offset = b->slot_off[1]);
    /* Unrelated notes around the Glint note in the same PT_NOTE are skipped. */
    const elf_spec two_notes = {0, 0, 0, 2};
    ACCEPT_S(&two_notes, NHDR(b)->n_type = 1);
    ACCEPT_S(&two_notes, ((Elf64_Nhdr *)(void *)(b->buf + b->note_off + 28))->n_type = 3);

    /* 16 PT_LOADs is the limit. */
    const elf_spec ph14 = {14, 0, 0, 1};
    build(&eb, &ph14);
    for (unsigned i = 0; i < 14; i++)
        *PH(&eb, PH_FIXED + i) = (Elf64_Phdr){
            .p_type = PT_LOAD, .p_flags = PF_R, .p_vaddr = 0x10000 + i * PAGE, .p_memsz = PAGE};
    expect_ok(&eb, &info);
    assert_int_equal(info.segment_count, 16);
    assert_int_equal(info.image_size, 0x10000 + 14 * PAGE);
    build_free(&eb);
}

/* ---- malformations ---------------------------------------------------------- */

static void test_truncated_every_length(void **state) {
    (void)state;
    elf_build b;
    build(&b, &S_DEFAULT);
    for (size_t n = 0; n < b.size; n++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu bytes", n);
        expect_reject_size(&b, n, GLINT_E_ELF, "", what);
    }
    glint_elf_info info;
    expect_ok(&b, &info);
    build_free(&b);
    /* NULL buffer / NULL output. */
    glint_error err;
    assert_int_equal(glint_elf_parse(NULL, 100, &info, &err), GLINT_E_INVALID_ARGUMENT);
    uint8_t x[64] = {0};
    assert_int_equal(glint_elf_parse(x, sizeof x, NULL, &err), GLINT_E_INVALID_ARGUMENT);
}

static void test_bad_header(void **state) {
    (void)state;
    for (int i = 0; i < SELFMAG; i++) REJECT(GLINT_E_ELF, "magic", EH(b)->e_ident[i] ^= 0x20);
    REJECT(GLINT_E_ELF, "64-bit", EH(b)->e_ident[EI_CLASS] = ELFCLASS32);
    REJECT(GLINT_E_ELF, "64-bit", EH(b)->e_ident[EI_CLASS] = ELFCLASSNONE);
    REJECT(GLINT_E_ELF, "little-endian", EH(b)->e_ident[EI_DATA] = ELFDATA2MSB);
    REJECT(GLINT_E_ELF, "little-endian", EH(b)->e_ident[EI_DATA] = 0);
    REJECT(GLINT_E_ELF, "version", EH(b)->e_ident[EI_VERSION] = 0);
    REJECT(GLINT_E_ELF, "version", EH(b)->e_ident[EI_VERSION] = 2);
    REJECT(GLINT_E_ELF, "version", EH(b)->e_version = 0);
    REJECT(GLINT_E_ELF, "version", EH(b)->e_version = 2);
    REJECT(GLINT_E_ELF, "x86-64", EH(b)->e_machine = EM_386);
    REJECT(GLINT_E_ELF, "x86-64", EH(b)->e_machine = EM_AARCH64);
    REJECT(GLINT_E_ELF, "ET_DYN", EH(b)->e_type = ET_EXEC);
    REJECT(GLINT_E_ELF, "ET_DYN", EH(b)->e_type = ET_REL);
    REJECT(GLINT_E_ELF, "ET_DYN", EH(b)->e_type = ET_CORE);
    REJECT(GLINT_E_ELF, "e_ehsize", EH(b)->e_ehsize = 52);
    REJECT(GLINT_E_ELF, "e_phentsize", EH(b)->e_phentsize = 32);
    REJECT(GLINT_E_ELF, "e_phentsize", EH(b)->e_phentsize = 57);
    REJECT(GLINT_E_ELF, "e_phentsize", EH(b)->e_phentsize = 0);
    REJECT(GLINT_E_ELF, "program header count", EH(b)->e_phnum = 0);
    REJECT(GLINT_E_ELF, "program header count", EH(b)->e_phnum = 65535);
    REJECT(GLINT_E_ELF, "program header count", EH(b)->e_phnum = GLINT_ELF_MAX_PHDRS + 1);
    /* Program header table outside the file. */
    REJECT(GLINT_E_ELF, "program headers", EH(b)->e_phoff = b->size);
    REJECT(GLINT_E_ELF, "program headers", EH(b)->e_phoff = b->size - 4 * sizeof(Elf64_Phdr) + 1);
    REJECT(GLINT_E_ELF, "program headers", EH(b)->e_phoff = UINT64_MAX - 8);
    REJECT(GLINT_E_ELF, "program headers",
           EH(b)->e_phoff = UINT64_MAX - 4 * sizeof(Elf64_Phdr) + 1);
    REJECT(GLINT_E_ELF, "program headers", EH(b)->e_phoff = 1ull << 63);
    REJECT(GLINT_E_ELF, "program headers", EH(b)->e_phnum = 9);
}

static void test_bad_load_segments(void **state) {
    (void)state;
    /* File range of a PT_LOAD. */
    REJECT(GLINT_E_ELF, "outside the file", PH(b, PH_DATA)->p_offset = b->size - 8);
    REJECT(GLINT_E_ELF, "outside the file", PH(b, PH_DATA)->p_offset = b->size + 1);
    REJECT(GLINT_E_ELF, "outside the file", PH(b, PH_DATA)->p_offset = UINT64_MAX - 0x10);
    REJECT(GLINT_E_ELF, "outside the file", PH(b, PH_DATA)->p_filesz = b->size);
    REJECT(GLINT_E_ELF, "outside the file", PH(b, PH_TEXT)->p_filesz = UINT64_MAX;
           PH(b, PH_TEXT)->p_memsz = UINT64_MAX);
    REJECT(GLINT_E_ELF, "outside the file", PH(b, PH_DATA)->p_offset = 0x10;
           PH(b, PH_DATA)->p_filesz = UINT64_MAX - 0xf; PH(b, PH_DATA)->p_memsz = UINT64_MAX);
    /* filesz > memsz. */
    REJECT(GLINT_E_ELF, "file size exceeds", PH(b, PH_DATA)->p_memsz = b->data_filesz - 1);
    REJECT(GLINT_E_ELF, "file size exceeds", PH(b, PH_TEXT)->p_memsz = b->text_size - 1);
    /* Virtual range beyond the image limit, including wrap-around. */
    REJECT(GLINT_E_ELF, "image limit", PH(b, PH_DATA)->p_memsz = GLINT_ELF_MAX_IMAGE_SIZE);
    REJECT(GLINT_E_ELF, "image limit", PH(b, PH_DATA)->p_vaddr = GLINT_ELF_MAX_IMAGE_SIZE);
    REJECT(GLINT_E_ELF, "image limit", PH(b, PH_DATA)->p_vaddr = UINT64_MAX - 0xfff);
    REJECT(GLINT_E_ELF, "image limit", PH(b, PH_DATA)->p_memsz = UINT64_MAX);
    REJECT(GLINT_E_ELF, "image limit", PH(b, PH_DATA)->p_vaddr = 0x2000;
           PH(b, PH_DATA)->p_memsz = UINT64_MAX - 0x1fff); /* vaddr + memsz wraps to 0 */
    REJECT(GLINT_E_ELF, "image limit", PH(b, PH_DATA)->p_vaddr = 1ull << 63);
    /* Overlap. */
    REJECT(GLINT_E_ELF, "overlap", PH(b, PH_DATA)->p_vaddr = 0x100);
    REJECT(GLINT_E_ELF, "overlap", PH(b, PH_DATA)->p_vaddr = b->text_size - 1);
    REJECT(GLINT_E_ELF, "overlap", PH(b, PH_TEXT)->p_memsz = b->data_vaddr + 1);
    REJECT(GLINT_E_ELF, "overlap", *PH(b, PH_DATA) = *PH(b, PH_TEXT));
    /* W^X. */
    REJECT(GLINT_E_ELF, "W^X", PH(b, PH_TEXT)->p_flags = PF_R | PF_W | PF_X);
    REJECT(GLINT_E_ELF, "W^X", PH(b, PH_DATA)->p_flags |= PF_X);
    REJECT(GLINT_E_ELF, "W^X", PH(b, PH_DATA)->p_flags = PF_W | PF_X);
    /* Alignment not a power of two. */
    REJECT(GLINT_E_ELF, "power of two", PH(b, PH_TEXT)->p_align = 0x1001);
    REJECT(GLINT_E_ELF, "power of two", PH(b, PH_DATA)->p_align = 3);
    /* No PT_LOAD with a size. */
    REJECT(GLINT_E_ELF, "no loadable", PH(b, PH_TEXT)->p_type = PT_NULL;
           PH(b, PH_DATA)->p_type = PT_NULL);
    REJECT(GLINT_E_ELF, "no loadable", PH(b, PH_TEXT)->p_memsz = 0; PH(b, PH_TEXT)->p_filesz = 0;
           PH(b, PH_DATA)->p_memsz = 0; PH(b, PH_DATA)->p_filesz = 0);
    /* 17 PT_LOADs. */
    const elf_spec ph15 = {15, 0, 0, 1};
    REJECT_S(
        &ph15, GLINT_E_ELF, "more than 16",
        for (unsigned i = 0; i < 15; i++) * PH(b, PH_FIXED + i) = (Elf64_Phdr){
            .p_type = PT_LOAD, .p_flags = PF_R, .p_vaddr = 0x10000 + i * PAGE, .p_memsz = PAGE});
}

static void test_forbidden_segments(void **state) {
    (void)state;
    const elf_spec one_ph = {1, 0, 0, 1};
    REJECT_S(&one_ph, GLINT_E_ELF, "interpreter", PH(b, 4)->p_type = PT_INTERP;
             PH(b, 4)->p_offset = b->note_off; PH(b, 4)->p_filesz = 4);
    REJECT_S(&one_ph, GLINT_E_ELF, "interpreter", PH(b, 4)->p_type = PT_INTERP);
    REJECT_S(&one_ph, GLINT_E_ELF, "thread-local", PH(b, 4)->p_type = PT_TLS;
             PH(b, 4)->p_vaddr = b->data_vaddr; PH(b, 4)->p_memsz = 16);
    REJECT_S(&one_ph, GLINT_E_ELF, "thread-local", PH(b, 4)->p_type = PT_TLS);
    /* PT_DYNAMIC / PT_NOTE pointing outside the file. */
    REJECT(GLINT_E_ELF, "PT_DYNAMIC", PH(b, PH_DYN)->p_offset = b->size);
    REJECT(GLINT_E_ELF, "PT_DYNAMIC", PH(b, PH_DYN)->p_filesz = UINT64_MAX);
    REJECT(GLINT_E_ELF, "PT_DYNAMIC", PH(b, PH_DYN)->p_offset = UINT64_MAX - 0xf);
    REJECT(GLINT_E_ELF, "PT_NOTE", PH(b, PH_NOTE)->p_offset = b->size - 4);
    REJECT(GLINT_E_ELF, "PT_NOTE", PH(b, PH_NOTE)->p_filesz = UINT64_MAX);
    REJECT(GLINT_E_ELF, "PT_NOTE", PH(b, PH_NOTE)->p_offset = UINT64_MAX - 0x3);
}

static void test_bad_dynamic(void **state) {
    (void)state;
    const elf_spec one_dyn = {0, 1, 0, 1};
    REJECT_S(&one_dyn, GLINT_E_ELF, "DT_NEEDED", DYN(b, 3)->d_tag = DT_NEEDED);
    REJECT_S(&one_dyn, GLINT_E_ELF, "DT_NEEDED", DYN(b, 3)->d_tag = DT_NEEDED;
             DYN(b, 3)->d_un.d_val = 0);
    REJECT_S(&one_dyn, GLINT_E_ELF, "REL relocations", DYN(b, 3)->d_tag = DT_REL;
             DYN(b, 3)->d_un.d_ptr = b->data_vaddr);
    REJECT_S(&one_dyn, GLINT_E_ELF, "REL relocations", DYN(b, 3)->d_tag = DT_RELSZ;
             DYN(b, 3)->d_un.d_val = 16);
    REJECT_S(&one_dyn, GLINT_E_ELF, "PLT", DYN(b, 3)->d_tag = DT_JMPREL;
             DYN(b, 3)->d_un.d_ptr = vaddr_of_data(b, b->rela_off));
    REJECT_S(&one_dyn, GLINT_E_ELF, "PLT", DYN(b, 3)->d_tag = DT_PLTRELSZ;
             DYN(b, 3)->d_un.d_val = 24);
#ifdef DT_RELR
    REJECT_S(&one_dyn, GLINT_E_ELF, "RELR", DYN(b, 3)->d_tag = DT_RELR);
    REJECT_S(&one_dyn, GLINT_E_ELF, "RELR", DYN(b, 3)->d_tag = DT_RELRSZ);
#endif
    /* Entries after DT_NULL are ignored. */
    ACCEPT_S(&one_dyn, DYN(b, 3)->d_tag = DT_NULL; DYN(b, 4)->d_tag = DT_NEEDED;
             DYN(b, 4)->d_un.d_val = 1);

    /* The RELA table itself. */
    REJECT(GLINT_E_ELF, "multiple", DYN(b, DYN_RELASZ)->d_un.d_val = 47);
    REJECT(GLINT_E_ELF, "multiple", DYN(b, DYN_RELASZ)->d_un.d_val = 49);
    REJECT(GLINT_E_ELF, "multiple", DYN(b, DYN_RELASZ)->d_un.d_val = 1);
    REJECT(GLINT_E_ELF, "DT_RELAENT", DYN(b, DYN_RELAENT)->d_un.d_val = 16);
    REJECT(GLINT_E_ELF, "DT_RELAENT", DYN(b, DYN_RELAENT)->d_un.d_val = 0);
    REJECT(GLINT_E_ELF, "outside loaded file data",
           DYN(b, DYN_RELA)->d_un.d_ptr = b->data_vaddr + b->data_filesz); /* in bss */
    REJECT(GLINT_E_ELF, "outside loaded file data",
           DYN(b, DYN_RELA)->d_un.d_ptr = b->data_vaddr + b->data_filesz - 24); /* straddles */
    REJECT(GLINT_E_ELF, "outside loaded file data", DYN(b, DYN_RELA)->d_un.d_ptr = 0x100000);
    REJECT(GLINT_E_ELF, "outside loaded file data",
           DYN(b, DYN_RELA)->d_un.d_ptr = b->text_size + 8); /* the gap */
    REJECT(GLINT_E_ELF, "outside loaded file data", DYN(b, DYN_RELA)->d_un.d_ptr = UINT64_MAX - 8);
    REJECT(GLINT_E_ELF, "outside loaded file data",
           DYN(b, DYN_RELASZ)->d_un.d_val = 24ull << 59); /* huge multiple of 24 */
    REJECT(GLINT_E_ELF, "outside loaded file data", DYN(b, DYN_RELASZ)->d_un.d_val = 24ull * 1000);
    /* Inside a segment's memory size but past its file bytes: the file bytes
     * at the "same" offset belong to something else and must not be used. */
    REJECT(GLINT_E_ELF, "outside loaded file data", PH(b, PH_TEXT)->p_memsz = 0x1000;
           DYN(b, DYN_RELA)->d_un.d_ptr = b->rela_off);
}

static void test_bad_relocations(void **state) {
    (void)state;
    const uint32_t types[] = {R_X86_64_64,       R_X86_64_PC32,      R_X86_64_COPY,
                              R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT, R_X86_64_DTPMOD64,
                              R_X86_64_TPOFF64,  R_X86_64_IRELATIVE, 0xffffffffu};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "type %u", types[i]);
        REJECT(GLINT_E_ELF, want, RELA(b, 1)->r_info = ELF64_R_INFO(0, types[i]));
        REJECT(GLINT_E_ELF, "R_X86_64_RELATIVE", RELA(b, 0)->r_info = ELF64_R_INFO(3, types[i]));
    }
    /* RELATIVE with a symbol. */
    REJECT(GLINT_E_ELF, "names a symbol", RELA(b, 0)->r_info = ELF64_R_INFO(1, R_X86_64_RELATIVE));
    REJECT(GLINT_E_ELF, "relocation 1",
           RELA(b, 1)->r_info = ELF64_R_INFO(0xffffffffu, R_X86_64_RELATIVE));
    /* Target outside the image. */
    REJECT(GLINT_E_ELF, "outside the image", RELA(b, 0)->r_offset = b->image_size - 4);
    REJECT(GLINT_E_ELF, "outside the image", RELA(b, 0)->r_offset = b->image_size);
    REJECT(GLINT_E_ELF, "outside the image", RELA(b, 1)->r_offset = UINT64_MAX - 3);
    REJECT(GLINT_E_ELF, "outside the image", RELA(b, 1)->r_offset = UINT64_MAX);
    REJECT(GLINT_E_ELF, "outside the image", RELA(b, 1)->r_offset = 1ull << 40);
    /* Addend outside the image (negative or beyond its end). */
    REJECT(GLINT_E_ELF, "addend", RELA(b, 0)->r_addend = -1);
    REJECT(GLINT_E_ELF, "addend", RELA(b, 0)->r_addend = INT64_MIN);
    REJECT(GLINT_E_ELF, "addend", RELA(b, 1)->r_addend = (int64_t)b->image_size + 1);
    REJECT(GLINT_E_ELF, "addend", RELA(b, 1)->r_addend = INT64_MAX);
}

static void test_bad_note(void **state) {
    (void)state;
    /* Missing: no PT_NOTE, another name, another type, namesz without NUL. */
    REJECT(GLINT_E_ELF, "missing Glint ABI note", PH(b, PH_NOTE)->p_type = PT_NULL);
    REJECT(GLINT_E_ELF, "missing Glint ABI note", b->buf[b->note_off + 12 + 4] = 'x');
    REJECT(GLINT_E_ELF, "missing Glint ABI note", NHDR(b)->n_type = 1);
    REJECT(GLINT_E_ELF, "missing Glint ABI note", NHDR(b)->n_namesz = 5);
    REJECT(GLINT_E_ELF, "missing Glint ABI note", PH(b, PH_NOTE)->p_filesz = 11);
    REJECT(GLINT_E_ELF, "missing Glint ABI note", PH(b, PH_NOTE)->p_filesz = 0);
    /* The note in a PT_LOAD only does not count. */
    REJECT(GLINT_E_ELF, "missing Glint ABI note", PH(b, PH_NOTE)->p_type = PT_GNU_STACK);
    /* Wrong ABI version. */
    REJECT(GLINT_E_ABI_MISMATCH, "ABI version 4", NDESC(b)->abi_version = GLINT_ABI_VERSION + 1);
    /* ABI 1 guests ran at CPL 0 and installed their own tables: refused;
     * ABI 2 guests have no world page (no clock, no entropy): refused. */
    REJECT(GLINT_E_ABI_MISMATCH, "ABI version 1", NDESC(b)->abi_version = 1);
    REJECT(GLINT_E_ABI_MISMATCH, "ABI version 2", NDESC(b)->abi_version = 2);
    REJECT(GLINT_E_ABI_MISMATCH, "ABI version 0", NDESC(b)->abi_version = 0);
    REJECT(GLINT_E_ABI_MISMATCH, "ABI version 4294967295", NDESC(b)->abi_version = UINT32_MAX);
    REJECT(GLINT_E_ELF, "reserved field", NDESC(b)->reserved = 1);
    /* Wrong descriptor size. */
    REJECT(GLINT_E_ELF, "size 4", NHDR(b)->n_descsz = 4);
    REJECT(GLINT_E_ELF, "size 0", NHDR(b)->n_descsz = 0);
    REJECT(GLINT_E_ELF, "size 7", NHDR(b)->n_descsz = 7);
    REJECT(GLINT_E_ELF, "truncated", NHDR(b)->n_descsz = 12);
    /* Larger descriptors that fit the segment are still the wrong size. */
    REJECT(GLINT_E_ELF, "size 12", NHDR(b)->n_descsz = 12; PH(b, PH_NOTE)->p_filesz += 4);
    REJECT(GLINT_E_ELF, "size 16", NHDR(b)->n_descsz = 16; PH(b, PH_NOTE)->p_filesz += 8);
    /* Sizes beyond the segment. */
    REJECT(GLINT_E_ELF, "truncated", NHDR(b)->n_namesz = 0xffffffffu);
    REJECT(GLINT_E_ELF, "truncated", NHDR(b)->n_descsz = 0xffffffffu);
    REJECT(GLINT_E_ELF, "truncated", NHDR(b)->n_namesz = 0xfffffffdu);
    REJECT(GLINT_E_ELF, "truncated", NHDR(b)->n_descsz = 0xfffffffdu);
    REJECT(GLINT_E_ELF, "truncated", PH(b, PH_NOTE)->p_filesz = b->note_size - 1);
    REJECT(GLINT_E_ELF, "truncated", PH(b, PH_NOTE)->p_filesz = 12);
    /* Two Glint notes. */
    const elf_spec two = {0, 0, 0, 2};
    REJECT_S(&two, GLINT_E_ELF, "duplicate", (void)0);
}

static void test_bad_entry(void **state) {
    (void)state;
    REJECT(GLINT_E_ELF, "entry point", EH(b)->e_entry = b->text_size);
    REJECT(GLINT_E_ELF, "entry point", EH(b)->e_entry = b->data_vaddr);
    REJECT(GLINT_E_ELF, "entry point", EH(b)->e_entry = b->data_vaddr + b->data_filesz + 8);
    REJECT(GLINT_E_ELF, "entry point", EH(b)->e_entry = b->image_size);
    REJECT(GLINT_E_ELF, "entry point", EH(b)->e_entry = UINT64_MAX);
    /* Text without X. */
    REJECT(GLINT_E_ELF, "entry point", PH(b, PH_TEXT)->p_flags = PF_R);
}

/* ---- random mutation ---------------------------------------------------------- */

static const uint64_t interesting[] = {0,
                                       1,
                                       2,
                                       7,
                                       8,
                                       0x18,
                                       0x38,
                                       0x40,
                                       0xfff,
                                       0x1000,
                                       0x1001,
                                       0x10000,
                                       0x7fffffff,
                                       0x80000000,
                                       0xffffffff,
                                       0x100000000ull,
                                       1ull << 30,
                                       (1ull << 30) - 1,
                                       1ull << 63,
                                       UINT64_MAX,
                                       UINT64_MAX - 7,
                                       UINT64_MAX - 0xfff};

static void mutate(uint8_t *buf, size_t size, uint64_t *seed) {
    unsigned count = 1 + (unsigned)(unit_rand(seed) % 4);
    for (unsigned k = 0; k < count; k++) {
        switch (unit_rand(seed) % 4) {
        case 0: buf[unit_rand(seed) % size] = (uint8_t)unit_rand(seed); break;
        case 1: buf[unit_rand(seed) % size] ^= (uint8_t)(1u << (unit_rand(seed) % 8)); break;
        case 2: { /* an interesting 64-bit value at an 8-aligned field */
            uint64_t at = (unit_rand(seed) % (size / 8)) * 8;
            uint64_t v =
                interesting[unit_rand(seed) % (sizeof interesting / sizeof interesting[0])];
            memcpy(buf + at, &v, 8);
            break;
        }
        default: { /* an interesting 32/16-bit value at a 2-aligned position */
            uint64_t at = (unit_rand(seed) % (size / 2 - 1)) * 2;
            uint32_t v = (uint32_t)
                interesting[unit_rand(seed) % (sizeof interesting / sizeof interesting[0])];
            memcpy(buf + at, &v, (unit_rand(seed) & 1) ? 2 : (at + 4 <= size ? 4 : 2));
            break;
        }
        }
    }
}

static void test_mutation_fuzz(void **state) {
    (void)state;
    const elf_spec specs[] = {{0, 0, 0, 1}, {2, 2, 2, 1}};
    uint64_t seed = 0x0123456789abcdefull;
    unsigned ok = 0, elf_err = 0, abi_err = 0;
    for (unsigned iter = 0; iter < 20000; iter++) {
        elf_build b;
        build(&b, &specs[iter % 2]);
        mutate(b.buf, b.size, &seed);
        size_t size = b.size;
        if (unit_rand(&seed) % 16 == 0) size = (size_t)(unit_rand(&seed) % (b.size + 1));

        guarded_buf g;
        assert_int_equal(guarded_copy(&g, b.buf, size), 0);
        glint_elf_info info;
        glint_error err;
        memset(&err, 0, sizeof err);
        glint_status st = glint_elf_parse(g.data, size, &info, &err);
        if (st == GLINT_OK) {
            ok++;
            check_info_sane(&info, size);
            image_map im;
            image_alloc(&im, info.image_size);
            glint_status ls = glint_elf_load(&info, g.data, size, im.data, im.size, 0x1000, &err);
            if (ls != GLINT_OK)
                fail_msg("iteration %u: parse OK but load failed: %s", iter, err.message);
            image_free(&im);
        } else {
            if (st != GLINT_E_ELF && st != GLINT_E_ABI_MISMATCH)
                fail_msg("iteration %u: unexpected status %s", iter, glint_status_name(st));
            assert_int_equal(err.code, st);
            assert_true(strlen(err.message) > 0);
            if (st == GLINT_E_ELF)
                elf_err++;
            else
                abi_err++;
        }
        guarded_free(&g);
        build_free(&b);
    }
    print_message("mutation: %u accepted, %u GLINT_E_ELF, %u GLINT_E_ABI_MISMATCH\n", ok, elf_err,
                  abi_err);
    /* The loop must exercise both sides. */
    assert_true(ok > 1000);
    assert_true(elf_err > 1000);
    assert_true(abi_err > 0);
}

/* ---- real guests ----------------------------------------------------------- */

static void test_real_guests(void **state) {
    (void)state;
#ifndef GLINT_GUEST_DIR
    print_message("GLINT_GUEST_DIR not defined: no real guests to check\n");
    skip();
#else
    DIR *d = opendir(GLINT_GUEST_DIR);
    if (d == NULL) {
        print_message("%s: %s; no real guests to check\n", GLINT_GUEST_DIR, strerror(errno));
        skip();
    }
    unsigned checked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".elf") != 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", GLINT_GUEST_DIR, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        struct stat st;
        assert_int_equal(fstat(fileno(f), &st), 0);
        if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
            fclose(f);
            continue;
        }
        size_t size = (size_t)st.st_size;
        guarded_buf g;
        assert_int_equal(guarded_alloc(&g, size), 0);
        assert_int_equal(fread(g.data, 1, size, f), size);
        fclose(f);
        glint_elf_info info;
        glint_error err;
        memset(&err, 0, sizeof err);
        glint_status s = glint_elf_parse(g.data, size, &info, &err);
        if (s != GLINT_OK) fail_msg("%s: %s: %s", path, glint_status_name(s), err.message);
        check_info_sane(&info, size);
        image_map im;
        image_alloc(&im, info.image_size);
        assert_int_equal(glint_elf_load(&info, g.data, size, im.data, im.size, 0x1000, &err),
                         GLINT_OK);
        image_free(&im);
        guarded_free(&g);
        print_message("%s: %u segments, image 0x%llx, entry 0x%llx, %llu relocations\n", e->d_name,
                      info.segment_count, (unsigned long long)info.image_size,
                      (unsigned long long)info.entry, (unsigned long long)info.rela_count);
        checked++;
    }
    closedir(d);
    if (checked == 0) {
        print_message("no *.elf in %s yet\n", GLINT_GUEST_DIR);
        skip();
    }
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_parse),        cmocka_unit_test(test_valid_load),
        cmocka_unit_test(test_valid_variants),     cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_bad_header),         cmocka_unit_test(test_bad_load_segments),
        cmocka_unit_test(test_forbidden_segments), cmocka_unit_test(test_bad_dynamic),
        cmocka_unit_test(test_bad_relocations),    cmocka_unit_test(test_bad_note),
        cmocka_unit_test(test_bad_entry),          cmocka_unit_test(test_mutation_fuzz),
        cmocka_unit_test(test_real_guests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
