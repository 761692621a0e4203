/* Readiness: what poll(), select() and FIONREAD report for data, space, hangups and errors. */
#include <errno.h>
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

/* Kind lists of this file. */
#define KINDS_RD_ALL(X, c)                                                                         \
    X(c, sp_stream)                                                                                \
    X(c, sp_dgram_nb)                                                                              \
    X(c, sp_seqpacket_sw) X(c, fs_stream_sw) X(c, abs_dgram) X(c, tcp4) X(c, udp6) X(c, pipe_nb)
#define KINDS_RD_FILL(X, c) X(c, sp_stream_nb) X(c, sp_seqpacket_nb) X(c, pipe_nb)
#define KINDS_RD_FILL_DGRAM(X, c) X(c, sp_dgram_nb) X(c, sp_dgram_nb_sw)
#define KINDS_RD_STREAMISH(X, c) X(c, sp_stream) X(c, fs_stream_sw) X(c, tcp6) X(c, pipe)
#define KINDS_RD_MSG(X, c) X(c, sp_dgram) X(c, sp_seqpacket_sw) X(c, fs_dgram_sw) X(c, udp4)
#define KINDS_RD_ONE_PIPE(X, c) X(c, pipe)
#define X_RD_TCP4(X, c) X(c, tcp4)
#define KINDS_RD_MSG_PLAIN(X, c) X(c, sp_dgram) X(c, sp_seqpacket) X(c, fs_dgram_sw)
#define X_RD_HUP_KINDS(X, c)                                                                       \
    X(c, sp_stream)                                                                                \
    X(c, sp_stream_nb_sw) X(c, sp_seqpacket) X(c, fs_seqpacket_sw) X(c, abs_stream) X(c, pipe)
#define X_RD_FIONREAD_DGRAM(X, c) X(c, sp_dgram) X(c, sp_dgram_nb_sw) X(c, fs_dgram) X(c, udp4)
#define X_RD_FIONREAD_SEQPACKET(X, c) X(c, sp_seqpacket) X(c, sp_seqpacket_nb_sw) X(c, fs_seqpacket)

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

/* Fills fd (non-blocking) until EAGAIN; returns the bytes queued. */
static size_t fill(int fd)
{
    int err;
    size_t total = fill_nb(fd, 4096, &err);
    cr_assert(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "filling: %s after %zu bytes",
              err ? sockspec_errno_name(err) : "never full", total);
    return total;
}

/* Reads fd (non-blocking) until EAGAIN. */
static void drain(struct chan *c, int fd)
{
    int end;
    drain_nb(c, fd, 0, &end);
    cr_assert(end == EAGAIN || end == EWOULDBLOCK, "drain: %s",
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
    cr_assert(fill(c->a) > 0, "nothing could be queued");
    revents_outcome(c, c->a, POLLOUT);
}

/* A zero-length send from a, then b's POLLIN revents. */
static void pollin_after_empty_send(struct chan *c)
{
    cr_assert(send(c->a, "", 0, ss_nosignal) == 0, "empty send: %s", sockspec_errno_name(errno));
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

/* Queued data makes the reader POLLIN. */
CHECK(pollin_when_data)
{
    char s[64];
    xsend_all(c->a, "x", 1);
    settle(c->b);
    outcome(c, "%s", revents_now(c->b, POLLIN, s, sizeof s));
}
INSTANTIATE(pollin_when_data, KINDS_RD_ALL)

/* An empty receiver is not POLLIN. */
CHECK(no_pollin_when_empty)
{
    revents_outcome(c, c->b, POLLIN);
}
INSTANTIATE(no_pollin_when_empty, KINDS_SP_PLAIN)
INSTANTIATE(no_pollin_when_empty, KINDS_RD_ONE_PIPE)

/* A fresh sender has buffer space: POLLOUT. */
CHECK(pollout_when_space)
{
    revents_outcome(c, c->a, POLLOUT);
}
INSTANTIATE(pollout_when_space, KINDS_RD_ALL)

/* POLLOUT is cleared once a non-blocking send fills the buffer. */
CHECK(pollout_cleared_when_full)
{
    pollout_when_full(c);
}
INSTANTIATE(pollout_cleared_when_full, KINDS_RD_FILL)

/* DGRAM pair: POLLOUT is cleared once a non-blocking send fills the peer (Linux). */
CHECK(pollout_cleared_when_full_dgram)
{
    pollout_when_full(c);
}
INSTANTIATE(pollout_cleared_when_full_dgram, KINDS_RD_FILL_DGRAM)

/* POLLOUT comes back after the peer drains a full buffer. */
CHECK(pollout_restored_after_drain)
{
    char s[64];
    cr_assert(fill(c->a) > 0, "nothing could be queued");
    drain(c, c->b);
    outcome(c, "%s", revents_str(poll_events(c->a, POLLOUT, 2000), s, sizeof s));
}
INSTANTIATE(pollout_restored_after_drain, KINDS_RD_FILL)
INSTANTIATE(pollout_restored_after_drain, KINDS_RD_FILL_DGRAM)

/* POLLIN is level-triggered: still set after a partial read (one of two messages / bytes). */
CHECK(pollin_level_triggered_after_partial_read)
{
    char s[64], buf[4];
    xsend_all(c->a, "ab", 2);
    xsend_all(c->a, "cd", 2);
    settle(c->b);
    cr_assert(read_nb(c, c->b, buf, 1, 0) == 1, "partial read failed");
    outcome(c, "%s", revents_now(c->b, POLLIN, s, sizeof s));
}
INSTANTIATE(pollin_level_triggered_after_partial_read, KINDS_RD_STREAMISH)
INSTANTIATE(pollin_level_triggered_after_partial_read, KINDS_RD_MSG)

/* DGRAM/SEQPACKET: a zero-length send is a readable empty message: POLLIN. */
CHECK(pollin_zero_length_message)
{
    pollin_after_empty_send(c);
}
INSTANTIATE(pollin_zero_length_message, KINDS_RD_MSG_PLAIN)

/* STREAM: a zero-length send queues nothing: no POLLIN. */
CHECK(no_pollin_zero_length_stream)
{
    pollin_after_empty_send(c);
}
INSTANTIATE(no_pollin_zero_length_stream, KINDS_REP_STREAM)

/* ---- poll(): hangups ---- */

/* STREAM: after the peer closes, the reader polls POLLIN|POLLOUT|POLLHUP. */
CHECK(revents_after_peer_close_stream)
{
    revents_after_close_a(c, POLLIN | POLLOUT, 0);
}
INSTANTIATE(revents_after_peer_close_stream, KINDS_REP_STREAM)

/* SEQPACKET: after the peer closes, the reader polls POLLIN|POLLOUT|POLLHUP. */
CHECK(revents_after_peer_close_seqpacket)
{
    revents_after_close_a(c, POLLIN | POLLOUT, 0);
}
INSTANTIATE(revents_after_peer_close_seqpacket, KINDS_REP_SEQPACKET)

/* DGRAM: after the peer closes, the reader sees neither POLLIN nor POLLHUP (Linux: POLLOUT). */
CHECK(revents_after_peer_close_dgram)
{
    revents_after_close_a(c, POLLIN | POLLOUT, 0);
}
INSTANTIATE(revents_after_peer_close_dgram, KINDS_REP_DGRAM)

/* TCP: after the peer's FIN arrives, POLLIN|POLLOUT but no POLLHUP (half-closed). */
CHECK(revents_after_peer_close_tcp)
{
    revents_after_close_a(c, POLLIN | POLLOUT, 1);
}
INSTANTIATE(revents_after_peer_close_tcp, KINDS_TCP)

/* Pipe: the read end polls POLLHUP once the write end closed (Linux: no POLLIN when empty). */
CHECK(revents_pipe_reader_after_writer_close)
{
    revents_after_close_a(c, POLLIN, 0);
}
INSTANTIATE(revents_pipe_reader_after_writer_close, KINDS_PIPE)

/* Pipe: the write end polls POLLERR once the read end closed (Linux: with POLLOUT). */
CHECK(revents_pipe_writer_after_reader_close)
{
    char s[64];
    xclose(&c->b);
    outcome(c, "%s", revents_now(c->a, POLLOUT, s, sizeof s));
}
INSTANTIATE(revents_pipe_writer_after_reader_close, KINDS_PIPE)

/* events = 0 still reports POLLHUP once the peer closed (connections and pipes). */
CHECK(pollhup_with_zero_events)
{
    revents_after_close_a(c, 0, 1);
}
INSTANTIATE(pollhup_with_zero_events, X_RD_HUP_KINDS)

/* DGRAM: events = 0 reports nothing after the peer closed. */
CHECK(zero_events_dgram_after_peer_close)
{
    revents_after_close_a(c, 0, 0);
}
INSTANTIATE(zero_events_dgram_after_peer_close, KINDS_SP_DGRAM)

/* The own SHUT_RDWR makes a socket POLLIN|POLLOUT|POLLHUP (Linux, every type). */
CHECK(revents_after_own_shut_rdwr)
{
    char s[64];
    cr_assert(shutdown(c->a, SHUT_RDWR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome(c, "%s", revents_now(c->a, POLLIN | POLLOUT, s, sizeof s));
}
INSTANTIATE(revents_after_own_shut_rdwr, KINDS_SP_PLAIN)

/* The own SHUT_RD makes a connection readable (the read returns 0): POLLIN. */
CHECK(pollin_after_own_shut_rd)
{
    char s[64];
    cr_assert(shutdown(c->b, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome(c, "%s", revents_now(c->b, POLLIN, s, sizeof s));
}
INSTANTIATE(pollin_after_own_shut_rd, KINDS_REP_CONN)

/* The peer's SHUT_WR makes a connection readable (EOF): POLLIN. */
CHECK(pollin_after_peer_shut_wr)
{
    char s[64];
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    settle(c->b);
    outcome(c, "%s", revents_now(c->b, POLLIN, s, sizeof s));
}
INSTANTIATE(pollin_after_peer_shut_wr, KINDS_REP_CONN)

/* POLLRDHUP (where the OS has it) after the peer's SHUT_WR on a connection. */
CHECK(pollrdhup_after_peer_shut_wr)
{
#ifdef QUIRK_NO_POLLRDHUP
    UNSUPPORTED(c, "POLLRDHUP");
#else
    char s[64];
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome(c, "%s", revents_str(poll_events(c->b, POLLRDHUP, 2000), s, sizeof s));
#endif
}
INSTANTIATE(pollrdhup_after_peer_shut_wr, KINDS_REP_CONN)

/* DGRAM: the peer's SHUT_WR raises no POLLRDHUP (shutdown is not propagated). */
CHECK(pollrdhup_dgram_peer_shut_wr)
{
#ifdef QUIRK_NO_POLLRDHUP
    UNSUPPORTED(c, "POLLRDHUP");
#else
    char s[64];
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome(c, "%s", revents_now(c->b, POLLRDHUP, s, sizeof s));
#endif
}
INSTANTIATE(pollrdhup_dgram_peer_shut_wr, KINDS_SP_DGRAM)

/* No POLLRDHUP on an open, idle connection. */
CHECK(no_pollrdhup_when_open)
{
#ifdef QUIRK_NO_POLLRDHUP
    UNSUPPORTED(c, "POLLRDHUP");
#else
    char s[64];
    outcome(c, "%s", revents_now(c->b, POLLRDHUP, s, sizeof s));
#endif
}
INSTANTIATE(no_pollrdhup_when_open, KINDS_SP_PLAIN)

/* poll() on a closed descriptor reports POLLNVAL. */
CHECK(pollnval_closed_fd)
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
    cr_assert(fd < FD_SETSIZE, "fd %d beyond FD_SETSIZE", fd);
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    if (want_r)
        FD_SET(fd, &rs);
    if (want_w)
        FD_SET(fd, &ws);
    int r = select(fd + 1, &rs, &ws, NULL, &tv);
    cr_assert(r >= 0, "select: %s", sockspec_errno_name(errno));
    snprintf(buf, n, "%s%s", FD_ISSET(fd, &rs) ? "r" : "", FD_ISSET(fd, &ws) ? "w" : "");
    if (!buf[0])
        snprintf(buf, n, "none");
    return buf;
}

/* select(): queued data puts the reader in the read set. */
CHECK(select_readable_when_data)
{
    char s[8];
    xsend_all(c->a, "x", 1);
    settle(c->b);
    outcome(c, "%s", select_now(c->b, 1, 0, s, sizeof s));
}
INSTANTIATE(select_readable_when_data, KINDS_RD_ALL)

/* select(): an empty receiver is not readable. */
CHECK(select_not_readable_when_empty)
{
    char s[8];
    outcome(c, "%s", select_now(c->b, 1, 0, s, sizeof s));
}
INSTANTIATE(select_not_readable_when_empty, KINDS_SP_PLAIN)

/* select(): a fresh sender is writable. */
CHECK(select_writable_when_space)
{
    char s[8];
    outcome(c, "%s", select_now(c->a, 0, 1, s, sizeof s));
}
INSTANTIATE(select_writable_when_space, KINDS_SP_PLAIN)

/* select(): a full non-blocking sender is not writable. */
CHECK(select_not_writable_when_full)
{
    char s[8];
    cr_assert(fill(c->a) > 0, "nothing could be queued");
    outcome(c, "%s", select_now(c->a, 0, 1, s, sizeof s));
}
INSTANTIATE(select_not_writable_when_full, KINDS_RD_FILL)

/* select(): end of file (peer closed) is readable. */
CHECK(select_readable_at_eof)
{
    char s[8];
    xclose(&c->a);
    settle(c->b);
    outcome(c, "%s", select_now(c->b, 1, 0, s, sizeof s));
}
INSTANTIATE(select_readable_at_eof, X_RD_HUP_KINDS)

/* select() and poll() agree on readable/writable in four states: "agree". */
CHECK(select_agrees_with_poll)
{
    char out[160] = "";
    for (int state = 0; state < 4; state++) {
        if (state == 1)
            xsend_all(c->a, "x", 1);
        if (state == 2)
            drain(c, c->b);
        if (state == 3)
            cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
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
INSTANTIATE(select_agrees_with_poll, KINDS_REP_UNIX)
INSTANTIATE(select_agrees_with_poll, X_RD_TCP4)

/* ---- FIONREAD ---- */

/* FIONREAD value of fd. */
static int fionread(int fd)
{
    int n = -1;
    cr_assert(ioctl(fd, FIONREAD, &n) == 0, "FIONREAD: %s", sockspec_errno_name(errno));
    return n;
}

/* Queues a 3-byte and a 5-byte send, waits for them, returns FIONREAD of the reader. */
static int fionread_after_3_5(struct chan *c)
{
    xsend_all(c->a, "abc", 3);
    xsend_all(c->a, "defgh", 5);
    settle(c->b);
    return fionread(c->b);
}

/* FIONREAD on an empty receiver is 0. */
CHECK(fionread_empty)
{
    outcome(c, "%d", fionread(c->b));
}
INSTANTIATE(fionread_empty, KINDS_SP_PLAIN)
INSTANTIATE(fionread_empty, KINDS_RD_ONE_PIPE)

/* STREAM and pipes: FIONREAD counts every queued byte (3 + 5 = 8). */
CHECK(fionread_stream_total)
{
    outcome(c, "%d", fionread_after_3_5(c));
}
INSTANTIATE(fionread_stream_total, KINDS_RD_STREAMISH)

/* DGRAM: FIONREAD is the size of the next datagram on Linux (3 of 3 + 5). */
CHECK(fionread_dgram)
{
    outcome(c, "%d", fionread_after_3_5(c));
}
INSTANTIATE(fionread_dgram, X_RD_FIONREAD_DGRAM)

/* SEQPACKET: FIONREAD counts every queued byte on Linux (8), like a stream. */
CHECK(fionread_seqpacket)
{
    outcome(c, "%d", fionread_after_3_5(c));
}
INSTANTIATE(fionread_seqpacket, X_RD_FIONREAD_SEQPACKET)

/* FIONREAD matches what the next read returns on a stream after a partial read (8 - 2 = 6). */
CHECK(fionread_after_partial_read)
{
    char buf[16];
    int before = fionread_after_3_5(c);
    cr_assert(before == 8, "FIONREAD %d before the read", before);
    cr_assert(read_nb(c, c->b, buf, 2, 0) == 2, "partial read failed");
    int n = fionread(c->b);
    ssize_t r = read_nb(c, c->b, buf, sizeof buf, 0);
    cr_expect(r == n, "FIONREAD said %d, read returned %zd", n, r);
    outcome(c, "%d", n);
}
INSTANTIATE(fionread_after_partial_read, KINDS_RD_STREAMISH)

/* A zero-length datagram: POLLIN, yet FIONREAD is 0. */
CHECK(fionread_zero_length_message)
{
    cr_assert(send(c->a, "", 0, ss_nosignal) == 0, "empty send: %s", sockspec_errno_name(errno));
    cr_assert(poll_events(c->b, POLLIN, 2000) & POLLIN, "empty message not readable");
    outcome(c, "%d", fionread(c->b));
}
INSTANTIATE(fionread_zero_length_message, X_RD_FIONREAD_SEQPACKET)
INSTANTIATE(fionread_zero_length_message, X_RD_FIONREAD_DGRAM)
