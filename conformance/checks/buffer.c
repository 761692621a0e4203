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

/* Kind lists of this file: one or two kinds per origin where the behaviour should not vary. */
#define B_STREAM(X, c) X(c, sp_stream) X(c, sp_stream_nb_sw) X(c, fs_stream) X(c, abs_stream_sw)
#define B_DGRAM(X, c) X(c, sp_dgram) X(c, sp_dgram_nb_sw) X(c, fs_dgram_sw) X(c, abs_dgram)
#define B_SEQPACKET(X, c)                                                                          \
    X(c, sp_seqpacket) X(c, sp_seqpacket_nb_sw) X(c, fs_seqpacket) X(c, abs_seqpacket_sw)
#define B_SP_ONE(X, c) X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket)
#define B_KEEP(X, c)                                                                               \
    X(c, sp_stream)                                                                                \
    X(c, sp_dgram_sw)                                                                              \
    X(c, sp_seqpacket_nb)                                                                          \
    X(c, fs_stream_sw) X(c, abs_dgram) X(c, tcp4) X(c, udp6) X(c, pipe) X(c, pipe_nb)
#define B_PIPE_BL(X, c) X(c, pipe)
#define B_DEF_STREAM(X, c) X(c, sp_stream) X(c, sp_stream_nb_sw)
#define B_DEF_DGRAM(X, c) X(c, sp_dgram) X(c, sp_dgram_nb_sw)
#define B_DEF_SEQPACKET(X, c) X(c, sp_seqpacket) X(c, sp_seqpacket_nb_sw)
#define B_NB_SOCK(X, c) X(c, sp_stream_nb_sw) X(c, sp_dgram_nb) X(c, sp_seqpacket_nb_sw)
#define B_NB_STREAM(X, c) X(c, sp_stream_nb) X(c, sp_stream_nb_sw)
#define B_NB_DGRAM(X, c) X(c, sp_dgram_nb) X(c, sp_dgram_nb_sw)
#define B_NB_SEQPACKET(X, c) X(c, sp_seqpacket_nb) X(c, sp_seqpacket_nb_sw)
#define B_BL_STREAM(X, c) X(c, sp_stream) X(c, sp_stream_sw) X(c, fs_stream)
#define B_BL_DGRAM(X, c) X(c, sp_dgram) X(c, sp_dgram_sw) X(c, fs_dgram)
#define B_BL_SEQPACKET(X, c) X(c, sp_seqpacket) X(c, sp_seqpacket_sw) X(c, abs_seqpacket)
#define B_NB_ALL(X, c) X(c, sp_stream_nb) X(c, sp_dgram_nb_sw) X(c, sp_seqpacket_nb) X(c, pipe_nb)
#define B_BL_SOCK(X, c)                                                                            \
    X(c, sp_stream) X(c, sp_dgram_sw) X(c, sp_seqpacket) X(c, fs_stream_sw) X(c, tcp4) X(c, udp4)
#define B_FIONREAD(X, c)                                                                           \
    X(c, sp_stream)                                                                                \
    X(c, sp_dgram) X(c, sp_seqpacket) X(c, fs_dgram_sw) X(c, tcp6) X(c, udp4) X(c, pipe)

/* ---- data is kept ---------------------------------------------------------------------- */

/* Three writes made before the reader reads are all still there, in order: "ok". */
CHECK(kept_until_read)
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
INSTANTIATE(kept_until_read, B_KEEP)

/* Sends 100 bytes, closes the writer, then reads twice (non-blocking): "<n>,<second>". */
static void kept_after_close(struct chan *c)
{
    unsigned char out[100], in[200];
    fill_pattern(out, sizeof out, 11);
    xsend_all(c->a, out, sizeof out);
    xclose(&c->a);
    ssize_t n = read_nb(c, c->b, in, sizeof in, 0);
    if (n < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    cr_expect(n != (ssize_t)sizeof out || memcmp(in, out, sizeof out) == 0, "data corrupted");
    outcome(c, "%zd,%s", n, ret_str(read_nb(c, c->b, in, sizeof in, 0)).s);
}

/* STREAM: data sent before close() stays readable, then EOF: "100,0". */
CHECK(kept_after_writer_close_stream)
{
    kept_after_close(c);
}
INSTANTIATE(kept_after_writer_close_stream, B_STREAM)
INSTANTIATE(kept_after_writer_close_stream, KINDS_TCP)

/* SEQPACKET: the message sent before close() stays readable, then EOF: "100,0". */
CHECK(kept_after_writer_close_seqpacket)
{
    kept_after_close(c);
}
INSTANTIATE(kept_after_writer_close_seqpacket, B_SEQPACKET)

/* DGRAM: the datagram sent before close() stays readable; then no EOF, EAGAIN: "100,EAGAIN". */
CHECK(kept_after_writer_close_dgram)
{
    kept_after_close(c);
}
INSTANTIATE(kept_after_writer_close_dgram, B_DGRAM)

/* Pipe: data written before the write end is closed stays readable, then EOF: "100,0". */
CHECK(kept_after_writer_close_pipe)
{
    kept_after_close(c);
}
INSTANTIATE(kept_after_writer_close_pipe, KINDS_PIPE)

/* ---- defaults and option read-back ----------------------------------------------------- */

/* Records SO_SNDBUF or SO_RCVBUF of a; both ends agree and it is positive. */
static void buf_default(struct chan *c, int opt)
{
    int va = xsockopt_int(c->a, SOL_SOCKET, opt), vb = xsockopt_int(c->b, SOL_SOCKET, opt);
    cr_expect(va > 0, "default %d not positive", va);
    cr_expect(va == vb, "the two ends differ: %d and %d", va, vb);
    outcome(c, "%d", va);
}

/* Default SO_SNDBUF of an AF_UNIX STREAM end (observed; the OS sets it). */
CHECK(sndbuf_default_stream)
{
    buf_default(c, SO_SNDBUF);
}
INSTANTIATE(sndbuf_default_stream, B_DEF_STREAM)

/* Default SO_SNDBUF of an AF_UNIX DGRAM end (observed; the OS sets it). */
CHECK(sndbuf_default_dgram)
{
    buf_default(c, SO_SNDBUF);
}
INSTANTIATE(sndbuf_default_dgram, B_DEF_DGRAM)

/* Default SO_SNDBUF of an AF_UNIX SEQPACKET end (observed; the OS sets it). */
CHECK(sndbuf_default_seqpacket)
{
    buf_default(c, SO_SNDBUF);
}
INSTANTIATE(sndbuf_default_seqpacket, B_DEF_SEQPACKET)

/* Default SO_RCVBUF of an AF_UNIX STREAM end (observed; the OS sets it). */
CHECK(rcvbuf_default_stream)
{
    buf_default(c, SO_RCVBUF);
}
INSTANTIATE(rcvbuf_default_stream, B_DEF_STREAM)

/* Default SO_RCVBUF of an AF_UNIX DGRAM end (observed; the OS sets it). */
CHECK(rcvbuf_default_dgram)
{
    buf_default(c, SO_RCVBUF);
}
INSTANTIATE(rcvbuf_default_dgram, B_DEF_DGRAM)

/* Default SO_RCVBUF of an AF_UNIX SEQPACKET end (observed; the OS sets it). */
CHECK(rcvbuf_default_seqpacket)
{
    buf_default(c, SO_RCVBUF);
}
INSTANTIATE(rcvbuf_default_seqpacket, B_DEF_SEQPACKET)

/* Sets opt to v on a and records what reads back, or the errno of the set. */
static void set_readback(struct chan *c, int opt, int v)
{
    int e = set_sockopt_int(c->a, SOL_SOCKET, opt, v);
    if (e != 0) {
        outcome(c, "%s", sockspec_errno_name(e));
        return;
    }
    int got = xsockopt_int(c->a, SOL_SOCKET, opt);
    cr_expect(got > 0, "read back %d", got);
    outcome(c, "%d", got);
}

/* SO_SNDBUF = 65536 reads back doubled on Linux (131072), as set elsewhere (65536). */
CHECK(sndbuf_set_readback)
{
    set_readback(c, SO_SNDBUF, 65536);
}
INSTANTIATE(sndbuf_set_readback, B_SP_ONE)

/* SO_SNDBUF on a pipe end: not a socket, ENOTSOCK. */
CHECK(sndbuf_on_pipe)
{
    outcome(c, "%s", sockspec_errno_name(set_sockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, 65536)));
}
INSTANTIATE(sndbuf_on_pipe, B_PIPE_BL)

/* SO_RCVBUF = 65536 reads back doubled on Linux (131072), as set elsewhere (65536). */
CHECK(rcvbuf_set_readback)
{
    set_readback(c, SO_RCVBUF, 65536);
}
INSTANTIATE(rcvbuf_set_readback, B_SP_ONE)

/* SO_SNDBUF = 1 is raised to a minimum (Linux: 4608 on x86_64); the value is recorded. */
CHECK(sndbuf_min_clamp)
{
    set_readback(c, SO_SNDBUF, 1);
}
INSTANTIATE(sndbuf_min_clamp, B_SP_ONE)

/* Sets opt to 0 and records "min" if it reads back as setting 1 does, else the value or errno. */
static void zero_is_min(struct chan *c, int opt)
{
    int e = set_sockopt_int(c->a, SOL_SOCKET, opt, 0);
    if (e != 0) {
        outcome(c, "%s", sockspec_errno_name(e));
        return;
    }
    int got = xsockopt_int(c->a, SOL_SOCKET, opt);
    cr_assert(set_sockopt_int(c->a, SOL_SOCKET, opt, 1) == 0);
    int min = xsockopt_int(c->a, SOL_SOCKET, opt);
    if (got == min)
        outcome(c, "min");
    else
        outcome(c, "%d", got);
}

/* SO_SNDBUF = 0: Linux clamps it to the same minimum as 1: "min". */
CHECK(sndbuf_zero)
{
    zero_is_min(c, SO_SNDBUF);
}
INSTANTIATE(sndbuf_zero, B_SP_ONE)

/* SO_RCVBUF = 0: Linux clamps it to its minimum (2304 on x86_64), as for 1: "min". */
CHECK(rcvbuf_zero)
{
    zero_is_min(c, SO_RCVBUF);
}
INSTANTIATE(rcvbuf_zero, B_SP_ONE)

/* Sets SO_SNDBUF of a to v: 0 and the value read back, or the errno name recorded and -1. */
static int set_sndbuf(struct chan *c, int v, int *got)
{
    int e = set_sockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, v);
    if (e != 0) {
        outcome(c, "%s", sockspec_errno_name(e));
        return -1;
    }
    *got = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    return 0;
}

/* SO_SNDBUF = INT_MAX: Linux caps it at 2 x wmem_max ("capped"); else the errno of the set. */
CHECK(sndbuf_intmax)
{
    int got;
    if (set_sndbuf(c, INT_MAX, &got) < 0)
        return;
    cr_expect(got > 0, "read back %d", got);
    outcome(c, "%s", got == INT_MAX ? "as set" : got < INT_MAX ? "capped" : "other");
}
INSTANTIATE(sndbuf_intmax, B_SP_ONE)

/* SO_SNDBUF = -1: Linux reads it as unsigned and caps it like INT_MAX ("max"); "min", or errno. */
CHECK(sndbuf_negative)
{
    int got;
    if (set_sndbuf(c, -1, &got) < 0)
        return;
    int max = set_sockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, INT_MAX) == 0
                  ? xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF)
                  : -1;
    cr_assert(set_sockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, 1) == 0);
    int min = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    if (got == max)
        outcome(c, "max");
    else if (got == min)
        outcome(c, "min");
    else
        outcome(c, "%d", got);
}
INSTANTIATE(sndbuf_negative, B_SP_ONE)

/* SO_SNDBUF of a stream sender with unsent data queued reads back unchanged on Linux. */
CHECK(sndbuf_readback_while_queued)
{
    int before = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    char buf[2048];
    memset(buf, 'q', sizeof buf);
    xsend_all(c->a, buf, sizeof buf);
    int after = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    outcome(c, "%s", after == before ? "unchanged" : "changed");
}
INSTANTIATE(sndbuf_readback_while_queued, B_BL_STREAM)

/* ---- filling a non-blocking sender ---------------------------------------------------- */

/* Fills with chunk-byte writes and records the bytes (or messages) that fit before failing. */
static void fill_count(struct chan *c, size_t chunk, int messages)
{
    int err;
    size_t n = fill_nb(c->a, chunk, &err);
    cr_expect(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill stopped by %s",
              err ? sockspec_errno_name(err) : "the limit");
    cr_expect(n > 0, "nothing fitted");
    size_t got = drain_nb(c, c->b, 0, NULL);
    cr_expect(got == n, "wrote %zu, read back %zu", n, got);
    outcome(c, "%zu", messages ? n / chunk : n);
}

/* STREAM: bytes that fit with 1-byte writes before EAGAIN (observed; Linux ~ hundreds). */
CHECK(fill_1byte_stream)
{
    fill_count(c, 1, 0);
}
INSTANTIATE(fill_1byte_stream, B_NB_STREAM)

/* STREAM: bytes that fit with 4096-byte writes before EAGAIN (observed). */
CHECK(fill_4096_stream)
{
    fill_count(c, 4096, 0);
}
INSTANTIATE(fill_4096_stream, B_NB_STREAM)

/* DGRAM: 1-byte datagrams that fit before the sender stops (observed). */
CHECK(fill_1byte_dgram)
{
    fill_count(c, 1, 1);
}
INSTANTIATE(fill_1byte_dgram, B_NB_DGRAM)

/* DGRAM: 4096-byte datagrams that fit before the sender stops (observed). */
CHECK(fill_4096_dgram)
{
    fill_count(c, 4096, 1);
}
INSTANTIATE(fill_4096_dgram, B_NB_DGRAM)

/* SEQPACKET: 1-byte messages that fit before EAGAIN (observed). */
CHECK(fill_1byte_seqpacket)
{
    fill_count(c, 1, 1);
}
INSTANTIATE(fill_1byte_seqpacket, B_NB_SEQPACKET)

/* SEQPACKET: 4096-byte messages that fit before EAGAIN (observed). */
CHECK(fill_4096_seqpacket)
{
    fill_count(c, 4096, 1);
}
INSTANTIATE(fill_4096_seqpacket, B_NB_SEQPACKET)

/* Pipe: bytes that fit with 1-byte writes (Linux merges them into 16 pages: 65536). */
CHECK(fill_1byte_pipe)
{
    fill_count(c, 1, 0);
}
INSTANTIATE(fill_1byte_pipe, KINDS_PIPE)

/* Pipe: bytes that fit with 4096-byte writes (Linux: 65536, pipe.7). */
CHECK(fill_4096_pipe)
{
    fill_count(c, 4096, 0);
}
INSTANTIATE(fill_4096_pipe, KINDS_PIPE)

/* Records the errno that stops a non-blocking sender on a full buffer. */
static void full_errno(struct chan *c)
{
    int err;
    size_t n = fill_nb(c->a, 512, &err);
    cr_expect(n > 0, "nothing fitted");
    outcome(c, "%s", err ? sockspec_errno_name(err) : "never full");
}

/* STREAM: a non-blocking send on a full buffer fails with EAGAIN. */
CHECK(full_nonblocking_send_stream)
{
    full_errno(c);
}
INSTANTIATE(full_nonblocking_send_stream, B_NB_STREAM)

/* DGRAM: a non-blocking send to a full peer fails with EAGAIN (macOS: ENOBUFS). */
CHECK(full_nonblocking_send_dgram)
{
    full_errno(c);
}
INSTANTIATE(full_nonblocking_send_dgram, B_NB_DGRAM)

/* SEQPACKET: a non-blocking send on a full buffer fails with EAGAIN. */
CHECK(full_nonblocking_send_seqpacket)
{
    full_errno(c);
}
INSTANTIATE(full_nonblocking_send_seqpacket, B_NB_SEQPACKET)

/* Pipe: a non-blocking write on a full pipe fails with EAGAIN (POSIX write()). */
CHECK(full_nonblocking_write_pipe)
{
    full_errno(c);
}
INSTANTIATE(full_nonblocking_write_pipe, KINDS_PIPE)

/* Fill with 512-byte sends, raise SO_SNDBUF fourfold, send 512 again: "ok" or the errno. */
static void raise_unblocks(struct chan *c)
{
    int err;
    char buf[512];
    memset(buf, 'r', sizeof buf);
    fill_nb(c->a, sizeof buf, &err);
    cr_assert(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill stopped by %s",
              sockspec_errno_name(err));
    int cur = xsockopt_int(c->a, SOL_SOCKET, SO_SNDBUF);
    int e = set_sockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, cur * 4);
    if (e != 0) {
        outcome(c, "setsockopt %s", sockspec_errno_name(e));
        return;
    }
    ssize_t r = send(c->a, buf, sizeof buf, MSG_DONTWAIT | ss_nosignal);
    outcome(c, "%s",
            r == (ssize_t)sizeof buf ? "ok"
            : r < 0                  ? sockspec_errno_name(errno)
                                     : "short");
}

/* STREAM: raising SO_SNDBUF on a full non-blocking sender lets the next send succeed. */
CHECK(raise_sndbuf_unblocks_stream)
{
    raise_unblocks(c);
}
INSTANTIATE(raise_sndbuf_unblocks_stream, B_NB_STREAM)

/* DGRAM: raising SO_SNDBUF on a full non-blocking sender lets the next send succeed. */
CHECK(raise_sndbuf_unblocks_dgram)
{
    raise_unblocks(c);
}
INSTANTIATE(raise_sndbuf_unblocks_dgram, B_NB_DGRAM)

/* SEQPACKET: raising SO_SNDBUF on a full non-blocking sender lets the next send succeed. */
CHECK(raise_sndbuf_unblocks_seqpacket)
{
    raise_unblocks(c);
}
INSTANTIATE(raise_sndbuf_unblocks_seqpacket, B_NB_SEQPACKET)

/* STREAM: shrinking SO_SNDBUF below what is queued makes the next send EAGAIN. */
CHECK(shrink_sndbuf_below_queued)
{
    char buf[16384];
    memset(buf, 's', sizeof buf);
    ssize_t r = send(c->a, buf, sizeof buf, MSG_DONTWAIT | ss_nosignal);
    cr_assert(r == (ssize_t)sizeof buf, "first send: %zd (%s)", r, sockspec_errno_name(errno));
    cr_assert(set_sockopt_int(c->a, SOL_SOCKET, SO_SNDBUF, 1) == 0);
    r = send(c->a, buf, 1, MSG_DONTWAIT | ss_nosignal);
    outcome_ret(c, r);
}
INSTANTIATE(shrink_sndbuf_below_queued, B_NB_STREAM)

/* ---- blocking sends on a full buffer --------------------------------------------------- */

/*
 * Fills a with 4096-byte writes, then a helper drains b while a blocking 4096-byte send
 * waits for room: records the send's return.
 */
static void blocking_resumes(struct chan *c)
{
    char buf[4096];
    int err;
    memset(buf, 'b', sizeof buf);
    size_t filled = fill_nb(c->a, sizeof buf, &err);
    cr_assert(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill stopped by %s",
              sockspec_errno_name(err));
    struct reader d;
    reader_start(&d, c->b, filled + sizeof buf);
    ssize_t r = send_or_write(c->a, buf, sizeof buf, 0);
    int e = errno;
    size_t got = reader_join(&d);
    cr_expect(r < 0 || got == d.want, "drained %zu of %zu", got, d.want);
    errno = e;
    outcome_ret(c, r);
}

/* STREAM: a blocking send on a full buffer waits and completes once the peer reads: 4096. */
CHECK(blocking_send_resumes_stream)
{
    blocking_resumes(c);
}
INSTANTIATE(blocking_send_resumes_stream, B_BL_STREAM)

/* DGRAM: a blocking send to a full peer waits and completes once it reads (BSD: ENOBUFS). */
CHECK(blocking_send_resumes_dgram)
{
    blocking_resumes(c);
}
INSTANTIATE(blocking_send_resumes_dgram, B_BL_DGRAM)

/* SEQPACKET: a blocking send on a full buffer waits and completes once the peer reads. */
CHECK(blocking_send_resumes_seqpacket)
{
    blocking_resumes(c);
}
INSTANTIATE(blocking_send_resumes_seqpacket, B_BL_SEQPACKET)

/* Pipe: a blocking write on a full pipe waits and completes once the reader reads: 4096. */
CHECK(blocking_write_resumes_pipe)
{
    blocking_resumes(c);
}
INSTANTIATE(blocking_write_resumes_pipe, B_PIPE_BL)

/* Fills a, sets SO_SNDTIMEO to 20 ms and records the blocking send's errno. */
static void sndtimeo_full(struct chan *c)
{
    char buf[4096];
    int err;
    memset(buf, 't', sizeof buf);
    fill_nb(c->a, sizeof buf, &err);
    cr_assert(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill stopped by %s",
              sockspec_errno_name(err));
    xset_timeo(c->a, SO_SNDTIMEO, 0, 20000);
    /* Should the timeout never expire, a watchdog reads b after 3 s so the send returns. */
    outcome_ret(c, send_guarded(c->a, buf, sizeof buf, ss_nosignal, c->b, 3000,
                                "the timeout never expired"));
}

/* STREAM: SO_SNDTIMEO expiring on a full buffer fails the send with EAGAIN. */
CHECK(sndtimeo_full_stream)
{
    sndtimeo_full(c);
}
INSTANTIATE(sndtimeo_full_stream, B_BL_STREAM)

/* DGRAM: SO_SNDTIMEO expiring on a full peer fails the send with EAGAIN (BSD: ENOBUFS). */
CHECK(sndtimeo_full_dgram)
{
    sndtimeo_full(c);
}
INSTANTIATE(sndtimeo_full_dgram, B_BL_DGRAM)

/* SEQPACKET: SO_SNDTIMEO expiring on a full buffer fails the send with EAGAIN. */
CHECK(sndtimeo_full_seqpacket)
{
    sndtimeo_full(c);
}
INSTANTIATE(sndtimeo_full_seqpacket, B_BL_SEQPACKET)

/* ---- empty receivers -------------------------------------------------------------------- */

/* SO_RCVTIMEO of 20 ms on an empty blocking socket: recv fails with EAGAIN. */
CHECK(rcvtimeo_empty)
{
    char buf[16];
    xset_timeo(c->b, SO_RCVTIMEO, 0, 20000);
    outcome_ret(c, recv_guarded(c->b, buf, sizeof buf, 0, c->a, 3000, "the timeout never expired"));
}
INSTANTIATE(rcvtimeo_empty, B_BL_SOCK)

/* SO_RCVTIMEO with tv_usec = 1000000 is rejected with EDOM. */
CHECK(rcvtimeo_usec_overflow)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = 1000000};
    int r = setsockopt(c->b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    outcome_ok(c, r);
}
INSTANTIATE(rcvtimeo_usec_overflow, B_SP_ONE)

/* SO_SNDTIMEO with tv_usec = -1 is rejected with EDOM. */
CHECK(sndtimeo_usec_negative)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = -1};
    int r = setsockopt(c->a, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    outcome_ok(c, r);
}
INSTANTIATE(sndtimeo_usec_negative, B_SP_ONE)

/* SO_RCVTIMEO with a negative tv_sec: Linux accepts it and recv times out at once (EAGAIN). */
CHECK(rcvtimeo_negative_sec)
{
    char buf[16];
    struct timeval tv = {.tv_sec = -1, .tv_usec = 0};
    if (setsockopt(c->b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
        outcome(c, "setsockopt %s", sockspec_errno_name(errno));
        return;
    }
    outcome_ret(c, recv_guarded(c->b, buf, sizeof buf, 0, c->a, 3000, NULL));
}
INSTANTIATE(rcvtimeo_negative_sec, B_SP_ONE)

/* SO_RCVTIMEO reads back what was set (20 ms): "0.020000". */
CHECK(rcvtimeo_readback)
{
    xset_timeo(c->b, SO_RCVTIMEO, 0, 20000);
    struct timeval tv;
    socklen_t len = sizeof tv;
    cr_assert(getsockopt(c->b, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0);
    outcome(c, "%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
}
INSTANTIATE(rcvtimeo_readback, B_SP_ONE)

/* read() on an empty non-blocking end fails with EAGAIN. */
CHECK(empty_nonblocking_read)
{
    char buf[16];
    outcome_ret(c, read(c->b, buf, sizeof buf));
}
INSTANTIATE(empty_nonblocking_read, B_NB_ALL)

/* recv() on an empty non-blocking socket fails with EAGAIN. */
CHECK(empty_nonblocking_recv)
{
    char buf[16];
    outcome_ret(c, recv(c->b, buf, sizeof buf, 0));
}
INSTANTIATE(empty_nonblocking_recv, B_NB_SOCK)

/* recvmsg() on an empty non-blocking socket fails with EAGAIN. */
CHECK(empty_nonblocking_recvmsg)
{
    char buf[16];
    int fl = 0;
    outcome_ret(c, recvmsg_flags(c->b, buf, sizeof buf, 0, &fl));
}
INSTANTIATE(empty_nonblocking_recvmsg, B_NB_SOCK)

/* recv(MSG_DONTWAIT) on an empty blocking socket fails with EAGAIN and leaves it blocking. */
CHECK(empty_dontwait_recv)
{
    char buf[16];
    ssize_t r = recv(c->b, buf, sizeof buf, MSG_DONTWAIT);
    int e = errno;
    cr_expect(!is_nonblock(c->b), "MSG_DONTWAIT left O_NONBLOCK set");
    errno = e;
    outcome_ret(c, r);
}
INSTANTIATE(empty_dontwait_recv, B_BL_SOCK)

/* recv(MSG_WAITALL | MSG_DONTWAIT) on an empty socket fails with EAGAIN. */
CHECK(empty_waitall_dontwait)
{
    char buf[16];
    outcome_ret(c, recv(c->b, buf, sizeof buf, MSG_WAITALL | MSG_DONTWAIT));
}
INSTANTIATE(empty_waitall_dontwait, B_SP_ONE)

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
        cr_assert(poll_events(c->b, POLLIN, 2000) & POLLIN, "data never arrived");
    int n = -1;
    if (ioctl(c->b, FIONREAD, &n) != 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%d", n);
#endif
}

/* FIONREAD on an empty receiver: 0. */
CHECK(fionread_empty)
{
    fionread_after(c, 0, 0, 0);
}
INSTANTIATE(fionread_empty, B_FIONREAD)

/* FIONREAD after one 100-byte send: 100. */
CHECK(fionread_after_send)
{
    fionread_after(c, 100, 0, 1);
}
INSTANTIATE(fionread_after_send, B_FIONREAD)

/* FIONREAD with two datagrams (100 and 50 bytes) queued: Linux reports the first only, 100. */
CHECK(fionread_two_dgrams)
{
    fionread_after(c, 100, 50, 0);
}
INSTANTIATE(fionread_two_dgrams, B_DGRAM)

/* FIONREAD with two SEQPACKET messages (100 and 50 bytes) queued: Linux sums them, 150. */
CHECK(fionread_two_seqpackets)
{
    fionread_after(c, 100, 50, 0);
}
INSTANTIATE(fionread_two_seqpackets, B_SEQPACKET)

/* ---- pipes ------------------------------------------------------------------------------ */

/* F_GETPIPE_SZ reports the pipe's capacity (Linux: 65536); absent elsewhere. */
CHECK(pipe_size_fcntl)
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
INSTANTIATE(pipe_size_fcntl, KINDS_PIPE)

/* The measured capacity equals F_GETPIPE_SZ where it exists: "ok". */
CHECK(pipe_size_matches_capacity)
{
#ifndef SOCKSPEC_HAVE_F_GETPIPE_SZ
    UNSUPPORTED(c, "F_GETPIPE_SZ");
#else
    int sz = fcntl(c->a, F_GETPIPE_SZ);
    cr_assert(sz > 0, "F_GETPIPE_SZ: %s", sockspec_errno_name(errno));
    int err;
    size_t n = fill_nb(c->a, 4096, &err);
    cr_expect(drain_nb(c, c->b, 0, NULL) == n);
    outcome(c, "%s", n == (size_t)sz ? "ok" : "differs");
#endif
}
INSTANTIATE(pipe_size_matches_capacity, KINDS_PIPE)
