/* Close, shutdown, EOF and SIGPIPE: what the peer sees when one end goes away. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"
#include "check_util.h"

#define CATEGORY close

/* Clears SO_NOSIGPIPE where the OS has it, so the signal checks see the default. */
static void allow_sigpipe(int fd)
{
#ifdef SOCKSPEC_HAVE_SO_NOSIGPIPE
    int zero = 0;
    REQUIRE(setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &zero, sizeof zero) == 0, "SO_NOSIGPIPE=0: %s",
            sockspec_errno_name(errno));
#else
    (void)fd;
#endif
}

/* Waits (bounded) until fd reports something readable or a hangup. */
static void wait_readable(int fd)
{
    (void)poll_events(fd, POLLIN, 2000);
}

/* Records "<r1>,<r2>": two non-blocking reads of fd (after waiting, bounded, for it to be
 * readable if wait), each as a count or errno name. */
static void two_reads_outcome(struct chan *c, int fd, int wait)
{
    char buf[64];
    if (wait)
        wait_readable(fd);
    struct ret_str r1 = ret_str(read_nb(c, fd, buf, sizeof buf, 0));
    settle_tcp(c, fd); /* the FIN may follow the data */
    struct ret_str r2 = ret_str(read_nb(c, fd, buf, sizeof buf, 0));
    outcome(c, "%s,%s", r1.s, r2.s);
}

/* "<errno name or sent>+<SIGPIPE or none>" for a send or write that returned r. */
static void ret_signal_outcome(struct chan *c, ssize_t r)
{
    int e = errno;
    outcome(c, "%s+%s", r < 0 ? sockspec_errno_name(e) : "sent",
            sigpipe_take(c) ? "SIGPIPE" : "none");
}

/* "SIGPIPE" when the failed call (r) raised one, "none" otherwise; the call must fail. */
static void signal_outcome(struct chan *c, ssize_t r, const char *what)
{
    EXPECT(r < 0, "%s succeeded", what);
    outcome(c, "%s", sigpipe_take(c) ? "SIGPIPE" : "none");
}

/* The send from a (no SIGPIPE, no waiting) after the peer's end b was closed or shut. */
static void send_after_peer_gone(struct chan *c, int how)
{
    if (how < 0)
        xclose(&c->b);
    else
        REQUIRE(shutdown(c->b, how) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT));
}

/* shutdown() on a fresh, unconnected AF_UNIX socket of type. */
static void shutdown_unconnected(struct chan *c, int type)
{
    int fd = socket(AF_UNIX, type, 0);
    REQUIRE(fd >= 0, "socket: %s", sockspec_errno_name(errno));
    int r = shutdown(fd, SHUT_RDWR);
    int e = errno;
    close(fd);
    errno = e;
    outcome_ret(c, r);
}

/* ---- EOF ---- */

CHECK(eof_after_peer_close_stream, "STREAM: after the peer closes, read returns 0 (end of file).")
{
    char buf[8];
    xclose(&c->a);
    wait_readable(c->b);
    outcome_ret(c, read_nb(c, c->b, buf, sizeof buf, 0));
}
INSTANTIATE(eof_after_peer_close_stream, KINDS_TCP)
INSTANTIATE(eof_after_peer_close_stream, KINDS_REP_STREAM)

CHECK(eof_after_peer_close_seqpacket,
      "SEQPACKET: after the peer closes, read returns 0, also when non-blocking.")
{
    char buf[8];
    xclose(&c->a);
    ssize_t r = c->kind->nonblock ? read(c->b, buf, sizeof buf) : recv(c->b, buf, 8, MSG_DONTWAIT);
    outcome_ret(c, r);
}
INSTANTIATE(eof_after_peer_close_seqpacket, KINDS_REP_SEQPACKET)

CHECK(eof_after_writer_close_pipe, "Pipe: after the write end closes, read returns 0.")
{
    char buf[8];
    xclose(&c->a);
    outcome_ret(c, read_nb(c, c->b, buf, sizeof buf, 0));
}
INSTANTIATE(eof_after_writer_close_pipe, KINDS_PIPES)

CHECK(data_then_eof_after_close, "Data written before close is read first, then 0: \"3,0\".")
{
    xsend_all(c->a, "abc", 3);
    xclose(&c->a);
    two_reads_outcome(c, c->b, 1);
}
INSTANTIATE(data_then_eof_after_close, KINDS_PIPES)
INSTANTIATE(data_then_eof_after_close, KINDS_MIX_CONN)

CHECK(dgram_no_eof_after_peer_close,
      "DGRAM never reports end of file: after the peer closes, a non-blocking read is EAGAIN.")
{
    char buf[8];
    xclose(&c->a);
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(dgram_no_eof_after_peer_close, KINDS_REP_DGRAM)

CHECK(dgram_queued_survives_peer_close,
      "DGRAM: a datagram queued before the sender closed is still delivered, then EAGAIN.")
{
    xsend_all(c->a, "abc", 3);
    xclose(&c->a);
    two_reads_outcome(c, c->b, 0);
}
INSTANTIATE(dgram_queued_survives_peer_close, KINDS_SP_DGRAM)

/* ---- writing to a closed peer ---- */

CHECK(write_after_peer_close, "The first send to a closed peer fails: the errno.")
{
    send_after_peer_gone(c, -1);
}
INSTANTIATE(write_after_peer_close, KINDS_REP_STREAM)
INSTANTIATE(write_after_peer_close, KINDS_REP_DGRAM)
INSTANTIATE(write_after_peer_close, KINDS_REP_SEQPACKET)

CHECK(write_after_peer_close_dgram_second,
      "DGRAM: the second send to a closed peer fails with ENOTCONN (the pair is dissolved).")
{
    xclose(&c->b);
    ssize_t r = send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT);
    EXPECT(r < 0, "first send after peer close succeeded");
    outcome_ret(c, send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT));
}
INSTANTIATE(write_after_peer_close_dgram_second, KINDS_REP_DGRAM)

CHECK(write_after_reader_close_pipe,
      "Pipe: write after the read end closed fails with EPIPE (the SIGPIPE is checked apart).")
{
    xclose(&c->b);
    ssize_t r = write(c->a, "x", 1);
    int e = errno;
    (void)sigpipe_take(c);
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(write_after_reader_close_pipe, KINDS_PIPES)

/* ---- SIGPIPE ---- */

/* "SIGPIPE" when the failed send raised one, "none" otherwise (and the send must fail). */
static void send_signal_outcome(struct chan *c, int flags)
{
    allow_sigpipe(c->a);
    xclose(&c->b);
    signal_outcome(c, send(c->a, "x", 1, flags | MSG_DONTWAIT), "send to a closed peer");
}

CHECK(sigpipe_send,
      "send() without MSG_NOSIGNAL to a closed peer: the errno, and whether SIGPIPE was raised.")
{
    send_signal_outcome(c, 0);
}
INSTANTIATE(sigpipe_send, KINDS_REP_STREAM)
INSTANTIATE(sigpipe_send, KINDS_REP_DGRAM)
INSTANTIATE(sigpipe_send, KINDS_REP_SEQPACKET)

CHECK(sigpipe_stream_write, "STREAM: write() to a closed peer raises SIGPIPE.")
{
    allow_sigpipe(c->a);
    xclose(&c->b);
    signal_outcome(c, write(c->a, "x", 1), "write to a closed peer");
}
INSTANTIATE(sigpipe_stream_write, KINDS_SP_STREAM)

CHECK(msg_nosignal_stream,
      "STREAM: MSG_NOSIGNAL suppresses the SIGPIPE (the send still fails with EPIPE).")
{
#ifdef QUIRK_NO_MSG_NOSIGNAL
    UNSUPPORTED(c, "MSG_NOSIGNAL");
#else
    allow_sigpipe(c->a);
    xclose(&c->b);
    ret_signal_outcome(c, send(c->a, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT));
#endif
}
INSTANTIATE(msg_nosignal_stream, KINDS_REP_STREAM)

CHECK(sigpipe_pipe_write, "Pipe: write() after the read end closed raises SIGPIPE.")
{
    xclose(&c->b);
    signal_outcome(c, write(c->a, "x", 1), "write to a pipe without readers");
}
INSTANTIATE(sigpipe_pipe_write, KINDS_PIPES)

CHECK(sigpipe_after_own_shut_wr_stream,
      "STREAM: send() after the own SHUT_WR fails with EPIPE and raises SIGPIPE.")
{
    allow_sigpipe(c->a);
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    ret_signal_outcome(c, send(c->a, "x", 1, MSG_DONTWAIT));
}
INSTANTIATE(sigpipe_after_own_shut_wr_stream, KINDS_SP_STREAM)

CHECK(so_nosigpipe_stream_write,
      "SO_NOSIGPIPE on the sender suppresses the SIGPIPE of write() on a broken STREAM.")
{
#ifdef QUIRK_NO_SO_NOSIGPIPE
    UNSUPPORTED(c, "SO_NOSIGPIPE");
#else
    int one = 1;
    REQUIRE(setsockopt(c->a, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) == 0, "SO_NOSIGPIPE: %s",
            sockspec_errno_name(errno));
    xclose(&c->b);
    ret_signal_outcome(c, write(c->a, "x", 1));
#endif
}
INSTANTIATE(so_nosigpipe_stream_write, KINDS_SP_STREAM)

/* ---- reset ---- */

CHECK(reset_unread_data_stream,
      "Closing with unread data: the peer's first recv is ECONNRESET, the next 0 (Linux).")
{
    xsend_all(c->a, "abc", 3);
    xclose(&c->b);
    two_reads_outcome(c, c->a, 1);
}
INSTANTIATE(reset_unread_data_stream, KINDS_REP_STREAM)

CHECK(reset_unread_data_seqpacket,
      "SEQPACKET, closing with an unread message: first recv ECONNRESET, then 0 (Linux).")
{
    xsend_all(c->a, "abc", 3);
    xclose(&c->b);
    two_reads_outcome(c, c->a, 0);
}
INSTANTIATE(reset_unread_data_seqpacket, KINDS_REP_SEQPACKET)

CHECK(reset_unread_data_tcp,
      "TCP, closing with unread data sends a reset: first recv ECONNRESET, then 0.")
{
    char buf[4];
    xsend_all(c->a, "abc", 3);
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN, "data never arrived");
    REQUIRE(recv(c->b, buf, 1, 0) == 1);
    xclose(&c->b);
    two_reads_outcome(c, c->a, 1);
}
INSTANTIATE(reset_unread_data_tcp, KINDS_TCP)

/* ---- shutdown ---- */

CHECK(peer_shut_wr_reads_eof, "Peer SHUT_WR on a connection: the reader gets 0 (EOF) at once.")
{
    char buf[8];
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    wait_readable(c->b);
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(peer_shut_wr_reads_eof, KINDS_MIX_CONN)

CHECK(peer_shut_wr_dgram_no_eof, "DGRAM: the peer's SHUT_WR is not an EOF for the reader: EAGAIN.")
{
    char buf[8];
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(peer_shut_wr_dgram_no_eof, KINDS_SP_DGRAM)

CHECK(queued_data_after_shut_wr,
      "Data queued before the writer's SHUT_WR is still read, then 0: \"3,0\".")
{
    xsend_all(c->a, "abc", 3);
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    two_reads_outcome(c, c->b, 1);
}
INSTANTIATE(queued_data_after_shut_wr, KINDS_MIX_CONN)

CHECK(queued_data_after_shut_wr_dgram,
      "DGRAM: a datagram queued before the writer's SHUT_WR is read, then EAGAIN.")
{
    xsend_all(c->a, "abc", 3);
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    two_reads_outcome(c, c->b, 0);
}
INSTANTIATE(queued_data_after_shut_wr_dgram, KINDS_SP_DGRAM)

CHECK(own_shut_wr_send_epipe, "Own SHUT_WR: a later send fails with EPIPE (every socket type).")
{
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT));
}
INSTANTIATE(own_shut_wr_send_epipe, KINDS_TCP)
INSTANTIATE(own_shut_wr_send_epipe, KINDS_MIX_UNIX)

CHECK(own_shut_wr_keeps_reading,
      "Own SHUT_WR leaves the other direction working: the peer's data is still read.")
{
    char buf[4];
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    xsend_all(c->b, "abc", 3);
    wait_readable(c->a);
    outcome_ret(c, recv(c->a, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(own_shut_wr_keeps_reading, KINDS_TCP4)
INSTANTIATE(own_shut_wr_keeps_reading, KINDS_MIX_UNIX)

CHECK(own_shut_rd_recv, "Own SHUT_RD, then a recv that does not block on the empty queue: 0 (end "
                        "of file) or the errno.")
{
    char buf[8];
    REQUIRE(shutdown(c->b, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(own_shut_rd_recv, KINDS_SP_DGRAM)
INSTANTIATE(own_shut_rd_recv, KINDS_MIX_CONN)

CHECK(own_shut_rd_recv_zero_dgram,
      "DGRAM, own SHUT_RD: a blocking recv returns 0 at once (bounded by a 20 ms SO_RCVTIMEO).")
{
    char buf[8];
    xset_timeo(c->b, SO_RCVTIMEO, 0, 20000);
    REQUIRE(shutdown(c->b, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, recv(c->b, buf, sizeof buf, 0));
}
INSTANTIATE(own_shut_rd_recv_zero_dgram, KINDS_BL_DGRAM)

CHECK(own_shut_rd_peer_send,
      "Own SHUT_RD is visible to the peer: its send is accepted, or fails with the errno.")
{
    send_after_peer_gone(c, SHUT_RD);
}
INSTANTIATE(own_shut_rd_peer_send, KINDS_REP_STREAM)
INSTANTIATE(own_shut_rd_peer_send, KINDS_REP_SEQPACKET)

CHECK(own_shut_rdwr_both,
      "SHUT_RDWR: own recv returns 0 and own send fails with EPIPE: \"0,EPIPE\".")
{
    char buf[8];
    REQUIRE(shutdown(c->a, SHUT_RDWR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    struct ret_str r = ret_str(recv(c->a, buf, sizeof buf, MSG_DONTWAIT));
    ssize_t w = send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT);
    outcome(c, "%s,%s", r.s, w < 0 ? sockspec_errno_name(errno) : "sent");
}
INSTANTIATE(own_shut_rdwr_both, KINDS_MIX_CONN)

CHECK(shut_rdwr_both_ends_keeps_queued,
      "SHUT_RDWR on both ends keeps data queued before it readable: \"3\".")
{
    char buf[8];
    xsend_all(c->a, "abc", 3);
    REQUIRE(shutdown(c->a, SHUT_RDWR) == 0, "shutdown a: %s", sockspec_errno_name(errno));
    /* Some OSes refuse the second shutdown (the read side is already shut): recorded. */
    int rb = shutdown(c->b, SHUT_RDWR), eb = errno;
    ssize_t r = recv(c->b, buf, sizeof buf, MSG_DONTWAIT);
    if (rb == 0)
        outcome_ret(c, r);
    else
        outcome(c, "shutdown b %s,%s", sockspec_errno_name(eb), ret_str(r).s);
}
INSTANTIATE(shut_rdwr_both_ends_keeps_queued, KINDS_SP_PLAIN)

CHECK(shutdown_twice, "shutdown() twice on the same end succeeds both times.")
{
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, shutdown(c->a, SHUT_WR));
}
INSTANTIATE(shutdown_twice, KINDS_SP_PLAIN)

CHECK(shutdown_connected_dgram, "shutdown() on a connected DGRAM pair succeeds.")
{
    outcome_ret(c, shutdown(c->a, SHUT_RDWR));
}
INSTANTIATE(shutdown_connected_dgram, KINDS_REP_DGRAM)

CHECK(shutdown_unconnected_dgram,
      "shutdown() on an unconnected AF_UNIX DGRAM socket: Linux 0, FreeBSD and macOS ENOTCONN.")
{
    shutdown_unconnected(c, SOCK_DGRAM);
}
INSTANTIATE(shutdown_unconnected_dgram, KINDS_NONE)

CHECK(shutdown_unconnected_stream,
      "shutdown() on an unconnected AF_UNIX STREAM socket: Linux 0, BSD ENOTCONN.")
{
    shutdown_unconnected(c, SOCK_STREAM);
}
INSTANTIATE(shutdown_unconnected_stream, KINDS_NONE)

CHECK(shutdown_invalid_how, "shutdown(how = -1) fails with EINVAL.")
{
    outcome_ret(c, shutdown(c->a, -1));
}
INSTANTIATE(shutdown_invalid_how, KINDS_SP_PLAIN)

/* ---- bad descriptors ---- */

CHECK(shutdown_closed_fd, "shutdown() on a closed descriptor: EBADF.")
{
    outcome_ret(c, shutdown(closed_fd(), SHUT_RDWR));
}
INSTANTIATE(shutdown_closed_fd, KINDS_NONE)

CHECK(send_closed_fd, "send() on a closed descriptor: EBADF.")
{
    outcome_ret(c, send(closed_fd(), "x", 1, ss_nosignal));
}
INSTANTIATE(send_closed_fd, KINDS_NONE)

CHECK(recv_closed_fd, "recv() on a closed descriptor: EBADF.")
{
    char buf[4];
    outcome_ret(c, recv(closed_fd(), buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(recv_closed_fd, KINDS_NONE)

CHECK(getsockopt_closed_fd, "getsockopt() on a closed descriptor: EBADF.")
{
    int v;
    socklen_t l = sizeof v;
    outcome_ret(c, getsockopt(closed_fd(), SOL_SOCKET, SO_TYPE, &v, &l));
}
INSTANTIATE(getsockopt_closed_fd, KINDS_NONE)

CHECK(send_on_pipe, "send() on a pipe: ENOTSOCK.")
{
    outcome_ret(c, send(c->a, "x", 1, ss_nosignal));
}
INSTANTIATE(send_on_pipe, KINDS_PIPES)

CHECK(recv_on_pipe, "recv() on a pipe: ENOTSOCK.")
{
    char buf[4];
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(recv_on_pipe, KINDS_PIPES)

CHECK(shutdown_on_pipe, "shutdown() on a pipe: ENOTSOCK.")
{
    outcome_ret(c, shutdown(c->a, SHUT_WR));
}
INSTANTIATE(shutdown_on_pipe, KINDS_PIPES)

CHECK(recv_on_regular_file, "recv() on a regular file: ENOTSOCK.")
{
    char buf[4];
    int fd = scratch_file();
    ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    int e = errno;
    close(fd);
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(recv_on_regular_file, KINDS_NONE)

CHECK(getsockopt_on_regular_file, "getsockopt() on a regular file: ENOTSOCK.")
{
    int v, fd = scratch_file();
    socklen_t l = sizeof v;
    int r = getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l);
    int e = errno;
    close(fd);
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(getsockopt_on_regular_file, KINDS_NONE)

/* ---- across fork() ---- */

/* Forks a child that holds copies of every descriptor until ctl's write end closes. */
static pid_t fork_holder(int ctl[2])
{
    xpipe(ctl);
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork: %s", sockspec_errno_name(errno));
    if (pid == 0) {
        char x;
        close(ctl[1]);
        while (read(ctl[0], &x, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(ctl[0]);
    return pid;
}

static void release_holder(int ctl[2], pid_t pid)
{
    close(ctl[1]);
    EXPECT(child_reap(pid) == 0, "holder child failed");
}

CHECK(eof_waits_for_every_copy,
      "EOF arrives only when the last copy of the peer descriptor closes: \"EAGAIN,0\".")
{
    int ctl[2];
    char buf[8];
    pid_t pid = fork_holder(ctl);
    xclose(&c->a); /* the child still holds a copy */
    struct ret_str r1 = ret_str(read_nb(c, c->b, buf, sizeof buf, 0));
    release_holder(ctl, pid);
    wait_readable(c->b);
    struct ret_str r2 = ret_str(read_nb(c, c->b, buf, sizeof buf, 0));
    outcome(c, "%s,%s", r1.s, r2.s);
}
INSTANTIATE(eof_waits_for_every_copy, KINDS_MIX_FORKED)

CHECK(shutdown_acts_for_every_copy,
      "shutdown(SHUT_WR) acts on the socket, not the descriptor: EOF at once despite a copy.")
{
    int ctl[2];
    char buf[8];
    pid_t pid = fork_holder(ctl);
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    wait_readable(c->b);
    ssize_t r = recv(c->b, buf, sizeof buf, MSG_DONTWAIT);
    int e = errno;
    release_holder(ctl, pid);
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(shutdown_acts_for_every_copy, KINDS_MIX_SHUTDOWN)

/* ---- blocked readers ---- */

struct blocked {
    struct chan *c;
    int ready[2]; /* the child writes ready[1] just before it reads */
};

/* In a child: closes its copy of a, says it is about to read, then reads b (blocking). */
static const char *blocked_read(void *arg, char *out, size_t n)
{
    struct blocked *bl = arg;
    char buf[8];
    close(bl->c->a);
    close(bl->ready[0]);
    if (write(bl->ready[1], "r", 1) != 1)
        return "no ready signal";
    snprintf(out, n, "%s", ret_str(read(bl->c->b, buf, sizeof buf)).s);
    return out;
}

/*
 * Runs a child blocked in read(c->b) (bounded by SO_RCVTIMEO on sockets when rcvtimeo_ms > 0),
 * closes c->a in the parent once the child is about to read (so that the close finds a reader
 * waiting, not one yet to come) and returns the child's read result as an outcome string.
 */
static void blocked_reader_outcome(struct chan *c, int rcvtimeo_ms)
{
    char res[32], r;
    struct child ch;
    struct blocked bl = {c, {-1, -1}};
    if (rcvtimeo_ms > 0)
        xset_timeo(c->b, SO_RCVTIMEO, 0, rcvtimeo_ms * 1000L);
    xpipe(bl.ready);
    child_start(&ch, blocked_read, &bl);
    xclose(&bl.ready[1]);
    REQUIRE(poll_events(bl.ready[0], POLLIN, 2000) & (POLLIN | POLLHUP), "the child never ran");
    EXPECT(read(bl.ready[0], &r, 1) == 1, "the child did not reach its read");
    xclose(&bl.ready[0]);
    xclose(&c->a);
    child_finish(&ch, 3000, res, sizeof res);
    outcome(c, "%s", res[0] ? res : "still-blocked");
}

CHECK(close_wakes_blocked_reader,
      "A reader blocked in read() wakes with 0 when the last peer descriptor closes.")
{
    blocked_reader_outcome(c, 0);
}
INSTANTIATE(close_wakes_blocked_reader, KINDS_MIX_BLOCKING_ENDS)

CHECK(close_leaves_dgram_reader_blocked,
      "DGRAM: closing the peer does not wake a blocked reader; it times out with EAGAIN.")
{
    blocked_reader_outcome(c, 200);
}
INSTANTIATE(close_leaves_dgram_reader_blocked, KINDS_BL_DGRAM)
