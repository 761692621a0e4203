/* The decoder alone, against memcpy of the same bytes in the same chunks (the physical limit):
 *   frame-decoder          frame_decoder_feed (copies the chunk in) + frame_decoder_next
 *   frame-decoder-batch    frame_decoder_feed + frame_decoder_next_batch
 *   frame-decoder-inplace  frame_decoder_next_batch on bytes already in the decoder's buffer, as
 *                          frame_recv leaves them (recvmsg writes into frame_decoder_space): the
 *                          parsing alone, without the copy that feed adds and a channel does not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "frame.h"

/* Bytes of frames in the source (cache-resident, as after a recv) and bytes per feed. */
#define DECODE_SOURCE ((size_t)1 << 20)
#define DECODE_CHUNK ((size_t)64 * 1024)

struct source {
    unsigned char *buf;
    size_t len, frames, payload;
};

static int build_source(struct source *s, size_t payload)
{
    size_t rec = FRAME_HDR_LEN + payload;

    s->payload = payload;
    s->frames = DECODE_SOURCE / rec ? DECODE_SOURCE / rec : 1;
    s->len = s->frames * rec;
    if ((s->buf = malloc(s->len)) == NULL)
        return -1;
    for (size_t j = 0; j < s->frames; j++) {
        unsigned char *p = s->buf + j * rec;
        (void)frame_encode_header(p, 1, (uint32_t)j, (uint32_t)payload, 0);
        payload_fill(p + FRAME_HDR_LEN, payload);
        payload_stamp(p + FRAME_HDR_LEN, payload, j);
    }
    return 0;
}

/* Messages a batch call may return: enough to amortise the call, small enough for L1. */
#define DECODE_BATCH 64

static int check_msg(const struct frame_msg *msg, const struct source *s, size_t *seq, int verify,
                     const struct payload_check *pc, struct decode_result *out)
{
    if (msg->id != *seq || msg->len != s->payload || msg->nfds != 0) {
        snprintf(out->err, sizeof out->err, "frame %zu: id %u len %u", *seq, msg->id, msg->len);
        return -1;
    }
    if (verify && payload_verify(pc, msg->payload, msg->len, *seq, out->err, sizeof out->err) == -1)
        return -1;
    *seq = *seq + 1 == s->frames ? 0 : *seq + 1;
    return 0;
}

/* Takes every complete frame, one per call or in batches: how many, or -1 with out->err set. */
static long take(struct frame_decoder *dec, enum decode_mode mode, const struct source *s,
                 size_t *seq, int verify, const struct payload_check *pc, struct decode_result *out)
{
    struct frame_msg msgs[DECODE_BATCH];
    long got = 0;
    int r;

    while ((r = mode == DECODE_NEXT ? frame_decoder_next(dec, msgs)
                                    : frame_decoder_next_batch(dec, msgs, DECODE_BATCH)) > 0) {
        for (int i = 0; i < r; i++)
            if (check_msg(&msgs[i], s, seq, verify, pc, out) == -1)
                return -1;
        got += r;
    }
    if (r == -1)
        snprintf(out->err, sizeof out->err, "frame_decoder_next: %s", strerror(errno));
    return r == -1 ? -1 : got;
}

/* One pass over the source: frames decoded, or -1. */
static long decode_pass(struct frame_decoder *dec, enum decode_mode mode, const struct source *s,
                        size_t *seq, int verify, const struct payload_check *pc,
                        struct decode_result *out)
{
    size_t off = 0;
    long total = 0;

    while (off < s->len) {
        size_t n = s->len - off < DECODE_CHUNK ? s->len - off : DECODE_CHUNK;
        ssize_t k = frame_decoder_feed(dec, s->buf + off, n, NULL, 0, 0);
        long got;
        if (k == -1) {
            snprintf(out->err, sizeof out->err, "frame_decoder_feed: %s", strerror(errno));
            return -1;
        }
        if ((got = take(dec, mode, s, seq, verify, pc, out)) == -1)
            return -1;
        if (k == 0 && got == 0) {
            snprintf(out->err, sizeof out->err, "decoder accepts no bytes and yields no frame");
            return -1;
        }
        off += (size_t)k;
        total += got;
    }
    return total;
}

static void *(*volatile copy_fn)(void *, const void *, size_t) = memcpy;

static long memcpy_pass(unsigned char *dst, const struct source *s)
{
    for (size_t off = 0; off < s->len; off += DECODE_CHUNK) {
        size_t n = s->len - off < DECODE_CHUNK ? s->len - off : DECODE_CHUNK;
        copy_fn(dst, s->buf + off, n);
    }
    return (long)s->frames;
}

/* Frames of the source that fit the decoder's buffer whole: what one in-place pass parses. */
static size_t inplace_frames(const struct source *s)
{
    size_t n = DECODE_CHUNK / (FRAME_HDR_LEN + s->payload);
    return n < s->frames ? n : s->frames;
}

/* Bytes already in the decoder's buffer, as after frame_recv wrote them there: committed again
 * each pass (the decoder never writes into its buffer), every frame taken in batches. */
static long inplace_pass(struct frame_decoder *dec, const struct source *s, int verify,
                         const struct payload_check *pc, struct decode_result *out)
{
    size_t bytes = inplace_frames(s) * (FRAME_HDR_LEN + s->payload), room, seq = 0;
    unsigned char *space = frame_decoder_space(dec, &room);

    if (space == NULL || room < bytes) {
        snprintf(out->err, sizeof out->err, "frame_decoder_space: %zu bytes", room);
        return -1;
    }
    if (verify)
        memcpy(space, s->buf, bytes); /* the first pass places the bytes, untimed */
    if (frame_decoder_commit(dec, bytes, NULL, 0, 0) == -1) {
        snprintf(out->err, sizeof out->err, "frame_decoder_commit: %s", strerror(errno));
        return -1;
    }
    return take(dec, DECODE_INPLACE_BATCH_NEXT, s, &seq, verify, pc, out);
}

/* One pass of the mode: frames handled, or -1; *want is how many it must handle. */
static long one_pass(enum decode_mode mode, struct frame_decoder *dec, unsigned char *dst,
                     const struct source *s, size_t *seq, int verify,
                     const struct payload_check *pc, struct decode_result *out, size_t *want)
{
    *want = mode == DECODE_INPLACE_BATCH_NEXT ? inplace_frames(s) : s->frames;
    if (mode == DECODE_MEMCPY)
        return verify ? (long)*want : memcpy_pass(dst, s);
    if (mode == DECODE_INPLACE_BATCH_NEXT)
        return inplace_pass(dec, s, verify, pc, out);
    return decode_pass(dec, mode, s, seq, verify, pc, out);
}

static void run_passes(enum decode_mode mode, const struct source *s, double target_s,
                       struct decode_result *out)
{
    struct frame_decoder dec;
    struct payload_check pc;
    unsigned char *dst = malloc(DECODE_CHUNK);
    size_t seq = 0, want;
    double frames = 0, secs = 0;
    int64_t t0;
    long n;

    if (dst == NULL || payload_check_init(&pc, s->payload) == -1 ||
        frame_decoder_init(&dec, FRAME_MAX_PAYLOAD_DEFAULT, 0, 0) == -1) {
        snprintf(out->err, sizeof out->err, "init: %s", strerror(errno));
        free(dst);
        return;
    }
    /* The first pass verifies every payload, untimed. */
    if (one_pass(mode, &dec, dst, s, &seq, 1, &pc, out, &want) != (long)want)
        goto short_pass;
    t0 = bench_now_ns();
    do {
        if ((n = one_pass(mode, &dec, dst, s, &seq, 0, &pc, out, &want)) != (long)want)
            goto short_pass;
        frames += (double)n;
        secs = (double)(bench_now_ns() - t0) / 1e9;
    } while (secs < target_s);
    out->ok = 1;
    out->frames_per_s = frames / secs;
    out->mb_per_s = frames * (double)s->payload / secs / 1e6;
    goto out;
short_pass:
    if (out->err[0] == '\0')
        snprintf(out->err, sizeof out->err, "a pass handled fewer than %zu frames", want);
out:
    frame_decoder_fini(&dec);
    free(dst);
}

void decode_run(enum decode_mode mode, size_t payload, double target_s, struct decode_result *out)
{
    struct source s;

    memset(out, 0, sizeof *out);
    if (build_source(&s, payload) == -1) {
        snprintf(out->err, sizeof out->err, "malloc: %s", strerror(errno));
        return;
    }
    run_passes(mode, &s, target_s, out);
    free(s.buf);
}

const char *const decode_mode_name[DECODE_MODES] = {
    [DECODE_MEMCPY] = "memcpy",
    [DECODE_NEXT] = "frame-decoder",
    [DECODE_BATCH_NEXT] = "frame-decoder-batch",
    [DECODE_INPLACE_BATCH_NEXT] = "frame-decoder-inplace",
};
