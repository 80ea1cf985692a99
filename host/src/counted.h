/*
 * counted.h - the library's heap allocations and memory/timer syscalls, each
 * counted where it happens (glint_counters.host_allocations and
 * .syscalls_other; docs/host-api.md "Counters").  Every call site in the
 * library goes through these, so the counters agree with what a wrapper
 * around libc sees (bench/bench_wrap.c checks that).  c may be NULL (work
 * done for no sandbox, e.g. loading a snapshot file): then nothing is
 * counted.  Same results and errno as the libc functions they wrap.
 */
#ifndef GLINT_COUNTED_H
#define GLINT_COUNTED_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "glint/glint.h"

void *glint_counted_malloc(glint_counters *c, size_t size);
void *glint_counted_calloc(glint_counters *c, size_t n, size_t size);
void *glint_counted_realloc(glint_counters *c, void *p, size_t size);
char *glint_counted_strdup(glint_counters *c, const char *s);

void *glint_counted_mmap(glint_counters *c, void *addr, size_t len, int prot, int flags, int fd,
                         off_t off);
int glint_counted_munmap(glint_counters *c, void *addr, size_t len);
int glint_counted_madvise(glint_counters *c, void *addr, size_t len, int advice);

struct sigevent;
int glint_counted_timer_create(glint_counters *c, clockid_t clock, struct sigevent *sev,
                               timer_t *out);
int glint_counted_timer_settime(glint_counters *c, timer_t t, const struct itimerspec *its);
int glint_counted_timer_delete(glint_counters *c, timer_t t);

#endif
