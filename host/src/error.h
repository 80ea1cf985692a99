/* error.h - filling glint_error records.  All helpers accept err == NULL. */
#ifndef GLINT_ERROR_H
#define GLINT_ERROR_H

#include "glint/glint.h"

#include <stdarg.h>

void glint_error_clear(glint_error *err);
/* The one formatter behind every failure helper: clears err, sets code and
 * the message; returns code. */
glint_status glint_vfail(glint_error *err, glint_status code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Sets code and message (printf-style); returns code for `return fail(...)`. */
glint_status glint_fail(glint_error *err, glint_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, recording errnum and appending strerror(errnum). */
glint_status glint_fail_errno(glint_error *err, glint_status code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
