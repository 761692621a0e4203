/* ZeroMQ PAIR over ipc://, with its defaults: zmq_send copies, zmq_msg_recv hands over. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#include "bench.h"

struct ep {
    void *ctx, *sock;
    zmq_msg_t msg;
    int have_msg;
};

static int open_ep(struct link *lk, int side, const struct job *job, struct ep **out)
{
    struct ep *ep = calloc(1, sizeof(*ep));
    char url[160];
    int r;

    (void)job;
    if (ep == NULL)
        return -1;
    snprintf(url, sizeof url, "ipc://%s", lk->path);
    if ((ep->ctx = zmq_ctx_new()) == NULL || (ep->sock = zmq_socket(ep->ctx, ZMQ_PAIR)) == NULL)
        goto fail;
    r = side == SIDE_RX ? zmq_bind(ep->sock, url) : zmq_connect(ep->sock, url);
    if (r == -1)
        goto fail;
    *out = ep;
    return 0;
fail:
    if (ep->sock != NULL)
        (void)zmq_close(ep->sock);
    if (ep->ctx != NULL)
        (void)zmq_ctx_term(ep->ctx);
    free(ep);
    return -1;
}

static void close_ep(struct ep *ep)
{
    int zero = 0;

    if (ep->have_msg)
        (void)zmq_msg_close(&ep->msg);
    (void)zmq_setsockopt(ep->sock, ZMQ_LINGER, &zero, sizeof zero);
    (void)zmq_close(ep->sock);
    (void)zmq_ctx_term(ep->ctx);
    free(ep);
}

static int send_msg(struct ep *ep, unsigned char *msg, size_t len, int fd)
{
    int n;

    (void)fd;
    while ((n = zmq_send(ep->sock, msg, len, 0)) == -1 && errno == EINTR)
        ;
    return n == (int)len ? 0 : -1;
}

static int recv_msg(struct ep *ep, struct rmsg *m)
{
    int n;

    if (ep->have_msg)
        (void)zmq_msg_close(&ep->msg);
    (void)zmq_msg_init(&ep->msg);
    ep->have_msg = 1;
    while ((n = zmq_msg_recv(&ep->msg, ep->sock, 0)) == -1 && errno == EINTR)
        ;
    if (n == -1)
        return -1;
    m->data = zmq_msg_data(&ep->msg);
    m->len = zmq_msg_size(&ep->msg);
    m->fd = -1;
    return 0;
}

const struct transport transport_zmq = {"zmq-pair-ipc",
                                        TCAP_THROUGHPUT | TCAP_LATENCY,
                                        link_prepare_ipc,
                                        open_ep,
                                        send_msg,
                                        transport_flush_nothing,
                                        recv_msg,
                                        close_ep,
                                        NULL};
