/*
 * Creation: what socketpair(), socket() and pipe() accept, what they refuse and with which
 * errno, what the new descriptors look like (type, domain, flags, names, default options), and
 * what bind()/connect() report for the common path mistakes.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "memcheck.h"
#include "check_util.h"
#ifdef SOCKSPEC_HAVE_SYS_SOCKETPAIR
#include <sys/syscall.h>
#endif

#define CATEGORY create

/* One kind per origin and type: for option defaults that do not depend on flags or order. */
#define P1_REPRESENTATIVES(X, c)                                                                   \
    KINDS_SP_PLAIN(X, c) X(c, fs_stream) X(c, abs_dgram) X(c, tcp6) X(c, udp4)

static const char *type_name(int t)
{
    switch (t) {
    case SOCK_STREAM:
        return "SOCK_STREAM";
    case SOCK_DGRAM:
        return "SOCK_DGRAM";
    case SOCK_SEQPACKET:
        return "SOCK_SEQPACKET";
    case SOCK_RAW:
        return "SOCK_RAW";
    default:
        return "SOCK_other";
    }
}

/* Lowers RLIMIT_NOFILE so that exactly `free_slots` descriptors remain (none are open at or
 * above the lowest free slot's window that the check uses); the old limit goes to *old. */
static int limit_free_slots(int free_slots, struct rlimit *old)
{
    int low = lowest_free_fd();
    for (int i = 1; i < free_slots; i++)
        cr_assert(!fd_is_open(low + i), "slot %d in use; cannot leave %d free", low + i,
                  free_slots);
    cr_assert(getrlimit(RLIMIT_NOFILE, old) == 0, "getrlimit: %s", sockspec_errno_name(errno));
    struct rlimit rl = *old;
    rl.rlim_cur = (rlim_t)low + (rlim_t)free_slots;
    cr_assert(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit: %s", sockspec_errno_name(errno));
    return low;
}

static void limit_restore(const struct rlimit *old)
{
    cr_assert(setrlimit(RLIMIT_NOFILE, old) == 0, "restoring RLIMIT_NOFILE: %s",
              sockspec_errno_name(errno));
}

/* Number of open slots in [from, from + n). */
static int count_open(int from, int n)
{
    int k = 0;
    for (int i = from; i < from + n; i++)
        k += fd_is_open(i);
    return k;
}

/* socketpair(domain, type, protocol) as an outcome: "ok" (pair closed again) or the errno. */
static void socketpair_outcome(struct chan *c, int domain, int type, int protocol)
{
    int sv[2] = {-1, -1};
    if (socketpair(domain, type, protocol, sv) == 0) {
        cr_expect(sv[0] >= 0 && sv[1] >= 0 && sv[0] != sv[1], "bad descriptors %d %d", sv[0],
                  sv[1]);
        outcome(c, "ok");
        xclose(&sv[0]);
        xclose(&sv[1]);
        return;
    }
    outcome(c, "%s", sockspec_errno_name(errno));
    cr_expect(sv[0] == -1 || !fd_is_open(sv[0]), "failed socketpair left sv[0]=%d open", sv[0]);
}

/* socket(domain, type, protocol) as an outcome: "ok" (closed again) or the errno. */
static void socket_outcome(struct chan *c, int domain, int type, int protocol)
{
    int fd = socket(domain, type, protocol);
    if (fd >= 0) {
        outcome(c, "ok");
        xclose(&fd);
        return;
    }
    outcome(c, "%s", sockspec_errno_name(errno));
}

/* socketpair(AF_UNIX, <type>, 0) succeeds for SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET. */
CHECK(socketpair_each_type)
{
    socketpair_outcome(c, AF_UNIX, c->kind->type, 0);
}
INSTANTIATE(socketpair_each_type, KINDS_SP_PLAIN)

/* socket(AF_UNIX, <type>, 0) succeeds for each type socketpair accepts. */
CHECK(socket_each_type)
{
    socket_outcome(c, AF_UNIX, c->kind->type, 0);
}
INSTANTIATE(socket_each_type, KINDS_SP_PLAIN)

/* Protocol PF_UNIX (1) is accepted for AF_UNIX on Linux; BSD protocol tables are not documented. */
CHECK(socketpair_protocol_pf_unix)
{
    socketpair_outcome(c, AF_UNIX, SOCK_STREAM, PF_UNIX);
}
INSTANTIATE(socketpair_protocol_pf_unix, KINDS_NONE)

/* SO_TYPE of fd by name, or "SO_TYPE <errno>". */
static void so_type_outcome(struct chan *c, int fd)
{
    int t;
    if (sockopt_int(fd, SOL_SOCKET, SO_TYPE, &t) < 0)
        outcome(c, "SO_TYPE %s", sockspec_errno_name(errno));
    else
        outcome(c, "%s", type_name(t));
}

/* SOCK_RAW on AF_UNIX: Linux silently makes a SOCK_DGRAM pair; BSD and macOS refuse the type. */
CHECK(socketpair_raw)
{
    int sv[2] = {-1, -1};
    if (socketpair(AF_UNIX, SOCK_RAW, 0, sv) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    so_type_outcome(c, sv[0]);
    xclose(&sv[0]);
    xclose(&sv[1]);
}
INSTANTIATE(socketpair_raw, KINDS_NONE)

/* socket(AF_UNIX, SOCK_RAW, 0) behaves like socketpair: a DGRAM socket on Linux. */
CHECK(socket_raw)
{
    int fd = socket(AF_UNIX, SOCK_RAW, 0);
    if (fd < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    so_type_outcome(c, fd);
    xclose(&fd);
}
INSTANTIATE(socket_raw, KINDS_NONE)

/* An unknown address family is refused with EAFNOSUPPORT. */
CHECK(socketpair_unknown_domain)
{
    socketpair_outcome(c, 12345, SOCK_STREAM, 0);
}
INSTANTIATE(socketpair_unknown_domain, KINDS_NONE)

/* AF_UNSPEC (0) is not a family one can create: EAFNOSUPPORT. */
CHECK(socketpair_domain_unspec)
{
    socketpair_outcome(c, AF_UNSPEC, SOCK_STREAM, 0);
}
INSTANTIATE(socketpair_domain_unspec, KINDS_NONE)

/* socket() with an unknown address family: EAFNOSUPPORT. */
CHECK(socket_unknown_domain)
{
    socket_outcome(c, 12345, SOCK_STREAM, 0);
}
INSTANTIATE(socket_unknown_domain, KINDS_NONE)

/* socketpair(AF_INET, SOCK_STREAM, 0): TCP has no connect2, EOPNOTSUPP everywhere. */
CHECK(socketpair_inet_stream)
{
    socketpair_outcome(c, AF_INET, SOCK_STREAM, 0);
}
INSTANTIATE(socketpair_inet_stream, KINDS_NONE)

/* socketpair(AF_INET, SOCK_DGRAM, 0): EOPNOTSUPP as well. */
CHECK(socketpair_inet_dgram)
{
    socketpair_outcome(c, AF_INET, SOCK_DGRAM, 0);
}
INSTANTIATE(socketpair_inet_dgram, KINDS_NONE)

/* socketpair(AF_INET6, SOCK_STREAM, 0): EOPNOTSUPP. */
CHECK(socketpair_inet6_stream)
{
    socketpair_outcome(c, AF_INET6, SOCK_STREAM, 0);
}
INSTANTIATE(socketpair_inet6_stream, KINDS_NONE)

/* Type 0 on AF_UNIX: ESOCKTNOSUPPORT on Linux, EPROTONOSUPPORT on FreeBSD and macOS. */
CHECK(socketpair_type_zero)
{
    socketpair_outcome(c, AF_UNIX, 0, 0);
}
INSTANTIATE(socketpair_type_zero, KINDS_NONE)

/* SOCK_RDM is a valid type AF_UNIX does not implement: ESOCKTNOSUPPORT on Linux. */
CHECK(socketpair_type_rdm)
{
    socketpair_outcome(c, AF_UNIX, SOCK_RDM, 0);
}
INSTANTIATE(socketpair_type_rdm, KINDS_NONE)

/* A type value no OS defines (15, inside Linux's type mask): EINVAL on Linux. */
CHECK(socketpair_type_unknown)
{
    socketpair_outcome(c, AF_UNIX, 15, 0);
}
INSTANTIATE(socketpair_type_unknown, KINDS_NONE)

/* SOCK_STREAM with a flag bit no OS assigns (1 << 22): EINVAL on Linux. */
CHECK(socketpair_stray_flag_bits)
{
    socketpair_outcome(c, AF_UNIX, SOCK_STREAM | (1 << 22), 0);
}
INSTANTIATE(socketpair_stray_flag_bits, KINDS_NONE)

/* socket() with the same stray flag bit: EINVAL on Linux. */
CHECK(socket_stray_flag_bits)
{
    socket_outcome(c, AF_UNIX, SOCK_STREAM | (1 << 22), 0);
}
INSTANTIATE(socket_stray_flag_bits, KINDS_NONE)

/* AF_UNIX with protocol 7: EPROTONOSUPPORT. */
CHECK(socketpair_bad_protocol)
{
    socketpair_outcome(c, AF_UNIX, SOCK_STREAM, 7);
}
INSTANTIATE(socketpair_bad_protocol, KINDS_NONE)

/* socket(AF_INET, SOCK_STREAM, IPPROTO_UDP): the protocol does not serve the type. */
CHECK(socket_inet_stream_udp_protocol)
{
    socket_outcome(c, AF_INET, SOCK_STREAM, IPPROTO_UDP);
}
INSTANTIATE(socket_inet_stream_udp_protocol, KINDS_NONE)

/* socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP): the protocol does not serve the type. */
CHECK(socket_inet_dgram_tcp_protocol)
{
    socket_outcome(c, AF_INET, SOCK_DGRAM, IPPROTO_TCP);
}
INSTANTIATE(socket_inet_dgram_tcp_protocol, KINDS_NONE)

#ifndef QUIRK_NO_RAW_SYSCALL
/* The raw system call, so that no libc wrapper touches sv before the kernel does. */
static void raw_socketpair_outcome(struct chan *c, int *sv)
{
    int low = lowest_free_fd();
    memcheck_expect_bad_argument(1);
    long r = syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
    memcheck_expect_bad_argument(0);
    if (r == 0) {
        outcome(c, "ok");
        return; /* the fd probe reports the two descriptors nobody can name */
    }
    int e = errno;
    /* The reserved descriptors must be released again. */
    if (lowest_free_fd() != low)
        outcome(c, "%s, leaked fd %d", sockspec_errno_name(e), low);
    else
        outcome(c, "%s", sockspec_errno_name(e));
}
#endif

/* sv pointing at unmapped memory: EFAULT, and no descriptor is left behind. */
CHECK(socketpair_sv_bad_pointer)
{
#ifdef QUIRK_NO_RAW_SYSCALL
    UNSUPPORTED(c, QUIRK_NO_RAW_SYSCALL);
#else
    raw_socketpair_outcome(c, (int *)(uintptr_t)7);
#endif
}
INSTANTIATE(socketpair_sv_bad_pointer, KINDS_NONE)

/* sv == NULL: EFAULT, and no descriptor is left behind. */
CHECK(socketpair_sv_null)
{
#ifdef QUIRK_NO_RAW_SYSCALL
    UNSUPPORTED(c, QUIRK_NO_RAW_SYSCALL);
#else
    raw_socketpair_outcome(c, NULL);
#endif
}
INSTANTIATE(socketpair_sv_null, KINDS_NONE)

/* On a failed socketpair (AF_INET: EOPNOTSUPP), is sv[] written? Linux writes the reserved
 * descriptor numbers before the protocol refuses; FreeBSD copies out only on success. */
CHECK(socketpair_sv_on_failure)
{
    int sv[2] = {-7, -7};
    int r = socketpair(AF_INET, SOCK_STREAM, 0, sv);
    cr_assert(r < 0, "socketpair(AF_INET) succeeded");
    outcome(c, "%s", sv[0] == -7 && sv[1] == -7 ? "untouched" : "written");
    cr_expect(sv[0] == -7 || !fd_is_open(sv[0]), "sv[0]=%d is open", sv[0]);
    cr_expect(sv[1] == -7 || !fd_is_open(sv[1]), "sv[1]=%d is open", sv[1]);
}
INSTANTIATE(socketpair_sv_on_failure, KINDS_NONE)

/* Descriptor exhaustion for a call that needs `need` slots, with `free_slots` left: the errno
 * (or "ok"), plus ", left N open" if the failed call kept a descriptor. */
static void exhaustion_outcome(struct chan *c, int free_slots, int which)
{
    struct rlimit old;
    int fds[2] = {-1, -1}, r, e;
    int low = limit_free_slots(free_slots, &old);
    if (which == 0)
        r = socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
    else if (which == 1)
        r = (fds[0] = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ? -1 : 0;
    else
        r = pipe(fds);
    e = errno;
    limit_restore(&old);
    if (r == 0) {
        outcome(c, "ok");
        cr_expect(fds[0] >= low && fds[0] < low + free_slots, "fd %d outside the window", fds[0]);
        xclose(&fds[0]);
        xclose(&fds[1]);
        return;
    }
    int left = count_open(low, free_slots + 1);
    if (left)
        outcome(c, "%s, left %d open", sockspec_errno_name(e), left);
    else
        outcome(c, "%s", sockspec_errno_name(e));
}

/* No free descriptor slot: socketpair fails with EMFILE. */
CHECK(socketpair_emfile_no_slot)
{
    exhaustion_outcome(c, 0, 0);
}
INSTANTIATE(socketpair_emfile_no_slot, KINDS_NONE)

/* Exactly one free slot: socketpair fails with EMFILE and the first end is released. */
CHECK(socketpair_emfile_one_slot)
{
    exhaustion_outcome(c, 1, 0);
}
INSTANTIATE(socketpair_emfile_one_slot, KINDS_NONE)

/* Exactly two free slots: socketpair succeeds (the limit is exact, not off by one). */
CHECK(socketpair_two_slots_ok)
{
    exhaustion_outcome(c, 2, 0);
}
INSTANTIATE(socketpair_two_slots_ok, KINDS_NONE)

/* No free slot: socket() fails with EMFILE. */
CHECK(socket_emfile_no_slot)
{
    exhaustion_outcome(c, 0, 1);
}
INSTANTIATE(socket_emfile_no_slot, KINDS_NONE)

/* Exactly one free slot: pipe() fails with EMFILE (POSIX: "all, or all but one") and leaks
 * nothing. */
CHECK(pipe_emfile_one_slot)
{
    exhaustion_outcome(c, 1, 2);
}
INSTANTIATE(pipe_emfile_one_slot, KINDS_NONE)

/* Flag state of two descriptors: "both", "none" or which one has it. */
static const char *both_or_none(int fa, int fb)
{
    return fa && fb ? "both" : !fa && !fb ? "none" : fa ? "first only" : "second only";
}

#if !defined(QUIRK_NO_SOCK_NONBLOCK) || !defined(QUIRK_NO_SOCK_CLOEXEC)
/* socketpair() of the kind's type with a creation flag: which ends have the flag's state
 * (has), and an expectation that none got the other one (other). */
static void creation_flag_outcome(struct chan *c, int flag, int (*has)(int), int (*other)(int),
                                  const char *other_msg)
{
    int sv[2];
    if (socketpair(AF_UNIX, c->kind->type | flag, 0, sv) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    outcome(c, "%s", both_or_none(has(sv[0]), has(sv[1])));
    cr_expect(!other(sv[0]) && !other(sv[1]), "%s", other_msg);
    xclose(&sv[0]);
    xclose(&sv[1]);
}
#endif

/* SOCK_NONBLOCK in the type sets O_NONBLOCK on both ends. */
CHECK(socketpair_nonblock_both_ends)
{
#ifdef QUIRK_NO_SOCK_NONBLOCK
    UNSUPPORTED(c, QUIRK_NO_SOCK_NONBLOCK);
#else
    creation_flag_outcome(c, SOCK_NONBLOCK, is_nonblock, is_cloexec,
                          "SOCK_NONBLOCK also set FD_CLOEXEC");
#endif
}
INSTANTIATE(socketpair_nonblock_both_ends, KINDS_SP_PLAIN)

/* SOCK_CLOEXEC in the type sets FD_CLOEXEC on both ends. */
CHECK(socketpair_cloexec_both_ends)
{
#ifdef QUIRK_NO_SOCK_CLOEXEC
    UNSUPPORTED(c, QUIRK_NO_SOCK_CLOEXEC);
#else
    creation_flag_outcome(c, SOCK_CLOEXEC, is_cloexec, is_nonblock,
                          "SOCK_CLOEXEC also set O_NONBLOCK");
#endif
}
INSTANTIATE(socketpair_cloexec_both_ends, KINDS_SP_PLAIN)

/* Without flags neither end is non-blocking or close-on-exec. */
CHECK(socketpair_no_flags_neither)
{
    int sv[2];
    if (socketpair(AF_UNIX, c->kind->type, 0, sv) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    int nb = is_nonblock(sv[0]) || is_nonblock(sv[1]);
    int ce = is_cloexec(sv[0]) || is_cloexec(sv[1]);
    outcome(c, "%s", nb && ce ? "nonblock+cloexec" : nb ? "nonblock" : ce ? "cloexec" : "none");
    xclose(&sv[0]);
    xclose(&sv[1]);
}
INSTANTIATE(socketpair_no_flags_neither, KINDS_SP_PLAIN)

/* socket() with SOCK_NONBLOCK | SOCK_CLOEXEC gets both flags; without them, neither. */
CHECK(socket_type_flags)
{
#if defined(QUIRK_NO_SOCK_NONBLOCK)
    UNSUPPORTED(c, QUIRK_NO_SOCK_NONBLOCK);
#elif defined(QUIRK_NO_SOCK_CLOEXEC)
    UNSUPPORTED(c, QUIRK_NO_SOCK_CLOEXEC);
#else
    int with = socket(AF_UNIX, c->kind->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int without = socket(AF_UNIX, c->kind->type, 0);
    cr_assert(with >= 0 && without >= 0, "socket: %s", sockspec_errno_name(errno));
    outcome(c, "with: %s%s; without: %s%s", is_nonblock(with) ? "nonblock" : "-",
            is_cloexec(with) ? "+cloexec" : "", is_nonblock(without) ? "nonblock" : "-",
            is_cloexec(without) ? "+cloexec" : "");
    xclose(&with);
    xclose(&without);
#endif
}
INSTANTIATE(socket_type_flags, KINDS_SP_PLAIN)

/* An int socket option on both ends as "<a>,<b>"; fatal if it cannot be read. */
static void both_ends_int(struct chan *c, int opt, const char *name)
{
    int va, vb;
    cr_assert(sockopt_int(c->a, SOL_SOCKET, opt, &va) == 0 &&
                  sockopt_int(c->b, SOL_SOCKET, opt, &vb) == 0,
              "%s: %s", name, sockspec_errno_name(errno));
    outcome(c, "%d,%d", va, vb);
}

/* An int socket option on both ends as "<a>,<b>", or the errno name. */
__attribute__((unused)) static void both_ends_int_or_errno(struct chan *c, int opt)
{
    int va, vb;
    if (sockopt_int(c->a, SOL_SOCKET, opt, &va) < 0 ||
        sockopt_int(c->b, SOL_SOCKET, opt, &vb) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    outcome(c, "%d,%d", va, vb);
}

/* A socket of type bound to "<d>/<name>" (and listening if listening); its address in *sun. */
static int bound_path_socket(const struct scratch_dir *d, const char *name, int type, int listening,
                             struct sockaddr_un *sun, socklen_t *len)
{
    int fd = socket(AF_UNIX, type, 0);
    cr_assert(fd >= 0);
    *len = scratch_path_addr(d, name, sun);
    if (listening)
        cr_assert(bind(fd, (struct sockaddr *)sun, *len) == 0 && listen(fd, 1) == 0,
                  "bind/listen: %s", sockspec_errno_name(errno));
    else
        cr_assert(bind(fd, (struct sockaddr *)sun, *len) == 0, "bind: %s",
                  sockspec_errno_name(errno));
    return fd;
}

/* SO_TYPE on both ends names the kind's type, without the creation flags. */
CHECK(so_type_both_ends)
{
    int ta, tb;
    cr_assert(sockopt_int(c->a, SOL_SOCKET, SO_TYPE, &ta) == 0, "SO_TYPE: %s",
              sockspec_errno_name(errno));
    cr_assert(sockopt_int(c->b, SOL_SOCKET, SO_TYPE, &tb) == 0, "SO_TYPE: %s",
              sockspec_errno_name(errno));
    if (ta == c->kind->type && tb == c->kind->type)
        outcome(c, "ok");
    else
        outcome(c, "a=%s b=%s", type_name(ta), type_name(tb));
}
INSTANTIATE(so_type_both_ends, KINDS_SOCKETS)

/* SO_DOMAIN on both ends names the kind's family. */
CHECK(so_domain_both_ends)
{
#ifdef QUIRK_NO_SO_DOMAIN
    UNSUPPORTED(c, QUIRK_NO_SO_DOMAIN);
#else
    int da, db;
    if (sockopt_int(c->a, SOL_SOCKET, SO_DOMAIN, &da) < 0 ||
        sockopt_int(c->b, SOL_SOCKET, SO_DOMAIN, &db) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    if (da == c->kind->domain && db == c->kind->domain)
        outcome(c, "ok");
    else
        outcome(c, "a=%d b=%d want %d", da, db, c->kind->domain);
#endif
}
INSTANTIATE(so_domain_both_ends, KINDS_SOCKETS)

/* SO_PROTOCOL on both AF_UNIX ends is 0 (the only protocol). */
CHECK(so_protocol_unix_both_ends)
{
#ifdef QUIRK_NO_SO_PROTOCOL
    UNSUPPORTED(c, QUIRK_NO_SO_PROTOCOL);
#else
    both_ends_int_or_errno(c, SO_PROTOCOL);
#endif
}
INSTANTIATE(so_protocol_unix_both_ends, KINDS_UNIX)

/* fstat() on both socket ends reports S_ISSOCK. */
CHECK(fstat_socket_is_sock)
{
    struct stat sa, sb;
    cr_assert(fstat(c->a, &sa) == 0 && fstat(c->b, &sb) == 0, "fstat: %s",
              sockspec_errno_name(errno));
    outcome(c, "%s", S_ISSOCK(sa.st_mode) && S_ISSOCK(sb.st_mode) ? "socket" : "not a socket");
}
INSTANTIATE(fstat_socket_is_sock, P1_REPRESENTATIVES)

/* fstat() on both pipe ends reports S_ISFIFO. */
CHECK(fstat_pipe_is_fifo)
{
    struct stat sa, sb;
    cr_assert(fstat(c->a, &sa) == 0 && fstat(c->b, &sb) == 0, "fstat: %s",
              sockspec_errno_name(errno));
    outcome(c, "%s", S_ISFIFO(sa.st_mode) && S_ISFIFO(sb.st_mode) ? "fifo" : "not a fifo");
}
INSTANTIATE(fstat_pipe_is_fifo, KINDS_PIPE)

/* The access modes of pipe() ends: read end O_RDONLY, write end O_WRONLY where pipes are
 * one-way; both O_RDWR on FreeBSD. */
CHECK(pipe_access_modes)
{
    int fa = fcntl(c->a, F_GETFL), fb = fcntl(c->b, F_GETFL);
    cr_assert(fa >= 0 && fb >= 0, "F_GETFL: %s", sockspec_errno_name(errno));
    static const char *const mode[] = {"rdonly", "wronly", "rdwr", "?"};
    outcome(c, "read end %s, write end %s", mode[fb & O_ACCMODE], mode[fa & O_ACCMODE]);
}
INSTANTIATE(pipe_access_modes, KINDS_PIPE)

/* SO_ERROR is 0 on a fresh pair. */
CHECK(default_so_error)
{
    both_ends_int(c, SO_ERROR, "SO_ERROR");
}
INSTANTIATE(default_so_error, P1_REPRESENTATIVES)

/* SO_ACCEPTCONN is 0 on connected (never listening) ends. */
CHECK(default_so_acceptconn)
{
    both_ends_int_or_errno(c, SO_ACCEPTCONN);
}
INSTANTIATE(default_so_acceptconn, P1_REPRESENTATIVES)

/* SO_ACCEPTCONN is non-zero on a listening AF_UNIX stream socket. */
CHECK(so_acceptconn_listener)
{
    struct scratch_dir d;
    struct sockaddr_un sun;
    socklen_t len;
    static const char *const names[] = {"l"};
    int v;
    scratch_dir_make(&d);
    int fd = bound_path_socket(&d, "l", SOCK_STREAM, 1, &sun, &len);
    if (sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &v) < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%s", v ? "listening" : "0");
    xclose(&fd);
    scratch_dir_remove(&d, names, 1);
}
INSTANTIATE(so_acceptconn_listener, KINDS_NONE)

/* Accepts the connection pending on the non-blocking listener l, retrying (bounded, 5 s) while
 * it has not arrived yet; the new descriptor, or -1 with errno. */
static int accept_pending(int l)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int fd = accept(l, NULL, NULL);
        if (fd >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return fd;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= 5) {
            errno = ETIMEDOUT;
            return -1;
        }
        (void)poll_events(l, POLLIN, 100);
    }
}

/* Makes listener l non-blocking, connects a non-blocking client of domain to addr, accepts:
 * "nonblock" if the accepted socket is O_NONBLOCK, "blocking" if not, or what failed. */
static void accepted_flag_outcome(struct chan *c, int l, int domain, const struct sockaddr *addr,
                                  socklen_t len)
{
    int cl = socket(domain, SOCK_STREAM, 0);
    cr_assert(cl >= 0, "socket: %s", sockspec_errno_name(errno));
    xset_nonblock(l, 1);
    xset_nonblock(cl, 1); /* never left waiting in connect */
    if (connect(cl, addr, len) < 0 && errno != EINPROGRESS) {
        outcome(c, "connect %s", sockspec_errno_name(errno));
    } else {
        int fd = accept_pending(l);
        if (fd < 0) {
            outcome(c, "accept %s", sockspec_errno_name(errno));
        } else {
            outcome(c, "%s", is_nonblock(fd) ? "nonblock" : "blocking");
            xclose(&fd);
        }
    }
    xclose(&cl);
}

/* A socket accept()ed from a non-blocking AF_UNIX stream listener: Linux does not copy
 * O_NONBLOCK ("blocking"); the BSDs and macOS do ("nonblock"). */
CHECK(accept_nonblock_inherited)
{
    struct scratch_dir d;
    struct sockaddr_un sun;
    socklen_t len;
    static const char *const names[] = {"l"};
    scratch_dir_make(&d);
    int l = bound_path_socket(&d, "l", SOCK_STREAM, 1, &sun, &len);
    accepted_flag_outcome(c, l, AF_UNIX, (struct sockaddr *)&sun, len);
    xclose(&l);
    scratch_dir_remove(&d, names, 1);
}
INSTANTIATE(accept_nonblock_inherited, KINDS_NONE)

/* The same for a TCP listener on 127.0.0.1: "blocking" on Linux, "nonblock" on the BSDs and
 * macOS. */
CHECK(accept_nonblock_inherited_tcp)
{
    struct sockaddr_in in;
    socklen_t len = sizeof in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(l >= 0, "socket: %s", sockspec_errno_name(errno));
    cr_assert(bind(l, (struct sockaddr *)&in, len) == 0 && listen(l, 1) == 0 &&
                  getsockname(l, (struct sockaddr *)&in, &len) == 0,
              "bind/listen: %s", sockspec_errno_name(errno));
    accepted_flag_outcome(c, l, AF_INET, (struct sockaddr *)&in, len);
    xclose(&l);
}
INSTANTIATE(accept_nonblock_inherited_tcp, KINDS_NONE)

/* SO_RCVLOWAT defaults to 1 on both ends. */
CHECK(default_so_rcvlowat)
{
    both_ends_int(c, SO_RCVLOWAT, "SO_RCVLOWAT");
}
INSTANTIATE(default_so_rcvlowat, P1_REPRESENTATIVES)

/* SO_LINGER defaults to off on both ends. */
CHECK(default_so_linger)
{
    struct linger la, lb;
    socklen_t na = sizeof la, nb = sizeof lb;
    cr_assert(getsockopt(c->a, SOL_SOCKET, SO_LINGER, &la, &na) == 0 &&
                  getsockopt(c->b, SOL_SOCKET, SO_LINGER, &lb, &nb) == 0,
              "SO_LINGER: %s", sockspec_errno_name(errno));
    if (!la.l_onoff && !lb.l_onoff)
        outcome(c, "off");
    else
        outcome(c, "on: %d/%d, %d/%d", la.l_onoff, la.l_linger, lb.l_onoff, lb.l_linger);
}
INSTANTIATE(default_so_linger, P1_REPRESENTATIVES)

/* SO_KEEPALIVE defaults to 0 on both ends. */
CHECK(default_so_keepalive)
{
    both_ends_int(c, SO_KEEPALIVE, "SO_KEEPALIVE");
}
INSTANTIATE(default_so_keepalive, P1_REPRESENTATIVES)

/* getsockopt(SOL_SOCKET, <unknown option>) fails with ENOPROTOOPT. */
CHECK(getsockopt_unknown_option)
{
    int v;
    socklen_t len = sizeof v;
    int r = getsockopt(c->a, SOL_SOCKET, 0x7654, &v, &len);
    outcome_ok(c, r);
}
INSTANTIATE(getsockopt_unknown_option, KINDS_SP_PLAIN)

/* getsockopt at a level AF_UNIX does not know: EOPNOTSUPP on Linux. */
CHECK(getsockopt_unknown_level)
{
    int v;
    socklen_t len = sizeof v;
    int r = getsockopt(c->a, 0x7654, 1, &v, &len);
    outcome_ok(c, r);
}
INSTANTIATE(getsockopt_unknown_level, KINDS_SP_PLAIN)

/* An AF_UNIX address as a short description: "unnamed", "path", "abstract" or the errno. */
static void name_outcome(struct chan *c, int r, const struct sockaddr_un *sun, socklen_t len)
{
    if (r < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
        return;
    }
    size_t off = offsetof(struct sockaddr_un, sun_path);
    if (sun->sun_family != AF_UNIX)
        outcome(c, "family %d", sun->sun_family);
    else if (len <= off || (sun->sun_path[0] == '\0' && len == off + 1))
        outcome(c, "unnamed");
    else if (sun->sun_path[0] == '\0') {
        int zero = 1;
        for (size_t i = 0; i + off < len && i < sizeof sun->sun_path; i++)
            zero &= sun->sun_path[i] == '\0';
        outcome(c, "%s", zero ? "unnamed" : "abstract");
    } else
        outcome(c, "path");
}

/* The name get() reports for fd, as name_outcome describes it. */
static void name_of_outcome(struct chan *c, int (*get)(int, struct sockaddr *, socklen_t *), int fd)
{
    struct sockaddr_un sun;
    socklen_t len = sizeof sun;
    memset(&sun, 0x55, sizeof sun);
    int r = get(fd, (struct sockaddr *)&sun, &len);
    name_outcome(c, r, &sun, len);
}

/* getsockname() on a socketpair end: an AF_UNIX address with no name. */
CHECK(socketpair_getsockname_unnamed)
{
    name_of_outcome(c, getsockname, c->a);
}
INSTANTIATE(socketpair_getsockname_unnamed, KINDS_SP_PLAIN)

/* getpeername() on a socketpair end: connected, the peer has no name either. */
CHECK(socketpair_getpeername_unnamed)
{
    name_of_outcome(c, getpeername, c->a);
}
INSTANTIATE(socketpair_getpeername_unnamed, KINDS_SP_PLAIN)

/* getpeername() on a fresh, unconnected socket(): ENOTCONN. */
CHECK(socket_getpeername_unconnected)
{
    struct sockaddr_un sun;
    socklen_t len = sizeof sun;
    int fd = socket(AF_UNIX, c->kind->type, 0);
    cr_assert(fd >= 0);
    int r = getpeername(fd, (struct sockaddr *)&sun, &len);
    outcome_ok(c, r);
    xclose(&fd);
}
INSTANTIATE(socket_getpeername_unconnected, KINDS_SP_PLAIN)

/* A path "s" bound by a first socket of type (listening if listening, closed again if
 * close_first), then a second socket binds it or (non-blocking) connects to it: "ok" or the
 * errno name. */
static void second_on_path_outcome(struct chan *c, int type, int listening, int close_first,
                                   int connect_second)
{
    struct scratch_dir d;
    struct sockaddr_un sun;
    socklen_t len;
    static const char *const names[] = {"s"};
    scratch_dir_make(&d);
    int second = socket(AF_UNIX, type, 0);
    cr_assert(second >= 0);
    int first = bound_path_socket(&d, "s", type, listening, &sun, &len);
    if (close_first)
        xclose(&first);
    if (connect_second) {
        xset_nonblock(second, 1); /* refused at once; never left waiting */
        outcome_ok(c, connect(second, (struct sockaddr *)&sun, len));
    } else {
        outcome_ok(c, bind(second, (struct sockaddr *)&sun, len));
    }
    xclose(&first);
    xclose(&second);
    scratch_dir_remove(&d, names, 1);
}

/* A non-blocking socket of type connects to the address: "ok" or the errno name. */
static void connect_outcome(struct chan *c, int type, const struct sockaddr_un *sun, socklen_t len)
{
    int cl = socket(AF_UNIX, type, 0);
    cr_assert(cl >= 0);
    xset_nonblock(cl, 1);
    outcome_ok(c, connect(cl, (const struct sockaddr *)sun, len));
    xclose(&cl);
}

/* Binding a second socket to a path already bound: EADDRINUSE. */
CHECK(bind_path_in_use)
{
    second_on_path_outcome(c, c->kind->type, 0, 0, 0);
}
INSTANTIATE(bind_path_in_use, KINDS_SP_PLAIN)

/* The path stays after its socket is closed: binding it again is EADDRINUSE. */
CHECK(bind_stale_path_in_use)
{
    second_on_path_outcome(c, SOCK_STREAM, 0, 1, 0);
}
INSTANTIATE(bind_stale_path_in_use, KINDS_NONE)

/* An abstract name in use: EADDRINUSE on Linux (unix.7). */
CHECK(bind_abstract_in_use)
{
    struct sockaddr_un sun;
    int f1 = socket(AF_UNIX, SOCK_STREAM, 0), f2 = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert(f1 >= 0 && f2 >= 0);
    socklen_t len = abstract_addr("inuse", &sun);
    if (bind(f1, (struct sockaddr *)&sun, len) < 0)
        outcome(c, "first bind %s", sockspec_errno_name(errno));
    else
        outcome(c, "%s",
                bind(f2, (struct sockaddr *)&sun, len) == 0 ? "ok" : sockspec_errno_name(errno));
    xclose(&f1);
    xclose(&f2);
}
INSTANTIATE(bind_abstract_in_use, KINDS_NONE)

/* connect() to a path bound by a socket that never listened: ECONNREFUSED. */
CHECK(connect_path_not_listening)
{
    second_on_path_outcome(c, SOCK_STREAM, 0, 0, 1);
}
INSTANTIATE(connect_path_not_listening, KINDS_NONE)

/* connect() to a path whose socket has been closed (the file stays): ECONNREFUSED. */
CHECK(connect_stale_path)
{
    second_on_path_outcome(c, SOCK_STREAM, 1, 1, 1);
}
INSTANTIATE(connect_stale_path, KINDS_NONE)

/* connect() to a path that does not exist: ENOENT. */
CHECK(connect_missing_path)
{
    struct scratch_dir d;
    struct sockaddr_un sun;
    scratch_dir_make(&d);
    socklen_t len = scratch_path_addr(&d, "missing", &sun);
    connect_outcome(c, c->kind->type, &sun, len);
    scratch_dir_remove(&d, NULL, 0);
}
INSTANTIATE(connect_missing_path, KINDS_SP_PLAIN)

/* connect() to a missing abstract name: ECONNREFUSED on Linux (no file to be missing). */
CHECK(connect_missing_abstract)
{
    struct sockaddr_un sun;
    socklen_t len = abstract_addr("missing", &sun);
    connect_outcome(c, SOCK_STREAM, &sun, len);
}
INSTANTIATE(connect_missing_abstract, KINDS_NONE)

/* A socket() client connects to a listening path without binding first; it stays unnamed. */
CHECK(connect_without_bind)
{
    struct scratch_dir d;
    struct sockaddr_un sun, me;
    socklen_t len;
    static const char *const names[] = {"l"};
    scratch_dir_make(&d);
    int cl = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert(cl >= 0);
    int srv = bound_path_socket(&d, "l", SOCK_STREAM, 1, &sun, &len);
    xset_nonblock(cl, 1);
    if (connect(cl, (struct sockaddr *)&sun, len) < 0) {
        outcome(c, "connect %s", sockspec_errno_name(errno));
    } else {
        socklen_t ml = sizeof me;
        memset(&me, 0x55, sizeof me);
        int r = getsockname(cl, (struct sockaddr *)&me, &ml);
        name_outcome(c, r, &me, ml);
        char got[OUTCOME_MAX];
        snprintf(got, sizeof got, "connected, %.140s", c->outcome);
        outcome(c, "%s", got);
    }
    xclose(&srv);
    xclose(&cl);
    scratch_dir_remove(&d, names, 1);
}
INSTANTIATE(connect_without_bind, KINDS_NONE)

/* A path longer than sun_path, with an address length that covers it: EINVAL on Linux. */
CHECK(bind_path_too_long)
{
    struct scratch_dir d;
    union {
        struct sockaddr_un sun;
        char raw[sizeof(struct sockaddr_un) + 256];
    } u;
    char name[160];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    scratch_dir_make(&d);
    memset(&u, 0, sizeof u);
    u.sun.sun_family = AF_UNIX;
    size_t off = offsetof(struct sockaddr_un, sun_path);
    int n = snprintf(u.raw + off, sizeof u.raw - off, "%s/%s", d.path, name);
    cr_assert(n > (int)sizeof u.sun.sun_path);
    socklen_t len = (socklen_t)(off + (size_t)n + 1);
#ifdef SOCKSPEC_HAVE_SUN_LEN
    u.sun.sun_len = (unsigned char)(len > 255 ? 255 : len);
#endif
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    int r = bind(fd, (struct sockaddr *)&u.sun, len);
    outcome_ok(c, r);
    xclose(&fd);
    const char *names[] = {name};
    scratch_dir_remove(&d, names, 1);
}
INSTANTIATE(bind_path_too_long, KINDS_NONE)

/* A path that fills sun_path exactly, with no room for the NUL: Linux binds it (unix.7);
 * OpenBSD wants the NUL to fit. */
CHECK(bind_path_fills_sun_path)
{
    struct scratch_dir d;
    struct sockaddr_un sun;
    char name[sizeof sun.sun_path];
    scratch_dir_make(&d);
    size_t dl = strlen(d.path) + 1;
    cr_assert(dl + 2 < sizeof sun.sun_path);
    size_t nl = sizeof sun.sun_path - dl;
    memset(name, 'f', nl);
    name[nl] = '\0';
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, d.path, dl - 1);
    sun.sun_path[dl - 1] = '/';
    memcpy(sun.sun_path + dl, name, nl); /* no terminating NUL inside sun_path */
#ifdef SOCKSPEC_HAVE_SUN_LEN
    sun.sun_len = (unsigned char)sizeof sun;
#endif
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    memcheck_expect_bad_argument(1); /* no NUL fits: valgrind reads past sun_path */
    int r = bind(fd, (struct sockaddr *)&sun, (socklen_t)sizeof sun);
    memcheck_expect_bad_argument(0);
    outcome_ok(c, r);
    xclose(&fd);
    const char *names[] = {name};
    scratch_dir_remove(&d, names, 1);
}
INSTANTIATE(bind_path_fills_sun_path, KINDS_NONE)

/* An abstract name reads back through getsockname() with its leading NUL (Linux unix.7). */
CHECK(abstract_getsockname)
{
    struct sockaddr_un sun, got;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    socklen_t len = abstract_addr("name", &sun), gl = sizeof got;
    if (bind(fd, (struct sockaddr *)&sun, len) < 0) {
        outcome(c, "bind %s", sockspec_errno_name(errno));
    } else {
        memset(&got, 0x55, sizeof got);
        int r = getsockname(fd, (struct sockaddr *)&got, &gl);
        name_outcome(c, r, &got, gl);
        cr_expect(gl == len && memcmp(&got, &sun, len) == 0, "name differs (len %u vs %u)",
                  (unsigned)gl, (unsigned)len);
    }
    xclose(&fd);
}
INSTANTIATE(abstract_getsockname, KINDS_NONE)

/* bind() with only the family autobinds to an abstract name of 5 hex digits (Linux unix.7). */
CHECK(autobind_family_only)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX}, got;
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    cr_assert(fd >= 0);
    socklen_t gl = sizeof got;
    if (bind(fd, (struct sockaddr *)&sun, (socklen_t)offsetof(struct sockaddr_un, sun_path)) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
    } else {
        memset(&got, 0, sizeof got);
        int r = getsockname(fd, (struct sockaddr *)&got, &gl);
        cr_assert(r == 0, "getsockname: %s", sockspec_errno_name(errno));
        size_t nl = gl - offsetof(struct sockaddr_un, sun_path);
        if (got.sun_path[0] == '\0' && nl > 1)
            outcome(c, "abstract, %zu bytes", nl - 1);
        else
            name_outcome(c, r, &got, gl);
    }
    xclose(&fd);
}
INSTANTIATE(autobind_family_only, KINDS_NONE)
