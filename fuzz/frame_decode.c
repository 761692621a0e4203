/*
 * frame_decode: the decoder core alone, with fake descriptors counted by the close hook.
 *
 * Input: [config][take mask] then records [hdr][len][len16?][bytes]:
 *   config  bit 0 packet mode, bits 1-3 max_payload, bits 4-6 max_fds, bit 7 commit path
 *   hdr     bits 0-2 fake descriptors, bit 3 FRAME_IN_CTRUNC, bit 4 FRAME_IN_TRUNC,
 *           bits 5-7 sub-chunk size of the chunked run
 *   len     0..254, or 255 followed by a 16-bit length
 * Stream mode runs twice: "at once" (runs of plain records fed as one chunk) and "chunked"
 * (plain records cut into sub-chunks; the other input path). Records with descriptors or
 * flags are one chunk in both. Both runs must return the same messages and end in the
 * same error, unless the decoder itself split a chunk with descriptors (buffer full).
 * The at-once run takes messages with frame_decoder_next_batch, the chunked run with
 * frame_decoder_next.
 */
#include "batch_check.h"
#include "frame.h"
#include "fuzz_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T "frame_decode"
#define MAX_RECORDS 128
#define MAX_FAKE (MAX_RECORDS * 7)
#define FAKE_BASE 100000
#define LOG_CAP (1u << 20)
#define MAX_INPUT 65536

enum fake_state { FAKE_UNUSED, FAKE_HARNESS, FAKE_DECODER, FAKE_TAKEN, FAKE_CLOSED };

struct record {
    const uint8_t *data;
    size_t len;
    unsigned nfds;
    int flags;
    size_t sub;
};

struct run {
    struct frame_decoder dec;
    int commit_path;
    uint8_t take_mask;
    unsigned char fake[MAX_FAKE];
    unsigned nfake;
    unsigned char log[LOG_CAP];
    size_t loglen;
    unsigned nmsgs;
    int err;       /* sticky errno seen, 0 while healthy */
    int split_fds; /* the decoder accepted only part of a chunk that carried descriptors */
    int batch;     /* messages per frame_decoder_next_batch call; 0: frame_decoder_next */
};

static struct record recs[MAX_RECORDS];
static unsigned nrecs;
static struct run runs[2];
static uint32_t max_payload;
static unsigned max_fds;
static int packet;

static int fake_close(int fd, void *arg)
{
    struct run *r = arg;
    unsigned i = (unsigned)(fd - FAKE_BASE);
    if (fd < FAKE_BASE || i >= r->nfake)
        fz_fail(T, "close hook called with descriptor %d the decoder never received", fd);
    if (r->fake[i] != FAKE_DECODER)
        fz_fail(T, "descriptor %d closed while %s", fd,
                r->fake[i] == FAKE_TAKEN ? "handed out" : "already closed or not given");
    r->fake[i] = FAKE_CLOSED;
    return 0;
}

static void log_put(struct run *r, const void *p, size_t n)
{
    if (n > LOG_CAP - r->loglen)
        fz_fail(T, "message log overflow");
    memcpy(r->log + r->loglen, p, n);
    r->loglen += n;
}

/* The decoder's memory bounds: its buffer, and the descriptors that wait (FORMAT.md). */
static void check_cap(struct run *r)
{
    size_t fdq_max = 24 * (size_t)max_fds + 64;

    if (r->dec.cap > FRAME_HDR_LEN + (size_t)max_payload)
        fz_fail(T, "decoder buffer %zu above header + max payload %u", r->dec.cap, max_payload);
    if (r->dec.fdq_len > fdq_max)
        fz_fail(T, "%zu descriptors wait, above 24 * max_fds + 64 = %zu", r->dec.fdq_len, fdq_max);
}

static void note_error(struct run *r, const char *call)
{
    int e = errno;
    if (e == 0)
        fz_fail(T, "%s returned -1 without errno", call);
    if (r->err && r->err != e)
        fz_fail(T, "%s: errno %s after sticky %s", call, sockspec_errno_name(e),
                sockspec_errno_name(r->err));
    r->err = e;
    fz_trace("  %s -> -1 %s", call, sockspec_errno_name(e));
}

static void take_fds(struct run *r, struct frame_msg *msg)
{
    for (unsigned i = 0; i < msg->nfds; i++) {
        int fd = msg->fds[i];
        unsigned k = (unsigned)(fd - FAKE_BASE);
        if (fd < FAKE_BASE || k >= r->nfake || r->fake[k] != FAKE_DECODER)
            fz_fail(T, "message %u carries descriptor %d the decoder does not own", r->nmsgs, fd);
        if (!((r->take_mask >> ((r->nmsgs * 7 + i) & 7)) & 1))
            continue;
        if (frame_msg_take_fd(msg, i) != fd)
            fz_fail(T, "frame_msg_take_fd(%u) did not return descriptor %d", i, fd);
        r->fake[k] = FAKE_TAKEN;
        if (frame_msg_take_fd(msg, i) != -1)
            fz_fail(T, "descriptor %u of a message taken twice", i);
    }
}

static void log_msg(struct run *r, const struct frame_msg *msg)
{
    uint32_t head[4] = {msg->type, msg->id, msg->len, msg->nfds};
    if (msg->len > max_payload || msg->nfds > max_fds)
        fz_fail(T, "message of %u bytes, %u descriptors above the limits %u, %u", msg->len,
                msg->nfds, max_payload, max_fds);
    log_put(r, head, sizeof head);
    log_put(r, msg->fds, msg->nfds * sizeof(int));
    log_put(r, msg->payload, msg->len);
}

static void take_msg(struct run *r, struct frame_msg *msg)
{
    if (r->err)
        fz_fail(T, "a message returned after error %s", sockspec_errno_name(r->err));
    fz_trace("  message type=%u id=%u len=%u nfds=%u", msg->type, msg->id, msg->len, msg->nfds);
    log_msg(r, msg);
    take_fds(r, msg);
    frame_msg_release(msg);
    frame_msg_release(msg);
    r->nmsgs++;
}

/* One frame_decoder_next or frame_decoder_next_batch call: messages, 0, or -1. */
static int next_msgs(struct run *r, struct frame_msg *msgs)
{
    if (r->batch == 0)
        return frame_decoder_next(&r->dec, msgs);
    return fz_check_batch(T, "frame_decoder_next_batch", msgs,
                          frame_decoder_next_batch(&r->dec, msgs, r->batch), r->batch);
}

/* Takes every complete message; returns how many. */
static unsigned drain(struct run *r)
{
    struct frame_msg msgs[8];
    unsigned n = 0;
    int rc;
    while ((rc = next_msgs(r, msgs)) > 0) {
        for (int i = 0; i < rc; i++)
            take_msg(r, &msgs[i]);
        n += (unsigned)rc;
    }
    if (rc < 0)
        note_error(r, r->batch ? "frame_decoder_next_batch" : "frame_decoder_next");
    else if (r->err)
        fz_fail(T, "frame_decoder_next returned 0 after error %s", sockspec_errno_name(r->err));
    check_cap(r);
    return n;
}

static void give_fds(struct run *r, int *fds, unsigned nfds)
{
    for (unsigned i = 0; i < nfds; i++)
        r->fake[fds[i] - FAKE_BASE] = FAKE_DECODER;
}

static void take_back_fds(struct run *r, const int *fds, unsigned nfds)
{
    for (unsigned i = 0; i < nfds; i++) {
        if (r->fake[fds[i] - FAKE_BASE] == FAKE_DECODER)
            r->fake[fds[i] - FAKE_BASE] = FAKE_HARNESS;
    }
}

/* One feed call; returns bytes accepted, or -1 once in error. */
static ssize_t feed_once(struct run *r, const uint8_t *p, size_t n, int *fds, unsigned nfds,
                         int flags)
{
    give_fds(r, fds, nfds);
    ssize_t got = frame_decoder_feed(&r->dec, p, n, fds, nfds, flags);
    fz_trace("  feed %zu bytes %u fds flags %d -> %zd", n, nfds, flags, got);
    if (got < 0) {
        note_error(r, "frame_decoder_feed");
        return -1;
    }
    if (r->err)
        fz_fail(T, "frame_decoder_feed accepted bytes after error %s", sockspec_errno_name(r->err));
    if (got == 0 && n > 0)
        take_back_fds(r, fds, nfds);
    return got;
}

static ssize_t commit_once(struct run *r, const uint8_t *p, size_t n, int *fds, unsigned nfds,
                           int flags)
{
    size_t room;
    unsigned char *space = frame_decoder_space(&r->dec, &room);
    if (space == NULL && !r->err && errno != ENOMEM)
        note_error(r, "frame_decoder_space");
    if (space == NULL)
        room = 0;
    if (space != NULL && room == 0 && n > 0)
        return 0;
    size_t m = n < room ? n : room;
    if (packet && m < n)
        flags |= FRAME_IN_TRUNC;
    if (m)
        memcpy(space, p, m);
    give_fds(r, fds, nfds);
    int rc = frame_decoder_commit(&r->dec, m, fds, nfds, flags);
    fz_trace("  commit %zu of %zu bytes %u fds flags %d -> %d", m, n, nfds, flags, rc);
    if (rc < 0) {
        note_error(r, "frame_decoder_commit");
        return -1;
    }
    if (r->err)
        fz_fail(T, "frame_decoder_commit accepted bytes after error %s",
                sockspec_errno_name(r->err));
    return (ssize_t)(packet ? n : m);
}

/* Feeds one chunk completely, taking messages whenever the decoder is full. */
static void feed_chunk(struct run *r, const uint8_t *p, size_t n, int *fds, unsigned nfds,
                       int flags)
{
    size_t done = 0;
    int first = 1;
    do {
        ssize_t got = r->commit_path ? commit_once(r, p + done, n - done, fds, nfds, flags)
                                     : feed_once(r, p + done, n - done, fds, nfds, flags);
        check_cap(r);
        if (got < 0)
            return;
        if (got > 0 && nfds && (size_t)got < n - done)
            r->split_fds = 1;
        if (got > 0 || (n == 0 && first)) {
            done += (size_t)got;
            nfds = 0;
            flags = 0;
        }
        first = 0;
        if (drain(r) == 0 && got == 0 && done < n && !r->err)
            fz_fail(T, "decoder accepts no byte and has no message (%zu of %zu fed)", done, n);
    } while (done < n && !r->err);
}

static void feed_record(struct run *r, const struct record *rec, size_t sub)
{
    int fds[8];
    for (unsigned i = 0; i < rec->nfds; i++) {
        fds[i] = FAKE_BASE + (int)r->nfake;
        r->fake[r->nfake++] = FAKE_HARNESS;
    }
    if (rec->nfds || rec->flags || sub == 0 || packet) {
        feed_chunk(r, rec->data, rec->len, fds, rec->nfds, rec->flags);
        return;
    }
    for (size_t off = 0; off < rec->len && !r->err; off += sub)
        feed_chunk(r, rec->data + off, rec->len - off < sub ? rec->len - off : sub, NULL, 0, 0);
}

static int plain(const struct record *rec)
{
    return rec->nfds == 0 && rec->flags == 0;
}

/* "At once": a run of plain records is one chunk. */
static void feed_at_once(struct run *r)
{
    static uint8_t joined[MAX_INPUT];
    for (unsigned i = 0; i < nrecs && !r->err; i++) {
        if (packet || !plain(&recs[i])) {
            feed_record(r, &recs[i], 0);
            continue;
        }
        size_t len = 0;
        unsigned j = i;
        for (; j < nrecs && plain(&recs[j]); j++) {
            memcpy(joined + len, recs[j].data, recs[j].len);
            len += recs[j].len;
        }
        struct record merged = {joined, len, 0, 0, 0};
        feed_record(r, &merged, 0);
        i = j - 1;
    }
}

static void feed_chunked(struct run *r)
{
    for (unsigned i = 0; i < nrecs && !r->err; i++)
        feed_record(r, &recs[i], recs[i].sub);
}

static void finish(struct run *r)
{
    drain(r);
    int rc = frame_decoder_eof(&r->dec);
    if (rc < 0)
        note_error(r, "frame_decoder_eof");
    else if (r->err)
        fz_fail(T, "frame_decoder_eof returned 0 after error %s", sockspec_errno_name(r->err));
    if (frame_decoder_next(&r->dec, &(struct frame_msg){0}) == 1)
        fz_fail(T, "a message after end of input");
    frame_decoder_fini(&r->dec);
    for (unsigned i = 0; i < r->nfake; i++) {
        if (r->fake[i] == FAKE_DECODER)
            fz_fail(T, "descriptor %d neither handed out nor closed after fini",
                    FAKE_BASE + (int)i);
    }
}

static int run_one(struct run *r, int commit_path, uint8_t take_mask, int chunked)
{
    memset(r->fake, 0, sizeof r->fake);
    r->nfake = 0;
    r->loglen = 0;
    r->nmsgs = 0;
    r->err = 0;
    r->split_fds = 0;
    r->commit_path = commit_path;
    r->take_mask = take_mask;
    /* The at-once run takes messages in batches of 1-8 (from the take mask), the chunked run
     * one at a time: both must see the same messages, so batches are checked against next. */
    r->batch = chunked ? 0 : 1 + (take_mask >> 5);
    if (frame_decoder_init(&r->dec, max_payload, max_fds, packet) < 0)
        return -1;
    frame_decoder_set_close(&r->dec, fake_close, r);
    fz_trace("run %s, %s path", chunked ? "chunked" : "at once", commit_path ? "commit" : "feed");
    if (chunked)
        feed_chunked(r);
    else
        feed_at_once(r);
    finish(r);
    return 0;
}

static void parse(struct fz_in *in)
{
    static const size_t subs[8] = {0, 1, 2, 3, 5, 8, 16, 64};
    for (nrecs = 0; nrecs < MAX_RECORDS && in->n > 0; nrecs++) {
        struct record *rec = &recs[nrecs];
        uint8_t h = fz_u8(in);
        size_t want = fz_u8(in);
        if (want == 255)
            want = fz_u16(in);
        rec->nfds = h & 7;
        rec->flags = ((h >> 3) & 1 ? FRAME_IN_CTRUNC : 0) | ((h >> 4) & 1 ? FRAME_IN_TRUNC : 0);
        rec->sub = subs[h >> 5];
        rec->data = fz_bytes(in, want, &rec->len);
    }
}

static void compare(void)
{
    struct run *a = &runs[0], *b = &runs[1];
    if (a->split_fds || b->split_fds)
        return;
    if (a->nmsgs != b->nmsgs || a->loglen != b->loglen || memcmp(a->log, b->log, a->loglen) != 0)
        fz_fail(T, "at once: %u messages then %s; chunked: %u messages then %s", a->nmsgs,
                sockspec_errno_name(a->err), b->nmsgs, sockspec_errno_name(b->err));
    if (a->err != b->err)
        fz_fail(T, "at once ends in %s, chunked in %s after the same %u messages",
                sockspec_errno_name(a->err), sockspec_errno_name(b->err), a->nmsgs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t payloads[8] = {0, 1, 16, 64, 255, 4096, 65536, FRAME_MAX_PAYLOAD_DEFAULT};
    static const unsigned fdmax[8] = {0, 1, 2, 3, 4, 8, 16, FRAME_MAX_FDS_LIMIT};
    struct fz_in in = {data, size < MAX_INPUT ? size : MAX_INPUT};
    fz_trace_reset(0);
    uint8_t cfg = fz_u8(&in), take_mask = fz_u8(&in);
    packet = cfg & 1;
    max_payload = payloads[(cfg >> 1) & 7];
    max_fds = fdmax[(cfg >> 4) & 7];
    parse(&in);
    fz_trace("%s max_payload=%u max_fds=%u records=%u", packet ? "packet" : "stream", max_payload,
             max_fds, nrecs);
    int commit_first = cfg >> 7;
    if (run_one(&runs[0], commit_first, take_mask, 0) < 0)
        return 0;
    if (packet)
        return 0;
    if (run_one(&runs[1], !commit_first, take_mask, 1) < 0)
        return 0;
    compare();
    return 0;
}
