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

#define GLINT_ABI_VERSION 1u

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
 * The metadata page is the last page below GLINT_PHYS_TOP. */
#define GLINT_EXCEPTION_STACK_SIZE (16u * 1024u)
#define GLINT_METADATA_SIZE GLINT_PAGE_SIZE
#define GLINT_MIN_STACK_SIZE (16u * 1024u)

/* Default and minimum sizes (bytes), cf. docs/abi.md. */
#define GLINT_DEFAULT_INPUT_SIZE (16u * 1024u)
#define GLINT_DEFAULT_OUTPUT_SIZE (16u * 1024u)
#define GLINT_MIN_IO_BUFFER_SIZE (8u * 1024u)
#define GLINT_MAX_IO_BUFFER_SIZE (64u * 1024u * 1024u)
#define GLINT_DEFAULT_HEAP_SIZE (128u * 1024u)
#define GLINT_MIN_HEAP_SIZE (16u * 1024u)
#define GLINT_DEFAULT_SCRATCH_SIZE (288u * 1024u)

/* ---- File mappings (nanvix style) --------------------------------------- */
#define GLINT_MAX_FILE_MAPPINGS 32u
#define GLINT_FILE_MAPPING_LABEL_SIZE 64u /* label bytes incl. NUL terminator */

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
    uint64_t exception_stack_top; /* IST1 stack top, 16-aligned */
    uint64_t metadata;            /* guest address of glint_metadata */
    uint32_t log_level;           /* records below this are not sent */
    uint32_t flags;               /* GLINT_PEB_FLAG_* */
    uint64_t mappings_generation; /* bumped on every map/unmap */
    uint64_t reserved[15];
} glint_peb;

#define GLINT_PEB_SIZE 256u
#define GLINT_FILE_MAPPINGS_OFFSET GLINT_PEB_SIZE /* from the PEB start */

/* ---- Ports: every guest->host exit is an 8-bit OUT to one of these ------ */
enum glint_port {
    GLINT_PORT_DONE = 0xE0,      /* init or call finished; result on output */
    GLINT_PORT_HOST_CALL = 0xE1, /* host-call message on output */
    GLINT_PORT_LOG = 0xE2,       /* log record on output */
    GLINT_PORT_PRINT = 0xE3,     /* print message on output */
    GLINT_PORT_ABORT = 0xE4,     /* abort message on output */
    GLINT_PORT_EXCEPTION = 0xE5  /* exception record in the metadata page */
};
#define GLINT_PORT_FIRST 0xE0u
#define GLINT_PORT_LAST 0xE5u

/* ---- Guest entry contract -------------------------------------------------
 * First entry (initialisation): 64-bit long mode, paging on with the host's
 * page tables, CPL 0, interrupts off, CS=0x08 DS/ES/SS=0x10 (flat, hidden
 * parts loaded by the host; the guest installs its own GDT/IDT/TSS),
 *   RIP = image base + ELF e_entry
 *   RSP = peb->stack_top
 *   RDI = guest address of the PEB
 *   RSI = GLINT_ABI_VERSION
 * The guest reports readiness by pushing a FUNCTIONS message onto the output
 * buffer and executing OUT to GLINT_PORT_DONE.  Each call is delivered by the
 * host resuming the guest after that OUT: the guest's dispatch loop then pops
 * the CALL message, pushes RESULT or ERROR and OUTs to GLINT_PORT_DONE again.
 * No register state is set by the host per call.
 */
#define GLINT_GDT_CODE_SELECTOR 0x08u
#define GLINT_GDT_DATA_SELECTOR 0x10u

/* ---- Metadata page (top page of scratch, guest-written) ----------------- */
typedef struct glint_exception_record {
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip;
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
    uint64_t cr2;
} glint_exception_record;

typedef struct glint_metadata {
    glint_exception_record exception; /* valid on GLINT_PORT_EXCEPTION */
    uint64_t reserved[56];
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
_Static_assert(sizeof(glint_file_mapping_info) == 80, "FileMappingInfo size");
_Static_assert(GLINT_PEB_SIZE + GLINT_MAX_FILE_MAPPINGS * sizeof(glint_file_mapping_info) <=
                   GLINT_PAGE_SIZE,
               "PEB and file-mapping table must share one page");
_Static_assert(sizeof(glint_metadata) <= GLINT_METADATA_SIZE, "metadata fits its page");
_Static_assert(sizeof(struct glint_abi_note) == 8, "ABI note size");

#endif /* GLINT_ABI_H */
