/* The send queue, private to the library. */
#ifndef FRAME_SENDQ_H
#define FRAME_SENDQ_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* A frame that needs its own sendmsg: it carries descriptors, or the socket is a packet one. */
struct frame_sendrec_ {
    uint64_t off; /* stream offset of the frame's first byte */
    size_t len;
    unsigned nfds; /* the next nfds entries of fds[] */
};

struct frame_sendq_ {
    unsigned char *buf;
    size_t cap, head, tail; /* bytes [head, tail) wait */
    uint64_t off;           /* stream offset of buf[head] */
    struct frame_sendrec_ *rec;
    size_t rec_cap, rec_head, rec_tail;
    int *fds; /* owned until sent */
    size_t fds_cap, fds_head, fds_tail;
};

struct frame_sendq_ *frame_sendq_new(void);
void frame_sendq_free(struct frame_sendq_ *sq);

struct frame_chan;
int frame_flush_flags_(struct frame_chan *chan, int flags);
int frame_send_until_(struct frame_chan *chan, uint32_t type, uint32_t id, const void *payload,
                      size_t len, const int *fds, unsigned nfds, enum frame_fd_mode mode,
                      const int64_t *deadline);
/* Waits until the socket takes bytes: 0, or -1 (ETIMEDOUT once the deadline, -1: none, passed). */
int frame_wait_out_(struct frame_chan *chan, int64_t deadline);

#endif
