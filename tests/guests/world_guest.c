/*
 * world_guest.c - the guest side of tests/kvm/test_world.c and
 * tests/kvm/test_nested.c: the clocks and the random numbers the runtime
 * offers (glint_guest.h, newlib's clock_gettime/gettimeofday/time,
 * getentropy, arc4random), and calls that nest through host functions.
 */
/* arc4random, getentropy (BSD) and CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME
 * (GNU) under -std=c11. */
#define _GNU_SOURCE 1

#include <glint_guest.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- Time ------------------------------------------------------------------ */

static uint64_t ts_ns(const struct timespec *ts) {
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static glint_status now_realtime(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc;
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        glint_set_error("clock_gettime(CLOCK_REALTIME): errno %d", errno);
        return GLINT_E_GUEST_ERROR;
    }
    *ret = glint_u64(ts_ns(&ts));
    return GLINT_OK;
}

static glint_status now_monotonic(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc;
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        glint_set_error("clock_gettime(CLOCK_MONOTONIC): errno %d", errno);
        return GLINT_E_GUEST_ERROR;
    }
    *ret = glint_u64(ts_ns(&ts));
    return GLINT_OK;
}

/* Busy-waits until CLOCK_MONOTONIC advanced by args[0] ns (at most 2^26
 * readings); returns how far it advanced, 0 if it never got there. */
static glint_status spin_monotonic(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const uint64_t start = glint_time_monotonic_ns();
    uint64_t now = start;
    for (uint32_t i = 0; i < (1u << 26) && now - start < args[0].as.u64; i++) {
        uint64_t next = glint_time_monotonic_ns();
        if (next < now) {
            glint_set_error("CLOCK_MONOTONIC went back from %llu to %llu", (unsigned long long)now,
                            (unsigned long long)next);
            return GLINT_E_GUEST_ERROR;
        }
        now = next;
    }
    *ret = glint_u64(now - start >= args[0].as.u64 ? now - start : 0);
    return GLINT_OK;
}

/* Every way newlib offers the time, as text: the test checks they agree. */
static char sources_text[256];

static glint_status time_sources(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc;
    struct timeval tv;
    struct timespec mono, raw, boot, res;
    int gtod = gettimeofday(&tv, NULL);
    time_t t = time(NULL);
    int m = clock_gettime(CLOCK_MONOTONIC, &mono);
    int r = clock_gettime(CLOCK_MONOTONIC_RAW, &raw);
    int b = clock_gettime(CLOCK_BOOTTIME, &boot);
    int g = clock_getres(CLOCK_REALTIME, &res);
    errno = 0;
    int bad = clock_gettime((clockid_t)99, &res);
    int bad_errno = errno;
    int cpu = clock_gettime((clockid_t)2 /* CLOCK_PROCESS_CPUTIME_ID */, &res);
    snprintf(sources_text, sizeof sources_text,
             "gtod=%d:%llu time=%lld mono=%d:%llu raw=%d:%llu boot=%d:%llu res=%d:%ld bad=%d:%d "
             "cpu=%d",
             gtod, (unsigned long long)tv.tv_sec * 1000000ull + (unsigned long long)tv.tv_usec,
             (long long)t, m, (unsigned long long)ts_ns(&mono), r, (unsigned long long)ts_ns(&raw),
             b, (unsigned long long)ts_ns(&boot), g, (long)res.tv_nsec, bad, bad_errno, cpu);
    *ret = glint_str(sources_text);
    return GLINT_OK;
}

/* The world page's generation and refresh count, as the guest reads them. */
static glint_status world_generation(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc;
    const glint_world *w = (const glint_world *)(uintptr_t)glint_get_peb()->world;
    *ret = glint_u64(w != NULL ? w->generation : 0);
    return GLINT_OK;
}

static glint_status world_flags(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc;
    const glint_world *w = (const glint_world *)(uintptr_t)glint_get_peb()->world;
    *ret = glint_u32(w != NULL ? w->flags : 0xFFFFFFFFu);
    return GLINT_OK;
}

/* ---- Randomness ------------------------------------------------------------------ */

static uint64_t drawn_at_init;

static glint_status random_u64(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc;
    *ret = glint_u64(glint_random_u64());
    return GLINT_OK;
}

static glint_status random_at_init(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc;
    *ret = glint_u64(drawn_at_init);
    return GLINT_OK;
}

static uint8_t bytes_buf[4096];

/* arc4random_buf(n). */
static glint_status random_bytes(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    uint32_t n = args[0].as.u32;
    if (n > sizeof bytes_buf) return GLINT_E_INVALID_ARGUMENT;
    arc4random_buf(bytes_buf, n);
    *ret = glint_bytes(bytes_buf, n);
    return GLINT_OK;
}

/* getentropy(n): the bytes, or an error naming errno. */
static glint_status entropy(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    uint32_t n = args[0].as.u32;
    if (n > sizeof bytes_buf) return GLINT_E_INVALID_ARGUMENT;
    errno = 0;
    if (getentropy(bytes_buf, n) != 0) {
        glint_set_error("getentropy(%u): errno %d", n, errno);
        return GLINT_E_GUEST_ERROR;
    }
    *ret = glint_bytes(bytes_buf, n);
    return GLINT_OK;
}

/* The largest of n draws of arc4random_uniform(bound) (must be < bound). */
static glint_status uniform_max(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    uint32_t max = 0;
    for (uint32_t i = 0; i < args[1].as.u32; i++) {
        uint32_t v = arc4random_uniform(args[0].as.u32);
        if (v > max) max = v;
    }
    *ret = glint_u32(max);
    return GLINT_OK;
}

/* ---- Nested calls ---------------------------------------------------------------- *
 * nest(level, action, tag): at level 0 does `action`; above, calls the host's
 * h_nest(level, action), which calls nest(level - 1, ...) in this sandbox.
 * Every level checks that its own tag argument (in the input buffer, below
 * the nested calls' messages) is intact after the host call, and adds 1 to
 * the result (the host adds 1 per level too). */

enum nest_action {
    NEST_RETURN = 0, /* return 1000 */
    NEST_ABORT = 1,
    NEST_FAULT = 2,
    NEST_SPIN = 3,       /* forever: for kill and deadline */
    NEST_ERROR = 4,      /* fail with GLINT_E_GUEST_ERROR */
    NEST_KEEP_ERROR = 5, /* like NEST_ERROR; every level above sets its own message first */
    NEST_RANDOM = 6,     /* return a random number */
};

static char expected_tag[64][48];

static void make_tag(char *buf, size_t size, int32_t level) {
    snprintf(buf, size, "level-%d-%08x", (int)level, (unsigned)(level * 2654435761u));
}

static glint_status nest(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    const int32_t level = args[0].as.i32, action = args[1].as.i32;
    const glint_value *tag = &args[2];
    if (level < 0 || level >= 64) return GLINT_E_INVALID_ARGUMENT;
    make_tag(expected_tag[level], sizeof expected_tag[level], level);
    if (strcmp(tag->as.str.ptr, expected_tag[level]) != 0) {
        glint_set_error("level %d got tag '%s'", (int)level, tag->as.str.ptr);
        return GLINT_E_GUEST_ERROR;
    }
    if (level == 0) {
        switch (action) {
        case NEST_RETURN: *ret = glint_i64(1000); return GLINT_OK;
        case NEST_ABORT: glint_abort(77, "abort at the bottom");
        case NEST_FAULT: __asm__ volatile("ud2"); break;
        case NEST_SPIN:
            for (;;) __asm__ volatile("pause");
        case NEST_ERROR:
        case NEST_KEEP_ERROR: glint_set_error("bottom failed"); return GLINT_E_GUEST_ERROR;
        case NEST_RANDOM: *ret = glint_i64((int64_t)(glint_random_u64() >> 2)); return GLINT_OK;
        default: *ret = glint_i64(1000); return GLINT_OK;
        }
        return GLINT_E_GUEST_ERROR; /* not reached: ud2 ends the guest */
    }
    if (action == NEST_KEEP_ERROR) glint_set_error("kept by level %d", (int)level);
    glint_value r;
    glint_status st =
        glint_call_host("h_nest", GLINT_TYPE_I64, &r, 2, glint_i32(level), glint_i32(action));
    /* The arguments of this call survived whatever ran above them. */
    if (strcmp(tag->as.str.ptr, expected_tag[level]) != 0 ||
        tag->as.str.len != strlen(expected_tag[level])) {
        glint_set_error("level %d: tag overwritten by the nested calls", (int)level);
        return GLINT_E_PROTOCOL;
    }
    if (st != GLINT_OK) {
        if (action != NEST_KEEP_ERROR)
            glint_set_error("level %d: host call failed: %s: %s", (int)level, glint_status_name(st),
                            glint_host_error());
        return st == GLINT_E_HOST_FUNCTION_ERROR ? GLINT_E_GUEST_ERROR : st;
    }
    *ret = glint_i64(r.as.i64 + 1);
    return GLINT_OK;
}

/* echo_nested(level, s): "<" x level, s, "!", ">" x level, each level's
 * text built from the string result of the nested call below it (which
 * the host passes on as its own string result). */
static char echo_buf[64][1024];

static glint_status echo_nested(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    int32_t level = args[0].as.i32;
    if (level < 0 || level >= 64) return GLINT_E_INVALID_ARGUMENT;
    if (level == 0) {
        snprintf(echo_buf[0], sizeof echo_buf[0], "%s!", args[1].as.str.ptr);
    } else {
        glint_value r;
        glint_status st =
            glint_call_host("h_echo", GLINT_TYPE_STRING, &r, 2, glint_i32(level), args[1]);
        if (st != GLINT_OK) {
            glint_set_error("level %d: %s", (int)level, glint_host_error());
            return st;
        }
        snprintf(echo_buf[level], sizeof echo_buf[level], "<%s>", r.as.str.ptr);
    }
    *ret = glint_str(echo_buf[level]);
    return GLINT_OK;
}

/* A host call to a host function that makes a nested call with the wrong
 * types; returns the status the host function saw (it returns it as i32). */
static glint_status nest_bad(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)args, (void)argc;
    glint_value r;
    glint_status st = glint_call_host("h_nest_bad", GLINT_TYPE_I32, &r, 0);
    *ret = glint_i32(st == GLINT_OK ? r.as.i32 : -(int32_t)st);
    return GLINT_OK;
}

static glint_status ping(const glint_value *args, uint32_t argc, glint_value *ret) {
    (void)argc;
    *ret = glint_i64(args[0].as.i64 + 1);
    return GLINT_OK;
}

void glint_main(void) {
    /* Drawn during initialisation: part of every snapshot taken later. */
    drawn_at_init = glint_random_u64();
    glint_register_function("now_realtime", now_realtime, GLINT_TYPE_U64, 0);
    glint_register_function("now_monotonic", now_monotonic, GLINT_TYPE_U64, 0);
    glint_register_function("spin_monotonic", spin_monotonic, GLINT_TYPE_U64, 1, GLINT_TYPE_U64);
    glint_register_function("time_sources", time_sources, GLINT_TYPE_STRING, 0);
    glint_register_function("world_generation", world_generation, GLINT_TYPE_U64, 0);
    glint_register_function("world_flags", world_flags, GLINT_TYPE_U32, 0);
    glint_register_function("random_u64", random_u64, GLINT_TYPE_U64, 0);
    glint_register_function("random_at_init", random_at_init, GLINT_TYPE_U64, 0);
    glint_register_function("random_bytes", random_bytes, GLINT_TYPE_BYTES, 1, GLINT_TYPE_U32);
    glint_register_function("entropy", entropy, GLINT_TYPE_BYTES, 1, GLINT_TYPE_U32);
    glint_register_function("uniform_max", uniform_max, GLINT_TYPE_U32, 2, GLINT_TYPE_U32,
                            GLINT_TYPE_U32);
    glint_register_function("nest", nest, GLINT_TYPE_I64, 3, GLINT_TYPE_I32, GLINT_TYPE_I32,
                            GLINT_TYPE_STRING);
    glint_register_function("echo_nested", echo_nested, GLINT_TYPE_STRING, 2, GLINT_TYPE_I32,
                            GLINT_TYPE_STRING);
    glint_register_function("nest_bad", nest_bad, GLINT_TYPE_I32, 0);
    glint_register_function("ping", ping, GLINT_TYPE_I64, 1, GLINT_TYPE_I64);
}
