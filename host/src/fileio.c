#include "fileio.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

bool glint_pwrite_all(int fd, const void *buf, size_t len, off_t off) {
    const uint8_t *p = buf;
    while (len != 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            return false;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return true;
}

bool glint_read_all(int fd, void *buf, size_t len) {
    uint8_t *p = buf;
    while (len != 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = 0;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}
