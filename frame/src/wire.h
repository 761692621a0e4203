/* Wire format v1 (FORMAT.md): explicit little-endian fields, never a struct copy. */
#ifndef FRAME_WIRE_H
#define FRAME_WIRE_H

#include <errno.h>
#include <stdint.h>

#include "frame.h"

#define WIRE_FLAGS_KNOWN 0x00u

struct wire_hdr {
    unsigned nfds;
    uint32_t len;
};

static inline uint32_t wire_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint16_t wire_get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint64_t wire_get64(const unsigned char *p)
{
    return (uint64_t)wire_get32(p) | (uint64_t)wire_get32(p + 4) << 32;
}

static inline void wire_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

/* The one place a header is validated: 0, or the errno it maps to. */
static inline int wire_check(const unsigned char *p, uint32_t max_payload, unsigned max_fds,
                             struct wire_hdr *h)
{
    if (p[0] != FRAME_MAGIC || p[1] != FRAME_VERSION || (p[2] & ~WIRE_FLAGS_KNOWN) != 0)
        return EBADMSG;
    h->nfds = p[3];
    h->len = wire_get32(p + 12);
    if (h->nfds > max_fds || h->len > max_payload)
        return E2BIG;
    return 0;
}

/* A header wire_check accepts, without flags or descriptors: one comparison for bytes 0-3. */
static inline int wire_plain(const unsigned char *p, uint32_t len, uint32_t max_payload)
{
    return wire_get32(p) == ((uint32_t)FRAME_MAGIC | (uint32_t)FRAME_VERSION << 8) &&
           len <= max_payload;
}

#endif
