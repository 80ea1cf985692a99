/* Status names and descriptions shared by host and guest. */
#include "glint/status.h"

#include <stddef.h>

struct status_entry {
    int code;
    const char *name;
    const char *text;
};

static const struct status_entry status_table[] = {
    {GLINT_OK, "GLINT_OK", "success"},
    {GLINT_E_INVALID_ARGUMENT, "GLINT_E_INVALID_ARGUMENT", "invalid argument"},
    {GLINT_E_NO_MEMORY, "GLINT_E_NO_MEMORY", "host out of memory"},
    {GLINT_E_TOO_BIG, "GLINT_E_TOO_BIG", "memory request too big"},
    {GLINT_E_TOO_SMALL, "GLINT_E_TOO_SMALL", "memory request too small"},
    {GLINT_E_STATE, "GLINT_E_STATE", "operation not allowed in this sandbox state"},
    {GLINT_E_POISONED, "GLINT_E_POISONED", "sandbox is poisoned; restore a snapshot"},
    {GLINT_E_IO, "GLINT_E_IO", "I/O error"},
    {GLINT_E_ELF, "GLINT_E_ELF", "malformed or unsupported guest binary"},
    {GLINT_E_ABI_MISMATCH, "GLINT_E_ABI_MISMATCH", "guest ABI version does not match the host"},
    {GLINT_E_HYPERVISOR, "GLINT_E_HYPERVISOR", "hypervisor error"},
    {GLINT_E_EXISTS, "GLINT_E_EXISTS", "already exists"},
    {GLINT_E_NOT_FOUND, "GLINT_E_NOT_FOUND", "not found"},
    {GLINT_E_FUNCTION_NOT_FOUND, "GLINT_E_FUNCTION_NOT_FOUND", "function not found"},
    {GLINT_E_PARAMETER_COUNT, "GLINT_E_PARAMETER_COUNT", "wrong number of parameters"},
    {GLINT_E_PARAMETER_TYPE, "GLINT_E_PARAMETER_TYPE", "wrong parameter type"},
    {GLINT_E_RETURN_TYPE, "GLINT_E_RETURN_TYPE", "wrong return type"},
    {GLINT_E_GUEST_ERROR, "GLINT_E_GUEST_ERROR", "guest function returned an error"},
    {GLINT_E_HOST_FUNCTION_ERROR, "GLINT_E_HOST_FUNCTION_ERROR", "host function returned an error"},
    {GLINT_E_RESULT_TOO_BIG, "GLINT_E_RESULT_TOO_BIG", "result does not fit the output buffer"},
    {GLINT_E_ARGS_TOO_BIG, "GLINT_E_ARGS_TOO_BIG", "arguments do not fit the input buffer"},
    {GLINT_E_OUT_OF_MEMORY, "GLINT_E_OUT_OF_MEMORY", "guest out of memory"},
    {GLINT_E_GUEST_ABORT, "GLINT_E_GUEST_ABORT", "guest aborted"},
    {GLINT_E_GUEST_FAULT, "GLINT_E_GUEST_FAULT", "guest CPU exception"},
    {GLINT_E_STACK_OVERFLOW, "GLINT_E_STACK_OVERFLOW", "guest stack overflow"},
    {GLINT_E_MEMORY_ACCESS, "GLINT_E_MEMORY_ACCESS", "guest accessed unmapped memory"},
    {GLINT_E_UNKNOWN_PORT, "GLINT_E_UNKNOWN_PORT", "guest used an unknown I/O port"},
    {GLINT_E_PROTOCOL, "GLINT_E_PROTOCOL", "malformed message from guest"},
    {GLINT_E_TRIPLE_FAULT, "GLINT_E_TRIPLE_FAULT", "guest triple fault (vCPU shutdown)"},
    {GLINT_E_CANCELLED, "GLINT_E_CANCELLED", "call cancelled"},
    {GLINT_E_DEADLINE, "GLINT_E_DEADLINE", "call deadline exceeded"},
    {GLINT_E_UNEXPECTED_EXIT, "GLINT_E_UNEXPECTED_EXIT", "unexpected VM exit"},
    {GLINT_E_SNAPSHOT_FORMAT, "GLINT_E_SNAPSHOT_FORMAT", "snapshot file corrupt or foreign"},
    {GLINT_E_SNAPSHOT_MISMATCH, "GLINT_E_SNAPSHOT_MISMATCH", "snapshot does not match this guest"},
    {GLINT_E_MAPPING, "GLINT_E_MAPPING", "file mapping rejected"},
};

static const struct status_entry *find_status(int status) {
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++) {
        if (status_table[i].code == status) return &status_table[i];
    }
    return NULL;
}

const char *glint_status_name(int status) {
    const struct status_entry *e = find_status(status);
    return e != NULL ? e->name : "GLINT_E_UNKNOWN";
}

const char *glint_status_describe(int status) {
    const struct status_entry *e = find_status(status);
    return e != NULL ? e->text : "unknown status";
}
