/* Test helper: fingerprints of guest memory; see guest_memory.h. */
#include "guest_memory.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sandbox_internal.h"

#define PAGE ((uint64_t)GLINT_PAGE_SIZE)
#define FNV_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const void *data, size_t len) {
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

static bool page_is_zero(const uint8_t *p) {
    const uint64_t *w = (const uint64_t *)(const void *)p;
    for (size_t i = 0; i < PAGE / sizeof *w; i++)
        if (w[i] != 0) return false;
    return true;
}

/* Calls fn(page index, page or NULL for a zero/non-resident page) for every
 * page; returns -1 if mincore fails. */
static int walk(const glint_sandbox *sb, void (*fn)(void *ctx, uint64_t index, const uint8_t *page),
                void *ctx, uint64_t *resident_out) {
    uint64_t pages = sb->mem_size / PAGE, resident = 0;
    unsigned char *vec = malloc(pages ? pages : 1);
    if (vec == NULL) return -1;
    if (mincore(sb->mem, sb->mem_size, vec) != 0) {
        int saved = errno;
        free(vec);
        errno = saved;
        return -1;
    }
    for (uint64_t i = 0; i < pages; i++) {
        const uint8_t *p = sb->mem + i * PAGE;
        if (vec[i] & 1) resident++;
        fn(ctx, i, (vec[i] & 1) && !page_is_zero(p) ? p : NULL);
    }
    free(vec);
    if (resident_out != NULL) *resident_out = resident;
    return 0;
}

static void digest_page(void *ctx, uint64_t index, const uint8_t *page) {
    glint_test_memory *m = ctx;
    if (page == NULL) return;
    m->nonzero_pages++;
    m->hash = fnv(m->hash, &index, sizeof index);
    m->hash = fnv(m->hash, page, PAGE);
}

int glint_test_memory_digest(const glint_sandbox *sb, glint_test_memory *out) {
    memset(out, 0, sizeof *out);
    out->hash = FNV_BASIS;
    out->pages = sb->mem_size / PAGE;
    return walk(sb, digest_page, out, &out->resident_pages);
}

uint64_t glint_test_memory_hash(const glint_sandbox *sb) {
    glint_test_memory m;
    if (glint_test_memory_digest(sb, &m) != 0) {
        fprintf(stderr, "glint_test_memory_hash: mincore failed: %s\n", strerror(errno));
        abort();
    }
    return m.hash;
}

static void page_hash(void *ctx, uint64_t index, const uint8_t *page) {
    uint64_t *hashes = ctx;
    hashes[index] = page == NULL ? 0 : fnv(FNV_BASIS, page, PAGE);
}

uint64_t *glint_test_memory_page_hashes(const glint_sandbox *sb, uint64_t *count) {
    *count = sb->mem_size / PAGE;
    uint64_t *hashes = calloc(*count ? *count : 1, sizeof *hashes);
    if (hashes == NULL) return NULL;
    if (walk(sb, page_hash, hashes, NULL) != 0) {
        free(hashes);
        return NULL;
    }
    return hashes;
}

uint64_t glint_test_memory_page_gpa(const glint_sandbox *sb, uint64_t index) {
    uint64_t snapshot_pages = sb->layout.snapshot_size / PAGE;
    if (index < snapshot_pages) return sb->layout.snapshot_gpa + index * PAGE;
    return sb->layout.scratch_gpa + (index - snapshot_pages) * PAGE;
}

uint64_t glint_test_memory_report_diff(const glint_sandbox *sb, const uint64_t *a,
                                       const uint64_t *b, uint64_t count, uint64_t max) {
    uint64_t differ = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (a[i] == b[i]) continue;
        if (differ < max)
            printf("    page %" PRIu64 " (GPA 0x%" PRIx64 ") differs\n", i,
                   glint_test_memory_page_gpa(sb, i));
        differ++;
    }
    return differ;
}

int glint_test_memory_smaps(const glint_sandbox *sb, long *rss_kib, long *anon_kib) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL) return -1;
    char line[512];
    bool in_vma = false, found = false;
    *rss_kib = *anon_kib = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long start, end;
        /* A VMA header line starts with "start-end "; field lines with a
         * name and a colon (no '-' after leading hex letters). */
        if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
            in_vma = (uintptr_t)start == (uintptr_t)sb->mem;
            if (in_vma) found = true;
            continue;
        }
        if (!in_vma) continue;
        long v;
        if (sscanf(line, "Rss: %ld kB", &v) == 1) *rss_kib = v;
        if (sscanf(line, "Anonymous: %ld kB", &v) == 1) *anon_kib = v;
    }
    fclose(f);
    return found ? 0 : -1;
}
