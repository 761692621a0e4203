/* frame over SOCK_STREAM and SOCK_SEQPACKET, used as an event-driven program would: non-blocking
 * socket, frame_send with FRAME_MORE queues (a frame with a descriptor goes without it),
 * frame_flush when the queue is large (or full) and at the end of a burst, poll on EAGAIN;
 * the receiver loops frame_next / frame_recv and polls when the socket is empty. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "frame.h"

/* Queued bytes that make the sender flush. */
#define FRAME_FLUSH_AT ((size_t)32 * 1024)

struct ep {
    struct frame_chan chan;
    int fd;
    uint32_t next_id;
};

static int prepare_stream(struct link *lk, size_t max_payload)
{
    return link_socketpair(lk, SOCK_STREAM, max_payload + FRAME_HDR_LEN);
}

static int prepare_seqpacket(struct link *lk, size_t max_payload)
{
    return link_socketpair(lk, SOCK_SEQPACKET, max_payload + FRAME_HDR_LEN);
}

static int open_ep(struct link *lk, int side, const struct job *job, struct ep **out)
{
    struct ep *ep = calloc(1, sizeof(*ep));
    struct frame_opts o;

    if (ep == NULL)
        return -1;
    ep->fd = lk->fd[side][0];
    lk->fd[side][0] = lk->fd[side][1] = -1;
    frame_opts_default(&o);
    o.close_fd_on_fini = 1;
    if (job->payload > o.max_payload) {
        o.max_payload = (uint32_t)job->payload;
        o.sendq_max = 2 * (FRAME_HDR_LEN + job->payload);
    }
    if (bench_set_nonblock(ep->fd) == -1 || frame_chan_init(&ep->chan, ep->fd, &o) == -1) {
        (void)close(ep->fd);
        free(ep);
        return -1;
    }
    *out = ep;
    return 0;
}

static void close_ep(struct ep *ep)
{
    frame_chan_fini(&ep->chan);
    free(ep);
}

/* Flushes the whole queue, polling while the socket is full. */
static int drain(struct ep *ep)
{
    while (frame_flush(&ep->chan) == -1) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (bench_wait_fd(ep->fd, POLLOUT) == -1)
            return -1;
    }
    return 0;
}

static int send_msg(struct ep *ep, unsigned char *msg, size_t len, int fd)
{
    unsigned nfds = fd >= 0 ? 1 : 0;
    int mode = FRAME_FDS_BORROW | (nfds ? 0 : FRAME_MORE);

    while (frame_send(&ep->chan, 1, ep->next_id, msg, len, nfds ? &fd : NULL, nfds, mode) == -1) {
        if (errno != ENOBUFS || drain(ep) == -1)
            return -1;
    }
    ep->next_id++;
    if (frame_pending(&ep->chan) >= FRAME_FLUSH_AT)
        return drain(ep);
    return 0;
}

static int flush_msg(struct ep *ep)
{
    return drain(ep);
}

static int recv_msg(struct ep *ep, struct rmsg *m)
{
    struct frame_msg msg;

    for (;;) {
        ssize_t n;
        int r = frame_next(&ep->chan, &msg);
        if (r == 1)
            break;
        if (r == -1)
            return -1;
        if ((n = frame_recv(&ep->chan)) > 0)
            continue;
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (bench_wait_fd(ep->fd, POLLIN) == -1)
            return -1;
    }
    if (msg.nfds > 1) {
        errno = EPROTO;
        return -1;
    }
    m->data = msg.payload;
    m->len = msg.len;
    m->fd = msg.nfds ? frame_msg_take_fd(&msg, 0) : -1;
    return 0;
}

const struct transport transport_frame_stream = {"frame-stream",
                                                 TCAP_THROUGHPUT | TCAP_LATENCY | TCAP_FDS,
                                                 prepare_stream,
                                                 open_ep,
                                                 send_msg,
                                                 flush_msg,
                                                 recv_msg,
                                                 close_ep,
                                                 NULL};

const struct transport transport_frame_seqpacket = {"frame-seqpacket",
                                                    TCAP_THROUGHPUT | TCAP_LATENCY | TCAP_FDS,
                                                    prepare_seqpacket,
                                                    open_ep,
                                                    send_msg,
                                                    flush_msg,
                                                    recv_msg,
                                                    close_ep,
                                                    NULL};
