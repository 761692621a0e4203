/* nng pair1 over ipc://. Its defaults except: no receive size limit, and send and receive
 * buffers of 1000 messages like ZeroMQ's default high-water marks (nng's default of none makes
 * every send a hand-off between threads). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "bench.h"

#define NNG_BUFFER_MSGS 1000

struct ep {
    nng_socket sock;
    nng_msg *msg;
};

/* nng reports its own error numbers: show them and fail with EIO. */
static int nng_fail(const char *what, int rv)
{
    fprintf(stderr, "nng %s: %s\n", what, nng_strerror(rv));
    errno = EIO;
    return -1;
}

static int open_ep(struct link *lk, int side, const struct job *job, struct ep **out)
{
    struct ep *ep = calloc(1, sizeof(*ep));
    char url[160];
    int rv;

    (void)job;
    if (ep == NULL)
        return -1;
    snprintf(url, sizeof url, "ipc://%s", lk->path);
    if ((rv = nng_pair1_open(&ep->sock)) != 0) {
        free(ep);
        return nng_fail("open", rv);
    }
    if ((rv = nng_socket_set_size(ep->sock, NNG_OPT_RECVMAXSZ, 0)) != 0 ||
        (rv = nng_socket_set_int(ep->sock, NNG_OPT_SENDBUF, NNG_BUFFER_MSGS)) != 0 ||
        (rv = nng_socket_set_int(ep->sock, NNG_OPT_RECVBUF, NNG_BUFFER_MSGS)) != 0 ||
        (rv = side == SIDE_RX ? nng_listen(ep->sock, url, NULL, 0)
                              : nng_dial(ep->sock, url, NULL, 0)) != 0) {
        (void)nng_close(ep->sock);
        free(ep);
        return nng_fail(side == SIDE_RX ? "listen" : "dial", rv);
    }
    *out = ep;
    return 0;
}

static void close_ep(struct ep *ep)
{
    if (ep->msg != NULL)
        nng_msg_free(ep->msg);
    (void)nng_close(ep->sock);
    free(ep);
}

static int send_msg(struct ep *ep, unsigned char *msg, size_t len, int fd)
{
    int rv;

    (void)fd;
    if ((rv = nng_send(ep->sock, msg, len, 0)) != 0)
        return nng_fail("send", rv);
    return 0;
}

static int recv_msg(struct ep *ep, struct rmsg *m)
{
    int rv;

    if (ep->msg != NULL)
        nng_msg_free(ep->msg);
    ep->msg = NULL;
    if ((rv = nng_recvmsg(ep->sock, &ep->msg, 0)) != 0)
        return nng_fail("recv", rv);
    m->data = nng_msg_body(ep->msg);
    m->len = nng_msg_len(ep->msg);
    m->fd = -1;
    return 0;
}

const struct transport transport_nng = {"nng-pair1-ipc",
                                        TCAP_THROUGHPUT | TCAP_LATENCY,
                                        link_prepare_ipc,
                                        open_ep,
                                        send_msg,
                                        transport_flush_nothing,
                                        recv_msg,
                                        close_ep,
                                        NULL};
