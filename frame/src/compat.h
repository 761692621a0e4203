/*
 * The one place for platform differences in frame. Include it first in every
 * source file of the library: it may set the feature-test macro.
 */
#ifndef FRAME_COMPAT_H
#define FRAME_COMPAT_H

/* glibc and musl show MSG_CMSG_CLOEXEC only with _GNU_SOURCE; respect a user's choice. */
#if !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && !defined(_GNU_SOURCE) &&               \
    !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
#define _GNU_SOURCE 1
#endif

#include <sockspec_config.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "compat_names.h"

#if !defined(SOCKSPEC_HAVE_MSG_NOSIGNAL) && !defined(SOCKSPEC_HAVE_SO_NOSIGPIPE)
#define FRAME_SIGPIPE_FALLBACK 1
#endif
#ifdef FRAME_FORCE_SIGPIPE_FALLBACK /* tests exercise the fallback on Linux */
#undef FRAME_SIGPIPE_FALLBACK
#define FRAME_SIGPIPE_FALLBACK 1
#endif
#ifdef FRAME_SIGPIPE_FALLBACK
#include <signal.h>
#include <time.h>
#endif

/* A hint to load the line at p + ahead: the walk from header to header is a chain of dependent
 * loads, and the lines it needs next are known. Integer arithmetic: p + ahead may be past the
 * end of the buffer, which a prefetch tolerates and pointer arithmetic does not. */
/* FRAME_KEEP_BRANCH: a branch the compiler must not turn into a conditional move, whose data
 * dependency is what the branch is there to avoid (gcc does so despite __builtin_expect). */
/* FRAME_NOINLINE: a rare path kept out of its caller, so that the common path does not pay
 * for its stack frame (gcc inlines a static function called once, whatever its size). */
#if defined(__GNUC__) || defined(__clang__)
#define FRAME_PREFETCH(p, ahead) __builtin_prefetch((const void *)((uintptr_t)(p) + (ahead)))
#define FRAME_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FRAME_KEEP_BRANCH() __asm__ volatile("")
#define FRAME_NOINLINE __attribute__((noinline))
#else
#define FRAME_PREFETCH(p, ahead) ((void)(p))
#define FRAME_UNLIKELY(x) (x)
#define FRAME_KEEP_BRANCH() ((void)0)
#define FRAME_NOINLINE
#endif

/* Batched socket calls (sendmmsg, recvmmsg with MSG_WAITFORONE) where the OS has them and the
 * file may see them: glibc and musl declare them for _GNU_SOURCE only (glibc shows
 * MSG_WAITFORONE without it), so a file that asks for plain POSIX gets one call per frame. */
#if defined(SOCKSPEC_HAVE_SENDMMSG) && defined(SOCKSPEC_HAVE_RECVMMSG) &&                          \
    defined(SOCKSPEC_HAVE_MSG_WAITFORONE) && defined(MSG_WAITFORONE) &&                            \
    (defined(_GNU_SOURCE) || !defined(_POSIX_C_SOURCE)) && !defined(FRAME_FORCE_NO_MMSG)
#define FRAME_MMSG 1
#else
#define FRAME_MMSG 0
#endif

/* The socket calls, redirected to a fault injector in the fault-injection build. */
#ifdef FRAME_FAULT_INJECTION
ssize_t frame_fault_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t frame_fault_recvmsg(int fd, struct msghdr *msg, int flags);
#define FRAME_SYS_SENDMSG frame_fault_sendmsg
#define FRAME_SYS_RECVMSG frame_fault_recvmsg
#if FRAME_MMSG
int frame_fault_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags);
int frame_fault_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags);
#define FRAME_SYS_SENDMMSG frame_fault_sendmmsg
#define FRAME_SYS_RECVMMSG(fd, vec, vlen, flags) frame_fault_recvmmsg(fd, vec, vlen, flags)
#endif
#else
#define FRAME_SYS_SENDMSG sendmsg
#define FRAME_SYS_RECVMSG recvmsg
#if FRAME_MMSG
#define FRAME_SYS_SENDMMSG sendmmsg
#define FRAME_SYS_RECVMMSG(fd, vec, vlen, flags) recvmmsg(fd, vec, vlen, flags, NULL)
#endif
#endif

#if defined(SOCKSPEC_HAVE_MSG_CMSG_CLOEXEC) && defined(MSG_CMSG_CLOEXEC) &&                        \
    !defined(FRAME_FORCE_FCNTL_CLOEXEC)
#define FRAME_RECV_FLAGS MSG_CMSG_CLOEXEC
#define FRAME_NEED_FCNTL_CLOEXEC 0
#else
#define FRAME_RECV_FLAGS 0
#define FRAME_NEED_FCNTL_CLOEXEC 1
#endif

#if defined(SOCKSPEC_HAVE_MSG_NOSIGNAL) && !defined(FRAME_SIGPIPE_FALLBACK)
#define FRAME_SEND_FLAGS MSG_NOSIGNAL
#else
#define FRAME_SEND_FLAGS 0
#endif

/* msg_iovlen is size_t on glibc, int on the BSDs and macOS; both hold small counts. */
static inline void frame_compat_msg_set(struct msghdr *m, struct iovec *iov, int iovcnt, void *ctrl,
                                        size_t ctrllen)
{
    m->msg_name = NULL;
    m->msg_namelen = 0;
    m->msg_iov = iov;
    m->msg_iovlen = iovcnt;
    m->msg_control = ctrllen ? ctrl : NULL;
    m->msg_controllen = (socklen_t)ctrllen;
    m->msg_flags = 0;
}

/* A socket that never raises SIGPIPE: SO_NOSIGPIPE where send flags cannot do it. */
static inline int frame_compat_nosigpipe(int fd)
{
#if defined(SOCKSPEC_HAVE_SO_NOSIGPIPE) && !defined(SOCKSPEC_HAVE_MSG_NOSIGNAL)
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#else
    (void)fd;
    return 0;
#endif
}

#ifdef FRAME_SIGPIPE_FALLBACK
struct frame_sigpipe_ {
    sigset_t pipe_set, old_set;
    int was_pending;
};

/* Blocks SIGPIPE around a send; frame_sigpipe_end swallows one that the send raised. */
static inline int frame_sigpipe_begin(struct frame_sigpipe_ *s)
{
    sigset_t pending;

    sigemptyset(&s->pipe_set);
    sigaddset(&s->pipe_set, SIGPIPE);
    sigpending(&pending);
    s->was_pending = sigismember(&pending, SIGPIPE);
    return pthread_sigmask(SIG_BLOCK, &s->pipe_set, &s->old_set) != 0 ? -1 : 0;
}

static inline void frame_sigpipe_end(struct frame_sigpipe_ *s, int failed)
{
    int saved = errno;

    if (failed && saved == EPIPE && !s->was_pending) {
        sigset_t pending;
        int sig;
        sigpending(&pending);
        /* sigwait, not sigtimedwait: macOS lacks the latter; pending means no block */
        if (sigismember(&pending, SIGPIPE))
            sigwait(&s->pipe_set, &sig);
    }
    pthread_sigmask(SIG_SETMASK, &s->old_set, NULL);
    errno = saved;
}

static inline ssize_t frame_compat_sendmsg(int fd, const struct msghdr *m, int flags)
{
    struct frame_sigpipe_ s;
    ssize_t n;

    if (frame_sigpipe_begin(&s) == -1)
        return -1;
    n = FRAME_SYS_SENDMSG(fd, m, flags);
    frame_sigpipe_end(&s, n == -1);
    return n;
}

#if FRAME_MMSG
static inline int frame_compat_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
    struct frame_sigpipe_ s;
    int n;

    if (frame_sigpipe_begin(&s) == -1)
        return -1;
    n = (int)FRAME_SYS_SENDMMSG(fd, vec, vlen, flags);
    frame_sigpipe_end(&s, n == -1);
    return n;
}
#endif
#else
static inline ssize_t frame_compat_sendmsg(int fd, const struct msghdr *m, int flags)
{
    return FRAME_SYS_SENDMSG(fd, m, flags | FRAME_SEND_FLAGS);
}

#if FRAME_MMSG
static inline int frame_compat_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
    return (int)FRAME_SYS_SENDMMSG(fd, vec, vlen, flags | FRAME_SEND_FLAGS);
}
#endif
#endif

/* Non-blocking for one call where the OS can; else the caller polls first. */
#ifdef MSG_DONTWAIT
#define FRAME_DONTWAIT MSG_DONTWAIT
#else
#define FRAME_DONTWAIT 0
#endif

static inline ssize_t frame_compat_recvmsg(int fd, struct msghdr *m, int flags)
{
    return FRAME_SYS_RECVMSG(fd, m, flags | FRAME_RECV_FLAGS);
}

#if FRAME_MMSG
/* Waits for the first datagram only (unless flags say not to wait at all). */
static inline int frame_compat_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
    return (int)FRAME_SYS_RECVMMSG(fd, vec, vlen, flags | MSG_WAITFORONE | FRAME_RECV_FLAGS);
}
#endif

/* Whether control message c carries descriptors the kernel made for the receiver on its own
 * (SCM_PIDFD), which frame closes. */
static inline int frame_compat_kernel_fds(const struct cmsghdr *c)
{
#ifdef SCM_PIDFD
    return c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_PIDFD;
#else
    (void)c;
    return 0;
#endif
}

/* Room for the control messages a kernel adds to a read when the receiving socket asks for
 * them, which frame discards: credentials (Linux SO_PASSCRED: struct ucred, 12 bytes, and
 * SO_PASSPIDFD: one int, both put before SCM_RIGHTS; FreeBSD LOCAL_CREDS: struct cmsgcred, 84;
 * NetBSD: struct sockcred with up to 16 groups, under 100) and a receive time (SO_TIMESTAMP,
 * SO_TIMESTAMPNS; the three timespecs of SO_TIMESTAMPING). Without it they take the descriptors'
 * room, which truncates them. Anything larger still truncates, and the read fails as any truncated
 * one does. */
#if defined(SOCKSPEC_HAVE_SO_PASSCRED) || defined(SOCKSPEC_HAVE_LOCAL_CREDS)
#define FRAME_CTRL_CREDS_SPACE CMSG_SPACE(128)
#else
#define FRAME_CTRL_CREDS_SPACE 0
#endif
#ifdef SOCKSPEC_HAVE_SO_TIMESTAMP
#define FRAME_CTRL_TIME_SPACE CMSG_SPACE(sizeof(int64_t[3][2]))
#else
#define FRAME_CTRL_TIME_SPACE 0
#endif
#define FRAME_CTRL_OTHER_SPACE (FRAME_CTRL_CREDS_SPACE + FRAME_CTRL_TIME_SPACE)

/* A socket frame refuses: Linux's SO_PASSSEC adds the sender's security label to every read
 * (SCM_SECURITY, net/core/scm.c, scm_passec), a string whose length no interface bounds, so no
 * receive buffer can be sure to hold it; a truncated one would fail honest reads with EPROTO.
 * SO_PEERSEC gives the same label once. */
static inline int frame_compat_refused_options(int fd)
{
#if defined(SOCKSPEC_HAVE_SO_PASSSEC) && defined(SO_PASSSEC)
    int on = 0;
    socklen_t len = sizeof on;
    if (getsockopt(fd, SOL_SOCKET, SO_PASSSEC, &on, &len) == -1)
        return errno == ENOPROTOOPT ? 0 : -1;
    if (on) {
        errno = EOPNOTSUPP;
        return -1;
    }
#else
    (void)fd;
#endif
    return 0;
}

/* Received descriptors are close-on-exec; without MSG_CMSG_CLOEXEC, set it here. */
static inline void frame_compat_cloexec(const int *fds, unsigned n)
{
#if FRAME_NEED_FCNTL_CLOEXEC
    for (unsigned i = 0; i < n; i++)
        (void)fcntl(fds[i], F_SETFD, FD_CLOEXEC);
#else
    (void)fds;
    (void)n;
#endif
}

static inline int frame_compat_would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

#endif
