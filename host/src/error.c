/* Error records: bounded formatting, never allocates. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void glint_error_clear(glint_error *err) {
    if (err == NULL) return;
    memset(err, 0, sizeof *err);
}

glint_status glint_vfail(glint_error *err, glint_status code, const char *fmt, va_list ap) {
    if (err == NULL) return code;
    glint_error_clear(err);
    err->code = code;
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    if (n < 0) err->message[0] = '\0';
    return code;
}

glint_status glint_fail(glint_error *err, glint_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    glint_vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}

glint_status glint_fail_errno(glint_error *err, glint_status code, int errnum, const char *fmt,
                              ...) {
    if (err == NULL) return code;
    va_list ap;
    va_start(ap, fmt);
    glint_vfail(err, code, fmt, ap);
    va_end(ap);
    err->sys_errno = errnum;
    size_t used = strlen(err->message);
    char buf[128];
    /* GNU strerror_r returns the message pointer. */
    const char *text = strerror_r(errnum, buf, sizeof buf);
    snprintf(err->message + used, sizeof err->message - used, ": %s", text);
    return code;
}
