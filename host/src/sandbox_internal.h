/*
 * sandbox_internal.h - the sandbox object, shared by the host modules
 * (sandbox.c, snapshot.c, filemap.c).  Not installed.
 */
#ifndef GLINT_SANDBOX_INTERNAL_H
#define GLINT_SANDBOX_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "gmem.h"
#include "hv.h"
#include "trace.h"

/* Memory slots. */
#define GLINT_SLOT_SNAPSHOT 0u
#define GLINT_SLOT_SCRATCH 1u

/* run_state bits; the rest is a call generation counter. */
#define GLINT_RUN_RUNNING 0x1ull
#define GLINT_RUN_CANCEL 0x2ull
#define GLINT_RUN_GEN_ONE 0x4ull

#define GLINT_HOST_ERROR_SIZE 256u

typedef enum glint_sandbox_state {
    GLINT_STATE_CREATED, /* host functions may be registered; not initialised */
    GLINT_STATE_READY    /* initialised: calls allowed (unless poisoned) */
} glint_sandbox_state;

typedef struct glint_host_function {
    char *name;
    glint_type ret;
    uint32_t argc;
    glint_type params[GLINT_MAX_ARGS];
    glint_host_fn fn;
    void *user;
} glint_host_function;

struct glint_host_call {
    glint_sandbox *sandbox;
    bool has_message;
    char message[GLINT_HOST_ERROR_SIZE];
};

/* A guest-physical range backed by a host file or embedder memory. */
typedef struct glint_mapping {
    uint64_t gpa;
    uint64_t size; /* page aligned */
    uint32_t mode; /* GLINT_MAP_* */
    char label[GLINT_FILE_MAPPING_LABEL_SIZE];
    int fd;         /* file mappings: our own descriptor; -1 for host memory */
    void *host;     /* host address mapped into the guest */
    bool owns_host; /* host is our mmap of fd (unmapped with the mapping) */
    uint32_t slot;
} glint_mapping;

#define GLINT_SLOT_FIRST_MAPPING 2u

struct glint_snapshot {
    _Atomic uint32_t refs;
    int fd; /* sealed memfd: snapshot region then scratch */
    uint64_t mem_size;
    uint64_t data_pages; /* pages stored (non-zero) */
    glint_layout_info layout;
    glint_config cfg; /* sizes and callbacks of the source sandbox */
    uint64_t elf_hash;
    glint_vcpu_state vcpu;
    glint_function_info *functions;
    uint32_t function_count;
    char *function_names;
    size_t function_names_size;
    glint_host_function *host_functions; /* names owned */
    uint32_t host_function_count;
    uint64_t pt_used;                                /* bytes of the page-table area in use */
    glint_mapping mappings[GLINT_MAX_FILE_MAPPINGS]; /* fds owned (dups), host not owned */
    uint32_t mapping_count;
};

struct glint_sandbox {
    glint_config cfg;
    glint_layout_info layout;
    glint_gmem gmem;
    uint8_t *input;  /* host view of the input buffer */
    uint8_t *output; /* host view of the output buffer */

    int image_fd;               /* memfd the private mapping shows (owned unless backing) */
    glint_snapshot *backing;    /* snapshot image_fd belongs to, or NULL */
    bool functions_borrowed;    /* functions point into a snapshot */
    bool called;                /* a call was made (host registration closes) */
    bool cloned;                /* made by glint_sandbox_create_from_snapshot */
    uint64_t *dirty_bitmaps[2]; /* pages the guest wrote since the last restore, per slot */
    uint64_t dirty_pages[2];    /* page count of each slot */
    uint64_t host_dirty_input;  /* bytes of input written by the host since restore */
    uint8_t *mem;               /* MAP_PRIVATE mapping of image_fd: snapshot region, then scratch */
    uint64_t mem_size;
    uint64_t elf_hash;

    const glint_hv_ops *hv_ops;
    glint_hv *hv;

    glint_sandbox_state state;
    bool poisoned;
    bool pending_io; /* the vCPU stopped inside an unfinished I/O exit */

    glint_host_function *host_functions;
    uint32_t host_function_count;
    uint32_t host_function_cap;

    glint_function_info *functions;
    uint32_t function_count;
    char *function_names;

    uint64_t pt_used; /* bytes of the page-table area handed out */
    glint_mapping mappings[GLINT_MAX_FILE_MAPPINGS];
    uint32_t mapping_count;

    glint_error last_error;
    glint_counters counters;
    struct glint_host_call host_call;

    /* Cancellation: see docs/cancellation.md. */
    _Atomic uint64_t run_state;
    _Atomic uint32_t killers;
    pthread_t vcpu_thread;
    int cancel_signal;
    bool timer_created;
    timer_t deadline_timer;
    pid_t timer_tid;
    uint64_t deadline_ns;     /* absolute CLOCK_MONOTONIC deadline of this call, 0 = none */
    glint_sandbox *tls_outer; /* sandbox running on this thread when this run began */
};

/* Library-counted allocations. */
void *glint_sb_calloc(glint_sandbox *sb, size_t n, size_t size);

/* Runs the vCPU until the guest reports DONE; handles host calls, logs and
 * prints on the way.  On failure the sandbox is poisoned and last_error set. */
glint_status glint_sb_run_until_done(glint_sandbox *sb);

/* Poisons the sandbox with the error already in sb->last_error. */
glint_status glint_sb_poison(glint_sandbox *sb);

uint64_t glint_hash64(const void *data, size_t len, uint64_t seed);

/* filemap.c: the sandbox side of file mappings. */
void glint_sb_unmap_all(glint_sandbox *sb);
/* Makes the sandbox's mappings equal to snap's (after its memory, which holds
 * the page tables and the PEB table, was restored). */
glint_status glint_sb_restore_mappings(glint_sandbox *sb, const glint_snapshot *snap);
/* Copies the mapping list into snap (duplicating descriptors). */
glint_status glint_sb_snapshot_mappings(const glint_sandbox *sb, glint_snapshot *snap);
void glint_snapshot_free_mappings(glint_snapshot *snap);

/* Shared by sandbox.c and snapshot.c. */
glint_status glint_sb_map_memory(glint_sandbox *sb, int fd, glint_error *err);
void glint_sb_free_functions(glint_sandbox *sb);
/* A run is in progress (the caller can only be one of its host functions);
 * the API refuses re-entry with glint_sb_fail_running (GLINT_E_STATE). */
bool glint_sb_running(const glint_sandbox *sb);
glint_status glint_sb_fail_running(glint_sandbox *sb, const char *what);
/* Installs the no-op cancel-signal handler (idempotent). */
glint_status glint_sb_install_cancel_handler(int sig, glint_error *err);
glint_status glint_sb_fail(glint_sandbox *sb, glint_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
