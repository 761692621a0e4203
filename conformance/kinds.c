#include "kinds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "scratch.h"

/* The kinds of kinds.h, composed from the base table. */
#define KIND_DEF_(n, o, dom, t, nb, sw, d, a)                                                      \
    const struct kind kind_##n = {#n, d, a, ORIGIN_##o, dom, t, nb, sw};
#define COMPOSE_DEF_(b, o, dom, t, v, d, a) SS_COMPOSE(KIND_DEF_, b, o, dom, t, v, d, a)
SS_BASE_KINDS(COMPOSE_DEF_)

#define KIND_REF_(n, o, dom, t, nb, sw, d, a) &kind_##n,
#define COMPOSE_REF_(b, o, dom, t, v, d, a) SS_COMPOSE(KIND_REF_, b, o, dom, t, v, d, a)
const struct kind *const kinds_all[] = {SS_BASE_KINDS(COMPOSE_REF_) NULL};

const struct kind *kind_by_name(const char *name)
{
    for (const struct kind *const *k = kinds_all; *k; k++)
        if (strcmp((*k)->name, name) == 0)
            return *k;
    return NULL;
}

/* Closes the first n of fds that are open, keeping errno; -1. */
static int fail_closing(int *fds, int n)
{
    int e = errno ? errno : EIO;
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    errno = e;
    return -1;
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

/* The pair in creation order becomes {a, b}, swapped if the kind says so. */
static int finish(struct chan *c, int first, int second)
{
    int fds[2] = {first, second};
    if (set_flags(first, c->kind->nonblock) < 0 || set_flags(second, c->kind->nonblock) < 0)
        return fail_closing(fds, 2);
    c->a = c->kind->swapped ? second : first;
    c->b = c->kind->swapped ? first : second;
    return 0;
}

static int open_socketpair(struct chan *c)
{
    int sv[2], type = c->kind->type;
#ifdef SOCKSPEC_HAVE_SOCK_NONBLOCK
    if (c->kind->nonblock)
        type |= SOCK_NONBLOCK; /* set_flags then finds O_NONBLOCK already on */
#endif
    if (socketpair(AF_UNIX, type, 0, sv) < 0)
        return -1;
    return finish(c, sv[0], sv[1]);
}

static int open_pipe(struct chan *c)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    return finish(c, p[1], p[0]);
}

/* The address of name: in c's scratch directory, or in the abstract namespace. */
static socklen_t unix_addr(struct chan *c, struct sockaddr_un *sun, const char *name)
{
    if (c->kind->origin == ORIGIN_ABSTRACT)
        return scratch_abstract_addr(name, sun);
    return scratch_unix_addr(&c->dir, name, sun);
}

static int bind_name(struct chan *c, int fd, const char *name)
{
    struct sockaddr_un sun;
    socklen_t len = unix_addr(c, &sun, name);
    return len == 0 ? -1 : bind(fd, (struct sockaddr *)&sun, len);
}

static int connect_name(struct chan *c, int fd, const char *name)
{
    struct sockaddr_un sun;
    socklen_t len = unix_addr(c, &sun, name);
    return len == 0 ? -1 : connect(fd, (struct sockaddr *)&sun, len);
}

static int unix_dgram_pair(struct chan *c)
{
    int fds[2] = {socket(AF_UNIX, SOCK_DGRAM, 0), socket(AF_UNIX, SOCK_DGRAM, 0)};
    if (fds[0] < 0 || fds[1] < 0 || bind_name(c, fds[0], "a") < 0 ||
        bind_name(c, fds[1], "b") < 0 || connect_name(c, fds[0], "b") < 0 ||
        connect_name(c, fds[1], "a") < 0)
        return fail_closing(fds, 2);
    return finish(c, fds[0], fds[1]);
}

static int unix_conn_pair(struct chan *c)
{
    int fds[3] = {socket(AF_UNIX, c->kind->type, 0), socket(AF_UNIX, c->kind->type, 0), -1};
    if (fds[0] < 0 || fds[1] < 0 || bind_name(c, fds[0], "l") < 0 || listen(fds[0], 1) < 0 ||
        connect_name(c, fds[1], "l") < 0 || (fds[2] = accept(fds[0], NULL, NULL)) < 0)
        return fail_closing(fds, 3);
    close(fds[0]);
    return finish(c, fds[1], fds[2]);
}

static int open_unix_named(struct chan *c)
{
    if (c->kind->origin == ORIGIN_FS && scratch_dir_make(&c->dir) < 0)
        return -1;
    return c->kind->type == SOCK_DGRAM ? unix_dgram_pair(c) : unix_conn_pair(c);
}

static int bound_loopback(int domain, int type, struct sockaddr_storage *ss, socklen_t *len)
{
    int fd = socket(domain, type, 0);
    *len = scratch_loopback_addr(domain, 0, ss);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)ss, *len) < 0 ||
        getsockname(fd, (struct sockaddr *)ss, len) < 0)
        return fail_closing(&fd, 1);
    return fd;
}

static int open_inet(struct chan *c)
{
    int d = c->kind->domain;
    struct sockaddr_storage sa, sb;
    socklen_t la, lb;
    int fds[3] = {bound_loopback(d, c->kind->type, &sa, &la), -1, -1};
    if (fds[0] < 0)
        return -1;
    if (c->kind->type == SOCK_DGRAM) {
        fds[1] = bound_loopback(d, SOCK_DGRAM, &sb, &lb);
        if (fds[1] < 0 || connect(fds[0], (struct sockaddr *)&sb, lb) < 0 ||
            connect(fds[1], (struct sockaddr *)&sa, la) < 0)
            return fail_closing(fds, 3);
        return finish(c, fds[0], fds[1]);
    }
    fds[1] = socket(d, SOCK_STREAM, 0);
    if (fds[1] < 0 || listen(fds[0], 1) < 0 || connect(fds[1], (struct sockaddr *)&sa, la) < 0 ||
        (fds[2] = accept(fds[0], NULL, NULL)) < 0)
        return fail_closing(fds, 3);
    close(fds[0]);
    return finish(c, fds[1], fds[2]);
}

int kind_open(struct chan *c)
{
    c->a = c->b = c->listener = -1;
    c->dir.path[0] = '\0';
    errno = 0;
    int r = 0;
    switch (c->kind->origin) {
    case ORIGIN_NONE:
        break;
    case ORIGIN_SOCKETPAIR:
        r = open_socketpair(c);
        break;
    case ORIGIN_FS:
    case ORIGIN_ABSTRACT:
        r = open_unix_named(c);
        break;
    case ORIGIN_INET:
        r = open_inet(c);
        break;
    case ORIGIN_PIPE:
        r = open_pipe(c);
        break;
    }
    if (r < 0) {
        int e = errno;
        kind_close(c);
        errno = e;
    }
    return r;
}

void kind_close(struct chan *c)
{
    static const char *const names[] = {"a", "b", "l"};
    xclose(&c->a);
    xclose(&c->b);
    xclose(&c->listener);
    if (c->dir.path[0] != '\0')
        (void)scratch_dir_remove(&c->dir, names, sizeof names / sizeof names[0]);
    c->dir.path[0] = '\0';
}
