/* A hostile or merely slow peer: bounded memory, no lost messages, errors that land where
 * FORMAT.md says however the kernel splits reads. */
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "testonly.h"

TestSuite(hostile, .init = util_begin);

/* Takes every message b has now, checking ids from *next on; returns -1 at an error. */
static int take_all(struct frame_chan *b, uint32_t *next)
{
    struct frame_msg m;
    int r;

    while ((r = frame_next(b, &m)) == 1) {
        cr_assert(eq(u32, m.id, *next), "message order");
        (*next)++;
        frame_msg_release(&m);
    }
    return r;
}

/* The documented bound (frame.3, MEMORY): 2 x sendq_max for the bytes, 32 bytes per queued
 * frame with descriptors and 8 per queued descriptor; plus the queue's own struct. */
static size_t sendq_bound(size_t sendq_max, size_t frame_len, unsigned nfds)
{
    size_t frames = nfds ? sendq_max / frame_len + 1 : 0;
    return 2 * sendq_max + frames * (32 + 8 * (size_t)nfds) + 256;
}

/* A peer that reads just fast enough: after the first fill the queue never empties, and
 * every send that finds it full is followed by one read on the other end and a flush. */
static void steady_state(int type, unsigned nfds, unsigned frames)
{
    static const unsigned char payload[16];
    struct frame_opts o;
    struct frame_chan a, b;
    int sv[2], p[2], size = 4096, full = 0;
    uint32_t next = 0;
    size_t bound, peak = 0, early = 0;

    frame_opts_default(&o);
    o.max_payload = 64;
    o.sendq_max = 2048;
    o.max_fds = 2;
    bound = sendq_bound(o.sendq_max, FRAME_HDR_LEN + sizeof(payload), nfds);
    util_pair(type, sv);
    util_nonblock(sv[0]);
    util_nonblock(sv[1]);
    cr_assert(eq(int, setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0));
    cr_assert(eq(int, pipe(p), 0));
    cr_assert(eq(int, frame_chan_init(&a, sv[0], &o), 0));
    cr_assert(eq(int, frame_chan_init(&b, sv[1], &o), 0));
    for (uint32_t id = 0; id < frames; id++) {
        while (frame_send(&a, 1, id, payload, sizeof(payload), p, nfds, FRAME_FDS_BORROW) == -1) {
            cr_assert(eq(int, errno, ENOBUFS), "send %u: %s", id, strerror(errno));
            full = 1;
            cr_assert(frame_recv(&b) > 0, "recv: %s", strerror(errno));
            cr_assert(eq(int, take_all(&b, &next), 0), "next: %s", strerror(errno));
            cr_assert(eq(int, frame_flush(&a), -1));
            cr_assert(0 + errno == EAGAIN || errno == EWOULDBLOCK);
        }
        if (full)
            cr_assert(frame_pending(&a) > 0, "the queue emptied at frame %u", id);
        if (frame_sendq_mem_(&a) > peak)
            peak = frame_sendq_mem_(&a);
        if (id == frames / 10)
            early = peak;
    }
    cr_assert(full, "the queue never filled");
    cr_assert(peak <= early, "%u frames: %zu bytes allocated, %zu after %u", frames, peak, early,
              frames / 10);
    cr_assert(peak <= bound, "%zu bytes allocated, bound %zu", peak, bound);
    for (int spins = 0; next < frames; spins++) {
        cr_assert(spins < 10 * (int)frames, "stuck at %u of %u", next, frames);
        if (frame_flush(&a) == -1)
            cr_assert(0 + errno == EAGAIN || errno == EWOULDBLOCK);
        if (frame_recv(&b) == -1)
            cr_assert(0 + errno == EAGAIN || errno == EWOULDBLOCK);
        cr_assert(eq(int, take_all(&b, &next), 0));
    }
    cr_log_info("%s, %u descriptors a frame: %u frames, peak %zu bytes, bound %zu",
                type == SOCK_STREAM ? "stream" : "seqpacket", nfds, frames, peak, bound);
    frame_chan_fini(&a);
    frame_chan_fini(&b);
    util_close(p[0]);
    util_close(p[1]);
    util_close(sv[0]);
    util_close(sv[1]);
}

Test(hostile, sendq_memory_steady_stream_descriptors, .timeout = TEST_TIMEOUT)
{
    steady_state(SOCK_STREAM, 1, 100000);
    util_end();
}

Test(hostile, sendq_memory_steady_seqpacket, .timeout = TEST_TIMEOUT)
{
    steady_state(SOCK_SEQPACKET, 0, 100000);
    util_end();
}

Test(hostile, sendq_memory_steady_seqpacket_descriptors, .timeout = TEST_TIMEOUT)
{
    steady_state(SOCK_SEQPACKET, 2, 30000);
    util_end();
}

/* A sendq_max below the byte buffer's minimum capacity: the buffer stays within 2 x sendq_max
 * too (fuzz/FINDINGS.md F8: the minimum was applied after the cap). The queue is filled until
 * ENOBUFS behind a full socket. */
Test(hostile, sendq_memory_small_sendq_max, .timeout = TEST_TIMEOUT)
{
    static const unsigned char payload[16];
    struct frame_opts o;
    struct frame_chan a;
    int sv[2], size = 4096;
    size_t bound, peak = 0;

    frame_opts_default(&o);
    o.max_payload = 64;
    o.sendq_max = 1024;
    bound = sendq_bound(o.sendq_max, FRAME_HDR_LEN + sizeof(payload), 0);
    util_pair(SOCK_STREAM, sv);
    util_nonblock(sv[0]);
    cr_assert(eq(int, setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0));
    cr_assert(eq(int, frame_chan_init(&a, sv[0], &o), 0));
    for (uint32_t id = 0;
         frame_send(&a, 1, id, payload, sizeof(payload), NULL, 0, FRAME_FDS_BORROW) == 0; id++) {
        cr_assert(id < 1000000, "the queue never filled");
        if (frame_sendq_mem_(&a) > peak)
            peak = frame_sendq_mem_(&a);
    }
    cr_assert(eq(int, errno, ENOBUFS));
    cr_assert(frame_pending(&a) + FRAME_HDR_LEN + sizeof(payload) > o.sendq_max);
    cr_log_info("sendq_max %zu: peak %zu bytes allocated, bound %zu", o.sendq_max, peak, bound);
    cr_assert(peak <= bound, "sendq_max %zu: %zu bytes allocated, bound %zu", o.sendq_max, peak,
              bound);
    frame_chan_fini(&a);
    util_close(sv[0]);
    util_close(sv[1]);
    util_end();
}

/* Two complete frames (ids 1, 2), then a header for id 3 that declares `declare` descriptors;
 * returns the length of the frames before it, *total that of all three. */
static size_t ctrunc_bytes(unsigned char *buf, unsigned declare, size_t *total)
{
    size_t n = 0;

    static const unsigned char payload[5] = {'h', 'e', 'l', 'l', 'o'};

    frame_encode_header(buf, 7, 1, 5, 0);
    memcpy(buf + FRAME_HDR_LEN, payload, sizeof payload);
    n = FRAME_HDR_LEN + 5;
    frame_encode_header(buf + n, 7, 2, 0, 0);
    n += FRAME_HDR_LEN;
    frame_encode_header(buf + n, 7, 3, 0, declare);
    *total = n + FRAME_HDR_LEN;
    return n;
}

/* The peer sends two frames, then a header with more descriptors than the control buffer
 * holds (MSG_CTRUNC). Read apart (the frames read, not taken) or in one read, the two
 * frames come first, then EPROTO. */
Test(hostile, ctrunc_keeps_frames_read_before, .timeout = TEST_TIMEOUT)
{
    for (int merged = 0; merged < 2; merged++) {
        unsigned char buf[3 * FRAME_HDR_LEN + 5];
        struct frame_opts o;
        struct frame_chan b;
        int sv[2], fds[8];
        uint32_t next = 1;
        size_t total, n = ctrunc_bytes(buf, 2, &total);
        ssize_t got;

        frame_opts_default(&o);
        o.max_fds = 2;
        util_pair(SOCK_STREAM, sv);
        cr_assert(eq(int, frame_chan_init(&b, sv[1], &o), 0));
        for (int i = 0; i < 8; i++)
            fds[i] = sv[0];
        cr_assert(eq(sz, (size_t)util_raw_send(sv[0], buf, n, NULL, 0), n));
        if (!merged)
            cr_assert(eq(sz, (size_t)frame_recv(&b), n));
        cr_assert(eq(sz, (size_t)util_raw_send(sv[0], buf + n, total - n, fds, 8), total - n));
        got = frame_recv(&b);
        cr_log_info("merged %d: the read with MSG_CTRUNC returned %zd", merged, got);
        cr_assert(eq(int, take_all(&b, &next), -1));
        cr_assert(eq(int, errno, EPROTO));
        cr_assert(eq(u32, next, 3), "merged %d: %u frames before EPROTO, want 2", merged, next - 1);
        frame_chan_fini(&b);
        util_close(sv[0]);
        util_close(sv[1]);
    }
    util_end();
}

/* Feeds buf[0, len) as [0, a) [a, b) with MSG_CTRUNC, [b, len); takes messages after each feed
 * when `take`: the number of messages before the error. */
static uint32_t ctrunc_split(const unsigned char *buf, size_t len, size_t a, size_t b, int take)
{
    const size_t cut[4] = {0, a, b, len};
    struct frame_decoder d;
    struct frame_msg m;
    uint32_t got = 0;
    int r = 0;

    cr_assert(eq(int, frame_decoder_init(&d, 100, 2, 0), 0));
    for (int i = 0; i < 3 && r != -1; i++) {
        size_t off = cut[i];
        while (off < cut[i + 1]) {
            ssize_t k = frame_decoder_feed(&d, buf + off, cut[i + 1] - off, NULL, 0,
                                           i == 1 ? FRAME_IN_CTRUNC : 0);
            if (k == -1)
                break;
            off += (size_t)k;
        }
        if (i == 2)
            (void)frame_decoder_eof(&d);
        if (take || i == 2)
            while ((r = frame_decoder_next(&d, &m)) == 1)
                got++;
    }
    cr_assert(eq(int, r, -1));
    cr_assert(eq(int, errno, EPROTO));
    frame_decoder_fini(&d);
    return got;
}

/* Where MSG_CTRUNC takes effect does not depend on how much came before it in the same read:
 * at the header that declares descriptors (they cannot be whole), or, if none in the chunk
 * does, at the first header after the chunk (as for a stray descriptor). */
Test(hostile, ctrunc_lands_however_reads_merge, .timeout = TEST_TIMEOUT)
{
    for (unsigned declare = 0; declare < 2; declare++) {
        unsigned char buf[4 * FRAME_HDR_LEN + 5];
        size_t total, s = ctrunc_bytes(buf, declare, &total), len;

        frame_encode_header(buf + total, 7, 4, 0, 0); /* a frame after the truncated chunk */
        len = total + FRAME_HDR_LEN;
        for (size_t a = 0; a <= s; a++)
            for (int take = 0; take < 2; take++)
                cr_assert(eq(u32, ctrunc_split(buf, len, a, total, take), declare ? 2 : 3),
                          "declare %u, the chunk from %zu, take %d", declare, a, take);
    }
    util_end();
}

/* A frame queued behind a full socket, then one with descriptors: frame_chan_close with a
 * reader (a child process) delivers both before it frees the channel. */
Test(hostile, close_flushes_queued_frames, .timeout = TEST_TIMEOUT)
{
    static unsigned char big[200000];
    struct frame_opts o;
    struct frame_chan a, b;
    int sv[2], p[2], size = 4096, status;
    pid_t pid;

    frame_opts_default(&o);
    util_pair(SOCK_STREAM, sv);
    util_nonblock(sv[0]);
    cr_assert(eq(int, setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0));
    cr_assert(eq(int, pipe(p), 0));
    cr_assert(eq(int, frame_chan_init(&a, sv[0], &o), 0));
    util_fill(big, sizeof(big), 1);
    cr_assert(eq(int, frame_send(&a, 7, 1, big, sizeof(big), NULL, 0, FRAME_FDS_BORROW), 0));
    cr_assert(eq(int, frame_send(&a, 7, 2, "x", 1, p, 2, FRAME_FDS_TAKE), 0));
    cr_assert(frame_pending(&a) > 0);
    pid = fork();
    cr_assert(ne(int, pid, -1));
    if (pid == 0) {
        struct frame_msg m;
        int ok = frame_chan_init(&b, sv[1], &o) == 0 && frame_recv_wait(&b, &m, 5000) == 1 &&
                 m.id == 1 && m.len == sizeof(big) && util_check(m.payload, m.len, 1) &&
                 frame_recv_wait(&b, &m, 5000) == 1 && m.id == 2 && m.nfds == 2;
        _exit(ok ? 0 : 1);
    }
    cr_assert(eq(int, frame_chan_close(&a, 5000), 0), "close: %s", strerror(errno));
    cr_assert(eq(int, waitpid(pid, &status, 0), pid));
    status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    cr_assert(eq(int, status, 0), "the reader missed a frame");
    cr_assert(eq(int, util_is_open(p[0]), 0));
    util_close(sv[0]);
    util_close(sv[1]);
    util_end();
}

/* Without a reader, frame_chan_close reports the drop: ETIMEDOUT at the deadline, EPIPE once
 * the peer is gone; the channel is freed and the queued descriptors closed either way. */
Test(hostile, close_reports_dropped_frames, .timeout = TEST_TIMEOUT)
{
    static unsigned char big[200000];
    for (int gone = 0; gone < 2; gone++) {
        struct frame_chan a;
        int sv[2], p[2], size = 4096;
        util_pair(SOCK_STREAM, sv);
        util_nonblock(sv[0]);
        cr_assert(eq(int, setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0));
        cr_assert(eq(int, pipe(p), 0));
        cr_assert(eq(int, frame_chan_init(&a, sv[0], NULL), 0));
        cr_assert(eq(int, frame_send(&a, 7, 1, big, sizeof(big), NULL, 0, FRAME_FDS_BORROW), 0));
        cr_assert(eq(int, frame_send(&a, 7, 2, "x", 1, p, 2, FRAME_FDS_TAKE), 0));
        cr_assert(frame_pending(&a) > 0);
        if (gone)
            util_close(sv[1]);
        cr_assert(eq(int, frame_chan_close(&a, 50), -1));
        cr_assert(eq(int, errno, gone ? EPIPE : ETIMEDOUT), "%s", strerror(errno));
        cr_assert(eq(int, util_is_open(p[0]) + util_is_open(p[1]), 0));
        util_close(sv[0]);
        if (!gone)
            util_close(sv[1]);
    }
    util_end();
}

/* A raw peer on sv[0] sends the start of a frame (a header declaring one descriptor and 10
 * payload bytes, 4 of them) with `held` attached, then closes sv[0]. frame_recv_wait on sv[1]:
 * the error it gives within timeout_ms. */
static int unfinished_frame_holding(struct frame_chan *b, int sv[2], int held, int timeout_ms)
{
    unsigned char buf[FRAME_HDR_LEN + 4] = {0};
    struct frame_msg m;

    frame_encode_header(buf, 7, 1, 10, 1);
    cr_assert(eq(sz, (size_t)util_raw_send(sv[0], buf, sizeof buf, &held, 1), sizeof buf));
    util_close(sv[0]);
    cr_assert(eq(int, frame_recv_wait(b, &m, timeout_ms), -1));
    return errno;
}

/* Waits (bounded) for end of file on fd: 1 when it comes, 0 at the timeout. */
static int sees_eof(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c;

    return poll(&p, 1, timeout_ms) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

/* A peer that passes the channel's own peer socket inside an unfinished frame keeps the
 * connection alive after it closes its end: no end of file comes, so only a finite timeout
 * ends the wait (frame.3, CAVEATS); frame_chan_fini closes the held socket and the channel's
 * socket then reads end of file. The same frame holding a pipe ends at end of file, EPROTO. */
Test(hostile, self_passing_peer, .timeout = TEST_TIMEOUT)
{
    struct frame_opts o;
    struct frame_chan b;
    int sv[2], p[2];

    frame_opts_default(&o);
    util_pair(SOCK_STREAM, sv);
    cr_assert(eq(int, frame_chan_init(&b, sv[1], &o), 0));
    cr_assert(eq(int, unfinished_frame_holding(&b, sv, sv[0], 100), ETIMEDOUT));
    cr_assert(eq(int, sees_eof(sv[1], 0), 0), "end of file while the frame holds the socket");
    frame_chan_fini(&b);
    cr_assert(eq(int, sees_eof(sv[1], 5000), 1), "no end of file after frame_chan_fini");
    util_close(sv[1]);

    util_pair(SOCK_STREAM, sv);
    cr_assert(eq(int, pipe(p), 0));
    cr_assert(eq(int, frame_chan_init(&b, sv[1], &o), 0));
    cr_assert(eq(int, unfinished_frame_holding(&b, sv, p[0], 5000), EPROTO));
    frame_chan_fini(&b);
    util_close(p[0]);
    util_close(p[1]);
    util_close(sv[1]);
    util_end();
}
