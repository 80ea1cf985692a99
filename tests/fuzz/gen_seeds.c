/*
 * Writes the seed corpora of the wire and stack fuzz targets: one file per
 * well-formed message kind and type (corpus/wire/) and output-buffer images
 * holding one to three messages (corpus/stack/).  Run by
 * `tests/fuzz/run.sh --regen-seeds`; the results are checked in.
 *   gen_seeds WIRE_DIR STACK_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glint/wire.h"

static const char *wire_dir, *stack_dir;

static void save(const char *dir, const char *name, const void *p, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static uint8_t msgs[24][4096];
static uint64_t lens[24];
static int nmsgs;

/* Saves the message in w as a wire seed and remembers it for stacks. */
static void keep(const char *name, glint_writer *w, uint64_t n) {
    if (n == 0) {
        fprintf(stderr, "encoding %s failed\n", name);
        exit(1);
    }
    save(wire_dir, name, w->buf, n);
    if (nmsgs < 24) {
        memcpy(msgs[nmsgs], w->buf, n);
        lens[nmsgs++] = n;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    wire_dir = argv[1];
    stack_dir = argv[2];
    static uint8_t buf[4096];
    glint_writer w;
    const uint8_t raw[] = {0, 1, 2, 0xFF, 0};
    glint_value all[] = {glint_i32(-5),         glint_u32(7),      glint_i64(-1),
                         glint_u64(UINT64_MAX), glint_f32(1.5f),   glint_f64(-0.25),
                         glint_bool(true),      glint_str("text"), glint_bytes(raw, sizeof raw)};
    glint_writer_init(&w, buf, sizeof buf);
    keep("call_all_types", &w, glint_encode_call(&w, "function_name", GLINT_TYPE_STRING, all, 9));
    glint_writer_init(&w, buf, sizeof buf);
    keep("call_no_args", &w, glint_encode_call(&w, "f", GLINT_TYPE_VOID, NULL, 0));
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "result_%s", glint_type_name((int)all[i].type));
        glint_writer_init(&w, buf, sizeof buf);
        keep(name, &w, glint_encode_result(&w, &all[i]));
    }
    glint_value v = glint_void();
    glint_writer_init(&w, buf, sizeof buf);
    keep("result_void", &w, glint_encode_result(&w, &v));
    glint_writer_init(&w, buf, sizeof buf);
    keep("error", &w, glint_encode_error(&w, 24, "something failed", 16));
    glint_writer_init(&w, buf, sizeof buf);
    keep("log", &w, glint_encode_log(&w, GLINT_LOG_WARN, 42, "file.c", 6, "a message", 9));
    glint_writer_init(&w, buf, sizeof buf);
    keep("print", &w, glint_encode_print(&w, "hello\n", 6));
    glint_writer_init(&w, buf, sizeof buf);
    keep("abort", &w, glint_encode_abort(&w, 134, "abort() called", 14));
    glint_writer_init(&w, buf, sizeof buf);
    glint_msg_begin(&w, GLINT_MSG_FUNCTIONS);
    glint_put_u32(&w, 3);
    const glint_type p2[] = {GLINT_TYPE_I32, GLINT_TYPE_BYTES};
    glint_put_function(&w, "add", GLINT_TYPE_I32, p2, 2);
    glint_put_function(&w, "void_fn", GLINT_TYPE_VOID, NULL, 0);
    glint_put_function(&w, "s", GLINT_TYPE_STRING, p2 + 1, 1);
    keep("functions", &w, glint_msg_end(&w));

    /* Output-buffer images: stacks of 1..3 messages in 4 KiB and 8 KiB. */
    static uint8_t stack[8192];
    const struct {
        const char *name;
        int first, count;
        size_t cap;
    } images[] = {
        {"one_result", 3, 1, 4096}, {"log_then_print", 13, 2, 4096},
        {"three", 0, 3, 8192},      {"functions", 17, 1, 4096},
        {"empty", 0, 0, 64},
    };
    for (size_t i = 0; i < sizeof images / sizeof images[0]; i++) {
        memset(stack, 0, sizeof stack);
        glint_stack_init(stack, images[i].cap);
        for (int m = images[i].first; m < images[i].first + images[i].count && m < nmsgs; m++) {
            uint8_t *slot;
            uint64_t avail;
            if (glint_stack_reserve(stack, images[i].cap, &slot, &avail) != 0 || lens[m] > avail)
                break;
            memcpy(slot, msgs[m], lens[m]);
            glint_stack_commit(stack, images[i].cap, lens[m]);
        }
        save(stack_dir, images[i].name, stack, images[i].cap);
    }
    return 0;
}
