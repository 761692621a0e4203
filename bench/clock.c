/* The one clock every figure uses. */
#include <time.h>

#include "bench.h"

int64_t bench_now_ns(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
