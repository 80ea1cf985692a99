/*
 * glint - command-line front end to libglint.
 *
 *   glint call [OPTIONS] GUEST.elf FUNCTION [ARGS...]
 *   glint inspect [OPTIONS] GUEST.elf
 *   glint doctor [--brief]
 *
 * Arguments are parsed according to the function's declared signature, which
 * the guest reports at initialisation.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glint/abi.h"
#include "glint/glint.h"

static void usage(FILE *f) {
    fputs("usage:\n"
          "  glint call [OPTIONS] GUEST.elf FUNCTION [ARGS...]\n"
          "  glint inspect [OPTIONS] GUEST.elf\n"
          "  glint doctor [--brief]   what /dev/kvm is here and whether guests run on it\n"
          "                           (exit 0: they run; 2: no usable /dev/kvm; 3: KVM but\n"
          "                           guests do not run)\n"
          "options:\n"
          "  --heap BYTES         guest heap size (default 131072)\n"
          "  --scratch BYTES      scratch region size (default 294912)\n"
          "  --input BYTES        input buffer size (default 16384)\n"
          "  --output BYTES       output buffer size (default 16384)\n"
          "  --deadline-ms MS     per-call deadline (default none)\n"
          "  --log-level LEVEL    trace|debug|info|warn|error|off (default info)\n"
          "  --gdb PORT           call: wait for gdb on 127.0.0.1:PORT (0: any free port)\n"
          "                       before the guest's first instruction (docs/debugging.md)\n"
          "  --core-dir DIR       write an ELF core file of a crashed guest into DIR\n"
          "bytes arguments and results are written in hex.\n",
          f);
}

static const char *level_names[] = {"trace", "debug", "info", "warn", "error", "off"};

static void print_to_stdout(void *user, const char *data, size_t len) {
    (void)user;
    fwrite(data, 1, len, stdout);
    fflush(stdout);
}

static void log_to_stderr(void *user, glint_log_level level, const char *file, uint32_t line,
                          const char *message, size_t len) {
    (void)user;
    fprintf(stderr, "[guest %s] %s:%u: %.*s\n", level_names[level], file, line, (int)len, message);
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    if (s == NULL || *s == '\0' || *s == '-') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0') return -1;
    *out = v;
    return 0;
}

static int parse_i64(const char *s, int64_t *out) {
    char *end;
    if (s == NULL || *s == '\0') return -1;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno != 0 || *end != '\0') return -1;
    *out = v;
    return 0;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses one argument; bytes are decoded into storage (caller frees). */
static int parse_arg(const char *text, glint_type type, glint_value *v, uint8_t **storage) {
    uint64_t u;
    int64_t i;
    char *end;
    v->type = type;
    switch (type) {
    case GLINT_TYPE_I32:
        if (parse_i64(text, &i) != 0 || i < INT32_MIN || i > INT32_MAX) return -1;
        v->as.i32 = (int32_t)i;
        return 0;
    case GLINT_TYPE_U32:
        if (parse_u64(text, &u) != 0 || u > UINT32_MAX) return -1;
        v->as.u32 = (uint32_t)u;
        return 0;
    case GLINT_TYPE_I64: return parse_i64(text, &v->as.i64);
    case GLINT_TYPE_U64: return parse_u64(text, &v->as.u64);
    case GLINT_TYPE_F32:
        errno = 0;
        v->as.f32 = strtof(text, &end);
        return (errno != 0 || *end != '\0' || end == text) ? -1 : 0;
    case GLINT_TYPE_F64:
        errno = 0;
        v->as.f64 = strtod(text, &end);
        return (errno != 0 || *end != '\0' || end == text) ? -1 : 0;
    case GLINT_TYPE_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
            v->as.b = true;
        else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
            v->as.b = false;
        else
            return -1;
        return 0;
    case GLINT_TYPE_STRING: *v = glint_str(text); return 0;
    case GLINT_TYPE_BYTES: {
        size_t n = strlen(text);
        if (n % 2 != 0) return -1;
        *storage = malloc(n / 2 + 1);
        if (*storage == NULL) return -1;
        for (size_t k = 0; k < n / 2; k++) {
            int hi = hex_digit(text[2 * k]), lo = hex_digit(text[2 * k + 1]);
            if (hi < 0 || lo < 0) return -1;
            (*storage)[k] = (uint8_t)(hi << 4 | lo);
        }
        *v = glint_bytes(*storage, (uint32_t)(n / 2));
        return 0;
    }
    case GLINT_TYPE_VOID: return -1;
    }
    return -1;
}

static void print_value(const glint_value *v) {
    switch (v->type) {
    case GLINT_TYPE_VOID: break;
    case GLINT_TYPE_I32: printf("%" PRId32 "\n", v->as.i32); break;
    case GLINT_TYPE_U32: printf("%" PRIu32 "\n", v->as.u32); break;
    case GLINT_TYPE_I64: printf("%" PRId64 "\n", v->as.i64); break;
    case GLINT_TYPE_U64: printf("%" PRIu64 "\n", v->as.u64); break;
    case GLINT_TYPE_F32: printf("%.9g\n", (double)v->as.f32); break;
    case GLINT_TYPE_F64: printf("%.17g\n", v->as.f64); break;
    case GLINT_TYPE_BOOL: printf("%s\n", v->as.b ? "true" : "false"); break;
    case GLINT_TYPE_STRING: printf("%.*s\n", (int)v->as.str.len, v->as.str.ptr); break;
    case GLINT_TYPE_BYTES:
        for (uint32_t k = 0; k < v->as.bytes.len; k++)
            printf("%02x", ((const uint8_t *)v->as.bytes.ptr)[k]);
        printf("\n");
        break;
    }
}

static void print_signature(const glint_function_info *f) {
    printf("  %s(", f->name);
    for (uint32_t k = 0; k < f->argc; k++)
        printf("%s%s", k ? ", " : "", glint_type_name((int)f->params[k]));
    printf(") -> %s\n", glint_type_name((int)f->ret));
}

static void print_layout(const glint_sandbox *sb) {
    glint_layout_info l;
    glint_sandbox_layout(sb, &l);
    printf("memory layout (guest-physical):\n");
#define ROW(label, gpa, size)                                                                      \
    printf("  %-18s 0x%012" PRIx64 " - 0x%012" PRIx64 "  %10" PRIu64 " bytes\n", label,            \
           (uint64_t)(gpa), (uint64_t)(gpa) + (uint64_t)(size), (uint64_t)(size))
    printf(" snapshot region\n");
    ROW("null guard", 0, GLINT_BASE_ADDRESS);
    ROW("guest code", l.code_gpa, l.code_size);
    ROW("PEB + mappings", l.peb_gpa, GLINT_PAGE_SIZE);
    ROW("CPU tables", l.cpu_tables_gpa, GLINT_PAGE_SIZE);
    ROW("exception code", l.exception_code_gpa, GLINT_PAGE_SIZE);
    ROW("heap", l.heap_gpa, l.heap_size);
    ROW("init data", l.init_data_gpa, l.init_data_size);
    ROW("page tables", l.page_tables_gpa, l.page_tables_size);
    printf(" world page (host memory, read-only: clock and entropy)\n");
    ROW("world page", GLINT_WORLD_GPA(l.scratch_gpa), GLINT_WORLD_SIZE);
    printf(" scratch region\n");
    ROW("input buffer", l.input_gpa, l.input_size);
    ROW("output buffer", l.output_gpa, l.output_size);
    ROW("stack guard", l.stack_gpa - GLINT_PAGE_SIZE, GLINT_PAGE_SIZE);
    ROW("stack", l.stack_gpa, l.stack_size);
    ROW("exc. stack guard", l.exception_stack_gpa - GLINT_PAGE_SIZE, GLINT_PAGE_SIZE);
    ROW("exception stack", l.exception_stack_gpa, l.exception_stack_size);
    ROW("metadata", l.metadata_gpa, GLINT_METADATA_SIZE);
#undef ROW
    printf("  entry point        0x%012" PRIx64 "\n", l.entry_gpa);
    printf("  total guest memory %" PRIu64 " bytes (snapshot %" PRIu64 " + scratch %" PRIu64 ")\n",
           l.total_size, l.snapshot_size, l.scratch_size);
}

static void report_error(const char *what, glint_status st, const glint_error *e) {
    fprintf(stderr, "glint: %s failed: %s (%s)\n", what,
            e->message[0] ? e->message : glint_status_describe(st), glint_status_name(st));
}

/* glint doctor: the hypervisor probe, for people and for scripts (the exit
 * status says whether guests run; --brief prints one line). */
static int doctor(bool brief) {
    glint_hypervisor_info hi;
    glint_hypervisor_probe(&hi, true);
    const int rc = hi.guests_run ? 0 : hi.device_opens ? 3 : 2;
    char where[64] = "";
    if (hi.nested)
        snprintf(where, sizeof where, ", nested under %s",
                 hi.outer_hypervisor[0] ? hi.outer_hypervisor : "a hypervisor");
    if (brief) {
        printf("kvm %s%s: %s\n", glint_hypervisor_kind_name(hi.kind), where,
               hi.guests_run ? "guests run" : hi.message);
        return rc;
    }
    printf("/dev/kvm:      %s\n", !hi.device_exists ? "missing"
                                  : hi.device_opens ? "present, opens read/write"
                                                    : "present, does not open");
    if (!hi.device_opens) {
        printf("               %s\n", hi.message);
        return rc;
    }
    printf("KVM API:       %d\n", hi.api_version);
    printf("kind:          %s", glint_hypervisor_kind_name(hi.kind));
    if (hi.kind_source[0]) printf(" (from %s)", hi.kind_source);
    switch (hi.kind) {
    case GLINT_HYPERVISOR_PVM:
        printf(": paravirtual; CPL-3 guest code native, CPL-0 code emulated");
        break;
    case GLINT_HYPERVISOR_VMX:
    case GLINT_HYPERVISOR_SVM: printf(": hardware virtualisation"); break;
    default: break;
    }
    printf("\nhost:          %s\n", hi.nested ? where + 2 : "not itself a guest (bare metal)");
    printf("capabilities:\n");
    for (uint32_t i = 0; i < hi.cap_count; i++)
        printf("  %-34s %-3s %s%s\n", hi.caps[i].name, hi.caps[i].present ? "yes" : "NO",
               hi.caps[i].required ? "(required) " : "", hi.caps[i].use);
    printf("probe guest:   %s\n", hi.message);
    return rc;
}

int main(int argc, char **argv) {
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.print_fn = print_to_stdout;
    cfg.log_fn = log_to_stderr;
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("glint %s\n", GLINT_VERSION_STRING); /* from project(VERSION) via CMake */
        return 0;
    }
    if (strcmp(cmd, "doctor") == 0) {
        bool brief = argc == 3 && strcmp(argv[2], "--brief") == 0;
        if (argc > 3 || (argc == 3 && !brief)) {
            usage(stderr);
            return 1;
        }
        return doctor(brief);
    }
    int ai = 2;
    long gdb_port = -1;
    for (; ai < argc && strncmp(argv[ai], "--", 2) == 0; ai += 2) {
        const char *opt = argv[ai], *val = ai + 1 < argc ? argv[ai + 1] : NULL;
        uint64_t n;
        if (val == NULL) {
            fprintf(stderr, "glint: option %s needs a value\n", opt);
            return 1;
        }
        if (strcmp(opt, "--core-dir") == 0) {
            cfg.core_dir = val;
            continue;
        }
        if (strcmp(opt, "--log-level") == 0) {
            int found = -1;
            for (int k = 0; k <= GLINT_LOG_OFF; k++)
                if (strcmp(val, level_names[k]) == 0) found = k;
            if (found < 0) {
                fprintf(stderr, "glint: unknown log level '%s'\n", val);
                return 1;
            }
            cfg.log_level = (glint_log_level)found;
            continue;
        }
        if (parse_u64(val, &n) != 0) {
            fprintf(stderr, "glint: option %s needs a number, got '%s'\n", opt, val);
            return 1;
        }
        if (strcmp(opt, "--heap") == 0)
            cfg.heap_size = n;
        else if (strcmp(opt, "--scratch") == 0)
            cfg.scratch_size = n;
        else if (strcmp(opt, "--input") == 0)
            cfg.input_size = n;
        else if (strcmp(opt, "--output") == 0)
            cfg.output_size = n;
        else if (strcmp(opt, "--deadline-ms") == 0)
            cfg.call_deadline_ns = n * 1000000ull;
        else if (strcmp(opt, "--gdb") == 0) {
            if (n > 65535) {
                fprintf(stderr, "glint: --gdb port %s is not 0..65535\n", val);
                return 1;
            }
            gdb_port = (long)n;
        } else {
            fprintf(stderr, "glint: unknown option %s\n", opt);
            usage(stderr);
            return 1;
        }
    }
    bool is_call = strcmp(cmd, "call") == 0, is_inspect = strcmp(cmd, "inspect") == 0;
    if ((!is_call && !is_inspect) || ai >= argc || (is_call && ai + 1 >= argc)) {
        usage(stderr);
        return 1;
    }
    const char *path = argv[ai];
    glint_sandbox *sb = NULL;
    glint_error err;
    glint_status st = glint_sandbox_create(&cfg, path, &sb, &err);
    if (st != GLINT_OK) {
        report_error("create", st, &err);
        return 2;
    }
    if (gdb_port >= 0) {
        if (!is_call) {
            fprintf(stderr, "glint: --gdb is for glint call\n");
            glint_sandbox_destroy(sb);
            return 1;
        }
        uint16_t port = 0;
        st = glint_sandbox_debug_listen(sb, NULL, (uint16_t)gdb_port, &port);
        if (st != GLINT_OK) {
            report_error("listening for gdb", st, glint_sandbox_last_error(sb));
            glint_sandbox_destroy(sb);
            return 2;
        }
        /* One line, flushed: scripts wait for it to learn the port. */
        fprintf(stderr,
                "glint: waiting for gdb on 127.0.0.1:%u before the guest's first instruction: "
                "gdb %s -ex 'target remote 127.0.0.1:%u'\n",
                port, path, port);
        fflush(stderr);
    }
    st = glint_sandbox_initialize(sb);
    if (st != GLINT_OK) {
        report_error("initialise", st, glint_sandbox_last_error(sb));
        glint_sandbox_destroy(sb);
        return 2;
    }
    int rc = 0;
    if (is_inspect) {
        printf("guest %s\n", path);
        print_layout(sb);
        printf("guest functions (%u):\n", glint_sandbox_function_count(sb));
        for (uint32_t k = 0; k < glint_sandbox_function_count(sb); k++)
            print_signature(glint_sandbox_function(sb, k));
    } else {
        const char *fname = argv[ai + 1];
        const glint_function_info *f = glint_sandbox_find_function(sb, fname);
        uint32_t nargs = (uint32_t)(argc - ai - 2);
        glint_value args[GLINT_MAX_ARGS];
        uint8_t *storage[GLINT_MAX_ARGS] = {0};
        if (f == NULL) {
            fprintf(stderr, "glint: guest has no function '%s'\n", fname);
            rc = 2;
        } else if (nargs != f->argc) {
            fprintf(stderr, "glint: '%s' takes %u arguments, %u given; signature:\n", fname,
                    f->argc, nargs);
            print_signature(f);
            rc = 1;
        } else {
            for (uint32_t k = 0; k < nargs && rc == 0; k++) {
                if (parse_arg(argv[ai + 2 + k], f->params[k], &args[k], &storage[k]) != 0) {
                    fprintf(stderr, "glint: argument %u ('%s') is not a valid %s\n", k + 1,
                            argv[ai + 2 + k], glint_type_name((int)f->params[k]));
                    rc = 1;
                }
            }
            if (rc == 0) {
                glint_value result;
                st = glint_sandbox_call(sb, fname, f->ret, args, nargs, &result);
                if (st != GLINT_OK) {
                    report_error("call", st, glint_sandbox_last_error(sb));
                    rc = 2;
                } else {
                    print_value(&result);
                }
            }
        }
        for (uint32_t k = 0; k < GLINT_MAX_ARGS; k++) free(storage[k]);
    }
    glint_sandbox_destroy(sb);
    return rc;
}
