/*
 * AF_INET / AF_INET6 over loopback, as the comparison point for AF_UNIX: TCP is a byte stream,
 * UDP keeps boundaries, sizes and errors of the IP protocols. Checks that build their own
 * sockets are instantiated on the tcp/udp kinds only to pick the address family.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "check_util.h"

#define CATEGORY inet

/* A socket bound to an ephemeral loopback port; its address in *ss. Fatal on failure. */
static int bound_inet(int domain, int type, struct sockaddr_storage *ss, socklen_t *len)
{
    int fd = socket(domain, type, 0);
    REQUIRE(fd >= 0, "socket: %s", sockspec_errno_name(errno));
    *len = scratch_loopback_addr(domain, 0, ss);
    REQUIRE(bind(fd, (struct sockaddr *)ss, *len) == 0, "bind: %s", sockspec_errno_name(errno));
    REQUIRE(getsockname(fd, (struct sockaddr *)ss, len) == 0, "getsockname: %s",
            sockspec_errno_name(errno));
    return fd;
}

/* The send's byte count or errno, as an outcome string into buf. */
static const char *send_result(ssize_t r, char *buf, size_t len)
{
    if (r < 0)
        snprintf(buf, len, "%s", sockspec_errno_name(errno));
    else
        snprintf(buf, len, "%zd", r);
    return buf;
}

CHECK(tcp_coalesces_two_sends,
      "Two sends (3 and 5 bytes) are read back in one recv: TCP keeps no boundaries. SO_RCVLOWAT 8 "
      "makes poll wait until both segments are queued, so no timing is involved.")
{
    int low = 8;
    char buf[64];
    REQUIRE(setsockopt(c->b, SOL_SOCKET, SO_RCVLOWAT, &low, sizeof low) == 0, "SO_RCVLOWAT: %s",
            sockspec_errno_name(errno));
    xsend_all(c->a, "abc", 3);
    xsend_all(c->a, "defgh", 5);
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN, "8 bytes never queued");
    ssize_t n = recv(c->b, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 8)
        outcome(c, "coalesced");
    else
        outcome(c, "separate: first recv %zd", n);
}
INSTANTIATE(tcp_coalesces_two_sends, KINDS_TCP)

CHECK(udp_keeps_boundaries,
      "UDP keeps boundaries: sends of 3 and 5 bytes are received as 3, then 5.")
{
    char buf[64];
    xsend_all(c->a, "abc", 3);
    xsend_all(c->a, "defgh", 5);
    ssize_t n1 = read_wait(c, c->b, buf, sizeof buf, 0, 1000);
    ssize_t n2 = read_wait(c, c->b, buf, sizeof buf, 0, 1000);
    outcome(c, "%zd,%zd", n1, n2);
}
INSTANTIATE(udp_keeps_boundaries, KINDS_UDP)

CHECK(udp_zero_length_datagram,
      "A zero-length UDP datagram is delivered and read as 0 bytes (not \"nothing\").")
{
    char buf[8] = {0}, res[32];
    ssize_t s = send(c->a, buf, 0, 0);
    REQUIRE(s == 0, "send(0): %s", send_result(s, res, sizeof res));
    if (!(poll_events(c->b, POLLIN, 1000) & POLLIN)) {
        outcome(c, "not delivered");
        return;
    }
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(udp_zero_length_datagram, KINDS_UDP)

/* Sends one datagram of n bytes: its count or errno. */
static void big_datagram(struct chan *c, size_t n)
{
    char *buf = calloc(1, n);
    REQUIRE(buf != NULL);
    raise_sndbuf(c->a, (int)n + 1024);
    outcome_ret(c, send(c->a, buf, n, MSG_DONTWAIT));
    free(buf);
}

CHECK(udp4_max_payload,
      "The largest IPv4 UDP payload, 65507 bytes, is accepted (Linux; the BSDs cap lower).")
{
    big_datagram(c, 65507);
}
INSTANTIATE(udp4_max_payload, KINDS_UDP4)

CHECK(udp4_payload_too_big, "One byte more than fits an IPv4 packet, 65508: EMSGSIZE.")
{
    big_datagram(c, 65508);
}
INSTANTIATE(udp4_payload_too_big, KINDS_UDP4)

CHECK(udp6_payload_too_big,
      "One byte more than the IPv6 payload length allows (65535 - 8 = 65527): EMSGSIZE.")
{
    big_datagram(c, 65528);
}
INSTANTIATE(udp6_payload_too_big, KINDS_UDP6)

CHECK(udp_connected_dead_port,
      "A UDP socket connected to a port nobody holds: the first send succeeds, the ICMP port "
      "unreachable turns the next send into ECONNREFUSED.")
{
    struct sockaddr_storage dead, me;
    socklen_t dl, ml;
    int gone = bound_inet(c->kind->domain, SOCK_DGRAM, &dead, &dl);
    xclose(&gone); /* the port is free again: nobody listens there */
    int s = bound_inet(c->kind->domain, SOCK_DGRAM, &me, &ml);
    REQUIRE(connect(s, (struct sockaddr *)&dead, dl) == 0, "connect: %s",
            sockspec_errno_name(errno));
    char r1[32], r2[32];
    send_result(send(s, "x", 1, MSG_DONTWAIT), r1, sizeof r1);
    (void)poll_events(s, POLLERR, 1000); /* the error arrives asynchronously */
    send_result(send(s, "y", 1, MSG_DONTWAIT), r2, sizeof r2);
    outcome(c, "%s, then %s", r1, r2);
    xclose(&s);
}
INSTANTIATE(udp_connected_dead_port, KINDS_UDP)

CHECK(tcp_connect_refused, "TCP connect to a bound port that does not listen: ECONNREFUSED.")
{
    struct sockaddr_storage ss;
    socklen_t len;
    int bound = bound_inet(c->kind->domain, SOCK_STREAM, &ss, &len);
    int s = socket(c->kind->domain, SOCK_STREAM, 0);
    REQUIRE(s >= 0);
    xset_nonblock(s, 1);
    int r = connect(s, (struct sockaddr *)&ss, len);
    if (r < 0 && errno == EINPROGRESS) {
        int err = 0;
        socklen_t el = sizeof err;
        if (poll_events(s, POLLOUT, 2000) == 0) { /* no reset came back: the SYN was dropped */
            outcome(c, "no answer within 2 s");
            xclose(&s);
            xclose(&bound);
            return;
        }
        REQUIRE(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0);
        errno = err;
        r = err ? -1 : 0;
    }
    outcome(c, "%s", r == 0 ? "connected" : sockspec_errno_name(errno));
    xclose(&s);
    xclose(&bound);
}
INSTANTIATE(tcp_connect_refused, KINDS_TCP)

CHECK(seqpacket_socket,
      "socket(AF_INET, SOCK_SEQPACKET, 0): no IPv4 protocol serves it by default on Linux.")
{
    int fd = socket(c->kind->domain, SOCK_SEQPACKET, 0);
    if (fd >= 0) {
        outcome(c, "ok");
        xclose(&fd);
    } else
        outcome(c, "%s", sockspec_errno_name(errno));
}
INSTANTIATE(seqpacket_socket, KINDS_TCP)

CHECK(
    udp_msg_oob,
    "send(MSG_OOB) on UDP, which has no urgent data: the count, or the errno (POSIX: EOPNOTSUPP).")
{
    outcome_ret(c, send(c->a, "x", 1, MSG_OOB | MSG_DONTWAIT));
}
INSTANTIATE(udp_msg_oob, KINDS_UDP)

CHECK(tcp_recv_oob_none, "recv(MSG_OOB) on TCP with no urgent data pending: EINVAL.")
{
    char ch;
    outcome_ret(c, recv(c->b, &ch, 1, MSG_OOB | MSG_DONTWAIT));
}
INSTANTIATE(tcp_recv_oob_none, KINDS_TCP)

CHECK(tcp_send_unconnected,
      "send on a TCP socket that was never connected: EPIPE on Linux, ENOTCONN per POSIX.")
{
    int s = socket(c->kind->domain, SOCK_STREAM, 0);
    REQUIRE(s >= 0);
    outcome_ret(c, send(s, "x", 1, ss_nosignal | MSG_DONTWAIT));
    EXPECT(!sigpipe_take(c), "SIGPIPE despite the no-signal flag");
    xclose(&s);
}
INSTANTIATE(tcp_send_unconnected, KINDS_TCP)

CHECK(udp_send_no_address, "send without an address on a fresh UDP socket: EDESTADDRREQ.")
{
    int s = socket(c->kind->domain, SOCK_DGRAM, 0);
    REQUIRE(s >= 0);
    outcome_ret(c, send(s, "x", 1, MSG_DONTWAIT));
    xclose(&s);
}
INSTANTIATE(udp_send_no_address, KINDS_UDP)

/* Binds a second socket of type to the port of a first one (listening for TCP). */
static void bind_in_use(struct chan *c, int type)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int first = bound_inet(c->kind->domain, type, &ss, &len);
    if (type == SOCK_STREAM)
        REQUIRE(listen(first, 1) == 0, "listen: %s", sockspec_errno_name(errno));
    int second = socket(c->kind->domain, type, 0);
    REQUIRE(second >= 0);
    int r = bind(second, (struct sockaddr *)&ss, len);
    outcome_ok(c, r);
    xclose(&first);
    xclose(&second);
}

CHECK(tcp_bind_in_use, "Binding a TCP socket to the port of a listening one: EADDRINUSE.")
{
    bind_in_use(c, SOCK_STREAM);
}
INSTANTIATE(tcp_bind_in_use, KINDS_TCP)

CHECK(udp_bind_in_use, "Binding a UDP socket to a port another UDP socket holds: EADDRINUSE.")
{
    bind_in_use(c, SOCK_DGRAM);
}
INSTANTIATE(udp_bind_in_use, KINDS_UDP)

CHECK(udp_sendto_other_on_connected,
      "sendto() naming another address on a connected UDP socket: Linux sends it there.")
{
    struct sockaddr_storage other;
    socklen_t ol;
    int o = bound_inet(c->kind->domain, SOCK_DGRAM, &other, &ol);
    ssize_t r = sendto(c->a, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&other, ol);
    if (r < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
    } else {
        char ch;
        ssize_t n = read_wait(c, o, &ch, 1, 0, 1000);
        outcome(c, "%s", n == 1 ? "sent to the named address" : "sent, not delivered there");
    }
    xclose(&o);
}
INSTANTIATE(udp_sendto_other_on_connected, KINDS_UDP)

CHECK(udp_connect_unspec_disconnects,
      "connect(AF_UNSPEC) dissolves a UDP association: a later send has no destination.")
{
    struct sockaddr_storage un;
    memset(&un, 0, sizeof un);
    un.ss_family = AF_UNSPEC;
    socklen_t ul = c->kind->domain == AF_INET ? (socklen_t)sizeof(struct sockaddr_in)
                                              : (socklen_t)sizeof(struct sockaddr_in6);
    if (connect(c->a, (struct sockaddr *)&un, ul) < 0) {
        outcome(c, "connect(AF_UNSPEC) %s", sockspec_errno_name(errno));
        return;
    }
    outcome_ret(c, send(c->a, "x", 1, MSG_DONTWAIT));
}
INSTANTIATE(udp_connect_unspec_disconnects, KINDS_UDP)

CHECK(tcp_connect_twice, "connect() again on a connected TCP socket: EISCONN.")
{
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    REQUIRE(getpeername(c->a, (struct sockaddr *)&peer, &pl) == 0);
    int r = connect(c->a, (struct sockaddr *)&peer, pl);
    outcome_ok(c, r);
}
INSTANTIATE(tcp_connect_twice, KINDS_TCP)

CHECK(tcp_zero_length_send, "A zero-length TCP send returns 0 and queues nothing for the peer.")
{
    char buf[4] = {0}, res[32];
    send_result(send(c->a, buf, 0, ss_nosignal), res, sizeof res);
    (void)poll_events(c->b, POLLIN, 10); /* loopback delivery is synchronous; be lenient */
    ssize_t r = recv(c->b, buf, sizeof buf, MSG_DONTWAIT);
    outcome(c, "%s, peer %s", res,
            r < 0    ? sockspec_errno_name(errno)
            : r == 0 ? "EOF"
                     : "got data");
}
INSTANTIATE(tcp_zero_length_send, KINDS_TCP)

CHECK(udp_truncates_datagram,
      "A UDP datagram read with a short buffer is truncated and the rest discarded.")
{
    char buf[8];
    xsend_all(c->a, "12345678", 8);
    ssize_t n = read_wait(c, c->b, buf, 4, 0, 1000);
    ssize_t m = recv(c->b, buf, sizeof buf, MSG_DONTWAIT);
    outcome(c, "%zd, then %s", n, m < 0 ? sockspec_errno_name(errno) : "more data");
}
INSTANTIATE(udp_truncates_datagram, KINDS_UDP)

CHECK(so_protocol_both_ends, "SO_PROTOCOL on both ends: IPPROTO_TCP for TCP, IPPROTO_UDP for UDP.")
{
#ifdef QUIRK_NO_SO_PROTOCOL
    UNSUPPORTED(c, QUIRK_NO_SO_PROTOCOL);
#else
    int pa, pb, want = c->kind->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    if (sockopt_int(c->a, SOL_SOCKET, SO_PROTOCOL, &pa) < 0 ||
        sockopt_int(c->b, SOL_SOCKET, SO_PROTOCOL, &pb) < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else if (pa == want && pb == want)
        outcome(c, "ok");
    else
        outcome(c, "a=%d b=%d want %d", pa, pb, want);
#endif
}
INSTANTIATE(so_protocol_both_ends, KINDS_TCP)
INSTANTIATE(so_protocol_both_ends, KINDS_UDP)

CHECK(udp_shut_wr_send, "send() after shutdown(SHUT_WR) on a connected UDP socket.")
{
    if (shutdown(c->a, SHUT_WR) < 0) {
        outcome(c, "shutdown %s", sockspec_errno_name(errno));
        return;
    }
    outcome_ret(c, send(c->a, "x", 1, ss_nosignal | MSG_DONTWAIT));
    EXPECT(!sigpipe_take(c), "SIGPIPE despite the no-signal flag");
}
INSTANTIATE(udp_shut_wr_send, KINDS_UDP)

CHECK(udp_shutdown_unconnected, "shutdown() on a UDP socket that was never connected: ENOTCONN.")
{
    int s = socket(c->kind->domain, SOCK_DGRAM, 0);
    REQUIRE(s >= 0);
    int r = shutdown(s, SHUT_RDWR);
    outcome_ok(c, r);
    xclose(&s);
}
INSTANTIATE(udp_shutdown_unconnected, KINDS_UDP)
