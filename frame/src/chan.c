/* The channel: a socket, a decoder and a send queue. */
#include "compat.h"

#include <poll.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>

#include "frame.h"
#include "sendq.h"

/* One recvmsg reads at most this much: inside ssize_t and int everywhere. */
#define RECV_CHUNK_MAX (1u << 30)

union frame_cmsgbuf {
    struct cmsghdr hdr;
    unsigned char buf[CMSG_SPACE((FRAME_MAX_FDS_LIMIT + 1) * sizeof(int)) + FRAME_CTRL_OTHER_SPACE];
};

void frame_opts_default(struct frame_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->max_payload = FRAME_MAX_PAYLOAD_DEFAULT;
    opts->max_fds = FRAME_MAX_FDS_DEFAULT;
    opts->sendq_max = FRAME_SENDQ_MAX_DEFAULT;
}

static int check_opts(const struct frame_opts *o)
{
    if (o->max_payload > FRAME_MAX_PAYLOAD_LIMIT || o->max_fds > FRAME_MAX_FDS_LIMIT ||
        o->sendq_max < FRAME_HDR_LEN + (size_t)o->max_payload) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static int sock_type(int fd, int *type)
{
    socklen_t len = sizeof(*type);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &len) == -1)
        return -1;
    if (*type != SOCK_STREAM && *type != SOCK_SEQPACKET && *type != SOCK_DGRAM) {
        errno = EPROTOTYPE;
        return -1;
    }
    return 0;
}

int frame_chan_init(struct frame_chan *chan, int fd, const struct frame_opts *opts)
{
    memset(chan, 0, sizeof(*chan));
    chan->fd = -1;
    if (opts)
        chan->opts = *opts;
    else
        frame_opts_default(&chan->opts);
    if (check_opts(&chan->opts) == -1 || sock_type(fd, &chan->type) == -1 ||
        frame_compat_nosigpipe(fd) == -1)
        return -1;
    /* One spare slot: a channel without descriptors still receives and closes stray ones. */
    chan->ctrl_fds = chan->opts.max_fds ? chan->opts.max_fds : 1;
    if (frame_decoder_init(&chan->dec, chan->opts.max_payload, chan->opts.max_fds,
                           chan->type != SOCK_STREAM) == -1)
        return -1;
    if ((chan->sq = frame_sendq_new()) == NULL) {
        frame_decoder_fini(&chan->dec);
        return -1;
    }
    chan->fd = fd;
    return 0;
}

void frame_chan_fini(struct frame_chan *chan)
{
    frame_decoder_fini(&chan->dec);
    frame_sendq_free(chan->sq);
    chan->sq = NULL;
    if (chan->opts.close_fd_on_fini && chan->fd >= 0)
        (void)close(chan->fd);
    chan->fd = -1;
}

/* Moves the SCM_RIGHTS descriptors of m into fds; returns how many. Other control messages
 * (FRAME_CTRL_OTHER_SPACE) are left to go with the buffer. */
static unsigned take_rights(struct msghdr *m, int *fds, unsigned room)
{
    unsigned n = 0;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
        size_t k;
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
            continue;
        k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        if (k > room - n)
            k = room - n;
        memcpy(fds + n, CMSG_DATA(c), k * sizeof(int));
        n += (unsigned)k;
    }
    return n;
}

static ssize_t recv_flags(struct frame_chan *chan, int flags)
{
    union frame_cmsgbuf cb;
    int fds[sizeof(cb) / sizeof(int)];
    struct msghdr m;
    struct iovec iov;
    size_t room;
    unsigned nfds;
    ssize_t n;
    int in = 0;

    if (chan->sq == NULL) {
        errno = EINVAL;
        return -1;
    }
    if ((iov.iov_base = frame_decoder_space(&chan->dec, &room)) == NULL)
        return -1;
    if (chan->eof)
        return 0;
    if (room == 0) {
        errno = ENOBUFS;
        return -1;
    }
    iov.iov_len = room < RECV_CHUNK_MAX ? room : RECV_CHUNK_MAX;
    frame_compat_msg_set(&m, &iov, 1, &cb,
                         CMSG_SPACE(chan->ctrl_fds * sizeof(int)) + FRAME_CTRL_OTHER_SPACE);
again:
    if ((n = frame_compat_recvmsg(chan->fd, &m, flags)) == -1) {
        if (errno == EINTR)
            goto again;
        if (errno != EMSGSIZE)
            return -1;
        n = 0;
        m.msg_controllen = 0;
        m.msg_flags = MSG_CTRUNC;
    }
    nfds = take_rights(&m, fds, (unsigned)(sizeof(fds) / sizeof(fds[0])));
    frame_compat_cloexec(fds, nfds);
    /* The room left for other messages must not let more descriptors in than before. */
    if ((m.msg_flags & MSG_CTRUNC) || nfds > chan->ctrl_fds)
        in |= FRAME_IN_CTRUNC;
    if (m.msg_flags & MSG_TRUNC)
        in |= FRAME_IN_TRUNC;
    if (n == 0 && nfds == 0 && in == 0 && chan->type != SOCK_DGRAM) {
        chan->eof = 1;
        (void)frame_decoder_eof(&chan->dec);
        return 0;
    }
    if (frame_decoder_commit(&chan->dec, (size_t)n, fds, nfds, in) == -1)
        return -1;
    return n;
}

ssize_t frame_recv(struct frame_chan *chan)
{
    return recv_flags(chan, 0);
}

int frame_next(struct frame_chan *chan, struct frame_msg *msg)
{
    return frame_decoder_next(&chan->dec, msg);
}

int frame_next_batch(struct frame_chan *chan, struct frame_msg *msgs, int max)
{
    return frame_decoder_next_batch(&chan->dec, msgs, max);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls for ev until the deadline (-1: none): 1 ready, -1 with ETIMEDOUT or an error. */
static int wait_for(int fd, short ev, int64_t deadline)
{
    struct pollfd p;
    int64_t left;
    int r;

again:
    left = deadline < 0 ? -1 : deadline - now_ms();
    if (deadline >= 0 && left < 0)
        left = 0;
    p.fd = fd;
    p.events = ev;
    p.revents = 0;
    if ((r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left)) == -1 && errno == EINTR)
        goto again;
    if (r == 0 && deadline >= 0 && now_ms() < deadline)
        goto again;
    if (r == 0)
        errno = ETIMEDOUT;
    return r == 1 ? 1 : -1;
}

/* Spurious readiness (poll ready, the call still EAGAIN) must not outlive the deadline. */
static int expired(int64_t deadline)
{
    if (deadline >= 0 && now_ms() >= deadline) {
        errno = ETIMEDOUT;
        return 1;
    }
    return 0;
}

int frame_wait_out_(struct frame_chan *chan, int64_t deadline)
{
    if (expired(deadline) || wait_for(chan->fd, POLLOUT, deadline) == -1)
        return -1;
    return 0;
}

static int64_t deadline_of(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Queues the frame, waiting for room until the deadline: 0, or -1 with nothing queued. */
static int queue_wait(struct frame_chan *chan, uint32_t type, uint32_t id, const void *payload,
                      size_t len, const int *fds, unsigned nfds, enum frame_fd_mode mode,
                      int64_t deadline)
{
    while (frame_send_until_(chan, type, id, payload, len, fds, nfds, mode, &deadline) == -1) {
        if (errno != ENOBUFS)
            return -1;
        if (frame_flush_flags_(chan, FRAME_DONTWAIT) == -1 && !frame_compat_would_block(errno))
            return -1;
        if (frame_pending(chan) &&
            (expired(deadline) || wait_for(chan->fd, POLLOUT, deadline) == -1)) {
            if (errno == ETIMEDOUT)
                errno = ENOBUFS;
            return -1;
        }
    }
    return 0;
}

int frame_send_wait(struct frame_chan *chan, uint32_t type, uint32_t id, const void *payload,
                    size_t len, const int *fds, unsigned nfds, enum frame_fd_mode mode,
                    int timeout_ms)
{
    int64_t deadline = deadline_of(timeout_ms);

    if (queue_wait(chan, type, id, payload, len, fds, nfds, mode, deadline) == -1) {
        frame_fds_give_up_(fds, nfds, mode);
        return -1;
    }
    for (;;) {
        if (FRAME_DONTWAIT == 0 && frame_pending(chan) &&
            wait_for(chan->fd, POLLOUT, deadline) == -1)
            return -1;
        if (frame_flush_flags_(chan, FRAME_DONTWAIT) == 0)
            return 0;
        if (!frame_compat_would_block(errno) || expired(deadline))
            return -1;
        if (FRAME_DONTWAIT != 0 && wait_for(chan->fd, POLLOUT, deadline) == -1)
            return -1;
    }
}

int frame_recv_wait(struct frame_chan *chan, struct frame_msg *msg, int timeout_ms)
{
    int64_t deadline = deadline_of(timeout_ms);
    int r;

    for (;;) {
        if ((r = frame_next(chan, msg)) != 0)
            return r;
        if (chan->eof)
            return 0;
        if (FRAME_DONTWAIT == 0 && wait_for(chan->fd, POLLIN, deadline) == -1)
            return -1;
        if (recv_flags(chan, FRAME_DONTWAIT) >= 0)
            continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || expired(deadline))
            return -1;
        if (FRAME_DONTWAIT != 0 && wait_for(chan->fd, POLLIN, deadline) == -1)
            return -1;
    }
}

/* Flushes within the deadline, then frees: whatever is left is dropped and reported. */
static int flush_until(struct frame_chan *chan, int64_t deadline)
{
    for (;;) {
        if (FRAME_DONTWAIT == 0 && frame_pending(chan) &&
            wait_for(chan->fd, POLLOUT, deadline) == -1)
            return -1;
        if (frame_flush_flags_(chan, FRAME_DONTWAIT) == 0)
            return 0;
        if (!frame_compat_would_block(errno) || expired(deadline))
            return -1;
        if (FRAME_DONTWAIT != 0 && wait_for(chan->fd, POLLOUT, deadline) == -1)
            return -1;
    }
}

int frame_chan_close(struct frame_chan *chan, int timeout_ms)
{
    int r = flush_until(chan, deadline_of(timeout_ms)), e = errno;

    frame_chan_fini(chan);
    errno = e;
    return r;
}
