/* The checked payload reader (frame.h, frame.3): one bounds check, wire.h for the bytes. */
#include <errno.h>
#include <string.h>

#include "frame.h"
#include "wire.h"

void frame_reader_init(struct frame_reader *r, const void *buf, size_t len)
{
    static const unsigned char empty[1];

    r->buf_ = buf != NULL ? buf : empty;
    r->len_ = buf != NULL ? len : 0;
    r->pos_ = 0;
    r->error_ = 0;
}

/* The one bounds check: the next n bytes, consumed; or NULL with errno EBADMSG, the cursor
 * where it was, and the reader failed for good. n > len - pos cannot overflow (pos <= len). */
static const unsigned char *reader_take(struct frame_reader *r, size_t n)
{
    const unsigned char *p;

    if (r->error_ != 0 || n > r->len_ - r->pos_) {
        r->error_ = EBADMSG;
        errno = EBADMSG;
        return NULL;
    }
    p = r->buf_ + r->pos_;
    r->pos_ += n;
    return p;
}

int frame_read_u8(struct frame_reader *r, uint8_t *out)
{
    const unsigned char *p = reader_take(r, 1);

    if (p == NULL)
        return -1;
    *out = p[0];
    return 0;
}

int frame_read_u16le(struct frame_reader *r, uint16_t *out)
{
    const unsigned char *p = reader_take(r, 2);

    if (p == NULL)
        return -1;
    *out = wire_get16(p);
    return 0;
}

int frame_read_u32le(struct frame_reader *r, uint32_t *out)
{
    const unsigned char *p = reader_take(r, 4);

    if (p == NULL)
        return -1;
    *out = wire_get32(p);
    return 0;
}

int frame_read_u64le(struct frame_reader *r, uint64_t *out)
{
    const unsigned char *p = reader_take(r, 8);

    if (p == NULL)
        return -1;
    *out = wire_get64(p);
    return 0;
}

int frame_read_bytes(struct frame_reader *r, void *dst, size_t n)
{
    const unsigned char *p = reader_take(r, n);

    if (p == NULL)
        return -1;
    if (n > 0)
        memcpy(dst, p, n);
    return 0;
}

int frame_read_skip(struct frame_reader *r, size_t n)
{
    return reader_take(r, n) == NULL ? -1 : 0;
}

size_t frame_reader_left(const struct frame_reader *r)
{
    return r->len_ - r->pos_;
}

int frame_reader_end(const struct frame_reader *r)
{
    if (r->error_ != 0 || r->pos_ != r->len_) {
        errno = r->error_ != 0 ? EBADMSG : EMSGSIZE;
        return -1;
    }
    return 0;
}
