/*
 * Channel kinds: a name and a creator (the gVisor socket-pair model). Each kind makes a
 * connected pair {a, b}; "_sw" kinds swap the two ends, "_nb" kinds are non-blocking.
 * For pipes, a is the write end and b the read end, so the forward direction a -> b works
 * for every kind.
 */
#ifndef SOCKSPEC_KINDS_H
#define SOCKSPEC_KINDS_H

struct chan;

enum kind_origin {
    ORIGIN_NONE,
    ORIGIN_SOCKETPAIR,
    ORIGIN_FS,
    ORIGIN_ABSTRACT,
    ORIGIN_INET,
    ORIGIN_PIPE
};

struct kind {
    const char *name;
    enum kind_origin origin;
    int domain; /* AF_UNIX, AF_INET, AF_INET6; 0 for pipes and "none" */
    int type;   /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET; 0 for pipes and "none" */
    int nonblock;
    int swapped;
    int (*create)(struct chan *c); /* 0, or an errno value */
};

#define SS_KIND_DECL(unused, k) extern const struct kind kind_##k;

/* Leaves: one list per origin and type. */
#define KINDS_SP_STREAM(X, c)                                                                      \
    X(c, sp_stream) X(c, sp_stream_nb) X(c, sp_stream_sw) X(c, sp_stream_nb_sw)
#define KINDS_SP_DGRAM(X, c) X(c, sp_dgram) X(c, sp_dgram_nb) X(c, sp_dgram_sw) X(c, sp_dgram_nb_sw)
#define KINDS_SP_SEQPACKET(X, c)                                                                   \
    X(c, sp_seqpacket) X(c, sp_seqpacket_nb) X(c, sp_seqpacket_sw) X(c, sp_seqpacket_nb_sw)
#define KINDS_FS_STREAM(X, c) X(c, fs_stream) X(c, fs_stream_sw)
#define KINDS_FS_DGRAM(X, c) X(c, fs_dgram) X(c, fs_dgram_sw)
#define KINDS_FS_SEQPACKET(X, c) X(c, fs_seqpacket) X(c, fs_seqpacket_sw)
#define KINDS_ABS_STREAM(X, c) X(c, abs_stream) X(c, abs_stream_sw)
#define KINDS_ABS_DGRAM(X, c) X(c, abs_dgram) X(c, abs_dgram_sw)
#define KINDS_ABS_SEQPACKET(X, c) X(c, abs_seqpacket) X(c, abs_seqpacket_sw)
#define KINDS_TCP(X, c) X(c, tcp4) X(c, tcp6)
#define KINDS_UDP(X, c) X(c, udp4) X(c, udp6)
#define KINDS_PIPE(X, c) X(c, pipe) X(c, pipe_nb)
#define KINDS_NONE(X, c) X(c, none)

/* Unions that checks instantiate over. */
#define KINDS_UNIX_STREAM(X, c) KINDS_SP_STREAM(X, c) KINDS_FS_STREAM(X, c) KINDS_ABS_STREAM(X, c)
#define KINDS_UNIX_DGRAM(X, c) KINDS_SP_DGRAM(X, c) KINDS_FS_DGRAM(X, c) KINDS_ABS_DGRAM(X, c)
#define KINDS_UNIX_SEQPACKET(X, c)                                                                 \
    KINDS_SP_SEQPACKET(X, c) KINDS_FS_SEQPACKET(X, c) KINDS_ABS_SEQPACKET(X, c)
#define KINDS_UNIX_MSG(X, c) KINDS_UNIX_DGRAM(X, c) KINDS_UNIX_SEQPACKET(X, c)
#define KINDS_UNIX_CONN(X, c) KINDS_UNIX_STREAM(X, c) KINDS_UNIX_SEQPACKET(X, c)
#define KINDS_UNIX(X, c) KINDS_UNIX_STREAM(X, c) KINDS_UNIX_MSG(X, c)
#define KINDS_SP(X, c) KINDS_SP_STREAM(X, c) KINDS_SP_DGRAM(X, c) KINDS_SP_SEQPACKET(X, c)
#define KINDS_SP_MSG(X, c) KINDS_SP_DGRAM(X, c) KINDS_SP_SEQPACKET(X, c)
#define KINDS_STREAM(X, c) KINDS_UNIX_STREAM(X, c) KINDS_TCP(X, c)
#define KINDS_BOUNDARY(X, c) KINDS_UNIX_MSG(X, c) KINDS_UDP(X, c)
#define KINDS_SOCKETS(X, c) KINDS_UNIX(X, c) KINDS_TCP(X, c) KINDS_UDP(X, c)
#define KINDS_ALL(X, c) KINDS_SOCKETS(X, c) KINDS_PIPE(X, c)

/* One plain socketpair per type. */
#define KINDS_SP_PLAIN(X, c) X(c, sp_stream) X(c, sp_dgram) X(c, sp_seqpacket)

/* Blocking-only and non-blocking-only subsets of the socketpair kinds. */
#define KINDS_SP_BLOCKING(X, c)                                                                    \
    X(c, sp_stream)                                                                                \
    X(c, sp_stream_sw) X(c, sp_dgram) X(c, sp_dgram_sw) X(c, sp_seqpacket) X(c, sp_seqpacket_sw)
#define KINDS_SP_NONBLOCKING(X, c)                                                                 \
    X(c, sp_stream_nb)                                                                             \
    X(c, sp_stream_nb_sw)                                                                          \
    X(c, sp_dgram_nb) X(c, sp_dgram_nb_sw) X(c, sp_seqpacket_nb) X(c, sp_seqpacket_nb_sw)

KINDS_ALL(SS_KIND_DECL, unused)
KINDS_NONE(SS_KIND_DECL, unused)

/* Builds the pair for c->kind; 0 or an errno value (nothing left open on failure). */
int kind_open(struct chan *c);
/* Closes whatever c still holds; removes scratch paths. */
void kind_close(struct chan *c);

#endif
