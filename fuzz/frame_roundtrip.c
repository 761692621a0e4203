/*
 * frame_roundtrip: a list of messages is encoded, decoded and compared; re-encoding the
 * decoded messages gives the same bytes.
 *
 * Input: [config] then messages [type8][id8][len16][nfds][chunk][payload...]:
 *   config  bit 0 packet mode, bits 1-3 max_payload, bits 4-5 max_fds, bit 6 commit path
 *   type8/id8 expand to 32-bit values that exercise every byte of the field
 *   chunk   size of the pieces a stream message is fed in (0: whole); descriptors go with
 *           the first piece, as the kernel delivers them with a message's first bytes
 */
#include "fuzz_common.h"
#include "frame.h"

#include <errno.h>
#include <string.h>

#define T "frame_roundtrip"
#define MAX_MSGS 256
#define MAX_WIRE (1u << 18)
#define FAKE_BASE 200000
#define MAX_FAKE (MAX_MSGS * 16)

struct msg {
    uint32_t type, id, len;
    unsigned nfds, chunk;
    size_t off; /* of its header in wire */
    int fd0;
};

static struct msg msgs[MAX_MSGS];
static unsigned nmsgs, ndecoded;
static uint8_t wire[MAX_WIRE];
static size_t wire_len;
static unsigned char fake_state[MAX_FAKE]; /* 1 given, 2 handed out, 3 closed */
static unsigned nfake;
static uint32_t max_payload;
static unsigned max_fds;
static int packet, commit_path;
static struct frame_decoder dec;

static int fake_close(int fd, void *arg)
{
    (void)arg;
    unsigned i = (unsigned)(fd - FAKE_BASE);
    if (fd < FAKE_BASE || i >= nfake || fake_state[i] != 1)
        fz_fail(T, "close hook on descriptor %d in state %d", fd,
                fd < FAKE_BASE || i >= nfake ? -1 : fake_state[i]);
    fake_state[i] = 3;
    return 0;
}

static uint32_t expand(uint8_t b)
{
    static const uint32_t v[8] = {0, 1, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0xffffffff};
    return (b & 0x80) ? v[b & 7] : (uint32_t)b * 0x01010101u;
}

static void encode(struct msg *m, const uint8_t *payload)
{
    unsigned char hdr[FRAME_HDR_LEN];
    if (frame_encode_header(hdr, m->type, m->id, m->len, m->nfds) < 0)
        fz_fail(T, "frame_encode_header rejected len %u nfds %u: %s", m->len, m->nfds,
                sockspec_errno_name(errno));
    m->off = wire_len;
    memcpy(wire + wire_len, hdr, sizeof hdr);
    memcpy(wire + wire_len + FRAME_HDR_LEN, payload, m->len);
    wire_len += FRAME_HDR_LEN + m->len;
    m->fd0 = FAKE_BASE + (int)nfake;
    for (unsigned i = 0; i < m->nfds; i++)
        fake_state[nfake++] = 1;
}

static void parse(struct fz_in *in)
{
    for (nmsgs = 0; nmsgs < MAX_MSGS && in->n > 0; nmsgs++) {
        struct msg *m = &msgs[nmsgs];
        m->type = expand(fz_u8(in));
        m->id = expand(fz_u8(in));
        uint32_t want = fz_u16(in);
        m->nfds = max_fds ? fz_u8(in) % (max_fds + 1) : 0;
        m->chunk = fz_u8(in);
        size_t got;
        const uint8_t *p = fz_bytes(in, want > max_payload ? max_payload : want, &got);
        m->len = (uint32_t)got;
        if (wire_len + FRAME_HDR_LEN + got > MAX_WIRE)
            break;
        encode(m, p);
    }
}

static void check_msg(const struct frame_msg *got)
{
    if (ndecoded >= nmsgs)
        fz_fail(T, "decoder returned a message %u beyond the %u encoded", ndecoded, nmsgs);
    const struct msg *m = &msgs[ndecoded];
    if (got->type != m->type || got->id != m->id || got->len != m->len || got->nfds != m->nfds)
        fz_fail(T, "message %u: got type %u id %u len %u nfds %u, sent %u %u %u %u", ndecoded,
                got->type, got->id, got->len, got->nfds, m->type, m->id, m->len, m->nfds);
    unsigned char hdr[FRAME_HDR_LEN];
    if (frame_encode_header(hdr, got->type, got->id, got->len, got->nfds) < 0 ||
        memcmp(hdr, wire + m->off, FRAME_HDR_LEN) != 0 ||
        memcmp(got->payload, wire + m->off + FRAME_HDR_LEN, got->len) != 0)
        fz_fail(T, "message %u re-encodes to different bytes", ndecoded);
    for (unsigned i = 0; i < got->nfds; i++) {
        if (got->fds[i] != m->fd0 + (int)i)
            fz_fail(T, "message %u descriptor %u is %d, sent %d", ndecoded, i, got->fds[i],
                    m->fd0 + (int)i);
    }
}

static void drain(void)
{
    struct frame_msg got;
    int rc;
    while ((rc = frame_decoder_next(&dec, &got)) == 1) {
        check_msg(&got);
        for (unsigned i = 0; i < got.nfds; i += 2) {
            int fd = frame_msg_take_fd(&got, i);
            if (fd != msgs[ndecoded].fd0 + (int)i)
                fz_fail(T, "take_fd returned %d", fd);
            fake_state[fd - FAKE_BASE] = 2;
        }
        frame_msg_release(&got);
        ndecoded++;
    }
    if (rc < 0)
        fz_fail(T, "decoding valid frames failed after %u messages: %s", ndecoded,
                sockspec_errno_name(errno));
}

static size_t put(const uint8_t *p, size_t n, const int *fds, unsigned nfds, int flags)
{
    if (!commit_path) {
        ssize_t got = frame_decoder_feed(&dec, p, n, fds, nfds, flags);
        if (got < 0)
            fz_fail(T, "frame_decoder_feed: %s", sockspec_errno_name(errno));
        return (size_t)got;
    }
    size_t room;
    unsigned char *space = frame_decoder_space(&dec, &room);
    if (space == NULL)
        fz_fail(T, "frame_decoder_space: %s", sockspec_errno_name(errno));
    size_t m = n < room ? n : room;
    if (m == 0 && n > 0)
        return 0;
    memcpy(space, p, m);
    if (frame_decoder_commit(&dec, m, fds, nfds, flags) < 0)
        fz_fail(T, "frame_decoder_commit: %s", sockspec_errno_name(errno));
    return m;
}

static void feed(const uint8_t *p, size_t n, const int *fds, unsigned nfds)
{
    size_t done = 0;
    do {
        size_t got = put(p + done, n - done, fds, nfds, 0);
        if (got > 0)
            nfds = 0;
        done += got;
        if (got == 0 && n > 0) {
            unsigned before = ndecoded;
            drain();
            if (ndecoded == before)
                fz_fail(T, "decoder full with no message to take");
        }
    } while (done < n);
}

static void feed_msg(const struct msg *m)
{
    int fds[256];
    size_t total = FRAME_HDR_LEN + m->len;
    for (unsigned i = 0; i < m->nfds; i++)
        fds[i] = m->fd0 + (int)i;
    if (packet || m->chunk == 0) {
        feed(wire + m->off, total, fds, m->nfds);
        drain();
        return;
    }
    /* Asking after every chunk shows a frame handed out before its last byte is in. */
    for (size_t off = 0; off < total; off += m->chunk) {
        size_t n = total - off < m->chunk ? total - off : m->chunk;
        feed(wire + m->off + off, n, fds, off ? 0 : m->nfds);
        drain();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t payloads[8] = {0, 1, 15, 16, 17, 300, 4096, 65536};
    static const unsigned fdmax[4] = {0, 1, 3, FRAME_MAX_FDS_DEFAULT};
    struct fz_in in = {data, size};
    fz_trace_reset(0);
    uint8_t cfg = fz_u8(&in);
    packet = cfg & 1;
    max_payload = payloads[(cfg >> 1) & 7];
    max_fds = fdmax[(cfg >> 4) & 3];
    commit_path = (cfg >> 6) & 1;
    nmsgs = ndecoded = nfake = 0;
    wire_len = 0;
    parse(&in);
    if (frame_decoder_init(&dec, max_payload, max_fds, packet) < 0)
        fz_fail(T, "frame_decoder_init(%u, %u): %s", max_payload, max_fds,
                sockspec_errno_name(errno));
    frame_decoder_set_close(&dec, fake_close, NULL);
    for (unsigned i = 0; i < nmsgs; i++)
        feed_msg(&msgs[i]);
    if (frame_decoder_eof(&dec) < 0)
        fz_fail(T, "end of input after whole frames: %s", sockspec_errno_name(errno));
    frame_decoder_fini(&dec);
    if (ndecoded != nmsgs)
        fz_fail(T, "%u messages encoded, %u decoded", nmsgs, ndecoded);
    for (unsigned i = 0; i < nfake; i++) {
        if (fake_state[i] == 1)
            fz_fail(T, "descriptor %d neither handed out nor closed", FAKE_BASE + (int)i);
    }
    return 0;
}
