/* Figures collected over the runs of one invocation, and what is printed from them. */
#ifndef BENCH_SERIES_H
#define BENCH_SERIES_H

#include <stddef.h>
#include <stdio.h>

#define SERIES_MAX_REPS 128

struct series {
    const char *bench, *transport, *metric;
    size_t payload;
    double v[SERIES_MAX_REPS];
    int n;
    double ratio[SERIES_MAX_REPS]; /* to the baseline runs around each run, if measured so */
    int nratio;
    size_t order; /* insertion */
};

/* The series for this key, created on first use; NULL when out of room. */
struct series *series_get(const char *bench, const char *transport, size_t payload,
                          const char *metric);
void series_add(const char *bench, const char *transport, size_t payload, const char *metric,
                double value);
void series_add_ratio(const char *bench, const char *transport, size_t payload, const char *metric,
                      double ratio);
size_t series_count(void);
/* Groups by benchmark (throughput, memory, latency, fdpass, decode), then payload. */
void series_sort(void);
const struct series *series_at(size_t i);
/* The transport every ratio of a benchmark is taken against. */
const char *series_baseline(const char *bench);
/* s relative to base: from the bracketing ratios where both have them (or base is the
 * baseline), else the median of the paired (same repetition) ratios; 0 if there is none. */
double series_ratio(const struct series *s, const struct series *base);
const struct series *series_find(const char *bench, const char *transport, size_t payload,
                                 const char *metric);

struct meta {
    const char *mode;
    int reps;
    const char *const *notes; /* KEY=VALUE */
    int nnotes;
};
void report_table(FILE *out);
int report_tsv(const char *path, const struct meta *m, const char *skipped);
void report_targets(FILE *out);

#endif
