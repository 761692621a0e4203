/*
 * Claims from the seed notes (/work/shared/seeds), one check per claim: does it hold on this
 * OS? Outcomes read "holds" or "holds: <detail>" when it does, "fails: <why>" when it does not,
 * so the report's claims section can quote them as they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "check_util.h"

#define CATEGORY claims

/* Sends msg on from and reads it on to (waiting up to 1 s): NULL, or why it did not arrive. */
static const char *carry(int from, int to, const char *msg)
{
    static char why[96];
    char buf[64];
    size_t n = strlen(msg);
    const char *op = "send";
    ssize_t r = send(from, msg, n, ss_nosignal | MSG_DONTWAIT);
    if (r < 0 && errno == ENOTSOCK) {
        op = "write";
        r = write(from, msg, n);
    }
    if (r < 0) {
        snprintf(why, sizeof why, "%s gives %s", op, sockspec_errno_name(errno));
        return why;
    }
    if (!(poll_events(to, POLLIN, 1000) & POLLIN))
        return "nothing arrives";
    r = read(to, buf, sizeof buf);
    if (r < 0) {
        snprintf(why, sizeof why, "read gives %s", sockspec_errno_name(errno));
        return why;
    }
    if ((size_t)r != n || memcmp(buf, msg, n) != 0)
        return "data differs";
    return NULL;
}

/* carry() x -> y, then y -> x: "holds", or "fails: <label><why>" for the first that fails. */
static void both_ways_claim(struct chan *c, int x, int y, const char *m1, const char *m2,
                            const char *fwd_label, const char *rev_label)
{
    const char *fwd = carry(x, y, m1), *rev = fwd ? NULL : carry(y, x, m2);
    if (fwd)
        outcome(c, "fails: %s%s", fwd_label, fwd);
    else if (rev)
        outcome(c, "fails: %s%s", rev_label, rev);
    else
        outcome(c, "holds");
}

CHECK(socketpair_bidirectional,
      "\"Sockets are bidirectional\": a socketpair carries data a -> b and b -> a.")
{
    both_ways_claim(c, c->a, c->b, "ping", "pong", "forward ", "reverse ");
}
INSTANTIATE(socketpair_bidirectional, KINDS_SP_PLAIN)

CHECK(pipe_bidirectional,
      "\"Pipes are bidirectional\": pipe() carries data fd[1] -> fd[0] and also fd[0] -> fd[1]?")
{
    int p[2];
    xpipe(p);
    xset_nonblock(p[0], 1);
    xset_nonblock(p[1], 1);
    both_ways_claim(c, p[1], p[0], "ping", "pong", "forward ", "the read end ");
    xclose(&p[0]);
    xclose(&p[1]);
}
INSTANTIATE(pipe_bidirectional, KINDS_NONE)

/* Writes three messages with nobody reading, without blocking, then reads them: "holds". */
static void buffered_outcome(struct chan *c, int w, int r)
{
    static const char *const msgs[] = {"one", "two", "three"};
    char buf[64];
    size_t want = 0, got = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(msgs[i]);
        ssize_t k = send(w, msgs[i], n, ss_nosignal | MSG_DONTWAIT);
        if (k < 0 && errno == ENOTSOCK) {
            xset_nonblock(w, 1);
            k = write(w, msgs[i], n);
        }
        if (k != (ssize_t)n) {
            outcome(c, "fails: unread write %d gives %s", i + 1,
                    k < 0 ? sockspec_errno_name(errno) : "a short count");
            return;
        }
        want += n;
    }
    while (got < want) {
        if (!(poll_events(r, POLLIN, 1000) & POLLIN))
            break;
        ssize_t k = read(r, buf, sizeof buf);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    if (got == want)
        outcome(c, "holds");
    else
        outcome(c, "fails: %zu of %zu bytes readable later", got, want);
}

CHECK(buffered, "\"Sockets and pipes are buffered\": writes complete with no reader waiting and "
                "are read later.")
{
    buffered_outcome(c, c->a, c->b);
}
INSTANTIATE(buffered, KINDS_PIPES)
INSTANTIATE(buffered, KINDS_SP_PLAIN)

/* Sends 3 then 5 bytes, then reads with a large buffer: the first read's size. */
static ssize_t first_read_after_two_sends(int w, int r)
{
    char buf[64];
    ssize_t k1 = send_or_write(w, "abc", 3, 0);
    ssize_t k2 = send_or_write(w, "defgh", 5, 0);
    REQUIRE(k1 == 3 && k2 == 5, "sends: %s", sockspec_errno_name(errno));
    REQUIRE(poll_events(r, POLLIN, 1000) & POLLIN, "nothing arrived");
    return read(r, buf, sizeof buf);
}

/* "holds" if the first read after two sends (3 and 5 bytes) returns want bytes. */
static void first_read_claim(struct chan *c, int w, int r, ssize_t want)
{
    ssize_t n = first_read_after_two_sends(w, r);
    if (n == want)
        outcome(c, "holds");
    else
        outcome(c, "fails: first read returns %zd bytes", n);
}

CHECK(keeps_boundaries,
      "\"Message sockets keep boundaries\" (SOCK_DGRAM, SOCK_SEQPACKET): two sends are two reads.")
{
    first_read_claim(c, c->a, c->b, 3);
}
INSTANTIATE(keeps_boundaries, KINDS_UDP)
INSTANTIATE(keeps_boundaries, KINDS_SP_DGRAM)
INSTANTIATE(keeps_boundaries, KINDS_SP_SEQPACKET)

CHECK(no_boundaries, "\"Streams and pipes are continuous\" (SOCK_STREAM, pipes): two queued sends "
                     "come back in one read.")
{
    first_read_claim(c, c->a, c->b, 8);
}
INSTANTIATE(no_boundaries, KINDS_PIPES)
INSTANTIATE(no_boundaries, KINDS_SP_STREAM)

CHECK(pipe_stream_only,
      "\"Pipes are inherently stream-oriented\" against Linux packet-mode pipes: pipe2(O_DIRECT) "
      "makes each write its own packet (pipe.7, since Linux 3.4).")
{
#if defined(SOCKSPEC_HAVE_PIPE2) && defined(SOCKSPEC_HAVE_O_DIRECT)
    int p[2];
    if (pipe2(p, O_DIRECT) < 0) {
        outcome(c, "holds: pipe2(O_DIRECT) gives %s", sockspec_errno_name(errno));
        return;
    }
    ssize_t n = first_read_after_two_sends(p[1], p[0]);
    if (n == 8)
        outcome(c, "holds");
    else
        outcome(c, "fails: pipe2(O_DIRECT) keeps write boundaries (first read %zd bytes)", n);
    xclose(&p[0]);
    xclose(&p[1]);
#else
    outcome(c, "holds: no O_DIRECT pipes");
#endif
}
INSTANTIATE(pipe_stream_only, KINDS_NONE)

CHECK(socketpair_local_only,
      "\"socketpair is local-only\": socketpair(AF_INET) and socketpair(AF_INET6) both fail.")
{
    int sv[2], e4 = 0, e6 = 0;
    if (socketpair(AF_INET, SOCK_STREAM, 0, sv) == 0) {
        xclose(&sv[0]);
        xclose(&sv[1]);
    } else
        e4 = errno;
    if (socketpair(AF_INET6, SOCK_STREAM, 0, sv) == 0) {
        xclose(&sv[0]);
        xclose(&sv[1]);
    } else
        e6 = errno;
    if (e4 && e6)
        outcome(c, "holds: AF_INET %s, AF_INET6 %s", sockspec_errno_name(e4),
                sockspec_errno_name(e6));
    else
        outcome(c, "fails: socketpair(%s) succeeds", e4 ? "AF_INET6" : "AF_INET");
}
INSTANTIATE(socketpair_local_only, KINDS_NONE)

CHECK(ends_indistinguishable, "\"The two sockets are indistinguishable\": same type, domain, flags "
                              "and file type on both ends, and data flows both ways.")
{
    int ta, tb;
    struct stat sa, sb;
    REQUIRE(sockopt_int(c->a, SOL_SOCKET, SO_TYPE, &ta) == 0 &&
            sockopt_int(c->b, SOL_SOCKET, SO_TYPE, &tb) == 0);
    REQUIRE(fstat(c->a, &sa) == 0 && fstat(c->b, &sb) == 0);
    const char *diff = NULL;
    if (ta != tb)
        diff = "SO_TYPE differs";
    else if (is_nonblock(c->a) != is_nonblock(c->b))
        diff = "O_NONBLOCK differs";
    else if (is_cloexec(c->a) != is_cloexec(c->b))
        diff = "FD_CLOEXEC differs";
    else if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT))
        diff = "file type differs";
#ifndef QUIRK_NO_SO_DOMAIN
    int da, db;
    if (!diff && sockopt_int(c->a, SOL_SOCKET, SO_DOMAIN, &da) == 0 &&
        sockopt_int(c->b, SOL_SOCKET, SO_DOMAIN, &db) == 0 && da != db)
        diff = "SO_DOMAIN differs";
#endif
    if (!diff && (diff = carry(c->a, c->b, "ab")) == NULL)
        diff = carry(c->b, c->a, "ba");
    if (diff)
        outcome(c, "fails: %s", diff);
    else
        outcome(c, "holds");
}
INSTANTIATE(ends_indistinguishable, KINDS_SP)

/* A send on a fresh AF_UNIX socket of type: "holds: send gives <errno>" if it fails. */
static void fresh_send_claim(struct chan *c, int type)
{
    int fd = socket(AF_UNIX, type, 0);
    REQUIRE(fd >= 0);
    ssize_t r = send(fd, "x", 1, ss_nosignal | MSG_DONTWAIT);
    if (r < 0)
        outcome(c, "holds: send gives %s", sockspec_errno_name(errno));
    else
        outcome(c, "fails: send succeeds");
    EXPECT(!sigpipe_take(c), "SIGPIPE despite the no-signal flag");
    xclose(&fd);
}

CHECK(socket_stream_needs_connect,
      "\"socket() sockets need connect first\": send on a fresh AF_UNIX stream socket fails.")
{
    fresh_send_claim(c, SOCK_STREAM);
}
INSTANTIATE(socket_stream_needs_connect, KINDS_NONE)

CHECK(socket_dgram_needs_address,
      "\"socket() sockets need an address first\": send without address on a fresh AF_UNIX "
      "datagram socket fails (ENOTCONN or EDESTADDRREQ per OS).")
{
    fresh_send_claim(c, SOCK_DGRAM);
}
INSTANTIATE(socket_dgram_needs_address, KINDS_NONE)

CHECK(pipe_needs_no_setup, "\"Pipes need no setup\": the pair from pipe() carries data at once.")
{
    int p[2];
    xpipe(p);
    const char *why = carry(p[1], p[0], "now");
    if (why)
        outcome(c, "fails: %s", why);
    else
        outcome(c, "holds");
    xclose(&p[0]);
    xclose(&p[1]);
}
INSTANTIATE(pipe_needs_no_setup, KINDS_NONE)

CHECK(socketpair_needs_no_setup, "\"socketpair() sockets are connected already\": data flows with "
                                 "no bind/connect, and getpeername() succeeds.")
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    const char *why = carry(c->a, c->b, "now");
    if (!why && getpeername(c->a, (struct sockaddr *)&ss, &len) < 0)
        why = "getpeername fails";
    if (why)
        outcome(c, "fails: %s", why);
    else
        outcome(c, "holds");
}
INSTANTIATE(socketpair_needs_no_setup, KINDS_SP_PLAIN)

CHECK(pipe_ipc_across_fork, "\"Pipes provide IPC\": a forked child's write reaches the parent.")
{
    int p[2];
    xpipe(p);
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork: %s", sockspec_errno_name(errno));
    if (pid == 0) {
        close(p[0]);
        _exit(write(p[1], "child", 5) == 5 ? 0 : 1);
    }
    xclose(&p[1]);
    char buf[16];
    ssize_t n = -1;
    if (poll_events(p[0], POLLIN, 2000) & (POLLIN | POLLHUP))
        n = read(p[0], buf, sizeof buf);
    int st = child_reap(pid);
    xclose(&p[0]);
    if (n == 5 && memcmp(buf, "child", 5) == 0 && st == 0)
        outcome(c, "holds");
    else
        outcome(c, "fails: parent read %zd bytes, child status %d", n, st);
}
INSTANTIATE(pipe_ipc_across_fork, KINDS_NONE)

CHECK(socketpair_ipc_across_fork,
      "\"Sockets provide IPC, both ways\": the parent sends ping, a forked child answers pong on "
      "the same socketpair end it inherited.")
{
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s",
            sockspec_errno_name(errno));
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork: %s", sockspec_errno_name(errno));
    if (pid == 0) {
        char b[4];
        struct pollfd p = {.fd = sv[1], .events = POLLIN};
        close(sv[0]);
        if (poll(&p, 1, 2000) != 1 || read(sv[1], b, 4) != 4 || memcmp(b, "ping", 4) != 0)
            _exit(1);
        _exit(send(sv[1], "pong", 4, ss_nosignal) == 4 ? 0 : 2);
    }
    xclose(&sv[1]);
    char buf[8];
    ssize_t n = -1;
    if (send(sv[0], "ping", 4, ss_nosignal) == 4 && (poll_events(sv[0], POLLIN, 2000) & POLLIN))
        n = read(sv[0], buf, sizeof buf);
    int st = child_reap(pid);
    xclose(&sv[0]);
    if (n == 4 && memcmp(buf, "pong", 4) == 0 && st == 0)
        outcome(c, "holds");
    else
        outcome(c, "fails: parent read %zd bytes, child status %d", n, st);
}
INSTANTIATE(socketpair_ipc_across_fork, KINDS_NONE)

#define ORDERED_BYTES (256u * 1024u)

CHECK(stream_ordered_reliable,
      "\"SOCK_STREAM ensures ordered and reliable delivery\": 256 KiB in 1000-byte sends arrive "
      "complete and in order while the reader drains concurrently.")
{
    static unsigned char want[ORDERED_BYTES], got[ORDERED_BYTES];
    struct writer w;
    fill_pattern(want, sizeof want, 77);
    writer_start(&w, c->a, want, sizeof want, 1000); /* many odd chunks */
    size_t n = 0;
    while (n < sizeof got) {
        if (!(poll_events(c->b, POLLIN, 5000) & (POLLIN | POLLHUP)))
            break;
        ssize_t r = recv(c->b, got + n, sizeof got - n, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    int werr = writer_join(&w);
    if (werr)
        outcome(c, "fails: sender got %s", sockspec_errno_name(werr));
    else if (n != sizeof got)
        outcome(c, "fails: %zu of %zu bytes arrived", n, sizeof got);
    else if (memcmp(got, want, n) != 0)
        outcome(c, "fails: bytes reordered or changed");
    else if (w.retries)
        outcome(c, "holds: the sender retried ENOBUFS");
    else
        outcome(c, "holds");
}
INSTANTIATE(stream_ordered_reliable, KINDS_SP_BLOCKING)

CHECK(protocol_zero_picks_default,
      "\"protocol can be 0: the family picks its one protocol\": AF_INET stream and datagram "
      "sockets created with protocol 0 report IPPROTO_TCP and IPPROTO_UDP.")
{
#ifdef QUIRK_NO_SO_PROTOCOL
    UNSUPPORTED(c, QUIRK_NO_SO_PROTOCOL);
#else
    int s = socket(AF_INET, SOCK_STREAM, 0), d = socket(AF_INET, SOCK_DGRAM, 0), ps, pd;
    REQUIRE(s >= 0 && d >= 0, "socket: %s", sockspec_errno_name(errno));
    if (sockopt_int(s, SOL_SOCKET, SO_PROTOCOL, &ps) < 0 ||
        sockopt_int(d, SOL_SOCKET, SO_PROTOCOL, &pd) < 0)
        outcome(c, "fails: SO_PROTOCOL gives %s", sockspec_errno_name(errno));
    else if (ps == IPPROTO_TCP && pd == IPPROTO_UDP)
        outcome(c, "holds");
    else
        outcome(c, "fails: stream %d, datagram %d", ps, pd);
    xclose(&s);
    xclose(&d);
#endif
}
INSTANTIATE(protocol_zero_picks_default, KINDS_NONE)

CHECK(socket_network_capable,
      "\"Sockets also do network IPC\": the same calls build a TCP pair over loopback (the kind's "
      "connect/accept) that carries data both ways.")
{
    both_ways_claim(c, c->a, c->b, "net", "ten", "", "");
}
INSTANTIATE(socket_network_capable, KINDS_TCP)

CHECK(pipe_has_no_address, "\"Pipes are strictly local\": a pipe end has no socket address at all.")
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(c->b, (struct sockaddr *)&ss, &len) < 0)
        outcome(c, "holds: getsockname gives %s", sockspec_errno_name(errno));
    else
        outcome(c, "fails: getsockname succeeds");
}
INSTANTIATE(pipe_has_no_address, KINDS_PIPES)
