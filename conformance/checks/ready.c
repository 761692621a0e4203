/* Readiness: what poll(), select() and FIONREAD report for data, space, hangups and errors. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"
#include "check_util.h"

#define CATEGORY ready

/* revents of a zero-timeout poll for events, as a string. */
static const char *revents_now(int fd, short events, char *buf, size_t n)
{
    return revents_str(poll_events(fd, events, 0), buf, n);
}

/* Waits (bounded) until the reader sees something: loopback IP is not always synchronous. */
static void settle(int fd)
{
    (void)poll_events(fd, POLLIN, 2000);
}

/* Fills a (non-blocking) until EAGAIN, with 4096-byte writes or the largest message that
 * fits if smaller; returns the bytes queued. */
static size_t fill(struct chan *c)
{
    int err;
    size_t total = fill_nb(c->a, message_chunk(c, 4096), &err);
    REQUIRE(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "filling: %s after %zu bytes",
            err ? sockspec_errno_name(err) : "never full", total);
    return total;
}

/* Reads fd (non-blocking) until EAGAIN. */
static void drain(struct chan *c, int fd)
{
    int end;
    drain_nb(c, fd, 0, &end);
    REQUIRE(end == EAGAIN || end == EWOULDBLOCK, "drain: %s",
            end == 0 ? "EOF" : sockspec_errno_name(end));
}

/* Records the zero-timeout revents of fd for events. */
static void revents_outcome(struct chan *c, int fd, short events)
{
    char s[64];
    outcome(c, "%s", revents_now(fd, events, s, sizeof s));
}

/* Fills a (non-blocking) and records its POLLOUT revents. */
static void pollout_when_full(struct chan *c)
{
    REQUIRE(fill(c) > 0, "nothing could be queued");
    revents_outcome(c, c->a, POLLOUT);
}

/* A zero-length send from a, then b's POLLIN revents. */
static void pollin_after_empty_send(struct chan *c)
{
    REQUIRE(send(c->a, "", 0, ss_nosignal) == 0, "empty send: %s", sockspec_errno_name(errno));
    revents_outcome(c, c->b, POLLIN);
}

/* Closes a, waits (bounded) for b if settle_first, then records b's revents for events. */
static void revents_after_close_a(struct chan *c, short events, int settle_first)
{
    xclose(&c->a);
    if (settle_first)
        settle(c->b);
    revents_outcome(c, c->b, events);
}

/* ---- poll(): data and space ---- */

CHECK(pollin_when_data, "Queued data makes the reader POLLIN.")
{
    char s[64];
    xsend_all(c->a, "x", 1);
    settle(c->b);
    outcome(c, "%s", revents_now(c->b, POLLIN, s, sizeof s));
}
INSTANTIATE(pollin_when_data, KINDS_MIX_EVERY_ORIGIN)

CHECK(no_pollin_when_empty, "An empty receiver is not POLLIN.")
{
    revents_outcome(c, c->b, POLLIN);
}
INSTANTIATE(no_pollin_when_empty, KINDS_PIPE)
INSTANTIATE(no_pollin_when_empty, KINDS_SP_PLAIN)

CHECK(pollout_when_space, "A fresh sender has buffer space: POLLOUT.")
{
    revents_outcome(c, c->a, POLLOUT);
}
INSTANTIATE(pollout_when_space, KINDS_MIX_EVERY_ORIGIN)

CHECK(pollout_cleared_when_full,
      "POLLOUT is cleared once a non-blocking send fills the buffer: the revents then.")
{
    pollout_when_full(c);
}
INSTANTIATE(pollout_cleared_when_full, KINDS_SP_NONBLOCKING)
INSTANTIATE(pollout_cleared_when_full, KINDS_PIPE_NB)

CHECK(pollout_restored_after_drain, "POLLOUT comes back after the peer drains a full buffer.")
{
    char s[64];
    REQUIRE(fill(c) > 0, "nothing could be queued");
    drain(c, c->b);
    outcome(c, "%s", revents_str(poll_events(c->a, POLLOUT, 2000), s, sizeof s));
}
INSTANTIATE(pollout_restored_after_drain, KINDS_SP_NONBLOCKING)
INSTANTIATE(pollout_restored_after_drain, KINDS_PIPE_NB)

CHECK(pollin_level_triggered_after_partial_read,
      "POLLIN is level-triggered: still set after a partial read (one of two messages / bytes).")
{
    char s[64], buf[4];
    xsend_all(c->a, "ab", 2);
    xsend_all(c->a, "cd", 2);
    settle(c->b);
    REQUIRE(read_nb(c, c->b, buf, 1, 0) == 1, "partial read failed");
    outcome(c, "%s", revents_now(c->b, POLLIN, s, sizeof s));
}
INSTANTIATE(pollin_level_triggered_after_partial_read, KINDS_MIX_BYTESTREAMS)
INSTANTIATE(pollin_level_triggered_after_partial_read, KINDS_MIX_MSG_IP)

CHECK(pollin_after_zero_length_send,
      "After a zero-length send the reader polls POLLIN (an empty message is queued) or nothing.")
{
    pollin_after_empty_send(c);
}
INSTANTIATE(pollin_after_zero_length_send, KINDS_REP_STREAM)
INSTANTIATE(pollin_after_zero_length_send, KINDS_MIX_MSG_BLOCKING)

/* ---- poll(): hangups ---- */

CHECK(revents_after_peer_close, "After the peer closes, what the reader polls.")
{
    revents_after_close_a(c, POLLIN | POLLOUT, 0);
}
INSTANTIATE(revents_after_peer_close, KINDS_REP_STREAM)
INSTANTIATE(revents_after_peer_close, KINDS_REP_DGRAM)
INSTANTIATE(revents_after_peer_close, KINDS_REP_SEQPACKET)

CHECK(revents_after_peer_close_tcp,
      "TCP: after the peer's FIN arrives, POLLIN|POLLOUT but no POLLHUP (half-closed).")
{
    revents_after_close_a(c, POLLIN | POLLOUT, 1);
}
INSTANTIATE(revents_after_peer_close_tcp, KINDS_TCP)

CHECK(revents_pipe_reader_after_writer_close,
      "Pipe: the read end polls POLLHUP once the write end closed (Linux: no POLLIN when empty).")
{
    revents_after_close_a(c, POLLIN, 0);
}
INSTANTIATE(revents_pipe_reader_after_writer_close, KINDS_PIPES)

CHECK(revents_pipe_writer_after_reader_close,
      "Pipe: the write end polls POLLERR once the read end closed (Linux: with POLLOUT).")
{
    char s[64];
    xclose(&c->b);
    outcome(c, "%s", revents_now(c->a, POLLOUT, s, sizeof s));
}
INSTANTIATE(revents_pipe_writer_after_reader_close, KINDS_PIPES)

CHECK(pollhup_with_zero_events,
      "events = 0 still reports POLLHUP once the peer closed (connections and pipes).")
{
    revents_after_close_a(c, 0, 1);
}
INSTANTIATE(pollhup_with_zero_events, KINDS_MIX_CONN_PIPE)

CHECK(zero_events_dgram_after_peer_close,
      "DGRAM: events = 0 reports nothing after the peer closed.")
{
    revents_after_close_a(c, 0, 0);
}
INSTANTIATE(zero_events_dgram_after_peer_close, KINDS_SP_DGRAM)

CHECK(revents_after_own_shut_rdwr,
      "The own SHUT_RDWR makes a socket POLLIN|POLLOUT|POLLHUP (Linux, every type).")
{
    char s[64];
    REQUIRE(shutdown(c->a, SHUT_RDWR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome(c, "%s", revents_now(c->a, POLLIN | POLLOUT, s, sizeof s));
}
INSTANTIATE(revents_after_own_shut_rdwr, KINDS_SP_PLAIN)

CHECK(pollin_after_own_shut_rd,
      "The own SHUT_RD makes a connection readable (the read returns 0): POLLIN.")
{
    char s[64];
    REQUIRE(shutdown(c->b, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome(c, "%s", revents_now(c->b, POLLIN, s, sizeof s));
}
INSTANTIATE(pollin_after_own_shut_rd, KINDS_MIX_CONN)

CHECK(pollin_after_peer_shut_wr, "The peer's SHUT_WR makes a connection readable (EOF): POLLIN.")
{
    char s[64];
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    settle(c->b);
    outcome(c, "%s", revents_now(c->b, POLLIN, s, sizeof s));
}
INSTANTIATE(pollin_after_peer_shut_wr, KINDS_MIX_CONN)

CHECK(pollrdhup_after_peer_shut_wr,
      "POLLRDHUP (where the OS has it) after the peer's SHUT_WR on a connection.")
{
#ifdef QUIRK_NO_POLLRDHUP
    UNSUPPORTED(c, "POLLRDHUP");
#else
    char s[64];
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome(c, "%s", revents_str(poll_events(c->b, POLLRDHUP, 2000), s, sizeof s));
#endif
}
INSTANTIATE(pollrdhup_after_peer_shut_wr, KINDS_MIX_CONN)

CHECK(pollrdhup_dgram_peer_shut_wr,
      "DGRAM: the peer's SHUT_WR raises no POLLRDHUP (shutdown is not propagated).")
{
#ifdef QUIRK_NO_POLLRDHUP
    UNSUPPORTED(c, "POLLRDHUP");
#else
    char s[64];
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome(c, "%s", revents_now(c->b, POLLRDHUP, s, sizeof s));
#endif
}
INSTANTIATE(pollrdhup_dgram_peer_shut_wr, KINDS_SP_DGRAM)

CHECK(no_pollrdhup_when_open, "No POLLRDHUP on an open, idle connection.")
{
#ifdef QUIRK_NO_POLLRDHUP
    UNSUPPORTED(c, "POLLRDHUP");
#else
    char s[64];
    outcome(c, "%s", revents_now(c->b, POLLRDHUP, s, sizeof s));
#endif
}
INSTANTIATE(no_pollrdhup_when_open, KINDS_SP_PLAIN)

CHECK(pollnval_closed_fd, "poll() on a closed descriptor reports POLLNVAL.")
{
    char s[64];
    outcome(c, "%s", revents_now(closed_fd(), POLLIN, s, sizeof s));
}
INSTANTIATE(pollnval_closed_fd, KINDS_NONE)

/* ---- select() ---- */

/* Zero-timeout select() on fd: "r", "w", "rw" or "none" for the sets asked. */
static const char *select_now(int fd, int want_r, int want_w, char *buf, size_t n)
{
    fd_set rs, ws;
    struct timeval tv = {0, 0};
    REQUIRE(fd < FD_SETSIZE, "fd %d beyond FD_SETSIZE", fd);
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    if (want_r)
        FD_SET(fd, &rs);
    if (want_w)
        FD_SET(fd, &ws);
    int r = select(fd + 1, &rs, &ws, NULL, &tv);
    REQUIRE(r >= 0, "select: %s", sockspec_errno_name(errno));
    snprintf(buf, n, "%s%s", FD_ISSET(fd, &rs) ? "r" : "", FD_ISSET(fd, &ws) ? "w" : "");
    if (!buf[0])
        snprintf(buf, n, "none");
    return buf;
}

CHECK(select_readable_when_data, "select(): queued data puts the reader in the read set.")
{
    char s[8];
    xsend_all(c->a, "x", 1);
    settle(c->b);
    outcome(c, "%s", select_now(c->b, 1, 0, s, sizeof s));
}
INSTANTIATE(select_readable_when_data, KINDS_MIX_EVERY_ORIGIN)

CHECK(select_not_readable_when_empty, "select(): an empty receiver is not readable.")
{
    char s[8];
    outcome(c, "%s", select_now(c->b, 1, 0, s, sizeof s));
}
INSTANTIATE(select_not_readable_when_empty, KINDS_SP_PLAIN)

CHECK(select_writable_when_space, "select(): a fresh sender is writable.")
{
    char s[8];
    outcome(c, "%s", select_now(c->a, 0, 1, s, sizeof s));
}
INSTANTIATE(select_writable_when_space, KINDS_SP_PLAIN)

CHECK(select_not_writable_when_full, "select(): a full non-blocking sender is not writable.")
{
    char s[8];
    REQUIRE(fill(c) > 0, "nothing could be queued");
    outcome(c, "%s", select_now(c->a, 0, 1, s, sizeof s));
}
INSTANTIATE(select_not_writable_when_full, KINDS_SP_STREAM_NB)
INSTANTIATE(select_not_writable_when_full, KINDS_SP_SEQPACKET_NB)
INSTANTIATE(select_not_writable_when_full, KINDS_PIPE_NB)

CHECK(select_readable_at_eof, "select(): end of file (peer closed) is readable.")
{
    char s[8];
    xclose(&c->a);
    settle(c->b);
    outcome(c, "%s", select_now(c->b, 1, 0, s, sizeof s));
}
INSTANTIATE(select_readable_at_eof, KINDS_MIX_CONN_PIPE)

CHECK(select_agrees_with_poll,
      "select() and poll() agree on readable/writable in four states: \"agree\".")
{
    char out[160] = "";
    for (int state = 0; state < 4; state++) {
        if (state == 1)
            xsend_all(c->a, "x", 1);
        if (state == 2)
            drain(c, c->b);
        if (state == 3)
            REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
        if (c->kind->origin == ORIGIN_INET && (state == 1 || state == 3))
            settle(c->b);
        int re = poll_events(c->b, POLLIN | POLLOUT, 0);
        int pr = (re & (POLLIN | POLLHUP | POLLERR)) != 0, pw = (re & (POLLOUT | POLLERR)) != 0;
        char s[8], expect[8];
        select_now(c->b, 1, 1, s, sizeof s);
        snprintf(expect, sizeof expect, "%s%s", pr ? "r" : "", pw ? "w" : "");
        if (!expect[0])
            snprintf(expect, sizeof expect, "none");
        if (strcmp(s, expect) != 0) {
            size_t l = strlen(out);
            snprintf(out + l, sizeof out - l, "%sstate%d select=%s poll=%s", l ? ";" : "", state, s,
                     expect);
        }
    }
    outcome(c, "%s", out[0] ? out : "agree");
}
INSTANTIATE(select_agrees_with_poll, KINDS_TCP4)
INSTANTIATE(select_agrees_with_poll, KINDS_MIX_UNIX)

/* ---- FIONREAD ---- */

/* FIONREAD value of fd. */
static int fionread(int fd)
{
    int n = -1;
    REQUIRE(ioctl(fd, FIONREAD, &n) == 0, "FIONREAD: %s", sockspec_errno_name(errno));
    return n;
}

/* Queues a 3-byte and a 5-byte send, waits for them, returns FIONREAD of the reader. On TCP
 * both sends must have arrived (the second waits for an ACK under Nagle's algorithm, and
 * loopback IP is not always synchronous): a bounded peek waits for all 8 bytes. */
static int fionread_after_3_5(struct chan *c)
{
    if (c->kind->origin == ORIGIN_INET && c->kind->type == SOCK_STREAM) /* no Nagle delay */
        EXPECT(setsockopt_int(c->a, IPPROTO_TCP, TCP_NODELAY, 1) == 0, "TCP_NODELAY: %s",
               sockspec_errno_name(errno));
    xsend_all(c->a, "abc", 3);
    xsend_all(c->a, "defgh", 5);
    settle(c->b);
    if (c->kind->origin == ORIGIN_INET && c->kind->type == SOCK_STREAM)
        EXPECT(wait_queued(c->b, 8, 2000) == 8, "the 8 bytes never all arrived");
    return fionread(c->b);
}

CHECK(fionread_empty, "FIONREAD on an empty receiver is 0.")
{
    outcome(c, "%d", fionread(c->b));
}
INSTANTIATE(fionread_empty, KINDS_PIPE)
INSTANTIATE(fionread_empty, KINDS_SP_PLAIN)

CHECK(fionread_after_two_sends,
      "FIONREAD after sends of 3 and 5 bytes: every queued byte (8) or the next message (3).")
{
    outcome(c, "%d", fionread_after_3_5(c));
}
INSTANTIATE(fionread_after_two_sends, KINDS_UDP4)
INSTANTIATE(fionread_after_two_sends, KINDS_REP_DGRAM)
INSTANTIATE(fionread_after_two_sends, KINDS_REP_SEQPACKET)
INSTANTIATE(fionread_after_two_sends, KINDS_MIX_BYTESTREAMS)

CHECK(fionread_after_partial_read,
      "FIONREAD matches what the next read returns on a stream after a partial read (8 - 2 = 6).")
{
    char buf[16];
    int before = fionread_after_3_5(c);
    REQUIRE(before >= 2, "FIONREAD %d before the read", before);
    REQUIRE(read_nb(c, c->b, buf, 2, 0) == 2, "partial read failed");
    int n = fionread(c->b);
    ssize_t r = read_nb(c, c->b, buf, sizeof buf, 0);
    EXPECT(r == n, "FIONREAD said %d, read returned %zd", n, r);
    outcome(c, "%d", n);
}
INSTANTIATE(fionread_after_partial_read, KINDS_MIX_BYTESTREAMS)

CHECK(fionread_zero_length_message, "A zero-length message: POLLIN, yet FIONREAD is 0; \"not "
                                    "readable\" where the empty message queues nothing.")
{
    REQUIRE(send(c->a, "", 0, ss_nosignal) == 0, "empty send: %s", sockspec_errno_name(errno));
    if (!(poll_events(c->b, POLLIN, 1000) & POLLIN))
        outcome(c, "not readable, FIONREAD %d", fionread(c->b));
    else
        outcome(c, "%d", fionread(c->b));
}
INSTANTIATE(fionread_zero_length_message, KINDS_UDP4)
INSTANTIATE(fionread_zero_length_message, KINDS_REP_DGRAM)
INSTANTIATE(fionread_zero_length_message, KINDS_REP_SEQPACKET)
