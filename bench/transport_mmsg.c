/* The ceiling for a packet socket: raw SOCK_SEQPACKET, one message per datagram as raw-seqpacket,
 * but batched as frame batches (sendmmsg of up to 64 datagrams built once, only the sequence
 * numbers change; recvmmsg with MSG_WAITFORONE into up to 32 slots). What no library on this
 * socket type can beat without putting several messages into one datagram. Linux and the three
 * BSDs have the calls (their <sys/socket.h> defines MSG_WAITFORONE); macOS does not, and there
 * this transport is not built. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

/* Datagrams per sendmmsg, as frame's SEND_BATCH_MAX; slots per recvmmsg, as frame's read-ahead
 * (31) plus the one read into the decoder. Buffers stay under 4 MiB whatever the payload. */
#define MMSG_TX_BATCH 64u
#define MMSG_RX_SLOTS 32u
#define MMSG_BUF_MAX ((size_t)4 << 20)

struct ep {
    int fd;
    size_t slot;      /* bytes per receive slot: payload + 1 shows a datagram too long */
    unsigned nslots;  /* receive slots */
    unsigned got, at; /* datagrams of the last recvmmsg; the next one to deliver */
    unsigned char *buf;
    struct iovec *iov;
    struct mmsghdr *mm;
};

static int prepare(struct link *lk, size_t max_payload)
{
    return link_socketpair(lk, SOCK_SEQPACKET, max_payload);
}

static unsigned slots_for(size_t bytes, unsigned most)
{
    size_t k = MMSG_BUF_MAX / bytes;

    return k == 0 ? 1 : k < most ? (unsigned)k : most;
}

static int open_ep(struct link *lk, int side, const struct job *job, struct ep **out)
{
    struct ep *ep = calloc(1, sizeof(*ep));

    if (ep == NULL)
        return -1;
    ep->slot = job->payload + 1;
    ep->nslots = slots_for(ep->slot, MMSG_RX_SLOTS);
    if (side == SIDE_RX && ((ep->buf = malloc(ep->nslots * ep->slot)) == NULL ||
                            (ep->iov = calloc(ep->nslots, sizeof(*ep->iov))) == NULL ||
                            (ep->mm = calloc(ep->nslots, sizeof(*ep->mm))) == NULL)) {
        free(ep->buf);
        free(ep->iov);
        free(ep);
        return -1; /* the link keeps the socket, and closes it */
    }
    /* Receive slots, aimed once: recvmmsg rewrites only msg_len and msg_flags. */
    for (unsigned j = 0; side == SIDE_RX && j < ep->nslots; j++) {
        ep->iov[j].iov_base = ep->buf + (size_t)j * ep->slot;
        ep->iov[j].iov_len = ep->slot;
        ep->mm[j].msg_hdr.msg_iov = &ep->iov[j];
        ep->mm[j].msg_hdr.msg_iovlen = 1;
    }
    ep->fd = lk->fd[side][0];
    lk->fd[side][0] = lk->fd[side][1] = -1;
    *out = ep;
    return 0;
}

static void close_ep(struct ep *ep)
{
    (void)close(ep->fd);
    free(ep->buf);
    free(ep->iov);
    free(ep->mm);
    free(ep);
}

/* Sends vec[0..n): 0, or -1 with errno (EIO if the kernel took none without an error). */
static int send_all(int fd, struct mmsghdr *vec, unsigned n)
{
    while (n > 0) {
        int w = sendmmsg(fd, vec, n, 0);
        if (w == -1 && errno == EINTR)
            continue;
        if (w <= 0) {
            errno = w == 0 ? EIO : errno;
            return -1;
        }
        vec += w;
        n -= (unsigned)w;
    }
    return 0;
}

static int stream_tx(struct ep *ep, const struct job *job)
{
    unsigned k = slots_for(job->payload, MMSG_TX_BATCH);
    unsigned char *b = malloc((size_t)k * job->payload);
    struct iovec iov[MMSG_TX_BATCH];
    struct mmsghdr mm[MMSG_TX_BATCH];
    int r = 0;

    if (b == NULL)
        return -1;
    memset(mm, 0, sizeof mm);
    for (unsigned j = 0; j < k; j++) {
        payload_fill(b + (size_t)j * job->payload, job->payload);
        iov[j].iov_base = b + (size_t)j * job->payload;
        iov[j].iov_len = job->payload;
        mm[j].msg_hdr.msg_iov = &iov[j];
        mm[j].msg_hdr.msg_iovlen = 1;
    }
    for (uint64_t i = 0; i < job->count && r == 0; i += k) {
        unsigned m = job->count - i < k ? (unsigned)(job->count - i) : k;
        for (unsigned j = 0; j < m; j++)
            payload_stamp(b + (size_t)j * job->payload, job->payload, i + j);
        r = send_all(ep->fd, mm, m);
    }
    free(b);
    return r;
}

static int refill(struct ep *ep)
{
    int n;

    while ((n = recvmmsg(ep->fd, ep->mm, ep->nslots, MSG_WAITFORONE, NULL)) == -1 && errno == EINTR)
        ;
    if (n <= 0) {
        errno = n == 0 ? EIO : errno;
        return -1;
    }
    ep->got = (unsigned)n;
    ep->at = 0;
    return 0;
}

static int recv_msg(struct ep *ep, struct rmsg *m)
{
    const struct mmsghdr *d;

    if (ep->at == ep->got && refill(ep) == -1)
        return -1;
    d = &ep->mm[ep->at++];
    if (d->msg_len == 0 || (d->msg_hdr.msg_flags & MSG_TRUNC)) {
        errno = d->msg_len == 0 ? ECONNRESET : EMSGSIZE;
        return -1;
    }
    m->data = d->msg_hdr.msg_iov->iov_base;
    m->len = d->msg_len;
    m->fd = -1;
    return 0;
}

const struct transport transport_raw_seqpacket_mmsg = {
    "raw-seqpacket-mmsg",    TCAP_THROUGHPUT, prepare,  open_ep,  transport_send_unsupported,
    transport_flush_nothing, recv_msg,        close_ep, stream_tx};
