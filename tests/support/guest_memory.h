/*
 * guest_memory.h - test helper: fingerprints of a sandbox's guest memory
 * (snapshot region and scratch region, as the host maps them), for tests
 * that must show two memory states are byte for byte identical.
 *
 * Pages that are not resident in the host mapping (mincore) read as zero
 * and are never touched, so hashing does not fault memory in or change
 * what the sandbox has resident.  Zero pages and non-resident pages hash
 * alike: the fingerprint depends on the bytes only.  Uses the library's
 * internals (sandbox_internal.h); the sandbox must not be running.
 */
#ifndef GLINT_TEST_GUEST_MEMORY_H
#define GLINT_TEST_GUEST_MEMORY_H

#include <stdint.h>

#include "glint/glint.h"

typedef struct glint_test_memory {
    uint64_t hash;           /* FNV-1a-64 over (page number, page bytes) of every non-zero page */
    uint64_t pages;          /* pages of guest memory */
    uint64_t resident_pages; /* pages resident in the host mapping */
    uint64_t nonzero_pages;  /* pages holding a non-zero byte */
} glint_test_memory;

/* Fingerprints sb's memory.  Returns 0, or -1 (errno set) if mincore fails. */
int glint_test_memory_digest(const glint_sandbox *sb, glint_test_memory *out);

/* The hash alone; aborts the process if the memory cannot be read. */
uint64_t glint_test_memory_hash(const glint_sandbox *sb);

/* Per-page hashes (0 for zero or non-resident pages) in a malloc'ed array of
 * *count entries, for reporting which pages differ; NULL on failure. */
uint64_t *glint_test_memory_page_hashes(const glint_sandbox *sb, uint64_t *count);

/* Guest-physical address of page `index` of the memory (as hashed above). */
uint64_t glint_test_memory_page_gpa(const glint_sandbox *sb, uint64_t index);

/* Prints (to stdout) up to `max` pages whose hashes differ between a and b
 * (arrays of `count` entries, from glint_test_memory_page_hashes); returns
 * the number of differing pages. */
uint64_t glint_test_memory_report_diff(const glint_sandbox *sb, const uint64_t *a,
                                       const uint64_t *b, uint64_t count, uint64_t max);

/* From /proc/self/smaps, for the host mapping of sb's guest memory: the KiB
 * resident in it (*rss_kib) and of those, the private copy-on-write copies
 * (*anon_kib: pages the guest or host wrote since the last restore).
 * Returns 0, or -1 if the mapping is not found. */
int glint_test_memory_smaps(const glint_sandbox *sb, long *rss_kib, long *anon_kib);

#endif
