/*
 * frame_api_sequence: a program of API calls on both ends of a socketpair.
 *
 * Input: [cfg1][cfg2] then up to MAX_OPS operations [op][a][b]:
 *   cfg1  bits 0-1 type (stream, stream, seqpacket, dgram), bits 2-3 SO_SNDBUF
 *         (default, 4096, 16384, 65536), bits 4-5 sendq_max, bits 6-7 max_payload
 *   cfg2  bits 0-2 max_fds {0, 1, 2, 4, 8, 16}, bit 3 close_fd_on_fini
 *   op    bits 0-2 call: 0 send, 1 burst of 1 + (a & 127) sends (descriptors borrowed),
 *         2 flush, 3 receive, 4 trickle: 1 + a rounds of (the peer reads once,
 *         this end flushes and sends one frame, descriptors borrowed),
 *         5 shutdown, 6 close (a == 0) or flush, 7 frame_send_wait(0) (a odd) or
 *         frame_recv_wait(0); bit 3 end; bits 4-6 descriptors; bit 7 take (else borrow).
 *   a: burst length, trickle rounds / shutdown how; b: payload size class.
 * Invariants: messages arrive in order and intact; received descriptors refer to the file
 * sent (st_dev, st_ino) and are close-on-exec; the send queue stays within sendq_max and,
 * after every call, its allocated memory within frame.3's bound (sendq_mem_bound); frame_flush
 * never blocks; no descriptor leaks after frame_chan_fini.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "fuzz_common.h"
#include "frame.h"
#include "../frame/tests/testonly.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define T "frame_api_sequence"
#define MAX_OPS 512
#define MAX_EXP 4096         /* a ring: messages sent and not yet received, per end */
#define MAX_REAL_FDS 4096    /* descriptors created per input */
#define MAX_INFLIGHT_FDS 256 /* descriptors sent and not yet received, both ends */
/* frame.3: 2 x sendq_max, 32 bytes per frame with descriptors and 8 per descriptor held at
 * once (each array at least 256 bytes), plus the queue's own struct (104 bytes on LP64). */
#define SENDQ_MEM_STRUCT 128
#define SENDQ_MEM_ARRAY_MIN 256
#define PAYLOAD_MAX 65536
#define POOL_SHIFTS 512

struct expmsg {
    uint32_t type, id, len;
    unsigned nfds;
    dev_t dev[8];
    ino_t ino[8];
};

struct side {
    struct frame_chan chan;
    int fd, open, shut_rd, shut_wr;
    struct expmsg exp[MAX_EXP]; /* what this end is to receive */
    unsigned nexp, nrecv;
    int broken; /* the direction into this end lost data: check order of what arrives only */
    size_t peak_demand; /* largest pending + frame of a send with descriptors that may queue */
    size_t min_frame;   /* smallest frame of such a send */
    unsigned peak_nfds; /* most descriptors in one such send */
};

static struct side S[2];
static struct frame_opts opts;
static int type, close_on_fini;
static unsigned real_fds, inflight_fds, opno;
static uint32_t next_id;
/* Message id's payload is POOL_SHIFTS-periodic window of one pseudo-random pool, so sending
 * and checking need no per-byte fill; the pool is the same for every input. */
static uint8_t pool[PAYLOAD_MAX + POOL_SHIFTS];

FZ_NO_COVERAGE static void fill_pool(void)
{
    static int filled;
    if (filled)
        return;
    for (uint32_t k = 0; k < sizeof pool; k++)
        pool[k] = (uint8_t)((k * 2654435761u) >> 13);
    filled = 1;
}

static const uint8_t *payload_of(uint32_t id)
{
    return pool + (id * 131u) % POOL_SHIFTS;
}

static int make_fd(unsigned k, int *other)
{
    int p[2];
    *other = -1;
    if (k % 3 == 1)
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (pipe(p) < 0)
        return -1;
    *other = p[k % 3 == 0];
    return p[k % 3 != 0];
}

static void close_list(const int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (fds[i] >= 0)
            fz_close(fds[i]);
    }
}

static int peer_gone(int e)
{
    int p = 1 - e;
    return !S[p].open || S[p].shut_rd || S[e].shut_wr;
}

/* before: bytes pending before the call (frame_send_wait may flush some, then give up). */
static int send_errno_ok(int e, int err, uint32_t len, unsigned nfds, size_t before)
{
    if (nfds && opts.max_fds == 0)
        return err == EINVAL;
    if (len > opts.max_payload || nfds > opts.max_fds)
        return err == E2BIG;
    if (peer_gone(e) &&
        (err == EPIPE || err == ECONNRESET || err == ECONNREFUSED || err == ENOTCONN))
        return 1; /* also from the flush frame_send_wait tries before giving ENOBUFS */
    size_t pending = frame_pending(&S[e].chan);
    return err == ENOBUFS &&
           FRAME_HDR_LEN + (size_t)len > opts.sendq_max - (before > pending ? before : pending);
}

/* Appends what end 1-e is to receive; 0 when the list is full. */
static int record(int e, uint32_t id, uint32_t len, const int *fds, unsigned nfds)
{
    struct side *r = &S[1 - e];
    if (r->nexp - r->nrecv == MAX_EXP) {
        r->broken = 1;
        return 0;
    }
    struct expmsg *m = &r->exp[r->nexp++ % MAX_EXP];
    m->type = id & 0xff;
    m->id = id;
    m->len = len;
    m->nfds = nfds;
    for (unsigned i = 0; i < nfds; i++) {
        struct stat st;
        if (fstat(fds[i], &st) < 0)
            fz_fail(T, "fstat of a descriptor to send: %s", sockspec_errno_name(errno));
        m->dev[i] = st.st_dev;
        m->ino[i] = st.st_ino;
    }
    return 1;
}

static uint32_t size_of(uint8_t b)
{
    uint32_t n = b < 128 ? b : b < 192 ? (uint32_t)(b - 128) * 64 : (uint32_t)(b - 192) * 1024;
    if (type != SOCK_STREAM && n > 2000)
        n = 2000 + (n % 64); /* datagrams must fit the smallest SO_SNDBUF */
    return n;
}

static int do_send(int e, uint32_t id, uint32_t len, const int *fds, unsigned nfds, int take,
                   int wait)
{
    enum frame_fd_mode mode = take ? FRAME_FDS_TAKE : FRAME_FDS_BORROW;
    const uint8_t *payload = payload_of(id);
    if (wait)
        return frame_send_wait(&S[e].chan, id & 0xff, id, payload, len, fds, nfds, mode, 0);
    return frame_send(&S[e].chan, id & 0xff, id, payload, len, fds, nfds, mode);
}

static size_t at_least_array_min(size_t n)
{
    return n < SENDQ_MEM_ARRAY_MIN ? SENDQ_MEM_ARRAY_MIN : n;
}

/* What frame.3 lets end e's send queue allocate, given the sends it has seen: a record for
 * each frame with descriptors that fits in the bytes pending (each is all pending until its
 * descriptors go). */
static size_t sendq_mem_bound(int e)
{
    size_t frames = S[e].min_frame ? S[e].peak_demand / S[e].min_frame : 0,
           bound = SENDQ_MEM_STRUCT + 2 * opts.sendq_max;
    if (frames == 0)
        return bound;
    return bound + at_least_array_min(32 * frames) +
           at_least_array_min(8 * frames * (size_t)S[e].peak_nfds);
}

static void check_mem(int e)
{
    size_t mem = frame_sendq_mem_(&S[e].chan), bound = sendq_mem_bound(e);
    if (mem > bound)
        fz_fail(T,
                "end%d send queue: %zu bytes allocated, bound %zu (sendq_max %zu, %zu frames "
                "of up to %u descriptors)",
                e, mem, bound, opts.sendq_max,
                S[e].min_frame ? S[e].peak_demand / S[e].min_frame : 0, S[e].peak_nfds);
}

/* A send with descriptors that passes the size checks reserves its record before it writes:
 * the records it may hold are bounded by the bytes pending plus its own. frame_send_wait first
 * makes room, so its frame may queue whatever was pending: then sendq_max bounds the bytes. */
static void note_demand(int e, uint32_t len, unsigned nfds, size_t before, int wait)
{
    size_t demand = before + FRAME_HDR_LEN + len;
    if (wait && demand > opts.sendq_max && FRAME_HDR_LEN + (size_t)len <= opts.sendq_max)
        demand = opts.sendq_max;
    if (nfds == 0 || nfds > opts.max_fds || len > opts.max_payload || demand > opts.sendq_max)
        return;
    if (demand > S[e].peak_demand)
        S[e].peak_demand = demand;
    if (S[e].min_frame == 0 || FRAME_HDR_LEN + len < S[e].min_frame)
        S[e].min_frame = FRAME_HDR_LEN + len;
    if (nfds > S[e].peak_nfds)
        S[e].peak_nfds = nfds;
}

/* Up to (op >> 4) & 7 new descriptors to send, within the input's and the in-flight limits. */
static unsigned make_fds(uint8_t op, int *fds, int *other)
{
    unsigned nfds = 0, want = (op >> 4) & 7;
    if (inflight_fds + want > MAX_INFLIGHT_FDS)
        return 0;
    for (; nfds < want && real_fds < MAX_REAL_FDS; nfds++, real_fds++) {
        if ((fds[nfds] = make_fd(nfds + opno, &other[nfds])) < 0)
            break;
    }
    return nfds;
}

/* frame_send, or frame_send_wait with a timeout of 0 (ETIMEDOUT: queued, not yet written);
 * 1 when the frame was sent or queued. */
static int send_one(int e, uint32_t len, const int *fds, unsigned nfds, int take, int wait)
{
    uint32_t id = ++next_id;
    int recorded = nfds ? record(e, id, len, fds, nfds) : 0;
    size_t before = frame_pending(&S[e].chan);
    note_demand(e, len, nfds, before, wait);
    int rc = do_send(e, id, len, fds, nfds, take, wait);
    int err = rc < 0 ? errno : 0, queued = rc == 0 || (wait && err == ETIMEDOUT);
    fz_trace("#%u end%d send%s id=%u len=%u nfds=%u %s -> %d %s pending=%zu", opno, e,
             wait ? "_wait(0)" : "", id, len, nfds, take ? "take" : "borrow", rc,
             sockspec_errno_name(err), frame_pending(&S[e].chan));
    if (!queued && !send_errno_ok(e, err, len, nfds, before))
        fz_fail(T, "frame_send%s failed with %s", wait ? "_wait" : "", sockspec_errno_name(err));
    if (wait && rc == 0 && frame_pending(&S[e].chan) != 0)
        fz_fail(T, "frame_send_wait returned 0 with %zu bytes pending", frame_pending(&S[e].chan));
    if (queued && !nfds)
        record(e, id, len, fds, 0);
    if (queued)
        inflight_fds += nfds;
    if (!queued && recorded)
        S[1 - e].nexp--;
    if (!queued && (err == EPIPE || err == ECONNRESET))
        S[1 - e].broken = 1;
    if (frame_pending(&S[e].chan) > opts.sendq_max)
        fz_fail(T, "%zu bytes pending above sendq_max %zu", frame_pending(&S[e].chan),
                opts.sendq_max);
    check_mem(e);
    return queued;
}

static void op_send(int e, uint8_t op, uint8_t b, int wait)
{
    int fds[8], other[8];
    unsigned nfds = make_fds(op, fds, other);
    int take = op >> 7;
    (void)send_one(e, size_of(b), fds, nfds, take, wait);
    if (!take)
        close_list(fds, nfds); /* FRAME_FDS_TAKE takes them whatever the call returns (frame.h) */
    close_list(other, nfds);
}

/* 1 + (a & 127) frames of one size with the same descriptors, until one is refused. */
static void op_burst(int e, uint8_t op, uint8_t a, uint8_t b)
{
    int fds[8], other[8];
    unsigned nfds = make_fds(op, fds, other), count = 1u + (a & 127u);
    fz_trace("#%u end%d burst of %u", opno, e, count);
    for (unsigned i = 0; i < count && inflight_fds + nfds <= MAX_INFLIGHT_FDS; i++) {
        if (!send_one(e, size_of(b), fds, nfds, 0, 0))
            break;
    }
    close_list(fds, nfds);
    close_list(other, nfds);
}

static void op_flush(int e)
{
    int rc = frame_flush(&S[e].chan);
    int err = rc < 0 ? errno : 0;
    size_t pending = frame_pending(&S[e].chan);
    fz_trace("#%u end%d flush -> %d %s pending=%zu", opno, e, rc, sockspec_errno_name(err),
             pending);
    if (rc == 0 && pending != 0)
        fz_fail(T, "frame_flush returned 0 with %zu bytes pending", pending);
    if (rc < 0 && (err == EAGAIN || err == EWOULDBLOCK) && pending == 0)
        fz_fail(T, "frame_flush said EAGAIN with an empty queue");
    if (rc < 0 && err != EAGAIN && err != EWOULDBLOCK) {
        if (!peer_gone(e))
            fz_fail(T, "frame_flush failed with %s", sockspec_errno_name(err));
        S[1 - e].broken = 1;
    }
}

static void check_msg(int e, struct frame_msg *msg)
{
    struct side *s = &S[e];
    if (s->broken)
        return;
    if (s->nrecv >= s->nexp)
        fz_fail(T, "end%d received message id=%u that was never sent", e, msg->id);
    const struct expmsg *m = &s->exp[s->nrecv % MAX_EXP];
    if (msg->id != m->id || msg->type != m->type || msg->len != m->len || msg->nfds != m->nfds)
        fz_fail(T, "end%d message %u: got id=%u len=%u nfds=%u, expected id=%u len=%u nfds=%u", e,
                s->nrecv, msg->id, msg->len, msg->nfds, m->id, m->len, m->nfds);
    if (memcmp(msg->payload, payload_of(m->id), m->len) != 0)
        fz_fail(T, "end%d message id=%u: payload differs", e, m->id);
    for (unsigned i = 0; i < m->nfds; i++) {
        struct stat st;
        if (fstat(msg->fds[i], &st) < 0 || st.st_dev != m->dev[i] || st.st_ino != m->ino[i])
            fz_fail(T, "end%d message id=%u: descriptor %u is not the file sent", e, m->id, i);
    }
}

static void take_msg(int e, struct frame_msg *msg)
{
    fz_trace("  end%d message id=%u len=%u nfds=%u", e, msg->id, msg->len, msg->nfds);
    for (unsigned i = 0; i < msg->nfds; i++) {
        if (!fz_is_cloexec(msg->fds[i]))
            fz_fail(T, "received descriptor %d is not close-on-exec", msg->fds[i]);
    }
    check_msg(e, msg);
    S[e].nrecv++;
    inflight_fds -= msg->nfds < inflight_fds ? msg->nfds : inflight_fds;
    for (unsigned i = msg->id & 1; i < msg->nfds; i += 2) {
        int fd = frame_msg_take_fd(msg, i);
        if (fd < 0)
            fz_fail(T, "frame_msg_take_fd failed: %s", sockspec_errno_name(errno));
        fz_close(fd);
    }
    frame_msg_release(msg);
}

static void recv_failed(int e, const char *call, int err)
{
    fz_trace("  end%d %s -> %s", e, call, sockspec_errno_name(err));
    if (!S[e].broken && !S[e].shut_rd)
        fz_fail(T, "end%d %s failed with %s on an intact stream", e, call,
                sockspec_errno_name(err));
}

/* Receives until EAGAIN, end of file or an error; returns messages taken. */
static unsigned op_recv(int e)
{
    struct frame_msg msg;
    unsigned got = 0;
    for (int step = 0; step < 100000; step++) {
        ssize_t r = frame_recv(&S[e].chan);
        int err = errno, rc;
        while ((rc = frame_next(&S[e].chan, &msg)) == 1) {
            take_msg(e, &msg);
            got++;
        }
        if (rc < 0) {
            recv_failed(e, "frame_next", errno);
            return got;
        }
        if (r == 0)
            return got;
        if (r < 0 && err != EINTR) {
            if (err != EAGAIN && err != EWOULDBLOCK)
                recv_failed(e, "frame_recv", err);
            return got;
        }
    }
    fz_fail(T, "end%d receiver makes no progress", e);
}

/* The peer takes what one frame_recv reads; 0 when it cannot go on. */
static int peer_reads_once(int p)
{
    struct frame_msg msg;
    int rc;
    if (!S[p].open)
        return 0;
    ssize_t r = frame_recv(&S[p].chan);
    int err = errno;
    while ((rc = frame_next(&S[p].chan, &msg)) == 1)
        take_msg(p, &msg);
    if (rc < 0) {
        recv_failed(p, "frame_next", errno);
        return 0;
    }
    if (r < 0 && err != EINTR && err != EAGAIN && err != EWOULDBLOCK) {
        recv_failed(p, "frame_recv", err);
        return 0;
    }
    return 1;
}

/* 1 + a rounds of: the peer reads once, this end flushes and sends one frame (the
 * same descriptors, borrowed). A reader just slow enough that a full queue never empties
 * while frames keep passing through it. */
static void op_trickle(int e, uint8_t op, uint8_t a, uint8_t b)
{
    int fds[8], other[8];
    unsigned nfds = make_fds(op, fds, other), rounds = 1u + a;
    fz_trace("#%u end%d trickle, %u rounds", opno, e, rounds);
    for (unsigned i = 0; i < rounds && peer_reads_once(1 - e); i++) {
        op_flush(e);
        if (inflight_fds + nfds > MAX_INFLIGHT_FDS)
            break;
        (void)send_one(e, size_of(b), fds, nfds, 0, 0);
    }
    close_list(fds, nfds);
    close_list(other, nfds);
}

static void op_recv_wait(int e)
{
    struct frame_msg msg;
    int rc = frame_recv_wait(&S[e].chan, &msg, 0);
    int err = rc < 0 ? errno : 0;
    fz_trace("#%u end%d recv_wait(0) -> %d %s", opno, e, rc, sockspec_errno_name(err));
    if (rc == 1)
        take_msg(e, &msg);
    else if (rc < 0 && err != ETIMEDOUT && err != EAGAIN)
        recv_failed(e, "frame_recv_wait", err);
}

static void op_shutdown(int e, uint8_t a)
{
    static const int hows[3] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
    int how = a % 3;
    (void)shutdown(S[e].fd, hows[how]);
    fz_trace("#%u end%d shutdown %d", opno, e, how);
    S[e].shut_rd |= how != 1;
    S[e].shut_wr |= how != 0;
    S[e].broken |= how != 1;
    S[1 - e].broken |= how != 0;
}

static void close_side(int e)
{
    fz_trace("#%u end%d fini", opno, e);
    frame_chan_fini(&S[e].chan);
    if (!close_on_fini)
        fz_close(S[e].fd);
    S[e].open = 0;
    S[0].broken = S[1].broken = 1;
}

static void run_op(uint8_t op, uint8_t a, uint8_t b)
{
    int e = (op >> 3) & 1;
    if (!S[e].open)
        return;
    switch (op & 7) {
    case 0:
        op_send(e, op, b, 0);
        break;
    case 1:
        op_burst(e, op, a, b);
        break;
    case 2:
        op_flush(e);
        break;
    case 3:
        fz_trace("#%u end%d recv", opno, e);
        op_recv(e);
        break;
    case 4:
        op_trickle(e, op, a, b);
        break;
    case 5:
        op_shutdown(e, a);
        break;
    case 6:
        if (a == 0)
            close_side(e);
        else
            op_flush(e);
        break;
    default:
        if (a & 1)
            op_send(e, op, b, 1);
        else
            op_recv_wait(e);
    }
    for (int k = 0; k < 2; k++) {
        if (S[k].open)
            check_mem(k);
    }
}

/* Flushes and receives until both queues are empty, then checks nothing was lost. */
static void settle(void)
{
    for (int round = 0; round < 10000; round++) {
        unsigned moved = 0;
        for (int e = 0; e < 2; e++) {
            size_t before = S[e].open ? frame_pending(&S[e].chan) : 0;
            if (before) {
                (void)frame_flush(&S[e].chan);
                check_mem(e);
                moved += frame_pending(&S[e].chan) != before;
            }
            if (S[e].open)
                moved += op_recv(e);
        }
        int pending = (S[0].open && frame_pending(&S[0].chan) && !peer_gone(0)) ||
                      (S[1].open && frame_pending(&S[1].chan) && !peer_gone(1));
        if (!pending && !moved)
            break;
    }
    for (int e = 0; e < 2; e++) {
        if (S[e].open && !S[e].broken && S[e].nrecv != S[e].nexp)
            fz_fail(T, "end%d received %u of %u messages", e, S[e].nrecv, S[e].nexp);
    }
}

static int setup(uint8_t c1, uint8_t c2)
{
    static const int types[4] = {SOCK_STREAM, SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM};
    static const int sndbufs[4] = {0, 4096, 16384, 65536};
    static const size_t sendqs[4] = {FRAME_SENDQ_MAX_DEFAULT, 1024, 65536, 1u << 20};
    static const uint32_t payloads[4] = {255, 4096, 65536, FRAME_MAX_PAYLOAD_DEFAULT};
    static const unsigned fdmax[8] = {0, 1, 2, 4, 8, 16, 16, 16};
    int sv[2];
    type = types[c1 & 3];
    frame_opts_default(&opts);
    opts.max_payload = payloads[c1 >> 6];
    opts.sendq_max = sendqs[(c1 >> 4) & 3];
    if (opts.sendq_max < FRAME_HDR_LEN + (size_t)opts.max_payload)
        opts.sendq_max = FRAME_HDR_LEN + (size_t)opts.max_payload;
    opts.max_fds = fdmax[c2 & 7];
    opts.close_fd_on_fini = close_on_fini = (c2 >> 3) & 1;
    if (fz_socketpair(type, sv) < 0)
        return -1;
    for (int e = 0; e < 2; e++) {
        memset(&S[e], 0, offsetof(struct side, exp));
        S[e].nexp = S[e].nrecv = 0;
        S[e].broken = 0;
        S[e].peak_demand = S[e].min_frame = 0;
        S[e].peak_nfds = 0;
        S[e].fd = sv[e];
        if (sndbufs[(c1 >> 2) & 3])
            (void)setsockopt(sv[e], SOL_SOCKET, SO_SNDBUF, &sndbufs[(c1 >> 2) & 3], sizeof(int));
        if (frame_chan_init(&S[e].chan, sv[e], &opts) < 0)
            fz_fail(T, "frame_chan_init: %s", sockspec_errno_name(errno));
        S[e].open = 1;
    }
    real_fds = inflight_fds = 0;
    next_id = 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fdset before;
    struct fz_in in = {data, size};
    fz_fdset_probe(&before);
    fz_trace_reset(0);
    fill_pool();
    uint8_t c1 = fz_u8(&in), c2 = fz_u8(&in);
    if (setup(c1, c2) < 0)
        return 0;
    fz_trace("type=%d max_payload=%u max_fds=%u sendq_max=%zu", type, opts.max_payload,
             opts.max_fds, opts.sendq_max);
    for (opno = 0; opno < MAX_OPS && in.n > 0; opno++) {
        uint8_t op = fz_u8(&in), a = fz_u8(&in);
        run_op(op, a, fz_u8(&in));
    }
    settle();
    for (int e = 0; e < 2; e++) {
        if (S[e].open)
            close_side(e);
    }
    fz_fdset_expect(&before, T);
    return 0;
}
