/* sockspec-bench: shared types. One transport per file, one concern per file. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Bytes every send buffer offers in front of the payload (room for a length prefix). */
#define BENCH_HEADROOM 64

enum bench_side { SIDE_TX = 0, SIDE_RX = 1 };
enum bench_kind { KIND_THROUGHPUT, KIND_LATENCY, KIND_FDPASS, KIND_COUNT };

/* What a transport takes part in. */
#define TCAP_THROUGHPUT 0x1u
#define TCAP_LATENCY 0x2u
#define TCAP_FDS 0x4u

/* The two ends, made by the parent before fork: fd[side][0] reads, fd[side][1] writes. */
struct link {
    int fd[2][2];
    char path[108]; /* ipc:// socket path, "" if none */
};

/* A received message: a view valid until the next recv on the endpoint. */
struct rmsg {
    const unsigned char *data;
    size_t len;
    int fd; /* descriptor that came with it, -1 if none */
};

struct ep; /* a transport's per-process state */
struct job;

struct transport {
    const char *name;
    unsigned caps;
    /* Parent: makes the link for messages up to max_payload; -1/EMSGSIZE if it cannot. */
    int (*prepare)(struct link *lk, size_t max_payload);
    /* Child: opens its side. SIDE_RX opens first (it binds, listens). */
    int (*open)(struct link *lk, int side, const struct job *job, struct ep **ep);
    /* One message; msg has BENCH_HEADROOM writable bytes in front. May queue until flush. */
    int (*send)(struct ep *ep, unsigned char *msg, size_t len, int fd);
    int (*flush)(struct ep *ep);
    int (*recv)(struct ep *ep, struct rmsg *m);
    void (*close)(struct ep *ep);
    /* Optional: the whole sending side of a throughput run (the ceiling builds its batches). */
    int (*stream_tx)(struct ep *ep, const struct job *job);
};

struct job {
    const struct transport *t;
    enum bench_kind kind;
    size_t payload;
    uint64_t count;  /* messages (throughput, fdpass) or timed round trips (latency) */
    uint64_t warmup; /* untimed round trips before the timed ones */
};

/* What one child reports to the parent through a pipe. */
struct child_result {
    int ok;
    char err[200];
    int64_t t_start, t_end; /* CLOCK_MONOTONIC ns */
    double rtt_p50_ns, rtt_p99_ns;
};

/* One run as the parent saw it. */
struct run_result {
    int ok;
    char err[240];
    double seconds;
    double rtt_p50_ns, rtt_p99_ns;
    long rss_tx_kib, rss_rx_kib;
};

/* clock.c */
int64_t bench_now_ns(void);

/* pin.c: the calling child onto its side's CPU (0 receiver, 1 sender): 0, or -1 if unpinned. */
int bench_pin(int side);
void bench_pin_describe(char *buf, size_t len);

/* payload.c: message content is a pattern with the sequence number in the first and
 * (inverted) the last 8 bytes; receivers check both and a checksum of the rest. */
#define BENCH_MIN_PAYLOAD 16
void payload_fill(unsigned char *p, size_t len);
void payload_stamp(unsigned char *p, size_t len, uint64_t seq);
uint64_t payload_checksum(const unsigned char *p, size_t len);
struct payload_check {
    size_t len;
    uint64_t middle_sum;
};
int payload_check_init(struct payload_check *pc, size_t len);
int payload_verify(const struct payload_check *pc, const unsigned char *p, size_t len, uint64_t seq,
                   char *err, size_t errlen);

/* link.c */
void link_init(struct link *lk);
int link_socketpair(struct link *lk, int type, size_t max_msg);
int link_pipes(struct link *lk);
int link_ipc_path(struct link *lk);
/* A transport's prepare for ipc:// transports: the path, whatever the payload. */
int link_prepare_ipc(struct link *lk, size_t max_payload);
void link_keep_side(struct link *lk, int side);
void link_close_fds(struct link *lk);
void link_release(struct link *lk);
int bench_wait_fd(int fd, short events);
int bench_set_nonblock(int fd);
/* Writes all n bytes, retrying on EINTR and short writes: 0, or -1 with errno. */
int bench_write_all(int fd, const unsigned char *p, size_t n);

/* roles.c: the generic loops each child runs. */
int role_run(const struct job *job, struct ep *ep, int side, struct child_result *res);

/* proc.c: one run in two fresh processes. */
void proc_run(const struct job *job, int timeout_s, struct run_result *out);

/* transports.c */
extern const struct transport *const bench_transports[];
const struct transport *transport_by_name(const char *name);
/* The flush of transports that never queue: nothing to do. */
int transport_flush_nothing(struct ep *ep);
/* The send of transports whose sender is stream_tx only: -1/ENOTSUP. */
int transport_send_unsupported(struct ep *ep, unsigned char *msg, size_t len, int fd);

/* stats.c */
double stats_median(double *v, size_t n);
double stats_percentile(double *v, size_t n, double p);
double stats_spread(double *v, size_t n);

/* decode_bench.c: frames/s of the decoder from memory vs memcpy of the same bytes. */
struct decode_result {
    int ok;
    char err[160];
    double frames_per_s, mb_per_s;
};
enum decode_mode {
    DECODE_MEMCPY,
    DECODE_NEXT,
    DECODE_BATCH_NEXT,
    DECODE_INPLACE_BATCH_NEXT,
    DECODE_MODES
};
extern const char *const decode_mode_name[DECODE_MODES];
void decode_run(enum decode_mode mode, size_t payload, double target_s, struct decode_result *out);

#endif
