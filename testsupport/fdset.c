#include "sockspec_config.h" /* macros only: may decide the feature-test macro below */
#if defined(SOCKSPEC_HAVE_SYS_PPOLL) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* syscall() */
#endif
#include "fdset.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#ifdef SOCKSPEC_HAVE_SYS_PPOLL
#include <sys/syscall.h>
#endif

/* Loops over the whole window give a fuzz engine no useful feedback and cost more in coverage
 * callbacks than in work; fuzz builds compile this file with the target's flags. */
#if defined(__clang__) && __clang_major__ >= 13
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))
#elif defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define NO_COVERAGE __attribute__((no_sanitize_coverage))
#else
#define NO_COVERAGE
#endif

/* Where it exists the raw ppoll system call: it skips a sanitizer's per-entry checks of this
 * array, which the kernel fills whole. */
static int poll_now(struct pollfd *p, nfds_t n)
{
#ifdef SOCKSPEC_HAVE_SYS_PPOLL
    struct timespec zero = {0, 0};
    return (int)syscall(SYS_ppoll, p, n, &zero, NULL, 0);
#else
    return poll(p, n, 0);
#endif
}

/* One poll() over every slot: closed descriptors answer POLLNVAL. */
NO_COVERAGE int fdset_probe_window(struct fdset *s, int window)
{
    static struct pollfd p[FDSET_MAX];
    struct rlimit rl;
    int n = window < FDSET_MAX ? window : FDSET_MAX;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n)
        n = (int)rl.rlim_cur;
    for (int i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = i, .events = 0};
    int r;
    while ((r = poll_now(p, (nfds_t)n)) < 0 && (errno == EINTR || errno == EAGAIN))
        ;
    if (r < 0)
        return -1;
    memset(s->open, 0, sizeof s->open);
    s->limit = n;
    for (int i = 0; i < n; i++)
        s->open[i] = !(p[i].revents & POLLNVAL);
    return 0;
}

int fdset_probe(struct fdset *s)
{
    return fdset_probe_window(s, FDSET_MAX);
}

int fdset_diff(const struct fdset *before, const struct fdset *after, char *buf, size_t len)
{
    int leaked = 0;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < after->limit; i++) {
        if (!after->open[i] || (i < before->limit && before->open[i]))
            continue;
        leaked = 1;
        int w = snprintf(buf + used, len - used, "%s%d", used ? "," : "", i);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
    return leaked;
}

NO_COVERAGE int fdset_first_change(const struct fdset *a, const struct fdset *b)
{
    int n = a->limit < b->limit ? a->limit : b->limit;
    if (memcmp(a->open, b->open, (size_t)n) == 0)
        return -1;
    int i = 0;
    while (a->open[i] == b->open[i])
        i++;
    return i;
}
