/* Raw transports as a careful user would write them without a library: one system call per
 * message each way. Stream sockets and pipes carry a 4-byte length prefix written in the same
 * write as the payload; the reader reads exactly one message (prefix, then body) per loop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

struct ep {
    int rfd, wfd;
    int packet;  /* one message per send: no prefix */
    int use_msg; /* descriptors travel: sendmsg/recvmsg instead of write/read */
    unsigned char *buf;
    size_t cap;
};

union cmsg_space {
    struct cmsghdr hdr;
    unsigned char buf[CMSG_SPACE(sizeof(int))];
};

static int prepare_stream(struct link *lk, size_t max_payload)
{
    return link_socketpair(lk, SOCK_STREAM, max_payload + 4);
}

static int prepare_seqpacket(struct link *lk, size_t max_payload)
{
    return link_socketpair(lk, SOCK_SEQPACKET, max_payload);
}

static int prepare_dgram(struct link *lk, size_t max_payload)
{
    return link_socketpair(lk, SOCK_DGRAM, max_payload);
}

static int prepare_pipe(struct link *lk, size_t max_payload)
{
    (void)max_payload;
    return link_pipes(lk);
}

static int open_ep(struct link *lk, int side, const struct job *job, struct ep **out, int packet)
{
    struct ep *ep = calloc(1, sizeof(*ep));

    if (ep == NULL)
        return -1;
    ep->rfd = lk->fd[side][0];
    ep->wfd = lk->fd[side][1];
    lk->fd[side][0] = lk->fd[side][1] = -1; /* the endpoint owns them now */
    ep->packet = packet;
    ep->use_msg = job->kind == KIND_FDPASS;
    ep->cap = job->payload + 1; /* one spare byte shows a datagram that is too long */
    if ((ep->buf = malloc(ep->cap)) == NULL) {
        free(ep);
        return -1;
    }
    *out = ep;
    return 0;
}

static int open_stream(struct link *lk, int side, const struct job *job, struct ep **out)
{
    return open_ep(lk, side, job, out, 0);
}

static int open_packet(struct link *lk, int side, const struct job *job, struct ep **out)
{
    return open_ep(lk, side, job, out, 1);
}

static void close_ep(struct ep *ep)
{
    (void)close(ep->rfd);
    if (ep->wfd != ep->rfd)
        (void)close(ep->wfd);
    free(ep->buf);
    free(ep);
}

static int read_all(int fd, unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r == -1 && errno == EINTR)
            continue;
        if (r <= 0) {
            errno = r == 0 ? ECONNRESET : errno;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One sendmsg carrying p[0..n) and one descriptor: bytes sent, or -1. */
static ssize_t send_fd(int sock, const unsigned char *p, size_t n, int fd)
{
    union cmsg_space cs;
    struct iovec iov = {.iov_base = (void *)(uintptr_t)p, .iov_len = n};
    struct msghdr m;
    ssize_t w;

    memset(&m, 0, sizeof m);
    memset(&cs, 0, sizeof cs);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cs.buf;
    m.msg_controllen = sizeof cs.buf;
    cs.hdr.cmsg_level = SOL_SOCKET;
    cs.hdr.cmsg_type = SCM_RIGHTS;
    cs.hdr.cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(&cs.hdr), &fd, sizeof fd);
    while ((w = sendmsg(sock, &m, 0)) == -1 && errno == EINTR)
        ;
    return w;
}

/* One recvmsg into p[0..n): bytes read (0 at end of file), descriptor in *fd, flags in *fl. */
static ssize_t recv_fd(int sock, unsigned char *p, size_t n, int *fd, int *fl)
{
    union cmsg_space cs;
    struct iovec iov = {.iov_base = p, .iov_len = n};
    struct msghdr m;
    ssize_t r;

    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cs.buf;
    m.msg_controllen = sizeof cs.buf;
    while ((r = recvmsg(sock, &m, 0)) == -1 && errno == EINTR)
        ;
    *fl = m.msg_flags;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); r >= 0 && c != NULL; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len == CMSG_LEN(sizeof(int)))
            memcpy(fd, CMSG_DATA(c), sizeof(int));
    }
    return r;
}

static void put_len(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_len(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int send_stream(struct ep *ep, unsigned char *msg, size_t len, int fd)
{
    ssize_t w = 0;

    put_len(msg - 4, (uint32_t)len);
    if (fd >= 0 && (w = send_fd(ep->wfd, msg - 4, len + 4, fd)) == -1)
        return -1;
    return bench_write_all(ep->wfd, msg - 4 + w, len + 4 - (size_t)w);
}

static int recv_stream(struct ep *ep, struct rmsg *m)
{
    unsigned char pfx[4];
    size_t got = 0, len;
    int fl = 0;

    m->fd = -1;
    if (ep->use_msg) {
        ssize_t r = recv_fd(ep->rfd, pfx, sizeof pfx, &m->fd, &fl);
        if (r <= 0) {
            errno = r == 0 ? ECONNRESET : errno;
            return -1;
        }
        got = (size_t)r;
    }
    if (read_all(ep->rfd, pfx + got, sizeof pfx - got) == -1)
        return -1;
    if ((len = get_len(pfx)) > ep->cap) {
        errno = EMSGSIZE;
        return -1;
    }
    m->data = ep->buf;
    m->len = len;
    return read_all(ep->rfd, ep->buf, len);
}

static int send_packet(struct ep *ep, unsigned char *msg, size_t len, int fd)
{
    ssize_t w;

    if (fd >= 0)
        w = send_fd(ep->wfd, msg, len, fd);
    else
        while ((w = send(ep->wfd, msg, len, 0)) == -1 && errno == EINTR)
            ;
    if (w >= 0 && (size_t)w != len)
        errno = EMSGSIZE;
    return w >= 0 && (size_t)w == len ? 0 : -1;
}

static int recv_packet(struct ep *ep, struct rmsg *m)
{
    ssize_t r;
    int fl = 0;

    m->fd = -1;
    if (ep->use_msg)
        r = recv_fd(ep->rfd, ep->buf, ep->cap, &m->fd, &fl);
    else
        while ((r = recv(ep->rfd, ep->buf, ep->cap, 0)) == -1 && errno == EINTR)
            ;
    if (r <= 0 || (fl & (MSG_TRUNC | MSG_CTRUNC))) {
        errno = r == 0 ? ECONNRESET : r < 0 ? errno : EMSGSIZE;
        return -1;
    }
    m->data = ep->buf;
    m->len = (size_t)r;
    return 0;
}

const struct transport transport_raw_stream = {"raw-stream",
                                               TCAP_THROUGHPUT | TCAP_LATENCY | TCAP_FDS,
                                               prepare_stream,
                                               open_stream,
                                               send_stream,
                                               transport_flush_nothing,
                                               recv_stream,
                                               close_ep,
                                               NULL};

const struct transport transport_raw_seqpacket = {"raw-seqpacket",
                                                  TCAP_THROUGHPUT | TCAP_LATENCY | TCAP_FDS,
                                                  prepare_seqpacket,
                                                  open_packet,
                                                  send_packet,
                                                  transport_flush_nothing,
                                                  recv_packet,
                                                  close_ep,
                                                  NULL};

const struct transport transport_raw_dgram = {
    "raw-dgram", TCAP_THROUGHPUT | TCAP_LATENCY, prepare_dgram, open_packet,
    send_packet, transport_flush_nothing,        recv_packet,   close_ep,
    NULL};

const struct transport transport_pipe = {
    "pipe",      TCAP_THROUGHPUT | TCAP_LATENCY, prepare_pipe, open_stream,
    send_stream, transport_flush_nothing,        recv_stream,  close_ep,
    NULL};
