/* The transports of a run, in the order they are interleaved. raw-stream is the baseline. */
#include <errno.h>
#include <string.h>

#include "bench.h"

extern const struct transport transport_raw_stream, transport_raw_batch, transport_raw_seqpacket,
    transport_raw_dgram, transport_pipe, transport_frame_stream, transport_frame_seqpacket,
    transport_zmq, transport_nng, transport_raw_seqpacket_mmsg;

const struct transport *const bench_transports[] = {&transport_raw_stream,
                                                    &transport_raw_batch,
                                                    &transport_raw_seqpacket,
#ifdef BENCH_HAVE_MMSG
                                                    &transport_raw_seqpacket_mmsg,
#endif
                                                    &transport_raw_dgram,
                                                    &transport_pipe,
                                                    &transport_frame_stream,
                                                    &transport_frame_seqpacket,
#ifdef BENCH_HAVE_ZMQ
                                                    &transport_zmq,
#endif
#ifdef BENCH_HAVE_NNG
                                                    &transport_nng,
#endif
                                                    NULL};

const struct transport *transport_by_name(const char *name)
{
    for (size_t i = 0; bench_transports[i] != NULL; i++)
        if (strcmp(bench_transports[i]->name, name) == 0)
            return bench_transports[i];
    return NULL;
}

int transport_flush_nothing(struct ep *ep)
{
    (void)ep;
    return 0;
}

int transport_send_unsupported(struct ep *ep, unsigned char *msg, size_t len, int fd)
{
    (void)ep;
    (void)msg;
    (void)len;
    (void)fd;
    errno = ENOTSUP;
    return -1;
}
