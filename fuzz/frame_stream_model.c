/*
 * frame_stream_model: an honest frame sender on a real SOCK_STREAM socketpair against a
 * reference model of which file belongs to which message. The writer encodes frames itself
 * and writes them raw with sendmsg, cut into chunks from the whole frame down to 1 byte, a
 * frame's descriptors with its first chunk (FORMAT.md, "Descriptors"). The receiver reads
 * 1-8 times before it takes messages. Each received descriptor is identified by
 * st_dev/st_ino and must be the file the model attached to that message, in order.
 *
 * Input: [cfg0][cfg1] then frames [f0][f1][len: u8, or 255 and a 16-bit length]:
 *   cfg0  bits 0-1 max_fds {0, 1, 2, 4}, bits 2-4 frame_recv calls per round minus 1,
 *         bit 5 take with frame_next_batch (4 a call), bits 6-7 max_payload {64, 300, 4096, 65536}
 *   cfg1  on the receiving socket: bit 0 SO_PASSCRED (LOCAL_CREDS on FreeBSD and NetBSD),
 *         bit 1 SO_TIMESTAMP, bit 2 SO_RCVBUF and
 *         bit 3 SO_SNDBUF 4096, bit 5 SO_PASSPIDFD (where the system has them; SO_PASSPIDFD
 *         also where the kernel takes it); bit 4 the writer's SO_SNDBUF 4096; bit 6 SO_PASSSEC,
 *         which frame_chan_init must refuse with EOPNOTSUPP, then off again for the run
 *   f0    bits 0-2 descriptors, bits 3-4 their kind (pipe read end, pipe write end, the
 *         channel's writing end, the channel's receiving end), bit 5 overload: one descriptor
 *         more than the receiver's control buffer takes (MSG_CTRUNC), bit 6 a receive round
 *         after this frame, bit 7 the writer stops after this frame
 *   f1    chunk size: 0 the whole frame in one sendmsg, else CHUNKS[(f1 - 1) % NCHUNKS]
 * The model: a frame declaring more than max_fds descriptors or max_payload bytes is E2BIG, an
 * overloaded one EPROTO; every frame before the first such frame is delivered exactly, then the
 * error, for good, and no received descriptor stays open.
 */
#include "sockspec_config.h"

#include "batch_check.h"
#include "compat_names.h" /* SO_PASSPIDFD where the headers are older than the kernel */
#include "frame.h"
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define T "frame_stream_model"
#define MAX_FRAMES 48
#define MAX_PIPES 32
#define ATTACH_MAX 8
_Static_assert(ATTACH_MAX <= FZ_SEND_FDS_MAX, "fz_send_fds carries every attachment");
#define MAX_ROUNDS 4096
#define BATCH 4

static const size_t CHUNKS[] = {1, 2, 3, 5, 7, 15, 16, 17, 31, 64, 100, 1000, 4096};
#define NCHUNKS (sizeof CHUNKS / sizeof CHUNKS[0])

struct file_id {
    dev_t dev;
    ino_t ino;
};

struct model_frame {
    uint32_t type, len;
    unsigned nfds; /* attached */
    struct file_id files[ATTACH_MAX];
    int err; /* 0, or the errno the receiver must fail with at this frame */
};

struct model {
    int sv[2]; /* sv[0] writes, sv[1] receives through chan */
    struct frame_chan chan;
    struct fdset before;
    unsigned max_fds, ctrl_fds, reads, batch, pipes;
    uint32_t max_payload;
    struct model_frame f[MAX_FRAMES];
    unsigned nframes, ntaken;
    int err, eof;
    unsigned long progress; /* bytes read plus messages taken */
    int held[2 * ATTACH_MAX];
    unsigned nheld;
    unsigned char frame[FRAME_HDR_LEN + 65535];
};

static struct model M;

static int is_protocol_errno(int e)
{
    return e == EBADMSG || e == E2BIG || e == EPROTO;
}

static unsigned first_bad(void)
{
    unsigned i = 0;
    while (i < M.nframes && M.f[i].err == 0)
        i++;
    return i;
}

static void mark_open(struct fdset *set, int fd)
{
    if (fd >= 0 && fd < FZ_FD_WINDOW)
        set->open[fd] = 1;
}

/* After an error the process holds what it held, the pair and what the writer holds. */
static void expect_no_received_fds(void)
{
    struct fdset now, want = M.before;
    fz_fdset_probe(&now);
    mark_open(&want, M.sv[0]);
    mark_open(&want, M.sv[1]);
    for (unsigned k = 0; k < M.nheld; k++)
        mark_open(&want, M.held[k]);
    int i = fdset_first_change(&now, &want);
    if (i >= 0)
        fz_fail(T, "after error %s: descriptor %d is %s", sockspec_errno_name(M.err), i,
                now.open[i] ? "open" : "closed");
}

/* A protocol error from call: frame.3's errno, at the model's frame, sticky. */
static void protocol_error(const char *call, int e)
{
    unsigned bad = first_bad();
    fz_trace("  %s -> %s after %u messages", call, sockspec_errno_name(e), M.ntaken);
    if (!is_protocol_errno(e))
        fz_fail(T, "%s failed with %s, not an error frame.3 lists for it", call,
                sockspec_errno_name(e));
    if (M.err && e != M.err)
        fz_fail(T, "%s: %s after %s: the error is not sticky", call, sockspec_errno_name(e),
                sockspec_errno_name(M.err));
    if (bad == M.nframes)
        fz_fail(T, "%s: %s, but the %u frames written are all well-formed", call,
                sockspec_errno_name(e), M.nframes);
    if (M.ntaken != bad)
        fz_fail(T, "%s: %s after %u messages; the model puts it at frame %u", call,
                sockspec_errno_name(e), M.ntaken, bad);
    if (e != M.f[bad].err)
        fz_fail(T, "%s: %s at frame %u, the model says %s", call, sockspec_errno_name(e), bad,
                sockspec_errno_name(M.f[bad].err));
    if (!M.err) {
        M.err = e;
        expect_no_received_fds();
    }
}

static FZ_NO_COVERAGE int payload_differs(const unsigned char *p, uint32_t len, unsigned seed)
{
    for (uint32_t j = 0; j < len; j++) {
        if (p[j] != (unsigned char)(j * 7u + seed))
            return 1;
    }
    return 0;
}

static void check_fd(unsigned i, unsigned k, int fd)
{
    struct stat st;
    const struct file_id *want = &M.f[i].files[k];
    if (fd < 0 || fstat(fd, &st) < 0)
        fz_fail(T, "message %u descriptor %u (%d) is not open", i, k, fd);
    if (!fz_is_cloexec(fd))
        fz_fail(T, "message %u descriptor %u (%d) is not close-on-exec", i, k, fd);
    if (fd == M.sv[0] || fd == M.sv[1])
        fz_fail(T, "message %u hands out the harness socket %d", i, fd);
    if (st.st_dev != want->dev || st.st_ino != want->ino)
        fz_fail(T, "message %u descriptor %u is inode %lu, the model sent inode %lu there", i, k,
                (unsigned long)st.st_ino, (unsigned long)want->ino);
}

static void check_msg(struct frame_msg *msg)
{
    unsigned i = M.ntaken;
    if (M.err)
        fz_fail(T, "message %u after error %s", i, sockspec_errno_name(M.err));
    if (i >= first_bad())
        fz_fail(T, "message %u returned, the model expects %s", i,
                i < M.nframes ? sockspec_errno_name(M.f[i].err) : "no more messages");
    const struct model_frame *f = &M.f[i];
    fz_trace("  message %u type=%u len=%u nfds=%u", i, msg->type, msg->len, msg->nfds);
    if (msg->type != f->type || msg->id != i || msg->len != f->len ||
        payload_differs(msg->payload, msg->len, i))
        fz_fail(T, "message %u differs from frame %u (type %u id %u len %u)", i, i, msg->type,
                msg->id, msg->len);
    if (msg->nfds != f->nfds)
        fz_fail(T, "message %u carries %u descriptors, frame %u was sent with %u", i, msg->nfds, i,
                f->nfds);
    for (unsigned k = 0; k < msg->nfds; k++)
        check_fd(i, k, msg->fds[k]);
    for (unsigned k = i & 1; k < msg->nfds; k += 2) {
        int fd = frame_msg_take_fd(msg, k);
        if (fd < 0)
            fz_fail(T, "frame_msg_take_fd(%u): %s", k, sockspec_errno_name(errno));
        fz_close(fd);
    }
    frame_msg_release(msg);
    M.ntaken++;
    M.progress++;
}

static int next_msgs(struct frame_msg *msgs)
{
    if (!M.batch)
        return frame_next(&M.chan, msgs);
    return fz_check_batch(T, "frame_next_batch", msgs, frame_next_batch(&M.chan, msgs, BATCH),
                          BATCH);
}

static void take_all(void)
{
    struct frame_msg msgs[BATCH];
    int rc;
    while ((rc = next_msgs(msgs)) > 0) {
        for (int i = 0; i < rc; i++)
            check_msg(&msgs[i]);
    }
    if (rc < 0)
        protocol_error(M.batch ? "frame_next_batch" : "frame_next", errno);
}

/* 1-8 frame_recv calls, then every message there is. */
static void receive_round(void)
{
    for (unsigned r = 0; r < M.reads && !M.eof; r++) {
        ssize_t n = frame_recv(&M.chan);
        int e = errno;
        fz_trace("  frame_recv -> %zd %s", n, n < 0 ? sockspec_errno_name(e) : "");
        if (n > 0) {
            M.progress += (unsigned long)n;
            continue;
        }
        if (n == 0) {
            if (M.err)
                fz_fail(T, "frame_recv returned end of file after error %s",
                        sockspec_errno_name(M.err));
            M.eof = 1;
        } else if (e == ENOBUFS) {
            break;
        } else if (e == EAGAIN || e == EWOULDBLOCK) {
            if (M.err)
                fz_fail(T, "frame_recv: EAGAIN after error %s", sockspec_errno_name(M.err));
            break;
        } else {
            protocol_error("frame_recv", e);
            break;
        }
    }
    take_all();
}

/* Writes n bytes in chunks, the descriptors with the first; 0, or -1 with the bytes sent. */
static int write_chunks(size_t n, size_t chunk, const int *fds, unsigned nfds, size_t *sent)
{
    unsigned stalls = 0;
    *sent = 0;
    while (*sent < n) {
        size_t want = chunk && n - *sent > chunk ? chunk : n - *sent;
        ssize_t r =
            fz_send_fds(M.sv[0], M.frame + *sent, want, *sent ? NULL : fds, *sent ? 0 : nfds);
        fz_trace("writer: %zu bytes %u fds -> %zd", want, *sent ? 0 : nfds, r);
        if (r > 0) {
            *sent += (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            if (r < 0 && (errno == EBADF || errno == EFAULT || errno == EINVAL))
                fz_fail(T, "writer sendmsg: %s", sockspec_errno_name(errno));
            return -1;
        }
        unsigned long before = M.progress;
        receive_round();
        if (M.err || M.eof || (M.progress == before && ++stalls > 2))
            return -1;
    }
    return 0;
}

static int make_fd(unsigned kind, int *extra)
{
    int p[2];
    *extra = -1;
    if (kind >= 2)
        return M.sv[kind - 2];
    if (M.pipes == MAX_PIPES || pipe(p) < 0)
        return -1;
    M.pipes++;
    *extra = p[kind == 0];
    return p[kind != 0];
}

static void release_held(void)
{
    for (unsigned k = 0; k < M.nheld; k++)
        fz_close(M.held[k]);
    M.nheld = 0;
}

/* Creates the descriptors of frame f; returns how many. */
static unsigned attach(struct model_frame *f, unsigned kind, unsigned n, int *fds)
{
    unsigned got = 0;
    for (; got < n; got++) {
        struct stat st;
        int extra;
        int fd = make_fd(kind, &extra);
        if (fd < 0)
            break;
        if (kind < 2) {
            M.held[M.nheld++] = fd;
            M.held[M.nheld++] = extra;
        }
        if (fstat(fd, &st) < 0)
            fz_fail(T, "fstat: %s", sockspec_errno_name(errno));
        f->files[got].dev = st.st_dev;
        f->files[got].ino = st.st_ino;
        fds[got] = fd;
    }
    return got;
}

/* The model's verdict on a frame (FORMAT.md): limits first, then a truncated control message. */
static int verdict(unsigned declared, unsigned attached, uint32_t len)
{
    if (declared > M.max_fds || len > M.max_payload)
        return E2BIG;
    return attached > M.ctrl_fds ? EPROTO : 0;
}

/* Overloaded: more descriptors than the receiver takes, under a header that declares at least
 * one (so that the truncation lands at this frame); else the header declares what is sent. */
static unsigned declared_fds(uint8_t f0, unsigned attached)
{
    if (!(f0 & 0x20) || attached <= M.ctrl_fds)
        return attached;
    return (f0 & 7) ? (f0 & 7u) : 1u;
}

static void encode_frame(struct model_frame *f, unsigned declared)
{
    if (frame_encode_header(M.frame, f->type, M.nframes, f->len, declared) < 0)
        fz_fail(T, "frame_encode_header: %s", sockspec_errno_name(errno));
    for (uint32_t j = 0; j < f->len; j++)
        M.frame[FRAME_HDR_LEN + j] = (unsigned char)(j * 7u + M.nframes);
}

/* Encodes and writes one frame; -1 when the writer has to stop. */
static int write_frame(uint8_t f0, uint8_t f1, uint32_t len)
{
    struct model_frame *f = &M.f[M.nframes];
    int fds[ATTACH_MAX];
    size_t sent;
    f->nfds = attach(f, (f0 >> 3) & 3, (f0 & 0x20) ? M.ctrl_fds + 1 : (f0 & 7u), fds);
    unsigned declared = declared_fds(f0, f->nfds);
    f->type = f0 | (uint32_t)f1 << 8;
    f->len = len;
    f->err = verdict(declared, f->nfds, len);
    encode_frame(f, declared);
    fz_trace("frame %u: len %u declared %u attached %u model %s", M.nframes, len, declared, f->nfds,
             f->err ? sockspec_errno_name(f->err) : "ok");
    M.nframes++; /* the receiver may see its first bytes while the rest waits */
    int rc = write_chunks(FRAME_HDR_LEN + (size_t)len, f1 ? CHUNKS[(f1 - 1) % NCHUNKS] : 0, fds,
                          f->nfds, &sent);
    release_held();
    if (sent == 0)
        M.nframes--;
    else if (rc < 0 && f->err == 0)
        f->err = EPROTO; /* the input ends inside this frame */
    return rc;
}

static void write_script(struct fz_in *in)
{
    while (in->n >= 2 && M.nframes < MAX_FRAMES) {
        uint8_t f0 = fz_u8(in), f1 = fz_u8(in);
        uint32_t len = fz_u8(in);
        if (len == 255)
            len = fz_u16(in);
        if (write_frame(f0, f1, len) < 0)
            return;
        if (f0 & 0x40)
            receive_round();
        if (f0 & 0x80)
            return;
    }
}

static void set_option(int fd, int name, int value, const char *what)
{
    if (setsockopt(fd, SOL_SOCKET, name, &value, sizeof value) < 0)
        fz_fail(T, "setsockopt(%s): %s", what, sockspec_errno_name(errno));
}

static void set_options(uint8_t bits)
{
/* A strict POSIX build hides them even where the system has them. */
#if defined(SOCKSPEC_HAVE_SO_PASSCRED) && defined(SO_PASSCRED)
    if (bits & 1)
        set_option(M.sv[1], SO_PASSCRED, 1, "SO_PASSCRED");
#elif defined(SOCKSPEC_HAVE_LOCAL_CREDS)
    /* Level 0 (SOL_LOCAL), unix(4) of FreeBSD and NetBSD. */
    if ((bits & 1) && setsockopt(M.sv[1], 0, LOCAL_CREDS, &(int){1}, sizeof(int)) < 0)
        fz_fail(T, "setsockopt(LOCAL_CREDS): %s", sockspec_errno_name(errno));
#endif
#if defined(SOCKSPEC_HAVE_SO_TIMESTAMP) && defined(SO_TIMESTAMP)
    if (bits & 2)
        set_option(M.sv[1], SO_TIMESTAMP, 1, "SO_TIMESTAMP");
#endif
    if (bits & 4)
        set_option(M.sv[1], SO_RCVBUF, 4096, "SO_RCVBUF");
    if (bits & 8)
        set_option(M.sv[1], SO_SNDBUF, 4096, "SO_SNDBUF");
    if (bits & 16)
        set_option(M.sv[0], SO_SNDBUF, 4096, "SO_SNDBUF (writer)");
#ifdef SO_PASSPIDFD
    /* Linux before 6.5 does not know it: ENOPROTOOPT, and the input runs without it. */
    if ((bits & 32) && setsockopt(M.sv[1], SOL_SOCKET, SO_PASSPIDFD, &(int){1}, sizeof(int)) < 0 &&
        errno != ENOPROTOOPT)
        fz_fail(T, "setsockopt(SO_PASSPIDFD): %s", sockspec_errno_name(errno));
#endif
}

/* With SO_PASSSEC on, frame_chan_init refuses the socket (EOPNOTSUPP) and leaves it open;
 * then it is turned off. A kernel that does not know the option runs without it. */
static void refused_option(uint8_t bits, const struct frame_opts *o)
{
#if defined(SOCKSPEC_HAVE_SO_PASSSEC) && defined(SO_PASSSEC)
    if (!(bits & 64))
        return;
    if (setsockopt(M.sv[1], SOL_SOCKET, SO_PASSSEC, &(int){1}, sizeof(int)) < 0) {
        if (errno != ENOPROTOOPT)
            fz_fail(T, "setsockopt(SO_PASSSEC): %s", sockspec_errno_name(errno));
        return;
    }
    if (frame_chan_init(&M.chan, M.sv[1], o) == 0)
        fz_fail(T, "frame_chan_init took a socket with SO_PASSSEC on");
    if (errno != EOPNOTSUPP)
        fz_fail(T, "frame_chan_init with SO_PASSSEC on: %s, not EOPNOTSUPP",
                sockspec_errno_name(errno));
    set_option(M.sv[1], SO_PASSSEC, 0, "SO_PASSSEC off");
#else
    (void)bits;
    (void)o;
#endif
}

static int setup(uint8_t cfg0, uint8_t cfg1)
{
    static const unsigned fdmax[4] = {0, 1, 2, 4};
    static const uint32_t payloads[4] = {64, 300, 4096, 65536};
    struct frame_opts o;
    memset(&M.f, 0, sizeof M.f);
    M.max_fds = fdmax[cfg0 & 3];
    M.ctrl_fds = M.max_fds ? M.max_fds : 1;
    M.reads = 1 + ((cfg0 >> 2) & 7);
    M.batch = (cfg0 >> 5) & 1;
    M.max_payload = payloads[cfg0 >> 6];
    M.nframes = M.ntaken = M.pipes = M.nheld = 0;
    M.err = M.eof = 0;
    M.progress = 0;
    if (fz_socketpair(SOCK_STREAM, M.sv) < 0)
        return -1;
    set_options(cfg1);
    frame_opts_default(&o);
    o.max_fds = M.max_fds;
    o.max_payload = M.max_payload;
    refused_option(cfg1, &o);
    if (frame_chan_init(&M.chan, M.sv[1], &o) < 0)
        fz_fail(T, "frame_chan_init: %s", sockspec_errno_name(errno));
    fz_trace("max_fds=%u max_payload=%u reads=%u batch=%u options=%#x", M.max_fds, M.max_payload,
             M.reads, M.batch, cfg1);
    return 0;
}

/* After the writer is gone: rounds until end of file or the error. */
static void finish(void)
{
    fz_close(M.sv[0]);
    M.sv[0] = -1;
    unsigned stalls = 0;
    for (unsigned r = 0; !M.err && !M.eof; r++) {
        unsigned long before = M.progress;
        if (r == MAX_ROUNDS)
            fz_fail(T, "no end of file after %u rounds", r);
        receive_round();
        if (M.progress == before && !M.err && !M.eof && ++stalls > 2)
            fz_fail(T, "receiver makes no progress after the writer closed");
    }
    if (!M.err && first_bad() < M.nframes)
        fz_fail(T, "end of file after %u messages: frame %u should have failed with %s", M.ntaken,
                first_bad(), sockspec_errno_name(M.f[first_bad()].err));
    if (!M.err && M.ntaken != M.nframes)
        fz_fail(T, "end of file after %u of %u messages", M.ntaken, M.nframes);
}

/* Once reported, the error is sticky; end of file stays end of file. */
static void check_final_state(void)
{
    struct frame_msg msg;
    int rc = frame_next(&M.chan, &msg);
    int e = errno;
    if (M.err && (rc != -1 || e != M.err))
        fz_fail(T, "frame_next after %s returns %d (%s)", sockspec_errno_name(M.err), rc,
                sockspec_errno_name(e));
    if (!M.err && rc != 0)
        fz_fail(T, "frame_next after end of file returns %d", rc);
    ssize_t n = frame_recv(&M.chan);
    e = errno;
    if (M.err && (n != -1 || e != M.err))
        fz_fail(T, "frame_recv after %s returns %zd (%s)", sockspec_errno_name(M.err), n,
                sockspec_errno_name(e));
    if (!M.err && n != 0)
        fz_fail(T, "frame_recv after end of file returns %zd", n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    fz_trace_reset(0);
    fz_fdset_probe(&M.before);
    uint8_t cfg0 = fz_u8(&in), cfg1 = fz_u8(&in);
    if (setup(cfg0, cfg1) < 0)
        return 0;
    write_script(&in);
    finish();
    check_final_state();
    frame_chan_fini(&M.chan);
    fz_close(M.sv[1]);
    fz_fdset_expect(&M.before, T);
    return 0;
}
