/* FRAME_MORE, batched writes (sendmmsg) and the read-ahead of packet sockets (recvmmsg). Most
 * tests run twice: batching on, and forced off (one sendmsg/recvmsg per frame). */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "sockspec_config.h"
#include "testonly.h"

#if defined(SOCKSPEC_HAVE_SENDMMSG) && defined(SOCKSPEC_HAVE_RECVMMSG) &&                          \
    defined(SOCKSPEC_HAVE_MSG_WAITFORONE)
#define BATCH_OS 1
#else
#define BATCH_OS 0
#endif

/* The read-ahead's limits (chan.c): datagrams besides the first, bytes of buffers. */
#define READAHEAD_SLOTS 31
#define READAHEAD_MEM ((size_t)4 << 20)

TestSuite(batch, .init = util_begin);

static void send_id(struct frame_chan *c, uint32_t id, size_t len, int mode)
{
    unsigned char buf[256];

    cr_assert(len <= sizeof(buf));
    util_fill(buf, len, id);
    cr_assert(eq(int, frame_send(c, 3, id, buf, len, NULL, 0, mode), 0), "send %u: %s", id,
              strerror(errno));
}

static void expect_id(struct frame_msg *m, uint32_t id, size_t len)
{
    cr_assert(eq(u32, m->id, id));
    cr_assert(eq(u32, m->len, (uint32_t)len));
    cr_assert(util_check(m->payload, m->len, id), "payload of %u", id);
}

static size_t len_of(uint32_t id)
{
    return (size_t)(id * 37) % 200;
}

/* Runs fn with batching on, then forced off. */
static void both(void (*fn)(int type, int batching), int type)
{
    for (int on = 1; on >= 0; on--) {
        frame_set_batching_(on);
        fn(type, on);
    }
    frame_set_batching_(1);
}

/* Nothing has reached the peer's socket. */
static void peer_empty(int fd)
{
    char c;

    cr_assert(eq(int, (int)recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK), -1), "the frame was written");
    cr_assert(0 + errno == EAGAIN || errno == EWOULDBLOCK, "peek: %s", strerror(errno));
}

static void more_then_send(int type, int batching)
{
    struct util_duo d;
    struct frame_msg m;

    (void)batching;
    util_duo_open(&d, type, NULL, NULL);
    for (uint32_t id = 0; id < 5; id++)
        send_id(&d.a, id, len_of(id), FRAME_FDS_BORROW | FRAME_MORE);
    cr_assert(frame_pending(&d.a) > 0);
    peer_empty(d.sv[1]);
    send_id(&d.a, 5, len_of(5), FRAME_FDS_BORROW);
    if (type != SOCK_STREAM)
        cr_assert(eq(sz, frame_pending(&d.a), 0), "a send without FRAME_MORE left frames queued");
    for (uint32_t id = 0; id < 6; id++) {
        cr_assert(eq(int, util_pump(&d.a, &d.b, &m), 1), "pump %u: %s", id, strerror(errno));
        expect_id(&m, id, len_of(id));
    }
    /* frame_flush writes FRAME_MORE frames too. */
    send_id(&d.a, 6, 10, FRAME_FDS_BORROW | FRAME_MORE);
    peer_empty(d.sv[1]);
    cr_assert(eq(int, frame_flush(&d.a), 0), "flush: %s", strerror(errno));
    cr_assert(eq(int, util_pump(NULL, &d.b, &m), 1));
    expect_id(&m, 6, 10);
    util_duo_close(&d);
}

Test(batch, more_waits_for_send_without_it_seqpacket, .timeout = TEST_TIMEOUT)
{
    both(more_then_send, SOCK_SEQPACKET);
    util_end();
}

Test(batch, more_waits_for_send_without_it_stream, .timeout = TEST_TIMEOUT)
{
    both(more_then_send, SOCK_STREAM);
    util_end();
}

Test(batch, more_waits_for_send_without_it_dgram, .timeout = TEST_TIMEOUT)
{
    both(more_then_send, SOCK_DGRAM);
    util_end();
}

/* One frame_recv, then frame_next until 0: how many messages came. */
static unsigned one_recv(struct util_duo *d, uint32_t first)
{
    struct frame_msg m;
    unsigned n = 0;
    int r;

    cr_assert(frame_recv(&d->b) > 0, "recv: %s", strerror(errno));
    while ((r = frame_next(&d->b, &m)) == 1) {
        expect_id(&m, first + n, len_of(first + n));
        n++;
    }
    cr_assert(eq(int, r, 0), "next: %s", strerror(errno));
    return n;
}

static void several_per_recv(int type, int batching)
{
    struct frame_opts o;
    struct util_duo d;
    unsigned got;

    frame_opts_default(&o);
    o.max_payload = 1024; /* 31 buffers fit the bound */
    util_duo_open(&d, type, &o, &o);
    for (uint32_t id = 0; id < 40; id++)
        send_id(&d.a, id, len_of(id), FRAME_FDS_BORROW | FRAME_MORE);
    cr_assert(eq(int, frame_flush(&d.a), 0), "flush: %s", strerror(errno));
    got = one_recv(&d, 0);
    cr_assert(eq(u32, got, batching && BATCH_OS ? 1 + READAHEAD_SLOTS : 1));
    while (got < 40)
        got += one_recv(&d, got);
    cr_assert(eq(u32, got, 40));
    util_duo_close(&d);
}

Test(batch, several_messages_per_recv_seqpacket, .timeout = TEST_TIMEOUT)
{
    both(several_per_recv, SOCK_SEQPACKET);
    util_end();
}

Test(batch, several_messages_per_recv_dgram, .timeout = TEST_TIMEOUT)
{
    both(several_per_recv, SOCK_DGRAM);
    util_end();
}

/* With the default max_payload (1 MiB) only 3 buffers fit the read-ahead's 4 MiB. */
static void memory_bound(int type, int batching)
{
    struct util_duo d;
    size_t slots = READAHEAD_MEM / (FRAME_HDR_LEN + FRAME_MAX_PAYLOAD_DEFAULT);

    util_duo_open(&d, type, NULL, NULL);
    for (uint32_t id = 0; id < 10; id++)
        send_id(&d.a, id, len_of(id), FRAME_FDS_BORROW | FRAME_MORE);
    cr_assert(eq(int, frame_flush(&d.a), 0), "flush: %s", strerror(errno));
    cr_assert(eq(u32, one_recv(&d, 0), batching && BATCH_OS ? 1 + (unsigned)slots : 1));
    cr_assert(frame_readahead_mem_(&d.b) <= READAHEAD_MEM + (size_t)64 * 1024, "%zu bytes",
              frame_readahead_mem_(&d.b));
    util_duo_close(&d);
}

Test(batch, readahead_memory_bound, .timeout = TEST_TIMEOUT)
{
    both(memory_bound, SOCK_SEQPACKET);
    util_end();
}

/* Blocks until the pipe's write end is closed everywhere: 1, or 0 if a copy is still open. */
static int write_end_gone(int rd)
{
    char c;

    util_nonblock(rd);
    return read(rd, &c, 1) == 0;
}

static void send_raw_frame(int fd, uint32_t id, const int *fds, unsigned nfds)
{
    unsigned char f[FRAME_HDR_LEN + 8];

    cr_assert(eq(int, frame_encode_header(f, 3, id, 8, nfds), 0));
    util_fill(f + FRAME_HDR_LEN, 8, id);
    cr_assert(eq(sz, (size_t)util_raw_send(fd, f, sizeof(f), fds, nfds), sizeof(f)));
}

Test(batch, bad_datagram_mid_batch_closes_readahead_fds, .timeout = TEST_TIMEOUT)
{
    struct util_duo d;
    struct frame_msg m;
    unsigned char bad[FRAME_HDR_LEN + 8];
    int p[2];

    cr_assert(eq(int, pipe(p), 0));
    util_duo_open(&d, SOCK_SEQPACKET, NULL, NULL);
    send_raw_frame(d.sv[0], 0, NULL, 0);
    cr_assert(eq(int, frame_encode_header(bad, 3, 1, 8, 0), 0));
    util_fill(bad + FRAME_HDR_LEN, 8, 1);
    bad[0] ^= 0xff; /* magic */
    cr_assert(eq(sz, (size_t)util_raw_send(d.sv[0], bad, sizeof(bad), NULL, 0), sizeof(bad)));
    send_raw_frame(d.sv[0], 2, &p[1], 1);
    send_raw_frame(d.sv[0], 3, &p[1], 1);
    cr_assert(frame_recv(&d.b) > 0, "recv: %s", strerror(errno));
    cr_assert(eq(int, frame_next(&d.b, &m), 1));
    expect_id(&m, 0, 8);
    cr_assert(eq(int, frame_next(&d.b, &m), -1));
    cr_assert(eq(int, errno, EBADMSG));
    util_close(p[1]);
    if (BATCH_OS)
        cr_assert(write_end_gone(p[0]), "descriptors read ahead stayed open after EBADMSG");
    util_close(p[0]);
    util_duo_close(&d);
    util_end();
}

Test(batch, readahead_fds_closed_at_fini, .timeout = TEST_TIMEOUT)
{
    struct util_duo d;
    struct frame_msg m;
    int p[2];

    cr_assert(eq(int, pipe(p), 0));
    util_duo_open(&d, SOCK_SEQPACKET, NULL, NULL);
    for (uint32_t id = 0; id < 3; id++)
        send_raw_frame(d.sv[0], id, &p[1], 1);
    cr_assert(frame_recv(&d.b) > 0, "recv: %s", strerror(errno));
    cr_assert(eq(int, frame_next(&d.b, &m), 1));
    frame_msg_release(&m);
    frame_chan_fini(&d.b);
    cr_assert(eq(int, frame_chan_init(&d.b, d.sv[1], NULL), 0)); /* for duo_close */
    util_close(p[1]);
    if (BATCH_OS)
        cr_assert(write_end_gone(p[0]), "descriptors read ahead stayed open after fini");
    util_close(p[0]);
    util_duo_close(&d);
    util_end();
}

static void eof_after(int type, int batching)
{
    struct util_duo d;
    struct frame_msg m;

    (void)batching;
    util_duo_open(&d, type, NULL, NULL);
    for (uint32_t id = 0; id < 5; id++)
        send_id(&d.a, id, len_of(id), FRAME_FDS_BORROW | FRAME_MORE);
    cr_assert(eq(int, frame_flush(&d.a), 0));
    frame_chan_fini(&d.a);
    util_close(d.sv[0]);
    for (uint32_t id = 0; id < 5; id++) {
        cr_assert(eq(int, frame_recv_wait(&d.b, &m, 5000), 1), "recv %u: %s", id, strerror(errno));
        expect_id(&m, id, len_of(id));
    }
    cr_assert(eq(int, frame_recv_wait(&d.b, &m, 5000), 0), "no end of file: %s", strerror(errno));
    cr_assert(eq(sz, (size_t)frame_recv(&d.b), 0));
    frame_chan_fini(&d.b);
    util_close(d.sv[1]);
}

Test(batch, eof_after_readahead, .timeout = TEST_TIMEOUT)
{
    both(eof_after, SOCK_SEQPACKET);
    util_end();
}

static void empty_datagram(int type, int batching)
{
    struct util_duo d;
    struct frame_msg m;

    (void)batching;
    util_duo_open(&d, type, NULL, NULL);
    send_raw_frame(d.sv[0], 0, NULL, 0);
    cr_assert(eq(int, (int)util_raw_send(d.sv[0], "", 0, NULL, 0), 0));
    send_raw_frame(d.sv[0], 2, NULL, 0);
    cr_assert(eq(int, util_pump(NULL, &d.b, &m), 1));
    expect_id(&m, 0, 8);
    cr_assert(eq(int, util_pump(NULL, &d.b, &m), -1));
    cr_assert(eq(int, errno, EPROTO));
    util_duo_close(&d);
}

/* On a seqpacket socket an empty datagram is end of file: descriptors read ahead after it are
 * closed (the fuzzer's frame_packet_peer found them left open). */
Test(batch, readahead_fds_after_eof_closed, .timeout = TEST_TIMEOUT)
{
    struct util_duo d;
    struct frame_msg m;
    int p[2];

    cr_assert(eq(int, pipe(p), 0));
    util_duo_open(&d, SOCK_SEQPACKET, NULL, NULL);
    send_raw_frame(d.sv[0], 0, NULL, 0);
    cr_assert(eq(int, (int)util_raw_send(d.sv[0], "", 0, NULL, 0), 0));
    send_raw_frame(d.sv[0], 2, &p[1], 1);
    cr_assert(frame_recv(&d.b) > 0, "recv: %s", strerror(errno));
    cr_assert(eq(int, frame_next(&d.b, &m), 1));
    expect_id(&m, 0, 8);
    cr_assert(eq(int, frame_next(&d.b, &m), 0));
    util_close(p[1]);
    if (BATCH_OS)
        cr_assert(write_end_gone(p[0]), "descriptors read ahead after end of file stayed open");
    util_close(p[0]);
    util_duo_close(&d);
    util_end();
}

Test(batch, empty_datagram_mid_batch, .timeout = TEST_TIMEOUT)
{
    both(empty_datagram, SOCK_DGRAM);
    util_end();
}

Test(batch, send_wait_rejects_more, .timeout = TEST_TIMEOUT)
{
    struct util_duo d;
    int fd;

    util_duo_open(&d, SOCK_SEQPACKET, NULL, NULL);
    cr_assert(eq(
        int, frame_send_wait(&d.a, 1, 1, "x", 1, NULL, 0, FRAME_FDS_BORROW | FRAME_MORE, 100), -1));
    cr_assert(eq(int, errno, EINVAL));
    fd = dup(0);
    cr_assert(fd >= 0);
    cr_assert(
        eq(int, frame_send_wait(&d.a, 1, 1, "x", 1, &fd, 1, FRAME_FDS_TAKE | FRAME_MORE, 100), -1));
    cr_assert(eq(int, errno, EINVAL));
    cr_assert(0 == util_is_open(fd), "FRAME_FDS_TAKE's descriptor was not closed");
    cr_assert(eq(sz, frame_pending(&d.a), 0));
    peer_empty(d.sv[1]);
    util_duo_close(&d);
    util_end();
}

Test(batch, readahead_memory_apart_from_sendq, .timeout = TEST_TIMEOUT)
{
    struct util_duo d;
    size_t sq_before;

    util_duo_open(&d, SOCK_SEQPACKET, NULL, NULL);
    for (uint32_t id = 0; id < 8; id++)
        send_id(&d.a, id, len_of(id), FRAME_FDS_BORROW | FRAME_MORE);
    cr_assert(eq(int, frame_flush(&d.a), 0));
    cr_assert(eq(sz, frame_readahead_mem_(&d.a), 0), "sending allocated read-ahead memory");
    sq_before = frame_sendq_mem_(&d.b);
    cr_assert(frame_recv(&d.b) > 0);
    cr_assert(eq(sz, frame_sendq_mem_(&d.b), sq_before), "the read-ahead counted as send queue");
    if (BATCH_OS)
        cr_assert(frame_readahead_mem_(&d.b) > FRAME_MAX_PAYLOAD_DEFAULT);
    util_duo_close(&d);
    util_end();
}

/* Small frames with FRAME_MORE until the queue is full: never more than sendq_max queued. */
static void short_path_limit(int type, int batching)
{
    struct frame_opts o;
    struct util_duo d;
    uint32_t id = 0;

    (void)batching;
    frame_opts_default(&o);
    o.max_payload = 64;
    o.sendq_max = 1000;
    util_duo_open(&d, type, &o, &o);
    while (frame_send(&d.a, 1, id, "0123456789abcdef", 16, NULL, 0,
                      FRAME_FDS_BORROW | FRAME_MORE) == 0) {
        cr_assert(frame_pending(&d.a) <= o.sendq_max, "%zu bytes queued, limit %zu",
                  frame_pending(&d.a), o.sendq_max);
        id++;
        cr_assert(id < 1000, "the queue never filled");
    }
    cr_assert(eq(int, errno, ENOBUFS));
    cr_assert(frame_pending(&d.a) + 32 > o.sendq_max);
    peer_empty(d.sv[1]);
    util_duo_close(&d);
}

Test(batch, short_path_respects_sendq_max_stream, .timeout = TEST_TIMEOUT)
{
    both(short_path_limit, SOCK_STREAM);
    util_end();
}

Test(batch, short_path_respects_sendq_max_seqpacket, .timeout = TEST_TIMEOUT)
{
    both(short_path_limit, SOCK_SEQPACKET);
    util_end();
}

/* Fills a blocking socket without blocking: the peer reads nothing. */
static void fill_socket(int fd)
{
    char buf[512] = {0};

    for (int i = 0; i < 100000; i++)
        if (send(fd, buf, sizeof(buf), MSG_DONTWAIT) == -1) {
            cr_assert(0 + errno == EAGAIN || errno == EWOULDBLOCK, "fill: %s", strerror(errno));
            return;
        }
    cr_assert(0, "the socket never filled");
}

/* The flush that a send without FRAME_MORE starts must not block past frame_send_wait's
 * deadline on a blocking socket (the test's timeout catches a block). */
static void send_wait_deadline(int type, int batching)
{
    struct frame_chan a;
    int sv[2];

    (void)batching;
    util_pair(type, sv);
    cr_assert(eq(int, frame_chan_init(&a, sv[0], NULL), 0));
    fill_socket(sv[0]);
    send_id(&a, 0, 10, FRAME_FDS_BORROW | FRAME_MORE);
    send_id(&a, 1, 10, FRAME_FDS_BORROW | FRAME_MORE);
    cr_assert(eq(int, frame_send_wait(&a, 3, 2, "x", 1, NULL, 0, FRAME_FDS_BORROW, 200), -1));
    cr_assert(eq(int, errno, ETIMEDOUT));
    frame_chan_fini(&a);
    util_close(sv[0]);
    util_close(sv[1]);
}

Test(batch, send_wait_after_more_keeps_deadline, .timeout = 10)
{
    both(send_wait_deadline, SOCK_SEQPACKET);
    util_end();
}

/* A frame the socket refuses (EMSGSIZE) while a send without FRAME_MORE flushes is dropped;
 * the error is reported by the next frame_flush, once. */
static void deferred_error(int type, int batching)
{
    static unsigned char big[16384];
    struct frame_opts o;
    struct util_duo d;
    struct frame_msg m;
    int size = 2048;

    (void)batching;
    frame_opts_default(&o);
    util_duo_open(&d, type, &o, &o);
    cr_assert(eq(int, setsockopt(d.sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0));
    send_id(&d.a, 0, 10, FRAME_FDS_BORROW | FRAME_MORE);
    cr_assert(eq(
        int, frame_send(&d.a, 3, 1, big, sizeof(big), NULL, 0, FRAME_FDS_BORROW | FRAME_MORE), 0));
    send_id(&d.a, 2, 10, FRAME_FDS_BORROW);
    cr_assert(eq(int, frame_flush(&d.a), -1), "the write error was not reported");
    cr_assert(eq(int, errno, EMSGSIZE));
    cr_assert(eq(int, frame_flush(&d.a), 0), "flush: %s", strerror(errno));
    cr_assert(eq(int, util_pump(NULL, &d.b, &m), 1));
    expect_id(&m, 0, 10);
    cr_assert(eq(int, util_pump(NULL, &d.b, &m), 1));
    expect_id(&m, 2, 10);
    util_duo_close(&d);
}

Test(batch, deferred_error_reported_by_flush, .timeout = TEST_TIMEOUT)
{
    both(deferred_error, SOCK_SEQPACKET);
    util_end();
}
