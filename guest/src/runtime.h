/*
 * runtime.h - internals shared by the guest runtime's source files.  Not for
 * guest authors (they use glint_guest.h).
 */
#ifndef GLINT_GUEST_RUNTIME_H
#define GLINT_GUEST_RUNTIME_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glint_guest.h"

/* Runtime symbols are internal to the guest image: hidden visibility keeps
 * every reference a direct RIP-relative one (no GOT entry). */
#define GLINT_RT_INTERNAL __attribute__((visibility("hidden")))

/*
 * Layout values copied from the PEB at initialisation.  They are fixed for
 * the sandbox's lifetime, and keeping a private copy means a guest that
 * scribbles on these globals only hurts itself (the host validates every
 * buffer offset anyway).
 */
struct glint_rt_layout {
    const glint_peb *peb;
    uint8_t *input;
    uint64_t input_size;
    uint8_t *output;
    uint64_t output_size;
    const void *init_data;
    uint64_t init_data_size;
    uint64_t heap_start;
    uint64_t heap_size;
};
extern struct glint_rt_layout glint_rt_layout GLINT_RT_INTERNAL;

/* Initial RSP of every call; entry.asm reloads it before each dispatch. */
extern uint64_t glint_rt_call_stack_top GLINT_RT_INTERNAL;

/* ---- Port I/O --------------------------------------------------------- */

/*
 * Leaves the VM through an 8-bit OUT to `port`; the host handles the exit and
 * resumes after the instruction.  The memory clobber is essential: the host
 * reads and writes the message buffers during the exit, so nothing may be
 * cached in registers across it.
 */
static inline void glint_rt_out(uint8_t port) {
    __asm__ volatile("outb %%al, %w1" : : "a"((uint8_t)0), "Nd"((uint16_t)port) : "memory");
}

/* Never returns; used after exits the host does not resume from (UD2: a
 * host that resumed anyway would get an exception report, not a spin). */
_Noreturn void glint_rt_halt_forever(void) GLINT_RT_INTERNAL;

/* ---- Output buffer ---------------------------------------------------- */

/* Prepares w to write one message at the top of the output stack.  False if
 * the stack header is unusable. */
bool glint_rt_output_begin(glint_writer *w) GLINT_RT_INTERNAL;
/* Publishes the len-byte message written through the writer; false if len
 * is 0 (the encoder failed) or the stack refuses it. */
bool glint_rt_output_commit(uint64_t len) GLINT_RT_INTERNAL;

/* ---- Input buffer ----------------------------------------------------- */

/* Current top of the input stack (0 if invalid), and a way to put it back:
 * the dispatcher keeps the CALL message on the stack while the function
 * runs, host-call replies are pushed above it and popped again. */
uint64_t glint_rt_input_top(void) GLINT_RT_INTERNAL;
void glint_rt_input_set_top(uint64_t top) GLINT_RT_INTERNAL;

/* ---- Messages --------------------------------------------------------- */

/* vsnprintf into buf (size >= 4) that marks truncation with a trailing
 * "..."; returns the length, which stops at the first NUL so the text is
 * always a valid wire string. */
uint32_t glint_rt_vformat(char *buf, size_t size, const char *fmt, va_list ap) GLINT_RT_INTERNAL;
/* Copies at most size-1 bytes of s (len bytes, not NUL terminated) into buf,
 * marking truncation with "..."; returns the resulting length. */
uint32_t glint_rt_copy_message(char *buf, size_t size, const char *s,
                               uint32_t len) GLINT_RT_INTERNAL;

/* ---- Pieces of initialisation and dispatch ---------------------------- */

/* Resets x87 and SSE control state.  (GDT, IDT, TSS and exception handling
 * belong to the host: the runtime runs at CPL 3, docs/abi.md.) */
void glint_rt_cpu_init(void) GLINT_RT_INTERNAL;
/* Sets up sbrk's arena. */
void glint_rt_heap_init(uint64_t start, uint64_t size) GLINT_RT_INTERNAL;
/* Aborts if a registration failed; otherwise pushes the FUNCTIONS message
 * and closes registration. */
void glint_rt_publish_functions(void) GLINT_RT_INTERNAL;
/* Clears the message of the last failed host call. */
void glint_rt_host_error_reset(void) GLINT_RT_INTERNAL;

/* ---- The world page (world.c) ------------------------------------------ */

/* Finds the world page and seeds the generator (initialisation). */
void glint_rt_world_init(const glint_peb *peb) GLINT_RT_INTERNAL;
/* Reseeds the generator if the host started a new entropy generation
 * (create, clone, restore).  Called at initialisation and before every
 * draw, so no draw ever comes from a state the snapshot held. */
void glint_rt_world_enter(void) GLINT_RT_INTERNAL;

/* ---- Nested calls (dispatch.c) ----------------------------------------- */

/* Runs a CALL the host pushed on the input buffer in reply to a host call
 * (a host function calling back into this guest), pushes its RESULT or
 * ERROR on the output buffer and returns; the caller reports DONE. */
void glint_rt_dispatch_nested(void) GLINT_RT_INTERNAL;

/* Called from entry.asm. */
void glint_rt_init(const glint_peb *peb, uint64_t abi_version) GLINT_RT_INTERNAL;
void glint_rt_dispatch(void) GLINT_RT_INTERNAL;

#endif /* GLINT_GUEST_RUNTIME_H */
