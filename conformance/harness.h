/*
 * The check model. A check is a body run on one channel kind; every (check, kind) pair is
 * its own Criterion test named <check>__<kind> in the suite named for its category.
 *
 *   #define CATEGORY boundary
 *   // one send is received as exactly one message
 *   CHECK(one_send_one_recv) { ... outcome(c, "%zd", n); }
 *   INSTANTIATE(one_send_one_recv, KINDS_UNIX_MSG)
 *
 * A body records one outcome string; the harness judges it against this OS's cell of
 * expectations/<category>.tsv (row "<category>.<check>"), records it in the results file, and
 * fails the test on a mismatch, on a leaked descriptor or on an unexpected SIGPIPE.
 * Setup helpers (x*) fail the test loudly; bodies use cr_expect for extra detail.
 */
#ifndef SOCKSPEC_HARNESS_H
#define SOCKSPEC_HARNESS_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errname.h"
#include "kinds.h"
#include "quirks.h"

#define OUTCOME_MAX 160

struct chan {
    const struct kind *kind;
    int a, b;     /* forward direction: a sends, b receives; -1 once closed */
    int listener; /* kept only while building a pair; -1 otherwise */
    char dir[96]; /* scratch directory for filesystem-bound kinds, removed at close */
    char outcome[OUTCOME_MAX];
    int sigpipe_taken;
};

#define SS_STR_(x) #x
#define SS_STR(x) SS_STR_(x)
#define SS_TEST_(cat, name, ...) Test(cat, name, __VA_ARGS__)
#define SS_TIMEOUT 10

#define CHECK(name) static void name(struct chan *c)

#define SS_INSTANCE(name, k)                                                                       \
    SS_TEST_(CATEGORY, name##__##k, .timeout = SS_TIMEOUT)                                         \
    {                                                                                              \
        harness_run(SS_STR(CATEGORY) "." #name, name, &kind_##k);                                  \
    }

/* One named test per kind of the list. */
#define INSTANTIATE(name, KIND_LIST) KIND_LIST(SS_INSTANCE, name)

void harness_run(const char *check_id, void (*body)(struct chan *), const struct kind *k);

/* Outcome recording. */
void outcome(struct chan *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<n>" for r >= 0, the errno name otherwise (errno read at call time). */
void outcome_ret(struct chan *c, ssize_t r);
/* "unsupported: <reason>" for features the OS documents as missing. */
#define UNSUPPORTED(c, quirk) outcome((c), "unsupported: %s", (quirk))

/* send() with the no-SIGPIPE flag; write() on a non-socket when flags is 0. */
ssize_t send_or_write(int fd, const void *buf, size_t n, int flags);

/* Setup helpers: fatal on failure. */
void xsend_all(int fd, const void *buf, size_t n);
void xrecv_exact(int fd, void *buf, size_t n);
void xset_nonblock(int fd, int on);
int is_nonblock(int fd);
int is_cloexec(int fd);
void xpipe(int fds[2]);
void xclose(int *fd);

/* poll() for one fd: returned revents, 0 on timeout. */
int poll_events(int fd, short events, int timeout_ms);

/* Deterministic test data. */
void fill_pattern(void *buf, size_t n, uint32_t seed);
uint64_t fnv1a(const void *buf, size_t n, uint64_t h);

/* SIGPIPE is blocked during every check; this consumes a pending one: 1 if one was pending. */
int sigpipe_take(struct chan *c);

/* A helper thread, joined by helper_join; for checks that need a blocked peer. */
struct helper {
    void *thread; /* pthread_t, opaque here */
    void *(*fn)(void *);
    void *arg;
};
void helper_start(struct helper *h, void *(*fn)(void *), void *arg);
void *helper_join(struct helper *h);

/* MSG_NOSIGNAL where it exists, 0 otherwise (then SO_NOSIGPIPE is set on every socket end). */
extern const int ss_nosignal;

#endif
