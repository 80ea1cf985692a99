/*
 * sys.c - the system calls newlib expects, implemented for a sandbox that has
 * a fixed heap, a console (stdout/stderr go to the host as PRINT messages)
 * and nothing else: no files, no processes.  (Time and entropy, which the
 * host provides through the world page, are world.c's.)
 *
 * This newlib is configured without "supplied syscalls" and with
 * MISSING_SYSCALL_NAMES, so it calls these plain POSIX names.
 */
/* All POSIX/BSD prototypes visible (the guest flags are strict -std=c11),
 * so the compiler checks these definitions against newlib's declarations. */
#define _DEFAULT_SOURCE 1

#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <unistd.h>

/* Descriptors 0, 1, 2 exist (stdin always at end of file); no others. */
#define STDIN_FD 0
#define STDOUT_FD 1
#define STDERR_FD 2
#define GUEST_PID 1

static bool is_console_fd(int fd) { return fd >= STDIN_FD && fd <= STDERR_FD; }

/* ---- Heap ------------------------------------------------------------------ */

/* sbrk hands out [heap_start, heap_end) from peb->heap and nothing more:
 * malloc returns NULL (errno ENOMEM) once it is used up. */
static uintptr_t heap_start;
static uintptr_t heap_end;
static uintptr_t heap_break;

void glint_rt_heap_init(uint64_t start, uint64_t size) {
    heap_start = (uintptr_t)start;
    heap_end = (uintptr_t)(start + size);
    heap_break = heap_start;
}

void *sbrk(ptrdiff_t increment) {
    const uintptr_t old_break = heap_break;
    /* Unsigned magnitudes, compared with the room left, so nothing wraps. */
    if (increment >= 0) {
        if ((uintptr_t)increment > heap_end - old_break) goto no_memory;
        heap_break = old_break + (uintptr_t)increment;
    } else {
        const uintptr_t decrement = (uintptr_t)0 - (uintptr_t)increment;
        if (decrement > old_break - heap_start) goto no_memory;
        heap_break = old_break - decrement;
    }
    return (void *)old_break;
no_memory:
    errno = ENOMEM;
    return (void *)-1;
}

/* ---- Console ------------------------------------------------------------------ */

/* A PRINT message is the header plus a u32 length before the data. */
#define PRINT_OVERHEAD (GLINT_MSG_HEADER_SIZE + 4u)

_READ_WRITE_RETURN_TYPE write(int fd, const void *buf, size_t count) {
    if (fd != STDOUT_FD && fd != STDERR_FD) {
        errno = EBADF;
        return -1;
    }
    if (count == 0) return 0;
    if (buf == NULL) {
        errno = EFAULT;
        return -1;
    }
    /* As many PRINT messages as needed, each as big as the output buffer
     * allows; the host pops each one during its exit. */
    const uint8_t *data = buf;
    size_t left = count;
    while (left > 0) {
        glint_writer w;
        if (!glint_rt_output_begin(&w) || w.cap <= PRINT_OVERHEAD) break;
        uint64_t chunk = w.cap - PRINT_OVERHEAD;
        if (chunk > left) chunk = left;
        if (chunk > UINT32_MAX) chunk = UINT32_MAX;
        if (!glint_rt_output_commit(glint_encode_print(&w, data, (uint32_t)chunk))) break;
        glint_rt_out(GLINT_PORT_PRINT);
        data += chunk;
        left -= chunk;
    }
    if (left == count) {
        errno = EIO; /* the output buffer is unusable */
        return -1;
    }
    return (_READ_WRITE_RETURN_TYPE)(count - left);
}

_READ_WRITE_RETURN_TYPE read(int fd, void *buf, size_t count) {
    (void)buf;
    (void)count;
    if (fd == STDIN_FD) return 0; /* end of file */
    errno = EBADF;
    return -1;
}

int close(int fd) {
    if (is_console_fd(fd)) return 0;
    errno = EBADF;
    return -1;
}

int fstat(int fd, struct stat *st) {
    if (!is_console_fd(fd)) {
        errno = EBADF;
        return -1;
    }
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFCHR; /* a character device: stdio line-buffers stdout */
    return 0;
}

int isatty(int fd) {
    if (is_console_fd(fd)) return 1;
    errno = EBADF;
    return 0;
}

off_t lseek(int fd, off_t offset, int whence) {
    (void)offset;
    (void)whence;
    errno = is_console_fd(fd) ? ESPIPE : EBADF;
    return -1;
}

/* ---- Process ---------------------------------------------------------------------- */

pid_t getpid(void) { return GUEST_PID; }

/* newlib's abort() is raise(SIGABRT), which ends in kill(getpid(), SIGABRT). */
int kill(pid_t pid, int sig) {
    if (pid != GUEST_PID && pid != 0 && pid != -1) {
        errno = ESRCH;
        return -1;
    }
    if (sig == 0) return 0; /* existence check */
    if (sig == SIGABRT) glint_abort(128 + SIGABRT, "abort() called");
    glint_abort(128 + sig, "killed by signal %d", sig);
}

void _exit(int status) { glint_abort(status, "guest exited with code %d", status); }

/* ---- Not available in a sandbox ------------------------------------------------------- *
 * Not required by the C library's core, but referenced by parts of it (fopen,
 * clock, remove, system, ...).  Defining them lets such code link; at
 * run time they fail with ENOSYS. */

int open(const char *path, int flags, ...) {
    (void)path;
    (void)flags;
    errno = ENOSYS;
    return -1;
}

int fcntl(int fd, int cmd, ...) {
    (void)cmd;
    errno = is_console_fd(fd) ? ENOSYS : EBADF;
    return -1;
}

int stat(const char *restrict path, struct stat *restrict st) {
    (void)path;
    (void)st;
    errno = ENOSYS;
    return -1;
}

int mkdir(const char *path, mode_t mode) {
    (void)path;
    (void)mode;
    errno = ENOSYS;
    return -1;
}

int link(const char *existing, const char *new_path) {
    (void)existing;
    (void)new_path;
    errno = ENOSYS;
    return -1;
}

int unlink(const char *path) {
    (void)path;
    errno = ENOSYS;
    return -1;
}

clock_t times(struct tms *buf) {
    (void)buf;
    errno = ENOSYS;
    return (clock_t)-1;
}

pid_t fork(void) {
    errno = ENOSYS;
    return -1;
}

int execve(const char *path, char *const argv[], char *const envp[]) {
    (void)path;
    (void)argv;
    (void)envp;
    errno = ENOSYS;
    return -1;
}

pid_t wait(int *status) {
    (void)status;
    errno = ENOSYS;
    return -1;
}
