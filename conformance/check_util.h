/*
 * Helpers shared by the check bodies in the checks/ files (implementations in check_util.c).
 * I/O on sockets and pipes alike (socket calls fall back to read()/write() on ENOTSOCK),
 * filling and draining, watchdogs and helper threads, child processes, outcome formatting
 * (call results, msg_flags, revents), socket options, descriptor probes and scratch names.
 * Setup helpers (x*) REQUIRE success, as in harness.h.
 */
#ifndef SOCKSPEC_CHECK_UTIL_H
#define SOCKSPEC_CHECK_UTIL_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <pthread.h>
#include <time.h>

#include "fdset.h"
#include "harness.h"

/* ---- I/O on sockets and pipes ---- */

int is_pipe(const struct chan *c);
/* 1 for kinds that keep message boundaries (SOCK_DGRAM, SOCK_SEQPACKET). */
int is_message_kind(const struct chan *c);
/* recv(), or read() on a non-socket when flags is 0. */
ssize_t recv_or_read(int fd, void *buf, size_t n, int flags);
/* One read that does not block: recv(flags | MSG_DONTWAIT) on sockets; on pipes read() with
 * O_NONBLOCK set for the call (flags are ignored there). -1/errno as recv. */
ssize_t read_nb(const struct chan *c, int fd, void *buf, size_t n, int flags);
/* On TCP, waits (up to 2 s) until fd is readable: data and FIN cross loopback asynchronously
 * on some OSes, so a read that does not wait could see neither yet. No-op on other kinds. */
void settle_tcp(const struct chan *c, int fd);
/* read_nb after waiting up to timeout_ms for fd to be readable. */
ssize_t read_wait(const struct chan *c, int fd, void *buf, size_t n, int flags, int timeout_ms);

/* Most bytes any fill loop pushes before giving up (TCP on loopback autotunes its buffers). */
#define FILL_LIMIT (64u << 20)
/* ... and the longest a fill loop runs (one-byte writes under a slow implementation). */
#define FILL_SECONDS 2

/* Writes chunk-sized zero pieces with O_NONBLOCK until the first failure; returns the bytes
 * written and stores the failure's errno (0 if FILL_LIMIT or FILL_SECONDS was reached first). The
 * descriptor's blocking mode is restored. */
size_t fill_nb(int fd, size_t chunk, int *err);
/* Waits up to ms until n bytes (at most 256) are queued on the stream socket fd, by a
 * blocking MSG_PEEK | MSG_WAITALL receive under a temporary SO_RCVTIMEO: what the peek saw,
 * or -1 and errno. */
ssize_t wait_queued(int fd, size_t n, int ms);
/* The largest message size, want or a halving of it, that an empty pair of message kind takes
 * in one send (OSes refuse AF_UNIX datagrams above their send buffer, 2048 bytes on macOS):
 * fills and blocking sends use it instead of a fixed size. want for byte streams. */
size_t message_chunk(struct chan *c, size_t want);
/* Reads without blocking until nothing arrives for idle_ms; returns the bytes read. *end (if not
 * NULL) says why it stopped: 0 at end of file, the errno value otherwise (EAGAIN when idle). */
size_t drain_nb(const struct chan *c, int fd, int idle_ms, int *end);

/* ---- helper threads ---- */

/* Writes len bytes of data to fd in chunk-sized sends (0: cycling through varied sizes),
 * waiting (bounded) for room; err is 0 or the errno that stopped it (ETIMEDOUT: no room). */
struct writer {
    int fd;
    const unsigned char *data;
    size_t len, chunk, sent;
    int err;
    unsigned long retries; /* sends that failed with ENOBUFS and were tried again */
    struct helper h;
};
void writer_start(struct writer *w, int fd, const void *data, size_t len, size_t chunk);
/* Joins the writer; returns its err. */
int writer_join(struct writer *w);

/* Reads and discards from fd until want bytes arrived, end of file, an error, or 5 s without
 * data. */
struct reader {
    int fd;
    size_t want, got;
    struct helper h;
};
void reader_start(struct reader *r, int fd, size_t want);
/* Joins the reader; returns the bytes it read. */
size_t reader_join(struct reader *r);

/*
 * Calls that should return on their own (a timeout expiring, a wait being satisfied), guarded
 * by a watchdog: unless the call returns within ms, the watchdog sends 32 bytes on peer
 * (recv_guarded) or reads peer dry (send_guarded, to unblock a full sender). If the call is
 * still blocked GUARD_RESCUE_MS after that, the watchdog shuts the call's descriptor down so
 * that it returns, and guarded_stuck() is 1 until the next guarded call: no instance hangs.
 * With own_bound, a socket that has no timeout of its own also gets SO_RCVTIMEO/SO_SNDTIMEO
 * for the call, for implementations where even a shutdown does not end it (not for checks
 * that measure timeouts they set themselves).
 * If the watchdog had to act and fired_msg is not NULL, that is reported with EXPECT. The
 * call's result and errno are returned.
 */
#define GUARD_RESCUE_MS 1500
ssize_t recv_guarded(int fd, void *buf, size_t n, int flags, int peer, int ms, int own_bound,
                     const char *fired_msg);
ssize_t send_guarded(int fd, const void *buf, size_t n, int flags, int peer, int ms, int own_bound,
                     const char *fired_msg);
/* 1 if the watchdog of the last guarded call had to act. */
int guarded_fired(void);
/* 1 if the last guarded call stayed blocked after the watchdog acted. */
int guarded_stuck(void);
/* "blocked" if the last guarded call stayed blocked, else outcome_ret(c, r). */
void outcome_guarded(struct chan *c, ssize_t r);

/* ---- child processes ---- */

/* A forked child that reports one short string back to the parent through a pipe. */
struct child {
    pid_t pid;
    int fd; /* the parent's read end */
};
/* Forks; the child runs fn(arg, out, n), writes the string it returns and exits. */
void child_start(struct child *ch, const char *(*fn)(void *arg, char *out, size_t n), void *arg);
/* Waits up to timeout_ms for the child's string (out is "" without one, and the child is then
 * killed), reaps the child and returns its status as child_reap does. */
int child_finish(struct child *ch, int timeout_ms, char *out, size_t n);
/* Waits for a child: its exit status, or 128 + the signal that ended it. */
int child_reap(pid_t pid);

/* ---- outcome formatting ---- */

/* A call's result as text: the count, or the errno name (errno read at call time). */
struct ret_str {
    char s[32];
};
struct ret_str ret_str(ssize_t r);
/* "ok" for r == 0, the errno name otherwise. */
void outcome_ok(struct chan *c, int r);
/* revents as "POLLIN+POLLOUT+...", "none" for 0. */
const char *revents_str(int re, char *buf, size_t n);
/* The msg_flags bits sockspec looks at, by name: "0", "MSG_TRUNC", "MSG_TRUNC|MSG_EOR", ... */
const char *msg_flags_str(int f, char *buf, size_t n);

/* Flags that only ever mean something on input. The BSDs and macOS copy the flags argument
 * into msg_flags (sys_recvmsg), so they come back out; recorded msg_flags leave them out. */
#define INPUT_ONLY_FLAGS (MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL)

/* recvmsg into one buffer; *flags_io holds msg_flags before the call and after it, without the
 * INPUT_ONLY_FLAGS of flags. */
ssize_t recvmsg_flags(int fd, void *buf, size_t n, int flags, int *flags_io);
/* Waits (bounded) for fd, receives up to n bytes with recvmsg(flags | MSG_DONTWAIT) starting
 * from msg_flags fl_in, asserts that want bytes came, and records msg_flags as the outcome. */
void outcome_msg_flags(struct chan *c, int fd, size_t n, int flags, int fl_in, ssize_t want);

/* ---- socket options ---- */

/* getsockopt of an int: 0, or -1 with errno. */
int sockopt_int(int fd, int level, int opt, int *val);
/* getsockopt of an int, fatal on failure. */
int xsockopt_int(int fd, int level, int opt);
/* setsockopt of an int: 0, or -1 with errno. */
int setsockopt_int(int fd, int level, int opt, int v);
/* Sets the SOL_SOCKET option opt of c->a to v and records what reads back (a positive value),
 * or setsockopt's errno. */
void sockopt_set_readback(struct chan *c, int opt, int v);
/* Raises SO_SNDBUF to at least n (EXPECTs success): a datagram size check then measures the
 * protocol's limit, not a send buffer smaller than it (the BSDs' UDP default is 9216). */
void raise_sndbuf(int fd, int n);
/* setsockopt of a struct timeval (SO_RCVTIMEO, SO_SNDTIMEO), fatal on failure. */
void xset_timeo(int fd, int opt, long sec, long usec);

/* ---- descriptors ---- */

/* 1 if descriptor slot fd is in use. */
int fd_is_open(int fd);
/* A descriptor number that is certainly closed right now (single-threaded at the time). */
int closed_fd(void);
/* The lowest free descriptor number (what the next open would return). */
int lowest_free_fd(void);
/* Closes every descriptor open now that was not open in before: how many. */
int close_new_fds(const struct fdset *before);
/* Number of open descriptors below 4096. */
int count_open_fds(void);
/* A scratch regular file, already unlinked. */
int scratch_file(void);

/* ---- AF_UNIX names (testsupport/scratch.h, REQUIRE on failure) ---- */

void xscratch_dir(struct scratch_dir *d);
/* Unlinks names inside d and removes it; EXPECTs the removal to succeed. */
void xscratch_dir_remove(struct scratch_dir *d, const char *const *names, size_t n);
socklen_t xscratch_addr(const struct scratch_dir *d, const char *name, struct sockaddr_un *sun);
socklen_t xabstract_addr(const char *name, struct sockaddr_un *sun);
/* A filesystem address that names nothing, for sendto() on a connected socket; its length. */
socklen_t nowhere_addr(struct sockaddr_un *sun);

/* ---- waiters and bounded waits (families) ---- */

/*
 * A helper thread blocked in one call, for checks about what wakes a waiter. The helper
 * reports, through a pipe, that it is about to make the call and that the call returned; the
 * check's thread only ever waits on that pipe with a bound. "Blocked" is established by the
 * call not returning within a short bound after the helper said it was making it (the helper
 * cannot report the moment it sleeps in the kernel). A call that nothing wakes is interrupted
 * with SIGUSR2 (a handler without SA_RESTART, installed while any waiter runs), so the helper
 * is always joined. No REQUIRE between waiter_start and waiter_end: a failed precondition
 * would leave the helper running; record it after waiter_end.
 */
enum waiter_call { WAITER_RECV, WAITER_SEND, WAITER_POLL, WAITER_CONNECT };
struct waiter {
    enum waiter_call call;
    int fd;
    size_t len; /* WAITER_RECV, WAITER_SEND: bytes (recv_or_read, send_or_write) */
    int flags;  /* WAITER_RECV, WAITER_SEND: flags; WAITER_POLL: the events */
    const struct sockaddr_un *addr; /* WAITER_CONNECT */
    socklen_t addrlen;
    ssize_t ret; /* the call's result; revents for WAITER_POLL */
    int err;     /* errno after a failed call */
    int sigpipe; /* 1 if the call raised SIGPIPE (taken by the helper) */
    int ctl[2];
    int returned;
    char buf[8192]; /* what WAITER_RECV reads into and WAITER_SEND sends (len is capped) */
    pthread_t self;
    struct helper h;
};
/* Starts the call in a helper and waits (up to 2 s) until the helper is about to make it. */
void waiter_start(struct waiter *w, enum waiter_call call, int fd, size_t len, int flags);
/* The same for connect(fd, addr). */
void waiter_start_connect(struct waiter *w, int fd, const struct sockaddr_un *addr, socklen_t len);
/* 1 if the call has returned, waiting up to ms for it. */
int waiter_returned(struct waiter *w, int ms);
/* Interrupts the call unless it returned, joins the helper: 0, or -1 if it had to interrupt. */
int waiter_end(struct waiter *w);
/* The call's result as text: the count or revents, or the errno name ("+SIGPIPE" if raised). */
const char *waiter_result(const struct waiter *w, char *buf, size_t n);
/*
 * After the event that should wake the waiter: "woken: <result>" if the call returned within
 * ms, else "not woken within <ms> ms"; ends the waiter either way.
 */
void waiter_outcome(struct chan *c, struct waiter *w, int ms);
/* What a waiter that must stay blocked until the event gets before it: ms with no return. */
#define WAITER_SETTLE_MS 100
/* 1 if the waiter has not returned within WAITER_SETTLE_MS; else it is ended and the outcome
 * is "returned before the event: <result>", and 0. */
int waiter_blocked(struct chan *c, struct waiter *w);
/* How long a woken waiter may take to return after the event. */
#define WAITER_WAKE_MS 1000

/* An AF_UNIX address of length len, as text: "unnamed" (no name, or only NULs: BSD's
 * unnamed sender), "abstract <bytes after the NUL>",
 * "path <bytes before the first NUL>" with "+no NUL" when none is within len, or
 * "family <n>". */
const char *unix_name_str(const struct sockaddr_un *sun, socklen_t len, char *buf, size_t n);

/*
 * A listener of c's domain and type on a fresh name: for AF_UNIX, of c's origin (a path "L" in
 * a scratch directory d made here, or an abstract name), for IP an ephemeral loopback port.
 * Its address goes to *addr and *len. REQUIREs; listener_close closes it and removes d.
 */
int listener_open(const struct chan *c, struct scratch_dir *d, int backlog,
                  struct sockaddr_storage *addr, socklen_t *len);
void listener_close(int *fd, struct scratch_dir *d);
/* A socket of c's domain and type connected to addr: the descriptor, or -1 with errno. */
int client_connect(const struct chan *c, const struct sockaddr_storage *addr, socklen_t len);

/* ms elapsed since *t0 (CLOCK_MONOTONIC), for bounded loops. */
long elapsed_ms(const struct timespec *t0);
/* Reads without blocking until n bytes came, end of file, an error, or idle_ms without a byte
 * (timed by the clock: a descriptor that polls readable but has nothing to read still ends):
 * the bytes read. */
size_t read_collect(const struct chan *c, int fd, char *buf, size_t n, int idle_ms);

#endif
