/*
 * host_functions.c - the host-function registry: functions the embedder
 * registers for its guest to call (the calls themselves are dispatched by
 * sandbox_run.c).  Snapshots keep a copy; clones start from it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox_internal.h"

static bool name_valid(const char *name) {
    if (name == NULL || name[0] == '\0') return false;
    return strnlen(name, GLINT_MAX_NAME_LEN + 1) <= GLINT_MAX_NAME_LEN;
}

glint_host_function *glint_host_function_find(glint_host_function_table *t, const char *name,
                                              uint32_t name_len) {
    for (uint32_t i = 0; i < t->count; i++) {
        glint_host_function *f = &t->entries[i];
        if (strncmp(f->name, name, name_len) == 0 && f->name[name_len] == '\0') return f;
    }
    return NULL;
}

void glint_host_function_table_free(glint_host_function_table *t) {
    for (uint32_t i = 0; i < t->count; i++) free(t->entries[i].name);
    free(t->entries);
    memset(t, 0, sizeof *t);
}

glint_status glint_host_function_table_copy(glint_counters *c, glint_host_function_table *dst,
                                            const glint_host_function_table *src) {
    memset(dst, 0, sizeof *dst);
    if (src->count == 0) return GLINT_OK;
    dst->entries = glint_counted_calloc(c, src->count, sizeof *dst->entries);
    if (dst->entries == NULL) return GLINT_E_NO_MEMORY;
    dst->cap = src->count;
    for (uint32_t i = 0; i < src->count; i++) {
        dst->entries[i] = src->entries[i];
        dst->entries[i].name = glint_counted_strdup(c, src->entries[i].name);
        if (dst->entries[i].name == NULL) {
            glint_host_function_table_free(dst);
            return GLINT_E_NO_MEMORY;
        }
        dst->count = i + 1u;
    }
    return GLINT_OK;
}

glint_status glint_sandbox_register_host_function(glint_sandbox *sb, const char *name,
                                                  glint_type ret, const glint_type *params,
                                                  uint32_t argc, glint_host_fn fn, void *user) {
    if (sb == NULL) return GLINT_E_INVALID_ARGUMENT;
    glint_host_function_table *t = &sb->host_functions;
    if (sb->state != GLINT_STATE_CREATED && !(sb->cloned && !sb->called))
        return glint_sb_fail(sb, GLINT_E_STATE,
                             "host functions must be registered before initialisation (or, on a "
                             "sandbox made from a snapshot, before its first call)");
    if (!name_valid(name))
        return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT,
                             "host function name empty or longer than %u", GLINT_MAX_NAME_LEN);
    if (fn == NULL)
        return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "host function '%s' has no callback",
                             name);
    if (argc > GLINT_MAX_ARGS || (argc != 0 && params == NULL))
        return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "host function '%s': bad parameter list",
                             name);
    if (!glint_type_valid_return((int)ret))
        return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT, "host function '%s': bad return type %d",
                             name, (int)ret);
    for (uint32_t i = 0; i < argc; i++) {
        if (!glint_type_valid_param((int)params[i]))
            return glint_sb_fail(sb, GLINT_E_INVALID_ARGUMENT,
                                 "host function '%s': parameter %u has bad type %d", name, i,
                                 (int)params[i]);
    }
    if (glint_host_function_find(t, name, (uint32_t)strlen(name)) != NULL)
        return glint_sb_fail(sb, GLINT_E_EXISTS, "host function '%s' is already registered", name);
    if (t->count == GLINT_MAX_FUNCTIONS)
        return glint_sb_fail(sb, GLINT_E_TOO_BIG, "more than %u host functions",
                             GLINT_MAX_FUNCTIONS);
    if (t->count == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 8;
        glint_host_function *grown =
            glint_counted_realloc(&sb->counters, t->entries, cap * sizeof *grown);
        if (grown == NULL) return glint_sb_fail(sb, GLINT_E_NO_MEMORY, "out of memory");
        t->entries = grown;
        t->cap = cap;
    }
    glint_host_function *f = &t->entries[t->count];
    memset(f, 0, sizeof *f);
    f->name = glint_counted_strdup(&sb->counters, name);
    if (f->name == NULL) return glint_sb_fail(sb, GLINT_E_NO_MEMORY, "out of memory");
    f->ret = ret;
    f->argc = argc;
    if (argc != 0) memcpy(f->params, params, argc * sizeof *params);
    f->fn = fn;
    f->user = user;
    t->count++;
    return GLINT_OK;
}

void glint_host_call_set_error(glint_host_call *call, const char *fmt, ...) {
    if (call == NULL || fmt == NULL) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->message, sizeof call->message, fmt, ap);
    va_end(ap);
    call->has_message = true;
}

glint_sandbox *glint_host_call_sandbox(glint_host_call *call) {
    return call != NULL ? call->sandbox : NULL;
}
