/*
 * Memory findings that Criterion would let pass, made visible to a test: LeakSanitizer's
 * report and valgrind's error and leak counts, taken as deltas over the test body so that
 * Criterion's own allocations and errors do not count.
 */
#ifndef SOCKSPEC_MEMCHECK_H
#define SOCKSPEC_MEMCHECK_H

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMCHECK_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define MEMCHECK_ASAN 1
#endif
#ifdef SOCKSPEC_HAVE_VALGRIND_MEMCHECK_H
#include <valgrind/memcheck.h>
#define MEMCHECK_VALGRIND 1
#endif

struct memcheck {
    unsigned long errors, leaked;
};

#ifdef MEMCHECK_ASAN
int __lsan_do_recoverable_leak_check(void);
#endif

/* Around a call that passes the kernel an invalid argument on purpose (a bad pointer, an
 * unterminated path): valgrind would report it against the test. */
static inline void memcheck_expect_bad_argument(int on)
{
#ifdef MEMCHECK_VALGRIND
    if (on)
        VALGRIND_DISABLE_ERROR_REPORTING;
    else
        VALGRIND_ENABLE_ERROR_REPORTING;
#else
    (void)on;
#endif
}

/* Leak check first: its reports count as errors, and must not count against the test. */
static inline struct memcheck memcheck_begin(void)
{
    struct memcheck m = {0, 0};
#ifdef MEMCHECK_VALGRIND
    if (RUNNING_ON_VALGRIND) {
        unsigned long dubious = 0, reachable = 0, suppressed = 0;
        VALGRIND_DO_LEAK_CHECK;
        VALGRIND_COUNT_LEAKS(m.leaked, dubious, reachable, suppressed);
        (void)dubious, (void)reachable, (void)suppressed;
        m.errors = VALGRIND_COUNT_ERRORS;
    }
#endif
    return m;
}

/* Errors and definitely-lost bytes since memcheck_begin; 0 when clean. */
static inline int memcheck_end(struct memcheck begin, struct memcheck *delta)
{
    delta->errors = delta->leaked = 0;
#ifdef MEMCHECK_VALGRIND
    if (RUNNING_ON_VALGRIND) {
        unsigned long leaked = 0, dubious = 0, reachable = 0, suppressed = 0;
        delta->errors = VALGRIND_COUNT_ERRORS - begin.errors;
        VALGRIND_DO_LEAK_CHECK;
        VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
        (void)dubious, (void)reachable, (void)suppressed;
        delta->leaked = leaked > begin.leaked ? leaked - begin.leaked : 0;
    }
#else
    (void)begin;
#endif
#ifdef MEMCHECK_ASAN
    if (__lsan_do_recoverable_leak_check() != 0)
        delta->leaked = delta->leaked ? delta->leaked : 1;
#endif
    return delta->errors != 0 || delta->leaked != 0;
}

#endif
