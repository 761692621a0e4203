/*
 * socket_model: the kernel against a reference model of AF_UNIX socketpair semantics.
 *
 * Input: [type][sndbuf choice] then 3-byte operations [op][a][b]. Each result is compared
 * with the model. Rules and where they come from:
 *  - stream: bytes arrive in order, nothing lost or duplicated (POSIX recv: "no data shall
 *    be discarded"); how many a send takes or a recv returns is open, so the model takes
 *    the kernel's count within [1, asked] and checks the bytes.
 *  - datagram/seqpacket: boundaries kept, a short buffer truncates and discards the rest,
 *    MSG_TRUNC in msg_flags, MSG_TRUNC as a flag returns the real length, zero-length
 *    messages exist (recv(2), unix(7)); datagrams are all or nothing.
 *  - MSG_PEEK never consumes (recv(2)).
 *  - end of file: recv returns 0 on an empty queue after own SHUT_RD, peer SHUT_WR or peer
 *    close (stream, seqpacket); a datagram socket has no connection to end (unix(7)), so
 *    EAGAIN, except after own SHUT_RD where the result is open (Linux: EAGAIN, POLLIN).
 *  - EPIPE: own SHUT_WR, peer SHUT_RD, peer closed on a connection-mode socket (send(2),
 *    POSIX send). A datagram peer that closed: the errno is open (ECONNREFUSED on Linux),
 *    and what the sender had queued to read may be dropped by the disconnect (open).
 *  - ECONNRESET may be reported once after the peer closed with unread data (open).
 *  - EAGAIN on send only while data of this sender is still queued (capacity is open; with
 *    a full buffer, whether EAGAIN or EPIPE wins is open too);
 *    EMSGSIZE only for datagrams above 2048 bytes (the smallest documented default), and
 *    then in any state (which error wins is open).
 *  - poll: POLLIN iff a recv would not block; POLLOUT when the peer's queue is empty and
 *    nothing is shut down.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "fuzz_common.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define T "socket_model"
#define MAX_OPS 128
#define CAP ((size_t)256 * 1024)
#define MAX_MSGS 1024
#define IOBUF 65536
#define BIG_DGRAM 2048
#define SENTINEL 0xEE

/* What end e reads is always pattern(pos, e) at stream position pos (op_send writes nothing
 * else), so a queue's bytes are pat[e] and the sender sends straight from it. */
struct queue {
    const uint8_t *bytes;
    size_t head, tail;
    size_t mstart[MAX_MSGS], mlen[MAX_MSGS];
    size_t mhead, mtail;
};

struct model {
    int type;
    int fd[2];
    int open[2], shut_rd[2], shut_wr[2], reset[2];
    int lossy[2];      /* datagram queue may have been purged by a disconnect */
    struct queue q[2]; /* q[e]: what end e has to read */
};

static struct model m;
static uint8_t pat[2][CAP]; /* pattern(pos, to), filled once: the same for every input */
static uint8_t rbuf[IOBUF + 1];
static unsigned opno;

static int is_msgs(void)
{
    return m.type != SOCK_STREAM;
}

static const char *type_name(void)
{
    return m.type == SOCK_STREAM      ? "SOCK_STREAM"
           : m.type == SOCK_SEQPACKET ? "SOCK_SEQPACKET"
                                      : "SOCK_DGRAM";
}

static int queued(int e)
{
    const struct queue *q = &m.q[e];
    return is_msgs() ? q->mhead < q->mtail : q->head < q->tail;
}

/* 1: recv on an empty queue returns 0; 0: EAGAIN; EOF_OPEN: either (datagram, own SHUT_RD). */
#define EOF_OPEN 2
static int at_eof(int e)
{
    int p = 1 - e;
    if (m.type == SOCK_DGRAM)
        return m.shut_rd[e] ? EOF_OPEN : 0;
    return m.shut_rd[e] || m.shut_wr[p] || !m.open[p];
}

static uint8_t pattern(size_t pos, int to)
{
    uint32_t x = (uint32_t)pos * 2654435761u;
    return (uint8_t)((x >> 13) ^ (to ? 0x5a : 0xa5));
}

FZ_NO_COVERAGE static void fill_patterns(void)
{
    static int filled;
    if (filled)
        return;
    for (int to = 0; to < 2; to++) {
        for (size_t pos = 0; pos < CAP; pos++)
            pat[to][pos] = pattern(pos, to);
    }
    filled = 1;
}

static void expect(int ok, const char *what, ssize_t r, int err)
{
    if (!ok)
        fz_fail(T, "op #%u on %s: expected %s, got %zd (%s)", opno, type_name(), what, r,
                r < 0 ? sockspec_errno_name(err) : "no error");
}

static int is_again(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK;
}

static void send_dead_dgram(int e, ssize_t r, int err)
{
    m.lossy[e] = 1;
    int ok = r < 0 && (err == ECONNREFUSED || err == ENOTCONN || err == EPIPE || err == ECONNRESET);
    expect(ok, "an error (peer closed)", r, err);
}

static void send_refused(int e, size_t len, ssize_t r, int err)
{
    int lenient = (len == 0 && r == 0 && !is_msgs()) || (err == ECONNRESET && m.reset[e]) ||
                  (r < 0 && is_again(err) && queued(1 - e));
    if (err == ECONNRESET)
        m.reset[e] = 0;
    expect((r < 0 && err == EPIPE) || lenient, "EPIPE", r, err);
}

static void send_failed(int e, size_t len, ssize_t r, int err)
{
    if (err == ECONNRESET && m.reset[e]) {
        m.reset[e] = 0;
        return;
    }
    int ok = (is_again(err) && queued(1 - e)) || (err == EMSGSIZE && is_msgs() && len > BIG_DGRAM);
    expect(ok, "success (queue empty or small datagram)", r, err);
}

static void record_send(int e, size_t len, ssize_t r)
{
    struct queue *q = &m.q[1 - e];
    if (is_msgs()) {
        expect((size_t)r == len, "the whole datagram", r, 0);
        q->mstart[q->mtail] = q->tail;
        q->mlen[q->mtail++] = len;
    } else {
        expect(len == 0 ? r == 0 : (r >= 1 && (size_t)r <= len), "1..len bytes", r, 0);
    }
    q->tail += (size_t)r;
}

static void op_send(int e, size_t len)
{
    int p = 1 - e;
    struct queue *q = &m.q[p];
    if (len > CAP - q->tail)
        len = CAP - q->tail;
    if (is_msgs() && q->mtail == MAX_MSGS)
        return;
    ssize_t r = send(m.fd[e], q->bytes + q->tail, len, fz_nosignal_flag());
    int err = r < 0 ? errno : 0;
    fz_trace("#%u end%d send len=%zu -> %zd %s", opno, e, len, r, sockspec_errno_name(err));
    if (r < 0 && err == EMSGSIZE && is_msgs() && len > BIG_DGRAM)
        return;
    if (m.type == SOCK_DGRAM && !m.open[p]) {
        send_dead_dgram(e, r, err);
        return;
    }
    if (m.shut_wr[e] || m.shut_rd[p] || !m.open[p]) {
        send_refused(e, len, r, err);
        return;
    }
    if (r < 0) {
        send_failed(e, len, r, err);
        return;
    }
    record_send(e, len, r);
}

static ssize_t do_recv(int e, size_t len, int flags, int *mflags)
{
    struct iovec iov = {.iov_base = rbuf, .iov_len = len};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    memset(rbuf, SENTINEL, len + 1);
    ssize_t r = recvmsg(m.fd[e], &mh, flags);
    *mflags = mh.msg_flags;
    return r;
}

static void check_bytes(const uint8_t *want, size_t n, size_t len, int maybe_untouched)
{
    if (memcmp(rbuf, want, n) != 0 && !(maybe_untouched && fz_all_bytes(rbuf, n, SENTINEL)))
        fz_fail(T, "op #%u: received bytes differ from the bytes sent", opno);
    if (!fz_all_bytes(rbuf + n, len - n, SENTINEL))
        fz_fail(T, "op #%u: recv wrote past the %zu bytes it returned", opno, n);
}

static void recv_empty(int e, ssize_t r, int err)
{
    int eof = at_eof(e);
    if (eof == EOF_OPEN)
        expect(r == 0 || (r < 0 && is_again(err)), "0 or EAGAIN", r, err);
    else if (eof)
        expect(r == 0, "0 (end of file)", r, err);
    else
        expect(r < 0 && is_again(err), "EAGAIN", r, err);
}

static void recv_msg(int e, size_t len, int flags, ssize_t r, int mflags)
{
    struct queue *q = &m.q[e];
    size_t ml = q->mlen[q->mhead];
    size_t copied = ml < len ? ml : len;
    size_t want = (flags & MSG_TRUNC) ? ml : copied;
    expect(r >= 0 && (size_t)r == want, "the datagram length", r, 0);
    if (((mflags & MSG_TRUNC) != 0) != (ml > len))
        fz_fail(T, "op #%u: MSG_TRUNC in msg_flags is %d for a %zu-byte datagram into %zu", opno,
                (mflags & MSG_TRUNC) != 0, ml, len);
    check_bytes(q->bytes + q->mstart[q->mhead], copied, len, 0);
    if (!(flags & MSG_PEEK))
        q->mhead++;
}

static void recv_stream(int e, size_t len, int flags, ssize_t r, int mflags)
{
    struct queue *q = &m.q[e];
    size_t qlen = q->tail - q->head;
    size_t max = qlen < len ? qlen : len;
    if (len == 0) {
        expect(r == 0, "0 (empty buffer)", r, 0);
        return;
    }
    expect(r >= 1 && (size_t)r <= max, "1..min(len, queued) bytes", r, 0);
    if (mflags & MSG_TRUNC)
        fz_fail(T, "op #%u: MSG_TRUNC set in msg_flags on a stream", opno);
    check_bytes(q->bytes + q->head, (size_t)r, len, (flags & MSG_TRUNC) != 0);
    if (!(flags & MSG_PEEK))
        q->head += (size_t)r;
}

static void op_recv(int e, size_t len, int flags)
{
    int mflags = 0;
    ssize_t r = do_recv(e, len, flags, &mflags);
    int err = r < 0 ? errno : 0;
    fz_trace("#%u end%d recv len=%zu%s%s -> %zd %s flags=%#x", opno, e, len,
             (flags & MSG_PEEK) ? " PEEK" : "", (flags & MSG_TRUNC) ? " TRUNC" : "", r,
             sockspec_errno_name(err), (unsigned)mflags);
    if (r < 0 && err == ECONNRESET && m.reset[e]) {
        m.reset[e] = 0;
        return;
    }
    if (m.lossy[e] && r < 0 && is_again(err)) {
        m.q[e].mhead = m.q[e].mtail;
        return;
    }
    if (mflags & MSG_CTRUNC)
        fz_fail(T, "op #%u: MSG_CTRUNC without a control buffer or descriptors", opno);
    if (!queued(e)) {
        recv_empty(e, r, err);
        return;
    }
    if (r < 0)
        expect(0, "data", r, err);
    if (is_msgs())
        recv_msg(e, len, flags, r, mflags);
    else
        recv_stream(e, len, flags, r, mflags);
}

static void op_shutdown(int e, int how)
{
    static const int hows[3] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
    int r = shutdown(m.fd[e], hows[how]);
    int err = r < 0 ? errno : 0;
    fz_trace("#%u end%d shutdown %s -> %d %s", opno, e,
             how == 0   ? "RD"
             : how == 1 ? "WR"
                        : "RDWR",
             r, sockspec_errno_name(err));
    if (r < 0) {
        expect(err == ENOTCONN && !m.open[1 - e], "0", r, err);
        return;
    }
    m.shut_rd[e] |= how != 1;
    m.shut_wr[e] |= how != 0;
}

static void op_close(int e)
{
    struct queue *q = &m.q[e];
    fz_trace("#%u end%d close", opno, e);
    fz_close(m.fd[e]);
    m.open[e] = 0;
    if (m.type != SOCK_DGRAM && queued(e))
        m.reset[1 - e] = 1;
    q->head = q->tail;
    q->mhead = q->mtail;
}

static void op_poll(int e)
{
    int p = 1 - e;
    struct pollfd pfd = {.fd = m.fd[e], .events = POLLIN | POLLOUT, .revents = 0};
    int r = poll(&pfd, 1, 0);
    fz_trace("#%u end%d poll -> %d revents=%#x", opno, e, r, (unsigned)pfd.revents);
    if (r < 0)
        fz_fail(T, "op #%u: poll failed: %s", opno, sockspec_errno_name(errno));
    int in_expected = queued(e) || at_eof(e);
    if (at_eof(e) != EOF_OPEN && !m.lossy[e] && ((pfd.revents & POLLIN) != 0) != in_expected)
        fz_fail(T, "op #%u: POLLIN is %d, expected %d", opno, (pfd.revents & POLLIN) != 0,
                in_expected);
    int clean = m.open[p] && !m.shut_wr[e] && !m.shut_rd[p] && !queued(p);
    if (clean && !(pfd.revents & POLLOUT))
        fz_fail(T, "op #%u: POLLOUT missing with an empty peer queue", opno);
}

static size_t size_of(uint8_t a, uint8_t b, int big)
{
    size_t n = big ? ((size_t)a << 8 | b) : a;
    if (big && is_msgs())
        n %= 16384;
    return n;
}

static void run_op(uint8_t op, uint8_t a, uint8_t b)
{
    static const int rflags[4] = {0, MSG_PEEK, MSG_TRUNC, MSG_PEEK | MSG_TRUNC};
    int e = (op >> 3) & 1, sel = (op >> 4) & 3;
    if (!m.open[e])
        return;
    switch (op & 7) {
    case 0:
    case 6: {
        op_send(e, size_of(a, b, (op & 7) == 6));
        return;
    }
    case 1:
    case 2:
    case 7: {
        op_recv(e, size_of(a, b, (op & 7) == 7), rflags[sel]);
        return;
    }
    case 3: {
        op_shutdown(e, sel % 3);
        return;
    }
    case 4:
        if ((a & 3) == 0)
            op_close(e);
        else
            op_poll(e);
        return;
    default: {
        op_poll(e);
        return;
    }
    }
}

static void set_sndbuf(int fd, unsigned choice)
{
    static const int sizes[4] = {0, 4096, 16384, 65536};
    if (choice)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sizes[choice], sizeof sizes[choice]);
}

static int setup(uint8_t tsel, uint8_t bufsel)
{
    static const int types[3] = {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM};
    memset(m.open, 0, sizeof m.open);
    m.type = types[tsel % 3];
    for (int e = 0; e < 2; e++) {
        m.shut_rd[e] = m.shut_wr[e] = m.reset[e] = m.lossy[e] = 0;
        m.q[e].head = m.q[e].tail = m.q[e].mhead = m.q[e].mtail = 0;
        m.q[e].bytes = pat[e];
    }
    if (fz_socketpair(m.type, m.fd) < 0)
        return -1;
    m.open[0] = m.open[1] = 1;
    set_sndbuf(m.fd[0], bufsel & 3);
    set_sndbuf(m.fd[1], (bufsel >> 2) & 3);
    fz_trace("socketpair(AF_UNIX, %s) sndbuf choice %u/%u", type_name(), bufsel & 3,
             (bufsel >> 2) & 3);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fdset before;
    struct fz_in in = {data, size};
    fz_fdset_probe(&before);
    fz_trace_reset(0);
    fill_patterns();
    uint8_t tsel = fz_u8(&in);
    if (setup(tsel, fz_u8(&in)) < 0)
        return 0;
    for (opno = 0; opno < MAX_OPS && in.n > 0 && (m.open[0] || m.open[1]); opno++) {
        uint8_t op = fz_u8(&in), a = fz_u8(&in);
        run_op(op, a, fz_u8(&in));
    }
    for (int e = 0; e < 2; e++) {
        if (m.open[e])
            fz_close(m.fd[e]);
    }
    fz_fdset_expect(&before, T);
    return 0;
}
