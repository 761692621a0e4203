#ifndef FRAME_TEST_FAULT_H
#define FRAME_TEST_FAULT_H

#include "util.h"

#include <sys/socket.h>

struct fault_stats {
    unsigned long eintr, eagain, enobufs, short_io;
    unsigned long sendmmsg_calls, sendmmsg_short, recvmmsg_calls, recvmmsg_short;
};

/* Seeds the injector; faults only while on. */
void fault_setup(uint64_t seed, int on);
struct fault_stats fault_get_stats(void);

ssize_t frame_fault_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t frame_fault_recvmsg(int fd, struct msghdr *msg, int flags);
/* 1 if the library under test batches with sendmmsg/recvmmsg (and the injector sees them). */
int fault_have_mmsg(void);

#endif
