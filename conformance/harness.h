/*
 * The check model. A check is a body that records one outcome string for one channel kind;
 * INSTANTIATE makes one instance per kind of a list (kinds.h), named <check>__<kind> in the
 * suite named for the category:
 *
 *   #define CATEGORY boundary
 *   CHECK(one_send_one_recv, "One send is received as exactly one message")
 *   {
 *       ...
 *       outcome_ret(c, recv(c->b, buf, sizeof buf, 0));
 *   }
 *   INSTANTIATE(one_send_one_recv, KINDS_MIX_MSG)
 *
 * The harness judges the outcome against this platform's cell (expect.h), records it in the
 * results file, and fails the instance on a mismatch, a leaked descriptor or memory, a pending
 * SIGPIPE, or a failed EXPECT. The statement is written once, here; the catalogue
 * (--catalogue) and REPORT.md take it from the binary.
 *
 * Preconditions: REQUIRE(cond, fmt, ...) ends the body when cond is false, and the instance's
 * outcome is "precondition: <message>": a setup step that cannot run is recorded, never lost.
 * EXPECT(cond, fmt, ...) notes a failed extra check and lets the body go on. Both are for the
 * check's own thread; helper threads report to the thread that joins them.
 *
 * Two runners share the bodies: Criterion's (sockspec-conformance) and a plain one
 * (sockspec-conformance-plain: fork per instance, for where Criterion cannot run).
 */
#ifndef SOCKSPEC_HARNESS_H
#define SOCKSPEC_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errname.h"
#include "kinds.h"
#include "quirks.h"
#include "scratch.h"

#define OUTCOME_MAX 160
#define DETAIL_MAX 512

struct chan {
    const struct kind *kind;
    int a, b;               /* forward direction: a sends, b receives; -1 once closed */
    int listener;           /* kept only while building a pair; -1 otherwise */
    struct scratch_dir dir; /* for filesystem-bound kinds, removed at close */
    char outcome[OUTCOME_MAX];
    char detail[DETAIL_MAX]; /* failed EXPECTs, "; " separated */
    int sigpipe_taken;
};

struct check {
    const char *id; /* "<category>.<name>" */
    const char *statement;
    void (*body)(struct chan *);
};

#define SS_STR_(x) #x
#define SS_STR(x) SS_STR_(x)
/* Seconds an instance may take before its runner kills it; checks bound their own waits
 * far below this (a kill is a harness failure, never an outcome). */
#define SS_TIMEOUT 20

#define CHECK(name, statement)                                                                     \
    static void name(struct chan *c);                                                              \
    static const struct check check_##name = {SS_STR(CATEGORY) "." #name, statement, name};        \
    static void name(struct chan *c)

/* Every instance registers itself at load time, whatever the runner: the catalogue and the
 * plain runner read the registry. */
void registry_add(const struct check *check, const struct kind *kind);
struct instance {
    const struct check *check;
    const struct kind *kind;
};
/* The instances, sorted by check then kind. */
const struct instance *registry_list(size_t *n);

#define SS_REGISTER_(name, k)                                                                      \
    __attribute__((constructor)) static void ss_register_##name##__##k(void)                       \
    {                                                                                              \
        registry_add(&check_##name, &kind_##k);                                                    \
    }

#ifdef SOCKSPEC_RUNNER_CRITERION
#include <criterion/criterion.h>
#define SS_TEST_(cat, name, ...) Test(cat, name, __VA_ARGS__)
#define SS_INSTANCE(name, k)                                                                       \
    SS_REGISTER_(name, k)                                                                          \
    SS_TEST_(CATEGORY, name##__##k, .timeout = SS_TIMEOUT)                                         \
    {                                                                                              \
        harness_run(&check_##name, &kind_##k);                                                     \
    }
#else
#define SS_INSTANCE(name, k) SS_REGISTER_(name, k)
#endif

/* One instance per kind of the list. */
#define INSTANTIATE(name, KIND_LIST) KIND_LIST(SS_INSTANCE, name)

/* Runs one instance in this process: builds the kind, runs the body, judges and records. */
void harness_run(const struct check *check, const struct kind *k);

/* For a runner whose instance died without an outcome (a signal, its timeout): records what
 * happened as the outcome ("crashed: SIGSEGV", "killed after 20 s"), judged like any other;
 * 1 if it is a known deviation of this platform. */
int harness_record_death(const struct check *check, const struct kind *k, const char *what);

/* The runner's way to fail the running instance with a message (harness.c calls it). */
void runner_fail(const char *msg);

/* ---- outcomes ---- */

void outcome(struct chan *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<n>" for r >= 0, the errno name otherwise (errno read at call time). */
void outcome_ret(struct chan *c, ssize_t r);
/* "unsupported: <reason>" for features the OS documents as missing. */
#define UNSUPPORTED(c, quirk) outcome((c), "unsupported: %s", (quirk))

/* ---- preconditions and extra expectations ---- */

#define REQUIRE(cond, ...)                                                                         \
    ((cond) ? (void)0 : harness_require_failed(__FILE__, __LINE__, #cond, "" __VA_ARGS__))
#define EXPECT(cond, ...)                                                                          \
    ((cond) ? (void)0 : harness_expect_failed(__FILE__, __LINE__, #cond, "" __VA_ARGS__))
void harness_require_failed(const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));
void harness_expect_failed(const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- I/O shared by the bodies ---- */

/* send() with the no-SIGPIPE flag; write() on a non-socket when flags is 0. */
ssize_t send_or_write(int fd, const void *buf, size_t n, int flags);

/* Setup helpers: REQUIRE on failure. */
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
