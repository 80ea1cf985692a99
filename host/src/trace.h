/*
 * trace.h - USDT probes of libglint (provider "glint"), for perf, bpftrace and
 * SystemTap; docs/tracing.md lists them with their arguments.
 *
 * A probe is one nop in the code plus a stapsdt ELF note saying where its
 * arguments live, so it costs nothing measurable until a tracer attaches
 * (which turns the nop into a breakpoint).  The arguments are still computed
 * on every pass: give probes only values already at hand, never a call.
 *
 * Built with GLINT_HAVE_SDT (CMake option GLINT_TRACE, on by default) the
 * probes come from <sys/sdt.h> (Debian: systemtap-sdt-dev); without it they
 * compile to nothing.  Probes are added as one line each, so that the code
 * around them reads as before.
 */
#ifndef GLINT_TRACE_H
#define GLINT_TRACE_H

#if defined(GLINT_HAVE_SDT) && GLINT_HAVE_SDT
#include <sys/sdt.h>
#define GLINT_PROBE1(name, a) STAP_PROBE1(glint, name, a)
#define GLINT_PROBE2(name, a, b) STAP_PROBE2(glint, name, a, b)
#define GLINT_PROBE3(name, a, b, c) STAP_PROBE3(glint, name, a, b, c)
#define GLINT_PROBE4(name, a, b, c, d) STAP_PROBE4(glint, name, a, b, c, d)
#define GLINT_PROBE5(name, a, b, c, d, e) STAP_PROBE5(glint, name, a, b, c, d, e)
#else
/* Still "use" the arguments, so that a variable kept only for a probe does
 * not become an unused-variable error in builds without tracing. */
#define GLINT_PROBE1(name, a) ((void)(a))
#define GLINT_PROBE2(name, a, b) ((void)(a), (void)(b))
#define GLINT_PROBE3(name, a, b, c) ((void)(a), (void)(b), (void)(c))
#define GLINT_PROBE4(name, a, b, c, d) ((void)(a), (void)(b), (void)(c), (void)(d))
#define GLINT_PROBE5(name, a, b, c, d, e) ((void)(a), (void)(b), (void)(c), (void)(d), (void)(e))
#endif

/* glint_sandbox_call: before entering the guest, and after the guest has
 * finished (or failed; status is that of the run, before the result is
 * decoded). */
#define GLINT_TRACE_CALL_START(sb, function, argc) GLINT_PROBE3(call_start, sb, function, argc)
#define GLINT_TRACE_CALL_END(sb, function, status) GLINT_PROBE3(call_end, sb, function, status)

/* A guest's call of a host function: just before and after the embedder's
 * callback (lookups and signature checks that fail never reach it). */
#define GLINT_TRACE_HOST_CALL_START(sb, function, argc)                                            \
    GLINT_PROBE3(host_call_start, sb, function, argc)
#define GLINT_TRACE_HOST_CALL_END(sb, function, status)                                            \
    GLINT_PROBE3(host_call_end, sb, function, status)

/* Every return from the vCPU: kind is a glint_exit_kind (host/src/hv.h),
 * port the I/O port (0 if none), reason the hypervisor's raw exit reason. */
#define GLINT_TRACE_VM_EXIT(sb, kind, port, reason) GLINT_PROBE4(vm_exit, sb, kind, port, reason)

/* glint_sandbox_restore: pages is the number of pages the guest had dirtied
 * since the last snapshot or restore (the work the restore undoes). */
#define GLINT_TRACE_RESTORE_START(sb, snap) GLINT_PROBE2(restore_start, sb, snap)
#define GLINT_TRACE_RESTORE_END(sb, snap, pages) GLINT_PROBE3(restore_end, sb, snap, pages)

/* glint_sandbox_kill, from any thread: hit is whether a call was running. */
#define GLINT_TRACE_KILL(sb, hit) GLINT_PROBE2(kill, sb, hit)

/* A file or host-memory mapping added (mode: GLINT_MAP_*) or removed. */
#define GLINT_TRACE_MAP(sb, gpa, size, mode, label) GLINT_PROBE5(map, sb, gpa, size, mode, label)
#define GLINT_TRACE_UNMAP(sb, gpa, size) GLINT_PROBE3(unmap, sb, gpa, size)

#endif /* GLINT_TRACE_H */
