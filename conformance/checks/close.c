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

/* Kind lists of this file. */
#define X_TCP4(X, c) X(c, tcp4)
#define KINDS_CL_BLOCKING_CONN(X, c)                                                               \
    X(c, sp_stream) X(c, sp_stream_sw) X(c, sp_seqpacket) X(c, fs_stream) X(c, tcp4) X(c, pipe)
#define KINDS_CL_FORK(X, c) X(c, sp_stream) X(c, sp_seqpacket_sw) X(c, fs_stream) X(c, pipe)
#define KINDS_CL_FORK_SHUT(X, c) X(c, sp_stream) X(c, sp_seqpacket) X(c, fs_stream_sw) X(c, tcp6)
#define KINDS_CL_DGRAM_BLOCKING(X, c) X(c, sp_dgram) X(c, sp_dgram_sw) X(c, fs_dgram)

/* Clears SO_NOSIGPIPE where the OS has it, so the signal checks see the default. */
static void allow_sigpipe(int fd)
{
#ifdef SOCKSPEC_HAVE_SO_NOSIGPIPE
    int zero = 0;
    cr_assert(setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &zero, sizeof zero) == 0,
              "SO_NOSIGPIPE=0: %s", sockspec_errno_name(errno));
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
    cr_expect(r < 0, "%s succeeded", what);
    outcome(c, "%s", sigpipe_take(c) ? "SIGPIPE" : "none");
}

/* The send from a (no SIGPIPE, no waiting) after the peer's end b was closed or shut. */
static void send_after_peer_gone(struct chan *c, int how)
{
    if (how < 0)
        xclose(&c->b);
    else
        cr_assert(shutdown(c->b, how) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT));
}

/* shutdown() on a fresh, unconnected AF_UNIX socket of type. */
static void shutdown_unconnected(struct chan *c, int type)
{
    int fd = socket(AF_UNIX, type, 0);
    cr_assert(fd >= 0, "socket: %s", sockspec_errno_name(errno));
    int r = shutdown(fd, SHUT_RDWR);
    int e = errno;
    close(fd);
    errno = e;
    outcome_ret(c, r);
}

/* ---- EOF ---- */

/* STREAM: after the peer closes, read returns 0 (end of file). */
CHECK(eof_after_peer_close_stream)
{
    char buf[8];
    xclose(&c->a);
    wait_readable(c->b);
    outcome_ret(c, read_nb(c, c->b, buf, sizeof buf, 0));
}
INSTANTIATE(eof_after_peer_close_stream, KINDS_REP_STREAM)
INSTANTIATE(eof_after_peer_close_stream, KINDS_TCP)

/* SEQPACKET: after the peer closes, read returns 0, also when non-blocking. */
CHECK(eof_after_peer_close_seqpacket)
{
    char buf[8];
    xclose(&c->a);
    ssize_t r = c->kind->nonblock ? read(c->b, buf, sizeof buf) : recv(c->b, buf, 8, MSG_DONTWAIT);
    outcome_ret(c, r);
}
INSTANTIATE(eof_after_peer_close_seqpacket, KINDS_REP_SEQPACKET)

/* Pipe: after the write end closes, read returns 0. */
CHECK(eof_after_writer_close_pipe)
{
    char buf[8];
    xclose(&c->a);
    outcome_ret(c, read_nb(c, c->b, buf, sizeof buf, 0));
}
INSTANTIATE(eof_after_writer_close_pipe, KINDS_PIPE)

/* Data written before close is read first, then 0: "3,0". */
CHECK(data_then_eof_after_close)
{
    xsend_all(c->a, "abc", 3);
    xclose(&c->a);
    two_reads_outcome(c, c->b, 1);
}
INSTANTIATE(data_then_eof_after_close, KINDS_REP_CONN)
INSTANTIATE(data_then_eof_after_close, KINDS_PIPE)

/* DGRAM never reports end of file: after the peer closes, a non-blocking read is EAGAIN. */
CHECK(dgram_no_eof_after_peer_close)
{
    char buf[8];
    xclose(&c->a);
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(dgram_no_eof_after_peer_close, KINDS_REP_DGRAM)

/* DGRAM: a datagram queued before the sender closed is still delivered, then EAGAIN. */
CHECK(dgram_queued_survives_peer_close)
{
    xsend_all(c->a, "abc", 3);
    xclose(&c->a);
    two_reads_outcome(c, c->b, 0);
}
INSTANTIATE(dgram_queued_survives_peer_close, KINDS_SP_DGRAM)

/* ---- writing to a closed peer ---- */

/* STREAM: send to a closed peer fails with EPIPE. */
CHECK(write_after_peer_close_stream)
{
    send_after_peer_gone(c, -1);
}
INSTANTIATE(write_after_peer_close_stream, KINDS_REP_STREAM)

/* SEQPACKET: send to a closed peer fails with EPIPE. */
CHECK(write_after_peer_close_seqpacket)
{
    send_after_peer_gone(c, -1);
}
INSTANTIATE(write_after_peer_close_seqpacket, KINDS_REP_SEQPACKET)

/* DGRAM: the first send to a closed peer fails (Linux ECONNREFUSED, macOS ECONNRESET). */
CHECK(write_after_peer_close_dgram_first)
{
    send_after_peer_gone(c, -1);
}
INSTANTIATE(write_after_peer_close_dgram_first, KINDS_REP_DGRAM)

/* DGRAM: the second send to a closed peer fails with ENOTCONN (the pair is dissolved). */
CHECK(write_after_peer_close_dgram_second)
{
    xclose(&c->b);
    ssize_t r = send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT);
    cr_expect(r < 0, "first send after peer close succeeded");
    outcome_ret(c, send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT));
}
INSTANTIATE(write_after_peer_close_dgram_second, KINDS_REP_DGRAM)

/* Pipe: write after the read end closed fails with EPIPE (the SIGPIPE is checked apart). */
CHECK(write_after_reader_close_pipe)
{
    xclose(&c->b);
    ssize_t r = write(c->a, "x", 1);
    int e = errno;
    (void)sigpipe_take(c);
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(write_after_reader_close_pipe, KINDS_PIPE)

/* ---- SIGPIPE ---- */

/* "SIGPIPE" when the failed send raised one, "none" otherwise (and the send must fail). */
static void send_signal_outcome(struct chan *c, int flags)
{
    allow_sigpipe(c->a);
    xclose(&c->b);
    signal_outcome(c, send(c->a, "x", 1, flags | MSG_DONTWAIT), "send to a closed peer");
}

/* STREAM: send() without MSG_NOSIGNAL to a closed peer raises SIGPIPE. */
CHECK(sigpipe_stream_send)
{
    send_signal_outcome(c, 0);
}
INSTANTIATE(sigpipe_stream_send, KINDS_REP_STREAM)

/* STREAM: write() to a closed peer raises SIGPIPE. */
CHECK(sigpipe_stream_write)
{
    allow_sigpipe(c->a);
    xclose(&c->b);
    signal_outcome(c, write(c->a, "x", 1), "write to a closed peer");
}
INSTANTIATE(sigpipe_stream_write, KINDS_SP_STREAM)

/* STREAM: MSG_NOSIGNAL suppresses the SIGPIPE (the send still fails with EPIPE). */
CHECK(msg_nosignal_stream)
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

/* SEQPACKET: send() without MSG_NOSIGNAL to a closed peer: no SIGPIPE on Linux, one on FreeBSD. */
CHECK(sigpipe_seqpacket_send)
{
    send_signal_outcome(c, 0);
}
INSTANTIATE(sigpipe_seqpacket_send, KINDS_REP_SEQPACKET)

/* DGRAM: a failed send to a closed peer raises no SIGPIPE. */
CHECK(sigpipe_dgram_send)
{
    send_signal_outcome(c, 0);
}
INSTANTIATE(sigpipe_dgram_send, KINDS_REP_DGRAM)

/* Pipe: write() after the read end closed raises SIGPIPE. */
CHECK(sigpipe_pipe_write)
{
    xclose(&c->b);
    signal_outcome(c, write(c->a, "x", 1), "write to a pipe without readers");
}
INSTANTIATE(sigpipe_pipe_write, KINDS_PIPE)

/* STREAM: send() after the own SHUT_WR fails with EPIPE and raises SIGPIPE. */
CHECK(sigpipe_after_own_shut_wr_stream)
{
    allow_sigpipe(c->a);
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    ret_signal_outcome(c, send(c->a, "x", 1, MSG_DONTWAIT));
}
INSTANTIATE(sigpipe_after_own_shut_wr_stream, KINDS_SP_STREAM)

/* SO_NOSIGPIPE on the sender suppresses the SIGPIPE of write() on a broken STREAM. */
CHECK(so_nosigpipe_stream_write)
{
#ifdef QUIRK_NO_SO_NOSIGPIPE
    UNSUPPORTED(c, "SO_NOSIGPIPE");
#else
    int one = 1;
    cr_assert(setsockopt(c->a, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) == 0, "SO_NOSIGPIPE: %s",
              sockspec_errno_name(errno));
    xclose(&c->b);
    ret_signal_outcome(c, write(c->a, "x", 1));
#endif
}
INSTANTIATE(so_nosigpipe_stream_write, KINDS_SP_STREAM)

/* ---- reset ---- */

/* Closing with unread data: the peer's first recv is ECONNRESET, the next 0 (Linux). */
CHECK(reset_unread_data_stream)
{
    xsend_all(c->a, "abc", 3);
    xclose(&c->b);
    two_reads_outcome(c, c->a, 1);
}
INSTANTIATE(reset_unread_data_stream, KINDS_REP_STREAM)

/* SEQPACKET, closing with an unread message: first recv ECONNRESET, then 0 (Linux). */
CHECK(reset_unread_data_seqpacket)
{
    xsend_all(c->a, "abc", 3);
    xclose(&c->b);
    two_reads_outcome(c, c->a, 0);
}
INSTANTIATE(reset_unread_data_seqpacket, KINDS_REP_SEQPACKET)

/* TCP, closing with unread data sends a reset: first recv ECONNRESET, then 0. */
CHECK(reset_unread_data_tcp)
{
    char buf[4];
    xsend_all(c->a, "abc", 3);
    cr_assert(poll_events(c->b, POLLIN, 2000) & POLLIN, "data never arrived");
    cr_assert(recv(c->b, buf, 1, 0) == 1);
    xclose(&c->b);
    two_reads_outcome(c, c->a, 1);
}
INSTANTIATE(reset_unread_data_tcp, KINDS_TCP)

/* ---- shutdown ---- */

/* Peer SHUT_WR on a connection: the reader gets 0 (EOF) at once. */
CHECK(peer_shut_wr_reads_eof)
{
    char buf[8];
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    wait_readable(c->b);
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(peer_shut_wr_reads_eof, KINDS_REP_CONN)

/* DGRAM: the peer's SHUT_WR is not an EOF for the reader: EAGAIN. */
CHECK(peer_shut_wr_dgram_no_eof)
{
    char buf[8];
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(peer_shut_wr_dgram_no_eof, KINDS_SP_DGRAM)

/* Data queued before the writer's SHUT_WR is still read, then 0: "3,0". */
CHECK(queued_data_after_shut_wr)
{
    xsend_all(c->a, "abc", 3);
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    two_reads_outcome(c, c->b, 1);
}
INSTANTIATE(queued_data_after_shut_wr, KINDS_REP_CONN)

/* DGRAM: a datagram queued before the writer's SHUT_WR is read, then EAGAIN. */
CHECK(queued_data_after_shut_wr_dgram)
{
    xsend_all(c->a, "abc", 3);
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    two_reads_outcome(c, c->b, 0);
}
INSTANTIATE(queued_data_after_shut_wr_dgram, KINDS_SP_DGRAM)

/* Own SHUT_WR: a later send fails with EPIPE (every socket type). */
CHECK(own_shut_wr_send_epipe)
{
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT));
}
INSTANTIATE(own_shut_wr_send_epipe, KINDS_REP_UNIX)
INSTANTIATE(own_shut_wr_send_epipe, KINDS_TCP)

/* Own SHUT_WR leaves the other direction working: the peer's data is still read. */
CHECK(own_shut_wr_keeps_reading)
{
    char buf[4];
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    xsend_all(c->b, "abc", 3);
    wait_readable(c->a);
    outcome_ret(c, recv(c->a, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(own_shut_wr_keeps_reading, KINDS_REP_UNIX)
INSTANTIATE(own_shut_wr_keeps_reading, X_TCP4)

/* Own SHUT_RD on a connection: recv returns 0 at once. */
CHECK(own_shut_rd_recv_zero)
{
    char buf[8];
    cr_assert(shutdown(c->b, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(own_shut_rd_recv_zero, KINDS_REP_CONN)

/* DGRAM, own SHUT_RD: a blocking recv returns 0 at once (bounded by a 20 ms SO_RCVTIMEO). */
CHECK(own_shut_rd_recv_zero_dgram)
{
    char buf[8];
    xset_timeo(c->b, SO_RCVTIMEO, 0, 20000);
    cr_assert(shutdown(c->b, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, recv(c->b, buf, sizeof buf, 0));
}
INSTANTIATE(own_shut_rd_recv_zero_dgram, KINDS_CL_DGRAM_BLOCKING)

/* DGRAM, own SHUT_RD: a non-blocking recv is EAGAIN on Linux, not 0. */
CHECK(own_shut_rd_recv_dgram_nonblocking)
{
    char buf[8];
    cr_assert(shutdown(c->b, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(own_shut_rd_recv_dgram_nonblocking, KINDS_SP_DGRAM)

/* Own SHUT_RD is visible to a STREAM peer: its send fails with EPIPE on Linux. */
CHECK(own_shut_rd_peer_send_stream)
{
    send_after_peer_gone(c, SHUT_RD);
}
INSTANTIATE(own_shut_rd_peer_send_stream, KINDS_REP_STREAM)

/* Own SHUT_RD is visible to a SEQPACKET peer: its send fails with EPIPE on Linux. */
CHECK(own_shut_rd_peer_send_seqpacket)
{
    send_after_peer_gone(c, SHUT_RD);
}
INSTANTIATE(own_shut_rd_peer_send_seqpacket, KINDS_REP_SEQPACKET)

/* SHUT_RDWR: own recv returns 0 and own send fails with EPIPE: "0,EPIPE". */
CHECK(own_shut_rdwr_both)
{
    char buf[8];
    cr_assert(shutdown(c->a, SHUT_RDWR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    struct ret_str r = ret_str(recv(c->a, buf, sizeof buf, MSG_DONTWAIT));
    ssize_t w = send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT);
    outcome(c, "%s,%s", r.s, w < 0 ? sockspec_errno_name(errno) : "sent");
}
INSTANTIATE(own_shut_rdwr_both, KINDS_REP_CONN)

/* SHUT_RDWR on both ends keeps data queued before it readable: "3". */
CHECK(shut_rdwr_both_ends_keeps_queued)
{
    char buf[8];
    xsend_all(c->a, "abc", 3);
    cr_assert(shutdown(c->a, SHUT_RDWR) == 0, "shutdown a: %s", sockspec_errno_name(errno));
    cr_assert(shutdown(c->b, SHUT_RDWR) == 0, "shutdown b: %s", sockspec_errno_name(errno));
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(shut_rdwr_both_ends_keeps_queued, KINDS_SP_PLAIN)

/* shutdown() twice on the same end succeeds both times. */
CHECK(shutdown_twice)
{
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    outcome_ret(c, shutdown(c->a, SHUT_WR));
}
INSTANTIATE(shutdown_twice, KINDS_SP_PLAIN)

/* shutdown() on a connected DGRAM pair succeeds. */
CHECK(shutdown_connected_dgram)
{
    outcome_ret(c, shutdown(c->a, SHUT_RDWR));
}
INSTANTIATE(shutdown_connected_dgram, KINDS_REP_DGRAM)

/* shutdown() on an unconnected AF_UNIX DGRAM socket: Linux 0, FreeBSD and macOS ENOTCONN. */
CHECK(shutdown_unconnected_dgram)
{
    shutdown_unconnected(c, SOCK_DGRAM);
}
INSTANTIATE(shutdown_unconnected_dgram, KINDS_NONE)

/* shutdown() on an unconnected AF_UNIX STREAM socket: Linux 0, BSD ENOTCONN. */
CHECK(shutdown_unconnected_stream)
{
    shutdown_unconnected(c, SOCK_STREAM);
}
INSTANTIATE(shutdown_unconnected_stream, KINDS_NONE)

/* shutdown(how = -1) fails with EINVAL. */
CHECK(shutdown_invalid_how)
{
    outcome_ret(c, shutdown(c->a, -1));
}
INSTANTIATE(shutdown_invalid_how, KINDS_SP_PLAIN)

/* ---- bad descriptors ---- */

/* shutdown() on a closed descriptor: EBADF. */
CHECK(shutdown_closed_fd)
{
    outcome_ret(c, shutdown(closed_fd(), SHUT_RDWR));
}
INSTANTIATE(shutdown_closed_fd, KINDS_NONE)

/* send() on a closed descriptor: EBADF. */
CHECK(send_closed_fd)
{
    outcome_ret(c, send(closed_fd(), "x", 1, ss_nosignal));
}
INSTANTIATE(send_closed_fd, KINDS_NONE)

/* recv() on a closed descriptor: EBADF. */
CHECK(recv_closed_fd)
{
    char buf[4];
    outcome_ret(c, recv(closed_fd(), buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(recv_closed_fd, KINDS_NONE)

/* getsockopt() on a closed descriptor: EBADF. */
CHECK(getsockopt_closed_fd)
{
    int v;
    socklen_t l = sizeof v;
    outcome_ret(c, getsockopt(closed_fd(), SOL_SOCKET, SO_TYPE, &v, &l));
}
INSTANTIATE(getsockopt_closed_fd, KINDS_NONE)

/* send() on a pipe: ENOTSOCK. */
CHECK(send_on_pipe)
{
    outcome_ret(c, send(c->a, "x", 1, ss_nosignal));
}
INSTANTIATE(send_on_pipe, KINDS_PIPE)

/* recv() on a pipe: ENOTSOCK. */
CHECK(recv_on_pipe)
{
    char buf[4];
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(recv_on_pipe, KINDS_PIPE)

/* shutdown() on a pipe: ENOTSOCK. */
CHECK(shutdown_on_pipe)
{
    outcome_ret(c, shutdown(c->a, SHUT_WR));
}
INSTANTIATE(shutdown_on_pipe, KINDS_PIPE)

/* recv() on a regular file: ENOTSOCK. */
CHECK(recv_on_regular_file)
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

/* getsockopt() on a regular file: ENOTSOCK. */
CHECK(getsockopt_on_regular_file)
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
    cr_assert(pid >= 0, "fork: %s", sockspec_errno_name(errno));
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
    cr_expect(child_reap(pid) == 0, "holder child failed");
}

/* EOF arrives only when the last copy of the peer descriptor closes: "EAGAIN,0". */
CHECK(eof_waits_for_every_copy)
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
INSTANTIATE(eof_waits_for_every_copy, KINDS_CL_FORK)

/* shutdown(SHUT_WR) acts on the socket, not the descriptor: EOF at once despite a copy. */
CHECK(shutdown_acts_for_every_copy)
{
    int ctl[2];
    char buf[8];
    pid_t pid = fork_holder(ctl);
    cr_assert(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    wait_readable(c->b);
    ssize_t r = recv(c->b, buf, sizeof buf, MSG_DONTWAIT);
    int e = errno;
    release_holder(ctl, pid);
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(shutdown_acts_for_every_copy, KINDS_CL_FORK_SHUT)

/* ---- blocked readers ---- */

/* In a child: closes its copy of a, then reads b (blocking): the read's result. */
static const char *blocked_read(void *arg, char *out, size_t n)
{
    struct chan *c = arg;
    char buf[8];
    close(c->a);
    snprintf(out, n, "%s", ret_str(read(c->b, buf, sizeof buf)).s);
    return out;
}

/*
 * Runs a child blocked in read(c->b) (bounded by SO_RCVTIMEO on sockets when rcvtimeo_ms > 0),
 * closes c->a in the parent and returns the child's read result as an outcome string.
 */
static void blocked_reader_outcome(struct chan *c, int rcvtimeo_ms)
{
    char res[32];
    struct child ch;
    if (rcvtimeo_ms > 0)
        xset_timeo(c->b, SO_RCVTIMEO, 0, rcvtimeo_ms * 1000L);
    child_start(&ch, blocked_read, c);
    xclose(&c->a);
    child_finish(&ch, 3000, res, sizeof res);
    outcome(c, "%s", res[0] ? res : "still-blocked");
}

/* A reader blocked in read() wakes with 0 when the last peer descriptor closes. */
CHECK(close_wakes_blocked_reader)
{
    blocked_reader_outcome(c, 0);
}
INSTANTIATE(close_wakes_blocked_reader, KINDS_CL_BLOCKING_CONN)

/* DGRAM: closing the peer does not wake a blocked reader; it times out with EAGAIN. */
CHECK(close_leaves_dgram_reader_blocked)
{
    blocked_reader_outcome(c, 20);
}
INSTANTIATE(close_leaves_dgram_reader_blocked, KINDS_CL_DGRAM_BLOCKING)
