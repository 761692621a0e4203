/*
 * Small helpers shared by the create, bidir, claims and inet checks only: scratch directories
 * for AF_UNIX paths, loopback addresses, integer socket options, descriptor-slot probes.
 * Everything is static so each check file stays self-contained.
 */
#ifndef SOCKSPEC_P1_UTIL_H
#define SOCKSPEC_P1_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

/* A scratch directory for filesystem socket names; p1_dir_remove() unlinks names and dir. */
struct p1_dir {
    char path[96];
};

static inline void p1_dir_make(struct p1_dir *d)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(d->path, sizeof d->path, "%s/sockspec.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert(mkdtemp(d->path) != NULL, "mkdtemp: %s", errno_name(errno));
}

/* Builds a NUL-terminated filesystem address "<dir>/<name>"; returns its length for bind(). */
static inline socklen_t p1_path_addr(const struct p1_dir *d, const char *name,
                                     struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    int n = snprintf(sun->sun_path, sizeof sun->sun_path, "%s/%s", d->path, name);
    cr_assert(n > 0 && (size_t)n < sizeof sun->sun_path, "scratch path too long");
#ifdef SOCKSPEC_HAVE_SUN_LEN
    sun->sun_len = (unsigned char)SUN_LEN(sun);
#endif
    return (socklen_t)sizeof *sun;
}

/* Unlinks the names the checks use, then the directory. */
static inline void p1_dir_remove(struct p1_dir *d, const char *const *names, size_t n)
{
    char p[sizeof d->path + 160];
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/%s", d->path, names[i]);
        (void)unlink(p);
    }
    cr_expect(rmdir(d->path) == 0, "rmdir %s: %s", d->path, errno_name(errno));
}

/* An abstract-namespace address unique to this process (Linux unix.7); its length. */
static inline socklen_t p1_abstract_addr(const char *name, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    int n = snprintf(sun->sun_path + 1, sizeof sun->sun_path - 1, "sockspec.p1.%ld.%s",
                     (long)getpid(), name);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* Loopback address of the family, port in network order. */
static inline socklen_t p1_loopback(int domain, unsigned short port_n, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (domain == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = port_n;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return (socklen_t)sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = port_n;
    in6->sin6_addr = in6addr_loopback;
    return (socklen_t)sizeof *in6;
}

/* A socket bound to an ephemeral loopback port; its address in *ss. Fatal on failure. */
static inline int p1_bound_inet(int domain, int type, struct sockaddr_storage *ss, socklen_t *len)
{
    int fd = socket(domain, type, 0);
    cr_assert(fd >= 0, "socket: %s", errno_name(errno));
    *len = p1_loopback(domain, 0, ss);
    cr_assert(bind(fd, (struct sockaddr *)ss, *len) == 0, "bind: %s", errno_name(errno));
    cr_assert(getsockname(fd, (struct sockaddr *)ss, len) == 0, "getsockname: %s",
              errno_name(errno));
    return fd;
}

/* getsockopt(SOL_SOCKET, opt) as an int; -1 with errno on failure. */
static inline int p1_sockopt_int(int fd, int opt, int *val)
{
    socklen_t len = sizeof *val;
    *val = -12345;
    return getsockopt(fd, SOL_SOCKET, opt, val, &len);
}

static inline const char *p1_type_name(int t)
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

/* 1 if descriptor slot fd is in use. */
static inline int p1_fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/* The lowest free descriptor number (what the next open would return). */
static inline int p1_lowest_free(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cr_assert(fd >= 0, "open /dev/null: %s", errno_name(errno));
    close(fd);
    return fd;
}

/* Lowers RLIMIT_NOFILE so that exactly `free_slots` descriptors remain (none are open at or
 * above the lowest free slot's window that the check uses); the old limit goes to *old. */
static inline int p1_limit_free_slots(int free_slots, struct rlimit *old)
{
    int low = p1_lowest_free();
    for (int i = 1; i < free_slots; i++)
        cr_assert(!p1_fd_open(low + i), "slot %d in use; cannot leave %d free", low + i,
                  free_slots);
    cr_assert(getrlimit(RLIMIT_NOFILE, old) == 0, "getrlimit: %s", errno_name(errno));
    struct rlimit rl = *old;
    rl.rlim_cur = (rlim_t)(low + free_slots);
    cr_assert(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit: %s", errno_name(errno));
    return low;
}

static inline void p1_limit_restore(const struct rlimit *old)
{
    cr_assert(setrlimit(RLIMIT_NOFILE, old) == 0, "restoring RLIMIT_NOFILE: %s", errno_name(errno));
}

/* Number of open slots in [from, from + n). */
static inline int p1_count_open(int from, int n)
{
    int k = 0;
    for (int i = from; i < from + n; i++)
        k += p1_fd_open(i);
    return k;
}

/* recv with MSG_DONTWAIT after waiting up to timeout_ms for readability; -1/errno or bytes. */
static inline ssize_t p1_recv_wait(int fd, void *buf, size_t n, int flags, int timeout_ms)
{
    (void)poll_events(fd, POLLIN, timeout_ms);
    return recv(fd, buf, n, flags | MSG_DONTWAIT);
}

#endif
