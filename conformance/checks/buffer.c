/*
 * Buffering and capacity: what is kept until read, what the send and receive buffers hold,
 * what their options read back, and how full and empty buffers answer (EAGAIN, timeouts).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"

#define CATEGORY buffer

/* ---- data is kept ---------------------------------------------------------------------- */

CHECK(kept_until_read,
      "Three writes made before the reader reads are all still there, in order: \"ok\".")
{
    unsigned char out[3][100], in[100];
    for (int i = 0; i < 3; i++) {
        fill_pattern(out[i], sizeof out[i], (uint32_t)i + 7);
        xsend_all(c->a, out[i], sizeof out[i]);
    }
    const char *res = "ok";
    for (int i = 0; i < 3; i++) {
        xrecv_exact(c->b, in, sizeof in);
        if (memcmp(in, out[i], sizeof in) != 0)
            res = "corrupted";
    }
    outcome(c, "%s", res);
}
INSTANTIATE(kept_until_read, KINDS_MIX_EVERYTHING)

/* Sends 100 bytes, closes the writer, then reads twice (non-blocking): "<n>,<second>". */
static void kept_after_close(struct chan *c)
{
    unsigned char out[100], in[200];
    fill_pattern(out, sizeof out, 11);
    xsend_all(c->a, out, sizeof out);
    xclose(&c->a);
    settle_tcp(c, c->b);
    ssize_t n = read_nb(c, c->b, in, sizeof in, 0);
    if (n < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    EXPECT(n != (ssize_t)sizeof out || memcmp(in, out, sizeof out) == 0, "data corrupted");
    settle_tcp(c, c->b); /* the FIN may follow the data */
    outcome(c, "%zd,%s", n, ret_str(read_nb(c, c->b, in, sizeof in, 0)).s);
}

CHECK(kept_after_writer_close, "Data sent before the writer closes stays readable; a second read "
                               "then gives end of file (0) or an errno: \"100,<second>\".")
{
    kept_after_close(c);
}
INSTANTIATE(kept_after_writer_close, KINDS_PIPES)
INSTANTIATE(kept_after_writer_close, KINDS_TCP)
INSTANTIATE(kept_after_writer_close, KINDS_UNIX)

/* ---- defaults and option read-back ----------------------------------------------------- */

/* Records SO_SNDBUF or SO_RCVBUF of a; both ends agree and it is positive. */
static void buf_default(struct chan *c, int opt)
{
    int va = xsockopt_int(c->a, SOL_SOCKET, opt), vb = xsockopt_int(c->b, SOL_SOCKET, opt);
    EXPECT(va > 0, "default %d not positive", va);
    EXPECT(va == vb, "the two ends differ: %d and %d", va, vb);
    outcome(c, "%d", va);
}

CHECK(sndbuf_default, "Default SO_SNDBUF of an AF_UNIX end (recorded; the OS sets it).")
{
    buf_default(c, SO_SNDBUF);
}
INSTANTIATE(sndbuf_default, KINDS_SP_PLAIN)
INSTANTIATE(sndbuf_default, KINDS_SP_NONBLOCKING)

CHECK(rcvbuf_default, "Default SO_RCVBUF of an AF_UNIX end (recorded; the OS sets it).")
{
    buf_default(c, SO_RCVBUF);
}
INSTANTIATE(rcvbuf_default, KINDS_SP_PLAIN)
INSTANTIATE(rcvbuf_default, KINDS_SP_NONBLOCKING)

CHECK(sndbuf_set_readback,
      "SO_SNDBUF = 65536 reads back doubled on Linux (131072), as set elsewhere (65536).")
{
    sockopt_set_readback(c, SO_SNDBUF, 65536);
}
INSTANTIATE(sndbuf_set_readback, KINDS_SP_PLAIN)

CHECK(sndbuf_on_pipe, "SO_SNDBUF on a pipe end: not a socket, ENOTSOCK.")
{
    outcome_ok(c, setsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, 65536));
}
INSTANTIATE(sndbuf_on_pipe, KINDS_PIPE)

CHECK(rcvbuf_set_readback,
      "SO_RCVBUF = 65536 reads back doubled on Linux (131072), as set elsewhere (65536).")
{
    sockopt_set_readback(c, SO_RCVBUF, 65536);
}
INSTANTIATE(rcvbuf_set_readback, KINDS_SP_PLAIN)

CHECK(sndbuf_min_clamp,
      "SO_SNDBUF = 1 is raised to a minimum (Linux: 4608 on x86_64); the value is recorded.")
{
    sockopt_set_readback(c, SO_SNDBUF, 1);
}
INSTANTIATE(sndbuf_min_clamp, KINDS_SP_PLAIN)

/* Sets opt to 0 and records "min" if it reads back as setting 1 does, else the value or errno. */
static void zero_is_min(struct chan *c, int opt)
{
    if (setsockopt_int(c->a, SOL_SOCKET, opt, 0) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    int got = xsockopt_int(c->a, SOL_SOCKET, opt);
    REQUIRE(setsockopt_int(c->a, SOL_SOCKET, opt, 1) == 0);
    int min = xsockopt_int(c->a, SOL_SOCKET, opt);
    if (got == min)
        outcome(c, "min");
    else
        outcome(c, "%d", got);
}

CHECK(sndbuf_zero, "SO_SNDBUF = 0: Linux clamps it to the same minimum as 1: \"min\".")
{
    zero_is_min(c, SO_SNDBUF);
}
INSTANTIATE(sndbuf_zero, KINDS_SP_PLAIN)

CHECK(rcvbuf_zero,
      "SO_RCVBUF = 0: Linux clamps it to its minimum (2304 on x86_64), as for 1: \"min\".")
{
    zero_is_min(c, SO_RCVBUF);
}
INSTANTIATE(rcvbuf_zero, KINDS_SP_PLAIN)

/* Sets SO_SNDBUF of a to v: 0 and the value read back, or the errno name recorded and -1. */
static int set_sndbuf(struct chan *c, int v, int *got)
{
    if (setsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, v) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return -1;
    }
    *got = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    return 0;
}

CHECK(sndbuf_intmax,
      "SO_SNDBUF = INT_MAX: Linux caps it at 2 x wmem_max (\"capped\"); else the errno of the set.")
{
    int got;
    if (set_sndbuf(c, INT_MAX, &got) < 0)
        return;
    EXPECT(got > 0, "read back %d", got);
    outcome(c, "%s", got == INT_MAX ? "as set" : got < INT_MAX ? "capped" : "other");
}
INSTANTIATE(sndbuf_intmax, KINDS_SP_PLAIN)

CHECK(sndbuf_negative, "SO_SNDBUF = -1: Linux reads it as unsigned and caps it like INT_MAX "
                       "(\"max\"); \"min\", or errno.")
{
    int got;
    if (set_sndbuf(c, -1, &got) < 0)
        return;
    int max = setsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, INT_MAX) == 0
                  ? xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF)
                  : -1;
    REQUIRE(setsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, 1) == 0);
    int min = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    if (got == max)
        outcome(c, "max");
    else if (got == min)
        outcome(c, "min");
    else
        outcome(c, "%d", got);
}
INSTANTIATE(sndbuf_negative, KINDS_SP_PLAIN)

CHECK(sndbuf_readback_while_queued,
      "SO_SNDBUF of a stream sender with unsent data queued reads back unchanged on Linux.")
{
    int before = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    char buf[2048];
    memset(buf, 'q', sizeof buf);
    xsend_all(c->a, buf, sizeof buf);
    int after = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    outcome(c, "%s", after == before ? "unchanged" : "changed");
}
INSTANTIATE(sndbuf_readback_while_queued, KINDS_BL_STREAM)

/* ---- filling a non-blocking sender ---------------------------------------------------- */

/* Fills with chunk-byte writes and records the bytes (or messages) that fit before failing. */
/* Fills with writes of want bytes (of the largest message size that fits, if the OS takes
 * smaller messages only: then the size is recorded too) and records the bytes, or the
 * messages, that fit before the sender stopped. */
static void fill_count(struct chan *c, size_t want, int messages)
{
    int err;
    size_t chunk = message_chunk(c, want);
    size_t n = fill_nb(c->a, chunk, &err);
    EXPECT(err == 0 || err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill stopped by %s",
           sockspec_errno_name(err));
    EXPECT(n > 0, "nothing fitted");
    size_t got = drain_nb(c, c->b, 0, NULL);
    EXPECT(got == n, "wrote %zu, read back %zu", n, got);
    size_t count = messages ? n / chunk : n;
    if (err == 0) /* the fill's own bound stopped it: the buffer holds at least this much */
        outcome(c, "at least %zu (never full)", count);
    else if (chunk == want)
        outcome(c, "%zu", count);
    else
        outcome(c, "%zu of %zu bytes", count, chunk);
}

CHECK(fill_1byte, "What fits with 1-byte writes before a non-blocking sender stops: bytes on byte "
                  "streams, messages on message kinds (recorded).")
{
    fill_count(c, 1, is_message_kind(c));
}
INSTANTIATE(fill_1byte, KINDS_PIPES)
INSTANTIATE(fill_1byte, KINDS_SP_NONBLOCKING)

CHECK(fill_4096, "What fits with 4096-byte writes before a non-blocking sender stops: bytes on "
                 "byte streams, messages on message kinds (recorded).")
{
    fill_count(c, 4096, is_message_kind(c));
}
INSTANTIATE(fill_4096, KINDS_PIPES)
INSTANTIATE(fill_4096, KINDS_SP_NONBLOCKING)

/* Records the errno that stops a non-blocking sender on a full buffer. */
static void full_errno(struct chan *c)
{
    int err;
    size_t n = fill_nb(c->a, 512, &err);
    EXPECT(n > 0, "nothing fitted");
    outcome(c, "%s", err ? sockspec_errno_name(err) : "never full");
}

CHECK(full_nonblocking_send, "A non-blocking send on a full buffer fails: the errno.")
{
    full_errno(c);
}
INSTANTIATE(full_nonblocking_send, KINDS_PIPES)
INSTANTIATE(full_nonblocking_send, KINDS_SP_NONBLOCKING)

/* Fill with 512-byte sends, raise SO_SNDBUF fourfold, send 512 again: "ok" or the errno. */
static void raise_unblocks(struct chan *c)
{
    int err;
    char buf[512];
    memset(buf, 'r', sizeof buf);
    /* Read before the fill: some OSes lower the value read back as the buffer fills. */
    int cur = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    fill_nb(c->a, sizeof buf, &err);
    REQUIRE(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill stopped by %s",
            sockspec_errno_name(err));
    if (setsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, cur * 4) < 0) {
        outcome(c, "setsockopt %s", sockspec_errno_name(errno));
        return;
    }
    ssize_t r = send(c->a, buf, sizeof buf, MSG_DONTWAIT | ss_nosignal);
    outcome(c, "%s",
            r == (ssize_t)sizeof buf ? "ok"
            : r < 0                  ? sockspec_errno_name(errno)
                                     : "short");
}

CHECK(raise_sndbuf_unblocks, "Raising SO_SNDBUF on a full non-blocking sender lets the next send "
                             "succeed: \"ok\", or the errno.")
{
    raise_unblocks(c);
}
INSTANTIATE(raise_sndbuf_unblocks, KINDS_SP_NONBLOCKING)

CHECK(shrink_sndbuf_below_queued,
      "STREAM: shrinking SO_SNDBUF below what is queued makes the next send EAGAIN.")
{
    char buf[16384];
    memset(buf, 's', sizeof buf);
    /* Queue a quarter of the send buffer (at most 16 KiB), which every OS takes whole. */
    size_t n = (size_t)xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF) / 4;
    n = n < sizeof buf ? n : sizeof buf;
    ssize_t r = send(c->a, buf, n, MSG_DONTWAIT | ss_nosignal);
    REQUIRE(r == (ssize_t)n, "first send of %zu: %zd (%s)", n, r, sockspec_errno_name(errno));
    REQUIRE(setsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, 1) == 0);
    r = send(c->a, buf, 1, MSG_DONTWAIT | ss_nosignal);
    outcome_ret(c, r);
}
INSTANTIATE(shrink_sndbuf_below_queued, KINDS_SP_STREAM_NB)

/* ---- blocking sends on a full buffer --------------------------------------------------- */

/*
 * Fills a with 4096-byte writes, then a helper drains b while a blocking 4096-byte send
 * waits for room: records the send's return.
 */
static void blocking_resumes(struct chan *c)
{
    char buf[4096];
    int err;
    size_t chunk = message_chunk(c, sizeof buf);
    memset(buf, 'b', sizeof buf);
    fill_nb(c->a, chunk, &err);
    REQUIRE(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill stopped by %s",
            sockspec_errno_name(err));
    /* A send that waits is let go by a watchdog that drains the peer after 300 ms; one that
     * fails at once records its errno; one that is never woken records "blocked". */
    outcome_guarded(c, send_guarded(c->a, buf, chunk, 0, c->b, 300, 1, NULL));
}

CHECK(blocking_send_resumes, "A blocking send on a full buffer waits and completes once the peer "
                             "reads: the bytes sent, or the errno.")
{
    blocking_resumes(c);
}
INSTANTIATE(blocking_send_resumes, KINDS_PIPE)
INSTANTIATE(blocking_send_resumes, KINDS_BL_STREAM)
INSTANTIATE(blocking_send_resumes, KINDS_BL_DGRAM)
INSTANTIATE(blocking_send_resumes, KINDS_MIX_SEQPACKET_BLOCKING)

/* Fills a, sets SO_SNDTIMEO to 20 ms and records the blocking send's errno. */
static void send_until_sndtimeo(struct chan *c)
{
    char buf[4096];
    int err;
    size_t chunk = message_chunk(c, sizeof buf);
    memset(buf, 't', sizeof buf);
    fill_nb(c->a, chunk, &err);
    REQUIRE(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill stopped by %s",
            sockspec_errno_name(err));
    xset_timeo(c->a, SO_SNDTIMEO, 0, 20000);
    /* Should the timeout never expire, a watchdog reads b after 1 s so the send returns. */
    outcome_guarded(
        c, send_guarded(c->a, buf, chunk, ss_nosignal, c->b, 1000, 0, "the timeout never expired"));
}

CHECK(sndtimeo_full, "SO_SNDTIMEO expiring on a full buffer fails the send: the errno.")
{
    send_until_sndtimeo(c);
}
INSTANTIATE(sndtimeo_full, KINDS_BL_STREAM)
INSTANTIATE(sndtimeo_full, KINDS_BL_DGRAM)
INSTANTIATE(sndtimeo_full, KINDS_MIX_SEQPACKET_BLOCKING)

/* ---- empty receivers -------------------------------------------------------------------- */

CHECK(rcvtimeo_empty, "SO_RCVTIMEO of 20 ms on an empty blocking socket: recv fails with EAGAIN.")
{
    char buf[16];
    xset_timeo(c->b, SO_RCVTIMEO, 0, 20000);
    outcome_ret(c,
                recv_guarded(c->b, buf, sizeof buf, 0, c->a, 3000, 0, "the timeout never expired"));
}
INSTANTIATE(rcvtimeo_empty, KINDS_MIX_SOCKETS_BLOCKING)

CHECK(rcvtimeo_usec_overflow, "SO_RCVTIMEO with tv_usec = 1000000 is rejected with EDOM.")
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = 1000000};
    int r = setsockopt(c->b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    outcome_ok(c, r);
}
INSTANTIATE(rcvtimeo_usec_overflow, KINDS_SP_PLAIN)

CHECK(sndtimeo_usec_negative, "SO_SNDTIMEO with tv_usec = -1 is rejected with EDOM.")
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = -1};
    int r = setsockopt(c->a, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    outcome_ok(c, r);
}
INSTANTIATE(sndtimeo_usec_negative, KINDS_SP_PLAIN)

CHECK(rcvtimeo_negative_sec,
      "SO_RCVTIMEO with a negative tv_sec: Linux accepts it and recv times out at once (EAGAIN).")
{
    char buf[16];
    struct timeval tv = {.tv_sec = -1, .tv_usec = 0};
    if (setsockopt(c->b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
        outcome(c, "setsockopt %s", sockspec_errno_name(errno));
        return;
    }
    outcome_ret(c, recv_guarded(c->b, buf, sizeof buf, 0, c->a, 3000, 0, NULL));
}
INSTANTIATE(rcvtimeo_negative_sec, KINDS_SP_PLAIN)

CHECK(rcvtimeo_readback, "SO_RCVTIMEO reads back what was set (20 ms): \"0.020000\".")
{
    xset_timeo(c->b, SO_RCVTIMEO, 0, 20000);
    struct timeval tv;
    socklen_t len = sizeof tv;
    REQUIRE(getsockopt(c->b, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0);
    outcome(c, "%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
}
INSTANTIATE(rcvtimeo_readback, KINDS_SP_PLAIN)

CHECK(empty_nonblocking_read, "read() on an empty non-blocking end fails with EAGAIN.")
{
    char buf[16];
    outcome_ret(c, read(c->b, buf, sizeof buf));
}
INSTANTIATE(empty_nonblocking_read, KINDS_MIX_NONBLOCKING)

CHECK(empty_nonblocking_recv, "recv() on an empty non-blocking socket fails with EAGAIN.")
{
    char buf[16];
    outcome_ret(c, recv(c->b, buf, sizeof buf, 0));
}
INSTANTIATE(empty_nonblocking_recv, KINDS_SP_NONBLOCKING)

CHECK(empty_nonblocking_recvmsg, "recvmsg() on an empty non-blocking socket fails with EAGAIN.")
{
    char buf[16];
    int fl = 0;
    outcome_ret(c, recvmsg_flags(c->b, buf, sizeof buf, 0, &fl));
}
INSTANTIATE(empty_nonblocking_recvmsg, KINDS_SP_NONBLOCKING)

CHECK(empty_dontwait_recv,
      "recv(MSG_DONTWAIT) on an empty blocking socket fails with EAGAIN and leaves it blocking.")
{
    char buf[16];
    ssize_t r = recv(c->b, buf, sizeof buf, MSG_DONTWAIT);
    int e = errno;
    EXPECT(!is_nonblock(c->b), "MSG_DONTWAIT left O_NONBLOCK set");
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(empty_dontwait_recv, KINDS_MIX_SOCKETS_BLOCKING)

CHECK(empty_waitall_dontwait,
      "recv(MSG_WAITALL | MSG_DONTWAIT) on an empty socket fails with EAGAIN.")
{
    char buf[16];
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_WAITALL | MSG_DONTWAIT));
}
INSTANTIATE(empty_waitall_dontwait, KINDS_SP_PLAIN)

/* ---- queue size queries ------------------------------------------------------------------ */

/* Sends the given sizes from a (waiting, bounded, for b to be readable if wait), then records
 * FIONREAD of b or its errno name; "unsupported: FIONREAD" where the OS lacks it. */
static void fionread_after(struct chan *c, size_t n1, size_t n2, int wait)
{
#ifndef SOCKSPEC_HAVE_FIONREAD
    (void)n1, (void)n2, (void)wait;
    UNSUPPORTED(c, "FIONREAD");
#else
    char buf[100];
    memset(buf, 'f', sizeof buf);
    xsend_all(c->a, buf, n1);
    if (n2)
        xsend_all(c->a, buf, n2);
    if (wait)
        REQUIRE(poll_events(c->b, POLLIN, 2000) & POLLIN, "data never arrived");
    int n = -1;
    if (ioctl(c->b, FIONREAD, &n) != 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%d", n);
#endif
}

CHECK(fionread_empty, "FIONREAD on an empty receiver: 0.")
{
    fionread_after(c, 0, 0, 0);
}
INSTANTIATE(fionread_empty, KINDS_MIX_QUEUES)

CHECK(fionread_after_send, "FIONREAD after one 100-byte send: 100.")
{
    fionread_after(c, 100, 0, 1);
}
INSTANTIATE(fionread_after_send, KINDS_MIX_QUEUES)

CHECK(fionread_two_messages,
      "FIONREAD with two messages of 100 and 50 bytes queued: the first only (100) or both (150).")
{
    fionread_after(c, 100, 50, 0);
}
INSTANTIATE(fionread_two_messages, KINDS_SPREAD_DGRAM)
INSTANTIATE(fionread_two_messages, KINDS_SPREAD_SEQPACKET)

/* ---- pipes ------------------------------------------------------------------------------ */

CHECK(pipe_size_fcntl, "F_GETPIPE_SZ reports the pipe's capacity (Linux: 65536); absent elsewhere.")
{
#ifndef SOCKSPEC_HAVE_F_GETPIPE_SZ
    UNSUPPORTED(c, "F_GETPIPE_SZ");
#else
    int r = fcntl(c->a, F_GETPIPE_SZ);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%d", r);
#endif
}
INSTANTIATE(pipe_size_fcntl, KINDS_PIPES)

CHECK(pipe_size_matches_capacity,
      "The measured capacity equals F_GETPIPE_SZ where it exists: \"ok\".")
{
#ifndef SOCKSPEC_HAVE_F_GETPIPE_SZ
    UNSUPPORTED(c, "F_GETPIPE_SZ");
#else
    int sz = fcntl(c->a, F_GETPIPE_SZ);
    REQUIRE(sz > 0, "F_GETPIPE_SZ: %s", sockspec_errno_name(errno));
    int err;
    size_t n = fill_nb(c->a, 4096, &err);
    EXPECT(drain_nb(c, c->b, 0, NULL) == n);
    outcome(c, "%s", n == (size_t)sz ? "ok" : "differs");
#endif
}
INSTANTIATE(pipe_size_matches_capacity, KINDS_PIPES)
