/* Storage of the figures: one series per (benchmark, transport, payload, metric). */
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "series.h"

#define SERIES_MAX 512

static struct series all[SERIES_MAX];
static size_t nall;

const struct series *series_find(const char *bench, const char *transport, size_t payload,
                                 const char *metric)
{
    for (size_t i = 0; i < nall; i++) {
        const struct series *s = &all[i];
        if (s->payload == payload && strcmp(s->bench, bench) == 0 &&
            strcmp(s->transport, transport) == 0 && strcmp(s->metric, metric) == 0)
            return s;
    }
    return NULL;
}

struct series *series_get(const char *bench, const char *transport, size_t payload,
                          const char *metric)
{
    struct series *s = (struct series *)series_find(bench, transport, payload, metric);

    if (s != NULL || nall == SERIES_MAX)
        return s;
    s = &all[nall++];
    s->bench = bench;
    s->transport = transport;
    s->payload = payload;
    s->metric = metric;
    s->n = 0;
    s->nratio = 0;
    s->order = nall - 1;
    return s;
}

void series_add(const char *bench, const char *transport, size_t payload, const char *metric,
                double value)
{
    struct series *s = series_get(bench, transport, payload, metric);

    if (s != NULL && s->n < SERIES_MAX_REPS)
        s->v[s->n++] = value;
}

void series_add_ratio(const char *bench, const char *transport, size_t payload, const char *metric,
                      double ratio)
{
    struct series *s = series_get(bench, transport, payload, metric);

    if (s != NULL && s->nratio < SERIES_MAX_REPS)
        s->ratio[s->nratio++] = ratio;
}

size_t series_count(void)
{
    return nall;
}

const struct series *series_at(size_t i)
{
    return &all[i];
}

const char *series_baseline(const char *bench)
{
    return strcmp(bench, "decode") == 0 ? "memcpy" : "raw-stream";
}

double series_ratio(const struct series *s, const struct series *base)
{
    double r[SERIES_MAX_REPS];
    int n = 0;

    if (base == NULL)
        return 0;
    if (s == base)
        return 1;
    if (s->nratio > 0 && base->nratio == 0 &&
        strcmp(base->transport, series_baseline(s->bench)) == 0) {
        memcpy(r, s->ratio, (size_t)s->nratio * sizeof r[0]);
        return stats_median(r, (size_t)s->nratio);
    }
    if (s->nratio > 0 && base->nratio > 0) {
        for (int i = 0; i < s->nratio && i < base->nratio; i++)
            r[n++] = s->ratio[i] / base->ratio[i];
        return stats_median(r, (size_t)n);
    }
    for (int i = 0; i < s->n && i < base->n; i++)
        if (base->v[i] > 0)
            r[n++] = s->v[i] / base->v[i];
    return stats_median(r, (size_t)n);
}

static int bench_rank(const char *bench)
{
    static const char *const order[] = {"throughput", "memory", "latency", "fdpass", "decode"};

    for (int i = 0; i < 5; i++)
        if (strcmp(bench, order[i]) == 0)
            return i;
    return 5;
}

static int cmp_series(const void *a, const void *b)
{
    const struct series *x = a, *y = b;
    int rx = bench_rank(x->bench), ry = bench_rank(y->bench);

    if (rx != ry)
        return rx - ry;
    if (x->payload != y->payload)
        return x->payload < y->payload ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void series_sort(void)
{
    qsort(all, nall, sizeof all[0], cmp_series);
}
