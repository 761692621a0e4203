#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kinds.h"

static int fail_errno(int *fds, int n)
{
    int e = errno;
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return e ? e : EIO;
}

static int set_flags(int fd, int nonblock)
{
#ifdef QUIRK_NO_MSG_NOSIGNAL
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (!nonblock)
        return 0;
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int finish(struct chan *c, int first, int second)
{
    int fds[2] = {first, second};
    if (set_flags(first, c->kind->nonblock) < 0 || set_flags(second, c->kind->nonblock) < 0)
        return fail_errno(fds, 2);
    c->a = c->kind->swapped ? second : first;
    c->b = c->kind->swapped ? first : second;
    return 0;
}

static int create_none(struct chan *c)
{
    (void)c;
    return 0;
}

static int create_socketpair(struct chan *c)
{
    int sv[2], type = c->kind->type;
#ifdef SOCKSPEC_HAVE_SOCK_NONBLOCK
    if (c->kind->nonblock)
        type |= SOCK_NONBLOCK; /* set_flags then finds O_NONBLOCK already on */
#endif
    if (socketpair(AF_UNIX, type, 0, sv) < 0)
        return errno;
    return finish(c, sv[0], sv[1]);
}

static int create_pipe(struct chan *c)
{
    int p[2];
    if (pipe(p) < 0)
        return errno;
    return finish(c, p[1], p[0]);
}

/* Builds a sockaddr_un for name inside c->dir, or in the abstract namespace. */
static socklen_t unix_addr(struct chan *c, struct sockaddr_un *sun, const char *name)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (c->kind->origin == ORIGIN_ABSTRACT) {
        int n = snprintf(sun->sun_path + 1, sizeof sun->sun_path - 1, "sockspec.%ld.%s",
                         (long)getpid(), name);
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    }
    snprintf(sun->sun_path, sizeof sun->sun_path, "%s/%s", c->dir, name);
#ifdef SOCKSPEC_HAVE_SUN_LEN
    sun->sun_len = (unsigned char)SUN_LEN(sun);
#endif
    return (socklen_t)sizeof *sun;
}

static int bind_name(struct chan *c, int fd, const char *name)
{
    struct sockaddr_un sun;
    socklen_t len = unix_addr(c, &sun, name);
    return bind(fd, (struct sockaddr *)&sun, len);
}

static int connect_name(struct chan *c, int fd, const char *name)
{
    struct sockaddr_un sun;
    socklen_t len = unix_addr(c, &sun, name);
    return connect(fd, (struct sockaddr *)&sun, len);
}

static int unix_dgram_pair(struct chan *c)
{
    int fds[2] = {socket(AF_UNIX, SOCK_DGRAM, 0), socket(AF_UNIX, SOCK_DGRAM, 0)};
    if (fds[0] < 0 || fds[1] < 0 || bind_name(c, fds[0], "a") < 0 ||
        bind_name(c, fds[1], "b") < 0 || connect_name(c, fds[0], "b") < 0 ||
        connect_name(c, fds[1], "a") < 0)
        return fail_errno(fds, 2);
    return finish(c, fds[0], fds[1]);
}

static int unix_conn_pair(struct chan *c)
{
    int fds[3] = {socket(AF_UNIX, c->kind->type, 0), socket(AF_UNIX, c->kind->type, 0), -1};
    if (fds[0] < 0 || fds[1] < 0 || bind_name(c, fds[0], "l") < 0 || listen(fds[0], 1) < 0 ||
        connect_name(c, fds[1], "l") < 0 || (fds[2] = accept(fds[0], NULL, NULL)) < 0)
        return fail_errno(fds, 3);
    close(fds[0]);
    return finish(c, fds[1], fds[2]);
}

static int create_unix_bound(struct chan *c)
{
    if (c->kind->origin == ORIGIN_FS) {
        snprintf(c->dir, sizeof c->dir, "%s/sockspec.XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(c->dir)) {
            c->dir[0] = '\0';
            return errno;
        }
    }
    return c->kind->type == SOCK_DGRAM ? unix_dgram_pair(c) : unix_conn_pair(c);
}

static socklen_t loopback(int domain, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (domain == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    return sizeof *in6;
}

static int bound_inet(int domain, int type, struct sockaddr_storage *ss, socklen_t *len)
{
    int fd = socket(domain, type, 0);
    *len = loopback(domain, ss);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)ss, *len) < 0 ||
        getsockname(fd, (struct sockaddr *)ss, len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int create_inet(struct chan *c)
{
    int d = c->kind->domain;
    struct sockaddr_storage sa, sb;
    socklen_t la, lb;
    int fds[3] = {bound_inet(d, c->kind->type, &sa, &la), -1, -1};
    if (fds[0] < 0)
        return fail_errno(fds, 3);
    if (c->kind->type == SOCK_DGRAM) {
        fds[1] = bound_inet(d, SOCK_DGRAM, &sb, &lb);
        if (fds[1] < 0 || connect(fds[0], (struct sockaddr *)&sb, lb) < 0 ||
            connect(fds[1], (struct sockaddr *)&sa, la) < 0)
            return fail_errno(fds, 3);
        return finish(c, fds[0], fds[1]);
    }
    fds[1] = socket(d, SOCK_STREAM, 0);
    if (fds[1] < 0 || listen(fds[0], 1) < 0 || connect(fds[1], (struct sockaddr *)&sa, la) < 0 ||
        (fds[2] = accept(fds[0], NULL, NULL)) < 0)
        return fail_errno(fds, 3);
    close(fds[0]);
    return finish(c, fds[1], fds[2]);
}

int kind_open(struct chan *c)
{
    c->a = c->b = c->listener = -1;
    c->dir[0] = '\0';
    int e = c->kind->create(c);
    if (e != 0)
        kind_close(c);
    return e;
}

static void remove_dir(const char *dir)
{
    static const char *const names[] = {"a", "b", "l"};
    char path[sizeof((struct chan *)0)->dir + 4];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        (void)unlink(path);
    }
    (void)rmdir(dir);
}

void kind_close(struct chan *c)
{
    xclose(&c->a);
    xclose(&c->b);
    xclose(&c->listener);
    if (c->dir[0] != '\0')
        remove_dir(c->dir);
    c->dir[0] = '\0';
}

#define KIND(n, o, d, t, nb, sw, fn) const struct kind kind_##n = {#n, o, d, t, nb, sw, fn};
#define KIND4(base, o, d, t, fn)                                                                   \
    KIND(base, o, d, t, 0, 0, fn)                                                                  \
    KIND(base##_nb, o, d, t, 1, 0, fn)                                                             \
    KIND(base##_sw, o, d, t, 0, 1, fn) KIND(base##_nb_sw, o, d, t, 1, 1, fn)
#define KIND2(base, o, d, t, fn) KIND(base, o, d, t, 0, 0, fn) KIND(base##_sw, o, d, t, 0, 1, fn)

KIND4(sp_stream, ORIGIN_SOCKETPAIR, AF_UNIX, SOCK_STREAM, create_socketpair)
KIND4(sp_dgram, ORIGIN_SOCKETPAIR, AF_UNIX, SOCK_DGRAM, create_socketpair)
KIND4(sp_seqpacket, ORIGIN_SOCKETPAIR, AF_UNIX, SOCK_SEQPACKET, create_socketpair)
KIND2(fs_stream, ORIGIN_FS, AF_UNIX, SOCK_STREAM, create_unix_bound)
KIND2(fs_dgram, ORIGIN_FS, AF_UNIX, SOCK_DGRAM, create_unix_bound)
KIND2(fs_seqpacket, ORIGIN_FS, AF_UNIX, SOCK_SEQPACKET, create_unix_bound)
KIND2(abs_stream, ORIGIN_ABSTRACT, AF_UNIX, SOCK_STREAM, create_unix_bound)
KIND2(abs_dgram, ORIGIN_ABSTRACT, AF_UNIX, SOCK_DGRAM, create_unix_bound)
KIND2(abs_seqpacket, ORIGIN_ABSTRACT, AF_UNIX, SOCK_SEQPACKET, create_unix_bound)
KIND(tcp4, ORIGIN_INET, AF_INET, SOCK_STREAM, 0, 0, create_inet)
KIND(tcp6, ORIGIN_INET, AF_INET6, SOCK_STREAM, 0, 0, create_inet)
KIND(udp4, ORIGIN_INET, AF_INET, SOCK_DGRAM, 0, 0, create_inet)
KIND(udp6, ORIGIN_INET, AF_INET6, SOCK_DGRAM, 0, 0, create_inet)
KIND(pipe, ORIGIN_PIPE, 0, 0, 0, 0, create_pipe)
KIND(pipe_nb, ORIGIN_PIPE, 0, 0, 1, 0, create_pipe)
KIND(none, ORIGIN_NONE, 0, 0, 0, 0, create_none)
