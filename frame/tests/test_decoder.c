/* The decoder core alone: no sockets; descriptors are fake numbers counted by a close hook. */
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#define FAKE_BASE 100000
#define FAKE_N 1024

static int closed[FAKE_N];

static int fake_close(int fd, void *arg)
{
    (void)arg;
    cr_assert(fd >= FAKE_BASE && fd < FAKE_BASE + FAKE_N, "closing a real descriptor %d", fd);
    closed[fd - FAKE_BASE]++;
    return 0;
}

static void dec_init(struct frame_decoder *d, uint32_t max_payload, unsigned max_fds, int packet)
{
    cr_assert(eq(int, frame_decoder_init(d, max_payload, max_fds, packet), 0));
    frame_decoder_set_close(d, fake_close, NULL);
}

/* Every fake descriptor in [0, n) was closed exactly `want` times. */
static void expect_closed(int n, int want)
{
    for (int i = 0; i < n; i++)
        cr_expect(eq(int, closed[i], want), "fake fd %d closed %d times", i, closed[i]);
}

static size_t put_frame(unsigned char *out, uint32_t type, uint32_t id, uint32_t len, unsigned nfds)
{
    cr_assert(eq(int, frame_encode_header(out, type, id, len, nfds), 0));
    util_fill(out + FRAME_HDR_LEN, len, id);
    return FRAME_HDR_LEN + len;
}

static void dsetup(void)
{
    memset(closed, 0, sizeof(closed));
    util_begin();
}

TestSuite(decoder, .init = dsetup);

Test(decoder, header_is_little_endian, .timeout = TEST_TIMEOUT)
{
    unsigned char h[FRAME_HDR_LEN];
    static const unsigned char want[FRAME_HDR_LEN] = {
        0xF5, 1, 0, 3, 0x04, 0x03, 0x02, 0x01, 0x08, 0x07, 0x06, 0x05, 0x0c, 0x0b, 0x0a, 0};
    cr_assert(eq(int, frame_encode_header(h, 0x01020304, 0x05060708, 0x000a0b0c, 3), 0));
    cr_assert(eq(int, memcmp(h, want, sizeof(h)), 0));
    cr_assert(eq(int, frame_encode_header(h, 0, 0, FRAME_MAX_PAYLOAD_LIMIT + 1, 0), -1));
    cr_assert(eq(int, errno, E2BIG));
    cr_assert(eq(int, frame_encode_header(h, 0, 0, 0, FRAME_MAX_FDS_LIMIT + 1), -1));
    cr_assert(eq(int, errno, E2BIG));
    util_end();
}

Test(decoder, init_rejects_limits, .timeout = TEST_TIMEOUT)
{
    struct frame_decoder d;
    cr_assert(eq(int, frame_decoder_init(&d, FRAME_MAX_PAYLOAD_LIMIT + 1, 0, 0), -1));
    cr_assert(eq(int, errno, EINVAL));
    cr_assert(eq(int, frame_decoder_init(&d, 16, FRAME_MAX_FDS_LIMIT + 1, 0), -1));
    cr_assert(eq(int, errno, EINVAL));
    frame_decoder_fini(&d);
    util_end();
}

/* A stream of frames of assorted sizes, then every split of it into two feeds. */
static size_t build_stream(unsigned char *buf, unsigned count)
{
    size_t off = 0;
    for (unsigned i = 0; i < count; i++)
        off += put_frame(buf + off, 100 + i, i, (i * 37) % 300, 0);
    return off;
}

static unsigned drain(struct frame_decoder *d, unsigned expect_from)
{
    struct frame_msg m;
    unsigned got = expect_from;
    int r;
    while ((r = frame_decoder_next(d, &m)) == 1) {
        cr_assert(eq(u32, m.type, 100 + got));
        cr_assert(eq(u32, m.id, got));
        cr_assert(eq(u32, m.len, (got * 37) % 300));
        cr_assert(util_check(m.payload, m.len, got), "payload of %u", got);
        got++;
    }
    cr_assert(eq(int, r, 0));
    return got;
}

static unsigned feed_all(struct frame_decoder *d, const unsigned char *p, size_t n, unsigned got)
{
    while (n > 0) {
        ssize_t k = frame_decoder_feed(d, p, n, NULL, 0, 0);
        cr_assert(k >= 0, "feed: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
        got = drain(d, got);
    }
    return got;
}

Test(decoder, every_split_point, .timeout = TEST_TIMEOUT)
{
    static unsigned char buf[8192];
    size_t n = build_stream(buf, 20);
    for (size_t cut = 0; cut <= n; cut++) {
        struct frame_decoder d;
        dec_init(&d, 1024, 4, 0);
        unsigned got = feed_all(&d, buf, cut, 0);
        got = feed_all(&d, buf + cut, n - cut, got);
        cr_assert(eq(u32, got, 20));
        cr_assert(eq(int, frame_decoder_eof(&d), 0));
        frame_decoder_fini(&d);
    }
    util_end();
}

Test(decoder, one_byte_feeds, .timeout = TEST_TIMEOUT)
{
    static unsigned char buf[8192];
    size_t n = build_stream(buf, 20);
    struct frame_decoder d;
    unsigned got = 0;
    dec_init(&d, 1024, 4, 0);
    for (size_t i = 0; i < n; i++)
        got = feed_all(&d, buf + i, 1, got);
    cr_assert(eq(u32, got, 20));
    cr_assert(eq(int, frame_decoder_eof(&d), 0));
    frame_decoder_fini(&d);
    util_end();
}

Test(decoder, small_buffer_backpressure, .timeout = TEST_TIMEOUT)
{
    static unsigned char buf[65536];
    size_t off = 0;
    struct frame_decoder d;
    dec_init(&d, 300, 0, 0); /* the buffer holds one header + 300 bytes */
    for (unsigned i = 0; i < 100; i++)
        off += put_frame(buf + off, 100 + i, i, (i * 37) % 300, 0);
    /* Feed all of it without taking messages first: feed must stop, not grow. */
    ssize_t k = frame_decoder_feed(&d, buf, off, NULL, 0, 0);
    cr_assert(k > 0 && (size_t)k <= 316, "accepted %zd", k);
    cr_assert(d.cap <= 316);
    unsigned got = drain(&d, 0);
    got = feed_all(&d, buf + k, off - (size_t)k, got);
    cr_assert(eq(u32, got, 100));
    frame_decoder_fini(&d);
    util_end();
}

#define STREAM_START_CAP ((size_t)64 * 1024)
#define STREAM_BACKLOG_CAP ((size_t)256 * 1024)

/* Feeds count frames of build_stream in one call, then takes them all: what capacity the
 * first feed left. */
static size_t cap_after_backlog(uint32_t max_payload, unsigned count)
{
    unsigned char *buf = malloc((size_t)count * (FRAME_HDR_LEN + 300));
    struct frame_decoder d;
    size_t n, cap;
    ssize_t k;
    cr_assert(buf != NULL);
    n = build_stream(buf, count);
    dec_init(&d, max_payload, 0, 0);
    cr_assert(eq(sz, d.cap,
                 STREAM_START_CAP < FRAME_HDR_LEN + max_payload ? STREAM_START_CAP
                                                                : FRAME_HDR_LEN + max_payload));
    k = frame_decoder_feed(&d, buf, n, NULL, 0, 0);
    cr_assert(k > 0 && (size_t)k < n, "fed %zd of %zu", k, n);
    cap = d.cap;
    cr_assert(eq(u32, feed_all(&d, buf + k, n - (size_t)k, drain(&d, 0)), count));
    frame_decoder_fini(&d);
    free(buf);
    return cap;
}

/* A stream read that fills the whole buffer (a backlog) grows it to 256 KiB (frame.3). */
Test(decoder, stream_buffer_grows_on_backlog, .timeout = TEST_TIMEOUT)
{
    cr_expect(eq(sz, cap_after_backlog(FRAME_MAX_PAYLOAD_DEFAULT, 3000), STREAM_BACKLOG_CAP));
    util_end();
}

/* ... but never past header + max_payload. */
Test(decoder, stream_buffer_growth_stops_at_max_payload, .timeout = TEST_TIMEOUT)
{
    cr_expect(eq(sz, cap_after_backlog(100000, 3000), FRAME_HDR_LEN + (size_t)100000));
    util_end();
}

/* Reads that leave room never grow it. */
Test(decoder, stream_buffer_stays_without_backlog, .timeout = TEST_TIMEOUT)
{
    unsigned char *buf = malloc((size_t)3000 * (FRAME_HDR_LEN + 300));
    struct frame_decoder d;
    unsigned got = 0;
    size_t n;
    cr_assert(buf != NULL);
    n = build_stream(buf, 3000);
    dec_init(&d, FRAME_MAX_PAYLOAD_DEFAULT, 0, 0);
    for (size_t off = 0; off < n; off += 1000)
        got = feed_all(&d, buf + off, n - off < 1000 ? n - off : 1000, got);
    cr_assert(eq(u32, got, 3000));
    cr_expect(eq(sz, d.cap, STREAM_START_CAP));
    frame_decoder_fini(&d);
    free(buf);
    util_end();
}

Test(decoder, max_and_oversize_payload, .timeout = TEST_TIMEOUT)
{
    size_t max = 70000;
    unsigned char *buf = malloc(FRAME_HDR_LEN + max + 1);
    struct frame_decoder d;
    struct frame_msg m;
    cr_assert(buf != NULL);
    dec_init(&d, (uint32_t)max, 0, 0);
    size_t n = put_frame(buf, 1, 7, (uint32_t)max, 0);
    for (size_t off = 0; off < n;) {
        cr_assert(eq(int, frame_decoder_next(&d, &m), 0));
        ssize_t k = frame_decoder_feed(&d, buf + off, n - off, NULL, 0, 0);
        cr_assert(k > 0);
        off += (size_t)k;
    }
    cr_assert(eq(int, frame_decoder_next(&d, &m), 1));
    cr_assert(eq(u32, m.len, (uint32_t)max));
    cr_assert(util_check(m.payload, m.len, 7));
    cr_assert(d.cap <= FRAME_HDR_LEN + max);
    put_frame(buf, 1, 8, (uint32_t)max + 1, 0);
    cr_assert(
        eq(sz, (size_t)frame_decoder_feed(&d, buf, FRAME_HDR_LEN, NULL, 0, 0), FRAME_HDR_LEN));
    cr_assert(eq(int, frame_decoder_next(&d, &m), -1));
    cr_assert(eq(int, errno, E2BIG));
    frame_decoder_fini(&d);
    free(buf);
    util_end();
}

/* Each header field broken alone, and the errno it must map to. */
static void bad_header(int byte, unsigned char value, int want)
{
    unsigned char h[FRAME_HDR_LEN];
    struct frame_decoder d;
    struct frame_msg m;
    dec_init(&d, 1000, 4, 0);
    put_frame(h, 1, 2, 0, 0);
    h[byte] = value;
    /* Validation is lazy without descriptors: feed accepts, the next call reports. */
    for (int i = 0; i < FRAME_HDR_LEN; i++) {
        cr_assert(eq(int, frame_decoder_next(&d, &m), 0));
        cr_assert(eq(int, (int)frame_decoder_feed(&d, h + i, 1, NULL, 0, 0), 1));
    }
    cr_assert(eq(int, frame_decoder_next(&d, &m), -1), "byte %d = %#x accepted", byte, value);
    cr_assert(eq(int, errno, want));
    cr_assert(eq(int, (int)frame_decoder_feed(&d, h, 1, NULL, 0, 0), -1), "error is sticky");
    cr_assert(eq(int, errno, want));
    cr_assert(eq(int, frame_decoder_eof(&d), -1));
    cr_assert(eq(int, errno, want));
    frame_decoder_fini(&d);
}

Test(decoder, malformed_header_fields, .timeout = TEST_TIMEOUT)
{
    bad_header(0, 0x00, EBADMSG);
    bad_header(0, 0xF4, EBADMSG);
    bad_header(1, 0, EBADMSG);
    bad_header(1, 2, EBADMSG);
    for (int bit = 0; bit < 8; bit++)
        bad_header(2, (unsigned char)(1u << bit), EBADMSG);
    bad_header(3, 5, E2BIG);
    bad_header(3, 255, E2BIG);
    bad_header(13, 0x04, E2BIG); /* len 1024 > 1000 */
    bad_header(15, 0x80, E2BIG);
    bad_header(15, 0xff, E2BIG);
    util_end();
}

Test(decoder, descriptors_claimed_in_order, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[256];
    int fds[6] = {FAKE_BASE + 0, FAKE_BASE + 1, FAKE_BASE + 2,
                  FAKE_BASE + 3, FAKE_BASE + 4, FAKE_BASE + 5};
    struct frame_decoder d;
    struct frame_msg m;
    dec_init(&d, 100, 4, 0);
    size_t a = put_frame(buf, 1, 1, 10, 2);
    size_t b = put_frame(buf + a, 2, 2, 0, 0);
    size_t c = put_frame(buf + a + b, 3, 3, 5, 4);
    /* Chunks: [frame 1 + half of frame 2] with 2 fds, [rest of 2 + 3] with 4 fds. */
    cr_assert(eq(int, (int)frame_decoder_feed(&d, buf, a + 4, fds, 2, 0), (int)(a + 4)));
    cr_assert(eq(int, (int)frame_decoder_feed(&d, buf + a + 4, b - 4 + c, fds + 2, 4, 0),
                 (int)(b - 4 + c)));
    cr_assert(eq(int, frame_decoder_next(&d, &m), 1));
    cr_assert(eq(u32, m.nfds, 2));
    cr_assert(eq(int, m.fds[0], fds[0]));
    cr_assert(eq(int, frame_msg_take_fd(&m, 1), fds[1]));
    cr_assert(eq(int, frame_msg_take_fd(&m, 1), -1));
    cr_assert(eq(int, errno, EINVAL));
    cr_assert(eq(int, frame_msg_take_fd(&m, 2), -1));
    cr_assert(eq(int, frame_decoder_next(&d, &m), 1)); /* closes fds[0] */
    cr_assert(eq(u32, m.nfds, 0));
    cr_assert(eq(int, closed[0], 1));
    cr_assert(eq(int, frame_decoder_next(&d, &m), 1));
    cr_assert(eq(u32, m.nfds, 4));
    for (unsigned i = 0; i < 4; i++)
        cr_assert(eq(int, m.fds[i], fds[2 + i]));
    cr_assert(eq(int, frame_msg_take_fd(&m, 3), fds[5]));
    frame_msg_release(&m);
    frame_msg_release(&m);
    cr_assert(eq(int, frame_decoder_next(&d, &m), 0));
    cr_assert(eq(int, frame_decoder_eof(&d), 0));
    frame_decoder_fini(&d);
    cr_assert(eq(int, closed[1] + closed[5], 0), "taken descriptors were closed");
    cr_assert(eq(int, closed[0] + closed[2] + closed[3] + closed[4], 4));
    util_end();
}

Test(decoder, stale_message_cannot_close_new_descriptors, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[64];
    int fd0 = FAKE_BASE, fd1 = FAKE_BASE + 1;
    struct frame_decoder d;
    struct frame_msg m1, m2;
    dec_init(&d, 100, 4, 0);
    size_t a = put_frame(buf, 1, 1, 0, 1);
    size_t b = put_frame(buf + a, 2, 2, 0, 1);
    frame_decoder_feed(&d, buf, a, &fd0, 1, 0);
    frame_decoder_feed(&d, buf + a, b, &fd1, 1, 0);
    cr_assert(eq(int, frame_decoder_next(&d, &m1), 1));
    cr_assert(eq(int, frame_decoder_next(&d, &m2), 1));
    cr_assert(eq(int, closed[0], 1));
    frame_msg_release(&m1);
    cr_assert(eq(int, frame_msg_take_fd(&m1, 0), -1));
    cr_assert(eq(int, closed[1], 0));
    cr_assert(eq(int, frame_msg_take_fd(&m2, 0), fd1));
    frame_decoder_fini(&d);
    cr_assert(eq(int, closed[1], 0));
    util_end();
}

/* A decoder fed `chunks`, each with its descriptors; expects the errno of the first failure. */
struct chunk {
    size_t from, to;
    unsigned nfds;
    int flags;
};

static void run_chunks(const unsigned char *buf, const struct chunk *c, int n, int eof, int want)
{
    struct frame_decoder d;
    struct frame_msg m;
    int next_fd = 0, r = 0;
    memset(closed, 0, sizeof(closed));
    dec_init(&d, 1000, 8, 0);
    for (int i = 0; i < n && r == 0; i++) {
        int fds[16];
        for (unsigned j = 0; j < c[i].nfds; j++)
            fds[j] = FAKE_BASE + next_fd++;
        ssize_t k = frame_decoder_feed(&d, buf + c[i].from, c[i].to - c[i].from, fds, c[i].nfds,
                                       c[i].flags);
        if (k == -1)
            r = errno;
        while (r == 0 && (k = frame_decoder_next(&d, &m)) != 0)
            if (k == -1)
                r = errno;
    }
    if (r == 0 && eof && frame_decoder_eof(&d) == -1)
        r = errno;
    cr_assert(eq(int, r, want), "got %s", strerror(r));
    frame_decoder_fini(&d);
    expect_closed(next_fd, 1);
}

Test(decoder, association_rule, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[256];
    size_t a = put_frame(buf, 1, 1, 40, 2);
    size_t b = put_frame(buf + a, 2, 2, 40, 0);
    size_t e = a + b;
    /* Good: descriptors with the header's first byte, and with a chunk that starts earlier. */
    run_chunks(buf, (struct chunk[]){{0, 1, 2, 0}, {1, e, 0, 0}}, 2, 1, 0);
    run_chunks(buf, (struct chunk[]){{0, e, 2, 0}}, 1, 1, 0);
    /* Arrived after the header's first byte: too few for the header. */
    run_chunks(buf, (struct chunk[]){{0, 1, 0, 0}, {1, e, 2, 0}}, 2, 1, EPROTO);
    /* Too few. */
    run_chunks(buf, (struct chunk[]){{0, e, 1, 0}}, 1, 1, EPROTO);
    /* Too many: the extra one is unclaimed once the next header is parsed. */
    run_chunks(buf, (struct chunk[]){{0, a, 3, 0}, {a, e, 0, 0}}, 2, 1, EPROTO);
    /* In the middle of a payload: no header can claim it. */
    run_chunks(buf, (struct chunk[]){{0, 30, 2, 0}, {30, 31, 1, 0}, {31, e, 0, 0}}, 3, 0, EPROTO);
    /* Queued at end of input. */
    run_chunks(buf, (struct chunk[]){{0, a, 2, 0}, {a, a + 3, 1, 0}}, 2, 1, EPROTO);
    /* With the second frame's first byte, but it declares none. */
    run_chunks(buf, (struct chunk[]){{0, a, 2, 0}, {a, e, 1, 0}}, 2, 1, EPROTO);
    /* Control or data truncated. */
    run_chunks(buf, (struct chunk[]){{0, e, 2, FRAME_IN_CTRUNC}}, 1, 1, EPROTO);
    run_chunks(buf, (struct chunk[]){{0, e, 2, FRAME_IN_TRUNC}}, 1, 1, EPROTO);
    /* Descriptors with no bytes. */
    run_chunks(buf, (struct chunk[]){{0, 0, 1, 0}}, 1, 1, EPROTO);
    /* End of input inside a header and inside a payload. */
    run_chunks(buf, (struct chunk[]){{0, 5, 2, 0}}, 1, 1, EPROTO);
    run_chunks(buf, (struct chunk[]){{0, a - 1, 2, 0}}, 1, 1, EPROTO);
    util_end();
}

Test(decoder, no_descriptors_allowed, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[64];
    int fd = FAKE_BASE;
    struct frame_decoder d;
    struct frame_msg m;
    size_t n = put_frame(buf, 1, 1, 4, 0);
    dec_init(&d, 100, 0, 0);
    /* The frame itself is whole; the stray descriptor fails at the next boundary. */
    cr_assert(eq(int, (int)frame_decoder_feed(&d, buf, n, &fd, 1, 0), (int)n));
    cr_assert(eq(int, frame_decoder_next(&d, &m), 1));
    cr_assert(eq(u32, m.nfds, 0));
    cr_assert(eq(int, frame_decoder_next(&d, &m), -1));
    cr_assert(eq(int, errno, EPROTO));
    cr_assert(eq(int, closed[0], 1));
    frame_decoder_fini(&d);
    util_end();
}

/* An error in a later header must not cost the messages ahead of it, however split. */
Test(decoder, error_after_messages_any_split, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[128];
    size_t a = put_frame(buf, 100, 0, 5, 0);
    size_t b = put_frame(buf + a, 101, 1, 0, 0);
    size_t n = a + b + put_frame(buf + a + b, 1, 1, 0, 0);
    buf[a + b] = 0; /* bad magic in the third header */
    for (size_t cut = 0; cut <= n; cut++) {
        struct frame_decoder d;
        struct frame_msg m;
        unsigned got = 0;
        int r;
        dec_init(&d, 100, 4, 0);
        const unsigned char *p = buf;
        size_t left = n;
        for (int pass = 0; pass < 2; pass++) {
            size_t len = pass == 0 ? cut : left;
            if (len == 0)
                continue;
            ssize_t k = frame_decoder_feed(&d, p, len, NULL, 0, 0);
            cr_assert(eq(sz, (size_t)k, len), "cut %zu", cut);
            p += len;
            left -= len;
            while ((r = frame_decoder_next(&d, &m)) == 1) {
                cr_assert(eq(u32, m.id, got));
                got++;
            }
        }
        cr_assert(eq(int, r, -1), "cut %zu", cut);
        cr_assert(eq(int, errno, EBADMSG));
        cr_assert(eq(u32, got, 2), "cut %zu: %u messages", cut, got);
        frame_decoder_fini(&d);
    }
    util_end();
}

Test(decoder, hostile_descriptor_flood_is_bounded, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[FRAME_HDR_LEN + 1000];
    int fds[FAKE_N];
    struct frame_decoder d;
    struct frame_msg m;
    int sent = 0;
    put_frame(buf, 1, 1, 1000, 0);
    for (int i = 0; i < FAKE_N; i++)
        fds[i] = FAKE_BASE + i;
    dec_init(&d, 1000, 8, 0);
    /* Eight descriptors with each of the first 120 bytes: none can be claimed. */
    for (size_t i = 0; i < sizeof(buf); i++) {
        unsigned k = i < 120 ? 8 : 0;
        cr_assert(eq(int, (int)frame_decoder_feed(&d, buf + i, 1, fds + sent, k, 0), 1));
        sent += (int)k;
        cr_assert(d.fdq_len <= (size_t)16 * 8, "%zu descriptors queued", d.fdq_len);
        cr_assert(eq(int, frame_decoder_next(&d, &m), i + 1 == sizeof(buf)));
    }
    cr_assert(eq(int, frame_decoder_next(&d, &m), -1));
    cr_assert(eq(int, errno, EPROTO));
    frame_decoder_fini(&d);
    expect_closed(sent, 1);
    util_end();
}

static int packet_case(const unsigned char *p, size_t n, unsigned nfds, int flags)
{
    int fds[8] = {FAKE_BASE, FAKE_BASE + 1, FAKE_BASE + 2, FAKE_BASE + 3};
    struct frame_decoder d;
    struct frame_msg m;
    int r;
    memset(closed, 0, sizeof(closed));
    dec_init(&d, 100, 4, 1);
    if (frame_decoder_feed(&d, p, n, fds, nfds, flags) == -1) {
        r = errno;
    } else {
        cr_assert(eq(int, frame_decoder_next(&d, &m), 1));
        cr_assert(eq(u32, m.nfds, nfds));
        cr_assert(eq(int, frame_decoder_next(&d, &m), 0));
        r = 0;
    }
    frame_decoder_fini(&d);
    expect_closed((int)nfds, 1);
    return r;
}

Test(decoder, packet_mode, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[256];
    size_t n = put_frame(buf, 1, 1, 20, 2);
    cr_assert(eq(int, packet_case(buf, n, 2, 0), 0));
    cr_assert(eq(int, packet_case(buf, n - 1, 2, 0), EPROTO));
    cr_assert(eq(int, packet_case(buf, n + 1, 2, 0), EPROTO));
    cr_assert(eq(int, packet_case(buf, 10, 0, 0), EPROTO));
    cr_assert(eq(int, packet_case(buf, 0, 0, 0), EPROTO));
    cr_assert(eq(int, packet_case(buf, n, 1, 0), EPROTO));
    cr_assert(eq(int, packet_case(buf, n, 3, 0), EPROTO));
    cr_assert(eq(int, packet_case(buf, n, 2, FRAME_IN_TRUNC), EPROTO));
    cr_assert(eq(int, packet_case(buf, n, 2, FRAME_IN_CTRUNC), EPROTO));
    buf[0] = 0;
    cr_assert(eq(int, packet_case(buf, n, 2, 0), EBADMSG));
    put_frame(buf, 1, 1, 101, 0);
    cr_assert(eq(int, packet_case(buf, FRAME_HDR_LEN + 101, 0, 0), E2BIG));
    util_end();
}

Test(decoder, packet_two_datagrams, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[256];
    struct frame_decoder d;
    struct frame_msg m;
    size_t a = put_frame(buf, 1, 1, 20, 0);
    size_t b = put_frame(buf + a, 2, 2, 0, 0);
    dec_init(&d, 100, 0, 1);
    cr_assert(eq(int, (int)frame_decoder_feed(&d, buf, a, NULL, 0, 0), (int)a));
    cr_assert(eq(int, (int)frame_decoder_feed(&d, buf + a, b, NULL, 0, 0), 0)); /* full */
    cr_assert(eq(int, frame_decoder_next(&d, &m), 1));
    cr_assert(eq(u32, m.id, 1));
    cr_assert(eq(int, (int)frame_decoder_feed(&d, buf + a, b, NULL, 0, 0), (int)b));
    cr_assert(eq(int, frame_decoder_next(&d, &m), 1));
    cr_assert(eq(u32, m.id, 2));
    cr_assert(eq(int, frame_decoder_next(&d, &m), 0));
    cr_assert(eq(int, frame_decoder_eof(&d), 0));
    frame_decoder_fini(&d);
    util_end();
}

/* drain() through frame_decoder_next_batch, max messages per call. */
static unsigned drain_batch(struct frame_decoder *d, unsigned got, int max)
{
    struct frame_msg m[8];
    int r;
    while ((r = frame_decoder_next_batch(d, m, max)) > 0) {
        cr_assert(r <= max, "%d messages for max %d", r, max);
        for (int i = 0; i < r; i++, got++) {
            cr_assert(eq(u32, m[i].type, 100 + got));
            cr_assert(eq(u32, m[i].id, got));
            cr_assert(eq(u32, m[i].len, (got * 37) % 300));
            cr_assert(eq(u32, m[i].nfds, 0));
            cr_assert(util_check(m[i].payload, m[i].len, got), "payload of %u", got);
        }
    }
    cr_assert(eq(int, r, 0));
    return got;
}

/* Batches give the messages one-at-a-time calls give, in order, for every split and size. */
Test(decoder, batch_matches_single_any_split, .timeout = TEST_TIMEOUT)
{
    static unsigned char buf[8192];
    static const int maxes[] = {1, 2, 3, 8};
    size_t n = build_stream(buf, 20);
    for (size_t cut = 0; cut <= n; cut += 7) {
        for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
            struct frame_decoder d;
            unsigned got = 0;
            dec_init(&d, 1024, 4, 0);
            for (const unsigned char *p = buf; p < buf + n;) {
                size_t len = p == buf && cut > 0 ? cut : (size_t)(buf + n - p);
                ssize_t k = frame_decoder_feed(&d, p, len, NULL, 0, 0);
                cr_assert(k >= 0, "feed: %s", strerror(errno));
                p += k;
                got = drain_batch(&d, got, maxes[i]);
            }
            cr_assert(eq(u32, got, 20), "cut %zu max %d", cut, maxes[i]);
            cr_assert(eq(int, frame_decoder_eof(&d), 0));
            frame_decoder_fini(&d);
        }
    }
    util_end();
}

/* A batch ends before a bad header; the next call reports it. */
Test(decoder, batch_stops_before_bad_header, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[128];
    struct frame_decoder d;
    struct frame_msg m[8];
    size_t a = put_frame(buf, 100, 0, 5, 0);
    size_t b = put_frame(buf + a, 101, 1, 0, 0);
    size_t n = a + b + put_frame(buf + a + b, 1, 1, 0, 0);
    buf[a + b + 1] = 9; /* unknown version in the third header */
    dec_init(&d, 100, 4, 0);
    cr_assert(eq(sz, (size_t)frame_decoder_feed(&d, buf, n, NULL, 0, 0), n));
    cr_assert(eq(int, frame_decoder_next_batch(&d, m, 8), 2));
    cr_expect(eq(u32, m[0].id, 0));
    cr_expect(eq(u32, m[1].id, 1));
    cr_assert(eq(int, frame_decoder_next_batch(&d, m, 8), -1));
    cr_expect(eq(int, errno, EBADMSG));
    frame_decoder_fini(&d);
    util_end();
}

/* While descriptors are queued, each call returns one message, with its own descriptors. */
Test(decoder, batch_descriptor_message_comes_alone, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[128];
    int fd = FAKE_BASE;
    struct frame_decoder d;
    struct frame_msg m[8];
    size_t a = put_frame(buf, 1, 1, 3, 0);
    size_t b = put_frame(buf + a, 2, 2, 4, 1);
    size_t n = a + b + put_frame(buf + a + b, 3, 3, 0, 0);
    dec_init(&d, 100, 4, 0);
    cr_assert(eq(sz, (size_t)frame_decoder_feed(&d, buf, a, NULL, 0, 0), a));
    cr_assert(eq(sz, (size_t)frame_decoder_feed(&d, buf + a, n - a, &fd, 1, 0), n - a));
    cr_assert(eq(int, frame_decoder_next_batch(&d, m, 8), 1));
    cr_expect(eq(u32, m[0].id, 1));
    cr_assert(eq(int, frame_decoder_next_batch(&d, m, 8), 1));
    cr_expect(eq(u32, m[0].id, 2));
    cr_assert(eq(u32, m[0].nfds, 1));
    cr_expect(eq(int, m[0].fds[0], fd));
    cr_assert(eq(int, frame_decoder_next_batch(&d, m, 8), 1)); /* closes the untaken fd */
    cr_expect(eq(u32, m[0].id, 3));
    cr_expect(eq(int, closed[0], 1));
    cr_assert(eq(int, frame_decoder_next_batch(&d, m, 8), 0));
    frame_decoder_fini(&d);
    expect_closed(1, 1);
    util_end();
}

/* Messages of a batch own nothing: take_fd fails, release is a no-op. */
Test(decoder, batch_messages_own_no_descriptors, .timeout = TEST_TIMEOUT)
{
    unsigned char buf[64];
    struct frame_decoder d;
    struct frame_msg m[4];
    size_t n = put_frame(buf, 1, 1, 0, 0);
    n += put_frame(buf + n, 2, 2, 0, 0);
    dec_init(&d, 100, 4, 0);
    cr_assert(eq(sz, (size_t)frame_decoder_feed(&d, buf, n, NULL, 0, 0), n));
    cr_assert(eq(int, frame_decoder_next_batch(&d, m, 4), 2));
    cr_expect(m[0].fds != NULL && m[1].fds != NULL, "fds is NULL: copying 0 entries is undefined");
    cr_expect(eq(int, frame_msg_take_fd(&m[0], 0), -1));
    cr_expect(eq(int, errno, EINVAL));
    frame_msg_release(&m[1]);
    frame_msg_release(&m[1]);
    cr_assert(eq(int, frame_decoder_next_batch(&d, m, 0), -1));
    cr_expect(eq(int, errno, EINVAL));
    frame_decoder_fini(&d);
    util_end();
}
