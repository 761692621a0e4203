/*
 * Small helpers shared by the close, ready and ancillary checks only.
 */
#ifndef SOCKSPEC_P3_UTIL_H
#define SOCKSPEC_P3_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

/* Representative kind subsets: each type once per origin, mixing plain, _nb and _sw. */
#define KINDS_P3_STREAM(X, c) X(c, sp_stream) X(c, sp_stream_nb_sw) X(c, fs_stream)
#define KINDS_P3_SEQPACKET(X, c) X(c, sp_seqpacket) X(c, sp_seqpacket_nb_sw) X(c, fs_seqpacket)
#define KINDS_P3_DGRAM(X, c) X(c, sp_dgram) X(c, sp_dgram_nb_sw) X(c, fs_dgram)
#define KINDS_P3_CONN(X, c)                                                                        \
    X(c, sp_stream)                                                                                \
    X(c, sp_stream_nb_sw) X(c, fs_stream) X(c, sp_seqpacket_nb_sw) X(c, abs_seqpacket) X(c, tcp4)
#define KINDS_P3_UNIX(X, c)                                                                        \
    X(c, sp_stream)                                                                                \
    X(c, sp_dgram_nb) X(c, sp_seqpacket_sw) X(c, fs_stream_sw) X(c, fs_dgram) X(c, abs_seqpacket)
#define KINDS_P3_SP3(X, c) X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket)

/* A descriptor number that is certainly closed right now (single-threaded at the time). */
static inline int p3_closed_fd(void)
{
    int fd = dup(0);
    cr_assert(fd >= 0, "dup: %s", errno_name(errno));
    close(fd);
    return fd;
}

/* revents as "POLLIN+POLLOUT+...", "none" for 0. */
static inline const char *p3_revents(int re, char *buf, size_t n)
{
    static const struct {
        int bit;
        const char *name;
    } bits[] = {
        {POLLIN, "POLLIN"},       {POLLPRI, "POLLPRI"}, {POLLOUT, "POLLOUT"},
#ifdef SOCKSPEC_HAVE_POLLRDHUP
        {POLLRDHUP, "POLLRDHUP"},
#endif
        {POLLERR, "POLLERR"},     {POLLHUP, "POLLHUP"}, {POLLNVAL, "POLLNVAL"},
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (re & bits[i].bit) {
            size_t l = strlen(buf);
            snprintf(buf + l, n - l, "%s%s", l ? "+" : "", bits[i].name);
            re &= ~bits[i].bit;
        }
    if (re) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s0x%x", l ? "+" : "", (unsigned)re);
    }
    if (!buf[0])
        snprintf(buf, n, "none");
    return buf;
}

/* One non-blocking read of up to n bytes: recv(MSG_DONTWAIT) on sockets, read() on pipes. */
static inline ssize_t p3_read_nb(const struct chan *c, int fd, void *buf, size_t n)
{
    if (c->kind->origin != ORIGIN_PIPE)
        return recv(fd, buf, n, MSG_DONTWAIT);
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

/* One write without SIGPIPE where the OS can suppress it (pipes: plain write()). */
static inline ssize_t p3_write_nosig(const struct chan *c, int fd, const void *buf, size_t n)
{
    if (c->kind->origin == ORIGIN_PIPE)
        return write(fd, buf, n);
    return send(fd, buf, n, ss_nosignal | MSG_DONTWAIT);
}

/* Number of open descriptors below 4096 (fcntl probe). */
static inline int p3_count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

#endif
