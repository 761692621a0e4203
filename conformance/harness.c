#include "harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

int sigpipe_take(struct chan *c)
{
    sigset_t pending, set;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    cr_assert(sigpending(&pending) == 0);
    if (!sigismember(&pending, SIGPIPE))
        return 0;
    cr_assert(sigwait(&set, &sig) == 0);
    c->sigpipe_taken = 1;
    return 1;
}

static void block_sigpipe(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    cr_assert(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0, "cannot block SIGPIPE");
}

static void record(const char *instance, const char *verdict, const struct chan *c,
                   const char *cell)
{
    const char *path = getenv("SOCKSPEC_OBS_FILE");
    char line[512];
    if (!path || !*path)
        return;
    int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\n", instance, verdict,
                     c->outcome[0] ? c->outcome : "-", cell);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    cr_assert(fd >= 0, "cannot open %s: %s", path, strerror(errno));
    cr_assert(write(fd, line, (size_t)n) == n, "short write to %s", path);
    close(fd);
}

/* A kind the OS cannot build is judged by the kind's row, the check's row otherwise. */
static void judge(const char *check_id, const char *instance, struct chan *c, int create_err)
{
    char kind_id[96];
    struct expect_cell cell;
    snprintf(kind_id, sizeof kind_id, "kind.%s", c->kind->name);
    expect_lookup(kind_id, &cell);
    if (create_err != 0)
        outcome(c, "unsupported: %s", sockspec_errno_name(create_err));
    else if (expect_cell_unsupported(&cell))
        outcome(c, "ok");
    else
        expect_lookup(check_id, &cell);
    enum verdict v = expect_judge(&cell, c->outcome);
    record(instance, verdict_name(v), c, cell.value);
    cr_expect(v != VERDICT_FAIL, "%s: observed \"%s\", expected \"%s\" on %s (%s)", instance,
              c->outcome, cell.value, cell.os, cell.source);
}

/* The deviation library (conformance/deviate), when preloaded, acts only while armed:
 * from building the pair to closing it, never on Criterion's own descriptors. */
static void deviate_arm(int on)
{
    void (*arm)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "sockspec_deviate_arm");
    if (arm)
        arm(on);
}

void harness_run(const char *check_id, void (*body)(struct chan *), const struct kind *k)
{
    struct fdset before, after;
    struct chan c;
    char instance[160];

    snprintf(instance, sizeof instance, "%s/%s", check_id, k->name);
    block_sigpipe();
    cr_assert(fdset_probe(&before) == 0, "fd probe: %s", sockspec_errno_name(errno));
    struct memcheck mem = memcheck_begin(), delta;
    memset(&c, 0, sizeof c);
    c.kind = k;
    deviate_arm(1);
    int err = kind_open(&c);
    if (err == 0)
        body(&c);
    kind_close(&c);
    deviate_arm(0);
    if (err == 0 && !c.outcome[0])
        cr_assert_fail("%s: the body recorded no outcome", instance);
    judge(check_id, instance, &c, err);

    cr_assert(fdset_probe(&after) == 0, "fd probe: %s", sockspec_errno_name(errno));
    char leaked[256];
    cr_expect(!fdset_diff(&before, &after, leaked, sizeof leaked), "%s: descriptors leaked: %s",
              instance, leaked);
    sigset_t pending;
    sigpending(&pending);
    cr_expect(!sigismember(&pending, SIGPIPE), "%s: unexpected SIGPIPE", instance);
    cr_expect(!memcheck_end(mem, &delta), "%s: %lu memory errors, %lu bytes leaked", instance,
              delta.errors, delta.leaked);
}

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
            cr_assert(poll_events(fd, POLLOUT, 5000) & POLLOUT, "fd %d never writable", fd);
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        cr_assert(r >= 0, "send(%d, %zu): %s", fd, n, sockspec_errno_name(errno));
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
            cr_assert(poll_events(fd, POLLIN, 5000) & (POLLIN | POLLHUP), "fd %d never readable",
                      fd);
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        cr_assert(r > 0, "read(%d, %zu): %s", fd, n, r == 0 ? "EOF" : sockspec_errno_name(errno));
        p += r;
        n -= (size_t)r;
    }
}

void xset_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    cr_assert(fl >= 0, "F_GETFL: %s", sockspec_errno_name(errno));
    fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
    cr_assert(fcntl(fd, F_SETFL, fl) == 0, "F_SETFL: %s", sockspec_errno_name(errno));
}

int is_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    cr_assert(fl >= 0, "F_GETFL(%d): %s", fd, sockspec_errno_name(errno));
    return (fl & O_NONBLOCK) != 0;
}

int is_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    cr_assert(fl >= 0, "F_GETFD(%d): %s", fd, sockspec_errno_name(errno));
    return (fl & FD_CLOEXEC) != 0;
}

void xpipe(int fds[2])
{
    cr_assert(pipe(fds) == 0, "pipe: %s", sockspec_errno_name(errno));
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
again:
    r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR)
        goto again;
    cr_assert(r >= 0, "poll: %s", sockspec_errno_name(errno));
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
    cr_assert(t != NULL);
    h->fn = fn;
    h->arg = arg;
    h->thread = t;
    cr_assert(pthread_create(t, NULL, fn, arg) == 0, "pthread_create failed");
}

void *helper_join(struct helper *h)
{
    void *ret = NULL;
    pthread_t *t = h->thread;
    cr_assert(pthread_join(*t, &ret) == 0, "pthread_join failed");
    free(t);
    h->thread = NULL;
    return ret;
}
