/* What the library exposes to its own tests only (not part of frame.h). */
#ifndef FRAME_TESTONLY_H
#define FRAME_TESTONLY_H

#include <stddef.h>

#include "frame.h"

/* Bytes the channel's send queue has allocated: its buffer, records and descriptor array. */
size_t frame_sendq_mem_(const struct frame_chan *chan);

#endif
