/*
 * host.c - the host half of the out-of-tree example: loads the guest, gives
 * it the host function "scale", calls two guest functions and checks what
 * they return.
 *
 *   oot_host GUEST.elf
 *
 * Prints one line per call and exits 0 when both results are right, 1 when
 * anything fails.  Built against an installed Glint only (README.md).
 */
#include <glint/glint.h>

#include <stdio.h>
#include <string.h>

static int64_t factor = 1000; /* what scale() multiplies by */

static glint_status scale(glint_host_call *call, void *user, const glint_value *args, uint32_t argc,
                          glint_value *ret) {
    (void)call;
    (void)argc;
    const int64_t *by = user;
    ret->as.i64 = args[0].as.i64 * *by;
    return GLINT_OK;
}

static int fail(glint_sandbox *sb, const char *what) {
    const glint_error *e = glint_sandbox_last_error(sb);
    fprintf(stderr, "oot_host: %s failed: %s: %s\n", what, glint_status_name(e->code), e->message);
    glint_sandbox_destroy(sb);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s GUEST.elf\n", argv[0]);
        return 1;
    }
    glint_sandbox *sb;
    glint_error err;
    if (glint_sandbox_create(NULL, argv[1], &sb, &err) != GLINT_OK) {
        fprintf(stderr, "oot_host: cannot create a sandbox from %s: %s: %s\n", argv[1],
                glint_status_name(err.code), err.message);
        return 1;
    }
    static const glint_type one_i64[] = {GLINT_TYPE_I64};
    if (glint_sandbox_register_host_function(sb, "scale", GLINT_TYPE_I64, one_i64, 1, scale,
                                             &factor) != GLINT_OK)
        return fail(sb, "registering scale");
    if (glint_sandbox_initialize(sb) != GLINT_OK) return fail(sb, "initialisation");

    glint_value sum_args[] = {glint_i32(40), glint_i32(2)}, result;
    if (glint_sandbox_call(sb, "scaled_sum", GLINT_TYPE_I64, sum_args, 2, &result) != GLINT_OK)
        return fail(sb, "scaled_sum");
    printf("scaled_sum(40, 2) = %lld\n", (long long)result.as.i64);
    if (result.as.i64 != 42 * factor) {
        fprintf(stderr, "oot_host: scaled_sum returned %lld, expected %lld\n",
                (long long)result.as.i64, (long long)(42 * factor));
        glint_sandbox_destroy(sb);
        return 1;
    }

    glint_value greet_args[] = {glint_str("out of tree")};
    if (glint_sandbox_call(sb, "greet", GLINT_TYPE_STRING, greet_args, 1, &result) != GLINT_OK)
        return fail(sb, "greet");
    printf("greet(\"out of tree\") = \"%.*s\"\n", (int)result.as.str.len, result.as.str.ptr);
    static const char expected[] = "hello, out of tree";
    if (result.as.str.len != sizeof expected - 1u ||
        memcmp(result.as.str.ptr, expected, sizeof expected - 1u) != 0) {
        fprintf(stderr, "oot_host: greet returned the wrong string\n");
        glint_sandbox_destroy(sb);
        return 1;
    }
    glint_sandbox_destroy(sb);
    puts("oot_host: ok");
    return 0;
}
