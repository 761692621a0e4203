/*
 * Helpers shared only by the buffer, boundary and stream categories (one copy, static inline).
 * Everything here works on sockets and on pipes: socket calls fall back to read()/write()
 * on ENOTSOCK, so the same body can run over KINDS_PIPE.
 */
#ifndef SOCKSPEC_BBS_UTIL_H
#define SOCKSPEC_BBS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

/* Most bytes any fill loop pushes before giving up (TCP on loopback autotunes its buffers). */
#define BBS_FILL_LIMIT (64u << 20)

static inline int bbs_is_pipe(const struct chan *c)
{
    return c->kind->origin == ORIGIN_PIPE;
}

/* send() with the no-SIGPIPE flag, write() on a pipe. */
static inline ssize_t bbs_send(int fd, const void *buf, size_t n, int flags)
{
    ssize_t r = send(fd, buf, n, flags | ss_nosignal);
    if (r < 0 && errno == ENOTSOCK && flags == 0)
        r = write(fd, buf, n);
    return r;
}

/* recv(), or read() on a pipe (flags must then be 0). */
static inline ssize_t bbs_recv(int fd, void *buf, size_t n, int flags)
{
    ssize_t r = recv(fd, buf, n, flags);
    if (r < 0 && errno == ENOTSOCK && flags == 0)
        r = read(fd, buf, n);
    return r;
}

/* Non-blocking read of whatever one call returns; -1/errno as recv. */
static inline ssize_t bbs_recv_nb(const struct chan *c, int fd, void *buf, size_t n)
{
    if (!bbs_is_pipe(c))
        return recv(fd, buf, n, MSG_DONTWAIT);
    int was = is_nonblock(fd);
    xset_nonblock(fd, 1);
    ssize_t r = read(fd, buf, n);
    int e = errno;
    xset_nonblock(fd, was);
    errno = e;
    return r;
}

/*
 * Writes chunk-sized pieces with O_NONBLOCK until the first failure; returns the bytes
 * written and stores the failure's errno (0 if BBS_FILL_LIMIT was reached first).
 * The descriptor's blocking mode is restored.
 */
static inline size_t bbs_fill(int fd, size_t chunk, int *err)
{
    static const char zeros[65536];
    cr_assert(chunk <= sizeof zeros);
    int was = is_nonblock(fd);
    size_t total = 0;
    xset_nonblock(fd, 1);
    *err = 0;
    while (total < BBS_FILL_LIMIT) {
        ssize_t r = bbs_send(fd, zeros, chunk, 0);
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

/* Reads without blocking until nothing arrives for idle_ms; returns the bytes read. */
static inline size_t bbs_drain(const struct chan *c, int fd, int idle_ms)
{
    static char sink[65536];
    size_t total = 0;
    for (;;) {
        ssize_t r = bbs_recv_nb(c, fd, sink, sizeof sink);
        if (r > 0) {
            total += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
            (poll_events(fd, POLLIN, idle_ms) & POLLIN))
            continue;
        return total;
    }
}

/* A call's result for an outcome: the count, or the errno name (errno read now). */
struct bbs_ret {
    char s[32];
};
static inline struct bbs_ret bbs_ret(ssize_t r)
{
    struct bbs_ret o;
    if (r < 0)
        snprintf(o.s, sizeof o.s, "%s", errno_name(errno));
    else
        snprintf(o.s, sizeof o.s, "%zd", r);
    return o;
}

static inline void bbs_set_timeo(int fd, int opt, long sec, long usec)
{
    struct timeval tv = {.tv_sec = sec, .tv_usec = (suseconds_t)usec};
    cr_assert(setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) == 0, "set timeout: %s",
              errno_name(errno));
}

static inline int bbs_getint(int fd, int level, int opt)
{
    int v = -1;
    socklen_t len = sizeof v;
    cr_assert(getsockopt(fd, level, opt, &v, &len) == 0, "getsockopt(%d): %s", opt,
              errno_name(errno));
    return v;
}

/* setsockopt of an int: 0 or the errno value. */
static inline int bbs_setint(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof v) == 0 ? 0 : errno;
}

/* recvmsg into one buffer; *flags_io holds msg_flags before the call and after it. */
static inline ssize_t bbs_recvmsg(int fd, void *buf, size_t n, int flags, int *flags_io)
{
    struct iovec iov = {.iov_base = buf, .iov_len = n};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_flags = *flags_io;
    ssize_t r = recvmsg(fd, &m, flags);
    *flags_io = m.msg_flags;
    return r;
}

/* The msg_flags bits sockspec looks at, by name: "0", "MSG_TRUNC", "MSG_TRUNC|MSG_EOR", ... */
static inline const char *bbs_flags_str(int f, char *out, size_t len)
{
    static const struct {
        int bit;
        const char *name;
    } bits[] = {{MSG_TRUNC, "MSG_TRUNC"}, {MSG_CTRUNC, "MSG_CTRUNC"}, {MSG_EOR, "MSG_EOR"},
                {MSG_OOB, "MSG_OOB"},     {MSG_PEEK, "MSG_PEEK"},     {MSG_WAITALL, "MSG_WAITALL"}};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        if (!(f & bits[i].bit))
            continue;
        used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "|" : "", bits[i].name);
        f &= ~bits[i].bit;
        if (used >= len)
            return out;
    }
    if (f)
        snprintf(out + used, len - used, "%s0x%x", used ? "|" : "", (unsigned)f);
    else if (!used)
        snprintf(out, len, "0");
    return out;
}

/*
 * A watchdog for a call that should return on its own (a timeout expiring, a wait being
 * satisfied): unless cancelled within ms, it sends 32 bytes on fd so the blocked call returns
 * with data instead of hanging, which the check then records as a deviation.
 */
struct bbs_watchdog {
    int ctl[2];
    int fd;
    int ms;
    int drain; /* 1: read fd dry instead of sending (unblocks a sender on a full buffer) */
    int fired;
    struct helper h;
};

static inline void *bbs_watchdog_main(void *arg)
{
    struct bbs_watchdog *w = arg;
    if (poll_events(w->ctl[0], POLLIN, w->ms) == 0) {
        static char sink[65536];
        w->fired = 1;
        if (!w->drain)
            (void)bbs_send(w->fd, "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", 32, 0);
        else
            while (recv(w->fd, sink, sizeof sink, MSG_DONTWAIT) > 0)
                ;
    }
    return NULL;
}

static inline void bbs_watchdog_start(struct bbs_watchdog *w, int fd, int ms)
{
    xpipe(w->ctl);
    w->fd = fd;
    w->ms = ms;
    w->fired = 0;
    w->drain = 0;
    helper_start(&w->h, bbs_watchdog_main, w);
}

/* The same, but the watchdog unblocks a full sender by reading fd dry. */
static inline void bbs_watchdog_start_drain(struct bbs_watchdog *w, int fd, int ms)
{
    xpipe(w->ctl);
    w->fd = fd;
    w->ms = ms;
    w->fired = 0;
    w->drain = 1;
    helper_start(&w->h, bbs_watchdog_main, w);
}

/* Returns 1 if the watchdog had to fire. */
static inline int bbs_watchdog_stop(struct bbs_watchdog *w)
{
    cr_assert(write(w->ctl[1], "x", 1) == 1);
    helper_join(&w->h);
    xclose(&w->ctl[0]);
    xclose(&w->ctl[1]);
    return w->fired;
}

#endif
