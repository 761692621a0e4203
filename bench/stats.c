/* Order statistics over a handful of runs or many round trips. */
#include <stdlib.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank); sorts v in place. */
double stats_percentile(double *v, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

double stats_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* (max - min) / median: how far apart the runs of one configuration landed. */
double stats_spread(double *v, size_t n)
{
    double med = stats_median(v, n);

    if (n == 0 || med == 0)
        return 0;
    return (v[n - 1] - v[0]) / med;
}
