/*
 * bench_wrap.c - the counting interposers (see bench_wrap.h).  Each
 * __wrap_X counts (while counting is on) and calls __real_X.
 */
#include "bench_wrap.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---- Counters ------------------------------------------------------------ */

static atomic_bool counting;
static _Atomic uint64_t c_ioctl[BW_IOCTL_KINDS];
static _Atomic uint64_t c_sys[BW_SYS_KINDS];
static _Atomic uint64_t c_allocs, c_frees, c_copied_all, c_copied_guest;

static inline bool on(void) { return atomic_load_explicit(&counting, memory_order_relaxed); }
static inline void add(_Atomic uint64_t *c, uint64_t n) {
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

void bench_wrap_begin(void) {
    for (int i = 0; i < BW_IOCTL_KINDS; i++) atomic_store(&c_ioctl[i], 0);
    for (int i = 0; i < BW_SYS_KINDS; i++) atomic_store(&c_sys[i], 0);
    atomic_store(&c_allocs, 0);
    atomic_store(&c_frees, 0);
    atomic_store(&c_copied_all, 0);
    atomic_store(&c_copied_guest, 0);
    atomic_store(&counting, true);
}

void bench_wrap_end(bench_wrap_counts *out) {
    atomic_store(&counting, false);
    for (int i = 0; i < BW_IOCTL_KINDS; i++) out->ioctl[i] = atomic_load(&c_ioctl[i]);
    for (int i = 0; i < BW_SYS_KINDS; i++) out->sys[i] = atomic_load(&c_sys[i]);
    out->allocs = atomic_load(&c_allocs);
    out->frees = atomic_load(&c_frees);
    out->copied_all = atomic_load(&c_copied_all);
    out->copied_guest = atomic_load(&c_copied_guest);
}

/* ---- Names ----------------------------------------------------------------- */

static const char *const ioctl_names[BW_IOCTL_KINDS] = {
    [BW_KVM_RUN] = "KVM_RUN",
    [BW_KVM_GET_API_VERSION] = "KVM_GET_API_VERSION",
    [BW_KVM_CHECK_EXTENSION] = "KVM_CHECK_EXTENSION",
    [BW_KVM_CREATE_VM] = "KVM_CREATE_VM",
    [BW_KVM_GET_VCPU_MMAP_SIZE] = "KVM_GET_VCPU_MMAP_SIZE",
    [BW_KVM_CREATE_VCPU] = "KVM_CREATE_VCPU",
    [BW_KVM_GET_SUPPORTED_CPUID] = "KVM_GET_SUPPORTED_CPUID",
    [BW_KVM_SET_CPUID2] = "KVM_SET_CPUID2",
    [BW_KVM_SET_USER_MEMORY_REGION] = "KVM_SET_USER_MEMORY_REGION",
    [BW_KVM_GET_DIRTY_LOG] = "KVM_GET_DIRTY_LOG",
    [BW_KVM_RESET_DIRTY_RINGS] = "KVM_RESET_DIRTY_RINGS",
    [BW_KVM_ENABLE_CAP] = "KVM_ENABLE_CAP",
    [BW_KVM_GET_REGS] = "KVM_GET_REGS",
    [BW_KVM_SET_REGS] = "KVM_SET_REGS",
    [BW_KVM_GET_SREGS] = "KVM_GET_SREGS",
    [BW_KVM_SET_SREGS] = "KVM_SET_SREGS",
    [BW_KVM_GET_FPU] = "KVM_GET_FPU",
    [BW_KVM_SET_FPU] = "KVM_SET_FPU",
    [BW_KVM_GET_XSAVE] = "KVM_GET_XSAVE",
    [BW_KVM_SET_XSAVE] = "KVM_SET_XSAVE",
    [BW_KVM_GET_MSRS] = "KVM_GET_MSRS",
    [BW_KVM_SET_MSRS] = "KVM_SET_MSRS",
    [BW_KVM_GET_VCPU_EVENTS] = "KVM_GET_VCPU_EVENTS",
    [BW_KVM_SET_VCPU_EVENTS] = "KVM_SET_VCPU_EVENTS",
    [BW_KVM_GET_TSC_KHZ] = "KVM_GET_TSC_KHZ",
    [BW_KVM_GET_DEVICE_ATTR] = "KVM_GET_DEVICE_ATTR",
    [BW_IOCTL_OTHER] = "other_ioctl",
};

static const char *const sys_names[BW_SYS_KINDS] = {
    [BW_MMAP] = "mmap",
    [BW_MUNMAP] = "munmap",
    [BW_MADVISE] = "madvise",
    [BW_MPROTECT] = "mprotect",
    [BW_MINCORE] = "mincore",
    [BW_MEMFD_CREATE] = "memfd_create",
    [BW_FTRUNCATE] = "ftruncate",
    [BW_FCNTL] = "fcntl",
    [BW_OPEN] = "open",
    [BW_CLOSE] = "close",
    [BW_READ] = "read",
    [BW_PWRITE] = "pwrite",
    [BW_LSEEK] = "lseek",
    [BW_FSTAT] = "fstat",
    [BW_FSYNC] = "fsync",
    [BW_TIMER_CREATE] = "timer_create",
    [BW_TIMER_SETTIME] = "timer_settime",
    [BW_TIMER_DELETE] = "timer_delete",
    [BW_PTHREAD_KILL] = "pthread_kill",
    [BW_SIGACTION] = "sigaction",
    [BW_GETRANDOM] = "getrandom",
};

const char *bench_ioctl_name(int kind) {
    return kind >= 0 && kind < BW_IOCTL_KINDS ? ioctl_names[kind] : "?";
}

const char *bench_sys_name(int kind) {
    return kind >= 0 && kind < BW_SYS_KINDS ? sys_names[kind] : "?";
}

bool bench_ioctl_is_register_set(int kind) {
    switch (kind) {
    case BW_KVM_SET_REGS:
    case BW_KVM_SET_SREGS:
    case BW_KVM_SET_FPU:
    case BW_KVM_SET_XSAVE:
    case BW_KVM_SET_MSRS:
    case BW_KVM_SET_VCPU_EVENTS: return true;
    default: return false;
    }
}

static int ioctl_kind(unsigned long req) {
    switch (req) {
    case KVM_RUN: return BW_KVM_RUN;
    case KVM_GET_API_VERSION: return BW_KVM_GET_API_VERSION;
    case KVM_CHECK_EXTENSION: return BW_KVM_CHECK_EXTENSION;
    case KVM_CREATE_VM: return BW_KVM_CREATE_VM;
    case KVM_GET_VCPU_MMAP_SIZE: return BW_KVM_GET_VCPU_MMAP_SIZE;
    case KVM_CREATE_VCPU: return BW_KVM_CREATE_VCPU;
    case KVM_GET_SUPPORTED_CPUID: return BW_KVM_GET_SUPPORTED_CPUID;
    case KVM_SET_CPUID2: return BW_KVM_SET_CPUID2;
    case KVM_SET_USER_MEMORY_REGION: return BW_KVM_SET_USER_MEMORY_REGION;
    case KVM_GET_DIRTY_LOG: return BW_KVM_GET_DIRTY_LOG;
    case KVM_RESET_DIRTY_RINGS: return BW_KVM_RESET_DIRTY_RINGS;
    case KVM_ENABLE_CAP: return BW_KVM_ENABLE_CAP;
    case KVM_GET_REGS: return BW_KVM_GET_REGS;
    case KVM_SET_REGS: return BW_KVM_SET_REGS;
    case KVM_GET_SREGS: return BW_KVM_GET_SREGS;
    case KVM_SET_SREGS: return BW_KVM_SET_SREGS;
    case KVM_GET_FPU: return BW_KVM_GET_FPU;
    case KVM_SET_FPU: return BW_KVM_SET_FPU;
    case KVM_GET_XSAVE: return BW_KVM_GET_XSAVE;
    case KVM_SET_XSAVE: return BW_KVM_SET_XSAVE;
    case KVM_GET_MSRS: return BW_KVM_GET_MSRS;
    case KVM_SET_MSRS: return BW_KVM_SET_MSRS;
    case KVM_GET_VCPU_EVENTS: return BW_KVM_GET_VCPU_EVENTS;
    case KVM_SET_VCPU_EVENTS: return BW_KVM_SET_VCPU_EVENTS;
    case KVM_GET_TSC_KHZ: return BW_KVM_GET_TSC_KHZ;
    case KVM_GET_DEVICE_ATTR: return BW_KVM_GET_DEVICE_ATTR;
    default: return BW_IOCTL_OTHER;
    }
}

/* ---- Guest memory ranges and vCPU descriptors --------------------------------
 * Changed only by mmap/munmap/close/ioctl calls of libglint, which the
 * benchmark makes from one thread; read by memcpy/memmove/pwrite/read. */

#define MAX_RANGES 512
#define MAX_VCPU_FDS 256

static struct { uintptr_t start, end; } ranges[MAX_RANGES];
static int range_count;
static int vcpu_fds[MAX_VCPU_FDS];
static int vcpu_fd_count;

static bool is_vcpu_fd(int fd) {
    for (int i = 0; i < vcpu_fd_count; i++)
        if (vcpu_fds[i] == fd) return true;
    return false;
}

static void forget_vcpu_fd(int fd) {
    for (int i = 0; i < vcpu_fd_count; i++) {
        if (vcpu_fds[i] == fd) {
            vcpu_fds[i] = vcpu_fds[--vcpu_fd_count];
            return;
        }
    }
}

static void forget_range(uintptr_t start, uintptr_t end) {
    for (int i = 0; i < range_count;) {
        if (ranges[i].start < end && ranges[i].end > start)
            ranges[i] = ranges[--range_count];
        else
            i++;
    }
}

static void add_range(uintptr_t start, uintptr_t end) {
    forget_range(start, end);
    if (range_count < MAX_RANGES) {
        ranges[range_count].start = start;
        ranges[range_count].end = end;
        range_count++;
    }
}

static bool in_guest(const void *p, size_t n) {
    uintptr_t a = (uintptr_t)p, b = a + n;
    for (int i = 0; i < range_count; i++)
        if (a < ranges[i].end && b > ranges[i].start) return true;
    return false;
}

/* ---- The interposers ----------------------------------------------------------- */

#define COUNT_SYS(kind)                                                                            \
    do {                                                                                           \
        if (on()) add(&c_sys[kind], 1);                                                            \
    } while (0)

/* Heap. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

void *__wrap_malloc(size_t n) {
    if (on()) add(&c_allocs, 1);
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size) {
    if (on()) add(&c_allocs, 1);
    return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n) {
    if (on()) add(&c_allocs, 1);
    return __real_realloc(p, n);
}
char *__wrap_strdup(const char *s) {
    if (on()) add(&c_allocs, 1);
    return __real_strdup(s);
}
void __wrap_free(void *p) {
    if (p != NULL && on()) add(&c_frees, 1);
    __real_free(p);
}

/* Copies. */
void *__real_memcpy(void *d, const void *s, size_t n);
void *__real_memmove(void *d, const void *s, size_t n);
void *__wrap_memcpy(void *d, const void *s, size_t n);
void *__wrap_memmove(void *d, const void *s, size_t n);

static void count_copy(const void *d, const void *s, size_t n) {
    if (!on() || n == 0) return;
    add(&c_copied_all, n);
    if (in_guest(d, n) || in_guest(s, n)) add(&c_copied_guest, n);
}
void *__wrap_memcpy(void *d, const void *s, size_t n) {
    count_copy(d, s, n);
    return __real_memcpy(d, s, n);
}
void *__wrap_memmove(void *d, const void *s, size_t n) {
    count_copy(d, s, n);
    return __real_memmove(d, s, n);
}

/* ioctl. */
int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...) {
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int kind = ioctl_kind(req);
    if (on()) add(&c_ioctl[kind], 1);
    int r = __real_ioctl(fd, req, arg);
    if (kind == BW_KVM_CREATE_VCPU && r >= 0 && vcpu_fd_count < MAX_VCPU_FDS)
        vcpu_fds[vcpu_fd_count++] = r;
    return r;
}

/* Memory management. */
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
int __real_madvise(void *addr, size_t len, int advice);
int __real_mprotect(void *addr, size_t len, int prot);
int __real_mincore(void *addr, size_t len, unsigned char *vec);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);
int __wrap_madvise(void *addr, size_t len, int advice);
int __wrap_mprotect(void *addr, size_t len, int prot);
int __wrap_mincore(void *addr, size_t len, unsigned char *vec);

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
    COUNT_SYS(BW_MMAP);
    void *p = __real_mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED) {
        uintptr_t a = (uintptr_t)p;
        if (fd >= 0 && !(flags & MAP_ANONYMOUS) && !is_vcpu_fd(fd))
            add_range(a, a + len);
        else
            forget_range(a, a + len);
    }
    return p;
}
int __wrap_munmap(void *addr, size_t len) {
    COUNT_SYS(BW_MUNMAP);
    int r = __real_munmap(addr, len);
    if (r == 0) forget_range((uintptr_t)addr, (uintptr_t)addr + len);
    return r;
}
int __wrap_madvise(void *addr, size_t len, int advice) {
    COUNT_SYS(BW_MADVISE);
    return __real_madvise(addr, len, advice);
}
int __wrap_mprotect(void *addr, size_t len, int prot) {
    COUNT_SYS(BW_MPROTECT);
    return __real_mprotect(addr, len, prot);
}
int __wrap_mincore(void *addr, size_t len, unsigned char *vec) {
    COUNT_SYS(BW_MINCORE);
    return __real_mincore(addr, len, vec);
}

/* Files and descriptors. */
int __real_memfd_create(const char *name, unsigned int flags);
int __real_ftruncate(int fd, off_t len);
int __real_fcntl(int fd, int cmd, ...);
int __real_open(const char *path, int flags, ...);
int __real_close(int fd);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
off_t __real_lseek(int fd, off_t off, int whence);
int __real_fstat(int fd, struct stat *st);
int __real_fsync(int fd);
int __wrap_memfd_create(const char *name, unsigned int flags);
int __wrap_ftruncate(int fd, off_t len);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_close(int fd);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);
off_t __wrap_lseek(int fd, off_t off, int whence);
int __wrap_fstat(int fd, struct stat *st);
int __wrap_fsync(int fd);

int __wrap_memfd_create(const char *name, unsigned int flags) {
    COUNT_SYS(BW_MEMFD_CREATE);
    return __real_memfd_create(name, flags);
}
int __wrap_ftruncate(int fd, off_t len) {
    COUNT_SYS(BW_FTRUNCATE);
    return __real_ftruncate(fd, len);
}
int __wrap_fcntl(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    unsigned long arg = va_arg(ap, unsigned long); /* int or pointer; unused if none */
    va_end(ap);
    COUNT_SYS(BW_FCNTL);
    return __real_fcntl(fd, cmd, arg);
}
int __wrap_open(const char *path, int flags, ...) {
    mode_t mode = 0;
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    COUNT_SYS(BW_OPEN);
    return __real_open(path, flags, mode);
}
int __wrap_close(int fd) {
    COUNT_SYS(BW_CLOSE);
    forget_vcpu_fd(fd);
    return __real_close(fd);
}
ssize_t __wrap_read(int fd, void *buf, size_t n) {
    COUNT_SYS(BW_READ);
    ssize_t r = __real_read(fd, buf, n);
    if (r > 0 && on() && in_guest(buf, (size_t)r)) add(&c_copied_guest, (uint64_t)r);
    return r;
}
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off) {
    COUNT_SYS(BW_PWRITE);
    ssize_t r = __real_pwrite(fd, buf, n, off);
    if (r > 0 && on() && in_guest(buf, (size_t)r)) add(&c_copied_guest, (uint64_t)r);
    return r;
}
off_t __wrap_lseek(int fd, off_t off, int whence) {
    COUNT_SYS(BW_LSEEK);
    return __real_lseek(fd, off, whence);
}
int __wrap_fstat(int fd, struct stat *st) {
    COUNT_SYS(BW_FSTAT);
    return __real_fstat(fd, st);
}
int __wrap_fsync(int fd) {
    COUNT_SYS(BW_FSYNC);
    return __real_fsync(fd);
}

/* Timers and signals. */
int __real_timer_create(clockid_t clock, struct sigevent *sev, timer_t *t);
int __real_timer_settime(timer_t t, int flags, const struct itimerspec *its,
                         struct itimerspec *old);
int __real_timer_delete(timer_t t);
int __real_pthread_kill(pthread_t thread, int sig);
int __real_sigaction(int sig, const struct sigaction *sa, struct sigaction *old);
int __wrap_timer_create(clockid_t clock, struct sigevent *sev, timer_t *t);
int __wrap_timer_settime(timer_t t, int flags, const struct itimerspec *its,
                         struct itimerspec *old);
int __wrap_timer_delete(timer_t t);
int __wrap_pthread_kill(pthread_t thread, int sig);
int __wrap_sigaction(int sig, const struct sigaction *sa, struct sigaction *old);

int __wrap_timer_create(clockid_t clock, struct sigevent *sev, timer_t *t) {
    COUNT_SYS(BW_TIMER_CREATE);
    return __real_timer_create(clock, sev, t);
}
int __wrap_timer_settime(timer_t t, int flags, const struct itimerspec *its,
                         struct itimerspec *old) {
    COUNT_SYS(BW_TIMER_SETTIME);
    return __real_timer_settime(t, flags, its, old);
}
int __wrap_timer_delete(timer_t t) {
    COUNT_SYS(BW_TIMER_DELETE);
    return __real_timer_delete(t);
}
int __wrap_pthread_kill(pthread_t thread, int sig) {
    COUNT_SYS(BW_PTHREAD_KILL);
    return __real_pthread_kill(thread, sig);
}
int __wrap_sigaction(int sig, const struct sigaction *sa, struct sigaction *old) {
    COUNT_SYS(BW_SIGACTION);
    return __real_sigaction(sig, sa, old);
}

/* Entropy. */
ssize_t __real_getrandom(void *buf, size_t len, unsigned int flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags) {
    COUNT_SYS(BW_GETRANDOM);
    return __real_getrandom(buf, len, flags);
}
