/* The channel: a socket, a decoder and a send queue. */
#include "compat.h"

#include <poll.h>
#include <stdlib.h>
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

/* Descriptors one read can carry at most: as many as fill the largest control buffer. */
#define RIGHTS_ROOM (sizeof(union frame_cmsgbuf) / sizeof(int))

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
        frame_compat_refused_options(fd) == -1 || frame_compat_nosigpipe(fd) == -1)
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

static void readahead_free(struct frame_chan *chan);

void frame_chan_fini(struct frame_chan *chan)
{
    readahead_free(chan);
    frame_decoder_fini(&chan->dec);
    frame_sendq_free(chan->sq);
    chan->sq = NULL;
    if (chan->opts.close_fd_on_fini && chan->fd >= 0)
        (void)close(chan->fd);
    chan->fd = -1;
}

/* How many descriptors control message c holds. */
static size_t cmsg_fd_count(const struct cmsghdr *c)
{
    return c->cmsg_len < CMSG_LEN(0) ? 0 : (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
}

/* Closes the descriptors of a control message the kernel added on its own (SCM_PIDFD). */
static void close_kernel_fds(const struct cmsghdr *c)
{
    size_t k = cmsg_fd_count(c);

    for (size_t i = 0; i < k; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        (void)close(fd);
    }
}

/* Moves the SCM_RIGHTS descriptors of m into fds; returns how many. Descriptors the kernel
 * added on its own are closed; other control messages (FRAME_CTRL_OTHER_SPACE) are left to go
 * with the buffer. */
static unsigned take_rights(struct msghdr *m, int *fds, unsigned room)
{
    unsigned n = 0;

    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
        size_t k;
        if (frame_compat_kernel_fds(c))
            close_kernel_fds(c);
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        k = cmsg_fd_count(c);
        if (k > room - n)
            k = room - n;
        memcpy(fds + n, CMSG_DATA(c), k * sizeof(int));
        n += (unsigned)k;
    }
    return n;
}

static size_t ctrl_len(const struct frame_chan *chan)
{
    return CMSG_SPACE(chan->ctrl_fds * sizeof(int)) + FRAME_CTRL_OTHER_SPACE;
}

/* The FRAME_IN_* flags of a read that brought nfds descriptors. The room left for other
 * messages must not let more descriptors in than before. */
static int in_flags(const struct frame_chan *chan, const struct msghdr *m, unsigned nfds)
{
    int in = 0;

    if ((m->msg_flags & MSG_CTRUNC) || nfds > chan->ctrl_fds)
        in |= FRAME_IN_CTRUNC;
    if (m->msg_flags & MSG_TRUNC)
        in |= FRAME_IN_TRUNC;
    return in;
}

/* End of file: nothing at all from a connection (a datagram socket has empty datagrams). */
static int is_eof(const struct frame_chan *chan, size_t n, unsigned nfds, int in)
{
    return n == 0 && nfds == 0 && in == 0 && chan->type != SOCK_DGRAM;
}

static ssize_t note_eof(struct frame_chan *chan)
{
    chan->eof = 1;
    (void)frame_decoder_eof(&chan->dec);
    return 0;
}

/* Hands n bytes just read into the decoder's space, with m's descriptors and flags, to the
 * decoder. */
static ssize_t take_read(struct frame_chan *chan, struct msghdr *m, size_t n)
{
    int fds[RIGHTS_ROOM];
    unsigned nfds = take_rights(m, fds, (unsigned)RIGHTS_ROOM);
    int in = in_flags(chan, m, nfds);

    frame_compat_cloexec(fds, nfds);
    if (is_eof(chan, n, nfds, in))
        return note_eof(chan);
    if (frame_decoder_commit(&chan->dec, n, fds, nfds, in) == -1)
        return -1;
    return (ssize_t)n;
}

/* A read the socket refused as too large for its control buffer: truncated, empty. */
static ssize_t take_refused(struct frame_chan *chan, struct msghdr *m)
{
    m->msg_controllen = 0;
    m->msg_flags = MSG_CTRUNC;
    return take_read(chan, m, 0);
}

static ssize_t recv_one(struct frame_chan *chan, void *space, size_t room, int flags)
{
    union frame_cmsgbuf cb;
    struct msghdr m;
    struct iovec iov;
    ssize_t n;

    iov.iov_base = space;
    iov.iov_len = room < RECV_CHUNK_MAX ? room : RECV_CHUNK_MAX;
    frame_compat_msg_set(&m, &iov, 1, &cb, ctrl_len(chan));
    while ((n = frame_compat_recvmsg(chan->fd, &m, flags)) == -1 && errno == EINTR)
        continue;
    if (n == -1)
        return errno == EMSGSIZE ? take_refused(chan, &m) : -1;
    return take_read(chan, &m, (size_t)n);
}

#if FRAME_MMSG
/* Datagrams read ahead on a packet socket: up to READAHEAD_SLOTS besides the one read into the
 * decoder, each buffer header + max_payload (none is cut), READAHEAD_MEM bytes of buffers. */
#define READAHEAD_SLOTS 31u
#define READAHEAD_MEM ((size_t)4 << 20)

struct frame_ra_entry_ {
    size_t len;
    int in; /* FRAME_IN_* */
    int eof;
    unsigned nfds;
};

struct frame_readahead_ {
    unsigned nslots, head, count; /* entries [head, head + count) wait */
    size_t slot_len, ctrl_len;
    unsigned fds_each;
    unsigned char *data; /* nslots buffers of slot_len */
    unsigned char *ctrl; /* nslots + 1 control buffers of ctrl_len (0: the decoder's read) */
    int *fds;            /* nslots x fds_each */
    struct mmsghdr *mm;  /* nslots + 1 */
    struct iovec *iov;   /* nslots + 1 */
    struct frame_ra_entry_ *e;
};

static void readahead_drop(struct frame_readahead_ *ra)
{
    for (unsigned i = ra->head; i < ra->head + ra->count; i++) {
        const int *fds = ra->fds + (size_t)i * ra->fds_each;
        for (unsigned k = 0; k < ra->e[i].nfds; k++)
            (void)close(fds[k]);
    }
    ra->head = ra->count = 0;
}

static void readahead_free(struct frame_chan *chan)
{
    struct frame_readahead_ *ra = chan->sq ? chan->sq->ra : NULL;

    if (ra == NULL)
        return;
    readahead_drop(ra);
    free(ra->data);
    free(ra->ctrl);
    free(ra->fds);
    free(ra->mm);
    free(ra->iov);
    free(ra->e);
    free(ra);
    chan->sq->ra = NULL;
}

static int readahead_alloc(struct frame_readahead_ *ra)
{
    size_t v = (size_t)ra->nslots + 1;

    ra->data = malloc((size_t)ra->nslots * ra->slot_len);
    ra->ctrl = calloc(v, ra->ctrl_len);
    ra->fds = calloc((size_t)ra->nslots * ra->fds_each, sizeof(int));
    ra->mm = calloc(v, sizeof(*ra->mm));
    ra->iov = calloc(v, sizeof(*ra->iov));
    ra->e = calloc(ra->nslots, sizeof(*ra->e));
    if (ra->data == NULL || ra->ctrl == NULL || ra->fds == NULL || ra->mm == NULL ||
        ra->iov == NULL || ra->e == NULL) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

/* The channel's read-ahead, made on first use; NULL if no slot fits the memory bound. */
static struct frame_readahead_ *readahead_get(struct frame_chan *chan)
{
    size_t slot_len = FRAME_HDR_LEN + (size_t)chan->opts.max_payload;
    size_t fit = READAHEAD_MEM / slot_len;
    struct frame_readahead_ *ra = chan->sq->ra;

    if (ra != NULL || fit == 0 || (ra = calloc(1, sizeof(*ra))) == NULL)
        return ra;
    ra->nslots = fit < READAHEAD_SLOTS ? (unsigned)fit : READAHEAD_SLOTS;
    ra->slot_len = slot_len;
    ra->ctrl_len = ctrl_len(chan);
    ra->fds_each = (unsigned)(ra->ctrl_len / sizeof(int));
    chan->sq->ra = ra;
    if (readahead_alloc(ra) == -1) {
        readahead_free(chan);
        return NULL;
    }
    return ra;
}

/* Keeps datagram i (>= 1) of the last recvmmsg for later. */
static void readahead_keep(const struct frame_chan *chan, struct frame_readahead_ *ra, unsigned i)
{
    struct msghdr *m = &ra->mm[i].msg_hdr;
    struct frame_ra_entry_ *e = &ra->e[i - 1];
    int *fds = ra->fds + (size_t)(i - 1) * ra->fds_each;

    e->nfds = take_rights(m, fds, ra->fds_each);
    frame_compat_cloexec(fds, e->nfds);
    e->len = ra->mm[i].msg_len;
    e->in = in_flags(chan, m, e->nfds);
    e->eof = is_eof(chan, e->len, e->nfds, e->in);
    ra->count++;
}

/* The next datagram read ahead, into the decoder's (empty) space. */
static ssize_t readahead_take(struct frame_chan *chan, struct frame_readahead_ *ra,
                              unsigned char *space)
{
    unsigned i = ra->head;
    const struct frame_ra_entry_ *e = &ra->e[i];

    ra->head++;
    ra->count--;
    if (ra->count == 0)
        ra->head = 0;
    if (e->eof) {
        readahead_drop(ra);
        return note_eof(chan);
    }
    if (e->len)
        memcpy(space, ra->data + (size_t)i * ra->slot_len, e->len);
    if (frame_decoder_commit(&chan->dec, e->len, ra->fds + (size_t)i * ra->fds_each, e->nfds,
                             e->in) == -1) {
        readahead_drop(ra);
        return -1;
    }
    return (ssize_t)e->len;
}

static void readahead_aim(struct frame_readahead_ *ra, void *space, size_t room)
{
    for (unsigned i = 0; i <= ra->nslots; i++) {
        ra->iov[i].iov_base = i ? ra->data + (size_t)(i - 1) * ra->slot_len : space;
        ra->iov[i].iov_len = i ? ra->slot_len : room;
        frame_compat_msg_set(&ra->mm[i].msg_hdr, &ra->iov[i], 1,
                             ra->ctrl + (size_t)i * ra->ctrl_len, ra->ctrl_len);
        ra->mm[i].msg_len = 0;
    }
}

/* recvmmsg: the first datagram into the decoder's space, the others kept in the read-ahead. */
static ssize_t recv_batch(struct frame_chan *chan, struct frame_readahead_ *ra, void *space,
                          size_t room, int flags)
{
    ssize_t r;
    int got;

    if (ra->count)
        return readahead_take(chan, ra, space);
    readahead_aim(ra, space, room < RECV_CHUNK_MAX ? room : RECV_CHUNK_MAX);
    while ((got = frame_compat_recvmmsg(chan->fd, ra->mm, ra->nslots + 1, flags)) == -1 &&
           errno == EINTR)
        continue;
    if (got == -1)
        return errno == EMSGSIZE ? take_refused(chan, &ra->mm[0].msg_hdr) : -1;
    /* All are kept, even after an end of file: taking that one closes the descriptors of the rest.
     */
    for (unsigned i = 1; i < (unsigned)got; i++)
        readahead_keep(chan, ra, i);
    if ((r = take_read(chan, &ra->mm[0].msg_hdr, ra->mm[0].msg_len)) <= 0)
        readahead_drop(ra);
    return r;
}

/* Feeds the next datagram read ahead to the decoder, once it has delivered its message:
 * 1 if there was one, 0 if none waits. */
static int readahead_step(struct frame_chan *chan)
{
    struct frame_readahead_ *ra = chan->sq ? chan->sq->ra : NULL;
    size_t room;
    void *space;

    if (ra == NULL || ra->count == 0)
        return 0;
    if ((space = frame_decoder_space(&chan->dec, &room)) == NULL) {
        readahead_drop(ra);
        return 0;
    }
    if (room == 0)
        return 0;
    (void)readahead_take(chan, ra, space);
    return 1;
}

size_t frame_readahead_mem_(const struct frame_chan *chan)
{
    const struct frame_readahead_ *ra = chan->sq ? chan->sq->ra : NULL;
    size_t v;

    if (ra == NULL)
        return 0;
    v = (size_t)ra->nslots + 1;
    return sizeof(*ra) + (size_t)ra->nslots * ra->slot_len + v * ra->ctrl_len +
           (size_t)ra->nslots * ra->fds_each * sizeof(int) + v * sizeof(*ra->mm) +
           v * sizeof(*ra->iov) + (size_t)ra->nslots * sizeof(*ra->e);
}
#else
static void readahead_free(struct frame_chan *chan)
{
    (void)chan;
}

static int readahead_step(struct frame_chan *chan)
{
    (void)chan;
    return 0;
}

size_t frame_readahead_mem_(const struct frame_chan *chan)
{
    (void)chan;
    return 0;
}
#endif

static ssize_t recv_flags(struct frame_chan *chan, int flags)
{
    size_t room;
    void *space;

    if (chan->sq == NULL) {
        errno = EINVAL;
        return -1;
    }
    if ((space = frame_decoder_space(&chan->dec, &room)) == NULL)
        return -1;
    if (chan->eof)
        return 0;
    if (room == 0) {
        errno = ENOBUFS;
        return -1;
    }
#if FRAME_MMSG
    if (chan->type != SOCK_STREAM && frame_batching_) {
        struct frame_readahead_ *ra = readahead_get(chan);
        if (ra != NULL)
            return recv_batch(chan, ra, space, room, flags);
    }
#endif
    return recv_one(chan, space, room, flags);
}

ssize_t frame_recv(struct frame_chan *chan)
{
    return recv_flags(chan, 0);
}

/* Messages read ahead are delivered before the channel says it has none. */
int frame_next(struct frame_chan *chan, struct frame_msg *msg)
{
    int r;

    while ((r = frame_decoder_next(&chan->dec, msg)) == 0 && readahead_step(chan))
        continue;
    return r;
}

int frame_next_batch(struct frame_chan *chan, struct frame_msg *msgs, int max)
{
    int r;

    while ((r = frame_decoder_next_batch(&chan->dec, msgs, max)) == 0 && readahead_step(chan))
        continue;
    return r;
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

    if ((unsigned)mode & FRAME_MORE) {
        frame_fds_give_up_(fds, nfds, mode);
        errno = EINVAL;
        return -1;
    }
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
