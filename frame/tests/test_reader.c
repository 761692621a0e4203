/* The payload reader: every getter at every offset and alignment against a byte-by-byte
 * reference, lengths near SIZE_MAX, the sticky error and leftover bytes. */
#include "util.h"

#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#define MAX_LEN 24
#define MAX_ALIGN 8
#define SENTINEL 0xA5A5A5A5A5A5A5A5u

/* Little-endian value of p[0..w), one byte at a time. */
static uint64_t ref_le(const unsigned char *p, size_t w)
{
    uint64_t v = 0;

    for (size_t i = w; i > 0; i--)
        v = v << 8 | p[i - 1];
    return v;
}

/* Reads one integer of width w (1, 2, 4, 8) into *v, which keeps its value on failure. */
static int read_int(struct frame_reader *r, size_t w, uint64_t *v)
{
    uint8_t u8 = (uint8_t)*v;
    uint16_t u16 = (uint16_t)*v;
    uint32_t u32 = (uint32_t)*v;
    int rc;

    switch (w) {
    case 1:
        rc = frame_read_u8(r, &u8);
        *v = rc == 0 ? u8 : *v;
        return rc;
    case 2:
        rc = frame_read_u16le(r, &u16);
        *v = rc == 0 ? u16 : *v;
        return rc;
    case 4:
        rc = frame_read_u32le(r, &u32);
        *v = rc == 0 ? u32 : *v;
        return rc;
    default:
        return frame_read_u64le(r, v);
    }
}

static void check_fails(struct frame_reader *r, size_t left)
{
    cr_assert(eq(int, errno, EBADMSG));
    cr_assert(eq(sz, frame_reader_left(r), left), "the cursor moved on a failed read");
    cr_assert(eq(int, frame_reader_end(r), -1));
    cr_assert(eq(int, errno, EBADMSG));
}

/* Integer of width w at offset off of p[0..len), stored only when it fits; the mask keeps
 * the bits of the sentinel a narrow getter does not write. */
static void check_int(const unsigned char *p, size_t len, size_t off, size_t w)
{
    struct frame_reader r;
    uint64_t v = SENTINEL, mask = w == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * w)) - 1;
    int fits = off + w <= len;

    frame_reader_init(&r, p, len);
    cr_assert(eq(int, frame_read_skip(&r, off), 0));
    errno = 0;
    cr_assert(eq(int, read_int(&r, w, &v), fits ? 0 : -1), "width %zu at %zu of %zu", w, off, len);
    if (!fits) {
        cr_assert(eq(u64, v, SENTINEL), "a failed read stored a value");
        check_fails(&r, len - off);
        return;
    }
    cr_assert(eq(u64, v & mask, ref_le(p + off, w)), "width %zu at %zu of %zu", w, off, len);
    cr_assert(eq(sz, frame_reader_left(&r), len - off - w));
    cr_assert(eq(int, frame_reader_end(&r), off + w == len ? 0 : -1));
}

static void check_bytes(const unsigned char *p, size_t len, size_t off, size_t n)
{
    struct frame_reader r;
    unsigned char out[MAX_LEN + 2], want[MAX_LEN + 2];
    int fits = off + n <= len;

    memset(out, 0x5A, sizeof(out));
    memcpy(want, out, sizeof(want));
    if (fits)
        memcpy(want, p + off, n);
    frame_reader_init(&r, p, len);
    cr_assert(eq(int, frame_read_skip(&r, off), 0));
    cr_assert(eq(int, frame_read_bytes(&r, out, n), fits ? 0 : -1), "%zu at %zu of %zu", n, off,
              len);
    cr_assert(eq(int, memcmp(out, want, sizeof(out)), 0), "%zu bytes at %zu of %zu", n, off, len);
    if (fits)
        cr_assert(eq(sz, frame_reader_left(&r), len - off - n));
    else
        check_fails(&r, len - off);
}

Test(reader, every_getter_offset_length_alignment, .timeout = TEST_TIMEOUT)
{
    static const size_t widths[] = {1, 2, 4, 8};
    _Alignas(8) unsigned char store[MAX_LEN + MAX_ALIGN];

    for (size_t i = 0; i < sizeof(store); i++)
        store[i] = (unsigned char)(0x11 * (i + 1) ^ (i << 5));
    for (size_t a = 0; a < MAX_ALIGN; a++) {
        for (size_t len = 0; len <= MAX_LEN; len++) {
            for (size_t off = 0; off <= len; off++) {
                for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
                    check_int(store + a, len, off, widths[w]);
                for (size_t n = 0; n <= len - off + 1; n++)
                    check_bytes(store + a, len, off, n);
            }
        }
    }
}

/* n near SIZE_MAX at every position: pos + n wraps, n > len - pos does not. */
Test(reader, size_max_lengths, .timeout = TEST_TIMEOUT)
{
    static const unsigned char buf[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    unsigned char out[1] = {0x5A};
    struct frame_reader r;

    for (size_t pos = 0; pos <= sizeof(buf); pos++) {
        const size_t huge[] = {SIZE_MAX, SIZE_MAX - pos + 1, SIZE_MAX - pos, sizeof(buf) - pos + 1};
        for (size_t k = 0; k < sizeof(huge) / sizeof(huge[0]); k++) {
            if (huge[k] <= sizeof(buf) - pos)
                continue;
            frame_reader_init(&r, buf, sizeof(buf));
            cr_assert(eq(int, frame_read_skip(&r, pos), 0));
            errno = 0;
            cr_assert(eq(int, frame_read_skip(&r, huge[k]), -1), "skip %zu at %zu", huge[k], pos);
            check_fails(&r, sizeof(buf) - pos);
            frame_reader_init(&r, buf, sizeof(buf));
            cr_assert(eq(int, frame_read_skip(&r, pos), 0));
            errno = 0;
            cr_assert(eq(int, frame_read_bytes(&r, out, huge[k]), -1), "%zu at %zu", huge[k], pos);
            check_fails(&r, sizeof(buf) - pos);
            cr_assert(eq(u8, out[0], 0x5A));
        }
    }
}

Test(reader, error_is_sticky, .timeout = TEST_TIMEOUT)
{
    static const unsigned char buf[6] = {1, 2, 3, 4, 5, 6};
    struct frame_reader r;
    uint8_t u8 = 0;
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    unsigned char out = 0;

    frame_reader_init(&r, buf, sizeof(buf));
    cr_assert(eq(int, frame_read_u16le(&r, &u16), 0));
    cr_assert(eq(u16, u16, 0x0201));
    cr_assert(eq(int, frame_read_u64le(&r, &u64), -1));
    /* Every later read fails, even those that would fit, and stores nothing. */
    errno = 0;
    cr_assert(eq(int, frame_read_u8(&r, &u8), -1));
    cr_assert(eq(int, errno, EBADMSG));
    errno = 0;
    cr_assert(eq(int, frame_read_u16le(&r, &u16), -1));
    cr_assert(eq(int, errno, EBADMSG));
    errno = 0;
    cr_assert(eq(int, frame_read_u32le(&r, &u32), -1));
    cr_assert(eq(int, errno, EBADMSG));
    errno = 0;
    cr_assert(eq(int, frame_read_bytes(&r, &out, 1), -1));
    cr_assert(eq(int, errno, EBADMSG));
    errno = 0;
    cr_assert(eq(int, frame_read_bytes(&r, NULL, 0), -1));
    cr_assert(eq(int, errno, EBADMSG));
    errno = 0;
    cr_assert(eq(int, frame_read_skip(&r, 0), -1));
    cr_assert(eq(int, errno, EBADMSG));
    cr_assert(eq(u8, u8, 0));
    cr_assert(eq(u16, u16, 0x0201));
    cr_assert(eq(u32, u32, 0));
    cr_assert(eq(u64, u64, 0));
    cr_assert(eq(u8, out, 0));
    check_fails(&r, 4);
    /* Reading the rest does not clear it. */
    errno = 0;
    cr_assert(eq(int, frame_read_skip(&r, 4), -1));
    check_fails(&r, 4);
}

Test(reader, leftover_bytes_are_emsgsize, .timeout = TEST_TIMEOUT)
{
    static const unsigned char buf[5] = {0xEF, 0xBE, 0xAD, 0xDE, 0x7F};
    struct frame_reader r;
    uint32_t u32 = 0;
    uint8_t u8 = 0;

    frame_reader_init(&r, buf, sizeof(buf));
    errno = 0;
    cr_assert(eq(int, frame_reader_end(&r), -1));
    cr_assert(eq(int, errno, EMSGSIZE));
    cr_assert(eq(int, frame_read_u32le(&r, &u32), 0));
    cr_assert(eq(u32, u32, 0xDEADBEEF));
    errno = 0;
    cr_assert(eq(int, frame_reader_end(&r), -1));
    cr_assert(eq(int, errno, EMSGSIZE));
    cr_assert(eq(sz, frame_reader_left(&r), 1));
    cr_assert(eq(int, frame_read_u8(&r, &u8), 0));
    cr_assert(eq(u8, u8, 0x7F));
    cr_assert(eq(int, frame_reader_end(&r), 0));
    cr_assert(eq(sz, frame_reader_left(&r), 0));
}

Test(reader, empty_and_null, .timeout = TEST_TIMEOUT)
{
    struct frame_reader r;
    uint8_t u8 = 7;

    frame_reader_init(&r, NULL, 0);
    cr_assert(eq(sz, frame_reader_left(&r), 0));
    cr_assert(eq(int, frame_reader_end(&r), 0));
    cr_assert(eq(int, frame_read_bytes(&r, NULL, 0), 0));
    cr_assert(eq(int, frame_read_skip(&r, 0), 0));
    cr_assert(eq(int, frame_reader_end(&r), 0));
    errno = 0;
    cr_assert(eq(int, frame_read_u8(&r, &u8), -1));
    cr_assert(eq(u8, u8, 7));
    check_fails(&r, 0);
}
