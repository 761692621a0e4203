/* What a run prints: the table, the summary file, the targets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "bench.h"
#include "series.h"

struct target {
    const char *label, *bench, *transport, *metric, *vs;
    size_t payload;
    double goal; /* 0: no goal, a ratio printed as context for the targets ("# context") */
    int at_most; /* the ratio must stay at or below the goal (latency) */
};

static const struct target targets[] = {
    {"64 B msgs/s, frame-stream vs raw one-write-per-message", "throughput", "frame-stream",
     "msgs_per_s", "raw-stream", 64, 5.0, 0},
    {"64 B msgs/s, frame-stream vs ZeroMQ PAIR", "throughput", "frame-stream", "msgs_per_s",
     "zmq-pair-ipc", 64, 1.0, 0},
    {"64 B msgs/s, frame-stream vs raw-stream-batch (ceiling)", "throughput", "frame-stream",
     "msgs_per_s", "raw-stream-batch", 64, 0.75, 0},
    {"64 B msgs/s, frame-seqpacket vs raw one-send-per-message", "throughput", "frame-seqpacket",
     "msgs_per_s", "raw-seqpacket", 64, 3.0, 0},
    {"64 B msgs/s, raw-seqpacket-mmsg vs raw one-send-per-message", "throughput",
     "raw-seqpacket-mmsg", "msgs_per_s", "raw-seqpacket", 64, 0, 0},
    {"64 B msgs/s, frame-seqpacket vs raw-seqpacket-mmsg (ceiling)", "throughput",
     "frame-seqpacket", "msgs_per_s", "raw-seqpacket-mmsg", 64, 0, 0},
    {"64 B msgs/s, frame-stream vs nng pair1", "throughput", "frame-stream", "msgs_per_s",
     "nng-pair1-ipc", 64, 1.0, 0},
    {"1 MiB MB/s, frame-stream vs raw socketpair", "throughput", "frame-stream", "MB_per_s",
     "raw-stream", 1048576, 0.9, 0},
    {"64 B round trip (median), frame-stream vs raw", "latency", "frame-stream", "rtt_p50_us",
     "raw-stream", 64, 1.2, 1},
    {"64 B frames/s, decoder next vs memcpy", "decode", "frame-decoder", "frames_per_s", "memcpy",
     64, 0.5, 0},
    {"64 B frames/s, decoder next_batch vs memcpy", "decode", "frame-decoder-batch", "frames_per_s",
     "memcpy", 64, 0.5, 0},
    {"64 B frames/s, decoder next_batch in place vs memcpy", "decode", "frame-decoder-inplace",
     "frames_per_s", "memcpy", 64, 0.5, 0},
};

static double median_of(const struct series *s)
{
    double v[SERIES_MAX_REPS];

    memcpy(v, s->v, (size_t)s->n * sizeof v[0]);
    return stats_median(v, (size_t)s->n);
}

static double spread_of(const struct series *s)
{
    double v[SERIES_MAX_REPS];

    memcpy(v, s->v, (size_t)s->n * sizeof v[0]);
    return stats_spread(v, (size_t)s->n);
}

static double ratio_of(const struct series *s)
{
    return series_ratio(s, series_find(s->bench, series_baseline(s->bench), s->payload, s->metric));
}

void report_table(FILE *out)
{
    const char *last = "";

    fprintf(out, "%-10s %-21s %8s %-19s %12s %7s %7s\n", "benchmark", "transport", "payload",
            "metric", "median", "spread", "ratio");
    for (size_t i = 0; i < series_count(); i++) {
        const struct series *s = series_at(i);
        if (strcmp(last, s->bench) != 0)
            fprintf(out, "\n");
        last = s->bench;
        fprintf(out, "%-10s %-21s %8zu %-19s %12.5g %6.1f%% %7.3f\n", s->bench, s->transport,
                s->payload, s->metric, median_of(s), 100 * spread_of(s), ratio_of(s));
    }
    fprintf(out,
            "\nratio: median over repetitions of value / mean of the %s runs just before and "
            "after it (decode: / memcpy). spread: (max - min) / median.\n",
            series_baseline("throughput"));
}

static void cpu_model(char *buf, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];

    snprintf(buf, len, "unknown");
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            snprintf(buf, len, "%s", colon + 2);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    }
    if (f != NULL)
        fclose(f);
}

static void write_header(FILE *f, const struct meta *m, const char *skipped)
{
    char cpu[200], date[64], pin[120];
    struct utsname u;
    time_t now = time(NULL);

    cpu_model(cpu, sizeof cpu);
    if (uname(&u) == -1)
        memset(&u, 0, sizeof u);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(f, "# machine\t%s, %ld cores\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
    fprintf(f, "# os\t%s %s %s\n", u.sysname, u.release, u.machine);
    fprintf(f, "# date\t%s\n", date);
    fprintf(f, "# mode\t%s\n", m->mode);
    fprintf(f, "# repetitions\t%d; in each, every other run is raw-stream\n", m->reps);
    fprintf(f, "# ratio_vs_raw\tmedian over repetitions of value / mean of the raw-stream runs "
               "just before and after it (decode: / memcpy's value in the same repetition)\n");
    fprintf(f, "# spread\t(max - min) / median over the repetitions\n");
    bench_pin_describe(pin, sizeof pin);
    fprintf(f, "# cpus\t%s\n", pin);
    for (int i = 0; i < m->nnotes; i++) {
        const char *eq = strchr(m->notes[i], '=');
        fprintf(f, "# %.*s\t%s\n", (int)(eq - m->notes[i]), m->notes[i], eq + 1);
    }
    if (skipped[0] != '\0')
        fprintf(f, "# skipped\t%s\n", skipped);
}

/* A target's ratio (0 when a side was not measured) and its verdict. */
static const char *target_verdict(const struct target *t, double *ratio)
{
    const struct series *s = series_find(t->bench, t->transport, t->payload, t->metric);
    const struct series *b = series_find(t->bench, t->vs, t->payload, t->metric);
    double r = s && b ? series_ratio(s, b) : 0;
    int pass = s && b && (t->at_most ? r <= t->goal : r >= t->goal);

    *ratio = r;
    if (!s || !b)
        return "NOT MEASURED";
    return t->goal == 0 ? "context" : pass ? "PASS" : "SHORT";
}

static void write_targets(FILE *f)
{
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        const struct target *t = &targets[i];
        double r;
        const char *verdict = target_verdict(t, &r);
        if (t->goal == 0)
            fprintf(f, "# context\t%s: %.3f\n", t->label, r);
        else
            fprintf(f, "# target\t%s: %.3f (goal %s %.2f) %s\n", t->label, r,
                    t->at_most ? "<=" : ">=", t->goal, verdict);
    }
}

int report_tsv(const char *path, const struct meta *m, const char *skipped)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if ((f = fopen(tmp, "w")) == NULL)
        return -1;
    write_header(f, m, skipped);
    if (strcmp(m->mode, "full") == 0)
        write_targets(f);
    fprintf(f, "benchmark\ttransport\tpayload\tmetric\tmedian\tspread\tratio_vs_raw\n");
    for (size_t i = 0; i < series_count(); i++) {
        const struct series *s = series_at(i);
        fprintf(f, "%s\t%s\t%zu\t%s\t%.6g\t%.3f\t%.3f\n", s->bench, s->transport, s->payload,
                s->metric, median_of(s), spread_of(s), ratio_of(s));
    }
    if (fclose(f) != 0 || rename(tmp, path) == -1)
        return -1;
    return 0;
}

void report_targets(FILE *out)
{
    fprintf(out, "\n%-62s %8s %8s %s\n", "target", "ratio", "goal", "verdict");
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        const struct target *t = &targets[i];
        double r;
        const char *verdict = target_verdict(t, &r);
        if (t->goal == 0)
            fprintf(out, "%-62s %8.3f %8s %s\n", t->label, r, "-", verdict);
        else
            fprintf(out, "%-62s %8.3f %s%6.2f %s\n", t->label, r, t->at_most ? "<=" : ">=", t->goal,
                    verdict);
    }
}
