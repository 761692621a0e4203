/*
 * gen_seeds OUTDIR: writes seed inputs for every fuzz target into OUTDIR/<target>/seed-N.
 * Frames come from frame_encode_header, so the seeds are valid and reach deep; ci/fuzz
 * --seed minimises them into corpus/<target>/ (named by SHA-1) with libFuzzer -merge=1.
 * The input layouts are documented at the top of each target's source file.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "frame.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct buf {
    unsigned char b[1 << 16];
    size_t n;
};

static const char *outdir;
static unsigned seedno;

static void put(struct buf *b, const void *p, size_t n)
{
    if (n > sizeof b->b - b->n)
        n = sizeof b->b - b->n;
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void put8(struct buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(b, &c, 1);
}

static void put16(struct buf *b, unsigned v)
{
    put8(b, v & 0xff);
    put8(b, (v >> 8) & 0xff);
}

/* A frame: header from the encoder, then a patterned payload. */
static size_t frame(unsigned char *out, uint32_t type, uint32_t id, uint32_t len, unsigned nfds)
{
    if (frame_encode_header(out, type, id, len, nfds) < 0) {
        perror("frame_encode_header");
        exit(1);
    }
    for (uint32_t i = 0; i < len; i++)
        out[FRAME_HDR_LEN + i] = (unsigned char)(i * 7 + type);
    return FRAME_HDR_LEN + len;
}

static void write_seed(const char *target, const struct buf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    if (mkdir(path, 0777) < 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/seed-%04u", outdir, target, seedno++);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->b, 1, b->n, f) != b->n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A record or segment: [hdr][len, or 255 and a 16-bit length][bytes]. */
static void segment(struct buf *b, unsigned hdr, const unsigned char *p, size_t n)
{
    put8(b, hdr);
    if (n < 255) {
        put8(b, (unsigned)n);
    } else {
        put8(b, 255);
        put16(b, (unsigned)n);
    }
    put(b, p, n);
}

/* frame_decode record header: nfds | flags << 3 | sub << 5. */
static void decode_record(struct buf *b, const unsigned char *p, size_t n, unsigned nfds,
                          unsigned flags, unsigned sub)
{
    segment(b, nfds | flags << 3 | sub << 5, p, n);
}

static void seeds_decode(void)
{
    static const unsigned lens[] = {0, 1, 15, 16, 17, 200, 1000};
    unsigned char f[FRAME_HDR_LEN + 4096];
    for (unsigned cfg = 0; cfg < 16; cfg++) {
        struct buf b = {.n = 0};
        unsigned packet = cfg & 1, payload_sel = 5, fds_sel = cfg & 2 ? 5 : 3;
        put8(&b, packet | payload_sel << 1 | fds_sel << 4 | (cfg & 4 ? 0x80 : 0));
        put8(&b, 0x55);
        for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            unsigned nfds = (i + cfg) % 3;
            size_t n = frame(f, i + 1, cfg * 16 + i, lens[i], nfds);
            decode_record(&b, f, n, nfds, 0, (i + cfg) % 8);
        }
        if (cfg & 8) {
            size_t n = frame(f, 9, 9, 20, 0);
            f[cfg % 4] ^= 0x40; /* a bad magic, version, flags or descriptor count */
            decode_record(&b, f, n, 0, cfg & 4 ? 1 : 0, 1);
        }
        write_seed("frame_decode", &b);
    }
}

static void seeds_roundtrip(void)
{
    for (unsigned cfg = 0; cfg < 12; cfg++) {
        struct buf b = {.n = 0};
        put8(&b, (cfg & 1) | ((cfg % 8) << 1) | ((cfg % 4) << 4) | ((cfg & 4) << 4));
        for (unsigned i = 0; i < 6; i++) {
            put8(&b, (i * 37 + cfg) & 0xff);
            put8(&b, 0x80 | i);
            put16(&b, i * 13 + cfg);
            put8(&b, i);
            put8(&b, (i + cfg) % 5);
            for (unsigned k = 0; k < i * 13 + cfg; k++)
                put8(&b, k);
        }
        write_seed("frame_roundtrip", &b);
    }
}

/* frame_stream_peer / frame_packet_peer segment header: nfds | kind << 3. */
static void peer_segment(struct buf *b, const unsigned char *p, size_t n, unsigned nfds,
                         unsigned kind)
{
    segment(b, nfds | kind << 3, p, n);
}

static void seeds_peer(const char *target, unsigned type_bit)
{
    unsigned char f[FRAME_HDR_LEN + 4096];
    for (unsigned cfg = 0; cfg < 10; cfg++) {
        struct buf b = {.n = 0};
        put8(&b, 2 | (3 << 2) | (cfg & 1) << 5 | (cfg & 2) << 5 | type_bit * ((cfg >> 2) & 1));
        for (unsigned i = 0; i < 5; i++) {
            unsigned nfds = (i + cfg) % 3;
            size_t n = frame(f, i, cfg, (i * 41 + cfg * 3) % 300, nfds);
            if (cfg >= 8 && i == 3)
                nfds = (nfds + 1) % 3; /* a mislabelled frame */
            if (!type_bit && cfg & 4 && n > 20) {
                peer_segment(&b, f, 9, nfds, i % 4);
                peer_segment(&b, f + 9, n - 9, 0, 0);
            } else {
                peer_segment(&b, f, n, nfds, i % 4);
            }
        }
        write_seed(target, &b);
    }
}

/* frame_stream_model: [cfg0][cfg1] then frames [f0][f1][len] (see frame_stream_model.c). */
static void model_frame(struct buf *b, unsigned f0, unsigned f1, unsigned len)
{
    put8(b, f0);
    put8(b, f1);
    if (len < 255) {
        put8(b, len);
    } else {
        put8(b, 255);
        put16(b, len);
    }
}

static void seeds_stream_model(void)
{
    /* The second dozen with SO_PASSPIDFD (cfg1 bit 5) too. */
    for (unsigned cfg = 0; cfg < 24; cfg++) {
        struct buf b = {.n = 0};
        put8(&b, (cfg % 4) | ((cfg % 8) << 2) | (cfg & 1) << 5 | (cfg % 3) << 6);
        put8(&b, (cfg & 0x1f) | (cfg >= 12) << 5);
        for (unsigned i = 0; i < 8; i++) {
            unsigned nfds = (i + cfg) % 4, kind = (i + cfg / 2) % 4;
            unsigned over = cfg % 12 >= 8 && i == 5 ? 0x20 : 0, round = (i % 3 == 2) << 6;
            model_frame(&b, nfds | kind << 3 | over | round, (i * 5 + cfg) % 14,
                        (i * 37 + cfg) % 200);
        }
        write_seed("frame_stream_model", &b);
    }
    /* MSG_CTRUNC after fd-less chunks the kernel merges into the same read: frame 0 (in 7-byte
     * chunks, kind sel 1..) must still come before EPROTO at the overloaded frame 1. */
    for (unsigned reads = 0; reads < 2; reads++) {
        struct buf b = {.n = 0};
        put8(&b, 0x83 | (reads * 7) << 2);
        put8(&b, reads);
        model_frame(&b, 0, 5, 100);
        model_frame(&b, 0x20 | 1 | (reads ? 0x18 : 0), 0, 10);
        model_frame(&b, 2, 1, 20);
        write_seed("frame_stream_model", &b);
    }
}

static void seeds_api(void)
{
    for (unsigned cfg = 0; cfg < 16; cfg++) {
        struct buf b = {.n = 0};
        put8(&b, cfg);
        put8(&b, 3 | (cfg & 8));
        for (unsigned i = 0; i < 12; i++) {
            unsigned end = (i / 3) & 1;
            put8(&b, 0 | end << 3 | ((i % 3) << 4) | ((i & 1) << 7));
            put8(&b, i);
            put8(&b, (i * 29 + cfg) % 220);
            if (i % 3 == 2) {
                put8(&b, 2 | end << 3);
                put8(&b, 0);
                put8(&b, 0);
                put8(&b, 3 | (1 - end) << 3);
                put8(&b, 0);
                put8(&b, 0);
            }
        }
        write_seed("frame_api_sequence", &b);
    }
}

static void model_prog(unsigned type, const unsigned char *ops, size_t n)
{
    struct buf b = {.n = 0};
    put8(&b, type);
    put8(&b, type == 0 ? 5 : 0);
    put(&b, ops, n);
    write_seed("socket_model", &b);
}

static void seeds_model(void)
{
    /* op = kind | end << 3 | sel << 4, then a, b (see socket_model.c). */
    static const unsigned char basic[] = {0x00, 10, 0, 0x09, 20, 0, 0x19, 5, 0, 0x29, 40, 0,
                                          0x08, 3,  0, 0x01, 2,  0, 0x05, 1, 0, 0x0d, 1,  0};
    static const unsigned char shut[] = {0x00, 30,  0, 0x13, 0, 0, 0x09, 10, 0, 0x00, 5, 0,
                                         0x09, 100, 0, 0x0b, 0, 0, 0x01, 1,  0, 0x05, 1, 0};
    static const unsigned char closing[] = {0x00, 50,   0,   0x08, 7,    0, 0x04, 0,    0, 0x09, 10,
                                            0,    0x09, 100, 0,    0x08, 1, 0,    0x0d, 1, 0};
    static const unsigned char fill[] = {0x06, 0x40, 0,    0x06, 0x40, 0,    0x06, 0x40,
                                         0,    0x06, 0x40, 0,    0x0f, 0xff, 0,    0x0f,
                                         0xff, 0,    0x06, 0x40, 0,    0x0d, 1,    0};
    for (unsigned type = 0; type < 3; type++) {
        model_prog(type, basic, sizeof basic);
        model_prog(type, shut, sizeof shut);
        model_prog(type, closing, sizeof closing);
        model_prog(type, fill, sizeof fill);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
        perror(outdir);
        return 1;
    }
    seeds_model();
    seeds_decode();
    seeds_roundtrip();
    seeds_peer("frame_stream_peer", 0);
    seeds_peer("frame_packet_peer", 0x80);
    seeds_api();
    seeds_stream_model();
    printf("gen_seeds: %u seeds in %s\n", seedno, outdir);
    return 0;
}
