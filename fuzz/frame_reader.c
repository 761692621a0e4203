/*
 * frame_reader: the checked payload reader (frame.h, frame.3) over hostile bytes, against a
 * model that knows only the input: the cursor, the bytes left and whether a read failed.
 *
 * Input: [cfg][nops][ops...] then the payload, the rest of the input:
 *   cfg   bits 0-2 the payload's offset in its allocation (alignment), which ends where the
 *         payload ends so that ASan sees a byte read past it; bit 3 init with NULL when the
 *         payload is empty
 *   op    bits 0-2 u8, u16le, u32le, u64le, bytes, skip, left, end; bits 3-7 the size of bytes
 *         and skip: 0-27 as is, 28 all that is left, 29 one more, 30 SIZE_MAX, 31 the size
 *         that wraps the cursor to 0
 * The model: a read that fits returns 0 and the little-endian value of the model's copy of the
 * bytes, and moves the cursor; one that does not fit, or any read after a failed one, returns
 * -1/EBADMSG, stores nothing and leaves the cursor; frame_reader_left is what the model has
 * left; frame_reader_end is 0 at the end, EMSGSIZE before it, EBADMSG after a failure.
 */
#include "frame.h"
#include "fuzz_common.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define T "frame_reader"
#define CANARY 0xA5

enum op { OP_U8, OP_U16, OP_U32, OP_U64, OP_BYTES, OP_SKIP, OP_LEFT, OP_END };

struct model {
    const uint8_t *bytes; /* the input's copy, never the reader's buffer */
    size_t len, pos;
    int failed;
};

static uint64_t model_le(const struct model *m, size_t width)
{
    uint64_t v = 0;
    for (size_t i = width; i-- > 0;)
        v = v << 8 | m->bytes[m->pos + i];
    return v;
}

/* The size of a bytes or skip op from its top five bits. */
static size_t op_size(const struct model *m, unsigned v)
{
    switch (v) {
    case 28:
        return m->len - m->pos;
    case 29:
        return m->len - m->pos + 1;
    case 30:
        return SIZE_MAX;
    case 31:
        return SIZE_MAX - m->pos + 1;
    default:
        return v;
    }
}

/* Whether the model lets a read of n bytes through; a refused one fails the model for good. */
static int model_take(struct model *m, size_t n)
{
    if (m->failed || n > m->len - m->pos) {
        m->failed = 1;
        return 0;
    }
    return 1;
}

static void expect_refused(int r, const char *what, size_t n)
{
    if (r != -1 || errno != EBADMSG)
        fz_fail(T, "%s of %zu bytes: returned %d (%s), the model says -1/EBADMSG", what, n, r,
                r == -1 ? sockspec_errno_name(errno) : "no error");
}

union out {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    unsigned char raw[8];
};

/* One integer read of width bytes into out; its value in *got. */
static int read_int(struct frame_reader *r, size_t width, union out *out, uint64_t *got)
{
    int ret;
    if (width == 1) {
        ret = frame_read_u8(r, &out->u8);
        *got = out->u8;
    } else if (width == 2) {
        ret = frame_read_u16le(r, &out->u16);
        *got = out->u16;
    } else if (width == 4) {
        ret = frame_read_u32le(r, &out->u32);
        *got = out->u32;
    } else {
        ret = frame_read_u64le(r, &out->u64);
        *got = out->u64;
    }
    return ret;
}

static void check_int(struct frame_reader *r, struct model *m, size_t width)
{
    static const char *const names[] = {"", "u8", "u16le", "", "u32le", "", "", "", "u64le"};
    union out out;
    uint64_t got;
    int ret;
    memset(out.raw, CANARY, sizeof out.raw);
    errno = 0;
    ret = read_int(r, width, &out, &got);
    if (!model_take(m, width)) {
        expect_refused(ret, names[width], width);
        if (!fz_all_bytes(out.raw, sizeof out.raw, CANARY))
            fz_fail(T, "a refused %s stored something", names[width]);
        return;
    }
    if (ret != 0)
        fz_fail(T, "%s at %zu of %zu: %s, the model says 0", names[width], m->pos, m->len,
                sockspec_errno_name(errno));
    if (got != model_le(m, width))
        fz_fail(T, "%s at %zu: %#llx, the bytes say %#llx", names[width], m->pos,
                (unsigned long long)got, (unsigned long long)model_le(m, width));
    m->pos += width;
}

/* dst has room for all of the payload and 8 canary bytes after it. */
static void check_bytes(struct frame_reader *r, struct model *m, size_t n, unsigned char *dst,
                        int skip)
{
    int ret;
    memset(dst, CANARY, m->len + 8);
    errno = 0;
    ret = skip ? frame_read_skip(r, n) : frame_read_bytes(r, n ? dst : NULL, n);
    if (!model_take(m, n)) {
        expect_refused(ret, skip ? "skip" : "bytes", n);
        if (!fz_all_bytes(dst, m->len + 8, CANARY))
            fz_fail(T, "a refused read of %zu bytes stored something", n);
        return;
    }
    if (ret != 0)
        fz_fail(T, "%s of %zu at %zu of %zu: %s, the model says 0", skip ? "skip" : "bytes", n,
                m->pos, m->len, sockspec_errno_name(errno));
    if (!skip && (memcmp(dst, m->bytes + m->pos, n) != 0 || !fz_all_bytes(dst + n, 8, CANARY)))
        fz_fail(T, "bytes of %zu at %zu: not the payload's, or more stored", n, m->pos);
    m->pos += n;
}

static void check_left(const struct frame_reader *r, const struct model *m)
{
    if (frame_reader_left(r) != m->len - m->pos)
        fz_fail(T, "frame_reader_left %zu, the model has %zu left", frame_reader_left(r),
                m->len - m->pos);
}

static void check_end(const struct frame_reader *r, const struct model *m)
{
    int want = m->failed ? EBADMSG : m->pos != m->len ? EMSGSIZE : 0;
    int ret;
    errno = 0;
    ret = frame_reader_end(r);
    if (want == 0 ? ret != 0 : ret != -1 || errno != want)
        fz_fail(T, "frame_reader_end: %d (%s), the model says %s", ret,
                ret == -1 ? sockspec_errno_name(errno) : "no error",
                want ? sockspec_errno_name(want) : "0");
}

static void run_op(struct frame_reader *r, struct model *m, uint8_t op, unsigned char *dst)
{
    unsigned kind = op & 7u;
    size_t n = op_size(m, op >> 3);
    if (kind <= OP_U64)
        check_int(r, m, (size_t)1 << kind);
    else if (kind == OP_BYTES || kind == OP_SKIP)
        check_bytes(r, m, n, dst, kind == OP_SKIP);
    else if (kind == OP_LEFT)
        check_left(r, m);
    else
        check_end(r, m);
    fz_trace("op %u size %zu: pos %zu failed %d", kind, n, m->pos, m->failed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct frame_reader r;
    struct model m = {0};
    uint8_t cfg = fz_u8(&in), nops = fz_u8(&in);
    size_t got, off = cfg & 7;
    const uint8_t *ops = fz_bytes(&in, nops, &got);
    unsigned char *alloc, *dst;

    fz_trace_reset(0);
    m.bytes = in.p;
    m.len = in.n;
    /* The payload ends where its allocation does: one byte past it is ASan's to see. */
    if ((alloc = malloc(off + m.len ? off + m.len : 1)) == NULL ||
        (dst = malloc(m.len + 8)) == NULL)
        fz_fail(T, "out of memory for %zu bytes", m.len);
    if (m.len)
        memcpy(alloc + off, m.bytes, m.len);
    frame_reader_init(&r, m.len == 0 && (cfg & 8) ? NULL : alloc + off, m.len);
    fz_trace("payload %zu bytes at offset %zu, %zu ops", m.len, off, got);
    for (size_t i = 0; i < got; i++)
        run_op(&r, &m, ops[i], dst);
    check_left(&r, &m);
    check_end(&r, &m);
    free(dst);
    free(alloc);
    return 0;
}
