/*
 * Message boundaries on DGRAM, SEQPACKET and UDP: one send is one receive, short buffers
 * truncate, MSG_PEEK / MSG_TRUNC / MSG_WAITALL, zero-length messages, the largest message.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"

#define CATEGORY boundary

/* Sends exactly n bytes as one message from a, fatal otherwise. */
static void tx(struct chan *c, const void *buf, size_t n)
{
    ssize_t r = send(c->a, buf, n, ss_nosignal);
    REQUIRE(r == (ssize_t)n, "send(%zu): %zd %s", n, r,
            r < 0 ? sockspec_errno_name(errno) : "short");
}

/* Sends n bytes of ch as one message from a. */
static void tx_fill(struct chan *c, char ch, size_t n)
{
    char buf[1000];
    REQUIRE(n <= sizeof buf);
    memset(buf, ch, n);
    tx(c, buf, n);
}

/* Waits (bounded) for b to be readable, then receives without blocking. */
static ssize_t rx(struct chan *c, void *buf, size_t n, int flags)
{
    (void)poll_events(c->b, POLLIN, 2000);
    return recv(c->b, buf, n, flags | MSG_DONTWAIT);
}

/* Receives once more without waiting: the errno name, or the length. */
static void append_next(struct chan *c, char *out, size_t len)
{
    char buf[256];
    size_t used = strlen(out);
    snprintf(out + used, len - used, "%s", ret_str(recv(c->b, buf, sizeof buf, MSG_DONTWAIT)).s);
}

/* ---- one send, one receive --------------------------------------------------------------- */

CHECK(one_send_one_recv,
      "Three sends (10, 20, 30 bytes) are three receives, then nothing: \"10,20,30,EAGAIN\".")
{
    char buf[1000], res[64] = "";
    memset(buf, 'm', sizeof buf);
    tx(c, buf, 10);
    tx(c, buf, 20);
    tx(c, buf, 30);
    for (int i = 0; i < 3; i++) {
        struct ret_str r = ret_str(rx(c, buf, sizeof buf, 0));
        size_t used = strlen(res);
        snprintf(res + used, sizeof res - used, "%s,", r.s);
    }
    append_next(c, res, sizeof res);
    outcome(c, "%s", res);
}
INSTANTIATE(one_send_one_recv, KINDS_MIX_MSG_ONE)

CHECK(large_buffer_no_merge,
      "Two 100-byte messages and a 1000-byte buffer: the receive returns only the first, 100.")
{
    char buf[1000];
    memset(buf, 'm', sizeof buf);
    tx(c, buf, 100);
    tx(c, buf, 100);
    outcome_ret(c, rx(c, buf, sizeof buf, 0));
}
INSTANTIATE(large_buffer_no_merge, KINDS_MIX_MSG_ONE)

CHECK(read_write_keep_boundaries,
      "read()/write() keep boundaries as send()/recv() do: read(1000) of two 100s returns 100.")
{
    char buf[1000];
    memset(buf, 'w', sizeof buf);
    REQUIRE(write(c->a, buf, 100) == 100);
    REQUIRE(write(c->a, buf, 100) == 100);
    (void)poll_events(c->b, POLLIN, 2000);
    outcome_ret(c, read(c->b, buf, sizeof buf));
}
INSTANTIATE(read_write_keep_boundaries, KINDS_MIX_MSG_ONE)

/* Message i of order_many_messages: its size, and its bytes in out. */
static size_t nth_message(uint32_t i, unsigned char out[300])
{
    fill_pattern(out, 300, i);
    out[0] = (unsigned char)i;
    return 1 + ((size_t)i * 37) % 300;
}

/* Receives message i and compares it: NULL if intact, else what went wrong. */
static const char *check_nth(struct chan *c, uint32_t i)
{
    unsigned char out[300], in[400];
    size_t want = nth_message(i, out);
    ssize_t r = rx(c, in, sizeof in, 0);
    if (r < 0)
        return sockspec_errno_name(errno);
    if ((size_t)r != want)
        return "merged or split";
    if (memcmp(in, out, want) != 0)
        return in[0] != out[0] ? "reordered" : "corrupted";
    return NULL;
}

CHECK(order_many_messages, "64 messages of varied sizes arrive whole and in order: \"ok\".")
{
    /* Sends all 64 before reading, except that a receiver too small to queue them all is read
     * (oldest first) whenever the sender would have to wait: order is what is measured. */
    unsigned char out[300];
    const char *bad = NULL;
    uint32_t read = 0;
    for (uint32_t i = 0; i < 64 && !bad; i++) {
        size_t n = nth_message(i, out);
        ssize_t r;
        while ((r = send(c->a, out, n, MSG_DONTWAIT | ss_nosignal)) < 0 && read < i && !bad &&
               (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
            bad = check_nth(c, read++);
        REQUIRE(bad || r == (ssize_t)n, "send %u: %s", (unsigned)i,
                r < 0 ? sockspec_errno_name(errno) : "short");
    }
    while (read < 64 && !bad)
        bad = check_nth(c, read++);
    outcome(c, "%s", bad ? bad : "ok");
}
INSTANTIATE(order_many_messages, KINDS_MIX_MSG_ONE)

CHECK(gather_is_one_message,
      "sendmsg() with three iovecs (3 + 4 + 5 bytes) is one 12-byte message: 12.")
{
    char p1[3] = "abc", p2[4] = "defg", p3[5] = "hijkl", in[64];
    struct iovec iov[3] = {{p1, sizeof p1}, {p2, sizeof p2}, {p3, sizeof p3}};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = 3;
    REQUIRE(sendmsg(c->a, &m, ss_nosignal) == 12, "sendmsg: %s", sockspec_errno_name(errno));
    ssize_t r = rx(c, in, sizeof in, 0);
    EXPECT(r != 12 || memcmp(in, "abcdefghijkl", 12) == 0, "bytes out of order");
    outcome_ret(c, r);
}
INSTANTIATE(gather_is_one_message, KINDS_MIX_MSG_ONE)

CHECK(scatter_fills_in_order,
      "A 20-byte message received into iovecs of 5 and 100 bytes fills them in order: 20.")
{
    char out[20], in1[5], in2[100];
    for (int i = 0; i < 20; i++)
        out[i] = (char)('A' + i);
    tx(c, out, sizeof out);
    struct iovec iov[2] = {{in1, sizeof in1}, {in2, sizeof in2}};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    (void)poll_events(c->b, POLLIN, 2000);
    ssize_t r = recvmsg(c->b, &m, MSG_DONTWAIT);
    EXPECT(r != 20 || (memcmp(in1, out, 5) == 0 && memcmp(in2, out + 5, 15) == 0),
           "scatter out of order");
    outcome_ret(c, r);
}
INSTANTIATE(scatter_fills_in_order, KINDS_MIX_MSG_ONE)

/* ---- short buffers and MSG_TRUNC ---------------------------------------------------------- */

CHECK(short_buffer_truncates,
      "A 100-byte message into a 10-byte buffer returns 10 (the first 10 bytes).")
{
    unsigned char out[100], in[10];
    fill_pattern(out, sizeof out, 3);
    tx(c, out, sizeof out);
    ssize_t r = rx(c, in, sizeof in, 0);
    EXPECT(r != 10 || memcmp(in, out, 10) == 0, "not the first bytes");
    outcome_ret(c, r);
}
INSTANTIATE(short_buffer_truncates, KINDS_MIX_MSG_ONE)

CHECK(short_buffer_discards_rest,
      "After a truncated receive the rest is gone: the next non-blocking receive is EAGAIN.")
{
    char buf[100];
    memset(buf, 't', sizeof buf);
    tx(c, buf, sizeof buf);
    REQUIRE(rx(c, buf, 10, 0) == 10);
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(short_buffer_discards_rest, KINDS_MIX_MSG_ONE)

CHECK(short_buffer_next_message,
      "After a truncated receive, the next receive is the next message (5 bytes), not the rest.")
{
    char buf[100];
    memset(buf, 't', sizeof buf);
    tx(c, buf, sizeof buf);
    tx(c, "12345", 5);
    REQUIRE(rx(c, buf, 10, 0) == 10);
    outcome_ret(c, rx(c, buf, sizeof buf, 0));
}
INSTANTIATE(short_buffer_next_message, KINDS_MIX_MSG_ONE)

CHECK(short_recvmsg_sets_trunc, "recvmsg() into a short buffer sets MSG_TRUNC in msg_flags.")
{
    tx_fill(c, 't', 100);
    outcome_msg_flags(c, c->b, 10, 0, 0, 10);
}
INSTANTIATE(short_recvmsg_sets_trunc, KINDS_MIX_MSG_ONE)

CHECK(exact_recvmsg_no_trunc,
      "recvmsg() into a buffer of exactly the message's size does not set MSG_TRUNC: \"0\".")
{
    tx_fill(c, 't', 100);
    outcome_msg_flags(c, c->b, 100, 0, 0, 100);
}
INSTANTIATE(exact_recvmsg_no_trunc, KINDS_MIX_MSG_ONE)

CHECK(recv_trunc_real_length,
      "recv(MSG_TRUNC) into a short buffer returns the real length (Linux: 100).")
{
    char buf[100];
    memset(buf, 't', sizeof buf);
    tx(c, buf, sizeof buf);
    outcome_ret(c, rx(c, buf, 10, MSG_TRUNC));
}
INSTANTIATE(recv_trunc_real_length, KINDS_MIX_MSG_ONE)

CHECK(recv_trunc_consumes,
      "recv(MSG_TRUNC) consumes the message: the next non-blocking receive is EAGAIN.")
{
    char buf[100];
    memset(buf, 't', sizeof buf);
    tx(c, buf, sizeof buf);
    if (rx(c, buf, 10, MSG_TRUNC) < 0) {
        outcome(c, "recv %s", sockspec_errno_name(errno));
        return;
    }
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}
INSTANTIATE(recv_trunc_consumes, KINDS_MIX_MSG_ONE)

/* ---- MSG_PEEK ------------------------------------------------------------------------------ */

CHECK(peek_repeats_first,
      "Two messages (5, 6 bytes): peek, peek, recv, recv return \"5,5,5,6\", the first thrice.")
{
    char in[4][64];
    ssize_t r[4];
    tx(c, "first", 5);
    tx(c, "second", 6);
    struct ret_str s[4];
    r[0] = rx(c, in[0], sizeof in[0], MSG_PEEK);
    s[0] = ret_str(r[0]);
    r[1] = rx(c, in[1], sizeof in[1], MSG_PEEK);
    s[1] = ret_str(r[1]);
    r[2] = rx(c, in[2], sizeof in[2], 0);
    s[2] = ret_str(r[2]);
    r[3] = rx(c, in[3], sizeof in[3], 0);
    s[3] = ret_str(r[3]);
    for (int i = 0; i < 3; i++)
        EXPECT(r[i] != 5 || memcmp(in[i], "first", 5) == 0, "receive %d not the first", i);
    EXPECT(r[3] != 6 || memcmp(in[3], "second", 6) == 0, "last receive not the second");
    outcome(c, "%s,%s,%s,%s", s[0].s, s[1].s, s[2].s, s[3].s);
}
INSTANTIATE(peek_repeats_first, KINDS_MIX_MSG_ONE)

CHECK(peek_short_keeps_whole,
      "A short MSG_PEEK keeps the whole message: peek(10) then recv(1000) give \"10,100\".")
{
    char buf[1000];
    memset(buf, 'p', sizeof buf);
    tx(c, buf, 100);
    struct ret_str p = ret_str(rx(c, buf, 10, MSG_PEEK));
    struct ret_str r = ret_str(rx(c, buf, sizeof buf, 0));
    outcome(c, "%s,%s", p.s, r.s);
}
INSTANTIATE(peek_short_keeps_whole, KINDS_MIX_MSG_ONE)

CHECK(peek_short_sets_trunc,
      "A short recvmsg(MSG_PEEK) sets MSG_TRUNC in msg_flags as a consuming one does.")
{
    tx_fill(c, 'p', 100);
    outcome_msg_flags(c, c->b, 10, MSG_PEEK, 0, 10);
}
INSTANTIATE(peek_short_sets_trunc, KINDS_MIX_MSG_ONE)

CHECK(peek_trunc_real_length,
      "MSG_PEEK | MSG_TRUNC returns the real length and consumes nothing: \"100,100\".")
{
    char buf[1000];
    memset(buf, 'p', sizeof buf);
    tx(c, buf, 100);
    struct ret_str p = ret_str(rx(c, buf, 10, MSG_PEEK | MSG_TRUNC));
    struct ret_str r = ret_str(rx(c, buf, sizeof buf, 0));
    outcome(c, "%s,%s", p.s, r.s);
}
INSTANTIATE(peek_trunc_real_length, KINDS_MIX_MSG_ONE)

/* ---- zero-length messages and zero-length buffers ---------------------------------------- */

/* Sends an empty message then a 5-byte one and records both receives: "0,5". */
static void zero_then_five(struct chan *c)
{
    char buf[64] = {0};
    ssize_t s = send(c->a, buf, 0, ss_nosignal);
    REQUIRE(s == 0, "zero-length send: %s", s < 0 ? sockspec_errno_name(errno) : "not 0");
    tx(c, "12345", 5);
    ssize_t r1 = rx(c, buf, sizeof buf, 0);
    if (r1 < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    outcome(c, "%zd,%s", r1, ret_str(rx(c, buf, sizeof buf, 0)).s);
}

CHECK(zero_length, "A zero-length message reads as a 0-length receive and the next message follows "
                   "intact: \"0,5\".")
{
    zero_then_five(c);
}
INSTANTIATE(zero_length, KINDS_UDP6)
INSTANTIATE(zero_length, KINDS_REP_DGRAM)
INSTANTIATE(zero_length, KINDS_MIX_SEQPACKET)

CHECK(zero_length_readable, "A queued zero-length message makes the receiver readable: \"POLLIN\".")
{
    char buf[1] = {0};
    REQUIRE(send(c->a, buf, 0, ss_nosignal) == 0, "zero-length send: %s",
            sockspec_errno_name(errno));
    int ev = poll_events(c->b, POLLIN, 1000);
    outcome(c, "%s", ev & POLLIN ? "POLLIN" : ev ? "other" : "none");
}
INSTANTIATE(zero_length_readable, KINDS_MIX_MSG_ONE)

CHECK(zero_iov_sets_trunc,
      "recvmsg() with a zero-length iovec into a 10-byte message: \"0,MSG_TRUNC\".")
{
    char buf[10], fs[64];
    memset(buf, 'z', sizeof buf);
    tx(c, buf, sizeof buf);
    (void)poll_events(c->b, POLLIN, 2000);
    int fl = 0;
    ssize_t r = recvmsg_flags(c->b, buf, 0, MSG_DONTWAIT, &fl);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%zd,%s", r, msg_flags_str(fl, fs, sizeof fs));
}
INSTANTIATE(zero_iov_sets_trunc, KINDS_MIX_MSG_ONE)

/* A 10-byte message received with a zero-length iovec and flags, then the next receive. */
static void after_zero_iov(struct chan *c, int flags)
{
    char buf[10];
    tx_fill(c, 'z', sizeof buf);
    (void)poll_events(c->b, POLLIN, 2000);
    int fl = 0;
    REQUIRE(recvmsg_flags(c->b, buf, 0, flags | MSG_DONTWAIT, &fl) >= 0);
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_DONTWAIT));
}

CHECK(zero_iov_consumes,
      "A zero-length-iovec receive consumes the message: the next receive is EAGAIN.")
{
    after_zero_iov(c, 0);
}
INSTANTIATE(zero_iov_consumes, KINDS_MIX_MSG_ONE)

CHECK(zero_iov_peek_keeps,
      "A zero-length-iovec MSG_PEEK keeps the message: the next receive returns it, 10.")
{
    after_zero_iov(c, MSG_PEEK);
}
INSTANTIATE(zero_iov_peek_keeps, KINDS_MIX_MSG_ONE)

/* ---- the largest message ------------------------------------------------------------------- */

/*
 * The largest message a sends on an empty pair, by bisection with non-blocking sends:
 * success means it fits (each is drained), EMSGSIZE means too large.
 */
/* The largest message an empty pair takes in one non-blocking send, by bisection; 0 with the
 * count in *partial when a send is taken in part instead (no message size limit: FreeBSD 15
 * SEQPACKET without MSG_EOR behaves as a stream). */
static size_t largest_message(struct chan *c, ssize_t *partial)
{
    size_t lo = 0, hi = 8u << 20; /* lo fits, hi does not */
    char *buf = calloc(1, hi);
    REQUIRE(buf != NULL);
    *partial = 0;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        ssize_t r = send(c->a, buf, mid, MSG_DONTWAIT | ss_nosignal);
        if (r < 0 && errno == EMSGSIZE) {
            hi = mid;
            continue;
        }
        if (r > 0 && r < (ssize_t)mid) {
            *partial = r;
            lo = 0;
            break;
        }
        REQUIRE(r == (ssize_t)mid, "send(%zu): %s", mid,
                r < 0 ? sockspec_errno_name(errno) : "nothing");
        ssize_t got = rx(c, buf, hi, 0);
        REQUIRE(got == (ssize_t)mid, "drain %zu: %zd", mid, got);
        lo = mid;
    }
    free(buf);
    return lo;
}

/* "no limit: a send took N bytes" when messages have no size limit. */
static int no_limit_outcome(struct chan *c, ssize_t partial)
{
    if (partial > 0)
        outcome(c, "no limit: a send took %zd bytes", partial);
    return partial > 0;
}

/* Records the largest message (observed). */
static void largest_outcome(struct chan *c)
{
    ssize_t partial;
    size_t max = largest_message(c, &partial);
    if (no_limit_outcome(c, partial))
        return;
    EXPECT(max > 0);
    outcome(c, "%zu", max);
}

/* Records SO_SNDBUF minus the largest message. */
static void largest_vs_sndbuf_outcome(struct chan *c)
{
    ssize_t partial;
    size_t max = largest_message(c, &partial);
    if (no_limit_outcome(c, partial))
        return;
    outcome(c, "%ld", (long)xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF) - (long)max);
}

CHECK(max_message, "The largest message an empty pair accepts in one send (recorded).")
{
    largest_outcome(c);
}
INSTANTIATE(max_message, KINDS_REP_DGRAM)
INSTANTIATE(max_message, KINDS_MIX_SEQPACKET)

CHECK(max_message_vs_sndbuf,
      "SO_SNDBUF minus the largest message an empty pair accepts in one send.")
{
    largest_vs_sndbuf_outcome(c);
}
INSTANTIATE(max_message_vs_sndbuf, KINDS_REP_DGRAM)
INSTANTIATE(max_message_vs_sndbuf, KINDS_MIX_SEQPACKET)

CHECK(beyond_max_emsgsize,
      "One byte beyond the largest message fails with EMSGSIZE (not EAGAIN), even when empty.")
{
    ssize_t partial;
    size_t max = largest_message(c, &partial);
    if (no_limit_outcome(c, partial))
        return;
    char *buf = calloc(1, max + 1);
    REQUIRE(buf != NULL);
    ssize_t r = send(c->a, buf, max + 1, MSG_DONTWAIT | ss_nosignal);
    free(buf);
    outcome_ret(c, r);
}
INSTANTIATE(beyond_max_emsgsize, KINDS_MIX_MSG_UNIX)

CHECK(udp_64k_emsgsize, "UDP: a 65536-byte payload exceeds the IP length field: EMSGSIZE.")
{
    char *buf = calloc(1, 65536);
    REQUIRE(buf != NULL);
    raise_sndbuf(c->a, 65536 + 1024);
    ssize_t r = send(c->a, buf, 65536, MSG_DONTWAIT | ss_nosignal);
    free(buf);
    outcome_ret(c, r);
}
INSTANTIATE(udp_64k_emsgsize, KINDS_UDP)

/* ---- flags -------------------------------------------------------------------------------- */

CHECK(waitall_no_join,
      "MSG_WAITALL with a larger buffer returns one message without joining the next: 10.")
{
    char buf[100];
    memset(buf, 'w', sizeof buf);
    tx(c, buf, 10);
    tx(c, buf, 10);
    REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN);
    outcome_guarded(c, recv_guarded(c->b, buf, sizeof buf, MSG_WAITALL, c->a, 1000, 1,
                                    "MSG_WAITALL waited for more"));
}
INSTANTIATE(waitall_no_join, KINDS_MIX_MSG_BLOCKING_IP)

/* Records msg_flags after a successful full-size recvmsg that started with stale bits set. */
static void flags_cleared(struct chan *c)
{
    tx_fill(c, 'f', 100);
    outcome_msg_flags(c, c->b, 100, 0, MSG_TRUNC | MSG_CTRUNC | MSG_OOB | MSG_EOR, 100);
}

CHECK(msg_flags_cleared,
      "recvmsg rewrites msg_flags on success, clearing stale input bits: the flags it leaves.")
{
    flags_cleared(c);
}
INSTANTIATE(msg_flags_cleared, KINDS_UDP6)
INSTANTIATE(msg_flags_cleared, KINDS_REP_DGRAM)
INSTANTIATE(msg_flags_cleared, KINDS_MIX_SEQPACKET)

CHECK(msg_flags_untouched_on_failure,
      "A failing recvmsg (EAGAIN) leaves msg_flags as the caller set it: \"untouched\".")
{
    char buf[16];
    int fl = MSG_TRUNC | MSG_CTRUNC;
    ssize_t r = recvmsg_flags(c->b, buf, sizeof buf, MSG_DONTWAIT, &fl);
    REQUIRE(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "recvmsg on empty: %zd", r);
    outcome(c, "%s", fl == (MSG_TRUNC | MSG_CTRUNC) ? "untouched" : "changed");
}
INSTANTIATE(msg_flags_untouched_on_failure, KINDS_MIX_MSG_ONE)

CHECK(oob_send, "send(MSG_OOB) of one byte on AF_UNIX: accepted (1) or refused (the errno).")
{
    ssize_t r = send(c->a, "x", 1, MSG_OOB | MSG_DONTWAIT | ss_nosignal);
    outcome_ret(c, r);
}
INSTANTIATE(oob_send, KINDS_MIX_MSG_ONE)
INSTANTIATE(oob_send, KINDS_MIX_STREAM)

CHECK(oob_recv,
      "recv(MSG_OOB) on an AF_UNIX message socket with data queued fails with EOPNOTSUPP.")
{
    char buf[16];
    tx(c, "x", 1);
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_OOB | MSG_DONTWAIT));
}
INSTANTIATE(oob_recv, KINDS_MIX_MSG_UNIX)

CHECK(sendto_addr_connected_seqpacket,
      "SEQPACKET: sendto() with an address on a connected pair; Linux ignores it: \"5\" delivered.")
{
    struct sockaddr_un sun;
    socklen_t len = nowhere_addr(&sun);
    char buf[16];
    ssize_t r = sendto(c->a, "hello", 5, ss_nosignal, (struct sockaddr *)&sun, len);
    if (r < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    outcome_ret(c, rx(c, buf, sizeof buf, 0));
}
INSTANTIATE(sendto_addr_connected_seqpacket, KINDS_MIX_SEQPACKET)

CHECK(sendto_addr_connected, "sendto() naming a path that does not exist, on a connected AF_UNIX "
                             "socket: the count, or the errno.")
{
    struct sockaddr_un sun;
    socklen_t len = nowhere_addr(&sun);
    ssize_t r = sendto(c->a, "hello", 5, ss_nosignal, (struct sockaddr *)&sun, len);
    outcome_ret(c, r);
}
INSTANTIATE(sendto_addr_connected, KINDS_REP_DGRAM)
INSTANTIATE(sendto_addr_connected, KINDS_MIX_STREAM)
