/*
 * frame: typed messages with file descriptors over an AF_UNIX channel.
 *
 * Wire format: frame/FORMAT.md. Manual: frame.3.
 * Errors are -1 with errno set, as in POSIX. A channel or decoder is used by
 * one thread at a time; distinct channels are independent.
 */
#ifndef FRAME_H
#define FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility: only what is marked here is exported. */
#if defined(__GNUC__) || defined(__clang__)
#define FRAME_API __attribute__((visibility("default")))
#else
#define FRAME_API
#endif

#define FRAME_HDR_LEN 16
#define FRAME_MAGIC 0xF5
#define FRAME_VERSION 1
#define FRAME_MAX_PAYLOAD_DEFAULT (1u << 20)
#define FRAME_MAX_FDS_DEFAULT 16
#define FRAME_SENDQ_MAX_DEFAULT (4u << 20)
#define FRAME_MAX_FDS_LIMIT 253                    /* Linux SCM_MAX_FD; nfds is one byte */
#define FRAME_MAX_PAYLOAD_LIMIT (0x7fffffffu - 16) /* header + payload fits an ssize_t */

/* Input flags for frame_decoder_commit/feed: what recvmsg reported in msg_flags. */
#define FRAME_IN_CTRUNC 0x1
#define FRAME_IN_TRUNC 0x2

/* Who owns the descriptors handed to frame_send and frame_send_wait, whatever they return. */
enum frame_fd_mode {
    FRAME_FDS_BORROW, /* the caller keeps its own; the library dups those it has to queue */
    FRAME_FDS_TAKE    /* the library takes them at the call: sends, queues or closes them */
};

/* Or'ed into the mode of frame_send: queue the frame without writing it. frame_flush, or the
 * next frame_send without it, writes the queue (sendmmsg on packet sockets where the OS has it). */
#define FRAME_MORE 0x100

struct frame_opts {
    uint32_t max_payload; /* largest payload accepted or sent */
    unsigned max_fds;     /* descriptors per frame; 0 rejects frames that carry any */
    size_t sendq_max;     /* bytes the send queue may hold; at least header + max_payload */
    int close_fd_on_fini; /* frame_chan_fini closes the socket */
};

/* A received message: a view into the decoder's buffer, valid until the next call
 * on its decoder or channel. Untaken descriptors are closed on release. */
struct frame_msg {
    uint32_t type;
    uint32_t id;
    const void *payload;
    uint32_t len;
    unsigned nfds;
    int *fds; /* nfds entries; -1 once taken; never NULL */
    void *owner_;
    unsigned long seq_;
};

/* Private state: everything below, except struct frame_opts, is public only so that callers
 * can allocate channels and decoders themselves. Use the functions, never the members: they
 * may change in any release (and a change of size changes the library's SOVERSION). */
struct frame_fdq_entry_ {
    int fd;
    uint64_t chunk_start, chunk_end; /* stream range of the chunk it arrived with */
};

struct frame_decoder {
    uint32_t max_payload;
    unsigned max_fds;
    int packet;          /* one frame per commit (SOCK_SEQPACKET, SOCK_DGRAM) */
    int error;           /* sticky errno, 0 while healthy */
    int pending;         /* an error found ahead of the messages still to be taken */
    uint64_t pending_at; /* stream offset it applies from */
    unsigned char *buf;
    size_t cap, rpos, wpos;
    size_t cap_max;    /* header + max_payload */
    uint64_t offset;   /* stream offset of buf[0] */
    uint64_t next_hdr; /* stream offset of the first header not yet validated */
    struct frame_fdq_entry_ *fdq;
    size_t fdq_cap, fdq_head, fdq_len;
    size_t fdq_claimed; /* oldest entries claimed by validated headers */
    int msg_fds[256];
    unsigned msg_nfds;
    size_t msg_consumed; /* bytes of the current message to drop on the next call */
    unsigned long msg_seq;
    int (*close_fd)(int fd, void *arg);
    void *close_arg;
};

struct frame_sendq_;

struct frame_chan {
    int fd;
    int type; /* SO_TYPE of fd */
    struct frame_opts opts;
    struct frame_decoder dec;
    struct frame_sendq_ *sq;
    int eof;
    unsigned ctrl_fds; /* descriptors one recvmsg accepts */
};

/* Fills *opts with the defaults above (close_fd_on_fini off). */
FRAME_API void frame_opts_default(struct frame_opts *opts);

/* Binds chan to a connected AF_UNIX socket; opts may be NULL for the defaults.
 * EINVAL: bad options or max_fds above the OS limit; ENOTSOCK/EPROTOTYPE: fd is not
 * a stream, seqpacket or datagram socket; EOPNOTSUPP: fd has SO_PASSSEC on (unbounded labels). */
FRAME_API int frame_chan_init(struct frame_chan *chan, int fd, const struct frame_opts *opts);

/* Frees the channel, closing queued and unclaimed descriptors (and the socket if asked).
 * Frames still queued (frame_pending() > 0) are dropped: use frame_chan_close to flush. */
FRAME_API void frame_chan_fini(struct frame_chan *chan);

/* Flushes the send queue for up to timeout_ms (< 0: no limit), then frame_chan_fini.
 * 0: every queued frame was written. -1: frames were dropped (their descriptors closed):
 * ETIMEDOUT at the deadline, or the socket's error (EPIPE, ...). Frees chan either way. */
FRAME_API int frame_chan_close(struct frame_chan *chan, int timeout_ms);

/* Queues one frame. E2BIG: payload above max_payload or nfds above max_fds (EINVAL if
 * the channel allows none); ENOBUFS: the send queue is full, flush and retry (a frame
 * with descriptors only if sent with FRAME_FDS_BORROW: FRAME_FDS_TAKE has closed them). A large
 * payload, descriptors or a packet socket: writes the frame at once from the caller's memory if the
 * queue is empty (for a large payload on a stream: can be flushed without waiting), and copies only
 * what the socket did not take. */
FRAME_API int frame_send(struct frame_chan *chan, uint32_t type, uint32_t id, const void *payload,
                         size_t len, const int *fds, unsigned nfds, enum frame_fd_mode mode);

/* Writes what the socket takes: 0 when the queue is empty, -1/EAGAIN when the socket is full. */
FRAME_API int frame_flush(struct frame_chan *chan);

/* Bytes waiting in the send queue. */
FRAME_API size_t frame_pending(const struct frame_chan *chan);

/* Reads what the socket has: bytes read, 0 on end of file, -1 with errno. Control messages
 * the kernel adds on request (SO_PASSCRED, LOCAL_CREDS, SO_TIMESTAMP) are discarded, and the
 * descriptor of SO_PASSPIDFD closed. */
FRAME_API ssize_t frame_recv(struct frame_chan *chan);

/* Next complete message: 1 and *msg filled, 0 none yet, -1 a sticky protocol error
 * (EBADMSG malformed header, E2BIG over a limit, EPROTO descriptors or datagram mismatch). */
FRAME_API int frame_next(struct frame_chan *chan, struct frame_msg *msg);

/* Up to max (>= 1) complete messages at once, in order: how many, 0 none yet, -1 as
 * frame_next. All are views valid until the next call on the channel. A message that
 * carries descriptors comes alone; messages after it wait for the next call. */
FRAME_API int frame_next_batch(struct frame_chan *chan, struct frame_msg *msgs, int max);

/* Moves descriptor i out of msg: the caller owns it. -1/EINVAL if taken or out of range. */
FRAME_API int frame_msg_take_fd(struct frame_msg *msg, unsigned i);

/* Closes the descriptors still in msg. Idempotent. */
FRAME_API void frame_msg_release(struct frame_msg *msg);

/* frame_send, then flush until the queue is empty or timeout_ms passes (ETIMEDOUT: queued,
 * not all written; ENOBUFS: not queued); timeout_ms < 0 waits forever. A frame that
 * frame_send writes at once is written from the caller's memory while waiting: only what
 * is left at the deadline is copied. Descriptors: as frame_send. */
FRAME_API int frame_send_wait(struct frame_chan *chan, uint32_t type, uint32_t id,
                              const void *payload, size_t len, const int *fds, unsigned nfds,
                              enum frame_fd_mode mode, int timeout_ms);

/* Waits for the next message: 1 a message, 0 end of file at a frame boundary,
 * -1 with errno (ETIMEDOUT, EPROTO for end of file inside a frame, ...). */
FRAME_API int frame_recv_wait(struct frame_chan *chan, struct frame_msg *msg, int timeout_ms);

/* Decoder core: no system calls. The channel feeds it; so can tests and fuzzers. */
FRAME_API int frame_decoder_init(struct frame_decoder *dec, uint32_t max_payload, unsigned max_fds,
                                 int packet);
FRAME_API void frame_decoder_fini(struct frame_decoder *dec);

/* How descriptors are closed (default: close(2)); for tests and fuzzers. */
FRAME_API void frame_decoder_set_close(struct frame_decoder *dec, int (*close_fd)(int, void *),
                                       void *arg);

/* Space to receive into (zero-copy); *len is its size. NULL once in error. */
FRAME_API void *frame_decoder_space(struct frame_decoder *dec, size_t *len);

/* Accounts n bytes written into the space, with the descriptors that came with them
 * (the decoder owns them from here) and FRAME_IN_* flags. In packet mode one call is
 * one datagram. Returns 0, or -1 with the sticky errno. A stream error found ahead of
 * untaken messages is reported by frame_decoder_next once they are taken (FORMAT.md). */
FRAME_API int frame_decoder_commit(struct frame_decoder *dec, size_t n, const int *fds,
                                   unsigned nfds, int in_flags);

/* Copies up to n bytes in and commits them: bytes accepted (may be fewer than n when the
 * buffer is full: take messages, then feed the rest), or -1. Descriptors go with the
 * first byte accepted. */
FRAME_API ssize_t frame_decoder_feed(struct frame_decoder *dec, const void *buf, size_t n,
                                     const int *fds, unsigned nfds, int in_flags);

/* End of input: a partial frame or unclaimed descriptors become EPROTO (-1), reported
 * by frame_decoder_next after the complete messages before it. */
FRAME_API int frame_decoder_eof(struct frame_decoder *dec);

/* Same contracts as frame_next and frame_next_batch. */
FRAME_API int frame_decoder_next(struct frame_decoder *dec, struct frame_msg *msg);
FRAME_API int frame_decoder_next_batch(struct frame_decoder *dec, struct frame_msg *msgs, int max);

/* Encodes a header into out[FRAME_HDR_LEN]; -1/E2BIG if len or nfds do not fit. */
FRAME_API int frame_encode_header(unsigned char *out, uint32_t type, uint32_t id, uint32_t len,
                                  unsigned nfds);

/* A checked reader over a received payload (or any buffer): little-endian integers at any
 * alignment, bytes, skips. A read past the end fails with -1/EBADMSG, stores nothing and
 * leaves the cursor; the error is sticky, so a run of reads can be checked once at the end.
 * The struct is public so that callers can keep it on the stack; its members are private. */
struct frame_reader {
    const unsigned char *buf_;
    size_t len_, pos_;
    int error_;
};

/* Reads buf[0..len) from the start; buf may be NULL when len is 0. Nothing to free. */
FRAME_API void frame_reader_init(struct frame_reader *r, const void *buf, size_t len);
FRAME_API int frame_read_u8(struct frame_reader *r, uint8_t *out);
FRAME_API int frame_read_u16le(struct frame_reader *r, uint16_t *out);
FRAME_API int frame_read_u32le(struct frame_reader *r, uint32_t *out);
FRAME_API int frame_read_u64le(struct frame_reader *r, uint64_t *out);
/* Copies the next n bytes to dst (which may be NULL when n is 0). */
FRAME_API int frame_read_bytes(struct frame_reader *r, void *dst, size_t n);
FRAME_API int frame_read_skip(struct frame_reader *r, size_t n);
/* Bytes not read yet. */
FRAME_API size_t frame_reader_left(const struct frame_reader *r);
/* 0 if every byte was read; -1/EMSGSIZE if some are left, -1/EBADMSG if a read failed. */
FRAME_API int frame_reader_end(const struct frame_reader *r);

#ifdef __cplusplus
}
#endif
#endif
