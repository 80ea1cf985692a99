/* The counted wrappers: one place per kind of resource (see counted.h). */
#include "counted.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void count_alloc(glint_counters *c) {
    if (c != NULL) c->host_allocations++;
}

static void count_syscall(glint_counters *c) {
    if (c != NULL) c->syscalls_other++;
}

void *glint_counted_malloc(glint_counters *c, size_t size) {
    count_alloc(c);
    return malloc(size);
}

void *glint_counted_calloc(glint_counters *c, size_t n, size_t size) {
    count_alloc(c);
    return calloc(n, size);
}

void *glint_counted_realloc(glint_counters *c, void *p, size_t size) {
    count_alloc(c);
    return realloc(p, size);
}

char *glint_counted_strdup(glint_counters *c, const char *s) {
    count_alloc(c);
    return strdup(s);
}

void *glint_counted_mmap(glint_counters *c, void *addr, size_t len, int prot, int flags, int fd,
                         off_t off) {
    count_syscall(c);
    return mmap(addr, len, prot, flags, fd, off);
}

int glint_counted_munmap(glint_counters *c, void *addr, size_t len) {
    count_syscall(c);
    return munmap(addr, len);
}

int glint_counted_madvise(glint_counters *c, void *addr, size_t len, int advice) {
    count_syscall(c);
    return madvise(addr, len, advice);
}

int glint_counted_timer_create(glint_counters *c, clockid_t clock, struct sigevent *sev,
                               timer_t *out) {
    count_syscall(c);
    return timer_create(clock, sev, out);
}

int glint_counted_timer_settime(glint_counters *c, timer_t t, const struct itimerspec *its) {
    count_syscall(c);
    return timer_settime(t, 0, its, NULL);
}

int glint_counted_timer_delete(glint_counters *c, timer_t t) {
    count_syscall(c);
    return timer_delete(t);
}
