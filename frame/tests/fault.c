/* A seeded fault injector between the library and the socket calls. */
#include "compat.h" /* first: FRAME_MMSG, and the names it needs visible */

#include "fault.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "util.h"

static uint64_t state;
static int active;
static struct fault_stats stats;

void fault_setup(uint64_t seed, int on)
{
    state = seed * 0x9e3779b97f4a7c15u + 1;
    active = on;
    memset(&stats, 0, sizeof(stats));
}

struct fault_stats fault_get_stats(void)
{
    return stats;
}

static int is_stream(int fd)
{
    int type = 0;
    socklen_t len = sizeof(type);
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

/* Copies iov into out, cut to `keep` bytes in total; returns the new count. */
static int cut_iov(const struct msghdr *m, struct iovec *out, size_t keep)
{
    int n = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen && keep > 0 && n < 16; i++) {
        out[n] = m->msg_iov[i];
        if (out[n].iov_len > keep)
            out[n].iov_len = keep;
        keep -= out[n].iov_len;
        n++;
    }
    return n;
}

static size_t iov_total(const struct msghdr *m)
{
    size_t t = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++)
        t += m->msg_iov[i].iov_len;
    return t;
}

/* 0: pass; -1: fail with errno; 1: shorten. */
static int decide(int allow_nobufs)
{
    unsigned r = (unsigned)(util_rand(&state) % 100);
    if (!active)
        return 0;
    if (r < 10) {
        stats.eintr++;
        errno = EINTR;
        return -1;
    }
    if (r < 18) {
        stats.eagain++;
        errno = EAGAIN;
        return -1;
    }
    if (r < 24 && allow_nobufs) {
        stats.enobufs++;
        errno = ENOBUFS;
        return -1;
    }
    return r < 60 ? 1 : 0;
}

ssize_t frame_fault_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    int d = decide(1);
    size_t total = iov_total(msg);
    if (d == -1)
        return -1;
    if (d == 1 && total > 1 && is_stream(fd)) {
        struct iovec iov[16];
        struct msghdr m = *msg;
        m.msg_iov = iov;
        m.msg_iovlen = cut_iov(msg, iov, 1 + util_rand(&state) % (total - 1));
        stats.short_io++;
        return sendmsg(fd, &m, flags);
    }
    return sendmsg(fd, msg, flags);
}

ssize_t frame_fault_recvmsg(int fd, struct msghdr *msg, int flags)
{
    int d = decide(0);
    size_t total = iov_total(msg);
    if (d == -1)
        return -1;
    if (d == 1 && total > 1 && is_stream(fd)) {
        struct iovec iov[16], *orig = msg->msg_iov;
        int orig_n = (int)msg->msg_iovlen;
        int cut = cut_iov(msg, iov, 1 + util_rand(&state) % (total - 1));
        ssize_t n;
        msg->msg_iov = iov;
        msg->msg_iovlen = cut;
        stats.short_io++;
        n = recvmsg(fd, msg, flags);
        msg->msg_iov = orig;
        msg->msg_iovlen = orig_n;
        return n;
    }
    return recvmsg(fd, msg, flags);
}

int fault_have_mmsg(void)
{
    return FRAME_MMSG;
}

#if FRAME_MMSG
/* What compat.h calls in the fault-injection build instead of sendmmsg and recvmmsg. */
int frame_fault_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags);
int frame_fault_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags);

/* How many of vlen messages one call may take: all, or (shortened) 1 to vlen - 1. */
static unsigned fault_vlen(unsigned vlen, int d, unsigned long *shortened)
{
    if (d != 1 || vlen < 2)
        return vlen;
    ++*shortened;
    return 1 + (unsigned)(util_rand(&state) % (vlen - 1));
}

int frame_fault_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
    int d = decide(1);

    stats.sendmmsg_calls++;
    if (d == -1)
        return -1;
    return (int)sendmmsg(fd, vec, fault_vlen(vlen, d, &stats.sendmmsg_short), flags);
}

int frame_fault_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
    int d = decide(0);

    stats.recvmmsg_calls++;
    if (d == -1)
        return -1;
    return (int)recvmmsg(fd, vec, fault_vlen(vlen, d, &stats.recvmmsg_short), flags, NULL);
}
#endif
