/*
 * glint_guest.h - the API for writing Glint guests.
 *
 * A guest is a freestanding C program linked against the Glint guest runtime
 * and newlib.  Instead of main() it defines
 *
 *     void glint_main(void);
 *
 * which the runtime calls once, during sandbox initialisation, after C
 * constructors have run.  glint_main registers the functions the host may
 * call; when it returns, the runtime sends the function table to the host and
 * waits for calls.  State (globals, the heap) persists from call to call
 * until the host restores a snapshot.  See docs/guest-guide.md.
 *
 * Nothing here is thread-safe: a guest has one vCPU and no threads.
 */
#ifndef GLINT_GUEST_H
#define GLINT_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint/abi.h"
#include "glint/status.h"
#include "glint/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define GLINT_PRINTF_LIKE(fmt_index, first_arg)                                                    \
    __attribute__((format(printf, fmt_index, first_arg)))
#else
#define GLINT_PRINTF_LIKE(fmt_index, first_arg)
#endif

#ifdef __cplusplus
#define GLINT_NORETURN [[noreturn]]
#else
#define GLINT_NORETURN _Noreturn
#endif

/* ---- Entry point the guest must define ------------------------------- */

/* Called once at initialisation; registers the guest's functions. */
void glint_main(void);

/* ---- Guest functions ------------------------------------------------- */

/*
 * A function the host can call.  args[0..argc-1] already have the declared
 * parameter types (the dispatcher checked them); strings and bytes point into
 * the input buffer and stay valid until the function returns.
 *
 * *ret arrives with ret->type set to the declared return type and a zero
 * payload, so a void function may leave it alone.  A string or bytes result
 * must stay valid until the function returns to the dispatcher, which copies
 * it to the host straight away: point at a static buffer, at heap memory, at
 * an argument, or at a host-call result - never at a local array.
 *
 * Return GLINT_OK on success; anything else makes the call fail with that
 * code (usually GLINT_E_GUEST_ERROR) and the message set by glint_set_error,
 * or the code's standard description if none was set.
 */
typedef glint_status (*glint_guest_fn)(const glint_value *args, uint32_t argc, glint_value *ret);

/*
 * Registers a function; only allowed before initialisation ends (from
 * glint_main or a constructor).  The varargs are argc glint_type values, the
 * parameter types (never GLINT_TYPE_VOID).  The name (1..GLINT_MAX_NAME_LEN
 * bytes) is copied.  Returns GLINT_OK, or:
 *   GLINT_E_INVALID_ARGUMENT  bad name, NULL fn, invalid type, argc > GLINT_MAX_ARGS
 *   GLINT_E_EXISTS            a function of that name is already registered
 *   GLINT_E_TOO_BIG           GLINT_MAX_FUNCTIONS functions already registered
 *   GLINT_E_STATE             initialisation has finished
 * Any failure also makes initialisation abort with a message naming the
 * function, so ignoring the return value is safe.
 */
glint_status glint_register_function(const char *name, glint_guest_fn fn, glint_type ret,
                                     uint32_t argc, ...);
/* Same, with the parameter types in an array (params may be NULL if argc is 0). */
glint_status glint_register_function_v(const char *name, glint_guest_fn fn, glint_type ret,
                                       uint32_t argc, const glint_type *params);

/*
 * Sets the message that the current call's ERROR carries if the function
 * returns a status other than GLINT_OK.  Truncated (ending in "...") beyond
 * GLINT_ERROR_MESSAGE_MAX - 1 bytes.  Reset at the start of every call.
 */
#define GLINT_ERROR_MESSAGE_MAX 4096u
void glint_set_error(const char *fmt, ...) GLINT_PRINTF_LIKE(1, 2);

/* ---- Calling host functions ------------------------------------------ */

/*
 * Calls the host function `name` with argc glint_value varargs and waits for
 * its reply.  `ret` is the return type the guest expects; a reply of another
 * type fails with GLINT_E_RETURN_TYPE.  On GLINT_OK, *result (may be NULL to
 * discard it) holds the value; its strings and bytes point into the input
 * buffer and stay valid until the next host call.
 *
 * Errors: the host's code (e.g. GLINT_E_FUNCTION_NOT_FOUND,
 * GLINT_E_PARAMETER_TYPE, GLINT_E_HOST_FUNCTION_ERROR) with its message
 * available from glint_host_error(); GLINT_E_INVALID_ARGUMENT for a bad
 * name/argument; GLINT_E_ARGS_TOO_BIG if the call does not fit the output
 * buffer; GLINT_E_PROTOCOL for an unreadable reply.
 */
glint_status glint_call_host(const char *name, glint_type ret, glint_value *result, uint32_t argc,
                             ...);
glint_status glint_call_host_v(const char *name, glint_type ret, const glint_value *args,
                               uint32_t argc, glint_value *result);
/* Message of the last failed host call ("" after a successful one).  A copy,
 * truncated to GLINT_ERROR_MESSAGE_MAX - 1 bytes; valid until the next host call. */
const char *glint_host_error(void);

/*
 * Nested calls: the host function may itself call guest functions of this
 * sandbox (the host decides how deep; config.max_call_depth).  They run on
 * this call's stack, below the frames waiting here, before the reply
 * arrives; the current function's arguments and its glint_set_error
 * message are kept.  Guest state they change is of course changed.
 */

/* ---- Time and randomness (docs/guest-guide.md) ------------------------ */

/*
 * The host's clocks, read without leaving the VM (RDTSC and parameters the
 * host keeps current in the world page): CLOCK_MONOTONIC and CLOCK_REALTIME
 * in ns (since the epoch for the latter).  Also available as
 * clock_gettime(), gettimeofday() and time().  0 if the host provides no
 * clock.  If the host pinned time (deterministic replay), both return the
 * pinned values.
 */
uint64_t glint_time_monotonic_ns(void);
uint64_t glint_time_realtime_ns(void);

/*
 * Cryptographically strong random numbers: a ChaCha20 generator seeded by
 * the host, reseeded on every create, clone and restore, so no two sandboxes
 * and no two restores of one snapshot share a sequence (unless the host
 * made entropy deterministic).  Also available as arc4random(),
 * arc4random_buf(), arc4random_uniform() and getentropy().
 * glint_random_double() is uniform in [0, 1) with 53 random bits.
 */
uint64_t glint_random_u64(void);
double glint_random_double(void);

/* ---- Logging --------------------------------------------------------- */

/*
 * Sends a log record to the host unless `level` is below the sandbox's log
 * level (peb->log_level, read at every call so the host may change it).  The
 * message is truncated to GLINT_LOG_MESSAGE_MAX - 1 bytes (ending in "...").
 */
#define GLINT_LOG_MESSAGE_MAX 1024u
void glint_log(glint_log_level level, const char *file, uint32_t line, const char *fmt, ...)
    GLINT_PRINTF_LIKE(4, 5);

#define GLINT_TRACE(...) glint_log(GLINT_LOG_TRACE, __FILE__, __LINE__, __VA_ARGS__)
#define GLINT_DEBUG(...) glint_log(GLINT_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define GLINT_INFO(...) glint_log(GLINT_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define GLINT_WARN(...) glint_log(GLINT_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define GLINT_ERROR(...) glint_log(GLINT_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

/* ---- Aborting -------------------------------------------------------- */

/*
 * Ends the guest for good: sends ABORT(code, message) and halts.  The host
 * fails the current call with GLINT_E_GUEST_ABORT and poisons the sandbox
 * until a snapshot is restored.  exit(n)/_exit(n) abort with code n, abort()
 * with 134 (128 + SIGABRT).  Failures the runtime detects itself (e.g. a
 * function table that does not fit) abort with a glint_status as code.
 */
GLINT_NORETURN void glint_abort(int32_t code, const char *fmt, ...) GLINT_PRINTF_LIKE(2, 3);

/* ---- Sandbox information --------------------------------------------- */

/* The PEB (read-only; the host may update log_level and the mapping table). */
const glint_peb *glint_get_peb(void);

/* The init-data blob the host supplied (NULL and *size = 0 if none).  size
 * may be NULL. */
const void *glint_init_data(uint64_t *size);

/* File mappings currently in place (the host may add or remove some between
 * calls; peb->mappings_generation changes when it does).  Entries are
 * read-only views of the PEB page; a mapping's memory lies at guest_addr. */
uint32_t glint_mapping_count(void);
const glint_file_mapping_info *glint_mapping_get(uint32_t index);     /* NULL if out of range */
const glint_file_mapping_info *glint_mapping_find(const char *label); /* NULL if absent */

#ifdef __cplusplus
}
#endif

#endif /* GLINT_GUEST_H */
