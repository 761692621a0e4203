/* What the library exposes to its own tests only (not part of frame.h). */
#ifndef FRAME_TESTONLY_H
#define FRAME_TESTONLY_H

#include <stddef.h>

#include "frame.h"

/* Bytes the channel's send queue has allocated: its buffer, records and descriptor array. */
size_t frame_sendq_mem_(const struct frame_chan *chan);
/* Bytes the channel's receive read-ahead has allocated (packet sockets with recvmmsg). */
size_t frame_readahead_mem_(const struct frame_chan *chan);
/* 0: one sendmsg/recvmsg per frame even where sendmmsg/recvmmsg exist; 1 (default): batch. */
void frame_set_batching_(int on);

#endif
