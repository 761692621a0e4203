/* Where sender and receiver run: each on a CPU of its own, the same two for every run, where
 * the OS has sched_setaffinity and the process may use two CPUs. Unpinned, a ping-pong pair
 * sometimes shares a CPU and sometimes not, and its round trip doubles or halves with that. */
#ifdef BENCH_HAVE_SCHED_SETAFFINITY
#define _GNU_SOURCE 1
#include <sched.h>
#endif
#include <stdio.h>

#include "bench.h"

/* The first two CPUs this process may use: 0, or -1 when pinning is not possible. */
static int two_cpus(int cpu[2])
{
#ifdef BENCH_HAVE_SCHED_SETAFFINITY
    cpu_set_t set;
    int n = 0;

    if (sched_getaffinity(0, sizeof set, &set) == -1)
        return -1;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &set))
            cpu[n++] = c;
    return n == 2 ? 0 : -1;
#else
    (void)cpu;
    return -1;
#endif
}

int bench_pin(int side)
{
#ifdef BENCH_HAVE_SCHED_SETAFFINITY
    cpu_set_t set;
    int cpu[2];

    if (two_cpus(cpu) == -1)
        return -1;
    CPU_ZERO(&set);
    CPU_SET(cpu[side != 0], &set);
    return sched_setaffinity(0, sizeof set, &set);
#else
    (void)side;
    return -1;
#endif
}

void bench_pin_describe(char *buf, size_t len)
{
    int cpu[2];

    if (two_cpus(cpu) == -1)
        snprintf(buf, len, "not pinned (no sched_setaffinity, or fewer than two CPUs)");
    else
        snprintf(buf, len, "receiver on CPU %d, sender on CPU %d, in every run", cpu[0], cpu[1]);
}
