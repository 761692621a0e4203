/* The library rebuilt with its socket calls behind a seeded fault injector. */
#include "fault.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

TestSuite(fault, .init = util_begin);

#define NMSG 400

static size_t msg_len(uint32_t id, int type)
{
    uint64_t s = id + 1;
    uint64_t r = util_rand(&s);
    if (r % 16 == 0)
        return (size_t)(r >> 8) % (type == SOCK_STREAM ? 200000 : 50000);
    return (size_t)(r >> 8) % 200;
}

static unsigned msg_fds(uint32_t id)
{
    return id % 7 == 0 ? 1 + id % 3 : 0;
}

/* Channels a -> b over a non-blocking pair, a pipe whose ends travel as descriptors, and a
 * payload buffer. */
struct rig {
    struct frame_chan a, b;
    int sv[2], p[2];
    unsigned char *buf;
};

static void rig_open(struct rig *r, int type)
{
    r->buf = malloc(200000);
    cr_assert(r->buf != NULL);
    util_pair(type, r->sv);
    util_nonblock(r->sv[0]);
    util_nonblock(r->sv[1]);
    cr_assert(eq(int, pipe(r->p), 0));
    cr_assert(eq(int, frame_chan_init(&r->a, r->sv[0], NULL), 0));
    cr_assert(eq(int, frame_chan_init(&r->b, r->sv[1], NULL), 0));
}

static void rig_close(struct rig *r)
{
    frame_chan_fini(&r->a);
    frame_chan_fini(&r->b);
    util_close(r->sv[0]);
    util_close(r->sv[1]);
    util_close(r->p[0]);
    util_close(r->p[1]);
    free(r->buf);
}

static void exchange(int type, uint64_t seed)
{
    struct rig rg;
    struct frame_msg m;
    uint32_t sent = 0, got = 0;
    uint64_t rs = seed;
    rig_open(&rg, type);
    fault_setup(seed, 1);
    for (long step = 0; got < NMSG; step++) {
        cr_assert(step < 2000000, "no progress: sent %u got %u", sent, got);
        unsigned op = (unsigned)(util_rand(&rs) % 4);
        if (op == 0 && sent < NMSG) {
            size_t len = msg_len(sent, type);
            util_fill(rg.buf, len, sent);
            int fds[3] = {rg.p[0], rg.p[1], rg.p[0]};
            /* Two of three frames wait for the third: the flush batches them (sendmmsg). */
            int mode = FRAME_FDS_BORROW | (sent % 3 ? FRAME_MORE : 0);
            if (frame_send(&rg.a, 9, sent, rg.buf, len, fds, msg_fds(sent), mode) == 0)
                sent++;
            else
                cr_assert(0 + errno == ENOBUFS, "send %u: %s", sent, strerror(errno));
        } else if (op == 1) {
            if (frame_flush(&rg.a) == -1)
                cr_assert(0 + errno == EAGAIN || errno == ENOBUFS, "flush: %s", strerror(errno));
        } else if (op == 2) {
            if (frame_recv(&rg.b) == -1)
                cr_assert(0 + errno == EAGAIN || errno == ENOBUFS, "recv: %s", strerror(errno));
        } else {
            int r = frame_next(&rg.b, &m);
            cr_assert(r >= 0, "next: %s", strerror(errno));
            if (r == 0)
                continue;
            cr_assert(eq(u32, m.id, got));
            cr_assert(eq(u32, m.len, (uint32_t)msg_len(got, type)));
            cr_assert(util_check(m.payload, m.len, got), "payload %u", got);
            cr_assert(eq(u32, m.nfds, msg_fds(got)));
            for (unsigned i = 0; i < m.nfds; i++) {
                cr_assert(util_same_file(m.fds[i], rg.p[i % 2]));
                cr_assert(util_is_cloexec(m.fds[i]));
            }
            if (m.nfds && got % 2) {
                int fd = frame_msg_take_fd(&m, 0);
                cr_assert(fd >= 0);
                util_close(fd);
            }
            got++;
        }
    }
    struct fault_stats st = fault_get_stats();
    fault_setup(0, 0);
    cr_assert(st.eintr > 0 && st.eagain > 0 && st.enobufs > 0);
    if (type == SOCK_STREAM)
        cr_assert(st.short_io > 0);
    if (type != SOCK_STREAM && fault_have_mmsg()) {
        cr_assert(st.sendmmsg_calls > 0 && st.sendmmsg_short > 0, "sendmmsg %lu calls, %lu cut",
                  st.sendmmsg_calls, st.sendmmsg_short);
        cr_assert(st.recvmmsg_calls > 0 && st.recvmmsg_short > 0, "recvmmsg %lu calls, %lu cut",
                  st.recvmmsg_calls, st.recvmmsg_short);
    }
    cr_assert(eq(int, frame_next(&rg.b, &m), 0));
    rig_close(&rg);
}

Test(fault, stream, .timeout = 120)
{
    for (uint64_t seed = 1; seed <= 12; seed++)
        exchange(SOCK_STREAM, seed);
    util_end();
}

Test(fault, seqpacket, .timeout = 120)
{
    for (uint64_t seed = 1; seed <= 6; seed++)
        exchange(SOCK_SEQPACKET, seed);
    util_end();
}

Test(fault, dgram, .timeout = 120)
{
    for (uint64_t seed = 1; seed <= 6; seed++)
        exchange(SOCK_DGRAM, seed);
    util_end();
}

Test(fault, wait_helpers_under_faults, .timeout = 60)
{
    struct frame_chan a, b;
    struct frame_msg m;
    int sv[2];
    util_pair(SOCK_STREAM, sv);
    cr_assert(eq(int, frame_chan_init(&a, sv[0], NULL), 0));
    cr_assert(eq(int, frame_chan_init(&b, sv[1], NULL), 0));
    fault_setup(99, 1);
    for (uint32_t id = 0; id < 200; id++) {
        unsigned char buf[300];
        util_fill(buf, id, id);
        cr_assert(eq(int, frame_send_wait(&a, 1, id, buf, id, NULL, 0, FRAME_FDS_BORROW, 10000), 0),
                  "send_wait: %s", strerror(errno));
        cr_assert(eq(int, frame_recv_wait(&b, &m, 10000), 1), "recv_wait: %s", strerror(errno));
        cr_assert(eq(u32, m.id, id));
        cr_assert(util_check(m.payload, m.len, id));
    }
    fault_setup(0, 0);
    frame_chan_fini(&a);
    frame_chan_fini(&b);
    util_close(sv[0]);
    util_close(sv[1]);
    util_end();
}

/* Large frames go out from the caller's memory until the deadline; what is left is queued,
 * so the buffer is the caller's again on return (it is scribbled over here). */
Test(fault, send_wait_large_frames, .timeout = 60)
{
    struct rig rg;
    struct frame_msg m;
    rig_open(&rg, SOCK_STREAM);
    fault_setup(7, 1);
    for (uint32_t id = 0; id < 40; id++) {
        size_t len = (size_t)id * 7919 % 200000;
        unsigned nfds = id % 3 == 0;
        int fd = nfds ? dup(rg.p[0]) : -1, r;
        util_fill(rg.buf, len, id);
        r = frame_send_wait(&rg.a, 1, id, rg.buf, len, &fd, nfds, FRAME_FDS_TAKE, id % 2 ? 0 : 20);
        cr_assert(r == 0 || errno == ETIMEDOUT, "send_wait %u: %s", id, strerror(errno));
        cr_assert(r == -1 || frame_pending(&rg.a) == 0);
        memset(rg.buf, 0xee, len);
        while ((r = frame_next(&rg.b, &m)) == 0) {
            if (frame_flush(&rg.a) == -1)
                cr_assert(0 + errno == EAGAIN || errno == ENOBUFS, "flush: %s", strerror(errno));
            if (frame_recv(&rg.b) == -1)
                cr_assert(0 + errno == EAGAIN || errno == ENOBUFS, "recv: %s", strerror(errno));
        }
        cr_assert(eq(int, r, 1), "next: %s", strerror(errno));
        cr_assert(eq(u32, m.id, id));
        cr_assert(eq(u32, m.len, (uint32_t)len));
        cr_assert(util_check(m.payload, m.len, id), "payload %u", id);
        cr_assert(eq(u32, m.nfds, nfds));
        if (nfds)
            cr_assert(util_same_file(m.fds[0], rg.p[0]));
        frame_msg_release(&m);
    }
    fault_setup(0, 0);
    rig_close(&rg);
    util_end();
}

/* This build blocks SIGPIPE around sendmsg instead of using MSG_NOSIGNAL. */
Test(fault, sigpipe_fallback, .timeout = 30)
{
    struct frame_chan a;
    sigset_t pending;
    int sv[2];
    signal(SIGPIPE, SIG_DFL);
    util_pair(SOCK_STREAM, sv);
    cr_assert(eq(int, frame_chan_init(&a, sv[0], NULL), 0));
    util_close(sv[1]);
    for (int i = 0; i < 3; i++) {
        cr_assert(eq(int, frame_send_wait(&a, 1, 1, "x", 1, NULL, 0, FRAME_FDS_BORROW, 1000), -1));
        cr_assert(eq(int, errno, EPIPE));
    }
    cr_assert(eq(int, sigpending(&pending), 0));
    cr_assert(0 == sigismember(&pending, SIGPIPE), "a SIGPIPE stayed pending");
    frame_chan_fini(&a);
    util_close(sv[0]);
    util_end();
}
