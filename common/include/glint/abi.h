/*
 * glint/abi.h - the host/guest ABI: memory layout constants, the PEB, the
 * file-mapping table, I/O ports, the guest entry contract and the metadata
 * page.  Freestanding C11; compiled into both the host library and the guest
 * runtime, so the two can never disagree.  Every structure here is read by the
 * host only after copying it out of guest memory and validating it: the guest
 * may have rewritten any of it.
 *
 * Versioning: GLINT_ABI_VERSION changes whenever a structure, port or message
 * in this header or in glint/wire.h changes incompatibly.  The guest embeds it
 * in an ELF note (GLINT_NOTE_*), the host refuses guests whose note differs.
 */
#ifndef GLINT_ABI_H
#define GLINT_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "glint/types.h"

#define GLINT_ABI_VERSION 3u

/* ---- ELF note identifying a Glint guest and its ABI version ------------ */
#define GLINT_NOTE_NAME "Glint" /* n_namesz = 6 (with NUL) */
#define GLINT_NOTE_TYPE_ABI 0x474c4e01u
/* Descriptor: struct glint_abi_note. */
struct glint_abi_note {
    uint32_t abi_version;
    uint32_t reserved; /* must be 0 */
};

/* ---- Guest-physical memory layout -------------------------------------- */
#define GLINT_PAGE_SIZE 4096u
#define GLINT_PAGE_SHIFT 12u
/* Page 0 is never mapped: a NULL dereference in the guest faults. */
#define GLINT_BASE_ADDRESS 0x1000ull
/* The scratch region ends at the top of a 36-bit guest-physical space. */
#define GLINT_PHYS_ADDR_BITS 36u
#define GLINT_PHYS_TOP (1ull << GLINT_PHYS_ADDR_BITS)
/* Upper bound on each of the snapshot and scratch regions. */
#define GLINT_MAX_MEMORY_SIZE ((16ull << 30) - GLINT_BASE_ADDRESS)

/* Scratch region, from its base upwards:
 *   input buffer | output buffer | stack guard (unmapped) | stack |
 *   exception-stack guard (unmapped) | exception stack | metadata page
 * The metadata page is the last page below GLINT_PHYS_TOP.  The exception
 * stack and the metadata page are supervisor-only: guest code (CPL 3) can
 * neither read nor write them; only the host's exception stubs (CPL 0) do. */
#define GLINT_EXCEPTION_STACK_SIZE (16u * 1024u)
#define GLINT_METADATA_SIZE GLINT_PAGE_SIZE
#define GLINT_METADATA_GPA (GLINT_PHYS_TOP - GLINT_METADATA_SIZE)

/* Snapshot region, after the PEB page: two host-owned, supervisor-only pages.
 *   CPU tables page: GDT at +0, TSS at +GLINT_CPU_TSS_OFFSET, IDT at
 *     +GLINT_CPU_IDT_OFFSET; read-only, never executable.
 *   Exception code page: the host's CPL-0 exception stubs; read-only,
 *     executable at CPL 0 only.
 * Their contents belong to the host and to this ABI version; a guest image
 * never contains them. */
#define GLINT_CPU_TSS_OFFSET 0x100u
#define GLINT_CPU_IDT_OFFSET 0x200u
#define GLINT_CPU_EXCEPTION_VECTORS 32u
#define GLINT_MIN_STACK_SIZE (16u * 1024u)

/* Default and minimum sizes (bytes), cf. docs/abi.md.  The input and output
 * buffers have no fixed maximum: the host bounds them by the sandbox's
 * memory_cap (and the scratch region must hold them).  One message is still
 * at most 4 GiB, since the wire format's lengths are u32 (glint/wire.h). */
#define GLINT_DEFAULT_INPUT_SIZE (16u * 1024u)
#define GLINT_DEFAULT_OUTPUT_SIZE (16u * 1024u)
#define GLINT_MIN_IO_BUFFER_SIZE (8u * 1024u)
#define GLINT_DEFAULT_HEAP_SIZE (128u * 1024u)
#define GLINT_MIN_HEAP_SIZE (16u * 1024u)
#define GLINT_DEFAULT_SCRATCH_SIZE (288u * 1024u)

/* ---- File mappings (nanvix style) --------------------------------------- */
/* GLINT_MAX_FILE_MAPPINGS and GLINT_FILE_MAPPING_LABEL_SIZE: glint/types.h. */

typedef struct glint_file_mapping_info {
    uint64_t guest_addr;                       /* page aligned guest-physical == guest-virtual */
    uint64_t size;                             /* bytes, page aligned */
    char label[GLINT_FILE_MAPPING_LABEL_SIZE]; /* NUL terminated */
} glint_file_mapping_info;

/* ---- PEB ---------------------------------------------------------------- */
typedef struct glint_region {
    uint64_t size;
    uint64_t ptr;
} glint_region;

/* PEB flags. */
#define GLINT_PEB_FLAG_FILE_MAPPINGS_WRITABLE 0x1u

/*
 * The PEB lives at the start of the page following the guest image; the
 * FileMappingInfo array follows it directly in the same page.  Host-written,
 * guest-read; mapped read-only into the guest.  The first five pairs match
 * Hyperlight's HyperlightPEB; the rest are Glint's.
 */
typedef struct glint_peb {
    glint_region input;         /* input buffer (host -> guest stack) */
    glint_region output;        /* output buffer (guest -> host stack) */
    glint_region init_data;     /* init-data blob, size in bytes */
    glint_region heap;          /* guest heap for malloc */
    glint_region file_mappings; /* size = entry count, ptr = array */
    uint64_t abi_version;
    uint64_t stack_top;           /* initial RSP of calls, 16-aligned */
    uint64_t stack_limit;         /* lowest stack byte; guard page below */
    uint64_t exception_stack_top; /* informational: CPL-0 stack (supervisor-only) */
    uint64_t metadata;            /* informational: metadata page (supervisor-only) */
    uint32_t log_level;           /* records below this are not sent */
    uint32_t flags;               /* GLINT_PEB_FLAG_* */
    uint64_t mappings_generation; /* bumped on every map/unmap */
    uint64_t world;               /* guest address of the world page (glint_world), ABI 3 */
    uint64_t reserved[14];
} glint_peb;

#define GLINT_PEB_SIZE 256u
#define GLINT_FILE_MAPPINGS_OFFSET GLINT_PEB_SIZE /* from the PEB start */

/* ---- The world page (ABI 3): time and entropy ----------------------------
 * One page the host owns and keeps current, mapped read-only (user, NX) at
 * peb->world, which is GLINT_WORLD_GPA(scratch base): the page right below
 * the scratch region.  It is not guest memory proper: each sandbox has its
 * own host page in its own memory slot, outside snapshots, so restore and
 * clone never copy or reset it; the host rewrites it on create, clone,
 * restore and at the start of every call, while the vCPU is stopped.
 *
 * Time, read without a VM exit (docs/guest-guide.md, "Time"):
 *   GLINT_WORLD_CLOCK_TSC set: with tsc = RDTSC (the vCPU's TSC, readable at
 *     CPL 3: CR4.TSD is clear) and delta = tsc - tsc_base (0 if negative),
 *       ns = (delta * tsc_mult) >> GLINT_WORLD_TSC_SHIFT   (128-bit product)
 *       CLOCK_MONOTONIC = mono_base_ns + ns, CLOCK_REALTIME = wall_base_ns + ns
 *   GLINT_WORLD_CLOCK_PINNED set (the host pinned time for replay), or
 *   neither set (no usable TSC: a coarse clock): the bases themselves.
 * The host keeps CLOCK_MONOTONIC from going backwards across its refreshes,
 * restores and clones.
 *
 * Entropy: `generation` takes a new value on every create, clone and restore
 * (unless the host made entropy deterministic, then it stays the same), and
 * `seed` holds 32 fresh bytes from the host's CSPRNG for it.  The runtime
 * seeds its CSPRNG at initialisation and compares generation with the one
 * it last seeded from before every draw: the first draw of a new generation
 * comes from the new seed, whatever state the snapshot held.  (Checking at
 * the draw rather than at every call keeps calls that draw nothing from
 * writing the generator's page after each restore.) */
#define GLINT_WORLD_SIZE GLINT_PAGE_SIZE
#define GLINT_WORLD_GPA(scratch_gpa) ((uint64_t)(scratch_gpa)-GLINT_WORLD_SIZE)
#define GLINT_WORLD_SEED_SIZE 32u
#define GLINT_WORLD_TSC_SHIFT 32u

#define GLINT_WORLD_CLOCK_TSC 0x1u     /* extrapolate the bases with RDTSC */
#define GLINT_WORLD_CLOCK_PINNED 0x2u  /* time is pinned to the bases (deterministic) */
#define GLINT_WORLD_ENTROPY_FIXED 0x4u /* the seed is the host's fixed one (deterministic) */

typedef struct glint_world {
    uint64_t generation;                 /* entropy generation; reseed when it changes */
    uint8_t seed[GLINT_WORLD_SEED_SIZE]; /* seed of this generation */
    uint32_t flags;                      /* GLINT_WORLD_* */
    uint32_t reserved0;
    uint64_t tsc_base;     /* guest TSC at which the bases hold */
    uint64_t tsc_mult;     /* ns per TSC tick << GLINT_WORLD_TSC_SHIFT */
    uint64_t mono_base_ns; /* CLOCK_MONOTONIC at tsc_base */
    uint64_t wall_base_ns; /* CLOCK_REALTIME at tsc_base, ns since 1970-01-01 UTC */
    uint64_t refreshes;    /* count of host refreshes (informational) */
    uint64_t reserved[5];
} glint_world;

/* ---- Ports: every guest->host exit is an 8-bit OUT to one of these ------ */
enum glint_port {
    GLINT_PORT_DONE = 0xE0,      /* init or call finished; result on output */
    GLINT_PORT_HOST_CALL = 0xE1, /* host-call message on output */
    GLINT_PORT_LOG = 0xE2,       /* log record on output */
    GLINT_PORT_PRINT = 0xE3,     /* print message on output */
    GLINT_PORT_ABORT = 0xE4,     /* abort message on output */
    GLINT_PORT_EXCEPTION = 0xE5  /* host stubs only: record in the metadata page */
};
#define GLINT_PORT_FIRST 0xE0u
#define GLINT_PORT_LAST 0xE5u

/* ---- Guest entry contract -------------------------------------------------
 * Guest code runs at CPL 3 (ring 3), from its first instruction.  The host
 * builds the GDT, TSS, IDT and page tables in supervisor-only pages and loads
 * GDTR/IDTR/TR and the segments itself; the guest never needs (and cannot
 * execute) a privileged instruction.
 *
 * First entry (initialisation): 64-bit long mode, paging on with the host's
 * page tables, CPL 3, CS = GLINT_SEL_USER_CODE, DS/ES/FS/GS/SS =
 * GLINT_SEL_USER_DATA (flat), RFLAGS = 0x2 (IOPL 0, interrupts off); the
 * TSS's I/O permission bitmap lets guest code OUT to GLINT_PORT_DONE ..
 * GLINT_PORT_ABORT (one VM exit each) and to no other port (#GP),
 *   RIP = image base + ELF e_entry
 *   RSP = peb->stack_top
 *   RDI = guest address of the PEB
 *   RSI = GLINT_ABI_VERSION
 * The guest reports readiness by pushing a FUNCTIONS message onto the output
 * buffer and executing OUT to GLINT_PORT_DONE.  Each call is delivered by the
 * host resuming the guest after that OUT: the guest's dispatch loop then pops
 * the CALL message, pushes RESULT or ERROR and OUTs to GLINT_PORT_DONE again.
 * No register state is set by the host per call.
 *
 * Exceptions: every vector of the IDT is a CPL-0 interrupt gate into the
 * host's stubs (vectors 3 and 4 are callable from CPL 3, as INT3 and INTO).
 * The CPU switches to the exception stack (TSS.RSP0); the stub stores the
 * exception record into the metadata page and executes OUT to
 * GLINT_PORT_EXCEPTION.  The host never resumes a guest after an exception.
 *
 * GDT (8-byte descriptors): */
#define GLINT_SEL_KERNEL_CODE 0x08u      /* 64-bit code, DPL 0 */
#define GLINT_SEL_KERNEL_DATA 0x10u      /* data, DPL 0 */
#define GLINT_SEL_USER_CODE (0x18u | 3u) /* 64-bit code, DPL 3 */
#define GLINT_SEL_USER_DATA (0x20u | 3u) /* data, DPL 3 */
#define GLINT_SEL_TSS 0x28u              /* 64-bit TSS, two slots */
#define GLINT_GDT_ENTRIES 7u

/* ---- Metadata page (top page of scratch, written by the host's stubs) ---- */
typedef struct glint_exception_record {
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip;
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
    uint64_t cr2;
    /* General registers at the fault, in this order (the stubs store them
     * at fixed offsets: see host/src/exception_stubs_x86_64.asm). */
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
} glint_exception_record;

typedef struct glint_metadata {
    glint_exception_record exception; /* valid on GLINT_PORT_EXCEPTION */
    uint64_t reserved[41];
} glint_metadata;

/* ---- Compile-time agreement ---------------------------------------------- */
_Static_assert(sizeof(void *) == 8, "Glint is x86-64 only");
_Static_assert(sizeof(glint_region) == 16, "glint_region layout");
_Static_assert(offsetof(glint_peb, input) == 0, "PEB input offset");
_Static_assert(offsetof(glint_peb, output) == 16, "PEB output offset");
_Static_assert(offsetof(glint_peb, init_data) == 32, "PEB init_data offset");
_Static_assert(offsetof(glint_peb, heap) == 48, "PEB heap offset");
_Static_assert(offsetof(glint_peb, file_mappings) == 64, "PEB file_mappings offset");
_Static_assert(sizeof(glint_peb) == GLINT_PEB_SIZE, "PEB size");
_Static_assert(offsetof(glint_peb, mappings_generation) == 128, "PEB mappings_generation offset");
_Static_assert(offsetof(glint_peb, world) == 136, "PEB world offset");
_Static_assert(sizeof(glint_world) == 128, "world page layout");
_Static_assert(offsetof(glint_world, seed) == 8, "world: seed offset");
_Static_assert(offsetof(glint_world, flags) == 40, "world: flags offset");
_Static_assert(offsetof(glint_world, tsc_base) == 48, "world: clock offsets");
_Static_assert(offsetof(glint_world, wall_base_ns) == 72, "world: clock offsets");
_Static_assert(sizeof(glint_world) <= GLINT_WORLD_SIZE, "world fits its page");
_Static_assert(sizeof(glint_file_mapping_info) == 80, "FileMappingInfo size");
_Static_assert(GLINT_PEB_SIZE + GLINT_MAX_FILE_MAPPINGS * sizeof(glint_file_mapping_info) <=
                   GLINT_PAGE_SIZE,
               "PEB and file-mapping table must share one page");
_Static_assert(sizeof(glint_metadata) <= GLINT_METADATA_SIZE, "metadata fits its page");
_Static_assert(offsetof(glint_exception_record, cr2) == 56, "exception record: CPU frame");
_Static_assert(offsetof(glint_exception_record, rax) == 64, "exception record: registers");
_Static_assert(offsetof(glint_exception_record, r15) == 176, "exception record: registers");
_Static_assert(GLINT_METADATA_GPA == 0xFFFFFF000ull, "exception stubs hard-code the metadata page");
_Static_assert(GLINT_CPU_TSS_OFFSET >= GLINT_GDT_ENTRIES * 8u, "GDT fits before the TSS");
_Static_assert(GLINT_CPU_IDT_OFFSET + GLINT_CPU_EXCEPTION_VECTORS * 16u <= GLINT_PAGE_SIZE,
               "IDT fits its page");
_Static_assert(sizeof(struct glint_abi_note) == 8, "ABI note size");

#endif /* GLINT_ABI_H */
