/*
 * Waiters: a reader, writer or poller already blocked in another thread when something
 * happens to the channel (the peer closes, shuts down or drains; its own socket is shut down
 * or closed). Each check records whether the waiter was woken within WAITER_WAKE_MS and what
 * its call returned; a waiter that is never woken is interrupted and recorded as such.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_util.h"
#include "harness.h"

#define CATEGORY waiters

/* Bytes a writer sends per call: one message on message kinds, a page on byte streams. */
static size_t chunk_of(const struct chan *c)
{
    return is_message_kind(c) ? 512 : 4096;
}

/* Fills a until a non-blocking write fails (the descriptor's mode is kept). */
static void fill_a(struct chan *c)
{
    int err;
    size_t n = fill_nb(c->a, chunk_of(c), &err);
    REQUIRE(err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS, "fill: %s after %zu bytes",
            err ? sockspec_errno_name(err) : "never full", n);
}

/* Records the waiter's fate after an event whose own result was r (errno e): the event's
 * failure is a precondition, recorded once the waiter is ended. */
static void after_event(struct chan *c, struct waiter *w, int r, int e, const char *event)
{
    waiter_outcome(c, w, WAITER_WAKE_MS);
    errno = e;
    REQUIRE(r == 0, "%s: %s", event, sockspec_errno_name(e));
}

/* Closes *end while w waits, and records what w saw. */
static void close_under(struct chan *c, int *end, struct waiter *w)
{
    int r = close(*end);
    int e = errno;
    *end = -1;
    after_event(c, w, r, e, "close");
}

/* A reader blocked in recv(b) (read() on a pipe) when a's end closes or shuts down. */
static void reader_then(struct chan *c, int how)
{
    struct waiter w;
    waiter_start(&w, WAITER_RECV, c->b, 64, 0);
    if (!waiter_blocked(c, &w))
        return;
    if (how < 0) {
        close_under(c, &c->a, &w);
        return;
    }
    int r = shutdown(c->a, how);
    after_event(c, &w, r, errno, "shutdown");
}

CHECK(reader_woken_by_peer_close,
      "A reader blocked in another thread when the peer closes: \"woken: <result>\" (0: EOF), or "
      "\"not woken within 1000 ms\".")
{
    reader_then(c, -1);
}
INSTANTIATE(reader_woken_by_peer_close, KINDS_WAITERS_READ)
INSTANTIATE(reader_woken_by_peer_close, KINDS_PIPE)

CHECK(
    reader_woken_by_peer_shut_wr,
    "A reader blocked in another thread when the peer shuts down writing: \"woken: <result>\", or "
    "\"not woken within 1000 ms\".")
{
    reader_then(c, SHUT_WR);
}
INSTANTIATE(reader_woken_by_peer_shut_wr, KINDS_WAITERS_READ)

CHECK(reader_woken_by_own_shut_rd,
      "A reader blocked in another thread when its own socket is shut down for reading: \"woken: "
      "<result>\", or \"not woken within 1000 ms\".")
{
    struct waiter w;
    waiter_start(&w, WAITER_RECV, c->b, 64, 0);
    if (!waiter_blocked(c, &w))
        return;
    int r = shutdown(c->b, SHUT_RD);
    after_event(c, &w, r, errno, "shutdown");
}
INSTANTIATE(reader_woken_by_own_shut_rd, KINDS_WAITERS_READ)

/*
 * close() of the descriptor another thread is reading: the kernel keeps the socket while the
 * call holds it, so whether the reader wakes is the OS's choice. The number is free again at
 * once; nothing is opened until the waiter has ended, so it is not reused under the reader.
 */
CHECK(reader_after_own_close,
      "A reader blocked in another thread when its own descriptor is closed: \"woken: <result>\", "
      "or \"not woken within 1000 ms\".")
{
    struct waiter w;
    waiter_start(&w, WAITER_RECV, c->b, 64, 0);
    if (!waiter_blocked(c, &w))
        return;
    close_under(c, &c->b, &w);
}
INSTANTIATE(reader_after_own_close, KINDS_WAITERS_OWN_CLOSE)

/* A writer blocked in send(a) on a full buffer when b closes. */
CHECK(writer_woken_by_peer_close,
      "A writer blocked on a full buffer in another thread when the peer closes: \"woken: "
      "<result>\" (an errno, +SIGPIPE if raised), or \"not woken within 1000 ms\".")
{
    struct waiter w;
    fill_a(c);
    waiter_start(&w, WAITER_SEND, c->a, chunk_of(c), 0);
    if (!waiter_blocked(c, &w))
        return;
    close_under(c, &c->b, &w);
}
INSTANTIATE(writer_woken_by_peer_close, KINDS_WAITERS_WRITE)

CHECK(writer_woken_by_own_shut_wr,
      "A writer blocked on a full buffer in another thread when its own socket is shut down for "
      "writing: \"woken: <result>\", or \"not woken within 1000 ms\".")
{
    struct waiter w;
    fill_a(c);
    waiter_start(&w, WAITER_SEND, c->a, chunk_of(c), 0);
    if (!waiter_blocked(c, &w))
        return;
    int r = shutdown(c->a, SHUT_WR);
    after_event(c, &w, r, errno, "shutdown");
}
INSTANTIATE(writer_woken_by_own_shut_wr, KINDS_WAITERS_WRITE_SOCKETS)

/* Reads n chunks from b without blocking: 0, or -1 with errno. */
static int read_chunks(struct chan *c, size_t n)
{
    char buf[4096];
    size_t len = chunk_of(c);
    for (size_t i = 0; i < n; i++) {
        ssize_t r = read_nb(c, c->b, buf, len, 0);
        if (r != (ssize_t)len) {
            errno = r < 0 ? errno : EIO;
            return -1;
        }
    }
    return 0;
}

CHECK(writer_woken_by_partial_drain,
      "A writer blocked on a full buffer in another thread when the peer reads two of its chunks "
      "(room for one more): \"woken: <result>\", or \"not woken within 1000 ms\".")
{
    struct waiter w;
    fill_a(c);
    waiter_start(&w, WAITER_SEND, c->a, chunk_of(c), 0);
    if (!waiter_blocked(c, &w))
        return;
    int r = read_chunks(c, 2);
    after_event(c, &w, r, errno, "reading two chunks");
}
INSTANTIATE(writer_woken_by_partial_drain, KINDS_WAITERS_WRITE)

CHECK(pollout_woken_by_peer_drain,
      "A poll(POLLOUT) blocked on a full buffer in another thread when the peer reads everything: "
      "\"woken: <revents>\", or \"not woken within 1000 ms\".")
{
    struct waiter w;
    fill_a(c);
    waiter_start(&w, WAITER_POLL, c->a, 0, POLLOUT);
    if (!waiter_blocked(c, &w))
        return;
    int end;
    drain_nb(c, c->b, 0, &end);
    after_event(c, &w, end == EAGAIN || end == EWOULDBLOCK ? 0 : -1, end, "draining");
}
INSTANTIATE(pollout_woken_by_peer_drain, KINDS_WAITERS_WRITE)

CHECK(pollin_woken_by_peer_close,
      "A poll(POLLIN) blocked in another thread when the peer closes: \"woken: <revents>\", or "
      "\"not woken within 1000 ms\".")
{
    struct waiter w;
    waiter_start(&w, WAITER_POLL, c->b, 0, POLLIN);
    if (!waiter_blocked(c, &w))
        return;
    close_under(c, &c->a, &w);
}
INSTANTIATE(pollin_woken_by_peer_close, KINDS_WAITERS_POLL)

CHECK(pollin_woken_by_own_shut_rdwr,
      "A poll(POLLIN) blocked in another thread when its own socket is shut down both ways: "
      "\"woken: <revents>\", or \"not woken within 1000 ms\".")
{
    struct waiter w;
    waiter_start(&w, WAITER_POLL, c->b, 0, POLLIN);
    if (!waiter_blocked(c, &w))
        return;
    int r = shutdown(c->b, SHUT_RDWR);
    after_event(c, &w, r, errno, "shutdown");
}
INSTANTIATE(pollin_woken_by_own_shut_rdwr, KINDS_WAITERS_READ)
