/* Channels over real socket pairs. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "compat_names.h" /* SO_PASSPIDFD where the headers are older than the kernel */
#include "sockspec_config.h"

TestSuite(chan, .init = util_begin);

static void send_ok(struct frame_chan *c, uint32_t id, size_t len, const int *fds, unsigned nfds,
                    enum frame_fd_mode mode)
{
    unsigned char *p = malloc(len ? len : 1);
    cr_assert(p != NULL);
    util_fill(p, len, id);
    cr_assert(eq(int, frame_send(c, 7, id, p, len, fds, nfds, mode), 0), "send %u: %s", id,
              strerror(errno));
    free(p);
}

static void recv_ok(struct util_duo *d, uint32_t id, size_t len, unsigned nfds)
{
    struct frame_msg m;
    cr_assert(eq(int, util_pump(&d->a, &d->b, &m), 1), "pump: %s", strerror(errno));
    cr_assert(eq(u32, m.type, 7));
    cr_assert(eq(u32, m.id, id));
    cr_assert(eq(u32, m.len, (uint32_t)len));
    cr_assert(util_check(m.payload, m.len, id), "payload of %u", id);
    cr_assert(eq(u32, m.nfds, nfds));
    for (unsigned i = 0; i < nfds; i++)
        cr_assert(util_is_cloexec(m.fds[i]), "received fd without FD_CLOEXEC");
    frame_msg_release(&m);
}

static void round_trip(int type, size_t big)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 64, 1000, 4096};
    struct util_duo d;
    util_duo_open(&d, type, NULL, NULL);
    for (uint32_t id = 0; id < 8; id++)
        send_ok(&d.a, id, sizes[id], NULL, 0, FRAME_FDS_BORROW);
    send_ok(&d.a, 8, big, NULL, 0, FRAME_FDS_BORROW);
    for (uint32_t id = 0; id < 8; id++)
        recv_ok(&d, id, sizes[id], 0);
    recv_ok(&d, 8, big, 0);
    cr_assert(eq(sz, frame_pending(&d.a), 0));
    util_duo_close(&d);
}

Test(chan, round_trip_stream, .timeout = TEST_TIMEOUT)
{
    round_trip(SOCK_STREAM, FRAME_MAX_PAYLOAD_DEFAULT);
    util_end();
}

Test(chan, round_trip_seqpacket, .timeout = TEST_TIMEOUT)
{
    round_trip(SOCK_SEQPACKET, 100000);
    util_end();
}

Test(chan, round_trip_dgram, .timeout = TEST_TIMEOUT)
{
    round_trip(SOCK_DGRAM, 100000);
    util_end();
}

/* A stream read holding ten frames gives them in batches, in order; packets come one a call. */
static void batch_round_trip(int type, unsigned want_first)
{
    struct util_duo d;
    struct frame_msg m[8];
    uint32_t next = 0;
    util_duo_open(&d, type, NULL, NULL);
    for (uint32_t id = 0; id < 10; id++)
        send_ok(&d.a, id, (size_t)id * 3, NULL, 0, FRAME_FDS_BORROW);
    cr_assert(eq(int, frame_flush(&d.a), 0));
    for (int calls = 0; next < 10; calls++) {
        int r = frame_next_batch(&d.b, m, 8);
        cr_assert(r >= 0, "next_batch: %s", strerror(errno));
        if (calls == 1)
            cr_expect(eq(int, r, (int)want_first));
        for (int i = 0; i < r; i++, next++) {
            cr_assert(eq(u32, m[i].id, next));
            cr_assert(util_check(m[i].payload, m[i].len, next), "payload of %u", next);
        }
        if (r == 0)
            cr_assert(frame_recv(&d.b) > 0, "recv: %s", strerror(errno));
    }
    util_duo_close(&d);
}

Test(chan, next_batch_stream, .timeout = TEST_TIMEOUT)
{
    batch_round_trip(SOCK_STREAM, 8);
    util_end();
}

Test(chan, next_batch_seqpacket, .timeout = TEST_TIMEOUT)
{
    batch_round_trip(SOCK_SEQPACKET, 1);
    util_end();
}

Test(chan, blocking_wait_helpers, .timeout = TEST_TIMEOUT)
{
    int sv[2];
    struct frame_chan a, b;
    struct frame_msg m;
    util_pair(SOCK_STREAM, sv);
    cr_assert(eq(int, frame_chan_init(&a, sv[0], NULL), 0));
    cr_assert(eq(int, frame_chan_init(&b, sv[1], NULL), 0));
    cr_assert(eq(int, frame_send_wait(&a, 1, 2, "hi", 2, NULL, 0, FRAME_FDS_BORROW, 1000), 0));
    cr_assert(eq(int, frame_recv_wait(&b, &m, 1000), 1));
    cr_assert(eq(int, memcmp(m.payload, "hi", 2), 0));
    cr_assert(eq(int, frame_recv_wait(&b, &m, 10), -1));
    cr_assert(eq(int, errno, ETIMEDOUT));
    util_close(sv[0]);
    cr_assert(eq(int, frame_recv_wait(&b, &m, 1000), 0), "clean end of file");
    frame_chan_fini(&a);
    frame_chan_fini(&b);
    util_close(sv[1]);
    util_end();
}

static void fds_round_trip(int type, unsigned k, unsigned limit, enum frame_fd_mode mode)
{
    struct frame_opts o;
    struct util_duo d;
    struct frame_msg m;
    int fds[FRAME_MAX_FDS_LIMIT], pipefd[2];
    frame_opts_default(&o);
    o.max_fds = limit;
    util_duo_open(&d, type, &o, &o);
    cr_assert(eq(int, pipe(pipefd), 0));
    for (unsigned i = 0; i < k; i++)
        cr_assert(0 <= (fds[i] = dup(pipefd[i % 2])));
    send_ok(&d.a, 1, 0, NULL, 0, mode); /* before: must not take the descriptors */
    send_ok(&d.a, 2, 3, fds, k, mode);
    send_ok(&d.a, 3, 5, NULL, 0, mode); /* after: queued behind frame 2 */
    if (mode == FRAME_FDS_BORROW)
        for (unsigned i = 0; i < k; i++)
            cr_assert(util_is_open(fds[i]));
    recv_ok(&d, 1, 0, 0);
    cr_assert(eq(int, util_pump(&d.a, &d.b, &m), 1));
    cr_assert(eq(u32, m.id, 2));
    cr_assert(eq(u32, m.nfds, k));
    for (unsigned i = 0; i < k; i++) {
        cr_assert(util_same_file(m.fds[i], pipefd[i % 2]), "descriptor %u of %u", i, k);
        cr_assert(util_is_cloexec(m.fds[i]));
    }
    if (k) {
        int t = frame_msg_take_fd(&m, 0);
        cr_assert(t >= 0);
        util_close(t);
    }
    recv_ok(&d, 3, 5, 0); /* closes the rest of frame 2's */
    for (unsigned i = 0; i < k; i++) {
        if (mode == FRAME_FDS_BORROW)
            util_close(fds[i]);
        else
            cr_assert(0 == util_is_open(fds[i]), "a taken descriptor stayed open after sending");
    }
    util_close(pipefd[0]);
    util_close(pipefd[1]);
    util_duo_close(&d);
}

Test(chan, descriptors_zero_to_limit, .timeout = TEST_TIMEOUT)
{
    for (unsigned k = 0; k <= FRAME_MAX_FDS_DEFAULT; k++) {
        fds_round_trip(SOCK_STREAM, k, FRAME_MAX_FDS_DEFAULT,
                       k % 2 ? FRAME_FDS_TAKE : FRAME_FDS_BORROW);
        fds_round_trip(SOCK_SEQPACKET, k, FRAME_MAX_FDS_DEFAULT, FRAME_FDS_BORROW);
        fds_round_trip(SOCK_DGRAM, k, FRAME_MAX_FDS_DEFAULT, FRAME_FDS_TAKE);
    }
    util_end();
}

Test(chan, descriptors_os_limit, .timeout = TEST_TIMEOUT)
{
    fds_round_trip(SOCK_STREAM, FRAME_MAX_FDS_LIMIT, FRAME_MAX_FDS_LIMIT, FRAME_FDS_BORROW);
    fds_round_trip(SOCK_SEQPACKET, FRAME_MAX_FDS_LIMIT, FRAME_MAX_FDS_LIMIT, FRAME_FDS_TAKE);
    util_end();
}

/* Rejected sends with FRAME_FDS_BORROW leave the caller its descriptors, to retry with. */
Test(chan, send_rejections_borrowed, .timeout = TEST_TIMEOUT)
{
    struct frame_opts o;
    struct util_duo d;
    int fds[FRAME_MAX_FDS_DEFAULT + 1];
    frame_opts_default(&o);
    o.max_payload = 100;
    o.sendq_max = 300;
    util_duo_open(&d, SOCK_STREAM, &o, &o);
    for (unsigned i = 0; i <= FRAME_MAX_FDS_DEFAULT; i++)
        cr_assert(0 <= (fds[i] = dup(0 + d.sv[0])));
    cr_assert(eq(int, frame_send(&d.a, 1, 1, "x", 101, NULL, 0, FRAME_FDS_TAKE), -1));
    cr_assert(eq(int, errno, E2BIG));
    cr_assert(eq(
        int, frame_send(&d.a, 1, 1, "x", 1, fds, FRAME_MAX_FDS_DEFAULT + 1, FRAME_FDS_BORROW), -1));
    cr_assert(eq(int, errno, E2BIG));
    cr_assert(eq(int, frame_send(&d.a, 1, 1, "x", 1, fds, 1, (enum frame_fd_mode)7), -1));
    cr_assert(eq(int, errno, EINVAL));
    /* The send queue's byte cap. */
    static const char p[100];
    cr_assert(eq(int, frame_send(&d.a, 1, 1, p, 100, NULL, 0, FRAME_FDS_TAKE), 0));
    cr_assert(eq(int, frame_send(&d.a, 1, 2, p, 100, NULL, 0, FRAME_FDS_TAKE), 0));
    cr_assert(eq(int, frame_send(&d.a, 1, 3, p, 100, fds, 2, FRAME_FDS_BORROW), -1));
    cr_assert(eq(int, errno, ENOBUFS));
    cr_assert(eq(sz, frame_pending(&d.a), 232));
    cr_assert(eq(int, frame_flush(&d.a), 0));
    cr_assert(eq(int, frame_send(&d.a, 1, 3, p, 100, fds, 2, FRAME_FDS_TAKE), 0));
    cr_assert(eq(int, frame_flush(&d.a), 0));
    for (unsigned i = 0; i <= FRAME_MAX_FDS_DEFAULT; i++)
        cr_assert(eq(int, util_is_open(fds[i]), i >= 2));
    for (unsigned i = 2; i <= FRAME_MAX_FDS_DEFAULT; i++)
        util_close(fds[i]);
    util_duo_close(&d); /* the two sent descriptors go with the sockets */
    util_end();
}

/* Descriptors of fds[0..n) still open in this process, by F_GETFD on each number. */
static unsigned count_open(const int *fds, unsigned n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++)
        if (fcntl(fds[i], F_GETFD) != -1)
            k++;
    return k;
}

/* Writes raw bytes until the socket takes no more; bounded by its buffer. */
static void fill_socket(int fd)
{
    static const char junk[4096];
    int e;
    while (send(fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
        continue;
    e = errno;
    cr_assert(e == EAGAIN || e == EWOULDBLOCK, "fill: %s", strerror(e));
}

static void close_borrowed(const int fds[2], enum frame_fd_mode mode)
{
    if (mode == FRAME_FDS_BORROW) {
        util_close(fds[0]);
        util_close(fds[1]);
    }
}

typedef int send_call(struct frame_chan *c, size_t len, const int fds[2], enum frame_fd_mode mode);

static int call_send(struct frame_chan *c, size_t len, const int fds[2], enum frame_fd_mode mode)
{
    static const char p[200];
    return frame_send(c, 7, 1, p, len, fds, 2, mode);
}

static int call_send_wait(struct frame_chan *c, size_t len, const int fds[2],
                          enum frame_fd_mode mode)
{
    static const char p[200];
    return frame_send_wait(c, 7, 1, p, len, fds, 2, mode, 0);
}

static void dup_two(int fd, int fds[2])
{
    cr_assert(0 <= (fds[0] = dup(fd)) && 0 <= (fds[1] = dup(fd)));
}

/* One call as it sends, as it queues on a full socket (frame_send: 0; frame_send_wait with no
 * time: ETIMEDOUT), and as it fails (E2BIG; ENOBUFS with the socket and the queue full). After
 * each, FRAME_FDS_TAKE has left none of the caller's two descriptors open but those it queued,
 * which the channel holds until frame_chan_fini; FRAME_FDS_BORROW leaves the caller both. */
static void fd_ownership(send_call *call, int queued_rc, enum frame_fd_mode mode)
{
    static const char p[100];
    unsigned expect = mode == FRAME_FDS_TAKE ? 0 : 2;
    struct frame_opts o;
    struct frame_msg m;
    struct util_duo d;
    int fds[2], queued[2];
    frame_opts_default(&o);
    o.max_payload = 100;
    o.sendq_max = 300;
    util_duo_open(&d, SOCK_STREAM, &o, &o);

    dup_two(d.sv[0], fds);
    cr_assert(eq(int, call(&d.a, 1, fds, mode), 0), "success: %s", strerror(errno));
    cr_assert(eq(u32, count_open(fds, 2), expect), "after a success");
    cr_assert(eq(int, util_pump(&d.a, &d.b, &m), 1));
    cr_assert(eq(u32, m.nfds, 2));
    frame_msg_release(&m);
    close_borrowed(fds, mode);

    dup_two(d.sv[0], fds);
    cr_assert(eq(int, call(&d.a, 101, fds, mode), -1));
    cr_assert(eq(int, errno, E2BIG));
    cr_assert(eq(u32, count_open(fds, 2), expect), "after E2BIG");
    close_borrowed(fds, mode);

    fill_socket(d.sv[0]);
    dup_two(d.sv[0], queued);
    cr_assert(eq(int, call(&d.a, 1, queued, mode), queued_rc));
    if (queued_rc == -1)
        cr_assert(eq(int, errno, ETIMEDOUT));
    cr_assert(eq(u32, count_open(queued, 2), 2), "queued");

    cr_assert(eq(int, frame_send(&d.a, 7, 2, p, 100, NULL, 0, mode), 0));
    cr_assert(eq(int, frame_send(&d.a, 7, 3, p, 100, NULL, 0, mode), 0));
    dup_two(d.sv[0], fds);
    cr_assert(eq(int, call(&d.a, 100, fds, mode), -1));
    cr_assert(eq(int, errno, ENOBUFS));
    cr_assert(eq(u32, count_open(fds, 2), expect), "after ENOBUFS");
    close_borrowed(fds, mode);
    util_duo_close(&d);
    cr_assert(eq(u32, count_open(queued, 2), expect), "queued, after frame_chan_fini");
    close_borrowed(queued, mode);
}

Test(chan, fd_ownership_send, .timeout = TEST_TIMEOUT)
{
    fd_ownership(call_send, 0, FRAME_FDS_TAKE);
    fd_ownership(call_send, 0, FRAME_FDS_BORROW);
    util_end();
}

Test(chan, fd_ownership_send_wait, .timeout = TEST_TIMEOUT)
{
    fd_ownership(call_send_wait, -1, FRAME_FDS_TAKE);
    fd_ownership(call_send_wait, -1, FRAME_FDS_BORROW);
    util_end();
}

/* Frames with descriptors go out at once when the queue is empty, large ones when it can be
 * flushed first: nothing is duplicated or copied then, and order holds. */
Test(chan, direct_sends, .timeout = TEST_TIMEOUT)
{
    static unsigned char big[40000];
    struct util_duo d;
    int p[2], t;
    util_duo_open(&d, SOCK_STREAM, NULL, NULL);
    cr_assert(eq(int, pipe(p), 0));
    send_ok(&d.a, 1, 64, p, 1, FRAME_FDS_BORROW);
    cr_assert(eq(sz, frame_pending(&d.a), 0));
    send_ok(&d.a, 2, 64, NULL, 0, FRAME_FDS_BORROW);
    cr_assert(eq(sz, frame_pending(&d.a), FRAME_HDR_LEN + 64));
    cr_assert(0 <= (t = dup(p[1])));
    send_ok(&d.a, 3, 10, &t, 1, FRAME_FDS_TAKE); /* queued behind frame 2: the queue owns t */
    cr_assert(eq(sz, frame_pending(&d.a), 2 * FRAME_HDR_LEN + 74));
    send_ok(&d.a, 4, 0, NULL, 0, FRAME_FDS_BORROW);
    util_fill(big, sizeof(big), 5);
    /* A large frame flushes the queue first, then goes out from big itself. */
    cr_assert(eq(int, frame_send(&d.a, 7, 5, big, sizeof(big), NULL, 0, FRAME_FDS_BORROW), 0));
    cr_assert(frame_pending(&d.a) < FRAME_HDR_LEN + sizeof(big));
    cr_assert(eq(int, util_is_open(t), 0));
    memset(big, 0, sizeof(big));
    recv_ok(&d, 1, 64, 1);
    recv_ok(&d, 2, 64, 0);
    recv_ok(&d, 3, 10, 1);
    recv_ok(&d, 4, 0, 0);
    recv_ok(&d, 5, sizeof(big), 0);
    util_close(p[0]);
    util_close(p[1]);
    util_duo_close(&d);
    util_end();
}

Test(chan, init_errors, .timeout = TEST_TIMEOUT)
{
    struct frame_chan c;
    struct frame_opts o;
    int p[2];
    cr_assert(eq(int, pipe(p), 0));
    cr_assert(eq(int, frame_chan_init(&c, p[0], NULL), -1));
    cr_assert(eq(int, errno, ENOTSOCK));
    frame_chan_fini(&c);
    frame_opts_default(&o);
    o.max_fds = FRAME_MAX_FDS_LIMIT + 1;
    cr_assert(eq(int, frame_chan_init(&c, p[0], &o), -1));
    cr_assert(eq(int, errno, EINVAL));
    frame_opts_default(&o);
    o.sendq_max = 10;
    cr_assert(eq(int, frame_chan_init(&c, p[0], &o), -1));
    cr_assert(eq(int, errno, EINVAL));
    frame_chan_fini(&c);
    util_close(p[0]);
    util_close(p[1]);
    util_end();
}

Test(chan, close_on_fini_option, .timeout = TEST_TIMEOUT)
{
    struct frame_chan c;
    struct frame_opts o;
    int sv[2];
    util_pair(SOCK_STREAM, sv);
    frame_opts_default(&o);
    o.close_fd_on_fini = 1;
    cr_assert(eq(int, frame_chan_init(&c, sv[0], &o), 0));
    frame_chan_fini(&c);
    cr_assert(0 == util_is_open(sv[0]));
    util_close(sv[1]);
    util_end();
}

/* Receives with b until an error: returns its errno, 0 at a clean end of file. */
static int recv_error(struct frame_chan *b)
{
    struct frame_msg m;
    int r;
    while ((r = frame_recv_wait(b, &m, 5000)) == 1)
        frame_msg_release(&m);
    return r == 0 ? 0 : errno;
}

/* A channel b on sv[1] of a fresh pair; sv[0] is the bare peer that writes raw bytes into it. */
struct raw {
    int sv[2];
    struct frame_chan b;
};

static void raw_open(struct raw *r, int type, const struct frame_opts *o)
{
    util_pair(type, r->sv);
    cr_assert(eq(int, frame_chan_init(&r->b, r->sv[1], o), 0));
}

/* The peer goes away: b sees end of file after what was sent. */
static void raw_hangup(struct raw *r)
{
    util_close(r->sv[0]);
    r->sv[0] = -1;
}

static void raw_close(struct raw *r)
{
    frame_chan_fini(&r->b);
    if (r->sv[0] != -1)
        util_close(r->sv[0]);
    util_close(r->sv[1]);
}

/* The next receive on b fails with EPROTO. */
static void recv_rejected(struct frame_chan *b, struct frame_msg *m)
{
    cr_assert(eq(int, frame_recv_wait(b, m, 5000), -1));
    cr_assert(eq(int, errno, EPROTO));
}

/* One raw send of n bytes, a header that announces len payload bytes and then zeros, is
 * rejected by a channel of the given type and options. */
static void raw_frame_rejected(int type, const struct frame_opts *o, uint32_t len, size_t n)
{
    unsigned char buf[FRAME_HDR_LEN + 200] = {0};
    struct frame_msg m;
    struct raw r;
    cr_assert(n <= sizeof(buf));
    raw_open(&r, type, o);
    frame_encode_header(buf, 1, 1, len, 0);
    util_raw_send(r.sv[0], buf, n, NULL, 0);
    recv_rejected(&r.b, &m);
    raw_close(&r);
}

Test(chan, control_truncated, .timeout = TEST_TIMEOUT)
{
    struct frame_opts o;
    struct raw r;
    unsigned char h[FRAME_HDR_LEN];
    int fds[8];
    frame_opts_default(&o);
    o.max_fds = 2;
    raw_open(&r, SOCK_STREAM, &o);
    for (int i = 0; i < 8; i++)
        fds[i] = r.sv[0];
    frame_encode_header(h, 1, 1, 0, 2);
    cr_assert(eq(sz, (size_t)util_raw_send(r.sv[0], h, sizeof(h), fds, 8), sizeof(h)));
    cr_assert(eq(int, recv_error(&r.b), EPROTO));
    raw_close(&r);
    util_end();
}

/* A raw frame that declares n descriptors and carries n + 1, on a channel whose max_fds is n:
 * refused with EPROTO, as the kernel's truncation to n made it before (the harness finds any
 * descriptor left open). */
static void too_many_fds(struct util_duo *d, const int *fds, unsigned n)
{
    unsigned char h[FRAME_HDR_LEN];
    struct frame_msg m;
    frame_encode_header(h, 1, 4, 0, n);
    cr_assert(eq(sz, (size_t)util_raw_send(d->sv[0], h, sizeof(h), fds, n + 1), sizeof(h)));
    cr_assert(eq(int, util_pump(&d->a, &d->b, &m), -1));
    cr_assert(eq(int, errno, EPROTO), "%s", strerror(errno));
}

/* Control messages the kernel adds when the receiving socket asks for them (SO_PASSCRED's
 * credentials, before SCM_RIGHTS on Linux; SO_TIMESTAMP's time on datagrams) are discarded:
 * frames with none, one and max_fds descriptors still arrive, on every socket type, also on a
 * channel that takes no descriptors; more than max_fds still fail at once. */
static void kernel_control(int type, int level, int name)
{
    static const unsigned limits[] = {0, 1, FRAME_MAX_FDS_DEFAULT};
    int on = 1, fds[FRAME_MAX_FDS_DEFAULT + 1];
    struct frame_opts o;
    struct util_duo d;
    for (unsigned l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        frame_opts_default(&o);
        o.max_fds = limits[l];
        util_duo_open(&d, type, &o, &o);
        cr_assert(eq(int, setsockopt(d.sv[1], level, name, &on, sizeof on), 0), "setsockopt: %s",
                  strerror(errno));
        for (unsigned i = 0; i <= limits[l]; i++)
            cr_assert(0 <= (fds[i] = dup(d.sv[0])));
        send_ok(&d.a, 1, 10, NULL, 0, FRAME_FDS_BORROW);
        recv_ok(&d, 1, 10, 0);
        if (limits[l]) {
            send_ok(&d.a, 2, 0, fds, 1, FRAME_FDS_BORROW);
            recv_ok(&d, 2, 0, 1);
            send_ok(&d.a, 3, 100, fds, limits[l], FRAME_FDS_BORROW);
            recv_ok(&d, 3, 100, limits[l]);
            too_many_fds(&d, fds, limits[l]);
        }
        for (unsigned i = 0; i <= limits[l]; i++)
            util_close(fds[i]);
        util_duo_close(&d);
    }
}

Test(chan, kernel_control_credentials, .timeout = TEST_TIMEOUT)
{
#ifdef SOCKSPEC_HAVE_SO_PASSCRED
    kernel_control(SOCK_STREAM, SOL_SOCKET, SO_PASSCRED);
    kernel_control(SOCK_SEQPACKET, SOL_SOCKET, SO_PASSCRED);
    kernel_control(SOCK_DGRAM, SOL_SOCKET, SO_PASSCRED);
    util_end();
#else
    cr_skip_test("no SO_PASSCRED");
#endif
}

/* FreeBSD's and NetBSD's LOCAL_CREDS (unix(4)): struct sockcred at level 0 (SOL_LOCAL). */
Test(chan, kernel_control_local_creds, .timeout = TEST_TIMEOUT)
{
#ifdef SOCKSPEC_HAVE_LOCAL_CREDS
    kernel_control(SOCK_STREAM, 0, LOCAL_CREDS);
    kernel_control(SOCK_SEQPACKET, 0, LOCAL_CREDS);
    kernel_control(SOCK_DGRAM, 0, LOCAL_CREDS);
    util_end();
#else
    cr_skip_test("no LOCAL_CREDS: not FreeBSD or NetBSD (cmake/features.cmake)");
#endif
}

Test(chan, kernel_control_timestamp, .timeout = TEST_TIMEOUT)
{
#ifdef SOCKSPEC_HAVE_SO_TIMESTAMP
    kernel_control(SOCK_DGRAM, SOL_SOCKET, SO_TIMESTAMP);
    util_end();
#else
    cr_skip_test("no SO_TIMESTAMP");
#endif
}

/* A socket with SO_PASSSEC on is refused at init with EOPNOTSUPP and left open to the caller;
 * with it off again, the same socket is taken. */
Test(chan, security_labels_refused_at_init, .timeout = TEST_TIMEOUT)
{
#if defined(SOCKSPEC_HAVE_SO_PASSSEC) && defined(SO_PASSSEC)
    int sv[2], on = 1, off = 0;
    struct frame_chan c;
    util_pair(SOCK_STREAM, sv);
    if (setsockopt(sv[1], SOL_SOCKET, SO_PASSSEC, &on, sizeof on) == -1) {
        cr_assert(eq(int, errno, ENOPROTOOPT), "setsockopt(SO_PASSSEC): %s", strerror(errno));
        cr_skip_test("the kernel refuses SO_PASSSEC with ENOPROTOOPT");
    }
    cr_assert(eq(int, frame_chan_init(&c, sv[1], NULL), -1));
    cr_assert(eq(int, errno, EOPNOTSUPP), "%s", strerror(errno));
    cr_assert(util_is_open(sv[1]), "the refused socket stays open");
    cr_assert(eq(int, setsockopt(sv[1], SOL_SOCKET, SO_PASSSEC, &off, sizeof off), 0));
    cr_assert(eq(int, frame_chan_init(&c, sv[1], NULL), 0), "%s", strerror(errno));
    frame_chan_fini(&c);
    util_close(sv[0]);
    util_close(sv[1]);
    util_end();
#else
    cr_skip_test("no SO_PASSSEC: not Linux (cmake/features.cmake)");
#endif
}

#ifdef SO_PASSPIDFD
/* 1 if the kernel takes SO_PASSPIDFD; 0 if it refuses it as unknown (Linux before 6.5). */
static int kernel_has_passpidfd(void)
{
    int sv[2], on = 1, r;
    util_pair(SOCK_STREAM, sv);
    r = setsockopt(sv[1], SOL_SOCKET, SO_PASSPIDFD, &on, sizeof on);
    cr_assert(r == 0 || errno == ENOPROTOOPT, "setsockopt(SO_PASSPIDFD): %s", strerror(errno));
    util_close(sv[0]);
    util_close(sv[1]);
    return r == 0;
}
#endif

/* SO_PASSPIDFD's SCM_PIDFD brings a descriptor with every read, which frame closes: no
 * descriptor stays open, and frames arrive as without it. */
Test(chan, kernel_control_pidfd, .timeout = TEST_TIMEOUT)
{
#ifdef SO_PASSPIDFD
    if (!kernel_has_passpidfd())
        cr_skip_test("the kernel refuses SO_PASSPIDFD with ENOPROTOOPT (Linux before 6.5)");
    kernel_control(SOCK_STREAM, SOL_SOCKET, SO_PASSPIDFD);
    kernel_control(SOCK_SEQPACKET, SOL_SOCKET, SO_PASSPIDFD);
    kernel_control(SOCK_DGRAM, SOL_SOCKET, SO_PASSPIDFD);
    util_end();
#else
    cr_skip_test("no SO_PASSPIDFD: not Linux (compat_names.h)");
#endif
}

Test(chan, channel_without_descriptors, .timeout = TEST_TIMEOUT)
{
    struct frame_opts o;
    struct raw r;
    unsigned char h[FRAME_HDR_LEN];
    frame_opts_default(&o);
    o.max_fds = 0;
    for (int declare = 0; declare < 2; declare++) {
        for (unsigned n = 0; n < 3; n++) {
            raw_open(&r, SOCK_STREAM, &o);
            int fds[2] = {r.sv[0], r.sv[0]};
            cr_assert(eq(int, frame_send(&r.b, 1, 1, "", 0, fds, 1, FRAME_FDS_BORROW), -1));
            cr_assert(eq(int, errno, EINVAL));
            frame_encode_header(h, 1, 1, 0, (unsigned)declare);
            if (!declare && !n)
                h[3] = 1;
            cr_assert(eq(sz, (size_t)util_raw_send(r.sv[0], h, sizeof(h), fds, n), sizeof(h)));
            cr_assert(eq(int, recv_error(&r.b), declare ? E2BIG : n ? EPROTO : E2BIG));
            raw_close(&r);
        }
    }
    util_end();
}

Test(chan, peer_closes_mid_frame_with_descriptors, .timeout = TEST_TIMEOUT)
{
    struct raw r;
    unsigned char buf[FRAME_HDR_LEN + 10] = {0};
    int p[2];
    raw_open(&r, SOCK_STREAM, NULL);
    cr_assert(eq(int, pipe(p), 0));
    frame_encode_header(buf, 1, 1, 100, 2);
    cr_assert(eq(sz, (size_t)util_raw_send(r.sv[0], buf, sizeof(buf), p, 2), sizeof(buf)));
    util_close(p[0]);
    util_close(p[1]);
    raw_hangup(&r);
    cr_assert(eq(int, recv_error(&r.b), EPROTO));
    raw_close(&r);
    util_end();
}

Test(chan, end_of_file_mid_frame, .timeout = TEST_TIMEOUT)
{
    static const size_t cut[] = {1, 15, 16, 17, FRAME_HDR_LEN + 99};
    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        struct raw r;
        unsigned char buf[2 * FRAME_HDR_LEN + 100] = {0};
        raw_open(&r, SOCK_STREAM, NULL);
        frame_encode_header(buf, 1, 1, 0, 0);
        frame_encode_header(buf + FRAME_HDR_LEN, 1, 2, 100, 0);
        util_raw_send(r.sv[0], buf, FRAME_HDR_LEN + cut[i], NULL, 0);
        raw_hangup(&r);
        cr_assert(eq(int, recv_error(&r.b), EPROTO), "cut at %zu", cut[i]);
        raw_close(&r);
    }
    util_end();
}

Test(chan, hostile_raw_bytes, .timeout = TEST_TIMEOUT)
{
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct raw r;
        unsigned char buf[512];
        uint64_t s = seed;
        size_t n = util_rand(&s) % sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)util_rand(&s);
        if (seed % 2) { /* a plausible header at the start */
            frame_encode_header(buf, 1, 1, (uint32_t)(util_rand(&s) % 600), 0);
            buf[3] = (unsigned char)(util_rand(&s) % 3);
        }
        raw_open(&r, seed % 3 ? SOCK_STREAM : SOCK_SEQPACKET, NULL);
        int fds[2];
        cr_assert(eq(int, pipe(fds), 0));
        util_raw_send(r.sv[0], buf, n, fds, (unsigned)(util_rand(&s) % 3));
        util_close(fds[0]);
        util_close(fds[1]);
        raw_hangup(&r);
        int e = recv_error(&r.b);
        cr_assert(e == 0 || e == EPROTO || e == EBADMSG || e == E2BIG, "seed %llu: %s",
                  (unsigned long long)seed, strerror(e));
        raw_close(&r);
    }
    util_end();
}

Test(chan, dgram_length_mismatch, .timeout = TEST_TIMEOUT)
{
    /* A datagram a byte short of its header's length, a byte long, and shorter than a header. */
    raw_frame_rejected(SOCK_DGRAM, NULL, 10, FRAME_HDR_LEN + 9);
    raw_frame_rejected(SOCK_DGRAM, NULL, 10, FRAME_HDR_LEN + 11);
    raw_frame_rejected(SOCK_DGRAM, NULL, 10, 5);
    util_end();
}

Test(chan, seqpacket_truncated, .timeout = TEST_TIMEOUT)
{
    struct frame_opts o;
    frame_opts_default(&o);
    o.max_payload = 100;
    raw_frame_rejected(SOCK_SEQPACKET, &o, 100, FRAME_HDR_LEN + 200);
    util_end();
}

Test(chan, descriptors_mid_payload_rejected, .timeout = TEST_TIMEOUT)
{
    struct raw r;
    struct frame_msg m;
    unsigned char buf[FRAME_HDR_LEN + 100];
    raw_open(&r, SOCK_STREAM, NULL);
    memset(buf, 0, sizeof(buf));
    frame_encode_header(buf, 1, 1, 100, 0);
    util_raw_send(r.sv[0], buf, 50, NULL, 0);
    util_raw_send(r.sv[0], buf + 50, 50, &r.sv[0], 1);
    util_raw_send(r.sv[0], buf + 100, sizeof(buf) - 100, NULL, 0);
    /* The frame is whole and delivered; the stray descriptor fails at its end. */
    cr_assert(eq(int, frame_recv_wait(&r.b, &m, 5000), 1), "%s", strerror(errno));
    cr_assert(eq(u32, m.nfds, 0));
    recv_rejected(&r.b, &m);
    raw_close(&r);
    util_end();
}

Test(chan, full_socket_partial_writes, .timeout = TEST_TIMEOUT)
{
    struct util_duo d;
    int size = 4096, p[2], queued = 0, flushes = 0;
    uint32_t sent = 0, got = 0;
    struct frame_msg m;
    static unsigned char big[300000];
    util_duo_open(&d, SOCK_STREAM, NULL, NULL);
    cr_assert(eq(int, setsockopt(d.sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0));
    cr_assert(eq(int, pipe(p), 0));
    /* Fill: big frames go straight out until the socket is full, then queue. */
    while (frame_pending(&d.a) < 600000) {
        size_t len = sent % 3 == 0 ? sizeof(big) : (size_t)(sent * 13 % 700);
        util_fill(big, len, sent);
        cr_assert(
            eq(int, frame_send(&d.a, 7, sent, big, len, p, sent % 5 == 0 ? 2 : 0, FRAME_FDS_BORROW),
               0),
            "send: %s", strerror(errno));
        sent++;
        queued = 1;
    }
    cr_assert(queued);
    cr_assert(eq(int, frame_flush(&d.a), -1));
    cr_assert(0 + errno == EAGAIN || errno == EWOULDBLOCK);
    while (got < sent) {
        int r = frame_next(&d.b, &m);
        cr_assert(r >= 0, "next: %s", strerror(errno));
        if (r == 1) {
            size_t len = got % 3 == 0 ? sizeof(big) : (size_t)(got * 13 % 700);
            cr_assert(eq(u32, m.id, got));
            cr_assert(eq(u32, m.len, (uint32_t)len));
            cr_assert(util_check(m.payload, m.len, got));
            cr_assert(eq(u32, m.nfds, got % 5 == 0 ? 2 : 0));
            got++;
            continue;
        }
        if (frame_flush(&d.a) == -1)
            flushes++;
        cr_assert(frame_recv(&d.b) >= 0 || errno == EAGAIN, "recv: %s", strerror(errno));
    }
    cr_assert(flushes > 0);
    cr_assert(eq(int, frame_flush(&d.a), 0));
    util_close(p[0]);
    util_close(p[1]);
    util_duo_close(&d);
    util_end();
}

Test(chan, no_sigpipe, .timeout = TEST_TIMEOUT)
{
    static const int types[] = {SOCK_STREAM, SOCK_SEQPACKET};
    signal(SIGPIPE, SIG_DFL);
    for (int i = 0; i < 2; i++) {
        struct frame_chan a;
        int sv[2];
        util_pair(types[i], sv);
        cr_assert(eq(int, frame_chan_init(&a, sv[0], NULL), 0));
        util_close(sv[1]);
        cr_assert(eq(int, frame_send_wait(&a, 1, 1, "x", 1, NULL, 0, FRAME_FDS_BORROW, 1000), -1));
        cr_assert(eq(int, errno, EPIPE));
        frame_chan_fini(&a);
        util_close(sv[0]);
    }
    util_end();
}

Test(chan, fini_closes_queued_descriptors, .timeout = TEST_TIMEOUT)
{
    struct util_duo d;
    int p[2];
    util_duo_open(&d, SOCK_STREAM, NULL, NULL);
    cr_assert(eq(int, pipe(p), 0));
    /* Receiver side: one frame taken and not released, one complete and unread. */
    send_ok(&d.a, 1, 3, p, 2, FRAME_FDS_BORROW);
    send_ok(&d.a, 2, 3, p, 2, FRAME_FDS_BORROW);
    cr_assert(eq(int, frame_flush(&d.a), 0));
    struct frame_msg m;
    cr_assert(eq(int, util_pump(&d.a, &d.b, &m), 1));
    /* Sender side: queued behind a full socket and never flushed. */
    int size = 4096;
    static unsigned char big[100000];
    cr_assert(eq(int, setsockopt(d.sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0));
    cr_assert(eq(int, frame_send(&d.a, 7, 9, big, sizeof(big), NULL, 0, FRAME_FDS_BORROW), 0));
    cr_assert(frame_pending(&d.a) > 0);
    send_ok(&d.a, 3, 3, p, 2, FRAME_FDS_BORROW);
    send_ok(&d.a, 4, 3, p, 2, FRAME_FDS_TAKE); /* the queue owns p[] now */
    util_duo_close(&d);
    util_end();
}
