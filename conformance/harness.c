#include "harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "expect.h"
#include "fdset.h"
#include "memcheck.h"

#ifdef SOCKSPEC_HAVE_MSG_NOSIGNAL
const int ss_nosignal = MSG_NOSIGNAL;
#else
const int ss_nosignal = 0;
#endif

/* ---- the registry --------------------------------------------------------------------- */

static struct instance *instances;
static size_t ninstances, cap_instances;
static int sorted;

void registry_add(const struct check *check, const struct kind *kind)
{
    if (ninstances == cap_instances) {
        cap_instances = cap_instances ? 2 * cap_instances : 2048;
        instances = realloc(instances, cap_instances * sizeof *instances);
        if (!instances)
            abort(); /* at load time, before any runner: nothing to report to */
    }
    instances[ninstances++] = (struct instance){check, kind};
    sorted = 0;
}

static int instance_cmp(const void *a, const void *b)
{
    const struct instance *x = a, *y = b;
    int c = strcmp(x->check->id, y->check->id);
    return c ? c : strcmp(x->kind->name, y->kind->name);
}

const struct instance *registry_list(size_t *n)
{
    if (!sorted && ninstances)
        qsort(instances, ninstances, sizeof *instances, instance_cmp);
    sorted = 1;
    *n = ninstances;
    return instances;
}

/* ---- outcomes, preconditions, expectations ----------------------------------------------- */

static struct chan *current;
static jmp_buf precondition_exit;

void outcome(struct chan *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->outcome, sizeof c->outcome, fmt, ap);
    va_end(ap);
}

void outcome_ret(struct chan *c, ssize_t r)
{
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%zd", r);
}

/* "<message>" or, without one, "<expression> is false", at file:line. */
static void describe(char *buf, size_t n, const char *file, int line, const char *expr,
                     const char *fmt, va_list ap)
{
    char msg[256];
    if (fmt[0])
        vsnprintf(msg, sizeof msg, fmt, ap);
    else
        snprintf(msg, sizeof msg, "%s is false", expr);
    const char *base = strrchr(file, '/');
    snprintf(buf, n, "%.100s (%.40s:%d)", msg, base ? base + 1 : file, line);
}

void harness_require_failed(const char *file, int line, const char *expr, const char *fmt, ...)
{
    char msg[OUTCOME_MAX];
    va_list ap;
    va_start(ap, fmt);
    describe(msg, sizeof msg, file, line, expr, fmt, ap);
    va_end(ap);
    if (!current) { /* a helper outside any instance: a harness bug */
        fprintf(stderr, "sockspec: precondition outside an instance: %s\n", msg);
        abort();
    }
    outcome(current, "precondition: %s", msg);
    longjmp(precondition_exit, 1);
}

void harness_expect_failed(const char *file, int line, const char *expr, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    describe(msg, sizeof msg, file, line, expr, fmt, ap);
    va_end(ap);
    if (!current) {
        fprintf(stderr, "sockspec: expectation outside an instance: %s\n", msg);
        abort();
    }
    size_t used = strlen(current->detail);
    snprintf(current->detail + used, sizeof current->detail - used, "%s%s", used ? "; " : "", msg);
}

int sigpipe_take(struct chan *c)
{
    sigset_t pending, set;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    REQUIRE(sigpending(&pending) == 0, "sigpending: %s", sockspec_errno_name(errno));
    if (!sigismember(&pending, SIGPIPE))
        return 0;
    REQUIRE(sigwait(&set, &sig) == 0, "sigwait failed");
    c->sigpipe_taken = 1;
    return 1;
}

/* ---- judging and recording -------------------------------------------------------------- */

struct verdict_info {
    enum verdict v;
    char expected[160];
    char against[128]; /* "freebsd 15.0" */
    char cause[64];
};

/* Replaces tabs and newlines, which would break the results file. */
static void flatten(char *s)
{
    for (; *s; s++)
        if (*s == '\t' || *s == '\n' || *s == '\r')
            *s = ' ';
}

static void record(const char *instance, const struct chan *c, const struct verdict_info *vi,
                   const char *problems)
{
    const char *path = getenv("SOCKSPEC_OBS_FILE");
    char line[2048];
    if (!path || !*path)
        return;
    int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", instance,
                     verdict_name(vi->v), c->outcome[0] ? c->outcome : "-",
                     vi->expected[0] ? vi->expected : "-", vi->against[0] ? vi->against : "-",
                     vi->cause[0] ? vi->cause : "-", problems[0] ? problems : "-");
    if (n < 0 || (size_t)n >= sizeof line)
        n = (int)strlen(line);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line, (size_t)n) != n) {
        fprintf(stderr, "sockspec: cannot record to %s: %s\n", path, strerror(errno));
        runner_fail("observation not recorded");
    }
    if (fd >= 0)
        close(fd);
}

/* The cell that judges this instance: the kind's (kind.builds) if the kind cannot be built
 * or is documented as unbuildable, the check's otherwise. */
static void judge(const struct check *check, struct chan *c, int create_err,
                  struct verdict_info *vi, char *problems, size_t np)
{
    struct cell cell;
    char why[256] = "";
    const char *id = "kind.builds";
    int have = expect_cell(id, c->kind, &cell, why, sizeof why) == 0;
    if (create_err != 0)
        outcome(c, "unsupported: %s", sockspec_errno_name(create_err));
    else if (have && expect_cell_unsupported(&cell))
        outcome(c, "ok"); /* built although documented as unbuildable: the kind cell fails */
    else {
        id = check->id;
        have = expect_cell(id, c->kind, &cell, why, sizeof why) == 0;
    }
    if (!have && errno == EINVAL) {
        snprintf(problems, np, "expectations: %s", why);
        snprintf(cell.value, sizeof cell.value, "?");
    } else if (!have) {
        snprintf(cell.value, sizeof cell.value, "?");
    }
    vi->v = expect_judge(&cell, c->outcome);
    snprintf(vi->expected, sizeof vi->expected, "%s", cell.value);
    if (have)
        snprintf(vi->against, sizeof vi->against, "%s %s", cell.os, cell.versions);
    if (vi->v == VERDICT_FAIL &&
        expect_known_deviation(id, c->kind, c->outcome, vi->cause, sizeof vi->cause))
        vi->v = VERDICT_KNOWN;
}

/* The deviation library (conformance/deviate), when preloaded, acts only while armed:
 * from building the pair to closing it, never on the runner's own descriptors. */
static void deviate_arm(int on)
{
    void (*arm)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "sockspec_deviate_arm");
    if (arm)
        arm(on);
}

static void block_sigpipe(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        runner_fail("cannot block SIGPIPE");
}

static void append(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t n, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    if (used)
        snprintf(buf + used, n - used, "; ");
    used = strlen(buf);
    vsnprintf(buf + used, n - used, fmt, ap);
    va_end(ap);
}

/* Runs the body; a failed REQUIRE lands back here with the outcome already recorded. */
static void run_body(const struct check *check, struct chan *c)
{
    current = c;
    if (setjmp(precondition_exit) == 0)
        check->body(c);
    current = NULL;
}

int harness_record_death(const struct check *check, const struct kind *k, const char *what)
{
    static struct chan c;
    char instance[160], problems[256] = "";
    struct verdict_info vi = {VERDICT_PASS, "", "", ""};
    memset(&c, 0, sizeof c);
    c.kind = k;
    snprintf(instance, sizeof instance, "%s/%s", check->id, k->name);
    outcome(&c, "%s", what);
    judge(check, &c, 0, &vi, problems, sizeof problems);
    record(instance, &c, &vi, problems);
    return vi.v == VERDICT_KNOWN;
}

void harness_run(const struct check *check, const struct kind *k)
{
    struct fdset before, after;
    static struct chan c;
    char instance[160], problems[1024] = "";
    struct verdict_info vi = {VERDICT_PASS, "", "", ""};

    snprintf(instance, sizeof instance, "%s/%s", check->id, k->name);
    block_sigpipe();
    if (fdset_probe(&before) < 0)
        runner_fail("descriptor probe failed");
    struct memcheck mem = memcheck_begin(), delta;
    memset(&c, 0, sizeof c);
    c.kind = k;
    deviate_arm(1);
    int err = kind_open(&c) == 0 ? 0 : (errno ? errno : EIO);
    if (err == 0)
        run_body(check, &c);
    kind_close(&c);
    deviate_arm(0);
    if (err == 0 && !c.outcome[0])
        outcome(&c, "precondition: the body recorded no outcome");
    flatten(c.outcome);
    judge(check, &c, err, &vi, problems, sizeof problems);

    if (c.detail[0])
        append(problems, sizeof problems, "expect: %s", c.detail);
    char leaked[256];
    if (fdset_probe(&after) < 0)
        append(problems, sizeof problems, "descriptor probe failed");
    else if (fdset_diff(&before, &after, leaked, sizeof leaked))
        append(problems, sizeof problems, "descriptors leaked: %s", leaked);
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE))
        append(problems, sizeof problems, "unexpected SIGPIPE");
    if (memcheck_end(mem, &delta))
        append(problems, sizeof problems, "%lu memory errors, %lu bytes leaked", delta.errors,
               delta.leaked);
    flatten(problems);
    record(instance, &c, &vi, problems);

    char msg[1600];
    if (vi.v == VERDICT_FAIL) {
        snprintf(msg, sizeof msg, "%s: observed \"%s\", expected \"%s\" (%s)", instance, c.outcome,
                 vi.expected, vi.against[0] ? vi.against : "no cell");
        runner_fail(msg);
    }
    if (problems[0]) {
        snprintf(msg, sizeof msg, "%s: %s", instance, problems);
        runner_fail(msg);
    }
}

/* ---- I/O shared by the bodies ------------------------------------------------------------ */

ssize_t send_or_write(int fd, const void *buf, size_t n, int flags)
{
    ssize_t r = send(fd, buf, n, flags | ss_nosignal);
    if (r < 0 && errno == ENOTSOCK && flags == 0)
        r = write(fd, buf, n);
    return r;
}

void xsend_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t r = send_or_write(fd, p, n, 0);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            REQUIRE(poll_events(fd, POLLOUT, 5000) & POLLOUT, "send: no room within 5 s");
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        REQUIRE(r >= 0, "send %zu bytes: %s", n, sockspec_errno_name(errno));
        p += r;
        n -= (size_t)r;
    }
}

void xrecv_exact(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            REQUIRE(poll_events(fd, POLLIN, 5000) & (POLLIN | POLLHUP),
                    "read: nothing arrived within 5 s");
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        REQUIRE(r > 0, "read %zu bytes: %s", n,
                r == 0 ? "end of file" : sockspec_errno_name(errno));
        p += r;
        n -= (size_t)r;
    }
}

void xset_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    REQUIRE(fl >= 0, "F_GETFL: %s", sockspec_errno_name(errno));
    fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
    REQUIRE(fcntl(fd, F_SETFL, fl) == 0, "F_SETFL: %s", sockspec_errno_name(errno));
}

int is_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    REQUIRE(fl >= 0, "F_GETFL(%d): %s", fd, sockspec_errno_name(errno));
    return (fl & O_NONBLOCK) != 0;
}

int is_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    REQUIRE(fl >= 0, "F_GETFD(%d): %s", fd, sockspec_errno_name(errno));
    return (fl & FD_CLOEXEC) != 0;
}

void xpipe(int fds[2])
{
    REQUIRE(pipe(fds) == 0, "pipe: %s", sockspec_errno_name(errno));
}

void xclose(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

int poll_events(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;
    while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    REQUIRE(r >= 0, "poll: %s", sockspec_errno_name(errno));
    return r == 0 ? 0 : p.revents;
}

void fill_pattern(void *buf, size_t n, uint32_t seed)
{
    unsigned char *p = buf;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

uint64_t fnv1a(const void *buf, size_t n, uint64_t h)
{
    const unsigned char *p = buf;
    if (h == 0)
        h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

void helper_start(struct helper *h, void *(*fn)(void *), void *arg)
{
    pthread_t *t = malloc(sizeof *t);
    REQUIRE(t != NULL, "out of memory");
    h->fn = fn;
    h->arg = arg;
    h->thread = t;
    int e = pthread_create(t, NULL, fn, arg);
    if (e != 0) {
        free(t);
        h->thread = NULL;
        REQUIRE(0, "pthread_create: %s", sockspec_errno_name(e));
    }
}

void *helper_join(struct helper *h)
{
    void *ret = NULL;
    pthread_t *t = h->thread;
    int e = pthread_join(*t, &ret);
    free(t);
    h->thread = NULL;
    REQUIRE(e == 0, "pthread_join: %s", sockspec_errno_name(e));
    return ret;
}
