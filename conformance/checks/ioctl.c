/*
 * ioctls that report queue sizes: FIONREAD and Linux's TIOCINQ (bytes to read), SIOCOUTQ and
 * TIOCOUTQ (bytes not yet gone: Linux), FIONWRITE and FIONSPACE (the BSDs), on connected,
 * unconnected and listening sockets, on pipes, and after the peer or the socket itself
 * stopped a direction.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"
#ifdef SOCKSPEC_HAVE_SIOCOUTQ
#include <linux/sockios.h>
#endif

#define CATEGORY ioctl

/* Records ioctl(fd, req) of an int: the value or the errno name. */
static void int_ioctl_outcome(struct chan *c, int fd, unsigned long req)
{
    int v = -1;
    if (ioctl(fd, req, &v) < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%d", v);
}

/* A fresh socket of c's domain and type, neither bound nor connected. */
static int unconnected(const struct chan *c)
{
    int fd = socket(c->kind->domain, c->kind->type, 0);
    REQUIRE(fd >= 0, "socket: %s", sockspec_errno_name(errno));
    return fd;
}

/* 100 bytes sent from a and arrived at b (bounded wait). */
static void queue_100(struct chan *c)
{
    char buf[100];
    memset(buf, 'q', sizeof buf);
    xsend_all(c->a, buf, sizeof buf);
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN, "the data never arrived");
}

/* ---- bytes to read ---------------------------------------------------------------------- */

CHECK(fionread_unconnected, "FIONREAD on a fresh socket, never connected: 0, or the errno.")
{
    int fd = unconnected(c);
    int_ioctl_outcome(c, fd, FIONREAD);
    xclose(&fd);
}
INSTANTIATE(fionread_unconnected, KINDS_IOCTL_TYPES)

CHECK(fionread_listener, "FIONREAD on a listening socket: the errno (Linux: EINVAL), or a count.")
{
    struct scratch_dir d;
    struct sockaddr_storage addr;
    socklen_t len;
    int fd = listener_open(c, &d, 4, &addr, &len);
    int_ioctl_outcome(c, fd, FIONREAD);
    listener_close(&fd, &d);
}
INSTANTIATE(fionread_listener, KINDS_IOCTL_LISTENERS)

CHECK(fionread_pipe_write_end,
      "FIONREAD on the write end of a pipe holding 100 bytes: 100 (the pipe's count) or 0.")
{
    char buf[100];
    memset(buf, 'p', sizeof buf);
    xsend_all(c->a, buf, sizeof buf);
    int_ioctl_outcome(c, c->a, FIONREAD);
}
INSTANTIATE(fionread_pipe_write_end, KINDS_PIPES)

CHECK(fionread_after_peer_close,
      "FIONREAD on the receiver after 100 bytes arrived and the peer closed: 100 (still queued).")
{
    queue_100(c);
    xclose(&c->a);
    int_ioctl_outcome(c, c->b, FIONREAD);
}
INSTANTIATE(fionread_after_peer_close, KINDS_IOCTL_QUEUED)

CHECK(fionread_after_own_shut_rd,
      "FIONREAD after 100 bytes arrived and the receiver shut down reading: 100 if the data is "
      "kept, 0 if shutdown flushed it.")
{
    queue_100(c);
    REQUIRE(shutdown(c->b, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    int_ioctl_outcome(c, c->b, FIONREAD);
}
INSTANTIATE(fionread_after_own_shut_rd, KINDS_IOCTL_SOCKETS)

CHECK(tiocinq_on_socket,
      "TIOCINQ (Linux's other name for FIONREAD) after 100 bytes arrived: 100; unsupported where "
      "it is not defined.")
{
#ifndef SOCKSPEC_HAVE_TIOCINQ
    UNSUPPORTED(c, "TIOCINQ");
#else
    queue_100(c);
    int_ioctl_outcome(c, c->b, TIOCINQ);
#endif
}
INSTANTIATE(tiocinq_on_socket, KINDS_IOCTL_SOCKETS)

/* ---- bytes not yet gone ----------------------------------------------------------------- */

/* An output-queue size against the 100 bytes sent: "0", "100", "above 100", "below 100". */
static const char *against_100(int v, char *buf, size_t n)
{
    if (v == 0 || v == 100)
        snprintf(buf, n, "%d", v);
    else
        snprintf(buf, n, "%s 100", v > 100 ? "above" : "below");
    return buf;
}

#if defined(SOCKSPEC_HAVE_SIOCOUTQ) || defined(SOCKSPEC_HAVE_TIOCOUTQ)
/* The output queue of a by req after 100 bytes sent unread, then after b read them all:
 * "<after the send>,<after the read>", or the errno of the first ioctl. */
static void outq_outcome(struct chan *c, unsigned long req)
{
    char s1[32], s2[32], buf[100];
    int v1 = -1, v2 = -1;
    queue_100(c);
    if (ioctl(c->a, req, &v1) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    xrecv_exact(c->b, buf, sizeof buf);
    REQUIRE(ioctl(c->a, req, &v2) == 0, "second ioctl: %s", sockspec_errno_name(errno));
    outcome(c, "%s,%s", against_100(v1, s1, sizeof s1), against_100(v2, s2, sizeof s2));
}
#endif

CHECK(siocoutq_unread_then_read,
      "SIOCOUTQ of the sender with 100 bytes unread by the peer, then once they are read: "
      "\"<first>,<second>\" against 100 (Linux AF_UNIX counts buffer memory: \"above 100,0\").")
{
#ifndef SOCKSPEC_HAVE_SIOCOUTQ
    UNSUPPORTED(c, "SIOCOUTQ");
#else
    outq_outcome(c, SIOCOUTQ);
#endif
}
INSTANTIATE(siocoutq_unread_then_read, KINDS_IOCTL_OUTQ)

CHECK(siocoutq_unconnected, "SIOCOUTQ on a fresh socket, never connected: 0, or the errno.")
{
#ifndef SOCKSPEC_HAVE_SIOCOUTQ
    UNSUPPORTED(c, "SIOCOUTQ");
#else
    int fd = unconnected(c);
    int_ioctl_outcome(c, fd, SIOCOUTQ);
    xclose(&fd);
#endif
}
INSTANTIATE(siocoutq_unconnected, KINDS_IOCTL_TYPES)

CHECK(siocoutq_listener, "SIOCOUTQ on a listening socket: the errno, or a count.")
{
#ifndef SOCKSPEC_HAVE_SIOCOUTQ
    UNSUPPORTED(c, "SIOCOUTQ");
#else
    struct scratch_dir d;
    struct sockaddr_storage addr;
    socklen_t len;
    int fd = listener_open(c, &d, 4, &addr, &len);
    int_ioctl_outcome(c, fd, SIOCOUTQ);
    listener_close(&fd, &d);
#endif
}
INSTANTIATE(siocoutq_listener, KINDS_IOCTL_LISTENERS)

CHECK(tiocoutq_on_socket,
      "TIOCOUTQ, the terminal request, on a socket with 100 bytes unread by the peer, then read: "
      "as SIOCOUTQ (Linux: the same request) or the errno.")
{
#ifndef SOCKSPEC_HAVE_TIOCOUTQ
    UNSUPPORTED(c, "TIOCOUTQ");
#else
    outq_outcome(c, TIOCOUTQ);
#endif
}
INSTANTIATE(tiocoutq_on_socket, KINDS_IOCTL_SP)

/* ---- the BSDs' send-buffer requests ---------------------------------------------------- */

CHECK(fionwrite_unread,
      "FIONWRITE of the sender with 100 bytes unread by the peer: the bytes still in its send "
      "buffer; unsupported where it is not defined (Linux).")
{
#ifndef SOCKSPEC_HAVE_FIONWRITE
    UNSUPPORTED(c, "FIONWRITE");
#else
    queue_100(c);
    int_ioctl_outcome(c, c->a, FIONWRITE);
#endif
}
INSTANTIATE(fionwrite_unread, KINDS_IOCTL_SP)

CHECK(fionspace_fresh,
      "FIONSPACE of a fresh connected sender: the free space of its send buffer (a count); "
      "unsupported where it is not defined (Linux).")
{
#ifndef SOCKSPEC_HAVE_FIONSPACE
    UNSUPPORTED(c, "FIONSPACE");
#else
    int v = -1;
    if (ioctl(c->a, FIONSPACE, &v) < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%s", v > 0 ? "positive" : v == 0 ? "0" : "negative");
#endif
}
INSTANTIATE(fionspace_fresh, KINDS_IOCTL_SP)
