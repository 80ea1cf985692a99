/*
 * test_debug - debugging guests like programs (docs/debugging.md), on the
 * KVM the test runs on, with Debian's gdb in batch mode against the stub:
 *
 *   break on a guest function, continue, bt, info registers rip, print a
 *   global, stepi, finish to the result, detach; a fault stops gdb with
 *   SIGSEGV and a backtrace; Ctrl-C (SIGINT to gdb) stops a spinning
 *   guest, kill ends it; a stopped guest's deadline does not run, a running
 *   one's does (SIGXCPU); hardware breakpoints where the hypervisor has
 *   them (elsewhere: a clear refusal, and the part is skipped with a note);
 *   hostile stub input over a raw socket (malformed packets, huge lengths,
 *   unmapped memory, random packets) is answered with errors and the
 *   session still works;
 *   ELF core files of a fault, an abort and a deadline open in gdb with a
 *   backtrace naming the guest's functions;
 *   error messages name the functions, and hostile frame-pointer chains
 *   give a short backtrace, never a crash or a hang.
 *
 * Guest: tests/guests/debug_guest.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "glint/glint.h"
#include "hv.h"
#include "kvm_support.h"

#define GDB "/usr/bin/gdb"
#define GDB_TIMEOUT_S 300 /* gdb itself runs on the harness's software CPU */

extern char **environ;

static const char *guest;

/* ---- gdb in batch mode ------------------------------------------------------ */

typedef struct gdb_run {
    _Atomic pid_t pid; /* 0 once reaped */
    int status;
    char out[64];
} gdb_run;

/* gdb -batch, connected to port, running cmds (NULL-terminated) on elf;
 * extra: a core file instead of the connection. */
static void gdb_start(gdb_run *g, uint16_t port, const char *core, const char *const *cmds) {
    snprintf(g->out, sizeof g->out, "/tmp/glint-gdb-XXXXXX");
    int fd = mkstemp(g->out);
    assert_true(fd >= 0);
    char target[64];
    snprintf(target, sizeof target, "target remote 127.0.0.1:%u", port);
    const char *argv[64];
    int n = 0;
    argv[n++] = GDB;
    argv[n++] = "-nx";
    argv[n++] = "-batch";
    argv[n++] = "-iex";
    argv[n++] = "set debuginfod enabled off";
    argv[n++] = "-iex";
    argv[n++] = "set confirm off";
    if (core == NULL) {
        argv[n++] = "-ex";
        argv[n++] = target;
    }
    for (int i = 0; cmds[i] != NULL && n < 58; i++) {
        argv[n++] = "-ex";
        argv[n++] = cmds[i];
    }
    argv[n++] = guest;
    if (core != NULL) argv[n++] = core;
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, GDB, &fa, NULL, (char *const *)argv, environ), 0);
    g->pid = pid;
    posix_spawn_file_actions_destroy(&fa);
    close(fd);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return strdup("");
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}

/* Reaps gdb if it has ended; true then. */
static bool gdb_ended(gdb_run *g) {
    pid_t pid = g->pid;
    if (pid == 0) return true;
    if (waitpid(pid, &g->status, WNOHANG) != pid) return false;
    g->pid = 0;
    return true;
}

/* Waits for gdb (killing it after the timeout); returns its output. */
static char *gdb_finish(gdb_run *g) {
    for (int i = 0; i < GDB_TIMEOUT_S * 10 && !gdb_ended(g); i++) usleep(100000);
    if (g->pid != 0) {
        kill(g->pid, SIGKILL);
        waitpid(g->pid, &g->status, 0);
        g->pid = 0;
        print_error("gdb did not finish within %d s\n", GDB_TIMEOUT_S);
    }
    char *out = read_text(g->out);
    unlink(g->out);
    fprintf(stderr, "---- gdb output\n%s---- end of gdb output\n", out);
    return out;
}

static void expect(const char *out, const char *what) {
    if (strstr(out, what) == NULL) fail_msg("gdb output lacks \"%s\"", what);
}

/* One session: a sandbox waiting for gdb, gdb running cmds, then one call.
 * Returns gdb's output; *st and *result are the call's. */
typedef struct session {
    glint_config cfg;
    const char *fn;
    glint_value args[2];
    uint32_t argc;
    glint_type ret;
    glint_status st;
    glint_value result;
    char message[GLINT_ERROR_MESSAGE_SIZE];
    gdb_run gdb;
    bool interrupt;       /* send SIGINT to gdb once the guest runs the call */
    _Atomic bool calling; /* initialisation is over, the call began */
    _Atomic bool done;    /* the sandbox is finished */
    glint_sandbox *sb;
} session;

/* If gdb ends (or never connects) while the sandbox still waits for it,
 * the test must not hang: kill the run after a grace period. */
static void *watchdog(void *arg) {
    session *s = arg;
    int grace = -1;
    while (!s->done) {
        usleep(100000);
        if (grace < 0 && gdb_ended(&s->gdb)) grace = 100;
        if (grace > 0 && --grace == 0) {
            print_error("gdb ended, the sandbox still ran 10 s later: killing it\n");
            glint_sandbox_kill(s->sb);
            grace = 50;
        }
    }
    return NULL;
}

/* Ctrl-C: gdb turns SIGINT into an interrupt request to the stub. */
static void *interrupter(void *arg) {
    session *s = arg;
    while (!s->calling) usleep(10000);
    sleep(1);
    pid_t pid = s->gdb.pid;
    if (pid > 0) kill(pid, SIGINT); /* never kill(0, ...): that is our process group */
    return NULL;
}

/* host_relay(n): work(n) in the calling sandbox, nested. */
static glint_status host_relay(glint_host_call *call, void *user, const glint_value *args,
                               uint32_t argc, glint_value *ret) {
    (void)user, (void)argc;
    return glint_sandbox_call(glint_host_call_sandbox(call), "work", GLINT_TYPE_I32, args, 1, ret);
}

static char *run_session(session *s, const char *const *cmds) {
    glint_sandbox *sb;
    glint_error err;
    assert_int_equal(glint_sandbox_create(&s->cfg, guest, &sb, &err), GLINT_OK);
    static const glint_type one_i32[] = {GLINT_TYPE_I32};
    assert_int_equal(glint_sandbox_register_host_function(sb, "host_relay", GLINT_TYPE_I32, one_i32,
                                                          1, host_relay, NULL),
                     GLINT_OK);
    uint16_t port = 0;
    assert_int_equal(glint_sandbox_debug_listen(sb, NULL, 0, &port), GLINT_OK);
    assert_true(port != 0);
    gdb_start(&s->gdb, port, NULL, cmds);
    pthread_t t, w;
    s->sb = sb;
    assert_int_equal(pthread_create(&w, NULL, watchdog, s), 0);
    if (s->interrupt) assert_int_equal(pthread_create(&t, NULL, interrupter, s), 0);
    s->st = glint_sandbox_initialize(sb);
    s->calling = true;
    if (s->st == GLINT_OK)
        s->st = glint_sandbox_call(sb, s->fn, s->ret, s->args, s->argc, &s->result);
    snprintf(s->message, sizeof s->message, "%s", glint_sandbox_last_error(sb)->message);
    s->done = true;
    pthread_join(w, NULL);
    glint_sandbox_destroy(sb);
    if (s->interrupt) pthread_join(t, NULL);
    return gdb_finish(&s->gdb);
}

static void session_init(session *s, const char *fn, glint_type ret) {
    memset(s, 0, sizeof *s);
    glint_config_init(&s->cfg);
    s->fn = fn;
    s->ret = ret;
}

/* ---- Sessions ------------------------------------------------------------ */

static void test_break_step_finish(void **state) {
    (void)state;
    session s;
    session_init(&s, "work", GLINT_TYPE_I32);
    s.args[0] = glint_i32(21);
    s.argc = 1;
    static const char *const cmds[] = {"info registers rip",
                                       "break compute",
                                       "continue",
                                       "bt",
                                       "info registers rip",
                                       "print g_work_calls",
                                       "stepi",
                                       "info registers rip",
                                       "finish",
                                       "continue",
                                       NULL};
    char *out = run_session(&s, cmds);
    assert_int_equal(s.st, GLINT_OK);
    assert_int_equal(s.result.as.i32, 43);
    expect(out, "<_start>"); /* stopped before the first instruction */
    expect(out, "Breakpoint 1, compute (n=");
    expect(out, "21) at ");
    expect(out, "in work (");   /* bt: the caller */
    expect(out, "<compute>");   /* info registers rip at the breakpoint */
    expect(out, "$1 = 1");      /* the global */
    expect(out, "<compute+");   /* after stepi */
    expect(out, "work (args="); /* finish: back in the caller */
    expect(out, "Value returned is $2 = 43");
    expect(out, "exited normally");
    free(out);
}

/* A breakpoint in a nested call (guest -> host -> guest), stepped and
 * continued: the outer call completes. */
static void test_nested_call(void **state) {
    (void)state;
    session s;
    session_init(&s, "relay", GLINT_TYPE_I32);
    s.args[0] = glint_i32(7);
    s.argc = 1;
    static const char *const cmds[] = {"break compute",      "continue", "bt", "stepi",
                                       "info registers rip", "continue", NULL};
    char *out = run_session(&s, cmds);
    assert_int_equal(s.st, GLINT_OK);
    assert_int_equal(s.result.as.i32, 15);
    expect(out, "Breakpoint 1, compute (n=");
    expect(out, "glint_call_host (name=");
    expect(out, "in relay (");
    expect(out, "<compute+");
    expect(out, "exited normally");
    free(out);
}

static void test_fault_stop(void **state) {
    (void)state;
    session s;
    session_init(&s, "crash", GLINT_TYPE_I32);
    static const char *const cmds[] = {"continue", "bt", "info registers rip", "continue", NULL};
    char *out = run_session(&s, cmds);
    assert_int_equal(s.st, GLINT_E_GUEST_FAULT);
    expect(out, "Program received signal SIGSEGV");
    expect(out, "parse_header (packet=");
    expect(out, "in dispatch_packet (");
    expect(out, "<parse_header");
    expect(out, "Program terminated with signal SIGSEGV");
    assert_non_null(strstr(s.message, "parse_header+0x"));
    free(out);
}

static void test_interrupt_and_kill(void **state) {
    (void)state;
    session s;
    session_init(&s, "spin", GLINT_TYPE_VOID);
    s.interrupt = true;
    /* One continue: from the first instruction through initialisation into
     * the call, where Ctrl-C stops the spinning guest. */
    static const char *const cmds[] = {"continue",           "bt",   "stepi",
                                       "info registers rip", "kill", NULL};
    char *out = run_session(&s, cmds);
    assert_int_equal(s.st, GLINT_E_CANCELLED);
    assert_non_null(strstr(s.message, "killed by the debugger"));
    expect(out, "Program received signal SIGINT");
    expect(out, "spin_loop (");
    expect(out, "killed");
    free(out);
}

static void test_deadline(void **state) {
    (void)state;
    /* Held at a breakpoint for 3 s, with a 1 s deadline: the call succeeds. */
    session s;
    session_init(&s, "work", GLINT_TYPE_I32);
    s.cfg.call_deadline_ns = 1000000000ull;
    s.args[0] = glint_i32(1);
    s.argc = 1;
    static const char *const held[] = {"break compute", "continue", "shell sleep 3", "continue",
                                       NULL};
    char *out = run_session(&s, held);
    assert_int_equal(s.st, GLINT_OK);
    assert_int_equal(s.result.as.i32, 3);
    expect(out, "exited normally");
    free(out);
    /* Running, it still ends the call, and gdb sees where. */
    session_init(&s, "spin", GLINT_TYPE_VOID);
    s.cfg.call_deadline_ns = 300000000ull;
    static const char *const spin[] = {"continue", "bt", "continue", NULL};
    out = run_session(&s, spin);
    assert_int_equal(s.st, GLINT_E_DEADLINE);
    expect(out, "Program received signal SIGXCPU");
    expect(out, "spin_loop (");
    assert_non_null(strstr(s.message, "spin_loop+0x"));
    free(out);
}

static void test_detach(void **state) {
    (void)state;
    session s;
    session_init(&s, "work", GLINT_TYPE_I32);
    s.args[0] = glint_i32(5);
    s.argc = 1;
    static const char *const cmds[] = {"break compute", "continue", "detach", NULL};
    char *out = run_session(&s, cmds);
    assert_int_equal(s.st, GLINT_OK);
    assert_int_equal(s.result.as.i32, 11);
    expect(out, "Breakpoint 1, compute");
    expect(out, "detached");
    free(out);
}

static void test_hw_breakpoints(void **state) {
    (void)state;
    char why[256];
    bool hw = glint_hv_probe_hw_breakpoints(why, sizeof why);
    session s;
    session_init(&s, "work", GLINT_TYPE_I32);
    s.args[0] = glint_i32(2);
    s.argc = 1;
    static const char *const cmds[] = {"monitor info", "hbreak compute", "continue",
                                       "delete",       "continue",       NULL};
    char *out = run_session(&s, cmds);
    assert_int_equal(s.st, GLINT_OK);
    assert_int_equal(s.result.as.i32, 5);
    expect(out, "software breakpoints and single step: INT3 and the trap flag");
    if (hw) {
        expect(out, "hardware breakpoints and watchpoints: available");
        expect(out, "Breakpoint 1, compute");
    } else {
        /* The stub says so, and gdb refuses the breakpoint instead of
         * running over it silently. */
        expect(out, "hardware breakpoints and watchpoints: none");
        expect(out, "Could not insert hardware breakpoint");
        print_message("NOTE: hardware breakpoints are not available on this KVM (%s): the "
                      "hbreak part was checked for a clear refusal only\n",
                      why);
    }
    expect(out, "exited normally");
    free(out);
}

/* ---- Hostile input over a raw socket ------------------------------------------- */

typedef struct raw {
    int fd;
    uint16_t port;
    int errors, replies;
    char failure[256]; /* the client thread's verdict: cmocka asserts stay on the main thread */
} raw;

static __thread raw *raw_self;

/* Records the first failure and ends the client thread. */
static void raw_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void raw_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (raw_self->failure[0] == 0) vsnprintf(raw_self->failure, sizeof raw_self->failure, fmt, ap);
    va_end(ap);
    pthread_exit(NULL);
}

static void raw_send(int fd, const char *payload, size_t len) {
    char frame[40000];
    unsigned sum = 0;
    size_t n = 0;
    frame[n++] = '$';
    for (size_t i = 0; i < len && n < sizeof frame - 4; i++) {
        frame[n++] = payload[i];
        sum += (uint8_t)payload[i];
    }
    n += (size_t)snprintf(frame + n, 4, "#%02x", sum & 0xff);
    if (send(fd, frame, n, MSG_NOSIGNAL) != (ssize_t)n) raw_fail("send: %s", strerror(errno));
}

/* Reads one reply packet (skipping '+'); returns its payload. */
static char *raw_reply(int fd) {
    static char buf[70000];
    size_t n = 0;
    bool in = false;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 60000) <= 0) raw_fail("no reply from the stub");
        char c;
        if (recv(fd, &c, 1, 0) != 1) raw_fail("stub closed the connection");
        if (!in) {
            if (c == '$') in = true;
            continue;
        }
        if (c == '#') {
            char sum[2];
            if (recv(fd, sum, 2, MSG_WAITALL) != 2) raw_fail("cut reply");
            buf[n] = 0;
            return buf;
        }
        if (n < sizeof buf - 1) buf[n++] = c;
    }
}

static const char *ask(int fd, const char *payload) {
    raw_send(fd, payload, strlen(payload));
    return raw_reply(fd);
}

static void *hostile_client(void *arg) {
    raw *r = arg;
    raw_self = r;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(r->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) raw_fail("connect: %s", strerror(errno));
    r->fd = fd;
    /* Bad checksum, garbage, a cut packet, an overlong one: NAKs, no crash. */
    const char *junk = "$g#00xyz\x01\x02$m1000#zz}}}$";
    send(fd, junk, strlen(junk), MSG_NOSIGNAL);
    static char huge[20000];
    memset(huge, 'm', sizeof huge - 1);
    raw_send(fd, huge, sizeof huge - 1);
    /* Well-formed questions with hostile contents. */
    const char *const errors[] = {
        "m0,10",                /* the null guard page */
        "m0,ffffffffffffffff",  /* huge length at an unmapped address */
        "mfffffffffffffff0,20", /* wraps */
        "m10000000000000000,1", /* does not fit 64 bits */
        "mzz,10",               /* not hex */
        "m1000",                /* no length */
        "M0,4:00000000",        /* write to the guard page */
        "M1000,ffffffff:00",    /* length beyond the packet */
        "X0,1:\x01",            /* binary write, unmapped */
        "Gzz",                  /* registers: not hex */
        "G00",                  /* registers: too short... of a register */
        "P12=08000000",         /* cs: the host's */
        "P9999=00",             /* no such register */
        "pffffff",              /* no such register */
        "Z0,0,1",               /* breakpoint outside guest memory */
        "Z0,1000",              /* malformed */
        "qXfer:features:read:target.xml:ffffffff,10",
        "qRcmd,zz",
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        const char *rep = ask(fd, errors[i]);
        if (rep[0] != 'E') raw_fail("'%s' was answered '%.40s', not an error", errors[i], rep);
        r->errors++;
    }
    /* Huge lengths at a readable address are capped, not obeyed. */
    char q[64];
    snprintf(q, sizeof q, "m%x,ffffffffffffffff", 0x1000u);
    const char *rep = ask(fd, q);
    if (strlen(rep) == 0 || strlen(rep) > 16384) raw_fail("m with a huge length: %zu", strlen(rep));
    /* Random well-framed packets (no resume, detach, kill or writes). */
    static const char alphabet[] = "gpmZzqHT?:,;=0123456789abdefxyzr";
    unsigned seed = 4242;
    for (int i = 0; i < 2000; i++) {
        char p[48];
        size_t n = 1 + (seed >> 16) % 40;
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            p[k] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        seed = seed * 1103515245u + 12345u;
        if (strchr("cCsSDkvQXMGP", p[0]) != NULL) p[0] = 'q'; /* resume, end, write */
        raw_send(fd, p, n);
        raw_reply(fd);
        r->replies++;
    }
    /* Still a working stub: registers, memory, then detach. */
    rep = ask(fd, "g");
    if (strlen(rep) != 2 * 552) raw_fail("g after the storm: %zu digits", strlen(rep));
    rep = ask(fd, "D");
    if (strcmp(rep, "OK") != 0) raw_fail("D answered '%.40s'", rep);
    return NULL;
}

static void test_hostile_stub(void **state) {
    (void)state;
    glint_sandbox *sb;
    glint_error err;
    assert_int_equal(glint_sandbox_create(NULL, guest, &sb, &err), GLINT_OK);
    raw r = {0};
    assert_int_equal(glint_sandbox_debug_listen(sb, NULL, 0, &r.port), GLINT_OK);
    /* Not loopback, or twice: refused. */
    assert_int_equal(glint_sandbox_debug_listen(sb, "0.0.0.0", 0, NULL), GLINT_E_INVALID_ARGUMENT);
    assert_int_equal(glint_sandbox_debug_listen(sb, NULL, 0, NULL), GLINT_E_STATE);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hostile_client, &r), 0);
    glint_status st = glint_sandbox_initialize(sb);
    pthread_join(t, NULL);
    close(r.fd);
    if (r.failure[0] != 0) fail_msg("hostile client: %s", r.failure);
    assert_int_equal(st, GLINT_OK);
    glint_value args[] = {glint_i32(4)}, result;
    assert_int_equal(glint_sandbox_call(sb, "work", GLINT_TYPE_I32, args, 1, &result), GLINT_OK);
    assert_int_equal(result.as.i32, 9);
    print_message("hostile stub input: %d errors as expected, %d random packets answered\n",
                  r.errors, r.replies);
    glint_sandbox_destroy(sb);
}

/* A kill ends the wait for gdb. */
static void *killer(void *arg) {
    usleep(300000);
    glint_sandbox_kill(arg);
    return NULL;
}

static void test_kill_while_waiting(void **state) {
    (void)state;
    glint_sandbox *sb;
    glint_error err;
    assert_int_equal(glint_sandbox_create(NULL, guest, &sb, &err), GLINT_OK);
    assert_int_equal(glint_sandbox_debug_listen(sb, "::1", 0, NULL) == GLINT_OK ||
                         glint_sandbox_debug_listen(sb, NULL, 0, NULL) == GLINT_OK,
                     true);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, killer, sb), 0);
    assert_int_equal(glint_sandbox_initialize(sb), GLINT_E_CANCELLED);
    pthread_join(t, NULL);
    assert_non_null(strstr(glint_sandbox_last_error(sb)->message, "waiting for gdb"));
    glint_sandbox_destroy(sb);
}

/* ---- Core files and crash messages --------------------------------------------- */

static char core_dir[64];

static void newest_core(char *path, size_t size) {
    DIR *d = opendir(core_dir);
    assert_non_null(d);
    struct dirent *e;
    path[0] = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "core.", 5) != 0) continue;
        assert_null(strstr(e->d_name, ".tmp"));
        snprintf(path, size, "%s/%s", core_dir, e->d_name);
    }
    closedir(d);
    assert_true(path[0] != 0);
}

static void clean_cores(void) {
    DIR *d = opendir(core_dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", core_dir, e->d_name);
        unlink(p);
    }
    if (d != NULL) closedir(d);
}

/* Crashes fn with a core directory; returns gdb's output on the core. */
static char *crash_with_core(const char *fn, glint_type ret, uint64_t deadline_ns,
                             glint_status want) {
    clean_cores();
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.core_dir = core_dir;
    cfg.call_deadline_ns = deadline_ns;
    glint_sandbox *sb;
    glint_error err;
    assert_int_equal(glint_sandbox_create(&cfg, guest, &sb, &err), GLINT_OK);
    assert_int_equal(glint_sandbox_initialize(sb), GLINT_OK);
    glint_value result;
    assert_int_equal(glint_sandbox_call(sb, fn, ret, NULL, 0, &result), want);
    char msg[GLINT_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "%s", glint_sandbox_last_error(sb)->message);
    print_message("%s: %s\n", fn, msg);
    assert_non_null(strstr(msg, "; core dumped to "));
    glint_sandbox_destroy(sb);
    char core[512];
    newest_core(core, sizeof core);
    assert_non_null(strstr(msg, core));
    gdb_run g;
    static const char *const cmds[] = {"bt", "info registers rip", NULL};
    gdb_start(&g, 0, core, cmds);
    return gdb_finish(&g);
}

static void test_core_files(void **state) {
    (void)state;
    snprintf(core_dir, sizeof core_dir, "/tmp/glint-cores-XXXXXX");
    assert_non_null(mkdtemp(core_dir));
    char *out = crash_with_core("crash", GLINT_TYPE_I32, 0, GLINT_E_GUEST_FAULT);
    expect(out, "Program terminated with signal SIGSEGV");
    expect(out, "#0  ");
    expect(out, "parse_header (packet=");
    expect(out, "in dispatch_packet (");
    expect(out, "in crash (");
    free(out);
    out = crash_with_core("do_abort", GLINT_TYPE_VOID, 0, GLINT_E_GUEST_ABORT);
    expect(out, "Program terminated with signal SIGABRT");
    expect(out, "in do_abort (");
    free(out);
    out = crash_with_core("spin", GLINT_TYPE_VOID, 200000000ull, GLINT_E_DEADLINE);
    expect(out, "Program terminated with signal SIGXCPU");
    expect(out, "spin_loop (");
    free(out);
    clean_cores();
    rmdir(core_dir);
    /* A directory that does not exist: the error says so, nothing else changes. */
    glint_config cfg;
    glint_config_init(&cfg);
    cfg.core_dir = "/nonexistent/glint-cores";
    glint_sandbox *sb;
    glint_error err;
    assert_int_equal(glint_sandbox_create(&cfg, guest, &sb, &err), GLINT_OK);
    assert_int_equal(glint_sandbox_initialize(sb), GLINT_OK);
    assert_int_equal(glint_sandbox_call(sb, "crash", GLINT_TYPE_I32, NULL, 0, NULL),
                     GLINT_E_GUEST_FAULT);
    assert_non_null(strstr(glint_sandbox_last_error(sb)->message, "; no core file: "));
    glint_sandbox_destroy(sb);
}

static const char *crash_message(glint_sandbox *sb, const char *fn, glint_type ret,
                                 const glint_value *args, uint32_t argc, glint_status want) {
    glint_snapshot *snap;
    assert_int_equal(glint_sandbox_snapshot(sb, &snap), GLINT_OK);
    assert_int_equal(glint_sandbox_call(sb, fn, ret, args, argc, NULL), want);
    static char msg[GLINT_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "%s", glint_sandbox_last_error(sb)->message);
    print_message("%s: %s\n", fn, msg);
    assert_int_equal(glint_sandbox_restore(sb, snap), GLINT_OK);
    glint_snapshot_release(snap);
    return msg;
}

static void test_crash_messages(void **state) {
    (void)state;
    glint_sandbox *sb;
    glint_error err;
    assert_int_equal(glint_sandbox_create(NULL, guest, &sb, &err), GLINT_OK);
    assert_int_equal(glint_sandbox_initialize(sb), GLINT_OK);
    const char *m = crash_message(sb, "crash", GLINT_TYPE_I32, NULL, 0, GLINT_E_GUEST_FAULT);
    assert_non_null(strstr(m, "; backtrace: parse_header+0x"));
    assert_non_null(strstr(m, " <- dispatch_packet+0x"));
    assert_non_null(strstr(m, " <- crash+0x"));
    /* Hostile chains: short, marked, no crash, no hang. */
    m = crash_message(sb, "crash_wild_fp", GLINT_TYPE_VOID, NULL, 0, GLINT_E_GUEST_FAULT);
    assert_non_null(strstr(m, "; backtrace: crash_wild_fp+0x"));
    assert_non_null(strstr(m, " <- ..."));
    m = crash_message(sb, "crash_loop_fp", GLINT_TYPE_VOID, NULL, 0, GLINT_E_GUEST_FAULT);
    assert_non_null(strstr(m, "; backtrace: crash_loop_fp+0x"));
    assert_non_null(strstr(m, " <- ..."));
    /* A deep stack: the message stays bounded. */
    glint_value deep[] = {glint_i32(1000000)};
    m = crash_message(sb, "recurse", GLINT_TYPE_I32, deep, 1, GLINT_E_STACK_OVERFLOW);
    assert_non_null(strstr(m, "; backtrace: recurse_down+0x"));
    assert_true(strlen(m) < GLINT_ERROR_MESSAGE_SIZE);
    /* After all that, the sandbox (restored) still works. */
    glint_value args[] = {glint_i32(10)}, result;
    assert_int_equal(glint_sandbox_call(sb, "work", GLINT_TYPE_I32, args, 1, &result), GLINT_OK);
    assert_int_equal(result.as.i32, 21);
    glint_sandbox_destroy(sb);
}

int main(void) {
    glint_test_require_kvm();
    /* GLINT_TEST_ONLY=test_fault_stop runs one (cmocka's name filter). */
    if (getenv("GLINT_TEST_ONLY") != NULL) cmocka_set_test_filter(getenv("GLINT_TEST_ONLY"));
    guest = glint_test_guest_path("debug_guest");
    const struct CMUnitTest offline[] = {
        cmocka_unit_test(test_crash_messages),
        cmocka_unit_test(test_kill_while_waiting),
        cmocka_unit_test(test_hostile_stub),
    };
    const struct CMUnitTest with_gdb[] = {
        cmocka_unit_test(test_break_step_finish), cmocka_unit_test(test_nested_call),
        cmocka_unit_test(test_fault_stop),        cmocka_unit_test(test_interrupt_and_kill),
        cmocka_unit_test(test_deadline),          cmocka_unit_test(test_detach),
        cmocka_unit_test(test_hw_breakpoints),    cmocka_unit_test(test_core_files),
    };
    int failed = cmocka_run_group_tests_name("debug without gdb", offline, NULL, NULL);
    if (access(GDB, X_OK) != 0) {
        fprintf(stderr,
                "NOT RUN: %s is missing (scripts/deps.sh installs gdb): the gdb part of "
                "this test cannot run\n",
                GDB);
        return failed != 0 ? failed : GLINT_SKIP_CODE;
    }
    return failed + cmocka_run_group_tests_name("debug with gdb", with_gdb, NULL, NULL);
}
