/*
 * Stream semantics on AF_UNIX SOCK_STREAM, TCP and pipes: order and integrity, coalescing,
 * partial reads, MSG_PEEK, MSG_WAITALL, MSG_TRUNC, zero-length sends and receives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"

#define CATEGORY stream

/* Waits (bounded) for b to be readable, then reads once without blocking. */
static ssize_t rx(struct chan *c, void *buf, size_t n, int flags)
{
    (void)poll_events(c->b, POLLIN, 2000);
    return read_nb(c, c->b, buf, n, flags);
}

/* Writes exactly n bytes from a in one call, fatal otherwise. */
static void tx(struct chan *c, const void *buf, size_t n)
{
    ssize_t r = send_or_write(c->a, buf, n, 0);
    REQUIRE(r == (ssize_t)n, "send(%zu): %zd %s", n, r,
            r < 0 ? sockspec_errno_name(errno) : "short");
}

/* ---- order and integrity ------------------------------------------------------------------- */

#define BIG (4u << 20)

CHECK(large_transfer_integrity,
      "4 MiB written in varied chunks by a helper and read in varied chunks arrive intact: \"ok\".")
{
    static const size_t rsizes[] = {3, 5000, 65536, 1, 777, 16384, 100000};
    unsigned char *out = malloc(BIG), *in = malloc(BIG);
    REQUIRE(out && in);
    fill_pattern(out, BIG, 42);
    struct writer w;
    writer_start(&w, c->a, out, BIG, 0);
    size_t got = 0, i = 0;
    const char *res = "ok";
    while (got < BIG) {
        size_t n = rsizes[i++ % (sizeof rsizes / sizeof rsizes[0])];
        if (n > BIG - got)
            n = BIG - got;
        ssize_t r = recv_or_read(c->b, in + got, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!(poll_events(c->b, POLLIN, 5000) & (POLLIN | POLLHUP))) {
                res = "stalled";
                break;
            }
            continue;
        }
        if (r <= 0) {
            res = r == 0 ? "early EOF" : sockspec_errno_name(errno);
            break;
        }
        got += (size_t)r;
    }
    int werr = writer_join(&w);
    EXPECT(werr == 0, "writer: %s", sockspec_errno_name(werr));
    if (got == BIG && fnv1a(in, BIG, 0) != fnv1a(out, BIG, 0))
        res = "corrupted";
    free(out);
    free(in);
    outcome(c, "%s", res);
}
INSTANTIATE(large_transfer_integrity, KINDS_MIX_BULK)

CHECK(small_writes_in_order,
      "500 separate 7-byte writes (by a helper) read back as one ordered byte sequence: \"ok\".")
{
    unsigned char out[3500], in[3500];
    fill_pattern(out, sizeof out, 9);
    struct writer w;
    writer_start(&w, c->a, out, sizeof out, 7);
    size_t got = 0;
    while (got < sizeof in) {
        ssize_t r = rx(c, in + got, sizeof in - got, 0);
        if (r <= 0) /* rx waited up to 2 s: EAGAIN here means the writer stalled */
            break;
        got += (size_t)r;
    }
    int werr = writer_join(&w);
    EXPECT(werr == 0, "writer: %s", sockspec_errno_name(werr));
    outcome(c, "%s",
            got != sizeof in                  ? "short"
            : memcmp(in, out, sizeof in) == 0 ? "ok"
                                              : "corrupted");
}
INSTANTIATE(small_writes_in_order, KINDS_TCP4)
INSTANTIATE(small_writes_in_order, KINDS_PIPE_NB)
INSTANTIATE(small_writes_in_order, KINDS_MIX_STREAM)

CHECK(coalesce_sends, "Two sends (\"abc\", \"def\") are returned by one 100-byte read: 6.")
{
    char buf[100];
    tx(c, "abc", 3);
    tx(c, "def", 3);
    ssize_t r = rx(c, buf, sizeof buf, 0);
    EXPECT(r != 6 || memcmp(buf, "abcdef", 6) == 0, "bytes out of order");
    outcome_ret(c, r);
}
INSTANTIATE(coalesce_sends, KINDS_PIPE)
INSTANTIATE(coalesce_sends, KINDS_MIX_STREAM)

CHECK(partial_read_keeps_rest,
      "A 4-byte read of 10 queued bytes leaves the other 6, in order: \"4,6\".")
{
    char buf[100];
    tx(c, "0123456789", 10);
    ssize_t r1 = rx(c, buf, 4, 0);
    REQUIRE(r1 == 4, "first read: %zd", r1);
    EXPECT(memcmp(buf, "0123", 4) == 0);
    ssize_t r2 = rx(c, buf, sizeof buf, 0);
    struct ret_str s2 = ret_str(r2);
    EXPECT(r2 != 6 || memcmp(buf, "456789", 6) == 0, "rest out of order");
    outcome(c, "4,%s", s2.s);
}
INSTANTIATE(partial_read_keeps_rest, KINDS_TCP4)
INSTANTIATE(partial_read_keeps_rest, KINDS_PIPE_NB)
INSTANTIATE(partial_read_keeps_rest, KINDS_MIX_STREAM)

CHECK(writev_readv_order,
      "writev() of three pieces then readv() into two buffers keeps the byte order: \"ok\".")
{
    char p1[] = "ab", p2[] = "cdef", p3[] = "ghi";
    struct iovec wv[3] = {{p1, 2}, {p2, 4}, {p3, 3}};
    REQUIRE(writev(c->a, wv, 3) == 9, "writev: %s", sockspec_errno_name(errno));
    char r1[4] = {0}, r2[16] = {0};
    struct iovec rv[2] = {{r1, sizeof r1}, {r2, sizeof r2}};
    (void)poll_events(c->b, POLLIN, 2000);
    ssize_t got = readv(c->b, rv, 2);
    outcome(c, "%s",
            got != 9                                                    ? "short"
            : memcmp(r1, "abcd", 4) == 0 && memcmp(r2, "efghi", 5) == 0 ? "ok"
                                                                        : "corrupted");
}
INSTANTIATE(writev_readv_order, KINDS_TCP4)
INSTANTIATE(writev_readv_order, KINDS_PIPE_NB)
INSTANTIATE(writev_readv_order, KINDS_MIX_STREAM)

/* ---- MSG_PEEK ---------------------------------------------------------------------------- */

CHECK(peek_does_not_consume,
      "MSG_PEEK returns the data without consuming it: peek then read give \"5,5\", same bytes.")
{
    char p[16], r[16];
    tx(c, "hello", 5);
    ssize_t n1 = rx(c, p, sizeof p, MSG_PEEK);
    struct ret_str s1 = ret_str(n1);
    ssize_t n2 = rx(c, r, sizeof r, 0);
    struct ret_str s2 = ret_str(n2);
    EXPECT(n1 != 5 || n2 != 5 || memcmp(p, r, 5) == 0, "peeked bytes differ");
    outcome(c, "%s,%s", s1.s, s2.s);
}
INSTANTIATE(peek_does_not_consume, KINDS_TCP4)
INSTANTIATE(peek_does_not_consume, KINDS_MIX_STREAM)

CHECK(peek_across_sends,
      "MSG_PEEK returns bytes of two sends (\"abc\", \"def\") at once on Linux: 6.")
{
    char buf[100];
    tx(c, "abc", 3);
    tx(c, "def", 3);
    outcome_ret(c, rx(c, buf, sizeof buf, MSG_PEEK));
}
INSTANTIATE(peek_across_sends, KINDS_MIX_STREAM)

/* ---- MSG_WAITALL -------------------------------------------------------------------------- */

struct two_part {
    int fd;      /* the sending end */
    int done[2]; /* the check's thread writes done[1] once its receive returned */
    int err;
};

/*
 * Sends "abc", then waits up to 300 ms for the receive to return. A receive that honours
 * MSG_WAITALL is still waiting then, and gets "def" too (6); one that does not has returned
 * with "abc" (3), and "def" is not sent. Under load a receive may return 3 after the bound:
 * the outcome is still 3, since "def" comes too late to join it.
 */
static void *two_part_main(void *arg)
{
    struct two_part *t = arg;
    struct pollfd p = {.fd = t->done[0], .events = POLLIN};
    int r;
    if (send_or_write(t->fd, "abc", 3, 0) != 3) {
        t->err = errno;
        (void)shutdown(t->fd, SHUT_WR);
        return NULL;
    }
    while ((r = poll(&p, 1, 300)) < 0 && errno == EINTR)
        ;
    if (r == 0 && send_or_write(t->fd, "def", 3, 0) != 3) {
        t->err = errno;
        (void)shutdown(t->fd, SHUT_WR);
    }
    return NULL;
}

CHECK(waitall_waits_full, "MSG_WAITALL waits for the full count across two separate sends: 6 (3 "
                          "where it is ignored).")
{
    char buf[6];
    struct two_part t = {c->a, {-1, -1}, 0};
    struct helper h;
    xpipe(t.done);
    xset_timeo(c->b, SO_RCVTIMEO, 2, 0); /* bounds a receive that would wait for ever */
    helper_start(&h, two_part_main, &t);
    ssize_t r = recv(c->b, buf, sizeof buf, MSG_WAITALL);
    int e = errno;
    REQUIRE(write(t.done[1], "x", 1) == 1, "pipe: %s", sockspec_errno_name(errno));
    helper_join(&h);
    xclose(&t.done[0]);
    xclose(&t.done[1]);
    EXPECT(t.err == 0, "helper: %s", sockspec_errno_name(t.err));
    EXPECT(r != 6 || memcmp(buf, "abcdef", 6) == 0, "bytes out of order");
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(waitall_waits_full, KINDS_MIX_STREAM_BLOCKING)

CHECK(waitall_rcvtimeo_partial,
      "MSG_WAITALL with SO_RCVTIMEO (20 ms) returns the partial count when it expires: 3.")
{
    char buf[6];
    tx(c, "abc", 3);
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN);
    xset_timeo(c->b, SO_RCVTIMEO, 0, 20000);
    outcome_ret(c, recv_guarded(c->b, buf, sizeof buf, MSG_WAITALL, c->a, 3000, 0,
                                "the timeout never expired"));
}
INSTANTIATE(waitall_rcvtimeo_partial, KINDS_MIX_STREAM_BLOCKING)

CHECK(waitall_after_peer_close,
      "MSG_WAITALL after the peer closed returns what there is, then EOF: \"3,0\". (SO_RCVTIMEO "
      "of 3 s only bounds the call should EOF not end the wait.)")
{
    char buf[6];
    xset_timeo(c->b, SO_RCVTIMEO, 3, 0); /* before the close: macOS refuses options after it */
    tx(c, "abc", 3);
    xclose(&c->a);
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN);
    ssize_t r1 = recv(c->b, buf, sizeof buf, MSG_WAITALL);
    if (r1 < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    outcome(c, "%zd,%s", r1, ret_str(recv(c->b, buf, sizeof buf, MSG_WAITALL)).s);
}
INSTANTIATE(waitall_after_peer_close, KINDS_MIX_STREAM_BLOCKING)

CHECK(waitall_dontwait_partial,
      "recv(MSG_WAITALL | MSG_DONTWAIT) with 3 of 6 bytes queued returns what there is: 3, or "
      "\"blocked\" when it waits for more.")
{
    char buf[6];
    tx(c, "abc", 3);
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN, "the 3 bytes never arrived");
    /* Some kernels wait despite MSG_DONTWAIT: a watchdog then sends more after 1 s. */
    ssize_t r =
        recv_guarded(c->b, buf, sizeof buf, MSG_WAITALL | MSG_DONTWAIT, c->a, 1000, 1, NULL);
    if (guarded_fired())
        outcome(c, "blocked");
    else
        outcome_ret(c, r);
}
INSTANTIATE(waitall_dontwait_partial, KINDS_TCP4)
INSTANTIATE(waitall_dontwait_partial, KINDS_MIX_STREAM)

CHECK(dontwait_returns_available,
      "recv(MSG_DONTWAIT) with 3 of 6 bytes queued returns the 3 available.")
{
    char buf[6];
    tx(c, "abc", 3);
    outcome_ret(c, rx(c, buf, sizeof buf, 0));
}
INSTANTIATE(dontwait_returns_available, KINDS_TCP4)
INSTANTIATE(dontwait_returns_available, KINDS_MIX_STREAM)

/* ---- MSG_TRUNC ---------------------------------------------------------------------------- */

/* recv(4, MSG_TRUNC) with 10 bytes queued: return value and whether the bytes were copied. */
static void trunc_stream(struct chan *c)
{
    char buf[4];
    memset(buf, '-', sizeof buf);
    tx(c, "0123456789", 10);
    ssize_t r = rx(c, buf, sizeof buf, MSG_TRUNC);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%zd,%s", r, memcmp(buf, "0123", 4) == 0 ? "copied" : "not copied");
}

CHECK(
    msg_trunc,
    "recv(MSG_TRUNC) of 4 of the bytes queued on a byte stream: \"4,copied\" or \"4,not copied\".")
{
    trunc_stream(c);
}
INSTANTIATE(msg_trunc, KINDS_TCP)
INSTANTIATE(msg_trunc, KINDS_MIX_STREAM)

CHECK(msg_trunc_rest_kept, "After recv(4, MSG_TRUNC) of 10 queued bytes, 6 remain.")
{
    char buf[16];
    tx(c, "0123456789", 10);
    ssize_t r = rx(c, buf, 4, MSG_TRUNC);
    REQUIRE(r >= 0, "recv(MSG_TRUNC): %s", sockspec_errno_name(errno));
    outcome_ret(c, rx(c, buf, sizeof buf, 0));
}
INSTANTIATE(msg_trunc_rest_kept, KINDS_TCP4)
INSTANTIATE(msg_trunc_rest_kept, KINDS_MIX_STREAM)

CHECK(msg_trunc_flag_never_set, "A short recvmsg() on a stream never sets MSG_TRUNC: \"0\".")
{
    tx(c, "0123456789", 10);
    outcome_msg_flags(c, c->b, 4, 0, 0, 4);
}
INSTANTIATE(msg_trunc_flag_never_set, KINDS_TCP4)
INSTANTIATE(msg_trunc_flag_never_set, KINDS_MIX_STREAM)

/* ---- zero-length sends and receives -------------------------------------------------------- */

CHECK(zero_send_queues_nothing, "A zero-length send returns 0 and queues nothing: \"0,EAGAIN\".")
{
    char buf[16] = {0};
    ssize_t s = send_or_write(c->a, buf, 0, 0);
    if (s != 0) {
        outcome(c, "%s", s < 0 ? sockspec_errno_name(errno) : "nonzero");
        return;
    }
    (void)poll_events(c->b, POLLIN, 20);
    outcome(c, "0,%s", ret_str(read_nb(c, c->b, buf, sizeof buf, 0)).s);
}
INSTANTIATE(zero_send_queues_nothing, KINDS_TCP4)
INSTANTIATE(zero_send_queues_nothing, KINDS_PIPE_NB)
INSTANTIATE(zero_send_queues_nothing, KINDS_MIX_STREAM)

CHECK(zero_recv_with_data,
      "A zero-length receive with data queued returns 0 and leaves the data: \"0,5\".")
{
    char buf[16];
    tx(c, "hello", 5);
    struct ret_str r0 = ret_str(rx(c, buf, 0, 0));
    struct ret_str r1 = ret_str(rx(c, buf, sizeof buf, 0));
    outcome(c, "%s,%s", r0.s, r1.s);
}
INSTANTIATE(zero_recv_with_data, KINDS_TCP4)
INSTANTIATE(zero_recv_with_data, KINDS_PIPE_NB)
INSTANTIATE(zero_recv_with_data, KINDS_MIX_STREAM)

CHECK(zero_recv_empty_dontwait,
      "A zero-length recv(MSG_DONTWAIT) on an empty stream: Linux EAGAIN.")
{
    char buf[1] = {0};
    outcome_ret(c, recv(c->b, buf, 0, MSG_DONTWAIT));
}
INSTANTIATE(zero_recv_empty_dontwait, KINDS_TCP4)
INSTANTIATE(zero_recv_empty_dontwait, KINDS_MIX_STREAM)

CHECK(zero_recv_after_peer_shutdown, "A zero-length receive after the peer's SHUT_WR returns 0.")
{
    char buf[1] = {0};
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    (void)poll_events(c->b, POLLIN, 2000);
    outcome_ret(c, recv(c->b, buf, 0, MSG_DONTWAIT));
}
INSTANTIATE(zero_recv_after_peer_shutdown, KINDS_TCP4)
INSTANTIATE(zero_recv_after_peer_shutdown, KINDS_MIX_STREAM)

/* ---- large writes --------------------------------------------------------------------------- */

CHECK(nonblocking_large_write_partial,
      "A non-blocking 4 MiB write on an empty stream writes part of it: \"short\".")
{
    char *buf = calloc(1, BIG);
    REQUIRE(buf != NULL);
    ssize_t r = send_or_write(c->a, buf, BIG, 0);
    free(buf);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%s", r == (ssize_t)BIG ? "full" : r > 0 ? "short" : "0");
}
INSTANTIATE(nonblocking_large_write_partial, KINDS_SP_STREAM_NB)
INSTANTIATE(nonblocking_large_write_partial, KINDS_PIPE_NB)

CHECK(blocking_large_write_full,
      "A blocking 4 MiB write with a reader draining returns the full count: 4194304.")
{
    char *buf = calloc(1, BIG);
    REQUIRE(buf != NULL);
    struct reader s;
    reader_start(&s, c->b, BIG);
    ssize_t r = send_or_write(c->a, buf, BIG, 0);
    int e = errno;
    if (r < (ssize_t)BIG) /* let the reader give up rather than wait for bytes never sent */
        xclose(&c->a);
    size_t got = reader_join(&s);
    free(buf);
    EXPECT(r < 0 || got == (size_t)r, "reader got %zu of %zd", got, r);
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(blocking_large_write_full, KINDS_PIPE)
INSTANTIATE(blocking_large_write_full, KINDS_TCP4)
INSTANTIATE(blocking_large_write_full, KINDS_MIX_STREAM_TWO)

/* ---- addresses and out-of-band ------------------------------------------------------------ */

CHECK(sendto_addr_tcp,
      "TCP: sendto() with another address on a connected socket; Linux ignores it: 5.")
{
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons(9);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ssize_t r = sendto(c->a, "hello", 5, ss_nosignal, (struct sockaddr *)&in, sizeof in);
    outcome_ret(c, r);
}
INSTANTIATE(sendto_addr_tcp, KINDS_TCP4)

CHECK(oob_recv_tcp_none_pending,
      "TCP: recv(MSG_OOB) with no urgent data pending fails with EINVAL.")
{
    char buf[4];
    tx(c, "abc", 3);
    (void)poll_events(c->b, POLLIN, 2000);
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_OOB | MSG_DONTWAIT));
}
INSTANTIATE(oob_recv_tcp_none_pending, KINDS_TCP)
