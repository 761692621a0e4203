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
        REQUIRE(!fd_is_open(low + i), "slot %d in use; cannot leave %d free", low + i, free_slots);
    REQUIRE(getrlimit(RLIMIT_NOFILE, old) == 0, "getrlimit: %s", sockspec_errno_name(errno));
    struct rlimit rl = *old;
    rl.rlim_cur = (rlim_t)low + (rlim_t)free_slots;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit: %s", sockspec_errno_name(errno));
    return low;
}

static void limit_restore(const struct rlimit *old)
{
    REQUIRE(setrlimit(RLIMIT_NOFILE, old) == 0, "restoring RLIMIT_NOFILE: %s",
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
        EXPECT(sv[0] >= 0 && sv[1] >= 0 && sv[0] != sv[1], "bad descriptors %d %d", sv[0], sv[1]);
        outcome(c, "ok");
        xclose(&sv[0]);
        xclose(&sv[1]);
        return;
    }
    outcome(c, "%s", sockspec_errno_name(errno));
    EXPECT(sv[0] == -1 || !fd_is_open(sv[0]), "failed socketpair left sv[0]=%d open", sv[0]);
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

CHECK(socketpair_each_type,
      "socketpair(AF_UNIX, <type>, 0) succeeds for SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET.")
{
    socketpair_outcome(c, AF_UNIX, c->kind->type, 0);
}
INSTANTIATE(socketpair_each_type, KINDS_SP_PLAIN)

CHECK(socket_each_type, "socket(AF_UNIX, <type>, 0) succeeds for each type socketpair accepts.")
{
    socket_outcome(c, AF_UNIX, c->kind->type, 0);
}
INSTANTIATE(socket_each_type, KINDS_SP_PLAIN)

CHECK(socketpair_protocol_pf_unix, "Protocol PF_UNIX (1) is accepted for AF_UNIX on Linux; BSD "
                                   "protocol tables are not documented.")
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

CHECK(socketpair_raw,
      "SOCK_RAW on AF_UNIX: Linux silently makes a SOCK_DGRAM pair; BSD and macOS refuse the type.")
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

CHECK(socket_raw, "socket(AF_UNIX, SOCK_RAW, 0) behaves like socketpair: a DGRAM socket on Linux.")
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

CHECK(socketpair_unknown_domain, "An unknown address family is refused with EAFNOSUPPORT.")
{
    socketpair_outcome(c, 12345, SOCK_STREAM, 0);
}
INSTANTIATE(socketpair_unknown_domain, KINDS_NONE)

CHECK(socketpair_domain_unspec, "AF_UNSPEC (0) is not a family one can create: EAFNOSUPPORT.")
{
    socketpair_outcome(c, AF_UNSPEC, SOCK_STREAM, 0);
}
INSTANTIATE(socketpair_domain_unspec, KINDS_NONE)

CHECK(socket_unknown_domain, "socket() with an unknown address family: EAFNOSUPPORT.")
{
    socket_outcome(c, 12345, SOCK_STREAM, 0);
}
INSTANTIATE(socket_unknown_domain, KINDS_NONE)

CHECK(socketpair_inet_stream,
      "socketpair(AF_INET, SOCK_STREAM, 0): TCP has no connect2, EOPNOTSUPP everywhere.")
{
    socketpair_outcome(c, AF_INET, SOCK_STREAM, 0);
}
INSTANTIATE(socketpair_inet_stream, KINDS_NONE)

CHECK(socketpair_inet_dgram, "socketpair(AF_INET, SOCK_DGRAM, 0): EOPNOTSUPP as well.")
{
    socketpair_outcome(c, AF_INET, SOCK_DGRAM, 0);
}
INSTANTIATE(socketpair_inet_dgram, KINDS_NONE)

CHECK(socketpair_inet6_stream, "socketpair(AF_INET6, SOCK_STREAM, 0): EOPNOTSUPP.")
{
    socketpair_outcome(c, AF_INET6, SOCK_STREAM, 0);
}
INSTANTIATE(socketpair_inet6_stream, KINDS_NONE)

CHECK(socketpair_type_zero,
      "Type 0 on AF_UNIX: ESOCKTNOSUPPORT on Linux, EPROTONOSUPPORT on FreeBSD and macOS.")
{
    socketpair_outcome(c, AF_UNIX, 0, 0);
}
INSTANTIATE(socketpair_type_zero, KINDS_NONE)

CHECK(socketpair_type_rdm,
      "SOCK_RDM is a valid type AF_UNIX does not implement: ESOCKTNOSUPPORT on Linux.")
{
    socketpair_outcome(c, AF_UNIX, SOCK_RDM, 0);
}
INSTANTIATE(socketpair_type_rdm, KINDS_NONE)

CHECK(socketpair_type_unknown,
      "A type value no OS defines (15, inside Linux's type mask): EINVAL on Linux.")
{
    socketpair_outcome(c, AF_UNIX, 15, 0);
}
INSTANTIATE(socketpair_type_unknown, KINDS_NONE)

CHECK(socketpair_stray_flag_bits,
      "SOCK_STREAM with a flag bit no OS assigns (1 << 22): EINVAL on Linux.")
{
    socketpair_outcome(c, AF_UNIX, SOCK_STREAM | (1 << 22), 0);
}
INSTANTIATE(socketpair_stray_flag_bits, KINDS_NONE)

CHECK(socket_stray_flag_bits, "socket() with the same stray flag bit: EINVAL on Linux.")
{
    socket_outcome(c, AF_UNIX, SOCK_STREAM | (1 << 22), 0);
}
INSTANTIATE(socket_stray_flag_bits, KINDS_NONE)

CHECK(socketpair_bad_protocol, "AF_UNIX with protocol 7: EPROTONOSUPPORT.")
{
    socketpair_outcome(c, AF_UNIX, SOCK_STREAM, 7);
}
INSTANTIATE(socketpair_bad_protocol, KINDS_NONE)

CHECK(socket_inet_stream_udp_protocol,
      "socket(AF_INET, SOCK_STREAM, IPPROTO_UDP): the protocol does not serve the type.")
{
    socket_outcome(c, AF_INET, SOCK_STREAM, IPPROTO_UDP);
}
INSTANTIATE(socket_inet_stream_udp_protocol, KINDS_NONE)

CHECK(socket_inet_dgram_tcp_protocol,
      "socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP): the protocol does not serve the type.")
{
    socket_outcome(c, AF_INET, SOCK_DGRAM, IPPROTO_TCP);
}
INSTANTIATE(socket_inet_dgram_tcp_protocol, KINDS_NONE)

#ifndef QUIRK_NO_RAW_SYSCALL
/* The raw system call, so that no libc wrapper touches sv before the kernel does. */
static void raw_socketpair_outcome(struct chan *c, int *sv)
{
    struct fdset before;
    REQUIRE(fdset_probe(&before) == 0, "descriptor probe: %s", sockspec_errno_name(errno));
    memcheck_expect_bad_argument(1);
    long r = syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
    memcheck_expect_bad_argument(0);
    if (r == 0) {
        outcome(c, "ok");
        return; /* the fd probe reports the two descriptors nobody can name */
    }
    int e = errno;
    /* Descriptors the failed call left behind: counted, then closed, since nobody can name
     * them. */
    int leaked = close_new_fds(&before);
    if (leaked)
        outcome(c, "%s, leaked %d", sockspec_errno_name(e), leaked);
    else
        outcome(c, "%s", sockspec_errno_name(e));
}
#endif

CHECK(socketpair_sv_bad_pointer,
      "sv pointing at unmapped memory: EFAULT, and no descriptor is left behind.")
{
#ifdef QUIRK_NO_RAW_SYSCALL
    UNSUPPORTED(c, QUIRK_NO_RAW_SYSCALL);
#else
    raw_socketpair_outcome(c, (int *)(uintptr_t)7);
#endif
}
INSTANTIATE(socketpair_sv_bad_pointer, KINDS_NONE)

CHECK(socketpair_sv_null, "sv == NULL: EFAULT, and no descriptor is left behind.")
{
#ifdef QUIRK_NO_RAW_SYSCALL
    UNSUPPORTED(c, QUIRK_NO_RAW_SYSCALL);
#else
    raw_socketpair_outcome(c, NULL);
#endif
}
INSTANTIATE(socketpair_sv_null, KINDS_NONE)

CHECK(socketpair_sv_on_failure,
      "On a failed socketpair (AF_INET: EOPNOTSUPP), is sv[] written? Linux writes the reserved "
      "descriptor numbers before the protocol refuses; FreeBSD copies out only on success.")
{
    int sv[2] = {-7, -7};
    int r = socketpair(AF_INET, SOCK_STREAM, 0, sv);
    REQUIRE(r < 0, "socketpair(AF_INET) succeeded");
    outcome(c, "%s", sv[0] == -7 && sv[1] == -7 ? "untouched" : "written");
    EXPECT(sv[0] == -7 || !fd_is_open(sv[0]), "sv[0]=%d is open", sv[0]);
    EXPECT(sv[1] == -7 || !fd_is_open(sv[1]), "sv[1]=%d is open", sv[1]);
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
        EXPECT(fds[0] >= low && fds[0] < low + free_slots, "fd %d outside the window", fds[0]);
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

CHECK(socketpair_emfile_no_slot, "No free descriptor slot: socketpair fails with EMFILE.")
{
    exhaustion_outcome(c, 0, 0);
}
INSTANTIATE(socketpair_emfile_no_slot, KINDS_NONE)

CHECK(socketpair_emfile_one_slot,
      "Exactly one free slot: socketpair fails with EMFILE and the first end is released.")
{
    exhaustion_outcome(c, 1, 0);
}
INSTANTIATE(socketpair_emfile_one_slot, KINDS_NONE)

CHECK(socketpair_two_slots_ok,
      "Exactly two free slots: socketpair succeeds (the limit is exact, not off by one).")
{
    exhaustion_outcome(c, 2, 0);
}
INSTANTIATE(socketpair_two_slots_ok, KINDS_NONE)

CHECK(socket_emfile_no_slot, "No free slot: socket() fails with EMFILE.")
{
    exhaustion_outcome(c, 0, 1);
}
INSTANTIATE(socket_emfile_no_slot, KINDS_NONE)

CHECK(pipe_emfile_one_slot, "Exactly one free slot: pipe() fails with EMFILE (POSIX: \"all, or all "
                            "but one\") and leaks nothing.")
{
    exhaustion_outcome(c, 1, 2);
}
INSTANTIATE(pipe_emfile_one_slot, KINDS_NONE)

#if !defined(QUIRK_NO_SOCK_NONBLOCK) || !defined(QUIRK_NO_SOCK_CLOEXEC)
/* Flag state of two descriptors: "both", "none" or which one has it. */
static const char *both_or_none(int fa, int fb)
{
    return fa && fb ? "both" : !fa && !fb ? "none" : fa ? "first only" : "second only";
}

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
    EXPECT(!other(sv[0]) && !other(sv[1]), "%s", other_msg);
    xclose(&sv[0]);
    xclose(&sv[1]);
}
#endif

CHECK(socketpair_nonblock_both_ends, "SOCK_NONBLOCK in the type sets O_NONBLOCK on both ends.")
{
#ifdef QUIRK_NO_SOCK_NONBLOCK
    UNSUPPORTED(c, QUIRK_NO_SOCK_NONBLOCK);
#else
    creation_flag_outcome(c, SOCK_NONBLOCK, is_nonblock, is_cloexec,
                          "SOCK_NONBLOCK also set FD_CLOEXEC");
#endif
}
INSTANTIATE(socketpair_nonblock_both_ends, KINDS_SP_PLAIN)

CHECK(socketpair_cloexec_both_ends, "SOCK_CLOEXEC in the type sets FD_CLOEXEC on both ends.")
{
#ifdef QUIRK_NO_SOCK_CLOEXEC
    UNSUPPORTED(c, QUIRK_NO_SOCK_CLOEXEC);
#else
    creation_flag_outcome(c, SOCK_CLOEXEC, is_cloexec, is_nonblock,
                          "SOCK_CLOEXEC also set O_NONBLOCK");
#endif
}
INSTANTIATE(socketpair_cloexec_both_ends, KINDS_SP_PLAIN)

CHECK(socketpair_no_flags_neither, "Without flags neither end is non-blocking or close-on-exec.")
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

CHECK(socket_type_flags,
      "socket() with SOCK_NONBLOCK | SOCK_CLOEXEC gets both flags; without them, neither.")
{
#if defined(QUIRK_NO_SOCK_NONBLOCK)
    UNSUPPORTED(c, QUIRK_NO_SOCK_NONBLOCK);
#elif defined(QUIRK_NO_SOCK_CLOEXEC)
    UNSUPPORTED(c, QUIRK_NO_SOCK_CLOEXEC);
#else
    int with = socket(AF_UNIX, c->kind->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int without = socket(AF_UNIX, c->kind->type, 0);
    REQUIRE(with >= 0 && without >= 0, "socket: %s", sockspec_errno_name(errno));
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
    REQUIRE(sockopt_int(c->a, SOL_SOCKET, opt, &va) == 0 &&
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
    REQUIRE(fd >= 0);
    *len = xscratch_addr(d, name, sun);
    if (listening)
        REQUIRE(bind(fd, (struct sockaddr *)sun, *len) == 0 && listen(fd, 1) == 0,
                "bind/listen: %s", sockspec_errno_name(errno));
    else
        REQUIRE(bind(fd, (struct sockaddr *)sun, *len) == 0, "bind: %s",
                sockspec_errno_name(errno));
    return fd;
}

CHECK(so_type_both_ends, "SO_TYPE on both ends names the kind's type, without the creation flags.")
{
    int ta, tb;
    REQUIRE(sockopt_int(c->a, SOL_SOCKET, SO_TYPE, &ta) == 0, "SO_TYPE: %s",
            sockspec_errno_name(errno));
    REQUIRE(sockopt_int(c->b, SOL_SOCKET, SO_TYPE, &tb) == 0, "SO_TYPE: %s",
            sockspec_errno_name(errno));
    if (ta == c->kind->type && tb == c->kind->type)
        outcome(c, "ok");
    else
        outcome(c, "a=%s b=%s", type_name(ta), type_name(tb));
}
INSTANTIATE(so_type_both_ends, KINDS_SOCKETS)

CHECK(so_domain_both_ends, "SO_DOMAIN on both ends names the kind's family.")
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

CHECK(so_protocol_unix_both_ends, "SO_PROTOCOL on both AF_UNIX ends is 0 (the only protocol).")
{
#ifdef QUIRK_NO_SO_PROTOCOL
    UNSUPPORTED(c, QUIRK_NO_SO_PROTOCOL);
#else
    both_ends_int_or_errno(c, SO_PROTOCOL);
#endif
}
INSTANTIATE(so_protocol_unix_both_ends, KINDS_UNIX)

CHECK(fstat_socket_is_sock, "fstat() on both socket ends reports S_ISSOCK.")
{
    struct stat sa, sb;
    REQUIRE(fstat(c->a, &sa) == 0 && fstat(c->b, &sb) == 0, "fstat: %s",
            sockspec_errno_name(errno));
    outcome(c, "%s", S_ISSOCK(sa.st_mode) && S_ISSOCK(sb.st_mode) ? "socket" : "not a socket");
}
INSTANTIATE(fstat_socket_is_sock, KINDS_MIX_ONE)

CHECK(fstat_pipe_is_fifo, "fstat() on both pipe ends reports S_ISFIFO.")
{
    struct stat sa, sb;
    REQUIRE(fstat(c->a, &sa) == 0 && fstat(c->b, &sb) == 0, "fstat: %s",
            sockspec_errno_name(errno));
    outcome(c, "%s", S_ISFIFO(sa.st_mode) && S_ISFIFO(sb.st_mode) ? "fifo" : "not a fifo");
}
INSTANTIATE(fstat_pipe_is_fifo, KINDS_PIPES)

CHECK(pipe_access_modes, "The access modes of pipe() ends: read end O_RDONLY, write end O_WRONLY "
                         "where pipes are one-way; both O_RDWR on FreeBSD.")
{
    int fa = fcntl(c->a, F_GETFL), fb = fcntl(c->b, F_GETFL);
    REQUIRE(fa >= 0 && fb >= 0, "F_GETFL: %s", sockspec_errno_name(errno));
    static const char *const mode[] = {"rdonly", "wronly", "rdwr", "?"};
    outcome(c, "read end %s, write end %s", mode[fb & O_ACCMODE], mode[fa & O_ACCMODE]);
}
INSTANTIATE(pipe_access_modes, KINDS_PIPES)

CHECK(default_so_error, "SO_ERROR is 0 on a fresh pair.")
{
    both_ends_int(c, SO_ERROR, "SO_ERROR");
}
INSTANTIATE(default_so_error, KINDS_MIX_ONE)

CHECK(default_so_acceptconn, "SO_ACCEPTCONN is 0 on connected (never listening) ends.")
{
    both_ends_int_or_errno(c, SO_ACCEPTCONN);
}
INSTANTIATE(default_so_acceptconn, KINDS_MIX_ONE)

CHECK(so_acceptconn_listener, "SO_ACCEPTCONN is non-zero on a listening AF_UNIX stream socket.")
{
    struct scratch_dir d;
    struct sockaddr_un sun;
    socklen_t len;
    static const char *const names[] = {"l"};
    int v;
    xscratch_dir(&d);
    int fd = bound_path_socket(&d, "l", SOCK_STREAM, 1, &sun, &len);
    if (sockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &v) < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%s", v ? "listening" : "0");
    xclose(&fd);
    xscratch_dir_remove(&d, names, 1);
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
    REQUIRE(cl >= 0, "socket: %s", sockspec_errno_name(errno));
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

CHECK(accept_nonblock_inherited,
      "A socket accept()ed from a non-blocking AF_UNIX stream listener: Linux does not copy "
      "O_NONBLOCK (\"blocking\"); the BSDs and macOS do (\"nonblock\").")
{
    struct scratch_dir d;
    struct sockaddr_un sun;
    socklen_t len;
    static const char *const names[] = {"l"};
    xscratch_dir(&d);
    int l = bound_path_socket(&d, "l", SOCK_STREAM, 1, &sun, &len);
    accepted_flag_outcome(c, l, AF_UNIX, (struct sockaddr *)&sun, len);
    xclose(&l);
    xscratch_dir_remove(&d, names, 1);
}
INSTANTIATE(accept_nonblock_inherited, KINDS_NONE)

CHECK(accept_nonblock_inherited_tcp, "The same for a TCP listener on 127.0.0.1: \"blocking\" on "
                                     "Linux, \"nonblock\" on the BSDs and macOS.")
{
    struct sockaddr_in in;
    socklen_t len = sizeof in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(l >= 0, "socket: %s", sockspec_errno_name(errno));
    REQUIRE(bind(l, (struct sockaddr *)&in, len) == 0 && listen(l, 1) == 0 &&
                getsockname(l, (struct sockaddr *)&in, &len) == 0,
            "bind/listen: %s", sockspec_errno_name(errno));
    accepted_flag_outcome(c, l, AF_INET, (struct sockaddr *)&in, len);
    xclose(&l);
}
INSTANTIATE(accept_nonblock_inherited_tcp, KINDS_NONE)

CHECK(default_so_rcvlowat, "SO_RCVLOWAT defaults to 1 on both ends.")
{
    both_ends_int(c, SO_RCVLOWAT, "SO_RCVLOWAT");
}
INSTANTIATE(default_so_rcvlowat, KINDS_MIX_ONE)

CHECK(default_so_linger, "SO_LINGER defaults to off on both ends.")
{
    struct linger la, lb;
    socklen_t na = sizeof la, nb = sizeof lb;
    REQUIRE(getsockopt(c->a, SOL_SOCKET, SO_LINGER, &la, &na) == 0 &&
                getsockopt(c->b, SOL_SOCKET, SO_LINGER, &lb, &nb) == 0,
            "SO_LINGER: %s", sockspec_errno_name(errno));
    if (!la.l_onoff && !lb.l_onoff)
        outcome(c, "off");
    else
        outcome(c, "on: %d/%d, %d/%d", la.l_onoff, la.l_linger, lb.l_onoff, lb.l_linger);
}
INSTANTIATE(default_so_linger, KINDS_MIX_ONE)

CHECK(default_so_keepalive, "SO_KEEPALIVE defaults to 0 on both ends.")
{
    both_ends_int(c, SO_KEEPALIVE, "SO_KEEPALIVE");
}
INSTANTIATE(default_so_keepalive, KINDS_MIX_ONE)

CHECK(getsockopt_unknown_option, "getsockopt(SOL_SOCKET, <unknown option>) fails with ENOPROTOOPT.")
{
    int v;
    socklen_t len = sizeof v;
    int r = getsockopt(c->a, SOL_SOCKET, 0x7654, &v, &len);
    outcome_ok(c, r);
}
INSTANTIATE(getsockopt_unknown_option, KINDS_SP_PLAIN)

CHECK(getsockopt_unknown_level, "getsockopt at a level AF_UNIX does not know: EOPNOTSUPP on Linux.")
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

CHECK(socketpair_getsockname_unnamed,
      "getsockname() on a socketpair end: an AF_UNIX address with no name.")
{
    name_of_outcome(c, getsockname, c->a);
}
INSTANTIATE(socketpair_getsockname_unnamed, KINDS_SP_PLAIN)

CHECK(socketpair_getpeername_unnamed,
      "getpeername() on a socketpair end: connected, the peer has no name either.")
{
    name_of_outcome(c, getpeername, c->a);
}
INSTANTIATE(socketpair_getpeername_unnamed, KINDS_SP_PLAIN)

CHECK(socket_getpeername_unconnected, "getpeername() on a fresh, unconnected socket(): ENOTCONN.")
{
    struct sockaddr_un sun;
    socklen_t len = sizeof sun;
    int fd = socket(AF_UNIX, c->kind->type, 0);
    REQUIRE(fd >= 0);
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
    xscratch_dir(&d);
    int second = socket(AF_UNIX, type, 0);
    REQUIRE(second >= 0);
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
    xscratch_dir_remove(&d, names, 1);
}

/* A non-blocking socket of type connects to the address: "ok" or the errno name. */
static void connect_outcome(struct chan *c, int type, const struct sockaddr_un *sun, socklen_t len)
{
    int cl = socket(AF_UNIX, type, 0);
    REQUIRE(cl >= 0);
    xset_nonblock(cl, 1);
    outcome_ok(c, connect(cl, (const struct sockaddr *)sun, len));
    xclose(&cl);
}

CHECK(bind_path_in_use, "Binding a second socket to a path already bound: EADDRINUSE.")
{
    second_on_path_outcome(c, c->kind->type, 0, 0, 0);
}
INSTANTIATE(bind_path_in_use, KINDS_SP_PLAIN)

CHECK(bind_stale_path_in_use,
      "The path stays after its socket is closed: binding it again is EADDRINUSE.")
{
    second_on_path_outcome(c, SOCK_STREAM, 0, 1, 0);
}
INSTANTIATE(bind_stale_path_in_use, KINDS_NONE)

CHECK(bind_abstract_in_use, "An abstract name in use: EADDRINUSE on Linux (unix.7).")
{
    struct sockaddr_un sun;
    int f1 = socket(AF_UNIX, SOCK_STREAM, 0), f2 = socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(f1 >= 0 && f2 >= 0);
    socklen_t len = xabstract_addr("inuse", &sun);
    if (bind(f1, (struct sockaddr *)&sun, len) < 0)
        outcome(c, "first bind %s", sockspec_errno_name(errno));
    else
        outcome(c, "%s",
                bind(f2, (struct sockaddr *)&sun, len) == 0 ? "ok" : sockspec_errno_name(errno));
    xclose(&f1);
    xclose(&f2);
}
INSTANTIATE(bind_abstract_in_use, KINDS_NONE)

CHECK(connect_path_not_listening,
      "connect() to a path bound by a socket that never listened: ECONNREFUSED.")
{
    second_on_path_outcome(c, SOCK_STREAM, 0, 0, 1);
}
INSTANTIATE(connect_path_not_listening, KINDS_NONE)

CHECK(connect_stale_path,
      "connect() to a path whose socket has been closed (the file stays): ECONNREFUSED.")
{
    second_on_path_outcome(c, SOCK_STREAM, 1, 1, 1);
}
INSTANTIATE(connect_stale_path, KINDS_NONE)

CHECK(connect_missing_path, "connect() to a path that does not exist: ENOENT.")
{
    struct scratch_dir d;
    struct sockaddr_un sun;
    xscratch_dir(&d);
    socklen_t len = xscratch_addr(&d, "missing", &sun);
    connect_outcome(c, c->kind->type, &sun, len);
    xscratch_dir_remove(&d, NULL, 0);
}
INSTANTIATE(connect_missing_path, KINDS_SP_PLAIN)

CHECK(connect_missing_abstract,
      "connect() to a missing abstract name: ECONNREFUSED on Linux (no file to be missing).")
{
    struct sockaddr_un sun;
    socklen_t len = xabstract_addr("missing", &sun);
    connect_outcome(c, SOCK_STREAM, &sun, len);
}
INSTANTIATE(connect_missing_abstract, KINDS_NONE)

CHECK(connect_without_bind,
      "A socket() client connects to a listening path without binding first; it stays unnamed.")
{
    struct scratch_dir d;
    struct sockaddr_un sun, me;
    socklen_t len;
    static const char *const names[] = {"l"};
    xscratch_dir(&d);
    int cl = socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(cl >= 0);
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
    xscratch_dir_remove(&d, names, 1);
}
INSTANTIATE(connect_without_bind, KINDS_NONE)

CHECK(bind_path_too_long,
      "A path longer than sun_path, with an address length that covers it: EINVAL on Linux.")
{
    struct scratch_dir d;
    union {
        struct sockaddr_un sun;
        char raw[sizeof(struct sockaddr_un) + 256];
    } u;
    char name[160];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    xscratch_dir(&d);
    memset(&u, 0, sizeof u);
    u.sun.sun_family = AF_UNIX;
    size_t off = offsetof(struct sockaddr_un, sun_path);
    int n = snprintf(u.raw + off, sizeof u.raw - off, "%s/%s", d.path, name);
    REQUIRE(n > (int)sizeof u.sun.sun_path);
    socklen_t len = (socklen_t)(off + (size_t)n + 1);
#ifdef SOCKSPEC_HAVE_SUN_LEN
    u.sun.sun_len = (unsigned char)(len > 255 ? 255 : len);
#endif
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    int r = bind(fd, (struct sockaddr *)&u.sun, len);
    outcome_ok(c, r);
    xclose(&fd);
    const char *names[] = {name};
    xscratch_dir_remove(&d, names, 1);
}
INSTANTIATE(bind_path_too_long, KINDS_NONE)

CHECK(bind_path_fills_sun_path, "A path that fills sun_path exactly, with no room for the NUL: "
                                "Linux binds it (unix.7); OpenBSD wants the NUL to fit.")
{
    struct scratch_dir d;
    struct sockaddr_un sun;
    char name[sizeof sun.sun_path];
    xscratch_dir(&d);
    size_t dl = strlen(d.path) + 1;
    REQUIRE(dl + 2 < sizeof sun.sun_path);
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
    REQUIRE(fd >= 0);
    memcheck_expect_bad_argument(1); /* no NUL fits: valgrind reads past sun_path */
    int r = bind(fd, (struct sockaddr *)&sun, (socklen_t)sizeof sun);
    memcheck_expect_bad_argument(0);
    outcome_ok(c, r);
    xclose(&fd);
    const char *names[] = {name};
    xscratch_dir_remove(&d, names, 1);
}
INSTANTIATE(bind_path_fills_sun_path, KINDS_NONE)

CHECK(abstract_getsockname,
      "An abstract name reads back through getsockname() with its leading NUL (Linux unix.7).")
{
    struct sockaddr_un sun, got;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    socklen_t len = xabstract_addr("name", &sun), gl = sizeof got;
    if (bind(fd, (struct sockaddr *)&sun, len) < 0) {
        outcome(c, "bind %s", sockspec_errno_name(errno));
    } else {
        memset(&got, 0x55, sizeof got);
        int r = getsockname(fd, (struct sockaddr *)&got, &gl);
        name_outcome(c, r, &got, gl);
        EXPECT(gl == len && memcmp(&got, &sun, len) == 0, "name differs (len %u vs %u)",
               (unsigned)gl, (unsigned)len);
    }
    xclose(&fd);
}
INSTANTIATE(abstract_getsockname, KINDS_NONE)

CHECK(autobind_family_only,
      "bind() with only the family autobinds to an abstract name of 5 hex digits (Linux unix.7).")
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX}, got;
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    socklen_t gl = sizeof got;
    if (bind(fd, (struct sockaddr *)&sun, (socklen_t)offsetof(struct sockaddr_un, sun_path)) < 0) {
        outcome(c, "%s", sockspec_errno_name(errno));
    } else {
        memset(&got, 0, sizeof got);
        int r = getsockname(fd, (struct sockaddr *)&got, &gl);
        REQUIRE(r == 0, "getsockname: %s", sockspec_errno_name(errno));
        size_t nl = gl - offsetof(struct sockaddr_un, sun_path);
        if (got.sun_path[0] == '\0' && nl > 1)
            outcome(c, "abstract, %zu bytes", nl - 1);
        else
            name_outcome(c, r, &got, gl);
    }
    xclose(&fd);
}
INSTANTIATE(autobind_family_only, KINDS_NONE)
