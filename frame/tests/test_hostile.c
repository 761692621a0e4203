/* A hostile or merely slow peer: bounded memory, no lost messages, errors that land where
 * FORMAT.md says however the kernel splits reads. */
#include "util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
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
