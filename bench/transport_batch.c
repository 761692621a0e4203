/* The ceiling for a byte stream: the sender writes large buffers of back-to-back
 * length-prefixed messages built once (only the sequence numbers change, no per-message copy),
 * the receiver reads as much as the socket has and parses messages in place. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

/* Bytes of messages per write. */
#define CEILING_BATCH ((size_t)256 * 1024)

struct ep {
    int fd;
    unsigned char *buf;
    size_t cap, rpos, wpos;
};

static int prepare(struct link *lk, size_t max_payload)
{
    return link_socketpair(lk, SOCK_STREAM, max_payload + 4);
}

static int open_ep(struct link *lk, int side, const struct job *job, struct ep **out)
{
    struct ep *ep = calloc(1, sizeof(*ep));

    if (ep == NULL)
        return -1;
    ep->fd = lk->fd[side][0];
    lk->fd[side][0] = lk->fd[side][1] = -1;
    ep->cap = 2 * (CEILING_BATCH > job->payload + 4 ? CEILING_BATCH : job->payload + 4);
    if (side == SIDE_RX && (ep->buf = malloc(ep->cap)) == NULL) {
        free(ep);
        return -1;
    }
    *out = ep;
    return 0;
}

static void close_ep(struct ep *ep)
{
    (void)close(ep->fd);
    free(ep->buf);
    free(ep);
}

static unsigned char *build_batch(size_t len, size_t k)
{
    size_t rec = 4 + len;
    unsigned char *b = malloc(k * rec);

    for (size_t j = 0; b != NULL && j < k; j++) {
        unsigned char *p = b + j * rec;
        p[0] = (unsigned char)len;
        p[1] = (unsigned char)(len >> 8);
        p[2] = (unsigned char)(len >> 16);
        p[3] = (unsigned char)(len >> 24);
        payload_fill(p + 4, len);
    }
    return b;
}

static int stream_tx(struct ep *ep, const struct job *job)
{
    size_t rec = 4 + job->payload;
    size_t k = CEILING_BATCH / rec ? CEILING_BATCH / rec : 1;
    unsigned char *b = build_batch(job->payload, k);
    int r = 0;

    if (b == NULL)
        return -1;
    for (uint64_t i = 0; i < job->count && r == 0; i += k) {
        size_t m = job->count - i < k ? (size_t)(job->count - i) : k;
        for (size_t j = 0; j < m; j++)
            payload_stamp(b + j * rec + 4, job->payload, i + j);
        r = bench_write_all(ep->fd, b, m * rec);
    }
    free(b);
    return r;
}

/* Bytes of the message at rpos once its prefix is in, else 0. */
static size_t whole(const struct ep *ep)
{
    const unsigned char *p = ep->buf + ep->rpos;
    size_t len;

    if (ep->wpos - ep->rpos < 4)
        return 0;
    len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
    return 4 + len;
}

static int fill(struct ep *ep)
{
    ssize_t n;

    if (ep->rpos > 0 && ep->cap - ep->wpos < ep->cap / 2) {
        memmove(ep->buf, ep->buf + ep->rpos, ep->wpos - ep->rpos);
        ep->wpos -= ep->rpos;
        ep->rpos = 0;
    }
    while ((n = read(ep->fd, ep->buf + ep->wpos, ep->cap - ep->wpos)) == -1 && errno == EINTR)
        ;
    if (n <= 0) {
        errno = n == 0 ? ECONNRESET : errno;
        return -1;
    }
    ep->wpos += (size_t)n;
    return 0;
}

static int recv_msg(struct ep *ep, struct rmsg *m)
{
    size_t n;

    while ((n = whole(ep)) == 0 || ep->wpos - ep->rpos < n) {
        if (n > ep->cap) {
            errno = EMSGSIZE;
            return -1;
        }
        if (fill(ep) == -1)
            return -1;
    }
    m->data = ep->buf + ep->rpos + 4;
    m->len = n - 4;
    m->fd = -1;
    ep->rpos += n;
    return 0;
}

const struct transport transport_raw_batch = {
    "raw-stream-batch",      TCAP_THROUGHPUT, prepare,  open_ep,  transport_send_unsupported,
    transport_flush_nothing, recv_msg,        close_ep, stream_tx};
