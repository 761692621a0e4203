/* The decoder alone: frames parsed from memory with frame_decoder_feed/next, against memcpy of
 * the same bytes in the same chunks (the physical limit: feed has to copy them once). */
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

/* Takes every complete frame: how many, or -1 with out->err set. */
static long take(struct frame_decoder *dec, const struct source *s, size_t *seq, int verify,
                 const struct payload_check *pc, struct decode_result *out)
{
    struct frame_msg msg;
    long got = 0;
    int r;

    while ((r = frame_decoder_next(dec, &msg)) == 1) {
        if (msg.id != *seq || msg.len != s->payload || msg.nfds != 0) {
            snprintf(out->err, sizeof out->err, "frame %zu: id %u len %u", *seq, msg.id, msg.len);
            return -1;
        }
        if (verify &&
            payload_verify(pc, msg.payload, msg.len, *seq, out->err, sizeof out->err) == -1)
            return -1;
        *seq = *seq + 1 == s->frames ? 0 : *seq + 1;
        got++;
    }
    if (r == -1)
        snprintf(out->err, sizeof out->err, "frame_decoder_next: %s", strerror(errno));
    return r == -1 ? -1 : got;
}

/* One pass over the source: frames decoded, or -1. */
static long decode_pass(struct frame_decoder *dec, const struct source *s, size_t *seq, int verify,
                        const struct payload_check *pc, struct decode_result *out)
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
        if ((got = take(dec, s, seq, verify, pc, out)) == -1)
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

static void run_passes(int use_decoder, const struct source *s, double target_s,
                       struct decode_result *out)
{
    struct frame_decoder dec;
    struct payload_check pc;
    unsigned char *dst = malloc(DECODE_CHUNK);
    size_t seq = 0;
    double frames = 0, secs = 0;
    int64_t t0;

    if (dst == NULL || payload_check_init(&pc, s->payload) == -1 ||
        frame_decoder_init(&dec, FRAME_MAX_PAYLOAD_DEFAULT, 0, 0) == -1) {
        snprintf(out->err, sizeof out->err, "init: %s", strerror(errno));
        free(dst);
        return;
    }
    /* The first pass verifies every payload, untimed. */
    if (use_decoder && decode_pass(&dec, s, &seq, 1, &pc, out) != (long)s->frames)
        goto out;
    t0 = bench_now_ns();
    do {
        long n = use_decoder ? decode_pass(&dec, s, &seq, 0, &pc, out) : memcpy_pass(dst, s);
        if (n != (long)s->frames) {
            if (out->err[0] == '\0')
                snprintf(out->err, sizeof out->err, "pass decoded %ld of %zu frames", n, s->frames);
            goto out;
        }
        frames += (double)n;
        secs = (double)(bench_now_ns() - t0) / 1e9;
    } while (secs < target_s);
    out->ok = 1;
    out->frames_per_s = frames / secs;
    out->mb_per_s = frames * (double)s->payload / secs / 1e6;
out:
    frame_decoder_fini(&dec);
    free(dst);
}

void decode_run(int use_decoder, size_t payload, double target_s, struct decode_result *out)
{
    struct source s;

    memset(out, 0, sizeof *out);
    if (build_source(&s, payload) == -1) {
        snprintf(out->err, sizeof out->err, "malloc: %s", strerror(errno));
        return;
    }
    run_passes(use_decoder, &s, target_s, out);
    free(s.buf);
}
