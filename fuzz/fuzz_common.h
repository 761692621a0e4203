/* Shared helpers for the fuzz targets: input cursor, descriptor probe, failure report. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errname.h"
#include "fdset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_in {
    const uint8_t *p;
    size_t n;
};

uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
/* Up to want bytes from the input; *got is how many there were. */
const uint8_t *fz_bytes(struct fz_in *in, size_t want, size_t *got);

/* Harness-internal loops (descriptor windows, buffer scans) that give the engine no useful
 * feedback are compiled without coverage callbacks, which cost more than the loop itself. */
#if defined(__clang__) && __clang_major__ >= 13
#define FZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#elif defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define FZ_NO_COVERAGE __attribute__((no_sanitize_coverage))
#else
#define FZ_NO_COVERAGE
#endif

/* Descriptor probe over 0..FZ_FD_WINDOW-1 (testsupport/fdset.h), one poll(2) per probe. */
#define FZ_FD_WINDOW 256
void fz_fdset_probe(struct fdset *set);
/* Aborts with the first differing descriptor when now differs from before. */
void fz_fdset_expect(const struct fdset *before, const char *target);

/* 1 when p[0..n-1] are all byte c (n == 0 too). */
int fz_all_bytes(const void *p, size_t n, unsigned char c);

/* A readable abort: "target: invariant failed: ..." plus the trace, then abort(). */
void fz_fail(const char *target, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((noreturn, format(printf, 2, 3)))
#endif
    ;

/* A bounded text trace, printed by fz_fail. Recording costs time, so it is on when the
 * environment says FZ_TRACE=1 (the replay driver sets it), else as the target's default. */
void fz_trace_reset(int default_on);
/* Prints the trace of the last input to stderr (replay with FZ_TRACE=1). */
void fz_trace_print(void);
void fz_trace(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Descriptor helpers that never leave a descriptor behind on failure. */
int fz_set_nonblock(int fd);
int fz_set_cloexec(int fd);
int fz_socketpair(int type, int sv[2]);
int fz_is_cloexec(int fd);
int fz_close(int fd);

/* send flags that suppress SIGPIPE where the platform has them. */
int fz_nosignal_flag(void);

/* One sendmsg of n bytes on sock with nfds (at most FZ_SEND_FDS_MAX) descriptors attached,
 * without SIGPIPE where the platform allows; sendmsg's result. */
#define FZ_SEND_FDS_MAX 8
ssize_t fz_send_fds(int sock, const void *p, size_t n, const int *fds, unsigned nfds);

#endif
