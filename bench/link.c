/* The link between the two processes of a run, made before fork, and descriptor helpers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

/* What AF_UNIX packet sockets need beyond the message in their send buffer. */
#define PACKET_SLACK 64

void link_init(struct link *lk)
{
    for (int s = 0; s < 2; s++)
        lk->fd[s][0] = lk->fd[s][1] = -1;
    lk->path[0] = '\0';
}

/* A datagram must fit in the sender's buffer: raise SO_SNDBUF only when it does not. */
static int fit_packet(int fd, size_t max_msg)
{
    int cur = 0;
    socklen_t len = sizeof cur;
    int want = (int)(2 * (max_msg + PACKET_SLACK));

    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &len) == -1)
        return -1;
    if ((size_t)cur >= max_msg + PACKET_SLACK)
        return 0;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want) == -1)
        return -1;
    len = sizeof cur;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &len) == -1)
        return -1;
    if ((size_t)cur < max_msg + PACKET_SLACK) {
        errno = EMSGSIZE;
        return -1;
    }
    return 0;
}

int link_socketpair(struct link *lk, int type, size_t max_msg)
{
    int sv[2];

    if (socketpair(AF_UNIX, type, 0, sv) == -1)
        return -1;
    lk->fd[SIDE_TX][0] = lk->fd[SIDE_TX][1] = sv[0];
    lk->fd[SIDE_RX][0] = lk->fd[SIDE_RX][1] = sv[1];
    if (type != SOCK_STREAM &&
        (fit_packet(sv[0], max_msg) == -1 || fit_packet(sv[1], max_msg) == -1)) {
        int saved = errno;
        link_release(lk);
        errno = saved;
        return -1;
    }
    return 0;
}

/* Two pipes: TX writes a and reads b, RX reads a and writes b. */
int link_pipes(struct link *lk)
{
    int a[2], b[2];

    if (pipe(a) == -1)
        return -1;
    if (pipe(b) == -1) {
        (void)close(a[0]);
        (void)close(a[1]);
        return -1;
    }
    lk->fd[SIDE_TX][0] = b[0];
    lk->fd[SIDE_TX][1] = a[1];
    lk->fd[SIDE_RX][0] = a[0];
    lk->fd[SIDE_RX][1] = b[1];
    return 0;
}

int link_ipc_path(struct link *lk)
{
    static unsigned counter;

    snprintf(lk->path, sizeof lk->path, "/tmp/sockspec-bench-%ld-%u.ipc", (long)getpid(),
             counter++);
    if (unlink(lk->path) == -1 && errno != ENOENT)
        return -1;
    return 0;
}

static void close_side(struct link *lk, int side)
{
    if (lk->fd[side][0] >= 0)
        (void)close(lk->fd[side][0]);
    if (lk->fd[side][1] >= 0 && lk->fd[side][1] != lk->fd[side][0])
        (void)close(lk->fd[side][1]);
    lk->fd[side][0] = lk->fd[side][1] = -1;
}

void link_keep_side(struct link *lk, int side)
{
    close_side(lk, !side);
}

void link_close_fds(struct link *lk)
{
    close_side(lk, SIDE_TX);
    close_side(lk, SIDE_RX);
}

void link_release(struct link *lk)
{
    link_close_fds(lk);
    if (lk->path[0] != '\0')
        (void)unlink(lk->path);
    lk->path[0] = '\0';
}

/* Waits without a timeout: the parent bounds the whole run. */
int bench_wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    int r;

    while ((r = poll(&p, 1, -1)) == -1 && errno == EINTR)
        ;
    return r == 1 ? 0 : -1;
}

int bench_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl == -1)
        return -1;
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int bench_write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w == -1 && errno == EINTR)
            continue;
        if (w == -1)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int link_prepare_ipc(struct link *lk, size_t max_payload)
{
    (void)max_payload;
    return link_ipc_path(lk);
}
