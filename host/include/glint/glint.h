/*
 * glint/glint.h - the Glint host API: create a sandbox from a guest ELF,
 * register host functions, initialise it, call guest functions with typed
 * arguments, snapshot/restore, cancel.
 *
 * Threading: a sandbox is used by one thread at a time (any thread; it may
 * move between threads between calls).  glint_sandbox_kill() and the kill
 * handle functions are the only ones that may be called concurrently, from
 * any thread.  A host function may use other sandboxes, and may call guest
 * functions of its own (nested calls, up to config.max_call_depth deep; see
 * glint_sandbox_call), but nothing else of its own: initialize, snapshot,
 * restore, map/unmap and set_call_deadline return GLINT_E_STATE there, and
 * destroying it from there is undefined.  Different
 * sandboxes are fully independent: the library keeps no process-global
 * mutable state, except that it installs one no-op handler for the cancel
 * signal (config.cancel_signal, default SIGRTMIN+3) the first time a sandbox
 * is created.
 *
 * Errors: every function returns a glint_status (GLINT_OK == 0).  Details
 * (message, errno, fault vector/RIP/CR2/error code, faulting GPA) are in
 * glint_sandbox_last_error(); creation failures fill the caller's glint_error.
 * The library never prints and never exits the process.
 */
#ifndef GLINT_GLINT_H
#define GLINT_GLINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint/status.h"
#include "glint/types.h"

/* libglint is built with -fvisibility=hidden: what this header declares is
 * its API, the only symbols libglint.so exports (with the version script). */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

typedef struct glint_sandbox glint_sandbox;
typedef struct glint_snapshot glint_snapshot;
typedef struct glint_host_call glint_host_call;

#define GLINT_ERROR_MESSAGE_SIZE 512u

/* Details of the last failure. */
typedef struct glint_error {
    glint_status code;
    int sys_errno;       /* errno of the failing system call, 0 if none */
    bool has_fault;      /* the fields below are meaningful */
    uint32_t vector;     /* CPU exception vector (GLINT_E_GUEST_FAULT, STACK_OVERFLOW) */
    uint64_t error_code; /* CPU exception error code */
    uint64_t rip;        /* guest RIP of the fault / access */
    uint64_t cr2;        /* page-fault address */
    uint64_t gpa;        /* guest-physical address (GLINT_E_MEMORY_ACCESS) */
    int32_t guest_code;  /* abort code (GLINT_E_GUEST_ABORT) or guest error code */
    char message[GLINT_ERROR_MESSAGE_SIZE];
} glint_error;

/* Permission bits for init data and mappings. */
#define GLINT_PERM_READ 0x1u
#define GLINT_PERM_WRITE 0x2u
#define GLINT_PERM_EXEC 0x4u

/* Log callback: a guest log record (level >= config.log_level).  file and
 * message are NUL terminated and valid only during the callback. */
typedef void (*glint_log_fn)(void *user, glint_log_level level, const char *file, uint32_t line,
                             const char *message, size_t message_len);
/* Print callback: guest stdout/stderr bytes, valid only during the callback. */
typedef void (*glint_print_fn)(void *user, const char *data, size_t len);

#define GLINT_ENTROPY_SEED_SIZE 32u /* bytes of config.entropy_seed */

typedef struct glint_config {
    uint64_t input_size;   /* input buffer bytes; default 16 KiB, min 8 KiB, max memory_cap */
    uint64_t output_size;  /* output buffer bytes; default 16 KiB, min 8 KiB, max memory_cap */
    uint64_t heap_size;    /* guest heap bytes; default 128 KiB, min 16 KiB */
    uint64_t scratch_size; /* scratch region (buffers, stack); default 288 KiB */
    const void *init_data; /* optional blob copied into guest memory */
    uint64_t init_data_size;
    uint32_t init_data_perms;  /* GLINT_PERM_*; default READ */
    glint_log_level log_level; /* default GLINT_LOG_INFO */
    uint64_t memory_cap;       /* max total guest memory; default 16 GiB */
    uint64_t call_deadline_ns; /* per-call deadline, 0 = none */
    int cancel_signal;         /* signal used to interrupt the vCPU; 0 = SIGRTMIN+3 */
    glint_log_fn log_fn;       /* NULL: records dropped */
    glint_print_fn print_fn;   /* NULL: output dropped */
    void *callback_user;       /* passed to log_fn and print_fn */
    /* The guest's world (docs/guest-guide.md, "Time and randomness").  By
     * default the guest reads the host's clocks (CLOCK_REALTIME and
     * CLOCK_MONOTONIC, without a VM exit) and gets fresh entropy on every
     * create, clone and restore.  For deterministic replay: */
    bool pin_time;               /* the guest's clocks read exactly these two */
    uint64_t pinned_realtime_ns; /* ns since the epoch (glint_sandbox_pin_time changes them) */
    uint64_t pinned_monotonic_ns;
    bool fixed_entropy; /* every entropy generation is seeded from entropy_seed */
    uint8_t entropy_seed[GLINT_ENTROPY_SEED_SIZE];
    /* Guest functions a host function may call in its own sandbox, nested:
     * guest -> host -> guest ... at most this many guest calls deep below the
     * outermost one.  Default 8; 0 refuses nested calls. */
    uint32_t max_call_depth;
    /* Core files (docs/debugging.md): when a run fails on a guest fault,
     * stack overflow, abort, memory access or deadline, an ELF core file of
     * the guest is written into this existing directory (copied at creation;
     * clones take it from their own configuration) and named in the error
     * message.  NULL: none. */
    const char *core_dir;
    uint64_t core_max_size; /* bound on one core file; 0 = 64 MiB */
} glint_config;

#define GLINT_DEFAULT_MAX_CALL_DEPTH 8u
#define GLINT_MAX_CALL_DEPTH_LIMIT 64u /* max_call_depth above this is refused */

/* Fills cfg with the defaults. */
void glint_config_init(glint_config *cfg);

/* Debugging with gdb (docs/debugging.md).  Listens for one gdb connection
 * on a loopback address (NULL: "127.0.0.1"; others are refused: whoever
 * connects controls the guest) and port (0: any free one; *bound_port, if
 * non-NULL, receives it).  The next run of the sandbox (initialise or call)
 * waits until gdb connects (glint_sandbox_kill ends the wait) and stops
 * before its first instruction; gdb then controls the guest: registers
 * (general, segment, flags, x87, SSE), memory, breakpoints, single step,
 * continue, Ctrl-C, detach, kill.  While gdb holds the guest, its call
 * deadline does not run.  The session ends when gdb detaches or
 * disconnects, or when the guest ends (fault, abort, kill, destroy).
 * Errors: GLINT_E_INVALID_ARGUMENT (not loopback), GLINT_E_STATE (a run in
 * progress, or already listening), GLINT_E_IO (socket, bind: errno). */
glint_status glint_sandbox_debug_listen(glint_sandbox *sb, const char *address, uint16_t port,
                                        uint16_t *bound_port);

/* Creates a sandbox from a guest ELF file / memory buffer (copied; the caller
 * keeps ownership).  Nothing runs yet.  On failure *out is NULL and err (if
 * non-NULL) describes the problem.  cfg may be NULL for the defaults. */
glint_status glint_sandbox_create(const glint_config *cfg, const char *elf_path,
                                  glint_sandbox **out, glint_error *err);
glint_status glint_sandbox_create_from_memory(const glint_config *cfg, const void *elf,
                                              size_t elf_size, glint_sandbox **out,
                                              glint_error *err);
/* Destroys the sandbox and everything it owns.  NULL is ignored. */
void glint_sandbox_destroy(glint_sandbox *sb);

/* Host function: args were checked against the registered signature; set
 * *ret (its type is preset to the declared return type; string/bytes may
 * point to memory the callback keeps valid until it returns).  Return
 * GLINT_OK, or an error code with glint_host_call_set_error() for a message;
 * the error reaches the guest, it does not poison the sandbox. */
typedef glint_status (*glint_host_fn)(glint_host_call *call, void *user, const glint_value *args,
                                      uint32_t argc, glint_value *ret);
/* Registers a host function; only before glint_sandbox_initialize().  The
 * name is copied.  GLINT_E_EXISTS for a duplicate. */
glint_status glint_sandbox_register_host_function(glint_sandbox *sb, const char *name,
                                                  glint_type ret, const glint_type *params,
                                                  uint32_t argc, glint_host_fn fn, void *user);
void glint_host_call_set_error(glint_host_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The sandbox making the call (for nested use of its API, e.g. logging). */
glint_sandbox *glint_host_call_sandbox(glint_host_call *call);

/* Runs the guest's initialisation until it reports ready (its function table). */
glint_status glint_sandbox_initialize(glint_sandbox *sb);

/* Calls guest function `name`.  args/argc must match its declared signature,
 * `ret` its declared return type; both are checked before the VM is entered.
 * *result receives the value; STRING/BYTES results point into the sandbox's
 * output buffer and stay valid until the next call, restore or destroy.
 * result may be NULL for VOID.
 *
 * Nested calls (docs/host-api.md, "Nested calls"): a host function of sb may
 * call guest functions of sb while the guest waits for it; the nested call
 * runs on the guest's current stack, its arguments above the waiting call's
 * on the input buffer.  At most config.max_call_depth deep (GLINT_E_STATE
 * beyond, and when max_call_depth is 0).  A nested call that fails without
 * poisoning (a guest error) returns its error to the host function only.
 * One that poisons the sandbox (abort, fault, kill, deadline) returns its
 * error, and every enclosing call, at every depth, then fails with that same
 * error as soon as its host function returns: the guest is never resumed.
 * Kill and the deadline apply to the outermost call, nested calls included. */
glint_status glint_sandbox_call(glint_sandbox *sb, const char *name, glint_type ret,
                                const glint_value *args, uint32_t argc, glint_value *result);

/* Stops a running call (or initialisation) from any thread; the call
 * returns GLINT_E_CANCELLED and the sandbox is poisoned.  Returns true if a
 * call was in progress (it still returns its own result if it had already
 * finished when the kill arrived).  A kill with no call in progress does
 * nothing (it never affects a later call).  A call inside a host function
 * ends as cancelled as soon as the host function returns; the host function
 * itself is not interrupted, but its blocking system calls may fail with
 * EINTR (the kill is delivered as config.cancel_signal).  See
 * docs/cancellation.md. */
bool glint_sandbox_kill(glint_sandbox *sb);

/* A kill handle: kills the sandbox's calls like glint_sandbox_kill, and
 * stays valid after the sandbox is destroyed (then it kills nothing and
 * returns false).  For watchdog threads whose lifetime is not tied to the
 * sandbox's: glint_sandbox_kill itself must not race glint_sandbox_destroy
 * (destroy waits for a kill already inside, but a kill that starts after
 * destroy frees the sandbox would read freed memory).  Reference counted:
 * each glint_sandbox_kill_handle() returns a new reference, released with
 * glint_kill_handle_release().  Kill and release may be called from any
 * thread.  glint_sandbox_kill_handle(NULL) is NULL; the others accept NULL. */
typedef struct glint_kill_handle glint_kill_handle;
glint_kill_handle *glint_sandbox_kill_handle(glint_sandbox *sb);
bool glint_kill_handle_kill(glint_kill_handle *handle);
void glint_kill_handle_release(glint_kill_handle *handle);

/* Sets the deadline of the following calls (and of initialisation, if it
 * has not run yet) in nanoseconds, 0 for none; it replaces
 * config.call_deadline_ns for this sandbox.  A call that runs past it
 * returns GLINT_E_DEADLINE and poisons the sandbox.  GLINT_E_STATE from a
 * host function of this sandbox (while a call runs). */
glint_status glint_sandbox_set_call_deadline(glint_sandbox *sb, uint64_t deadline_ns);

/* Pins the guest's clocks to these values for the following calls (replay:
 * the host decides what time the guest sees).  Only for a sandbox created
 * with config.pin_time (GLINT_E_STATE otherwise, and from its own host
 * functions). */
glint_status glint_sandbox_pin_time(glint_sandbox *sb, uint64_t realtime_ns, uint64_t monotonic_ns);

/* Details of the last failure on this sandbox (never NULL). */
const glint_error *glint_sandbox_last_error(const glint_sandbox *sb);
bool glint_sandbox_is_poisoned(const glint_sandbox *sb);

/* Guest functions (after initialisation). */
typedef struct glint_function_info {
    const char *name;
    glint_type ret;
    uint32_t argc;
    glint_type params[GLINT_MAX_ARGS];
} glint_function_info;
uint32_t glint_sandbox_function_count(const glint_sandbox *sb);
const glint_function_info *glint_sandbox_function(const glint_sandbox *sb, uint32_t index);
const glint_function_info *glint_sandbox_find_function(const glint_sandbox *sb, const char *name);

/* The memory layout, as guest-physical addresses and sizes. */
typedef struct glint_layout_info {
    uint64_t code_gpa, code_size;
    uint64_t peb_gpa;
    uint64_t cpu_tables_gpa;     /* GDT, TSS, IDT: host-owned, supervisor-only, read-only */
    uint64_t exception_code_gpa; /* the host's CPL-0 exception stubs: supervisor-only */
    uint64_t heap_gpa, heap_size;
    uint64_t init_data_gpa, init_data_size;
    uint64_t page_tables_gpa, page_tables_size;
    uint64_t snapshot_gpa, snapshot_size;
    uint64_t scratch_gpa, scratch_size;
    uint64_t input_gpa, input_size;
    uint64_t output_gpa, output_size;
    uint64_t stack_gpa, stack_size; /* stack_gpa = lowest byte; guard page below */
    uint64_t exception_stack_gpa, exception_stack_size;
    uint64_t metadata_gpa;
    uint64_t entry_gpa;
    uint64_t total_size;
} glint_layout_info;
void glint_sandbox_layout(const glint_sandbox *sb, glint_layout_info *out);

/* Counters, cumulative since creation unless noted.  Cheap, always on. */
typedef struct glint_counters {
    uint64_t vm_runs;    /* KVM_RUN ioctls */
    uint64_t exits_io;   /* port I/O exits */
    uint64_t exits_mmio; /* unmapped-memory exits */
    uint64_t exits_hlt;
    uint64_t exits_other;
    uint64_t exits_interrupted; /* KVM_RUN returned EINTR (signal) */
    uint64_t ioctls_other;      /* every other KVM ioctl */
    uint64_t syscalls_other;    /* mmap/munmap/madvise/mprotect/timer/getrandom syscalls */
    uint64_t host_allocations;  /* malloc/calloc/realloc by the library */
    uint64_t host_calls;        /* guest -> host function calls */
    uint64_t guest_calls;       /* completed glint_sandbox_call()s */
    uint64_t restores;
    uint64_t last_restore_pages_reset;
    uint64_t last_restore_bytes_copied;
    uint64_t last_restore_syscalls;
    uint64_t nested_calls; /* guest calls made by host functions of this sandbox */
} glint_counters;
void glint_sandbox_counters(const glint_sandbox *sb, glint_counters *out);

/* ---- File mappings and host memory (docs/file-mappings.md) ---------------
 * Host files and embedder memory mapped into guest-physical memory (identity
 * mapped in the guest's page tables), described to the guest by the
 * FileMappingInfo table after the PEB.  Allowed before initialisation (the
 * guest's init sees them) and between calls; not during a call, nor on a
 * poisoned sandbox.  At most GLINT_MAX_FILE_MAPPINGS at a time. */
#define GLINT_MAP_READ_ONLY 0x1u     /* guest writes fault; file or memory */
#define GLINT_MAP_COPY_ON_WRITE 0x2u /* files: guest writes land in private pages */
#define GLINT_MAP_READ_WRITE 0x3u    /* host memory only: guest writes reach it */
/* Or'ed into a file mapping's mode: the guest may execute it.  Executable
 * mappings are never writable by the guest (W^X): with READ_ONLY or
 * COPY_ON_WRITE alike the guest can read and execute it, and a write faults
 * (GLINT_E_GUEST_FAULT).  Not for host memory (GLINT_E_MAPPING). */
#define GLINT_MAP_EXEC 0x4u

typedef struct glint_mapping_options {
    uint32_t mode;     /* GLINT_MAP_* (| GLINT_MAP_EXEC); 0 means GLINT_MAP_READ_ONLY */
    const char *label; /* NULL: the file's name (files) or "memory" */
    size_t label_len;  /* 0: strlen(label); at most 63, no NUL inside */
} glint_mapping_options;

/* Maps the file at path at page-aligned guest-physical gpa.  The file is
 * never modified.  Its size is rounded up to pages (the tail reads as zero);
 * the file is mapped lazily, so the cost does not depend on its size.
 * Errors: GLINT_E_MAPPING (alignment, overlap, limits, label, empty file),
 * GLINT_E_IO (missing/unreadable, errno kept), GLINT_E_POISONED, GLINT_E_STATE. */
glint_status glint_sandbox_map_file(glint_sandbox *sb, uint64_t gpa, const char *path,
                                    const glint_mapping_options *opts);
/* Maps embedder-owned memory [host, host+size) (page aligned) at gpa,
 * GLINT_MAP_READ_ONLY or GLINT_MAP_READ_WRITE.  The memory must outlive the
 * mapping (and any snapshot that contains it). */
glint_status glint_sandbox_map_host_memory(glint_sandbox *sb, uint64_t gpa, void *host,
                                           uint64_t size, const glint_mapping_options *opts);
/* Removes the mapping that starts at gpa (GLINT_E_NOT_FOUND if none). */
glint_status glint_sandbox_unmap(glint_sandbox *sb, uint64_t gpa);

typedef struct glint_mapping_info {
    uint64_t gpa;
    uint64_t size;
    uint32_t mode;
    bool is_file;
    const char *label;
} glint_mapping_info;
uint32_t glint_sandbox_mapping_count(const glint_sandbox *sb);
/* Fills *out for mapping index; false if out of range.  label points into
 * the sandbox and is valid until the next map/unmap/restore. */
bool glint_sandbox_mapping(const glint_sandbox *sb, uint32_t index, glint_mapping_info *out);

/* ---- Snapshots (docs/snapshots.md) ---------------------------------------
 * A snapshot is an immutable, reference-counted image of a sandbox's memory
 * and vCPU state, kept in a sealed memfd.  Sandboxes restored to it or cloned
 * from it map it copy-on-write, so restore only drops the pages the guest
 * dirtied.  Snapshots may be shared between threads. */

/* Captures the sandbox (initialised, not poisoned, no call running).  The
 * sandbox keeps running on top of the new snapshot.  Release with
 * glint_snapshot_release(). */
glint_status glint_sandbox_snapshot(glint_sandbox *sb, glint_snapshot **out);
/* Returns the sandbox to snap, byte for byte (memory, registers, FPU);
 * un-poisons it.  snap must come from the same guest binary and sizes
 * (GLINT_E_SNAPSHOT_MISMATCH otherwise). */
glint_status glint_sandbox_restore(glint_sandbox *sb, glint_snapshot *snap);
/* A new sandbox in snap's state, without re-running initialisation.  Host
 * functions and callbacks of the snapshotted sandbox are inherited; cfg (may
 * be NULL) overrides log_fn, print_fn, callback_user, log_level,
 * call_deadline_ns and cancel_signal.  Host functions may be registered on
 * the clone until its first call (needed for snapshots loaded from a file). */
glint_status glint_sandbox_create_from_snapshot(glint_snapshot *snap, const glint_config *cfg,
                                                glint_sandbox **out, glint_error *err);
void glint_snapshot_retain(glint_snapshot *snap);
void glint_snapshot_release(glint_snapshot *snap);
/* Bytes of guest memory in the snapshot image, and of it, pages holding data. */
uint64_t glint_snapshot_memory_size(const glint_snapshot *snap);

/* Snapshot files: versioned, checksummed; see docs/snapshots.md.  A corrupt,
 * truncated or foreign file is GLINT_E_SNAPSHOT_FORMAT. */
glint_status glint_snapshot_save(const glint_snapshot *snap, const char *path, glint_error *err);
glint_status glint_snapshot_load(const char *path, glint_snapshot **out, glint_error *err);

/* ---- The hypervisor (docs/architecture.md, "Which KVM") -----------------
 * What this machine's /dev/kvm is and whether guests run on it.  KVMs
 * differ: hardware virtualisation (Intel VMX, AMD SVM; maybe nested inside
 * another VM) runs every guest instruction natively; a paravirtual KVM such
 * as PVM ("pagetable-based virtual machine") runs CPL-3 code natively but
 * emulates CPL-0 code.  Glint's guests run at CPL 3 and need CPL 0 only for
 * exception reports, so they run on both; the probe checks that instead of
 * trusting that /dev/kvm opens. */
typedef enum glint_hypervisor_kind {
    GLINT_HYPERVISOR_NONE = 0,    /* no usable /dev/kvm */
    GLINT_HYPERVISOR_UNKNOWN = 1, /* KVM answers, the kind is not known */
    GLINT_HYPERVISOR_VMX = 2,     /* Intel VT-x (kvm_intel) */
    GLINT_HYPERVISOR_SVM = 3,     /* AMD-V (kvm_amd) */
    GLINT_HYPERVISOR_PVM = 4      /* paravirtual (kvm_pvm): CPL-0 guest code emulated */
} glint_hypervisor_kind;

#define GLINT_HYPERVISOR_MAX_CAPS 16u

typedef struct glint_hypervisor_cap {
    const char *name; /* "KVM_CAP_IMMEDIATE_EXIT" (static string) */
    const char *use;  /* what Glint uses it for (static string) */
    bool required;    /* Glint refuses to run without it */
    bool present;
} glint_hypervisor_cap;

typedef struct glint_hypervisor_info {
    bool device_exists; /* /dev/kvm exists */
    bool device_opens;  /* and opens read/write */
    int open_errno;     /* errno of the failed open, 0 otherwise */
    int api_version;    /* KVM_GET_API_VERSION; -1 when not known */
    glint_hypervisor_kind kind;
    char kind_source[96];      /* what the kind was read from ("/sys/module/kvm_pvm") */
    bool nested;               /* this host is itself a guest (CPUID.1:ECX[31]) */
    char outer_hypervisor[13]; /* its hypervisor's CPUID vendor ("KVMKVMKVM", "TCGTCGTCGTCG"), or ""
                                */
    uint32_t cap_count;
    glint_hypervisor_cap caps[GLINT_HYPERVISOR_MAX_CAPS];
    bool probe_ran;    /* a probe guest was attempted (run_guest and KVM usable) */
    bool guests_run;   /* it ran: CPL-3 code with SSE, an OUT exit, an exception report */
    uint64_t probe_ns; /* wall time of the probe guest (VM creation to last exit) */
    char message[GLINT_ERROR_MESSAGE_SIZE]; /* summary, or why guests do not run here */
} glint_hypervisor_info;

/* Fills *out.  With run_guest, also creates a small VM exactly as sandboxes
 * are set up (CPL 3, host GDT/IDT/TSS and exception stubs) and runs a probe
 * guest in it: SSE at CPL 3, an OUT to the DONE port, then UD2, which must
 * come back as an exception report from the stubs.  Returns GLINT_OK when
 * the information could be gathered (whatever it says; guests_run tells
 * whether sandboxes work), GLINT_E_INVALID_ARGUMENT for a NULL out.  Never
 * prints; thread-safe; the probe VM is destroyed before it returns. */
glint_status glint_hypervisor_probe(glint_hypervisor_info *out, bool run_guest);
/* "none", "unknown", "vmx", "svm", "pvm". */
const char *glint_hypervisor_kind_name(glint_hypervisor_kind kind);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop
#endif /* GLINT_GLINT_H */
