/* The send side: a byte queue, descriptor records, batched sendmsg. */
#include "compat.h"

#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "frame.h"
#include "sendq.h"
#include "wire.h"

/* Payloads this large are worth flushing the queue for, to go out without a copy. */
#define SEND_DIRECT_MIN ((size_t)16 * 1024)
/* One sendmsg moves at most this much: keeps every count inside ssize_t and int. */
#define SEND_CHUNK_MAX (1u << 30)
/* Frames one sendmmsg writes at most. */
#define SEND_BATCH_MAX 64

int frame_batching_ = 1;

void frame_set_batching_(int on)
{
    frame_batching_ = on != 0;
}

#if FRAME_MMSG
/* Control bytes one sendmmsg carries at most (on the stack): a batch ends before the frame whose
 * descriptors would not fit; one frame always fits (CMSG_SPACE of FRAME_MAX_FDS_LIMIT ints). */
#define SEND_BATCH_CTRL 4096u

struct frame_mmsg_ {
    struct mmsghdr mm[SEND_BATCH_MAX];
    struct iovec iov[SEND_BATCH_MAX];
    union {
        struct cmsghdr align;
        unsigned char buf[SEND_BATCH_CTRL];
    } ctrl;
};
#endif

union frame_cmsgbuf {
    struct cmsghdr hdr;
    unsigned char buf[CMSG_SPACE(FRAME_MAX_FDS_LIMIT * sizeof(int))];
};

struct frame_sendq_ *frame_sendq_new(void)
{
    return calloc(1, sizeof(struct frame_sendq_));
}

void frame_sendq_free(struct frame_sendq_ *sq)
{
    if (sq == NULL)
        return;
    for (size_t i = sq->fds_head; i < sq->fds_tail; i++)
        (void)close(sq->fds[i]);
    free(sq->buf);
    free(sq->rec);
    free(sq->fds);
    free(sq);
}

/* Room for n more entries of size sz after the live ones, [*head, *tail) of *cap: moves them
 * to the front when that leaves at least half free, else reallocates to twice what is
 * needed (at least min_cap, at most max_cap, which wins). So an array never outgrows twice its
 * largest live count, however long the queue stays non-empty. */
static int reserve_array(void **arr, size_t sz, size_t *cap, size_t *head, size_t *tail, size_t n,
                         size_t min_cap, size_t max_cap)
{
    size_t live = *tail - *head, c;
    unsigned char *p;

    if (*cap - *tail >= n)
        return 0;
    if (live + n <= *cap / 2) {
        if (live)
            memmove(*arr, (unsigned char *)*arr + *head * sz, live * sz);
        *head = 0;
        *tail = live;
        return 0;
    }
    if (min_cap > max_cap)
        min_cap = max_cap;
    c = 2 * (live + n);
    c = c < min_cap ? min_cap : c > max_cap ? max_cap : c;
    if (c < live + n || (p = malloc(c * sz)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    if (live)
        memcpy(p, (unsigned char *)*arr + *head * sz, live * sz);
    free(*arr);
    *arr = p;
    *cap = c;
    *head = 0;
    *tail = live;
    return 0;
}

/* The byte buffer stays within 2 x sendq_max: the queue holds at most sendq_max. */
static int reserve_bytes(struct frame_sendq_ *sq, size_t n, size_t sendq_max)
{
    void *b = sq->buf;
    int r = reserve_array(&b, 1, &sq->cap, &sq->head, &sq->tail, n, 4096, 2 * sendq_max);

    sq->buf = b;
    return r;
}

/* Room for the record and descriptors of one frame that carries nfds (> 0). */
static int reserve_rec(struct frame_sendq_ *sq, unsigned nfds)
{
    void *r = sq->rec, *f = sq->fds;
    int ret = reserve_array(&r, sizeof(*sq->rec), &sq->rec_cap, &sq->rec_head, &sq->rec_tail, 1, 16,
                            SIZE_MAX / sizeof(*sq->rec));

    sq->rec = r;
    if (ret == 0)
        ret = reserve_array(&f, sizeof(*sq->fds), &sq->fds_cap, &sq->fds_head, &sq->fds_tail, nfds,
                            64, SIZE_MAX / sizeof(*sq->fds));
    sq->fds = f;
    return ret;
}

static void close_all(const int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        (void)close(fds[i]);
}

/* The queue's own copies of the caller's descriptors. */
static int own_fds(int *dst, const int *fds, unsigned nfds, enum frame_fd_mode mode)
{
    for (unsigned i = 0; i < nfds; i++) {
        if (mode == FRAME_FDS_TAKE) {
            if (fcntl(fds[i], F_GETFD) == -1)
                return -1;
            dst[i] = fds[i];
        } else if ((dst[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0)) == -1) {
            if (i > 0)
                close_all(dst, i);
            return -1;
        }
    }
    return 0;
}

/* buf: aligned for struct cmsghdr, CMSG_SPACE(nfds * sizeof(int)) bytes. */
static size_t put_control(void *buf, const int *fds, unsigned nfds)
{
    struct cmsghdr *c = buf;

    if (nfds == 0)
        return 0;
    memset(buf, 0, CMSG_SPACE(nfds * sizeof(int)));
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    return CMSG_SPACE(nfds * sizeof(int));
}

static ssize_t send_iov(int fd, struct iovec *iov, int iovcnt, const int *fds, unsigned nfds,
                        int flags)
{
    union frame_cmsgbuf cb;
    struct msghdr m;
    size_t clen = put_control(&cb, fds, nfds);
    ssize_t n;

    frame_compat_msg_set(&m, iov, iovcnt, &cb, clen);
again:
    if ((n = frame_compat_sendmsg(fd, &m, flags)) == -1 && errno == EINTR)
        goto again;
    return n;
}

static void push_rec(struct frame_sendq_ *sq, uint64_t off, size_t len, const int *owned,
                     unsigned nfds)
{
    struct frame_sendrec_ *r = &sq->rec[sq->rec_tail++];

    r->off = off;
    r->len = (uint32_t)len;
    r->nfds = nfds;
    memcpy(sq->fds + sq->fds_tail, owned, nfds * sizeof(int));
    sq->fds_tail += nfds;
}

/* Queues hdr+payload from byte `skip` on; the frame's first byte is at stream offset off. */
static void push_bytes(struct frame_sendq_ *sq, const unsigned char *hdr, const void *payload,
                       size_t len, size_t skip)
{
    if (skip < FRAME_HDR_LEN) {
        memcpy(sq->buf + sq->tail, hdr + skip, FRAME_HDR_LEN - skip);
        sq->tail += FRAME_HDR_LEN - skip;
        skip = 0;
    } else {
        skip -= FRAME_HDR_LEN;
    }
    if (len > skip)
        memcpy(sq->buf + sq->tail, (const unsigned char *)payload + skip, len - skip);
    sq->tail += len - skip;
}

static int check_send(const struct frame_chan *chan, size_t len, const int *fds, unsigned nfds,
                      enum frame_fd_mode mode)
{
    if (chan->sq == NULL || (mode != FRAME_FDS_BORROW && mode != FRAME_FDS_TAKE) ||
        (nfds && fds == NULL) || (nfds && chan->opts.max_fds == 0)) {
        errno = EINVAL;
        return -1;
    }
    if (len > chan->opts.max_payload || nfds > chan->opts.max_fds) {
        errno = E2BIG;
        return -1;
    }
    if (FRAME_HDR_LEN + len > chan->opts.sendq_max - frame_pending(chan)) {
        errno = ENOBUFS;
        return -1;
    }
    return 0;
}

/* Writes the frame from the caller's memory while the socket takes it; with a deadline,
 * waits for the socket until then. Bytes written, or -1 for an error before the first. */
static ssize_t send_direct(struct frame_chan *chan, unsigned char *hdr, const void *payload,
                           size_t len, const int *fds, unsigned nfds, const int64_t *deadline)
{
    const unsigned char *pl = payload;
    size_t total = FRAME_HDR_LEN + len, sent = 0;
    struct iovec iov[2];
    ssize_t n;

    for (;;) {
        int iovcnt = 0;
        if (sent < FRAME_HDR_LEN) {
            iov[iovcnt].iov_base = hdr + sent;
            iov[iovcnt++].iov_len = FRAME_HDR_LEN - sent;
        }
        if (len) {
            size_t skip = sent < FRAME_HDR_LEN ? 0 : sent - FRAME_HDR_LEN;
            iov[iovcnt].iov_base = (void *)(uintptr_t)(pl + skip);
            iov[iovcnt++].iov_len = len - skip;
        }
        n = send_iov(chan->fd, iov, iovcnt, sent ? NULL : fds, sent ? 0 : nfds,
                     deadline ? FRAME_DONTWAIT : 0);
        if (n > 0) {
            sent += (size_t)n;
            if (sent == total || chan->type != SOCK_STREAM)
                return (ssize_t)sent;
            continue;
        }
        if (n == -1 && !frame_compat_would_block(errno))
            return sent ? (ssize_t)sent : -1; /* a later error shows at the flush */
        if (n == 0 || deadline == NULL || frame_wait_out_(chan, *deadline) == -1)
            return (ssize_t)sent;
    }
}

/* Empties the queue before a large frame, so that it can go out directly. A small frame
 * with descriptors does not try: on a full socket the failed sendmsg costs more than the
 * dup it would save. -1 only for a hard error. */
static int flush_before(struct frame_chan *chan, const int64_t *deadline)
{
    while (frame_pending(chan) && frame_flush_flags_(chan, FRAME_DONTWAIT) == -1) {
        if (!frame_compat_would_block(errno))
            return -1;
        if (deadline == NULL || frame_wait_out_(chan, *deadline) == -1)
            break;
    }
    return 0;
}

static int flush_queue(struct frame_chan *chan, int flags);

/* The short path: a small stream frame without descriptors that fits the buffer's free
 * tail (check_send has applied the queue's limit): header encoded in place, payload copied. */
static int queue_short(struct frame_sendq_ *sq, uint32_t type, uint32_t id, const void *payload,
                       size_t len)
{
    unsigned char *p = sq->buf + sq->tail;

    (void)frame_encode_header(p, type, id, (uint32_t)len, 0);
    if (len)
        memcpy(p + FRAME_HDR_LEN, payload, len);
    sq->tail += FRAME_HDR_LEN + len;
    return 0;
}

/* After queueing: a FRAME_MORE frame waits; a frame without it writes what FRAME_MORE frames
 * left queued, without waiting when there is a deadline (frame_send_wait then flushes within
 * it). A write error waits for the next frame_flush. */
static void flush_more(struct frame_chan *chan, int more, const int64_t *deadline)
{
    struct frame_sendq_ *sq = chan->sq;

    if (more) {
        sq->more = 1;
        return;
    }
    if (!sq->more || (FRAME_DONTWAIT == 0 && deadline != NULL))
        return;
    if (flush_queue(chan, FRAME_DONTWAIT) == -1 && !frame_compat_would_block(errno) &&
        sq->deferred == 0)
        sq->deferred = errno;
}

static int short_fits(const struct frame_chan *chan, size_t len, unsigned nfds)
{
    const struct frame_sendq_ *sq = chan->sq;

    return chan->type == SOCK_STREAM && nfds == 0 && len < SEND_DIRECT_MIN &&
           sq->cap - sq->tail >= FRAME_HDR_LEN + len;
}

/* Every frame but the short ones: descriptors, packets, large payloads, a full buffer tail.
 * check_send has passed. */
static FRAME_NOINLINE int send_long(struct frame_chan *chan, uint32_t type, uint32_t id,
                                    const void *payload, size_t len, const int *fds, unsigned nfds,
                                    enum frame_fd_mode mode, const int64_t *deadline)
{
    struct frame_sendq_ *sq = chan->sq;
    enum frame_fd_mode fdm = (enum frame_fd_mode)((unsigned)mode & ~(unsigned)FRAME_MORE);
    int more = ((unsigned)mode & FRAME_MORE) != 0;
    unsigned char hdr[FRAME_HDR_LEN];
    int owned[FRAME_MAX_FDS_LIMIT];
    size_t total, sent = 0;
    ssize_t n;
    int packet = chan->type != SOCK_STREAM;
    int direct = !more && (packet || nfds || len >= SEND_DIRECT_MIN);

    (void)frame_encode_header(hdr, type, id, (uint32_t)len, nfds);
    total = FRAME_HDR_LEN + len;
    /* Reserved first: once a byte is out, the rest must fit. */
    if (reserve_bytes(sq, total, chan->opts.sendq_max) == -1 ||
        (nfds && reserve_rec(sq, nfds) == -1))
        return -1;
    if (!more && !packet && len >= SEND_DIRECT_MIN && FRAME_DONTWAIT != 0 &&
        flush_before(chan, deadline) == -1)
        return -1;
    if (direct && frame_pending(chan) == 0) {
        if ((n = send_direct(chan, hdr, payload, len, fds, nfds, deadline)) == -1)
            return -1;
        sent = (size_t)n;
        if (sent > 0 && nfds && fdm == FRAME_FDS_TAKE)
            close_all(fds, nfds);
        if (sent == total || (packet && sent > 0))
            return 0;
    }
    if (sent == 0 && nfds) {
        if (own_fds(owned, fds, nfds, fdm) == -1)
            return -1;
        push_rec(sq, sq->off + frame_pending(chan), total, owned, nfds);
    }
    push_bytes(sq, hdr, payload, len, sent);
    flush_more(chan, more, deadline);
    return 0;
}

/* frame_send; with a deadline (frame_send_wait) it waits for the socket until then instead
 * of queueing what the socket does not take at once. */
int frame_send_until_(struct frame_chan *chan, uint32_t type, uint32_t id, const void *payload,
                      size_t len, const int *fds, unsigned nfds, enum frame_fd_mode mode,
                      const int64_t *deadline)
{
    enum frame_fd_mode fdm = (enum frame_fd_mode)((unsigned)mode & ~(unsigned)FRAME_MORE);

    if (check_send(chan, len, fds, nfds, fdm) == -1)
        return -1;
    if (!short_fits(chan, len, nfds))
        return send_long(chan, type, id, payload, len, fds, nfds, mode, deadline);
    (void)queue_short(chan->sq, type, id, payload, len);
    flush_more(chan, ((unsigned)mode & FRAME_MORE) != 0, deadline);
    return 0;
}

void frame_fds_give_up_(const int *fds, unsigned nfds, enum frame_fd_mode mode)
{
    int e = errno;

    if (((unsigned)mode & ~(unsigned)FRAME_MORE) == FRAME_FDS_TAKE && fds != NULL)
        close_all(fds, nfds);
    errno = e;
}

int frame_send(struct frame_chan *chan, uint32_t type, uint32_t id, const void *payload, size_t len,
               const int *fds, unsigned nfds, enum frame_fd_mode mode)
{
    if (frame_send_until_(chan, type, id, payload, len, fds, nfds, mode, NULL) == -1) {
        frame_fds_give_up_(fds, nfds, mode);
        return -1;
    }
    return 0;
}

size_t frame_pending(const struct frame_chan *chan)
{
    return chan->sq ? chan->sq->tail - chan->sq->head : 0;
}

static void drop_bytes(struct frame_sendq_ *sq, size_t n)
{
    sq->head += n;
    sq->off += n;
    if (sq->head == sq->tail) {
        sq->head = sq->tail = 0;
        sq->more = 0;
    }
}

/* The next sendmsg: [off, off+len) and the descriptors that go with it. */
static size_t next_batch(const struct frame_sendq_ *sq, int packet,
                         const struct frame_sendrec_ **rp)
{
    const struct frame_sendrec_ *r = sq->rec_head < sq->rec_tail ? &sq->rec[sq->rec_head] : NULL;
    uint64_t end = sq->off + (sq->tail - sq->head);

    *rp = NULL;
    if (packet) { /* one frame: its record if it has descriptors, else its header says */
        if (r == NULL || r->off != sq->off)
            return FRAME_HDR_LEN + (size_t)wire_get32(sq->buf + sq->head + 12);
        *rp = r;
        return r->len;
    }
    if (r != NULL && r->off == sq->off) {
        *rp = r;
        if (sq->rec_head + 1 < sq->rec_tail)
            end = sq->rec[sq->rec_head + 1].off;
    } else if (r != NULL) {
        end = r->off;
    }
    return (size_t)(end - sq->off);
}

/* The descriptors of the oldest record; NULL when it has none (sq->fds may be NULL). */
static int *rec_fds(const struct frame_sendq_ *sq, const struct frame_sendrec_ *r)
{
    return r != NULL && r->nfds > 0 ? sq->fds + sq->fds_head : NULL;
}

static void pop_rec(struct frame_sendq_ *sq)
{
    struct frame_sendrec_ *r = &sq->rec[sq->rec_head++];

    close_all(rec_fds(sq, r), r->nfds);
    sq->fds_head += r->nfds;
}

#if FRAME_MMSG
/* The record of the queued frame at buffer position pos, if it carries descriptors. */
static const struct frame_sendrec_ *rec_at(const struct frame_sendq_ *sq, size_t ri, size_t pos)
{
    if (ri < sq->rec_tail && sq->rec[ri].off == sq->off + (pos - sq->head))
        return &sq->rec[ri];
    return NULL;
}

/* Describes up to SEND_BATCH_MAX queued frames, oldest first, one message each, as long as
 * their descriptors fit b's control buffer: how many. */
static unsigned fill_batch(const struct frame_sendq_ *sq, struct frame_mmsg_ *b)
{
    size_t pos = sq->head, ri = sq->rec_head, fi = sq->fds_head, used = 0;
    unsigned k = 0;

    for (; pos < sq->tail && k < SEND_BATCH_MAX; k++) {
        const struct frame_sendrec_ *r = rec_at(sq, ri, pos);
        size_t len = r ? r->len : FRAME_HDR_LEN + (size_t)wire_get32(sq->buf + pos + 12);
        unsigned char *ctrl = b->ctrl.buf + used;
        size_t clen = r ? CMSG_SPACE(r->nfds * sizeof(int)) : 0;

        if (clen > SEND_BATCH_CTRL - used)
            break;
        if (r != NULL) {
            (void)put_control(ctrl, sq->fds + fi, r->nfds);
            fi += r->nfds;
            ri++;
        }
        used += clen;
        b->iov[k].iov_base = sq->buf + pos;
        b->iov[k].iov_len = len;
        frame_compat_msg_set(&b->mm[k].msg_hdr, &b->iov[k], 1, ctrl, clen);
        b->mm[k].msg_len = 0;
        pos += len;
    }
    return k;
}

/* Drops the n oldest frames (written, or refused). */
static void drop_frames(struct frame_sendq_ *sq, unsigned n)
{
    for (unsigned i = 0; i < n && sq->head < sq->tail; i++) {
        const struct frame_sendrec_ *r;
        size_t len = next_batch(sq, 1, &r);

        if (r != NULL)
            pop_rec(sq);
        drop_bytes(sq, len);
    }
}

/* Packet frames, up to SEND_BATCH_MAX per sendmmsg. A frame the socket refuses as too large
 * is dropped and reported (EMSGSIZE), as by one sendmsg per frame. */
static int flush_batched(struct frame_chan *chan, int flags)
{
    struct frame_sendq_ *sq = chan->sq;
    struct frame_mmsg_ batch, *b = &batch;

    while (sq->head < sq->tail) {
        unsigned k = fill_batch(sq, b);
        int n;

        while ((n = frame_compat_sendmmsg(chan->fd, b->mm, k, flags)) == -1 && errno == EINTR)
            continue;
        if (n == -1 && errno != EMSGSIZE)
            return -1;
        drop_frames(sq, n == -1 ? 1 : (unsigned)n);
        if (n == -1)
            return -1;
    }
    return 0;
}
#endif

static int flush_queue(struct frame_chan *chan, int flags)
{
    struct frame_sendq_ *sq = chan->sq;
    int packet = chan->type != SOCK_STREAM;

#if FRAME_MMSG
    if (packet && frame_batching_)
        return flush_batched(chan, flags);
#endif
    while (sq->head < sq->tail) {
        const struct frame_sendrec_ *r;
        size_t len = next_batch(sq, packet, &r);
        struct iovec iov;
        ssize_t n;

        iov.iov_base = sq->buf + sq->head;
        iov.iov_len = len < SEND_CHUNK_MAX ? len : SEND_CHUNK_MAX;
        n = send_iov(chan->fd, &iov, 1, rec_fds(sq, r), r ? r->nfds : 0, flags);
        if (n == -1 && !(packet && errno == EMSGSIZE))
            return -1;
        if (r != NULL)
            pop_rec(sq);
        drop_bytes(sq, packet ? len : (size_t)n);
        if (n == -1) {
            errno = EMSGSIZE;
            return -1;
        }
    }
    return 0;
}

/* A write error deferred by frame_send comes first. */
int frame_flush_flags_(struct frame_chan *chan, int flags)
{
    struct frame_sendq_ *sq = chan->sq;

    if (sq == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (sq->deferred != 0) {
        errno = sq->deferred;
        sq->deferred = 0;
        return -1;
    }
    return flush_queue(chan, flags);
}

int frame_flush(struct frame_chan *chan)
{
    return frame_flush_flags_(chan, 0);
}

size_t frame_sendq_mem_(const struct frame_chan *chan)
{
    const struct frame_sendq_ *sq = chan->sq;

    if (sq == NULL)
        return 0;
    return sizeof(*sq) + sq->cap + sq->rec_cap * sizeof(*sq->rec) + sq->fds_cap * sizeof(*sq->fds);
}
