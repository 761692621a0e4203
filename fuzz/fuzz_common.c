#include "sockspec_config.h"

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint8_t fz_u8(struct fz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

uint16_t fz_u16(struct fz_in *in)
{
    uint16_t lo = fz_u8(in);
    return (uint16_t)(lo | (uint16_t)(fz_u8(in) << 8));
}

uint32_t fz_u32(struct fz_in *in)
{
    uint32_t lo = fz_u16(in);
    return lo | ((uint32_t)fz_u16(in) << 16);
}

const uint8_t *fz_bytes(struct fz_in *in, size_t want, size_t *got)
{
    const uint8_t *p = in->p;
    *got = want < in->n ? want : in->n;
    in->p += *got;
    in->n -= *got;
    return p;
}

FZ_NO_COVERAGE int fz_all_bytes(const void *p, size_t n, unsigned char c)
{
    const unsigned char *b = p;
    return n == 0 || (b[0] == c && memcmp(b, b + 1, n - 1) == 0);
}

static char trace_buf[16384];
static size_t trace_len;
static int trace_on = -1;

void fz_trace_reset(int default_on)
{
    if (trace_on < 0) {
        const char *e = getenv("FZ_TRACE");
        trace_on = e ? strtol(e, NULL, 10) != 0 : default_on;
    }
    trace_len = 0;
    trace_buf[0] = '\0';
}

void fz_trace(const char *fmt, ...)
{
    if (trace_on <= 0 || trace_len + 2 >= sizeof trace_buf)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(trace_buf + trace_len, sizeof trace_buf - trace_len - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    trace_len +=
        (size_t)n < sizeof trace_buf - trace_len - 1 ? (size_t)n : sizeof trace_buf - trace_len - 2;
    trace_buf[trace_len++] = '\n';
    trace_buf[trace_len] = '\0';
}

void fz_trace_print(void)
{
    fprintf(stderr, "%s", trace_buf);
}

void fz_fail(const char *target, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n==== %s: invariant failed: ", target);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (trace_on > 0)
        fprintf(stderr, "\n---- trace ----\n%s---- end of trace ----\n", trace_buf);
    else
        fprintf(stderr, "\n(trace: replay this input with build/<preset>/fuzz/%s_replay FILE)\n",
                target);
    fflush(stderr);
    abort();
}

int fz_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int fz_set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int fz_is_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC);
}

int fz_close(int fd)
{
    int r = close(fd);
    if (r < 0 && errno != EINTR)
        fz_fail("close", "close(%d): %s", fd, sockspec_errno_name(errno));
    return 0;
}

static void fz_nosigpipe(const int sv[2])
{
#if defined(SOCKSPEC_HAVE_SO_NOSIGPIPE) && defined(SO_NOSIGPIPE)
    for (int i = 0; i < 2; i++) {
        int one = 1;
        (void)setsockopt(sv[i], SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
    }
#else
    (void)sv;
#endif
}

int fz_socketpair(int type, int sv[2])
{
#if defined(SOCKSPEC_HAVE_SOCK_CLOEXEC) && defined(SOCKSPEC_HAVE_SOCK_NONBLOCK) &&                 \
    defined(SOCK_CLOEXEC) && defined(SOCK_NONBLOCK)
    /* One call instead of socketpair + 8 fcntl calls. */
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0) {
        fz_nosigpipe(sv);
        return 0;
    }
    if (errno != EINVAL && errno != EPROTONOSUPPORT)
        return -1;
#endif
    if (socketpair(AF_UNIX, type, 0, sv) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (fz_set_cloexec(sv[i]) < 0 || fz_set_nonblock(sv[i]) < 0) {
            close(sv[0]);
            close(sv[1]);
            return -1;
        }
    }
    fz_nosigpipe(sv);
    return 0;
}

int fz_nosignal_flag(void)
{
#if defined(SOCKSPEC_HAVE_MSG_NOSIGNAL) && defined(MSG_NOSIGNAL)
    return MSG_NOSIGNAL;
#else
    return 0;
#endif
}

ssize_t fz_send_fds(int sock, const void *p, size_t n, const int *fds, unsigned nfds)
{
    union {
        struct cmsghdr h;
        unsigned char b[CMSG_SPACE(FZ_SEND_FDS_MAX * sizeof(int))];
    } cb;
    struct iovec iov = {.iov_base = (void *)p, .iov_len = n};
    struct msghdr mh;

    if (nfds > FZ_SEND_FDS_MAX) {
        errno = EINVAL;
        return -1;
    }
    memset(&mh, 0, sizeof mh);
    memset(&cb, 0, sizeof cb);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (nfds) {
        struct cmsghdr *c;
        mh.msg_control = cb.b;
        mh.msg_controllen = (socklen_t)CMSG_SPACE((size_t)nfds * sizeof(int));
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = (socklen_t)CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    return sendmsg(sock, &mh, fz_nosignal_flag());
}

void fz_fdset_probe(struct fdset *set)
{
    if (fdset_probe_window(set, FZ_FD_WINDOW) < 0)
        fz_fail("fdset", "poll failed: %s", sockspec_errno_name(errno));
}

void fz_fdset_expect(const struct fdset *before, const char *target)
{
    struct fdset now;
    fz_fdset_probe(&now);
    int i = fdset_first_change(&now, before);
    if (i >= 0)
        fz_fail(target, "descriptor %d is %s after the input but was %s before", i,
                now.open[i] ? "open" : "closed", before->open[i] ? "open" : "closed");
}
