/*
 * Channel kinds and every kind list the checks instantiate over (the gVisor socket-pair
 * model: kinds are a table of base kinds composed with variants, not enumerated by hand).
 *
 * A kind builds a connected pair {a, b}: the forward direction a -> b works for every kind (for
 * pipes a is the write end, b the read end). Each base kind is composed with the variants it
 * has: sockets x {blocking, non-blocking} x {as created, ends swapped}, pipes x {blocking,
 * non-blocking}. A kind's name is its base with "_nb" and/or "_sw"; its description is the
 * base's with ", non-blocking" and/or ", ends swapped"; its attributes (what expectation cells
 * select on, see expect.h) are the base's plus "nonblocking" and/or "swapped".
 */
#ifndef SOCKSPEC_KINDS_H
#define SOCKSPEC_KINDS_H

struct chan;

enum kind_origin {
    ORIGIN_NONE,       /* the check builds its own descriptors */
    ORIGIN_SOCKETPAIR, /* socketpair(AF_UNIX, type) */
    ORIGIN_FS,         /* AF_UNIX sockets bound to paths in a scratch directory */
    ORIGIN_ABSTRACT,   /* AF_UNIX sockets bound in the Linux abstract namespace */
    ORIGIN_INET,       /* TCP or UDP over the loopback address */
    ORIGIN_PIPE        /* pipe() */
};

struct kind {
    const char *name;        /* "sp_seqpacket_nb_sw" */
    const char *description; /* "socketpair, SOCK_SEQPACKET, non-blocking, ends swapped" */
    const char *attributes;  /* "unix socketpair seqpacket nonblocking swapped" */
    enum kind_origin origin;
    int domain; /* AF_UNIX, AF_INET, AF_INET6; 0 for pipes and "none" */
    int type;   /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET; 0 for pipes and "none" */
    int nonblock;
    int swapped;
};

/*
 * The base kinds: X(name, origin, domain, type, variants, description, attributes).
 * variants: SOCKET (all four), PIPE (blocking, non-blocking), ONE (as is).
 */
#define SS_BASE_KINDS(X)                                                                           \
    X(sp_stream, SOCKETPAIR, AF_UNIX, SOCK_STREAM, SOCKET, "socketpair, SOCK_STREAM",              \
      "unix socketpair stream")                                                                    \
    X(sp_dgram, SOCKETPAIR, AF_UNIX, SOCK_DGRAM, SOCKET, "socketpair, SOCK_DGRAM",                 \
      "unix socketpair dgram")                                                                     \
    X(sp_seqpacket, SOCKETPAIR, AF_UNIX, SOCK_SEQPACKET, SOCKET, "socketpair, SOCK_SEQPACKET",     \
      "unix socketpair seqpacket")                                                                 \
    X(fs_stream, FS, AF_UNIX, SOCK_STREAM, SOCKET, "AF_UNIX SOCK_STREAM bound to a path",          \
      "unix fs stream")                                                                            \
    X(fs_dgram, FS, AF_UNIX, SOCK_DGRAM, SOCKET, "AF_UNIX SOCK_DGRAM bound to paths",              \
      "unix fs dgram")                                                                             \
    X(fs_seqpacket, FS, AF_UNIX, SOCK_SEQPACKET, SOCKET, "AF_UNIX SOCK_SEQPACKET bound to a path", \
      "unix fs seqpacket")                                                                         \
    X(abs_stream, ABSTRACT, AF_UNIX, SOCK_STREAM, SOCKET,                                          \
      "AF_UNIX SOCK_STREAM with an abstract name", "unix abstract stream")                         \
    X(abs_dgram, ABSTRACT, AF_UNIX, SOCK_DGRAM, SOCKET, "AF_UNIX SOCK_DGRAM with abstract names",  \
      "unix abstract dgram")                                                                       \
    X(abs_seqpacket, ABSTRACT, AF_UNIX, SOCK_SEQPACKET, SOCKET,                                    \
      "AF_UNIX SOCK_SEQPACKET with an abstract name", "unix abstract seqpacket")                   \
    X(tcp4, INET, AF_INET, SOCK_STREAM, SOCKET, "TCP over 127.0.0.1", "inet tcp stream ipv4")      \
    X(tcp6, INET, AF_INET6, SOCK_STREAM, SOCKET, "TCP over ::1", "inet tcp stream ipv6")           \
    X(udp4, INET, AF_INET, SOCK_DGRAM, SOCKET, "UDP over 127.0.0.1", "inet udp dgram ipv4")        \
    X(udp6, INET, AF_INET6, SOCK_DGRAM, SOCKET, "UDP over ::1", "inet udp dgram ipv6")             \
    X(pipe, PIPE, 0, 0, PIPE, "pipe", "pipe")                                                      \
    X(none, NONE, 0, 0, ONE, "no channel: the check builds its own descriptors", "none")

/* The composition: Y(name, origin, domain, type, nonblock, swapped, description, attributes). */
#define SS_VARIANTS_SOCKET(Y, b, o, dom, t, d, a)                                                  \
    Y(b, o, dom, t, 0, 0, d, a)                                                                    \
    Y(b##_nb, o, dom, t, 1, 0, d ", non-blocking", a " nonblocking")                               \
    Y(b##_sw, o, dom, t, 0, 1, d ", ends swapped", a " swapped")                                   \
    Y(b##_nb_sw, o, dom, t, 1, 1, d ", non-blocking, ends swapped", a " nonblocking swapped")
#define SS_VARIANTS_PIPE(Y, b, o, dom, t, d, a)                                                    \
    Y(b, o, dom, t, 0, 0, d, a) Y(b##_nb, o, dom, t, 1, 0, d ", non-blocking", a " nonblocking")
#define SS_VARIANTS_ONE(Y, b, o, dom, t, d, a) Y(b, o, dom, t, 0, 0, d, a)
#define SS_COMPOSE(Y, b, o, dom, t, v, d, a) SS_VARIANTS_##v(Y, b, o, dom, t, d, a)

#define SS_KIND_DECL_(n, o, dom, t, nb, sw, d, a) extern const struct kind kind_##n;
#define SS_COMPOSE_DECL_(b, o, dom, t, v, d, a) SS_COMPOSE(SS_KIND_DECL_, b, o, dom, t, v, d, a)
SS_BASE_KINDS(SS_COMPOSE_DECL_)

/* Every kind, for listing and lookup by name; NULL-terminated. */
extern const struct kind *const kinds_all[];
const struct kind *kind_by_name(const char *name);

/* Builds the pair for c->kind: 0, or -1 with errno (nothing left open on failure). */
int kind_open(struct chan *c);
/* Closes whatever c still holds; removes scratch paths. */
void kind_close(struct chan *c);

/*
 * Kind lists. A list is a macro L(X, c) that applies X(c, kind) to each of its kinds;
 * INSTANTIATE(check, L) makes one instance per kind. Building blocks:
 *   variant selections of a socket base b: all four, as created, blocking, non-blocking, and
 *   REP (as created, plus both variants at once: the cheapest set that still covers each
 *   variant);
 *   per-type groups over the origins (socketpair, path, abstract).
 */
#define SS_ALL_OF(X, c, b) X(c, b) X(c, b##_nb) X(c, b##_sw) X(c, b##_nb_sw)
#define SS_BLOCKING_OF(X, c, b) X(c, b) X(c, b##_sw)
#define SS_NONBLOCKING_OF(X, c, b) X(c, b##_nb) X(c, b##_nb_sw)
#define SS_REP_OF(X, c, b) X(c, b) X(c, b##_nb_sw)

/* No channel; pipes; loopback IP. */
#define KINDS_NONE(X, c) X(c, none)
#define KINDS_PIPE(X, c) X(c, pipe)
#define KINDS_PIPE_NB(X, c) X(c, pipe_nb)
#define KINDS_PIPES(X, c) X(c, pipe) X(c, pipe_nb)
#define KINDS_TCP4(X, c) X(c, tcp4)
#define KINDS_TCP(X, c) X(c, tcp4) X(c, tcp6)
#define KINDS_UDP4(X, c) X(c, udp4)
#define KINDS_UDP6(X, c) X(c, udp6)
#define KINDS_UDP(X, c) X(c, udp4) X(c, udp6)

/* Socketpairs: one per type as created; a type with every variant; the blocking and the
 * non-blocking halves; one type's non-blocking half. */
#define KINDS_SP_PLAIN(X, c) X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket)
#define KINDS_SP_STREAM(X, c) SS_ALL_OF(X, c, sp_stream)
#define KINDS_SP_DGRAM(X, c) SS_ALL_OF(X, c, sp_dgram)
#define KINDS_SP_SEQPACKET(X, c) SS_ALL_OF(X, c, sp_seqpacket)
#define KINDS_SP(X, c) KINDS_SP_STREAM(X, c) KINDS_SP_DGRAM(X, c) KINDS_SP_SEQPACKET(X, c)
#define KINDS_SP_BLOCKING(X, c)                                                                    \
    SS_BLOCKING_OF(X, c, sp_stream)                                                                \
    SS_BLOCKING_OF(X, c, sp_dgram) SS_BLOCKING_OF(X, c, sp_seqpacket)
#define KINDS_SP_NONBLOCKING(X, c)                                                                 \
    SS_NONBLOCKING_OF(X, c, sp_stream)                                                             \
    SS_NONBLOCKING_OF(X, c, sp_dgram) SS_NONBLOCKING_OF(X, c, sp_seqpacket)
#define KINDS_SP_STREAM_NB(X, c) SS_NONBLOCKING_OF(X, c, sp_stream)
#define KINDS_SP_SEQPACKET_NB(X, c) SS_NONBLOCKING_OF(X, c, sp_seqpacket)

/* Blocking pairs of one type: both socketpair ends and a path-bound pair. */
#define SS_BL_(X, c, t) SS_BLOCKING_OF(X, c, sp_##t) X(c, fs_##t)
#define KINDS_BL_STREAM(X, c) SS_BL_(X, c, stream)
#define KINDS_BL_DGRAM(X, c) SS_BL_(X, c, dgram)
#define KINDS_BL_SEQPACKET(X, c) SS_BL_(X, c, seqpacket)

/* One type over the origins: REP is a socketpair (as created and with both variants) and a
 * path-bound pair; SPREAD adds the swapped path pair and both abstract pairs, so that every
 * origin and every variant is met at least once. */
#define SS_REP_(X, c, t) SS_REP_OF(X, c, sp_##t) X(c, fs_##t)
#define SS_SPREAD_(X, c, t) SS_REP_(X, c, t) X(c, fs_##t##_sw) SS_BLOCKING_OF(X, c, abs_##t)
#define KINDS_REP_STREAM(X, c) SS_REP_(X, c, stream)
#define KINDS_REP_DGRAM(X, c) SS_REP_(X, c, dgram)
#define KINDS_REP_SEQPACKET(X, c) SS_REP_(X, c, seqpacket)
#define KINDS_SPREAD_STREAM(X, c) SS_SPREAD_(X, c, stream)
#define KINDS_SPREAD_DGRAM(X, c) SS_SPREAD_(X, c, dgram)
#define KINDS_SPREAD_SEQPACKET(X, c) SS_SPREAD_(X, c, seqpacket)

/* Every AF_UNIX kind: each socketpair variant, and each path and abstract pair both ways. */
#define SS_UNIX_(X, c, t)                                                                          \
    SS_ALL_OF(X, c, sp_##t) SS_BLOCKING_OF(X, c, fs_##t) SS_BLOCKING_OF(X, c, abs_##t)
#define KINDS_UNIX(X, c) SS_UNIX_(X, c, stream) SS_UNIX_(X, c, dgram) SS_UNIX_(X, c, seqpacket)

/*
 * Mixed samples, for behaviours that should not depend on the origin or the variant: a few
 * kinds that together meet several origins and variants, cheaper than a product. A check only
 * runs on kinds whose origin, type and blocking mode it was written for.
 */
/* One message kind per origin. */
#define KINDS_MIX_MSG_ONE(X, c)                                                                    \
    X(c, sp_dgram) X(c, sp_seqpacket_nb_sw) X(c, fs_dgram_sw) X(c, abs_seqpacket) X(c, udp4)
/* AF_UNIX message kinds: both socketpair types as created and non-blocking swapped, a path
 * and an abstract pair. */
#define KINDS_MIX_MSG_UNIX(X, c)                                                                   \
    SS_REP_OF(X, c, sp_dgram) SS_REP_OF(X, c, sp_seqpacket) X(c, fs_dgram_sw) X(c, abs_seqpacket)
/* Blocking message kinds: both socketpair types and a path pair; with UDP. */
#define KINDS_MIX_MSG_BLOCKING(X, c) X(c, sp_dgram) X(c, sp_seqpacket) X(c, fs_dgram_sw)
#define KINDS_MIX_MSG_BLOCKING_IP(X, c)                                                            \
    X(c, sp_dgram) X(c, sp_seqpacket_sw) X(c, fs_dgram) X(c, udp4)
#define KINDS_MIX_MSG_IP(X, c) X(c, sp_dgram) X(c, sp_seqpacket_sw) X(c, fs_dgram_sw) X(c, udp4)
/* The datagram and the seqpacket socketpair as created. */
#define KINDS_SP_MSG_PLAIN(X, c) X(c, sp_dgram) X(c, sp_seqpacket)
/* The stream socketpair alone; with the datagram one. */
#define KINDS_SP_STREAM_ONLY(X, c) X(c, sp_stream)
#define KINDS_SP_STREAM_DGRAM(X, c) X(c, sp_stream) X(c, sp_dgram)
/* Each socketpair type once, variants rotating. */
#define KINDS_MIX_SP(X, c) X(c, sp_stream) X(c, sp_dgram_nb) X(c, sp_seqpacket_sw)
/* STREAM: a socketpair and a swapped path pair; REP plus an abstract pair. */
#define KINDS_MIX_STREAM_TWO(X, c) X(c, sp_stream) X(c, fs_stream_sw)
#define KINDS_MIX_STREAM(X, c) KINDS_REP_STREAM(X, c) X(c, abs_stream_sw)
/* Blocking byte streams: a socketpair both ways, path and abstract pairs, TCP. */
#define KINDS_MIX_STREAM_BLOCKING(X, c)                                                            \
    SS_BLOCKING_OF(X, c, sp_stream) X(c, fs_stream_sw) X(c, abs_stream) X(c, tcp4)
/* Byte streams of every origin, a pipe included; with both pipes and non-blocking ends, for
 * bulk transfers. */
#define KINDS_MIX_BYTESTREAMS(X, c) X(c, sp_stream) X(c, fs_stream_sw) X(c, tcp6) X(c, pipe)
#define KINDS_MIX_BULK(X, c) SS_REP_OF(X, c, sp_stream) X(c, fs_stream) X(c, tcp6) KINDS_PIPES(X, c)
/* SEQPACKET: a socketpair as created and with both variants, a swapped path pair; blocking: a
 * socketpair both ways and an abstract pair. */
#define KINDS_MIX_SEQPACKET(X, c) SS_REP_OF(X, c, sp_seqpacket) X(c, fs_seqpacket_sw)
#define KINDS_MIX_SEQPACKET_BLOCKING(X, c) SS_BLOCKING_OF(X, c, sp_seqpacket) X(c, abs_seqpacket)
/* Connected kinds: stream and seqpacket over the origins, TCP. */
#define KINDS_MIX_CONN(X, c)                                                                       \
    SS_REP_OF(X, c, sp_stream)                                                                     \
    X(c, fs_stream) X(c, sp_seqpacket_nb_sw) X(c, abs_seqpacket) X(c, tcp4)
/* Blocking connected AF_UNIX kinds. */
#define KINDS_MIX_CONN_BLOCKING(X, c)                                                              \
    SS_BLOCKING_OF(X, c, sp_stream) X(c, sp_seqpacket) X(c, fs_stream) X(c, abs_seqpacket_sw)
/* Connected kinds and a pipe: ends that can hang up. */
#define KINDS_MIX_CONN_PIPE(X, c)                                                                  \
    SS_REP_OF(X, c, sp_stream) X(c, sp_seqpacket) X(c, fs_seqpacket_sw) X(c, abs_stream) X(c, pipe)
/* Blocking ends that can be shared by a child: socketpairs, a path pair, TCP, a pipe. */
#define KINDS_MIX_BLOCKING_ENDS(X, c)                                                              \
    SS_BLOCKING_OF(X, c, sp_stream) X(c, sp_seqpacket) X(c, fs_stream) X(c, tcp4) X(c, pipe)
#define KINDS_MIX_FORKED(X, c) X(c, sp_stream) X(c, sp_seqpacket_sw) X(c, fs_stream) X(c, pipe)
/* Connected sockets that shutdown() acts on. */
#define KINDS_MIX_SHUTDOWN(X, c) X(c, sp_stream) X(c, sp_seqpacket) X(c, fs_stream_sw) X(c, tcp6)
/* AF_UNIX: each type once per origin, variants rotating. */
#define KINDS_MIX_UNIX(X, c)                                                                       \
    X(c, sp_stream)                                                                                \
    X(c, sp_dgram_nb) X(c, sp_seqpacket_sw) X(c, fs_stream_sw) X(c, fs_dgram) X(c, abs_seqpacket)
/* Blocking sockets of every family. */
#define KINDS_MIX_SOCKETS_BLOCKING(X, c)                                                           \
    X(c, sp_stream) X(c, sp_dgram_sw) X(c, sp_seqpacket) X(c, fs_stream_sw) X(c, tcp4) X(c, udp4)
/* One of each: the socketpair types, a path and an abstract pair, TCP and UDP. */
#define KINDS_MIX_ONE(X, c)                                                                        \
    KINDS_SP_PLAIN(X, c) X(c, fs_stream) X(c, abs_dgram) X(c, tcp6) X(c, udp4)
/* Each type of queue once, blocking: the socketpair types, a path pair, TCP, UDP, a pipe. */
#define KINDS_MIX_QUEUES(X, c)                                                                     \
    KINDS_SP_PLAIN(X, c) X(c, fs_dgram_sw) X(c, tcp6) X(c, udp4) X(c, pipe)
/* Every origin once, a non-blocking pipe included; and with both pipes. */
#define KINDS_MIX_EVERY_ORIGIN(X, c)                                                               \
    X(c, sp_stream)                                                                                \
    X(c, sp_dgram_nb)                                                                              \
    X(c, sp_seqpacket_sw) X(c, fs_stream_sw) X(c, abs_dgram) X(c, tcp4) X(c, udp6) X(c, pipe_nb)
#define KINDS_MIX_EVERYTHING(X, c)                                                                 \
    X(c, sp_stream)                                                                                \
    X(c, sp_dgram_sw)                                                                              \
    X(c, sp_seqpacket_nb) X(c, fs_stream_sw) X(c, abs_dgram) X(c, tcp4) X(c, udp6) KINDS_PIPES(X, c)
/* Non-blocking ends of every type and a non-blocking pipe. */
#define KINDS_MIX_NONBLOCKING(X, c)                                                                \
    X(c, sp_stream_nb) X(c, sp_dgram_nb_sw) X(c, sp_seqpacket_nb) X(c, pipe_nb)

/* Everything: every AF_UNIX kind, loopback IP, pipes. */
#define KINDS_SOCKETS(X, c) KINDS_UNIX(X, c) KINDS_TCP(X, c) KINDS_UDP(X, c)
#define KINDS_ALL(X, c) KINDS_SOCKETS(X, c) KINDS_PIPES(X, c)

/* Lists of the sockopt, ioctl, waiters, msghdr, listen and names checks. */
/* SO_RCVLOWAT: byte streams of every origin (a non-blocking one included) and message kinds;
 * the blocking ones, for a receive that waits. */
#define KINDS_SOCKOPT_LOWAT(X, c)                                                                  \
    X(c, sp_stream)                                                                                \
    X(c, sp_stream_nb_sw)                                                                          \
    X(c, fs_stream_sw) X(c, abs_stream) X(c, tcp4) X(c, sp_dgram) X(c, sp_seqpacket_nb) X(c, udp6)
#define KINDS_SOCKOPT_LOWAT_BLOCKING(X, c)                                                         \
    X(c, sp_stream) X(c, fs_stream_sw) X(c, tcp6) X(c, sp_dgram) X(c, sp_seqpacket)
/* Urgent data: AF_UNIX byte streams and TCP. */
#define KINDS_SOCKOPT_OOB(X, c) X(c, sp_stream) X(c, sp_stream_nb_sw) X(c, fs_stream_sw) X(c, tcp4)
/* Buffers filled and drained: each AF_UNIX type, socketpair and path pairs. */
#define KINDS_SOCKOPT_FILL(X, c)                                                                   \
    X(c, sp_stream_nb) X(c, sp_dgram_nb) X(c, sp_seqpacket_nb_sw) X(c, fs_stream) X(c, fs_dgram_sw)
/* SO_PEEK_OFF: each AF_UNIX type, TCP and UDP. */
#define KINDS_SOCKOPT_PEEK_OFF(X, c)                                                               \
    X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket_sw) X(c, fs_stream_nb) X(c, tcp4) X(c, udp4)
/* SO_LINGER: connected AF_UNIX kinds and TCP. */
#define KINDS_SOCKOPT_LINGER(X, c)                                                                 \
    X(c, sp_stream) X(c, sp_seqpacket) X(c, fs_stream_sw) X(c, abs_seqpacket) X(c, tcp4)

/* Fresh sockets of each type (the check makes its own of the kind's domain and type). */
#define KINDS_IOCTL_TYPES(X, c) KINDS_SP_PLAIN(X, c) X(c, tcp4) X(c, udp6)
/* Listeners of each connected type and origin. */
#define KINDS_IOCTL_LISTENERS(X, c) X(c, fs_stream) X(c, abs_seqpacket) X(c, tcp4)
/* Receivers holding data: every origin, a pipe included; then the sockets alone. */
#define KINDS_IOCTL_QUEUED(X, c)                                                                   \
    X(c, sp_stream)                                                                                \
    X(c, sp_dgram) X(c, sp_seqpacket_sw) X(c, fs_stream_sw) X(c, tcp6) X(c, udp4) X(c, pipe)
#define KINDS_IOCTL_SOCKETS(X, c)                                                                  \
    X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket) X(c, fs_dgram_sw) X(c, tcp4) X(c, udp6)
/* Output queues: AF_UNIX only (a TCP queue empties when the loopback peer acknowledges). */
#define KINDS_IOCTL_OUTQ(X, c)                                                                     \
    X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket) X(c, fs_stream_sw) X(c, fs_dgram)
#define KINDS_IOCTL_SP(X, c) KINDS_SP_PLAIN(X, c)

/* Waiters block, so their ends are blocking: readers of every origin and type; readers whose
 * own descriptor closes; writers on a full buffer (TCP's autotuned buffers take too long to
 * fill); pollers of every origin, non-blocking ends included. */
#define KINDS_WAITERS_READ(X, c)                                                                   \
    SS_BLOCKING_OF(X, c, sp_stream)                                                                \
    X(c, sp_dgram)                                                                                 \
    X(c, sp_seqpacket) X(c, fs_stream_sw) X(c, fs_dgram) X(c, abs_seqpacket) X(c, tcp6) X(c, udp4)
#define KINDS_WAITERS_OWN_CLOSE(X, c)                                                              \
    X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket) X(c, fs_stream) X(c, tcp4) X(c, pipe)
#define KINDS_WAITERS_WRITE_SOCKETS(X, c)                                                          \
    X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket) X(c, fs_stream_sw) X(c, fs_dgram)
#define KINDS_WAITERS_WRITE(X, c) KINDS_WAITERS_WRITE_SOCKETS(X, c) X(c, pipe)
#define KINDS_WAITERS_POLL(X, c)                                                                   \
    X(c, sp_stream)                                                                                \
    X(c, sp_dgram_nb)                                                                              \
    X(c, sp_seqpacket_sw) X(c, fs_stream) X(c, abs_dgram) X(c, tcp4) X(c, udp6) X(c, pipe_nb)

/* msghdr edge cases: each AF_UNIX type, a path pair, TCP and UDP; for names, every origin. */
#define KINDS_MSGHDR_SOCKETS(X, c)                                                                 \
    X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket_sw) X(c, fs_dgram) X(c, tcp4) X(c, udp6)
#define KINDS_MSGHDR_NAMES(X, c)                                                                   \
    KINDS_SP_PLAIN(X, c)                                                                           \
    X(c, fs_stream) X(c, fs_dgram_sw) X(c, abs_dgram) X(c, abs_seqpacket) X(c, tcp4) X(c, udp6)

/* Listeners closed with connections pending: each connected type and origin, TCP over both
 * families; AF_UNIX alone where connect waits on a full backlog. */
#define KINDS_LISTEN_UNIX(X, c)                                                                    \
    X(c, fs_stream) X(c, abs_stream) X(c, fs_seqpacket) X(c, abs_seqpacket)
#define KINDS_LISTEN(X, c) KINDS_LISTEN_UNIX(X, c) X(c, tcp4) X(c, tcp6)

#endif
