/*
 * bench_wrap.h - counting interposers for glint_bench.
 *
 * glint_bench is linked with -Wl,--wrap=SYMBOL for the libc functions libglint
 * uses to talk to the kernel and to the heap (see bench/CMakeLists.txt).  With
 * --wrap every call from libglint's (static) objects and from the bench's own
 * objects goes to __wrap_SYMBOL, which counts it and calls the real function;
 * calls made inside libc itself are not affected.  This gives an outside view
 * of what one library operation does - ioctls by request, syscalls by kind,
 * heap allocations, bytes copied - to put next to (and check) the library's
 * own glint_counters.
 *
 * Counting is off except between bench_wrap_begin() and bench_wrap_end(), so
 * the benchmark's own bookkeeping is never counted.  Counters are atomics:
 * another thread (the kill scenario's killer) may count too.
 */
#ifndef GLINT_BENCH_WRAP_H
#define GLINT_BENCH_WRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* KVM ioctls by request; BW_IOCTL_OTHER for anything else. */
typedef enum bench_ioctl_kind {
    BW_KVM_RUN,
    BW_KVM_GET_API_VERSION,
    BW_KVM_CHECK_EXTENSION,
    BW_KVM_CREATE_VM,
    BW_KVM_GET_VCPU_MMAP_SIZE,
    BW_KVM_CREATE_VCPU,
    BW_KVM_GET_SUPPORTED_CPUID,
    BW_KVM_SET_CPUID2,
    BW_KVM_SET_USER_MEMORY_REGION,
    BW_KVM_GET_DIRTY_LOG,
    BW_KVM_RESET_DIRTY_RINGS,
    BW_KVM_ENABLE_CAP,
    BW_KVM_GET_REGS,
    BW_KVM_SET_REGS,
    BW_KVM_GET_SREGS,
    BW_KVM_SET_SREGS,
    BW_KVM_GET_FPU,
    BW_KVM_SET_FPU,
    BW_KVM_GET_XSAVE,
    BW_KVM_SET_XSAVE,
    BW_KVM_GET_MSRS,
    BW_KVM_SET_MSRS,
    BW_KVM_GET_VCPU_EVENTS,
    BW_KVM_SET_VCPU_EVENTS,
    BW_KVM_GET_TSC_KHZ,     /* the vCPU's TSC, for the guest's clock (world page) */
    BW_KVM_GET_DEVICE_ATTR, /* its TSC offset */
    BW_IOCTL_OTHER,
    BW_IOCTL_KINDS
} bench_ioctl_kind;

/* System calls (libc wrappers) by kind. */
typedef enum bench_sys_kind {
    BW_MMAP,
    BW_MUNMAP,
    BW_MADVISE,
    BW_MPROTECT,
    BW_MINCORE,
    BW_MEMFD_CREATE,
    BW_FTRUNCATE,
    BW_FCNTL,
    BW_OPEN,
    BW_CLOSE,
    BW_READ,
    BW_PWRITE,
    BW_LSEEK,
    BW_FSTAT,
    BW_FSYNC,
    BW_TIMER_CREATE,
    BW_TIMER_SETTIME,
    BW_TIMER_DELETE,
    BW_PTHREAD_KILL,
    BW_SIGACTION,
    BW_GETRANDOM, /* the key of a sandbox's entropy (create, clone) */
    BW_SYS_KINDS
} bench_sys_kind;

typedef struct bench_wrap_counts {
    uint64_t ioctl[BW_IOCTL_KINDS];
    uint64_t sys[BW_SYS_KINDS];
    uint64_t allocs;       /* malloc, calloc, realloc, strdup calls */
    uint64_t frees;        /* free calls with a non-NULL pointer */
    uint64_t copied_all;   /* bytes through memcpy/memmove */
    uint64_t copied_guest; /* of those, and pwrite/read bytes, with source or
                            * destination inside guest memory (see below) */
} bench_wrap_counts;

/* Guest memory, for copied_guest: every mapping libglint makes of a file
 * descriptor other than a KVM vCPU's (the guest image memfd, snapshot memfds,
 * mapped files), tracked from its mmap to its munmap. */

const char *bench_ioctl_name(int kind); /* "KVM_RUN", ... */
const char *bench_sys_name(int kind);   /* "mmap", ... */
/* True for the ioctls that only load vCPU registers (restore's "register
 * setting"). */
bool bench_ioctl_is_register_set(int kind);

/* Zeroes the counters and starts counting. */
void bench_wrap_begin(void);
/* Stops counting and copies the counters to *out. */
void bench_wrap_end(bench_wrap_counts *out);

#endif
