/*
 * guest.c - the guest half of the out-of-tree example (oot_guest.elf).
 *
 *   scaled_sum(a: i32, b: i32) -> i64   (a + b) times the host's factor, asked
 *                                      of the host function "scale"
 *   greet(name: string) -> string      "hello, NAME", formatted with newlib
 *
 * Built from an installed Glint only: by glint_add_guest() after
 * find_package(Glint) (../CMakeLists.txt), or as a project of its own with
 * the installed toolchain file (CMakeLists.txt here).
 */
#include <glint_guest.h>

#include <stdio.h>

static glint_status scaled_sum(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    glint_value scaled;
    /* Widened before adding: i32 + i32 can overflow, the i64 sum cannot. */
    int64_t sum = (int64_t)args[0].as.i32 + (int64_t)args[1].as.i32;
    glint_status st = glint_call_host("scale", GLINT_TYPE_I64, &scaled, 1, glint_i64(sum));
    if (st != GLINT_OK) {
        glint_set_error("scale failed: %s", glint_host_error());
        return st;
    }
    *ret = glint_i64(scaled.as.i64);
    return GLINT_OK;
}

static char greeting[128];

static glint_status greet(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    /* The result is copied to the host when greet returns, so a static
     * buffer outlives it long enough. */
    snprintf(greeting, sizeof greeting, "hello, %.*s", (int)args[0].as.str.len, args[0].as.str.ptr);
    *ret = glint_str(greeting);
    return GLINT_OK;
}

void glint_main(void) {
    glint_register_function("scaled_sum", scaled_sum, GLINT_TYPE_I64, 2, GLINT_TYPE_I32,
                            GLINT_TYPE_I32);
    glint_register_function("greet", greet, GLINT_TYPE_STRING, 1, GLINT_TYPE_STRING);
}
