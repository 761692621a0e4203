#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fdset.h"
#include "memcheck.h"
#include "sockspec_config.h"

#ifdef SOCKSPEC_HAVE_MSG_NOSIGNAL
#define UTIL_NOSIGNAL MSG_NOSIGNAL
#else
#define UTIL_NOSIGNAL 0 /* raw peers only write to open sockets */
#endif
#include <criterion/new/assert.h>

static struct fdset open_before;
static struct memcheck mem_before;

void util_begin(void)
{
    cr_assert(eq(int, fdset_probe(&open_before), 0), "fd probe: %s", strerror(errno));
    mem_before = memcheck_begin();
}

void util_end(void)
{
    struct fdset now;
    struct memcheck delta;
    char changed[256];

    cr_assert(eq(int, fdset_probe(&now), 0), "fd probe: %s", strerror(errno));
    cr_assert(eq(int, fdset_diff(&open_before, &now, changed, sizeof changed), 0),
              "descriptors leaked: %s", changed);
    cr_assert(eq(int, fdset_diff(&now, &open_before, changed, sizeof changed), 0),
              "descriptors closed by the test: %s", changed);
    cr_assert(eq(int, memcheck_end(mem_before, &delta), 0), "%lu memory errors, %lu bytes leaked",
              delta.errors, delta.leaked);
}

void util_pair(int type, int sv[2])
{
    cr_assert(eq(int, socketpair(AF_UNIX, type, 0, sv), 0), "socketpair: %s", strerror(errno));
}

void util_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    cr_assert(fl != -1);
    cr_assert(eq(int, fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0));
}

void util_close(int fd)
{
    cr_assert(eq(int, close(fd), 0), "close(%d): %s", fd, strerror(errno));
}

int util_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

int util_same_file(int a, int b)
{
    struct stat sa, sb;
    if (fstat(a, &sa) == -1 || fstat(b, &sb) == -1)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int util_is_cloexec(int fd)
{
    int f = fcntl(fd, F_GETFD);
    return f != -1 && (f & FD_CLOEXEC);
}

unsigned char util_byte(uint32_t id, size_t i)
{
    return (unsigned char)(((size_t)id * 131u + i * 7u + (i >> 8)) & 0xff);
}

void util_fill(void *buf, size_t len, uint32_t id)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < len; i++)
        p[i] = util_byte(id, i);
}

int util_check(const void *buf, size_t len, uint32_t id)
{
    const unsigned char *p = buf;
    for (size_t i = 0; i < len; i++)
        if (p[i] != util_byte(id, i))
            return 0;
    return 1;
}

uint64_t util_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15u;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1du;
}

int util_pump(struct frame_chan *tx, struct frame_chan *rx, struct frame_msg *msg)
{
    for (int spins = 0; spins < 1000000; spins++) {
        int r = frame_next(rx, msg);
        if (r != 0)
            return r;
        if (rx->eof)
            return 0;
        if (tx && frame_flush(tx) == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != ENOBUFS)
            return -1;
        if (frame_recv(rx) == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
            if (errno == ENOBUFS)
                continue;
            return -1;
        }
    }
    errno = ETIMEDOUT;
    return -1;
}

ssize_t util_raw_send(int fd, const void *buf, size_t len, const int *fds, unsigned nfds)
{
    union {
        struct cmsghdr h;
        unsigned char b[CMSG_SPACE(sizeof(int) * 300)];
    } cb;
    struct iovec iov = {(void *)(uintptr_t)buf, len};
    struct msghdr m;
    memset(&m, 0, sizeof(m));
    memset(&cb, 0, sizeof(cb));
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (nfds) {
        m.msg_control = &cb;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cb.h.cmsg_level = SOL_SOCKET;
        cb.h.cmsg_type = SCM_RIGHTS;
        cb.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(&cb.h), fds, sizeof(int) * nfds);
    }
    return sendmsg(fd, &m, UTIL_NOSIGNAL);
}

void util_duo_open(struct util_duo *d, int type, const struct frame_opts *oa,
                   const struct frame_opts *ob)
{
    util_pair(type, d->sv);
    util_nonblock(d->sv[0]);
    util_nonblock(d->sv[1]);
    cr_assert(eq(int, frame_chan_init(&d->a, d->sv[0], oa), 0), "init: %s", strerror(errno));
    cr_assert(eq(int, frame_chan_init(&d->b, d->sv[1], ob), 0), "init: %s", strerror(errno));
}

void util_duo_close(struct util_duo *d)
{
    frame_chan_fini(&d->a);
    frame_chan_fini(&d->b);
    util_close(d->sv[0]);
    util_close(d->sv[1]);
}
