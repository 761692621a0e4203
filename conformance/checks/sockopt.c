/*
 * Socket options by their effects, not only the value read back: SO_RCVLOWAT on poll and
 * recv, SO_OOBINLINE, the SO_SNDBUF and SO_RCVBUF minimums and rounding and what they limit,
 * SO_PASSCRED, SO_PEEK_OFF and SO_LINGER on AF_UNIX.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"

#define CATEGORY sockopt

/* ---- SO_RCVLOWAT ----------------------------------------------------------------------- */

#define LOWAT 10

/* Sends n bytes from a and waits (bounded) until b is readable; then sets SO_RCVLOWAT on b:
 * the order keeps the mark from hiding the arrival the wait looks for. */
static void queue_below_mark(struct chan *c, size_t n)
{
    xsend_all(c->a, "0123456789", n);
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN, "the data never arrived");
    REQUIRE(setsockopt_int(c->b, SOL_SOCKET, SO_RCVLOWAT, LOWAT) == 0, "SO_RCVLOWAT: %s",
            sockspec_errno_name(errno));
}

CHECK(rcvlowat_poll,
      "SO_RCVLOWAT = 10 on poll(POLLIN): the revents with 5 bytes queued, then with 10: \"<below>,"
      "<at the mark>\".")
{
    char below[64], at[64];
    queue_below_mark(c, LOWAT / 2);
    revents_str(poll_events(c->b, POLLIN, 0), below, sizeof below);
    xsend_all(c->a, "01234", LOWAT / 2);
    revents_str(poll_events(c->b, POLLIN, 2000), at, sizeof at);
    outcome(c, "%s,%s", below, at);
}
INSTANTIATE(rcvlowat_poll, KINDS_SOCKOPT_LOWAT)

CHECK(rcvlowat_nonblocking_recv,
      "SO_RCVLOWAT = 10 and 5 bytes queued: a non-blocking recv returns them (5) or fails.")
{
    char buf[64];
    queue_below_mark(c, LOWAT / 2);
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(rcvlowat_nonblocking_recv, KINDS_SOCKOPT_LOWAT)

CHECK(rcvlowat_blocking_recv,
      "SO_RCVLOWAT = 10 and 5 bytes queued: a blocking recv waits for the mark (\"woken: 10\" once "
      "5 more come), returns at once (\"returned before the event: 5\"), or is not woken by the 5 "
      "more (\"not woken within 1000 ms\").")
{
    struct waiter w;
    queue_below_mark(c, LOWAT / 2);
    waiter_start(&w, WAITER_RECV, c->b, 64, 0);
    if (!waiter_blocked(c, &w))
        return;
    ssize_t r = send(c->a, "01234", LOWAT / 2, ss_nosignal);
    int e = errno;
    waiter_outcome(c, &w, WAITER_WAKE_MS);
    errno = e;
    REQUIRE(r == LOWAT / 2, "second send: %s", ret_str(r).s);
}
INSTANTIATE(rcvlowat_blocking_recv, KINDS_SOCKOPT_LOWAT_BLOCKING)

/* ---- SO_OOBINLINE ---------------------------------------------------------------------- */

/* Sends "ab", then "X" with MSG_OOB: 0, or -1 with the outcome recorded. */
static int send_with_urgent(struct chan *c)
{
    xsend_all(c->a, "ab", 2);
    if (send(c->a, "X", 1, MSG_OOB | ss_nosignal) != 1) {
        outcome(c, "send MSG_OOB: %s", sockspec_errno_name(errno));
        return -1;
    }
    return 0;
}

/* Reads what arrives (idle bound 300 ms) and records it as text. */
static void collected_outcome(struct chan *c)
{
    char buf[16];
    size_t n = read_collect(c, c->b, buf, sizeof buf - 1, 300);
    buf[n] = '\0';
    outcome(c, "%s", n ? buf : "nothing");
}

CHECK(oob_not_inline_by_default,
      "Without SO_OOBINLINE, \"ab\" then \"X\" sent with MSG_OOB: what plain reads return (\"ab\": "
      "the urgent byte is out of band).")
{
    if (send_with_urgent(c) == 0)
        collected_outcome(c);
}
INSTANTIATE(oob_not_inline_by_default, KINDS_SOCKOPT_OOB)

CHECK(oobinline_reads_inline,
      "With SO_OOBINLINE on the receiver, \"ab\" then \"X\" sent with MSG_OOB: what plain reads "
      "return (\"abX\": the urgent byte in line).")
{
    REQUIRE(setsockopt_int(c->b, SOL_SOCKET, SO_OOBINLINE, 1) == 0, "SO_OOBINLINE: %s",
            sockspec_errno_name(errno));
    if (send_with_urgent(c) == 0)
        collected_outcome(c);
}
INSTANTIATE(oobinline_reads_inline, KINDS_SOCKOPT_OOB)

CHECK(oobinline_recv_msg_oob,
      "With SO_OOBINLINE, recv(MSG_OOB) once the urgent byte is signalled (POLLPRI, waited for up "
      "to 2 s): the errno (Linux: EINVAL), or what it read.")
{
    char buf[8];
    REQUIRE(setsockopt_int(c->b, SOL_SOCKET, SO_OOBINLINE, 1) == 0, "SO_OOBINLINE: %s",
            sockspec_errno_name(errno));
    if (send_with_urgent(c) < 0)
        return;
    /* A plain read stops at the urgent mark even in line, so only POLLPRI says it came; an
     * implementation that never signals urgent data is recorded as such. */
    if (!(poll_events(c->b, POLLPRI, 2000) & POLLPRI)) {
        outcome(c, "no POLLPRI within 2 s");
        return;
    }
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_OOB | MSG_DONTWAIT));
}
INSTANTIATE(oobinline_recv_msg_oob, KINDS_SOCKOPT_OOB)

/* ---- SO_SNDBUF and SO_RCVBUF ------------------------------------------------------------ */

/* Bytes a non-blocking fill of a fits in 512-byte writes; b is drained after. */
static size_t fill_and_drain(struct chan *c)
{
    int err;
    size_t n = fill_nb(c->a, 512, &err);
    REQUIRE(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill: %s after %zu bytes",
            err ? sockspec_errno_name(err) : "never full", n);
    size_t got = drain_nb(c, c->b, 0, NULL);
    REQUIRE(got == n, "filled %zu, drained %zu", n, got);
    return n;
}

/* Fills with the defaults, sets opt to 1 (its minimum) on fd, fills again: "fewer" if the
 * second fill took at most half the first, "same" within a tenth, else both counts. */
static void min_buffer_effect(struct chan *c, int fd, int opt)
{
    size_t before = fill_and_drain(c);
    REQUIRE(setsockopt_int(fd, SOL_SOCKET, opt, 1) == 0, "setsockopt: %s",
            sockspec_errno_name(errno));
    size_t after = fill_and_drain(c);
    size_t diff = before > after ? before - after : after - before;
    if (2 * after <= before)
        outcome(c, "fewer");
    else if (10 * diff <= before)
        outcome(c, "same");
    else
        outcome(c, "%zu then %zu", before, after);
}

CHECK(sndbuf_min_limits_fill,
      "The sender's SO_SNDBUF at its minimum: what a non-blocking fill fits, against the default "
      "(\"fewer\", \"same\").")
{
    min_buffer_effect(c, c->a, SO_SNDBUF);
}
INSTANTIATE(sndbuf_min_limits_fill, KINDS_SOCKOPT_FILL)

CHECK(rcvbuf_min_limits_fill,
      "The receiver's SO_RCVBUF at its minimum: what a non-blocking fill of the sender fits, "
      "against the default (\"fewer\", \"same\": the receive buffer is not what limits).")
{
    min_buffer_effect(c, c->b, SO_RCVBUF);
}
INSTANTIATE(rcvbuf_min_limits_fill, KINDS_SOCKOPT_FILL)

CHECK(rcvbuf_min_value,
      "SO_RCVBUF = 1 reads back as the minimum the OS enforces (Linux: 2304 on x86_64).")
{
    sockopt_set_readback(c, SO_RCVBUF, 1);
}
INSTANTIATE(rcvbuf_min_value, KINDS_SP_PLAIN)

CHECK(sndbuf_odd_value,
      "SO_SNDBUF = 5001 reads back unrounded (5001), doubled (Linux: 10002) or rounded.")
{
    sockopt_set_readback(c, SO_SNDBUF, 5001);
}
INSTANTIATE(sndbuf_odd_value, KINDS_SP_PLAIN)

/* ---- SO_PASSCRED ------------------------------------------------------------------------ */

CHECK(passcred_autobinds_sender,
      "SO_PASSCRED on an unnamed socketpair end, then a send: the end's name after it (Linux "
      "unix.7: autobind gives an abstract name of 5 bytes).")
{
#ifdef QUIRK_NO_SO_PASSCRED
    UNSUPPORTED(c, "SO_PASSCRED");
#else
    struct sockaddr_un sun;
    socklen_t len = sizeof sun;
    char s[64];
    REQUIRE(setsockopt_int(c->a, SOL_SOCKET, SO_PASSCRED, 1) == 0, "SO_PASSCRED: %s",
            sockspec_errno_name(errno));
    xsend_all(c->a, "x", 1);
    memset(&sun, 0, sizeof sun);
    REQUIRE(getsockname(c->a, (struct sockaddr *)&sun, &len) == 0, "getsockname: %s",
            sockspec_errno_name(errno));
    outcome(c, "%s", unix_name_str(&sun, len, s, sizeof s));
#endif
}
INSTANTIATE(passcred_autobinds_sender, KINDS_SP_PLAIN)

CHECK(passcred_set_after_send,
      "SO_PASSCRED set on the receiver after the data was sent: \"credentials\" if the receive "
      "still carries SCM_CREDENTIALS, else \"none\".")
{
#if defined(QUIRK_NO_SO_PASSCRED) || !defined(SOCKSPEC_HAVE_SCM_CREDENTIALS)
    UNSUPPORTED(c, "SO_PASSCRED with SCM_CREDENTIALS");
#else
    char data[4];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl.buf;
    m.msg_controllen = sizeof ctl.buf;
    xsend_all(c->a, "x", 1);
    REQUIRE(setsockopt_int(c->b, SOL_SOCKET, SO_PASSCRED, 1) == 0, "SO_PASSCRED: %s",
            sockspec_errno_name(errno));
    ssize_t r = recvmsg(c->b, &m, MSG_DONTWAIT);
    REQUIRE(r == 1, "recvmsg: %s", ret_str(r).s);
    int creds = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
        creds |= cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS;
    outcome(c, "%s", creds ? "credentials" : "none");
#endif
}
INSTANTIATE(passcred_set_after_send, KINDS_SP_PLAIN)

/* ---- SO_PEEK_OFF ------------------------------------------------------------------------ */

CHECK(peek_off_default, "SO_PEEK_OFF of a fresh socket: -1 (peeking starts at the front).")
{
#ifdef QUIRK_NO_SO_PEEK_OFF
    UNSUPPORTED(c, "SO_PEEK_OFF");
#else
    int v;
    if (sockopt_int(c->b, SOL_SOCKET, SO_PEEK_OFF, &v) < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%d", v);
#endif
}
INSTANTIATE(peek_off_default, KINDS_SOCKOPT_PEEK_OFF)

#ifndef QUIRK_NO_SO_PEEK_OFF
/* Two bytes received with flags, as text ("ab"), or the errno name. */
static const char *two_bytes(struct chan *c, int flags, char *out, size_t n)
{
    char buf[2];
    ssize_t r = recv(c->b, buf, sizeof buf, flags | MSG_DONTWAIT);
    if (r < 0)
        snprintf(out, n, "%s", sockspec_errno_name(errno));
    else
        snprintf(out, n, "%.*s", (int)r, buf);
    return out;
}
#endif

CHECK(peek_off_sequence,
      "SO_PEEK_OFF = 0, \"abcdef\" sent at once; peek 2, peek 2, read 2, peek 2: with the offset "
      "honoured \"ab,cd,ab,ef\" (message kinds: \"ab,cd,ab,EAGAIN\", the read takes the whole "
      "message), without it \"ab,ab,ab,cd\".")
{
#ifdef QUIRK_NO_SO_PEEK_OFF
    UNSUPPORTED(c, "SO_PEEK_OFF");
#else
    char s[4][16];
    if (setsockopt_int(c->b, SOL_SOCKET, SO_PEEK_OFF, 0) < 0) {
        outcome(c, "setsockopt %s", sockspec_errno_name(errno));
        return;
    }
    xsend_all(c->a, "abcdef", 6);
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN, "the data never arrived");
    two_bytes(c, MSG_PEEK, s[0], sizeof s[0]);
    two_bytes(c, MSG_PEEK, s[1], sizeof s[1]);
    two_bytes(c, 0, s[2], sizeof s[2]);
    two_bytes(c, MSG_PEEK, s[3], sizeof s[3]);
    outcome(c, "%s,%s,%s,%s", s[0], s[1], s[2], s[3]);
#endif
}
INSTANTIATE(peek_off_sequence, KINDS_SOCKOPT_PEEK_OFF)

/* ---- SO_LINGER -------------------------------------------------------------------------- */

/* Queues 3 bytes from a unread, sets SO_LINGER {1, sec} on a: 0, or -1 with the outcome. */
static int linger_with_unread(struct chan *c, int sec)
{
    struct linger l = {.l_onoff = 1, .l_linger = sec};
    xsend_all(c->a, "abc", 3);
    if (setsockopt(c->a, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0) {
        outcome(c, "setsockopt %s", sockspec_errno_name(errno));
        return -1;
    }
    return 0;
}

CHECK(linger_zero_close_peer_reads,
      "SO_LINGER {1, 0} and close with 3 bytes unread by the peer: the peer's two reads (\"3,0\": "
      "the data stays; TCP resets: ECONNRESET).")
{
    char buf[8];
    if (linger_with_unread(c, 0) < 0)
        return;
    xclose(&c->a);
    (void)poll_events(c->b, POLLIN, 2000);
    struct ret_str r1 = ret_str(read_nb(c, c->b, buf, sizeof buf, 0));
    if (strcmp(r1.s, "3") != 0) {
        outcome(c, "%s", r1.s);
        return;
    }
    (void)poll_events(c->b, POLLIN, 2000);
    outcome(c, "3,%s", ret_str(read_nb(c, c->b, buf, sizeof buf, 0)).s);
}
INSTANTIATE(linger_zero_close_peer_reads, KINDS_SOCKOPT_LINGER)

/*
 * close() with SO_LINGER {1, 1} while the peer has not read: a close that lingers takes about
 * the linger time (1 s); one that does not returns at once. 500 ms splits the two.
 */
CHECK(linger_close_duration,
      "SO_LINGER {1, 1} and close with 3 bytes unread by the peer: \"at once\" (under 500 ms) or "
      "\"lingered\".")
{
    struct timespec t0;
    if (linger_with_unread(c, 1) < 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = close(c->a);
    long ms = elapsed_ms(&t0);
    c->a = -1;
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%s", ms < 500 ? "at once" : "lingered");
}
INSTANTIATE(linger_close_duration, KINDS_SOCKOPT_LINGER)
