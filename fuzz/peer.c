#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "peer.h"
#include "batch_check.h"
#include "fuzz_common.h"
#include "frame.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_SEGMENTS 64
#define MAX_REAL_FDS 48
#define MAX_EXPECT 64
#define MAX_PASS_STEPS 100000
#define DEV_NULL "/dev/null"

/* A datagram the receiver must return, or reject (and everything after it). */
struct expect {
    int good;
    int err; /* the errno a malformed one fails with (frame.3, ERRORS) */
    const uint8_t *bytes;
    size_t len;
    unsigned nfds;
};

struct peer {
    const char *t;
    int packet, type;
    int sv[2]; /* sv[0] the evil writer, sv[1] the receiver */
    struct frame_chan chan;
    struct fdset before;
    uint32_t max_payload;
    unsigned max_fds, real_fds, nmsgs;
    int err, eof, close_on_fini;
    int stopped; /* a non-protocol error (ECONNRESET, ENOMEM): nothing more to check */
    int batch;   /* messages per frame_next_batch call; 0: frame_next */
    struct expect exp[MAX_EXPECT];
    unsigned nexp, nchecked;
    int held[16]; /* the writer's own descriptors while a segment goes out */
    unsigned nheld;
};

static struct peer P;

static int make_fd(unsigned kind, int *extra)
{
    int p[2];
    *extra = -1;
    if (kind == 2)
        return open(DEV_NULL, O_RDONLY | O_CLOEXEC);
    if (kind == 3) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) < 0)
            return -1;
    } else if (pipe(p) < 0) {
        return -1;
    }
    *extra = p[kind == 0];
    return p[kind != 0];
}

/* Creates n descriptors of one kind; returns how many exist (descriptors may run out). */
static unsigned make_fds(unsigned kind, unsigned n, int *fds, int *extra)
{
    unsigned i = 0;
    for (; i < n && P.real_fds < MAX_REAL_FDS; i++, P.real_fds++) {
        if ((fds[i] = make_fd(kind, &extra[i])) < 0)
            break;
    }
    return i;
}

static void close_fds(const int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (fds[i] >= 0)
            fz_close(fds[i]);
    }
}

static void check_fds(const struct frame_msg *msg)
{
    for (unsigned i = 0; i < msg->nfds; i++) {
        int fd = msg->fds[i];
        if (fd < 0 || !fz_is_cloexec(fd))
            fz_fail(P.t, "message %u descriptor %u (%d) is %s", P.nmsgs, i, fd,
                    fd < 0 || fcntl(fd, F_GETFD) < 0 ? "not open" : "not close-on-exec");
        if (fd == P.sv[0] || fd == P.sv[1])
            fz_fail(P.t, "message %u hands out the harness socket %d", P.nmsgs, fd);
        for (unsigned j = 0; j < i; j++) {
            if (msg->fds[j] == fd)
                fz_fail(P.t, "message %u carries descriptor %d twice", P.nmsgs, fd);
        }
    }
}

static void check_expected(const struct frame_msg *msg)
{
    if (!P.packet)
        return;
    if (P.nchecked >= P.nexp || !P.exp[P.nchecked].good)
        fz_fail(P.t, "message %u returned for datagram %u, which was %s", P.nmsgs, P.nchecked,
                P.nchecked >= P.nexp ? "never sent" : "malformed");
    const struct expect *e = &P.exp[P.nchecked++];
    if (msg->len != e->len - FRAME_HDR_LEN ||
        memcmp(msg->payload, e->bytes + FRAME_HDR_LEN, msg->len) != 0)
        fz_fail(P.t, "message %u differs from datagram %u", P.nmsgs, P.nchecked - 1);
}

static void take_or_release(struct frame_msg *msg)
{
    for (unsigned i = 0; i < msg->nfds; i += 1 + (P.nmsgs & 1)) {
        int fd = frame_msg_take_fd(msg, i);
        if (fd < 0)
            fz_fail(P.t, "frame_msg_take_fd(%u) failed: %s", i, sockspec_errno_name(errno));
        fz_close(fd);
    }
    frame_msg_release(msg);
}

static void mark_open(struct fdset *set, int fd)
{
    if (fd >= 0 && fd < FZ_FD_WINDOW)
        set->open[fd] = 1;
}

/* After an error, or a packet pass, the process holds only what it held plus the pair. */
static void expect_only_sockets(const char *when)
{
    struct fdset now, want = P.before;
    fz_fdset_probe(&now);
    mark_open(&want, P.sv[0]);
    mark_open(&want, P.sv[1]);
    for (unsigned k = 0; k < P.nheld; k++)
        mark_open(&want, P.held[k]);
    int i = fdset_first_change(&now, &want);
    if (i >= 0)
        fz_fail(P.t, "%s: descriptor %d is %s", when, i, now.open[i] ? "open" : "closed");
}

static int is_protocol_errno(int e)
{
    return e == EBADMSG || e == E2BIG || e == EPROTO;
}

/* On a packet socket the error belongs to the first datagram not returned: it must be a
 * malformed one, and fail with the errno its defect calls for. */
static void check_packet_error(int e)
{
    if (!P.packet || P.nchecked >= P.nexp)
        return;
    const struct expect *x = &P.exp[P.nchecked];
    if (x->good)
        fz_fail(P.t, "%s at datagram %u, which is well-formed", sockspec_errno_name(e), P.nchecked);
    if (e != x->err)
        fz_fail(P.t, "%s at datagram %u, whose defect is %s", sockspec_errno_name(e), P.nchecked,
                sockspec_errno_name(x->err));
}

/* frame.3, ERRORS: frame_next and frame_next_batch fail with the protocol errors only,
 * frame_recv also with ENOMEM and recvmsg's (ECONNRESET); a protocol error is sticky. */
static void note_error(const char *call, int e)
{
    int recv = strcmp(call, "frame_recv") == 0;
    fz_trace("  %s -> %s", call, sockspec_errno_name(e));
    if (!is_protocol_errno(e) && !(recv && (e == ECONNRESET || e == ENOMEM)))
        fz_fail(P.t, "%s failed with %s, not an error frame.3 lists for it", call,
                sockspec_errno_name(e));
    if (P.err && e != P.err)
        fz_fail(P.t, "%s: %s after %s: the error is not sticky", call, sockspec_errno_name(e),
                sockspec_errno_name(P.err));
    if (!is_protocol_errno(e)) {
        P.stopped = 1;
        return;
    }
    if (!P.err)
        check_packet_error(e);
    P.err = e;
    expect_only_sockets("after a protocol error");
}

/* After a protocol error every call reports it again and hands out nothing. */
static void check_sticky(void)
{
    struct frame_msg msgs[4];
    if (!P.err)
        return;
    ssize_t r = frame_recv(&P.chan);
    if (r != -1)
        fz_fail(P.t, "frame_recv after %s returns %zd", sockspec_errno_name(P.err), r);
    note_error("frame_recv", errno);
    int rc = frame_next(&P.chan, msgs);
    if (rc != -1)
        fz_fail(P.t, "frame_next after %s returns %d", sockspec_errno_name(P.err), rc);
    note_error("frame_next", errno);
    rc = frame_next_batch(&P.chan, msgs, 4);
    if (rc != -1)
        fz_fail(P.t, "frame_next_batch after %s returns %d", sockspec_errno_name(P.err), rc);
    note_error("frame_next_batch", errno);
}

/* End of file without an error stays end of file. */
static void check_eof_stays(void)
{
    struct frame_msg msg;
    if (P.err || P.stopped || !P.eof)
        return;
    ssize_t r = frame_recv(&P.chan);
    if (r != 0)
        fz_fail(P.t, "frame_recv after end of file returns %zd (%s)", r,
                sockspec_errno_name(r < 0 ? errno : 0));
    int rc = frame_next(&P.chan, &msg);
    if (rc != 0)
        fz_fail(P.t, "frame_next after end of file returns %d", rc);
}

static void take_msg(struct frame_msg *msg)
{
    if (P.err)
        fz_fail(P.t, "a message after error %s", sockspec_errno_name(P.err));
    fz_trace("  message type=%u len=%u nfds=%u", msg->type, msg->len, msg->nfds);
    check_fds(msg);
    check_expected(msg);
    take_or_release(msg);
    P.nmsgs++;
}

/* One frame_next or frame_next_batch call: messages, 0, or -1. */
static int next_msgs(struct frame_msg *msgs)
{
    if (P.batch == 0)
        return frame_next(&P.chan, msgs);
    return fz_check_batch(P.t, "frame_next_batch", msgs, frame_next_batch(&P.chan, msgs, P.batch),
                          P.batch);
}

static int drain(void)
{
    struct frame_msg msgs[4];
    int rc;
    while ((rc = next_msgs(msgs)) > 0)
        for (int i = 0; i < rc; i++)
            take_msg(&msgs[i]);
    if (rc < 0)
        note_error(P.batch ? "frame_next_batch" : "frame_next", errno);
    return rc;
}

/* Receives until EAGAIN, end of file or an error. */
static void receive(void)
{
    if (P.err) {
        check_sticky();
        return;
    }
    for (unsigned step = 0; !P.err && !P.eof && !P.stopped; step++) {
        if (step == MAX_PASS_STEPS)
            fz_fail(P.t, "receiver makes no progress");
        ssize_t r = frame_recv(&P.chan);
        int e = errno;
        if (drain() < 0)
            return;
        if (r == 0)
            P.eof = 1;
        if (r >= 0)
            continue;
        errno = e;
        if (e == EAGAIN || e == EWOULDBLOCK)
            break;
        if (e == ENOBUFS)
            continue;
        if (e != EINTR)
            note_error("frame_recv", e);
    }
    if (P.packet && !P.err)
        expect_only_sockets("after a receive pass on a packet socket");
}

static uint32_t peer_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void classify(const uint8_t *p, size_t n, unsigned nfds)
{
    unsigned char hdr[FRAME_HDR_LEN];
    struct expect *e = &P.exp[P.nexp++];
    e->bytes = p;
    e->len = n;
    e->nfds = nfds;
    e->good = 0;
    e->err = EPROTO;
    if (n < FRAME_HDR_LEN)
        return;
    if (p[0] != FRAME_MAGIC || p[1] != FRAME_VERSION || p[2] != 0)
        e->err = EBADMSG;
    else if (p[3] > P.max_fds || peer_get32(p + 12) > P.max_payload)
        e->err = E2BIG;
    if (p[3] != nfds || nfds > P.max_fds)
        return;
    uint32_t len = peer_get32(p + 12), type = peer_get32(p + 4), id = peer_get32(p + 8);
    e->good = len <= P.max_payload && n == FRAME_HDR_LEN + (size_t)len &&
              frame_encode_header(hdr, type, id, len, nfds) == 0 &&
              memcmp(hdr, p, FRAME_HDR_LEN) == 0;
}

/* Writes one segment; returns 0, or -1 when the writer has to stop. */
static int write_segment(const uint8_t *p, size_t n, int *fds, unsigned nfds)
{
    size_t done = 0;
    for (int stalls = 0;;) {
        ssize_t r = fz_send_fds(P.sv[0], p + done, n - done, fds, nfds);
        fz_trace("writer: %zu bytes %u fds -> %zd %s", n - done, nfds, r,
                 sockspec_errno_name(r < 0 ? errno : 0));
        if (r >= 0) {
            if (P.packet && P.nexp < MAX_EXPECT)
                classify(p, n, nfds);
            done += (size_t)r;
            nfds = 0;
            if (done >= n || P.packet)
                return 0;
            continue;
        }
        if (errno == EMSGSIZE && P.packet)
            return 0;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            if (errno == EBADF || errno == EFAULT || errno == EINVAL)
                fz_fail(P.t, "writer sendmsg: %s", sockspec_errno_name(errno));
            return -1;
        }
        unsigned before = P.nmsgs;
        receive();
        if (P.err || P.eof || P.stopped || (P.nmsgs == before && ++stalls > 2))
            return -1;
    }
}

static void hold(const int *fds, const int *extra, unsigned n)
{
    P.nheld = 0;
    for (unsigned i = 0; i < n; i++) {
        P.held[P.nheld++] = fds[i];
        P.held[P.nheld++] = extra[i];
    }
}

static int write_all(struct fz_in *in, int read_at_end)
{
    for (unsigned s = 0; s < MAX_SEGMENTS && in->n > 0; s++) {
        uint8_t h = fz_u8(in);
        size_t want = fz_u8(in), n;
        if (want == 255)
            want = fz_u16(in);
        const uint8_t *p = fz_bytes(in, want, &n);
        int fds[8], extra[8];
        unsigned nfds = make_fds((h >> 3) & 3, h & 7, fds, extra);
        if (P.packet && P.nexp == MAX_EXPECT)
            nfds = 0;
        hold(fds, extra, nfds);
        int rc = write_segment(p, n, fds, nfds);
        close_fds(fds, nfds);
        close_fds(extra, nfds);
        P.nheld = 0;
        if (rc < 0)
            return -1;
        if ((h >> 5) & 1) {
            (void)shutdown(P.sv[0], SHUT_WR);
            return 0;
        }
        if (!read_at_end)
            receive();
    }
    return 0;
}

static int setup(uint8_t cfg)
{
    static const unsigned fdmax[4] = {0, 1, 4, 16};
    static const uint32_t payloads[8] = {0, 16, 255, 1024, 4096, 65536, 1u << 20, 100};
    struct frame_opts o;
    P.type = !P.packet ? SOCK_STREAM : (cfg >> 7) ? SOCK_DGRAM : SOCK_SEQPACKET;
    P.max_fds = fdmax[cfg & 3];
    P.max_payload = payloads[(cfg >> 2) & 7];
    P.close_on_fini = (cfg >> 5) & 1;
    P.batch = !P.packet && (cfg >> 7) ? 4 : 0;
    P.real_fds = P.nmsgs = P.nexp = P.nchecked = P.nheld = 0;
    P.err = P.eof = P.stopped = 0;
    if (fz_socketpair(P.type, P.sv) < 0)
        return -1;
    frame_opts_default(&o);
    o.max_fds = P.max_fds;
    o.max_payload = P.max_payload;
    o.close_fd_on_fini = P.close_on_fini;
    if (frame_chan_init(&P.chan, P.sv[1], &o) < 0)
        fz_fail(P.t, "frame_chan_init: %s", sockspec_errno_name(errno));
    fz_trace("%s max_fds=%u max_payload=%u",
             P.packet ? (P.type == SOCK_DGRAM ? "dgram" : "seqpacket") : "stream", P.max_fds,
             P.max_payload);
    return 0;
}

/* On SOCK_SEQPACKET an empty datagram without descriptors reads as end of file (FORMAT.md). */
static int seqpacket_eof(void)
{
    const struct expect *e = &P.exp[P.nchecked];
    return P.type == SOCK_SEQPACKET && P.eof && e->len == 0 && e->nfds == 0;
}

int peer_run(const char *target, int packet, const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    P.t = target;
    P.packet = packet;
    fz_trace_reset(0);
    fz_fdset_probe(&P.before);
    uint8_t cfg = fz_u8(&in);
    if (setup(cfg) < 0)
        return 0;
    write_all(&in, (cfg >> 6) & 1);
    fz_close(P.sv[0]);
    P.sv[0] = -1;
    receive();
    check_sticky();
    check_eof_stays();
    if (P.packet && !P.err && !P.stopped && P.nchecked != P.nexp && !seqpacket_eof())
        fz_fail(P.t, "datagram %u of %u (%s) neither returned nor rejected", P.nchecked, P.nexp,
                P.exp[P.nchecked].good ? "well-formed" : "malformed");
    frame_chan_fini(&P.chan);
    if (!P.close_on_fini)
        fz_close(P.sv[1]);
    fz_fdset_expect(&P.before, target);
    return 0;
}
