/*
 * sandbox_internal.h - the sandbox object and the internal API between the
 * host modules.  Not installed.  What lives where (docs/architecture.md):
 *
 *   sandbox.c         lifecycle and configuration: create, initialise,
 *                     destroy, errors, introspection
 *   sandbox_run.c     the run loop and the host side of the protocol: exits,
 *                     ports, host calls, logs, guest calls
 *   sandbox_cancel.c  cancellation and deadlines: the cancel signal, run
 *                     bracketing, kill
 *   host_functions.c  the host-function registry
 *   image.c           guest images and function tables (reference counted)
 *   filemap.c         file and host-memory mappings
 *   snapshot.c        snapshots, restore, clones
 *   snapshot_file.c   snapshot files
 *   sandbox_world.c   the world page: a sandbox's clock and entropy (the
 *                     arithmetic is world.c's)
 *   crash.c           what a failed run leaves: backtrace in the message,
 *                     core files (docs/debugging.md)
 *   debug.c           the gdb stub's session: socket, stops in the run loop
 */
#ifndef GLINT_SANDBOX_INTERNAL_H
#define GLINT_SANDBOX_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "counted.h"
#include "glint/abi.h"
#include "glint/wire.h"
#include "error.h"
#include "filemap.h"
#include "gmem.h"
#include "hv.h"
#include "image.h"
#include "layout.h"
#include "paging.h"
#include "trace.h"
#include "world.h"

typedef struct glint_debug glint_debug; /* debug.c */

/* Memory slots. */
#define GLINT_SLOT_SNAPSHOT 0u
#define GLINT_SLOT_SCRATCH 1u
#define GLINT_SLOT_WORLD 2u /* the world page: host memory, read-only to the guest */
#define GLINT_SLOT_FIRST_MAPPING 3u

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

/* The host functions of a sandbox or snapshot; owns entries and names. */
typedef struct glint_host_function_table {
    glint_host_function *entries;
    uint32_t count;
    uint32_t cap;
} glint_host_function_table;

struct glint_host_call {
    glint_sandbox *sandbox;
    bool has_message;
    char message[GLINT_HOST_ERROR_SIZE];
};

/* What a kill needs, shared (reference counted) by the sandbox and the kill
 * handles it gave out, so a kill on another thread never touches a
 * destroyed sandbox. */
struct glint_kill_handle {
    _Atomic uint32_t refs;
    _Atomic uint64_t run_state; /* GLINT_RUN_* bits and a generation */
    /* Kills in progress that saw a run in progress (they may still signal
     * the vCPU thread); the end of a run waits for them.  Kills that find
     * no run never count, so no stream of them can hold a run's end up. */
    _Atomic uint32_t signalling;
    pthread_t vcpu_thread; /* valid while RUNNING */
    int cancel_signal;
};

struct glint_snapshot {
    _Atomic uint32_t refs;
    glint_image *image; /* owned reference: memory, layout, functions */
    glint_config cfg;   /* sizes and callbacks of the source sandbox */
    glint_vcpu_state vcpu;
    glint_host_function_table host_functions;
    glint_mapping_table mappings; /* fds owned (dups), views not mapped */
    /* The guest's CLOCK_MONOTONIC when the snapshot was taken and the
     * sandbox's offset to the host's clock (world.h): sandboxes restored to
     * it or cloned from it never read an earlier time. */
    uint64_t world_mono_floor_ns;
    int64_t world_mono_offset;
};

struct glint_sandbox {
    glint_config cfg;
    glint_layout_info layout;
    glint_gmem gmem;
    uint8_t *input;  /* host view of the input buffer */
    uint8_t *output; /* host view of the output buffer */

    glint_image *image;              /* owned reference: what mem maps */
    glint_function_table *functions; /* owned reference; NULL until initialised */
    bool called;                     /* a call was made (host registration closes) */
    bool cloned;                     /* made by glint_sandbox_create_from_snapshot */
    uint8_t *mem; /* MAP_PRIVATE mapping of image->fd: snapshot region, then scratch */
    uint64_t mem_size;
    /* Pages written since mem last equalled the image, per slot: by the
     * guest (KVM's dirty log, collected) and by the host (gmem). */
    uint64_t *dirty_bitmaps[2];
    uint64_t *host_dirty[2];
    uint64_t dirty_pages[2]; /* page count of each slot */
    uint32_t peb_log_level;  /* log level the PEB in mem holds */

    const glint_hv_ops *hv_ops;
    glint_hv *hv;

    glint_sandbox_state state;
    bool poisoned;
    bool pending_io; /* the vCPU stopped inside an unfinished I/O exit */

    glint_host_function_table host_functions;
    glint_pt_pool pt_pool; /* table pages in use in mem's page-table area */
    glint_mapping_table mappings;

    glint_error last_error;
    glint_counters counters;

    /* The world page (sandbox_world.c): its state and the host page the
     * guest sees read-only at GLINT_WORLD_GPA(scratch). */
    glint_world_state world;
    glint_world *world_page;

    /* Nested calls: guest calls in progress below the outermost one (0:
     * none), and host functions in progress (a nested call is allowed only
     * from one of them). */
    uint32_t call_depth;
    uint32_t host_call_depth;

    /* Cancellation: see docs/cancellation.md and sandbox_cancel.c. */
    glint_kill_handle *cancel;  /* owned reference; kill handles share it */
    _Atomic uint32_t api_kills; /* glint_sandbox_kill calls inside (destroy waits) */
    bool timer_created;
    timer_t deadline_timer;
    pid_t timer_tid;          /* thread the timer signals ... */
    uint64_t timer_thread_id; /* ... identified beyond its (reusable) TID */
    uint64_t deadline_ns;     /* absolute CLOCK_MONOTONIC deadline of this call, 0 = none */
    glint_sandbox *tls_outer; /* sandbox running on this thread when this run began */

    /* Debugging (docs/debugging.md). */
    char *core_dir;     /* copy of cfg.core_dir (cfg's pointer is dropped), or NULL */
    glint_debug *debug; /* gdb session (debug.c), or NULL */
};

/* ---- sandbox.c ---- */
/* Failure helpers: set sb->last_error; _poison also poisons.  Return code. */
glint_status glint_sb_fail(glint_sandbox *sb, glint_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
glint_status glint_sb_fail_poison(glint_sandbox *sb, glint_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Poisons the sandbox with the error already in sb->last_error. */
glint_status glint_sb_poison(glint_sandbox *sb);
/* Checks a configuration (create, clone). */
glint_status glint_config_validate(const glint_config *c, glint_error *err);
/* A sandbox shell: cfg copied (init_data dropped), backend chosen, nothing
 * mapped.  NULL when out of memory. */
glint_sandbox *glint_sb_alloc(const glint_config *cfg);
/* Maps image into a fresh sandbox (sb->image must be unset): takes a
 * reference, creates the VM, maps the memory, sets up dirty tracking. */
glint_status glint_sb_attach_image(glint_sandbox *sb, glint_image *image, glint_error *err);
/* Points the sandbox's memory at image (MAP_FIXED over the old mapping),
 * retaining image before the old one is released.  Poisons on failure. */
glint_status glint_sb_switch_image(glint_sandbox *sb, glint_image *image);
/* Replaces the sandbox's function table reference. */
void glint_sb_set_functions(glint_sandbox *sb, glint_function_table *t);
/* Writes cfg.log_level into the PEB if the memory holds another one. */
glint_status glint_sb_sync_log_level(glint_sandbox *sb);

/* ---- sandbox_run.c ---- */
/* Runs the vCPU until the guest reports DONE; handles host calls, logs and
 * prints on the way.  On failure the sandbox is poisoned and last_error set. */
glint_status glint_sb_run_until_done(glint_sandbox *sb);
/* Pops the guest's FUNCTIONS message after initialisation into a new table. */
glint_status glint_sb_read_function_table(glint_sandbox *sb, glint_function_table **out);

/* ---- sandbox_cancel.c ---- */
int glint_default_cancel_signal(void);
/* Installs the no-op cancel-signal handler (idempotent). */
glint_status glint_sb_install_cancel_handler(int sig, glint_error *err);
/* Bracket every run of the vCPU (initialise, call). */
glint_status glint_sb_begin_run(glint_sandbox *sb);
void glint_sb_end_run(glint_sandbox *sb);
/* A run is in progress (the caller can only be one of its host functions);
 * the API refuses re-entry with glint_sb_fail_running (GLINT_E_STATE). */
bool glint_sb_running(const glint_sandbox *sb);
glint_status glint_sb_fail_running(glint_sandbox *sb, const char *what);
uint64_t glint_monotonic_ns(void);
/* A kill handle for sig (refs 1); NULL when out of memory. */
glint_kill_handle *glint_kill_handle_new(glint_counters *c, int sig);
/* Waits until no kill through the sandbox is in progress; frees the timer
 * and the sandbox's reference to its kill handle. */
void glint_sb_cancel_teardown(glint_sandbox *sb);

/* ---- host_functions.c ---- */
glint_host_function *glint_host_function_find(glint_host_function_table *t, const char *name,
                                              uint32_t name_len);
/* dst (empty) becomes a copy of src; counted in c. */
glint_status glint_host_function_table_copy(glint_counters *c, glint_host_function_table *dst,
                                            const glint_host_function_table *src);
void glint_host_function_table_free(glint_host_function_table *t);

/* ---- filemap.c ---- */
/* Unmaps every mapping (slots stay to the VM being destroyed). */
void glint_filemap_release_all(glint_sandbox *sb);

/* ---- sandbox_world.c ---- */
/* Gives a new sandbox (create, clone) its world page: state from cfg, a
 * host page mapped read-only at GLINT_WORLD_GPA, the vCPU's TSC, a first
 * entropy generation and clock parameters.  mono_offset/floor: see
 * glint_world_set_monotonic (0, 0 for a fresh sandbox). */
glint_status glint_sb_world_attach(glint_sandbox *sb, int64_t mono_offset, uint64_t mono_floor_ns,
                                   glint_error *err);
/* Fresh clock parameters (start of every call): no system call. */
void glint_sb_world_refresh(glint_sandbox *sb);
/* After a restore: a new entropy generation, and the clock not earlier than
 * the snapshot's floor. */
void glint_sb_world_restored(glint_sandbox *sb, const glint_snapshot *snap);
/* What a snapshot records: the guest's monotonic clock now, the offset. */
void glint_sb_world_snapshot(glint_sandbox *sb, glint_snapshot *snap);
void glint_sb_world_release(glint_sandbox *sb);
/* ---- sandbox_cancel.c: the debugger holds the guest ---- */
/* Stops the deadline clock while a debugger holds the guest (*left: what
 * remained, 0 if no deadline) / starts it again with that time. */
void glint_sb_pause_deadline(glint_sandbox *sb, uint64_t *left);
glint_status glint_sb_resume_deadline(glint_sandbox *sb, uint64_t left);

/* ---- crash.c ---- */
struct glint_exception_record;
/* The guest's registers at an exception the stubs reported. */
void glint_regs_from_record(const struct glint_exception_record *rec, glint_regs *regs);
/* Linux signal number for a CPU exception vector (SIGSEGV, SIGILL ...). */
int glint_signal_for_vector(uint64_t vector);
/* The run is failing with sb->last_error set, the guest stopped with regs
 * (NULL: read them from the vCPU): an attached debugger sees the stop
 * (signal), the message gets the guest's backtrace, and with a core
 * directory (and core) an ELF core file is written and named in it. */
void glint_sb_crash_report(glint_sandbox *sb, const glint_regs *regs, int signal, bool core);

/* ---- debug.c ---- */
/* Run-loop hooks; all are no-ops without a debug session (sb->debug).
 * run_start: before the first KVM_RUN of a run (waits for gdb the first
 * time, stops there if asked, inserts breakpoints).  run_end: after the run
 * loop, whatever its outcome (removes breakpoints; tells gdb about a failed
 * run that did not stop yet). */
glint_status glint_debug_run_start(glint_sandbox *sb);
void glint_debug_run_end(glint_sandbox *sb, glint_status st);
/* An exception the stubs reported: a breakpoint or single step of the
 * debugger is served and the guest resumed (*resumed); anything else is
 * left to the caller (a fault).  Errors end the run. */
glint_status glint_debug_exception(glint_sandbox *sb, const struct glint_exception_record *rec,
                                   bool *resumed);
/* The vCPU was interrupted for no kill or deadline: gdb's Ctrl-C? */
glint_status glint_debug_interrupted(glint_sandbox *sb);
/* A KVM_EXIT_DEBUG (hardware breakpoint or watchpoint). */
glint_status glint_debug_hw_event(glint_sandbox *sb, const glint_exit *ex);
/* A failing run: stop in the debugger with the guest's registers (fatal). */
void glint_debug_fatal_stop(glint_sandbox *sb, const glint_regs *regs, int signal);
void glint_debug_destroy(glint_sandbox *sb);

/* ---- snapshot.c ---- */
/* An empty snapshot (refs 1), counted in c; NULL when out of memory. */
glint_snapshot *glint_snapshot_alloc(glint_counters *c);
/* Collects the pages written since the memory last equalled the image (guest
 * and host), counts them into *pages (may be NULL) and clears the record. */
glint_status glint_sb_reset_dirty(glint_sandbox *sb, uint64_t *pages);

#endif
