/*
 * log.c - structured log records sent to the host (GLINT_PORT_LOG).
 */
#include "runtime.h"

#include <string.h>

/* Long __FILE__ paths are cut to their last bytes, the informative part. */
#define LOG_FILE_MAX 256u

void glint_log(glint_log_level level, const char *file, uint32_t line, const char *fmt, ...) {
    /* GLINT_LOG_OFF and beyond are thresholds, not record levels. */
    if ((unsigned)level >= (unsigned)GLINT_LOG_OFF) return;
    /* Read live: the host may change the level between calls.  Filtering
     * here saves an exit per suppressed record. */
    const glint_peb *peb = glint_rt_layout.peb;
    if (peb != NULL && (uint32_t)level < peb->log_level) return;

    char message[GLINT_LOG_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    const uint32_t message_len = glint_rt_vformat(message, sizeof message, fmt, ap);
    va_end(ap);

    if (file == NULL) file = "";
    size_t file_len = strlen(file);
    if (file_len > LOG_FILE_MAX) {
        file += file_len - LOG_FILE_MAX;
        file_len = LOG_FILE_MAX;
    }

    glint_writer w;
    if (!glint_rt_output_begin(&w)) return;
    /* A record that does not fit is dropped: logging never fails a call. */
    if (!glint_rt_output_commit(glint_encode_log(&w, (uint32_t)level, line, file,
                                                 (uint32_t)file_len, message, message_len)))
        return;
    glint_rt_out(GLINT_PORT_LOG);
}
