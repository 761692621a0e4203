/* The send queue, private to the library. */
#ifndef FRAME_SENDQ_H
#define FRAME_SENDQ_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* A queued frame that carries descriptors: it needs its own sendmsg. (On a packet socket
 * every frame does, but one without descriptors needs no record: its header gives its length.) */
struct frame_sendrec_ {
    uint64_t off;  /* stream offset of the frame's first byte */
    uint32_t len;  /* header included: at most FRAME_HDR_LEN + FRAME_MAX_PAYLOAD_LIMIT */
    uint32_t nfds; /* the next nfds entries of fds[] */
};

struct frame_readahead_;

struct frame_sendq_ {
    int more;     /* frames queued with FRAME_MORE wait for a send without it or a flush */
    int deferred; /* a write error to report at the next flush, 0 if none */
    /* The receive side's read-ahead (chan.c): here because struct frame_chan's size is ABI.
     * Its memory is its own, apart from the queue's (frame_readahead_mem_). */
    struct frame_readahead_ *ra;
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
/* A send call that failed closes what FRAME_FDS_TAKE handed it: the caller never owns them
 * after the call, whatever it returned (frame_send_wait cannot give back a frame it queued). */
void frame_fds_give_up_(const int *fds, unsigned nfds, enum frame_fd_mode mode);
/* Waits until the socket takes bytes: 0, or -1 (ETIMEDOUT once the deadline, -1: none, passed). */
int frame_wait_out_(struct frame_chan *chan, int64_t deadline);
/* Bytes the send queue has allocated; for tests (tests/testonly.h). */
size_t frame_sendq_mem_(const struct frame_chan *chan);
/* Bytes the receive read-ahead has allocated; for tests. */
size_t frame_readahead_mem_(const struct frame_chan *chan);
/* 0 turns sendmmsg/recvmmsg off (one call per frame), for tests; 1 by default. */
void frame_set_batching_(int on);
extern int frame_batching_;

#endif
