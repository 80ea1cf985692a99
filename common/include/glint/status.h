/*
 * glint/status.h - status codes shared by host and guest.  Values are part of
 * the ABI (they travel in ERROR messages); never renumber, only append.
 */
#ifndef GLINT_STATUS_H
#define GLINT_STATUS_H

/* libglint is built with -fvisibility=hidden; these declarations are part
 * of its API (exported by libglint.so).  For guests it changes nothing. */
#pragma GCC visibility push(default)

#ifdef __cplusplus
extern "C" {
#endif

typedef enum glint_status {
    GLINT_OK = 0,
    /* Caller and configuration errors. */
    GLINT_E_INVALID_ARGUMENT = 1, /* a parameter is NULL, malformed or out of range */
    GLINT_E_NO_MEMORY = 2,        /* host allocation or mapping failed */
    GLINT_E_TOO_BIG = 3,          /* a size exceeds its limit (field named in message) */
    GLINT_E_TOO_SMALL = 4,        /* a size is below its minimum (field named) */
    GLINT_E_STATE = 5,            /* operation not allowed in the sandbox's state */
    GLINT_E_POISONED = 6,         /* sandbox poisoned by an earlier failure; restore it */
    GLINT_E_IO = 7,               /* a file could not be read/written (errno kept) */
    GLINT_E_ELF = 8,              /* guest binary malformed or unsupported */
    GLINT_E_ABI_MISMATCH = 9,     /* guest built for another ABI version */
    GLINT_E_HYPERVISOR = 10,      /* KVM unavailable or an ioctl failed (errno kept) */
    GLINT_E_EXISTS = 11,          /* a name is already registered */
    GLINT_E_NOT_FOUND = 12,       /* generic lookup failure */
    /* Call errors: the sandbox stays usable. */
    GLINT_E_FUNCTION_NOT_FOUND = 20,
    GLINT_E_PARAMETER_COUNT = 21,
    GLINT_E_PARAMETER_TYPE = 22,
    GLINT_E_RETURN_TYPE = 23,
    GLINT_E_GUEST_ERROR = 24,         /* guest function returned an error */
    GLINT_E_HOST_FUNCTION_ERROR = 25, /* host function returned an error */
    GLINT_E_RESULT_TOO_BIG = 26,      /* result does not fit the output buffer */
    GLINT_E_ARGS_TOO_BIG = 27,        /* arguments do not fit the input buffer */
    GLINT_E_OUT_OF_MEMORY = 28,       /* guest heap exhausted (reported by guest) */
    /* Run failures: the sandbox is poisoned. */
    GLINT_E_GUEST_ABORT = 40, /* guest called abort/_exit/panic */
    GLINT_E_GUEST_FAULT = 41, /* CPU exception in the guest (vector, RIP, CR2) */
    GLINT_E_STACK_OVERFLOW = 42,
    GLINT_E_MEMORY_ACCESS = 43, /* access to unmapped guest-physical memory */
    GLINT_E_UNKNOWN_PORT = 44,  /* port I/O outside the protocol */
    GLINT_E_PROTOCOL = 45,      /* malformed message or buffer state from guest */
    GLINT_E_TRIPLE_FAULT = 46,  /* vCPU shut down */
    GLINT_E_CANCELLED = 47,     /* killed by glint_sandbox_kill */
    GLINT_E_DEADLINE = 48,      /* call deadline exceeded */
    GLINT_E_UNEXPECTED_EXIT = 49,
    /* Snapshots and mappings. */
    GLINT_E_SNAPSHOT_FORMAT = 60,   /* snapshot file corrupt, truncated or foreign */
    GLINT_E_SNAPSHOT_MISMATCH = 61, /* snapshot from another guest or configuration */
    GLINT_E_MAPPING = 62            /* file mapping rejected (reason in message) */
} glint_status;

/* Stable short name, e.g. "GLINT_E_GUEST_FAULT"; "GLINT_E_UNKNOWN" otherwise. */
const char *glint_status_name(int status);
/* One-line English description. */
const char *glint_status_describe(int status);

#ifdef __cplusplus
}
#endif

#pragma GCC visibility pop
#endif /* GLINT_STATUS_H */
