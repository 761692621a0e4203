/* Bidirectionality: which directions carry data, and what shutdown() of one direction does. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define CATEGORY bidir

static void round_trip(struct chan *c, int from, int to)
{
    char out[64], in[64];
    fill_pattern(out, sizeof out, (uint32_t)from);
    xsend_all(from, out, sizeof out);
    xrecv_exact(to, in, sizeof in);
    outcome(c, "%s", memcmp(in, out, sizeof in) == 0 ? "ok" : "corrupted");
}

/* a -> b delivers the bytes unchanged on every kind. */
CHECK(forward_delivers)
{
    round_trip(c, c->a, c->b);
}
INSTANTIATE(forward_delivers, KINDS_ALL)

/* b -> a delivers too: the two socket ends are indistinguishable. */
CHECK(reverse_delivers)
{
    round_trip(c, c->b, c->a);
}
INSTANTIATE(reverse_delivers, KINDS_SOCKETS)

/* Writing a pipe's read end: EBADF where pipes are one-way, accepted on FreeBSD. */
CHECK(pipe_write_read_end)
{
    ssize_t r = write(c->b, "x", 1);
    outcome(c, "%s", r == 1 ? "ok" : errno_name(errno));
}
INSTANTIATE(pipe_write_read_end, KINDS_PIPE)
