/* Bidirectionality: which directions carry data, and what shutdown() of one direction does. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"

#define CATEGORY bidir

static void round_trip(struct chan *c, int from, int to)
{
    char out[64], in[64];
    fill_pattern(out, sizeof out, (uint32_t)from);
    xsend_all(from, out, sizeof out);
    xrecv_exact(to, in, sizeof in);
    outcome(c, "%s", memcmp(in, out, sizeof in) == 0 ? "ok" : "corrupted");
}

CHECK(forward_delivers, "a -> b delivers the bytes unchanged on every kind.")
{
    round_trip(c, c->a, c->b);
}
INSTANTIATE(forward_delivers, KINDS_ALL)

CHECK(reverse_delivers, "b -> a delivers too: the two socket ends are indistinguishable.")
{
    round_trip(c, c->b, c->a);
}
INSTANTIATE(reverse_delivers, KINDS_SOCKETS)

CHECK(pipe_write_read_end,
      "Writing a pipe's read end: EBADF where pipes are one-way, accepted on FreeBSD.")
{
    ssize_t r = write(c->b, "x", 1);
    outcome(c, "%s", r == 1 ? "ok" : sockspec_errno_name(errno));
}
INSTANTIATE(pipe_write_read_end, KINDS_PIPES)

CHECK(pipe_read_write_end,
      "Reading a pipe's write end: EBADF where pipes are one-way; FreeBSD's two-way pipe finds "
      "nothing queued in that direction (EAGAIN, the end is made non-blocking first).")
{
    char ch;
    xset_nonblock(c->a, 1);
    ssize_t r = read(c->a, &ch, 1);
    outcome(c, "%s", r >= 0 ? "ok" : sockspec_errno_name(errno));
}
INSTANTIATE(pipe_read_write_end, KINDS_PIPES)

/* send() with the no-SIGPIPE flag, write() on pipes: the byte count or the errno name. */
static void send_outcome(struct chan *c, int fd, const void *buf, size_t n)
{
    ssize_t r = send(fd, buf, n, ss_nosignal | MSG_DONTWAIT);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%s", (size_t)r == n ? "ok" : "short");
}

/* recv without blocking after waiting up to 1 s for readability: "EOF", the data or errno. */
static void recv_outcome(struct chan *c, int fd, const char *want)
{
    char buf[64];
    ssize_t r = read_wait(c, fd, buf, sizeof buf, 0, 1000);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else if (r == 0)
        outcome(c, "EOF");
    else if (want && (size_t)r == strlen(want) && memcmp(buf, want, (size_t)r) == 0)
        outcome(c, "data");
    else
        outcome(c, "%zd bytes", r);
}

/* shutdown(a, how), then a send of one byte from fd without SIGPIPE: "ok" or the errno. */
static void shut_then_send(struct chan *c, int how, int fd)
{
    REQUIRE(shutdown(c->a, how) == 0, "shutdown: %s", sockspec_errno_name(errno));
    send_outcome(c, fd, "x", 1);
    EXPECT(!sigpipe_take(c), "SIGPIPE despite the no-signal flag");
}

/* a's recv after its own shutdown(how) (SHUT_RD) or b's after a's (SHUT_WR), nothing queued,
 * without waiting: "EOF", "data" or the errno name. */
static void recv_after_shut(struct chan *c, int how, int fd)
{
    REQUIRE(shutdown(c->a, how) == 0, "shutdown: %s", sockspec_errno_name(errno));
    char ch;
    ssize_t r = recv(fd, &ch, 1, MSG_DONTWAIT);
    outcome(c, "%s", r < 0 ? sockspec_errno_name(errno) : r == 0 ? "EOF" : "data");
}

CHECK(shut_wr_own_send, "After a's SHUT_WR, a's own send fails with EPIPE.")
{
    shut_then_send(c, SHUT_WR, c->a);
}
INSTANTIATE(shut_wr_own_send, KINDS_TCP)
INSTANTIATE(shut_wr_own_send, KINDS_SP_BLOCKING)

CHECK(shut_wr_reverse_works,
      "After a's SHUT_WR the other direction still works: b sends, a reads it.")
{
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    send_outcome(c, c->b, "back", 4);
    if (strcmp(c->outcome, "ok") == 0)
        recv_outcome(c, c->a, "back");
}
INSTANTIATE(shut_wr_reverse_works, KINDS_TCP)
INSTANTIATE(shut_wr_reverse_works, KINDS_SP_BLOCKING)

/* a's SHUT_WR, then b's receive (waiting up to 1 s): "EOF", data or errno. */
static void peer_after_shut_wr(struct chan *c)
{
    REQUIRE(shutdown(c->a, SHUT_WR) == 0, "shutdown: %s", sockspec_errno_name(errno));
    recv_outcome(c, c->b, NULL);
}

CHECK(shut_wr_peer_eof, "After a's SHUT_WR the connected peer reads end of file.")
{
    peer_after_shut_wr(c);
}
INSTANTIATE(shut_wr_peer_eof, KINDS_TCP)
INSTANTIATE(shut_wr_peer_eof, KINDS_SP_STREAM)
INSTANTIATE(shut_wr_peer_eof, KINDS_SP_SEQPACKET)

CHECK(shut_wr_peer_dgram,
      "After a's SHUT_WR a datagram peer sees no end-of-file: an empty queue stays EAGAIN.")
{
    recv_after_shut(c, SHUT_WR, c->b);
}
INSTANTIATE(shut_wr_peer_dgram, KINDS_SP_DGRAM)

CHECK(shut_rd_forward_works,
      "After a's SHUT_RD the forward direction still works: a sends, b reads it.")
{
    REQUIRE(shutdown(c->a, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    send_outcome(c, c->a, "fwd", 3);
    if (strcmp(c->outcome, "ok") == 0)
        recv_outcome(c, c->b, "fwd");
}
INSTANTIATE(shut_rd_forward_works, KINDS_TCP)
INSTANTIATE(shut_rd_forward_works, KINDS_SP_BLOCKING)

CHECK(shut_rd_own_recv,
      "After a's SHUT_RD, a's recv on its empty queue: end of file (0) or the errno.")
{
    recv_after_shut(c, SHUT_RD, c->a);
}
INSTANTIATE(shut_rd_own_recv, KINDS_SP)

CHECK(shut_rd_peer_send,
      "After a's SHUT_RD, b's send toward a: accepted (the count) or refused (the errno).")
{
    shut_then_send(c, SHUT_RD, c->b);
}
INSTANTIATE(shut_rd_peer_send, KINDS_TCP)
INSTANTIATE(shut_rd_peer_send, KINDS_SP_BLOCKING)

CHECK(shut_rd_queued_data,
      "Data queued for a before a's SHUT_RD: still readable (\"data\") or discarded (\"EOF\").")
{
    xsend_all(c->b, "abc", 3);
    REQUIRE(poll_events(c->a, POLLIN, 1000) & POLLIN, "data never arrived");
    REQUIRE(shutdown(c->a, SHUT_RD) == 0, "shutdown: %s", sockspec_errno_name(errno));
    recv_outcome(c, c->a, "abc");
}
INSTANTIATE(shut_rd_queued_data, KINDS_SP_BLOCKING)

CHECK(shut_rdwr_both_queued_data,
      "Data queued for b survives SHUT_RDWR on both ends: b still reads it.")
{
    xsend_all(c->a, "abc", 3);
    REQUIRE(poll_events(c->b, POLLIN, 1000) & POLLIN, "data never arrived");
    REQUIRE(shutdown(c->a, SHUT_RDWR) == 0, "shutdown a: %s", sockspec_errno_name(errno));
    /* Some OSes refuse the second shutdown (the read side is already shut): recorded. */
    int rb = shutdown(c->b, SHUT_RDWR), eb = errno;
    recv_outcome(c, c->b, "abc");
    if (rb != 0) {
        char got[OUTCOME_MAX];
        snprintf(got, sizeof got, "%s", c->outcome);
        outcome(c, "shutdown b %s,%s", sockspec_errno_name(eb), got);
    }
}
INSTANTIATE(shut_rdwr_both_queued_data, KINDS_SP_BLOCKING)

#define SIMUL_MSGS 4
#define SIMUL_LEN 512

CHECK(simultaneous_within_buffer,
      "Both ends write 4 x 512 bytes before either reads (within every OS's default buffers), then "
      "both read: each side gets exactly the other's bytes, in order.")
{
    char out[2][SIMUL_MSGS][SIMUL_LEN], in[SIMUL_LEN];
    int fds[2] = {c->a, c->b};
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < SIMUL_MSGS; m++) {
            fill_pattern(out[s][m], SIMUL_LEN, (uint32_t)(s * 16 + m + 1));
            xsend_all(fds[s], out[s][m], SIMUL_LEN);
        }
    int bad = 0;
    for (int s = 0; s < 2; s++)
        for (int m = 0; m < SIMUL_MSGS; m++) {
            xrecv_exact(fds[1 - s], in, SIMUL_LEN);
            bad += memcmp(in, out[s][m], SIMUL_LEN) != 0;
        }
    outcome(c, "%s", bad ? "corrupted" : "ok");
}
INSTANTIATE(simultaneous_within_buffer, KINDS_SOCKETS)

#define DUPLEX_BYTES (1u << 20)
#define DUPLEX_CHUNK 16384u

/* DUPLEX_BYTES of pattern, one fill_pattern run of seed + i per 16 KiB chunk i. */
static unsigned char *duplex_data(uint32_t seed)
{
    unsigned char *d = malloc(DUPLEX_BYTES);
    REQUIRE(d != NULL);
    for (size_t done = 0; done < DUPLEX_BYTES; done += DUPLEX_CHUNK)
        fill_pattern(d + done, DUPLEX_CHUNK, seed + (uint32_t)(done / DUPLEX_CHUNK));
    return d;
}

CHECK(concurrent_full_duplex,
      "Both directions at once: two writer threads push 1 MiB each way while the main thread reads "
      "both ends; both byte streams arrive complete and in order.")
{
    unsigned char *data[2] = {duplex_data(100), duplex_data(200)};
    struct writer w[2];
    int rd[2] = {c->b, c->a};
    size_t got[2] = {0, 0};
    uint64_t hash[2] = {0, 0};
    static char buf[65536];
    xset_nonblock(c->a, 1);
    xset_nonblock(c->b, 1);
    writer_start(&w[0], c->a, data[0], DUPLEX_BYTES, DUPLEX_CHUNK);
    writer_start(&w[1], c->b, data[1], DUPLEX_BYTES, DUPLEX_CHUNK);
    int stalled = 0;
    while ((got[0] < DUPLEX_BYTES || got[1] < DUPLEX_BYTES) && !stalled) {
        struct pollfd p[2] = {{.fd = rd[0], .events = POLLIN}, {.fd = rd[1], .events = POLLIN}};
        int r = poll(p, 2, 5000);
        if (r == 0)
            stalled = 1;
        for (int i = 0; i < 2 && r > 0; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = recv(rd[i], buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) {
                hash[i] = fnv1a(buf, (size_t)n, hash[i]);
                got[i] += (size_t)n;
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                stalled = 1;
            }
        }
    }
    int e0 = writer_join(&w[0]), e1 = writer_join(&w[1]);
    EXPECT(e0 == 0 && e1 == 0, "writers: %s, %s", sockspec_errno_name(e0), sockspec_errno_name(e1));
    if (got[0] != DUPLEX_BYTES || got[1] != DUPLEX_BYTES)
        outcome(c, "short: %zu and %zu bytes", got[0], got[1]);
    else if (hash[0] != fnv1a(data[0], DUPLEX_BYTES, 0) ||
             hash[1] != fnv1a(data[1], DUPLEX_BYTES, 0))
        outcome(c, "corrupted");
    else
        outcome(c, "ok");
    free(data[0]);
    free(data[1]);
}
INSTANTIATE(concurrent_full_duplex, KINDS_TCP4)
INSTANTIATE(concurrent_full_duplex, KINDS_SP_STREAM_NB)
INSTANTIATE(concurrent_full_duplex, KINDS_SP_STREAM_ONLY)
