/* fileio.h - whole-buffer file I/O that retries EINTR and short transfers. */
#ifndef GLINT_FILEIO_H
#define GLINT_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes all len bytes at off; false with errno set on failure (errno EIO
 * when the file stopped growing without an error). */
bool glint_pwrite_all(int fd, const void *buf, size_t len, off_t off);
/* Reads exactly len bytes from the current position; false on error or EOF
 * (errno 0 at EOF). */
bool glint_read_all(int fd, void *buf, size_t len);

#endif
