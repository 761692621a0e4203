/* The loops each child runs: sender and receiver of a stream of messages, pinger and ponger. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static int fail(struct child_result *res, const char *what)
{
    snprintf(res->err, sizeof res->err, "%s: %s", what, strerror(errno));
    return -1;
}

static unsigned char *tx_buffer(size_t len)
{
    unsigned char *p = malloc(BENCH_HEADROOM + len);

    if (p != NULL)
        payload_fill(p + BENCH_HEADROOM, len);
    return p;
}

/* fd: the descriptor to pass with every message, -1 for none. */
static int send_all(const struct job *job, struct ep *ep, unsigned char *msg, int fd,
                    struct child_result *res)
{
    const struct transport *t = job->t;

    if (t->stream_tx != NULL && fd < 0)
        return t->stream_tx(ep, job) == -1 ? fail(res, "stream send") : 0;
    for (uint64_t i = 0; i < job->count; i++) {
        payload_stamp(msg, job->payload, i);
        if (t->send(ep, msg, job->payload, fd) == -1)
            return fail(res, "send");
    }
    return t->flush(ep) == -1 ? fail(res, "flush") : 0;
}

static int tx_stream(const struct job *job, struct ep *ep, struct child_result *res)
{
    unsigned char *buf = tx_buffer(job->payload);
    int fd = -1, r;

    if (buf == NULL)
        return fail(res, "malloc");
    if (job->kind == KIND_FDPASS && (fd = open("/dev/null", O_RDONLY)) == -1) {
        free(buf);
        return fail(res, "open /dev/null");
    }
    res->t_start = bench_now_ns();
    r = send_all(job, ep, buf + BENCH_HEADROOM, fd, res);
    if (fd >= 0)
        (void)close(fd);
    free(buf);
    return r;
}

/* Checks one received message: content, and exactly the descriptors the job sends. */
static int check_msg(const struct job *job, const struct payload_check *pc, struct rmsg *m,
                     uint64_t seq, struct child_result *res)
{
    if (payload_verify(pc, m->data, m->len, seq, res->err, sizeof res->err) == -1)
        return -1;
    if (job->kind == KIND_FDPASS && m->fd < 0) {
        snprintf(res->err, sizeof res->err, "message %llu: no descriptor", (unsigned long long)seq);
        return -1;
    }
    if (job->kind != KIND_FDPASS && m->fd >= 0) {
        snprintf(res->err, sizeof res->err, "message %llu: unexpected descriptor",
                 (unsigned long long)seq);
        return -1;
    }
    if (m->fd >= 0 && close(m->fd) == -1)
        return fail(res, "close received descriptor");
    return 0;
}

static int rx_stream(const struct job *job, struct ep *ep, struct child_result *res)
{
    struct payload_check pc;
    struct rmsg m;

    if (payload_check_init(&pc, job->payload) == -1)
        return fail(res, "malloc");
    for (uint64_t i = 0; i < job->count; i++) {
        m.fd = -1;
        if (job->t->recv(ep, &m) == -1)
            return fail(res, "recv");
        if (check_msg(job, &pc, &m, i, res) == -1)
            return -1;
    }
    res->t_end = bench_now_ns();
    return 0;
}

static int round_trip(const struct job *job, struct ep *ep, const struct payload_check *pc,
                      unsigned char *msg, uint64_t seq, struct child_result *res)
{
    struct rmsg m;

    payload_stamp(msg, job->payload, seq);
    if (job->t->send(ep, msg, job->payload, -1) == -1 || job->t->flush(ep) == -1)
        return fail(res, "send");
    m.fd = -1;
    if (job->t->recv(ep, &m) == -1)
        return fail(res, "recv");
    return check_msg(job, pc, &m, seq, res);
}

static int ping(const struct job *job, struct ep *ep, struct child_result *res)
{
    struct payload_check pc;
    unsigned char *buf = tx_buffer(job->payload);
    double *rtt = calloc(job->count ? job->count : 1, sizeof(*rtt));
    int r = 0;

    if (buf == NULL || rtt == NULL || payload_check_init(&pc, job->payload) == -1) {
        r = fail(res, "malloc");
        goto out;
    }
    for (uint64_t i = 0; i < job->warmup + job->count && r == 0; i++) {
        int64_t t0 = bench_now_ns();
        if (i == job->warmup)
            res->t_start = t0;
        r = round_trip(job, ep, &pc, buf + BENCH_HEADROOM, i, res);
        if (i >= job->warmup)
            rtt[i - job->warmup] = (double)(bench_now_ns() - t0);
    }
    res->t_end = bench_now_ns();
    res->rtt_p50_ns = stats_percentile(rtt, job->count, 50);
    res->rtt_p99_ns = stats_percentile(rtt, job->count, 99);
out:
    free(rtt);
    free(buf);
    return r;
}

static int pong(const struct job *job, struct ep *ep, struct child_result *res)
{
    struct payload_check pc;
    unsigned char *buf = tx_buffer(job->payload), *msg;
    struct rmsg m;
    int r = 0;

    if (buf == NULL || payload_check_init(&pc, job->payload) == -1) {
        free(buf);
        return fail(res, "malloc");
    }
    msg = buf + BENCH_HEADROOM;
    for (uint64_t i = 0; i < job->warmup + job->count && r == 0; i++) {
        m.fd = -1;
        if (job->t->recv(ep, &m) == -1) {
            r = fail(res, "recv");
            break;
        }
        if ((r = check_msg(job, &pc, &m, i, res)) == -1)
            break;
        payload_stamp(msg, job->payload, i);
        if (job->t->send(ep, msg, job->payload, -1) == -1 || job->t->flush(ep) == -1)
            r = fail(res, "send");
    }
    free(buf);
    return r;
}

int role_run(const struct job *job, struct ep *ep, int side, struct child_result *res)
{
    if (job->kind == KIND_LATENCY)
        return side == SIDE_TX ? ping(job, ep, res) : pong(job, ep, res);
    return side == SIDE_TX ? tx_stream(job, ep, res) : rx_stream(job, ep, res);
}
