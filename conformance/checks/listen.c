/*
 * A listener closed with connections still pending (connected, never accepted): what each
 * client then sees from recv, send, poll, SO_ERROR and getpeername; a client reader or
 * connector already blocked when it closes; a connection accepted earlier. Each check builds
 * its own listener of the kind's domain, type and origin (the kind's own pair is not used).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"

#define CATEGORY listen

struct pending {
    int listener;
    int client;
    struct scratch_dir dir;
    struct sockaddr_storage addr;
    socklen_t len;
};

/* A listener with one connected client it never accepts. */
static void pending_open(struct chan *c, struct pending *p)
{
    p->listener = listener_open(c, &p->dir, 4, &p->addr, &p->len);
    p->client = client_connect(c, &p->addr, p->len);
    if (p->client < 0) {
        int e = errno;
        listener_close(&p->listener, &p->dir);
        REQUIRE(0, "connect: %s", sockspec_errno_name(e));
    }
}

/* Closes the listener (its name stays until pending_done), then waits (bounded) until the
 * client sees an event: loopback TCP delivers the reset asynchronously. */
static void pending_close_listener(struct pending *p)
{
    xclose(&p->listener);
    struct pollfd q = {.fd = p->client, .events = POLLIN};
    (void)poll(&q, 1, 1000);
}

static void pending_done(struct pending *p)
{
    xclose(&p->client);
    listener_close(&p->listener, &p->dir);
}

CHECK(pending_client_recv,
      "A client connected but never accepted when the listener closes: its first two non-blocking "
      "receives, \"<first>,<second>\" (Linux: \"ECONNRESET,0\").")
{
    struct pending p;
    char buf[8];
    pending_open(c, &p);
    pending_close_listener(&p);
    struct ret_str r1 = ret_str(recv(p.client, buf, sizeof buf, MSG_DONTWAIT));
    struct ret_str r2 = ret_str(recv(p.client, buf, sizeof buf, MSG_DONTWAIT));
    outcome(c, "%s,%s", r1.s, r2.s);
    pending_done(&p);
}
INSTANTIATE(pending_client_recv, KINDS_LISTEN)

CHECK(pending_client_send,
      "A client connected but never accepted when the listener closes: its first send (3 bytes), "
      "the count or the errno.")
{
    struct pending p;
    pending_open(c, &p);
    pending_close_listener(&p);
    outcome_ret(c, send(p.client, "abc", 3, MSG_DONTWAIT | ss_nosignal));
    pending_done(&p);
}
INSTANTIATE(pending_client_send, KINDS_LISTEN)

CHECK(pending_client_revents,
      "A client connected but never accepted when the listener closes: poll(POLLIN | POLLOUT) "
      "revents.")
{
    struct pending p;
    char s[64];
    pending_open(c, &p);
    pending_close_listener(&p);
    outcome(c, "%s", revents_str(poll_events(p.client, POLLIN | POLLOUT, 0), s, sizeof s));
    pending_done(&p);
}
INSTANTIATE(pending_client_revents, KINDS_LISTEN)

CHECK(pending_client_so_error,
      "A client connected but never accepted when the listener closes: SO_ERROR (\"0\" or the "
      "errno name).")
{
    struct pending p;
    pending_open(c, &p);
    pending_close_listener(&p);
    int e = xsockopt_int(p.client, SOL_SOCKET, SO_ERROR);
    outcome(c, "%s", e ? sockspec_errno_name(e) : "0");
    pending_done(&p);
}
INSTANTIATE(pending_client_so_error, KINDS_LISTEN)

CHECK(pending_client_getpeername,
      "A client connected but never accepted when the listener closes: getpeername(), the errno "
      "or \"named\" if it still reports the listener's address.")
{
    struct pending p;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    pending_open(c, &p);
    pending_close_listener(&p);
    memset(&ss, 0, sizeof ss);
    int r = getpeername(p.client, (struct sockaddr *)&ss, &len);
    if (r < 0)
        outcome(c, "%s", sockspec_errno_name(errno));
    else
        outcome(c, "%s", len == p.len && memcmp(&ss, &p.addr, len) == 0 ? "named" : "other");
    pending_done(&p);
}
INSTANTIATE(pending_client_getpeername, KINDS_LISTEN)

CHECK(pending_client_blocked_reader,
      "A client connected but never accepted, with a reader blocked in another thread, when the "
      "listener closes: \"woken: <result>\", or \"not woken within 1000 ms\".")
{
    struct pending p;
    struct waiter w;
    pending_open(c, &p);
    waiter_start(&w, WAITER_RECV, p.client, 8, 0);
    if (waiter_blocked(c, &w)) {
        xclose(&p.listener); /* the name stays until pending_done */
        waiter_outcome(c, &w, WAITER_WAKE_MS);
    }
    pending_done(&p);
}
INSTANTIATE(pending_client_blocked_reader, KINDS_LISTEN)

CHECK(accepted_connection_survives,
      "A connection accepted before the listener closes (another one pending) still carries data "
      "both ways after it: \"ok\", or what failed.")
{
    struct pending p;
    char buf[4];
    pending_open(c, &p);
    int server = accept(p.listener, NULL, NULL);
    int second = client_connect(c, &p.addr, p.len);
    int e = errno;
    pending_close_listener(&p);
    if (server < 0 || second < 0) {
        xclose(&server);
        xclose(&second);
        pending_done(&p);
        REQUIRE(0, "accept or second connect: %s", sockspec_errno_name(e));
    }
    xsend_all(p.client, "abc", 3);
    xrecv_exact(server, buf, 3);
    xsend_all(server, "xyz", 3);
    xrecv_exact(p.client, buf, 3);
    outcome(c, "%s", memcmp(buf, "xyz", 3) == 0 ? "ok" : "corrupted");
    xclose(&server);
    xclose(&second);
    pending_done(&p);
}
INSTANTIATE(accepted_connection_survives, KINDS_LISTEN)

#define BACKLOG_TRIES 16

/* Non-blocking connects to addr until one fails: how many succeeded (kept in fds), and the
 * failing connect's errno in *err (0 if all BACKLOG_TRIES succeeded). */
static int fill_backlog(struct chan *c, struct pending *p, int *fds, int *err)
{
    int n = 0;
    *err = 0;
    while (n < BACKLOG_TRIES) {
        int fd = socket(c->kind->domain, c->kind->type, 0);
        REQUIRE(fd >= 0, "socket: %s", sockspec_errno_name(errno));
        xset_nonblock(fd, 1);
        if (connect(fd, (struct sockaddr *)&p->addr, p->len) < 0) {
            *err = errno;
            close(fd);
            break;
        }
        fds[n++] = fd;
    }
    return n;
}

CHECK(connector_blocked_on_full_backlog,
      "AF_UNIX: a blocking connect waiting on a full backlog in another thread when the listener "
      "closes: \"woken: <result>\"; or how a non-blocking connect reports the full backlog.")
{
    struct pending p;
    struct waiter w;
    int fds[BACKLOG_TRIES], err;
    pending_open(c, &p);
    int n = fill_backlog(c, &p, fds, &err);
    if (err != EAGAIN && err != EWOULDBLOCK) {
        outcome(c, "connect on a full backlog: %s", err ? sockspec_errno_name(err) : "never full");
    } else {
        int fd = socket(c->kind->domain, c->kind->type, 0);
        REQUIRE(fd >= 0, "socket: %s", sockspec_errno_name(errno));
        waiter_start_connect(&w, fd, (const struct sockaddr_un *)&p.addr, p.len);
        if (waiter_blocked(c, &w)) {
            xclose(&p.listener); /* the name stays: a woken connect finds it, not ENOENT */
            waiter_outcome(c, &w, WAITER_WAKE_MS);
        }
        xclose(&fd);
    }
    for (int i = 0; i < n; i++)
        xclose(&fds[i]);
    pending_done(&p);
}
INSTANTIATE(connector_blocked_on_full_backlog, KINDS_LISTEN_UNIX)
