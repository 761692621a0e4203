#include "check_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- I/O on sockets and pipes ---- */

int is_pipe(const struct chan *c)
{
    return c->kind->origin == ORIGIN_PIPE;
}

int is_message_kind(const struct chan *c)
{
    return c->kind->type == SOCK_DGRAM || c->kind->type == SOCK_SEQPACKET;
}

ssize_t recv_or_read(int fd, void *buf, size_t n, int flags)
{
    ssize_t r = recv(fd, buf, n, flags);
    if (r < 0 && errno == ENOTSOCK && flags == 0)
        r = read(fd, buf, n);
    return r;
}

ssize_t read_nb(const struct chan *c, int fd, void *buf, size_t n, int flags)
{
    if (!is_pipe(c))
        return recv(fd, buf, n, flags | MSG_DONTWAIT);
    int was = is_nonblock(fd);
    if (!was)
        xset_nonblock(fd, 1);
    ssize_t r = read(fd, buf, n);
    int e = errno;
    if (!was)
        xset_nonblock(fd, 0);
    errno = e;
    return r;
}

void settle_tcp(const struct chan *c, int fd)
{
    if (c->kind->origin == ORIGIN_INET && c->kind->type == SOCK_STREAM)
        (void)poll_events(fd, POLLIN, 2000);
}

ssize_t read_wait(const struct chan *c, int fd, void *buf, size_t n, int flags, int timeout_ms)
{
    (void)poll_events(fd, POLLIN, timeout_ms);
    return read_nb(c, fd, buf, n, flags);
}

size_t fill_nb(int fd, size_t chunk, int *err)
{
    static const char zeros[65536];
    REQUIRE(chunk <= sizeof zeros);
    int was = is_nonblock(fd);
    size_t total = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    xset_nonblock(fd, 1);
    *err = 0;
    for (unsigned i = 1; total < FILL_LIMIT; i++) {
        if (i % 256 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - t0.tv_sec >= FILL_SECONDS)
                break;
        }
        ssize_t r = send_or_write(fd, zeros, chunk, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *err = errno;
            break;
        }
        total += (size_t)r;
    }
    xset_nonblock(fd, was);
    return total;
}

ssize_t wait_queued(int fd, size_t n, int ms)
{
    char buf[256];
    struct timeval old, tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    socklen_t len = sizeof old;
    REQUIRE(n <= sizeof buf, "wait_queued: %zu bytes", n);
    REQUIRE(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &old, &len) == 0, "SO_RCVTIMEO: %s",
            sockspec_errno_name(errno));
    REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO: %s",
            sockspec_errno_name(errno));
    int was = is_nonblock(fd);
    if (was)
        xset_nonblock(fd, 0);
    ssize_t r = recv(fd, buf, n, MSG_PEEK | MSG_WAITALL);
    int e = errno;
    if (was)
        xset_nonblock(fd, 1);
    REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &old, sizeof old) == 0, "SO_RCVTIMEO: %s",
            sockspec_errno_name(errno));
    errno = e;
    return r;
}

size_t message_chunk(struct chan *c, size_t want)
{
    static char probe[65536];
    if (!is_message_kind(c) || want > sizeof probe)
        return want;
    for (size_t n = want; n > 0; n = n > 64 ? n / 2 : 0) {
        ssize_t r = send(c->a, probe, n, MSG_DONTWAIT | ss_nosignal);
        if (r == (ssize_t)n) {
            REQUIRE(read_wait(c, c->b, probe, sizeof probe, 0, 2000) == (ssize_t)n,
                    "the %zu-byte probe message did not arrive", n);
            return n;
        }
        REQUIRE(r < 0 && errno == EMSGSIZE, "probe send of %zu bytes: %s", n,
                r < 0 ? sockspec_errno_name(errno) : "short");
    }
    REQUIRE(0, "no message of %zu bytes (or of a halving down to 64) fits an empty pair", want);
    return 0;
}

size_t drain_nb(const struct chan *c, int fd, int idle_ms, int *end)
{
    static char sink[65536];
    size_t total = 0;
    for (;;) {
        ssize_t r = read_nb(c, fd, sink, sizeof sink, 0);
        if (r > 0) {
            total += (size_t)r;
            continue;
        }
        int e = r == 0 ? 0 : errno;
        if (e == EINTR)
            continue;
        if ((e == EAGAIN || e == EWOULDBLOCK) && (poll_events(fd, POLLIN, idle_ms) & POLLIN))
            continue;
        if (end)
            *end = e;
        return total;
    }
}

/* ---- helper threads (no REQUIRE or EXPECT off the check's thread) ---- */

/* Waits up to ms for fd to report one of events: 1 if it did. */
static int wait_for(int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, ms) > 0 && (p.revents & (events | POLLHUP));
}

static void *writer_main(void *arg)
{
    static const size_t sizes[] = {1, 7, 100, 4096, 65536, 13, 30000, 512, 65535};
    struct writer *w = arg;
    size_t i = 0;
    while (w->sent < w->len) {
        size_t n = w->chunk ? w->chunk : sizes[i++ % (sizeof sizes / sizeof sizes[0])];
        if (n > w->len - w->sent)
            n = w->len - w->sent;
        ssize_t r = send_or_write(w->fd, w->data + w->sent, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        /* A full datagram peer fails some OSes' sends with ENOBUFS at once instead of making
         * them wait: retried (and counted) while the reader drains, within the same bound. */
        if (r < 0 && errno == ENOBUFS && w->retries++ < 1000000)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = w->fd, .events = POLLOUT};
            if (poll(&p, 1, 5000) <= 0) {
                w->err = ETIMEDOUT;
                return NULL;
            }
            continue;
        }
        if (r < 0) {
            w->err = errno;
            return NULL;
        }
        w->sent += (size_t)r;
    }
    return NULL;
}

void writer_start(struct writer *w, int fd, const void *data, size_t len, size_t chunk)
{
    w->fd = fd;
    w->data = data;
    w->len = len;
    w->chunk = chunk;
    w->sent = 0;
    w->err = 0;
    w->retries = 0;
    helper_start(&w->h, writer_main, w);
}

int writer_join(struct writer *w)
{
    helper_join(&w->h);
    return w->err;
}

static void *reader_main(void *arg)
{
    struct reader *d = arg;
    static char sink[65536];
    while (d->got < d->want) {
        if (!wait_for(d->fd, POLLIN, 5000))
            break;
        ssize_t r = recv_or_read(d->fd, sink, sizeof sink, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        d->got += (size_t)r;
    }
    return NULL;
}

void reader_start(struct reader *r, int fd, size_t want)
{
    r->fd = fd;
    r->want = want;
    r->got = 0;
    helper_start(&r->h, reader_main, r);
}

size_t reader_join(struct reader *r)
{
    helper_join(&r->h);
    return r->got;
}

struct watchdog {
    int ctl[2];
    int fd;   /* the guarded call's own descriptor */
    int peer; /* the descriptor the watchdog acts on */
    int ms;
    int drain; /* 1: read peer dry instead of sending (unblocks a sender on a full buffer) */
    int fired, stuck;
    struct helper h;
};

/* Waits up to ms for the check's thread to say the call returned: 1 if it did. */
static int call_returned(struct watchdog *w, int ms)
{
    struct pollfd p = {.fd = w->ctl[0], .events = POLLIN};
    int r;
    /* raw poll: poll_events REQUIREs, which only the check's thread may do */
    while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    return r != 0;
}

/* Reads whatever fd holds without blocking, socket or pipe. */
static void drain_peer(int fd)
{
    static char sink[65536];
    ssize_t r = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (r < 0 && errno == ENOTSOCK) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
            return;
        while (read(fd, sink, sizeof sink) > 0)
            ;
        (void)fcntl(fd, F_SETFL, fl);
        return;
    }
    while (r > 0)
        r = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
}

static void *watchdog_main(void *arg)
{
    struct watchdog *w = arg;
    if (call_returned(w, w->ms))
        return NULL;
    w->fired = 1;
    if (!w->drain)
        (void)send_or_write(w->peer, "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", 32, 0);
    else
        drain_peer(w->peer);
    /* An implementation that never wakes the call would hang the instance: end the call by
     * shutting its descriptor down, and say so. */
    if (call_returned(w, GUARD_RESCUE_MS))
        return NULL;
    w->stuck = 1;
    (void)shutdown(w->fd, SHUT_RDWR);
    return NULL;
}

static void watchdog_start(struct watchdog *w, int fd, int peer, int ms, int drain)
{
    xpipe(w->ctl);
    w->fd = fd;
    w->peer = peer;
    w->ms = ms;
    w->fired = w->stuck = 0;
    w->drain = drain;
    helper_start(&w->h, watchdog_main, w);
}

static int last_stuck, last_fired;

int guarded_stuck(void)
{
    return last_stuck;
}

int guarded_fired(void)
{
    return last_fired;
}

/* Cancels the watchdog; records whether it had to act and whether the call stayed stuck
 * (timed_out: the call's own bound ended it). */
static ssize_t guarded_end(struct watchdog *w, ssize_t r, const char *fired_msg, int timed_out)
{
    int e = errno;
    REQUIRE(write(w->ctl[1], "x", 1) == 1, "watchdog pipe");
    helper_join(&w->h);
    xclose(&w->ctl[0]);
    xclose(&w->ctl[1]);
    w->stuck |= timed_out;
    last_stuck = w->stuck;
    last_fired = w->fired;
    if (fired_msg && !w->stuck)
        EXPECT(!w->fired, "%s", fired_msg);
    errno = e;
    return r;
}

/* A socket without a timeout of its own gets one for the guarded call, in case shutting it
 * down does not end the call either (gVisor: a sender never woken stays blocked): 1 if set. */
static int bound_call(int fd, int opt, int ms)
{
    struct timeval tv;
    socklen_t len = sizeof tv;
    if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) != 0 || tv.tv_sec != 0 || tv.tv_usec != 0)
        return 0;
    ms += GUARD_RESCUE_MS + 500;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) == 0;
}

static void unbound_call(int fd, int opt, int was_set)
{
    struct timeval zero = {0, 0};
    if (was_set)
        (void)setsockopt(fd, SOL_SOCKET, opt, &zero, sizeof zero);
}

ssize_t recv_guarded(int fd, void *buf, size_t n, int flags, int peer, int ms, int own_bound,
                     const char *fired_msg)
{
    struct watchdog w;
    int bounded = own_bound && bound_call(fd, SO_RCVTIMEO, ms);
    watchdog_start(&w, fd, peer, ms, 0);
    ssize_t r = recv(fd, buf, n, flags);
    int e = errno;
    int timed_out =
        bounded && r < 0 && (e == EAGAIN || e == EWOULDBLOCK) && !(flags & MSG_DONTWAIT);
    unbound_call(fd, SO_RCVTIMEO, bounded);
    errno = e;
    return guarded_end(&w, r, fired_msg, timed_out);
}

ssize_t send_guarded(int fd, const void *buf, size_t n, int flags, int peer, int ms, int own_bound,
                     const char *fired_msg)
{
    struct watchdog w;
    int bounded = own_bound && bound_call(fd, SO_SNDTIMEO, ms);
    watchdog_start(&w, fd, peer, ms, 1);
    ssize_t r = send_or_write(fd, buf, n, flags);
    int e = errno;
    int timed_out = bounded && r < 0 && (e == EAGAIN || e == EWOULDBLOCK);
    unbound_call(fd, SO_SNDTIMEO, bounded);
    errno = e;
    return guarded_end(&w, r, fired_msg, timed_out);
}

void outcome_guarded(struct chan *c, ssize_t r)
{
    if (guarded_stuck())
        outcome(c, "blocked");
    else
        outcome_ret(c, r);
}

/* ---- child processes ---- */

void child_start(struct child *ch, const char *(*fn)(void *arg, char *out, size_t n), void *arg)
{
    int st[2];
    xpipe(st);
    ch->pid = fork();
    REQUIRE(ch->pid >= 0, "fork: %s", sockspec_errno_name(errno));
    if (ch->pid == 0) {
        char buf[64];
        close(st[0]);
        const char *res = fn(arg, buf, sizeof buf);
        size_t n = strlen(res);
        _exit(write(st[1], res, n) == (ssize_t)n ? 0 : 1);
    }
    close(st[1]);
    ch->fd = st[0];
}

int child_finish(struct child *ch, int timeout_ms, char *out, size_t n)
{
    out[0] = '\0';
    if (poll_events(ch->fd, POLLIN, timeout_ms) & (POLLIN | POLLHUP)) {
        ssize_t r = read(ch->fd, out, n - 1);
        out[r > 0 ? r : 0] = '\0';
    }
    if (!out[0])
        kill(ch->pid, SIGKILL);
    int st = child_reap(ch->pid);
    xclose(&ch->fd);
    return st;
}

int child_reap(pid_t pid)
{
    int st;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    REQUIRE(r == pid, "waitpid: %s", sockspec_errno_name(errno));
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- outcome formatting ---- */

struct ret_str ret_str(ssize_t r)
{
    struct ret_str o;
    if (r < 0)
        snprintf(o.s, sizeof o.s, "%s", sockspec_errno_name(errno));
    else
        snprintf(o.s, sizeof o.s, "%zd", r);
    return o;
}

void outcome_ok(struct chan *c, int r)
{
    outcome(c, "%s", r == 0 ? "ok" : sockspec_errno_name(errno));
}

struct bit_name {
    int bit;
    const char *name;
};

/* The set bits of v by name, joined with sep; unnamed bits in hex; `none` when v is 0. */
static const char *bits_str(int v, const struct bit_name *t, size_t nt, const char *sep,
                            const char *none, char *buf, size_t n)
{
    buf[0] = '\0';
    for (size_t i = 0; i < nt; i++)
        if (v & t[i].bit) {
            size_t l = strlen(buf);
            snprintf(buf + l, n - l, "%s%s", l ? sep : "", t[i].name);
            v &= ~t[i].bit;
        }
    if (v) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s0x%x", l ? sep : "", (unsigned)v);
    }
    if (!buf[0])
        snprintf(buf, n, "%s", none);
    return buf;
}

const char *revents_str(int re, char *buf, size_t n)
{
    static const struct bit_name bits[] = {
        {POLLIN, "POLLIN"},       {POLLPRI, "POLLPRI"}, {POLLOUT, "POLLOUT"},
#ifdef SOCKSPEC_HAVE_POLLRDHUP
        {POLLRDHUP, "POLLRDHUP"},
#endif
        {POLLERR, "POLLERR"},     {POLLHUP, "POLLHUP"}, {POLLNVAL, "POLLNVAL"},
    };
    return bits_str(re, bits, sizeof bits / sizeof bits[0], "+", "none", buf, n);
}

const char *msg_flags_str(int f, char *buf, size_t n)
{
    static const struct bit_name bits[] = {{MSG_TRUNC, "MSG_TRUNC"}, {MSG_CTRUNC, "MSG_CTRUNC"},
                                           {MSG_EOR, "MSG_EOR"},     {MSG_OOB, "MSG_OOB"},
                                           {MSG_PEEK, "MSG_PEEK"},   {MSG_WAITALL, "MSG_WAITALL"}};
    return bits_str(f, bits, sizeof bits / sizeof bits[0], "+", "0", buf, n);
}

ssize_t recvmsg_flags(int fd, void *buf, size_t n, int flags, int *flags_io)
{
    struct iovec iov = {.iov_base = buf, .iov_len = n};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_flags = *flags_io;
    ssize_t r = recvmsg(fd, &m, flags);
    *flags_io = m.msg_flags & ~(flags & INPUT_ONLY_FLAGS);
    return r;
}

void outcome_msg_flags(struct chan *c, int fd, size_t n, int flags, int fl_in, ssize_t want)
{
    char buf[256], fs[64];
    REQUIRE(n <= sizeof buf);
    (void)poll_events(fd, POLLIN, 2000);
    int fl = fl_in;
    ssize_t r = recvmsg_flags(fd, buf, n, flags | MSG_DONTWAIT, &fl);
    REQUIRE(r == want, "recvmsg: %zd", r);
    outcome(c, "%s", msg_flags_str(fl, fs, sizeof fs));
}

/* ---- socket options ---- */

int sockopt_int(int fd, int level, int opt, int *val)
{
    socklen_t len = sizeof *val;
    *val = -12345;
    return getsockopt(fd, level, opt, val, &len);
}

int xsockopt_int(int fd, int level, int opt)
{
    int v;
    REQUIRE(sockopt_int(fd, level, opt, &v) == 0, "getsockopt(%d): %s", opt,
            sockspec_errno_name(errno));
    return v;
}

int setsockopt_int(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof v);
}

void sockopt_set_readback(struct chan *c, int opt, int v)
{
    if (setsockopt_int(c->a, SOL_SOCKET, opt, v) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    int got = xsockopt_int(c->a, SOL_SOCKET, opt);
    EXPECT(got > 0, "read back %d", got);
    outcome(c, "%d", got);
}

void raise_sndbuf(int fd, int n)
{
    int cur;
    if (sockopt_int(fd, SOL_SOCKET, SO_SNDBUF, &cur) == 0 && cur >= n)
        return;
    EXPECT(setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, n) == 0, "SO_SNDBUF %d: %s", n,
           sockspec_errno_name(errno));
}

void xset_timeo(int fd, int opt, long sec, long usec)
{
    struct timeval tv = {.tv_sec = sec, .tv_usec = (suseconds_t)usec};
    REQUIRE(setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) == 0, "set timeout: %s",
            sockspec_errno_name(errno));
}

/* ---- descriptors ---- */

int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

int closed_fd(void)
{
    int fd = dup(0);
    REQUIRE(fd >= 0, "dup: %s", sockspec_errno_name(errno));
    close(fd);
    return fd;
}

int lowest_free_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0, "open /dev/null: %s", sockspec_errno_name(errno));
    close(fd);
    return fd;
}

int close_new_fds(const struct fdset *before)
{
    struct fdset now;
    int n = 0;
    REQUIRE(fdset_probe(&now) == 0, "descriptor probe: %s", sockspec_errno_name(errno));
    for (int fd = 0; fd < now.limit; fd++)
        if (now.open[fd] && (fd >= before->limit || !before->open[fd])) {
            close(fd);
            n++;
        }
    return n;
}

int count_open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        n += fd_is_open(fd);
    return n;
}

int scratch_file(void)
{
    char path[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/sockspec-file.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp: %s", sockspec_errno_name(errno));
    unlink(path);
    return fd;
}

/* ---- AF_UNIX names ---- */

void xscratch_dir(struct scratch_dir *d)
{
    REQUIRE(scratch_dir_make(d) == 0, "scratch directory: %s", sockspec_errno_name(errno));
}

void xscratch_dir_remove(struct scratch_dir *d, const char *const *names, size_t n)
{
    EXPECT(scratch_dir_remove(d, names, n) == 0, "rmdir %s: %s", d->path,
           sockspec_errno_name(errno));
}

socklen_t xscratch_addr(const struct scratch_dir *d, const char *name, struct sockaddr_un *sun)
{
    socklen_t len = scratch_unix_addr(d, name, sun);
    REQUIRE(len > 0, "scratch path too long");
    return len;
}

socklen_t xabstract_addr(const char *name, struct sockaddr_un *sun)
{
    socklen_t len = scratch_abstract_addr(name, sun);
    REQUIRE(len > 0, "abstract name too long");
    return len;
}

socklen_t nowhere_addr(struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    snprintf(sun->sun_path, sizeof sun->sun_path, "/nonexistent-sockspec/%ld", (long)getpid());
#ifdef SOCKSPEC_HAVE_SUN_LEN
    sun->sun_len = (unsigned char)SUN_LEN(sun);
#endif
    return (socklen_t)sizeof *sun;
}

/* ---- waiters and bounded waits (families) ---- */

static int waiter_count;
static struct sigaction waiter_old_action;

static void waiter_interrupt(int sig)
{
    (void)sig; /* only there to make the blocked call fail with EINTR */
}

/* SIGUSR2 interrupts a waiter's call while any waiter runs; the old action comes back after. */
static void waiter_handler(int on)
{
    if (on && waiter_count++ == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = waiter_interrupt;
        sigemptyset(&sa.sa_mask);
        REQUIRE(sigaction(SIGUSR2, &sa, &waiter_old_action) == 0, "sigaction: %s",
                sockspec_errno_name(errno));
    } else if (!on && --waiter_count == 0) {
        (void)sigaction(SIGUSR2, &waiter_old_action, NULL);
    }
}

/* A SIGPIPE the helper's own call raised is pending for the helper thread: take it. */
static int waiter_take_sigpipe(void)
{
    sigset_t pending, set;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (sigpending(&pending) != 0 || !sigismember(&pending, SIGPIPE))
        return 0;
    return sigwait(&set, &sig) == 0;
}

static ssize_t waiter_call(struct waiter *w)
{
    struct pollfd p = {.fd = w->fd, .events = (short)w->flags};
    size_t n = w->len < sizeof w->buf ? w->len : sizeof w->buf;
    switch (w->call) {
    case WAITER_RECV:
        return recv_or_read(w->fd, w->buf, n, w->flags);
    case WAITER_SEND:
        return send_or_write(w->fd, w->buf, n, w->flags);
    case WAITER_POLL:
        return poll(&p, 1, -1) < 0 ? -1 : p.revents;
    case WAITER_CONNECT:
        return connect(w->fd, (const struct sockaddr *)w->addr, w->addrlen);
    }
    errno = EINVAL;
    return -1;
}

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->self = pthread_self();
    if (write(w->ctl[1], "s", 1) != 1)
        return NULL;
    w->ret = waiter_call(w);
    w->err = w->ret < 0 ? errno : 0;
    if (w->ret < 0 && w->err == EPIPE)
        w->sigpipe = waiter_take_sigpipe();
    (void)write(w->ctl[1], "d", 1);
    return NULL;
}

/* Reads one byte of the helper's reports within ms: the byte, or 0. */
static char waiter_report(struct waiter *w, int ms)
{
    struct pollfd p = {.fd = w->ctl[0], .events = POLLIN};
    char x = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        long left = ms - elapsed_ms(&t0);
        int r = poll(&p, 1, left > 0 ? (int)left : 0);
        if (r > 0 && read(w->ctl[0], &x, 1) != 1)
            return 0;
        if (r > 0)
            return x;
        if (r == 0 || errno != EINTR)
            return 0;
    }
}

static void waiter_begin(struct waiter *w)
{
    w->ret = -1;
    w->err = 0;
    w->sigpipe = 0;
    w->returned = 0;
    memset(w->buf, 'w', sizeof w->buf);
    xpipe(w->ctl);
    waiter_handler(1);
    helper_start(&w->h, waiter_main, w);
    /* The helper must say it started before it can be interrupted; a thread that is not
     * scheduled within 10 s leaves nothing to join safely. */
    REQUIRE(waiter_report(w, 10000) == 's', "the waiter never started");
}

void waiter_start(struct waiter *w, enum waiter_call call, int fd, size_t len, int flags)
{
    w->call = call;
    w->fd = fd;
    w->len = len;
    w->flags = flags;
    w->addr = NULL;
    w->addrlen = 0;
    waiter_begin(w);
}

void waiter_start_connect(struct waiter *w, int fd, const struct sockaddr_un *addr, socklen_t len)
{
    w->call = WAITER_CONNECT;
    w->fd = fd;
    w->len = 0;
    w->flags = 0;
    w->addr = addr;
    w->addrlen = len;
    waiter_begin(w);
}

int waiter_returned(struct waiter *w, int ms)
{
    if (!w->returned && waiter_report(w, ms) == 'd')
        w->returned = 1;
    return w->returned;
}

int waiter_end(struct waiter *w)
{
    int interrupted = 0;
    /* A signal sent before the helper enters the call is lost: send it until the call
     * returns, 2 s at most. */
    for (int i = 0; i < 40 && !waiter_returned(w, i ? 50 : 0); i++) {
        pthread_kill(w->self, SIGUSR2);
        interrupted = 1;
    }
    helper_join(&w->h);
    waiter_handler(0);
    xclose(&w->ctl[0]);
    xclose(&w->ctl[1]);
    return interrupted ? -1 : 0;
}

const char *waiter_result(const struct waiter *w, char *buf, size_t n)
{
    if (w->ret < 0)
        snprintf(buf, n, "%s%s", sockspec_errno_name(w->err), w->sigpipe ? "+SIGPIPE" : "");
    else if (w->call == WAITER_POLL)
        revents_str((int)w->ret, buf, n);
    else
        snprintf(buf, n, "%zd", w->ret);
    return buf;
}

int waiter_blocked(struct chan *c, struct waiter *w)
{
    char res[64];
    if (!waiter_returned(w, WAITER_SETTLE_MS))
        return 1;
    waiter_end(w);
    outcome(c, "returned before the event: %s", waiter_result(w, res, sizeof res));
    return 0;
}

void waiter_outcome(struct chan *c, struct waiter *w, int ms)
{
    char res[64];
    if (waiter_returned(w, ms)) {
        waiter_end(w);
        outcome(c, "woken: %s", waiter_result(w, res, sizeof res));
    } else {
        waiter_end(w);
        outcome(c, "not woken within %d ms", ms);
    }
}

long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

size_t read_collect(const struct chan *c, int fd, char *buf, size_t n, int idle_ms)
{
    size_t got = 0;
    struct timespec last;
    clock_gettime(CLOCK_MONOTONIC, &last);
    while (got < n) {
        ssize_t r = read_nb(c, fd, buf + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
            clock_gettime(CLOCK_MONOTONIC, &last);
            continue;
        }
        long left = idle_ms - elapsed_ms(&last);
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || left <= 0)
            break;
        (void)poll_events(fd, POLLIN, (int)left);
    }
    return got;
}

static int all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

const char *unix_name_str(const struct sockaddr_un *sun, socklen_t len, char *buf, size_t n)
{
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t max = len > off ? len - off : 0;
    if (max > sizeof sun->sun_path)
        max = sizeof sun->sun_path;
    if (len >= off && sun->sun_family != AF_UNIX)
        snprintf(buf, n, "family %d", sun->sun_family);
    else if (all_zero(sun->sun_path, max))
        snprintf(buf, n, "unnamed");
    else if (sun->sun_path[0] == '\0')
        snprintf(buf, n, "abstract %zu", max - 1);
    else {
        size_t l = strnlen(sun->sun_path, max);
        snprintf(buf, n, "path %zu%s", l, l == max ? "+no NUL" : "");
    }
    return buf;
}

/* The fresh name a listener of c's kind binds. */
static socklen_t listener_name(const struct chan *c, struct scratch_dir *d,
                               struct sockaddr_storage *addr)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)addr;
    if (c->kind->domain != AF_UNIX)
        return scratch_loopback_addr(c->kind->domain, 0, addr);
    if (c->kind->origin == ORIGIN_ABSTRACT)
        return xabstract_addr("L", sun);
    xscratch_dir(d);
    return xscratch_addr(d, "L", sun);
}

int listener_open(const struct chan *c, struct scratch_dir *d, int backlog,
                  struct sockaddr_storage *addr, socklen_t *len)
{
    d->path[0] = '\0';
    *len = listener_name(c, d, addr);
    int fd = socket(c->kind->domain, c->kind->type, 0);
    REQUIRE(fd >= 0, "socket: %s", sockspec_errno_name(errno));
    if (bind(fd, (struct sockaddr *)addr, *len) < 0 || listen(fd, backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)addr, len) < 0) {
        int e = errno;
        listener_close(&fd, d);
        REQUIRE(0, "listener: %s", sockspec_errno_name(e));
    }
    return fd;
}

void listener_close(int *fd, struct scratch_dir *d)
{
    static const char *const names[] = {"L"};
    xclose(fd);
    if (d->path[0])
        xscratch_dir_remove(d, names, 1);
    d->path[0] = '\0';
}

int client_connect(const struct chan *c, const struct sockaddr_storage *addr, socklen_t len)
{
    int fd = socket(c->kind->domain, c->kind->type, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)addr, len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
