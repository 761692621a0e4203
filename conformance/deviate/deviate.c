/*
 * The deviation library: preloaded under sockspec-conformance, it makes libc's socket calls
 * deviate from documented behaviour in the one way SOCKSPEC_DEVIATION names, so that
 * ci/deviations can show that some check notices. SOCKSPEC_DEVIATION=list prints the table.
 *
 * Invariants: with SOCKSPEC_DEVIATION unset every call goes straight to libc. A deviation acts
 * only while the harness has armed the library (sockspec_deviate_arm) and only on descriptors
 * created while armed; arming and disarming forget every descriptor, so Criterion's own
 * sockets and pipes are never touched. Each libc entry point applies a deviation once and
 * calls the next definition (RTLD_NEXT) directly, never another interposed wrapper.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "sockspec_config.h"

#ifdef __SOCKADDR_ALLTYPES
/* glibc under _GNU_SOURCE declares address arguments as transparent unions. */
typedef __SOCKADDR_ARG sa_arg;
typedef __CONST_SOCKADDR_ARG csa_arg;
#define SA(a) ((a).__sockaddr__)
#else
typedef struct sockaddr *sa_arg;
typedef const struct sockaddr *csa_arg;
#define SA(a) (a)
#endif

/* ci/deviations runs them in this order: the slowest (its checks time out) first. */
#define DEVIATIONS(X)                                                                              \
    X(POLL_ALWAYS_POLLIN, "poll_always_pollin",                                                    \
      "poll() reports POLLIN for every descriptor that asks for it",                               \
      "POLLIN means a read would not block (POSIX poll(); poll.2)")                                \
    X(MERGE_DATAGRAMS, "merge_datagrams",                                                          \
      "a receive on a message socket also takes the next queued datagram",                         \
      "one receive returns at most one message (POSIX recv(); unix.7 SOCK_SEQPACKET/DGRAM)")       \
    X(PEEK_CONSUMES, "peek_consumes", "MSG_PEEK is ignored: peeked data is consumed",              \
      "MSG_PEEK leaves the data queued (POSIX recv(); recv.2)")                                    \
    X(DROP_RIGHTS, "drop_rights", "received SCM_RIGHTS are closed and the control data removed",   \
      "SCM_RIGHTS passes descriptors (unix.7; POSIX sys/socket.h)")                                \
    X(CTRUNC_NEVER, "ctrunc_never", "recvmsg never sets MSG_CTRUNC",                               \
      "MSG_CTRUNC flags truncated control data (POSIX recvmsg(); recv.2)")                         \
    X(TRUNC_NEVER, "trunc_never",                                                                  \
      "recvmsg never sets MSG_TRUNC; recv(MSG_TRUNC) returns the copied length",                   \
      "MSG_TRUNC reports a truncated datagram and its real length (POSIX recvmsg(); recv.2)")      \
    X(CMSG_CLOEXEC_IGNORED, "cmsg_cloexec_ignored",                                                \
      "MSG_CMSG_CLOEXEC is ignored: received descriptors lack FD_CLOEXEC",                         \
      "MSG_CMSG_CLOEXEC sets close-on-exec on received descriptors (recv.2)")                      \
    X(WAITALL_IGNORED, "waitall_ignored",                                                          \
      "MSG_WAITALL is ignored: a stream receive returns early",                                    \
      "MSG_WAITALL blocks until the full request is satisfied (POSIX recv(); recv.2)")             \
    X(CORRUPT_BYTE, "corrupt_byte", "the first byte of every receive is flipped",                  \
      "data arrives unchanged (POSIX read()/recv(); socketpair.2; pipe.2)")                        \
    X(REORDER_WRITES, "reorder_writes",                                                            \
      "a stream write of 2+ bytes sends its second half before its first",                         \
      "stream sockets and pipes keep byte order (unix.7; tcp.7; POSIX pipe())")                    \
    X(EOF_AS_ECONNRESET, "eof_as_econnreset",                                                      \
      "end of file on a stream or pipe is reported as ECONNRESET",                                 \
      "an orderly shutdown reads as 0 (POSIX recv()/read(); recv.2)")                              \
    X(DGRAM_EMPTY_EOF, "dgram_empty_eof", "an empty datagram queue reads as 0 instead of EAGAIN",  \
      "a non-blocking receive with nothing queued fails EAGAIN (POSIX recv(); recv.2)")            \
    X(EAGAIN_AS_ENOBUFS, "eagain_as_enobufs",                                                      \
      "EAGAIN from a send or receive is reported as ENOBUFS",                                      \
      "would-block is EAGAIN/EWOULDBLOCK (POSIX send()/recv(); send.2)")                           \
    X(EPIPE_AS_ECONNRESET, "epipe_as_econnreset", "EPIPE from a send or write becomes ECONNRESET", \
      "writing to a shut-down or closed peer fails EPIPE (POSIX send()/write(); send.2)")          \
    X(SIGPIPE_DESPITE_NOSIGNAL, "sigpipe_despite_nosignal",                                        \
      "a send with MSG_NOSIGNAL that fails EPIPE still raises SIGPIPE",                            \
      "MSG_NOSIGNAL suppresses SIGPIPE (POSIX send(); send.2)")                                    \
    X(SIGPIPE_NEVER, "sigpipe_never",                                                              \
      "a write or send without MSG_NOSIGNAL that fails EPIPE raises no SIGPIPE",                   \
      "EPIPE comes with SIGPIPE to the thread (POSIX write()/send(); pipe.7)")                     \
    X(DROP_EMPTY_DGRAM, "drop_empty_dgram",                                                        \
      "a zero-length send on a message socket succeeds but sends nothing",                         \
      "a zero-length datagram is a message (POSIX send(); unix.7; udp.7)")                         \
    X(OVERSIZE_DGRAM_TRUNCATED, "oversize_dgram_truncated",                                        \
      "a datagram too large to send is cut to a size that fits and reported as fully sent",        \
      "a message too large to send atomically fails EMSGSIZE (POSIX send(); send.2)")              \
    X(PIPE_BIDIRECTIONAL, "pipe_bidirectional",                                                    \
      "writing a pipe's read end reports success (the data is lost)",                              \
      "pipes are unidirectional: the read end is not writable (pipe.7; pipe.2)")                   \
    X(SHUTDOWN_WR_IS_RDWR, "shutdown_wr_is_rdwr", "shutdown(SHUT_WR) shuts down both directions",  \
      "SHUT_WR disables further sends only (POSIX shutdown(); shutdown.2)")                        \
    X(IGNORE_NONBLOCK, "ignore_nonblock",                                                          \
      "SOCK_NONBLOCK / O_NONBLOCK in socket, socketpair, accept4, pipe2 are dropped",              \
      "SOCK_NONBLOCK sets O_NONBLOCK on the new descriptions (socket.2; pipe2.2)")                 \
    X(IGNORE_CLOEXEC, "ignore_cloexec",                                                            \
      "SOCK_CLOEXEC / O_CLOEXEC in socket, socketpair, accept4, pipe2 are dropped",                \
      "SOCK_CLOEXEC sets FD_CLOEXEC on the new descriptors (POSIX 2024 socket(); socket.2)")       \
    X(CREATE_ERRNO_EINVAL, "create_errno_einval",                                                  \
      "every failing socket() or socketpair() reports EINVAL",                                     \
      "EAFNOSUPPORT, EOPNOTSUPP, EPROTONOSUPPORT, EPROTOTYPE... name the cause (POSIX socket(), "  \
      "socketpair(); socket.2)")                                                                   \
    X(EMFILE_AS_ENFILE, "emfile_as_enfile",                                                        \
      "EMFILE from creating descriptors is reported as ENFILE",                                    \
      "the per-process limit is EMFILE, the system limit ENFILE (POSIX socket()/pipe())")          \
    X(ACCEPT_INHERITS_NONBLOCK, "accept_inherits_nonblock",                                        \
      "accept() copies O_NONBLOCK from the listener",                                              \
      "on Linux the accepted socket does not inherit O_NONBLOCK (accept.2 NOTES)")                 \
    X(SO_TYPE_STREAM, "so_type_stream", "getsockopt(SO_TYPE) always reports SOCK_STREAM",          \
      "SO_TYPE reports the socket type (POSIX getsockopt(); socket.7)")                            \
    X(SNDBUF_NOT_DOUBLED, "sndbuf_not_doubled",                                                    \
      "getsockopt(SO_SNDBUF/SO_RCVBUF) reports half the kernel's value",                           \
      "Linux doubles the value set and getsockopt returns the doubled value (socket.7)")           \
    X(SO_ERROR_CLEARED, "so_error_cleared", "getsockopt(SO_ERROR) always reports 0",               \
      "SO_ERROR reports and clears the pending error (POSIX getsockopt(); socket.7)")              \
    X(PEERCRED_UNKNOWN, "peercred_unknown",                                                        \
      "SO_PEERCRED reports pid 0 and the overflow uid/gid 65534",                                  \
      "SO_PEERCRED reports the peer's credentials at connect/socketpair time (unix.7)")            \
    X(FIONREAD_OFF_BY_ONE, "fionread_off_by_one", "ioctl(FIONREAD) reports one byte more",         \
      "FIONREAD reports the bytes (or next datagram's size) queued (unix.7; ioctl_tty.2; pipe.7)") \
    X(GETFL_HIDES_NONBLOCK, "getfl_hides_nonblock", "fcntl(F_GETFL) never reports O_NONBLOCK",     \
      "F_GETFL returns the file status flags (POSIX fcntl())")                                     \
    X(POLL_NO_POLLHUP, "poll_no_pollhup", "poll() never reports POLLHUP (or POLLRDHUP)",           \
      "POLLHUP signals a hung-up peer (POSIX poll(); poll.2)")                                     \
    X(POLL_NO_POLLOUT, "poll_no_pollout", "poll() never reports POLLOUT",                          \
      "POLLOUT means a write would not block (POSIX poll(); poll.2)")

#define AS_ENUM(id, name, effect, breaks) D_##id,
enum deviation { D_NONE, DEVIATIONS(AS_ENUM) D_COUNT };
#define AS_ROW(id, name, effect, breaks) {name, effect, breaks},
static const struct {
    const char *name, *effect, *breaks;
} table[] = {{"none", "-", "-"}, DEVIATIONS(AS_ROW)};

/* What a tracked descriptor is; 0 means untracked. */
enum fdtype { T_NONE, T_STREAM, T_DGRAM, T_SEQPACKET, T_PIPE_R, T_PIPE_W, T_OTHER };

#define FD_LIMIT 16384
static _Atomic unsigned char fdtype[FD_LIMIT];
static atomic_int armed;
static enum deviation dev;

/* Next definitions (libc's), resolved on first use. */
#define NEXT(f)                                                                                    \
    static __typeof__(&(f)) real_##f;                                                              \
    static __typeof__(&(f)) next_##f(void)                                                         \
    {                                                                                              \
        return real_##f = (__typeof__(&(f)))dlsym(RTLD_NEXT, #f);                                  \
    }
#define REAL(f) (real_##f ? real_##f : next_##f())
NEXT(recvmsg)
NEXT(recv)
NEXT(recvfrom)
NEXT(read)
NEXT(readv)
NEXT(sendmsg)
NEXT(send)
NEXT(sendto)
NEXT(write)
NEXT(writev)
NEXT(socket)
NEXT(socketpair)
NEXT(accept)
NEXT(pipe)
NEXT(dup)
NEXT(dup2)
NEXT(close)
NEXT(shutdown)
NEXT(getsockopt)
NEXT(ioctl)
NEXT(fcntl)
NEXT(poll)
#ifdef SOCKSPEC_HAVE_ACCEPT4
NEXT(accept4)
#endif
#ifdef SOCKSPEC_HAVE_PIPE2
/* dup3() came with pipe2() on every OS that has pipe2(). */
NEXT(pipe2)
NEXT(dup3)
#endif

static void list_and_exit(void)
{
    printf("name\teffect\tbreaks\n");
    for (int i = 1; i < D_COUNT; i++)
        printf("%s\t%s\t%s\n", table[i].name, table[i].effect, table[i].breaks);
    exit(0);
}

__attribute__((constructor)) static void choose(void)
{
    const char *want = getenv("SOCKSPEC_DEVIATION");
    if (!want || !*want)
        return;
    if (strcmp(want, "list") == 0)
        list_and_exit();
    for (int i = 1; i < D_COUNT; i++)
        if (strcmp(want, table[i].name) == 0)
            dev = (enum deviation)i;
    if (dev == D_NONE) {
        fprintf(stderr, "sockspec-deviate: unknown deviation \"%s\" (try list)\n", want);
        _exit(125);
    }
}

static void forget_all(void)
{
    for (int i = 0; i < FD_LIMIT; i++)
        atomic_store_explicit(&fdtype[i], T_NONE, memory_order_relaxed);
}

void sockspec_deviate_arm(int on);
void sockspec_deviate_arm(int on)
{
    atomic_store(&armed, 0);
    forget_all();
    atomic_store(&armed, on != 0);
}

static int is_armed(void)
{
    return dev != D_NONE && atomic_load(&armed);
}

static enum fdtype classify(int fd)
{
    int type = 0, fl;
    socklen_t len = sizeof type;
    if (REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
        return type == SOCK_STREAM      ? T_STREAM
               : type == SOCK_DGRAM     ? T_DGRAM
               : type == SOCK_SEQPACKET ? T_SEQPACKET
                                        : T_OTHER;
    fl = REAL(fcntl)(fd, F_GETFL);
    if (fl < 0)
        return T_OTHER;
    return (fl & O_ACCMODE) == O_RDONLY   ? T_PIPE_R
           : (fl & O_ACCMODE) == O_WRONLY ? T_PIPE_W
                                          : T_OTHER;
}

static void track(int fd)
{
    if (fd >= 0 && fd < FD_LIMIT && is_armed())
        atomic_store(&fdtype[fd], (unsigned char)classify(fd));
}

static void forget(int fd)
{
    if (fd >= 0 && fd < FD_LIMIT)
        atomic_store(&fdtype[fd], T_NONE);
}

/* The type of fd if a deviation may act on it, T_NONE otherwise. */
static enum fdtype active(int fd)
{
    if (!is_armed() || fd < 0 || fd >= FD_LIMIT)
        return T_NONE;
    return (enum fdtype)atomic_load(&fdtype[fd]);
}

static int is_socket(enum fdtype t)
{
    return t == T_STREAM || t == T_DGRAM || t == T_SEQPACKET;
}

static int is_msg(enum fdtype t)
{
    return t == T_DGRAM || t == T_SEQPACKET;
}

static int is_bytes(enum fdtype t)
{
    return t == T_STREAM || t == T_PIPE_R || t == T_PIPE_W;
}

/* Active only on sockets: socket calls on anything else go to libc unchanged. */
static enum fdtype active_socket(int fd)
{
    enum fdtype t = active(fd);
    return is_socket(t) ? t : T_NONE;
}

static size_t iov_total(const struct msghdr *m)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++)
        n += m->msg_iov[i].iov_len;
    return n;
}

/* Copies n bytes of src into m's buffers from byte off on. */
static void scatter(const struct msghdr *m, size_t off, const char *src, size_t n)
{
    for (size_t i = 0; i < (size_t)m->msg_iovlen && n > 0; i++) {
        size_t len = m->msg_iov[i].iov_len;
        if (off >= len) {
            off -= len;
            continue;
        }
        size_t k = len - off < n ? len - off : n;
        memcpy((char *)m->msg_iov[i].iov_base + off, src, k);
        src += k;
        n -= k;
        off = 0;
    }
}

static char *gather(const struct msghdr *m, size_t total)
{
    char *buf = malloc(total ? total : 1);
    size_t off = 0;
    if (!buf)
        return NULL;
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++) {
        memcpy(buf + off, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
        off += m->msg_iov[i].iov_len;
    }
    return buf;
}

/* ---- receiving ---- */

static ssize_t rx_real(int fd, struct msghdr *m, int flags, enum fdtype t)
{
    if (!is_socket(t))
        return REAL(readv)(fd, m->msg_iov, (int)m->msg_iovlen);
    return REAL(recvmsg)(fd, m, flags);
}

static int rx_flags(int flags)
{
    if (dev == D_PEEK_CONSUMES)
        flags &= ~MSG_PEEK;
    if (dev == D_WAITALL_IGNORED)
        flags &= ~MSG_WAITALL;
#ifdef SOCKSPEC_HAVE_MSG_CMSG_CLOEXEC
    if (dev == D_CMSG_CLOEXEC_IGNORED)
        flags &= ~MSG_CMSG_CLOEXEC;
#endif
    return flags;
}

static ssize_t merge_next(int fd, struct msghdr *m, ssize_t r)
{
    size_t total = iov_total(m);
    if ((m->msg_flags & MSG_TRUNC) || (size_t)r >= total)
        return r;
    char *tmp = malloc(total - (size_t)r);
    if (!tmp)
        return r;
    ssize_t n = REAL(recv)(fd, tmp, total - (size_t)r, MSG_DONTWAIT);
    if (n > 0)
        scatter(m, (size_t)r, tmp, (size_t)n);
    free(tmp);
    return n > 0 ? r + n : r;
}

static void close_rights(struct cmsghdr *c)
{
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
        REAL(close)(fd);
    }
}

static void drop_rights(struct msghdr *m)
{
    int found = 0;
    if (!m->msg_control || m->msg_controllen < sizeof(struct cmsghdr))
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            close_rights(c);
            found = 1;
        }
    if (found)
        m->msg_controllen = 0;
}

static void flip_first(const struct msghdr *m)
{
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++)
        if (m->msg_iov[i].iov_len > 0) {
            *(unsigned char *)m->msg_iov[i].iov_base ^= 0x20;
            return;
        }
}

static ssize_t rx_success(int fd, struct msghdr *m, int flags, enum fdtype t, ssize_t r)
{
    switch (dev) {
    case D_MERGE_DATAGRAMS:
        return is_msg(t) && !(flags & MSG_PEEK) ? merge_next(fd, m, r) : r;
    case D_DROP_RIGHTS:
        drop_rights(m);
        return r;
    case D_CTRUNC_NEVER:
        m->msg_flags &= ~MSG_CTRUNC;
        return r;
    case D_TRUNC_NEVER:
        m->msg_flags &= ~MSG_TRUNC;
        return (flags & MSG_TRUNC) && (size_t)r > iov_total(m) ? (ssize_t)iov_total(m) : r;
    case D_CORRUPT_BYTE:
        if (r > 0)
            flip_first(m);
        return r;
    case D_EOF_AS_ECONNRESET:
        if (r == 0 && is_bytes(t) && iov_total(m) > 0) {
            errno = ECONNRESET;
            return -1;
        }
        return r;
    default:
        return r;
    }
}

static ssize_t rx_failure(enum fdtype t)
{
    if (dev == D_DGRAM_EMPTY_EOF && t == T_DGRAM && errno == EAGAIN)
        return 0;
    if (dev == D_EAGAIN_AS_ENOBUFS && errno == EAGAIN)
        errno = ENOBUFS;
    return -1;
}

static ssize_t rx(int fd, struct msghdr *m, int flags, enum fdtype t)
{
    flags = rx_flags(flags);
    ssize_t r = rx_real(fd, m, flags, t);
    return r < 0 ? rx_failure(t) : rx_success(fd, m, flags, t, r);
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
    enum fdtype t = active_socket(fd);
    return t ? rx(fd, m, flags, t) : REAL(recvmsg)(fd, m, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, sa_arg from, socklen_t *alen)
{
    enum fdtype t = active_socket(fd);
    struct sockaddr *addr = SA(from);
    if (!t)
        return REAL(recvfrom)(fd, buf, n, flags, addr, alen);
    struct iovec v = {buf, n};
    struct msghdr m = {
        .msg_name = addr, .msg_namelen = addr && alen ? *alen : 0, .msg_iov = &v, .msg_iovlen = 1};
    ssize_t r = rx(fd, &m, flags, t);
    if (r >= 0 && addr && alen)
        *alen = m.msg_namelen;
    return r;
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    enum fdtype t = active_socket(fd);
    if (!t)
        return REAL(recv)(fd, buf, n, flags);
    struct iovec v = {buf, n};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    return rx(fd, &m, flags, t);
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    enum fdtype t = active(fd);
    if (!t)
        return REAL(readv)(fd, iov, cnt);
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt};
    return rx(fd, &m, 0, t);
}

ssize_t read(int fd, void *buf, size_t n)
{
    enum fdtype t = active(fd);
    if (!t)
        return REAL(read)(fd, buf, n);
    struct iovec v = {buf, n};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    return rx(fd, &m, 0, t);
}

/* glibc's _FORTIFY_SOURCE entry points: interposed under their reserved names. */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    (void)buflen;
    return read(fd, buf, n);
}

/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    (void)buflen;
    return recv(fd, buf, n, flags);
}

/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *addr,
                       socklen_t *alen);
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *addr,
                       socklen_t *alen)
{
    (void)buflen;
    return recvfrom(fd, buf, n, flags, addr, alen);
}

/* ---- sending ---- */

static ssize_t tx_real(int fd, const struct msghdr *m, int flags, enum fdtype t)
{
    if (!is_socket(t))
        return REAL(writev)(fd, m->msg_iov, (int)m->msg_iovlen);
    return REAL(sendmsg)(fd, m, flags);
}

static ssize_t tx_buf(int fd, const struct msghdr *m, int flags, enum fdtype t, const char *p,
                      size_t n)
{
    struct iovec v = {(void *)p, n};
    struct msghdr one = *m;
    one.msg_iov = &v;
    one.msg_iovlen = 1;
    return tx_real(fd, &one, flags, t);
}

static ssize_t reorder(int fd, const struct msghdr *m, int flags, enum fdtype t, size_t total)
{
    char *buf = gather(m, total);
    if (!buf)
        return tx_real(fd, m, flags, t);
    size_t half = total / 2;
    ssize_t r1 = tx_buf(fd, m, flags, t, buf + half, total - half);
    ssize_t r2 = r1 < 0 ? -1 : tx_buf(fd, m, flags, t, buf, half);
    int e = errno;
    free(buf);
    errno = e;
    return r1 < 0 ? r1 : r1 + (r2 > 0 ? r2 : 0);
}

static ssize_t send_cut(int fd, const struct msghdr *m, int flags, enum fdtype t, size_t total)
{
    char *buf = gather(m, total);
    ssize_t r = -1;
    for (size_t n = total / 2; buf && n > 0 && r < 0 && errno == EMSGSIZE; n /= 2)
        r = tx_buf(fd, m, flags, t, buf, n);
    free(buf);
    return r < 0 ? r : (ssize_t)total;
}

/* Takes back the SIGPIPE a failed write left pending in a thread that blocks it. sigwait(), not a
 * zero-timeout sigtimedwait(): macOS and OpenBSD have no sigtimedwait. The failed write's
 * SIGPIPE is pending on this thread, so no other thread can take it before sigwait does. */
static void sigpipe_drop(void)
{
    sigset_t set, cur, pending;
    int sig;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0 && sigismember(&cur, SIGPIPE) &&
        sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
        (void)sigwait(&set, &sig);
}

static ssize_t tx_failure(int fd, const struct msghdr *m, int flags, enum fdtype t)
{
    int nosignal = 0;
#ifdef SOCKSPEC_HAVE_MSG_NOSIGNAL
    nosignal = (flags & MSG_NOSIGNAL) != 0;
#endif
    int e = errno;
    if (dev == D_OVERSIZE_DGRAM_TRUNCATED && e == EMSGSIZE && is_msg(t))
        return send_cut(fd, m, flags, t, iov_total(m));
    if (dev == D_EPIPE_AS_ECONNRESET && e == EPIPE)
        e = ECONNRESET;
    if (dev == D_EAGAIN_AS_ENOBUFS && e == EAGAIN)
        e = ENOBUFS;
    if (dev == D_SIGPIPE_DESPITE_NOSIGNAL && e == EPIPE && nosignal)
        raise(SIGPIPE);
    if (dev == D_SIGPIPE_NEVER && e == EPIPE && !nosignal)
        sigpipe_drop();
    errno = e;
    return -1;
}

static ssize_t tx(int fd, const struct msghdr *m, int flags, enum fdtype t)
{
    size_t total = iov_total(m);
    if (dev == D_DROP_EMPTY_DGRAM && total == 0 && is_msg(t))
        return 0;
    if (dev == D_PIPE_BIDIRECTIONAL && t == T_PIPE_R)
        return (ssize_t)total;
    if (dev == D_REORDER_WRITES && total >= 2 && is_bytes(t))
        return reorder(fd, m, flags, t, total);
    ssize_t r = tx_real(fd, m, flags, t);
    return r < 0 ? tx_failure(fd, m, flags, t) : r;
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
    enum fdtype t = active_socket(fd);
    return t ? tx(fd, m, flags, t) : REAL(sendmsg)(fd, m, flags);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, csa_arg to, socklen_t alen)
{
    enum fdtype t = active_socket(fd);
    const struct sockaddr *addr = SA(to);
    if (!t)
        return REAL(sendto)(fd, buf, n, flags, addr, alen);
    struct iovec v = {(void *)buf, n};
    struct msghdr m = {
        .msg_name = (void *)addr, .msg_namelen = alen, .msg_iov = &v, .msg_iovlen = 1};
    return tx(fd, &m, flags, t);
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    enum fdtype t = active_socket(fd);
    if (!t)
        return REAL(send)(fd, buf, n, flags);
    struct iovec v = {(void *)buf, n};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    return tx(fd, &m, flags, t);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    enum fdtype t = active(fd);
    if (!t)
        return REAL(writev)(fd, iov, cnt);
    struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)cnt};
    return tx(fd, &m, 0, t);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    enum fdtype t = active(fd);
    if (!t)
        return REAL(write)(fd, buf, n);
    struct iovec v = {(void *)buf, n};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    return tx(fd, &m, 0, t);
}

/* ---- creating and closing descriptors ---- */

static int create_flags(int flags, int nonblock, int cloexec)
{
    if (dev == D_IGNORE_NONBLOCK)
        flags &= ~nonblock;
    if (dev == D_IGNORE_CLOEXEC)
        flags &= ~cloexec;
    return flags;
}

static int sock_flags(int type)
{
    int nonblock = 0, cloexec = 0;
#ifdef SOCKSPEC_HAVE_SOCK_NONBLOCK
    nonblock = SOCK_NONBLOCK;
#endif
#ifdef SOCKSPEC_HAVE_SOCK_CLOEXEC
    cloexec = SOCK_CLOEXEC;
#endif
    return create_flags(type, nonblock, cloexec);
}

/* r is the call's result; errors of socket() and socketpair() are "socket errors". */
static int created(int r, int socket_call)
{
    if (r >= 0)
        return r;
    if (dev == D_EMFILE_AS_ENFILE && errno == EMFILE)
        errno = ENFILE;
    if (dev == D_CREATE_ERRNO_EINVAL && socket_call)
        errno = EINVAL;
    return r;
}

int socket(int domain, int type, int proto)
{
    if (!is_armed())
        return REAL(socket)(domain, type, proto);
    int fd = created(REAL(socket)(domain, sock_flags(type), proto), 1);
    track(fd);
    return fd;
}

int socketpair(int domain, int type, int proto, int sv[2])
{
    if (!is_armed())
        return REAL(socketpair)(domain, type, proto, sv);
    int r = created(REAL(socketpair)(domain, sock_flags(type), proto, sv), 1);
    if (r == 0) {
        track(sv[0]);
        track(sv[1]);
    }
    return r;
}

static int accepted(int listener, int fd)
{
    fd = created(fd, 0);
    if (fd >= 0 && dev == D_ACCEPT_INHERITS_NONBLOCK) {
        int lf = REAL(fcntl)(listener, F_GETFL), fl = REAL(fcntl)(fd, F_GETFL);
        if (lf >= 0 && fl >= 0 && (lf & O_NONBLOCK))
            REAL(fcntl)(fd, F_SETFL, fl | O_NONBLOCK);
    }
    track(fd);
    return fd;
}

int accept(int fd, sa_arg addr, socklen_t *alen)
{
    int r = REAL(accept)(fd, SA(addr), alen);
    return is_armed() ? accepted(fd, r) : r;
}

#ifdef SOCKSPEC_HAVE_ACCEPT4
int accept4(int fd, sa_arg addr, socklen_t *alen, int flags)
{
    if (!is_armed())
        return REAL(accept4)(fd, SA(addr), alen, flags);
    return accepted(fd, REAL(accept4)(fd, SA(addr), alen, sock_flags(flags)));
}
#endif

static int piped(int r, int p[2])
{
    r = created(r, 0);
    if (r == 0) {
        track(p[0]);
        track(p[1]);
    }
    return r;
}

int pipe(int p[2])
{
    int r = REAL(pipe)(p);
    return is_armed() ? piped(r, p) : r;
}

#ifdef SOCKSPEC_HAVE_PIPE2
int pipe2(int p[2], int flags)
{
    if (!is_armed())
        return REAL(pipe2)(p, flags);
    return piped(REAL(pipe2)(p, create_flags(flags, O_NONBLOCK, O_CLOEXEC)), p);
}
#endif

/* A copy of a tracked descriptor is tracked; newfd's old meaning is forgotten. */
static int duped(int oldfd, int newfd)
{
    if (newfd < 0 || newfd >= FD_LIMIT || oldfd == newfd)
        return newfd;
    atomic_store(&fdtype[newfd], active(oldfd));
    return newfd;
}

int dup(int fd)
{
    return duped(fd, REAL(dup)(fd));
}

int dup2(int fd, int newfd)
{
    return duped(fd, REAL(dup2)(fd, newfd));
}

#ifdef SOCKSPEC_HAVE_PIPE2
int dup3(int fd, int newfd, int flags)
{
    return duped(fd, REAL(dup3)(fd, newfd, flags));
}
#endif

int close(int fd)
{
    forget(fd);
    return REAL(close)(fd);
}

int shutdown(int fd, int how)
{
    if (dev == D_SHUTDOWN_WR_IS_RDWR && how == SHUT_WR && active_socket(fd))
        how = SHUT_RDWR;
    return REAL(shutdown)(fd, how);
}

/* ---- options, ioctl, fcntl, poll ---- */

#ifdef SOCKSPEC_HAVE_SO_PEERCRED
/* SO_PEERCRED's result: OpenBSD's struct sockpeercred orders its fields uid, gid, pid. */
#ifdef SOCKSPEC_HAVE_STRUCT_SOCKPEERCRED
typedef struct sockpeercred peercred;
#else
typedef struct ucred peercred;
#endif

static void peercred_unknown(void *val)
{
    peercred u = {.pid = 0, .uid = 65534, .gid = 65534};
    memcpy(val, &u, sizeof u);
}
#endif

static void sockopt_deviate(int name, void *val, socklen_t *len)
{
    if (dev == D_SO_TYPE_STREAM && name == SO_TYPE && *len >= sizeof(int))
        *(int *)val = SOCK_STREAM;
    if (dev == D_SNDBUF_NOT_DOUBLED && (name == SO_SNDBUF || name == SO_RCVBUF) &&
        *len >= sizeof(int))
        *(int *)val /= 2;
    if (dev == D_SO_ERROR_CLEARED && name == SO_ERROR && *len >= sizeof(int))
        *(int *)val = 0;
#ifdef SOCKSPEC_HAVE_SO_PEERCRED
    if (dev == D_PEERCRED_UNKNOWN && name == SO_PEERCRED && *len >= sizeof(peercred))
        peercred_unknown(val);
#endif
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    int r = REAL(getsockopt)(fd, level, name, val, len);
    if (r == 0 && level == SOL_SOCKET && val && len && active_socket(fd))
        sockopt_deviate(name, val, len);
    return r;
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int r = REAL(ioctl)(fd, req, arg);
#ifdef SOCKSPEC_HAVE_FIONREAD
    if (r == 0 && dev == D_FIONREAD_OFF_BY_ONE && req == FIONREAD && active(fd))
        ++*(int *)arg;
#endif
    return r;
}

static int fcntl_deviate(int fd, int cmd, int r)
{
    if (r < 0)
        return r;
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        return duped(fd, r);
    if (cmd == F_GETFL && dev == D_GETFL_HIDES_NONBLOCK && active(fd))
        return r & ~O_NONBLOCK;
    return r;
}

/* Like glibc, every third argument is passed on as a pointer-sized value. */
int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_deviate(fd, cmd, REAL(fcntl)(fd, cmd, arg));
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 28)
/* glibc 2.28 and later: what fcntl() calls with _FILE_OFFSET_BITS=64. */
int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_deviate(fd, cmd, REAL(fcntl)(fd, cmd, arg));
}
#endif

static short revents_deviate(short events, short revents)
{
    short hide = 0;
    if (dev == D_POLL_NO_POLLHUP)
        hide = POLLHUP;
#ifdef SOCKSPEC_HAVE_POLLRDHUP
    if (dev == D_POLL_NO_POLLHUP)
        hide |= POLLRDHUP;
#endif
    if (dev == D_POLL_NO_POLLOUT)
        hide = POLLOUT;
    if (dev == D_POLL_ALWAYS_POLLIN && (events & POLLIN))
        revents |= POLLIN;
    return (short)(revents & ~hide);
}

static int any_tracked_pollin(const struct pollfd *p, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (active(p[i].fd) && (p[i].events & POLLIN))
            return 1;
    return 0;
}

int poll(struct pollfd *p, nfds_t n, int timeout)
{
    if (!is_armed())
        return REAL(poll)(p, n, timeout);
    if (dev == D_POLL_ALWAYS_POLLIN && any_tracked_pollin(p, n))
        timeout = 0;
    int r = REAL(poll)(p, n, timeout);
    if (r < 0)
        return r;
    r = 0;
    for (nfds_t i = 0; i < n; i++) {
        if (active(p[i].fd))
            p[i].revents = revents_deviate(p[i].events, p[i].revents);
        r += p[i].revents != 0;
    }
    return r;
}

/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
int __poll_chk(struct pollfd *p, nfds_t n, int timeout, size_t plen);
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
int __poll_chk(struct pollfd *p, nfds_t n, int timeout, size_t plen)
{
    (void)plen;
    return poll(p, n, timeout);
}
